/* SPDX-License-Identifier: MIT */
/*
 * The admin server (ctl_admin.h): the listener, its connections and the commands stats, ping,
 * node, ring and route AOR.
 *
 * How it works: each connection is a slot with a state and a deadline. READ: the socket is polled
 * for input and read as it comes, without waiting, until a newline (or the client's end of
 * input) completes the command line; no line within ADMIN_READ_MS, or more than ADMIN_LINE_MAX
 * bytes, ends it. Commands answered from what control holds (stats, ping, route) go straight to
 * WRITE; node and ring start a ctl_ovl_query and the slot WAITs, polled for nothing but a hangup,
 * until the query is ready (its count finished and the members answered, or its deadline). The
 * answer is built in one scratch buffer, copied to its exact size, and WRITE sends it as the
 * socket takes it, within ADMIN_WRITE_MS. Every run also looks at every slot, so deadlines end
 * connections whether or not their socket stirs.
 *
 * Every byte from and to a client passes through conn_recv and conn_send. On a secured node the
 * TCP form is mutual TLS 1.3 with the overlay's own context (ctl_tls): a connection first runs
 * its handshake, non-blocking, inside the READ state and its deadline (want_out says whether it
 * waits to write), and a client whose certificate the CA did not issue is closed unanswered.
 */
#define _GNU_SOURCE
#include "control/ctl_admin.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/lc_alloc.h"
#include "common/lc_error.h"
#include "common/lc_log.h"
#include "control/ctl_ovl.h"
#include "control/ctl_stats.h"
#include "control/ctl_tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#define ADMIN_LINE_MAX 1024	    /* a command line, its newline included */
#define ADMIN_READ_MS 2000	    /* from accept to the end of the command line */
#define ADMIN_WRITE_MS 5000	    /* from the answer being ready to its last byte taken */
#define ADMIN_ACCEPTS 64	    /* accepted per run at most; the rest wait in the backlog */
#define ADMIN_BACKLOG 64	    /* connections the kernel holds until they are accepted */
#define ADMIN_ACCEPT_PAUSE_MS 100   /* after accept failed for want of fds or memory */
#define ADMIN_OUT_MAX (1u << 20)    /* the longest answer (the ring of a large overlay) */
#define ADMIN_DRAIN_MAX (16 * 1024) /* unread input read away before close (see conn_close) */

enum conn_state { CONN_FREE = 0, CONN_READ, CONN_WAIT, CONN_WRITE };

/* Owner: the admin (control thread); one per open connection, zeroed when it closes. */
struct conn {
	enum conn_state state;
	int fd;
	uint64_t deadline_ms;
	size_t len;		 /* READ: bytes of line; WRITE: bytes of out */
	size_t off;		 /* WRITE: bytes the socket took */
	char *out;		 /* WRITE: the answer */
	struct ctl_ovl_query *q; /* WAIT: the node or ring query */
	SSL *ssl;		 /* mutual TLS (a secured node's TCP form), else NULL */
	bool shook;		 /* its handshake admitted the client */
	bool want_out;		 /* TLS needs the socket writable to go on */
	char line[ADMIN_LINE_MAX + 1];
};

/* Owner: main() (ctl_admin_new / ctl_admin_free); control thread only. */
struct ctl_admin {
	int lfd;
	struct sockaddr_storage addr; /* as bound: the OS's port for TCP port 0 */
	bool made_file;		      /* a socket file this node created ... */
	dev_t dev;		      /* ... and its identity, so that free removes it only */
	ino_t ino;		      /* while it is still ours */
	uint64_t accept_paused_until_ms;
	struct ctl_tls *tls; /* borrowed: TCP connections are mutual TLS; NULL: plain */
	struct conn conn[CTL_ADMIN_MAX_CONNS];
	char scratch[ADMIN_OUT_MAX]; /* answers are built here, then copied to their size */
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *unix_path(const struct sockaddr_storage *ss)
{
	return ((const struct sockaddr_un *)ss)->sun_path;
}

/* ---- listening ------------------------------------------------------------------------------- */

/* The default socket's directory (the path up to its last '/'): created 0700 when missing; it must
 * be a directory of this user that nobody else can write, or another user could put their own
 * socket where locusctl looks. */
static int own_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	const char *slash = strrchr(path, '/');
	if (slash == NULL || slash == path) {
		return LC_OK;
	}
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		return -errno;
	}
	struct stat st;
	if (lstat(dir, &st) != 0) {
		return -errno;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
		return -EPERM;
	}
	return LC_OK;
}

