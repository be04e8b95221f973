/* SPDX-License-Identifier: MIT */
/*
 * The neighbour (ARP) table: IPv4 address -> MAC of the hosts on the link, bounded, written by
 * one thread and read by any number without locks.
 *
 * How it works: a table is a fixed array of slots, open addressing with a probe window of
 * NET_NEIGH_PROBE slots from the address's hash. Only the table's owner writes it (a DPDK worker
 * learns from the ARP messages and IPv4 packets on its own queue); a full window evicts its
 * least recently confirmed entry, so the table never grows. Every slot carries a sequence
 * counter, as in a seqlock: the writer makes it odd, stores the fields, and makes it even again
 * (release); a reader loads it (acquire), reads the fields, and keeps them only if the counter
 * was even and has not moved (an acquire fence orders the field loads before the re-check). All
 * fields are atomics accessed relaxed, so there is no data race in the C11 sense, and a reader
 * never sees half an update: it sees the old entry, the new one, or a miss. A miss is always
 * safe here: the caller resolves the address again. Because ARP replies may arrive on another
 * worker's queue than the one that asked, a worker looks in its own table first and then in the
 * others' (net_neigh_lookup on each).
 *
 * Entries expire NET_NEIGH_TTL_S after they were last confirmed; a confirmation of an unchanged
 * entry is written at most every NET_NEIGH_REFRESH_S, so learning from every received packet
 * costs a lookup, not a store.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/lc_compiler.h"
#include "net/net_proto.h"

#define NET_NEIGH_SLOTS 256 /* a power of two */
#define NET_NEIGH_PROBE 8
#define NET_NEIGH_TTL_S 300
#define NET_NEIGH_REFRESH_S 30

/* Owner: the table's writer; every field is read by any thread (see How it works). */
struct net_neigh_slot {
	_Atomic uint32_t seq;	 /* odd while the writer changes the slot */
	_Atomic uint32_t ip;	 /* host order; 0: empty */
	_Atomic uint64_t mac;	 /* the 6 bytes, first byte in the low bits */
	_Atomic uint32_t seen_s; /* when last confirmed (the caller's clock, seconds) */
};

/* Owner: one writer thread (its worker); read by all workers. Zeroed storage is an empty table. */
struct net_neigh {
	LC_CACHE_ALIGNED struct net_neigh_slot slot[NET_NEIGH_SLOTS];
};

/** Empty the table. Context: before any reader runs. */
void net_neigh_init(struct net_neigh *t);

/**
 * Learn or confirm that @p ip is at @p mac (borrowed) at time @p now_s.
 * @return true when the entry is new or its MAC changed.
 * Context: the table's one writer; fast path.
 */
bool net_neigh_learn(struct net_neigh *t, uint32_t ip, const uint8_t *mac, uint32_t now_s);

/**
 * Look @p ip up: on a hit (an entry confirmed within NET_NEIGH_TTL_S of @p now_s) copy its MAC
 * to @p mac and return true. Context: any thread; fast path; never blocks.
 */
bool net_neigh_lookup(const struct net_neigh *t, uint32_t ip, uint8_t *mac, uint32_t now_s);

/** Entries that are live at @p now_s (for stats). Context: any thread. */
unsigned net_neigh_count(const struct net_neigh *t, uint32_t now_s);
