/* The strict SignedData walker of DESIGN.md step 2: the one shape of a
 * request, checked on the project's DER walker (der.h) before anything
 * else reads the bytes, and its pieces recorded for the verifier (step 5).
 *
 *   ContentInfo { id-signedData, [0] EXPLICIT SignedData }
 *   SignedData { version 1|3 (= the SignerInfo's), digestAlgorithms SET of
 *                1..8 AlgorithmIdentifiers (parameters absent or NULL),
 *                encapContentInfo { id-data, [0] EXPLICIT OCTET STRING },
 *                certificates [0] holding exactly one Certificate,
 *                (no crls), signerInfos SET of exactly one SignerInfo }
 *   SignerInfo { version 1 + issuerAndSerialNumber | 3 + [0] keyid,
 *                digestAlgorithm (among digestAlgorithms, by OID),
 *                signedAttrs [0] (1..16) OPTIONAL, signatureAlgorithm,
 *                signature, unsignedAttrs [1] (1..16) OPTIONAL }
 *
 * Every SET in DER order (X.690 11.6), attribute values and algorithm
 * parameters in the forms DER gives them (those a re-encoding by OpenSSL
 * keeps byte for byte), nothing trailing anywhere. */
#ifndef MDG_CMS_H
#define MDG_CMS_H

#include <stddef.h>

#define MDG_CMS_MAX_DIGEST_ALGS 8
#define MDG_CMS_MAX_ATTRS 16

/* Pieces of a parsed request; every pointer points into the parsed DER. */
struct mdg_cms {
	int version;                  /* SignedData's = SignerInfo's: 1 or 3 */
	const unsigned char *content; /* eContent's octets (the form) */
	size_t content_len;
	const unsigned char *cert; /* the one Certificate, TLV */
	size_t cert_len;
	/* sid: version 1 */
	const unsigned char *sid_issuer; /* Name TLV */
	size_t sid_issuer_len;
	const unsigned char *sid_serial; /* INTEGER TLV */
	size_t sid_serial_len;
	/* sid: version 3 */
	const unsigned char *sid_keyid; /* subjectKeyIdentifier octets */
	size_t sid_keyid_len;
	const unsigned char *digest_alg; /* the signer's AlgorithmIdentifier, TLV */
	size_t digest_alg_len;
	const unsigned char *signed_attrs; /* [0] IMPLICIT SET TLV; NULL if absent */
	size_t signed_attrs_len;
	const unsigned char *unsigned_attrs; /* [1] IMPLICIT SET TLV; NULL if absent */
	size_t unsigned_attrs_len;
	const unsigned char *sig_alg; /* signatureAlgorithm TLV */
	size_t sig_alg_len;
	const unsigned char *sig; /* signature octets */
	size_t sig_len;
};

/* One attribute of an attribute set the walker accepted. */
struct mdg_cms_attr {
	const unsigned char *oid; /* attrType's content octets */
	size_t oid_len;
	const unsigned char *values; /* attrValues' contents: value TLVs */
	size_t values_len;
	size_t n_values;
};

/* Walks der (already accepted by mdg_der_check). Returns 0 with *out
 * filled, or -1 with a short reason in *why. */
int mdg_cms_parse(const unsigned char *der, size_t len, struct mdg_cms *out, const char **why);

/* Iterates an attribute set (signed_attrs / unsigned_attrs TLV) accepted
 * by mdg_cms_parse: *pos starts at 0; returns 1 with *a, 0 at the end. */
int mdg_cms_attr_next(const unsigned char *attrs, size_t attrs_len, size_t *pos, struct mdg_cms_attr *a);

/* 1 if the OID content octets equal oid / oid_len. */
int mdg_cms_oid_is(const unsigned char *v, size_t len, const unsigned char *oid, size_t oid_len);

/* DER content octets of the OIDs the request path names. */
extern const unsigned char mdg_oid_data[9];        /* 1.2.840.113549.1.7.1 */
extern const unsigned char mdg_oid_signed_data[9]; /* 1.2.840.113549.1.7.2 */

#endif
