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
 * for T_fail declares the node dead at its incarnation. Joins spread by gossip; a death heard from
 * others is not believed but checked: the node is suspected and pinged like a neighbour, and its
 * link failing or T_fail without an answer is then this node's own evidence. A node that hears
 * itself declared dead at its own incarnation raises it by one (SWIM's refutation), and the
 * higher incarnation wins everywhere. Dead entries are kept T_forget, long enough for every node
 * to have heard, so stale gossip cannot bring them back; then they are forgotten.
 *
 * Trust (docs/overlay.md §4): the driver vouches for a message's sender (dht_ovl.from) and for
 * nothing else in it. So an answer is taken only for an outstanding request to that sender
 * (dht_chord_txn.c); a LEAVE makes only its sender dead; a "dead" entry about another node is a
 * reason to probe it, never to drop it; a claim of this node's own death above its incarnation
 * is a forgery (only a node raises its own incarnation) and one at UINT32_MAX cannot be refuted
 * without wrapping, so both are ignored and counted; entries heard second-hand never change a
 * known member's address (its own messages do); and the view never grows beyond max_view.
 */
#include <stdlib.h>
#include <string.h>

#include "common/lc_alloc.h"
#include "common/lc_error.h"
#include "dht/dht_chord.h"
#include "dht/dht_chord_txn.h"
#include "dht/dht_ring.h"
#include "dht/lsp.h"

#define PING_TARGETS_MIN 3	  /* successors pinged, at least (more when R is larger) */
#define FIND_MAX_HOPS 32	  /* an iterative FIND_SUCCESSOR gives up after this many */
#define FIND_PENDING 8		  /* outstanding finger lookups */
#define ANSWER_VIEW_MAX 4096	  /* entries sent in one view answer beyond the one-hop size */
#define MAX_VIEW_CAP (1u << 24)	  /* the largest max_view: a view of 16M entries is 1 GB */
#define MAX_VIEW_MIN_DEFAULT 1024 /* the default max_view is never below this (56 KB) */

/* One entry of the view. */
struct member {
	struct dht_peer peer; /* flags: DHT_PEER_SUSPECT */
	uint32_t inc;
	uint8_t state;	       /* enum dht_member_state */
	uint64_t changed_ms;   /* when the state last changed (dead entries are forgotten) */
	uint64_t ping_sent_ms; /* when the outstanding ping went out */
	bool ping_out;	       /* a ping is outstanding */
	bool claimed;	       /* another node said it is dead: pinged every round until it answers
				  or is found dead */
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

	struct dht_txns txns; /* requests sent and not answered yet */
	uint64_t refuted_ms;  /* the last refutation */
	bool refute_due;      /* a refutation waits for the rate limit */
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

/* Room for @p n entries in all (at most max_view): false when there is none. */
static bool view_reserve(struct dht_chord *c, unsigned n)
{
	if (n > c->cfg.max_view) {
		return false;
	}
	if (n <= c->capview) {
		return true;
	}
	unsigned cap = c->capview;
	while (cap < n) {
		cap *= 2;
	}
	cap = cap < c->cfg.max_view ? cap : c->cfg.max_view;
	struct member *v = lc_alloc(cap * sizeof(*v));
	if (v == NULL) {
		return false;
	}
	memcpy(v, c->view, c->nview * sizeof(*v));
	lc_free(c->view);
	c->view = v;
	c->capview = cap;
	return true;
}

/* A new entry for @p p, alive at incarnation 0 (the caller sets both); NULL when the view is full
 * (counted). */
static struct member *view_insert(struct dht_chord *c, const struct dht_peer *p)
{
	if (!view_reserve(c, c->nview + 1)) {
		c->st.members_dropped++;
		return NULL;
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

/* A request; its answer will be taken (dht_chord_txn.h). A LEAVE's is not: the machine is quiet
 * once it left. */
static struct dht_ovl *request(struct dht_chord *c, const struct dht_addr *to, uint8_t type,
			       uint64_t now_ms)
{
	struct dht_ovl *m = emit(c, to, type, false, new_txn(c));
	if (m != NULL && type != DHT_LSP_LEAVE) {
		dht_txns_add(&c->txns, to, type, m->txn, now_ms);
	}
	return m;
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

/*
 * This node heard itself declared dead at its own incarnation: raise it by one (SWIM), at most
 * once per T_gossip (so that no peer can run it up at its message rate; a refutation asked for
 * meanwhile is done when the time comes), and never past UINT32_MAX (wrapping to 0 would leave
 * the node dead everywhere).
 */
static void refute(struct dht_chord *c, uint64_t now_ms)
{
	if (c->inc == UINT32_MAX) {
		c->st.claims_refused++;
		c->refute_due = false;
		return;
	}
	if (c->st.refutations > 0 && now_ms - c->refuted_ms < c->cfg.t_gossip_ms) {
		c->refute_due = true;
		return;
	}
	c->inc++;
	struct member *me = view_find(c, c->self.id);
	me->inc = c->inc;
	me->state = DHT_MEMBER_ALIVE;
	c->st.refutations++;
	c->refuted_ms = now_ms;
	c->refute_due = false;
	c->next_gossip = now_ms; /* tell everyone soon */
}

/* An entry about this node itself: only a death at its own incarnation is refuted. */
static void merge_self(struct dht_chord *c, const struct dht_ovl_member *e, uint64_t now_ms)
{
	if (e->state != DHT_MEMBER_DEAD) {
		return;
	}
	if (e->incarnation == c->inc) {
		refute(c, now_ms);
	} else if (e->incarnation > c->inc) {
		c->st.claims_refused++; /* only this node raises its incarnation: a forgery */
	}
}

static void send_ping(struct dht_chord *c, struct member *m, uint64_t now_ms)
{
	(void)request(c, &m->peer.addr, DHT_LSP_NODE_PING, now_ms);
	if (!m->ping_out) {
		m->ping_sent_ms = now_ms; /* T_fail counts from the first unanswered ping */
		m->ping_out = true;
	}
}

/* Doubt @p m (live): mark it suspect and ping it unless a ping is out; true when the routing
 * table changes (the suspect mark is in it). */
static bool suspect(struct dht_chord *c, struct member *m, uint64_t now_ms)
{
	bool ch = !(m->peer.flags & DHT_PEER_SUSPECT);
	m->peer.flags |= DHT_PEER_SUSPECT;
	if (!m->ping_out) {
		send_ping(c, m, now_ms);
	}
	return ch;
}

/*
 * Merge entry @p e about the known member @p m; @p direct when it comes from that member itself
 * (the sender of a message), else it was heard second-hand. True when the routing table changed.
 * Alive at a higher incarnation is believed (that is how a refutation spreads), but only the
 * member itself moves its address. Dead is believed of a dead entry (a higher incarnation), never
 * of a live one: that one is probed, and only the probe's failure kills it (docs/overlay.md §4).
 */
static bool merge_known(struct dht_chord *c, struct member *m, const struct dht_ovl_member *e,
			bool direct, uint64_t now_ms)
{
	if (e->state == DHT_MEMBER_DEAD) {
		if (!alive(m)) {
			m->inc = e->incarnation > m->inc ? e->incarnation : m->inc;
			return false;
		}
		if (e->incarnation < m->inc) {
			return false;
		}
		c->st.death_claims++;
		m->claimed = true;
		return suspect(c, m, now_ms);
	}
	if (e->incarnation <= m->inc) {
		return false;
	}
	m->inc = e->incarnation;
	if (direct) {
		m->peer.addr = e->peer.addr;
	}
	if (alive(m)) {
		return false;
	}
	m->state = DHT_MEMBER_ALIVE;
	m->changed_ms = now_ms;
	m->ping_out = false;
	m->claimed = false;
	m->peer.flags = 0;
	return true;
}

/* How far @p id lies from self round the ring, the shorter way. */
static dht_id_t farness(const struct dht_chord *c, dht_id_t id)
{
	dht_id_t cw = dht_dist(c->self.id, id), ccw = dht_dist(id, c->self.id);
	return cw < ccw ? cw : ccw;
}

static bool is_finger(const struct dht_chord *c, dht_id_t id)
{
	for (unsigned i = 0; i < DHT_FINGERS; i++) {
		if (c->has_finger[i] && c->finger[i].id == id) {
			return true;
		}
	}
	return false;
}

/*
 * The view is full and Chord met node @p id (it spoke to us, or a neighbour listed it): make
 * room by dropping a dead entry, else the live entry farthest from self that is no finger, if
 * @p id is nearer. A ring larger than max_view thus keeps the neighbourhood and fingers Chord
 * needs, while bulk entries (gossip, view answers) never displace anything. False when @p id
 * is the farthest.
 */
static bool make_room(struct dht_chord *c, dht_id_t id)
{
	unsigned victim = c->nview;
	dht_id_t worst = farness(c, id);
	for (unsigned i = 0; i < c->nview; i++) {
		const struct member *m = &c->view[i];
		if (!alive(m)) {
			victim = i;
			break;
		}
		dht_id_t f = farness(c, m->peer.id);
		if (f > worst && m->peer.id != c->self.id && !is_finger(c, m->peer.id)) {
			worst = f;
			victim = i;
		}
	}
	if (victim == c->nview) {
		return false;
	}
	if (alive(&c->view[victim])) {
		mark_changed(c);
	}
	memmove(&c->view[victim], &c->view[victim + 1],
		(c->nview - victim - 1) * sizeof(c->view[0]));
	c->nview--;
	return true;
}

/* A node not in the view that Chord met (a message's sender, a neighbour's list): added alive at
 * @p inc, making room if need be; true when added (the routing changed). */
static bool add_new(struct dht_chord *c, const struct dht_peer *p, uint32_t inc, uint64_t now_ms)
{
	if (c->nview >= c->cfg.max_view && !make_room(c, p->id)) {
		c->st.members_dropped++;
		return false;
	}
	struct member *m = view_insert(c, p);
	if (m == NULL) {
		return false;
	}
	m->inc = inc;
	m->changed_ms = now_ms;
	return true;
}

static int cmp_member(const void *a, const void *b)
{
	dht_id_t x = ((const struct member *)a)->peer.id, y = ((const struct member *)b)->peer.id;
	return x < y ? -1 : x > y;
}

/*
 * Add the @p n new live entries @p add (sorted here, ids not in the view) to the view in one
 * pass: a page of 1024 entries costs one merge of two sorted runs, not 1024 moves of the whole
 * view. Of two entries with one id the higher incarnation is kept.
 */
static bool add_sorted(struct dht_chord *c, struct member *add, unsigned n)
{
	if (n == 0) {
		return false;
	}
	qsort(add, n, sizeof(*add), cmp_member);
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		if (k > 0 && add[k - 1].peer.id == add[i].peer.id) {
			struct member *w = &add[k - 1];
			w->inc = add[i].inc > w->inc ? add[i].inc : w->inc;
			continue;
		}
		add[k++] = add[i];
	}
	if (!view_reserve(c, c->nview + k)) {
		c->st.members_dropped += k;
		return false;
	}
	unsigned i = c->nview, j = k, out = c->nview + k;
	while (j > 0) {
		if (i > 0 && c->view[i - 1].peer.id > add[j - 1].peer.id) {
			c->view[--out] = c->view[--i];
		} else {
			c->view[--out] = add[--j];
		}
	}
	c->nview += k;
	return true;
}

/*
 * Merge the first @p budget members of @p m (gossip or a view answer: second-hand), in order;
 * the rest, and those the full view has no room for, are dropped and counted.
 */
static void merge_members(struct dht_chord *c, const struct dht_ovl *m, uint32_t budget,
			  uint64_t now_ms)
{
	unsigned n = m->nmembers < budget ? m->nmembers : budget;
	c->st.members_dropped += m->nmembers - n;
	struct member *add = n > 0 ? lc_alloc(n * sizeof(*add)) : NULL;
	unsigned nadd = 0;
	bool ch = false;
	for (unsigned i = 0; i < n; i++) {
		const struct dht_ovl_member *e = &m->members[i];
		struct member *v = view_find(c, e->peer.id);
		if (e->peer.id == c->self.id) {
			merge_self(c, e, now_ms);
		} else if (v != NULL) {
			ch |= merge_known(c, v, e, false, now_ms);
		} else if (e->state != DHT_MEMBER_ALIVE) {
			continue; /* a death we have no evidence of, of a node we never knew */
		} else if (add == NULL || c->nview + nadd >= c->cfg.max_view) {
			c->st.members_dropped++;
		} else {
			add[nadd] = (struct member){
				.peer = e->peer, .inc = e->incarnation, .state = DHT_MEMBER_ALIVE};
			add[nadd].peer.flags = 0;
			add[nadd++].changed_ms = now_ms;
		}
	}
	ch |= add_sorted(c, add, nadd);
	lc_free(add);
	if (ch) {
		mark_changed(c);
	}
}

/* A node we heard of second-hand (a successor list, a finger): known if new, never revived. */
static bool heard_of(struct dht_chord *c, const struct dht_peer *p, uint64_t now_ms)
{
	if (p->id == c->self.id || view_find(c, p->id) != NULL) {
		return false;
	}
	return add_new(c, p, 0, now_ms);
}

/* A message came from @p m->from (the driver vouches for it): it is alive at the incarnation it
 * says, and no longer in doubt. */
static bool heard_from(struct dht_chord *c, const struct dht_ovl *msg, uint64_t now_ms)
{
	if (msg->from.id == c->self.id) {
		return false;
	}
	struct member *m = view_find(c, msg->from.id);
	if (m == NULL) {
		return add_new(c, &msg->from, msg->incarnation, now_ms);
	}
	struct dht_ovl_member e = {
		.peer = msg->from, .incarnation = msg->incarnation, .state = DHT_MEMBER_ALIVE};
	bool ch = merge_known(c, m, &e, true, now_ms);
	if (alive(m)) {
		if (m->peer.flags & DHT_PEER_SUSPECT) {
			m->peer.flags &= (uint8_t)~DHT_PEER_SUSPECT;
			ch = true;
		}
		m->ping_out = false; /* any message proves it alive */
		m->claimed = false;
	}
	return ch;
}

/* @p m is dead at its incarnation (a LEAVE of its own, or the failure detector's evidence). */
static void mark_dead(struct dht_chord *c, struct member *m, uint64_t now_ms)
{
	m->state = DHT_MEMBER_DEAD;
	m->changed_ms = now_ms;
	m->ping_out = false;
	m->claimed = false;
	m->peer.flags = 0;
	c->next_gossip = now_ms;
	mark_changed(c);
}

/* The failure detector's verdict: no answer for T_fail, or a probe's link failed. */
static void declare_dead(struct dht_chord *c, struct member *m, uint64_t now_ms)
{
	mark_dead(c, m, now_ms);
	c->st.deaths_declared++;
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
	if (cfg->max_view == 0) {
		/* room beyond the one-hop size for dead entries and a ring that outgrew it */
		uint64_t v = 4ull * cfg->one_hop_max;
		v = v > MAX_VIEW_MIN_DEFAULT ? v : MAX_VIEW_MIN_DEFAULT;
		cfg->max_view = (unsigned)(v < MAX_VIEW_CAP ? v : MAX_VIEW_CAP);
	}
}

int dht_chord_new(struct dht_chord **out, const struct dht_chord_cfg *cfg,
		  const struct dht_peer *self, uint64_t now_ms)
{
	if (cfg->replicas > DHT_MAX_REPLICAS || cfg->successors > DHT_MAX_SUCCESSORS) {
		return LC_EINVAL;
	}
	struct dht_chord_cfg full = *cfg;
	cfg_defaults(&full);
	if (full.max_view < full.one_hop_max || full.max_view > MAX_VIEW_CAP || full.max_view < 2) {
		return LC_EINVAL;
	}
	struct dht_chord *c = lc_calloc(1, sizeof(*c));
	if (c == NULL) {
		return LC_ENOMEM;
	}
	c->cfg = full;
	/* an answer later than this is dropped: the request was sent again meanwhile */
	dht_txns_init(&c->txns, 2ull * (c->cfg.t_fail_ms > c->cfg.t_join_ms ? c->cfg.t_fail_ms
									    : c->cfg.t_join_ms));
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
	(void)request(c, &c->bootstrap, DHT_LSP_JOIN, now_ms);
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

/* Whether the LEAVE goes to @p m: every live member while the view is complete (a LEAVE is
 * believed only from its subject, so a member that heard it only by gossip would have to find
 * the death by itself), else the neighbours. */
static bool leave_to(const struct dht_chord *c, const struct member *m, bool one_hop,
		     const struct member *const *s, unsigned n, const struct member *p)
{
	if (!alive(m) || m->peer.id == c->self.id) {
		return false;
	}
	if (one_hop || m == p) {
		return true;
	}
	for (unsigned i = 0; i < n; i++) {
		if (s[i] == m) {
			return true;
		}
	}
	return false;
}

void dht_chord_leave(struct dht_chord *c, uint64_t now_ms)
{
	if (c->left) {
		return;
	}
	const struct member *s[DHT_MAX_SUCCESSORS];
	unsigned n = successors(c, s, succ_len(c));
	const struct member *p = predecessor(c);
	bool one_hop = dht_chord_one_hop(c);
	for (unsigned k = 0; k < c->nview; k++) {
		if (!leave_to(c, &c->view[k], one_hop, s, n, p)) {
			continue;
		}
		struct dht_ovl *m = request(c, &c->view[k].peer.addr, DHT_LSP_LEAVE, now_ms);
		for (unsigned i = 0; m != NULL && i < n; i++) {
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
	struct dht_ovl *q = request(c, &p->addr, DHT_LSP_FIND_SUCCESSOR, now_ms);
	if (q != NULL) {
		q->target = dht_finger_start(c->self.id, f->finger);
		f->txn = q->txn;
		f->sent_ms = now_ms;
	}
}

/* A MEMBERSHIP request: merge what it says, answer with the view when the digests differ. */
static void on_membership(struct dht_chord *c, const struct dht_ovl *m, uint64_t now_ms)
{
	merge_members(c, m, m->nmembers, now_ms);
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
	if (differs && !(m->flags & DHT_OVL_F_WANT_VIEW) &&
	    !dht_txns_has(&c->txns, &m->from.addr, DHT_LSP_MEMBERSHIP, now_ms)) {
		/* push-pull: the asker may know entries we lack (one request to it at a time, so
		 * that its requests cannot make this node send without bound) */
		struct dht_ovl *q = request(c, &m->from.addr, DHT_LSP_MEMBERSHIP, now_ms);
		if (q != NULL) {
			q->flags = DHT_OVL_F_WANT_VIEW;
			q->digest = mine;
			q->digest_count = c->nview;
		}
	}
}

/*
 * A LEAVE: its subject is its sender (the driver vouches for it; docs/lsp.md §11.3.8 gives no way
 * to name another node), dead at the incarnation this node knows it by (heard_from just merged
 * the one the LEAVE says). Its PEERs, the leaver's successors, are only heard of: new ones are
 * added, none is changed or dropped.
 */
static void on_leave(struct dht_chord *c, const struct dht_ovl *m, uint64_t now_ms)
{
	struct member *v = view_find(c, m->from.id);
	if (v != NULL && alive(v) && v->peer.id != c->self.id) {
		mark_dead(c, v, now_ms);
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

static void send_notify(struct dht_chord *c, uint64_t now_ms)
{
	const struct member *s[1];
	if (successors(c, s, 1) == 1) {
		(void)request(c, &s[0]->peer.addr, DHT_LSP_NOTIFY, now_ms);
	}
	const struct member *p = predecessor(c);
	if (p != NULL && (successors(c, s, 1) == 0 || p->peer.id != s[0]->peer.id)) {
		(void)request(c, &p->peer.addr, DHT_LSP_NOTIFY, now_ms);
	}
}

/* An answer to an outstanding request of ours, 2xx; @p budget of its members may be taken. */
static void on_answer(struct dht_chord *c, const struct dht_ovl *m, uint32_t budget,
		      uint64_t now_ms)
{
	switch (m->type) {
	case DHT_LSP_JOIN:
		merge_members(c, m, budget, now_ms); /* every page of the view */
		if (!c->joining) {
			return;
		}
		c->st.joined_ring_size = m->ring_size; /* a joining node learns the ring's size */
		c->joining = false;
		c->joined = true;
		mark_changed(c);
		send_notify(c, now_ms);
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
		merge_members(c, m, budget, now_ms);
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
	uint32_t budget = 0;
	if (m->answer && !dht_txns_take(&c->txns, m, c->cfg.max_view, now_ms, &budget)) {
		c->st.answers_unsolicited++; /* not ours to take: not even a sign of life */
		return;
	}
	if (heard_from(c, m, now_ms)) {
		mark_changed(c);
	}
	if (!m->answer) {
		on_request(c, m, now_ms);
	} else if (m->status / 100 == 2) {
		on_answer(c, m, budget, now_ms);
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
	if (m->claimed) {
		declare_dead(c, m, now_ms); /* said dead, and its link failed: our own evidence */
	} else if (suspect(c, m, now_ms)) {
		mark_changed(c);
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
	/* an unanswered ping is sent again every round until T_fail (counted from the first), so
	 * one lost datagram is not a death; so is a ping to a member another node said was dead */
	for (unsigned i = 0; i < nt; i++) {
		send_ping(c, view_find(c, targets[i]->peer.id), now_ms);
	}
	for (unsigned i = 0; i < c->nview; i++) {
		struct member *m = &c->view[i];
		bool target = false;
		for (unsigned j = 0; j < nt && !target; j++) {
			target = targets[j] == m;
		}
		if (alive(m) && m->claimed && !target) {
			send_ping(c, m, now_ms);
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

static void send_digest(struct dht_chord *c, const struct dht_addr *to, uint64_t now_ms)
{
	struct dht_ovl *m = request(c, to, DHT_LSP_MEMBERSHIP, now_ms);
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
static void probe_dead(struct dht_chord *c, uint64_t now_ms)
{
	unsigned dead = c->nview - alive_count(c);
	if (dead > 0) {
		unsigned pick = (unsigned)(rnd(c) % dead), seen = 0;
		for (unsigned i = 0; i < c->nview; i++) {
			if (!alive(&c->view[i]) && seen++ == pick) {
				send_digest(c, &c->view[i].peer.addr, now_ms);
				break;
			}
		}
	}
	if (c->has_bootstrap) {
		const struct member *b = view_find_addr(c, &c->bootstrap);
		if (b == NULL || !alive(b)) {
			send_digest(c, &c->bootstrap, now_ms);
		}
	}
}

static void gossip(struct dht_chord *c, uint64_t now_ms)
{
	probe_dead(c, now_ms);
	const struct member *s[1];
	unsigned n = successors(c, s, 1);
	if (n == 0) {
		return;
	}
	send_digest(c, &s[0]->peer.addr, now_ms);
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
			send_digest(c, &v->peer.addr, now_ms);
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
	struct dht_ovl *q = request(c, &s[0]->peer.addr, DHT_LSP_FIND_SUCCESSOR, now_ms);
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
	if (c->refute_due && now_ms - c->refuted_ms >= c->cfg.t_gossip_ms) {
		refute(c, now_ms);
	}
	if (now_ms >= c->next_stab) {
		const struct member *s[1];
		if (successors(c, s, 1) == 1) {
			(void)request(c, &s[0]->peer.addr, DHT_LSP_GET_PREDECESSOR, now_ms);
		}
		send_notify(c, now_ms);
		c->next_stab = now_ms + c->cfg.t_stab_ms;
	}
	if (now_ms >= c->next_ping) {
		ping_neighbours(c, now_ms);
		c->next_ping = now_ms + c->cfg.t_ping_ms;
	}
	if (now_ms >= c->next_gossip) {
		gossip(c, now_ms);
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
	if (c->refute_due) {
		t = min_u64(t, c->refuted_ms + c->cfg.t_gossip_ms);
	}
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
	out->view_digest = view_digest(c);
}

bool dht_chord_is_member_at(const struct dht_chord *c, const struct dht_addr *a)
{
	for (unsigned i = 0; i < c->nview; i++) {
		const struct member *m = &c->view[i];
		if (alive(m) && m->peer.id != c->self.id && dht_addr_equal(&m->peer.addr, a)) {
			return true;
		}
	}
	return false;
}

bool dht_chord_member_addr(const struct dht_chord *c, dht_id_t id, struct dht_addr *out)
{
	const struct member *m = view_find((struct dht_chord *)c, id);
	if (m == NULL || !alive(m) || id == c->self.id) {
		return false;
	}
	*out = m->peer.addr;
	return true;
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
