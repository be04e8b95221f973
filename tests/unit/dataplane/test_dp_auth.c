/* SPDX-License-Identifier: MIT */
/*
 * dp_auth and dp_peers: a sealed message opens at its peer as the very message that was built,
 * and every way of breaking that is refused with its own verdict: a flipped bit anywhere, the
 * wrong direction's key, an unknown epoch or address, a replay, a counter behind the window, a
 * send time out of bounds, no window left; a message with no room to grow is not sealed. The
 * AUTH TLV of docs/lsp.md §4.8's example is checked byte for byte (its tag was computed by an
 * independent SipHash-2-4 written from the paper), so the spec and the code cannot drift.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/lc_error.h"
#include "dataplane/dp_auth.h"
#include "dht/lsp.h"
#include "tests/tap.h"

#define NOW 1796652000u

static struct dp_replay_slot replay[DP_REPLAY_SLOTS];
static const struct dp_addr alice = {.family = AF_INET, .port = 7400, .addr = {127, 0, 0, 1}};
static const struct dp_addr bob = {.family = AF_INET, .port = 7401, .addr = {127, 0, 0, 1}};

/* alice's keys for her link with bob, and bob's for the same link (directions swapped) */
static struct dp_peer_key at_alice, at_bob;

/* A PING answer with a 5-byte body: small, whole, and easy to compare. */
static uint32_t build(uint8_t *buf, uint64_t txn)
{
	static const uint8_t hdr[24] = {0x4c, 0x53, 1, 0x01, 0x01, 8, 0, 6};
	memcpy(buf, hdr, sizeof(hdr));
	memcpy(buf + 8, &txn, 8);
	memset(buf + 16, 0x70, 8);
	memcpy(buf + 24, "\x80\x10\x00\x02\x00\xc8", 6); /* STATUS 200 */
	return 30;
}

/* build() sealed by @p k; 0 (which no open accepts) when sealing failed. */
static uint32_t sealed(uint8_t *m, uint64_t txn, const struct dp_peer_key *k, uint64_t seq,
		       uint32_t now)
{
	uint32_t len = build(m, txn);
	return dp_auth_seal(k, seq, now, m, &len, 128) == LC_OK ? len : 0;
}

/* The table bob's worker reads: alice, with the link's keys as bob holds them. */
static struct dp_peers *bob_table(void)
{
	struct dp_peers *t = dp_peers_new(4);
	if (t == NULL || dp_peers_add(t, &alice, 0xa11ce, &at_bob) != LC_OK) {
		return NULL;
	}
	return t;
}

static enum dp_auth_verdict open_at_bob(struct dp_peers *t, uint8_t *m, uint32_t *len, uint32_t now)
{
	const struct dp_peer *from;
	return dp_auth_open(t, replay, now, &alice, m, len, &from);
}

static void test_round_trip(struct dp_peers *t)
{
	uint8_t m[128], orig[128];
	uint32_t len = build(m, 1), olen = len;
	memcpy(orig, m, len);
	is_int(dp_auth_seal(&at_alice, 1, NOW, m, &len, sizeof(m)), LC_OK, "seal");
	is_int(len, olen + DP_AUTH_LEN, "the message grew by AUTH");
	const struct dp_peer *from = NULL;
	is_int(dp_auth_open(t, replay, NOW, &alice, m, &len, &from), DP_AUTH_OK,
	       "opens at its peer");
	ok(len == olen && memcmp(m, orig, len) == 0, "stripped: the message as it was built");
	ok(from != NULL && from->id == 0xa11ce, "names its sender");
	uint8_t plain[128];
	uint32_t plen = build(plain, 2);
	is_int(dp_auth_open(t, replay, NOW, &alice, plain, &plen, &from), DP_AUTH_NONE,
	       "a message without AUTH is a client's");
}

