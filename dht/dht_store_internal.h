/* SPDX-License-Identifier: MIT */
/*
 * The binding store's record layouts and sizes, shared by dht_store.c and its unit tests (which
 * check the sizes the memory figures depend on). Nothing outside dht/ and its tests includes it.
 */
#pragma once

#include <stdint.h>

#include "dht/dht_pool_internal.h"
#include "dht/dht_var_internal.h"
#include "dht/dht_wheel_internal.h"

/* Largest pools a store accepts (index bits leave at least 3 bits of tag per slot). */
#define DHT_STORE_MAX_RECORDS (1u << 28)

/*
 * One key's set. Owner: the shard's worker. 32 bytes; the key's version and bytes are in the var
 * region (the key block, below), where every read of the version finds them already in cache: a
 * find compares the key bytes first. The record also keeps what range sync needs of the key (its
 * id's top half, which places it on the ring and in its digest bucket, and its share of the bucket
 * digest), so that a digest, count or clear over a million keys reads these records in order and
 * never the key blocks scattered over the var region: that walk was a cache miss and an XXH3 of
 * the key's bytes per key (dht_sync.h). It costs 16 bytes a key (pool records are a power of two).
 */
struct dht_aor {
	uint32_t
		h32; /* the id's top 32 bits: its home slot in the index; free-list link when free */
	uint32_t key;	/* var-region block of the key */
	uint32_t head;	/* first record (first added); the list is circular */
	uint16_t count; /* records held (bindings and tombstones); 0 marks a free record */
	uint16_t tombs; /* of which tombstones (REMOVED, CLEARED) */
	uint64_t id_hi; /* the key id's top 64 bits (dht_aor_id_hi) */
	uint64_t sync;	/* XOR of dht_sync_rec_hash over the records, kept with every change */
};

/* A key block: the key's version (uint64, 4-byte aligned: read with memcpy), its length (uint16),
 * then its bytes. */
#define DHT_KEY_BLOCK_VERSION 0
#define DHT_KEY_BLOCK_LEN 8
#define DHT_KEY_BLOCK_BYTES 10 /* also the block's bytes beyond the key's own */

/* Variable fields, in the order they sit in a binding's block. */
enum { VF_URI, VF_CALL_ID, VF_INSTANCE, VF_PATH, VF_ATTRS, VF_N };

/* len[VF_ATTRS] bit: the block ends with the 16 address bytes (else addr4 holds them all). */
#define DHT_LEN_ADDR16 0x8000u
/* len[VF_URI] bits: the record is a tombstone (enum dht_rec_kind) */
#define DHT_LEN_REMOVED 0x8000u
#define DHT_LEN_CLEARED 0x4000u
#define DHT_LEN_MASK 0x3fffu

/* Records a key may hold, tombstones included: as many as one replication ENTRY carries
 * (DHT_LSP_MAX_ENTRY_RECORDS); a write or merge beyond it is refused (LC_EFULL). */
#define DHT_STORE_KEY_RECORDS 256u

/* Every record's block starts with its version and writer (uint64 each, 4-byte aligned: read
 * with memcpy), then the strings in VF_* order, then the 16 address bytes unless inline. */
#define DHT_REC_HDR_VERSION 0
#define DHT_REC_HDR_WRITER 8
#define DHT_REC_HDR 16

/*
 * One record: a binding or a tombstone. Owner: the shard's worker. 64 bytes, one cache line:
 * everything but the version, writer and strings (in its block), and an address whose bytes
 * 4..15 are zero (IPv4), lives here. A tombstone keeps the strings of what it removed (its
 * identity is among them) and sits on the wheel at the time it goes.
 */
struct dht_binding {
	uint32_t aor;	     /* owning key's record; free-list link when free */
	uint32_t next, prev; /* the key's bindings, circular, in first-added order */
	struct dht_wnode w;  /* expiry wheel links; w.exp is expires_at_s */
	uint32_t var;	     /* var-region block: header (DHT_REC_HDR), then the fields */
	uint32_t registered_at_s;
	uint32_t cseq;
	uint32_t reg_id;
	uint32_t txn_tag;
	uint16_t len[VF_N]; /* field lengths; len[VF_ATTRS] also carries DHT_LEN_ADDR16 */
	int16_t q;
	uint8_t family;
	uint8_t transport;
	uint16_t port;
	uint8_t addr4[4];
};

_Static_assert(sizeof(struct dht_aor) == 32, "AOR record is 32 bytes");
_Static_assert(DHT_KEY_BLOCK_BYTES == DHT_KEY_BLOCK_LEN + 2 &&
		       DHT_KEY_BLOCK_LEN == DHT_KEY_BLOCK_VERSION + sizeof(uint64_t),
	       "key block: version, length, bytes");
_Static_assert(sizeof(struct dht_binding) == 64, "binding record is one cache line");
