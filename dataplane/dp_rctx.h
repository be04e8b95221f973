/* SPDX-License-Identifier: MIT */
/*
 * Reply contexts (docs/overlay.md §5, docs/lsp.md §6): what a node that forwards a client's
 * request puts into its REPLY_CTX so that it can answer the client from the owner's answer
 * without keeping anything. The owner and the nodes between echo it verbatim; only the node that
 * made it can read or check it, so its layout is private (dp_rctx.c).
 *
 * A context is sealed with dp_mac under the node's own context key (dp_cfg.ctx_key, drawn at
 * start and used for nothing else), and the seal binds it to the forwarded request it travels
 * in: that request's transaction id, LSP type and KEY. dp_rctx_open() checks the seal against
 * the answer's echoed transaction id, type and KEY, and the context's age, so a context lifted
 * from one answer cannot be replayed on an answer about another key or transaction, nor kept
 * for later. The answer's status and records are not covered: the context is made before the
 * answer exists; the datagram's own tag between members covers them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/dp_mac.h"
#include "dataplane/dp_pkt.h"
#include "dht/lsp.h"

#define DP_RCTX_HDR 48	     /* bytes before the body */
#define DP_RCTX_MAX_AGE_S 64 /* longer than a SIP transaction (64*T1) */

/* What the context lets the node answer. */
enum dp_rctx_kind {
	DP_RCTX_REGISTER = 1, /* a REGISTER forwarded as PUBLISH or REMOVE; body: its skeleton */
	DP_RCTX_REDIRECT = 2, /* a redirected SIP request forwarded as LOOKUP; body: its skeleton */
	DP_RCTX_LSP = 3,      /* an LSP client's request; body: its txn, hop limit, own context */
};

/* A context being built. Owner: the worker, on its stack; fields are read-only to callers. */
struct dp_rctx {
	uint8_t b[DHT_LSP_MAX_REPLY_CTX];
	size_t len;
	bool overflow; /* a put did not fit: the context is unusable */
};

/* The forwarded request a context is bound to, or the answer it came back in. Owner: the
 * caller; @p key is borrowed. */
struct dp_rctx_bind {
	uint64_t txn;	      /* the LSP transaction id (the answer echoes the request's) */
	uint8_t type;	      /* DHT_LSP_PUBLISH, _REMOVE, _LOOKUP (the answer keeps the type) */
	struct dht_bytes key; /* the KEY TLV (the answer echoes it) */
};

/** Start a context of @p kind for the client at @p client, made at @p now_s. Context: any. */
void dp_rctx_begin(struct dp_rctx *c, enum dp_rctx_kind kind, uint32_t now_s,
		   const struct dp_addr *client);

/** Append @p n bytes of body; sets c->overflow when they do not fit. Context: any. */
void dp_rctx_put(struct dp_rctx *c, const void *p, size_t n);

/**
 * Seal the context for the forwarded request @p to (whose KEY is at most 65535 bytes).
 * @param key  the node's context key (borrowed).
 * @return LC_OK; LC_ENOSPACE when the context overflowed; LC_EINVAL for a KEY too long. Then
 *   the context must not be sent.
 * Context: the owner of @p c (a worker); fast path.
 */
LC_MUSTCHECK int dp_rctx_seal(struct dp_rctx *c, const uint8_t key[DP_MAC_KEY_LEN],
			      const struct dp_rctx_bind *to);

/**
 * Whether @p ctx is a context this node sealed (under @p key) less than DP_RCTX_MAX_AGE_S
 * before @p now_s for the request @p answer answers (same transaction id, type and KEY). Then
 * fills @p kind, @p client and @p body (the bytes after the header, pointing into @p ctx).
 * Context: any thread; fast path.
 */
bool dp_rctx_open(const uint8_t key[DP_MAC_KEY_LEN], uint32_t now_s, struct dht_bytes ctx,
		  const struct dp_rctx_bind *answer, enum dp_rctx_kind *kind,
		  struct dp_addr *client, struct dht_bytes *body);
