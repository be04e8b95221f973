/* SPDX-License-Identifier: MIT */
/*
 * The overlay and replication messages of LSP (docs/lsp.md §11): what locusd nodes say to each
 * other to form the Chord ring (JOIN, FIND_SUCCESSOR, GET_PREDECESSOR, NOTIFY, SUCCESSOR_LIST,
 * NODE_PING, MEMBERSHIP, LEAVE), to show a node's state (NODE_INFO) and to keep R copies of every
 * key (REPLICA_STORE, RANGE_TRANSFER, RANGE_DIGEST). Same header, same TLV encoding and the same
 * builder as the client messages of dht/lsp.h; this header adds their decoded form (struct
 * dht_lsp_ovl_msg), a zero-copy decoder (lsp_ovl_parse.c), typed appends for every overlay TLV
 * (lsp_ovl_build.c) and an encoder from the decoded form (lsp_ovl_encode.c). Pure: no
 * allocation, no I/O, no globals.
 *
 * Repeated TLVs (PEER, MEMBER, ENTRY, and the RECORDs of an ENTRY) are not copied into arrays:
 * the decoder validates every one of them up front and counts them, and iterators walk them in
 * the buffer afterwards. So the decoded message stays small (about 500 bytes, whatever it
 * carries), and iteration cannot fail: an iterator over a message that did not decode yields
 * nothing.
 *
 * Which decoder: see dht/lsp.h (dht_lsp_is_overlay_msg()). dht_lsp_ovl_parse() refuses the
 * client types with LC_ELSP_TYPE, as dht_lsp_parse() refuses the overlay types.
 *
 * Views: every struct dht_bytes and pointer in a decoded message, and everything an iterator
 * gives, points into the buffer given to dht_lsp_ovl_parse() and dies with it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/lc_compiler.h"
#include "dht/dht_key.h"
#include "dht/lsp.h"

/* ---- Limits (docs/lsp.md §11.6). Input beyond one is refused with the code beside it. ---- */

/* PEERs in one message (successor lists; LC_ELSP_TOO_MANY_PEERS). */
#define DHT_LSP_MAX_PEERS 32
/* MEMBERs in one message (LC_ELSP_TOO_MANY_MEMBERS): 1024 of the largest (IPv6, 49 bytes with
 * the TLV header) and every other field of a JOIN or MEMBERSHIP always fit one message, so a view
 * of n members takes ceil(n / 1024) pages. */
#define DHT_LSP_MAX_MEMBERS 1024
/* RECORDs in one ENTRY: a key holds at most 256 bindings (LC_ELSP_TOO_MANY_RECORDS). Client
 * messages keep DHT_LSP_MAX_RECORDS (32). */
#define DHT_LSP_MAX_ENTRY_RECORDS 256
/* Bytes of one ENTRY TLV, header included (LC_ELSP_TOO_LONG): what is left of the body once a
 * REPLICA_STORE carries every other field at its largest (SENDER and OWNER with IPv6 addresses
 * 40 each, CHAIN 7, REPLY_TO 24, ORIG_TXN 12, ORIG_TYPE 5, REPLY_CTX 4100: 4228 bytes). So any
 * valid entry fits an empty REPLICA_STORE or RANGE_TRANSFER frame, and an owner must refuse a
 * write that would make a key's entry larger (dht_lsp_entry_len()). */
#define DHT_LSP_MAX_ENTRY (DHT_LSP_MAX_BODY - 4228)
/* Digest buckets of a range (BUCKETS count; a power of two, 1..4096; LC_ELSP_BUCKETS), and the
 * bitmap of 4096 buckets (BUCKET_SET, exactly 512 bytes; LC_ELSP_TLV_LENGTH). */
#define DHT_LSP_MAX_BUCKETS 4096
#define DHT_LSP_BUCKET_SET_LEN (DHT_LSP_MAX_BUCKETS / 8)
/* ENTRY overhead besides its records: ENTRY, KEY and VERSION headers and the 8-byte version. */
#define DHT_LSP_ENTRY_OVERHEAD (3 * DHT_LSP_TLV_HDR_LEN + 8)
/* NODE_STATS value: u32 fingers, u32 uptime, u8 flags, 3 zero bytes, four u64 counts
 * (LC_ELSP_TLV_LENGTH when another length). */
#define DHT_LSP_NODE_STATS_LEN 44

