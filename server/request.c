#include "request.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/sha.h>

#include "der.h"
#include "sigalg.h"

void mdg_request_free(struct mdg_request *req)
{
	X509_free(req->cert);
	CMS_ContentInfo_free(req->cms);
	free(req->der);
	memset(req, 0, sizeof(*req));
}

/* The ContentInfo parsed without its one certificate, which comes from the
 * cache (d2i_X509 on a miss) and is added back: the public key is decoded
 * once per distinct certificate, not per request. NULL if the shape is not
 * that (see mdg_der_split_cert) or anything fails: the caller then parses
 * the whole DER, so every error reads as it always did. key receives the
 * SHA-256 of the certificate's DER as received. */
static CMS_ContentInfo *parse_cached(const unsigned char *der, size_t len, struct mdg_certcache *cache,
				     unsigned char key[32])
{
	const unsigned char *cder = NULL, *p;
	unsigned char *rest = NULL;
	size_t cder_len = 0, rest_len = 0;
	CMS_ContentInfo *cms = NULL;
	X509 *x = NULL;

	if (mdg_der_split_cert(der, len, &cder, &cder_len, &rest, &rest_len) != 0)
		return NULL;
	SHA256(cder, cder_len, key);
	if ((x = mdg_certcache_get_x509(cache, key)) == NULL) {
		p = cder;
		if ((x = d2i_X509(NULL, &p, (long)cder_len)) == NULL || p != cder + cder_len)
			goto fail;
		mdg_certcache_put_x509(cache, key, x);
	}
	p = rest;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)rest_len);
	if (cms == NULL || p != rest + rest_len || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed ||
	    !CMS_add1_cert(cms, x))
		goto fail;
	X509_free(x);
	free(rest);
	return cms;
fail:
	ERR_clear_error();
	CMS_ContentInfo_free(cms);
	X509_free(x);
	free(rest);
	return NULL;
}

