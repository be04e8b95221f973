/* SPDX-License-Identifier: MIT */
/*
 * struct sip_str: a view (pointer + length) into a caller's buffer. The parser hands out only
 * views, never copies; a view dies with the buffer it points into. A view with p == NULL is
 * "absent", one with len == 0 and p != NULL is "present but empty": SIP tells the two apart
 * (";rport" versus no rport, "tag=" versus no tag).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Fields are read-only to callers; the bytes belong to the buffer the view points into. */
struct sip_str {
	const char *p;
	uint32_t len;
};

#define SIP_STR_NULL ((struct sip_str){NULL, 0})
#define SIP_STR_LIT(s) ((struct sip_str){(s), sizeof(s) - 1})

static inline struct sip_str sip_str_make(const char *p, size_t len)
{
	return (struct sip_str){p, (uint32_t)len};
}

static inline bool sip_str_present(struct sip_str s)
{
	return s.p != NULL;
}

/** Byte-for-byte equality with a C string. */
static inline bool sip_str_eq(struct sip_str s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && (n == 0 || memcmp(s.p, lit, n) == 0);
}

/** ASCII case-insensitive equality of two views. */
bool sip_str_caseeq(struct sip_str a, struct sip_str b);

/** ASCII case-insensitive equality with a C string. */
bool sip_str_caseeq_lit(struct sip_str s, const char *lit);

/** The longest decimal sip_fmt_uint() writes (UINT64_MAX). */
#define SIP_FMT_UINT_MAX 20

/**
 * Write @p v in decimal at @p out (no terminator); returns the number of digits. For the
 * response path, where snprintf's format parsing cost more than the rest of a header.
 */
static inline size_t sip_fmt_uint(char out[SIP_FMT_UINT_MAX], uint64_t v)
{
	char tmp[SIP_FMT_UINT_MAX];
	size_t n = sizeof(tmp);
	do {
		tmp[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	memcpy(out, tmp + n, sizeof(tmp) - n);
	return sizeof(tmp) - n;
}
