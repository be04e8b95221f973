/* SPDX-License-Identifier: MIT */
/*
 * The fast path across nodes (docs/overlay.md §5): when the routing table says a key lives on
 * another node, the request is forwarded there as LSP over UDP, carrying a reply context, and the
 * owner's answer is turned back into the answer the client expects (a SIP response, or the LSP
 * answer to the client's own transaction). Nothing is kept per request.
 */
#pragma once

#include <stdbool.h>

#include "dataplane/dp_update.h"
#include "dataplane/dp_worker_internal.h"

/**
 * Where the request whose key is in @p r goes: sets r->fwd to the node to forward it to, or NULL
 * when this node handles it. Requests go to the owner, or to the replica that takes over while
 * the owner is suspect (dht_route_next_hop). @p read: a lookup; @p forwarded: another node sent
 * it (its hop limit was used): then a replica inside the write quorum answers it itself, which
 * is how lookups fall back to replicas while an owner is unreachable. @p from: the node a
 * forwarded read came from (NULL otherwise): a read is never routed straight back to it (see
 * dp_fwd.c, "A read is not sent back").
 * Context: the worker, inside a burst (w->rt is held).
 */
void dp_fwd_route(const struct dp_worker *w, struct dp_req *r, bool read, bool forwarded,
		  const struct dp_addr *from);

/**
 * A read of @p k found no binding here: when the key is not held at all (tombstones are a
 * removal this node knows of: then the miss is the answer), while the ring settles after a change
 * (rt->settling), the next node of the key's chain may hold what this one does not have yet (a
 * new owner whose pull came from a node as new as itself, a replica the owner has not pushed to
 * yet), so the read is passed on to it: @return that node. The last node of the chain, a settled
 * ring, or an exhausted @p hop_limit: NULL, and the miss is the answer.
 * Context: the worker, inside a burst.
 */
const struct dht_peer *dp_fwd_read_miss(struct dp_worker *w, const struct dp_key *k,
					unsigned hop_limit);

/** Forward the REGISTER in in->msg.sip, received in @p in and translated into @p u, to in->req.fwd as
 * PUBLISH or REMOVE. */
void dp_fwd_register(struct dp_worker *w, const struct dp_pkt *in, const struct dp_update *u);

/**
 * The owner applied the REGISTER in in->msg.sip (received in @p in): replicate it, and answer the UA
 * only when the write quorum holds it: the replica that completes it answers this node as it
 * would a facing node, through this node's own reply context. @return false when the caller
 * answers at once (see dp_repl_write).
 */
bool dp_fwd_replicate_sip(struct dp_worker *w, const struct dp_pkt *in, bool remove);

/**
 * The owner applied the LSP PUBLISH or REMOVE in in->msg.lsp (received in @p in): replicate it, and
 * have the replica that completes the quorum answer the facing node that forwarded it (its
 * REPLY_TO, when a member sent it), or this node for its own client (wrapped in a reply context,
 * so that the client hears only from the node it asked). @return false when the caller answers
 * at once.
 */
bool dp_fwd_replicate_lsp(struct dp_worker *w, const struct dp_pkt *in);

/** Forward a lookup of in->req's key for the request in in->msg.sip (302/404 later) to @p to. */
void dp_fwd_lookup(struct dp_worker *w, const struct dp_pkt *in, const struct dht_peer *to);

/** Forward the LSP client request in in->msg.lsp, received in @p in, to @p to: as it is (one hop
 * less) when a node already forwarded it (REPLY_TO set), else with our reply context wrapped
 * around the client's and REPLY_TO set to us. */
void dp_fwd_lsp(struct dp_worker *w, struct dp_pkt *in, const struct dht_peer *to);

/**
 * An LSP answer arrived (decoded in in->msg.lsp): when it carries a reply context this node made,
 * answer the original client. @return false when it is not ours (the caller counts the drop).
 */
bool dp_fwd_answer(struct dp_worker *w, struct dp_pkt *in);
