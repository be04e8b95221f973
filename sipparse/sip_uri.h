/* SPDX-License-Identifier: MIT */
/*
 * SIP, SIPS and tel URIs (RFC 3261 §19.1, §25.1; RFC 3966): parsing into views, equality by the
 * rules of RFC 3261 §19.1.4, and the canonical AOR that keys the binding store (RFC 3261 §10.3
 * step 5). Other absolute URIs ("isbn:...", "soap.beep://...") parse as SIP_SCHEME_OTHER with
 * only their scheme and raw text, because a registrar must be able to answer them (416), not
 * reject the whole message.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/lc_compiler.h"
#include "sipparse/sip_str.h"

enum sip_scheme {
	SIP_SCHEME_OTHER = 0,
	SIP_SCHEME_SIP,
	SIP_SCHEME_SIPS,
	SIP_SCHEME_TEL,
};

enum sip_host_type {
	SIP_HOST_NAME = 0,
	SIP_HOST_IPV4,
	SIP_HOST_IPV6, /* the view keeps the brackets: "[2001:db8::1]" */
};

/* A parsed URI. Views point into the message; fields are read-only to callers. */
struct sip_uri {
	struct sip_str raw;	 /* the whole URI */
	struct sip_str scheme;	 /* as written, e.g. "SIP" */
	struct sip_str user;	 /* still escaped; for tel: the number; .p == NULL when absent */
	struct sip_str password; /* .p == NULL when absent */
	struct sip_str host;	 /* IPv6 keeps its brackets; empty for tel and other schemes */
	struct sip_str params;	 /* uri-parameters without the first ';'; .p == NULL when none */
	struct sip_str headers;	 /* after '?'; .p == NULL when none */
	uint16_t port;		 /* 0 when absent */
	uint8_t scheme_id;	 /* enum sip_scheme */
	uint8_t host_type;	 /* enum sip_host_type */
};

/* Canonical AORs are at most this long (a key longer than this is refused). */
#define SIP_AOR_MAX 512

/**
 * Parse @p len bytes as one URI: the whole range must be the URI.
 * @param uri  filled in; borrows the bytes.
 * @return LC_OK or LC_EMALFORMED.
 * Context: any thread; fast path.
 */
LC_MUSTCHECK int sip_uri_parse(struct sip_uri *uri, const char *p, size_t len);

/**
 * URI equality by RFC 3261 §19.1.4: scheme and host case-insensitive, user and password
 * case-sensitive after unescaping, explicit and default ports differ, the user, ttl, method,
 * maddr and transport parameters must agree when either URI has them, other parameters only when
 * both have them, headers must all agree. tel URIs compare by RFC 3966 §4 (visual separators
 * ignored). Context: any thread.
 */
bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b);

/**
 * Write the canonical AOR of @p uri (RFC 3261 §10.3 step 5): scheme in lower case, user
 * unescaped (case kept), host in lower case (IPv6 in its RFC 5952 form), the port only when it is
 * not the scheme's default, no password, no parameters, no headers. "sip:Alice@Example.COM:5060;
 * transport=udp" and "sip:Alice@example.com" give the same AOR. tel URIs give "tel:" plus the
 * number without visual separators (RFC 3966 §4), and phone-context when the number is local.
 * @param out   where to write; not NUL-terminated (the AOR may hold an unescaped %00).
 * @param cap   its size.
 * @param len   set to the AOR's length.
 * @return LC_OK, LC_ENOSPACE when it does not fit, LC_EINVAL for a scheme with no AOR form.
 * Context: any thread; fast path.
 */
LC_MUSTCHECK int sip_aor_canon(const struct sip_uri *uri, char *out, size_t cap, size_t *len);

/**
 * Whether the @p len bytes at @p p, if they parse as a sip or sips URI, are already its canonical
 * AOR, so that sip_aor_canon() would write them back unchanged: a lower-case "sip:" or "sips:",
 * a non-empty user of unreserved characters and one '@' (or no user), a host of lower-case
 * letters, digits, '-' and '.' with at least one letter or '-' (a dotted quad is rewritten) and no
 * final '.', and no password, port, parameters or headers. It reads no more than @p len bytes and
 * parses nothing: false says nothing about the bytes, true lets a caller that only needs the AOR
 * skip the parse ("sip:alice@example.com", the form registrars publish, is the common case).
 * Context: any thread; fast path.
 */
bool sip_aor_is_canonical(const char *p, size_t len);

/**
 * Find a parameter in a ';'-separated list (uri-parameters or header parameters, as in
 * sip_uri.params or sip_addr.params) by name, case-insensitively.
 * @param value  set to the value (.p == NULL when the parameter has no value, e.g. "lr").
 * @return true when the parameter is present.
 * Context: any thread.
 */
bool sip_param_get(struct sip_str params, const char *name, struct sip_str *value);

/**
 * Unescape %HH sequences of @p in into @p out.
 * @return the number of bytes written, or -1 when @p cap is too small or an escape is malformed.
 * Context: any thread.
 */
long sip_unescape(struct sip_str in, char *out, size_t cap);
