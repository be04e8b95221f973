/* SPDX-License-Identifier: MIT */
/*
 * The LSP client codec against its specification (docs/lsp.md; the overlay messages are in
 * test_lsp_ovl.c): the test vectors of §9 decoded, checked
 * field by field and re-encoded to the same bytes (they live in tests/data/lsp/, written by an
 * independent encoder, make_vectors.py); every decode error with its code, offset and TLV; the
 * builder's limits and its never-past-the-buffer promise at every buffer size; and round trips of
 * random messages (encode, decode, same fields; encode again, same bytes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/lc_error.h"
#include "dht/lsp.h"
#include "tests/fuzz/lsp_equal.h"
#include "tests/tap.h"

#ifndef LSP_DATA_DIR
#error "LSP_DATA_DIR must name tests/data/lsp"
#endif

#define OVERLAY 0x70e77dba5136e2eaull /* dht_seed_of("p2psip.org") */
#define KEY "sip:alice@example.com"
#define GUARD 64

static struct dht_lsp_msg m, m2;
static uint8_t buf[DHT_LSP_MAX_MSG + GUARD], buf2[DHT_LSP_MAX_MSG];

static size_t load(const char *name, uint8_t *out, size_t cap)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.lsp", LSP_DATA_DIR, name);
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		ok(0, "open %s", path);
		return 0;
	}
	size_t n = fread(out, 1, cap, f);
	fclose(f);
	return n;
}

static bool bytes_is(struct dht_bytes b, const char *s)
{
	return b.len == strlen(s) && memcmp(b.p, s, b.len) == 0;
}

/* Decode @p name, then re-encode it: the canonical form must be the file's bytes. */
static size_t vector(const char *name, uint8_t *v, size_t cap)
{
	size_t n = load(name, v, cap), len = 0;
	is_int(dht_lsp_parse(&m, v, n), LC_OK, "%s decodes", name);
	is_int(dht_lsp_encode(&m, buf2, sizeof(buf2), &len), LC_OK, "%s re-encodes", name);
	ok(len == n && memcmp(buf2, v, n) == 0, "%s: re-encoded bytes are the vector", name);
	return n;
}

static void test_publish_vector(void)
{
	static uint8_t v[1024];
	size_t n = vector("publish-two-records", v, sizeof(v));
	ok(m.hdr.type == DHT_LSP_PUBLISH && m.hdr.flags == 0 && m.hdr.hop_limit == 8 &&
		   m.hdr.txn_id == 0x0123456789abcdefull && m.hdr.overlay_id == OVERLAY,
	   "publish header");
	ok(dht_seed_of("p2psip.org", 10) == OVERLAY, "overlay id is dht_seed_of(\"p2psip.org\")");
	ok(bytes_is(m.key, KEY) && bytes_is(m.call_id, "a84b4c76e66710@pc33") && m.cseq == 314159,
	   "publish key, Call-ID, CSeq");
	ok(m.reply_ctx.len == 4 && memcmp(m.reply_ctx.p, "\x0a\x0b\x0c\x0d", 4) == 0,
	   "publish reply context");
	const uint8_t ip[4] = {192, 0, 2, 10};
	ok(m.src.family == AF_INET && m.src.port == 5060 && m.src.transport == 1 &&
		   memcmp(m.src.addr, ip, 4) == 0,
	   "publish source 192.0.2.10:5060 UDP");
	is_int(m.nrecords, 2, "publish has two records");
	const struct dht_lsp_record *r0 = &m.records[0], *r1 = &m.records[1];
	uint32_t e = 0;
	ok(bytes_is(r0->contact, "sip:alice@192.0.2.10:5060") && r0->expires_s == 3600 &&
		   r0->q == 1000 && !(r0->present & DHT_LSP_P_INSTANCE),
	   "record 1");
	ok(bytes_is(r1->contact, "sip:alice@198.51.100.7;transport=tcp") && r1->expires_s == 600 &&
		   r1->q == 500 &&
		   bytes_is(r1->instance, "<urn:uuid:00000000-0000-1000-8000-000a95a0e128>") &&
		   r1->reg_id == 1,
	   "record 2");
	ok(bytes_is(dht_lsp_record_call_id(&m, r1), "a84b4c76e66710@pc33") &&
		   dht_lsp_record_cseq(&m, r1) == 314159 && dht_lsp_record_expires(&m, r1, &e) &&
		   e == 600,
	   "record defaults from the message");

	/* the same message through the typed appends, as a registrar writes it */
	struct dht_lsp_builder b;
	struct dht_lsp_hdr h = {.type = DHT_LSP_PUBLISH,
				.hop_limit = DHT_LSP_HOP_LIMIT_DEFAULT,
				.txn_id = 0x0123456789abcdefull,
				.overlay_id = OVERLAY};
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_build_hdr(&b, &h);
	dht_lsp_put_key(&b, KEY, strlen(KEY));
	dht_lsp_put_reply_ctx(&b, "\x0a\x0b\x0c\x0d", 4);
	dht_lsp_put_call_id(&b, "a84b4c76e66710@pc33", 19);
	dht_lsp_put_u32(&b, DHT_LSP_T_CSEQ, 314159);
	dht_lsp_put_source(&b, &m.src);
	dht_lsp_put_record(&b, r0);
	dht_lsp_put_record(&b, r1);
	size_t len = 0;
	is_int(dht_lsp_build_finish(&b, &len), LC_OK, "publish built with the appends");
	ok(len == n && memcmp(buf, v, n) == 0, "appends give the vector's bytes");
}

