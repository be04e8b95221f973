/* SPDX-License-Identifier: MIT */
/*
 * bench_pipeline: the worker pipeline alone, with no kernel in the way (issue 14). A real node
 * (dp_node_new, one worker, the DPDK io backend and its network stack) runs on a net_ring port:
 * the harness puts pre-built Ethernet/IPv4/UDP request frames on the port's ring, runs the worker
 * for one iteration on its own thread (dp_worker_step), and takes the answers off the ring.
 * Workloads: a Linphone REGISTER refresh, a Linphone INVITE to a registered AOR, an LSP LOOKUP of
 * a registered key, each against a store pre-filled through the pipeline itself with --aors AORs.
 * In the same run, interleaved round by round, it times the parse alone of the same bytes
 * (sip_parse / dht_lsp_parse into one reused message, as a worker does) and the harness's own
 * share (writing the frames and moving them through the ring, without the worker), so the
 * pipeline's cost is reported as a ratio to a peer measured on the same machine at the same time.
 *
 * How it works:
 * - EAL: --no-huge --no-shconf --no-pci --vdev=net_ring0, main and worker lcore both on --cpu.
 *   The worker lcore is never launched: the harness runs worker 0 on the main lcore's thread,
 *   so everything measured happens on one core, in one thread, with no other thread involved.
 * - net_ring's port TX ring is its RX ring ("ETH_RXTX0_net_ring0"). That is harmless here: one
 *   worker iteration polls the ring once, then transmits; so a burst of requests is on the ring
 *   before the iteration, its answers after it, and the harness takes them all off before it
 *   feeds the next burst. The worker never sees its own answers.
 * - Frames: --frames mbufs per workload, each holding one request frame, reused round robin.
 *   Before each use pipe_frame_set() writes a random registered AOR and a new counter into it
 *   (pipe_frames.h), so each request reaches a random binding among --aors (store misses as with
 *   real traffic) while the frame bytes stay warm (as a NIC writing into the last-level cache).
 *   The refcount is set to 2 before each use, so the stack's rte_pktmbuf_free() after copying
 *   the datagram only drops it to 1 and the frame stays ours (one atomic decrement instead of a
 *   return to the pool).
 * - Checksums: by default the frames carry no offload flags, so the stack verifies each UDP
 *   checksum in software, as on af_packet and af_xdp; --csum hw marks them verified, as a NIC
 *   with checksum offload would. Answers are always checksummed in software (net_ring offloads
 *   nothing).
 * - Timing: rounds of --round bursts of 32, the three measurements interleaved, for --seconds per
 *   workload, each round sized to about 1 ms (shorter than a scheduler slice, so that on a
 *   shared machine most rounds run whole, and equally likely to be preempted whatever their
 *   mode); the median of the per-round ns/packet is reported (a round that lost the CPU lands
 *   in the tail, not in the median), wall clock and thread CPU time both. Instructions and cache
 *   misses per packet come from perf_event_open around the pipeline rounds, or say why not.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu/urcu-qsbr.h>

#include "bench/bench_perf.h"
#include "bench/bench_prng.h"
#include "bench/bench_sysinfo.h"
#include "bench/pipe_frames.h"
#include "common/lc_error.h"
#include "dataplane/dp_dpdk.h"
#include "dataplane/dp_worker.h"
#include "dht/dht_key.h"
#include "dht/lsp.h"
#include "sipparse/sip_msg.h"

#define BURST 32
#define RING_NAME "ETH_RXTX0_net_ring0"
#define MIN_ROUNDS 9
#define MAX_ROUNDS 4096
#define ROUND_NS 1000000 /* a round: shorter than a scheduler slice, so most run whole */

enum mode { M_PIPELINE, M_PARSE, M_FEED, M_COUNT };
static const char *const mode_name[M_COUNT] = {"pipeline", "parse", "harness"};

struct opts {
	uint32_t aors;
	double seconds;
	int cpu;
	unsigned frames; /* per workload, a power of two */
	unsigned round_bursts;
	uint64_t seed;
	bool hw_csum;
	const char *only;
};

