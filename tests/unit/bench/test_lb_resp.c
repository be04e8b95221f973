/* SPDX-License-Identifier: MIT */
/*
 * locus-bench's reader of SIP responses (bench/lb_resp.c): the fields the checks rely on, from
 * long and compact header names, name-addr and addr-spec contacts, comma lists with quoted
 * display names, several Contact headers, bare-LF line ends; and what it refuses.
 */
#include <string.h>

#include "bench/lb_resp.h"
#include "common/lc_error.h"
#include "tests/tap.h"

static int parse(struct lb_resp *r, const char *s)
{
	return lb_resp_parse(r, s, strlen(s));
}

#define IS_STR(view, want, ...) is_mem((view).p, (view).len, (want), __VA_ARGS__)

static void test_full(void)
{
	struct lb_resp r;
	const char *m = "SIP/2.0 200 OK\r\n"
			"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-top;rport=5060, "
			"SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-second\r\n"
			"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-third\r\n"
			"From: <sip:a@example.com>;tag=f1\r\n"
			"To: \"Alice, A.\" <sip:a@example.com;tag=inuri>;tag=t0\r\n"
			"Call-ID: abc@host\r\n"
			"CSeq: 42 REGISTER\r\n"
			"Contact: <sip:a@10.0.0.1:5060;transport=udp>;expires=3600, "
			"\"x,y\" <sip:a@10.0.0.2>;q=0.5;expires=60\r\n"
			"m: sip:a@10.0.0.3;expires=0\r\n"
			"Expires: 300\r\n"
			"Content-Length: 0\r\n\r\n";
	is_int(parse(&r, m), LC_OK, "a full 200 parses");
	is_int(r.status, 200, "status");
	IS_STR(r.branch, "z9hG4bK-top", "the top Via's branch only");
	IS_STR(r.call_id, "abc@host", "Call-ID");
	ok(r.has_cseq && r.cseq == 42, "CSeq number");
	IS_STR(r.cseq_method, "REGISTER", "CSeq method");
	IS_STR(r.to_tag, "t0", "To tag after the name-addr, not the URI's parameter");
	is_int(r.ncontacts, 3, "three contacts over two headers and a comma list");
	IS_STR(r.contacts[0].uri, "sip:a@10.0.0.1:5060;transport=udp", "contact 1 URI");
	is_int(r.contacts[0].expires, 3600, "contact 1 expires");
	IS_STR(r.contacts[1].uri, "sip:a@10.0.0.2", "contact 2 URI (quoted comma in the name)");
	is_int(r.contacts[1].expires, 60, "contact 2 expires");
	IS_STR(r.contacts[2].uri, "sip:a@10.0.0.3", "compact m:, addr-spec form");
	is_int(r.contacts[2].expires, 0, "contact 3 expires=0");
	is_int(r.expires, 300, "Expires header");
}

static void test_compact_lf(void)
{
	struct lb_resp r;
	const char *m = "SIP/2.0 302 Moved Temporarily\n"
			"v: SIP/2.0/UDP h;BRANCH=z9hG4bK-1\n"
			"i: cid\n"
			"t: sip:b@example.com;tag=x\n"
			"cseq: 1 INVITE\n"
			"\n";
	is_int(parse(&r, m), LC_OK, "compact names and bare LF parse");
	IS_STR(r.branch, "z9hG4bK-1", "branch parameter name in any case");
	IS_STR(r.call_id, "cid", "i: is Call-ID");
	IS_STR(r.to_tag, "x", "t: addr-spec tag");
	is_int(r.ncontacts, 0, "no contacts");
	is_int(r.expires, -1, "no Expires");
}

static void test_refused(void)
{
	struct lb_resp r;
	is_int(parse(&r, "REGISTER sip:x SIP/2.0\r\n\r\n"), LC_EMALFORMED, "a request is refused");
	is_int(parse(&r, "SIP/2.0 2000 OK\r\n\r\n"), LC_EMALFORMED, "a 4-digit status is refused");
	is_int(parse(&r, "SIP/2.0 099 Low\r\n\r\n"), LC_EMALFORMED,
	       "a status below 100 is refused");
	is_int(parse(&r, "SIP/2.0 200 OK\r\nCall-ID: x\r\n"), LC_EMALFORMED,
	       "headers without the empty line are refused");
	is_int(parse(&r, "SIP/2.0 200 OK\r\nCSeq: abc REGISTER\r\n\r\n"), LC_EMALFORMED,
	       "a CSeq without a number is refused");
	is_int(parse(&r, "SIP/2.0 200 OK\r\nNoColonHere\r\n\r\n"), LC_EMALFORMED,
	       "a header line without a colon is refused");
	is_int(parse(&r, "SIP/2.0 200 OK\r\n\r\n"), LC_OK,
	       "no headers at all: parses (checks judge)");
	ok(!r.has_to && !r.has_cseq && r.call_id.len == 0, "and nothing is present");
}

static void test_many_contacts(void)
{
	char m[4096];
	int n = snprintf(m, sizeof(m), "SIP/2.0 200 OK\r\nContact: ");
	for (int i = 0; i < LB_RESP_MAX_CONTACTS + 2; i++) {
		n += snprintf(m + n, sizeof(m) - (size_t)n, "%s<sip:u@10.0.0.%d>", i ? "," : "", i);
	}
	snprintf(m + n, sizeof(m) - (size_t)n, "\r\n\r\n");
	struct lb_resp r;
	is_int(parse(&r, m), LC_OK, "more contacts than kept: parses");
	ok(r.contacts_truncated && r.ncontacts == LB_RESP_MAX_CONTACTS, "and says it kept only %d",
	   LB_RESP_MAX_CONTACTS);
}

int main(void)
{
	plan(15 + 6 + 8 + 2);
	test_full();
	test_compact_lf();
	test_refused();
	test_many_contacts();
	return exit_status();
}
