/* SPDX-License-Identifier: MIT */
/*
 * The admin interface's addresses (ctl_admin.h): a Unix socket path or TCP ADDR:PORT, and the
 * default socket both locusd and locusctl derive from the LSP port. A file of its own so that
 * locusctl links these and not the admin server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/lc_error.h"
#include "control/ctl_addr.h"
#include "control/ctl_admin.h"

static int unix_addr(const char *path, struct sockaddr_storage *out)
{
	struct sockaddr_un *un = (struct sockaddr_un *)out;
	size_t len = strlen(path);
	memset(out, 0, sizeof(*out));
	if (len == 0) {
		return LC_EINVAL;
	}
	if (len >= sizeof(un->sun_path)) {
		return LC_ETOOLONG;
	}
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, path, len + 1);
	return LC_OK;
}

int ctl_admin_parse(const char *text, struct sockaddr_storage *out)
{
	if (strncmp(text, "unix:", 5) == 0) {
		return unix_addr(text + 5, out);
	}
	if (strchr(text, '/') != NULL) {
		return unix_addr(text, out);
	}
	return ctl_addr_parse(text, out);
}

int ctl_admin_default(unsigned lsp_port, struct sockaddr_storage *out)
{
	char path[sizeof(((struct sockaddr_un *)NULL)->sun_path) + 1];
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	uid_t uid = geteuid();
	int n;
	if (uid == 0) {
		n = snprintf(path, sizeof(path), "/run/locus/locusd-%u.sock", lsp_port);
	} else if (xdg != NULL && xdg[0] == '/') {
		n = snprintf(path, sizeof(path), "%s/locus/locusd-%u.sock", xdg, lsp_port);
	} else {
		n = snprintf(path, sizeof(path), "/tmp/locus-%u/locusd-%u.sock", (unsigned)uid,
			     lsp_port);
	}
	if (n < 0 || (size_t)n >= sizeof(path)) {
		memset(out, 0, sizeof(*out));
		return LC_ETOOLONG;
	}
	return unix_addr(path, out);
}

void ctl_admin_format(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	if (ss->ss_family == AF_UNIX) {
		snprintf(out, cap, "unix:%s", ((const struct sockaddr_un *)ss)->sun_path);
	} else {
		ctl_addr_format(ss, out, cap);
	}
}

socklen_t ctl_admin_addr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_UNIX ? (socklen_t)sizeof(struct sockaddr_un) : ctl_addr_len(ss);
}
