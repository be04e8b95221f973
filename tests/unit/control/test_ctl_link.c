/* SPDX-License-Identifier: MIT */
/*
 * The overlay links on real sockets in one process: instances of ctl_links on 127.0.0.1 (and
 * ::1 when usable) driven together in a loop. Frames arrive in order and intact (many, large,
 * split across reads); a reader that does not read fills the queue to its bound (LC_EFULL) and
 * on_writable fires once it drains; a peer that goes away and comes back on the same port gets
 * the frames queued meanwhile, after one on_peer_down and bounded backoff; a connection broken
 * in the middle of a frame drops that frame only; garbage closes its own connection only;
 * inbound and peer limits hold; idle links close quietly; a peer's bulk link is a connection of its
 * own, so control frames flow while the receiver holds its bulk back.
 *
 * Every wait is a loop of at most N rounds with short poll timeouts; nothing asserts timing.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/lc_error.h"
#include "common/lc_log.h"
#include "control/ctl_addr.h"
#include "control/ctl_link.h"
#include "dht/lsp.h"
#include "tests/tap.h"

#define MAX_SEQS 8192

/* One ctl_links instance and what its callbacks saw. */
struct node {
	struct ctl_links *l;
	struct sockaddr_storage addr; /* its listen address */
	uint32_t seqs[MAX_SEQS];      /* sequence numbers of the frames received, in order */
	unsigned got, bad;
	unsigned ups, downs, writable;
	int last_down;
	bool pause_bulk;   /* on_frame: a bulk frame (type 2) marks its connection and pauses */
	unsigned bulk_got; /* frames of type 2 received */
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* An LSP frame of @p len bytes (>= 24) whose content follows from @p seq. */
static void make_frame(uint8_t *f, size_t len, uint32_t seq)
{
	size_t body = len - DHT_LSP_HDR_LEN;
	memset(f, 0, DHT_LSP_HDR_LEN);
	f[0] = 0x4c;
	f[1] = 0x53;
	f[2] = 1;
	f[3] = 1;
	f[6] = (uint8_t)(body >> 8);
	f[7] = (uint8_t)body;
	memcpy(f + 8, &seq, sizeof(seq));
	for (size_t i = DHT_LSP_HDR_LEN; i < len; i++) {
		f[i] = (uint8_t)(seq * 131 + i);
	}
}

/* The frame's sequence number, or -1 when a byte is not what make_frame wrote. */
static long frame_seq(const uint8_t *f, size_t len)
{
	uint32_t seq;
	memcpy(&seq, f + 8, sizeof(seq));
	if (len < DHT_LSP_HDR_LEN || f[0] != 0x4c || f[1] != 0x53 ||
	    ((size_t)f[6] << 8 | f[7]) != len - DHT_LSP_HDR_LEN) {
		return -1;
	}
	for (size_t i = DHT_LSP_HDR_LEN; i < len; i++) {
		if (f[i] != (uint8_t)(seq * 131 + i)) {
			return -1;
		}
	}
	return seq;
}

static void on_frame(void *arg, const void *frame, size_t len, const struct sockaddr_storage *from)
{
	struct node *n = arg;
	(void)from;
	long seq = frame_seq(frame, len);
	if (seq < 0) {
		n->bad++;
		return;
	}
	if (n->got < MAX_SEQS) {
		n->seqs[n->got] = (uint32_t)seq;
	}
	n->got++;
	if (((const uint8_t *)frame)[3] == 2) {
		n->bulk_got++;
		ctl_links_mark_bulk(n->l);
		if (n->pause_bulk) {
			ctl_links_pause_inbound(n->l, true);
		}
	}
}

static void on_up(void *arg, const struct sockaddr_storage *peer)
{
	(void)peer;
	((struct node *)arg)->ups++;
}

static void on_down(void *arg, const struct sockaddr_storage *peer, int reason)
{
	struct node *n = arg;
	(void)peer;
	n->downs++;
	n->last_down = reason;
}

static void on_writable(void *arg, const struct sockaddr_storage *peer)
{
	(void)peer;
	((struct node *)arg)->writable++;
}

static struct ctl_link_cfg test_cfg(void)
{
	struct ctl_link_cfg cfg;
	ctl_link_cfg_defaults(&cfg);
	cfg.backoff_min_ms = 10;
	cfg.backoff_max_ms = 200;
	cfg.seed = 7;
	return cfg;
}

/* Start @p n listening on @p addr_text (port 0: any). @return LC_OK or the error. */
static int node_start(struct node *n, const struct ctl_link_cfg *cfg, const char *addr_text)
{
	struct sockaddr_storage ss;
	if (ctl_addr_parse(addr_text, &ss) != LC_OK) {
		return LC_EINVAL;
	}
	memset(n, 0, sizeof(*n));
	struct ctl_link_cbs cbs = {on_frame, on_up, on_down, on_writable, NULL, n};
	int ret = ctl_links_new(&n->l, cfg, &ss, &ctl_link_tcp_ops, NULL, &cbs);
	if (ret == LC_OK) {
		ret = ctl_links_local_addr(n->l, &n->addr);
	}
	return ret;
}

static void node_stop(struct node *n)
{
	ctl_links_free(n->l);
	n->l = NULL;
}

static struct ctl_link_stats stats(const struct node *n)
{
	struct ctl_link_stats st;
	ctl_links_stats_get(n->l, &st);
	return st;
}

/* One round: poll every live node's fd (at most 10 ms, less when a timer is due), run each. */
static void round_once(struct node **nodes, int count)
{
	struct pollfd pfd[8];
	int timeout = 10, np = 0;
	uint64_t now = now_ms();
	for (int i = 0; i < count; i++) {
		if (nodes[i]->l == NULL) {
			continue;
		}
		pfd[np++] = (struct pollfd){.fd = ctl_links_fd(nodes[i]->l), .events = POLLIN};
		int t = ctl_links_next_timeout_ms(nodes[i]->l, now);
		if (t >= 0 && t < timeout) {
			timeout = t;
		}
	}
	(void)poll(pfd, (nfds_t)np, timeout);
	now = now_ms();
	for (int i = 0; i < count; i++) {
		if (nodes[i]->l != NULL) {
			ctl_links_run(nodes[i]->l, now);
		}
	}
}

/* Run rounds until @p cond holds, at most @p rounds of them. @return whether it held. */
#define PUMP(nodes, cond, rounds)                                                                  \
	({                                                                                         \
		bool held_ = false;                                                                \
		for (int r_ = 0; r_ < (rounds); r_++) {                                            \
			if (cond) {                                                                \
				held_ = true;                                                      \
				break;                                                             \
			}                                                                          \
			round_once((nodes), (int)LC_ARRAY_SIZE(nodes));                            \
		}                                                                                  \
		held_ || (cond);                                                                   \
	})

static int send_frame(struct node *from, const struct node *to, size_t len, uint32_t seq)
{
	static uint8_t f[DHT_LSP_MAX_MSG];
	make_frame(f, len, seq);
	return ctl_link_send(from->l, &to->addr, f, len);
}

/* A frame of type 2 (the receivers' on_frame takes it for bulk) on the bulk link. */
static int send_bulk(struct node *from, const struct node *to, size_t len, uint32_t seq)
{
	static uint8_t f[DHT_LSP_MAX_MSG];
	make_frame(f, len, seq);
	f[3] = 2;
	return ctl_link_send_bulk(from->l, &to->addr, f, len);
}

static bool seqs_are(const struct node *n, uint32_t first, unsigned count)
{
	if (n->got != count) {
		return false;
	}
	for (unsigned i = 0; i < count && i < MAX_SEQS; i++) {
		if (n->seqs[i] != first + i) {
			return false;
		}
	}
	return true;
}

/* A blocking client socket connected to @p n, for raw bytes. */
static int raw_connect(const struct node *n)
{
	int fd = socket(n->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 &&
	    connect(fd, (const struct sockaddr *)&n->addr, ctl_addr_len(&n->addr)) != 0) {
		close(fd);
		return -1;
	}
	struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Whether the node closed raw socket @p fd (EOF or reset, not a timeout). */
static bool raw_closed(int fd)
{
	char c;
	ssize_t r = recv(fd, &c, 1, MSG_DONTWAIT);
	return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static void test_delivery(void)
{
	struct ctl_link_cfg cfg = test_cfg();
	struct node a, b;
	struct node *both[] = {&a, &b};
	ok(node_start(&a, &cfg, "127.0.0.1:0") == LC_OK &&
		   node_start(&b, &cfg, "127.0.0.1:0") == LC_OK,
	   "two instances listen on 127.0.0.1");
	is_int(send_frame(&a, &b, 100, 0), LC_OK, "send one frame");
	ok(PUMP(both, b.got == 1, 500) && seqs_are(&b, 0, 1) && b.bad == 0, "it arrives intact");
	ok(a.ups == 1 && a.downs == 0 && ctl_link_is_up(a.l, &b.addr), "on_peer_up once, link up");

	srand(1);
	unsigned sent = 1, refused = 0;
	for (unsigned i = 0; i < 2000; i++, sent++) {
		size_t len = i % 100 == 0 ? 60000 : DHT_LSP_HDR_LEN + (size_t)(rand() % 3000);
		refused += send_frame(&a, &b, len, sent) != LC_OK;
	}
	is_int(refused, 0, "2000 more frames queued, 20 of them 60 KB");
	bool all = PUMP(both, b.got == sent, 3000);
	ok(all, "all %u arrive (got %u)", sent, b.got);
	ok(seqs_are(&b, 0, sent) && b.bad == 0, "in order and intact");
	struct ctl_link_stats sa = stats(&a), sb = stats(&b);
	ok(sa.frames_out == sent && sb.frames_in == sent && sa.bytes_out == sb.bytes_in,
	   "counters agree: %llu frames out, %llu in", (unsigned long long)sa.frames_out,
	   (unsigned long long)sb.frames_in);
	ok(sa.queued_bytes == 0 && ctl_link_queued(a.l, &b.addr) == 0, "nothing left queued");

	/* b answers a over its own outgoing link */
	is_int(send_frame(&b, &a, 50, 7), LC_OK, "the answer goes on b's own link to a");
	ok(PUMP(both, a.got == 1, 500) && a.seqs[0] == 7, "and arrives");
	sb = stats(&b);
	ok(sb.inbound == 1 && stats(&a).inbound == 1, "one inbound connection each way");

	char json[4096];
	size_t jl = ctl_links_stats_json(a.l, json, sizeof(json));
	char peer[64], want[128];
	ctl_addr_format(&b.addr, peer, sizeof(peer));
	snprintf(want, sizeof(want), "{\"peer\":\"%s\",\"state\":\"up\"", peer);
	ok(jl > 0 && strstr(json, "\"frames_out\":") != NULL && strstr(json, want) != NULL &&
		   json[jl - 1] == '}',
	   "stats JSON lists counters and the peer: %.60s...", json);
	is_int(ctl_links_stats_json(a.l, json, 16), 0, "a buffer too small gives 0");
	node_stop(&a);
	node_stop(&b);
}

static void test_split_reads(void)
{
	struct ctl_link_cfg cfg = test_cfg();
	struct node b;
	struct node *one[] = {&b};
	ok(node_start(&b, &cfg, "127.0.0.1:0") == LC_OK, "receiver up");
	int fd = raw_connect(&b);
	static uint8_t f[3 * 5000];
	make_frame(f, 5000, 0);
	make_frame(f + 5000, 5000, 1);
	make_frame(f + 10000, 5000, 2);
	/* the first frame in pieces: 1 byte, the rest of the header, then 7 uneven pieces */
	size_t cuts[] = {1, 24, 100, 101, 1000, 2500, 4999, 5000};
	size_t at = 0;
	bool early = false;
	for (size_t i = 0; i < LC_ARRAY_SIZE(cuts); i++) {
		ok(fd >= 0 && write(fd, f + at, cuts[i] - at) == (ssize_t)(cuts[i] - at),
		   "write bytes %zu..%zu", at, cuts[i]);
		at = cuts[i];
		(void)PUMP(one, false, 3);
		early |= at < 5000 && b.got > 0;
	}
	ok(!early && b.got == 1 && b.seqs[0] == 0 && b.bad == 0,
	   "a frame split over 8 reads arrives once, whole");
	/* the second whole and half the third in one write, then the rest */
	ok(write(fd, f + 5000, 7500) == 7500, "one write: a frame and a half");
	ok(PUMP(one, b.got == 2, 300) && b.seqs[1] == 1, "the whole one arrives");
	(void)PUMP(one, false, 3);
	is_int(b.got, 2, "the half waits");
	ok(write(fd, f + 12500, 2500) == 2500 && PUMP(one, b.got == 3, 300) && seqs_are(&b, 0, 3),
	   "the rest completes it");
	close(fd);
	node_stop(&b);
}

static void test_garbage(void)
{
	struct ctl_link_cfg cfg = test_cfg();
	struct ctl_link_cfg small = cfg;
	small.max_frame = 1000;
	struct node a, b, c;
	struct node *all[] = {&a, &b, &c};
	ok(node_start(&a, &cfg, "127.0.0.1:0") == LC_OK &&
		   node_start(&b, &cfg, "127.0.0.1:0") == LC_OK &&
		   node_start(&c, &small, "127.0.0.1:0") == LC_OK,
	   "three instances, one with max_frame 1000");
	is_int(send_frame(&a, &b, 64, 0), LC_OK, "a real link a -> b");
	ok(PUMP(all, b.got == 1, 500), "delivered");

	uint8_t junk[DHT_LSP_HDR_LEN];
	make_frame(junk, sizeof(junk), 99);
	junk[0] = 'G'; /* "GET ..." on the overlay port */
	int fd = raw_connect(&b);
	ok(fd >= 0 && write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk), "bad magic sent");
	ok(PUMP(all, stats(&b).inbound_bad == 1 && raw_closed(fd), 500),
	   "bad magic: that connection is closed and counted");
	close(fd);

	make_frame(junk, sizeof(junk), 99);
	junk[6] = 0xff; /* body length 65535: over DHT_LSP_MAX_BODY */
	junk[7] = 0xff;
	fd = raw_connect(&b);
	ok(fd >= 0 && write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk), "huge length sent");
	ok(PUMP(all, stats(&b).inbound_bad == 2 && raw_closed(fd), 500),
	   "huge length: closed and counted");
	close(fd);

	static uint8_t f[2000];
	make_frame(f, sizeof(f), 5);
	fd = raw_connect(&c);
	ok(fd >= 0 && write(fd, f, sizeof(f)) == (ssize_t)sizeof(f), "2000 B to a 1000 B reader");
	ok(PUMP(all, stats(&c).inbound_bad == 1 && raw_closed(fd), 500) && c.got == 0,
	   "over max_frame: closed unread");
	close(fd);

	is_int(send_frame(&a, &b, 64, 1), LC_OK, "the real link still works");
	ok(PUMP(all, b.got == 2, 500) && seqs_are(&b, 0, 2), "its frame arrives");
	ok(a.downs == 0 && a.ups == 1 && b.bad == 0, "the real link never went down");
	node_stop(&a);
	node_stop(&b);
	node_stop(&c);
}

static void test_inbound_limit_and_idle(void)
{
	struct ctl_link_cfg cfg = test_cfg();
	cfg.max_inbound = 2;
	cfg.inbound_idle_ms = 100;
	struct node d;
	struct node *one[] = {&d};
	ok(node_start(&d, &cfg, "127.0.0.1:0") == LC_OK, "receiver with max_inbound 2");
	int fds[3];
	for (int i = 0; i < 3; i++) {
		fds[i] = raw_connect(&d);
	}
	ok(PUMP(one, stats(&d).inbound_accepted + stats(&d).inbound_refused == 3, 500),
	   "three connections seen");
	struct ctl_link_stats st = stats(&d);
	ok(st.inbound_accepted == 2 && st.inbound_refused == 1 && st.inbound == 2,
	   "two kept, one refused (%llu, %llu, %u)", (unsigned long long)st.inbound_accepted,
	   (unsigned long long)st.inbound_refused, st.inbound);
	ok(PUMP(one, stats(&d).inbound_idle_closed == 2, 500) && stats(&d).inbound == 0,
	   "silent connections are closed after inbound_idle_ms");
	for (int i = 0; i < 3; i++) {
		close(fds[i]);
	}
	node_stop(&d);
}

static void test_backpressure(void)
{
	struct ctl_link_cfg cfg = test_cfg();
	cfg.max_queue_bytes = 256 << 10;
	cfg.low_water_bytes = 64 << 10;
	cfg.sock.sndbuf_bytes = 16 << 10;
	cfg.sock.rcvbuf_bytes = 16 << 10;
	struct node s, r;
	struct node *sender[] = {&s};
	struct node *both[] = {&s, &r};
	ok(node_start(&s, &cfg, "127.0.0.1:0") == LC_OK &&
		   node_start(&r, &cfg, "127.0.0.1:0") == LC_OK,
	   "sender, and a receiver that is not run for now");
	const size_t len = 8192;
	unsigned sent = 0;
	int ret = LC_OK;
	for (int i = 0; i < 100000 && ret == LC_OK; i++) {
		ret = send_frame(&s, &r, len, sent);
		if (ret == LC_OK) {
			sent++;
			round_once(sender, 1);
		}
	}
	is_int(ret, LC_EFULL, "sending to a peer that does not read ends in LC_EFULL");
	size_t q = ctl_link_queued(s.l, &r.addr);
	ok(q <= cfg.max_queue_bytes && q + len > cfg.max_queue_bytes,
	   "the queue stops at its bound: %zu bytes queued, %u frames sent", q, sent);
	ok(ctl_link_is_up(s.l, &r.addr), "the link itself is up (the kernel accepted it)");
	(void)PUMP(sender, false, 5);
	ok(s.writable == 0 && send_frame(&s, &r, len, sent) == LC_EFULL,
	   "still full while nobody reads, no on_writable");
	struct ctl_link_stats st = stats(&s);
	ok(st.send_full == 2 && st.queued_bytes == q, "refusals counted, nothing extra queued");

	ok(PUMP(both, s.writable == 1, 1000), "the reader drains: on_writable fires");
	ok(ctl_link_queued(s.l, &r.addr) <= cfg.low_water_bytes, "at or below low water then");
	bool all = PUMP(both, r.got == sent, 1000);
	ok(all && seqs_are(&r, 0, sent), "every accepted frame arrives in order (%u)", r.got);
	is_int(s.writable, 1, "on_writable fired once");
	node_stop(&s);
	node_stop(&r);
}

/* Two peers that do not read: the second hits the bound over all peers before its own. */
static void test_total_bound(void)
{
	struct ctl_link_cfg cfg = test_cfg();
	cfg.max_queue_bytes = 128 << 10;
	cfg.low_water_bytes = 32 << 10;
	cfg.max_total_bytes = 192 << 10;
	cfg.sock.sndbuf_bytes = 16 << 10;
	cfg.sock.rcvbuf_bytes = 16 << 10;
	struct node s, r1, r2;
	struct node *sender[] = {&s};
	struct node *all[] = {&s, &r1, &r2};
	ok(node_start(&s, &cfg, "127.0.0.1:0") == LC_OK &&
		   node_start(&r1, &cfg, "127.0.0.1:0") == LC_OK &&
		   node_start(&r2, &cfg, "127.0.0.1:0") == LC_OK,
	   "a sender and two receivers that are not run for now");
	const size_t len = 8192;
	unsigned sent[2] = {0, 0};
	int ret[2] = {LC_OK, LC_OK};
	struct node *to[2] = {&r1, &r2};
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < 100000 && ret[k] == LC_OK; i++) {
			ret[k] = send_frame(&s, to[k], len, sent[k]);
			if (ret[k] == LC_OK) {
				sent[k]++;
				round_once(sender, 1);
			}
		}
	}
	ok(ret[0] == LC_EFULL && ret[1] == LC_EFULL, "both end in LC_EFULL");
	size_t q1 = ctl_link_queued(s.l, &r1.addr), q2 = ctl_link_queued(s.l, &r2.addr);
	struct ctl_link_stats st = stats(&s);
	ok(q1 + len > cfg.max_queue_bytes && q2 + len <= cfg.max_queue_bytes &&
		   st.queued_bytes == q1 + q2 && st.queued_bytes + len > cfg.max_total_bytes,
	   "the first at its own bound (%zu), the second at the total bound (%zu)", q1, q2);
	bool drained = PUMP(all, s.writable == 2, 1000);
	ok(drained, "both get on_writable once the readers drain (%u)", s.writable);
	drained = PUMP(all, r1.got == sent[0] && r2.got == sent[1], 1000);
	ok(drained && seqs_are(&r1, 0, sent[0]) && seqs_are(&r2, 0, sent[1]),
	   "and every accepted frame arrives (%u, %u)", r1.got, r2.got);
	node_stop(&s);
	node_stop(&r1);
	node_stop(&r2);
}

