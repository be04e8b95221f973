/* SPDX-License-Identifier: MIT */
/*
 * Comparisons of struct sip_str views. SIP compares most names (header names, parameter names,
 * hosts, schemes) ASCII case-insensitively; these are the two helpers everything else uses.
 */
#include "sipparse/sip_str.h"

#include "sipparse/sip_lex.h"

bool sip_str_caseeq(struct sip_str a, struct sip_str b)
{
	if (a.len != b.len) {
		return false;
	}
	for (uint32_t i = 0; i < a.len; i++) {
		if (sip_lower(a.p[i]) != sip_lower(b.p[i])) {
			return false;
		}
	}
	return true;
}

bool sip_str_caseeq_lit(struct sip_str s, const char *lit)
{
	return sip_str_caseeq(s, sip_str_make(lit, strlen(lit)));
}
