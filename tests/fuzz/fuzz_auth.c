/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the AUTH TLV of datagrams between members (dataplane/dp_auth.h): what a
 * receiving worker does with any bytes from a member's address, and with any message a member
 * tagged.
 *
 * How it works: the first input byte picks the case, the rest is the datagram.
 *  - bit 0 clear: the bytes arrive as they are from the member's address. Whatever they are,
 *    dp_auth_open must not accept them (the fuzzer cannot forge a SipHash tag), must leave
 *    them untouched unless it accepted, and its verdict must be one of the known ones.
 *  - bit 0 set: the bytes are first made a whole LSP message (the header's body length fixed)
 *    and sealed under the member's key with a sequence number taken from the input; then they
 *    must open as exactly the message that was sealed, and a second open must be refused as a
 *    replay; a lane (top byte of the sequence number) no sender has must not open. Bit 1 flips one byte (chosen by the input) after sealing: then it must not open.
 * The same function runs in every build through tests/fuzz/replay.c over tests/fuzz/corpus_auth/.
 */
#include <string.h>
#include <sys/socket.h>

#include "common/lc_error.h"
#include "dataplane/dp_auth.h"
#include "dht/lsp.h"
#include "tests/fuzz/fuzz.h"

#define NOW 1800000000u

static struct dp_peers *peers;
static struct dp_peer_key key;
static struct dp_replay_slot replay[DP_REPLAY_SLOTS];
static uint8_t buf[DHT_LSP_MAX_MSG], orig[DHT_LSP_MAX_MSG];
static const struct dp_addr member = {.family = AF_INET, .port = 7400, .addr = {10, 0, 0, 1}};

static void setup(void)
{
	if (peers != NULL) {
		return;
	}
	key.epoch = 0x5eed;
	for (unsigned i = 0; i < DP_PEER_KEY_LEN; i++) {
		key.send[i] = key.recv[i] = (uint8_t)(i * 7 + 1);
	}
	peers = dp_peers_new(1);
	FUZZ_CHECK(peers != NULL && dp_peers_add(peers, &member, 1, &key) == LC_OK, "table");
}

static void as_received(const uint8_t *d, uint32_t n)
{
	uint32_t len = n;
	memcpy(buf, d, n);
	const struct dp_peer *from;
	enum dp_auth_verdict v = dp_auth_open(peers, replay, NOW, &member, buf, &len, &from);
	FUZZ_CHECK(v != DP_AUTH_OK, "an unforgeable tag was forged");
	FUZZ_CHECK(v <= DP_AUTH_FULL, "a known verdict");
	FUZZ_CHECK(len == n && memcmp(buf, d, n) == 0, "a refused datagram is left as it came");
}

static void sealed(uint8_t mode, const uint8_t *d, uint32_t n)
{
	if (n < DHT_LSP_HDR_LEN + 9 || n + DP_AUTH_LEN > DHT_LSP_MAX_MSG) {
		return;
	}
	uint64_t seq;
	memcpy(&seq, d, 8); /* any sequence number, lane included */
	uint32_t pos = (uint32_t)d[8];
	d += 9;
	n -= 9;
	memcpy(buf, d, n);
	buf[6] = (uint8_t)((n - DHT_LSP_HDR_LEN) >> 8);
	buf[7] = (uint8_t)(n - DHT_LSP_HDR_LEN);
	memcpy(orig, buf, n);
	uint32_t len = n;
	FUZZ_CHECK(dp_auth_seal(&key, seq, NOW, buf, &len, sizeof(buf)) == LC_OK, "seal");
	FUZZ_CHECK(len == n + DP_AUTH_LEN, "AUTH appended");
	memset(replay, 0, sizeof(replay)); /* a fresh receiver for each input */
	const struct dp_peer *from;
	if ((seq >> 56) >= DP_AUTH_LANES) {
		FUZZ_CHECK(dp_auth_open(peers, replay, NOW, &member, buf, &len, &from) !=
				   DP_AUTH_OK,
			   "a lane no sender has passed");
		return;
	}
	if (mode & 2) {
		buf[(pos * 131u) % len] ^= (uint8_t)(1u << (pos % 8));
		FUZZ_CHECK(dp_auth_open(peers, replay, NOW, &member, buf, &len, &from) !=
				   DP_AUTH_OK,
			   "a flipped bit passed");
		return;
	}
	uint8_t copy[DP_AUTH_LEN];
	memcpy(copy, buf + n, DP_AUTH_LEN);
	FUZZ_CHECK(dp_auth_open(peers, replay, NOW, &member, buf, &len, &from) == DP_AUTH_OK,
		   "a sealed message opens");
	FUZZ_CHECK(len == n && memcmp(buf, orig, n) == 0 && from != NULL && from->id == 1,
		   "opens as the message sealed, from its member");
	/* the same datagram again: its body length is the sealed one, its AUTH as sent */
	buf[6] = (uint8_t)((n + DP_AUTH_LEN - DHT_LSP_HDR_LEN) >> 8);
	buf[7] = (uint8_t)(n + DP_AUTH_LEN - DHT_LSP_HDR_LEN);
	memcpy(buf + n, copy, DP_AUTH_LEN);
	len = n + DP_AUTH_LEN;
	FUZZ_CHECK(dp_auth_open(peers, replay, NOW, &member, buf, &len, &from) == DP_AUTH_REPLAY,
		   "a replay is refused");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (size < 1 || size - 1 > DHT_LSP_MAX_MSG) {
		return 0;
	}
	if (data[0] & 1) {
		sealed(data[0], data + 1, (uint32_t)(size - 1));
	} else {
		as_received(data + 1, (uint32_t)(size - 1));
	}
	return 0;
}
