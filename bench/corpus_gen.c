/* SPDX-License-Identifier: MIT */
/*
 * The corpus generator: REGISTER and INVITE requests as a registrar receives them, from a seed.
 *
 * How it works: each message picks a phone model (corpus_ua.c), a network position (private or
 * IPv6 address, NAT, transport) and a path of 0 to 4 proxies. The phone's own header fields are
 * written in the model's order; each proxy then adds what Kamailio or OpenSIPS would: a Via at
 * the top (sometimes folded into one comma-separated field), received/rport on the phone's Via, a
 * Record-Route for INVITEs or a Path for REGISTERs, and one less Max-Forwards. INVITEs carry an
 * SDP offer. The 300 to 900 byte bound is met by trimming, not by redrawing: a message that
 * comes out too long is drawn again from the same PRNG state with the optional padding left out
 * step by step (Allow-Events and Accept first, then Allow, codecs, Supported, digest extras), and
 * the phone and identifiers are redrawn, while the plan (how many Vias and Contacts, credentials,
 * Record-Route) is kept, so those features keep the shares drawn for them. Only a plan that no
 * draw fits gives up a feature (the report counts these). Either way the corpus stays a pure
 * function of the seed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_corpus.h"
#include "bench/corpus_ua.h"
#include "common/lc_error.h"

#define GEN_CAP 2048
#define GEN_MIN_LEN 300
#define GEN_MAX_LEN 900
#define GEN_MAX_PROXIES 4
#define GEN_TRIES_PER_PLAN 20
#define GEN_MAX_TRIM 4

/* Owner: draw_fitting's stack. What one message is timed on; kept while the rest is redrawn. */
struct plan {
	bool invite, ipv6, auth, proxy_auth, record_route, path, fold_vias;
	unsigned nproxy, ncontact;
};

/* Owner: bench_corpus_gen's stack; one message being drawn. */
struct gen {
	struct bench_prng *r;
	const struct ua *ua;
	char *out;
	size_t len;
	bool overflow;
	unsigned trim; /* how much optional padding to leave out, 0 (none) to GEN_MAX_TRIM */

	struct plan p; /* the features, as drawn or reduced */
	bool nat, expires_in_contact;
	unsigned reduced;      /* features the plan lost to the size bound */
	const char *transport; /* "UDP", "TCP" or "TLS" */
	const char *domain;
	char local[64];	     /* host as written in URIs and Via (IPv6 in brackets) */
	char local_bare[48]; /* for SDP and Call-ID */
	char pub[64];	     /* the address the first proxy sees (IPv6 in brackets) */
	unsigned port, pub_port, cseq, expires;
	char user[40], display[48], callee[40];
	char ruri[128], tag[48], callid[96];
	char proxy[GEN_MAX_PROXIES][48];
	const char *proxy_transport[GEN_MAX_PROXIES];
};

static const char *const domains[] = {
	"sip.example.com",	   "pbx.acme-corp.net",	      "voip.example.org",
	"tel.provider.example.de", "registrar.telco.example", "203.0.113.10",
	"cloudpbx.example.co.uk",
};

static const char *const names[] = {
	"alice", "bob",	 "carol", "dave",  "erin",  "frank",  "grace",	"heidi",
	"ivan",	 "judy", "oscar", "peggy", "trent", "victor", "walter", "yusuf",
};

static const char *const displays[] = {
	"Alice Smith",	"Front Desk",	     "Reception 2",
	"Bob",		"Conference Room B", "J\xc3\xbcrgen Wei\xc3\x9f",
	"Support Line", "Dr. Chen",
};

__attribute__((format(printf, 2, 3))) static void put(struct gen *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(g->out + g->len, GEN_CAP - g->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= GEN_CAP - g->len) {
		g->overflow = true;
		return;
	}
	g->len += (size_t)n;
}

