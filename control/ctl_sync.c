/* SPDX-License-Identifier: MIT */
/*
 * Range sync (ctl_sync.h, docs/overlay.md §6, docs/lsp.md §11).
 *
 * Every transfer is merged record by record (dht_store_merge): a receiver takes only what is
 * newer than what it holds, and removals travel as tombstones, so no exchange can undo a write
 * or a removal, whoever sends it and in whatever order (docs/overlay.md §6). Four operations,
 * each a small state machine driven from ctl_sync_run:
 *   PUSH (the owner, to each replica): digest our range -> RANGE_DIGEST(PUSH) -> the replica
 *        answers the differing buckets and EMITs its own entries of them to us, and we EMIT
 *        ours to it: both sides end with the join of both, so missed publishes and removes are
 *        repaired either way, and what a replica took while we could not reach it (the other
 *        side of a partition) comes back to us.
 *   PULL (a node whose own range moved: join, restart, a predecessor's death): digest -> send
 *        RANGE_DIGEST(PULL) to the successor, which held the range -> it EMITs what differs.
 *   HANDOFF (a node holding keys of a range it does not replicate, every T_sync: a copy it took
 *        while the ring was split or smaller): digest that range -> RANGE_DIGEST(HANDOFF) to the
 *        range's owner -> it answers the differing buckets -> we EMIT them -> the owner answers
 *        the LAST frame: done, and not again while what we hold there and the ring stay the
 *        same. This is the hinted hand-off that brings writes acknowledged on a minority side
 *        to their owners.
 *   ANSWER (a RANGE_DIGEST from another node): digest the same range here, answer the differing
 *        buckets, and for a PULL or a PUSH emit them.
 * Digests and emits are worker tasks; emitted frames leave over the peer's bulk link, and its
 * full queue holds the frame back (and with it the workers' walks): transfers go at the pace the
 * peer takes them. Received transfers are applied by the workers; when they fall behind, reading
 * the bulk links pauses, so TCP holds the sender back instead of memory growing here. Everything
 * else (digests, answers, and the overlay's pings) goes over the control links, which are never
 * paused: a node busy applying a transfer still answers pings, so it is not declared dead.
 *
 * Who may sync what (docs/overlay.md 6.4): a frame is taken only from a live member of the view
 * (the copy of the last routing table, s->view), as the link authenticated it, and everything it
 * causes goes to that member's own address. A digest is answered only over a range the sender's
 * position allows (dht_sync_digest_allowed). A transfer is taken only as part of an exchange
 * this node agreed to (an "inbound": our own PULL or PUSH, or a PUSH or HANDOFF digest we
 * answered; every frame of an exchange carries its digest's txn and range), and only its entries
 * inside its range and inside what this node holds are merged (the APPLY task's ranges); the
 * LAST frame is answered once its entries were applied, FULL when some were refused or dropped,
 * so a hand-off goes again rather than count as done.
 */
#define _GNU_SOURCE
#include "control/ctl_sync.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/lc_alloc.h"
#include "common/lc_error.h"
#include "common/lc_log.h"
#include "control/ctl_addr.h"
#include "dataplane/dp_task.h"
#include "dht/dht_ring.h"
#include "dht/lsp_ovl.h"

#define MAX_OPS 32
#define MAX_APPLY 512		      /* apply tasks in flight; reading pauses at half of it */
#define APPLY_PAUSE_BYTES (32u << 20) /* stop reading links above this backlog ... */
#define APPLY_RESUME_BYTES (8u << 20) /* ... and read again below this */
#define OP_TIMEOUT_MS 30000	      /* no transfer progress for longer: given up */
#define ROUTE_SETTLE_MS 300	      /* wait for the ring to settle after a change */
#define PULL_RETRY_MS 500	      /* a failed or refused pull is asked again after this */
#define MAX_INBOUND 64		      /* exchanges whose transfers this node takes at once */
/* No answer to our digest for longer: given up, and asked again (a pull after PULL_RETRY_MS,
 * a push or a hand-off the next round). An answer is a digest task and a control frame away,
 * and the control links are never paused; a peer that does not hold us as a live member (it
 * saw us die a moment ago and has not seen us back yet: every heal) never answers at all.
 * Waiting OP_TIMEOUT_MS for it kept a healed owner from exchanging with anyone for 30 s (its
 * pushes wait for its pull): acknowledged writes read as lost meanwhile. */
#define DIGEST_ANSWER_MS 3000

enum op_kind { OP_PUSH, OP_PULL, OP_HANDOFF, OP_ANSWER };

static const char *const op_name[] = {"push", "pull", "hand-off", "answer"};
enum op_state { ST_DIGEST, ST_WAIT, ST_EMIT, ST_RECEIVE, ST_DRAIN, ST_CONFIRM };

/* One exchange of a range with a peer. Owner: struct ctl_sync (control thread). */
struct op {
	bool used;
	bool failed; /* timed out: its frames are dropped, it ends when its task does */
	enum op_kind kind;
	enum op_state state;
	struct sockaddr_storage peer;
	dht_id_t peer_id;
	struct dht_sync_range range;
	uint64_t txn;			/* of the RANGE_DIGEST exchange, and of its transfers */
	uint8_t mode;			/* ANSWER: the requester's PULL, PUSH or HANDOFF */
	unsigned ndiff;			/* buckets that differed */
	unsigned stray_at;		/* HANDOFF: 1 + its stray range, 0 when none */
	unsigned stray_gen;		/* HANDOFF: the stray ranges' generation it was made for */
	uint64_t stray_held, stray_x;	/* HANDOFF: what the range held when counted */
	struct dht_sync_digest *theirs; /* ANSWER: the requester's digest */
	struct dp_task *task;
	unsigned frames_sent;
	uint8_t set[DHT_SYNC_SET_BYTES];
	uint64_t deadline_ms;
};

/*
 * An exchange whose transfer this node takes: from the peer @p peer_id, frames with the txn and
 * range of the digest that started it. Owner: struct ctl_sync (control thread).
 */
struct inbound {
	bool used;
	bool last;    /* its LAST frame came: answered once its applies are done */
	bool refused; /* an entry of it was refused (outside the range or what we hold) */
	bool lossy;   /* a frame of it was dropped (no room to apply it) */
	dht_id_t peer_id;
	struct sockaddr_storage peer; /* where its LAST is answered */
	uint64_t txn;
	struct dht_sync_range range;
	unsigned napply;      /* its APPLY tasks not done yet */
	uint64_t deadline_ms; /* forgotten after this without a frame (and no apply left) */
};