static void test_answer_vectors(void)
{
	static uint8_t v[1024];
	vector("lookup", v, sizeof(v));
	ok(m.hdr.type == DHT_LSP_LOOKUP && bytes_is(m.key, KEY) && m.present == DHT_LSP_P_KEY &&
		   dht_lsp_can_answer(&m),
	   "lookup: key only, answerable");

	/* the node's answer: answer_start echoes, records carry the remaining expiry */
	struct dht_lsp_record recs[2] = {
		{.present = DHT_LSP_P_CONTACT | DHT_LSP_P_EXPIRES | DHT_LSP_P_Q,
		 .contact = {"sip:alice@192.0.2.10:5060", 25},
		 .expires_s = 3540,
		 .q = 1000},
		{.present = DHT_LSP_P_CONTACT | DHT_LSP_P_EXPIRES | DHT_LSP_P_Q |
			    DHT_LSP_P_INSTANCE | DHT_LSP_P_REG_ID,
		 .contact = {"sip:alice@198.51.100.7;transport=tcp", 36},
		 .expires_s = 540,
		 .q = 500,
		 .instance = {"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>", 47},
		 .reg_id = 1}};
	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_answer_start(&b, &m, DHT_LSP_S_OK);
	dht_lsp_put_record(&b, &recs[0]);
	dht_lsp_put_record(&b, &recs[1]);
	size_t len = 0;
	is_int(dht_lsp_build_finish(&b, &len), LC_OK, "answer built");
	size_t n = vector("answer-lookup", v, sizeof(v));
	ok(len == n && memcmp(buf, v, n) == 0, "answer_start + records give answer-lookup");
	ok(dht_lsp_is_answer(&m) && !dht_lsp_can_answer(&m) && m.status == DHT_LSP_S_OK &&
		   m.nrecords == 2 && m.records[0].expires_s == 3540 && m.records[1].q == 500,
	   "answer-lookup fields");

	n = load("publish-unknown-mandatory", v, sizeof(v));
	is_int(dht_lsp_parse(&m, v, n), LC_ELSP_TLV_UNKNOWN, "unknown mandatory TLV refused");
	ok(m.err_tlv == 0x8100 && m.err_off == 57 && dht_lsp_can_answer(&m),
	   "error names TLV 0x8100 at offset 57, and can be answered");
	static uint8_t want[1024];
	size_t wn = load("answer-error", want, sizeof(want));
	is_int(dht_lsp_answer_error(buf, sizeof(buf), &m, &len), LC_OK, "error answer built");
	ok(len == wn && memcmp(buf, want, wn) == 0, "dht_lsp_answer_error gives answer-error");
	vector("answer-error", v, sizeof(v));
	ok(m.status == DHT_LSP_S_BAD_REQUEST && m.detail.err == LC_ELSP_TLV_UNKNOWN &&
		   m.detail.tlv == 0x8100 && m.detail.offset == 57 &&
		   bytes_is(m.reason, "Unknown mandatory TLV") && m.hdr.txn_id == 0x42,
	   "answer-error fields");

	vector("answer-interval-too-brief", v, sizeof(v));
	ok(m.status == DHT_LSP_S_INTERVAL_TOO_BRIEF && m.min_expires_s == 60 &&
		   (m.present & DHT_LSP_P_MIN_EXPIRES),
	   "interval-too-brief carries MIN_EXPIRES 60");
}

/* ---- hand-made messages for the error paths ---- */

static uint8_t raw[70000];
static size_t raw_len;

static void raw_start(uint8_t type, uint8_t flags)
{
	const uint8_t h[DHT_LSP_HDR_LEN] = {0x4c, 0x53, 1, type, flags, 8, 0, 0, 0, 0, 0, 0,
					    0,	  0,	0, 1,	 0,	0, 0, 0, 0, 0, 0, 7};
	memcpy(raw, h, sizeof(h));
	raw_len = DHT_LSP_HDR_LEN;
}

static void raw_tlv(uint16_t type, const void *v, size_t len)
{
	raw[raw_len] = (uint8_t)(type >> 8);
	raw[raw_len + 1] = (uint8_t)type;
	raw[raw_len + 2] = (uint8_t)(len >> 8);
	raw[raw_len + 3] = (uint8_t)len;
	if (len > 0) {
		memcpy(raw + raw_len + 4, v, len);
	}
	raw_len += 4 + len;
}

/* Patch the body length and decode. */
static int raw_parse(void)
{
	size_t body = raw_len - DHT_LSP_HDR_LEN;
	raw[6] = (uint8_t)(body >> 8);
	raw[7] = (uint8_t)body;
	return dht_lsp_parse(&m, raw, raw_len);
}

