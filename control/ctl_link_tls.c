/* SPDX-License-Identifier: MIT */
/*
 * The TLS 1.3 transport of the overlay links (struct ctl_link_ops, ops_arg a struct ctl_tls):
 * the plain TCP transport's socket (ctl_link_tcp_ops, its options and connect) with an OpenSSL
 * SSL object on top, mutual authentication, and the peer's node id taken from its certificate's
 * key once the handshake admitted it (ctl_tls_peer_ok). Everything is non-blocking: OpenSSL's
 * WANT_READ and WANT_WRITE become -EAGAIN with the events to wait for.
 *
 * Two things differ from a plain socket and the link layer asks about them through the ops:
 *   - OpenSSL reads whole records: plaintext of a record larger than the caller's buffer waits
 *     inside the SSL object, where epoll cannot see it (ops->pending).
 *   - A peer admitted at its handshake may be revoked later by a reloaded CRL (ops->recheck).
 * A write goes out one iovec entry per call (OpenSSL has no writev); partial writes are enabled
 * and a retry after WANT_WRITE presents the same bytes again, which is what the link layer's
 * queue does (its head is only consumed by what was written).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>
#include <sys/epoll.h>

#include "common/lc_alloc.h"
#include "common/lc_error.h"
#include "control/ctl_link.h"
#include "control/ctl_tls.h"

/* Owner: the connection it hangs from (ctl_link_conn.priv). */
struct tls_conn {
	SSL *ssl;
	struct ctl_tls *tls;
	bool tcp_up; /* the TCP connect finished (always for accepted sockets) */
};

static int wrap(struct ctl_tls *tls, struct ctl_link_conn *c, bool server)
{
	struct tls_conn *tc = lc_calloc(1, sizeof(*tc));
	SSL *ssl = tc != NULL ? SSL_new(ctl_tls_ctx(tls)) : NULL;
	if (ssl == NULL || SSL_set_fd(ssl, c->fd) != 1) {
		SSL_free(ssl);
		lc_free(tc);
		ERR_clear_error();
		return LC_ENOMEM;
	}
	if (server) {
		SSL_set_accept_state(ssl);
	} else {
		SSL_set_connect_state(ssl);
	}
	tc->ssl = ssl;
	tc->tls = tls;
	tc->tcp_up = server;
	c->priv = tc;
	c->authed = false;
	c->peer_id = 0;
	return LC_OK;
}

static int tls_connect(void *arg, struct ctl_link_conn *c, const struct sockaddr_storage *peer,
		       const struct ctl_link_sockopts *o)
{
	int ret = ctl_link_tcp_ops.connect(NULL, c, peer, o);
	if (ret != LC_OK) {
		return ret;
	}
	ret = wrap(arg, c, false);
	if (ret != LC_OK) {
		ctl_link_tcp_ops.close(c);
	}
	return ret;
}

static int tls_accept(void *arg, struct ctl_link_conn *c, int fd, const struct ctl_link_sockopts *o)
{
	int ret = ctl_link_tcp_ops.accept(NULL, c, fd, o);
	if (ret != LC_OK) {
		return ret;
	}
	ret = wrap(arg, c, true);
	if (ret != LC_OK) {
		ctl_link_tcp_ops.close(c);
	}
	return ret;
}

/* -EAGAIN with the events to wait for, or the failure. */
static int io_error(SSL *ssl, int r, uint32_t *events)
{
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		*events = EPOLLIN;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		*events = EPOLLOUT;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		return 0;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		return errno != 0 && errno != EAGAIN ? -errno : 0;
	default:
		ERR_clear_error();
		return -ECONNRESET;
	}
}

