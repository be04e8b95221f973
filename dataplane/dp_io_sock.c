/* SPDX-License-Identifier: MIT */
/*
 * The socket io backend: per worker, one UDP socket for SIP and one for LSP, each bound with
 * SO_REUSEPORT to the node's address so the kernel spreads datagrams over the workers by 4-tuple
 * hash, and every worker can answer from the same local address. Receives and sends are bursts
 * (recvmmsg, sendmmsg): one system call per socket per burst, not per datagram.
 *
 * Fairness: under load the SIP socket could fill every burst and starve LSP, so a burst takes at
 * most three quarters from SIP and gives the rest to LSP.
 *
 * System calls per wake-up: a worker sleeps in epoll_wait (its sockets and eventfd registered
 * once, not on every sleep as poll() would), which says which sockets have data. A burst reads
 * only the sockets that may have data: those epoll reported, and those whose last read filled
 * the burst. A socket whose read came back short was drained, so the next burst skips it; every
 * RESCAN_EVERY bursts all sockets are read anyway, so a busy socket never hides the other one
 * for long. At a low rate this makes a request cost epoll_wait, one recvmmsg and one sendmmsg,
 * where it used to cost poll, four recvmmsg (two of them empty), sendmmsg and an eventfd read.
 *
 * Arrival times: every socket has SO_TIMESTAMPNS, so each datagram comes with the time the kernel
 * queued it (a control message of the same recvmmsg: no system call, no clock read per packet).
 * A worker that was starved of CPU or stopped reads datagrams that waited in the socket; the
 * time they arrived, not the time they are read, says how old a write is (dp_write_stale).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/lc_alloc.h"
#include "common/lc_error.h"
#include "dataplane/dp_io.h"

#define SOCK_BURST 64
#define RESCAN_EVERY 4
#define ALL_SOCKS ((1u << DP_SOCK_COUNT_) - 1)
#define WAKE_TAG DP_SOCK_COUNT_ /* epoll data of the eventfd */

struct sock_ctx {
	int fd[DP_SOCK_COUNT_];
	int ep;		 /* epoll: the sockets, and the worker's eventfd once it waits */
	int wake_fd;	 /* the eventfd registered in ep, or -1 */
	unsigned maybe;	 /* bit per socket: it may have data (read it in the next burst) */
	unsigned bursts; /* counts bursts, for RESCAN_EVERY */
	struct mmsghdr msg[SOCK_BURST];
	struct iovec iov[SOCK_BURST];
	struct sockaddr_storage name[SOCK_BURST];
	union { /* aligned for struct cmsghdr: the datagram's SCM_TIMESTAMPNS */
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(struct timespec))];
	} ctl[SOCK_BURST];
};

static socklen_t ss_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/*
 * Whether nobody else holds @p ss: a bind without SO_REUSEPORT/SO_REUSEADDR fails with EADDRINUSE
 * when any socket has the port, also another locusd's SO_REUSEPORT group (same user), which a
 * bind with SO_REUSEPORT would silently join, splitting the traffic between two nodes.
 */
static int check_unused(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	if ((ss->ss_family == AF_INET6 ? s6->sin6_port : s4->sin_port) == 0) {
		return LC_OK; /* the kernel picks a free port */
	}
	int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	int one = 1;
	int ret = LC_OK;
	if ((ss->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
	    bind(fd, (const struct sockaddr *)ss, ss_len(ss)) != 0) {
		ret = -errno;
	}
	close(fd);
	return ret;
}

static int open_one(const struct sockaddr_storage *ss, int rcvbuf, int *out)
{
	int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
		goto fail;
	}
	if (ss->ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) {
		goto fail;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) != 0) {
		goto fail; /* without arrival times no write could be told stale (dp_write_stale) */
	}
	if (rcvbuf > 0) {
		/* best effort: the kernel caps it at net.core.rmem_max */
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &rcvbuf, sizeof(rcvbuf));
	}
	if (bind(fd, (const struct sockaddr *)ss, ss_len(ss)) != 0) {
		goto fail;
	}
	*out = fd;
	return LC_OK;