#define EXPECT(err, off, tlv, what)                                                                \
	do {                                                                                       \
		is_int(raw_parse(), (err), "%s: %s", what, lc_strerror_name(err));                 \
		ok(m.err_off == (off) && m.err_tlv == (tlv), "%s: offset %u tlv 0x%04x", what,     \
		   (unsigned)m.err_off, (unsigned)m.err_tlv);                                      \
	} while (0)

static void record_of(uint8_t *out, size_t *len, const char *contact)
{
	size_t n = strlen(contact);
	out[0] = 0x80;
	out[1] = 0x20;
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	memcpy(out + 4, contact, n);
	*len = 4 + n;
}

static void test_header_errors(void)
{
	raw_start(DHT_LSP_LOOKUP, 0);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	is_int(raw_parse(), LC_OK, "baseline lookup decodes");
	is_int(dht_lsp_parse(&m, raw, DHT_LSP_HDR_LEN - 1), LC_ELSP_SHORT, "23 bytes: short");
	ok(!m.hdr_ok && !dht_lsp_can_answer(&m), "short: no answer");
	is_int(dht_lsp_parse(&m, raw, 0), LC_ELSP_SHORT, "empty: short");
	raw[0] = 'X';
	is_int(dht_lsp_parse(&m, raw, raw_len), LC_ELSP_MAGIC, "bad magic");
	ok(!dht_lsp_can_answer(&m), "bad magic: not LSP, dropped");
	raw[0] = 0x4c;
	raw[2] = 2;
	is_int(dht_lsp_parse(&m, raw, raw_len), LC_ELSP_VERSION, "version 2");
	ok(dht_lsp_can_answer(&m) && dht_lsp_status_of(m.err) == DHT_LSP_S_VERSION,
	   "version 2: answered VERSION");
	raw[2] = 1;
	is_int(dht_lsp_parse(&m, raw, raw_len - 1), LC_ELSP_TRUNCATED, "one byte short");
	ok(dht_lsp_can_answer(&m), "truncated body: can answer");
	raw[raw_len] = 0;
	is_int(dht_lsp_parse(&m, raw, raw_len + 1), LC_ELSP_TRAILING, "one byte more");
	raw[6] = 0xff;
	raw[7] = 0xff;
	is_int(dht_lsp_parse(&m, raw, raw_len), LC_ELSP_TOO_BIG, "body length 65535: too big");
	is_int(dht_lsp_parse(&m, raw, DHT_LSP_MAX_MSG + 1), LC_ELSP_TOO_BIG, "datagram too big");
	raw_start(DHT_LSP_JOIN, 0);
	EXPECT(LC_ELSP_TYPE, 3, 0, "overlay type JOIN: not a client message");
	ok(dht_lsp_status_of(m.err) == DHT_LSP_S_UNKNOWN_TYPE && dht_lsp_can_answer(&m),
	   "JOIN answered UNKNOWN_TYPE by a node without the overlay");
	ok(dht_lsp_is_overlay_msg(raw, raw_len) && dht_lsp_type_is_overlay(DHT_LSP_JOIN),
	   "the header says: decode it with dht_lsp_ovl_parse()");
	raw_start(0x05, 0);
	EXPECT(LC_ELSP_TYPE, 3, 0, "unassigned type 0x05");
	ok(!dht_lsp_is_overlay_msg(raw, raw_len), "0x05 is not an overlay type either");
	raw_start(DHT_LSP_PING, DHT_LSP_F_ANSWER);
	EXPECT(LC_ELSP_MISSING_STATUS, 24, DHT_LSP_T_STATUS, "answer without status");
	ok(!dht_lsp_can_answer(&m), "an answer is never answered");
	raw_start(DHT_LSP_PING, 0x80);
	is_int(raw_parse(), LC_OK, "reserved flag ignored, empty PING decodes");

	size_t need = 0;
	raw_start(DHT_LSP_LOOKUP, 0);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	is_int(raw_parse(), LC_OK, "lookup for framing");
	is_int(dht_lsp_frame_len(raw, 10, &need), LC_ELSP_SHORT, "frame: need a header");
	ok(dht_lsp_frame_len(raw, DHT_LSP_HDR_LEN, &need) == LC_OK && need == raw_len,
	   "frame length from the header");
}

