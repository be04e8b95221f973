/* SPDX-License-Identifier: MIT */
/*
 * Key ids with XXH3-128 (xxHash), printed and parsed as 32 hex digits.
 */
#include "dht/dht_key.h"

#include <xxhash.h>

dht_id_t dht_key_of(const void *key, size_t len, uint64_t seed)
{
	XXH128_hash_t h = XXH3_128bits_withSeed(key, len, seed);
	return ((dht_id_t)h.high64 << 64) | h.low64;
}

void dht_id_format(dht_id_t id, char out[DHT_ID_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = DHT_ID_HEX_LEN - 1; i >= 0; i--) {
		out[i] = hex[(unsigned)(id & 0xf)];
		id >>= 4;
	}
	out[DHT_ID_HEX_LEN] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	c = (char)(c | 0x20);
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	return -1;
}

bool dht_id_parse(const char *hex, size_t len, dht_id_t *out)
{
	if (len != DHT_ID_HEX_LEN) {
		return false;
	}
	dht_id_t id = 0;
	for (size_t i = 0; i < len; i++) {
		int v = hex_value(hex[i]);
		if (v < 0) {
			return false;
		}
		id = (id << 4) | (unsigned)v;
	}
	*out = id;
	return true;
}

uint64_t dht_seed_of(const char *name, size_t len)
{
	return XXH3_64bits(name, len);
}

uint64_t dht_hash64(const void *p, size_t len, uint64_t seed)
{
	return XXH3_64bits_withSeed(p, len, seed);
}
