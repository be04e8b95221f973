/* SPDX-License-Identifier: MIT */
/*
 * The DPDK transport in a build without DPDK (meson option dpdk disabled, or no libdpdk-dev at
 * configure time): --dpdk-args is still an option, and the run says why it cannot start.
 */
#include <stdio.h>

#include "bench/lb_xport.h"
#include "common/lc_error.h"

static int none_init(void **out, const struct lb_cfg *c, char *err, size_t errlen)
{
	(void)out;
	(void)c;
	snprintf(err, errlen, "--dpdk-args: this locus-bench was built without DPDK");
	return LC_ENOTSUP;
}

static void none_fini(void *shared)
{
	(void)shared;
}

static const struct lb_xport_ops none_ops = {
	.name = "dpdk",
	.init = none_init,
	.fini = none_fini,
};

const struct lb_xport_ops *lb_xport_dpdk(void)
{
	return &none_ops;
}
