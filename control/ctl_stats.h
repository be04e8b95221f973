/* SPDX-License-Identifier: MIT */
/*
 * The node's statistics as one JSON document: per worker and in total, requests by method,
 * responses by status code, drops by reason, hand-offs between shards, and the store's own
 * accounting. What `locusctl stats` prints and what the benchmarks read.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "dataplane/dp_worker.h"

/**
 * Write the JSON into @p buf. @return its length, or 0 when it did not fit.
 * Context: control thread (reads the workers' counters with relaxed loads).
 */
size_t ctl_stats_json(struct dp_node *n, uint32_t uptime_s, char *buf, size_t cap);
