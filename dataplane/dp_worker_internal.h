/* SPDX-License-Identifier: MIT */
/*
 * The worker's own state, shared by the files of dataplane/ only.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>

#include "common/lc_ring.h"
#include "dataplane/dp_auth.h"
#include "dataplane/dp_cfg.h"
#include "dataplane/dp_mac.h"
#include "dataplane/dp_member.h"
#include "dataplane/dp_peers.h"
#include "dataplane/dp_pkt.h"
#include "dataplane/dp_stats.h"
#include "dataplane/dp_worker.h"
#include "dht/dht_route.h"
#include "dht/dht_store.h"
#include "dht/lsp.h"
#include "dht/lsp_ovl.h"
#include "sipparse/sip_msg.h"
#include "sipparse/sip_uri.h"

#define DP_BURST 32
#define DP_PREFETCH_STEPS 4 /* dht_store_prefetch_step's steps run over a burst */
#define DP_PREFETCH_MIN 3   /* the smallest burst worth them */
#define DP_BATCH_HOLD 64    /* datagrams to members held for batching (dp_batch.c) */
#define DP_TX_MAX (2 * DP_BURST)
#define DP_POOL_SIZE 1024	   /* packets per worker: a power of two, it sizes the rings too */
#define DP_EXPIRE_BUDGET 64	   /* bindings reaped per busy loop */
#define DP_EXPIRE_BUDGET_IDLE 8192 /* per idle loop */
#define DP_TASK_RING 256	   /* tasks control may queue for a worker, per lane */
#define DP_FRAME_RING 16	   /* frames a worker may have emitted before control takes them */

struct dp_task;
struct dp_frame;

/* A worker's task lanes (dp_task.c): each runs its own tasks in order, beside the others, so
 * work of one kind never waits behind another kind's backlog or stall. */
enum dp_lane {
	DP_LANE_SCAN,  /* DIGEST, COUNT: read-only walks control waits for */
	DP_LANE_EMIT,  /* EMIT: may stall on a peer's back-pressure */
	DP_LANE_APPLY, /* CLEAR, APPLY: received transfers, in the order they came */
	DP_LANES
};

/* One lane of a worker. Owner: the worker, but for the ring (control produces). */
struct dp_task_lane {
	struct lc_ring *ring; /* control -> worker */
	struct dp_task *task; /* being run */
	uint64_t cursor;      /* its store walk */
};

/* Owner: control builds it; read by all workers; the stop flag is written by control. */
struct dp_node {
	struct dp_cfg cfg;
	const struct dp_io_ops *io;
	unsigned nworkers;
	_Atomic bool stop;
	_Atomic unsigned ndrained; /* workers whose sockets were empty after stop */
	struct dht_route *route;   /* RCU (QSBR): published by control, read once per burst */
	struct dp_peers *peers;	   /* RCU (QSBR): a secured node's datagram keys; NULL: none */
	uint64_t peers_gen;	   /* control: the gen of the last peers table published */
	struct dp_frame *held;	   /* control: an emitted frame it could not send yet */
	unsigned frame_rr;	   /* control: next worker to take a frame from */
	struct dp_worker *w[DP_MAX_WORKERS];
};

/* Owner: the worker thread; control reads stats and writes nothing after start. Cache-line
 * aligned; allocated by control before the thread starts. */
struct dp_worker {
	unsigned id;
	struct dp_node *node;
	const struct dp_cfg *cfg;
	void *io_ctx;
	struct dht_store *store;
	struct dp_pool pool;
	/* to[j]: requests for shard j (this worker produces, worker j consumes);
	 * back[j]: packets of worker j's pool returned after handling (consumed by worker j) */
	struct lc_ring *to[DP_MAX_WORKERS];
	struct lc_ring *back[DP_MAX_WORKERS];
	int wake_fd;
	_Atomic bool sleeping;
	uint32_t now_s;		      /* read once per loop */
	uint64_t now_ms;	      /* the same instant, in ms (coarse) */
	uint64_t co_since_ms;	      /* --rx-coalesce-us: the window's start, */
	uint64_t co_pkts;	      /* the packets seen in it, */
	bool co_worth;		      /* and the last window's decision (dp_worker.c); */
	bool co_paused;		      /* the last iteration ended in a pause */
	uint64_t vclock;	      /* last version this worker gave a key (dp_repl.c) */
	const struct dht_route *rt;   /* the routing table of this loop (RCU read side) */
	const struct dp_peers *peers; /* the datagram keys of this loop (RCU read side) */
	/* authenticated datagrams (dp_auth.c) */
	uint64_t auth_seq;			    /* the last sequence number this worker sent */
	struct dp_replay_slot *replay;		    /* DP_REPLAY_SLOTS windows, made at start */
	struct dp_addr want_recent[DP_WANT_RECENT]; /* links asked for lately, */
	uint32_t want_recent_s[DP_WANT_RECENT];	    /* and when */
	unsigned want_next;
	struct dp_want_queue wants;	  /* worker -> control */
	struct dp_pkt *parked[DP_PARKED]; /* to members whose key is on its way (dp_member.c) */
	uint32_t parked_s[DP_PARKED];	  /* when each was parked */
	unsigned nparked;
	uint64_t parked_gen;	/* the peers table the parked ones were last checked against */
	uint32_t parked_look_s; /* and the second of that look */
	unsigned ntx;
	struct dp_pkt *tx[DP_TX_MAX];
	unsigned nheld;			    /* datagrams to members, */
	struct dp_pkt *held[DP_BATCH_HOLD]; /* to leave batched (dp_batch.c) */
	LC_CACHE_ALIGNED struct dp_stats stats;
	/* tasks (dp_task.c): the lanes, emitted frames (zeroed at creation, like every field
	 * before skeleton) */
	struct dp_task_lane lane[DP_LANES];
	struct lc_ring *frames; /* worker -> control */
	bool emit_stalled;	/* the frame ring was full: the emit waits for control's kick */
	uint64_t task_rx;	/* datagrams received when the last slice ran (idle slices) */
	struct dp_frame *frame; /* being built */
	struct dht_lsp_builder fb;
	unsigned frame_entries;
	unsigned emit_n, emit_next;
	struct dht_aor *emit_batch[32];
	dht_id_t emit_ids[32];
	/* scratch: a forwarded SIP request's skeleton, parsed back from the owner's answer
	 * (dp_fwd.c), and a frame of a range transfer (dp_task.c) */
	struct sip_msg skeleton;
	struct dht_lsp_ovl_msg frame_msg;
};

