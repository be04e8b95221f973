/* SPDX-License-Identifier: MIT */
/*
 * Focused parser tests: the structured fields of a typical REGISTER and INVITE, compact forms,
 * folding, lists, every limit, every framing error, and the views staying inside the datagram.
 * The RFC torture messages are in the corpus (test_corpus.c); these cover what they do not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/lc_error.h"
#include "sipparse/sip_internal.h"
#include "sipparse/sip_lex.h"
#include "tests/tap.h"

static struct sip_msg m;

static int parse(const char *s)
{
	return sip_parse(&m, s, strlen(s));
}

#define is_view(v, want, ...) is_mem((v).p, (v).len, (want), __VA_ARGS__)

static const char reg[] =
	"REGISTER sip:example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds;rport\r\n"
	"Max-Forwards: 70\r\n"
	"To: \"Alice\" <sip:alice@example.com>\r\n"
	"From: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\n"
	"Call-ID: a84b4c76e66710@pc33.example.com\r\n"
	"CSeq: 314159 REGISTER\r\n"
	"Contact: <sip:alice@192.0.2.10:5062;transport=udp>;expires=3600;q=0.7;"
	"+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";reg-id=1\r\n"
	"Contact: sip:alice@198.51.100.3\r\n"
	"Expires: 7200\r\n"
	"Supported: path, outbound\r\n"
	"Authorization: Digest username=\"alice\", realm=\"example.com\", nonce=\"abc\", "
	"uri=\"sip:example.com\", response=\"0123456789abcdef\", algorithm=MD5, qop=auth, "
	"nc=00000001, cnonce=\"xyz\"\r\n"
	"User-Agent: locus-test/1.0 (unit)\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static void test_register(void)
{
	is_int(parse(reg), LC_OK, "REGISTER parses");
	ok(m.is_request && m.method_id == SIP_METHOD_REGISTER, "REGISTER method");
	is_view(m.ruri.host, "example.com", "Request-URI host");
	is_int(m.nvia, 1, "one Via");
	is_view(m.via[0].host, "192.0.2.10", "Via host");
	is_int(m.via[0].port, 5062, "Via port");
	is_view(m.via[0].branch, "z9hG4bK776asdhds", "branch");
	ok(m.via[0].has_rport && m.via[0].rport == 0, "empty rport");
	is_int(m.via[0].transport_id, SIP_TRANSPORT_UDP, "UDP");
	is_int(m.max_forwards, 70, "Max-Forwards");
	is_view(m.to.display, "Alice", "To display name");
	is_view(m.to.uri.raw, "sip:alice@example.com", "To URI");
	ok(m.to.tag.p == NULL, "no To tag");
	is_view(m.from.tag, "1928301774", "From tag");
	is_view(m.call_id, "a84b4c76e66710@pc33.example.com", "Call-ID");
	is_int(m.cseq, 314159, "CSeq number");
	is_int(m.cseq_method_id, SIP_METHOD_REGISTER, "CSeq method");
	is_int(m.ncontact, 2, "two Contacts");
	is_int(m.contact[0].expires, 3600, "contact expires");
	is_int(m.contact[0].q, 700, "contact q");
	is_view(m.contact[0].instance, "\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\"",
		"+sip.instance");
	is_view(m.contact[0].reg_id, "1", "reg-id");
	is_view(m.contact[0].addr.uri.params, "transport=udp", "URI params inside <>");
	is_view(m.contact[1].addr.uri.raw, "sip:alice@198.51.100.3", "addr-spec contact");
	ok(m.contact[1].expires == -1 && m.contact[1].q == -1, "no params on second contact");
	is_int(m.expires, 7200, "Expires");
	ok(sip_tags_has(&m.supported, "outbound") && sip_tags_has(&m.supported, "PATH"),
	   "Supported tags");
	ok(!sip_tags_has(&m.supported, "gruu"), "tag not listed");
	is_int(m.nauth, 1, "one credential");
	is_view(m.auth[0].scheme, "Digest", "auth scheme");
	is_view(m.auth[0].username, "alice", "digest username (unquoted)");
	is_view(m.auth[0].uri, "sip:example.com", "digest uri");
	is_view(m.auth[0].nc, "00000001", "digest nc");
	is_view(m.auth[0].qop, "auth", "digest qop");
	is_view(m.user_agent, "locus-test/1.0 (unit)", "User-Agent");
	is_int(m.content_length, 0, "Content-Length");
	is_int(m.flags, 0, "no anomalies");
	ok(sip_msg_can_reply(&m), "can reply");
	const struct sip_hdr *h = sip_msg_header_by_name(&m, "user-agent");
	ok(h != NULL && h->id == SIP_HDR_USER_AGENT, "header by name");
	ok(sip_msg_header(&m, SIP_HDR_EXPIRES) != NULL, "header by id");
	ok(sip_msg_header(&m, SIP_HDR_ROUTE) == NULL, "absent header by id");
}

/* Every view the parser returns points inside the datagram. */
static void test_views_inside(void)
{
	char *copy = malloc(sizeof(reg));
	memcpy(copy, reg, sizeof(reg));
	is_int(sip_parse(&m, copy, sizeof(reg) - 1), LC_OK, "heap copy parses");
	const char *lo = copy;
	const char *hi = copy + sizeof(reg) - 1;
	bool inside = true;
	for (unsigned i = 0; i < m.nhdr; i++) {
		inside &= m.hdrs[i].value.p >= lo && m.hdrs[i].value.p + m.hdrs[i].value.len <= hi;
	}
	for (unsigned i = 0; i < m.ncontact; i++) {
		const struct sip_str u = m.contact[i].addr.uri.raw;
		inside &= u.p >= lo && u.p + u.len <= hi;
	}
	ok(inside, "header and contact views inside the buffer");
	free(copy);
}