/* ---- Values ---------------------------------------------------------------------------------- */

/* MEMBER state. */
enum dht_lsp_member_state {
	DHT_LSP_MEMBER_ALIVE = 1,
	DHT_LSP_MEMBER_DEAD = 2,
};

/* SYNC_MODE: RANGE_DIGEST carries PULL, PUSH or HANDOFF, RANGE_TRANSFER MERGE. 3 is reserved
 * (REPLACE before removals left tombstones) and refused like any unknown mode. */
enum dht_lsp_sync_mode {
	DHT_LSP_SYNC_PULL = 1,	/* digest: "send me what differs" */
	DHT_LSP_SYNC_PUSH = 2,	/* digest: "tell me what differs, I will send it" */
	DHT_LSP_SYNC_MERGE = 4, /* transfer: merge each record, the higher version wins */
	/* digest: "tell me which buckets differ; I will send my entries of them; send me nothing
	 * back" (a node hands keys it is no longer a replica of to their owner) */
	DHT_LSP_SYNC_HANDOFF = 5,
};

/* FLAGS bits, per message type (others: sent as 0, ignored). */
#define DHT_LSP_FLAG_FINAL 0x1u	    /* FIND_SUCCESSOR answer: PEER is TARGET's successor */
#define DHT_LSP_FLAG_WANT_VIEW 0x1u /* MEMBERSHIP request: answer with your whole view */
#define DHT_LSP_FLAG_LAST 0x1u	    /* RANGE_TRANSFER: the transfer's last frame */

/* NODE_STATS flags (others: sent as 0, ignored). */
#define DHT_LSP_STATS_ONE_HOP 0x1u /* the node's view is the complete overlay (one-hop routing) */
/* A NODE_STATS count the node could not take in time. */
#define DHT_LSP_STATS_UNKNOWN UINT64_MAX

/* One MEMBER of a membership view. */
struct dht_lsp_member {
	dht_id_t id;
	struct dht_addr addr;
	uint32_t incarnation;
	uint8_t state; /* enum dht_lsp_member_state */
};

/* VIEW_DIGEST: a hash over the view's (id, incarnation, state) and its number of entries. */
struct dht_lsp_digest {
	uint64_t hash;
	uint32_t count;
};

/* RANGE: the arc (lo, hi] of the ring; lo == hi is the whole ring (dht/dht_ring.h). */
struct dht_lsp_range {
	dht_id_t lo, hi;
};

/* CHAIN of a REPLICA_STORE: the receiver's position (1 = first replica after the owner, at 0),
 * the write quorum W and the number of copies R; 1 <= position < R, 1 <= W <= R. */
struct dht_lsp_chain {
	uint8_t position;
	uint8_t quorum;
	uint8_t replicas;
};

/* PAGE: this message is page index (0-based) of count; count >= 1, index < count. */
struct dht_lsp_page {
	uint16_t index;
	uint16_t count;
};

/* One digest bucket: the XOR of the per-key hashes of its keys, and how many keys it holds. */
struct dht_lsp_bucket {
	uint64_t hash;
	uint32_t keys;
};

/* BUCKETS as received: n buckets of 12 bytes each (u64 hash, u32 keys); read with
 * dht_lsp_bucket_at(). */
struct dht_lsp_buckets {
	const uint8_t *p; /* NULL when absent */
	uint16_t n;
};

/* NODE_STATS of a NODE_INFO answer: what `locusctl ring` shows of a node besides its
 * neighbours. Each count is DHT_LSP_STATS_UNKNOWN when the node could not count in time. */
struct dht_lsp_node_stats {
	uint32_t fingers;	   /* distinct fingers in its routing table */
	uint32_t uptime_s;	   /* since it started */
	uint8_t flags;		   /* DHT_LSP_STATS_* */
	uint64_t owned_keys;	   /* keys it owns (position 0 of their replica chain) */
	uint64_t owned_bindings;   /* their bindings */
	uint64_t replica_keys;	   /* keys it holds as a replica */
	uint64_t replica_bindings; /* their bindings */
};

/* An iterator over repeated TLVs of one kind. Owner: the caller; fields private. */
struct dht_lsp_iter {
	const uint8_t *p, *end;
	uint16_t code; /* TLV code walked (mandatory bit stripped) */
	uint16_t left; /* items still to give */
};

