/* SPDX-License-Identifier: MIT */
/*
 * Every error code has a name and a text, the texts are usable as SIP reason phrases (printable
 * ASCII, no CR/LF), and no two codes share a value.
 */
#include <string.h>

#include "common/lc_error.h"
#include "tests/tap.h"

static const int codes[] = {
#define LC_ERROR_VALUE(name, value, text) (value),
	LC_ERRORS(LC_ERROR_VALUE)
#undef LC_ERROR_VALUE
};

int main(void)
{
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *t = lc_strerror(codes[i]);
		bool printable = t[0] != '\0';
		for (const char *c = t; *c; c++) {
			printable &= *c >= 0x20 && *c < 0x7f;
		}
		ok(printable, "%s has a printable reason", lc_strerror_name(codes[i]));
		size_t same = 0;
		for (size_t j = 0; j < i; j++) {
			same += codes[i] == codes[j];
		}
		is_int(same, 0, "%s has a value of its own", lc_strerror_name(codes[i]));
	}
	is_str(lc_strerror(-123456), "Unknown error", "unknown code");
	is_str(lc_strerror_name(LC_ESIP_CSEQ), "LC_ESIP_CSEQ", "name of a code");
	done_testing();
	return exit_status();
}
