/* SPDX-License-Identifier: MIT */
/*
 * The binding store: every field read back, refresh without touching the var region, updates,
 * removal, first-added order and caps, expired bindings hidden before reaping, the expiry wheel
 * across slot wraps, its levels and far jumps of time with budgeted reaping, each pool running out
 * (LC_EFULL changes nothing, has_room agrees, space comes back), forced id collisions, length
 * limits, the key walk, key versions (kept through every change of the bindings, and what they
 * cost), dht_store_set_aor (newer applied, older refused, removal, expired records, in-place
 * refreshes, all or nothing when any pool runs out), and a randomized run of 200k operations,
 * replica sets included, against a naive model.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/lc_error.h"
#include "dht/dht_store.h"
#include "dht/dht_store_internal.h"
#include "dht/dht_sync.h"
#include "tests/tap.h"

#define T0 1700000000u

static struct dht_bytes bs(const char *p)
{
	return (struct dht_bytes){.p = p, .len = (uint32_t)strlen(p)};
}

static struct dht_binding_data mk(const char *uri, const char *call_id, uint32_t exp)
{
	struct dht_binding_data d;
	memset(&d, 0, sizeof(d));
	d.uri = bs(uri);
	d.call_id = bs(call_id);
	d.instance = bs("");
	d.path = bs("");
	d.attrs = bs("");
	d.expires_at_s = exp;
	d.registered_at_s = T0;
	d.q = -1;
	return d;
}

static dht_id_t idk(const char *key)
{
	return dht_key_of(key, strlen(key), 42);
}

static struct dht_store *new_store(uint32_t max_b, uint32_t max_a, uint64_t var, uint32_t now)
{
	struct dht_store *s = NULL;
	struct dht_store_cfg cfg = {.max_bindings = max_b, .max_aors = max_a, .var_bytes = var};
	if (dht_store_new(&s, &cfg, now) != LC_OK) {
		printf("Bail out! dht_store_new failed\n");
		exit(1);
	}
	return s;
}

static int add(struct dht_store *s, const char *key, const struct dht_binding_data *d)
{
	return dht_store_add(s, idk(key), key, strlen(key), d);
}

static struct dht_aor *find(struct dht_store *s, const char *key)
{
	return dht_store_find(s, idk(key), key, strlen(key));
}

static struct dht_store_stats stats(const struct dht_store *s)
{
	struct dht_store_stats st;
	dht_store_stats_get(s, &st);
	return st;
}

static void test_fields(void)
{
	struct dht_store *s = new_store(16, 0, 0, T0);
	struct dht_store_stats empty = stats(s);
	ok(empty.aors == 0 && empty.bindings == 0 && empty.max_bindings == 16 &&
		   empty.bytes_used > 0 && empty.bytes_reserved > empty.bytes_used,
	   "a new store is empty, with its fixed bytes counted");

	struct dht_binding_data d =
		mk("sip:alice@192.0.2.10:5060;ob", "a84b4c76e66710@pc33", T0 + 60);
	d.instance = bs("\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"");
	d.path = bs("<sip:p1.example.com;lr>,<sip:p2.example.com;lr>");
	d.attrs = bs("k=v");
	d.registered_at_s = T0 - 5;
	d.cseq = 314159;
	d.reg_id = 2;
	d.txn_tag = 0xdeadbeef;
	d.q = 700;
	d.src.family = AF_INET6;
	d.src.transport = 3;
	d.src.port = 5062;
	for (int i = 0; i < 16; i++) {
		d.src.addr[i] = (uint8_t)(0x20 + i);
	}
	is_int(add(s, "sip:alice@example.com", &d), LC_OK, "add a binding with every field set");
	struct dht_aor *a = find(s, "sip:alice@example.com");
	ok(a != NULL, "its key is found");
	struct dht_bytes k = dht_aor_key(a);
	is_mem(k.p, k.len, "sip:alice@example.com", "dht_aor_key gives the key's bytes");
	is_int(dht_aor_count(a), 1, "one binding");
	ok(find(s, "sip:bob@example.com") == NULL, "another key is not found");

	struct dht_binding *b[4];
	is_int(dht_aor_bindings(a, T0, b, 4), 1, "one live binding");
	struct dht_binding_data r;
	dht_binding_read(b[0], &r);
	is_mem(r.uri.p, r.uri.len, "sip:alice@192.0.2.10:5060;ob", "uri");
	is_mem(r.call_id.p, r.call_id.len, "a84b4c76e66710@pc33", "call_id");
	is_mem(r.instance.p, r.instance.len, "\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"",
	       "instance");
	is_mem(r.path.p, r.path.len, "<sip:p1.example.com;lr>,<sip:p2.example.com;lr>", "path");
	is_mem(r.attrs.p, r.attrs.len, "k=v", "attrs");
	ok(r.expires_at_s == T0 + 60 && r.registered_at_s == T0 - 5 && r.cseq == 314159 &&
		   r.reg_id == 2 && r.txn_tag == 0xdeadbeef && r.q == 700,
	   "times, cseq, reg_id, txn_tag, q");
	ok(r.src.family == AF_INET6 && r.src.transport == 3 && r.src.port == 5062 &&
		   memcmp(r.src.addr, d.src.addr, 16) == 0,
	   "an IPv6 source address");

	/* a plain refresh: same strings, new expiry and CSeq, a new IPv6 source */
	struct dht_store_stats before = stats(s);
	d.expires_at_s = T0 + 3600;
	d.cseq++;
	d.src.addr[15] = 0x99;
	is_int(dht_store_update(s, b[0], &d), LC_OK, "refresh");
	struct dht_store_stats after = stats(s);
	is_int(after.bytes_used, before.bytes_used, "a refresh does not touch the var region");
	is_int(dht_aor_bindings(a, T0, b, 4), 1, "still one binding");
	dht_binding_read(b[0], &r);
	ok(r.expires_at_s == T0 + 3600 && r.cseq == d.cseq && r.src.addr[15] == 0x99,
	   "the refresh is read back");

	/* an update whose strings come from the store itself (a read, then a change) */
	struct dht_binding_data u = r;
	u.uri = r.call_id;
	u.call_id = bs("new-call-id");
	u.instance = bs("");
	u.src.family = AF_INET;
	memset(u.src.addr, 0, 16);
	memcpy(u.src.addr, "\xc0\x00\x02\x0a", 4);
	is_int(dht_store_update(s, b[0], &u), LC_OK, "update with changed strings");
	is_int(dht_aor_bindings(a, T0, b, 4), 1, "still one binding after the update");
	dht_binding_read(b[0], &r);
	is_mem(r.uri.p, r.uri.len, "a84b4c76e66710@pc33", "new uri (copied from the old call_id)");
	is_mem(r.call_id.p, r.call_id.len, "new-call-id", "new call_id");
	is_int(r.instance.len, 0, "instance now empty");
	ok(r.src.family == AF_INET && memcmp(r.src.addr, "\xc0\x00\x02\x0a\0\0\0\0", 8) == 0,
	   "an IPv4 source address");

	/* a second and third binding: first-added order, the cap */
	struct dht_binding_data d2 = mk("sip:alice@198.51.100.7", "c2", T0 + 100);
	struct dht_binding_data d3 = mk("sip:alice@203.0.113.1", "c3", T0 + 100);
	ok(add(s, "sip:alice@example.com", &d2) == LC_OK &&
		   add(s, "sip:alice@example.com", &d3) == LC_OK,
	   "two more bindings");
	is_int(dht_aor_count(a), 3, "three bindings");
	is_int(dht_aor_bindings(a, T0, b, 4), 3, "three live");
	dht_binding_read(b[0], &r);
	struct dht_binding_data r2, r3;
	dht_binding_read(b[1], &r2);
	dht_binding_read(b[2], &r3);
	ok(r.call_id.len == 11 && r2.call_id.len == 2 && r2.call_id.p[1] == '2' &&
		   r3.call_id.p[1] == '3',
	   "first-added order");
	is_int(dht_aor_bindings(a, T0, b, 2), 2, "cap 2 gives 2");
	is_int(dht_aor_bindings(a, T0, b, 0), 0, "cap 0 gives 0");
	/* updating the first keeps its place */
	d.expires_at_s = T0 + 50;
	dht_binding_read(b[0], &r);
	r.expires_at_s = T0 + 50;
	is_int(dht_store_update(s, b[0], &r), LC_OK, "refresh the first");
	dht_aor_bindings(a, T0, b, 4);
	dht_binding_read(b[0], &r);
	is_int(r.expires_at_s, T0 + 50, "a refresh keeps the first-added order");

	/* expired but not reaped: hidden */
	is_int(dht_aor_bindings(a, T0 + 50, b, 4), 2, "at its expiry second a binding is hidden");
	is_int(dht_aor_count(a), 3, "but still counted until the wheel reaps it");
	is_int(dht_aor_bindings(a, T0 + 100, b, 4), 0, "all hidden at T0+100");
	is_int(dht_store_expire(s, T0 + 49, 10), 0, "nothing due at T0+49");
	is_int(dht_store_expire(s, T0 + 50, 10), 1, "one reaped at T0+50");
	is_int(dht_aor_count(a), 2, "two left");

	/* remove the middle one, then the last: the AOR goes with it */
	dht_aor_bindings(a, T0, b, 4);
	dht_store_remove(s, b[0]);
	is_int(dht_aor_count(a), 1, "remove one binding");
	dht_aor_bindings(a, T0, b, 4);
	dht_binding_read(b[0], &r);
	is_mem(r.call_id.p, r.call_id.len, "c3", "the other remains");
	dht_store_remove(s, b[0]);
	ok(find(s, "sip:alice@example.com") == NULL, "the key goes with its last binding");
	struct dht_store_stats end = stats(s);
	ok(end.aors == 0 && end.bindings == 0 && end.bytes_used == empty.bytes_used,
	   "empty again, every byte given back (%llu vs %llu)", (unsigned long long)end.bytes_used,
	   (unsigned long long)empty.bytes_used);

	/* remove_aor */
	for (int i = 0; i < 3; i++) {
		d2.expires_at_s = T0 + 10 + (uint32_t)i;
		if (add(s, "sip:carol@example.com", &d2) != LC_OK) {
			break;
		}
	}
	a = find(s, "sip:carol@example.com");
	ok(a != NULL && dht_aor_count(a) == 3, "three bindings for carol");
	dht_store_remove_aor(s, a);
	end = stats(s);
	ok(find(s, "sip:carol@example.com") == NULL && end.bindings == 0 &&
		   end.bytes_used == empty.bytes_used,
	   "remove_aor removes the key and its bindings");
	is_int(dht_store_expire(s, T0 + 100, 10), 0, "removed bindings are off the wheel");
	dht_store_free(s);
}

