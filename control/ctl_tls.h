/* SPDX-License-Identifier: MIT */
/*
 * The overlay's root of trust (issue 13, docs/security.md): the CA file every member's
 * certificate chains to, this node's certificate and key, the CRL, and the node id that follows
 * from the certificate's public key, so that nobody chooses an id. Also the TLS transport of the
 * overlay links (ctl_link_tls.c) reads its SSL_CTX from here.
 *
 * Node id: the first 128 bits (most significant byte first) of SHA-256 over the DER encoding of
 * the certificate's SubjectPublicKeyInfo. `openssl pkey -in node.key -pubout -outform DER |
 * sha256sum | cut -c1-32` prints it, so an operator can check it without locus.
 *
 * Links are TLS 1.3 only, both sides present a certificate, and a peer is admitted when its chain
 * ends at the overlay CA, no certificate of it is expired or not yet valid, and (with --crl) its
 * certificate is not revoked. The CRL is re-read when its file changes (ctl_tls_poll_crl), and
 * the links already up are checked against it again (ctl_tls_still_valid).
 *
 * Everything here runs on the control thread. OpenSSL is wrapped here and in ctl_link_tls.c only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/lc_compiler.h"
#include "dht/dht_key.h"

/* The files of a secured node (the flags --overlay-ca, --cert, --key, --crl). Owner: main(). */
struct ctl_tls_files {
	const char *ca;	  /* PEM: the overlay's CA certificate(s) */
	const char *cert; /* PEM: this node's certificate, then any intermediates */
	const char *key;  /* PEM: its private key */
	const char *crl;  /* PEM: revoked certificates, or NULL */
};

/* Why handshakes failed, and what was reloaded. Owner: ctl_tls; control reads. */
struct ctl_tls_stats {
	uint64_t handshakes;	  /* links that completed a handshake with an admitted peer */
	uint64_t refused_chain;	  /* the peer's chain does not end at the overlay CA */
	uint64_t refused_expired; /* a certificate of the chain is expired or not valid yet */
	uint64_t refused_revoked; /* the peer's certificate is on the CRL */
	uint64_t refused_no_cert; /* the peer sent no certificate */
	uint64_t refused_proto;	  /* not TLS 1.3, or the handshake failed otherwise */
	uint64_t refused_id;	  /* the peer's id is not the one expected at its address */
	uint64_t crl_loads;	  /* CRL files read (the first included) */
	uint64_t crl_failures;	  /* CRL files that could not be read: the old list stays */
	uint64_t dropped_revoked; /* links closed because a reloaded CRL revoked their peer */
};

struct ctl_tls;
struct ssl_ctx_st;
struct ssl_st;

/**
 * Load the CA, the node's certificate and key, and the CRL; check that the key is the
 * certificate's and that the certificate itself is admitted by the CA (so a misconfigured node
 * says so at start, not at its first handshake).
 * @param err  a one-line message on failure.
 * @return LC_OK, LC_EINVAL (a file is missing, unreadable, or does not verify), LC_ENOMEM.
 * Context: control, at start.
 */
LC_MUSTCHECK int ctl_tls_new(struct ctl_tls **out, const struct ctl_tls_files *f, char *err,
			     size_t errcap);

/** Free. NULL is a no-op. Context: control. */
void ctl_tls_free(struct ctl_tls *t);

/** This node's id (from its certificate's public key). Context: any. */
dht_id_t ctl_tls_self_id(const struct ctl_tls *t);

/** The context every link's SSL object is made from. Context: control. */
struct ssl_ctx_st *ctl_tls_ctx(const struct ctl_tls *t);

/**
 * Re-read the CRL when its file's modification time or size changed since it was last read. A
 * file that does not parse keeps the old list (logged, counted).
 * @return true when a new list was loaded (the caller re-checks its links).
 * Context: control.
 */
bool ctl_tls_poll_crl(struct ctl_tls *t);

/**
 * Whether the handshake of @p ssl admitted its peer, and its id. Counts the refusal reason when
 * not. Context: control, after SSL_do_handshake returned.
 */
bool ctl_tls_peer_ok(struct ctl_tls *t, struct ssl_st *ssl, dht_id_t *id);

/** Count a handshake that failed before any verification result (not TLS 1.3, reset, ...). */
void ctl_tls_count_failure(struct ctl_tls *t, struct ssl_st *ssl);

/** Whether the peer of the established @p ssl is still admitted by the current CRL and dates.
 * Context: control. */
bool ctl_tls_still_valid(struct ctl_tls *t, struct ssl_st *ssl);

/** Count a link closed by ctl_tls_still_valid, or a peer refused for its id. */
void ctl_tls_count_revoked(struct ctl_tls *t);
void ctl_tls_count_bad_id(struct ctl_tls *t);

/** Copy the counters. Context: control. */
void ctl_tls_stats_get(const struct ctl_tls *t, struct ctl_tls_stats *out);

/**
 * The id of the public key in the PEM certificate file @p path (for locusctl and tests).
 * @return LC_OK, LC_EINVAL. Context: any.
 */
LC_MUSTCHECK int ctl_tls_cert_file_id(const char *path, dht_id_t *id);
