/* SPDX-License-Identifier: MIT */
/*
 * locusctl: the command-line client of a locus node. lookup, publish and remove speak LSP over
 * UDP to the node's --lsp address (docs/lsp.md), retransmitting on the protocol's timer with the
 * same transaction id; ping checks a node answers LSP; stats, node, ring and route ask the admin
 * interface: --admin (a Unix socket path, or TCP ADDR:PORT), or by default the Unix socket the
 * node makes for itself, named after its LSP port (ctl_admin_default).
 *
 * Exit status: 0 success; 1 the node did not answer, or answered with an error or "not found";
 * 2 bad arguments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/lc_compiler.h"
#include "common/lc_error.h"
#include "control/ctl_addr.h"
#include "control/ctl_admin.h"
#include "control/ctl_tls.h"

#include "dht/dht_key.h"
#include "dht/lsp.h"
#include <openssl/err.h>
#include <openssl/ssl.h>

struct opts {
	struct sockaddr_storage lsp, admin; /* admin: AF_UNSPEC until --admin or the default */
	struct ctl_tls_files tls;	    /* mutual TLS to a secured node's TCP admin */
	char overlay[256];
	unsigned timeout_ms;
	bool timeout_given;
};

/* How long `ring` waits by default: the node asked waits up to 3 s for the others' answers. */
#define RING_TIMEOUT_MS 8000

static const char usage[] =
	"usage: locusctl [options] COMMAND [ARGS]\n"
	"Commands:\n"
	"  lookup AOR                     the AOR's contacts (LSP LOOKUP)\n"
	"  publish AOR CONTACT [EXPIRES]  add or refresh a binding (LSP PUBLISH; EXPIRES in s)\n"
	"  remove AOR [CONTACT]           remove one binding, or all of the AOR's (LSP REMOVE)\n"
	"  ping                           check that the node answers LSP\n"
	"  stats                          the node's counters, as JSON (admin interface)\n"
	"  ring                           every node's id, address, predecessor, successors,\n"
	"                                 fingers, one-hop view, owned and replica bindings (JSON)\n"
	"  node                           this node's view of the ring, as JSON (admin interface)\n"
	"  route AOR                      which nodes own and replicate AOR, as JSON (admin)\n"
	"Options:\n"
	"  --lsp ADDR:PORT     the node's LSP address (default 127.0.0.1:7400)\n"
	"  --admin PATH|ADDR:PORT\n"
	"                      the node's admin interface: a Unix socket (a PATH has a '/', or\n"
	"                      write unix:PATH) or TCP ADDR:PORT; default: the socket locusd makes\n"
	"                      when it is given no --admin, from the --lsp port:\n"
	"                      /run/locus/locusd-PORT.sock as root, else the same name under\n"
	"                      $XDG_RUNTIME_DIR/locus/ or /tmp/locus-UID/\n"
	"  --overlay NAME      the overlay identifier (default locus.invalid, as locusd's)\n"
	"  --overlay-ca FILE, --cert FILE, --key FILE\n"
	"                      mutual TLS to the TCP admin of a secured node: a certificate its\n"
	"                      overlay's CA issued (all three, as for locusd)\n"
	"  --timeout MS        give up after MS milliseconds (default 3000; ring: 8000)\n"
	"Exit status: 0 ok; 1 no answer, an error answer, or not found; 2 bad arguments.\n";

__attribute__((format(printf, 1, 2))) static int bad_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "locusctl: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n(see locusctl --help)\n");
	va_end(ap);
	return 2;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Send @p req and wait for the answer with its txn id, retransmitting per docs/lsp.md §5. */
