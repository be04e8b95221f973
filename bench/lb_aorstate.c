/* SPDX-License-Identifier: MIT */
/*
 * The per-thread AOR states of lb_aorstate.h.
 */
#include "bench/lb_aorstate.h"
#include "bench/lb_op.h"
#include "common/lc_alloc.h"
#include "common/lc_error.h"

enum {
	ST_FRESH = 0, /* never registered (by this run or before it) */
	ST_REG,	      /* registered, idle, in reg[] */
	ST_BUSY,      /* a request about it is in flight */
	ST_DOUBT,     /* a wrong or missing answer: never picked again */
	ST_FREE,      /* unregistered during the run, idle, in freed[] */
};

static void add_reg(struct lb_aorstate *s, uint32_t j)
{
	s->state[j] = ST_REG;
	s->pos[j] = s->nreg;
	s->reg[s->nreg++] = j;
}

int lb_aorstate_init(struct lb_aorstate *s, uint64_t aors, uint64_t registered, unsigned thread,
		     unsigned nthreads)
{
	*s = (struct lb_aorstate){.thread = thread, .nthreads = nthreads};
	s->owned = aors > thread ? (aors - thread + nthreads - 1) / nthreads : 0;
	size_t n = s->owned ? (size_t)s->owned : 1;
	s->state = lc_calloc(n, 1);
	s->pos = lc_calloc(n, sizeof(uint32_t));
	s->reg = lc_calloc(n, sizeof(uint32_t));
	s->freed = lc_calloc(n, sizeof(uint32_t));
	if (s->state == NULL || s->pos == NULL || s->reg == NULL || s->freed == NULL) {
		lb_aorstate_deinit(s);
		return LC_ENOMEM;
	}
	for (uint64_t j = 0; j < s->owned; j++) {
		if (j * nthreads + thread < registered) {
			add_reg(s, (uint32_t)j);
		}
	}
	return LC_OK;
}

void lb_aorstate_deinit(struct lb_aorstate *s)
{
	lc_free(s->state);
	lc_free(s->pos);
	lc_free(s->reg);
	lc_free(s->freed);
	*s = (struct lb_aorstate){0};
}

bool lb_aorstate_pick_registered(struct lb_aorstate *s, struct bench_prng *rng, uint64_t *aor)
{
	if (s->nreg == 0) {
		return false;
	}
	uint32_t r = (uint32_t)(bench_prng_next(rng) % s->nreg);
	uint32_t j = s->reg[r];
	uint32_t last = s->reg[--s->nreg];
	s->reg[r] = last;
	s->pos[last] = r;
	s->state[j] = ST_BUSY;
	*aor = (uint64_t)j * s->nthreads + s->thread;
	return true;
}

bool lb_aorstate_pick_free(struct lb_aorstate *s, uint64_t *aor)
{
	uint32_t j;
	if (s->nfreed > 0) {
		j = s->freed[--s->nfreed];
	} else {
		while (s->cursor < s->owned && s->state[s->cursor] != ST_FRESH) {
			s->cursor++;
		}
		if (s->cursor == s->owned) {
			return false;
		}
		j = (uint32_t)s->cursor++;
	}
	s->state[j] = ST_BUSY;
	*aor = (uint64_t)j * s->nthreads + s->thread;
	return true;
}

void lb_aorstate_done(struct lb_aorstate *s, uint64_t aor, enum lb_outcome outcome, int effect,
		      bool changes)
{
	uint32_t j = (uint32_t)(aor / s->nthreads);
	if (outcome == LB_OUTCOME_WRONG || (outcome == LB_OUTCOME_MISSING && changes)) {
		s->state[j] = ST_DOUBT;
	} else if (outcome == LB_OUTCOME_MISSING || effect == LB_EFFECT_REGISTERED) {
		add_reg(s, j); /* a lookup that got no answer left the AOR as it was */
	} else {
		s->state[j] = ST_FREE;
		s->freed[s->nfreed++] = j;
	}
}