static uint32_t rnd(struct gen *g, uint32_t lo, uint32_t hi)
{
	return bench_prng_range(g->r, lo, hi);
}

static bool chance(struct gen *g, uint32_t pct)
{
	return bench_prng_chance(g->r, pct);
}

/* Header name, in compact form when the phone uses compact forms and the field has one. */
static const char *hn(const struct gen *g, const char *name, const char *compact)
{
	return (g->ua->compact && compact != NULL) ? compact : name;
}

static void draw_user(struct gen *g, char *out, size_t cap)
{
	switch (rnd(g, 0, 3)) {
	case 0:
	case 1:
		snprintf(out, cap, "%u", (unsigned)rnd(g, 100, 9999));
		break;
	case 2:
		snprintf(out, cap, "+49%u%07u", (unsigned)rnd(g, 30, 89),
			 (unsigned)rnd(g, 0, 9999999));
		break;
	default:
		snprintf(out, cap, "%s%s%u", names[rnd(g, 0, LC_ARRAY_SIZE(names) - 1)],
			 chance(g, 50) ? "." : "", (unsigned)rnd(g, 1, 99));
		break;
	}
}

static void draw_addresses(struct gen *g)
{
	if (g->p.ipv6) {
		snprintf(g->local_bare, sizeof(g->local_bare), "2001:db8:%x:%x::%x",
			 (unsigned)rnd(g, 1, 0xffff), (unsigned)rnd(g, 1, 0xffff),
			 (unsigned)rnd(g, 1, 0xfff));
		snprintf(g->local, sizeof(g->local), "[%s]", g->local_bare);
	} else {
		uint32_t k = rnd(g, 0, 9);
		if (k < 6) {
			snprintf(g->local_bare, sizeof(g->local_bare), "192.168.%u.%u",
				 (unsigned)rnd(g, 0, 20), (unsigned)rnd(g, 2, 254));
		} else if (k < 9) {
			snprintf(g->local_bare, sizeof(g->local_bare), "10.%u.%u.%u",
				 (unsigned)rnd(g, 0, 255), (unsigned)rnd(g, 0, 255),
				 (unsigned)rnd(g, 2, 254));
		} else {
			snprintf(g->local_bare, sizeof(g->local_bare), "172.%u.%u.%u",
				 (unsigned)rnd(g, 16, 31), (unsigned)rnd(g, 0, 255),
				 (unsigned)rnd(g, 2, 254));
		}
		snprintf(g->local, sizeof(g->local), "%s", g->local_bare);
	}
	static const char *const nets[] = {"198.51.100", "203.0.113", "192.0.2"};
	g->nat = !g->p.ipv6 && chance(g, 80);
	if (g->nat) {
		snprintf(g->pub, sizeof(g->pub), "%s.%u", nets[rnd(g, 0, 2)],
			 (unsigned)rnd(g, 1, 254));
	} else {
		snprintf(g->pub, sizeof(g->pub), "%s", g->local); /* IPv6 and public v4: no NAT */
	}
	g->port = g->ua->port != 0 ? g->ua->port : rnd(g, 10000, 65000);
	g->pub_port = g->nat ? rnd(g, 1024, 65535) : g->port;
}

static void draw_plan(struct bench_prng *r, struct plan *p)
{
	static const uint32_t share[] = {35, 30, 20, 10, 5}; /* 0..4 proxies, percent */
	uint32_t x = bench_prng_below(r, 100);
	p->invite = bench_prng_chance(r, 35);
	p->ipv6 = bench_prng_chance(r, 5);
	p->nproxy = 0;
	while (x >= share[p->nproxy]) {
		x -= share[p->nproxy];
		p->nproxy++;
	}
	p->fold_vias = p->nproxy > 1 && bench_prng_chance(r, 25);
	p->record_route = p->invite && p->nproxy > 0 && bench_prng_chance(r, 70);
	p->path = !p->invite && p->nproxy > 0 && bench_prng_chance(r, 40);
	p->auth = bench_prng_chance(r, p->invite ? 70 : 55);
	p->proxy_auth = p->invite && p->auth && bench_prng_chance(r, 30);
	p->ncontact = 1;
	if (!p->invite) {
		uint32_t c = bench_prng_below(r, 100);
		p->ncontact = c < 80 ? 1 : (c < 94 ? 2 : 3);
	}
}

