/* SPDX-License-Identifier: MIT */
/*
 * locus-bench's AOR states (bench/lb_aorstate.c): a thread owns AORs i = j * T + thread; picks of
 * registered AORs take only registered idle ones, picks of free ones only unregistered idle ones;
 * an AOR in flight is never picked; right answers move AORs between the two; a wrong or missing
 * answer puts an AOR in doubt for good.
 */
#include "bench/lb_aorstate.h"
#include "bench/lb_op.h"
#include "common/lc_error.h"
#include "tests/tap.h"

int main(void)
{
	plan(10);
	struct lb_aorstate s;
	struct bench_prng rng = {1};
	/* thread 1 of 3 in a set of 10, 0..5 registered: owns 1, 4, 7; 1 and 4 registered */
	if (lb_aorstate_init(&s, 10, 6, 1, 3) != LC_OK) {
		return 1;
	}
	is_int(s.owned, 3, "owns 3 AORs");
	is_int(lb_aorstate_registered(&s), 2, "2 of them registered");
	uint64_t a = 0, b = 0, c = 0;
	ok(lb_aorstate_pick_registered(&s, &rng, &a) && lb_aorstate_pick_registered(&s, &rng, &b) &&
		   ((a == 1 && b == 4) || (a == 4 && b == 1)),
	   "registered picks: 1 and 4");
	ok(!lb_aorstate_pick_registered(&s, &rng, &c), "no third: both are in flight");
	ok(lb_aorstate_pick_free(&s, &c) && c == 7, "the free pick is 7");
	ok(!lb_aorstate_pick_free(&s, &c), "no other free AOR");
	lb_aorstate_done(&s, 7, LB_OUTCOME_RIGHT, LB_EFFECT_REGISTERED, true);
	lb_aorstate_done(&s, a, LB_OUTCOME_RIGHT, LB_EFFECT_REMOVED, true);
	lb_aorstate_done(&s, b, LB_OUTCOME_WRONG, LB_EFFECT_REGISTERED, false);
	ok(lb_aorstate_pick_registered(&s, &rng, &c) && c == 7, "7 registered now, %llu in doubt",
	   (unsigned long long)b);
	ok(lb_aorstate_pick_free(&s, &c) && c == a, "%llu free again after its removal",
	   (unsigned long long)a);
	lb_aorstate_done(&s, 7, LB_OUTCOME_MISSING, LB_EFFECT_REGISTERED, false);
	ok(lb_aorstate_pick_registered(&s, &rng, &c) && c == 7,
	   "a lookup without an answer leaves its AOR registered");
	lb_aorstate_done(&s, 7, LB_OUTCOME_MISSING, LB_EFFECT_REGISTERED, true);
	ok(!lb_aorstate_pick_registered(&s, &rng, &c), "a REGISTER without an answer: in doubt");
	lb_aorstate_deinit(&s);
	return exit_status();
}
