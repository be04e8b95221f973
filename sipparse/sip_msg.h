/* SPDX-License-Identifier: MIT */
/*
 * The parsed form of one SIP message (RFC 3261 §7, §20, §25) and the parser's entry point.
 *
 * sip_parse() reads a whole datagram in place: every string in struct sip_msg is a struct sip_str
 * view into the caller's buffer, so the parser never allocates, never copies and keeps no global
 * state. The views die with the buffer; to keep a value, copy it. Every bound is a named constant
 * below, and exceeding one is an error with its own code, never a silent truncation.
 *
 * The parser is strict where the RFC grammar is strict (it is the gate of a server that must
 * survive any input) and reports the first error it finds with a precise LC_ESIP_* code whose text
 * is the reason phrase of a 400. After a header-level error it still parses the remaining header
 * fields, so the caller can tell with sip_msg_can_reply() whether a 400 can be addressed.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/lc_compiler.h"
#include "sipparse/sip_str.h"
#include "sipparse/sip_uri.h"

/* Limits. A message beyond one of them is rejected with the code named beside it. */
#define SIP_MAX_MSG_LEN 65535	/* LC_ESIP_TOO_BIG: largest UDP payload */
#define SIP_MAX_HEADER_LEN 8192 /* LC_ESIP_LINE_TOO_LONG: one header field, folds included */
#define SIP_MAX_HEADERS 96	/* LC_ESIP_TOO_MANY_HEADERS */
#define SIP_MAX_VIAS 64		/* LC_ESIP_TOO_MANY_VIAS */
#define SIP_MAX_CONTACTS 16	/* LC_ESIP_TOO_MANY_CONTACTS */
#define SIP_MAX_ROUTES 12	/* LC_ESIP_TOO_MANY_ROUTES, each of Route, Record-Route, Path */
#define SIP_MAX_OPTION_TAGS 32	/* LC_ESIP_TOO_MANY_TAGS, each of Supported, Require, ... */
#define SIP_MAX_PARAMS 32 /* LC_ESIP_TOO_MANY_PARAMS: parameters in one value, tag not counted */
#define SIP_MAX_AUTH 8	  /* LC_ESIP_TOO_MANY_AUTH: Authorization + Proxy-Authorization */
#define SIP_MAX_CSEQ 0x7fffffffu /* RFC 3261 §8.1.1.5: the number must be less than 2^31 */
#define SIP_MAX_DELTA_SECONDS 0xffffffffu /* RFC 3261 §20.19: Expires fits 32 bits */

enum sip_method {
	SIP_METHOD_UNKNOWN = 0, /* an extension method; its text is in sip_msg.method */
	SIP_METHOD_INVITE,
	SIP_METHOD_ACK,
	SIP_METHOD_BYE,
	SIP_METHOD_CANCEL,
	SIP_METHOD_REGISTER,
	SIP_METHOD_OPTIONS,
	SIP_METHOD_INFO,
	SIP_METHOD_PRACK,
	SIP_METHOD_SUBSCRIBE,
	SIP_METHOD_NOTIFY,
	SIP_METHOD_UPDATE,
	SIP_METHOD_MESSAGE,
	SIP_METHOD_REFER,
	SIP_METHOD_PUBLISH,
	SIP_METHOD_COUNT_
};

enum sip_transport {
	SIP_TRANSPORT_OTHER = 0, /* the text is in sip_via.transport */
	SIP_TRANSPORT_UDP,
	SIP_TRANSPORT_TCP,
	SIP_TRANSPORT_TLS,
	SIP_TRANSPORT_SCTP,
	SIP_TRANSPORT_WS,
	SIP_TRANSPORT_WSS,
};

/*
 * Anomalies that the RFCs tell a receiver to tolerate. The message parses (sip_parse returns
 * LC_OK) and the flag says what was tolerated, so a server can count it or decide otherwise.
 */
enum sip_msg_flag {
	/* octets after the Content-Length body were dropped (RFC 3261 §18.3) */
	SIP_F_TRAILING_BYTES = 1u << 0,
	/* no Content-Length: the body runs to the datagram end */
	SIP_F_NO_CONTENT_LENGTH = 1u << 1,
	/* top Via branch missing or without z9hG4bK (an RFC 2543 peer, RFC 4475 §3.2.1) */
	SIP_F_BRANCH_NOT_3261 = 1u << 2,
	/* Max-Forwards above 255, treated as absent (RFC 4475 §3.1.2.4) */
	SIP_F_MAX_FORWARDS_RANGE = 1u << 3,
	/* an expiry above 2^32-1, treated as absent (RFC 4475 §3.1.2.4) */
	SIP_F_EXPIRES_RANGE = 1u << 4,
	/* an Expires or expires= that is not delta-seconds (an RFC 2543 date, "-1"), treated as
	 * absent so the default applies: RFC 3261 §20.10 and §20.19 */
	SIP_F_EXPIRES_MALFORMED = 1u << 5,
};

