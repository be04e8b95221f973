/* SPDX-License-Identifier: MIT */
/*
 * The message parser's top level (RFC 3261 §7, §18.3): start line, header section framing, body
 * extent, and the checks that need the whole message (required fields, CSeq method).
 *
 * How it works: one pass over the datagram. Each header field is found with memchr for the line
 * end; a line starting with SP or HTAB continues the field (folding), so the value view may hold
 * CRLF+WSP, which every value parser treats as whitespace. The name is mapped to an id (by a
 * hash of names shorter than 16 bytes, see field_name()) and the value handed to that field's
 * parser. A broken field records the first error and parsing goes
 * on, so the caller can still answer 400 when Via, From, To, Call-ID and CSeq are intact;
 * framing errors (no end of headers, limits) stop at once. Every loop advances by at least one
 * byte per iteration and no byte is scanned more than a constant number of times, so any input
 * costs linear time.
 */
#include "common/lc_error.h"
#include "sipparse/sip_internal.h"
#include "sipparse/sip_lex.h"
#include "sipparse/sip_scan.h"

static const char *const method_names[SIP_METHOD_COUNT_] = {
	[SIP_METHOD_UNKNOWN] = "",	  [SIP_METHOD_INVITE] = "INVITE",
	[SIP_METHOD_ACK] = "ACK",	  [SIP_METHOD_BYE] = "BYE",
	[SIP_METHOD_CANCEL] = "CANCEL",	  [SIP_METHOD_REGISTER] = "REGISTER",
	[SIP_METHOD_OPTIONS] = "OPTIONS", [SIP_METHOD_INFO] = "INFO",
	[SIP_METHOD_PRACK] = "PRACK",	  [SIP_METHOD_SUBSCRIBE] = "SUBSCRIBE",
	[SIP_METHOD_NOTIFY] = "NOTIFY",	  [SIP_METHOD_UPDATE] = "UPDATE",
	[SIP_METHOD_MESSAGE] = "MESSAGE", [SIP_METHOD_REFER] = "REFER",
	[SIP_METHOD_PUBLISH] = "PUBLISH",
};

/* The length picks the one to four names it can be; each compare is a word or two. */
enum sip_method sip_method_lookup(const char *p, size_t len)
{
#define IS(lit, id)                                                                                \
	do {                                                                                       \
		if (memcmp(p, lit, sizeof(lit) - 1) == 0) {                                        \
			return (id);                                                               \
		}                                                                                  \
	} while (0)
	switch (len) {
	case 3:
		IS("ACK", SIP_METHOD_ACK);
		IS("BYE", SIP_METHOD_BYE);
		break;
	case 4:
		IS("INFO", SIP_METHOD_INFO);
		break;
	case 5:
		IS("PRACK", SIP_METHOD_PRACK);
		IS("REFER", SIP_METHOD_REFER);
		break;
	case 6:
		IS("INVITE", SIP_METHOD_INVITE);
		IS("CANCEL", SIP_METHOD_CANCEL);
		IS("NOTIFY", SIP_METHOD_NOTIFY);
		IS("UPDATE", SIP_METHOD_UPDATE);
		break;
	case 7:
		IS("OPTIONS", SIP_METHOD_OPTIONS);
		IS("MESSAGE", SIP_METHOD_MESSAGE);
		IS("PUBLISH", SIP_METHOD_PUBLISH);
		break;
	case 8:
		IS("REGISTER", SIP_METHOD_REGISTER);
		break;
	case 9:
		IS("SUBSCRIBE", SIP_METHOD_SUBSCRIBE);
		break;
	default:
		break;
	}
	return SIP_METHOD_UNKNOWN;
#undef IS
}

const char *sip_method_name(enum sip_method id)
{
	return (unsigned)id < SIP_METHOD_COUNT_ ? method_names[id] : "";
}

static void set_err(struct sip_msg *m, int err, struct sip_str hdr)
{
	if (m->err == LC_OK) {
		m->err = err;
		m->err_hdr = hdr;
	}
}

/* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT; 1 for SIP/2.0, 0 for another version, -1 junk. */
static int check_version(const char *p, const char *end)
{
	if (end - p < 5 || !SIP_LIT_IEQ(p, "sip/")) {
		return -1;
	}
	const char *q = p + 4;
	const char *d = sip_skip(q, end, SIP_C_DIGIT);
	if (d == q || d == end || *d != '.') {
		return -1;
	}
	q = sip_skip(d + 1, end, SIP_C_DIGIT);
	if (q == d + 1 || q != end) {
		return -1;
	}
	return (end - p == 7 && memcmp(p + 4, "2.0", 3) == 0) ? 1 : 0;
}

