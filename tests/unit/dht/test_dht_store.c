/* SPDX-License-Identifier: MIT */
/*
 * The binding store: every field read back, refresh without touching the var region, updates,
 * removal, first-added order and caps, expired bindings hidden before reaping, the expiry wheel
 * across slot wraps, its levels and far jumps of time with budgeted reaping, each pool running out
 * (LC_EFULL changes nothing, has_room agrees, space comes back), forced id collisions, length
 * limits, the key walk, versions (each record's own, the key's as the highest its records had,
 * and what a key and a record's 16-byte header cost), digest shares (the XOR of the records'),
 * tombstones (dht_store_tombstone, REMOVED adds, dht_store_clear, reaped at their time),
 * dht_store_merge (record by record: newer taken, older and equal refused, ties by writer, a copy
 * with fewer records removes nothing, REMOVED and CLEARED records remove, expired records and
 * records beyond max_version not taken, in-place refreshes, each pool and the per-key cap running
 * out with the records before the refused one merged), the merge's bounds (expiry, registration
 * time and version of a copy from another node, each at and one past its bound, versions near
 * 2^64 whatever the caller allows), and a randomized run of 200k operations, tombstones, clears
 * and replica merges included, against a naive model.
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
#include "tests/prng.h"
#include "tests/tap.h"
#include "tests/unit/dht/merge_bounds.h"

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

/* ---- versions, digest shares, tombstones and dht_store_merge ---- */

static struct dht_binding_data at(struct dht_binding_data d, uint64_t version, uint64_t writer)
{
	d.version = version;
	d.writer = writer;
	return d;
}

static void versions(struct dht_binding_data *d, unsigned n, uint64_t version, uint64_t writer)
{
	for (unsigned i = 0; i < n; i++) {
		d[i].version = version;
		d[i].writer = writer;
	}
}

static int merge(struct dht_store *s, const char *key, const struct dht_binding_data *d, unsigned n,
		 uint32_t now)
{
	return dht_store_merge(s, idk(key), key, strlen(key), d, n, BOUNDS(now, UINT64_MAX));
}

/* Everything a reader can see of a key (tombstones and records past expiry not yet reaped
 * included), as text. */
static const char *dump(struct dht_store *s, const char *key)
{
	static char buf[16384];
	struct dht_aor *a = find(s, key);
	if (a == NULL) {
		return "absent";
	}
	size_t len =
		(size_t)snprintf(buf, sizeof(buf), "v%llx", (unsigned long long)dht_aor_version(a));
	struct dht_binding *b[300];
	unsigned n = dht_aor_records(a, 0, b, 300);
	for (unsigned i = 0; i < n && len < sizeof(buf); i++) {
		struct dht_binding_data r;
		dht_binding_read(b[i], &r);
		len += (size_t)snprintf(
			buf + len, sizeof(buf) - len,
			"|%u:%llx:%llx,%.*s,%.*s,%.*s,%.*s,%.*s,%u,%u,%u,%u,%d,%u,%x", r.kind,
			(unsigned long long)r.version, (unsigned long long)r.writer, (int)r.uri.len,
			r.uri.p, (int)r.call_id.len, r.call_id.p, (int)r.instance.len, r.instance.p,
			(int)r.path.len, r.path.p, (int)r.attrs.len, r.attrs.p, r.reg_id,
			r.expires_at_s, r.cseq, r.txn_tag, r.q, r.src.port, r.src.addr[15]);
	}
	return buf;
}

static bool same_stats(const struct dht_store_stats *a, const struct dht_store_stats *b)
{
	return a->aors == b->aors && a->bindings == b->bindings && a->tombstones == b->tombstones &&
	       a->bytes_used == b->bytes_used && a->bytes_var == b->bytes_var;
}

/* The accounting adds up: records are 32 bytes a key and 64 a record, tombstones included. */
static bool stats_add_up(const struct dht_store *s)
{
	struct dht_store_stats st = stats(s);
	return st.bytes_records ==
		       st.aors * sizeof(struct dht_aor) +
			       (st.bindings + st.tombstones) * sizeof(struct dht_binding) &&
	       st.bytes_used == st.bytes_index + st.bytes_records + st.bytes_var;
}

static void test_versions(void)
{
	struct dht_store *s = new_store(16, 0, 0, T0);
	const char *key = "sip:ver@example.com";
	struct dht_binding_data d1 = mk("sip:ver@192.0.2.1", "c1", T0 + 60);
	struct dht_binding_data d2 =
		at(mk("sip:ver@192.0.2.2", "c2", T0 + 120), 0xfedcba9876543210ull, 9);
	ok(add(s, key, &d1) == LC_OK, "add a record at version 0");
	struct dht_aor *a = find(s, key);
	is_int(dht_aor_version(a), 0, "the key's version is its record's");
	ok(dht_aor_id_hi(a) == (uint64_t)(idk(key) >> 64), "the record keeps the id's top half");
	ok(add(s, key, &d2) == LC_OK && dht_aor_version(find(s, key)) == 0xfedcba9876543210ull,
	   "a record at a higher version raises the key's version");
	struct dht_bytes k = dht_aor_key(a);
	is_mem(k.p, k.len, key, "the key's bytes are untouched by the version");
	struct dht_binding *b[4];
	struct dht_binding_data r0, r1;
	dht_aor_bindings(find(s, key), T0, b, 4);
	dht_binding_read(b[0], &r0);
	dht_binding_read(b[1], &r1);
	ok(r0.version == 0 && r0.writer == 0 && r0.kind == DHT_REC_LIVE &&
		   r1.version == 0xfedcba9876543210ull && r1.writer == 9 && r1.kind == DHT_REC_LIVE,
	   "each record keeps its own version, writer and kind");
	/* an update of the first record (same identity: its URI), new strings, a lower version */
	struct dht_binding_data u = at(mk("sip:ver@192.0.2.1", "changed-call-id", T0 + 90), 7, 1);
	u.src.family = AF_INET6;
	u.src.addr[15] = 1;
	ok(dht_store_update(s, b[0], &u) == LC_OK &&
		   dht_aor_version(find(s, key)) == 0xfedcba9876543210ull,
	   "an update at a lower version keeps the key's version");
	dht_aor_bindings(find(s, key), T0, b, 4);
	dht_binding_read(b[0], &r0);
	ok(r0.version == 7 && r0.writer == 1 && r0.call_id.len == 15,
	   "and the record takes the update's version and writer");
	dht_store_remove(s, b[0]);
	ok(dht_aor_version(find(s, key)) == 0xfedcba9876543210ull,
	   "removing one record keeps the version");
	d1.expires_at_s = T0 + 200;
	ok(add(s, key, &d1) == LC_OK && dht_store_expire(s, T0 + 120, 10) == 1 &&
		   dht_aor_version(find(s, key)) == 0xfedcba9876543210ull,
	   "an expiry keeps the version, even of the record that set it");
	dht_aor_bindings(find(s, key), T0, b, 4);
	dht_store_tombstone(s, b[0], 3, 1, T0 + 300);
	ok(dht_aor_version(find(s, key)) == 0xfedcba9876543210ull,
	   "a tombstone at a lower version keeps it");
	dht_aor_records(find(s, key), T0, b, 4);
	dht_store_remove(s, b[0]);
	ok(find(s, key) == NULL, "the key goes with its last record");
	d1.version = 3;
	ok(add(s, key, &d1) == LC_OK && dht_aor_version(find(s, key)) == 3,
	   "and comes back at its new record's version");

	/* the longest key, and an empty one */
	char longkey[DHT_KEY_MAX];
	memset(longkey, 'L', sizeof(longkey));
	d1.version = UINT64_MAX;
	ok(dht_store_add(s, 5, longkey, sizeof(longkey), &d1) == LC_OK, "a 512-byte key");
	a = dht_store_find(s, 5, longkey, sizeof(longkey));
	k = dht_aor_key(a);
	ok(dht_aor_version(a) == UINT64_MAX && k.len == DHT_KEY_MAX &&
		   memcmp(k.p, longkey, k.len) == 0,
	   "its version (UINT64_MAX) and bytes");
	/* what a key costs: a block of its bytes + 10 (version, length) + a 4-byte block header,
	 * in 8-byte granules; a record's block: its 16-byte header (version, writer), its strings,
	 * 16 address bytes for an IPv6 source, + 4, in granules */
	struct dht_binding_data e = at(mk("", "", T0 + 60), 77, 1);
	uint64_t var0 = stats(s).bytes_var;
	ok(dht_store_add(s, 6, NULL, 0, &e) == LC_OK, "an empty key with a record of no strings");
	a = dht_store_find(s, 6, NULL, 0);
	ok(dht_aor_version(a) == 77 && dht_aor_key(a).len == 0, "its version");
	uint64_t var1 = stats(s).bytes_var;
	ok(dht_store_add(s, 7, "abc", 3, &e) == LC_OK, "a key of 3 bytes");
	uint64_t var2 = stats(s).bytes_var;
	ok(var1 - var0 == 16 + 24 && var2 - var1 == 24 + 24,
	   "a key block costs 16 bytes empty, 24 with 3 bytes, a record of no strings 24 (%llu, "
	   "%llu)",
	   (unsigned long long)(var1 - var0), (unsigned long long)(var2 - var1));
	struct dht_binding_data e5 = at(mk("sip:a", "", T0 + 60), 77, 1);
	struct dht_binding_data e6 = e5;
	e6.uri = bs("sip:b");
	e6.src.family = AF_INET6;
	e6.src.addr[0] = 0x20;
	e6.src.addr[15] = 1;
	ok(dht_store_add(s, 7, "abc", 3, &e5) == LC_OK, "a record of a 5-byte URI");
	uint64_t var3 = stats(s).bytes_var;
	ok(dht_store_add(s, 7, "abc", 3, &e6) == LC_OK, "and one from an IPv6 source");
	uint64_t var4 = stats(s).bytes_var;
	ok(var3 - var2 == 32 && var4 - var3 == 48,
	   "they cost 32 (16 + 5 + 4) and 48 (16 + 5 + 16 + 4) var bytes (%llu, %llu)",
	   (unsigned long long)(var3 - var2), (unsigned long long)(var4 - var3));
	ok(stats_add_up(s), "the accounting adds up");
	dht_store_free(s);
}

