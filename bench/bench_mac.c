/* SPDX-License-Identifier: MIT */
/*
 * bench_mac: which MAC the dataplane tags datagrams with (dataplane/dp_mac.h), what our own
 * SipHash-2-4 saves over libcrypto's, and what sealing reply contexts and deriving To tags cost
 * before and after issue 13.
 *
 * Part 1, candidates: each computes a 16-byte tag of a message of 64, 300, 1400 and 8000 bytes
 * with a different key on every call (256 keys in turn, as a worker tagging datagrams for many
 * peers would) and a new 64-bit nonce (a counter). Every libcrypto candidate goes through OpenSSL
 * 3's EVP interface with its context made once and only re-keyed per call; dp_mac_tag (our own
 * SipHash, no context) is timed against libcrypto's SipHash in the same run, and its tags are
 * checked equal to libcrypto's at every size. The column "alloc/call" counts heap allocations per
 * call (bench/alloc_count.c), which must be 0.
 * For reference, two rows are not candidates: AES-128-GCM with a fixed key (what GMAC costs when
 * the key does not change) and XXH3-64 with the key as seed (the old reply-context seal; not a
 * MAC at all).
 *
 * Part 2, per forwarded request: a reply context sealed by the facing node and opened when the
 * answer comes back, for a REGISTER's SIP skeleton and for an LSP client's request; "before" is
 * the XXH3 seal this change removed (reproduced below as it was: two dht_key_of calls over the
 * header and the rest, for the seal and again to check it), "after" is dp_rctx_seal +
 * dp_rctx_open. And per SIP response: the To tag, before (the invertible mix) and after
 * (dp_sip_to_tag, SipHash-2-4).
 *
 * Times are the best of 9 interleaved passes (see part1), in ns of the thread's CPU time per
 * call; fixed seed. Run pinned to one CPU:
 *   taskset -c 1 ./build-bench/bench/bench_mac
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "bench/alloc_count.h"
#include "bench/bench_prng.h"
#include "bench/bench_sysinfo.h"
#include "common/lc_error.h"
#include "dataplane/dp_rctx.h"
#include "dataplane/dp_sip.h"
#include "dht/dht_key.h"

#define SEED 0x3ac
#define NKEYS 256
#define PASSES 9
#define NSIZES 4
#define MAXMSG 8000

static uint8_t keys[NKEYS][32]; /* ChaCha20 takes 32 bytes; the others the first 16 */
static uint8_t msg[MAXMSG];
static volatile uint8_t sink;

/* This thread's CPU time: a pass is not charged for the time another process held the CPU (the
 * machine these results come from is shared; cache and SMT effects still show). */
static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* ---- part 1: the candidates ------------------------------------------------------------------ */

/* One candidate's state: an EVP_MAC context or an EVP_CIPHER context. Owner: main. */
struct cand {
	const char *name;
	const char *note;
	EVP_MAC_CTX *mac;
	EVP_CIPHER_CTX *cipher;
	size_t mac_out; /* bytes EVP_MAC_final writes */
	bool fixed_key; /* reference row: keyed once */
	bool ours;	/* dp_mac_tag: needs no libcrypto context */
	/* tag msg[0..len) under key k and nonce n; false on a libcrypto failure */
	bool (*tag)(struct cand *c, const uint8_t *k, uint64_t n, size_t len, uint8_t out[16]);
};

static bool tag_evp_mac(struct cand *c, const uint8_t *k, uint64_t n, size_t len, uint8_t out[16])
{
	uint8_t full[64];
	size_t got = 0;
	bool okay = EVP_MAC_init(c->mac, k, 16, NULL) == 1 &&
		    EVP_MAC_update(c->mac, (const uint8_t *)&n, 8) == 1 &&
		    EVP_MAC_update(c->mac, msg, len) == 1 &&
		    EVP_MAC_final(c->mac, full, &got, sizeof(full)) == 1;
	memcpy(out, full, 16); /* HMAC-SHA256 truncated to 16 bytes; the others are 16 already */
	return okay;
}

