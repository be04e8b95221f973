/* SPDX-License-Identifier: MIT */
/*
 * The node's configuration as the fast path sees it: filled by control from the flags before the
 * workers start, immutable afterwards, read by every worker without synchronisation.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/dp_mac.h"

#define DP_MAX_DOMAINS 64
#define DP_DOMAIN_MAX 253 /* longest DNS name */

/* Owner: control fills it at start; workers read it; immutable while workers run. */
struct dp_cfg {
	uint32_t min_expires_s;	    /* below it (and below 3600) a REGISTER gets 423 */
	uint32_t max_expires_s;	    /* longer requests are shortened to it */
	uint32_t default_expires_s; /* when neither the contact nor the request gives one */
	uint32_t max_contacts;	    /* bindings per AOR; 0 = unlimited (bounded by the store) */
	uint32_t retry_after_s;	    /* Retry-After of a 503 when the store is full */
	/* Secrets drawn at start (getrandom), one per use so that no output of one reveals another:
	 * To tags are seen by every UA, reply contexts travel through other nodes. */
	uint8_t tag_key[DP_MAC_KEY_LEN]; /* keys the PRF of stateless To tags (dp_sip_to_tag) */
	uint8_t ctx_key[DP_MAC_KEY_LEN]; /* seals reply contexts (dp_rctx.h) */
	uint64_t overlay_id;   /* dht_seed_of(--overlay): seeds key ids, names the overlay in LSP */
	uint32_t write_quorum; /* copies that hold a write before it is answered (--write-quorum) */
	uint64_t writer;       /* records' writer id until the routing table names the node */
	bool secured;	       /* datagrams between members are tagged (dp_auth.h) */
	uint32_t batch_bytes;  /* largest BATCH datagram to a member, 0: none (dp_batch.h) */
	uint32_t rx_coalesce_us; /* --rx-coalesce-us: pause after a burst that was not full */
	unsigned ndomains;	 /* 0: serve every domain */
	char domain[DP_MAX_DOMAINS][DP_DOMAIN_MAX + 1]; /* lower case */
	char server[64];				/* Server header value */
};