/* One ENTRY: records of a key, live ones and tombstones, each a versioned element that the
 * receiver merges into its copy (docs/lsp.md §11.5); no records at all reads as one
 * DHT_LSP_REMOVED_ALL record at the entry's version. Its records come from
 * dht_lsp_ovl_next_record(&entry.records, &r). */
struct dht_lsp_entry {
	struct dht_bytes key;
	uint64_t version; /* the sender's version of the key; that of records without one */
	uint16_t nrecords;
	struct dht_lsp_iter records;
};

/** The version of record @p r of entry @p e: its REC_VERSION, else the entry's VERSION (its
 * writer is r->writer, 0 when absent). Context: any thread; fast path. */
static inline uint64_t dht_lsp_record_version(const struct dht_lsp_entry *e,
					      const struct dht_lsp_record *r)
{
	return (r->present & DHT_LSP_P_REC_VERSION) ? r->version : e->version;
}

/* Which fields an overlay message carries (dht_lsp_ovl_msg.present). The bits are numbered in
 * the canonical order of docs/lsp.md §11.4 (the decoder reports the lowest missing one). */
enum dht_lsp_ovl_field {
	DHT_LSP_O_STATUS = 1u << 0,
	DHT_LSP_O_SENDER = 1u << 1,
	DHT_LSP_O_KEY = 1u << 2,
	DHT_LSP_O_REPLY_TO = 1u << 3,
	DHT_LSP_O_ORIG_TXN = 1u << 4,
	DHT_LSP_O_ORIG_TYPE = 1u << 5,
	DHT_LSP_O_REPLY_CTX = 1u << 6,
	DHT_LSP_O_REASON = 1u << 7,
	DHT_LSP_O_ERROR_DETAIL = 1u << 8,
	DHT_LSP_O_RETRY_AFTER = 1u << 9,
	DHT_LSP_O_TARGET = 1u << 10,
	DHT_LSP_O_OWNER = 1u << 11,
	DHT_LSP_O_CHAIN = 1u << 12,
	DHT_LSP_O_RANGE = 1u << 13,
	DHT_LSP_O_SYNC_MODE = 1u << 14,
	DHT_LSP_O_FLAGS = 1u << 15,
	DHT_LSP_O_INCARNATION = 1u << 16,
	DHT_LSP_O_RING_SIZE = 1u << 17,
	DHT_LSP_O_VIEW_DIGEST = 1u << 18,
	DHT_LSP_O_PAGE = 1u << 19,
	DHT_LSP_O_PREDECESSOR = 1u << 20,
	DHT_LSP_O_BUCKETS = 1u << 21,
	DHT_LSP_O_BUCKET_SET = 1u << 22,
	DHT_LSP_O_NODE_STATS = 1u << 23,
	/* repeated: set when at least one is present (the counts say how many) */
	DHT_LSP_O_PEER = 1u << 24,
	DHT_LSP_O_MEMBER = 1u << 25,
	DHT_LSP_O_ENTRY = 1u << 26,
};

/*
 * A decoded overlay or replication message. Owner: the caller (on the stack or one per thread;
 * about 500 bytes). Fields are read-only to callers. As for struct dht_lsp_msg: err is the
 * decoder's result, hdr is valid when hdr_ok, err_tlv/err_off locate a body error, and the other
 * fields are valid only when err == LC_OK (a field is set iff its present bit is; a field that
 * decoded before an error keeps its bit, so an error answer can still echo it).
 */
