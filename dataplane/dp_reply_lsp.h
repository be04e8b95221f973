/* SPDX-License-Identifier: MIT */
/*
 * The LSP half of the reply library (dp_reply_lsp.c): building and queueing every answer to an
 * LSP request. The request stages, replication and forwarding call it; it calls nothing above it.
 */
#pragma once

#include <stdbool.h>

#include "dataplane/dp_key.h"
#include "dataplane/dp_update.h"
#include "dataplane/dp_worker_internal.h"

/** An answer of @p status and nothing else to the LSP request in in->msg.lsp, received in @p in. */
void dp_reply_lsp_status(struct dp_worker *w, const struct dp_pkt *in, unsigned status);

/** An answer carrying the live bindings @p bs (OK), or NOT_FOUND when there are none and
 * @p not_found_if_empty. */
void dp_reply_lsp_records(struct dp_worker *w, const struct dp_pkt *in,
			  const struct dp_bindings *bs, bool not_found_if_empty);

/** The answer to a request that failed to decode: its status, REASON and ERROR_DETAIL. */
void dp_reply_lsp_error(struct dp_worker *w, const struct dp_pkt *in);

/** A PUBLISH or REMOVE refused by the registrar rules (dp_update_apply's @p st): its status,
 * with MIN_EXPIRES (too brief) or RETRY_AFTER (full, no quorum). */
void dp_reply_lsp_refused(struct dp_worker *w, const struct dp_pkt *in, enum dp_update_status st);

/** Append the live bindings @p bs as answer records (remaining expiry, age). */
void dp_reply_lsp_put_records(struct dht_lsp_builder *b, const struct dp_worker *w,
			      const struct dp_bindings *bs);

/* Whom the answer to a replicated write goes to: what a REPLICA_STORE carries (docs/lsp.md
 * 11.3.9). Owner: the caller; ctx is borrowed. */
struct dp_reply_lsp_to {
	struct dht_addr addr; /* REPLY_TO: the node facing the client */
	uint64_t txn;	      /* ORIG_TXN */
	uint8_t type;	      /* ORIG_TYPE */
	struct dht_bytes ctx; /* REPLY_CTX; {NULL, 0} when none */
};

/**
 * The answer to a replicated write, sent by the replica that completes its quorum to the node
 * that faces the client: @p status and, on OK, the live records of @p key as this copy holds them
 * (RETRY_AFTER on FULL or UNAVAILABLE). Tagged on a secured ring (a member's message).
 */
void dp_reply_lsp_quorum(struct dp_worker *w, const struct dp_key *key,
			 const struct dp_reply_lsp_to *to, unsigned status);
