/* SPDX-License-Identifier: MIT */
/*
 * Loading a corpus from a directory of *.sip files (the format of tests/data/sip: one datagram
 * per file, byte for byte), so the benchmark can run on captured traffic instead of the
 * generator's. Files are read in name order, so two runs on the same directory time the same
 * sequence.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_corpus.h"
#include "common/lc_error.h"

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_sip_file(const char *name)
{
	size_t n = strlen(name);
	return n > 4 && strcmp(name + n - 4, ".sip") == 0 && name[0] != '.';
}

/* The sorted names of the *.sip files in dir. */
static int list_dir(const char *dir, char ***out, size_t *count)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		return -errno;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int ret = LC_OK;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (!is_sip_file(e->d_name)) {
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **grown = realloc(names, cap * sizeof(*names));
			if (grown == NULL) {
				ret = LC_ENOMEM;
				break;
			}
			names = grown;
		}
		names[n] = strdup(e->d_name);
		if (names[n] == NULL) {
			ret = LC_ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (ret == LC_OK && n == 0) {
		ret = LC_ENOTFOUND;
	}
	if (ret != LC_OK) {
		for (size_t i = 0; i < n; i++) {
			free(names[i]);
		}
		free(names);
		return ret;
	}
	qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	*count = n;
	return LC_OK;
}

static int read_file(const char *dir, const char *name, struct bench_msg *m)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		return -errno;
	}
	int ret = LC_OK;
	size_t cap = 4096;
	m->buf = malloc(cap);
	m->len = 0;
	while (m->buf != NULL) {
		m->len += fread(m->buf + m->len, 1, cap - m->len, f);
		if (m->len < cap) {
			break;
		}
		cap *= 2;
		char *grown = realloc(m->buf, cap);
		if (grown == NULL) {
			break;
		}
		m->buf = grown;
	}
	if (m->buf == NULL || m->len == cap || ferror(f)) {
		ret = ferror(f) ? -EIO : LC_ENOMEM;
	}
	fclose(f);
	m->origin = name;
	return ret;
}

int bench_corpus_load(struct bench_corpus *c, const char *dir)
{
	*c = (struct bench_corpus){0};
	int ret = list_dir(dir, &c->names, &c->nnames);
	if (ret != LC_OK) {
		return ret;
	}
	c->msg = calloc(c->nnames, sizeof(*c->msg));
	if (c->msg == NULL) {
		ret = LC_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < c->nnames; i++) {
		c->n = i + 1; /* counted first, so that a half-read buffer is freed too */
		ret = read_file(dir, c->names[i], &c->msg[i]);
		if (ret != LC_OK) {
			goto fail;
		}
	}
	return LC_OK;
fail:
	bench_corpus_free(c);
	return ret;
}

void bench_corpus_free(struct bench_corpus *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->msg[i].buf);
	}
	for (size_t i = 0; i < c->nnames; i++) {
		free(c->names[i]);
	}
	free(c->msg);
	free(c->names);
	*c = (struct bench_corpus){0};
}
