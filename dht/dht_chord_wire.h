/* SPDX-License-Identifier: MIT */
/*
 * The overlay state machine's messages (struct dht_ovl) on the wire: LSP frames of the types
 * JOIN .. LEAVE (docs/lsp.md §11). Kept apart from dht_chord.c so the machine stays free of
 * encoding, and a simulator can skip the wire altogether.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/lc_compiler.h"
#include "dht/dht_chord.h"

/* Members one frame carries at most; a longer view is sent as several frames (pages). */
#define DHT_OVL_MEMBERS_PER_FRAME 1024

/** Whether @p type is one of the state machine's messages (JOIN .. LEAVE). */
bool dht_ovl_is_chord_type(unsigned type);

/**
 * Encode @p m as one LSP frame, with its members from *@p next on, as many as fit in
 * DHT_OVL_MEMBERS_PER_FRAME; *@p next advances past them. A message with members is sent by
 * calling this until *next == m->nmembers (at least once).
 * @return LC_OK, or the builder's error (LC_ENOSPACE when @p cap is too small).
 * Context: any thread.
 */
LC_MUSTCHECK int dht_ovl_encode(const struct dht_ovl *m, uint64_t overlay_id, unsigned *next,
				void *buf, size_t cap, size_t *len);

/**
 * Decode a frame of one of the state machine's types into @p out; its members go to @p members
 * (at most @p cap; out->members points there). Views are not kept: everything is copied.
 * @return LC_OK, an LC_ELSP_* decoding error, or LC_EINVAL (not a state machine message, or
 *   another overlay).
 */
LC_MUSTCHECK int dht_ovl_decode(const void *buf, size_t len, uint64_t overlay_id,
				struct dht_ovl *out, struct dht_ovl_member *members, unsigned cap);