int mdg_request_parse(const unsigned char *body, size_t len, struct mdg_certcache *cache, struct mdg_request *req,
		      const char **why)
{
	STACK_OF(X509) *certs = NULL;
	STACK_OF(X509_CRL) *crls = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	ASN1_OCTET_STRING **content;
	const unsigned char *p;
	int rc = -1;

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
	if (mdg_der_check(req->der, req->der_len) != 0) {
		*why = "not DER (truncated, indefinite length, or trailing data)";
		goto out;
	}
	SHA256(req->der, req->der_len, req->der_sha256);
	int have_cert_sha256 = 1;
	if ((req->cms = parse_cached(req->der, req->der_len, cache, req->cert_sha256)) == NULL) {
		have_cert_sha256 = 0;
		p = req->der;
		req->cms = d2i_CMS_ContentInfo(NULL, &p, (long)req->der_len);
		if (req->cms == NULL || p != req->der + req->der_len) {
			*why = "not a CMS ContentInfo";
			goto out;
		}
	}
	if (OBJ_obj2nid(CMS_get0_type(req->cms)) != NID_pkcs7_signed) {
		*why = "CMS content is not SignedData";
		goto out;
	}
	/* eContentType id-data, no attribute or other certificates: RFC 5652
	 * 5.1 allows 1, or 3 when the signer is named by key identifier */
	int version;
	if (mdg_der_signeddata_version(req->der, req->der_len, &version) != 0 ||
	    (version != 1 && version != 3)) {
		*why = "SignedData version not 1 or 3";
		goto out;
	}
	if (OBJ_obj2nid(CMS_get0_eContentType(req->cms)) != NID_pkcs7_data) {
		*why = "eContentType is not id-data";
		goto out;
	}
	content = CMS_get0_content(req->cms);
	if (content == NULL || *content == NULL || CMS_is_detached(req->cms)) {
		*why = "content is detached";
		goto out;
	}
	sis = CMS_get0_SignerInfos(req->cms);
	if (sk_CMS_SignerInfo_num(sis) != 1) {
		*why = "not exactly one SignerInfo";
		goto out;
	}
	req->si = sk_CMS_SignerInfo_value(sis, 0);
	certs = CMS_get1_certs(req->cms);
	if (sk_X509_num(certs) != 1) {
		*why = "not exactly one certificate";
		goto out;
	}
	crls = CMS_get1_crls(req->cms);
	if (crls != NULL && sk_X509_CRL_num(crls) > 0) {
		*why = "CRLs in the request";
		goto out;
	}
	req->cert = sk_X509_value(certs, 0);
	X509_up_ref(req->cert);
	if (CMS_SignerInfo_cert_cmp(req->si, req->cert) != 0) {
		*why = "SignerInfo sid does not identify the certificate";
		goto out;
	}
	if (!have_cert_sha256) {
		unsigned char *cder = NULL;
		int clen = i2d_X509(req->cert, &cder);
		if (clen <= 0) {
			*why = "certificate does not encode";
			goto out;
		}
		SHA256(cder, (size_t)clen, req->cert_sha256);
		OPENSSL_free(cder);
	}
	req->content = ASN1_STRING_get0_data(*content);
	req->content_len = (size_t)ASN1_STRING_length(*content);
	if (mdg_form_parse(req->content, req->content_len, &req->form, why) != 0)
		goto out;
	rc = 0;
out:
	sk_X509_pop_free(certs, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	return rc;
}

static int check_ess(CMS_SignerInfo *si, X509 *cert)
{
	STACK_OF(X509) *chain = NULL;
	ESS_SIGNING_CERT *ss = NULL;
	ESS_SIGNING_CERT_V2 *ssv2 = NULL;
	ASN1_STRING *v;
	const unsigned char *p;
	int ok = 0;

	v = CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(NID_id_smime_aa_signingCertificate), -3, V_ASN1_SEQUENCE);
	if (v != NULL) {
		p = ASN1_STRING_get0_data(v);
		if ((ss = d2i_ESS_SIGNING_CERT(NULL, &p, ASN1_STRING_length(v))) == NULL)
			goto out;
	}
	v = CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(NID_id_smime_aa_signingCertificateV2), -3,
					V_ASN1_SEQUENCE);
	if (v != NULL) {
		p = ASN1_STRING_get0_data(v);
		if ((ssv2 = d2i_ESS_SIGNING_CERT_V2(NULL, &p, ASN1_STRING_length(v))) == NULL)
			goto out;
	}
	if (ss == NULL && ssv2 == NULL) {
		ok = 1;
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

int mdg_request_verify(struct mdg_request *req, const char **why)
{
	EVP_PKEY *pk = NULL;
	X509 *signer = NULL;
	X509_ALGOR *dig = NULL, *sig = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	CMS_SignerInfo_get0_algs(req->si, &pk, &signer, &dig, &sig);
	int md_nid = dig ? OBJ_obj2nid(dig->algorithm) : NID_undef;
	if (!mdg_digest_allowed(md_nid)) {
		*why = "digest algorithm not allowed";
		return -1;
	}
	if (!mdg_sigalg_allowed(sig, X509_get0_pubkey(req->cert), md_nid)) {
		*why = "signature algorithm not allowed";
		return -1;
	}
	if (CMS_signed_get_attr_count(req->si) <= 0) {
		*why = "no signed attributes";
		return -1;
	}
	ASN1_OBJECT *ctype = CMS_signed_get0_data_by_OBJ(req->si, OBJ_nid2obj(NID_pkcs9_contentType), -3,
							  V_ASN1_OBJECT);
	if (ctype == NULL || OBJ_obj2nid(ctype) != NID_pkcs7_data) {
		*why = "content-type attribute missing or not id-data";
		return -1;
	}
	ASN1_OCTET_STRING *digest = CMS_signed_get0_data_by_OBJ(req->si, OBJ_nid2obj(NID_pkcs9_messageDigest), -3,
								 V_ASN1_OCTET_STRING);
	if (digest == NULL ||
	    !EVP_Digest(req->content, req->content_len, md, &mdlen, EVP_get_digestbynid(md_nid), NULL) ||
	    (size_t)ASN1_STRING_length(digest) != mdlen || memcmp(ASN1_STRING_get0_data(digest), md, mdlen) != 0) {
		*why = "message digest does not match the content";
		return -1;
	}
	if (!check_ess(req->si, req->cert)) {
		*why = "ESS signing certificate does not match";
		return -1;
	}
	CMS_SignerInfo_set1_signer_cert(req->si, req->cert);
	if (CMS_SignerInfo_verify(req->si) != 1) {
		*why = "signature does not verify";
		return -1;
	}
	return 0;
}
