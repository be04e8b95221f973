/* SPDX-License-Identifier: MIT */
/*
 * dp_fwd from the facing node's side, on a worker built by hand (no sockets, no threads): a SIP
 * INVITE and an LSP client's LOOKUP are forwarded to an owner, the owner's answer (built by the
 * same LSP codec a real owner uses) comes back, and the facing node answers its client. Then an
 * attacker holding a genuine reply context (it saw the forwarded request, or an answer) attaches
 * it to answers it makes up: about another key, another transaction, another type, or too late.
 * None of them may reach the client; the genuine one still does.
 */
#include <string.h>
#include <sys/socket.h>

#include "common/lc_alloc.h"
#include "common/lc_error.h"
#include "dataplane/dp_fwd.h"
#include "dataplane/dp_rctx.h"
#include "dataplane/dp_sip.h"
#include "tests/tap.h"

#define NOW 1800000000u
#define OVERLAY 0x5eed

static struct dp_worker *w;
static struct dp_cfg cfg;
static struct dht_peer owner;
static const struct dp_addr ua = {.family = AF_INET, .port = 5062, .addr = {192, 0, 2, 9}};

static const char invite[] = "INVITE sip:alice@example.com SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP 192.0.2.9:5062;branch=z9hG4bKinv1;rport\r\n"
			     "Max-Forwards: 70\r\n"
			     "From: <sip:bob@example.com>;tag=b1\r\n"
			     "To: <sip:alice@example.com>\r\n"
			     "Call-ID: call1@192.0.2.9\r\n"
			     "CSeq: 1 INVITE\r\n"
			     "Content-Length: 0\r\n\r\n";
static const char alice[] = "sip:alice@example.com";
static const char carol[] = "sip:carol@example.com";

static struct dht_addr loopback(uint16_t port)
{
	return (struct dht_addr){.family = AF_INET, .port = port, .addr = {127, 0, 0, 1}};
}

static bool setup(void)
{
	w = lc_alloc_aligned(LC_CACHE_LINE, sizeof(*w));
	if (w == NULL) {
		return false;
	}
	memset(w, 0, sizeof(*w));
	cfg.overlay_id = OVERLAY;
	cfg.write_quorum = 1;
	snprintf(cfg.server, sizeof(cfg.server), "locus/test");
	for (unsigned i = 0; i < DP_MAC_KEY_LEN; i++) {
		cfg.tag_key[i] = (uint8_t)(0x10 + i);
		cfg.ctx_key[i] = (uint8_t)(0x80 + i);
	}
	w->cfg = &cfg;
	w->now_s = NOW;
	struct dht_route *rt = dht_route_new(4);
	if (rt == NULL || dp_pool_init(&w->pool, 16, 0) != LC_OK) {
		return false;
	}
	rt->self.addr = loopback(7000);
	w->rt = rt;
	owner.addr = loopback(7001);
	return true;
}

/* The one packet the worker queued since the last call (NULL when it queued none or several). */
static struct dp_pkt *take_tx(void)
{
	struct dp_pkt *p = w->ntx == 1 ? w->tx[0] : NULL;
	for (unsigned i = 0; i < w->ntx; i++) {
		if (w->tx[i] != p) {
			dp_pool_put(&w->pool, w->tx[i]);
		}
	}
	w->ntx = 0;
	return p;
}

/* An answer as an owner (or a forger) writes it. */
static size_t answer(char *buf, size_t cap, uint8_t type, uint64_t txn, const char *key,
		     struct dht_bytes ctx, const char *contact)
{
	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, buf, cap);
	struct dht_lsp_hdr h = {.type = type,
				.flags = DHT_LSP_F_ANSWER,
				.hop_limit = DHT_LSP_HOP_LIMIT_DEFAULT,
				.txn_id = txn,
				.overlay_id = OVERLAY};
	dht_lsp_build_hdr(&b, &h);
	dht_lsp_put_status(&b, DHT_LSP_S_OK);
	dht_lsp_put_key(&b, key, strlen(key));
	dht_lsp_put_reply_ctx(&b, ctx.p, ctx.len);
	struct dht_lsp_record r = {.present = DHT_LSP_P_CONTACT | DHT_LSP_P_EXPIRES,
				   .contact = {contact, (uint32_t)strlen(contact)},
				   .expires_s = 300,
				   .q = -1};
	dht_lsp_put_record(&b, &r);
	size_t len = 0;
	return dht_lsp_build_finish(&b, &len) == LC_OK ? len : 0;
}