static void test_compact_and_folding(void)
{
	const char *s =
		"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
		"v: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74b43\r\n"
		"V  : SIP/2.0/UDP\r\n  10.1.1.1\r\n\t;branch=z9hG4bKx, SIP/2.0/TLS [2001:db8::1]:5061"
		";branch=z9hG4bKy;received=2001:db8::2\r\n"
		"f: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
		"t: Bob <sip:bob@biloxi.example.com>\r\n"
		"i: 3848276298220188511@atlanta.example.com\r\n"
		"CSeq: 1\r\n INVITE\r\n"
		"m: <sip:alice@client.atlanta.example.com;transport=tcp>\r\n"
		"k: 100rel\r\n"
		"s: lunch\r\n"
		"c: application/sdp\r\n"
		"l: 4\r\n"
		"\r\n"
		"v=0\r\n";
	is_int(parse(s), LC_OK, "compact forms and folding parse");
	is_int(m.nvia, 3, "three Vias over two fields");
	is_view(m.via[1].host, "10.1.1.1", "folded sent-by");
	is_view(m.via[2].host, "[2001:db8::1]", "IPv6 sent-by");
	is_int(m.via[2].port, 5061, "IPv6 port");
	is_view(m.via[2].received, "2001:db8::2", "bare IPv6 received");
	is_int(m.via[2].transport_id, SIP_TRANSPORT_TLS, "TLS");
	is_view(m.from.display, "Alice", "unquoted display");
	is_int(m.cseq, 1, "folded CSeq");
	is_int(m.ncontact, 1, "m: Contact");
	ok(sip_tags_has(&m.supported, "100rel"), "k: Supported");
	is_view(m.content_type, "application/sdp", "c: Content-Type");
	is_int(m.body.len, 4, "l: Content-Length body");
	const struct sip_hdr *h = sip_msg_header_by_name(&m, "Subject");
	ok(h != NULL && h->value.len == 5, "Subject found by long name through 's'");
}