/* Owner: the control thread (ctl_ovl); freed by ctl_sync_free. */
struct ctl_sync {
	struct dp_node *node;
	struct ctl_links *links;
	uint64_t overlay_id;
	uint32_t sync_ms;
	unsigned nworkers;
	uint64_t rng;
	struct dht_lsp_node self;
	bool have_route;
	struct dht_route *view; /* a copy of the last table: what frames are checked against */
	bool has_pred;
	dht_id_t pred;
	unsigned replicas; /* R */
	unsigned nrep;
	struct dht_peer rep[DHT_MAX_REPLICAS]; /* our range's replicas (the first successors) */
	struct dht_peer succ0;
	bool has_succ;
	uint64_t push_due, pull_due;
	struct op ops[MAX_OPS];
	struct dp_task *apply[MAX_APPLY];
	unsigned apply_in[MAX_APPLY]; /* 1 + the inbound of apply[i], 0 for none */
	unsigned napply;
	size_t apply_bytes;
	struct dp_task *posting[MAX_APPLY]; /* waiting for room on the workers' rings; owned by an
					       op or by apply[], not by this queue */
	unsigned nposting;
	/* hand-off: the ranges of the members whose keys this node does not replicate (with the
	 * one-hop view), and their union, one arc; a round counts our keys in the arc, and only
	 * when it holds any, slice by slice in the member ranges, to hand them to their owners */
	unsigned nstray, stray_cap;
	struct dht_peer *stray_owner;
	struct dht_sync_range *stray_range;
	/* per stray range, what it held (count, XOR of key shares) when its owner confirmed the
	 * last hand-off: while nothing changed and the ring did not, it is not handed off again */
	struct stray_mark {
		uint64_t held, x;
	} * stray_done;
	unsigned stray_gen; /* raised whenever the stray ranges change */
	struct dht_sync_range stray_arc;
	bool stray_slicing; /* the arc holds keys: counting member ranges, from stray_next */
	unsigned stray_next;
	uint64_t stray_due;
	struct dp_task *stray_count;
	unsigned stray_nr; /* ranges of stray_count: 1 (the arc) or a slice */
	bool stray_stale;  /* the ranges changed while stray_count ran: its result is dropped */
	unsigned stray_at[DP_TASK_MAX_RANGES];
	struct inbound inbound[MAX_INBOUND];
	/* counts by role (ctl_sync_count): one COUNT task at a time, numbered; asks that come while
	 * it runs are answered by the next one, over the ranges of the latest ask */
	struct dp_task *count_task;
	uint64_t count_asked, count_done; /* sequence numbers of the latest asked and finished */
	uint64_t count_posted_ms;	  /* when count_task was posted */
	unsigned count_nr;
	struct dht_sync_range count_range[DP_TASK_MAX_RANGES]; /* own range first */
	struct ctl_sync_roles counted;			       /* the latest finished count */
	struct ctl_sync_stats st;
	uint8_t buf[DHT_LSP_MAX_MSG];
	struct dht_lsp_bucket buckets[DHT_SYNC_BUCKETS];
};

static uint64_t rnd(struct ctl_sync *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng ? s->rng : 1;
}

int ctl_sync_new(struct ctl_sync **out, struct dp_node *node, struct ctl_links *links,
		 uint64_t overlay_id, uint32_t sync_ms)
{
	struct ctl_sync *s = lc_calloc(1, sizeof(*s));
	if (s == NULL) {
		return LC_ENOMEM;
	}
	s->node = node;
	s->links = links;
	s->overlay_id = overlay_id;
	s->sync_ms = sync_ms;
	s->nworkers = dp_node_nworkers(node);
	s->rng = overlay_id ^ (uint64_t)(uintptr_t)s ^ 0x9e3779b97f4a7c15ull;
	*out = s;
	return LC_OK;
}

static void task_free(struct dp_task *t)
{
	if (t != NULL) {
		lc_free(t->digest);
		lc_free(t->count);
		lc_free(t->frame);
		lc_free(t);
	}
}

static bool emitting_to(const struct ctl_sync *s, const struct op *except,
			const struct sockaddr_storage *peer);

static void op_end(struct ctl_sync *s, struct op *op, bool ok, uint64_t now_ms)
{
	if (!ok && op->state == ST_EMIT && !emitting_to(s, op, &op->peer)) {
		/* a transfer given up: drop what it queued rather than send it to a peer that
		 * stopped taking it (merging it later would be harmless, but it holds memory) */
		ctl_link_close_bulk(s->links, &op->peer);
	}
	if (op->ndiff > 0 || (op->task != NULL && op->task->kind == DP_TASK_EMIT)) {
		char peer[64];
		ctl_addr_format(&op->peer, peer, sizeof(peer));
		lc_info("sync: %s %s %s: %u buckets differed, %llu entries sent", op_name[op->kind],
			peer, ok ? "done" : "given up", op->ndiff,
			op->task != NULL && op->task->kind == DP_TASK_EMIT
				? (unsigned long long)atomic_load(&op->task->emitted)
				: 0ull);
	}
	if (ok && op->kind == OP_HANDOFF && op->stray_at > 0 && op->stray_gen == s->stray_gen &&
	    op->stray_at <= s->nstray) {
		s->stray_done[op->stray_at - 1] = (struct stray_mark){op->stray_held, op->stray_x};
	}
	task_free(op->task);
	lc_free(op->theirs);
	if (ok && (op->kind == OP_PUSH || op->kind == OP_PULL)) {
		s->st.last_sync_ms = now_ms;
	}
	if (!ok) {
		s->st.ops_failed++;
	}
	memset(op, 0, sizeof(*op));
}

void ctl_sync_free(struct ctl_sync *s)
{
	if (s == NULL) {
		return;
	}
	for (unsigned i = 0; i < MAX_OPS; i++) {
		if (s->ops[i].used) {
			op_end(s, &s->ops[i], false, 0);
		}
	}
	task_free(s->stray_count);
	dht_route_free(s->view);
	task_free(s->count_task);
	lc_free(s->stray_owner);
	lc_free(s->stray_range);
	lc_free(s->stray_done);
	/* every queued task also belongs to an op or to the apply list: freed there, once */
	for (unsigned i = 0; i < s->napply; i++) {
		task_free(s->apply[i]);
	}
	lc_free(s);
}

bool ctl_sync_busy(const struct ctl_sync *s)
{
	if (s->napply > 0 || s->nposting > 0 || s->count_asked > s->count_done) {
		return true;
	}
	for (unsigned i = 0; i < MAX_OPS; i++) {
		if (s->ops[i].used && s->ops[i].state != ST_WAIT) {
			return true;
		}
	}
	return false;
}

/* ---- tasks ----------------------------------------------------------------------------------- */

static struct dp_task *task_new(struct ctl_sync *s, enum dp_task_kind kind,
				const struct dht_sync_range *r)
{
	struct dp_task *t = lc_calloc(1, sizeof(*t));
	if (t == NULL) {
		return NULL;
	}
	t->kind = kind;
	/* not done until every worker ran it, also while it waits in the posting queue */
	atomic_store_explicit(&t->pending, s->nworkers, memory_order_relaxed);
	t->nranges = 1;
	t->range[0] = *r;
	t->all_buckets = true;
	t->self = s->self;
	if (kind == DP_TASK_DIGEST) {
		t->digest = lc_calloc(s->nworkers, sizeof(*t->digest));
		if (t->digest == NULL) {
			lc_free(t);
			return NULL;
		}
	}
	return t;
}

/* Post now, or queue it behind others (received frames are applied in the order they came).
 * Only received transfers (APPLY) can back up; the workers run other kinds in lanes of their
 * own, so those go past the queue rather than wait behind a backlog of applies. */
