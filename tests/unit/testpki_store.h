/* Small in-process PKI for the anchors / CRL / store unit tests: CA
 * certificates and CRLs built with OpenSSL, with knobs to break each rule
 * of DESIGN.md "CRLs". Header-only (static inline) so each test file stays
 * one translation unit. */
#ifndef TESTPKI_STORE_H
#define TESTPKI_STORE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define TP_DAY (24L * 3600)

struct tp_ca {
	X509 *cert;
	EVP_PKEY *key;
};

static inline EVP_PKEY *tp_key(void)
{
	return EVP_EC_gen("P-256");
}

static inline X509_NAME *tp_name(const char *ou)
{
	X509_NAME *n = X509_NAME_new();

	X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"JP", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)"JPKI", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8, (const unsigned char *)ou, -1, -1, 0);
	return n;
}

static inline void tp_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (e != NULL) {
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
}

/* A self-signed certificate named ou, valid now+nb .. now+na seconds. */
static inline void tp_ca_make(struct tp_ca *ca, const char *ou, long nb, long na, int is_ca, long serial)
{
	X509_NAME *n = tp_name(ou);

	ca->key = tp_key();
	ca->cert = X509_new();
	X509_set_version(ca->cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(ca->cert), serial);
	X509_set_subject_name(ca->cert, n);
	X509_set_issuer_name(ca->cert, n);
	X509_gmtime_adj(X509_getm_notBefore(ca->cert), nb);
	X509_gmtime_adj(X509_getm_notAfter(ca->cert), na);
	X509_set_pubkey(ca->cert, ca->key);
	tp_ext(ca->cert, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	tp_ext(ca->cert, NID_key_usage, is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
	tp_ext(ca->cert, NID_subject_key_identifier, "hash");
	X509_sign(ca->cert, ca->key, EVP_sha256());
	X509_NAME_free(n);
}

static inline void tp_ca_free(struct tp_ca *ca)
{
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	memset(ca, 0, sizeof(*ca));
}

/* Appends the certificate's PEM to buf (malloc'd, NUL-terminated). */
static inline char *tp_pem_append(char *buf, X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;
	size_t old = buf != NULL ? strlen(buf) : 0;

	PEM_write_bio_X509(b, x);
	n = BIO_get_mem_data(b, &p);
	buf = realloc(buf, old + (size_t)n + 1);
	memcpy(buf + old, p, (size_t)n);
	buf[old + (size_t)n] = '\0';
	BIO_free(b);
	return buf;
}

static inline int tp_write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		return -1;
	if (fwrite(p, 1, n, f) != n) {
		fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

struct tp_entry {
	long serial;
	int reason;       /* -1: none */
	int cert_issuer;  /* add a certificateIssuer extension */
	int unknown_crit; /* add an unknown critical extension */
};

struct tp_crl_opts {
	int v1;
	long number;      /* -1: no cRLNumber */
	long this_update; /* offset from now */
	long next_update; /* offset from now; 0: none */
	const char *dp;   /* IDP directoryName OU=<dp> (NULL: no IDP) */
	int dp_two_names;
	int dp_uri; /* the IDP names a URI instead */
	int only_user, only_ca, only_attr, indirect, some_reasons;
	int delta;
	int unknown_crit, unknown_noncrit;
	int aki; /* add the signer's key identifier */
	const struct tp_entry *entries;
	size_t n_entries;
	const X509_NAME *issuer; /* default: the signer's subject */
};

static inline void tp_unknown_ext(X509_EXTENSION **out, int crit)
{
	ASN1_OBJECT *o = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	static const unsigned char null_der[2] = { 0x05, 0x00 };

	ASN1_OCTET_STRING_set(os, null_der, 2);
	*out = X509_EXTENSION_create_by_OBJ(NULL, o, crit, os);
	ASN1_OBJECT_free(o);
	ASN1_OCTET_STRING_free(os);
}

static inline X509_CRL *tp_crl(const struct tp_ca *signer, const struct tp_crl_opts *o)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	ASN1_INTEGER *ai;
	X509_EXTENSION *ext;
	size_t i;

	if (!o->v1)
		X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, o->issuer != NULL ? o->issuer : X509_get_subject_name(signer->cert));
	X509_gmtime_adj(t, o->this_update);
	X509_CRL_set1_lastUpdate(crl, t);
	if (o->next_update != 0) {
		X509_gmtime_adj(t, o->next_update);
		X509_CRL_set1_nextUpdate(crl, t);
	}
	for (i = 0; i < o->n_entries; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		const struct tp_entry *e = &o->entries[i];

		ai = ASN1_INTEGER_new();
		ASN1_INTEGER_set(ai, e->serial);
		X509_REVOKED_set_serialNumber(r, ai);
		ASN1_INTEGER_free(ai);
		X509_gmtime_adj(t, -3600);
		X509_REVOKED_set_revocationDate(r, t);
		if (e->reason >= 0) {
			ASN1_ENUMERATED *en = ASN1_ENUMERATED_new();

			ASN1_ENUMERATED_set(en, e->reason);
			X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, en, 0, 0);
			ASN1_ENUMERATED_free(en);
		}
		if (e->cert_issuer) {
			GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
			GENERAL_NAME *gn = GENERAL_NAME_new();

			gn->type = GEN_DIRNAME;
			gn->d.directoryName = tp_name("Other CA");
			sk_GENERAL_NAME_push(gens, gn);
			X509_REVOKED_add1_ext_i2d(r, NID_certificate_issuer, gens, 1, 0);
			GENERAL_NAMES_free(gens);
		}
		if (e->unknown_crit) {
			tp_unknown_ext(&ext, 1);
			X509_REVOKED_add_ext(r, ext, -1);
			X509_EXTENSION_free(ext);
		}
		X509_CRL_add0_revoked(crl, r);
	}
	if (o->number >= 0) {
		ai = ASN1_INTEGER_new();
		ASN1_INTEGER_set(ai, o->number);
		X509_CRL_add1_ext_i2d(crl, NID_crl_number, ai, 0, 0);
		ASN1_INTEGER_free(ai);
	}
	if (o->delta) {
		ai = ASN1_INTEGER_new();
		ASN1_INTEGER_set(ai, 1);
		X509_CRL_add1_ext_i2d(crl, NID_delta_crl, ai, 1, 0);
		ASN1_INTEGER_free(ai);
	}
	if (o->aki) {
		AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();

		akid->keyid = ASN1_OCTET_STRING_dup(X509_get0_subject_key_id(signer->cert));
		X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, 0);
		AUTHORITY_KEYID_free(akid);
	}
	if (o->dp != NULL || o->only_user || o->only_ca || o->only_attr || o->indirect || o->some_reasons) {
		ISSUING_DIST_POINT *idp = ISSUING_DIST_POINT_new();

		if (o->dp != NULL) {
			GENERAL_NAME *gn = GENERAL_NAME_new();

			idp->distpoint = DIST_POINT_NAME_new();
			idp->distpoint->type = 0;
			idp->distpoint->name.fullname = sk_GENERAL_NAME_new_null();
			if (o->dp_uri) {
				ASN1_IA5STRING *s = ASN1_IA5STRING_new();

				ASN1_STRING_set(s, "http://example.jp/crl", -1);
				GENERAL_NAME_set0_value(gn, GEN_URI, s);
			} else {
				gn->type = GEN_DIRNAME;
				gn->d.directoryName = tp_name(o->dp);
			}
			sk_GENERAL_NAME_push(idp->distpoint->name.fullname, gn);
			if (o->dp_two_names) {
				gn = GENERAL_NAME_new();
				gn->type = GEN_DIRNAME;
				gn->d.directoryName = tp_name("second");
				sk_GENERAL_NAME_push(idp->distpoint->name.fullname, gn);
			}
		}
		idp->onlyuser = o->only_user ? 0xff : 0;
		idp->onlyCA = o->only_ca ? 0xff : 0;
		idp->onlyattr = o->only_attr ? 0xff : 0;
		idp->indirectCRL = o->indirect ? 0xff : 0;
		if (o->some_reasons) {
			idp->onlysomereasons = ASN1_BIT_STRING_new();
			ASN1_BIT_STRING_set_bit(idp->onlysomereasons, 1, 1);
		}
		X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, 0);
		ISSUING_DIST_POINT_free(idp);
	}
	if (o->unknown_crit || o->unknown_noncrit) {
		tp_unknown_ext(&ext, o->unknown_crit);
		X509_CRL_add_ext(crl, ext, -1);
		X509_EXTENSION_free(ext);
	}
	X509_CRL_sign(crl, signer->key, EVP_sha256());
	ASN1_TIME_free(t);
	return crl;
}

/* DER of crl, malloc'd (OPENSSL_free). */
static inline unsigned char *tp_crl_der(X509_CRL *crl, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_X509_CRL(crl, &der);

	*len = n > 0 ? (size_t)n : 0;
	return der;
}

#endif
