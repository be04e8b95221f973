/* SPDX-License-Identifier: MIT */
/*
 * The response builder (see sip_resp.h for the calling sequence). Every append goes through
 * put(), which checks the space left and latches the first error; nothing is ever written past
 * r->cap. The top Via is rewritten per RFC 3261 §18.2.1 and RFC 3581 §4: any received= or rport
 * the request carried is cut out and fresh ones are appended from the packet's real source.
 */
#include "sipparse/sip_resp.h"

#include <arpa/inet.h>

#include "common/lc_error.h"
#include "sipparse/sip_internal.h"
#include "sipparse/sip_lex.h"

enum { ST_INIT, ST_HEADERS, ST_DONE };

/* Dotted-quad text of @p a into @p out (at least 16 bytes); its length. inet_ntop does the same
 * through glibc's printf machinery, about 1,500 instructions per response (the pipeline
 * benchmark's profile); this is the common case of every response to an IPv4 UA. */
static size_t ipv4_text(const uint8_t a[4], char *out)
{
	size_t n = 0;
	for (unsigned i = 0; i < 4; i++) {
		unsigned v = a[i];
		if (v >= 100) {
			out[n++] = (char)('0' + v / 100);
		}
		if (v >= 10) {
			out[n++] = (char)('0' + v / 10 % 10);
		}
		out[n++] = (char)('0' + v % 10);
		out[n++] = '.';
	}
	out[--n] = '\0';
	return n;
}

int sip_peer_set(struct sip_peer *peer, int family, const void *addr, uint16_t port)
{
	if (family == AF_INET) {
		peer->ip_len = (uint8_t)ipv4_text(addr, peer->ip);
	} else if (family == AF_INET6 &&
		   inet_ntop(family, addr, peer->ip, sizeof(peer->ip)) != NULL) {
		peer->ip_len = (uint8_t)strlen(peer->ip);
	} else {
		return LC_EINVAL;
	}
	peer->v6 = family == AF_INET6;
	peer->port = port;
	return LC_OK;
}

uint16_t sip_resp_port(const struct sip_msg *req, const struct sip_peer *src)
{
	if (req->nvia == 0) {
		return src->port;
	}
	const struct sip_via *v = &req->via[0];
	if (v->has_rport) {
		return src->port;
	}
	return v->port ? v->port : 5060;
}

const char *sip_reason_phrase(unsigned code)
{
	switch (code) {
	case 100:
		return "Trying";
	case 200:
		return "OK";
	case 302:
		return "Moved Temporarily";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 413:
		return "Request Entity Too Large";
	case 415:
		return "Unsupported Media Type";
	case 416:
		return "Unsupported URI Scheme";
	case 420:
		return "Bad Extension";
	case 423:
		return "Interval Too Brief";
	case 480:
		return "Temporarily Unavailable";
	case 481:
		return "Call/Transaction Does Not Exist";
	case 482:
		return "Loop Detected";
	case 483:
		return "Too Many Hops";
	case 500:
		return "Server Internal Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Server Time-out";
	case 505:
		return "Version Not Supported";
	case 513:
		return "Message Too Large";
	default:
		return "";
	}
}

static void put(struct sip_resp *r, const char *s, size_t n)
{
	if (r->err != LC_OK || n == 0) {
		return; /* n == 0: s may be NULL, and memcpy from NULL is undefined even for 0 */
	}
	if (n > r->cap - r->len) {
		r->err = LC_ENOSPACE;
		return;
	}
	memcpy(r->buf + r->len, s, n);
	r->len += (uint32_t)n;
}

/*
 * End a header line that began at @p start. A copied field grows in the response (a To tag, a
 * long name for a compact one, received= and rport= in the top Via), so a field the parser just
 * accepted could come out longer than the parser accepts; the builder refuses that line instead
 * of sending a response no SIP parser, ours included, would take (SIP_MAX_HEADER_LEN counts the
 * line with its CR, as sip_parse() does).
 */
static void end_line(struct sip_resp *r, uint32_t start)
{
	if (r->err == LC_OK && r->len - start + 1 >= SIP_MAX_HEADER_LEN) {
		r->err = LC_ESIP_LINE_TOO_LONG;
		return;
	}
	put(r, "\r\n", 2);
}

static void put_str(struct sip_resp *r, struct sip_str s)
{
	put(r, s.p, s.len);
}

static void put_cstr(struct sip_resp *r, const char *s)
{
	put(r, s, strlen(s));
}

static void put_uint(struct sip_resp *r, uint64_t v)
{
	char tmp[SIP_FMT_UINT_MAX];
	put(r, tmp, sip_fmt_uint(tmp, v));
}

/* A header may only be added between start and finish. */
static bool in_headers(struct sip_resp *r)
{
	if (r->err == LC_OK && r->state != ST_HEADERS) {
		r->err = LC_ESIP_RESP_STATE;
	}
	return r->err == LC_OK;
}

void sip_resp_init(struct sip_resp *r, char *buf, size_t cap)
{
	r->buf = buf;
	r->cap = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
	r->len = 0;
	r->err = LC_OK;
	r->state = ST_INIT;
}

