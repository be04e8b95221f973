/* SPDX-License-Identifier: MIT */
/*
 * LSP, the Location Service Protocol (docs/lsp.md is the specification): the binary protocol that
 * registrars, proxies, locusctl and liblocus speak to a locusd node, and that nodes speak to each
 * other. This header is its pure codec for the client messages (PING, PUBLISH, REMOVE, LOOKUP):
 * constants of the wire format, the decoded form of a message (struct dht_lsp_msg), a zero-copy
 * decoder (lsp_parse.c) and a builder with a sticky error (lsp_build.c). The overlay and
 * replication messages (JOIN .. RANGE_DIGEST) have their own decoded form and decoder in
 * dht/lsp_ovl.h and share this header's builder. No allocation, no I/O, no globals: any thread
 * may use it on its own structs.
 *
 * Which decoder: the message type (header byte 3) decides. dht_lsp_parse() decodes the client
 * types and refuses every other type with LC_ELSP_TYPE (answered UNKNOWN_TYPE, so a node that
 * does not speak the overlay answers overlay requests correctly); dht_lsp_ovl_parse() decodes the
 * overlay types and refuses the rest the same way. A receiver that handles both looks at the
 * header first: dht_lsp_is_overlay_msg(buf, len), then calls the one decoder that applies.
 *
 * Wire summary: a 24-byte header in network byte order (magic "LS", version, type, flags, hop
 * limit, body length, 64-bit transaction id, 64-bit overlay id), then a body of TLVs (type u16,
 * length u16, value). The top bit of a TLV type is the mandatory bit: an unknown TLV with it set
 * makes the message undecodable (LC_ELSP_TLV_UNKNOWN, answered BAD_REQUEST); an unknown TLV
 * without it is skipped. A record is a RECORD TLV whose value is itself a list of TLVs.
 *
 * Views: every struct dht_bytes in a decoded message points into the buffer given to
 * dht_lsp_parse() and dies with it; an absent field is {NULL, 0}. To keep a value, copy it (into
 * the binding store, which is where they go).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/lc_compiler.h"
#include "common/lc_error.h"
#include "dht/dht_key.h"
#include "dht/dht_store.h"

/* ---- Header ---------------------------------------------------------------------------------- */

#define DHT_LSP_MAGIC 0x4c53u /* "LS" */
#define DHT_LSP_VERSION 1
#define DHT_LSP_HDR_LEN 24

/* Limits. Input beyond one of them is refused with the code named beside it. */
#define DHT_LSP_MAX_MSG 65507u /* LC_ELSP_TOO_BIG: largest UDP payload */
#define DHT_LSP_MAX_BODY (DHT_LSP_MAX_MSG - DHT_LSP_HDR_LEN) /* LC_ELSP_TOO_BIG */
#define DHT_LSP_MAX_KEY DHT_KEY_MAX			     /* LC_ELSP_KEY: 1..512 bytes */
#define DHT_LSP_MAX_RECORDS 32				     /* LC_ELSP_TOO_MANY_RECORDS */
#define DHT_LSP_MAX_CALL_ID 256				     /* LC_ELSP_TOO_LONG */
#define DHT_LSP_MAX_REPLY_CTX 4096			     /* LC_ELSP_TOO_LONG */
#define DHT_LSP_MAX_REASON 128				     /* LC_ELSP_TOO_LONG */
/* LC_ELSP_TOO_LONG: contact + instance + path + attrs of one record. With a Call-ID of at most
 * DHT_LSP_MAX_CALL_ID, a decoded record always fits the store's DHT_BINDING_VAR_MAX. */
#define DHT_LSP_MAX_RECORD_VAR (DHT_BINDING_VAR_MAX - DHT_LSP_MAX_CALL_ID)
#define DHT_LSP_MAX_Q 1000 /* LC_ELSP_Q: q in thousandths */
#define DHT_LSP_TLV_HDR_LEN 4

/* Hop limit a client puts in a request; a node that forwards decrements it, and answers a request
 * it would have to forward with a hop limit of 0 with HOP_LIMIT (docs/lsp.md §6). Overlay
 * messages are never forwarded and carry DHT_LSP_HOP_LIMIT_OVERLAY. */
#define DHT_LSP_HOP_LIMIT_DEFAULT 8
#define DHT_LSP_HOP_LIMIT_OVERLAY 1

/* Header flags. Undefined bits are sent as 0 and ignored on receipt. */
#define DHT_LSP_F_ANSWER 0x01u /* an answer to the request of the same type and txn id */