static bool tag_gmac_mac(struct cand *c, const uint8_t *k, uint64_t n, size_t len, uint8_t out[16])
{
	uint8_t iv[12] = {0};
	memcpy(iv + 4, &n, 8);
	OSSL_PARAM p[] = {OSSL_PARAM_octet_string(OSSL_MAC_PARAM_IV, iv, sizeof(iv)),
			  OSSL_PARAM_END};
	size_t got = 0;
	return EVP_MAC_init(c->mac, k, 16, p) == 1 && EVP_MAC_update(c->mac, msg, len) == 1 &&
	       EVP_MAC_final(c->mac, out, &got, 16) == 1;
}

/* An AEAD with no plaintext: the message is all AAD, the tag is the MAC (GMAC, Poly1305). */
static bool tag_aead(struct cand *c, const uint8_t *k, uint64_t n, size_t len, uint8_t out[16])
{
	uint8_t iv[12] = {0};
	memcpy(iv + 4, &n, 8);
	int outl = 0;
	uint8_t none[16];
	return EVP_EncryptInit_ex2(c->cipher, NULL, c->fixed_key ? NULL : k, iv, NULL) == 1 &&
	       EVP_EncryptUpdate(c->cipher, NULL, &outl, msg, (int)len) == 1 &&
	       EVP_EncryptFinal_ex(c->cipher, none, &outl) == 1 &&
	       EVP_CIPHER_CTX_ctrl(c->cipher, EVP_CTRL_AEAD_GET_TAG, 16, out) == 1;
}

static bool tag_xxh3(struct cand *c, const uint8_t *k, uint64_t n, size_t len, uint8_t out[16])
{
	(void)c;
	uint64_t seed;
	memcpy(&seed, k, 8);
	uint64_t h = dht_hash64(msg, len, seed ^ n);
	memcpy(out, &h, 8);
	memset(out + 8, 0, 8);
	return true;
}

static bool tag_dp_mac(struct cand *c, const uint8_t *k, uint64_t n, size_t len, uint8_t out[16])
{
	(void)c;
	struct dp_mac_piece p = {msg, len};
	dp_mac_tag(k, n, &p, 1, out);
	return true;
}

static EVP_MAC_CTX *mac_new(const char *alg, const OSSL_PARAM *params)
{
	EVP_MAC *m = EVP_MAC_fetch(NULL, alg, NULL);
	EVP_MAC_CTX *c = m != NULL ? EVP_MAC_CTX_new(m) : NULL;
	EVP_MAC_free(m);
	if (c != NULL && params != NULL && EVP_MAC_CTX_set_params(c, params) != 1) {
		EVP_MAC_CTX_free(c);
		c = NULL;
	}
	return c;
}

static EVP_CIPHER_CTX *cipher_new(const char *alg, const uint8_t *key)
{
	EVP_CIPHER *ci = EVP_CIPHER_fetch(NULL, alg, NULL);
	EVP_CIPHER_CTX *c = ci != NULL ? EVP_CIPHER_CTX_new() : NULL;
	if (c != NULL && EVP_EncryptInit_ex2(c, ci, key, NULL, NULL) != 1) {
		EVP_CIPHER_CTX_free(c);
		c = NULL;
	}
	EVP_CIPHER_free(ci);
	return c;
}