/*
 * A plan with no size-bounded draw: give up one feature, the one adding the most bytes first.
 * Returns false when nothing is left to give up.
 */
static bool reduce_plan(struct plan *p)
{
	if (p->record_route || p->path) {
		p->record_route = p->path = false;
	} else if (p->nproxy > 1) {
		p->nproxy--;
		p->fold_vias = p->fold_vias && p->nproxy > 1;
	} else if (p->auth) {
		p->auth = p->proxy_auth = false;
	} else if (p->ncontact > 1) {
		p->ncontact--;
	} else if (p->nproxy > 0) {
		p->nproxy--;
	} else {
		return false;
	}
	return true;
}

static void draw_proxies(struct gen *g)
{
	for (unsigned i = 0; i < g->p.nproxy; i++) {
		switch (rnd(g, 0, 5)) {
		case 0:
		case 1:
			snprintf(g->proxy[i], sizeof(g->proxy[i]), "10.0.%u.%u",
				 (unsigned)rnd(g, 0, 9), (unsigned)rnd(g, 2, 250));
			break;
		case 2:
			snprintf(g->proxy[i], sizeof(g->proxy[i]), "10.0.%u.%u:5060",
				 (unsigned)rnd(g, 0, 9), (unsigned)rnd(g, 2, 250));
			break;
		case 3:
			snprintf(g->proxy[i], sizeof(g->proxy[i]), "edge%u.example.net",
				 (unsigned)rnd(g, 1, 8));
			break;
		case 4:
			snprintf(g->proxy[i], sizeof(g->proxy[i]),
				 "sbc-%u.fra.provider.example:5070", (unsigned)rnd(g, 1, 4));
			break;
		default:
			snprintf(g->proxy[i], sizeof(g->proxy[i]), "[2001:db8:ffff::%x]",
				 (unsigned)rnd(g, 1, 0xff));
			break;
		}
		g->proxy_transport[i] = chance(g, 80) ? "UDP" : "TCP";
	}
}

static void draw_identity(struct gen *g)
{
	const struct ua *ua = g->ua;
	uint32_t t = rnd(g, 0, 99);
	g->transport = t < 70 ? "UDP" : (t < 82 ? "TCP" : "TLS");
	if (ua->kind == UA_LINPHONE && chance(g, 60)) {
		g->transport = "TLS";
	}
	g->domain = (ua->kind == UA_LINPHONE && chance(g, 60))
			    ? "sip.linphone.org"
			    : domains[rnd(g, 0, LC_ARRAY_SIZE(domains) - 1)];
	draw_user(g, g->user, sizeof(g->user));
	draw_user(g, g->callee, sizeof(g->callee));
	if (ua->kind == UA_YEALINK) {
		snprintf(g->display, sizeof(g->display), "%s", g->user);
	} else {
		snprintf(g->display, sizeof(g->display), "%s",
			 displays[rnd(g, 0, LC_ARRAY_SIZE(displays) - 1)]);
	}
	corpus_tag(g->r, ua->kind, g->tag, sizeof(g->tag));
	corpus_callid(g->r, ua->kind, g->local_bare, g->callid, sizeof(g->callid));
	g->cseq = ua->kind == UA_GRANDSTREAM ? rnd(g, 2000, 2100) : rnd(g, 1, 120);
	if (ua->kind == UA_PJSIP && chance(g, 50)) {
		g->cseq = rnd(g, 10000, 65000); /* pjsip starts at a random CSeq */
	}
	static const unsigned expiry[] = {3600, 3600, 600, 300, 120, 60, 1800, 0};
	g->expires = expiry[rnd(g, 0, LC_ARRAY_SIZE(expiry) - 1)];
	g->expires_in_contact = ua->kind == UA_POLYCOM || chance(g, 20);
}

