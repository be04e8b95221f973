/* SPDX-License-Identifier: MIT */
/*
 * The overlay and replication codec (dht/lsp_ovl.h) against docs/lsp.md §11: the test vectors
 * of §11.7 (tests/data/lsp/, written by the independent encoder make_vectors.py) decoded, checked
 * field by field through the iterators, re-encoded to the same bytes and built again with the
 * typed appends; which decoder takes which type; every decode error with its code, offset and
 * TLV; truncation of every vector at every byte; the builder's ENTRY container, its limits and
 * mark/rollback streaming of entries into frames; the size promises of the limits; and random
 * messages of every type round-tripped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/lc_error.h"
#include "dht/lsp.h"
#include "dht/lsp_ovl.h"
#include "tests/fuzz/lsp_equal.h"
#include "tests/tap.h"

#ifndef LSP_DATA_DIR
#error "LSP_DATA_DIR must name tests/data/lsp"
#endif

#define OVERLAY 0x70e77dba5136e2eaull /* dht_seed_of("p2psip.org") */
#define KEY "sip:alice@example.com"
#define GUARD 64

#define ID(hi, lo) ((dht_id_t)(hi) << 64 | (lo))
static const dht_id_t N1 = ID(0x0a1b2c3d4e5f6071ull, 0x8293a4b5c6d7e8f9ull);
static const dht_id_t N2 = ID(0x5a6b7c8d9eafb0c1ull, 0xd2e3f405162738a9ull);
static const dht_id_t N3 = ID(0xb1c2d3e4f5061728ull, 0x394a5b6c7d8e9fa0ull);
#define VERSION ((1700000000000ull << 12) | 1)

static struct dht_lsp_ovl_msg m, m2;
static struct dht_lsp_msg cm;
static uint8_t buf[DHT_LSP_MAX_MSG + GUARD], buf2[DHT_LSP_MAX_MSG + GUARD];

static struct dht_lsp_node node4(dht_id_t id, uint8_t last)
{
	struct dht_lsp_node n = {.id = id};
	n.addr.family = AF_INET;
	n.addr.port = 7400;
	memcpy(n.addr.addr, (uint8_t[]){192, 0, 2, last}, 4);
	return n;
}

static struct dht_lsp_node node6(dht_id_t id, uint8_t last)
{
	struct dht_lsp_node n = {.id = id};
	n.addr.family = AF_INET6;
	n.addr.port = 7400;
	memcpy(n.addr.addr, (uint8_t[]){0x20, 0x01, 0x0d, 0xb8}, 4);
	n.addr.addr[15] = last;
	return n;
}

static bool node_is(const struct dht_lsp_node *n, const struct dht_lsp_node *want)
{
	return n->id == want->id && memcmp(&n->addr, &want->addr, sizeof(n->addr)) == 0;
}

static bool bytes_is(struct dht_bytes b, const char *s)
{
	return b.len == strlen(s) && memcmp(b.p, s, b.len) == 0;
}

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

/* Decode @p name into m, re-encode it: the canonical form must be the file's bytes. */
static size_t vector(const char *name, uint8_t *v, size_t cap)
{
	size_t n = load(name, v, cap), len = 0;
	ok(dht_lsp_is_overlay_msg(v, n), "%s: the header says overlay", name);
	is_int(dht_lsp_ovl_parse(&m, v, n), LC_OK, "%s decodes", name);
	is_int(dht_lsp_ovl_encode(&m, buf2, sizeof(buf2), &len), LC_OK, "%s re-encodes", name);
	ok(len == n && memcmp(buf2, v, n) == 0, "%s: re-encoded bytes are the vector", name);
	is_int(dht_lsp_parse(&cm, v, n), LC_ELSP_TYPE, "%s: the client decoder refuses it", name);
	return n;
}

/* Finish builder @p b and compare with vector bytes @p v of @p n bytes. */
static void built_is(struct dht_lsp_builder *b, const uint8_t *v, size_t n, const char *what)
{
	size_t len = 0;
	int ret = dht_lsp_build_finish(b, &len);
	is_int(ret, LC_OK, "%s: built", what);
	ok(ret == LC_OK && len == n && memcmp(b->buf, v, n) == 0, "%s: appends give its bytes",
	   what);
}

static struct dht_lsp_hdr answer_hdr(unsigned type, uint64_t txn)
{
	return (struct dht_lsp_hdr){.type = (uint8_t)type,
				    .flags = DHT_LSP_F_ANSWER,
				    .hop_limit = DHT_LSP_HOP_LIMIT_OVERLAY,
				    .txn_id = txn,
				    .overlay_id = OVERLAY};
}

static void test_join_vector(void)
{
	static uint8_t v[2048];
	size_t n = vector("join-answer", v, sizeof(v));
	struct dht_lsp_node a1 = node4(N1, 1), a2 = node4(N2, 2), a3 = node6(N3, 3);
	ok(m.hdr.type == DHT_LSP_JOIN && dht_lsp_ovl_is_answer(&m) && m.hdr.hop_limit == 1 &&
		   m.hdr.txn_id == 0x4a4f494e00000001ull && !dht_lsp_ovl_can_answer(&m),
	   "join answer header");
	ok(m.status == 200 && node_is(&m.sender, &a1) && m.ring_size == 3 &&
		   m.digest.hash == 0x9e3779b97f4a7c15ull && m.digest.count == 3 &&
		   m.page.index == 0 && m.page.count == 1 && m.nmembers == 3,
	   "join answer fields");
	struct dht_lsp_member want[3] = {{N1, a1.addr, 1, DHT_LSP_MEMBER_ALIVE},
					 {N2, a2.addr, 4, DHT_LSP_MEMBER_ALIVE},
					 {N3, a3.addr, 2, DHT_LSP_MEMBER_DEAD}};
	struct dht_lsp_iter it = dht_lsp_ovl_members(&m);
	struct dht_lsp_member mb;
	int i = 0, good = 0;
	while (dht_lsp_ovl_next_member(&it, &mb)) {
		good += i < 3 && lsp_member_eq(&mb, &want[i]);
		i++;
	}
	ok(i == 3 && good == 3, "three members, in order, with id, incarnation, state, address");
	it = dht_lsp_ovl_peers(&m);
	struct dht_lsp_node p;
	ok(!dht_lsp_ovl_next_peer(&it, &p), "no peers");

	/* the node's side: answer_start, then the fields */
	static uint8_t req[64];
	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, req, sizeof(req));
	dht_lsp_ovl_request_start(&b, DHT_LSP_JOIN, 0x4a4f494e00000001ull, OVERLAY, &a3);
	size_t rl = 0;
	is_int(dht_lsp_build_finish(&b, &rl), LC_OK, "JOIN request built");
	is_int(dht_lsp_ovl_parse(&m2, req, rl), LC_OK, "JOIN request decodes");
	ok(dht_lsp_ovl_can_answer(&m2) && node_is(&m2.sender, &a3) && m2.hdr.hop_limit == 1,
	   "JOIN request: sender, hop limit 1, answerable");
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_ovl_answer_start(&b, &m2, &a1, DHT_LSP_S_OK);
	dht_lsp_put_ring_size(&b, 3);
	dht_lsp_put_view_digest(&b, &(struct dht_lsp_digest){0x9e3779b97f4a7c15ull, 3});
	dht_lsp_put_page(&b, &(struct dht_lsp_page){0, 1});
	for (int k = 0; k < 3; k++) {
		dht_lsp_put_member(&b, &want[k]);
	}
	built_is(&b, v, n, "join-answer");
}

static void test_predecessor_vector(void)
{
	static uint8_t v[2048];
	size_t n = vector("get-predecessor-answer", v, sizeof(v));
	struct dht_lsp_node a1 = node4(N1, 1), a2 = node4(N2, 2), a3 = node6(N3, 3);
	ok(m.hdr.type == DHT_LSP_GET_PREDECESSOR && m.status == 200 && node_is(&m.sender, &a2) &&
		   (m.present & DHT_LSP_O_PREDECESSOR) && node_is(&m.predecessor, &a1) &&
		   m.npeers == 2,
	   "get-predecessor answer: sender N2, predecessor N1, two peers");
	struct dht_lsp_iter it = dht_lsp_ovl_peers(&m);
	struct dht_lsp_node p1, p2, p3;
	ok(dht_lsp_ovl_next_peer(&it, &p1) && node_is(&p1, &a3) &&
		   dht_lsp_ovl_next_peer(&it, &p2) && node_is(&p2, &a1) &&
		   !dht_lsp_ovl_next_peer(&it, &p3),
	   "successor list N3, N1 in order");

	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, buf, sizeof(buf));
	struct dht_lsp_hdr h = answer_hdr(DHT_LSP_GET_PREDECESSOR, 0x5354414200000007ull);
	dht_lsp_build_hdr(&b, &h);
	dht_lsp_put_status(&b, 200);
	dht_lsp_put_sender(&b, &a2);
	dht_lsp_put_predecessor(&b, &a1);
	dht_lsp_put_peer(&b, &a3);
	dht_lsp_put_peer(&b, &a1);
	built_is(&b, v, n, "get-predecessor-answer");
}

static void test_membership_vector(void)
{
	static uint8_t v[2048];
	size_t n = vector("membership", v, sizeof(v));
	struct dht_lsp_node a1 = node4(N1, 1), a3 = node6(N3, 3);
	ok(m.hdr.type == DHT_LSP_MEMBERSHIP && !dht_lsp_ovl_is_answer(&m) &&
		   dht_lsp_ovl_can_answer(&m) && node_is(&m.sender, &a1) &&
		   m.flags == DHT_LSP_FLAG_WANT_VIEW && m.digest.count == 3 && m.nmembers == 1 &&
		   !(m.present & DHT_LSP_O_PAGE),
	   "membership request: sender, WANT_VIEW, digest, one member, no page");
	struct dht_lsp_iter it = dht_lsp_ovl_members(&m);
	struct dht_lsp_member mb;
	ok(dht_lsp_ovl_next_member(&it, &mb) && mb.id == N3 && mb.incarnation == 2 &&
		   mb.state == DHT_LSP_MEMBER_DEAD && !memcmp(&mb.addr, &a3.addr, sizeof(mb.addr)),
	   "member N3 dead at incarnation 2");

	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_ovl_request_start(&b, DHT_LSP_MEMBERSHIP, 0x474f535300000003ull, OVERLAY, &a1);
	dht_lsp_put_flags(&b, DHT_LSP_FLAG_WANT_VIEW);
	dht_lsp_put_view_digest(&b, &(struct dht_lsp_digest){0x9e3779b97f4a7c15ull, 3});
	dht_lsp_put_member(&b, &mb);
	built_is(&b, v, n, "membership");
}

static const char *const CONTACT1 = "sip:alice@192.0.2.10:5060";
static const char *const CONTACT2 = "sip:alice@198.51.100.7;transport=tcp";
static const char *const INSTANCE = "<urn:uuid:00000000-0000-1000-8000-000a95a0e128>";
static const char *const CALL_ID = "a84b4c76e66710@pc33";

static void replica_records(struct dht_lsp_record r[2])
{
	memset(r, 0, 2 * sizeof(*r));
	r[0] = (struct dht_lsp_record){.present = DHT_LSP_P_CONTACT | DHT_LSP_P_Q |
						  DHT_LSP_P_CALL_ID | DHT_LSP_P_CSEQ |
						  DHT_LSP_P_SOURCE | DHT_LSP_P_REPLICATION,
				       .contact = {CONTACT1, (uint32_t)strlen(CONTACT1)},
				       .call_id = {CALL_ID, (uint32_t)strlen(CALL_ID)},
				       .cseq = 314159,
				       .expires_at_s = 1700003600,
				       .registered_at_s = 1699990000,
				       .txn_tag = 0x5eed0001,
				       .q = 1000};
	r[0].src.family = AF_INET;
	r[0].src.transport = 1;
	r[0].src.port = 5060;
	memcpy(r[0].src.addr, (uint8_t[]){192, 0, 2, 10}, 4);
	r[1] = (struct dht_lsp_record){
		.present = DHT_LSP_P_CONTACT | DHT_LSP_P_Q | DHT_LSP_P_INSTANCE | DHT_LSP_P_REG_ID |
			   DHT_LSP_P_CALL_ID | DHT_LSP_P_CSEQ | DHT_LSP_P_REPLICATION,
		.contact = {CONTACT2, (uint32_t)strlen(CONTACT2)},
		.instance = {INSTANCE, (uint32_t)strlen(INSTANCE)},
		.reg_id = 1,
		.call_id = {CALL_ID, (uint32_t)strlen(CALL_ID)},
		.cseq = 314159,
		.expires_at_s = 1700000600,
		.registered_at_s = 1700000000,
		.txn_tag = 0x5eed0001,
		.q = 500};
}

static void test_replica_store_vectors(void)
{
	static uint8_t v[2048];
	size_t n = vector("replica-store", v, sizeof(v));
	struct dht_lsp_node a1 = node4(N1, 1), a2 = node4(N2, 2);
	struct dht_addr facing = a1.addr;
	facing.transport = 1;
	ok(m.hdr.type == DHT_LSP_REPLICA_STORE && node_is(&m.sender, &a2) &&
		   m.chain.position == 1 && m.chain.quorum == 2 && m.chain.replicas == 3 &&
		   !memcmp(&m.reply_to, &facing, sizeof(facing)) &&
		   m.orig_txn == 0x0123456789abcdefull && m.orig_type == DHT_LSP_PUBLISH &&
		   m.reply_ctx.len == 4 && !memcmp(m.reply_ctx.p, "\x0a\x0b\x0c\x0d", 4) &&
		   !(m.present & DHT_LSP_O_OWNER) && m.nentries == 1 && bytes_is(m.first_key, KEY),
	   "replica store: sender, chain 1/2/3, reply-to, orig txn and type, context, one entry");
	struct dht_lsp_record want[2], r;
	replica_records(want);
	struct dht_lsp_iter it = dht_lsp_ovl_entries(&m);
	struct dht_lsp_entry e;
	ok(dht_lsp_ovl_next_entry(&it, &e) && bytes_is(e.key, KEY) && e.version == VERSION &&
		   e.nrecords == 2,
	   "entry: key, version, two records");
	int good = 0, count = 0;
	while (dht_lsp_ovl_next_record(&e.records, &r)) {
		good += count < 2 && lsp_record_eq(&r, &want[count]);
		count++;
	}
	ok(count == 2 && good == 2, "both records with EXPIRES_AT, REGISTERED_AT, TXN_TAG");
	ok(!dht_lsp_ovl_next_entry(&it, &e), "one entry only");

	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_ovl_request_start(&b, DHT_LSP_REPLICA_STORE, 0x5245504c00000001ull, OVERLAY, &a2);
	dht_lsp_put_reply_to(&b, &facing);
	dht_lsp_put_orig_txn(&b, 0x0123456789abcdefull);
	dht_lsp_put_orig_type(&b, DHT_LSP_PUBLISH);
	dht_lsp_put_reply_ctx(&b, "\x0a\x0b\x0c\x0d", 4);
	dht_lsp_put_chain(&b, &(struct dht_lsp_chain){1, 2, 3});
	dht_lsp_entry_begin(&b, KEY, strlen(KEY), VERSION);
	dht_lsp_put_record(&b, &want[0]);
	dht_lsp_put_record(&b, &want[1]);
	dht_lsp_entry_end(&b);
	built_is(&b, v, n, "replica-store");
	ok(dht_lsp_record_len(&want[0]) == 106 && dht_lsp_record_len(&want[1]) == 164 &&
		   dht_lsp_entry_len(strlen(KEY), 106 + 164) == 311,
	   "record and entry lengths as in the dump (102 + 4, 160 + 4, 307 + 4)");
}

