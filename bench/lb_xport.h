/* SPDX-License-Identifier: MIT */
/*
 * locus-bench's transports: how a sending thread puts its requests on the wire and gets the
 * answers back, behind one ops table, so that the workloads, the answer checks and the report
 * (lb_loop.c, lb_check.c, lb_report.c) are the same whatever carries the datagrams. Two exist:
 * kernel UDP sockets (lb_xport_sock.c, the default) and a DPDK port with locus-bench's own
 * Ethernet/ARP/IPv4/UDP on net/'s builders and parser (lb_xport_dpdk.c, --dpdk-args), which
 * drives a locusd on DPDK over memif or vhost/virtio_user with no kernel in the path.
 *
 * A transport has run-wide state (init/fini: the EAL and the port, or the kernel's choice of
 * source address) and one context per sending thread (open/close: its sockets, or its queue
 * pair). A thread's "sources" (--sockets) are its UDP source ports: source k's "addr:port" goes
 * into the Via of the requests sent from it, and the answers come back to it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bench/lb_loop.h"
#include "bench/lb_opts.h"
#include "common/lc_compiler.h"

/* One received datagram's payload (borrowed: valid during the call only), whether it was cut
 * short, and when the burst it came in was read. The handler may queue datagrams (an ACK). */
typedef void (*lb_xport_rx_fn)(void *arg, const char *buf, size_t len, bool trunc, uint64_t now_ns);

/* Owner: static, immutable. Every context pointer is the transport's own. */
struct lb_xport_ops {
	const char *name;
	/** Run-wide set-up from @p c (borrowed for the run). @return LC_OK or a negative code,
	 * with a message in @p err. Context: main thread, before any open. */
	int (*init)(void **shared, const struct lb_cfg *c, char *err, size_t errlen);
	/** Undo init; NULL is fine. Context: main thread, after every close. */
	void (*fini)(void *shared);
	/** Thread @p thread's context with c->sockets sources; @p st (borrowed) receives
	 * send_errors and rx_dropped. Context: main thread. */
	int (*open)(void **ctx, void *shared, unsigned thread, struct lb_stats *st, char *err,
		    size_t errlen);
	/** NULL is fine. Context: main thread, after the thread ended. */
	void (*close)(void *ctx);
	/** First and last calls on the sending thread itself (DPDK: register it with the EAL);
	 * may be NULL. */
	int (*attach)(void *ctx);
	void (*detach)(void *ctx);
	/** Source @p k's "addr:port" into @p out (@p cap bytes); @return its length. */
	unsigned (*local)(void *ctx, unsigned k, char *out, size_t cap);
	/** A buffer of LB_XPORT_MSG_MAX bytes for the next datagram from source @p k (queued ones
	 * may be sent to make room). Context: the sending thread. */
	char *(*tx_buf)(void *ctx, unsigned k);
	/** Queue the @p len bytes written to the last tx_buf(@p k) for @p to (borrowed). */
	void (*tx_commit)(void *ctx, unsigned k, const struct lb_target *to, size_t len);
	/** Send everything queued; what cannot be sent is counted in send_errors. */
	void (*tx_flush)(void *ctx);
	/**
	 * Wait up to @p wait_ns for answers and hand each to @p fn; returns once some arrived (a
	 * few bursts at most) or the time is up.
	 * @return the nanoseconds spent waiting with nothing received (the thread's idle time).
	 */
	uint64_t (*rx)(void *ctx, uint64_t wait_ns, lb_xport_rx_fn fn, void *arg);
};

/* The largest datagram a sending thread writes. */
#define LB_XPORT_MSG_MAX 1024

/** Kernel UDP sockets. */
const struct lb_xport_ops *lb_xport_sock(void);

/** A DPDK port (lb_xport_dpdk.c), or, in a build without DPDK, a stand-in whose init says so. */
const struct lb_xport_ops *lb_xport_dpdk(void);

static inline uint64_t lb_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
