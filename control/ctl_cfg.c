/* SPDX-License-Identifier: MIT */
/*
 * Flag parsing for locusd. One table lists every flag with its parser, so --help, the command
 * line and config files can never disagree about what exists.
 */
#include "control/ctl_cfg.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/lc_error.h"
#include "common/lc_log.h"
#include "control/ctl_addr.h"
#include "control/ctl_admin.h"
#include "dataplane/dp_dpdk.h"
#include "dht/dht_key.h"
#include "dht/lsp.h"

#define MAX_CONFIG_DEPTH 4

struct parse_ctx {
	struct ctl_cfg *cfg;
	char *err;
	size_t errcap;
	int depth; /* of --config files, against include loops */
};

typedef int (*flag_fn)(struct parse_ctx *pc, const char *name, const char *value);

struct flag {
	const char *name;
	flag_fn fn;
	const char *arg;
	const char *help;
};

__attribute__((format(printf, 2, 3))) static int fail(struct parse_ctx *pc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pc->err, pc->errcap, fmt, ap);
	va_end(ap);
	return LC_EINVAL;
}

static int parse_u64(const char *v, uint64_t max, uint64_t *out)
{
	if (*v < '0' || *v > '9') {
		return LC_EINVAL;
	}
	errno = 0;
	char *end;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || x > max) {
		return LC_EINVAL;
	}
	*out = x;
	return LC_OK;
}

static int u32_flag(struct parse_ctx *pc, const char *name, const char *v, uint64_t min,
		    uint64_t max, uint32_t *out)
{
	uint64_t x;
	if (parse_u64(v, max, &x) != LC_OK || x < min) {
		return fail(pc, "--%s: '%s' is not a whole number from %llu to %llu", name, v,
			    (unsigned long long)min, (unsigned long long)max);
	}
	*out = (uint32_t)x;
	return LC_OK;
}

static int addr_flag(struct parse_ctx *pc, const char *name, const char *v,
		     struct sockaddr_storage *out)
{
	if (ctl_addr_parse(v, out) != LC_OK) {
		return fail(pc, "--%s: '%s' is not ADDR:PORT (e.g. 127.0.0.1:5060 or [::1]:5060)",
			    name, v);
	}
	return LC_OK;
}

static int f_sip(struct parse_ctx *pc, const char *n, const char *v)
{
	return addr_flag(pc, n, v, &pc->cfg->sip);
}

static int f_lsp(struct parse_ctx *pc, const char *n, const char *v)
{
	return addr_flag(pc, n, v, &pc->cfg->lsp);
}

static int f_admin(struct parse_ctx *pc, const char *n, const char *v)
{
	int ret = ctl_admin_parse(v, &pc->cfg->admin);
	if (ret == LC_ETOOLONG) {
		return fail(pc, "--%s: the socket path '%s' is longer than 107 bytes", n, v);
	}
	if (ret != LC_OK) {
		return fail(pc,
			    "--%s: '%s' is neither a socket path (with a '/', or unix:PATH) nor "
			    "ADDR:PORT (e.g. 127.0.0.1:7401)",
			    n, v);
	}
	return LC_OK;
}

static int f_join(struct parse_ctx *pc, const char *n, const char *v)
{
	pc->cfg->has_join = true;
	return addr_flag(pc, n, v, &pc->cfg->join);
}

static bool valid_name(const char *v)
{
	size_t len = strlen(v);
	if (len == 0 || len > DP_DOMAIN_MAX) {
		return false;
	}
	for (const char *p = v; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_') {
			return false;
		}
	}
	return true;
}

static int f_overlay(struct parse_ctx *pc, const char *n, const char *v)
{
	if (!valid_name(v)) {
		return fail(pc, "--%s: '%s' is not a domain name", n, v);
	}
	snprintf(pc->cfg->overlay, sizeof(pc->cfg->overlay), "%s", v);
	return LC_OK;
}