/* Make room for a Unix socket at @p addr: nothing there, or a socket file nobody accepts on (the
 * node that made it died without removing it) is removed. A live listener (connect works, or its
 * backlog is full) keeps its file: -EADDRINUSE; any other kind of file is not ours to remove:
 * -EEXIST. */
static int clear_stale(const struct sockaddr_storage *addr)
{
	const char *path = unix_path(addr);
	struct stat st;
	if (lstat(path, &st) != 0) {
		return errno == ENOENT ? LC_OK : -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		return -EEXIST;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		return -errno;
	}
	int r = connect(fd, (const struct sockaddr *)addr, sizeof(struct sockaddr_un));
	int err = errno;
	close(fd);
	if (r == 0 || err == EAGAIN) {
		return -EADDRINUSE;
	}
	if (err != ECONNREFUSED) {
		return -err;
	}
	return unlink(path) == 0 || errno == ENOENT ? LC_OK : -errno;
}

/* Bind and listen; a Unix socket is created with mode 0600 (the umask covers the moment between
 * bind and any chmod, in which another user could otherwise connect). */
static int listen_on(struct ctl_admin *a, const struct sockaddr_storage *addr)
{
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		return -errno;
	}
	a->lfd = fd;
	a->addr = *addr;
	int r;
	if (addr->ss_family == AF_UNIX) {
		mode_t old = umask(0177);
		r = bind(fd, (const struct sockaddr *)addr, ctl_admin_addr_len(addr));
		umask(old);
	} else {
		int one = 1;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		r = bind(fd, (const struct sockaddr *)addr, ctl_admin_addr_len(addr));
	}
	if (r != 0) {
		return -errno;
	}
	struct stat st;
	if (addr->ss_family == AF_UNIX && lstat(unix_path(addr), &st) == 0) {
		a->made_file = true;
		a->dev = st.st_dev;
		a->ino = st.st_ino;
	}
	if (listen(fd, ADMIN_BACKLOG) != 0) {
		return -errno;
	}
	socklen_t len = sizeof(a->addr);
	if (addr->ss_family != AF_UNIX && getsockname(fd, (struct sockaddr *)&a->addr, &len) != 0) {
		return -errno;
	}
	return LC_OK;
}

int ctl_admin_new(struct ctl_admin **out, const struct sockaddr_storage *addr, bool make_dir,
		  struct ctl_tls *tls, char *err, size_t errcap)
{
	char where[128];
	ctl_admin_format(addr, where, sizeof(where));
	struct ctl_admin *a = lc_calloc(1, sizeof(*a));
	if (a == NULL) {
		snprintf(err, errcap, "cannot listen on admin %s: out of memory", where);
		return LC_ENOMEM;
	}
	a->lfd = -1;
	a->tls = addr->ss_family == AF_UNIX ? NULL : tls;
	int ret = LC_OK;
	if (addr->ss_family == AF_UNIX) {
		ret = make_dir ? own_dir(unix_path(addr)) : LC_OK;
		if (ret == -EPERM) {
			snprintf(
				err, errcap,
				"cannot listen on admin %s: its directory is not this user's alone "
				"(owned by another user, or writable by others)",
				where);
			goto fail;
		}
		ret = ret == LC_OK ? clear_stale(addr) : ret;
	}
	ret = ret == LC_OK ? listen_on(a, addr) : ret;
	if (ret != LC_OK) {
		snprintf(err, errcap, "cannot listen on admin %s: %s", where,
			 ret == -EADDRINUSE ? "address in use (another node listens there)"
			 : ret == -EEXIST   ? "a file that is not a socket is in the way"
					    : strerror(-ret));
		goto fail;
	}
	*out = a;
	return LC_OK;
fail:
	ctl_admin_free(a);
	return ret;
}

void ctl_admin_local(const struct ctl_admin *a, struct sockaddr_storage *out)
{
	*out = a->addr;
}

/* ---- connections ----------------------------------------------------------------------------- */

