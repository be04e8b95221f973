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
#include "sipparse/sip_uri.h"

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

/* Every view of a parsed URI lies inside the input. */
static inline void fuzz_check_uri(const struct sip_uri *u, const char *b, size_t n)
{
	fuzz_check_view(u->raw, b, n, "uri.raw");
	fuzz_check_view(u->scheme, b, n, "uri.scheme");
	fuzz_check_view(u->user, b, n, "uri.user");
	fuzz_check_view(u->password, b, n, "uri.password");
	fuzz_check_view(u->host, b, n, "uri.host");
	fuzz_check_view(u->params, b, n, "uri.params");
	fuzz_check_view(u->headers, b, n, "uri.headers");
}
