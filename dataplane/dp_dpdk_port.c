/* SPDX-License-Identifier: MIT */
/*
 * Bringing DPDK up and down for a node (dp_dpdk.h): the EAL from --dpdk-args, the ports with one
 * RX/TX queue pair per worker lcore, the mbuf pool, the kernel's exception path, and the worker
 * lcores. All of it runs on control, before the workers start or after they stopped.
 *
 * Ports and queues: every ethdev the EAL probed (except our TAP) is a port of the node; they
 * all carry the node's one IPv4 address and the first port's MAC. Either there is one port, and
 * worker i polls its queue i (af_packet with qpairs=N, a NIC), or there are as many ports as
 * workers, each with one queue (af_xdp on veth takes one vdev per queue: start_queue=i).
 *
 * The kernel's path (--dpdk-tap NAME): the overlay's TCP links stay on the kernel stack, which
 * needs the node's address too, and peers know the node by one address only. So locusd creates
 * a TAP (the net_tap PMD) with the port's MAC, gives it the node's address and prefix
 * (SIOCSIFADDR, SIOCSIFNETMASK: before the overlay binds its listener), and the workers pass it
 * every frame the stack does not consume (dp_io_dpdk.c) and send what the kernel writes to it.
 * With af_packet the kernel also sees every frame on the port's own interface, and with the
 * address now local it would answer them too (ICMP port unreachable for our SIP datagrams, a
 * second copy of each TCP segment): locusd sets rp_filter=1 on that interface, which makes the
 * kernel drop frames whose source it routes through the TAP. Without --dpdk-tap the kernel
 * must have the address some other way for the overlay's listener (docs/dpdk.md).
 *
 * The mbuf pool: sized from what the ports' queues hold (ring descriptors; af_xdp's fill ring of
 * AF_XDP_FILL per queue, whatever the descriptor count), the lcores' caches and what the queues
 * keep in flight (pool_need); an explicit --dpdk-mbufs below that is refused with the number it
 * needs. Its objects are packed back to back (RTE_MEMPOOL_F_NO_IOVA_CONTIG, when IOVA is the
 * virtual address, so no device needs an object within one page): net_af_xdp (22.11) registers
 * the pool's memory as its UMEM assuming exactly that (populated_size x object size from the
 * first object), and with the default layout (no object across a 4 KB page under --no-huge, one
 * object per page) the upper part of the pool lay outside the UMEM: frames sent from those mbufs
 * were refused by the kernel as invalid descriptors (XDP_STATISTICS tx_invalid_descs), silently
 * for DPDK, and their fill-ring buffers were lost. pool_check refuses to run af_xdp on a pool
 * that is not packed.
 *
 * Errors: a bad --dpdk-args or a missing device is one line in err and LC_EINVAL (exit 2). The
 * EAL's own log and its stdout and stderr are captured during rte_eal_init, so the line can
 * quote the EAL's complaint instead of its usage text.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/lc_error.h"
#include "common/lc_log.h"
#include "dataplane/dp_dpdk_internal.h"

#define RING_DESC 1024
#define POOL_CACHE 256
#define AF_XDP_FILL 2048 /* net_af_xdp (22.11) puts this many mbufs in each RX queue's fill ring */
#define TAP_DEV "net_tap_locus"

struct dpdk_state dpdk;
const char *dpdk_counter_name[DPDK_NCOUNTERS];
static char drop_names[NET_DROP_COUNT_][40];
static char eal_said[200]; /* the last line of the EAL's log during init, for "no port" */

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
	return LC_EINVAL;
}

static void name_counters(void)
{
	static const char *const own[DPDK_C_COUNT_] = {
#define DPDK_C_NAME(name, text) text,
		DPDK_COUNTERS(DPDK_C_NAME)
#undef DPDK_C_NAME
	};
	for (unsigned i = 0; i < DPDK_C_COUNT_; i++) {
		dpdk_counter_name[i] = own[i];
	}
	for (unsigned i = 0; i < NET_DROP_COUNT_; i++) {
		snprintf(drop_names[i], sizeof(drop_names[i]), "drop_%s", net_drop_name[i]);
		dpdk_counter_name[DPDK_C_COUNT_ + i] = drop_names[i];
	}
}

