/* SPDX-License-Identifier: MIT */
/*
 * Chain replication of writes (docs/overlay.md §6): after the owner applies a write, the key's
 * whole record set travels down the chain of its replicas as REPLICA_STORE over UDP, and the
 * replica that makes the write quorum answers the node facing the client, which answers it.
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
	struct dht_addr to;   /* the node that answers the client (a member: the facing node) */
	uint64_t txn;	      /* its transaction id */
	uint8_t type;	      /* PUBLISH or REMOVE */
	struct dht_bytes ctx; /* its reply context, echoed; {NULL, 0} when none */
};

/**
 * The owner applied a write to @p key (or recognised its retransmission): send the key's records
 * (versioned by the write) down the chain.
 * @return true when the replica completing the quorum will cause the answer (the caller must not
 *   answer now; also when the chain could not start, no buffer or an entry too large for a
 *   datagram: counted, and the write is not acknowledged, since no copy exists); false when the
 *   caller answers at once (write quorum 1, a ring of one, the last node of the chain).
 * Context: the key's shard worker, inside a burst.
 */
bool dp_repl_write(struct dp_worker *w, const struct dp_key *key, const struct dp_repl_answer *ans);

/**
 * Shard of a REPLICA_STORE in @p pkt: decodes it into pkt->msg.ovl and sets pkt->req's key from its
 * first entry. Returns the shard, or w->id when it has no usable key (or is not a request).
 */
unsigned dp_repl_classify(struct dp_worker *w, struct dp_pkt *pkt);

/** Append an ENTRY of @p k at @p version with the records @p bs (dp_records_load: bindings and
 * tombstones, absolute expiries, versions). */
void dp_repl_put_entry(struct dht_lsp_builder *b, const struct dp_key *k,
		       const struct dp_bindings *bs, uint64_t version);

/**
 * Whether a write of @p key can be made as durable as --write-quorum promises: the chain from
 * this node holds at least min(W, R) live nodes of the current view. Not so (a node cut off
 * from the rest of its ring, or a ring that shrank below W), the write is refused (SIP 503, LSP
 * UNAVAILABLE) before anything changes. A ring of one by configuration (rt->solo) always can.
 * Context: the worker; fast path.
 */
bool dp_repl_quorum_reachable(const struct dp_worker *w, const struct dp_key *key);

/** The records of @p k (bindings and tombstones) not past expiry: what an ENTRY carries. */
void dp_records_load(struct dp_worker *w, const struct dp_key *k, struct dp_bindings *out);

/**
 * Merge one entry into the shard's store (@p id must be its key's id), record by record
 * (dht_store_merge; versions beyond dht_version_bound are refused and counted).
 * @return LC_OK (something changed), LC_ESTALE (nothing held was older), LC_EFULL, LC_ETOOLONG.
 */
int dp_repl_apply_entry(struct dp_worker *w, dht_id_t id, const struct dht_lsp_entry *e);

/** Handle the REPLICA_STORE classified into w->ovl: apply, answer the waiting node when this
 * copy completes the quorum, and pass it on. */
void dp_repl_handle(struct dp_worker *w, struct dp_pkt *in);
