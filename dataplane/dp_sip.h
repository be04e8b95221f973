/* SPDX-License-Identifier: MIT */
/*
 * What the SIP side of a worker shares between its files: building and queueing one response,
 * and the policy tables (which methods are redirected, which extensions are supported).
 */
#pragma once

#include <stdbool.h>

#include "dataplane/dp_update.h"
#include "dataplane/dp_worker_internal.h"
#include "sipparse/sip_resp.h"

/* Methods a node allows (RFC 3261 §20.5), and the extensions it supports (§20.37). */
#define DP_ALLOW "INVITE, ACK, CANCEL, OPTIONS, REGISTER, SUBSCRIBE, NOTIFY, MESSAGE, REFER"
#define DP_SUPPORTED "path"

/* One response being built. Owner: the worker, on its stack. */
struct dp_reply {
	struct dp_worker *w;
	const struct dp_pkt *in;
	struct dp_pkt *out;
	struct sip_resp r;
	struct sip_peer peer;
	unsigned code;
};

/**
 * Start a response to w->msg, which came in @p in: status line, Vias, From, To, Call-ID, CSeq and
 * Server. @return false when no packet buffer was free (counted; the request goes unanswered and
 * the client retransmits).
 */
bool dp_reply_begin(struct dp_reply *rp, struct dp_worker *w, const struct dp_pkt *in,
		    unsigned code, const char *reason);

/** Finish and queue it (RFC 3581 / §18.2.2 destination). */
void dp_reply_end(struct dp_reply *rp);

/** A response with no extra header fields. */
void dp_reply_simple(struct dp_worker *w, const struct dp_pkt *in, unsigned code,
		     const char *reason);

/** Whether @p host (a URI host) names a domain this node serves (any when none configured). */
bool dp_domain_served(const struct dp_cfg *cfg, struct sip_str host);

/* REGISTER (RFC 3261 §10.3), in dp_register.c. w->aor / w->key hold the To AOR when key_ok. */
void dp_register(struct dp_worker *w, const struct dp_pkt *in);

/* Requests to an AOR answered by 302 or 404 (RFC 3261 §8.3), in dp_redirect.c. */
void dp_redirect(struct dp_worker *w, const struct dp_pkt *in);