static void test_wheel(void)
{
	/* start 10 s before a 256-second boundary */
	uint32_t t0 = 0x12345600u - 10;
	struct dht_store *s = new_store(64, 0, 0, t0);
	const uint32_t when[] = {t0 + 5,	 t0 + 20,     t0 + 300,	  t0 + 70000,
				 t0 + 20000000u, 0xfffffff0u, 0xffffffffu};
	for (unsigned i = 0; i < LC_ARRAY_SIZE(when); i++) {
		char key[32];
		snprintf(key, sizeof(key), "sip:w%u@example.com", i);
		struct dht_binding_data d = mk("sip:x", "y", when[i]);
		if (add(s, key, &d) != LC_OK) {
			ok(0, "add %u", i);
		}
	}
	int good = 1;
	for (unsigned i = 0; i < LC_ARRAY_SIZE(when); i++) {
		unsigned early = dht_store_expire(s, when[i] - 1, 100);
		unsigned on_time = dht_store_expire(s, when[i], 100);
		if (early != 0 || on_time != 1) {
			good = 0;
			printf("#   expiry %u (0x%x): %u a second early, %u on time\n", i, when[i],
			       early, on_time);
		}
	}
	ok(good,
	   "each expiry fires at its second, not one earlier: across a slot wrap, level 1, 2, "
	   "3 and the last second of uint32");
	is_int(stats(s).bindings, 0, "all reaped");
	is_int(stats(s).expired, LC_ARRAY_SIZE(when), "expired counter");

	/* a binding added with an expiry in the past goes at the next call */
	struct dht_store *p = new_store(8, 0, 0, T0);
	struct dht_binding_data d = mk("sip:x", "y", T0 - 100);
	ok(add(p, "sip:past", &d) == LC_OK && dht_store_expire(p, T0, 10) == 1,
	   "an expiry in the past is reaped at the next call");
	/* and after the wheel has moved far ahead */
	is_int(dht_store_expire(p, T0 + 5000000, 10), 0, "a jump with nothing due");
	d.expires_at_s = T0 + 5000001;
	ok(add(p, "sip:later", &d) == LC_OK && dht_store_expire(p, T0 + 5000000, 10) == 0 &&
		   dht_store_expire(p, T0 + 5000001, 10) == 1,
	   "after a jump, a new expiry still fires at its second");
	dht_store_free(p);
	dht_store_free(s);
}

/* splitmix64, so the runs are the same on every libc */
static uint64_t rng_s = 0x5eed;
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

static void test_budget(void)
{
	enum { N = 20000 };
	struct dht_store *s = new_store(N, 0, 0, T0);
	unsigned added = 0;
	for (unsigned i = 0; i < N; i++) {
		char key[32];
		snprintf(key, sizeof(key), "sip:b%u@example.com", i);
		/* spread over every level, up to 2^31 s away */
		uint32_t far = i % 4 == 0   ? below(300)
			       : i % 4 == 1 ? below(70000)
			       : i % 4 == 2 ? below(30000000)
					    : below(0x7fffffffu);
		struct dht_binding_data d = mk("sip:x", "y", T0 + 1 + far);
		added += add(s, key, &d) == LC_OK;
	}
	is_int(added, N, "%d bindings spread up to 2^31 s ahead", N);
	unsigned due = 0;
	rng_s = 0x5eed; /* recount what was generated */
	for (unsigned i = 0; i < N; i++) {
		uint32_t far = i % 4 == 0   ? below(300)
			       : i % 4 == 1 ? below(70000)
			       : i % 4 == 2 ? below(30000000)
					    : below(0x7fffffffu);
		due += T0 + 1 + far <= T0 + 100000;
	}
	/* a bounded reap at a time within the spread: only due ones go; a call may reap nothing
	 * while it cascades a slot, so go on a while after the count is reached */
	unsigned got = 0, calls = 0, over = 0, extra = 0;
	while (calls++ < 100000 && extra < 1000) {
		unsigned n = dht_store_expire(s, T0 + 100000, 7);
		over += n > 7;
		got += n;
		extra += got >= due;
	}
	ok(over == 0, "no call reaps more than its budget");
	is_int(got, due, "every binding due by T0+100000 reaped, no other");
	/* the idle worker: time jumps to the end of uint32, reaping with a budget of 100 */
	got = 0;
	calls = 0;
	over = 0;
	while (stats(s).bindings > 0 && calls < 100000) {
		unsigned n = dht_store_expire(s, UINT32_MAX, 100);
		over += n > 100;
		got += n;
		calls++;
	}
	is_int(got, N - due, "after a jump to 2^32-1 every binding is reaped");
	ok(over == 0 && calls < (N / 100) * 3, "in bounded calls (%u)", calls);
	dht_store_free(s);
}

