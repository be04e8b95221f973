/* SPDX-License-Identifier: MIT */
/*
 * Writing JSON text into a caller's buffer, for the admin interface (stats, ring, route, the
 * links' counters): one append with printf formatting and a sticky overflow, so a writer checks
 * once at the end. Control thread only; never the fast path.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Owner: the caller (on the stack, one per answer). */
struct ctl_json {
	char *buf;
	size_t cap, len;
	bool overflow; /* an append did not fit: the text is cut, len stops growing */
};

/** Append printf-formatted text; after an overflow it does nothing. */
__attribute__((format(printf, 2, 3))) void ctl_json_put(struct ctl_json *j, const char *fmt, ...);