/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase */
static int parse_status_line(struct sip_msg *m, const char *p, const char *end)
{
	const char *sp = memchr(p, ' ', (size_t)(end - p));
	int v = check_version(p, sp ? sp : end);
	if (v <= 0) {
		return v == 0 ? LC_ESIP_VERSION : LC_ESIP_START_LINE;
	}
	if (sp == NULL) {
		return LC_ESIP_START_LINE; /* "SIP/2.0" alone: no status code */
	}
	const char *c = sp + 1;
	const char *ce = sip_skip(c, end, SIP_C_DIGIT);
	uint64_t code;
	if (ce - c != 3 || (ce < end && *ce != ' ') || sip_parse_uint(c, 3, 699, &code) != 0 ||
	    code < 100) {
		return LC_ESIP_STATUS;
	}
	m->status = (uint16_t)code;
	const char *r = ce < end ? ce + 1 : end;
	if (sip_skip(r, end, SIP_C_TEXT) != end) {
		return LC_ESIP_START_LINE;
	}
	m->reason = sip_str_make(r, (size_t)(end - r));
	return LC_OK;
}

/* Request-Line = Method SP Request-URI SP SIP-Version: exactly two SPs, nothing else. */
static int parse_request_line(struct sip_msg *m, const char *p, const char *end)
{
	const char *me = sip_skip(p, end, SIP_C_TOKEN);
	if (me == p || me == end || *me != ' ') {
		return (me < end && *me != ' ') ? LC_ESIP_METHOD : LC_ESIP_START_LINE;
	}
	m->method = sip_str_make(p, (size_t)(me - p));
	m->method_id = (uint8_t)sip_method_lookup(p, (size_t)(me - p));
	const char *u = me + 1;
	/*
	 * The usual line ends in " SIP/2.0" and its URI parses. A URI that parses holds no SP, so
	 * the SP before "SIP/2.0" is the first after the URI and the general path below would find
	 * the same parts; it runs only when this one does not apply, and then gives the error.
	 */
	if (end - u > 8 && end[-8] == ' ' && SIP_LIT_IEQ(end - 7, "sip/2.0") &&
	    sip_uri_parse_in(&m->ruri, u, (size_t)(end - 8 - u), m->buf.p + m->buf.len) == LC_OK &&
	    !sip_str_present(m->ruri.headers)) {
		return LC_OK;
	}
	m->ruri = (struct sip_uri){.port = 0}; /* as if the fast path had not run */
	const char *ue = memchr(u, ' ', (size_t)(end - u));
	if (ue == NULL || ue == u) {
		return LC_ESIP_START_LINE;
	}
	const char *ver = ue + 1;
	if (memchr(ver, ' ', (size_t)(end - ver)) != NULL ||
	    memchr(ver, '\t', (size_t)(end - ver))) {
		return LC_ESIP_START_LINE;
	}
	int v = check_version(ver, end);
	if (v <= 0) {
		return v == 0 ? LC_ESIP_VERSION : LC_ESIP_START_LINE;
	}
	/* RFC 3261 §19.1.1: a Request-URI has no headers component */
	if (sip_uri_parse_in(&m->ruri, u, (size_t)(ue - u), m->buf.p + m->buf.len) != LC_OK ||
	    sip_str_present(m->ruri.headers)) {
		return LC_ESIP_RURI;
	}
	return LC_OK;
}

/* The end of the field that starts at p: the LF of its last line, or NULL when unterminated. */
static const char *field_end(const char *p, const char *end)
{
	for (;;) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		if (lf == NULL || lf + 1 == end || (uint8_t)lf[1] > ' ' ||
		    (lf[1] != ' ' && lf[1] != '\t')) {
			return lf;
		}
		p = lf + 1;
	}
}

/*
 * The name of the field at p, whose last line ends at lf: sets *ne to its end and *colon to the
 * colon after it, and returns its id, or -1 (with *ne set) when the line has no valid name and
 * colon. The usual "Name:" of fewer than 16 bytes is settled by one vector compare for the
 * colon, a hash lookup for a known name and a token check for any other; the rest (longer
 * names, LWS before the colon, a stray byte) take the general path, which gives the same answer
 * for every name the first one settles.
 */
