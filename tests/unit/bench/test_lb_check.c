/* SPDX-License-Identifier: MIT */
/*
 * locus-bench's answer checks (bench/lb_check.c): the right answer to each operation is accepted,
 * and each kind of wrong answer is rejected with its own kind: status, Call-ID, CSeq number and
 * method, a missing To tag, and every way the contacts can be wrong (missing, another URI, an
 * extra one, expired, still listed after an un-REGISTER). LSP answers are built with locus's
 * codec and judged the same way (status, KEY, records).
 */
#include <stdio.h>
#include <string.h>

#include "bench/lb_aor.h"
#include "bench/lb_check.h"
#include "bench/lb_lsp.h"
#include "common/lc_error.h"
#include "tests/tap.h"

static const char *CID = "cid-1@lb";
static const char *OURS = "sip:alice.x@10.1.2.3:5060;transport=udp";

/* A response with the given status line, CSeq, To and extra lines. */
static enum lb_wrong judge(enum lb_op op, uint32_t cseq, const char *status, const char *call_id,
			   const char *cseq_hdr, const char *to, const char *extra)
{
	char m[2048];
	int n = snprintf(m, sizeof(m),
			 "SIP/2.0 %s\r\nVia: SIP/2.0/UDP 127.0.0.1:5555;branch=z9hG4bK-lb.0.0.0\r\n"
			 "From: <sip:alice.x@example.com>;tag=f\r\nTo: %s\r\nCall-ID: %s\r\n"
			 "CSeq: %s\r\n%sContent-Length: 0\r\n\r\n",
			 status, to, call_id, cseq_hdr, extra);
	struct lb_resp r;
	if (lb_resp_parse(&r, m, (size_t)n) != LC_OK) {
		return LB_W_MALFORMED;
	}
	struct lb_expect e = {.op = op,
			      .call_id = CID,
			      .call_id_len = (unsigned)strlen(CID),
			      .cseq = cseq,
			      .contact = OURS,
			      .contact_len = (unsigned)strlen(OURS)};
	return lb_check_sip(&r, &e);
}

#define TO_TAGGED "<sip:alice.x@example.com>;tag=srv1"
#define C_OURS "Contact: <sip:alice.x@10.1.2.3:5060;transport=udp>;expires=3600\r\n"

static void test_register(void)
{
	enum lb_op R = LB_OP_REGISTER;
	is_int(judge(R, 7, "200 OK", CID, "7 REGISTER", TO_TAGGED, C_OURS), LB_RIGHT,
	       "REGISTER: the right 200");
	is_int(judge(LB_OP_REFRESH, 7, "200 OK", CID, "7 REGISTER", TO_TAGGED,
		     "Contact: <sip:alice.x@10.1.2.3:5060;transport=udp>\r\nExpires: 60\r\n"),
	       LB_RIGHT, "refresh: expiry from the Expires header");
	is_int(judge(R, 7, "500 Server Error", CID, "7 REGISTER", TO_TAGGED, C_OURS), LB_W_STATUS,
	       "REGISTER: 500 is a wrong status");
	is_int(judge(R, 7, "202 Accepted", CID, "7 REGISTER", TO_TAGGED, C_OURS), LB_W_STATUS,
	       "REGISTER: another 2xx is a wrong status");
	is_int(judge(R, 7, "200 OK", "other@lb", "7 REGISTER", TO_TAGGED, C_OURS), LB_W_CALL_ID,
	       "REGISTER: another Call-ID");
	is_int(judge(R, 7, "200 OK", CID, "8 REGISTER", TO_TAGGED, C_OURS), LB_W_CSEQ,
	       "REGISTER: another CSeq number");
	is_int(judge(R, 7, "200 OK", CID, "7 INVITE", TO_TAGGED, C_OURS), LB_W_CSEQ,
	       "REGISTER: another CSeq method");
	is_int(judge(R, 7, "200 OK", CID, "7 REGISTER", "<sip:alice.x@example.com>", C_OURS),
	       LB_W_TO_TAG, "REGISTER: no To tag");
	is_int(judge(R, 7, "200 OK", CID, "7 REGISTER", TO_TAGGED, ""), LB_W_CONTACTS,
	       "REGISTER: no Contact");
	is_int(judge(R, 7, "200 OK", CID, "7 REGISTER", TO_TAGGED,
		     "Contact: <sip:alice.x@10.1.2.4:5060;transport=udp>;expires=3600\r\n"),
	       LB_W_CONTACTS, "REGISTER: another contact URI");
	is_int(judge(R, 7, "200 OK", CID, "7 REGISTER", TO_TAGGED,
		     C_OURS "Contact: <sip:bob@10.9.9.9>;expires=60\r\n"),
	       LB_W_CONTACTS, "REGISTER: an extra contact");
	is_int(judge(R, 7, "200 OK", CID, "7 REGISTER", TO_TAGGED,
		     "Contact: <sip:alice.x@10.1.2.3:5060;transport=udp>;expires=0\r\n"),
	       LB_W_CONTACTS, "REGISTER: our contact with expires=0");
}

