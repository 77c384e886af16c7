#include "request.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "der.h"
#include "sigalg.h"

void mdg_request_free(struct mdg_request *req)
{
	X509_free(req->cert);
	free(req->der);
	memset(req, 0, sizeof(*req));
}

/* 1 if the SignerInfo's sid identifies cert: issuer (compared as
 * X509_NAME_cmp compares names) and serial, or the subjectKeyIdentifier. */
static int sid_matches(const struct mdg_cms *cms, X509 *cert)
{
	const unsigned char *p;
	X509_NAME *issuer = NULL;
	ASN1_INTEGER *serial = NULL;
	int ok = 0;

	if (cms->sid_keyid != NULL) {
		const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(cert);
		return skid != NULL && (size_t)ASN1_STRING_length(skid) == cms->sid_keyid_len &&
		       memcmp(ASN1_STRING_get0_data(skid), cms->sid_keyid, cms->sid_keyid_len) == 0;
	}
	p = cms->sid_issuer;
	issuer = d2i_X509_NAME(NULL, &p, (long)cms->sid_issuer_len);
	if (issuer == NULL || p != cms->sid_issuer + cms->sid_issuer_len)
		goto out;
	p = cms->sid_serial;
	serial = d2i_ASN1_INTEGER(NULL, &p, (long)cms->sid_serial_len);
	if (serial == NULL || p != cms->sid_serial + cms->sid_serial_len)
		goto out;
	ok = X509_NAME_cmp(issuer, X509_get_issuer_name(cert)) == 0 &&
	     ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(cert)) == 0;
out:
	X509_NAME_free(issuer);
	ASN1_INTEGER_free(serial);
	ERR_clear_error();
	return ok;
}

/* The certificate: from the cache, else decoded (the whole TLV) and offered
 * to it. NULL if it does not decode. */
static X509 *request_cert(const struct mdg_cms *cms, struct mdg_certcache *cache, unsigned char key[32])
{
	const unsigned char *p = cms->cert;
	X509 *x;

	SHA256(cms->cert, cms->cert_len, key);
	if ((x = mdg_certcache_get_x509(cache, key)) != NULL)
		return x;
	x = d2i_X509(NULL, &p, (long)cms->cert_len);
	if (x == NULL || p != cms->cert + cms->cert_len) {
		X509_free(x);
		ERR_clear_error();
		return NULL;
	}
	mdg_certcache_put_x509(cache, key, x);
	return x;
}

int mdg_request_parse(const unsigned char *body, size_t len, struct mdg_certcache *cache, struct mdg_request *req,
		      const char **why)
{
	memset(req, 0, sizeof(*req));
	if (len == 0) {
		*why = "empty body";
		return -1;
	}
	if (mdg_looks_like_pem(body, len)) {
		if (mdg_pem_cms_decode(body, len, &req->der, &req->der_len) != 0) {
			*why = "PEM armour is not a CMS";
			return -1;
		}
	} else {
		if ((req->der = malloc(len)) == NULL) {
			*why = "out of memory";
			return -1;
		}
		memcpy(req->der, body, len);
		req->der_len = len;
	}
	if (req->der_len > LONG_MAX || mdg_der_check(req->der, req->der_len) != 0) {
		*why = "not DER (truncated, indefinite length, or trailing data)";
		return -1;
	}
	SHA256(req->der, req->der_len, req->der_sha256);
	if (mdg_cms_parse(req->der, req->der_len, &req->cms, why) != 0)
		return -1;
	if ((req->cert = request_cert(&req->cms, cache, req->cert_sha256)) == NULL) {
		*why = "certificate does not parse";
		return -1;
	}
	if (!sid_matches(&req->cms, req->cert)) {
		*why = "SignerInfo sid does not identify the certificate";
		return -1;
	}
	req->content = req->cms.content;
	req->content_len = req->cms.content_len;
	return mdg_form_parse(req->content, req->content_len, &req->form, why);
}

/* The attributes RFC 5652 11 and RFC 2634 restrict, as OpenSSL's
 * verification enforces them (and so must we: what is accepted reads back). */
enum { A_CONTENT_TYPE, A_MESSAGE_DIGEST, A_SIGNING_TIME, A_COUNTERSIGNATURE, A_RECEIPT_REQUEST, A_SIGNING_CERT,
       A_SIGNING_CERT_V2, A_N };

