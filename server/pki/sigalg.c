#include "sigalg.h"

#include <stdint.h>
#include <string.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

int mdg_digest_allowed(int md_nid)
{
	return md_nid == NID_sha256 || md_nid == NID_sha384 || md_nid == NID_sha512;
}

int mdg_key_allowed(const EVP_PKEY *key)
{
	char group[64];
	size_t glen = 0;

	if (key == NULL)
		return 0;
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS: {
		int bits = EVP_PKEY_get_bits(key);
		return bits >= 2048 && bits <= 4096;
	}
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_group_name(key, group, sizeof(group), &glen))
			return 0;
		return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0 ||
		       strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0;
	default:
		return 0;
	}
}

static int md_len(int md_nid)
{
	switch (md_nid) {
	case NID_sha256:
		return 32;
	case NID_sha384:
		return 48;
	case NID_sha512:
		return 64;
	default:
		return -1;
	}
}

static int algor_md_nid(const X509_ALGOR *a)
{
	const ASN1_OBJECT *obj;
	int ptype;
	const void *pval;

	if (a == NULL)
		return NID_sha1; /* RFC 4055 default */
	X509_ALGOR_get0(&obj, &ptype, &pval, a);
	if (ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL)
		return NID_undef;
	return OBJ_obj2nid(obj);
}

/* RSASSA-PSS-params with hash = MGF1 hash = an allowed digest and trailer
 * field 1: returns 1 with the hash's NID and the salt length, else 0. */
static int pss_params(const X509_ALGOR *alg, int *hash_nid, int64_t *salt_len)
{
	const ASN1_OBJECT *obj;
	int ptype;
	const void *pval;
	RSA_PSS_PARAMS *pss = NULL;
	X509_ALGOR *mgf_md = NULL;
	int ok = 0;

	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	if (ptype != V_ASN1_SEQUENCE)
		return 0;
	pss = ASN1_item_unpack(pval, ASN1_ITEM_rptr(RSA_PSS_PARAMS));
	if (pss == NULL)
		goto out;
	int h = algor_md_nid(pss->hashAlgorithm);
	if (!mdg_digest_allowed(h))
		goto out;
	/* MGF must be MGF1 with the same hash */
	if (pss->maskGenAlgorithm == NULL || OBJ_obj2nid(pss->maskGenAlgorithm->algorithm) != NID_mgf1)
		goto out;
	X509_ALGOR_get0(&obj, &ptype, &pval, pss->maskGenAlgorithm);
	if (ptype != V_ASN1_SEQUENCE)
		goto out;
	mgf_md = ASN1_item_unpack(pval, ASN1_ITEM_rptr(X509_ALGOR));
	if (mgf_md == NULL || algor_md_nid(mgf_md) != h)
		goto out;
	int64_t salt = 20, trailer = 1;
	if (pss->saltLength != NULL && !ASN1_INTEGER_get_int64(&salt, pss->saltLength))
		goto out;
	if (pss->trailerField != NULL && !ASN1_INTEGER_get_int64(&trailer, pss->trailerField))
		goto out;
	if (trailer != 1)
		goto out;
	*hash_nid = h;
	*salt_len = salt;
	ok = 1;
out:
	RSA_PSS_PARAMS_free(pss);
	X509_ALGOR_free(mgf_md);
	return ok;
}

/* A certificate's signature (md_nid NID_undef on entry): salt = hash length.
 * A SignerInfo's (md_nid its digest): hash = that digest and any salt length
 * the key admits, 0 .. emLen - hLen - 2 (RFC 8017 9.1.1; OpenSSL's default
 * is the maximum). */
static int pss_ok(const X509_ALGOR *alg, const EVP_PKEY *key, int *md_nid)
{
	int h;
	int64_t salt;

	if (!pss_params(alg, &h, &salt))
		return 0;
	if (*md_nid == NID_undef) {
		if (salt != md_len(h))
			return 0;
	} else {
		int64_t em_len = ((int64_t)EVP_PKEY_get_bits(key) - 1 + 7) / 8;
		if (*md_nid != h || salt < 0 || salt > em_len - md_len(h) - 2)
			return 0;
	}
	*md_nid = h;
	return 1;
}

int mdg_sigalg_pss_salt(const X509_ALGOR *alg, int *salt_len)
{
	const ASN1_OBJECT *obj;
	int h;
	int64_t salt;

	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	if (OBJ_obj2nid(obj) != NID_rsassaPss)
		return 0;
	if (!pss_params(alg, &h, &salt) || salt < 0 || salt > INT32_MAX)
		return -1;
	*salt_len = (int)salt;
	return 1;
}

int mdg_sigalg_allowed(const X509_ALGOR *alg, const EVP_PKEY *key, int md_nid)
{
	const ASN1_OBJECT *obj;
	int ptype;
	const void *pval;
	int base = key != NULL ? EVP_PKEY_get_base_id(key) : EVP_PKEY_NONE;
	int rsa = base == EVP_PKEY_RSA || base == EVP_PKEY_RSA_PSS;
	int want_rsa = 1;
	int sig_md;

	if (alg == NULL || !mdg_key_allowed(key))
		return 0;
	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	switch (OBJ_obj2nid(obj)) {
	case NID_rsaEncryption:
		/* only in a SignerInfo, where the digest is given apart */
		return rsa && md_nid != NID_undef && mdg_digest_allowed(md_nid);
	case NID_sha256WithRSAEncryption:
		sig_md = NID_sha256;
		break;
	case NID_sha384WithRSAEncryption:
		sig_md = NID_sha384;
		break;
	case NID_sha512WithRSAEncryption:
		sig_md = NID_sha512;
		break;
	case NID_ecdsa_with_SHA256:
		sig_md = NID_sha256;
		want_rsa = 0;
		break;
	case NID_ecdsa_with_SHA384:
		sig_md = NID_sha384;
		want_rsa = 0;
		break;
	case NID_ecdsa_with_SHA512:
		sig_md = NID_sha512;
		want_rsa = 0;
		break;
	case NID_rsassaPss:
		return rsa && pss_ok(alg, key, &md_nid);
	default:
		return 0;
	}
	if (md_nid != NID_undef && md_nid != sig_md)
		return 0;
	/* RSA identifiers need an RSA key, ECDSA ones an EC key */
	return want_rsa ? base == EVP_PKEY_RSA : base == EVP_PKEY_EC;
}

int mdg_sigalg_same(const X509_ALGOR *outer, const X509_ALGOR *inner)
{
	return outer != NULL && inner != NULL && X509_ALGOR_cmp(outer, inner) == 0;
}
