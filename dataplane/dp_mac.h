/* SPDX-License-Identifier: MIT */
/*
 * The dataplane's per-datagram MAC and PRF. Workers tag and check what only a member may send
 * (reply contexts, every datagram between overlay members) and derive the SIP To tag, with a key
 * that may change on every call: one per peer pair and direction, one for reply contexts, one
 * for To tags. The functions keep no state between calls: any thread may call them, nothing is
 * made at start, and nothing can fail.
 *
 * The primitive: SipHash-2-4 (Aumasson and Bernstein, 2012), 128-bit key. dp_mac_tag is
 * SipHash-2-4 with its 16-byte output over nonce (8 bytes, little endian) || pieces; dp_mac_prf64
 * is the standard 8-byte SipHash-2-4 over the pieces.
 *
 * Why SipHash and not GMAC, ChaCha20-Poly1305, HMAC-SHA256, CMAC, BLAKE2 or KMAC (figures,
 * machine and command in bench/results/2026-12-07-mac.md; bench/bench_mac.c re-keys every call):
 *   - It is a PRF, so the tag stays sound whatever the nonces do. Ours are counters per sender
 *     lane under a key per peer pair and direction, so two lanes (workers) of a node share a key;
 *     a reply context's nonce is its request's transaction id, which a retransmission repeats; a
 *     To tag has none. Under GMAC one repeated (key, nonce) gives away the GHASH key and with it
 *     forgeries under every nonce; under ChaCha20-Poly1305 it gives away that nonce's one-time
 *     key. A PRF's tag only shows that the same message was tagged twice, which the replay window
 *     is there to catch anyway.
 *   - It is the fastest sound candidate at every size, and the fastest of all at the sizes most
 *     of our datagrams have: with a new key per call and even through libcrypto's EVP, about
 *     70 ns at 64 bytes, 155 at 300, 560 at 1400 and 2800 at 8000 (ours is faster, below).
 *     AES-128-GCM as GMAC takes 340, 370, 495 and 1300 (OpenSSL expands the AES key and the
 *     GHASH table again on every key change), so it is faster only from about 1.2 KB up;
 *     ChaCha20-Poly1305 390 to 1650; among the PRFs, BLAKE2b takes 310 to 7400, HMAC-SHA256 470
 *     to 6400 and allocates 5 times per call, CMAC 390 to 8600.
 *   - Its strength: the designers claim 128-bit key recovery and, for the 8-byte output, the PRF
 *     bound (a forgery succeeds with probability 2^-64 per try); the 16-byte output is their
 *     extension and less analysed, and we count on no more than what the 8-byte output gives.
 *     Each try costs the attacker a datagram checked against a key it never sees.
 * A nonce-misuse-resistant AEAD (AES-GCM-SIV, OpenSSL 3.2 and later; Debian 12 has 3.0) may beat
 * it on large datagrams one day: only dp_mac.c would change.
 *
 * Why our own code (dp_mac.c, written from the paper) and not libcrypto's
 * EVP_MAC "SIPHASH", which this module used first: with a key per call, EVP's dispatch, its
 * parameter handling and re-keying cost about 700 instructions per call around the same
 * arithmetic (callgrind, 2026-12-07, gcc -O3: a 16-byte tag of 20, 64 and 300 bytes takes 1100,
 * 1330 and 2640 instructions through EVP, 390, 550 and 1580 here; the 8-byte PRF of 64 bytes,
 * about the To tag's size, 1130 against 440). In time, with a new key per call: 39 ns against
 * 70 at 64 bytes, 120 against 155 at 300, and still a few per cent less at 1400 and 8000,
 * where both do the same arithmetic per byte (bench_mac, both in one run;
 * bench/results/2026-12-07-mac.md). It also needs no per-thread context, so no allocation at
 * start and no "libcrypto failed" path at any caller, and dataplane/ links no OpenSSL. The
 * outputs are the same bit for bit: the reference vectors (tests/unit/dataplane/test_dp_mac.c),
 * docs/lsp.md §4.8's example and, in bench_mac, libcrypto's own tags at every length to 1400.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DP_MAC_KEY_LEN 16
#define DP_MAC_TAG_LEN 16

/* One piece of a message: the message is the concatenation of the pieces, so a caller can skip
 * a field without copying. Borrowed for the call. */
struct dp_mac_piece {
	const void *p;
	size_t len;
};

/**
 * The tag of the message @p msg[0..n) under @p key and @p nonce.
 * @param key    borrowed; may differ on every call (keying is four words of state).
 * @param nonce  bound into the tag; a caller that checks replays makes it unique per key (a
 *               counter), but the tag's soundness does not depend on that (see the top).
 * @param msg    borrowed pieces, concatenated; @p n may be 0, and so may a piece's length.
 * @param tag    receives DP_MAC_TAG_LEN bytes.
 * Context: any thread; fast path (no state, no allocation, no lock; cannot fail).
 */
void dp_mac_tag(const uint8_t key[DP_MAC_KEY_LEN], uint64_t nonce, const struct dp_mac_piece *msg,
		unsigned n, uint8_t tag[DP_MAC_TAG_LEN]);

/**
 * Whether @p tag is the tag of the message under @p key and @p nonce (constant-time compare).
 * Arguments as dp_mac_tag(). Context: as dp_mac_tag().
 */
bool dp_mac_verify(const uint8_t key[DP_MAC_KEY_LEN], uint64_t nonce,
		   const struct dp_mac_piece *msg, unsigned n, const uint8_t tag[DP_MAC_TAG_LEN]);

/**
 * A keyed 64-bit PRF of the message (SipHash-2-4 with its standard output): what a value the
 * world sees must be derived with, so that seeing values reveals nothing of @p key (the SIP To
 * tag). Deterministic: the same key and message give the same value.
 * @return the value (SipHash's 8 output bytes read as little endian).
 * Context: as dp_mac_tag().
 */
uint64_t dp_mac_prf64(const uint8_t key[DP_MAC_KEY_LEN], const struct dp_mac_piece *msg,
		      unsigned n);
