/* SPDX-License-Identifier: MIT */
/*
 * The overlay driver (ctl_ovl.h).
 *
 * How it works: the TCP links deliver frames; frames of the Chord types are decoded and fed to
 * the state machine with the monotonic time; whatever the machine queues is encoded and sent on
 * the link to its destination (a view too large for one frame goes as pages). After every event
 * the machine is asked whether the neighbourhood changed; if so a fresh routing table is built
 * and published to the workers (RCU). A link that fails is reported to the machine as a suspect
 * peer, which it then pings and declares dead if it stays silent.
 *
 * The node's own address is its LSP address. When that is a wildcard (0.0.0.0 or ::) the node
 * needs a concrete one to be reachable by others: it takes the local address the kernel would use
 * towards the --join node (or towards a documentation address when there is none), found with a
 * connected UDP socket, which sends nothing.
 */
#define _GNU_SOURCE
#include "control/ctl_ovl.h"
#include "dataplane/dp_key.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/lc_alloc.h"
#include "common/lc_error.h"
#include "common/lc_log.h"
#include "control/ctl_addr.h"
#include "control/ctl_json.h"
#include "control/ctl_keys.h"
#include "control/ctl_link.h"
#include "control/ctl_sync.h"
#include "control/ctl_tls.h"
#include "dht/dht_chord_wire.h"
#include "dht/dht_key.h"
#include "dht/lsp.h"
#include "dht/lsp_ovl.h"

#define MAX_MEMBERS_IN (DHT_OVL_MEMBERS_PER_FRAME)
#define SYNC_MS 10000  /* T_sync: the owner's periodic push (docs/overlay.md §8) */
#define SYNC_POLL_MS 2 /* while range sync work is in flight */
/* How long after the table changed a node still asks the next node of a key's chain for a read
 * it misses: longer than the pulls, pushes and hand-offs a change starts (three T_sync rounds) */
#define SETTLE_MS (3 * SYNC_MS)
#define CRL_POLL_MS 2000   /* how often the CRL file is checked for changes */
#define VERIFY_DIALS 32	   /* addresses of the view dialled to verify them, per table published */
#define RING_QUERY_MS 3000 /* how long admin "ring" waits for every node's NODE_INFO answer */
#define NODE_QUERY_MS 1000 /* how long admin "node" waits for the count of this node's keys */
/* A NODE_INFO (which any member can send) starts at most one count of the store this often; the
 * answer waits for the count it started at most INFO_WAIT_MS, else it gives the latest one */
#define INFO_COUNT_EVERY_MS 3000
#define INFO_WAIT_MS 1000
#define INFO_WAIT_MAX 16 /* NODE_INFO requests waiting for a count; more are answered at once */

/* One node's answer to NODE_INFO (admin "ring"). */
struct info_slot {
	struct dht_peer peer;
	uint64_t txn; /* random: an answer must name it, and come from peer */
	bool is_self; /* filled when the answer is written, without a message */
	bool answered;
	bool has_pred;
	struct dht_peer pred;
	unsigned nsucc;
	struct dht_peer succ[DHT_MAX_SUCCESSORS];
	uint32_t incarnation, ring_size;
	struct dht_lsp_node_stats st;
};

/* A NODE_INFO request waiting for the count it started. Owner: ctl_ovl (info_wait[]). */
struct info_wait {
	struct dht_lsp_hdr hdr; /* the request's: the answer echoes its txn */
	struct dht_lsp_node to; /* its SENDER, a live member when it came */
	uint64_t count_seq;
	uint64_t deadline_ms;
};

/* Owner: the admin connection that asked (ctl_ovl_query_new/free); linked in ov->queries while it
 * lives, so that NODE_INFO answers find their slot. */
struct ctl_ovl_query {
	struct ctl_ovl *ov;
	struct ctl_ovl_query *next;
	bool all_nodes;
	uint64_t count_seq; /* the count of this node's keys it waits for */
	uint64_t deadline_ms;
	unsigned missing; /* members asked that did not answer yet */
	unsigned ninfo;
	struct info_slot info[]; /* ring: every member of the view when it was asked */
};

struct ctl_ovl {
	struct dp_node *node;
	struct ctl_links *links;
	struct ctl_tls *tls;   /* borrowed; NULL: an unsecured lab ring (ids from addresses) */
	struct ctl_keys *keys; /* secured: the datagram keys of the links */
	bool keys_stale;       /* the view changed: rebuild the key table */
	bool route_stale;      /* secured: an address was verified: filter the table again */
	uint64_t impostors;    /* frames whose SENDER is not the link's authenticated peer */
	uint64_t
		impostor_members; /* view entries left out of tables: their address is another\'s */
	uint64_t crl_check_ms;	  /* next look at the CRL file */
	struct ctl_sync *sync;
	struct dht_chord *chord;
	uint64_t overlay_id;
	struct dht_peer self;
	uint64_t sent, send_refused, bad_frames;
	uint64_t wants_dialled, wants_refused; /* workers' asks for links: to members, to others */
	uint64_t started_ms;
	bool joined;	     /* the machine said so at the last event (to log the join once) */
	bool pulling;	     /* the published table says we are pulling our range */
	bool had_peer;	     /* --join was given, or another member was seen: never solo again */
	bool settling_pub;   /* the published table says the ring changed lately */
	uint64_t changed_ms; /* when the machine last changed the table */
	struct dht_peer
		*seen; /* live members of the last published table, by id (log_membership) */
	unsigned nseen;
	bool has_boot;
	bool joining_pub;	       /* the published table says we are joining */
	struct dht_addr boot;	       /* --join */
	struct ctl_ovl_query *queries; /* the admin's node and ring questions in progress */
	unsigned ninfo_wait;
	struct info_wait info_wait[INFO_WAIT_MAX];
	uint64_t info_refused; /* NODE_INFO requests from nodes that are not live members */
	struct dht_ovl_member members_in[MAX_MEMBERS_IN];
	uint8_t frame[DHT_LSP_MAX_MSG];
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	}
	const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	return IN6_IS_ADDR_UNSPECIFIED(a);
}

