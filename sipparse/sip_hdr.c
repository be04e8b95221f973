/* SPDX-License-Identifier: MIT */
/*
 * Header field names and the parsers of the known header fields' values: one function per field
 * (or family of fields), each validating its value against RFC 3261 §25.1 and filling its part of
 * struct sip_msg. sip_hdr_parse() dispatches by id; the name table maps long and compact forms to
 * ids. Contact, credentials and Date live in sip_hdr_contact.c, sip_hdr_auth.c and sip_date.c.
 */
#include "common/lc_error.h"
#include "sipparse/sip_internal.h"
#include "sipparse/sip_lex.h"
#include "sipparse/sip_scan.h"

struct hdr_name {
	const char *name; /* lower case */
	uint8_t len;
	char compact; /* RFC 3261 §7.3.3 / RFC 3841 / RFC 3515 / RFC 4028 ...; 0 when none */
	uint8_t id;
};

/*
 * Every compact form is listed, also for fields parsed only as raw views (id SIP_HDR_OTHER).
 * sip_hdr_match() spells the names of the parsed fields out again as a switch, because it runs
 * for every header line; test_parse checks that both agree on every entry.
 */
static const struct hdr_name hdr_names[] = {
	{"via", 3, 'v', SIP_HDR_VIA},
	{"from", 4, 'f', SIP_HDR_FROM},
	{"to", 2, 't', SIP_HDR_TO},
	{"call-id", 7, 'i', SIP_HDR_CALL_ID},
	{"cseq", 4, 0, SIP_HDR_CSEQ},
	{"max-forwards", 12, 0, SIP_HDR_MAX_FORWARDS},
	{"contact", 7, 'm', SIP_HDR_CONTACT},
	{"expires", 7, 0, SIP_HDR_EXPIRES},
	{"min-expires", 11, 0, SIP_HDR_MIN_EXPIRES},
	{"content-length", 14, 'l', SIP_HDR_CONTENT_LENGTH},
	{"content-type", 12, 'c', SIP_HDR_CONTENT_TYPE},
	{"route", 5, 0, SIP_HDR_ROUTE},
	{"record-route", 12, 0, SIP_HDR_RECORD_ROUTE},
	{"path", 4, 0, SIP_HDR_PATH},
	{"supported", 9, 'k', SIP_HDR_SUPPORTED},
	{"require", 7, 0, SIP_HDR_REQUIRE},
	{"proxy-require", 13, 0, SIP_HDR_PROXY_REQUIRE},
	{"authorization", 13, 0, SIP_HDR_AUTHORIZATION},
	{"proxy-authorization", 19, 0, SIP_HDR_PROXY_AUTHORIZATION},
	{"user-agent", 10, 0, SIP_HDR_USER_AGENT},
	{"date", 4, 0, SIP_HDR_DATE},
	{"content-encoding", 16, 'e', SIP_HDR_OTHER},
	{"subject", 7, 's', SIP_HDR_OTHER},
	{"event", 5, 'o', SIP_HDR_OTHER},
	{"allow-events", 12, 'u', SIP_HDR_OTHER},
	{"refer-to", 8, 'r', SIP_HDR_OTHER},
	{"referred-by", 11, 'b', SIP_HDR_OTHER},
	{"session-expires", 15, 'x', SIP_HDR_OTHER},
	{"identity", 8, 'y', SIP_HDR_OTHER},
	{"accept-contact", 14, 'a', SIP_HDR_OTHER},
	{"reject-contact", 14, 'j', SIP_HDR_OTHER},
	{"request-disposition", 19, 'd', SIP_HDR_OTHER},
};

/*
 * The names sip_hdr_match() knows that are shorter than 16 bytes, in a table of 64 slots indexed
 * by SIP_HDR_HASH of the first and last letters and the length, which is collision-free for these
 * names (a collision would be two initializers for one slot, which -Woverride-init, part of
 * -Wextra, turns into a build error). test_parse checks that it agrees with sip_hdr_match().
 */
#define KEY(first, last, name, id)                                                                 \
	[SIP_HDR_HASH(first, last, sizeof(name) - 1)] = {name, sizeof(name) - 1, id}
