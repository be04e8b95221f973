/* SPDX-License-Identifier: MIT */
/*
 * locus-bench's reader of SIP responses (lb_resp.h). One pass over the header lines; each header
 * it knows is split into the parts the checks need, the others are skipped.
 */
#include <string.h>
#include <strings.h>

#include "bench/lb_resp.h"
#include "common/lc_error.h"

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static struct lb_str trim(const char *p, const char *end)
{
	while (p < end && is_ws(*p)) {
		p++;
	}
	while (end > p && (is_ws(end[-1]) || end[-1] == '\r')) {
		end--;
	}
	return (struct lb_str){p, (unsigned)(end - p)};
}

static bool name_is(struct lb_str n, const char *full, char compact)
{
	if (n.len == 1) {
		return (n.p[0] | 0x20) == compact;
	}
	size_t len = strlen(full);
	return n.len == len && strncasecmp(n.p, full, len) == 0;
}

static bool parse_ulong(struct lb_str s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	if (s.len == 0 || s.len > 10) {
		return false;
	}
	for (unsigned i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9') {
			return false;
		}
		v = v * 10 + (unsigned long)(s.p[i] - '0');
	}
	if (v > max) {
		return false;
	}
	*out = v;
	return true;
}

/* The end of a quoted string starting at p (on the opening quote), or end. */
static const char *skip_quoted(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\' && p + 1 < end) {
			p++;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return end;
}

/* The next ',' outside quotes and <>, or end. */
static const char *next_comma(const char *p, const char *end)
{
	bool in_angle = false;
	while (p < end) {
		if (*p == '"') {
			p = skip_quoted(p, end);
			continue;
		}
		if (*p == '<') {
			in_angle = true;
		} else if (*p == '>') {
			in_angle = false;
		} else if (*p == ',' && !in_angle) {
			return p;
		}
		p++;
	}
	return end;
}

/*
 * Find parameter @p name in the ";name=value" list [p, end); on success *val is its value
 * (empty for a parameter without '='). Params are separated by ';', names compared without case.
 */
static bool find_param(const char *p, const char *end, const char *name, struct lb_str *val)
{
	size_t nlen = strlen(name);
	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		if (semi == NULL) {
			return false;
		}
		p = semi + 1;
		const char *stop = memchr(p, ';', (size_t)(end - p));
		stop = stop ? stop : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		struct lb_str n = trim(p, eq ? eq : stop);
		if (n.len == nlen && strncasecmp(n.p, name, nlen) == 0) {
			*val = eq ? trim(eq + 1, stop) : (struct lb_str){stop, 0};
			return true;
		}
		p = stop;
	}
	return false;
}

/* Where the header parameters of a name-addr or addr-spec value start, and its URI. */
static const char *split_addr(struct lb_str v, struct lb_str *uri)
{
	const char *p = v.p, *end = v.p + v.len;
	const char *q = p;
	while (q < end && *q != '<' && *q != ';') {
		q = *q == '"' ? skip_quoted(q, end) : q + 1;
	}
	if (q < end && *q == '<') {
		const char *close = memchr(q, '>', (size_t)(end - q));
		if (close == NULL) {
			*uri = (struct lb_str){NULL, 0};
			return end;
		}
		*uri = (struct lb_str){q + 1, (unsigned)(close - q - 1)};
		return close + 1;
	}
	*uri = trim(p, q);
	return q;
}

static void read_via(struct lb_resp *r, struct lb_str v)
{
	if (r->has_via) {
		return; /* only the top Via */
	}
	r->has_via = true;
	const char *end = next_comma(v.p, v.p + v.len);
	struct lb_str b;
	if (find_param(v.p, end, "branch", &b)) {
		r->branch = b;
	}
}

static void read_to(struct lb_resp *r, struct lb_str v)
{
	struct lb_str uri, tag;
	const char *params = split_addr(v, &uri);
	r->has_to = true;
	if (find_param(params, v.p + v.len, "tag", &tag)) {
		r->to_tag = tag;
	}
}

static bool read_cseq(struct lb_resp *r, struct lb_str v)
{
	const char *sp = v.p;
	while (sp < v.p + v.len && !is_ws(*sp)) {
		sp++;
	}
	unsigned long n;
	if (!parse_ulong((struct lb_str){v.p, (unsigned)(sp - v.p)}, UINT32_MAX, &n)) {
		return false;
	}
	r->cseq = (uint32_t)n;
	r->cseq_method = trim(sp, v.p + v.len);
	r->has_cseq = true;
	return true;
}

static void read_contacts(struct lb_resp *r, struct lb_str v)
{
	const char *p = v.p, *end = v.p + v.len;
	while (p < end) {
		const char *stop = next_comma(p, end);
		struct lb_str one = trim(p, stop);
		p = stop < end ? stop + 1 : end;
		if (one.len == 0) {
			continue;
		}
		if (r->ncontacts == LB_RESP_MAX_CONTACTS) {
			r->contacts_truncated = true;
			return;
		}
		struct lb_resp_contact *c = &r->contacts[r->ncontacts++];
		const char *params = split_addr(one, &c->uri);
		struct lb_str e;
		unsigned long ev;
		c->expires = -1;
		if (find_param(params, one.p + one.len, "expires", &e) &&
		    parse_ulong(e, UINT32_MAX, &ev)) {
			c->expires = (long)ev;
		}
	}
}

static bool read_header(struct lb_resp *r, struct lb_str name, struct lb_str v)
{
	unsigned long n;
	if (name_is(name, "via", 'v')) {
		read_via(r, v);
	} else if (name_is(name, "call-id", 'i')) {
		if (r->call_id.p == NULL) {
			r->call_id = v;
		}
	} else if (name_is(name, "cseq", '\0')) {
		return read_cseq(r, v);
	} else if (name_is(name, "to", 't')) {
		read_to(r, v);
	} else if (name_is(name, "contact", 'm')) {
		read_contacts(r, v);
	} else if (name_is(name, "expires", '\0')) {
		if (!parse_ulong(v, UINT32_MAX, &n)) {
			return false;
		}
		r->expires = (long)n;
	}
	return true;
}

static bool read_status_line(struct lb_resp *r, const char *p, const char *eol)
{
	if (eol - p < 12 || memcmp(p, "SIP/2.0 ", 8) != 0 || p[11] != ' ') {
		return false;
	}
	unsigned long code;
	if (!parse_ulong((struct lb_str){p + 8, 3}, 699, &code) || code < 100) {
		return false;
	}
	r->status = (unsigned)code;
	r->reason = trim(p + 12, eol);
	return true;
}

int lb_resp_parse(struct lb_resp *r, const char *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->expires = -1;
	const char *p = buf, *end = buf + len;
	const char *eol = memchr(p, '\n', len);
	if (eol == NULL || !read_status_line(r, p, eol)) {
		return LC_EMALFORMED;
	}
	for (p = eol + 1; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL) {
			return LC_EMALFORMED; /* the header block must end with an empty line */
		}
		struct lb_str line = trim(p, eol);
		if (line.len == 0) {
			return LC_OK;
		}
		if (is_ws(*p)) {
			continue; /* a continuation line: see the header comment */
		}
		const char *colon = memchr(line.p, ':', line.len);
		if (colon == NULL) {
			return LC_EMALFORMED;
		}
		if (!read_header(r, trim(line.p, colon), trim(colon + 1, line.p + line.len))) {
			return LC_EMALFORMED;
		}
	}
	return LC_EMALFORMED;
}