/* The local address the kernel picks towards @p towards (a connected UDP socket sends nothing). */
static void source_towards(const struct sockaddr_storage *towards, struct sockaddr_storage *out)
{
	int fd = socket(towards->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof(*out);
	if (fd >= 0 && connect(fd, (const struct sockaddr *)towards, ctl_addr_len(towards)) == 0 &&
	    getsockname(fd, (struct sockaddr *)out, &len) == 0) {
		close(fd);
		return;
	}
	if (fd >= 0) {
		close(fd);
	}
	if (ctl_addr_parse(towards->ss_family == AF_INET6 ? "[::1]:0" : "127.0.0.1:0", out) !=
	    LC_OK) {
		memset(out, 0, sizeof(*out)); /* constant input: cannot happen */
	}
}

/* The node's address: the LSP address, made concrete when it is a wildcard. */
static void advertised(const struct ctl_cfg *cfg, const struct sockaddr_storage *lsp,
		       struct sockaddr_storage *out)
{
	*out = *lsp;
	if (!is_wildcard(lsp)) {
		return;
	}
	struct sockaddr_storage towards;
	if (cfg->has_join) {
		towards = cfg->join;
	} else {
		/* a documentation address: only the route to it matters, nothing is sent */
		if (ctl_addr_parse(lsp->ss_family == AF_INET6 ? "[2001:db8::1]:9" : "192.0.2.1:9",
				   &towards) != LC_OK) {
			towards = *lsp;
		}
	}
	struct sockaddr_storage src;
	source_towards(&towards, &src);
	unsigned port = ctl_addr_port(lsp);
	*out = src;
	if (out->ss_family == AF_INET) {
		((struct sockaddr_in *)out)->sin_port = htons((uint16_t)port);
	} else {
		((struct sockaddr_in6 *)out)->sin6_port = htons((uint16_t)port);
	}
}

/* ---- sending --------------------------------------------------------------------------------- */

static void send_one(struct ctl_ovl *ov, const struct dht_ovl *m)
{
	struct sockaddr_storage to;
	if (ctl_addr_from_dht(&m->to, &to) != LC_OK) {
		return;
	}
	unsigned next = 0;
	do {
		size_t len = 0;
		if (dht_ovl_encode(m, ov->overlay_id, &next, ov->frame, sizeof(ov->frame), &len) !=
		    LC_OK) {
			lc_warn("overlay: cannot encode a %s", dht_lsp_type_name(m->type));
			return;
		}
		if (ctl_link_send(ov->links, &to, ov->frame, len) == LC_OK) {
			ov->sent++;
		} else {
			/* maintenance messages are periodic: a refused one is replaced by the next */
			ov->send_refused++;
		}
	} while (next < m->nmembers);
}

/* Until the JOIN is answered the machine's table is a ring of one: requests must go to the
 * bootstrap instead, or this node would answer for keys the ring holds. */
static void mark_joining(struct ctl_ovl *ov, struct dht_route *rt)
{
	struct dht_chord_stats cs;
	dht_chord_stats(ov->chord, &cs);
	if (cs.joined || !ov->has_boot || rt->nsucc > 0) {
		return;
	}
	rt->joining = true;
	rt->succ[0] = (struct dht_peer){.id = dht_node_id_of(&ov->boot, ov->overlay_id),
					.addr = ov->boot};
	rt->nsucc = 1;
}

/* Whether a member of id @p id is in the id-sorted array @p v of @p n members. */
static bool id_in(const struct dht_peer *v, unsigned n, dht_id_t id)
{
	unsigned lo = 0, hi = n;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (v[mid].id == id) {
			return true;
		}
		if (v[mid].id < id) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return false;
}

/*
 * Log at info what an operator needs to see a partition and its heal: members that appear and
 * disappear from the live view, and a ring merge (several members back at once: the sides of a
 * split meet). Compares the new table's members (sorted by id) with the last ones logged.
 */
static void log_membership(struct ctl_ovl *ov, const struct dht_route *rt)
{
	if (!rt->one_hop || rt->joining) {
		return;
	}
	unsigned added = 0, removed = 0;
	char a[64];
	for (unsigned i = 0; i < rt->nmembers; i++) {
		if (!id_in(ov->seen, ov->nseen, rt->members[i].id) &&
		    !dht_route_is_self(rt, &rt->members[i])) {
			added++;
			lc_info("overlay: member %s is live",
				dht_addr_format(&rt->members[i].addr, a, sizeof(a)));
		}
	}
	for (unsigned i = 0; i < ov->nseen; i++) {
		if (!id_in(rt->members, rt->nmembers, ov->seen[i].id)) {
			removed++;
			lc_info("overlay: member %s left the live view (dead, or on the other side of "
				"a split)",
				dht_addr_format(&ov->seen[i].addr, a, sizeof(a)));
		}
	}
	if (added > 1 && ov->nseen > 1) {
		lc_info("overlay: ring merge: %u members came back at once (a split healed); ranges "
			"are synchronised next",
			added);
	}
	if (added == 0 && removed == 0) {
		return;
	}
	lc_info("overlay: the ring has %u live members", rt->nmembers);
	struct dht_peer *now = lc_alloc((rt->nmembers + 1) * sizeof(*now));
	if (now == NULL) {
		return; /* compared with the old list again next time */
	}
	memcpy(now, rt->members, rt->nmembers * sizeof(*now)); /* sorted by id (dht_route_finish) */
	lc_free(ov->seen);
	ov->seen = now;
	ov->nseen = rt->nmembers;
}

/* Dial @p a so that its certificate says which member is there (secured: an address is believed
 * only once an outgoing link found that member's certificate at it). */
static void verify_addr(struct ctl_ovl *ov, const struct dht_addr *a)
{
	struct sockaddr_storage ss;
	if (ctl_addr_from_dht(a, &ss) != LC_OK || ctl_link_connect(ov->links, &ss) != LC_OK) {
		ov->send_refused++; /* no room for another link now: the next frame tries again */
	}
}

/* A secured node: publish the datagram key table when a link or an address changed. */
static void publish_keys(struct ctl_ovl *ov)
{
	if (ov->keys == NULL || !(ov->keys_stale || ctl_keys_dirty(ov->keys))) {
		return;
	}
	struct dp_peers *t = ctl_keys_build(ov->keys);
	if (t != NULL) {
		ov->keys_stale = false;
		dp_node_set_peers(ov->node, t);
	}
}

/*
 * A worker has a datagram for @p a and no key: open a link, whose keys come with it. Only to a
 * live member of the view (dht_chord_is_member_at), so a REPLY_TO cannot make us dial anyone.
 * The view, not the routing table's members: beyond one hop (finger mode) the table lists no
 * members, and the facing node a replica answers is rarely its successor, finger or predecessor.
 * A worker asks again each second while datagrams for @p a stay parked (dp_member.c), so an ask
 * that came while the link could not be opened yet (backoff, no room) is not lost.
 */
static void on_want(void *arg, const struct dp_addr *a)
{
	struct ctl_ovl *ov = arg;
	struct dht_addr da = {.family = a->family, .port = a->port};
	memcpy(da.addr, a->addr, sizeof(da.addr));
	if (dht_chord_is_member_at(ov->chord, &da)) {
		ov->wants_dialled++;
		verify_addr(ov, &da);
	} else {
		ov->wants_refused++;
	}
}

/* Whether the view's (@p p's id, address) is contradicted: an outgoing link found another
 * member's certificate at that address. Addresses not dialled yet are dialled. */
static bool impostor(struct ctl_ovl *ov, const struct dht_peer *p, unsigned *dials)
{
	dht_id_t there;
	if (p->id == ov->self.id) {
		return false;
	}
	if (dht_addr_equal(&p->addr, &ov->self.addr)) {
		return true; /* another id at this node's own address */
	}
	if (ctl_keys_id_at(ov->keys, &p->addr, &there)) {
		return there != p->id;
	}
	if (*dials < VERIFY_DIALS) {
		(*dials)++;
		verify_addr(ov,
			    &p->addr); /* unknown yet: a failed dial is the detector's evidence */
	}
	return false;
}

/*
 * Secured: take out of the table every member whose address an outgoing link found held by
 * another member's certificate (an id a member gossiped at an address that is not its own: no
 * request may be routed to it), and dial the addresses not verified yet. The table's members,
 * successors, fingers and predecessor are filtered alike (docs/security.md §6).
 */
static void drop_impostors(struct ctl_ovl *ov, struct dht_route *rt)
{
	unsigned dials = 0, k = 0;
	for (unsigned i = 0; i < rt->nmembers; i++) {
		if (!impostor(ov, &rt->members[i], &dials)) {
			rt->members[k++] = rt->members[i];
		}
	}
	ov->impostor_members += rt->nmembers - k;
	rt->nmembers = k;
	for (unsigned i = 0; i < rt->nmembers; i++) {
		if (rt->members[i].id == rt->self.id) {
			rt->self_index = i;
		}
	}
	if (rt->one_hop) {
		rt->ring_size = rt->nmembers;
	}
	k = 0;
	for (unsigned i = 0; i < rt->nsucc; i++) {
		if (!impostor(ov, &rt->succ[i], &dials)) {
			rt->succ[k++] = rt->succ[i];
		}
	}
	rt->nsucc = k;
	k = 0;
	for (unsigned i = 0; i < rt->nfingers; i++) {
		if (!impostor(ov, &rt->finger[i], &dials)) {
			rt->finger[k++] = rt->finger[i];
		}
	}
	rt->nfingers = k;
	if (rt->has_pred && impostor(ov, &rt->pred, &dials)) {
		rt->has_pred = rt->one_hop && rt->nmembers > 1;
		if (rt->has_pred) {
			rt->pred = rt->members[(rt->self_index + rt->nmembers - 1) % rt->nmembers];
		}
	}
}

/* The machine's table as this node routes by it (secured: without the impostors), or NULL. */
static struct dht_route *route_now(struct ctl_ovl *ov)
{
	struct dht_route *rt = dht_chord_route(ov->chord);
	if (rt != NULL && ov->tls != NULL) {
		drop_impostors(ov, rt);
	}
	return rt;
}

static void flush(struct ctl_ovl *ov)
{
	const struct dht_ovl *out;
	unsigned n = dht_chord_take(ov->chord, &out);
	for (unsigned i = 0; i < n; i++) {
		send_one(ov, &out[i]);
	}
	bool pulling = ctl_sync_pulling(ov->sync);
	struct dht_chord_stats cs;
	dht_chord_stats(ov->chord, &cs);
	bool joining = !cs.joined && ov->has_boot;
	bool changed = dht_chord_changed(ov->chord);
	uint64_t now = now_ms();
	if (changed) {
		ov->changed_ms = now;
	}
	bool settling = pulling || now - ov->changed_ms < SETTLE_MS;
	if (changed || pulling != ov->pulling || joining != ov->joining_pub ||
	    settling != ov->settling_pub || ov->route_stale) {
		ov->route_stale = false;
		ov->joining_pub = joining;
		ov->settling_pub = settling;
		struct dht_route *rt = route_now(ov);
		if (rt != NULL) {
			ctl_sync_on_route(ov->sync, rt, now_ms());
			rt->pulling = ov->pulling = ctl_sync_pulling(ov->sync);
			ov->had_peer |=
				ov->has_boot || rt->nmembers > 1 || rt->nsucc > 0 || rt->has_pred;
			rt->solo = !ov->had_peer;
			rt->settling = ov->settling_pub;
			log_membership(ov, rt);
			mark_joining(ov, rt);
			dp_node_set_route(ov->node, rt);
			ov->keys_stale = ov->keys != NULL; /* addresses of ids may have changed */
		}
	}
	publish_keys(ov);
}

/* ---- NODE_INFO (locusctl ring) ------------------------------------------------------------ */

static struct dht_lsp_node node_of(const struct dht_peer *p)
{
	return (struct dht_lsp_node){.id = p->id, .addr = p->addr};
}

static struct dht_peer peer_of(const struct dht_lsp_node *n)
{
	return (struct dht_peer){.id = n->id, .addr = n->addr};
}

/* This node's state for a NODE_INFO answer or the admin JSON; the counts are the latest finished
 * count's (unknown when none finished yet). */
static void own_stats(struct ctl_ovl *ov, const struct dht_route *rt, struct dht_lsp_node_stats *st)
{
	struct ctl_sync_roles roles;
	*st = (struct dht_lsp_node_stats){
		.fingers = rt->nfingers,
		.uptime_s = (uint32_t)((now_ms() - ov->started_ms) / 1000),
		.flags = rt->one_hop ? DHT_LSP_STATS_ONE_HOP : 0,
		.owned_keys = DHT_LSP_STATS_UNKNOWN,
		.owned_bindings = DHT_LSP_STATS_UNKNOWN,
		.replica_keys = DHT_LSP_STATS_UNKNOWN,
		.replica_bindings = DHT_LSP_STATS_UNKNOWN,
	};
	if (ctl_sync_counted(ov->sync, &roles) > 0) {
		st->owned_keys = roles.owned_keys;
		st->owned_bindings = roles.owned_bindings;
		st->replica_keys = roles.replica_keys;
		st->replica_bindings = roles.replica_bindings;
	}
}

/* Answer the NODE_INFO of header @p hdr to @p to, with this node's state under @p rt now. */
static void answer_node_info(struct ctl_ovl *ov, const struct dht_route *rt,
			     const struct dht_lsp_hdr *hdr, const struct dht_lsp_node *to)
{
	struct sockaddr_storage dest;
	if (ctl_addr_from_dht(&to->addr, &dest) != LC_OK) {
		return;
	}
	struct dht_lsp_ovl_msg req = {.hdr = *hdr, .hdr_ok = true};
	struct dht_lsp_node_stats st;
	own_stats(ov, rt, &st);
	struct dht_chord_stats cs;
	dht_chord_stats(ov->chord, &cs);
	struct dht_lsp_builder b;
	struct dht_lsp_node self = node_of(&rt->self);
	dht_lsp_build_init(&b, ov->frame, sizeof(ov->frame));
	dht_lsp_ovl_answer_start(&b, &req, &self, DHT_LSP_S_OK);
	if (rt->has_pred) {
		struct dht_lsp_node p = node_of(&rt->pred);
		dht_lsp_put_predecessor(&b, &p);
	}
	for (unsigned i = 0; i < rt->nsucc && i < DHT_LSP_MAX_PEERS; i++) {
		struct dht_lsp_node n = node_of(&rt->succ[i]);
		dht_lsp_put_peer(&b, &n);
	}
	dht_lsp_put_incarnation(&b, cs.incarnation);
	dht_lsp_put_ring_size(&b, rt->ring_size);
	dht_lsp_put_node_stats(&b, &st);
	size_t len = 0;
	if (dht_lsp_build_finish(&b, &len) == LC_OK &&
	    ctl_link_send(ov->links, &dest, ov->frame, len) == LC_OK) {
		ov->sent++;
	}
}

/*
 * Whether @p p, the SENDER of the frame being delivered, is the node at the other end of the
 * link. Secured: the id the TLS handshake took from the peer's certificate. Unsecured (a lab):
 * the hash of the address it claims, which anyone can claim; say so in docs/security.md.
 */
static bool sender_ok(struct ctl_ovl *ov, const struct dht_peer *p)
{
	if (ov->tls == NULL) {
		return p->id == dht_node_id_of(&p->addr, ov->overlay_id);
	}
	dht_id_t id, there;
	if (!ctl_links_frame_peer(ov->links, &id) || id != p->id ||
	    dht_addr_equal(&p->addr, &ov->self.addr) ||
	    (ctl_keys_id_at(ov->keys, &p->addr, &there) && there != id)) {
		/* not the link's peer; or it names an address where we found another member */
		ov->impostors++;
		return false;
	}
	struct dht_addr mine;
	if (!ctl_keys_verified_addr(ov->keys, id, &mine) || !dht_addr_equal(&mine, &p->addr)) {
		verify_addr(ov, &p->addr); /* dial it: its certificate must be the sender's */
	}
	return true;
}

/* A frame of another kind than Chord's from @p p: a sign of life, when @p p sent it. */
static void heard_alive(struct ctl_ovl *ov, const struct dht_peer *p)
{
	if (sender_ok(ov, p)) {
		dht_chord_on_alive(ov->chord, p, now_ms());
	}
}

static bool same_peer(const struct dht_peer *a, const struct dht_peer *b)
{
	return a->id == b->id && dht_addr_equal(&a->addr, &b->addr);
}

/* Whether @p p (id and address) is a live member of this node's view under @p rt: in the complete
 * view (one hop), or without it its predecessor, a successor or a finger. Never this node. */
static bool live_member(const struct dht_route *rt, const struct dht_peer *p)
{
	if (p->id == rt->self.id) {
		return false;
	}
	if (rt->has_pred && same_peer(&rt->pred, p)) {
		return true;
	}
	for (unsigned i = 0; i < rt->nmembers; i++) {
		if (same_peer(&rt->members[i], p)) {
			return true;
		}
	}
	for (unsigned i = 0; i < rt->nsucc; i++) {
		if (same_peer(&rt->succ[i], p)) {
			return true;
		}
	}
	for (unsigned i = 0; i < rt->nfingers; i++) {
		if (same_peer(&rt->finger[i], p)) {
			return true;
		}
	}
	return false;
}

/*
 * A NODE_INFO request: answered only to a live member of our view (the answer goes to the address
 * it names, so a stranger can neither learn our state nor aim answers elsewhere). Its counts come
 * from a count this request starts only when the latest is INFO_COUNT_EVERY_MS old, so no sender
 * can make the workers walk the store more often than that; the answer then waits for that count
 * (INFO_WAIT_MS at most, and INFO_WAIT_MAX requests at once), else it goes at once.
 */
static void info_request(struct ctl_ovl *ov, const struct dht_lsp_ovl_msg *m)
{
	struct dht_route *rt = route_now(ov);
	struct dht_peer from = peer_of(&m->sender);
	if (rt == NULL) {
		return;
	}
	if (!live_member(rt, &from)) {
		ov->info_refused++;
		dht_route_free(rt);
		return;
	}
	heard_alive(ov, &from);
	uint64_t now = now_ms();
	uint64_t seq = ctl_sync_count(ov->sync, rt, now, INFO_COUNT_EVERY_MS);
	struct ctl_sync_roles roles;
	if (ctl_sync_counted(ov->sync, &roles) >= seq || ov->ninfo_wait == INFO_WAIT_MAX) {
		answer_node_info(ov, rt, &m->hdr, &m->sender);
	} else {
		ov->info_wait[ov->ninfo_wait++] =
			(struct info_wait){.hdr = m->hdr,
					   .to = m->sender,
					   .count_seq = seq,
					   .deadline_ms = now + INFO_WAIT_MS};
	}
	dht_route_free(rt);
}

/* Answer the waiting NODE_INFO requests whose count finished or whose wait is over. */
static void info_waits_run(struct ctl_ovl *ov, uint64_t now)
{
	struct ctl_sync_roles roles;
	uint64_t done = ctl_sync_counted(ov->sync, &roles);
	struct dht_route *rt = NULL;
	for (unsigned i = 0; i < ov->ninfo_wait;) {
		struct info_wait *w = &ov->info_wait[i];
		if (done < w->count_seq && now < w->deadline_ms) {
			i++;
			continue;
		}
		if (rt == NULL && (rt = route_now(ov)) == NULL) {
			return; /* out of memory: tried again at the next run */
		}
		answer_node_info(ov, rt, &w->hdr, &w->to);
		*w = ov->info_wait[--ov->ninfo_wait];
	}
	dht_route_free(rt);
}

/* A NODE_INFO answer: taken into the slot of a query in progress that asked its sender with its
 * txn; anything else is dropped. @return whether it was taken. */
static bool info_answered(struct ctl_ovl *ov, const struct dht_lsp_ovl_msg *m)
{
	struct dht_peer from = peer_of(&m->sender);
	if (m->status / 100 != 2) {
		return false;
	}
	for (struct ctl_ovl_query *q = ov->queries; q != NULL; q = q->next) {
		for (unsigned i = 0; i < q->ninfo; i++) {
			struct info_slot *in = &q->info[i];
			if (in->txn != m->hdr.txn_id || in->answered || in->is_self ||
			    !same_peer(&in->peer, &from)) {
				continue;
			}
			in->answered = true;
			q->missing--;
			in->has_pred = (m->present & DHT_LSP_O_PREDECESSOR) != 0;
			in->pred = peer_of(&m->predecessor);
			struct dht_lsp_iter it = dht_lsp_ovl_peers(m);
			struct dht_lsp_node n;
			while (in->nsucc < DHT_MAX_SUCCESSORS && dht_lsp_ovl_next_peer(&it, &n)) {
				in->succ[in->nsucc++] = peer_of(&n);
			}
			in->incarnation = m->incarnation;
			in->ring_size = m->ring_size;
			in->st = m->node_stats;
			return true;
		}
	}
	return false;
}

static void on_node_info(struct ctl_ovl *ov, const void *frame, size_t len)
{
	struct dht_lsp_ovl_msg m;
	if (dht_lsp_ovl_parse(&m, frame, len) != LC_OK || m.hdr.overlay_id != ov->overlay_id ||
	    !(m.present & DHT_LSP_O_SENDER)) {
		ov->bad_frames++;
		return;
	}
	const struct dht_peer sender = {.id = m.sender.id, .addr = m.sender.addr};
	if (!sender_ok(ov, &sender)) {
		ov->info_refused++; /* not the link's peer, or (unsecured) not a node's id */
		return;
	}
	if (!dht_lsp_ovl_is_answer(&m)) {
		info_request(ov, &m);
	} else if (info_answered(ov, &m)) {
		dht_chord_on_alive(ov->chord, &sender, now_ms());
	}
}

/* ---- link callbacks -------------------------------------------------------------------------- */

static void on_frame(void *arg, const void *frame, size_t len, const struct sockaddr_storage *from)
{
	(void)from;
	struct ctl_ovl *ov = arg;
	unsigned type = len >= DHT_LSP_HDR_LEN ? ((const uint8_t *)frame)[3] : 0;
	if (type == DHT_LSP_RANGE_DIGEST || type == DHT_LSP_RANGE_TRANSFER) {
		/* a transfer's data frames come over the bulk link, read only as fast as they are
		 * applied: they may have waited in buffers for seconds, so they say nothing of the
		 * sender now. Frames of the control link (digests, answers) do. */
		bool bulk = type == DHT_LSP_RANGE_TRANSFER &&
			    !(((const uint8_t *)frame)[4] & DHT_LSP_F_ANSWER);
		/* the sender the link vouches for (sender_ok: its certificate's id, or without
		 * certificates the hash of the address it claims) */
		struct dht_peer sender;
		if (ctl_sync_frame_sender(frame, len, &sender) && sender_ok(ov, &sender) &&
		    ctl_sync_on_frame(ov->sync, frame, len, now_ms(), &sender) && !bulk) {
			dht_chord_on_alive(ov->chord, &sender, now_ms());
		}
		return;
	}
	if (type == DHT_LSP_NODE_INFO) {
		on_node_info(ov, frame, len);
		return;
	}
	if (!dht_ovl_is_chord_type(type)) {
		ov->bad_frames++;
		return;
	}
	struct dht_ovl m;
	if (dht_ovl_decode(frame, len, ov->overlay_id, &m, ov->members_in, MAX_MEMBERS_IN) !=
	    LC_OK) {
		ov->bad_frames++;
		return;
	}
	if (!sender_ok(ov, &m.from)) {
		ov->bad_frames++;
		return;
	}
	if (ov->tls == NULL) {
		/* unsecured, a node's id is the hash of its address: other entries are no node of
		 * this overlay. Secured, an entry's id is checked when a link to it comes up. */
		unsigned kept = 0;
		for (unsigned i = 0; i < m.nmembers; i++) {
			if (m.members[i].peer.id ==
			    dht_node_id_of(&m.members[i].peer.addr, ov->overlay_id)) {
				m.members[kept++] = m.members[i];
			}
		}
		m.nmembers = kept;
	}
	bool was_joined = ov->joined;
	dht_chord_on_msg(ov->chord, &m, now_ms());
	flush(ov);
	struct dht_chord_stats cs;
	dht_chord_stats(ov->chord, &cs);
	ov->joined = cs.joined;
	if (!was_joined && cs.joined) {
		lc_info("joined a ring of %u nodes, this one included (through %s)",
			cs.joined_ring_size, dht_addr_format(&m.from.addr, (char[64]){0}, 64));
	}
}

/*
 * A member opened a link to us: its keys serve only once an outgoing link of ours verified its
 * address (ctl_keys_build), and until then its tagged datagrams are dropped as auth_unknown_key.
 * It opened the link because it has datagrams for us (a replica answering this facing node), so
 * dial its address from the view now rather than wait for something else to.
 */
static void dial_back(struct ctl_ovl *ov, dht_id_t id)
{
	struct dht_addr a;
	if (ov->keys == NULL || ctl_keys_verified_addr(ov->keys, id, &a)) {
		return; /* one of ours already verified it */
	}
	if (dht_chord_member_addr(ov->chord, id, &a)) {
		verify_addr(ov, &a);
	}
}

/* An outgoing link authenticated its peer: refuse it when the view has another node there. */
static bool on_link_auth(void *arg, const struct ctl_link_conn *conn,
			 const struct sockaddr_storage *peer, bool up)
{
	struct ctl_ovl *ov = arg;
	struct dht_addr a;
	if (!up || peer == NULL || ctl_addr_to_dht(peer, &a) != LC_OK ||
	    dht_chord_addr_may_be(ov->chord, &a, conn->peer_id)) {
		ctl_keys_on_link(ov->keys, conn, peer, up, now_ms());
		ov->route_stale = ov->route_stale || (up && peer != NULL); /* an address verified */
		if (up && peer == NULL) {
			dial_back(ov, conn->peer_id);
		}
		return true;
	}
	ctl_tls_count_bad_id(ov->tls);
	char id[DHT_ID_HEX_LEN + 1];
	dht_id_format(conn->peer_id, id);
	lc_info("overlay link to %s refused: its certificate is node %s, not the member there",
		dht_addr_format(&a, (char[64]){0}, 64), id);
	return false;
}

static void on_peer_down(void *arg, const struct sockaddr_storage *peer, int reason)
{
	(void)reason;
	struct ctl_ovl *ov = arg;
	struct dht_addr a;
	if (ctl_addr_to_dht(peer, &a) == LC_OK) {
		dht_chord_on_peer_down(ov->chord, &a, now_ms());
		flush(ov);
	}
}

/* ---- lifecycle ------------------------------------------------------------------------------- */

int ctl_ovl_new(struct ctl_ovl **out, const struct ctl_cfg *cfg, struct dp_node *node,
		struct ctl_tls *tls, const struct sockaddr_storage *lsp, char *err, size_t errcap)
{
	struct ctl_ovl *ov = lc_calloc(1, sizeof(*ov));
	if (ov == NULL) {
		snprintf(err, errcap, "out of memory");
		return LC_ENOMEM;
	}
	ov->node = node;
	ov->started_ms = now_ms();
	ov->overlay_id = dht_seed_of(cfg->overlay, strlen(cfg->overlay));
	struct sockaddr_storage me;
	advertised(cfg, lsp, &me);
	if (ctl_addr_to_dht(&me, &ov->self.addr) != LC_OK) {
		snprintf(err, errcap, "the LSP address is neither IPv4 nor IPv6");
		lc_free(ov);
		return LC_EINVAL;
	}
	ov->tls = tls;
	ov->self.id =
		tls != NULL ? ctl_tls_self_id(tls) : dht_node_id_of(&ov->self.addr, ov->overlay_id);
	if (tls != NULL && ctl_keys_new(&ov->keys, &ov->self) != LC_OK) {
		snprintf(err, errcap, "cannot make the datagram keys");
		lc_free(ov);
		return LC_ENOMEM;
	}

	struct ctl_link_cbs cbs = {.on_frame = on_frame,
				   .on_peer_down = on_peer_down,
				   .on_link_auth = on_link_auth,
				   .arg = ov};
	struct ctl_link_cfg lcfg;
	ctl_link_cfg_defaults(&lcfg);
	if (tls != NULL) {
		/* a link carries the datagram keys of its pair: keep it while both ends live */
		lcfg.idle_timeout_ms = 0;
		lcfg.keep_authed_inbound = true;
	}
	int ret = ctl_links_new(&ov->links, &lcfg, lsp,
				tls != NULL ? &ctl_link_tls_ops : &ctl_link_tcp_ops, tls, &cbs);
	if (ret == LC_OK) {
		ret = ctl_sync_new(&ov->sync, node, ov->links, ov->overlay_id, SYNC_MS);
	}
	if (ret != LC_OK) {
		char a[64];
		ctl_addr_format(lsp, a, sizeof(a));
		snprintf(err, errcap, "cannot listen for overlay links on tcp %s: %s", a,
			 ret > -1000 ? strerror(-ret) : lc_strerror(ret));
		ctl_ovl_free(ov);
		return ret;
	}
	uint64_t now = now_ms();
	struct dht_chord_cfg ccfg = {
		.successors = cfg->successors,
		.replicas = cfg->replicas,
		.one_hop_max = cfg->one_hop_max,
		/* above any incarnation a previous run at this address can have reached */
		.incarnation = (uint32_t)time(NULL),
		.seed = (uint64_t)ov->self.id ^ (uint64_t)now,
	};
	ret = dht_chord_new(&ov->chord, &ccfg, &ov->self, now);
	if (ret != LC_OK) {
		snprintf(err, errcap, "cannot start the overlay: %s", lc_strerror(ret));
		ctl_ovl_free(ov);
		return ret;
	}
	ov->joined = !cfg->has_join;
	if (cfg->has_join) {
		struct dht_addr boot;
		if (ctl_addr_to_dht(&cfg->join, &boot) == LC_OK) {
			ov->boot = boot;
			ov->has_boot = true;
			dht_chord_join(ov->chord, &boot, now);
		}
	}
	ctl_links_run(ov->links, now);
	flush(ov);
	*out = ov;
	return LC_OK;
}

void ctl_ovl_free(struct ctl_ovl *ov)
{
	if (ov == NULL) {
		return;
	}
	dht_chord_free(ov->chord);
	ctl_sync_free(ov->sync);
	ctl_links_free(ov->links); /* before the keys: closing links reports them */
	ctl_keys_free(ov->keys);
	lc_free(ov->seen);
	lc_free(ov);
}

int ctl_ovl_fd(const struct ctl_ovl *ov)
{
	return ctl_links_fd(ov->links);
}

int ctl_ovl_timeout_ms(const struct ctl_ovl *ov)
{
	uint64_t now = now_ms(), next = dht_chord_next_ms(ov->chord);
	int t = next <= now ? 0 : next - now > 1000 ? 1000 : (int)(next - now);
	int l = ctl_links_next_timeout_ms(ov->links, now);
	t = l >= 0 && l < t ? l : t;
	return ctl_sync_busy(ov->sync) && t > SYNC_POLL_MS ? SYNC_POLL_MS : t;
}

void ctl_ovl_run(struct ctl_ovl *ov)
{
	uint64_t now = now_ms();
	if (ov->tls != NULL && now >= ov->crl_check_ms) {
		ov->crl_check_ms = now + CRL_POLL_MS;
		if (ctl_tls_poll_crl(ov->tls)) {
			ctl_links_recheck(ov->links); /* close the links of newly revoked peers */
		}
	}
	if (ov->keys != NULL) {
		dp_node_take_wants(ov->node, on_want, ov);
	}
	ctl_links_run(ov->links, now);
	if (dht_chord_next_ms(ov->chord) <= now) {
		dht_chord_tick(ov->chord, now);
	}
	ctl_sync_run(ov->sync, now);
	info_waits_run(ov, now); /* after the sync: it collects the counts they wait for */
	flush(ov);		 /* after the sync: a finished pull republishes the table */
}

void ctl_ovl_leave(struct ctl_ovl *ov, unsigned max_ms)
{
	ctl_sync_hand_off(ov->sync, max_ms); /* the successor gets our range first */
	uint64_t start = now_ms();
	dht_chord_leave(ov->chord, start);
	flush(ov);
	struct ctl_link_stats st;
	do {
		ctl_links_run(ov->links, now_ms());
		ctl_links_stats_get(ov->links, &st);
		if (st.queued_bytes == 0) {
			break;
		}
		usleep(2000);
	} while (now_ms() - start < max_ms);
}

/* ---- admin ----------------------------------------------------------------------------------- */

static void jpeer(struct ctl_json *j, const struct dht_peer *p)
{
	char id[DHT_ID_HEX_LEN + 1], a[64];
	dht_id_format(p->id, id);
	ctl_json_put(j, "{\"id\":\"%s\",\"addr\":\"%s\"%s}", id,
		     dht_addr_format(&p->addr, a, sizeof(a)),
		     (p->flags & DHT_PEER_SUSPECT) ? ",\"suspect\":true" : "");
}

static void jcount(struct ctl_json *j, const char *name, uint64_t keys, uint64_t bindings)
{
	if (keys == DHT_LSP_STATS_UNKNOWN) {
		ctl_json_put(j, ",\"%s\":null", name);
	} else {
		ctl_json_put(j, ",\"%s\":{\"keys\":%llu,\"bindings\":%llu}", name,
			     (unsigned long long)keys, (unsigned long long)bindings);
	}
}

/* ---- the admin's node and ring queries ------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Ask every member of @p rt but this node for its state (NODE_INFO), each with a random txn of its
 * own, so that only the member asked can answer its slot. A member the link refuses is not
 * waited for: it shows as "answered":false. */
static void query_ask(struct ctl_ovl *ov, struct ctl_ovl_query *q, const struct dht_route *rt)
{
	uint64_t seed = 0;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
		seed = now_ms() ^ (uint64_t)(uintptr_t)q; /* unique per slot still, if guessable */
	}
	struct dht_lsp_node self = node_of(&rt->self);
	for (unsigned i = 0; i < rt->nmembers; i++) {
		struct info_slot *in = &q->info[q->ninfo++];
		in->peer = rt->members[i];
		in->txn = splitmix64(&seed) | 1;
		if (dht_route_is_self(rt, &rt->members[i])) {
			in->is_self = true; /* filled when the answer is written */
			continue;
		}
		struct sockaddr_storage to;
		struct dht_lsp_builder b;
		dht_lsp_build_init(&b, ov->frame, sizeof(ov->frame));
		dht_lsp_ovl_request_start(&b, DHT_LSP_NODE_INFO, in->txn, ov->overlay_id, &self);
		size_t len = 0;
		if (dht_lsp_build_finish(&b, &len) == LC_OK &&
		    ctl_addr_from_dht(&in->peer.addr, &to) == LC_OK &&
		    ctl_link_send(ov->links, &to, ov->frame, len) == LC_OK) {
			ov->sent++;
			q->missing++;
		}
	}
}