/* One workload: its request and the frames that carry it. */
struct wl {
	struct pipe_tmpl t;
	struct rte_mbuf **m;
	unsigned next;
	/* per mode: ns per packet of each round (wall, thread CPU), counter sums, packets */
	double wall[M_COUNT][MAX_ROUNDS], cpu[M_COUNT][MAX_ROUNDS];
	unsigned nrounds;
	uint64_t perf[M_COUNT][BENCH_PERF_N], pkts[M_COUNT];
	uint64_t through[M_COUNT]; /* packets through each round function, calibration included */
	unsigned bursts[M_COUNT];  /* per round: about ROUND_NS of work each (calibrate()) */
	uint64_t answered, wrong;
	double med_wall[M_COUNT], med_cpu[M_COUNT];
};

/* Owner: main(); everything runs on its thread. */
struct bench {
	struct opts o;
	struct dp_node *node;
	struct dp_worker *w;
	struct rte_ring *ring;
	struct rte_mempool *fpool;
	uint8_t node_mac[6];
	struct bench_perf perf;
	struct bench_prng rng;
	uint32_t ctr;
	struct sip_msg msg;	/* the parse-alone's message, reused like a worker's */
	struct dht_lsp_msg lsp; /* and the answer checker's */
	uint64_t sink;
};

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(const double *v, unsigned n)
{
	double s[MAX_ROUNDS];
	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n == 0 ? 0 : n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ---- frames in, answers out ---------------------------------------------------------------- */

/* Put the next BURST frames of @p wl on the ring, each for AOR @p seq_aor + i, or for random
 * registered AORs when @p seq_aor is UINT32_MAX. */
static void feed(struct bench *b, struct wl *wl, uint32_t seq_aor)
{
	struct rte_mbuf *burst[BURST];
	for (unsigned i = 0; i < BURST; i++) {
		struct rte_mbuf *m = wl->m[wl->next++ & (b->o.frames - 1)];
		uint32_t aor =
			seq_aor == UINT32_MAX ? bench_prng_below(&b->rng, b->o.aors) : seq_aor + i;
		pipe_frame_set(rte_pktmbuf_mtod(m, uint8_t *), &wl->t, aor, ++b->ctr);
		rte_mbuf_refcnt_set(m, 2);
		burst[i] = m;
	}
	unsigned n = rte_ring_enqueue_burst(b->ring, (void **)burst, BURST, NULL);
	if (n != BURST) {
		fprintf(stderr, "bench_pipeline: the port's ring took %u of %u frames\n", n, BURST);
		exit(1);
	}
}

/* Is @p m the right answer to a request of @p wl? */
static bool right_answer(struct bench *b, const struct wl *wl, struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	if (m->data_len <= PIPE_PAYLOAD_OFF || f[12] != 0x08 || f[13] != 0x00 || f[23] != 17) {
		return false; /* not IPv4/UDP: an ARP request would mean a lost neighbour */
	}
	const uint8_t *p = f + PIPE_PAYLOAD_OFF;
	size_t len = m->data_len - PIPE_PAYLOAD_OFF;
	if (wl->t.expect != NULL) {
		size_t n = strlen(wl->t.expect);
		return len > n && memcmp(p, wl->t.expect, n) == 0;
	}
	return dht_lsp_parse(&b->lsp, p, len) == LC_OK && dht_lsp_is_answer(&b->lsp) &&
	       b->lsp.status == DHT_LSP_S_OK && b->lsp.nrecords == 1;
}

/* Take every frame off the ring; @return how many. With @p wl, check each is a right answer. */
static unsigned drain(struct bench *b, struct wl *wl)
{
	struct rte_mbuf *out[2 * BURST];
	unsigned total = 0, n;
	while ((n = rte_ring_dequeue_burst(b->ring, (void **)out, 2 * BURST, NULL)) > 0) {
		for (unsigned i = 0; wl != NULL && i < n; i++) {
			wl->wrong += !right_answer(b, wl, out[i]);
		}
		rte_pktmbuf_free_bulk(out, n);
		total += n;
	}
	return total;
}

/* ---- the three measurements ---------------------------------------------------------------- */

/* noinline, like the other two: callgrind can then collect each by name (--toggle-collect) */
__attribute__((noinline)) static void round_pipeline(struct bench *b, struct wl *wl,
						     unsigned bursts)
{
	for (unsigned r = 0; r < bursts; r++) {
		feed(b, wl, UINT32_MAX);
		(void)dp_worker_step(b->w);
		wl->answered += drain(b, NULL);
	}
}

/* The parse of the same frames' datagrams, in the same order, into one reused message. */
__attribute__((noinline)) static void round_parse(struct bench *b, struct wl *wl, unsigned bursts)
{
	for (unsigned r = 0; r < bursts; r++) {
		for (unsigned i = 0; i < BURST; i++) {
			struct rte_mbuf *m = wl->m[wl->next++ & (b->o.frames - 1)];
			const char *p = rte_pktmbuf_mtod_offset(m, const char *, PIPE_PAYLOAD_OFF);
			size_t len = m->data_len - PIPE_PAYLOAD_OFF;
			if (wl->t.kind == PIPE_LSP_LOOKUP) {
				b->sink +=
					(uint64_t)dht_lsp_parse(&b->lsp, p, len) + b->lsp.present;
			} else {
				b->sink += (uint64_t)sip_parse(&b->msg, p, len) + b->msg.cseq;
			}
		}
	}
}

/* What the harness itself costs: the same frames written and moved through the ring, no worker. */
__attribute__((noinline)) static void round_feed(struct bench *b, struct wl *wl, unsigned bursts)
{
	for (unsigned r = 0; r < bursts; r++) {
		feed(b, wl, UINT32_MAX);
		b->sink += drain(b, NULL); /* the frames themselves: refcount back to 1 */
	}
}

static void run_mode(struct bench *b, struct wl *wl, enum mode md, unsigned bursts)
{
	wl->through[md] += (uint64_t)bursts * BURST;
	if (md == M_PIPELINE) {
		round_pipeline(b, wl, bursts);
	} else if (md == M_PARSE) {
		round_parse(b, wl, bursts);
	} else {
		round_feed(b, wl, bursts);
	}
}

/* Size each mode's round to about ROUND_NS, from the best of a few short trial rounds. */
static void calibrate(struct bench *b, struct wl *wl)
{
	for (unsigned md = 0; md < M_COUNT; md++) {
		uint64_t best = UINT64_MAX;
		for (unsigned t = 0; t < 5; t++) {
			uint64_t t0 = now_ns(CLOCK_MONOTONIC);
			run_mode(b, wl, (enum mode)md, 8);
			uint64_t d = now_ns(CLOCK_MONOTONIC) - t0;
			best = d < best ? d : best;
		}
		uint64_t n = ROUND_NS * 8 / (best > 0 ? best : 1);
		wl->bursts[md] = n < 4 ? 4 : n > 4096 ? 4096 : (unsigned)n;
	}
	wl->answered = 0;
}

static void timed(struct bench *b, struct wl *wl, enum mode md)
{
	uint64_t c0[BENCH_PERF_N] = {0}, c1[BENCH_PERF_N] = {0};
	for (unsigned i = 0; i < BENCH_PERF_N; i++) {
		(void)bench_perf_read(&b->perf, i, &c0[i]);
	}
	uint64_t w0 = now_ns(CLOCK_MONOTONIC), t0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	run_mode(b, wl, md, wl->bursts[md]);
	uint64_t w1 = now_ns(CLOCK_MONOTONIC), t1 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	for (unsigned i = 0; i < BENCH_PERF_N; i++) {
		(void)bench_perf_read(&b->perf, i, &c1[i]);
		wl->perf[md][i] += c1[i] - c0[i];
	}
	double pkts = (double)wl->bursts[md] * BURST;
	wl->wall[md][wl->nrounds] = (double)(w1 - w0) / pkts;
	wl->cpu[md][wl->nrounds] = (double)(t1 - t0) / pkts;
	wl->pkts[md] += (uint64_t)pkts;
}

/* One untimed round with every answer checked, then rounds of the three interleaved. */
static void measure(struct bench *b, struct wl *wl)
{
	for (unsigned r = 0; r < b->o.round_bursts; r++) {
		feed(b, wl, UINT32_MAX);
		(void)dp_worker_step(b->w);
		(void)drain(b, wl);
	}
	if (wl->wrong > 0) {
		fprintf(stderr, "bench_pipeline: %s: %llu wrong answers in the checked round\n",
			wl->t.name, (unsigned long long)wl->wrong);
	}
	calibrate(b, wl);
	uint64_t end = now_ns(CLOCK_MONOTONIC) + (uint64_t)(b->o.seconds * 1e9);
	while (wl->nrounds < MAX_ROUNDS &&
	       (wl->nrounds < MIN_ROUNDS || now_ns(CLOCK_MONOTONIC) < end)) {
		for (unsigned md = 0; md < M_COUNT; md++) {
			timed(b, wl, (enum mode)md);
		}
		wl->nrounds++;
	}
	for (unsigned md = 0; md < M_COUNT; md++) {
		wl->med_wall[md] = median(wl->wall[md], wl->nrounds);
		wl->med_cpu[md] = median(wl->cpu[md], wl->nrounds);
	}
}

/* ---- set-up --------------------------------------------------------------------------------- */

static int make_frames(struct bench *b, struct wl *wl, enum pipe_kind kind, uint64_t overlay_id)
{
	if (pipe_tmpl_make(&wl->t, kind, overlay_id) != 0) {
		return -1;
	}
	wl->m = calloc(b->o.frames, sizeof(*wl->m));
	if (wl->m == NULL) {
		return -1;
	}
	static const uint8_t phone_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
	for (unsigned i = 0; i < b->o.frames; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(b->fpool);
		if (m == NULL) {
			return -1;
		}
		wl->m[i] = m;
		size_t len =
			pipe_frame_build(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_tailroom(m),
					 &wl->t, phone_mac, b->node_mac);
		if (len == 0) {
			return -1;
		}
		m->data_len = (uint16_t)len;
		m->pkt_len = (uint32_t)len;
		m->ol_flags = b->o.hw_csum
				      ? RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD
				      : 0;
	}
	return 0;
}

static void free_frames(struct wl *wl, unsigned n)
{
	for (unsigned i = 0; wl->m != NULL && i < n; i++) {
		if (wl->m[i] != NULL) {
			rte_mbuf_refcnt_set(wl->m[i], 1);
			rte_pktmbuf_free(wl->m[i]);
		}
	}
	free(wl->m);
	pipe_tmpl_free(&wl->t);
}

/* Register AORs 0 .. aors-1 through the pipeline itself; @return the seconds it took, or a
 * negative value when an answer was not a 200. */
static double prefill(struct bench *b, struct wl *reg)
{
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	reg->wrong = 0;
	for (uint32_t a = 0; a < b->o.aors; a += BURST) {
		feed(b, reg, a); /* the last burst may name AORs beyond --aors: harmless extras */
		(void)dp_worker_step(b->w);
		(void)drain(b, reg);
	}
	double s = (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	return reg->wrong == 0 ? s : -1;
}

static int node_new(struct bench *b, uint64_t overlay_id)
{
	static struct dp_cfg cfg; /* about 16 KB of domains: not on the stack */
	memset(&cfg, 0, sizeof(cfg));
	cfg.min_expires_s = 60;
	cfg.max_expires_s = 86400;
	cfg.default_expires_s = 3600;
	cfg.max_contacts = 32;
	cfg.retry_after_s = 30;
	for (unsigned i = 0; i < DP_MAC_KEY_LEN; i++) {
		cfg.tag_key[i] = (uint8_t)(bench_prng_next(&b->rng));
		cfg.ctx_key[i] = (uint8_t)(bench_prng_next(&b->rng));
	}
	cfg.overlay_id = overlay_id;
	cfg.write_quorum = 1;
	cfg.writer = bench_prng_next(&b->rng);
	snprintf(cfg.server, sizeof(cfg.server), "locus/bench");
	struct dp_node_cfg ncfg = {
		.cfg = &cfg,
		.io = dp_dpdk_io_ops(),
		.nworkers = 1,
		.store_cfg = {.max_bindings = b->o.aors + b->o.aors / 4 + 1024},
		.now_s = (uint32_t)time(NULL),
	};
	int ret = dp_node_new(&b->node, &ncfg);
	if (ret != LC_OK) {
		fprintf(stderr, "bench_pipeline: dp_node_new: %s\n", lc_strerror(ret));
		return -1;
	}
	b->w = dp_node_worker(b->node, 0);
	return 0;
}

static int dpdk_up(struct bench *b, const char *argv0)
{
	char eal[256];
	snprintf(eal, sizeof(eal),
		 "--lcores 0@%d,1@%d --no-huge -m 128 --no-shconf --no-pci --no-telemetry "
		 "--vdev=net_ring0",
		 b->o.cpu, b->o.cpu);
	struct dp_dpdk_cfg d = {
		.eal_args = eal,
		.ip = PIPE_NODE_IP,
		.port = {PIPE_SIP_PORT, PIPE_LSP_PORT},
		.prefix_len = 24,
		.mbufs = DP_DPDK_MBUFS_DEFAULT,
		.busy_poll = true,
		.argv0 = argv0,
	};
	unsigned nw = 0;
	char err[512];
	if (dp_dpdk_init(&d, &nw, err, sizeof(err)) != LC_OK) {
		fprintf(stderr, "bench_pipeline: %s\n", err);
		return -1;
	}
	b->ring = rte_ring_lookup(RING_NAME);
	struct rte_ether_addr mac;
	if (nw != 1 || b->ring == NULL || rte_eth_macaddr_get(0, &mac) != 0) {
		fprintf(stderr,
			"bench_pipeline: net_ring0 is not as expected (workers %u, ring %s)\n", nw,
			b->ring != NULL ? "found" : "missing");
		return -1;
	}
	memcpy(b->node_mac, mac.addr_bytes, 6);
	b->fpool = rte_pktmbuf_pool_create("bench_frames", PIPE_KINDS * b->o.frames + 64, 0, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (b->fpool == NULL) {
		fprintf(stderr, "bench_pipeline: no memory for the frames\n");
		return -1;
	}
	return 0;
}

/* ---- report --------------------------------------------------------------------------------- */

static void perf_cell(const struct bench *b, const struct wl *wl, enum mode md,
		      enum bench_perf_counter c, char *out, size_t cap)
{
	if (b->perf.fd[c] < 0) {
		snprintf(out, cap, "%s", b->perf.why[c]);
	} else {
		snprintf(out, cap, "%.1f", (double)wl->perf[md][c] / (double)wl->pkts[md]);
	}
}

static void report(struct bench *b, struct wl *const *wls, unsigned nwl, double prefill_s,
		   const struct bench_sysinfo *si, int argc, char **argv)
{
	printf("\n%-11s %10s %8s %10s %6s %10s %10s %9s %8s  %s / %s\n", "workload", "ns/pkt",
	       "Mpps", "parse ns", "ratio", "harness ns", "net ns/pkt", "net Mpps", "net ratio",
	       "instructions/pkt", "cache misses/pkt");
	for (unsigned i = 0; i < nwl; i++) {
		const struct wl *wl = wls[i];
		double p = wl->med_wall[M_PIPELINE], q = wl->med_wall[M_PARSE];
		double h = wl->med_wall[M_FEED], net = p - h;
		char ins[96], cm[96];
		perf_cell(b, wl, M_PIPELINE, BENCH_PERF_INSTRUCTIONS, ins, sizeof(ins));
		perf_cell(b, wl, M_PIPELINE, BENCH_PERF_CACHE_MISSES, cm, sizeof(cm));
		printf("%-11s %10.1f %8.3f %10.1f %6.2f %10.1f %10.1f %9.3f %8.2f  %s / %s\n",
		       wl->t.name, p, 1e3 / p, q, p / q, h, net, 1e3 / net, net / q, ins, cm);
	}
	printf("\n(medians of per-round figures, wall clock; thread CPU time medians: ");
	for (unsigned i = 0; i < nwl; i++) {
		printf("%s%s %.1f/%.1f/%.1f ns", i ? ", " : "", wls[i]->t.name,
		       wls[i]->med_cpu[M_PIPELINE], wls[i]->med_cpu[M_PARSE],
		       wls[i]->med_cpu[M_FEED]);
	}
	printf(" for pipeline/parse/harness)\n");
	printf("\nGoals (issue 14), on the pipeline as measured (the harness's share included):\n");
	for (unsigned i = 0; i < nwl; i++) {
		const struct wl *wl = wls[i];
		double p = wl->med_wall[M_PIPELINE], q = wl->med_wall[M_PARSE];
		if (wl->t.kind == PIPE_LSP_LOOKUP) {
			printf("- LSP LOOKUP %.2f Mpps per core (goal >= 3): %s\n", 1e3 / p,
			       1e3 / p >= 3 ? "met" : "not met");
		} else {
			printf("- %s: whole pipeline %.0f ns = %.2fx the parse alone (%.0f ns) "
			       "(goal <= 1.5x): %s\n",
			       wl->t.name, p, p / q, q, p / q <= 1.5 ? "met" : "not met");
		}
	}
	printf("\nJSON {\"bench\":\"pipeline\",\"date\":\"%s\",\"cpu\":\"%s\",\"nproc\":%ld,"
	       "\"kernel\":\"%s\",\"compiler\":\"%s\",\"loadavg\":\"%s\",\"aors\":%u,"
	       "\"frames\":%u,\"csum\":\"%s\",\"prefill_s\":%.3f,\"perf\":[\"%s\",\"%s\"],"
	       "\"workloads\":[",
	       si->date, si->cpu, si->nproc, si->kernel, si->compiler, si->loadavg, b->o.aors,
	       b->o.frames, b->o.hw_csum ? "hw" : "sw", prefill_s,
	       b->perf.fd[0] >= 0 ? "ok" : b->perf.why[0],
	       b->perf.fd[1] >= 0 ? "ok" : b->perf.why[1]);
	for (unsigned i = 0; i < nwl; i++) {
		const struct wl *wl = wls[i];
		printf("%s{\"name\":\"%s\",\"bytes\":%zu,\"rounds\":%u,\"answered\":%llu,"
		       "\"sent\":%llu,\"wrong\":%llu",
		       i ? "," : "", wl->t.name, wl->t.len, wl->nrounds,
		       (unsigned long long)wl->answered, (unsigned long long)wl->pkts[M_PIPELINE],
		       (unsigned long long)wl->wrong);
		for (unsigned md = 0; md < M_COUNT; md++) {
			printf(",\"%s_ns\":%.2f,\"%s_cpu_ns\":%.2f,\"%s_pkts_all\":%llu",
			       mode_name[md], wl->med_wall[md], mode_name[md], wl->med_cpu[md],
			       mode_name[md], (unsigned long long)wl->through[md]);
		}
		printf("}");
	}
	printf("],\"cmd\":\"");
	for (int i = 0; i < argc; i++) {
		printf("%s%s", i ? " " : "", argv[i]);
	}
	printf("\"}\n");
}

/* ---- main ----------------------------------------------------------------------------------- */

static void usage(void)
{
	fputs("usage: bench_pipeline [--aors N] [--seconds S] [--cpu C] [--frames F] [--round B]\n"
	      "                      [--seed X] [--csum sw|hw] [--only register|invite|lsp-lookup]\n"
	      "Needs a build with DPDK; runs without hugepages or root.\n",
	      stderr);
	exit(2);
}

static void options(struct opts *o, int argc, char **argv)
{
	*o = (struct opts){.aors = 1000000,
			   .seconds = 3,
			   .cpu = 1,
			   .frames = 1024,
			   .round_bursts = 64,
			   .seed = 0x10c05};
	static const struct option lo[] = {{"aors", 1, 0, 'a'},	 {"seconds", 1, 0, 's'},
					   {"cpu", 1, 0, 'c'},	 {"frames", 1, 0, 'f'},
					   {"round", 1, 0, 'r'}, {"seed", 1, 0, 'x'},
					   {"csum", 1, 0, 'k'},	 {"only", 1, 0, 'o'},
					   {"help", 0, 0, 'h'},	 {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'a':
			o->aors = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 's':
			o->seconds = strtod(optarg, NULL);
			break;
		case 'c':
			o->cpu = atoi(optarg);
			break;
		case 'f':
			o->frames = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'r':
			o->round_bursts = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'x':
			o->seed = strtoull(optarg, NULL, 0);
			break;
		case 'k':
			o->hw_csum = strcmp(optarg, "hw") == 0;
			break;
		case 'o':
			o->only = optarg;
			break;
		default:
			usage();
		}
	}
	if (o->aors < BURST || o->frames < BURST || (o->frames & (o->frames - 1)) != 0 ||
	    o->round_bursts == 0 || o->seconds <= 0 || o->cpu < 0) {
		usage();
	}
}

int main(int argc, char **argv)
{
	static struct bench b; /* a 28 KB sip_msg and the rounds: off the stack */
	static struct wl wls[PIPE_KINDS];
	options(&b.o, argc, argv);
	b.rng.s = b.o.seed;
	struct bench_sysinfo si;
	bench_sysinfo_get(&si);
	uint64_t overlay_id = dht_seed_of("locus.invalid", 13);
	int status = 1;
	if (dpdk_up(&b, argv[0]) != 0 || node_new(&b, overlay_id) != 0) {
		goto out;
	}
	urcu_qsbr_register_thread(); /* the worker's iteration announces quiescent states */
	for (unsigned k = 0; k < PIPE_KINDS; k++) {
		if (make_frames(&b, &wls[k], (enum pipe_kind)k, overlay_id) != 0) {
			fprintf(stderr,
				"bench_pipeline: cannot build the %u-th workload's frames\n", k);
			goto unreg;
		}
	}
	printf("bench_pipeline: %s, %ld CPUs, load %s; one core (CPU %d), net_ring0, %u AORs, "
	       "%u frames per workload, UDP checksums verified in %s\n",
	       si.cpu, si.nproc, si.loadavg, b.o.cpu, b.o.aors, b.o.frames,
	       b.o.hw_csum ? "\"hardware\" (offload flags)" : "software");
	double pre = prefill(&b, &wls[PIPE_REGISTER]);
	if (pre < 0) {
		fprintf(stderr, "bench_pipeline: registering the AORs got wrong answers\n");
		goto unreg;
	}
	printf("registered %u AORs through the pipeline in %.2f s (%.0f new REGISTERs/s, frame "
	       "writing included)\n",
	       b.o.aors, pre, b.o.aors / pre);
	bench_perf_open(&b.perf);
	struct wl *run[PIPE_KINDS];
	unsigned nrun = 0;
	for (unsigned k = 0; k < PIPE_KINDS; k++) {
		if (b.o.only != NULL && strcmp(b.o.only, wls[k].t.name) != 0) {
			continue;
		}
		wls[k].wrong = 0;
		measure(&b, &wls[k]);
		printf("%-11s %u rounds, %llu answers to %llu requests, %llu wrong in the checked "
		       "round\n",
		       wls[k].t.name, wls[k].nrounds, (unsigned long long)wls[k].answered,
		       (unsigned long long)wls[k].pkts[M_PIPELINE],
		       (unsigned long long)wls[k].wrong);
		run[nrun++] = &wls[k];
	}
	report(&b, run, nrun, pre, &si, argc, argv);
	status = 0;
	for (unsigned i = 0; i < nrun; i++) {
		if (run[i]->wrong > 0 || run[i]->answered != run[i]->pkts[M_PIPELINE]) {
			status = 1;
		}
	}
	bench_perf_close(&b.perf);
unreg:
	for (unsigned k = 0; k < PIPE_KINDS; k++) {
		free_frames(&wls[k], b.o.frames);
	}
	urcu_qsbr_unregister_thread();
out:
	dp_node_free(b.node);
	rte_mempool_free(b.fpool);
	dp_dpdk_fini();
	return status;
}
