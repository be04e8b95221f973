/* SPDX-License-Identifier: MIT */
/*
 * The DPDK backend of a build without DPDK (meson -Ddpdk=disabled, or libdpdk not found): every
 * entry point exists so that control compiles the same way, and dp_dpdk_init() says why
 * --dataplane dpdk cannot run.
 */
#include <stdio.h>

#include "common/lc_error.h"
#include "dataplane/dp_dpdk.h"

int dp_dpdk_init(const struct dp_dpdk_cfg *cfg, unsigned *nworkers, char *err, size_t errcap)
{
	(void)cfg;
	*nworkers = 0;
	snprintf(err, errcap,
		 "--dataplane dpdk: this locusd was built without DPDK (configured with "
		 "-Ddpdk=disabled, or libdpdk-dev was missing); use --dataplane sock");
	return LC_ENOTSUP;
}

const struct dp_io_ops *dp_dpdk_io_ops(void)
{
	return NULL;
}

int dp_dpdk_launch(struct dp_node *node)
{
	(void)node;
	return LC_ENOTSUP;
}

void dp_dpdk_wait(void)
{
}

void dp_dpdk_fini(void)
{
}

uint64_t dp_dpdk_kernel_ring_drops(void)
{
	return 0;
}