/* The link security counters (docs/security.md): what was refused, and why. */
static void security_json(const struct ctl_ovl *ov, struct ctl_json *j)
{
	if (ov->tls == NULL) {
		ctl_json_put(j, ",\"security\":{\"mode\":\"none\"}");
		return;
	}
	struct ctl_tls_stats t;
	ctl_tls_stats_get(ov->tls, &t);
	ctl_json_put(j,
		     ",\"security\":{\"mode\":\"tls\",\"handshakes\":%llu,\"refused_chain\":%llu,"
		     "\"refused_expired\":%llu,\"refused_revoked\":%llu,\"refused_no_cert\":%llu,"
		     "\"refused_proto\":%llu,\"refused_id\":%llu,\"impostor_frames\":%llu,"
		     "\"impostor_members\":%llu,"
		     "\"crl_loads\":%llu,\"crl_failures\":%llu,\"dropped_revoked\":%llu,"
		     "\"link_wants\":%llu,\"link_wants_refused\":%llu}",
		     (unsigned long long)t.handshakes, (unsigned long long)t.refused_chain,
		     (unsigned long long)t.refused_expired, (unsigned long long)t.refused_revoked,
		     (unsigned long long)t.refused_no_cert, (unsigned long long)t.refused_proto,
		     (unsigned long long)t.refused_id, (unsigned long long)ov->impostors,
		     (unsigned long long)ov->impostor_members, (unsigned long long)t.crl_loads,
		     (unsigned long long)t.crl_failures, (unsigned long long)t.dropped_revoked,
		     (unsigned long long)ov->wants_dialled, (unsigned long long)ov->wants_refused);
}