/* Client retransmission timer (docs/lsp.md §5): first retransmission after T1, doubling up to
 * T2, at most DHT_LSP_MAX_SENDS transmissions in all; then the request failed. */
#define DHT_LSP_T1_MS 500
#define DHT_LSP_T2_MS 4000
#define DHT_LSP_MAX_SENDS 6

/* Message types (header byte 3). An answer has the request's type and DHT_LSP_F_ANSWER. */
enum dht_lsp_type {
	/* 0x00 never valid */
	/* client messages, 0x01..0x1f */
	DHT_LSP_PING = 0x01,
	DHT_LSP_PUBLISH = 0x02,
	DHT_LSP_REMOVE = 0x03,
	DHT_LSP_LOOKUP = 0x04,
	/* overlay maintenance, 0x20..0x3f: decoded by dht_lsp_ovl_parse() (dht/lsp_ovl.h) */
	DHT_LSP_JOIN = 0x20,
	DHT_LSP_FIND_SUCCESSOR = 0x21,
	DHT_LSP_GET_PREDECESSOR = 0x22,
	DHT_LSP_NOTIFY = 0x23,
	DHT_LSP_SUCCESSOR_LIST = 0x24,
	DHT_LSP_NODE_PING = 0x25,
	DHT_LSP_MEMBERSHIP = 0x26,
	DHT_LSP_LEAVE = 0x27,
	DHT_LSP_NODE_INFO = 0x28, /* a node's state, for `locusctl ring` */
	/* replication, 0x40..0x5f: decoded by dht_lsp_ovl_parse() */
	DHT_LSP_REPLICA_STORE = 0x40,
	DHT_LSP_RANGE_TRANSFER = 0x41,
	DHT_LSP_RANGE_DIGEST = 0x42,
	/* 0xe0..0xff: private and experimental use */
};

/*
 * TLV types: the low 15 bits are the code, DHT_LSP_TLV_M is the mandatory bit. Receivers identify
 * a TLV by its code; the bit matters only for a code the receiver does not know, or knows but not
 * at that place (e.g. CALL_ID in a LOOKUP): mandatory -> LC_ELSP_TLV_UNKNOWN, else skipped.
 * Builders send the codes below with the bit as the DHT_LSP_T_* constants carry it.
 */
