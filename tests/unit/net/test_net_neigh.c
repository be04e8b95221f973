/* SPDX-License-Identifier: MIT */
/*
 * net_neigh: learn, confirm, change, expire, stay bounded under a flood of addresses, and never
 * give a reader half an entry while its writer rewrites it (a reader thread against a writer).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "net/net_neigh.h"
#include "tests/tap.h"

static struct net_neigh table;
static atomic_bool stop;
static atomic_ulong torn, hits;

/* The MAC the writer gives address ip in round r: every byte derived from both, so a mix of two
 * rounds (or of two addresses) is detectable. */
static void mac_of(uint32_t ip, uint32_t r, uint8_t *m)
{
	for (int i = 0; i < 6; i++) {
		m[i] = (uint8_t)((ip * 31 + r) >> (i % 4 * 8)) ^ (uint8_t)i;
	}
}

static void *reader(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		for (uint32_t ip = 1; ip <= 64; ip++) {
			uint8_t m[6];
			if (!net_neigh_lookup(&table, ip, m, 10)) {
				continue;
			}
			atomic_fetch_add(&hits, 1);
			bool match = false;
			for (uint32_t r = 0; r < 256 && !match; r++) {
				uint8_t want[6];
				mac_of(ip, r, want);
				match = memcmp(m, want, 6) == 0;
			}
			if (!match) {
				atomic_fetch_add(&torn, 1);
			}
		}
	}
	return NULL;
}

int main(void)
{
	plan(10);
	net_neigh_init(&table);
	uint8_t a[6] = {2, 0, 0, 0, 0, 1}, b[6] = {2, 0, 0, 0, 0, 2}, m[6];
	ok(!net_neigh_lookup(&table, 0x0a000001, m, 100), "empty table: a miss");
	ok(net_neigh_learn(&table, 0x0a000001, a, 100), "learning a new entry says so");
	ok(net_neigh_lookup(&table, 0x0a000001, m, 101) && memcmp(m, a, 6) == 0, "and finds it");
	ok(!net_neigh_learn(&table, 0x0a000001, a, 102), "a confirmation is not a change");
	ok(net_neigh_learn(&table, 0x0a000001, b, 103) &&
		   net_neigh_lookup(&table, 0x0a000001, m, 104) && memcmp(m, b, 6) == 0,
	   "a new MAC replaces the old one");
	ok(!net_neigh_lookup(&table, 0x0a000001, m, 103 + NET_NEIGH_TTL_S), "entries expire");
	for (uint32_t ip = 1; ip <= 100000; ip++) {
		net_neigh_learn(&table, 0x0b000000 + ip, a, 200 + ip / 1000);
	}
	ok(net_neigh_count(&table, 400) <= NET_NEIGH_SLOTS, "a flood stays within the table");
	ok(net_neigh_lookup(&table, 0x0b000000 + 100000, m, 400), "the latest entry is there");

	net_neigh_init(&table);
	pthread_t t[2];
	for (int i = 0; i < 2; i++) {
		pthread_create(&t[i], NULL, reader, NULL);
	}
	/* at least 2000 rounds, and on until the readers have seen entries (a busy machine may not
	 * schedule them before that), for at most 10 s */
	time_t until = time(NULL) + 10;
	for (uint32_t r = 0; r < 2000 || (atomic_load(&hits) < 1000 && time(NULL) < until); r++) {
		for (uint32_t ip = 1; ip <= 64; ip++) {
			uint8_t w[6];
			mac_of(ip, r % 256, w);
			/* time stands still at 10: every write is a change, as NET_NEIGH_REFRESH_S
			 * would otherwise skip confirmations */
			net_neigh_learn(&table, ip, w, 10);
		}
	}
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
	}
	ok(atomic_load(&hits) > 0, "readers found entries while the writer ran (%lu)",
	   (unsigned long)atomic_load(&hits));
	is_int(atomic_load(&torn), 0, "and never a torn one");
	return tap_failed != 0;
}
