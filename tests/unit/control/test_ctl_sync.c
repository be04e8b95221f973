/* SPDX-License-Identifier: MIT */
/*
 * Range sync with peers that never answer (docs/overlay.md 6.4). A peer that does not hold this
 * node as a live member drops its digests without a word, and after every heal there is such a
 * moment: the healed owner sees its successor back before the successor sees it back. The owner
 * must ask again within seconds and meanwhile exchange with its replicas (push), which hold what
 * the ring wrote while it was away; it must not wait 30 s for the answer that never comes, with
 * every read of its range missing its replicas' acknowledged writes (the CI failure of
 * test_partition's flapping phase: 24 writes read as lost, 11 removals as undone).
 *
 * The node under test is a real ctl_sync over a real dp_node (one worker thread, an empty store,
 * sockets on 127.0.0.1 that nothing sends to) and a real link layer; its peers are addresses where
 * nothing listens, so its frames stay queued and nothing answers. Time is the test's own: it
 * moves only while every exchange waits for an answer (ctl_sync_busy is false), so the worker's
 * real speed never changes what the sync layer sees.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/lc_error.h"
#include "common/lc_log.h"
#include "control/ctl_link.h"
#include "control/ctl_sync.h"
#include "dataplane/dp_worker.h"
#include "dht/dht_route.h"
#include "tests/tap.h"

#define OVERLAY 0x5eed5eed5eedull
#define SYNC_MS 10000u
#define STEP_MS 50u

static void on_frame(void *arg, const void *frame, size_t len, const struct sockaddr_storage *from)
{
	(void)arg;
	(void)frame;
	(void)len;
	(void)from;
}

/* A TCP port on 127.0.0.1 nobody listens on (it was free a moment ago): connects are refused. */
static uint16_t dead_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	uint16_t port = 0;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
		port = ntohs(a.sin_port);
	}
	if (fd >= 0) {
		close(fd);
	}
	return port;
}

static struct dht_peer peer(uint64_t id_hi, uint16_t port)
{
	struct dht_peer p = {.id = (dht_id_t)id_hi << 64,
			     .addr = {.family = AF_INET, .port = port}};
	p.addr.addr[0] = 127;
	p.addr.addr[3] = 1;
	return p;
}

/* The table of X in a ring P < X < S < R of four, R = 3: X owns (P, X], S and R replicate it. */
static struct dht_route *ring_of_four(void)
{
	struct dht_route *rt = dht_route_new(4);
	if (rt == NULL) {
		return NULL;
	}
	struct dht_peer p = peer(0x2000000000000000ull, dead_port());
	struct dht_peer x = peer(0x4000000000000000ull, dead_port());
	struct dht_peer s = peer(0x6000000000000000ull, dead_port());
	struct dht_peer r = peer(0x8000000000000000ull, dead_port());
	rt->version = 1;
	rt->self = x;
	rt->replicas = 3;
	rt->has_pred = true;
	rt->pred = p;
	rt->nsucc = 3;
	rt->succ[0] = s;
	rt->succ[1] = r;
	rt->succ[2] = p;
	rt->one_hop = true;
	rt->members[0] = p;
	rt->members[1] = x;
	rt->members[2] = s;
	rt->members[3] = r;
	rt->nmembers = 4;
	dht_route_finish(rt);
	return rt;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run @p s until the test's clock passes @p until (it moves STEP_MS a round, only while nothing
 * but answers is awaited); the stats then. At most a bounded number of rounds. */
static struct ctl_sync_stats run_until(struct ctl_sync *s, struct ctl_links *links, uint64_t *now,
				       uint64_t until)
{
	for (unsigned round = 0; round < 200000 && *now < until; round++) {
		ctl_links_run(links, *now);
		ctl_sync_run(s, *now);
		if (ctl_sync_busy(s)) {
			usleep(200); /* the worker runs a digest task: our clock waits for it */
		} else {
			*now += STEP_MS;
		}
	}
	struct ctl_sync_stats st;
	ctl_sync_stats(s, &st);
	return st;
}

int main(void)
{
	plan(4);
	lc_log_set_level(LC_LOG_ERROR);
	struct dp_cfg dp = {.min_expires_s = 60,
			    .max_expires_s = 3600,
			    .default_expires_s = 3600,
			    .retry_after_s = 5,
			    .overlay_id = OVERLAY,
			    .write_quorum = 2,
			    .writer = 1};
	struct dp_node_cfg ncfg = {.cfg = &dp,
				   .io = &dp_io_sock_ops,
				   .nworkers = 1,
				   .store_cfg = {.max_bindings = 1024},
				   .now_s = (uint32_t)time(NULL)};
	for (int i = 0; i < DP_SOCK_COUNT_; i++) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ncfg.io_cfg.addr[i];
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	struct dp_node *node = NULL;
	struct ctl_links *links = NULL;
	struct ctl_sync *s = NULL;
	struct dht_route *rt = ring_of_four();
	pthread_t worker;
	const struct ctl_link_cbs cbs = {.on_frame = on_frame};
	if (rt == NULL || dp_node_new(&node, &ncfg) != LC_OK ||
	    ctl_links_new(&links, NULL, NULL, &ctl_link_tcp_ops, NULL, &cbs) != LC_OK ||
	    ctl_sync_new(&s, node, links, OVERLAY, SYNC_MS) != LC_OK ||
	    pthread_create(&worker, NULL, dp_worker_main, dp_node_worker(node, 0)) != 0) {
		ok(0, "a node is set up (sockets on 127.0.0.1, a worker thread)");
		return 1;
	}

	/* X comes back (a heal): its predecessor and replicas are new to it, so it pulls its range
	 * from S and pushes it to S and R; nobody answers */
	uint64_t now = mono_ms(), start = now;
	ctl_sync_on_route(s, rt, now);
	struct ctl_sync_stats st = run_until(s, links, &now, start + 1000);
	ok(st.pulls == 1 && st.pushes == 0,
	   "a healed owner pulls its range first, and waits for the pull before it pushes (%llu "
	   "pulls, %llu pushes)",
	   (unsigned long long)st.pulls, (unsigned long long)st.pushes);

	st = run_until(s, links, &now, start + 8000);
	ok(st.pushes >= 2,
	   "its pull unanswered, it pushes to both replicas within 8 s, not after 30 s (%llu "
	   "pushes)",
	   (unsigned long long)st.pushes);
	ok(st.pulls >= 2, "and it asks its successor again within 8 s (%llu pulls)",
	   (unsigned long long)st.pulls);

	/* the pushes go unanswered too: the next round asks again (T_sync) */
	st = run_until(s, links, &now, start + 8000 + SYNC_MS + 1000);
	ok(st.pushes >= 4, "unanswered pushes go again the next round (%llu pushes)",
	   (unsigned long long)st.pushes);

	dp_node_stop(node);
	pthread_join(worker, NULL);
	ctl_sync_free(s);
	ctl_links_free(links);
	dp_node_free(node);
	dht_route_free(rt);
	return exit_status();
}
