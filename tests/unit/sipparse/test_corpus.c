/* SPDX-License-Identifier: MIT */
/*
 * Table-driven parser test: every tests/data/sip/<case>.sip is parsed and checked against the
 * assertions in <case>.expect (format in tests/data/sip/FORMAT.md). The RFC 4475 and RFC 5118
 * torture messages live there, so this test is what says the parser does what those RFCs ask.
 * A .sip without a .expect is a failure: every case must state its outcome.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/lc_error.h"
#include "sipparse/sip_msg.h"
#include "tests/tap.h"

#define MAX_FILE (1 << 20)

static struct sip_msg msg;

static long read_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		return -1;
	}
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	return (long)n;
}

/* Decode the \r \n \t \\ \xNN escapes and <empty> of an expect value, in place. */
static size_t decode_value(char *v)
{
	if (strcmp(v, "<empty>") == 0) {
		v[0] = '\0';
		return 0;
	}
	size_t o = 0;
	for (size_t i = 0; v[i] != '\0'; i++) {
		if (v[i] != '\\' || v[i + 1] == '\0') {
			v[o++] = v[i];
			continue;
		}
		char c = v[++i];
		if (c == 'r') {
			v[o++] = '\r';
		} else if (c == 'n') {
			v[o++] = '\n';
		} else if (c == 't') {
			v[o++] = '\t';
		} else if (c == 'x' && v[i + 1] && v[i + 2]) {
			char hex[3] = {v[i + 1], v[i + 2], 0};
			v[o++] = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			v[o++] = c;
		}
	}
	return o;
}

struct out {
	char buf[4096];
	size_t len;
};

static void out_str(struct out *o, struct sip_str s)
{
	if (s.p == NULL) {
		o->len = (size_t)snprintf(o->buf, sizeof(o->buf), "absent");
		return;
	}
	o->len = LC_MIN(s.len, sizeof(o->buf));
	memcpy(o->buf, s.p, o->len);
}

static void out_num(struct out *o, long long v)
{
	o->len = (size_t)snprintf(o->buf, sizeof(o->buf), "%lld", v);
}

static void out_opt(struct out *o, long long v)
{
	if (v < 0) {
		o->len = (size_t)snprintf(o->buf, sizeof(o->buf), "absent");
	} else {
		out_num(o, v);
	}
}

static void out_lit(struct out *o, const char *s)
{
	o->len = (size_t)snprintf(o->buf, sizeof(o->buf), "%s", s);
}

static const char *scheme_name(uint8_t id)
{
	static const char *const n[] = {"other", "sip", "sips", "tel"};
	return id < 4 ? n[id] : "?";
}

static const char *host_type_name(uint8_t t)
{
	static const char *const n[] = {"name", "ipv4", "ipv6"};
	return t < 3 ? n[t] : "?";
}

static bool uri_field(const struct sip_uri *u, const char *k, struct out *o)
{
	if (*k == '\0') {
		out_str(o, u->raw);
	} else if (strcmp(k, ".scheme") == 0) {
		out_lit(o, scheme_name(u->scheme_id));
	} else if (strcmp(k, ".user") == 0) {
		out_str(o, u->user);
	} else if (strcmp(k, ".password") == 0) {
		out_str(o, u->password);
	} else if (strcmp(k, ".host") == 0) {
		out_str(o, u->host);
	} else if (strcmp(k, ".port") == 0) {
		out_num(o, u->port);
	} else if (strcmp(k, ".host_type") == 0) {
		out_lit(o, host_type_name(u->host_type));
	} else if (strcmp(k, ".params") == 0) {
		out_str(o, u->params);
	} else if (strcmp(k, ".headers") == 0) {
		out_str(o, u->headers);
	} else {
		return false;
	}
	return true;
}

static bool via_field(const struct sip_via *v, const char *k, struct out *o)
{
	if (strcmp(k, "transport") == 0) {
		out_str(o, v->transport);
	} else if (strcmp(k, "host") == 0) {
		out_str(o, v->host);
	} else if (strcmp(k, "port") == 0) {
		out_num(o, v->port);
	} else if (strcmp(k, "branch") == 0) {
		out_str(o, v->branch);
	} else if (strcmp(k, "received") == 0) {
		out_str(o, v->received);
	} else if (strcmp(k, "maddr") == 0) {
		out_str(o, v->maddr);
	} else if (strcmp(k, "ttl") == 0) {
		out_str(o, v->ttl);
	} else if (strcmp(k, "rport") == 0) {
		if (!v->has_rport) {
			out_lit(o, "absent");
		} else if (v->rport == 0) {
			out_lit(o, "empty");
		} else {
			out_num(o, v->rport);
		}
	} else {
		return false;
	}
	return true;
}

