/* SPDX-License-Identifier: MIT */
/*
 * locus-bench's sending threads (lb_loop.h). Each thread owns its transport context (its sockets
 * or its DPDK queue pair: lb_xport.h), a table of transaction slots, a timer wheel over those
 * slots, its share of the AORs and its counters; the threads share only the read-only
 * configuration and AOR generator.
 *
 * How it works: one loop per thread, each turn
 *   1. fires due timers: a transaction past --timeout-ms is missing; otherwise its request is
 *      sent again (timer A for INVITE, doubling; timer E otherwise, doubling up to T2; after a
 *      provisional answer an INVITE is not resent and a non-INVITE is resent every T2);
 *   2. starts requests: closed loop, until the thread's share of --window is in flight; open
 *      loop, every request whose due time has come (a due request that finds every slot busy is
 *      counted unsent, never delayed, so the offered rate stays what was asked; what is still
 *      due when --duration is up is counted unsent too, so a generator that falls behind still
 *      stops on time);
 *   3. sends what was queued (sockets: one sendmmsg per socket; DPDK: one burst);
 *   4. waits for answers, at most until the next due request or the next timer tick (sockets:
 *      in epoll; DPDK: polling the queue), then judges each answer (lb_check.h). The time
 *      spent waiting with nothing received is counted (wait_ns): the generator's idle time,
 *      which says whether it or the server is the limit.
 * An answer finds its slot from the Via branch or LSP transaction id; one that finds no live
 * transaction is late (its transaction was given up: a bounded set of given-up numbers says so),
 * a duplicate (an earlier number) or stray. Latency runs from when the request was due (open
 * loop) or first sent (closed loop) to the final answer, so the generator's own lag and the
 * retransmissions a loss cost are in it, as a user would see them.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench/bench_prng.h"
#include "bench/lb_aor.h"
#include "bench/lb_aorstate.h"
#include "bench/lb_check.h"
#include "bench/lb_loop.h"
#include "bench/lb_lsp.h"
#include "bench/lb_resp.h"
#include "bench/lb_sip.h"
#include "bench/lb_wheel.h"
#include "bench/lb_xport.h"
#include "common/lc_alloc.h"
#include "common/lc_error.h"
#include "dht/dht_key.h"
#include "dht/lsp.h"

#define BURST 32
#define MSG_MAX LB_XPORT_MSG_MAX
#define LATE_CAP (1u << 16)
#define TICK_NS (1ull << LB_WHEEL_TICK_SHIFT)

_Static_assert(MSG_MAX >= LB_SIP_MAX && MSG_MAX >= LB_LSP_MAX, "request buffer too small");

enum end_reason { END_RUNNING, END_COUNT, END_TIME, END_EXHAUSTED, END_STOPPED };

/* One transaction. Owner: its thread. */
struct slot {
	uint64_t seq;	     /* the thread's transaction number */
	uint64_t due_ns;     /* when it was due (open loop) or first sent: latency starts here */
	uint64_t give_up_ns; /* timer B/F */
	uint64_t aor;	     /* global AOR number (in the unknown namespace for unknown ops) */
	uint32_t cseq;
	uint32_t interval_ms; /* the next retransmission interval */
	uint8_t op;
	uint8_t sock;
	uint8_t target;
	uint8_t active;
	uint8_t provisional;
};