static const struct {
	unsigned char oid[11];
	size_t len;
} known_attr[A_N] = {
	[A_CONTENT_TYPE] = {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03}, 9},
	[A_MESSAGE_DIGEST] = {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04}, 9},
	[A_SIGNING_TIME] = {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05}, 9},
	[A_COUNTERSIGNATURE] = {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x06}, 9},
	[A_RECEIPT_REQUEST] = {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x01}, 11},
	[A_SIGNING_CERT] = {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0c}, 11},
	[A_SIGNING_CERT_V2] = {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f}, 11},
};

static int attr_kind(const struct mdg_cms_attr *a)
{
	for (int k = 0; k < A_N; k++)
		if (mdg_cms_oid_is(a->oid, a->oid_len, known_attr[k].oid, known_attr[k].len))
			return k;
	return -1;
}

/* The one value of a single-valued attribute: tag and contents. */
static int only_value(const struct mdg_cms_attr *a, unsigned char *tag, const unsigned char **v, size_t *v_len,
		      size_t *tlv_len)
{
	return a->n_values == 1 && mdg_der_next(a->values, a->values_len, tag, v, v_len, tlv_len) == 0 ? 0 : -1;
}

/* An ESS signingCertificate(V2) attribute: well formed and naming cert. */
static int check_ess(const struct mdg_cms_attr *ss_attr, const struct mdg_cms_attr *ssv2_attr, X509 *cert)
{
	STACK_OF(X509) *chain = NULL;
	ESS_SIGNING_CERT *ss = NULL;
	ESS_SIGNING_CERT_V2 *ssv2 = NULL;
	const unsigned char *v, *p;
	size_t v_len, n;
	unsigned char tag;
	int ok = 0;

	if (ss_attr != NULL) {
		if (only_value(ss_attr, &tag, &v, &v_len, &n) != 0 || tag != 0x30)
			goto out;
		p = ss_attr->values;
		if ((ss = d2i_ESS_SIGNING_CERT(NULL, &p, (long)n)) == NULL || p != ss_attr->values + n)
			goto out;
	}
	if (ssv2_attr != NULL) {
		if (only_value(ssv2_attr, &tag, &v, &v_len, &n) != 0 || tag != 0x30)
			goto out;
		p = ssv2_attr->values;
		if ((ssv2 = d2i_ESS_SIGNING_CERT_V2(NULL, &p, (long)n)) == NULL || p != ssv2_attr->values + n)
			goto out;
	}
	if ((chain = sk_X509_new_null()) == NULL || !sk_X509_push(chain, cert))
		goto out;
	ok = OSSL_ESS_check_signing_certs(ss, ssv2, chain, 0) > 0;
out:
	sk_X509_free(chain);
	ESS_SIGNING_CERT_free(ss);
	ESS_SIGNING_CERT_V2_free(ssv2);
	return ok;
}