/* --domain NAME, repeatable, or a comma-separated list. */
static int f_domain(struct parse_ctx *pc, const char *n, const char *v)
{
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s", v);
	char *save = NULL;
	for (char *d = strtok_r(buf, ",", &save); d != NULL; d = strtok_r(NULL, ",", &save)) {
		size_t len = strlen(d);
		if (len > 1 && d[len - 1] == '.') {
			d[--len] = '\0';
		}
		if (!valid_name(d)) {
			return fail(pc, "--%s: '%s' is not a domain name", n, d);
		}
		if (pc->cfg->ndomains == DP_MAX_DOMAINS) {
			return fail(pc, "--%s: more than 64 domains (at '%s')", n, d);
		}
		char *dst = pc->cfg->domain[pc->cfg->ndomains++];
		for (size_t i = 0; i <= len; i++) {
			dst[i] = (char)tolower((unsigned char)d[i]);
		}
	}
	return LC_OK;
}

static int f_workers(struct parse_ctx *pc, const char *n, const char *v)
{
	uint32_t x = 0;
	int ret = u32_flag(pc, n, v, 1, 64, &x);
	pc->cfg->workers = x;
	return ret;
}

static int f_replicas(struct parse_ctx *pc, const char *n, const char *v)
{
	uint32_t x = 0;
	int ret = u32_flag(pc, n, v, 1, 16, &x);
	pc->cfg->replicas = x;
	return ret;
}

static int f_write_quorum(struct parse_ctx *pc, const char *n, const char *v)
{
	uint32_t x = 0;
	int ret = u32_flag(pc, n, v, 1, 16, &x);
	pc->cfg->write_quorum = x;
	return ret;
}

static int f_successors(struct parse_ctx *pc, const char *n, const char *v)
{
	uint32_t x = 0;
	int ret = u32_flag(pc, n, v, 1, 32, &x);
	pc->cfg->successors = x;
	return ret;
}

static int f_one_hop_max(struct parse_ctx *pc, const char *n, const char *v)
{
	uint32_t x = 0;
	int ret = u32_flag(pc, n, v, 1, 1000000, &x);
	pc->cfg->one_hop_max = x;
	return ret;
}

static int f_overlay_batch(struct parse_ctx *pc, const char *n, const char *v)
{
	uint32_t x = 0;
	int ret = u32_flag(pc, n, v, 0, DHT_LSP_MAX_MSG, &x);
	if (ret == LC_OK && x != 0 && x < CTL_BATCH_MIN) {
		return fail(pc, "--%s: '%s' is below %u bytes (0 turns batching off)", n, v,
			    CTL_BATCH_MIN);
	}
	pc->cfg->overlay_batch = x;
	return ret;
}

static int f_rx_coalesce_us(struct parse_ctx *pc, const char *n, const char *v)
{
	uint32_t x = 0;
	int ret = u32_flag(pc, n, v, 0, CTL_RX_COALESCE_MAX_US, &x);
	pc->cfg->rx_coalesce_us = x;
	return ret;
}

static int f_dataplane(struct parse_ctx *pc, const char *n, const char *v)
{
	if (strcmp(v, "sock") == 0) {
		pc->cfg->dpdk = false;
		return LC_OK;
	}
	if (strcmp(v, "dpdk") == 0) {
		pc->cfg->dpdk = true;
		return LC_OK;
	}
	return fail(pc, "--%s: '%s' is neither sock nor dpdk", n, v);
}

/* Remember the first DPDK-only flag: validate() refuses it without --dataplane dpdk. */
static void dpdk_only(struct parse_ctx *pc, const struct flag *f);

static int f_dpdk_args(struct parse_ctx *pc, const char *n, const char *v)
{
	if (strlen(v) >= sizeof(pc->cfg->dpdk_args)) {
		return fail(pc, "--%s: '%.40s...' is too long", n, v);
	}
	char buf[1024], *argv[DP_DPDK_ARGS_MAX];
	int argc = dp_dpdk_split_args(v, buf, sizeof(buf), argv, DP_DPDK_ARGS_MAX);
	if (argc == LC_EINVAL) {
		return fail(pc, "--%s: '%s' has an unterminated quote or a trailing backslash", n,
			    v);
	}
	if (argc < 0) {
		return fail(pc, "--%s: more than %d arguments", n, DP_DPDK_ARGS_MAX);
	}
	snprintf(pc->cfg->dpdk_args, sizeof(pc->cfg->dpdk_args), "%s", v);
	return LC_OK;
}