static void test_tamper(struct dp_peers *t)
{
	unsigned bad = 0, total = 0;
	for (uint32_t bit = 0; bit < (30 + DP_AUTH_LEN) * 8; bit += 3) {
		uint8_t m[128];
		uint32_t len = build(m, 100 + bit);
		if (dp_auth_seal(&at_alice, 1000 + bit, NOW, m, &len, sizeof(m)) != LC_OK) {
			continue;
		}
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		enum dp_auth_verdict v = open_at_bob(t, m, &len, NOW);
		total++;
		bad += v != DP_AUTH_OK;
	}
	is_int(bad, total, "a flipped bit anywhere (header, body, AUTH, tag) is refused");
	uint8_t m[128];
	uint32_t len = build(m, 7);
	struct dp_peer_key wrong = at_alice;
	memcpy(wrong.send, at_alice.recv, sizeof(wrong.send));
	ok(dp_auth_seal(&wrong, 5000, NOW, m, &len, sizeof(m)) == LC_OK &&
		   open_at_bob(t, m, &len, NOW) == DP_AUTH_BAD,
	   "the other direction's key does not verify");
	len = build(m, 8);
	struct dp_peer_key other = at_alice;
	other.epoch ^= 1;
	const struct dp_peer *from = NULL;
	ok(dp_auth_seal(&other, 5001, NOW, m, &len, sizeof(m)) == LC_OK &&
		   dp_auth_open(t, replay, NOW, &alice, m, &len, &from) == DP_AUTH_UNKNOWN &&
		   from != NULL,
	   "an unknown epoch from a member: unknown, and the member is named (to ask a link)");
	len = build(m, 9);
	ok(dp_auth_seal(&at_alice, 5002, NOW, m, &len, sizeof(m)) == LC_OK &&
		   dp_auth_open(t, replay, NOW, &bob, m, &len, &from) == DP_AUTH_UNKNOWN &&
		   from == NULL,
	   "the same tag from another address: unknown");
}

static void test_replay(struct dp_peers *t)
{
	uint8_t m[128], copy[128];
	uint32_t len = build(m, 10), clen;
	is_int(dp_auth_seal(&at_alice, 1u << 20, NOW, m, &len, sizeof(m)), LC_OK, "seal");
	memcpy(copy, m, len);
	clen = len;
	is_int(open_at_bob(t, m, &len, NOW), DP_AUTH_OK, "first copy accepted");
	is_int(open_at_bob(t, copy, &clen, NOW), DP_AUTH_REPLAY, "its replay is refused");
	/* out of order inside the window: accepted once */
	len = sealed(m, 11, &at_alice, (1u << 20) - 5, NOW);
	memcpy(copy, m, len);
	clen = len;
	is_int(open_at_bob(t, m, &len, NOW), DP_AUTH_OK, "an older counter inside the window");
	is_int(open_at_bob(t, copy, &clen, NOW), DP_AUTH_REPLAY, "... only once");
	len = sealed(m, 12, &at_alice, (1u << 20) - DP_REPLAY_WINDOW, NOW);
	is_int(open_at_bob(t, m, &len, NOW), DP_AUTH_REPLAY, "a counter behind the window");
	/* another lane (worker) of alice has its own window */
	len = sealed(m, 13, &at_alice, 1ull << 56 | 3, NOW);
	is_int(open_at_bob(t, m, &len, NOW), DP_AUTH_OK, "another lane counts on its own");
	/* a jump far ahead moves the window, and what it left behind stays refused */
	len = sealed(m, 14, &at_alice, 1u << 30, NOW);
	is_int(open_at_bob(t, m, &len, NOW), DP_AUTH_OK, "a jump ahead");
	len = sealed(m, 15, &at_alice, (1u << 20) + 1, NOW);
	is_int(open_at_bob(t, m, &len, NOW), DP_AUTH_REPLAY, "what the jump left behind");
	len = sealed(m, 16, &at_alice, (1u << 30) + 1, NOW - DP_AUTH_MAX_AGE_S - 1);
	is_int(open_at_bob(t, m, &len, NOW), DP_AUTH_REPLAY, "a send time too old");
	len = sealed(m, 17, &at_alice, (1u << 30) + 2, NOW + DP_AUTH_MAX_AGE_S + 1);
	is_int(open_at_bob(t, m, &len, NOW), DP_AUTH_REPLAY, "a send time too far ahead");
}

