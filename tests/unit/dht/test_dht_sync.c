/* SPDX-License-Identifier: MIT */
/*
 * Range sync (dht/dht_sync.h): the owner's next version, the ring-range test at its edges, bucket
 * bits uniform inside ranges (where top bits are not), the hashes pinned to fixed values, a key's
 * share as the XOR of its records' (tombstones included), digests built from the records that do
 * not depend on insertion or merge order, show exactly the bucket of a changed key and combine
 * over shards, and the store walks: digest with overlapping ranges, emit with small caps, emit's
 * selection removed (plain, wrapping and whole-ring ranges) emptying exactly its buckets, a walk
 * that loses nothing while keys go, counts, and tombstones in each.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/lc_error.h"
#include "dht/dht_store.h"
#include "dht/dht_sync.h"
#include "tests/prng.h"
#include "tests/tap.h"
#include "tests/unit/dht/merge_bounds.h"

#define T0 1700000000u
#define SEED 0x5eedull
#define WRITER 3

static const dht_id_t ONE = 1;
#define RING_FRACTION(num, log2_den) ((dht_id_t)(num) << (128 - (log2_den)))

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

/* Binding b of key i. */
static int uri_of(char *buf, size_t size, unsigned i, unsigned b)
{
	return snprintf(buf, size, "sip:u%u@192.0.2.%u", i, b);
}

/* Key i as a replica receives it: its bindings at @p version by WRITER. */
static int put(struct dht_store *s, unsigned i, uint64_t version)
{
	struct dht_binding_data d[3];
	char uri[3][48];
	for (unsigned b = 0; b < nbind_of(i); b++) {
		memset(&d[b], 0, sizeof(d[b]));
		uri_of(uri[b], sizeof(uri[b]), i, b);
		d[b].uri = (struct dht_bytes){.p = uri[b], .len = (uint32_t)strlen(uri[b])};
		d[b].call_id = (struct dht_bytes){.p = "c", .len = 1};
		d[b].expires_at_s = T0 + 3600;
		d[b].q = -1;
		d[b].version = version;
		d[b].writer = WRITER;
	}
	return dht_store_merge(s, keyid[i], keyname[i], strlen(keyname[i]), d, nbind_of(i),
			       BOUNDS(T0, UINT64_MAX));
}

/* A record's share of its key's digest share, as every node computes it (dht_sync.h): the
 * identity is XXH3 of the contact URI (seed 0), or of the +sip.instance seeded with
 * 2^32 | reg-id, and 0 for a CLEARED record. Pinned here: nodes of one overlay must agree. */
static uint64_t rec_share(dht_id_t id, const struct dht_binding_data *d)
{
	uint64_t ident = d->kind == DHT_REC_CLEARED ? 0
			 : d->instance.len > 0	    ? dht_hash64(d->instance.p, d->instance.len,
								 (1ull << 32) | d->reg_id)
						    : dht_hash64(d->uri.p, d->uri.len, 0);
	return dht_sync_rec_hash((uint64_t)(id >> 64), d->version, d->writer, d->kind, ident);
}

/* Key i's share when put at @p version. */
static uint64_t share_of(unsigned i, uint64_t version)
{
	uint64_t h = 0;
	for (unsigned b = 0; b < nbind_of(i); b++) {
		char uri[48];
		struct dht_binding_data d = {.version = version, .writer = WRITER};
		d.uri = (struct dht_bytes){.p = uri,
					   .len = (uint32_t)uri_of(uri, sizeof(uri), i, b)};
		h ^= rec_share(keyid[i], &d);
	}
	return h;
}