static void test_range_vectors(void)
{
	static uint8_t v[2048];
	struct dht_lsp_node a2 = node4(N2, 2), a3 = node6(N3, 3);
	static const struct dht_lsp_bucket bk[8] = {
		{0, 0}, {0x1d3f5a7c9e0b2d4full, 3}, {0x7a2b3c4d5e6f7081ull, 5},
		{0, 0}, {0x3c4d5e6f708192a3ull, 1}, {0xc1d2e3f405162738ull, 2},
		{0, 0}, {0x5e6f708192a3b4c5ull, 4}};
	size_t n = vector("range-digest", v, sizeof(v));
	ok(m.hdr.type == DHT_LSP_RANGE_DIGEST && node_is(&m.sender, &a2) && m.range.lo == N1 &&
		   m.range.hi == N2 && m.sync_mode == DHT_LSP_SYNC_PUSH && m.buckets.n == 8,
	   "range digest: sender, range (N1, N2], PUSH, 8 buckets");
	int good = 0;
	for (unsigned i = 0; i < 8; i++) {
		struct dht_lsp_bucket x = dht_lsp_bucket_at(&m.buckets, i);
		good += x.hash == bk[i].hash && x.keys == bk[i].keys;
	}
	is_int(good, 8, "every bucket's hash and key count");
	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_ovl_request_start(&b, DHT_LSP_RANGE_DIGEST, 0x4447535400000001ull, OVERLAY, &a2);
	dht_lsp_put_range(&b, &(struct dht_lsp_range){N1, N2});
	dht_lsp_put_sync_mode(&b, DHT_LSP_SYNC_PUSH);
	dht_lsp_put_buckets(&b, bk, 8);
	built_is(&b, v, n, "range-digest");

	/* keep the request (v is reloaded below) to answer it */
	static struct dht_lsp_ovl_msg req;
	static uint8_t reqbuf[2048];
	memcpy(reqbuf, v, n);
	is_int(dht_lsp_ovl_parse(&req, reqbuf, n), LC_OK, "range-digest kept");
	n = vector("range-digest-answer", v, sizeof(v));
	ok(m.status == 200 && node_is(&m.sender, &a3) && m.range.lo == N1 && m.range.hi == N2 &&
		   m.bucket_set != NULL,
	   "range digest answer: sender, range, bucket set");
	int set = 0;
	for (unsigned i = 0; i < DHT_LSP_MAX_BUCKETS; i++) {
		set += dht_lsp_bucket_set_has(m.bucket_set, i) ? (int)(i + 1) * 1000 : 0;
	}
	is_int(set, 3000 + 6000, "buckets 2 and 5, no other");
	uint8_t bits[DHT_LSP_BUCKET_SET_LEN] = {0};
	dht_lsp_bucket_set_add(bits, 2);
	dht_lsp_bucket_set_add(bits, 5);
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_ovl_answer_start(&b, &req, &a3, DHT_LSP_S_OK);
	dht_lsp_put_range(&b, &req.range);
	dht_lsp_put_bucket_set(&b, bits);
	built_is(&b, v, n, "range-digest-answer");

	n = vector("range-transfer", v, sizeof(v));
	ok(m.hdr.type == DHT_LSP_RANGE_TRANSFER && m.sync_mode == DHT_LSP_SYNC_MERGE &&
		   m.flags == DHT_LSP_FLAG_LAST && m.nentries == 2 && m.bucket_set == NULL &&
		   dht_lsp_ovl_can_answer(&m),
	   "range transfer: MERGE, LAST (answered), two entries");
	struct dht_lsp_iter it = dht_lsp_ovl_entries(&m);
	struct dht_lsp_entry e1, e2, e3;
	struct dht_lsp_record r, r2;
	ok(dht_lsp_ovl_next_entry(&it, &e1) && bytes_is(e1.key, "sip:bob@example.com") &&
		   e1.version == VERSION + 7 && e1.nrecords == 1 &&
		   dht_lsp_ovl_next_record(&e1.records, &r) &&
		   bytes_is(r.contact, "sip:bob@203.0.113.5:5070") && r.cseq == 7 &&
		   bytes_is(r.call_id, "c0ffee@bob") && r.expires_at_s == 1700001800 &&
		   r.registered_at_s == 1699999000 && r.txn_tag == 0x0bb0cafe &&
		   !dht_lsp_ovl_next_record(&e1.records, &r2),
	   "entry 1: bob, one record");
	ok(dht_lsp_ovl_next_entry(&it, &e2) && bytes_is(e2.key, "sip:carol@example.com") &&
		   e2.version == VERSION + 9 && e2.nrecords == 0 &&
		   !dht_lsp_ovl_next_record(&e2.records, &r2) && !dht_lsp_ovl_next_entry(&it, &e3),
	   "entry 2: carol, no records (a removal); no third");
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_ovl_request_start(&b, DHT_LSP_RANGE_TRANSFER, 0x5846455200000002ull, OVERLAY, &a2);
	dht_lsp_put_range(&b, &(struct dht_lsp_range){N1, N2});
	dht_lsp_put_sync_mode(&b, DHT_LSP_SYNC_MERGE);
	dht_lsp_put_flags(&b, DHT_LSP_FLAG_LAST);
	dht_lsp_entry_begin(&b, "sip:bob@example.com", 19, VERSION + 7);
	dht_lsp_put_record(&b, &r);
	dht_lsp_entry_end(&b);
	dht_lsp_entry_begin(&b, "sip:carol@example.com", 21, VERSION + 9);
	dht_lsp_entry_end(&b);
	built_is(&b, v, n, "range-transfer");
}

/* Dave's key as elements of a last-writer-wins set (docs/lsp.md §11.5): a `Contact: *` at V_ALL
 * by N2, a binding removed at V_GONE by N1, a live one at V_LIVE by N2. */
#define HLC(ms, counter) ((uint64_t)(ms) << 12 | (counter))
#define V_ALL HLC(1700000100000ull, 0)
#define V_GONE HLC(1700000200000ull, 1)
#define V_LIVE HLC(1700000300000ull, 2)
#define W1 ((uint64_t)(N1 >> 64))
#define W2 ((uint64_t)(N2 >> 64))
static const char *const DAVE_CALL_ID = "d4v3@host";

static struct dht_bytes bytes_of(const char *s)
{
	return (struct dht_bytes){s, (uint32_t)strlen(s)};
}

static void versioned_records(struct dht_lsp_record r[3])
{
	memset(r, 0, 3 * sizeof(*r));
	const uint32_t common = DHT_LSP_P_CONTACT | DHT_LSP_P_CALL_ID | DHT_LSP_P_CSEQ |
				DHT_LSP_P_EXPIRES_AT | DHT_LSP_P_TXN_TAG | DHT_LSP_P_REC_VERSION |
				DHT_LSP_P_WRITER;
	r[0] = (struct dht_lsp_record){.present = common | DHT_LSP_P_REGISTERED_AT,
				       .contact = bytes_of("sip:dave@203.0.113.9:5060"),
				       .call_id = bytes_of(DAVE_CALL_ID),
				       .cseq = 13,
				       .expires_at_s = 1700003900,
				       .registered_at_s = 1700000300,
				       .txn_tag = 0x0da0e004,
				       .version = V_LIVE,
				       .writer = W2,
				       .q = -1};
	r[1] = (struct dht_lsp_record){.present = common | DHT_LSP_P_INSTANCE | DHT_LSP_P_REG_ID |
						  DHT_LSP_P_REMOVED,
				       .contact = bytes_of("sip:dave@198.51.100.20:5062"),
				       .instance = bytes_of(INSTANCE),
				       .reg_id = 2,
				       .call_id = bytes_of(DAVE_CALL_ID),
				       .cseq = 12,
				       .expires_at_s = 1700003800,
				       .txn_tag = 0x0da0e003,
				       .version = V_GONE,
				       .writer = W1,
				       .removed = DHT_LSP_REMOVED_CONTACT,
				       .q = -1};
	r[2] = (struct dht_lsp_record){.present = common | DHT_LSP_P_REMOVED,
				       .contact = bytes_of("*"),
				       .call_id = bytes_of(DAVE_CALL_ID),
				       .cseq = 10,
				       .expires_at_s = 1700003700,
				       .txn_tag = 0x0da0e001,
				       .version = V_ALL,
				       .writer = W2,
				       .removed = DHT_LSP_REMOVED_ALL,
				       .q = -1};
}

/* range-transfer-versions: the records above in one entry of a transfer */
static const char *const DAVE = "sip:dave@example.com";

static void test_versions_vector(void)
{
	static uint8_t v[2048];
	struct dht_lsp_node a2 = node4(N2, 2);
	size_t n = vector("range-transfer-versions", v, sizeof(v));
	ok(m.hdr.type == DHT_LSP_RANGE_TRANSFER && node_is(&m.sender, &a2) && m.range.lo == N1 &&
		   m.range.hi == N2 && m.sync_mode == DHT_LSP_SYNC_MERGE &&
		   m.flags == DHT_LSP_FLAG_LAST && m.nentries == 1,
	   "versioned transfer: sender N2, (N1, N2], MERGE, LAST, one entry");
	struct dht_lsp_record want[3], r;
	versioned_records(want);
	struct dht_lsp_iter it = dht_lsp_ovl_entries(&m);
	struct dht_lsp_entry e;
	ok(dht_lsp_ovl_next_entry(&it, &e) && bytes_is(e.key, DAVE) && e.version == V_LIVE &&
		   e.nrecords == 3,
	   "entry: dave, at the live record's version, three records");
	int good = 0, count = 0, versions = 0;
	while (dht_lsp_ovl_next_record(&e.records, &r)) {
		good += count < 3 && lsp_record_eq(&r, &want[count]);
		versions += count < 3 && dht_lsp_record_version(&e, &r) == want[count].version;
		count++;
	}
	ok(count == 3 && good == 3, "live record, tombstone, remove-all: every field as built");
	is_int(versions, 3, "each record's version is its REC_VERSION");
	ok(want[0].removed == 0 && want[1].removed == DHT_LSP_REMOVED_CONTACT &&
		   want[2].removed == DHT_LSP_REMOVED_ALL &&
		   want[1].writer == 0x0a1b2c3d4e5f6071ull,
	   "REMOVED 0 (absent), 1 and 2; WRITER is the top of the node id");

	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_ovl_request_start(&b, DHT_LSP_RANGE_TRANSFER, 0x5846455200000003ull, OVERLAY, &a2);
	dht_lsp_put_range(&b, &(struct dht_lsp_range){N1, N2});
	dht_lsp_put_sync_mode(&b, DHT_LSP_SYNC_MERGE);
	dht_lsp_put_flags(&b, DHT_LSP_FLAG_LAST);
	dht_lsp_entry_begin(&b, DAVE, strlen(DAVE), V_LIVE);
	for (int i = 0; i < 3; i++) {
		dht_lsp_put_record(&b, &want[i]);
	}
	dht_lsp_entry_end(&b);
	built_is(&b, v, n, "range-transfer-versions");
	ok(dht_lsp_record_len(&want[0]) == 102 && dht_lsp_record_len(&want[1]) == 160 &&
		   dht_lsp_record_len(&want[2]) == 75 &&
		   dht_lsp_entry_len(strlen(DAVE), 102 + 160 + 75) == 377,
	   "record and entry lengths as in the dump (98 + 4, 156 + 4, 71 + 4, 373 + 4)");

	/* a record without REC_VERSION has the entry's version (and writer 0) */
	struct dht_lsp_record old = want[0];
	old.present &= ~(uint32_t)(DHT_LSP_P_REC_VERSION | DHT_LSP_P_WRITER);
	old.version = old.writer = 0;
	size_t len = 0;
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_ovl_request_start(&b, DHT_LSP_RANGE_TRANSFER, 1, OVERLAY, &a2);
	dht_lsp_put_range(&b, &(struct dht_lsp_range){N1, N2});
	dht_lsp_put_sync_mode(&b, DHT_LSP_SYNC_MERGE);
	dht_lsp_entry_begin(&b, DAVE, strlen(DAVE), V_LIVE + 5);
	dht_lsp_put_record(&b, &old);
	dht_lsp_entry_end(&b);
	is_int(dht_lsp_build_finish(&b, &len), LC_OK, "a record without REC_VERSION builds");
	ok(dht_lsp_ovl_parse(&m, buf, len) == LC_OK && (it = dht_lsp_ovl_entries(&m), true) &&
		   dht_lsp_ovl_next_entry(&it, &e) && dht_lsp_ovl_next_record(&e.records, &r) &&
		   !(r.present & (DHT_LSP_P_REC_VERSION | DHT_LSP_P_WRITER | DHT_LSP_P_REMOVED)) &&
		   r.version == 0 && r.writer == 0 && r.removed == 0 &&
		   dht_lsp_record_version(&e, &r) == V_LIVE + 5,
	   "decoded: no version of its own, so the entry's; writer 0; live");
}

static const struct dht_lsp_node_stats STATS = {.fingers = 2,
						.uptime_s = 86400,
						.flags = DHT_LSP_STATS_ONE_HOP,
						.owned_keys = 1234,
						.owned_bindings = 1502,
						.replica_keys = DHT_LSP_STATS_UNKNOWN,
						.replica_bindings = DHT_LSP_STATS_UNKNOWN};

/* NODE_INFO: control of N1 asks N2 for its state (`locusctl ring`); N2 answers with its
 * neighbours, view size, incarnation and NODE_STATS. */