int ctl_ovl_query_new(struct ctl_ovl *ov, bool all_nodes, struct ctl_ovl_query **out)
{
	struct dht_route *rt = route_now(ov);
	if (rt == NULL) {
		return LC_ENOMEM;
	}
	unsigned n = all_nodes ? rt->nmembers : 0;
	struct ctl_ovl_query *q = lc_calloc(1, sizeof(*q) + n * sizeof(q->info[0]));
	if (q == NULL) {
		dht_route_free(rt);
		return LC_ENOMEM;
	}
	uint64_t now = now_ms();
	q->ov = ov;
	q->all_nodes = all_nodes;
	q->count_seq = ctl_sync_count(ov->sync, rt, now, 0);
	q->deadline_ms = now + (all_nodes ? RING_QUERY_MS : NODE_QUERY_MS);
	if (all_nodes) {
		query_ask(ov, q, rt);
	}
	q->next = ov->queries;
	ov->queries = q;
	dht_route_free(rt);
	*out = q;
	return LC_OK;
}

bool ctl_ovl_query_ready(const struct ctl_ovl_query *q, uint64_t now_ms)
{
	struct ctl_sync_roles roles;
	return now_ms >= q->deadline_ms ||
	       (q->missing == 0 && ctl_sync_counted(q->ov->sync, &roles) >= q->count_seq);
}