struct dht_lsp_ovl_msg {
	struct dht_lsp_hdr hdr;
	int err;
	uint16_t err_tlv;
	uint32_t err_off;
	bool hdr_ok;
	uint32_t present;     /* DHT_LSP_O_* */
	struct dht_bytes buf; /* the whole input, as given */
	uint16_t status;      /* answers */
	uint8_t sync_mode;    /* enum dht_lsp_sync_mode */
	uint8_t orig_type;    /* type of the client request a REPLICA_STORE serves */
	uint32_t flags;	      /* DHT_LSP_FLAG_*; 0 when absent */
	uint32_t incarnation;
	uint32_t ring_size;
	uint32_t retry_after_s;
	uint64_t orig_txn;
	struct dht_lsp_node sender; /* the sending node: every 2xx answer and every request */
	struct dht_lsp_node predecessor;
	struct dht_lsp_node owner; /* REPLICA_STORE: head of the chain; absent: sender */
	dht_id_t target;
	struct dht_lsp_range range;
	struct dht_lsp_digest digest; /* VIEW_DIGEST */
	struct dht_lsp_chain chain;
	struct dht_lsp_page page;
	struct dht_lsp_node_stats node_stats; /* NODE_INFO answer */
	struct dht_addr reply_to;
	struct dht_bytes key; /* a KEY at the top of an answer (nodes send none to overlay msgs) */
	struct dht_bytes reply_ctx;
	struct dht_bytes reason;
	struct dht_lsp_error_detail detail;
	struct dht_lsp_buckets buckets;
	const uint8_t *bucket_set;  /* DHT_LSP_BUCKET_SET_LEN bytes; NULL when absent */
	struct dht_bytes first_key; /* REPLICA_STORE request: the first entry's key (the one the
				       replica completing the quorum answers about) */
	uint16_t npeers;
	uint16_t nmembers;
	uint16_t nentries;
	/* private: offsets of the first PEER, MEMBER and ENTRY TLV, for the iterators */
	uint32_t peer_at, member_at, entry_at;
};

/* ---- Decoder (lsp_ovl_parse.c) --------------------------------------------------------------- */

/**
 * Decode one whole overlay or replication message in place, validating everything: every
 * TLV's framing and value, which TLVs the type allows and requires (docs/lsp.md §11.3), and every
 * PEER, MEMBER, ENTRY and RECORD of an entry, so that the iterators below cannot fail.
 * @param m    output, overwritten (borrowed).
 * @param buf  the message (borrowed: views point into it).
 * @param len  its length; must equal DHT_LSP_HDR_LEN + the header's body length.
 * @return m->err: LC_OK, a header error as dht_lsp_parse() (LC_ELSP_TYPE for every type that is
 *   not an overlay type), LC_ELSP_TLV_SHORT, LC_ELSP_TLV_OVERRUN, LC_ELSP_TLV_UNKNOWN,
 *   LC_ELSP_TLV_DUP, LC_ELSP_TLV_LENGTH, LC_ELSP_TOO_LONG, LC_ELSP_KEY, LC_ELSP_SOURCE,
 *   LC_ELSP_MISSING_STATUS, LC_ELSP_MISSING_TLV, LC_ELSP_TOO_MANY_PEERS,
 *   LC_ELSP_TOO_MANY_MEMBERS, LC_ELSP_MEMBER, LC_ELSP_ENTRY, LC_ELSP_CHAIN, LC_ELSP_SYNC_MODE,
 *   LC_ELSP_BUCKETS, LC_ELSP_PAGE, and inside an entry's records LC_ELSP_TOO_MANY_RECORDS,
 *   LC_ELSP_MISSING_CONTACT, LC_ELSP_Q, LC_ELSP_REMOVED.
 * Context: any thread; fast path (REPLICA_STORE arrives on the workers).
 */
LC_MUSTCHECK int dht_lsp_ovl_parse(struct dht_lsp_ovl_msg *m, const void *buf, size_t len);

/** Whether a node should answer @p m: a request (never an answer) whose header was read; the
 * one exception is RANGE_TRANSFER, whose frames are answered only when FLAGS has LAST (or when
 * the frame failed to decode). Context: any thread. */
bool dht_lsp_ovl_can_answer(const struct dht_lsp_ovl_msg *m);

static inline bool dht_lsp_ovl_is_answer(const struct dht_lsp_ovl_msg *m)
{
	return (m->hdr.flags & DHT_LSP_F_ANSWER) != 0;
}

/** Bucket @p i (< v->n) of a decoded BUCKETS. Context: any thread. */
static inline struct dht_lsp_bucket dht_lsp_bucket_at(const struct dht_lsp_buckets *v, unsigned i)
{
	const uint8_t *p = v->p + 12 * (size_t)i;
	uint64_t h = 0;
	for (int k = 0; k < 8; k++) {
		h = h << 8 | p[k];
	}
	uint32_t keys = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
	return (struct dht_lsp_bucket){h, keys};
}

/** Whether bucket @p i (< DHT_LSP_MAX_BUCKETS) is in a BUCKET_SET bitmap: bit i is bit i % 8
 * (least significant first) of byte i / 8. */