/* Whether the sent-by host is the literal address the packet came from (RFC 3261 §18.2.1). */
static bool sent_by_is_source(const struct sip_via *v, const struct sip_peer *src)
{
	if (v->host_type == SIP_HOST_IPV4 && !src->v6) {
		return v->host.len == src->ip_len && memcmp(v->host.p, src->ip, src->ip_len) == 0;
	}
	if (v->host_type == SIP_HOST_IPV6 && src->v6 && v->host.len - 2 < 46) {
		char tmp[46];
		struct in6_addr a, b;
		memcpy(tmp, v->host.p + 1, v->host.len - 2);
		tmp[v->host.len - 2] = '\0';
		return inet_pton(AF_INET6, tmp, &a) == 1 && inet_pton(AF_INET6, src->ip, &b) == 1 &&
		       memcmp(&a, &b, sizeof(a)) == 0;
	}
	return false;
}

/* The raw via-parm without the spans of its own received= and rport, in order. */
static void put_via_without(struct sip_resp *r, const struct sip_via *v)
{
	struct sip_str cut[2] = {v->received_span, v->rport_span};
	if (cut[0].p == NULL || (cut[1].p != NULL && cut[1].p < cut[0].p)) {
		struct sip_str t = cut[0];
		cut[0] = cut[1];
		cut[1] = t;
	}
	const char *p = v->raw.p;
	for (int i = 0; i < 2; i++) {
		if (cut[i].p != NULL) {
			put(r, p, (size_t)(cut[i].p - p));
			p = cut[i].p + cut[i].len;
		}
	}
	put(r, p, (size_t)(v->raw.p + v->raw.len - p));
}

static void put_top_via(struct sip_resp *r, const struct sip_via *v, const struct sip_peer *src)
{
	uint32_t start = r->len;
	put(r, "Via: ", 5);
	put_via_without(r, v);
	/* RFC 3581 §4: with rport, received= is added even when it equals sent-by */
	if (v->has_rport || !sent_by_is_source(v, src)) {
		put(r, ";received=", 10);
		put(r, src->ip, src->ip_len);
	}
	if (v->has_rport) {
		put(r, ";rport=", 7);
		put_uint(r, src->port);
	}
	end_line(r, start);
}

void sip_resp_tag_input(const struct sip_msg *req, uint8_t head[SIP_RESP_TAG_HEAD],
			struct sip_str part[3])
{
	part[0] = req->call_id;
	part[1] = req->from.tag;
	part[2] = req->nvia ? req->via[0].branch : SIP_STR_NULL;
	/* every field is part of one datagram (at most 65535 bytes), so a length fits in 16 bits */
	for (unsigned i = 0; i < 3; i++) {
		head[2 * i] = (uint8_t)part[i].len;
		head[2 * i + 1] = (uint8_t)(part[i].len >> 8);
	}
	for (unsigned i = 0; i < 4; i++) {
		head[6 + i] = (uint8_t)(req->cseq >> (8 * i));
	}
}

void sip_resp_tag_text(uint64_t v, char out[SIP_RESP_TAG_LEN])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = SIP_RESP_TAG_LEN - 1; i >= 0; i--, v >>= 4) {
		out[i] = hex[v & 15];
	}
}

bool sip_resp_wants_tag(const struct sip_msg *req, unsigned code)
{
	return !sip_str_present(req->to.tag) && code > 100;
}

/* Whether @p tag is SIP_RESP_TAG_LEN lower-case hex digits (what sip_resp_tag_text writes). */
static bool tag_ok(const char *tag)
{
	if (tag == NULL) {
		return false;
	}
	for (unsigned i = 0; i < SIP_RESP_TAG_LEN; i++) {
		char c = tag[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			return false;
		}
	}
	return true;
}

void sip_resp_start(struct sip_resp *r, const struct sip_msg *req, unsigned code,
		    const char *reason, const struct sip_peer *src, const char *to_tag)
{
	if (r->err == LC_OK && (r->state != ST_INIT || !sip_msg_can_reply(req))) {
		r->err = LC_ESIP_RESP_STATE;
	}
	if (r->err == LC_OK && (code < 100 || code > 699 || (reason && strpbrk(reason, "\r\n")))) {
		r->err = LC_EINVAL;
	}
	bool tagged = r->err == LC_OK && sip_resp_wants_tag(req, code);
	if (tagged && !tag_ok(to_tag)) {
		r->err = LC_EINVAL;
	}
	if (r->err != LC_OK) {
		return;
	}
	r->state = ST_HEADERS;
	put(r, "SIP/2.0 ", 8);
	put_uint(r, code);
	put(r, " ", 1);
	put_cstr(r, reason ? reason : sip_reason_phrase(code));
	put(r, "\r\n", 2);
	put_top_via(r, &req->via[0], src);
	for (unsigned i = 1; i < req->nvia; i++) {
		uint32_t start = r->len;
		put(r, "Via: ", 5);
		put_str(r, req->via[i].raw);
		end_line(r, start);
	}
	uint32_t start = r->len;
	put(r, "From: ", 6);
	put_str(r, req->from.raw);
	end_line(r, start);
	start = r->len;
	put(r, "To: ", 4);
	put_str(r, req->to.raw);
	if (tagged) {
		put(r, ";tag=", 5);
		put(r, to_tag, SIP_RESP_TAG_LEN);
	}
	end_line(r, start);
	start = r->len;
	put(r, "Call-ID: ", 9);
	put_str(r, req->call_id);
	end_line(r, start);
	start = r->len;
	put(r, "CSeq: ", 6);
	if (req->bad & (1u << SIP_HDR_CSEQ)) {
		put_str(r, req->cseq_raw); /* a 400 for an out-of-range number echoes it as sent */
	} else {
		put_uint(r, req->cseq);
		put(r, " ", 1);
		put_str(r, req->cseq_method);
	}
	end_line(r, start);
}

