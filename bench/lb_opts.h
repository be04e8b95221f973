/* SPDX-License-Identifier: MIT */
/*
 * locus-bench's command line: the options, their defaults and their checks, into one struct
 * lb_cfg that the workload loop and the report read and never change. A bad option is reported
 * with what was wrong and the run does not start (exit status 2).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "bench/lb_op.h"

#define LB_MAX_TARGETS 16
#define LB_MAX_THREADS 64
#define LB_MAX_SOCKETS 64
#define LB_VERSION "0.1.0"

struct lb_target {
	struct sockaddr_storage addr;
	socklen_t len;
	char text[64]; /* as given */
};

/* Owner: main(); filled by lb_cfg_parse(), then read-only and shared by every thread. */
struct lb_cfg {
	struct lb_target sip[LB_MAX_TARGETS]; /* requests go round robin over these */
	unsigned nsip;
	struct lb_target lsp[LB_MAX_TARGETS];
	unsigned nlsp;
	struct lb_target bind; /* source address, port 0; family 0 = chosen from the target */
	char domain[64];
	char overlay[256];
	unsigned weight[LB_OP_COUNT]; /* the mix */
	char mix_text[256];	      /* the mix as "op=w,op=w", for the report */
	uint64_t aors;
	uint64_t registered; /* AORs 0..registered-1 are registered before the run */
	uint64_t seed;
	uint64_t run_id;
	uint32_t expires_s;
	bool open_loop;
	unsigned window;	  /* closed loop: in flight over all threads */
	double rate;		  /* open loop: requests/s over all threads */
	uint32_t max_outstanding; /* open loop, per thread */
	unsigned threads;
	unsigned sockets;  /* per thread */
	bool sockets_set;  /* --sockets was given */
	uint64_t count;	   /* 0: unbounded by count */
	double duration_s; /* 0: unbounded by time */
	unsigned t1_ms;	   /* 0: no retransmission */
	unsigned t2_ms;
	unsigned timeout_ms;
	bool ack;
	unsigned rcvbuf_kb;
	const char
		*dpdk_args; /* NULL: kernel sockets; else the EAL's arguments (lb_xport_dpdk.c) */
	const char *json_path;
	const char *label;
	bool quiet;
	int progress; /* -1: when stderr is a terminal */
	unsigned show_wrong;
	int argc;
	char **argv;
};

/* What lb_cfg_parse() found. */
enum lb_cfg_result {
	LB_CFG_RUN,  /* run with the configuration */
	LB_CFG_EXIT, /* --help or --version was printed: exit 0 */
	LB_CFG_BAD,  /* bad options: the message is in err; exit 2 */
};

/**
 * Parse @p argv into @p c (caller's storage; the argv strings are borrowed for its life).
 * @param err  a message for the user when the result is LB_CFG_BAD.
 * Context: main thread, at start.
 */
enum lb_cfg_result lb_cfg_parse(struct lb_cfg *c, int argc, char **argv, char *err, size_t errlen);

/** Print the usage text to @p f. */
void lb_cfg_usage(FILE *f);
