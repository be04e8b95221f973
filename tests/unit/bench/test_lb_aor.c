/* SPDX-License-Identifier: MIT */
/*
 * locus-bench's AOR sets (bench/lb_aor.c): the same seed and index give the same strings on every
 * run and machine (one is pinned here byte for byte), the users of a set are distinct, unknown
 * AORs never equal known ones, another seed gives another set, and the run id changes the
 * Call-ID only.
 */
#include <stdlib.h>
#include <string.h>

#include "bench/lb_aor.h"
#include "common/lc_error.h"
#include "tests/tap.h"

#define N 200000

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether the URIs of AORs 0..n-1 (known or not) of two sets are all distinct. */
static bool all_distinct(const struct lb_aorgen *g1, bool known1, const struct lb_aorgen *g2,
			 bool known2, unsigned n)
{
	char **u = malloc(2 * n * sizeof(*u));
	char *store = malloc((size_t)2 * n * (LB_AOR_URI_MAX + 1));
	struct lb_aor a;
	for (unsigned i = 0; i < 2 * n; i++) {
		lb_aor_get(i < n ? g1 : g2, i % n, i < n ? known1 : known2, 7, &a);
		u[i] = store + (size_t)i * (LB_AOR_URI_MAX + 1);
		memcpy(u[i], a.uri, a.uri_len + 1);
	}
	qsort(u, 2 * n, sizeof(*u), cmp_str);
	bool distinct = true;
	for (unsigned i = 1; i < 2 * n; i++) {
		distinct = distinct && strcmp(u[i - 1], u[i]) != 0;
	}
	free(u);
	free(store);
	return distinct;
}

int main(void)
{
	plan(13);
	struct lb_aorgen g, g2, g3;
	is_int(lb_aorgen_init(&g, 1, "example.com"), LC_OK, "init");
	is_int(lb_aorgen_init(&g2, 1, "example.com"), LC_OK, "init again");
	is_int(lb_aorgen_init(&g3, 2, "example.com"), LC_OK, "init, another seed");

	struct lb_aor a, b;
	lb_aor_get(&g, 0, true, 0x1234, &a);
	/* pinned: a change here changes every recorded run's AORs */
	is_str(a.uri, "sip:ursula.bng9kvc57avk7@example.com", "AOR 0 of seed 1");
	is_str(a.contact, "sip:ursula.bng9kvc57avk7@10.32.172.78:52527;transport=udp",
	       "its contact");
	is_str(a.call_id, "9a8d9020e26b7659-00001234@lb.bng9kvc57avk7",
	       "its Call-ID in run 0x1234");

	bool same = true;
	for (uint64_t i = 0; i < 1000; i++) {
		lb_aor_get(&g, i * 7919, true, 5, &a);
		lb_aor_get(&g2, i * 7919, true, 5, &b);
		same = same && strcmp(a.uri, b.uri) == 0 && strcmp(a.contact, b.contact) == 0 &&
		       strcmp(a.call_id, b.call_id) == 0 && a.user_len == b.user_len;
	}
	ok(same, "the same seed gives the same AORs");

	ok(all_distinct(&g, true, &g, false, N), "%d known and %d unknown AORs: all distinct", N,
	   N);
	ok(all_distinct(&g, true, &g3, true, N), "seeds 1 and 2: %d AORs each, no user in both", N);

	lb_aor_get(&g, 42, true, 1, &a);
	lb_aor_get(&g, 42, true, 2, &b);
	ok(strcmp(a.uri, b.uri) == 0 && strcmp(a.contact, b.contact) == 0 &&
		   strcmp(a.call_id, b.call_id) != 0,
	   "another run id: same AOR and contact, another Call-ID");
	lb_aor_get(&g, 42, false, 1, &a);
	ok(strncmp(a.uri, "sip:nobody.", 11) == 0, "unknown AORs are nobody.*: %s", a.uri);

	ok(lb_aorgen_init(&g, 1, "bad domain") == LC_EINVAL &&
		   lb_aorgen_init(&g, 1, "") == LC_EINVAL,
	   "a domain with a space, or empty, is refused");
	char longd[80];
	memset(longd, 'a', sizeof(longd) - 1);
	longd[sizeof(longd) - 1] = '\0';
	ok(lb_aorgen_init(&g, 1, longd) == LC_EINVAL, "a domain over %d bytes is refused",
	   LB_AOR_DOMAIN_MAX);
	return exit_status();
}
