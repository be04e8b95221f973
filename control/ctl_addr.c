/* SPDX-License-Identifier: MIT */
/*
 * Numeric socket addresses from and to text.
 */
#include "control/ctl_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/lc_error.h"

static bool parse_port(const char *p, unsigned *port)
{
	if (*p == '\0' || strlen(p) > 5) {
		return false;
	}
	unsigned v = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9') {
			return false;
		}
		v = v * 10 + (unsigned)(*p - '0');
	}
	*port = v;
	return v <= 65535;
}

int ctl_addr_parse(const char *text, struct sockaddr_storage *out)
{
	char host[64];
	const char *colon;
	memset(out, 0, sizeof(*out));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL || close[1] != ':' ||
		    (size_t)(close - text - 1) >= sizeof(host)) {
			return LC_EINVAL;
		}
		memcpy(host, text + 1, (size_t)(close - text - 1));
		host[close - text - 1] = '\0';
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (colon == NULL || (size_t)(colon - text) >= sizeof(host)) {
			return LC_EINVAL;
		}
		memcpy(host, text, (size_t)(colon - text));
		host[colon - text] = '\0';
	}
	unsigned port;
	if (!parse_port(colon + 1, &port)) {
		return LC_EINVAL;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
	if (text[0] != '[' && inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return LC_OK;
	}
	if (text[0] == '[' && inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return LC_OK;
	}
	return LC_EINVAL;
}

void ctl_addr_format(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	char host[INET6_ADDRSTRLEN];
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(out, cap, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(out, cap, "%s:%u", host, ntohs(s4->sin_port));
	}
}

unsigned ctl_addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6) {
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	}
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

socklen_t ctl_addr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

int ctl_addr_to_dht(const struct sockaddr_storage *ss, struct dht_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		out->family = AF_INET;
		out->port = ntohs(s4->sin_port);
		memcpy(out->addr, &s4->sin_addr, 4);
		return LC_OK;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		out->family = AF_INET6;
		out->port = ntohs(s6->sin6_port);
		memcpy(out->addr, &s6->sin6_addr, 16);
		return LC_OK;
	}
	return LC_EINVAL;
}

int ctl_addr_from_dht(const struct dht_addr *a, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)out;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		memcpy(&s4->sin_addr, a->addr, 4);
		return LC_OK;
	}
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->port);
		memcpy(&s6->sin6_addr, a->addr, 16);
		return LC_OK;
	}
	return LC_EINVAL;
}
