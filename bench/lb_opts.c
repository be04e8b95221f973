/* SPDX-License-Identifier: MIT */
/*
 * locus-bench's options (lb_opts.h): the usage text, parsing with getopt_long, and the checks
 * that run once every option is known (a mix needs the targets of its protocols, a window needs
 * one slot per thread, and so on). Numbers accept a k or M suffix (100k, 1M).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "bench/lb_lsp.h"
#include "bench/lb_opts.h"

static const char usage_text[] =
	"usage: locus-bench --target ADDR:PORT [options]\n"
	"A SIP and LSP load generator for registrars and redirect servers: it sends REGISTERs,\n"
	"INVITEs and LSP publishes/lookups like real clients, checks every answer, and reports\n"
	"throughput, latency percentiles and wrong, late and missing answers.\n"
	"\n"
	"Targets:\n"
	"  --target ADDR:PORT      SIP server (repeat it: requests go round robin over them)\n"
	"  --lsp-target ADDR:PORT  LSP node for the lsp-* operations (repeatable)\n"
	"  --bind ADDR             source address (default: the one the kernel picks for the target)\n"
	"  --domain NAME           domain of the AORs (default example.com)\n"
	"  --overlay NAME          LSP overlay identifier (default locus.invalid)\n"
	"Workload:\n"
	"  --workload OP           one operation: register (new AORs), refresh, unregister, invite\n"
	"                          (302 expected), unknown (INVITE, 404 expected), lsp-publish,\n"
	"                          lsp-lookup, lsp-unknown (default register)\n"
	"  --mix OP=W[,OP=W...]    a weighted mix of operations, e.g. refresh=6,invite=3,unknown=1\n"
	"  --aors N                size of the AOR set (default 100000)\n"
	"  --registered K          AORs 0..K-1 are already registered (default: 0 when the mix\n"
	"                          registers new AORs, else all of them)\n"
	"  --seed X                names the AOR set; the same seed gives the same AORs (default 1)\n"
	"  --expires S             Expires of REGISTERs and publishes (default 3600)\n"
	"  --run-id X              in the REGISTERs' Call-IDs (default: random per run)\n"
	"Load:\n"
	"  --window W              closed loop: W requests in flight (default 128)\n"
	"  --rate R                open loop: R requests/s offered, whatever the answers do\n"
	"  --max-outstanding N     open loop: at most N in flight per thread (default 65536)\n"
	"  --threads T             sending threads (default 1)\n"
	"  --sockets S             source ports per thread (default 8)\n"
	"  --count N               start N requests, then stop\n"
	"  --duration S            start requests for S seconds (default 10 without --count)\n"
	"Transactions:\n"
	"  --t1-ms MS              SIP T1: first retransmission after MS, doubling (timer A/E;\n"
	"                          default 500; 0: never retransmit)\n"
	"  --t2-ms MS              SIP T2: cap of non-INVITE retransmission intervals (default 4000)\n"
	"  --timeout-ms MS         give up after MS: a missing answer (timer B/F; default 64*T1)\n"
	"  --no-ack                do not ACK the non-2xx final answers to INVITEs\n"
	"  --rcvbuf-kb K           socket receive buffer (default 4096)\n"
	"DPDK (no kernel in the path; bench/README.md):\n"
	"  --dpdk-args \"EAL ARGS\"  send and receive on a DPDK port instead of sockets: the EAL's\n"
	"                          arguments, split like a shell does, e.g. \"--lcores 0@0 --no-huge\n"
	"                          -m 256 --no-shconf --no-pci --vdev=net_memif0,role=client,...\"\n"
	"                          One queue pair per thread; --bind gives our IPv4 address (we\n"
	"                          answer ARP for it); --sockets is then 1 or 2 source ports\n"
	"Output:\n"
	"  --json FILE             also write the JSON record to FILE\n"
	"  --label TEXT            copied into the JSON record\n"
	"  --quiet                 no table; the JSON line is still printed\n"
	"  --progress, --no-progress  the live line on stderr (default: when it is a terminal)\n"
	"  --show-wrong N          print the first N wrong answers in full (default 3)\n"
	"  --help, --version\n"
	"\n"
	"Exit status: 0 all answers right; 1 some answer was wrong; 2 bad options; 3 the run could\n"
	"not start (socket errors). Missing and late answers are reported, not failed on.\n";

enum {
	O_TARGET = 256,
	O_LSP_TARGET,
	O_BIND,
	O_DOMAIN,
	O_OVERLAY,
	O_WORKLOAD,
	O_MIX,
	O_AORS,
	O_REGISTERED,
	O_SEED,
	O_EXPIRES,
	O_RUN_ID,
	O_WINDOW,
	O_RATE,
	O_MAX_OUT,
	O_THREADS,
	O_SOCKETS,
	O_COUNT,
	O_DURATION,
	O_T1,
	O_T2,
	O_TIMEOUT,
	O_NO_ACK,
	O_RCVBUF,
	O_DPDK_ARGS,
	O_JSON,
	O_LABEL,
	O_QUIET,
	O_PROGRESS,
	O_NO_PROGRESS,
	O_SHOW_WRONG,
	O_HELP,
	O_VERSION,
};

static const struct option long_opts[] = {
	{"target", required_argument, NULL, O_TARGET},
	{"lsp-target", required_argument, NULL, O_LSP_TARGET},
	{"bind", required_argument, NULL, O_BIND},
	{"domain", required_argument, NULL, O_DOMAIN},
	{"overlay", required_argument, NULL, O_OVERLAY},
	{"workload", required_argument, NULL, O_WORKLOAD},
	{"mix", required_argument, NULL, O_MIX},
	{"aors", required_argument, NULL, O_AORS},
	{"registered", required_argument, NULL, O_REGISTERED},
	{"seed", required_argument, NULL, O_SEED},
	{"expires", required_argument, NULL, O_EXPIRES},
	{"run-id", required_argument, NULL, O_RUN_ID},
	{"window", required_argument, NULL, O_WINDOW},
	{"rate", required_argument, NULL, O_RATE},
	{"max-outstanding", required_argument, NULL, O_MAX_OUT},
	{"threads", required_argument, NULL, O_THREADS},
	{"sockets", required_argument, NULL, O_SOCKETS},
	{"count", required_argument, NULL, O_COUNT},
	{"duration", required_argument, NULL, O_DURATION},
	{"t1-ms", required_argument, NULL, O_T1},
	{"t2-ms", required_argument, NULL, O_T2},
	{"timeout-ms", required_argument, NULL, O_TIMEOUT},
	{"no-ack", no_argument, NULL, O_NO_ACK},
	{"rcvbuf-kb", required_argument, NULL, O_RCVBUF},
	{"dpdk-args", required_argument, NULL, O_DPDK_ARGS},
	{"json", required_argument, NULL, O_JSON},
	{"label", required_argument, NULL, O_LABEL},
	{"quiet", no_argument, NULL, O_QUIET},
	{"progress", no_argument, NULL, O_PROGRESS},
	{"no-progress", no_argument, NULL, O_NO_PROGRESS},
	{"show-wrong", required_argument, NULL, O_SHOW_WRONG},
	{"help", no_argument, NULL, O_HELP},
	{"version", no_argument, NULL, O_VERSION},
	{NULL, 0, NULL, 0},
};

void lb_cfg_usage(FILE *f)
{
	fputs(usage_text, f);
}

__attribute__((format(printf, 3, 4))) static enum lb_cfg_result bad(char *err, size_t errlen,
								    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return LB_CFG_BAD;
}

/* An unsigned number with an optional k (1e3) or M (1e6) suffix, within [lo, hi]. */
static bool parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	errno = 0;
	if (*s < '0' || *s > '9') {
		return false;
	}
	unsigned long long v = strtoull(s, &end, 0);
	if (errno != 0) {
		return false;
	}
	uint64_t mul = 1;
	if (*end == 'k' || *end == 'K') {
		mul = 1000;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		mul = 1000000;
		end++;
	}
	if (*end != '\0' || (v != 0 && mul > UINT64_MAX / v)) {
		return false;
	}
	v *= mul;
	if (v < lo || v > hi) {
		return false;
	}
	*out = v;
	return true;
}

