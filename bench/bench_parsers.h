/* SPDX-License-Identifier: MIT */
/*
 * The two parsers under test, behind one shape: parse a datagram and read the fields a registrar
 * needs into struct bench_fields. Timing parse-plus-read rather than parse alone keeps the race
 * fair: locus parses everything up front into views, while libosip2 leaves numbers as strings
 * and some fields as generic headers to look up by name, so a consumer pays for those lookups and
 * conversions after osip_message_parse() returns. The same struct lets the benchmark check that
 * both parsers saw the same message.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipparse/sip_msg.h"
#include "sipparse/sip_str.h"

#define BENCH_MAX_VIA 8
#define BENCH_MAX_CONTACT 4

/* Owner: the caller's stack; views point into the datagram (locus) or the osip message. */
struct bench_fields {
	struct sip_str method, ruri_user, ruri_host;
	unsigned nvia; /* all of them; the first BENCH_MAX_VIA are kept */
	struct {
		struct sip_str host, branch;
		uint32_t port; /* 0 when absent */
	} via[BENCH_MAX_VIA];
	struct sip_str from_user, from_host, from_tag, to_user, to_host, to_tag;
	struct sip_str call_id;	     /* locus: the whole value; osip: the part before '@' */
	struct sip_str call_id_host; /* osip only: the part after '@' */
	uint32_t cseq;
	struct sip_str cseq_method;
	unsigned ncontact;
	struct {
		struct sip_str user, host;
		uint32_t port;
		int64_t expires; /* -1 when absent */
		int32_t q;	 /* thousandths, -1 when absent */
	} contact[BENCH_MAX_CONTACT];
	int64_t expires;		      /* the Expires header, -1 when absent */
	int32_t max_forwards;		      /* -1 when absent */
	struct sip_str auth_user, auth_realm; /* the first credentials, quotes removed */
};

/**
 * sip_parse() @p buf into @p m, then read @p f from it.
 * @param m    reused between calls, as a worker would.
 * @return sip_parse()'s result.
 * Context: benchmark thread.
 */
int bench_locus_parse(struct sip_msg *m, const char *buf, size_t len, struct bench_fields *f);

/** Call libosip2's parser_init(); once, before bench_osip_parse. */
void bench_osip_init(void);

/**
 * osip_message_init, osip_message_parse, read @p f, osip_message_free. When @p f is to be looked
 * at afterwards, pass @p keep instead: the message is then kept alive until the next call with
 * @p keep set, or bench_osip_release().
 * @return 0, or libosip2's negative error code.
 * Context: benchmark thread.
 */
int bench_osip_parse(const char *buf, size_t len, struct bench_fields *f, bool keep);

/** Free a message that bench_osip_parse kept. */
void bench_osip_release(void);

/**
 * Compare what the two parsers read, after normalising what they legitimately write differently
 * (IPv6 brackets, the Call-ID split).
 * @param why  set to the first difference, for the report.
 * @return true when they agree.
 */
bool bench_fields_agree(const struct bench_fields *locus, const struct bench_fields *osip,
			char *why, size_t cap);