static void test_tlv_errors(void)
{
	uint8_t rec[600];
	size_t rn = 0;
	record_of(rec, &rn, "sip:a@b");

	raw_start(DHT_LSP_LOOKUP, 0);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	raw[raw_len++] = 0x80;
	raw[raw_len++] = 0x01;
	raw[raw_len++] = 0x00;
	EXPECT(LC_ELSP_TLV_SHORT, 49, 0, "3 bytes left: TLV header short");

	raw_start(DHT_LSP_LOOKUP, 0);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	raw_len -= 1; /* KEY says 21, 20 follow */
	EXPECT(LC_ELSP_TLV_OVERRUN, 24, DHT_LSP_T_KEY, "TLV value overruns the body");

	raw_start(DHT_LSP_LOOKUP, 0);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	EXPECT(LC_ELSP_TLV_DUP, 49, DHT_LSP_T_KEY, "KEY twice");

	raw_start(DHT_LSP_LOOKUP, 0);
	raw_tlv(0x8123, "x", 1);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	EXPECT(LC_ELSP_TLV_UNKNOWN, 24, 0x8123, "unknown mandatory TLV");

	raw_start(DHT_LSP_LOOKUP, 0);
	raw_tlv(0x0123, "x", 1);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	is_int(raw_parse(), LC_OK, "unknown optional TLV skipped");

	raw_start(DHT_LSP_LOOKUP, 0);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	raw_tlv(DHT_LSP_T_CALL_ID, "c", 1);
	EXPECT(LC_ELSP_TLV_UNKNOWN, 49, DHT_LSP_T_CALL_ID, "CALL_ID not defined in LOOKUP");

	static char big[DHT_LSP_MAX_KEY + 1];
	memset(big, 'k', sizeof(big));
	raw_start(DHT_LSP_LOOKUP, 0);
	raw_tlv(DHT_LSP_T_KEY, big, sizeof(big));
	EXPECT(LC_ELSP_KEY, 24, DHT_LSP_T_KEY, "513-byte key");
	raw_start(DHT_LSP_LOOKUP, 0);
	raw_tlv(DHT_LSP_T_KEY, big, DHT_LSP_MAX_KEY);
	is_int(raw_parse(), LC_OK, "512-byte key");
	raw_start(DHT_LSP_LOOKUP, 0);
	raw_tlv(DHT_LSP_T_KEY, "", 0);
	EXPECT(LC_ELSP_KEY, 24, DHT_LSP_T_KEY, "empty key");
	raw_start(DHT_LSP_LOOKUP, 0);
	raw_tlv(DHT_LSP_T_REPLY_CTX, "", 0);
	EXPECT(LC_ELSP_MISSING_KEY, 28, DHT_LSP_T_KEY, "lookup without key");

	raw_start(DHT_LSP_PUBLISH, 0);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	raw_tlv(DHT_LSP_T_CSEQ, "\0\0\1", 3);
	EXPECT(LC_ELSP_TLV_LENGTH, 49, DHT_LSP_T_CSEQ, "3-byte CSEQ");

	raw_start(DHT_LSP_PUBLISH, 0);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	raw_tlv(DHT_LSP_T_CALL_ID, big, DHT_LSP_MAX_CALL_ID + 1);
	EXPECT(LC_ELSP_TOO_LONG, 49, DHT_LSP_T_CALL_ID, "257-byte Call-ID");

	raw_start(DHT_LSP_PUBLISH, 0);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	raw_tlv(DHT_LSP_T_SOURCE, "\5\1\0\1\1\2\3\4", 8);
	EXPECT(LC_ELSP_SOURCE, 49, DHT_LSP_T_SOURCE, "address family 5");

	/* REPLY_TO: in forwarded PUBLISH, REMOVE, LOOKUP requests; not in answers */
	raw_start(DHT_LSP_LOOKUP, 0);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	raw_tlv(DHT_LSP_T_REPLY_TO, "\4\1\x1c\xe8\xc0\0\2\1", 8);
	const uint8_t ip1[4] = {192, 0, 2, 1};
	ok(raw_parse() == LC_OK && (m.present & DHT_LSP_P_REPLY_TO) &&
		   m.reply_to.family == AF_INET && m.reply_to.port == 7400 &&
		   m.reply_to.transport == 1 && memcmp(m.reply_to.addr, ip1, 4) == 0 &&
		   !(m.present & DHT_LSP_P_SOURCE),
	   "LOOKUP with REPLY_TO 192.0.2.1:7400");
	raw_tlv(DHT_LSP_T_REPLY_TO, "\4\1\x1c\xe8\xc0\0\2\1", 8);
	EXPECT(LC_ELSP_TLV_DUP, 61, DHT_LSP_T_REPLY_TO, "REPLY_TO twice");
	raw_start(DHT_LSP_PUBLISH, 0);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	raw_tlv(DHT_LSP_T_REPLY_TO, "\6\1\x1c\xe8\xc0\0\2\1", 8);
	EXPECT(LC_ELSP_SOURCE, 49, DHT_LSP_T_REPLY_TO, "REPLY_TO: IPv6 family with 8 bytes");
	raw_start(DHT_LSP_LOOKUP, DHT_LSP_F_ANSWER);
	raw_tlv(DHT_LSP_T_STATUS, "\0\xc8", 2);
	raw_tlv(DHT_LSP_T_REPLY_TO, "\4\1\x1c\xe8\xc0\0\2\1", 8);
	EXPECT(LC_ELSP_TLV_UNKNOWN, 30, DHT_LSP_T_REPLY_TO, "REPLY_TO in an answer");
	raw_start(DHT_LSP_PING, 0);
	raw_tlv(DHT_LSP_T_REPLY_TO, "\4\1\x1c\xe8\xc0\0\2\1", 8);
	EXPECT(LC_ELSP_TLV_UNKNOWN, 24, DHT_LSP_T_REPLY_TO, "REPLY_TO in a PING");

	/* the reply context of a forwarded SIP request: up to 4096 bytes */
	static char ctx[DHT_LSP_MAX_REPLY_CTX + 1];
	raw_start(DHT_LSP_LOOKUP, 0);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	raw_tlv(DHT_LSP_T_REPLY_CTX, ctx, DHT_LSP_MAX_REPLY_CTX);
	ok(raw_parse() == LC_OK && m.reply_ctx.len == 4096, "REPLY_CTX of 4096 bytes");
	raw_start(DHT_LSP_LOOKUP, 0);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	raw_tlv(DHT_LSP_T_REPLY_CTX, ctx, DHT_LSP_MAX_REPLY_CTX + 1);
	EXPECT(LC_ELSP_TOO_LONG, 49, DHT_LSP_T_REPLY_CTX, "REPLY_CTX of 4097 bytes");

	/* the fields of an ENTRY's records (DHT_LSP_P_ENTRY_ONLY) belong there only; each with a
	 * value of its right length */
	static const struct {
		uint16_t type;
		uint8_t len;
	} repl[] = {{DHT_LSP_T_EXPIRES_AT, 4}, {DHT_LSP_T_REGISTERED_AT, 4},
		    {DHT_LSP_T_TXN_TAG, 4},    {DHT_LSP_T_REC_VERSION, 8},
		    {DHT_LSP_T_WRITER, 8},     {DHT_LSP_T_REMOVED, 1}};
	int unknown = 0;
	for (int i = 0; i < 6; i++) {
		uint8_t rv[32];
		size_t rvn = 0, n = 4 + repl[i].len;
		record_of(rv, &rvn, "sip:a@b");
		rv[rvn] = (uint8_t)(repl[i].type >> 8);
		rv[rvn + 1] = (uint8_t)repl[i].type;
		rv[rvn + 2] = 0;
		rv[rvn + 3] = repl[i].len;
		memset(rv + rvn + 4, 0, repl[i].len);
		rv[rvn + n - 1] = 1;
		raw_start(DHT_LSP_PUBLISH, 0);
		raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
		raw_tlv(DHT_LSP_T_RECORD, rv, rvn + n);
		unknown += raw_parse() == LC_ELSP_TLV_UNKNOWN && m.err_tlv == repl[i].type &&
			   m.err_off == 53 + rvn;
		rv[rvn] &= 0x7f; /* optional: skipped */
		raw_start(DHT_LSP_PUBLISH, 0);
		raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
		raw_tlv(DHT_LSP_T_RECORD, rv, rvn + n);
		unknown += raw_parse() == LC_OK && m.records[0].present == DHT_LSP_P_CONTACT;
	}
	is_int(unknown, 12,
	       "EXPIRES_AT, REGISTERED_AT, TXN_TAG, REC_VERSION, WRITER, REMOVED in a client "
	       "record: unknown here");

	raw_start(DHT_LSP_PUBLISH, 0);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	for (int i = 0; i <= DHT_LSP_MAX_RECORDS; i++) {
		raw_tlv(DHT_LSP_T_RECORD, rec, rn);
	}
	EXPECT(LC_ELSP_TOO_MANY_RECORDS, 49 + DHT_LSP_MAX_RECORDS * (4 + rn), DHT_LSP_T_RECORD,
	       "33 records");
	ok(dht_lsp_status_of(m.err) == DHT_LSP_S_TOO_MANY_RECORDS, "answered TOO_MANY_RECORDS");

	uint8_t r2[32];
	memcpy(r2, "\x80\x21\x00\x02\x03\xe9", 6); /* Q 1001 */
	raw_start(DHT_LSP_PUBLISH, 0);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	raw_tlv(DHT_LSP_T_RECORD, r2, 6);
	EXPECT(LC_ELSP_Q, 53, DHT_LSP_T_Q, "q 1001 (offset inside the record)");

	memcpy(r2, "\x80\x05\x00\x04\x00\x00\x00\x3c", 8); /* EXPIRES 60, no CONTACT */
	raw_start(DHT_LSP_PUBLISH, 0);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	raw_tlv(DHT_LSP_T_RECORD, r2, 8);
	EXPECT(LC_ELSP_MISSING_CONTACT, 49, DHT_LSP_T_RECORD, "record without contact");

	memcpy(r2 + 8, rec, rn); /* a RECORD in a record: not defined there, mandatory */
	raw_start(DHT_LSP_PUBLISH, 0);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	uint8_t nest[64];
	memcpy(nest, rec, rn);
	nest[rn] = 0x80;
	nest[rn + 1] = 0x02;
	nest[rn + 2] = 0;
	nest[rn + 3] = (uint8_t)rn;
	memcpy(nest + rn + 4, rec, rn);
	raw_tlv(DHT_LSP_T_RECORD, nest, 2 * rn + 4);
	EXPECT(LC_ELSP_TLV_UNKNOWN, 53 + rn, DHT_LSP_T_RECORD, "records do not nest");

	raw_start(DHT_LSP_PUBLISH, 0);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	raw_tlv(DHT_LSP_T_RECORD, rec, rn + 1); /* record value overruns: inner TLV short */
	raw_len--;
	EXPECT(LC_ELSP_TLV_OVERRUN, 49, DHT_LSP_T_RECORD, "record overruns the body");

	raw_start(DHT_LSP_REMOVE, 0);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	EXPECT(LC_ELSP_REMOVE, 49, DHT_LSP_T_REMOVE_ALL, "remove of nothing");
	raw_tlv(DHT_LSP_T_REMOVE_ALL, NULL, 0);
	is_int(raw_parse(), LC_OK, "remove all");
	raw_tlv(DHT_LSP_T_RECORD, rec, rn);
	EXPECT(LC_ELSP_REMOVE, 57 + rn, DHT_LSP_T_REMOVE_ALL, "remove all and a contact");
	raw_start(DHT_LSP_REMOVE, 0);
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	raw_tlv(DHT_LSP_T_RECORD, rec, rn);
	ok(raw_parse() == LC_OK && m.nrecords == 1 && bytes_is(m.records[0].contact, "sip:a@b"),
	   "remove one contact");
}

