/* SPDX-License-Identifier: MIT */
/*
 * The overlay on the control thread (docs/overlay.md §2): drives the Chord state machine
 * (dht/dht_chord) over the TCP links (ctl_link), publishes each new routing table to the workers
 * through RCU, and answers the admin's node, ring and route questions. Everything runs on
 * control, between the other events of its poll loop, and nothing here waits for the network or
 * the workers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/lc_compiler.h"
#include "control/ctl_cfg.h"
#include "dataplane/dp_worker.h"

struct ctl_tls;

struct ctl_ovl;

/**
 * Start the overlay of this node: listen for links on the LSP address @p lsp (the UDP socket's
 * real address), publish the table of a ring of one, and when --join was given send JOIN.
 * @param tls  the overlay's root of trust (borrowed, outlives the overlay): links are TLS 1.3
 *             with mutual authentication and the node id is its certificate's; NULL: an
 *             unsecured lab ring (plain TCP, ids from addresses).
 * @param err  a one-line message when the result is not LC_OK.
 * @return LC_OK, LC_ENOMEM, or a negative errno (e.g. -EADDRINUSE for the TCP port).
 * Context: control, at start, after the workers exist.
 */
LC_MUSTCHECK int ctl_ovl_new(struct ctl_ovl **out, const struct ctl_cfg *cfg, struct dp_node *node,
			     struct ctl_tls *tls, const struct sockaddr_storage *lsp, char *err,
			     size_t errcap);

void ctl_ovl_free(struct ctl_ovl *ov);

/** The fd to poll (readable: call ctl_ovl_run). */
int ctl_ovl_fd(const struct ctl_ovl *ov);

/** How long control may sleep before ctl_ovl_run is due, in ms (-1: no timer). */
int ctl_ovl_timeout_ms(const struct ctl_ovl *ov);

/** Links, timers, and a new routing table when the ring changed. */
void ctl_ovl_run(struct ctl_ovl *ov);

/**
 * Leave gracefully: LEAVE to the neighbours, then keep running the links for at most
 * @p max_ms until every queued frame is out. Context: control, on SIGTERM, before the workers
 * stop.
 */
void ctl_ovl_leave(struct ctl_ovl *ov, unsigned max_ms);

/* The answer to an admin "node" or "ring" in progress. Owner: the admin connection that asked
 * (ctl_ovl_query_new / ctl_ovl_query_free); control thread only. */
struct ctl_ovl_query;

/**
 * Start answering the admin's "node" (@p all_nodes false: this node's view of the ring and a
 * fresh count of its keys by role) or "ring" (true: also every member's own state, asked with
 * NODE_INFO over the links). Nothing waits: the count runs on the workers and the answers arrive
 * through ctl_ovl_run, while control goes on; poll ctl_ovl_query_ready.
 * @return LC_OK or LC_ENOMEM. Context: control.
 */
LC_MUSTCHECK int ctl_ovl_query_new(struct ctl_ovl *ov, bool all_nodes, struct ctl_ovl_query **out);

/** Whether @p q can be answered: its count finished and every member asked answered, or its
 * deadline passed. Context: control. */
bool ctl_ovl_query_ready(const struct ctl_ovl_query *q, uint64_t now_ms);

/** The monotonic time (ms) at which @p q is ready whatever came (1 s for node, 3 s for ring). */
uint64_t ctl_ovl_query_deadline_ms(const struct ctl_ovl_query *q);

/**
 * The answer of @p q as JSON: the routing state as it is now, the count (or the latest one, with
 * its age, when the fresh one did not finish in time: null when none ever did), and for "ring"
 * every member asked, "answered":false for those whose answer did not come.
 * @return the length written; 0 when it does not fit in @p cap. Context: control.
 */
size_t ctl_ovl_query_json(const struct ctl_ovl_query *q, char *buf, size_t cap);

/** Free @p q (NULL: no-op); an answer that comes later is dropped. Context: control. */
void ctl_ovl_query_free(struct ctl_ovl_query *q);

/** Where @p aor lives, as JSON (admin "route AOR"). @return the length written. */
size_t ctl_ovl_route_json(struct ctl_ovl *ov, const char *aor, char *buf, size_t cap);
