/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the URI layer alone: sip_uri_parse(), sip_aor_canon(), sip_uri_equal(),
 * sip_param_get() and sip_unescape(). The input is split at its first '\n' into two URIs A and B
 * (no '\n': A and B are the same bytes), so equality sees pairs that differ in one place.
 *
 * Each half is copied into a heap block of exactly its size, so ASan reports a read one byte past
 * a URI (in the datagram that byte would be the next header and go unnoticed). Invariants: views
 * stay inside their URI, equality is reflexive for sip/sips/tel and symmetric, two URIs equal by
 * RFC 3261 §19.1.4 have the same canonical AOR, bytes sip_aor_is_canonical() accepts are their own
 * AOR, and nothing is written past a buffer's capacity.
 */
#include <string.h>

#include "common/lc_error.h"
#include "sipparse/sip_uri.h"
#include "tests/fuzz/fuzz.h"

#define GUARD 64
#define GUARD_BYTE 0xa5

struct half {
	char *p;
	size_t len;
	struct sip_uri uri;
	bool ok;
	char aor[SIP_AOR_MAX + GUARD];
	size_t aor_len;
	bool aor_ok;
};

static void parse_half(struct half *h, const uint8_t *p, size_t len)
{
	h->len = len;
	h->p = malloc(len ? len : 1);
	FUZZ_CHECK(h->p != NULL, "malloc");
	memcpy(h->p, p, len);
	memset(&h->uri, 0, sizeof(h->uri));
	h->ok = sip_uri_parse(&h->uri, h->p, len) == LC_OK;
	h->aor_ok = false;
	bool canonical = sip_aor_is_canonical(h->p, len);
	if (!h->ok) {
		return;
	}
	fuzz_check_uri(&h->uri, h->p, len);
	FUZZ_CHECK(h->uri.raw.p == h->p && h->uri.raw.len == len, "raw is the whole input");

	memset(h->aor + SIP_AOR_MAX, GUARD_BYTE, GUARD);
	h->aor_ok = sip_aor_canon(&h->uri, h->aor, SIP_AOR_MAX, &h->aor_len) == LC_OK;
	if (h->aor_ok) {
		FUZZ_CHECK(h->aor_len <= SIP_AOR_MAX, "aor within cap");
	}
	for (size_t i = SIP_AOR_MAX; i < sizeof(h->aor); i++) {
		FUZZ_CHECK((unsigned char)h->aor[i] == GUARD_BYTE, "aor wrote past cap");
	}
	/* what the key fast path relies on: bytes called canonical canonicalise to themselves */
	if (canonical && len <= SIP_AOR_MAX) {
		FUZZ_CHECK(h->uri.scheme_id == SIP_SCHEME_SIP ||
				   h->uri.scheme_id == SIP_SCHEME_SIPS,
			   "canonical bytes are a sip or sips URI");
		FUZZ_CHECK(h->aor_ok && h->aor_len == len && memcmp(h->aor, h->p, len) == 0,
			   "canonical bytes are their own AOR");
	}

	struct sip_str v;
	static const char *const names[] = {"transport", "user", "lr", "maddr", "ttl", "method"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (sip_param_get(h->uri.params, names[i], &v)) {
			fuzz_check_view(v, h->p, len, "param value");
		}
	}
	char tmp[32 + GUARD];
	memset(tmp + 32, GUARD_BYTE, GUARD);
	long n = sip_unescape(h->uri.user, tmp, 32);
	FUZZ_CHECK(n >= -1 && n <= 32, "sip_unescape length");
	for (size_t i = 32; i < sizeof(tmp); i++) {
		FUZZ_CHECK((unsigned char)tmp[i] == GUARD_BYTE, "sip_unescape wrote past cap");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t alen = nl ? (size_t)(nl - data) : size;
	struct half *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	FUZZ_CHECK(a != NULL && b != NULL, "malloc");
	parse_half(a, data, alen);
	if (nl) {
		parse_half(b, nl + 1, size - alen - 1);
	} else {
		parse_half(b, data, size);
	}

	if (a->ok && a->uri.scheme_id != SIP_SCHEME_OTHER) {
		FUZZ_CHECK(sip_uri_equal(&a->uri, &a->uri), "sip_uri_equal is reflexive");
	}
	if (a->ok && b->ok) {
		bool ab = sip_uri_equal(&a->uri, &b->uri), ba = sip_uri_equal(&b->uri, &a->uri);
		FUZZ_CHECK(ab == ba, "sip_uri_equal is symmetric");
		if (ab && a->aor_ok && b->aor_ok) {
			FUZZ_CHECK(a->aor_len == b->aor_len &&
					   memcmp(a->aor, b->aor, a->aor_len) == 0,
				   "equal URIs have the same AOR");
		}
	}
	free(a->p);
	free(b->p);
	free(a);
	free(b);
	return 0;
}