void sip_resp_contact(struct sip_resp *r, struct sip_str uri, int q, int64_t expires_s,
		      struct sip_str instance, struct sip_str reg_id)
{
	if (!in_headers(r)) {
		return;
	}
	uint32_t start = r->len;
	put(r, "Contact: <", 10);
	put_str(r, uri);
	put(r, ">", 1);
	if (q >= 0) {
		/* q in thousandths, written as RFC 3261's examples do: "1", "0.7", "0.005" */
		q = LC_MIN(q, 1000);
		char tmp[8] = {';',
			       'q',
			       '=',
			       (char)('0' + q / 1000),
			       '.',
			       (char)('0' + q / 100 % 10),
			       (char)('0' + q / 10 % 10),
			       (char)('0' + q % 10)};
		size_t n = 8;
		while (n > 5 && tmp[n - 1] == '0') {
			n--;
		}
		if (tmp[n - 1] == '.') {
			n--;
		}
		put(r, tmp, n);
	}
	if (expires_s >= 0) {
		put(r, ";expires=", 9);
		put_uint(r, (uint64_t)expires_s);
	}
	if (sip_str_present(instance)) {
		put(r, ";+sip.instance=", 15);
		put_str(r, instance);
	}
	if (sip_str_present(reg_id)) {
		put(r, ";reg-id=", 8);
		put_str(r, reg_id);
	}
	end_line(r, start);
}

static void header_uint(struct sip_resp *r, const char *name, uint64_t v)
{
	if (!in_headers(r)) {
		return;
	}
	put_cstr(r, name);
	put(r, ": ", 2);
	put_uint(r, v);
	put(r, "\r\n", 2);
}

void sip_resp_min_expires(struct sip_resp *r, uint32_t seconds)
{
	header_uint(r, "Min-Expires", seconds);
}

void sip_resp_retry_after(struct sip_resp *r, uint32_t seconds)
{
	header_uint(r, "Retry-After", seconds);
}

static bool has_crlf(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\r' || p[i] == '\n') {
			return true;
		}
	}
	return false;
}

/* "name: value" CRLF, for a name of this file (a literal, so its length is known and it needs no
 * check); @p checked: the value is ours (a formatted date), else it is checked for CR and LF. */
static void put_header(struct sip_resp *r, const char *name, size_t name_len, const char *value,
		       size_t value_len, bool checked)
{
	if (!in_headers(r)) {
		return;
	}
	if (!checked && has_crlf(value, value_len)) {
		r->err = LC_EINVAL;
		return;
	}
	put(r, name, name_len);
	put(r, ": ", 2);
	put(r, value, value_len);
	put(r, "\r\n", 2);
}

#define PUT_HEADER(r, lit, value, len, checked)                                                    \
	put_header(r, lit, sizeof(lit) - 1, value, len, checked)

void sip_resp_header(struct sip_resp *r, const char *name, struct sip_str value)
{
	if (in_headers(r) && (strpbrk(name, "\r\n:") != NULL)) {
		r->err = LC_EINVAL;
		return;
	}
	put_header(r, name, strlen(name), value.p, value.len, false);
}

void sip_resp_allow(struct sip_resp *r, const char *methods)
{
	PUT_HEADER(r, "Allow", methods, strlen(methods), false);
}

void sip_resp_supported(struct sip_resp *r, const char *tags)
{
	PUT_HEADER(r, "Supported", tags, strlen(tags), false);
}

void sip_resp_server(struct sip_resp *r, const char *product)
{
	PUT_HEADER(r, "Server", product, strlen(product), false);
}

void sip_resp_date(struct sip_resp *r, time_t now)
{
	char tmp[SIP_DATE_LEN + 1];
	size_t n = sip_date_format(now, tmp);
	if (n == 0) {
		if (r->err == LC_OK) {
			r->err = LC_EINVAL;
		}
		return;
	}
	PUT_HEADER(r, "Date", tmp, n, true); /* the format writes no CR or LF */
}

int sip_resp_finish(struct sip_resp *r, size_t *len)
{
	if (!in_headers(r)) {
		return r->err;
	}
	put(r, "Content-Length: 0\r\n\r\n", 21);
	if (r->err == LC_OK) {
		r->state = ST_DONE;
		*len = r->len;
	}
	return r->err;
}