static bool addr_field(const struct sip_addr *a, const char *k, struct out *o)
{
	if (strcmp(k, "display") == 0) {
		out_str(o, a->display);
	} else if (strcmp(k, "tag") == 0) {
		out_str(o, a->tag);
	} else if (strncmp(k, "uri", 3) == 0) {
		return uri_field(&a->uri, k + 3, o);
	} else {
		return false;
	}
	return true;
}

static bool contact_field(const struct sip_contact *c, const char *k, struct out *o)
{
	if (strcmp(k, "expires") == 0) {
		out_opt(o, c->expires);
	} else if (strcmp(k, "q") == 0) {
		out_opt(o, c->q);
	} else if (strcmp(k, "instance") == 0) {
		out_str(o, c->instance);
	} else if (strcmp(k, "reg_id") == 0) {
		out_str(o, c->reg_id);
	} else {
		return addr_field(&c->addr, k, o);
	}
	return true;
}

/* "via[2].host" -> index 2, rest "host"; returns -1 when the key has no index. */
static int key_index(const char *key, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);
	if (strncmp(key, prefix, n) != 0 || key[n] != '[') {
		return -1;
	}
	char *e;
	long i = strtol(key + n + 1, &e, 10);
	if (*e != ']' || e[1] != '.') {
		return -1;
	}
	*rest = e + 2;
	return (int)i;
}

static bool scalar_field(const struct sip_msg *m, const char *k, struct out *o)
{
	if (strcmp(k, "type") == 0) {
		out_lit(o, m->is_request ? "request" : "response");
	} else if (strcmp(k, "method") == 0) {
		out_str(o, m->method);
	} else if (strcmp(k, "status") == 0) {
		out_num(o, m->status);
	} else if (strcmp(k, "reason") == 0) {
		out_str(o, m->reason);
	} else if (strcmp(k, "via.count") == 0) {
		out_num(o, m->nvia);
	} else if (strcmp(k, "call_id") == 0) {
		out_str(o, m->call_id);
	} else if (strcmp(k, "cseq.num") == 0) {
		out_num(o, m->cseq);
	} else if (strcmp(k, "cseq.method") == 0) {
		out_str(o, m->cseq_method);
	} else if (strcmp(k, "max_forwards") == 0) {
		out_opt(o, m->max_forwards);
	} else if (strcmp(k, "expires") == 0) {
		out_opt(o, m->expires);
	} else if (strcmp(k, "contact.count") == 0) {
		out_num(o, m->ncontact);
	} else if (strcmp(k, "contact.star") == 0) {
		out_num(o, m->contact_star);
	} else if (strcmp(k, "content_length") == 0) {
		out_opt(o, m->content_length);
	} else if (strcmp(k, "body.len") == 0) {
		out_num(o, m->body.len);
	} else if (strcmp(k, "header.count") == 0) {
		out_num(o, m->nhdr);
	} else {
		return false;
	}
	return true;
}

static const char *method_id_name(uint8_t id)
{
	static const char *const n[SIP_METHOD_COUNT_] = {
		"SIP_METHOD_UNKNOWN",	"SIP_METHOD_INVITE", "SIP_METHOD_ACK",
		"SIP_METHOD_BYE",	"SIP_METHOD_CANCEL", "SIP_METHOD_REGISTER",
		"SIP_METHOD_OPTIONS",	"SIP_METHOD_INFO",   "SIP_METHOD_PRACK",
		"SIP_METHOD_SUBSCRIBE", "SIP_METHOD_NOTIFY", "SIP_METHOD_UPDATE",
		"SIP_METHOD_MESSAGE",	"SIP_METHOD_REFER",  "SIP_METHOD_PUBLISH",
	};
	return id < SIP_METHOD_COUNT_ ? n[id] : "?";
}

/* Fills o with the message's value for key; false when the key is unknown. */
static bool field(const struct sip_msg *m, const char *key, struct out *o)
{
	const char *rest;
	int i;
	if (scalar_field(m, key, o)) {
		return true;
	}
	if (strcmp(key, "method.id") == 0) {
		out_lit(o, method_id_name(m->method_id));
		return true;
	}
	if (strncmp(key, "ruri", 4) == 0) {
		return uri_field(&m->ruri, key + 4, o);
	}
	if (strncmp(key, "from.", 5) == 0) {
		return addr_field(&m->from, key + 5, o);
	}
	if (strncmp(key, "to.", 3) == 0) {
		return addr_field(&m->to, key + 3, o);
	}
	if ((i = key_index(key, "via", &rest)) >= 0) {
		if (i >= m->nvia) {
			out_lit(o, "no such via");
			return true;
		}
		return via_field(&m->via[i], rest, o);
	}
	if ((i = key_index(key, "contact", &rest)) >= 0) {
		if (i >= m->ncontact) {
			out_lit(o, "no such contact");
			return true;
		}
		return contact_field(&m->contact[i], rest, o);
	}
	if (strcmp(key, "aor") == 0) {
		size_t n;
		if (sip_aor_canon(&m->to.uri, o->buf, sizeof(o->buf), &n) != LC_OK) {
			out_lit(o, "no aor");
		} else {
			o->len = n;
		}
		return true;
	}
	return false;
}

