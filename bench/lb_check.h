/* SPDX-License-Identifier: MIT */
/*
 * Judging one answer: is it the right answer to the request locus-bench sent, and if not, what
 * kind of wrong. A right SIP answer echoes the request's Call-ID and CSeq (number and method), has
 * the status the operation calls for (lb_op.c), a To tag (a final response, RFC 3261 §8.2.6.2),
 * and the contacts the operation's rule asks for: the AOR's one contact, compared byte for byte
 * with the one registered. A right LSP answer (docs/lsp.md) decodes, has the right STATUS, echoes
 * the KEY, and carries the records the rule asks for. The checks run in that order and the first
 * failure names the kind; the answer to an unrelated request shows up as a wrong Call-ID.
 */
#pragma once

#include <stdint.h>

#include "bench/lb_op.h"
#include "bench/lb_resp.h"
#include "dht/lsp.h"

/* What the right answer to one request is. Owner: the caller (on the stack); strings borrowed. */
struct lb_expect {
	enum lb_op op;
	const char *call_id; /* SIP */
	unsigned call_id_len;
	uint32_t cseq;	     /* SIP */
	const char *contact; /* the AOR's contact URI (known AORs) */
	unsigned contact_len;
	const char *key; /* LSP: the AOR's URI */
	unsigned key_len;
};

/** Judge the final SIP response @p r (status >= 200) against @p e. Context: any thread. */
enum lb_wrong lb_check_sip(const struct lb_resp *r, const struct lb_expect *e);

/** Judge the decoded LSP answer @p m (dht_lsp_parse()'s result in m->err) against @p e. */
enum lb_wrong lb_check_lsp(const struct dht_lsp_msg *m, const struct lb_expect *e);
