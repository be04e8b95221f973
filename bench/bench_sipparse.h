/* SPDX-License-Identifier: MIT */
/*
 * The parser benchmark's options and figures, shared by its driver (bench_sipparse.c) and its
 * report (bench_report.c: a table for people, one JSON line for scripts).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bench/bench_corpus.h"
#include "bench/bench_named.h"
#include "bench/bench_sysinfo.h"

/* Owner: main(); read-only after parse_args. */
struct bench_opts {
	double seconds;	 /* time budget per parser and message set */
	unsigned rounds; /* 0: derive from seconds */
	uint64_t seed;
	size_t count;
	const char *corpus_dir;	    /* NULL: generate */
	int cpu;		    /* -1: no pinning */
	bool keep_going;	    /* time the messages that parse instead of stopping */
	const char *dump_dir;	    /* write the corpus here and stop */
	bool skip_locus, skip_osip; /* --only */
	const char *message;	    /* --message: a bench_named name or "all"; NULL: corpus run */
	bool skip_named;	    /* --message none: the corpus without the named messages */
};

/* Owner: main(); the messages timed, pointing into the corpus. */
struct bench_sets {
	struct bench_msg **all, **reg;
	struct bench_msg **reg_plain, **reg_auth; /* the REGISTERs without and with credentials */
	size_t nall, nreg, nreg_plain, nreg_auth;
};

/* Owner: main(); what the verification found. */
struct bench_check {
	size_t locus_failed; /* refused by sip_parse(); dropped from the timed sets */
	size_t osip_failed;  /* refused by libosip2; dropped from the timed sets */
	size_t disagree;     /* parsed by both, fields differ (timed anyway) */
};

/* Owner: main(), in struct bench_results; one parser over one message set. */
struct bench_timing {
	unsigned rounds;
	size_t msgs;
	double ns_mean, ns_median, ns_min, ns_p90; /* per message */
	double msgs_per_s;			   /* from the median */
	double allocs_per_msg, frees_per_msg, bytes_per_msg;
};

/* Owner: main(), in struct bench_results; one named message, parsed over and over. */
struct bench_named_timing {
	const struct bench_named *msg;
	struct bench_timing locus, osip;
	bool disagree; /* the fields the two parsers read differ */
};

#define BENCH_NAMED_MAX 8

/* Owner: main(); written by run(), read by bench_report(). */
struct bench_results {
	struct bench_timing locus_all, osip_all, locus_reg, osip_reg;
	struct bench_timing locus_reg_plain, osip_reg_plain, locus_reg_auth, osip_reg_auth;
	struct bench_named_timing named[BENCH_NAMED_MAX];
	size_t nnamed;
};

/* The goals of the parser issue. */
#define BENCH_GOAL_RATIO 5.0
#define BENCH_GOAL_REGISTER_NS 400.0

/**
 * Print the table and the JSON line.
 * @param si    the machine, read before the run (the load average must not include it).
 * @param argv  borrowed; echoed as the command line.
 * Context: after the measurements; single-threaded.
 */
void bench_report(FILE *out, const struct bench_sysinfo *si, const struct bench_opts *o,
		  const struct bench_sets *s, const struct bench_check *chk,
		  const struct bench_results *res, int argc, char **argv);
