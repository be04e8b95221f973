/* SPDX-License-Identifier: MIT */
/*
 * What one sending thread believes about the AORs it owns: registered or not, in flight, or in
 * doubt. Every operation picks its AOR here, so that an INVITE goes only to an AOR whose
 * registration was answered right, a "new" REGISTER only to one that is not registered, and no
 * AOR has two requests in flight (a refresh overtaking another would be answered as stale, and
 * that would be the generator's fault, not the server's). Threads own disjoint AORs (AOR i
 * belongs to thread i mod T), so nothing here is shared.
 *
 * How it works: one state byte per owned AOR. Registered idle AORs are kept in a dense array
 * (with each one's position) so a uniform random pick and its removal are O(1). New AORs come
 * from a cursor over the ones never registered, then from a stack of those unregistered during
 * the run. An AOR whose request got a wrong answer or none (when that request could have changed
 * it) is in doubt and never picked again: one server mistake counts once, instead of making
 * every later answer about that AOR look wrong.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bench/bench_prng.h"
#include "common/lc_compiler.h"

/* Owner: one sending thread. */
struct lb_aorstate {
	uint64_t owned; /* AORs j = 0..owned-1, which are global AOR j * nthreads + thread */
	unsigned thread;
	unsigned nthreads;
	uint8_t *state;
	uint32_t *pos; /* of a registered idle AOR in reg[] */
	uint32_t *reg; /* registered idle AORs */
	uint32_t nreg;
	uint32_t *freed; /* unregistered during the run, idle */
	uint32_t nfreed;
	uint64_t cursor; /* next never-registered AOR to look at */
};

/* How a request about an AOR ended. */
enum lb_outcome {
	LB_OUTCOME_RIGHT,   /* the right answer: the operation's effect happened */
	LB_OUTCOME_WRONG,   /* a wrong answer: the AOR is in doubt */
	LB_OUTCOME_MISSING, /* no answer: in doubt if the request could change the AOR */
};

/**
 * Set up the AORs of @p thread among @p nthreads in a set of @p aors, of which 0..registered-1
 * are registered. @return LC_OK or LC_ENOMEM. Context: the owning thread.
 */
LC_MUSTCHECK int lb_aorstate_init(struct lb_aorstate *s, uint64_t aors, uint64_t registered,
				  unsigned thread, unsigned nthreads);

/** Free what init allocated (a zeroed or half-built @p s is fine). */
void lb_aorstate_deinit(struct lb_aorstate *s);

/** Take a registered idle AOR at random (now in flight); false when there is none. */
bool lb_aorstate_pick_registered(struct lb_aorstate *s, struct bench_prng *rng, uint64_t *aor);

/** Take an AOR that is not registered (now in flight); false when there is none. */
bool lb_aorstate_pick_free(struct lb_aorstate *s, uint64_t *aor);

/**
 * The request about global AOR @p aor (taken by a pick) ended with @p outcome; @p effect (enum
 * lb_aor_effect) is what a right answer means, @p changes whether the request could change the
 * AOR's registration (a REGISTER or PUBLISH could, a lookup could not).
 */
void lb_aorstate_done(struct lb_aorstate *s, uint64_t aor, enum lb_outcome outcome, int effect,
		      bool changes);

/** Registered idle AORs now. */
static inline uint32_t lb_aorstate_registered(const struct lb_aorstate *s)
{
	return s->nreg;
}
