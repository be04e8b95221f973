/* SPDX-License-Identifier: MIT */
/*
 * Key ids: where a key (a canonical AOR, or any URI an LSP client publishes) lives on the ring.
 * An id is 128 bits, XXH3-128 of the key's bytes with the overlay's seed (DESIGN.md). This file
 * is the only place that knows the hash, so changing it changes the ring in one place. The id
 * alone never identifies a key: the store keeps the key's bytes too, so two keys whose ids
 * collide are still two keys.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A point on the ring, mod 2^128. */
typedef unsigned __int128 dht_id_t;

/* Hex digits in a printed id. */
#define DHT_ID_HEX_LEN 32

/** The id of @p len bytes of key under @p seed. Context: any thread; fast path. */
dht_id_t dht_key_of(const void *key, size_t len, uint64_t seed);

/**
 * The local shard (worker) that owns @p id among @p nshards (> 0): the id's low 64 bits mod
 * nshards. The ring position uses the high bits, so shards stay balanced inside any ring range.
 */
static inline uint32_t dht_shard_of(dht_id_t id, uint32_t nshards)
{
	return (uint32_t)((uint64_t)id % nshards);
}

/** Write @p id as DHT_ID_HEX_LEN lower-case hex digits plus a NUL. Context: any thread. */
void dht_id_format(dht_id_t id, char out[DHT_ID_HEX_LEN + 1]);

/** Parse exactly DHT_ID_HEX_LEN hex digits (either case); false when malformed. */
bool dht_id_parse(const char *hex, size_t len, dht_id_t *out);

/** A 64-bit seed from a name (the overlay identifier), so every node of one overlay agrees. */
uint64_t dht_seed_of(const char *name, size_t len);

/** A 64-bit hash of @p len bytes under @p seed (XXH3-64): a binding's identity in range digests.
 * Context: any thread; fast path. */
uint64_t dht_hash64(const void *p, size_t len, uint64_t seed);