static void test_node_info_vectors(void)
{
	static uint8_t v[1024];
	static struct dht_lsp_ovl_msg req;
	static uint8_t reqbuf[1024];
	struct dht_lsp_node a1 = node4(N1, 1), a2 = node4(N2, 2), a3 = node6(N3, 3);
	size_t n = vector("node-info", v, sizeof(v));
	ok(m.hdr.type == DHT_LSP_NODE_INFO && !dht_lsp_ovl_is_answer(&m) &&
		   dht_lsp_ovl_can_answer(&m) && m.hdr.hop_limit == DHT_LSP_HOP_LIMIT_OVERLAY &&
		   m.hdr.txn_id == 0x494e464f00000001ull && m.present == DHT_LSP_O_SENDER &&
		   node_is(&m.sender, &a1),
	   "node-info request: sender N1 and nothing else, hop limit 1, answerable");
	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_ovl_request_start(&b, DHT_LSP_NODE_INFO, 0x494e464f00000001ull, OVERLAY, &a1);
	built_is(&b, v, n, "node-info");
	memcpy(reqbuf, v, n);
	is_int(dht_lsp_ovl_parse(&req, reqbuf, n), LC_OK, "node-info kept");

	n = vector("node-info-answer", v, sizeof(v));
	ok(m.hdr.type == DHT_LSP_NODE_INFO && dht_lsp_ovl_is_answer(&m) &&
		   !dht_lsp_ovl_can_answer(&m) && m.hdr.txn_id == 0x494e464f00000001ull,
	   "node-info answer header");
	ok(m.status == 200 && node_is(&m.sender, &a2) && m.incarnation == 4 && m.ring_size == 3 &&
		   (m.present & DHT_LSP_O_PREDECESSOR) && node_is(&m.predecessor, &a1),
	   "node-info answer: sender N2, incarnation 4, ring of 3, predecessor N1");
	ok((m.present & DHT_LSP_O_NODE_STATS) && m.node_stats.fingers == 2 &&
		   m.node_stats.uptime_s == 86400 && m.node_stats.flags == DHT_LSP_STATS_ONE_HOP,
	   "node stats: 2 fingers, up 86400 s, one-hop");
	ok(m.node_stats.owned_keys == 1234 && m.node_stats.owned_bindings == 1502 &&
		   m.node_stats.replica_keys == DHT_LSP_STATS_UNKNOWN &&
		   m.node_stats.replica_bindings == DHT_LSP_STATS_UNKNOWN,
	   "node stats: 1234 keys and 1502 bindings owned, replica counts not known");
	struct dht_lsp_iter it = dht_lsp_ovl_peers(&m);
	struct dht_lsp_node p1, p2, p3;
	ok(m.npeers == 2 && dht_lsp_ovl_next_peer(&it, &p1) && node_is(&p1, &a3) &&
		   dht_lsp_ovl_next_peer(&it, &p2) && node_is(&p2, &a1) &&
		   !dht_lsp_ovl_next_peer(&it, &p3),
	   "successor list N3, N1 in order");

	/* N2's side: answer the kept request */
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_ovl_answer_start(&b, &req, &a2, DHT_LSP_S_OK);
	dht_lsp_put_incarnation(&b, 4);
	dht_lsp_put_ring_size(&b, 3);
	dht_lsp_put_predecessor(&b, &a1);
	dht_lsp_put_node_stats(&b, &STATS);
	dht_lsp_put_peer(&b, &a3);
	dht_lsp_put_peer(&b, &a1);
	built_is(&b, v, n, "node-info-answer");
	is_str(dht_lsp_type_name(DHT_LSP_NODE_INFO), "NODE_INFO", "type name NODE_INFO");
}

/* Which decoder takes what; the client vectors stay client messages. */
static void test_dispatch(void)
{
	static uint8_t v[1024];
	static const char *const client[] = {"publish-two-records", "lookup", "answer-lookup",
					     "answer-error"};
	int good = 0;
	for (unsigned i = 0; i < sizeof(client) / sizeof(client[0]); i++) {
		size_t n = load(client[i], v, sizeof(v));
		good += !dht_lsp_is_overlay_msg(v, n) &&
			dht_lsp_ovl_parse(&m, v, n) == LC_ELSP_TYPE && m.hdr_ok && m.err_off == 3 &&
			dht_lsp_parse(&cm, v, n) == LC_OK;
	}
	is_int(good, 4, "client vectors: not overlay, LC_ELSP_TYPE from the overlay decoder");
	int types = 0;
	for (unsigned t = 0; t < 256; t++) {
		bool ovl = (t >= 0x20 && t <= 0x28) || (t >= 0x40 && t <= 0x42);
		types += dht_lsp_type_is_overlay(t) == ovl && !(ovl && dht_lsp_type_known(t)) &&
			 (strcmp(dht_lsp_type_name(t), "?") != 0) == (ovl || dht_lsp_type_known(t));
	}
	is_int(types, 256,
	       "dht_lsp_type_is_overlay: 0x20-0x28 and 0x40-0x42 exactly; each of them named");
	ok(!dht_lsp_is_overlay_msg("LS\x01\x20", 4), "a short header is not an overlay message");
	ok(dht_lsp_status_of(LC_ELSP_TYPE) == DHT_LSP_S_UNKNOWN_TYPE,
	   "a node without the overlay answers overlay requests UNKNOWN_TYPE");
}

/* ---- hand-made messages for the error paths ---- */

static uint8_t raw[70000];
static size_t raw_len;

static void raw_start(uint8_t type, uint8_t flags)
{
	const uint8_t h[DHT_LSP_HDR_LEN] = {0x4c, 0x53, 1, type, flags, 1, 0, 0, 0, 0, 0, 0,
					    0,	  0,	0, 9,	 0,	0, 0, 0, 0, 0, 0, 7};
	memcpy(raw, h, sizeof(h));
	raw_len = DHT_LSP_HDR_LEN;
}

static void put_tlv_at(uint8_t *out, size_t *at, uint16_t type, const void *v, size_t len)
{
	out[*at] = (uint8_t)(type >> 8);
	out[*at + 1] = (uint8_t)type;
	out[*at + 2] = (uint8_t)(len >> 8);
	out[*at + 3] = (uint8_t)len;
	if (len > 0) {
		memcpy(out + *at + 4, v, len);
	}
	*at += 4 + len;
}

static void raw_tlv(uint16_t type, const void *v, size_t len)
{
	put_tlv_at(raw, &raw_len, type, v, len);
}

static int raw_parse(void)
{
	size_t body = raw_len - DHT_LSP_HDR_LEN;
	raw[6] = (uint8_t)(body >> 8);
	raw[7] = (uint8_t)body;
	return dht_lsp_ovl_parse(&m, raw, raw_len);
}

#define EXPECT(err, off, tlv, what)                                                                \
	do {                                                                                       \
		is_int(raw_parse(), (err), "%s: %s", what, lc_strerror_name(err));                 \
		ok(m.err_off == (off) && m.err_tlv == (tlv), "%s: offset %u tlv 0x%04x", what,     \
		   (unsigned)m.err_off, (unsigned)m.err_tlv);                                      \
	} while (0)

/* wire values */
static uint8_t sender[24], sender6[36], member_v[29], range_v[32];
static uint8_t stats_v[DHT_LSP_NODE_STATS_LEN + 1];
static const uint8_t v_inc[4] = {0, 0, 0, 1};
static uint8_t entry_v[256];
static size_t entry_n;

static void make_values(void)
{
	memset(sender, 0x11, 16);
	memcpy(sender + 16, "\x04\x00\x1c\xe8\xc0\x00\x02\x01", 8);
	memset(sender6, 0x33, 16);
	memcpy(sender6 + 16, "\x06\x00\x1c\xe8", 4);
	memset(sender6 + 20, 0, 16);
	memset(member_v, 0x22, 16);
	memcpy(member_v + 16, "\x00\x00\x00\x05\x01", 5);
	memcpy(member_v + 21, "\x04\x00\x1c\xe8\xc0\x00\x02\x02", 8);
	entry_n = 0;
	put_tlv_at(entry_v, &entry_n, DHT_LSP_T_KEY, KEY, strlen(KEY));
	put_tlv_at(entry_v, &entry_n, DHT_LSP_T_VERSION, "\0\0\0\0\0\0\0\x07", 8);
}