static bool task_post(struct ctl_sync *s, struct dp_task *t)
{
	bool ordered = t->kind == DP_TASK_APPLY;
	if ((s->nposting == 0 || !ordered) && dp_task_post(s->node, t)) {
		return true;
	}
	if (s->nposting == MAX_APPLY) {
		return false;
	}
	s->posting[s->nposting++] = t;
	return true;
}

/* The digest of a finished DIGEST task, merged over the workers' shards (into digest[0]). */
static const struct dht_sync_digest *task_digest(const struct ctl_sync *s, struct dp_task *t)
{
	for (unsigned w = 1; w < s->nworkers; w++) {
		dht_sync_digest_merge(&t->digest[0], &t->digest[w]);
	}
	return &t->digest[0];
}

/* ---- frames ---------------------------------------------------------------------------------- */

static void send_frame(struct ctl_sync *s, const struct sockaddr_storage *to, size_t len)
{
	if (ctl_link_send(s->links, to, s->buf, len) != LC_OK) {
		s->st.ops_failed++; /* small control frames: the periodic round sends them again */
	}
}

static void put_range(struct dht_lsp_builder *b, const struct dht_sync_range *r)
{
	struct dht_lsp_range lr = {r->lo, r->hi};
	dht_lsp_put_range(b, &lr);
}

static void answer_start_status(struct ctl_sync *s, struct dht_lsp_builder *b, unsigned type,
				uint64_t txn, unsigned status)
{
	dht_lsp_build_init(b, s->buf, sizeof(s->buf));
	struct dht_lsp_hdr h = {.type = (uint8_t)type,
				.flags = DHT_LSP_F_ANSWER,
				.hop_limit = DHT_LSP_HOP_LIMIT_OVERLAY,
				.txn_id = txn,
				.overlay_id = s->overlay_id};
	dht_lsp_build_hdr(b, &h);
	dht_lsp_put_status(b, status);
	dht_lsp_put_sender(b, &s->self);
}

static void answer_start(struct ctl_sync *s, struct dht_lsp_builder *b, unsigned type, uint64_t txn)
{
	answer_start_status(s, b, type, txn, DHT_LSP_S_OK);
}

static void send_digest(struct ctl_sync *s, struct op *op, const struct dht_sync_digest *d)
{
	for (unsigned i = 0; i < DHT_SYNC_BUCKETS; i++) {
		s->buckets[i] = (struct dht_lsp_bucket){d->x[i], d->n[i]};
	}
	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, s->buf, sizeof(s->buf));
	dht_lsp_ovl_request_start(&b, DHT_LSP_RANGE_DIGEST, op->txn, s->overlay_id, &s->self);
	put_range(&b, &op->range);
	dht_lsp_put_sync_mode(&b, op->kind == OP_PUSH	   ? DHT_LSP_SYNC_PUSH
				  : op->kind == OP_HANDOFF ? DHT_LSP_SYNC_HANDOFF
							   : DHT_LSP_SYNC_PULL);
	dht_lsp_put_buckets(&b, s->buckets, DHT_SYNC_BUCKETS);
	size_t len = 0;
	if (dht_lsp_build_finish(&b, &len) == LC_OK) {
		send_frame(s, &op->peer, len);
	}
}

/* The empty LAST frame that ends a transfer (the receiver answers it). */
static void send_last(struct ctl_sync *s, struct op *op, uint8_t mode)
{
	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, s->buf, sizeof(s->buf));
	dht_lsp_ovl_request_start(&b, DHT_LSP_RANGE_TRANSFER, op->txn, s->overlay_id, &s->self);
	put_range(&b, &op->range);
	dht_lsp_put_sync_mode(&b, mode);
	dht_lsp_put_flags(&b, DHT_LSP_FLAG_LAST);
	size_t len = 0;
	/* behind the transfer's other frames, on the same (bulk) link */
	if (dht_lsp_build_finish(&b, &len) == LC_OK &&
	    ctl_link_send_bulk(s->links, &op->peer, s->buf, len) != LC_OK) {
		s->st.ops_failed++; /* the receiver's exchange times out and is asked again */
	}
}

/* ---- operations ------------------------------------------------------------------------------ */

/* A new exchange of @p kind with @p peer (borrowed) over @p r: its digest is being taken. */
static struct op *op_new(struct ctl_sync *s, enum op_kind kind, const struct dht_peer *peer,
			 const struct dht_sync_range *r, uint64_t now_ms)
{
	struct sockaddr_storage addr;
	if (ctl_addr_from_dht(&peer->addr, &addr) != LC_OK) {
		return NULL;
	}
	for (unsigned i = 0; i < MAX_OPS; i++) {
		struct op *op = &s->ops[i];
		if (op->used) {
			continue;
		}
		memset(op, 0, sizeof(*op));
		op->used = true;
		op->kind = kind;
		op->peer = addr;
		op->peer_id = peer->id;
		op->range = *r;
		op->txn = rnd(s);
		op->deadline_ms = now_ms + OP_TIMEOUT_MS;
		op->task = task_new(s, DP_TASK_DIGEST, r);
		if (op->task == NULL || !task_post(s, op->task)) {
			op_end(s, op, false, now_ms);
			return NULL;
		}
		op->state = ST_DIGEST;
		return op;
	}
	s->st.ops_failed++;
	return NULL;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	struct dht_addr x, y;
	return ctl_addr_to_dht(a, &x) == LC_OK && ctl_addr_to_dht(b, &y) == LC_OK &&
	       dht_addr_equal(&x, &y);
}

/* Whether an op other than @p except is emitting to @p peer (its frames share the bulk link). */
static bool emitting_to(const struct ctl_sync *s, const struct op *except,
			const struct sockaddr_storage *peer)
{
	for (unsigned i = 0; i < MAX_OPS; i++) {
		const struct op *op = &s->ops[i];
		if (op != except && op->used && op->state == ST_EMIT &&
		    same_addr(&op->peer, peer)) {
			return true;
		}
	}
	return false;
}

/* Whether an op of @p kind runs, with any peer. */
static bool op_kind_running(const struct ctl_sync *s, enum op_kind kind)
{
	for (unsigned i = 0; i < MAX_OPS; i++) {
		if (s->ops[i].used && s->ops[i].kind == kind) {
			return true;
		}
	}
	return false;
}

static bool op_running(const struct ctl_sync *s, enum op_kind kind,
		       const struct sockaddr_storage *peer)
{
	for (unsigned i = 0; i < MAX_OPS; i++) {
		const struct op *op = &s->ops[i];
		if (op->used && op->kind == kind && same_addr(&op->peer, peer)) {
			return true;
		}
	}
	return false;
}

static void start_emit(struct ctl_sync *s, struct op *op, uint8_t mode, uint64_t now_ms)
{
	task_free(op->task);
	op->task = task_new(s, DP_TASK_EMIT, &op->range);
	if (op->task == NULL) {
		op_end(s, op, false, now_ms);
		return;
	}
	op->task->all_buckets = false;
	memcpy(op->task->buckets, op->set, sizeof(op->set));
	op->task->mode = mode;
	op->task->txn = op->txn; /* the receiver knows the transfer by its exchange's txn */
	op->frames_sent = 0;
	op->state = ST_EMIT;
	op->deadline_ms = now_ms + OP_TIMEOUT_MS;
	if (!task_post(s, op->task)) {
		op_end(s, op, false, now_ms);
	}
}