/* Whether the frames with seq < 100000 (the bulk ones here) arrived as 0, 1, ..., count - 1. */
static bool bulk_in_order(const struct node *n, unsigned count)
{
	unsigned k = 0;
	for (unsigned i = 0; i < n->got && i < MAX_SEQS; i++) {
		if (n->seqs[i] < 100000 && n->seqs[i] != k++) {
			return false;
		}
	}
	return k == count;
}

/* A receiver that holds its bulk back (paused, TCP full) still reads control frames at once. */
static void test_classes(void)
{
	struct ctl_link_cfg cfg = test_cfg();
	cfg.max_queue_bytes = 256 << 10;
	cfg.low_water_bytes = 64 << 10;
	cfg.sock.sndbuf_bytes = 16 << 10;
	cfg.sock.rcvbuf_bytes = 16 << 10;
	struct node s, r;
	struct node *both[] = {&s, &r};
	ok(node_start(&s, &cfg, "127.0.0.1:0") == LC_OK &&
		   node_start(&r, &cfg, "127.0.0.1:0") == LC_OK,
	   "sender and receiver; the receiver pauses at its first bulk frame");
	r.pause_bulk = true;
	unsigned nbulk = 0;
	ok(send_bulk(&s, &r, 8192, nbulk++) == LC_OK && PUMP(both, r.bulk_got == 1, 500),
	   "a bulk frame arrives: the receiver marks that connection and pauses");
	int ret = LC_OK;
	for (int i = 0; i < 100000 && ret == LC_OK; i++) {
		ret = send_bulk(&s, &r, 8192, nbulk);
		if (ret == LC_OK) {
			nbulk++;
			round_once(both, 2);
		}
	}
	ok(ret == LC_EFULL && ctl_link_queued_bulk(s.l, &r.addr) + 8192 > cfg.max_queue_bytes,
	   "bulk frames fill the bulk queue to its bound (%u sent)", nbulk);
	ok(ctl_link_queued(s.l, &r.addr) == 0 && !ctl_link_is_up(s.l, &r.addr) && s.ups == 0,
	   "the control link is not the bulk one: unused so far, no on_peer_up for bulk");
	unsigned bulk_before = r.bulk_got;
	for (uint32_t i = 0; i < 50; i++) {
		ret |= send_frame(&s, &r, 200, 100000 + i);
	}
	is_int(ret & ~LC_EFULL, 0, "50 control frames queued meanwhile");
	ok(PUMP(both, r.got - r.bulk_got == 50, 500), "all 50 arrive while the bulk is held back");
	ok(r.bulk_got == bulk_before && ctl_link_queued_bulk(s.l, &r.addr) > 0,
	   "no bulk frame was read meanwhile (%u of %u)", r.bulk_got, nbulk);
	ok(s.ups == 1 && s.downs == 0 && ctl_link_is_up(s.l, &r.addr), "the control link is up");
	char json[4096];
	ok(ctl_links_stats_json(s.l, json, sizeof(json)) > 0 &&
		   strstr(json, "\"class\":\"bulk\"") != NULL,
	   "the stats JSON tells the bulk link apart");

	r.pause_bulk = false;
	ctl_links_pause_inbound(r.l, false);
	ok(PUMP(both, r.bulk_got == nbulk, 2000) && bulk_in_order(&r, nbulk) && r.bad == 0,
	   "resumed: every bulk frame arrives, in order (%u)", r.bulk_got);

	/* a transfer given up: its queued frames are dropped, the control link stays */
	r.pause_bulk = true;
	ok(send_bulk(&s, &r, 8192, nbulk++) == LC_OK && PUMP(both, r.bulk_got == nbulk, 500),
	   "paused again");
	for (int i = 0; i < 40; i++) {
		(void)send_bulk(&s, &r, 8192, 200000);
	}
	uint64_t dropped = stats(&s).dropped_closed;
	ctl_link_close_bulk(s.l, &r.addr);
	ok(ctl_link_queued_bulk(s.l, &r.addr) == 0 && stats(&s).dropped_closed > dropped &&
		   ctl_link_is_up(s.l, &r.addr),
	   "ctl_link_close_bulk drops the bulk queue; the control link stays up");
	ok(send_frame(&s, &r, 200, 100050) == LC_OK && PUMP(both, r.got - r.bulk_got == 51, 500),
	   "and still delivers");
	node_stop(&s);
	node_stop(&r);
}

