/* SPDX-License-Identifier: MIT */
/*
 * The pipeline benchmark's requests (bench_pipeline.c): a Linphone REGISTER, a Linphone INVITE
 * to a registered AOR and an LSP LOOKUP of a registered key, each as a whole Ethernet/IPv4/UDP
 * frame from a phone at 198.18.0.1 to the node at 198.18.0.2, with a valid UDP checksum.
 *
 * A frame is built once and then sent over and over; before each use pipe_frame_set() writes a
 * new AOR (8 hex digits, the same in every place the message names it: Request-URI, To, From,
 * Contact, LSP key) and a new counter (8 decimal digits: CSeq and Via branch of a REGISTER, so
 * that it is a refresh and never a retransmission; Call-ID and branch of an INVITE) into fixed
 * places, and updates the UDP checksum incrementally (RFC 1624), so that a handful of frames
 * that stay in cache reach every AOR of a large store, as a NIC's receive ring would.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum pipe_kind { PIPE_REGISTER, PIPE_INVITE, PIPE_LSP_LOOKUP, PIPE_KINDS };

#define PIPE_MAX_FIELDS 8
#define PIPE_FIELD_LEN 8    /* digits of an AOR or counter field */
#define PIPE_PAYLOAD_OFF 42 /* Ethernet 14 + IPv4 20 + UDP 8 */
#define PIPE_UDP_OFF 34
#define PIPE_SIP_PORT 5060
#define PIPE_LSP_PORT 7400
#define PIPE_NODE_IP 0xc6120002u /* 198.18.0.2 */
#define PIPE_PEER_IP 0xc6120001u /* 198.18.0.1 */

/* One request to send over and over. Owner: the caller; payload freed by pipe_tmpl_free. */
struct pipe_tmpl {
	enum pipe_kind kind;
	const char *name;   /* "register", "invite", "lsp-lookup" */
	const char *what;   /* one line for the report */
	const char *expect; /* the answer's first bytes: "SIP/2.0 200", "SIP/2.0 302"; NULL: LSP */
	uint8_t *payload;   /* the UDP payload, fields as placeholders */
	size_t len;
	uint16_t dst_port;
	uint16_t aor_off[PIPE_MAX_FIELDS]; /* offsets in the payload of the AOR fields */
	unsigned naor;
	uint16_t ctr_off[PIPE_MAX_FIELDS]; /* of the counter fields */
	unsigned nctr;
};

/**
 * Build request @p kind; LSP messages carry @p overlay_id. @return 0, or -1 when out of memory.
 * Context: benchmark setup.
 */
int pipe_tmpl_make(struct pipe_tmpl *t, enum pipe_kind kind, uint64_t overlay_id);

/** Free what pipe_tmpl_make allocated (a zeroed template is a no-op). */
void pipe_tmpl_free(struct pipe_tmpl *t);

/**
 * Write the whole frame of @p t (from @p src_mac to @p dst_mac) into @p buf with AOR 0 and
 * counter 0 filled in. @return its length, 0 when @p cap is too small.
 */
size_t pipe_frame_build(uint8_t *buf, size_t cap, const struct pipe_tmpl *t,
			const uint8_t src_mac[6], const uint8_t dst_mac[6]);

/**
 * Give the frame @p frame (built by pipe_frame_build from @p t) AOR @p aor and counter @p ctr,
 * and fix its UDP checksum. Context: the benchmark's loop (a few ns).
 */
void pipe_frame_set(uint8_t *frame, const struct pipe_tmpl *t, uint32_t aor, uint32_t ctr);

/** The AOR @p aor as the messages name it ("sip:u0000002a@sip.example.org") into @p out. */
void pipe_aor_text(uint32_t aor, char out[40]);
