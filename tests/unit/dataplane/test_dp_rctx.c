/* SPDX-License-Identifier: MIT */
/*
 * Reply contexts: a sealed context opens for the answer to its own request and for nothing else.
 * Each test changes one thing an attacker controls (the answer's transaction id, type or KEY,
 * any byte of the context, its length, the time it is opened at, the key it is checked with)
 * and expects the context to stay shut.
 */
#include <string.h>
#include <sys/socket.h>

#include "common/lc_error.h"
#include "dataplane/dp_rctx.h"
#include "tests/tap.h"

#define NOW 1800000000u

static uint8_t key[DP_MAC_KEY_LEN];
static struct dp_rctx ctx;
static const struct dp_addr client = {.family = AF_INET, .port = 5062, .addr = {192, 0, 2, 9}};
static const char aor[] = "sip:alice@example.com";
static const char body[] = "REGISTER sip:example.com SIP/2.0\r\nCall-ID: x\r\n\r\n";

static struct dp_rctx_bind bind_of(uint64_t txn, uint8_t type, const char *k, size_t len)
{
	return (struct dp_rctx_bind){.txn = txn, .type = type, .key = {k, (uint32_t)len}};
}

static const struct dp_rctx_bind *req(void)
{
	static struct dp_rctx_bind b;
	b = bind_of(0x1234, DHT_LSP_PUBLISH, aor, strlen(aor));
	return &b;
}

static bool open_with(const struct dp_rctx_bind *a, uint32_t now, size_t len)
{
	enum dp_rctx_kind kind;
	struct dp_addr who;
	struct dht_bytes rest;
	struct dht_bytes c = {(const char *)ctx.b, (uint32_t)len};
	return dp_rctx_open(key, now, c, a, &kind, &who, &rest);
}

static void make(void)
{
	dp_rctx_begin(&ctx, DP_RCTX_REGISTER, NOW, &client);
	dp_rctx_put(&ctx, body, strlen(body));
	if (dp_rctx_seal(&ctx, key, req()) != LC_OK) {
		ctx.len = 0;
	}
}

static void test_round_trip(void)
{
	make();
	is_int((long long)ctx.len, (long long)(DP_RCTX_HDR + strlen(body)), "header + body");
	enum dp_rctx_kind kind = 0;
	struct dp_addr who;
	struct dht_bytes rest = {0};
	struct dht_bytes c = {(const char *)ctx.b, (uint32_t)ctx.len};
	ok(dp_rctx_open(key, NOW + 3, c, req(), &kind, &who, &rest),
	   "opens for its own request's answer");
	ok(kind == DP_RCTX_REGISTER, "kind");
	ok(who.family == client.family && who.port == client.port &&
		   memcmp(who.addr, client.addr, 16) == 0,
	   "client address");
	is_mem(rest.p, rest.len, body, "body");
	ok(open_with(req(), NOW + DP_RCTX_MAX_AGE_S, ctx.len), "opens at the maximum age");
}

static void test_binding(void)
{
	make();
	ok(!open_with(&(struct dp_rctx_bind){.txn = 0x1235,
					     .type = DHT_LSP_PUBLISH,
					     .key = {aor, (uint32_t)strlen(aor)}},
		      NOW, ctx.len),
	   "another transaction id: shut");
	ok(!open_with(&(struct dp_rctx_bind){.txn = 0x1234,
					     .type = DHT_LSP_LOOKUP,
					     .key = {aor, (uint32_t)strlen(aor)}},
		      NOW, ctx.len),
	   "another type: shut");
	static const char bob[] = "sip:bobby@example.com"; /* same length */
	ok(!open_with(&(struct dp_rctx_bind){.txn = 0x1234,
					     .type = DHT_LSP_PUBLISH,
					     .key = {bob, (uint32_t)strlen(bob)}},
		      NOW, ctx.len),
	   "another KEY of the same length: shut");
	ok(!open_with(&(struct dp_rctx_bind){.txn = 0x1234, .type = DHT_LSP_PUBLISH}, NOW, ctx.len),
	   "an answer without KEY: shut");

	/* moving bytes between the context's end and the KEY keeps their concatenation: still shut */
	static uint8_t longer[sizeof(ctx.b)];
	memcpy(longer, ctx.b, ctx.len);
	memcpy(longer + ctx.len, aor, 4);
	enum dp_rctx_kind kind;
	struct dp_addr who;
	struct dht_bytes rest;
	struct dp_rctx_bind tail = {.txn = 0x1234,
				    .type = DHT_LSP_PUBLISH,
				    .key = {aor + 4, (uint32_t)strlen(aor) - 4}};
	ok(!dp_rctx_open(key, NOW, (struct dht_bytes){(const char *)longer, ctx.len + 4}, &tail,
			 &kind, &who, &rest),
	   "KEY bytes moved into the context: shut");
}

static void test_tamper(void)
{
	make();
	int opened = 0;
	for (size_t i = 0; i < ctx.len; i++) {
		ctx.b[i] ^= 0x40;
		opened += open_with(req(), NOW, ctx.len);
		ctx.b[i] ^= 0x40;
	}
	is_int(opened, 0, "no context with one byte changed opens (%zu tries)", ctx.len);
	ok(!open_with(req(), NOW, ctx.len - 1), "a truncated context: shut");
	ok(!open_with(req(), NOW, DP_RCTX_HDR - 1), "shorter than the header: shut");
	ok(open_with(req(), NOW, ctx.len), "the original still opens");
}

static void test_time_and_key(void)
{
	make();
	ok(!open_with(req(), NOW + DP_RCTX_MAX_AGE_S + 1, ctx.len), "too old: shut");
	ok(!open_with(req(), NOW - 1, ctx.len), "made in the future: shut");
	key[0] ^= 1;
	ok(!open_with(req(), NOW, ctx.len), "checked with another node's key: shut");
	key[0] ^= 1;
}

static void test_limits(void)
{
	dp_rctx_begin(&ctx, DP_RCTX_LSP, NOW, &client);
	static const uint8_t big[DHT_LSP_MAX_REPLY_CTX];
	dp_rctx_put(&ctx, big, sizeof(big) - DP_RCTX_HDR);
	ok(!ctx.overflow && ctx.len == DHT_LSP_MAX_REPLY_CTX, "fills to the REPLY_CTX limit");
	dp_rctx_put(&ctx, big, 1);
	ok(ctx.overflow, "one byte more overflows");
	is_int(dp_rctx_seal(&ctx, key, req()), LC_ENOSPACE, "an overflowed context: no seal");

	static char long_key[70000];
	dp_rctx_begin(&ctx, DP_RCTX_LSP, NOW, &client);
	struct dp_rctx_bind b = bind_of(1, DHT_LSP_LOOKUP, long_key, sizeof(long_key));
	is_int(dp_rctx_seal(&ctx, key, &b), LC_EINVAL, "a KEY past 65535 bytes: no seal");
}

int main(void)
{
	for (unsigned i = 0; i < sizeof(key); i++) {
		key[i] = (uint8_t)(0x30 + i);
	}
	test_round_trip();
	test_binding();
	test_tamper();
	test_time_and_key();
	test_limits();
	done_testing();
	return exit_status();
}