const struct sip_hdr_key sip_hdr_keys[64] = {
	KEY('v', 'a', "via", SIP_HDR_VIA),
	KEY('v', 'v', "v", SIP_HDR_VIA),
	KEY('f', 'm', "from", SIP_HDR_FROM),
	KEY('f', 'f', "f", SIP_HDR_FROM),
	KEY('t', 'o', "to", SIP_HDR_TO),
	KEY('t', 't', "t", SIP_HDR_TO),
	KEY('c', 'q', "cseq", SIP_HDR_CSEQ),
	KEY('c', 'd', "call-id", SIP_HDR_CALL_ID),
	KEY('i', 'i', "i", SIP_HDR_CALL_ID),
	KEY('c', 't', "contact", SIP_HDR_CONTACT),
	KEY('m', 'm', "m", SIP_HDR_CONTACT),
	KEY('c', 'h', "content-length", SIP_HDR_CONTENT_LENGTH),
	KEY('l', 'l', "l", SIP_HDR_CONTENT_LENGTH),
	KEY('c', 'e', "content-type", SIP_HDR_CONTENT_TYPE),
	KEY('c', 'c', "c", SIP_HDR_CONTENT_TYPE),
	KEY('m', 's', "max-forwards", SIP_HDR_MAX_FORWARDS),
	KEY('m', 's', "min-expires", SIP_HDR_MIN_EXPIRES),
	KEY('e', 's', "expires", SIP_HDR_EXPIRES),
	KEY('r', 'e', "route", SIP_HDR_ROUTE),
	KEY('r', 'e', "record-route", SIP_HDR_RECORD_ROUTE),
	KEY('r', 'e', "require", SIP_HDR_REQUIRE),
	KEY('p', 'h', "path", SIP_HDR_PATH),
	KEY('p', 'e', "proxy-require", SIP_HDR_PROXY_REQUIRE),
	KEY('s', 'd', "supported", SIP_HDR_SUPPORTED),
	KEY('k', 'k', "k", SIP_HDR_SUPPORTED),
	KEY('a', 'n', "authorization", SIP_HDR_AUTHORIZATION),
	KEY('u', 't', "user-agent", SIP_HDR_USER_AGENT),
	KEY('d', 'e', "date", SIP_HDR_DATE),
};
#undef KEY

/* the shift counts are reduced mod 64 only so that the arm not taken is defined too */
#define MASK(n)                                                                                    \
	(n) >= 8 ? ~0ull : (1ull << ((8 * (n)) & 63)) - 1,                                         \
		(n) <= 8 ? 0 : (1ull << ((8 * ((n)-8)) & 63)) - 1
const uint64_t sip_hdr_len_mask[16][2] = {
	{MASK(0)},  {MASK(1)},	{MASK(2)},  {MASK(3)},	{MASK(4)},  {MASK(5)},
	{MASK(6)},  {MASK(7)},	{MASK(8)},  {MASK(9)},	{MASK(10)}, {MASK(11)},
	{MASK(12)}, {MASK(13)}, {MASK(14)}, {MASK(15)},
};
#undef MASK

/*
 * The hot path of every header line: the first letter picks the few names it can start, each is
 * compared in place case-insensitively, a word at a time (sip_lit_ieq), and must end where the
 * name ends. A match needs no separate token scan, so
 * the usual header costs one comparison; unknown names fall back to the token scan.
 */
