/* SPDX-License-Identifier: MIT */
/*
 * The response builder, byte for byte: status line, Via rewriting (received/rport per RFC 3261
 * §18.2.1 and RFC 3581), the stateless To tag's input layout and insertion (the PRF itself is the
 * dataplane's: tests/unit/dataplane/test_dp_sip.c), every header helper, the sticky error, and
 * that no buffer size, however small, gets written past.
 */
#include <arpa/inet.h>
#include <string.h>

#include "common/lc_error.h"
#include "sipparse/sip_internal.h"
#include "sipparse/sip_resp.h"
#include "tests/tap.h"

static struct sip_msg req;

/* a To tag as the dataplane would pass it (the value is the caller's business) */
#define TAG "0123456789abcdef"

static const char reg[] = "REGISTER sip:example.com SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc;rport\r\n"
			  "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKdef\r\n"
			  "From: <sip:alice@example.com>;tag=f1\r\n"
			  "To: <sip:alice@example.com>\r\n"
			  "Call-ID: c1@10.0.0.1\r\n"
			  "CSeq: 7 REGISTER\r\n"
			  "Contact: <sip:alice@10.0.0.1:5060>;expires=600\r\n"
			  "Content-Length: 0\r\n\r\n";

static struct sip_peer peer4(const char *ip, uint16_t port)
{
	struct sip_peer p;
	struct in_addr a;
	inet_pton(AF_INET, ip, &a);
	if (sip_peer_set(&p, AF_INET, &a, port) != LC_OK) {
		memset(&p, 0, sizeof(p));
	}
	return p;
}

static int parse(const char *s)
{
	return sip_parse(&req, s, strlen(s));
}

static void test_register_ok(void)
{
	char buf[2048];
	size_t len = 0;
	struct sip_resp r;
	struct sip_peer src = peer4("192.0.2.7", 40000);
	is_int(parse(reg), LC_OK, "request parses");
	ok(sip_resp_wants_tag(&req, 200), "a 200 to a request without To tag wants one");
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 200, NULL, &src, TAG);
	sip_resp_contact(&r, req.contact[0].addr.uri.raw, -1, 600, SIP_STR_NULL, SIP_STR_NULL);
	sip_resp_date(&r, 0);
	is_int(sip_resp_finish(&r, &len), LC_OK, "200 builds");
	is_mem(buf, len,
	       "SIP/2.0 200 OK\r\n"
	       "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc;received=192.0.2.7;rport=40000\r\n"
	       "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKdef\r\n"
	       "From: <sip:alice@example.com>;tag=f1\r\n"
	       "To: <sip:alice@example.com>;tag=" TAG "\r\n"
	       "Call-ID: c1@10.0.0.1\r\n"
	       "CSeq: 7 REGISTER\r\n"
	       "Contact: <sip:alice@10.0.0.1:5060>;expires=600\r\n"
	       "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
	       "Content-Length: 0\r\n\r\n",
	       "200 OK byte for byte, the caller's tag in To");

	/* the response is itself a valid SIP message */
	struct sip_msg resp;
	is_int(sip_parse(&resp, buf, len), LC_OK, "the response parses");
	ok(resp.status == 200 && resp.via[0].rport == 40000, "rport value in the response");
	is_mem(resp.via[0].received.p, resp.via[0].received.len, "192.0.2.7", "received");
	is_mem(resp.to.tag.p, resp.to.tag.len, TAG, "the To tag as given");
}

