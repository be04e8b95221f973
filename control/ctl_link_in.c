/* SPDX-License-Identifier: MIT */
/*
 * The receiving side of the overlay links: the TCP listener on the node's LSP address and the
 * inbound connections, which only ever read. Bytes are cut into frames by their LSP header
 * (dht_lsp_frame_len()) and each whole frame goes to on_frame straight from the connection's
 * buffer. A connection that sends a bad magic or a frame longer than max_frame is closed; the
 * peer's own link layer will reconnect if it was a real node with a passing fault.
 *
 * Bounds: at most max_inbound connections (one more is accepted and closed at once, so the
 * backlog does not fill with connections nobody reads), each with one buffer of max_frame bytes
 * rounded up; a connection silent for inbound_idle_ms is closed, so a sender that opened a slot
 * and stalled in the middle of a frame cannot hold it forever. When accept fails for lack of
 * descriptors or memory, the listener rests CTL_LINK_LISTEN_PAUSE_MS instead of spinning on a
 * level-triggered event it cannot clear.
 *
 * Pausing (ctl_links_pause_inbound) stops reading only the connections the protocol layer marked
 * bulk (ctl_links_mark_bulk, from on_frame): a sender keeps its bulk frames on a connection of
 * their own, so its control frames, on another connection, are read even while its bulk is held
 * back by TCP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/lc_alloc.h"
#include "common/lc_error.h"
#include "common/lc_log.h"
#include "control/ctl_addr.h"
#include "control/ctl_link_internal.h"
#include "dht/lsp.h"

int ctl_link_in_alloc(struct ctl_links *l)
{
	l->rbuf_cap = (l->cfg.max_frame + 4095) & ~(size_t)4095;
	if (l->cfg.max_inbound == 0) {
		return LC_OK; /* a node that only sends */
	}
	l->in = lc_calloc(l->cfg.max_inbound, sizeof(*l->in));
	l->free_in = lc_calloc(l->cfg.max_inbound, sizeof(*l->free_in));
	if (l->in == NULL || l->free_in == NULL) {
		return LC_ENOMEM;
	}
	for (uint32_t i = 0; i < l->cfg.max_inbound; i++) {
		l->in[i].conn.fd = -1;
		l->free_in[i] = l->cfg.max_inbound - 1 - i;
	}
	l->nfree_in = l->cfg.max_inbound;
	return LC_OK;
}

static void in_close(struct ctl_links *l, struct ctl_link_in *in, uint64_t *counter)
{
	if (in->conn.authed && l->cbs.on_link_auth != NULL) {
		(void)l->cbs.on_link_auth(l->cbs.arg, &in->conn, NULL, false);
	}
	ctl_link_unwatch(l, &in->conn, &in->events);
	l->ops->close(&in->conn);
	in->conn.fd = -1;
	lc_free(in->buf);
	in->buf = NULL;
	in->len = 0;
	in->in_use = false;
	in->gen++;
	l->free_in[l->nfree_in++] = (uint32_t)(in - l->in);
	if (counter != NULL) {
		(*counter)++;
	}
}

void ctl_link_in_free(struct ctl_links *l)
{
	for (uint32_t i = 0; l->in != NULL && i < l->cfg.max_inbound; i++) {
		if (l->in[i].in_use) {
			in_close(l, &l->in[i], NULL);
		}
	}
	if (l->lfd >= 0) {
		close(l->lfd);
		l->lfd = -1;
	}
	lc_free(l->in);
	lc_free(l->free_in);
	l->in = NULL;
	l->free_in = NULL;
}

uint32_t ctl_link_in_count(const struct ctl_links *l)
{
	return l->cfg.max_inbound - l->nfree_in;
}

