/* SPDX-License-Identifier: MIT */
/*
 * dp_dpdk_split_args: --dpdk-args split as a shell would (words, quotes, backslashes), and the
 * errors for what a shell would refuse.
 */
#include "common/lc_error.h"
#include "dataplane/dp_dpdk.h"
#include "tests/tap.h"

static char buf[256], *argv[8];

int main(void)
{
	plan(11);
	int n = dp_dpdk_split_args("  --lcores 0@0,1@1\t--no-huge  ", buf, sizeof(buf), argv, 8);
	is_int(n, 3, "three words, blanks around them ignored");
	ok(n == 3 && strcmp(argv[0], "--lcores") == 0 && strcmp(argv[1], "0@0,1@1") == 0 &&
		   strcmp(argv[2], "--no-huge") == 0,
	   "the words themselves");
	n = dp_dpdk_split_args("--vdev='net_tap0,iface=a b' \"x\\\"y\" c\\ d", buf, sizeof(buf),
			       argv, 8);
	ok(n == 3 && strcmp(argv[0], "--vdev=net_tap0,iface=a b") == 0 &&
		   strcmp(argv[1], "x\"y") == 0 && strcmp(argv[2], "c d") == 0,
	   "single quotes, double quotes with an escape, an escaped blank");
	n = dp_dpdk_split_args("'a\\b'", buf, sizeof(buf), argv, 8);
	ok(n == 1 && strcmp(argv[0], "a\\b") == 0, "no escapes inside single quotes");
	is_int(dp_dpdk_split_args("", buf, sizeof(buf), argv, 8), 0, "empty: no words");
	is_int(dp_dpdk_split_args("''", buf, sizeof(buf), argv, 8), 1, "'' is one empty word");
	is_int(dp_dpdk_split_args("'open", buf, sizeof(buf), argv, 8), LC_EINVAL,
	       "an unterminated quote");
	is_int(dp_dpdk_split_args("\"open", buf, sizeof(buf), argv, 8), LC_EINVAL,
	       "an unterminated double quote");
	is_int(dp_dpdk_split_args("trailing\\", buf, sizeof(buf), argv, 8), LC_EINVAL,
	       "a trailing backslash");
	is_int(dp_dpdk_split_args("a b c d e f g h i", buf, sizeof(buf), argv, 8), LC_ENOSPACE,
	       "too many words");
	is_int(dp_dpdk_split_args("abcdefghijklmnop", buf, 8, argv, 8), LC_ENOSPACE,
	       "too long for the buffer");
	return tap_failed != 0;
}