static int f_dpdk_mbufs(struct parse_ctx *pc, const char *n, const char *v)
{
	return u32_flag(pc, n, v, 1024, 16u << 20, &pc->cfg->dpdk_mbufs);
}

static int f_dpdk_poll(struct parse_ctx *pc, const char *n, const char *v)
{
	if (strcmp(v, "busy") != 0 && strcmp(v, "adaptive") != 0) {
		return fail(pc, "--%s: '%s' is neither busy nor adaptive", n, v);
	}
	pc->cfg->dpdk_busy_poll = strcmp(v, "busy") == 0;
	return LC_OK;
}

static int f_dpdk_tap(struct parse_ctx *pc, const char *n, const char *v)
{
	size_t len = strlen(v);
	bool good = len > 0 && len < sizeof(pc->cfg->dpdk_tap);
	for (size_t i = 0; i < len && good; i++) {
		good = isalnum((unsigned char)v[i]) || v[i] == '-' || v[i] == '_' || v[i] == '.';
	}
	if (!good) {
		return fail(pc, "--%s: '%s' is not an interface name (1 to 15 of a-z 0-9 - _ .)", n,
			    v);
	}
	snprintf(pc->cfg->dpdk_tap, sizeof(pc->cfg->dpdk_tap), "%s", v);
	return LC_OK;
}

static int f_dpdk_prefix(struct parse_ctx *pc, const char *n, const char *v)
{
	uint32_t x = 0;
	int ret = u32_flag(pc, n, v, 1, 32, &x);
	pc->cfg->dpdk_prefix = x;
	return ret;
}

static int f_dpdk_gateway(struct parse_ctx *pc, const char *n, const char *v)
{
	struct in_addr a;
	if (inet_pton(AF_INET, v, &a) != 1 || a.s_addr == 0) {
		return fail(pc, "--%s: '%s' is not an IPv4 address", n, v);
	}
	pc->cfg->dpdk_gateway = ntohl(a.s_addr);
	return LC_OK;
}

static int f_min_expires(struct parse_ctx *pc, const char *n, const char *v)
{
	return u32_flag(pc, n, v, 1, UINT32_MAX, &pc->cfg->min_expires_s);
}

static int f_max_expires(struct parse_ctx *pc, const char *n, const char *v)
{
	return u32_flag(pc, n, v, 1, UINT32_MAX, &pc->cfg->max_expires_s);
}

static int f_default_expires(struct parse_ctx *pc, const char *n, const char *v)
{
	return u32_flag(pc, n, v, 1, UINT32_MAX, &pc->cfg->default_expires_s);
}

static int f_max_contacts(struct parse_ctx *pc, const char *n, const char *v)
{
	return u32_flag(pc, n, v, 1, 256, &pc->cfg->max_contacts);
}

static int f_max_bindings(struct parse_ctx *pc, const char *n, const char *v)
{
	uint64_t x;
	if (parse_u64(v, 1ull << 32, &x) != LC_OK || x < 1) {
		return fail(pc, "--%s: '%s' is not a whole number from 1 to 4294967296", n, v);
	}
	pc->cfg->max_bindings = x;
	return LC_OK;
}

static int f_log_level(struct parse_ctx *pc, const char *n, const char *v)
{
	int level = lc_log_level_parse(v);
	if (level < 0) {
		return fail(pc, "--%s: '%s' is not one of error, warn, info, debug", n, v);
	}
	pc->cfg->log_level = level;
	return LC_OK;
}

/* A file the node reads at start: it must exist and be readable now, so that a typo is a bad
 * flag (status 2) and not a failure at the first handshake. */
static int file_flag(struct parse_ctx *pc, const char *name, const char *v, char *out)
{
	if (strlen(v) >= CTL_CFG_PATH_MAX) {
		return fail(pc, "--%s: the path is longer than %d bytes", name,
			    CTL_CFG_PATH_MAX - 1);
	}
	if (access(v, R_OK) != 0) {
		return fail(pc, "--%s: cannot read '%s': %s", name, v, strerror(errno));
	}
	snprintf(out, CTL_CFG_PATH_MAX, "%s", v);
	return LC_OK;
}

static int f_overlay_ca(struct parse_ctx *pc, const char *n, const char *v)
{
	return file_flag(pc, n, v, pc->cfg->overlay_ca);
}

