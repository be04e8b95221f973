/* SPDX-License-Identifier: MIT */
/*
 * The BATCH container's codec (lsp_batch.h, docs/lsp.md §11.3.14): a header, then whole LSP
 * messages back to back. Building copies each message in and keeps the header's body length
 * right after every append, so a batch is sendable at any point; walking checks only the framing
 * (each message's decoder checks the rest, as for a message that came alone).
 */
#include "dht/lsp_batch.h"

#include <string.h>

#include "common/lc_error.h"
#include "dht/lsp.h"
#include "dht/lsp_internal.h"

size_t dht_lsp_batch_begin(uint8_t *buf, size_t cap, uint64_t overlay_id)
{
	if (cap < DHT_LSP_HDR_LEN) {
		return 0;
	}
	memset(buf, 0, DHT_LSP_HDR_LEN);
	lsp_wr16(buf, DHT_LSP_MAGIC);
	buf[2] = DHT_LSP_VERSION;
	buf[3] = DHT_LSP_BATCH;
	buf[5] = 1; /* hop limit: never forwarded */
	lsp_wr64(buf + 16, overlay_id);
	return DHT_LSP_HDR_LEN;
}

bool dht_lsp_batch_add(uint8_t *buf, size_t *len, size_t cap, const void *msg, size_t msg_len)
{
	if (*len < DHT_LSP_HDR_LEN || msg_len < DHT_LSP_HDR_LEN || msg_len > cap - *len ||
	    *len + msg_len - DHT_LSP_HDR_LEN > DHT_LSP_MAX_BODY) {
		return false;
	}
	memcpy(buf + *len, msg, msg_len);
	*len += msg_len;
	lsp_wr16(buf + 6, (uint16_t)(*len - DHT_LSP_HDR_LEN));
	return true;
}

int dht_lsp_batch_open(struct dht_lsp_batch_iter *it, const void *buf, size_t len,
		       uint64_t overlay_id)
{
	const uint8_t *p = buf;
	*it = (struct dht_lsp_batch_iter){.p = p, .len = len, .off = DHT_LSP_HDR_LEN};
	if (len < DHT_LSP_HDR_LEN) {
		return it->err = LC_ELSP_SHORT;
	}
	if (lsp_rd16(p) != DHT_LSP_MAGIC) {
		return it->err = LC_ELSP_MAGIC;
	}
	if (p[2] != DHT_LSP_VERSION) {
		return it->err = LC_ELSP_VERSION;
	}
	if (p[3] != DHT_LSP_BATCH || p[4] != 0) {
		return it->err =
			       LC_ELSP_TYPE; /* an ANSWER flag: no such thing as a batch's answer */
	}
	size_t body = lsp_rd16(p + 6);
	if (DHT_LSP_HDR_LEN + body > len) {
		return it->err = LC_ELSP_TRUNCATED;
	}
	if (DHT_LSP_HDR_LEN + body < len) {
		return it->err = LC_ELSP_TRAILING;
	}
	if (lsp_rd64(p + 16) != overlay_id) {
		return it->err = LC_ELSP_OVERLAY;
	}
	return LC_OK;
}

bool dht_lsp_batch_next(struct dht_lsp_batch_iter *it, const uint8_t **msg, size_t *msg_len)
{
	if (it->err != LC_OK || it->off == it->len) {
		return false;
	}
	const uint8_t *m = it->p + it->off;
	size_t left = it->len - it->off;
	if (left < DHT_LSP_HDR_LEN) {
		it->err = LC_ELSP_SHORT;
		return false;
	}
	if (lsp_rd16(m) != DHT_LSP_MAGIC) {
		it->err = LC_ELSP_MAGIC;
		return false;
	}
	if (m[3] == DHT_LSP_BATCH) {
		it->err = LC_ELSP_TYPE; /* never nested: a batch is one datagram's worth */
		return false;
	}
	size_t n = DHT_LSP_HDR_LEN + lsp_rd16(m + 6);
	if (n > left) {
		it->err = LC_ELSP_TRUNCATED;
		return false;
	}
	*msg = m;
	*msg_len = n;
	it->off += n;
	return true;
}