static bool parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	uint64_t v;
	if (!parse_u64(s, lo, hi, &v)) {
		return false;
	}
	*out = (unsigned)v;
	return true;
}

/* A positive number of seconds or requests/s, fractions allowed (k/M suffixes too). */
static bool parse_pos_double(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (*end == 'k' || *end == 'K') {
		v *= 1e3;
		end++;
	} else if (*end == 'M') {
		v *= 1e6;
		end++;
	}
	if (errno != 0 || end == s || *end != '\0' || !(v > 0) || !isfinite(v)) {
		return false;
	}
	*out = v;
	return true;
}

/* "ADDR:PORT", "[V6]:PORT", or with @p port_optional, a bare address. */
static bool parse_addr(const char *s, struct lb_target *t, bool port_optional)
{
	char host[64];
	const char *port = NULL;
	size_t hlen;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL) {
			return false;
		}
		hlen = (size_t)(close - s - 1);
		s++;
		port = close[1] == ':' ? close + 2 : (close[1] == '\0' ? NULL : "");
	} else {
		const char *colon = strrchr(s, ':');
		hlen = colon ? (size_t)(colon - s) : strlen(s);
		port = colon ? colon + 1 : NULL;
	}
	if (hlen == 0 || hlen >= sizeof(host) || (port == NULL && !port_optional)) {
		return false;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	unsigned p = 0;
	if (port != NULL && !parse_uint(port, port_optional ? 0 : 1, 65535, &p)) {
		return false;
	}
	memset(t, 0, sizeof(*t));
	struct sockaddr_in *a4 = (struct sockaddr_in *)&t->addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&t->addr;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)p);
		t->len = sizeof(*a4);
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)p);
		t->len = sizeof(*a6);
	} else {
		return false;
	}
	return true;
}

