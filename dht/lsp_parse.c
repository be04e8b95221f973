/* SPDX-License-Identifier: MIT */
/*
 * The LSP decoder: one message in place into a struct dht_lsp_msg of views, with the first error
 * as a precise LC_ELSP_* code and the offset and type of the TLV at fault, so the node can answer
 * BAD_REQUEST with an ERROR_DETAIL that tells the client exactly what it sent wrong.
 *
 * How it works:
 *  1. The header is read first. Once 24 bytes with the right magic are there, hdr_ok is set and
 *     stays set whatever follows, so even a message that fails later can be answered. Version,
 *     size, exact length (UDP: the datagram is one message) and type are then checked in that
 *     order: the header layout is the same in every version, its body is not.
 *  2. The body is walked TLV by TLV. Each message type (and a RECORD's inside) has a set of TLV
 *     codes it allows. A code outside that set is "unknown here": an error when its mandatory
 *     bit is set, skipped otherwise, so later versions can add optional TLVs without breaking v1.
 *     A known code is checked for repetition (every TLV but RECORD is single-valued), then its
 *     length and value against tlv_spec[], and stored as a view or a number.
 *  3. A RECORD's value is walked the same way with the record set; records do not nest, so there
 *     is no recursion. Then the message-level rules: KEY present, REMOVE says ALL or lists
 *     records (not both), an answer has a STATUS.
 * The decoder reads each byte at most twice, writes only into *m and keeps no state.
 */
#include <string.h>
#include <sys/socket.h>

#include "common/lc_error.h"
#include "dht/lsp.h"
#include "dht/lsp_internal.h"

enum kind { K_NONE, K_BYTES, K_U16, K_U32, K_EMPTY, K_ADDR, K_NODE, K_ID, K_DETAIL, K_RECORD };

/* How to read each TLV code; codes not listed are unknown to v1. */
struct tlv_spec {
	uint8_t kind;
	uint16_t min, max; /* length bounds of a K_BYTES value */
	int len_err;	   /* error when a K_BYTES value is out of bounds */
	uint32_t bit;	   /* DHT_LSP_P_* */
};

#define NCODES 0x40
#define C(t) DHT_LSP_TLV_CODE(t)
#define BIT(t) (1ull << C(t))

static const struct tlv_spec tlv_spec[NCODES] = {
	[C(DHT_LSP_T_KEY)] = {K_BYTES, 1, DHT_LSP_MAX_KEY, LC_ELSP_KEY, DHT_LSP_P_KEY},
	[C(DHT_LSP_T_RECORD)] = {K_RECORD, 0, 0, 0, 0},
	[C(DHT_LSP_T_CALL_ID)] = {K_BYTES, 0, DHT_LSP_MAX_CALL_ID, LC_ELSP_TOO_LONG,
				  DHT_LSP_P_CALL_ID},
	[C(DHT_LSP_T_CSEQ)] = {K_U32, 0, 0, 0, DHT_LSP_P_CSEQ},
	[C(DHT_LSP_T_EXPIRES)] = {K_U32, 0, 0, 0, DHT_LSP_P_EXPIRES},
	[C(DHT_LSP_T_SOURCE)] = {K_ADDR, 0, 0, 0, DHT_LSP_P_SOURCE},
	[C(DHT_LSP_T_REPLY_CTX)] = {K_BYTES, 0, DHT_LSP_MAX_REPLY_CTX, LC_ELSP_TOO_LONG,
				    DHT_LSP_P_REPLY_CTX},
	[C(DHT_LSP_T_REMOVE_ALL)] = {K_EMPTY, 0, 0, 0, DHT_LSP_P_REMOVE_ALL},
	[C(DHT_LSP_T_STATUS)] = {K_U16, 0, 0, 0, DHT_LSP_P_STATUS},
	[C(DHT_LSP_T_REASON)] = {K_BYTES, 0, DHT_LSP_MAX_REASON, LC_ELSP_TOO_LONG,
				 DHT_LSP_P_REASON},
	[C(DHT_LSP_T_ERROR_DETAIL)] = {K_DETAIL, 0, 0, 0, DHT_LSP_P_ERROR_DETAIL},
	[C(DHT_LSP_T_MIN_EXPIRES)] = {K_U32, 0, 0, 0, DHT_LSP_P_MIN_EXPIRES},
	[C(DHT_LSP_T_RETRY_AFTER)] = {K_U32, 0, 0, 0, DHT_LSP_P_RETRY_AFTER},
	[C(DHT_LSP_T_NODE)] = {K_NODE, 0, 0, 0, DHT_LSP_P_NODE},
	[C(DHT_LSP_T_NODE_ID)] = {K_ID, 0, 0, 0, DHT_LSP_P_NODE_ID},
	[C(DHT_LSP_T_UPTIME)] = {K_U32, 0, 0, 0, DHT_LSP_P_UPTIME},
	[C(DHT_LSP_T_CONTACT)] = {K_BYTES, 1, DHT_LSP_MAX_RECORD_VAR, LC_ELSP_TLV_LENGTH,
				  DHT_LSP_P_CONTACT},
	[C(DHT_LSP_T_Q)] = {K_U16, 0, 0, 0, DHT_LSP_P_Q},
	[C(DHT_LSP_T_ATTRS)] = {K_BYTES, 0, DHT_LSP_MAX_RECORD_VAR, LC_ELSP_TOO_LONG,
				DHT_LSP_P_ATTRS},
	[C(DHT_LSP_T_INSTANCE)] = {K_BYTES, 0, DHT_LSP_MAX_RECORD_VAR, LC_ELSP_TOO_LONG,
				   DHT_LSP_P_INSTANCE},
	[C(DHT_LSP_T_REG_ID)] = {K_U32, 0, 0, 0, DHT_LSP_P_REG_ID},
	[C(DHT_LSP_T_PATH)] = {K_BYTES, 0, DHT_LSP_MAX_RECORD_VAR, LC_ELSP_TOO_LONG,
			       DHT_LSP_P_PATH},
	[C(DHT_LSP_T_AGE)] = {K_U32, 0, 0, 0, DHT_LSP_P_AGE},
};