#define DHT_LSP_TLV_M 0x8000u
#define DHT_LSP_TLV_CODE(t) ((uint16_t)((t)&0x7fffu))
enum dht_lsp_tlv {
	/* request (and echoed in answers) */
	DHT_LSP_T_KEY = 0x8001,	       /* bytes 1..512: any URI */
	DHT_LSP_T_RECORD = 0x8002,     /* container of record TLVs, below */
	DHT_LSP_T_CALL_ID = 0x8003,    /* bytes 0..256 (message or record) */
	DHT_LSP_T_CSEQ = 0x8004,       /* u32 (message or record) */
	DHT_LSP_T_EXPIRES = 0x8005,    /* u32 seconds (message default, or record) */
	DHT_LSP_T_SOURCE = 0x8006,     /* address (message or record), see struct dht_addr */
	DHT_LSP_T_REPLY_CTX = 0x8007,  /* bytes 0..1024, echoed verbatim by the answer */
	DHT_LSP_T_REMOVE_ALL = 0x8008, /* empty: REMOVE every record of the key */
	DHT_LSP_T_REPLY_TO = 0x810f,   /* address: send the answer here, not to the source */
	/* answers */
	DHT_LSP_T_STATUS = 0x8010,	 /* u16 status code */
	DHT_LSP_T_REASON = 0x0011,	 /* text 0..128, for humans */
	DHT_LSP_T_ERROR_DETAIL = 0x0012, /* u16 error, u16 TLV type, u32 offset */
	DHT_LSP_T_MIN_EXPIRES = 0x0013,	 /* u32 seconds, with INTERVAL_TOO_BRIEF */
	DHT_LSP_T_RETRY_AFTER = 0x0014,	 /* u32 seconds, with FULL */
	DHT_LSP_T_NODE = 0x8015,	 /* 16-byte node id + address, with REDIRECT, NOT_OWNER */
	DHT_LSP_T_NODE_ID = 0x0016,	 /* 16-byte node id of the answering node */
	DHT_LSP_T_UPTIME = 0x0017,	 /* u32 seconds since the answering node started */
	/* inside a RECORD (with CALL_ID, CSEQ, EXPIRES, SOURCE above) */
	DHT_LSP_T_CONTACT = 0x8020,  /* bytes 1..: contact URI */
	DHT_LSP_T_Q = 0x8021,	     /* u16 thousandths, 0..1000 */
	DHT_LSP_T_ATTRS = 0x8022,    /* bytes: opaque attributes */
	DHT_LSP_T_INSTANCE = 0x8023, /* bytes: +sip.instance (RFC 5626) */
	DHT_LSP_T_REG_ID = 0x8024,   /* u32 reg-id (RFC 5626) */
	DHT_LSP_T_PATH = 0x8025,     /* bytes: Path values (RFC 3327), comma-joined */
	DHT_LSP_T_AGE = 0x0026,	     /* u32 seconds since the binding was first registered */
	/* inside a RECORD of an ENTRY only (replication); unknown in any other record */
	DHT_LSP_T_EXPIRES_AT = 0x8130,	  /* u32 absolute expiry, unix seconds */
	DHT_LSP_T_REGISTERED_AT = 0x8131, /* u32 first registration, unix seconds */
	DHT_LSP_T_TXN_TAG = 0x8132,	  /* u32 retransmission tag of the last write */
	DHT_LSP_T_REC_VERSION = 0x8133,	  /* u64 the record's own version (hybrid logical clock) */
	DHT_LSP_T_WRITER = 0x8134,	  /* u64 top 64 bits of the id of the node that wrote it */
	DHT_LSP_T_REMOVED = 0x8135,	  /* u8 enum dht_lsp_removed: the record is a tombstone */
	/* overlay and replication messages (dht/lsp_ovl.h, docs/lsp.md §11) */
	DHT_LSP_T_SENDER = 0x8100,	/* node id + address of the sending node */
	DHT_LSP_T_TARGET = 0x8101,	/* 16-byte id */
	DHT_LSP_T_PEER = 0x8102,	/* node id + address; repeatable, ordered */
	DHT_LSP_T_PREDECESSOR = 0x8103, /* node id + address */
	DHT_LSP_T_MEMBER = 0x8104,	/* id, u32 incarnation, u8 state, address; repeatable */
	DHT_LSP_T_VIEW_DIGEST = 0x8105, /* u64 hash, u32 count */
	DHT_LSP_T_INCARNATION = 0x8106, /* u32 */
	DHT_LSP_T_RING_SIZE = 0x8107,	/* u32 */
	DHT_LSP_T_RANGE = 0x8108,	/* two 16-byte ids lo, hi: the arc (lo, hi] */
	DHT_LSP_T_SYNC_MODE = 0x8109,	/* u8 enum dht_lsp_sync_mode */
	DHT_LSP_T_BUCKETS = 0x810a,	/* u16 n, n x (u64 hash, u32 keys) */
	DHT_LSP_T_BUCKET_SET = 0x810b,	/* 512-byte bitmap of 4096 buckets */
	DHT_LSP_T_ENTRY = 0x810c,	/* container: KEY, VERSION, RECORD*; repeatable */
	DHT_LSP_T_VERSION = 0x810d,	/* u64, inside an ENTRY */
	DHT_LSP_T_CHAIN = 0x810e,	/* u8 position, u8 write quorum, u8 replicas */
	DHT_LSP_T_ORIG_TXN = 0x8110,	/* u64 txn id of the request a replication serves */
	DHT_LSP_T_ORIG_TYPE = 0x8111,	/* u8 type of that request */
	DHT_LSP_T_FLAGS = 0x8112,	/* u32, meaning per message type */
	DHT_LSP_T_PAGE = 0x8113,	/* u16 index, u16 count */
	DHT_LSP_T_OWNER = 0x8114,	/* node id + address: the head of a replication chain */
	DHT_LSP_T_NODE_STATS = 0x8115,	/* NODE_INFO: fingers, uptime, flags, key counts */
};

/* Answer status codes (the STATUS TLV). The class is the hundreds digit, as in SIP: 2 success,
 * 3 ask another node, 4 the request is at fault, 5 the node is. Unknown codes are read by class. */
