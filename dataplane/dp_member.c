/* SPDX-License-Identifier: MIT */
/*
 * A worker's datagrams to and from the members of a secured overlay (dp_member.h): which ones
 * are tagged, what a failed check costs, and asking control for the links whose keys are
 * missing. The AUTH TLV itself is dp_auth.c.
 *
 * How it works: a worker that must send to a member it has no key for (no link yet, or it
 * closed) parks the datagram and asks control for a link to that address; so does a receiver
 * that gets a tag under an epoch of a member it does not know yet (that one is dropped: the
 * sender's retransmission recovers it). An ask is a dp_addr on a single-producer
 * single-consumer queue per worker, at most one per address per second; while datagrams for an
 * address stay parked the worker asks again every second, so an ask control could not act on
 * (the link in backoff, the queue full) is repeated rather than lost. Parked datagrams are
 * looked at again only when a new key table was published or a second passed, so a full
 * parking costs one compare per loop. Answers to a REPLY_TO make the bursts: a replica that
 * completes a write answers the facing node directly, and in finger mode that is often a member
 * it has no link to yet, so the parking holds a quarter of the worker's pool (DP_PARKED); past
 * that a datagram is dropped and counted as auth_park_full, one whose key never came within
 * DP_PARK_S as auth_no_key.
 */
#include "dataplane/dp_member.h"

#include <string.h>

#include "dataplane/dp_worker_internal.h"

_Static_assert(DP_MAX_WORKERS <= DP_AUTH_LANES, "every worker needs a lane of its own");
_Static_assert(DP_PARKED <= DP_POOL_SIZE / 4, "parking must leave most of the pool to receive");

/* Ask control for a link to @p a, at most once a second per recent address. */
static void want(struct dp_worker *w, const struct dp_addr *a)
{
	for (unsigned i = 0; i < LC_ARRAY_SIZE(w->want_recent); i++) {
		if (dp_addr_equal(&w->want_recent[i], a) && w->now_s - w->want_recent_s[i] < 1) {
			return;
		}
	}
	unsigned r = w->want_next++ % LC_ARRAY_SIZE(w->want_recent);
	w->want_recent[r] = *a;
	w->want_recent_s[r] = w->now_s;
	struct dp_want_queue *q = &w->wants;
	uint32_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
	if (head - tail == DP_WANTS) {
		return; /* control is behind: a later datagram asks again */
	}
	q->addr[head % DP_WANTS] = *a;
	atomic_store_explicit(&q->head, head + 1, memory_order_release);
}

void dp_member_take_wants(struct dp_worker *w, void (*fn)(void *arg, const struct dp_addr *a),
			  void *arg)
{
	struct dp_want_queue *q = &w->wants;
	uint32_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&q->head, memory_order_acquire);
	for (; tail != head; tail++) {
		struct dp_addr a = q->addr[tail % DP_WANTS];
		atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
		fn(arg, &a);
	}
}

/* Tag @p p for @p peer. */
static bool seal(struct dp_worker *w, const struct dp_peer *peer, struct dp_pkt *p)
{
	uint64_t seq = (uint64_t)w->id << 56 | (++w->auth_seq & ((1ull << 56) - 1));
	int ret = dp_auth_seal(&peer->keys[0], seq, w->now_s, (uint8_t *)p->data, &p->len,
			       DP_PKT_CAP);
	if (ret != LC_OK) {
		lc_counter_inc(&w->stats.drop[DP_DROP_TOO_LARGE]);
		return false;
	}
	lc_counter_inc(&w->stats.auth_tx);
	return true;
}

