/* SPDX-License-Identifier: MIT */
/*
 * dht_store_merge as a join (dht/dht_store.h): merging copies of keys record by record must be
 * commutative, associative and idempotent, give copies with the same records the same digest
 * share, and take exactly what the contract says: per identity the greatest (version, writer),
 * ties broken by writer, tombstones beating older records and losing to newer ones, a CLEARED
 * record removing everything at or below it and nothing above, and no record that is expired or
 * beyond max_version (counted in stats.future). Then everything expires through dht_store_expire,
 * tombstones at their own expires_at_s, and the memory figures return to an empty store's.
 *
 * How it works: a trial draws a small universe: 2 or 3 keys (now and then two of them under one
 * id), each with 1 to 6 identities (a +sip.instance with a reg-id, two of which may share the
 * instance, or a contact URI), and for each identity a few records at versions 1..MAXV + 1 by
 * writers 1 and 2, LIVE or REMOVED, a few expired; plus up to two CLEARED records a key. A record's
 * strings follow from (identity, version, writer), as one write's do. Sets A, B and C are random
 * subsets of the universe in random order, some records twice. Each set is merged into fresh
 * stores in different orders, every key's records are read back at a fixed now (dht_aor_records,
 * dht_binding_read) into a canonical sorted text, and the texts are compared with each other and
 * with the join computed directly from the union. The trials run twice: once with every CLEARED
 * record's (version, writer) distinct from the other records of its key, as when a version names
 * one write, and once allowing a CLEARED record to tie with another record's (version, writer),
 * which the contract ("at or below it") also decides. Fixed seeds: every run is the same.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/lc_error.h"
#include "dht/dht_store.h"
#include "tests/prng.h"
#include "tests/tap.h"
#include "tests/unit/dht/merge_bounds.h"

#define T0 1700000000u
#define SEED 0x3e76ull
#define MAXV 5 /* max_version of every merge: versions 1..MAXV are taken, MAXV + 1 is not */
#define TRIALS 20000

static struct dht_store *new_store(void)
{
	struct dht_store *s = NULL;
	struct dht_store_cfg cfg = {.max_bindings = 256};
	if (dht_store_new(&s, &cfg, T0) != LC_OK) {
		printf("Bail out! dht_store_new failed\n");
		exit(1);
	}
	return s;
}

/* Now, for every merge and read: T0 for the directed cases, then later for each trial, so that a
 * store reused across trials never sees time go back (its wheel has moved on). */
static uint32_t T = T0;

static struct dht_store_stats stats(const struct dht_store *s)
{
	struct dht_store_stats st;
	dht_store_stats_get(s, &st);
	return st;
}

static struct dht_bytes bs(const char *p)
{
	return (struct dht_bytes){.p = p, .len = (uint32_t)strlen(p)};
}

/* ---- the universe ---- */

enum { U_KEYS = 3, U_IDS = 6, U_RECS = 64, U_SET = 2 * U_RECS };

/* One record of the universe. Owner: the trial. */
struct u_rec {
	uint8_t key;
	uint8_t kind;
	int8_t ident; /* identity within the key; -1 for a CLEARED record */
	uint64_t version, writer;
	uint32_t exp;
	uint32_t reg_id;
	char uri[48], call_id[48], instance[32];
};

struct universe {
	unsigned nkeys;
	char key[U_KEYS][32];
	dht_id_t id[U_KEYS];
	unsigned nrec;
	struct u_rec rec[U_RECS];
};

/* A record set: universe indices (some repeated) in merge order. */
struct u_set {
	unsigned n;
	uint16_t r[U_SET];
};

static bool vw_used(const struct universe *u, unsigned key, int ident, bool any_kind, uint64_t v,
		    uint64_t w)
{
	for (unsigned i = 0; i < u->nrec; i++) {
		const struct u_rec *r = &u->rec[i];
		if (r->key == key && (any_kind || r->ident == ident) && r->version == v &&
		    r->writer == w) {
			return true;
		}
	}
	return false;
}

static uint32_t draw_exp(void)
{
	return below(8) == 0 ? T - below(3) : T + 1 + below(100);
}

/* Draw a universe; @p ties: a CLEARED record may share its (version, writer) with another
 * record of its key. */