static int f_cert(struct parse_ctx *pc, const char *n, const char *v)
{
	return file_flag(pc, n, v, pc->cfg->cert);
}

static int f_key(struct parse_ctx *pc, const char *n, const char *v)
{
	return file_flag(pc, n, v, pc->cfg->key);
}

static int f_crl(struct parse_ctx *pc, const char *n, const char *v)
{
	return file_flag(pc, n, v, pc->cfg->crl);
}

static int f_config(struct parse_ctx *pc, const char *n, const char *v);

static const struct flag flags[] = {
	{"sip", f_sip, "ADDR:PORT", "SIP over UDP (default 0.0.0.0:5060; port 0 picks one)"},
	{"lsp", f_lsp, "ADDR:PORT", "LSP over UDP, overlay links over TCP (default 0.0.0.0:7400)"},
	{"admin", f_admin, "PATH|ADDR:PORT",
	 "admin interface for locusctl: a Unix socket, mode 0600 (a PATH\n"
	 "                               has a '/', or write unix:PATH), or TCP when ADDR:PORT is\n"
	 "                               given; default /run/locus/locusd-LSPPORT.sock as root, else\n"
	 "                               $XDG_RUNTIME_DIR/locus/ or /tmp/locus-UID/, same name"},
	{"join", f_join, "ADDR:PORT", "join the ring through this node's LSP address"},
	{"overlay", f_overlay, "NAME", "overlay identifier, an FQDN (default locus.invalid)"},
	{"domain", f_domain, "NAME[,NAME]", "serve this SIP domain (repeatable; default: any)"},
	{"workers", f_workers, "N", "worker threads (default: one per online CPU)"},
	{"replicas", f_replicas, "R", "copies of each binding in a ring, 1..16 (default 3)"},
	{"write-quorum", f_write_quorum, "W",
	 "copies that hold a write before it is answered, 1..R (default 2)"},
	{"successors", f_successors, "N", "successor list length, 1..32 (default 8)"},
	{"one-hop-max", f_one_hop_max, "N",
	 "full membership view (one-hop routing) up to N nodes (default 4096)"},
	{"overlay-batch", f_overlay_batch, "BYTES",
	 "datagrams to the same member in one burst leave together, as one\n"
	 "                               LSP BATCH of at most BYTES (default 1472, one Ethernet\n"
	 "                               frame; 8192 when --lsp is a loopback address; 0: never;\n"
	 "                               every member must speak BATCH)"},
	{"rx-coalesce-us", f_rx_coalesce_us, "US",
	 "after a burst that was not full, a worker pauses US microseconds\n"
	 "                               (0..1000) before it polls again, so that one wake-up and\n"
	 "                               one send serve several requests: less CPU per request at\n"
	 "                               moderate rates, up to US more latency; only while the\n"
	 "                               rate makes a pause gather 2 to 31 requests (default 0:\n"
	 "                               never)"},
	{"dataplane", f_dataplane, "sock|dpdk", "packet I/O backend (default sock)"},
	{"dpdk-args", f_dpdk_args, "\"EAL ARGS\"",
	 "EAL arguments with --dataplane dpdk, split like a shell does, e.g.\n"
	 "                               \"--lcores 0@0,1@1 --no-huge -m 128 --no-shconf --no-pci\n"
	 "                               --vdev=net_af_packet0,iface=eth1,qpairs=1\": one worker\n"
	 "                               per worker lcore, one queue pair per worker (docs/dpdk.md).\n"
	 "                               --sip and --lsp then give the node's IPv4 address on the\n"
	 "                               port (the same for both), for which it answers ARP"},
	{"dpdk-mbufs", f_dpdk_mbufs, "N",
	 "packet buffers of the DPDK ports (default: sized from the ports, at least 8191, ~20 MB)"},
	{"dpdk-poll", f_dpdk_poll, "busy|adaptive",
	 "idle DPDK workers: adaptive (default) sleeps until a frame comes\n"
	 "                               (one af_packet/af_xdp queue; else a 20 us spin, then sleeps\n"
	 "                               16 us doubling to 1 ms); busy polls at 100% of each lcore"},
	{"dpdk-tap", f_dpdk_tap, "NAME",
	 "the kernel's path: a TAP interface NAME with the port's MAC and\n"
	 "                               the node's address; frames locusd does not handle (the\n"
	 "                               overlay's TCP links) go through it (default: none)"},
	{"dpdk-prefix", f_dpdk_prefix, "LEN", "on-link prefix length of the DPDK address (24)"},
	{"dpdk-gateway", f_dpdk_gateway, "IPV4",
	 "next hop for peers outside the prefix (default: on-link only)"},
	{"min-expires", f_min_expires, "S", "shortest registration accepted (default 60)"},
	{"max-expires", f_max_expires, "S", "longer registrations are shortened to this (86400)"},
	{"default-expires", f_default_expires, "S", "when a REGISTER gives none (default 3600)"},
	{"max-contacts", f_max_contacts, "N", "bindings per AOR, 1..256 (default 32)"},
	{"max-bindings", f_max_bindings, "N", "bindings the node can hold (default 1000000)"},
	{"overlay-ca", f_overlay_ca, "FILE",
	 "PEM CA of the overlay: links are TLS 1.3, peers need a certificate it issued"},
	{"cert", f_cert, "FILE", "PEM certificate of this node, issued by --overlay-ca"},
	{"key", f_key, "FILE", "PEM private key of --cert (the node id is its hash)"},
	{"crl", f_crl, "FILE", "PEM CRL of --overlay-ca, re-read when the file changes"},
	{"log-level", f_log_level, "LEVEL", "error, warn, info or debug (default info)"},
	{"config", f_config, "FILE", "read flags from FILE: \"name value\" per line, # comments"},
};