static void test_full(void)
{
	struct dht_binding_data d = mk("sip:bob@192.0.2.4", "cid", T0 + 60);
	/* the bindings pool */
	struct dht_store *s = new_store(4, 0, 0, T0);
	int good = 1;
	for (int i = 0; i < 4; i++) {
		good &= dht_store_has_room(s, 1, 20, 0) &&
			add(s, "sip:bob@example.com", &d) == LC_OK;
	}
	ok(good, "four bindings fill a pool of four");
	struct dht_store_stats before = stats(s);
	ok(!dht_store_has_room(s, 1, 20, 0), "has_room says no");
	is_int(add(s, "sip:bob@example.com", &d), LC_EFULL, "a fifth binding: LC_EFULL");
	is_int(add(s, "sip:new@example.com", &d), LC_EFULL, "a new key: LC_EFULL");
	struct dht_store_stats after = stats(s);
	ok(after.bindings == before.bindings && after.aors == before.aors &&
		   after.bytes_used == before.bytes_used && after.full == before.full + 2,
	   "nothing changed but the full counter");
	ok(find(s, "sip:new@example.com") == NULL, "the refused key is not there");
	struct dht_binding *b[4];
	dht_aor_bindings(find(s, "sip:bob@example.com"), T0, b, 4);
	dht_store_remove(s, b[1]);
	ok(dht_store_has_room(s, 1, 20, 21) && add(s, "sip:new@example.com", &d) == LC_OK,
	   "after a removal the space is reused");
	dht_store_free(s);

	/* the AOR pool */
	s = new_store(8, 2, 0, T0);
	ok(add(s, "sip:a1", &d) == LC_OK && add(s, "sip:a2", &d) == LC_OK, "two keys fill two");
	ok(!dht_store_has_room(s, 1, 20, 6) && dht_store_has_room(s, 1, 20, 0),
	   "has_room: no room for a new key, room for a binding");
	is_int(add(s, "sip:a3", &d), LC_EFULL, "a third key: LC_EFULL");
	is_int(add(s, "sip:a1", &d), LC_OK, "a binding for a held key still fits");
	dht_aor_bindings(find(s, "sip:a2"), T0, b, 4);
	dht_store_remove(s, b[0]);
	is_int(add(s, "sip:a3", &d), LC_OK, "a key slot freed is reused");
	dht_store_free(s);

	/* the var region */
	s = new_store(1000, 0, 2048, T0);
	char uri[101];
	memset(uri, 'u', 100);
	uri[100] = '\0';
	struct dht_binding_data big = mk(uri, "c", T0 + 60);
	unsigned n = 0, lied = 0;
	int ret;
	for (;;) {
		char key[32];
		snprintf(key, sizeof(key), "sip:v%u", n % 3);
		bool room = dht_store_has_room(s, 1, 101, find(s, key) ? 0 : strlen(key));
		before = stats(s);
		ret = add(s, key, &big);
		if (ret != LC_OK) {
			lied += room;
			break;
		}
		n++;
	}
	after = stats(s);
	is_int(ret, LC_EFULL, "a 2 KiB var region runs out after %u bindings", n);
	ok(n >= 12 && n <= 18, "and holds a sensible number of them (%u)", n);
	ok(after.bindings == before.bindings && after.bytes_used == before.bytes_used &&
		   after.aors == before.aors,
	   "the refused add changed nothing");
	ok(!dht_store_has_room(s, 1, 101, 0) && lied == 0, "has_room said no before, and says no");
	dht_store_remove_aor(s, find(s, "sip:v1"));
	dht_store_remove_aor(s, find(s, "sip:v2"));
	ok(dht_store_has_room(s, 1, 101, 0) && add(s, "sip:v0", &big) == LC_OK,
	   "freed var bytes are reused");
	/* an update that needs a bigger block fails cleanly when there is none */
	while (add(s, "sip:v1", &big) == LC_OK) {
	}
	dht_aor_bindings(find(s, "sip:v1"), T0, b, 4);
	char uri2[301];
	memset(uri2, 'w', 300);
	uri2[300] = '\0';
	struct dht_binding_data bigger = mk(uri2, "c", T0 + 90);
	before = stats(s);
	is_int(dht_store_update(s, b[0], &bigger), LC_EFULL, "an update with no room: LC_EFULL");
	struct dht_binding_data r;
	dht_binding_read(b[0], &r);
	after = stats(s);
	ok(r.uri.len == 100 && r.expires_at_s == T0 + 60 && after.bytes_used == before.bytes_used,
	   "and the binding is unchanged");
	dht_store_free(s);
}

/* has_room is conservative but never wrong: whenever it says yes, the adds succeed */
static void test_has_room_agrees(void)
{
	struct dht_store *s = new_store(5000, 0, 64 * 1024, T0);
	char buf[9000];
	memset(buf, 'x', sizeof(buf));
	unsigned lies = 0, yes = 0;
	for (int round = 0; round < 4000; round++) {
		unsigned nb = 1 + below(3);
		uint32_t len[3];
		size_t total = 0;
		for (unsigned i = 0; i < nb; i++) {
			len[i] = below(8) == 0 ? below(3000) : below(200);
			total += len[i];
		}
		char key[32];
		snprintf(key, sizeof(key), "sip:r%u", below(300));
		bool fresh = find(s, key) == NULL;
		if (dht_store_has_room(s, nb, total, fresh ? strlen(key) : 0)) {
			yes++;
			for (unsigned i = 0; i < nb; i++) {
				struct dht_binding_data d = mk("", "", T0 + 1 + below(50));
				d.uri = (struct dht_bytes){.p = buf, .len = len[i]};
				lies += add(s, key, &d) != LC_OK;
			}
		}
		if (below(2) == 0) {
			dht_store_expire(s, T0 + (uint32_t)round / 40, 20);
		}
	}
	ok(lies == 0 && yes > 1000, "has_room said yes %u times and every add then fitted", yes);
	dht_store_free(s);
}

static void test_collisions_and_limits(void)
{
	struct dht_store *s = new_store(256, 0, 0, T0);
	dht_id_t same = idk("one id for all");
	char key[64];
	int good = 1;
	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "sip:c%d@example.com", i);
		struct dht_binding_data d = mk(key, "c", T0 + 60);
		good &= dht_store_add(s, same, key, strlen(key), &d) == LC_OK;
	}
	is_int(stats(s).aors, 40, "40 keys with one id are 40 keys");
	/* remove every third, then check all */
	for (int i = 0; i < 40; i += 3) {
		snprintf(key, sizeof(key), "sip:c%d@example.com", i);
		struct dht_aor *a = dht_store_find(s, same, key, strlen(key));
		good &= a != NULL;
		if (a != NULL) {
			dht_store_remove_aor(s, a);
		}
	}
	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "sip:c%d@example.com", i);
		struct dht_aor *a = dht_store_find(s, same, key, strlen(key));
		if (i % 3 == 0) {
			good &= a == NULL;
			continue;
		}
		struct dht_binding *b;
		struct dht_binding_data r;
		good &= a != NULL && dht_aor_bindings(a, T0, &b, 1) == 1;
		if (a != NULL) {
			dht_binding_read(b, &r);
			good &= r.uri.len == strlen(key) && memcmp(r.uri.p, key, r.uri.len) == 0;
		}
	}
	ok(good, "colliding keys stay apart through removals");
	ok(dht_store_find(s, idk("sip:c1@example.com"), "sip:c1@example.com", 18) == NULL,
	   "the right bytes under another id are another key");

	char longkey[DHT_KEY_MAX + 2];
	memset(longkey, 'k', sizeof(longkey));
	struct dht_binding_data d = mk("sip:x", "c", T0 + 60);
	is_int(dht_store_add(s, 1, longkey, DHT_KEY_MAX + 1, &d), LC_ETOOLONG,
	       "a key of 513 bytes");
	is_int(dht_store_add(s, 1, longkey, DHT_KEY_MAX, &d), LC_OK, "a key of 512 bytes");
	static char big[DHT_BINDING_VAR_MAX + 1];
	memset(big, 'v', sizeof(big));
	d.uri = (struct dht_bytes){.p = big, .len = DHT_BINDING_VAR_MAX - 10};
	d.call_id = (struct dht_bytes){.p = big, .len = 11};
	is_int(dht_store_add(s, 1, longkey, DHT_KEY_MAX, &d), LC_ETOOLONG, "fields of 8193 bytes");
	d.call_id.len = 10;
	is_int(dht_store_add(s, 1, longkey, DHT_KEY_MAX, &d), LC_OK, "fields of 8192 bytes");
	struct dht_aor *a = dht_store_find(s, 1, longkey, DHT_KEY_MAX);
	struct dht_binding *b[2];
	dht_aor_bindings(a, T0, b, 2);
	d.call_id.len = 11;
	is_int(dht_store_update(s, b[1], &d), LC_ETOOLONG, "an update of 8193 bytes");
	ok(dht_store_find(s, 1, longkey, DHT_KEY_MAX + 1) == NULL, "find with a too-long key");

	struct dht_binding_data e = mk("", "", T0 + 60);
	ok(dht_store_add(s, 7, NULL, 0, &e) == LC_OK && dht_store_find(s, 7, NULL, 0) != NULL &&
		   dht_aor_key(dht_store_find(s, 7, NULL, 0)).len == 0,
	   "an empty key and a binding with no strings");
	ok(dht_store_expire(s, T0 + 60, UINT_MAX) > 0, "a budget of UINT_MAX");

	struct dht_store *bad = NULL;
	struct dht_store_cfg cfg = {.max_bindings = 0};
	is_int(dht_store_new(&bad, &cfg, T0), LC_EINVAL, "max_bindings 0 is refused");
	cfg.max_bindings = DHT_STORE_MAX_RECORDS + 1;
	is_int(dht_store_new(&bad, &cfg, T0), LC_EINVAL, "too many bindings is refused");
	dht_store_free(NULL);
	dht_store_free(s);
}

