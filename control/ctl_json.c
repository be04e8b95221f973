/* SPDX-License-Identifier: MIT */
/*
 * The admin's JSON appender (ctl_json.h).
 */
#include "control/ctl_json.h"

#include <stdarg.h>
#include <stdio.h>

void ctl_json_put(struct ctl_json *j, const char *fmt, ...)
{
	if (j->overflow) {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(j->buf + j->len, j->cap - j->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= j->cap - j->len) {
		j->overflow = true;
		return;
	}
	j->len += (size_t)n;
}