int ctl_link_listen(struct ctl_links *l, const struct sockaddr_storage *addr)
{
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	int one = 1;
	int rcvbuf = l->cfg.sock.rcvbuf_bytes; /* accepted sockets inherit it, window scale too */
	socklen_t len = sizeof(l->laddr);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (addr->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
	    (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0) ||
	    bind(fd, (const struct sockaddr *)addr, ctl_addr_len(addr)) != 0 ||
	    listen(fd, 128) != 0 || getsockname(fd, (struct sockaddr *)&l->laddr, &len) != 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	struct ctl_link_conn lc = {.fd = fd};
	int ret = ctl_link_watch(l, &lc, ctl_link_tag(CTL_LINK_TAG_LISTEN, 0, 0), EPOLLIN,
				 &l->lfd_events);
	if (ret != LC_OK) {
		close(fd);
		return ret;
	}
	l->lfd = fd;
	return LC_OK;
}

/* Set up the watch after a handshake step. @return false when the connection was closed. */
static bool in_handshake(struct ctl_links *l, struct ctl_link_in *in)
{
	uint32_t want = 0;
	uint64_t tag = ctl_link_tag(CTL_LINK_TAG_IN, (uint32_t)(in - l->in), in->gen);
	int ret = l->ops->handshake(&in->conn, &want);
	if (ret == LC_OK) {
		in->ready = true;
		want = EPOLLIN; /* not marked bulk yet: read even while paused */
		if (in->conn.authed && l->cbs.on_link_auth != NULL) {
			(void)l->cbs.on_link_auth(l->cbs.arg, &in->conn, NULL, true);
		}
	} else if (ret != -EAGAIN) {
		in_close(l, in, &l->st.inbound_closed);
		return false;
	}
	if (ctl_link_watch(l, &in->conn, tag, want, &in->events) != LC_OK) {
		in_close(l, in, &l->st.inbound_closed);
		return false;
	}
	return true;
}

static void in_open(struct ctl_links *l, int fd, const struct sockaddr_storage *from)
{
	uint32_t idx = l->free_in[--l->nfree_in];
	struct ctl_link_in *in = &l->in[idx];
	in->buf = lc_alloc(l->rbuf_cap);
	int ret = in->buf != NULL ? l->ops->accept(l->ops_arg, &in->conn, fd, &l->cfg.sock)
				  : LC_ENOMEM;
	if (ret != LC_OK) {
		if (in->buf == NULL) {
			close(fd); /* accept was not called: the descriptor is still ours */
		}
		lc_free(in->buf);
		in->buf = NULL;
		in->conn.fd = -1;
		l->free_in[l->nfree_in++] = idx;
		l->st.inbound_refused++;
		return;
	}
	in->from = *from;
	in->len = 0;
	in->last_rx_ms = l->now_ms;
	in->opened_ms = l->now_ms;
	ctl_link_arm(l, l->now_ms + l->cfg.connect_timeout_ms);
	in->events = 0;
	in->ready = false;
	in->bulk = false;
	in->pending = false;
	in->in_use = true;
	l->st.inbound_accepted++;
	if (l->cfg.inbound_idle_ms > 0) {
		ctl_link_arm(l, l->now_ms + l->cfg.inbound_idle_ms);
	}
	(void)in_handshake(l, in);
}

static void listen_pause(struct ctl_links *l, int err)
{
	struct ctl_link_conn lc = {.fd = l->lfd};
	ctl_link_unwatch(l, &lc, &l->lfd_events);
	l->listen_resume_ms = l->now_ms + CTL_LINK_LISTEN_PAUSE_MS;
	ctl_link_arm(l, l->listen_resume_ms);
	lc_warn("overlay links: accept: %s; listener paused %u ms", strerror(err),
		CTL_LINK_LISTEN_PAUSE_MS);
}

void ctl_link_accept(struct ctl_links *l)
{
	for (int k = 0; k < CTL_LINK_ACCEPT_BUDGET; k++) {
		struct sockaddr_storage from;
		socklen_t len = sizeof(from);
		memset(&from, 0, sizeof(from));
		int fd = accept4(l->lfd, (struct sockaddr *)&from, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) {
				continue; /* that one connection is gone; others may wait */
			}
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				listen_pause(l, errno);
			}
			return; /* EAGAIN: the backlog is empty */
		}
		if (l->nfree_in == 0) {
			close(fd);
			l->st.inbound_refused++;
			continue;
		}
		in_open(l, fd, &from);
	}
}

/* Deliver every whole frame in the buffer and keep the partial rest at its start.
 * @return false on a frame that is not LSP or is too long: the connection must close. */
static bool cut_frames(struct ctl_links *l, struct ctl_link_in *in)
{
	size_t off = 0;
	while (in->len - off >= DHT_LSP_HDR_LEN) {
		size_t need = 0;
		if (dht_lsp_frame_len(in->buf + off, in->len - off, &need) != LC_OK ||
		    need > l->cfg.max_frame) {
			return false;
		}
		if (need > in->len - off) {
			break; /* need <= max_frame <= rbuf_cap: the rest will fit */
		}
		l->st.frames_in++;
		l->st.bytes_in += need;
		l->cur_in = in;
		l->cbs.on_frame(l->cbs.arg, in->buf + off, need, &in->from);
		l->cur_in = NULL;
		off += need;
	}
	if (off > 0) {
		memmove(in->buf, in->buf + off, in->len - off);
		in->len -= (uint32_t)off;
	}
	return true;
}

