/* SPDX-License-Identifier: MIT */
/*
 * Slow-path logging. The line is formatted into one buffer and written with a single write(2) so
 * lines from different threads never interleave.
 */
#include "common/lc_log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/lc_compiler.h"

static _Atomic int max_level = LC_LOG_INFO;

static const char *const level_name[] = {"error", "warn", "info", "debug"};

void lc_log_set_level(enum lc_log_level level)
{
	atomic_store_explicit(&max_level, (int)level, memory_order_relaxed);
}

int lc_log_level_parse(const char *name)
{
	for (int i = 0; i <= LC_LOG_DEBUG; i++) {
		if (strcmp(name, level_name[i]) == 0) {
			return i;
		}
	}
	return -1;
}

void lc_log(enum lc_log_level level, const char *fmt, ...)
{
	if ((int)level > atomic_load_explicit(&max_level, memory_order_relaxed)) {
		return;
	}
	char line[1024];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec / 1000000, level_name[level]);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : LC_MIN((size_t)m, sizeof(line) - (size_t)n - 2));
	line[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w; /* nowhere left to report a failed write to stderr */
}