/* Run a slice of each lane's current task (dp_task.c); false when none made progress. */
bool dp_task_step(struct dp_worker *w);

/* Whether a task is queued or under way that can progress without control (dp_task.c): an emit
 * waiting for room on the frame ring does not count, control's kick wakes the worker for it. */
bool dp_task_pending(const struct dp_worker *w);

/* Wake the worker if it sleeps (dp_worker.c). Context: any thread. */
void dp_worker_kick(struct dp_worker *w);

/* The dp_addr of a dht_addr (same family, port and bytes). */
static inline void dp_addr_of(const struct dht_addr *a, struct dp_addr *out)
{
	*out = (struct dp_addr){.family = a->family, .port = a->port};
	for (unsigned i = 0; i < sizeof(out->addr); i++) {
		out->addr[i] = a->addr[i];
	}
}

/* Queue a built response; flushes when the batch is full. On a secured node a datagram to a
 * member is tagged (dp_member_tx) or, when that fails, dropped here. Context: the worker. */
void dp_tx_push(struct dp_worker *w, struct dp_pkt *p);

/* Queue a datagram as it is (already tagged, or not LSP). Context: the worker. */
void dp_tx_send(struct dp_worker *w, struct dp_pkt *p);

/* dp_tx_push of a datagram only a member may receive (a forwarded request, a replica message,
 * an answer to a REPLY_TO): on a secured node it is never sent untagged. Context: the worker. */
void dp_tx_push_member(struct dp_worker *w, struct dp_pkt *p);

/*
 * The longest a write (a REGISTER that adds, refreshes or removes, an LSP PUBLISH or REMOVE) may
 * have waited at this node, since it arrived, before this node forwards or applies it.
 *
 * Why: a write's records are versioned when they are applied (dp_version_next: the applying
 * node's clock), and a later version wins everywhere. That orders writes as their clients sent
 * them only while every write is applied during its client's wait. A copy that waited (in the
 * socket of a node that was stopped or starved of CPU while its peers rerouted the client's
 * retransmissions and answered them) would be applied afterwards, newer than the writes its
 * client made since, and undo them once range sync spreads it: an acknowledged add or refresh
 * lost, an acknowledged removal undone. So a node drops a write that waited longer, as a lost
 * datagram (counted: drops.stale_write); the client's retransmission, or its answer from
 * elsewhere, follows. 200 ms a hop keeps the usual two (facing node, owner) under SIP's T1
 * (500 ms), the least time between two transmissions of one request: no copy of a request is
 * applied after its next copy was sent.
 */
#define DP_WRITE_MAX_WAIT_MS 200u

/* Whether the write in @p p arrived more than DP_WRITE_MAX_WAIT_MS before this iteration began;
 * such a write is counted (drops.stale_write) and must be dropped unanswered. A packet whose
 * arrival the backend cannot tell (rx_ms 0) is never stale. Context: the worker; fast path. */
bool dp_write_stale(struct dp_worker *w, const struct dp_pkt *p);

/* The SIP side (dp_sip.c): parse @p pkt into pkt->msg.sip, set pkt->req (its key and route), and
 * name the shard that must handle it (w->id when any worker can). Context: the worker that
 * received it, inside a burst (w->rt held). */
unsigned dp_sip_classify(struct dp_worker *w, struct dp_pkt *pkt);
/* Handle the SIP datagram classify parsed, on the worker of its shard (its parse and pkt->req
 * travelled with it). */
void dp_sip_handle(struct dp_worker *w, struct dp_pkt *pkt);

/* The LSP side (dp_lsp.c), same contract (pkt->msg.lsp, or pkt->msg.ovl between nodes). */
unsigned dp_lsp_classify(struct dp_worker *w, struct dp_pkt *pkt);
void dp_lsp_handle(struct dp_worker *w, struct dp_pkt *pkt);