enum dht_lsp_status {
	DHT_LSP_S_OK = 200,
	DHT_LSP_S_REDIRECT = 302,	    /* reserved (forwarding): ask the NODE given */
	DHT_LSP_S_BAD_REQUEST = 400,	    /* ERROR_DETAIL says why */
	DHT_LSP_S_NOT_FOUND = 404,	    /* the key has no records */
	DHT_LSP_S_STALE = 409,		    /* CSeq not above the last for this Call-ID */
	DHT_LSP_S_WRONG_OVERLAY = 412,	    /* overlay id is not the node's */
	DHT_LSP_S_TOO_MANY_RECORDS = 413,   /* more records than the node allows per key */
	DHT_LSP_S_NOT_OWNER = 421,	    /* reserved (forwarding): not the key's owner */
	DHT_LSP_S_INTERVAL_TOO_BRIEF = 423, /* MIN_EXPIRES says the least accepted */
	DHT_LSP_S_HOP_LIMIT = 483,	    /* reserved (forwarding): hop limit exhausted */
	DHT_LSP_S_INTERNAL = 500,
	DHT_LSP_S_UNKNOWN_TYPE = 501, /* message type not implemented */
	DHT_LSP_S_UNAVAILABLE = 502,  /* fewer live nodes than the write quorum: nothing changed;
				      * RETRY_AFTER says when to try again (docs/overlay.md §6.2) */
	DHT_LSP_S_FULL = 503,	      /* store full; RETRY_AFTER says when to try again */
	DHT_LSP_S_VERSION = 505,      /* LSP version not supported; the header has ours */
};

/* ---- Decoded message ------------------------------------------------------------------------- */

/* Which optional fields a message or record carries (dht_lsp_msg.present, dht_lsp_record.present). */
enum dht_lsp_field {
	DHT_LSP_P_KEY = 1u << 0,
	DHT_LSP_P_CALL_ID = 1u << 1,
	DHT_LSP_P_CSEQ = 1u << 2,
	DHT_LSP_P_EXPIRES = 1u << 3,
	DHT_LSP_P_SOURCE = 1u << 4,
	DHT_LSP_P_REPLY_CTX = 1u << 5,
	DHT_LSP_P_REMOVE_ALL = 1u << 6,
	DHT_LSP_P_STATUS = 1u << 7,
	DHT_LSP_P_REASON = 1u << 8,
	DHT_LSP_P_ERROR_DETAIL = 1u << 9,
	DHT_LSP_P_MIN_EXPIRES = 1u << 10,
	DHT_LSP_P_RETRY_AFTER = 1u << 11,
	DHT_LSP_P_NODE = 1u << 12,
	DHT_LSP_P_NODE_ID = 1u << 13,
	DHT_LSP_P_UPTIME = 1u << 14,
	DHT_LSP_P_REPLY_TO = 1u << 15,
	/* record only */
	DHT_LSP_P_CONTACT = 1u << 16,
	DHT_LSP_P_Q = 1u << 17,
	DHT_LSP_P_ATTRS = 1u << 18,
	DHT_LSP_P_INSTANCE = 1u << 19,
	DHT_LSP_P_REG_ID = 1u << 20,
	DHT_LSP_P_PATH = 1u << 21,
	DHT_LSP_P_AGE = 1u << 22,
	/* record of an ENTRY only (replication) */
	DHT_LSP_P_EXPIRES_AT = 1u << 23,
	DHT_LSP_P_REGISTERED_AT = 1u << 24,
	DHT_LSP_P_TXN_TAG = 1u << 25,
	DHT_LSP_P_REC_VERSION = 1u << 26,
	DHT_LSP_P_WRITER = 1u << 27,
	DHT_LSP_P_REMOVED = 1u << 28,
};

/* The store's own fields of a binding that an ENTRY's records carry (dht_binding_data). */
#define DHT_LSP_P_REPLICATION (DHT_LSP_P_EXPIRES_AT | DHT_LSP_P_REGISTERED_AT | DHT_LSP_P_TXN_TAG)
/* Every field an ENTRY's records may carry and no other record may: the store's fields above and
 * what makes a record one element of the key's versioned set (docs/lsp.md §11.5). The decoder
 * refuses them in any other record with LC_ELSP_TLV_UNKNOWN, and so does dht_lsp_put_record(). */
#define DHT_LSP_P_ENTRY_ONLY                                                                       \
	(DHT_LSP_P_REPLICATION | DHT_LSP_P_REC_VERSION | DHT_LSP_P_WRITER | DHT_LSP_P_REMOVED)

/* REMOVED: what a tombstone record removes (struct dht_lsp_record.removed; 0 when absent). */
enum dht_lsp_removed {
	/* this binding (named by CONTACT, INSTANCE, REG_ID); EXPIRES_AT: how long it is kept */
	DHT_LSP_REMOVED_CONTACT = 1,
	/* every record of the key whose version is not above this one's (REGISTER `Contact: *`,
	 * REMOVE_ALL); its CONTACT is the single byte "*", else LC_ELSP_REMOVED */
	DHT_LSP_REMOVED_ALL = 2,
};

/* The fixed header, host byte order. Fields are read-only to callers of the decoder. */
struct dht_lsp_hdr {
	uint8_t version;
	uint8_t type; /* enum dht_lsp_type */
	uint8_t flags;
	uint8_t hop_limit;
	uint16_t body_len;
	uint64_t txn_id;
	uint64_t overlay_id; /* dht_seed_of(overlay name) */
};