/* Count key i, put at @p version, in @p d: what a digest walk should find. */
static void want_key(struct dht_sync_digest *d, unsigned i, uint64_t version)
{
	uint32_t b = dht_sync_bucket(keyid[i]);
	d->x[b] ^= share_of(i, version);
	d->n[b]++;
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
	/* pinned (and checked against docs/lsp.md §11.3.11's formula): every node must compute
	 * the same digests, whatever its build */
	const uint64_t hi = 0x0123456789abcdefull, ident = 0xfedcba9876543210ull;
	ok(dht_sync_rec_hash(0, 0, 0, 0, 0) == 0x6217a877cebd3698ull,
	   "rec_hash(0, 0, 0, 0, 0) is pinned (%016llx)",
	   (unsigned long long)dht_sync_rec_hash(0, 0, 0, 0, 0));
	ok(dht_sync_rec_hash(hi, 42, 7, DHT_REC_LIVE, ident) == 0xfaa26e5b2773e64full,
	   "rec_hash(id_hi, 42, 7, LIVE, identity) is pinned (%016llx)",
	   (unsigned long long)dht_sync_rec_hash(hi, 42, 7, DHT_REC_LIVE, ident));
	ok(dht_sync_rec_hash(hi, 42, 7, DHT_REC_REMOVED, ident) == 0x5b2dd0cd30cf6ad5ull,
	   "rec_hash(id_hi, 42, 7, REMOVED, identity) is pinned (%016llx)",
	   (unsigned long long)dht_sync_rec_hash(hi, 42, 7, DHT_REC_REMOVED, ident));
	ok(dht_sync_rec_hash(hi, 42, 7, DHT_REC_CLEARED, 0) == 0xf67d0667f4da9911ull,
	   "rec_hash(id_hi, 42, 7, CLEARED, 0) is pinned (%016llx)",
	   (unsigned long long)dht_sync_rec_hash(hi, 42, 7, DHT_REC_CLEARED, 0));
	ok(dht_hash64("sip:a@b", 7, 0) == 0x62817ead35b1a990ull,
	   "the identity hash (XXH3-64) is pinned (%016llx)",
	   (unsigned long long)dht_hash64("sip:a@b", 7, 0));
	/* every input bit (id_hi, version, writer, identity; the kind is XORed onto the identity's
	 * top two bits) moves about half the output bits */
	unsigned worst = 64, best = 0;
	for (unsigned bit = 0; bit < 256; bit++) {
		unsigned total = 0;
		for (unsigned t = 0; t < 64; t++) {
			uint64_t in[4] = {rnd(), rnd(), rnd(), rnd()}, flip[4];
			memcpy(flip, in, sizeof(in));
			flip[bit / 64] ^= 1ull << (bit % 64);
			total += (unsigned)__builtin_popcountll(
				dht_sync_rec_hash(in[0], in[1], in[2], DHT_REC_LIVE, in[3]) ^
				dht_sync_rec_hash(flip[0], flip[1], flip[2], DHT_REC_LIVE,
						  flip[3]));
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
	 * that its records sit elsewhere and its keys went through several merges (the newer
	 * records replace the older ones in place) */
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
				want_key(&want[k], i, version_of(i));
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

/*
 * What a range sync relies on when keys go: for plain, wrapping and whole-ring ranges, with and
 * without a bucket set, the keys emit selects are exactly those of (range, buckets); once they are
 * removed, during the walk, the range's digest has those buckets empty and every other bucket as
 * it was, and the diff names exactly the emptied buckets that held keys.
 */
static void test_remove_selected(void)
{
	uint8_t set[DHT_SYNC_SET_BYTES];
	random_set(set);
	const struct dht_sync_range ranges[] = {
		{.lo = RING_FRACTION(1, 3), .hi = RING_FRACTION(5, 3)},
		{.lo = RING_FRACTION(6, 3) + 17, .hi = RING_FRACTION(1, 3) - 17}, /* wraps */
		{.lo = RING_FRACTION(3, 3), .hi = RING_FRACTION(3, 3)},		  /* all */
	};
	const char *name[] = {"a plain range", "a wrapping range", "lo == hi"};
	static struct dht_sync_digest before, after;
	struct dht_sync_digest *pb = &before, *pa = &after;
	for (unsigned r = 0; r < LC_ARRAY_SIZE(ranges); r++) {
		for (unsigned with_set = 0; with_set < 2; with_set++) {
			const uint8_t *bs = with_set ? set : NULL;
			struct dht_store *s = build(N, NULL);
			uint8_t emptied[DHT_SYNC_SET_BYTES] = {0};
			unsigned want = 0, nempty = 0, removed = 0, calls = 0, wrong = 0;
			uint64_t bindings = 0;
			for (unsigned i = 0; i < N; i++) {
				uint32_t b = dht_sync_bucket(keyid[i]);
				if (!selected(i, &ranges[r], bs)) {
					bindings += nbind_of(i);
					continue;
				}
				want++;
				if (!dht_sync_set_has(emptied, b)) {
					dht_sync_set_add(emptied, b);
					nempty++;
				}
			}
			wrong += digest(s, &ranges[r], 1, &pb) == 0;
			uint64_t cursor = 0;
			while (cursor != DHT_STORE_WALK_END && calls++ < 100000) {
				struct dht_aor *out[DHT_SYNC_STEP];
				unsigned n = dht_sync_emit_step(s, SEED, &cursor, &ranges[r], bs,
								out, NULL, DHT_SYNC_STEP);
				for (unsigned k = 0; k < n; k++) {
					dht_store_remove_aor(s, out[k]);
				}
				removed += n;
			}
			for (unsigned i = 0; i < N; i++) {
				wrong += (find(s, i) == NULL) != selected(i, &ranges[r], bs);
			}
			struct dht_store_stats st;
			dht_store_stats_get(s, &st);
			wrong += digest(s, &ranges[r], 1, &pa) == 0;
			for (uint32_t b = 0; b < DHT_SYNC_BUCKETS; b++) {
				bool gone = dht_sync_set_has(emptied, b);
				wrong += after.x[b] != (gone ? 0 : before.x[b]);
				wrong += after.n[b] != (gone ? 0 : before.n[b]);
			}
			uint8_t diff[DHT_SYNC_SET_BYTES];
			unsigned nd = dht_sync_digest_diff(&before, &after, diff);
			ok(wrong == 0 && removed == want && st.aors == N - want &&
				   st.bindings == bindings && nd == nempty &&
				   memcmp(diff, emptied, sizeof(diff)) == 0,
			   "removing what emit selects in %s%s: exactly its %u keys go, and the "
			   "digest differs in their %u buckets, now empty",
			   name[r], with_set ? " and a bucket set" : "", want, nempty);
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
				want[k].held++;
				want[k].keys++;
				want[k].bindings += nbind_of(i);
				want[k].x ^= share_of(i, version_of(i));
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
				want[k].held++;
				want[k].keys++;
				want[k].bindings += nbind_of(i);
				want[k].x ^= share_of(i, version_of(i));
				want_key(&wd[k], i, version_of(i));
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
	ok(same, "digests at those ends: as from the ids and records");
	dht_store_free(s);
}

/* A key's share: the XOR of its records' shares, tombstones included, by the formula pinned above. */
static void test_key_share(void)
{
	struct dht_store *s = new_store(64);
	const char *key = "sip:share@example.de";
	dht_id_t id = dht_key_of(key, strlen(key), SEED);
	struct dht_binding_data d[4];
	memset(d, 0, sizeof(d));
	const char *uris[3] = {"sip:a@192.0.2.1", "sip:b@192.0.2.2", "sip:c@192.0.2.3"};
	for (unsigned j = 0; j < 3; j++) {
		d[j].uri = (struct dht_bytes){.p = uris[j], .len = (uint32_t)strlen(uris[j])};
		d[j].expires_at_s = T0 + 600;
		d[j].q = -1;
		d[j].version = 10 + j;
		d[j].writer = 1 + j % 2;
	}
	d[1].instance = (struct dht_bytes){.p = "\"<urn:uuid:b>\"", .len = 15};
	d[1].reg_id = 2;
	d[2].kind = DHT_REC_REMOVED;
	d[3] = (struct dht_binding_data){
		.kind = DHT_REC_CLEARED, .version = 9, .writer = 4, .expires_at_s = T0 + 900};
	is_int(dht_store_merge(s, id, key, strlen(key), d, 4, BOUNDS(T0, UINT64_MAX)), LC_OK,
	       "a binding, an instance's binding, a REMOVED record and a CLEARED one below them");
	struct dht_aor *a = dht_store_find(s, id, key, strlen(key));
	uint64_t want = 0;
	for (unsigned j = 0; j < 4; j++) {
		want ^= rec_share(id, &d[j]);
	}
	ok(a != NULL && dht_aor_count(a) == 4 && dht_aor_sync_hash(a) == want,
	   "the key's share is the XOR of its four records' (%016llx)", (unsigned long long)want);
	struct dht_binding *b[4];
	dht_aor_bindings(a, T0, b, 4);
	dht_store_tombstone(s, b[0], 13, 1, T0 + 700);
	struct dht_binding_data t = d[0];
	t.kind = DHT_REC_REMOVED;
	t.version = 13;
	t.writer = 1;
	want ^= rec_share(id, &d[0]) ^ rec_share(id, &t);
	ok(dht_aor_sync_hash(a) == want, "a binding tombstoned: its share is the tombstone's");
	dht_store_free(s);
}

/* The records of key i in @p from, merged into @p to. */
static int copy_key(struct dht_store *to, struct dht_store *from, unsigned i)
{
	struct dht_binding *b[8];
	struct dht_binding_data d[8];
	unsigned n = dht_aor_records(find(from, i), T0, b, 8);
	for (unsigned j = 0; j < n; j++) {
		dht_binding_read(b[j], &d[j]);
	}
	return dht_store_merge(to, keyid[i], keyname[i], strlen(keyname[i]), d, n,
			       BOUNDS(T0, UINT64_MAX));
}

/*
 * Tombstones in range sync. Of keys 0..K-1, every third has its one binding removed (a key of
 * tombstones only) and every third but one is cleared. A store that met the tombstones first and
 * the older bindings after agrees with the one where they were written, digest by digest; the
 * buckets of the changed keys differ from a store that never saw the removals; emit gives every
 * key, tombstones-only ones included (replication must send them); counts tell keys held from
 * keys with bindings.
 */
static void test_tombstones(void)
{
	enum { K = 900 };
	struct dht_store *a = build(K, NULL), *plain = build(K, NULL), *b = new_store(3 * N);
	uint64_t live = 0;
	bool good = true;
	for (unsigned i = 0; i < K; i++) {
		struct dht_aor *x = find(a, i);
		struct dht_binding *bb[3];
		if (i % 3 == 0) {
			dht_aor_bindings(x, T0, bb, 3);
			dht_store_tombstone(a, bb[0], version_of(i) + 1, WRITER, T0 + 7200);
		} else if (i % 3 == 1) {
			good &= dht_store_clear(a, keyid[i], keyname[i], strlen(keyname[i]),
						version_of(i) + 1, WRITER, T0 + 7200) == LC_OK;
		} else {
			live += nbind_of(i);
		}
	}
	unsigned copied = 0, stale = 0;
	for (unsigned i = 0; i < K; i++) {
		copied += copy_key(b, a, i) == LC_OK;
		stale += put(b, i, version_of(i)) == LC_ESTALE;
	}
	struct dht_store_stats sa, sb;
	dht_store_stats_get(a, &sa);
	dht_store_stats_get(b, &sb);
	ok(good && copied == K && stale == K && sa.aors == K && sb.aors == K &&
		   sa.bindings == live && sb.bindings == live && sa.tombstones == 2 * K / 3 &&
		   sb.tombstones == sa.tombstones,
	   "tombstones first, then older bindings: every older copy loses (%u of %u)", stale, K);
	static struct dht_sync_digest da, db, dp;
	struct dht_sync_digest *pa = &da, *pb = &db, *pp = &dp;
	const struct dht_sync_range all = {.lo = 0, .hi = 0};
	ok(digest(a, &all, 1, &pa) > 0 && digest(b, &all, 1, &pb) > 0 && digest_eq(&da, &db),
	   "both stores have the same digest");
	static uint8_t want[DHT_SYNC_SET_BYTES];
	memset(want, 0, sizeof(want));
	unsigned nwant = 0;
	for (unsigned i = 0; i < K; i++) {
		uint32_t bk = dht_sync_bucket(keyid[i]);
		if (i % 3 != 2 && !dht_sync_set_has(want, bk)) {
			dht_sync_set_add(want, bk);
			nwant++;
		}
	}
	uint8_t set[DHT_SYNC_SET_BYTES];
	(void)digest(plain, &all, 1, &pp);
	unsigned nd = dht_sync_digest_diff(&da, &dp, set);
	ok(nd == nwant && memcmp(set, want, sizeof(set)) == 0,
	   "against a store without the removals, exactly the buckets of the changed keys differ "
	   "(%u)",
	   nd);
	uint64_t cursor = 0;
	unsigned n = 0, only_tombs = 0;
	while (cursor != DHT_STORE_WALK_END) {
		struct dht_aor *out[16];
		unsigned got = dht_sync_emit_step(a, SEED, &cursor, &all, NULL, out, NULL, 16);
		for (unsigned k = 0; k < got; k++) {
			only_tombs += dht_aor_live_count(out[k]) == 0;
		}
		n += got;
	}
	ok(n == K && only_tombs == 2 * K / 3,
	   "emit gives every key, the %u with tombstones only included", only_tombs);
	struct dht_sync_count c;
	memset(&c, 0, sizeof(c));
	cursor = 0;
	while (cursor != DHT_STORE_WALK_END) {
		(void)dht_sync_count_step(a, SEED, &cursor, &all, 1, &c);
	}
	ok(c.held == K && c.keys == K / 3 && c.bindings == live,
	   "count: %llu keys held, %llu with bindings, %llu bindings", (unsigned long long)c.held,
	   (unsigned long long)c.keys, (unsigned long long)c.bindings);
	cursor = 0;
	unsigned removed = 0;
	while (cursor != DHT_STORE_WALK_END) {
		struct dht_aor *out[16];
		unsigned got = dht_sync_emit_step(a, SEED, &cursor, &all, NULL, out, NULL, 16);
		for (unsigned k = 0; k < got; k++) {
			dht_store_remove_aor(a, out[k]);
		}
		removed += got;
	}
	dht_store_stats_get(a, &sa);
	static struct dht_sync_digest empty;
	dht_sync_digest_init(&empty);
	ok(removed == K && sa.aors == 0 && sa.tombstones == 0 && sa.bindings == 0 &&
		   digest(a, &all, 1, &pa) > 0 && digest_eq(&da, &empty),
	   "a removed key takes its tombstones along: the store and its digest are empty");
	dht_store_free(a);
	dht_store_free(b);
	dht_store_free(plain);
}

int main(void)
{
	rng_s = 0x5c;
	plan(52);
	keys_init();
	test_version_next();
	test_range();
	test_hash_and_bucket();
	test_uniform();
	test_digest_order();
	test_merge();
	test_emit();
	test_remove_selected();
	test_walk_while_removing();
	test_count();
	test_range_ends();
	test_key_share();
	test_tombstones();
	return exit_status();
}