/* The candidates, in @p c; their count. One libcrypto lacks is reported missing (usable()). */
static unsigned make_candidates(struct cand *c)
{
	size_t s16 = 16;
	unsigned cr = 2, dr = 4;
	OSSL_PARAM sip[] = {OSSL_PARAM_size_t(OSSL_MAC_PARAM_SIZE, &s16),
			    OSSL_PARAM_uint(OSSL_MAC_PARAM_C_ROUNDS, &cr),
			    OSSL_PARAM_uint(OSSL_MAC_PARAM_D_ROUNDS, &dr), OSSL_PARAM_END};
	OSSL_PARAM size16[] = {OSSL_PARAM_size_t(OSSL_MAC_PARAM_SIZE, &s16), OSSL_PARAM_END};
	/* OSSL_PARAM wants char *, and -Wwrite-strings makes literals const */
	static char sha[] = "SHA256", aes_cbc[] = "AES-128-CBC", aes_gcm[] = "AES-128-GCM";
	OSSL_PARAM sha256[] = {OSSL_PARAM_utf8_string(OSSL_MAC_PARAM_DIGEST, sha, 0),
			       OSSL_PARAM_END};
	OSSL_PARAM cbc[] = {OSSL_PARAM_utf8_string(OSSL_MAC_PARAM_CIPHER, aes_cbc, 0),
			    OSSL_PARAM_END};
	OSSL_PARAM gcm[] = {OSSL_PARAM_utf8_string(OSSL_MAC_PARAM_CIPHER, aes_gcm, 0),
			    OSSL_PARAM_END};
	const char *prf = "PRF: sound whatever the nonce";
	const char *nb = "nonce-based: a repeated (key, nonce) breaks it";
	unsigned n = 0;
	c[n++] = (struct cand){"SipHash-2-4-128 (EVP_MAC SIPHASH)", prf,
			       .mac = mac_new("SIPHASH", sip), .tag = tag_evp_mac};
	c[n++] = (struct cand){"  ours: dp_mac_tag (C, no context)", prf, .ours = true,
			       .tag = tag_dp_mac};
	c[n++] = (struct cand){"AES-128-GCM as GMAC (EVP_CIPHER)", nb,
			       .cipher = cipher_new("AES-128-GCM", NULL), .tag = tag_aead};
	c[n++] = (struct cand){"AES-128-GMAC (EVP_MAC GMAC)", nb, .mac = mac_new("GMAC", gcm),
			       .tag = tag_gmac_mac};
	c[n++] = (struct cand){"ChaCha20-Poly1305, AAD only", nb,
			       .cipher = cipher_new("ChaCha20-Poly1305", NULL), .tag = tag_aead};
	c[n++] = (struct cand){"HMAC-SHA256/128", prf, .mac = mac_new("HMAC", sha256),
			       .tag = tag_evp_mac};
	c[n++] =
		(struct cand){"AES-128-CMAC", prf, .mac = mac_new("CMAC", cbc), .tag = tag_evp_mac};
	c[n++] = (struct cand){"BLAKE2s-MAC-128", prf, .mac = mac_new("BLAKE2SMAC", size16),
			       .tag = tag_evp_mac};
	c[n++] = (struct cand){"BLAKE2b-MAC-128", prf, .mac = mac_new("BLAKE2BMAC", size16),
			       .tag = tag_evp_mac};
	c[n++] = (struct cand){"KMAC128/128", prf, .mac = mac_new("KMAC-128", size16),
			       .tag = tag_evp_mac};
	c[n++] = (struct cand){"ref: AES-128-GCM, key set once", "(not re-keyed: not comparable)",
			       .cipher = cipher_new("AES-128-GCM", keys[0]), .fixed_key = true,
			       .tag = tag_aead};
	c[n++] = (struct cand){"ref: XXH3-64 seeded (old seal)", "not a MAC", .tag = tag_xxh3};
	return n;
}

static bool usable(const struct cand *c)
{
	return c->mac != NULL || c->cipher != NULL || c->ours || c->tag == tag_xxh3;
}

/* One pass: ns per call of @p c at @p len over @p iters calls (-1 on a libcrypto failure);
 * adds the heap allocations it made to *allocs. */
static double time_pass(struct cand *c, size_t len, unsigned iters, uint64_t *allocs)
{
	uint8_t out[16];
	static uint64_t nonce;
	struct bench_alloc_stats a0 = bench_alloc_snapshot();
	double t0 = now_ns();
	for (unsigned i = 0; i < iters; i++) {
		if (!c->tag(c, keys[i % NKEYS], ++nonce, len, out)) {
			return -1;
		}
		sink ^= out[0];
	}
	double t = (now_ns() - t0) / iters;
	*allocs += bench_alloc_snapshot().allocs - a0.allocs;
	return t;
}