static inline bool dht_lsp_bucket_set_has(const uint8_t *set, unsigned i)
{
	return (set[i / 8] >> (i % 8) & 1) != 0;
}

/** Add bucket @p i to a bitmap of DHT_LSP_BUCKET_SET_LEN bytes being built. */
static inline void dht_lsp_bucket_set_add(uint8_t *set, unsigned i)
{
	set[i / 8] = (uint8_t)(set[i / 8] | 1u << (i % 8));
}

/*
 * Iterators. Start one from a decoded message, then call next until it returns false:
 *	struct dht_lsp_iter it = dht_lsp_ovl_peers(&m);
 *	struct dht_lsp_node n;
 *	while (dht_lsp_ovl_next_peer(&it, &n)) { ... }
 * Items come in message order. The iterator borrows the message's buffer (not the struct).
 * Context: any thread; fast path.
 */
struct dht_lsp_iter dht_lsp_ovl_peers(const struct dht_lsp_ovl_msg *m);
struct dht_lsp_iter dht_lsp_ovl_members(const struct dht_lsp_ovl_msg *m);
struct dht_lsp_iter dht_lsp_ovl_entries(const struct dht_lsp_ovl_msg *m);
bool dht_lsp_ovl_next_peer(struct dht_lsp_iter *it, struct dht_lsp_node *out);
bool dht_lsp_ovl_next_member(struct dht_lsp_iter *it, struct dht_lsp_member *out);
/** @p out->records iterates the entry's records with dht_lsp_ovl_next_record(). */
bool dht_lsp_ovl_next_entry(struct dht_lsp_iter *it, struct dht_lsp_entry *out);
/** Records of an entry; views in @p out point into the message. */
bool dht_lsp_ovl_next_record(struct dht_lsp_iter *it, struct dht_lsp_record *out);

/* ---- Builder (lsp_ovl_build.c; the struct dht_lsp_builder of dht/lsp.h) ----------------------- */

/*
 * Typed appends of the overlay TLVs. Like those of dht/lsp.h they refuse what the decoder would
 * refuse, through the builder's sticky error: LC_ELSP_SOURCE (an address that cannot be sent),
 * LC_ELSP_MEMBER, LC_ELSP_CHAIN, LC_ELSP_SYNC_MODE, LC_ELSP_BUCKETS, LC_ELSP_PAGE,
 * LC_ELSP_TOO_MANY_PEERS, LC_ELSP_TOO_MANY_MEMBERS. They know nothing of the message type: a
 * node appends what docs/lsp.md §11.3 lists for it, preferably in the canonical order of §11.4.
 * Pointer arguments are borrowed and copied. Context: any thread.
 */
void dht_lsp_put_sender(struct dht_lsp_builder *b, const struct dht_lsp_node *n);
void dht_lsp_put_target(struct dht_lsp_builder *b, dht_id_t id);
void dht_lsp_put_peer(struct dht_lsp_builder *b, const struct dht_lsp_node *n);
void dht_lsp_put_predecessor(struct dht_lsp_builder *b, const struct dht_lsp_node *n);
void dht_lsp_put_owner(struct dht_lsp_builder *b, const struct dht_lsp_node *n);
void dht_lsp_put_member(struct dht_lsp_builder *b, const struct dht_lsp_member *mb);
void dht_lsp_put_view_digest(struct dht_lsp_builder *b, const struct dht_lsp_digest *d);
void dht_lsp_put_incarnation(struct dht_lsp_builder *b, uint32_t incarnation);
void dht_lsp_put_ring_size(struct dht_lsp_builder *b, uint32_t nodes);
void dht_lsp_put_range(struct dht_lsp_builder *b, const struct dht_lsp_range *r);
void dht_lsp_put_sync_mode(struct dht_lsp_builder *b, unsigned mode);
/** BUCKETS of @p n buckets (a power of two, 1..DHT_LSP_MAX_BUCKETS). */
void dht_lsp_put_buckets(struct dht_lsp_builder *b, const struct dht_lsp_bucket *v, unsigned n);
/** BUCKET_SET from a bitmap of DHT_LSP_BUCKET_SET_LEN bytes (dht_lsp_bucket_set_add()). */
void dht_lsp_put_bucket_set(struct dht_lsp_builder *b, const uint8_t *set);
void dht_lsp_put_chain(struct dht_lsp_builder *b, const struct dht_lsp_chain *c);
void dht_lsp_put_orig_txn(struct dht_lsp_builder *b, uint64_t txn_id);
void dht_lsp_put_orig_type(struct dht_lsp_builder *b, unsigned type);
void dht_lsp_put_flags(struct dht_lsp_builder *b, uint32_t flags);
void dht_lsp_put_page(struct dht_lsp_builder *b, const struct dht_lsp_page *pg);
/** NODE_STATS: @p s as it is (flags too; the 3 bytes after them are sent as 0). */
void dht_lsp_put_node_stats(struct dht_lsp_builder *b, const struct dht_lsp_node_stats *s);