static void test_walk(void)
{
	struct dht_store *s = new_store(2000, 0, 0, T0);
	enum { N = 1500 };
	static unsigned char seen[N];
	char key[32];
	struct dht_binding_data d = mk("sip:x", "c", T0 + 60);
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "sip:k%d", i);
		if (add(s, key, &d) != LC_OK) {
			break;
		}
	}
	/* free some records so the walk crosses holes */
	for (int i = 0; i < N; i += 5) {
		snprintf(key, sizeof(key), "sip:k%d", i);
		dht_store_remove_aor(s, find(s, key));
	}
	uint64_t cursor = 0;
	unsigned calls = 0, total = 0, dup = 0, wrong = 0;
	struct dht_aor *out[7];
	while (cursor != DHT_STORE_WALK_END && calls++ < 10000) {
		unsigned n = dht_store_walk(s, &cursor, out, 7);
		for (unsigned i = 0; i < n; i++) {
			struct dht_bytes k = dht_aor_key(out[i]);
			int v = atoi(k.p + 5);
			wrong += v % 5 == 0;
			dup += seen[v]++;
			total++;
		}
	}
	ok(total == N - N / 5 && dup == 0 && wrong == 0, "the walk visits every key once (%u)",
	   total);
	dht_store_free(s);
}

/* ---- versions and dht_store_set_aor ---- */

static int set(struct dht_store *s, const char *key, uint64_t version,
	       const struct dht_binding_data *d, unsigned n, uint32_t now)
{
	return dht_store_set_aor(s, idk(key), key, strlen(key), version, d, n, now);
}

/* Everything a reader can see of a key (expired bindings not yet reaped included), as text. */
static const char *dump(struct dht_store *s, const char *key)
{
	static char buf[8192];
	struct dht_aor *a = find(s, key);
	if (a == NULL) {
		return "absent";
	}
	size_t len =
		(size_t)snprintf(buf, sizeof(buf), "v%llx", (unsigned long long)dht_aor_version(a));
	struct dht_binding *b[64];
	unsigned n = dht_aor_bindings(a, 0, b, 64);
	for (unsigned i = 0; i < n && len < sizeof(buf); i++) {
		struct dht_binding_data r;
		dht_binding_read(b[i], &r);
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
					"|%.*s,%.*s,%.*s,%.*s,%.*s,%u,%u,%u,%d,%u,%x",
					(int)r.uri.len, r.uri.p, (int)r.call_id.len, r.call_id.p,
					(int)r.instance.len, r.instance.p, (int)r.path.len,
					r.path.p, (int)r.attrs.len, r.attrs.p, r.expires_at_s,
					r.cseq, r.txn_tag, r.q, r.src.port, r.src.addr[15]);
	}
	return buf;
}

static bool same_stats(const struct dht_store_stats *a, const struct dht_store_stats *b)
{
	return a->aors == b->aors && a->bindings == b->bindings && a->bytes_used == b->bytes_used &&
	       a->bytes_var == b->bytes_var;
}

static void test_versions(void)
{
	struct dht_store *s = new_store(16, 0, 0, T0);
	const char *key = "sip:ver@example.com";
	struct dht_binding_data d1 = mk("sip:ver@192.0.2.1", "c1", T0 + 60);
	struct dht_binding_data d2 = mk("sip:ver@192.0.2.2", "c2", T0 + 120);
	ok(add(s, key, &d1) == LC_OK, "add a key");
	struct dht_aor *a = find(s, key);
	is_int(dht_aor_version(a), 0, "a new key has version 0");
	ok(dht_aor_id_hi(a) == (uint64_t)(idk(key) >> 64) &&
		   dht_aor_sync_hash(a) == dht_sync_hash(idk(key), 0),
	   "the record keeps the id's top half and its digest share at version 0");
	dht_aor_set_version(a, idk(key), 0xfedcba9876543210ull);
	ok(dht_aor_version(a) == 0xfedcba9876543210ull, "the version is set");
	ok(dht_aor_sync_hash(a) == dht_sync_hash(idk(key), 0xfedcba9876543210ull),
	   "and its digest share follows it");
	struct dht_bytes k = dht_aor_key(a);
	is_mem(k.p, k.len, key, "the key's bytes are untouched by the version");
	ok(add(s, key, &d2) == LC_OK && dht_aor_version(find(s, key)) == 0xfedcba9876543210ull,
	   "adding a binding keeps the version");
	struct dht_binding *b[4];
	dht_aor_bindings(find(s, key), T0, b, 4);
	struct dht_binding_data u = mk("sip:ver@[2001:db8::1]", "changed-call-id", T0 + 90);
	u.src.addr[15] = 1;
	ok(dht_store_update(s, b[0], &u) == LC_OK &&
		   dht_aor_version(find(s, key)) == 0xfedcba9876543210ull,
	   "an update with new strings keeps the version");
	dht_aor_bindings(find(s, key), T0, b, 4);
	dht_store_remove(s, b[0]);
	ok(dht_aor_version(find(s, key)) == 0xfedcba9876543210ull,
	   "removing one binding keeps the version");
	d1.expires_at_s = T0 + 200;
	ok(add(s, key, &d1) == LC_OK && dht_store_expire(s, T0 + 120, 10) == 1 &&
		   dht_aor_version(find(s, key)) == 0xfedcba9876543210ull,
	   "an expiry keeps the version");
	dht_aor_bindings(find(s, key), T0, b, 4);
	dht_store_remove(s, b[0]);
	ok(find(s, key) == NULL, "the key goes with its last binding");
	ok(add(s, key, &d1) == LC_OK && dht_aor_version(find(s, key)) == 0,
	   "and comes back with version 0");

	/* the longest key, and an empty one */
	char longkey[DHT_KEY_MAX];
	memset(longkey, 'L', sizeof(longkey));
	ok(dht_store_add(s, 5, longkey, sizeof(longkey), &d1) == LC_OK, "a 512-byte key");
	a = dht_store_find(s, 5, longkey, sizeof(longkey));
	dht_aor_set_version(a, 5, UINT64_MAX);
	k = dht_aor_key(a);
	ok(dht_aor_version(a) == UINT64_MAX && k.len == DHT_KEY_MAX &&
		   memcmp(k.p, longkey, k.len) == 0,
	   "its version and bytes");
	/* what a key costs: a block of its bytes + 10 (version, length) + a 4-byte header, in
	 * 8-byte granules; a binding with no strings and an IPv4 source costs no var bytes */
	struct dht_binding_data e = mk("", "", T0 + 60);
	uint64_t var0 = stats(s).bytes_var;
	ok(dht_store_add(s, 6, NULL, 0, &e) == LC_OK, "an empty key");
	a = dht_store_find(s, 6, NULL, 0);
	dht_aor_set_version(a, 6, 77);
	ok(dht_aor_version(a) == 77 && dht_aor_key(a).len == 0, "its version");
	uint64_t var1 = stats(s).bytes_var;
	ok(dht_store_add(s, 7, "abc", 3, &e) == LC_OK, "a key of 3 bytes");
	uint64_t var2 = stats(s).bytes_var;
	ok(var1 - var0 == 16 && var2 - var1 == 24,
	   "a key block costs 16 bytes empty, 24 with 3 bytes (%llu, %llu)",
	   (unsigned long long)(var1 - var0), (unsigned long long)(var2 - var1));
	dht_store_free(s);
}

