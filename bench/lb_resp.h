/* SPDX-License-Identifier: MIT */
/*
 * Reading a SIP response for locus-bench: the status, and only the fields a client relies on and
 * lb_check.c checks (top Via branch, Call-ID, CSeq, To tag, Contacts with their expires, the
 * Expires header). It is written separately from locus's own parser on purpose: a benchmark that
 * judged locus's answers with locus's parser would share its bugs. It accepts long and compact
 * header names in any case, comma-separated and repeated Contact headers, name-addr and addr-spec
 * forms, and CRLF or bare LF line ends; it does not unfold continuation lines (no server under
 * test sends them; a folded Contact would show up as a wrong answer, never as a right one).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/lc_compiler.h"

#define LB_RESP_MAX_CONTACTS 16

/* A view into the response buffer. */
struct lb_str {
	const char *p;
	unsigned len;
};

struct lb_resp_contact {
	struct lb_str uri; /* inside <> for name-addr */
	long expires;	   /* the expires parameter, -1 when absent */
};

/* A read response. Owner: the caller (on the stack); views die with the buffer. Fields are
 * read-only to callers. An absent header leaves its view empty (len 0). */
struct lb_resp {
	unsigned status;
	struct lb_str reason;
	bool has_via;
	struct lb_str branch; /* of the first Via */
	struct lb_str call_id;
	struct lb_str cseq_method;
	uint32_t cseq;
	bool has_cseq;
	bool has_to;
	struct lb_str to_tag;
	long expires; /* Expires header, -1 when absent */
	unsigned ncontacts;
	bool contacts_truncated; /* more than LB_RESP_MAX_CONTACTS */
	struct lb_resp_contact contacts[LB_RESP_MAX_CONTACTS];
};

/**
 * Read the response in @p buf (borrowed; @p r's views point into it).
 * @return LC_OK, or LC_EMALFORMED when it is not a SIP/2.0 response with a 3-digit status and
 *   headers ending in an empty line, or a header we read (CSeq, Expires) is malformed.
 * Context: any thread.
 */
LC_MUSTCHECK int lb_resp_parse(struct lb_resp *r, const char *buf, size_t len);

/** Whether @p s equals @p len bytes at @p p. */
static inline bool lb_str_eq(struct lb_str s, const char *p, size_t len)
{
	return s.len == len && (len == 0 || __builtin_memcmp(s.p, p, len) == 0);
}