/* Accept one connection, non-blocking. */
static int conn_accept(struct ctl_admin *a)
{
	return accept4(a->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/* A TLS call that did not complete: -1 with errno EAGAIN (and what it waits for), or a failure. */
static ssize_t tls_would(struct conn *c, int r)
{
	int e = SSL_get_error(c->ssl, r);
	ERR_clear_error();
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->want_out = e == SSL_ERROR_WANT_WRITE;
		errno = EAGAIN;
		return -1;
	}
	if (e == SSL_ERROR_ZERO_RETURN) {
		return 0;
	}
	errno = ECONNRESET;
	return -1;
}

/* The TLS handshake of a secured node's TCP connection: 1 done (and the client admitted),
 * -1 with errno EAGAIN while it runs, -1 otherwise (refused: counted by ctl_tls). */
static int conn_shake(struct ctl_admin *a, struct conn *c)
{
	int r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		dht_id_t id;
		if (!ctl_tls_peer_ok(a->tls, c->ssl, &id)) {
			errno = EACCES;
			return -1;
		}
		c->shook = true;
		c->want_out = false;
		return 1;
	}
	int e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->want_out = e == SSL_ERROR_WANT_WRITE;
		errno = EAGAIN;
		return -1;
	}
	ctl_tls_count_failure(a->tls, c->ssl);
	errno = EACCES;
	return -1;
}

static ssize_t conn_recv(struct conn *c, void *buf, size_t len)
{
	if (c->ssl == NULL) {
		return recv(c->fd, buf, len, MSG_DONTWAIT);
	}
	size_t n = 0;
	c->want_out = false;
	int r = SSL_read_ex(c->ssl, buf, len, &n);
	return r == 1 ? (ssize_t)n : tls_would(c, r);
}

static ssize_t conn_send(struct conn *c, const void *buf, size_t len)
{
	if (c->ssl == NULL) {
		return send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	if (!c->shook) {
		errno = EPIPE; /* nothing goes to a client that was not admitted */
		return -1;
	}
	size_t n = 0;
	int r = SSL_write_ex(c->ssl, buf, len, &n);
	return r == 1 ? (ssize_t)n : tls_would(c, r);
}

/*
 * Close a connection and free what it holds. Input the client sent past its line is read away
 * first (a little, without waiting): TCP answers a close over unread input with a reset, which
 * can destroy the end of the answer before the client reads it.
 */
static void conn_close(struct conn *c)
{
	char sink[1024];
	for (size_t drained = 0; drained < ADMIN_DRAIN_MAX && (c->ssl == NULL || c->shook);) {
		ssize_t r = conn_recv(c, sink, sizeof(sink));
		if (r <= 0) {
			break;
		}
		drained += (size_t)r;
	}
	if (c->ssl != NULL) {
		if (c->shook) {
			(void)SSL_shutdown(
				c->ssl); /* a close_notify, so the client sees a clean end */
		}
		SSL_free(c->ssl);
		ERR_clear_error();
	}
	close(c->fd);
	ctl_ovl_query_free(c->q);
	lc_free(c->out);
	memset(c, 0, sizeof(*c));
}

/* Send what the socket takes now; the whole answer sent: close. */
static void conn_write(struct conn *c)
{
	while (c->off < c->len) {
		ssize_t w = conn_send(c, c->out + c->off, c->len - c->off);
		if (w > 0) {
			c->off += (size_t)w;
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			return; /* polled for POLLOUT */
		}
		break; /* the client went away */
	}
	conn_close(c);
}

/* Answer with the first @p len bytes of the scratch buffer (none: it did not fit). */
static void answer(struct ctl_admin *a, struct conn *c, size_t len, uint64_t now)
{
	static const char too_big[] = "{\"error\":\"the answer does not fit in 1 MiB\"}\n";
	if (len == 0 || len > sizeof(a->scratch)) {
		memcpy(a->scratch, too_big, sizeof(too_big) - 1);
		len = sizeof(too_big) - 1;
	}
	c->out = lc_alloc(len);
	if (c->out == NULL) {
		conn_close(c);
		return;
	}
	memcpy(c->out, a->scratch, len);
	c->len = len;
	c->off = 0;
	c->state = CONN_WRITE;
	c->deadline_ms = now + ADMIN_WRITE_MS;
	conn_write(c);
}

static void answer_text(struct ctl_admin *a, struct conn *c, const char *text, uint64_t now)
{
	size_t len = strlen(text);
	memcpy(a->scratch, text, len);
	answer(a, c, len, now);
}

/* The command line is complete (in c->line, c->len bytes): answer it, or start its query. */
static void command(struct ctl_admin *a, struct conn *c, const struct ctl_admin_env *env,
		    uint64_t now)
{
	c->line[c->len] = '\0';
	c->line[strcspn(c->line, "\r\n")] = '\0';
	const char *cmd = c->line;
	if (strcmp(cmd, "stats") == 0) {
		answer(a, c,
		       ctl_stats_json(env->node, env->uptime_s, a->scratch, sizeof(a->scratch)),
		       now);
	} else if (strcmp(cmd, "ping") == 0) {
		answer_text(a, c, "pong\n", now);
	} else if (strcmp(cmd, "ring") == 0 || strcmp(cmd, "node") == 0) {
		if (ctl_ovl_query_new(env->ov, cmd[0] == 'r', &c->q) != LC_OK) {
			answer_text(a, c, "{\"error\":\"out of memory\"}\n", now);
			return;
		}
		c->state = CONN_WAIT;
		c->deadline_ms = ctl_ovl_query_deadline_ms(c->q);
	} else if (strncmp(cmd, "route ", 6) == 0) {
		answer(a, c, ctl_ovl_route_json(env->ov, cmd + 6, a->scratch, sizeof(a->scratch)),
		       now);
	} else {
		answer_text(a, c, "error: unknown command (stats, ping, node, ring, route AOR)\n",
			    now);
	}
}

/* Read what came (one read: poll says when there is more) and answer once the line is whole. */
static void conn_read(struct ctl_admin *a, struct conn *c, const struct ctl_admin_env *env,
		      uint64_t now)
{
	if (c->ssl != NULL && !c->shook) {
		int h = conn_shake(a, c);
		if (h < 0 && errno != EAGAIN) {
			conn_close(c); /* not admitted: no answer at all */
		}
		if (h < 0 || SSL_pending(c->ssl) == 0) {
			return; /* the client's line comes with the next readable event */
		}
	}
	ssize_t r = conn_recv(c, c->line + c->len, ADMIN_LINE_MAX - c->len);
	if (r < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			conn_close(c);
		}
		return;
	}
	if (r == 0) {
		/* the client's end of input also ends its line; without one, nothing to answer */
		if (c->len == 0) {
			conn_close(c);
		} else {
			command(a, c, env, now);
		}
		return;
	}
	const char *nl = memchr(c->line + c->len, '\n', (size_t)r);
	c->len += (size_t)r;
	if (nl != NULL) {
		c->len = (size_t)(nl - c->line);
		command(a, c, env, now);
	} else if (c->len == ADMIN_LINE_MAX) {
		answer_text(a, c, "error: the command line is longer than 1024 bytes\n", now);
	}
}

