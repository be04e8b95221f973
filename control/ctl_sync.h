/* SPDX-License-Identifier: MIT */
/*
 * Range sync on the control thread (docs/overlay.md §6): hand-off on join and leave, restoring R
 * copies after a failure, getting a restarted node's range back, and periodic anti-entropy, all
 * by one mechanism: digests of a ring range compared bucket by bucket, and the differing buckets
 * transferred as RANGE_TRANSFER frames over the TCP links. The store work (digests, counts,
 * emitting, merging) runs on the workers as tasks (dataplane/dp_task.h).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/lc_compiler.h"
#include "control/ctl_link.h"
#include "dataplane/dp_worker.h"
#include "dht/dht_route.h"

struct ctl_sync;

/* Counters for the admin JSON. Owner: the control thread. */
struct ctl_sync_stats {
	uint64_t pushes, pulls, handoffs, digests_answered;
	uint64_t buckets_differing;
	uint64_t entries_sent, frames_sent, entries_received, entries_applied, frames_received;
	uint64_t bytes_sent;	 /* of RANGE_TRANSFER frames: the repair traffic */
	uint64_t frames_dropped; /* received with no room to apply them (the transfer goes again) */
	uint64_t ops_failed;
	uint64_t last_sync_ms; /* monotonic time of the last finished push or pull */
	/* refused (docs/overlay.md 6.4) */
	uint64_t refused_strangers; /* frames from a sender that is not a live member: dropped */
	uint64_t refused_digests;   /* digests of a range the sender's position does not allow */
	uint64_t
		refused_transfers; /* transfer frames that are part of no exchange with the sender */
	uint64_t refused_entries;  /* entries outside their transfer's range or this node's, and
				       those of refused frames: not merged */
};

/** @return LC_OK or LC_ENOMEM. Context: control. */
LC_MUSTCHECK int ctl_sync_new(struct ctl_sync **out, struct dp_node *node, struct ctl_links *links,
			      uint64_t overlay_id, uint32_t sync_ms);

/** Free it after the workers stopped (tasks in flight are freed too). */
void ctl_sync_free(struct ctl_sync *s);

/**
 * The routing table changed (@p rt is borrowed for the call): when this node's range or its
 * replica set moved, pull the range from the successor and push it to the replicas soon. A copy
 * of @p rt is the view every received frame is checked against.
 */
void ctl_sync_on_route(struct ctl_sync *s, const struct dht_route *rt, uint64_t now_ms);

/**
 * The SENDER a RANGE_DIGEST or RANGE_TRANSFER frame claims (@p frame borrowed), written to
 * @p out; false when the frame does not decode or has none. Only a link that authenticates no
 * one needs it (the unsecured mode): its caller checks the claim as far as it can (an id must be
 * the hash of its address) and passes it to ctl_sync_on_frame as the sender. Context: control.
 */
bool ctl_sync_frame_sender(const void *frame, size_t len, struct dht_peer *out);

/**
 * A RANGE_DIGEST or RANGE_TRANSFER frame (request or answer) from a link (@p frame borrowed).
 * Everything it causes (answers, transfers) goes to @p from's own address, never to one the
 * frame names, and it is taken only as far as @p from's position in this node's view allows
 * (docs/overlay.md 6.4; refusals are counted in struct ctl_sync_stats).
 * @param from  the sender the link authenticated (borrowed): its id and listen address.
 * @return whether the frame was for this overlay and came from a live member of the view: the
 *   caller may count it as a sign of life of @p from. Context: control, in on_frame.
 */
bool ctl_sync_on_frame(struct ctl_sync *s, const void *frame, size_t len, uint64_t now_ms,
		       const struct dht_peer *from);

/** Advance operations: collect finished tasks, send emitted frames, start due syncs. */
void ctl_sync_run(struct ctl_sync *s, uint64_t now_ms);

/** Whether operations are in flight (control should poll again soon). */
bool ctl_sync_busy(const struct ctl_sync *s);

/**
 * Push the owned range to the successor (graceful leave) and wait for it, running the links,
 * for at most @p max_ms. Context: control, on SIGTERM, before LEAVE.
 */
void ctl_sync_hand_off(struct ctl_sync *s, unsigned max_ms);

void ctl_sync_stats(const struct ctl_sync *s, struct ctl_sync_stats *out);

/** Whether this node is pulling its range (due, or in flight): reads of its keys then go to its
 * successor, which held them (struct dht_route.pulling). */
bool ctl_sync_pulling(const struct ctl_sync *s);

/* Keys and bindings by role (locusctl node and ring, NODE_INFO answers). */
struct ctl_sync_roles {
	uint64_t owned_keys, owned_bindings;
	uint64_t replica_keys, replica_bindings;
	uint64_t started_ms; /* monotonic time the count started: its age */
};

/**
 * Ask for a count of this node's keys by role under @p rt (borrowed for the call): owned (in
 * (pred, self]) and held as a replica (in the ranges of its R-1 predecessors). Nothing waits: the
 * count is a COUNT task on every shard, posted now, or when the one running finishes (then over
 * the ranges of the latest ask, so asks that come together share one walk), and ctl_sync_run
 * collects it.
 * @param min_age_ms  0: the count that answers starts after this call. Otherwise no new count is
 *   asked for when one is already, or when the latest one started less than this long ago: that
 *   one answers (so callers that anyone can trigger start at most one walk per min_age_ms).
 * @return the sequence number of the count that answers: it is there when ctl_sync_counted()
 *   returns this number or a larger one. Context: control.
 */
uint64_t ctl_sync_count(struct ctl_sync *s, const struct dht_route *rt, uint64_t now_ms,
			uint64_t min_age_ms);

/**
 * The latest finished count, written to @p out (zeroed when there is none).
 * @return its sequence number; 0: no count finished yet. Context: control.
 */
uint64_t ctl_sync_counted(const struct ctl_sync *s, struct ctl_sync_roles *out);
