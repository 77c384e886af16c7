/* The strict OpenSSL reference parse of a request, for the differential
 * tests (tests/unit/test_request.c, tests/fuzz/fuzz_request.c): whatever
 * madoguchi's own path (cms.c, request.c) accepts, this must accept with
 * the same certificate, content and signer. Where OpenSSL is more lenient
 * than the contract it may accept what we refuse, never the other way.
 * Header-only (static) so each test stays one translation unit. */
#ifndef MDG_CMSREF_H
#define MDG_CMSREF_H

#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509.h>

/* 1 if OpenSSL reads der whole (no trailing bytes) as a CMS with exactly one
 * certificate, equal to cert, whose one signer verifies (CMS_verify with
 * CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY, cert supplied) as cert, over
 * exactly content / content_len. */
static int cmsref_accepts(const unsigned char *der, size_t len, X509 *cert, const unsigned char *content,
			  size_t content_len)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	STACK_OF(X509) *certs = NULL, *supplied = NULL, *signers = NULL;
	BIO *out = NULL;
	ASN1_OCTET_STRING **pos;
	char *data = NULL;
	long data_len;
	int ok = 0;

	if (cms == NULL || p != der + len || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed)
		goto out;
	certs = CMS_get1_certs(cms);
	if (sk_X509_num(certs) != 1 || X509_cmp(sk_X509_value(certs, 0), cert) != 0)
		goto out;
	if (sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms)) != 1)
		goto out;
	pos = CMS_get0_content(cms);
	if (pos == NULL || *pos == NULL || (size_t)ASN1_STRING_length(*pos) != content_len ||
	    memcmp(ASN1_STRING_get0_data(*pos), content, content_len) != 0)
		goto out;
	if ((supplied = sk_X509_new_null()) == NULL || !sk_X509_push(supplied, cert) ||
	    (out = BIO_new(BIO_s_mem())) == NULL)
		goto out;
	if (CMS_verify(cms, supplied, NULL, NULL, out, CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1)
		goto out;
	data_len = BIO_get_mem_data(out, &data);
	if (data_len < 0 || (size_t)data_len != content_len || memcmp(data, content, content_len) != 0)
		goto out;
	signers = CMS_get0_signers(cms);
	ok = sk_X509_num(signers) == 1 && X509_cmp(sk_X509_value(signers, 0), cert) == 0;
out:
	sk_X509_free(signers);
	sk_X509_free(supplied);
	sk_X509_pop_free(certs, X509_free);
	BIO_free(out);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return ok;
}

#endif