static void print_row(const struct cand *c, const double *best, uint64_t allocs, uint64_t calls)
{
	printf("%-36s", c->name);
	for (unsigned s = 0; s < NSIZES; s++) {
		if (best[s] < 0) {
			printf(" %8s", "failed");
		} else {
			printf(" %8.1f", best[s]);
		}
	}
	if (bench_alloc_counting()) {
		printf("  %-10.2f", (double)allocs / (double)calls);
	} else {
		printf("  %-10s", "n/a");
	}
	printf(" %s\n", c->note);
}

/* Passes are interleaved (each pass times every candidate at every size in turn) and the best
 * pass is kept: on a shared machine a burst of another process's work then slows one pass of
 * every candidate alike rather than all passes of one, and the best pass is the least disturbed
 * estimate of what the code itself costs. */
/* Whether dp_mac_tag (candidate @p ours) gives libcrypto's SipHash tag (@p evp) at every length
 * up to 1400 and several keys and nonces: a timing of the wrong function would mean nothing. */
static bool same_as_evp(struct cand *evp, struct cand *ours)
{
	for (size_t len = 0; len <= 1400; len++) {
		uint8_t a[16], b[16];
		uint64_t nonce = 0x0123456789abcdefull * len;
		if (!evp->tag(evp, keys[len % NKEYS], nonce, len, a) ||
		    !ours->tag(ours, keys[len % NKEYS], nonce, len, b) || memcmp(a, b, 16) != 0) {
			return false;
		}
	}
	return true;
}

static void part1(void)
{
	static const size_t sizes[NSIZES] = {64, 300, 1400, 8000};
	static const unsigned iters[NSIZES] = {40000, 40000, 20000, 5000};
	struct cand c[16];
	static double best[16][NSIZES];
	static uint64_t allocs[16], calls[16];
	unsigned n = make_candidates(c);
	for (unsigned i = 0; i < n; i++) {
		for (unsigned s = 0; s < NSIZES; s++) {
			best[i][s] = 1e30;
		}
	}
	for (unsigned p = 0; p < PASSES; p++) {
		for (unsigned i = 0; i < n; i++) {
			for (unsigned s = 0; s < NSIZES && usable(&c[i]); s++) {
				double t = time_pass(&c[i], sizes[s], iters[s], &allocs[i]);
				calls[i] += iters[s];
				best[i][s] = t < 0 ? -1 : LC_MIN(best[i][s], t);
			}
		}
	}
	printf("\n1. 16-byte tag of a message, a new key every call (ns per call, best of %d "
	       "interleaved passes)\n",
	       PASSES);
	if (usable(&c[0])) {
		printf("dp_mac_tag equals EVP_MAC SIPHASH at every length 0..1400: %s\n",
		       same_as_evp(&c[0], &c[1]) ? "yes" : "NO (the timings below are void)");
	}
	printf("%-36s %8s %8s %8s %8s  %-10s %s\n", "candidate", "64 B", "300 B", "1400 B",
	       "8000 B", "alloc/call", "soundness under our nonces");
	for (unsigned i = 0; i < n; i++) {
		if (!usable(&c[i])) {
			printf("%-36s not offered by this libcrypto\n", c[i].name);
			continue;
		}
		print_row(&c[i], best[i], allocs[i], calls[i]);
		EVP_MAC_CTX_free(c[i].mac);
		EVP_CIPHER_CTX_free(c[i].cipher);
	}
}

/* ---- part 2: per forwarded request, per response --------------------------------------------- */

static const char skeleton[] =
	"REGISTER sip:example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-1---f2a1c6b1a0e0d3c4;rport\r\n"
	"From: <sip:+15551234567@example.com>;tag=7c1a9d2f\r\n"
	"To: <sip:+15551234567@example.com>\r\n"
	"Call-ID: 8f0d2c1e9a7b6c5d4e3f2a1b0c9d8e7f@192.0.2.10\r\n"
	"CSeq: 42 REGISTER\r\n"
	"\r\n";
