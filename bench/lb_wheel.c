/* SPDX-License-Identifier: MIT */
/*
 * The hashed timer wheel of lb_wheel.h.
 */
#include "bench/lb_wheel.h"
#include "common/lc_alloc.h"
#include "common/lc_error.h"

#define NBUCKETS 1024u
#define NIL UINT32_MAX

struct node {
	uint32_t next, prev;
	uint64_t due_ns;
	uint64_t tick; /* the bucket's tick: due_ns's, or the current one if that has passed */
	uint8_t armed;
};

/* Owner: one thread. */
struct lb_wheel {
	uint32_t cap;
	uint64_t cur; /* the first tick whose bucket may still hold due timers */
	uint32_t head[NBUCKETS];
	struct node nodes[];
};

int lb_wheel_new(struct lb_wheel **out, uint32_t cap, uint64_t now_ns)
{
	struct lb_wheel *w = lc_calloc(1, sizeof(*w) + (size_t)cap * sizeof(struct node));
	if (w == NULL) {
		return LC_ENOMEM;
	}
	w->cap = cap;
	w->cur = now_ns >> LB_WHEEL_TICK_SHIFT;
	for (unsigned b = 0; b < NBUCKETS; b++) {
		w->head[b] = NIL;
	}
	*out = w;
	return LC_OK;
}

void lb_wheel_free(struct lb_wheel *w)
{
	lc_free(w);
}

void lb_wheel_disarm(struct lb_wheel *w, uint32_t id)
{
	struct node *n = &w->nodes[id];
	if (!n->armed) {
		return;
	}
	if (n->prev != NIL) {
		w->nodes[n->prev].next = n->next;
	} else {
		w->head[n->tick % NBUCKETS] = n->next;
	}
	if (n->next != NIL) {
		w->nodes[n->next].prev = n->prev;
	}
	n->armed = 0;
}

void lb_wheel_arm(struct lb_wheel *w, uint32_t id, uint64_t due_ns)
{
	lb_wheel_disarm(w, id);
	struct node *n = &w->nodes[id];
	uint64_t tick = due_ns >> LB_WHEEL_TICK_SHIFT;
	n->due_ns = due_ns;
	n->tick = tick < w->cur ? w->cur : tick;
	uint32_t *head = &w->head[n->tick % NBUCKETS];
	n->prev = NIL;
	n->next = *head;
	if (*head != NIL) {
		w->nodes[*head].prev = id;
	}
	*head = id;
	n->armed = 1;
}

unsigned lb_wheel_expire(struct lb_wheel *w, uint64_t now_ns, uint32_t *out, unsigned max)
{
	uint64_t now = now_ns >> LB_WHEEL_TICK_SHIFT;
	unsigned got = 0;
	if (now >= w->cur + NBUCKETS) {
		w->cur = now - NBUCKETS + 1; /* one turn visits every bucket */
	}
	/* The current tick's bucket is scanned on every call and cur stays on it: a timer due later
	 * in this tick (or re-armed into it by the caller) must not fire before its time. */
	for (uint64_t t = w->cur; t <= now; t++) {
		uint32_t id = w->head[t % NBUCKETS];
		while (id != NIL) {
			uint32_t next = w->nodes[id].next;
			if (w->nodes[id].due_ns <= now_ns) {
				if (got == max) {
					w->cur = t;
					return got;
				}
				lb_wheel_disarm(w, id);
				out[got++] = id;
			}
			id = next;
		}
	}
	w->cur = now > w->cur ? now : w->cur;
	return got;
}
