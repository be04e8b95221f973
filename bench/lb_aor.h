/* SPDX-License-Identifier: MIT */
/*
 * locus-bench's AOR sets: AOR number i of the set named by a seed, with its contact and the
 * Call-ID its REGISTERs use, computed on demand from (seed, i) alone. Nothing is stored, so a set
 * of any size costs no memory, two runs with the same seed talk about the same users, and another
 * seed gives another set.
 *
 * How it works: i goes through a bijection of 64-bit integers (an xor with a key drawn from the
 * seed, then the splitmix64 finalizer, which is invertible), and the user part ends with the
 * result in 13 base-32 digits. Distinct i in one set therefore give distinct users, with no table
 * and no collision check. A first name chosen by a second hash makes the users look like people.
 * "Unknown" AORs (for INVITEs that must get 404) take the same path with another key and the
 * prefix "nobody", which no known user has, so they are never registered by any run. The contact
 * is the user at a 10.x.y.z address and port drawn from the same hash; the Call-ID is per AOR and
 * per run (the run id), so a later run's REGISTER for the same contact is a refresh with a new
 * Call-ID, as a phone that restarted sends (RFC 3261 §10.3 step 7 updates the binding).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/lc_compiler.h"

#define LB_AOR_DOMAIN_MAX 63
#define LB_AOR_URI_MAX (4 + 24 + 1 + LB_AOR_DOMAIN_MAX + 1)
#define LB_AOR_CONTACT_MAX 80
#define LB_AOR_CALL_ID_MAX 48

/* Owner: the caller; immutable after lb_aorgen_init() and shared read-only by every thread. */
struct lb_aorgen {
	uint64_t seed;
	uint64_t key_known;
	uint64_t key_unknown;
	uint64_t key_call_id;
	char domain[LB_AOR_DOMAIN_MAX + 1];
	unsigned domain_len;
};

/* One AOR's strings, NUL-terminated. Owner: the caller (on the stack). */
struct lb_aor {
	char uri[LB_AOR_URI_MAX + 1]; /* sip:user@domain, the AOR */
	unsigned uri_len;
	unsigned user_len; /* the user part is uri + 4 */
	char contact[LB_AOR_CONTACT_MAX + 1];
	unsigned contact_len;
	char call_id[LB_AOR_CALL_ID_MAX + 1]; /* of this AOR's REGISTERs in this run */
	unsigned call_id_len;
};

/**
 * Name the set of @p seed in @p domain (borrowed, copied).
 * @return LC_OK, or LC_EINVAL when the domain is empty, longer than LB_AOR_DOMAIN_MAX or holds a
 *   character that is not a letter, digit, '.' or '-'.
 */
LC_MUSTCHECK int lb_aorgen_init(struct lb_aorgen *g, uint64_t seed, const char *domain);

/**
 * AOR number @p i: a known one (@p known, the ones runs register) or an unknown one (never
 * registered). @p run_id makes the Call-ID differ between runs. Context: any thread.
 */
void lb_aor_get(const struct lb_aorgen *g, uint64_t i, bool known, uint64_t run_id,
		struct lb_aor *out);
