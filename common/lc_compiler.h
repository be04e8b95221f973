/* SPDX-License-Identifier: MIT */
/*
 * Compiler helpers used across locus: branch hints, result checking, alignment and the cache line
 * size. Kept to what the code actually uses; each macro is a thin wrapper over a GCC/Clang builtin.
 */
#pragma once

#define LC_LIKELY(x) __builtin_expect(!!(x), 1)
#define LC_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Functions returning an LC_E* code: ignoring the result is a compile error under -Werror. */
#define LC_MUSTCHECK __attribute__((warn_unused_result))

#define LC_CACHE_LINE 64
#define LC_CACHE_ALIGNED __attribute__((aligned(LC_CACHE_LINE)))

#define LC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define LC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define LC_MAX(a, b) ((a) > (b) ? (a) : (b))
