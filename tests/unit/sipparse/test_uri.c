/* SPDX-License-Identifier: MIT */
/*
 * URI parsing, comparison and AOR canonicalisation. The equality cases are the examples RFC 3261
 * §19.1.4 gives, both the equivalent and the non-equivalent lists, word for word.
 */
#include <string.h>

#include "common/lc_error.h"
#include "sipparse/sip_uri.h"
#include "tests/tap.h"

static struct sip_uri parse(const char *s, int *ret)
{
	struct sip_uri u;
	*ret = sip_uri_parse(&u, s, strlen(s));
	return u;
}

static void test_parse_valid(void)
{
	int r;
	struct sip_uri u = parse("sip:alice:secretword@atlanta.com;transport=tcp", &r);
	is_int(r, LC_OK, "user:password@host;params parses");
	is_mem(u.user.p, u.user.len, "alice", "user");
	is_mem(u.password.p, u.password.len, "secretword", "password");
	is_mem(u.host.p, u.host.len, "atlanta.com", "host");
	is_mem(u.params.p, u.params.len, "transport=tcp", "params");
	ok(u.headers.p == NULL && u.port == 0, "no headers, no port");

	u = parse("sips:alice@atlanta.com?subject=project%20x&priority=urgent", &r);
	is_int(r, LC_OK, "sips with headers parses");
	is_int(u.scheme_id, SIP_SCHEME_SIPS, "sips scheme");
	is_mem(u.headers.p, u.headers.len, "subject=project%20x&priority=urgent", "headers");

	u = parse("sip:+1-212-555-1212:1234@gateway.com;user=phone", &r);
	is_int(r, LC_OK, "telephone-subscriber user with password parses");
	is_mem(u.user.p, u.user.len, "+1-212-555-1212", "phone user");

	u = parse("sip:alice;day=tuesday@atlanta.com", &r);
	is_int(r, LC_OK, "user with ';' parses");
	is_mem(u.user.p, u.user.len, "alice;day=tuesday", "user keeps ';'");
	ok(u.params.p == NULL, "no uri params");

	u = parse("sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com", &r);
	is_int(r, LC_OK, "no userinfo, params and headers");
	ok(u.user.p == NULL, "user absent");

	u = parse("SIP:[2001:db8::10]:5070;maddr=192.0.2.1", &r);
	is_int(r, LC_OK, "IPv6 reference with port");
	is_int(u.host_type, SIP_HOST_IPV6, "host type ipv6");
	is_mem(u.host.p, u.host.len, "[2001:db8::10]", "host keeps brackets");
	is_int(u.port, 5070, "port");

	u = parse("sip:alice@192.0.2.4", &r);
	is_int(u.host_type, SIP_HOST_IPV4, "host type ipv4");

	u = parse("tel:+1-201-555-0123;ext=44", &r);
	is_int(r, LC_OK, "tel URI");
	is_int(u.scheme_id, SIP_SCHEME_TEL, "tel scheme");
	is_mem(u.user.p, u.user.len, "+1-201-555-0123", "tel number");

	u = parse("urn:service:sos", &r);
	is_int(r, LC_OK, "absolute URI of another scheme");
	is_int(u.scheme_id, SIP_SCHEME_OTHER, "other scheme");
}

static void test_parse_invalid(void)
{
	static const char *const bad[] = {
		"sip:",
		"sip:@host",
		"sip:alice@",
		"sip:alice@host:",
		"sip:alice@host:99999",
		"sip:alice@host:0",
		"sip:alice@[2001:db8::10",
		"sip:alice@2001:db8::10",
		"sip:al ice@host",
		"sip:alice@ho_st",
		"sip:alice@host;",
		"sip:alice@host;=x",
		"sip:alice@host?",
		"sip:alice@host?x",
		"sip:a%4@host",
		"<sip:a@b>",
		"1sip:x",
		"sip:alice@host;lr=",
		"tel:",
		"tel:xyz",
		"sip:alice@.host",
		"sip:alice@host..com",
		"sip:alice@[::1::2]",
		"urn:",
		"sip:alice@host:50a",
		"sip:a@b@c",
		"",
	};
	for (size_t i = 0; i < LC_ARRAY_SIZE(bad); i++) {
		int r;
		(void)parse(bad[i], &r);
		is_int(r, LC_EMALFORMED, "'%s' is rejected", bad[i]);
	}
}