uint64_t ctl_ovl_query_deadline_ms(const struct ctl_ovl_query *q)
{
	return q->deadline_ms;
}

void ctl_ovl_query_free(struct ctl_ovl_query *q)
{
	if (q == NULL) {
		return;
	}
	for (struct ctl_ovl_query **p = &q->ov->queries; *p != NULL; p = &(*p)->next) {
		if (*p == q) {
			*p = q->next;
			break;
		}
	}
	lc_free(q);
}

/* One member's entry of the ring; this node's own from @p rt, now. */
static void node_json(struct ctl_ovl *ov, const struct dht_route *rt, const struct info_slot *slot,
		      struct ctl_json *j)
{
	struct info_slot own;
	const struct info_slot *in = slot;
	if (slot->is_self) {
		struct dht_chord_stats cs;
		dht_chord_stats(ov->chord, &cs);
		own = (struct info_slot){.peer = slot->peer,
					 .answered = true,
					 .has_pred = rt->has_pred,
					 .pred = rt->pred,
					 .nsucc = rt->nsucc,
					 .incarnation = cs.incarnation,
					 .ring_size = rt->ring_size};
		memcpy(own.succ, rt->succ, sizeof(own.succ));
		own_stats(ov, rt, &own.st);
		in = &own;
	}
	ctl_json_put(j, "{\"node\":");
	jpeer(j, &in->peer);
	ctl_json_put(j, ",\"answered\":%s", in->answered ? "true" : "false");
	if (in->answered) {
		ctl_json_put(j, ",\"predecessor\":");
		if (in->has_pred) {
			jpeer(j, &in->pred);
		} else {
			ctl_json_put(j, "null");
		}
		ctl_json_put(j, ",\"successors\":[");
		for (unsigned k = 0; k < in->nsucc; k++) {
			ctl_json_put(j, k ? "," : "");
			jpeer(j, &in->succ[k]);
		}
		ctl_json_put(j,
			     "],\"fingers\":%u,\"one_hop_view\":%u,\"one_hop\":%s,"
			     "\"incarnation\":%u,\"uptime_s\":%u",
			     in->st.fingers, in->ring_size,
			     (in->st.flags & DHT_LSP_STATS_ONE_HOP) ? "true" : "false",
			     in->incarnation, in->st.uptime_s);
		jcount(j, "owned", in->st.owned_keys, in->st.owned_bindings);
		jcount(j, "replica", in->st.replica_keys, in->st.replica_bindings);
	}
	ctl_json_put(j, "}");
}