static void test_lists_and_quotes(void)
{
	const char *s = "REGISTER sip:example.com SIP/2.0\r\n"
			"Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			"From: <sip:a@example.com>;tag=1\r\n"
			"To: <sip:a@example.com>\r\n"
			"Call-ID: x\r\n"
			"CSeq: 2 REGISTER\r\n"
			"Contact: \"Doe, John <x>\" <sip:a@h1>;note=\"a,b;c\", <sip:a@h2>;q=1.0\r\n"
			"Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
			"Record-Route: <sip:rr.example.com;lr>\r\n"
			"Path: <sip:edge.example.com;lr>\r\n"
			"Require: path\r\n"
			"\r\n";
	is_int(parse(s), LC_OK, "lists parse");
	is_int(m.ncontact, 2, "',' inside quotes does not split");
	is_view(m.contact[0].addr.display, "Doe, John <x>", "quoted display with ',' and '<'");
	is_int(m.contact[1].q, 1000, "q=1.0");
	is_int(m.nroute, 2, "two Routes");
	is_int(m.nrecord_route, 1, "Record-Route");
	is_int(m.npath, 1, "Path");
	ok(sip_tags_has(&m.require, "path"), "Require");
	ok(m.flags & SIP_F_NO_CONTENT_LENGTH, "no Content-Length flagged");
}

static void test_star(void)
{
	const char *s = "REGISTER sip:example.com SIP/2.0\r\n"
			"Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@e>;tag=1\r\n"
			"To: <sip:a@e>\r\nCall-ID: x\r\nCSeq: 2 REGISTER\r\n"
			"Contact: *\r\nExpires: 0\r\nContent-Length: 0\r\n\r\n";
	is_int(parse(s), LC_OK, "Contact: * parses");
	ok(m.contact_star && m.ncontact == 0 && m.expires == 0, "star with Expires: 0");
}

/* Builds a REGISTER with extra lines inserted before the blank line. */
static char *reg_with(const char *extra)
{
	static char buf[SIP_MAX_MSG_LEN * 2];
	snprintf(buf, sizeof(buf),
		 "REGISTER sip:example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@e>;tag=1\r\n"
		 "To: <sip:a@e>\r\nCall-ID: x\r\nCSeq: 2 REGISTER\r\n%s\r\n",
		 extra);
	return buf;
}

static char *repeat(const char *line, int n)
{
	size_t l = strlen(line);
	char *s = malloc(l * (size_t)n + 1);
	for (int i = 0; i < n; i++) {
		memcpy(s + l * (size_t)i, line, l);
	}
	s[l * (size_t)n] = '\0';
	return s;
}

