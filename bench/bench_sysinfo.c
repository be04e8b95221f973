/* SPDX-License-Identifier: MIT */
/*
 * Gathering the facts a benchmark result is reported with (see bench_sysinfo.h), from uname(2),
 * /proc and the compiler's own macros.
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_sysinfo.h"

#ifndef BENCH_CC
#define BENCH_CC __VERSION__
#endif

/* The value of the first "key<spaces>: value" line of a /proc file, trailing newline removed. */
static void proc_value(const char *path, const char *key, char *out, size_t cap)
{
	char line[512];
	size_t klen = strlen(key);
	FILE *f = fopen(path, "r");
	snprintf(out, cap, "unknown");
	if (f == NULL) {
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, klen) != 0) {
			continue;
		}
		const char *v = strchr(line + klen, ':');
		if (v == NULL) {
			continue;
		}
		v += strspn(v + 1, " \t") + 1;
		snprintf(out, cap, "%.*s", (int)strcspn(v, "\n"), v);
		break;
	}
	fclose(f);
}

static void load_average(char *out, size_t cap)
{
	double a[3];
	FILE *f = fopen("/proc/loadavg", "r");
	snprintf(out, cap, "unknown");
	if (f == NULL) {
		return;
	}
	if (fscanf(f, "%lf %lf %lf", &a[0], &a[1], &a[2]) == 3) {
		snprintf(out, cap, "%.2f %.2f %.2f", a[0], a[1], a[2]);
	}
	fclose(f);
}

void bench_sysinfo_get(struct bench_sysinfo *si)
{
	struct utsname u;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(si->date, sizeof(si->date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (uname(&u) == 0) {
		snprintf(si->machine, sizeof(si->machine), "%s", u.machine);
		snprintf(si->kernel, sizeof(si->kernel), "%s", u.release);
	} else {
		snprintf(si->machine, sizeof(si->machine), "unknown");
		snprintf(si->kernel, sizeof(si->kernel), "unknown");
	}
	proc_value("/proc/cpuinfo", "model name", si->cpu, sizeof(si->cpu));
	snprintf(si->compiler, sizeof(si->compiler), "%s", BENCH_CC);
	load_average(si->loadavg, sizeof(si->loadavg));
	si->nproc = sysconf(_SC_NPROCESSORS_ONLN);
}