static int exchange(const struct opts *o, const void *req, size_t req_len, uint64_t txn,
		    uint8_t *ans, size_t cap, struct dht_lsp_msg *m)
{
	int fd = socket(o->lsp.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)&o->lsp, ctl_addr_len(&o->lsp)) != 0) {
		fprintf(stderr, "locusctl: cannot reach LSP: %s\n", strerror(errno));
		if (fd >= 0) {
			close(fd);
		}
		return 1;
	}
	uint64_t deadline = now_ms() + o->timeout_ms;
	unsigned interval = DHT_LSP_T1_MS;
	for (unsigned sends = 0; sends < DHT_LSP_MAX_SENDS && now_ms() < deadline; sends++) {
		(void)send(fd, req, req_len, 0); /* ECONNREFUSED shows up as silence below */
		uint64_t until = LC_MIN(now_ms() + interval, deadline);
		for (uint64_t t = now_ms(); t < until; t = now_ms()) {
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			if (poll(&pfd, 1, (int)(until - t)) <= 0) {
				continue;
			}
			ssize_t n = recv(fd, ans, cap, 0);
			if (n > 0 && dht_lsp_parse(m, ans, (size_t)n) == LC_OK &&
			    dht_lsp_is_answer(m) && m->hdr.txn_id == txn) {
				close(fd);
				return 0;
			}
		}
		interval = LC_MIN(interval * 2, DHT_LSP_T2_MS);
	}
	close(fd);
	char addr[64];
	ctl_addr_format(&o->lsp, addr, sizeof(addr));
	fprintf(stderr, "locusctl: no answer from %s within %u ms (is locusd running there?)\n",
		addr, o->timeout_ms);
	return 1;
}

static void print_records(const struct dht_lsp_msg *m)
{
	for (unsigned i = 0; i < m->nrecords; i++) {
		const struct dht_lsp_record *r = &m->records[i];
		printf("%.*s expires=%u", (int)r->contact.len, r->contact.p, r->expires_s);
		if (r->present & DHT_LSP_P_Q) {
			printf(" q=%d.%03d", r->q / 1000, r->q % 1000);
		}
		if (r->present & DHT_LSP_P_AGE) {
			printf(" age=%u", r->age_s);
		}
		if (r->present & DHT_LSP_P_INSTANCE) {
			printf(" instance=%.*s", (int)r->instance.len, r->instance.p);
		}
		if (r->present & DHT_LSP_P_REG_ID) {
			printf(" reg-id=%u", r->reg_id);
		}
		printf("\n");
	}
}

static int lsp_command(const struct opts *o, int type, int argc, char **argv)
{
	const char *aor = argv[0];
	uint64_t txn = 0;
	if (getrandom(&txn, sizeof(txn), 0) != sizeof(txn)) {
		txn = (uint64_t)now_ms() ^ ((uint64_t)getpid() << 32);
	}
	struct dht_lsp_hdr hdr = {.type = (uint8_t)type,
				  .hop_limit = DHT_LSP_HOP_LIMIT_DEFAULT,
				  .txn_id = txn,
				  .overlay_id = dht_seed_of(o->overlay, strlen(o->overlay))};
	static uint8_t req[DHT_LSP_MAX_MSG], ans[DHT_LSP_MAX_MSG];
	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, req, sizeof(req));
	dht_lsp_build_hdr(&b, &hdr);
	if (type != DHT_LSP_PING) {
		dht_lsp_put_key(&b, aor, strlen(aor));
	}
	if (type == DHT_LSP_PUBLISH || (type == DHT_LSP_REMOVE && argc > 1)) {
		struct dht_lsp_record r = {.present = DHT_LSP_P_CONTACT,
					   .contact = {argv[1], (uint32_t)strlen(argv[1])},
					   .q = -1};
		if (type == DHT_LSP_PUBLISH && argc > 2) {
			char *end;
			errno = 0;
			unsigned long e = strtoul(argv[2], &end, 10);
			if (errno != 0 || *end != '\0' || argv[2][0] < '0' || argv[2][0] > '9' ||
			    e > UINT32_MAX) {
				return bad_usage("EXPIRES '%s' is not a number of seconds",
						 argv[2]);
			}
			r.present |= DHT_LSP_P_EXPIRES;
			r.expires_s = (uint32_t)e;
		}
		dht_lsp_put_record(&b, &r);
	} else if (type == DHT_LSP_REMOVE) {
		dht_lsp_put_tlv(&b, DHT_LSP_T_REMOVE_ALL, NULL, 0);
	}
	size_t len = 0;
	int ret = dht_lsp_build_finish(&b, &len);
	if (ret != LC_OK) {
		return bad_usage("cannot encode the request: %s", lc_strerror(ret));
	}
	static struct dht_lsp_msg m;
	if (exchange(o, req, len, txn, ans, sizeof(ans), &m) != 0) {
		return 1;
	}
	if (m.status == DHT_LSP_S_OK) {
		if (type == DHT_LSP_PING) {
			printf("pong\n");
		}
		print_records(&m);
		return 0;
	}
	if (m.status == DHT_LSP_S_NOT_FOUND) {
		fprintf(stderr, "locusctl: no bindings for %s\n", aor ? aor : "");
		return 1;
	}
	fprintf(stderr, "locusctl: the node answered %u %s%s%.*s\n", m.status,
		dht_lsp_status_text(m.status), (m.present & DHT_LSP_P_REASON) ? ": " : "",
		(int)m.reason.len, m.reason.p ? m.reason.p : "");
	if (m.present & DHT_LSP_P_MIN_EXPIRES) {
		fprintf(stderr, "locusctl: the node accepts at least %u seconds\n",
			m.min_expires_s);
	}
	return 1;
}