static void u_gen(struct universe *u, bool ties)
{
	memset(u, 0, sizeof(*u));
	u->nkeys = 2 + below(2);
	for (unsigned k = 0; k < u->nkeys; k++) {
		snprintf(u->key[k], sizeof(u->key[k]), "sip:k%u@merge.example", k);
		u->id[k] = dht_key_of(u->key[k], strlen(u->key[k]), SEED);
	}
	if (below(8) == 0) {
		u->id[1] = u->id[0]; /* two keys under one id stay apart */
	}
	for (unsigned k = 0; k < u->nkeys; k++) {
		unsigned nid = 1 + below(U_IDS);
		uint32_t inst[U_IDS], reg[U_IDS];
		bool has_inst[U_IDS];
		for (unsigned j = 0; j < nid; j++) {
			has_inst[j] = below(2) == 0;
			inst[j] = below(2);
			reg[j] = below(3);
			for (unsigned i = 0; i < j && has_inst[j]; i++) {
				if (has_inst[i] && inst[i] == inst[j] && reg[i] == reg[j]) {
					has_inst[j] = false; /* that identity is taken: a URI one */
				}
			}
			for (unsigned m = 1 + below(4); m > 0; m--) {
				uint64_t v = 1 + below(MAXV + 1), w = 1 + below(2);
				if (vw_used(u, k, (int)j, false, v, w)) {
					continue; /* one record per (identity, version, writer) */
				}
				struct u_rec *r = &u->rec[u->nrec++];
				r->key = (uint8_t)k;
				r->ident = (int8_t)j;
				r->version = v;
				r->writer = w;
				r->kind = below(4) == 0 ? DHT_REC_REMOVED : DHT_REC_LIVE;
				r->exp = draw_exp();
				if (has_inst[j]) {
					snprintf(r->instance, sizeof(r->instance),
						 "\"<urn:uuid:%u-%u>\"", k, inst[j]);
					r->reg_id = reg[j];
					/* an instance's contact may change from version to version */
					snprintf(r->uri, sizeof(r->uri), "sip:i%u@198.51.100.%u:%u",
						 j, (unsigned)v, (unsigned)w);
				} else {
					snprintf(r->uri, sizeof(r->uri), "sip:u%u-%u@192.0.2.1", k,
						 j);
				}
				snprintf(r->call_id, sizeof(r->call_id), "c%u.%u.%u.%u", k, j,
					 (unsigned)v, (unsigned)w);
			}
		}
		for (unsigned m = below(3); m > 0; m--) {
			uint64_t v = 1 + below(MAXV + 1), w = 1 + below(2);
			if (vw_used(u, k, -1, false, v, w) ||
			    (!ties && vw_used(u, k, -1, true, v, w))) {
				continue;
			}
			struct u_rec *r = &u->rec[u->nrec++];
			r->key = (uint8_t)k;
			r->ident = -1;
			r->kind = DHT_REC_CLEARED;
			r->version = v;
			r->writer = w;
			r->exp = draw_exp();
		}
	}
}

static void u_set_gen(const struct universe *u, struct u_set *x)
{
	x->n = 0;
	for (unsigned i = 0; i < u->nrec; i++) {
		if (below(5) < 2) {
			x->r[x->n++] = (uint16_t)i;
			if (below(10) == 0) {
				x->r[x->n++] = (uint16_t)i;
			}
		}
	}
	for (unsigned i = x->n; i > 1; i--) {
		unsigned j = below(i);
		uint16_t t = x->r[i - 1];
		x->r[i - 1] = x->r[j];
		x->r[j] = t;
	}
}

static struct dht_binding_data u_data(const struct u_rec *r)
{
	struct dht_binding_data d;
	memset(&d, 0, sizeof(d));
	d.uri = bs(r->uri);
	d.call_id = bs(r->call_id);
	d.instance = bs(r->instance);
	d.path = bs("");
	d.attrs = bs("");
	d.reg_id = r->reg_id;
	d.expires_at_s = r->exp;
	d.registered_at_s = T - 100;
	d.cseq = (uint32_t)r->version;
	d.q = -1;
	d.version = r->version;
	d.writer = r->writer;
	d.kind = r->kind;
	return d;
}

/* ---- merging and reading back ---- */

static uint64_t future_sent; /* records merged with a version above MAXV, over all merges */

/* Merge the records of @p x into @p s, key by key, in the set's order; @p ret gets each key's
 * return code (may be NULL). */
static void merge_set(struct dht_store *s, const struct universe *u, const struct u_set *x,
		      int *ret)
{
	for (unsigned k = 0; k < u->nkeys; k++) {
		struct dht_binding_data d[U_SET];
		unsigned n = 0;
		for (unsigned i = 0; i < x->n; i++) {
			const struct u_rec *r = &u->rec[x->r[i]];
			if (r->key == k) {
				d[n++] = u_data(r);
				future_sent += r->version > MAXV;
			}
		}
		int rc = dht_store_merge(s, u->id[k], u->key[k], strlen(u->key[k]), d, n,
					 BOUNDS(T, MAXV));
		if (ret != NULL) {
			ret[k] = rc;
		}
	}
}

/* Merge into @p to every record @p from holds at T: a copy read back, as replication sends it.
 * Returns whether every merge answered LC_OK or LC_ESTALE. */