static unsigned count_bits(const uint8_t *set)
{
	unsigned n = 0;
	for (unsigned i = 0; i < DHT_SYNC_SET_BYTES; i++) {
		n += (unsigned)__builtin_popcount(set[i]);
	}
	return n;
}

/* ---- exchanges whose transfers this node takes ------------------------------------------- */

static struct inbound *inbound_find(struct ctl_sync *s, dht_id_t peer_id, uint64_t txn)
{
	for (unsigned i = 0; i < MAX_INBOUND; i++) {
		struct inbound *in = &s->inbound[i];
		if (in->used && in->peer_id == peer_id && in->txn == txn) {
			return in;
		}
	}
	return NULL;
}

/* Take the transfer of @p op's exchange (its peer, txn and range) from now on; false when too
 * many exchanges are open already (the exchange is then refused and asked again later). */
static bool inbound_add(struct ctl_sync *s, const struct op *op, uint64_t now_ms)
{
	for (unsigned i = 0; i < MAX_INBOUND; i++) {
		struct inbound *in = &s->inbound[i];
		if (!in->used) {
			*in = (struct inbound){.used = true,
					       .peer_id = op->peer_id,
					       .peer = op->peer,
					       .txn = op->txn,
					       .range = op->range,
					       .deadline_ms = now_ms + OP_TIMEOUT_MS};
			return true;
		}
	}
	return false;
}

/* Stop taking the transfer of an exchange that brings none (in sync, or refused). */
static void inbound_drop(struct ctl_sync *s, const struct op *op)
{
	struct inbound *in = inbound_find(s, op->peer_id, op->txn);
	if (in != NULL && in->napply == 0) {
		memset(in, 0, sizeof(*in));
	}
}

/* Answer a transfer's LAST frame with @p status. */
static void answer_last(struct ctl_sync *s, const struct sockaddr_storage *to, uint64_t txn,
			unsigned status)
{
	struct dht_lsp_builder b;
	answer_start_status(s, &b, DHT_LSP_RANGE_TRANSFER, txn, status);
	size_t len = 0;
	if (dht_lsp_build_finish(&b, &len) == LC_OK) {
		send_frame(s, to, len);
	}
}

/* A transfer whose LAST frame came and whose entries are all applied is answered and forgotten:
 * OK when it is all held, else FULL (a frame was dropped) or NOT_OWNER (entries were refused),
 * so that its sender (a hand-off) sends it again rather than count it done. */
static void inbound_finish(struct ctl_sync *s, struct inbound *in)
{
	if (!in->last || in->napply > 0) {
		return;
	}
	answer_last(s, &in->peer, in->txn,
		    in->lossy	  ? DHT_LSP_S_FULL
		    : in->refused ? DHT_LSP_S_NOT_OWNER
				  : DHT_LSP_S_OK);
	memset(in, 0, sizeof(*in));
}

/* Forget the exchanges whose peer went silent (nothing of theirs is being applied). */
static void inbound_expire(struct ctl_sync *s, uint64_t now_ms)
{
	for (unsigned i = 0; i < MAX_INBOUND; i++) {
		struct inbound *in = &s->inbound[i];
		if (in->used && in->napply == 0 && now_ms > in->deadline_ms) {
			memset(in, 0, sizeof(*in));
		}
	}
}

/* ---- advancing operations -------------------------------------------------------------------- */

/* A DIGEST task of @p op finished: send our digest, or answer the peer's. */
static void digest_done(struct ctl_sync *s, struct op *op, uint64_t now_ms)
{
	const struct dht_sync_digest *mine = task_digest(s, op->task);
	if (op->kind != OP_ANSWER) {
		/* the peer answers a pull with its entries and a push with its entries too (a
		 * hand-off with none): take them as part of this exchange */
		if (op->kind != OP_HANDOFF && !inbound_add(s, op, now_ms)) {
			op->failed = true; /* ended (a pull asked again) by ops_advance */
			return;
		}
		send_digest(s, op, mine);
		op->state = ST_WAIT;
		op->deadline_ms = now_ms + DIGEST_ANSWER_MS;
		task_free(op->task);
		op->task = NULL;
		return;
	}
	unsigned ndiff = dht_sync_digest_diff(mine, op->theirs, op->set);
	/* a push and a hand-off send us their entries of the differing buckets */
	bool take = op->mode != DHT_LSP_SYNC_PULL && ndiff > 0;
	if (take && !inbound_add(s, op, now_ms)) {
		struct dht_lsp_builder b;
		answer_start_status(s, &b, DHT_LSP_RANGE_DIGEST, op->txn, DHT_LSP_S_FULL);
		size_t len = 0;
		if (dht_lsp_build_finish(&b, &len) == LC_OK) {
			send_frame(s, &op->peer, len);
		}
		op_end(s, op, false, now_ms); /* the requester asks again next round */
		return;
	}
	s->st.buckets_differing += ndiff;
	op->ndiff = ndiff;
	s->st.digests_answered++;
	struct dht_lsp_builder b;
	answer_start(s, &b, DHT_LSP_RANGE_DIGEST, op->txn);
	put_range(&b, &op->range);
	dht_lsp_put_bucket_set(&b, op->set);
	size_t len = 0;
	if (dht_lsp_build_finish(&b, &len) == LC_OK) {
		send_frame(s, &op->peer, len);
	}
	/* a pull asks for our entries; a push exchanges both ways (the pusher sends its own when it
	 * reads this answer); a hand-off only gives */
	bool give = op->mode == DHT_LSP_SYNC_PULL || op->mode == DHT_LSP_SYNC_PUSH;
	if (give && ndiff > 0) {
		start_emit(s, op, DHT_LSP_SYNC_MERGE, now_ms);
	} else {
		op_end(s, op, true, now_ms);
	}
}

static void ops_advance(struct ctl_sync *s, uint64_t now_ms)
{
	for (unsigned i = 0; i < MAX_OPS; i++) {
		struct op *op = &s->ops[i];
		if (!op->used) {
			continue;
		}
		if (!op->failed && now_ms > op->deadline_ms) {
			op->failed = true;
		}
		if (op->failed && op->kind == OP_PULL && s->pull_due == 0) {
			s->pull_due = now_ms + PULL_RETRY_MS;
		}
		if (op->failed && (op->task == NULL || dp_task_done(op->task))) {
			/* an emit's frames are dropped as they come (take_frames) */
			if (op->task == NULL || op->state != ST_EMIT ||
			    op->frames_sent >= atomic_load(&op->task->frames)) {
				op_end(s, op, false, now_ms);
			}
			continue;
		}
		if (op->state == ST_DRAIN && s->napply == 0 && s->nposting == 0) {
			op_end(s, op, true, now_ms); /* our pull is in the stores */
		} else if (op->state == ST_DIGEST && dp_task_done(op->task)) {
			digest_done(s, op, now_ms);
		} else if (op->state == ST_EMIT && dp_task_done(op->task) &&
			   op->frames_sent >= atomic_load(&op->task->frames)) {
			send_last(s, op, op->task->mode);
			s->st.entries_sent += atomic_load(&op->task->emitted);
			if (op->kind == OP_HANDOFF) {
				/* done when the owner answers the LAST frame: it has every frame */
				op->state = ST_CONFIRM;
				op->deadline_ms = now_ms + OP_TIMEOUT_MS;
			} else {
				op_end(s, op, true, now_ms);
			}
		}
	}
}

