/* SPDX-License-Identifier: MIT */
/*
 * The overlay link layer (ctl_link.h): outgoing links keyed by peer address with bounded queues
 * and reconnects, receive-only inbound connections cut into frames, one epoll set, timers.
 *
 * How it works:
 *   - Peers live in a table of max_peers slots allocated at start (so a pointer to a slot stays
 *     valid memory whatever a callback does) and are found by address through a chained hash.
 *     Each slot has a generation, bumped when its connection closes and when it is freed; every
 *     epoll event carries the slot's index and generation (so an event of a closed connection
 *     never reaches its successor), and code that calls back into the user re-checks the
 *     generation before touching the slot again, since the callback may have closed the peer.
 *   - An outgoing link moves between IDLE (no connection), CONNECTING, UP, BACKOFF (waiting to
 *     reconnect, frames queued) and FAILED (a connect that failed inside ctl_link_send, reported
 *     from the next ctl_links_run so that no callback runs inside a send).
 *       send:      IDLE -> CONNECTING (or BACKOFF while the last failure's delay runs)
 *       handshake: CONNECTING -> UP (on_peer_up; failures reset only once a link stayed up for
 *                  backoff_max_ms, so a peer that accepts and drops at once still backs off)
 *       failure:   CONNECTING/UP -> BACKOFF (frames queued) or IDLE (none), on_peer_down once
 *                  per episode; the unsent rest of a partly-sent frame is dropped
 *       timer:     BACKOFF -> CONNECTING; CONNECTING past connect_timeout_ms fails -ETIMEDOUT;
 *                  UP with nothing queued for idle_timeout_ms -> IDLE (quietly)
 *       EOF:       UP with nothing queued -> IDLE quietly (the peer closed an idle link); with
 *                  frames queued it is a failure.
 *   - Timers are not kept sorted: each slot's deadline follows from its state, and a scan of the
 *     slots runs only when the earliest deadline (next_due_ms) has passed. A deadline that moves
 *     later (a link that was used) leaves next_due_ms early, which costs one scan, never a miss.
 *   - Epoll is level-triggered and each descriptor gets a few reads or writes per run, so one
 *     busy peer cannot starve the others or the control loop; what is left stays ready.
 *   - Back-pressure: a send that would pass max_queue_bytes (or max_total_bytes over all peers;
 *     three quarters of it for bulk frames) is refused with LC_EFULL and marks the peer blocked;
 *     at the end of every run, blocked peers whose queues are at or below low water (and the
 *     total at or below half its bound) get on_writable.
 *   - Traffic classes: a peer's bulk link is one more slot, keyed by the same address and the
 *     class; it lives exactly like a control link (connect, backoff, idle close) but its up and
 *     down are not reported: the overlay's liveness is the control link's alone.
 *
 * Listener and inbound connections are in ctl_link_in.c.
 */
#define _GNU_SOURCE
#include "control/ctl_link.h"
#include "control/ctl_json.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/lc_alloc.h"
#include "common/lc_error.h"
#include "common/lc_log.h"
#include "control/ctl_addr.h"
#include "control/ctl_link_internal.h"
#include "dht/lsp.h"

void ctl_link_cfg_defaults(struct ctl_link_cfg *cfg)
{
	*cfg = (struct ctl_link_cfg){
		.max_queue_bytes = 8u << 20,
		.low_water_bytes = 4u << 20,
		.max_total_bytes = 128u << 20,
		.max_frame = DHT_LSP_MAX_MSG,
		.max_peers = 1024,
		.max_inbound = 256,
		.connect_timeout_ms = 3000,
		.backoff_min_ms = 100,
		.backoff_max_ms = 5000,
		.idle_timeout_ms = 60000,
		.inbound_idle_ms = 180000,
		.sock = {.keepalive_idle_s = 2,
			 .keepalive_intvl_s = 1,
			 .keepalive_cnt = 3,
			 .user_timeout_ms = 5000},
	};
}

static bool cfg_ok(const struct ctl_link_cfg *c)
{
	return c->max_frame >= DHT_LSP_HDR_LEN && c->max_frame <= DHT_LSP_MAX_MSG &&
	       c->max_queue_bytes >= c->max_frame && c->low_water_bytes < c->max_queue_bytes &&
	       c->max_total_bytes >= c->max_queue_bytes && c->max_peers > 0 &&
	       c->max_peers <= CTL_LINK_MAX_SLOTS && c->max_inbound <= CTL_LINK_MAX_SLOTS &&
	       c->connect_timeout_ms > 0 && c->backoff_min_ms > 0 &&
	       c->backoff_max_ms >= c->backoff_min_ms;
}