/* This node's keys by role: the latest finished count, and how long ago it started. */
static void counts_json(struct ctl_ovl *ov, struct ctl_json *j)
{
	struct ctl_sync_roles r;
	if (ctl_sync_counted(ov->sync, &r) == 0) {
		ctl_json_put(j, ",\"owned\":null,\"replica\":null,\"counted_ms_ago\":null");
		return;
	}
	jcount(j, "owned", r.owned_keys, r.owned_bindings);
	jcount(j, "replica", r.replica_keys, r.replica_bindings);
	ctl_json_put(j, ",\"counted_ms_ago\":%llu", (unsigned long long)(now_ms() - r.started_ms));
}

static void sync_json(struct ctl_ovl *ov, struct ctl_json *j)
{
	struct ctl_sync_stats ss;
	ctl_sync_stats(ov->sync, &ss);
	ctl_json_put(j,
		     ",\"sync\":{\"pushes\":%llu,\"pulls\":%llu,\"handoffs\":%llu,"
		     "\"digests_answered\":%llu,"
		     "\"buckets_differing\":%llu,\"entries_sent\":%llu,\"entries_received\":%llu,"
		     "\"entries_applied\":%llu,\"frames_sent\":%llu,\"bytes_sent\":%llu,"
		     "\"failed\":%llu",
		     (unsigned long long)ss.pushes, (unsigned long long)ss.pulls,
		     (unsigned long long)ss.handoffs, (unsigned long long)ss.digests_answered,
		     (unsigned long long)ss.buckets_differing, (unsigned long long)ss.entries_sent,
		     (unsigned long long)ss.entries_received,
		     (unsigned long long)ss.entries_applied, (unsigned long long)ss.frames_sent,
		     (unsigned long long)ss.bytes_sent, (unsigned long long)ss.ops_failed);
	ctl_json_put(
		j,
		",\"refused\":{\"strangers\":%llu,\"digests\":%llu,\"transfers\":%llu,"
		"\"entries\":%llu}}",
		(unsigned long long)ss.refused_strangers, (unsigned long long)ss.refused_digests,
		(unsigned long long)ss.refused_transfers, (unsigned long long)ss.refused_entries);
}