static void put_uri_transport(struct gen *g)
{
	if (strcmp(g->transport, "UDP") != 0 || g->ua->upper_transport) {
		put(g, ";transport=%s",
		    g->ua->upper_transport
			    ? g->transport
			    : (g->transport[1] == 'C' ? "tcp"
						      : (g->transport[1] == 'L' ? "tls" : "udp")));
	}
}

static void put_start_line(struct gen *g)
{
	if (g->p.invite) {
		put(g, "INVITE sip:%s@%s%s SIP/2.0\r\n", g->callee, g->domain,
		    g->callee[0] == '+' ? ";user=phone" : "");
		return;
	}
	snprintf(g->ruri, sizeof(g->ruri), "sip:%s%s", g->domain, g->ua->ruri_port ? ":5060" : "");
	put(g, "REGISTER %s", g->ruri);
	if (g->ua->upper_transport) {
		put_uri_transport(g);
	}
	put(g, " SIP/2.0\r\n");
}

/* What the proxies on the path write above the phone's own fields, newest first. */
static void put_proxy_fields(struct gen *g)
{
	char b[64], t[16];
	for (unsigned i = g->p.nproxy; i-- > 0;) {
		if (g->p.record_route) {
			corpus_chars(g->r, t, 8, CORPUS_HEXL);
			if (g->trim >= 3) {
				put(g, "Record-Route: <sip:%s;lr>\r\n", g->proxy[i]);
			} else if (chance(g, 50)) {
				put(g, "Record-Route: <sip:%s;lr;ftag=%s>\r\n", g->proxy[i],
				    g->tag);
			} else {
				put(g, "Record-Route: <sip:%s;lr;did=%.3s.%s>\r\n", g->proxy[i], t,
				    t + 3);
			}
		}
		if (g->p.path) {
			if (i == 0) {
				put(g, "Path: <sip:%s;lr;received=sip:%s:%u>\r\n", g->proxy[i],
				    g->pub, g->pub_port);
			} else {
				put(g, "Path: <sip:%s;lr>\r\n", g->proxy[i]);
			}
		}
	}
	if (g->p.nproxy == 0) {
		return;
	}
	put(g, "%s: ", hn(g, "Via", "v"));
	for (unsigned i = g->p.nproxy; i-- > 0;) {
		corpus_proxy_branch(g->r, b, sizeof(b));
		put(g, "SIP/2.0/%s %s;branch=%s", g->proxy_transport[i], g->proxy[i], b);
		if (i > 0 && g->p.fold_vias) {
			put(g, ", ");
		} else if (i > 0) {
			put(g, "\r\n%s: ", hn(g, "Via", "v"));
		}
	}
	put(g, "\r\n");
}

static void put_via(struct gen *g)
{
	char b[64];
	corpus_branch(g->r, g->ua->kind, b, sizeof(b));
	put(g, "%s: SIP/2.0/%s %s:%u", hn(g, "Via", "v"), g->transport, g->local, g->port);
	if (g->ua->kind == UA_LINPHONE && g->transport[0] == 'T') {
		put(g, ";alias");
	}
	/* the first proxy fills in rport (RFC 3581 §4) and received (RFC 3261 §18.2.1) */
	char rport[16] = ";rport";
	if (g->p.nproxy > 0) {
		snprintf(rport, sizeof(rport), ";rport=%u", g->pub_port);
	}
	if (g->ua->rport && g->ua->rport_first) {
		put(g, "%s", rport);
	}
	put(g, ";branch=%s", b);
	if (g->ua->rport && !g->ua->rport_first) {
		put(g, "%s", rport);
	}
	if (g->p.nproxy > 0 && g->nat) {
		put(g, ";received=%s", g->pub);
	}
	put(g, "\r\n");
}

