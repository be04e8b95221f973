/* SPDX-License-Identifier: MIT */
/*
 * locusd: one node of locus. main() is the control thread: it parses the flags, builds the
 * workers (dataplane/), starts one thread per worker (with --dataplane dpdk: brings up the EAL
 * and its ports first, and runs the workers on the EAL's worker lcores), runs the overlay (ctl_ovl: links, Chord,
 * routing tables), serves the admin interface (ctl_admin: polled here with the rest, never waited
 * on), and on SIGINT or SIGTERM leaves the ring, stops the workers (they drain what they received)
 * and exits 0.
 *
 * Signals are blocked in every thread and read through a signalfd by control, so no handler ever
 * runs on a worker in the middle of a burst.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "common/lc_error.h"
#include "common/lc_log.h"
#include "control/ctl_addr.h"
#include "control/ctl_admin.h"
#include "control/ctl_cfg.h"
#include "control/ctl_ovl.h"
#include "control/ctl_tls.h"
#include "dataplane/dp_dpdk.h"
#include "dataplane/dp_worker.h"

/* How long a leaving node spends handing its range over and telling its neighbours. */
#define LEAVE_MAX_MS 5000

static uint32_t wall_seconds(void)
{
	return (uint32_t)time(NULL);
}

static uint64_t random_u64(void)
{
	uint64_t v = 0;
	if (getrandom(&v, sizeof(v), 0) != sizeof(v)) {
		v = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	}
	return v;
}

/* Fill @p p with @p n bytes from the kernel's CSPRNG: LC_OK, or a negative errno. A secret is
 * never made up from the clock: a node that cannot get one does not start. */
static int random_bytes(void *p, size_t n)
{
	uint8_t *b = p;
	while (n > 0) {
		ssize_t got = getrandom(b, n, 0);
		if (got < 0 && errno != EINTR) {
			return -errno;
		}
		if (got > 0) {
			b += got;
			n -= (size_t)got;
		}
	}
	return LC_OK;
}

static unsigned default_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > DP_MAX_WORKERS ? DP_MAX_WORKERS : (unsigned)n;
}

/* Pin worker i to CPU i (mod the CPUs we may use); best effort, a failure only costs locality. */
static void pin(pthread_t t, unsigned i)
{
	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0 || CPU_COUNT(&allowed) == 0) {
		return;
	}
	unsigned want = i % (unsigned)CPU_COUNT(&allowed), seen = 0;
	for (unsigned cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (CPU_ISSET(cpu, &allowed) && seen++ == want) {
			cpu_set_t one;
			CPU_ZERO(&one);
			CPU_SET(cpu, &one);
			(void)pthread_setaffinity_np(t, sizeof(one), &one);
			return;
		}
	}
}

static void print_ready(struct dp_node *node, const struct ctl_cfg *cfg,
			const struct ctl_admin *admin, unsigned workers)
{
	struct sockaddr_storage sip, lsp, adm;
	char sip_s[64], lsp_s[64], admin_s[128];
	(void)dp_node_local_addr(node, DP_SOCK_SIP, &sip);
	(void)dp_node_local_addr(node, DP_SOCK_LSP, &lsp);
	ctl_admin_local(admin, &adm);
	ctl_addr_format(&sip, sip_s, sizeof(sip_s));
	ctl_addr_format(&lsp, lsp_s, sizeof(lsp_s));
	ctl_admin_format(&adm, admin_s, sizeof(admin_s));
	/* one machine-readable line first: tests and scripts wait for it */
	printf("locusd ready sip=%s lsp=%s admin=%s workers=%u overlay=%s security=%s\n", sip_s,
	       lsp_s, admin_s, workers, cfg->overlay, ctl_cfg_secured(cfg) ? "tls" : "none");
	fflush(stdout);
}