static void test_builder_limits(void)
{
	struct dht_lsp_builder b;
	size_t len = 0;
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_put_key(&b, KEY, strlen(KEY));
	is_int(dht_lsp_build_finish(&b, &len), LC_ELSP_BUILD_STATE, "TLV before the header");

	struct dht_lsp_hdr h = {.type = DHT_LSP_PUBLISH, .overlay_id = OVERLAY};
	static char big[DHT_LSP_MAX_RECORD_VAR + 1];
	memset(big, 'x', sizeof(big));
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_build_hdr(&b, &h);
	dht_lsp_put_key(&b, big, DHT_LSP_MAX_KEY + 1);
	dht_lsp_put_key(&b, KEY, strlen(KEY));
	is_int(dht_lsp_build_finish(&b, &len), LC_ELSP_KEY, "over-long key refused, sticky");

	struct dht_lsp_record r = {
		.present = DHT_LSP_P_CONTACT, .contact = {"sip:a@b", 7}, .q = -1};
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_build_hdr(&b, &h);
	for (int i = 0; i <= DHT_LSP_MAX_RECORDS; i++) {
		dht_lsp_put_record(&b, &r);
	}
	is_int(dht_lsp_build_finish(&b, &len), LC_ELSP_TOO_MANY_RECORDS, "33rd record refused");

	struct dht_lsp_record bad = r;
	bad.present |= DHT_LSP_P_Q;
	bad.q = 1001;
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_build_hdr(&b, &h);
	dht_lsp_put_record(&b, &bad);
	is_int(dht_lsp_build_finish(&b, &len), LC_ELSP_Q, "q 1001 refused");
	bad = r;
	bad.present |= DHT_LSP_P_ATTRS;
	bad.attrs = (struct dht_bytes){big, DHT_LSP_MAX_RECORD_VAR};
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_build_hdr(&b, &h);
	dht_lsp_put_record(&b, &bad);
	is_int(dht_lsp_build_finish(&b, &len), LC_ELSP_TOO_LONG, "record over its byte budget");
	bad.present = 0;
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_build_hdr(&b, &h);
	dht_lsp_put_record(&b, &bad);
	is_int(dht_lsp_build_finish(&b, &len), LC_ELSP_MISSING_CONTACT, "record without contact");
	static const uint32_t entry_only[] = {DHT_LSP_P_EXPIRES_AT, DHT_LSP_P_REGISTERED_AT,
					      DHT_LSP_P_TXN_TAG,    DHT_LSP_P_REC_VERSION,
					      DHT_LSP_P_WRITER,	    DHT_LSP_P_REMOVED};
	int refused = 0;
	for (int i = 0; i < 6; i++) {
		bad = r;
		bad.present |= entry_only[i];
		bad.removed = DHT_LSP_REMOVED_CONTACT;
		dht_lsp_build_init(&b, buf, sizeof(buf));
		dht_lsp_build_hdr(&b, &h);
		dht_lsp_put_record(&b, &bad);
		refused += dht_lsp_build_finish(&b, &len) == LC_ELSP_TLV_UNKNOWN;
	}
	is_int(refused, 6,
	       "each of the six entry-only fields outside an entry refused, as the decoder would "
	       "refuse it");
	struct dht_addr none = {0};
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_build_hdr(&b, &h);
	dht_lsp_put_reply_to(&b, &none);
	is_int(dht_lsp_build_finish(&b, &len), LC_ELSP_SOURCE, "REPLY_TO without a family refused");
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_build_hdr(&b, &h);
	dht_lsp_put_source(&b, &none);
	is_int(dht_lsp_build_finish(&b, &len), LC_ELSP_SOURCE, "unknown address family refused");

	/* past the largest datagram with a buffer that could hold it: LC_ELSP_TOO_BIG */
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_build_hdr(&b, &h);
	for (int i = 0; i < 9; i++) {
		dht_lsp_put_tlv(&b, 0x0100, big, DHT_LSP_MAX_RECORD_VAR);
	}
	is_int(dht_lsp_build_finish(&b, &len), LC_ELSP_TOO_BIG, "message past 65507 bytes");
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_build_hdr(&b, &h);
	dht_lsp_build_hdr(&b, &h);
	is_int(dht_lsp_build_finish(&b, &len), LC_ELSP_BUILD_STATE, "two headers");
}