static const char aor[] = "sip:+15551234567@example.com";

/* The seal this change removed (dataplane/dp_fwd.c at 5dba419): 36-byte header, seal at 8..15,
 * XXH3 of bytes 1..7 xor XXH3 of bytes 16..end, keyed with the 64-bit tag key as seed. */
static uint64_t old_seal_of(const uint8_t *b, size_t len, uint64_t key)
{
	return (uint64_t)dht_key_of(b + 1, 7, key) ^ (uint64_t)dht_key_of(b + 16, len - 16, key);
}

static bool old_round(uint8_t *b, size_t len, uint64_t key, uint32_t now)
{
	memcpy(b + 4, &now, 4);
	uint64_t s = old_seal_of(b, len, key), got;
	memcpy(b + 8, &s, 8);
	memcpy(&got, b + 8, 8);
	uint32_t created;
	memcpy(&created, b + 4, 4);
	return got == old_seal_of(b, len, key) && now - created <= 64;
}

/* Build a context of @p kind with @p body and seal it for @p to, as dp_fwd does. */
static bool new_seal(struct dp_rctx *c, const uint8_t *key, uint32_t now, const void *body,
		     size_t len, const struct dp_rctx_bind *to)
{
	static const struct dp_addr ua = {.family = AF_INET, .port = 5060, .addr = {192, 0, 2, 10}};
	dp_rctx_begin(c, DP_RCTX_REGISTER, now, &ua);
	dp_rctx_put(c, body, len);
	return dp_rctx_seal(c, key, to) == LC_OK;
}

/* ns per forwarded request (seal + open), best of PASSES interleaved passes (before, after);
 * @p body of @p len bytes. */
static void time_ctx(const char *what, const void *body, size_t len)
{
	enum { ITERS = 50000 };
	static struct dp_rctx c;
	static uint8_t old[DHT_LSP_MAX_REPLY_CTX];
	double t_old[PASSES], t_new[PASSES];
	uint64_t okays = 0;
	struct bench_alloc_stats a0 = bench_alloc_snapshot();
	for (unsigned p = 0; p < PASSES; p++) {
		memset(old, 0, 36);
		memcpy(old + 36, body, len);
		double t0 = now_ns();
		uint64_t k; /* one node's key, as in the new rows */
		memcpy(&k, keys[0], 8);
		for (unsigned i = 0; i < ITERS; i++) {
			okays += old_round(old, 36 + len, k, 1800000000u + i);
		}
		t_old[p] = (now_ns() - t0) / ITERS;
		t0 = now_ns();
		for (unsigned i = 0; i < ITERS; i++) {
			struct dp_rctx_bind to = {.txn = 0x5eed0000u + i,
						  .type = DHT_LSP_PUBLISH,
						  .key = {aor, (uint32_t)strlen(aor)}};
			enum dp_rctx_kind kind;
			struct dp_addr who;
			struct dht_bytes rest;
			okays +=
				new_seal(&c, keys[0], 1800000000u + i, body, len, &to) &&
				dp_rctx_open(keys[0], 1800000000u + i,
					     (struct dht_bytes){(const char *)c.b, (uint32_t)c.len},
					     &to, &kind, &who, &rest);
		}
		t_new[p] = (now_ns() - t0) / ITERS;
	}
	struct bench_alloc_stats a1 = bench_alloc_snapshot();
	qsort(t_old, PASSES, sizeof(double), cmp_double);
	qsort(t_new, PASSES, sizeof(double), cmp_double);
	printf("%-34s %6zu %6zu %10.1f %10.1f %10.2f%s\n", what, 36 + len, DP_RCTX_HDR + len,
	       t_old[0], t_new[0], (double)(a1.allocs - a0.allocs) / (2.0 * ITERS * PASSES),
	       okays == 2ull * ITERS * PASSES ? "" : "  (SOME FAILED)");
}