static const char *flag_names[] = {"SIP_F_TRAILING_BYTES",  "SIP_F_NO_CONTENT_LENGTH",
				   "SIP_F_BRANCH_NOT_3261", "SIP_F_MAX_FORWARDS_RANGE",
				   "SIP_F_EXPIRES_RANGE",   "SIP_F_EXPIRES_MALFORMED"};

static void check_line(const char *name, char *key, char *val)
{
	size_t vlen = decode_value(val);
	struct out o = {.len = 0};
	if (strcmp(key, "result") == 0) {
		const char *got = msg.err == LC_OK ? "ok" : lc_strerror_name(msg.err);
		if (!ok(strcmp(got, val) == 0, "%s: result %s", name, val)) {
			printf("#   got: %s (header '%.*s')\n", got, (int)msg.err_hdr.len,
			       msg.err_hdr.p ? msg.err_hdr.p : "");
		}
		return;
	}
	if (strcmp(key, "flag") == 0 || strcmp(key, "flags") == 0) {
		uint32_t bit = 0;
		for (size_t i = 0; i < LC_ARRAY_SIZE(flag_names); i++) {
			bit |= strcmp(flag_names[i], val) == 0 ? 1u << i : 0;
		}
		if (strcmp(val, "none") == 0) {
			is_int(msg.flags, 0, "%s: no flags", name);
		} else {
			ok(bit != 0 && (msg.flags & bit), "%s: flag %s (flags 0x%x)", name, val,
			   msg.flags);
		}
		return;
	}
	if (strcmp(key, "hdr") == 0) {
		bool found = false;
		for (unsigned i = 0; i < msg.nhdr; i++) {
			found |= msg.hdrs[i].name.len == vlen &&
				 memcmp(msg.hdrs[i].name.p, val, vlen) == 0;
		}
		ok(found, "%s: header %s present", name, val);
		return;
	}
	if (!field(&msg, key, &o)) {
		ok(0, "%s: unknown expect key '%s'", name, key);
		return;
	}
	if (!ok(o.len == vlen && memcmp(o.buf, val, vlen) == 0, "%s: %s", name, key)) {
		printf("#   got: '%.*s'\n#   expected: '%.*s'\n", (int)o.len, o.buf, (int)vlen,
		       val);
	}
}

static void run_case(const char *dir, const char *file)
{
	static char data[MAX_FILE];
	static char expect[MAX_FILE];
	char path[4096];
	char name[256];
	snprintf(name, sizeof(name), "%.*s", (int)(strlen(file) - 4), file);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	long n = read_file(path, data, sizeof(data));
	snprintf(path, sizeof(path), "%s/%s.expect", dir, name);
	long en = read_file(path, expect, sizeof(expect) - 1);
	if (!ok(n >= 0 && en >= 0, "%s: .sip and .expect readable", name)) {
		return;
	}
	expect[en] = '\0';
	int ret = sip_parse(&msg, data, (size_t)n);
	ok(ret == msg.err, "%s: parse returns m.err", name);
	for (char *line = strtok(expect, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		size_t l = strlen(line);
		if (l > 0 && line[l - 1] == '\r') {
			line[--l] = '\0';
		}
		if (l == 0 || line[0] == '#') {
			continue;
		}
		char *sp = strchr(line, ' ');
		if (sp == NULL) {
			ok(0, "%s: malformed expect line '%s'", name, line);
			continue;
		}
		*sp = '\0';
		check_line(name, line, sp + 1);
	}
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "tests/data/sip";
	DIR *d = opendir(dir);
	char *names[1024];
	size_t n = 0;
	if (d == NULL) {
		printf("Bail out! cannot open %s: %s\n", dir, strerror(errno));
		return 1;
	}
	for (struct dirent *e; (e = readdir(d)) != NULL && n < LC_ARRAY_SIZE(names);) {
		size_t l = strlen(e->d_name);
		if (l > 4 && strcmp(e->d_name + l - 4, ".sip") == 0) {
			names[n++] = strdup(e->d_name);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);
	ok(n > 0, "corpus %s has cases (%zu)", dir, n);
	for (size_t i = 0; i < n; i++) {
		run_case(dir, names[i]);
		free(names[i]);
	}
	done_testing();
	return exit_status();
}