static void dpdk_only(struct parse_ctx *pc, const struct flag *f)
{
	if (pc->cfg->dpdk_only_flag == NULL && strncmp(f->name, "dpdk-", 5) == 0) {
		pc->cfg->dpdk_only_flag = f->name;
	}
}

static const struct flag *find_flag(const char *name)
{
	for (size_t i = 0; i < LC_ARRAY_SIZE(flags); i++) {
		if (strcmp(flags[i].name, name) == 0) {
			return &flags[i];
		}
	}
	return NULL;
}

static int apply(struct parse_ctx *pc, const char *name, const char *value)
{
	const struct flag *f = find_flag(name);
	if (f == NULL) {
		return fail(pc, "unknown flag --%s (see --help)", name);
	}
	if (value == NULL) {
		return fail(pc, "--%s needs a value (see --help)", name);
	}
	dpdk_only(pc, f);
	return f->fn(pc, name, value);
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s)) {
		s++;
	}
	size_t len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1])) {
		s[--len] = '\0';
	}
	return s;
}

static int f_config(struct parse_ctx *pc, const char *n, const char *v)
{
	if (pc->depth >= MAX_CONFIG_DEPTH) {
		return fail(pc, "--%s: '%s' nests config files too deeply", n, v);
	}
	FILE *fp = fopen(v, "r");
	if (fp == NULL) {
		snprintf(pc->err, pc->errcap, "--%s: cannot open '%s': %s", n, v, strerror(errno));
		return LC_EINVAL;
	}
	pc->depth++;
	char line[1200];
	int ret = LC_OK;
	unsigned lineno = 0;
	while (ret == LC_OK && fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash != NULL) {
			*hash = '\0';
		}
		char *s = trim(line);
		if (*s == '\0') {
			continue;
		}
		char *value = s + strcspn(s, " \t=");
		if (*value != '\0') {
			*value++ = '\0';
			value = trim(value);
			if (*value == '=') {
				value = trim(value + 1);
			}
		}
		ret = apply(pc, s, *value != '\0' ? value : NULL);
		if (ret != LC_OK) {
			size_t len = strlen(pc->err);
			snprintf(pc->err + len, pc->errcap - len, " (%s line %u)", v, lineno);
		}
	}
	pc->depth--;
	fclose(fp);
	return ret;
}

