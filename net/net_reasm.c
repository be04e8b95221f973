/* SPDX-License-Identifier: MIT */
/*
 * IPv4 reassembly (net_reasm.h).
 */
#include "net/net_reasm.h"

#include <string.h>

#include "net/net_csum.h"

void net_reasm_init(struct net_reasm *t)
{
	t->live = 0;
	for (unsigned i = 0; i < NET_REASM_ENTRIES; i++) {
		t->e[i].used = false;
	}
}

static void release(struct net_reasm *t, struct net_reasm_entry *e)
{
	e->used = false;
	t->live--;
}

static struct net_reasm_entry *find(struct net_reasm *t, const struct net_frag *fr)
{
	struct net_reasm_entry *free_e = NULL;
	for (unsigned i = 0; i < NET_REASM_ENTRIES; i++) {
		struct net_reasm_entry *e = &t->e[i];
		if (!e->used) {
			free_e = free_e != NULL ? free_e : e;
		} else if (e->id == fr->id && e->src_ip == fr->src_ip && e->dst_ip == fr->dst_ip &&
			   e->proto == fr->proto) {
			return e;
		}
	}
	return free_e;
}

/* Whether any of blocks [first, last] is set; then set them all. Bounded by the datagram's
 * 8191 blocks. */
static bool mark(uint64_t *map, uint32_t first, uint32_t last)
{
	bool overlap = false;
	for (uint32_t b = first; b <= last; b++) {
		uint64_t bit = 1ull << (b % 64);
		overlap |= (map[b / 64] & bit) != 0;
		map[b / 64] |= bit;
	}
	return overlap;
}

/* Whether any block from @p first on is set (data past the end the last fragment fixed). */
static bool any_from(const uint64_t *map, uint32_t first)
{
	for (uint32_t b = first; b < (NET_REASM_MAX_PAYLOAD + 7) / 8; b++) {
		if (map[b / 64] & (1ull << (b % 64))) {
			return true;
		}
	}
	return false;
}

/* The frame of the complete datagram in e->frame: Ethernet header (kept), a fresh IPv4 header. */
static size_t finish(struct net_reasm_entry *e)
{
	uint8_t *ip = e->frame + NET_ETH_HLEN;
	ip[0] = 0x45;
	ip[1] = 0;
	net_wr16(ip + 2, (uint16_t)(NET_IP_HLEN + e->total));
	net_wr16(ip + 4, e->id);
	net_wr16(ip + 6, 0);
	ip[8] = NET_IP_TTL;
	ip[9] = e->proto;
	net_wr16(ip + 10, 0);
	net_wr32(ip + 12, e->src_ip);
	net_wr32(ip + 16, e->dst_ip);
	net_wr16(ip + 10, net_ip_csum(ip, NET_IP_HLEN));
	return NET_ETH_HLEN + NET_IP_HLEN + e->total;
}

static bool frag_ok(const struct net_frag *fr)
{
	return fr->len > 0 && fr->off + fr->len <= NET_REASM_MAX_PAYLOAD &&
	       (!fr->more || fr->len % 8 == 0) && fr->off % 8 == 0;
}

enum net_reasm_result net_reasm_add(struct net_reasm *t, const struct net_frag *fr, uint64_t now_ms,
				    const uint8_t **frame, size_t *len)
{
	struct net_reasm_entry *e = find(t, fr);
	bool known = e != NULL && e->used;
	if (!frag_ok(fr)) {
		if (known) {
			release(t, e);
		}
		return NET_REASM_BAD;
	}
	if (e == NULL) {
		return NET_REASM_FULL;
	}
	if (!known) {
		e->used = true;
		t->live++;
		e->proto = fr->proto;
		e->id = fr->id;
		e->src_ip = fr->src_ip;
		e->dst_ip = fr->dst_ip;
		e->since_ms = now_ms;
		e->have = 0;
		e->total = 0;
		memset(e->map, 0, sizeof(e->map));
		memcpy(e->frame, fr->eth, NET_ETH_HLEN);
	}
	uint32_t end = fr->off + fr->len;
	bool bad = (e->total != 0 && (end > e->total || (!fr->more && end != e->total))) ||
		   (!fr->more && any_from(e->map, (end + 7) / 8));
	if (bad || mark(e->map, fr->off / 8, (end - 1) / 8)) {
		release(t, e);
		return NET_REASM_BAD;
	}
	if (!fr->more) {
		e->total = end;
	}
	if (fr->off == 0) {
		memcpy(e->frame, fr->eth, NET_ETH_HLEN); /* the first fragment's, as Linux keeps */
	}
	memcpy(e->frame + NET_ETH_HLEN + NET_IP_HLEN + fr->off, fr->data, fr->len);
	e->have += fr->len;
	if (e->total == 0 || e->have != e->total) {
		return NET_REASM_HELD;
	}
	*len = finish(e);
	*frame = e->frame;
	release(t, e);
	return NET_REASM_DONE;
}

unsigned net_reasm_expire(struct net_reasm *t, uint64_t now_ms)
{
	unsigned n = 0;
	for (unsigned i = 0; i < NET_REASM_ENTRIES && t->live > 0; i++) {
		struct net_reasm_entry *e = &t->e[i];
		if (e->used && now_ms - e->since_ms > NET_REASM_TIMEOUT_MS) {
			release(t, e);
			n++;
		}
	}
	return n;
}