/* Owner: the sending thread; the main thread sets it up and reads st and done. */
struct thread {
	struct lb_run *run;
	const struct lb_cfg *cfg;
	unsigned id;
	pthread_t tid;
	bool started_ok;
	const struct lb_xport_ops *xo;
	void *xc; /* the transport's context for this thread */
	unsigned nsock;
	char local[LB_MAX_SOCKETS][64]; /* "addr:port" for Via */
	unsigned local_len[LB_MAX_SOCKETS];
	struct slot *slots;
	uint32_t nslots;
	uint32_t limit; /* closed loop: this thread's share of the window */
	uint32_t active;
	uint32_t *free;
	uint32_t nfree;
	struct lb_wheel *wheel;
	struct lb_aorstate aors;
	struct bench_prng rng;
	uint64_t budget; /* requests to start; UINT64_MAX: unbounded */
	uint64_t started;
	uint64_t seq;
	uint64_t next_ns; /* open loop: when the next request is due */
	uint64_t gap_ns;
	int end;
	uint64_t *late; /* given-up transaction numbers + 1, open addressing */
	uint32_t nlate;
	struct lb_stats *st;
	struct dht_lsp_msg *lsp_msg;
	atomic_bool done;
};

/* Owner: main(). */
struct lb_run {
	const struct lb_cfg *cfg;
	const struct lb_xport_ops *xo;
	void *xshared; /* the transport's run-wide state */
	struct lb_aorgen gen;
	uint64_t overlay_id;
	unsigned wsum;
	struct thread *th;
	pthread_barrier_t barrier;
	bool barrier_ok;
	uint64_t t0_ns;
	uint64_t stop_ns; /* 0: no time bound */
	atomic_bool stop;
	atomic_uint wrong_shown;
	atomic_int end;
};

static uint64_t now_ns(void)
{
	return lb_now_ns();
}

static void set_max(lc_counter_t *c, uint64_t v)
{
	if (v > lc_counter_get(c)) {
		atomic_store_explicit(c, v, memory_order_relaxed);
	}
}

/* ---- given-up transactions (to tell late answers from strays) ------------------------------- */

static void late_add(struct thread *t, uint64_t seq)
{
	if (t->nlate >= LATE_CAP / 2) {
		memset(t->late, 0, LATE_CAP * sizeof(*t->late)); /* forget the oldest all at once */
		t->nlate = 0;
	}
	uint32_t h = (uint32_t)((seq * 0x9e3779b97f4a7c15ull) >> 48);
	while (t->late[h] != 0) {
		h = (h + 1) & (LATE_CAP - 1);
	}
	t->late[h] = seq + 1;
	t->nlate++;
}

static bool late_has(const struct thread *t, uint64_t seq)
{
	uint32_t h = (uint32_t)((seq * 0x9e3779b97f4a7c15ull) >> 48);
	while (t->late[h] != 0) {
		if (t->late[h] == seq + 1) {
			return true;
		}
		h = (h + 1) & (LATE_CAP - 1);
	}
	return false;
}

static void unmatched(struct thread *t, uint64_t seq)
{
	if (late_has(t, seq)) {
		lc_counter_inc(&t->st->late);
	} else if (seq < t->seq) {
		lc_counter_inc(&t->st->duplicate);
	} else {
		lc_counter_inc(&t->st->stray);
	}
}

/* ---- sending ---------------------------------------------------------------------------------- */

static char *txq_buf(struct thread *t, unsigned k)
{
	return t->xo->tx_buf(t->xc, k);
}

static void txq_commit(struct thread *t, unsigned k, const struct lb_target *to, size_t len)
{
	t->xo->tx_commit(t->xc, k, to, len);
}

static const struct lb_target *target_of(const struct thread *t, const struct slot *s)
{
	return lb_op_info(s->op)->lsp ? &t->cfg->lsp[s->target] : &t->cfg->sip[s->target];
}

static bool is_invite(enum lb_op op)
{
	return op == LB_OP_INVITE || op == LB_OP_UNKNOWN;
}

static void sip_req_of(const struct thread *t, const struct slot *s, uint32_t k,
		       const struct lb_aor *a, struct lb_sip_req *q)
{
	*q = (struct lb_sip_req){
		.op = s->op,
		.aor = a,
		.domain = t->run->gen.domain,
		.domain_len = t->run->gen.domain_len,
		.local = t->local[s->sock],
		.local_len = t->local_len[s->sock],
		.thread = t->id,
		.slot = k,
		.seq = s->seq,
		.run_id = t->cfg->run_id,
		.cseq = s->cseq,
		.expires_s = t->cfg->expires_s,
	};
}

