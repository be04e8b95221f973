/* SPDX-License-Identifier: MIT */
/*
 * locus-bench's text appends: copy bytes, write an unsigned number in decimal or a fixed number of
 * hex or base-32 digits. The generator builds every request with these instead of snprintf,
 * because formatting is most of a load generator's own CPU per request and that CPU is taken
 * from the server under test on a shared machine. Each returns the position after what it wrote;
 * the caller has checked the room (a request's fields have fixed maximum lengths).
 */
#pragma once

#include <stdint.h>
#include <string.h>

static inline char *lb_put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/* A string literal: its length is known at compile time. */
#define LB_PUT_LIT(p, lit) lb_put((p), (lit), sizeof(lit) - 1)

static inline char *lb_put_dec(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0) {
		*p++ = tmp[--n];
	}
	return p;
}

/* Exactly @p digits lower-case hex digits of the low bits of @p v. */
static inline char *lb_put_hex(char *p, uint64_t v, int digits)
{
	static const char hex[] = "0123456789abcdef";
	for (int k = digits - 1; k >= 0; k--) {
		p[k] = hex[v & 15];
		v >>= 4;
	}
	return p + digits;
}

/* Hex without leading zeros (at least one digit). */
static inline char *lb_put_hex_min(char *p, uint64_t v)
{
	int digits = 1;
	while (digits < 16 && (v >> (4 * digits)) != 0) {
		digits++;
	}
	return lb_put_hex(p, v, digits);
}

/* 13 base-32 digits: all 64 bits, so distinct values give distinct text. */
static inline char *lb_put_b32(char *p, uint64_t v)
{
	static const char digits[] = "0123456789abcdefghjkmnpqrstvwxyz";
	for (int k = 12; k >= 0; k--) {
		p[k] = digits[v & 31];
		v >>= 5;
	}
	return p + 13;
}