/* The last non-empty line of the EAL's captured log, without its newline. */
static void last_line(const char *log, char *out, size_t cap)
{
	const char *end = log + strlen(log);
	while (end > log && (end[-1] == '\n' || end[-1] == ' ')) {
		end--;
	}
	const char *start = end;
	while (start > log && start[-1] != '\n') {
		start--;
	}
	snprintf(out, cap, "%.*s", (int)(end - start), start);
}

/* Read back what was written to @p fd (a memfd) into @p out. */
static void read_back(int fd, char *out, size_t cap)
{
	ssize_t n = fd >= 0 ? pread(fd, out, cap - 1, 0) : -1;
	out[n > 0 ? n : 0] = '\0';
}

/* The first line of @p text that mentions an option (getopt's complaint), or "". */
static void option_line(const char *text, char *out, size_t cap)
{
	out[0] = '\0';
	const char *hit = strstr(text, "option");
	if (hit == NULL) {
		return;
	}
	const char *start = hit, *end = strchr(hit, '\n');
	while (start > text && start[-1] != '\n') {
		start--;
	}
	const char *colon = strstr(start, ": "); /* drop getopt's "argv0: " */
	if (colon != NULL && colon < hit) {
		start = colon + 2;
	}
	snprintf(out, cap, "%.*s", (int)((end != NULL ? end : start + strlen(start)) - start),
		 start);
}

/*
 * rte_eal_init with its log captured in memory and its stdout (usage text) and stderr (getopt,
 * "EAL: FATAL") diverted, so that a failure is one line quoting the EAL's complaint. What it
 * says while succeeding is not shown: the node's own start-up line covers it.
 */
static int eal_init(int argc, char **argv, char *err, size_t errcap)
{
	char *log = NULL, out[2048];
	size_t loglen = 0;
	FILE *mem = open_memstream(&log, &loglen);
	if (mem != NULL) {
		rte_openlog_stream(mem);
	}
	fflush(stdout);
	fflush(stderr);
	int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
	int sink = memfd_create("locusd-eal", MFD_CLOEXEC);
	if (saved_out >= 0 && saved_err >= 0 && sink >= 0) {
		dup2(sink, STDOUT_FILENO);
		dup2(sink, STDERR_FILENO);
	}
	int ret = rte_eal_init(argc, argv);
	int eal_errno = rte_errno;
	fflush(stdout);
	fflush(stderr);
	if (saved_out >= 0 && saved_err >= 0 && sink >= 0) {
		dup2(saved_out, STDOUT_FILENO);
		dup2(saved_err, STDERR_FILENO);
	}
	read_back(sink, out, sizeof(out));
	int fds[] = {saved_out, saved_err, sink};
	for (unsigned i = 0; i < LC_ARRAY_SIZE(fds); i++) {
		if (fds[i] >= 0) {
			close(fds[i]);
		}
	}
	rte_openlog_stream(stderr);
	if (mem != NULL) {
		fclose(mem);
	}
	if (ret < 0) {
		char why[200];
		option_line(out, why, sizeof(why));
		if (why[0] == '\0') {
			last_line(log != NULL ? log : "", why, sizeof(why));
		}
		fail(err, errcap, "--dpdk-args: the EAL refused them (%s)%s%s",
		     rte_strerror(eal_errno), why[0] ? ": " : "", why);
	}
	last_line(log != NULL ? log : "", eal_said, sizeof(eal_said));
	free(log); /* open_memstream's buffer comes from libc's malloc */
	return ret < 0 ? LC_EINVAL : LC_OK;
}

static bool is_driver(uint16_t port, const char *name)
{
	struct rte_eth_dev_info info;
	return rte_eth_dev_info_get(port, &info) == 0 && info.driver_name != NULL &&
	       strstr(info.driver_name, name) != NULL;
}

/* mbufs that @p nq queues of @p port hold while it runs. */
static unsigned port_holds(uint16_t port, unsigned nq)
{
	uint16_t nrx = RING_DESC, ntx = RING_DESC;
	(void)rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx);
	if (is_driver(port, "af_xdp")) {
		return nq * (AF_XDP_FILL + ntx); /* TX: zero copy, held until completion */
	}
	if (is_driver(port, "af_packet")) {
		return 0; /* copies from and into the kernel's ring */
	}
	return nq * (nrx + ntx);
}