/* The To tag's PRF input: every field that tells requests apart, without ambiguity. */
static void test_tag_input(void)
{
	uint8_t head[SIP_RESP_TAG_HEAD];
	struct sip_str part[3];
	is_int(parse(reg), LC_OK, "request parses");
	sip_resp_tag_input(&req, head, part);
	static const uint8_t want[SIP_RESP_TAG_HEAD] = {11, 0, 2, 0, 10, 0, 7, 0, 0, 0};
	ok(memcmp(head, want, sizeof(want)) == 0,
	   "head: Call-ID, From tag and branch lengths, CSeq 7 (little endian)");
	is_mem(part[0].p, part[0].len, "c1@10.0.0.1", "part 0: Call-ID");
	is_mem(part[1].p, part[1].len, "f1", "part 1: From tag");
	is_mem(part[2].p, part[2].len, "z9hG4bKabc", "part 2: top Via branch");

	/* the same bytes split differently between fields: the heads differ */
	uint8_t h1[SIP_RESP_TAG_HEAD], h2[SIP_RESP_TAG_HEAD];
	is_int(parse("OPTIONS sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		     "From: <sip:a@h>;tag=c\r\nTo: <sip:a@h>\r\nCall-ID: ab\r\n"
		     "CSeq: 1 OPTIONS\r\n\r\n"),
	       LC_OK, "Call-ID ab, From tag c");
	sip_resp_tag_input(&req, h1, part);
	is_int(parse("OPTIONS sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		     "From: <sip:a@h>;tag=bc\r\nTo: <sip:a@h>\r\nCall-ID: a\r\n"
		     "CSeq: 1 OPTIONS\r\n\r\n"),
	       LC_OK, "Call-ID a, From tag bc");
	sip_resp_tag_input(&req, h2, part);
	ok(memcmp(h1, h2, sizeof(h1)) != 0, "ab|c and a|bc have different inputs");

	is_int(parse("OPTIONS sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
		     "From: <sip:a@h>;tag=c\r\nTo: <sip:a@h>\r\nCall-ID: ab\r\n"
		     "CSeq: 2147483647 OPTIONS\r\n\r\n"),
	       LC_OK, "no branch, largest CSeq");
	sip_resp_tag_input(&req, head, part);
	static const uint8_t want2[SIP_RESP_TAG_HEAD] = {2, 0, 1, 0, 0, 0, 255, 255, 255, 127};
	ok(memcmp(head, want2, sizeof(want2)) == 0 && part[2].len == 0,
	   "no branch: an empty part; the CSeq in full");

	char text[SIP_RESP_TAG_LEN + 1] = {0};
	sip_resp_tag_text(0x0123456789abcdefull, text);
	is_str(text, "0123456789abcdef",
	       "tag text: 16 lower-case hex digits, most significant first");
	sip_resp_tag_text(0, text);
	is_str(text, "0000000000000000", "tag text keeps leading zeros");
	sip_resp_tag_text(UINT64_MAX, text);
	is_str(text, "ffffffffffffffff", "tag text of all ones");
}

/* When a tag is wanted, the builder takes nothing but SIP_RESP_TAG_LEN hex digits. */
static void test_tag_rules(void)
{
	char buf[1024];
	size_t len = 0;
	struct sip_resp r;
	struct sip_peer src = peer4("10.0.0.1", 5060);
	is_int(parse(reg), LC_OK, "request parses");
	ok(!sip_resp_wants_tag(&req, 100), "no tag on 100");
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 200, NULL, &src, NULL);
	is_int(sip_resp_finish(&r, &len), LC_EINVAL, "a wanted tag missing is refused");
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 200, NULL, &src, "0123456789ABCDEF");
	is_int(sip_resp_finish(&r, &len), LC_EINVAL, "upper-case digits refused");
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 200, NULL, &src, "0123456\r\nX: 1abcdef");
	is_int(sip_resp_finish(&r, &len), LC_EINVAL, "CRLF in a tag refused");
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 200, NULL, &src, "0123");
	is_int(sip_resp_finish(&r, &len), LC_EINVAL, "a short tag refused");
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 100, NULL, &src, NULL);
	is_int(sip_resp_finish(&r, &len), LC_OK, "100 needs no tag");

	is_int(parse("BYE sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		     "From: <sip:a@h>;tag=1\r\nTo: <sip:a@h>;tag=2\r\nCall-ID: x\r\n"
		     "CSeq: 1 BYE\r\n\r\n"),
	       LC_OK, "a request with a To tag");
	ok(!sip_resp_wants_tag(&req, 481), "a To tag already there: none wanted");
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 481, NULL, &src, NULL);
	ok(sip_resp_finish(&r, &len) == LC_OK && strstr(buf, "To: <sip:a@h>;tag=2\r\n") != NULL,
	   "its tag is kept and none added");
}

static void test_every_small_buffer(void)
{
	char full[2048];
	size_t full_len = 0;
	struct sip_resp r;
	struct sip_peer src = peer4("192.0.2.7", 40000);
	is_int(parse(reg), LC_OK, "request parses");
	sip_resp_init(&r, full, sizeof(full));
	sip_resp_start(&r, &req, 302, NULL, &src, TAG);
	sip_resp_contact(&r, SIP_STR_LIT("sip:alice@10.0.0.1"), 500, 30, SIP_STR_NULL,
			 SIP_STR_NULL);
	is_int(sip_resp_finish(&r, &full_len), LC_OK, "302 builds");
	int overflow = 0;
	int wrong = 0;
	for (size_t cap = 0; cap < full_len; cap++) {
		char buf[2048 + 16];
		size_t len = 0;
		memset(buf, 0x5a, sizeof(buf));
		sip_resp_init(&r, buf, cap);
		sip_resp_start(&r, &req, 302, NULL, &src, TAG);
		sip_resp_contact(&r, SIP_STR_LIT("sip:alice@10.0.0.1"), 500, 30, SIP_STR_NULL,
				 SIP_STR_NULL);
		wrong += sip_resp_finish(&r, &len) != LC_ENOSPACE;
		for (size_t i = cap; i < sizeof(buf); i++) {
			overflow += buf[i] != 0x5a;
		}
	}
	is_int(wrong, 0, "every buffer shorter than the response gives LC_ENOSPACE");
	is_int(overflow, 0, "no byte written past the buffer");
}

