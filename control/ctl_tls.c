/* SPDX-License-Identifier: MIT */
/*
 * The overlay's root of trust (ctl_tls.h): loading the CA, the node's certificate and key and the
 * CRL into one SSL_CTX, deriving node ids from public keys, and judging peers after a handshake.
 *
 * How the CRL is reloaded: a new X509_STORE is built from the CA file and the new CRL and swapped
 * into the context with SSL_CTX_set_cert_store (which frees the old one). A handshake reads the
 * context's store when it verifies, so every handshake after the swap uses the new list; links
 * already up are re-verified by ctl_tls_still_valid, which the link layer calls for each of them.
 */
#include "control/ctl_tls.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/lc_alloc.h"
#include "common/lc_error.h"
#include "common/lc_log.h"

#define PATH_CAP 1024

/* Owner: control (main creates it, the links and ctl_ovl use it, main frees it). */
struct ctl_tls {
	SSL_CTX *ctx;
	dht_id_t self_id;
	char ca[PATH_CAP];
	char crl[PATH_CAP]; /* "" without --crl */
	struct timespec crl_mtime;
	off_t crl_size;
	struct ctl_tls_stats st;
};

static int id_of_cert(X509 *cert, dht_id_t *id)
{
	EVP_PKEY *pk = X509_get0_pubkey(cert);
	unsigned char *der = NULL;
	int len = pk != NULL ? i2d_PUBKEY(pk, &der) : -1;
	if (len <= 0) {
		return LC_EINVAL;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int ok = EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL);
	OPENSSL_free(der);
	if (!ok || mdlen < 16) {
		return LC_EINVAL;
	}
	dht_id_t v = 0;
	for (int i = 0; i < 16; i++) {
		v = v << 8 | md[i];
	}
	*id = v;
	return LC_OK;
}

/* OpenSSL's reason for the last failure, for a one-line message. */
static const char *ssl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;
	ERR_clear_error();
	return r != NULL ? r : "unknown error";
}

static int load_crl(X509_STORE *store, const char *path)
{
	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		return LC_EINVAL;
	}
	int n = 0, ret = LC_OK;
	X509_CRL *crl;
	while ((crl = PEM_read_X509_CRL(fp, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_crl(store, crl) != 1) {
			ret = LC_EINVAL;
		}
		X509_CRL_free(crl);
		n++;
	}
	ERR_clear_error(); /* the end of the file reads as an error */
	fclose(fp);
	return n > 0 ? ret : LC_EINVAL;
}

/* A store with the CA and, when given, the CRL (checked for the peer's own certificate). */
static X509_STORE *store_new(const struct ctl_tls *t)
{
	X509_STORE *s = X509_STORE_new();
	if (s == NULL || X509_STORE_load_file(s, t->ca) != 1) {
		X509_STORE_free(s);
		return NULL;
	}
	if (t->crl[0] != '\0') {
		if (load_crl(s, t->crl) != LC_OK) {
			X509_STORE_free(s);
			return NULL;
		}
		X509_STORE_set_flags(s, X509_V_FLAG_CRL_CHECK);
	}
	return s;
}

static void crl_stamp(struct ctl_tls *t, struct timespec *mtime, off_t *size)
{
	struct stat sb;
	if (t->crl[0] == '\0' || stat(t->crl, &sb) != 0) {
		*mtime = (struct timespec){0};
		*size = -1;
		return;
	}
	*mtime = sb.st_mtim;
	*size = sb.st_size;
}

/* The node's own certificate must pass the checks its peers will make. */
static int verify_self(SSL_CTX *ctx, X509_STORE *store, char *err, size_t errcap)
{
	X509 *cert = SSL_CTX_get0_certificate(ctx);
	STACK_OF(X509) *chain = NULL;
	(void)SSL_CTX_get0_chain_certs(ctx, &chain);
	X509_STORE_CTX *sctx = X509_STORE_CTX_new();
	if (sctx == NULL || X509_STORE_CTX_init(sctx, store, cert, chain) != 1) {
		X509_STORE_CTX_free(sctx);
		snprintf(err, errcap, "out of memory");
		return LC_ENOMEM;
	}
	int ok = X509_verify_cert(sctx);
	int code = X509_STORE_CTX_get_error(sctx);
	X509_STORE_CTX_free(sctx);
	if (ok != 1) {
		snprintf(err, errcap, "--cert does not verify against --overlay-ca: %s",
			 X509_verify_cert_error_string(code));
		return LC_EINVAL;
	}
	return LC_OK;
}

static int ctx_setup(struct ctl_tls *t, const struct ctl_tls_files *f, char *err, size_t errcap)
{
	SSL_CTX *ctx = t->ctx;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
		snprintf(err, errcap, "this OpenSSL has no TLS 1.3");
		return LC_EINVAL;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, f->cert) != 1) {
		snprintf(err, errcap, "--cert %s: %s", f->cert, ssl_reason());
		return LC_EINVAL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, f->key, SSL_FILETYPE_PEM) != 1) {
		snprintf(err, errcap, "--key %s: %s", f->key, ssl_reason());
		return LC_EINVAL;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errcap, "--key %s is not the key of --cert %s", f->key, f->cert);
		return LC_EINVAL;
	}
	X509_STORE *store = store_new(t);
	if (store == NULL) {
		snprintf(err, errcap, "%s %s: cannot read it, or it holds no %s",
			 t->crl[0] != '\0' ? "--overlay-ca or --crl" : "--overlay-ca",
			 t->crl[0] != '\0' ? t->crl : t->ca,
			 t->crl[0] != '\0' ? "CRL" : "certificate");
		ERR_clear_error();
		return LC_EINVAL;
	}
	SSL_CTX_set_cert_store(ctx, store); /* the context owns it now */
	/* both sides present a certificate; no resumption: every link verifies its peer anew */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	(void)SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return verify_self(ctx, store, err, errcap);
}

