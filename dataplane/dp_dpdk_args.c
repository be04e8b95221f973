/* SPDX-License-Identifier: MIT */
/*
 * Splitting --dpdk-args into the EAL's argv, the way a shell would split a command line (no
 * variables, globs or command substitution: just words, quotes and backslashes). Built with or
 * without DPDK, so that control can reject an unparsable value at flag-parsing time.
 */
#include <stdbool.h>

#include "common/lc_error.h"
#include "dataplane/dp_dpdk.h"

int dp_dpdk_split_args(const char *s, char *buf, size_t cap, char **argv, unsigned max)
{
	unsigned n = 0;
	size_t o = 0;
	while (*s != '\0') {
		while (*s == ' ' || *s == '\t' || *s == '\n') {
			s++;
		}
		if (*s == '\0') {
			break;
		}
		if (n == max) {
			return LC_ENOSPACE;
		}
		argv[n++] = buf + o;
		char quote = 0;
		while (*s != '\0' && (quote != 0 || (*s != ' ' && *s != '\t' && *s != '\n'))) {
			char c = *s++;
			if (quote == 0 && (c == '\'' || c == '"')) {
				quote = c;
				continue;
			}
			if (quote != 0 && c == quote) {
				quote = 0;
				continue;
			}
			/* a backslash escapes anything outside quotes, and only " \ inside "" */
			if (c == '\\' && quote != '\'' && (quote == 0 || *s == '"' || *s == '\\')) {
				if (*s == '\0') {
					return LC_EINVAL;
				}
				c = *s++;
			}
			if (o + 1 >= cap) {
				return LC_ENOSPACE;
			}
			buf[o++] = c;
		}
		if (quote != 0) {
			return LC_EINVAL;
		}
		if (o + 1 > cap) {
			return LC_ENOSPACE;
		}
		buf[o++] = '\0';
	}
	return (int)n;
}
