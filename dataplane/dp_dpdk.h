/* SPDX-License-Identifier: MIT */
/*
 * The DPDK backend as control sees it: bring up the EAL, the ports, the buffer pool and the
 * kernel's exception path (a TAP) before the workers are built; run the workers on the EAL's
 * worker lcores; and take it all down again. No DPDK type appears here, so control and a build
 * without DPDK (dp_dpdk_none.c) compile the same calls; the io backend itself is
 * dp_dpdk_io_ops(), behind struct dp_io_ops like the socket backend.
 *
 * The process has one EAL, so this is a module with process-wide state: dp_dpdk_init() once,
 * dp_dpdk_fini() once.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/lc_compiler.h"
#include "dataplane/dp_io.h"

struct dp_node;

#define DP_DPDK_MBUFS_DEFAULT 0 /* sized from the ports (dp_dpdk_port.c) */
#define DP_DPDK_MBUFS_MIN 8191	/* at least this many when sized automatically: about 20 MB */
#define DP_DPDK_ARGS_MAX 64

/* What dp_dpdk_init needs. Borrowed for the call. */
struct dp_dpdk_cfg {
	const char *eal_args; /* --dpdk-args, split like a shell would (quotes, backslash) */
	uint32_t ip;	      /* the node's IPv4 address on the port (host order) */
	uint16_t port[2];     /* SIP and LSP UDP ports (host order) */
	unsigned prefix_len;  /* on-link subnet of ip, 1..32 */
	uint32_t gateway;     /* next hop for off-link peers (host order); 0: none */
	unsigned mbufs;	      /* size of the packet buffer pool; 0: sized from the ports */
	bool busy_poll;	      /* never sleep when idle (--dpdk-poll busy) */
	const char *tap;      /* name of the kernel's exception-path interface; "" or NULL: none */
	unsigned workers;     /* --workers, 0 when not given: then one per worker lcore */
	const char *argv0;    /* the program name for the EAL */
};

/**
 * Split @p s into at most @p max words like a POSIX shell (single and double quotes,
 * backslash escapes; no expansion), writing them into @p buf (@p cap bytes) and pointers into
 * @p argv. @return the word count, or LC_EINVAL (unterminated quote or escape), LC_ENOSPACE (too
 * many words or too long). Context: any.
 */
LC_MUSTCHECK int dp_dpdk_split_args(const char *s, char *buf, size_t cap, char **argv,
				    unsigned max);

/**
 * Initialise the EAL with cfg->eal_args, configure and start every port with one RX/TX queue
 * pair per worker lcore, create the mbuf pool and, if asked, the TAP. On failure @p err holds
 * one line saying what is wrong (nothing is left running).
 * @return LC_OK and the worker count in @p nworkers; LC_EINVAL for bad arguments or a missing
 * device (a bad flag: exit 2); LC_ENOTSUP in a build without DPDK; another code otherwise.
 * Context: control, at start, before any thread but the EAL's exists.
 */
LC_MUSTCHECK int dp_dpdk_init(const struct dp_dpdk_cfg *cfg, unsigned *nworkers, char *err,
			      size_t errcap);

/**
 * Frames the kernel dropped since start because a net_af_packet queue's ring was full: the
 * PACKET_STATISTICS of the PMD's sockets, which DPDK 22.11 does not report (its imissed stays
 * 0). Each read resets the sockets' counters, so only one caller may read: control's stats.
 * @return the total; 0 without an af_packet port or without DPDK.
 * Context: control thread only (a directory scan and a getsockopt per socket: slow path).
 */
uint64_t dp_dpdk_kernel_ring_drops(void);

/** The io backend table (valid after dp_dpdk_init; NULL in a build without DPDK). */
const struct dp_io_ops *dp_dpdk_io_ops(void);

/** Start dp_worker_main of worker i on the i-th worker lcore. @return LC_OK or -EBUSY.
 * Context: control. */
LC_MUSTCHECK int dp_dpdk_launch(struct dp_node *node);

/** Wait until every worker lcore has returned (after dp_node_stop). Context: control. */
void dp_dpdk_wait(void);

/** Stop and close the ports (and the TAP), free the pool, rte_eal_cleanup(). After the node is
 * freed. A no-op when dp_dpdk_init did not succeed. Context: control. */
void dp_dpdk_fini(void);
