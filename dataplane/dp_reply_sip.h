/* SPDX-License-Identifier: MIT */
/*
 * The SIP half of the reply library (dp_reply_sip.c): building and queueing every response to a
 * SIP request, and the policy tables the responses state (which methods are allowed, which
 * extensions are supported). The request stages and the forwarding code call it; it calls
 * nothing above it.
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
	const struct sip_msg *req; /* the request answered (borrowed) */
	struct dp_addr src;	   /* where it came from */
	struct dp_pkt *out;
	struct sip_resp r;
	struct sip_peer peer;
	unsigned code;
};

/**
 * The To tag of a response to @p req (RFC 3261 §8.2.6.2): SipHash-2-4 (dp_mac_prf64) under the
 * node's To-tag key over sip_resp_tag_input(req), as SIP_RESP_TAG_LEN hex digits. The same request
 * (a retransmission) gets the same tag, so the registrar stays stateless; and since the function
 * is a PRF, tags reveal nothing of the key, which serves no other purpose.
 * Context: any thread; fast path.
 */
void dp_sip_to_tag(const uint8_t key[DP_MAC_KEY_LEN], const struct sip_msg *req,
		   char out[SIP_RESP_TAG_LEN]);

/**
 * Start a response to the request @p m (borrowed until dp_reply_end), which came from @p src: status line, Vias, From, To, Call-ID, CSeq and
 * Server. @return false when no packet buffer was free (counted; the request goes unanswered and
 * the client retransmits).
 */
bool dp_reply_begin(struct dp_reply *rp, struct dp_worker *w, const struct sip_msg *m,
		    const struct dp_addr *src, unsigned code, const char *reason);

/** Finish and queue it (RFC 3581 / §18.2.2 destination). */
void dp_reply_end(struct dp_reply *rp);

/** A response with no extra header fields. */
void dp_reply_simple(struct dp_worker *w, const struct sip_msg *m, const struct dp_addr *src,
		     unsigned code, const char *reason);

/* One contact of an answer, read from the local store or from the owner's LSP answer. */
struct dp_contact {
	struct dht_bytes uri, instance;
	uint32_t expires_s; /* remaining */
	uint32_t reg_id;    /* 0: none */
	int16_t q;	    /* thousandths, -1: none */
};

/** The contacts of @p b with their remaining expiry; returns b->n. */
unsigned dp_contacts_of(const struct dp_worker *w, const struct dp_bindings *b,
			struct dp_contact *out);

/** 200 OK to the REGISTER @p m: the contacts, the request's Path, Date (§10.3 step 8). */
void dp_reply_register_ok(struct dp_worker *w, const struct sip_msg *m, const struct dp_addr *src,
			  const struct dp_contact *c, unsigned n);

/** The REGISTER @p m was refused: 423 + Min-Expires, 503 + Retry-After, 400, 403, 500. */
void dp_reply_register_refused(struct dp_worker *w, const struct sip_msg *m,
			       const struct dp_addr *src, enum dp_update_status st);

/** 302 with the contacts ranked by q (reordered in place), or 404 when there are none. */
void dp_reply_redirect(struct dp_worker *w, const struct sip_msg *m, const struct dp_addr *src,
		       struct dp_contact *c, unsigned n);

/** @p code (405 or 501) with Allow (RFC 3261 §8.2.1). */
void dp_reply_allow(struct dp_worker *w, const struct sip_msg *m, const struct dp_addr *src,
		    unsigned code);

/** 200 to an OPTIONS for the node itself: Allow, Supported, Accept (§11.2). */
void dp_reply_options(struct dp_worker *w, const struct sip_msg *m, const struct dp_addr *src);

/** The request's Path values, joined with ", ", into @p buf (RFC 3327: stored with the binding,
 * and echoed in the 200 to a REGISTER). */
struct dht_bytes dp_sip_path_of(const struct sip_msg *m, char *buf, size_t cap);
