/* SPDX-License-Identifier: MIT */
/*
 * The LSP decoder of client messages: one message in place into a struct dht_lsp_msg of views,
 * with the first error as a precise LC_ELSP_* code and the offset and type of the TLV at fault, so
 * the node can answer BAD_REQUEST with an ERROR_DETAIL that tells the client exactly what it sent
 * wrong. It also holds the record decoder that the overlay decoder (lsp_ovl_parse.c) uses for the
 * records of a replication ENTRY.
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
 *  3. A RECORD's value is walked the same way with the record set (or, inside a replication
 *     ENTRY, the record set plus EXPIRES_AT, REGISTERED_AT, TXN_TAG, REC_VERSION, WRITER,
 *     REMOVED); records do not nest, so there is no recursion. Then the record's rules (CONTACT
 *     present, the byte budget, REMOVED = ALL only with CONTACT "*") and the message-level
 *     ones: KEY present, REMOVE says ALL or lists records (not both), an answer has a STATUS.
 * TLV codes live in two blocks, 0x0000-0x003f (client) and 0x0100-0x013f (overlay, REPLY_TO and
 * the replication record fields); LSP_SLOT() folds both into one 128-entry table and 128-bit
 * masks.
 * The decoder reads each byte at most twice, writes only into *m and keeps no state.
 */
#include <string.h>
#include <sys/socket.h>

#include "common/lc_error.h"
#include "dht/lsp.h"
#include "dht/lsp_internal.h"

enum kind {
	K_NONE,
	K_BYTES,
	K_U8,
	K_U16,
	K_U32,
	K_U64,
	K_EMPTY,
	K_ADDR,
	K_NODE,
	K_ID,
	K_DETAIL,
	K_RECORD
};

typedef unsigned __int128 mask_t;

/* How to read each TLV code; codes not listed are unknown to v1. */
struct tlv_spec {
	uint8_t kind;
	uint16_t min, max; /* length bounds of a K_BYTES value */
	int len_err;	   /* error when a K_BYTES value is out of bounds */
	uint32_t bit;	   /* DHT_LSP_P_* */
};

#define NSLOTS LSP_NSLOTS
#define SLOT(c) LSP_SLOT(c)
#define C(t) DHT_LSP_TLV_CODE(t)
#define BIT(t) ((mask_t)1 << SLOT(C(t)))

