/* SPDX-License-Identifier: MIT */
/*
 * Internal to sipparse/: the scans that run over long stretches of a datagram (TEXT values such
 * as User-Agent, quoted strings such as nonces and +sip.instance), behind one
 * interface with one implementation per backend file: sip_scan_sse2.c on x86-64 (SSE2 is part of
 * the x86-64 baseline, so any x86-64 CPU runs it) and sip_scan_scalar.c everywhere else or with
 * -Dsipparse_simd=scalar. meson picks the file; both give the same answers for every input.
 *
 * Like every scanner here they read only [p, end): a vector load never reaches past end, so a
 * datagram that ends at a page boundary is safe.
 */
#pragma once

/* The end of the run of TEXT-UTF8 bytes (SIP_C_TEXT: any byte but CTLs, HTAB allowed) at p. */
const char *sip_skip_text(const char *p, const char *end);

/* The end of the run of qdtext bytes (SIP_C_QDTEXT: TEXT less '"' and '\\') at p. */
const char *sip_skip_qdtext(const char *p, const char *end);
