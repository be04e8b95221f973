/* SPDX-License-Identifier: MIT */
/*
 * The decoder of LSP's overlay and replication messages (docs/lsp.md §11), and the iterators
 * over their repeated TLVs. Same contract as dht_lsp_parse(): in place, views into the buffer,
 * the first error as a precise LC_ELSP_* code with the offset and type of the TLV at fault.
 *
 * How it works:
 *  1. The header is read by the same code as the client decoder (lsp_parse_hdr()), which only
 *     differs in the types it accepts.
 *  2. The body is walked TLV by TLV against the rules of the message type: rules[] gives, for
 *     each type, the TLVs a request and an answer may carry and those they must carry. A TLV
 *     outside that set is unknown here (mandatory: LC_ELSP_TLV_UNKNOWN; optional: skipped). A
 *     known one is checked against spec[] (its kind, length and value) and stored: a scalar
 *     into the field at spec.off, a view as a view.
 *  3. The repeated TLVs are validated whole but not stored: a PEER or MEMBER is decoded into a
 *     scratch struct and counted, an ENTRY is walked (KEY, VERSION, RECORDs, each record by the
 *     client decoder's lsp_record_decode() with the entry-only fields allowed) and counted. The
 *     offset of the first of each kind is kept, and the iterators walk from there, skipping
 *     other TLVs by code. Validation up front is what lets the iterators never fail.
 *  4. Then the rules that span TLVs: an answer has STATUS, and a 2xx answer and every request
 *     have what its type requires (the first missing one in canonical order is reported).
 * The field bits (DHT_LSP_O_*) are numbered in canonical order, so "first missing" is "lowest
 * missing bit".
 */
#include <stddef.h>
#include <string.h>

#include "common/lc_error.h"
#include "dht/dht_sync.h"
#include "dht/lsp.h"
#include "dht/lsp_internal.h"
#include "dht/lsp_ovl.h"

/* BUCKETS and BUCKET_SET carry dht_sync's digests and bucket sets as they are */
_Static_assert(DHT_LSP_MAX_BUCKETS == DHT_SYNC_BUCKETS &&
		       DHT_LSP_BUCKET_SET_LEN == DHT_SYNC_SET_BYTES,
	       "the wire's buckets are dht_sync's");

enum kind {
	K_NONE,
	K_STATUS,
	K_NODE,
	K_ID,
	K_U8,
	K_MODE,
	K_U32,
	K_U64,
	K_BYTES,
	K_ADDR,
	K_DETAIL,
	K_DIGEST,
	K_RANGE,
	K_CHAIN,
	K_PAGE,
	K_BUCKETS,
	K_SET,
	K_STATS,
	K_PEER,
	K_MEMBER,
	K_ENTRY,
};

struct tlv_spec {
	uint8_t kind;
	uint16_t min, max; /* length bounds of a K_BYTES value */
	int len_err;	   /* error when a K_BYTES value is out of bounds */
	uint32_t bit;	   /* DHT_LSP_O_* */
	uint16_t off;	   /* offset of the field in struct dht_lsp_ovl_msg */
};

#define C(t) DHT_LSP_TLV_CODE(t)
#define AT(t) [LSP_SLOT(C(DHT_LSP_T_##t))]
#define F(field) offsetof(struct dht_lsp_ovl_msg, field)

