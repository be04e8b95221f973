/* SPDX-License-Identifier: MIT */
/*
 * --rx-coalesce-us's rule (dataplane/dp_worker.c, "Coalescing"): whether a worker's pause after
 * a burst that was not full is worth taking at the rate it has seen. Pure, so that the rule is
 * tested on its own (tests/unit/dataplane/test_dp_coalesce.c).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The window the rate is measured over. */
#define DP_COALESCE_WINDOW_MS 100

/**
 * Whether a pause of @p pause_us would gather two requests or more, but fewer than a burst of
 * @p burst, at the rate of @p pkts packets in @p window_ms: below two it adds a timer wake-up to
 * each request instead of sharing one, and at a burst or more the worker finds full bursts
 * without pausing (and a closed-loop client's rate would be capped by the pause). @p window_ms 0: false. The
 * worker also stops pausing, until its next window, when a pause gathered a full burst.
 */
static inline bool dp_coalesce_worth(uint64_t pkts, uint64_t window_ms, uint32_t pause_us,
				     unsigned burst)
{
	if (window_ms == 0) {
		return false;
	}
	/* packets a pause gathers, times 1000: pkts / window_ms * pause_us */
	uint64_t per_pause_x1000 = pkts * pause_us / window_ms;
	return per_pause_x1000 >= 2 * 1000 && per_pause_x1000 < (uint64_t)burst * 1000;
}
