/* SPDX-License-Identifier: MIT */
/*
 * The routing table's queries (dht_route.h): owner and replica set by binary search over the
 * sorted view, Chord's next hop over the fingers when the view is not complete, and node ids of
 * addresses. The table is immutable after dht_route_finish(), so every query here is a pure
 * function of it and safe from any number of reader threads.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/lc_alloc.h"
#include "dht/dht_ring.h"
#include "dht/dht_route.h"

struct dht_route *dht_route_new(unsigned cap)
{
	size_t size = sizeof(struct dht_route) + (size_t)cap * sizeof(struct dht_peer);
	struct dht_route *rt = lc_calloc(1, size);
	if (rt != NULL) {
		rt->cap = cap;
	}
	return rt;
}

void dht_route_free(struct dht_route *rt)
{
	lc_free(rt);
}

static int cmp_peer(const void *a, const void *b)
{
	const struct dht_peer *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id ? 1 : 0;
}

/* Index of the first member whose id is >= @p key, wrapping to 0 past the largest. */
static unsigned lower_bound(const struct dht_route *rt, dht_id_t key)
{
	unsigned lo = 0, hi = rt->nmembers;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (rt->members[mid].id < key) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo == rt->nmembers ? 0 : lo;
}

void dht_route_finish(struct dht_route *rt)
{
	bool has_self = false;
	for (unsigned i = 0; i < rt->nmembers; i++) {
		has_self |= rt->members[i].id == rt->self.id;
	}
	if (!has_self && rt->nmembers < rt->cap) {
		rt->members[rt->nmembers++] = rt->self;
	}
	qsort(rt->members, rt->nmembers, sizeof(rt->members[0]), cmp_peer);
	unsigned n = 0;
	for (unsigned i = 0; i < rt->nmembers; i++) {
		if (n == 0 || rt->members[n - 1].id != rt->members[i].id) {
			rt->members[n++] = rt->members[i];
		}
	}
	rt->nmembers = n;
	rt->self_index = n > 0 ? lower_bound(rt, rt->self.id) : 0;
	if (rt->one_hop) {
		rt->ring_size = n;
	}
}

/* At most R nodes, never more than there are. */
static unsigned set_size(const struct dht_route *rt, unsigned cap, unsigned available)
{
	unsigned k = rt->replicas == 0 ? 1 : rt->replicas;
	k = k < cap ? k : cap;
	return k < available ? k : available;
}

unsigned dht_route_replicas(const struct dht_route *rt, dht_id_t key, const struct dht_peer **out,
			    unsigned cap)
{
	if (rt->one_hop && rt->nmembers > 0) {
		unsigned k = set_size(rt, cap, rt->nmembers);
		unsigned i = lower_bound(rt, key);
		for (unsigned j = 0; j < k; j++) {
			out[j] = &rt->members[(i + j) % rt->nmembers];
		}
		return k;
	}
	if (rt->has_pred && dht_in_oc(key, rt->pred.id, rt->self.id)) {
		unsigned k = set_size(rt, cap, rt->nsucc + 1);
		out[0] = &rt->self;
		for (unsigned j = 1; j < k; j++) {
			out[j] = &rt->succ[j - 1];
		}
		return k;
	}
	if (rt->nsucc > 0 && dht_in_oc(key, rt->self.id, rt->succ[0].id)) {
		unsigned k = set_size(rt, cap, rt->nsucc);
		for (unsigned j = 0; j < k; j++) {
			out[j] = &rt->succ[j];
		}
		return k;
	}
	if (rt->nsucc == 0) { /* alone: every key is ours */
		out[0] = &rt->self;
		return cap > 0 ? 1 : 0;
	}
	return 0;
}

bool dht_route_has_member(const struct dht_route *rt, dht_id_t id)
{
	if (rt->one_hop && rt->nmembers > 0) {
		return rt->members[lower_bound(rt, id)].id == id;
	}
	if (id == rt->self.id || (rt->has_pred && rt->pred.id == id)) {
		return true;
	}
	for (unsigned i = 0; i < rt->nsucc; i++) {
		if (rt->succ[i].id == id) {
			return true;
		}
	}
	for (unsigned i = 0; i < rt->nfingers; i++) {
		if (rt->finger[i].id == id) {
			return true;
		}
	}
	return false;
}

int dht_route_position(const struct dht_route *rt, dht_id_t key)
{
	const struct dht_peer *set[DHT_MAX_REPLICAS];
	unsigned k = dht_route_replicas(rt, key, set, DHT_MAX_REPLICAS);
	for (unsigned j = 0; j < k; j++) {
		if (set[j]->id == rt->self.id) {
			return (int)j;
		}
	}
	return -1;
}

/* The closest finger or successor preceding @p key that is not suspect (Chord's
 * closest_preceding_node); the first successor when none qualifies. */
static const struct dht_peer *closest_preceding(const struct dht_route *rt, dht_id_t key)
{
	const struct dht_peer *best = NULL;
	for (unsigned i = 0; i < rt->nfingers; i++) {
		const struct dht_peer *f = &rt->finger[i];
		if (!(f->flags & DHT_PEER_SUSPECT) && dht_in_oo(f->id, rt->self.id, key) &&
		    (best == NULL ||
		     dht_dist(rt->self.id, f->id) > dht_dist(rt->self.id, best->id))) {
			best = f;
		}
	}
	for (unsigned i = 0; i < rt->nsucc; i++) {
		const struct dht_peer *s = &rt->succ[i];
		if (!(s->flags & DHT_PEER_SUSPECT) && dht_in_oo(s->id, rt->self.id, key) &&
		    (best == NULL ||
		     dht_dist(rt->self.id, s->id) > dht_dist(rt->self.id, best->id))) {
			best = s;
		}
	}
	return best != NULL ? best : &rt->succ[0];
}

const struct dht_peer *dht_route_next_hop(const struct dht_route *rt, dht_id_t key)
{
	const struct dht_peer *set[DHT_MAX_REPLICAS];
	unsigned k = dht_route_replicas(rt, key, set, DHT_MAX_REPLICAS);
	if (k > 0) {
		for (unsigned j = 0; j < k; j++) {
			if (!(set[j]->flags & DHT_PEER_SUSPECT)) {
				return set[j];
			}
		}
		return set[0];
	}
	return closest_preceding(rt, key);
}

char *dht_addr_format(const struct dht_addr *a, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (a->family == AF_INET6) {
		(void)inet_ntop(AF_INET6, a->addr, ip, sizeof(ip));
		(void)snprintf(out, cap, "[%s]:%u", ip, a->port);
	} else {
		(void)inet_ntop(AF_INET, a->addr, ip, sizeof(ip));
		(void)snprintf(out, cap, "%s:%u", ip, a->port);
	}
	return out;
}

dht_id_t dht_node_id_of(const struct dht_addr *a, uint64_t seed)
{
	char text[64];
	dht_addr_format(a, text, sizeof(text));
	return dht_key_of(text, strlen(text), seed);
}

bool dht_addr_equal(const struct dht_addr *a, const struct dht_addr *b)
{
	size_t n = a->family == AF_INET6 ? 16 : 4;
	return a->family == b->family && a->port == b->port && memcmp(a->addr, b->addr, n) == 0;
}