/* Wait until @p fd has @p events or @p deadline (monotonic ms) passed. */
static bool wait_fd(int fd, short events, uint64_t deadline)
{
	for (uint64_t t = now_ms(); t < deadline; t = now_ms()) {
		struct pollfd pfd = {.fd = fd, .events = events};
		int r = poll(&pfd, 1, (int)(deadline - t));
		if (r > 0) {
			return true;
		}
		if (r < 0 && errno != EINTR) {
			return false;
		}
	}
	return false;
}

/* Connect to the admin interface and send @p line, by @p deadline. @return the socket (also when
 * the node closed before the line went: what it said is there to read), or -1 with errno set
 * (ETIMEDOUT when the deadline passed). */
static int admin_send(const struct opts *o, const char *line, uint64_t deadline)
{
	int fd = socket(o->admin.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		return -1;
	}
	int err = 0;
	socklen_t elen = sizeof(err);
	size_t len = strlen(line);
	if (connect(fd, (const struct sockaddr *)&o->admin, ctl_admin_addr_len(&o->admin)) != 0 &&
	    errno != EINPROGRESS) {
		err = errno; /* EAGAIN: a Unix listener's backlog is full */
	} else if (!wait_fd(fd, POLLOUT, deadline)) {
		err = ETIMEDOUT;
	} else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0) {
		err = errno;
	} else if (err == 0 && send(fd, line, len, MSG_NOSIGNAL) != (ssize_t)len) {
		/* a node that closed at once (too many admin clients) said why first: read it */
		err = errno == EPIPE || errno == ECONNRESET ? 0 : errno;
	}
	if (err != 0) {
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* The TCP admin of a secured node: mutual TLS 1.3 with our certificate, the node's checked
 * against the CA; the whole exchange within @p timeout_ms (socket timeouts: a tool may block). */
static int admin_tls_command(const struct opts *o, const char *line, unsigned timeout_ms,
			     const char *addr)
{
	char err[512];
	struct ctl_tls *tls = NULL;
	if (ctl_tls_new(&tls, &o->tls, err, sizeof(err)) != LC_OK) {
		fprintf(stderr, "locusctl: %s\n", err);
		return 2;
	}
	int rc = 1;
	SSL *ssl = NULL;
	int fd = socket(o->admin.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(fd, (const struct sockaddr *)&o->admin, ctl_admin_addr_len(&o->admin)) != 0) {
		fprintf(stderr, "locusctl: cannot reach the admin interface at %s: %s\n", addr,
			strerror(errno));
		goto out;
	}
	ssl = SSL_new(ctl_tls_ctx(tls));
	dht_id_t id;
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1 ||
	    !ctl_tls_peer_ok(tls, ssl, &id) ||
	    SSL_write(ssl, line, (int)strlen(line)) != (int)strlen(line)) {
		unsigned long e = ERR_peek_last_error();
		fprintf(stderr, "locusctl: TLS with the admin interface at %s failed: %s\n", addr,
			e != 0 ? ERR_reason_error_string(e) : "the node's certificate is refused");
		goto out;
	}
	char buf[65536];
	size_t n = 0, total = 0;
	bool refused = false;
	int r;
	while ((r = SSL_read_ex(ssl, buf, sizeof(buf), &n)) == 1) {
		if (total == 0) {
			refused = strncmp(buf, "{\"error\"", LC_MIN(n, 8)) == 0 ||
				  strncmp(buf, "error:", LC_MIN(n, 6)) == 0;
		}
		fwrite(buf, 1, n, stdout);
		total += n;
	}
	if (SSL_get_error(ssl, r) != SSL_ERROR_ZERO_RETURN) {
		/* no close_notify: the answer may have been cut by someone on the path */
		fprintf(stderr, "locusctl: no complete answer from %s within %u ms\n", addr,
			timeout_ms);
		goto out;
	}
	rc = total > 0 && !refused ? 0 : 1;
out:
	SSL_free(ssl);
	if (fd >= 0) {
		close(fd);
	}
	ctl_tls_free(tls);
	ERR_clear_error();
	return rc;
}

