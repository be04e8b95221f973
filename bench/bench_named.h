/* SPDX-License-Identifier: MIT */
/*
 * Named single messages for the parser benchmark (bench_named.c): the "typical REGISTER" of the
 * parser issue is one of them ("linphone"), timed by `bench_sipparse --message linphone`.
 */
#pragma once

#include <stddef.h>

/* Owner: static, immutable. */
struct bench_named {
	const char *name; /* what --message takes */
	const char *what; /* one line for the report */
	const char *text; /* the datagram; not NUL-terminated as far as the parser knows */
	size_t len;
};

/* The message that the "typical REGISTER < 400 ns" goal is judged on. */
#define BENCH_TYPICAL_REGISTER "linphone"

extern const struct bench_named bench_named_msgs[];
extern const size_t bench_named_count;

/** The named message called @p name, or NULL. */
const struct bench_named *bench_named_find(const char *name);
