/* SPDX-License-Identifier: MIT */
/*
 * Socket addresses to and from text and to and from the LSP form (struct dht_addr) that overlay
 * messages carry: IPv4 and IPv6 round trips, and refused families.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "common/lc_error.h"
#include "control/ctl_addr.h"
#include "tests/tap.h"

static void round_trip(const char *text, unsigned family, unsigned port)
{
	struct sockaddr_storage ss, back;
	struct dht_addr a;
	char out[64];
	ok(ctl_addr_parse(text, &ss) == LC_OK, "parse %s", text);
	ok(ctl_addr_to_dht(&ss, &a) == LC_OK && a.family == family && a.port == port &&
		   a.transport == 0,
	   "%s to dht_addr: family %u, port %u", text, family, port);
	ok(ctl_addr_from_dht(&a, &back) == LC_OK && memcmp(&ss, &back, sizeof(ss)) == 0,
	   "%s back to the same sockaddr", text);
	ctl_addr_format(&back, out, sizeof(out));
	is_str(out, text, "%s formats back", text);
}

int main(void)
{
	plan(12);
	round_trip("127.0.0.1:7400", AF_INET, 7400);
	round_trip("[2001:db8::1]:65535", AF_INET6, 65535);

	struct sockaddr_storage ss;
	struct dht_addr a;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	is_int(ctl_addr_to_dht(&ss, &a), LC_EINVAL, "AF_UNIX has no dht_addr");
	ok(a.family == 0, "and the output is zeroed");
	memset(&a, 0, sizeof(a));
	is_int(ctl_addr_from_dht(&a, &ss), LC_EINVAL, "family 0 (unknown) has no sockaddr");
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	a.family = AF_INET;
	a.port = 5060;
	memcpy(a.addr, "\x0a\x00\x00\x01", 4);
	ok(ctl_addr_from_dht(&a, &ss) == LC_OK && s4->sin_family == AF_INET &&
		   ntohs(s4->sin_port) == 5060 && s4->sin_addr.s_addr == htonl(0x0a000001),
	   "dht_addr 10.0.0.1:5060 to sockaddr_in");
	return exit_status();
}
