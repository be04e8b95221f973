/* SPDX-License-Identifier: MIT */
/*
 * What the SIP request stages share between their files (dp_sip.c, dp_register.c,
 * dp_redirect.c): the domain rule and the entry points of REGISTER and the redirect server.
 * Responses are built by the reply library (dp_reply_sip.h).
 */
#pragma once

#include <stdbool.h>

#include "dataplane/dp_reply_sip.h"
#include "dataplane/dp_update.h"
#include "dataplane/dp_worker_internal.h"

/** Whether @p host (a URI host) names a domain this node serves (any when none configured). */
bool dp_domain_served(const struct dp_cfg *cfg, struct sip_str host);

/* REGISTER (RFC 3261 §10.3) in in->msg.sip, received in @p in (in->req: the To AOR's key), in
 * dp_register.c. */
void dp_register(struct dp_worker *w, const struct dp_pkt *in);

/* Requests to an AOR answered by 302 or 404 (RFC 3261 §8.3) in in->msg.sip, received in @p in
 * (in->req: the Request-URI's key), in dp_redirect.c. */
void dp_redirect(struct dp_worker *w, const struct dp_pkt *in);
