/* SPDX-License-Identifier: MIT */
/*
 * The SIP To tag (dp_sip_to_tag): SipHash-2-4 under the node's To-tag key over the request's
 * identity as sip_resp_tag_input lays it out, written as 16 hex digits. The same request gets
 * the same tag (a stateless registrar answers a retransmission identically); every field of the
 * identity and the key change it.
 */
#include <string.h>

#include "common/lc_error.h"
#include "dataplane/dp_sip.h"
#include "tests/tap.h"

static uint8_t key[DP_MAC_KEY_LEN];
static struct sip_msg req;

static const char reg[] = "REGISTER sip:example.com SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc;rport\r\n"
			  "From: <sip:alice@example.com>;tag=f1\r\n"
			  "To: <sip:alice@example.com>\r\n"
			  "Call-ID: c1@10.0.0.1\r\n"
			  "CSeq: 7 REGISTER\r\n"
			  "Content-Length: 0\r\n\r\n";

/* The tag of @p text (a copy of reg with @p from replaced by @p to), NUL-terminated in @p out. */
static bool tag_of(const char *from, const char *to, char out[SIP_RESP_TAG_LEN + 1])
{
	static char buf[sizeof(reg) + 64];
	const char *at = strstr(reg, from);
	if (at == NULL) {
		return false;
	}
	size_t pre = (size_t)(at - reg);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)pre, reg, to, at + strlen(from));
	out[SIP_RESP_TAG_LEN] = '\0';
	if (sip_parse(&req, buf, strlen(buf)) != LC_OK) {
		return false;
	}
	dp_sip_to_tag(key, &req, out);
	return true;
}

static void test_tag(void)
{
	char base[SIP_RESP_TAG_LEN + 1], again[SIP_RESP_TAG_LEN + 1], t[SIP_RESP_TAG_LEN + 1];
	ok(tag_of("REGISTER", "REGISTER", base), "a tag");
	ok(strspn(base, "0123456789abcdef") == SIP_RESP_TAG_LEN, "16 lower-case hex digits");
	ok(tag_of("REGISTER", "REGISTER", again) && strcmp(base, again) == 0,
	   "a retransmission gets the same tag");

	/* it is SipHash-2-4 (dp_mac_prf64, checked against the reference vectors in test_dp_mac)
	 * of head || Call-ID || From tag || branch, here fed as one contiguous buffer */
	uint8_t in[256];
	size_t n = 0;
	uint8_t head[SIP_RESP_TAG_HEAD];
	struct sip_str part[3];
	sip_resp_tag_input(&req, head, part);
	memcpy(in, head, sizeof(head));
	n += sizeof(head);
	for (unsigned i = 0; i < 3; i++) {
		memcpy(in + n, part[i].p, part[i].len);
		n += part[i].len;
	}
	struct dp_mac_piece one = {in, n};
	char want[SIP_RESP_TAG_LEN + 1] = {0};
	sip_resp_tag_text(dp_mac_prf64(key, &one, 1), want);
	is_str(base, want, "the tag is that PRF's value in hex");

	ok(tag_of("c1@", "c2@", t) && strcmp(t, base) != 0, "another Call-ID, another tag");
	ok(tag_of("tag=f1", "tag=f2", t) && strcmp(t, base) != 0, "another From tag, another tag");
	ok(tag_of("z9hG4bKabc", "z9hG4bKabd", t) && strcmp(t, base) != 0,
	   "another branch, another tag");
	ok(tag_of("CSeq: 7", "CSeq: 8", t) && strcmp(t, base) != 0, "another CSeq, another tag");
	ok(tag_of("Content-Length", "Max-Forwards: 69\r\nContent-Length", t) &&
		   strcmp(t, base) == 0,
	   "a field outside the identity changes nothing");
	key[5] ^= 0x20;
	ok(tag_of("REGISTER", "REGISTER", t) && strcmp(t, base) != 0, "another key, another tag");
	key[5] ^= 0x20;
}

int main(void)
{
	for (unsigned i = 0; i < sizeof(key); i++) {
		key[i] = (uint8_t)(0xc0 + i);
	}
	test_tag();
	done_testing();
	return exit_status();
}