size_t ctl_ovl_query_json(const struct ctl_ovl_query *q, char *buf, size_t cap)
{
	struct ctl_ovl *ov = q->ov;
	struct ctl_json j = {.buf = buf, .cap = cap};
	struct dht_route *rt = route_now(ov);
	struct dht_chord_stats st;
	dht_chord_stats(ov->chord, &st);
	if (rt == NULL) {
		ctl_json_put(&j, "{\"error\":\"out of memory\"}\n");
		return j.len;
	}
	ctl_json_put(&j, "{\"self\":");
	jpeer(&j, &rt->self);
	ctl_json_put(&j, ",\"joined\":%s,\"incarnation\":%u,\"one_hop\":%s,\"ring_size\":%u,",
		     st.joined ? "true" : "false", st.incarnation, rt->one_hop ? "true" : "false",
		     rt->ring_size);
	ctl_json_put(&j,
		     "\"view_alive\":%u,\"view_dead\":%u,\"fingers\":%u,\"joined_ring_size\":%u,"
		     "\"predecessor\":",
		     st.view_alive, st.view_dead, rt->nfingers, st.joined_ring_size);
	if (rt->has_pred) {
		jpeer(&j, &rt->pred);
	} else {
		ctl_json_put(&j, "null");
	}
	ctl_json_put(&j, ",\"successors\":[");
	for (unsigned i = 0; i < rt->nsucc; i++) {
		ctl_json_put(&j, i ? "," : "");
		jpeer(&j, &rt->succ[i]);
	}
	ctl_json_put(&j, "],\"members\":[");
	for (unsigned i = 0; i < rt->nmembers; i++) {
		ctl_json_put(&j, i ? "," : "");
		jpeer(&j, &rt->members[i]);
	}
	ctl_json_put(&j, "]");
	counts_json(ov, &j);
	sync_json(ov, &j);
	if (q->all_nodes) {
		ctl_json_put(&j, ",\"nodes\":[");
		for (unsigned i = 0; i < q->ninfo; i++) {
			ctl_json_put(&j, i ? "," : "");
			node_json(ov, rt, &q->info[i], &j);
		}
		ctl_json_put(&j, "]");
	}
	security_json(ov, &j);
	ctl_json_put(&j,
		     ",\"answers_unsolicited\":%llu,\"death_claims\":%llu,\"claims_refused\":%llu,"
		     "\"members_dropped\":%llu",
		     (unsigned long long)st.answers_unsolicited,
		     (unsigned long long)st.death_claims, (unsigned long long)st.claims_refused,
		     (unsigned long long)st.members_dropped);
	ctl_json_put(&j,
		     ",\"messages_in\":%llu,\"messages_out\":%llu,\"deaths_declared\":%llu,"
		     "\"frames_sent\":%llu,\"frames_refused\":%llu,\"bad_frames\":%llu,"
		     "\"node_info_refused\":%llu}\n",
		     (unsigned long long)st.msgs_in, (unsigned long long)st.msgs_out,
		     (unsigned long long)st.deaths_declared, (unsigned long long)ov->sent,
		     (unsigned long long)ov->send_refused, (unsigned long long)ov->bad_frames,
		     (unsigned long long)ov->info_refused);
	dht_route_free(rt);
	return j.overflow ? 0 : j.len; /* 0: the admin says it does not fit, rather than cut it */
}