static bool add_target(struct lb_target *list, unsigned *n, const char *s)
{
	if (*n == LB_MAX_TARGETS || strlen(s) >= sizeof(list[0].text) ||
	    !parse_addr(s, &list[*n], false)) {
		return false;
	}
	snprintf(list[*n].text, sizeof(list[*n].text), "%s", s);
	(*n)++;
	return true;
}

/* "op=w,op=w" into weights; a bare "op" weighs 1. */
static bool parse_mix(const char *s, unsigned weight[LB_OP_COUNT])
{
	memset(weight, 0, sizeof(unsigned) * LB_OP_COUNT);
	while (*s != '\0') {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		const char *eq = memchr(s, '=', len);
		size_t nlen = eq ? (size_t)(eq - s) : len;
		enum lb_op op = lb_op_by_name(s, (unsigned)nlen);
		unsigned w = 1;
		if (op == LB_OP_COUNT || weight[op] != 0) {
			return false;
		}
		if (eq != NULL) {
			char num[16];
			size_t wl = len - nlen - 1;
			if (wl == 0 || wl >= sizeof(num)) {
				return false;
			}
			memcpy(num, eq + 1, wl);
			num[wl] = '\0';
			if (!parse_uint(num, 0, 1000000, &w)) {
				return false;
			}
		}
		weight[op] = w;
		s += len;
		if (*s == ',') {
			s++;
		}
	}
	for (unsigned i = 0; i < LB_OP_COUNT; i++) {
		if (weight[i] != 0) {
			return true;
		}
	}
	return false;
}

