/* SPDX-License-Identifier: MIT */
/*
 * The store key of a request (dp_key.h).
 */
#include <string.h>

#include "common/lc_error.h"
#include "dataplane/dp_key.h"
#include "sipparse/sip_msg.h"

/* The key of bytes stored as they are: an AOR already canonical, or an opaque LSP key. */
static bool key_of_raw(struct dp_key *out, const char *p, size_t len, uint64_t overlay_id)
{
	if (len == 0 || len > sizeof(out->aor)) {
		return false;
	}
	memcpy(out->aor, p, len);
	out->len = (uint16_t)len;
	out->id = dht_key_of(out->aor, len, overlay_id);
	return true;
}

bool dp_key_of_uri(struct dp_key *out, const struct sip_uri *uri, uint64_t overlay_id)
{
	/* the common AOR is its own canonical form: copying it skips the unescape and lowering */
	if (sip_aor_is_canonical(uri->raw.p, uri->raw.len)) {
		return key_of_raw(out, uri->raw.p, uri->raw.len, overlay_id);
	}
	size_t len = 0;
	if (sip_aor_canon(uri, out->aor, sizeof(out->aor), &len) != LC_OK || len == 0) {
		return false;
	}
	out->len = (uint16_t)len;
	out->id = dht_key_of(out->aor, len, overlay_id);
	return true;
}

bool dp_key_of_bytes(struct dp_key *out, struct dht_bytes raw, uint64_t overlay_id)
{
	/* Bytes that are their own AOR as they are key the same whether or not they parse: a
	 * parse that succeeds canonicalises them to themselves, one that fails keys the bytes. So
	 * the parse, most of a lookup's key cost, runs only for bytes that might change. */
	if (sip_aor_is_canonical(raw.p, raw.len)) {
		return key_of_raw(out, raw.p, raw.len, overlay_id);
	}
	struct sip_uri u;
	if (sip_uri_parse(&u, raw.p, raw.len) == LC_OK && u.scheme_id != SIP_SCHEME_OTHER) {
		return dp_key_of_uri(out, &u, overlay_id);
	}
	return key_of_raw(out, raw.p, raw.len, overlay_id);
}