static void test_limits(void)
{
	char *x = repeat("X-A: b\r\n", SIP_MAX_HEADERS);
	is_int(parse(reg_with(x)), LC_ESIP_TOO_MANY_HEADERS, "too many header fields");
	free(x);
	x = repeat("Via: SIP/2.0/UDP h;branch=z9hG4bK2\r\n", SIP_MAX_VIAS);
	is_int(parse(reg_with(x)), LC_ESIP_TOO_MANY_VIAS, "too many Vias");
	free(x);
	x = repeat("Contact: <sip:a@h>\r\n", SIP_MAX_CONTACTS + 1);
	is_int(parse(reg_with(x)), LC_ESIP_TOO_MANY_CONTACTS, "too many Contacts");
	ok(sip_msg_can_reply(&m), "a 400 can still be addressed");
	free(x);
	x = repeat("Route: <sip:h;lr>\r\n", SIP_MAX_ROUTES + 1);
	is_int(parse(reg_with(x)), LC_ESIP_TOO_MANY_ROUTES, "too many Routes");
	free(x);
	x = repeat("Supported: a\r\n", SIP_MAX_OPTION_TAGS + 1);
	is_int(parse(reg_with(x)), LC_ESIP_TOO_MANY_TAGS, "too many option tags");
	free(x);
	x = repeat(";p", SIP_MAX_PARAMS + 1);
	char line[256];
	snprintf(line, sizeof(line), "Contact: <sip:a@h>%s\r\n", x);
	is_int(parse(reg_with(line)), LC_ESIP_TOO_MANY_PARAMS, "too many parameters");
	free(x);
	x = repeat("Authorization: Digest a=b\r\n", SIP_MAX_AUTH + 1);
	is_int(parse(reg_with(x)), LC_ESIP_TOO_MANY_AUTH, "too many credentials");
	free(x);
	x = repeat("y", SIP_MAX_HEADER_LEN);
	char *l2 = malloc(SIP_MAX_HEADER_LEN + 16);
	sprintf(l2, "X-Long: %s\r\n", x);
	is_int(parse(reg_with(l2)), LC_ESIP_LINE_TOO_LONG, "header line too long");
	free(l2);
	free(x);
	char *big = calloc(1, SIP_MAX_MSG_LEN + 1);
	memset(big, 'a', SIP_MAX_MSG_LEN);
	is_int(sip_parse(&m, big, SIP_MAX_MSG_LEN + 1), LC_ESIP_TOO_BIG, "datagram too large");
	is_int(sip_msg_error_status(&m), 413, "413 for too large");
	free(big);
}