/* The signed attributes (step 5): see request.h. */
static int check_attrs(const struct mdg_request *req, const EVP_MD *md, const char **why)
{
	const struct mdg_cms *cms = &req->cms;
	struct mdg_cms_attr a, found[A_N];
	size_t count[A_N] = {0}, pos = 0;
	unsigned char tag, mdv[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const unsigned char *v;
	size_t v_len, n;
	int k;

	if (cms->unsigned_attrs != NULL)
		while (mdg_cms_attr_next(cms->unsigned_attrs, cms->unsigned_attrs_len, &pos, &a))
			if ((k = attr_kind(&a)) >= 0 && k != A_COUNTERSIGNATURE) {
				*why = "a signed-only attribute among the unsigned attributes";
				return -1;
			}
	if (cms->signed_attrs == NULL)
		return 0;
	pos = 0;
	while (mdg_cms_attr_next(cms->signed_attrs, cms->signed_attrs_len, &pos, &a)) {
		if ((k = attr_kind(&a)) < 0)
			continue;
		if (k == A_COUNTERSIGNATURE) {
			*why = "countersignature among the signed attributes";
			return -1;
		}
		if (++count[k] > 1 || a.n_values != 1) {
			*why = "a single-valued signed attribute repeated or with several values";
			return -1;
		}
		found[k] = a;
	}
	if (count[A_CONTENT_TYPE] != 1 || only_value(&found[A_CONTENT_TYPE], &tag, &v, &v_len, &n) != 0 ||
	    tag != 0x06 || !mdg_cms_oid_is(v, v_len, mdg_oid_data, sizeof(mdg_oid_data))) {
		*why = "content-type attribute missing or not id-data";
		return -1;
	}
	if (count[A_MESSAGE_DIGEST] != 1 || only_value(&found[A_MESSAGE_DIGEST], &tag, &v, &v_len, &n) != 0 ||
	    tag != 0x04 || !EVP_Digest(req->content, req->content_len, mdv, &mdlen, md, NULL) || v_len != mdlen ||
	    CRYPTO_memcmp(v, mdv, mdlen) != 0) {
		*why = "message digest does not match the content";
		return -1;
	}
	if ((count[A_SIGNING_CERT] || count[A_SIGNING_CERT_V2]) &&
	    !check_ess(count[A_SIGNING_CERT] ? &found[A_SIGNING_CERT] : NULL,
		       count[A_SIGNING_CERT_V2] ? &found[A_SIGNING_CERT_V2] : NULL, req->cert)) {
		*why = "ESS signing certificate malformed or not the certificate";
		return -1;
	}
	return 0;
}

/* The signature over the exact bytes: the signed attributes' DER SET (their
 * [0] tag read as SET OF's 0x31), else the content. */
static int verify_signature(const struct mdg_request *req, EVP_PKEY *pk, const EVP_MD *md, const X509_ALGOR *sig)
{
	const struct mdg_cms *cms = &req->cms;
	static const unsigned char set_tag = 0x31;
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int salt = 0, ok = 0;

	int pss = mdg_sigalg_pss_salt(sig, &salt);
	if (mctx == NULL || pss < 0 || EVP_DigestVerifyInit(mctx, &pctx, md, NULL, pk) != 1)
		goto out;
	if (pss > 0 && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
			EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0 || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) <= 0))
		goto out;
	if (cms->signed_attrs != NULL) {
		if (EVP_DigestVerifyUpdate(mctx, &set_tag, 1) != 1 ||
		    EVP_DigestVerifyUpdate(mctx, cms->signed_attrs + 1, cms->signed_attrs_len - 1) != 1)
			goto out;
	} else if (EVP_DigestVerifyUpdate(mctx, req->content, req->content_len) != 1) {
		goto out;
	}
	ok = EVP_DigestVerifyFinal(mctx, cms->sig, cms->sig_len) == 1;
out:
	EVP_MD_CTX_free(mctx);
	ERR_clear_error();
	return ok;
}

int mdg_request_verify(struct mdg_request *req, const char **why)
{
	const struct mdg_cms *cms = &req->cms;
	EVP_PKEY *pk = X509_get0_pubkey(req->cert);
	X509_ALGOR *dig = NULL, *sig = NULL;
	const unsigned char *p;
	const ASN1_OBJECT *obj;
	int rc = -1;

	p = cms->digest_alg;
	dig = d2i_X509_ALGOR(NULL, &p, (long)cms->digest_alg_len);
	if (dig != NULL)
		X509_ALGOR_get0(&obj, NULL, NULL, dig);
	int md_nid = dig != NULL ? OBJ_obj2nid(obj) : NID_undef;
	const EVP_MD *md = EVP_get_digestbynid(md_nid);
	if (!mdg_digest_allowed(md_nid) || md == NULL) {
		*why = "digest algorithm not allowed";
		goto out;
	}
	p = cms->sig_alg;
	sig = d2i_X509_ALGOR(NULL, &p, (long)cms->sig_alg_len);
	if (sig == NULL || p != cms->sig_alg + cms->sig_alg_len || !mdg_sigalg_allowed(sig, pk, md_nid)) {
		*why = "signature algorithm not allowed";
		goto out;
	}
	X509_ALGOR_get0(&obj, NULL, NULL, sig);
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA_PSS && OBJ_obj2nid(obj) != NID_rsassaPss) {
		*why = "an RSA-PSS key signs only with RSASSA-PSS";
		goto out;
	}
	if (check_attrs(req, md, why) != 0)
		goto out;
	if (!verify_signature(req, pk, md, sig)) {
		*why = "signature does not verify";
		goto out;
	}
	rc = 0;
out:
	X509_ALGOR_free(dig);
	X509_ALGOR_free(sig);
	ERR_clear_error();
	return rc;
}