/* Finish into buf, NUL-terminated for strstr(). */
static void finish_ok(struct sip_resp *r, char *buf, const char *what)
{
	size_t len = 0;
	int ret = sip_resp_finish(r, &len);
	is_int(ret, LC_OK, "%s", what);
	buf[ret == LC_OK ? len : 0] = '\0';
}

/* An OPTIONS whose one Via value is @p via. */
static const char *options_via(const char *via)
{
	static char msg[512];
	snprintf(msg, sizeof(msg),
		 "OPTIONS sip:node SIP/2.0\r\nVia: SIP/2.0/UDP %s\r\n"
		 "From: <sip:a@e>;tag=1\r\nTo: <sip:b@e>;tag=x\r\nCall-ID: y\r\n"
		 "CSeq: 9 OPTIONS\r\n\r\n",
		 via);
	return msg;
}

static void test_via_rules(void)
{
	char buf[1024];
	struct sip_resp r;
	struct sip_peer same = peer4("10.0.0.1", 5060);

	is_int(parse(options_via("10.0.0.1:5060;branch=z9hG4bK1")), LC_OK, "sent-by equals source");
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 200, NULL, &same, TAG);
	finish_ok(&r, buf, "builds");
	ok(strstr(buf, "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n") != NULL,
	   "no received= when sent-by is the source");
	ok(strstr(buf, "To: <sip:b@e>;tag=x\r\n") != NULL, "existing To tag kept");
	is_int(sip_resp_port(&req, &same), 5060, "reply to sent-by port");

	is_int(parse(options_via("pc.example.com:5070;received=1.2.3.4;rport=1;branch=z9hG4bK2")),
	       LC_OK, "host name with stale received and rport");
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 200, NULL, &same, TAG);
	finish_ok(&r, buf, "builds");
	ok(strstr(buf, "Via: SIP/2.0/UDP pc.example.com:5070;branch=z9hG4bK2;received=10.0.0.1;"
		       "rport=5060\r\n") != NULL,
	   "stale received and rport replaced");

	is_int(parse(options_via("pc.example.com:5070;branch=z9hG4bK3")), LC_OK, "no rport");
	is_int(sip_resp_port(&req, &same), 5070, "reply to the sent-by port without rport");
	is_int(parse(options_via("pc.example.com;branch=z9hG4bK3")), LC_OK, "no port");
	is_int(sip_resp_port(&req, &same), 5060, "default port 5060");

	struct sip_peer v6;
	struct in6_addr a6;
	inet_pton(AF_INET6, "2001:db8::1", &a6);
	is_int(sip_peer_set(&v6, AF_INET6, &a6, 5060), LC_OK, "IPv6 peer");
	is_int(parse(options_via("[2001:DB8::1];branch=z9hG4bK4")), LC_OK, "IPv6 sent-by");
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 200, NULL, &v6, TAG);
	finish_ok(&r, buf, "builds");
	ok(strstr(buf, "received") == NULL, "same IPv6 address in another spelling: no received");
	is_int(parse(options_via("[2001:db8::2];branch=z9hG4bK5")), LC_OK, "other IPv6 sent-by");
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 200, NULL, &v6, TAG);
	finish_ok(&r, buf, "builds");
	ok(strstr(buf, ";received=2001:db8::1\r\n") != NULL, "IPv6 received without brackets");
	is_int(sip_peer_set(&v6, 12345, &a6, 1), LC_EINVAL, "unknown family");

	/* the IPv4 text is inet_ntop's, for every octet value in every position */
	unsigned differ = 0;
	for (unsigned v = 0; v < 256; v++) {
		for (unsigned pos = 0; pos < 4; pos++) {
			uint8_t a4[4] = {192, 0, 2, 1};
			a4[pos] = (uint8_t)v;
			char want[INET_ADDRSTRLEN];
			struct sip_peer p4;
			inet_ntop(AF_INET, a4, want, sizeof(want));
			differ += sip_peer_set(&p4, AF_INET, a4, 1) != LC_OK ||
				  strcmp(p4.ip, want) != 0 || p4.ip_len != strlen(want);
		}
	}
	is_int(differ, 0,
	       "IPv4 text of 1024 addresses (each octet 0..255 in each place): as inet_ntop");
}