static void put_from_to(struct gen *g, bool from)
{
	const char *user = (from || !g->p.invite) ? g->user : g->callee;
	bool display = from ? g->ua->display : (g->ua->kind == UA_YEALINK && !g->p.invite);
	put(g, "%s: ", from ? hn(g, "From", "f") : hn(g, "To", "t"));
	if (!from && g->ua->to_bare) {
		put(g, "sip:%s@%s\r\n", user, g->domain);
		return;
	}
	if (display) {
		put(g, "\"%s\" ", g->display);
	}
	put(g, "<sip:%s@%s%s", user, g->domain, g->ua->ruri_port ? ":5060" : "");
	if (g->ua->upper_transport) {
		put_uri_transport(g);
	}
	if (from) {
		put(g, ">;tag=%s\r\n", g->tag);
	} else {
		put(g, ">\r\n");
	}
}

static void put_instance(struct gen *g)
{
	char u[40];
	corpus_uuid(g->r, g->ua->kind == UA_GRANDSTREAM, u, sizeof(u));
	if (g->ua->kind == UA_GRANDSTREAM || g->ua->kind == UA_PJSIP) {
		put(g, ";reg-id=1;+sip.instance=\"<urn:uuid:%s>\"", u);
	} else if (g->ua->kind == UA_POLYCOM && chance(g, 50)) {
		put(g, ";+sip.instance=\"<urn:uuid:%s>\";reg-id=1", u);
	} else {
		put(g, ";+sip.instance=\"<urn:uuid:%s>\"", u);
	}
}

/* The phone's own Contact: its URI shape and the feature parameters its stack adds. */
static void put_main_contact(struct gen *g)
{
	char s[20];
	put(g, "<sip:%s@%s", g->user, g->local);
	if (g->ua->kind != UA_POLYCOM || g->port != 5060) {
		put(g, ":%u", g->port);
	}
	if (g->ua->kind == UA_ZOIPER || g->ua->kind == UA_BRIA) {
		corpus_chars(g->r, s, 16, CORPUS_HEXL);
		put(g, ";rinstance=%s", s);
	}
	if (g->ua->kind != UA_PJSIP && g->ua->kind != UA_POLYCOM) {
		put_uri_transport(g);
	}
	if (g->ua->kind == UA_PJSIP && g->ua->instance) {
		put(g, ";ob");
	}
	put(g, ">");
	if (g->p.invite) {
		return;
	}
	if (g->ua->kind == UA_POLYCOM && g->trim < 2) {
		put(g, ";methods=\"%s\"", g->ua->allow);
	}
	if (g->ua->instance) {
		put_instance(g);
	}
	if (g->ua->kind == UA_LINPHONE && g->trim < 1 && chance(g, 60)) {
		put(g, ";+org.linphone.specs=\"lime,groupchat/1.1,ephemeral/1.1\"");
	}
	if (g->expires_in_contact) {
		put(g, ";expires=%u", g->expires);
	}
	if (chance(g, 15)) {
		put(g, ";q=%s", chance(g, 50) ? "1.0" : "0.9");
	}
}

/* Further contacts of a multi-device or forking registration. */
static void put_extra_contact(struct gen *g, unsigned i)
{
	static const char *const q[] = {"0.5", "0.1", "0.75", "0"};
	if (chance(g, 30)) {
		put(g, "<sip:%s@[2001:db8:%x::%x]:%u;transport=tcp>", g->user,
		    (unsigned)rnd(g, 1, 0xffff), (unsigned)rnd(g, 1, 0xfff),
		    (unsigned)rnd(g, 1024, 65535));
	} else {
		put(g, "<sip:%s@10.%u.%u.%u:%u>", g->user, (unsigned)rnd(g, 0, 255),
		    (unsigned)rnd(g, 0, 255), (unsigned)rnd(g, 2, 254),
		    (unsigned)rnd(g, 1024, 65535));
	}
	put(g, ";q=%s", q[(i + rnd(g, 0, 3)) % LC_ARRAY_SIZE(q)]);
	if (chance(g, 60)) {
		put(g, ";expires=%u", (unsigned)rnd(g, 60, 7200));
	}
}

