/* SPDX-License-Identifier: MIT */
/*
 * What the LSP decoders (lsp_parse.c, lsp_ovl_parse.c) and builders (lsp_build.c,
 * lsp_ovl_build.c) share and nobody else needs: big-endian loads and stores, the wire form of an
 * address (docs/lsp.md §4.7), TLV framing, the record decoder both decoders use, and the
 * builder's internal appends. Kept inside dht/ and its unit tests.
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
/* a MEMBER: id, u32 incarnation, u8 state, then an address */
#define LSP_MEMBER_FIXED_LEN (LSP_NODE_ID_LEN + 4 + 1)

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

/* ---- decoding ---- */

/* Where a decoder failed: filled by lsp_fail(), copied into the message's err_off, err_tlv. */
struct lsp_fault {
	const uint8_t *base; /* message start, for offsets */
	uint32_t off;
	uint16_t tlv;
};

/** Record a failure at @p at (a TLV header, or a header field) of TLV @p type; returns @p err. */
static inline int lsp_fail(struct lsp_fault *f, int err, const uint8_t *at, uint16_t type)
{
	f->off = (uint32_t)(at - f->base);
	f->tlv = type;
	return err;
}

/**
 * Frame the TLV at @p p, which is before @p end (its container's end): its type and length.
 * @return LC_OK, LC_ELSP_TLV_SHORT (no whole header), LC_ELSP_TLV_OVERRUN (value runs past end).
 */
static inline int lsp_tlv_frame(const uint8_t *p, const uint8_t *end, uint16_t *type, uint16_t *len)
{
	if (end - p < DHT_LSP_TLV_HDR_LEN) {
		return LC_ELSP_TLV_SHORT;
	}
	*type = lsp_rd16(p);
	*len = lsp_rd16(p + 2);
	if (*len > end - p - DHT_LSP_TLV_HDR_LEN) {
		return LC_ELSP_TLV_OVERRUN;
	}
	return LC_OK;
}

/**
 * Read and check the header of the message @p p of @p len bytes into @p h (docs/lsp.md §10
 * order: length, magic, version, size, exact length, type); *hdr_ok once magic and length are
 * right. @p overlay: the type must be an overlay type, else a client type.
 * @return LC_OK or the LC_ELSP_* header code, with @p f set.
 */
int lsp_parse_hdr(struct lsp_fault *f, struct dht_lsp_hdr *h, bool *hdr_ok, const uint8_t *p,
		  size_t len, bool overlay);

/* Table slot of a TLV code: codes 0x00-0x3f as they are, 0x100-0x13f at 0x40-0x7f; LSP_NSLOTS
 * for any other code (unknown to v1 everywhere). A macro: it sizes and indexes static tables. */
#define LSP_NSLOTS 0x80
#define LSP_SLOT(c) ((c) < 0x40 ? (c) : (c) >= 0x100 && (c) < 0x140 ? (c)-0xc0 : LSP_NSLOTS)

/**
 * Decode the RECORD TLV at @p tlv (framed: its value lies inside the message) into @p r: the
 * record rules of docs/lsp.md §4.6 (CONTACT required, single-valued fields, q, the variable-byte
 * budget, unknown-here TLVs). @p in_entry allows the fields of an ENTRY's records
 * (DHT_LSP_P_ENTRY_ONLY: EXPIRES_AT, REGISTERED_AT, TXN_TAG, REC_VERSION, WRITER, REMOVED), which
 * are unknown in any other record, and their rules (§11.5: REMOVED 1 or 2, and 2 only with
 * CONTACT "*", else LC_ELSP_REMOVED).
 * @return LC_OK or the LC_ELSP_* code, with @p f set.
 */
int lsp_record_decode(struct lsp_fault *f, struct dht_lsp_record *r, const uint8_t *tlv,
		      bool in_entry);

/** Whether @p r's contact is "*", the one a DHT_LSP_REMOVED_ALL record must have. */
static inline bool lsp_contact_is_all(const struct dht_lsp_record *r)
{
	return r->contact.len == 1 && r->contact.p[0] == '*';
}

/** Decode a node value (16-byte id, address); false when its length or address is wrong. */
bool lsp_node_decode(struct dht_lsp_node *n, const uint8_t *v, size_t len);

/* ---- building ---- */

enum { LSP_ST_INIT, LSP_ST_BODY, LSP_ST_ENTRY, LSP_ST_DONE };

/** Set the builder's sticky error unless one is set. */
void lsp_set_err(struct dht_lsp_builder *b, int err);

/** A TLV header and room for its @p len value bytes; NULL (and the sticky error) when it does
 * not fit or the builder is not where a message-level TLV may go. */
uint8_t *lsp_put_hdr(struct dht_lsp_builder *b, uint16_t type, size_t len);

/** Append a node TLV (@p type: NODE, SENDER, PEER, PREDECESSOR, OWNER). */
void lsp_put_node_tlv(struct dht_lsp_builder *b, uint16_t type, const struct dht_lsp_node *n);

/** A BUCKETS TLV of @p n buckets (LC_ELSP_BUCKETS unless a power of two up to 4096): writes the
 * header and count and returns where the n x 12 bucket bytes go; NULL on failure. */
uint8_t *lsp_put_buckets_hdr(struct dht_lsp_builder *b, unsigned n);