static const struct tlv_spec spec[LSP_NSLOTS] = {
	AT(STATUS) = {K_STATUS, 0, 0, 0, DHT_LSP_O_STATUS, F(status)},
	AT(SENDER) = {K_NODE, 0, 0, 0, DHT_LSP_O_SENDER, F(sender)},
	AT(KEY) = {K_BYTES, 1, DHT_LSP_MAX_KEY, LC_ELSP_KEY, DHT_LSP_O_KEY, F(key)},
	AT(REPLY_TO) = {K_ADDR, 0, 0, 0, DHT_LSP_O_REPLY_TO, F(reply_to)},
	AT(ORIG_TXN) = {K_U64, 0, 0, 0, DHT_LSP_O_ORIG_TXN, F(orig_txn)},
	AT(ORIG_TYPE) = {K_U8, 0, 0, 0, DHT_LSP_O_ORIG_TYPE, F(orig_type)},
	AT(REPLY_CTX) = {K_BYTES, 0, DHT_LSP_MAX_REPLY_CTX, LC_ELSP_TOO_LONG, DHT_LSP_O_REPLY_CTX,
			 F(reply_ctx)},
	AT(REASON) = {K_BYTES, 0, DHT_LSP_MAX_REASON, LC_ELSP_TOO_LONG, DHT_LSP_O_REASON,
		      F(reason)},
	AT(ERROR_DETAIL) = {K_DETAIL, 0, 0, 0, DHT_LSP_O_ERROR_DETAIL, F(detail)},
	AT(RETRY_AFTER) = {K_U32, 0, 0, 0, DHT_LSP_O_RETRY_AFTER, F(retry_after_s)},
	AT(TARGET) = {K_ID, 0, 0, 0, DHT_LSP_O_TARGET, F(target)},
	AT(OWNER) = {K_NODE, 0, 0, 0, DHT_LSP_O_OWNER, F(owner)},
	AT(CHAIN) = {K_CHAIN, 0, 0, 0, DHT_LSP_O_CHAIN, F(chain)},
	AT(RANGE) = {K_RANGE, 0, 0, 0, DHT_LSP_O_RANGE, F(range)},
	AT(SYNC_MODE) = {K_MODE, 0, 0, 0, DHT_LSP_O_SYNC_MODE, F(sync_mode)},
	AT(FLAGS) = {K_U32, 0, 0, 0, DHT_LSP_O_FLAGS, F(flags)},
	AT(INCARNATION) = {K_U32, 0, 0, 0, DHT_LSP_O_INCARNATION, F(incarnation)},
	AT(RING_SIZE) = {K_U32, 0, 0, 0, DHT_LSP_O_RING_SIZE, F(ring_size)},
	AT(VIEW_DIGEST) = {K_DIGEST, 0, 0, 0, DHT_LSP_O_VIEW_DIGEST, F(digest)},
	AT(PAGE) = {K_PAGE, 0, 0, 0, DHT_LSP_O_PAGE, F(page)},
	AT(PREDECESSOR) = {K_NODE, 0, 0, 0, DHT_LSP_O_PREDECESSOR, F(predecessor)},
	AT(BUCKETS) = {K_BUCKETS, 0, 0, 0, DHT_LSP_O_BUCKETS, F(buckets)},
	AT(BUCKET_SET) = {K_SET, 0, 0, 0, DHT_LSP_O_BUCKET_SET, F(bucket_set)},
	AT(NODE_STATS) = {K_STATS, 0, 0, 0, DHT_LSP_O_NODE_STATS, F(node_stats)},
	AT(PEER) = {K_PEER, 0, 0, 0, DHT_LSP_O_PEER, F(peer_at)},
	AT(MEMBER) = {K_MEMBER, 0, 0, 0, DHT_LSP_O_MEMBER, F(member_at)},
	AT(ENTRY) = {K_ENTRY, 0, 0, 0, DHT_LSP_O_ENTRY, F(entry_at)},
};

/* The TLV type of each field bit, in bit order: what a "missing" error names. */
static const uint16_t type_of_bit[] = {
	DHT_LSP_T_STATUS,	DHT_LSP_T_SENDER,      DHT_LSP_T_KEY,	      DHT_LSP_T_REPLY_TO,
	DHT_LSP_T_ORIG_TXN,	DHT_LSP_T_ORIG_TYPE,   DHT_LSP_T_REPLY_CTX,   DHT_LSP_T_REASON,
	DHT_LSP_T_ERROR_DETAIL, DHT_LSP_T_RETRY_AFTER, DHT_LSP_T_TARGET,      DHT_LSP_T_OWNER,
	DHT_LSP_T_CHAIN,	DHT_LSP_T_RANGE,       DHT_LSP_T_SYNC_MODE,   DHT_LSP_T_FLAGS,
	DHT_LSP_T_INCARNATION,	DHT_LSP_T_RING_SIZE,   DHT_LSP_T_VIEW_DIGEST, DHT_LSP_T_PAGE,
	DHT_LSP_T_PREDECESSOR,	DHT_LSP_T_BUCKETS,     DHT_LSP_T_BUCKET_SET,  DHT_LSP_T_NODE_STATS,
	DHT_LSP_T_PEER,		DHT_LSP_T_MEMBER,      DHT_LSP_T_ENTRY,
};
_Static_assert(LC_ARRAY_SIZE(type_of_bit) == 27 && DHT_LSP_O_ENTRY == 1u << 26,
	       "one TLV type per DHT_LSP_O_* bit, in bit order");

