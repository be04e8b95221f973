/* SPDX-License-Identifier: MIT */
/*
 * The store's hierarchical expiry wheel (see dht_wheel_internal.h for how it works).
 */
#include "dht/dht_wheel_internal.h"

#include <string.h>

static inline struct dht_wnode *node(struct dht_wheel *w, uint32_t i)
{
	if (i & DHT_WHEEL_HEAD) {
		return &w->head[i & ~DHT_WHEEL_HEAD];
	}
	return (struct dht_wnode *)(w->node0 + (size_t)i * w->stride);
}

static inline int list_empty(struct dht_wheel *w, uint32_t list)
{
	return w->head[list].next == (DHT_WHEEL_HEAD | list);
}

static void list_init(struct dht_wheel *w, uint32_t list)
{
	w->head[list].next = w->head[list].prev = DHT_WHEEL_HEAD | list;
}

static void list_append(struct dht_wheel *w, uint32_t list, uint32_t i)
{
	uint32_t h = DHT_WHEEL_HEAD | list;
	struct dht_wnode *n = node(w, i), *s = &w->head[list];
	n->next = h;
	n->prev = s->prev;
	node(w, s->prev)->next = i;
	s->prev = i;
}

/* Move every node of list @p from to the end of list @p to. O(1). */
static void list_splice(struct dht_wheel *w, uint32_t from, uint32_t to)
{
	if (list_empty(w, from)) {
		return;
	}
	struct dht_wnode *f = &w->head[from], *t = &w->head[to];
	uint32_t first = f->next, last = f->prev;
	node(w, first)->prev = t->prev;
	node(w, t->prev)->next = first;
	node(w, last)->next = DHT_WHEEL_HEAD | to;
	t->prev = last;
	list_init(w, from);
}

static inline void map_set(struct dht_wheel *w, unsigned level, unsigned slot)
{
	w->map[level][slot / 64] |= 1ull << (slot % 64);
}

static inline void map_clear(struct dht_wheel *w, unsigned level, unsigned slot)
{
	w->map[level][slot / 64] &= ~(1ull << (slot % 64));
}

/* The first non-empty slot >= @p from at @p level, or -1. */
static int map_find(const struct dht_wheel *w, unsigned level, unsigned from)
{
	if (from >= DHT_WHEEL_SLOTS) {
		return -1;
	}
	unsigned word = from / 64;
	uint64_t bits = w->map[level][word] & (~0ull << (from % 64));
	for (;;) {
		if (bits != 0) {
			return (int)(word * 64 + (unsigned)__builtin_ctzll(bits));
		}
		if (++word == DHT_WHEEL_SLOTS / 64) {
			return -1;
		}
		bits = w->map[level][word];
	}
}

void dht_wheel_init(struct dht_wheel *w, void *node0, size_t stride, uint32_t now)
{
	memset(w, 0, sizeof(*w));
	w->node0 = node0;
	w->stride = stride;
	w->cur = now;
	for (uint32_t l = 0; l < DHT_WHEEL_LISTS; l++) {
		list_init(w, l);
	}
}

void dht_wheel_add(struct dht_wheel *w, uint32_t i)
{
	uint64_t e = node(w, i)->exp;
	if (e < w->cur) {
		list_append(w, DHT_WHEEL_DUE, i);
		return;
	}
	uint64_t x = e ^ w->cur;
	unsigned level = x == 0 ? 0 : (63u - (unsigned)__builtin_clzll(x)) / 8;
	unsigned slot = (unsigned)(e >> (8 * level)) & 0xff;
	list_append(w, level * DHT_WHEEL_SLOTS + slot, i);
	map_set(w, level, slot);
}

void dht_wheel_del(struct dht_wheel *w, uint32_t i)
{
	struct dht_wnode *n = node(w, i);
	uint32_t next = n->next, prev = n->prev;
	node(w, prev)->next = next;
	node(w, next)->prev = prev;
	if (next == prev && (next & DHT_WHEEL_HEAD)) {
		/* it was the only node of its list: clear the slot's bit */
		uint32_t list = next & ~DHT_WHEEL_HEAD;
		if (list < DHT_WHEEL_DUE) {
			map_clear(w, list / DHT_WHEEL_SLOTS, list % DHT_WHEEL_SLOTS);
		}
	}
	n->next = n->prev = 0;
}

/* Move a slot's list onto another list and clear its bit. */
static void take_slot(struct dht_wheel *w, unsigned level, unsigned slot, uint32_t to)
{
	list_splice(w, level * DHT_WHEEL_SLOTS + slot, to);
	map_clear(w, level, slot);
}

/* Set cur to @p to (> cur); a level whose block changes hands its new block's slot to pending. */
static void set_cur(struct dht_wheel *w, uint64_t to)
{
	uint64_t from = w->cur;
	w->cur = to;
	for (unsigned level = 1; level < DHT_WHEEL_LEVELS; level++) {
		if (((from ^ to) >> (8 * level)) != 0) {
			take_slot(w, level, (unsigned)(to >> (8 * level)) & 0xff,
				  DHT_WHEEL_PENDING);
		}
	}
}

/*
 * One O(1) step of advancing toward @p now (due and pending are empty). Returns 0 when cur has
 * passed now with nothing more due, 1 when it made progress (filled due or pending).
 */
static int advance(struct dht_wheel *w, uint64_t now)
{
	if (w->cur > now) {
		return 0;
	}
	int i = map_find(w, 0, (unsigned)w->cur & 0xff);
	if (i >= 0) {
		uint64_t t = (w->cur & ~0xffull) | (unsigned)i;
		if (t > now) {
			set_cur(w, now + 1);
			return 0;
		}
		take_slot(w, 0, (unsigned)i, DHT_WHEEL_DUE);
		set_cur(w, t + 1);
		return 1;
	}
	for (unsigned level = 1; level < DHT_WHEEL_LEVELS; level++) {
		unsigned shift = 8 * level;
		int j = map_find(w, level, ((unsigned)(w->cur >> shift) & 0xff) + 1);
		if (j < 0) {
			continue;
		}
		uint64_t t = (w->cur & ~((1ull << (shift + 8)) - 1)) | ((uint64_t)j << shift);
		if (t > now) {
			set_cur(w, now + 1);
			return 0;
		}
		set_cur(w, t); /* hands slot j of this level to pending */
		return 1;
	}
	set_cur(w, now + 1);
	return 0;
}

uint32_t dht_wheel_pop(struct dht_wheel *w, uint32_t now, unsigned *steps)
{
	while (*steps > 0) {
		(*steps)--;
		if (!list_empty(w, DHT_WHEEL_DUE)) {
			uint32_t i = w->head[DHT_WHEEL_DUE].next;
			if (node(w, i)->exp > now) {
				return 0; /* only when now went backwards: never reap early */
			}
			dht_wheel_del(w, i);
			return i;
		}
		if (!list_empty(w, DHT_WHEEL_PENDING)) {
			uint32_t i = w->head[DHT_WHEEL_PENDING].next;
			dht_wheel_del(w, i);
			dht_wheel_add(w, i);
			continue;
		}
		if (!advance(w, now)) {
			return 0;
		}
	}
	return 0;
}