static struct op *op_of_task(struct ctl_sync *s, const struct dp_task *t)
{
	for (unsigned i = 0; i < MAX_OPS; i++) {
		if (s->ops[i].used && s->ops[i].task == t) {
			return &s->ops[i];
		}
	}
	return NULL;
}

/* Send the frames the workers emitted, until a link refuses one (it is held back). */
static void take_frames(struct ctl_sync *s, uint64_t now_ms)
{
	struct dp_frame *f;
	while ((f = dp_task_take_frame(s->node)) != NULL) {
		struct op *op = op_of_task(s, f->task);
		if (op == NULL) {
			lc_free(f); /* cannot happen: an op ends only after all its frames */
			continue;
		}
		if (!op->failed) {
			int ret = ctl_link_send_bulk(s->links, &op->peer, f->data, f->len);
			if (ret == LC_EFULL) {
				dp_task_hold_frame(s->node, f);
				return;
			}
			if (ret != LC_OK) {
				op->failed = true;
			} else {
				s->st.frames_sent++;
				s->st.bytes_sent += f->len;
				/* a transfer fails when it stops moving, not when it is merely big */
				op->deadline_ms = now_ms + OP_TIMEOUT_MS;
			}
		}
		op->frames_sent++;
		lc_free(f);
	}
}

/* ---- receiving ------------------------------------------------------------------------------- */

static void applies_collect(struct ctl_sync *s)
{
	while (s->nposting > 0 && dp_task_post(s->node, s->posting[0])) {
		s->nposting--;
		memmove(s->posting, s->posting + 1, s->nposting * sizeof(s->posting[0]));
	}
	unsigned keep = 0;
	for (unsigned i = 0; i < s->napply; i++) {
		struct dp_task *t = s->apply[i];
		unsigned at = s->apply_in[i];
		if (!dp_task_done(t)) {
			s->apply_in[keep] = at;
			s->apply[keep++] = t;
			continue;
		}
		uint64_t refused = atomic_load(&t->refused);
		s->st.entries_applied += atomic_load(&t->applied);
		s->st.refused_entries += refused;
		s->apply_bytes -= t->frame_len;
		task_free(t);
		if (at > 0) {
			struct inbound *in = &s->inbound[at - 1];
			in->napply--;
			in->refused |= refused > 0;
			inbound_finish(s, in);
		}
	}
	s->napply = keep;
	if (s->apply_bytes < APPLY_RESUME_BYTES && s->napply < MAX_APPLY / 4) {
		ctl_links_pause_inbound(s->links, false);
	}
}

/*
 * Hand the entries of a transfer frame of exchange @p in to the workers, to be merged where they
 * lie inside the transfer's range @p r and what this node holds (an APPLY task over the arcs
 * both share); whether it was kept (false: no room, or nothing of it may be merged).
 */
static bool apply_post(struct ctl_sync *s, struct inbound *in, const struct dht_sync_range *r,
		       const void *frame, size_t len, unsigned nentries)
{
	struct dht_sync_range held, parts[2];
	dht_sync_held(s->view, &held);
	unsigned nparts = dht_sync_range_intersect(r, &held, parts);
	if (nparts == 0) {
		s->st.refused_entries += nentries; /* the range is none of ours (the view moved) */
		in->refused = true;
		return true;
	}
	if (s->napply >= MAX_APPLY) {
		return false;
	}
	struct dp_task *t = task_new(s, DP_TASK_APPLY, &parts[0]);
	uint8_t *copy = lc_alloc(len);
	if (t == NULL || copy == NULL) {
		lc_free(copy);
		task_free(t);
		return false;
	}
	memcpy(copy, frame, len);
	t->frame = copy;
	t->frame_len = len;
	t->nranges = nparts;
	t->range[1] = parts[1];
	if (!task_post(s, t)) {
		task_free(t);
		return false;
	}
	s->apply_in[s->napply] = (unsigned)(in - s->inbound) + 1;
	s->apply[s->napply++] = t;
	s->apply_bytes += len;
	in->napply++;
	return true;
}

/* A RANGE_TRANSFER frame from @p from: taken as part of an exchange with it, or refused. */
static void on_transfer(struct ctl_sync *s, const struct dht_lsp_ovl_msg *m, const void *frame,
			size_t len, const struct dht_peer *from, uint64_t now_ms)
{
	ctl_links_mark_bulk(s->links); /* the sender's bulk link: pausable */
	s->st.frames_received++;
	s->st.entries_received += m->nentries;
	struct dht_sync_range r = {m->range.lo, m->range.hi};
	bool last = (m->flags & DHT_LSP_FLAG_LAST) != 0;
	struct inbound *in = inbound_find(s, from->id, m->hdr.txn_id);
	if (in == NULL || memcmp(&in->range, &r, sizeof(r)) != 0) {
		/* part of no exchange we agreed to, or over another range than its digest's */
		s->st.refused_transfers++;
		s->st.refused_entries += m->nentries;
		struct sockaddr_storage peer;
		if (last && ctl_addr_from_dht(&from->addr, &peer) == LC_OK) {
			answer_last(s, &peer, m->hdr.txn_id, DHT_LSP_S_NOT_OWNER);
		}
		return;
	}
	in->deadline_ms = now_ms + OP_TIMEOUT_MS; /* it moves */
	if (m->nentries > 0 && !apply_post(s, in, &r, frame, len, m->nentries)) {
		/* a frame dropped (no room to apply it): its transfer must not be confirmed whole */
		in->lossy = true;
		s->st.frames_dropped++;
	}
	if (s->apply_bytes > APPLY_PAUSE_BYTES || s->napply >= MAX_APPLY / 2) {
		ctl_links_pause_inbound(s->links, true); /* TCP holds the sender back */
	}
	for (unsigned i = 0; i < MAX_OPS; i++) {
		struct op *op = &s->ops[i];
		/* ST_WAIT too: the digest answer (control link) may come after the transfer (bulk
		 * link) */
		if (op->used && (op->state == ST_RECEIVE || op->state == ST_WAIT) &&
		    op->kind == OP_PULL && op->txn == m->hdr.txn_id && op->peer_id == from->id) {
			op->deadline_ms = now_ms + OP_TIMEOUT_MS; /* it moves */
			if (last) {
				op->state = ST_DRAIN; /* complete once the workers applied it all */
			}
		}
	}
	if (last) {
		in->last = true;
		inbound_finish(s, in);
	}
}

/* A RANGE_DIGEST request from @p from: answered when its position allows the range, else
 * refused with NOT_OWNER (a member whose view differs asks again later). */