/* What each message type allows and requires (docs/lsp.md §11.3). */
struct rule {
	uint32_t allow, need;
};

#define O(x) DHT_LSP_O_##x
/* every answer may carry these; STATUS is required of all, SENDER of 2xx answers */
#define ANSWER_ANY (O(STATUS) | O(SENDER) | O(REASON) | O(ERROR_DETAIL) | O(RETRY_AFTER))

/* index: 0..8 for JOIN..NODE_INFO, 9..11 for REPLICA_STORE..RANGE_DIGEST (rule_index()) */
#define N_MAINT (DHT_LSP_NODE_INFO - DHT_LSP_JOIN + 1)
#define N_RULES (N_MAINT + DHT_LSP_RANGE_DIGEST - DHT_LSP_REPLICA_STORE + 1)
static const struct rule req_rules[N_RULES] = {
	/* JOIN */ {O(SENDER) | O(INCARNATION), O(SENDER)},
	/* FIND_SUCCESSOR */ {O(SENDER) | O(TARGET), O(SENDER) | O(TARGET)},
	/* GET_PREDECESSOR */ {O(SENDER), O(SENDER)},
	/* NOTIFY */ {O(SENDER), O(SENDER)},
	/* SUCCESSOR_LIST */ {O(SENDER), O(SENDER)},
	/* NODE_PING */ {O(SENDER) | O(INCARNATION), O(SENDER) | O(INCARNATION)},
	/* MEMBERSHIP */
	{O(SENDER) | O(VIEW_DIGEST) | O(FLAGS) | O(PAGE) | O(MEMBER), O(SENDER) | O(VIEW_DIGEST)},
	/* LEAVE */ {O(SENDER) | O(INCARNATION) | O(PEER), O(SENDER) | O(INCARNATION)},
	/* NODE_INFO */ {O(SENDER), O(SENDER)},
	/* REPLICA_STORE */
	{O(SENDER) | O(CHAIN) | O(OWNER) | O(REPLY_TO) | O(ORIG_TXN) | O(ORIG_TYPE) | O(REPLY_CTX) |
		 O(ENTRY),
	 O(SENDER) | O(CHAIN) | O(ENTRY)},
	/* RANGE_TRANSFER */
	{O(SENDER) | O(RANGE) | O(SYNC_MODE) | O(FLAGS) | O(ENTRY),
	 O(SENDER) | O(RANGE) | O(SYNC_MODE)},
	/* RANGE_DIGEST */
	{O(SENDER) | O(RANGE) | O(SYNC_MODE) | O(BUCKETS),
	 O(SENDER) | O(RANGE) | O(SYNC_MODE) | O(BUCKETS)},
};

/* allow: on top of ANSWER_ANY; need: of a 2xx answer, on top of SENDER */
static const struct rule ans_rules[N_RULES] = {
	/* JOIN */
	{O(RING_SIZE) | O(VIEW_DIGEST) | O(PAGE) | O(MEMBER),
	 O(RING_SIZE) | O(VIEW_DIGEST) | O(PAGE)},
	/* FIND_SUCCESSOR */ {O(TARGET) | O(PEER) | O(FLAGS), O(TARGET) | O(PEER)},
	/* GET_PREDECESSOR */ {O(PREDECESSOR) | O(PEER), 0},
	/* NOTIFY */ {0, 0},
	/* SUCCESSOR_LIST */ {O(PEER), 0},
	/* NODE_PING */ {O(INCARNATION), O(INCARNATION)},
	/* MEMBERSHIP */ {O(VIEW_DIGEST) | O(PAGE) | O(MEMBER), O(VIEW_DIGEST)},
	/* LEAVE */ {0, 0},
	/* NODE_INFO */
	{O(INCARNATION) | O(RING_SIZE) | O(PREDECESSOR) | O(NODE_STATS) | O(PEER),
	 O(INCARNATION) | O(RING_SIZE) | O(NODE_STATS)},
	/* REPLICA_STORE */
	{O(KEY) | O(REPLY_TO) | O(ORIG_TXN) | O(ORIG_TYPE) | O(REPLY_CTX), O(KEY)},
	/* RANGE_TRANSFER */ {0, 0},
	/* RANGE_DIGEST */ {O(RANGE) | O(BUCKET_SET), O(RANGE) | O(BUCKET_SET)},
};