/* The publish vector built at every capacity: exact bytes or LC_ENOSPACE, never a byte past. */
static void test_builder_sizes(void)
{
	static uint8_t v[1024], out[1024 + GUARD];
	size_t n = load("publish-two-records", v, sizeof(v));
	is_int(dht_lsp_parse(&m, v, n), LC_OK, "publish vector decodes");
	int bad = 0;
	for (size_t cap = 0; cap <= n + 8; cap++) {
		memset(out, 0xa5, sizeof(out));
		size_t len = 0;
		int ret = dht_lsp_encode(&m, out, cap, &len);
		for (size_t i = cap; i < cap + GUARD; i++) {
			bad += out[i] != 0xa5;
		}
		if (cap >= n) {
			bad += ret != LC_OK || len != n || memcmp(out, v, n) != 0;
		} else {
			bad += ret != LC_ENOSPACE;
		}
	}
	is_int(bad, 0, "encode at every capacity 0..%zu: exact or LC_ENOSPACE, guard intact",
	       n + 8);
}

/* ---- random round trips ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (uint32_t)(rng % n) : 0;
}

static char pool[DHT_LSP_MAX_MSG];

static struct dht_bytes rnd_bytes(uint32_t min, uint32_t max)
{
	uint32_t len = min + rnd(max - min + 1), off = rnd(sizeof(pool) - len);
	return (struct dht_bytes){pool + off, len};
}

static void rnd_addr(struct dht_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = rnd(2) ? AF_INET : AF_INET6;
	a->transport = (uint8_t)rnd(7);
	a->port = (uint16_t)rnd(65536);
	for (int i = 0; i < (a->family == AF_INET ? 4 : 16); i++) {
		a->addr[i] = (uint8_t)rnd(256);
	}
}

static void rnd_record(struct dht_lsp_record *r)
{
	memset(r, 0, sizeof(*r));
	r->present = DHT_LSP_P_CONTACT | (rnd(1u << 11) << 17);
	r->present &= DHT_LSP_P_CONTACT | DHT_LSP_P_Q | DHT_LSP_P_ATTRS | DHT_LSP_P_INSTANCE |
		      DHT_LSP_P_REG_ID | DHT_LSP_P_PATH | DHT_LSP_P_AGE;
	r->present |= rnd(16) & (DHT_LSP_P_CALL_ID | DHT_LSP_P_CSEQ | DHT_LSP_P_EXPIRES);
	r->present |= rnd(2) ? DHT_LSP_P_SOURCE : 0;
	r->contact = rnd_bytes(1, 100);
	r->q = (r->present & DHT_LSP_P_Q) ? (int16_t)rnd(1001) : -1;
	if (r->present & DHT_LSP_P_ATTRS) {
		r->attrs = rnd_bytes(0, 60);
	}
	if (r->present & DHT_LSP_P_INSTANCE) {
		r->instance = rnd_bytes(0, 60);
	}
	if (r->present & DHT_LSP_P_PATH) {
		r->path = rnd_bytes(0, 60);
	}
	if (r->present & DHT_LSP_P_CALL_ID) {
		r->call_id = rnd_bytes(0, DHT_LSP_MAX_CALL_ID);
	}
	r->reg_id = (r->present & DHT_LSP_P_REG_ID) ? rnd(UINT32_MAX) : 0;
	r->age_s = (r->present & DHT_LSP_P_AGE) ? rnd(UINT32_MAX) : 0;
	r->cseq = (r->present & DHT_LSP_P_CSEQ) ? rnd(UINT32_MAX) : 0;
	r->expires_s = (r->present & DHT_LSP_P_EXPIRES) ? rnd(UINT32_MAX) : 0;
	if (r->present & DHT_LSP_P_SOURCE) {
		rnd_addr(&r->src);
	}
}

/* A random valid message of a random client type, request or answer. */
static void rnd_msg(struct dht_lsp_msg *x)
{
	memset(x, 0, sizeof(*x));
	static const uint8_t types[] = {DHT_LSP_PING, DHT_LSP_PUBLISH, DHT_LSP_REMOVE,
					DHT_LSP_LOOKUP};
	x->hdr = (struct dht_lsp_hdr){DHT_LSP_VERSION,
				      types[rnd(4)],
				      (uint8_t)rnd(2),
				      (uint8_t)rnd(256),
				      0,
				      ((uint64_t)rnd(UINT32_MAX) << 32) | rnd(UINT32_MAX),
				      OVERLAY};
	bool answer = x->hdr.flags & DHT_LSP_F_ANSWER;
	uint32_t f = rnd(1u << 15);
	if (answer) {
		f &= DHT_LSP_P_KEY | DHT_LSP_P_REPLY_CTX | DHT_LSP_P_REASON |
		     DHT_LSP_P_ERROR_DETAIL | DHT_LSP_P_MIN_EXPIRES | DHT_LSP_P_RETRY_AFTER |
		     DHT_LSP_P_NODE | DHT_LSP_P_NODE_ID | DHT_LSP_P_UPTIME;
		f |= DHT_LSP_P_STATUS;
	} else if (x->hdr.type == DHT_LSP_PING) {
		f = 0;
	} else if (x->hdr.type == DHT_LSP_LOOKUP) {
		f = (f & DHT_LSP_P_REPLY_CTX) | DHT_LSP_P_KEY | (rnd(2) ? DHT_LSP_P_REPLY_TO : 0);
	} else {
		f &= DHT_LSP_P_REPLY_CTX | DHT_LSP_P_CALL_ID | DHT_LSP_P_CSEQ | DHT_LSP_P_SOURCE |
		     (x->hdr.type == DHT_LSP_PUBLISH ? DHT_LSP_P_EXPIRES : 0);
		f |= DHT_LSP_P_KEY | (rnd(2) ? DHT_LSP_P_REPLY_TO : 0);
	}
	x->present = f;
	x->key = (f & DHT_LSP_P_KEY) ? rnd_bytes(1, DHT_LSP_MAX_KEY) : (struct dht_bytes){0};
	x->reply_ctx = (f & DHT_LSP_P_REPLY_CTX) ? rnd_bytes(0, DHT_LSP_MAX_REPLY_CTX)
						 : (struct dht_bytes){0};
	x->call_id =
		(f & DHT_LSP_P_CALL_ID) ? rnd_bytes(0, DHT_LSP_MAX_CALL_ID) : (struct dht_bytes){0};
	x->reason =
		(f & DHT_LSP_P_REASON) ? rnd_bytes(0, DHT_LSP_MAX_REASON) : (struct dht_bytes){0};
	x->cseq = (f & DHT_LSP_P_CSEQ) ? rnd(UINT32_MAX) : 0;
	x->expires_s = (f & DHT_LSP_P_EXPIRES) ? rnd(UINT32_MAX) : 0;
	x->min_expires_s = (f & DHT_LSP_P_MIN_EXPIRES) ? rnd(UINT32_MAX) : 0;
	x->retry_after_s = (f & DHT_LSP_P_RETRY_AFTER) ? rnd(UINT32_MAX) : 0;
	x->uptime_s = (f & DHT_LSP_P_UPTIME) ? rnd(UINT32_MAX) : 0;
	x->status = (f & DHT_LSP_P_STATUS) ? (uint16_t)rnd(65536) : 0;
	if (f & DHT_LSP_P_SOURCE) {
		rnd_addr(&x->src);
	}
	if (f & DHT_LSP_P_REPLY_TO) {
		rnd_addr(&x->reply_to);
	}
	if (f & DHT_LSP_P_NODE) {
		rnd_addr(&x->node.addr);
		x->node.id = ((dht_id_t)rnd(UINT32_MAX) << 96) | rnd(UINT32_MAX);
	}
	x->node_id = (f & DHT_LSP_P_NODE_ID) ? ((dht_id_t)rnd(UINT32_MAX) << 64) | 5 : 0;
	if (f & DHT_LSP_P_ERROR_DETAIL) {
		x->detail = (struct dht_lsp_error_detail){-(int)rnd(65536), (uint16_t)rnd(65536),
							  rnd(UINT32_MAX)};
	}
	if (x->hdr.type == DHT_LSP_PING && !answer) {
		return;
	}
	x->nrecords = rnd(DHT_LSP_MAX_RECORDS + 1);
	if (x->hdr.type == DHT_LSP_LOOKUP && !answer) {
		x->nrecords = 0;
	}
	if (x->hdr.type == DHT_LSP_REMOVE && !answer && x->nrecords == 0) {
		x->present |= DHT_LSP_P_REMOVE_ALL;
	}
	for (unsigned i = 0; i < x->nrecords; i++) {
		rnd_record(&x->records[i]);
	}
}

