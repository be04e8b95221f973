/* SPDX-License-Identifier: MIT */
/*
 * Outstanding requests of the overlay state machine (dht_chord_txn.h). A flat array scanned
 * linearly: it holds a few hundred entries and is touched once per message on the control
 * thread, so a hash would buy nothing measurable.
 */
#include "dht/dht_chord_txn.h"

#include <string.h>

#include "dht/lsp.h"

void dht_txns_init(struct dht_txns *t, uint64_t expiry_ms)
{
	memset(t->t, 0, sizeof(t->t));
	t->expiry_ms = expiry_ms;
}

static bool live(const struct dht_txns *t, const struct dht_txn *e, uint64_t now_ms)
{
	return e->txn != 0 && now_ms - e->sent_ms < t->expiry_ms;
}

void dht_txns_add(struct dht_txns *t, const struct dht_addr *to, uint8_t type, uint64_t txn,
		  uint64_t now_ms)
{
	struct dht_txn *slot = &t->t[0];
	for (unsigned i = 0; i < DHT_TXN_MAX; i++) {
		struct dht_txn *e = &t->t[i];
		if (!live(t, e, now_ms)) {
			slot = e;
			break;
		}
		if (e->sent_ms < slot->sent_ms) {
			slot = e; /* full so far: the oldest goes */
		}
	}
	*slot = (struct dht_txn){.txn = txn, .to = *to, .sent_ms = now_ms, .type = type};
}

/* Whether page @p a->page of @p a->pages is one @p e still takes; records it. */
static bool take_page(struct dht_txn *e, const struct dht_ovl *a)
{
	bool paged = a->type == DHT_LSP_JOIN || a->type == DHT_LSP_MEMBERSHIP;
	uint16_t pages = paged && a->pages > 1 ? a->pages : 1;
	uint16_t page = paged ? a->page : 0;
	if (e->pages == 0) {
		e->pages = pages;
	}
	if (pages != e->pages || page < e->next_page || page >= e->pages) {
		return false;
	}
	e->next_page = (uint16_t)(page + 1);
	return true;
}

bool dht_txns_take(struct dht_txns *t, const struct dht_ovl *a, uint32_t max_members,
		   uint64_t now_ms, uint32_t *budget)
{
	for (unsigned i = 0; i < DHT_TXN_MAX; i++) {
		struct dht_txn *e = &t->t[i];
		if (e->txn != a->txn || !live(t, e, now_ms) || e->type != a->type ||
		    !dht_addr_equal(&e->to, &a->from.addr)) {
			continue;
		}
		if (!take_page(e, a)) {
			return false;
		}
		uint32_t left = e->members < max_members ? max_members - e->members : 0;
		*budget = a->nmembers < left ? a->nmembers : left;
		e->members += *budget;
		if (e->next_page >= e->pages) {
			e->txn = 0; /* answered in full */
		}
		return true;
	}
	return false;
}

bool dht_txns_has(const struct dht_txns *t, const struct dht_addr *to, uint8_t type,
		  uint64_t now_ms)
{
	for (unsigned i = 0; i < DHT_TXN_MAX; i++) {
		const struct dht_txn *e = &t->t[i];
		if (live(t, e, now_ms) && e->type == type && dht_addr_equal(&e->to, to)) {
			return true;
		}
	}
	return false;
}
