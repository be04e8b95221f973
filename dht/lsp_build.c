/* SPDX-License-Identifier: MIT */
/*
 * The LSP builder: writes a message into a caller's buffer, header first, then TLVs, and patches
 * the body length at the end. It keeps a sticky error like Knot's wire_ctx: the first append that
 * does not fit or carries a value the decoder would refuse sets it, every later call does nothing,
 * and dht_lsp_build_finish() reports it. Every write is checked against the capacity before any
 * byte moves, so the builder never writes past the buffer, whatever the calls.
 *
 * How it works: a RECORD is written as a TLV header with a zero length, then its fields through
 * the same appends, then the length is patched from how far the builder moved (an ENTRY, in
 * lsp_ovl_build.c, works the same way across several calls). Typed appends check exactly what
 * the decoders check, so anything that builds also decodes. A mark is a copy of the builder's
 * scalar state: rolling back restores it, which drops the bytes written since (they lie past the
 * restored length) and the error raised since; no length patch ever points past a mark.
 */
#include <string.h>
#include <sys/socket.h>

#include "common/lc_error.h"
#include "dht/lsp.h"
#include "dht/lsp_internal.h"
#include "dht/lsp_ovl.h"

void dht_lsp_build_init(struct dht_lsp_builder *b, void *buf, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->buf = buf;
	b->cap = (uint32_t)LC_MIN(cap, (size_t)UINT32_MAX);
}

void lsp_set_err(struct dht_lsp_builder *b, int err)
{
	if (b->err == LC_OK) {
		b->err = err;
	}
}

/* Reserve @p n bytes at the end; NULL (and the sticky error) when they cannot be had. */
static uint8_t *reserve(struct dht_lsp_builder *b, size_t n)
{
	if (b->err != LC_OK) {
		return NULL;
	}
	/* inside an ENTRY only the entry's own fields and records may be written */
	if (b->state != LSP_ST_BODY && !(b->state == LSP_ST_ENTRY && b->inner)) {
		lsp_set_err(b, LC_ELSP_BUILD_STATE);
		return NULL;
	}
	/* a property of the message first, then of the buffer */
	if (n > DHT_LSP_MAX_MSG - b->len) {
		lsp_set_err(b, LC_ELSP_TOO_BIG);
		return NULL;
	}
	if (n > b->cap - b->len) {
		lsp_set_err(b, LC_ENOSPACE);
		return NULL;
	}
	uint8_t *p = b->buf + b->len;
	b->len += (uint32_t)n;
	return p;
}

void dht_lsp_build_hdr(struct dht_lsp_builder *b, const struct dht_lsp_hdr *hdr)
{
	if (b->err != LC_OK) {
		return;
	}
	if (b->state != LSP_ST_INIT) {
		lsp_set_err(b, LC_ELSP_BUILD_STATE);
		return;
	}
	b->state = LSP_ST_BODY;
	uint8_t *p = reserve(b, DHT_LSP_HDR_LEN);
	if (p == NULL) {
		return;
	}
	lsp_wr16(p, DHT_LSP_MAGIC);
	p[2] = DHT_LSP_VERSION;
	p[3] = hdr->type;
	p[4] = hdr->flags;
	p[5] = hdr->hop_limit;
	lsp_wr16(p + 6, 0);
	lsp_wr64(p + 8, hdr->txn_id);
	lsp_wr64(p + 16, hdr->overlay_id);
}

uint8_t *lsp_put_hdr(struct dht_lsp_builder *b, uint16_t type, size_t len)
{
	if (len > UINT16_MAX) {
		lsp_set_err(b, LC_ELSP_TOO_LONG);
		return NULL;
	}
	uint8_t *p = reserve(b, DHT_LSP_TLV_HDR_LEN + len);
	if (p == NULL) {
		return NULL;
	}
	lsp_wr16(p, type);
	lsp_wr16(p + 2, (uint16_t)len);
	return p + DHT_LSP_TLV_HDR_LEN;
}

