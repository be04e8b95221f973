/* SPDX-License-Identifier: MIT */
/*
 * locus-bench's answer checks (lb_check.h): one function per protocol, sharing the contact rule.
 */
#include <string.h>

#include "bench/lb_check.h"

/* One listed contact or record, as the rule sees it: its URI and its expiry (-1 when unsaid). */
struct listed {
	const char *uri;
	unsigned len;
	long expires;
};

static bool is_ours(const struct listed *l, const struct lb_expect *e)
{
	return l->len == e->contact_len && memcmp(l->uri, e->contact, l->len) == 0;
}

static bool contacts_ok(enum lb_contact_rule rule, const struct listed *l, unsigned n,
			bool truncated, const struct lb_expect *e)
{
	switch (rule) {
	case LB_CONTACTS_IGNORED:
		return true;
	case LB_CONTACTS_EXACTLY_OURS:
		return n == 1 && !truncated && is_ours(&l[0], e);
	case LB_CONTACTS_OURS_LIVE:
		return n == 1 && !truncated && is_ours(&l[0], e) && l[0].expires != 0;
	case LB_CONTACTS_NOT_OURS:
		for (unsigned i = 0; i < n; i++) {
			if (is_ours(&l[i], e) && l[i].expires != 0) {
				return false;
			}
		}
		return !truncated;
	}
	return false;
}

enum lb_wrong lb_check_sip(const struct lb_resp *r, const struct lb_expect *e)
{
	const struct lb_op_info *op = lb_op_info(e->op);
	if (!lb_str_eq(r->call_id, e->call_id, e->call_id_len)) {
		return LB_W_CALL_ID;
	}
	if (!r->has_cseq || r->cseq != e->cseq ||
	    !lb_str_eq(r->cseq_method, op->method, strlen(op->method))) {
		return LB_W_CSEQ;
	}
	if (r->status != op->status) {
		return LB_W_STATUS;
	}
	if (!r->has_to || r->to_tag.len == 0) {
		return LB_W_TO_TAG;
	}
	struct listed l[LB_RESP_MAX_CONTACTS];
	for (unsigned i = 0; i < r->ncontacts; i++) {
		long exp = r->contacts[i].expires >= 0 ? r->contacts[i].expires : r->expires;
		l[i] = (struct listed){r->contacts[i].uri.p, r->contacts[i].uri.len, exp};
	}
	if (!contacts_ok(op->contacts, l, r->ncontacts, r->contacts_truncated, e)) {
		return LB_W_CONTACTS;
	}
	return LB_RIGHT;
}

enum lb_wrong lb_check_lsp(const struct dht_lsp_msg *m, const struct lb_expect *e)
{
	const struct lb_op_info *op = lb_op_info(e->op);
	if (m->err != LC_OK || !dht_lsp_is_answer(m) || !(m->present & DHT_LSP_P_STATUS)) {
		return LB_W_MALFORMED;
	}
	if (m->status != op->status) {
		return LB_W_STATUS;
	}
	if (!(m->present & DHT_LSP_P_KEY) || m->key.len != e->key_len ||
	    memcmp(m->key.p, e->key, e->key_len) != 0) {
		return LB_W_KEY;
	}
	struct listed l[DHT_LSP_MAX_RECORDS];
	for (unsigned i = 0; i < m->nrecords; i++) {
		const struct dht_lsp_record *rec = &m->records[i];
		long exp = (rec->present & DHT_LSP_P_EXPIRES) ? (long)rec->expires_s : -1;
		l[i] = (struct listed){rec->contact.p, rec->contact.len, exp};
	}
	if (!contacts_ok(op->contacts, l, m->nrecords, false, e)) {
		return LB_W_CONTACTS;
	}
	return LB_RIGHT;
}