struct pool_need {
	unsigned rings, caches, in_flight;
};

static unsigned pool_need(const struct dp_dpdk_cfg *cfg, struct pool_need *n)
{
	n->rings = 0;
	for (unsigned i = 0; i < dpdk.nports; i++) {
		n->rings += port_holds(dpdk.ports[i], dpdk.nports == 1 ? dpdk.nq : 1);
	}
	if (cfg->tap != NULL && cfg->tap[0] != '\0') {
		n->rings += dpdk.nq * RING_DESC; /* net_tap fills its RX rings */
	}
	n->caches = rte_lcore_count() * POOL_CACHE * 3 / 2; /* a cache may hold 1.5x its size */
	n->in_flight = dpdk.nq * (3 * DPDK_BURST + DPDK_HOLD + DPDK_LOOP + DPDK_MAX_FRAGS);
	return n->rings + n->caches + n->in_flight;
}

/* Whether the pool's objects lie back to back from the first (what af_xdp's UMEM assumes). */
static void obj_span(struct rte_mempool *mp, void *arg, void *obj, unsigned idx)
{
	(void)mp;
	(void)idx;
	uintptr_t *span = arg;
	span[0] = LC_MIN(span[0], (uintptr_t)obj);
	span[1] = LC_MAX(span[1], (uintptr_t)obj);
}

static int pool_check(char *err, size_t errcap)
{
	uintptr_t span[2] = {UINTPTR_MAX, 0};
	(void)rte_mempool_obj_iter(dpdk.pool, obj_span, span);
	size_t obj = dpdk.pool->header_size + dpdk.pool->elt_size + dpdk.pool->trailer_size;
	bool packed = span[1] - span[0] == (size_t)(dpdk.pool->populated_size - 1) * obj;
	for (unsigned i = 0; i < dpdk.nports && !packed; i++) {
		if (is_driver(dpdk.ports[i], "af_xdp")) {
			return fail(
				err, errcap,
				"DPDK port %u (af_xdp): the mbuf pool is not one packed block, so "
				"af_xdp's UMEM would not cover all of it (IOVA as physical addresses?"
				" give the EAL --iova-mode=va)",
				dpdk.ports[i]);
		}
	}
	return LC_OK;
}

static int pool_create(const struct dp_dpdk_cfg *cfg, char *err, size_t errcap)
{
	struct pool_need n;
	unsigned need = pool_need(cfg, &n);
	unsigned size = cfg->mbufs != 0 ? cfg->mbufs : LC_MAX(need, DP_DPDK_MBUFS_MIN);
	if (size < need) {
		return fail(
			err, errcap,
			"--dpdk-mbufs %u: too small for the ports, which need at least %u (%u held "
			"by their queues' rings, %u in the lcores' caches, %u in flight); give at "
			"least that, or leave --dpdk-mbufs out to size the pool from the ports",
			size, need, n.rings, n.caches, n.in_flight);
	}
	struct rte_pktmbuf_pool_private priv = {.mbuf_data_room_size = RTE_MBUF_DEFAULT_BUF_SIZE};
	unsigned flags = rte_eal_iova_mode() == RTE_IOVA_VA ? RTE_MEMPOOL_F_NO_IOVA_CONTIG : 0;
	dpdk.pool = rte_mempool_create("locus_mbufs", size,
				       sizeof(struct rte_mbuf) + RTE_MBUF_DEFAULT_BUF_SIZE,
				       POOL_CACHE, sizeof(priv), rte_pktmbuf_pool_init, &priv,
				       rte_pktmbuf_init, NULL, (int)rte_socket_id(), flags);
	if (dpdk.pool == NULL) {
		return fail(err, errcap,
			    "--dpdk-mbufs %u: cannot allocate the pool (%s): lower it or give the "
			    "EAL more memory (-m)",
			    size, rte_strerror(rte_errno));
	}
	dpdk.nmbufs = size;
	return pool_check(err, errcap);
}

