/* SPDX-License-Identifier: MIT */
/*
 * The portable backend of sip_scan.h: the class table, four bytes per bounds check (sip_skip).
 * Built on CPUs other than x86-64 and with -Dsipparse_simd=scalar.
 */
#include "sipparse/sip_scan.h"

#include <string.h>

#include "sipparse/sip_lex.h"

const char *sip_skip_text(const char *p, const char *end)
{
	return sip_skip(p, end, SIP_C_TEXT);
}

const char *sip_skip_qdtext(const char *p, const char *end)
{
	return sip_skip(p, end, SIP_C_QDTEXT);
}

const char *sip_host_scan(const char *p, const char *end, const char *lim, int *type)
{
	(void)lim;
	return sip_host_scan_scalar(p, end, type);
}

const char *sip_bare_uri_end(const char *p, const char *end, const char *lim)
{
	(void)lim;
	while (p < end && *p != ';' && *p != ',' && *p != '?' && !sip_is(*p, SIP_C_LWS)) {
		p++;
	}
	return p;
}

unsigned sip_colon16(const char *p)
{
	const char *c = memchr(p, ':', 16);
	return c != NULL ? (unsigned)(c - p) : 16;
}