static void test_set_aor(void)
{
	struct dht_store *s = new_store(64, 0, 0, T0);
	const char *key = "sip:rep@example.com";
	struct dht_binding_data d[6];
	d[0] = mk("sip:rep@192.0.2.1:5060;ob", "call-a", T0 + 60);
	d[1] = mk("sip:rep@192.0.2.2", "call-b", T0); /* expires at now: not stored */
	d[2] = mk("sip:rep@[2001:db8::3]", "call-c", T0 + 300);
	d[2].src.family = AF_INET6;
	d[2].src.addr[0] = 0x20;
	d[2].src.addr[15] = 3;
	d[2].instance = bs("\"<urn:uuid:1>\"");
	d[0].cseq = 10;
	d[2].cseq = 30;
	struct dht_store_stats empty = stats(s);
	is_int(set(s, key, 5, d, 3, T0), LC_OK, "set a new key at version 5");
	struct dht_aor *a = find(s, key);
	ok(a != NULL && dht_aor_version(a) == 5 && dht_aor_count(a) == 2,
	   "it holds the two live records at version 5");
	struct dht_binding *b[8];
	dht_aor_bindings(a, T0, b, 8);
	struct dht_binding_data r0, r1;
	dht_binding_read(b[0], &r0);
	dht_binding_read(b[1], &r1);
	ok(r0.call_id.len == 6 && memcmp(r0.call_id.p, "call-a", 6) == 0 && r0.cseq == 10 &&
		   r1.cseq == 30 && r1.src.addr[15] == 3 && r1.instance.len == 14,
	   "in the order given, every field");
	struct dht_binding *first = b[0], *second = b[1];

	/* older or equal: refused, nothing changes */
	char before_dump[8192];
	snprintf(before_dump, sizeof(before_dump), "%s", dump(s, key));
	struct dht_store_stats before = stats(s);
	d[0].cseq = 11;
	is_int(set(s, key, 5, d, 3, T0), LC_ESTALE, "the same version: LC_ESTALE");
	is_int(set(s, key, 4, d, 3, T0), LC_ESTALE, "an older version: LC_ESTALE");
	is_int(set(s, key, 4, NULL, 0, T0), LC_ESTALE, "an older removal: LC_ESTALE");
	struct dht_store_stats after = stats(s);
	ok(same_stats(&before, &after) && strcmp(before_dump, dump(s, key)) == 0 &&
		   after.full == before.full,
	   "nothing changed");

	/* a replicated refresh: the same strings, new expiries and CSeqs */
	d[0].expires_at_s = T0 + 3600;
	d[2].expires_at_s = T0 + 3700;
	d[2].src.addr[15] = 4; /* the IPv6 source changed: rewritten in its block */
	before = stats(s);
	is_int(set(s, key, 6, d, 3, T0 + 1), LC_OK, "a refresh at version 6");
	after = stats(s);
	dht_aor_bindings(a, T0, b, 8);
	dht_binding_read(b[0], &r0);
	dht_binding_read(b[1], &r1);
	ok(b[0] == first && b[1] == second && after.bytes_used == before.bytes_used,
	   "applied in place: the same records, no var-region work");
	ok(r0.expires_at_s == T0 + 3600 && r0.cseq == 11 && r1.expires_at_s == T0 + 3700 &&
		   r1.src.addr[15] == 4 && dht_aor_version(a) == 6,
	   "the new expiries, CSeq, address and version are read back");
	ok(dht_store_expire(s, T0 + 300, 10) == 0 && dht_store_expire(s, T0 + 3600, 10) == 1,
	   "the wheel follows the new expiries");

	/* three records, then the middle one dropped */
	d[1].expires_at_s = T0 + 3650;
	d[0].expires_at_s = T0 + 4000;
	struct dht_binding_data three[3] = {d[0], d[1], d[2]};
	is_int(set(s, key, 7, three, 3, T0 + 2), LC_OK, "three records at version 7");
	dht_aor_bindings(a, T0 + 2, b, 8);
	struct dht_binding *keep0 = b[0], *keep2 = b[2];
	before = stats(s);
	struct dht_binding_data two[2] = {d[0], d[2]};
	is_int(set(s, key, 8, two, 2, T0 + 2), LC_OK, "the middle one dropped at version 8");
	after = stats(s);
	ok(dht_aor_bindings(a, T0 + 2, b, 8) == 2 && b[0] == keep0 && b[1] == keep2 &&
		   after.bindings == before.bindings - 1 && after.bytes_var < before.bytes_var,
	   "the others keep their records; the dropped one's bytes are back");

	/* a changed record whose strings need a block of the same size: rewritten in place */
	two[0].call_id = bs("call-z");
	before = stats(s);
	is_int(set(s, key, 9, two, 2, T0 + 2), LC_OK, "a same-size change at version 9");
	after = stats(s);
	dht_aor_bindings(a, T0 + 2, b, 8);
	dht_binding_read(b[0], &r0);
	ok(b[0] == keep0 && after.bytes_used == before.bytes_used &&
		   memcmp(r0.call_id.p, "call-z", 6) == 0,
	   "in its own block");
	/* a bigger change, and records appended */
	struct dht_binding_data four[4] = {two[0], two[1], mk("sip:rep@192.0.2.9", "n1", T0 + 99),
					   mk("sip:rep@192.0.2.10", "n2", T0 + 98)};
	four[0].uri = bs("sip:rep@192.0.2.1:5060;ob;a-much-longer-uri-parameter=1");
	is_int(set(s, key, 10, four, 4, T0 + 2), LC_OK, "a bigger change and two more records");
	char want[8192];
	struct dht_store *ref = new_store(64, 0, 0, T0);
	ok(set(ref, key, 10, four, 4, T0 + 2) == LC_OK &&
		   strcmp(dump(ref, key), strcpy(want, dump(s, key))) == 0,
	   "the key reads exactly as one set from scratch");
	dht_store_free(ref);

	/* removals */
	is_int(set(s, key, 11, NULL, 0, T0 + 2), LC_OK, "n == 0 at a newer version");
	ok(find(s, key) == NULL, "removes the key");
	is_int(set(s, key, 3, NULL, 0, T0 + 2), LC_OK, "n == 0 for an absent key: nothing to do");
	ok(find(s, key) == NULL && stats(s).bindings == 0, "and nothing is stored");
	ok(set(s, key, 12, four, 4, T0 + 2) == LC_OK && find(s, key) != NULL,
	   "a set after the removal creates the key again");
	is_int(set(s, key, 13, four, 4, T0 + 5000), LC_OK, "every record expired, a newer version");
	ok(find(s, key) == NULL, "removes the key");
	ok(set(s, key, 13, four, 2, T0 + 2) == LC_OK && dht_aor_count(find(s, key)) == 2,
	   "a set at any version of an absent key applies");
	is_int(set(s, key, 14, d + 1, 1, T0 + 2), LC_OK, "one record expiring later than now");
	is_int(dht_aor_count(find(s, key)), 1, "replaces two");

	/* owner-side writes keep the replica's version */
	ok(add(s, key, &d[0]) == LC_OK && dht_aor_version(find(s, key)) == 14,
	   "dht_store_add to a set key keeps its version");

	/* too long: nothing changes */
	snprintf(before_dump, sizeof(before_dump), "%s", dump(s, key));
	before = stats(s);
	char longkey[DHT_KEY_MAX + 1];
	memset(longkey, 'k', sizeof(longkey));
	is_int(dht_store_set_aor(s, 1, longkey, sizeof(longkey), 1, d, 1, T0), LC_ETOOLONG,
	       "a key of 513 bytes");
	static char big[DHT_BINDING_VAR_MAX + 1];
	memset(big, 'v', sizeof(big));
	struct dht_binding_data bad[2] = {d[0], d[0]};
	bad[1].uri = (struct dht_bytes){.p = big, .len = sizeof(big)};
	is_int(set(s, key, 99, bad, 2, T0), LC_ETOOLONG, "a record of 8193 bytes");
	after = stats(s);
	ok(same_stats(&before, &after) && strcmp(before_dump, dump(s, key)) == 0,
	   "nothing changed");
	dht_store_remove_aor(s, find(s, key));
	after = stats(s);
	ok(after.bindings == 0 && after.bytes_used == empty.bytes_used, "every byte comes back");
	dht_store_free(s);
}