/* Where each code may appear (docs/lsp.md §4.5). */
#define REQ_COMMON (BIT(DHT_LSP_T_KEY) | BIT(DHT_LSP_T_REPLY_CTX))
#define REQ_WRITE                                                                                  \
	(REQ_COMMON | BIT(DHT_LSP_T_RECORD) | BIT(DHT_LSP_T_CALL_ID) | BIT(DHT_LSP_T_CSEQ) |       \
	 BIT(DHT_LSP_T_SOURCE))
static const uint64_t allow_publish = REQ_WRITE | BIT(DHT_LSP_T_EXPIRES);
static const uint64_t allow_remove = REQ_WRITE | BIT(DHT_LSP_T_REMOVE_ALL);
static const uint64_t allow_lookup = REQ_COMMON;
static const uint64_t allow_ping = 0;
static const uint64_t allow_answer =
	REQ_COMMON | BIT(DHT_LSP_T_RECORD) | BIT(DHT_LSP_T_STATUS) | BIT(DHT_LSP_T_REASON) |
	BIT(DHT_LSP_T_ERROR_DETAIL) | BIT(DHT_LSP_T_MIN_EXPIRES) | BIT(DHT_LSP_T_RETRY_AFTER) |
	BIT(DHT_LSP_T_NODE) | BIT(DHT_LSP_T_NODE_ID) | BIT(DHT_LSP_T_UPTIME);
static const uint64_t allow_record =
	BIT(DHT_LSP_T_CONTACT) | BIT(DHT_LSP_T_Q) | BIT(DHT_LSP_T_ATTRS) | BIT(DHT_LSP_T_INSTANCE) |
	BIT(DHT_LSP_T_REG_ID) | BIT(DHT_LSP_T_PATH) | BIT(DHT_LSP_T_AGE) | BIT(DHT_LSP_T_CALL_ID) |
	BIT(DHT_LSP_T_CSEQ) | BIT(DHT_LSP_T_EXPIRES) | BIT(DHT_LSP_T_SOURCE);

/* The walk's position: the message, the record being filled (NULL at message level). */
struct walk {
	struct dht_lsp_msg *m;
	struct dht_lsp_record *r;
	const uint8_t *base; /* message start, for error offsets */
};