/* Send one command line to the admin interface and copy its answer to stdout, all within
 * @p timeout_ms. An answer that starts with {"error" or error: is a refusal: exit status 1. */
static int admin_command(const struct opts *o, const char *line, unsigned timeout_ms)
{
	char addr[128];
	ctl_admin_format(&o->admin, addr, sizeof(addr));
	if (o->tls.ca != NULL && o->admin.ss_family != AF_UNIX) {
		return admin_tls_command(o, line, timeout_ms, addr);
	}
	uint64_t deadline = now_ms() + timeout_ms;
	int fd = admin_send(o, line, deadline);
	if (fd < 0) {
		fprintf(stderr, "locusctl: cannot reach the admin interface at %s: %s\n", addr,
			strerror(errno));
		return 1;
	}
	char buf[65536];
	ssize_t n = -1;
	size_t total = 0;
	bool refused = false;
	while (wait_fd(fd, POLLIN, deadline) &&
	       ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EAGAIN))) {
		if (n <= 0) {
			continue;
		}
		if (total == 0) {
			refused = strncmp(buf, "{\"error\"", LC_MIN((size_t)n, 8)) == 0 ||
				  strncmp(buf, "error:", LC_MIN((size_t)n, 6)) == 0;
		}
		fwrite(buf, 1, (size_t)n, stdout);
		total += (size_t)n;
	}
	bool ended = n == 0;
	close(fd);
	if (!ended) {
		fprintf(stderr, "locusctl: no complete answer from %s within %u ms\n", addr,
			timeout_ms);
		return 1;
	}
	if (total == 0) {
		fprintf(stderr, "locusctl: %s closed without an answer\n", addr);
		return 1;
	}
	return refused ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o = {.timeout_ms = 3000};
	snprintf(o.overlay, sizeof(o.overlay), "locus.invalid");
	if (ctl_addr_parse("127.0.0.1:7400", &o.lsp) != LC_OK) {
		return 2; /* constant default: cannot happen */
	}
	int i = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *f = argv[i];
		if (strcmp(f, "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		}
		if (i + 1 >= argc) {
			return bad_usage("%s needs a value", f);
		}
		const char *v = argv[++i];
		if (strcmp(f, "--lsp") == 0) {
			if (ctl_addr_parse(v, &o.lsp) != LC_OK) {
				return bad_usage("--lsp '%s' is not ADDR:PORT", v);
			}
		} else if (strcmp(f, "--admin") == 0) {
			int ret = ctl_admin_parse(v, &o.admin);
			if (ret != LC_OK) {
				return bad_usage("--admin '%s' is %s", v,
						 ret == LC_ETOOLONG
							 ? "a socket path longer than 107 bytes"
							 : "neither a socket path (with a '/', or "
							   "unix:PATH) nor ADDR:PORT");
			}
		} else if (strcmp(f, "--overlay") == 0) {
			snprintf(o.overlay, sizeof(o.overlay), "%s", v);
		} else if (strcmp(f, "--overlay-ca") == 0) {
			o.tls.ca = v;
		} else if (strcmp(f, "--cert") == 0) {
			o.tls.cert = v;
		} else if (strcmp(f, "--key") == 0) {
			o.tls.key = v;
		} else if (strcmp(f, "--timeout") == 0) {
			char *end;
			unsigned long t = strtoul(v, &end, 10);
			if (*end != '\0' || t == 0 || t > 600000) {
				return bad_usage("--timeout '%s' is not 1..600000 ms", v);
			}
			o.timeout_ms = (unsigned)t;
			o.timeout_given = true;
		} else {
			return bad_usage("unknown option %s", f);
		}
	}
	if (i >= argc) {
		return bad_usage("%s", "no command given");
	}
	if ((o.tls.ca != NULL || o.tls.cert != NULL || o.tls.key != NULL) &&
	    !(o.tls.ca != NULL && o.tls.cert != NULL && o.tls.key != NULL)) {
		return bad_usage("%s", "--overlay-ca, --cert and --key go together");
	}
	const char *cmd = argv[i++];
	int nargs = argc - i;
	char **args = argv + i;
	if (o.admin.ss_family == AF_UNSPEC &&
	    ctl_admin_default(ctl_addr_port(&o.lsp), &o.admin) != LC_OK) {
		return bad_usage("%s", "no default admin socket ($XDG_RUNTIME_DIR is too long): "
				       "give --admin");
	}
	if (strcmp(cmd, "lookup") == 0 && nargs == 1) {
		return lsp_command(&o, DHT_LSP_LOOKUP, nargs, args);
	}
	if (strcmp(cmd, "publish") == 0 && (nargs == 2 || nargs == 3)) {
		return lsp_command(&o, DHT_LSP_PUBLISH, nargs, args);
	}
	if (strcmp(cmd, "remove") == 0 && (nargs == 1 || nargs == 2)) {
		return lsp_command(&o, DHT_LSP_REMOVE, nargs, args);
	}
	if (strcmp(cmd, "ping") == 0 && nargs == 0) {
		char *none[] = {NULL};
		return lsp_command(&o, DHT_LSP_PING, 0, none);
	}
	if (strcmp(cmd, "stats") == 0 && nargs == 0) {
		return admin_command(&o, "stats\n", o.timeout_ms);
	}
	if (strcmp(cmd, "ring") == 0 && nargs == 0) {
		return admin_command(&o, "ring\n",
				     o.timeout_given ? o.timeout_ms : RING_TIMEOUT_MS);
	}
	if (strcmp(cmd, "node") == 0 && nargs == 0) {
		return admin_command(&o, "node\n", o.timeout_ms);
	}
	if (strcmp(cmd, "route") == 0 && nargs == 1) {
		char line[DHT_KEY_MAX + 16];
		if (strlen(args[0]) > DHT_KEY_MAX || strpbrk(args[0], "\r\n") != NULL) {
			return bad_usage("AOR: a URI of at most %d bytes on one line", DHT_KEY_MAX);
		}
		snprintf(line, sizeof(line), "route %s\n", args[0]);
		return admin_command(&o, line, o.timeout_ms);
	}
	return bad_usage("'%s': unknown command or wrong number of arguments", cmd);
}