/* The digest share of one key holding @p d (merged into a store of its own). */
static uint64_t share_of(const struct dht_binding_data *d, unsigned n)
{
	struct dht_store *s = new_store(16, 0, 0, T0);
	uint64_t h = 0;
	if (merge(s, "sip:share@example.com", d, n, T0) == LC_OK) {
		h = dht_aor_sync_hash(find(s, "sip:share@example.com"));
	}
	dht_store_free(s);
	return h;
}

static void test_shares(void)
{
	struct dht_binding_data r[2] = {at(mk("sip:s@192.0.2.1", "c1", T0 + 60), 10, 1),
					at(mk("sip:s@192.0.2.2", "c2", T0 + 60), 11, 2)};
	r[1].instance = bs("\"<urn:uuid:s>\"");
	r[1].reg_id = 1;
	struct dht_binding_data rev[2] = {r[1], r[0]};
	uint64_t h0 = share_of(&r[0], 1), h1 = share_of(&r[1], 1), h01 = share_of(r, 2);
	ok(h0 != 0 && h1 != 0 && h0 != h1 && h01 == (h0 ^ h1),
	   "a key's share is the XOR of its records' shares");
	ok(share_of(rev, 2) == h01, "whatever their order");
	/* a record's share is of its identity, version, writer and kind, not its other fields */
	struct dht_binding_data x = r[0];
	x.call_id = bs("another-call-id");
	x.expires_at_s = T0 + 3600;
	x.cseq = 99;
	x.path = bs("<sip:p.example.com;lr>");
	ok(share_of(&x, 1) == h0, "the same record with other fields: the same share");
	x = at(r[0], 10, 2);
	bool differ = share_of(&x, 1) != h0;
	x = at(r[0], 11, 1);
	differ &= share_of(&x, 1) != h0;
	x = r[0];
	x.kind = DHT_REC_REMOVED;
	differ &= share_of(&x, 1) != h0;
	x = r[0];
	x.uri = bs("sip:s@192.0.2.9");
	differ &= share_of(&x, 1) != h0;
	x = r[1];
	x.reg_id = 2;
	differ &= share_of(&x, 1) != h1;
	x = r[1];
	x.uri = bs("sip:s@192.0.2.9"); /* an instance's identity is not its URI */
	differ &= share_of(&x, 1) == h1;
	ok(differ, "another writer, version, kind, URI or reg-id changes it; an instance's URI "
		   "does not");

	/* the share follows every change of the key */
	struct dht_store *s = new_store(16, 0, 0, T0);
	const char *key = "sip:share@example.com";
	ok(merge(s, key, r, 2, T0) == LC_OK && dht_aor_sync_hash(find(s, key)) == h01,
	   "merged: the share of both records");
	struct dht_binding *b[4];
	dht_aor_bindings(find(s, key), T0, b, 4);
	dht_store_tombstone(s, b[0], 12, 1, T0 + 500);
	struct dht_binding_data t[2] = {at(r[0], 12, 1), r[1]};
	t[0].kind = DHT_REC_REMOVED;
	ok(dht_aor_sync_hash(find(s, key)) == share_of(t, 2),
	   "a tombstone: as a copy holding that tombstone");
	dht_aor_records(find(s, key), T0, b, 4);
	dht_store_remove(s, b[1]);
	ok(dht_aor_sync_hash(find(s, key)) == share_of(t, 1), "a record gone: its share with it");
	ok(dht_store_clear(s, idk(key), key, strlen(key), 20, 3, T0 + 900) == LC_OK,
	   "clear the key");
	struct dht_binding_data c = {.kind = DHT_REC_CLEARED,
				     .version = 20,
				     .writer = 3,
				     .expires_at_s = T0 + 900,
				     .q = -1};
	ok(dht_aor_sync_hash(find(s, key)) == share_of(&c, 1),
	   "cleared: the share of its CLEARED record");
	dht_store_free(s);
}

static void test_tombstones(void)
{
	struct dht_store *s = new_store(4, 0, 0, T0);
	struct dht_store_stats empty = stats(s);
	const char *key = "sip:tomb@example.com";
	struct dht_binding_data x = at(mk("sip:t@192.0.2.1", "cx", T0 + 60), 5, 1);
	struct dht_binding_data y = at(mk("sip:t@192.0.2.2", "cy", T0 + 60), 5, 1);
	ok(add(s, key, &x) == LC_OK && add(s, key, &y) == LC_OK, "two bindings");
	struct dht_binding *b[4];
	dht_aor_bindings(find(s, key), T0, b, 4);
	dht_store_tombstone(s, b[0], 6, 2, T0 + 500);
	struct dht_aor *a = find(s, key);
	struct dht_store_stats st = stats(s);
	ok(st.bindings == 1 && st.tombstones == 1 && dht_aor_count(a) == 2 &&
		   dht_aor_live_count(a) == 1,
	   "a tombstone: one binding and one tombstone held");
	ok(dht_aor_bindings(a, T0, b, 4) == 1 && dht_aor_records(a, T0, b + 1, 3) == 2 &&
		   b[0] == b[2],
	   "bindings gives the live one; records gives both, in first-added order");
	struct dht_binding_data r;
	dht_binding_read(b[1], &r);
	ok(r.kind == DHT_REC_REMOVED && r.version == 6 && r.writer == 2 &&
		   r.expires_at_s == T0 + 500 && r.uri.len == 15 &&
		   memcmp(r.uri.p, "sip:t@192.0.2.1", 15) == 0 && r.call_id.len == 2 &&
		   dht_aor_version(a) == 6,
	   "the tombstone: its place, strings, version, writer and time; the key's version rises");
	ok(dht_store_expire(s, T0 + 60, 10) == 1 && find(s, key) != NULL &&
		   dht_aor_count(find(s, key)) == 1 && dht_aor_live_count(find(s, key)) == 0,
	   "the binding expires; the key stays with its tombstone");
	ok(dht_aor_bindings(find(s, key), T0 + 60, b, 4) == 0 &&
		   dht_aor_records(find(s, key), T0 + 499, b, 4) == 1 &&
		   dht_aor_records(find(s, key), T0 + 500, b, 4) == 0,
	   "no binding to read; the tombstone shows until its time");
	ok(dht_store_expire(s, T0 + 499, 10) == 0 && dht_store_expire(s, T0 + 500, 10) == 1 &&
		   find(s, key) == NULL,
	   "the wheel reaps it at its expires_at_s, and the key goes");
	st = stats(s);
	ok(st.tombstones == 0 && st.bindings == 0 && st.bytes_used == empty.bytes_used,
	   "every byte is back");

	/* a REMOVED record for an identity not held; CLEARED only through dht_store_clear */
	struct dht_binding_data z = at(mk("sip:t@192.0.2.3", "cz", T0 + 400), 7, 1);
	z.kind = DHT_REC_REMOVED;
	ok(add(s, key, &z) == LC_OK && stats(s).tombstones == 1 && stats(s).bindings == 0 &&
		   dht_aor_bindings(find(s, key), T0, b, 4) == 0 &&
		   dht_aor_records(find(s, key), T0, b, 4) == 1,
	   "dht_store_add of a REMOVED record: a tombstone, no binding");
	z.kind = DHT_REC_CLEARED;
	is_int(add(s, key, &z), LC_EINVAL, "dht_store_add of a CLEARED record: LC_EINVAL");
	is_int(dht_store_update(s, b[0], &z), LC_EINVAL, "and dht_store_update: LC_EINVAL");
	dht_store_remove_aor(s, find(s, key));

	/* dht_store_clear: everything below it goes, what is above stays */
	struct dht_binding_data lo = at(mk("sip:t@192.0.2.1", "lo", T0 + 60), 3, 1);
	struct dht_binding_data hi = at(mk("sip:t@192.0.2.2", "hi", T0 + 60), 8, 1);
	ok(add(s, key, &lo) == LC_OK && add(s, key, &hi) == LC_OK, "records at versions 3 and 8");
	is_int(dht_store_clear(s, idk(key), key, strlen(key), 5, 1, T0 + 900), LC_OK,
	       "clear at version 5");
	a = find(s, key);
	ok(dht_aor_count(a) == 2 && dht_aor_live_count(a) == 1 && stats(s).tombstones == 1 &&
		   dht_aor_version(a) == 8,
	   "the record at 3 is gone, the one at 8 stays, with a CLEARED record");
	unsigned n = dht_aor_records(a, T0, b, 4);
	bool cleared = false, high = false;
	for (unsigned i = 0; i < n; i++) {
		dht_binding_read(b[i], &r);
		cleared |= r.kind == DHT_REC_CLEARED && r.version == 5 && r.writer == 1 &&
			   r.expires_at_s == T0 + 900 && r.uri.len == 0 && r.instance.len == 0;
		high |= r.kind == DHT_REC_LIVE && r.version == 8;
	}
	ok(n == 2 && cleared && high, "the CLEARED record reads back: version, writer, time");
	char before_dump[16384];
	snprintf(before_dump, sizeof(before_dump), "%s", dump(s, key));
	struct dht_store_stats before = stats(s);
	bool same = dht_store_clear(s, idk(key), key, strlen(key), 4, 9, T0 + 900) == LC_OK &&
		    dht_store_clear(s, idk(key), key, strlen(key), 5, 1, T0 + 999) == LC_OK;
	st = stats(s);
	ok(same && strcmp(before_dump, dump(s, key)) == 0 && same_stats(&before, &st),
	   "an older or equal clear changes nothing");
	is_int(dht_store_clear(s, idk(key), key, strlen(key), 9, 1, T0 + 900), LC_OK,
	       "clear at version 9");
	ok(dht_aor_count(find(s, key)) == 1 && dht_aor_live_count(find(s, key)) == 0 &&
		   stats(s).tombstones == 1,
	   "one CLEARED record is all that is left");
	ok(dht_store_clear(s, idk("sip:other"), "sip:other", 9, 2, 1, T0 + 100) == LC_OK &&
		   find(s, "sip:other") != NULL && dht_aor_count(find(s, "sip:other")) == 1 &&
		   dht_aor_version(find(s, "sip:other")) == 2 && stats(s).tombstones == 2,
	   "a key not held gets a CLEARED record");
	/* a full pool: a held key's records are rewritten in place, a new key has no room */
	hi = at(hi, 10, 1);
	lo = at(lo, 10, 1);
	ok(add(s, key, &hi) == LC_OK && add(s, key, &lo) == LC_OK &&
		   stats(s).bindings + stats(s).tombstones == 4,
	   "the pool of four is full");
	before = stats(s);
	ok(dht_store_clear(s, idk(key), key, strlen(key), 11, 1, T0 + 900) == LC_OK &&
		   dht_aor_count(find(s, key)) == 1,
	   "clearing a held key needs no room");
	ok(add(s, "sip:x", &hi) == LC_OK && add(s, "sip:y", &hi) == LC_OK, "refill the pool");
	before = stats(s);
	is_int(dht_store_clear(s, idk("sip:z"), "sip:z", 5, 2, 1, T0 + 100), LC_EFULL,
	       "a new key in a full store: LC_EFULL");
	st = stats(s);
	ok(same_stats(&before, &st) && st.full == before.full + 1 && find(s, "sip:z") == NULL,
	   "nothing changed but the full counter");
	char longkey[DHT_KEY_MAX + 1];
	memset(longkey, 'k', sizeof(longkey));
	is_int(dht_store_clear(s, 1, longkey, sizeof(longkey), 5, 1, T0 + 100), LC_ETOOLONG,
	       "a key of 513 bytes");
	unsigned calls = 0;
	while (stats(s).aors > 0 && calls++ < 100) {
		dht_store_expire(s, UINT32_MAX, 10);
	}
	st = stats(s);
	ok(st.aors == 0 && st.tombstones == 0 && st.bytes_used == empty.bytes_used,
	   "every tombstone expires and every byte is back");
	dht_store_free(s);
}

