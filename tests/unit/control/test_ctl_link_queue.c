/* SPDX-License-Identifier: MIT */
/*
 * The overlay links' frame queue: frames across chunk boundaries, sending in arbitrary pieces,
 * dropping exactly the unsent rest of a partly-sent frame, and a seeded random walk of pushes,
 * partial sends and drops checked byte for byte against a plain model.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/lc_error.h"
#include "control/ctl_link_internal.h"
#include "dht/lsp.h"
#include "tests/tap.h"

/* An LSP frame of @p len bytes (>= 24) whose bytes follow from @p seq. */
static void make_frame(uint8_t *f, size_t len, uint32_t seq)
{
	size_t body = len - DHT_LSP_HDR_LEN;
	memset(f, 0, DHT_LSP_HDR_LEN);
	f[0] = 0x4c;
	f[1] = 0x53;
	f[2] = 1;
	f[3] = 1;
	f[6] = (uint8_t)(body >> 8);
	f[7] = (uint8_t)body;
	memcpy(f + 8, &seq, sizeof(seq));
	for (size_t i = DHT_LSP_HDR_LEN; i < len; i++) {
		f[i] = (uint8_t)(seq * 131 + i);
	}
}

static uint8_t frame_byte(uint32_t seq, size_t len, size_t off)
{
	static uint8_t f[DHT_LSP_MAX_MSG];
	static uint32_t cached_seq = UINT32_MAX;
	static size_t cached_len;
	if (seq != cached_seq || len != cached_len) {
		make_frame(f, len, seq);
		cached_seq = seq;
		cached_len = len;
	}
	return f[off];
}

/* Send up to @p n bytes: copy them out of the iovecs into @p out, then consume. */
static unsigned send_some(struct ctl_lq *q, struct ctl_lq_pool *pool, size_t n, uint8_t *out,
			  size_t *got)
{
	struct iovec iov[64];
	size_t total;
	int cnt = ctl_lq_iov(q, iov, 64, n, &total);
	size_t k = 0;
	for (int i = 0; i < cnt; i++) {
		memcpy(out + k, iov[i].iov_base, iov[i].iov_len);
		k += iov[i].iov_len;
	}
	*got = k;
	return ctl_lq_consume(q, pool, k);
}

static void fixed_cases(void)
{
	struct ctl_lq_pool pool = {.max_free = 4};
	struct ctl_lq q = {0};
	static uint8_t a[100], b[20000], c[DHT_LSP_MAX_MSG], out[200000];
	make_frame(a, sizeof(a), 1);
	make_frame(b, sizeof(b), 2);
	make_frame(c, sizeof(c), 3);
	ok(ctl_lq_push(&q, &pool, a, sizeof(a)) == LC_OK &&
		   ctl_lq_push(&q, &pool, b, sizeof(b)) == LC_OK &&
		   ctl_lq_push(&q, &pool, c, sizeof(c)) == LC_OK,
	   "push 100 B, 20000 B (spans a chunk) and a largest frame");
	is_int(q.bytes, sizeof(a) + sizeof(b) + sizeof(c), "bytes queued");
	is_int(q.frames, 3, "frames queued");

	size_t got;
	unsigned done = send_some(&q, &pool, 150, out, &got);
	ok(got == 150 && done == 1 && memcmp(out, a, 100) == 0 && memcmp(out + 100, b, 50) == 0,
	   "150 bytes out: the first frame done, 50 bytes of the second");
	is_int(q.head_sent, 50, "the head frame is 50 bytes out");
	is_int(ctl_lq_drop_partial(&q, &pool), sizeof(b) - 50, "drop the unsent rest of it");
	ok(q.frames == 1 && q.bytes == sizeof(c) && q.head_sent == 0, "only the third is left");
	is_int(ctl_lq_drop_partial(&q, &pool), 0, "nothing partial: nothing dropped");
	done = send_some(&q, &pool, sizeof(out), out, &got);
	ok(done == 1 && got == sizeof(c) && memcmp(out, c, sizeof(c)) == 0, "the third intact");
	ok(q.bytes == 0 && q.frames == 0 && q.head == NULL && q.tail == NULL,
	   "an empty queue holds no chunk");
	ok(pool.nfree <= pool.max_free, "the pool keeps at most max_free spares (%u)", pool.nfree);

	for (uint32_t i = 0; i < 10; i++) {
		if (ctl_lq_push(&q, &pool, b, sizeof(b)) != LC_OK) {
			break;
		}
	}
	ctl_lq_clear(&q, &pool);
	ok(q.bytes == 0 && q.frames == 0 && q.head == NULL, "clear empties the queue");
	ctl_lq_pool_drain(&pool);
	ok(pool.free == NULL && pool.nfree == 0, "drain empties the pool");
}

/* A model frame: seq, length, bytes already sent. */
struct mframe {
	uint32_t seq;
	uint32_t len;
};

static void random_walk(void)
{
	struct ctl_lq_pool pool = {.max_free = 8};
	struct ctl_lq q = {0};
	static struct mframe model[4096];
	static uint8_t f[DHT_LSP_MAX_MSG], out[1 << 20];
	size_t mhead = 0, mtail = 0, msent = 0, mbytes = 0;
	uint32_t seq = 0;
	unsigned mismatches = 0, count_errors = 0, done_total = 0, done_model = 0;
	srand(42);
	for (int step = 0; step < 20000; step++) {
		int op = rand() % 10;
		if (op < 5 && mtail - mhead < 4096 && mbytes < (4u << 20)) {
			size_t len = DHT_LSP_HDR_LEN +
				     (size_t)(rand() % 4 == 0 ? rand() % 65000 : rand() % 300);
			make_frame(f, len, seq);
			if (ctl_lq_push(&q, &pool, f, len) != LC_OK) {
				count_errors++;
				continue;
			}
			model[mtail++ % 4096] = (struct mframe){seq++, (uint32_t)len};
			mbytes += len;
		} else if (op < 9) {
			size_t n = (size_t)(rand() % 70000), got;
			done_total += send_some(&q, &pool, n, out, &got);
			for (size_t k = 0; k < got; k++) {
				struct mframe *m = &model[mhead % 4096];
				mismatches += out[k] != frame_byte(m->seq, m->len, msent);
				if (++msent == m->len) {
					mhead++;
					msent = 0;
					done_model++;
				}
			}
			mbytes -= got;
		} else {
			size_t cut = ctl_lq_drop_partial(&q, &pool);
			if (msent > 0) {
				count_errors += cut != model[mhead % 4096].len - msent;
				mbytes -= cut;
				mhead++;
				msent = 0;
			} else {
				count_errors += cut != 0;
			}
		}
		count_errors += q.bytes != mbytes || q.frames != mtail - mhead;
	}
	is_int(mismatches, 0, "random walk: every byte sent is the model's next byte");
	is_int(count_errors, 0, "random walk: bytes, frames and drops agree with the model");
	is_int(done_total, done_model, "random walk: completed frames agree (%u)", done_model);
	ctl_lq_clear(&q, &pool);
	ctl_lq_pool_drain(&pool);
}

int main(void)
{
	plan(16);
	fixed_cases();
	random_walk();
	return exit_status();
}