static void test_reconnect(void)
{
	struct ctl_link_cfg cfg = test_cfg();
	cfg.connect_timeout_ms = cfg.backoff_max_ms; /* so every timer is a backoff-sized one */
	struct node s, r;
	struct node *both[] = {&s, &r};
	struct node *sender[] = {&s};
	ok(node_start(&s, &cfg, "127.0.0.1:0") == LC_OK &&
		   node_start(&r, &cfg, "127.0.0.1:0") == LC_OK,
	   "sender and receiver");
	char where[64];
	ctl_addr_format(&r.addr, where, sizeof(where));
	is_int(send_frame(&s, &r, 200, 0), LC_OK, "send");
	ok(PUMP(both, r.got == 1, 500), "delivered");

	node_stop(&r);
	ok(PUMP(sender, !ctl_link_is_up(s.l, &r.addr), 500), "the receiver goes away: link closes");
	ok(stats(&s).closed_by_peer == 1 && s.downs == 0,
	   "a close with nothing queued is quiet (no on_peer_down)");
	unsigned refused = 0;
	for (uint32_t i = 1; i <= 10; i++) {
		refused += send_frame(&s, &r, 1000, i) != LC_OK;
	}
	is_int(refused, 0, "10 frames queued while it is away");
	int max_wait = 0;
	bool held = false;
	for (int i = 0; i < 1000 && !held; i++) {
		round_once(sender, 1);
		int t = ctl_links_next_timeout_ms(s.l, now_ms());
		max_wait = t > max_wait ? t : max_wait;
		held = stats(&s).connect_failures >= 4;
	}
	ok(held, "reconnects keep failing (%llu attempts)",
	   (unsigned long long)stats(&s).connect_failures);
	ok(s.downs == 1 && s.last_down == -ECONNREFUSED,
	   "on_peer_down once for the episode, -ECONNREFUSED (%d, %d)", s.downs, s.last_down);
	ok(max_wait <= (int)cfg.backoff_max_ms, "backoff bounded: longest wait %d ms <= %u",
	   max_wait, cfg.backoff_max_ms);
	is_int(ctl_link_queued(s.l, &r.addr), 10 * 1000, "the queue is kept");

	struct ctl_link_cbs cbs = {on_frame, on_up, on_down, on_writable, NULL, &r};
	struct sockaddr_storage same = r.addr;
	memset(r.seqs, 0, sizeof(r.seqs));
	r.got = 0;
	ok(ctl_links_new(&r.l, &cfg, &same, &ctl_link_tcp_ops, NULL, &cbs) == LC_OK,
	   "the receiver comes back on %s", where);
	ok(PUMP(both, r.got == 10, 1000) && seqs_are(&r, 1, 10),
	   "the queued frames arrive in order");
	ok(s.ups == 2 && s.downs == 1 && ctl_link_is_up(s.l, &r.addr), "on_peer_up again");
	ok(stats(&s).dropped_partial == 0 && stats(&s).peer_down == 1, "nothing dropped");
	node_stop(&s);
	node_stop(&r);
}

