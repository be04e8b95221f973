/* SPDX-License-Identifier: MIT */
/*
 * The overlay state machine (dht_chord.h, docs/overlay.md §4).
 *
 * How it works: the machine's one piece of state is the membership view, sorted by id: every node
 * it has heard of, with an incarnation and a state (alive or dead). Everything Chord learns feeds
 * the view: JOIN answers and gossip bring whole views, GET_PREDECESSOR answers bring the
 * successor's predecessor and successor list, NOTIFY and every other message bring their sender,
 * FIND_SUCCESSOR answers bring fingers. The neighbourhood is then read off the view: the successor
 * list is the next live entries clockwise, the predecessor the previous live entry. So a node
 * learned by any path is adopted at once (this is what makes concurrent joins converge in a few
 * rounds rather than O(N) rounds of plain stabilize), and a node declared dead drops out of every
 * list at once.
 *
 * Liveness: the predecessor and the first successors are pinged every T_ping; a ping unanswered
 * for T_fail declares the node dead at its incarnation. Deaths and joins spread by gossip. A node
 * that hears itself declared dead raises its incarnation above the rumour (SWIM's refutation), and
 * the higher incarnation wins everywhere. Dead entries are kept T_forget, long enough for every
 * node to have heard, so stale gossip cannot bring them back; then they are forgotten.
 */
#include <string.h>

#include "common/lc_alloc.h"
#include "common/lc_error.h"
#include "dht/dht_chord.h"
#include "dht/dht_ring.h"
#include "dht/lsp.h"

#define PING_TARGETS_MIN 3   /* successors pinged, at least (more when R is larger) */
#define FIND_MAX_HOPS 32     /* an iterative FIND_SUCCESSOR gives up after this many */
#define FIND_PENDING 8	     /* outstanding finger lookups */
#define VIEW_MAX (1u << 20)  /* entries the view may hold, whatever gossip says */
#define ANSWER_VIEW_MAX 4096 /* entries sent in one view answer beyond the one-hop size */

/* One entry of the view. */
struct member {
	struct dht_peer peer; /* flags: DHT_PEER_SUSPECT */
	uint32_t inc;
	uint8_t state;	       /* enum dht_member_state */
	uint64_t changed_ms;   /* when the state last changed (dead entries are forgotten) */
	uint64_t ping_sent_ms; /* when the outstanding ping went out */
	bool ping_out;	       /* a ping is outstanding */
};

struct find_pending {
	uint64_t txn; /* 0: free slot */
	unsigned finger;
	unsigned hops;
	uint64_t sent_ms;
};

struct outbox {
	struct dht_ovl *m;
	unsigned n, cap;
};

struct dht_chord {
	struct dht_chord_cfg cfg;
	struct dht_peer self;
	uint32_t inc;
	bool joined; /* a ring of its own counts as joined */
	bool joining;
	bool left;
	bool has_bootstrap;
	struct dht_addr bootstrap;
	uint64_t join_sent_ms;

	struct member *view; /* sorted by id; self always present and alive */
	unsigned nview, capview;

	struct dht_peer finger[DHT_FINGERS]; /* without the complete view: learned by lookups */
	bool has_finger[DHT_FINGERS];
	unsigned next_finger;
	struct find_pending find[FIND_PENDING];

	uint64_t next_stab, next_ping, next_gossip, next_fix, next_forget;
	uint64_t rng;
	bool changed;

	struct outbox out, taken;
	struct dht_chord_stats st;
};

/* ---- small helpers --------------------------------------------------------------------------- */

static uint64_t rnd(struct dht_chord *c)
{
	/* xorshift64*: deterministic from cfg.seed, so a simulation replays */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 0x2545f4914f6cdd1dull;
}