static const struct tlv_spec tlv_spec[NSLOTS] = {
	[SLOT(C(DHT_LSP_T_KEY))] = {K_BYTES, 1, DHT_LSP_MAX_KEY, LC_ELSP_KEY, DHT_LSP_P_KEY},
	[SLOT(C(DHT_LSP_T_RECORD))] = {K_RECORD, 0, 0, 0, 0},
	[SLOT(C(DHT_LSP_T_CALL_ID))] = {K_BYTES, 0, DHT_LSP_MAX_CALL_ID, LC_ELSP_TOO_LONG,
					DHT_LSP_P_CALL_ID},
	[SLOT(C(DHT_LSP_T_CSEQ))] = {K_U32, 0, 0, 0, DHT_LSP_P_CSEQ},
	[SLOT(C(DHT_LSP_T_EXPIRES))] = {K_U32, 0, 0, 0, DHT_LSP_P_EXPIRES},
	[SLOT(C(DHT_LSP_T_SOURCE))] = {K_ADDR, 0, 0, 0, DHT_LSP_P_SOURCE},
	[SLOT(C(DHT_LSP_T_REPLY_CTX))] = {K_BYTES, 0, DHT_LSP_MAX_REPLY_CTX, LC_ELSP_TOO_LONG,
					  DHT_LSP_P_REPLY_CTX},
	[SLOT(C(DHT_LSP_T_REMOVE_ALL))] = {K_EMPTY, 0, 0, 0, DHT_LSP_P_REMOVE_ALL},
	[SLOT(C(DHT_LSP_T_STATUS))] = {K_U16, 0, 0, 0, DHT_LSP_P_STATUS},
	[SLOT(C(DHT_LSP_T_REASON))] = {K_BYTES, 0, DHT_LSP_MAX_REASON, LC_ELSP_TOO_LONG,
				       DHT_LSP_P_REASON},
	[SLOT(C(DHT_LSP_T_ERROR_DETAIL))] = {K_DETAIL, 0, 0, 0, DHT_LSP_P_ERROR_DETAIL},
	[SLOT(C(DHT_LSP_T_MIN_EXPIRES))] = {K_U32, 0, 0, 0, DHT_LSP_P_MIN_EXPIRES},
	[SLOT(C(DHT_LSP_T_RETRY_AFTER))] = {K_U32, 0, 0, 0, DHT_LSP_P_RETRY_AFTER},
	[SLOT(C(DHT_LSP_T_NODE))] = {K_NODE, 0, 0, 0, DHT_LSP_P_NODE},
	[SLOT(C(DHT_LSP_T_NODE_ID))] = {K_ID, 0, 0, 0, DHT_LSP_P_NODE_ID},
	[SLOT(C(DHT_LSP_T_UPTIME))] = {K_U32, 0, 0, 0, DHT_LSP_P_UPTIME},
	[SLOT(C(DHT_LSP_T_CONTACT))] = {K_BYTES, 1, DHT_LSP_MAX_RECORD_VAR, LC_ELSP_TLV_LENGTH,
					DHT_LSP_P_CONTACT},
	[SLOT(C(DHT_LSP_T_Q))] = {K_U16, 0, 0, 0, DHT_LSP_P_Q},
	[SLOT(C(DHT_LSP_T_ATTRS))] = {K_BYTES, 0, DHT_LSP_MAX_RECORD_VAR, LC_ELSP_TOO_LONG,
				      DHT_LSP_P_ATTRS},
	[SLOT(C(DHT_LSP_T_INSTANCE))] = {K_BYTES, 0, DHT_LSP_MAX_RECORD_VAR, LC_ELSP_TOO_LONG,
					 DHT_LSP_P_INSTANCE},
	[SLOT(C(DHT_LSP_T_REG_ID))] = {K_U32, 0, 0, 0, DHT_LSP_P_REG_ID},
	[SLOT(C(DHT_LSP_T_PATH))] = {K_BYTES, 0, DHT_LSP_MAX_RECORD_VAR, LC_ELSP_TOO_LONG,
				     DHT_LSP_P_PATH},
	[SLOT(C(DHT_LSP_T_AGE))] = {K_U32, 0, 0, 0, DHT_LSP_P_AGE},
	[SLOT(C(DHT_LSP_T_REPLY_TO))] = {K_ADDR, 0, 0, 0, DHT_LSP_P_REPLY_TO},
	[SLOT(C(DHT_LSP_T_EXPIRES_AT))] = {K_U32, 0, 0, 0, DHT_LSP_P_EXPIRES_AT},
	[SLOT(C(DHT_LSP_T_REGISTERED_AT))] = {K_U32, 0, 0, 0, DHT_LSP_P_REGISTERED_AT},
	[SLOT(C(DHT_LSP_T_TXN_TAG))] = {K_U32, 0, 0, 0, DHT_LSP_P_TXN_TAG},
	[SLOT(C(DHT_LSP_T_REC_VERSION))] = {K_U64, 0, 0, 0, DHT_LSP_P_REC_VERSION},
	[SLOT(C(DHT_LSP_T_WRITER))] = {K_U64, 0, 0, 0, DHT_LSP_P_WRITER},
	[SLOT(C(DHT_LSP_T_REMOVED))] = {K_U8, 0, 0, 0, DHT_LSP_P_REMOVED},
};

