/* SPDX-License-Identifier: MIT */
/*
 * The parser benchmark's input: a list of SIP datagrams, either generated from a seed
 * (bench_corpus_gen, realistic REGISTERs and INVITEs as phones and proxies send them) or read
 * from a directory of *.sip files (bench_corpus_load). Each message sits in its own heap buffer,
 * as a datagram would in its own receive buffer.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/lc_compiler.h"

/* Owner: the corpus; buf is freed by bench_corpus_free(). */
struct bench_msg {
	char *buf;
	size_t len;
	const char *origin;	/* the UA profile or file name; static or owned by the corpus */
	uint8_t nvia, ncontact; /* as generated; 0 for loaded files */
	bool auth, record_route, compact;
	bool reduced; /* lost a planned feature to the 900-byte bound */
};

/* Owner: the caller's storage; filled by bench_corpus_gen/load, freed by bench_corpus_free. */
struct bench_corpus {
	struct bench_msg *msg;
	size_t n;
	char **names; /* file names of a loaded corpus, NULL for a generated one */
	size_t nnames;
};

/**
 * Generate @p n distinct REGISTER and INVITE requests from @p seed, each 300 to 900 bytes.
 * @param c  filled in; bench_corpus_free() releases it.
 * @return LC_OK or LC_ENOMEM.
 * Context: benchmark setup; single-threaded.
 */
LC_MUSTCHECK int bench_corpus_gen(struct bench_corpus *c, uint64_t seed, size_t n);

/**
 * Read every *.sip file of @p dir, in name order.
 * @param c  filled in; bench_corpus_free() releases it.
 * @return LC_OK, LC_ENOMEM, LC_ENOTFOUND (no *.sip file) or a negative errno from opening or
 *   reading.
 * Context: benchmark setup; single-threaded.
 */
LC_MUSTCHECK int bench_corpus_load(struct bench_corpus *c, const char *dir);

/** Release what gen or load allocated; a zeroed corpus is a no-op. */
void bench_corpus_free(struct bench_corpus *c);
