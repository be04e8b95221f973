/* SPDX-License-Identifier: MIT */
/*
 * Building locus-bench's SIP requests and reading back its branches (lb_sip.h). Every request is
 * written with memcpy and hand-rolled number formatting (bench/lb_fmt.h): the generator shares the
 * machine with the server it measures, so its own cost per request is kept small.
 */
#include "bench/lb_sip.h"
#include "bench/lb_fmt.h"

#define BRANCH_PREFIX "z9hG4bK-lb."

size_t lb_sip_branch(char *buf, unsigned thread, uint32_t slot, uint64_t seq)
{
	char *p = LB_PUT_LIT(buf, BRANCH_PREFIX);
	p = lb_put_hex_min(p, thread);
	*p++ = '.';
	p = lb_put_hex_min(p, slot);
	*p++ = '.';
	p = lb_put_hex_min(p, seq);
	return (size_t)(p - buf);
}

size_t lb_sip_invite_call_id(char *buf, unsigned thread, uint64_t seq, uint64_t run_id)
{
	char *p = lb_put_hex_min(buf, seq);
	*p++ = '.';
	p = lb_put_hex_min(p, thread);
	*p++ = '.';
	p = lb_put_hex(p, run_id, 8);
	p = LB_PUT_LIT(p, "@lb-invite");
	return (size_t)(p - buf);
}

static bool read_hex(const char **pp, const char *end, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	int n = 0;
	while (p < end && *p != '.') {
		char c = *p++;
		unsigned d;
		if (c >= '0' && c <= '9') {
			d = (unsigned)(c - '0');
		} else if (c >= 'a' && c <= 'f') {
			d = (unsigned)(c - 'a' + 10);
		} else {
			return false;
		}
		if (++n > 16) {
			return false;
		}
		v = v << 4 | d;
	}
	if (n == 0) {
		return false;
	}
	*pp = p;
	*out = v;
	return true;
}

bool lb_sip_parse_branch(const char *p, size_t len, unsigned *thread, uint32_t *slot, uint64_t *seq)
{
	const size_t plen = sizeof(BRANCH_PREFIX) - 1;
	const char *end = p + len;
	uint64_t t, s, q;
	if (len <= plen || memcmp(p, BRANCH_PREFIX, plen) != 0) {
		return false;
	}
	p += plen;
	if (!read_hex(&p, end, &t) || p == end || *p++ != '.' || !read_hex(&p, end, &s) ||
	    p == end || *p++ != '.' || !read_hex(&p, end, &q) || p != end || t > 0xffff ||
	    s > UINT32_MAX) {
		return false;
	}
	*thread = (unsigned)t;
	*slot = (uint32_t)s;
	*seq = q;
	return true;
}

/* "Via: SIP/2.0/UDP local;rport;branch=...\r\nMax-Forwards: 70\r\n" */
static char *put_via(char *p, const struct lb_sip_req *q)
{
	p = LB_PUT_LIT(p, "Via: SIP/2.0/UDP ");
	p = lb_put(p, q->local, q->local_len);
	p = LB_PUT_LIT(p, ";rport;branch=");
	p += lb_sip_branch(p, q->thread, q->slot, q->seq);
	return LB_PUT_LIT(p, "\r\nMax-Forwards: 70\r\n");
}

static char *put_aor_hdr(char *p, const char *name, size_t name_len, const struct lb_aor *a)
{
	p = lb_put(p, name, name_len);
	*p++ = '<';
	p = lb_put(p, a->uri, a->uri_len);
	*p++ = '>';
	return p;
}

static char *put_invite_from(char *p, const struct lb_sip_req *q)
{
	p = LB_PUT_LIT(p, "From: <sip:lb-caller@");
	p = lb_put(p, q->domain, q->domain_len);
	p = LB_PUT_LIT(p, ">;tag=");
	p = lb_put_hex(p, q->seq * 0x9e3779b97f4a7c15ull ^ q->run_id, 12);
	return LB_PUT_LIT(p, "\r\n");
}