static bool equal(const char *a, const char *b)
{
	int ra, rb;
	struct sip_uri ua = parse(a, &ra);
	struct sip_uri ub = parse(b, &rb);
	if (ra != LC_OK || rb != LC_OK) {
		printf("# parse failed: %s (%d) / %s (%d)\n", a, ra, b, rb);
		return false;
	}
	bool ab = sip_uri_equal(&ua, &ub);
	bool ba = sip_uri_equal(&ub, &ua);
	if (ab != ba) {
		printf("# asymmetric: %s / %s\n", a, b);
		return !ab; /* makes both the equal and the unequal assertion fail */
	}
	return ab;
}

static void test_equal_rfc3261(void)
{
	/* RFC 3261 §19.1.4: "The URIs within each of the following sets are equivalent" */
	ok(equal("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
	   "escaped user, host case, param case");
	ok(equal("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"), "param in one only");
	ok(equal("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
	   "param in one only");
	ok(equal("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"),
	   "disjoint params");
	ok(equal("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
		 "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"),
	   "param order");
	ok(equal("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
		 "sip:alice@atlanta.com?priority=urgent&subject=project%20x"),
	   "header order");

	/* "The URIs within each of the following sets are not equivalent" */
	ok(!equal("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
	   "different usernames");
	ok(!equal("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"), "explicit default port");
	ok(!equal("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"), "transport in one");
	ok(!equal("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
	   "port and transport");
	ok(!equal("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
	   "header in one");
	ok(!equal("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"), "name versus address");
	ok(!equal("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"),
	   "param values differ");

	/* beyond the RFC's list */
	ok(!equal("sip:a%3Bb@host", "sip:a;b@host"), "escaped reserved char is not the literal");
	ok(equal("sip:a@[2001:DB8::1]", "sip:a@[2001:db8:0:0::1]"), "IPv6 forms");
	ok(!equal("sip:a@host", "sips:a@host"), "sip and sips differ");
	ok(equal("tel:+1-201-555-0123", "tel:+1.201.555.0123"), "tel visual separators");
	ok(!equal("tel:+1-201-555-0123", "tel:+1-201-555-0124"), "tel numbers differ");
	ok(!equal("tel:7042;phone-context=example.com", "tel:7042;x=y"),
	   "tel parameters must all match (RFC 3966 §4)");
	ok(equal("sip:a@b;x=1;x=2", "sip:a@b;x=1;x=2"), "a parameter named twice: still reflexive");
	ok(equal("sip:ted@[::ffff:096.0.2.2]", "sip:ted@[::ffff:096.0.2.2]"),
	   "an IPv6 reference inet_pton refuses equals itself");
}

static void canon_is(const char *uri, const char *want)
{
	int r;
	char out[SIP_AOR_MAX];
	size_t n = 0;
	struct sip_uri u = parse(uri, &r);
	if (r == LC_OK) {
		r = sip_aor_canon(&u, out, sizeof(out), &n);
	}
	if (!ok(r == LC_OK && n == strlen(want) && memcmp(out, want, n) == 0, "AOR of %s", uri)) {
		printf("#   got: '%.*s' (%d)\n#   expected: '%s'\n", (int)n, out, r, want);
	}
}

static void test_canon(void)
{
	canon_is("sip:Alice@Example.COM:5060;transport=udp", "sip:Alice@example.com");
	canon_is("sip:Alice@example.com", "sip:Alice@example.com");
	canon_is("sip:alice@example.com", "sip:alice@example.com");
	canon_is("sip:%61lice@EXAMPLE.com", "sip:alice@example.com");
	canon_is("sip:alice:secret@example.com", "sip:alice@example.com");
	canon_is("sips:bob@x.com:5061", "sips:bob@x.com");
	canon_is("sips:bob@x.com:5060", "sips:bob@x.com:5060");
	canon_is("sip:bob@x.com:5070;lr?subject=x", "sip:bob@x.com:5070");
	canon_is("sip:bob@[2001:DB8:0::1]:5060", "sip:bob@[2001:db8::1]");
	canon_is("sip:example.com", "sip:example.com");
	canon_is("tel:+1-201-555-0123", "tel:+12015550123");
	canon_is("tel:7042;phone-context=Example.com", "tel:7042;phone-context=example.com");
	canon_is("sip:+1-212-555-1212@gw.com;user=phone", "sip:+1-212-555-1212@gw.com");
	canon_is("sip:alice@010.000.002.001", "sip:alice@10.0.2.1");
	canon_is("sip:alice@255.0.10.200:65535", "sip:alice@255.0.10.200:65535");
	canon_is("sips:alice@0.0.0.0:5060", "sips:alice@0.0.0.0:5060");
	canon_is("sip:alice@Example.COM.", "sip:alice@example.com");
	canon_is("tel:+1-212-555-1234;ext=101", "tel:+12125551234;ext=101");
	canon_is("tel:+1-212-555-1234;isub=AB", "tel:+12125551234;isub=ab");

	int r;
	char small[8];
	size_t n;
	struct sip_uri u = parse("sip:alice@example.com", &r);
	is_int(sip_aor_canon(&u, small, sizeof(small), &n), LC_ENOSPACE, "small buffer");
	u = parse("isbn:2983792873", &r);
	is_int(sip_aor_canon(&u, small, sizeof(small), &n), LC_EINVAL, "no AOR for isbn:");
	/* an escaped NUL survives: the AOR is bytes, not a C string */
	u = parse("sip:a%00b@h", &r);
	char out[32];
	is_int(sip_aor_canon(&u, out, sizeof(out), &n), LC_OK, "escaped NUL canonicalises");
	ok(n == 9 && memcmp(out, "sip:a\0b@h", 9) == 0, "NUL kept in the AOR");
}

/* sip_aor_is_canonical(): true only where the canonical AOR is the input itself */
static void canonical_is(const char *uri, bool want)
{
	bool got = sip_aor_is_canonical(uri, strlen(uri));
	ok(got == want, "%s is %scanonical", uri, want ? "" : "not ");
	if (got) {
		canon_is(uri, uri);
	}
}

static void test_is_canonical(void)
{
	canonical_is("sip:alice@example.com", true);
	canonical_is("sips:Alice.Smith+1@sub-1.example.com", true);
	canonical_is("sip:example.com", true);
	canonical_is("sip:+1-212-555-1212@gw1.com", true);
	canonical_is("sip:alice@a-b", true);
	/* each of these canonicalises to something else, or might */
	canonical_is("SIP:alice@example.com", false);
	canonical_is("sip:alice@Example.com", false);
	canonical_is("sip:%61lice@example.com", false);
	canonical_is("sip:alice:secret@example.com", false);
	canonical_is("sip:alice@example.com:5060", false);
	canonical_is("sip:alice@example.com;transport=udp", false);
	canonical_is("sip:alice@example.com?subject=x", false);
	canonical_is("sip:alice@[2001:db8::1]", false);
	canonical_is("sip:alice@010.000.002.001", false);
	canonical_is("sip:alice@10.0.2.1", false);
	canonical_is("sip:alice@example.com.", false);
	canonical_is("sip:@example.com", false);
	canonical_is("sip:a@b@example.com", false);
	canonical_is("sip:alice@", false);
	canonical_is("sip:", false);
	canonical_is("tel:+12015550123", false);
	canonical_is("sip:al ice@example.com", false);
	ok(!sip_aor_is_canonical("sip:alice@example.com", 3), "reads only len bytes");
	/* a length that cuts the host short reads only that much */
	ok(sip_aor_is_canonical("sip:alice@exampleX", 17), "a prefix is judged on its own");
}

static void test_params(void)
{
	struct sip_str v;
	struct sip_str list = SIP_STR_LIT("lr;Transport=TCP; q = 0.5 ;x=\"a;b\";maddr=h");
	ok(sip_param_get(list, "lr", &v) && v.p == NULL, "flag param without value");
	ok(sip_param_get(list, "transport", &v) && v.len == 3 && memcmp(v.p, "TCP", 3) == 0,
	   "name compared case-insensitively");
	ok(sip_param_get(list, "q", &v) && v.len == 3 && memcmp(v.p, "0.5", 3) == 0,
	   "whitespace around '=' trimmed");
	ok(sip_param_get(list, "maddr", &v) && v.len == 1, "';' inside quotes does not split");
	ok(!sip_param_get(list, "ttl", &v), "missing param");
	ok(!sip_param_get(SIP_STR_NULL, "lr", &v), "absent list");
}

int main(void)
{
	test_parse_valid();
	test_parse_invalid();
	test_equal_rfc3261();
	test_canon();
	test_is_canonical();
	test_params();
	done_testing();
	return exit_status();
}