/* set_aor against each pool running out: all or nothing */
static void test_set_aor_full(void)
{
	char before_dump[8192];
	struct dht_store_stats before, after;
	/* the binding pool: 4 bindings in two keys */
	struct dht_store *s = new_store(4, 0, 0, T0);
	struct dht_binding_data x[3] = {mk("sip:x@192.0.2.1", "x1", T0 + 60),
					mk("sip:x@192.0.2.2", "x2", T0 + 60),
					mk("sip:x@192.0.2.3", "x3", T0 + 60)};
	ok(set(s, "sip:k1", 1, x, 2, T0) == LC_OK && set(s, "sip:k2", 1, x, 2, T0) == LC_OK,
	   "two keys of two bindings fill a pool of four");
	struct dht_binding_data y[3] = {mk("sip:y@192.0.2.7", "y1", T0 + 70),
					mk("sip:y@192.0.2.8", "y2", T0 + 70),
					mk("sip:y@192.0.2.9", "y3", T0 + 70)};
	is_int(set(s, "sip:k1", 2, y, 2, T0), LC_OK,
	       "a full pool takes a new set of two for a key of two (its records are reused)");
	snprintf(before_dump, sizeof(before_dump), "%s", dump(s, "sip:k1"));
	before = stats(s);
	is_int(set(s, "sip:k1", 3, x, 3, T0), LC_EFULL, "a set of three: LC_EFULL");
	is_int(set(s, "sip:k3", 1, x, 1, T0), LC_EFULL, "a new key: LC_EFULL");
	after = stats(s);
	ok(same_stats(&before, &after) && after.full == before.full + 2 &&
		   strcmp(before_dump, dump(s, "sip:k1")) == 0 && find(s, "sip:k3") == NULL,
	   "nothing changed but the full counter");
	ok(set(s, "sip:k1", 3, x, 1, T0) == LC_OK && set(s, "sip:k3", 1, x, 1, T0) == LC_OK,
	   "a smaller set makes room for another key");
	/* k1 [y1 y2 y3], k3 [x1]; then k1 becomes [y3 x2]: y1 and y2 dropped, x2 takes a record */
	ok(set(s, "sip:k2", 2, NULL, 0, T0) == LC_OK && set(s, "sip:k1", 4, y, 3, T0) == LC_OK &&
		   stats(s).bindings == 4,
	   "a key of three and a key of one fill the pool");
	struct dht_binding_data y3x2[2] = {y[2], x[1]};
	is_int(set(s, "sip:k1", 5, y3x2, 2, T0), LC_OK,
	       "a full pool takes [y3 x2] for [y1 y2 y3]: the dropped records make room");
	struct dht_binding *b[4];
	struct dht_binding_data r0, r1;
	ok(dht_aor_bindings(find(s, "sip:k1"), T0, b, 4) == 2, "two bindings");
	dht_binding_read(b[0], &r0);
	dht_binding_read(b[1], &r1);
	ok(memcmp(r0.call_id.p, "y3", 2) == 0 && memcmp(r1.call_id.p, "x2", 2) == 0, "y3 then x2");
	dht_store_free(s);

	/* the AOR pool */
	s = new_store(8, 2, 0, T0);
	ok(set(s, "sip:a1", 1, x, 1, T0) == LC_OK && set(s, "sip:a2", 1, x, 1, T0) == LC_OK,
	   "two keys fill two");
	before = stats(s);
	is_int(set(s, "sip:a3", 1, x, 3, T0), LC_EFULL, "a third key: LC_EFULL");
	after = stats(s);
	ok(same_stats(&before, &after) && find(s, "sip:a3") == NULL, "nothing changed");
	ok(set(s, "sip:a1", 2, x, 3, T0) == LC_OK, "a held key still grows");
	dht_store_free(s);

	/* the var region: fill it with 100-byte contacts */
	s = new_store(1000, 0, 2048, T0);
	char uri[101];
	memset(uri, 'u', 100);
	uri[100] = '\0';
	struct dht_binding_data big[3] = {mk(uri, "c1", T0 + 60), mk(uri, "c2", T0 + 60),
					  mk(uri, "c3", T0 + 60)};
	unsigned keys = 0;
	for (; keys < 100; keys++) {
		char key[16];
		snprintf(key, sizeof(key), "sip:f%u", keys);
		if (set(s, key, 1, big, 2, T0) != LC_OK) {
			break;
		}
	}
	ok(keys >= 3 && keys < 100, "a 2 KiB var region holds %u keys of two contacts", keys);
	snprintf(before_dump, sizeof(before_dump), "%s", dump(s, "sip:f0"));
	before = stats(s);
	/* new strings of another size for both records of f0 */
	char uri2[201];
	memset(uri2, 'w', 200);
	uri2[200] = '\0';
	struct dht_binding_data other[3] = {mk(uri2, "c1", T0 + 60), mk(uri2, "c2", T0 + 60),
					    mk(uri2, "c3", T0 + 60)};
	unsigned refused = 0;
	for (unsigned n = 1; n <= 3; n++) {
		refused += set(s, "sip:f0", 2, other, n, T0) == LC_EFULL;
		after = stats(s);
		refused += set(s, "sip:f0", 2, big, 3, T0) == LC_EFULL;
	}
	after = stats(s);
	ok(refused == 6 && same_stats(&before, &after) && after.full == before.full + 6 &&
		   strcmp(before_dump, dump(s, "sip:f0")) == 0,
	   "bigger or more strings: LC_EFULL each time, and nothing changed");
	/* a refresh and a same-size change still go through in a full region */
	big[0].expires_at_s = big[1].expires_at_s = T0 + 600;
	big[1].call_id = bs("cX");
	is_int(set(s, "sip:f0", 2, big, 2, T0), LC_OK,
	       "a refresh with a same-size change fits in a full region");
	after = stats(s);
	ok(after.bytes_used == before.bytes_used && dht_aor_version(find(s, "sip:f0")) == 2,
	   "without a byte more");
	/* free keys one by one until a set of three bigger records fits: every refusal on the
	 * way (some after the first blocks were taken) changes nothing */
	bool clean = true;
	int ret = LC_EFULL;
	for (unsigned i = 1; i < keys && ret == LC_EFULL; i++) {
		char key[16];
		snprintf(key, sizeof(key), "sip:f%u", i);
		dht_store_remove_aor(s, find(s, key));
		snprintf(before_dump, sizeof(before_dump), "%s", dump(s, "sip:f0"));
		before = stats(s);
		ret = set(s, "sip:f0", 3, other, 3, T0);
		after = stats(s);
		clean &= ret == LC_OK || (ret == LC_EFULL && same_stats(&before, &after) &&
					  strcmp(before_dump, dump(s, "sip:f0")) == 0);
	}
	ok(clean && ret == LC_OK, "as keys go, refusals change nothing until the set fits");
	/* fewer records, then as many again: the space of the dropped ones is reused */
	ok(set(s, "sip:f0", 4, big, 1, T0) == LC_OK && set(s, "sip:f0", 5, big, 2, T0) == LC_OK,
	   "a smaller set, then the bigger one again");
	dht_store_free(s);
}

/* ---- the randomized model test ---- */

enum { M_KEYS = 600, M_BIND = 1200, M_MAXB = 1000, M_MAXA = 400, M_STR = 2100 };

struct m_binding {
	bool used;
	uint16_t key;
	uint64_t seq; /* first-added order */
	uint32_t tag; /* txn_tag: names the binding in the store */
	uint32_t exp;
	uint16_t len[5];
	char f[5][M_STR];
	uint8_t addr[16];
};

static struct m_binding model[M_BIND];
static char m_keyname[M_KEYS][32];
static dht_id_t m_keyid[M_KEYS];
static uint64_t m_ver[M_KEYS]; /* meaningful while the key has a binding */

/* The key's version in the model: 0 once it has no binding left (the store forgets it too). */
static uint64_t m_version(int k)
{
	for (int i = 0; i < M_BIND; i++) {
		if (model[i].used && model[i].key == k) {
			return m_ver[k];
		}
	}
	return m_ver[k] = 0;
}

static void m_fields(struct m_binding *m)
{
	static const uint32_t cap[5] = {120, 60, 50, 100, 40};
	for (int f = 0; f < 5; f++) {
		uint32_t len = below(3) == 0 && f >= 2 ? 0 : below(cap[f]);
		if (f == 0 && below(50) == 0) {
			len = 1000 + below(1000);
		}
		m->len[f] = (uint16_t)len;
		for (uint32_t i = 0; i < len; i++) {
			m->f[f][i] = (char)('!' + below(90));
		}
	}
	memset(m->addr, 0, 16);
	unsigned alen = below(2) ? 4 : 16;
	for (unsigned i = 0; i < alen; i++) {
		m->addr[i] = (uint8_t)rnd();
	}
}