size_t ctl_ovl_route_json(struct ctl_ovl *ov, const char *aor, char *buf, size_t cap)
{
	struct ctl_json j = {.buf = buf, .cap = cap};
	struct dp_key k; /* as a worker computes it */
	if (!dp_key_of_bytes(&k, (struct dht_bytes){aor, (uint32_t)strlen(aor)}, ov->overlay_id)) {
		ctl_json_put(&j, "{\"error\":\"not a key: give a URI of at most %d bytes\"}\n",
			     DHT_KEY_MAX);
		return j.len;
	}
	struct dht_route *rt = route_now(ov);
	if (rt == NULL) {
		ctl_json_put(&j, "{\"error\":\"out of memory\"}\n");
		return j.len;
	}
	char hex[DHT_ID_HEX_LEN + 1];
	dht_id_format(k.id, hex);
	ctl_json_put(&j, "{\"key\":\"%.*s\",\"id\":\"%s\",\"asked\":", (int)k.len, k.aor, hex);
	jpeer(&j, &rt->self);
	const struct dht_peer *set[DHT_MAX_REPLICAS];
	unsigned n = dht_route_replicas(rt, k.id, set, DHT_MAX_REPLICAS);
	ctl_json_put(&j, ",\"replicas\":[");
	for (unsigned i = 0; i < n; i++) {
		ctl_json_put(&j, i ? "," : "");
		jpeer(&j, set[i]);
	}
	/* one hop with the complete view (none when the asked node owns it); without it, the
	 * Chord path is walked over this node's fingers only as far as it knows */
	const struct dht_peer *next = dht_route_next_hop(rt, k.id);
	unsigned hops = dht_route_is_self(rt, next) ? 0 : 1;
	ctl_json_put(&j, "],\"owner\":");
	if (n > 0) {
		jpeer(&j, set[0]);
	} else {
		ctl_json_put(&j, "null");
	}
	ctl_json_put(&j, ",\"next_hop\":");
	jpeer(&j, next);
	ctl_json_put(&j, ",\"hops\":%u,\"one_hop\":%s}\n", hops, rt->one_hop ? "true" : "false");
	dht_route_free(rt);
	return j.len;
}