void dht_lsp_put_tlv(struct dht_lsp_builder *b, uint16_t type, const void *val, size_t len)
{
	uint8_t *v = lsp_put_hdr(b, type, len);
	if (v != NULL && len > 0) {
		memcpy(v, val, len);
	}
}

void dht_lsp_put_u16(struct dht_lsp_builder *b, uint16_t type, uint16_t v)
{
	uint8_t *p = lsp_put_hdr(b, type, 2);
	if (p != NULL) {
		lsp_wr16(p, v);
	}
}

void dht_lsp_put_u32(struct dht_lsp_builder *b, uint16_t type, uint32_t v)
{
	uint8_t *p = lsp_put_hdr(b, type, 4);
	if (p != NULL) {
		lsp_wr32(p, v);
	}
}

void dht_lsp_put_u64(struct dht_lsp_builder *b, uint16_t type, uint64_t v)
{
	uint8_t *p = lsp_put_hdr(b, type, 8);
	if (p != NULL) {
		lsp_wr64(p, v);
	}
}

/* A bytes TLV whose length must lie in [min, max], else @p err. */
static void put_bounded(struct dht_lsp_builder *b, uint16_t type, const void *val, size_t len,
			size_t min, size_t max, int err)
{
	if (len < min || len > max) {
		lsp_set_err(b, err);
		return;
	}
	dht_lsp_put_tlv(b, type, val, len);
}

void dht_lsp_put_key(struct dht_lsp_builder *b, const void *key, size_t len)
{
	put_bounded(b, DHT_LSP_T_KEY, key, len, 1, DHT_LSP_MAX_KEY, LC_ELSP_KEY);
}

void dht_lsp_put_call_id(struct dht_lsp_builder *b, const void *call_id, size_t len)
{
	put_bounded(b, DHT_LSP_T_CALL_ID, call_id, len, 0, DHT_LSP_MAX_CALL_ID, LC_ELSP_TOO_LONG);
}

void dht_lsp_put_reply_ctx(struct dht_lsp_builder *b, const void *ctx, size_t len)
{
	put_bounded(b, DHT_LSP_T_REPLY_CTX, ctx, len, 0, DHT_LSP_MAX_REPLY_CTX, LC_ELSP_TOO_LONG);
}

void dht_lsp_put_reason(struct dht_lsp_builder *b, const char *text, size_t len)
{
	put_bounded(b, DHT_LSP_T_REASON, text, len, 0, DHT_LSP_MAX_REASON, LC_ELSP_TOO_LONG);
}

size_t dht_lsp_addr_len(const struct dht_addr *a)
{
	if (a->family == AF_INET) {
		return LSP_ADDR4_LEN;
	}
	return a->family == AF_INET6 ? LSP_ADDR6_LEN : 0;
}

void dht_lsp_addr_encode(uint8_t *out, const struct dht_addr *a)
{
	out[0] = a->family == AF_INET ? LSP_FAMILY_IPV4 : LSP_FAMILY_IPV6;
	out[1] = a->transport;
	lsp_wr16(out + 2, a->port);
	memcpy(out + 4, a->addr, a->family == AF_INET ? 4 : 16);
}

static void put_addr(struct dht_lsp_builder *b, uint16_t type, const struct dht_addr *a)
{
	size_t n = dht_lsp_addr_len(a);
	if (n == 0) {
		lsp_set_err(b, LC_ELSP_SOURCE);
		return;
	}
	uint8_t *p = lsp_put_hdr(b, type, n);
	if (p != NULL) {
		dht_lsp_addr_encode(p, a);
	}
}

void dht_lsp_put_source(struct dht_lsp_builder *b, const struct dht_addr *a)
{
	put_addr(b, DHT_LSP_T_SOURCE, a);
}

void dht_lsp_put_reply_to(struct dht_lsp_builder *b, const struct dht_addr *a)
{
	put_addr(b, DHT_LSP_T_REPLY_TO, a);
}

