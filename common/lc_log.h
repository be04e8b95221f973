/* SPDX-License-Identifier: MIT */
/*
 * Logging for the slow path: one line per event on stderr, with a UTC timestamp and the level.
 * Never called from the fast path (STYLE.md section 4): workers count, control logs.
 */
#pragma once

enum lc_log_level {
	LC_LOG_ERROR = 0,
	LC_LOG_WARN,
	LC_LOG_INFO,
	LC_LOG_DEBUG,
};

/** Set the most verbose level printed (default LC_LOG_INFO). Context: control, at start. */
void lc_log_set_level(enum lc_log_level level);

/** Parse "error", "warn", "info" or "debug"; returns -1 when unknown. */
int lc_log_level_parse(const char *name);

/** Print one line if @p level is enabled. Context: any thread except workers' fast path. */
void lc_log(enum lc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define lc_err(...) lc_log(LC_LOG_ERROR, __VA_ARGS__)
#define lc_warn(...) lc_log(LC_LOG_WARN, __VA_ARGS__)
#define lc_info(...) lc_log(LC_LOG_INFO, __VA_ARGS__)
#define lc_debug(...) lc_log(LC_LOG_DEBUG, __VA_ARGS__)