static void put_contacts(struct gen *g)
{
	const char *name = hn(g, "Contact", "m");
	bool one_field = chance(g, 50);
	put(g, "%s: ", name);
	put_main_contact(g);
	for (unsigned i = 1; i < g->p.ncontact; i++) {
		if (one_field) {
			put(g, ", ");
		} else {
			put(g, "\r\n%s: ", name);
		}
		put_extra_contact(g, i);
	}
	put(g, "\r\n");
}

/* Digest credentials (RFC 2617 / RFC 3261 §22.4) in the parameter order the stack uses. */
static void put_auth(struct gen *g)
{
	char nonce[48], resp[33], cnonce[20], uri[160];
	const char *sep = g->ua->auth_sep;
	corpus_chars(g->r, nonce, chance(g, 50) ? 32 : 40,
		     chance(g, 50) ? CORPUS_HEXL : CORPUS_ALNUM);
	corpus_chars(g->r, resp, 32, CORPUS_HEXL);
	corpus_chars(g->r, cnonce, rnd(g, 8, 16), CORPUS_HEXL);
	if (g->p.invite) {
		snprintf(uri, sizeof(uri), "sip:%s@%s", g->callee, g->domain);
	} else {
		snprintf(uri, sizeof(uri), "%s", g->ruri);
	}
	const char *realm = chance(g, 30) ? "asterisk" : g->domain;
	put(g, "%s: Digest ", g->p.proxy_auth ? "Proxy-Authorization" : "Authorization");
	if (g->ua->kind == UA_POLYCOM) {
		put(g,
		    "username=\"%s\"%srealm=\"%s\"%snonce=\"%s\"%sqop=auth%scnonce=\"%s\"%s"
		    "nc=00000001%suri=\"%s\"%sresponse=\"%s\"%salgorithm=MD5\r\n",
		    g->user, sep, realm, sep, nonce, sep, sep, cnonce, sep, sep, uri, sep, resp,
		    sep);
		return;
	}
	put(g,
	    "username=\"%s\"%srealm=\"%s\"%snonce=\"%s\"%suri=\"%s\"%sresponse=\"%s\"%s"
	    "algorithm=MD5",
	    g->user, sep, realm, sep, nonce, sep, uri, sep, resp, sep);
	if (g->trim < 4 && chance(g, 80)) {
		put(g, "%scnonce=\"%s\"%sqop=auth%snc=%08x", sep, cnonce, sep, sep,
		    (unsigned)rnd(g, 1, 3));
	}
	if (g->trim < 4 && chance(g, 30)) {
		corpus_chars(g->r, cnonce, 16, CORPUS_HEXL);
		put(g, "%sopaque=\"%s\"", sep, cnonce);
	}
	put(g, "\r\n");
}

static void put_accept(struct gen *g)
{
	if (g->ua->kind == UA_LINPHONE) {
		put(g, "Accept: application/sdp\r\nAccept: text/plain\r\n"
		       "Accept: application/vnd.gsma.rcs-ft-http+xml\r\n");
	} else {
		put(g, "Accept: application/sdp, application/dtmf-relay\r\n");
	}
}

static void put_allow_events(struct gen *g)
{
	if (g->ua->kind == UA_YEALINK) {
		put(g, "Allow-Events: talk,hold,conference,refer,check-sync\r\n");
	} else {
		put(g, "Allow-Events: presence, kpml, talk\r\n");
	}
}

