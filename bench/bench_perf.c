/* SPDX-License-Identifier: MIT */
/*
 * Hardware counters of the calling thread (bench_perf.h), through perf_event_open(2): one event
 * each, user and kernel, enabled from the start; the caller reads before and after what it
 * measures and divides the difference by its packets.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench/bench_perf.h"

void bench_perf_open(struct bench_perf *p)
{
	static const uint64_t config[BENCH_PERF_N] = {PERF_COUNT_HW_INSTRUCTIONS,
						      PERF_COUNT_HW_CACHE_MISSES};
	for (unsigned i = 0; i < BENCH_PERF_N; i++) {
		struct perf_event_attr a;
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.type = PERF_TYPE_HARDWARE;
		a.config = config[i];
		a.exclude_hv = 1;
		long fd = syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
		p->fd[i] = fd < 0 ? -1 : (int)fd;
		p->why[i][0] = '\0';
		if (fd < 0) {
			/* ENOENT here means "no such hardware event": the VM exposes no PMU */
			snprintf(p->why[i], sizeof(p->why[i]), "unavailable: %s", strerror(errno));
		}
	}
}

bool bench_perf_read(const struct bench_perf *p, enum bench_perf_counter c, uint64_t *v)
{
	return p->fd[c] >= 0 && read(p->fd[c], v, sizeof(*v)) == (ssize_t)sizeof(*v);
}

void bench_perf_close(struct bench_perf *p)
{
	for (unsigned i = 0; i < BENCH_PERF_N; i++) {
		if (p->fd[i] >= 0) {
			close(p->fd[i]);
			p->fd[i] = -1;
		}
	}
}
