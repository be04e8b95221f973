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
 */
#include <string.h>

#include "common/lc_error.h"
#include "dataplane/dp_update.h"

enum action {
	ACT_NONE = 0, /* removes a binding that does not exist, or overridden later */
	ACT_ADD,
	ACT_UPDATE,
	ACT_REMOVE,
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
			s->action = order > 0		? ACT_SAME
				    : s->expires_s == 0 ? ACT_REMOVE
							: ACT_UPDATE;
		} else {
			s->action = s->expires_s == 0 ? ACT_NONE : ACT_ADD;
		}
		for (unsigned k = 0; k < i; k++) {
			bool same = s->match >= 0
					    ? steps[k].match == s->match
					    : steps[k].match < 0 && bytes_eq(u->c[k].uri, c->uri);
			if (same) {
				steps[k].action = ACT_NONE;
			}
		}
	}
	return DP_UPDATE_OK;
}

static enum dp_update_status check_limits(struct dp_worker *w, const struct dp_update *u,
					  const struct dp_bindings *live, const struct step *steps,
					  bool key_exists)
{
	unsigned after = live->n, adds = 0;
	size_t var = 0;
	for (unsigned i = 0; i < u->n; i++) {
		const struct dp_update_contact *c = &u->c[i];
		if (steps[i].action == ACT_ADD) {
			after++;
			adds++;
		} else if (steps[i].action == ACT_REMOVE) {
			after--;
		}
		if (steps[i].action == ACT_ADD || steps[i].action == ACT_UPDATE) {
			var += c->uri.len + c->call_id.len + c->instance.len + c->attrs.len +
			       u->path.len;
		}
	}
	uint32_t max = w->cfg->max_contacts ? w->cfg->max_contacts : DP_MAX_BINDINGS;
	if (adds > 0 && after > LC_MIN(max, DP_MAX_BINDINGS)) {
		return DP_UPDATE_TOO_MANY;
	}
	size_t key_len = !key_exists && adds > 0 ? w->aor_len : 0;
	if (var > 0 && !dht_store_has_room(w->store, adds, var, key_len)) {
		return DP_UPDATE_FULL;
	}
	return DP_UPDATE_OK;
}

static void fill(const struct dp_worker *w, const struct dp_update *u,
		 const struct dp_update_contact *c, uint32_t expires_s,
		 const struct dht_binding_data *old, struct dht_binding_data *d)
{
	uint32_t now = w->now_s;
	*d = (struct dht_binding_data){
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

/* Updates first, then additions, removals last: a removal that empties the key never frees the
 * set an addition is about to use. */
static int apply(struct dp_worker *w, const struct dp_update *u, struct dp_bindings *live,
		 const struct step *steps)
{
	static const uint8_t order[] = {ACT_UPDATE, ACT_ADD, ACT_REMOVE};
	for (unsigned o = 0; o < LC_ARRAY_SIZE(order); o++) {
		for (unsigned i = 0; i < u->n; i++) {
			const struct step *s = &steps[i];
			if (s->action != order[o]) {
				continue;
			}
			struct dht_binding_data d;
			int ret = LC_OK;
			if (s->action == ACT_REMOVE) {
				dht_store_remove(w->store, live->b[s->match]);
			} else if (s->action == ACT_UPDATE) {
				fill(w, u, &u->c[i], s->expires_s, &live->d[s->match], &d);
				ret = dht_store_update(w->store, live->b[s->match], &d);
			} else {
				fill(w, u, &u->c[i], s->expires_s, NULL, &d);
				ret = dht_store_add(w->store, w->key, w->aor, w->aor_len, &d);
			}
			if (ret != LC_OK) {
				return ret;
			}
		}
	}
	return LC_OK;
}

void dp_bindings_load(struct dp_worker *w, struct dp_bindings *out)
{
	struct dht_aor *aor = dht_store_find(w->store, w->key, w->aor, w->aor_len);
	out->n = aor != NULL ? dht_aor_bindings(aor, w->now_s, out->b, DP_MAX_BINDINGS) : 0;
	for (unsigned i = 0; i < out->n; i++) {
		dht_binding_read(out->b[i], &out->d[i]);
	}
}

static enum dp_update_status remove_all(struct dp_worker *w, const struct dp_update *u,
					const struct dp_bindings *live)
{
	for (unsigned i = 0; i < live->n; i++) {
		if (check_order(&live->d[i], u->call_id, u->cseq, u->txn_tag) < 0) {
			return DP_UPDATE_STALE;
		}
	}
	struct dht_aor *aor = dht_store_find(w->store, w->key, w->aor, w->aor_len);
	if (aor != NULL) {
		dht_store_remove_aor(w->store, aor);
	}
	return DP_UPDATE_OK;
}

enum dp_update_status dp_update_apply(struct dp_worker *w, const struct dp_update *u,
				      struct dp_bindings *out)
{
	struct dp_bindings live;
	dp_bindings_load(w, &live);
	enum dp_update_status st;
	if (u->remove_all) {
		st = remove_all(w, u, &live);
	} else {
		struct step steps[DP_UPDATE_MAX];
		st = plan(w, u, &live, steps);
		if (st == DP_UPDATE_OK) {
			st = check_limits(w, u, &live, steps, live.n > 0);
		}
		if (st == DP_UPDATE_OK && apply(w, u, &live, steps) != LC_OK) {
			st = DP_UPDATE_INTERNAL;
		}
	}
	if (out != NULL) {
		dp_bindings_load(w, out);
	}
	return st;
}
