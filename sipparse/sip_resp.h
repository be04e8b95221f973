/* SPDX-License-Identifier: MIT */
/*
 * The response builder: writes a SIP response to a parsed request into a caller's buffer.
 *
 * How it is used: sip_resp_init(), then sip_resp_start() (status line, Vias, From, To, Call-ID,
 * CSeq), then any of the header helpers, then sip_resp_finish(), which appends Content-Length
 * and the empty line and returns the one error that counts. The builder keeps a sticky error,
 * like Knot's wire_ctx: after the first append that does not fit (or a call out of order) every
 * later call does nothing, so callers check once at the end. It never writes past the buffer.
 *
 * Statelessness: a request without a To tag gets one derived from the request itself (Call-ID,
 * From tag, top Via branch, CSeq) and a caller's secret, so a retransmission gets the same tag and
 * the same bytes without any transaction state (RFC 3261 §8.2.6.2). The derivation must be a
 * keyed PRF, or tags seen by any UA reveal the secret; sipparse does no cryptography, so it lays
 * out the input (sip_resp_tag_input) and writes the value (sip_resp_tag_text), and the caller
 * runs the PRF between the two (dataplane: dp_sip_to_tag).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/lc_compiler.h"
#include "sipparse/sip_msg.h"

/* Where a request came from, as text: what received= and rport= carry (RFC 3261 §18.2.1, RFC 3581). */
struct sip_peer {
	char ip[46]; /* dotted IPv4 or RFC 5952 IPv6, without brackets, NUL-terminated */
	uint8_t ip_len;
	bool v6;
	uint16_t port;
};

/** Owner: the caller (usually on the stack, one per response). Fields are private to sip_resp.c. */
struct sip_resp {
	char *buf;
	uint32_t cap;
	uint32_t len;
	int err;       /* sticky: LC_OK until the first failure */
	uint8_t state; /* which calls are allowed next */
};

/* Length of the generated To tag in hex digits. */
#define SIP_RESP_TAG_LEN 16
/* Bytes of the fixed head of a To tag's PRF input (sip_resp_tag_input). */
#define SIP_RESP_TAG_HEAD 10

/**
 * Fill @p peer from an IPv4 or IPv6 address in network byte order.
 * @param addr  4 or 16 bytes, borrowed.
 * @return LC_OK, or LC_EINVAL for another family.
 * Context: any thread.
 */
LC_MUSTCHECK int sip_peer_set(struct sip_peer *peer, int family, const void *addr, uint16_t port);

/**
 * The UDP port a response to @p req goes to, at the source address (RFC 3581 §4 when rport is
 * present: the source port; else RFC 3261 §18.2.2: the sent-by port, or 5060). maddr is not
 * honoured: answering a multicast group or resolving a name is not a stateless server's job.
 * Context: any thread.
 */
uint16_t sip_resp_port(const struct sip_msg *req, const struct sip_peer *src);

/** Standard reason phrase of a status code ("Moved Temporarily"); "" when unknown. */
const char *sip_reason_phrase(unsigned code);

/** Start building into @p buf (borrowed for the builder's life). Context: any thread. */
void sip_resp_init(struct sip_resp *r, char *buf, size_t cap);

/**
 * Write the status line and the headers copied from the request: every Via in order (the top one
 * with received= and rport= filled from @p src), From, To (with @p to_tag added when
 * sip_resp_wants_tag(req, code)), Call-ID and CSeq.
 * @param req      the parsed request (borrowed); sip_msg_can_reply(req) must hold.
 * @param code     100..699.
 * @param reason   reason phrase, or NULL for sip_reason_phrase(code).
 * @param src      where the request came from (borrowed).
 * @param to_tag   SIP_RESP_TAG_LEN lower-case hex digits derived for @p req (borrowed) when
 *                 sip_resp_wants_tag(req, code); else ignored and may be NULL. A tag wanted
 *                 but missing or not hex latches LC_EINVAL.
 * Context: any thread; fast path.
 */
void sip_resp_start(struct sip_resp *r, const struct sip_msg *req, unsigned code,
		    const char *reason, const struct sip_peer *src, const char *to_tag);

/** Whether a response of @p code to @p req gets a To tag: the request has none, and code > 100. */
bool sip_resp_wants_tag(const struct sip_msg *req, unsigned code);

/** Contact: <uri>[;q=..][;expires=N][;+sip.instance=..][;reg-id=..]; q < 0 or expires < 0 omit it. */
void sip_resp_contact(struct sip_resp *r, struct sip_str uri, int q, int64_t expires_s,
		      struct sip_str instance, struct sip_str reg_id);

void sip_resp_min_expires(struct sip_resp *r, uint32_t seconds);
void sip_resp_retry_after(struct sip_resp *r, uint32_t seconds);
void sip_resp_allow(struct sip_resp *r, const char *methods);
void sip_resp_supported(struct sip_resp *r, const char *tags);
void sip_resp_server(struct sip_resp *r, const char *product);

/** Date: in RFC 1123 form, GMT (RFC 3261 §20.17). @p now is an input: the builder reads no clock. */
void sip_resp_date(struct sip_resp *r, time_t now);

/** Any other header: "name: value". @p value must not contain CR or LF (checked: LC_EINVAL). */
void sip_resp_header(struct sip_resp *r, const char *name, struct sip_str value);

/**
 * Append Content-Length: 0 and the empty line.
 * @param len  set to the response's length on success.
 * @return LC_OK, or the first error: LC_ENOSPACE, LC_EINVAL, LC_ESIP_RESP_STATE,
 *   LC_ESIP_LINE_TOO_LONG (a copied header field would grow past SIP_MAX_HEADER_LEN).
 * Context: any thread; fast path.
 */
LC_MUSTCHECK int sip_resp_finish(struct sip_resp *r, size_t *len);

/**
 * What the To tag of a response to @p req is a function of: its Call-ID, From tag, top Via branch
 * (empty when absent) and CSeq number, so that a retransmission gets the same tag and another
 * request another (RFC 3261 §8.2.6.2). Laid out without ambiguity: @p head holds the three
 * lengths (u16) and the CSeq number (u32), little endian, and @p part the three strings
 * (pointing into the request); the PRF input is head || part[0] || part[1] || part[2].
 * Context: any thread; fast path.
 */
void sip_resp_tag_input(const struct sip_msg *req, uint8_t head[SIP_RESP_TAG_HEAD],
			struct sip_str part[3]);

/** @p v as the SIP_RESP_TAG_LEN lower-case hex digits of a To tag (not NUL-terminated). */
void sip_resp_tag_text(uint64_t v, char out[SIP_RESP_TAG_LEN]);