static int tls_handshake(struct ctl_link_conn *c, uint32_t *events)
{
	struct tls_conn *tc = c->priv;
	if (!tc->tcp_up) {
		int ret = ctl_link_tcp_ops.handshake(c, events);
		if (ret != LC_OK) {
			return ret;
		}
		tc->tcp_up = true;
	}
	ERR_clear_error();
	errno = 0;
	int r = SSL_do_handshake(tc->ssl);
	if (r == 1) {
		dht_id_t id;
		if (!ctl_tls_peer_ok(tc->tls, tc->ssl, &id)) {
			return -EACCES;
		}
		c->authed = true;
		c->peer_id = id;
		return LC_OK;
	}
	int e = SSL_get_error(tc->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		*events = e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT;
		return -EAGAIN;
	}
	int err = errno;
	ctl_tls_count_failure(tc->tls, tc->ssl); /* reads OpenSSL's error queue, then clears it */
	if (SSL_get_verify_result(tc->ssl) != X509_V_OK) {
		return -EACCES;
	}
	return e == SSL_ERROR_SYSCALL && err != 0 ? -err : -ECONNRESET;
}

static ssize_t tls_read(struct ctl_link_conn *c, void *buf, size_t cap)
{
	struct tls_conn *tc = c->priv;
	size_t n = 0;
	ERR_clear_error();
	errno = 0;
	int r = SSL_read_ex(tc->ssl, buf, cap, &n);
	if (r == 1) {
		return (ssize_t)n;
	}
	uint32_t ev;
	return io_error(tc->ssl, r, &ev);
}

static ssize_t tls_writev(struct ctl_link_conn *c, const struct iovec *iov, int iovcnt)
{
	struct tls_conn *tc = c->priv;
	int i = 0;
	while (i < iovcnt && iov[i].iov_len == 0) {
		i++;
	}
	if (i == iovcnt) {
		return -EAGAIN;
	}
	size_t n = 0;
	ERR_clear_error();
	errno = 0;
	int r = SSL_write_ex(tc->ssl, iov[i].iov_base, iov[i].iov_len, &n);
	if (r == 1) {
		return (ssize_t)n;
	}
	uint32_t ev;
	int ret = io_error(tc->ssl, r, &ev);
	return ret == 0 ? -EPIPE : ret;
}

static void tls_close(struct ctl_link_conn *c)
{
	struct tls_conn *tc = c->priv;
	if (tc != NULL) {
		if (tc->tcp_up && c->authed) {
			(void)SSL_shutdown(tc->ssl); /* best effort: a close_notify if it fits */
		}
		SSL_free(tc->ssl);
		lc_free(tc);
		ERR_clear_error();
	}
	c->priv = NULL;
	c->authed = false;
	ctl_link_tcp_ops.close(c);
}

static bool tls_pending(const struct ctl_link_conn *c)
{
	const struct tls_conn *tc = c->priv;
	return tc != NULL && SSL_pending(tc->ssl) > 0;
}

static bool tls_recheck(void *arg, const struct ctl_link_conn *c)
{
	const struct tls_conn *tc = c->priv;
	if (tc == NULL || !c->authed) {
		return true; /* not admitted yet: its handshake will judge it */
	}
	if (ctl_tls_still_valid(arg, tc->ssl)) {
		return true;
	}
	ctl_tls_count_revoked(arg);
	return false;
}

int ctl_link_tls_export(const struct ctl_link_conn *c, const char *label, uint8_t *out, size_t len)
{
	const struct tls_conn *tc = c->priv;
	if (tc == NULL || !c->authed ||
	    SSL_export_keying_material(tc->ssl, out, len, label, strlen(label), NULL, 0, 0) != 1) {
		ERR_clear_error();
		return LC_EINVAL;
	}
	return LC_OK;
}

bool ctl_link_tls_is_client(const struct ctl_link_conn *c)
{
	const struct tls_conn *tc = c->priv;
	return tc != NULL && !SSL_is_server(tc->ssl);
}

const struct ctl_link_ops ctl_link_tls_ops = {
	.name = "tls",
	.connect = tls_connect,
	.accept = tls_accept,
	.handshake = tls_handshake,
	.read = tls_read,
	.writev = tls_writev,
	.close = tls_close,
	.pending = tls_pending,
	.recheck = tls_recheck,
};
