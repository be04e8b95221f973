/* SPDX-License-Identifier: MIT */
/*
 * What a benchmark result must say about where it was measured: the date, the machine, the CPU,
 * the kernel, the compiler and the load at the start. Results are only compared between runs on
 * the same kind of machine (STYLE.md §7), so every result line carries this.
 */
#pragma once

/* Owner: the caller's storage; filled once by bench_sysinfo_get. */
struct bench_sysinfo {
	char date[32];	   /* UTC, ISO 8601 */
	char machine[65];  /* uname -m */
	char kernel[65];   /* uname -r */
	char cpu[128];	   /* "model name" from /proc/cpuinfo */
	char compiler[64]; /* the compiler that built the benchmark */
	char loadavg[32];  /* first three fields of /proc/loadavg */
	long nproc;
};

/** Fill @p si; fields that cannot be read say "unknown". Context: benchmark setup. */
void bench_sysinfo_get(struct bench_sysinfo *si);
