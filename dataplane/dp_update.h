/* SPDX-License-Identifier: MIT */
/*
 * A change to one key's bindings, in a protocol-neutral form: what a SIP REGISTER and an LSP
 * PUBLISH or REMOVE both become before the registrar rules of RFC 3261 §10.3 apply to them. One
 * implementation of the rules (dp_update.c) serves both protocols, so they hold the same way
 * whichever way a binding arrives, and the key's owner enforces them (DESIGN.md).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/dp_worker_internal.h"
#include "sipparse/sip_uri.h"

#define DP_UPDATE_MAX 32    /* contacts in one update: SIP_MAX_CONTACTS and DHT_LSP_MAX_RECORDS */
#define DP_MAX_BINDINGS 256 /* bindings one key can hold, whatever --max-contacts says */

/* One contact to add, refresh or remove. Views are borrowed from the request. */
struct dp_update_contact {
	struct dht_bytes uri;
	struct sip_uri parsed; /* valid when parsed_ok: equality then follows RFC 3261 §19.1.4 */
	bool parsed_ok;
	struct dht_bytes instance; /* +sip.instance */
	struct dht_bytes attrs;	   /* opaque (LSP) */
	struct dht_bytes call_id;
	uint32_t cseq;
	uint32_t reg_id;
	int64_t expires; /* requested seconds; -1: the update's default applies */
	int16_t q;	 /* thousandths, -1 when none */
};

/* Owner: the worker's stack. */
struct dp_update {
	bool remove_all;	  /* "Contact: *" / LSP REMOVE_ALL */
	struct dht_bytes call_id; /* for remove_all's ordering check */
	uint32_t cseq;
	uint32_t txn_tag; /* equal tags with equal CSeq: a retransmission */
	int64_t expires;  /* the request's default (Expires header); -1 when none */
	struct dht_bytes path;
	struct dht_addr src;
	unsigned n;
	struct dp_update_contact c[DP_UPDATE_MAX];
};

enum dp_update_status {
	DP_UPDATE_OK = 0,
	DP_UPDATE_STALE,     /* CSeq not above the binding's for the same Call-ID */
	DP_UPDATE_TOO_BRIEF, /* an expiry under --min-expires (and under an hour) */
	DP_UPDATE_TOO_MANY,  /* more than --max-contacts bindings would result */
	DP_UPDATE_FULL,	     /* the store has no room */
	DP_UPDATE_INTERNAL,  /* the store refused what it said would fit */
	DP_UPDATE_NO_QUORUM, /* fewer live nodes than --write-quorum could hold it: not applied */
};

/* The key's live bindings after (or, on refusal, without) the update. Owner: worker's stack. */
struct dp_bindings {
	unsigned n;
	struct dht_binding *b[DP_MAX_BINDINGS];
	struct dht_binding_data d[DP_MAX_BINDINGS];
};

/**
 * Apply @p u to the key @p k (in the shard's store), all or nothing, then read the key's live
 * bindings into @p out (left empty when @p out is NULL).
 * Context: the shard's worker; fast path.
 */
enum dp_update_status dp_update_apply(struct dp_worker *w, const struct dp_key *k,
				      const struct dp_update *u, struct dp_bindings *out);

/**
 * The version this worker gives a write to a key whose version is @p old (dht_version_next, and
 * above every version this worker gave before, so one worker's writes are ordered even within a
 * millisecond). Context: the worker; fast path.
 */
uint64_t dp_version_next(struct dp_worker *w, uint64_t old);

/** The writer id of this node's records: the top half of its node id. Context: the worker. */
uint64_t dp_writer(const struct dp_worker *w);

/** Until when a tombstone written now is kept: --max-expires from now, the longest any binding
 * it beats can live. Context: the worker. */
uint32_t dp_tombstone_until(const struct dp_worker *w);

/** The live bindings of @p k, without changing anything. */
void dp_bindings_load(struct dp_worker *w, const struct dp_key *k, struct dp_bindings *out);