/* Queue slot k's request (first send or retransmission): the bytes are rebuilt, identically. */
static void send_request(struct thread *t, uint32_t k)
{
	const struct slot *s = &t->slots[k];
	const struct lb_op_info *info = lb_op_info(s->op);
	struct lb_aor a;
	lb_aor_get(&t->run->gen, s->aor, info->known, t->cfg->run_id, &a);
	char *buf = txq_buf(t, s->sock);
	size_t len;
	if (info->lsp) {
		struct lb_lsp_req q = {s->op,
				       &a,
				       lb_lsp_txn(t->id, k, s->seq),
				       t->run->overlay_id,
				       s->cseq,
				       t->cfg->expires_s};
		len = lb_lsp_build((uint8_t *)buf, &q);
	} else {
		struct lb_sip_req q;
		sip_req_of(t, s, k, &a, &q);
		len = lb_sip_build(buf, &q);
	}
	if (len == 0) {
		lc_counter_inc(&t->st->send_errors); /* cannot happen with the fixed field sizes */
		return;
	}
	txq_commit(t, s->sock, target_of(t, s), len);
}

static void send_ack(struct thread *t, uint32_t k, const struct lb_aor *a, struct lb_str tag)
{
	const struct slot *s = &t->slots[k];
	struct lb_sip_req q;
	sip_req_of(t, s, k, a, &q);
	char *buf = txq_buf(t, s->sock);
	size_t len = lb_sip_build_ack(buf, &q, tag.p, tag.len);
	txq_commit(t, s->sock, target_of(t, s), len);
	lc_counter_inc(&t->st->acks);
}

/* ---- starting and ending transactions --------------------------------------------------------- */

/* Draw an operation from the mix and take an AOR for it; an operation that has no AOR to work on
 * is left out and the draw repeated. False when no operation of the mix can run any more. */
static bool choose(struct thread *t, enum lb_op *op, uint64_t *aor)
{
	const struct lb_cfg *c = t->cfg;
	unsigned avail[LB_OP_COUNT], wsum = t->run->wsum;
	memcpy(avail, c->weight, sizeof(avail));
	while (wsum > 0) {
		unsigned r = (unsigned)(bench_prng_next(&t->rng) % wsum), o = 0;
		while (r >= avail[o]) {
			r -= avail[o++];
		}
		const struct lb_op_info *info = lb_op_info(o);
		bool got = true;
		if (info->needs_registered) {
			got = lb_aorstate_pick_registered(&t->aors, &t->rng, aor);
		} else if (info->needs_free) {
			got = lb_aorstate_pick_free(&t->aors, aor);
		} else {
			*aor = bench_prng_next(&t->rng) % c->aors;
		}
		if (got) {
			*op = (enum lb_op)o;
			return true;
		}
		wsum -= avail[o];
		avail[o] = 0;
	}
	return false;
}

static bool start_one(struct thread *t, uint64_t now, uint64_t due)
{
	enum lb_op op;
	uint64_t aor;
	if (!choose(t, &op, &aor)) {
		t->end = END_EXHAUSTED;
		return false;
	}
	const struct lb_cfg *c = t->cfg;
	uint32_t k = t->free[--t->nfree];
	struct slot *s = &t->slots[k];
	unsigned ntargets = lb_op_info(op)->lsp ? c->nlsp : c->nsip;
	*s = (struct slot){
		.seq = t->seq,
		.due_ns = due,
		.give_up_ns = now + (uint64_t)c->timeout_ms * 1000000ull,
		.aor = aor,
		.cseq = (uint32_t)(t->seq % 0x7fffffffu) + 1,
		.interval_ms = c->t1_ms,
		.op = (uint8_t)op,
		.sock = (uint8_t)(t->seq % t->nsock),
		.target = (uint8_t)(t->seq % ntargets),
		.active = 1,
	};
	t->seq++;
	t->started++;
	t->active++;
	send_request(t, k);
	uint64_t first = c->t1_ms ? now + (uint64_t)c->t1_ms * 1000000ull : s->give_up_ns;
	lb_wheel_arm(t->wheel, k, first < s->give_up_ns ? first : s->give_up_ns);
	lc_counter_inc(&t->st->op[op].sent);
	atomic_store_explicit(&t->st->t_last_send_ns, now - t->run->t0_ns, memory_order_relaxed);
	return true;
}