/* Fill every slot a new (epoch, lane) may use: it is refused, not let through unchecked. */
static void test_full(void)
{
	memset(replay, 0, sizeof(replay));
	struct dp_peers *t = dp_peers_new(4);
	struct dp_peer_key k[DP_PEER_KEYS];
	for (unsigned i = 0; i < DP_PEER_KEYS; i++) {
		k[i] = at_bob;
		k[i].epoch = 100 + i;
		if (dp_peers_add(t, &alice, 0xa11ce, &k[i]) != LC_OK) {
			printf("Bail out! dp_peers_add\n");
		}
	}
	/* many lanes of one epoch spread over the table: fill it wholesale instead */
	for (unsigned i = 0; i < DP_REPLAY_SLOTS; i++) {
		replay[i].last_s = NOW;
		replay[i].epoch = 0xffffffff;
	}
	struct dp_peer_key send = at_alice;
	send.epoch = 100;
	uint8_t m[128];
	uint32_t len = sealed(m, 20, &send, 1, NOW);
	is_int(open_at_bob(t, m, &len, NOW), DP_AUTH_FULL, "no free window: refused");
	for (unsigned i = 0; i < DP_REPLAY_SLOTS; i++) {
		replay[i].last_s = NOW - DP_REPLAY_IDLE_S - 1;
	}
	len = sealed(m, 21, &send, 2, NOW);
	is_int(open_at_bob(t, m, &len, NOW), DP_AUTH_OK, "windows idle that long are reused");
	dp_peers_free(t);
}

static void test_seal_limits(void)
{
	static uint8_t big[DHT_LSP_MAX_MSG];
	uint32_t len = build(big, 30);
	uint32_t body = DHT_LSP_MAX_MSG - DHT_LSP_HDR_LEN - 10;
	big[6] = (uint8_t)(body >> 8);
	big[7] = (uint8_t)body;
	len = DHT_LSP_HDR_LEN + body;
	is_int(dp_auth_seal(&at_alice, 1, NOW, big, &len, sizeof(big)), LC_ETOOLONG,
	       "a message with no room for AUTH is not sealed");
	uint8_t m[128];
	len = build(m, 31) - 1;
	is_int(dp_auth_seal(&at_alice, 1, NOW, m, &len, sizeof(m)), LC_EMALFORMED,
	       "a length that is not the header's: not sealed");
}

static void test_peers(void)
{
	struct dp_peers *t = dp_peers_new(2);
	struct dp_addr carol = alice;
	carol.port = 9;
	ok(t != NULL && dp_peers_add(t, &alice, 1, &at_bob) == LC_OK &&
		   dp_peers_add(t, &bob, 2, &at_bob) == LC_OK,
	   "two peers");
	is_int(dp_peers_add(t, &carol, 3, &at_bob), LC_EFULL, "a third does not fit");
	is_int(dp_peers_add(t, &alice, 9, &at_bob), LC_EINVAL,
	       "another id at a known address is refused");
	ok(dp_peers_find(t, &carol) == NULL && dp_peers_find(t, &bob)->id == 2, "found by address");
	ok(dp_peers_find(NULL, &bob) == NULL, "no table: no peer");
	dp_peers_free(t);
}

/* docs/lsp.md §4.8: the AUTH TLV of its example, byte for byte. */
static void test_vector(void)
{
	struct dp_peer_key k = {.epoch = 0x01020304};
	for (unsigned i = 0; i < DP_PEER_KEY_LEN; i++) {
		k.send[i] = (uint8_t)i;
	}
	uint8_t m[128];
	uint32_t len = build(m, 0);
	memset(m + 8, 0x11, 8); /* a txn id of its own bytes, whatever the host's order */
	is_int(dp_auth_seal(&k, 5, 1800000000u, m, &len, sizeof(m)), LC_OK, "seal");
	char hex[2 * DP_AUTH_LEN + 1];
	for (unsigned i = 0; i < DP_AUTH_LEN; i++) {
		snprintf(hex + 2 * i, 3, "%02x", m[len - DP_AUTH_LEN + i]);
	}
	is_str(hex,
	       "81400020010203046b49d2000000000000000005"
	       "e7b6b35178da062c38cdb38eee3f747b",
	       "the example of docs/lsp.md §4.8");
}

int main(void)
{
	at_alice.epoch = at_bob.epoch = 0xe90c;
	for (unsigned i = 0; i < DP_PEER_KEY_LEN; i++) {
		at_alice.send[i] = at_bob.recv[i] = (uint8_t)(0x10 + i);
		at_alice.recv[i] = at_bob.send[i] = (uint8_t)(0x80 + i);
	}
	struct dp_peers *t = bob_table();
	if (t == NULL) {
		printf("Bail out! out of memory\n");
		return 1;
	}
	test_round_trip(t);
	test_tamper(t);
	test_replay(t);
	dp_peers_free(t);
	test_full();
	test_seal_limits();
	test_peers();
	test_vector();
	done_testing();
	return exit_status();
}