static uint64_t new_txn(struct dht_chord *c)
{
	uint64_t t = rnd(c);
	return t != 0 ? t : 1;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Index of the first entry with id >= @p id (nview when none). */
static unsigned view_lower(const struct dht_chord *c, dht_id_t id)
{
	unsigned lo = 0, hi = c->nview;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (c->view[mid].peer.id < id) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

static struct member *view_find(struct dht_chord *c, dht_id_t id)
{
	unsigned i = view_lower(c, id);
	return i < c->nview && c->view[i].peer.id == id ? &c->view[i] : NULL;
}

static struct member *view_find_addr(struct dht_chord *c, const struct dht_addr *a)
{
	for (unsigned i = 0; i < c->nview; i++) {
		if (dht_addr_equal(&c->view[i].peer.addr, a)) {
			return &c->view[i];
		}
	}
	return NULL;
}

static struct member *view_insert(struct dht_chord *c, const struct dht_peer *p)
{
	if (c->nview == c->capview) {
		if (c->capview >= VIEW_MAX) {
			return NULL;
		}
		unsigned cap = c->capview * 2;
		struct member *v = lc_alloc(cap * sizeof(*v));
		if (v == NULL) {
			return NULL;
		}
		memcpy(v, c->view, c->nview * sizeof(*v));
		lc_free(c->view);
		c->view = v;
		c->capview = cap;
	}
	unsigned i = view_lower(c, p->id);
	memmove(&c->view[i + 1], &c->view[i], (c->nview - i) * sizeof(c->view[0]));
	c->nview++;
	c->view[i] = (struct member){.peer = *p, .state = DHT_MEMBER_ALIVE};
	c->view[i].peer.flags = 0;
	return &c->view[i];
}

static bool alive(const struct member *m)
{
	return m->state == DHT_MEMBER_ALIVE;
}

static unsigned alive_count(const struct dht_chord *c)
{
	unsigned n = 0;
	for (unsigned i = 0; i < c->nview; i++) {
		n += alive(&c->view[i]);
	}
	return n;
}

static unsigned self_index(const struct dht_chord *c)
{
	return view_lower(c, c->self.id);
}

/* The live successors of self, closest first, at most @p cap. */
static unsigned successors(const struct dht_chord *c, const struct member **out, unsigned cap)
{
	unsigned n = 0, s = self_index(c);
	for (unsigned k = 1; k < c->nview && n < cap; k++) {
		const struct member *m = &c->view[(s + k) % c->nview];
		if (alive(m)) {
			out[n++] = m;
		}
	}
	return n;
}

static const struct member *predecessor(const struct dht_chord *c)
{
	unsigned s = self_index(c);
	for (unsigned k = 1; k < c->nview; k++) {
		const struct member *m = &c->view[(s + c->nview - k) % c->nview];
		if (alive(m)) {
			return m;
		}
	}
	return NULL;
}

/* The live member that succeeds @p id (owner of a key), from the view. */
static const struct member *view_successor(const struct dht_chord *c, dht_id_t id)
{
	unsigned i = view_lower(c, id);
	for (unsigned k = 0; k < c->nview; k++) {
		const struct member *m = &c->view[(i + k) % c->nview];
		if (alive(m)) {
			return m;
		}
	}
	return NULL;
}

static unsigned succ_len(const struct dht_chord *c)
{
	return c->cfg.successors;
}

/* ---- outbox ---------------------------------------------------------------------------------- */

static void outbox_clear(struct outbox *o)
{
	for (unsigned i = 0; i < o->n; i++) {
		lc_free(o->m[i].members);
	}
	o->n = 0;
}

static struct dht_ovl *emit(struct dht_chord *c, const struct dht_addr *to, uint8_t type,
			    bool answer, uint64_t txn)
{
	struct outbox *o = &c->out;
	if (o->n == o->cap) {
		unsigned cap = o->cap ? o->cap * 2 : 16;
		struct dht_ovl *m = lc_alloc(cap * sizeof(*m));
		if (m == NULL) {
			return NULL;
		}
		if (o->n) {
			memcpy(m, o->m, o->n * sizeof(*m));
		}
		lc_free(o->m);
		o->m = m;
		o->cap = cap;
	}
	struct dht_ovl *m = &o->m[o->n++];
	memset(m, 0, sizeof(*m));
	m->to = *to;
	m->type = type;
	m->answer = answer;
	m->status = answer ? DHT_LSP_S_OK : 0;
	m->txn = txn;
	m->from = c->self;
	m->incarnation = c->inc;
	c->st.msgs_out++;
	return m;
}

static struct dht_ovl *request(struct dht_chord *c, const struct dht_addr *to, uint8_t type)
{
	return emit(c, to, type, false, new_txn(c));
}

static struct dht_ovl *answer(struct dht_chord *c, const struct dht_ovl *req)
{
	return emit(c, &req->from.addr, req->type, true, req->txn);
}

/* The view's digest: order-independent (XOR of a mix of each entry), so two nodes holding the
 * same entries agree whatever order they learned them in. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static uint64_t view_digest(const struct dht_chord *c)
{
	uint64_t d = 0;
	for (unsigned i = 0; i < c->nview; i++) {
		const struct member *m = &c->view[i];
		uint64_t hi = (uint64_t)(m->peer.id >> 64), lo = (uint64_t)m->peer.id;
		d ^= mix64(hi ^ mix64(lo ^ mix64(((uint64_t)m->inc << 8) | m->state)));
	}
	return d;
}

/* Attach the view (all of it while one-hop; the entries nearest self beyond) to @p m. */
static void attach_view(struct dht_chord *c, struct dht_ovl *m)
{
	unsigned n = c->nview < ANSWER_VIEW_MAX ? c->nview : ANSWER_VIEW_MAX;
	m->members = lc_alloc((n ? n : 1) * sizeof(*m->members));
	if (m->members == NULL) {
		return;
	}
	unsigned start = c->nview <= ANSWER_VIEW_MAX ? 0 : self_index(c) + c->nview - n / 2;
	for (unsigned k = 0; k < n; k++) {
		const struct member *v = &c->view[(start + k) % c->nview];
		m->members[k] = (struct dht_ovl_member){
			.peer = v->peer, .incarnation = v->inc, .state = v->state};
		m->members[k].peer.flags = 0;
	}
	m->nmembers = n;
	m->digest = view_digest(c);
	m->digest_count = c->nview;
}

/* ---- view changes ---------------------------------------------------------------------------- */

static void mark_changed(struct dht_chord *c)
{
	c->changed = true;
}

static void refute(struct dht_chord *c, uint32_t rumour_inc, uint64_t now_ms)
{
	c->inc = rumour_inc + 1;
	struct member *me = view_find(c, c->self.id);
	if (me != NULL) {
		me->inc = c->inc;
		me->state = DHT_MEMBER_ALIVE;
	}
	c->st.refutations++;
	c->next_gossip = now_ms; /* tell everyone soon */
}

/* Merge one entry; true when the view changed. */
static bool merge(struct dht_chord *c, const struct dht_ovl_member *e, uint64_t now_ms)
{
	if (e->peer.id == c->self.id) {
		if (e->state == DHT_MEMBER_DEAD && e->incarnation >= c->inc) {
			refute(c, e->incarnation, now_ms);
		}
		return false;
	}
	struct member *m = view_find(c, e->peer.id);
	if (m == NULL) {
		m = view_insert(c, &e->peer);
		if (m == NULL) {
			return false;
		}
		m->inc = e->incarnation;
		m->state = e->state;
		m->changed_ms = now_ms;
		return true;
	}
	bool newer = e->incarnation > m->inc;
	bool dies = e->incarnation == m->inc && e->state == DHT_MEMBER_DEAD && alive(m);
	if (!newer && !dies) {
		return false;
	}
	bool state_changes = m->state != e->state;
	m->inc = e->incarnation;
	m->state = e->state;
	m->peer.addr = e->peer.addr;
	if (state_changes) {
		m->changed_ms = now_ms;
		m->ping_out = false;
		m->peer.flags = 0;
	}
	return state_changes;
}

/* A node we heard of second-hand (a successor list, a finger): known if new, never revived. */
static bool heard_of(struct dht_chord *c, const struct dht_peer *p, uint64_t now_ms)
{
	if (p->id == c->self.id || view_find(c, p->id) != NULL) {
		return false;
	}
	struct dht_ovl_member e = {.peer = *p, .incarnation = 0, .state = DHT_MEMBER_ALIVE};
	return merge(c, &e, now_ms);
}

/* A message came from @p m->from: it is alive at the incarnation it says. */
static bool heard_from(struct dht_chord *c, const struct dht_ovl *msg, uint64_t now_ms)
{
	if (msg->from.id == c->self.id) {
		return false;
	}
	struct dht_ovl_member e = {
		.peer = msg->from, .incarnation = msg->incarnation, .state = DHT_MEMBER_ALIVE};
	bool ch = merge(c, &e, now_ms);
	struct member *m = view_find(c, msg->from.id);
	if (m != NULL && alive(m)) {
		if (m->peer.flags & DHT_PEER_SUSPECT) {
			m->peer.flags &= (uint8_t)~DHT_PEER_SUSPECT;
			ch = true;
		}
		m->ping_out = false; /* any message proves it alive */
	}
	return ch;
}

static void declare_dead(struct dht_chord *c, struct member *m, uint64_t now_ms)
{
	m->state = DHT_MEMBER_DEAD;
	m->changed_ms = now_ms;
	m->ping_out = false;
	m->peer.flags = 0;
	c->st.deaths_declared++;
	c->next_gossip = now_ms;
	mark_changed(c);
}

/* ---- lifecycle ------------------------------------------------------------------------------- */

static void cfg_defaults(struct dht_chord_cfg *cfg)
{
#define DEF(f, v)                                                                                  \
	if (cfg->f == 0) {                                                                         \
		cfg->f = (v);                                                                      \
	}
	DEF(successors, 8);
	DEF(replicas, 3);
	DEF(one_hop_max, 4096);
	DEF(t_stab_ms, 500);
	DEF(t_ping_ms, 500);
	DEF(t_fail_ms, 2000);
	DEF(t_gossip_ms, 1000);
	DEF(t_fix_ms, 1000);
	DEF(t_forget_ms, 60000);
	DEF(t_join_ms, 1000);
	DEF(seed, 0x9e3779b97f4a7c15ull);
#undef DEF
	if (cfg->successors > DHT_MAX_SUCCESSORS) {
		cfg->successors = DHT_MAX_SUCCESSORS;
	}
}

int dht_chord_new(struct dht_chord **out, const struct dht_chord_cfg *cfg,
		  const struct dht_peer *self, uint64_t now_ms)
{
	if (cfg->replicas > DHT_MAX_REPLICAS || cfg->successors > DHT_MAX_SUCCESSORS) {
		return LC_EINVAL;
	}
	struct dht_chord *c = lc_calloc(1, sizeof(*c));
	if (c == NULL) {
		return LC_ENOMEM;
	}
	c->cfg = *cfg;
	cfg_defaults(&c->cfg);
	c->self = *self;
	c->self.flags = 0;
	c->inc = cfg->incarnation;
	c->rng = c->cfg.seed ^ (uint64_t)self->id ^ (uint64_t)(self->id >> 64);
	if (c->rng == 0) {
		c->rng = 1;
	}
	c->capview = 64;
	c->view = lc_alloc(c->capview * sizeof(*c->view));
	if (c->view == NULL) {
		lc_free(c);
		return LC_ENOMEM;
	}
	struct member *me = view_insert(c, &c->self);
	me->inc = c->inc;
	me->changed_ms = now_ms;
	c->joined = true;
	c->next_stab = c->next_ping = c->next_gossip = c->next_fix = now_ms;
	c->next_forget = now_ms + c->cfg.t_forget_ms;
	c->changed = true;
	*out = c;
	return LC_OK;
}

void dht_chord_free(struct dht_chord *c)
{
	if (c == NULL) {
		return;
	}
	outbox_clear(&c->out);
	outbox_clear(&c->taken);
	lc_free(c->out.m);
	lc_free(c->taken.m);
	lc_free(c->view);
	lc_free(c);
}

static void send_join(struct dht_chord *c, uint64_t now_ms)
{
	(void)request(c, &c->bootstrap, DHT_LSP_JOIN);
	c->join_sent_ms = now_ms;
}

void dht_chord_join(struct dht_chord *c, const struct dht_addr *bootstrap, uint64_t now_ms)
{
	c->bootstrap = *bootstrap;
	c->has_bootstrap = true;
	c->joining = true;
	c->joined = false;
	send_join(c, now_ms);
}

void dht_chord_leave(struct dht_chord *c, uint64_t now_ms)
{
	(void)now_ms;
	if (c->left) {
		return;
	}
	const struct member *s[DHT_MAX_SUCCESSORS];
	unsigned n = successors(c, s, succ_len(c));
	const struct member *p = predecessor(c);
	struct dht_addr to[DHT_MAX_SUCCESSORS + 1];
	unsigned nto = 0;
	for (unsigned i = 0; i < n; i++) {
		to[nto++] = s[i]->peer.addr;
	}
	if (p != NULL && (n == 0 || p->peer.id != s[0]->peer.id)) {
		to[nto++] = p->peer.addr;
	}
	for (unsigned k = 0; k < nto; k++) {
		struct dht_ovl *m = request(c, &to[k], DHT_LSP_LEAVE);
		if (m == NULL) {
			continue;
		}
		for (unsigned i = 0; i < n; i++) {
			m->peers[m->npeers++] = s[i]->peer;
		}
	}
	c->left = true;
}

/* ---- incoming messages ----------------------------------------------------------------------- */

static void put_successors(const struct dht_chord *c, struct dht_ovl *m)
{
	const struct member *s[DHT_MAX_SUCCESSORS];
	unsigned n = successors(c, s, succ_len(c));
	for (unsigned i = 0; i < n; i++) {
		m->peers[i] = s[i]->peer;
		m->peers[i].flags = 0;
	}
	m->npeers = n;
}

static void on_find_successor(struct dht_chord *c, const struct dht_ovl *req)
{
	struct dht_ovl *a = answer(c, req);
	if (a == NULL) {
		return;
	}
	a->target = req->target;
	const struct member *s[1];
	unsigned ns = successors(c, s, 1);
	if (dht_chord_one_hop(c) || ns == 0) {
		const struct member *o = view_successor(c, req->target);
		a->peers[0] = o != NULL ? o->peer : c->self;
		a->flags = DHT_OVL_F_FINAL;
	} else if (dht_in_oc(req->target, c->self.id, s[0]->peer.id)) {
		a->peers[0] = s[0]->peer;
		a->flags = DHT_OVL_F_FINAL;
	} else {
		/* closest preceding live node we know of: the view holds the fingers too */
		unsigned i = view_lower(c, req->target);
		const struct member *best = s[0];
		for (unsigned k = 1; k <= c->nview; k++) {
			const struct member *m = &c->view[(i + c->nview - k) % c->nview];
			if (alive(m) && dht_in_oo(m->peer.id, c->self.id, req->target)) {
				best = m;
				break;
			}
		}
		a->peers[0] = best->peer;
	}
	a->peers[0].flags = 0;
	a->npeers = 1;
}

static struct find_pending *find_slot(struct dht_chord *c, uint64_t txn)
{
	for (unsigned i = 0; i < FIND_PENDING; i++) {
		if (c->find[i].txn == txn) {
			return &c->find[i];
		}
	}
	return NULL;
}

static void on_find_answer(struct dht_chord *c, const struct dht_ovl *m, uint64_t now_ms)
{
	struct find_pending *f = find_slot(c, m->txn);
	if (f == NULL || m->npeers == 0) {
		return;
	}
	const struct dht_peer *p = &m->peers[0];
	if (heard_of(c, p, now_ms)) {
		mark_changed(c);
	}
	if (m->flags & DHT_OVL_F_FINAL) {
		c->finger[f->finger] = *p;
		c->has_finger[f->finger] = true;
		f->txn = 0;
		mark_changed(c);
		return;
	}
	if (++f->hops >= FIND_MAX_HOPS || p->id == c->self.id) {
		f->txn = 0;
		return;
	}
	struct dht_ovl *q = request(c, &p->addr, DHT_LSP_FIND_SUCCESSOR);
	if (q != NULL) {
		q->target = dht_finger_start(c->self.id, f->finger);
		f->txn = q->txn;
		f->sent_ms = now_ms;
	}
}

static void merge_members(struct dht_chord *c, const struct dht_ovl *m, uint64_t now_ms)
{
	bool ch = false;
	for (unsigned i = 0; i < m->nmembers; i++) {
		ch |= merge(c, &m->members[i], now_ms);
	}
	if (ch) {
		mark_changed(c);
	}
}

static void on_membership(struct dht_chord *c, const struct dht_ovl *m, uint64_t now_ms)
{
	merge_members(c, m, now_ms);
	if (m->answer) {
		return;
	}
	uint64_t mine = view_digest(c);
	bool differs = mine != m->digest || c->nview != m->digest_count;
	struct dht_ovl *a = answer(c, m);
	if (a == NULL) {
		return;
	}
	if (differs || (m->flags & DHT_OVL_F_WANT_VIEW)) {
		attach_view(c, a);
	} else {
		a->digest = mine;
		a->digest_count = c->nview;
	}
	if (differs && !(m->flags & DHT_OVL_F_WANT_VIEW)) {
		/* push-pull: the asker may know entries we lack */
		struct dht_ovl *q = request(c, &m->from.addr, DHT_LSP_MEMBERSHIP);
		if (q != NULL) {
			q->flags = DHT_OVL_F_WANT_VIEW;
			q->digest = mine;
			q->digest_count = c->nview;
		}
	}
}

static void on_leave(struct dht_chord *c, const struct dht_ovl *m, uint64_t now_ms)
{
	struct dht_ovl_member e = {
		.peer = m->from, .incarnation = m->incarnation, .state = DHT_MEMBER_DEAD};
	if (merge(c, &e, now_ms)) {
		mark_changed(c);
		c->next_gossip = now_ms;
	}
	for (unsigned i = 0; i < m->npeers; i++) {
		if (heard_of(c, &m->peers[i], now_ms)) {
			mark_changed(c);
		}
	}
	(void)answer(c, m);
}

static void on_request(struct dht_chord *c, const struct dht_ovl *m, uint64_t now_ms)
{
	struct dht_ovl *a;
	switch (m->type) {
	case DHT_LSP_JOIN:
		a = answer(c, m);
		if (a != NULL) {
			attach_view(c, a);
			a->ring_size = alive_count(c);
		}
		break;
	case DHT_LSP_FIND_SUCCESSOR:
		on_find_successor(c, m);
		break;
	case DHT_LSP_GET_PREDECESSOR:
		a = answer(c, m);
		if (a != NULL) {
			const struct member *p = predecessor(c);
			if (p != NULL) {
				a->has_pred = true;
				a->pred = p->peer;
				a->pred.flags = 0;
			}
			put_successors(c, a);
		}
		break;
	case DHT_LSP_SUCCESSOR_LIST:
		a = answer(c, m);
		if (a != NULL) {
			put_successors(c, a);
		}
		break;
	case DHT_LSP_NOTIFY:
	case DHT_LSP_NODE_PING:
		(void)answer(c, m);
		break;
	case DHT_LSP_MEMBERSHIP:
		on_membership(c, m, now_ms);
		break;
	case DHT_LSP_LEAVE:
		on_leave(c, m, now_ms);
		break;
	default:
		break;
	}
}

static void send_notify(struct dht_chord *c)
{
	const struct member *s[1];
	if (successors(c, s, 1) == 1) {
		(void)request(c, &s[0]->peer.addr, DHT_LSP_NOTIFY);
	}
	const struct member *p = predecessor(c);
	if (p != NULL && (successors(c, s, 1) == 0 || p->peer.id != s[0]->peer.id)) {
		(void)request(c, &p->peer.addr, DHT_LSP_NOTIFY);
	}
}

static void on_answer(struct dht_chord *c, const struct dht_ovl *m, uint64_t now_ms)
{
	switch (m->type) {
	case DHT_LSP_JOIN:
		merge_members(c, m, now_ms); /* every page of the view, also after the first */
		if (!c->joining) {
			return;
		}
		c->st.joined_ring_size = m->ring_size; /* a joining node learns the ring's size */
		c->joining = false;
		c->joined = true;
		mark_changed(c);
		send_notify(c);
		c->next_gossip = now_ms;
		break;
	case DHT_LSP_FIND_SUCCESSOR:
		on_find_answer(c, m, now_ms);
		break;
	case DHT_LSP_GET_PREDECESSOR:
	case DHT_LSP_SUCCESSOR_LIST: {
		bool ch = false;
		if (m->has_pred) {
			ch |= heard_of(c, &m->pred, now_ms);
		}
		for (unsigned i = 0; i < m->npeers; i++) {
			ch |= heard_of(c, &m->peers[i], now_ms);
		}
		if (ch) {
			mark_changed(c);
		}
		break;
	}
	case DHT_LSP_MEMBERSHIP:
		merge_members(c, m, now_ms);
		break;
	default:
		break;
	}
}

void dht_chord_on_msg(struct dht_chord *c, const struct dht_ovl *m, uint64_t now_ms)
{
	if (c->left) {
		return;
	}
	c->st.msgs_in++;
	if (heard_from(c, m, now_ms)) {
		mark_changed(c);
	}
	if (m->answer) {
		on_answer(c, m, now_ms);
	} else {
		on_request(c, m, now_ms);
	}
}

void dht_chord_on_alive(struct dht_chord *c, const struct dht_peer *p, uint64_t now_ms)
{
	(void)now_ms;
	struct member *m = view_find(c, p->id);
	if (m != NULL && alive(m) && m->peer.id != c->self.id &&
	    dht_addr_equal(&m->peer.addr, &p->addr)) {
		m->ping_out = false;
	}
}

void dht_chord_on_peer_down(struct dht_chord *c, const struct dht_addr *a, uint64_t now_ms)
{
	struct member *m = view_find_addr(c, a);
	if (m == NULL || !alive(m) || m->peer.id == c->self.id) {
		return;
	}
	if (!(m->peer.flags & DHT_PEER_SUSPECT)) {
		m->peer.flags |= DHT_PEER_SUSPECT;
		mark_changed(c);
	}
	if (!m->ping_out) {
		(void)request(c, &m->peer.addr, DHT_LSP_NODE_PING);
		m->ping_sent_ms = now_ms;
		m->ping_out = true;
	}
}

/* ---- timers ---------------------------------------------------------------------------------- */

static void ping_neighbours(struct dht_chord *c, uint64_t now_ms)
{
	const struct member *s[DHT_MAX_SUCCESSORS];
	unsigned k = c->cfg.replicas > PING_TARGETS_MIN ? c->cfg.replicas : PING_TARGETS_MIN;
	unsigned n = successors(c, s, k < DHT_MAX_SUCCESSORS ? k : DHT_MAX_SUCCESSORS);
	const struct member *targets[DHT_MAX_SUCCESSORS + 1];
	unsigned nt = 0;
	for (unsigned i = 0; i < n; i++) {
		targets[nt++] = s[i];
	}
	const struct member *p = predecessor(c);
	if (p != NULL) {
		targets[nt++] = p;
	}
	for (unsigned i = 0; i < nt; i++) {
		/* an unanswered ping is sent again every round until T_fail (counted from the
		 * first), so one lost datagram is not a death */
		struct member *m = view_find(c, targets[i]->peer.id);
		(void)request(c, &m->peer.addr, DHT_LSP_NODE_PING);
		if (!m->ping_out) {
			m->ping_sent_ms = now_ms;
			m->ping_out = true;
		}
	}
}

static void check_pings(struct dht_chord *c, uint64_t now_ms)
{
	for (unsigned i = 0; i < c->nview; i++) {
		struct member *m = &c->view[i];
		if (alive(m) && m->ping_out && now_ms - m->ping_sent_ms >= c->cfg.t_fail_ms) {
			declare_dead(c, m, now_ms);
		}
	}
}

static void send_digest(struct dht_chord *c, const struct dht_addr *to)
{
	struct dht_ovl *m = request(c, to, DHT_LSP_MEMBERSHIP);
	if (m != NULL) {
		m->digest = view_digest(c);
		m->digest_count = c->nview;
	}
}

/*
 * Reach out to the nodes we believe dead: one at random per round, and the bootstrap while it is
 * not a live member. Without this a ring whose nodes all declared each other dead (every message
 * lost or late for T_fail: a partition, or nodes too busy to answer) would stay apart for ever,
 * each node alone, since gossip goes to live members only. The probe is a view digest: a node
 * that is in fact alive answers with its view, which says the prober is dead; the prober refutes
 * (a higher incarnation), and the next exchange brings both back into each other's views.
 */
static void probe_dead(struct dht_chord *c)
{
	unsigned dead = c->nview - alive_count(c);
	if (dead > 0) {
		unsigned pick = (unsigned)(rnd(c) % dead), seen = 0;
		for (unsigned i = 0; i < c->nview; i++) {
			if (!alive(&c->view[i]) && seen++ == pick) {
				send_digest(c, &c->view[i].peer.addr);
				break;
			}
		}
	}
	if (c->has_bootstrap) {
		const struct member *b = view_find_addr(c, &c->bootstrap);
		if (b == NULL || !alive(b)) {
			send_digest(c, &c->bootstrap);
		}
	}
}

static void gossip(struct dht_chord *c)
{
	probe_dead(c);
	const struct member *s[1];
	unsigned n = successors(c, s, 1);
	if (n == 0) {
		return;
	}
	struct dht_ovl *m = request(c, &s[0]->peer.addr, DHT_LSP_MEMBERSHIP);
	if (m != NULL) {
		m->digest = view_digest(c);
		m->digest_count = c->nview;
	}
	unsigned live = alive_count(c);
	if (live <= 2) {
		return;
	}
	/* one random live member other than self and the successor */
	unsigned pick = (unsigned)(rnd(c) % (live - 2)), seen = 0;
	for (unsigned i = 0; i < c->nview; i++) {
		const struct member *v = &c->view[i];
		if (!alive(v) || v->peer.id == c->self.id || v->peer.id == s[0]->peer.id) {
			continue;
		}
		if (seen++ == pick) {
			struct dht_ovl *g = request(c, &v->peer.addr, DHT_LSP_MEMBERSHIP);
			if (g != NULL) {
				g->digest = view_digest(c);
				g->digest_count = c->nview;
			}
			break;
		}
	}
}

static void fix_finger(struct dht_chord *c, uint64_t now_ms)
{
	if (dht_chord_one_hop(c)) {
		return; /* fingers are read off the complete view */
	}
	struct find_pending *f = NULL;
	for (unsigned i = 0; i < FIND_PENDING; i++) {
		if (c->find[i].txn == 0 || now_ms - c->find[i].sent_ms > c->cfg.t_fail_ms) {
			f = &c->find[i];
			break;
		}
	}
	const struct member *s[1];
	if (f == NULL || successors(c, s, 1) == 0) {
		return;
	}
	unsigned i = c->next_finger++ % DHT_FINGERS;
	struct dht_ovl *q = request(c, &s[0]->peer.addr, DHT_LSP_FIND_SUCCESSOR);
	if (q != NULL) {
		q->target = dht_finger_start(c->self.id, i);
		*f = (struct find_pending){.txn = q->txn, .finger = i, .sent_ms = now_ms};
	}
}

static void forget_dead(struct dht_chord *c, uint64_t now_ms)
{
	unsigned n = 0;
	for (unsigned i = 0; i < c->nview; i++) {
		const struct member *m = &c->view[i];
		if (!alive(m) && now_ms - m->changed_ms >= c->cfg.t_forget_ms) {
			continue;
		}
		c->view[n++] = *m;
	}
	c->nview = n;
}

void dht_chord_tick(struct dht_chord *c, uint64_t now_ms)
{
	if (c->left) {
		return;
	}
	if (c->joining) {
		if (now_ms - c->join_sent_ms >= c->cfg.t_join_ms) {
			send_join(c, now_ms);
		}
		return;
	}
	check_pings(c, now_ms);
	if (now_ms >= c->next_stab) {
		const struct member *s[1];
		if (successors(c, s, 1) == 1) {
			(void)request(c, &s[0]->peer.addr, DHT_LSP_GET_PREDECESSOR);
		}
		send_notify(c);
		c->next_stab = now_ms + c->cfg.t_stab_ms;
	}
	if (now_ms >= c->next_ping) {
		ping_neighbours(c, now_ms);
		c->next_ping = now_ms + c->cfg.t_ping_ms;
	}
	if (now_ms >= c->next_gossip) {
		gossip(c);
		c->next_gossip = now_ms + c->cfg.t_gossip_ms;
	}
	if (now_ms >= c->next_fix) {
		fix_finger(c, now_ms);
		c->next_fix = now_ms + c->cfg.t_fix_ms;
	}
	if (now_ms >= c->next_forget) {
		forget_dead(c, now_ms);
		c->next_forget = now_ms + c->cfg.t_forget_ms / 4;
	}
}

uint64_t dht_chord_next_ms(const struct dht_chord *c)
{
	if (c->left) {
		return UINT64_MAX;
	}
	if (c->joining) {
		return c->join_sent_ms + c->cfg.t_join_ms;
	}
	uint64_t t =
		min_u64(min_u64(c->next_stab, c->next_ping), min_u64(c->next_gossip, c->next_fix));
	t = min_u64(t, c->next_forget);
	for (unsigned i = 0; i < c->nview; i++) {
		if (c->view[i].ping_out) {
			t = min_u64(t, c->view[i].ping_sent_ms + c->cfg.t_fail_ms);
		}
	}
	return t;
}

unsigned dht_chord_take(struct dht_chord *c, const struct dht_ovl **out)
{
	outbox_clear(&c->taken);
	struct outbox t = c->taken;
	c->taken = c->out;
	c->out = t;
	*out = c->taken.m;
	return c->taken.n;
}

bool dht_chord_changed(struct dht_chord *c)
{
	bool ch = c->changed;
	c->changed = false;
	return ch;
}

bool dht_chord_one_hop(const struct dht_chord *c)
{
	return alive_count(c) <= c->cfg.one_hop_max;
}

/* ---- the routing table ----------------------------------------------------------------------- */

static bool has_peer(const struct dht_peer *a, unsigned n, dht_id_t id)
{
	for (unsigned i = 0; i < n; i++) {
		if (a[i].id == id) {
			return true;
		}
	}
	return false;
}

struct dht_route *dht_chord_route(const struct dht_chord *c)
{
	bool one_hop = dht_chord_one_hop(c);
	unsigned live = alive_count(c);
	struct dht_route *rt = dht_route_new(one_hop ? live + 1 : 1);
	if (rt == NULL) {
		return NULL;
	}
	rt->self = c->self;
	rt->replicas = c->cfg.replicas;
	rt->one_hop = one_hop;
	rt->ring_size = live;
	const struct member *s[DHT_MAX_SUCCESSORS];
	rt->nsucc = successors(c, s, succ_len(c));
	for (unsigned i = 0; i < rt->nsucc; i++) {
		rt->succ[i] = s[i]->peer;
	}
	const struct member *p = predecessor(c);
	if (p != NULL) {
		rt->has_pred = true;
		rt->pred = p->peer;
	}
	if (one_hop) {
		for (unsigned i = 0; i < c->nview; i++) {
			if (alive(&c->view[i])) {
				rt->members[rt->nmembers++] = c->view[i].peer;
			}
		}
	}
	for (unsigned i = 0; i < DHT_FINGERS; i++) {
		const struct member *f = NULL;
		if (one_hop) {
			f = view_successor(c, dht_finger_start(c->self.id, i));
		} else if (c->has_finger[i]) {
			f = view_find((struct dht_chord *)c, c->finger[i].id);
			f = f != NULL && alive(f) ? f : NULL;
		}
		if (f != NULL && f->peer.id != c->self.id &&
		    !has_peer(rt->finger, rt->nfingers, f->peer.id)) {
			rt->finger[rt->nfingers++] = f->peer;
		}
	}
	dht_route_finish(rt);
	return rt;
}

void dht_chord_stats(const struct dht_chord *c, struct dht_chord_stats *out)
{
	*out = c->st;
	out->joined = c->joined;
	out->incarnation = c->inc;
	out->view_alive = alive_count(c);
	out->view_dead = c->nview - out->view_alive;
}

bool dht_chord_addr_may_be(const struct dht_chord *c, const struct dht_addr *a, dht_id_t id)
{
	bool known = false;
	for (unsigned i = 0; i < c->nview; i++) {
		if (dht_addr_equal(&c->view[i].peer.addr, a)) {
			if (c->view[i].peer.id == id) {
				return true;
			}
			known = true;
		}
	}
	return !known;
}

bool dht_chord_addr_of(const struct dht_chord *c, dht_id_t id, struct dht_addr *out)
{
	const struct member *m = view_find((struct dht_chord *)c, id);
	if (m == NULL || m->state != DHT_MEMBER_ALIVE) {
		return false;
	}
	*out = m->peer.addr;
	return true;
}