static bool changes_aor(enum lb_op op)
{
	return op == LB_OP_REGISTER || op == LB_OP_REFRESH || op == LB_OP_UNREGISTER ||
	       op == LB_OP_LSP_PUBLISH;
}

static void release(struct thread *t, uint32_t k, enum lb_outcome outcome)
{
	struct slot *s = &t->slots[k];
	const struct lb_op_info *info = lb_op_info(s->op);
	if (info->needs_registered || info->needs_free) {
		lb_aorstate_done(&t->aors, s->aor, outcome, info->effect, changes_aor(s->op));
	}
	lb_wheel_disarm(t->wheel, k);
	s->active = 0;
	t->free[t->nfree++] = k;
	t->active--;
}

static void complete(struct thread *t, uint32_t k, enum lb_wrong w, uint64_t now)
{
	struct slot *s = &t->slots[k];
	struct lb_op_stats *os = &t->st->op[s->op];
	lc_counter_inc(&os->answered);
	lb_hist_record(&os->lat, now > s->due_ns ? now - s->due_ns : 0);
	if (w != LB_RIGHT) {
		lc_counter_inc(&os->wrong);
		lc_counter_inc(&t->st->wrong_kind[w]);
	}
	atomic_store_explicit(&t->st->t_last_answer_ns, now - t->run->t0_ns, memory_order_relaxed);
	release(t, k, w == LB_RIGHT ? LB_OUTCOME_RIGHT : LB_OUTCOME_WRONG);
}

static void on_timer(struct thread *t, uint32_t k, uint64_t now)
{
	struct slot *s = &t->slots[k];
	const struct lb_cfg *c = t->cfg;
	if (now >= s->give_up_ns) {
		lc_counter_inc(&t->st->op[s->op].missing);
		late_add(t, s->seq);
		release(t, k, LB_OUTCOME_MISSING);
		return;
	}
	bool invite = !lb_op_info(s->op)->lsp && is_invite(s->op);
	if (!(invite && s->provisional)) {
		send_request(t, k);
		lc_counter_inc(&t->st->op[s->op].retrans);
	}
	uint32_t next = s->interval_ms * 2;
	if (!invite && (next > c->t2_ms || s->provisional)) {
		next = c->t2_ms;
	}
	s->interval_ms = next < c->timeout_ms ? next : c->timeout_ms;
	uint64_t due = now + (uint64_t)s->interval_ms * 1000000ull;
	if (invite && s->provisional) {
		due = s->give_up_ns;
	}
	lb_wheel_arm(t->wheel, k, due < s->give_up_ns ? due : s->give_up_ns);
}

static void run_timers(struct thread *t, uint64_t now)
{
	uint32_t due[64];
	unsigned n;
	do {
		n = lb_wheel_expire(t->wheel, now, due, 64);
		for (unsigned i = 0; i < n; i++) {
			on_timer(t, due[i], now);
		}
	} while (n == 64);
}

/* ---- answers ---------------------------------------------------------------------------------- */

static void show_wrong(struct thread *t, const struct slot *s, enum lb_wrong w, const char *what,
		       const char *buf, size_t len)
{
	if (atomic_fetch_add(&t->run->wrong_shown, 1) >= t->cfg->show_wrong) {
		return;
	}
	fprintf(stderr, "locus-bench: wrong answer (%s) to %s%s%s:\n%.*s\n", lb_wrong_name(w),
		s ? lb_op_info(s->op)->name : "?", what ? " of " : "", what ? what : "",
		(int)(len > 2000 ? 2000 : len), buf);
}