static int port_setup(uint16_t port, unsigned nq, char *err, size_t errcap)
{
	struct rte_eth_dev_info info;
	if (rte_eth_dev_info_get(port, &info) != 0) {
		return fail(err, errcap, "DPDK port %u: no device information", port);
	}
	if (info.max_rx_queues < nq || info.max_tx_queues < nq) {
		return fail(err, errcap,
			    "DPDK port %u (%s) has %u RX/%u TX queues, %u workers need one pair "
			    "each (af_packet: qpairs=%u)",
			    port, info.driver_name, info.max_rx_queues, info.max_tx_queues, nq, nq);
	}
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	uint64_t want_tx = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	uint64_t want_rx = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	conf.txmode.offloads = info.tx_offload_capa & want_tx;
	conf.rxmode.offloads = info.rx_offload_capa & want_rx;
	int ret = rte_eth_dev_configure(port, (uint16_t)nq, (uint16_t)nq, &conf);
	if (ret != 0) {
		return fail(err, errcap, "DPDK port %u: configure: %s", port, rte_strerror(-ret));
	}
	uint16_t nrx = RING_DESC, ntx = RING_DESC;
	(void)rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx);
	int socket = rte_eth_dev_socket_id(port);
	for (unsigned q = 0; q < nq && ret == 0; q++) {
		struct rte_eth_txconf txc = info.default_txconf;
		txc.offloads = conf.txmode.offloads;
		ret = rte_eth_rx_queue_setup(port, (uint16_t)q, nrx, (unsigned)socket, NULL,
					     dpdk.pool);
		if (ret == 0) {
			ret = rte_eth_tx_queue_setup(port, (uint16_t)q, ntx, (unsigned)socket,
						     &txc);
		}
	}
	if (ret == 0) {
		ret = rte_eth_dev_start(port);
		dpdk.started[port] = ret == 0;
	}
	if (ret != 0) {
		return fail(err, errcap, "DPDK port %u: queue setup or start: %s", port,
			    rte_strerror(-ret));
	}
	if (port != dpdk.tap_port || !dpdk.has_tap) {
		dpdk.tx_csum_offload = conf.txmode.offloads == want_tx;
	}
	return LC_OK;
}

/* Which ports, and which queue of which port each worker polls. */
static int map_queues(char *err, size_t errcap)
{
	uint16_t p;
	RTE_ETH_FOREACH_DEV (p) {
		if (dpdk.nports == DP_MAX_WORKERS) {
			break;
		}
		dpdk.ports[dpdk.nports++] = p;
	}
	if (dpdk.nports == 0) {
		return fail(err, errcap,
			    "--dpdk-args: no DPDK port (give a device, e.g. "
			    "--vdev=net_af_packet0,iface=eth1,qpairs=N)%s%s",
			    eal_said[0] ? "; the EAL said: " : "", eal_said);
	}
	if (dpdk.nports != 1 && dpdk.nports != dpdk.nq) {
		return fail(err, errcap,
			    "--dpdk-args: %u DPDK ports for %u workers: give one port with a queue "
			    "pair per worker, or one port per worker",
			    dpdk.nports, dpdk.nq);
	}
	for (unsigned i = 0; i < dpdk.nq; i++) {
		dpdk.port_of[i] = dpdk.ports[dpdk.nports == 1 ? 0 : i];
		dpdk.queue_of[i] = (uint16_t)(dpdk.nports == 1 ? i : 0);
	}
	return LC_OK;
}

static int ifreq_addr(int fd, unsigned long req, const char *name, uint32_t ip)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(ip);
	return ioctl(fd, req, &ifr) == 0 ? LC_OK : -errno;
}

/* Write @p value to /proc/sys/net/@p what, with IF in it replaced by @p ifname; false when it
 * failed. */
static bool sysctl_if(const char *what, const char *ifname, const char *value)
{
	char path[160];
	snprintf(path, sizeof(path), "/proc/sys/net/%s", what);
	char *slot = strstr(path, "IF");
	if (slot == NULL) {
		return false;
	}
	char full[200];
	snprintf(full, sizeof(full), "%.*s%s%s", (int)(slot - path), path, ifname, slot + 2);
	int fd = open(full, O_WRONLY | O_CLOEXEC);
	bool done = fd >= 0 && write(fd, value, strlen(value)) == (ssize_t)strlen(value);
	if (fd >= 0) {
		close(fd);
	}
	return done;
}