fail:;
	int err = -errno;
	close(fd);
	return err;
}

static void sock_close(void *arg)
{
	struct sock_ctx *c = arg;
	if (c == NULL) {
		return;
	}
	for (int i = 0; i < DP_SOCK_COUNT_; i++) {
		if (c->fd[i] >= 0) {
			close(c->fd[i]);
		}
	}
	if (c->ep >= 0) {
		close(c->ep);
	}
	lc_free(c);
}

static int sock_open(void **out, const struct dp_io_cfg *cfg, unsigned worker)
{
	struct sock_ctx *c = lc_calloc(1, sizeof(*c));
	if (c == NULL) {
		return LC_ENOMEM;
	}
	c->fd[DP_SOCK_SIP] = c->fd[DP_SOCK_LSP] = -1;
	c->wake_fd = -1;
	c->maybe = ALL_SOCKS;
	c->ep = epoll_create1(EPOLL_CLOEXEC);
	if (c->ep < 0) {
		int ret = -errno;
		sock_close(c);
		return ret;
	}
	for (int i = 0; i < DP_SOCK_COUNT_; i++) {
		/* the first worker's sockets start the group: the port must be free then */
		int ret = worker == 0 ? check_unused(&cfg->addr[i]) : LC_OK;
		if (ret == LC_OK) {
			ret = open_one(&cfg->addr[i], cfg->rcvbuf_bytes, &c->fd[i]);
		}
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
		if (ret == LC_OK && epoll_ctl(c->ep, EPOLL_CTL_ADD, c->fd[i], &ev) != 0) {
			ret = -errno;
		}
		if (ret != LC_OK) {
			sock_close(c);
			return ret;
		}
	}
	*out = c;
	return LC_OK;
}

static int sock_local_addr(void *arg, enum dp_sock sock, struct sockaddr_storage *out)
{
	struct sock_ctx *c = arg;
	socklen_t len = sizeof(*out);
	return getsockname(c->fd[sock], (struct sockaddr *)out, &len) == 0 ? LC_OK : -errno;
}

static void addr_from(struct dp_addr *a, const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		a->family = AF_INET6;
		a->port = ntohs(s6->sin6_port);
		memcpy(a->addr, &s6->sin6_addr, 16);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		a->family = AF_INET;
		a->port = ntohs(s4->sin_port);
		memcpy(a->addr, &s4->sin_addr, 4);
	}
}

static socklen_t addr_to(const struct dp_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(struct sockaddr_in6));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->port);
		memcpy(&s6->sin6_addr, a->addr, 16);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(a->port);
	memcpy(&s4->sin_addr, a->addr, 4);
	return sizeof(*s4);
}

/* When message @p h reached the socket (SCM_TIMESTAMPNS, wall clock) in ms; 0 when it says not. */
static uint64_t arrival_ms(struct msghdr *h)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm != NULL; cm = CMSG_NXTHDR(h, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
		}
	}
	return 0;
}

/* Read up to @p n datagrams from one socket; a short read means it is drained for now. */
static unsigned rx_one(struct sock_ctx *c, enum dp_sock sock, struct dp_pkt **pkts, unsigned n)
{
	if (n == 0 || !(c->maybe & (1u << sock))) {
		return 0;
	}
	for (unsigned i = 0; i < n; i++) {
		c->iov[i].iov_base = pkts[i]->data;
		c->iov[i].iov_len = DP_PKT_CAP;
		c->msg[i].msg_hdr = (struct msghdr){
			.msg_name = &c->name[i],
			.msg_namelen = sizeof(c->name[i]),
			.msg_iov = &c->iov[i],
			.msg_iovlen = 1,
			.msg_control = c->ctl[i].b,
			.msg_controllen = sizeof(c->ctl[i].b),
		};
	}
	int got = recvmmsg(c->fd[sock], c->msg, n, MSG_DONTWAIT, NULL);
	if (got < (int)n) {
		c->maybe &= ~(1u << sock);
	}
	if (got <= 0) {
		return 0;
	}
	for (int i = 0; i < got; i++) {
		pkts[i]->len = c->msg[i].msg_len;
		pkts[i]->sock = (uint8_t)sock;
		pkts[i]->rx_ms = arrival_ms(&c->msg[i].msg_hdr);
		addr_from(&pkts[i]->peer, &c->name[i]);
	}
	return (unsigned)got;
}