static void on_sip(struct thread *t, const char *buf, size_t len, bool trunc, uint64_t now)
{
	struct lb_resp r;
	unsigned th;
	uint32_t k;
	uint64_t seq;
	if (trunc || lb_resp_parse(&r, buf, len) != LC_OK) {
		lc_counter_inc(&t->st->wrong_kind[LB_W_MALFORMED]);
		show_wrong(t, NULL, LB_W_MALFORMED, NULL, buf, len);
		return;
	}
	if (!lb_sip_parse_branch(r.branch.p, r.branch.len, &th, &k, &seq) || th != t->id) {
		lc_counter_inc(&t->st->stray);
		return;
	}
	struct slot *s = k < t->nslots ? &t->slots[k] : NULL;
	if (s == NULL || !s->active || s->seq != seq || lb_op_info(s->op)->lsp) {
		unmatched(t, seq);
		return;
	}
	if (r.status < 200) {
		lc_counter_inc(&t->st->op[s->op].provisional);
		s->provisional = 1;
		return;
	}
	struct lb_aor a;
	char cid[LB_SIP_CALL_ID_MAX];
	lb_aor_get(&t->run->gen, s->aor, lb_op_info(s->op)->known, t->cfg->run_id, &a);
	struct lb_expect e = {.op = s->op, .contact = a.contact, .contact_len = a.contact_len};
	if (is_invite(s->op)) {
		e.call_id = cid;
		e.call_id_len = (unsigned)lb_sip_invite_call_id(cid, t->id, s->seq, t->cfg->run_id);
		e.cseq = 1;
	} else {
		e.call_id = a.call_id;
		e.call_id_len = a.call_id_len;
		e.cseq = s->cseq;
	}
	enum lb_wrong w = lb_check_sip(&r, &e);
	if (w != LB_RIGHT) {
		show_wrong(t, s, w, a.uri, buf, len);
	}
	if (is_invite(s->op) && r.status >= 300 && t->cfg->ack) {
		send_ack(t, k, &a, r.to_tag);
	}
	complete(t, k, w, now);
}

static void on_lsp(struct thread *t, const char *buf, size_t len, uint64_t now)
{
	struct dht_lsp_msg *m = t->lsp_msg;
	/* a body error (m->err) is judged by lb_check_lsp() once the answer found its request */
	int perr = dht_lsp_parse(m, buf, len);
	if ((perr != LC_OK && !dht_lsp_hdr_ok(m)) || !dht_lsp_is_answer(m)) {
		lc_counter_inc(&t->st->wrong_kind[LB_W_MALFORMED]);
		show_wrong(t, NULL, LB_W_MALFORMED, "an LSP datagram", "", 0);
		return;
	}
	unsigned th;
	uint32_t k, low;
	lb_lsp_txn_split(m->hdr.txn_id, &th, &k, &low);
	uint64_t seq = (t->seq & ~0xffffffffull) | low;
	if (seq >= t->seq && seq >= 1ull << 32) {
		seq -= 1ull << 32;
	}
	if (th != t->id) {
		lc_counter_inc(&t->st->stray);
		return;
	}
	struct slot *s = k < t->nslots ? &t->slots[k] : NULL;
	if (s == NULL || !s->active || s->seq != seq || !lb_op_info(s->op)->lsp) {
		unmatched(t, seq);
		return;
	}
	struct lb_aor a;
	lb_aor_get(&t->run->gen, s->aor, lb_op_info(s->op)->known, t->cfg->run_id, &a);
	struct lb_expect e = {.op = s->op,
			      .contact = a.contact,
			      .contact_len = a.contact_len,
			      .key = a.uri,
			      .key_len = a.uri_len};
	enum lb_wrong w = lb_check_lsp(m, &e);
	if (w != LB_RIGHT) {
		char what[160];
		snprintf(what, sizeof(what), "%s: status %u, %u records, decode %s", a.uri,
			 m->status, m->nrecords, lc_strerror(m->err));
		show_wrong(t, s, w, what, "", 0);
	}
	complete(t, k, w, now);
}