/* Deliver an answer to the facing node; the packet it sends, or NULL. @p taken: it claimed it. */
static struct dp_pkt *deliver(const char *buf, size_t len, bool *taken)
{
	static struct dp_pkt answer; /* the answer as the facing node received it, parsed */
	*taken = dht_lsp_parse(&answer.msg.lsp, buf, len) == LC_OK && dp_fwd_answer(w, &answer);
	return take_tx();
}

static void test_sip_lookup(void)
{
	static char ans[4096], fwd_copy[DHT_LSP_MAX_REPLY_CTX + 1024];
	static struct dht_lsp_msg req;
	static struct dp_pkt in;
	bool taken;
	in.peer = ua;
	ok(sip_parse(&in.msg.sip, invite, strlen(invite)) == LC_OK &&
		   dp_key_of_uri(&in.req.key, &in.msg.sip.ruri, OVERLAY),
	   "the INVITE parses; its key is the Request-URI's AOR");
	char tag[SIP_RESP_TAG_LEN + 1] = {0};
	dp_sip_to_tag(cfg.tag_key, &in.msg.sip, tag);
	dp_fwd_lookup(w, &in, &owner);
	struct dp_pkt *out = take_tx();
	ok(out != NULL && out->sock == DP_SOCK_LSP && out->peer.port == 7001,
	   "a LOOKUP goes to the owner");
	if (out == NULL) {
		return;
	}
	memcpy(fwd_copy, out->data, out->len);
	size_t fwd_len = out->len;
	dp_pool_put(&w->pool, out);
	ok(dht_lsp_parse(&req, fwd_copy, fwd_len) == LC_OK && req.hdr.type == DHT_LSP_LOOKUP &&
		   (req.present & DHT_LSP_P_REPLY_CTX),
	   "it carries a reply context");
	is_mem(req.key.p, req.key.len, alice, "and the AOR as KEY");
	uint64_t txn = req.hdr.txn_id;
	const char *evil = "sip:mallory@203.0.113.66";

	size_t n = answer(ans, sizeof(ans), DHT_LSP_LOOKUP, txn, carol, req.reply_ctx, evil);
	out = deliver(ans, n, &taken);
	ok(!taken && out == NULL, "the context on an answer about another KEY: nothing sent");
	n = answer(ans, sizeof(ans), DHT_LSP_LOOKUP, txn + 1, alice, req.reply_ctx, evil);
	out = deliver(ans, n, &taken);
	ok(!taken && out == NULL, "on an answer to another transaction: nothing sent");
	n = answer(ans, sizeof(ans), DHT_LSP_PUBLISH, txn, alice, req.reply_ctx, evil);
	out = deliver(ans, n, &taken);
	ok(!taken && out == NULL, "on an answer of another type: nothing sent");
	w->now_s = NOW + DP_RCTX_MAX_AGE_S + 1;
	n = answer(ans, sizeof(ans), DHT_LSP_LOOKUP, txn, alice, req.reply_ctx, evil);
	out = deliver(ans, n, &taken);
	ok(!taken && out == NULL, "too late: nothing sent");
	w->now_s = NOW + 1;

	n = answer(ans, sizeof(ans), DHT_LSP_LOOKUP, txn, alice, req.reply_ctx,
		   "sip:alice@10.0.0.5:5060");
	out = deliver(ans, n, &taken);
	ok(taken && out != NULL && out->sock == DP_SOCK_SIP && out->peer.port == ua.port &&
		   memcmp(out->peer.addr, ua.addr, 4) == 0,
	   "the owner's own answer: a response to the UA");
	if (out == NULL) {
		return;
	}
	static struct sip_msg resp;
	ok(sip_parse(&resp, out->data, out->len) == LC_OK && resp.status == 302 &&
		   resp.ncontact == 1,
	   "302 with the owner's contact");
	is_mem(resp.to.tag.p, resp.to.tag.len, tag, "its To tag: the one a local answer gets");
	dp_pool_put(&w->pool, out);
}