enum sip_hdr_id sip_hdr_match(const char *p, const char *end, size_t *len)
{
#define TRY(lit, id)                                                                               \
	do {                                                                                       \
		size_t n_ = sizeof(lit) - 1;                                                       \
		if ((size_t)(end - p) >= n_ && sip_lit_ieq(p, (lit), n_) &&                        \
		    (p + n_ == end || !sip_is(p[n_], SIP_C_TOKEN))) {                              \
			*len = n_;                                                                 \
			return (id);                                                               \
		}                                                                                  \
	} while (0)
	switch (sip_lower(*p)) {
	case 'v':
		TRY("via", SIP_HDR_VIA);
		TRY("v", SIP_HDR_VIA);
		break;
	case 'f':
		TRY("from", SIP_HDR_FROM);
		TRY("f", SIP_HDR_FROM);
		break;
	case 't':
		TRY("to", SIP_HDR_TO);
		TRY("t", SIP_HDR_TO);
		break;
	case 'c':
		TRY("cseq", SIP_HDR_CSEQ);
		TRY("call-id", SIP_HDR_CALL_ID);
		TRY("contact", SIP_HDR_CONTACT);
		TRY("content-length", SIP_HDR_CONTENT_LENGTH);
		TRY("content-type", SIP_HDR_CONTENT_TYPE);
		TRY("c", SIP_HDR_CONTENT_TYPE);
		break;
	case 'm':
		TRY("max-forwards", SIP_HDR_MAX_FORWARDS);
		TRY("min-expires", SIP_HDR_MIN_EXPIRES);
		TRY("m", SIP_HDR_CONTACT);
		break;
	case 'e':
		TRY("expires", SIP_HDR_EXPIRES);
		break;
	case 'r':
		TRY("route", SIP_HDR_ROUTE);
		TRY("record-route", SIP_HDR_RECORD_ROUTE);
		TRY("require", SIP_HDR_REQUIRE);
		break;
	case 'p':
		TRY("path", SIP_HDR_PATH);
		TRY("proxy-require", SIP_HDR_PROXY_REQUIRE);
		TRY("proxy-authorization", SIP_HDR_PROXY_AUTHORIZATION);
		break;
	case 's':
		TRY("supported", SIP_HDR_SUPPORTED);
		break;
	case 'a':
		TRY("authorization", SIP_HDR_AUTHORIZATION);
		break;
	case 'u':
		TRY("user-agent", SIP_HDR_USER_AGENT);
		break;
	case 'd':
		TRY("date", SIP_HDR_DATE);
		break;
	case 'i':
		TRY("i", SIP_HDR_CALL_ID);
		break;
	case 'l':
		TRY("l", SIP_HDR_CONTENT_LENGTH);
		break;
	case 'k':
		TRY("k", SIP_HDR_SUPPORTED);
		break;
	default:
		break;
	}
	*len = 0;
	return SIP_HDR_OTHER;
#undef TRY
}

bool sip_hdr_name_at(size_t i, const char **name, char *compact, enum sip_hdr_id *id)
{
	if (i >= LC_ARRAY_SIZE(hdr_names)) {
		return false;
	}
	*name = hdr_names[i].name;
	*compact = hdr_names[i].compact;
	*id = (enum sip_hdr_id)hdr_names[i].id;
	return true;
}

/* Whether header name @p n (as received) names the field @p lower_name (long form). */
static bool hdr_name_is(struct sip_str n, const char *lower_name)
{
	size_t len = strlen(lower_name);
	if (n.len == len) {
		return sip_lit_caseeq(n.p, lower_name, len);
	}
	if (n.len != 1) {
		return false;
	}
	for (size_t i = 0; i < LC_ARRAY_SIZE(hdr_names); i++) {
		if (hdr_names[i].compact != 0 && strcmp(hdr_names[i].name, lower_name) == 0) {
			return sip_lower(n.p[0]) == hdr_names[i].compact;
		}
	}
	return false;
}

const struct sip_hdr *sip_msg_header(const struct sip_msg *m, enum sip_hdr_id id)
{
	if (id == SIP_HDR_OTHER || !(m->seen & (1u << id))) {
		return NULL;
	}
	for (unsigned i = 0; i < m->nhdr; i++) {
		if (m->hdrs[i].id == id) {
			return &m->hdrs[i];
		}
	}
	return NULL;
}

const struct sip_hdr *sip_msg_header_by_name(const struct sip_msg *m, const char *name)
{
	char lower[64];
	size_t len = strlen(name);
	if (len >= sizeof(lower)) {
		return NULL;
	}
	for (size_t i = 0; i <= len; i++) {
		lower[i] = sip_lower(name[i]);
	}
	for (unsigned i = 0; i < m->nhdr; i++) {
		if (hdr_name_is(m->hdrs[i].name, lower)) {
			return &m->hdrs[i];
		}
	}
	return NULL;
}

