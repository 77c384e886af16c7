/* The acceptance log's hash chain: see chain.h and docs/store.md. */
#include <string.h>

#include <openssl/evp.h>

#include "chain.h"

#define CHAIN_TAG "madoguchi-acceptance-v1"

static int put_field(EVP_MD_CTX *ctx, const void *p, size_t len)
{
	unsigned char l[4];

	if (len > 0xffffffffUL)
		return -1;
	l[0] = (unsigned char)(len >> 24);
	l[1] = (unsigned char)(len >> 16);
	l[2] = (unsigned char)(len >> 8);
	l[3] = (unsigned char)len;
	if (EVP_DigestUpdate(ctx, l, 4) != 1)
		return -1;
	if (len > 0 && EVP_DigestUpdate(ctx, p, len) != 1)
		return -1;
	return 0;
}

int mdg_chain_hash(const unsigned char prev[MDG_HASH_LEN], const struct mdg_chain_row *row,
		   unsigned char out[MDG_HASH_LEN])
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char seq[8];
	unsigned int outlen = 0;
	uint64_t s;
	int i, rc = -1;

	if (row->receipt_id == NULL || row->accepted_at == NULL || row->reason == NULL || row->request_sha256 == NULL ||
	    (row->issuer_der == NULL && row->issuer_len > 0) || (row->serial == NULL && row->serial_len > 0) ||
	    row->seq < 1)
		goto out;
	s = (uint64_t)row->seq;
	for (i = 7; i >= 0; i--) {
		seq[i] = (unsigned char)(s & 0xff);
		s >>= 8;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, CHAIN_TAG, strlen(CHAIN_TAG)) != 1 ||
	    EVP_DigestUpdate(ctx, prev, MDG_HASH_LEN) != 1 || EVP_DigestUpdate(ctx, seq, sizeof(seq)) != 1)
		goto out;
	if (put_field(ctx, row->receipt_id, strlen(row->receipt_id)) == -1 ||
	    put_field(ctx, row->issuer_der, row->issuer_len) == -1 ||
	    put_field(ctx, row->serial, row->serial_len) == -1 ||
	    put_field(ctx, row->accepted_at, strlen(row->accepted_at)) == -1 ||
	    put_field(ctx, row->reason, strlen(row->reason)) == -1 || put_field(ctx, row->request_sha256, 32) == -1)
		goto out;
	if (EVP_DigestFinal_ex(ctx, out, &outlen) != 1 || outlen != MDG_HASH_LEN)
		goto out;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}