static bool merge_store(struct dht_store *to, struct dht_store *from, const struct universe *u)
{
	bool good = true;
	for (unsigned k = 0; k < u->nkeys; k++) {
		struct dht_aor *a = dht_store_find(from, u->id[k], u->key[k], strlen(u->key[k]));
		struct dht_binding *b[U_SET];
		struct dht_binding_data d[U_SET];
		unsigned n = a != NULL ? dht_aor_records(a, T, b, U_SET) : 0;
		for (unsigned i = 0; i < n; i++) {
			dht_binding_read(b[i], &d[i]);
		}
		int rc = dht_store_merge(to, u->id[k], u->key[k], strlen(u->key[k]), d, n,
					 BOUNDS(T, MAXV));
		good &= rc == LC_OK ||
			rc == LC_ESTALE; /* a copy read back holds no future record */
	}
	return good;
}

/* One record as a line of text: kind, identity, version, writer, expiry, URI, Call-ID. */
static void line_of(const struct dht_binding_data *d, char *buf, size_t size)
{
	char ident[96];
	if (d->kind == DHT_REC_CLEARED) {
		snprintf(ident, sizeof(ident), "*");
	} else if (d->instance.len > 0) {
		snprintf(ident, sizeof(ident), "I:%.*s;%u", (int)d->instance.len, d->instance.p,
			 d->reg_id);
	} else {
		snprintf(ident, sizeof(ident), "U:%.*s", (int)d->uri.len, d->uri.p);
	}
	snprintf(buf, size, "%u %s v%llu w%llu e%u %.*s %.*s", d->kind, ident,
		 (unsigned long long)d->version, (unsigned long long)d->writer, d->expires_at_s,
		 (int)d->uri.len, d->uri.p, (int)d->call_id.len, d->call_id.p);
}

enum { LINE = 200, CANON = U_SET * LINE };

