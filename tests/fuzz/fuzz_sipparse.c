/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the whole sipparse/ surface a server touches per packet: sip_parse() on the
 * datagram; when a reply can be addressed, the response builder exactly as the dataplane drives it
 * (start, one Contact per binding, the optional headers, finish); the canonical AOR of every URI
 * the message carries; and URI equality between them.
 *
 * How it works: besides "does not crash under ASan/UBSan", each input is held to invariants that
 * a correct parser and builder keep for any bytes:
 *  - every view in struct sip_msg is absent or lies inside the input, and counts stay in bounds;
 *  - the builder never writes past its capacity: a second build into a small buffer, chosen from
 *    the input, must leave the guard bytes after it untouched, and when it succeeds it must give
 *    the same bytes as the build into the large buffer (same calls, no hidden state);
 *  - a request that can be answered gets an answer: with room for any response, finish succeeds,
 *    and the response it wrote parses as a response with the same status, Vias and Call-ID;
 *  - sip_aor_canon() writes at most cap bytes; sip_uri_equal() is reflexive and symmetric.
 * The same function runs in every build through tests/fuzz/replay.c over the SIP corpus.
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "common/lc_error.h"
#include "sipparse/sip_msg.h"
#include "sipparse/sip_resp.h"
#include "sipparse/sip_uri.h"
#include "tests/fuzz/fuzz.h"

#define GUARD 64
#define GUARD_BYTE 0xa5
/* Room for any response to a request of at most SIP_MAX_MSG_LEN bytes, with every Via rewritten. */
#define BIG_CAP (4 * SIP_MAX_MSG_LEN)

static struct sip_msg msg, resp_msg;
static char big[BIG_CAP];
static char small[1024 + GUARD];

static void check_addr(const struct sip_addr *a, const char *b, size_t n)
{
	fuzz_check_view(a->raw, b, n, "addr.raw");
	fuzz_check_view(a->display, b, n, "addr.display");
	fuzz_check_view(a->params, b, n, "addr.params");
	fuzz_check_view(a->tag, b, n, "addr.tag");
	fuzz_check_uri(&a->uri, b, n);
}

static void check_via(const struct sip_via *v, const char *b, size_t n)
{
	fuzz_check_view(v->raw, b, n, "via.raw");
	fuzz_check_view(v->transport, b, n, "via.transport");
	fuzz_check_view(v->host, b, n, "via.host");
	fuzz_check_view(v->branch, b, n, "via.branch");
	fuzz_check_view(v->received, b, n, "via.received");
	fuzz_check_view(v->maddr, b, n, "via.maddr");
	fuzz_check_view(v->ttl, b, n, "via.ttl");
	fuzz_check_view(v->rport_span, b, n, "via.rport_span");
	fuzz_check_view(v->received_span, b, n, "via.received_span");
}

static void check_tags(const struct sip_tags *t, const char *b, size_t n)
{
	FUZZ_CHECK(t->n <= SIP_MAX_OPTION_TAGS, "option tag count");
	for (unsigned i = 0; i < t->n; i++) {
		fuzz_check_view(t->tag[i], b, n, "option tag");
	}
}

static void check_auth(const struct sip_auth *a, const char *b, size_t n)
{
	const struct sip_str v[] = {a->scheme, a->params, a->username, a->realm,
				    a->nonce,  a->uri,	  a->response, a->algorithm,
				    a->cnonce, a->opaque, a->qop,      a->nc};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		fuzz_check_view(v[i], b, n, "auth field");
	}
}

/* Every view of @p m lies in [b, b + n). The message was zeroed before parsing, so fields the
 * parser did not reach are absent rather than stale, and can be checked whatever the result. */