static void on_digest_request(struct ctl_sync *s, const struct dht_lsp_ovl_msg *m,
			      const struct dht_peer *from, uint64_t now_ms)
{
	struct sockaddr_storage peer;
	if (ctl_addr_from_dht(&from->addr, &peer) != LC_OK || m->buckets.n != DHT_SYNC_BUCKETS) {
		return; /* our digests always have DHT_SYNC_BUCKETS buckets */
	}
	struct dht_sync_range r = {m->range.lo, m->range.hi};
	if (!dht_sync_digest_allowed(s->view, from, m->sync_mode, &r)) {
		s->st.refused_digests++;
		char a[64];
		lc_debug(
			"sync: refused a digest (mode %u) from %s: its range is not one its place in "
			"the ring allows",
			m->sync_mode, dht_addr_format(&from->addr, a, sizeof(a)));
		struct dht_lsp_builder b;
		answer_start_status(s, &b, DHT_LSP_RANGE_DIGEST, m->hdr.txn_id,
				    DHT_LSP_S_NOT_OWNER);
		size_t len = 0;
		if (dht_lsp_build_finish(&b, &len) == LC_OK) {
			send_frame(s, &peer, len);
		}
		return;
	}
	struct dht_sync_digest *theirs = lc_alloc(sizeof(*theirs));
	if (theirs == NULL) {
		return;
	}
	for (unsigned i = 0; i < DHT_SYNC_BUCKETS; i++) {
		struct dht_lsp_bucket bk = dht_lsp_bucket_at(&m->buckets, i);
		theirs->x[i] = bk.hash;
		theirs->n[i] = bk.keys;
	}
	struct op *op = op_new(s, OP_ANSWER, from, &r, now_ms);
	if (op == NULL) {
		lc_free(theirs);
		return;
	}
	op->txn = m->hdr.txn_id;
	op->mode = m->sync_mode;
	op->theirs = theirs;
}

static void on_digest_answer(struct ctl_sync *s, const struct dht_lsp_ovl_msg *m,
			     const struct dht_peer *from, uint64_t now_ms)
{
	for (unsigned i = 0; i < MAX_OPS; i++) {
		struct op *op = &s->ops[i];
		if (!op->used || op->state != ST_WAIT || op->txn != m->hdr.txn_id ||
		    op->peer_id != from->id) {
			continue;
		}
		if (m->status / 100 != 2 || m->bucket_set == NULL) {
			if (op->kind == OP_PULL) {
				s->pull_due = now_ms + PULL_RETRY_MS; /* ask again */
			}
			inbound_drop(s, op);
			op_end(s, op, false, now_ms);
			return;
		}
		memcpy(op->set, m->bucket_set, DHT_SYNC_SET_BYTES);
		unsigned ndiff = count_bits(op->set);
		s->st.buckets_differing += ndiff;
		op->ndiff = ndiff;
		if ((op->kind == OP_PUSH || op->kind == OP_HANDOFF) && ndiff > 0) {
			start_emit(s, op, DHT_LSP_SYNC_MERGE, now_ms);
		} else if (op->kind == OP_PULL && ndiff > 0) {
			op->state = ST_RECEIVE; /* the peer emits to us: done at its LAST frame */
			op->deadline_ms = now_ms + OP_TIMEOUT_MS;
		} else {
			inbound_drop(s, op); /* in sync: nothing comes */
			op_end(s, op, true, now_ms);
		}
		return;
	}
}

/* The answer to a transfer's LAST frame: a hand-off waiting for it is complete. */
static void on_transfer_answer(struct ctl_sync *s, const struct dht_lsp_ovl_msg *m,
			       const struct dht_peer *from, uint64_t now_ms)
{
	for (unsigned i = 0; i < MAX_OPS; i++) {
		struct op *op = &s->ops[i];
		if (op->used && op->state == ST_CONFIRM && op->txn == m->hdr.txn_id &&
		    op->peer_id == from->id) {
			op_end(s, op, m->status / 100 == 2, now_ms);
			return;
		}
	}
}

bool ctl_sync_frame_sender(const void *frame, size_t len, struct dht_peer *out)
{
	struct dht_lsp_ovl_msg m;
	if (dht_lsp_ovl_parse(&m, frame, len) != LC_OK || !(m.present & DHT_LSP_O_SENDER)) {
		return false;
	}
	*out = (struct dht_peer){.id = m.sender.id, .addr = m.sender.addr};
	return true;
}

bool ctl_sync_on_frame(struct ctl_sync *s, const void *frame, size_t len, uint64_t now_ms,
		       const struct dht_peer *from)
{
	struct dht_lsp_ovl_msg m;
	if (dht_lsp_ovl_parse(&m, frame, len) != LC_OK || m.hdr.overlay_id != s->overlay_id) {
		return false;
	}
	if (s->view == NULL || !dht_sync_from_member(s->view, from)) {
		/* not a live member of our view (a stranger, a node we believe dead, one still
		 * joining): nothing it says is taken or answered, so nothing goes to any address
		 * because of it */
		s->st.refused_strangers++;
		return false;
	}
	bool answer = dht_lsp_ovl_is_answer(&m);
	if (m.hdr.type == DHT_LSP_RANGE_DIGEST && answer) {
		on_digest_answer(s, &m, from, now_ms);
	} else if (m.hdr.type == DHT_LSP_RANGE_DIGEST) {
		on_digest_request(s, &m, from, now_ms);
	} else if (m.hdr.type == DHT_LSP_RANGE_TRANSFER && !answer) {
		on_transfer(s, &m, frame, len, from, now_ms);
	} else if (m.hdr.type == DHT_LSP_RANGE_TRANSFER) {
		on_transfer_answer(s, &m, from, now_ms);
	}
	return true;
}

/* ---- when to sync ---------------------------------------------------------------------------- */

/* Whether @p peer is a live member of @p rt. */
static bool member_addr(const struct dht_route *rt, const struct sockaddr_storage *peer)
{
	struct dht_addr a;
	if (ctl_addr_to_dht(peer, &a) != LC_OK) {
		return false;
	}
	for (unsigned i = 0; i < rt->nmembers; i++) {
		if (dht_addr_equal(&rt->members[i].addr, &a)) {
			return true;
		}
	}
	for (unsigned i = 0; i < rt->nsucc; i++) {
		if (dht_addr_equal(&rt->succ[i].addr, &a)) {
			return true;
		}
	}
	return rt->has_pred && dht_addr_equal(&rt->pred.addr, &a);
}

/* The ranges of the members whose keys this node does not replicate (with the complete view):
 * members me+1 .. me+n-R clockwise, each owning (its predecessor, itself]; their union is the arc
 * (self, member me+n-R]. Whether they changed (false also when out of memory: kept as they were). */
static bool strays_set(struct ctl_sync *s, const struct dht_route *rt)
{
	unsigned n = rt->one_hop ? rt->nmembers : 0, me = rt->self_index;
	unsigned k = n > rt->replicas ? n - rt->replicas : 0;
	if (k > s->stray_cap) {
		struct dht_peer *o = lc_alloc(k * sizeof(*o));
		struct dht_sync_range *r = lc_alloc(k * sizeof(*r));
		struct stray_mark *d = lc_alloc(k * sizeof(*d));
		if (o == NULL || r == NULL || d == NULL) {
			lc_free(o);
			lc_free(r);
			lc_free(d);
			return false;
		}
		lc_free(s->stray_owner);
		lc_free(s->stray_range);
		lc_free(s->stray_done);
		s->stray_owner = o;
		s->stray_range = r;
		s->stray_done = d;
		s->stray_cap = k;
	}
	bool moved = k != s->nstray;
	for (unsigned j = 1; j <= k; j++) {
		struct dht_sync_range r = {rt->members[(me + j - 1) % n].id,
					   rt->members[(me + j) % n].id};
		moved = moved || memcmp(&r, &s->stray_range[j - 1], sizeof(r)) != 0;
		s->stray_range[j - 1] = r;
		s->stray_owner[j - 1] = rt->members[(me + j) % n];
	}
	s->nstray = k;
	if (k > 0) {
		s->stray_arc =
			(struct dht_sync_range){s->stray_range[0].lo, s->stray_range[k - 1].hi};
	}
	if (moved) {
		s->stray_next = 0;
		s->stray_slicing = false;
		s->stray_stale = s->stray_count != NULL;
		s->stray_gen++;
		memset(s->stray_done, 0,
		       k * sizeof(s->stray_done[0])); /* hand everything off again */
	}
	return moved;
}