static int cmp_line(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* @p n lines of @p lines, sorted and joined after a header, into @p out. */
static void join_lines(char (*lines)[LINE], unsigned n, unsigned live, char *out, size_t size)
{
	qsort(lines, n, LINE, cmp_line);
	size_t len = (size_t)snprintf(out, size, "%u records, %u live\n", n, live);
	for (unsigned i = 0; i < n && len < size; i++) {
		len += (size_t)snprintf(out + len, size - len, "  %s\n", lines[i]);
	}
}

/* Key @p k of @p s, canonical: its record count and live count, then its records read at T,
 * sorted; "absent" when the store has no such key. */
static void canon_key(struct dht_store *s, const struct universe *u, unsigned k, char *out,
		      size_t size)
{
	static char lines[U_SET][LINE];
	struct dht_aor *a = dht_store_find(s, u->id[k], u->key[k], strlen(u->key[k]));
	if (a == NULL) {
		snprintf(out, size, "absent\n");
		return;
	}
	struct dht_binding *b[U_SET];
	unsigned n = dht_aor_records(a, T, b, U_SET), live = 0;
	for (unsigned i = 0; i < n; i++) {
		struct dht_binding_data d;
		dht_binding_read(b[i], &d);
		line_of(&d, lines[i], LINE);
		live += d.kind == DHT_REC_LIVE;
	}
	join_lines(lines, n, live, out, size);
	/* what is held but not read (nothing merged is past expiry at T) shows as a mismatch */
	if (dht_aor_count(a) != n || dht_aor_live_count(a) != live) {
		size_t len = strlen(out);
		snprintf(out + len, size - len, "  held %u, live %u\n", dht_aor_count(a),
			 dht_aor_live_count(a));
	}
}

static bool valid(const struct u_rec *r)
{
	return r->exp > T && r->version <= MAXV;
}

/* Key @p k of the join of the sets @p xs, computed from the contract: the highest valid CLEARED
 * record, and for each identity its highest valid record above that one. */
static void model_key(const struct universe *u, const struct u_set *const *xs, unsigned nx,
		      unsigned k, char *out, size_t size)
{
	static char lines[U_SET][LINE];
	const struct u_rec *fl = NULL, *best[U_IDS] = {NULL};
	for (unsigned s = 0; s < nx; s++) {
		for (unsigned i = 0; i < xs[s]->n; i++) {
			const struct u_rec *r = &u->rec[xs[s]->r[i]];
			if (r->key == k && r->kind == DHT_REC_CLEARED && valid(r) &&
			    (fl == NULL ||
			     dht_rec_newer(r->version, r->writer, fl->version, fl->writer))) {
				fl = r;
			}
		}
	}
	for (unsigned s = 0; s < nx; s++) {
		for (unsigned i = 0; i < xs[s]->n; i++) {
			const struct u_rec *r = &u->rec[xs[s]->r[i]];
			if (r->key != k || r->kind == DHT_REC_CLEARED || !valid(r) ||
			    (fl != NULL &&
			     !dht_rec_newer(r->version, r->writer, fl->version, fl->writer))) {
				continue;
			}
			const struct u_rec **b = &best[r->ident];
			if (*b == NULL ||
			    dht_rec_newer(r->version, r->writer, (*b)->version, (*b)->writer)) {
				*b = r;
			}
		}
	}
	unsigned n = 0, live = 0;
	for (unsigned j = 0; j < U_IDS; j++) {
		if (best[j] != NULL) {
			struct dht_binding_data d = u_data(best[j]);
			line_of(&d, lines[n++], LINE);
			live += d.kind == DHT_REC_LIVE;
		}
	}
	if (fl != NULL) {
		struct dht_binding_data d = u_data(fl);
		line_of(&d, lines[n++], LINE);
	}
	if (n == 0) {
		snprintf(out, size, "absent\n");
		return;
	}
	join_lines(lines, n, live, out, size);
}

/* ---- the properties ---- */

/* Failures of one property, with the first one described. */
struct prop {
	const char *name;
	unsigned fails, seen;
	char first[8192]; /* the first failure, described */
};

static void prop_fail(struct prop *p, unsigned trial, unsigned k, const char *a, const char *b)
{
	if (p->fails++ == 0) {
		/* each side cut at 4000 bytes: a key's records are far fewer */
		snprintf(p->first, sizeof(p->first),
			 "trial %u, key %u:\n%.4000s--- vs ---\n%.4000s", trial, k, a, b);
	}
}

static void prop_report(const struct prop *p, const char *pass)
{
	if (!ok(p->fails == 0 && p->seen > 0, "%s: %s (%u of %u checks failed)", pass, p->name,
		p->fails, p->seen)) {
		/* the first failure, as TAP comments */
		const char *q = p->first;
		while (*q != '\0') {
			const char *nl = strchr(q, '\n');
			int len = nl != NULL ? (int)(nl - q) : (int)strlen(q);
			printf("#   %.*s\n", len, q);
			q += len + (nl != NULL);
		}
	}
}

/* Compare key by key: the canonical texts, and the digest shares of keys whose texts agree. */
static void compare(struct prop *p, struct prop *share, unsigned trial, const struct universe *u,
		    struct dht_store *a, struct dht_store *b)
{
	static char ca[CANON], cb[CANON];
	for (unsigned k = 0; k < u->nkeys; k++) {
		canon_key(a, u, k, ca, sizeof(ca));
		canon_key(b, u, k, cb, sizeof(cb));
		p->seen++;
		if (strcmp(ca, cb) != 0) {
			prop_fail(p, trial, k, ca, cb);
			continue;
		}
		struct dht_aor *x = dht_store_find(a, u->id[k], u->key[k], strlen(u->key[k]));
		struct dht_aor *y = dht_store_find(b, u->id[k], u->key[k], strlen(u->key[k]));
		if (x != NULL && y != NULL) {
			share->seen++;
			if (dht_aor_sync_hash(x) != dht_aor_sync_hash(y)) {
				prop_fail(share, trial, k, ca, "the same records, another share\n");
			}
		}
	}
}

static void compare_model(struct prop *p, unsigned trial, const struct universe *u,
			  struct dht_store *s, const struct u_set *const *xs, unsigned nx)
{
	static char cs[CANON], cm[CANON];
	for (unsigned k = 0; k < u->nkeys; k++) {
		canon_key(s, u, k, cs, sizeof(cs));
		model_key(u, xs, nx, k, cm, sizeof(cm));
		p->seen++;
		if (strcmp(cs, cm) != 0) {
			prop_fail(p, trial, k, cs, cm);
		}
	}
}

/* The statistics agree with what the keys hold, and each key's version is at least its records'
 * and at most MAXV. */
static void check_stats(struct prop *p, unsigned trial, const struct universe *u,
			struct dht_store *s)
{
	uint64_t keys = 0, live = 0, tombs = 0;
	bool versions = true;
	for (unsigned k = 0; k < u->nkeys; k++) {
		struct dht_aor *a = dht_store_find(s, u->id[k], u->key[k], strlen(u->key[k]));
		if (a == NULL) {
			continue;
		}
		keys++;
		live += dht_aor_live_count(a);
		tombs += dht_aor_count(a) - dht_aor_live_count(a);
		struct dht_binding *b[U_SET];
		unsigned n = dht_aor_records(a, 0, b, U_SET);
		for (unsigned i = 0; i < n; i++) {
			struct dht_binding_data d;
			dht_binding_read(b[i], &d);
			versions &= d.version <= dht_aor_version(a);
		}
		versions &= dht_aor_version(a) <= MAXV;
	}
	struct dht_store_stats st = stats(s);
	p->seen++;
	if (!versions || st.aors != keys || st.bindings != live || st.tombstones != tombs ||
	    st.bytes_used != st.bytes_index + st.bytes_records + st.bytes_var) {
		char buf[200];
		snprintf(buf, sizeof(buf),
			 "stats: %llu keys, %llu bindings, %llu tombstones; held: %llu, %llu, "
			 "%llu; versions %s\n",
			 (unsigned long long)st.aors, (unsigned long long)st.bindings,
			 (unsigned long long)st.tombstones, (unsigned long long)keys,
			 (unsigned long long)live, (unsigned long long)tombs,
			 versions ? "right" : "wrong");
		prop_fail(p, trial, 0, buf, "");
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Let time run through every expiry held: after each, every key holds exactly its records
 * that expire later (a tombstone is reaped at its expires_at_s, not before); at the end the
 * store's figures are an empty store's. */
static void check_expiry(struct prop *p, unsigned trial, const struct universe *u,
			 struct dht_store *s, const struct dht_store_stats *empty)
{
	uint32_t when[U_KEYS * U_SET];
	uint32_t exp[U_KEYS][U_SET];
	unsigned nwhen = 0, nexp[U_KEYS] = {0};
	for (unsigned k = 0; k < u->nkeys; k++) {
		struct dht_aor *a = dht_store_find(s, u->id[k], u->key[k], strlen(u->key[k]));
		struct dht_binding *b[U_SET];
		unsigned n = a != NULL ? dht_aor_records(a, 0, b, U_SET) : 0;
		for (unsigned i = 0; i < n; i++) {
			struct dht_binding_data d;
			dht_binding_read(b[i], &d);
			exp[k][nexp[k]++] = d.expires_at_s;
			when[nwhen++] = d.expires_at_s;
		}
	}
	qsort(when, nwhen, sizeof(when[0]), cmp_u32);
	bool good = true;
	char why[200] = "";
	for (unsigned w = 0; w < nwhen && good; w++) {
		if (w > 0 && when[w] == when[w - 1]) {
			continue;
		}
		/* a second before: nothing of this time goes */
		for (int late = 1; late >= 0 && good; late--) {
			uint32_t t = when[w] - (uint32_t)late;
			while (dht_store_expire(s, t, 3) > 0) {
			}
			for (unsigned k = 0; k < u->nkeys && good; k++) {
				unsigned want = 0;
				for (unsigned i = 0; i < nexp[k]; i++) {
					want += exp[k][i] > t;
				}
				struct dht_aor *a =
					dht_store_find(s, u->id[k], u->key[k], strlen(u->key[k]));
				unsigned held = a != NULL ? dht_aor_count(a) : 0;
				if (held != want || (a != NULL) != (want > 0)) {
					good = false;
					snprintf(why, sizeof(why),
						 "at T%+d key %u holds %u records, want %u\n",
						 (int)(t - T), k, held, want);
				}
			}
		}
	}
	struct dht_store_stats st = stats(s);
	if (good && (st.aors != 0 || st.bindings != 0 || st.tombstones != 0 ||
		     st.bytes_used != empty->bytes_used || st.bytes_var != empty->bytes_var ||
		     st.bytes_records != empty->bytes_records)) {
		good = false;
		snprintf(why, sizeof(why), "after the last expiry: %llu bytes used, empty %llu\n",
			 (unsigned long long)st.bytes_used, (unsigned long long)empty->bytes_used);
	}
	p->seen++;
	if (!good) {
		prop_fail(p, trial, 0, why, "");
	}
}

/* The properties, each with its failures. */
struct props {
	struct prop comm, assoc, idem, model, share, st, fut, exp, forget;
};

/* Every key of @p s, canonical, one after the other. */
static void canon_all(struct dht_store *s, const struct universe *u, char *out, size_t size)
{
	size_t len = 0;
	out[0] = '\0';
	for (unsigned k = 0; k < u->nkeys && len < size; k++) {
		canon_key(s, u, k, out + len, size - len);
		len += strlen(out + len);
	}
}

/* Each key's merge answered LC_ESTALE (or LC_EFUTURE: the set held records above max_version,
 * refused again; that nothing changed is checked on the store itself). */
static void all_stale(struct prop *p, unsigned trial, const struct universe *u, const int *ret,
		      const char *what)
{
	for (unsigned k = 0; k < u->nkeys; k++) {
		p->seen++;
		if (ret[k] != LC_ESTALE && ret[k] != LC_EFUTURE) {
			prop_fail(p, trial, k, lc_strerror_name(ret[k]), what);
		}
	}
}

/* A then B against B then A, merging B twice on the way (idempotence). */
static void trial_comm(struct props *p, unsigned trial, const struct universe *u,
		       const struct u_set *a, const struct u_set *b, struct dht_store *s_ab,
		       struct dht_store *s_ba)
{
	static char c1[U_KEYS * CANON], c2[U_KEYS * CANON];
	const struct u_set *ab[2] = {a, b};
	int ret[U_KEYS];
	merge_set(s_ab, u, a, NULL);
	merge_set(s_ab, u, b, NULL);
	merge_set(s_ba, u, b, NULL);
	struct dht_store_stats before = stats(s_ba);
	canon_all(s_ba, u, c1, sizeof(c1));
	merge_set(s_ba, u, b, ret);
	struct dht_store_stats after = stats(s_ba);
	canon_all(s_ba, u, c2, sizeof(c2));
	all_stale(&p->idem, trial, u, ret, "LC_ESTALE (B twice)\n");
	p->idem.seen++;
	if (strcmp(c1, c2) != 0 || after.bytes_used != before.bytes_used ||
	    after.bindings != before.bindings || after.tombstones != before.tombstones) {
		prop_fail(&p->idem, trial, 0, c1, c2);
	}
	merge_set(s_ba, u, a, NULL);
	compare(&p->comm, &p->share, trial, u, s_ab, s_ba);
	compare_model(&p->model, trial, u, s_ab, ab, 2);
}

/* (A, B), C in sequence, against A, then B and C merged apart and read back, and against
 * (A, B) read back, then C; then A again changes nothing. */
static void trial_assoc(struct props *p, unsigned trial, const struct universe *u,
			const struct u_set *const abc[3], struct dht_store *s_ab,
			struct dht_store *s_abc, struct dht_store *t_bc, struct dht_store *s_a_bc,
			struct dht_store *s_ab_c)
{
	int ret[U_KEYS];
	uint64_t sent = future_sent, counted = stats(s_abc).future;
	for (unsigned i = 0; i < 3; i++) {
		merge_set(s_abc, u, abc[i], NULL);
	}
	p->fut.seen++;
	if (stats(s_abc).future - counted != future_sent - sent) {
		prop_fail(&p->fut, trial, 0, "stats.future differs from the records sent\n", "");
	}
	merge_set(t_bc, u, abc[1], NULL);
	merge_set(t_bc, u, abc[2], NULL);
	merge_set(s_a_bc, u, abc[0], NULL);
	p->assoc.seen++;
	if (!merge_store(s_a_bc, t_bc, u) || !merge_store(s_ab_c, s_ab, u)) {
		prop_fail(&p->assoc, trial, 0, "a copy read back was refused\n", "");
	}
	merge_set(s_ab_c, u, abc[2], NULL);
	compare(&p->assoc, &p->share, trial, u, s_abc, s_a_bc);
	compare(&p->assoc, &p->share, trial, u, s_abc, s_ab_c);
	compare_model(&p->model, trial, u, s_abc, abc, 3);
	check_stats(&p->st, trial, u, s_abc);
	check_stats(&p->st, trial, u, s_a_bc);
	merge_set(s_ab_c, u, abc[0], ret);
	all_stale(&p->idem, trial, u, ret, "LC_ESTALE (A again after (A, B), C)\n");
}

/* Forget every key of @p s: every byte must come back. */
static void forget_all(struct props *p, unsigned trial, const struct universe *u,
		       struct dht_store *s, const struct dht_store_stats *empty)
{
	for (unsigned k = 0; k < u->nkeys; k++) {
		struct dht_aor *x = dht_store_find(s, u->id[k], u->key[k], strlen(u->key[k]));
		if (x != NULL) {
			dht_store_remove_aor(s, x);
		}
	}
	struct dht_store_stats e = stats(s);
	p->forget.seen++;
	if (e.aors != 0 || e.bindings != 0 || e.tombstones != 0 ||
	    e.bytes_used != empty->bytes_used) {
		prop_fail(&p->forget, trial, 0, "bytes left after dht_store_remove_aor\n", "");
	}
}

static void run_trials(bool ties, uint64_t seed)
{
	const char *pass = ties ? "with CLEARED ties" : "one write per version";
	struct props p = {
		.comm = {.name = "merging A then B equals B then A"},
		.assoc = {.name = "(A, B), C equals A, (B, C) and (A, B) read back, then C"},
		.idem = {.name = "merging a set twice: LC_ESTALE, nothing changes"},
		.model = {.name = "the merge of A, B, C is the join the contract defines"},
		.share = {.name = "keys with the same records have the same digest share"},
		.st = {.name = "stats and key versions agree with the records held"},
		.fut = {.name = "stats.future counts every record above max_version"},
		.exp = {.name = "everything expires at its time, and every byte comes back"},
		.forget = {.name = "forgetting every key gives every byte back"},
	};
	rng_s = seed;
	static struct universe u;
	struct u_set a, b, c;
	const struct u_set *const abc[3] = {&a, &b, &c};
	/* six stores, emptied after each trial (by expiry or by forgetting their keys) */
	struct dht_store *s[6];
	for (unsigned i = 0; i < 6; i++) {
		s[i] = new_store();
	}
	struct dht_store_stats empty = stats(s[0]);
	for (unsigned trial = 0; trial < TRIALS; trial++) {
		T = T0 + 1000 + trial * 256; /* expiries are at most T + 100 */
		u_gen(&u, ties);
		u_set_gen(&u, &a);
		u_set_gen(&u, &b);
		u_set_gen(&u, &c);
		trial_comm(&p, trial, &u, &a, &b, s[0], s[1]);
		trial_assoc(&p, trial, &u, abc, s[0], s[2], s[3], s[4], s[5]);
		check_expiry(&p.exp, trial, &u, s[2], &empty);
		for (unsigned i = 0; i < 6; i++) {
			forget_all(&p, trial, &u, s[i], &empty);
		}
	}
	for (unsigned i = 0; i < 6; i++) {
		dht_store_free(s[i]);
	}
	struct prop *all[] = {&p.comm, &p.assoc, &p.idem, &p.model, &p.share,
			      &p.st,   &p.fut,	 &p.exp,  &p.forget};
	for (unsigned i = 0; i < LC_ARRAY_SIZE(all); i++) {
		prop_report(all[i], pass);
	}
}

/* ---- directed cases ---- */

#define KEY "sip:directed@merge.example"

static int merge1(struct dht_store *s, const struct dht_binding_data *d, unsigned n,
		  uint64_t max_version)
{
	return dht_store_merge(s, dht_key_of(KEY, strlen(KEY), SEED), KEY, strlen(KEY), d, n,
			       BOUNDS(T, max_version));
}

static struct dht_aor *find1(struct dht_store *s)
{
	return dht_store_find(s, dht_key_of(KEY, strlen(KEY), SEED), KEY, strlen(KEY));
}

static struct dht_binding_data rec(const char *uri, uint8_t kind, uint64_t v, uint64_t w)
{
	struct dht_binding_data d;
	memset(&d, 0, sizeof(d));
	d.uri = bs(uri);
	d.call_id = bs("c");
	d.instance = bs("");
	d.path = bs("");
	d.attrs = bs("");
	d.expires_at_s = T + 100;
	d.q = -1;
	d.kind = kind;
	d.version = v;
	d.writer = w;
	if (kind == DHT_REC_CLEARED) {
		d.uri = d.call_id = bs("");
	}
	return d;
}

/* The one record of @p s's key with URI @p uri (or the CLEARED one when @p uri is NULL), read
 * into @p out; false when there is none. */
static bool held(struct dht_store *s, const char *uri, struct dht_binding_data *out)
{
	struct dht_aor *a = find1(s);
	struct dht_binding *b[16];
	unsigned n = a != NULL ? dht_aor_records(a, T, b, 16) : 0;
	for (unsigned i = 0; i < n; i++) {
		dht_binding_read(b[i], out);
		if (uri == NULL ? out->kind == DHT_REC_CLEARED
				: out->kind != DHT_REC_CLEARED && out->uri.len == strlen(uri) &&
					  memcmp(out->uri.p, uri, out->uri.len) == 0) {
			return true;
		}
	}
	return false;
}

static void test_rec_newer(void)
{
	ok(dht_rec_newer(2, 0, 1, 9) && !dht_rec_newer(1, 9, 2, 0),
	   "a higher version is newer whatever the writers");
	ok(dht_rec_newer(5, 2, 5, 1) && !dht_rec_newer(5, 1, 5, 2),
	   "at one version, the higher writer is newer");
	ok(!dht_rec_newer(5, 1, 5, 1), "a record is not newer than itself");
	ok(dht_rec_newer(UINT64_MAX, 0, UINT64_MAX - 1, UINT64_MAX) &&
		   dht_rec_newer(0, UINT64_MAX, 0, UINT64_MAX - 1) && !dht_rec_newer(0, 0, 0, 0),
	   "at the ends of uint64");
}

static void test_directed(void)
{
	struct dht_store *s = new_store();
	struct dht_binding_data r, d[3];

	/* a tombstone against adds */
	d[0] = rec("sip:x@192.0.2.1", DHT_REC_REMOVED, 5, 1);
	is_int(merge1(s, d, 1, MAXV), LC_OK, "a REMOVED record for an identity not held is taken");
	d[0] = rec("sip:x@192.0.2.1", DHT_REC_LIVE, 4, 2);
	d[1] = rec("sip:x@192.0.2.1", DHT_REC_LIVE, 5, 1);
	ok(merge1(s, d, 2, MAXV) == LC_ESTALE && held(s, "sip:x@192.0.2.1", &r) &&
		   r.kind == DHT_REC_REMOVED && r.version == 5,
	   "the tombstone beats an older add and an add at its own version and writer");
	d[0] = rec("sip:x@192.0.2.1", DHT_REC_LIVE, 5, 2);
	ok(merge1(s, d, 1, MAXV) == LC_OK && held(s, "sip:x@192.0.2.1", &r) &&
		   r.kind == DHT_REC_LIVE && r.writer == 2 && dht_aor_live_count(find1(s)) == 1,
	   "and loses to a newer one (the same version by a higher writer)");
	d[0] = rec("sip:x@192.0.2.1", DHT_REC_REMOVED, 5, 1);
	ok(merge1(s, d, 1, MAXV) == LC_ESTALE && held(s, "sip:x@192.0.2.1", &r) &&
		   r.kind == DHT_REC_LIVE,
	   "a tombstone of a lower writer at that version loses to the add");
	dht_store_remove_aor(s, find1(s));

	/* CLEARED: everything at or below it goes, nothing above */
	d[0] = rec("sip:lo@192.0.2.1", DHT_REC_LIVE, 2, 2);
	d[1] = rec("sip:eq@192.0.2.2", DHT_REC_LIVE, 3, 0);
	d[2] = rec("sip:hi@192.0.2.3", DHT_REC_REMOVED, 3, 2);
	is_int(merge1(s, d, 3, MAXV), LC_OK, "records at (2, 2), (3, 0) and (3, 2)");
	struct dht_binding_data cl = rec("", DHT_REC_CLEARED, 3, 1);
	is_int(merge1(s, &cl, 1, MAXV), LC_OK, "a CLEARED record at (3, 1)");
	ok(!held(s, "sip:lo@192.0.2.1", &r) && !held(s, "sip:eq@192.0.2.2", &r) &&
		   held(s, "sip:hi@192.0.2.3", &r) && held(s, NULL, &r) && r.version == 3 &&
		   r.writer == 1 && dht_aor_count(find1(s)) == 2,
	   "removes the records below it, keeps the one above");
	d[0] = rec("sip:lo@192.0.2.1", DHT_REC_LIVE, 3, 0);
	is_int(merge1(s, d, 1, MAXV), LC_ESTALE, "a record below it is not taken");
	d[0] = rec("sip:up@192.0.2.4", DHT_REC_LIVE, 3, 2);
	is_int(merge1(s, d, 1, MAXV), LC_OK, "a record above it is");
	dht_store_remove_aor(s, find1(s));

	/* the tie: a record at exactly the CLEARED record's (version, writer), in both orders */
	struct dht_binding_data tie = rec("sip:tie@192.0.2.5", DHT_REC_LIVE, 3, 1);
	struct dht_store *t = new_store();
	ok(merge1(s, &cl, 1, MAXV) == LC_OK && merge1(s, &tie, 1, MAXV) == LC_ESTALE &&
		   !held(s, "sip:tie@192.0.2.5", &r),
	   "CLEARED (3, 1), then a record at (3, 1): not taken (at or below it)");
	ok(merge1(t, &tie, 1, MAXV) == LC_OK && merge1(t, &cl, 1, MAXV) == LC_OK &&
		   !held(t, "sip:tie@192.0.2.5", &r),
	   "a record at (3, 1), then CLEARED (3, 1): removed (at or below it)");
	ok(dht_aor_count(find1(s)) == dht_aor_count(find1(t)) &&
		   dht_aor_sync_hash(find1(s)) == dht_aor_sync_hash(find1(t)),
	   "either order gives the same key");
	dht_store_free(t);
	dht_store_remove_aor(s, find1(s));

	/* ties of version broken by writer, for one identity */
	d[0] = rec("sip:w@192.0.2.6", DHT_REC_LIVE, 4, 1);
	d[0].cseq = 1;
	d[1] = rec("sip:w@192.0.2.6", DHT_REC_LIVE, 4, 2);
	d[1].cseq = 2;
	struct dht_binding_data rev[2] = {d[1], d[0]};
	t = new_store();
	ok(merge1(s, d, 2, MAXV) == LC_OK && merge1(t, rev, 2, MAXV) == LC_OK &&
		   held(s, "sip:w@192.0.2.6", &r) && r.cseq == 2 &&
		   held(t, "sip:w@192.0.2.6", &r) && r.cseq == 2 && dht_aor_count(find1(s)) == 1,
	   "two records of one identity at one version: writer 2's, in either order");
	dht_store_free(t);
	dht_store_remove_aor(s, find1(s));

	/* beyond max_version: refused and counted */
	uint64_t fut = stats(s).future;
	d[0] = rec("sip:f@192.0.2.7", DHT_REC_LIVE, MAXV + 1, 1);
	d[1] = rec("", DHT_REC_CLEARED, MAXV + 1, 1);
	d[2] = rec("sip:g@192.0.2.8", DHT_REC_LIVE, MAXV, 1);
	ok(merge1(s, d, 3, MAXV) == LC_EFUTURE && !held(s, "sip:f@192.0.2.7", &r) &&
		   !held(s, NULL, &r) && held(s, "sip:g@192.0.2.8", &r),
	   "a record and a CLEARED record above max_version are not taken, one at it is "
	   "(LC_EFUTURE: the copy is not held whole)");
	is_int(stats(s).future - fut, 2, "both counted in stats.future");
	ok(dht_aor_version(find1(s)) == MAXV, "the key's version stays at max_version");

	/* expired records are not taken; an expired CLEARED record removes nothing */
	d[0] = rec("sip:e@192.0.2.9", DHT_REC_LIVE, 5, 2);
	d[0].expires_at_s = T;
	d[1] = rec("", DHT_REC_CLEARED, 5, 2);
	d[1].expires_at_s = T;
	ok(merge1(s, d, 2, MAXV) == LC_ESTALE && !held(s, "sip:e@192.0.2.9", &r) &&
		   held(s, "sip:g@192.0.2.8", &r) && dht_aor_count(find1(s)) == 1,
	   "expired at now: a record is not taken, a CLEARED record removes nothing");
	dht_store_free(s);
}

int main(void)
{
	plan(4 + 17 + 2 * 9);
	test_rec_newer();
	test_directed();
	run_trials(false, 0x6d65726765ull);
	run_trials(true, 0x7469657321ull);
	return exit_status();
}
