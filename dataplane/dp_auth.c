/* SPDX-License-Identifier: MIT */
/*
 * The AUTH TLV (dp_auth.h): tagging, checking, and the replay windows.
 *
 * How it works:
 *   seal: append the TLV, raise the header's body length by DP_AUTH_LEN, tag everything before
 *         the tag.
 *   open: the TLV is recognised by its type and length in the last DP_AUTH_LEN bytes of a
 *         message whose header's body length matches the datagram. The tag is checked first
 *         (nothing about a datagram is believed or remembered before that), then the time bound,
 *         then the window of (epoch, lane); then the TLV is cut off.
 * The window is the classic sliding bitmap (RFC 4303 §3.4.3): counters above the highest accepted
 * move the window; below it, a counter inside the window is accepted once, older ones never.
 * Windows live in a small open-addressing table per worker; a window unused for
 * DP_REPLAY_IDLE_S may be reused, which lets nothing old back in because the time bound refuses
 * any datagram that old. When no slot can be had the datagram is refused, never let through
 * unchecked.
 */
#include "dataplane/dp_auth.h"

#include <string.h>

#include "common/lc_error.h"
#include "dht/lsp.h"

#define BODY_LEN_OFF 6 /* the header's u16 body length (docs/lsp.md §2) */
#define SEQ_MASK ((1ull << 56) - 1)

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

static uint32_t slot_hash(uint32_t epoch, uint8_t lane)
{
	uint64_t x = ((uint64_t)epoch << 8 | lane) * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(x >> 40);
}

/* The window of (epoch, lane): found, or a free or long-unused slot made fresh; NULL: none. */
static struct dp_replay_slot *window(struct dp_replay_slot *replay, uint32_t now_s, uint32_t epoch,
				     uint8_t lane, bool *fresh)
{
	struct dp_replay_slot *spare = NULL;
	uint32_t h = slot_hash(epoch, lane);
	for (unsigned i = 0; i < DP_REPLAY_PROBE; i++) {
		struct dp_replay_slot *s = &replay[(h + i) & (DP_REPLAY_SLOTS - 1)];
		if (s->last_s != 0 && s->epoch == epoch && s->lane == lane) {
			*fresh = false;
			return s;
		}
		/* signed: a clock stepped back must not make live windows look idle */
		if (spare == NULL &&
		    (s->last_s == 0 || (int32_t)(now_s - s->last_s) > DP_REPLAY_IDLE_S)) {
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

static bool replay_ok(struct dp_replay_slot *replay, uint32_t now_s, uint32_t epoch, uint64_t seq,
		      enum dp_auth_verdict *why)
{
	uint8_t lane = (uint8_t)(seq >> 56);
	uint64_t c = seq & SEQ_MASK;
	bool fresh;
	if (lane >= DP_AUTH_LANES) {
		*why = DP_AUTH_REPLAY; /* no node has that many workers: a member filling windows */
		return false;
	}
	struct dp_replay_slot *s = window(replay, now_s, epoch, lane, &fresh);
	if (s == NULL) {
		*why = DP_AUTH_FULL; /* every slot it may use is live: refuse rather than forget */
		return false;
	}
	if (fresh) {
		memset(s, 0, sizeof(*s));
		s->epoch = epoch;
		s->lane = lane;
		s->top = c;
		s->seen[0] = 1;
	} else if (!window_take(s, c)) {
		*why = DP_AUTH_REPLAY;
		return false;
	}
	s->last_s = now_s != 0 ? now_s : 1;
	return true;
}

/* Whether @p data[0..len) is one whole LSP message by its header's body length. */
static bool whole(const uint8_t *data, uint32_t len)
{
	return len >= DHT_LSP_HDR_LEN &&
	       (uint32_t)rd16(data + BODY_LEN_OFF) + DHT_LSP_HDR_LEN == len;
}

int dp_auth_seal(const struct dp_peer_key *k, uint64_t seq, uint32_t now_s, uint8_t *data,
		 uint32_t *len, uint32_t cap)
{
	if (!whole(data, *len)) {
		return LC_EMALFORMED;
	}
	if (*len + DP_AUTH_LEN > DHT_LSP_MAX_MSG || *len + DP_AUTH_LEN > cap) {
		return LC_ETOOLONG;
	}
	uint8_t *t = data + *len;
	wr16(t, DP_AUTH_TLV);
	wr16(t + 2, DP_AUTH_VALUE_LEN);
	wr32(t + 4, k->epoch);
	wr32(t + 8, now_s);
	wr64(t + 12, seq);
	*len += DP_AUTH_LEN;
	wr16(data + BODY_LEN_OFF, (uint16_t)(rd16(data + BODY_LEN_OFF) + DP_AUTH_LEN));
	struct dp_mac_piece m = {data, *len - DP_MAC_TAG_LEN};
	dp_mac_tag(k->send, seq, &m, 1, data + *len - DP_MAC_TAG_LEN);
	return LC_OK;
}

enum dp_auth_verdict dp_auth_open(const struct dp_peers *peers, struct dp_replay_slot *replay,
				  uint32_t now_s, const struct dp_addr *src, uint8_t *data,
				  uint32_t *len, const struct dp_peer **from)
{
	*from = NULL;
	if (*len < DHT_LSP_HDR_LEN + DP_AUTH_LEN || !whole(data, *len)) {
		return DP_AUTH_NONE;
	}
	const uint8_t *t = data + *len - DP_AUTH_LEN;
	if (rd16(t) != DP_AUTH_TLV || rd16(t + 2) != DP_AUTH_VALUE_LEN) {
		return DP_AUTH_NONE;
	}
	const struct dp_peer *peer = dp_peers_find(peers, src);
	const struct dp_peer_key *k = peer != NULL ? dp_peer_key_of(peer, rd32(t + 4)) : NULL;
	*from = peer;
	if (k == NULL) {
		return DP_AUTH_UNKNOWN;
	}
	*from = NULL;
	uint64_t seq = rd64(t + 12);
	struct dp_mac_piece m = {data, *len - DP_MAC_TAG_LEN};
	if (!dp_mac_verify(k->recv, seq, &m, 1, t + 20)) {
		return DP_AUTH_BAD;
	}
	uint32_t sent = rd32(t + 8);
	if ((sent <= now_s ? now_s - sent : sent - now_s) > DP_AUTH_MAX_AGE_S) {
		return DP_AUTH_REPLAY;
	}
	enum dp_auth_verdict why = DP_AUTH_OK;
	if (!replay_ok(replay, now_s, k->epoch, seq, &why)) {
		return why;
	}
	*len -= DP_AUTH_LEN;
	wr16(data + BODY_LEN_OFF, (uint16_t)(rd16(data + BODY_LEN_OFF) - DP_AUTH_LEN));
	*from = peer;
	return DP_AUTH_OK;
}
