/* SPDX-License-Identifier: MIT */
/*
 * Contact values (RFC 3261 §20.10, §10.3; RFC 5626 §4.2): "*" or a list of name-addr/addr-spec
 * with the parameters a registrar acts on (expires, q, +sip.instance, reg-id) pulled out and
 * validated. "*" is only recognised as a whole field value; whether it may be combined with other
 * Contact fields is the registrar's call (RFC 3261 §10.3 step 6), so it is reported, not refused.
 */
#include "common/lc_error.h"
#include "sipparse/sip_internal.h"
#include "sipparse/sip_lex.h"

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths. */
static int parse_qvalue(struct sip_str v)
{
	if (v.len == 0 || v.len > 5 || (v.p[0] != '0' && v.p[0] != '1')) {
		return -1;
	}
	int q = (v.p[0] - '0') * 1000;
	if (v.len == 1) {
		return q;
	}
	if (v.p[1] != '.') {
		return -1;
	}
	int scale = 100;
	for (uint32_t i = 2; i < v.len; i++, scale /= 10) {
		if (!sip_is(v.p[i], SIP_C_DIGIT) || (q == 1000 && v.p[i] != '0')) {
			return -1;
		}
		q += (v.p[i] - '0') * scale;
	}
	return q;
}

enum contact_param { CP_OTHER, CP_EXPIRES, CP_Q, CP_INSTANCE, CP_REG_ID };

static enum contact_param contact_param_id(struct sip_str n)
{
#define IS(lit) SIP_LIT_IEQ(n.p, lit) /* n.len == sizeof(lit) - 1 in each case */
	switch (n.len) {
	case 1:
		return (*n.p | 0x20) == 'q' ? CP_Q : CP_OTHER;
	case 6:
		return IS("reg-id") ? CP_REG_ID : CP_OTHER;
	case 7:
		return IS("expires") ? CP_EXPIRES : CP_OTHER;
	case 13:
		return IS("+sip.instance") ? CP_INSTANCE : CP_OTHER;
	default:
		return CP_OTHER;
	}
#undef IS
}

/*
 * What the parameters of one Contact value came to, collected while sip_addr_parse() scans them.
 * The flags and the first error apply only when the whole value parses, so the outcome is the
 * same as validating the value first and reading its parameters afterwards.
 */
struct contact_ctx {
	struct sip_contact *c;
	uint32_t flags; /* SIP_F_EXPIRES_* to add to the message */
	int err;	/* the first bad parameter value, LC_OK when none */
};

static int contact_param(struct contact_ctx *x, const struct sip_param *prm)
{
	struct sip_contact *c = x->c;
	struct sip_str v = prm->value;
	bool has = sip_str_present(v) && v.len > 0;
	uint64_t num;
	enum contact_param id = contact_param_id(prm->name);
	if (id == CP_EXPIRES) {
		int r = has ? sip_parse_uint(v.p, v.len, SIP_MAX_DELTA_SECONDS, &num) : -1;
		if (r < 0) {
			/* §20.10: a malformed value "SHOULD be treated as equivalent to 3600" */
			x->flags |= SIP_F_EXPIRES_MALFORMED;
		} else if (r > 0) {
			x->flags |= SIP_F_EXPIRES_RANGE; /* RFC 4475 §3.1.2.4: use the default */
		} else {
			c->expires = (int64_t)num;
		}
	} else if (id == CP_Q) {
		int q = has ? parse_qvalue(v) : -1;
		if (q < 0) {
			return LC_ESIP_CONTACT;
		}
		c->q = (int16_t)q;
	} else if (id == CP_INSTANCE) {
		if (!has || *v.p != '"') {
			return LC_ESIP_CONTACT;
		}
		c->instance = v;
	} else if (id == CP_REG_ID) {
		if (!has || sip_parse_uint(v.p, v.len, 0x7fffffff, &num) != 0 || num == 0) {
			return LC_ESIP_CONTACT;
		}
		c->reg_id = v;
	}
	return LC_OK;
}

static void on_param(void *ctx, const struct sip_param *prm)
{
	struct contact_ctx *x = ctx;
	if (x->err == LC_OK) {
		x->err = contact_param(x, prm);
	}
}

static int parse_one(struct sip_msg *m, struct sip_contact *c, const char **pp, const char *end,
		     const char *lim)
{
	struct contact_ctx x = {.c = c, .err = LC_OK};
	c->instance = SIP_STR_NULL;
	c->reg_id = SIP_STR_NULL;
	c->expires = -1;
	c->q = -1;
	int r = sip_addr_parse(&c->addr, pp, end, lim, true, false, on_param, &x);
	if (r != LC_OK) {
		return r == LC_EMALFORMED ? LC_ESIP_CONTACT : r;
	}
	m->flags |= x.flags;
	return x.err;
}

int sip_hdr_parse_contact(struct sip_msg *m, const char *p, const char *end)
{
	const char *lim = m->buf.p + m->buf.len;
	if (end - p == 1 && *p == '*') {
		if (m->contact_star) {
			return LC_ESIP_CONTACT;
		}
		m->contact_star = true;
		return LC_OK;
	}
	for (;;) {
		if (m->ncontact == SIP_MAX_CONTACTS) {
			return LC_ESIP_TOO_MANY_CONTACTS;
		}
		int r = parse_one(m, &m->contact[m->ncontact], &p, end, lim);
		if (r != LC_OK) {
			return r;
		}
		m->ncontact++;
		if (p == end) {
			return LC_OK;
		}
		p = sip_skip_lws(p + 1, end);
	}
}
