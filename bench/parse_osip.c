/* SPDX-License-Identifier: MIT */
/*
 * The libosip2 side of the parser race: osip_message_init, osip_message_parse, a read of the same
 * fields bench_locus_parse reads, through libosip2's public accessors as an application would use
 * them (numbers converted, generic headers such as Expires looked up by name, digest values
 * unquoted), then osip_message_free. Only this file includes libosip2's headers.
 */
#include <stdlib.h>
#include <string.h>

#include <osipparser2/osip_parser.h>

#include "bench/bench_parsers.h"

static osip_message_t *kept;

void bench_osip_init(void)
{
	parser_init();
}

static struct sip_str view(const char *s)
{
	return s != NULL ? sip_str_make(s, strlen(s)) : SIP_STR_NULL;
}

/* A digest value without its quotes, as locus reports it. */
static struct sip_str unquote(const char *s)
{
	struct sip_str v = view(s);
	if (v.len >= 2 && v.p[0] == '"' && v.p[v.len - 1] == '"') {
		v = sip_str_make(v.p + 1, v.len - 2);
	}
	return v;
}

static int64_t number(const char *s, int64_t absent)
{
	return s != NULL ? strtoll(s, NULL, 10) : absent;
}

/* A qvalue in thousandths ("0.75" -> 750), -1 when absent. */
static int32_t qvalue(const char *s)
{
	if (s == NULL) {
		return -1;
	}
	int32_t q = (*s == '1') ? 1000 : 0;
	if (s[0] != '\0' && s[1] == '.') {
		int32_t scale = 100;
		for (const char *d = s + 2; *d >= '0' && *d <= '9' && scale > 0; d++, scale /= 10) {
			q += (*d - '0') * scale;
		}
	}
	return q;
}

static const char *param(osip_list_t *params, const char *name)
{
	osip_generic_param_t *p = NULL;
	osip_generic_param_get_byname(params, (char *)name, &p);
	return p != NULL ? p->gvalue : NULL;
}

static void read_vias(osip_message_t *msg, struct bench_fields *f)
{
	osip_via_t *via = NULL;
	f->nvia = 0;
	for (int i = 0; osip_message_get_via(msg, i, &via) >= 0; i++) {
		if (f->nvia < BENCH_MAX_VIA) {
			f->via[f->nvia].host = view(via->host);
			f->via[f->nvia].port = (uint32_t)number(via->port, 0);
			f->via[f->nvia].branch = view(param(&via->via_params, "branch"));
		}
		f->nvia++;
	}
}

static void read_contacts(osip_message_t *msg, struct bench_fields *f)
{
	osip_contact_t *c = NULL;
	f->ncontact = 0;
	for (int i = 0; osip_message_get_contact(msg, i, &c) >= 0; i++) {
		if (f->ncontact < BENCH_MAX_CONTACT) {
			osip_uri_t *u = c->url;
			f->contact[f->ncontact].user = view(u ? u->username : NULL);
			f->contact[f->ncontact].host = view(u ? u->host : NULL);
			f->contact[f->ncontact].port = (uint32_t)number(u ? u->port : NULL, 0);
			f->contact[f->ncontact].expires =
				number(param(&c->gen_params, "expires"), -1);
			f->contact[f->ncontact].q = qvalue(param(&c->gen_params, "q"));
		}
		f->ncontact++;
	}
}

static void read_addr(osip_from_t *a, struct sip_str *user, struct sip_str *host,
		      struct sip_str *tag)
{
	osip_uri_t *u = a != NULL ? a->url : NULL;
	*user = view(u ? u->username : NULL);
	*host = view(u ? u->host : NULL);
	*tag = view(a != NULL ? param(&a->gen_params, "tag") : NULL);
}

static void read_fields(osip_message_t *msg, struct bench_fields *f)
{
	osip_uri_t *ruri = msg->req_uri;
	f->method = view(msg->sip_method);
	f->ruri_user = view(ruri ? ruri->username : NULL);
	f->ruri_host = view(ruri ? ruri->host : NULL);
	read_vias(msg, f);
	read_addr(osip_message_get_from(msg), &f->from_user, &f->from_host, &f->from_tag);
	read_addr(osip_message_get_to(msg), &f->to_user, &f->to_host, &f->to_tag);
	osip_call_id_t *cid = osip_message_get_call_id(msg);
	f->call_id = view(cid ? cid->number : NULL);
	f->call_id_host = view(cid ? cid->host : NULL);
	osip_cseq_t *cseq = osip_message_get_cseq(msg);
	f->cseq = (uint32_t)number(cseq ? cseq->number : NULL, 0);
	f->cseq_method = view(cseq ? cseq->method : NULL);
	read_contacts(msg, f);
	osip_header_t *h = NULL;
	osip_message_get_expires(msg, 0, &h);
	f->expires = number(h ? h->hvalue : NULL, -1);
	h = NULL;
	osip_message_get_max_forwards(msg, 0, &h);
	f->max_forwards = (int32_t)number(h ? h->hvalue : NULL, -1);
	osip_authorization_t *a = NULL;
	if (osip_message_get_authorization(msg, 0, &a) < 0) {
		osip_message_get_proxy_authorization(msg, 0, &a);
	}
	f->auth_user = unquote(a ? osip_authorization_get_username(a) : NULL);
	f->auth_realm = unquote(a ? osip_authorization_get_realm(a) : NULL);
}

int bench_osip_parse(const char *buf, size_t len, struct bench_fields *f, bool keep)
{
	osip_message_t *msg = NULL;
	if (osip_message_init(&msg) != OSIP_SUCCESS) {
		return OSIP_NOMEM;
	}
	int r = osip_message_parse(msg, buf, len);
	if (r == OSIP_SUCCESS) {
		read_fields(msg, f);
	}
	if (keep) {
		bench_osip_release();
		kept = msg;
	} else {
		osip_message_free(msg);
	}
	return r;
}

void bench_osip_release(void)
{
	if (kept != NULL) {
		osip_message_free(kept);
		kept = NULL;
	}
}