static void test_lsp_relay(void)
{
	static char creq[512], ans[4096], fwd_copy[DHT_LSP_MAX_REPLY_CTX + 1024];
	static struct dht_lsp_msg req, got;
	bool taken;
	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, creq, sizeof(creq));
	struct dht_lsp_hdr h = {.type = DHT_LSP_LOOKUP,
				.hop_limit = DHT_LSP_HOP_LIMIT_DEFAULT,
				.txn_id = 77,
				.overlay_id = OVERLAY};
	dht_lsp_build_hdr(&b, &h);
	dht_lsp_put_key(&b, alice, strlen(alice));
	size_t clen = 0;
	struct dp_pkt *in = dp_pool_get(&w->pool);
	if (dht_lsp_build_finish(&b, &clen) != LC_OK || in == NULL) {
		ok(0, "client request built");
		return;
	}
	memcpy(in->data, creq, clen);
	in->len = (uint32_t)clen;
	in->peer = ua;
	ok(dht_lsp_parse(&in->msg.lsp, in->data, in->len) == LC_OK, "an LSP client's LOOKUP");
	ok(dp_key_of_bytes(&in->req.key, in->msg.lsp.key, OVERLAY), "its store key");
	dp_fwd_lsp(w, in, &owner);
	struct dp_pkt *out = take_tx();
	ok(out != NULL && out->peer.port == 7001, "relayed to the owner");
	if (out == NULL) {
		dp_pool_put(&w->pool, in);
		return;
	}
	memcpy(fwd_copy, out->data, out->len);
	ok(dht_lsp_parse(&req, fwd_copy, out->len) == LC_OK && req.hdr.txn_id != 77 &&
		   (req.present & DHT_LSP_P_REPLY_CTX) && (req.present & DHT_LSP_P_REPLY_TO),
	   "under the facing node's own transaction id, context and REPLY_TO");
	dp_pool_put(&w->pool, out);
	dp_pool_put(&w->pool, in);

	size_t n = answer(ans, sizeof(ans), DHT_LSP_LOOKUP, req.hdr.txn_id, carol, req.reply_ctx,
			  "sip:mallory@203.0.113.66");
	out = deliver(ans, n, &taken);
	ok(!taken && out == NULL, "its context on an answer about another KEY: nothing sent");
	n = answer(ans, sizeof(ans), DHT_LSP_LOOKUP, 77, alice, req.reply_ctx,
		   "sip:mallory@203.0.113.66");
	out = deliver(ans, n, &taken);
	ok(!taken && out == NULL, "under the client's transaction id instead: nothing sent");

	n = answer(ans, sizeof(ans), DHT_LSP_LOOKUP, req.hdr.txn_id, alice, req.reply_ctx,
		   "sip:alice@10.0.0.5:5060");
	out = deliver(ans, n, &taken);
	ok(taken && out != NULL && out->sock == DP_SOCK_LSP && out->peer.port == ua.port,
	   "the owner's answer goes back to the client");
	if (out == NULL) {
		return;
	}
	ok(dht_lsp_parse(&got, out->data, out->len) == LC_OK && got.hdr.txn_id == 77 &&
		   got.nrecords == 1 && !(got.present & DHT_LSP_P_REPLY_CTX),
	   "under the client's transaction id, with the record, without our context");
	dp_pool_put(&w->pool, out);
}

int main(void)
{
	if (!setup()) {
		printf("Bail out! cannot build the worker\n");
		return 1;
	}
	test_sip_lookup();
	test_lsp_relay();
	ok(w->pool.nfree == w->pool.size, "every packet back in the pool");
	dp_pool_deinit(&w->pool);
	dht_route_free((struct dht_route *)w->rt);
	lc_free(w);
	done_testing();
	return exit_status();
}