static inline __attribute__((always_inline)) int
field_name(const char *p, const char *lf, const char *end, const char **ne, const char **colon)
{
	if (end - p >= 16) {
		size_t n = sip_colon16(p);
		if (n - 1 < 15 && p + n < lf) {
			int id = sip_hdr_lookup(p, n);
			if (id >= 0 || sip_skip(p, p + n, SIP_C_TOKEN) == p + n) {
				*ne = *colon = p + n;
				return id >= 0 ? id : SIP_HDR_OTHER;
			}
		}
	}
	size_t nlen;
	enum sip_hdr_id id = sip_hdr_match(p, lf, &nlen);
	*ne = nlen ? p + nlen : sip_skip(p, lf, SIP_C_TOKEN);
	*colon = sip_skip(*ne, lf, SIP_C_WS);
	if (*ne == p || *colon == lf || **colon != ':') {
		return -1;
	}
	return (int)id;
}

/* One header field at p; returns the start of the next line, or NULL on a framing error. */
static const char *parse_field(struct sip_msg *m, const char *p, const char *end)
{
	const char *lf = field_end(p, end);
	if (lf == NULL) {
		set_err(m, LC_ESIP_NO_END, SIP_STR_NULL);
		return NULL;
	}
	if (lf - p >= SIP_MAX_HEADER_LEN) {
		set_err(m, LC_ESIP_LINE_TOO_LONG, SIP_STR_NULL);
		return NULL;
	}
	if (m->nhdr == SIP_MAX_HEADERS) {
		set_err(m, LC_ESIP_TOO_MANY_HEADERS, SIP_STR_NULL);
		return NULL;
	}
	const char *ne, *colon;
	int id = field_name(p, lf, end, &ne, &colon);
	if (id < 0) {
		set_err(m, LC_ESIP_HDR_NAME, sip_str_make(p, (size_t)(ne - p)));
		return lf + 1;
	}
	struct sip_str name = sip_str_make(p, (size_t)(ne - p));
	const char *v = colon + 1;
	v = sip_skip_lws(v + (v < lf && *v == ' '), lf);
	const char *ve =
		sip_rtrim(v, lf[-1] == '\r' ? lf - 1 : lf); /* lf - 1 is the colon at least */
	struct sip_hdr *h = &m->hdrs[m->nhdr++];
	h->name = name;
	h->value = sip_str_make(v, (size_t)(ve - v));
	h->id = (uint8_t)id;
	if (h->id != SIP_HDR_OTHER) {
		int r = sip_hdr_parse(m, (enum sip_hdr_id)h->id, v, ve);
		if (r != LC_OK) {
			m->bad |= 1u << h->id;
			set_err(m, r, name);
		}
	}
	return lf + 1;
}

static void check_required(struct sip_msg *m)
{
	static const struct {
		uint8_t id;
		int err;
	} required[] = {
		{SIP_HDR_VIA, LC_ESIP_MISSING_VIA},   {SIP_HDR_FROM, LC_ESIP_MISSING_FROM},
		{SIP_HDR_TO, LC_ESIP_MISSING_TO},     {SIP_HDR_CALL_ID, LC_ESIP_MISSING_CALL_ID},
		{SIP_HDR_CSEQ, LC_ESIP_MISSING_CSEQ},
	};
	for (size_t i = 0; i < LC_ARRAY_SIZE(required); i++) {
		if (!(m->seen & (1u << required[i].id))) {
			set_err(m, required[i].err, SIP_STR_NULL);
		}
	}
	/* the same known method id is the same text; only other methods need a compare */
	if (m->is_request && (m->seen & (1u << SIP_HDR_CSEQ)) && m->method.p != NULL &&
	    !(m->bad & (1u << SIP_HDR_CSEQ)) &&
	    (m->cseq_method_id != m->method_id || m->method_id == SIP_METHOD_UNKNOWN) &&
	    (m->cseq_method.len != m->method.len ||
	     memcmp(m->cseq_method.p, m->method.p, m->method.len) != 0)) {
		set_err(m, LC_ESIP_CSEQ_METHOD, SIP_STR_NULL);
	}
	/* a bare "z9hG4bK" carries no identifier (RFC 4475 §3.2.1) */
	if (m->nvia > 0 &&
	    (m->via[0].branch.len <= 7 || memcmp(m->via[0].branch.p, "z9hG4bK", 7) != 0)) {
		m->flags |= SIP_F_BRANCH_NOT_3261;
	}
}

