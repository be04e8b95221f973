/* SPDX-License-Identifier: MIT */
/*
 * The pipeline benchmark's request frames (pipe_frames.h). The SIP messages are those of
 * bench_named.c's `linphone` REGISTER (liblinphone 5.3 on Android, straight from the phone) and an
 * INVITE the same phone sends, with an SDP offer of its usual codecs; AOR and counter fields are
 * placeholders ("AAAAAAAA", "CCCCCCCC") whose offsets are found once, then overwritten per use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/pipe_frames.h"
#include "common/lc_error.h"
#include "dht/lsp.h"
#include "net/net_tx.h"

#define AOR_MARK "AAAAAAAA"
#define CTR_MARK "CCCCCCCC"
#define DOMAIN "sip.example.org"

/* bench_named.c's linphone REGISTER; the AOR and the refresh's CSeq and branch are fields. */
static const char register_msg[] =
	"REGISTER sip:" DOMAIN " SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.168.1.23:5060;branch=z9hG4bK." CTR_MARK ";rport\r\n"
	"From: <sip:u" AOR_MARK "@" DOMAIN ">;tag=Xy7Zq9W2v\r\n"
	"To: sip:u" AOR_MARK "@" DOMAIN "\r\n"
	"CSeq: " CTR_MARK " REGISTER\r\n"
	"Call-ID: mK4pQ8sT2u\r\n"
	"Max-Forwards: 70\r\n"
	"Supported: replaces, outbound, gruu, path\r\n"
	"Accept: application/sdp\r\n"
	"Accept: text/plain\r\n"
	"Contact: <sip:u" AOR_MARK "@192.168.1.23:5060;transport=udp>;"
	"+sip.instance=\"<urn:uuid:3f2504e0-4f89-41d3-9a0c-0305e82c3301>\";reg-id=1\r\n"
	"Expires: 3600\r\n"
	"User-Agent: LinphoneAndroid/5.2.5 (Pixel 7) LinphoneSDK/5.3.47 (tags/5.3.47)\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

/* The same phone calling a registered AOR: a new Call-ID and branch per call. */
static const char invite_head[] =
	"INVITE sip:u" AOR_MARK "@" DOMAIN " SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.168.1.57:5060;branch=z9hG4bK." CTR_MARK ";rport\r\n"
	"From: <sip:bob@" DOMAIN ">;tag=Ke93bNq1c\r\n"
	"To: sip:u" AOR_MARK "@" DOMAIN "\r\n"
	"CSeq: 20 INVITE\r\n"
	"Call-ID: " CTR_MARK "-Fh2LwQ9\r\n"
	"Max-Forwards: 70\r\n"
	"Supported: replaces, outbound, gruu, path\r\n"
	"Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, PRACK, "
	"UPDATE\r\n"
	"Content-Type: application/sdp\r\n"
	"Contact: <sip:bob@192.168.1.57:5060;transport=udp>;"
	"+sip.instance=\"<urn:uuid:9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d>\"\r\n"
	"User-Agent: LinphoneAndroid/5.2.5 (Pixel 7) LinphoneSDK/5.3.47 (tags/5.3.47)\r\n"
	"Content-Length: %zu\r\n"
	"\r\n";

static const char invite_sdp[] = "v=0\r\n"
				 "o=bob 3127 1298 IN IP4 192.168.1.57\r\n"
				 "s=Talk\r\n"
				 "c=IN IP4 192.168.1.57\r\n"
				 "t=0 0\r\n"
				 "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL "
				 "voip-metrics\r\n"
				 "m=audio 7078 RTP/AVP 96 97 98 0 8 101\r\n"
				 "a=rtpmap:96 opus/48000/2\r\n"
				 "a=fmtp:96 useinbandfec=1\r\n"
				 "a=rtpmap:97 speex/16000\r\n"
				 "a=fmtp:97 vbr=on\r\n"
				 "a=rtpmap:98 speex/8000\r\n"
				 "a=fmtp:98 vbr=on\r\n"
				 "a=rtpmap:101 telephone-event/8000\r\n"
				 "a=rtcp-fb:* trr-int 1000\r\n"
				 "a=rtcp-fb:* ccm tmmbr\r\n";

/* Record every offset of @p mark in the payload. */
static unsigned find_marks(const uint8_t *p, size_t len, const char *mark, uint16_t *off)
{
	unsigned n = 0;
	for (size_t i = 0; i + PIPE_FIELD_LEN <= len && n < PIPE_MAX_FIELDS; i++) {
		if (memcmp(p + i, mark, PIPE_FIELD_LEN) == 0) {
			off[n++] = (uint16_t)i;
			i += PIPE_FIELD_LEN - 1;
		}
	}
	return n;
}

static uint8_t *dup_bytes(const void *p, size_t len)
{
	uint8_t *d = malloc(len);
	if (d != NULL) {
		memcpy(d, p, len);
	}
	return d;
}

static size_t lsp_lookup(uint8_t *buf, size_t cap, uint64_t overlay_id)
{
	const char key[] = "sip:u" AOR_MARK "@" DOMAIN;
	struct dht_lsp_hdr hdr = {
		.type = DHT_LSP_LOOKUP,
		.hop_limit = DHT_LSP_HOP_LIMIT_DEFAULT,
		.txn_id = 0x10c05be4c0000001ull,
		.overlay_id = overlay_id,
	};
	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, buf, cap);
	dht_lsp_build_hdr(&b, &hdr);
	dht_lsp_put_key(&b, key, sizeof(key) - 1);
	size_t len = 0;
	return dht_lsp_build_finish(&b, &len) == LC_OK ? len : 0;
}