static void test_errors(void)
{
	is_int(sip_parse(&m, "", 0), LC_ESIP_EMPTY, "empty datagram");
	is_int(parse("\r\n\r\n"), LC_ESIP_EMPTY, "keepalive CRLFs only");
	is_int(parse("REGISTER sip:a SIP/2.0"), LC_ESIP_NO_END, "no line end");
	is_int(parse("REGISTER sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"), LC_ESIP_NO_END,
	       "no empty line");
	is_int(parse(reg_with("CSeq: 1 REGISTER\r\n")), LC_ESIP_DUP_HEADER, "two CSeq fields");
	is_int(parse("REGISTER sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		     "From: <sip:a@e>;tag=1\r\nTo: <sip:a@e>\r\nCall-ID: x\r\n"
		     "CSeq: 2147483648 REGISTER\r\n\r\n"),
	       LC_ESIP_CSEQ, "CSeq of 2^31");
	is_int(parse("REGISTER sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		     "From: <sip:a@e>;tag=1\r\nTo: <sip:a@e>\r\nCall-ID: x\r\n"
		     "CSeq: 2147483647 REGISTER\r\n\r\n"),
	       LC_OK, "CSeq of 2^31-1");
	is_int(parse("REGISTER sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		     "From: <sip:a@e>;tag=1\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\n\r\n"),
	       LC_ESIP_MISSING_TO, "missing To");
	ok(!sip_msg_can_reply(&m), "cannot reply without To");
	is_int(parse("REGISTER sip:a SIP/3.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		     "From: <sip:a@e>;tag=1\r\nTo: <sip:a@e>\r\nCall-ID: x\r\n"
		     "CSeq: 1 REGISTER\r\n\r\n"),
	       LC_ESIP_VERSION, "SIP/3.0");
	ok(sip_msg_can_reply(&m), "505 can be addressed");
	is_int(sip_msg_error_status(&m), 505, "505 for a version");
	is_int(parse(reg_with("Via: SIP/2.0/UDP h;branch=\r\n")), LC_ESIP_VIA, "empty branch");
	ok(!sip_msg_can_reply(&m), "cannot reply over a bad Via");
	is_int(parse(reg_with("Via: SIP/2.0/UDP h;ttl=256\r\n")), LC_ESIP_VIA, "ttl over 255");
	is_int(parse(reg_with("Via: SIP/2.0/UDP h;received=example.com\r\n")), LC_ESIP_VIA,
	       "received must be an address");
	is_int(parse(reg_with("Via: SIP/2.0/UDP h;rport=70000\r\n")), LC_ESIP_VIA, "rport range");
	is_int(parse(reg_with("Via: SIP/2.0/UDPh\r\n")), LC_ESIP_VIA, "no LWS before sent-by");
	is_int(parse(reg_with("Contact: <sip:a@h>;q=1.5\r\n")), LC_ESIP_CONTACT, "q above 1");
	is_int(parse(reg_with("Contact: <sip:a@h>;expires=soon\r\n")), LC_OK,
	       "malformed contact expires tolerated (RFC 3261 §20.10)");
	ok((m.flags & SIP_F_EXPIRES_MALFORMED) && m.contact[0].expires == -1, "... as absent");
	is_int(parse(reg_with("Expires: Thu, 01 Dec 2094 16:00:00 GMT\r\n")), LC_OK,
	       "RFC 2543 date in Expires tolerated (RFC 3261 §20.19)");
	ok((m.flags & SIP_F_EXPIRES_MALFORMED) && m.expires == -1, "... as absent");
	is_int(parse(reg_with("Min-Expires: soon\r\n")), LC_ESIP_MIN_EXPIRES, "bad Min-Expires");
	is_int(parse(reg_with("Via: SIP/2.0/UDP h;rport;branch=z9hG4bK2;rport\r\n")), LC_ESIP_VIA,
	       "rport twice");
	is_int(parse(reg_with("Via: SIP/2.0/UDP h;received=1.2.3.4;received=5.6.7.8\r\n")),
	       LC_ESIP_VIA, "received twice");
	is_int(parse(reg_with("User-Agent: a\rInjected: 1\r\n")), LC_ESIP_USER_AGENT,
	       "lone CR in a value");
	is_int(parse(reg_with("Via: SIP/2.0/UDP h;branch=z9hG4bK2\r\r;x=y\r\n")), LC_ESIP_VIA,
	       "lone CR between Via parameters");
	is_int(parse("REGISTER sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		     "From: \"a\rX-Injected: 1\" <sip:a@e>;tag=1\r\nTo: <sip:a@e>\r\n"
		     "Call-ID: x\r\nCSeq: 1 REGISTER\r\n\r\n"),
	       LC_ESIP_FROM, "lone CR in a quoted display name");
	is_int(parse("REGISTER sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		     "From: <sip:a@e>;tag=a:b\r\nTo: <sip:a@e>\r\nCall-ID: x\r\n"
		     "CSeq: 1 REGISTER\r\n\r\n"),
	       LC_ESIP_FROM, "tag must be a token");
	is_int(parse("sip/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		     "From: <sip:a@e>;tag=1\r\nTo: <sip:a@e>;tag=2\r\nCall-ID: x\r\n"
		     "CSeq: 1 OPTIONS\r\n\r\n"),
	       LC_OK, "lower-case version: a response (RFC 3261 §7.1)");
	ok(!m.is_request && !sip_msg_can_reply(&m), "never answered");
	is_int(parse(reg_with("Contact: <sip:a@h>;expires=4294967296\r\n")), LC_OK,
	       "overlarge contact expires tolerated");
	ok((m.flags & SIP_F_EXPIRES_RANGE) && m.contact[0].expires == -1, "... as absent");
	is_int(parse(reg_with("Max-Forwards: 256\r\n")), LC_OK, "Max-Forwards 256 tolerated");
	ok((m.flags & SIP_F_MAX_FORWARDS_RANGE) && m.max_forwards == -1, "... as absent");
	is_int(parse(reg_with("Max-Forwards: -1\r\n")), LC_ESIP_MAX_FORWARDS, "negative MF");
	is_int(parse(reg_with("Route: sip:p.example.com\r\n")), LC_ESIP_ROUTE,
	       "Route needs name-addr");
	is_int(parse(reg_with("Require:\r\n")), LC_ESIP_OPTION_TAG, "empty Require");
	is_int(parse(reg_with("Supported:\r\n")), LC_OK, "empty Supported is allowed");
	is_int(parse(reg_with("Authorization: Digest\r\n")), LC_ESIP_AUTH,
	       "credentials w/o params");
	is_int(parse(reg_with("Content-Type: text\r\n")), LC_ESIP_CONTENT_TYPE, "no subtype");
	is_int(parse(reg_with("Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n")), LC_OK, "Date");
	is_int(parse(reg_with("Date: Sat, 13 Nov 2010 23:29:00 PST\r\n")), LC_ESIP_DATE,
	       "Date not in GMT");
	is_int(parse(reg_with("Bad Name: x\r\n")), LC_ESIP_HDR_NAME, "space in header name");
	is_int(parse(reg_with("NoColon\r\n")), LC_ESIP_HDR_NAME, "no colon");
	char nul[512];
	const char *pre = reg_with("");
	size_t pl = strlen(pre) - 2;
	memcpy(nul, pre, pl);
	memcpy(nul + pl, "X\0Y: z\r\n\r\n", 10);
	is_int(sip_parse(&m, nul, pl + 10), LC_ESIP_HDR_NAME, "NUL in header name");
	is_int(parse("INVITE sip:a@b SIP/2.0\r\n  folded start line\r\n\r\n"), LC_ESIP_HDR_NAME,
	       "folding after the start line");
	is_int(parse("INV ITE sip:a@b SIP/2.0\r\n\r\n"), LC_ESIP_START_LINE, "SP in method");
	is_int(parse("INV;ITE sip:a@b SIP/2.0\r\n\r\n"), LC_ESIP_METHOD, "';' in method");
	is_int(parse("SIP/2.0 99 Low\r\n\r\n"), LC_ESIP_STATUS, "status below 100");
	is_int(parse("SIP/2.0 700 High\r\n\r\n"), LC_ESIP_STATUS, "status above 699");
	is_int(parse("SIP/2.0 2000 OK\r\n\r\n"), LC_ESIP_STATUS, "four-digit status");
}

static void test_body_and_framing(void)
{
	char *s = reg_with("Content-Length: 3\r\n");
	static char buf[SIP_MAX_MSG_LEN * 2 + 64];
	snprintf(buf, sizeof(buf), "%sabcdef", s);
	is_int(parse(buf), LC_OK, "body shorter than datagram");
	ok(m.body.len == 3 && (m.flags & SIP_F_TRAILING_BYTES), "extra octets dropped and flagged");
	snprintf(buf, sizeof(buf), "%sab", s);
	is_int(parse(buf), LC_ESIP_BODY_SHORT, "body shorter than Content-Length");
	ok(sip_msg_can_reply(&m), "400 addressable for a short body");
	snprintf(buf, sizeof(buf), "\r\n\r\n%s", reg_with("Content-Length: 0\r\n"));
	is_int(parse(buf), LC_OK, "leading CRLFs ignored");
	is_int(parse("OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
		     "From: <sip:a@e>;tag=1\nTo: <sip:a@e>\nCall-ID: x\nCSeq: 1 OPTIONS\n\n"),
	       LC_OK, "bare LF line ends");
	is_int(parse("SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		     "From: <sip:a@e>;tag=1\r\nTo: <sip:a@e>;tag=2\r\nCall-ID: x\r\n"
		     "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"),
	       LC_OK, "response parses");
	ok(!m.is_request && m.status == 180 && m.method_id == SIP_METHOD_INVITE,
	   "status and method from CSeq");
	is_view(m.reason, "Ringing", "reason phrase");
	ok(!sip_msg_can_reply(&m), "no reply to a response");
	is_int(parse("REGISTER sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=1\r\n"
		     "From: <sip:a@e>;tag=1\r\nTo: <sip:a@e>\r\nCall-ID: x\r\n"
		     "CSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"),
	       LC_OK, "RFC 2543 branch");
	ok(m.flags & SIP_F_BRANCH_NOT_3261, "flagged");
}

/* Every prefix of a valid message is rejected cleanly, never read past. */
static void test_prefixes(void)
{
	size_t n = strlen(reg);
	int bad = 0;
	for (size_t i = 0; i < n - 2; i++) {
		char *copy = malloc(i ? i : 1);
		memcpy(copy, reg, i);
		int r = sip_parse(&m, copy, i);
		bad += r == LC_OK;
		free(copy);
	}
	is_int(bad, 0, "no strict prefix of a REGISTER parses as complete");
}

/* sip_hdr_match() and the name table spell the same names: check every entry both ways. */
static void test_header_names(void)
{
	const char *name;
	char compact;
	enum sip_hdr_id id;
	int wrong = 0;
	for (size_t i = 0; sip_hdr_name_at(i, &name, &compact, &id); i++) {
		char up[32];
		size_t n = strlen(name);
		size_t got_len;
		for (size_t k = 0; k <= n; k++) {
			up[k] = (char)(name[k] >= 'a' && name[k] <= 'z' ? name[k] - 32 : name[k]);
		}
		enum sip_hdr_id got = sip_hdr_match(name, name + n, &got_len);
		wrong += got != id || (id != SIP_HDR_OTHER && got_len != n);
		wrong += sip_hdr_match(up, up + n, &got_len) != id;
		if (compact != 0) {
			wrong += sip_hdr_match(&compact, &compact + 1, &got_len) != id;
		}
		char longer[40];
		snprintf(longer, sizeof(longer), "%sx:", name);
		wrong += sip_hdr_match(longer, longer + n + 2, &got_len) != SIP_HDR_OTHER;
	}
	is_int(wrong, 0, "every header name and compact form maps to its id, and only it");
}

/*
 * The hashed lookup of the per-line fast path (sip_hdr_lookup) against sip_hdr_match(): every
 * name of 1 to 15 bytes they are given, known names in any case and with one byte changed,
 * dropped or added, and random token names, each followed by ':' inside a 32-byte buffer.
 */
static void test_header_lookup(void)
{
	static const char alpha[] =
		"abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ.!%*_+`'~0";
	const char *name;
	char compact;
	enum sip_hdr_id id;
	int wrong = 0, n = 0;
	uint64_t seed = 3;
	for (size_t i = 0;; i++) {
		char cand[40][32];
		size_t ncand = 0;
		if (!sip_hdr_name_at(i, &name, &compact, &id)) {
			break;
		}
		size_t len = strlen(name);
		snprintf(cand[ncand++], 32, "%s", name);
		if (compact != 0) {
			snprintf(cand[ncand++], 32, "%c", compact);
			snprintf(cand[ncand++], 32, "%c", compact - 32);
		}
		for (size_t k = 0; k < len && ncand < 36; k++) {
			snprintf(cand[ncand++], 32, "%s", name);
			cand[ncand - 1][k] = (char)(cand[ncand - 1][k] ^ 0x20); /* other case */
			snprintf(cand[ncand++], 32, "%s", name);
			cand[ncand - 1][k] = (char)(k % 2 ? '\r' : 'x'); /* a byte changed */
		}
		snprintf(cand[ncand++], 32, "%.*s", (int)len - 1, name); /* one shorter */
		snprintf(cand[ncand++], 32, "%ss", name);		 /* one longer */
		for (int r = 0; r < 200; r++, ncand = 0) {
			if (r > 0) { /* then random names */
				seed = seed * 6364136223846793005u + 1442695040888963407u;
				size_t rl = 1 + (seed >> 33) % 15;
				for (size_t k = 0; k < rl; k++) {
					seed = seed * 6364136223846793005u + 1442695040888963407u;
					cand[0][k] = alpha[(seed >> 33) % (sizeof(alpha) - 1)];
				}
				cand[0][rl] = '\0';
				ncand = 1;
			}
			for (size_t c = 0; c < (r == 0 ? ncand : 1); c++) {
				char buf[32];
				size_t cl = strlen(cand[c]);
				if (cl == 0 || cl > 15) {
					continue;
				}
				memset(buf, 'z', sizeof(buf));
				memcpy(buf, cand[c], cl);
				buf[cl] = ':';
				size_t got_len;
				enum sip_hdr_id m_id = sip_hdr_match(buf, buf + cl, &got_len);
				int want =
					(m_id != SIP_HDR_OTHER && got_len == cl) ? (int)m_id : -1;
				wrong += sip_hdr_lookup(buf, cl) != want;
				n++;
			}
		}
	}
	is_int(wrong, 0, "sip_hdr_lookup agrees with sip_hdr_match on %d names", n);
}

/* sip_method_lookup() finds every method by its exact name, and nothing else. */
static void test_method_lookup(void)
{
	int wrong = 0;
	for (int i = 1; i < SIP_METHOD_COUNT_; i++) {
		const char *n = sip_method_name((enum sip_method)i);
		size_t len = strlen(n);
		char buf[16];
		wrong += sip_method_lookup(n, len) != (enum sip_method)i;
		memcpy(buf, n, len);
		buf[0] = (char)(buf[0] | 0x20); /* methods are case-sensitive */
		wrong += sip_method_lookup(buf, len) != SIP_METHOD_UNKNOWN;
		wrong += sip_method_lookup(n, len - 1) != SIP_METHOD_UNKNOWN;
		memcpy(buf, n, len);
		buf[len] = 'X';
		wrong += sip_method_lookup(buf, len + 1) != SIP_METHOD_UNKNOWN;
	}
	is_int(wrong, 0, "every method name maps to its id; other case, shorter, longer do not");
}

/* The reference definition of sip_parse_uint(): digit by digit, stop adding once over max. */
static int ref_uint(const char *p, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	int over = 0;
	if (len == 0) {
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9') {
			return -1;
		}
		if (!over && (v = v * 10 + (uint64_t)(p[i] - '0')) > max) {
			over = 1;
		}
	}
	*out = over ? max : v;
	return over;
}