/*
 * One record (a binding). Owner: the caller (decoder output or builder input). Views point into
 * the decoded buffer. In a request, CALL_ID, CSEQ, EXPIRES and SOURCE left out of a record are
 * the message's (dht_lsp_record_call_id() and friends apply that rule). The DHT_LSP_P_ENTRY_ONLY
 * fields travel only in the records of a replication ENTRY (dht/lsp_ovl.h): expires_at_s,
 * registered_at_s and txn_tag carry the store's dht_binding_data fields of the same names;
 * version, writer and removed make the record one element of the key's last-writer-wins set
 * (docs/lsp.md §11.5: without REC_VERSION a record has the ENTRY's version and writer 0).
 */
struct dht_lsp_record {
	uint32_t present;	   /* DHT_LSP_P_* bits of the fields below */
	uint32_t expires_s;	   /* relative in requests (0 = remove), remaining in answers */
	struct dht_bytes contact;  /* contact URI, never empty */
	struct dht_bytes instance; /* +sip.instance value */
	struct dht_bytes path;	   /* Path values, comma-joined */
	struct dht_bytes attrs;	   /* opaque attributes */
	struct dht_bytes call_id;
	uint32_t cseq;
	uint32_t reg_id;
	uint32_t age_s;
	uint32_t expires_at_s;	  /* ENTRY only: absolute expiry, unix seconds */
	uint32_t registered_at_s; /* ENTRY only: first registration, unix seconds */
	uint32_t txn_tag;	  /* ENTRY only: the store's retransmission tag */
	uint64_t version;	  /* ENTRY only: the record's version (ms << 12 | counter) */
	uint64_t writer;	  /* ENTRY only: top 64 bits of the id of the node that wrote it */
	int16_t q;		  /* thousandths 0..1000, -1 when absent */
	uint8_t removed;	  /* ENTRY only: enum dht_lsp_removed; 0 when absent (live) */
	struct dht_addr src;
};

/* A node: where REDIRECT and NOT_OWNER send the client; a peer in the overlay messages. */
struct dht_lsp_node {
	dht_id_t id;
	struct dht_addr addr;
};

/* What BAD_REQUEST answers say about the request (ERROR_DETAIL TLV). */
struct dht_lsp_error_detail {
	int err;	 /* the decoder's LC_ELSP_* code (negative, as in lc_error.h) */
	uint16_t tlv;	 /* type of the TLV at fault, as sent; 0 when none */
	uint32_t offset; /* offset of that TLV (or of the header) from the message start */
};

/*
 * A decoded client message. Owner: the caller (on the stack or in a per-worker array; about
 * 5 KiB).
 * Fields are read-only to callers. After dht_lsp_parse():
 *  - err is its result; hdr is valid when dht_lsp_hdr_ok() (even when err != LC_OK), so an
 *    error answer can be addressed (dht_lsp_can_answer());
 *  - err_tlv/err_off locate a body error (what an error answer puts in ERROR_DETAIL);
 *  - the other fields are valid only when err == LC_OK (a field is set iff its present bit is).
 */
struct dht_lsp_msg {
	struct dht_lsp_hdr hdr;
	int err;
	uint16_t err_tlv;     /* type of the TLV at fault, as received; 0 when the header is */
	uint32_t err_off;     /* offset of the fault from the message start */
	bool hdr_ok;	      /* the header was read: magic right, 24 bytes present */
	uint32_t present;     /* DHT_LSP_P_* bits of the message-level fields */
	struct dht_bytes buf; /* the whole input, as given */
	struct dht_bytes key;
	struct dht_bytes call_id;
	struct dht_bytes reply_ctx;
	struct dht_bytes reason;
	uint32_t cseq;
	uint32_t expires_s; /* default for records without EXPIRES */
	uint32_t min_expires_s;
	uint32_t retry_after_s;
	uint32_t uptime_s;
	uint16_t status; /* enum dht_lsp_status, answers only */
	struct dht_addr src;
	struct dht_addr reply_to; /* requests: where the answer goes instead of the source */
	struct dht_lsp_node node;
	dht_id_t node_id;
	struct dht_lsp_error_detail detail;
	unsigned nrecords;
	struct dht_lsp_record records[DHT_LSP_MAX_RECORDS];
};

/* ---- Decoder (lsp_parse.c) ------------------------------------------------------------------- */

