/* SPDX-License-Identifier: MIT */
/*
 * The store key of a request: one place that says how an AOR or an LSP key becomes the bytes a
 * binding is stored under and the ring id that places it. A SIP, SIPS or tel URI is stored under
 * its canonical AOR (RFC 3261 §19.1.4 comparison rules, sip_aor_canon), so a REGISTER, an LSP
 * PUBLISH of the same URI written differently, and `locusctl route` all meet on one key; any
 * other key is stored as its bytes. The id is XXH3-128 of those bytes seeded with the overlay
 * (dht_key_of). Workers, the forwarding code and control all call these, never their own copy.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/dht_key.h"
#include "dht/lsp.h"
#include "sipparse/sip_uri.h"

/* A store key. Owner: whoever holds it (a packet's record, a stack). */
struct dp_key {
	dht_id_t id;
	uint16_t len;	       /* bytes in aor, 1..SIP_AOR_MAX */
	char aor[SIP_AOR_MAX]; /* the stored key: a canonical AOR, or an opaque LSP key */
};

/**
 * The key of the AOR @p uri names (a To URI, a Request-URI). @return false when it has no AOR
 * form (another scheme) or its canonical form is longer than SIP_AOR_MAX.
 * Context: any thread; fast path.
 */
bool dp_key_of_uri(struct dp_key *out, const struct sip_uri *uri, uint64_t overlay_id);

/**
 * The key of an LSP KEY (or an AOR typed by an operator): the canonical AOR when @p raw parses as
 * a SIP, SIPS or tel URI, else the bytes themselves. @return false when it is empty or longer
 * than SIP_AOR_MAX. Context: any thread; fast path.
 */
bool dp_key_of_bytes(struct dp_key *out, struct dht_bytes raw, uint64_t overlay_id);

/** The stored bytes of @p k as an LSP KEY (a view into @p k). */
static inline struct dht_bytes dp_key_bytes(const struct dp_key *k)
{
	return (struct dht_bytes){k->aor, k->len};
}
