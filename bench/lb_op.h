/* SPDX-License-Identifier: MIT */
/*
 * The operations locus-bench can send, what a right answer to each looks like, and the kinds of
 * wrong answer it counts. One table (lb_op.c) holds, per operation, its name on the command line,
 * its protocol (SIP or LSP), the method, the status a right answer has and the rule for the
 * contacts it must list; the request builders and the answer checkers read it, so adding an
 * operation is one row and its builder.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum lb_op {
	LB_OP_REGISTER,	   /* SIP REGISTER of a new AOR: 200 listing its one contact */
	LB_OP_REFRESH,	   /* REGISTER of a registered AOR, same contact: 200 listing it */
	LB_OP_UNREGISTER,  /* REGISTER with Expires: 0: 200 no longer listing it */
	LB_OP_INVITE,	   /* INVITE to a registered AOR: 302 with exactly its contact */
	LB_OP_UNKNOWN,	   /* INVITE to an AOR no run registers: 404 */
	LB_OP_LSP_PUBLISH, /* LSP PUBLISH of a new AOR: 200 with its one record */
	LB_OP_LSP_LOOKUP,  /* LSP LOOKUP of a registered AOR: 200 with exactly its record */
	LB_OP_LSP_UNKNOWN, /* LSP LOOKUP of an AOR no run registers: 404 */
	LB_OP_COUNT
};

/* What the contacts (SIP) or records (LSP) of a right answer must be. */
enum lb_contact_rule {
	LB_CONTACTS_IGNORED,
	LB_CONTACTS_EXACTLY_OURS, /* one, ours */
	LB_CONTACTS_OURS_LIVE,	  /* one, ours, with an expiry above 0 */
	LB_CONTACTS_NOT_OURS,	  /* ours absent (or listed with expires=0) */
};

/* How an AOR's state changes when the operation gets a right answer. */
enum lb_aor_effect {
	LB_EFFECT_NONE,	      /* an unknown AOR: no state */
	LB_EFFECT_REGISTERED, /* the AOR is (still) registered */
	LB_EFFECT_REMOVED,    /* the AOR is no longer registered */
};

/* Kinds of wrong answer. LB_RIGHT is the absence of one. */
enum lb_wrong {
	LB_RIGHT = 0,
	LB_W_MALFORMED, /* not a SIP response (or LSP answer) we can read */
	LB_W_STATUS,	/* another status than the right one */
	LB_W_CALL_ID,
	LB_W_CSEQ,     /* number or method */
	LB_W_TO_TAG,   /* a final SIP response without a To tag */
	LB_W_CONTACTS, /* contacts or records not as the rule says */
	LB_W_KEY,      /* LSP: the answer's KEY is not the request's */
	LB_W_COUNT
};

/* One row of the table. Owner: static, read-only. */
struct lb_op_info {
	const char *name;      /* on the command line and in the JSON */
	const char *method;    /* SIP method, or the LSP message type's name */
	bool lsp;	       /* sent to an --lsp-target */
	bool needs_registered; /* picks a registered AOR */
	bool needs_free;       /* picks an AOR that is not registered */
	bool known;	       /* a known AOR (false: the "nobody" namespace) */
	unsigned status;       /* of a right answer */
	enum lb_contact_rule contacts;
	enum lb_aor_effect effect;
};

/** The row of @p op (< LB_OP_COUNT). Context: any thread. */
const struct lb_op_info *lb_op_info(enum lb_op op);

/** The operation named @p name (its length @p len), or LB_OP_COUNT when none is. */
enum lb_op lb_op_by_name(const char *name, unsigned len);

/** Short name of a kind of wrong answer ("status", "contacts"), for tables and the JSON. */
const char *lb_wrong_name(enum lb_wrong w);