/* What poll said about a connection's socket. */
static void conn_event(struct ctl_admin *a, struct conn *c, short revents,
		       const struct ctl_admin_env *env, uint64_t now)
{
	bool broken = (revents & (POLLHUP | POLLERR | POLLNVAL)) != 0;
	if (c->state == CONN_READ && (broken || (revents & POLLIN))) {
		conn_read(a, c, env, now); /* reads the end of input, or the error */
	} else if (c->state == CONN_READ && c->want_out && (revents & POLLOUT)) {
		conn_read(a, c, env, now); /* TLS wanted to write (its handshake) */
	} else if (c->state == CONN_WRITE && (broken || (revents & POLLOUT))) {
		conn_write(c);
	} else if (c->state == CONN_WAIT && broken) {
		conn_close(c); /* the client left before its answer */
	}
}

/* A connection's query became ready, or its deadline passed. */
static void conn_tick(struct ctl_admin *a, struct conn *c, uint64_t now)
{
	if (c->state == CONN_WAIT && ctl_ovl_query_ready(c->q, now)) {
		size_t len = ctl_ovl_query_json(c->q, a->scratch, sizeof(a->scratch));
		ctl_ovl_query_free(c->q);
		c->q = NULL;
		answer(a, c, len, now);
		return;
	}
	if (c->state != CONN_FREE && now >= c->deadline_ms) {
		if (c->state == CONN_READ) {
			static const char late[] = "error: no command line within 2 s\n";
			(void)conn_send(c, late, sizeof(late) - 1);
		}
		lc_debug("admin: a connection passed its deadline (state %d): closed", c->state);
		conn_close(c);
	}
}

/* Accept what waits, up to ADMIN_ACCEPTS; a connection beyond CTL_ADMIN_MAX_CONNS is told so and
 * closed at once, so a crowd of clients costs the node a slot each, never a wait. */