static void test_helpers(void)
{
	char buf[2048];
	struct sip_resp r;
	struct sip_peer src = peer4("10.0.0.1", 5060);
	is_int(parse(reg), LC_OK, "request parses");
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 423, NULL, &src, TAG);
	sip_resp_min_expires(&r, 60);
	sip_resp_retry_after(&r, 30);
	sip_resp_allow(&r, "INVITE, ACK, CANCEL, OPTIONS, REGISTER");
	sip_resp_supported(&r, "path, outbound");
	sip_resp_server(&r, "locus/0.1");
	sip_resp_contact(&r, SIP_STR_LIT("sip:a@h"), 700, 10, SIP_STR_LIT("\"<urn:uuid:1>\""),
			 SIP_STR_LIT("1"));
	sip_resp_contact(&r, SIP_STR_LIT("sip:b@h"), 1000, -1, SIP_STR_NULL, SIP_STR_NULL);
	sip_resp_contact(&r, SIP_STR_LIT("sip:c@h"), 125, -1, SIP_STR_NULL, SIP_STR_NULL);
	sip_resp_contact(&r, SIP_STR_LIT("sip:d@h"), 0, -1, SIP_STR_NULL, SIP_STR_NULL);
	sip_resp_contact(&r, SIP_STR_LIT("sip:e@h"), 5, -1, SIP_STR_NULL,
			 SIP_STR_LIT("4294967295"));
	finish_ok(&r, buf, "423 builds");
	const char *tail = strstr(buf, "CSeq: 7 REGISTER\r\n");
	is_str(tail ? tail : "",
	       "CSeq: 7 REGISTER\r\n"
	       "Min-Expires: 60\r\n"
	       "Retry-After: 30\r\n"
	       "Allow: INVITE, ACK, CANCEL, OPTIONS, REGISTER\r\n"
	       "Supported: path, outbound\r\n"
	       "Server: locus/0.1\r\n"
	       "Contact: <sip:a@h>;q=0.7;expires=10;+sip.instance=\"<urn:uuid:1>\";reg-id=1\r\n"
	       "Contact: <sip:b@h>;q=1\r\n"
	       "Contact: <sip:c@h>;q=0.125\r\n"
	       "Contact: <sip:d@h>;q=0\r\n"
	       "Contact: <sip:e@h>;q=0.005;reg-id=4294967295\r\n"
	       "Content-Length: 0\r\n\r\n",
	       "header helpers byte for byte");
	ok(strncmp(buf, "SIP/2.0 423 Interval Too Brief\r\n", 32) == 0, "423 reason phrase");

	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 100, "Trying hard", &src, TAG);
	finish_ok(&r, buf, "100 builds");
	ok(strstr(buf, "To: <sip:alice@example.com>\r\n") != NULL, "no tag on 100");
	ok(strncmp(buf, "SIP/2.0 100 Trying hard\r\n", 25) == 0, "caller's reason phrase");
}

