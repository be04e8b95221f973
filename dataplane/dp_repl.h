/* SPDX-License-Identifier: MIT */
/*
 * Chain replication of writes (docs/overlay.md §6): after the owner applies a write, the key's
 * whole record set travels down the chain of its replicas as REPLICA_STORE over UDP, and the
 * replica that makes the write quorum acknowledges to the owner, which then answers the client.
 * Every message carries what the next step needs, so no node keeps per-request state; a lost
 * message is recovered by the client's retransmission, which the owner recognises and answers by
 * sending the chain again (replicas apply by version, so twice is the same as once).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/dp_update.h"
#include "dataplane/dp_worker_internal.h"

/* Where and how the client's answer goes once the quorum holds the write. */
struct dp_repl_answer {
	struct dp_addr to;    /* the requester's LSP address */
	uint64_t txn;	      /* its transaction id */
	uint8_t type;	      /* PUBLISH or REMOVE */
	struct dht_bytes ctx; /* its reply context, echoed; {NULL, 0} when none */
};

/**
 * The owner applied a write to w->key (or recognised its retransmission): give the key a new
 * version and send its record set down the chain.
 * @return true when the replica completing the quorum will cause the answer (the caller must not
 *   answer now); false when the caller answers at once (write quorum 1, a ring of one, or the
 *   chain could not start: counted).
 * Context: the key's shard worker, inside a burst.
 */
bool dp_repl_write(struct dp_worker *w, const struct dp_repl_answer *ans);

/**
 * Shard of a REPLICA_STORE (request or acknowledgement) in @p pkt: decodes it into w->ovl and
 * sets w->key / w->aor from its key. Returns the shard, or w->id when it has no usable key.
 */
unsigned dp_repl_classify(struct dp_worker *w, struct dp_pkt *pkt);

/** Append an ENTRY of w->aor at @p version with the live bindings @p bs (absolute expiries). */
void dp_repl_put_entry(struct dht_lsp_builder *b, const struct dp_worker *w,
		       const struct dp_bindings *bs, uint64_t version);

/**
 * Apply one entry to the shard's store (w->key must be its id): the store keeps the higher
 * version. @return LC_OK (applied), LC_ESTALE (what is held is as new), LC_EFULL, LC_ETOOLONG.
 */
int dp_repl_apply_entry(struct dp_worker *w, const struct dht_lsp_entry *e);

/** Handle the REPLICA_STORE classified into w->ovl: apply and pass on, or answer the client. */
void dp_repl_handle(struct dp_worker *w, const struct dp_pkt *in);