/* A REPLICA_STORE up to its ENTRY: SENDER, CHAIN; 24 + 28 + 7 = 59 bytes. */
static void replica_start(void)
{
	raw_start(DHT_LSP_REPLICA_STORE, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(DHT_LSP_T_CHAIN, "\x01\x02\x03", 3);
}

static void test_field_errors(void)
{
	make_values();
	raw_start(DHT_LSP_NODE_PING, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(DHT_LSP_T_INCARNATION, v_inc, 4);
	is_int(raw_parse(), LC_OK, "baseline NODE_PING decodes");
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	EXPECT(LC_ELSP_TLV_DUP, 60, DHT_LSP_T_SENDER, "SENDER twice");

	raw_start(DHT_LSP_NODE_PING, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 23);
	EXPECT(LC_ELSP_SOURCE, 24, DHT_LSP_T_SENDER, "SENDER of 23 bytes");
	raw_start(DHT_LSP_NODE_PING, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 16);
	EXPECT(LC_ELSP_SOURCE, 24, DHT_LSP_T_SENDER, "SENDER without an address");
	raw_start(DHT_LSP_NODE_PING, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(DHT_LSP_T_INCARNATION, v_inc, 3);
	EXPECT(LC_ELSP_TLV_LENGTH, 52, DHT_LSP_T_INCARNATION, "INCARNATION of 3 bytes");
	raw_start(DHT_LSP_NODE_PING, 0);
	raw_tlv(DHT_LSP_T_INCARNATION, v_inc, 4);
	EXPECT(LC_ELSP_MISSING_TLV, 32, DHT_LSP_T_SENDER, "request without SENDER");
	raw_start(DHT_LSP_NODE_PING, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	EXPECT(LC_ELSP_MISSING_TLV, 52, DHT_LSP_T_INCARNATION, "NODE_PING without INCARNATION");

	raw_start(DHT_LSP_FIND_SUCCESSOR, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(DHT_LSP_T_TARGET, sender, 15);
	EXPECT(LC_ELSP_TLV_LENGTH, 52, DHT_LSP_T_TARGET, "TARGET of 15 bytes");

	raw_start(DHT_LSP_JOIN, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(DHT_LSP_T_CALL_ID, "c", 1);
	EXPECT(LC_ELSP_TLV_UNKNOWN, 52, DHT_LSP_T_CALL_ID, "a client TLV in JOIN");
	raw_start(DHT_LSP_JOIN, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(0x0177, "c", 1);
	raw_tlv(DHT_LSP_T_TARGET & 0x7fff, sender, 16); /* known, not here, optional: skipped */
	is_int(raw_parse(), LC_OK, "unknown optional TLVs skipped");
	raw_tlv(DHT_LSP_T_PAGE, "\x00\x00\x00\x01", 4);
	EXPECT(LC_ELSP_TLV_UNKNOWN, 77, DHT_LSP_T_PAGE, "PAGE in a JOIN request");
	raw_start(DHT_LSP_MEMBERSHIP, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(DHT_LSP_T_VIEW_DIGEST, "\0\0\0\0\0\0\0\x01\0\0\0\x01", 12);
	raw_tlv(DHT_LSP_T_PAGE, "\x00\x01\x00\x01", 4);
	EXPECT(LC_ELSP_PAGE, 68, DHT_LSP_T_PAGE, "PAGE 1 of 1");
	raw_len -= 8;
	raw_tlv(DHT_LSP_T_PAGE, "\x00\x00\x00\x00", 4);
	EXPECT(LC_ELSP_PAGE, 68, DHT_LSP_T_PAGE, "PAGE 0 of 0");
	raw_len -= 8;
	raw_tlv(DHT_LSP_T_PAGE, "\x00\x02\x00\x03", 4);
	ok(raw_parse() == LC_OK && m.page.index == 2 && m.page.count == 3, "PAGE 2 of 3");

	raw_start(DHT_LSP_NOTIFY, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(DHT_LSP_T_PEER & 0x7fff, sender, 24); /* PEER is not defined in NOTIFY */
	struct dht_lsp_iter it;
	struct dht_lsp_node n;
	ok(raw_parse() == LC_OK && m.npeers == 0 && (it = dht_lsp_ovl_peers(&m), true) &&
		   !dht_lsp_ovl_next_peer(&it, &n),
	   "an optional PEER where none is defined: skipped, and not iterated");

	raw_start(DHT_LSP_REPLICA_STORE, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(DHT_LSP_T_REPLY_TO, "\x05\x01\x00\x01\x01\x02\x03\x04", 8);
	EXPECT(LC_ELSP_SOURCE, 52, DHT_LSP_T_REPLY_TO, "REPLY_TO family 5");
	raw_start(DHT_LSP_REPLICA_STORE, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(DHT_LSP_T_ORIG_TYPE, "\x02\x00", 2);
	EXPECT(LC_ELSP_TLV_LENGTH, 52, DHT_LSP_T_ORIG_TYPE, "ORIG_TYPE of 2 bytes");
	static char ctx[DHT_LSP_MAX_REPLY_CTX + 1];
	replica_start();
	raw_tlv(DHT_LSP_T_REPLY_CTX, ctx, sizeof(ctx));
	EXPECT(LC_ELSP_TOO_LONG, 59, DHT_LSP_T_REPLY_CTX, "REPLY_CTX of 4097 bytes");
	replica_start();
	raw_tlv(DHT_LSP_T_REPLY_CTX, ctx, DHT_LSP_MAX_REPLY_CTX);
	raw_tlv(DHT_LSP_T_ENTRY, entry_v, entry_n);
	is_int(raw_parse(), LC_OK, "REPLY_CTX of 4096 bytes");
}

static void test_chain_errors(void)
{
	static const char *const chains[] = {"\x00\x01\x03", "\x03\x02\x03", "\x01\x00\x03",
					     "\x01\x04\x03", "\x00\x00\x00", "\x01\x01\x01"};
	int good = 0;
	for (unsigned i = 0; i < 6; i++) {
		raw_start(DHT_LSP_REPLICA_STORE, 0);
		raw_tlv(DHT_LSP_T_SENDER, sender, 24);
		raw_tlv(DHT_LSP_T_CHAIN, chains[i], 3);
		raw_tlv(DHT_LSP_T_ENTRY, entry_v, entry_n);
		good += raw_parse() == LC_ELSP_CHAIN && m.err_off == 52;
	}
	is_int(good, 6,
	       "CHAIN: position 0, position >= replicas, quorum 0, quorum > replicas, "
	       "replicas 0, one copy: LC_ELSP_CHAIN");
	raw_start(DHT_LSP_REPLICA_STORE, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(DHT_LSP_T_CHAIN, "\x01\x02", 2);
	EXPECT(LC_ELSP_TLV_LENGTH, 52, DHT_LSP_T_CHAIN, "CHAIN of 2 bytes");
	replica_start();
	EXPECT(LC_ELSP_MISSING_TLV, 59, DHT_LSP_T_ENTRY, "REPLICA_STORE without ENTRY");
	raw_start(DHT_LSP_REPLICA_STORE, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(DHT_LSP_T_ENTRY, entry_v, entry_n);
	EXPECT(LC_ELSP_MISSING_TLV, (unsigned)(52 + 4 + entry_n), DHT_LSP_T_CHAIN,
	       "REPLICA_STORE without CHAIN");
	replica_start();
	raw_tlv(DHT_LSP_T_OWNER, sender6, 36);
	raw_tlv(DHT_LSP_T_ENTRY, entry_v, entry_n);
	raw_tlv(DHT_LSP_T_ENTRY, entry_v, entry_n);
	ok(raw_parse() == LC_OK && m.nentries == 2 && m.owner.addr.family == AF_INET6,
	   "two entries and an OWNER");
}

static void test_entry_errors(void)
{
	uint8_t e[512], rec[64];
	size_t en = 0, rn = 0;
	put_tlv_at(rec, &rn, DHT_LSP_T_CONTACT, "sip:a@b", 7);
	put_tlv_at(rec, &rn, DHT_LSP_T_EXPIRES_AT, "\x65\x53\xff\x10", 4);

	put_tlv_at(e, &en, DHT_LSP_T_VERSION, "\0\0\0\0\0\0\0\x07", 8);
	put_tlv_at(e, &en, DHT_LSP_T_RECORD, rec, rn);
	replica_start();
	raw_tlv(DHT_LSP_T_ENTRY, e, en);
	EXPECT(LC_ELSP_ENTRY, 59, DHT_LSP_T_ENTRY, "ENTRY without KEY");
	en = 0;
	put_tlv_at(e, &en, DHT_LSP_T_KEY, KEY, strlen(KEY));
	replica_start();
	raw_tlv(DHT_LSP_T_ENTRY, e, en);
	EXPECT(LC_ELSP_ENTRY, 59, DHT_LSP_T_ENTRY, "ENTRY without VERSION");
	put_tlv_at(e, &en, DHT_LSP_T_VERSION, "\0\0\0\0\0\0\x07", 7);
	replica_start();
	raw_tlv(DHT_LSP_T_ENTRY, e, en);
	EXPECT(LC_ELSP_TLV_LENGTH, 88, DHT_LSP_T_VERSION, "VERSION of 7 bytes");
	en = 0;
	put_tlv_at(e, &en, DHT_LSP_T_KEY, KEY, strlen(KEY));
	put_tlv_at(e, &en, DHT_LSP_T_KEY, KEY, strlen(KEY));
	replica_start();
	raw_tlv(DHT_LSP_T_ENTRY, e, en);
	EXPECT(LC_ELSP_TLV_DUP, 88, DHT_LSP_T_KEY, "KEY twice in an ENTRY");
	en = 0;
	put_tlv_at(e, &en, DHT_LSP_T_KEY, "", 0);
	replica_start();
	raw_tlv(DHT_LSP_T_ENTRY, e, en);
	EXPECT(LC_ELSP_KEY, 63, DHT_LSP_T_KEY, "empty KEY in an ENTRY");
	memcpy(e, entry_v, entry_n);
	en = entry_n;
	put_tlv_at(e, &en, DHT_LSP_T_CALL_ID, "c", 1);
	replica_start();
	raw_tlv(DHT_LSP_T_ENTRY, e, en);
	EXPECT(LC_ELSP_TLV_UNKNOWN, (unsigned)(63 + entry_n), DHT_LSP_T_CALL_ID,
	       "CALL_ID directly in an ENTRY");
	en = entry_n;
	put_tlv_at(e, &en, DHT_LSP_T_RECORD, rec + 11, rn - 11); /* EXPIRES_AT only */
	replica_start();
	raw_tlv(DHT_LSP_T_ENTRY, e, en);
	EXPECT(LC_ELSP_MISSING_CONTACT, (unsigned)(63 + entry_n), DHT_LSP_T_RECORD,
	       "record without contact in an ENTRY");
	en = entry_n;
	put_tlv_at(e, &en, DHT_LSP_T_ENTRY, entry_v, entry_n);
	replica_start();
	raw_tlv(DHT_LSP_T_ENTRY, e, en);
	EXPECT(LC_ELSP_TLV_UNKNOWN, (unsigned)(63 + entry_n), DHT_LSP_T_ENTRY,
	       "entries do not nest");
	en = entry_n;
	put_tlv_at(e, &en, DHT_LSP_T_RECORD, rec, rn);
	replica_start();
	raw_tlv(DHT_LSP_T_ENTRY, e, en);
	is_int(raw_parse(), LC_OK, "EXPIRES_AT in an ENTRY's record");

	/* the same record in a client PUBLISH: EXPIRES_AT is unknown there, and mandatory */
	raw_start(DHT_LSP_PUBLISH, 0);
	raw[5] = 8;
	raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
	raw_tlv(DHT_LSP_T_RECORD, rec, rn);
	size_t body = raw_len - DHT_LSP_HDR_LEN;
	raw[6] = (uint8_t)(body >> 8);
	raw[7] = (uint8_t)body;
	ok(dht_lsp_parse(&cm, raw, raw_len) == LC_ELSP_TLV_UNKNOWN && cm.err_off == 64 &&
		   cm.err_tlv == DHT_LSP_T_EXPIRES_AT,
	   "EXPIRES_AT in a PUBLISH record: unknown there");

	/* 256 records per entry, not 257; the client limit of 32 does not apply */
	static uint8_t big[20000];
	size_t bn = 0;
	put_tlv_at(big, &bn, DHT_LSP_T_KEY, KEY, strlen(KEY));
	put_tlv_at(big, &bn, DHT_LSP_T_VERSION, "\0\0\0\0\0\0\0\x07", 8);
	for (int i = 0; i < DHT_LSP_MAX_ENTRY_RECORDS; i++) {
		put_tlv_at(big, &bn, DHT_LSP_T_RECORD, rec, rn);
	}
	replica_start();
	raw_tlv(DHT_LSP_T_ENTRY, big, bn);
	is_int(raw_parse(), LC_OK, "256 records in an entry");
	struct dht_lsp_iter it = dht_lsp_ovl_entries(&m);
	struct dht_lsp_entry en1;
	struct dht_lsp_record r;
	int count = 0;
	if (dht_lsp_ovl_next_entry(&it, &en1)) {
		while (dht_lsp_ovl_next_record(&en1.records, &r)) {
			count += r.expires_at_s == 1700003600 && (r.present & DHT_LSP_P_EXPIRES_AT);
		}
	}
	is_int(count, 256, "all 256 iterated");
	put_tlv_at(big, &bn, DHT_LSP_T_RECORD, rec, rn);
	replica_start();
	raw_tlv(DHT_LSP_T_ENTRY, big, bn);
	EXPECT(LC_ELSP_TOO_MANY_RECORDS, (unsigned)(63 + bn - 4 - rn), DHT_LSP_T_RECORD,
	       "257 records in an entry");

	/* an ENTRY of DHT_LSP_MAX_ENTRY bytes and one of a byte more (inflated by an optional TLV:
	 * 4 + KEY 25 + VERSION 12 + the filler's 4-byte header and F bytes) */
	static uint8_t huge[DHT_LSP_MAX_ENTRY], zeros[DHT_LSP_MAX_ENTRY];
	for (size_t extra = 0; extra < 2; extra++) {
		size_t hn = 0;
		put_tlv_at(huge, &hn, DHT_LSP_T_KEY, KEY, strlen(KEY));
		put_tlv_at(huge, &hn, DHT_LSP_T_VERSION, "\0\0\0\0\0\0\0\x07", 8);
		put_tlv_at(huge, &hn, 0x0150, zeros, DHT_LSP_MAX_ENTRY - 45 + extra);
		replica_start();
		raw_tlv(DHT_LSP_T_ENTRY, huge, hn);
		if (extra == 0) {
			is_int(raw_parse(), LC_OK, "an ENTRY of exactly DHT_LSP_MAX_ENTRY bytes");
		} else {
			EXPECT(LC_ELSP_TOO_LONG, 59, DHT_LSP_T_ENTRY, "an ENTRY one byte longer");
		}
	}
}

/* An ENTRY of one record: CONTACT @p contact, then @p tail (more record TLVs), in a
 * REPLICA_STORE. The record TLV is at 100 (59 + ENTRY header 4 + KEY 25 + VERSION 12), its first
 * TLV after CONTACT at 100 + 4 + 4 + strlen(contact). */
static void element_store(const char *contact, const uint8_t *tail, size_t tail_n)
{
	uint8_t rec[128], e[256];
	size_t rn = 0, en = entry_n;
	put_tlv_at(rec, &rn, DHT_LSP_T_CONTACT, contact, strlen(contact));
	memcpy(rec + rn, tail, tail_n);
	rn += tail_n;
	memcpy(e, entry_v, entry_n);
	put_tlv_at(e, &en, DHT_LSP_T_RECORD, rec, rn);
	replica_start();
	raw_tlv(DHT_LSP_T_ENTRY, e, en);
}

/* REC_VERSION, WRITER and REMOVED (docs/lsp.md §4.3, §11.5): only in an ENTRY's records, of
 * their lengths, REMOVED 1 or 2, and 2 only with CONTACT "*". */
static void test_element_errors(void)
{
	uint8_t t[64];
	size_t tn = 0;
	static const uint8_t bad[] = {0, 3, 255};
	int good = 0;
	for (unsigned i = 0; i < sizeof(bad); i++) {
		tn = 0;
		put_tlv_at(t, &tn, DHT_LSP_T_REMOVED, &bad[i], 1);
		element_store("*", t, tn);
		good += raw_parse() == LC_ELSP_REMOVED && m.err_off == 109 &&
			m.err_tlv == DHT_LSP_T_REMOVED;
	}
	is_int(good, 3, "REMOVED 0, 3, 255: LC_ELSP_REMOVED at the REMOVED TLV");
	tn = 0;
	put_tlv_at(t, &tn, DHT_LSP_T_REMOVED, "\x02", 1);
	element_store("sip:a@b", t, tn);
	EXPECT(LC_ELSP_REMOVED, 100, DHT_LSP_T_RECORD, "REMOVED 2 with a real contact");
	element_store("**", t, tn);
	EXPECT(LC_ELSP_REMOVED, 100, DHT_LSP_T_RECORD, "REMOVED 2 with contact \"**\"");
	element_store("*", t, tn);
	struct dht_lsp_iter it;
	struct dht_lsp_entry e;
	struct dht_lsp_record r;
	ok(raw_parse() == LC_OK && (it = dht_lsp_ovl_entries(&m), true) &&
		   dht_lsp_ovl_next_entry(&it, &e) && dht_lsp_ovl_next_record(&e.records, &r) &&
		   r.removed == DHT_LSP_REMOVED_ALL && (r.present & DHT_LSP_P_REMOVED) &&
		   dht_lsp_record_version(&e, &r) == 7,
	   "REMOVED 2 with contact \"*\": decodes, at the entry's version");
	tn = 0;
	put_tlv_at(t, &tn, DHT_LSP_T_REMOVED, "\x01", 1);
	element_store("*", t, tn);
	ok(raw_parse() == LC_OK, "REMOVED 1 with contact \"*\": a tombstone, not refused");
	put_tlv_at(t, &tn, DHT_LSP_T_REMOVED, "\x01", 1);
	element_store("sip:a@b", t, tn);
	EXPECT(LC_ELSP_TLV_DUP, 120, DHT_LSP_T_REMOVED, "REMOVED twice");
	tn = 0;
	put_tlv_at(t, &tn, DHT_LSP_T_REMOVED, "\x01\x00", 2);
	element_store("sip:a@b", t, tn);
	EXPECT(LC_ELSP_TLV_LENGTH, 115, DHT_LSP_T_REMOVED, "REMOVED of 2 bytes");
	tn = 0;
	put_tlv_at(t, &tn, DHT_LSP_T_REC_VERSION, "\0\0\0\x07", 4);
	element_store("sip:a@b", t, tn);
	EXPECT(LC_ELSP_TLV_LENGTH, 115, DHT_LSP_T_REC_VERSION, "REC_VERSION of 4 bytes");
	tn = 0;
	put_tlv_at(t, &tn, DHT_LSP_T_WRITER, "\0\0\0\0\0\0\0\0\x01", 9);
	element_store("sip:a@b", t, tn);
	EXPECT(LC_ELSP_TLV_LENGTH, 115, DHT_LSP_T_WRITER, "WRITER of 9 bytes");
	tn = 0;
	put_tlv_at(t, &tn, DHT_LSP_T_REC_VERSION, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	put_tlv_at(t, &tn, DHT_LSP_T_WRITER, "\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8", 8);
	put_tlv_at(t, &tn, DHT_LSP_T_REC_VERSION, "\0\0\0\0\0\0\0\x07", 8);
	element_store("sip:a@b", t, tn);
	EXPECT(LC_ELSP_TLV_DUP, 139, DHT_LSP_T_REC_VERSION, "REC_VERSION twice");
	tn -= 12;
	element_store("sip:a@b", t, tn);
	ok(raw_parse() == LC_OK && (it = dht_lsp_ovl_entries(&m), true) &&
		   dht_lsp_ovl_next_entry(&it, &e) && dht_lsp_ovl_next_record(&e.records, &r) &&
		   r.version == 0x0102030405060708ull && r.writer == 0xf1f2f3f4f5f6f7f8ull &&
		   r.removed == 0 && dht_lsp_record_version(&e, &r) == 0x0102030405060708ull,
	   "REC_VERSION and WRITER read as u64, most significant byte first");

	/* outside an ENTRY's records they are unknown, and mandatory */
	static const uint16_t types[] = {DHT_LSP_T_REC_VERSION, DHT_LSP_T_WRITER,
					 DHT_LSP_T_REMOVED};
	static const uint8_t lens[] = {8, 8, 1};
	static const uint8_t one[8] = {0, 0, 0, 0, 0, 0, 0, 1};
	int unknown = 0;
	for (unsigned i = 0; i < 3; i++) {
		uint8_t en[128], rec[64];
		size_t enn = entry_n, rn = 0;
		const uint8_t *val = lens[i] == 1 ? one + 7 : one;
		memcpy(en, entry_v, entry_n);
		put_tlv_at(en, &enn, types[i], val, lens[i]);
		replica_start();
		raw_tlv(DHT_LSP_T_ENTRY, en, enn);
		unknown += raw_parse() == LC_ELSP_TLV_UNKNOWN && m.err_off == 100 &&
			   m.err_tlv == types[i];
		replica_start();
		raw_tlv(types[i], val, lens[i]);
		unknown += raw_parse() == LC_ELSP_TLV_UNKNOWN && m.err_off == 59 &&
			   m.err_tlv == types[i];
		/* the record of element_store in a client PUBLISH */
		put_tlv_at(rec, &rn, DHT_LSP_T_CONTACT, "sip:a@b", 7);
		put_tlv_at(rec, &rn, types[i], val, lens[i]);
		raw_start(DHT_LSP_PUBLISH, 0);
		raw[5] = 8;
		raw_tlv(DHT_LSP_T_KEY, KEY, strlen(KEY));
		raw_tlv(DHT_LSP_T_RECORD, rec, rn);
		size_t body = raw_len - DHT_LSP_HDR_LEN;
		raw[6] = (uint8_t)(body >> 8);
		raw[7] = (uint8_t)body;
		unknown += dht_lsp_parse(&cm, raw, raw_len) == LC_ELSP_TLV_UNKNOWN &&
			   cm.err_off == 64 && cm.err_tlv == types[i];
	}
	is_int(unknown, 9,
	       "REC_VERSION, WRITER, REMOVED directly in an ENTRY, at message level, and in a "
	       "PUBLISH record: unknown there");
	ok(dht_lsp_status_of(LC_ELSP_REMOVED) == DHT_LSP_S_BAD_REQUEST &&
		   strcmp(lc_strerror_name(LC_ELSP_REMOVED), "LC_ELSP_REMOVED") == 0 &&
		   LC_ELSP_REMOVED == -1257,
	   "LC_ELSP_REMOVED is 1257, answered BAD_REQUEST");
}

static void test_view_errors(void)
{
	raw_start(DHT_LSP_MEMBERSHIP, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(DHT_LSP_T_VIEW_DIGEST, "\0\0\0\0\0\0\0\x01\0\0\0\x01", 12);
	raw_tlv(DHT_LSP_T_MEMBER, member_v, 29);
	is_int(raw_parse(), LC_OK, "membership with a member");
	member_v[20] = 3;
	raw_tlv(DHT_LSP_T_MEMBER, member_v, 29);
	EXPECT(LC_ELSP_MEMBER, 101, DHT_LSP_T_MEMBER, "MEMBER in state 3");
	member_v[20] = 0;
	raw_len -= 33;
	raw_tlv(DHT_LSP_T_MEMBER, member_v, 29);
	EXPECT(LC_ELSP_MEMBER, 101, DHT_LSP_T_MEMBER, "MEMBER in state 0");
	member_v[20] = 2;
	raw_len -= 33;
	raw_tlv(DHT_LSP_T_MEMBER, member_v, 20);
	EXPECT(LC_ELSP_TLV_LENGTH, 101, DHT_LSP_T_MEMBER, "MEMBER of 20 bytes");
	raw_len -= 24;
	raw_tlv(DHT_LSP_T_MEMBER, member_v, 28);
	EXPECT(LC_ELSP_SOURCE, 101, DHT_LSP_T_MEMBER, "MEMBER with a short address");
	raw_len -= 32;
	raw_tlv(DHT_LSP_T_VIEW_DIGEST, "\0\0\0\0\0\0\0\x01\0\0\0\x01", 12);
	EXPECT(LC_ELSP_TLV_DUP, 101, DHT_LSP_T_VIEW_DIGEST, "VIEW_DIGEST twice");
	raw_len -= 16;
	raw_tlv(DHT_LSP_T_VIEW_DIGEST & 0x7fff, "\0\0\0\x01", 4);
	EXPECT(LC_ELSP_TLV_DUP, 101, 0x0105, "VIEW_DIGEST twice, mandatory bit clear");

	raw_start(DHT_LSP_MEMBERSHIP, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(DHT_LSP_T_VIEW_DIGEST, "\0\0\0\0\0\0\0\x01\0\0\0\x01", 12);
	for (int i = 0; i <= DHT_LSP_MAX_MEMBERS; i++) {
		raw_tlv(DHT_LSP_T_MEMBER, member_v, 29);
	}
	EXPECT(LC_ELSP_TOO_MANY_MEMBERS, 68 + DHT_LSP_MAX_MEMBERS * 33, DHT_LSP_T_MEMBER,
	       "1025 members");

	raw_start(DHT_LSP_LEAVE, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(DHT_LSP_T_INCARNATION, v_inc, 4);
	for (int i = 0; i <= DHT_LSP_MAX_PEERS; i++) {
		raw_tlv(DHT_LSP_T_PEER, sender, 24);
	}
	EXPECT(LC_ELSP_TOO_MANY_PEERS, 60 + DHT_LSP_MAX_PEERS * 28, DHT_LSP_T_PEER, "33 peers");

	raw_start(DHT_LSP_FIND_SUCCESSOR, DHT_LSP_F_ANSWER);
	raw_tlv(DHT_LSP_T_STATUS, "\x00\xc8", 2);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(DHT_LSP_T_TARGET, sender, 16);
	raw_tlv(DHT_LSP_T_PEER, sender, 24);
	is_int(raw_parse(), LC_OK, "FIND_SUCCESSOR answer with one PEER");
	raw_tlv(DHT_LSP_T_PEER, sender, 24);
	EXPECT(LC_ELSP_TLV_DUP, 106, DHT_LSP_T_PEER, "FIND_SUCCESSOR answer with two PEERs");
	raw_len -= 2 * 28;
	EXPECT(LC_ELSP_MISSING_TLV, 78, DHT_LSP_T_PEER, "FIND_SUCCESSOR answer without PEER");

	/* answers: STATUS always; SENDER and the rest only when 2xx */
	raw_start(DHT_LSP_NOTIFY, DHT_LSP_F_ANSWER);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	EXPECT(LC_ELSP_MISSING_STATUS, 52, DHT_LSP_T_STATUS, "answer without STATUS");
	raw_start(DHT_LSP_NOTIFY, DHT_LSP_F_ANSWER);
	raw_tlv(DHT_LSP_T_STATUS, "\x00\xc8", 2);
	EXPECT(LC_ELSP_MISSING_TLV, 30, DHT_LSP_T_SENDER, "OK answer without SENDER");
	raw_start(DHT_LSP_NODE_PING, DHT_LSP_F_ANSWER);
	raw_tlv(DHT_LSP_T_STATUS, "\x01\xf5", 2);
	raw_tlv(DHT_LSP_T_REASON, "Unknown", 7);
	ok(raw_parse() == LC_OK && m.status == 501 && !(m.present & DHT_LSP_O_SENDER),
	   "a 501 answer without SENDER or INCARNATION decodes (a node without the overlay)");
}

static void test_sync_errors(void)
{
	static uint8_t bk[2 + 12 * DHT_LSP_MAX_BUCKETS];
	raw_start(DHT_LSP_RANGE_DIGEST, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(DHT_LSP_T_RANGE, range_v, 32);
	raw_tlv(DHT_LSP_T_SYNC_MODE, "\x01", 1);
	size_t base = raw_len;
	static const unsigned counts[] = {0, 3, 6, 4097, 8192};
	int good = 0;
	for (unsigned i = 0; i < 5; i++) {
		raw_len = base;
		bk[0] = (uint8_t)(counts[i] >> 8);
		bk[1] = (uint8_t)counts[i];
		raw_tlv(DHT_LSP_T_BUCKETS, bk, 2 + 12 * (counts[i] % 4096));
		good += raw_parse() == LC_ELSP_BUCKETS && m.err_off == base;
	}
	is_int(good, 5, "BUCKETS count 0, 3, 6, 4097, 8192: LC_ELSP_BUCKETS");
	raw_len = base;
	bk[0] = 0;
	bk[1] = 8;
	raw_tlv(DHT_LSP_T_BUCKETS, bk, 2 + 12 * 8 - 1);
	EXPECT(LC_ELSP_TLV_LENGTH, (unsigned)base, DHT_LSP_T_BUCKETS, "8 buckets one byte short");
	raw_len = base;
	raw_tlv(DHT_LSP_T_BUCKETS, bk, 1);
	EXPECT(LC_ELSP_TLV_LENGTH, (unsigned)base, DHT_LSP_T_BUCKETS, "BUCKETS of one byte");
	raw_len = base;
	bk[0] = 0x10;
	bk[1] = 0;
	raw_tlv(DHT_LSP_T_BUCKETS, bk, sizeof(bk));
	ok(raw_parse() == LC_OK && m.buckets.n == 4096 && sizeof(bk) == 49154,
	   "4096 buckets: 49154 bytes");
	raw_len = base - 5;
	raw_tlv(DHT_LSP_T_SYNC_MODE, "\x05", 1);
	raw_tlv(DHT_LSP_T_BUCKETS, bk, 2 + 12 * 4096);
	ok(raw_parse() == LC_OK && m.sync_mode == DHT_LSP_SYNC_HANDOFF, "digest with HANDOFF");
	static const char *const not_digest[] = {"\x03", "\x04", "\x06", "\x00"};
	good = 0;
	for (unsigned i = 0; i < 4; i++) {
		raw_len = base - 5;
		raw_tlv(DHT_LSP_T_SYNC_MODE, not_digest[i], 1);
		raw_tlv(DHT_LSP_T_BUCKETS, bk, 2 + 12 * 4096);
		good += raw_parse() == LC_ELSP_SYNC_MODE && m.err_off == base - 5 &&
			m.err_tlv == DHT_LSP_T_SYNC_MODE;
	}
	is_int(good, 4, "digest with mode 3 (reserved), MERGE, mode 6 or 0: LC_ELSP_SYNC_MODE");
	raw_len = base - 5;
	EXPECT(LC_ELSP_MISSING_TLV, (unsigned)raw_len, DHT_LSP_T_SYNC_MODE,
	       "digest without SYNC_MODE");

	raw_start(DHT_LSP_RANGE_TRANSFER, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(DHT_LSP_T_RANGE, range_v, 32);
	base = raw_len;
	raw_tlv(DHT_LSP_T_SYNC_MODE, "\x02", 1);
	EXPECT(LC_ELSP_SYNC_MODE, (unsigned)base, DHT_LSP_T_SYNC_MODE, "transfer with PUSH");
	raw_len = base;
	raw_tlv(DHT_LSP_T_SYNC_MODE, "\x05", 1);
	EXPECT(LC_ELSP_SYNC_MODE, (unsigned)base, DHT_LSP_T_SYNC_MODE, "transfer with HANDOFF");
	raw_len = base;
	raw_tlv(DHT_LSP_T_SYNC_MODE, "\x06", 1);
	EXPECT(LC_ELSP_SYNC_MODE, (unsigned)base, DHT_LSP_T_SYNC_MODE, "sync mode 6");
	raw_len = base;
	raw_tlv(DHT_LSP_T_SYNC_MODE, "\x03", 1);
	EXPECT(LC_ELSP_SYNC_MODE, (unsigned)base, DHT_LSP_T_SYNC_MODE,
	       "transfer with mode 3 (reserved: REPLACE, withdrawn)");
	raw_len = base;
	raw_tlv(DHT_LSP_T_SYNC_MODE, "\x04", 1);
	size_t at = raw_len;
	raw_tlv(DHT_LSP_T_BUCKET_SET, bk, 512);
	EXPECT(LC_ELSP_TLV_UNKNOWN, (unsigned)at, DHT_LSP_T_BUCKET_SET,
	       "BUCKET_SET in a transfer (only a digest answer carries one)");
	raw_len = at;
	ok(raw_parse() == LC_OK && m.sync_mode == DHT_LSP_SYNC_MERGE && m.nentries == 0 &&
		   !dht_lsp_ovl_can_answer(&m),
	   "MERGE, no entries, not LAST: decodes, not answered");

	/* BUCKET_SET: the differing buckets of a digest answer, exactly 512 bytes */
	raw_start(DHT_LSP_RANGE_DIGEST, DHT_LSP_F_ANSWER);
	raw_tlv(DHT_LSP_T_STATUS, "\x00\xc8", 2);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(DHT_LSP_T_RANGE, range_v, 32);
	at = raw_len;
	EXPECT(LC_ELSP_MISSING_TLV, (unsigned)at, DHT_LSP_T_BUCKET_SET,
	       "digest answer without BUCKET_SET");
	raw_tlv(DHT_LSP_T_BUCKET_SET, bk, 511);
	EXPECT(LC_ELSP_TLV_LENGTH, (unsigned)at, DHT_LSP_T_BUCKET_SET, "BUCKET_SET of 511 bytes");
	raw_len = at;
	raw_tlv(DHT_LSP_T_BUCKET_SET, bk, 513);
	EXPECT(LC_ELSP_TLV_LENGTH, (unsigned)at, DHT_LSP_T_BUCKET_SET, "BUCKET_SET of 513 bytes");
	raw_len = at;
	raw_tlv(DHT_LSP_T_BUCKET_SET, bk, 512);
	ok(raw_parse() == LC_OK && m.bucket_set == raw + at + DHT_LSP_TLV_HDR_LEN,
	   "digest answer with a BUCKET_SET of 512 bytes");
}

/* NODE_INFO (docs/lsp.md §11.3.13): NODE_STATS only in a 2xx answer and only of 44 bytes; an
 * OK answer needs SENDER, INCARNATION, RING_SIZE and NODE_STATS, an error answer only STATUS. */
static void node_info_answer(bool stats)
{
	raw_start(DHT_LSP_NODE_INFO, DHT_LSP_F_ANSWER);
	raw_tlv(DHT_LSP_T_STATUS, "\x00\xc8", 2);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(DHT_LSP_T_INCARNATION, v_inc, 4);
	raw_tlv(DHT_LSP_T_RING_SIZE, "\x00\x00\x00\x03", 4);
	if (stats) {
		raw_tlv(DHT_LSP_T_NODE_STATS, stats_v, DHT_LSP_NODE_STATS_LEN);
	}
}

static void test_node_info_errors(void)
{
	/* 24 header, STATUS 6, SENDER 28, INCARNATION 8, RING_SIZE 8: NODE_STATS at 74 */
	memset(stats_v, 0xff, sizeof(stats_v));
	stats_v[8] = 0x81; /* ONE_HOP and an undefined bit: kept as sent */
	stats_v[9] = 0x07; /* padding: ignored */
	node_info_answer(true);
	ok(raw_parse() == LC_OK && m.npeers == 0 && !(m.present & DHT_LSP_O_PREDECESSOR) &&
		   m.node_stats.flags == 0x81 && m.node_stats.fingers == UINT32_MAX &&
		   m.node_stats.owned_keys == DHT_LSP_STATS_UNKNOWN &&
		   m.node_stats.replica_bindings == DHT_LSP_STATS_UNKNOWN,
	   "OK answer without PREDECESSOR or PEERs; all-ones counts; flags kept");
	size_t len = 0;
	ok(dht_lsp_ovl_encode(&m, buf2, sizeof(buf2), &len) == LC_OK && len == raw_len &&
		   buf2[74 + 4 + 8] == 0x81 && buf2[74 + 4 + 9] == 0 &&
		   memcmp(buf2, raw, 74 + 4 + 9) == 0,
	   "re-encoded: flags as received, padding as zero");
	stats_v[9] = 0;

	for (unsigned k = 0; k < 3; k++) {
		static const size_t lens[] = {DHT_LSP_NODE_STATS_LEN - 1,
					      DHT_LSP_NODE_STATS_LEN + 1, 0};
		char what[64];
		snprintf(what, sizeof(what), "NODE_STATS of %zu bytes", lens[k]);
		node_info_answer(false);
		raw_tlv(DHT_LSP_T_NODE_STATS, stats_v, lens[k]);
		EXPECT(LC_ELSP_TLV_LENGTH, 74, DHT_LSP_T_NODE_STATS, what);
	}
	node_info_answer(true);
	raw_tlv(DHT_LSP_T_NODE_STATS, stats_v, DHT_LSP_NODE_STATS_LEN);
	EXPECT(LC_ELSP_TLV_DUP, 122, DHT_LSP_T_NODE_STATS, "NODE_STATS twice");

	node_info_answer(false);
	EXPECT(LC_ELSP_MISSING_TLV, 74, DHT_LSP_T_NODE_STATS, "OK answer without NODE_STATS");
	raw_start(DHT_LSP_NODE_INFO, DHT_LSP_F_ANSWER);
	raw_tlv(DHT_LSP_T_STATUS, "\x00\xc8", 2);
	raw_tlv(DHT_LSP_T_INCARNATION, v_inc, 4);
	raw_tlv(DHT_LSP_T_RING_SIZE, "\x00\x00\x00\x03", 4);
	raw_tlv(DHT_LSP_T_NODE_STATS, stats_v, DHT_LSP_NODE_STATS_LEN);
	EXPECT(LC_ELSP_MISSING_TLV, 94, DHT_LSP_T_SENDER, "OK answer without SENDER");
	raw_start(DHT_LSP_NODE_INFO, DHT_LSP_F_ANSWER);
	raw_tlv(DHT_LSP_T_STATUS, "\x00\xc8", 2);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(DHT_LSP_T_NODE_STATS, stats_v, DHT_LSP_NODE_STATS_LEN);
	EXPECT(LC_ELSP_MISSING_TLV, 106, DHT_LSP_T_INCARNATION,
	       "OK answer without INCARNATION or RING_SIZE: the first in canonical order");
	raw_start(DHT_LSP_NODE_INFO, DHT_LSP_F_ANSWER);
	raw_tlv(DHT_LSP_T_STATUS, "\x01\xf4", 2);
	ok(raw_parse() == LC_OK && m.status == DHT_LSP_S_INTERNAL && m.present == DHT_LSP_O_STATUS,
	   "a 500 answer with STATUS alone decodes");
	raw_start(DHT_LSP_NODE_INFO, DHT_LSP_F_ANSWER);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	EXPECT(LC_ELSP_MISSING_STATUS, 52, DHT_LSP_T_STATUS, "answer without STATUS");
	node_info_answer(true);
	raw_tlv(DHT_LSP_T_TARGET, sender, 16);
	EXPECT(LC_ELSP_TLV_UNKNOWN, 122, DHT_LSP_T_TARGET, "TARGET in a NODE_INFO answer");

	raw_start(DHT_LSP_NODE_INFO, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	is_int(raw_parse(), LC_OK, "request with SENDER");
	raw_tlv(DHT_LSP_T_NODE_STATS, stats_v, DHT_LSP_NODE_STATS_LEN);
	EXPECT(LC_ELSP_TLV_UNKNOWN, 52, DHT_LSP_T_NODE_STATS, "NODE_STATS in a request");
	raw_len = 52;
	raw_tlv(DHT_LSP_T_NODE_STATS & 0x7fff, stats_v, DHT_LSP_NODE_STATS_LEN);
	ok(raw_parse() == LC_OK && !(m.present & DHT_LSP_O_NODE_STATS),
	   "NODE_STATS with the mandatory bit clear in a request: skipped");
	raw_len = 52;
	raw_tlv(DHT_LSP_T_INCARNATION, v_inc, 4);
	EXPECT(LC_ELSP_TLV_UNKNOWN, 52, DHT_LSP_T_INCARNATION, "INCARNATION in a request");
	raw_start(DHT_LSP_NODE_INFO, 0);
	EXPECT(LC_ELSP_MISSING_TLV, 24, DHT_LSP_T_SENDER, "request without SENDER");
	ok(dht_lsp_ovl_can_answer(&m), "and it is answered");

	/* NODE_STATS where other types do not take it */
	raw_start(DHT_LSP_NODE_PING, DHT_LSP_F_ANSWER);
	raw_tlv(DHT_LSP_T_STATUS, "\x00\xc8", 2);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	raw_tlv(DHT_LSP_T_NODE_STATS, stats_v, DHT_LSP_NODE_STATS_LEN);
	EXPECT(LC_ELSP_TLV_UNKNOWN, 58, DHT_LSP_T_NODE_STATS, "NODE_STATS in a NODE_PING answer");

	/* the builder writes what it is given, and the 33rd peer still fails */
	struct dht_lsp_builder b;
	struct dht_lsp_node a2 = node4(N2, 2);
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_ovl_answer_start(&b, &m, &a2, DHT_LSP_S_OK);
	dht_lsp_put_incarnation(&b, 1);
	dht_lsp_put_ring_size(&b, 1);
	dht_lsp_put_node_stats(&b, &STATS);
	for (int k = 0; k <= DHT_LSP_MAX_PEERS; k++) {
		dht_lsp_put_peer(&b, &a2);
	}
	is_int(dht_lsp_build_finish(&b, &len), LC_ELSP_TOO_MANY_PEERS,
	       "a NODE_INFO answer of 33 peers is refused");
}

/* Every vector cut at every byte: with its header as is (LC_ELSP_TRUNCATED), and with the body
 * length patched to the cut (a TLV error, or a shorter valid message that is canonical). */
static void test_truncations(void)
{
	static const char *const names[] = {"join-answer",    "get-predecessor-answer",
					    "membership",     "replica-store",
					    "range-digest",   "range-digest-answer",
					    "range-transfer", "range-transfer-versions",
					    "node-info",      "node-info-answer"};
	static uint8_t v[2048], cut[2048];
	int bad = 0, valid = 0, total = 0;
	for (unsigned k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		size_t n = load(names[k], v, sizeof(v));
		for (size_t len = 0; len < n; len++) {
			memcpy(cut, v, len);
			int ret = dht_lsp_ovl_parse(&m, cut, len);
			bad += ret != (len < DHT_LSP_HDR_LEN ? LC_ELSP_SHORT : LC_ELSP_TRUNCATED);
			if (len < DHT_LSP_HDR_LEN) {
				continue;
			}
			cut[6] = (uint8_t)((len - DHT_LSP_HDR_LEN) >> 8);
			cut[7] = (uint8_t)(len - DHT_LSP_HDR_LEN);
			ret = dht_lsp_ovl_parse(&m, cut, len);
			total++;
			bad += m.err_off > len;
			if (ret == LC_OK) {
				size_t el = 0;
				valid++;
				bad += dht_lsp_ovl_encode(&m, buf2, sizeof(buf2), &el) != LC_OK ||
				       el != len || memcmp(buf2, cut, len) != 0;
			}
		}
	}
	is_int(bad, 0, "every cut of every vector: right error, or a canonical shorter message");
	ok(valid > 0 && valid < total / 10, "%d of %d cuts are valid messages (at TLV bounds)",
	   valid, total);
}

/* ---- builder ---- */

static void test_builder_state(void)
{
	struct dht_lsp_builder b;
	size_t len = 0;
	struct dht_lsp_node a1 = node4(N1, 1);
	struct dht_lsp_record r = {.present = DHT_LSP_P_CONTACT | DHT_LSP_P_EXPIRES_AT,
				   .contact = {"sip:a@b", 7},
				   .expires_at_s = 5,
				   .q = -1};
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_ovl_request_start(&b, DHT_LSP_REPLICA_STORE, 1, OVERLAY, &a1);
	dht_lsp_put_record(&b, &r);
	is_int(dht_lsp_build_finish(&b, &len), LC_ELSP_TLV_UNKNOWN,
	       "EXPIRES_AT in a message-level record refused as the decoder would");
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_ovl_request_start(&b, DHT_LSP_REPLICA_STORE, 1, OVERLAY, &a1);
	dht_lsp_entry_begin(&b, KEY, strlen(KEY), 1);
	dht_lsp_put_key(&b, KEY, strlen(KEY));
	is_int(dht_lsp_build_finish(&b, &len), LC_ELSP_BUILD_STATE, "KEY inside an open entry");
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_ovl_request_start(&b, DHT_LSP_REPLICA_STORE, 1, OVERLAY, &a1);
	dht_lsp_entry_begin(&b, KEY, strlen(KEY), 1);
	dht_lsp_entry_begin(&b, KEY, strlen(KEY), 1);
	is_int(dht_lsp_build_finish(&b, &len), LC_ELSP_BUILD_STATE, "entries do not nest");
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_ovl_request_start(&b, DHT_LSP_REPLICA_STORE, 1, OVERLAY, &a1);
	dht_lsp_entry_begin(&b, KEY, strlen(KEY), 1);
	is_int(dht_lsp_build_finish(&b, &len), LC_ELSP_BUILD_STATE, "finish with an open entry");
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_ovl_request_start(&b, DHT_LSP_REPLICA_STORE, 1, OVERLAY, &a1);
	dht_lsp_entry_end(&b);
	is_int(dht_lsp_build_finish(&b, &len), LC_ELSP_BUILD_STATE, "end without begin");
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_entry_begin(&b, KEY, strlen(KEY), 1);
	is_int(dht_lsp_build_finish(&b, &len), LC_ELSP_BUILD_STATE, "entry before the header");
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_ovl_request_start(&b, DHT_LSP_REPLICA_STORE, 1, OVERLAY, &a1);
	dht_lsp_entry_begin(&b, "", 0, 1);
	is_int(dht_lsp_build_finish(&b, &len), LC_ELSP_KEY, "entry with an empty key");

	/* value checks */
	struct {
		int err;
		const char *what;
	} cases[] = {{LC_ELSP_MEMBER, "member state 0"},       {LC_ELSP_SOURCE, "member address"},
		     {LC_ELSP_CHAIN, "chain 0/1/1"},	       {LC_ELSP_PAGE, "page 2 of 2"},
		     {LC_ELSP_BUCKETS, "3 buckets"},	       {LC_ELSP_SYNC_MODE, "sync mode 0"},
		     {LC_ELSP_SYNC_MODE, "sync mode 6"},       {LC_ELSP_SYNC_MODE, "sync mode 3"},
		     {LC_ELSP_SOURCE, "sender address"},       {LC_EINVAL, "orig type 256"},
		     {LC_ELSP_TOO_MANY_PEERS, "33 peers"},     {LC_ELSP_TOO_MANY_MEMBERS, "1025"},
		     {LC_ELSP_TOO_MANY_RECORDS, "257 records"}};
	static struct dht_lsp_bucket bk[4];
	struct dht_lsp_member mb = {.id = N2, .addr = a1.addr, .incarnation = 1, .state = 0};
	struct dht_lsp_record rr = {.present = DHT_LSP_P_CONTACT, .contact = {"sip:a@b", 7}};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dht_lsp_build_init(&b, buf, sizeof(buf));
		dht_lsp_ovl_request_start(&b, DHT_LSP_MEMBERSHIP, 1, OVERLAY, &a1);
		switch (i) {
		case 0:
			dht_lsp_put_member(&b, &mb);
			break;
		case 1:
			mb.state = 1;
			mb.addr.family = 0;
			dht_lsp_put_member(&b, &mb);
			mb.addr = a1.addr;
			break;
		case 2:
			dht_lsp_put_chain(&b, &(struct dht_lsp_chain){0, 1, 1});
			break;
		case 3:
			dht_lsp_put_page(&b, &(struct dht_lsp_page){2, 2});
			break;
		case 4:
			dht_lsp_put_buckets(&b, bk, 3);
			break;
		case 5:
			dht_lsp_put_sync_mode(&b, 0);
			break;
		case 6:
			dht_lsp_put_sync_mode(&b, 6);
			break;
		case 7:
			dht_lsp_put_sync_mode(&b, 3);
			break;
		case 8:
			dht_lsp_put_sender(&b, &(struct dht_lsp_node){0});
			break;
		case 9:
			dht_lsp_put_orig_type(&b, 256);
			break;
		case 10:
			for (int k = 0; k <= DHT_LSP_MAX_PEERS; k++) {
				dht_lsp_put_peer(&b, &a1);
			}
			break;
		case 11:
			for (int k = 0; k <= DHT_LSP_MAX_MEMBERS; k++) {
				dht_lsp_put_member(&b, &mb);
			}
			break;
		default:
			dht_lsp_entry_begin(&b, KEY, strlen(KEY), 1);
			for (int k = 0; k <= DHT_LSP_MAX_ENTRY_RECORDS; k++) {
				dht_lsp_put_record(&b, &rr);
			}
			break;
		}
		is_int(dht_lsp_build_finish(&b, &len), cases[i].err, "builder refuses %s",
		       cases[i].what);
	}
}

/* The builder refuses the entry-only fields outside an ENTRY and a removal the decoder would
 * refuse, and dht_lsp_record_len() is exact for every combination of the entry-only fields. */
static void test_element_builder(void)
{
	struct dht_lsp_builder b;
	size_t len = 0;
	struct dht_lsp_node a1 = node4(N1, 1);
	static const uint32_t bits[] = {DHT_LSP_P_REC_VERSION, DHT_LSP_P_WRITER, DHT_LSP_P_REMOVED};
	int refused = 0;
	for (unsigned i = 0; i < 3; i++) {
		struct dht_lsp_record r = {.present = DHT_LSP_P_CONTACT | bits[i],
					   .contact = {"*", 1},
					   .version = 1,
					   .writer = 2,
					   .removed = DHT_LSP_REMOVED_ALL,
					   .q = -1};
		dht_lsp_build_init(&b, buf, sizeof(buf));
		dht_lsp_ovl_request_start(&b, DHT_LSP_RANGE_TRANSFER, 1, OVERLAY, &a1);
		dht_lsp_put_record(&b, &r);
		refused += dht_lsp_build_finish(&b, &len) == LC_ELSP_TLV_UNKNOWN;
	}
	is_int(refused, 3, "REC_VERSION, WRITER, REMOVED in a message-level record: refused");

	struct {
		const char *contact;
		uint8_t removed;
		int err;
		const char *what;
	} cases[] = {
		{"*", 0, LC_ELSP_REMOVED, "REMOVED 0"},
		{"*", 3, LC_ELSP_REMOVED, "REMOVED 3"},
		{"sip:a@b", DHT_LSP_REMOVED_ALL, LC_ELSP_REMOVED, "REMOVED 2 with a real contact"},
		{"", DHT_LSP_REMOVED_ALL, LC_ELSP_MISSING_CONTACT, "REMOVED 2 without a contact"},
		{"*", DHT_LSP_REMOVED_ALL, LC_OK, "REMOVED 2 with contact \"*\""},
		{"sip:a@b", DHT_LSP_REMOVED_CONTACT, LC_OK, "REMOVED 1"},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dht_lsp_record r = {
			.present = DHT_LSP_P_CONTACT | DHT_LSP_P_REMOVED,
			.contact = {cases[i].contact, (uint32_t)strlen(cases[i].contact)},
			.removed = cases[i].removed,
			.q = -1};
		dht_lsp_build_init(&b, buf, sizeof(buf));
		dht_lsp_ovl_request_start(&b, DHT_LSP_RANGE_TRANSFER, 1, OVERLAY, &a1);
		dht_lsp_put_range(&b, &(struct dht_lsp_range){N1, N2});
		dht_lsp_put_sync_mode(&b, DHT_LSP_SYNC_MERGE);
		dht_lsp_entry_begin(&b, KEY, strlen(KEY), 9);
		dht_lsp_put_record(&b, &r);
		dht_lsp_entry_end(&b);
		int ret = dht_lsp_build_finish(&b, &len);
		is_int(ret, cases[i].err, "builder, in an entry: %s", cases[i].what);
		if (ret == LC_OK) {
			ok(dht_lsp_ovl_parse(&m, buf, len) == LC_OK, "and it decodes: %s",
			   cases[i].what);
		}
	}
	/* removed without its present bit: not sent, not checked */
	struct dht_lsp_record quiet = {
		.present = DHT_LSP_P_CONTACT, .contact = {"sip:a@b", 7}, .removed = 9, .q = -1};
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_ovl_request_start(&b, DHT_LSP_REPLICA_STORE, 1, OVERLAY, &a1);
	dht_lsp_put_chain(&b, &(struct dht_lsp_chain){1, 1, 2});
	dht_lsp_entry_begin(&b, KEY, strlen(KEY), 9);
	dht_lsp_put_record(&b, &quiet);
	dht_lsp_entry_end(&b);
	struct dht_lsp_iter it;
	struct dht_lsp_entry e;
	struct dht_lsp_record r;
	ok(dht_lsp_build_finish(&b, &len) == LC_OK && dht_lsp_ovl_parse(&m, buf, len) == LC_OK &&
		   (it = dht_lsp_ovl_entries(&m), true) && dht_lsp_ovl_next_entry(&it, &e) &&
		   dht_lsp_ovl_next_record(&e.records, &r) && r.removed == 0 &&
		   r.present == DHT_LSP_P_CONTACT,
	   "a removed value without DHT_LSP_P_REMOVED is not sent");

	/* dht_lsp_record_len(): every subset of the six entry-only fields, over three records */
	static const uint32_t entry_only[] = {DHT_LSP_P_EXPIRES_AT, DHT_LSP_P_REGISTERED_AT,
					      DHT_LSP_P_TXN_TAG,    DHT_LSP_P_REC_VERSION,
					      DHT_LSP_P_WRITER,	    DHT_LSP_P_REMOVED};
	struct dht_lsp_record base[3];
	versioned_records(base);
	base[0].removed = DHT_LSP_REMOVED_CONTACT; /* sent only in the subsets with REMOVED */
	struct dht_lsp_node a6 = node6(N3, 3);
	base[1].present |= DHT_LSP_P_SOURCE | DHT_LSP_P_Q | DHT_LSP_P_PATH | DHT_LSP_P_ATTRS;
	base[1].src = a6.addr;
	base[1].q = 700;
	base[1].path = bytes_of("<sip:edge.example.com;lr>");
	base[1].attrs = bytes_of("\x01\x02");
	int exact = 0, total = 0;
	for (unsigned k = 0; k < 3; k++) {
		for (unsigned set = 0; set < 64; set++) {
			struct dht_lsp_record x = base[k];
			x.present &= ~(uint32_t)DHT_LSP_P_ENTRY_ONLY;
			for (unsigned j = 0; j < 6; j++) {
				x.present |= (set >> j & 1) ? entry_only[j] : 0;
			}
			dht_lsp_build_init(&b, buf, sizeof(buf));
			dht_lsp_ovl_request_start(&b, DHT_LSP_RANGE_TRANSFER, 1, OVERLAY, &a1);
			dht_lsp_entry_begin(&b, "k", 1, 1);
			dht_lsp_put_record(&b, &x);
			dht_lsp_entry_end(&b);
			exact += dht_lsp_build_finish(&b, &len) == LC_OK &&
				 len == DHT_LSP_HDR_LEN + 4 + 24 +
						 dht_lsp_entry_len(1, dht_lsp_record_len(&x));
			total++;
		}
	}
	is_int(exact, total, "dht_lsp_record_len() is what put_record appends, in all %d cases",
	       total);
}

/* The limits' size promises: a full JOIN page and the largest REPLICA_STORE fit one message. */
static void test_limits_fit(void)
{
	struct dht_lsp_builder b;
	size_t len = 0;
	struct dht_lsp_node a6 = node6(N3, 3);
	struct dht_lsp_hdr h = answer_hdr(DHT_LSP_JOIN, 1);
	dht_lsp_build_init(&b, buf, DHT_LSP_MAX_MSG);
	dht_lsp_build_hdr(&b, &h);
	dht_lsp_put_status(&b, 200);
	dht_lsp_put_sender(&b, &a6);
	dht_lsp_put_ring_size(&b, 4096);
	dht_lsp_put_view_digest(&b, &(struct dht_lsp_digest){1, 4096});
	dht_lsp_put_page(&b, &(struct dht_lsp_page){3, 4});
	for (int i = 0; i < DHT_LSP_MAX_MEMBERS; i++) {
		dht_lsp_put_member(&b, &(struct dht_lsp_member){(dht_id_t)i, a6.addr, 7, 1});
	}
	is_int(dht_lsp_build_finish(&b, &len), LC_OK, "1024 IPv6 members fit one JOIN answer");
	ok(dht_lsp_ovl_parse(&m, buf, len) == LC_OK && m.nmembers == DHT_LSP_MAX_MEMBERS,
	   "and decode (%zu bytes)", len);

	/* every REPLICA_STORE field at its largest, and an entry of exactly DHT_LSP_MAX_ENTRY */
	static char ctx[DHT_LSP_MAX_REPLY_CTX], contact[DHT_LSP_MAX_RECORD_VAR];
	memset(contact, 'c', sizeof(contact));
	struct dht_lsp_record r = {.present = DHT_LSP_P_CONTACT, .contact = {contact, 0}, .q = -1};
	size_t key_len = DHT_LSP_MAX_KEY, per = 4 + 4 + 7000;
	size_t nrec = (DHT_LSP_MAX_ENTRY - dht_lsp_entry_len(key_len, 0)) / per;
	size_t rest = DHT_LSP_MAX_ENTRY - dht_lsp_entry_len(key_len, nrec * per);
	static char key[DHT_LSP_MAX_KEY];
	memset(key, 'k', sizeof(key));
	dht_lsp_build_init(&b, buf, DHT_LSP_MAX_MSG);
	dht_lsp_ovl_request_start(&b, DHT_LSP_REPLICA_STORE, 1, OVERLAY, &a6);
	dht_lsp_put_reply_to(&b, &a6.addr);
	dht_lsp_put_orig_txn(&b, 1);
	dht_lsp_put_orig_type(&b, DHT_LSP_PUBLISH);
	dht_lsp_put_reply_ctx(&b, ctx, sizeof(ctx));
	dht_lsp_put_owner(&b, &a6);
	dht_lsp_put_chain(&b, &(struct dht_lsp_chain){2, 3, 3});
	dht_lsp_entry_begin(&b, key, key_len, 1);
	for (size_t i = 0; i < nrec; i++) {
		r.contact.len = 7000;
		dht_lsp_put_record(&b, &r);
	}
	r.contact.len = (uint32_t)(rest - 8);
	dht_lsp_put_record(&b, &r);
	dht_lsp_entry_end(&b);
	is_int(dht_lsp_build_finish(&b, &len), LC_OK, "largest REPLICA_STORE builds");
	ok(len == DHT_LSP_MAX_MSG && dht_lsp_ovl_parse(&m, buf, len) == LC_OK,
	   "it is exactly %u bytes and decodes", DHT_LSP_MAX_MSG);

	/* one byte more in the entry: LC_ELSP_TOO_LONG, which is not "full" */
	dht_lsp_build_init(&b, buf, sizeof(buf));
	dht_lsp_ovl_request_start(&b, DHT_LSP_RANGE_TRANSFER, 1, OVERLAY, &a6);
	dht_lsp_entry_begin(&b, key, key_len, 1);
	for (size_t i = 0; i < nrec; i++) {
		r.contact.len = 7000;
		dht_lsp_put_record(&b, &r);
	}
	r.contact.len = (uint32_t)(rest - 7);
	dht_lsp_put_record(&b, &r);
	dht_lsp_entry_end(&b);
	ok(dht_lsp_build_err(&b) == LC_ELSP_TOO_LONG && !dht_lsp_build_full(&b),
	   "an entry one byte past DHT_LSP_MAX_ENTRY: LC_ELSP_TOO_LONG, not full");
}

/* A worker's EMIT: entries of random sizes streamed into frames of a small capacity, each entry
 * appended when it fits, else the frame is rolled back to before it, finished, and a new one
 * started; then the transfer ends with an empty LAST frame (docs/lsp.md §11.3.10). */
enum { NKEYS = 300, FRAME_CAP = 1500 };
static uint8_t frame[FRAME_CAP + GUARD];
static char skeys[NKEYS][32];
static unsigned nrec_of[NKEYS];

static void frame_start(struct dht_lsp_builder *b, uint64_t txn)
{
	struct dht_lsp_node a2 = node4(N2, 2);
	memset(frame + FRAME_CAP, 0xa5, GUARD);
	dht_lsp_build_init(b, frame, FRAME_CAP);
	dht_lsp_ovl_request_start(b, DHT_LSP_RANGE_TRANSFER, txn, OVERLAY, &a2);
	dht_lsp_put_range(b, &(struct dht_lsp_range){N1, N2});
	dht_lsp_put_sync_mode(b, DHT_LSP_SYNC_MERGE);
}

/* Append entry @p key; false (the frame as before) when it does not fit. */
static bool frame_entry(struct dht_lsp_builder *b, int key)
{
	static char contact[600];
	memset(contact, 'x', sizeof(contact));
	struct dht_lsp_mark mk;
	dht_lsp_build_mark(b, &mk);
	dht_lsp_entry_begin(b, skeys[key], strlen(skeys[key]), (uint64_t)key);
	for (unsigned k = 0; k < nrec_of[key]; k++) {
		struct dht_lsp_record r = {.present = DHT_LSP_P_CONTACT | DHT_LSP_P_EXPIRES_AT,
					   .contact = {contact, 100 + 150 * k},
					   .expires_at_s = (uint32_t)key,
					   .q = -1};
		dht_lsp_put_record(b, &r);
	}
	dht_lsp_entry_end(b);
	if (dht_lsp_build_full(b)) {
		dht_lsp_build_rollback(b, &mk);
		return false;
	}
	return true;
}

/* Finish the frame and check it: decodes, holds entries first..key-1 intact. */
static int frame_check(struct dht_lsp_builder *b, int first, int key)
{
	size_t len = 0;
	int bad = dht_lsp_build_finish(b, &len) != LC_OK;
	for (int g = 0; g < GUARD; g++) {
		bad += frame[FRAME_CAP + g] != 0xa5;
	}
	if (bad || dht_lsp_ovl_parse(&m, frame, len) != LC_OK ||
	    m.nentries != (uint16_t)(key - first)) {
		return bad + 1;
	}
	struct dht_lsp_iter it = dht_lsp_ovl_entries(&m);
	struct dht_lsp_entry e;
	int i = first;
	while (dht_lsp_ovl_next_entry(&it, &e)) {
		bad += e.version != (uint64_t)i || !bytes_is(e.key, skeys[i]) ||
		       e.nrecords != nrec_of[i];
		struct dht_lsp_record r;
		while (dht_lsp_ovl_next_record(&e.records, &r)) {
			bad += r.expires_at_s != (uint32_t)i;
		}
		i++;
	}
	return bad + (i != key);
}

static void test_streaming(void)
{
	uint64_t seed = 7;
	for (int i = 0; i < NKEYS; i++) {
		snprintf(skeys[i], sizeof(skeys[i]), "sip:user%d@example.com", i);
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		nrec_of[i] = (unsigned)(seed >> 33) % 4;
	}
	int key = 0, frames = 0, bad = 0;
	struct dht_lsp_builder b;
	while (key < NKEYS && frames < 1000) {
		frame_start(&b, (uint64_t)frames);
		int first = key;
		while (key < NKEYS && frame_entry(&b, key)) {
			key++;
		}
		bad += key == first; /* every entry fits an empty frame */
		bad += frame_check(&b, first, key);
		frames++;
	}
	frame_start(&b, (uint64_t)frames);
	dht_lsp_put_flags(&b, DHT_LSP_FLAG_LAST);
	bad += frame_check(&b, key, key);
	ok(m.flags == DHT_LSP_FLAG_LAST && m.nentries == 0 && dht_lsp_ovl_can_answer(&m),
	   "the empty LAST frame decodes and is the one answered");
	is_int(bad, 0, "every frame finished after a rollback decodes with its entries intact");
	ok(key == NKEYS && frames > 10, "all %d entries sent in %d frames of %d bytes", NKEYS,
	   frames, FRAME_CAP);
}

/* The replica-store vector encoded at every capacity: exact bytes or LC_ENOSPACE. */
static void test_builder_sizes(void)
{
	static uint8_t v[2048], out[2048 + GUARD];
	size_t n = load("replica-store", v, sizeof(v));
	is_int(dht_lsp_ovl_parse(&m, v, n), LC_OK, "replica-store decodes");
	int bad = 0;
	for (size_t cap = 0; cap <= n + 8; cap++) {
		memset(out, 0xa5, sizeof(out));
		size_t len = 0;
		int ret = dht_lsp_ovl_encode(&m, out, cap, &len);
		for (size_t i = cap; i < cap + GUARD; i++) {
			bad += out[i] != 0xa5;
		}
		bad += cap >= n ? ret != LC_OK || len != n || memcmp(out, v, n) != 0
				: ret != LC_ENOSPACE;
	}
	is_int(bad, 0, "encode at every capacity 0..%zu: exact or LC_ENOSPACE, guard intact",
	       n + 8);
}

static void test_error_answer(void)
{
	struct dht_lsp_node a3 = node6(N3, 3);
	replica_start();
	raw_tlv(DHT_LSP_T_REPLY_CTX, "\x01\x02", 2);
	raw_tlv(DHT_LSP_T_ENTRY, entry_v, entry_n);
	raw_tlv(DHT_LSP_T_CHAIN, "\x01\x02\x03", 3);
	EXPECT(LC_ELSP_TLV_DUP, (unsigned)(65 + 4 + entry_n), DHT_LSP_T_CHAIN, "CHAIN twice");
	ok(dht_lsp_ovl_can_answer(&m), "a request that failed can be answered");
	size_t len = 0;
	is_int(dht_lsp_ovl_answer_error(buf, sizeof(buf), &m, &a3, &len), LC_OK,
	       "error answer built");
	uint32_t off = m.err_off;
	is_int(dht_lsp_ovl_parse(&m2, buf, len), LC_OK, "error answer decodes");
	ok(dht_lsp_ovl_is_answer(&m2) && m2.hdr.type == DHT_LSP_REPLICA_STORE &&
		   m2.hdr.txn_id == 9 && m2.status == DHT_LSP_S_BAD_REQUEST &&
		   node_is(&m2.sender, &a3) && m2.detail.err == LC_ELSP_TLV_DUP &&
		   m2.detail.tlv == DHT_LSP_T_CHAIN && m2.detail.offset == off &&
		   bytes_is(m2.reason, "Single-valued TLV repeated") && m2.key.len == 0 &&
		   m2.reply_ctx.len == 0,
	   "BAD_REQUEST with sender, detail and reason (a REPLICA_STORE answer echoes nothing)");
	raw_start(DHT_LSP_RANGE_TRANSFER, 0);
	raw_tlv(DHT_LSP_T_SENDER, sender, 24);
	ok(raw_parse() == LC_ELSP_MISSING_TLV && dht_lsp_ovl_can_answer(&m),
	   "a transfer frame that failed is answered though not LAST");
	ok(dht_lsp_ovl_encode(&m, buf, sizeof(buf), &len) == LC_EINVAL,
	   "a message that failed does not encode");
}

/* ---- random messages of every type ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (uint32_t)(rng % n) : 0;
}

static uint64_t rnd64(void)
{
	return (uint64_t)rnd(UINT32_MAX) << 32 | rnd(UINT32_MAX);
}

static char pool[8192];

static struct dht_lsp_node rnd_node(void)
{
	struct dht_lsp_node n = rnd(2) ? node4(ID(rnd(UINT32_MAX), rnd(UINT32_MAX)), 1)
				       : node6(ID(rnd(UINT32_MAX), rnd(UINT32_MAX)), 2);
	n.addr.port = (uint16_t)rnd(65536);
	return n;
}

static void rnd_entries(struct dht_lsp_builder *b, unsigned max)
{
	unsigned ne = rnd(max + 1);
	for (unsigned i = 0; i < ne; i++) {
		dht_lsp_entry_begin(b, pool + rnd(1000), 1 + rnd(100), ((uint64_t)rnd(UINT32_MAX)));
		unsigned nr = rnd(4);
		for (unsigned k = 0; k < nr; k++) {
			/* bits 23..28: the six entry-only fields */
			struct dht_lsp_record r = {.present = DHT_LSP_P_CONTACT | (rnd(64) << 23) |
							      (rnd(2) ? DHT_LSP_P_Q : 0),
						   .contact = {pool + rnd(1000), 1 + rnd(80)},
						   .expires_at_s = rnd(UINT32_MAX),
						   .registered_at_s = rnd(UINT32_MAX),
						   .txn_tag = rnd(UINT32_MAX),
						   .version = rnd64(),
						   .writer = rnd64(),
						   .removed = (uint8_t)(1 + rnd(2)),
						   .q = (int16_t)rnd(1001)};
			r.expires_at_s *= (r.present & DHT_LSP_P_EXPIRES_AT) != 0;
			r.registered_at_s *= (r.present & DHT_LSP_P_REGISTERED_AT) != 0;
			r.txn_tag *= (r.present & DHT_LSP_P_TXN_TAG) != 0;
			r.version *= (r.present & DHT_LSP_P_REC_VERSION) != 0;
			r.writer *= (r.present & DHT_LSP_P_WRITER) != 0;
			r.removed *= (r.present & DHT_LSP_P_REMOVED) != 0;
			if (r.removed == DHT_LSP_REMOVED_ALL) {
				r.contact = (struct dht_bytes){"*", 1};
			}
			r.q = (r.present & DHT_LSP_P_Q) ? r.q : -1;
			dht_lsp_put_record(b, &r);
		}
		dht_lsp_entry_end(b);
	}
}

/* A NODE_INFO answer's body after SENDER: random, counts sometimes not known. */
static void rnd_node_info(struct dht_lsp_builder *b)
{
	struct dht_lsp_node n = rnd_node();
	uint64_t c[4];
	for (int k = 0; k < 4; k++) {
		c[k] = rnd(4) ? ((uint64_t)rnd(UINT32_MAX) << 32) | rnd(UINT32_MAX)
			      : DHT_LSP_STATS_UNKNOWN;
	}
	struct dht_lsp_node_stats st = {
		rnd(128), rnd(UINT32_MAX), (uint8_t)rnd(256), c[0], c[1], c[2], c[3]};
	dht_lsp_put_incarnation(b, rnd(UINT32_MAX));
	dht_lsp_put_ring_size(b, rnd(5000));
	if (rnd(2)) {
		dht_lsp_put_predecessor(b, &n);
	}
	dht_lsp_put_node_stats(b, &st);
	for (unsigned i = rnd(DHT_LSP_MAX_PEERS + 1); i > 0; i--) {
		struct dht_lsp_node x = rnd_node();
		dht_lsp_put_peer(b, &x);
	}
}

/* The request or 2xx answer body of @p type, in canonical order, random where allowed. */
static void rnd_body(struct dht_lsp_builder *b, unsigned type, bool answer)
{
	struct dht_lsp_node n = rnd_node();
	struct dht_lsp_digest d = {((uint64_t)rnd(UINT32_MAX) << 32) | rnd(UINT32_MAX), rnd(5000)};
	struct dht_lsp_range rg = {ID(rnd(UINT32_MAX), 1), ID(2, rnd(UINT32_MAX))};
	uint16_t count = (uint16_t)(1 + rnd(4));
	struct dht_lsp_page pg = {(uint16_t)rnd(count), count};
	static uint8_t set[DHT_LSP_BUCKET_SET_LEN];
	static struct dht_lsp_bucket bk[64];
	switch (type) {
	case DHT_LSP_JOIN:
		if (!answer && rnd(2)) {
			dht_lsp_put_incarnation(b, rnd(UINT32_MAX));
		}
		if (answer) {
			dht_lsp_put_ring_size(b, rnd(5000));
			dht_lsp_put_view_digest(b, &d);
		}
		if (answer) {
			dht_lsp_put_page(b, &pg);
		}
		for (unsigned i = answer ? rnd(20) : 0; i > 0; i--) {
			struct dht_lsp_node x = rnd_node();
			dht_lsp_put_member(b, &(struct dht_lsp_member){x.id, x.addr, rnd(9),
								       (uint8_t)(1 + rnd(2))});
		}
		break;
	case DHT_LSP_FIND_SUCCESSOR:
		dht_lsp_put_target(b, n.id);
		if (answer) {
			dht_lsp_put_flags(b, rnd(2));
			dht_lsp_put_peer(b, &n);
		}
		break;
	case DHT_LSP_GET_PREDECESSOR:
	case DHT_LSP_SUCCESSOR_LIST:
		if (answer && type == DHT_LSP_GET_PREDECESSOR && rnd(2)) {
			dht_lsp_put_predecessor(b, &n);
		}
		for (unsigned i = answer ? rnd(DHT_LSP_MAX_PEERS + 1) : 0; i > 0; i--) {
			struct dht_lsp_node x = rnd_node();
			dht_lsp_put_peer(b, &x);
		}
		break;
	case DHT_LSP_NODE_PING:
	case DHT_LSP_LEAVE:
		if (!answer || type == DHT_LSP_NODE_PING) {
			dht_lsp_put_incarnation(b, rnd(UINT32_MAX));
		}
		for (unsigned i = !answer && type == DHT_LSP_LEAVE ? rnd(9) : 0; i > 0; i--) {
			struct dht_lsp_node x = rnd_node();
			dht_lsp_put_peer(b, &x);
		}
		break;
	case DHT_LSP_MEMBERSHIP:
		if (!answer && rnd(2)) {
			dht_lsp_put_flags(b, DHT_LSP_FLAG_WANT_VIEW);
		}
		dht_lsp_put_view_digest(b, &d);
		if (rnd(2)) {
			dht_lsp_put_page(b, &pg);
		}
		for (unsigned i = rnd(30); i > 0; i--) {
			struct dht_lsp_node x = rnd_node();
			dht_lsp_put_member(b, &(struct dht_lsp_member){x.id, x.addr, rnd(9),
								       (uint8_t)(1 + rnd(2))});
		}
		break;
	case DHT_LSP_REPLICA_STORE:
		if (answer) {
			dht_lsp_put_key(b, pool + rnd(1000), 1 + rnd(DHT_LSP_MAX_KEY));
		}
		if (rnd(2)) {
			dht_lsp_put_reply_to(b, &n.addr);
			dht_lsp_put_orig_txn(b, rnd(UINT32_MAX));
			dht_lsp_put_orig_type(b, rnd(256));
			dht_lsp_put_reply_ctx(b, pool + rnd(1000), rnd(DHT_LSP_MAX_REPLY_CTX));
		}
		if (!answer) {
			if (rnd(2)) {
				dht_lsp_put_owner(b, &n);
			}
			uint8_t r = (uint8_t)(2 + rnd(5));
			dht_lsp_put_chain(b, &(struct dht_lsp_chain){(uint8_t)(1 + rnd(r - 1)),
								     (uint8_t)(1 + rnd(r)), r});
			dht_lsp_entry_begin(b, KEY, strlen(KEY), 1);
			dht_lsp_entry_end(b);
			rnd_entries(b, 3);
		}
		break;
	case DHT_LSP_RANGE_TRANSFER:
		if (!answer) {
			dht_lsp_put_range(b, &rg);
			dht_lsp_put_sync_mode(b, DHT_LSP_SYNC_MERGE);
			if (rnd(2)) {
				dht_lsp_put_flags(b, rnd(2));
			}
			rnd_entries(b, 6);
		}
		break;
	case DHT_LSP_RANGE_DIGEST:
		dht_lsp_put_range(b, &rg);
		if (!answer) {
			static const unsigned digest_modes[] = {
				DHT_LSP_SYNC_PULL, DHT_LSP_SYNC_PUSH, DHT_LSP_SYNC_HANDOFF};
			dht_lsp_put_sync_mode(b, digest_modes[rnd(3)]);
			for (unsigned i = 0; i < 64; i++) {
				bk[i] = (struct dht_lsp_bucket){rnd(UINT32_MAX), rnd(100)};
			}
			dht_lsp_put_buckets(b, bk, 1u << rnd(7));
		} else {
			set[rnd(sizeof(set))] ^= (uint8_t)rnd(256);
			dht_lsp_put_bucket_set(b, set);
		}
		break;
	case DHT_LSP_NODE_INFO:
		if (answer) {
			rnd_node_info(b);
		}
		break;
	default: /* NOTIFY */
		break;
	}
}

static void test_round_trips(void)
{
	static const uint8_t types[] = {0x20, 0x21, 0x22, 0x23, 0x24, 0x25,
					0x26, 0x27, 0x28, 0x40, 0x41, 0x42};
	for (size_t i = 0; i < sizeof(pool); i++) {
		pool[i] = (char)rnd(256);
	}
	int fails = 0, built = 0;
	for (int i = 0; i < 3000; i++) {
		unsigned type = types[rnd(sizeof(types))];
		bool answer = rnd(2);
		struct dht_lsp_node self = rnd_node();
		struct dht_lsp_builder b;
		dht_lsp_build_init(&b, buf, sizeof(buf));
		struct dht_lsp_hdr h = answer ? answer_hdr(type, rnd(UINT32_MAX))
					      : (struct dht_lsp_hdr){.type = (uint8_t)type,
								     .hop_limit = 1,
								     .txn_id = rnd(UINT32_MAX),
								     .overlay_id = OVERLAY};
		dht_lsp_build_hdr(&b, &h);
		if (answer) {
			dht_lsp_put_status(&b, 200 + rnd(100));
		}
		dht_lsp_put_sender(&b, &self);
		rnd_body(&b, type, answer);
		size_t len = 0, len2 = 0;
		int ret = dht_lsp_build_finish(&b, &len);
		if (ret != LC_OK) {
			if (fails++ == 0) {
				printf("# build of type 0x%02x failed: %s\n", type,
				       lc_strerror_name(ret));
			}
			continue;
		}
		built++;
		if (dht_lsp_ovl_parse(&m, buf, len) != LC_OK ||
		    dht_lsp_ovl_encode(&m, buf2, sizeof(buf2), &len2) != LC_OK || len2 != len ||
		    memcmp(buf, buf2, len) != 0 || dht_lsp_ovl_parse(&m2, buf2, len2) != LC_OK ||
		    !lsp_ovl_msg_eq(&m, &m2) || !node_is(&m.sender, &self)) {
			if (fails++ == 0) {
				printf("# first failure at %d (type 0x%02x%s): err %s off %u tlv "
				       "0x%04x\n",
				       i, type, answer ? " answer" : "", lc_strerror_name(m.err),
				       (unsigned)m.err_off, (unsigned)m.err_tlv);
			}
		}
	}
	is_int(fails, 0, "3000 random overlay messages: build, decode, encode the same bytes");
	ok(built == 3000, "all 3000 built");
}

int main(void)
{
	test_join_vector();
	test_predecessor_vector();
	test_membership_vector();
	test_replica_store_vectors();
	test_range_vectors();
	test_versions_vector();
	test_node_info_vectors();
	test_dispatch();
	test_field_errors();
	test_chain_errors();
	test_entry_errors();
	test_element_errors();
	test_view_errors();
	test_sync_errors();
	test_node_info_errors();
	test_truncations();
	test_builder_state();
	test_element_builder();
	test_limits_fit();
	test_streaming();
	test_builder_sizes();
	test_error_answer();
	test_round_trips();
	done_testing();
	return exit_status();
}