/* Keep the kernel from answering frames of the port's own interface (see the file's top). */
static void rp_filter(uint16_t port)
{
	struct rte_eth_dev_info info;
	char name[IF_NAMESIZE];
	if (rte_eth_dev_info_get(port, &info) != 0 || info.if_index == 0 ||
	    if_indextoname(info.if_index, name) == NULL) {
		return;
	}
	if (sysctl_if("ipv4/conf/IF/rp_filter", name, "1")) {
		lc_info("rp_filter=1 on %s: the kernel leaves its frames to locusd", name);
	} else {
		lc_warn("cannot set rp_filter on %s: the kernel may answer its frames too", name);
	}
}

/* Create the TAP with the port's MAC, start it, and give the kernel the node's address. */
static int tap_setup(const struct dp_dpdk_cfg *cfg, char *err, size_t errcap)
{
	char args[128];
	snprintf(args, sizeof(args), "iface=%s,mac=%02x:%02x:%02x:%02x:%02x:%02x", cfg->tap,
		 dpdk.mac[0], dpdk.mac[1], dpdk.mac[2], dpdk.mac[3], dpdk.mac[4], dpdk.mac[5]);
	int ret = rte_eal_hotplug_add("vdev", TAP_DEV, args); /* in the EAL, unlike rte_vdev_init */
	if (ret != 0 || rte_eth_dev_get_port_by_name(TAP_DEV, &dpdk.tap_port) != 0) {
		return fail(err, errcap, "--dpdk-tap %s: cannot create the TAP (%s)", cfg->tap,
			    rte_strerror(ret < 0 ? -ret : EINVAL));
	}
	dpdk.has_tap = true;
	ret = port_setup(dpdk.tap_port, dpdk.nq, err, errcap);
	if (ret != LC_OK) {
		return ret;
	}
	(void)rte_eth_dev_set_mtu(dpdk.tap_port, (uint16_t)dpdk.mtu);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ret = fd < 0 ? -errno : ifreq_addr(fd, SIOCSIFADDR, cfg->tap, dpdk.ip);
	if (ret == LC_OK) {
		ret = ifreq_addr(fd, SIOCSIFNETMASK, cfg->tap, dpdk.mask);
	}
	if (fd >= 0) {
		close(fd);
	}
	if (ret != LC_OK) {
		return fail(err, errcap, "--dpdk-tap %s: cannot give it the node's address: %s",
			    cfg->tap, strerror(-ret));
	}
	for (unsigned i = 0; i < dpdk.nports; i++) {
		rp_filter(dpdk.ports[i]);
	}
	/* the stack speaks IPv4 only: no IPv6 neighbour discovery from the kernel's side */
	(void)sysctl_if("ipv6/conf/IF/disable_ipv6", cfg->tap, "1");
	return LC_OK;
}

/*
 * The socket behind a single-queue net_af_packet or net_af_xdp port, or -1: the adaptive policy
 * sleeps in ppoll() on it, so that a frame wakes the worker at once (the kernel's softirq marks
 * it readable when it puts a frame in the ring) instead of the worker waking on a timer to look.
 * The PMDs keep their sockets to themselves, but they are the process's only AF_PACKET and
 * AF_XDP sockets. With several queues (several sockets) which one is whose cannot be told from
 * the outside: -1, and the workers sleep on the timer as with any other port.
 */
static int port_socket(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL) {
		return -1;
	}
	int found = -1, n = 0;
	for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		int domain = 0;
		socklen_t len = sizeof(domain);
		if (*end != '\0' || end == e->d_name || fd == dirfd(d) ||
		    getsockopt((int)fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) {
			continue;
		}
		if (domain == AF_PACKET || domain == AF_XDP) {
			found = (int)fd;
			n++;
		}
	}
	closedir(d);
	return n == 1 ? found : -1;
}

