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
	case NID_sha256: return 32;
	case NID_sha384: return 48;
	case NID_sha512: return 64;
	default: return -1;
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

static int pss_ok(const X509_ALGOR *alg, int *md_nid)
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
	if (salt != md_len(h) || trailer != 1)
		goto out;
	if (*md_nid != NID_undef && *md_nid != h)
		goto out;
	*md_nid = h;
	ok = 1;
out:
	RSA_PSS_PARAMS_free(pss);
	X509_ALGOR_free(mgf_md);
	return ok;
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
	case NID_sha256WithRSAEncryption: sig_md = NID_sha256; break;
	case NID_sha384WithRSAEncryption: sig_md = NID_sha384; break;
	case NID_sha512WithRSAEncryption: sig_md = NID_sha512; break;
	case NID_ecdsa_with_SHA256: sig_md = NID_sha256; want_rsa = 0; break;
	case NID_ecdsa_with_SHA384: sig_md = NID_sha384; want_rsa = 0; break;
	case NID_ecdsa_with_SHA512: sig_md = NID_sha512; want_rsa = 0; break;
	case NID_rsassaPss:
		return rsa && pss_ok(alg, &md_nid);
	default:
		return 0;
	}
	if (md_nid != NID_undef && md_nid != sig_md)
		return 0;
	/* RSA identifiers need an RSA key, ECDSA ones an EC key */
	return want_rsa ? base == EVP_PKEY_RSA : base == EVP_PKEY_EC;
}