void lsp_put_node_tlv(struct dht_lsp_builder *b, uint16_t type, const struct dht_lsp_node *n)
{
	size_t alen = dht_lsp_addr_len(&n->addr);
	if (alen == 0) {
		lsp_set_err(b, LC_ELSP_SOURCE);
		return;
	}
	uint8_t *p = lsp_put_hdr(b, type, LSP_NODE_ID_LEN + alen);
	if (p != NULL) {
		lsp_wr_id(p, n->id);
		dht_lsp_addr_encode(p + LSP_NODE_ID_LEN, &n->addr);
	}
}

void dht_lsp_put_node(struct dht_lsp_builder *b, const struct dht_lsp_node *n)
{
	lsp_put_node_tlv(b, DHT_LSP_T_NODE, n);
}

void dht_lsp_put_node_id(struct dht_lsp_builder *b, dht_id_t id)
{
	uint8_t *p = lsp_put_hdr(b, DHT_LSP_T_NODE_ID, LSP_NODE_ID_LEN);
	if (p != NULL) {
		lsp_wr_id(p, id);
	}
}

void dht_lsp_put_status(struct dht_lsp_builder *b, unsigned status)
{
	if (status > UINT16_MAX) {
		lsp_set_err(b, LC_EINVAL);
		return;
	}
	dht_lsp_put_u16(b, DHT_LSP_T_STATUS, (uint16_t)status);
}

void dht_lsp_put_error_detail(struct dht_lsp_builder *b, const struct dht_lsp_error_detail *d)
{
	if (d->err > 0 || d->err < -(int)UINT16_MAX) {
		lsp_set_err(b, LC_EINVAL);
		return;
	}
	uint8_t *p = lsp_put_hdr(b, DHT_LSP_T_ERROR_DETAIL, LSP_ERROR_DETAIL_LEN);
	if (p != NULL) {
		lsp_wr16(p, (uint16_t)-d->err);
		lsp_wr16(p + 2, d->tlv);
		lsp_wr32(p + 4, d->offset);
	}
}

/* What the decoder refuses in a record, refused before anything is written. */
static int check_record(const struct dht_lsp_record *r, bool in_entry)
{
	if (!in_entry && (r->present & DHT_LSP_P_ENTRY_ONLY)) {
		return LC_ELSP_TLV_UNKNOWN; /* what a receiver would say */
	}
	if (!(r->present & DHT_LSP_P_CONTACT) || r->contact.len == 0) {
		return LC_ELSP_MISSING_CONTACT;
	}
	if ((r->present & DHT_LSP_P_Q) && (r->q < 0 || r->q > DHT_LSP_MAX_Q)) {
		return LC_ELSP_Q;
	}
	size_t var = (size_t)r->contact.len;
	var += (r->present & DHT_LSP_P_INSTANCE) ? r->instance.len : 0;
	var += (r->present & DHT_LSP_P_PATH) ? r->path.len : 0;
	var += (r->present & DHT_LSP_P_ATTRS) ? r->attrs.len : 0;
	if (var > DHT_LSP_MAX_RECORD_VAR) {
		return LC_ELSP_TOO_LONG;
	}
	if ((r->present & DHT_LSP_P_REMOVED) &&
	    ((r->removed != DHT_LSP_REMOVED_CONTACT && r->removed != DHT_LSP_REMOVED_ALL) ||
	     (r->removed == DHT_LSP_REMOVED_ALL && !lsp_contact_is_all(r)))) {
		return LC_ELSP_REMOVED;
	}
	return LC_OK;
}