static int setup(const struct dp_dpdk_cfg *cfg, char *err, size_t errcap)
{
	dpdk.nq = rte_lcore_count() - 1;
	if (dpdk.nq == 0) {
		return fail(err, errcap,
			    "--dpdk-args: no worker lcore (give the main lcore and at least one "
			    "more, e.g. --lcores 0@0,1@1)");
	}
	if (dpdk.nq > DP_MAX_WORKERS) {
		return fail(err, errcap, "--dpdk-args: %u worker lcores, at most %u", dpdk.nq,
			    DP_MAX_WORKERS);
	}
	if (cfg->workers != 0 && cfg->workers != dpdk.nq) {
		return fail(err, errcap,
			    "--workers %u: with --dataplane dpdk the workers are the %u worker "
			    "lcores of --dpdk-args (drop --workers or change --lcores)",
			    cfg->workers, dpdk.nq);
	}
	int ret = map_queues(err, errcap);
	if (ret != LC_OK) {
		return ret;
	}
	ret = pool_create(cfg, err, errcap);
	for (unsigned i = 0; i < dpdk.nports && ret == LC_OK; i++) {
		ret = port_setup(dpdk.ports[i], dpdk.nports == 1 ? dpdk.nq : 1, err, errcap);
	}
	if (ret != LC_OK) {
		return ret;
	}
	struct rte_ether_addr mac;
	uint16_t mtu = 1500;
	if (rte_eth_macaddr_get(dpdk.ports[0], &mac) != 0) {
		return fail(err, errcap, "DPDK port %u: no MAC address", dpdk.ports[0]);
	}
	memcpy(dpdk.mac, mac.addr_bytes, NET_MAC_LEN);
	(void)rte_eth_dev_get_mtu(dpdk.ports[0], &mtu);
	dpdk.mtu = LC_MAX(mtu, 576u);
	ret = cfg->tap != NULL && cfg->tap[0] != '\0' ? tap_setup(cfg, err, errcap) : LC_OK;
	dpdk.rx_fd = dpdk.nq == 1 ? port_socket() : -1;
	return ret;
}

/*
 * Adaptive polling: give every net_af_xdp vdev busy_budget=0 unless the user chose a budget.
 * With a budget (the PMD's default is 64: "preferred busy polling", SO_PREFER_BUSY_POLL), every
 * rx burst that finds the ring empty makes a recvfrom() to run the device's NAPI in our context,
 * a system call per idle poll: at a moderate rate that was most of the node's CPU
 * (bench/results/2026-12-07-dpdk-cpu.md). Without it the kernel delivers frames to the ring in
 * its own softirq, as it does for af_packet. Rewrites @p argv in place, the new words in @p buf.
 */
static int af_xdp_no_busy_budget(char **argv, int argc, char *buf, size_t cap)
{
	size_t o = 0;
	for (int i = 0; i < argc; i++) {
		const char *dev = strncmp(argv[i], "--vdev=", 7) == 0		? argv[i] + 7
				  : i > 0 && strcmp(argv[i - 1], "--vdev") == 0 ? argv[i]
										: NULL;
		if (dev == NULL || strncmp(dev, "net_af_xdp", 10) != 0 ||
		    strstr(dev, "busy_budget=") != NULL) {
			continue;
		}
		int n = snprintf(buf + o, cap - o, "%s,busy_budget=0", argv[i]);
		if (n < 0 || (size_t)n >= cap - o) {
			return LC_ENOSPACE;
		}
		argv[i] = buf + o;
		o += (size_t)n + 1;
	}
	return LC_OK;
}