static void defaults(struct lb_cfg *c, int argc, char **argv)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->domain, sizeof(c->domain), "example.com");
	snprintf(c->overlay, sizeof(c->overlay), "locus.invalid");
	c->weight[LB_OP_REGISTER] = 1;
	c->aors = 100000;
	c->seed = 1;
	c->expires_s = 3600;
	c->window = 128;
	c->max_outstanding = 65536;
	c->threads = 1;
	c->sockets = 8;
	c->t1_ms = 500;
	c->t2_ms = 4000;
	c->ack = true;
	c->rcvbuf_kb = 4096;
	c->progress = -1;
	c->show_wrong = 3;
	c->argc = argc;
	c->argv = argv;
	if (getrandom(&c->run_id, sizeof(c->run_id), 0) != sizeof(c->run_id)) {
		c->run_id = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	}
	c->run_id &= 0xffffffffu;
}

__attribute__((format(printf, 3, 4))) static bool fail(char *err, size_t errlen, const char *fmt,
						       ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

/* One option; false with err set when its value is bad. */
static bool apply(struct lb_cfg *c, int opt, const char *v, bool *timeout_set, bool *rate_set,
		  char *err, size_t errlen)
{
	uint64_t u;
	switch (opt) {
	case O_TARGET:
		return add_target(c->sip, &c->nsip, v) ||
		       fail(err, errlen, "--target '%s': want ADDR:PORT (at most %d)", v,
			    LB_MAX_TARGETS);
	case O_LSP_TARGET:
		return add_target(c->lsp, &c->nlsp, v) ||
		       fail(err, errlen, "--lsp-target '%s': want ADDR:PORT (at most %d)", v,
			    LB_MAX_TARGETS);
	case O_BIND:
		return parse_addr(v, &c->bind, true) ||
		       fail(err, errlen, "--bind '%s': want an address", v);
	case O_DOMAIN:
		if (strlen(v) >= sizeof(c->domain)) {
			return fail(err, errlen, "--domain: too long");
		}
		snprintf(c->domain, sizeof(c->domain), "%s", v);
		return true;
	case O_OVERLAY:
		if (strlen(v) == 0 || strlen(v) >= sizeof(c->overlay)) {
			return fail(err, errlen, "--overlay: empty or too long");
		}
		snprintf(c->overlay, sizeof(c->overlay), "%s", v);
		return true;
	case O_WORKLOAD:
		if (strchr(v, '=') != NULL || strchr(v, ',') != NULL || !parse_mix(v, c->weight)) {
			return fail(err, errlen, "--workload '%s': unknown operation (see --help)",
				    v);
		}
		return true;
	case O_MIX:
		return parse_mix(v, c->weight) ||
		       fail(err, errlen,
			    "--mix '%s': want OP=WEIGHT[,OP=WEIGHT...] with known, "
			    "distinct operations and a weight above 0 somewhere",
			    v);
	case O_AORS:
		return (parse_u64(v, 1, UINT32_MAX, &c->aors)) ||
		       fail(err, errlen, "--aors '%s': want 1..%u", v, UINT32_MAX);
	case O_REGISTERED:
		if (!parse_u64(v, 0, UINT32_MAX, &c->registered)) {
			return fail(err, errlen, "--registered '%s': want a number", v);
		}
		c->registered |= 1ull << 63; /* "given": resolved after parsing */
		return true;
	case O_SEED:
		return parse_u64(v, 0, UINT64_MAX, &c->seed) ||
		       fail(err, errlen, "--seed '%s': want a number", v);
	case O_EXPIRES:
		if (!parse_u64(v, 1, UINT32_MAX, &u)) {
			return fail(err, errlen, "--expires '%s': want seconds above 0", v);
		}
		c->expires_s = (uint32_t)u;
		return true;
	case O_RUN_ID:
		return (parse_u64(v, 0, UINT32_MAX, &c->run_id)) ||
		       fail(err, errlen, "--run-id '%s': want 0..2^32-1", v);
	case O_WINDOW:
		return parse_uint(v, 1, 1u << 20, &c->window) ||
		       fail(err, errlen, "--window '%s': want 1..1048576", v);
	case O_RATE:
		*rate_set = true;
		return parse_pos_double(v, &c->rate) ||
		       fail(err, errlen, "--rate '%s': want requests/s above 0", v);
	case O_MAX_OUT:
		if (!parse_u64(v, 1, LB_LSP_MAX_SLOTS, &u)) {
			return fail(err, errlen, "--max-outstanding '%s': want 1..%u", v,
				    LB_LSP_MAX_SLOTS);
		}
		c->max_outstanding = (uint32_t)u;
		return true;
	case O_THREADS:
		return parse_uint(v, 1, LB_MAX_THREADS, &c->threads) ||
		       fail(err, errlen, "--threads '%s': want 1..%d", v, LB_MAX_THREADS);
	case O_SOCKETS:
		c->sockets_set = true;
		return parse_uint(v, 1, LB_MAX_SOCKETS, &c->sockets) ||
		       fail(err, errlen, "--sockets '%s': want 1..%d", v, LB_MAX_SOCKETS);
	case O_COUNT:
		return parse_u64(v, 1, UINT64_MAX, &c->count) ||
		       fail(err, errlen, "--count '%s': want a number above 0", v);
	case O_DURATION:
		return parse_pos_double(v, &c->duration_s) ||
		       fail(err, errlen, "--duration '%s': want seconds above 0", v);
	case O_T1:
		return parse_uint(v, 0, 60000, &c->t1_ms) ||
		       fail(err, errlen, "--t1-ms '%s': want 0..60000", v);
	case O_T2:
		return parse_uint(v, 1, 600000, &c->t2_ms) ||
		       fail(err, errlen, "--t2-ms '%s': want 1..600000", v);
	case O_TIMEOUT:
		*timeout_set = true;
		return parse_uint(v, 1, 3600000, &c->timeout_ms) ||
		       fail(err, errlen, "--timeout-ms '%s': want 1..3600000", v);
	case O_NO_ACK:
		c->ack = false;
		return true;
	case O_RCVBUF:
		return parse_uint(v, 64, 1u << 20, &c->rcvbuf_kb) ||
		       fail(err, errlen, "--rcvbuf-kb '%s': want 64..1048576", v);
	case O_DPDK_ARGS:
		c->dpdk_args = v;
		return true;
	case O_JSON:
		c->json_path = v;
		return true;
	case O_LABEL:
		c->label = v;
		return true;
	case O_QUIET:
		c->quiet = true;
		return true;
	case O_PROGRESS:
		c->progress = 1;
		return true;
	case O_NO_PROGRESS:
		c->progress = 0;
		return true;
	case O_SHOW_WRONG:
		return parse_uint(v, 0, 1000000, &c->show_wrong) ||
		       fail(err, errlen, "--show-wrong '%s': want a number", v);
	default:
		return false;
	}
}

static void mix_text(struct lb_cfg *c)
{
	size_t n = 0;
	c->mix_text[0] = '\0';
	for (unsigned i = 0; i < LB_OP_COUNT; i++) {
		if (c->weight[i] != 0 && n < sizeof(c->mix_text)) {
			n += (size_t)snprintf(c->mix_text + n, sizeof(c->mix_text) - n, "%s%s=%u",
					      n ? "," : "", lb_op_info(i)->name, c->weight[i]);
		}
	}
}

/* DPDK: our own IPv4 address (--bind), IPv4 targets, and one or two source ports per thread
 * (the receive classifier, net/net_rx.h, knows NET_MAX_PORTS ports per queue). */
static enum lb_cfg_result finish_dpdk(struct lb_cfg *c, int family, char *err, size_t errlen)
{
	if (family != AF_INET) {
		return bad(err, errlen, "--dpdk-args: the targets must be IPv4 addresses");
	}
	if (c->bind.len == 0 || c->bind.addr.ss_family != AF_INET) {
		return bad(err, errlen, "--dpdk-args: give our IPv4 address with --bind ADDR");
	}
	if (!c->sockets_set) {
		c->sockets = 1;
	}
	if (c->sockets > 2) {
		return bad(err, errlen,
			   "--dpdk-args: --sockets %u: at most 2 source ports per thread",
			   c->sockets);
	}
	return LB_CFG_RUN;
}

/* The checks that need every option. */
static enum lb_cfg_result finish(struct lb_cfg *c, bool timeout_set, bool rate_set, char *err,
				 size_t errlen)
{
	bool sip = false, lsp = false, adds = false;
	for (unsigned i = 0; i < LB_OP_COUNT; i++) {
		if (c->weight[i] != 0) {
			sip |= !lb_op_info(i)->lsp;
			lsp |= lb_op_info(i)->lsp;
			adds |= lb_op_info(i)->needs_free;
		}
	}
	if (sip && c->nsip == 0) {
		return bad(err, errlen, "the workload sends SIP: give --target ADDR:PORT");
	}
	if (lsp && c->nlsp == 0) {
		return bad(err, errlen, "the workload sends LSP: give --lsp-target ADDR:PORT");
	}
	int family = c->nsip ? c->sip[0].addr.ss_family : c->lsp[0].addr.ss_family;
	for (unsigned i = 0; i < c->nsip + c->nlsp; i++) {
		const struct lb_target *t = i < c->nsip ? &c->sip[i] : &c->lsp[i - c->nsip];
		if (t->addr.ss_family != family) {
			return bad(err, errlen, "targets must all be IPv4 or all IPv6");
		}
	}
	if (c->dpdk_args != NULL) {
		enum lb_cfg_result r = finish_dpdk(c, family, err, errlen);
		if (r != LB_CFG_RUN) {
			return r;
		}
	}
	if (c->bind.len != 0 && c->bind.addr.ss_family != family) {
		return bad(err, errlen, "--bind must be of the targets' address family");
	}
	if (c->registered >> 63) {
		c->registered &= ~(1ull << 63);
		if (c->registered > c->aors) {
			return bad(err, errlen, "--registered %llu is above --aors %llu",
				   (unsigned long long)c->registered, (unsigned long long)c->aors);
		}
	} else {
		c->registered = adds ? 0 : c->aors;
	}
	c->open_loop = rate_set;
	if (!c->open_loop && c->window < c->threads) {
		return bad(err, errlen, "--window %u is below --threads %u", c->window, c->threads);
	}
	if (c->aors < c->threads) {
		return bad(err, errlen, "--aors is below --threads");
	}
	if (c->t1_ms > 0 && c->t2_ms < c->t1_ms) {
		return bad(err, errlen, "--t2-ms %u is below --t1-ms %u", c->t2_ms, c->t1_ms);
	}
	if (!timeout_set) {
		c->timeout_ms = c->t1_ms > 0 ? 64 * c->t1_ms : 32000;
	}
	if (c->count == 0 && c->duration_s == 0) {
		c->duration_s = 10;
	}
	mix_text(c);
	return LB_CFG_RUN;
}

enum lb_cfg_result lb_cfg_parse(struct lb_cfg *c, int argc, char **argv, char *err, size_t errlen)
{
	bool timeout_set = false, rate_set = false;
	defaults(c, argc, argv);
	opterr = 0;
	optind = 1;
	for (;;) {
		int idx = 0;
		int opt = getopt_long(argc, argv, "+", long_opts, &idx);
		if (opt == -1) {
			break;
		}
		if (opt == O_HELP) {
			lb_cfg_usage(stdout);
			return LB_CFG_EXIT;
		}
		if (opt == O_VERSION) {
			printf("locus-bench %s\n", LB_VERSION);
			return LB_CFG_EXIT;
		}
		if (opt == '?' || opt == ':') {
			const char *what = argv[optind - 1];
			return bad(err, errlen, "unknown option or missing value: '%s'", what);
		}
		if (!apply(c, opt, optarg, &timeout_set, &rate_set, err, errlen)) {
			return LB_CFG_BAD;
		}
	}
	if (optind < argc) {
		return bad(err, errlen, "unexpected argument '%s'", argv[optind]);
	}
	return finish(c, timeout_set, rate_set, err, errlen);
}
