/* SPDX-License-Identifier: MIT */
/*
 * BATCH (docs/lsp.md §11.3.14): several LSP messages from one member to another in one UDP
 * datagram. A node's worker sends many small datagrams to the same few members (forwarded
 * requests, replica stores, answers to a REPLY_TO); on a kernel path each datagram costs the two
 * nodes a few microseconds of system calls and softirq whatever its size, so the messages bound
 * for the same member in one burst travel together. The format is the plainest that works: an
 * LSP header of type BATCH whose body is the messages themselves, whole, one after another,
 * each framed by its own header's body length (as on an overlay link). A BATCH is never inside a
 * BATCH, travels only over UDP between members, and is never answered: its messages are, one by
 * one, as if each had come alone.
 *
 * This is the codec alone (no I/O, no trust: dataplane/dp_batch.c decides who may send one).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/lc_compiler.h"
#include "dht/lsp.h"

#define DHT_LSP_BATCH 0x50 /* enum dht_lsp_type's first node-to-node datagram container */

/**
 * Whether @p buf starts with an LSP header of type BATCH (magic, version and type; the rest is
 * checked by dht_lsp_batch_open). Context: any thread; fast path.
 */
static inline bool dht_lsp_is_batch(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	return len >= DHT_LSP_HDR_LEN && p[0] == (DHT_LSP_MAGIC >> 8) &&
	       p[1] == (DHT_LSP_MAGIC & 0xff) && p[3] == DHT_LSP_BATCH;
}

/**
 * Start a BATCH in @p buf: writes its header (body empty). @p cap must be at least the header.
 * @return the length so far (the header's), to pass to dht_lsp_batch_add.
 * Context: any thread; fast path.
 */
size_t dht_lsp_batch_begin(uint8_t *buf, size_t cap, uint64_t overlay_id);

/**
 * Append the whole message @p msg (@p msg_len bytes, a well-formed LSP message: the caller built
 * it) to the BATCH in @p buf of length *@p len, when it fits in @p cap; updates *@p len and the
 * header's body length.
 * @return false when it does not fit (nothing changed).
 * Context: any thread; fast path.
 */
bool dht_lsp_batch_add(uint8_t *buf, size_t *len, size_t cap, const void *msg, size_t msg_len);

/* A walk over the messages of a received BATCH. Owner: the caller; views into the datagram. */
struct dht_lsp_batch_iter {
	const uint8_t *p;
	size_t len, off;
	int err; /* LC_OK, or why the walk stopped early (LC_ELSP_*) */
};

/**
 * Check a received BATCH's header (magic, version 1, type BATCH, no flags, body length equal to
 * the rest of @p len, the overlay @p overlay_id) and start a walk over its messages.
 * @return LC_OK, LC_ELSP_MAGIC, LC_ELSP_VERSION, LC_ELSP_TYPE, LC_ELSP_TRUNCATED,
 *   LC_ELSP_TRAILING or LC_ELSP_OVERLAY.
 * Context: any thread; fast path.
 */
LC_MUSTCHECK int dht_lsp_batch_open(struct dht_lsp_batch_iter *it, const void *buf, size_t len,
				    uint64_t overlay_id);

/**
 * The next message of the walk: *@p msg and *@p msg_len (borrowed from the datagram), each a whole
 * LSP header and body that the message's own decoder then checks in full.
 * @return false at the end, or when the rest is not a message (too short for a header, a bad
 *   magic, a body length beyond the batch, a BATCH inside it): then it->err says which, and
 *   the messages already returned stand.
 * Context: any thread; fast path.
 */
bool dht_lsp_batch_next(struct dht_lsp_batch_iter *it, const uint8_t **msg, size_t *msg_len);
