/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the LSP codec (dht/lsp.h, dht/lsp_ovl.h): both decoders, dht_lsp_parse()
 * (client messages) and dht_lsp_ovl_parse() (overlay and replication messages), on the datagram;
 * the error answer a node sends when it can answer; the encoders on whatever decoded.
 *
 * How it works: besides "does not crash under ASan/UBSan", each input is held to invariants that
 * a correct codec keeps for any bytes:
 *  - the return value is m.err, and every view (message and records) is absent or lies inside the
 *    input; counts stay within their limits; an error offset lies inside the input;
 *  - a request whose header was read gets an error answer that fits DHT_LSP_MAX_MSG and decodes
 *    as an answer with the same txn id and overlay id and the status dht_lsp_status_of() gives;
 *  - a message that decoded re-encodes, the encoding decodes to the same fields, and encoding
 *    that again gives the same bytes (the canonical form is a fixed point);
 *  - the builder never writes past its capacity: the same encode into a small buffer, sized from
 *    the input, leaves the guard after it untouched and either gives the same bytes or fails with
 *    LC_ENOSPACE because the message is longer than the buffer.
 *  - the two decoders agree on the header, and at most one of them accepts the type;
 *  - an overlay message's iterators give exactly the counted PEERs, MEMBERs, ENTRYs and records,
 *    all valid and inside the input; NODE_STATS decodes only in a NODE_INFO answer; and its
 *    decode, encode, decode round trip gives the same message item by item
 *    (tests/fuzz/lsp_equal.h).
 * The same function runs in every build through tests/fuzz/replay.c over tests/fuzz/corpus_lsp/.
 */
#include <string.h>
#include <sys/socket.h>

#include "common/lc_error.h"
#include "dht/lsp.h"
#include "dht/lsp_batch.h"
#include "dht/lsp_ovl.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/lsp_equal.h"

#define GUARD 64
#define GUARD_BYTE 0xa5

static struct dht_lsp_msg msg, again, ans;
static struct dht_lsp_ovl_msg omsg, oagain, oans;
static uint8_t out1[DHT_LSP_MAX_MSG], out2[DHT_LSP_MAX_MSG];
static uint8_t small[2048 + GUARD];

static void check_bytes(struct dht_bytes v, const char *b, size_t n, const char *what)
{
	fuzz_check_view((struct sip_str){v.p, v.len}, b, n, what);
}

static void check_record(const struct dht_lsp_record *r, const char *b, size_t n)
{
	check_bytes(r->contact, b, n, "record.contact");
	check_bytes(r->instance, b, n, "record.instance");
	check_bytes(r->path, b, n, "record.path");
	check_bytes(r->attrs, b, n, "record.attrs");
	check_bytes(r->call_id, b, n, "record.call_id");
	FUZZ_CHECK(r->contact.len > 0, "a record has a contact");
	FUZZ_CHECK(r->q >= -1 && r->q <= DHT_LSP_MAX_Q, "q in range");
	FUZZ_CHECK((r->removed != 0) == ((r->present & DHT_LSP_P_REMOVED) != 0) &&
			   r->removed <= DHT_LSP_REMOVED_ALL,
		   "REMOVED is 1 or 2 when present, 0 when absent");
	FUZZ_CHECK(r->removed != DHT_LSP_REMOVED_ALL ||
			   (r->contact.len == 1 && r->contact.p[0] == '*'),
		   "a REMOVED = 2 record has contact \"*\"");
}

static void check_views(const struct dht_lsp_msg *m, const char *b, size_t n)
{
	FUZZ_CHECK(m->buf.p == b && m->buf.len == n, "msg.buf is the input");
	FUZZ_CHECK(m->nrecords <= DHT_LSP_MAX_RECORDS, "record count within limit");
	FUZZ_CHECK(m->err_off <= n, "error offset inside the input");
	check_bytes(m->key, b, n, "key");
	check_bytes(m->call_id, b, n, "call_id");
	check_bytes(m->reply_ctx, b, n, "reply_ctx");
	check_bytes(m->reason, b, n, "reason");
	FUZZ_CHECK(m->key.len <= DHT_LSP_MAX_KEY, "key length");
	for (unsigned i = 0; i < m->nrecords; i++) {
		check_record(&m->records[i], b, n);
		FUZZ_CHECK(!(m->records[i].present & DHT_LSP_P_ENTRY_ONLY),
			   "no entry-only fields in a client record");
	}
}