static void test_sticky_errors(void)
{
	char buf[1024];
	size_t len = 0;
	struct sip_resp r;
	struct sip_peer src = peer4("10.0.0.1", 5060);
	is_int(parse(reg), LC_OK, "request parses");

	sip_resp_init(&r, buf, sizeof(buf));
	is_int(sip_resp_finish(&r, &len), LC_ESIP_RESP_STATE, "finish before start");
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_min_expires(&r, 1);
	sip_resp_start(&r, &req, 200, NULL, &src, TAG);
	is_int(sip_resp_finish(&r, &len), LC_ESIP_RESP_STATE, "header before start is sticky");
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 200, NULL, &src, TAG);
	sip_resp_start(&r, &req, 200, NULL, &src, TAG);
	is_int(sip_resp_finish(&r, &len), LC_ESIP_RESP_STATE, "start twice");
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 99, NULL, &src, TAG);
	is_int(sip_resp_finish(&r, &len), LC_EINVAL, "status 99");
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 400, "Bad\r\nX-Injected: 1", &src, TAG);
	is_int(sip_resp_finish(&r, &len), LC_EINVAL, "CRLF in a reason phrase refused");
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 200, NULL, &src, TAG);
	sip_resp_header(&r, "X-Empty", SIP_STR_NULL);
	is_int(sip_resp_finish(&r, &len), LC_OK, "an absent value writes an empty header");
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 200, NULL, &src, TAG);
	sip_resp_header(&r, "X-Evil", SIP_STR_LIT("a\r\nInjected: 1"));
	is_int(sip_resp_finish(&r, &len), LC_EINVAL, "CRLF in a header value refused");
	static const char *const bad_names[] = {"X-A\r", "X\nB", "X:B"};
	for (size_t i = 0; i < LC_ARRAY_SIZE(bad_names); i++) {
		sip_resp_init(&r, buf, sizeof(buf));
		sip_resp_start(&r, &req, 200, NULL, &src, TAG);
		sip_resp_header(&r, bad_names[i], SIP_STR_LIT("v"));
		is_int(sip_resp_finish(&r, &len), LC_EINVAL,
		       "CR, LF or ':' in a header name refused");
	}
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 200, NULL, &src, TAG);
	sip_resp_header(&r, "X-Evil", SIP_STR_LIT("a\nInjected: 1"));
	is_int(sip_resp_finish(&r, &len), LC_EINVAL, "a bare LF in a header value refused");
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 200, NULL, &src, TAG);
	sip_resp_server(&r, "locus/1\rX: y");
	sip_resp_supported(&r, "path");
	is_int(sip_resp_finish(&r, &len), LC_EINVAL, "CR in a Server product refused, and sticky");
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 200, NULL, &src, TAG);
	finish_ok(&r, buf, "finish");
	is_int(sip_resp_finish(&r, &len), LC_ESIP_RESP_STATE, "finish twice");
	is_int(parse("REGISTER sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n"),
	       LC_ESIP_MISSING_FROM, "unaddressable request");
	sip_resp_init(&r, buf, sizeof(buf));
	sip_resp_start(&r, &req, 400, NULL, &src, TAG);
	is_int(sip_resp_finish(&r, &len), LC_ESIP_RESP_STATE, "no response to it");
}

/* A field the parser accepts may grow in the response (a To tag, the long form of a compact name):
 * the builder refuses a line that would pass SIP_MAX_HEADER_LEN rather than send it. */
static void test_line_growth(void)
{
	static char msg[SIP_MAX_HEADER_LEN + 512], out[2 * SIP_MAX_HEADER_LEN];
	for (int fill = SIP_MAX_HEADER_LEN - 92; fill <= SIP_MAX_HEADER_LEN - 40; fill += 52) {
		int n = snprintf(
			msg, sizeof(msg),
			"OPTIONS sip:example.com SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
			"From: <sip:a@example.com>;tag=1\r\nt: <sip:b@example.com>;x=%0*d\r\n"
			"Call-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
			fill, 0);
		int ret = sip_parse(&req, msg, (size_t)n);
		struct sip_peer p = peer4("192.0.2.1", 5060);
		struct sip_resp r;
		size_t len = 0;
		sip_resp_init(&r, out, sizeof(out));
		sip_resp_start(&r, &req, 200, NULL, &p, TAG);
		int fin = sip_resp_finish(&r, &len);
		if (ret == LC_OK && fin == LC_OK) {
			static struct sip_msg back;
			ok(sip_parse(&back, out, len) == LC_OK,
			   "To of %d bytes: the response parses", fill);
		} else {
			ok(ret == LC_OK && fin == LC_ESIP_LINE_TOO_LONG,
			   "To of %d bytes: accepted (%s), its answer refused (%s)", fill,
			   lc_strerror_name(ret), lc_strerror_name(fin));
		}
	}
}

/* The Date value: each field at its width, the per-thread cache of the last second, the range. */
static void test_date(void)
{
	char out[SIP_DATE_LEN + 1];
	is_int((int)sip_date_format(1700000000, out), SIP_DATE_LEN, "a date is 29 bytes");
	is_str(out, "Tue, 14 Nov 2023 22:13:20 GMT", "2023-11-14 22:13:20");
	memset(out, 'x', sizeof(out));
	sip_date_format(1700000000, out);
	is_str(out, "Tue, 14 Nov 2023 22:13:20 GMT", "the same second again (cached)");
	sip_date_format(1700000001, out);
	is_str(out, "Tue, 14 Nov 2023 22:13:21 GMT", "the next second");
	sip_date_format(951782400, out);
	is_str(out, "Tue, 29 Feb 2000 00:00:00 GMT", "a leap day");
	sip_date_format(253402300799, out);
	is_str(out, "Fri, 31 Dec 9999 23:59:59 GMT", "the last second of year 9999");
	is_int((int)sip_date_format(253402300800, out), 0, "year 10000 does not fit");
}

int main(void)
{
	test_date();
	test_register_ok();
	test_tag_input();
	test_tag_rules();
	test_line_growth();
	test_every_small_buffer();
	test_via_rules();
	test_helpers();
	test_sticky_errors();
	done_testing();
	return exit_status();
}
