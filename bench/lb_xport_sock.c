/* SPDX-License-Identifier: MIT */
/*
 * locus-bench's kernel UDP transport (lb_xport.h): each sending thread has c->sockets sockets
 * bound to the source address the kernel would use for the first target (or --bind), each on a
 * port of its own, all in one epoll set. Datagrams queued on a socket go out in one sendmmsg;
 * answers are read with recvmmsg, at most four bursts per ready socket per wait, so that the
 * loop gets back to its timers and new requests.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/lb_xport.h"
#include "common/lc_alloc.h"
#include "common/lc_counter.h"
#include "common/lc_error.h"

#define BURST 32
#define RX_MAX 8192

/* Datagrams queued on one socket. Owner: its thread. */
struct txq {
	unsigned n;
	struct mmsghdr msg[BURST];
	struct iovec iov[BURST];
	char buf[BURST][LB_XPORT_MSG_MAX];
};

/* Owner: main() for the run. */
struct shared {
	const struct lb_cfg *cfg;
	struct sockaddr_storage src;
	socklen_t srclen;
};

/* Owner: its sending thread (the main thread sets it up and closes it). */
struct sock_ctx {
	const struct shared *sh;
	struct lb_stats *st;
	int ep;
	unsigned nsock;
	int fd[LB_MAX_SOCKETS];
	struct sockaddr_storage me[LB_MAX_SOCKETS];
	struct txq *txq;
	struct mmsghdr rmsg[BURST];
	struct iovec riov[BURST];
	char (*rbuf)[RX_MAX];
};

static int errno_fail(char *err, size_t errlen, const char *what)
{
	int e = errno;
	snprintf(err, errlen, "%s: %s", what, strerror(e));
	return -e;
}

/* The address the kernel would send from to the first target. */
static int source_of(const struct lb_cfg *c, struct sockaddr_storage *src, socklen_t *len,
		     char *err, size_t errlen)
{
	const struct lb_target *to = c->nsip ? &c->sip[0] : &c->lsp[0];
	if (c->bind.len != 0) {
		*src = c->bind.addr;
		*len = c->bind.len;
		return LC_OK;
	}
	int fd = socket(to->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)&to->addr, to->len) != 0) {
		int ret = errno_fail(err, errlen, "no route to the target");
		if (fd >= 0) {
			close(fd);
		}
		return ret;
	}
	*len = sizeof(*src);
	int ret = getsockname(fd, (struct sockaddr *)src, len);
	close(fd);
	if (ret != 0) {
		return errno_fail(err, errlen, "getsockname");
	}
	return LC_OK;
}

static int sock_init(void **out, const struct lb_cfg *c, char *err, size_t errlen)
{
	struct shared *sh = lc_calloc(1, sizeof(*sh));
	if (sh == NULL) {
		snprintf(err, errlen, "out of memory");
		return LC_ENOMEM;
	}
	sh->cfg = c;
	int ret = source_of(c, &sh->src, &sh->srclen, err, errlen);
	if (ret != LC_OK) {
		lc_free(sh);
		return ret;
	}
	*out = sh;
	return LC_OK;
}

static void sock_fini(void *shared)
{
	lc_free(shared);
}

static void set_buf(int fd, int force_opt, int opt, int bytes)
{
	/* the FORCE variant passes net.core.[rw]mem_max when we may (root) */
	if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof(bytes)) != 0) {
		(void)setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes));
	}
}

static int open_sockets(struct sock_ctx *x, char *err, size_t errlen)
{
	x->ep = epoll_create1(EPOLL_CLOEXEC);
	if (x->ep < 0) {
		return errno_fail(err, errlen, "epoll_create1");
	}
	int bytes = (int)(x->sh->cfg->rcvbuf_kb * 1024u);
	for (unsigned k = 0; k < x->nsock; k++) {
		struct sockaddr_storage me = x->sh->src;
		socklen_t len = x->sh->srclen;
		((struct sockaddr_in *)&me)->sin_port = 0; /* same offset in sockaddr_in6 */
		int fd = socket(me.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			return errno_fail(err, errlen, "socket");
		}
		x->fd[k] = fd;
		set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF, bytes);
		set_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF, bytes);
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = k};
		if (bind(fd, (struct sockaddr *)&me, len) != 0 ||
		    getsockname(fd, (struct sockaddr *)&me, &len) != 0 ||
		    epoll_ctl(x->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			return errno_fail(err, errlen, "bind");
		}
		x->me[k] = me;
	}
	return LC_OK;
}

static void sock_close(void *ctx)
{
	struct sock_ctx *x = ctx;
	if (x == NULL) {
		return;
	}
	for (unsigned k = 0; k < LB_MAX_SOCKETS; k++) {
		if (x->fd[k] >= 0) {
			close(x->fd[k]);
		}
	}
	if (x->ep >= 0) {
		close(x->ep);
	}
	lc_free(x->txq);
	lc_free(x->rbuf);
	lc_free(x);
}