static void test_merge(void)
{
	struct dht_store *s = new_store(64, 0, 0, T0);
	const char *key = "sip:rep@example.com";
	struct dht_binding_data d[6];
	d[0] = mk("sip:rep@192.0.2.1:5060;ob", "call-a", T0 + 60);
	d[1] = mk("sip:rep@192.0.2.2", "call-b", T0); /* expires at now: not taken */
	d[2] = mk("sip:rep@[2001:db8::3]", "call-c", T0 + 300);
	d[2].src.family = AF_INET6;
	d[2].src.addr[0] = 0x20;
	d[2].src.addr[15] = 3;
	d[2].instance = bs("\"<urn:uuid:1>\"");
	d[0].cseq = 10;
	d[2].cseq = 30;
	versions(d, 3, 5, 1);
	struct dht_store_stats empty = stats(s);
	is_int(merge(s, key, d, 3, T0), LC_OK, "merge a new key at version 5");
	struct dht_aor *a = find(s, key);
	ok(a != NULL && dht_aor_version(a) == 5 && dht_aor_count(a) == 2 &&
		   dht_aor_live_count(a) == 2,
	   "it holds the two live records at version 5");
	struct dht_binding *b[8];
	dht_aor_bindings(a, T0, b, 8);
	struct dht_binding_data r0, r1, r2;
	dht_binding_read(b[0], &r0);
	dht_binding_read(b[1], &r1);
	ok(r0.call_id.len == 6 && memcmp(r0.call_id.p, "call-a", 6) == 0 && r0.cseq == 10 &&
		   r1.cseq == 30 && r1.src.addr[15] == 3 && r1.instance.len == 14 &&
		   r0.version == 5 && r0.writer == 1 && r1.version == 5 && r1.writer == 1 &&
		   r0.kind == DHT_REC_LIVE && r1.kind == DHT_REC_LIVE,
	   "in the order given, every field, versions and writers");
	struct dht_binding *first = b[0], *second = b[1];

	/* nothing newer: LC_ESTALE, nothing changes */
	char before_dump[16384];
	snprintf(before_dump, sizeof(before_dump), "%s", dump(s, key));
	struct dht_store_stats before = stats(s), after;
	d[0].cseq = 11;
	is_int(merge(s, key, d, 3, T0), LC_ESTALE, "the same versions: LC_ESTALE");
	versions(d, 3, 4, 9);
	is_int(merge(s, key, d, 3, T0), LC_ESTALE, "older versions, a higher writer: LC_ESTALE");
	versions(d, 3, 5, 0);
	is_int(merge(s, key, d, 3, T0), LC_ESTALE, "the same version by a lower writer: LC_ESTALE");
	is_int(merge(s, key, NULL, 0, T0), LC_ESTALE, "an empty copy: LC_ESTALE");
	after = stats(s);
	ok(same_stats(&before, &after) && strcmp(before_dump, dump(s, key)) == 0 &&
		   after.full == before.full,
	   "nothing changed");

	/* a replicated refresh: the same strings, new expiries and CSeqs */
	d[0].expires_at_s = T0 + 3600;
	d[2].expires_at_s = T0 + 3700;
	d[2].src.addr[15] = 4; /* the IPv6 source changed: rewritten in its block */
	versions(d, 3, 6, 1);
	before = stats(s);
	is_int(merge(s, key, d, 3, T0 + 1), LC_OK, "a refresh at version 6");
	after = stats(s);
	dht_aor_bindings(a, T0, b, 8);
	dht_binding_read(b[0], &r0);
	dht_binding_read(b[1], &r1);
	ok(b[0] == first && b[1] == second && after.bytes_used == before.bytes_used,
	   "applied in place: the same records, no var-region work");
	ok(r0.expires_at_s == T0 + 3600 && r0.cseq == 11 && r1.expires_at_s == T0 + 3700 &&
		   r1.src.addr[15] == 4 && r0.version == 6 && dht_aor_version(a) == 6,
	   "the new expiries, CSeq, address and versions are read back");
	ok(dht_store_expire(s, T0 + 300, 10) == 0 && dht_store_expire(s, T0 + 3600, 10) == 1,
	   "the wheel follows the new expiries");

	/* a tie of versions: the higher writer wins */
	d[0].expires_at_s = T0 + 4000;
	d[0].cseq = 12;
	struct dht_binding_data w2 = at(d[0], 6, 2);
	is_int(merge(s, key, &w2, 1, T0 + 2), LC_OK,
	       "a record at the same version by a higher writer is taken");
	w2 = at(d[0], 6, 1);
	w2.cseq = 13;
	is_int(merge(s, key, &w2, 1, T0 + 2), LC_ESTALE, "by the lower writer again: LC_ESTALE");
	dht_aor_bindings(a, T0 + 2, b, 8);
	dht_binding_read(b[1], &r1);
	ok(dht_aor_count(a) == 2 && r1.cseq == 12 && r1.writer == 2,
	   "the identity's record is the higher writer's");

	/* three records, then a copy without the middle one: it stays, only tombstones remove */
	d[1].expires_at_s = T0 + 3650;
	struct dht_binding_data three[3] = {d[0], d[1], d[2]};
	versions(three, 3, 7, 1);
	is_int(merge(s, key, three, 3, T0 + 2), LC_OK, "three records at version 7");
	dht_aor_bindings(a, T0 + 2, b, 8);
	struct dht_binding *mid = b[2];
	before = stats(s);
	struct dht_binding_data two[2] = {at(d[0], 8, 1), at(d[2], 8, 1)};
	is_int(merge(s, key, two, 2, T0 + 2), LC_OK, "a copy of the other two at version 8");
	after = stats(s);
	dht_aor_bindings(a, T0 + 2, b, 8);
	dht_binding_read(mid, &r2);
	ok(dht_aor_live_count(a) == 3 && b[2] == mid && r2.version == 7 &&
		   same_stats(&before, &after),
	   "a copy with fewer records removes none: the third stays at version 7");
	struct dht_binding_data rm = at(d[1], 8, 1);
	rm.kind = DHT_REC_REMOVED;
	rm.expires_at_s = T0 + 5000;
	is_int(merge(s, key, &rm, 1, T0 + 2), LC_OK, "a REMOVED record of it at version 8");
	after = stats(s);
	ok(dht_aor_live_count(a) == 2 && dht_aor_count(a) == 3 &&
		   dht_aor_bindings(a, T0 + 2, b, 8) == 2 &&
		   dht_aor_records(a, T0 + 2, b, 8) == 3 && b[2] == mid &&
		   after.bindings == before.bindings - 1 &&
		   after.tombstones == before.tombstones + 1,
	   "it is a tombstone in its place: two bindings, three records");
	struct dht_binding_data old = at(d[1], 7, 2);
	is_int(merge(s, key, &old, 1, T0 + 2), LC_ESTALE, "an older add of it loses to it");
	dht_binding_read(mid, &r2);
	ok(r2.kind == DHT_REC_REMOVED && r2.version == 8 && r2.expires_at_s == T0 + 5000,
	   "the tombstone stays");
	struct dht_binding_data back = at(d[1], 9, 1);
	is_int(merge(s, key, &back, 1, T0 + 2), LC_OK, "a newer add beats it");
	dht_binding_read(mid, &r2);
	ok(r2.kind == DHT_REC_LIVE && r2.version == 9 && dht_aor_live_count(a) == 3 &&
		   stats(s).tombstones == 0,
	   "the binding is back, in its place");

	/* a changed record whose strings need a block of the same size (the order is now d[2],
	 * d[0], d[1]: d[0] came back after it expired) */
	two[0] = at(d[0], 10, 1);
	two[0].call_id = bs("call-z");
	dht_aor_bindings(a, T0 + 2, b, 8);
	struct dht_binding *keep0 = b[1];
	before = stats(s);
	is_int(merge(s, key, two, 1, T0 + 2), LC_OK, "a same-size change at version 10");
	after = stats(s);
	dht_aor_bindings(a, T0 + 2, b, 8);
	dht_binding_read(b[1], &r0);
	ok(b[1] == keep0 && after.bytes_used == before.bytes_used &&
		   memcmp(r0.call_id.p, "call-z", 6) == 0 && r0.version == 10,
	   "in its place, with as many bytes in use");
	/* a bigger change, and records appended */
	struct dht_binding_data four[4] = {two[0], at(d[2], 11, 2),
					   at(mk("sip:rep@192.0.2.9", "n1", T0 + 99), 11, 2),
					   at(mk("sip:rep@192.0.2.10", "n2", T0 + 98), 11, 2)};
	four[0].version = 11;
	four[0].call_id = bs("call-a-much-longer-call-id-than-before");
	is_int(merge(s, key, four, 4, T0 + 2), LC_OK, "a bigger change and two more records");
	ok(dht_aor_live_count(a) == 5 && stats_add_up(s), "five bindings");
	/* the key reads exactly as its records merged into an empty store */
	struct dht_binding *all[8];
	struct dht_binding_data copy[8];
	unsigned n = dht_aor_records(a, T0 + 2, all, 8);
	for (unsigned i = 0; i < n; i++) {
		dht_binding_read(all[i], &copy[i]);
	}
	char want[16384];
	struct dht_store *ref = new_store(64, 0, 0, T0);
	ok(merge(ref, key, copy, n, T0 + 2) == LC_OK &&
		   strcmp(dump(ref, key), strcpy(want, dump(s, key))) == 0 &&
		   dht_aor_sync_hash(find(ref, key)) == dht_aor_sync_hash(a),
	   "the key reads exactly as its records merged into an empty store, with the same share");
	dht_store_free(ref);

	/* a CLEARED record: everything at or below it goes, what is above stays */
	struct dht_binding_data cl[2] = {
		{.kind = DHT_REC_CLEARED, .version = 12, .writer = 1, .expires_at_s = T0 + 6000},
		at(mk("sip:rep@192.0.2.20", "after", T0 + 600), 13, 1)};
	is_int(merge(s, key, cl, 2, T0 + 2), LC_OK, "a CLEARED record at 12 and a record at 13");
	ok(dht_aor_count(a) == 2 && dht_aor_live_count(a) == 1 && stats(s).tombstones == 1 &&
		   stats(s).bindings == 1 && dht_aor_version(a) == 13,
	   "the five bindings are gone: the CLEARED record and the one above it remain");
	snprintf(before_dump, sizeof(before_dump), "%s", dump(s, key));
	before = stats(s);
	struct dht_binding_data gone[4] = {four[0], four[1], four[2], four[3]};
	versions(gone, 4, 12, 1);
	ok(merge(s, key, gone, 4, T0 + 2) == LC_ESTALE &&
		   merge(s, key, four, 4, T0 + 2) == LC_ESTALE,
	   "the records it removed, at its version and writer or below: not taken");
	after = stats(s);
	ok(same_stats(&before, &after) && strcmp(before_dump, dump(s, key)) == 0,
	   "nothing changed");
	struct dht_binding_data cl2 = {
		.kind = DHT_REC_CLEARED, .version = 14, .writer = 1, .expires_at_s = T0 + 6000};
	is_int(merge(s, key, &cl2, 1, T0 + 2), LC_OK, "a newer CLEARED record");
	ok(dht_aor_count(a) == 1 && dht_aor_live_count(a) == 0 && stats(s).tombstones == 1,
	   "replaces the older one and removes the record at 13");
	ok(merge(s, key, four, 4, T0 + 2) == LC_ESTALE &&
		   merge(s, key, &cl[0], 1, T0 + 2) == LC_ESTALE,
	   "an older CLEARED record and older records are not taken");
	four[2] = at(four[2], 15, 1);
	ok(merge(s, key, four, 4, T0 + 2) == LC_OK && dht_aor_live_count(a) == 1,
	   "a record above it is");

	/* expired records and records from the future are not taken */
	struct dht_binding_data late = at(four[3], 20, 1);
	before = stats(s);
	is_int(merge(s, key, &late, 1, T0 + 98), LC_ESTALE, "a record expired at now: not taken");
	late.expires_at_s = T0 + 1000;
	is_int(dht_store_merge(s, idk(key), key, strlen(key), &late, 1, BOUNDS(T0 + 98, 19)),
	       LC_EFUTURE, "a record above max_version: not taken (LC_EFUTURE)");
	struct dht_binding_data fut[2] = {at(four[3], 21, 1), cl2};
	fut[1].version = 22;
	is_int(dht_store_merge(s, idk(key), key, strlen(key), fut, 2, BOUNDS(T0 + 98, 20)),
	       LC_EFUTURE, "a record and a CLEARED record above it: not taken (LC_EFUTURE)");
	after = stats(s);
	ok(after.future == before.future + 3 && same_stats(&before, &after) &&
		   dht_aor_live_count(a) == 1 && dht_aor_version(a) == 15,
	   "counted in stats.future, nothing else changed");
	is_int(dht_store_merge(s, idk(key), key, strlen(key), &late, 1, BOUNDS(T0 + 98, 20)), LC_OK,
	       "at max_version: taken");

	/* owner-side writes: the key's version is the highest its records had */
	struct dht_binding_data own = at(mk("sip:rep@192.0.2.30", "own", T0 + 600), 3, 1);
	ok(add(s, key, &own) == LC_OK && dht_aor_version(find(s, key)) == 20,
	   "dht_store_add of a lower version keeps the key's version");

	/* too long: nothing changes */
	snprintf(before_dump, sizeof(before_dump), "%s", dump(s, key));
	before = stats(s);
	char longkey[DHT_KEY_MAX + 1];
	memset(longkey, 'k', sizeof(longkey));
	is_int(dht_store_merge(s, 1, longkey, sizeof(longkey), d, 1, BOUNDS(T0, UINT64_MAX)),
	       LC_ETOOLONG, "a key of 513 bytes");
	static char big[DHT_BINDING_VAR_MAX + 1];
	memset(big, 'v', sizeof(big));
	struct dht_binding_data bad[2] = {at(d[0], 99, 1), at(d[0], 99, 1)};
	bad[1].uri = (struct dht_bytes){.p = big, .len = sizeof(big)};
	is_int(merge(s, key, bad, 2, T0), LC_ETOOLONG, "a record of 8193 bytes");
	after = stats(s);
	ok(same_stats(&before, &after) && strcmp(before_dump, dump(s, key)) == 0,
	   "nothing changed");
	/* a copy refused as too long refuses nothing for its version */
	is_int(dht_store_merge(s, idk(key), key, strlen(key), bad, 2, BOUNDS(T0, 98)), LC_ETOOLONG,
	       "a record beyond max_version, then one of 8193 bytes: LC_ETOOLONG");
	after = stats(s);
	is_int(after.future, before.future,
	       "and stats.future is unchanged (the copy was refused as a whole)");
	dht_store_remove_aor(s, find(s, key));
	after = stats(s);
	ok(after.bindings == 0 && after.tombstones == 0 && after.bytes_used == empty.bytes_used,
	   "every byte comes back");
	dht_store_free(s);
}