enum dp_member_tx_result dp_member_tx(struct dp_worker *w, struct dp_pkt *p)
{
	if (p->flags & DP_PKT_PLAIN) {
		/* an answer to a request no member tagged: whoever sent it from a member's
		 * address must not get a member's word back (a replayed reply context) */
		return DP_MEMBER_SEND;
	}
	const struct dp_peer *peer = dp_peers_find(w->peers, &p->peer);
	if (peer != NULL && peer->nkeys > 0) {
		return seal(w, peer, p) ? DP_MEMBER_SEND : DP_MEMBER_DROP;
	}
	if (!(p->flags & DP_PKT_TO_MEMBER)) {
		return DP_MEMBER_SEND; /* a client: its answers carry no tag */
	}
	want(w, &p->peer);
	if (w->nparked == DP_PARKED) {
		lc_counter_inc(&w->stats.drop[DP_DROP_AUTH_PARK_FULL]);
		return DP_MEMBER_DROP;
	}
	w->parked[w->nparked] = p;
	w->parked_s[w->nparked++] = w->now_s;
	lc_counter_inc(&w->stats.auth_parked);
	return DP_MEMBER_PARKED;
}

void dp_member_retry(struct dp_worker *w)
{
	if (w->nparked == 0) {
		return; /* the common case: one load and a branch */
	}
	uint64_t gen = w->peers != NULL ? w->peers->gen : 0;
	bool new_second = w->now_s != w->parked_look_s;
	if (gen == w->parked_gen && !new_second) {
		return; /* no new keys and no deadline passed since the last look */
	}
	w->parked_gen = gen;
	w->parked_look_s = w->now_s;
	unsigned kept = 0, n = w->nparked;
	w->nparked = 0; /* dp_tx_push below must not find them parked */
	struct dp_pkt *go[DP_PARKED];
	unsigned ngo = 0;
	for (unsigned i = 0; i < n; i++) {
		struct dp_pkt *p = w->parked[i];
		const struct dp_peer *peer = dp_peers_find(w->peers, &p->peer);
		if (peer != NULL && peer->nkeys > 0) {
			if (seal(w, peer, p)) {
				go[ngo++] = p;
			} else {
				dp_pool_put(&w->pool, p);
			}
		} else if (w->now_s - w->parked_s[i] > DP_PARK_S) {
			lc_counter_inc(&w->stats.drop[DP_DROP_AUTH_NO_KEY]);
			dp_pool_put(&w->pool, p);
		} else {
			if (new_second) {
				want(w, &p->peer); /* still no key: ask again (once a second) */
			}
			w->parked[kept] = p;
			w->parked_s[kept++] = w->parked_s[i];
		}
	}
	w->nparked = kept;
	for (unsigned i = 0; i < ngo; i++) {
		dp_tx_send(w, go[i]);
	}
}

bool dp_member_rx(struct dp_worker *w, struct dp_pkt *p)
{
	const struct dp_peer *from;
	enum dp_auth_verdict v = dp_auth_open(w->peers, w->replay, w->now_s, &p->peer,
					      (uint8_t *)p->data, &p->len, &from);
	switch (v) {
	case DP_AUTH_NONE:
		return true; /* a client's datagram: no member's rights */
	case DP_AUTH_OK:
		p->flags |= DP_PKT_AUTHED;
		p->auth_id = from->id;
		lc_counter_inc(&w->stats.auth_rx);
		return true;
	case DP_AUTH_UNKNOWN:
		lc_counter_inc(&w->stats.drop[DP_DROP_AUTH_UNKNOWN]);
		if (from != NULL) {
			want(w, &p->peer); /* a link we do not know yet: ask for one of our own */
		}
		return false;
	case DP_AUTH_BAD:
		lc_counter_inc(&w->stats.drop[DP_DROP_AUTH_BAD]);
		return false;
	case DP_AUTH_REPLAY:
	case DP_AUTH_FULL:
	default:
		lc_counter_inc(&w->stats.drop[DP_DROP_AUTH_REPLAY]);
		return false;
	}
}

bool dp_member_sent(const struct dp_worker *w, const struct dp_pkt *in)
{
	if (w->cfg->secured) {
		return (in->flags & DP_PKT_AUTHED) != 0; /* its tag says so (dp_auth.c) */
	}
	if (w->rt == NULL) {
		return false;
	}
	struct dht_addr a = {.family = in->peer.family, .port = in->peer.port};
	memcpy(a.addr, in->peer.addr, sizeof(a.addr));
	return dht_route_has_member(w->rt, dht_node_id_of(&a, w->cfg->overlay_id));
}
