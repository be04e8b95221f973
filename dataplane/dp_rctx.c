/* SPDX-License-Identifier: MIT */
/*
 * Building, sealing and opening reply contexts (dp_rctx.h).
 *
 * Layout (private to the node that made it, host byte order):
 *   0 u8 magic, 1 u8 kind, 2 u8 the forwarded request's LSP type, 3 u8 zero,
 *   4 u32 created (unix s), 8 u16 length of the forwarded request's KEY, 10 u16 zero,
 *   12 seal (DP_MAC_TAG_LEN bytes),
 *   28 client address (family u8, zero u8, port u16, 16 address bytes),
 *   48 the body: the SIP skeleton, or for LSP the client's txn id (u64), its hop limit (u8),
 *      whether it sent a reply context (u8), and that context.
 * The seal is dp_mac_tag(ctx_key, nonce = the forwarded request's txn id,
 *   bytes 0..11 || bytes 28..end || the forwarded request's KEY).
 * Everything but the seal itself is covered. The KEY's length sits in the covered header, so
 * no bytes can be moved between the context's end and the KEY without breaking the seal.
 */
#include <string.h>

#include "common/lc_error.h"
#include "dataplane/dp_rctx.h"

#define MAGIC 0xa8u /* 0xa7 was the XXH3-sealed layout: a context of the old kind never opens */
#define OFF_TYPE 2
#define OFF_CREATED 4
#define OFF_KEY_LEN 8
#define OFF_SEAL 12
#define OFF_CLIENT (OFF_SEAL + DP_MAC_TAG_LEN)

_Static_assert(OFF_CLIENT + 20 == DP_RCTX_HDR, "the reply context header adds up");

void dp_rctx_begin(struct dp_rctx *c, enum dp_rctx_kind kind, uint32_t now_s,
		   const struct dp_addr *client)
{
	memset(c->b, 0, DP_RCTX_HDR);
	c->b[0] = MAGIC;
	c->b[1] = (uint8_t)kind;
	memcpy(c->b + OFF_CREATED, &now_s, 4);
	c->b[OFF_CLIENT] = client->family;
	memcpy(c->b + OFF_CLIENT + 2, &client->port, 2);
	memcpy(c->b + OFF_CLIENT + 4, client->addr, 16);
	c->len = DP_RCTX_HDR;
	c->overflow = false;
}

void dp_rctx_put(struct dp_rctx *c, const void *p, size_t n)
{
	if (c->overflow || n > sizeof(c->b) - c->len) {
		c->overflow = true;
		return;
	}
	memcpy(c->b + c->len, p, n);
	c->len += n;
}

/* The pieces the seal covers, for a context of @p len bytes at @p b. */
static void sealed_pieces(const uint8_t *b, size_t len, struct dht_bytes key,
			  struct dp_mac_piece out[3])
{
	out[0] = (struct dp_mac_piece){b, OFF_SEAL};
	out[1] = (struct dp_mac_piece){b + OFF_CLIENT, len - OFF_CLIENT};
	out[2] = (struct dp_mac_piece){key.p, key.len};
}

int dp_rctx_seal(struct dp_rctx *c, const uint8_t key[DP_MAC_KEY_LEN],
		 const struct dp_rctx_bind *to)
{
	if (c->overflow) {
		return LC_ENOSPACE;
	}
	if (to->key.len > UINT16_MAX) {
		return LC_EINVAL;
	}
	uint16_t key_len = (uint16_t)to->key.len;
	c->b[OFF_TYPE] = to->type;
	memcpy(c->b + OFF_KEY_LEN, &key_len, 2);
	struct dp_mac_piece p[3];
	sealed_pieces(c->b, c->len, to->key, p);
	dp_mac_tag(key, to->txn, p, 3, c->b + OFF_SEAL);
	return LC_OK;
}

bool dp_rctx_open(const uint8_t key[DP_MAC_KEY_LEN], uint32_t now_s, struct dht_bytes ctx,
		  const struct dp_rctx_bind *answer, enum dp_rctx_kind *kind,
		  struct dp_addr *client, struct dht_bytes *body)
{
	const uint8_t *b = (const uint8_t *)ctx.p;
	if (ctx.len < DP_RCTX_HDR || b[0] != MAGIC || b[OFF_TYPE] != answer->type) {
		return false;
	}
	uint16_t key_len;
	uint32_t created;
	memcpy(&key_len, b + OFF_KEY_LEN, 2);
	memcpy(&created, b + OFF_CREATED, 4);
	if (key_len != answer->key.len || now_s - created > DP_RCTX_MAX_AGE_S) {
		return false; /* (a time ahead of now wraps to a large age) */
	}
	struct dp_mac_piece p[3];
	sealed_pieces(b, ctx.len, answer->key, p);
	if (!dp_mac_verify(key, answer->txn, p, 3, b + OFF_SEAL)) {
		return false;
	}
	*kind = (enum dp_rctx_kind)b[1];
	memset(client, 0, sizeof(*client));
	client->family = b[OFF_CLIENT];
	memcpy(&client->port, b + OFF_CLIENT + 2, 2);
	memcpy(client->addr, b + OFF_CLIENT + 4, 16);
	*body = (struct dht_bytes){ctx.p + DP_RCTX_HDR, ctx.len - DP_RCTX_HDR};
	return true;
}
