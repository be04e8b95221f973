/* SPDX-License-Identifier: MIT */
/*
 * AOR set generation for locus-bench (lb_aor.h has the how-it-works): users, contacts and
 * Call-IDs as a pure function of (seed, index, run id). No state, no allocation.
 */
#include <string.h>

#include "bench/lb_aor.h"
#include "bench/lb_fmt.h"
#include "common/lc_error.h"

static const char *const first_names[32] = {
	"alice", "bob",	   "carol", "dave",  "erin",   "frank",	 "grace", "heidi",
	"ivan",	 "judy",   "karl",  "laura", "mike",   "nina",	 "oscar", "peggy",
	"quinn", "rupert", "sybil", "trent", "ursula", "victor", "wendy", "xavier",
	"yara",	 "zoe",	   "amir",  "bea",   "chen",   "dara",	 "emeka", "fatma",
};

/* splitmix64's finalizer: a bijection of 64-bit integers. */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int lb_aorgen_init(struct lb_aorgen *g, uint64_t seed, const char *domain)
{
	size_t n = strlen(domain);
	if (n == 0 || n > LB_AOR_DOMAIN_MAX) {
		return LC_EINVAL;
	}
	for (size_t k = 0; k < n; k++) {
		char c = domain[k];
		bool okc = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '.' || c == '-';
		if (!okc) {
			return LC_EINVAL;
		}
	}
	memset(g, 0, sizeof(*g));
	g->seed = seed;
	g->key_known = mix64(seed ^ 0x6b6e6f776e000001ull);
	g->key_unknown = mix64(seed ^ 0x756e6b6e6f776e02ull);
	g->key_call_id = mix64(seed ^ 0x63616c6c69640003ull);
	memcpy(g->domain, domain, n + 1);
	g->domain_len = (unsigned)n;
	return LC_OK;
}

void lb_aor_get(const struct lb_aorgen *g, uint64_t i, bool known, uint64_t run_id,
		struct lb_aor *out)
{
	uint64_t id = mix64(i ^ (known ? g->key_known : g->key_unknown));
	uint64_t look = mix64(id ^ g->seed);

	char *p = lb_put(out->uri, "sip:", 4);
	char *user = p;
	if (known) {
		const char *name = first_names[look % 32];
		p = lb_put(p, name, strlen(name));
	} else {
		p = lb_put(p, "nobody", 6);
	}
	*p++ = '.';
	p = lb_put_b32(p, id);
	out->user_len = (unsigned)(p - user);
	*p++ = '@';
	p = lb_put(p, g->domain, g->domain_len);
	*p = '\0';
	out->uri_len = (unsigned)(p - out->uri);

	p = lb_put(out->contact, "sip:", 4);
	p = lb_put(p, user, out->user_len);
	p = lb_put(p, "@10.", 4);
	p = lb_put_dec(p, (look >> 8) & 0xff);
	*p++ = '.';
	p = lb_put_dec(p, (look >> 16) & 0xff);
	*p++ = '.';
	p = lb_put_dec(p, 1 + (look >> 24) % 254);
	*p++ = ':';
	p = lb_put_dec(p, 1024 + (look >> 32) % 64000);
	p = lb_put(p, ";transport=udp", 14);
	*p = '\0';
	out->contact_len = (unsigned)(p - out->contact);

	p = lb_put_hex(out->call_id, mix64(i ^ g->key_call_id), 16);
	*p++ = '-';
	p = lb_put_hex(p, run_id, 8);
	p = lb_put(p, "@lb.", 4);
	p = lb_put_b32(p, id);
	*p = '\0';
	out->call_id_len = (unsigned)(p - out->call_id);
}