bool sip_tags_has(const struct sip_tags *t, const char *tag)
{
	for (unsigned i = 0; i < t->n; i++) {
		if (sip_str_caseeq_lit(t->tag[i], tag)) {
			return true;
		}
	}
	return false;
}

/*
 * The field parsers stay out of line: inlined into sip_hdr_parse(), they made it save and restore
 * six registers for every header field; apart, sip_hdr_parse() is a jump table of tail calls and
 * each parser saves only the registers it uses.
 */
#define FIELD_PARSER static __attribute__((noinline))

/* 1*DIGIT over the whole value; *flag_out set when above max (the value is then max). */
static int whole_uint(const char *p, const char *end, uint64_t max, uint64_t *v, bool *over)
{
	int r = sip_parse_uint(p, (size_t)(end - p), max, v);
	*over = r > 0;
	return r < 0 ? LC_EMALFORMED : LC_OK;
}

FIELD_PARSER int parse_call_id(struct sip_msg *m, const char *p, const char *end)
{
	/* callid = word [ "@" word ] */
	const char *q = sip_skip(p, end, SIP_C_WORD);
	if (q < end && *q == '@' && q > p) {
		const char *w = q + 1;
		q = sip_skip(w, end, SIP_C_WORD);
		if (q == w) {
			return LC_ESIP_CALL_ID;
		}
	}
	if (q == p || q != end) {
		q = sip_skip_lws(q, end);
		return (q < end && *q == ',') ? LC_ESIP_DUP_HEADER : LC_ESIP_CALL_ID;
	}
	m->call_id = sip_str_make(p, (size_t)(end - p));
	return LC_OK;
}

FIELD_PARSER int parse_cseq(struct sip_msg *m, const char *p, const char *end)
{
	/* CSeq = 1*DIGIT LWS Method */
	const char *d = sip_skip(p, end, SIP_C_DIGIT);
	const char *meth = sip_skip_lws(d, end);
	const char *me = sip_skip(meth, end, SIP_C_TOKEN);
	uint64_t v;
	if (meth == d || me == meth || me != end || d == p) {
		return LC_ESIP_CSEQ;
	}
	m->cseq_raw = sip_str_make(p, (size_t)(end - p));
	m->cseq_method = sip_str_make(meth, (size_t)(me - meth));
	m->cseq_method_id = (uint8_t)sip_method_lookup(meth, (size_t)(me - meth));
	if (sip_parse_uint(p, (size_t)(d - p), SIP_MAX_CSEQ, &v) != 0) {
		return LC_ESIP_CSEQ; /* out of range: still answerable, see sip_msg_can_reply */
	}
	m->cseq = (uint32_t)v;
	return LC_OK;
}

FIELD_PARSER int parse_max_forwards(struct sip_msg *m, const char *p, const char *end)
{
	uint64_t v;
	bool over;
	if (whole_uint(p, end, 255, &v, &over) != LC_OK) {
		return LC_ESIP_MAX_FORWARDS;
	}
	if (over) {
		m->flags |= SIP_F_MAX_FORWARDS_RANGE; /* RFC 4475 §3.1.2.4: process as if absent */
		return LC_OK;
	}
	m->max_forwards = (int16_t)v;
	return LC_OK;
}

/*
 * delta-seconds for Expires and Min-Expires. RFC 3261 §20.19: a malformed Expires "SHOULD be
 * treated as equivalent to 3600", so for Expires (tolerate) it counts as absent, the registrar's
 * default applies, and a flag says so; an overlarge one likewise (RFC 4475 §3.1.2.4).
 */
FIELD_PARSER int parse_delta(struct sip_msg *m, int64_t *out, const char *p, const char *end,
			     int err, bool tolerate)
{
	uint64_t v;
	bool over;
	if (whole_uint(p, end, SIP_MAX_DELTA_SECONDS, &v, &over) != LC_OK) {
		if (!tolerate) {
			return err;
		}
		m->flags |= SIP_F_EXPIRES_MALFORMED;
		return LC_OK;
	}
	if (over && !tolerate) {
		return err;
	}
	if (over) {
		m->flags |= SIP_F_EXPIRES_RANGE;
		return LC_OK;
	}
	*out = (int64_t)v;
	return LC_OK;
}

