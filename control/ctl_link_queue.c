/* SPDX-License-Identifier: MIT */
/*
 * The per-peer frame queue of the overlay links (see ctl_link_internal.h): whole LSP frames
 * copied back to back into a list of 16 KiB chunks, sent from the head with writev.
 *
 * How it works: push copies a frame into the tail chunk's free room and as many new chunks as
 * it needs (all allocated before any byte is copied, so a failed push leaves the queue as it
 * was). The head frame's length is read from its LSP header when sending reaches it; consume
 * walks the sent bytes frame by frame, so the queue always knows how much of the head frame is
 * out (head_sent) and how much is not (head_left). Drained chunks go back to a small shared pool,
 * and an empty queue holds no chunk at all.
 */
#include <string.h>

#include "common/lc_alloc.h"
#include "common/lc_error.h"
#include "control/ctl_link_internal.h"
#include "dht/lsp.h"

static struct ctl_lq_chunk *chunk_get(struct ctl_lq_pool *pool)
{
	struct ctl_lq_chunk *c = pool->free;
	if (c != NULL) {
		pool->free = c->next;
		pool->nfree--;
	} else {
		c = lc_alloc(sizeof(*c));
		if (c == NULL) {
			return NULL;
		}
	}
	c->next = NULL;
	c->start = 0;
	c->end = 0;
	return c;
}

static void chunk_put(struct ctl_lq_pool *pool, struct ctl_lq_chunk *c)
{
	if (pool->nfree < pool->max_free) {
		c->next = pool->free;
		pool->free = c;
		pool->nfree++;
	} else {
		lc_free(c);
	}
}

int ctl_lq_push(struct ctl_lq *q, struct ctl_lq_pool *pool, const void *frame, size_t len)
{
	size_t room = q->tail != NULL ? CTL_LQ_CHUNK - q->tail->end : 0;
	size_t rest = len > room ? len - room : 0;
	size_t nnew = (rest + CTL_LQ_CHUNK - 1) / CTL_LQ_CHUNK;
	struct ctl_lq_chunk *first = NULL, *last = NULL;
	for (size_t i = 0; i < nnew; i++) {
		struct ctl_lq_chunk *c = chunk_get(pool);
		if (c == NULL) {
			while (first != NULL) {
				struct ctl_lq_chunk *next = first->next;
				chunk_put(pool, first);
				first = next;
			}
			return LC_ENOMEM;
		}
		if (last != NULL) {
			last->next = c;
		} else {
			first = c;
		}
		last = c;
	}
	const uint8_t *p = frame;
	size_t n = LC_MIN(len, room);
	if (n > 0) {
		memcpy(q->tail->data + q->tail->end, p, n);
		q->tail->end += (uint32_t)n;
	}
	for (struct ctl_lq_chunk *c = first; c != NULL; c = c->next) {
		size_t k = LC_MIN(len - n, (size_t)CTL_LQ_CHUNK);
		memcpy(c->data, p + n, k);
		c->end = (uint32_t)k;
		n += k;
	}
	if (first != NULL) {
		if (q->tail != NULL) {
			q->tail->next = first;
		} else {
			q->head = first;
		}
		q->tail = last;
	}
	q->bytes += len;
	q->frames++;
	return LC_OK;
}

int ctl_lq_iov(const struct ctl_lq *q, struct iovec *iov, int max_iov, size_t max_bytes,
	       size_t *bytes)
{
	int n = 0;
	size_t total = 0;
	for (const struct ctl_lq_chunk *c = q->head; c != NULL && n < max_iov; c = c->next) {
		size_t len = LC_MIN((size_t)(c->end - c->start), max_bytes - total);
		if (len == 0) {
			break;
		}
		iov[n].iov_base = (void *)(c->data + c->start);
		iov[n].iov_len = len;
		n++;
		total += len;
	}
	*bytes = total;
	return n;
}

/* The length of the head frame, from its header (which may straddle two chunks). */
static uint32_t head_frame_len(const struct ctl_lq *q)
{
	uint8_t h[8];
	size_t got = 0;
	for (const struct ctl_lq_chunk *c = q->head; c != NULL && got < sizeof(h); c = c->next) {
		size_t k = LC_MIN((size_t)(c->end - c->start), sizeof(h) - got);
		memcpy(h + got, c->data + c->start, k);
		got += k;
	}
	/* push took whole frames only, so a queued frame always has its 24-byte header */
	return DHT_LSP_HDR_LEN + ((uint32_t)h[6] << 8 | h[7]);
}

/* Remove @p n bytes from the head chunks, releasing the drained ones. */
static void advance(struct ctl_lq *q, struct ctl_lq_pool *pool, size_t n)
{
	while (n > 0 && q->head != NULL) {
		struct ctl_lq_chunk *c = q->head;
		size_t k = LC_MIN(n, (size_t)(c->end - c->start));
		c->start += (uint32_t)k;
		n -= k;
		if (c->start == c->end) {
			q->head = c->next;
			if (q->head == NULL) {
				q->tail = NULL;
			}
			chunk_put(pool, c);
		}
	}
}

unsigned ctl_lq_consume(struct ctl_lq *q, struct ctl_lq_pool *pool, size_t n)
{
	unsigned done = 0;
	n = LC_MIN(n, q->bytes);
	while (n > 0) {
		if (q->head_left == 0) {
			q->head_left = head_frame_len(q);
		}
		size_t k = LC_MIN(n, (size_t)q->head_left);
		advance(q, pool, k);
		q->head_left -= (uint32_t)k;
		q->head_sent += (uint32_t)k;
		q->bytes -= k;
		n -= k;
		if (q->head_left == 0) {
			q->head_sent = 0;
			q->frames--;
			done++;
		}
	}
	return done;
}

size_t ctl_lq_drop_partial(struct ctl_lq *q, struct ctl_lq_pool *pool)
{
	if (q->head_sent == 0) {
		return 0;
	}
	size_t k = q->head_left;
	advance(q, pool, k);
	q->bytes -= k;
	q->frames--;
	q->head_left = 0;
	q->head_sent = 0;
	return k;
}

void ctl_lq_clear(struct ctl_lq *q, struct ctl_lq_pool *pool)
{
	while (q->head != NULL) {
		struct ctl_lq_chunk *next = q->head->next;
		chunk_put(pool, q->head);
		q->head = next;
	}
	*q = (struct ctl_lq){0};
}

void ctl_lq_pool_drain(struct ctl_lq_pool *pool)
{
	while (pool->free != NULL) {
		struct ctl_lq_chunk *next = pool->free->next;
		lc_free(pool->free);
		pool->free = next;
	}
	pool->nfree = 0;
}