/* The versions of key @p key's records, in order, as text ("1 1 3" ...). */
static const char *versions_of(struct dht_store *s, const char *key)
{
	static char buf[4096];
	struct dht_aor *a = find(s, key);
	size_t len = 0;
	buf[0] = '\0';
	struct dht_binding *b[300];
	unsigned n = a != NULL ? dht_aor_records(a, 0, b, 300) : 0;
	for (unsigned i = 0; i < n && len < sizeof(buf); i++) {
		struct dht_binding_data r;
		dht_binding_read(b[i], &r);
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%llu", i ? " " : "",
					(unsigned long long)r.version);
	}
	return buf;
}

/* merge against each pool running out: the records before the refused one are merged */
static void test_merge_full(void)
{
	char before_dump[16384];
	struct dht_store_stats before, after;
	/* the binding pool: 4 records in two keys */
	struct dht_store *s = new_store(4, 0, 0, T0);
	struct dht_binding_data x[3] = {mk("sip:x@192.0.2.1", "x1", T0 + 60),
					mk("sip:x@192.0.2.2", "x2", T0 + 60),
					mk("sip:x@192.0.2.3", "x3", T0 + 60)};
	versions(x, 3, 1, 1);
	ok(merge(s, "sip:k1", x, 2, T0) == LC_OK && merge(s, "sip:k2", x, 2, T0) == LC_OK,
	   "two keys of two records fill a pool of four");
	versions(x, 3, 2, 1);
	x[0].expires_at_s = x[1].expires_at_s = T0 + 70;
	is_int(merge(s, "sip:k1", x, 2, T0), LC_OK, "a full pool takes a refresh of both");
	ok(strcmp(versions_of(s, "sip:k1"), "2 2") == 0, "in place");
	struct dht_binding_data y[2] = {at(mk("sip:y@192.0.2.7", "y1", T0 + 70), 3, 1),
					at(mk("sip:y@192.0.2.8", "y2", T0 + 70), 3, 1)};
	snprintf(before_dump, sizeof(before_dump), "%s", dump(s, "sip:k1"));
	before = stats(s);
	is_int(merge(s, "sip:k1", y, 2, T0), LC_EFULL, "two other identities: LC_EFULL");
	is_int(merge(s, "sip:k3", x, 1, T0), LC_EFULL, "a new key: LC_EFULL");
	after = stats(s);
	ok(same_stats(&before, &after) && after.full == before.full + 2 &&
		   strcmp(before_dump, dump(s, "sip:k1")) == 0 && find(s, "sip:k3") == NULL,
	   "nothing changed but the full counter");
	versions(x, 3, 3, 1);
	before = stats(s);
	is_int(merge(s, "sip:k1", x, 3, T0), LC_EFULL, "x1 x2 x3 at version 3: LC_EFULL at x3");
	after = stats(s);
	ok(strcmp(versions_of(s, "sip:k1"), "3 3") == 0 && after.full == before.full + 1 &&
		   after.bindings == 4 && stats_add_up(s),
	   "the records before the refused one are merged");
	struct dht_binding_data rm = at(x[0], 2, 1);
	rm.kind = DHT_REC_REMOVED;
	rm.expires_at_s = T0 + 80;
	is_int(merge(s, "sip:k2", &rm, 1, T0), LC_OK, "a tombstone in a full pool: in place");
	ok(stats(s).tombstones == 1 && stats(s).bindings == 3, "one tombstone, three bindings");
	struct dht_binding_data cl = {
		.kind = DHT_REC_CLEARED, .version = 4, .writer = 1, .expires_at_s = T0 + 65};
	is_int(merge(s, "sip:k2", &cl, 1, T0), LC_OK, "a CLEARED record in a full pool");
	ok(dht_aor_count(find(s, "sip:k2")) == 1 && stats(s).tombstones == 1 &&
		   stats(s).bindings == 2,
	   "takes the place of what it removed: one record left in k2");
	ok(merge(s, "sip:k3", x, 1, T0) == LC_OK, "which makes room for another key");
	is_int(merge(s, "sip:k1", &x[2], 1, T0), LC_EFULL, "the pool is full again");
	ok(dht_store_expire(s, T0 + 65, 10) == 1 && find(s, "sip:k2") == NULL &&
		   merge(s, "sip:k1", &x[2], 1, T0) == LC_OK,
	   "the CLEARED record expires at its time, and x3 fits");
	dht_store_free(s);

	/* the AOR pool */
	s = new_store(8, 2, 0, T0);
	ok(merge(s, "sip:a1", x, 1, T0) == LC_OK && merge(s, "sip:a2", x, 1, T0) == LC_OK,
	   "two keys fill two");
	before = stats(s);
	is_int(merge(s, "sip:a3", x, 3, T0), LC_EFULL, "a third key: LC_EFULL");
	cl.version = 9;
	is_int(merge(s, "sip:a3", &cl, 1, T0), LC_EFULL, "a CLEARED record for a third key too");
	after = stats(s);
	ok(same_stats(&before, &after) && find(s, "sip:a3") == NULL, "nothing changed");
	ok(merge(s, "sip:a1", x, 3, T0) == LC_OK && dht_aor_count(find(s, "sip:a1")) == 3,
	   "a held key still grows");
	dht_store_free(s);

	/* the per-key cap: DHT_STORE_KEY_RECORDS records, tombstones included */
	enum { CAP = DHT_STORE_KEY_RECORDS };
	s = new_store(2 * CAP, 0, 0, T0);
	static struct dht_binding_data many[CAP + 10];
	static char uris[CAP + 10][32];
	for (unsigned i = 0; i < CAP + 10; i++) {
		snprintf(uris[i], sizeof(uris[i]), "sip:m%u@192.0.2.1", i);
		many[i] = at(mk(uris[i], "m", T0 + 60), 1, 1);
	}
	many[0].kind = DHT_REC_REMOVED;
	is_int(merge(s, "sip:many", many, CAP, T0), LC_OK, "a key of %u records", CAP);
	before = stats(s);
	is_int(merge(s, "sip:many", many + CAP, 1, T0), LC_EFULL, "one more: LC_EFULL");
	is_int(add(s, "sip:many", &many[CAP]), LC_EFULL, "dht_store_add too");
	after = stats(s);
	ok(same_stats(&before, &after) && after.full == before.full + 2 &&
		   after.key_full == before.key_full + 2 &&
		   dht_aor_count(find(s, "sip:many")) == CAP,
	   "nothing changed; counted in stats.full and stats.key_full");
	is_int(merge(s, "sip:other", many, CAP + 10, T0), LC_EFULL,
	       "a copy of %u records for a new key: LC_EFULL", CAP + 10);
	ok(dht_aor_count(find(s, "sip:other")) == CAP && stats_add_up(s),
	   "its first %u records are merged", CAP);
	struct dht_binding_data up = at(many[5], 2, 1);
	cl.version = 3;
	ok(merge(s, "sip:many", &up, 1, T0) == LC_OK && merge(s, "sip:many", &cl, 1, T0) == LC_OK &&
		   dht_aor_count(find(s, "sip:many")) == 1,
	   "a full key takes a newer record in place, and a CLEARED record");
	dht_store_free(s);

	/* the var region: fill it with 100-byte contacts */
	s = new_store(1000, 0, 2048, T0);
	char uri[101];
	memset(uri, 'u', 100);
	uri[100] = '\0';
	char uri_b[101];
	memset(uri_b, 'v', 100);
	uri_b[100] = '\0';
	struct dht_binding_data big[2] = {at(mk(uri, "c1", T0 + 60), 1, 1),
					  at(mk(uri_b, "c2", T0 + 60), 1, 1)};
	unsigned keys = 0;
	for (; keys < 100; keys++) {
		char key[16];
		snprintf(key, sizeof(key), "sip:f%u", keys);
		if (merge(s, key, big, 2, T0) != LC_OK) {
			break;
		}
	}
	ok(keys >= 3 && keys < 100 && stats_add_up(s),
	   "a 2 KiB var region holds %u keys of two contacts", keys);
	/* the same identities with a much longer Call-ID: no room for the first one */
	char call2[201];
	memset(call2, 'w', 200);
	call2[200] = '\0';
	struct dht_binding_data other[2] = {at(big[0], 2, 1), at(big[1], 2, 1)};
	other[0].call_id = other[1].call_id = bs(call2);
	snprintf(before_dump, sizeof(before_dump), "%s", dump(s, "sip:f0"));
	before = stats(s);
	is_int(merge(s, "sip:f0", other, 2, T0), LC_EFULL, "longer strings: LC_EFULL");
	after = stats(s);
	ok(same_stats(&before, &after) && after.full == before.full + 1 &&
		   strcmp(before_dump, dump(s, "sip:f0")) == 0,
	   "refused at the first record: nothing changed");
	/* a refresh (the same strings) still goes through in a full region */
	big[0] = at(big[0], 2, 1);
	big[1] = at(big[1], 2, 1);
	big[0].expires_at_s = big[1].expires_at_s = T0 + 600;
	big[1].cseq = 7;
	is_int(merge(s, "sip:f0", big, 2, T0), LC_OK, "a refresh fits in a full region");
	after = stats(s);
	ok(after.bytes_used == before.bytes_used && dht_aor_version(find(s, "sip:f0")) == 2,
	   "without a byte more");
	/* free keys one by one until both bigger records fit: every refusal on the way leaves
	 * the records before the refused one merged, and the accounting right */
	bool clean = true;
	int ret = LC_EFULL;
	other[0].version = other[1].version = 3;
	for (unsigned i = 1; i < keys && ret == LC_EFULL; i++) {
		char key[16];
		snprintf(key, sizeof(key), "sip:f%u", i);
		dht_store_remove_aor(s, find(s, key));
		ret = merge(s, "sip:f0", other, 2, T0);
		const char *v = versions_of(s, "sip:f0");
		clean &= stats_add_up(s) &&
			 (ret == LC_OK ? strcmp(v, "3 3") == 0
				       : ret == LC_EFULL &&
						 (strcmp(v, "2 2") == 0 || strcmp(v, "3 2") == 0));
	}
	ok(clean && ret == LC_OK,
	   "as keys go, each refusal leaves a prefix merged, until both fit");
	struct dht_binding *b[2];
	struct dht_binding_data r;
	dht_aor_bindings(find(s, "sip:f0"), T0, b, 2);
	dht_binding_read(b[1], &r);
	ok(r.call_id.len == 200 && r.uri.len == 100, "the longer strings are read back");
	dht_store_free(s);
}

