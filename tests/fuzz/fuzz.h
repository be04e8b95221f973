/* SPDX-License-Identifier: MIT */
/*
 * What the fuzz targets and their corpus replay share: the libFuzzer entry point's prototype and
 * FUZZ_CHECK, which turns a broken invariant into an abort() with a message, so libFuzzer saves
 * the input as a crash and the replay test fails. Not assert(): invariants must hold in every
 * build, NDEBUG or not.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sipparse/sip_str.h"

/** libFuzzer's entry point; each fuzz_*.c defines it once. Returns 0 (libFuzzer's convention). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, what)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s (%s)\n", __FILE__, __LINE__,  \
				(what), #cond);                                                    \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/*
 * A view must be absent (p == NULL, len == 0) or lie wholly inside [lo, lo + n). Compared as
 * integers: relational operators on pointers into different objects are undefined.
 */
static inline void fuzz_check_view(struct sip_str s, const char *lo, size_t n, const char *what)
{
	if (s.p == NULL) {
		FUZZ_CHECK(s.len == 0, what);
		return;
	}
	uintptr_t b = (uintptr_t)lo, p = (uintptr_t)s.p;
	FUZZ_CHECK(p >= b && p - b <= n && s.len <= n - (p - b), what);
}
