/* SPDX-License-Identifier: MIT */
/*
 * The io backend interface: what a worker needs from the network, and nothing about how. The
 * socket backend (dp_io_sock.c: recvmmsg/sendmmsg on SO_REUSEPORT sockets) and the DPDK backend
 * (dp_io_dpdk.c: a queue pair per worker and its own network stack) implement it, and the
 * pipeline above never knows which runs.
 */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/lc_compiler.h"
#include "common/lc_counter.h"
#include "dataplane/dp_pkt.h"

/* What a backend opens for one worker: the node's SIP and LSP addresses. */
struct dp_io_cfg {
	struct sockaddr_storage
		addr[DP_SOCK_COUNT_]; /* port 0: the first worker lets the OS pick */
	int rcvbuf_bytes;	      /* SO_RCVBUF / SO_SNDBUF; 0 keeps the default */
};

/* Owner: static, read-only. One instance per backend. */
struct dp_io_ops {
	const char *name;
	/**
	 * Open worker @p worker's queues (sockets). @return LC_OK or a negative errno-style code.
	 * Context: control, at start.
	 */
	int (*open)(void **ctx, const struct dp_io_cfg *cfg, unsigned worker);
	/** Close them (NULL is a no-op). Context: control, after the worker stopped. */
	void (*close)(void *ctx);
	/** The address socket @p sock is bound to (its real port when 0 was asked). */
	int (*local_addr)(void *ctx, enum dp_sock sock, struct sockaddr_storage *out);
	/**
	 * Receive up to @p n datagrams into the empty packets @p pkts (from the worker's pool),
	 * filling len, sock, peer and rx_ms: when the datagram reached the node, not when it is
	 * read (a worker that was starved or stopped reads datagrams that waited; writes that
	 * waited too long are not acted on, dp_write_stale), or 0 when the backend cannot tell.
	 * @return how many were filled (the first ones).
	 * Context: the worker; fast path; never blocks.
	 */
	unsigned (*rx_burst)(void *ctx, struct dp_pkt **pkts, unsigned n);
	/**
	 * Send up to @p n packets, each from its sock to its peer. @return how many were handed to
	 * the network; the rest still belong to the caller. Context: the worker; fast path.
	 */
	unsigned (*tx_burst)(void *ctx, struct dp_pkt **pkts, unsigned n);
	/**
	 * Optional (NULL: always wait): the backend's chance to keep the worker polling after an
	 * empty iteration instead of waiting (a polling backend's spin phase, or work it did just
	 * now). The worker then skips wait() and everything around it (the sleeping flag, RCU
	 * offline and online): a spin costs no system call and no fence.
	 * @return true to poll again at once, false to wait(). Context: the worker, idle, RCU
	 * online; never blocks.
	 */
	bool (*idle)(void *ctx);
	/**
	 * Block until a packet may be waiting, @p wake_fd (an eventfd, or -1; the same one on
	 * every call) is readable, or @p timeout_ms passes. @return whether @p wake_fd is readable
	 * (the caller reads it). Context: the worker, when idle (RCU offline if it uses RCU).
	 */
	bool (*wait)(void *ctx, int wake_fd, int timeout_ms);
	/**
	 * Optional (NULL: none): the backend's own counters of this worker's queue, @p names[i]
	 * and @p values[i] (single writer: the worker). The names are the same for every worker.
	 * @return how many. Context: any thread (control, for stats).
	 */
	unsigned (*counters)(void *ctx, const char *const **names, const lc_counter_t **values);
};

extern const struct dp_io_ops dp_io_sock_ops;