static struct dht_binding_data m_data(const struct m_binding *m)
{
	struct dht_binding_data d;
	memset(&d, 0, sizeof(d));
	struct dht_bytes *f[5] = {&d.uri, &d.call_id, &d.instance, &d.path, &d.attrs};
	for (int i = 0; i < 5; i++) {
		*f[i] = (struct dht_bytes){.p = m->f[i], .len = m->len[i]};
	}
	d.expires_at_s = m->exp;
	d.txn_tag = m->tag;
	d.cseq = m->tag * 3;
	d.q = (int16_t)(m->tag % 1001);
	d.src.family = AF_INET;
	d.src.port = (uint16_t)m->tag;
	memcpy(d.src.addr, m->addr, 16);
	return d;
}

/* The store's binding for model entry @p i (past expiry included), or NULL. */
static struct dht_binding *m_find(struct dht_store *s, int i)
{
	const struct m_binding *m = &model[i];
	struct dht_aor *a =
		dht_store_find(s, m_keyid[m->key], m_keyname[m->key], strlen(m_keyname[m->key]));
	if (a == NULL) {
		return NULL;
	}
	struct dht_binding *b[M_BIND];
	unsigned n = dht_aor_bindings(a, 0, b, M_BIND); /* exp >= 1: every binding */
	for (unsigned k = 0; k < n; k++) {
		struct dht_binding_data r;
		dht_binding_read(b[k], &r);
		if (r.txn_tag == m->tag) {
			return b[k];
		}
	}
	return NULL;
}

static bool m_same(const struct m_binding *m, const struct dht_binding_data *r)
{
	struct dht_binding_data d = m_data(m);
	const struct dht_bytes *x[5] = {&d.uri, &d.call_id, &d.instance, &d.path, &d.attrs};
	const struct dht_bytes *y[5] = {&r->uri, &r->call_id, &r->instance, &r->path, &r->attrs};
	for (int i = 0; i < 5; i++) {
		if (x[i]->len != y[i]->len || memcmp(x[i]->p, y[i]->p, x[i]->len) != 0) {
			return false;
		}
	}
	return r->expires_at_s == d.expires_at_s && r->cseq == d.cseq && r->q == d.q &&
	       r->src.port == d.src.port && memcmp(r->src.addr, d.src.addr, 16) == 0;
}

/* Compare everything readers see at @p now with the model. */
static bool m_check(struct dht_store *s, uint32_t now, uint64_t *bad_key)
{
	static int start[M_KEYS + 1], idx[M_BIND];
	memset(start, 0, sizeof(start));
	for (int i = 0; i < M_BIND; i++) {
		start[model[i].key + 1] += model[i].used;
	}
	for (int k = 0; k < M_KEYS; k++) {
		start[k + 1] += start[k];
	}
	int fill[M_KEYS];
	memcpy(fill, start, sizeof(fill));
	for (int i = 0; i < M_BIND; i++) {
		if (!model[i].used) {
			continue;
		}
		/* insertion by first-added order within the key */
		int k = model[i].key, j = fill[k]++;
		while (j > start[k] && model[idx[j - 1]].seq > model[i].seq) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = i;
	}
	unsigned keys = 0;
	*bad_key = UINT64_MAX;
	for (int k = 0; k < M_KEYS; k++) {
		unsigned n = (unsigned)(start[k + 1] - start[k]), live = 0;
		keys += n > 0;
		*bad_key = (uint64_t)k;
		struct dht_aor *a =
			dht_store_find(s, m_keyid[k], m_keyname[k], strlen(m_keyname[k]));
		if ((a == NULL) != (n == 0) || (a != NULL && dht_aor_count(a) != n) ||
		    (a != NULL && dht_aor_version(a) != m_ver[k])) {
			return false;
		}
		if (a == NULL) {
			continue;
		}
		struct dht_binding *b[M_BIND];
		unsigned got = dht_aor_bindings(a, now, b, M_BIND);
		for (int j = start[k]; j < start[k + 1]; j++) {
			const struct m_binding *m = &model[idx[j]];
			if (m->exp <= now) {
				continue;
			}
			struct dht_binding_data r;
			if (live >= got) {
				return false;
			}
			dht_binding_read(b[live++], &r);
			if (!m_same(m, &r)) {
				return false;
			}
		}
		if (live != got) {
			return false;
		}
	}
	*bad_key = UINT64_MAX;
	struct dht_store_stats st;
	dht_store_stats_get(s, &st);
	return st.bindings == (uint64_t)start[M_KEYS] && st.aors == keys &&
	       st.bytes_records == st.aors * sizeof(struct dht_aor) +
					   st.bindings * sizeof(struct dht_binding) &&
	       st.bytes_used == st.bytes_index + st.bytes_records + st.bytes_var;
}

/* The model's bindings of key @p k, in first-added order; returns how many. */
static unsigned m_of_key(int k, int *out)
{
	unsigned n = 0;
	for (int i = 0; i < M_BIND; i++) {
		if (model[i].used && model[i].key == k) {
			unsigned j = n++;
			while (j > 0 && model[out[j - 1]].seq > model[i].seq) {
				out[j] = out[j - 1];
				j--;
			}
			out[j] = i;
		}
	}
	return n;
}

enum { M_SET = 48 };

/* The set an owner sends for key @p k: its bindings kept, refreshed, changed, dropped or expired,
 * and new ones appended. Returns how many records it wrote to @p nb. */
static unsigned m_new_set(int k, uint32_t now, uint32_t *next_tag, struct m_binding *nb)
{
	static int old[M_BIND];
	unsigned nold = m_of_key(k, old), n = 0;
	for (unsigned j = 0; j < nold && n < M_SET - 4; j++) {
		uint32_t r = below(10);
		if (r < 2) {
			continue; /* dropped at the owner */
		}
		nb[n] = model[old[j]];
		if (r >= 7) {
			m_fields(&nb[n]); /* changed */
		}
		if (r == 9) {
			nb[n].tag = (*next_tag)++;
		}
		nb[n].exp = below(15) == 0 ? now - below(3) : now + 1 + below(400);
		n++;
	}
	for (uint32_t f = below(4); f > 0; f--) {
		nb[n].tag = (*next_tag)++;
		nb[n].exp = below(15) == 0 ? now : now + 1 + below(400);
		m_fields(&nb[n]);
		n++;
	}
	for (unsigned j = 0; j < n; j++) {
		nb[j].key = (uint16_t)k;
	}
	return n;
}

/* Key @p k now holds the live records of @p nb, in that order, at version @p v. */
static void m_apply_set(int k, const struct m_binding *nb, unsigned n, uint64_t v, uint32_t now,
			uint64_t *seq)
{
	int slot = 0;
	bool any = false;
	for (int i = 0; i < M_BIND; i++) {
		model[i].used &= model[i].key != k;
	}
	for (unsigned j = 0; j < n; j++) {
		if (nb[j].exp <= now) {
			continue;
		}
		while (model[slot].used) {
			slot++;
		}
		model[slot] = nb[j];
		model[slot].used = true;
		model[slot].seq = (*seq)++;
		any = true;
	}
	m_ver[k] = any ? v : 0;
}

/*
 * A replica applies a set, at a version that is sometimes stale. Returns 0 when the store agrees
 * with the model (applied, refused as stale, or refused as full with nothing changed), else 1.
 */
static unsigned m_set_aor(struct dht_store *s, uint32_t now, uint32_t *next_tag, uint64_t *seq,
			  unsigned *n_set, unsigned *n_stale, unsigned *n_full)
{
	static struct m_binding nb[M_SET];
	static int old[M_BIND];
	int k = (int)below(M_KEYS);
	for (int tries = below(2) * 8; tries > 0; tries--) { /* half the time a key held */
		int i = (int)below(M_BIND);
		if (model[i].used) {
			k = model[i].key;
			break;
		}
	}
	uint64_t cur = m_version(k);
	unsigned nold = m_of_key(k, old), n = m_new_set(k, now, next_tag, nb), live = 0, nfree = 0;
	for (int i = 0; i < M_BIND; i++) {
		nfree += !model[i].used;
	}
	for (unsigned j = 0; j < n; j++) {
		live += nb[j].exp > now;
	}
	if (nfree + nold < live) {
		return 0;
	}
	uint64_t v = below(5) == 0 ? cur - below(2) : cur + 1 + below(1000);
	struct dht_binding_data d[M_SET];
	for (unsigned j = 0; j < n; j++) {
		d[j] = m_data(&nb[j]);
	}
	struct dht_store_stats before = stats(s);
	const char *key = m_keyname[k];
	int ret = dht_store_set_aor(s, m_keyid[k], key, strlen(key), v, d, n, now);
	struct dht_store_stats after = stats(s);
	if (nold > 0 && v <= cur) {
		(*n_stale)++;
		return ret != LC_ESTALE || !same_stats(&before, &after);
	}
	if (ret == LC_EFULL) {
		(*n_full)++;
		return !same_stats(&before, &after) || after.full != before.full + 1;
	}
	if (ret != LC_OK) {
		return 1;
	}
	(*n_set)++;
	m_apply_set(k, nb, n, v, now, seq);
	return 0;
}

