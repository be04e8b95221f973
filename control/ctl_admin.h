/* SPDX-License-Identifier: MIT */
/*
 * The admin interface: a TCP listener on --admin where locusctl asks for stats. One request per
 * connection: a command line ("stats", "ping", "node", "ring", "route AOR"), then the answer, then the node closes. Served on
 * the control thread between other events, with short socket timeouts, so a stuck client can
 * never hold the node.
 */
#pragma once

#include <sys/socket.h>

#include "common/lc_compiler.h"
#include "dataplane/dp_worker.h"

struct ctl_ovl;

/** Listen on @p addr. @return the socket, or a negative errno. Context: control. */
LC_MUSTCHECK int ctl_admin_listen(const struct sockaddr_storage *addr);

/** Accept and answer one connection on @p lfd (readable). Context: control. */
void ctl_admin_serve(int lfd, struct dp_node *n, struct ctl_ovl *ov, uint32_t uptime_s);
