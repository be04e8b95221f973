/* SPDX-License-Identifier: MIT */
/*
 * Name tables and the status-code index of the worker counters.
 */
#include "dataplane/dp_stats.h"

const char *const dp_drop_name[DP_DROP_COUNT_] = {
#define DP_DROP_NAME(name, text) text,
	DP_DROPS(DP_DROP_NAME)
#undef DP_DROP_NAME
};

const unsigned dp_code_value[DP_CODE_COUNT_] = {
#define DP_CODE_VALUE(c) c,
	DP_CODES(DP_CODE_VALUE)
#undef DP_CODE_VALUE
		0,
};

enum dp_code_idx dp_code_idx(unsigned code)
{
	switch (code) {
#define DP_CODE_CASE(c)                                                                            \
	case c:                                                                                    \
		return DP_CODE_##c;
		DP_CODES(DP_CODE_CASE)
#undef DP_CODE_CASE
	default:
		return DP_CODE_OTHER;
	}
}
