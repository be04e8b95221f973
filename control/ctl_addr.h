/* SPDX-License-Identifier: MIT */
/*
 * "ADDR:PORT" as users write it on the command line ("127.0.0.1:5060", "[::1]:7400",
 * "0.0.0.0:0"), to and from socket addresses. Shared by locusd and locusctl.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "common/lc_compiler.h"
#include "dht/dht_store.h"

/** Parse @p text (numeric addresses only: no DNS lookups). @return LC_OK or LC_EINVAL. */
LC_MUSTCHECK int ctl_addr_parse(const char *text, struct sockaddr_storage *out);

/** Write @p ss as "ADDR:PORT" ("[v6]:PORT" for IPv6) into @p out. */
void ctl_addr_format(const struct sockaddr_storage *ss, char *out, size_t cap);

/** The port of @p ss in host byte order. */
unsigned ctl_addr_port(const struct sockaddr_storage *ss);

/** sizeof the sockaddr behind @p ss, for bind/connect/sendto. */
socklen_t ctl_addr_len(const struct sockaddr_storage *ss);

/**
 * The LSP form of a socket address (what overlay messages carry, and what dht/ names nodes by).
 * @param out  overwritten; transport is 0.
 * @return LC_OK, or LC_EINVAL when @p ss is neither AF_INET nor AF_INET6 (then @p out is zeroed).
 * The IPv6 scope id and flow info are not kept.
 */
LC_MUSTCHECK int ctl_addr_to_dht(const struct sockaddr_storage *ss, struct dht_addr *out);

/**
 * The socket address of @p a, for connect and the overlay links.
 * @param out  overwritten (zeroed first).
 * @return LC_OK, or LC_EINVAL when the family is neither AF_INET nor AF_INET6.
 */
LC_MUSTCHECK int ctl_addr_from_dht(const struct dht_addr *a, struct sockaddr_storage *out);
