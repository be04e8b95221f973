/* SPDX-License-Identifier: MIT */
/*
 * bench_store: one shard's binding store with a million bindings of realistic sizes. It times
 * add (a new AOR each, keys in a shuffled order), refresh (find, then update with the same
 * strings), a replica's refresh (dht_store_merge of the same record with a new expiry at a newer
 * version), lookup (find, live bindings, read each), a range digest of the whole shard
 * (dht_sync_digest_step) and remove (find, then remove the AOR's binding), each over every key,
 * and reaping by the wheel; and it reports memory per binding by the store's own accounting and
 * by the growth of the process's resident set (/proc/self/statm), with the breakdown and the
 * strings' own bytes, so the overhead is visible.
 *
 * The data: one binding per AOR, as a phone registering once; AOR "sip:+1NPANXXXXXX@<domain>"
 * (25 to 36 bytes), contact URI "sip:<user>@<IPv4>:<port>;transport=<t>[;ob][;rinstance=..]"
 * (about 60 to 90 bytes), a 32-hex-digit Call-ID "@<host>", +sip.instance "<urn:uuid:...>"
 * (49 bytes with its quotes) on half of them, a tenth from IPv6 sources. splitmix64, fixed seed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_prng.h"
#include "bench/bench_sysinfo.h"
#include "common/lc_error.h"
#include "dht/dht_store.h"
#include "dht/dht_sync.h"

#define T0 1800000000u
#define SEED 0x570e

/* Owner: main; filled once by gen(). */
struct item {
	char key[40];
	char uri[96];
	char call_id[64];
	char instance[56];
	uint8_t key_len, uri_len, call_id_len, instance_len;
	uint8_t addr[16];
	dht_id_t id;
};

static const char *const domains[] = {"example.com", "voip.example.net", "sip.example.org",
				      "ims.mnc001.example.com", "pbx.example.co.uk"};
static const char *const users[] = {"alice", "bob",  "carol", "dave",	 "erin",  "frank", "grace",
				    "heidi", "ivan", "judy",  "mallory", "oscar", "peggy", "trent"};
static const char *const transports[] = {"udp", "tcp", "tls"};

static void gen(struct item *it, unsigned n, struct bench_prng *r)
{
	static const char hex[] = "0123456789abcdef";
	for (unsigned i = 0; i < n; i++) {
		struct item *x = &it[i];
		const char *dom = domains[bench_prng_below(r, LC_ARRAY_SIZE(domains))];
		x->key_len = (uint8_t)snprintf(x->key, sizeof(x->key), "sip:+1%03u%07u@%s",
					       200 + bench_prng_below(r, 800), i, dom);
		char ob[48] = "";
		if (bench_prng_chance(r, 50)) {
			snprintf(ob, sizeof(ob), ";ob");
		} else {
			snprintf(ob, sizeof(ob), ";rinstance=%08x%08x",
				 (unsigned)bench_prng_next(r), (unsigned)bench_prng_next(r));
		}
		x->uri_len = (uint8_t)snprintf(
			x->uri, sizeof(x->uri), "sip:%s%u@%u.%u.%u.%u:%u;transport=%s%s",
			users[bench_prng_below(r, LC_ARRAY_SIZE(users))],
			bench_prng_below(r, 10000), bench_prng_range(r, 1, 223),
			bench_prng_below(r, 256), bench_prng_below(r, 256),
			bench_prng_range(r, 1, 254), bench_prng_range(r, 1024, 65535),
			transports[bench_prng_below(r, 3)], ob);
		char *c = x->call_id;
		for (int k = 0; k < 32; k++) {
			*c++ = hex[bench_prng_below(r, 16)];
		}
		x->call_id_len =
			(uint8_t)(32 + snprintf(c, 24, "@192.0.2.%u", bench_prng_below(r, 256)));
		x->instance_len = 0;
		if (bench_prng_chance(r, 50)) {
			uint64_t a = bench_prng_next(r), b = bench_prng_next(r);
			x->instance_len = (uint8_t)snprintf(
				x->instance, sizeof(x->instance),
				"\"<urn:uuid:%08x-%04x-%04x-%04x-%012llx>\"", (unsigned)a,
				(unsigned)(a >> 32) & 0xffff, (unsigned)(a >> 48),
				(unsigned)b & 0xffff, (unsigned long long)(b >> 16));
		}
		memset(x->addr, 0, 16);
		unsigned alen = bench_prng_chance(r, 10) ? 16 : 4;
		for (unsigned k = 0; k < alen; k++) {
			x->addr[k] = (uint8_t)bench_prng_next(r);
		}
		x->id = dht_key_of(x->key, x->key_len, SEED);
	}
}