/* The transport's handler for every datagram received (lb_xport_rx_fn). */
static void on_datagram(void *arg, const char *buf, size_t len, bool trunc, uint64_t now)
{
	struct thread *t = arg;
	if (len >= 2 && buf[0] == 'L' && buf[1] == 'S') {
		on_lsp(t, buf, len, now);
	} else {
		on_sip(t, buf, len, trunc, now);
	}
}

/* ---- the loop --------------------------------------------------------------------------------- */

/* Open loop, at the time bound: the requests the schedule still held before it were offered but
 * never sent (the generator fell behind); they count as unsent, so sent + unsent is what the
 * schedule offered and the run still ends on time. */
static void give_up_schedule(struct thread *t)
{
	uint64_t stop = t->run->stop_ns;
	if (t->cfg->open_loop && stop != 0 && t->next_ns < stop) {
		uint64_t left = (stop - t->next_ns + t->gap_ns - 1) / t->gap_ns;
		if (t->budget != UINT64_MAX) {
			left = LC_MIN(left, t->budget - t->started);
		}
		lc_counter_add(&t->st->unsent, left);
		lc_counter_add(&t->st->behind, left);
		t->started += left;
	}
}

static bool may_start(struct thread *t, uint64_t now)
{
	if (t->end != END_RUNNING) {
		return false;
	}
	uint64_t at = t->cfg->open_loop ? t->next_ns : now;
	if (atomic_load_explicit(&t->run->stop, memory_order_relaxed)) {
		t->end = END_STOPPED;
	} else if (t->started >= t->budget) {
		t->end = END_COUNT;
	} else if (t->run->stop_ns != 0 && (at >= t->run->stop_ns || now >= t->run->stop_ns)) {
		t->end = END_TIME;
		give_up_schedule(t);
	}
	return t->end == END_RUNNING;
}

static void start_requests(struct thread *t, uint64_t now)
{
	unsigned cap = BURST * t->nsock; /* per turn, so that answers are read in between */
	if (!t->cfg->open_loop) {
		while (cap-- > 0 && t->active < t->limit && may_start(t, now) &&
		       start_one(t, now, now)) {
		}
		return;
	}
	while (cap-- > 0 && t->next_ns <= now && may_start(t, now)) {
		uint64_t lag = now - t->next_ns;
		if (lag > 1000000) {
			lc_counter_inc(&t->st->lag_1ms);
		}
		set_max(&t->st->lag_max_ns, lag);
		if (t->nfree == 0) {
			lc_counter_inc(&t->st->unsent);
			t->started++;
		} else if (!start_one(t, now, t->next_ns)) {
			return;
		}
		t->next_ns += t->gap_ns;
	}
}

/* How long the loop may sleep in epoll: until the next due request, at most one timer tick. */
static uint64_t wait_ns(const struct thread *t, uint64_t now, bool starting)
{
	if (starting && !t->cfg->open_loop && t->active < t->limit) {
		return 0;
	}
	uint64_t w = TICK_NS;
	if (starting && t->cfg->open_loop) {
		w = t->next_ns <= now ? 0 : LC_MIN(w, t->next_ns - now);
	}
	return w;
}

static void loop(struct thread *t)
{
	for (;;) {
		uint64_t now = now_ns();
		run_timers(t, now);
		bool starting = may_start(t, now);
		if (starting) {
			start_requests(t, now);
			starting = t->end == END_RUNNING;
		}
		t->xo->tx_flush(t->xc);
		if (!starting && t->active == 0) {
			return;
		}
		uint64_t idle = t->xo->rx(t->xc, wait_ns(t, now, starting), on_datagram, t);
		lc_counter_add(&t->st->wait_ns, idle);
	}
}

