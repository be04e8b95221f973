/* SPDX-License-Identifier: MIT */
/*
 * locusd's flags (DESIGN.md "Interfaces a user sees"): parsed from argv and from config files
 * (--config FILE: one "flag value" per line, the same long names without the dashes, '#'
 * comments), validated together, and turned into the dataplane's configuration. Bad input is a
 * one-line message naming the flag, and main() exits with status 2.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/lc_compiler.h"
#include "dataplane/dp_cfg.h"

#define CTL_CFG_PATH_MAX 1024
/* --overlay-batch's default: the UDP payload of an Ethernet frame, so a batch is never sent in
 * IP fragments; on a loopback address (an MTU of 64 KB) a larger one, which saves more system
 * calls (bench/results/2026-12-07-ring-batch.md). */
#define CTL_BATCH_DEFAULT 1472
#define CTL_BATCH_LOOPBACK 8192
#define CTL_BATCH_AUTO UINT32_MAX /* not given: one of the two above, by --lsp's address */
#define CTL_BATCH_MIN 512	  /* smaller batches would rarely hold two messages */
/* --rx-coalesce-us's ceiling: a pause longer than a millisecond would be felt as latency */
#define CTL_RX_COALESCE_MAX_US 1000

/* Owner: main(); filled once at start. */
struct ctl_cfg {
	struct sockaddr_storage sip, lsp;
	struct sockaddr_storage admin; /* AF_UNIX or TCP (ctl_admin_parse); AF_UNSPEC: the default
					* socket (ctl_admin_default of the LSP port) */
	bool has_join;
	struct sockaddr_storage join;
	char overlay[DP_DOMAIN_MAX + 1];
	unsigned workers;	 /* 0: one per online CPU */
	unsigned replicas;	 /* R: copies of each key */
	unsigned write_quorum;	 /* W: copies that hold a write before it is answered */
	uint32_t overlay_batch;	 /* --overlay-batch: largest BATCH datagram, 0: none, or AUTO */
	uint32_t rx_coalesce_us; /* --rx-coalesce-us: pause after a burst that was not full */
	unsigned successors;	 /* successor list length */
	unsigned one_hop_max;	 /* full view (one hop) up to this many nodes */
	bool dpdk;
	char dpdk_args[512];
	unsigned dpdk_mbufs;	    /* --dpdk-mbufs */
	bool dpdk_busy_poll;	    /* --dpdk-poll busy */
	char dpdk_tap[16];	    /* --dpdk-tap: the kernel's interface; "" none */
	unsigned dpdk_prefix;	    /* --dpdk-prefix: on-link prefix length of the address */
	uint32_t dpdk_gateway;	    /* --dpdk-gateway, host order; 0 none */
	const char *dpdk_only_flag; /* the first --dpdk-* flag given (valid only with dpdk) */
	uint32_t min_expires_s, max_expires_s, default_expires_s;
	uint32_t max_contacts;
	uint64_t max_bindings; /* for the whole node; split over the shards */
	int log_level;	       /* enum lc_log_level */
	unsigned ndomains;
	char domain[DP_MAX_DOMAINS][DP_DOMAIN_MAX + 1];
	/* A secured node (docs/security.md): all of the first three, or none (a lab ring) */
	char overlay_ca[CTL_CFG_PATH_MAX]; /* "" when unsecured */
	char cert[CTL_CFG_PATH_MAX];
	char key[CTL_CFG_PATH_MAX];
	char crl[CTL_CFG_PATH_MAX]; /* optional, re-read when it changes */
};

/** Whether @p cfg asks for a secured node (certificates). */
static inline bool ctl_cfg_secured(const struct ctl_cfg *cfg)
{
	return cfg->overlay_ca[0] != '\0';
}

/* What ctl_cfg_parse asks main() to do. */
enum ctl_cfg_result {
	CTL_CFG_RUN = 0,
	CTL_CFG_HELP,	 /* --help: print ctl_cfg_usage() and exit 0 */
	CTL_CFG_VERSION, /* --version */
	CTL_CFG_ERROR,	 /* the message is in err: print it and exit 2 */
};

/** Defaults of every flag. */
void ctl_cfg_defaults(struct ctl_cfg *cfg);

/**
 * Parse argv (argv[0] is skipped) on top of the defaults, then validate.
 * @param err  a one-line message when the result is CTL_CFG_ERROR.
 * Context: control, at start.
 */
enum ctl_cfg_result ctl_cfg_parse(struct ctl_cfg *cfg, int argc, const char *const *argv, char *err,
				  size_t errcap);

/** The --help text. */
const char *ctl_cfg_usage(void);

/**
 * The dataplane's view of the configuration, with the node's secrets: @p tag_key for To tags and
 * @p ctx_key for reply contexts (borrowed; two independent random keys, see dp_cfg).
 * Context: control, at start.
 */
void ctl_cfg_to_dp(const struct ctl_cfg *cfg, struct dp_cfg *dp,
		   const uint8_t tag_key[DP_MAC_KEY_LEN], const uint8_t ctx_key[DP_MAC_KEY_LEN]);