/**
 * Decode one whole message (a UDP datagram, or one frame cut from a stream with
 * dht_lsp_frame_len()) in place.
 * @param m    output, overwritten (borrowed).
 * @param buf  the message (borrowed: views point into it).
 * @param len  its length; must equal DHT_LSP_HDR_LEN + the header's body length.
 * @return m->err: LC_OK, or LC_ELSP_SHORT, LC_ELSP_MAGIC (not LSP: drop), LC_ELSP_VERSION,
 *   LC_ELSP_TOO_BIG, LC_ELSP_TRUNCATED, LC_ELSP_TRAILING, LC_ELSP_TYPE (also for the overlay
 *   types: decode those with dht_lsp_ovl_parse()), LC_ELSP_TLV_SHORT,
 *   LC_ELSP_TLV_OVERRUN, LC_ELSP_TLV_UNKNOWN, LC_ELSP_TLV_DUP, LC_ELSP_TLV_LENGTH,
 *   LC_ELSP_TOO_LONG, LC_ELSP_MISSING_KEY, LC_ELSP_KEY, LC_ELSP_TOO_MANY_RECORDS,
 *   LC_ELSP_MISSING_CONTACT, LC_ELSP_Q, LC_ELSP_SOURCE, LC_ELSP_REMOVE, LC_ELSP_MISSING_STATUS.
 * Context: any thread; fast path.
 */
LC_MUSTCHECK int dht_lsp_parse(struct dht_lsp_msg *m, const void *buf, size_t len);

/**
 * Length of the first message in a byte stream (overlay links over TCP), from its header.
 * @param need  set to the whole message's length when the header is complete.
 * @return LC_OK (*need set; the frame is complete when *need <= len), LC_ELSP_SHORT (fewer than
 *   DHT_LSP_HDR_LEN bytes yet: read more), LC_ELSP_MAGIC, LC_ELSP_TOO_BIG (close the link).
 * Context: any thread.
 */
LC_MUSTCHECK int dht_lsp_frame_len(const void *buf, size_t len, size_t *need);

/** Whether the header of @p m was read (magic right, DHT_LSP_HDR_LEN bytes present). */
static inline bool dht_lsp_hdr_ok(const struct dht_lsp_msg *m)
{
	return m->hdr_ok;
}

static inline bool dht_lsp_is_answer(const struct dht_lsp_msg *m)
{
	return (m->hdr.flags & DHT_LSP_F_ANSWER) != 0;
}

/**
 * Whether a node should answer @p m: a request (never an answer, so two nodes cannot loop on
 * errors) whose header was read. True for requests that failed to decode past the header too:
 * answer them with dht_lsp_answer_error(). A node first compares hdr.overlay_id with its own
 * (WRONG_OVERLAY), then looks at m->err. Context: any thread.
 */
bool dht_lsp_can_answer(const struct dht_lsp_msg *m);

/** The status answering a request that failed with @p err: VERSION, UNKNOWN_TYPE,
 * TOO_MANY_RECORDS, or BAD_REQUEST. DHT_LSP_S_OK for LC_OK. Context: any thread. */
enum dht_lsp_status dht_lsp_status_of(int err);

/** Short text of a status ("Interval too brief"); "Unknown status" when not in the table. */
const char *dht_lsp_status_text(unsigned status);

/** Name of a message type ("PUBLISH"); "?" when unassigned. */
const char *dht_lsp_type_name(unsigned type);

/** Whether @p type is a client type, decoded by dht_lsp_parse() (PING, PUBLISH, REMOVE, LOOKUP). */
bool dht_lsp_type_known(unsigned type);

/** Whether @p type is an overlay or replication type, decoded by dht_lsp_ovl_parse() (JOIN,
 * FIND_SUCCESSOR, GET_PREDECESSOR, NOTIFY, SUCCESSOR_LIST, NODE_PING, MEMBERSHIP, LEAVE,
 * NODE_INFO, REPLICA_STORE, RANGE_TRANSFER, RANGE_DIGEST). Context: any thread. */
bool dht_lsp_type_is_overlay(unsigned type);

/**
 * Which decoder a datagram or frame needs, from its header alone: true when it has a whole LSP
 * header (DHT_LSP_HDR_LEN bytes, right magic) of an overlay type (dht_lsp_ovl_parse()); false
 * otherwise (dht_lsp_parse(), which also reports what is wrong with a bad header).
 * @param buf  the message (borrowed). Context: any thread; fast path.
 */
static inline bool dht_lsp_is_overlay_msg(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	return len >= DHT_LSP_HDR_LEN && p[0] == (DHT_LSP_MAGIC >> 8) &&
	       p[1] == (DHT_LSP_MAGIC & 0xff) && dht_lsp_type_is_overlay(p[3]);
}

