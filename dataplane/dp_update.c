/* SPDX-License-Identifier: MIT */
/*
 * The registrar rules of RFC 3261 §10.3 steps 6-7 (with RFC 5626 instance matching), applied to
 * one key of the shard's store, for SIP REGISTER and LSP PUBLISH/REMOVE alike.
 *
 * How it works: the update is first turned into a plan without touching the store. Each contact
 * gets its expiry (its own, else the update's default, else --default-expires); one under
 * --min-expires and under an hour refuses the whole update (step 7: 423); a longer one than
 * --max-expires is shortened. Each contact is matched against the key's live bindings, by
 * +sip.instance and reg-id first, else by URI equality (§19.1.4 for SIP URIs, bytes otherwise).
 * A match with the same Call-ID must carry a higher CSeq; an equal CSeq with the same
 * transaction tag is a retransmission, answered without being applied again; anything else
 * aborts the whole update (step 7: "the update MUST be aborted and the request fails"). A later
 * contact for the same binding overrides an earlier one of the same request. Then the binding
 * count is checked against --max-contacts and the store's room, so an update applies in full or
 * not at all, and only then is the store written.
 *
 * Every record written carries one version for the whole update (dp_version_next: above every
 * version the key has seen) and this node as its writer. Removals never forget: a removed
 * binding becomes a tombstone, a removal of a contact not held here leaves one too (the binding
 * may live on the other side of a partition), and "Contact: *" leaves a CLEARED record, each
 * kept for --max-expires, the longest any binding they beat can live (docs/overlay.md §6); only
 * a ring of one by configuration, where no other copy exists, removes without a trace. A
 * binding whose identity changes (its URI matched by §19.1.4 but not byte for byte, or an
 * instance given to a binding that had none) is a removal of the old identity and an addition.
 */
#include <string.h>

#include "common/lc_error.h"
#include "dataplane/dp_repl.h"
#include "dataplane/dp_update.h"
#include "dht/dht_sync.h"

enum action {
	ACT_NONE = 0, /* overridden later in the same request */
	ACT_ADD,
	ACT_UPDATE,
	ACT_REIDENT, /* an update that changes the binding's identity: tombstone + add */
	ACT_REMOVE,
	ACT_TOMB, /* removes a binding not held here: a tombstone of its identity */
	ACT_SAME, /* a retransmission: already applied */
};

struct step {
	int match; /* index into the live bindings, -1 when new */
	uint32_t expires_s;
	uint8_t action;
};

