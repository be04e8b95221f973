/* SPDX-License-Identifier: MIT */
/*
 * The LSP requests locus-bench sends (docs/lsp.md): PUBLISH of an AOR's one contact, with the
 * Call-ID and CSeq its REGISTERs would carry, and LOOKUP, built with locus's own LSP codec
 * (dht/lsp.h, used read-only). The transaction id names the transaction the way a SIP branch does
 * (lb_sip.h): thread (8 bits), slot (24 bits) and the low 32 bits of the thread's transaction
 * number, so an answer finds its request without a lookup. A retransmission reuses the id, as
 * docs/lsp.md §5 requires.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "bench/lb_aor.h"
#include "bench/lb_op.h"

#define LB_LSP_MAX 1024
#define LB_LSP_MAX_THREADS 256
#define LB_LSP_MAX_SLOTS (1u << 24)

/* One request. Owner: the caller (on the stack); the AOR is borrowed. */
struct lb_lsp_req {
	enum lb_op op; /* an LSP operation */
	const struct lb_aor *aor;
	uint64_t txn_id;
	uint64_t overlay_id; /* dht_seed_of(overlay name) */
	uint32_t cseq;
	uint32_t expires_s;
};

/** Write @p q's message into @p buf (LB_LSP_MAX bytes); its length, or 0 if the codec refused. */
size_t lb_lsp_build(uint8_t *buf, const struct lb_lsp_req *q);

/** The transaction id of (thread, slot, seq); thread < 256, slot < 2^24. */
static inline uint64_t lb_lsp_txn(unsigned thread, uint32_t slot, uint64_t seq)
{
	return (uint64_t)thread << 56 | (uint64_t)slot << 32 | (seq & 0xffffffffu);
}

static inline void lb_lsp_txn_split(uint64_t txn, unsigned *thread, uint32_t *slot,
				    uint32_t *seq_low)
{
	*thread = (unsigned)(txn >> 56);
	*slot = (uint32_t)(txn >> 32) & (LB_LSP_MAX_SLOTS - 1);
	*seq_low = (uint32_t)txn;
}