FIELD_PARSER int parse_content_length(struct sip_msg *m, const char *p, const char *end)
{
	uint64_t v;
	bool over;
	if (whole_uint(p, end, UINT32_MAX, &v, &over) != LC_OK || over) {
		return LC_ESIP_CONTENT_LENGTH;
	}
	m->content_length = (int64_t)v;
	return LC_OK;
}

/* media-type = m-type SLASH m-subtype *( SEMI m-parameter ) */
FIELD_PARSER int parse_content_type(struct sip_msg *m, const char *p, const char *end)
{
	const char *q = sip_skip(p, end, SIP_C_TOKEN);
	if (q == p || (q = sip_skip_lws(q, end)) == end || *q != '/') {
		return LC_ESIP_CONTENT_TYPE;
	}
	const char *s = sip_skip_lws(q + 1, end);
	q = sip_skip(s, end, SIP_C_TOKEN);
	if (q == s) {
		return LC_ESIP_CONTENT_TYPE;
	}
	for (;;) {
		struct sip_param prm;
		q = sip_skip_lws(q, end);
		if (q == end) {
			break;
		}
		if (*q != ';' || (q = sip_hparam_next(q, end, &prm)) == NULL ||
		    !sip_str_present(prm.value)) {
			return (q != NULL && *q == ',') ? LC_ESIP_DUP_HEADER : LC_ESIP_CONTENT_TYPE;
		}
	}
	m->content_type = sip_str_make(p, (size_t)(end - p));
	return LC_OK;
}

/* option-tag *( COMMA option-tag ); an empty list is allowed only for Supported. */
FIELD_PARSER int parse_tags(struct sip_tags *t, const char *p, const char *end, bool may_be_empty)
{
	if (p == end) {
		return may_be_empty ? LC_OK : LC_ESIP_OPTION_TAG;
	}
	for (;;) {
		const char *s = p;
		p = sip_skip(p, end, SIP_C_TOKEN);
		if (p == s) {
			return LC_ESIP_OPTION_TAG;
		}
		if (t->n == SIP_MAX_OPTION_TAGS) {
			return LC_ESIP_TOO_MANY_TAGS;
		}
		t->tag[t->n++] = sip_str_make(s, (size_t)(p - s));
		p = sip_skip_lws(p, end);
		if (p == end) {
			return LC_OK;
		}
		if (*p != ',') {
			return LC_ESIP_OPTION_TAG;
		}
		p = sip_skip_lws(p + 1, end);
	}
}

/* Route, Record-Route, Path: name-addr lists. */
FIELD_PARSER int parse_route_list(struct sip_addr *arr, uint8_t *n, const char *p, const char *end,
				  const char *lim, int err)
{
	for (;;) {
		if (*n == SIP_MAX_ROUTES) {
			return LC_ESIP_TOO_MANY_ROUTES;
		}
		int r = sip_addr_parse(&arr[*n], &p, end, lim, true, true, NULL, NULL);
		if (r != LC_OK) {
			return r == LC_EMALFORMED ? err : r;
		}
		(*n)++;
		if (p == end) {
			return LC_OK;
		}
		p = sip_skip_lws(p + 1, end); /* past the ',' */
	}
}

FIELD_PARSER int parse_vias(struct sip_msg *m, const char *p, const char *end, const char *lim)
{
	for (;;) {
		if (m->nvia == SIP_MAX_VIAS) {
			return LC_ESIP_TOO_MANY_VIAS;
		}
		int r = sip_via_parse(&m->via[m->nvia], &p, end, lim);
		if (r != LC_OK) {
			return r == LC_EMALFORMED ? LC_ESIP_VIA : r;
		}
		m->nvia++;
		if (p == end) {
			return LC_OK;
		}
		p = sip_skip_lws(p + 1, end);
	}
}

FIELD_PARSER int parse_from_to(struct sip_addr *a, const char *p, const char *end, const char *lim,
			       int err)
{
	int r = sip_addr_parse(a, &p, end, lim, false, false, NULL, NULL);
	return r == LC_EMALFORMED ? err : r;
}