int dp_dpdk_init(const struct dp_dpdk_cfg *cfg, unsigned *nworkers, char *err, size_t errcap)
{
	static char buf[1024];
	char *argv[DP_DPDK_ARGS_MAX + 2];
	argv[0] = (char *)(cfg->argv0 != NULL ? cfg->argv0 : "locusd");
	int argc = dp_dpdk_split_args(cfg->eal_args != NULL ? cfg->eal_args : "", buf, sizeof(buf),
				      argv + 1, DP_DPDK_ARGS_MAX);
	if (argc < 0) {
		return fail(err, errcap, "--dpdk-args: %s",
			    argc == LC_EINVAL ? "an unterminated quote or backslash"
					      : "too many or too long arguments");
	}
	argv[argc + 1] = NULL;
	static char vdevs[1024];
	if (!cfg->busy_poll &&
	    af_xdp_no_busy_budget(argv + 1, argc, vdevs, sizeof(vdevs)) != LC_OK) {
		return fail(err, errcap, "--dpdk-args: too many or too long arguments");
	}
	memset(&dpdk, 0, sizeof(dpdk));
	dpdk.rx_fd = -1;
	name_counters();
	int ret = eal_init(argc + 1, argv, err, errcap);
	if (ret != LC_OK) {
		return ret;
	}
	dpdk.up = true;
	dpdk.ip = cfg->ip;
	dpdk.mask = cfg->prefix_len == 0 ? 0 : ~0u << (32 - cfg->prefix_len);
	dpdk.gateway = cfg->gateway;
	dpdk.udp_port[0] = cfg->port[0];
	dpdk.udp_port[1] = cfg->port[1];
	dpdk.busy_poll = cfg->busy_poll;
	dpdk.tsc_per_ms = LC_MAX(rte_get_tsc_hz() / 1000, 1);
	dpdk.spin_tsc = rte_get_tsc_hz() / 1000000 * DPDK_SPIN_US;
	dpdk.tap_tsc = dpdk.tsc_per_ms * DPDK_TAP_MS;
	ret = setup(cfg, err, errcap);
	if (ret != LC_OK) {
		dp_dpdk_fini();
		return ret;
	}
	*nworkers = dpdk.nq;
	lc_info("dpdk: %u worker lcores, %u port(s), MAC %02x:%02x:%02x:%02x:%02x:%02x, MTU %u, "
		"%u mbufs, checksums %s, polling %s%s%s%s",
		dpdk.nq, dpdk.nports, dpdk.mac[0], dpdk.mac[1], dpdk.mac[2], dpdk.mac[3],
		dpdk.mac[4], dpdk.mac[5], dpdk.mtu, dpdk.nmbufs,
		dpdk.tx_csum_offload ? "offloaded" : "in software",
		dpdk.busy_poll ? "busy" : "adaptive",
		dpdk.busy_poll	  ? ""
		: dpdk.rx_fd >= 0 ? " (sleeps until a frame)"
				  : " (sleeps on a timer)",
		dpdk.has_tap ? ", kernel path via TAP " : "", dpdk.has_tap ? cfg->tap : "");
	return LC_OK;
}

/* The kernel's drops on one of our sockets if it is an AF_PACKET one (counters reset by the
 * read), else 0. */
static uint64_t packet_drops(int fd)
{
	int domain = 0;
	socklen_t len = sizeof(domain);
	struct tpacket_stats st;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_PACKET) {
		return 0;
	}
	len = sizeof(st);
	return getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0 ? st.tp_drops : 0;
}

uint64_t dp_dpdk_kernel_ring_drops(void)
{
	static uint64_t total; /* control only */
	bool af_packet = false;
	for (unsigned i = 0; i < dpdk.nports; i++) {
		af_packet |= is_driver(dpdk.ports[i], "af_packet");
	}
	DIR *d = af_packet ? opendir("/proc/self/fd") : NULL;
	if (d == NULL) {
		return total;
	}
	/* the PMD keeps its sockets to itself: its are the process's only AF_PACKET ones */
	for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		if (*end == '\0' && end != e->d_name && fd != dirfd(d)) {
			total += packet_drops((int)fd);
		}
	}
	closedir(d);
	return total;
}

static int lcore_main(void *worker)
{
	(void)dp_worker_main(worker);
	return 0;
}

int dp_dpdk_launch(struct dp_node *node)
{
	unsigned i = 0, lcore;
	RTE_LCORE_FOREACH_WORKER (lcore) {
		if (i == dp_node_nworkers(node)) {
			break;
		}
		int ret = rte_eal_remote_launch(lcore_main, dp_node_worker(node, i), lcore);
		if (ret != 0) {
			return ret;
		}
		i++;
	}
	return LC_OK;
}

void dp_dpdk_wait(void)
{
	rte_eal_mp_wait_lcore();
}

void dp_dpdk_fini(void)
{
	if (!dpdk.up) {
		return;
	}
	/* Only ports we started are stopped: rte_eth_dev_stop of a port that a failed start-up
	 * never started logs "already stopped" on stderr, a second line after the one error line. */
	uint16_t p;
	RTE_ETH_FOREACH_DEV (p) {
		if (dpdk.started[p]) {
			(void)rte_eth_dev_stop(p);
			dpdk.started[p] = false;
		}
		(void)rte_eth_dev_close(p);
	}
	rte_mempool_free(dpdk.pool);
	(void)rte_eal_cleanup();
	memset(&dpdk, 0, sizeof(dpdk));
}
