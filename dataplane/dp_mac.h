/* SPDX-License-Identifier: MIT */
/*
 * The dataplane's per-datagram MAC and PRF, on OpenSSL 3's libcrypto (EVP_MAC "SIPHASH"; STYLE.md
 * §8 lets workers call libcrypto's EVP MAC per datagram with keys control derives). Workers tag
 * and check what only a member may send (reply contexts now, every datagram between overlay
 * members next) and derive the SIP To tag, with a key that may change on every call: one per
 * peer pair and direction, one for reply contexts, one for To tags. Each worker owns one
 * struct dp_mac, made at start; a call re-keys it and allocates nothing.
 *
 * The primitive: SipHash-2-4 (Aumasson and Bernstein, 2012), 128-bit key. dp_mac_tag is
 * SipHash-2-4 with its 16-byte output over nonce (8 bytes, little endian) || pieces; dp_mac_prf64
 * is the standard 8-byte SipHash-2-4 over the pieces.
 *
 * Why SipHash and not GMAC, ChaCha20-Poly1305, HMAC-SHA256 or CMAC (figures, machine and command
 * in bench/results/2026-12-07-mac.md; bench/bench_mac.c re-keys on every call):
 *   - It is a PRF, so the tag stays sound whatever the nonce does. Our nonces are counters per
 *     sender lane under a key per peer pair and direction: two lanes (workers) of one node share
 *     the key, a reply context's nonce is its transaction id, a To tag has none. Under GMAC one
 *     repeated (key, nonce) gives away the GHASH key and with it forgeries for every nonce; under
 *     Poly1305 it gives away that nonce's one-time key. A PRF-based tag only leaks that the same
 *     message was tagged twice, which the replay window exists to catch anyway.
 *   - It is the fastest sound candidate for the datagrams we send: with a new key per call,
 *     SipHash costs about 70 ns at 64 bytes, 150 at 300 and 540 at 1400, where AES-128-GCM as
 *     GMAC costs 340, 380 and 500 (OpenSSL re-expands the AES key and the GHASH table on every
 *     key change) and HMAC-SHA256 410, 530 and 1200. GMAC only wins from about 1.3 KB up (8000
 *     bytes: 1.3 us against 2.7 us); our datagrams are mostly a few hundred bytes.
 *   - Its strength: the designers claim 128-bit key recovery and, for the 8-byte output, the
 *     PRF bound (forgery 2^-64 per try); the 16-byte output is their extension, analysed less,
 *     which we rely on for no more than the 8-byte output gives. Every forgery attempt costs the
 *     attacker a datagram and is checked against a key it never sees.
 * If libcrypto gains a faster sound option (AES-GCM-SIV, OpenSSL 3.2+), only this file changes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/lc_compiler.h"

#define DP_MAC_KEY_LEN 16
#define DP_MAC_TAG_LEN 16

/* libcrypto's context type (EVP_MAC_CTX), named without including OpenSSL in every user */
struct evp_mac_ctx_st;

/* One piece of a message: the message is the concatenation of the pieces, so a caller can skip
 * a field without copying. Borrowed for the call. */
struct dp_mac_piece {
	const void *p;
	size_t len;
};

/* Owner: one thread (a worker, or a test or benchmark); never shared. Made by dp_mac_init before
 * the thread starts handling packets; fields are private to dp_mac.c. */
struct dp_mac {
	struct evp_mac_ctx_st *tag; /* SipHash-2-4, 16-byte output */
	struct evp_mac_ctx_st *prf; /* SipHash-2-4, 8-byte output */
};

/**
 * Make the contexts (the only allocations this module makes).
 * @return LC_OK; LC_ENOMEM; LC_EINVAL when libcrypto offers no SipHash (a FIPS-only provider).
 * On failure @p m is left so that dp_mac_deinit() is a no-op on it.
 * Context: any thread, before the owner uses it.
 */
LC_MUSTCHECK int dp_mac_init(struct dp_mac *m);

/** Free the contexts; a zeroed or half-built @p m is fine. Context: the owner, or after it. */
void dp_mac_deinit(struct dp_mac *m);

/**
 * The tag of the message @p msg[0..n) under @p key and @p nonce.
 * @param key    borrowed; may differ on every call (re-keying costs no allocation).
 * @param nonce  bound into the tag; a caller that checks replays makes it unique per key (a
 *               counter), but the tag's soundness does not depend on that (see the top).
 * @param msg    borrowed pieces, concatenated; @p n may be 0.
 * @param tag    receives DP_MAC_TAG_LEN bytes.
 * @return LC_OK, or LC_EINVAL when libcrypto failed (then @p tag is zeroed: never send it).
 * Context: the owner of @p m; fast path (no allocation, no lock).
 */
LC_MUSTCHECK int dp_mac_tag(struct dp_mac *m, const uint8_t key[DP_MAC_KEY_LEN], uint64_t nonce,
			    const struct dp_mac_piece *msg, unsigned n,
			    uint8_t tag[DP_MAC_TAG_LEN]);

/**
 * Whether @p tag is the tag of the message under @p key and @p nonce (constant-time compare).
 * False as well when libcrypto failed. Arguments as dp_mac_tag(). Context: as dp_mac_tag().
 */
bool dp_mac_verify(struct dp_mac *m, const uint8_t key[DP_MAC_KEY_LEN], uint64_t nonce,
		   const struct dp_mac_piece *msg, unsigned n, const uint8_t tag[DP_MAC_TAG_LEN]);

/**
 * A keyed 64-bit PRF of the message (SipHash-2-4 with its standard output): what a value the
 * world sees must be derived with, so that seeing values reveals nothing of @p key (the SIP To
 * tag). Deterministic: the same key and message give the same value.
 * @param out  receives the value (SipHash's 8 output bytes read as little endian).
 * @return LC_OK, or LC_EINVAL when libcrypto failed (*out is 0).
 * Context: as dp_mac_tag().
 */
LC_MUSTCHECK int dp_mac_prf64(struct dp_mac *m, const uint8_t key[DP_MAC_KEY_LEN],
			      const struct dp_mac_piece *msg, unsigned n, uint64_t *out);