void ctl_cfg_defaults(struct ctl_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	/* admin stays AF_UNSPEC: the default socket, named after the LSP port once it is bound */
	int bad = ctl_addr_parse("0.0.0.0:5060", &cfg->sip) |
		  ctl_addr_parse("0.0.0.0:7400", &cfg->lsp);
	assert(bad == LC_OK); /* constant defaults */
	(void)bad;
	snprintf(cfg->overlay, sizeof(cfg->overlay), "locus.invalid");
	cfg->replicas = 3;
	cfg->write_quorum = 2;
	cfg->overlay_batch = CTL_BATCH_AUTO;
	cfg->successors = 8;
	cfg->one_hop_max = 4096;
	cfg->min_expires_s = 60;
	cfg->max_expires_s = 86400;
	cfg->default_expires_s = 3600;
	cfg->max_contacts = 32;
	cfg->max_bindings = 1000000;
	cfg->log_level = LC_LOG_INFO;
	cfg->dpdk_mbufs = DP_DPDK_MBUFS_DEFAULT;
	cfg->dpdk_prefix = 24;
}

/* The IPv4 address of @p ss (host order), or 0 when it is not one. */
static uint32_t ipv4_of(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr)
					: 0;
}

/* With --dataplane dpdk the node's addresses are its own on the port: one IPv4 address. */
static enum ctl_cfg_result validate_dpdk(struct parse_ctx *pc)
{
	const struct ctl_cfg *c = pc->cfg;
	uint32_t sip = ipv4_of(&c->sip), lsp = ipv4_of(&c->lsp);
	if (sip == 0 || sip != lsp || ctl_addr_port(&c->sip) == 0 || ctl_addr_port(&c->lsp) == 0) {
		snprintf(pc->err, pc->errcap,
			 "--dataplane dpdk: --sip and --lsp must give the node's own IPv4 address "
			 "on the DPDK port, the same for both, with a port each (e.g. --sip "
			 "198.18.0.2:5060 --lsp 198.18.0.2:7400)");
		return CTL_CFG_ERROR;
	}
	uint32_t mask = ~0u << (32 - c->dpdk_prefix);
	if (c->dpdk_gateway != 0 &&
	    ((c->dpdk_gateway & mask) != (sip & mask) || c->dpdk_gateway == sip)) {
		snprintf(pc->err, pc->errcap,
			 "--dpdk-gateway: not another address inside the node's /%u",
			 c->dpdk_prefix);
		return CTL_CFG_ERROR;
	}
	return CTL_CFG_RUN;
}

static enum ctl_cfg_result validate(struct parse_ctx *pc)
{
	const struct ctl_cfg *c = pc->cfg;
	if (c->min_expires_s > c->max_expires_s) {
		snprintf(pc->err, pc->errcap, "--min-expires (%u) is above --max-expires (%u)",
			 c->min_expires_s, c->max_expires_s);
		return CTL_CFG_ERROR;
	}
	if (c->default_expires_s < c->min_expires_s || c->default_expires_s > c->max_expires_s) {
		snprintf(pc->err, pc->errcap,
			 "--default-expires (%u) is outside --min-expires..--max-expires (%u..%u)",
			 c->default_expires_s, c->min_expires_s, c->max_expires_s);
		return CTL_CFG_ERROR;
	}
	if (c->dpdk && validate_dpdk(pc) != CTL_CFG_RUN) {
		return CTL_CFG_ERROR;
	}
	if (!c->dpdk && c->dpdk_only_flag != NULL) {
		snprintf(pc->err, pc->errcap, "--%s is only for --dataplane dpdk",
			 c->dpdk_only_flag);
		return CTL_CFG_ERROR;
	}
	bool ca = c->overlay_ca[0] != '\0', cert = c->cert[0] != '\0', key = c->key[0] != '\0';
	if ((ca || cert || key) && !(ca && cert && key)) {
		snprintf(pc->err, pc->errcap,
			 "--overlay-ca, --cert and --key go together (a secured node needs all "
			 "three; a lab node none)");
		return CTL_CFG_ERROR;
	}
	if (c->crl[0] != '\0' && !ca) {
		snprintf(pc->err, pc->errcap, "--crl needs --overlay-ca, --cert and --key");
		return CTL_CFG_ERROR;
	}
	if (c->write_quorum > c->replicas) {
		snprintf(pc->err, pc->errcap, "--write-quorum (%u) is above --replicas (%u)",
			 c->write_quorum, c->replicas);
		return CTL_CFG_ERROR;
	}
	if (c->replicas > c->successors + 1) {
		snprintf(pc->err, pc->errcap,
			 "--replicas (%u) needs --successors of at least %u (the replicas are "
			 "successors)",
			 c->replicas, c->replicas - 1);
		return CTL_CFG_ERROR;
	}
	return CTL_CFG_RUN;
}

