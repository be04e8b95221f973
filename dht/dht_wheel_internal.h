/* SPDX-License-Identifier: MIT */
/*
 * The binding store's expiry timer wheel: 1 s resolution, any expiry a uint32 of unix seconds can
 * hold, O(1) add, delete and move, and reaping that does bounded work per call however far time
 * has jumped. The nodes are the store's binding records (an embedded struct dht_wnode), named by
 * their 32-bit pool index.
 *
 * How it works: four levels of 256 slots cover all 2^32 seconds (a hierarchical wheel, as in the
 * classic BSD/Linux kernel timers). `cur` is the first second not yet processed. A node expiring
 * at e >= cur goes to the level of the highest byte in which e and cur differ, in the slot that
 * byte of e names; so a level-L slot holds nodes whose higher bytes equal cur's and whose byte L is
 * greater than cur's (level 0: the same 256-second block, at or after cur). A node with e < cur
 * goes straight to the `due` list. Each slot is a circular doubly linked list through the nodes,
 * with a sentinel head in the wheel (sentinel indices carry DHT_WHEEL_HEAD), so a node is unlinked
 * in O(1) without knowing its slot; a bitmap per level says which slots are non-empty.
 *
 * Advancing never steps second by second. The next event is the first non-empty level-0 slot at or
 * after cur; failing that, the first non-empty slot above cur's byte at level 1, then 2, then 3
 * (each found with a find-first-set over 4 words). A level-0 slot whose second is <= now is spliced
 * whole onto `due` (O(1)); a higher-level slot whose block starts at or before now makes cur jump
 * to that block's start and is spliced whole onto `pending`, whose nodes are then re-added one by
 * one against the new cur (each node cascades at most 3 times in its life). When the next event
 * lies after now, cur jumps to now + 1. Whenever cur enters a new block of a level, that level's
 * slot for the new block is spliced onto `pending` too. Each of these steps costs O(1), and the
 * caller caps the steps per call, so a worker idle for hours (or until 2106) catches up over a few
 * calls, reaping in order of slots, never scanning the table.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define DHT_WHEEL_LEVELS 4
#define DHT_WHEEL_SLOTS 256
#define DHT_WHEEL_HEAD 0x80000000u
#define DHT_WHEEL_DUE (DHT_WHEEL_LEVELS * DHT_WHEEL_SLOTS)
#define DHT_WHEEL_PENDING (DHT_WHEEL_DUE + 1)
#define DHT_WHEEL_LISTS (DHT_WHEEL_PENDING + 1)

/* A node's links and expiry, embedded in the record it times. Owner: the wheel's one thread. */
struct dht_wnode {
	uint32_t next; /* node index, or DHT_WHEEL_HEAD | list for a sentinel */
	uint32_t prev;
	uint32_t exp; /* absolute expiry, unix seconds */
};

/* Owner: the store's worker (embedded in struct dht_store). */
struct dht_wheel {
	uint8_t *node0; /* node i at node0 + i * stride */
	size_t stride;
	uint64_t cur; /* first second not yet processed (up to 2^32) */
	uint64_t map[DHT_WHEEL_LEVELS][DHT_WHEEL_SLOTS / 64];
	struct dht_wnode head[DHT_WHEEL_LISTS];
};

/** Start an empty wheel at @p now; node i is at @p node0 + i * @p stride. */
void dht_wheel_init(struct dht_wheel *w, void *node0, size_t stride, uint32_t now);

/** Add node @p i, which expires at its exp field. O(1). */
void dht_wheel_add(struct dht_wheel *w, uint32_t i);

/** Take node @p i off the wheel, wherever it is. O(1). */
void dht_wheel_del(struct dht_wheel *w, uint32_t i);

/**
 * The next node expiring at or before @p now, already taken off the wheel, or 0 when none is due
 * or @p steps (decremented by the work done; at least 1 per call) ran out first.
 */
uint32_t dht_wheel_pop(struct dht_wheel *w, uint32_t now, unsigned *steps);