/* Header field ids. Every field is also kept in sip_msg.hdrs with its raw name and value. */
enum sip_hdr_id {
	SIP_HDR_OTHER = 0,
	SIP_HDR_VIA,
	SIP_HDR_FROM,
	SIP_HDR_TO,
	SIP_HDR_CALL_ID,
	SIP_HDR_CSEQ,
	SIP_HDR_MAX_FORWARDS,
	SIP_HDR_CONTACT,
	SIP_HDR_EXPIRES,
	SIP_HDR_MIN_EXPIRES,
	SIP_HDR_CONTENT_LENGTH,
	SIP_HDR_CONTENT_TYPE,
	SIP_HDR_ROUTE,
	SIP_HDR_RECORD_ROUTE,
	SIP_HDR_PATH,
	SIP_HDR_SUPPORTED,
	SIP_HDR_REQUIRE,
	SIP_HDR_PROXY_REQUIRE,
	SIP_HDR_AUTHORIZATION,
	SIP_HDR_PROXY_AUTHORIZATION,
	SIP_HDR_USER_AGENT,
	SIP_HDR_DATE,
	SIP_HDR_COUNT_
};

/* One header field as received. Fields are read-only to callers. */
struct sip_hdr {
	struct sip_str name;  /* as written, e.g. "v" or "VIA" */
	struct sip_str value; /* leading and trailing whitespace trimmed; folds kept */
	uint8_t id;	      /* enum sip_hdr_id */
};

/* One via-parm (RFC 3261 §20.42). Fields are read-only to callers. */
struct sip_via {
	struct sip_str raw;	  /* the whole via-parm, for copying into responses */
	struct sip_str transport; /* "UDP", "TLS", "NEWTRANSPORT" */
	struct sip_str host;	  /* sent-by host; an IPv6 reference keeps its brackets */
	struct sip_str branch;	  /* parameter values; .p == NULL when absent */
	struct sip_str received;
	struct sip_str maddr;
	struct sip_str ttl;
	struct sip_str rport_span;    /* ";rport[=N]" as written, for the builder to rewrite */
	struct sip_str received_span; /* ";received=..." as written */
	uint16_t port;		      /* 0 when absent */
	uint16_t rport;		      /* the rport value, 0 when absent or empty */
	bool has_rport;
	uint8_t transport_id; /* enum sip_transport */
	uint8_t host_type;    /* enum sip_host_type */
};

/* name-addr or addr-spec plus header parameters (From, To, Contact, Route, ...). Read-only. */
struct sip_addr {
	struct sip_str raw;	/* the whole value */
	struct sip_str display; /* without surrounding quotes, escapes kept; .p == NULL when none */
	struct sip_str params;	/* header parameters after the URI, without the first ';' */
	struct sip_str tag;	/* the tag parameter; .p == NULL when absent */
	struct sip_uri uri;
	bool display_quoted;
	bool bracketed; /* the URI was enclosed in <> */
};

/* One Contact value (RFC 3261 §20.10, RFC 5626 §4.2). Read-only to callers. */
struct sip_contact {
	struct sip_addr addr;
	struct sip_str instance; /* +sip.instance value as written (quoted) */
	struct sip_str reg_id;	 /* reg-id value as written */
	int64_t expires;	 /* the expires parameter, -1 when absent */
	int16_t q;		 /* q in thousandths (q=0.7 -> 700), -1 when absent */
};

/* Credentials (RFC 3261 §20.7, §22.4). Read-only to callers. */
struct sip_auth {
	struct sip_str scheme; /* "Digest" or an unknown scheme */
	struct sip_str params; /* the raw parameter list */
	struct sip_str username, realm, nonce, uri, response, algorithm, cnonce, opaque, qop, nc;
	bool proxy; /* from Proxy-Authorization */
};

/* An option-tag list (Supported, Require, Proxy-Require) over all fields of that name. */
struct sip_tags {
	struct sip_str tag[SIP_MAX_OPTION_TAGS];
	uint8_t n;
};

/*
 * Owner: the caller (typically one per worker, reused for every message); written by sip_parse()
 * only. Fields are read-only to callers. Array elements past their count are undefined: the
 * parser does not clear the struct, which would cost more than parsing a typical REGISTER.
 */
