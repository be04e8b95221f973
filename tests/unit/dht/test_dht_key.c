/* SPDX-License-Identifier: MIT */
/*
 * Key ids: a known XXH3-128 value (so a change of hash or byte order is caught), seeds that
 * separate overlays, id printing and parsing, and shard spread.
 */
#include <stdio.h>
#include <string.h>

#include "dht/dht_key.h"
#include "tests/tap.h"

int main(void)
{
	plan(9);
	dht_id_t a = dht_key_of("sip:alice@example.com", 21, 0);
	dht_id_t b = dht_key_of("sip:alice@example.com", 21, 0);
	dht_id_t c = dht_key_of("sip:alice@example.com", 21, 1);
	ok(a == b, "same key, same seed: same id");
	ok(a != c, "another seed (overlay) moves the key");

	char hex[DHT_ID_HEX_LEN + 1];
	dht_id_format(dht_key_of("", 0, 0), hex);
	/* XXH3-128 of the empty input with seed 0, from xxHash's own test vectors
	 * (high64 99AA06D3014798D8, low64 6001C324468D497F). */
	is_str(hex, "99aa06d3014798d86001c324468d497f", "XXH3-128 test vector, high half first");

	dht_id_t back = 0;
	ok(dht_id_parse(hex, strlen(hex), &back) && back == dht_key_of("", 0, 0),
	   "parse(format(id))");
	ok(!dht_id_parse(hex, 31, &back), "31 digits refused");
	hex[5] = 'g';
	ok(!dht_id_parse(hex, 32, &back), "a non-hex digit refused");
	ok(dht_seed_of("p2psip.org", 10) != dht_seed_of("example.net", 11),
	   "overlay names give seeds");

	unsigned count[3] = {0};
	char key[32];
	for (int i = 0; i < 30000; i++) {
		int n = snprintf(key, sizeof(key), "sip:u%d@example.com", i);
		count[dht_shard_of(dht_key_of(key, (size_t)n, 7), 3)]++;
	}
	ok(count[0] > 9500 && count[1] > 9500 && count[2] > 9500,
	   "30000 keys over 3 shards: %u %u %u", count[0], count[1], count[2]);
	is_int(dht_shard_of((dht_id_t)1 << 64, 3), 0, "the shard comes from the low 64 bits");
	return exit_status();
}