/* Where each code may appear (docs/lsp.md §4.5). */
#define REQ_COMMON (BIT(DHT_LSP_T_KEY) | BIT(DHT_LSP_T_REPLY_CTX))
#define REQ_ROUTED (REQ_COMMON | BIT(DHT_LSP_T_REPLY_TO))
#define REQ_WRITE                                                                                  \
	(REQ_ROUTED | BIT(DHT_LSP_T_RECORD) | BIT(DHT_LSP_T_CALL_ID) | BIT(DHT_LSP_T_CSEQ) |       \
	 BIT(DHT_LSP_T_SOURCE))
#define ALLOW_RECORD                                                                               \
	(BIT(DHT_LSP_T_CONTACT) | BIT(DHT_LSP_T_Q) | BIT(DHT_LSP_T_ATTRS) |                        \
	 BIT(DHT_LSP_T_INSTANCE) | BIT(DHT_LSP_T_REG_ID) | BIT(DHT_LSP_T_PATH) |                   \
	 BIT(DHT_LSP_T_AGE) | BIT(DHT_LSP_T_CALL_ID) | BIT(DHT_LSP_T_CSEQ) |                       \
	 BIT(DHT_LSP_T_EXPIRES) | BIT(DHT_LSP_T_SOURCE))
static const mask_t allow_publish = REQ_WRITE | BIT(DHT_LSP_T_EXPIRES);
static const mask_t allow_remove = REQ_WRITE | BIT(DHT_LSP_T_REMOVE_ALL);
static const mask_t allow_lookup = REQ_ROUTED;
static const mask_t allow_ping = 0;
static const mask_t allow_answer =
	REQ_COMMON | BIT(DHT_LSP_T_RECORD) | BIT(DHT_LSP_T_STATUS) | BIT(DHT_LSP_T_REASON) |
	BIT(DHT_LSP_T_ERROR_DETAIL) | BIT(DHT_LSP_T_MIN_EXPIRES) | BIT(DHT_LSP_T_RETRY_AFTER) |
	BIT(DHT_LSP_T_NODE) | BIT(DHT_LSP_T_NODE_ID) | BIT(DHT_LSP_T_UPTIME);
static const mask_t allow_record = ALLOW_RECORD;
static const mask_t allow_entry_record = ALLOW_RECORD | BIT(DHT_LSP_T_EXPIRES_AT) |
					 BIT(DHT_LSP_T_REGISTERED_AT) | BIT(DHT_LSP_T_TXN_TAG) |
					 BIT(DHT_LSP_T_REC_VERSION) | BIT(DHT_LSP_T_WRITER) |
					 BIT(DHT_LSP_T_REMOVED);

/* The walk's position: the message (NULL when decoding a lone record), the record being filled
 * (NULL at message level), and where failures are recorded. */
struct walk {
	struct dht_lsp_msg *m;
	struct dht_lsp_record *r;
	struct lsp_fault *f;
};