/* A transport that is TCP, except that writes can be made to stop after a byte budget and then
 * fail: a connection that breaks in the middle of a frame. */
static size_t flaky_budget;
static bool flaky_armed;

static ssize_t flaky_writev(struct ctl_link_conn *c, const struct iovec *iov, int iovcnt)
{
	if (!flaky_armed) {
		return ctl_link_tcp_ops.writev(c, iov, iovcnt);
	}
	if (flaky_budget == 0) {
		flaky_armed = false;
		return -ECONNRESET;
	}
	struct iovec cut[64];
	size_t left = flaky_budget;
	int n = 0;
	for (int i = 0; i < iovcnt && i < 64 && left > 0; i++) {
		cut[n] = iov[i];
		cut[n].iov_len = iov[i].iov_len < left ? iov[i].iov_len : left;
		left -= cut[n++].iov_len;
	}
	ssize_t w = ctl_link_tcp_ops.writev(c, cut, n);
	if (w > 0) {
		flaky_budget -= (size_t)w;
	}
	return w;
}

static void test_partial_drop(void)
{
	struct ctl_link_ops flaky = ctl_link_tcp_ops;
	flaky.name = "flaky";
	flaky.writev = flaky_writev;
	struct ctl_link_cfg cfg = test_cfg();
	struct node s, r;
	struct node *both[] = {&s, &r};
	struct sockaddr_storage any;
	ok(ctl_addr_parse("127.0.0.1:0", &any) == LC_OK, "parse");
	memset(&s, 0, sizeof(s));
	struct ctl_link_cbs cbs = {on_frame, on_up, on_down, on_writable, NULL, &s};
	ok(ctl_links_new(&s.l, &cfg, &any, &flaky, NULL, &cbs) == LC_OK &&
		   node_start(&r, &cfg, "127.0.0.1:0") == LC_OK,
	   "a sender on a flaky transport");
	is_int(send_frame(&s, &r, 2024, 0), LC_OK, "send");
	ok(PUMP(both, r.got == 1, 500), "delivered");

	flaky_budget = 2024 + 1000; /* frame 1 whole, then 1000 bytes of frame 2, then a reset */
	flaky_armed = true;
	unsigned refused = 0;
	for (uint32_t i = 1; i <= 4; i++) {
		refused += send_frame(&s, &r, 2024, i) != LC_OK;
	}
	is_int(refused, 0, "four frames queued");
	bool all = PUMP(both, r.got == 4, 1000);
	ok(all, "frames arrive after the break (%u)", r.got);
	ok(r.seqs[0] == 0 && r.seqs[1] == 1 && r.seqs[2] == 3 && r.seqs[3] == 4 && r.bad == 0,
	   "1 before the break, 3 and 4 after it; 2 was cut and dropped, never sent half");
	struct ctl_link_stats st = stats(&s);
	ok(st.dropped_partial == 1 && st.link_failures == 1 && s.downs == 1 && s.ups == 2,
	   "counted: one partial drop, one failure, down once, up again");
	is_int(s.last_down, -ECONNRESET, "reason -ECONNRESET");
	node_stop(&s);
	node_stop(&r);
}

