/* SPDX-License-Identifier: MIT */
/*
 * Corpus replay: a plain main() that feeds every file named on the command line, and every regular
 * file directly inside every directory named there (only names ending in EXT with `--ext EXT`),
 * to the LLVMFuzzerTestOneInput of the target it is linked with. It is how the fuzz targets run as ordinary unit tests in every build (and under
 * ASan+UBSan in CI) without libFuzzer, and how a crash-* file from a fuzz run is reproduced:
 * `build/tests/fuzz/replay_sipparse crash-1234...`.
 *
 * Output is TAP, one "ok" per input in name order, so a failing input is named by the last line
 * before the abort. Each input is copied into a heap block of exactly its size so ASan sees any
 * read past its end. A directory with no files gives "1..0 # SKIP", not a silent pass.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

static int ntests, nfailed;
static const char *only_ext; /* --ext: replay only directory entries ending with it */

static bool has_ext(const char *name)
{
	size_t n = strlen(name), e = only_ext ? strlen(only_ext) : 0;
	return only_ext == NULL || (n >= e && strcmp(name + n - e, only_ext) == 0);
}

static void replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		printf("not ok %d - %s: %s\n", ++ntests, path, strerror(errno));
		nfailed++;
		return;
	}
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap);
	size_t n;
	while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			cap *= 2;
			uint8_t *nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
			}
			buf = nb;
		}
	}
	int rerr = ferror(f);
	fclose(f);
	if (buf == NULL || rerr) {
		printf("not ok %d - %s: %s\n", ++ntests, path,
		       buf ? "read error" : "out of memory");
		nfailed++;
		free(buf);
		return;
	}
	/* exact-size copy: ASan catches a read even one byte past the input */
	uint8_t *exact = malloc(len ? len : 1);
	if (exact == NULL) {
		printf("not ok %d - %s: out of memory\n", ++ntests, path);
		nfailed++;
		free(buf);
		return;
	}
	memcpy(exact, buf, len);
	free(buf);
	fflush(stdout);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	printf("ok %d - %s (%zu bytes)\n", ++ntests, path, len);
	fflush(stdout);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		printf("not ok %d - %s: %s\n", ++ntests, dir, strerror(errno));
		nfailed++;
		return;
	}
	char **names = NULL;
	size_t count = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || !has_ext(e->d_name)) {
			continue;
		}
		if (count == cap) {
			cap = cap ? 2 * cap : 64;
			char **nn = realloc(names, cap * sizeof(*names));
			if (nn == NULL) {
				break;
			}
			names = nn;
		}
		size_t sz = strlen(dir) + strlen(e->d_name) + 2;
		names[count] = malloc(sz);
		if (names[count] == NULL) {
			break;
		}
		snprintf(names[count], sz, "%s/%s", dir, e->d_name);
		count++;
	}
	closedir(d);
	if (count > 0) {
		qsort(names, count, sizeof(*names), cmp_names);
	}
	for (size_t i = 0; i < count; i++) {
		struct stat st;
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
			replay_file(names[i]);
		}
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	int first = 1;
	if (argc > 2 && strcmp(argv[1], "--ext") == 0) {
		only_ext = argv[2];
		first = 3;
	}
	if (argc <= first) {
		fprintf(stderr, "usage: %s [--ext .sip] DIR_OR_FILE...\n", argv[0]);
		return 2;
	}
	for (int i = first; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			replay_dir(argv[i]);
		} else {
			replay_file(argv[i]);
		}
	}
	if (ntests == 0) {
		printf("1..0 # SKIP no inputs found\n");
		return 0;
	}
	printf("1..%d\n", ntests);
	return nfailed ? 1 : 0;
}
