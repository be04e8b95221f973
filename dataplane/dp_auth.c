/* SPDX-License-Identifier: MIT */
/*
 * Authenticated datagrams between members (dp_auth.h).
 *
 * How it works:
 *   tx: find the destination in the key table; none: a client (sent as it is), unless the packet
 *       must reach a member (then refused, and control asked for a link). Else append AUTH with
 *       the newest link's epoch, the loop's clock, this worker's next sequence number, raise the
 *       header's body length by DP_AUTH_LEN, and write the tag over everything before it.
 *   rx: an AUTH TLV is recognised by its type and length in the last DP_AUTH_LEN bytes. The tag is
 *       checked first (nothing about a datagram is believed or remembered before that), then the
 *       time bound, then the window of (epoch, lane); then the TLV is cut off.
 * The window is the classic sliding bitmap (RFC 4303 §3.4.3): counters above the highest accepted
 * move the window; below it, a counter inside the window is accepted once, older ones never.
 * Windows live in a small per-worker open-addressing table; a window unused for
 * DP_REPLAY_IDLE_S may be reused, which lets nothing old back in because the time bound refuses
 * any datagram that old. When no slot can be had the datagram is refused, never let through
 * unchecked.
 */
#include "dataplane/dp_auth.h"

#include <string.h>

#include "dataplane/dp_mac.h"
#include "dataplane/dp_peers.h"
#include "dataplane/dp_worker_internal.h"
#include "dht/lsp.h"

#define BODY_LEN_OFF 6 /* the header's u16 body length (docs/lsp.md §2) */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

static void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)(v >> 32));
	wr32(p + 4, (uint32_t)v);
}

static bool addr_equal(const struct dp_addr *a, const struct dp_addr *b)
{
	return a->family == b->family && a->port == b->port && memcmp(a->addr, b->addr, 16) == 0;
}

