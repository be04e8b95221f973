/* SPDX-License-Identifier: MIT */
/*
 * The datagram keys of a secured node, control side (ctl_keys.h): one small array of the links
 * with their exported keys, searched linearly. It holds at most as many entries as the node has
 * links (bounded by the link layer's max_peers and max_inbound), and changes only when a link
 * comes up or goes down, never per packet.
 */
#include "control/ctl_keys.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/lc_alloc.h"
#include "common/lc_error.h"
#include "common/lc_log.h"
#include "control/ctl_addr.h"

/* One authenticated link. Owner: ctl_keys. */
struct key_link {
	const struct ctl_link_conn *conn; /* identity only: never dereferenced after it closed */
	dht_id_t id;
	bool has_addr;
	struct dht_addr addr; /* an outgoing link's peer address */
	uint64_t up_ms;
	struct dp_peer_key key;
};

/* Owner: the control thread (ctl_ovl). */
struct ctl_keys {
	struct dht_peer self;
	struct dp_peer_key self_key; /* for datagrams to itself */
	struct key_link *link;
	unsigned nlink, caplink;
	bool dirty;
};

int ctl_keys_new(struct ctl_keys **out, const struct dht_peer *self)
{
	struct ctl_keys *k = lc_calloc(1, sizeof(*k));
	if (k == NULL) {
		return LC_ENOMEM;
	}
	k->self = *self;
	if (getrandom(k->self_key.send, sizeof(k->self_key.send), 0) !=
	    (ssize_t)sizeof(k->self_key.send)) {
		lc_free(k);
		return LC_EINVAL;
	}
	memcpy(k->self_key.recv, k->self_key.send, sizeof(k->self_key.recv));
	k->self_key.epoch = 0;
	k->dirty = true;
	*out = k;
	return LC_OK;
}

void ctl_keys_free(struct ctl_keys *k)
{
	if (k == NULL) {
		return;
	}
	if (k->link != NULL) {
		explicit_bzero(k->link, k->caplink * sizeof(*k->link));
	}
	lc_free(k->link);
	lc_free(k);
}

/* Grow an array of @p size-byte elements to hold one more. */
static bool grow(void **v, unsigned n, unsigned *cap, size_t size)
{
	if (n < *cap) {
		return true;
	}
	unsigned ncap = *cap ? *cap * 2 : 16;
	void *nv = lc_alloc(ncap * size);
	if (nv == NULL) {
		return false;
	}
	if (*v != NULL) {
		memcpy(nv, *v, n * size);
		explicit_bzero(*v, *cap * size);
		lc_free(*v);
	}
	*v = nv;
	*cap = ncap;
	return true;
}

static void link_up(struct ctl_keys *k, const struct ctl_link_conn *conn,
		    const struct sockaddr_storage *peer, uint64_t now_ms)
{
	uint8_t m[36];
	if (ctl_link_tls_export(conn, CTL_KEYS_LABEL, m, sizeof(m)) != LC_OK ||
	    !grow((void **)&k->link, k->nlink, &k->caplink, sizeof(*k->link))) {
		lc_warn("overlay link: no datagram keys (out of memory or export failed)");
		return;
	}
	struct key_link *l = &k->link[k->nlink++];
	memset(l, 0, sizeof(*l));
	l->conn = conn;
	l->id = conn->peer_id;
	l->up_ms = now_ms;
	l->has_addr = peer != NULL && ctl_addr_to_dht(peer, &l->addr) == LC_OK;
	bool client = ctl_link_tls_is_client(conn);
	memcpy(l->key.send, m + (client ? 0 : 16), DP_PEER_KEY_LEN);
	memcpy(l->key.recv, m + (client ? 16 : 0), DP_PEER_KEY_LEN);
	l->key.epoch = (uint32_t)m[32] << 24 | (uint32_t)m[33] << 16 | (uint32_t)m[34] << 8 | m[35];
	explicit_bzero(m, sizeof(m));
	k->dirty = true;
}

void ctl_keys_on_link(struct ctl_keys *k, const struct ctl_link_conn *conn,
		      const struct sockaddr_storage *peer, bool up, uint64_t now_ms)
{
	if (k == NULL || conn->peer_id == k->self.id) {
		return; /* unsecured: no keys; a link to itself: its own key serves */
	}
	if (up) {
		link_up(k, conn, peer, now_ms);
		return;
	}
	for (unsigned i = 0; i < k->nlink; i++) {
		if (k->link[i].conn == conn) {
			explicit_bzero(&k->link[i], sizeof(k->link[i]));
			k->link[i] = k->link[--k->nlink];
			k->dirty = true;
			return;
		}
	}
}

bool ctl_keys_dirty(const struct ctl_keys *k)
{
	return k->dirty;
}

bool ctl_keys_verified_addr(const struct ctl_keys *k, dht_id_t id, struct dht_addr *out)
{
	if (k == NULL) {
		return false;
	}
	if (id == k->self.id) {
		*out = k->self.addr;
		return true;
	}
	const struct key_link *best = NULL;
	for (unsigned i = 0; i < k->nlink; i++) {
		const struct key_link *l = &k->link[i];
		if (l->has_addr && l->id == id && (best == NULL || l->up_ms > best->up_ms)) {
			best = l;
		}
	}
	if (best != NULL) {
		*out = best->addr;
	}
	return best != NULL;
}

bool ctl_keys_id_at(const struct ctl_keys *k, const struct dht_addr *addr, dht_id_t *out)
{
	if (k == NULL) {
		return false;
	}
	const struct key_link *best = NULL;
	for (unsigned i = 0; i < k->nlink; i++) {
		const struct key_link *l = &k->link[i];
		if (l->has_addr && dht_addr_equal(&l->addr, addr) &&
		    (best == NULL || l->up_ms > best->up_ms)) {
			best = l;
		}
	}
	if (best != NULL) {
		*out = best->id;
	}
	return best != NULL;
}

static int newest_first(const void *a, const void *b)
{
	const struct key_link *x = a, *y = b;
	return x->up_ms < y->up_ms ? 1 : x->up_ms > y->up_ms ? -1 : 0;
}

struct dp_peers *ctl_keys_build(struct ctl_keys *k)
{
	if (k->nlink > 1) {
		qsort(k->link, k->nlink, sizeof(*k->link), newest_first);
	}
	struct dp_peers *t = dp_peers_new(k->nlink + 1);
	if (t == NULL) {
		return NULL;
	}
	struct dp_addr me = {.family = k->self.addr.family, .port = k->self.addr.port};
	memcpy(me.addr, k->self.addr.addr, sizeof(me.addr));
	if (dp_peers_add(t, &me, k->self.id, &k->self_key) != LC_OK) {
		dp_peers_free(t);
		return NULL;
	}
	for (unsigned i = 0; i < k->nlink; i++) {
		const struct key_link *l = &k->link[i];
		struct dht_addr a = l->addr;
		if (!l->has_addr && !ctl_keys_verified_addr(k, l->id, &a)) {
			continue; /* a link the peer opened, and no address of it verified yet */
		}
		struct dp_addr da = {.family = a.family, .port = a.port};
		memcpy(da.addr, a.addr, sizeof(da.addr));
		if (dp_peers_add(t, &da, l->id, &l->key) == LC_EINVAL) {
			/* another id at that address: the newer link's id stands */
			continue;
		}
	}
	k->dirty = false;
	return t;
}

unsigned ctl_keys_links(const struct ctl_keys *k)
{
	return k != NULL ? k->nlink : 0;
}