static void check_error_answer(const struct dht_lsp_msg *m)
{
	size_t len = 0;
	int ret = dht_lsp_answer_error(out1, sizeof(out1), m, &len);
	FUZZ_CHECK(ret == LC_OK, "a request that can be answered gets an error answer");
	memset(&ans, 0, sizeof(ans));
	FUZZ_CHECK(dht_lsp_parse(&ans, out1, len) == LC_OK || !dht_lsp_type_known(m->hdr.type),
		   "the error answer decodes");
	FUZZ_CHECK(ans.hdr_ok && dht_lsp_is_answer(&ans), "the error answer is an answer");
	FUZZ_CHECK(ans.hdr.txn_id == m->hdr.txn_id && ans.hdr.overlay_id == m->hdr.overlay_id,
		   "the error answer echoes txn and overlay ids");
	if (ans.err == LC_OK) {
		FUZZ_CHECK(ans.status == (uint16_t)dht_lsp_status_of(m->err), "answer status");
		FUZZ_CHECK(ans.detail.err == m->err, "answer carries the error");
		FUZZ_CHECK(!dht_lsp_can_answer(&ans), "an answer is never answered");
	}
}

static void check_reencode(const struct dht_lsp_msg *m, const uint8_t *data, size_t size)
{
	size_t len1 = 0, len2 = 0;
	FUZZ_CHECK(dht_lsp_encode(m, out1, sizeof(out1), &len1) == LC_OK, "decoded re-encodes");
	FUZZ_CHECK(len1 <= size, "canonical form is never longer than the input");
	memset(&again, 0, sizeof(again));
	FUZZ_CHECK(dht_lsp_parse(&again, out1, len1) == LC_OK, "re-encoded decodes");
	FUZZ_CHECK(lsp_msg_eq(m, &again), "re-encoded decodes to the same fields");
	FUZZ_CHECK(dht_lsp_encode(&again, out2, sizeof(out2), &len2) == LC_OK, "encodes twice");
	FUZZ_CHECK(len1 == len2 && memcmp(out1, out2, len1) == 0,
		   "canonical form is a fixed point");

	size_t cap =
		size == 0 ? 0 : (data[0] | (size_t)data[size - 1] << 8) % (sizeof(small) - GUARD);
	size_t small_len = 0;
	memset(small, 0, cap);
	memset(small + cap, GUARD_BYTE, GUARD);
	int ret = dht_lsp_encode(m, small, cap, &small_len);
	for (size_t i = cap; i < cap + GUARD; i++) {
		FUZZ_CHECK(small[i] == GUARD_BYTE, "builder wrote past cap");
	}
	if (ret == LC_OK) {
		FUZZ_CHECK(small_len == len1 && memcmp(small, out1, len1) == 0,
			   "same calls give the same bytes");
	} else {
		FUZZ_CHECK(ret == LC_ENOSPACE && len1 > cap,
			   "only LC_ENOSPACE, and only when short");
	}
}

/* ---- the overlay decoder ---- */

static void check_ovl_items(const struct dht_lsp_ovl_msg *m, const char *b, size_t n)
{
	struct dht_lsp_iter it = dht_lsp_ovl_peers(m);
	struct dht_lsp_node node;
	unsigned count = 0;
	while (dht_lsp_ovl_next_peer(&it, &node)) {
		count++;
	}
	FUZZ_CHECK(count == m->npeers && count <= DHT_LSP_MAX_PEERS, "peers iterated = counted");
	it = dht_lsp_ovl_members(m);
	struct dht_lsp_member mb;
	for (count = 0; dht_lsp_ovl_next_member(&it, &mb); count++) {
		FUZZ_CHECK(mb.state == DHT_LSP_MEMBER_ALIVE || mb.state == DHT_LSP_MEMBER_DEAD,
			   "member state");
	}
	FUZZ_CHECK(count == m->nmembers && count <= DHT_LSP_MAX_MEMBERS,
		   "members iterated = counted");
	it = dht_lsp_ovl_entries(m);
	struct dht_lsp_entry e;
	struct dht_lsp_record r;
	for (count = 0; dht_lsp_ovl_next_entry(&it, &e); count++) {
		check_bytes(e.key, b, n, "entry.key");
		FUZZ_CHECK(e.key.len >= 1 && e.key.len <= DHT_LSP_MAX_KEY, "entry key length");
		unsigned nr = 0;
		for (; dht_lsp_ovl_next_record(&e.records, &r); nr++) {
			check_record(&r, b, n);
		}
		FUZZ_CHECK(nr == e.nrecords && nr <= DHT_LSP_MAX_ENTRY_RECORDS,
			   "records iterated = counted");
	}
	FUZZ_CHECK(count == m->nentries, "entries iterated = counted");
}

