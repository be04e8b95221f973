/* SPDX-License-Identifier: MIT */
/*
 * The datagram key table (dp_peers.h): an array of peers and an open-addressing index on their
 * addresses, sized to twice the capacity so that a lookup probes one or two slots. Built once by
 * control, never changed after publication.
 */
#include "dataplane/dp_peers.h"

#include <string.h>
#include <sys/socket.h>

#include "common/lc_alloc.h"
#include "common/lc_error.h"

static uint32_t addr_hash(const struct dp_addr *a)
{
	/* FNV-1a over the bytes that name the address: the table is built by control from
	 * members' addresses, so no one outside chooses what collides */
	uint32_t h = 2166136261u ^ a->family;
	unsigned n = a->family == AF_INET ? 4 : 16;
	for (unsigned i = 0; i < n; i++) {
		h = (h ^ a->addr[i]) * 16777619u;
	}
	h = (h ^ (a->port & 0xff)) * 16777619u;
	return (h ^ (a->port >> 8)) * 16777619u;
}

struct dp_peers *dp_peers_new(uint32_t cap)
{
	struct dp_peers *t = lc_calloc(1, sizeof(*t));
	if (t == NULL) {
		return NULL;
	}
	uint32_t slots = 16;
	while (slots < 2 * cap) {
		slots <<= 1;
	}
	t->cap = cap;
	t->mask = slots - 1;
	t->slot = lc_calloc(slots, sizeof(*t->slot));
	t->peer = lc_calloc(cap > 0 ? cap : 1, sizeof(*t->peer));
	if (t->slot == NULL || t->peer == NULL) {
		dp_peers_free(t);
		return NULL;
	}
	return t;
}

void dp_peers_free(struct dp_peers *t)
{
	if (t == NULL) {
		return;
	}
	lc_free(t->slot);
	lc_free(t->peer);
	lc_free(t);
}

/* The slot that holds @p addr, or the empty slot where it would go. */
static uint32_t *slot_of(const struct dp_peers *t, const struct dp_addr *addr)
{
	for (uint32_t i = addr_hash(addr) & t->mask;; i = (i + 1) & t->mask) {
		uint32_t *s = &t->slot[i];
		if (*s == 0 || dp_addr_equal(&t->peer[*s - 1].addr, addr)) {
			return s; /* the table is at most half full: an empty slot exists */
		}
	}
}

int dp_peers_add(struct dp_peers *t, const struct dp_addr *addr, dht_id_t id,
		 const struct dp_peer_key *key)
{
	uint32_t *s = slot_of(t, addr);
	if (*s == 0) {
		if (t->n == t->cap) {
			return LC_EFULL;
		}
		struct dp_peer *p = &t->peer[t->n++];
		memset(p, 0, sizeof(*p));
		p->addr = *addr;
		p->id = id;
		*s = t->n;
	}
	struct dp_peer *p = &t->peer[*s - 1];
	if (p->id != id) {
		return LC_EINVAL;
	}
	if (p->nkeys < DP_PEER_KEYS) {
		p->keys[p->nkeys++] = *key;
	}
	return LC_OK;
}

const struct dp_peer *dp_peers_find(const struct dp_peers *t, const struct dp_addr *addr)
{
	if (t == NULL) {
		return NULL;
	}
	uint32_t s = *slot_of(t, addr);
	return s != 0 ? &t->peer[s - 1] : NULL;
}

const struct dp_peer_key *dp_peer_key_of(const struct dp_peer *p, uint32_t epoch)
{
	for (unsigned i = 0; i < p->nkeys; i++) {
		if (p->keys[i].epoch == epoch) {
			return &p->keys[i];
		}
	}
	return NULL;
}