static char *put_invite_call_id(char *p, const struct lb_sip_req *q)
{
	p = LB_PUT_LIT(p, "Call-ID: ");
	p += lb_sip_invite_call_id(p, q->thread, q->seq, q->run_id);
	return LB_PUT_LIT(p, "\r\n");
}

static size_t build_register(char *buf, const struct lb_sip_req *q)
{
	const struct lb_aor *a = q->aor;
	char *p = LB_PUT_LIT(buf, "REGISTER sip:");
	p = lb_put(p, q->domain, q->domain_len);
	p = LB_PUT_LIT(p, " SIP/2.0\r\n");
	p = put_via(p, q);
	p = put_aor_hdr(p, "From: ", 6, a);
	p = LB_PUT_LIT(p, ";tag=");
	p = lb_put_hex(p, q->seq * 0xbf58476d1ce4e5b9ull ^ q->run_id, 12);
	p = put_aor_hdr(p, "\r\nTo: ", 6, a);
	p = LB_PUT_LIT(p, "\r\nCall-ID: ");
	p = lb_put(p, a->call_id, a->call_id_len);
	p = LB_PUT_LIT(p, "\r\nCSeq: ");
	p = lb_put_dec(p, q->cseq);
	p = LB_PUT_LIT(p, " REGISTER\r\nContact: <");
	p = lb_put(p, a->contact, a->contact_len);
	p = LB_PUT_LIT(p, ">\r\nExpires: ");
	p = lb_put_dec(p, q->op == LB_OP_UNREGISTER ? 0 : q->expires_s);
	p = LB_PUT_LIT(p, "\r\nUser-Agent: locus-bench\r\nContent-Length: 0\r\n\r\n");
	return (size_t)(p - buf);
}

static size_t build_invite(char *buf, const struct lb_sip_req *q)
{
	const struct lb_aor *a = q->aor;
	char *p = LB_PUT_LIT(buf, "INVITE ");
	p = lb_put(p, a->uri, a->uri_len);
	p = LB_PUT_LIT(p, " SIP/2.0\r\n");
	p = put_via(p, q);
	p = put_invite_from(p, q);
	p = put_aor_hdr(p, "To: ", 4, a);
	p = LB_PUT_LIT(p, "\r\n");
	p = put_invite_call_id(p, q);
	p = LB_PUT_LIT(p, "CSeq: 1 INVITE\r\nContact: <sip:lb-caller@");
	p = lb_put(p, q->local, q->local_len);
	p = LB_PUT_LIT(p, ">\r\nUser-Agent: locus-bench\r\nContent-Length: 0\r\n\r\n");
	return (size_t)(p - buf);
}

size_t lb_sip_build(char *buf, const struct lb_sip_req *q)
{
	if (q->op == LB_OP_INVITE || q->op == LB_OP_UNKNOWN) {
		return build_invite(buf, q);
	}
	return build_register(buf, q);
}

size_t lb_sip_build_ack(char *buf, const struct lb_sip_req *q, const char *tag, unsigned tag_len)
{
	const struct lb_aor *a = q->aor;
	char *p = LB_PUT_LIT(buf, "ACK ");
	p = lb_put(p, a->uri, a->uri_len);
	p = LB_PUT_LIT(p, " SIP/2.0\r\n");
	p = put_via(p, q);
	p = put_invite_from(p, q);
	p = put_aor_hdr(p, "To: ", 4, a);
	if (tag_len > 0 && tag_len <= 128) {
		p = LB_PUT_LIT(p, ";tag=");
		p = lb_put(p, tag, tag_len);
	}
	p = LB_PUT_LIT(p, "\r\n");
	p = put_invite_call_id(p, q);
	p = LB_PUT_LIT(p, "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n");
	return (size_t)(p - buf);
}