/* Say loudly which mode the node runs: an unsecured node must not pass for a secured one. */
static void log_security(const struct ctl_tls *tls, const struct ctl_cfg *cfg)
{
	if (tls == NULL) {
		lc_warn("UNSECURED mode (no --overlay-ca, --cert, --key): overlay links are plain "
			"TCP and node ids come from addresses; anyone who reaches this node can join "
			"its ring. For a lab only (docs/security.md)");
		return;
	}
	char id[DHT_ID_HEX_LEN + 1];
	dht_id_format(ctl_tls_self_id(tls), id);
	lc_info("secured mode: node id %s from --cert %s; overlay links TLS 1.3 with certificates "
		"of --overlay-ca %s%s%s",
		id, cfg->cert, cfg->overlay_ca, cfg->crl[0] != '\0' ? ", CRL " : "", cfg->crl);
}

/* Bring up DPDK for --dataplane dpdk (EAL, ports, TAP): LC_OK with the worker count, or a message
 * on stderr and the exit status (2: a bad flag or device, 1: anything else). */
static int dpdk_start(const struct ctl_cfg *cfg, const char *argv0, unsigned *workers)
{
	struct dp_dpdk_cfg d = {
		.eal_args = cfg->dpdk_args,
		.ip = ntohl(((const struct sockaddr_in *)&cfg->sip)->sin_addr.s_addr),
		.port = {(uint16_t)ctl_addr_port(&cfg->sip), (uint16_t)ctl_addr_port(&cfg->lsp)},
		.prefix_len = cfg->dpdk_prefix,
		.gateway = cfg->dpdk_gateway,
		.mbufs = cfg->dpdk_mbufs,
		.busy_poll = cfg->dpdk_busy_poll,
		.tap = cfg->dpdk_tap,
		.workers = cfg->workers,
		.argv0 = argv0,
	};
	char err[512];
	int ret = dp_dpdk_init(&d, workers, err, sizeof(err));
	if (ret != LC_OK) {
		fprintf(stderr, "locusd: %s\n", err);
		return ret == LC_EINVAL || ret == LC_ENOTSUP ? 2 : 1;
	}
	return 0;
}

/* Run the workers: on threads of their own, or on the EAL's worker lcores. */
static int start_workers(struct dp_node *node, bool dpdk, pthread_t *tid, unsigned workers)
{
	if (dpdk) {
		return dp_dpdk_launch(node);
	}
	for (unsigned i = 0; i < workers; i++) {
		if (pthread_create(&tid[i], NULL, dp_worker_main, dp_node_worker(node, i)) != 0) {
			lc_err("cannot start worker %u", i);
			dp_node_stop(node);
			for (unsigned j = 0; j < i; j++) {
				pthread_join(tid[j], NULL);
			}
			return LC_ENOMEM;
		}
		pin(tid[i], i);
	}
	return LC_OK;
}

static void join_workers(bool dpdk, pthread_t *tid, unsigned workers)
{
	if (dpdk) {
		dp_dpdk_wait();
		return;
	}
	for (unsigned i = 0; i < workers; i++) {
		pthread_join(tid[i], NULL);
	}
}

/* The sooner of two poll timeouts (-1: none). */
static int sooner(int a, int b)
{
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

/* The control loop: overlay links and timers, admin connections and signals until SIGINT or
 * SIGTERM. Nothing in it waits but poll: the admin's connections are polled here with the rest,
 * so that a slow or silent client never delays a ping's answer. */
static void control_loop(int sfd, struct ctl_admin *admin, struct dp_node *node, struct ctl_ovl *ov,
			 uint32_t started)
{
	for (;;) {
		struct pollfd pfd[2 + CTL_ADMIN_MAX_FDS] = {
			{.fd = sfd, .events = POLLIN}, {.fd = ctl_ovl_fd(ov), .events = POLLIN}};
		unsigned nadmin = ctl_admin_poll_fill(admin, pfd + 2);
		int timeout = sooner(ctl_ovl_timeout_ms(ov), ctl_admin_timeout_ms(admin));
		int r = poll(pfd, 2 + nadmin, timeout);
		if (r < 0 && errno != EINTR) {
			lc_err("poll: %s", strerror(errno));
			return;
		}
		if (r < 0) {
			for (unsigned i = 0; i < 2 + nadmin; i++) {
				pfd[i].revents = 0; /* undefined after EINTR */
			}
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si) &&
			    (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)) {
				lc_info("signal %u: stopping", si.ssi_signo);
				return;
			}
		}
		ctl_ovl_run(ov);
		struct ctl_admin_env env = {
			.node = node, .ov = ov, .uptime_s = wall_seconds() - started};
		ctl_admin_run(admin, pfd + 2, nadmin, &env);
	}
}

