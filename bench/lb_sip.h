/* SPDX-License-Identifier: MIT */
/*
 * The SIP requests locus-bench sends: REGISTER (new, refresh, remove), INVITE and the ACK of a
 * non-2xx final response, built the way a phone builds them (RFC 3261 §8.1.1 and §10.2): a Via
 * with rport and a branch of its own per transaction, a From tag, the AOR's Call-ID for its
 * REGISTERs and a CSeq that rises with every REGISTER of that Call-ID, a fresh Call-ID per INVITE.
 *
 * The branch names the transaction, "z9hG4bK-lb.<thread>.<slot>.<seq>" in hex: the thread that
 * owns it, its slot in that thread's table and the thread's transaction number, so an answer is
 * matched to its request without a lookup, and an answer that matches no live transaction can
 * still be told apart as late (the transaction timed out), a duplicate, or a stray.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/lb_aor.h"
#include "bench/lb_op.h"

/* The largest request the builders write (they stay far below). */
#define LB_SIP_MAX 1024
/* Room for a "z9hG4bK-lb.t.s.q" branch and an INVITE Call-ID. */
#define LB_SIP_BRANCH_MAX 64
#define LB_SIP_CALL_ID_MAX 64

/* One request's identity. Owner: the caller (on the stack); the strings are borrowed. */
struct lb_sip_req {
	enum lb_op op;		  /* a SIP operation (not lb_op_info(op)->lsp) */
	const struct lb_aor *aor; /* the AOR (the target of an INVITE) */
	const char *domain;	  /* the AORs' domain: REGISTER's Request-URI */
	unsigned domain_len;
	const char *local; /* our "addr:port", for Via and the INVITE's Contact */
	unsigned local_len;
	unsigned thread;
	uint32_t slot;
	uint64_t seq; /* the thread's transaction number */
	uint64_t run_id;
	uint32_t cseq;	    /* of a REGISTER (INVITE's is 1) */
	uint32_t expires_s; /* of a REGISTER that adds or refreshes */
};

/** Write the request for @p q into @p buf (LB_SIP_MAX bytes); returns its length. */
size_t lb_sip_build(char *buf, const struct lb_sip_req *q);

/** Write the ACK of a non-2xx final response to the INVITE of @p q, whose To tag is @p tag. */
size_t lb_sip_build_ack(char *buf, const struct lb_sip_req *q, const char *tag, unsigned tag_len);

/** The branch of @p q's transaction into @p buf (LB_SIP_BRANCH_MAX); returns its length. */
size_t lb_sip_branch(char *buf, unsigned thread, uint32_t slot, uint64_t seq);

/** The Call-ID of an INVITE (LB_SIP_CALL_ID_MAX); returns its length. */
size_t lb_sip_invite_call_id(char *buf, unsigned thread, uint64_t seq, uint64_t run_id);

/** Read a branch written by lb_sip_branch(); false when it is not one of ours. */
bool lb_sip_parse_branch(const char *p, size_t len, unsigned *thread, uint32_t *slot,
			 uint64_t *seq);