static void check_ovl_views(const struct dht_lsp_ovl_msg *m, const char *b, size_t n)
{
	FUZZ_CHECK(m->buf.p == b && m->buf.len == n, "ovl.buf is the input");
	FUZZ_CHECK(m->err_off <= n, "ovl error offset inside the input");
	check_bytes(m->key, b, n, "ovl.key");
	check_bytes(m->reply_ctx, b, n, "ovl.reply_ctx");
	check_bytes(m->reason, b, n, "ovl.reason");
	check_bytes(m->first_key, b, n, "ovl.first_key");
	fuzz_check_view((struct sip_str){(const char *)m->buckets.p, 12u * m->buckets.n}, b, n,
			"ovl.buckets");
	fuzz_check_view((struct sip_str){(const char *)m->bucket_set,
					 m->bucket_set ? DHT_LSP_BUCKET_SET_LEN : 0},
			b, n, "ovl.bucket_set");
	if (m->err == LC_OK) {
		check_ovl_items(m, b, n);
		FUZZ_CHECK(!(m->present & DHT_LSP_O_NODE_STATS) ||
				   (m->hdr.type == DHT_LSP_NODE_INFO && dht_lsp_ovl_is_answer(m)),
			   "NODE_STATS only in a NODE_INFO answer");
	} else {
		struct dht_lsp_iter it = dht_lsp_ovl_entries(m);
		struct dht_lsp_entry e;
		FUZZ_CHECK(!dht_lsp_ovl_next_entry(&it, &e), "no items from a failed message");
	}
}

static void check_ovl_error_answer(const struct dht_lsp_ovl_msg *m)
{
	static const struct dht_lsp_node self = {.id = 42,
						 .addr = {.family = AF_INET, .port = 7400}};
	size_t len = 0;
	int ret = dht_lsp_ovl_answer_error(out1, sizeof(out1), m, &self, &len);
	FUZZ_CHECK(ret == LC_OK, "an overlay request that can be answered gets an error answer");
	if (!dht_lsp_type_is_overlay(m->hdr.type)) {
		return; /* a client type the overlay decoder refused: not an overlay answer */
	}
	FUZZ_CHECK(dht_lsp_ovl_parse(&oans, out1, len) == LC_OK, "the error answer decodes");
	FUZZ_CHECK(dht_lsp_ovl_is_answer(&oans) && oans.hdr.txn_id == m->hdr.txn_id &&
			   oans.status == (uint16_t)dht_lsp_status_of(m->err) &&
			   oans.detail.err == m->err && oans.sender.id == 42,
		   "the error answer says what failed");
	FUZZ_CHECK(!dht_lsp_ovl_can_answer(&oans), "an answer is never answered");
}