/* Keep a copy of @p rt as the view frames are checked against (the old one stays when out of
 * memory: a view a change behind, which the rules' slack tolerates). */
static void view_set(struct ctl_sync *s, const struct dht_route *rt)
{
	struct dht_route *v = dht_route_new(rt->nmembers);
	if (v == NULL) {
		s->st.ops_failed++;
		return;
	}
	memcpy(v, rt, sizeof(*rt) + rt->nmembers * sizeof(rt->members[0]));
	v->cap = rt->nmembers;
	dht_route_free(s->view);
	s->view = v;
}

void ctl_sync_on_route(struct ctl_sync *s, const struct dht_route *rt, uint64_t now_ms)
{
	view_set(s, rt);
	/* an exchange with a node that left the ring will never finish: end it now, so that a node
	 * coming back at the same address is synced at once rather than after the timeout */
	for (unsigned i = 0; i < MAX_OPS; i++) {
		if (s->ops[i].used && !member_addr(rt, &s->ops[i].peer)) {
			s->ops[i].failed = true;
		}
	}
	s->self = (struct dht_lsp_node){.id = rt->self.id, .addr = rt->self.addr};
	s->replicas = rt->replicas;
	bool pred_moved = rt->has_pred != s->has_pred || (rt->has_pred && rt->pred.id != s->pred);
	unsigned nrep = 0;
	struct dht_peer rep[DHT_MAX_REPLICAS];
	for (unsigned i = 0; i < rt->nsucc && nrep + 1 < rt->replicas; i++) {
		rep[nrep++] = rt->succ[i];
	}
	bool reps_moved = nrep != s->nrep;
	for (unsigned i = 0; i < nrep && !reps_moved; i++) {
		reps_moved = rep[i].id != s->rep[i].id;
	}
	s->has_pred = rt->has_pred;
	s->pred = rt->has_pred ? rt->pred.id : 0;
	s->nrep = nrep;
	memcpy(s->rep, rep, sizeof(rep));
	s->has_succ = rt->nsucc > 0;
	if (s->has_succ) {
		s->succ0 = rt->succ[0];
	}
	if (pred_moved && s->has_pred && s->has_succ) {
		s->pull_due = now_ms + ROUTE_SETTLE_MS;
	}
	if ((pred_moved || reps_moved) && s->has_pred && nrep > 0) {
		s->push_due = now_ms + ROUTE_SETTLE_MS;
	}
	if (strays_set(s, rt)) {
		s->stray_due =
			now_ms + ROUTE_SETTLE_MS; /* the ring changed: a split may have healed */
	}
	if (!s->have_route) {
		s->have_route = true;
		if (s->push_due == 0) {
			s->push_due = now_ms + s->sync_ms;
		}
	}
}

static void start_round(struct ctl_sync *s, uint64_t now_ms)
{
	if (!s->has_pred) {
		return;
	}
	struct dht_sync_range own = {s->pred, s->self.id};
	if (s->pull_due != 0 && now_ms >= s->pull_due) {
		s->pull_due = 0;
		struct sockaddr_storage peer;
		if (s->has_succ && ctl_addr_from_dht(&s->succ0.addr, &peer) == LC_OK &&
		    !op_running(s, OP_PULL, &peer) && op_new(s, OP_PULL, &s->succ0, &own, now_ms)) {
			s->st.pulls++;
		}
	}
	/* A push waits while our pull runs: both merge, so neither could undo the other, but the
	 * push would only exchange, bucket by bucket, what the pull is already fetching. It does
	 * not wait for a pull that failed and is due again (pull_due): a successor that keeps
	 * refusing or ignoring our pull must not keep our replicas' writes from us too. */
	if (s->push_due != 0 && now_ms >= s->push_due && !op_kind_running(s, OP_PULL)) {
		s->push_due = now_ms + s->sync_ms;
		for (unsigned i = 0; i < s->nrep; i++) {
			struct sockaddr_storage peer;
			if (ctl_addr_from_dht(&s->rep[i].addr, &peer) == LC_OK &&
			    !op_running(s, OP_PUSH, &peer) &&
			    op_new(s, OP_PUSH, &s->rep[i], &own, now_ms)) {
				s->st.pushes++;
			}
		}
	}
}

/* Post a COUNT task over @p nr ranges to every worker; NULL when out of memory or the workers'
 * rings are full. The caller frees it once dp_task_done. */
static struct dp_task *count_post(struct ctl_sync *s, const struct dht_sync_range *r, unsigned nr)
{
	struct dp_task *t = lc_calloc(1, sizeof(*t));
	if (t == NULL) {
		return NULL;
	}
	t->kind = DP_TASK_COUNT;
	atomic_store_explicit(&t->pending, s->nworkers, memory_order_relaxed);
	t->nranges = nr;
	memcpy(t->range, r, nr * sizeof(r[0]));
	t->count = lc_calloc((size_t)s->nworkers * nr, sizeof(*t->count));
	if (t->count == NULL || !task_post(s, t)) {
		task_free(t);
		return NULL;
	}
	return t;
}

/* A count of the arc finished: whether it holds keys. A count of a slice finished: hand off
 * every member range of it that holds any. */
static void strays_counted(struct ctl_sync *s, uint64_t now_ms)
{
	for (unsigned i = 0; i < s->stray_nr; i++) {
		uint64_t held = 0, x = 0;
		for (unsigned w = 0; w < s->nworkers; w++) {
			held += s->stray_count->count[w * s->stray_nr + i].held;
			x ^= s->stray_count->count[w * s->stray_nr + i].x;
		}
		if (!s->stray_slicing) {
			/* the arc: nothing to hand off (the steady state, one walk a round), or slice */
			s->stray_slicing = held > 0;
			s->stray_next = 0;
			continue;
		}
		unsigned at = s->stray_at[i];
		struct sockaddr_storage peer;
		struct op *op;
		if (held == 0 || at >= s->nstray ||
		    (s->stray_done[at].held == held && s->stray_done[at].x == x)) {
			continue; /* nothing here, or handed off already and unchanged since */
		}
		if (ctl_addr_from_dht(&s->stray_owner[at].addr, &peer) == LC_OK &&
		    !op_running(s, OP_HANDOFF, &peer) &&
		    (op = op_new(s, OP_HANDOFF, &s->stray_owner[at], &s->stray_range[at],
				 now_ms)) != NULL) {
			op->stray_at = at + 1;
			op->stray_gen = s->stray_gen;
			op->stray_held = held;
			op->stray_x = x;
			s->st.handoffs++;
			lc_info("sync: holding %llu keys of a range this node does not replicate: "
				"handing them to its owner",
				(unsigned long long)held);
		}
	}
}

