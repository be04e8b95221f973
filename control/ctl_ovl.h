/* SPDX-License-Identifier: MIT */
/*
 * The overlay on the control thread (docs/overlay.md §2): drives the Chord state machine
 * (dht/dht_chord) over the TCP links (ctl_link), publishes each new routing table to the workers
 * through RCU, and answers the admin's ring and route questions. Everything runs on control,
 * between the other events of its poll loop.
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

/**
 * The ring as JSON: this node's view (admin "node"), and with @p all_nodes every member's own
 * state, asked over the links with NODE_INFO (admin "ring"; waits up to 3 s for the answers).
 * @return the length written.
 */
size_t ctl_ovl_ring_json(struct ctl_ovl *ov, bool all_nodes, char *buf, size_t cap);

/** Where @p aor lives, as JSON (admin "route AOR"). @return the length written. */
size_t ctl_ovl_route_json(struct ctl_ovl *ov, const char *aor, char *buf, size_t cap);