int pipe_tmpl_make(struct pipe_tmpl *t, enum pipe_kind kind, uint64_t overlay_id)
{
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	char buf[2048];
	size_t len = 0;
	switch (kind) {
	case PIPE_REGISTER:
		t->name = "register";
		t->what = "REGISTER refresh of a registered AOR (Linphone, 1 contact) -> 200";
		t->expect = "SIP/2.0 200 ";
		t->dst_port = PIPE_SIP_PORT;
		len = sizeof(register_msg) - 1;
		memcpy(buf, register_msg, len);
		break;
	case PIPE_INVITE:
		t->name = "invite";
		t->what = "INVITE to a registered AOR (Linphone, SDP offer) -> 302";
		t->expect = "SIP/2.0 302 ";
		t->dst_port = PIPE_SIP_PORT;
		len = (size_t)snprintf(buf, sizeof(buf), invite_head, sizeof(invite_sdp) - 1);
		memcpy(buf + len, invite_sdp, sizeof(invite_sdp) - 1);
		len += sizeof(invite_sdp) - 1;
		break;
	case PIPE_LSP_LOOKUP:
	default:
		t->name = "lsp-lookup";
		t->what = "LSP LOOKUP of a registered key -> 200 with its record";
		t->dst_port = PIPE_LSP_PORT;
		len = lsp_lookup((uint8_t *)buf, sizeof(buf), overlay_id);
		break;
	}
	t->payload = dup_bytes(buf, len);
	if (len == 0 || t->payload == NULL) {
		return -1;
	}
	t->len = len;
	t->naor = find_marks(t->payload, len, AOR_MARK, t->aor_off);
	t->nctr = find_marks(t->payload, len, CTR_MARK, t->ctr_off);
	return 0;
}

void pipe_tmpl_free(struct pipe_tmpl *t)
{
	free(t->payload);
	t->payload = NULL;
}

static void put_hex8(uint8_t *p, uint32_t v)
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 7; i >= 0; i--, v >>= 4) {
		p[i] = (uint8_t)hex[v & 15];
	}
}

/* Always 8 digits: 10000000 .. 99999999, so a counter never changes a message's length. */
static void put_dec8(uint8_t *p, uint32_t v)
{
	v = 10000000u + v % 90000000u;
	for (int i = 7; i >= 0; i--, v /= 10) {
		p[i] = (uint8_t)('0' + v % 10);
	}
}

size_t pipe_frame_build(uint8_t *buf, size_t cap, const struct pipe_tmpl *t,
			const uint8_t src_mac[6], const uint8_t dst_mac[6])
{
	if (cap < PIPE_PAYLOAD_OFF + t->len) {
		return 0;
	}
	uint8_t pay[2048];
	memcpy(pay, t->payload, t->len);
	for (unsigned i = 0; i < t->naor; i++) {
		put_hex8(pay + t->aor_off[i], 0);
	}
	for (unsigned i = 0; i < t->nctr; i++) {
		put_dec8(pay + t->ctr_off[i], 0);
	}
	struct net_udp_hdrs h = {.src_ip = PIPE_PEER_IP,
				 .dst_ip = PIPE_NODE_IP,
				 .src_port = 5062,
				 .dst_port = t->dst_port,
				 .ip_id = 1};
	memcpy(h.src_mac, src_mac, 6);
	memcpy(h.dst_mac, dst_mac, 6);
	uint16_t csum = net_udp_csum(&h, pay, t->len);
	return net_udp_build(buf, cap, &h, pay, t->len, 1500, 0, csum, false);
}

/* The 16-bit words of the UDP datagram @p udp that cover its bytes [lo, lo + 8), summed. */
static uint32_t words_sum(const uint8_t *udp, size_t lo)
{
	size_t a = lo & ~(size_t)1, b = (lo + PIPE_FIELD_LEN + 1) & ~(size_t)1;
	uint32_t s = 0;
	for (size_t i = a; i < b; i += 2) {
		s += (uint32_t)udp[i] << 8 | udp[i + 1];
	}
	return s;
}

static uint16_t fold(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), over the words one field covers. */
static void set_field(uint8_t *udp, uint32_t *acc, size_t off, uint32_t v, int hex)
{
	*acc += (uint16_t)~fold(words_sum(udp, off));
	if (hex) {
		put_hex8(udp + off, v);
	} else {
		put_dec8(udp + off, v);
	}
	*acc += fold(words_sum(udp, off));
}

void pipe_frame_set(uint8_t *frame, const struct pipe_tmpl *t, uint32_t aor, uint32_t ctr)
{
	uint8_t *udp = frame + PIPE_UDP_OFF;
	uint32_t acc = (uint16_t) ~((uint32_t)udp[6] << 8 | udp[7]);
	for (unsigned i = 0; i < t->naor; i++) {
		set_field(udp, &acc, 8 + t->aor_off[i], aor, 1);
	}
	for (unsigned i = 0; i < t->nctr; i++) {
		set_field(udp, &acc, 8 + t->ctr_off[i], ctr, 0);
	}
	uint16_t c = (uint16_t)~fold(acc);
	c = c == 0 ? 0xffff : c; /* RFC 768: a computed 0 is sent as all ones */
	udp[6] = (uint8_t)(c >> 8);
	udp[7] = (uint8_t)c;
}

void pipe_aor_text(uint32_t aor, char out[40])
{
	snprintf(out, 40, "sip:u%08x@%s", aor, DOMAIN);
}
