/* SPDX-License-Identifier: MIT */
/*
 * The store key of a request (dp_key.h).
 */
#include <string.h>

#include "common/lc_error.h"
#include "dataplane/dp_key.h"
#include "sipparse/sip_msg.h"

bool dp_key_of_uri(struct dp_key *out, const struct sip_uri *uri, uint64_t overlay_id)
{
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
	struct sip_uri u;
	if (sip_uri_parse(&u, raw.p, raw.len) == LC_OK && u.scheme_id != SIP_SCHEME_OTHER) {
		return dp_key_of_uri(out, &u, overlay_id);
	}
	if (raw.len == 0 || raw.len > sizeof(out->aor)) {
		return false;
	}
	memcpy(out->aor, raw.p, raw.len);
	out->len = (uint16_t)raw.len;
	out->id = dht_key_of(out->aor, out->len, overlay_id);
	return true;
}