static void test_unregister(void)
{
	enum lb_op U = LB_OP_UNREGISTER;
	is_int(judge(U, 9, "200 OK", CID, "9 REGISTER", TO_TAGGED, ""), LB_RIGHT,
	       "un-REGISTER: 200 without contacts");
	is_int(judge(U, 9, "200 OK", CID, "9 REGISTER", TO_TAGGED,
		     "Contact: <sip:alice.x@10.1.2.3:5060;transport=udp>;expires=0\r\n"),
	       LB_RIGHT, "un-REGISTER: ours listed with expires=0 is gone too");
	is_int(judge(U, 9, "200 OK", CID, "9 REGISTER", TO_TAGGED, C_OURS), LB_W_CONTACTS,
	       "un-REGISTER: ours still listed");
}

static void test_invite(void)
{
	enum lb_op I = LB_OP_INVITE;
	const char *c302 = "Contact: <sip:alice.x@10.1.2.3:5060;transport=udp>;q=1\r\n";
	is_int(judge(I, 1, "302 Moved Temporarily", CID, "1 INVITE", TO_TAGGED, c302), LB_RIGHT,
	       "INVITE: 302 with our contact");
	is_int(judge(I, 1, "404 Not Found", CID, "1 INVITE", TO_TAGGED, ""), LB_W_STATUS,
	       "INVITE: 404 for a registered AOR");
	is_int(judge(I, 1, "302 Moved Temporarily", CID, "1 INVITE", TO_TAGGED, ""), LB_W_CONTACTS,
	       "INVITE: 302 without a contact");
	is_int(judge(I, 1, "302 Moved Temporarily", CID, "1 INVITE", TO_TAGGED,
		     "Contact: <sip:alice.x@10.1.2.3:5060;transport=udp>, <sip:x@10.0.0.9>\r\n"),
	       LB_W_CONTACTS, "INVITE: 302 with two contacts");
	is_int(judge(I, 1, "302 Moved Temporarily", CID, "1 REGISTER", TO_TAGGED, c302), LB_W_CSEQ,
	       "INVITE: CSeq method REGISTER");
	is_int(judge(LB_OP_UNKNOWN, 1, "404 Not Found", CID, "1 INVITE", TO_TAGGED, ""), LB_RIGHT,
	       "INVITE to an unknown AOR: 404");
	is_int(judge(LB_OP_UNKNOWN, 1, "302 Moved Temporarily", CID, "1 INVITE", TO_TAGGED, c302),
	       LB_W_STATUS, "INVITE to an unknown AOR: 302 is wrong");
	is_int(judge(LB_OP_UNKNOWN, 1, "404 Not Found", CID, "1 INVITE", "<sip:nobody@x>", ""),
	       LB_W_TO_TAG, "INVITE to an unknown AOR: 404 without a To tag");
}

/* ---- LSP ---- */

static struct lb_aor aor;
static uint8_t req_buf[LB_LSP_MAX];
static struct dht_lsp_msg req, ans;

/* The answer to an LSP request of @p op: @p status, the KEY given, and @p nrec records whose
 * contacts are @p contact (expires @p exp). Returns the check's verdict. */