int ctl_tls_new(struct ctl_tls **out, const struct ctl_tls_files *f, char *err, size_t errcap)
{
	struct ctl_tls *t = lc_calloc(1, sizeof(*t));
	if (t == NULL) {
		snprintf(err, errcap, "out of memory");
		return LC_ENOMEM;
	}
	int ret = LC_ENOMEM;
	t->ctx = SSL_CTX_new(TLS_method());
	if (t->ctx == NULL) {
		snprintf(err, errcap, "out of memory");
		goto fail;
	}
	snprintf(t->ca, sizeof(t->ca), "%s", f->ca);
	snprintf(t->crl, sizeof(t->crl), "%s", f->crl != NULL ? f->crl : "");
	crl_stamp(t, &t->crl_mtime, &t->crl_size);
	ret = ctx_setup(t, f, err, errcap);
	if (ret != LC_OK) {
		goto fail;
	}
	if (t->crl[0] != '\0') {
		t->st.crl_loads++;
	}
	ret = id_of_cert(SSL_CTX_get0_certificate(t->ctx), &t->self_id);
	if (ret != LC_OK) {
		snprintf(err, errcap, "--cert %s: cannot read its public key", f->cert);
		goto fail;
	}
	*out = t;
	return LC_OK;
fail:
	ERR_clear_error();
	ctl_tls_free(t);
	return ret;
}

void ctl_tls_free(struct ctl_tls *t)
{
	if (t == NULL) {
		return;
	}
	SSL_CTX_free(t->ctx);
	lc_free(t);
}

dht_id_t ctl_tls_self_id(const struct ctl_tls *t)
{
	return t->self_id;
}

struct ssl_ctx_st *ctl_tls_ctx(const struct ctl_tls *t)
{
	return t->ctx;
}

bool ctl_tls_poll_crl(struct ctl_tls *t)
{
	struct timespec mtime;
	off_t size;
	crl_stamp(t, &mtime, &size);
	if (t->crl[0] == '\0' || (mtime.tv_sec == t->crl_mtime.tv_sec &&
				  mtime.tv_nsec == t->crl_mtime.tv_nsec && size == t->crl_size)) {
		return false;
	}
	t->crl_mtime = mtime;
	t->crl_size = size;
	X509_STORE *s = store_new(t);
	if (s == NULL) {
		ERR_clear_error();
		t->st.crl_failures++;
		lc_warn("--crl %s: cannot read it or it holds no CRL; the previous list stays",
			t->crl);
		return false;
	}
	SSL_CTX_set_cert_store(t->ctx, s);
	t->st.crl_loads++;
	lc_info("--crl %s: reloaded", t->crl);
	return true;
}

/* Count one refusal by the verification result OpenSSL recorded. */
static void count_verify(struct ctl_tls *t, long code)
{
	switch (code) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		t->st.refused_expired++;
		break;
	case X509_V_ERR_CERT_REVOKED:
		t->st.refused_revoked++;
		break;
	default:
		t->st.refused_chain++;
		break;
	}
}

bool ctl_tls_peer_ok(struct ctl_tls *t, struct ssl_st *ssl, dht_id_t *id)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	long code = SSL_get_verify_result(ssl);
	if (cert == NULL) {
		t->st.refused_no_cert++;
		return false;
	}
	if (code != X509_V_OK) {
		count_verify(t, code);
		return false;
	}
	if (SSL_version(ssl) != TLS1_3_VERSION || id_of_cert(cert, id) != LC_OK) {
		t->st.refused_proto++;
		return false;
	}
	t->st.handshakes++;
	return true;
}

void ctl_tls_count_failure(struct ctl_tls *t, struct ssl_st *ssl)
{
	long code = SSL_get_verify_result(ssl);
	if (code != X509_V_OK) {
		count_verify(t, code);
	} else if (SSL_is_server(ssl) && SSL_get0_peer_certificate(ssl) == NULL &&
		   ERR_GET_REASON(ERR_peek_last_error()) ==
			   SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
		t->st.refused_no_cert++;
	} else {
		t->st.refused_proto++;
	}
	ERR_clear_error();
}

bool ctl_tls_still_valid(struct ctl_tls *t, struct ssl_st *ssl)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	if (cert == NULL) {
		return false;
	}
	X509_STORE_CTX *sctx = X509_STORE_CTX_new();
	if (sctx == NULL || X509_STORE_CTX_init(sctx, SSL_CTX_get_cert_store(t->ctx), cert,
						SSL_get_peer_cert_chain(ssl)) != 1) {
		X509_STORE_CTX_free(sctx);
		return true; /* out of memory is not evidence against the peer */
	}
	bool ok = X509_verify_cert(sctx) == 1;
	X509_STORE_CTX_free(sctx);
	ERR_clear_error();
	return ok;
}

void ctl_tls_count_revoked(struct ctl_tls *t)
{
	t->st.dropped_revoked++;
}

void ctl_tls_count_bad_id(struct ctl_tls *t)
{
	t->st.refused_id++;
}

void ctl_tls_stats_get(const struct ctl_tls *t, struct ctl_tls_stats *out)
{
	*out = t->st;
}

int ctl_tls_cert_file_id(const char *path, dht_id_t *id)
{
	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		return LC_EINVAL;
	}
	X509 *cert = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	int ret = cert != NULL ? id_of_cert(cert, id) : LC_EINVAL;
	X509_free(cert);
	ERR_clear_error();
	return ret;
}
