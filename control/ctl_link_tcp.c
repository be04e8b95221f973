/* SPDX-License-Identifier: MIT */
/*
 * The plain TCP transport of the overlay links (struct ctl_link_ops): non-blocking sockets with
 * TCP_NODELAY (small protocol messages go out at once), keepalive probes and TCP_USER_TIMEOUT,
 * so that a peer that vanished without a FIN or RST is noticed in a few seconds whether the link
 * is idle (keepalive) or has data in flight (user timeout). A TLS transport can reuse
 * ctl_link_tcp_ops.connect and .accept for the socket and wrap it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/lc_error.h"
#include "control/ctl_addr.h"
#include "control/ctl_link.h"

/* Best effort: a refused option costs robustness, not correctness. */
static void set_opts(int fd, const struct ctl_link_sockopts *o)
{
	int one = 1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (o->keepalive_idle_s > 0) {
		(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &o->keepalive_idle_s,
				 sizeof(o->keepalive_idle_s));
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &o->keepalive_intvl_s,
				 sizeof(o->keepalive_intvl_s));
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &o->keepalive_cnt,
				 sizeof(o->keepalive_cnt));
	}
	if (o->user_timeout_ms > 0) {
		(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &o->user_timeout_ms,
				 sizeof(o->user_timeout_ms));
	}
	if (o->sndbuf_bytes > 0) {
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o->sndbuf_bytes,
				 sizeof(o->sndbuf_bytes));
	}
	if (o->rcvbuf_bytes > 0) {
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf_bytes,
				 sizeof(o->rcvbuf_bytes));
	}
}

static int tcp_connect(void *arg, struct ctl_link_conn *c, const struct sockaddr_storage *peer,
		       const struct ctl_link_sockopts *o)
{
	(void)arg;
	int fd = socket(peer->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	set_opts(fd, o);
	if (connect(fd, (const struct sockaddr *)peer, ctl_addr_len(peer)) != 0 &&
	    errno != EINPROGRESS) {
		int err = -errno;
		close(fd);
		return err;
	}
	c->fd = fd;
	c->priv = NULL;
	c->authed = false;
	return LC_OK;
}

static int tcp_accept(void *arg, struct ctl_link_conn *c, int fd, const struct ctl_link_sockopts *o)
{
	(void)arg;
	set_opts(fd, o);
	c->fd = fd;
	c->priv = NULL;
	c->authed = false;
	return LC_OK;
}

/* A connect in progress has no error and no peer yet; a finished one has either. */
static int tcp_handshake(struct ctl_link_conn *c, uint32_t *events)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
		return -errno;
	}
	if (err != 0) {
		return -err;
	}
	struct sockaddr_storage peer, self;
	len = sizeof(peer);
	if (getpeername(c->fd, (struct sockaddr *)&peer, &len) != 0) {
		if (errno != ENOTCONN) {
			return -errno;
		}
		*events = EPOLLOUT;
		return -EAGAIN;
	}
	/* A connect to a free port of this host may get that very port as its source and connect
	 * to itself (TCP simultaneous open): that is a peer that is not there. */
	socklen_t slen = sizeof(self);
	if (getsockname(c->fd, (struct sockaddr *)&self, &slen) == 0 && slen == len &&
	    memcmp(&self, &peer, len) == 0) {
		return -ECONNREFUSED;
	}
	return LC_OK;
}

static ssize_t tcp_read(struct ctl_link_conn *c, void *buf, size_t cap)
{
	ssize_t r = read(c->fd, buf, cap);
	if (r >= 0) {
		return r;
	}
	return errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : -errno;
}

static ssize_t tcp_writev(struct ctl_link_conn *c, const struct iovec *iov, int iovcnt)
{
	struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
	ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w > 0) {
		return w;
	}
	if (w == 0) {
		return -EAGAIN;
	}
	return errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : -errno;
}

static void tcp_close(struct ctl_link_conn *c)
{
	if (c->fd >= 0) {
		close(c->fd);
	}
	c->fd = -1;
	c->priv = NULL;
}

const struct ctl_link_ops ctl_link_tcp_ops = {
	.name = "tcp",
	.connect = tcp_connect,
	.accept = tcp_accept,
	.handshake = tcp_handshake,
	.read = tcp_read,
	.writev = tcp_writev,
	.close = tcp_close,
};
