/* SPDX-License-Identifier: MIT */
/*
 * The admin interface's addresses (ctl_admin_addr.c), shared by locusd's --admin and locusctl's:
 * which values are a Unix socket and which TCP, the path length limit of a socket address, the
 * text form back, and the default socket named after the LSP port.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/lc_error.h"
#include "control/ctl_admin.h"
#include "tests/tap.h"

static const char *path_of(const struct sockaddr_storage *ss)
{
	return ((const struct sockaddr_un *)ss)->sun_path;
}

static void unix_form(const char *text, const char *path)
{
	struct sockaddr_storage ss;
	char out[160], want[160];
	int ret = ctl_admin_parse(text, &ss);
	ok(ret == LC_OK && ss.ss_family == AF_UNIX && strcmp(path_of(&ss), path) == 0,
	   "'%s' is the Unix socket %s", text, path);
	ctl_admin_format(&ss, out, sizeof(out));
	snprintf(want, sizeof(want), "unix:%s", path);
	is_str(out, want, "and formats as unix:PATH");
}

static void refused(const char *text, int want, const char *why)
{
	struct sockaddr_storage ss;
	is_int(ctl_admin_parse(text, &ss), want, "'%.24s' refused: %s", text, why);
}

int main(void)
{
	plan(24);
	unix_form("/run/locus/a.sock", "/run/locus/a.sock");
	unix_form("./admin.sock", "./admin.sock");
	unix_form("unix:admin.sock", "admin.sock"); /* the prefix: a path without a '/' */
	unix_form("unix:/tmp/x", "/tmp/x");

	struct sockaddr_storage ss;
	char out[64];
	ok(ctl_admin_parse("127.0.0.1:7401", &ss) == LC_OK && ss.ss_family == AF_INET,
	   "ADDR:PORT is TCP (IPv4)");
	ctl_admin_format(&ss, out, sizeof(out));
	is_str(out, "127.0.0.1:7401", "and formats back as given");
	ok(ctl_admin_parse("[::1]:7401", &ss) == LC_OK && ss.ss_family == AF_INET6,
	   "[v6]:PORT is TCP (IPv6)");

	char longest[200];
	memset(longest, 'a', sizeof(longest));
	longest[0] = '/';
	longest[107] = '\0';
	ok(ctl_admin_parse(longest, &ss) == LC_OK && strlen(path_of(&ss)) == 107,
	   "a path of 107 bytes fits a socket address");
	longest[107] = 'a';
	longest[108] = '\0';
	refused(longest, LC_ETOOLONG, "a path of 108 bytes does not fit");
	refused("", LC_EINVAL, "empty");
	refused("unix:", LC_EINVAL, "an empty path");
	refused("admin.sock", LC_EINVAL, "neither a path (no '/') nor ADDR:PORT");
	refused("127.0.0.1:99999", LC_EINVAL, "port out of range");
	refused("localhost:7401", LC_EINVAL, "names are not looked up");

	/* the default: /run/locus for root, else $XDG_RUNTIME_DIR/locus or /tmp/locus-UID */
	char want[160];
	if (geteuid() == 0) {
		snprintf(want, sizeof(want), "/run/locus/locusd-7400.sock");
	} else {
		snprintf(want, sizeof(want), "/tmp/locus-%u/locusd-7400.sock", (unsigned)geteuid());
	}
	unsetenv("XDG_RUNTIME_DIR");
	ok(ctl_admin_default(7400, &ss) == LC_OK && ss.ss_family == AF_UNIX &&
		   strcmp(path_of(&ss), want) == 0,
	   "default for LSP port 7400: %s", want);
	setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
	if (geteuid() == 0) {
		snprintf(want, sizeof(want), "/run/locus/locusd-7410.sock");
	} else {
		snprintf(want, sizeof(want), "/run/user/1000/locus/locusd-7410.sock");
	}
	ok(ctl_admin_default(7410, &ss) == LC_OK && strcmp(path_of(&ss), want) == 0,
	   "with $XDG_RUNTIME_DIR set: %s", want);
	setenv("XDG_RUNTIME_DIR", "relative", 1);
	ok(ctl_admin_default(7410, &ss) == LC_OK && strncmp(path_of(&ss), "relative", 8) != 0,
	   "a relative $XDG_RUNTIME_DIR is not used");
	memset(longest, 'x', sizeof(longest));
	longest[0] = '/';
	longest[120] = '\0';
	setenv("XDG_RUNTIME_DIR", longest, 1);
	int ret = ctl_admin_default(7410, &ss);
	ok(geteuid() == 0 ? ret == LC_OK : ret == LC_ETOOLONG,
	   "a $XDG_RUNTIME_DIR too long for a socket address: LC_ETOOLONG (root does not use it)");
	if (ctl_admin_parse("/a/b", &ss) == LC_OK) {
		is_int((int)ctl_admin_addr_len(&ss), (int)sizeof(struct sockaddr_un),
		       "a Unix address binds with the length of a sockaddr_un");
	}
	if (ctl_admin_parse("127.0.0.1:1", &ss) == LC_OK) {
		is_int((int)ctl_admin_addr_len(&ss), (int)sizeof(struct sockaddr_in),
		       "an IPv4 one with that of a sockaddr_in");
	}
	return exit_status();
}