enum ctl_cfg_result ctl_cfg_parse(struct ctl_cfg *cfg, int argc, const char *const *argv, char *err,
				  size_t errcap)
{
	struct parse_ctx pc = {.cfg = cfg, .err = err, .errcap = errcap};
	err[0] = '\0';
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			return CTL_CFG_HELP;
		}
		if (strcmp(a, "--version") == 0) {
			return CTL_CFG_VERSION;
		}
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			fail(&pc, "unexpected argument '%s' (flags are --name value; see --help)",
			     a);
			return CTL_CFG_ERROR;
		}
		char name[64];
		const char *value = NULL;
		const char *eq = strchr(a + 2, '=');
		size_t len = eq != NULL ? (size_t)(eq - a - 2) : strlen(a + 2);
		snprintf(name, sizeof(name), "%.*s", (int)LC_MIN(len, sizeof(name) - 1), a + 2);
		if (eq != NULL) {
			value = eq + 1;
		} else if (i + 1 < argc) {
			value = argv[++i];
		}
		if (apply(&pc, name, value) != LC_OK) {
			return CTL_CFG_ERROR;
		}
	}
	return validate(&pc);
}

const char *ctl_cfg_usage(void)
{
	static char text[8192];
	if (text[0] != '\0') {
		return text;
	}
	size_t len = (size_t)snprintf(text, sizeof(text),
				      "usage: locusd [--flag value]...\n"
				      "A locus node: a stateless SIP registrar and redirect server "
				      "over a shared location store.\n\n");
	for (size_t i = 0; i < LC_ARRAY_SIZE(flags) && len < sizeof(text); i++) {
		char left[64];
		snprintf(left, sizeof(left), "--%s %s", flags[i].name, flags[i].arg);
		len += (size_t)snprintf(text + len, sizeof(text) - len, "  %-28s %s\n", left,
					flags[i].help);
	}
	if (len < sizeof(text)) {
		snprintf(text + len, sizeof(text) - len,
			 "  %-28s %s\n  %-28s %s\n\nBad flags exit with status 2.\n", "--help",
			 "this text", "--version", "print the version");
	}
	return text;
}

/* Whether the node's LSP address is a loopback one (127.0.0.0/8, ::1): its datagrams never
 * leave the host, so a batch larger than an Ethernet frame costs no IP fragments. */
static bool lsp_on_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		return IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
	}
	return false;
}

void ctl_cfg_to_dp(const struct ctl_cfg *cfg, struct dp_cfg *dp,
		   const uint8_t tag_key[DP_MAC_KEY_LEN], const uint8_t ctx_key[DP_MAC_KEY_LEN])
{
	memset(dp, 0, sizeof(*dp));
	dp->min_expires_s = cfg->min_expires_s;
	dp->max_expires_s = cfg->max_expires_s;
	dp->default_expires_s = cfg->default_expires_s;
	dp->max_contacts = cfg->max_contacts;
	dp->retry_after_s = 30;
	memcpy(dp->tag_key, tag_key, DP_MAC_KEY_LEN);
	memcpy(dp->ctx_key, ctx_key, DP_MAC_KEY_LEN);
	dp->overlay_id = dht_seed_of(cfg->overlay, strlen(cfg->overlay));
	dp->write_quorum = cfg->write_quorum;
	dp->batch_bytes = cfg->overlay_batch != CTL_BATCH_AUTO ? cfg->overlay_batch
			  : lsp_on_loopback(&cfg->lsp)	       ? CTL_BATCH_LOOPBACK
							       : CTL_BATCH_DEFAULT;
	dp->rx_coalesce_us = cfg->rx_coalesce_us;
	dp->ndomains = cfg->ndomains;
	memcpy(dp->domain, cfg->domain, sizeof(dp->domain));
	snprintf(dp->server, sizeof(dp->server), "locus/%s", LOCUS_VERSION);
}
