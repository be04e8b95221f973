/* SPDX-License-Identifier: MIT */
/*
 * The phone models the corpus generator imitates, and the identifiers each one writes. Real
 * registrars see a handful of SIP stacks, each with its own habits: header order, branch, tag and
 * Call-ID shapes, Contact parameters, User-Agent text. A parser's speed depends on those habits
 * (long quoted parameters, many short headers, compact names), so the corpus copies them from
 * captures of Linphone, Zoiper, Bria, Polycom, Yealink, Grandstream and PJSIP-based phones.
 * Private to bench/.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/bench_prng.h"

/* Which stack's identifier shapes to copy. */
enum ua_kind {
	UA_LINPHONE,
	UA_ZOIPER,
	UA_BRIA,
	UA_POLYCOM,
	UA_YEALINK,
	UA_GRANDSTREAM,
	UA_PJSIP,
};

/*
 * Owner: static tables in corpus_ua.c; immutable.
 * The order strings list header fields by one-letter code, in the order the phone writes them:
 * V Via, M Max-Forwards, F From, T To, I Call-ID, C CSeq, O Contact, E Expires, A Allow,
 * S Supported, U User-Agent, Z Authorization, W Allow-Events, P Accept, G Accept-Language,
 * K Content-Type, L Content-Length, X Session-Expires + Min-SE, Y P-Preferred-Identity.
 */
struct ua {
	const char *name;
	uint8_t kind;	/* enum ua_kind */
	uint8_t weight; /* share of the corpus, in percent */
	const char *order_register;
	const char *order_invite;
	const char *agents[3];
	const char *allow;     /* NULL when the phone sends no Allow */
	const char *supported; /* NULL when the phone sends no Supported */
	const char *sdp_session;
	const char *auth_sep; /* between digest parameters: "," or ", " */
	bool rport_first;     /* ";rport;branch=" rather than ";branch=...;rport" */
	bool rport;	      /* asks for rport (RFC 3581) */
	bool display;	      /* puts a display name in From */
	bool to_bare;	      /* writes To as a bare addr-spec, without <> */
	bool instance;	      /* sends +sip.instance (RFC 5626) */
	bool upper_transport; /* ";transport=UDP" rather than ";transport=udp" */
	bool ruri_port;	      /* REGISTER sip:domain:5060 */
	bool compact;	      /* compact header names (RFC 3261 §7.3.3) */
	uint16_t port;	      /* fixed local port, 0 for a random high one */
};

extern const struct ua corpus_uas[];
extern const size_t corpus_nuas;

/* Pick a phone model by weight. */
const struct ua *corpus_ua_pick(struct bench_prng *r);

/* Identifier shapes; every function NUL-terminates and writes at most cap bytes. */
void corpus_branch(struct bench_prng *r, uint8_t kind, char *out, size_t cap);
void corpus_proxy_branch(struct bench_prng *r, char *out, size_t cap);
void corpus_tag(struct bench_prng *r, uint8_t kind, char *out, size_t cap);
void corpus_callid(struct bench_prng *r, uint8_t kind, const char *ip, char *out, size_t cap);
void corpus_uuid(struct bench_prng *r, bool upper, char *out, size_t cap);
void corpus_chars(struct bench_prng *r, char *out, size_t n, const char *set);

#define CORPUS_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define CORPUS_HEXL "0123456789abcdef"
#define CORPUS_HEXU "0123456789ABCDEF"
#define CORPUS_DIGITS "0123456789"