static int fail(struct walk *w, int err, const uint8_t *at, uint16_t type)
{
	w->m->err_off = (uint32_t)(at - w->base);
	w->m->err_tlv = type;
	return err;
}

bool dht_lsp_addr_decode(struct dht_addr *a, const uint8_t *v, size_t len)
{
	memset(a, 0, sizeof(*a));
	if (len == LSP_ADDR4_LEN && v[0] == LSP_FAMILY_IPV4) {
		a->family = AF_INET;
	} else if (len == LSP_ADDR6_LEN && v[0] == LSP_FAMILY_IPV6) {
		a->family = AF_INET6;
	} else {
		return false;
	}
	a->transport = v[1];
	a->port = lsp_rd16(v + 2);
	memcpy(a->addr, v + 4, len - 4);
	return true;
}

static void set_u32(struct walk *w, uint16_t code, uint32_t v)
{
	struct dht_lsp_msg *m = w->m;
	struct dht_lsp_record *r = w->r;
	switch (code) {
	case C(DHT_LSP_T_CSEQ):
		*(r ? &r->cseq : &m->cseq) = v;
		break;
	case C(DHT_LSP_T_EXPIRES):
		*(r ? &r->expires_s : &m->expires_s) = v;
		break;
	case C(DHT_LSP_T_MIN_EXPIRES):
		m->min_expires_s = v;
		break;
	case C(DHT_LSP_T_RETRY_AFTER):
		m->retry_after_s = v;
		break;
	case C(DHT_LSP_T_UPTIME):
		m->uptime_s = v;
		break;
	case C(DHT_LSP_T_REG_ID):
		r->reg_id = v;
		break;
	default: /* C(DHT_LSP_T_AGE) */
		r->age_s = v;
		break;
	}
}

static struct dht_bytes *bytes_field(struct walk *w, uint16_t code)
{
	struct dht_lsp_msg *m = w->m;
	struct dht_lsp_record *r = w->r;
	switch (code) {
	case C(DHT_LSP_T_KEY):
		return &m->key;
	case C(DHT_LSP_T_CALL_ID):
		return r ? &r->call_id : &m->call_id;
	case C(DHT_LSP_T_REPLY_CTX):
		return &m->reply_ctx;
	case C(DHT_LSP_T_REASON):
		return &m->reason;
	case C(DHT_LSP_T_CONTACT):
		return &r->contact;
	case C(DHT_LSP_T_ATTRS):
		return &r->attrs;
	case C(DHT_LSP_T_INSTANCE):
		return &r->instance;
	default: /* C(DHT_LSP_T_PATH) */
		return &r->path;
	}
}

static int walk_tlvs(struct walk *w, const uint8_t *p, const uint8_t *end, uint64_t allow);

static int take_record(struct walk *w, const uint8_t *at, uint16_t type, const uint8_t *v,
		       uint16_t len)
{
	struct dht_lsp_msg *m = w->m;
	if (m->nrecords == DHT_LSP_MAX_RECORDS) {
		return fail(w, LC_ELSP_TOO_MANY_RECORDS, at, type);
	}
	struct dht_lsp_record *r = &m->records[m->nrecords];
	memset(r, 0, sizeof(*r));
	r->q = -1;
	w->r = r;
	int ret = walk_tlvs(w, v, v + len, allow_record);
	w->r = NULL;
	if (ret != LC_OK) {
		return ret;
	}
	if (!(r->present & DHT_LSP_P_CONTACT)) {
		return fail(w, LC_ELSP_MISSING_CONTACT, at, type);
	}
	size_t var = (size_t)r->contact.len + r->instance.len + r->path.len + r->attrs.len;
	if (var > DHT_LSP_MAX_RECORD_VAR) {
		return fail(w, LC_ELSP_TOO_LONG, at, type);
	}
	m->nrecords++;
	return LC_OK;
}