/* One SDP offer (RFC 4566) with the codecs the phone would offer. */
static size_t put_sdp(struct gen *g, char *out, size_t cap)
{
	static const char *const codec[] = {
		"0 PCMU/8000", "8 PCMA/8000", "9 G722/8000", "18 G729/8000", "96 opus/48000/2",
	};
	const char *ipv = g->p.ipv6 ? "IP6" : "IP4";
	unsigned rtp = rnd(g, 5000, 30000) & ~1u;
	uint32_t first = rnd(g, 0, LC_ARRAY_SIZE(codec) - 1);
	uint32_t ncodec = g->trim >= 2 ? 1 : rnd(g, 2, 4);
	char pts[32] = "", maps[256] = "";
	size_t pl = 0, ml = 0;
	for (uint32_t i = 0; i < ncodec; i++) {
		const char *c = codec[(first + i) % LC_ARRAY_SIZE(codec)];
		size_t ptlen = strcspn(c, " ");
		pl += (size_t)snprintf(pts + pl, sizeof(pts) - pl, " %.*s", (int)ptlen, c);
		ml += (size_t)snprintf(maps + ml, sizeof(maps) - ml, "a=rtpmap:%s\r\n", c);
	}
	int n = snprintf(out, cap,
			 "v=0\r\no=%s %u %u IN %s %s\r\ns=%s\r\nc=IN %s %s\r\nt=0 0\r\n"
			 "m=audio %u RTP/AVP%s 101\r\n%sa=rtpmap:101 telephone-event/8000\r\n"
			 "a=fmtp:101 0-16\r\n%sa=sendrecv\r\n",
			 g->ua->kind == UA_POLYCOM ? "-" : g->user, (unsigned)rnd(g, 1, 1u << 30),
			 (unsigned)rnd(g, 1, 1u << 30), ipv, g->local_bare, g->ua->sdp_session, ipv,
			 g->local_bare, rtp, pts, maps,
			 (g->trim < 2 && chance(g, 50)) ? "a=ptime:20\r\n" : "");
	return (n < 0 || (size_t)n >= cap) ? cap : (size_t)n;
}

/* Which fields a trim level leaves out: padding that no registrar or proxy acts on first. */
static bool trimmed(const struct gen *g, char code)
{
	switch (code) {
	case 'W':
	case 'P':
	case 'G':
	case 'X':
	case 'Y':
		return g->trim >= 1;
	case 'A':
		return g->trim >= 2;
	case 'S':
		return g->trim >= 3;
	default:
		return false;
	}
}

static void put_field(struct gen *g, char code, size_t body_len)
{
	if (trimmed(g, code)) {
		return;
	}
	switch (code) {
	case 'V':
		put_via(g);
		break;
	case 'M':
		put(g, "Max-Forwards: %u\r\n", 70 - g->p.nproxy);
		break;
	case 'F':
	case 'T':
		put_from_to(g, code == 'F');
		break;
	case 'I':
		put(g, "%s: %s\r\n", hn(g, "Call-ID", "i"), g->callid);
		break;
	case 'C':
		put(g, "CSeq: %u %s\r\n", g->cseq, g->p.invite ? "INVITE" : "REGISTER");
		break;
	case 'O':
		put_contacts(g);
		break;
	case 'E':
		if (!g->p.invite && !g->expires_in_contact) {
			put(g, "Expires: %u\r\n", g->expires);
		}
		break;
	case 'A':
		put(g, "Allow: %s\r\n", g->ua->allow);
		break;
	case 'S':
		put(g, "%s: %s\r\n", hn(g, "Supported", "k"), g->ua->supported);
		break;
	case 'U':
		put(g, "User-Agent: %s\r\n", g->ua->agents[rnd(g, 0, 2)]);
		break;
	case 'Z':
		if (g->p.auth) {
			put_auth(g);
		}
		break;
	case 'W':
		put_allow_events(g);
		break;
	case 'P':
		put_accept(g);
		break;
	case 'G':
		put(g, "Accept-Language: en\r\n");
		break;
	case 'K':
		put(g, "%s: application/sdp\r\n", hn(g, "Content-Type", "c"));
		break;
	case 'X':
		put(g, "Session-Expires: 1800\r\nMin-SE: 90\r\n");
		break;
	case 'Y':
		if (chance(g, 40)) {
			put(g, "P-Preferred-Identity: \"%s\" <sip:%s@%s>\r\n", g->display, g->user,
			    g->domain);
		}
		break;
	case 'L':
		/* pjsip pads the length to its usual width */
		put(g, "%s:%s%zu\r\n", hn(g, "Content-Length", "l"),
		    (g->ua->kind == UA_PJSIP && body_len == 0) ? "  " : " ", body_len);
		break;
	default:
		break;
	}
}