static unsigned rule_index(unsigned type)
{
	return type >= DHT_LSP_REPLICA_STORE ? N_MAINT + type - DHT_LSP_REPLICA_STORE
					     : type - DHT_LSP_JOIN;
}

/* The walk: the message and where failures go. */
struct walk {
	struct dht_lsp_ovl_msg *m;
	struct lsp_fault f;
};

static int fail(struct walk *w, int err, const uint8_t *at, uint16_t type)
{
	return lsp_fail(&w->f, err, at, type);
}

static bool is_pow2(unsigned n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/* SYNC_MODE values each type accepts */
static bool mode_ok(unsigned type, unsigned mode)
{
	if (type == DHT_LSP_RANGE_DIGEST) {
		return mode == DHT_LSP_SYNC_PULL || mode == DHT_LSP_SYNC_PUSH ||
		       mode == DHT_LSP_SYNC_HANDOFF;
	}
	return mode == DHT_LSP_SYNC_MERGE;
}

/*
 * One ENTRY: KEY and VERSION once each, up to DHT_LSP_MAX_ENTRY_RECORDS RECORDs, each decoded
 * (and thrown away) by the client decoder's record code with the entry-only fields allowed.
 */
static int take_entry(struct walk *w, const uint8_t *at, uint16_t type, const uint8_t *v,
		      uint16_t len)
{
	if (DHT_LSP_TLV_HDR_LEN + (size_t)len > DHT_LSP_MAX_ENTRY) {
		return fail(w, LC_ELSP_TOO_LONG, at, type);
	}
	const uint8_t *p = v, *end = v + len;
	struct dht_bytes key = {NULL, 0};
	bool has_key = false, has_version = false;
	unsigned nrecords = 0;
	struct dht_lsp_record r;
	while (p < end) {
		uint16_t t = 0, n = 0;
		int ret = lsp_tlv_frame(p, end, &t, &n);
		if (ret != LC_OK) {
			return fail(w, ret, p, ret == LC_ELSP_TLV_SHORT ? 0 : t);
		}
		const uint8_t *tv = p + DHT_LSP_TLV_HDR_LEN;
		switch (C(t)) {
		case C(DHT_LSP_T_KEY):
			if (has_key) {
				return fail(w, LC_ELSP_TLV_DUP, p, t);
			}
			if (n < 1 || n > DHT_LSP_MAX_KEY) {
				return fail(w, LC_ELSP_KEY, p, t);
			}
			key = (struct dht_bytes){(const char *)tv, n};
			has_key = true;
			break;
		case C(DHT_LSP_T_VERSION):
			if (has_version) {
				return fail(w, LC_ELSP_TLV_DUP, p, t);
			}
			if (n != 8) {
				return fail(w, LC_ELSP_TLV_LENGTH, p, t);
			}
			has_version = true;
			break;
		case C(DHT_LSP_T_RECORD):
			if (nrecords == DHT_LSP_MAX_ENTRY_RECORDS) {
				return fail(w, LC_ELSP_TOO_MANY_RECORDS, p, t);
			}
			ret = lsp_record_decode(&w->f, &r, p, true);
			if (ret != LC_OK) {
				return ret;
			}
			nrecords++;
			break;
		default:
			if (t & DHT_LSP_TLV_M) {
				return fail(w, LC_ELSP_TLV_UNKNOWN, p, t);
			}
			break;
		}
		p = tv + n;
	}
	if (!has_key || !has_version) {
		return fail(w, LC_ELSP_ENTRY, at, type);
	}
	if (w->m->nentries == 0) {
		w->m->first_key = key;
	}
	w->m->nentries++;
	return LC_OK;
}

/* A PEER or MEMBER: validated into a scratch value and counted. */
static int take_repeated(struct walk *w, const struct tlv_spec *s, const uint8_t *at, uint16_t type,
			 const uint8_t *v, uint16_t len)
{
	struct dht_lsp_ovl_msg *m = w->m;
	if (s->kind == K_PEER) {
		struct dht_lsp_node n;
		/* in a FIND_SUCCESSOR answer PEER is single-valued */
		if (m->npeers > 0 && m->hdr.type == DHT_LSP_FIND_SUCCESSOR) {
			return fail(w, LC_ELSP_TLV_DUP, at, type);
		}
		if (m->npeers == DHT_LSP_MAX_PEERS) {
			return fail(w, LC_ELSP_TOO_MANY_PEERS, at, type);
		}
		if (!lsp_node_decode(&n, v, len)) {
			return fail(w, LC_ELSP_SOURCE, at, type);
		}
		m->npeers++;
		return LC_OK;
	}
	struct dht_addr a;
	if (m->nmembers == DHT_LSP_MAX_MEMBERS) {
		return fail(w, LC_ELSP_TOO_MANY_MEMBERS, at, type);
	}
	if (len < LSP_MEMBER_FIXED_LEN) {
		return fail(w, LC_ELSP_TLV_LENGTH, at, type);
	}
	uint8_t state = v[LSP_NODE_ID_LEN + 4];
	if (state != DHT_LSP_MEMBER_ALIVE && state != DHT_LSP_MEMBER_DEAD) {
		return fail(w, LC_ELSP_MEMBER, at, type);
	}
	if (!dht_lsp_addr_decode(&a, v + LSP_MEMBER_FIXED_LEN, len - LSP_MEMBER_FIXED_LEN)) {
		return fail(w, LC_ELSP_SOURCE, at, type);
	}
	m->nmembers++;
	return LC_OK;
}

/* Fixed-length kinds: their value length. */
static unsigned fixed_len(unsigned kind)
{
	switch (kind) {
	case K_STATUS:
		return 2;
	case K_ID:
		return LSP_NODE_ID_LEN;
	case K_U8:
	case K_MODE:
		return 1;
	case K_U32:
		return 4;
	case K_U64:
		return 8;
	case K_DETAIL:
		return LSP_ERROR_DETAIL_LEN;
	case K_DIGEST:
		return 12;
	case K_RANGE:
		return 2 * LSP_NODE_ID_LEN;
	case K_CHAIN:
		return 3;
	case K_PAGE:
		return 4;
	case K_SET:
		return DHT_LSP_BUCKET_SET_LEN;
	case K_STATS:
		return DHT_LSP_NODE_STATS_LEN;
	default: /* variable */
		return 0;
	}
}

/* NODE_STATS (DHT_LSP_NODE_STATS_LEN bytes): the 3 bytes after the flags are padding, ignored. */
static struct dht_lsp_node_stats stats_decode(const uint8_t *v)
{
	return (struct dht_lsp_node_stats){
		.fingers = lsp_rd32(v),
		.uptime_s = lsp_rd32(v + 4),
		.flags = v[8],
		.owned_keys = lsp_rd64(v + 12),
		.owned_bindings = lsp_rd64(v + 20),
		.replica_keys = lsp_rd64(v + 28),
		.replica_bindings = lsp_rd64(v + 36),
	};
}

/* The value of a fixed-length kind (its length already checked) into its field. */
static int store_fixed(struct walk *w, const struct tlv_spec *s, const uint8_t *at, uint16_t type,
		       const uint8_t *v)
{
	void *field = (char *)w->m + s->off;
	switch (s->kind) {
	case K_STATUS:
		*(uint16_t *)field = lsp_rd16(v);
		break;
	case K_ID:
		*(dht_id_t *)field = lsp_rd_id(v);
		break;
	case K_MODE:
		if (!mode_ok(w->m->hdr.type, v[0])) {
			return fail(w, LC_ELSP_SYNC_MODE, at, type);
		}
		/* fall through */
	case K_U8:
		*(uint8_t *)field = v[0];
		break;
	case K_U32:
		*(uint32_t *)field = lsp_rd32(v);
		break;
	case K_U64:
		*(uint64_t *)field = lsp_rd64(v);
		break;
	case K_DETAIL:
		w->m->detail = (struct dht_lsp_error_detail){-(int)lsp_rd16(v), lsp_rd16(v + 2),
							     lsp_rd32(v + 4)};
		break;
	case K_DIGEST:
		w->m->digest = (struct dht_lsp_digest){lsp_rd64(v), lsp_rd32(v + 8)};
		break;
	case K_RANGE:
		w->m->range = (struct dht_lsp_range){lsp_rd_id(v), lsp_rd_id(v + LSP_NODE_ID_LEN)};
		break;
	case K_CHAIN: {
		struct dht_lsp_chain c = {v[0], v[1], v[2]};
		if (c.position < 1 || c.position >= c.replicas || c.quorum < 1 ||
		    c.quorum > c.replicas) {
			return fail(w, LC_ELSP_CHAIN, at, type);
		}
		w->m->chain = c;
		break;
	}
	case K_PAGE: {
		struct dht_lsp_page pg = {lsp_rd16(v), lsp_rd16(v + 2)};
		if (pg.count < 1 || pg.index >= pg.count) {
			return fail(w, LC_ELSP_PAGE, at, type);
		}
		w->m->page = pg;
		break;
	}
	case K_STATS:
		w->m->node_stats = stats_decode(v);
		break;
	default: /* K_SET */
		w->m->bucket_set = v;
		break;
	}
	return LC_OK;
}

/* The variable-length kinds but the repeated ones. */
static int store_var(struct walk *w, const struct tlv_spec *s, const uint8_t *at, uint16_t type,
		     const uint8_t *v, uint16_t len)
{
	struct dht_lsp_ovl_msg *m = w->m;
	switch (s->kind) {
	case K_BYTES:
		if (len < s->min || len > s->max) {
			return fail(w, s->len_err, at, type);
		}
		*(struct dht_bytes *)((char *)m + s->off) =
			(struct dht_bytes){(const char *)v, len};
		return LC_OK;
	case K_NODE:
		if (!lsp_node_decode((struct dht_lsp_node *)((char *)m + s->off), v, len)) {
			return fail(w, LC_ELSP_SOURCE, at, type);
		}
		return LC_OK;
	case K_ADDR:
		if (!dht_lsp_addr_decode(&m->reply_to, v, len)) {
			return fail(w, LC_ELSP_SOURCE, at, type);
		}
		return LC_OK;
	default: /* K_BUCKETS: u16 n, a power of two up to 4096, then n x 12 bytes */
		if (len < 2) {
			return fail(w, LC_ELSP_TLV_LENGTH, at, type);
		}
		unsigned n = lsp_rd16(v);
		if (!is_pow2(n) || n > DHT_LSP_MAX_BUCKETS) {
			return fail(w, LC_ELSP_BUCKETS, at, type);
		}
		if (len != 2 + 12 * n) {
			return fail(w, LC_ELSP_TLV_LENGTH, at, type);
		}
		m->buckets = (struct dht_lsp_buckets){v + 2, (uint16_t)n};
		return LC_OK;
	}
}

/* One TLV the message type allows: check and store it. */
static int take(struct walk *w, const uint8_t *at, uint16_t type, const uint8_t *v, uint16_t len)
{
	struct dht_lsp_ovl_msg *m = w->m;
	const struct tlv_spec *s = &spec[LSP_SLOT(C(type))];
	bool repeated = s->kind == K_PEER || s->kind == K_MEMBER || s->kind == K_ENTRY;
	if (!repeated && (m->present & s->bit)) {
		return fail(w, LC_ELSP_TLV_DUP, at, type);
	}
	int ret;
	unsigned want = fixed_len(s->kind);
	if (repeated) {
		ret = s->kind == K_ENTRY ? take_entry(w, at, type, v, len)
					 : take_repeated(w, s, at, type, v, len);
		if (ret == LC_OK && !(m->present & s->bit)) {
			*(uint32_t *)((char *)m + s->off) = (uint32_t)(at - w->f.base);
		}
	} else if (want != 0) {
		ret = len != want ? fail(w, LC_ELSP_TLV_LENGTH, at, type)
				  : store_fixed(w, s, at, type, v);
	} else {
		ret = store_var(w, s, at, type, v, len);
	}
	if (ret == LC_OK) {
		m->present |= s->bit;
	}
	return ret;
}

static int walk_body(struct walk *w, const uint8_t *p, const uint8_t *end, uint32_t allow)
{
	while (p < end) {
		uint16_t type = 0, len = 0;
		int ret = lsp_tlv_frame(p, end, &type, &len);
		if (ret != LC_OK) {
			return fail(w, ret, p, ret == LC_ELSP_TLV_SHORT ? 0 : type);
		}
		unsigned slot = LSP_SLOT(C(type));
		if (slot < LSP_NSLOTS && (spec[slot].bit & allow) != 0) {
			ret = take(w, p, type, p + DHT_LSP_TLV_HDR_LEN, len);
			if (ret != LC_OK) {
				return ret;
			}
		} else if (type & DHT_LSP_TLV_M) {
			return fail(w, LC_ELSP_TLV_UNKNOWN, p, type);
		}
		p += DHT_LSP_TLV_HDR_LEN + len;
	}
	return LC_OK;
}

/* The rules that span TLVs, once the body was walked. */
static int check_msg(struct walk *w, const uint8_t *end)
{
	struct dht_lsp_ovl_msg *m = w->m;
	unsigned i = rule_index(m->hdr.type);
	uint32_t need = req_rules[i].need;
	if (dht_lsp_ovl_is_answer(m)) {
		if (!(m->present & DHT_LSP_O_STATUS)) {
			return fail(w, LC_ELSP_MISSING_STATUS, end, DHT_LSP_T_STATUS);
		}
		/* an error answer may come from a node that cannot say more (docs/lsp.md §11.2) */
		need = m->status / 100 == 2 ? ans_rules[i].need | DHT_LSP_O_SENDER : 0;
	}
	uint32_t missing = need & ~m->present;
	if (missing != 0) {
		return fail(w, LC_ELSP_MISSING_TLV, end, type_of_bit[__builtin_ctz(missing)]);
	}
	return LC_OK;
}

int dht_lsp_ovl_parse(struct dht_lsp_ovl_msg *m, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	memset(m, 0, sizeof(*m));
	m->buf = (struct dht_bytes){buf, (uint32_t)LC_MIN(len, (size_t)UINT32_MAX)};
	struct walk w = {m, {p, 0, 0}};
	int ret = lsp_parse_hdr(&w.f, &m->hdr, &m->hdr_ok, p, len, true);
	if (ret == LC_OK) {
		const uint8_t *end = p + DHT_LSP_HDR_LEN + m->hdr.body_len;
		unsigned i = rule_index(m->hdr.type);
		uint32_t allow = dht_lsp_ovl_is_answer(m) ? ANSWER_ANY | ans_rules[i].allow
							  : req_rules[i].allow;
		ret = walk_body(&w, p + DHT_LSP_HDR_LEN, end, allow);
		if (ret == LC_OK) {
			ret = check_msg(&w, end);
		}
	}
	m->err = ret;
	m->err_off = w.f.off;
	m->err_tlv = w.f.tlv;
	return ret;
}

bool dht_lsp_ovl_can_answer(const struct dht_lsp_ovl_msg *m)
{
	if (!m->hdr_ok || dht_lsp_ovl_is_answer(m)) {
		return false;
	}
	/* a transfer is answered once, at its last frame; a frame that failed is answered */
	return m->hdr.type != DHT_LSP_RANGE_TRANSFER || m->err != LC_OK ||
	       (m->flags & DHT_LSP_FLAG_LAST) != 0;
}

/* ---- iterators ---- */

static struct dht_lsp_iter iter_of(const struct dht_lsp_ovl_msg *m, uint32_t at, uint16_t n,
				   uint16_t type)
{
	if (m->err != LC_OK || n == 0) {
		return (struct dht_lsp_iter){NULL, NULL, C(type), 0};
	}
	const uint8_t *base = (const uint8_t *)m->buf.p;
	return (struct dht_lsp_iter){base + at, base + m->buf.len, C(type), n};
}

/* The next TLV of the iterator's code: its value and length; NULL when done. */
static const uint8_t *iter_next(struct dht_lsp_iter *it, uint16_t *len)
{
	while (it->left > 0 && it->end - it->p >= DHT_LSP_TLV_HDR_LEN) {
		const uint8_t *p = it->p;
		uint16_t type = lsp_rd16(p), n = lsp_rd16(p + 2);
		if (n > it->end - p - DHT_LSP_TLV_HDR_LEN) {
			break; /* cannot happen after validation; never read past the buffer */
		}
		it->p = p + DHT_LSP_TLV_HDR_LEN + n;
		if (C(type) == it->code) {
			it->left--;
			*len = n;
			return p + DHT_LSP_TLV_HDR_LEN;
		}
	}
	it->left = 0;
	return NULL;
}

struct dht_lsp_iter dht_lsp_ovl_peers(const struct dht_lsp_ovl_msg *m)
{
	return iter_of(m, m->peer_at, m->npeers, DHT_LSP_T_PEER);
}

struct dht_lsp_iter dht_lsp_ovl_members(const struct dht_lsp_ovl_msg *m)
{
	return iter_of(m, m->member_at, m->nmembers, DHT_LSP_T_MEMBER);
}

struct dht_lsp_iter dht_lsp_ovl_entries(const struct dht_lsp_ovl_msg *m)
{
	return iter_of(m, m->entry_at, m->nentries, DHT_LSP_T_ENTRY);
}

bool dht_lsp_ovl_next_peer(struct dht_lsp_iter *it, struct dht_lsp_node *out)
{
	uint16_t len = 0;
	const uint8_t *v = iter_next(it, &len);
	return v != NULL && lsp_node_decode(out, v, len);
}

bool dht_lsp_ovl_next_member(struct dht_lsp_iter *it, struct dht_lsp_member *out)
{
	uint16_t len = 0;
	const uint8_t *v = iter_next(it, &len);
	if (v == NULL || len < LSP_MEMBER_FIXED_LEN) {
		return false;
	}
	out->id = lsp_rd_id(v);
	out->incarnation = lsp_rd32(v + LSP_NODE_ID_LEN);
	out->state = v[LSP_NODE_ID_LEN + 4];
	return dht_lsp_addr_decode(&out->addr, v + LSP_MEMBER_FIXED_LEN,
				   len - LSP_MEMBER_FIXED_LEN);
}

bool dht_lsp_ovl_next_entry(struct dht_lsp_iter *it, struct dht_lsp_entry *out)
{
	uint16_t len = 0;
	const uint8_t *v = iter_next(it, &len);
	if (v == NULL) {
		return false;
	}
	memset(out, 0, sizeof(*out));
	const uint8_t *p = v, *end = v + len, *first = NULL;
	while (end - p >= DHT_LSP_TLV_HDR_LEN) {
		uint16_t t = lsp_rd16(p), n = lsp_rd16(p + 2);
		const uint8_t *tv = p + DHT_LSP_TLV_HDR_LEN;
		if (C(t) == C(DHT_LSP_T_KEY)) {
			out->key = (struct dht_bytes){(const char *)tv, n};
		} else if (C(t) == C(DHT_LSP_T_VERSION) && n == 8) {
			out->version = lsp_rd64(tv);
		} else if (C(t) == C(DHT_LSP_T_RECORD)) {
			first = first ? first : p;
			out->nrecords++;
		}
		p = tv + n;
	}
	out->records = (struct dht_lsp_iter){first, end, C(DHT_LSP_T_RECORD), out->nrecords};
	return true;
}

bool dht_lsp_ovl_next_record(struct dht_lsp_iter *it, struct dht_lsp_record *out)
{
	uint16_t len = 0;
	const uint8_t *v = iter_next(it, &len);
	if (v == NULL) {
		return false;
	}
	struct lsp_fault f = {v, 0, 0};
	return lsp_record_decode(&f, out, v - DHT_LSP_TLV_HDR_LEN, true) == LC_OK;
}