/* TEXT-UTF8 with folds; a lone CR is refused (see sip_skip_lws). */
FIELD_PARSER int parse_text(struct sip_str *out, const char *p, const char *end, int err)
{
	const char *q = p;
	for (const char *r = NULL; r != q;) {
		r = q;
		q = sip_skip_lws(sip_skip_text(q, end), end);
	}
	if (p == end || q != end) {
		return err;
	}
	*out = sip_str_make(p, (size_t)(end - p));
	return LC_OK;
}

/* Fields that may appear once (RFC 3261 §7.3.1: only comma-list fields may repeat). */
#define SINGLE_VALUED                                                                              \
	((1u << SIP_HDR_FROM) | (1u << SIP_HDR_TO) | (1u << SIP_HDR_CALL_ID) |                     \
	 (1u << SIP_HDR_CSEQ) | (1u << SIP_HDR_MAX_FORWARDS) | (1u << SIP_HDR_EXPIRES) |           \
	 (1u << SIP_HDR_MIN_EXPIRES) | (1u << SIP_HDR_CONTENT_LENGTH) |                            \
	 (1u << SIP_HDR_CONTENT_TYPE) | (1u << SIP_HDR_USER_AGENT) | (1u << SIP_HDR_DATE))

int sip_hdr_parse(struct sip_msg *m, enum sip_hdr_id id, const char *p, const char *end)
{
	uint32_t bit = 1u << id;
	const char *lim = m->buf.p + m->buf.len;
	if ((m->seen & bit & SINGLE_VALUED) != 0) {
		return LC_ESIP_DUP_HEADER;
	}
	m->seen |= bit;
	switch (id) {
	case SIP_HDR_VIA:
		return parse_vias(m, p, end, lim);
	case SIP_HDR_FROM:
		return parse_from_to(&m->from, p, end, lim, LC_ESIP_FROM);
	case SIP_HDR_TO:
		return parse_from_to(&m->to, p, end, lim, LC_ESIP_TO);
	case SIP_HDR_CALL_ID:
		return parse_call_id(m, p, end);
	case SIP_HDR_CSEQ:
		return parse_cseq(m, p, end);
	case SIP_HDR_MAX_FORWARDS:
		return parse_max_forwards(m, p, end);
	case SIP_HDR_CONTACT:
		return sip_hdr_parse_contact(m, p, end);
	case SIP_HDR_EXPIRES:
		return parse_delta(m, &m->expires, p, end, LC_ESIP_EXPIRES, true);
	case SIP_HDR_MIN_EXPIRES:
		return parse_delta(m, &m->min_expires, p, end, LC_ESIP_MIN_EXPIRES, false);
	case SIP_HDR_CONTENT_LENGTH:
		return parse_content_length(m, p, end);
	case SIP_HDR_CONTENT_TYPE:
		return parse_content_type(m, p, end);
	case SIP_HDR_ROUTE:
		return parse_route_list(m->route, &m->nroute, p, end, lim, LC_ESIP_ROUTE);
	case SIP_HDR_RECORD_ROUTE:
		return parse_route_list(m->record_route, &m->nrecord_route, p, end, lim,
					LC_ESIP_RECORD_ROUTE);
	case SIP_HDR_PATH:
		return parse_route_list(m->path, &m->npath, p, end, lim, LC_ESIP_PATH);
	case SIP_HDR_SUPPORTED:
		return parse_tags(&m->supported, p, end, true);
	case SIP_HDR_REQUIRE:
		return parse_tags(&m->require, p, end, false);
	case SIP_HDR_PROXY_REQUIRE:
		return parse_tags(&m->proxy_require, p, end, false);
	case SIP_HDR_AUTHORIZATION:
	case SIP_HDR_PROXY_AUTHORIZATION:
		return sip_hdr_parse_auth(m, p, end, id == SIP_HDR_PROXY_AUTHORIZATION);
	case SIP_HDR_USER_AGENT:
		return parse_text(&m->user_agent, p, end, LC_ESIP_USER_AGENT);
	case SIP_HDR_DATE:
		return sip_hdr_parse_date(m, p, end);
	default:
		return LC_OK;
	}
}