static unsigned sock_rx_burst(void *arg, struct dp_pkt **pkts, unsigned n)
{
	struct sock_ctx *c = arg;
	n = LC_MIN(n, SOCK_BURST);
	if (++c->bursts % RESCAN_EVERY == 0) {
		c->maybe = ALL_SOCKS;
	}
	/* SIP leaves a quarter of the burst to LSP only when LSP may have data */
	unsigned sip_n = (c->maybe & (1u << DP_SOCK_LSP)) ? n - n / 4 : n;
	unsigned got = rx_one(c, DP_SOCK_SIP, pkts, sip_n);
	return got + rx_one(c, DP_SOCK_LSP, pkts + got, n - got);
}

/* Send a run of packets that leave from the same socket. */
static unsigned tx_run(struct sock_ctx *c, enum dp_sock sock, struct dp_pkt **pkts, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		c->iov[i].iov_base = pkts[i]->data;
		c->iov[i].iov_len = pkts[i]->len;
		c->msg[i].msg_hdr = (struct msghdr){
			.msg_name = &c->name[i],
			.msg_namelen = addr_to(&pkts[i]->peer, &c->name[i]),
			.msg_iov = &c->iov[i],
			.msg_iovlen = 1,
		};
	}
	unsigned sent = 0;
	while (sent < n) {
		int r = sendmmsg(c->fd[sock], c->msg + sent, n - sent, MSG_DONTWAIT);
		if (r > 0) {
			sent += (unsigned)r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			/* this datagram is undeliverable (e.g. EINVAL for a bad peer): skip it, count
			 * it as sent (the caller cannot do better), and go on with the rest */
			sent++;
		} else {
			break;
		}
	}
	return sent;
}

static unsigned sock_tx_burst(void *arg, struct dp_pkt **pkts, unsigned n)
{
	struct sock_ctx *c = arg;
	unsigned done = 0;
	while (done < n) {
		unsigned run = 1;
		while (done + run < n && run < SOCK_BURST &&
		       pkts[done + run]->sock == pkts[done]->sock) {
			run++;
		}
		unsigned sent = tx_run(c, (enum dp_sock)pkts[done]->sock, pkts + done, run);
		done += sent;
		if (sent < run) {
			break;
		}
	}
	return done;
}

static bool sock_wait(void *arg, int wake_fd, int timeout_ms)
{
	struct sock_ctx *c = arg;
	if (c->wake_fd < 0 && wake_fd >= 0) { /* the first wait: a worker keeps its eventfd */
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = WAKE_TAG};
		if (epoll_ctl(c->ep, EPOLL_CTL_ADD, wake_fd, &ev) == 0) {
			c->wake_fd = wake_fd;
		}
	}
	struct epoll_event ev[DP_SOCK_COUNT_ + 1];
	int n = epoll_wait(c->ep, ev, DP_SOCK_COUNT_ + 1, timeout_ms);
	bool woken = false;
	c->maybe = 0;
	for (int i = 0; i < n; i++) {
		if (ev[i].data.u32 == WAKE_TAG) {
			woken = true;
		} else {
			c->maybe |= 1u << ev[i].data.u32;
		}
	}
	if (n < 0) {
		c->maybe = ALL_SOCKS; /* EINTR: we know nothing, so read everything */
	}
	return woken;
}

const struct dp_io_ops dp_io_sock_ops = {
	.name = "sock",
	.open = sock_open,
	.close = sock_close,
	.local_addr = sock_local_addr,
	.rx_burst = sock_rx_burst,
	.tx_burst = sock_tx_burst,
	.wait = sock_wait,
};