static void check_msg(const struct sip_msg *m, const char *b, size_t n)
{
	FUZZ_CHECK(m->buf.p == b && m->buf.len == n, "msg.buf is the input");
	FUZZ_CHECK(m->nvia <= SIP_MAX_VIAS && m->ncontact <= SIP_MAX_CONTACTS &&
			   m->nroute <= SIP_MAX_ROUTES && m->nrecord_route <= SIP_MAX_ROUTES &&
			   m->npath <= SIP_MAX_ROUTES && m->nauth <= SIP_MAX_AUTH &&
			   m->nhdr <= SIP_MAX_HEADERS,
		   "counts within limits");
	fuzz_check_view(m->err_hdr, b, n, "err_hdr");
	fuzz_check_view(m->method, b, n, "method");
	fuzz_check_view(m->reason, b, n, "reason");
	fuzz_check_view(m->call_id, b, n, "call_id");
	fuzz_check_view(m->cseq_method, b, n, "cseq_method");
	fuzz_check_view(m->content_type, b, n, "content_type");
	fuzz_check_view(m->user_agent, b, n, "user_agent");
	fuzz_check_view(m->date, b, n, "date");
	fuzz_check_view(m->body, b, n, "body");
	fuzz_check_uri(&m->ruri, b, n);
	check_addr(&m->from, b, n);
	check_addr(&m->to, b, n);
	check_tags(&m->supported, b, n);
	check_tags(&m->require, b, n);
	check_tags(&m->proxy_require, b, n);
	for (unsigned i = 0; i < m->nvia; i++) {
		check_via(&m->via[i], b, n);
	}
	for (unsigned i = 0; i < m->ncontact; i++) {
		check_addr(&m->contact[i].addr, b, n);
		fuzz_check_view(m->contact[i].instance, b, n, "contact.instance");
		fuzz_check_view(m->contact[i].reg_id, b, n, "contact.reg_id");
	}
	for (unsigned i = 0; i < m->nroute; i++) {
		check_addr(&m->route[i], b, n);
	}
	for (unsigned i = 0; i < m->nrecord_route; i++) {
		check_addr(&m->record_route[i], b, n);
	}
	for (unsigned i = 0; i < m->npath; i++) {
		check_addr(&m->path[i], b, n);
	}
	for (unsigned i = 0; i < m->nauth; i++) {
		check_auth(&m->auth[i], b, n);
	}
	for (unsigned i = 0; i < m->nhdr; i++) {
		fuzz_check_view(m->hdrs[i].name, b, n, "hdr.name");
		fuzz_check_view(m->hdrs[i].value, b, n, "hdr.value");
	}
}

/* Canonical AOR of @p u, into a buffer with a guard: the result must fit the capacity given. */
static void aor_of(const struct sip_uri *u)
{
	char out[SIP_AOR_MAX + GUARD];
	size_t len = 0;
	memset(out + SIP_AOR_MAX, GUARD_BYTE, GUARD);
	if (sip_aor_canon(u, out, SIP_AOR_MAX, &len) == LC_OK) {
		FUZZ_CHECK(len <= SIP_AOR_MAX, "aor length within cap");
	}
	for (size_t i = SIP_AOR_MAX; i < sizeof(out); i++) {
		FUZZ_CHECK((unsigned char)out[i] == GUARD_BYTE, "aor wrote past cap");
	}
	/* a tiny buffer takes the LC_ENOSPACE paths */
	char tiny[8 + GUARD];
	memset(tiny + 8, GUARD_BYTE, GUARD);
	if (sip_aor_canon(u, tiny, 8, &len) == LC_OK) {
		FUZZ_CHECK(len <= 8, "aor length within tiny cap");
	}
	for (size_t i = 8; i < sizeof(tiny); i++) {
		FUZZ_CHECK((unsigned char)tiny[i] == GUARD_BYTE, "aor wrote past tiny cap");
	}
}

static void check_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	bool ab = sip_uri_equal(a, b), ba = sip_uri_equal(b, a);
	FUZZ_CHECK(ab == ba, "sip_uri_equal is symmetric");
	if (a->scheme_id != SIP_SCHEME_OTHER) {
		FUZZ_CHECK(sip_uri_equal(a, a), "sip_uri_equal is reflexive");
	}
}

/* The calls the dataplane makes for one reply; the same sequence for every buffer size. */
static int build(char *buf, size_t cap, const struct sip_msg *m, unsigned code,
		 const struct sip_peer *peer, size_t *len)
{
	struct sip_resp r;
	sip_resp_init(&r, buf, cap);
	/* as the dataplane does: a To tag from the request's identity (a PRF there, its raw
	 * layout here; the builder only copies the digits) */
	uint8_t head[SIP_RESP_TAG_HEAD];
	struct sip_str part[3];
	sip_resp_tag_input(m, head, part);
	uint64_t v = 0;
	for (unsigned i = 0; i < sizeof(head); i++) {
		v = v * 31 + head[i];
	}
	char tag[SIP_RESP_TAG_LEN];
	sip_resp_tag_text(v, tag);
	sip_resp_start(&r, m, code, code == 200 ? NULL : lc_strerror(m->err), peer, tag);
	if (code == 200) {
		for (unsigned i = 0; i < m->ncontact; i++) {
			const struct sip_contact *c = &m->contact[i];
			sip_resp_contact(&r, c->addr.uri.raw, c->q, c->expires, c->instance,
					 c->reg_id);
		}
		sip_resp_min_expires(&r, 60);
		sip_resp_allow(&r, "REGISTER, OPTIONS");
		sip_resp_supported(&r, "path, outbound, gruu");
		sip_resp_server(&r, "locus-fuzz");
		sip_resp_date(&r, 1700000000);
	}
	sip_resp_retry_after(&r, 5);
	return sip_resp_finish(&r, len);
}