/* The record's fields in canonical order (docs/lsp.md §4.4). */
static void put_record_fields(struct dht_lsp_builder *b, const struct dht_lsp_record *r)
{
	uint32_t f = r->present;
	dht_lsp_put_tlv(b, DHT_LSP_T_CONTACT, r->contact.p, r->contact.len);
	if (f & DHT_LSP_P_EXPIRES) {
		dht_lsp_put_u32(b, DHT_LSP_T_EXPIRES, r->expires_s);
	}
	if (f & DHT_LSP_P_Q) {
		dht_lsp_put_u16(b, DHT_LSP_T_Q, (uint16_t)r->q);
	}
	if (f & DHT_LSP_P_INSTANCE) {
		dht_lsp_put_tlv(b, DHT_LSP_T_INSTANCE, r->instance.p, r->instance.len);
	}
	if (f & DHT_LSP_P_REG_ID) {
		dht_lsp_put_u32(b, DHT_LSP_T_REG_ID, r->reg_id);
	}
	if (f & DHT_LSP_P_PATH) {
		dht_lsp_put_tlv(b, DHT_LSP_T_PATH, r->path.p, r->path.len);
	}
	if (f & DHT_LSP_P_ATTRS) {
		dht_lsp_put_tlv(b, DHT_LSP_T_ATTRS, r->attrs.p, r->attrs.len);
	}
	if (f & DHT_LSP_P_CALL_ID) {
		dht_lsp_put_call_id(b, r->call_id.p, r->call_id.len);
	}
	if (f & DHT_LSP_P_CSEQ) {
		dht_lsp_put_u32(b, DHT_LSP_T_CSEQ, r->cseq);
	}
	if (f & DHT_LSP_P_SOURCE) {
		dht_lsp_put_source(b, &r->src);
	}
	if (f & DHT_LSP_P_AGE) {
		dht_lsp_put_u32(b, DHT_LSP_T_AGE, r->age_s);
	}
	if (f & DHT_LSP_P_EXPIRES_AT) {
		dht_lsp_put_u32(b, DHT_LSP_T_EXPIRES_AT, r->expires_at_s);
	}
	if (f & DHT_LSP_P_REGISTERED_AT) {
		dht_lsp_put_u32(b, DHT_LSP_T_REGISTERED_AT, r->registered_at_s);
	}
	if (f & DHT_LSP_P_TXN_TAG) {
		dht_lsp_put_u32(b, DHT_LSP_T_TXN_TAG, r->txn_tag);
	}
	if (f & DHT_LSP_P_REC_VERSION) {
		dht_lsp_put_u64(b, DHT_LSP_T_REC_VERSION, r->version);
	}
	if (f & DHT_LSP_P_WRITER) {
		dht_lsp_put_u64(b, DHT_LSP_T_WRITER, r->writer);
	}
	uint8_t *p = (f & DHT_LSP_P_REMOVED) ? lsp_put_hdr(b, DHT_LSP_T_REMOVED, 1) : NULL;
	if (p != NULL) {
		p[0] = r->removed;
	}
}

size_t dht_lsp_record_len(const struct dht_lsp_record *r)
{
	const size_t h = DHT_LSP_TLV_HDR_LEN;
	uint32_t f = r->present;
	size_t n = h + h + r->contact.len;
	n += (f & DHT_LSP_P_EXPIRES) ? h + 4 : 0;
	n += (f & DHT_LSP_P_Q) ? h + 2 : 0;
	n += (f & DHT_LSP_P_INSTANCE) ? h + r->instance.len : 0;
	n += (f & DHT_LSP_P_REG_ID) ? h + 4 : 0;
	n += (f & DHT_LSP_P_PATH) ? h + r->path.len : 0;
	n += (f & DHT_LSP_P_ATTRS) ? h + r->attrs.len : 0;
	n += (f & DHT_LSP_P_CALL_ID) ? h + r->call_id.len : 0;
	n += (f & DHT_LSP_P_CSEQ) ? h + 4 : 0;
	n += (f & DHT_LSP_P_SOURCE) ? h + dht_lsp_addr_len(&r->src) : 0;
	n += (f & DHT_LSP_P_AGE) ? h + 4 : 0;
	n += (f & DHT_LSP_P_EXPIRES_AT) ? h + 4 : 0;
	n += (f & DHT_LSP_P_REGISTERED_AT) ? h + 4 : 0;
	n += (f & DHT_LSP_P_TXN_TAG) ? h + 4 : 0;
	n += (f & DHT_LSP_P_REC_VERSION) ? h + 8 : 0;
	n += (f & DHT_LSP_P_WRITER) ? h + 8 : 0;
	n += (f & DHT_LSP_P_REMOVED) ? h + 1 : 0;
	return n;
}