/* Draw one message of plan @p p into g->out; returns its length, or 0 when out of bounds. */
static size_t draw_message(struct gen *g, const struct plan *p)
{
	char body[1024];
	g->len = 0;
	g->overflow = false;
	g->p = *p;
	g->ua = corpus_ua_pick(g->r);
	draw_addresses(g);
	draw_proxies(g);
	draw_identity(g);
	size_t body_len = g->p.invite ? put_sdp(g, body, sizeof(body)) : 0;
	if (body_len >= sizeof(body)) {
		return 0;
	}
	put_start_line(g);
	put_proxy_fields(g);
	for (const char *o = g->p.invite ? g->ua->order_invite : g->ua->order_register; *o; o++) {
		put_field(g, *o, body_len);
	}
	put(g, "\r\n%.*s", (int)body_len, body);
	if (g->overflow || g->len < GEN_MIN_LEN || g->len > GEN_MAX_LEN) {
		return 0;
	}
	return g->len;
}

/*
 * One message within the size bounds: for its plan, several draws of the rest (phone, addresses,
 * identifiers), each tried with rising trim levels from the same PRNG state; when none fits, the
 * plan gives up a feature and the search goes on. Returns the length, 0 when nothing fits.
 */
static size_t draw_fitting(struct gen *g)
{
	struct plan p;
	draw_plan(g->r, &p);
	g->reduced = 0;
	do {
		for (unsigned t = 0; t < GEN_TRIES_PER_PLAN; t++) {
			struct bench_prng start = *g->r;
			for (g->trim = 0; g->trim <= GEN_MAX_TRIM; g->trim++) {
				*g->r = start; /* the same draws, less padding */
				size_t len = draw_message(g, &p);
				if (len > 0) {
					return len;
				}
			}
		}
		g->reduced++;
	} while (reduce_plan(&p));
	return 0;
}

int bench_corpus_gen(struct bench_corpus *c, uint64_t seed, size_t n)
{
	struct bench_prng r = {seed};
	char out[GEN_CAP];
	struct gen g = {.r = &r, .out = out};
	*c = (struct bench_corpus){0};
	c->msg = calloc(n, sizeof(*c->msg));
	if (c->msg == NULL) {
		return LC_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = draw_fitting(&g);
		if (len == 0) {
			bench_corpus_free(c);
			return LC_EINVAL; /* the size bounds cannot be met: a generator bug */
		}
		struct bench_msg *m = &c->msg[c->n];
		m->buf = malloc(len);
		if (m->buf == NULL) {
			bench_corpus_free(c);
			return LC_ENOMEM;
		}
		memcpy(m->buf, out, len);
		m->len = len;
		m->origin = g.ua->name;
		m->nvia = (uint8_t)(g.p.nproxy + 1);
		m->ncontact = (uint8_t)g.p.ncontact;
		m->auth = g.p.auth;
		m->record_route = g.p.record_route;
		m->compact = g.ua->compact;
		m->reduced = g.reduced > 0;
		c->n++;
	}
	return LC_OK;
}
