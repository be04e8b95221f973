/* SPDX-License-Identifier: MIT */
/*
 * The datagram keys of a secured node, on the control side (docs/security.md §4): every overlay
 * link whose TLS handshake admitted its peer gives two 16-byte keys (one per direction) and an
 * epoch that names them, exported from its session; this module keeps them per link, learns
 * each member's LSP address from what it authenticated, and builds the table the workers tag
 * and check datagrams with (dataplane/dp_peers.h), which ctl_ovl publishes whenever it changed.
 *
 * Export (RFC 8446 §7.5, RFC 5705): 36 bytes with the label "EXPORTER-locus-datagram-v1" and no
 * context; bytes 0-15 key what the TLS client sends, 16-31 what the TLS server sends, 32-35 are
 * the epoch (big endian). Both ends compute the same bytes, so no message carries a key.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/lc_compiler.h"
#include "control/ctl_link.h"
#include "dataplane/dp_peers.h"
#include "dht/dht_route.h"

#define CTL_KEYS_LABEL "EXPORTER-locus-datagram-v1"

struct ctl_keys;

/**
 * @param self  this node (borrowed; copied): its own links (a node may dial itself) give no
 *              keys; datagrams it sends itself (an answer relayed to its own LSP socket) are
 *              tagged with a random key of its own, which never leaves it.
 * @return LC_OK or LC_ENOMEM. Context: control.
 */
LC_MUSTCHECK int ctl_keys_new(struct ctl_keys **out, const struct dht_peer *self);
void ctl_keys_free(struct ctl_keys *k);

/**
 * A link authenticated its peer (@p up) or closed. @p conn is borrowed and names the link until
 * it closes; @p peer is an outgoing link's listen address (NULL for an inbound connection).
 * Context: control (from ctl_link's on_link_auth).
 */
void ctl_keys_on_link(struct ctl_keys *k, const struct ctl_link_conn *conn,
		      const struct sockaddr_storage *peer, bool up, uint64_t now_ms);

/** The member of id @p id sends from and listens at @p addr (its authenticated SENDER).
 * Context: control. */
void ctl_keys_learn(struct ctl_keys *k, dht_id_t id, const struct dht_addr *addr);

/** Whether the table changed since the last ctl_keys_build. Context: control. */
bool ctl_keys_dirty(const struct ctl_keys *k);

/**
 * A new table of every link whose peer's address is known (newest link first per peer);
 * @p addr_of gives the address of an id the links did not say (the view), or false.
 * @return the table (the caller publishes or frees it), or NULL when out of memory (the table
 *   stays dirty). Context: control.
 */
struct dp_peers *ctl_keys_build(struct ctl_keys *k,
				bool (*addr_of)(void *arg, dht_id_t id, struct dht_addr *out),
				void *arg);

/** Links with keys, and members whose address is known. Context: control. */
void ctl_keys_counts(const struct ctl_keys *k, unsigned *links, unsigned *addrs);