/* One known TLV allowed here: check and store it. */
static int take(struct walk *w, const uint8_t *at, uint16_t type, const uint8_t *v, uint16_t len)
{
	uint16_t code = DHT_LSP_TLV_CODE(type);
	const struct tlv_spec *s = &tlv_spec[code];
	uint32_t *present = w->r ? &w->r->present : &w->m->present;
	if (*present & s->bit) {
		return fail(w, LC_ELSP_TLV_DUP, at, type);
	}
	switch (s->kind) {
	case K_RECORD:
		return take_record(w, at, type, v, len);
	case K_BYTES:
		if (len < s->min || len > s->max) {
			return fail(w, s->len_err, at, type);
		}
		*bytes_field(w, code) = (struct dht_bytes){(const char *)v, len};
		break;
	case K_U16:
		if (len != 2) {
			return fail(w, LC_ELSP_TLV_LENGTH, at, type);
		}
		if (code == C(DHT_LSP_T_Q)) {
			if (lsp_rd16(v) > DHT_LSP_MAX_Q) {
				return fail(w, LC_ELSP_Q, at, type);
			}
			w->r->q = (int16_t)lsp_rd16(v);
		} else {
			w->m->status = lsp_rd16(v);
		}
		break;
	case K_U32:
		if (len != 4) {
			return fail(w, LC_ELSP_TLV_LENGTH, at, type);
		}
		set_u32(w, code, lsp_rd32(v));
		break;
	case K_EMPTY:
		if (len != 0) {
			return fail(w, LC_ELSP_TLV_LENGTH, at, type);
		}
		break;
	case K_ADDR:
		if (!dht_lsp_addr_decode(w->r ? &w->r->src : &w->m->src, v, len)) {
			return fail(w, LC_ELSP_SOURCE, at, type);
		}
		break;
	case K_NODE:
		if (len < LSP_NODE_ID_LEN ||
		    !dht_lsp_addr_decode(&w->m->node.addr, v + LSP_NODE_ID_LEN,
					 len - LSP_NODE_ID_LEN)) {
			return fail(w, LC_ELSP_SOURCE, at, type);
		}
		w->m->node.id = lsp_rd_id(v);
		break;
	case K_ID:
		if (len != LSP_NODE_ID_LEN) {
			return fail(w, LC_ELSP_TLV_LENGTH, at, type);
		}
		w->m->node_id = lsp_rd_id(v);
		break;
	default: /* K_DETAIL */
		if (len != LSP_ERROR_DETAIL_LEN) {
			return fail(w, LC_ELSP_TLV_LENGTH, at, type);
		}
		w->m->detail.err = -(int)lsp_rd16(v);
		w->m->detail.tlv = lsp_rd16(v + 2);
		w->m->detail.offset = lsp_rd32(v + 4);
		break;
	}
	*present |= s->bit;
	return LC_OK;
}

/* Walk the TLVs in [p, end): a message body or a record's value. */
static int walk_tlvs(struct walk *w, const uint8_t *p, const uint8_t *end, uint64_t allow)
{
	while (p < end) {
		if (end - p < DHT_LSP_TLV_HDR_LEN) {
			return fail(w, LC_ELSP_TLV_SHORT, p, 0);
		}
		uint16_t type = lsp_rd16(p), len = lsp_rd16(p + 2);
		const uint8_t *v = p + DHT_LSP_TLV_HDR_LEN;
		if (len > end - v) {
			return fail(w, LC_ELSP_TLV_OVERRUN, p, type);
		}
		uint16_t code = DHT_LSP_TLV_CODE(type);
		if (code < NCODES && (allow >> code & 1)) {
			int ret = take(w, p, type, v, len);
			if (ret != LC_OK) {
				return ret;
			}
		} else if (type & DHT_LSP_TLV_M) {
			return fail(w, LC_ELSP_TLV_UNKNOWN, p, type);
		}
		p = v + len;
	}
	return LC_OK;
}

static uint64_t allowed_in(const struct dht_lsp_hdr *h)
{
	if (h->flags & DHT_LSP_F_ANSWER) {
		return allow_answer;
	}
	switch (h->type) {
	case DHT_LSP_PUBLISH:
		return allow_publish;
	case DHT_LSP_REMOVE:
		return allow_remove;
	case DHT_LSP_LOOKUP:
		return allow_lookup;
	default: /* DHT_LSP_PING */
		return allow_ping;
	}
}