/* Ask control for a link to @p a, at most once a second per recent address. */
static void want(struct dp_worker *w, const struct dp_addr *a)
{
	for (unsigned i = 0; i < LC_ARRAY_SIZE(w->want_recent); i++) {
		if (addr_equal(&w->want_recent[i], a) && w->now_s - w->want_recent_s[i] < 1) {
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

void dp_auth_take_wants(struct dp_worker *w, void (*fn)(void *arg, const struct dp_addr *a),
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

bool dp_auth_tx(struct dp_worker *w, struct dp_pkt *p)
{
	const struct dp_peer *peer = dp_peers_find(w->peers, &p->peer);
	if (peer == NULL || peer->nkeys == 0) {
		if (!(p->flags & DP_PKT_TO_MEMBER)) {
			return true; /* a client: its answers carry no tag */
		}
		lc_counter_inc(&w->stats.drop[DP_DROP_AUTH_NO_KEY]);
		want(w, &p->peer);
		return false;
	}
	if (p->len < DHT_LSP_HDR_LEN || p->len + DP_AUTH_LEN > DHT_LSP_MAX_MSG) {
		lc_counter_inc(&w->stats.drop[DP_DROP_TOO_LARGE]);
		return false;
	}
	const struct dp_peer_key *k = &peer->keys[0];
	uint8_t *d = (uint8_t *)p->data, *t = d + p->len;
	uint64_t seq = (uint64_t)w->id << 56 | (++w->auth_seq & ((1ull << 56) - 1));
	wr16(t, DP_AUTH_TLV);
	wr16(t + 2, DP_AUTH_VALUE_LEN);
	wr32(t + 4, k->epoch);
	wr32(t + 8, w->now_s);
	wr64(t + 12, seq);
	p->len += DP_AUTH_LEN;
	wr16(d + BODY_LEN_OFF, (uint16_t)(rd16(d + BODY_LEN_OFF) + DP_AUTH_LEN));
	struct dp_mac_piece m = {d, p->len - DP_MAC_TAG_LEN};
	if (dp_mac_tag(&w->mac, k->send, seq, &m, 1, d + p->len - DP_MAC_TAG_LEN) != LC_OK) {
		lc_counter_inc(&w->stats.drop[DP_DROP_AUTH_BAD]);
		return false;
	}
	lc_counter_inc(&w->stats.auth_tx);
	return true;
}

static uint32_t slot_hash(uint32_t epoch, uint8_t lane)
{
	uint64_t x = ((uint64_t)epoch << 8 | lane) * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(x >> 40);
}

/* The window of (epoch, lane): found, or a free or long-unused slot made fresh; NULL: none. */
static struct dp_replay_slot *window(struct dp_worker *w, uint32_t epoch, uint8_t lane, bool *fresh)
{
	struct dp_replay_slot *spare = NULL;
	uint32_t h = slot_hash(epoch, lane);
	for (unsigned i = 0; i < DP_REPLAY_PROBE; i++) {
		struct dp_replay_slot *s = &w->replay[(h + i) & (DP_REPLAY_SLOTS - 1)];
		if (s->last_s != 0 && s->epoch == epoch && s->lane == lane) {
			*fresh = false;
			return s;
		}
		if (spare == NULL && (s->last_s == 0 || w->now_s - s->last_s > DP_REPLAY_IDLE_S)) {
			spare = s;
		}
	}
	*fresh = true;
	return spare;
}

/* Move every bit of the window @p n places up (older): bit i becomes bit i + n. */
static void window_shift(uint64_t seen[DP_REPLAY_WINDOW / 64], uint64_t n)
{
	const int words = DP_REPLAY_WINDOW / 64;
	if (n >= DP_REPLAY_WINDOW) {
		memset(seen, 0, sizeof(uint64_t) * words);
		return;
	}
	int ws = (int)(n / 64);
	unsigned bs = (unsigned)(n % 64);
	for (int i = words - 1; i >= 0; i--) {
		uint64_t v = i - ws >= 0 ? seen[i - ws] << bs : 0;
		if (bs != 0 && i - ws - 1 >= 0) {
			v |= seen[i - ws - 1] >> (64 - bs);
		}
		seen[i] = v;
	}
}

/* Whether counter @p c is new to the window @p s; records it. */
static bool window_take(struct dp_replay_slot *s, uint64_t c)
{
	if (c > s->top) {
		window_shift(s->seen, c - s->top);
		s->top = c;
		s->seen[0] |= 1;
		return true;
	}
	uint64_t d = s->top - c;
	if (d >= DP_REPLAY_WINDOW || (s->seen[d / 64] >> (d % 64) & 1)) {
		return false;
	}
	s->seen[d / 64] |= 1ull << (d % 64);
	return true;
}

static bool replay_ok(struct dp_worker *w, uint32_t epoch, uint64_t seq)
{
	uint8_t lane = (uint8_t)(seq >> 56);
	uint64_t c = seq & ((1ull << 56) - 1);
	bool fresh;
	struct dp_replay_slot *s = window(w, epoch, lane, &fresh);
	if (s == NULL) {
		return false; /* every slot it may use is live: refuse rather than forget */
	}
	if (fresh) {
		memset(s, 0, sizeof(*s));
		s->epoch = epoch;
		s->lane = lane;
		s->top = c;
		s->seen[0] = 1;
		s->last_s = w->now_s;
		return true;
	}
	if (!window_take(s, c)) {
		return false;
	}
	s->last_s = w->now_s;
	return true;
}

/* Where the datagram's AUTH TLV starts, or NULL when it has none. */
static const uint8_t *auth_of(const struct dp_pkt *p)
{
	const uint8_t *d = (const uint8_t *)p->data;
	if (p->len < DHT_LSP_HDR_LEN + DP_AUTH_LEN ||
	    (uint32_t)rd16(d + BODY_LEN_OFF) + DHT_LSP_HDR_LEN != p->len) {
		return NULL;
	}
	const uint8_t *t = d + p->len - DP_AUTH_LEN;
	return rd16(t) == DP_AUTH_TLV && rd16(t + 2) == DP_AUTH_VALUE_LEN ? t : NULL;
}

/* Whether the send time @p t is within the bound of this worker's clock. */
static bool recent(const struct dp_worker *w, uint32_t t)
{
	return (t <= w->now_s ? w->now_s - t : t - w->now_s) <= DP_AUTH_MAX_AGE_S;
}

bool dp_auth_rx(struct dp_worker *w, struct dp_pkt *p)
{
	p->flags &= (uint8_t)~DP_PKT_AUTHED;
	const uint8_t *t = auth_of(p);
	if (t == NULL) {
		return true; /* a client's datagram: no member's rights */
	}
	const struct dp_peer *peer = dp_peers_find(w->peers, &p->peer);
	const struct dp_peer_key *k = peer != NULL ? dp_peer_key_of(peer, rd32(t + 4)) : NULL;
	if (k == NULL) {
		lc_counter_inc(&w->stats.drop[DP_DROP_AUTH_UNKNOWN]);
		if (peer != NULL) {
			want(w, &p->peer); /* a link we do not know yet: ask for one of our own */
		}
		return false;
	}
	uint64_t seq = rd64(t + 12);
	struct dp_mac_piece m = {p->data, p->len - DP_MAC_TAG_LEN};
	if (!dp_mac_verify(&w->mac, k->recv, seq, &m, 1, t + 20)) {
		lc_counter_inc(&w->stats.drop[DP_DROP_AUTH_BAD]);
		return false;
	}
	if (!recent(w, rd32(t + 8)) || !replay_ok(w, k->epoch, seq)) {
		lc_counter_inc(&w->stats.drop[DP_DROP_AUTH_REPLAY]);
		return false;
	}
	uint8_t *d = (uint8_t *)p->data;
	p->len -= DP_AUTH_LEN;
	wr16(d + BODY_LEN_OFF, (uint16_t)(rd16(d + BODY_LEN_OFF) - DP_AUTH_LEN));
	p->flags |= DP_PKT_AUTHED;
	p->auth_id = peer->id;
	lc_counter_inc(&w->stats.auth_rx);
	return true;
}
