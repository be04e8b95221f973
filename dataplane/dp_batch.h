/* SPDX-License-Identifier: MIT */
/*
 * Datagrams between members, batched (dht/lsp_batch.h, docs/lsp.md §11.3.14): the messages a
 * worker sends to the same member in one iteration of its loop leave as one BATCH datagram of
 * at most --overlay-batch bytes, and a BATCH received from a member is taken apart into its
 * messages, each then handled as if it had come alone.
 *
 * Why: in a ring every client request costs node-to-node datagrams (the forward to the owner,
 * the replica store, the answer to the facing node), and on the kernel's UDP path each datagram
 * costs both nodes system-call and softirq time whatever its size. Under load the messages of a
 * burst mostly go to the same few members, so one datagram carries several.
 *
 * Who may send one: on a secured node, a member whose tag on the BATCH passed; an untagged
 * BATCH is dropped and counted (batch_untrusted), so that nobody but a member makes a node
 * answer many times to one datagram. On an unsecured node (a lab ring, where membership is only
 * an address, and a node of a large ring knows few members by address) a BATCH is taken from
 * anyone, and each message has exactly the rights it would have alone: a member's (REPLY_TO
 * honoured) when its source is a member the routing table knows, a client's otherwise.
 */
#pragma once

#include <stdbool.h>

#include "dataplane/dp_pkt.h"

struct dp_worker;

/**
 * Hold @p p, an LSP datagram for the member at p->peer (DP_PKT_TO_MEMBER), to leave with the
 * others for that member at the end of the iteration (dp_batch_flush); sends it at once when
 * batching is off or it is too large to share a datagram. Takes ownership of @p p.
 * Context: the worker; fast path.
 */
void dp_batch_hold(struct dp_worker *w, struct dp_pkt *p);

/**
 * Send what dp_batch_hold holds: a member's messages as BATCH datagrams, a lone message as it
 * is. Context: the worker, once per iteration before its transmit, and when the holding is full.
 */
void dp_batch_flush(struct dp_worker *w);

/**
 * Take a received BATCH apart: each message becomes a packet of its own from the worker's pool
 * (the batch's source, tag verdict and arrival time), passed to @p fn in order. An untagged
 * BATCH on a secured node, or one whose framing is bad, is counted and yields nothing (or the
 * messages before the bad part). The caller still owns @p batch.
 * @return the messages passed on.
 * Context: the worker, inside a burst (w->rt held); fast path.
 */
unsigned dp_batch_split(struct dp_worker *w, const struct dp_pkt *batch,
			void (*fn)(struct dp_worker *w, struct dp_pkt *p, void *arg), void *arg);