/**
 * Open an ENTRY for @p key (1..DHT_LSP_MAX_KEY bytes, else LC_ELSP_KEY) at @p version: appends
 * the ENTRY header, KEY and VERSION. Until dht_lsp_entry_end() only dht_lsp_put_record() may be
 * called (up to DHT_LSP_MAX_ENTRY_RECORDS records, which may carry the DHT_LSP_P_ENTRY_ONLY
 * fields); any other append fails with LC_ELSP_BUILD_STATE, as does a second begin. @p version
 * is the sender's version of the key, and that of the records appended without REC_VERSION
 * (docs/lsp.md §11.5). An entry with no record removes every record of the key up to
 * @p version, as one DHT_LSP_REMOVED_ALL record would.
 */
void dht_lsp_entry_begin(struct dht_lsp_builder *b, const void *key, size_t len, uint64_t version);

/** Close the open ENTRY: patch its length (LC_ELSP_TOO_LONG past DHT_LSP_MAX_ENTRY). To stream
 * entries into frames, mark before begin and roll back when dht_lsp_build_full() after end. */
void dht_lsp_entry_end(struct dht_lsp_builder *b);

/** The bytes an ENTRY of key length @p key_len and records of @p records_len bytes in all
 * (the sum of dht_lsp_record_len()) takes: compare with DHT_LSP_MAX_ENTRY. */
static inline size_t dht_lsp_entry_len(size_t key_len, size_t records_len)
{
	return DHT_LSP_ENTRY_OVERHEAD + key_len + records_len;
}

/**
 * Start an overlay request: header (@p type, flags 0, hop limit DHT_LSP_HOP_LIMIT_OVERLAY,
 * @p txn_id, @p overlay_id), then SENDER @p self. Add the type's fields, then
 * dht_lsp_build_finish().
 */
void dht_lsp_ovl_request_start(struct dht_lsp_builder *b, unsigned type, uint64_t txn_id,
			       uint64_t overlay_id, const struct dht_lsp_node *self);

/**
 * Start the answer to overlay request @p req (borrowed; requires req->hdr_ok): header with its
 * type, txn id and overlay id, DHT_LSP_F_ANSWER, hop limit DHT_LSP_HOP_LIMIT_OVERLAY; STATUS;
 * SENDER @p self (NULL: none; only for a node that cannot name itself). Add the type's fields,
 * then dht_lsp_build_finish().
 */
void dht_lsp_ovl_answer_start(struct dht_lsp_builder *b, const struct dht_lsp_ovl_msg *req,
			      const struct dht_lsp_node *self, unsigned status);

/**
 * The whole answer to an overlay request that failed to decode (req->err != LC_OK):
 * dht_lsp_ovl_answer_start() with dht_lsp_status_of(req->err), REASON, ERROR_DETAIL.
 * @return as dht_lsp_build_finish(). Context: any thread.
 */
LC_MUSTCHECK int dht_lsp_ovl_answer_error(void *buf, size_t cap, const struct dht_lsp_ovl_msg *req,
					  const struct dht_lsp_node *self, size_t *len);

/**
 * Encode a decoded overlay message again (m->hdr and every present field in the canonical order
 * of docs/lsp.md §11.4; PEERs, MEMBERs, ENTRYs and their RECORDs through the iterators, so from
 * the buffer @p m was decoded from, which must still be alive). Decoding the result gives the
 * same fields; unknown optional TLVs are dropped. New messages are built with the appends.
 * @return as dht_lsp_build_finish(). Context: any thread.
 */
LC_MUSTCHECK int dht_lsp_ovl_encode(const struct dht_lsp_ovl_msg *m, void *buf, size_t cap,
				    size_t *len);
