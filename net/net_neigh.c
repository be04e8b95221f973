/* SPDX-License-Identifier: MIT */
/*
 * The neighbour table (net_neigh.h): a seqlock per slot, one writer per table.
 */
#include "net/net_neigh.h"

#include <string.h>

#define READ_TRIES 4

static unsigned home(uint32_t ip)
{
	return (unsigned)((ip * 2654435761u) >> 16) & (NET_NEIGH_SLOTS - 1);
}

static uint64_t mac_pack(const uint8_t *m)
{
	uint64_t v = 0;
	for (int i = NET_MAC_LEN - 1; i >= 0; i--) {
		v = v << 8 | m[i];
	}
	return v;
}

static void mac_unpack(uint64_t v, uint8_t *m)
{
	for (int i = 0; i < NET_MAC_LEN; i++) {
		m[i] = (uint8_t)(v >> (8 * i));
	}
}

void net_neigh_init(struct net_neigh *t)
{
	memset(t, 0, sizeof(*t));
}

static uint32_t rd32(const _Atomic uint32_t *p)
{
	return atomic_load_explicit((_Atomic uint32_t *)p, memory_order_relaxed);
}

static void slot_write(struct net_neigh_slot *s, uint32_t ip, uint64_t mac, uint32_t now_s)
{
	uint32_t seq = rd32(&s->seq);
	atomic_store_explicit(&s->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release); /* the odd count before any field */
	atomic_store_explicit(&s->ip, ip, memory_order_relaxed);
	atomic_store_explicit(&s->mac, mac, memory_order_relaxed);
	atomic_store_explicit(&s->seen_s, now_s, memory_order_relaxed);
	atomic_store_explicit(&s->seq, seq + 2, memory_order_release); /* the fields first */
}

bool net_neigh_learn(struct net_neigh *t, uint32_t ip, const uint8_t *mac, uint32_t now_s)
{
	if (ip == 0) {
		return false;
	}
	uint64_t m = mac_pack(mac);
	unsigned h = home(ip), victim = h;
	uint32_t oldest_age = 0;
	bool have_empty = false;
	for (unsigned i = 0; i < NET_NEIGH_PROBE; i++) {
		struct net_neigh_slot *s = &t->slot[(h + i) & (NET_NEIGH_SLOTS - 1)];
		uint32_t sip = rd32(&s->ip); /* our own writes: no seqlock needed */
		if (sip == ip) {
			bool same = atomic_load_explicit(&s->mac, memory_order_relaxed) == m;
			if (same && now_s - rd32(&s->seen_s) < NET_NEIGH_REFRESH_S) {
				return false;
			}
			slot_write(s, ip, m, now_s);
			return !same;
		}
		uint32_t age = sip == 0 ? UINT32_MAX : now_s - rd32(&s->seen_s);
		if (!have_empty && (sip == 0 || age > oldest_age)) {
			victim = (h + i) & (NET_NEIGH_SLOTS - 1);
			oldest_age = age;
			have_empty = sip == 0;
		}
	}
	slot_write(&t->slot[victim], ip, m, now_s);
	return true;
}

bool net_neigh_lookup(const struct net_neigh *t, uint32_t ip, uint8_t *mac, uint32_t now_s)
{
	if (ip == 0) {
		return false;
	}
	unsigned h = home(ip);
	for (unsigned i = 0; i < NET_NEIGH_PROBE; i++) {
		const struct net_neigh_slot *s = &t->slot[(h + i) & (NET_NEIGH_SLOTS - 1)];
		for (unsigned tries = 0; tries < READ_TRIES; tries++) {
			uint32_t s1 = atomic_load_explicit((_Atomic uint32_t *)&s->seq,
							   memory_order_acquire);
			if (s1 & 1) {
				continue; /* being written */
			}
			uint32_t sip = rd32(&s->ip);
			uint64_t m = atomic_load_explicit((_Atomic uint64_t *)&s->mac,
							  memory_order_relaxed);
			uint32_t seen = rd32(&s->seen_s);
			atomic_thread_fence(
				memory_order_acquire); /* the fields before the re-check */
			if (rd32(&s->seq) != s1) {
				continue;
			}
			if (sip != ip) {
				break; /* a consistent other entry: try the next slot */
			}
			if (now_s - seen >= NET_NEIGH_TTL_S) {
				return false;
			}
			mac_unpack(m, mac);
			return true;
		}
	}
	return false;
}

unsigned net_neigh_count(const struct net_neigh *t, uint32_t now_s)
{
	unsigned n = 0;
	for (unsigned i = 0; i < NET_NEIGH_SLOTS; i++) {
		const struct net_neigh_slot *s = &t->slot[i];
		n += rd32(&s->ip) != 0 && now_s - rd32(&s->seen_s) < NET_NEIGH_TTL_S;
	}
	return n;
}