/* ---- the randomized model test ---- */

enum { M_KEYS = 600, M_BIND = 1200, M_MAXB = 200, M_MAXA = 120, M_STR = 2100 };

/* The writer of every CLEARED record here, and of no other record: no CLEARED record ties with
 * another record's (version, writer), so "below" and "at or below" it agree (test_dht_merge.c
 * covers ties). */
#define M_CLEAR_WRITER 7

struct m_binding {
	bool used;
	uint8_t kind;
	uint16_t key;
	uint64_t seq; /* first-added order */
	uint32_t tag; /* txn_tag: names the record in the store (a CLEARED record: its kind) */
	uint32_t exp;
	uint32_t reg_id;
	uint64_t version, writer;
	uint16_t len[5];
	char f[5][M_STR];
	uint8_t addr[16];
};

static struct m_binding model[M_BIND];
static char m_keyname[M_KEYS][32];
static dht_id_t m_keyid[M_KEYS];
static uint64_t m_ver[M_KEYS]; /* meaningful while the key has a record */
static int m_last_key;	       /* the key of the last merge or clear, to report a failure */

/* The key's version in the model: 0 once it has no record left (the store forgets it too). */
static uint64_t m_version(int k)
{
	for (int i = 0; i < M_BIND; i++) {
		if (model[i].used && model[i].key == k) {
			return m_ver[k];
		}
	}
	return m_ver[k] = 0;
}

static void m_took(int k, uint64_t version)
{
	m_ver[k] = LC_MAX(m_ver[k], version);
}

static void m_random_field(struct m_binding *m, int f)
{
	static const uint32_t cap[5] = {120, 60, 50, 100, 40};
	uint32_t len = below(3) == 0 && f >= 2 ? 0 : below(cap[f]);
	if (f == 0 && below(50) == 0) {
		len = 1000 + below(1000);
	}
	m->len[f] = (uint16_t)len;
	for (uint32_t i = 0; i < len; i++) {
		m->f[f][i] = (char)('!' + below(90));
	}
}

static void m_fields(struct m_binding *m)
{
	for (int f = 0; f < 5; f++) {
		m_random_field(m, f);
	}
	m->reg_id = below(3);
	memset(m->addr, 0, 16);
	unsigned alen = below(2) ? 4 : 16;
	for (unsigned i = 0; i < alen; i++) {
		m->addr[i] = (uint8_t)rnd();
	}
}

/* New strings that keep the identity: Call-ID, Path, attributes, and the URI of an instance. */
static void m_change_fields(struct m_binding *m)
{
	for (int f = 0; f < 5; f++) {
		if (f != VF_INSTANCE && (f != VF_URI || m->len[VF_INSTANCE] > 0)) {
			m_random_field(m, f);
		}
	}
}

static bool m_field_eq(const struct m_binding *a, const struct m_binding *b, int f)
{
	return a->len[f] == b->len[f] && memcmp(a->f[f], b->f[f], a->len[f]) == 0;
}

/* dht_binding_same_identity, on model records. */
static bool m_same_identity(const struct m_binding *a, const struct m_binding *b)
{
	if (a->kind == DHT_REC_CLEARED || b->kind == DHT_REC_CLEARED) {
		return false;
	}
	if (a->len[VF_INSTANCE] > 0 || b->len[VF_INSTANCE] > 0) {
		return a->reg_id == b->reg_id && m_field_eq(a, b, VF_INSTANCE);
	}
	return m_field_eq(a, b, VF_URI);
}

/* The model record of key @p k with @p m's identity, or -1. */
static int m_held(int k, const struct m_binding *m)
{
	for (int i = 0; i < M_BIND; i++) {
		if (model[i].used && model[i].key == k && m_same_identity(&model[i], m)) {
			return i;
		}
	}
	return -1;
}

/* The model's CLEARED record of key @p k, or -1. */
static int m_floor(int k)
{
	for (int i = 0; i < M_BIND; i++) {
		if (model[i].used && model[i].key == k && model[i].kind == DHT_REC_CLEARED) {
			return i;
		}
	}
	return -1;
}

