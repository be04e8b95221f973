/* SPDX-License-Identifier: MIT */
/*
 * --rx-coalesce-us's rule (dp_coalesce.h): a pause is taken only where it gathers two requests or
 * more and fewer than a burst, at the rate of the last window; every edge of that, and no
 * overflow at the largest counts a window can hold.
 */
#include "dataplane/dp_coalesce.h"
#include "tests/tap.h"

#define BURST 32 /* DP_BURST */

int main(void)
{
	/* 200 us pauses, 100 ms windows: two a pause is 10,000/s, a burst (32) is 160,000/s */
	ok(!dp_coalesce_worth(0, 100, 200, BURST), "no packets: no pause");
	ok(!dp_coalesce_worth(100, 100, 200, BURST),
	   "1,000/s: 0.2 a pause, not worth a timer wake-up");
	ok(!dp_coalesce_worth(999, 100, 200, BURST), "just under two a pause");
	ok(dp_coalesce_worth(1000, 100, 200, BURST), "two a pause (10,000/s): pause");
	ok(dp_coalesce_worth(2000, 100, 200, BURST), "20,000/s: four a pause");
	ok(dp_coalesce_worth(15999, 100, 200, BURST), "just under a burst a pause");
	ok(!dp_coalesce_worth(16000, 100, 200, BURST),
	   "a burst a pause (160,000/s): full bursts, no pause");
	ok(!dp_coalesce_worth(100000, 100, 200, BURST), "a closed loop at 1,000,000/s: no pause");
	/* the window may be longer than nominal: a worker that slept measures its rate over it */
	ok(!dp_coalesce_worth(2000, 10000, 200, BURST),
	   "2,000 packets over 10 s: 0.2/ms, no pause");
	ok(dp_coalesce_worth(2000, 200, 1000, BURST), "10,000/s with 1 ms pauses: ten a pause");
	ok(!dp_coalesce_worth(2000, 0, 200, BURST), "an empty window decides nothing");
	ok(!dp_coalesce_worth(UINT32_MAX, 100, 1000, BURST),
	   "the largest counts: no overflow, no pause");
	done_testing();
}
