/* SPDX-License-Identifier: MIT */
/*
 * The locus side of the parser race: sip_parse() and a read of the registrar's fields, which for
 * locus are already views and integers. Also the cross-check of what locus and libosip2 read.
 */
#include <stdio.h>
#include <string.h>

#include "bench/bench_parsers.h"

int bench_locus_parse(struct sip_msg *m, const char *buf, size_t len, struct bench_fields *f)
{
	int r = sip_parse(m, buf, len);
	f->method = m->method;
	f->ruri_user = m->ruri.user;
	f->ruri_host = m->ruri.host;
	f->nvia = m->nvia;
	for (unsigned i = 0; i < m->nvia && i < BENCH_MAX_VIA; i++) {
		f->via[i].host = m->via[i].host;
		f->via[i].branch = m->via[i].branch;
		f->via[i].port = m->via[i].port;
	}
	f->from_user = m->from.uri.user;
	f->from_host = m->from.uri.host;
	f->from_tag = m->from.tag;
	f->to_user = m->to.uri.user;
	f->to_host = m->to.uri.host;
	f->to_tag = m->to.tag;
	f->call_id = m->call_id;
	f->call_id_host = SIP_STR_NULL;
	f->cseq = m->cseq;
	f->cseq_method = m->cseq_method;
	f->ncontact = m->ncontact;
	for (unsigned i = 0; i < m->ncontact && i < BENCH_MAX_CONTACT; i++) {
		const struct sip_contact *c = &m->contact[i];
		f->contact[i].user = c->addr.uri.user;
		f->contact[i].host = c->addr.uri.host;
		f->contact[i].port = c->addr.uri.port;
		f->contact[i].expires = c->expires;
		f->contact[i].q = c->q;
	}
	f->expires = m->expires;
	f->max_forwards = m->max_forwards;
	f->auth_user = m->nauth > 0 ? m->auth[0].username : SIP_STR_NULL;
	f->auth_realm = m->nauth > 0 ? m->auth[0].realm : SIP_STR_NULL;
	return r;
}

/* An IPv6 reference without its brackets: libosip2 drops them, locus keeps them. */
static struct sip_str unbracket(struct sip_str s)
{
	if (s.len >= 2 && s.p[0] == '[' && s.p[s.len - 1] == ']') {
		return sip_str_make(s.p + 1, s.len - 2);
	}
	return s;
}

static bool same(struct sip_str a, struct sip_str b)
{
	a = unbracket(a);
	b = unbracket(b);
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* locus keeps "number@host" whole; libosip2 splits it at the '@'. */
static bool same_call_id(const struct bench_fields *l, const struct bench_fields *o)
{
	if (o->call_id_host.p == NULL) {
		return same(l->call_id, o->call_id);
	}
	size_t n = o->call_id.len;
	return l->call_id.len == n + 1 + o->call_id_host.len &&
	       memcmp(l->call_id.p, o->call_id.p, n) == 0 && l->call_id.p[n] == '@' &&
	       memcmp(l->call_id.p + n + 1, o->call_id_host.p, o->call_id_host.len) == 0;
}

#define AGREE(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			snprintf(why, cap, __VA_ARGS__);                                           \
			return false;                                                              \
		}                                                                                  \
	} while (0)

static bool vias_agree(const struct bench_fields *l, const struct bench_fields *o, char *why,
		       size_t cap)
{
	AGREE(l->nvia == o->nvia, "Via count %u vs %u", l->nvia, o->nvia);
	for (unsigned i = 0; i < l->nvia && i < BENCH_MAX_VIA; i++) {
		AGREE(same(l->via[i].host, o->via[i].host), "Via[%u] host", i);
		AGREE(same(l->via[i].branch, o->via[i].branch), "Via[%u] branch", i);
		AGREE(l->via[i].port == o->via[i].port, "Via[%u] port %u vs %u", i,
		      (unsigned)l->via[i].port, (unsigned)o->via[i].port);
	}
	return true;
}

static bool contacts_agree(const struct bench_fields *l, const struct bench_fields *o, char *why,
			   size_t cap)
{
	AGREE(l->ncontact == o->ncontact, "Contact count %u vs %u", l->ncontact, o->ncontact);
	for (unsigned i = 0; i < l->ncontact && i < BENCH_MAX_CONTACT; i++) {
		AGREE(same(l->contact[i].user, o->contact[i].user), "Contact[%u] user", i);
		AGREE(same(l->contact[i].host, o->contact[i].host), "Contact[%u] host", i);
		AGREE(l->contact[i].port == o->contact[i].port, "Contact[%u] port", i);
		AGREE(l->contact[i].expires == o->contact[i].expires,
		      "Contact[%u] expires %lld vs %lld", i, (long long)l->contact[i].expires,
		      (long long)o->contact[i].expires);
		AGREE(l->contact[i].q == o->contact[i].q, "Contact[%u] q %d vs %d", i,
		      (int)l->contact[i].q, (int)o->contact[i].q);
	}
	return true;
}

bool bench_fields_agree(const struct bench_fields *l, const struct bench_fields *o, char *why,
			size_t cap)
{
	AGREE(same(l->method, o->method), "method");
	AGREE(same(l->ruri_user, o->ruri_user), "Request-URI user");
	AGREE(same(l->ruri_host, o->ruri_host), "Request-URI host");
	if (!vias_agree(l, o, why, cap)) {
		return false;
	}
	AGREE(same(l->from_user, o->from_user) && same(l->from_host, o->from_host), "From URI");
	AGREE(same(l->from_tag, o->from_tag), "From tag");
	AGREE(same(l->to_user, o->to_user) && same(l->to_host, o->to_host), "To URI");
	AGREE(same(l->to_tag, o->to_tag), "To tag");
	AGREE(same_call_id(l, o), "Call-ID");
	AGREE(l->cseq == o->cseq && same(l->cseq_method, o->cseq_method), "CSeq");
	if (!contacts_agree(l, o, why, cap)) {
		return false;
	}
	AGREE(l->expires == o->expires, "Expires %lld vs %lld", (long long)l->expires,
	      (long long)o->expires);
	AGREE(l->max_forwards == o->max_forwards, "Max-Forwards %d vs %d", (int)l->max_forwards,
	      (int)o->max_forwards);
	AGREE(same(l->auth_user, o->auth_user), "Authorization username");
	AGREE(same(l->auth_realm, o->auth_realm), "Authorization realm");
	return true;
}