static void check_reply(const struct sip_msg *m, const uint8_t *data, size_t size)
{
	struct sip_peer peer;
	const uint8_t v4[4] = {192, 0, 2, 1};
	FUZZ_CHECK(sip_peer_set(&peer, AF_INET, v4, 5060) == LC_OK, "sip_peer_set");
	(void)sip_resp_port(m, &peer);
	unsigned code = m->err == LC_OK ? 200 : sip_msg_error_status(m);
	FUZZ_CHECK(code >= 100 && code <= 699, "error status in range");

	size_t big_len = 0;
	int ret = build(big, sizeof(big), m, code, &peer, &big_len);
	/* a copied field that would grow past SIP_MAX_HEADER_LEN (e.g. a To of nearly 8 KiB plus the
	 * tag) is refused: the only answer a server cannot send */
	if (ret == LC_ESIP_LINE_TOO_LONG) {
		return;
	}
	FUZZ_CHECK(ret == LC_OK, "a request that can be answered gets an answer");
	FUZZ_CHECK(big_len <= sizeof(big), "response length within cap");

	/* the response we send must itself be a well-formed SIP response */
	memset(&resp_msg, 0, sizeof(resp_msg));
	int resp_err = sip_parse(&resp_msg, big, big_len);
	/* a CSeq number out of range is echoed as sent, so only that error may come back */
	bool cseq_echo = (m->bad & (1u << SIP_HDR_CSEQ)) != 0;
	FUZZ_CHECK(resp_err == LC_OK || (cseq_echo && resp_err == LC_ESIP_CSEQ),
		   "our response parses");
	FUZZ_CHECK(!resp_msg.is_request && resp_msg.status == code, "response status");
	FUZZ_CHECK(resp_msg.nvia == m->nvia, "response keeps every Via");
	FUZZ_CHECK(resp_msg.call_id.len == m->call_id.len &&
			   memcmp(resp_msg.call_id.p, m->call_id.p, m->call_id.len) == 0,
		   "response keeps the Call-ID");
	check_msg(&resp_msg, big, big_len);

	/* same calls into a small buffer: no write past cap, and no result other than all or error */
	size_t cap =
		size == 0 ? 0 : (data[0] | (size_t)data[size - 1] << 8) % (sizeof(small) - GUARD);
	size_t small_len = 0;
	memset(small, 0, cap);
	memset(small + cap, GUARD_BYTE, GUARD);
	ret = build(small, cap, m, code, &peer, &small_len);
	for (size_t i = cap; i < cap + GUARD; i++) {
		FUZZ_CHECK((unsigned char)small[i] == GUARD_BYTE, "builder wrote past cap");
	}
	if (ret == LC_OK) {
		FUZZ_CHECK(small_len == big_len && memcmp(small, big, big_len) == 0,
			   "same calls give the same bytes");
	} else {
		FUZZ_CHECK(ret == LC_ENOSPACE && big_len > cap,
			   "only LC_ENOSPACE, and only when short");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b = (const char *)data;
	memset(&msg, 0, sizeof(msg));
	int ret = sip_parse(&msg, b, size);
	FUZZ_CHECK(ret == msg.err, "return value is msg.err");
	FUZZ_CHECK(ret <= 0, "LC_OK or a negative code");
	(void)lc_strerror(ret);
	check_msg(&msg, b, size);

	bool can_reply = sip_msg_can_reply(&msg);
	if (ret == LC_OK || can_reply) {
		/* accessors over whatever parsed */
		(void)sip_msg_header(&msg, SIP_HDR_CONTACT);
		(void)sip_msg_header_by_name(&msg, "Subject");
		(void)sip_tags_has(&msg.supported, "outbound");
		(void)sip_tags_has(&msg.require, "path");
		struct sip_str v;
		(void)sip_param_get(msg.to.params, "tag", &v);
		(void)sip_param_get(msg.ruri.params, "transport", &v);

		/* From and To parsed in both cases; the rest only promises views when LC_OK */
		aor_of(&msg.to.uri);
		aor_of(&msg.from.uri);
		check_equal(&msg.to.uri, &msg.from.uri);
	}
	if (ret == LC_OK) {
		if (msg.is_request) {
			aor_of(&msg.ruri);
			check_equal(&msg.ruri, &msg.to.uri);
		}
		for (unsigned i = 0; i < msg.ncontact; i++) {
			aor_of(&msg.contact[i].addr.uri);
			check_equal(&msg.contact[i].addr.uri, &msg.to.uri);
		}
		if (msg.ruri.user.p != NULL) {
			char tmp[64];
			long n = sip_unescape(msg.ruri.user, tmp, sizeof(tmp));
			FUZZ_CHECK(n >= -1 && n <= (long)sizeof(tmp), "sip_unescape length");
		}
	}
	if (can_reply) {
		check_reply(&msg, data, size);
	}
	return 0;
}