static int sock_open(void **out, void *shared, unsigned thread, struct lb_stats *st, char *err,
		     size_t errlen)
{
	(void)thread;
	const struct shared *sh = shared;
	struct sock_ctx *x = lc_calloc(1, sizeof(*x));
	if (x == NULL) {
		snprintf(err, errlen, "out of memory");
		return LC_ENOMEM;
	}
	x->sh = sh;
	x->st = st;
	x->ep = -1;
	x->nsock = sh->cfg->sockets;
	for (unsigned k = 0; k < LB_MAX_SOCKETS; k++) {
		x->fd[k] = -1;
	}
	x->txq = lc_calloc(x->nsock, sizeof(*x->txq));
	x->rbuf = lc_calloc(BURST, RX_MAX);
	if (x->txq == NULL || x->rbuf == NULL) {
		sock_close(x);
		snprintf(err, errlen, "out of memory");
		return LC_ENOMEM;
	}
	for (unsigned i = 0; i < BURST; i++) {
		x->riov[i] = (struct iovec){x->rbuf[i], RX_MAX};
		x->rmsg[i].msg_hdr = (struct msghdr){.msg_iov = &x->riov[i], .msg_iovlen = 1};
	}
	int ret = open_sockets(x, err, errlen);
	if (ret != LC_OK) {
		sock_close(x);
		return ret;
	}
	*out = x;
	return LC_OK;
}

static unsigned sock_local(void *ctx, unsigned k, char *out, size_t cap)
{
	const struct sock_ctx *x = ctx;
	const struct sockaddr_storage *a = &x->me[k];
	char host[INET6_ADDRSTRLEN];
	int n;
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
		inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof(host));
		n = snprintf(out, cap, "[%s]:%u", host, ntohs(a6->sin6_port));
	} else {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)a;
		inet_ntop(AF_INET, &a4->sin_addr, host, sizeof(host));
		n = snprintf(out, cap, "%s:%u", host, ntohs(a4->sin_port));
	}
	return (unsigned)n;
}

static void flush(struct sock_ctx *x, unsigned k)
{
	struct txq *q = &x->txq[k];
	unsigned off = 0, waits = 0;
	while (off < q->n) {
		int n = sendmmsg(x->fd[k], q->msg + off, q->n - off, 0);
		if (n > 0) {
			off += (unsigned)n;
			continue;
		}
		if (errno == EINTR) {
			continue;
		}
		if ((errno == EAGAIN || errno == ENOBUFS) && waits++ < 100) {
			struct pollfd p = {.fd = x->fd[k], .events = POLLOUT};
			poll(&p, 1, 1); /* our send buffer is full: the server is not reading */
			continue;
		}
		/* refused or still full after 100 ms: the timers resend, or count them missing */
		lc_counter_add(&x->st->send_errors, q->n - off);
		break;
	}
	q->n = 0;
}

static void sock_tx_flush(void *ctx)
{
	struct sock_ctx *x = ctx;
	for (unsigned k = 0; k < x->nsock; k++) {
		if (x->txq[k].n > 0) {
			flush(x, k);
		}
	}
}

static char *sock_tx_buf(void *ctx, unsigned k)
{
	struct sock_ctx *x = ctx;
	struct txq *q = &x->txq[k];
	if (q->n == BURST) {
		flush(x, k);
	}
	return q->buf[q->n];
}

static void sock_tx_commit(void *ctx, unsigned k, const struct lb_target *to, size_t len)
{
	struct sock_ctx *x = ctx;
	struct txq *q = &x->txq[k];
	q->iov[q->n] = (struct iovec){q->buf[q->n], len};
	q->msg[q->n].msg_hdr = (struct msghdr){
		.msg_name = (void *)&to->addr,
		.msg_namelen = to->len,
		.msg_iov = &q->iov[q->n],
		.msg_iovlen = 1,
	};
	q->n++;
}

static void rx_socket(struct sock_ctx *x, unsigned k, lb_xport_rx_fn fn, void *arg)
{
	for (int round = 0; round < 4; round++) {
		int n = recvmmsg(x->fd[k], x->rmsg, BURST, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			return;
		}
		uint64_t now = lb_now_ns();
		for (int i = 0; i < n; i++) {
			fn(arg, x->rbuf[i], x->rmsg[i].msg_len,
			   (x->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) != 0, now);
		}
		if (n < BURST) {
			return;
		}
	}
}

static uint64_t sock_rx(void *ctx, uint64_t wait_ns, lb_xport_rx_fn fn, void *arg)
{
	struct sock_ctx *x = ctx;
	struct epoll_event ev[LB_MAX_SOCKETS];
	struct timespec ts = {(time_t)(wait_ns / 1000000000ull), (long)(wait_ns % 1000000000ull)};
	uint64_t t0 = lb_now_ns();
	int n = epoll_pwait2(x->ep, ev, (int)x->nsock, &ts, NULL);
	uint64_t waited = lb_now_ns() - t0;
	for (int i = 0; i < n; i++) {
		rx_socket(x, ev[i].data.u32, fn, arg);
	}
	return waited;
}

static const struct lb_xport_ops sock_ops = {
	.name = "sock",
	.init = sock_init,
	.fini = sock_fini,
	.open = sock_open,
	.close = sock_close,
	.local = sock_local,
	.tx_buf = sock_tx_buf,
	.tx_commit = sock_tx_commit,
	.tx_flush = sock_tx_flush,
	.rx = sock_rx,
};

const struct lb_xport_ops *lb_xport_sock(void)
{
	return &sock_ops;
}