static uint64_t thread_cpu_ns(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_THREAD, &ru) != 0) {
		return 0;
	}
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

static void *thread_main(void *arg)
{
	struct thread *t = arg;
	prctl(PR_SET_TIMERSLACK, 1UL); /* sleep until the next due request, not 50 us more */
	int ret = t->xo->attach != NULL ? t->xo->attach(t->xc) : LC_OK;
	pthread_barrier_wait(&t->run->barrier);
	uint64_t cpu0 = thread_cpu_ns();
	t->next_ns = t->run->t0_ns + t->id * (t->gap_ns / t->cfg->threads);
	if (ret == LC_OK) {
		loop(t);
	} else {
		fprintf(stderr, "locus-bench: thread %u: the %s transport refused it: %s\n", t->id,
			t->xo->name, lc_strerror(ret));
		t->end = END_STOPPED;
	}
	lc_counter_add(&t->st->cpu_ns, thread_cpu_ns() - cpu0);
	if (t->xo->detach != NULL) {
		t->xo->detach(t->xc);
	}
	int none = END_RUNNING;
	atomic_compare_exchange_strong(&t->run->end, &none, t->end);
	atomic_store(&t->done, true);
	return NULL;
}

/* ---- set-up ----------------------------------------------------------------------------------- */

static int thread_init(struct lb_run *r, struct thread *t, unsigned id, char *err, size_t errlen)
{
	const struct lb_cfg *c = r->cfg;
	unsigned T = c->threads;
	t->run = r;
	t->cfg = c;
	t->id = id;
	t->xo = r->xo;
	t->nsock = c->sockets;
	t->rng.s = c->seed ^ (0xa5a5a5a5ull * (id + 1)) ^ (c->run_id << 20);
	t->budget = c->count ? c->count / T + (id < c->count % T) : UINT64_MAX;
	t->limit = c->window / T + (id < c->window % T);
	t->nslots = c->open_loop ? c->max_outstanding : t->limit;
	t->gap_ns = c->open_loop ? (uint64_t)(1e9 * T / c->rate) : 0;
	if (c->open_loop && t->gap_ns == 0) {
		t->gap_ns = 1;
	}
	t->slots = lc_calloc(t->nslots, sizeof(*t->slots));
	t->free = lc_calloc(t->nslots, sizeof(*t->free));
	t->late = lc_calloc(LATE_CAP, sizeof(*t->late));
	t->st = lc_calloc(1, sizeof(*t->st));
	t->lsp_msg = lc_calloc(1, sizeof(*t->lsp_msg));
	if (!t->slots || !t->free || !t->late || !t->st || !t->lsp_msg ||
	    lb_wheel_new(&t->wheel, t->nslots, now_ns()) != LC_OK ||
	    lb_aorstate_init(&t->aors, c->aors, c->registered, id, T) != LC_OK) {
		snprintf(err, errlen, "out of memory");
		return LC_ENOMEM;
	}
	for (uint32_t k = 0; k < t->nslots; k++) {
		t->free[k] = t->nslots - 1 - k;
	}
	t->nfree = t->nslots;
	for (unsigned o = 0; o < LB_OP_COUNT; o++) {
		lb_hist_init(&t->st->op[o].lat);
	}
	int ret = t->xo->open(&t->xc, r->xshared, id, t->st, err, errlen);
	for (unsigned k = 0; ret == LC_OK && k < t->nsock; k++) {
		t->local_len[k] = t->xo->local(t->xc, k, t->local[k], sizeof(t->local[k]));
	}
	return ret;
}