static void test_idle_close(void)
{
	struct ctl_link_cfg cfg = test_cfg();
	cfg.idle_timeout_ms = 50;
	struct node s, r;
	struct node *both[] = {&s, &r};
	ok(node_start(&s, &cfg, "127.0.0.1:0") == LC_OK &&
		   node_start(&r, &cfg, "127.0.0.1:0") == LC_OK,
	   "sender with idle_timeout_ms 50");
	is_int(send_frame(&s, &r, 100, 0), LC_OK, "send");
	ok(PUMP(both, stats(&s).idle_closed == 1, 500) && !ctl_link_is_up(s.l, &r.addr),
	   "the idle link closes");
	ok(PUMP(both, stats(&r).inbound == 0, 500), "the receiver sees its end");
	is_int(send_frame(&s, &r, 100, 1), LC_OK, "send again");
	ok(PUMP(both, r.got == 2, 500) && seqs_are(&r, 0, 2), "it reconnects and delivers");
	ok(s.downs == 0 && s.ups == 2, "no on_peer_down for an idle close");
	node_stop(&s);
	node_stop(&r);
}

/* A port on 127.0.0.1 where nothing listens (refuses connections). */
static void dead_port(struct sockaddr_storage *ss)
{
	if (ctl_addr_parse("127.0.0.1:0", ss) != LC_OK) {
		return;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof(*ss);
	if (fd >= 0 && bind(fd, (struct sockaddr *)ss, ctl_addr_len(ss)) == 0) {
		(void)getsockname(fd, (struct sockaddr *)ss, &len);
	}
	close(fd);
}

static void test_limits(void)
{
	struct ctl_link_cfg cfg = test_cfg();
	cfg.max_peers = 2;
	cfg.max_frame = 1000;
	struct node s;
	memset(&s, 0, sizeof(s));
	struct ctl_link_cbs cbs = {on_frame, on_up, on_down, on_writable, NULL, &s};
	ok(ctl_links_new(&s.l, &cfg, NULL, &ctl_link_tcp_ops, NULL, &cbs) == LC_OK,
	   "a send-only instance with max_peers 2, max_frame 1000");
	struct sockaddr_storage none;
	ok(ctl_links_local_addr(s.l, &none) == LC_ENOTFOUND, "it has no listener");

	struct node p[3];
	for (int i = 0; i < 3; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		dead_port(&p[i].addr);
	}
	static uint8_t f[2000];
	make_frame(f, 100, 0);
	is_int(ctl_link_send(s.l, &p[0].addr, f, 99), LC_EMALFORMED, "length disagrees: refused");
	f[0] = 0;
	is_int(ctl_link_send(s.l, &p[0].addr, f, 100), LC_EMALFORMED, "bad magic: refused");
	make_frame(f, 2000, 0);
	is_int(ctl_link_send(s.l, &p[0].addr, f, 2000), LC_ETOOLONG, "over max_frame: refused");
	struct sockaddr_storage bad;
	ok(ctl_addr_parse("127.0.0.1:0", &bad) == LC_OK, "parse");
	is_int(send_frame(&s, &(struct node){.addr = bad}, 100, 0), LC_EINVAL, "port 0: refused");

	ok(send_frame(&s, &p[0], 100, 0) == LC_OK && send_frame(&s, &p[1], 100, 0) == LC_OK,
	   "two peers with frames queued (nobody listens there)");
	is_int(send_frame(&s, &p[2], 100, 0), LC_EPEERS, "a third peer: LC_EPEERS");
	ctl_link_close(s.l, &p[0].addr);
	ok(ctl_link_queued(s.l, &p[0].addr) == 0 && stats(&s).dropped_closed == 1,
	   "ctl_link_close forgets a peer and drops its frame");
	is_int(send_frame(&s, &p[2], 100, 0), LC_OK, "now the third fits");
	struct sockaddr_storage mapped;
	char text[64];
	snprintf(text, sizeof(text), "[::ffff:127.0.0.1]:%u", ctl_addr_port(&p[2].addr));
	ok(ctl_addr_parse(text, &mapped) == LC_OK && ctl_link_queued(s.l, &mapped) == 100,
	   "an IPv4-mapped IPv6 address names the same peer");
	struct ctl_link_stats st = stats(&s);
	ok(st.send_bad == 4 && st.peers_refused == 1 && st.peers == 2, "refusals counted");
	node_stop(&s);
}

static void test_eviction(void)
{
	struct ctl_link_cfg cfg = test_cfg();
	cfg.max_peers = 2;
	struct node s, r;
	struct node *both[] = {&s, &r};
	ok(node_start(&s, &cfg, "127.0.0.1:0") == LC_OK &&
		   node_start(&r, &cfg, "127.0.0.1:0") == LC_OK,
	   "a sender with max_peers 2");
	is_int(send_frame(&s, &r, 100, 0), LC_OK, "send to a live peer");
	ok(PUMP(both, r.got == 1 && ctl_link_queued(s.l, &r.addr) == 0, 500), "delivered");
	struct node p[2];
	for (int i = 0; i < 2; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		dead_port(&p[i].addr);
	}
	is_int(send_frame(&s, &p[0], 100, 0), LC_OK, "a second peer, its frame stays queued");
	is_int(send_frame(&s, &p[1], 100, 0), LC_OK, "a third: the idle one makes room");
	struct ctl_link_stats st = stats(&s);
	ok(st.peers_evicted == 1 && st.peers == 2 && !ctl_link_is_up(s.l, &r.addr),
	   "the idle peer was forgotten");
	ok(ctl_link_queued(s.l, &p[0].addr) == 100 && ctl_link_queued(s.l, &p[1].addr) == 100,
	   "the queued frames were not");
	node_stop(&s);
	node_stop(&r);
}

static void test_ipv6(void)
{
	struct ctl_link_cfg cfg = test_cfg();
	struct node a, b;
	struct node *both[] = {&a, &b};
	int ret = node_start(&b, &cfg, "[::1]:0");
	if (ret != LC_OK) {
		char reason[128];
		snprintf(reason, sizeof(reason), "IPv6 loopback ::1 not usable: %s",
			 strerror(-ret));
		for (int i = 0; i < 3; i++) {
			skip(reason);
		}
		printf("# skipped: %s\n", reason);
		return;
	}
	ok(node_start(&a, &cfg, "[::1]:0") == LC_OK, "two instances on [::1]");
	is_int(send_frame(&a, &b, 30000, 3), LC_OK, "send over IPv6");
	ok(PUMP(both, b.got == 1, 500) && seqs_are(&b, 3, 1), "delivered intact");
	node_stop(&a);
	node_stop(&b);
}

int main(void)
{
	lc_log_set_level(LC_LOG_WARN);
	test_delivery();
	test_split_reads();
	test_garbage();
	test_inbound_limit_and_idle();
	test_backpressure();
	test_total_bound();
	test_classes();
	test_reconnect();
	test_partial_drop();
	test_idle_close();
	test_limits();
	test_eviction();
	test_ipv6();

	struct node n;
	memset(&n, 0, sizeof(n));
	struct ctl_link_cfg cfg = test_cfg();
	struct sockaddr_storage taken;
	ok(node_start(&n, &cfg, "127.0.0.1:0") == LC_OK, "listen");
	taken = n.addr;
	struct ctl_links *other = NULL;
	struct ctl_link_cbs cbs = {on_frame, NULL, NULL, NULL, NULL, NULL};
	is_int(ctl_links_new(&other, &cfg, &taken, &ctl_link_tcp_ops, NULL, &cbs), -EADDRINUSE,
	       "a second listener on the same port: -EADDRINUSE");
	cfg.low_water_bytes = cfg.max_queue_bytes;
	is_int(ctl_links_new(&other, &cfg, NULL, &ctl_link_tcp_ops, NULL, &cbs), LC_EINVAL,
	       "low water not below the bound: LC_EINVAL");
	node_stop(&n);
	ctl_links_free(NULL);
	done_testing();
	return exit_status();
}