static void test_model(void)
{
	rng_s = 0x10c05;
	struct dht_store *s = new_store(M_MAXB, M_MAXA, 160 * 1024, T0);
	uint64_t empty_used = stats(s).bytes_used;
	for (int k = 0; k < M_KEYS; k++) {
		snprintf(m_keyname[k], sizeof(m_keyname[k]), "sip:+1555%07d@example.com", k);
		/* every 25th key shares one id, so collisions are exercised throughout */
		m_keyid[k] = k % 25 == 0 ? (dht_id_t)0xabcdef
					 : dht_key_of(m_keyname[k], strlen(m_keyname[k]), 9);
	}
	memset(model, 0, sizeof(model));
	uint32_t now = T0, next_tag = 1;
	uint64_t seq = 0;
	unsigned n_ops = 0, n_full = 0, n_add = 0, n_upd = 0, n_rm = 0, n_exp = 0, fails = 0;
	unsigned refresh_touch = 0, room_lied = 0, checks = 0;
	unsigned n_set = 0, n_stale = 0, n_set_full = 0;
	memset(m_ver, 0, sizeof(m_ver));
	uint64_t bad_key = 0;
	for (n_ops = 0; n_ops < 200000 && fails == 0; n_ops++) {
		uint32_t op = below(100);
		int pick = -1;
		for (int tries = 0; tries < 8 && pick < 0; tries++) {
			int i = (int)below(M_BIND);
			if (model[i].used) {
				pick = i;
			}
		}
		if (op < 40) { /* add */
			int slot = -1;
			for (int i = 0; i < M_BIND && slot < 0; i++) {
				if (!model[i].used) {
					slot = i;
				}
			}
			if (slot < 0) {
				continue;
			}
			struct m_binding *m = &model[slot];
			m->key = (uint16_t)below(M_KEYS);
			m->tag = next_tag++;
			m->exp = below(20) == 0	  ? now - below(5)
				 : below(50) == 0 ? now + below(0x20000000)
						  : now + 1 + below(400);
			m_fields(m);
			struct dht_binding_data d = m_data(m);
			const char *key = m_keyname[m->key];
			bool fresh = dht_store_find(s, m_keyid[m->key], key, strlen(key)) == NULL;
			(void)m_version(m->key); /* a key created here starts at version 0 */
			size_t vb =
				(size_t)m->len[0] + m->len[1] + m->len[2] + m->len[3] + m->len[4];
			bool room = dht_store_has_room(s, 1, vb, fresh ? strlen(key) : 0);
			struct dht_store_stats before = stats(s);
			int ret = dht_store_add(s, m_keyid[m->key], key, strlen(key), &d);
			if (ret == LC_OK) {
				m->used = true;
				m->seq = seq++;
				n_add++;
			} else {
				struct dht_store_stats after = stats(s);
				n_full++;
				fails += ret != LC_EFULL || after.bytes_used != before.bytes_used ||
					 after.bindings != before.bindings ||
					 after.full != before.full + 1;
				room_lied += room;
			}
		} else if (op < 60 && pick >= 0) { /* update: refresh or new strings */
			struct m_binding *m = &model[pick];
			struct dht_binding *b = m_find(s, pick);
			if (b == NULL) {
				fails++;
				break;
			}
			struct m_binding saved = *m;
			bool refresh = below(2) == 0;
			if (!refresh) {
				m_fields(m);
			}
			m->exp = now + 1 + below(400);
			struct dht_binding_data d = m_data(m);
			uint64_t used = stats(s).bytes_used;
			int ret = dht_store_update(s, b, &d);
			if (ret != LC_OK) {
				*m = saved;
				fails += ret != LC_EFULL || stats(s).bytes_used != used;
				n_full++;
			} else {
				refresh_touch += refresh && stats(s).bytes_used != used;
				n_upd++;
				if (below(4) == 0) { /* the owner versions its change */
					const char *key = m_keyname[m->key];
					m_ver[m->key] = m_ver[m->key] + 1 + below(100);
					dht_aor_set_version(dht_store_find(s, m_keyid[m->key], key,
									   strlen(key)),
							    m_keyid[m->key], m_ver[m->key]);
				}
			}
		} else if (op < 75 && pick >= 0) { /* remove one, or the whole key */
			struct dht_binding *b = m_find(s, pick);
			if (b == NULL) {
				fails++;
				break;
			}
			if (below(5) == 0) {
				const char *key = m_keyname[model[pick].key];
				dht_store_remove_aor(s, dht_store_find(s, m_keyid[model[pick].key],
								       key, strlen(key)));
				for (int i = 0; i < M_BIND; i++) {
					if (model[i].used && model[i].key == model[pick].key) {
						model[i].used = false;
					}
				}
			} else {
				dht_store_remove(s, b);
				model[pick].used = false;
			}
			n_rm++;
		} else if (op < 95) { /* time passes, the wheel reaps with a budget */
			uint32_t r = below(1000);
			now += r < 990 ? below(8) : r < 998 ? 3000 + below(100000) : 0x01000000u;
			unsigned budget = 1 + below(20);
			unsigned n = dht_store_expire(s, now, budget);
			/* only due bindings may go: the ones gone are all due, and as many as reaped;
			 * with the count of bindings held, nothing else went */
			uint64_t held_before = stats(s).bindings + n;
			unsigned gone = 0;
			for (int i = 0; i < M_BIND; i++) {
				if (model[i].used && model[i].exp <= now && m_find(s, i) == NULL) {
					model[i].used = false;
					gone++;
				}
			}
			fails += n > budget || gone != n || stats(s).bindings + n != held_before;
			n_exp += n;
		} else { /* a replica applies a set */
			fails += m_set_aor(s, now, &next_tag, &seq, &n_set, &n_stale, &n_set_full);
		}
		if (n_ops % 500 == 0) {
			checks++;
			if (!m_check(s, now, &bad_key)) {
				fails++;
			}
		}
	}
	ok(fails == 0,
	   "200k random ops agree with the model (%u ops, %u adds, %u updates, %u removes, "
	   "%u expired, %u refused, %u full checks; %u sets applied, %u stale, %u full)",
	   n_ops, n_add, n_upd, n_rm, n_exp, n_full, checks, n_set, n_stale, n_set_full);
	ok(n_set > 1000 && n_stale > 100 && n_set_full > 10,
	   "sets were applied, refused as stale and refused as full");
	if (fails) {
		printf("#   failed at op %u, key %llu\n", n_ops, (unsigned long long)bad_key);
	}
	ok(m_check(s, now, &bad_key), "final state agrees with the model");
	ok(n_full > 0, "the pools ran out along the way (%u refusals)", n_full);
	is_int(refresh_touch, 0, "no plain refresh touched the var region");
	is_int(room_lied, 0, "no add refused after has_room said yes");
	/* everything expires in the end */
	unsigned calls = 0;
	while (stats(s).bindings > 0 && calls++ < 100000) {
		dht_store_expire(s, UINT32_MAX, 50);
	}
	struct dht_store_stats st = stats(s);
	ok(st.bindings == 0 && st.aors == 0 && st.bytes_used == empty_used,
	   "after the last expiry the store is empty and its bytes are all back");
	dht_store_free(s);
}

int main(void)
{
	plan(168);
	test_fields();
	test_wheel();
	test_budget();
	test_full();
	test_has_room_agrees();
	test_collisions_and_limits();
	test_walk();
	test_versions();
	test_set_aor();
	test_set_aor_full();
	test_model();
	return exit_status();
}
