/* SPDX-License-Identifier: MIT */
/*
 * Internal to sipparse/ and its unit tests: the pieces the header parsers share. Each function
 * works on [p, end) of one header field value and returns where it stopped, or NULL on a syntax
 * error, so a caller can chain them and check once.
 */
#pragma once

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "sipparse/sip_msg.h"

/* One header parameter as scanned by sip_hparam_next(). */
struct sip_param {
	struct sip_str name;
	struct sip_str value; /* .p == NULL when the parameter has no "=value" */
	const char *start;    /* the ';' that introduced it, for builders that cut it out */
};

/*
 * p points at ';'. Scans SEMI generic-param (RFC 3261: token [EQUAL gen-value], LWS allowed
 * around ';' and '='). gen-value is a token, a quoted string or a host; a bare IPv6 address is
 * accepted too because RFC 5118 §4.5 says received= carries one either way.
 * Returns the position just past the parameter, or NULL.
 */
const char *sip_hparam_next(const char *p, const char *end, struct sip_param *out);

/* Called by sip_addr_parse() for each header parameter but tag, in order, as it scans them. */
typedef void sip_param_fn(void *ctx, const struct sip_param *prm);

/*
 * sip_uri_parse() of [p, p + len) inside a datagram that ends at @p lim (>= p + len): the scans
 * may load bytes up to lim (sip_scan.h), which lets them use whole vector blocks.
 */
int sip_uri_parse_in(struct sip_uri *uri, const char *p, size_t len, const char *lim);

/*
 * Parse a name-addr or addr-spec with its header parameters starting at *pp (after any LWS), and
 * advance *pp past it (to a ',' or end). Parameters other than tag stay in addr->params.
 * @param lim        the end of the datagram (see sip_scan.h).
 * @param list       the header is a comma list: a ',' ends the value.
 * @param need_angle only name-addr is allowed (Route, Record-Route, Path).
 * @param fn         NULL, or called with @p ctx for each parameter other than tag, so a caller
 *   that acts on parameters (Contact) needs no second walk over them. It may be called for
 *   parameters of a value that then fails to parse.
 * @return LC_OK, LC_EMALFORMED, LC_ESIP_TOO_MANY_PARAMS, or LC_ESIP_DUP_HEADER for a ',' in a
 *   single-valued field.
 */
int sip_addr_parse(struct sip_addr *addr, const char **pp, const char *end, const char *lim,
		   bool list, bool need_angle, sip_param_fn *fn, void *ctx);

/*
 * Parse one via-parm at *pp and advance *pp past it (to a ',' or end); @p lim is the end of the
 * datagram (see sip_scan.h).
 * @return LC_OK, LC_EMALFORMED or LC_ESIP_TOO_MANY_PARAMS.
 */
int sip_via_parse(struct sip_via *via, const char **pp, const char *end, const char *lim);

/*
 * Parse the value of a known header field into m. Returns LC_OK or the header's LC_ESIP_* code
 * (or a limit or duplicate code).
 */
int sip_hdr_parse(struct sip_msg *m, enum sip_hdr_id id, const char *p, const char *end);

/* The larger field parsers, each in its own file; same contract as sip_hdr_parse(). */
int sip_hdr_parse_contact(struct sip_msg *m, const char *p, const char *end);
int sip_hdr_parse_auth(struct sip_msg *m, const char *p, const char *end, bool proxy);
int sip_hdr_parse_date(struct sip_msg *m, const char *p, const char *end);

/* Length of a SIP Date value: "Sat, 13 Nov 2010 23:29:00 GMT". */
#define SIP_DATE_LEN 29

/* Write @p now as a SIP Date value; returns SIP_DATE_LEN, or 0 for a year past 9999. */
size_t sip_date_format(time_t now, char out[SIP_DATE_LEN + 1]);

/*
 * Match a parsed field's name at the start of [p, end): sets *len to the name's length and
 * returns its id, or returns SIP_HDR_OTHER with *len = 0 (the caller then scans a token).
 */
enum sip_hdr_id sip_hdr_match(const char *p, const char *end, size_t *len);

/*
 * Header names by hash, for the per-line fast path: a name of 1 to 15 bytes [p, p + n) is looked
 * up by its first and last letters and its length, then compared in place, 16 bytes at most, in
 * two word compares. Owner: static, immutable (sip_hdr.c).
 */
struct sip_hdr_key {
	char name[16]; /* lower case, zero-padded; "" in an empty slot */
	uint8_t len;
	uint8_t id; /* enum sip_hdr_id */
};

extern const struct sip_hdr_key sip_hdr_keys[64];

/* [n]: the bits of the first n bytes of 16, as two words. */
extern const uint64_t sip_hdr_len_mask[16][2];

#define SIP_HDR_HASH(first, last, n)                                                               \
	((((unsigned)((first) | 0x20)) << 2) + ((unsigned)((last) | 0x20)) + (unsigned)(n)*31u) &  \
		63u

static inline uint64_t sip_load64(const char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * The id of the header field named exactly [p, p + n), 1 <= n <= 15, or -1 when it is not one of
 * sip_hdr_keys. Reads the 16 bytes at p, which the caller guarantees are inside the datagram.
 * Letters compare in any case: 0x20 is set in the input only where the name has a letter (bit
 * 0x40 of a lower-case letter; '-' and the zero padding have neither), so "\r" cannot match "-".
 */
static inline int sip_hdr_lookup(const char *p, size_t n)
{
	const struct sip_hdr_key *k =
		&sip_hdr_keys[SIP_HDR_HASH((uint8_t)p[0], (uint8_t)p[n - 1], n)];
	if (k->len != n) {
		return -1;
	}
	uint64_t w0 = sip_load64(k->name), w1 = sip_load64(k->name + 8);
	uint64_t fold = 0x2020202020202020ull;
	uint64_t d0 = (sip_load64(p) | ((w0 >> 1) & fold)) ^ w0;
	uint64_t d1 = (sip_load64(p + 8) | ((w1 >> 1) & fold)) ^ w1;
	return ((d0 & sip_hdr_len_mask[n][0]) | (d1 & sip_hdr_len_mask[n][1])) == 0 ? k->id : -1;
}

/* Test access to the name table: entry i's long name, compact letter (0: none) and id. */
bool sip_hdr_name_at(size_t i, const char **name, char *compact, enum sip_hdr_id *id);
