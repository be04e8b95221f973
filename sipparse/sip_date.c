/* SPDX-License-Identifier: MIT */
/*
 * The SIP Date format (RFC 3261 §20.17, a subset of RFC 1123: always GMT): validating a received
 * Date header field and writing one into a response. Time is an input: nothing here reads a clock.
 */
#include <stdio.h>

#include "common/lc_error.h"
#include "sipparse/sip_internal.h"
#include "sipparse/sip_lex.h"

static const char wkdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static int name_index(const char *p, const char (*names)[4], int n)
{
	for (int i = 0; i < n; i++) {
		if (sip_lit_caseeq(p, names[i], 3)) { /* ABNF literals: any case */
			return i;
		}
	}
	return -1;
}

/* Two digits at p, at most max. */
static bool two_digits(const char *p, int max)
{
	return sip_is(p[0], SIP_C_DIGIT) && sip_is(p[1], SIP_C_DIGIT) &&
	       (p[0] - '0') * 10 + (p[1] - '0') <= max;
}

/* "Sat, 13 Nov 2010 23:29:00 GMT": fixed layout, 29 bytes. */
int sip_hdr_parse_date(struct sip_msg *m, const char *p, const char *end)
{
	static const char layout[] = "www, DD MMM YYYY hh:mm:ss GMT";
	if (end - p != (ptrdiff_t)sizeof(layout) - 1 || name_index(p, wkdays, 7) < 0 ||
	    memcmp(p + 3, ", ", 2) != 0 || !two_digits(p + 5, 31) || p[7] != ' ' ||
	    name_index(p + 8, months, 12) < 0 || p[11] != ' ' || !two_digits(p + 12, 99) ||
	    !two_digits(p + 14, 99) || p[16] != ' ' || !two_digits(p + 17, 23) || p[19] != ':' ||
	    !two_digits(p + 20, 59) || p[22] != ':' || !two_digits(p + 23, 60) ||
	    !sip_lit_caseeq(p + 25, " GMT", 4)) {
		return LC_ESIP_DATE;
	}
	m->date = sip_str_make(p, (size_t)(end - p));
	return LC_OK;
}

size_t sip_date_format(time_t now, char out[SIP_DATE_LEN + 1])
{
	struct tm tm;
	if (gmtime_r(&now, &tm) == NULL) {
		return 0;
	}
	int n = snprintf(out, SIP_DATE_LEN + 1, "%s, %02d %s %04d %02d:%02d:%02d GMT",
			 wkdays[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
	return n == SIP_DATE_LEN ? (size_t)n : 0;
}