/* RFC 3261 §18.3: over UDP the body is Content-Length bytes; the rest of the datagram is dropped. */
static void set_body(struct sip_msg *m, const char *p, const char *end)
{
	size_t rest = (size_t)(end - p);
	if (m->content_length < 0) {
		m->flags |= SIP_F_NO_CONTENT_LENGTH;
		m->body = sip_str_make(p, rest);
	} else if ((uint64_t)m->content_length > rest) {
		set_err(m, LC_ESIP_BODY_SHORT, SIP_STR_NULL);
		m->body = sip_str_make(p, rest);
	} else {
		if ((uint64_t)m->content_length < rest) {
			m->flags |= SIP_F_TRAILING_BYTES;
		}
		m->body = sip_str_make(p, (size_t)m->content_length);
	}
}

static void msg_reset(struct sip_msg *m, const char *buf, size_t len)
{
	/* Only scalars and counts: arrays are written before they are counted. */
	memset(m, 0, offsetof(struct sip_msg, supported));
	m->buf = sip_str_make(buf, len);
	m->max_forwards = -1;
	m->expires = -1;
	m->min_expires = -1;
	m->content_length = -1;
	m->supported.n = 0;
	m->require.n = 0;
	m->proxy_require.n = 0;
	m->body = SIP_STR_NULL;
}

int sip_parse(struct sip_msg *m, const char *buf, size_t len)
{
	const char *p = buf;
	const char *end = buf + len;
	msg_reset(m, buf, len);
	if (len > SIP_MAX_MSG_LEN) {
		return m->err = LC_ESIP_TOO_BIG;
	}
	/* RFC 3261 §7.5: CRLFs before the start line are ignored */
	while (p < end && (*p == '\r' || *p == '\n')) {
		p++;
	}
	if (p == end) {
		return m->err = LC_ESIP_EMPTY;
	}
	const char *lf = memchr(p, '\n', (size_t)(end - p));
	if (lf == NULL) {
		return m->err = LC_ESIP_NO_END;
	}
	const char *le = (lf > p && lf[-1] == '\r') ? lf - 1 : lf;
	m->is_request = !(le - p >= 4 && SIP_LIT_IEQ(p, "sip/")); /* §7.1: any case */
	int r = m->is_request ? parse_request_line(m, p, le) : parse_status_line(m, p, le);
	if (r != LC_OK) {
		set_err(m, r, SIP_STR_NULL);
		if (!m->is_request) {
			return r; /* nothing to answer: a broken response is only dropped */
		}
	}
	for (p = lf + 1;;) {
		if (p == end) {
			set_err(m, LC_ESIP_NO_END, SIP_STR_NULL);
			return m->err;
		}
		/* a field starts with a name; CR, LF, SP and HTAB are all below '!' */
		if ((uint8_t)*p <= ' ') {
			if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
				p += (*p == '\n') ? 1 : 2;
				break;
			}
			if (*p == ' ' || *p == '\t') {
				/* folding the start line */
				set_err(m, LC_ESIP_HDR_NAME, SIP_STR_NULL);
				return m->err;
			}
		}
		p = parse_field(m, p, end);
		if (p == NULL) {
			return m->err;
		}
	}
	check_required(m);
	if (!m->is_request) {
		m->method = m->cseq_method;
		m->method_id = m->cseq_method_id;
	}
	set_body(m, p, end);
	return m->err;
}

bool sip_msg_can_reply(const struct sip_msg *m)
{
	const uint32_t need = (1u << SIP_HDR_VIA) | (1u << SIP_HDR_FROM) | (1u << SIP_HDR_TO) |
			      (1u << SIP_HDR_CALL_ID) | (1u << SIP_HDR_CSEQ);
	uint32_t bad = m->bad;
	if (sip_str_present(m->cseq_raw)) {
		bad &= ~(1u << SIP_HDR_CSEQ); /* a number out of range is echoed as written */
	}
	return m->is_request && (m->seen & need) == need && (bad & need) == 0 && m->nvia > 0 &&
	       m->err != LC_ESIP_TOO_BIG && m->err != LC_ESIP_NO_END &&
	       m->err != LC_ESIP_LINE_TOO_LONG && m->err != LC_ESIP_TOO_MANY_HEADERS &&
	       m->err != LC_ESIP_EMPTY;
}

unsigned sip_msg_error_status(const struct sip_msg *m)
{
	switch (m->err) {
	case LC_ESIP_VERSION:
		return 505;
	case LC_ESIP_TOO_BIG:
		return 413;
	default:
		return 400;
	}
}