/* sip_parse_uint() against the reference: every length to 22, every limit the parser uses. */
static void test_parse_uint(void)
{
	static const uint64_t maxes[] = {0, 9, 255, 65535, 0x7fffffff, 0xffffffff};
	static const char digits[] = "0123456789";
	int wrong = 0, n = 0;
	uint64_t seed = 1;
	for (size_t len = 0; len <= 22; len++) {
		for (int rep = 0; rep < 200; rep++) {
			char buf[24];
			for (size_t i = 0; i < len; i++) {
				seed = seed * 6364136223846793005u + 1442695040888963407u;
				buf[i] = digits[(seed >> 33) % (rep % 3 == 0 ? 2 : 10)];
			}
			if (rep % 7 == 3 && len > 0) {
				buf[(seed >> 40) % len] =
					(char)(rep % 2 ? '/' : ':'); /* next to digits */
			}
			for (size_t k = 0; k < sizeof(maxes) / sizeof(maxes[0]); k++) {
				uint64_t a = 12345, b = 12345;
				int ra = sip_parse_uint(buf, len, maxes[k], &a);
				int rb = ref_uint(buf, len, maxes[k], &b);
				wrong += ra != rb || (ra >= 0 && a != b);
				n++;
			}
		}
	}
	is_int(wrong, 0, "sip_parse_uint agrees with the digit-by-digit definition on %d inputs",
	       n);
}

int main(void)
{
	test_header_names();
	test_header_lookup();
	test_method_lookup();
	test_parse_uint();
	test_register();
	test_views_inside();
	test_compact_and_folding();
	test_lists_and_quotes();
	test_star();
	test_limits();
	test_errors();
	test_body_and_framing();
	test_prefixes();
	done_testing();
	return exit_status();
}