/* Listen on --admin, or on the default socket of the LSP port the node got; a message on stderr
 * when it cannot. */
static int admin_listen(const struct ctl_cfg *cfg, struct dp_node *node, struct ctl_tls *tls,
			struct ctl_admin **out)
{
	struct sockaddr_storage addr = cfg->admin, lsp;
	bool by_default = addr.ss_family == AF_UNSPEC;
	char err[256];
	int ret = LC_OK;
	if (by_default) {
		ret = dp_node_local_addr(node, DP_SOCK_LSP, &lsp);
		ret = ret == LC_OK ? ctl_admin_default(ctl_addr_port(&lsp), &addr) : ret;
		if (ret != LC_OK) {
			fprintf(stderr, "locusd: no default admin socket (%s): give --admin\n",
				lc_strerror(ret));
			return ret;
		}
	}
	ret = ctl_admin_new(out, &addr, by_default, tls, err, sizeof(err));
	if (ret != LC_OK) {
		fprintf(stderr, "locusd: %s\n", err);
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct ctl_cfg cfg;
	char err[512];
	ctl_cfg_defaults(&cfg);
	switch (ctl_cfg_parse(&cfg, argc, (const char *const *)argv, err, sizeof(err))) {
	case CTL_CFG_HELP:
		fputs(ctl_cfg_usage(), stdout);
		return 0;
	case CTL_CFG_VERSION:
		printf("locusd %s\n", LOCUS_VERSION);
		return 0;
	case CTL_CFG_ERROR:
		fprintf(stderr, "locusd: %s\n", err);
		return 2;
	case CTL_CFG_RUN:
		break;
	}
	lc_log_set_level((enum lc_log_level)cfg.log_level);
	unsigned workers = cfg.workers ? cfg.workers : default_workers();

	/* Before DPDK: a bad certificate is a bad flag, found without bringing up the EAL, its ports,
	 * an af_xdp program on the interface or the TAP, and with nothing of them to take down. */
	struct ctl_tls *tls = NULL;
	if (ctl_cfg_secured(&cfg)) {
		struct ctl_tls_files files = {.ca = cfg.overlay_ca,
					      .cert = cfg.cert,
					      .key = cfg.key,
					      .crl = cfg.crl[0] != '\0' ? cfg.crl : NULL};
		if (ctl_tls_new(&tls, &files, err, sizeof(err)) != LC_OK) {
			fprintf(stderr, "locusd: %s\n", err);
			return 2; /* a certificate that cannot work is a bad flag */
		}
	}

	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* inherited by every worker */
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (cfg.dpdk) { /* after the mask: the EAL's threads inherit it */
		int status = dpdk_start(&cfg, argv[0], &workers);
		if (status != 0) {
			ctl_tls_free(tls);
			return status;
		}
	}

	/* one secret per use: a To tag (seen by every UA) must reveal nothing that seals a reply
	 * context (trusted from the overlay) */
	uint8_t tag_key[DP_MAC_KEY_LEN], ctx_key[DP_MAC_KEY_LEN];
	int ret = random_bytes(tag_key, sizeof(tag_key));
	if (ret == LC_OK) {
		ret = random_bytes(ctx_key, sizeof(ctx_key));
	}
	if (ret != LC_OK) {
		fprintf(stderr, "locusd: cannot draw the node's secrets (getrandom): %s\n",
			strerror(-ret));
		ctl_tls_free(tls);
		dp_dpdk_fini();
		return 1;
	}
	struct dp_cfg dp;
	ctl_cfg_to_dp(&cfg, &dp, tag_key, ctx_key);
	explicit_bzero(tag_key, sizeof(tag_key)); /* dp holds the only copies */
	explicit_bzero(ctx_key, sizeof(ctx_key));
	dp.secured = tls != NULL;
	dp.writer = random_u64(); /* the node id replaces it once the overlay publishes a table */
	uint32_t started = wall_seconds();
	struct dp_node_cfg ncfg = {
		.cfg = &dp,
		.io = cfg.dpdk ? dp_dpdk_io_ops() : &dp_io_sock_ops,
		.io_cfg = {.addr = {cfg.sip, cfg.lsp}, .rcvbuf_bytes = 4 << 20},
		.nworkers = workers,
		.store_cfg = {.max_bindings =
				      (uint32_t)((cfg.max_bindings + workers - 1) / workers)},
		.now_s = started,
	};
	struct dp_node *node = NULL;
	ret = dp_node_new(&node, &ncfg);
	if (ret != LC_OK) {
		char sip_s[64], lsp_s[64];
		ctl_addr_format(&cfg.sip, sip_s, sizeof(sip_s));
		ctl_addr_format(&cfg.lsp, lsp_s, sizeof(lsp_s));
		fprintf(stderr, "locusd: cannot start on sip=%s lsp=%s: %s\n", sip_s, lsp_s,
			ret > -1000 ? strerror(-ret) : lc_strerror(ret));
		ctl_tls_free(tls);
		dp_dpdk_fini();
		return 1;
	}
	struct ctl_admin *admin = NULL;
	if (sfd < 0 || admin_listen(&cfg, node, tls, &admin) != LC_OK) {
		if (sfd < 0) {
			fprintf(stderr, "locusd: signalfd: %s\n", strerror(errno));
		}
		dp_node_free(node);
		ctl_tls_free(tls);
		dp_dpdk_fini();
		return 1;
	}

	pthread_t tid[DP_MAX_WORKERS];
	if (start_workers(node, cfg.dpdk, tid, workers) != LC_OK) {
		if (cfg.dpdk) {
			dp_node_stop(node);
			dp_dpdk_wait();
		}
		ctl_admin_free(admin);
		dp_node_free(node);
		ctl_tls_free(tls);
		dp_dpdk_fini();
		return 1;
	}
	struct sockaddr_storage lsp_bound;
	struct ctl_ovl *ov = NULL;
	char ovl_err[256] = "no local LSP address for the overlay"; /* ctl_ovl_new overwrites it */
	if (dp_node_local_addr(node, DP_SOCK_LSP, &lsp_bound) != LC_OK ||
	    ctl_ovl_new(&ov, &cfg, node, tls, &lsp_bound, ovl_err, sizeof(ovl_err)) != LC_OK) {
		fprintf(stderr, "locusd: %s\n", ovl_err);
		dp_node_stop(node);
		join_workers(cfg.dpdk, tid, workers);
		ctl_admin_free(admin);
		dp_node_free(node);
		ctl_tls_free(tls);
		dp_dpdk_fini();
		return 1;
	}
	print_ready(node, &cfg, admin, workers);
	lc_info("locusd %s: %u workers, max %llu bindings, overlay %s", LOCUS_VERSION, workers,
		(unsigned long long)cfg.max_bindings, cfg.overlay);
	log_security(tls, &cfg);

	control_loop(sfd, admin, node, ov, started);
	ctl_admin_free(admin); /* no admin while leaving: its socket file goes now */

	ctl_ovl_leave(ov, LEAVE_MAX_MS);
	dp_node_stop(node);
	join_workers(cfg.dpdk, tid, workers);
	ctl_ovl_free(ov);
	close(sfd);
	dp_node_free(node);
	ctl_tls_free(tls);
	dp_dpdk_fini(); /* ports stopped and closed, rte_eal_cleanup */
	lc_info("stopped");
	return 0;
}