int lb_run_new(struct lb_run **out, const struct lb_cfg *cfg, char *err, size_t errlen)
{
	struct lb_run *r = lc_calloc(1, sizeof(*r));
	int ret = LC_ENOMEM;
	if (r == NULL || (r->th = lc_calloc(cfg->threads, sizeof(*r->th))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	r->cfg = cfg;
	r->overlay_id = dht_seed_of(cfg->overlay, strlen(cfg->overlay));
	for (unsigned o = 0; o < LB_OP_COUNT; o++) {
		r->wsum += cfg->weight[o];
	}
	ret = lb_aorgen_init(&r->gen, cfg->seed, cfg->domain);
	if (ret != LC_OK) {
		snprintf(err, errlen, "--domain '%s': want letters, digits, '.' and '-'",
			 cfg->domain);
		goto fail;
	}
	r->xo = cfg->dpdk_args != NULL ? lb_xport_dpdk() : lb_xport_sock();
	ret = r->xo->init(&r->xshared, cfg, err, errlen);
	if (ret != LC_OK) {
		r->xo = NULL;
		goto fail;
	}
	for (unsigned i = 0; ret == LC_OK && i < cfg->threads; i++) {
		ret = thread_init(r, &r->th[i], i, err, errlen);
	}
	if (ret != LC_OK) {
		goto fail;
	}
	*out = r;
	return LC_OK;
fail:
	lb_run_free(r);
	return ret;
}

int lb_run_start(struct lb_run *r)
{
	unsigned n = r->cfg->threads;
	if (pthread_barrier_init(&r->barrier, NULL, n + 1) != 0) {
		return LC_ENOMEM;
	}
	r->barrier_ok = true;
	for (unsigned i = 0; i < n; i++) {
		int e = pthread_create(&r->th[i].tid, NULL, thread_main, &r->th[i]);
		if (e != 0) {
			/* the barrier can never open now: nothing was sent, give up the process */
			fprintf(stderr, "locus-bench: pthread_create: %s\n", strerror(e));
			_exit(3);
		}
		r->th[i].started_ok = true;
	}
	r->t0_ns = now_ns();
	if (r->cfg->duration_s > 0) {
		r->stop_ns = r->t0_ns + (uint64_t)(r->cfg->duration_s * 1e9);
	}
	pthread_barrier_wait(&r->barrier);
	return LC_OK;
}

void lb_run_stop(struct lb_run *r)
{
	atomic_store_explicit(&r->stop, true, memory_order_relaxed);
}

bool lb_run_finished(const struct lb_run *r)
{
	for (unsigned i = 0; i < r->cfg->threads; i++) {
		if (!atomic_load(&r->th[i].done)) {
			return false;
		}
	}
	return true;
}

void lb_run_join(struct lb_run *r)
{
	for (unsigned i = 0; i < r->cfg->threads; i++) {
		if (r->th[i].started_ok) {
			pthread_join(r->th[i].tid, NULL);
			r->th[i].started_ok = false;
		}
	}
}

const struct lb_stats *lb_run_stats(const struct lb_run *r, unsigned i)
{
	return r->th[i].st;
}

uint64_t lb_run_elapsed_ns(const struct lb_run *r)
{
	return r->t0_ns ? now_ns() - r->t0_ns : 0;
}

const char *lb_run_end_reason(const struct lb_run *r)
{
	static const char *const names[] = {"running", "count", "time", "exhausted", "stopped"};
	return names[atomic_load(&((struct lb_run *)r)->end)];
}

void lb_run_free(struct lb_run *r)
{
	if (r == NULL) {
		return;
	}
	for (unsigned i = 0; r->th != NULL && i < r->cfg->threads; i++) {
		struct thread *t = &r->th[i];
		if (t->xo != NULL) {
			t->xo->close(t->xc);
		}
		lb_aorstate_deinit(&t->aors);
		lb_wheel_free(t->wheel);
		lc_free(t->slots);
		lc_free(t->free);
		lc_free(t->late);
		lc_free(t->st);
		lc_free(t->lsp_msg);
	}
	if (r->xo != NULL) {
		r->xo->fini(r->xshared);
	}
	if (r->barrier_ok) {
		pthread_barrier_destroy(&r->barrier);
	}
	lc_free(r->th);
	lc_free(r);
}