/* ---- peer table ---- */

/* The link's identity: family, port, address and (IPv6) scope, and the class; IPv4-mapped IPv6
 * is IPv4. */
static int key_of(const struct sockaddr_storage *ss, enum ctl_link_class cls,
		  struct ctl_link_key *k)
{
	memset(k, 0, sizeof(*k));
	k->cls = (uint8_t)cls;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		k->family = AF_INET;
		k->port = ntohs(s4->sin_port);
		memcpy(k->addr, &s4->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		k->port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			k->family = AF_INET;
			memcpy(k->addr, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			k->family = AF_INET6;
			memcpy(k->addr, &s6->sin6_addr, 16);
			k->scope = s6->sin6_scope_id;
		}
	} else {
		return LC_EINVAL;
	}
	return k->port != 0 ? LC_OK : LC_EINVAL;
}

static void addr_of(const struct ctl_link_key *k, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (k->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(k->port);
		memcpy(&s4->sin_addr, k->addr, 4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(k->port);
		memcpy(&s6->sin6_addr, k->addr, 16);
		s6->sin6_scope_id = k->scope;
	}
}

static uint32_t key_hash(const struct ctl_link_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (size_t i = 0; i < sizeof(*k); i++) {
		h = (h ^ p[i]) * 0x100000001b3ull;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static struct ctl_link_peer *peer_find(const struct ctl_links *l, const struct ctl_link_key *k)
{
	for (uint32_t i = l->buckets[key_hash(k) & l->bucket_mask]; i != CTL_LINK_NONE;
	     i = l->peers[i].hnext) {
		if (memcmp(&l->peers[i].key, k, sizeof(*k)) == 0) {
			return &l->peers[i];
		}
	}
	return NULL;
}

static struct ctl_link_peer *peer_lookup(const struct ctl_links *l,
					 const struct sockaddr_storage *ss, enum ctl_link_class cls)
{
	struct ctl_link_key k;
	return key_of(ss, cls, &k) == LC_OK ? peer_find(l, &k) : NULL;
}

static uint64_t tag_of(const struct ctl_links *l, const struct ctl_link_peer *p)
{
	return ctl_link_tag(CTL_LINK_TAG_OUT, (uint32_t)(p - l->peers), p->gen);
}

int ctl_link_watch(struct ctl_links *l, const struct ctl_link_conn *c, uint64_t tag, uint32_t want,
		   uint32_t *cur)
{
	if (want == *cur) {
		return LC_OK;
	}
	if (want == 0) {
		ctl_link_unwatch(l, c, cur);
		return LC_OK;
	}
	struct epoll_event ev = {.events = want, .data.u64 = tag};
	if (epoll_ctl(l->epfd, *cur == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->fd, &ev) != 0) {
		return -errno;
	}
	*cur = want;
	return LC_OK;
}

void ctl_link_unwatch(struct ctl_links *l, const struct ctl_link_conn *c, uint32_t *cur)
{
	if (*cur != 0 && c->fd >= 0) {
		(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	}
	*cur = 0;
}

static void conn_close(struct ctl_links *l, struct ctl_link_peer *p)
{
	if (p->conn.authed && p->conn.fd >= 0 && l->cbs.on_link_auth != NULL) {
		(void)l->cbs.on_link_auth(l->cbs.arg, &p->conn, &p->addr, false);
	}
	ctl_link_unwatch(l, &p->conn, &p->events);
	l->ops->close(&p->conn);
	p->conn.fd = -1;
	p->gen++; /* events still queued for the old connection are stale now */
	if (p->state == CTL_LINK_UP) {
		l->st.peers_up--;
	}
}

/* Free slot @p p without callbacks: close, drop the queue, unlink. */
static void peer_free(struct ctl_links *l, struct ctl_link_peer *p)
{
	conn_close(l, p);
	l->st.dropped_closed += p->q.frames;
	l->total_bytes -= p->q.bytes;
	ctl_lq_clear(&p->q, &l->pool);
	if (p->blocked) {
		l->nblocked--;
	}
	uint32_t idx = (uint32_t)(p - l->peers);
	uint32_t *link = &l->buckets[key_hash(&p->key) & l->bucket_mask];
	while (*link != idx) {
		link = &l->peers[*link].hnext;
	}
	*link = p->hnext;
	p->in_use = false;
	p->gen++;
	l->free_peers[l->nfree_peers++] = idx;
}

/* Forget the least recently used peer with nothing queued, to make room. */
static bool peer_evict(struct ctl_links *l)
{
	struct ctl_link_peer *victim = NULL;
	for (uint32_t i = 0; i < l->cfg.max_peers; i++) {
		struct ctl_link_peer *p = &l->peers[i];
		/* links that never idle out (a secured node's carry datagram keys) are kept while
		 * up: a crowd of new peers must not close the links real members use */
		bool kept = l->cfg.idle_timeout_ms == 0 && p->state == CTL_LINK_UP;
		if (p->in_use && p->q.bytes == 0 && !p->blocked && !kept &&
		    (victim == NULL || p->last_used_ms < victim->last_used_ms)) {
			victim = p;
		}
	}
	if (victim == NULL) {
		return false;
	}
	peer_free(l, victim);
	l->st.peers_evicted++;
	return true;
}

static int peer_new(struct ctl_links *l, const struct ctl_link_key *k, struct ctl_link_peer **out)
{
	if (l->nfree_peers == 0 && !peer_evict(l)) {
		l->st.peers_refused++;
		return LC_EPEERS;
	}
	uint32_t idx = l->free_peers[--l->nfree_peers];
	struct ctl_link_peer *p = &l->peers[idx];
	uint32_t gen = p->gen;
	memset(p, 0, sizeof(*p));
	p->gen = gen;
	p->key = *k;
	addr_of(k, &p->addr);
	p->conn.fd = -1;
	p->state = CTL_LINK_IDLE;
	p->in_use = true;
	uint32_t *bucket = &l->buckets[key_hash(k) & l->bucket_mask];
	p->hnext = *bucket;
	*bucket = idx;
	*out = p;
	return LC_OK;
}

/* ---- outgoing links ---- */

static uint64_t rng_next(struct ctl_links *l)
{
	uint64_t x = l->rng; /* xorshift64* */
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	l->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Delay before reconnect attempt number @p failures: min * 2^(failures-1), capped, jittered
 * uniformly over [d/2, d] so peers that lost the same node do not reconnect in step. */
static uint64_t backoff_ms(struct ctl_links *l, uint32_t failures)
{
	uint64_t d = l->cfg.backoff_min_ms;
	for (uint32_t i = 1; i < failures && d < l->cfg.backoff_max_ms; i++) {
		d *= 2;
	}
	d = LC_MIN(d, (uint64_t)l->cfg.backoff_max_ms);
	uint64_t half = d / 2;
	return half + rng_next(l) % (d - half + 1);
}

static void start_connect(struct ctl_links *l, struct ctl_link_peer *p)
{
	l->st.connects++;
	p->conn.fd = -1;
	int ret = l->ops->connect(l->ops_arg, &p->conn, &p->addr, &l->cfg.sock);
	if (ret == LC_OK) {
		ret = ctl_link_watch(l, &p->conn, tag_of(l, p), EPOLLOUT, &p->events);
		if (ret != LC_OK) {
			l->ops->close(&p->conn);
		}
	}
	if (ret != LC_OK) {
		/* reported from the next run: no callback may run inside ctl_link_send */
		p->state = CTL_LINK_FAILED;
		p->pending_err = ret;
		ctl_link_arm(l, l->now_ms);
		return;
	}
	p->state = CTL_LINK_CONNECTING;
	ctl_link_arm(l, l->now_ms + l->cfg.connect_timeout_ms);
	p->deadline_ms = l->now_ms + l->cfg.connect_timeout_ms;
}

/* The connection of @p p broke or never came up: report, keep the queue, schedule a retry. */
static void link_fail(struct ctl_links *l, struct ctl_link_peer *p, int err)
{
	if (p->state == CTL_LINK_UP) {
		l->st.link_failures++;
		if (l->now_ms - p->up_since_ms >= l->cfg.backoff_max_ms) {
			p->failures = 0; /* it was a working link: start the backoff over */
		}
	} else {
		l->st.connect_failures++;
	}
	conn_close(l, p);
	size_t cut = ctl_lq_drop_partial(&p->q, &l->pool);
	if (cut > 0) {
		l->st.dropped_partial++;
		l->total_bytes -= cut;
	}
	p->failures = LC_MIN(p->failures + 1, 30u);
	p->fail_total++;
	p->retry_at_ms = l->now_ms + backoff_ms(l, p->failures);
	if (p->q.bytes > 0) {
		p->state = CTL_LINK_BACKOFF;
		p->deadline_ms = p->retry_at_ms;
		ctl_link_arm(l, p->deadline_ms);
	} else {
		p->state = CTL_LINK_IDLE;
	}
	if (p->down) {
		return;
	}
	p->down = true;
	l->st.peer_down++;
	char name[64];
	ctl_addr_format(&p->addr, name, sizeof(name));
	lc_debug("overlay %s link to %s down: %s", p->key.cls == CTL_LINK_BULK ? "bulk" : "control",
		 name, err > -1000 ? strerror(-err) : lc_strerror(err));
	if (l->cbs.on_peer_down != NULL && p->key.cls == CTL_LINK_CONTROL) {
		struct sockaddr_storage peer = p->addr;
		l->cbs.on_peer_down(l->cbs.arg, &peer, err);
	}
}

/* Close an established link on purpose (idle, or the peer closed it): no failure. */
static void link_quiet_close(struct ctl_links *l, struct ctl_link_peer *p, uint64_t *counter)
{
	if (l->now_ms - p->up_since_ms >= l->cfg.backoff_max_ms) {
		p->failures = 0;
	}
	conn_close(l, p);
	p->state = CTL_LINK_IDLE;
	(*counter)++;
}

static void out_events(struct ctl_links *l, struct ctl_link_peer *p)
{
	uint32_t want = EPOLLIN | (p->q.bytes > 0 ? EPOLLOUT : 0);
	if (ctl_link_watch(l, &p->conn, tag_of(l, p), want, &p->events) != LC_OK) {
		lc_warn("overlay link: epoll_ctl: %s", strerror(errno));
	}
}

/* Write from the queue until the socket is full, the queue is empty or the budget is spent. */
static void flush(struct ctl_links *l, struct ctl_link_peer *p)
{
	for (int round = 0; round < CTL_LINK_IO_ROUNDS && p->q.bytes > 0; round++) {
		struct iovec iov[CTL_LINK_WRITE_IOV];
		size_t want;
		int n = ctl_lq_iov(&p->q, iov, CTL_LINK_WRITE_IOV, CTL_LINK_WRITE_BYTES, &want);
		ssize_t w = l->ops->writev(&p->conn, iov, n);
		if (w == -EAGAIN) {
			break;
		}
		if (w < 0) {
			link_fail(l, p, (int)w);
			return;
		}
		unsigned frames = ctl_lq_consume(&p->q, &l->pool, (size_t)w);
		l->st.frames_out += frames;
		l->st.bytes_out += (size_t)w;
		p->frames_out += frames;
		l->total_bytes -= (size_t)w;
		p->last_io_ms = l->now_ms;
		if ((size_t)w < want) {
			break;
		}
	}
	out_events(l, p);
}

static void link_fail(struct ctl_links *l, struct ctl_link_peer *p, int err);

/* Whether the protocol layer admits the authenticated peer at this address. */
static bool auth_ok(struct ctl_links *l, struct ctl_link_peer *p)
{
	if (!p->conn.authed || l->cbs.on_link_auth == NULL) {
		return true;
	}
	struct sockaddr_storage peer = p->addr;
	return l->cbs.on_link_auth(l->cbs.arg, &p->conn, &peer, true);
}

static void link_up(struct ctl_links *l, struct ctl_link_peer *p)
{
	uint32_t gen0 = p->gen;
	if (!auth_ok(l, p)) {
		if (p->in_use && p->gen == gen0) {
			link_fail(l, p, -EACCES);
		}
		return;
	}
	p->state = CTL_LINK_UP;
	p->up_since_ms = l->now_ms;
	p->last_io_ms = l->now_ms;
	p->down = false;
	l->st.connected++;
	l->st.peers_up++;
	if (l->cfg.idle_timeout_ms > 0) {
		ctl_link_arm(l, l->now_ms + l->cfg.idle_timeout_ms);
	}
	out_events(l, p);
	if (l->cbs.on_peer_up != NULL && p->key.cls == CTL_LINK_CONTROL) {
		uint32_t gen = p->gen;
		struct sockaddr_storage peer = p->addr;
		l->cbs.on_peer_up(l->cbs.arg, &peer);
		if (!p->in_use || p->gen != gen || p->state != CTL_LINK_UP) {
			return;
		}
	}
	flush(l, p);
}

/* The peer sends nothing on our outgoing link: read only to see its end (or its error). */
static bool drain_unexpected(struct ctl_links *l, struct ctl_link_peer *p, uint32_t ev)
{
	for (int round = 0; round < CTL_LINK_IO_ROUNDS; round++) {
		ssize_t r = l->ops->read(&p->conn, l->scratch, sizeof(l->scratch));
		if (r > 0) {
			l->st.unexpected_bytes += (size_t)r;
			continue;
		}
		if (r == 0 && p->q.bytes == 0) {
			link_quiet_close(l, p, &l->st.closed_by_peer);
			return false;
		}
		if (r == -EAGAIN && round == 0 && (ev & (EPOLLERR | EPOLLHUP))) {
			r = -ECONNRESET; /* a dead socket that reads nothing: do not spin on it */
		}
		if (r == -EAGAIN) {
			return true;
		}
		link_fail(l, p, r == 0 ? -ECONNRESET : (int)r);
		return false;
	}
	return true;
}

static void out_event(struct ctl_links *l, uint32_t idx, uint32_t gen, uint32_t ev)
{
	struct ctl_link_peer *p = &l->peers[idx];
	if (!p->in_use || p->gen != gen || p->conn.fd < 0) {
		return; /* stale: the slot was closed earlier in this batch */
	}
	if (p->state == CTL_LINK_CONNECTING) {
		uint32_t want = 0;
		int ret = l->ops->handshake(&p->conn, &want);
		if (ret == -EAGAIN) {
			ret = ctl_link_watch(l, &p->conn, tag_of(l, p), want, &p->events);
			if (ret != LC_OK) {
				link_fail(l, p, ret);
			}
		} else if (ret != LC_OK) {
			link_fail(l, p, ret);
		} else {
			link_up(l, p);
		}
		return;
	}
	if (p->state != CTL_LINK_UP) {
		return;
	}
	if ((ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) && !drain_unexpected(l, p, ev)) {
		return;
	}
	if (ev & EPOLLOUT) {
		flush(l, p);
	}
}

/* ---- timers ---- */

void ctl_link_arm(struct ctl_links *l, uint64_t due_ms)
{
	l->next_due_ms = LC_MIN(l->next_due_ms, due_ms);
}

static void peer_timer(struct ctl_links *l, struct ctl_link_peer *p)
{
	uint64_t now = l->now_ms;
	switch (p->state) {
	case CTL_LINK_FAILED:
		link_fail(l, p, p->pending_err);
		break;
	case CTL_LINK_CONNECTING:
		if (now >= p->deadline_ms) {
			link_fail(l, p, -ETIMEDOUT);
		} else {
			ctl_link_arm(l, p->deadline_ms);
		}
		break;
	case CTL_LINK_BACKOFF:
		if (now >= p->deadline_ms) {
			start_connect(l, p);
		} else {
			ctl_link_arm(l, p->deadline_ms);
		}
		break;
	case CTL_LINK_UP:
		if (l->cfg.idle_timeout_ms == 0) {
			break;
		}
		if (p->q.bytes == 0 && now - p->last_io_ms >= l->cfg.idle_timeout_ms) {
			link_quiet_close(l, p, &l->st.idle_closed);
		} else {
			ctl_link_arm(l, p->last_io_ms + l->cfg.idle_timeout_ms);
		}
		break;
	case CTL_LINK_IDLE:
		break;
	}
}

/* Scan every slot; re-arms next_due_ms with the earliest deadline still ahead. Callbacks may
 * add or free peers: a freed slot is skipped, a new one is looked at if it comes later. */
static void run_timers(struct ctl_links *l)
{
	l->next_due_ms = UINT64_MAX;
	for (uint32_t i = 0; i < l->cfg.max_peers; i++) {
		if (l->peers[i].in_use) {
			peer_timer(l, &l->peers[i]);
		}
	}
	ctl_link_in_timers(l);
}

int ctl_links_next_timeout_ms(const struct ctl_links *l, uint64_t now_ms)
{
	if (l->next_due_ms == UINT64_MAX) {
		return -1;
	}
	if (l->next_due_ms <= now_ms) {
		return 0;
	}
	return (int)LC_MIN(l->next_due_ms - now_ms, (uint64_t)INT_MAX);
}

/* ---- back-pressure ---- */

static void notify_writable(struct ctl_links *l)
{
	if (l->nblocked == 0 || l->total_bytes > l->cfg.max_total_bytes / 2) {
		return;
	}
	for (uint32_t i = 0; i < l->cfg.max_peers && l->nblocked > 0; i++) {
		struct ctl_link_peer *p = &l->peers[i];
		if (!p->in_use || !p->blocked || p->q.bytes > l->cfg.low_water_bytes) {
			continue;
		}
		p->blocked = false;
		l->nblocked--;
		if (l->cbs.on_writable != NULL) {
			struct sockaddr_storage peer = p->addr;
			l->cbs.on_writable(l->cbs.arg, &peer);
		}
	}
}

/* ---- API ---- */

/* The slot of @p peer's link of class @p cls, made when new, marked used now.
 * @return LC_OK, LC_EINVAL (bad address), LC_EPEERS, LC_ENOMEM. */
static int peer_get(struct ctl_links *l, const struct sockaddr_storage *peer,
		    enum ctl_link_class cls, struct ctl_link_peer **out)
{
	struct ctl_link_key k;
	if (key_of(peer, cls, &k) != LC_OK) {
		return LC_EINVAL;
	}
	struct ctl_link_peer *p = peer_find(l, &k);
	if (p == NULL) {
		int ret = peer_new(l, &k, &p);
		if (ret != LC_OK) {
			return ret;
		}
	}
	p->last_used_ms = l->now_ms;
	*out = p;
	return LC_OK;
}

/* An IDLE link has something to do: connect now, or after the last failure's backoff. */
static void wake(struct ctl_links *l, struct ctl_link_peer *p)
{
	if (l->now_ms >= p->retry_at_ms) {
		start_connect(l, p);
	} else {
		p->state = CTL_LINK_BACKOFF;
		p->deadline_ms = p->retry_at_ms;
		ctl_link_arm(l, p->deadline_ms);
	}
}

static int send_class(struct ctl_links *l, const struct sockaddr_storage *peer,
		      enum ctl_link_class cls, const void *frame, size_t len)
{
	size_t need = 0;
	if (len > l->cfg.max_frame) {
		l->st.send_bad++;
		return LC_ETOOLONG;
	}
	if (dht_lsp_frame_len(frame, len, &need) != LC_OK || need != len) {
		l->st.send_bad++;
		return LC_EMALFORMED;
	}
	struct ctl_link_peer *p;
	int ret = peer_get(l, peer, cls, &p);
	if (ret != LC_OK) {
		l->st.send_bad += ret == LC_EINVAL;
		return ret;
	}
	/* bulk frames leave a quarter of the total to control frames */
	size_t total_max = cls == CTL_LINK_BULK
				   ? l->cfg.max_total_bytes - l->cfg.max_total_bytes / 4
				   : l->cfg.max_total_bytes;
	if (p->q.bytes + len > l->cfg.max_queue_bytes || l->total_bytes + len > total_max) {
		if (!p->blocked) {
			p->blocked = true;
			l->nblocked++;
		}
		l->st.send_full++;
		return LC_EFULL;
	}
	ret = ctl_lq_push(&p->q, &l->pool, frame, len);
	if (ret != LC_OK) {
		return ret;
	}
	l->total_bytes += len;
	if (p->blocked) {
		p->blocked = false; /* sending again: it no longer waits for on_writable */
		l->nblocked--;
	}
	if (p->state == CTL_LINK_IDLE) {
		wake(l, p);
	} else if (p->state == CTL_LINK_UP && !(p->events & EPOLLOUT)) {
		out_events(l, p);
	}
	return LC_OK;
}

int ctl_link_connect(struct ctl_links *l, const struct sockaddr_storage *peer)
{
	struct ctl_link_peer *p;
	int ret = peer_get(l, peer, CTL_LINK_CONTROL, &p);
	if (ret == LC_OK && p->state == CTL_LINK_IDLE) {
		wake(l, p);
	}
	return ret;
}

int ctl_link_send(struct ctl_links *l, const struct sockaddr_storage *peer, const void *frame,
		  size_t len)
{
	return send_class(l, peer, CTL_LINK_CONTROL, frame, len);
}

int ctl_link_send_bulk(struct ctl_links *l, const struct sockaddr_storage *peer, const void *frame,
		       size_t len)
{
	return send_class(l, peer, CTL_LINK_BULK, frame, len);
}

size_t ctl_link_queued(const struct ctl_links *l, const struct sockaddr_storage *peer)
{
	const struct ctl_link_peer *p = peer_lookup(l, peer, CTL_LINK_CONTROL);
	return p != NULL ? p->q.bytes : 0;
}

size_t ctl_link_queued_bulk(const struct ctl_links *l, const struct sockaddr_storage *peer)
{
	const struct ctl_link_peer *p = peer_lookup(l, peer, CTL_LINK_BULK);
	return p != NULL ? p->q.bytes : 0;
}

bool ctl_link_is_up(const struct ctl_links *l, const struct sockaddr_storage *peer)
{
	const struct ctl_link_peer *p = peer_lookup(l, peer, CTL_LINK_CONTROL);
	return p != NULL && p->state == CTL_LINK_UP;
}

void ctl_link_close_bulk(struct ctl_links *l, const struct sockaddr_storage *peer)
{
	struct ctl_link_peer *p = peer_lookup(l, peer, CTL_LINK_BULK);
	if (p != NULL) {
		peer_free(l, p);
	}
}

void ctl_link_close(struct ctl_links *l, const struct sockaddr_storage *peer)
{
	struct ctl_link_peer *p = peer_lookup(l, peer, CTL_LINK_CONTROL);
	if (p != NULL) {
		peer_free(l, p);
	}
	ctl_link_close_bulk(l, peer);
}

void ctl_links_run(struct ctl_links *l, uint64_t now_ms)
{
	l->now_ms = now_ms;
	struct epoll_event ev[CTL_LINK_RUN_EVENTS];
	int n = epoll_wait(l->epfd, ev, CTL_LINK_RUN_EVENTS, 0);
	for (int i = 0; i < n; i++) {
		uint64_t tag = ev[i].data.u64;
		uint32_t idx = (uint32_t)(tag >> 32) & 0xffffffu, gen = (uint32_t)tag;
		switch ((enum ctl_link_tag_kind)(tag >> 56)) {
		case CTL_LINK_TAG_LISTEN:
			ctl_link_accept(l);
			break;
		case CTL_LINK_TAG_OUT:
			out_event(l, idx, gen, ev[i].events);
			break;
		case CTL_LINK_TAG_IN:
			ctl_link_in_event(l, idx, gen, ev[i].events);
			break;
		default:
			break;
		}
	}
	if (now_ms >= l->next_due_ms) {
		run_timers(l);
	}
	notify_writable(l);
}

bool ctl_links_frame_peer(const struct ctl_links *l, dht_id_t *id)
{
	if (l->cur_in == NULL || !l->cur_in->conn.authed) {
		return false;
	}
	*id = l->cur_in->conn.peer_id;
	return true;
}

void ctl_links_recheck(struct ctl_links *l)
{
	if (l->ops->recheck == NULL) {
		return;
	}
	for (uint32_t i = 0; i < l->cfg.max_peers; i++) {
		struct ctl_link_peer *p = &l->peers[i];
		if (p->in_use && p->state == CTL_LINK_UP &&
		    !l->ops->recheck(l->ops_arg, &p->conn)) {
			link_fail(l, p, -EACCES);
		}
	}
	ctl_link_in_recheck(l);
}

int ctl_links_fd(const struct ctl_links *l)
{
	return l->epfd;
}

static int alloc_tables(struct ctl_links *l)
{
	uint32_t nb = 1;
	while (nb < 2 * l->cfg.max_peers) {
		nb <<= 1;
	}
	l->peers = lc_calloc(l->cfg.max_peers, sizeof(*l->peers));
	l->free_peers = lc_calloc(l->cfg.max_peers, sizeof(*l->free_peers));
	l->buckets = lc_calloc(nb, sizeof(*l->buckets));
	if (l->peers == NULL || l->free_peers == NULL || l->buckets == NULL ||
	    ctl_link_in_alloc(l) != LC_OK) {
		return LC_ENOMEM;
	}
	l->bucket_mask = nb - 1;
	memset(l->buckets, 0xff, nb * sizeof(*l->buckets)); /* CTL_LINK_NONE */
	for (uint32_t i = 0; i < l->cfg.max_peers; i++) {
		l->peers[i].conn.fd = -1;
		l->free_peers[i] = l->cfg.max_peers - 1 - i;
	}
	l->nfree_peers = l->cfg.max_peers;
	return LC_OK;
}

int ctl_links_new(struct ctl_links **out, const struct ctl_link_cfg *cfg,
		  const struct sockaddr_storage *listen_addr, const struct ctl_link_ops *ops,
		  void *ops_arg, const struct ctl_link_cbs *cbs)
{
	struct ctl_link_cfg defaults;
	if (cfg == NULL) {
		ctl_link_cfg_defaults(&defaults);
		cfg = &defaults;
	}
	if (!cfg_ok(cfg) || ops == NULL || cbs == NULL || cbs->on_frame == NULL) {
		return LC_EINVAL;
	}
	int ret = LC_ENOMEM;
	struct ctl_links *l = lc_calloc(1, sizeof(*l));
	if (l == NULL) {
		return LC_ENOMEM;
	}
	l->cfg = *cfg;
	l->ops = ops;
	l->ops_arg = ops_arg;
	l->cbs = *cbs;
	l->epfd = -1;
	l->lfd = -1;
	l->next_due_ms = UINT64_MAX;
	l->pool.max_free = CTL_LINK_POOL_SPARE;
	l->rng = cfg->seed;
	if (l->rng == 0 && getrandom(&l->rng, sizeof(l->rng), 0) != sizeof(l->rng)) {
		l->rng = (uint64_t)(uintptr_t)l ^ 0x9e3779b97f4a7c15ull;
	}
	l->rng |= 1; /* xorshift must not start at 0 */
	ret = alloc_tables(l);
	if (ret != LC_OK) {
		goto fail;
	}
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		ret = -errno;
		goto fail;
	}
	if (listen_addr != NULL) {
		ret = ctl_link_listen(l, listen_addr);
		if (ret != LC_OK) {
			goto fail;
		}
	}
	*out = l;
	return LC_OK;
fail:
	ctl_links_free(l);
	return ret;
}

void ctl_links_free(struct ctl_links *l)
{
	if (l == NULL) {
		return;
	}
	for (uint32_t i = 0; l->peers != NULL && i < l->cfg.max_peers; i++) {
		if (l->peers[i].in_use) {
			peer_free(l, &l->peers[i]);
		}
	}
	ctl_link_in_free(l);
	ctl_lq_pool_drain(&l->pool);
	if (l->epfd >= 0) {
		close(l->epfd);
	}
	lc_free(l->peers);
	lc_free(l->free_peers);
	lc_free(l->buckets);
	lc_free(l);
}

/* ---- statistics ---- */

void ctl_links_stats_get(const struct ctl_links *l, struct ctl_link_stats *out)
{
	*out = l->st;
	out->peers = l->cfg.max_peers - l->nfree_peers;
	out->inbound = ctl_link_in_count(l);
	out->queued_bytes = l->total_bytes;
}

int ctl_links_local_addr(const struct ctl_links *l, struct sockaddr_storage *out)
{
	if (l->lfd < 0) {
		return LC_ENOTFOUND;
	}
	*out = l->laddr;
	return LC_OK;
}

static const char *state_name(enum ctl_link_state s)
{
	static const char *const names[] = {
		[CTL_LINK_IDLE] = "idle",     [CTL_LINK_CONNECTING] = "connecting",
		[CTL_LINK_UP] = "up",	      [CTL_LINK_BACKOFF] = "backoff",
		[CTL_LINK_FAILED] = "failed",
	};
	return names[s];
}

/* The counters of struct ctl_link_stats, in the order the JSON lists them. */
#define CTL_LINK_COUNTERS(X)                                                                       \
	X(frames_out)                                                                              \
	X(bytes_out)                                                                               \
	X(frames_in)                                                                               \
	X(bytes_in)                                                                                \
	X(send_full)                                                                               \
	X(send_bad)                                                                                \
	X(dropped_partial)                                                                         \
	X(dropped_closed)                                                                          \
	X(connects)                                                                                \
	X(connected)                                                                               \
	X(connect_failures)                                                                        \
	X(link_failures)                                                                           \
	X(peer_down)                                                                               \
	X(closed_by_peer)                                                                          \
	X(idle_closed)                                                                             \
	X(unexpected_bytes)                                                                        \
	X(peers_evicted)                                                                           \
	X(peers_refused)                                                                           \
	X(inbound_accepted)                                                                        \
	X(inbound_refused)                                                                         \
	X(inbound_bad)                                                                             \
	X(inbound_closed)                                                                          \
	X(inbound_idle_closed)

size_t ctl_links_stats_json(const struct ctl_links *l, char *buf, size_t cap)
{
	if (cap == 0) {
		return 0;
	}
	struct ctl_link_stats st;
	ctl_links_stats_get(l, &st);
	struct ctl_json o = {.buf = buf, .cap = cap};
	ctl_json_put(&o, "{\"transport\":\"%s\",\"peers\":%u,\"peers_up\":%u,\"inbound\":%u,",
		     l->ops->name, st.peers, st.peers_up, st.inbound);
	ctl_json_put(&o, "\"queued_bytes\":%llu", (unsigned long long)st.queued_bytes);
#define CTL_LINK_PUT(name) ctl_json_put(&o, ",\"" #name "\":%llu", (unsigned long long)st.name);
	CTL_LINK_COUNTERS(CTL_LINK_PUT)
#undef CTL_LINK_PUT
	ctl_json_put(&o, ",\"links\":[");
	bool first = true;
	for (uint32_t i = 0; i < l->cfg.max_peers; i++) {
		const struct ctl_link_peer *p = &l->peers[i];
		if (!p->in_use) {
			continue;
		}
		char name[64];
		ctl_addr_format(&p->addr, name, sizeof(name));
		ctl_json_put(&o, "%s{\"peer\":\"%s\",%s\"state\":\"%s\",\"queued_bytes\":%zu,",
			     first ? "" : ",", name,
			     p->key.cls == CTL_LINK_BULK ? "\"class\":\"bulk\"," : "",
			     state_name(p->state), p->q.bytes);
		ctl_json_put(&o, "\"queued_frames\":%u,\"frames_out\":%llu,\"failures\":%u}",
			     p->q.frames, (unsigned long long)p->frames_out, p->fail_total);
		first = false;
	}
	ctl_json_put(&o, "]}");
	return o.overflow ? 0 : o.len;
}