/* Record fields with the message-level default applied (requests). */
static inline struct dht_bytes dht_lsp_record_call_id(const struct dht_lsp_msg *m,
						      const struct dht_lsp_record *r)
{
	return (r->present & DHT_LSP_P_CALL_ID) ? r->call_id : m->call_id;
}

static inline uint32_t dht_lsp_record_cseq(const struct dht_lsp_msg *m,
					   const struct dht_lsp_record *r)
{
	return (r->present & DHT_LSP_P_CSEQ) ? r->cseq : m->cseq;
}

/** Whether the record or the message gives an expiry; when false, the node's default applies. */
static inline bool dht_lsp_record_expires(const struct dht_lsp_msg *m,
					  const struct dht_lsp_record *r, uint32_t *expires_s)
{
	if (r->present & DHT_LSP_P_EXPIRES) {
		*expires_s = r->expires_s;
		return true;
	}
	*expires_s = m->expires_s;
	return (m->present & DHT_LSP_P_EXPIRES) != 0;
}

/* ---- Builder (lsp_build.c) ------------------------------------------------------------------- */

/*
 * Owner: the caller (on the stack, one per message). Fields are private to lsp_build.c and
 * lsp_ovl_build.c. Sticky error like Knot's wire_ctx: after the first failure every call does
 * nothing, and dht_lsp_build_finish() returns that failure. It never writes past cap.
 * dht_lsp_build_mark() and dht_lsp_build_rollback() undo a run of appends, failed or not.
 */
struct dht_lsp_builder {
	uint8_t *buf;
	uint32_t cap; /* the buffer's size (clamped to 2^32-1) */
	uint32_t len;
	int err;
	uint32_t entry_at;	/* offset of the open ENTRY's TLV header */
	uint16_t nrecords;	/* message-level RECORDs */
	uint16_t entry_records; /* RECORDs of the open ENTRY */
	uint16_t nentries;
	uint16_t npeers;
	uint16_t nmembers;
	uint8_t state;
	uint8_t inner; /* writing a container's own fields */
};

/* A snapshot of a builder (dht_lsp_build_mark()). Owner: the caller; private fields. */
struct dht_lsp_mark {
	struct dht_lsp_builder saved;
};

/** Start building into @p buf of @p cap bytes (borrowed for the builder's life). */
void dht_lsp_build_init(struct dht_lsp_builder *b, void *buf, size_t cap);

/**
 * Write the header; body length is filled by dht_lsp_build_finish(). hdr->version is ignored
 * (DHT_LSP_VERSION is written), hdr->body_len too.
 */
void dht_lsp_build_hdr(struct dht_lsp_builder *b, const struct dht_lsp_hdr *hdr);

/** Append a TLV of any type (extensions, tests). @p len above 65535 or the body limit fails. */
void dht_lsp_put_tlv(struct dht_lsp_builder *b, uint16_t type, const void *val, size_t len);
void dht_lsp_put_u16(struct dht_lsp_builder *b, uint16_t type, uint16_t v);
void dht_lsp_put_u32(struct dht_lsp_builder *b, uint16_t type, uint32_t v);
void dht_lsp_put_u64(struct dht_lsp_builder *b, uint16_t type, uint64_t v);

/** Typed appends: they refuse values the decoder would refuse (LC_ELSP_KEY, LC_ELSP_TOO_LONG,
 * LC_ELSP_Q, LC_ELSP_SOURCE, LC_ELSP_TOO_MANY_RECORDS, LC_ELSP_MISSING_CONTACT). */
void dht_lsp_put_key(struct dht_lsp_builder *b, const void *key, size_t len);
void dht_lsp_put_call_id(struct dht_lsp_builder *b, const void *call_id, size_t len);
void dht_lsp_put_reply_ctx(struct dht_lsp_builder *b, const void *ctx, size_t len);
void dht_lsp_put_source(struct dht_lsp_builder *b, const struct dht_addr *a);
/** REPLY_TO: where the answer to this request goes (a node forwarding a client request). */
void dht_lsp_put_reply_to(struct dht_lsp_builder *b, const struct dht_addr *a);
void dht_lsp_put_status(struct dht_lsp_builder *b, unsigned status);
void dht_lsp_put_reason(struct dht_lsp_builder *b, const char *text, size_t len);
void dht_lsp_put_error_detail(struct dht_lsp_builder *b, const struct dht_lsp_error_detail *d);
void dht_lsp_put_node(struct dht_lsp_builder *b, const struct dht_lsp_node *n);
void dht_lsp_put_node_id(struct dht_lsp_builder *b, dht_id_t id);

