/* SPDX-License-Identifier: MIT */
/*
 * locus-bench's workload loop: the sending threads, each with its own transport context (sockets
 * or a DPDK queue, lb_xport.h), transaction slots,
 * timers, AORs and counters, and the run that starts them, lets them be stopped early, and hands
 * their counters to the report. The counters are single-writer relaxed atomics, so the main
 * thread can read them for the live progress line while the threads run.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/lb_hist.h"
#include "bench/lb_op.h"
#include "bench/lb_opts.h"
#include "common/lc_compiler.h"
#include "common/lc_counter.h"

/* Per operation. */
struct lb_op_stats {
	lc_counter_t sent;	  /* transactions started */
	lc_counter_t retrans;	  /* retransmissions of them */
	lc_counter_t answered;	  /* final answers in time (right or wrong) */
	lc_counter_t wrong;	  /* of those, wrong */
	lc_counter_t missing;	  /* no final answer before --timeout-ms */
	lc_counter_t provisional; /* 1xx answers */
	struct lb_hist lat;	  /* first send (open loop: when it was due) to final answer */
};

/* Owner: one sending thread writes; any thread reads (relaxed). */
struct lb_stats {
	struct lb_op_stats op[LB_OP_COUNT];
	lc_counter_t wrong_kind[LB_W_COUNT];
	lc_counter_t unsent; /* open loop: due, but every slot was busy, or behind (not sent) */
	lc_counter_t behind; /* of those, still due when --duration was up (generator too slow) */
	lc_counter_t late;   /* an answer to a transaction already counted missing */
	lc_counter_t duplicate;	  /* another answer to an answered transaction */
	lc_counter_t stray;	  /* an answer that names no transaction of ours */
	lc_counter_t acks;	  /* ACKs sent */
	lc_counter_t send_errors; /* datagrams the kernel (or the DPDK queue) refused */
	lc_counter_t rx_dropped;  /* DPDK: frames not for us or malformed (not answers) */
	lc_counter_t wait_ns;	  /* time spent waiting with nothing received (idle) */
	lc_counter_t cpu_ns;	  /* the thread's own CPU time (user + system), set at its end */
	lc_counter_t lag_1ms;	  /* open loop: sent more than 1 ms after it was due */
	lc_counter_t lag_max_ns;
	lc_counter_t t_last_send_ns; /* since the run's start */
	lc_counter_t t_last_answer_ns;
};

struct lb_run;

/**
 * Prepare a run of @p cfg (borrowed for the run's life): sockets, slots and AOR states of every
 * thread. @p err gets a message on failure.
 * @return LC_OK, LC_ENOMEM, or a negative errno of a socket call.
 * Context: main thread.
 */
LC_MUSTCHECK int lb_run_new(struct lb_run **out, const struct lb_cfg *cfg, char *err,
			    size_t errlen);

/** Start the threads. @return LC_OK or a negative errno. Context: main thread. */
LC_MUSTCHECK int lb_run_start(struct lb_run *r);

/** Ask the threads to start no more requests; they finish the ones in flight. Any thread
 * (async-signal-safe: one relaxed store). */
void lb_run_stop(struct lb_run *r);

/** Whether every thread has finished. Context: any thread. */
bool lb_run_finished(const struct lb_run *r);

/** Wait for the threads. Context: main thread. */
void lb_run_join(struct lb_run *r);

/** Thread @p i's counters (i < cfg->threads), readable while it runs. */
const struct lb_stats *lb_run_stats(const struct lb_run *r, unsigned i);

/** Nanoseconds since the run started (0 before). */
uint64_t lb_run_elapsed_ns(const struct lb_run *r);

/** Why the threads stopped starting requests: "count", "time", "exhausted" (no AOR left for any
 * operation of the mix), "stopped" (lb_run_stop), or "running". */
const char *lb_run_end_reason(const struct lb_run *r);

/** Free @p r after lb_run_join (or if it never started). NULL is fine. */
void lb_run_free(struct lb_run *r);