static enum lb_wrong lsp_judge(enum lb_op op, unsigned status, const char *key, const char *contact,
			       unsigned nrec, uint32_t exp)
{
	struct lb_lsp_req q = {op, &aor, 0x0100000500000009ull, 77, 3, 3600};
	size_t len = lb_lsp_build(req_buf, &q);
	if (len == 0 || dht_lsp_parse(&req, req_buf, len) != LC_OK) {
		return LB_W_COUNT;
	}
	static uint8_t out[4096];
	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, out, sizeof(out));
	struct dht_lsp_hdr h = req.hdr;
	h.flags = DHT_LSP_F_ANSWER;
	dht_lsp_build_hdr(&b, &h);
	dht_lsp_put_status(&b, status);
	dht_lsp_put_key(&b, key, strlen(key));
	for (unsigned i = 0; i < nrec; i++) {
		struct dht_lsp_record r = {.present = DHT_LSP_P_CONTACT | DHT_LSP_P_EXPIRES,
					   .contact = {contact, (uint32_t)strlen(contact)},
					   .expires_s = exp,
					   .q = -1};
		dht_lsp_put_record(&b, &r);
	}
	if (dht_lsp_build_finish(&b, &len) != LC_OK) {
		return LB_W_COUNT;
	}
	if (dht_lsp_parse(&ans, out, len) != LC_OK) {
		return LB_W_COUNT;
	}
	struct lb_expect e = {.op = op,
			      .contact = aor.contact,
			      .contact_len = aor.contact_len,
			      .key = aor.uri,
			      .key_len = aor.uri_len};
	return lb_check_lsp(&ans, &e);
}

static void test_lsp(void)
{
	struct lb_aorgen g;
	if (lb_aorgen_init(&g, 1, "example.com") != LC_OK) {
		return;
	}
	lb_aor_get(&g, 5, true, 1, &aor);
	enum lb_op P = LB_OP_LSP_PUBLISH, L = LB_OP_LSP_LOOKUP;
	is_int(lsp_judge(P, 200, aor.uri, aor.contact, 1, 3600), LB_RIGHT,
	       "PUBLISH: 200 with our record");
	is_int(lsp_judge(P, 503, aor.uri, aor.contact, 1, 3600), LB_W_STATUS, "PUBLISH: 503");
	is_int(lsp_judge(P, 200, "sip:other@example.com", aor.contact, 1, 3600), LB_W_KEY,
	       "PUBLISH: another KEY");
	is_int(lsp_judge(P, 200, aor.uri, aor.contact, 0, 0), LB_W_CONTACTS, "PUBLISH: no record");
	is_int(lsp_judge(P, 200, aor.uri, aor.contact, 1, 0), LB_W_CONTACTS,
	       "PUBLISH: our record expired");
	is_int(lsp_judge(L, 200, aor.uri, aor.contact, 1, 100), LB_RIGHT, "LOOKUP: our record");
	is_int(lsp_judge(L, 200, aor.uri, "sip:x@10.0.0.1", 1, 100), LB_W_CONTACTS,
	       "LOOKUP: another contact");
	is_int(lsp_judge(L, 200, aor.uri, aor.contact, 2, 100), LB_W_CONTACTS,
	       "LOOKUP: two records");
	is_int(lsp_judge(L, 404, aor.uri, aor.contact, 0, 0), LB_W_STATUS,
	       "LOOKUP: 404 for a registered AOR");
	is_int(lsp_judge(LB_OP_LSP_UNKNOWN, 404, aor.uri, aor.contact, 0, 0), LB_RIGHT,
	       "LOOKUP of an unknown AOR: 404");
	memset(&ans, 0, sizeof(ans));
	ans.err = LC_ELSP_TRUNCATED;
	struct lb_expect e = {.op = L, .key = aor.uri, .key_len = aor.uri_len};
	is_int(lb_check_lsp(&ans, &e), LB_W_MALFORMED, "an answer that did not decode");
}

int main(void)
{
	plan(12 + 3 + 8 + 11);
	test_register();
	test_unregister();
	test_invite();
	test_lsp();
	return exit_status();
}
