/* SPDX-License-Identifier: MIT */
/*
 * Ring arithmetic: ids are points on a circle of 2^128 positions (DESIGN.md), and Chord reasons in
 * arcs of that circle. Unsigned __int128 wraps modulo 2^128 by itself, so every operation here is
 * plain subtraction and comparison; what needs care is the meaning of an arc whose ends are equal,
 * and this file fixes it once for the whole code base:
 *
 *   (a, b]  the points met going clockwise from a (excluded) to b (included).
 *           a == b: the whole ring. A ring of one node owns every key: successor(k) is that node,
 *           and k is in (self, self] for every k.
 *   (a, b)  the same without b. a == b: the whole ring except a (Chord's "between" for a node
 *           whose successor is itself).
 *
 * Everything is inline and branch-light: the fast path asks these questions per packet.
 */
#pragma once

#include <stdbool.h>

#include "dht/dht_key.h"

/** Clockwise distance from @p a to @p b: how far b lies after a (0 when equal). */
static inline dht_id_t dht_dist(dht_id_t a, dht_id_t b)
{
	return b - a;
}

/** Whether @p x lies in the arc (a, b]; a == b is the whole ring. */
static inline bool dht_in_oc(dht_id_t x, dht_id_t a, dht_id_t b)
{
	return a == b || (x != a && dht_dist(a, x) <= dht_dist(a, b));
}

/** Whether @p x lies in the arc (a, b); a == b is the whole ring but a. */
static inline bool dht_in_oo(dht_id_t x, dht_id_t a, dht_id_t b)
{
	if (a == b) {
		return x != a;
	}
	return x != a && dht_dist(a, x) < dht_dist(a, b);
}

/** The start of finger @p i (0..127) of node @p n: n + 2^i. */
static inline dht_id_t dht_finger_start(dht_id_t n, unsigned i)
{
	return n + ((dht_id_t)1 << i);
}
