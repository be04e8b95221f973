/* SPDX-License-Identifier: MIT */
/*
 * Internal to sipparse/: the scans that run over long stretches of a datagram (TEXT values such
 * as User-Agent, quoted strings such as nonces and +sip.instance) and the host scan every URI and
 * Via goes through, behind one interface with one implementation per backend file:
 * sip_scan_sse2.c on x86-64 (SSE2 is part of the x86-64 baseline, so any x86-64 CPU runs it) and
 * sip_scan_scalar.c everywhere else or with -Dsipparse_simd=scalar. meson picks the file; both
 * give the same answers for every input.
 *
 * Two bounds: the scan's answer depends only on the bytes of [p, end), but a vector load may read
 * up to lim, the end of the datagram (lim >= end), never past it. Bytes in [end, lim) are loaded
 * and then masked off, so a datagram that ends at a page boundary is safe, and a scan that ends
 * near the end of the datagram falls back to one byte at a time.
 */
#pragma once

/* The end of the run of TEXT-UTF8 bytes (SIP_C_TEXT: any byte but CTLs, HTAB allowed) at p. */
const char *sip_skip_text(const char *p, const char *end);

/* The end of the run of qdtext bytes (SIP_C_QDTEXT: TEXT less '"' and '\\') at p. */
const char *sip_skip_qdtext(const char *p, const char *end);

/*
 * The offset of the first ':' among the 16 bytes at p, or 16 when there is none. The caller
 * guarantees that the 16 bytes are inside the datagram. A header name and its colon are found
 * this way when the name is shorter than 16 bytes.
 */
unsigned sip_colon16(const char *p);

/*
 * The first byte of [p, end) that ends an unbracketed URI in a header value or cannot be in one:
 * ';', ',', '?', SP, HTAB, CR or LF; end when there is none (RFC 3261 §20.10: parameters after an
 * unbracketed URI are header parameters, and such a URI holds no '?').
 */
const char *sip_bare_uri_end(const char *p, const char *end, const char *lim);

/*
 * Scan a host (hostname / IPv4address / IPv6reference) starting at p: stops at the first byte
 * that cannot continue it. Sets *type to the enum sip_host_type. Returns the end of the host, or
 * NULL when what was scanned is not a valid host. Same answers as sip_host_scan_scalar().
 */
const char *sip_host_scan(const char *p, const char *end, const char *lim, int *type);
