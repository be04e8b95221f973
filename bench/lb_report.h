/* SPDX-License-Identifier: MIT */
/*
 * locus-bench's output: the threads' counters summed into totals, the live progress line, the
 * table for people and the one-line JSON record for scripts (bench/compare reads it). Everything
 * the record says is defined here once, so the table and the JSON cannot disagree.
 */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "bench/lb_hist.h"
#include "bench/lb_loop.h"
#include "bench/lb_opts.h"

/* Sums over the threads. Owner: main(); lb_totals_new() allocates (the histograms are large). */
struct lb_totals {
	struct {
		uint64_t sent, retrans, answered, wrong, missing, provisional;
		struct lb_hist lat;
	} op[LB_OP_COUNT];
	struct lb_hist lat; /* every operation */
	uint64_t sent, retrans, answered, wrong_answers, missing, provisional;
	uint64_t wrong; /* every wrong answer, malformed ones that found no request included */
	uint64_t wrong_kind[LB_W_COUNT];
	uint64_t unsent, behind, late, duplicate, stray, acks, send_errors, lag_1ms, lag_max_ns;
	uint64_t rx_dropped; /* DPDK: frames that were not answers to us */
	double wait_s;	     /* the threads' idle time, summed (lb_xport.h rx) */
	double thread_cpu_s; /* the sending threads' own CPU time, summed */
	double elapsed_s;    /* start to the last answer (or to now while running) */
	double send_s;	     /* start to the last request started */
	double cpu_user_s, cpu_sys_s;
	const char *end;
};

/** @return a zeroed totals, or NULL when out of memory. Free with lb_totals_free(). */
struct lb_totals *lb_totals_new(void);
void lb_totals_free(struct lb_totals *t);

/** Sum the counters of @p r's threads into @p t (overwritten). Context: any thread. */
void lb_totals_collect(struct lb_totals *t, const struct lb_run *r, const struct lb_cfg *c);

/** One progress line (starts with \r, no newline): elapsed, rate since @p prev_answered at
 * @p prev_s, errors, p99 so far. */
void lb_report_progress(FILE *f, const struct lb_totals *t, double now_s, uint64_t prev_answered,
			double prev_s);

/** The table for people. */
void lb_report_table(FILE *f, const struct lb_totals *t, const struct lb_cfg *c);

/** The JSON record, on one line, with a newline. */
void lb_report_json(FILE *f, const struct lb_totals *t, const struct lb_cfg *c);