/* The rules that span TLVs, checked once the body was walked. */
static int check_msg(struct walk *w, const uint8_t *end)
{
	struct dht_lsp_msg *m = w->m;
	if (m->hdr.flags & DHT_LSP_F_ANSWER) {
		if (!(m->present & DHT_LSP_P_STATUS)) {
			return fail(w, LC_ELSP_MISSING_STATUS, end, DHT_LSP_T_STATUS);
		}
		return LC_OK;
	}
	if (m->hdr.type == DHT_LSP_PING) {
		return LC_OK;
	}
	if (!(m->present & DHT_LSP_P_KEY)) {
		return fail(w, LC_ELSP_MISSING_KEY, end, DHT_LSP_T_KEY);
	}
	if (m->hdr.type == DHT_LSP_REMOVE &&
	    ((m->present & DHT_LSP_P_REMOVE_ALL) != 0) == (m->nrecords > 0)) {
		return fail(w, LC_ELSP_REMOVE, end, DHT_LSP_T_REMOVE_ALL);
	}
	return LC_OK;
}

static int parse_hdr(struct walk *w, const uint8_t *p, size_t len)
{
	struct dht_lsp_msg *m = w->m;
	struct dht_lsp_hdr *h = &m->hdr;
	if (len < DHT_LSP_HDR_LEN) {
		return fail(w, LC_ELSP_SHORT, p, 0);
	}
	if (lsp_rd16(p) != DHT_LSP_MAGIC) {
		return fail(w, LC_ELSP_MAGIC, p, 0);
	}
	h->version = p[2];
	h->type = p[3];
	h->flags = p[4];
	h->hop_limit = p[5];
	h->body_len = lsp_rd16(p + 6);
	h->txn_id = lsp_rd64(p + 8);
	h->overlay_id = lsp_rd64(p + 16);
	m->hdr_ok = true;
	if (h->version != DHT_LSP_VERSION) {
		return fail(w, LC_ELSP_VERSION, p + 2, 0);
	}
	if (h->body_len > DHT_LSP_MAX_BODY || len > DHT_LSP_MAX_MSG) {
		return fail(w, LC_ELSP_TOO_BIG, p + 6, 0);
	}
	if (len < DHT_LSP_HDR_LEN + (size_t)h->body_len) {
		return fail(w, LC_ELSP_TRUNCATED, p + 6, 0);
	}
	if (len > DHT_LSP_HDR_LEN + (size_t)h->body_len) {
		return fail(w, LC_ELSP_TRAILING, p + DHT_LSP_HDR_LEN + h->body_len, 0);
	}
	if (!dht_lsp_type_known(h->type)) {
		return fail(w, LC_ELSP_TYPE, p + 3, 0);
	}
	return LC_OK;
}

int dht_lsp_parse(struct dht_lsp_msg *m, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	memset(m, 0, offsetof(struct dht_lsp_msg, records));
	m->buf = (struct dht_bytes){buf, (uint32_t)LC_MIN(len, (size_t)UINT32_MAX)};
	struct walk w = {m, NULL, p};
	int ret = parse_hdr(&w, p, len);
	if (ret == LC_OK) {
		const uint8_t *end = p + DHT_LSP_HDR_LEN + m->hdr.body_len;
		ret = walk_tlvs(&w, p + DHT_LSP_HDR_LEN, end, allowed_in(&m->hdr));
		if (ret == LC_OK) {
			ret = check_msg(&w, end);
		}
	}
	m->err = ret;
	return ret;
}

int dht_lsp_frame_len(const void *buf, size_t len, size_t *need)
{
	const uint8_t *p = buf;
	if (len < DHT_LSP_HDR_LEN) {
		return LC_ELSP_SHORT;
	}
	if (lsp_rd16(p) != DHT_LSP_MAGIC) {
		return LC_ELSP_MAGIC;
	}
	uint16_t body = lsp_rd16(p + 6);
	if (body > DHT_LSP_MAX_BODY) {
		return LC_ELSP_TOO_BIG;
	}
	*need = DHT_LSP_HDR_LEN + (size_t)body;
	return LC_OK;
}

bool dht_lsp_can_answer(const struct dht_lsp_msg *m)
{
	return m->hdr_ok && !(m->hdr.flags & DHT_LSP_F_ANSWER);
}

bool dht_lsp_type_known(unsigned type)
{
	return type == DHT_LSP_PING || type == DHT_LSP_PUBLISH || type == DHT_LSP_REMOVE ||
	       type == DHT_LSP_LOOKUP;
}