static void accept_some(struct ctl_admin *a, uint64_t now)
{
	for (unsigned n = 0; n < ADMIN_ACCEPTS; n++) {
		int fd = conn_accept(a);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* the listener stays readable: do not spin on it */
				lc_warn("admin: cannot accept: %s", strerror(errno));
				a->accept_paused_until_ms = now + ADMIN_ACCEPT_PAUSE_MS;
			}
			return;
		}
		struct conn *c = NULL;
		for (unsigned i = 0; i < CTL_ADMIN_MAX_CONNS && c == NULL; i++) {
			c = a->conn[i].state == CONN_FREE ? &a->conn[i] : NULL;
		}
		if (c == NULL) {
			static const char busy[] = "error: busy (too many admin connections)\n";
			if (a->tls == NULL) { /* a TLS client cannot read plain text: just close */
				(void)send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
			}
			close(fd);
			continue;
		}
		SSL *ssl = NULL;
		if (a->tls != NULL) {
			ssl = SSL_new(ctl_tls_ctx(a->tls));
			if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
				SSL_free(ssl);
				ERR_clear_error();
				close(fd);
				continue;
			}
			SSL_set_accept_state(ssl);
		}
		*c = (struct conn){.state = CONN_READ,
				   .fd = fd,
				   .deadline_ms = now + ADMIN_READ_MS,
				   .ssl = ssl};
	}
}

unsigned ctl_admin_poll_fill(const struct ctl_admin *a, struct pollfd *pfd)
{
	unsigned n = 0;
	bool paused = now_ms() < a->accept_paused_until_ms;
	pfd[n++] = (struct pollfd){.fd = a->lfd, .events = paused ? 0 : POLLIN};
	for (unsigned i = 0; i < CTL_ADMIN_MAX_CONNS; i++) {
		const struct conn *c = &a->conn[i];
		if (c->state != CONN_FREE) {
			short ev = c->state == CONN_READ    ? POLLIN
				   : c->state == CONN_WRITE ? POLLOUT
							    : 0;
			if (c->want_out) {
				ev = POLLOUT; /* TLS must write (handshake, or a read's key update) */
			}
			pfd[n++] = (struct pollfd){.fd = c->fd, .events = ev};
		}
	}
	return n;
}

int ctl_admin_timeout_ms(const struct ctl_admin *a)
{
	uint64_t now = now_ms(), next = UINT64_MAX;
	if (a->accept_paused_until_ms > now) {
		next = a->accept_paused_until_ms;
	}
	for (unsigned i = 0; i < CTL_ADMIN_MAX_CONNS; i++) {
		if (a->conn[i].state != CONN_FREE && a->conn[i].deadline_ms < next) {
			next = a->conn[i].deadline_ms;
		}
	}
	if (next == UINT64_MAX) {
		return -1;
	}
	return next <= now ? 0 : next - now > 60000 ? 60000 : (int)(next - now);
}

void ctl_admin_run(struct ctl_admin *a, const struct pollfd *pfd, unsigned n,
		   const struct ctl_admin_env *env)
{
	uint64_t now = now_ms();
	/* entry 0 is the listener; accepted last, so that no fd closed here is reused by a new
	 * connection while pfd still names the old one */
	for (unsigned i = 1; i < n; i++) {
		for (unsigned k = 0; k < CTL_ADMIN_MAX_CONNS && pfd[i].revents != 0; k++) {
			if (a->conn[k].state != CONN_FREE && a->conn[k].fd == pfd[i].fd) {
				conn_event(a, &a->conn[k], pfd[i].revents, env, now);
				break;
			}
		}
	}
	for (unsigned k = 0; k < CTL_ADMIN_MAX_CONNS; k++) {
		conn_tick(a, &a->conn[k], now);
	}
	if (n > 0 && (pfd[0].revents & POLLIN)) {
		accept_some(a, now);
	}
}

void ctl_admin_free(struct ctl_admin *a)
{
	if (a == NULL) {
		return;
	}
	for (unsigned i = 0; i < CTL_ADMIN_MAX_CONNS; i++) {
		if (a->conn[i].state != CONN_FREE) {
			conn_close(&a->conn[i]);
		}
	}
	if (a->lfd >= 0) {
		close(a->lfd);
	}
	struct stat st;
	if (a->made_file && lstat(unix_path(&a->addr), &st) == 0 && st.st_dev == a->dev &&
	    st.st_ino == a->ino) {
		(void)unlink(unix_path(&a->addr));
	}
	lc_free(a);
}
