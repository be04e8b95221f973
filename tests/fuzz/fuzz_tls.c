/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the overlay's TLS admission (control/ctl_tls.c): what a node's link does
 * with any bytes a peer sends while its handshake runs, on both sides (the node accepting a
 * connection, and the node that dialled one).
 *
 * How it works: a CA and a node certificate are made in memory at the first input (P-256, with
 * OpenSSL's own APIs) and written to a temporary directory for ctl_tls_new, as a node loads its
 * files. Each input then drives one server and one client SSL object of that context through
 * memory BIOs: the input is what the peer sent. Invariants: no handshake completes (admission
 * needs a signature under a key the fuzzer does not have), ctl_tls_peer_ok is never reached,
 * every failure is counted exactly once by ctl_tls_count_failure, and nothing leaks (ASan).
 * The same function runs in every build through tests/fuzz/replay.c over tests/fuzz/corpus_tls/
 * (a real ClientHello and ServerHello among the seeds).
 */
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/lc_error.h"
#include "control/ctl_tls.h"
#include "tests/fuzz/fuzz.h"

static struct ctl_tls *tls;

static X509 *cert_new(EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, const char *cn, bool ca)
{
	X509 *x = X509_new();
	FUZZ_CHECK(x != NULL, "X509_new");
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
	X509_set_pubkey(x, key);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : n);
	if (ca) {
		X509_EXTENSION *e =
			X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, "critical,CA:TRUE");
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	FUZZ_CHECK(X509_sign(x, issuer_key, EVP_sha256()) > 0, "X509_sign");
	return x;
}

static void write_pem(const char *path, X509 *x, EVP_PKEY *k)
{
	FILE *f = fopen(path, "w");
	FUZZ_CHECK(f != NULL, "temporary file");
	if (x != NULL) {
		PEM_write_X509(f, x);
	} else {
		PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	}
	fclose(f);
}

static void setup(void)
{
	if (tls != NULL) {
		return;
	}
	char dir[] = "/tmp/locus-fuzz-tls-XXXXXX";
	FUZZ_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	EVP_PKEY *cak = EVP_EC_gen("P-256"), *nk = EVP_EC_gen("P-256");
	FUZZ_CHECK(cak != NULL && nk != NULL, "EC keys");
	X509 *ca = cert_new(cak, NULL, cak, "fuzz CA", true);
	X509 *node = cert_new(nk, ca, cak, "fuzz node", false);
	char ca_p[64], cert_p[64], key_p[64];
	snprintf(ca_p, sizeof(ca_p), "%s/ca.pem", dir);
	snprintf(cert_p, sizeof(cert_p), "%s/node.pem", dir);
	snprintf(key_p, sizeof(key_p), "%s/node.key", dir);
	write_pem(ca_p, ca, NULL);
	write_pem(cert_p, node, NULL);
	write_pem(key_p, NULL, nk);
	struct ctl_tls_files f = {.ca = ca_p, .cert = cert_p, .key = key_p};
	char err[256];
	FUZZ_CHECK(ctl_tls_new(&tls, &f, err, sizeof(err)) == LC_OK, err);
	unlink(ca_p);
	unlink(cert_p);
	unlink(key_p);
	rmdir(dir);
	X509_free(ca);
	X509_free(node);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(nk);
}

static uint64_t refusals(void)
{
	struct ctl_tls_stats s;
	ctl_tls_stats_get(tls, &s);
	return s.refused_chain + s.refused_expired + s.refused_revoked + s.refused_no_cert +
	       s.refused_proto;
}

/* One side fed @p data as the peer's bytes. */
static void side(bool server, const uint8_t *data, size_t size)
{
	SSL *ssl = SSL_new(ctl_tls_ctx(tls));
	BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
	FUZZ_CHECK(ssl != NULL && in != NULL && out != NULL, "SSL objects");
	SSL_set_bio(ssl, in, out); /* the SSL owns both now */
	if (server) {
		SSL_set_accept_state(ssl);
	} else {
		SSL_set_connect_state(ssl);
		(void)SSL_do_handshake(ssl); /* its ClientHello goes to out */
	}
	BIO_write(in, data, (int)size);
	uint64_t before = refusals();
	int r = SSL_do_handshake(ssl);
	FUZZ_CHECK(r != 1, "a handshake completed without the node's peer key");
	int e = SSL_get_error(ssl, r);
	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
		ctl_tls_count_failure(tls, ssl);
		FUZZ_CHECK(refusals() == before + 1, "a failed handshake is counted once");
	}
	SSL_free(ssl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	side(true, data, size);
	side(false, data, size);
	return 0;
}
