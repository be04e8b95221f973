/* SPDX-License-Identifier: MIT */
/*
 * What the LSP decoder (lsp_parse.c) and builder (lsp_build.c) share and nobody else needs:
 * big-endian loads and stores, the wire form of an address (docs/lsp.md §4.3), and the wire
 * numbers of address families. Kept inside dht/ and its unit tests.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dht/lsp.h"

/* Address family byte on the wire (not the host's AF_* values, which differ between systems). */
#define LSP_FAMILY_IPV4 4
#define LSP_FAMILY_IPV6 6
/* family, transport, port, then 4 or 16 address bytes */
#define LSP_ADDR4_LEN 8
#define LSP_ADDR6_LEN 20
#define LSP_NODE_ID_LEN 16
#define LSP_ERROR_DETAIL_LEN 8

static inline uint16_t lsp_rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t lsp_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t lsp_rd64(const uint8_t *p)
{
	return (uint64_t)lsp_rd32(p) << 32 | lsp_rd32(p + 4);
}

static inline void lsp_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void lsp_wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void lsp_wr64(uint8_t *p, uint64_t v)
{
	lsp_wr32(p, (uint32_t)(v >> 32));
	lsp_wr32(p + 4, (uint32_t)v);
}

/* A 128-bit id, most significant byte first. */
static inline dht_id_t lsp_rd_id(const uint8_t *p)
{
	return (dht_id_t)lsp_rd64(p) << 64 | lsp_rd64(p + 8);
}

static inline void lsp_wr_id(uint8_t *p, dht_id_t id)
{
	lsp_wr64(p, (uint64_t)(id >> 64));
	lsp_wr64(p + 8, (uint64_t)id);
}

/** Decode an address value; false when its family or length is wrong (LC_ELSP_SOURCE). */
bool dht_lsp_addr_decode(struct dht_addr *a, const uint8_t *v, size_t len);

/** Wire length of @p a, 0 when its family cannot be sent (LC_ELSP_SOURCE). */
size_t dht_lsp_addr_len(const struct dht_addr *a);

/** Encode @p a into @p out, which has dht_lsp_addr_len(a) bytes. */
void dht_lsp_addr_encode(uint8_t *out, const struct dht_addr *a);
