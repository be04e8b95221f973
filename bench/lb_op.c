/* SPDX-License-Identifier: MIT */
/*
 * The table of locus-bench's operations and the names of the kinds of wrong answer (lb_op.h).
 */
#include <string.h>

#include "bench/lb_op.h"

static const struct lb_op_info ops[LB_OP_COUNT] = {
	[LB_OP_REGISTER] = {.name = "register",
			    .method = "REGISTER",
			    .needs_free = true,
			    .known = true,
			    .status = 200,
			    .contacts = LB_CONTACTS_OURS_LIVE,
			    .effect = LB_EFFECT_REGISTERED},
	[LB_OP_REFRESH] = {.name = "refresh",
			   .method = "REGISTER",
			   .needs_registered = true,
			   .known = true,
			   .status = 200,
			   .contacts = LB_CONTACTS_OURS_LIVE,
			   .effect = LB_EFFECT_REGISTERED},
	[LB_OP_UNREGISTER] = {.name = "unregister",
			      .method = "REGISTER",
			      .needs_registered = true,
			      .known = true,
			      .status = 200,
			      .contacts = LB_CONTACTS_NOT_OURS,
			      .effect = LB_EFFECT_REMOVED},
	[LB_OP_INVITE] = {.name = "invite",
			  .method = "INVITE",
			  .needs_registered = true,
			  .known = true,
			  .status = 302,
			  .contacts = LB_CONTACTS_EXACTLY_OURS,
			  .effect = LB_EFFECT_REGISTERED},
	[LB_OP_UNKNOWN] = {.name = "unknown",
			   .method = "INVITE",
			   .status = 404,
			   .contacts = LB_CONTACTS_IGNORED,
			   .effect = LB_EFFECT_NONE},
	[LB_OP_LSP_PUBLISH] = {.name = "lsp-publish",
			       .method = "PUBLISH",
			       .lsp = true,
			       .needs_free = true,
			       .known = true,
			       .status = 200,
			       .contacts = LB_CONTACTS_OURS_LIVE,
			       .effect = LB_EFFECT_REGISTERED},
	[LB_OP_LSP_LOOKUP] = {.name = "lsp-lookup",
			      .method = "LOOKUP",
			      .lsp = true,
			      .needs_registered = true,
			      .known = true,
			      .status = 200,
			      .contacts = LB_CONTACTS_EXACTLY_OURS,
			      .effect = LB_EFFECT_REGISTERED},
	[LB_OP_LSP_UNKNOWN] = {.name = "lsp-unknown",
			       .method = "LOOKUP",
			       .lsp = true,
			       .status = 404,
			       .contacts = LB_CONTACTS_IGNORED,
			       .effect = LB_EFFECT_NONE},
};

static const char *const wrong_names[LB_W_COUNT] = {
	[LB_RIGHT] = "right",	      [LB_W_MALFORMED] = "malformed",
	[LB_W_STATUS] = "status",     [LB_W_CALL_ID] = "call_id",
	[LB_W_CSEQ] = "cseq",	      [LB_W_TO_TAG] = "to_tag",
	[LB_W_CONTACTS] = "contacts", [LB_W_KEY] = "key",
};

const struct lb_op_info *lb_op_info(enum lb_op op)
{
	return &ops[op];
}

enum lb_op lb_op_by_name(const char *name, unsigned len)
{
	for (unsigned i = 0; i < LB_OP_COUNT; i++) {
		if (strlen(ops[i].name) == len && memcmp(ops[i].name, name, len) == 0) {
			return (enum lb_op)i;
		}
	}
	return LB_OP_COUNT;
}

const char *lb_wrong_name(enum lb_wrong w)
{
	return w < LB_W_COUNT ? wrong_names[w] : "?";
}
