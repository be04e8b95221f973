/* SPDX-License-Identifier: MIT */
/*
 * locus-bench: a SIP and LSP load generator for registrars and redirect servers, locus or any
 * other (DESIGN.md, issue 5). main() parses the options (lb_opts.c), starts the sending threads
 * (lb_loop.c), shows a progress line once a second when stderr is a terminal, stops early on
 * SIGINT or SIGTERM (the requests in flight still finish; a second signal kills), then prints
 * the table and the JSON record (lb_report.c). Exit status: 0 every answer right, 1 some answer
 * wrong, 2 bad options, 3 the run could not start.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench/lb_loop.h"
#include "bench/lb_opts.h"
#include "bench/lb_report.h"
#include "common/lc_error.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
	signal(sig, SIG_DFL); /* a second one ends the process */
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Wait for the threads, with the progress line when asked; stop them on a signal. */
static void watch(struct lb_run *r, const struct lb_cfg *c, struct lb_totals *tot, bool progress)
{
	uint64_t prev_answered = 0;
	double prev_s = 0, next_s = 1.0;
	bool stopped = false;
	while (!lb_run_finished(r)) {
		sleep_ms(50);
		if (stop_signal != 0 && !stopped) {
			lb_run_stop(r);
			stopped = true;
		}
		double now_s = (double)lb_run_elapsed_ns(r) / 1e9;
		if (progress && now_s >= next_s) {
			lb_totals_collect(tot, r, c);
			lb_report_progress(stderr, tot, now_s, prev_answered, prev_s);
			prev_answered = tot->answered;
			prev_s = now_s;
			next_s = now_s + 1.0;
		}
	}
	if (progress && prev_s > 0) {
		fputc('\n', stderr);
	}
}

static int write_json(const char *path, const struct lb_totals *tot, const struct lb_cfg *c)
{
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "locus-bench: cannot write %s\n", path);
		return -1;
	}
	lb_report_json(f, tot, c);
	return fclose(f) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	static struct lb_cfg cfg;
	char err[256];
	switch (lb_cfg_parse(&cfg, argc, argv, err, sizeof(err))) {
	case LB_CFG_EXIT:
		return 0;
	case LB_CFG_BAD:
		fprintf(stderr, "locus-bench: %s\nTry 'locus-bench --help'.\n", err);
		return 2;
	case LB_CFG_RUN:
		break;
	}
	struct lb_run *run = NULL;
	struct lb_totals *tot = lb_totals_new();
	if (tot == NULL || lb_run_new(&run, &cfg, err, sizeof(err)) != LC_OK) {
		fprintf(stderr, "locus-bench: %s\n", tot ? err : "out of memory");
		lb_totals_free(tot);
		return 3;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	struct rusage ru0, ru1;
	getrusage(RUSAGE_SELF, &ru0);
	if (lb_run_start(run) != LC_OK) {
		fprintf(stderr, "locus-bench: cannot start the threads\n");
		lb_run_free(run);
		lb_totals_free(tot);
		return 3;
	}
	bool progress = cfg.progress == 1 || (cfg.progress == -1 && isatty(STDERR_FILENO));
	watch(run, &cfg, tot, progress);
	lb_run_join(run);
	getrusage(RUSAGE_SELF, &ru1);
	tot->cpu_user_s = tv_s(ru1.ru_utime) - tv_s(ru0.ru_utime);
	tot->cpu_sys_s = tv_s(ru1.ru_stime) - tv_s(ru0.ru_stime);
	lb_totals_collect(tot, run, &cfg);
	if (!cfg.quiet) {
		lb_report_table(stdout, tot, &cfg);
	}
	fputs("JSON ", stdout);
	lb_report_json(stdout, tot, &cfg);
	int status = tot->wrong > 0 ? 1 : 0;
	if (cfg.json_path != NULL && write_json(cfg.json_path, tot, &cfg) != 0) {
		status = 3;
	}
	lb_run_free(run);
	lb_totals_free(tot);
	return status;
}