static void test_round_trips(void)
{
	static struct dht_lsp_msg x;
	for (size_t i = 0; i < sizeof(pool); i++) {
		pool[i] = (char)rnd(256);
	}
	int fails = 0, built = 0;
	for (int i = 0; i < 2000; i++) {
		rnd_msg(&x);
		size_t len = 0, len2 = 0;
		if (dht_lsp_encode(&x, buf, sizeof(buf), &len) != LC_OK) {
			fails++;
			continue;
		}
		built++;
		if (dht_lsp_parse(&m, buf, len) != LC_OK || !lsp_msg_eq(&x, &m) ||
		    dht_lsp_encode(&m, buf2, sizeof(buf2), &len2) != LC_OK || len2 != len ||
		    memcmp(buf, buf2, len) != 0) {
			if (fails++ == 0) {
				printf("# first failure at %d: err %s off %u tlv 0x%04x\n", i,
				       lc_strerror_name(m.err), (unsigned)m.err_off,
				       (unsigned)m.err_tlv);
			}
		}
	}
	is_int(fails, 0, "2000 random messages: encode, decode same fields, encode same bytes");
	ok(built == 2000, "all 2000 fit");
}

int main(void)
{
	test_publish_vector();
	test_answer_vectors();
	test_header_errors();
	test_tlv_errors();
	test_builder_limits();
	test_builder_sizes();
	test_round_trips();
	(void)m2;
	done_testing();
	return exit_status();
}
