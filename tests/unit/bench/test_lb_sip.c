/* SPDX-License-Identifier: MIT */
/*
 * locus-bench's SIP requests (bench/lb_sip.c): branches round-trip and foreign ones are refused,
 * and the REGISTER, un-REGISTER, INVITE and ACK carry the headers a registrar relies on.
 */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "bench/lb_sip.h"
#include "common/lc_error.h"
#include "tests/tap.h"

static bool has(const char *msg, size_t len, const char *line)
{
	return memmem(msg, len, line, strlen(line)) != NULL;
}

int main(void)
{
	plan(16);
	char b[LB_SIP_BRANCH_MAX];
	size_t n = lb_sip_branch(b, 3, 0x1234, 0xdeadbeef01ull);
	unsigned th;
	uint32_t slot;
	uint64_t seq;
	ok(lb_sip_parse_branch(b, n, &th, &slot, &seq) && th == 3 && slot == 0x1234 &&
		   seq == 0xdeadbeef01ull,
	   "branch round trip: %.*s", (int)n, b);
	ok(!lb_sip_parse_branch("z9hG4bK-other.1.2.3", 19, &th, &slot, &seq), "a foreign branch");
	ok(!lb_sip_parse_branch("z9hG4bK-lb.1.2", 14, &th, &slot, &seq), "a short branch");
	ok(!lb_sip_parse_branch("z9hG4bK-lb.1.2.3x", 17, &th, &slot, &seq), "trailing junk");
	ok(!lb_sip_parse_branch("z9hG4bK-lb.1.2.11112222333344445", 33, &th, &slot, &seq),
	   "a sequence number over 64 bits");

	struct lb_aorgen g;
	struct lb_aor a;
	if (lb_aorgen_init(&g, 1, "example.com") != LC_OK) {
		return 1;
	}
	lb_aor_get(&g, 9, true, 0xabc, &a);
	struct lb_sip_req q = {.op = LB_OP_REGISTER,
			       .aor = &a,
			       .domain = "example.com",
			       .domain_len = 11,
			       .local = "127.0.0.1:4000",
			       .local_len = 14,
			       .thread = 1,
			       .slot = 2,
			       .seq = 3,
			       .run_id = 0xabc,
			       .cseq = 17,
			       .expires_s = 3600};
	char m[LB_SIP_MAX];
	n = lb_sip_build(m, &q);
	ok(n < LB_SIP_MAX && strncmp(m, "REGISTER sip:example.com SIP/2.0\r\n", 34) == 0,
	   "REGISTER request line");
	ok(has(m, n, "Via: SIP/2.0/UDP 127.0.0.1:4000;rport;branch=z9hG4bK-lb.1.2.3\r\n"),
	   "Via with rport and our branch");
	ok(has(m, n, "CSeq: 17 REGISTER\r\n") && has(m, n, "Expires: 3600\r\n"), "CSeq, Expires");
	char line[256];
	snprintf(line, sizeof(line), "Call-ID: %s\r\n", a.call_id);
	ok(has(m, n, line), "the AOR's Call-ID");
	snprintf(line, sizeof(line), "Contact: <%s>\r\n", a.contact);
	ok(has(m, n, line), "the AOR's contact");
	ok(n > 4 && memcmp(m + n - 4, "\r\n\r\n", 4) == 0, "ends with the empty line");
	q.op = LB_OP_UNREGISTER;
	n = lb_sip_build(m, &q);
	ok(has(m, n, "Expires: 0\r\n"), "un-REGISTER has Expires: 0");
	q.op = LB_OP_INVITE;
	n = lb_sip_build(m, &q);
	snprintf(line, sizeof(line), "INVITE %s SIP/2.0\r\n", a.uri);
	ok(strncmp(m, line, strlen(line)) == 0 && has(m, n, "CSeq: 1 INVITE\r\n"),
	   "INVITE to the AOR, CSeq 1");
	char cid[LB_SIP_CALL_ID_MAX];
	size_t cl = lb_sip_invite_call_id(cid, 1, 3, 0xabc);
	snprintf(line, sizeof(line), "Call-ID: %.*s\r\n", (int)cl, cid);
	ok(has(m, n, line), "INVITE Call-ID from thread, seq and run");
	n = lb_sip_build_ack(m, &q, "srvtag", 6);
	snprintf(line, sizeof(line), "To: <%s>;tag=srvtag\r\n", a.uri);
	ok(strncmp(m, "ACK ", 4) == 0 && has(m, n, line) && has(m, n, "CSeq: 1 ACK\r\n"),
	   "ACK: the response's To tag, CSeq 1 ACK");
	ok(has(m, n, "branch=z9hG4bK-lb.1.2.3\r\n"), "ACK of a non-2xx: the INVITE's branch");
	return exit_status();
}
