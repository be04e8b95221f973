/* SPDX-License-Identifier: MIT */
/*
 * The datagram keys of a secured node, on the control side (docs/security.md §4): every overlay
 * link whose TLS handshake admitted its peer gives two 16-byte keys (one per direction) and an
 * epoch that names them, exported from its session; this module keeps them per link and builds
 * the table the workers tag and check datagrams with (dataplane/dp_peers.h), which ctl_ovl
 * publishes whenever it changed.
 *
 * Addresses are verified, never taken on anyone's word: a member's address is one this node
 * dialled and found that member's certificate at (an outgoing link). The keys of a link the
 * member opened to us go under that verified address, or nowhere until there is one; a frame's
 * SENDER address proves nothing (a member could name another's address, or a third party's).
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

/**
 * The verified address of member @p id: where an outgoing link found its certificate (the
 * newest such link), or this node's own for its own id. @return false when there is none.
 * Context: control.
 */
bool ctl_keys_verified_addr(const struct ctl_keys *k, dht_id_t id, struct dht_addr *out);

/** The id whose certificate an outgoing link found at @p addr; false when none did. */
bool ctl_keys_id_at(const struct ctl_keys *k, const struct dht_addr *addr, dht_id_t *out);

/** Whether the table changed since the last ctl_keys_build. Context: control. */
bool ctl_keys_dirty(const struct ctl_keys *k);

/**
 * A new table of every link whose peer has a verified address (newest link first per peer).
 * @return the table (the caller publishes or frees it), or NULL when out of memory (the table
 *   stays dirty). Context: control.
 */
struct dp_peers *ctl_keys_build(struct ctl_keys *k);

/** Links with keys. Context: control. */
unsigned ctl_keys_links(const struct ctl_keys *k);
