/* SPDX-License-Identifier: MIT */
/*
 * Range sync (dht/dht_sync.h): the owner's next version, the ring-range test at its edges, bucket
 * bits uniform inside ranges (where top bits are not), the hash pinned to fixed values, digests
 * that do not depend on insertion order, show exactly the bucket of a changed key and combine
 * over shards, and the store walks: digest with overlapping ranges, emit with small caps, clear
 * with plain, wrapping and whole-ring ranges, a walk that loses nothing while keys go, and counts.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/lc_error.h"
#include "dht/dht_store.h"
#include "dht/dht_sync.h"
#include "tests/tap.h"

#define T0 1700000000u
#define SEED 0x5eedull

static const dht_id_t ONE = 1;
#define RING_FRACTION(num, log2_den) ((dht_id_t)(num) << (128 - (log2_den)))

/* splitmix64: the same runs on every libc */
static uint64_t rng_s = 0x5c;
static uint64_t rnd(void)
{
	uint64_t z = (rng_s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

/* ---- the keys of these tests: key i, its id, its version and its binding count ---- */

enum { N = 6000 };

static char keyname[N][32];
static dht_id_t keyid[N];

static void keys_init(void)
{
	for (unsigned i = 0; i < N; i++) {
		snprintf(keyname[i], sizeof(keyname[i]), "sip:+4930%07u@example.de", i);
		keyid[i] = dht_key_of(keyname[i], strlen(keyname[i]), SEED);
	}
}

static uint64_t version_of(unsigned i)
{
	return ((uint64_t)1700000000000 << 12) + i * 7919u;
}

static unsigned nbind_of(unsigned i)
{
	return 1 + i % 3;
}

static struct dht_store *new_store(uint32_t max_b)
{
	struct dht_store *s = NULL;
	struct dht_store_cfg cfg = {.max_bindings = max_b};
	if (dht_store_new(&s, &cfg, T0) != LC_OK) {
		printf("Bail out! dht_store_new failed\n");
		exit(1);
	}
	return s;
}

/* Key i as a replica receives it. */
static int put(struct dht_store *s, unsigned i, uint64_t version)
{
	struct dht_binding_data d[3];
	char uri[3][48];
	for (unsigned b = 0; b < nbind_of(i); b++) {
		memset(&d[b], 0, sizeof(d[b]));
		snprintf(uri[b], sizeof(uri[b]), "sip:u%u@192.0.2.%u", i, b);
		d[b].uri = (struct dht_bytes){.p = uri[b], .len = (uint32_t)strlen(uri[b])};
		d[b].call_id = (struct dht_bytes){.p = "c", .len = 1};
		d[b].expires_at_s = T0 + 3600;
		d[b].q = -1;
	}
	return dht_store_set_aor(s, keyid[i], keyname[i], strlen(keyname[i]), version, d,
				 nbind_of(i), T0);
}

static struct dht_aor *find(struct dht_store *s, unsigned i)
{
	return dht_store_find(s, keyid[i], keyname[i], strlen(keyname[i]));
}

/* A store of keys [0, n) put in the order of @p order (NULL: 0, 1, ...). */
static struct dht_store *build(unsigned n, const unsigned *order)
{
	struct dht_store *s = new_store(3 * N);
	for (unsigned k = 0; k < n; k++) {
		unsigned i = order != NULL ? order[k] : k;
		if (put(s, i, version_of(i)) != LC_OK) {
			printf("Bail out! put failed\n");
			exit(1);
		}
	}
	return s;
}

static void shuffle(unsigned *a, unsigned n)
{
	for (unsigned i = n - 1; i > 0; i--) {
		unsigned j = below(i + 1), t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

/* A whole digest walk; returns the walk steps taken. */
static unsigned digest(struct dht_store *s, const struct dht_sync_range *r, unsigned nr,
		       struct dht_sync_digest *const out[])
{
	for (unsigned i = 0; i < nr; i++) {
		dht_sync_digest_init(out[i]);
	}
	uint64_t cursor = 0;
	unsigned steps = 0;
	while (cursor != DHT_STORE_WALK_END && steps++ < 100000) {
		unsigned n = dht_sync_digest_step(s, SEED, &cursor, r, nr, out);
		if (n > DHT_SYNC_STEP) {
			return 0;
		}
	}
	return steps;
}

static bool digest_eq(const struct dht_sync_digest *a, const struct dht_sync_digest *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* ---- tests ---- */

static void test_version_next(void)
{
	ok(dht_version_next(0, 1000) == 1000ull << 12, "a first version follows the clock");
	ok(dht_version_next(1000ull << 12, 1000) == (1000ull << 12) + 1,
	   "a second change in the same millisecond is one more");
	ok(dht_version_next((1000ull << 12) + 5, 999) == (1000ull << 12) + 6,
	   "a clock that steps back never lowers a version");
	ok(dht_version_next(5, 2000) == 2000ull << 12, "an old version jumps to the clock");
	ok(dht_version_next(UINT64_MAX, 1) == UINT64_MAX, "saturates");
}

static void test_range(void)
{
	struct dht_sync_range r = {.lo = 100, .hi = 200};
	ok(!dht_sync_in_range(&r, 100) && dht_sync_in_range(&r, 101) &&
		   dht_sync_in_range(&r, 200) && !dht_sync_in_range(&r, 201) &&
		   !dht_sync_in_range(&r, 0),
	   "(lo, hi]: lo excluded, hi included");
	dht_id_t top = ~(dht_id_t)0;
	struct dht_sync_range w = {.lo = top - 10, .hi = 5};
	ok(!dht_sync_in_range(&w, top - 10) && dht_sync_in_range(&w, top - 9) &&
		   dht_sync_in_range(&w, top) && dht_sync_in_range(&w, 0) &&
		   dht_sync_in_range(&w, 5) && !dht_sync_in_range(&w, 6) &&
		   !dht_sync_in_range(&w, top - 11),
	   "a range across 2^128 wraps");
	struct dht_sync_range all = {.lo = 77, .hi = 77};
	ok(dht_sync_in_range(&all, 77) && dht_sync_in_range(&all, 0) &&
		   dht_sync_in_range(&all, top) && dht_sync_in_range(&all, 78),
	   "lo == hi is the whole ring, lo included");
	struct dht_sync_range one = {.lo = top, .hi = 0};
	ok(dht_sync_in_range(&one, 0) && !dht_sync_in_range(&one, top) &&
		   !dht_sync_in_range(&one, 1),
	   "an arc of one id across the wrap");
}

static void test_hash_and_bucket(void)
{
	dht_id_t id = ((dht_id_t)0x0123456789abcdefull << 64) | 0xfedcba9876543210ull;
	is_int(dht_sync_bucket(id), 0xdef, "the bucket is bits 64..75");
	is_int(dht_sync_bucket(~(dht_id_t)0), DHT_SYNC_BUCKETS - 1, "the last bucket");
	is_int(dht_sync_bucket(ONE << 76), 0, "bit 76 is above the bucket");
	/* pinned: every node must compute the same digests, whatever its build */
	ok(dht_sync_hash(0, 0) == 0x365afc61535b3920ull, "hash(0, 0) is pinned (%016llx)",
	   (unsigned long long)dht_sync_hash(0, 0));
	ok(dht_sync_hash(id, 42) == 0xf1ed841ce8eb40adull, "hash(id, 42) is pinned (%016llx)",
	   (unsigned long long)dht_sync_hash(id, 42));
	/* every input bit moves about half the output bits */
	unsigned worst = 64, best = 0;
	for (unsigned bit = 0; bit < 192; bit++) {
		unsigned total = 0;
		for (unsigned t = 0; t < 64; t++) {
			dht_id_t a = ((dht_id_t)rnd() << 64) | rnd();
			uint64_t v = rnd();
			dht_id_t b = bit < 128 ? a ^ (ONE << bit) : a;
			uint64_t w = bit < 128 ? v : v ^ (1ull << (bit - 128));
			total += (unsigned)__builtin_popcountll(dht_sync_hash(a, v) ^
								dht_sync_hash(b, w));
		}
		worst = LC_MIN(worst, total / 64);
		best = LC_MAX(best, total / 64);
	}
	ok(worst >= 28 && best <= 36,
	   "each input bit flips 28..36 of 64 output bits on average (%u..%u)", worst, best);
}

/* Chi-square of bucket counts of the ids in @p r, by dht_sync_bucket or by the top 12 bits. */
static double chi_square(const dht_id_t *ids, unsigned n, const struct dht_sync_range *r,
			 bool top_bits, unsigned *in)
{
	static unsigned count[DHT_SYNC_BUCKETS];
	memset(count, 0, sizeof(count));
	*in = 0;
	for (unsigned i = 0; i < n; i++) {
		if (dht_sync_in_range(r, ids[i])) {
			count[top_bits ? (unsigned)(ids[i] >> 116) : dht_sync_bucket(ids[i])]++;
			(*in)++;
		}
	}
	double expect = (double)*in / DHT_SYNC_BUCKETS, chi = 0;
	for (unsigned b = 0; b < DHT_SYNC_BUCKETS; b++) {
		chi += (count[b] - expect) * (count[b] - expect) / expect;
	}
	return chi;
}

static void test_uniform(void)
{
	enum { M = 400000 };
	static dht_id_t ids[M];
	for (unsigned i = 0; i < M; i++) {
		char key[40];
		int len = snprintf(key, sizeof(key), "sip:user%u@uniform.example", i);
		ids[i] = dht_key_of(key, (size_t)len, SEED);
	}
	/* 4095 degrees of freedom: mean 4095, sd 90.5; allow 5 sd */
	const double limit = 4095 + 5 * 90.5;
	const struct dht_sync_range ranges[] = {
		{.lo = 0, .hi = 0},					 /* the whole ring */
		{.lo = RING_FRACTION(3, 4), .hi = RING_FRACTION(4, 4)},	 /* 1/16 */
		{.lo = RING_FRACTION(15, 4), .hi = RING_FRACTION(1, 4)}, /* 1/8 across 2^128 */
		{.lo = RING_FRACTION(5, 5) + 12345, .hi = RING_FRACTION(6, 5) - 999}, /* ~1/32 */
	};
	bool good = true;
	for (unsigned r = 0; r < LC_ARRAY_SIZE(ranges); r++) {
		unsigned in;
		double chi = chi_square(ids, M, &ranges[r], false, &in);
		printf("# range %u: %u keys, chi-square %.0f\n", r, in, chi);
		good &= chi < limit && in > 10000;
	}
	ok(good, "bucket counts inside each range pass a chi-square test (df 4095, < %.0f)", limit);
	unsigned in;
	double top = chi_square(ids, M, &ranges[1], true, &in);
	ok(top > 10 * limit, "the top 12 bits would not do: chi-square %.0f in a 1/16 range", top);
}

static void test_digest_order(void)
{
	static unsigned order[N];
	for (unsigned i = 0; i < N; i++) {
		order[i] = i;
	}
	struct dht_store *a = build(N, NULL);
	shuffle(order, N);
	struct dht_store *b = new_store(4 * N);
	/* b: shuffled, first at older versions, with other keys in between that go again, so
	 * that its records sit elsewhere and its keys went through several sets */
	bool good = true;
	for (unsigned k = 0; k < N; k++) {
		struct dht_binding_data d = {.uri = {"sip:x", 5}, .expires_at_s = T0 + 60};
		char other[32];
		int len = snprintf(other, sizeof(other), "sip:other%u", k);
		good &= put(b, order[k], version_of(order[k]) - 5) == LC_OK;
		good &= k % 3 != 0 || dht_store_add(b, dht_key_of(other, (size_t)len, SEED), other,
						    (size_t)len, &d) == LC_OK;
	}
	shuffle(order, N);
	for (unsigned k = 0; k < N; k++) {
		good &= put(b, order[k], version_of(order[k])) == LC_OK;
		good &= put(b, order[k], version_of(order[k])) == LC_ESTALE;
	}
	for (unsigned k = 0; k < N; k += 3) {
		char other[32];
		int len = snprintf(other, sizeof(other), "sip:other%u", k);
		struct dht_aor *x =
			dht_store_find(b, dht_key_of(other, (size_t)len, SEED), other, (size_t)len);
		good &= x != NULL;
		if (x != NULL) {
			dht_store_remove_aor(b, x);
		}
	}
	struct dht_store_stats sa, sb;
	dht_store_stats_get(a, &sa);
	dht_store_stats_get(b, &sb);
	ok(good && sa.aors == N && sb.aors == N && sa.bindings == sb.bindings,
	   "two stores hold the same keys, filled in different orders");

	static struct dht_sync_digest da[3], db[3];
	struct dht_sync_digest *pa[3] = {&da[0], &da[1], &da[2]};
	struct dht_sync_digest *pb[3] = {&db[0], &db[1], &db[2]};
	const struct dht_sync_range r[3] = {
		{.lo = 5, .hi = 5},
		{.lo = RING_FRACTION(1, 2), .hi = RING_FRACTION(3, 3)},
		{.lo = RING_FRACTION(7, 3), .hi = RING_FRACTION(1, 3)},
	};
	unsigned steps = digest(a, r, 3, pa);
	ok(steps > N / DHT_SYNC_STEP && digest(b, r, 3, pb) > 0, "digest walks of %u steps", steps);
	ok(digest_eq(&da[0], &db[0]) && digest_eq(&da[1], &db[1]) && digest_eq(&da[2], &db[2]),
	   "their digests are equal: whole ring, a plain range, a wrapping range");

	/* every key counted once in each range that holds it, none outside */
	static struct dht_sync_digest want[3];
	for (unsigned k = 0; k < 3; k++) {
		dht_sync_digest_init(&want[k]);
		for (unsigned i = 0; i < N; i++) {
			if (dht_sync_in_range(&r[k], keyid[i])) {
				dht_sync_digest_add(&want[k], keyid[i], version_of(i));
			}
		}
	}
	ok(digest_eq(&da[0], &want[0]) && digest_eq(&da[1], &want[1]) &&
		   digest_eq(&da[2], &want[2]),
	   "a key in several ranges counts in each; keys in none are skipped");
	uint32_t total = 0;
	for (unsigned i = 0; i < DHT_SYNC_BUCKETS; i++) {
		total += da[0].n[i];
	}
	is_int(total, N, "the whole-ring digest counts every key");

	/* one key at another version: exactly its bucket differs */
	unsigned victim = 1234;
	is_int(put(b, victim, version_of(victim) + 1), LC_OK, "key %u moves to a newer version",
	       victim);
	digest(b, r, 1, pb);
	uint8_t set[DHT_SYNC_SET_BYTES];
	unsigned nd = dht_sync_digest_diff(&da[0], &db[0], set);
	uint32_t vb = dht_sync_bucket(keyid[victim]);
	bool only = true;
	for (unsigned i = 0; i < DHT_SYNC_SET_BYTES; i++) {
		only &= set[i] == (i == vb / 8 ? (uint8_t)(1u << (vb % 8)) : 0);
	}
	ok(nd == 1 && only && dht_sync_set_has(set, vb),
	   "one bucket differs, bucket %u: byte %u, bit %u (LSB first)", vb, vb / 8, vb % 8);
	/* a removed key: its bucket differs in count too */
	dht_store_remove_aor(b, find(b, victim));
	digest(b, r, 1, pb);
	nd = dht_sync_digest_diff(&da[0], &db[0], set);
	ok(nd == 1 && dht_sync_set_has(set, vb) && db[0].n[vb] + 1 == da[0].n[vb],
	   "a removed key: its bucket differs, one key fewer");
	is_int(dht_sync_digest_diff(&da[0], &da[0], set), 0, "a digest equals itself");
	dht_store_free(a);
	dht_store_free(b);
}

static void test_merge(void)
{
	enum { SHARDS = 4 };
	struct dht_store *all = build(N, NULL);
	struct dht_store *shard[SHARDS];
	for (unsigned k = 0; k < SHARDS; k++) {
		shard[k] = new_store(3 * N);
	}
	for (unsigned i = 0; i < N; i++) {
		(void)put(shard[dht_shard_of(keyid[i], SHARDS)], i, version_of(i));
	}
	const struct dht_sync_range r = {.lo = RING_FRACTION(1, 1), .hi = RING_FRACTION(1, 3)};
	static struct dht_sync_digest whole, part, sum;
	struct dht_sync_digest *pw = &whole, *pp = &part;
	digest(all, &r, 1, &pw);
	dht_sync_digest_init(&sum);
	for (unsigned k = 0; k < SHARDS; k++) {
		digest(shard[k], &r, 1, &pp);
		dht_sync_digest_merge(&sum, &part);
	}
	ok(digest_eq(&sum, &whole), "the merge of the shards' digests is the digest of the union");
	for (unsigned k = 0; k < SHARDS; k++) {
		dht_store_free(shard[k]);
	}
	dht_store_free(all);
}

/* A random bucket set of about a third of the buckets. */
static void random_set(uint8_t set[DHT_SYNC_SET_BYTES])
{
	memset(set, 0, DHT_SYNC_SET_BYTES);
	for (uint32_t b = 0; b < DHT_SYNC_BUCKETS; b++) {
		if (below(3) == 0) {
			dht_sync_set_add(set, b);
		}
	}
}

static bool selected(unsigned i, const struct dht_sync_range *r, const uint8_t *set)
{
	return dht_sync_in_range(r, keyid[i]) &&
	       (set == NULL || dht_sync_set_has(set, dht_sync_bucket(keyid[i])));
}

static void test_emit(void)
{
	struct dht_store *s = build(N, NULL);
	static unsigned char seen[N];
	uint8_t set[DHT_SYNC_SET_BYTES];
	random_set(set);
	const struct dht_sync_range ranges[] = {
		{.lo = RING_FRACTION(1, 2), .hi = RING_FRACTION(7, 3)},
		{.lo = RING_FRACTION(7, 3), .hi = RING_FRACTION(1, 2)},
		{.lo = 9, .hi = 9},
	};
	const unsigned caps[] = {1, 3, 64, 1000};
	bool good = true;
	for (unsigned r = 0; r < LC_ARRAY_SIZE(ranges); r++) {
		for (unsigned c = 0; c < LC_ARRAY_SIZE(caps); c++) {
			const uint8_t *bs = c % 2 ? set : NULL;
			memset(seen, 0, sizeof(seen));
			uint64_t cursor = 0;
			struct dht_aor *out[1000];
			dht_id_t ids[1000];
			unsigned calls = 0;
			while (cursor != DHT_STORE_WALK_END && calls++ < 100000) {
				unsigned n = dht_sync_emit_step(s, SEED, &cursor, &ranges[r], bs,
								out, ids, caps[c]);
				good &= n <= caps[c];
				for (unsigned k = 0; k < n; k++) {
					struct dht_bytes key = dht_aor_key(out[k]);
					unsigned i = (unsigned)atoi(key.p + 9);
					good &= i < N && ids[k] == keyid[i];
					if (i < N) {
						seen[i]++;
					}
				}
			}
			for (unsigned i = 0; i < N; i++) {
				good &= seen[i] == (selected(i, &ranges[r], bs) ? 1 : 0);
			}
		}
	}
	ok(good, "emit gives each key of (range, buckets) once, with its id, at any cap");
	uint64_t cursor = 0;
	struct dht_aor *out[8];
	unsigned n = 0;
	while (cursor != DHT_STORE_WALK_END) {
		n += dht_sync_emit_step(s, SEED, &cursor, &ranges[2], NULL, out, NULL, 8);
	}
	is_int(n, N, "ids may be NULL; the whole ring gives every key");
	dht_store_free(s);
}

static void test_clear(void)
{
	uint8_t set[DHT_SYNC_SET_BYTES];
	random_set(set);
	const struct dht_sync_range ranges[] = {
		{.lo = RING_FRACTION(1, 3), .hi = RING_FRACTION(5, 3)},
		{.lo = RING_FRACTION(6, 3) + 17, .hi = RING_FRACTION(1, 3) - 17}, /* wraps */
		{.lo = RING_FRACTION(3, 3), .hi = RING_FRACTION(3, 3)},		  /* all */
	};
	const char *name[] = {"a plain range", "a wrapping range", "lo == hi"};
	for (unsigned r = 0; r < LC_ARRAY_SIZE(ranges); r++) {
		for (unsigned with_set = 0; with_set < 2; with_set++) {
			const uint8_t *bs = with_set ? set : NULL;
			struct dht_store *s = build(N, NULL);
			unsigned want = 0, removed = 0, calls = 0, wrong = 0;
			uint64_t bindings = 0;
			for (unsigned i = 0; i < N; i++) {
				want += selected(i, &ranges[r], bs);
				bindings += selected(i, &ranges[r], bs) ? 0 : nbind_of(i);
			}
			uint64_t cursor = 0;
			while (cursor != DHT_STORE_WALK_END && calls++ < 100000) {
				unsigned n = dht_sync_clear_step(s, SEED, &cursor, &ranges[r], bs);
				wrong += n > DHT_SYNC_STEP;
				removed += n;
			}
			for (unsigned i = 0; i < N; i++) {
				wrong += (find(s, i) == NULL) != selected(i, &ranges[r], bs);
			}
			struct dht_store_stats st;
			dht_store_stats_get(s, &st);
			ok(wrong == 0 && removed == want && st.aors == N - want &&
				   st.bindings == bindings,
			   "clear %s%s removes exactly its %u keys", name[r],
			   with_set ? " and a bucket set" : "", want);
			dht_store_free(s);
		}
	}
}

/* A walk while keys go, those just returned and others ahead: no key is skipped or seen twice. */
static void test_walk_while_removing(void)
{
	struct dht_store *s = build(N, NULL);
	static unsigned char seen[N], gone[N];
	memset(seen, 0, sizeof(seen));
	memset(gone, 0, sizeof(gone));
	const struct dht_sync_range all = {.lo = 0, .hi = 0};
	uint64_t cursor = 0;
	unsigned calls = 0, twice = 0, after_gone = 0;
	while (cursor != DHT_STORE_WALK_END && calls++ < 100000) {
		struct dht_aor *out[5];
		unsigned n = dht_sync_emit_step(s, SEED, &cursor, &all, NULL, out, NULL, 5);
		for (unsigned k = 0; k < n; k++) {
			unsigned i = (unsigned)atoi(dht_aor_key(out[k]).p + 9);
			twice += seen[i]++ > 0;
			after_gone += gone[i];
		}
		/* remove every other key just returned, then a random key anywhere */
		for (unsigned k = 0; k < n; k += 2) {
			unsigned i = (unsigned)atoi(dht_aor_key(out[k]).p + 9);
			dht_store_remove_aor(s, out[k]);
			gone[i] = 1;
		}
		unsigned j = below(N);
		if (!gone[j]) {
			dht_store_remove_aor(s, find(s, j));
			gone[j] = 1;
		}
	}
	unsigned missed = 0;
	for (unsigned i = 0; i < N; i++) {
		missed += !seen[i] && !gone[i];
	}
	ok(twice == 0 && after_gone == 0 && missed == 0,
	   "walking while removing: every key still held is visited once, none twice, none after "
	   "it went (%u calls)",
	   calls);
	dht_store_free(s);
}

static void test_count(void)
{
	struct dht_store *s = build(N, NULL);
	const struct dht_sync_range r[] = {
		{.lo = RING_FRACTION(2, 3), .hi = RING_FRACTION(3, 3)}, /* owned */
		{.lo = RING_FRACTION(1, 3), .hi = RING_FRACTION(2, 3)}, /* replica */
		{.lo = RING_FRACTION(7, 3), .hi = RING_FRACTION(3, 3)}, /* overlaps both, wraps */
		{.lo = 1, .hi = 1},
	};
	struct dht_sync_count c[4], want[4];
	memset(c, 0, sizeof(c));
	memset(want, 0, sizeof(want));
	for (unsigned k = 0; k < 4; k++) {
		for (unsigned i = 0; i < N; i++) {
			if (dht_sync_in_range(&r[k], keyid[i])) {
				want[k].keys++;
				want[k].bindings += nbind_of(i);
			}
		}
	}
	uint64_t cursor = 0;
	unsigned calls = 0;
	while (cursor != DHT_STORE_WALK_END && calls++ < 100000) {
		(void)dht_sync_count_step(s, SEED, &cursor, r, 4, c);
	}
	ok(memcmp(c, want, sizeof(c)) == 0,
	   "count: keys and bindings per range (%llu/%llu owned, %llu/%llu replica, %llu/%llu "
	   "whole ring)",
	   (unsigned long long)c[0].keys, (unsigned long long)c[0].bindings,
	   (unsigned long long)c[1].keys, (unsigned long long)c[1].bindings,
	   (unsigned long long)c[3].keys, (unsigned long long)c[3].bindings);
	ok(c[3].keys == N && c[0].keys > 0 && c[1].keys > 0 && c[2].keys > c[0].keys + c[1].keys,
	   "every key in the whole ring; overlapping ranges each count theirs");
	dht_store_free(s);
}

/* Ranges whose ends share their top 64 bits with a key: the walks place keys by the top half kept
 * in the record, and must read the bottom half exactly there. */
static void test_range_ends(void)
{
	struct dht_store *s = build(N, NULL);
	unsigned a = below(N), b = below(N);
	const struct dht_sync_range r[] = {
		{.lo = keyid[a], .hi = keyid[b]},	  /* a out, b in */
		{.lo = keyid[a] - 1, .hi = keyid[b] + 1}, /* both in */
		{.lo = keyid[b] + 1, .hi = keyid[a] - 1}, /* the rest: both out */
		{.lo = keyid[a] ^ 1, .hi = keyid[a]}, /* a tiny arc: a in or out by its low bit */
		{.lo = keyid[a], .hi = keyid[a]},     /* the whole ring */
	};
	const unsigned nr = LC_ARRAY_SIZE(r);
	struct dht_sync_count c[LC_ARRAY_SIZE(r)], want[LC_ARRAY_SIZE(r)];
	static struct dht_sync_digest dg[LC_ARRAY_SIZE(r)], wd[LC_ARRAY_SIZE(r)];
	struct dht_sync_digest *out[LC_ARRAY_SIZE(r)];
	memset(c, 0, sizeof(c));
	memset(want, 0, sizeof(want));
	for (unsigned k = 0; k < nr; k++) {
		out[k] = &dg[k];
		dht_sync_digest_init(&wd[k]);
		for (unsigned i = 0; i < N; i++) {
			if (dht_sync_in_range(&r[k], keyid[i])) {
				want[k].keys++;
				want[k].bindings += nbind_of(i);
				dht_sync_digest_add(&wd[k], keyid[i], version_of(i));
			}
		}
	}
	uint64_t cursor = 0;
	while (cursor != DHT_STORE_WALK_END) {
		(void)dht_sync_count_step(s, SEED, &cursor, r, nr, c);
	}
	ok(memcmp(c, want, sizeof(c)) == 0 && want[0].keys > 0 && want[3].keys <= 1,
	   "count at range ends equal to keys' ids: as dht_sync_in_range says (%llu, %llu, %llu)",
	   (unsigned long long)c[0].keys, (unsigned long long)c[1].keys,
	   (unsigned long long)c[2].keys);
	bool same = digest(s, r, nr, out) > 0;
	for (unsigned k = 0; k < nr; k++) {
		same &= digest_eq(&dg[k], &wd[k]);
	}
	ok(same, "digests at those ends: as from the ids and versions");
	dht_store_free(s);
}

int main(void)
{
	plan(40);
	keys_init();
	test_version_next();
	test_range();
	test_hash_and_bucket();
	test_uniform();
	test_digest_order();
	test_merge();
	test_emit();
	test_clear();
	test_walk_while_removing();
	test_count();
	test_range_ends();
	return exit_status();
}
