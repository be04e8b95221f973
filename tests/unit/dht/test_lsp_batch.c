/* SPDX-License-Identifier: MIT */
/*
 * The BATCH container (dht/lsp_batch.h, docs/lsp.md §11.3.14): messages packed and walked back
 * byte for byte, the size cap honoured (a message that does not fit changes nothing), the
 * header kept right after every append, and each malformed form refused with its code: a bad
 * header, a body length that disagrees with the datagram, another overlay, an inner message cut
 * short or with a bad magic, and a BATCH inside a BATCH (the messages before the bad part stand).
 */
#include <string.h>

#include "common/lc_error.h"
#include "dht/lsp.h"
#include "dht/lsp_batch.h"
#include "tests/tap.h"

#define OVERLAY 0x70e77dba5136e2eaull

static uint8_t msgs[3][128];
static size_t lens[3];

/* An LSP LOOKUP of @p key with transaction id @p txn into @p out. */
static size_t lookup(uint8_t *out, size_t cap, uint64_t txn, const char *key)
{
	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, out, cap);
	struct dht_lsp_hdr h = {.version = DHT_LSP_VERSION,
				.type = DHT_LSP_LOOKUP,
				.hop_limit = DHT_LSP_HOP_LIMIT_DEFAULT,
				.txn_id = txn,
				.overlay_id = OVERLAY};
	dht_lsp_build_hdr(&b, &h);
	dht_lsp_put_key(&b, key, strlen(key));
	size_t len = 0;
	return dht_lsp_build_finish(&b, &len) == LC_OK ? len : 0;
}

static unsigned walk(const uint8_t *buf, size_t len, int *open_ret, int *err)
{
	struct dht_lsp_batch_iter it;
	*open_ret = dht_lsp_batch_open(&it, buf, len, OVERLAY);
	unsigned n = 0;
	const uint8_t *m;
	size_t ml;
	while (*open_ret == LC_OK && dht_lsp_batch_next(&it, &m, &ml)) {
		if (n < 3 && (ml != lens[n] || memcmp(m, msgs[n], ml) != 0)) {
			return 100; /* not the message that went in */
		}
		n++;
	}
	*err = it.err;
	return n;
}

int main(void)
{
	plan(16);
	lens[0] = lookup(msgs[0], sizeof(msgs[0]), 1, "sip:alice@example.com");
	lens[1] = lookup(msgs[1], sizeof(msgs[1]), 2, "sip:bob@example.com");
	lens[2] = lookup(msgs[2], sizeof(msgs[2]), 3, "sip:carol@example.com");
	ok(lens[0] > 0 && lens[1] > 0 && lens[2] > 0, "three LOOKUPs built");

	static uint8_t buf[1024];
	size_t len = dht_lsp_batch_begin(buf, sizeof(buf), OVERLAY);
	is_int((int)len, DHT_LSP_HDR_LEN, "a BATCH starts as a bare header");
	ok(dht_lsp_is_batch(buf, len), "and says what it is");
	ok(!dht_lsp_is_batch(msgs[0], lens[0]), "a LOOKUP is no BATCH");
	bool added = true;
	for (unsigned i = 0; i < 3; i++) {
		added = added && dht_lsp_batch_add(buf, &len, sizeof(buf), msgs[i], lens[i]);
	}
	ok(added && len == DHT_LSP_HDR_LEN + lens[0] + lens[1] + lens[2],
	   "three messages appended, whole");
	int open_ret, err;
	ok(walk(buf, len, &open_ret, &err) == 3 && open_ret == LC_OK && err == LC_OK,
	   "walked back: the same three, byte for byte, in order");

	/* the cap: a message that does not fit leaves the batch as it was */
	size_t cap = len + lens[0] - 1, before = len;
	ok(!dht_lsp_batch_add(buf, &len, cap, msgs[0], lens[0]) && len == before &&
		   walk(buf, len, &open_ret, &err) == 3,
	   "a message beyond the cap is refused and changes nothing");
	ok(!dht_lsp_batch_add(buf, &len, sizeof(buf), msgs[0], 10), "a fragment is no message");

	is_int(walk(buf, len - 1, &open_ret, &err), 0, "one byte short: not opened");
	is_int(open_ret, LC_ELSP_TRUNCATED, "  its body is shorter than its length");
	buf[len] = 0;
	walk(buf, len + 1, &open_ret, &err);
	is_int(open_ret, LC_ELSP_TRAILING, "one byte more: bytes after the body");
	struct dht_lsp_batch_iter it;
	is_int(dht_lsp_batch_open(&it, buf, len, OVERLAY + 1), LC_ELSP_OVERLAY,
	       "another overlay's BATCH is refused");

	/* an inner message with a body length beyond the batch: the ones before it stand */
	static uint8_t bad[1024];
	memcpy(bad, buf, len);
	bad[DHT_LSP_HDR_LEN + lens[0] + 7] = 0xff; /* the second message's body length, low byte */
	unsigned n = walk(bad, len, &open_ret, &err);
	ok(n == 1 && err != LC_OK,
	   "a message that overruns the batch ends the walk after the first");
	memcpy(bad, buf, len);
	bad[DHT_LSP_HDR_LEN + lens[0]] = 'X'; /* the second message's magic */
	n = walk(bad, len, &open_ret, &err);
	ok(n == 1 && err == LC_ELSP_MAGIC, "so does a bad magic");

	/* a BATCH inside a BATCH */
	static uint8_t outer[2048];
	size_t olen = dht_lsp_batch_begin(outer, sizeof(outer), OVERLAY);
	ok(dht_lsp_batch_add(outer, &olen, sizeof(outer), msgs[0], lens[0]) &&
		   dht_lsp_batch_add(outer, &olen, sizeof(outer), buf, len),
	   "a BATCH can be appended like any message (the builder does not look)");
	n = walk(outer, olen, &open_ret, &err);
	ok(n == 1 && err == LC_ELSP_TYPE, "but a walk refuses it: never nested");
	return exit_status();
}
