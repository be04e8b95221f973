/* SPDX-License-Identifier: MIT */
/*
 * locus-bench's timer wheel (bench/lb_wheel.c): timers fire when due and not before, disarmed
 * and re-armed ones behave, timers more than one turn ahead wait for their turn, a long pause
 * fires everything due, a full output array is resumed on the next call, and a timer due later
 * in the current tick does not fire early (a retransmission timer re-armed to its give-up time in
 * the same tick once spun the generator).
 */
#include "bench/lb_wheel.h"
#include "common/lc_error.h"
#include "tests/tap.h"

#define MS (1ull << LB_WHEEL_TICK_SHIFT)

int main(void)
{
	plan(12);
	struct lb_wheel *w;
	uint64_t t0 = 1000 * MS;
	if (lb_wheel_new(&w, 4096, t0) != LC_OK) {
		return 1;
	}
	uint32_t out[4096];
	lb_wheel_arm(w, 1, t0 + 10 * MS);
	lb_wheel_arm(w, 2, t0 + 20 * MS);
	lb_wheel_arm(w, 3, t0 + 3000 * MS); /* three turns ahead */
	is_int(lb_wheel_expire(w, t0 + 9 * MS, out, 16), 0, "nothing before its time");
	unsigned n = lb_wheel_expire(w, t0 + 10 * MS, out, 16);
	ok(n == 1 && out[0] == 1, "timer 1 at its tick");
	lb_wheel_disarm(w, 2);
	lb_wheel_arm(w, 4, t0 + 15 * MS);
	lb_wheel_arm(w, 4, t0 + 25 * MS); /* re-armed later */
	is_int(lb_wheel_expire(w, t0 + 24 * MS, out, 16), 0, "disarmed and re-armed: not yet");
	n = lb_wheel_expire(w, t0 + 1500 * MS, out, 16);
	ok(n == 1 && out[0] == 4, "after a long pause, only what is due");
	n = lb_wheel_expire(w, t0 + 3000 * MS, out, 16);
	ok(n == 1 && out[0] == 3, "a timer three turns ahead fires in its turn");

	for (uint32_t i = 0; i < 100; i++) {
		lb_wheel_arm(w, 100 + i, t0 + 3001 * MS + (i % 7) * MS);
	}
	lb_wheel_arm(w, 7, t0 + 10 * MS); /* in the past: fires at the next expiry */
	n = lb_wheel_expire(w, t0 + 3001 * MS, out, 16);
	ok(n == 16, "a full output array stops at its size");
	unsigned total = n;
	while ((n = lb_wheel_expire(w, t0 + 4000 * MS, out, 16)) > 0) {
		total += n;
	}
	is_int(total, 101, "the rest on later calls, each once");
	is_int(lb_wheel_expire(w, t0 + 9000 * MS, out, 16), 0, "the wheel is empty");
	lb_wheel_disarm(w, 5); /* never armed */
	ok(true, "disarming an unarmed timer is a no-op");

	/* due later in the current tick: not before its nanosecond, even when re-armed in a loop */
	uint64_t t1 = t0 + 9500 * MS;
	lb_wheel_arm(w, 9, t1 + MS / 2);
	is_int(lb_wheel_expire(w, t1, out, 16), 0, "due later in this tick: not yet");
	is_int(lb_wheel_expire(w, t1 + MS / 4, out, 16), 0, "still not (same tick, earlier ns)");
	n = lb_wheel_expire(w, t1 + MS / 2, out, 16);
	ok(n == 1 && out[0] == 9, "fires at its nanosecond");
	lb_wheel_free(w);
	return exit_status();
}