void ctl_link_in_event(struct ctl_links *l, uint32_t idx, uint32_t gen, uint32_t events)
{
	struct ctl_link_in *in = &l->in[idx];
	if (!in->in_use || in->gen != gen) {
		return;
	}
	if (!in->ready && (!in_handshake(l, in) || !in->ready)) {
		return;
	}
	for (int round = 0; round < CTL_LINK_IO_ROUNDS; round++) {
		size_t room = l->rbuf_cap - in->len;
		ssize_t r = l->ops->read(&in->conn, in->buf + in->len, room);
		if (r == -EAGAIN && (round > 0 || !(events & (EPOLLERR | EPOLLHUP)))) {
			return;
		}
		if (r <= 0) {
			in_close(l, in, &l->st.inbound_closed);
			return;
		}
		in->len += (uint32_t)r;
		in->last_rx_ms = l->now_ms;
		if (!cut_frames(l, in)) {
			char name[64];
			ctl_addr_format(&in->from, name, sizeof(name));
			lc_debug("overlay link from %s: not an LSP frame or too long; closed",
				 name);
			in_close(l, in, &l->st.inbound_bad);
			return;
		}
		if (l->in_paused && in->bulk) {
			/* marked or paused by a frame just delivered: read no more of it */
			uint64_t tag = ctl_link_tag(CTL_LINK_TAG_IN, idx, in->gen);
			if (ctl_link_watch(l, &in->conn, tag, 0, &in->events) != LC_OK) {
				in_close(l, in, &l->st.inbound_closed);
				return;
			}
			in->pending = l->ops->pending != NULL && l->ops->pending(&in->conn);
			return;
		}
		bool held = l->ops->pending != NULL && l->ops->pending(&in->conn);
		if ((size_t)r < room && !held) {
			return; /* the socket is drained */
		}
	}
	if (l->ops->pending != NULL && l->ops->pending(&in->conn)) {
		/* out of rounds with bytes inside the transport, which epoll cannot see */
		in->pending = true;
		ctl_link_arm(l, l->now_ms);
	}
}

void ctl_link_in_recheck(struct ctl_links *l)
{
	for (uint32_t i = 0; l->in != NULL && i < l->cfg.max_inbound; i++) {
		struct ctl_link_in *in = &l->in[i];
		if (in->in_use && in->ready && !l->ops->recheck(l->ops_arg, &in->conn)) {
			in_close(l, in, &l->st.inbound_closed);
		}
	}
}

void ctl_link_in_timers(struct ctl_links *l)
{
	if (l->lfd >= 0 && l->lfd_events == 0) {
		struct ctl_link_conn lc = {.fd = l->lfd};
		if (l->now_ms >= l->listen_resume_ms &&
		    ctl_link_watch(l, &lc, ctl_link_tag(CTL_LINK_TAG_LISTEN, 0, 0), EPOLLIN,
				   &l->lfd_events) != LC_OK) {
			l->listen_resume_ms = l->now_ms + CTL_LINK_LISTEN_PAUSE_MS;
		}
		if (l->lfd_events == 0) {
			ctl_link_arm(l, l->listen_resume_ms);
		}
	}
	for (uint32_t i = 0; i < l->cfg.max_inbound; i++) {
		struct ctl_link_in *in = &l->in[i];
		if (!in->in_use) {
			continue;
		}
		if (in->pending && !(l->in_paused && in->bulk)) {
			in->pending = false;
			ctl_link_in_event(l, i, in->gen, EPOLLIN);
			if (!in->in_use) {
				continue;
			}
		}
		if (!in->ready) {
			/* a peer that connects and never finishes its handshake (or sends nothing
			 * to a TLS listener) must not hold a slot */
			if (l->now_ms - in->opened_ms >= l->cfg.connect_timeout_ms) {
				in_close(l, in, &l->st.inbound_bad);
				continue;
			}
			ctl_link_arm(l, in->opened_ms + l->cfg.connect_timeout_ms);
		}
		if (l->cfg.inbound_idle_ms == 0 ||
		    (in->conn.authed && l->cfg.keep_authed_inbound)) {
			continue;
		}
		if (l->now_ms - in->last_rx_ms >= l->cfg.inbound_idle_ms) {
			in_close(l, in, &l->st.inbound_idle_closed);
		} else {
			ctl_link_arm(l, in->last_rx_ms + l->cfg.inbound_idle_ms);
		}
	}
}

void ctl_links_mark_bulk(struct ctl_links *l)
{
	if (l->cur_in != NULL) {
		l->cur_in->bulk = true; /* ctl_link_in_event stops reading it if paused */
	}
}

void ctl_links_pause_inbound(struct ctl_links *l, bool paused)
{
	if (l->in_paused == paused) {
		return;
	}
	l->in_paused = paused;
	for (uint32_t i = 0; i < l->cfg.max_inbound; i++) {
		struct ctl_link_in *in = &l->in[i];
		/* the connection being read right now is handled by ctl_link_in_event when its
		 * frames are delivered: closing it here would free the buffer being cut */
		if (!in->in_use || !in->ready || !in->bulk || in == l->cur_in) {
			continue;
		}
		uint64_t tag = ctl_link_tag(CTL_LINK_TAG_IN, i, in->gen);
		if (ctl_link_watch(l, &in->conn, tag, paused ? 0 : EPOLLIN, &in->events) != LC_OK) {
			in_close(l, in, &l->st.inbound_closed);
		} else if (!paused && in->pending) {
			ctl_link_arm(
				l,
				l->now_ms); /* bytes inside the transport: the timers read them */
		}
	}
}