static struct dht_binding_data data_of(const struct item *x, uint32_t exp, uint32_t cseq)
{
	struct dht_binding_data d;
	memset(&d, 0, sizeof(d));
	d.uri = (struct dht_bytes){x->uri, x->uri_len};
	d.call_id = (struct dht_bytes){x->call_id, x->call_id_len};
	d.instance = (struct dht_bytes){x->instance, x->instance_len};
	d.path = (struct dht_bytes){"", 0};
	d.attrs = (struct dht_bytes){"", 0};
	d.expires_at_s = exp;
	d.registered_at_s = T0;
	d.cseq = cseq;
	d.q = -1;
	d.src.family = x->addr[4] || x->addr[15] ? 10 : 2;
	d.src.port = 5060;
	memcpy(d.src.addr, x->addr, 16);
	return d;
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static long rss_bytes(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f == NULL) {
		return 0;
	}
	if (fscanf(f, "%ld %ld", &size, &resident) != 2) {
		resident = 0;
	}
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

static void shuffle(uint32_t *order, unsigned n, struct bench_prng *r)
{
	for (unsigned i = n - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(bench_prng_next(r) % (i + 1));
		uint32_t t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

static struct dht_aor *find(struct dht_store *s, const struct item *x)
{
	return dht_store_find(s, x->id, x->key, x->key_len);
}

/* One lookup as the redirect server makes it: the live bindings, each read; returns a value that
 * depends on every byte read, so the compiler cannot drop the reads. */
static uint64_t read_item(struct dht_store *s, const struct item *x)
{
	struct dht_binding *b[8];
	unsigned k = dht_aor_bindings(find(s, x), T0, b, 8);
	uint64_t acc = 0;
	for (unsigned j = 0; j < k; j++) {
		struct dht_binding_data r;
		dht_binding_read(b[j], &r);
		acc += r.uri.len + (unsigned char)r.uri.p[r.uri.len - 1] + r.expires_at_s;
	}
	return acc;
}

static int die(const char *what, int ret)
{
	fprintf(stderr, "bench_store: %s: %s\n", what, lc_strerror_name(ret));
	exit(1);
}

/* The median of three timed passes of one operation over every key, in ns per op. */
typedef void pass_fn(struct dht_store *s, const struct item *it, const uint32_t *order, unsigned n,
		     unsigned round);

static double timed(pass_fn *fn, struct dht_store *s, const struct item *it, const uint32_t *order,
		    unsigned n, unsigned rounds)
{
	double ns[5];
	for (unsigned r = 0; r < rounds; r++) {
		double t = now_ns();
		fn(s, it, order, n, r);
		ns[r] = (now_ns() - t) / n;
	}
	for (unsigned a = 0; a < rounds; a++) {
		for (unsigned b = a + 1; b < rounds; b++) {
			if (ns[b] < ns[a]) {
				double t = ns[a];
				ns[a] = ns[b];
				ns[b] = t;
			}
		}
	}
	return ns[rounds / 2];
}

static volatile uint64_t sink;

static void pass_refresh(struct dht_store *s, const struct item *it, const uint32_t *order,
			 unsigned n, unsigned round)
{
	for (unsigned i = 0; i < n; i++) {
		const struct item *x = &it[order[i]];
		struct dht_binding *b;
		if (dht_aor_bindings(find(s, x), T0, &b, 1) != 1) {
			die("refresh: binding missing", LC_ENOTFOUND);
		}
		struct dht_binding_data d = data_of(x, T0 + 3600 + round + 1, 2 + round);
		int ret = dht_store_update(s, b, &d);
		if (ret != LC_OK) {
			die("update", ret);
		}
	}
}

/* The writer of the replicated versions (the top half of the owner's id). */
#define OWNER 0x6f776e6572ull

/* A replica merging the owner's refresh: the same record, a new expiry, a newer version (the
 * records were added at version 0, each round is one version up). */
static void pass_merge_refresh(struct dht_store *s, const struct item *it, const uint32_t *order,
			       unsigned n, unsigned round)
{
	for (unsigned i = 0; i < n; i++) {
		const struct item *x = &it[order[i]];
		struct dht_binding_data d = data_of(x, T0 + 7200 + round + 1, 10 + round);
		d.version = round + 1;
		d.writer = OWNER;
		int ret = dht_store_merge(
			s, x->id, x->key, x->key_len, &d, 1,
			&(const struct dht_merge_bounds){T0, UINT64_MAX, UINT32_MAX, UINT32_MAX});
		if (ret != LC_OK) {
			die("merge", ret);
		}
	}
}

/* The digest of the whole shard, as a worker builds it a slice at a time. */
static void pass_digest(struct dht_store *s, const struct item *it, const uint32_t *order,
			unsigned n, unsigned round)
{
	static struct dht_sync_digest dg;
	struct dht_sync_digest *out = &dg;
	const struct dht_sync_range all = {.lo = 0, .hi = 0};
	uint64_t cursor = 0, keys = 0;
	(void)it, (void)order, (void)round;
	dht_sync_digest_init(&dg);
	while (cursor != DHT_STORE_WALK_END) {
		keys += dht_sync_digest_step(s, SEED, &cursor, &all, 1, &out);
	}
	if (keys != n) {
		die("digest: keys missing", LC_ENOTFOUND);
	}
}

static void pass_lookup(struct dht_store *s, const struct item *it, const uint32_t *order,
			unsigned n, unsigned round)
{
	uint64_t acc = 0;
	(void)round;
	for (unsigned i = 0; i < n; i++) {
		acc += read_item(s, &it[order[i]]);
	}
	sink = acc;
}

/* The same lookups as a worker makes them: bursts of 32, index slots prefetched first. */
static void pass_lookup_burst(struct dht_store *s, const struct item *it, const uint32_t *order,
			      unsigned n, unsigned round)
{
	uint64_t acc = 0;
	(void)round;
	for (unsigned i0 = 0; i0 < n; i0 += 32) {
		unsigned end = LC_MIN(n, i0 + 32);
		for (unsigned i = i0; i < end; i++) {
			dht_store_prefetch(s, it[order[i]].id);
		}
		for (unsigned i = i0; i < end; i++) {
			acc += read_item(s, &it[order[i]]);
		}
	}
	sink = acc;
}

struct figures {
	unsigned n;
	double add_ns, refresh_ns, merge_ns, lookup_ns, burst_ns, digest_ns, tomb_ns, remove_ns,
		expire_ns;
	double strings_per_binding;
	struct dht_store_stats st, empty, tombs;
	long rss_before, rss_after;
};

static void fill(struct dht_store *s, const struct item *it, const uint32_t *order, unsigned n,
		 uint32_t exp_spread)
{
	for (unsigned i = 0; i < n; i++) {
		const struct item *x = &it[order[i]];
		struct dht_binding_data d =
			data_of(x, T0 + 60 + (exp_spread ? i % exp_spread : 3540), 1);
		int ret = dht_store_add(s, x->id, x->key, x->key_len, &d);
		if (ret != LC_OK) {
			die("add", ret);
		}
	}
}

static void run(struct figures *f, unsigned n)
{
	struct bench_prng r = {.s = SEED};
	struct item *it = calloc(n, sizeof(*it));
	uint32_t *order = calloc(n, sizeof(*order));
	if (it == NULL || order == NULL) {
		die("calloc", LC_ENOMEM);
	}
	gen(it, n, &r);
	uint64_t strings = 0;
	for (unsigned i = 0; i < n; i++) {
		order[i] = i;
		strings += it[i].key_len + it[i].uri_len + it[i].call_id_len + it[i].instance_len;
	}
	f->n = n;
	f->strings_per_binding = (double)strings / n;
	shuffle(order, n, &r);

	struct dht_store *s = NULL;
	struct dht_store_cfg cfg = {.max_bindings = n};
	f->rss_before = rss_bytes();
	int ret = dht_store_new(&s, &cfg, T0);
	if (ret != LC_OK) {
		die("dht_store_new", ret);
	}
	dht_store_stats_get(s, &f->empty);
	double t = now_ns();
	fill(s, it, order, n, 0);
	f->add_ns = (now_ns() - t) / n;
	f->rss_after = rss_bytes();
	dht_store_stats_get(s, &f->st);

	/*
	 * The passes below take the items in array order: the store saw them in a shuffled order,
	 * so its records are visited at random, while the keys come in sequentially, as a worker's
	 * keys sit in packets already in cache. Only the store's misses are timed.
	 */
	for (unsigned i = 0; i < n; i++) {
		order[i] = i;
	}
	f->refresh_ns = timed(pass_refresh, s, it, order, n, 3);
	f->merge_ns = timed(pass_merge_refresh, s, it, order, n, 3);
	f->lookup_ns = timed(pass_lookup, s, it, order, n, 3);
	f->burst_ns = timed(pass_lookup_burst, s, it, order, n, 3);
	f->digest_ns = timed(pass_digest, s, it, order, n, 3);

	/* an un-REGISTER: the binding becomes a tombstone in place, kept --max-expires (a day) */
	t = now_ns();
	for (unsigned i = 0; i < n; i++) {
		const struct item *x = &it[order[i]];
		struct dht_binding *b;
		if (dht_aor_bindings(find(s, x), T0, &b, 1) != 1) {
			die("tombstone: binding missing", LC_ENOTFOUND);
		}
		dht_store_tombstone(s, b, 1ull << 40, 7, T0 + 86400);
	}
	f->tomb_ns = (now_ns() - t) / n;
	dht_store_stats_get(s, &f->tombs);
	if (f->tombs.tombstones != n || f->tombs.bindings != 0) {
		die("tombstone: counts", LC_EINVAL);
	}

	t = now_ns();
	for (unsigned i = 0; i < n; i++) {
		const struct item *x = &it[order[i]];
		struct dht_binding *b;
		if (dht_aor_records(find(s, x), T0, &b, 1) != 1) {
			die("remove: record missing", LC_ENOTFOUND);
		}
		dht_store_remove(s, b);
	}
	f->remove_ns = (now_ns() - t) / n;

	/* reaping: every binding expires within an hour; the worker catches up after it */
	shuffle(order, n, &r);
	fill(s, it, order, n, 3600);
	unsigned reaped = 0;
	t = now_ns();
	while (reaped < n) {
		reaped += dht_store_expire(s, T0 + 7200, 64);
	}
	f->expire_ns = (now_ns() - t) / n;
	dht_store_free(s);
	free(order);
	free(it);
}

static void report(const struct figures *f, const struct bench_sysinfo *si, const char *cmd)
{
	const struct dht_store_stats *st = &f->st;
	double n = f->n;
	double own = (double)st->bytes_used / n, rss = (double)(f->rss_after - f->rss_before) / n;
	printf("bench_store: %u bindings (one per AOR), %s on %s (%ld CPUs), %s\n", f->n,
	       si->machine, si->cpu, si->nproc, si->compiler);
	printf("  started %s, kernel %s, load average at start %s\n", si->date, si->kernel,
	       si->loadavg);
	printf("\nop                               ns/op\n");
	printf("add (new AOR)                 %8.1f\n", f->add_ns);
	printf("refresh (find + update)       %8.1f   median of 3 passes\n", f->refresh_ns);
	printf("replica refresh (merge)       %8.1f   median of 3 passes\n", f->merge_ns);
	printf("lookup (find + bindings+read) %8.1f   median of 3 passes\n", f->lookup_ns);
	printf("lookup, bursts of 32 with\n");
	printf("  dht_store_prefetch          %8.1f   median of 3 passes\n", f->burst_ns);
	printf("digest of the shard, per key  %8.1f   median of 3 passes\n", f->digest_ns);
	printf("un-REGISTER (find + tombstone)%8.1f\n", f->tomb_ns);
	printf("forget (find + remove)        %8.1f\n", f->remove_ns);
	printf("expire (wheel reaps, 64/call) %8.1f   per binding\n", f->expire_ns);
	printf("\nmemory per binding                 bytes\n");
	printf("strings (key+uri+call-id+inst)  %7.1f   the data itself\n", f->strings_per_binding);
	printf("store accounting (bytes_used)   %7.1f   overhead %.1f over the strings\n", own,
	       own - f->strings_per_binding);
	printf("  index + store struct          %7.1f\n", (double)st->bytes_index / n);
	printf("  records (AOR + binding)       %7.1f\n", (double)st->bytes_records / n);
	printf("  var bytes                     %7.1f   %.1f over the strings: block headers, rounding,\n",
	       (double)st->bytes_var / n, (double)st->bytes_var / n - f->strings_per_binding);
	printf("                                          key lengths and versions, record headers\n");
	printf("                                          (version, writer), IPv6 sources\n");
	printf("RSS growth (statm)              %7.1f\n", rss);
	printf("a tombstone (un-REGISTER)       %7.1f   store accounting per tombstone, all %u\n",
	       (double)f->tombs.bytes_used / n, f->n);
	printf("                                          removed: the record it was, kept in place\n");
	printf("                                          until --max-expires\n");
	printf("reserved address space          %7.1f\n", (double)st->bytes_reserved / n);
	printf("\nJSON {\"bench\":\"store\",\"date\":\"%s\",\"machine\":\"%s\",\"cpu\":\"%s\","
	       "\"nproc\":%ld,\"kernel\":\"%s\",\"compiler\":\"%s\",\"build\":\"%s\",\"cmd\":\"%s\","
	       "\"bindings\":%u,\"add_ns\":%.1f,\"refresh_ns\":%.1f,\"merge_ns\":%.1f,"
	       "\"lookup_ns\":%.1f,\"burst_ns\":%.1f,\"digest_ns\":%.1f,\"tomb_ns\":%.1f,"
	       "\"remove_ns\":%.1f,\"tomb_b\":%.1f,"
	       "\"expire_ns\":%.1f,\"strings_b\":%.1f,\"own_b\":%.1f,"
	       "\"rss_b\":%.1f,\"index_b\":%.1f,\"records_b\":%.1f,\"var_b\":%.1f}\n",
	       si->date, si->machine, si->cpu, si->nproc, si->kernel, si->compiler,
#ifdef BENCH_BUILDTYPE
	       BENCH_BUILDTYPE,
#else
	       "unknown",
#endif
	       cmd, f->n, f->add_ns, f->refresh_ns, f->merge_ns, f->lookup_ns, f->burst_ns,
	       f->digest_ns, f->tomb_ns, f->remove_ns, (double)f->tombs.bytes_used / n,
	       f->expire_ns, f->strings_per_binding, own, rss, (double)st->bytes_index / n,
	       (double)st->bytes_records / n, (double)st->bytes_var / n);
}

int main(int argc, char **argv)
{
	unsigned n = 1000000;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			n = (unsigned)strtoul(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "usage: bench_store [--count N]\n");
			return 2;
		}
	}
	if (n < 2) {
		fprintf(stderr, "bench_store: --count must be at least 2\n");
		return 2;
	}
	char cmd[256] = "";
	for (int i = 0; i < argc; i++) {
		size_t len = strlen(cmd);
		snprintf(cmd + len, sizeof(cmd) - len, "%s%s", i ? " " : "", argv[i]);
	}
	struct bench_sysinfo si;
	bench_sysinfo_get(&si);
	struct figures f;
	memset(&f, 0, sizeof(f));
	run(&f, n);
	report(&f, &si, cmd);
	return 0;
}