static struct dht_binding_data m_data(const struct m_binding *m)
{
	struct dht_binding_data d;
	memset(&d, 0, sizeof(d));
	d.version = m->version;
	d.writer = m->writer;
	d.kind = m->kind;
	d.expires_at_s = m->exp;
	d.q = -1;
	struct dht_bytes *f[5] = {&d.uri, &d.call_id, &d.instance, &d.path, &d.attrs};
	for (int i = 0; i < 5; i++) {
		*f[i] = (struct dht_bytes){.p = m->f[i], .len = 0};
	}
	if (m->kind == DHT_REC_CLEARED) {
		return d; /* a CLEARED record keeps no strings */
	}
	for (int i = 0; i < 5; i++) {
		f[i]->len = m->len[i];
	}
	d.txn_tag = m->tag;
	d.cseq = m->tag * 3;
	d.q = (int16_t)(m->tag % 1001);
	d.reg_id = m->reg_id;
	d.src.family = AF_INET;
	d.src.port = (uint16_t)m->tag;
	memcpy(d.src.addr, m->addr, 16);
	return d;
}

/* The store's record for model entry @p i (past expiry included), or NULL. */
static struct dht_binding *m_find(struct dht_store *s, int i)
{
	const struct m_binding *m = &model[i];
	struct dht_aor *a =
		dht_store_find(s, m_keyid[m->key], m_keyname[m->key], strlen(m_keyname[m->key]));
	if (a == NULL) {
		return NULL;
	}
	struct dht_binding *b[M_BIND];
	unsigned n = dht_aor_records(a, 0, b, M_BIND); /* exp >= 1: every record */
	for (unsigned k = 0; k < n; k++) {
		struct dht_binding_data r;
		dht_binding_read(b[k], &r);
		if (m->kind == DHT_REC_CLEARED ? r.kind == DHT_REC_CLEARED
					       : r.kind != DHT_REC_CLEARED && r.txn_tag == m->tag) {
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
	       r->txn_tag == d.txn_tag && r->reg_id == d.reg_id && r->src.port == d.src.port &&
	       memcmp(r->src.addr, d.src.addr, 16) == 0 && r->version == d.version &&
	       r->writer == d.writer && r->kind == d.kind;
}

/* The model's records of key @p k, in first-added order; returns how many. */
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

/*
 * Compare everything readers see of key @p k at @p now with the model: its records (tombstones and
 * records past expiry not yet reaped), its version, its bindings in first-added order, and its
 * records other than the CLEARED one in first-added order (the CLEARED record's place is the
 * store's choice). Adds the key's live and tombstone records to *@p live and *@p tombs.
 */
static bool m_check_key(struct dht_store *s, int k, uint32_t now, uint64_t *live, uint64_t *tombs)
{
	static int idx[M_BIND];
	unsigned n = m_of_key(k, idx), nlive = 0;
	for (unsigned j = 0; j < n; j++) {
		nlive += model[idx[j]].kind == DHT_REC_LIVE;
	}
	*live += nlive;
	*tombs += n - nlive;
	struct dht_aor *a = dht_store_find(s, m_keyid[k], m_keyname[k], strlen(m_keyname[k]));
	if ((a == NULL) != (n == 0)) {
		return false;
	}
	if (a == NULL) {
		return true;
	}
	if (dht_aor_count(a) != n || dht_aor_live_count(a) != nlive ||
	    dht_aor_version(a) != m_ver[k]) {
		return false;
	}
	static struct dht_binding *b[M_BIND];
	for (int pass = 0; pass < 2; pass++) {
		/* pass 0: the bindings; pass 1: every record, the CLEARED one compared apart */
		unsigned got = pass == 0 ? dht_aor_bindings(a, now, b, M_BIND)
					 : dht_aor_records(a, now, b, M_BIND);
		unsigned next = 0, floors = 0;
		struct dht_binding_data r;
		for (unsigned j = 0; j < got; j++) {
			dht_binding_read(b[j], &r);
			if (r.kind == DHT_REC_CLEARED) {
				int fl = m_floor(k);
				floors++;
				if (pass == 0 || fl < 0 || !m_same(&model[fl], &r)) {
					return false;
				}
				continue;
			}
			/* the next model record the reader must see */
			while (next < n && (model[idx[next]].exp <= now ||
					    model[idx[next]].kind == DHT_REC_CLEARED ||
					    (pass == 0 && model[idx[next]].kind != DHT_REC_LIVE))) {
				next++;
			}
			if (next == n || !m_same(&model[idx[next]], &r)) {
				return false;
			}
			next++;
		}
		unsigned want_floors = 0;
		for (; next < n; next++) {
			const struct m_binding *m = &model[idx[next]];
			if (m->exp > now && m->kind != DHT_REC_CLEARED &&
			    (pass == 1 || m->kind == DHT_REC_LIVE)) {
				return false; /* a record the reader did not see */
			}
		}
		int fl = m_floor(k);
		want_floors = pass == 1 && fl >= 0 && model[fl].exp > now;
		if (floors != want_floors) {
			return false;
		}
	}
	return true;
}

/* Compare the whole store with the model at @p now. */
static bool m_check(struct dht_store *s, uint32_t now, uint64_t *bad_key)
{
	uint64_t live = 0, tombs = 0, keys = 0;
	for (int k = 0; k < M_KEYS; k++) {
		uint64_t before = live + tombs;
		if (!m_check_key(s, k, now, &live, &tombs)) {
			*bad_key = (uint64_t)k;
			return false;
		}
		keys += live + tombs > before;
	}
	*bad_key = UINT64_MAX;
	struct dht_store_stats st = stats(s);
	return st.bindings == live && st.tombstones == tombs && st.aors == keys && stats_add_up(s);
}

/* A free model slot, or -1. */
static int m_slot(void)
{
	for (int i = 0; i < M_BIND; i++) {
		if (!model[i].used) {
			return i;
		}
	}
	return -1;
}

/* Key @p k takes CLEARED record @p c: every record at or below it goes (dht_store_clear and the
 * floor step of dht_store_merge). Returns false when the store needs a new record for it (nothing
 * was below to take its place), so that LC_EFULL is allowed. */
static bool m_take_floor(int k, const struct m_binding *c, uint64_t *seq)
{
	bool reused = false;
	for (int i = 0; i < M_BIND; i++) {
		if (model[i].used && model[i].key == k &&
		    !dht_rec_newer(model[i].version, model[i].writer, c->version, c->writer)) {
			model[i].used = false;
			reused = true;
		}
	}
	int slot = m_slot();
	model[slot] = *c;
	model[slot].used = true;
	model[slot].key = (uint16_t)k;
	model[slot].tag = 0;
	model[slot].seq = (*seq)++;
	m_took(k, c->version);
	return reused;
}

/* One step of merging record @p r into key @p k at @p now under @p max_version (the contract of
 * dht_store_merge, record by record). Returns whether it changed the key. */
static bool m_merge_one(int k, const struct m_binding *r, uint32_t now, uint64_t max_version,
			uint64_t *seq)
{
	int fl = m_floor(k);
	if (r->kind == DHT_REC_CLEARED || r->version > max_version || r->exp <= now ||
	    (fl >= 0 &&
	     !dht_rec_newer(r->version, r->writer, model[fl].version, model[fl].writer))) {
		return false;
	}
	int h = m_held(k, r);
	if (h >= 0 && !dht_rec_newer(r->version, r->writer, model[h].version, model[h].writer)) {
		return false;
	}
	int slot = h >= 0 ? h : m_slot();
	uint64_t keep_seq = h >= 0 ? model[h].seq : (*seq)++;
	model[slot] = *r;
	model[slot].used = true;
	model[slot].key = (uint16_t)k;
	model[slot].seq = keep_seq;
	m_took(k, r->version);
	return true;
}

/* The highest CLEARED record of @p nb that counts (live, not from the future), or -1. */
static int m_top_floor(const struct m_binding *nb, unsigned n, uint32_t now, uint64_t max_version)
{
	int top = -1;
	for (unsigned j = 0; j < n; j++) {
		if (nb[j].kind == DHT_REC_CLEARED && nb[j].version <= max_version &&
		    nb[j].exp > now &&
		    (top < 0 ||
		     dht_rec_newer(nb[j].version, nb[j].writer, nb[top].version, nb[top].writer))) {
			top = (int)j;
		}
	}
	return top;
}

enum { M_SET = 48 };

/* The copy of key @p k a replica receives: its records kept at older, equal or newer versions,
 * some with new strings, some removed, some expired or from beyond @p max_version; records of
 * new identities; now and then a CLEARED record. Returns how many records it wrote to @p nb. */
static unsigned m_copy(int k, uint32_t now, uint64_t max_version, uint32_t *next_tag,
		       struct m_binding *nb)
{
	static int old[M_BIND];
	unsigned nold = m_of_key(k, old), n = 0;
	uint64_t cur = m_version(k);
	for (unsigned j = 0; j < nold && n < M_SET - 5; j++) {
		const struct m_binding *o = &model[old[j]];
		uint32_t r = below(10);
		if (o->kind == DHT_REC_CLEARED || r < 2) {
			continue; /* not in this copy */
		}
		struct m_binding *c = &nb[n++];
		*c = *o;
		r = below(10);
		c->version = r < 3   ? o->version - LC_MIN(o->version, 1 + below(3))
			     : r < 5 ? o->version
				     : o->version + 1 + below(50);
		c->writer = below(3) == 0 ? 1 + below(3) : o->writer;
		if (below(4) == 0) {
			m_change_fields(c);
			c->tag = (*next_tag)++;
		}
		c->kind = below(6) == 0 ? DHT_REC_REMOVED : DHT_REC_LIVE;
		c->exp = below(15) == 0 ? now - below(3) : now + 1 + below(400);
		if (below(20) == 0) {
			c->version = max_version + 1 + below(5);
		}
	}
	for (uint32_t f = below(4); f > 0; f--) {
		struct m_binding *c = &nb[n];
		memset(c, 0, sizeof(*c));
		m_fields(c);
		bool clash = m_held(k, c) >= 0;
		for (unsigned j = 0; j < n; j++) {
			clash |= m_same_identity(&nb[j], c);
		}
		if (clash) {
			continue;
		}
		c->tag = (*next_tag)++;
		c->version = cur + below(100);
		c->writer = 1 + below(3);
		c->kind = below(5) == 0 ? DHT_REC_REMOVED : DHT_REC_LIVE;
		c->exp = below(15) == 0 ? now : now + 1 + below(400);
		n++;
	}
	if (below(8) == 0) {
		/* a CLEARED record somewhere in the copy */
		unsigned at_ = below(n + 1);
		memmove(&nb[at_ + 1], &nb[at_], (n - at_) * sizeof(nb[0]));
		struct m_binding *c = &nb[at_];
		memset(c, 0, sizeof(*c));
		c->kind = DHT_REC_CLEARED;
		c->version = cur - LC_MIN(cur, 10) + below(40);
		c->writer = M_CLEAR_WRITER;
		c->exp = below(10) == 0 ? now - below(2) : now + 1 + below(400);
		n++;
	}
	for (unsigned j = 0; j < n; j++) {
		nb[j].key = (uint16_t)k;
	}
	return n;
}

struct m_counts {
	unsigned merged, stale, full, partial, cleared, clear_full;
};

/*
 * A replica merges a copy of a key. Returns 0 when the store agrees with the model: the copy
 * merged as the contract says (LC_EFUTURE when a record was above max_version, else LC_OK when
 * something changed, else LC_ESTALE), or refused with
 * LC_EFULL after merging the records before the refused one (the floor step first), else 1.
 */
static unsigned m_merge(struct dht_store *s, uint32_t now, uint32_t *next_tag, uint64_t *seq,
			uint64_t *future, struct m_counts *c)
{
	static struct m_binding nb[M_SET];
	int k = (int)below(M_KEYS);
	for (int tries = below(2) * 8; tries > 0; tries--) { /* half the time a key held */
		int i = (int)below(M_BIND);
		if (model[i].used) {
			k = model[i].key;
			break;
		}
	}
	m_last_key = k;
	uint64_t max_version = m_version(k) + 150;
	unsigned n = m_copy(k, now, max_version, next_tag, nb);
	struct dht_binding_data d[M_SET];
	bool from_future = false;
	for (unsigned j = 0; j < n; j++) {
		d[j] = m_data(&nb[j]);
		*future += nb[j].version > max_version;
		from_future |= nb[j].version > max_version;
	}
	struct dht_store_stats before = stats(s);
	const char *key = m_keyname[k];
	int ret = dht_store_merge(s, m_keyid[k], key, strlen(key), d, n, BOUNDS(now, max_version));
	struct dht_store_stats after = stats(s);
	uint64_t live = 0, tombs = 0;
	/* the steps: the floor, if it is above the key's, then each record in order */
	int top = m_top_floor(nb, n, now, max_version), fl = m_floor(k);
	bool floor_step =
		top >= 0 && (fl < 0 || dht_rec_newer(nb[top].version, nb[top].writer,
						     model[fl].version, model[fl].writer));
	if (ret == LC_EFULL) {
		c->full++;
		if (after.full != before.full + 1) {
			return 1;
		}
		/* the store holds the model after some prefix of the steps */
		bool match = m_check_key(s, k, now, &live, &tombs), step = false;
		for (unsigned j = 0; j <= n && !match; j++) {
			if (j == 0 && floor_step) {
				(void)m_take_floor(k, &nb[top], seq);
				step = true;
			} else if (j > 0) {
				step |= m_merge_one(k, &nb[j - 1], now, max_version, seq);
			}
			match = m_check_key(s, k, now, &live, &tombs);
		}
		c->partial += match && step;
		return !match;
	}
	bool changed = false;
	if (floor_step) {
		(void)m_take_floor(k, &nb[top], seq);
		changed = true;
	}
	for (unsigned j = 0; j < n; j++) {
		changed |= m_merge_one(k, &nb[j], now, max_version, seq);
	}
	/* a copy with a record from beyond max_version is merged but for it, and says so */
	if (ret != (from_future ? LC_EFUTURE : changed ? LC_OK : LC_ESTALE)) {
		return 1;
	}
	*(changed ? &c->merged : &c->stale) += 1;
	return !m_check_key(s, k, now, &live, &tombs);
}

/* The owner clears a key ("Contact: *"). Returns 0 when the store agrees with the model. */
static unsigned m_clear(struct dht_store *s, uint32_t now, uint64_t *seq, struct m_counts *c)
{
	int k = (int)below(M_KEYS);
	for (int tries = 8; tries > 0; tries--) {
		int i = (int)below(M_BIND);
		if (model[i].used) {
			k = model[i].key;
			break;
		}
	}
	m_last_key = k;
	uint64_t cur = m_version(k);
	struct m_binding cl;
	memset(&cl, 0, sizeof(cl));
	cl.kind = DHT_REC_CLEARED;
	cl.version = cur - LC_MIN(cur, 20) + below(40);
	cl.writer = M_CLEAR_WRITER;
	cl.exp = now + 1 + below(400);
	const char *key = m_keyname[k];
	struct dht_store_stats before = stats(s);
	int ret = dht_store_clear(s, m_keyid[k], key, strlen(key), cl.version, cl.writer, cl.exp);
	struct dht_store_stats after = stats(s);
	uint64_t live = 0, tombs = 0;
	int fl = m_floor(k);
	if (fl >= 0 && !dht_rec_newer(cl.version, cl.writer, model[fl].version, model[fl].writer)) {
		return ret != LC_OK || !same_stats(&before, &after); /* a later one is held */
	}
	if (ret == LC_EFULL) {
		/* allowed only when the CLEARED record needs a record of its own */
		c->clear_full++;
		bool below_any = false;
		for (int i = 0; i < M_BIND; i++) {
			below_any |= model[i].used && model[i].key == k &&
				     !dht_rec_newer(model[i].version, model[i].writer, cl.version,
						    cl.writer);
		}
		return below_any || !same_stats(&before, &after) || after.full != before.full + 1;
	}
	c->cleared++;
	(void)m_take_floor(k, &cl, seq);
	return ret != LC_OK || !m_check_key(s, k, now, &live, &tombs);
}

static void test_model(void)
{
	rng_s = 0x10c05;
	struct dht_store *s = new_store(M_MAXB, M_MAXA, 40 * 1024, T0);
	uint64_t empty_used = stats(s).bytes_used;
	for (int k = 0; k < M_KEYS; k++) {
		snprintf(m_keyname[k], sizeof(m_keyname[k]), "sip:+1555%07d@example.com", k);
		/* every 25th key shares one id, so collisions are exercised throughout */
		m_keyid[k] = k % 25 == 0 ? (dht_id_t)0xabcdef
					 : dht_key_of(m_keyname[k], strlen(m_keyname[k]), 9);
	}
	memset(model, 0, sizeof(model));
	memset(m_ver, 0, sizeof(m_ver));
	uint32_t now = T0, next_tag = 1;
	uint64_t seq = 0, future = 0, bad_key = 0;
	unsigned n_ops = 0, n_full = 0, n_add = 0, n_upd = 0, n_tomb = 0, n_rm = 0, n_exp = 0;
	unsigned fails = 0, refresh_touch = 0, room_lied = 0, checks = 0;
	struct m_counts mc = {0};
	const char *failed_op = "";
	for (n_ops = 0; n_ops < 200000 && fails == 0; n_ops++) {
		uint32_t op = below(100);
		int pick = -1;
		for (int tries = 0; tries < 8 && pick < 0; tries++) {
			int i = (int)below(M_BIND);
			if (model[i].used) {
				pick = i;
			}
		}
		if (op < 35) { /* add a binding, now and then a REMOVED record */
			int slot = m_slot();
			if (slot < 0) {
				continue;
			}
			struct m_binding *m = &model[slot];
			memset(m, 0, sizeof(*m));
			m->key = (uint16_t)below(M_KEYS);
			m_fields(m);
			if (m_held(m->key, m) >= 0) {
				continue; /* the registrar would update the binding of that identity */
			}
			m->tag = next_tag++;
			m->exp = below(20) == 0	  ? now - below(5)
				 : below(50) == 0 ? now + below(0x20000000)
						  : now + 1 + below(400);
			m->kind = below(10) == 0 ? DHT_REC_REMOVED : DHT_REC_LIVE;
			m->version = m_version(m->key) + below(5);
			m->writer = 1 + below(3);
			struct dht_binding_data d = m_data(m);
			const char *key = m_keyname[m->key];
			bool fresh = dht_store_find(s, m_keyid[m->key], key, strlen(key)) == NULL;
			size_t vb =
				(size_t)m->len[0] + m->len[1] + m->len[2] + m->len[3] + m->len[4];
			bool room = dht_store_has_room(s, 1, vb, fresh ? strlen(key) : 0);
			struct dht_store_stats before = stats(s);
			int ret = dht_store_add(s, m_keyid[m->key], key, strlen(key), &d);
			if (ret == LC_OK) {
				m->used = true;
				m->seq = seq++;
				m_took(m->key, m->version);
				n_add++;
			} else {
				struct dht_store_stats after = stats(s);
				n_full++;
				fails += ret != LC_EFULL || !same_stats(&before, &after) ||
					 after.full != before.full + 1;
				room_lied += room;
				failed_op = "add";
			}
		} else if (op >= 35 && op < 50 && pick >= 0 &&
			   model[pick].kind != DHT_REC_CLEARED) {
			/* update: a refresh, or new strings for the same identity */
			struct m_binding *m = &model[pick];
			struct dht_binding *b = m_find(s, pick);
			if (b == NULL) {
				fails++;
				failed_op = "update: record not found";
				break;
			}
			struct m_binding saved = *m;
			bool refresh = below(2) == 0;
			if (!refresh) {
				m_change_fields(m);
			}
			m->exp = now + 1 + below(400);
			m->version += below(4) == 0 ? 1 + below(100) : 0;
			m->kind = below(8) == 0 ? DHT_REC_LIVE : m->kind;
			struct dht_binding_data d = m_data(m);
			uint64_t used = stats(s).bytes_used;
			int ret = dht_store_update(s, b, &d);
			if (ret != LC_OK) {
				*m = saved;
				fails += ret != LC_EFULL || stats(s).bytes_used != used;
				failed_op = "update";
				n_full++;
			} else {
				refresh_touch += refresh && stats(s).bytes_used != used;
				m_took(m->key, m->version);
				n_upd++;
			}
		} else if (op >= 50 && op < 55 && pick >= 0 && model[pick].kind == DHT_REC_LIVE) {
			/* the registrar removes a binding: a tombstone in its place */
			struct m_binding *m = &model[pick];
			struct dht_binding *b = m_find(s, pick);
			if (b == NULL) {
				fails++;
				failed_op = "tombstone: record not found";
				break;
			}
			m->kind = DHT_REC_REMOVED;
			m->version = m_version(m->key) + below(3);
			m->writer = 1 + below(3);
			m->exp = below(20) == 0 ? now - below(3) : now + 1 + below(400);
			dht_store_tombstone(s, b, m->version, m->writer, m->exp);
			m_took(m->key, m->version);
			n_tomb++;
			uint64_t live = 0, tombs = 0;
			fails += !m_check_key(s, m->key, now, &live, &tombs);
			failed_op = "tombstone";
		} else if (op >= 55 && op < 58) { /* "Contact: *" */
			fails += m_clear(s, now, &seq, &mc);
			failed_op = "clear";
		} else if (op >= 58 && op < 70 && pick >= 0) {
			/* forget one record, or the whole key, without a trace */
			struct dht_binding *b = m_find(s, pick);
			if (b == NULL) {
				fails++;
				failed_op = "remove: record not found";
				break;
			}
			if (below(5) == 0) {
				int k = model[pick].key;
				const char *key = m_keyname[k];
				dht_store_remove_aor(
					s, dht_store_find(s, m_keyid[k], key, strlen(key)));
				for (int i = 0; i < M_BIND; i++) {
					model[i].used &= model[i].key != k;
				}
			} else {
				dht_store_remove(s, b);
				model[pick].used = false;
			}
			n_rm++;
		} else if (op >= 70 && op < 90) { /* time passes, the wheel reaps with a budget */
			uint32_t r = below(1000);
			now += r < 990 ? below(8) : r < 998 ? 3000 + below(100000) : 0x01000000u;
			unsigned budget = 1 + below(20);
			uint64_t held_before = stats(s).bindings + stats(s).tombstones;
			unsigned n = dht_store_expire(s, now, budget);
			/* only due records may go: the ones gone are all due, and as many as reaped;
			 * with the count of records held, nothing else went */
			unsigned gone = 0;
			for (int i = 0; i < M_BIND; i++) {
				if (model[i].used && model[i].exp <= now && m_find(s, i) == NULL) {
					model[i].used = false;
					gone++;
				}
			}
			fails += n > budget || gone != n ||
				 stats(s).bindings + stats(s).tombstones + n != held_before;
			failed_op = "expire";
			n_exp += n;
		} else if (op >= 90) { /* a replica merges a copy */
			fails += m_merge(s, now, &next_tag, &seq, &future, &mc);
			failed_op = "merge";
		}
		if (fails == 0 && n_ops % 500 == 0) {
			checks++;
			fails += !m_check(s, now, &bad_key);
			failed_op = "full check";
		}
	}
	ok(fails == 0,
	   "200k random ops agree with the model (%u ops, %u adds, %u updates, %u tombstones, "
	   "%u removes, %u expired, %u refused, %u full checks)",
	   n_ops, n_add, n_upd, n_tomb, n_rm, n_exp, n_full, checks);
	if (fails) {
		printf("#   failed at op %u (%s), key %llu (last merged or cleared: %d)\n", n_ops,
		       failed_op, (unsigned long long)bad_key, m_last_key);
	}
	ok(mc.merged > 1000 && mc.stale > 100 && mc.full > 10 && mc.partial > 10 &&
		   mc.cleared > 100,
	   "copies were merged (%u), found stale (%u) and refused as full (%u, %u of them after "
	   "merging some records); keys cleared (%u, %u refused)",
	   mc.merged, mc.stale, mc.full, mc.partial, mc.cleared, mc.clear_full);
	ok(m_check(s, now, &bad_key), "final state agrees with the model");
	is_int(stats(s).future, future, "stats.future counts every record beyond max_version");
	ok(n_full > 0, "the pools ran out along the way (%u refusals)", n_full);
	is_int(refresh_touch, 0, "no plain refresh touched the var region");
	is_int(room_lied, 0, "no add refused after has_room said yes");
	/* everything expires in the end, tombstones too */
	unsigned calls = 0;
	while (stats(s).aors > 0 && calls++ < 100000) {
		dht_store_expire(s, UINT32_MAX, 50);
	}
	struct dht_store_stats st = stats(s);
	ok(st.bindings == 0 && st.tombstones == 0 && st.aors == 0 && st.bytes_used == empty_used,
	   "after the last expiry the store is empty and its bytes are all back");
	dht_store_free(s);
}

/*
 * The bounds of a copy from another node (struct dht_merge_bounds, dht_merge_bounds_at): no
 * record that lives longer than a REGISTER may ask (plus the clock skew), none registered in the
 * future, and no version beyond the clock bound or near 2^64, whatever the caller allows.
 */
static void test_merge_bounds(void)
{
	enum { MAXEXP = 3600, YEARS = 10 * 365 * 86400 };
	const char *key = "sip:bounds@example.com";
	const uint64_t now_ms = (uint64_t)T0 * 1000 + 500;
	struct dht_merge_bounds b = dht_merge_bounds_at(T0, now_ms, MAXEXP);
	ok(b.now_s == T0 && b.max_expires_at_s == T0 + MAXEXP + DHT_CLOCK_SKEW_S &&
		   b.max_registered_at_s == T0 + DHT_CLOCK_SKEW_S &&
		   b.max_version == (((now_ms + DHT_VERSION_AHEAD_MAX_MS) << 12) | 0xfff),
	   "dht_merge_bounds_at: now + --max-expires + skew, now + skew, the clock bound");
	struct dht_merge_bounds end = dht_merge_bounds_at(UINT32_MAX - 5, UINT64_MAX - 5, MAXEXP);
	ok(end.max_expires_at_s == UINT32_MAX && end.max_registered_at_s == UINT32_MAX &&
		   end.max_version == DHT_VERSION_MAX &&
		   dht_version_bound(UINT64_MAX) == DHT_VERSION_MAX,
	   "at the end of time the bounds saturate instead of wrapping to small values");
	ok(DHT_VERSION_MAX < UINT64_MAX / 2, "DHT_VERSION_MAX is far below 2^64");

	struct dht_store *s = new_store(16, 0, 0, T0);
	uint64_t v = (uint64_t)T0 * 1000 << 12;
	struct dht_binding_data good =
		at(mk("sip:b@192.0.2.1", "b", T0 + MAXEXP + DHT_CLOCK_SKEW_S), v, 1);
	good.registered_at_s = T0 + DHT_CLOCK_SKEW_S;
	is_int(dht_store_merge(s, idk(key), key, strlen(key), &good, 1, &b), LC_OK,
	       "a record at every bound: taken");
	struct dht_store_stats before = stats(s);
	char before_dump[4096];
	snprintf(before_dump, sizeof(before_dump), "%s", dump(s, key));
	struct dht_binding_data far = at(mk("sip:f@192.0.2.2", "f", T0 + YEARS), v + 1, 1);
	struct dht_binding_data past = at(mk("sip:p@192.0.2.3", "p", T0 + MAXEXP + 61), v + 1, 1);
	struct dht_binding_data reg = at(mk("sip:r@192.0.2.4", "r", T0 + 60), v + 1, 1);
	reg.registered_at_s = T0 + DHT_CLOCK_SKEW_S + 1;
	struct dht_binding_data tomb = at(mk("sip:b@192.0.2.1", "b", T0 + YEARS), v + 1, 1);
	tomb.kind = DHT_REC_REMOVED;
	struct dht_binding_data clr = {
		.kind = DHT_REC_CLEARED, .version = v + 1, .writer = 1, .expires_at_s = T0 + YEARS};
	is_int(dht_store_merge(s, idk(key), key, strlen(key), &far, 1, &b), LC_EFUTURE,
	       "an expiry ten years ahead: refused (LC_EFUTURE)");
	is_int(dht_store_merge(s, idk(key), key, strlen(key), &past, 1, &b), LC_EFUTURE,
	       "an expiry one second past now + --max-expires + skew: refused");
	is_int(dht_store_merge(s, idk(key), key, strlen(key), &reg, 1, &b), LC_EFUTURE,
	       "a registration time one second past now + skew: refused");
	is_int(dht_store_merge(s, idk(key), key, strlen(key), &tomb, 1, &b), LC_EFUTURE,
	       "a tombstone kept for ten years: refused");
	is_int(dht_store_merge(s, idk(key), key, strlen(key), &clr, 1, &b), LC_EFUTURE,
	       "a CLEARED record kept for ten years: refused");
	struct dht_store_stats after = stats(s);
	ok(same_stats(&before, &after) && after.bounds == before.bounds + 5 &&
		   after.future == before.future && strcmp(before_dump, dump(s, key)) == 0,
	   "nothing changed (the binding is still there); counted in stats.bounds");

	struct dht_binding_data top = at(mk("sip:t@192.0.2.5", "t", T0 + 60), UINT64_MAX, 1);
	struct dht_merge_bounds open = b;
	open.max_version = UINT64_MAX;
	is_int(dht_store_merge(s, idk(key), key, strlen(key), &top, 1, &b), LC_EFUTURE,
	       "a version of 2^64 - 1: refused by the clock bound");
	is_int(dht_store_merge(s, idk(key), key, strlen(key), &top, 1, &open), LC_EFUTURE,
	       "and by DHT_VERSION_MAX when the caller allows any version");
	top.version = DHT_VERSION_MAX + 1;
	is_int(dht_store_merge(s, idk(key), key, strlen(key), &top, 1, &open), LC_EFUTURE,
	       "DHT_VERSION_MAX + 1: refused");
	after = stats(s);
	ok(same_stats(&before, &after) && after.future == before.future + 3 &&
		   dht_aor_version(find(s, key)) == v,
	   "counted in stats.future; the key's version did not move");

	struct dht_binding_data mixed[2] = {far, at(good, v + 2, 1)};
	is_int(dht_store_merge(s, idk(key), key, strlen(key), mixed, 2, &b), LC_EFUTURE,
	       "a copy with one record beyond the bounds: LC_EFUTURE (not held as a whole)");
	ok(dht_aor_live_count(find(s, key)) == 1 && dht_aor_version(find(s, key)) == v + 2,
	   "its record within the bounds is merged, the other is not");
	dht_store_free(s);
}

int main(void)
{
	rng_s = 0x5eed;
	plan(255);
	test_fields();
	test_wheel();
	test_budget();
	test_full();
	test_has_room_agrees();
	test_collisions_and_limits();
	test_walk();
	test_versions();
	test_shares();
	test_tombstones();
	test_merge();
	test_merge_full();
	test_merge_bounds();
	test_model();
	return exit_status();
}