struct sip_msg {
	struct sip_str buf;	/* the datagram */
	int err;		/* first error, LC_OK when none */
	struct sip_str err_hdr; /* name of the header field the error was found in, if any */
	uint32_t flags;		/* enum sip_msg_flag */
	uint32_t seen;		/* bit (1 << SIP_HDR_x) for each known header field present */
	uint32_t bad; /* bit (1 << SIP_HDR_x) for each known header field that failed to parse */
	bool is_request;

	/* start line */
	struct sip_str method; /* request method, or the CSeq method of a response */
	uint8_t method_id;     /* enum sip_method */
	struct sip_uri ruri;
	uint16_t status;
	struct sip_str reason;

	/* header fields */
	struct sip_addr from, to;
	struct sip_str call_id;
	uint32_t cseq;
	struct sip_str cseq_method;
	uint8_t cseq_method_id;
	/* the CSeq value as written, set when its syntax is right even if the number is out of range,
	 * so a 400 can still echo it (RFC 4475 §3.1.2.4 scalar02) */
	struct sip_str cseq_raw;
	int16_t max_forwards;	/* -1 when absent */
	int64_t expires;	/* -1 when absent */
	int64_t min_expires;	/* -1 when absent */
	int64_t content_length; /* -1 when absent */
	struct sip_str content_type, user_agent, date;
	bool contact_star; /* Contact: * */
	uint8_t nvia, ncontact, nroute, nrecord_route, npath, nauth;
	uint8_t nhdr;
	struct sip_tags supported, require, proxy_require;
	struct sip_str body;

	struct sip_via via[SIP_MAX_VIAS];
	struct sip_contact contact[SIP_MAX_CONTACTS];
	struct sip_addr route[SIP_MAX_ROUTES];
	struct sip_addr record_route[SIP_MAX_ROUTES];
	struct sip_addr path[SIP_MAX_ROUTES];
	struct sip_auth auth[SIP_MAX_AUTH];
	struct sip_hdr hdrs[SIP_MAX_HEADERS];
};

/**
 * Parse one datagram into @p m.
 * @param m    filled in; borrows @p buf, whose bytes must outlive every view in @p m.
 * @param buf  the datagram; need not be NUL-terminated and may contain NUL bytes.
 * @param len  its length.
 * @return LC_OK, or the first error found (also in m->err): LC_ESIP_EMPTY, LC_ESIP_TOO_BIG,
 *   LC_ESIP_NO_END, LC_ESIP_START_LINE, LC_ESIP_METHOD, LC_ESIP_RURI, LC_ESIP_VERSION,
 *   LC_ESIP_STATUS, LC_ESIP_HDR_NAME, an LC_ESIP_TOO_MANY_* limit, LC_ESIP_DUP_HEADER, a
 *   per-header code (LC_ESIP_VIA ... LC_ESIP_CONTENT_TYPE), LC_ESIP_MISSING_*,
 *   LC_ESIP_CSEQ_METHOD, LC_ESIP_BODY_SHORT.
 * Context: any thread; fast path (no allocation, no locks, no syscalls).
 */
LC_MUSTCHECK int sip_parse(struct sip_msg *m, const char *buf, size_t len);

/**
 * Whether a response can be addressed to this request: it is a request and its Via, From, To,
 * Call-ID and CSeq parsed, so a 400 (or 505) can be built even though sip_parse() failed.
 * Context: any thread.
 */
bool sip_msg_can_reply(const struct sip_msg *m);

/**
 * The status code a server answers a request that failed to parse with: 505 for
 * LC_ESIP_VERSION, 413 for LC_ESIP_TOO_BIG, 400 otherwise. The reason is lc_strerror(m->err).
 * Context: any thread.
 */
unsigned sip_msg_error_status(const struct sip_msg *m);

/** Method id of a method token (case-sensitive, RFC 3261 §7.1). Context: any thread. */
enum sip_method sip_method_lookup(const char *p, size_t len);

/** Method name, e.g. "REGISTER"; "" for SIP_METHOD_UNKNOWN. Context: any thread. */
const char *sip_method_name(enum sip_method id);

/**
 * The first header field with this id, or NULL. For fields without an id, sip_msg_header_by_name
 * compares names case-insensitively (long form only).
 * Context: any thread.
 */
const struct sip_hdr *sip_msg_header(const struct sip_msg *m, enum sip_hdr_id id);
const struct sip_hdr *sip_msg_header_by_name(const struct sip_msg *m, const char *name);

/** Whether an option-tag list holds @p tag (case-insensitive, RFC 3261 §19.2). */
bool sip_tags_has(const struct sip_tags *t, const char *tag);