/**
 * Append one RECORD with the fields whose present bits are set in @p r (borrowed; copied).
 * At message level it counts toward DHT_LSP_MAX_RECORDS, and the fields of an ENTRY's records
 * (DHT_LSP_P_ENTRY_ONLY) are refused with LC_ELSP_TLV_UNKNOWN, as the decoder would refuse them;
 * inside an ENTRY (dht_lsp_entry_begin()) it counts toward DHT_LSP_MAX_ENTRY_RECORDS and may
 * carry them: a REMOVED other than DHT_LSP_REMOVED_CONTACT or DHT_LSP_REMOVED_ALL, or
 * DHT_LSP_REMOVED_ALL with a contact other than "*", is refused with LC_ELSP_REMOVED.
 * Context: any thread; fast path.
 */
void dht_lsp_put_record(struct dht_lsp_builder *b, const struct dht_lsp_record *r);

/** The bytes dht_lsp_put_record() appends for @p r (its RECORD TLV, header included), e.g. to
 * check that a key's records still fit one ENTRY (DHT_LSP_MAX_ENTRY). Context: any thread. */
size_t dht_lsp_record_len(const struct dht_lsp_record *r);

/** The builder's sticky error: LC_OK while every append so far succeeded. */
static inline int dht_lsp_build_err(const struct dht_lsp_builder *b)
{
	return b->err;
}

/** Whether the builder failed only because the message is full: the buffer (LC_ENOSPACE) or the
 * largest message (LC_ELSP_TOO_BIG). Roll back to a mark and continue in a new message. */
static inline bool dht_lsp_build_full(const struct dht_lsp_builder *b)
{
	return b->err == LC_ENOSPACE || b->err == LC_ELSP_TOO_BIG;
}

/**
 * Remember the builder's state in @p mk, to undo later appends with dht_lsp_build_rollback():
 * "append this entry if it fits, else start the next frame" is mark, append, and when
 * dht_lsp_build_full(), rollback, finish, and append again to a new builder. Context: any thread.
 */
void dht_lsp_build_mark(const struct dht_lsp_builder *b, struct dht_lsp_mark *mk);

/**
 * Put the builder back as it was at dht_lsp_build_mark(@p mk) on the same builder: the bytes
 * appended since are dropped and a failure that happened since is forgotten, so the message
 * finishes exactly as if those appends had never been made. Context: any thread.
 */
void dht_lsp_build_rollback(struct dht_lsp_builder *b, const struct dht_lsp_mark *mk);

/**
 * Patch the body length and end the message.
 * @param len  set to the message's length on success.
 * @return LC_OK, LC_ENOSPACE (the buffer was too small), LC_ELSP_TOO_BIG (the message would pass
 *   DHT_LSP_MAX_MSG; reported before LC_ENOSPACE, as it is the message's fault), LC_ELSP_BUILD_STATE (no header), or the value error of a typed append.
 */
LC_MUSTCHECK int dht_lsp_build_finish(struct dht_lsp_builder *b, size_t *len);

/**
 * Start the answer to request @p req (borrowed): header with the request's type, txn id and
 * overlay id, DHT_LSP_F_ANSWER and hop limit DHT_LSP_HOP_LIMIT_DEFAULT; then STATUS, the
 * request's KEY and REPLY_CTX echoed verbatim (when it decoded; reply_ctx before records so a
 * forwarding node finds it early). Add records and extras, then dht_lsp_build_finish().
 * Requires dht_lsp_hdr_ok(req).
 */
void dht_lsp_answer_start(struct dht_lsp_builder *b, const struct dht_lsp_msg *req,
			  unsigned status);

/**
 * The whole answer to a request that failed to decode (req->err != LC_OK): status from
 * dht_lsp_status_of(), REASON lc_strerror(req->err), ERROR_DETAIL (err, err_tlv, err_off).
 * @return as dht_lsp_build_finish().
 * Context: any thread; fast path.
 */
LC_MUSTCHECK int dht_lsp_answer_error(void *buf, size_t cap, const struct dht_lsp_msg *req,
				      size_t *len);

/**
 * Encode a whole decoded-form message (every field whose present bit is set, in the canonical
 * order of docs/lsp.md §4.4) with header @p m->hdr. Re-encoding a decoded message and decoding
 * it again gives the same fields (unknown optional TLVs excepted: they are dropped).
 * @return as dht_lsp_build_finish().
 * Context: any thread.
 */
LC_MUSTCHECK int dht_lsp_encode(const struct dht_lsp_msg *m, void *buf, size_t cap, size_t *len);
