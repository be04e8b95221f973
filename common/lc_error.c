/* SPDX-License-Identifier: MIT */
/*
 * Text and names for the LC_E* codes declared in lc_error.h. Both tables come from the one
 * LC_ERRORS list, so a code can never have a name but no text.
 */
#include "common/lc_error.h"

const char *lc_strerror(int err)
{
	switch (err) {
#define LC_ERROR_TEXT(name, value, text)                                                           \
	case (value):                                                                              \
		return (text);
		LC_ERRORS(LC_ERROR_TEXT)
#undef LC_ERROR_TEXT
	default:
		return "Unknown error";
	}
}

const char *lc_strerror_name(int err)
{
	switch (err) {
#define LC_ERROR_NAME(name, value, text)                                                           \
	case (value):                                                                              \
		return #name;
		LC_ERRORS(LC_ERROR_NAME)
#undef LC_ERROR_NAME
	default:
		return "LC_E?";
	}
}