/* The To tag this change removed (sipparse/sip_resp.c at 5dba419), for its cost only. */
static uint64_t old_mix(uint64_t h, struct sip_str s)
{
	for (uint32_t i = 0; i < s.len; i++) {
		h = (h ^ (uint8_t)s.p[i]) * 0x100000001b3ull;
	}
	h ^= h >> 32;
	return h * 0x9e3779b97f4a7c15ull;
}

static uint64_t old_tag(const struct sip_msg *req, uint64_t key)
{
	uint64_t h = key ^ 0xcbf29ce484222325ull;
	h = old_mix(h, req->call_id);
	h = old_mix(h, req->from.tag);
	h = old_mix(h, req->nvia ? req->via[0].branch : SIP_STR_NULL);
	h ^= req->cseq;
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 29);
}

static void time_tags(void)
{
	enum { ITERS = 100000 };
	static struct sip_msg req;
	if (sip_parse(&req, skeleton, strlen(skeleton)) != LC_OK) {
		printf("To tag: the skeleton does not parse\n");
		return;
	}
	double t_old[PASSES], t_new[PASSES];
	char tag[SIP_RESP_TAG_LEN];
	for (unsigned p = 0; p < PASSES; p++) {
		double t0 = now_ns();
		for (unsigned i = 0; i < ITERS; i++) {
			req.cseq = i;
			sip_resp_tag_text(old_tag(&req, 0x1234 + p), tag);
			sink ^= (uint8_t)tag[0];
		}
		t_old[p] = (now_ns() - t0) / ITERS;
		t0 = now_ns();
		for (unsigned i = 0; i < ITERS; i++) {
			req.cseq = i;
			dp_sip_to_tag(keys[1], &req, tag);
			sink ^= (uint8_t)tag[0];
		}
		t_new[p] = (now_ns() - t0) / ITERS;
	}
	qsort(t_old, PASSES, sizeof(double), cmp_double);
	qsort(t_new, PASSES, sizeof(double), cmp_double);
	printf("%-34s %6s %6s %10.1f %10.1f\n", "To tag of a REGISTER's response", "-", "-",
	       t_old[0], t_new[0]);
}

static void part2(void)
{
	printf("\n2. Per forwarded request: seal at the facing node + open on the answer; per\n"
	       "   response: the To tag (ns, best of %d). Before: XXH3 / the mix; after: dp_rctx /\n"
	       "   dp_sip_to_tag\n",
	       PASSES);
	printf("%-34s %6s %6s %10s %10s %10s\n", "", "ctx B", "ctx B", "before", "after",
	       "alloc/op");
	printf("%-34s %6s %6s\n", "", "before", "after");
	time_ctx("REGISTER forwarded (SIP skeleton)", skeleton, strlen(skeleton));
	uint8_t lsp_body[10 + 16] = {0}; /* client txn, hop limit, had ctx, its 16-byte context */
	lsp_body[9] = 1;
	time_ctx("LSP client's LOOKUP relayed", lsp_body, sizeof(lsp_body));
	time_tags();
}

int main(void)
{
	struct bench_prng r = {SEED};
	for (unsigned i = 0; i < NKEYS; i++) {
		for (unsigned j = 0; j < sizeof(keys[i]); j++) {
			keys[i][j] = (uint8_t)bench_prng_next(&r);
		}
	}
	for (unsigned i = 0; i < MAXMSG; i++) {
		msg[i] = (uint8_t)bench_prng_next(&r);
	}
	struct bench_sysinfo si;
	bench_sysinfo_get(&si);
	printf("bench_mac: %s on %s (%ld CPUs), %s, %s\n", si.machine, si.cpu, si.nproc,
	       si.compiler, OpenSSL_version(OPENSSL_VERSION));
	printf("  started %s, kernel %s, load average at start %s\n", si.date, si.kernel,
	       si.loadavg);
	part1();
	part2();
	return 0;
}
