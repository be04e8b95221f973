/* SPDX-License-Identifier: MIT */
/*
 * The bounds of dht_store_merge in the dht unit tests: most tests merge records at a given time
 * with a version bound of their own and no bound on expiry or registration time, which the tests
 * of those bounds (test_dht_store.c) set themselves.
 */
#pragma once

#include <stdint.h>

#include "dht/dht_store.h"

/* A pointer to the bounds of a merge at @p at_s taking versions up to @p top_version and any
 * expiry and registration time (a compound literal: valid in the enclosing block). */
#define BOUNDS(at_s, top_version)                                                                  \
	(&(const struct dht_merge_bounds){.now_s = (at_s),                                         \
					  .max_version = (top_version),                            \
					  .max_expires_at_s = UINT32_MAX,                          \
					  .max_registered_at_s = UINT32_MAX})
