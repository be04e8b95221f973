/* SPDX-License-Identifier: MIT */
/*
 * The admin interface: where locusctl asks a node for its stats, its view of the ring and where a
 * key lives. One request per connection: a command line ("stats", "ping", "node", "ring",
 * "route AOR"), then the answer, then the node closes.
 *
 * It listens on a Unix socket by default (mode 0600: only the node's user, and root, can ask),
 * or on TCP when --admin names ADDR:PORT. Every connection is non-blocking and polled by the
 * control loop with the overlay's fds, so no client can hold the control thread: a client has
 * ADMIN_READ_MS to send its line, answers that need other nodes (ring) or the workers (counts)
 * wait in their connection's state while the loop runs on, and answers are written as the socket
 * takes them, within a deadline. At most CTL_ADMIN_MAX_CONNS connections are open at once; more
 * are accepted and closed with "error: busy".
 *
 * The addresses (ctl_admin_parse, ctl_admin_default, ctl_admin_format) are shared with locusctl,
 * which finds a node's default socket the way the node made it: from the LSP port.
 */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/lc_compiler.h"
#include "dataplane/dp_worker.h"

struct ctl_ovl;
struct ctl_admin;
struct ctl_tls;

/* Connections served at once; more are accepted and closed at once. */
#define CTL_ADMIN_MAX_CONNS 16
/* Entries ctl_admin_poll_fill writes at most: the listener and the connections. */
#define CTL_ADMIN_MAX_FDS (1 + CTL_ADMIN_MAX_CONNS)

/**
 * Parse an --admin value: a Unix socket path (any value with a '/', or "unix:PATH") or TCP
 * "ADDR:PORT". @p out gets AF_UNIX, AF_INET or AF_INET6.
 * @return LC_OK, LC_EINVAL (neither form, or an empty path), LC_ETOOLONG (the path does not fit a
 *   socket address: at most 107 bytes). Context: any (locusd flags, locusctl).
 */
LC_MUSTCHECK int ctl_admin_parse(const char *text, struct sockaddr_storage *out);

/**
 * The default admin socket of the node whose LSP port is @p lsp_port: DIR/locusd-PORT.sock, where
 * DIR is /run/locus for root, else $XDG_RUNTIME_DIR/locus when that is set, else /tmp/locus-UID.
 * locusd and locusctl run as the same user derive the same path.
 * @return LC_OK or LC_ETOOLONG (a very long $XDG_RUNTIME_DIR). Context: any.
 */
LC_MUSTCHECK int ctl_admin_default(unsigned lsp_port, struct sockaddr_storage *out);

/** Write @p ss as --admin takes it back: "unix:PATH" or "ADDR:PORT". Context: any. */
void ctl_admin_format(const struct sockaddr_storage *ss, char *out, size_t cap);

/** sizeof the sockaddr behind @p ss (Unix, IPv4 or IPv6), for bind and connect. */
socklen_t ctl_admin_addr_len(const struct sockaddr_storage *ss);

/**
 * Listen on @p addr (ctl_admin_parse or ctl_admin_default). A Unix socket is created with mode
 * 0600; a socket file nobody listens on any more (a node killed before it could remove it) is
 * replaced; one that a live process listens on is not (-EADDRINUSE), nor any other kind of file
 * (-EEXIST). For the default socket (@p make_dir), its directory is created (mode 0700) when
 * missing and must belong to this user and be writable by nobody else (-EPERM).
 * @param tls  a secured node's root of trust (borrowed, outlives the admin), or NULL: the TCP form
 *             of a secured node is mutual TLS 1.3, and a client must present a certificate the
 *             overlay's CA issued (locusctl --overlay-ca, --cert, --key); the Unix socket, guarded
 *             by its file mode, never uses it.
 * @param err  a one-line message (the address and why) when the result is not LC_OK.
 * @return LC_OK, LC_ENOMEM, or a negative errno. Context: control, at start.
 */
LC_MUSTCHECK int ctl_admin_new(struct ctl_admin **out, const struct sockaddr_storage *addr,
			       bool make_dir, struct ctl_tls *tls, char *err, size_t errcap);

/**
 * Close every connection (and the queries they wait for) and the listener; remove the socket
 * file when it is still the one this node made. Call before ctl_ovl_free. NULL is a no-op.
 * Context: control.
 */
void ctl_admin_free(struct ctl_admin *a);

/** The address listened on, the OS's port in place of port 0. */
void ctl_admin_local(const struct ctl_admin *a, struct sockaddr_storage *out);

/**
 * The fds to poll and their events, into @p pfd (room for CTL_ADMIN_MAX_FDS).
 * @return the entries written. Context: control, before poll.
 */
unsigned ctl_admin_poll_fill(const struct ctl_admin *a, struct pollfd *pfd);

/** How long control may sleep before a connection's deadline, in ms (-1: none). */
int ctl_admin_timeout_ms(const struct ctl_admin *a);

/* What the commands read. Owner: the caller; borrowed for ctl_admin_run. */
struct ctl_admin_env {
	struct dp_node *node;
	struct ctl_ovl *ov;
	uint32_t uptime_s;
};

/**
 * After poll: read command lines, start and finish answers, write them, close connections that
 * are done or past their deadline, accept new ones. Never blocks.
 * @param pfd  the entries ctl_admin_poll_fill wrote, with poll's revents (@p n of them).
 * Context: control, once per loop iteration (also without events: queries finish by time).
 */
void ctl_admin_run(struct ctl_admin *a, const struct pollfd *pfd, unsigned n,
		   const struct ctl_admin_env *env);