void dht_lsp_put_record(struct dht_lsp_builder *b, const struct dht_lsp_record *r)
{
	if (b->err != LC_OK) {
		return;
	}
	bool in_entry = b->state == LSP_ST_ENTRY;
	uint16_t *count = in_entry ? &b->entry_records : &b->nrecords;
	if (*count == (in_entry ? DHT_LSP_MAX_ENTRY_RECORDS : DHT_LSP_MAX_RECORDS)) {
		lsp_set_err(b, LC_ELSP_TOO_MANY_RECORDS);
		return;
	}
	int ret = check_record(r, in_entry);
	if (ret != LC_OK) {
		lsp_set_err(b, ret);
		return;
	}
	uint8_t inner = b->inner;
	b->inner = 1;
	uint8_t *v = lsp_put_hdr(b, DHT_LSP_T_RECORD, 0);
	if (v != NULL) {
		put_record_fields(b, r);
	}
	b->inner = inner;
	if (b->err != LC_OK) {
		return;
	}
	/* at most 4 + 7936 + 16 + 260 + 12 fixed TLVs of at most 24 bytes: always below 65536 */
	lsp_wr16(v - 2, (uint16_t)(b->buf + b->len - v));
	(*count)++;
}

void dht_lsp_build_mark(const struct dht_lsp_builder *b, struct dht_lsp_mark *mk)
{
	mk->saved = *b;
}

void dht_lsp_build_rollback(struct dht_lsp_builder *b, const struct dht_lsp_mark *mk)
{
	*b = mk->saved;
}

int dht_lsp_build_finish(struct dht_lsp_builder *b, size_t *len)
{
	if (b->err == LC_OK && b->state != LSP_ST_BODY) {
		b->err = LC_ELSP_BUILD_STATE;
	}
	if (b->err != LC_OK) {
		return b->err;
	}
	lsp_wr16(b->buf + 6, (uint16_t)(b->len - DHT_LSP_HDR_LEN));
	b->state = LSP_ST_DONE;
	*len = b->len;
	return LC_OK;
}

void dht_lsp_answer_start(struct dht_lsp_builder *b, const struct dht_lsp_msg *req, unsigned status)
{
	if (!req->hdr_ok) {
		lsp_set_err(b, LC_ELSP_BUILD_STATE);
		return;
	}
	struct dht_lsp_hdr h = req->hdr;
	h.flags = DHT_LSP_F_ANSWER;
	h.hop_limit = DHT_LSP_HOP_LIMIT_DEFAULT;
	dht_lsp_build_hdr(b, &h);
	dht_lsp_put_status(b, status);
	/* present bits hold even after an error: those fields decoded before it */
	if (req->present & DHT_LSP_P_KEY) {
		dht_lsp_put_key(b, req->key.p, req->key.len);
	}
	if (req->present & DHT_LSP_P_REPLY_CTX) {
		dht_lsp_put_reply_ctx(b, req->reply_ctx.p, req->reply_ctx.len);
	}
}

int dht_lsp_answer_error(void *buf, size_t cap, const struct dht_lsp_msg *req, size_t *len)
{
	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, buf, cap);
	dht_lsp_answer_start(&b, req, dht_lsp_status_of(req->err));
	const char *text = lc_strerror(req->err);
	dht_lsp_put_reason(&b, text, strlen(text));
	struct dht_lsp_error_detail d = {req->err, req->err_tlv, req->err_off};
	dht_lsp_put_error_detail(&b, &d);
	return dht_lsp_build_finish(&b, len);
}