static void check_ovl_reencode(const struct dht_lsp_ovl_msg *m, const uint8_t *data, size_t size)
{
	size_t len1 = 0, len2 = 0;
	FUZZ_CHECK(dht_lsp_ovl_encode(m, out1, sizeof(out1), &len1) == LC_OK, "ovl re-encodes");
	FUZZ_CHECK(len1 <= size, "ovl canonical form is never longer than the input");
	FUZZ_CHECK(dht_lsp_ovl_parse(&oagain, out1, len1) == LC_OK, "ovl re-encoded decodes");
	FUZZ_CHECK(lsp_ovl_msg_eq(m, &oagain), "ovl re-encoded decodes to the same message");
	FUZZ_CHECK(dht_lsp_ovl_encode(&oagain, out2, sizeof(out2), &len2) == LC_OK,
		   "ovl encodes twice");
	FUZZ_CHECK(len1 == len2 && memcmp(out1, out2, len1) == 0,
		   "ovl canonical form is a fixed point");
	size_t cap =
		size == 0 ? 0 : (data[0] | (size_t)data[size - 1] << 8) % (sizeof(small) - GUARD);
	size_t small_len = 0;
	memset(small + cap, GUARD_BYTE, GUARD);
	int ret = dht_lsp_ovl_encode(m, small, cap, &small_len);
	for (size_t i = cap; i < cap + GUARD; i++) {
		FUZZ_CHECK(small[i] == GUARD_BYTE, "ovl builder wrote past cap");
	}
	FUZZ_CHECK(ret == LC_OK ? small_len == len1 && memcmp(small, out1, len1) == 0
				: ret == LC_ENOSPACE && len1 > cap,
		   "ovl: same bytes, or LC_ENOSPACE only when short");
}

static void check_ovl(const uint8_t *data, size_t size)
{
	int ret = dht_lsp_ovl_parse(&omsg, data, size);
	FUZZ_CHECK(ret == omsg.err && ret <= 0, "ovl: return value is m.err");
	FUZZ_CHECK(omsg.hdr_ok == msg.hdr_ok, "both decoders read the header alike");
	FUZZ_CHECK(ret != LC_OK || msg.err == LC_ELSP_TYPE, "one decoder per type");
	FUZZ_CHECK(ret != LC_OK || dht_lsp_is_overlay_msg(data, size), "the header says overlay");
	(void)lc_strerror(ret);
	check_ovl_views(&omsg, (const char *)data, size);
	if (ret != LC_OK && dht_lsp_ovl_can_answer(&omsg)) {
		check_ovl_error_answer(&omsg);
	}
	if (ret == LC_OK) {
		check_ovl_reencode(&omsg, data, size);
	}
}

/* The overlay id a header names (0 when there is none), so that a BATCH's walk gets past it. */
static uint64_t lsp_rd64_be(const uint8_t *d, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 16; i < 24 && i < n; i++) {
		v = v << 8 | d[i];
	}
	return v;
}

/* A BATCH's walk (dht/lsp_batch.h) on any bytes: every message it yields lies inside the input,
 * after the header, one after another without gaps, each with a header and no BATCH of its own;
 * the walk ends at the input's end or with a reason. */
static void check_batch(const uint8_t *data, size_t size)
{
	struct dht_lsp_batch_iter it;
	if (dht_lsp_batch_open(&it, data, size, lsp_rd64_be(data, size)) != LC_OK) {
		return;
	}
	const uint8_t *m;
	size_t len, at = DHT_LSP_HDR_LEN;
	while (dht_lsp_batch_next(&it, &m, &len)) {
		FUZZ_CHECK(m == data + at && len >= DHT_LSP_HDR_LEN && at + len <= size,
			   "batch: a message inside the input, right after the one before");
		FUZZ_CHECK(!dht_lsp_is_batch(m, len), "batch: never nested");
		at += len;
	}
	FUZZ_CHECK(it.err != LC_OK || at == size, "batch: a clean walk ends at the input's end");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b = (const char *)data;
	int ret = dht_lsp_parse(&msg, data, size);
	FUZZ_CHECK(ret == msg.err, "return value is msg.err");
	FUZZ_CHECK(ret <= 0, "LC_OK or a negative code");
	(void)lc_strerror(ret);
	(void)dht_lsp_type_name(msg.hdr.type);
	(void)dht_lsp_status_text(msg.status);
	check_views(&msg, b, size);
	size_t need = 0;
	if (dht_lsp_frame_len(data, size, &need) == LC_OK) {
		FUZZ_CHECK(msg.hdr_ok, "a frame has a header");
		FUZZ_CHECK(ret != LC_OK || need == size, "a decoded message is one frame");
	}
	if (ret != LC_OK && dht_lsp_can_answer(&msg)) {
		check_error_answer(&msg);
	}
	if (ret == LC_OK) {
		check_reencode(&msg, data, size);
	}
	check_ovl(data, size);
	check_batch(data, size);
	return 0;
}
