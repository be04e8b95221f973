/* SPDX-License-Identifier: MIT */
/*
 * The SIP Date format (RFC 3261 §20.17, a subset of RFC 1123: always GMT): validating a received
 * Date header field and writing one into a response. Time is an input: nothing here reads a clock.
 */
#include <string.h>

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

static char *put_digits(char *p, int v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10) {
		p[i] = (char)('0' + v % 10);
	}
	return p + width;
}

/*
 * Every response carries a Date, and the second it names changes once per second, so each
 * thread keeps the last one it wrote: gmtime_r and the formatting cost more than the rest of a
 * response's headers together.
 */
size_t sip_date_format(time_t now, char out[SIP_DATE_LEN + 1])
{
	static _Thread_local time_t last_now = -1;
	static _Thread_local char last[SIP_DATE_LEN + 1];
	if (now == last_now) {
		memcpy(out, last, sizeof(last));
		return SIP_DATE_LEN;
	}
	struct tm tm;
	if (gmtime_r(&now, &tm) == NULL || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
		return 0;
	}
	char *p = out;
	memcpy(p, wkdays[tm.tm_wday], 3);
	p = (char *)memcpy(p + 3, ", ", 2) + 2;
	p = put_digits(p, tm.tm_mday, 2);
	*p++ = ' ';
	p = (char *)memcpy(p, months[tm.tm_mon], 3) + 3;
	*p++ = ' ';
	p = put_digits(p, tm.tm_year + 1900, 4);
	*p++ = ' ';
	p = put_digits(p, tm.tm_hour, 2);
	*p++ = ':';
	p = put_digits(p, tm.tm_min, 2);
	*p++ = ':';
	p = put_digits(p, tm.tm_sec, 2);
	memcpy(p, " GMT", 5); /* with the terminator */
	memcpy(last, out, sizeof(last));
	last_now = now;
	return SIP_DATE_LEN;
}
