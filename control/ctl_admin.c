/* SPDX-License-Identifier: MIT */
/*
 * The admin listener and its commands: stats, ping, node (this node's view of the overlay), ring
 * (every node's state) and route AOR (where a key lives).
 */
#define _GNU_SOURCE
#include "control/ctl_admin.h"

#include <errno.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/lc_log.h"
#include "control/ctl_addr.h"
#include "control/ctl_ovl.h"
#include "control/ctl_stats.h"

#define ADMIN_TIMEOUT_MS 500

int ctl_admin_listen(const struct sockaddr_storage *addr)
{
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		return -errno;
	}
	int one = 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)addr, ctl_addr_len(addr)) != 0 ||
	    listen(fd, 16) != 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static void write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w <= 0) {
			return; /* the client went away or stalled past the timeout */
		}
		p += w;
		len -= (size_t)w;
	}
}

void ctl_admin_serve(int lfd, struct dp_node *n, struct ctl_ovl *ov, uint32_t uptime_s)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		return;
	}
	struct timeval tv = {.tv_sec = 0, .tv_usec = ADMIN_TIMEOUT_MS * 1000};
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	char cmd[1024];
	size_t len = 0;
	while (len < sizeof(cmd) - 1) {
		ssize_t r = read(fd, cmd + len, sizeof(cmd) - 1 - len);
		if (r <= 0) {
			break;
		}
		len += (size_t)r;
		if (memchr(cmd, '\n', len) != NULL) {
			break;
		}
	}
	cmd[len] = '\0';
	cmd[strcspn(cmd, "\r\n")] = '\0';
	static char out[1 << 20];
	if (strcmp(cmd, "stats") == 0) {
		size_t n_out = ctl_stats_json(n, uptime_s, out, sizeof(out));
		write_all(fd, out, n_out);
	} else if (strcmp(cmd, "ping") == 0) {
		write_all(fd, "pong\n", 5);
	} else if (strcmp(cmd, "ring") == 0 || strcmp(cmd, "node") == 0) {
		size_t n_out = ctl_ovl_ring_json(ov, cmd[0] == 'r', out, sizeof(out));
		write_all(fd, out, n_out);
	} else if (strncmp(cmd, "route ", 6) == 0) {
		size_t n_out = ctl_ovl_route_json(ov, cmd + 6, out, sizeof(out));
		write_all(fd, out, n_out);
	} else {
		static const char usage[] =
			"error: unknown command (stats, ping, node, ring, route AOR)\n";
		write_all(fd, usage, sizeof(usage) - 1);
	}
	close(fd);
}