static int fail(struct walk *w, int err, const uint8_t *at, uint16_t type)
{
	return lsp_fail(w->f, err, at, type);
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
	case C(DHT_LSP_T_EXPIRES_AT):
		r->expires_at_s = v;
		break;
	case C(DHT_LSP_T_REGISTERED_AT):
		r->registered_at_s = v;
		break;
	case C(DHT_LSP_T_TXN_TAG):
		r->txn_tag = v;
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

/* REC_VERSION, WRITER (u64) and REMOVED (u8): the fields of an ENTRY's records that make the
 * record a versioned element. Only ever allowed inside a record, so w->r is set. */
static int take_element(struct walk *w, const uint8_t *at, uint16_t type, const uint8_t *v,
			uint16_t len)
{
	uint16_t code = DHT_LSP_TLV_CODE(type);
	if (code == C(DHT_LSP_T_REMOVED)) {
		if (len != 1) {
			return fail(w, LC_ELSP_TLV_LENGTH, at, type);
		}
		if (v[0] != DHT_LSP_REMOVED_CONTACT && v[0] != DHT_LSP_REMOVED_ALL) {
			return fail(w, LC_ELSP_REMOVED, at, type);
		}
		w->r->removed = v[0];
		return LC_OK;
	}
	if (len != 8) {
		return fail(w, LC_ELSP_TLV_LENGTH, at, type);
	}
	*(code == C(DHT_LSP_T_WRITER) ? &w->r->writer : &w->r->version) = lsp_rd64(v);
	return LC_OK;
}

static int walk_tlvs(struct walk *w, const uint8_t *p, const uint8_t *end, mask_t allow);

int lsp_record_decode(struct lsp_fault *f, struct dht_lsp_record *r, const uint8_t *tlv,
		      bool in_entry)
{
	uint16_t type = lsp_rd16(tlv), len = lsp_rd16(tlv + 2);
	const uint8_t *v = tlv + DHT_LSP_TLV_HDR_LEN;
	memset(r, 0, sizeof(*r));
	r->q = -1;
	struct walk w = {NULL, r, f};
	int ret = walk_tlvs(&w, v, v + len, in_entry ? allow_entry_record : allow_record);
	if (ret != LC_OK) {
		return ret;
	}
	if (!(r->present & DHT_LSP_P_CONTACT)) {
		return lsp_fail(f, LC_ELSP_MISSING_CONTACT, tlv, type);
	}
	size_t var = (size_t)r->contact.len + r->instance.len + r->path.len + r->attrs.len;
	if (var > DHT_LSP_MAX_RECORD_VAR) {
		return lsp_fail(f, LC_ELSP_TOO_LONG, tlv, type);
	}
	if (r->removed == DHT_LSP_REMOVED_ALL && !lsp_contact_is_all(r)) {
		return lsp_fail(f, LC_ELSP_REMOVED, tlv, type);
	}
	return LC_OK;
}

static int take_record(struct walk *w, const uint8_t *at, uint16_t type)
{
	struct dht_lsp_msg *m = w->m;
	if (m->nrecords == DHT_LSP_MAX_RECORDS) {
		return fail(w, LC_ELSP_TOO_MANY_RECORDS, at, type);
	}
	int ret = lsp_record_decode(w->f, &m->records[m->nrecords], at, false);
	if (ret == LC_OK) {
		m->nrecords++;
	}
	return ret;
}

bool lsp_node_decode(struct dht_lsp_node *n, const uint8_t *v, size_t len)
{
	if (len < LSP_NODE_ID_LEN ||
	    !dht_lsp_addr_decode(&n->addr, v + LSP_NODE_ID_LEN, len - LSP_NODE_ID_LEN)) {
		return false;
	}
	n->id = lsp_rd_id(v);
	return true;
}

/* One known TLV allowed here: check and store it. One switch over the value kinds, a little
 * over 80 lines, kept whole so that each kind's checks read in one place. */
static int take(struct walk *w, const uint8_t *at, uint16_t type, const uint8_t *v, uint16_t len)
{
	uint16_t code = DHT_LSP_TLV_CODE(type);
	const struct tlv_spec *s = &tlv_spec[SLOT(code)];
	uint32_t *present = w->r ? &w->r->present : &w->m->present;
	if (*present & s->bit) {
		return fail(w, LC_ELSP_TLV_DUP, at, type);
	}
	switch (s->kind) {
	case K_RECORD:
		return take_record(w, at, type);
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
	case K_U8:
	case K_U64: {
		int ret = take_element(w, at, type, v, len);
		if (ret != LC_OK) {
			return ret;
		}
		break;
	}
	case K_EMPTY:
		if (len != 0) {
			return fail(w, LC_ELSP_TLV_LENGTH, at, type);
		}
		break;
	case K_ADDR: {
		struct dht_addr *a = w->r			     ? &w->r->src
				     : code == C(DHT_LSP_T_REPLY_TO) ? &w->m->reply_to
								     : &w->m->src;
		if (!dht_lsp_addr_decode(a, v, len)) {
			return fail(w, LC_ELSP_SOURCE, at, type);
		}
		break;
	}
	case K_NODE:
		if (!lsp_node_decode(&w->m->node, v, len)) {
			return fail(w, LC_ELSP_SOURCE, at, type);
		}
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
static int walk_tlvs(struct walk *w, const uint8_t *p, const uint8_t *end, mask_t allow)
{
	while (p < end) {
		uint16_t type = 0, len = 0;
		int ret = lsp_tlv_frame(p, end, &type, &len);
		if (ret != LC_OK) {
			return fail(w, ret, p, ret == LC_ELSP_TLV_SHORT ? 0 : type);
		}
		const uint8_t *v = p + DHT_LSP_TLV_HDR_LEN;
		uint16_t code = DHT_LSP_TLV_CODE(type);
		if (SLOT(code) < NSLOTS && (allow >> SLOT(code) & 1)) {
			ret = take(w, p, type, v, len);
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

static mask_t allowed_in(const struct dht_lsp_hdr *h)
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

int lsp_parse_hdr(struct lsp_fault *f, struct dht_lsp_hdr *h, bool *hdr_ok, const uint8_t *p,
		  size_t len, bool overlay)
{
	if (len < DHT_LSP_HDR_LEN) {
		return lsp_fail(f, LC_ELSP_SHORT, p, 0);
	}
	if (lsp_rd16(p) != DHT_LSP_MAGIC) {
		return lsp_fail(f, LC_ELSP_MAGIC, p, 0);
	}
	h->version = p[2];
	h->type = p[3];
	h->flags = p[4];
	h->hop_limit = p[5];
	h->body_len = lsp_rd16(p + 6);
	h->txn_id = lsp_rd64(p + 8);
	h->overlay_id = lsp_rd64(p + 16);
	*hdr_ok = true;
	if (h->version != DHT_LSP_VERSION) {
		return lsp_fail(f, LC_ELSP_VERSION, p + 2, 0);
	}
	if (h->body_len > DHT_LSP_MAX_BODY || len > DHT_LSP_MAX_MSG) {
		return lsp_fail(f, LC_ELSP_TOO_BIG, p + 6, 0);
	}
	if (len < DHT_LSP_HDR_LEN + (size_t)h->body_len) {
		return lsp_fail(f, LC_ELSP_TRUNCATED, p + 6, 0);
	}
	if (len > DHT_LSP_HDR_LEN + (size_t)h->body_len) {
		return lsp_fail(f, LC_ELSP_TRAILING, p + DHT_LSP_HDR_LEN + h->body_len, 0);
	}
	if (overlay ? !dht_lsp_type_is_overlay(h->type) : !dht_lsp_type_known(h->type)) {
		return lsp_fail(f, LC_ELSP_TYPE, p + 3, 0);
	}
	return LC_OK;
}

int dht_lsp_parse(struct dht_lsp_msg *m, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	memset(m, 0, offsetof(struct dht_lsp_msg, records));
	m->buf = (struct dht_bytes){buf, (uint32_t)LC_MIN(len, (size_t)UINT32_MAX)};
	struct lsp_fault f = {p, 0, 0};
	struct walk w = {m, NULL, &f};
	int ret = lsp_parse_hdr(&f, &m->hdr, &m->hdr_ok, p, len, false);
	if (ret == LC_OK) {
		const uint8_t *end = p + DHT_LSP_HDR_LEN + m->hdr.body_len;
		ret = walk_tlvs(&w, p + DHT_LSP_HDR_LEN, end, allowed_in(&m->hdr));
		if (ret == LC_OK) {
			ret = check_msg(&w, end);
		}
	}
	m->err = ret;
	m->err_off = f.off;
	m->err_tlv = f.tlv;
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

bool dht_lsp_type_is_overlay(unsigned type)
{
	return (type >= DHT_LSP_JOIN && type <= DHT_LSP_NODE_INFO) ||
	       (type >= DHT_LSP_REPLICA_STORE && type <= DHT_LSP_RANGE_DIGEST);
}
