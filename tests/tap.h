/* SPDX-License-Identifier: MIT */
/*
 * A minimal TAP producer for unit tests (meson's protocol: 'tap'). Header-only so every test is
 * one file: plan(), ok(), is_int(), is_str(), skip(), and done_testing() for tests whose count is
 * only known at the end (the corpus replay). A failed check prints what was expected and found.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n;
static int tap_failed;

static inline void plan(int n)
{
	printf("1..%d\n", n);
}

static inline void done_testing(void)
{
	printf("1..%d\n", tap_n);
}

__attribute__((format(printf, 2, 3))) static inline int ok(int cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	if (!cond) {
		tap_failed++;
	}
	return cond;
}

#define is_int(got, want, ...)                                                                     \
	do {                                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);                           \
		if (!ok(g_ == w_, __VA_ARGS__)) {                                                  \
			printf("#   got: %lld\n#   expected: %lld\n", g_, w_);                     \
		}                                                                                  \
	} while (0)

/* Compares a (pointer, length) byte string with a C string. */
#define is_mem(p, len, want, ...)                                                                  \
	do {                                                                                       \
		const char *p_ = (p), *w_ = (want);                                                \
		size_t l_ = (len);                                                                 \
		if (!ok(l_ == strlen(w_) && (l_ == 0 || memcmp(p_, w_, l_) == 0), __VA_ARGS__)) {  \
			printf("#   got: '%.*s'\n#   expected: '%s'\n", (int)l_, p_ ? p_ : "",     \
			       w_);                                                                \
		}                                                                                  \
	} while (0)

#define is_str(got, want, ...) is_mem((got), strlen(got), (want), __VA_ARGS__)

static inline void skip(const char *reason)
{
	printf("ok %d # SKIP %s\n", ++tap_n, reason);
}

static inline int exit_status(void)
{
	return tap_failed ? 1 : 0;
}