/* Hand-off rounds (docs/overlay.md §6.4): every T_sync, and soon after the ring changed, count
 * our keys in the arc of ranges we do not replicate; when it holds any, count them slice by slice
 * (DP_TASK_MAX_RANGES member ranges a walk) and hand each range that holds some to its owner. */
static void stray_round(struct ctl_sync *s, uint64_t now_ms)
{
	if (s->stray_count != NULL) {
		if (!dp_task_done(s->stray_count)) {
			return;
		}
		bool slice = s->stray_slicing, stale = s->stray_stale;
		if (!stale) {
			strays_counted(s, now_ms);
		}
		s->stray_stale = false;
		task_free(s->stray_count);
		s->stray_count = NULL;
		if (slice && s->stray_next == 0) {
			s->stray_slicing = false; /* every slice done: the next round starts over */
		}
		if (!stale) {
			/* a stale count keeps the due time the ring's change set (ctl_sync_on_route):
			 * a count that was running when a split healed must not put the hand-off of
			 * what the split wrote off by a whole T_sync */
			s->stray_due = s->stray_slicing ? now_ms : now_ms + s->sync_ms;
		}
	}
	if (s->nstray == 0 || s->stray_due == 0 || now_ms < s->stray_due) {
		return;
	}
	struct dht_sync_range r[DP_TASK_MAX_RANGES];
	unsigned nr = 0, next = s->stray_next;
	if (!s->stray_slicing) {
		r[nr++] = s->stray_arc;
	}
	while (s->stray_slicing && nr < DP_TASK_MAX_RANGES && next < s->nstray) {
		s->stray_at[nr] = next;
		r[nr++] = s->stray_range[next++];
	}
	s->stray_count = count_post(s, r, nr);
	if (s->stray_count == NULL) {
		s->stray_due = now_ms + s->sync_ms; /* tried again next round */
		return;
	}
	s->stray_next = next >= s->nstray ? 0 : next;
	s->stray_nr = nr;
}

/* ---- counts by role (locusctl node and ring) ------------------------------------------------ */

/* The ranges a count by role walks under @p rt: our own range, then those we replicate, the ranges
 * of our R-1 predecessors (known with the complete view; without it, only our own range). None
 * when we are alone: nothing is a replica, and every key is owned (the stats say). */
static unsigned count_ranges(const struct dht_route *rt, struct dht_sync_range *r)
{
	unsigned nr = 0;
	if (!rt->has_pred) {
		return 0;
	}
	r[nr++] = (struct dht_sync_range){rt->pred.id, rt->self.id};
	if (rt->one_hop && rt->nmembers > 2) {
		unsigned n = rt->nmembers, me = rt->self_index;
		for (unsigned k = 1; k < rt->replicas && k < n && nr < DP_TASK_MAX_RANGES; k++) {
			dht_id_t hi = rt->members[(me + n - k) % n].id;
			dht_id_t lo = rt->members[(me + n - k - 1) % n].id;
			r[nr++] = (struct dht_sync_range){lo, hi};
		}
	} else if (rt->one_hop && rt->nmembers == 2 && rt->replicas > 1) {
		r[nr++] = (struct dht_sync_range){rt->self.id, rt->pred.id}; /* the other's range */
	}
	return nr;
}

/* Start the next count (count_done + 1) over count_range; when the workers' rings refuse it, it
 * stays asked for and ctl_sync_run tries again. */
static void count_start(struct ctl_sync *s, uint64_t now_ms)
{
	if (s->count_nr == 0) {
		s->counted = (struct ctl_sync_roles){.started_ms = now_ms};
		s->count_done++;
		return;
	}
	s->count_task = count_post(s, s->count_range, s->count_nr);
	s->count_posted_ms = now_ms;
}

/* A finished count: summed over the shards into s->counted; then the next one when asked for. */
static void count_collect(struct ctl_sync *s, uint64_t now_ms)
{
	struct dp_task *t = s->count_task;
	if (t != NULL) {
		if (!dp_task_done(t)) {
			return;
		}
		struct ctl_sync_roles r = {.started_ms = s->count_posted_ms};
		for (unsigned w = 0; w < s->nworkers; w++) {
			for (unsigned i = 0; i < t->nranges; i++) {
				const struct dht_sync_count *c = &t->count[w * t->nranges + i];
				*(i == 0 ? &r.owned_keys : &r.replica_keys) += c->keys;
				*(i == 0 ? &r.owned_bindings : &r.replica_bindings) += c->bindings;
			}
		}
		s->counted = r;
		s->count_done++;
		task_free(t);
		s->count_task = NULL;
	}
	if (s->count_asked > s->count_done) {
		count_start(s, now_ms);
	}
}

uint64_t ctl_sync_count(struct ctl_sync *s, const struct dht_route *rt, uint64_t now_ms,
			uint64_t min_age_ms)
{
	if (min_age_ms > 0 &&
	    (s->count_asked > s->count_done ||
	     (s->count_done > 0 && now_ms - s->counted.started_ms < min_age_ms))) {
		return s->count_asked;
	}
	s->count_nr = count_ranges(rt, s->count_range);
	if (s->count_task != NULL) {
		/* the running count started before this ask: the next one answers it */
		s->count_asked = s->count_done + 2;
		return s->count_asked;
	}
	s->count_asked = s->count_done + 1;
	count_start(s, now_ms);
	return s->count_asked;
}

uint64_t ctl_sync_counted(const struct ctl_sync *s, struct ctl_sync_roles *out)
{
	*out = s->count_done > 0 ? s->counted : (struct ctl_sync_roles){0};
	return s->count_done;
}

void ctl_sync_run(struct ctl_sync *s, uint64_t now_ms)
{
	applies_collect(s);
	inbound_expire(s, now_ms);
	take_frames(s, now_ms);
	ops_advance(s, now_ms);
	start_round(s, now_ms);
	stray_round(s, now_ms);
	count_collect(s, now_ms);
}

void ctl_sync_hand_off(struct ctl_sync *s, unsigned max_ms)
{
	if (!s->has_pred || !s->has_succ) {
		return;
	}
	uint64_t start = 0;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	start = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	struct sockaddr_storage peer;
	struct dht_sync_range own = {s->pred, s->self.id};
	if (ctl_addr_from_dht(&s->succ0.addr, &peer) != LC_OK ||
	    op_new(s, OP_PUSH, &s->succ0, &own, start) == NULL) {
		return;
	}
	uint64_t now = start;
	while (now - start < max_ms && op_running(s, OP_PUSH, &peer)) {
		ctl_links_run(s->links, now);
		ctl_sync_run(s, now);
		usleep(1000);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	}
}

void ctl_sync_stats(const struct ctl_sync *s, struct ctl_sync_stats *out)
{
	*out = s->st;
}

bool ctl_sync_pulling(const struct ctl_sync *s)
{
	if (s->pull_due != 0) {
		return true;
	}
	return op_kind_running(s, OP_PULL);
}