static bool bytes_eq(struct dht_bytes a, struct dht_bytes b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

uint64_t dp_version_next(struct dp_worker *w, uint64_t old)
{
	uint64_t v = dht_version_next(old, w->now_ms);
	if (v <= w->vclock) {
		v = w->vclock + 1;
	}
	w->vclock = v;
	return v;
}

uint64_t dp_writer(const struct dp_worker *w)
{
	return w->rt != NULL ? (uint64_t)(w->rt->self.id >> 64) : w->cfg->writer;
}

uint32_t dp_tombstone_until(const struct dp_worker *w)
{
	uint32_t t = w->now_s + w->cfg->max_expires_s;
	return t < w->now_s ? UINT32_MAX : t;
}

/* Whether removals must leave tombstones: always but in a ring of one by configuration, where no
 * other copy of anything exists for them to beat (and a full store gets its room back). */
static bool tombstones(const struct dp_worker *w)
{
	return w->rt == NULL || !w->rt->solo;
}

/* What of a contact names its binding in the store (dht_binding_same_identity). */
static struct dht_binding_data identity_of(const struct dp_update_contact *c)
{
	return (struct dht_binding_data){
		.uri = c->uri, .instance = c->instance, .reg_id = c->reg_id};
}

/* Whether two contacts of one request, neither held, name the same binding. */
static bool same_new(const struct dp_update_contact *a, const struct dp_update_contact *b)
{
	struct dht_binding_data x = identity_of(a), y = identity_of(b);
	return dht_binding_same_identity(&x, &y);
}

/* Whether the contact names the binding @p d by a different identity than @p d's own. */
static bool identity_changes(const struct dp_update_contact *c, const struct dht_binding_data *d)
{
	struct dht_binding_data n = identity_of(c);
	return !dht_binding_same_identity(&n, d);
}

static bool same_contact(const struct dp_update_contact *c, struct dht_bytes stored)
{
	if (c->parsed_ok) {
		struct sip_uri u;
		if (sip_uri_parse(&u, stored.p, stored.len) == LC_OK) {
			return sip_uri_equal(&u, &c->parsed);
		}
	}
	return bytes_eq(c->uri, stored);
}

static int find_binding(const struct dp_bindings *live, const struct dp_update_contact *c)
{
	if (c->instance.len > 0) {
		for (unsigned i = 0; i < live->n; i++) {
			if (bytes_eq(live->d[i].instance, c->instance) &&
			    live->d[i].reg_id == c->reg_id) {
				return (int)i;
			}
		}
	}
	for (unsigned i = 0; i < live->n; i++) {
		if (same_contact(c, live->d[i].uri)) {
			return (int)i;
		}
	}
	return -1;
}

/* May a request with this Call-ID and CSeq change binding @p d? 0 yes, 1 already did, -1 stale. */
static int check_order(const struct dht_binding_data *d, struct dht_bytes call_id, uint32_t cseq,
		       uint32_t txn_tag)
{
	/* a client that sends no Call-ID (a plain LSP publish) asks for no ordering */
	if (call_id.len == 0 || !bytes_eq(d->call_id, call_id) || cseq > d->cseq) {
		return 0;
	}
	return cseq == d->cseq && d->txn_tag == txn_tag ? 1 : -1;
}

static uint32_t requested_expiry(const struct dp_cfg *cfg, const struct dp_update *u,
				 const struct dp_update_contact *c)
{
	int64_t e = c->expires >= 0 ? c->expires : u->expires;
	if (e < 0) {
		return cfg->default_expires_s;
	}
	return (uint32_t)LC_MIN(e, (int64_t)UINT32_MAX);
}

static enum dp_update_status plan(struct dp_worker *w, const struct dp_update *u,
				  const struct dp_bindings *live, struct step *steps)
{
	const struct dp_cfg *cfg = w->cfg;
	for (unsigned i = 0; i < u->n; i++) {
		const struct dp_update_contact *c = &u->c[i];
		struct step *s = &steps[i];
		uint32_t e = requested_expiry(cfg, u, c);
		if (e != 0 && e < cfg->min_expires_s && e < 3600) {
			return DP_UPDATE_TOO_BRIEF;
		}
		s->expires_s = LC_MIN(e, cfg->max_expires_s);
		s->match = find_binding(live, c);
		if (s->match >= 0) {
			int order =
				check_order(&live->d[s->match], c->call_id, c->cseq, u->txn_tag);
			if (order < 0) {
				return DP_UPDATE_STALE;
			}
			s->action = order > 0				      ? ACT_SAME
				    : s->expires_s == 0			      ? ACT_REMOVE
				    : identity_changes(c, &live->d[s->match]) ? ACT_REIDENT
									      : ACT_UPDATE;
		} else {
			s->action = s->expires_s == 0 ? ACT_TOMB : ACT_ADD;
		}
		for (unsigned k = 0; k < i; k++) {
			/* an earlier contact for the same binding: this later one overrides it (both
			 * would be written at one version, and the store keeps one record a binding) */
			bool same = s->match >= 0 ? steps[k].match == s->match
						  : steps[k].match < 0 && same_new(&u->c[k], c);
			if (same) {
				steps[k].action = ACT_NONE;
			}
		}
	}
	return DP_UPDATE_OK;
}

static enum dp_update_status check_limits(struct dp_worker *w, const struct dp_key *k,
					  const struct dp_update *u, const struct dp_bindings *live,
					  const struct step *steps, const struct dht_aor *aor)
{
	bool key_exists = aor != NULL;
	unsigned after = live->n, adds = 0, records = 0;
	size_t var = 0;
	for (unsigned i = 0; i < u->n; i++) {
		const struct dp_update_contact *c = &u->c[i];
		uint8_t a = steps[i].action;
		adds += a == ACT_ADD;
		after += a == ACT_ADD;
		after -= a == ACT_REMOVE;
		/* new records: additions, a changed identity's new record, tombstones of the unheld */
		records += a == ACT_ADD || a == ACT_REIDENT || a == ACT_TOMB;
		if (a == ACT_ADD || a == ACT_UPDATE || a == ACT_REIDENT || a == ACT_TOMB) {
			var += c->uri.len + c->call_id.len + c->instance.len + c->attrs.len +
			       u->path.len;
		}
	}
	uint32_t max = w->cfg->max_contacts ? w->cfg->max_contacts : DP_MAX_BINDINGS;
	if (adds > 0 && after > LC_MIN(max, DP_MAX_BINDINGS)) {
		return DP_UPDATE_TOO_MANY;
	}
	/* a key's records, tombstones included, fit one replication entry (the store's own bound):
	 * a key full of tombstones takes no new record until some expire (503 + Retry-After) */
	if (records > 0 && (aor != NULL ? dht_aor_count(aor) : 0) + records > DP_MAX_BINDINGS) {
		return DP_UPDATE_FULL;
	}
	size_t key_len = !key_exists && records > 0 ? k->len : 0;
	if (var > 0 && !dht_store_has_room(w->store, records, var, key_len)) {
		return DP_UPDATE_FULL;
	}
	return DP_UPDATE_OK;
}

static void fill(const struct dp_worker *w, const struct dp_update *u,
		 const struct dp_update_contact *c, uint32_t expires_s,
		 const struct dht_binding_data *old, uint64_t version, struct dht_binding_data *d)
{
	uint32_t now = w->now_s;
	*d = (struct dht_binding_data){
		.version = version,
		.writer = dp_writer(w),
		.uri = c->uri,
		.call_id = c->call_id,
		.instance = c->instance,
		.path = u->path,
		.attrs = c->attrs,
		.expires_at_s = now + expires_s < now ? UINT32_MAX : now + expires_s,
		.registered_at_s = old != NULL ? old->registered_at_s : now,
		.cseq = c->cseq,
		.reg_id = c->reg_id,
		.txn_tag = u->txn_tag,
		.q = c->q,
		.src = u->src,
	};
}

/* Write a record of an identity the key holds no live binding of: merged, so that the key's
 * tombstone of that identity (a contact removed before, now back; a retransmitted removal) is
 * rewritten, never doubled: a key holds one record per identity. Its version is this node's own
 * (dp_version_next: above the key's, which the clock bound held when it was merged), so only
 * DHT_VERSION_MAX bounds it; its times are the registrar's own. */
static int put_unheld(struct dp_worker *w, const struct dp_key *k, const struct dht_binding_data *d)
{
	struct dht_merge_bounds b = dht_merge_bounds_at(w->now_s, w->now_ms, w->cfg->max_expires_s);
	b.max_version = UINT64_MAX;
	int ret = dht_store_merge(w->store, k->id, k->aor, k->len, d, 1, &b);
	return ret == LC_ESTALE ? LC_OK : ret;
}

/* Remove a held binding: a tombstone at @p version, or (a ring of one) without a trace. */
static void remove_binding(struct dp_worker *w, struct dht_binding *b, uint64_t version)
{
	if (tombstones(w)) {
		dht_store_tombstone(w->store, b, version, dp_writer(w), dp_tombstone_until(w));
	} else {
		dht_store_remove(w->store, b);
	}
}

/* A tombstone of the contact's identity, for a binding not held here (it may be held elsewhere). */
static int tombstone_unheld(struct dp_worker *w, const struct dp_key *k, const struct dp_update *u,
			    const struct dp_update_contact *c, uint64_t version)
{
	struct dht_binding_data d;
	fill(w, u, c, 0, NULL, version, &d);
	d.kind = DHT_REC_REMOVED;
	d.expires_at_s = dp_tombstone_until(w);
	return put_unheld(w, k, &d);
}

/* Updates first, then additions, removals last: every write of the update has been checked to
 * fit, and removals turn records into tombstones in place. All records get @p version. */
static int apply(struct dp_worker *w, const struct dp_key *k, const struct dp_update *u,
		 struct dp_bindings *live, const struct step *steps, uint64_t version)
{
	static const uint8_t order[] = {ACT_UPDATE, ACT_REIDENT, ACT_ADD, ACT_REMOVE, ACT_TOMB};
	for (unsigned o = 0; o < LC_ARRAY_SIZE(order); o++) {
		for (unsigned i = 0; i < u->n; i++) {
			const struct step *s = &steps[i];
			if (s->action != order[o]) {
				continue;
			}
			struct dht_binding_data d;
			int ret = LC_OK;
			if (s->action == ACT_REMOVE) {
				remove_binding(w, live->b[s->match], version);
			} else if (s->action == ACT_TOMB) {
				ret = tombstones(w) ? tombstone_unheld(w, k, u, &u->c[i], version)
						    : LC_OK;
			} else if (s->action == ACT_UPDATE) {
				fill(w, u, &u->c[i], s->expires_s, &live->d[s->match], version, &d);
				ret = dht_store_update(w->store, live->b[s->match], &d);
			} else {
				const struct dht_binding_data *old =
					s->action == ACT_REIDENT ? &live->d[s->match] : NULL;
				fill(w, u, &u->c[i], s->expires_s, old, version, &d);
				ret = put_unheld(w, k, &d);
				if (ret == LC_OK && old != NULL) {
					remove_binding(w, live->b[s->match], version);
				}
			}
			if (ret != LC_OK) {
				return ret;
			}
		}
	}
	return LC_OK;
}

void dp_bindings_load(struct dp_worker *w, const struct dp_key *k, struct dp_bindings *out)
{
	struct dht_aor *aor = dht_store_find(w->store, k->id, k->aor, k->len);
	out->n = aor != NULL ? dht_aor_bindings(aor, w->now_s, out->b, DP_MAX_BINDINGS) : 0;
	for (unsigned i = 0; i < out->n; i++) {
		dht_binding_read(out->b[i], &out->d[i]);
	}
}

static enum dp_update_status remove_all(struct dp_worker *w, const struct dp_key *k,
					const struct dp_update *u, const struct dp_bindings *live,
					uint64_t version)
{
	for (unsigned i = 0; i < live->n; i++) {
		if (check_order(&live->d[i], u->call_id, u->cseq, u->txn_tag) < 0) {
			return DP_UPDATE_STALE;
		}
	}
	if (!tombstones(w)) {
		struct dht_aor *aor = dht_store_find(w->store, k->id, k->aor, k->len);
		if (aor != NULL) {
			dht_store_remove_aor(w->store, aor);
		}
		return DP_UPDATE_OK;
	}
	/* even with nothing held here: the bindings it removes may be held on the other side of a
	 * partition, and must lose to it when the sides meet */
	int ret = dht_store_clear(w->store, k->id, k->aor, k->len, version, dp_writer(w),
				  dp_tombstone_until(w));
	return ret == LC_OK ? DP_UPDATE_OK : ret == LC_EFULL ? DP_UPDATE_FULL : DP_UPDATE_INTERNAL;
}

enum dp_update_status dp_update_apply(struct dp_worker *w, const struct dp_key *k,
				      const struct dp_update *u, struct dp_bindings *out)
{
	if (!dp_repl_quorum_reachable(w, k)) {
		if (out != NULL) {
			dp_bindings_load(w, k, out);
		}
		return DP_UPDATE_NO_QUORUM;
	}
	struct dp_bindings live;
	struct dht_aor *aor = dht_store_find(w->store, k->id, k->aor, k->len);
	dp_bindings_load(w, k, &live);
	uint64_t version = dp_version_next(w, aor != NULL ? dht_aor_version(aor) : 0);
	enum dp_update_status st;
	if (u->remove_all) {
		st = remove_all(w, k, u, &live, version);
	} else {
		struct step steps[DP_UPDATE_MAX];
		st = plan(w, u, &live, steps);
		if (st == DP_UPDATE_OK) {
			st = check_limits(w, k, u, &live, steps, aor);
		}
		if (st == DP_UPDATE_OK && apply(w, k, u, &live, steps, version) != LC_OK) {
			st = DP_UPDATE_INTERNAL;
		}
	}
	if (out != NULL) {
		dp_bindings_load(w, k, out);
	}
	return st;
}
