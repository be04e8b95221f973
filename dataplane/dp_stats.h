/* SPDX-License-Identifier: MIT */
/*
 * The counters one worker keeps: requests by method, responses by status code, drops by reason,
 * hand-offs between shards. Single writer (the worker), read by control for `locusctl stats`.
 * The tables of names live here too, so every consumer prints the same words.
 */
#pragma once

#include <stdint.h>

#include "common/lc_counter.h"
#include "sipparse/sip_msg.h"

/* Why a datagram got no answer. */
#define DP_DROPS(X)                                                                                \
	X(DP_DROP_UNPARSABLE, "unparsable")	   /* no response could be addressed */            \
	X(DP_DROP_SIP_RESPONSE, "sip_response")	   /* a response arrived; we send no requests */   \
	X(DP_DROP_NO_BUFFER, "no_buffer")	   /* the packet pool was empty */                 \
	X(DP_DROP_RING_FULL, "ring_full")	   /* another shard's ring was full */             \
	X(DP_DROP_TX_FAILED, "tx_failed")	   /* the socket refused the response */           \
	X(DP_DROP_TOO_LARGE, "response_too_large") /* the response did not fit a datagram */       \
	X(DP_DROP_LSP_MALFORMED,                                                                   \
	  "lsp_malformed")		    /* an LSP datagram without an addressable header */    \
	X(DP_DROP_LSP_ANSWER, "lsp_answer") /* an LSP answer to no request of ours */              \
	X(DP_DROP_CTX_INVALID, "reply_ctx_invalid")    /* an answer's reply context is unusable */ \
	X(DP_DROP_FWD_TOO_LARGE, "forward_too_large")  /* a request too large to forward */        \
	X(DP_DROP_REPL_REFUSED, "replica_refused")     /* the store refused a replica's entry */   \
	X(DP_DROP_REPL_UNTRUSTED, "replica_untrusted") /* replication from a non-member */         \
	X(DP_DROP_AUTH_BAD, "auth_bad_tag")	       /* a member's tag that does not verify */   \
	X(DP_DROP_AUTH_UNKNOWN, "auth_unknown_key")    /* a tag from an unknown peer or link */    \
	X(DP_DROP_AUTH_REPLAY, "auth_replay")	       /* a tagged datagram seen before, or old */ \
	X(DP_DROP_AUTH_NO_KEY, "auth_no_key")	       /* to a member with no link yet */          \
	X(DP_DROP_AUTH_REQUIRED, "auth_required")      /* a member's message without a tag */      \
	X(DP_DROP_STALE_WRITE, "stale_write")	       /* a write that waited too long here */     \
	X(DP_DROP_BATCH_UNTRUSTED, "batch_untrusted")  /* an untagged BATCH (secured) */           \
	X(DP_DROP_AUTH_PARK_FULL, "auth_park_full")    /* to a member with no link yet; the      \
							* parking (dp_member.c) was full */

enum dp_drop {
#define DP_DROP_ENUM(name, text) name,
	DP_DROPS(DP_DROP_ENUM)
#undef DP_DROP_ENUM
		DP_DROP_COUNT_
};

/* The status codes a node sends, each with its own counter; anything else counts as "other". */
/* One counter per code. clang-format cannot settle on a layout for this macro. */
// clang-format off
#define DP_CODES(X) \
	X(200) X(302) X(400) X(403) X(404) X(405) X(413) X(416) X(420) X(423) X(481) X(483) \
	X(500) X(501) X(503) X(505)
// clang-format on

enum dp_code_idx {
#define DP_CODE_ENUM(c) DP_CODE_##c,
	DP_CODES(DP_CODE_ENUM)
#undef DP_CODE_ENUM
		DP_CODE_OTHER,
	DP_CODE_COUNT_
};

/* Owner: one worker writes; control reads (relaxed). */
struct dp_stats {
	lc_counter_t rx[2];			 /* datagrams received on SIP, LSP */
	lc_counter_t tx;			 /* datagrams sent */
	lc_counter_t sip_req[SIP_METHOD_COUNT_]; /* by method; [0] extension methods */
	lc_counter_t sip_resp[DP_CODE_COUNT_];	 /* by status code */
	lc_counter_t lsp_req[8];		 /* by LSP request kind, see dp_lsp.c */
	lc_counter_t lsp_status[16];		 /* by LSP answer status */
	lc_counter_t drop[DP_DROP_COUNT_];
	lc_counter_t handoff_out;    /* requests given to another shard's worker */
	lc_counter_t handoff_in;     /* requests taken from another worker */
	lc_counter_t expired;	     /* bindings reaped by the timer wheel */
	lc_counter_t fwd_out;	     /* requests forwarded to their owner node */
	lc_counter_t fwd_answers;    /* owners' answers turned back into client answers */
	lc_counter_t repl_out;	     /* REPLICA_STOREs sent (the owner's, and passed on) */
	lc_counter_t repl_in;	     /* replica entries applied (or already held) */
	lc_counter_t auth_tx;	     /* datagrams to members tagged (dp_auth.c) */
	lc_counter_t auth_rx;	     /* datagrams from members whose tag passed */
	lc_counter_t batch_out;	     /* BATCH datagrams sent (dp_batch.c), */
	lc_counter_t batched_out;    /* carrying this many messages */
	lc_counter_t batch_in;	     /* BATCH datagrams received */
	lc_counter_t auth_parked;    /* datagrams held for a member's key (dp_member.c) */
	lc_counter_t coalesce_waits; /* --rx-coalesce-us pauses taken (dp_worker.c) */
};

/** Counter index of a status code. */
enum dp_code_idx dp_code_idx(unsigned code);

/** Names for printing. */
extern const char *const dp_drop_name[DP_DROP_COUNT_];
extern const unsigned dp_code_value[DP_CODE_COUNT_]; /* 0 for DP_CODE_OTHER */
