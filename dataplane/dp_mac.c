/* SPDX-License-Identifier: MIT */
/*
 * SipHash-2-4 through libcrypto's EVP_MAC (dp_mac.h says why this primitive). The only file of
 * dataplane/ that includes OpenSSL. Each context is configured once (output size, rounds); a
 * call only re-keys it with EVP_MAC_init, which for SipHash recomputes four words of state in
 * the context's own memory, feeds the pieces and finalises: no allocation per call (counted in
 * bench/bench_mac.c).
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>

#include "common/lc_error.h"
#include "dataplane/dp_mac.h"

/* A SipHash-2-4 context with @p size output bytes, or NULL (*ret says why). */
static EVP_MAC_CTX *siphash_new(EVP_MAC *alg, size_t size, int *ret)
{
	EVP_MAC_CTX *c = EVP_MAC_CTX_new(alg);
	if (c == NULL) {
		*ret = LC_ENOMEM;
		return NULL;
	}
	unsigned int crounds = 2, drounds = 4;
	OSSL_PARAM p[] = {
		OSSL_PARAM_size_t(OSSL_MAC_PARAM_SIZE, &size),
		OSSL_PARAM_uint(OSSL_MAC_PARAM_C_ROUNDS, &crounds),
		OSSL_PARAM_uint(OSSL_MAC_PARAM_D_ROUNDS, &drounds),
		OSSL_PARAM_END,
	};
	if (EVP_MAC_CTX_set_params(c, p) != 1) {
		EVP_MAC_CTX_free(c);
		*ret = LC_EINVAL;
		return NULL;
	}
	return c;
}

int dp_mac_init(struct dp_mac *m)
{
	memset(m, 0, sizeof(*m));
	EVP_MAC *alg = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	if (alg == NULL) {
		return LC_EINVAL;
	}
	int ret = LC_OK;
	m->tag = siphash_new(alg, DP_MAC_TAG_LEN, &ret);
	if (m->tag != NULL) {
		m->prf = siphash_new(alg, 8, &ret);
	}
	EVP_MAC_free(alg); /* each context holds its own reference */
	if (ret != LC_OK) {
		dp_mac_deinit(m);
	}
	return ret;
}

void dp_mac_deinit(struct dp_mac *m)
{
	EVP_MAC_CTX_free(m->tag);
	EVP_MAC_CTX_free(m->prf);
	m->tag = NULL;
	m->prf = NULL;
}

/* Key @p c, feed @p head (may be NULL) then the pieces, and write @p outlen bytes to @p out. */
static bool run(EVP_MAC_CTX *c, const uint8_t key[DP_MAC_KEY_LEN], const uint8_t *head,
		size_t head_len, const struct dp_mac_piece *msg, unsigned n, uint8_t *out,
		size_t outlen)
{
	if (EVP_MAC_init(c, key, DP_MAC_KEY_LEN, NULL) != 1) {
		return false;
	}
	if (head != NULL && EVP_MAC_update(c, head, head_len) != 1) {
		return false;
	}
	for (unsigned i = 0; i < n; i++) {
		if (msg[i].len > 0 && EVP_MAC_update(c, msg[i].p, msg[i].len) != 1) {
			return false;
		}
	}
	size_t got = 0;
	return EVP_MAC_final(c, out, &got, outlen) == 1 && got == outlen;
}

int dp_mac_tag(struct dp_mac *m, const uint8_t key[DP_MAC_KEY_LEN], uint64_t nonce,
	       const struct dp_mac_piece *msg, unsigned n, uint8_t tag[DP_MAC_TAG_LEN])
{
	/* little endian on every host, so that nodes of either byte order agree */
	uint8_t head[8];
	for (unsigned i = 0; i < 8; i++) {
		head[i] = (uint8_t)(nonce >> (8 * i));
	}
	if (!run(m->tag, key, head, sizeof(head), msg, n, tag, DP_MAC_TAG_LEN)) {
		memset(tag, 0, DP_MAC_TAG_LEN);
		return LC_EINVAL;
	}
	return LC_OK;
}

bool dp_mac_verify(struct dp_mac *m, const uint8_t key[DP_MAC_KEY_LEN], uint64_t nonce,
		   const struct dp_mac_piece *msg, unsigned n, const uint8_t tag[DP_MAC_TAG_LEN])
{
	uint8_t want[DP_MAC_TAG_LEN];
	if (dp_mac_tag(m, key, nonce, msg, n, want) != LC_OK) {
		return false;
	}
	return CRYPTO_memcmp(want, tag, DP_MAC_TAG_LEN) == 0;
}

int dp_mac_prf64(struct dp_mac *m, const uint8_t key[DP_MAC_KEY_LEN],
		 const struct dp_mac_piece *msg, unsigned n, uint64_t *out)
{
	uint8_t b[8];
	*out = 0;
	if (!run(m->prf, key, NULL, 0, msg, n, b, sizeof(b))) {
		return LC_EINVAL;
	}
	for (unsigned i = 0; i < 8; i++) {
		*out |= (uint64_t)b[i] << (8 * i);
	}
	return LC_OK;
}
