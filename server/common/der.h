/* Strict DER structure check, run before any parser sees a request: definite
 * lengths only, minimal length encoding, every constructed value exactly
 * filled by its children, bounded nesting, one value spanning the input. */
#ifndef MDG_DER_H
#define MDG_DER_H

#include <stddef.h>

#define MDG_DER_MAX_DEPTH 48

/* Returns 0 if buf is exactly one well-formed DER TLV tree, else -1. */
int mdg_der_check(const unsigned char *buf, size_t len);

/* One TLV at the start of buf[0..len) with a single-byte tag and a definite,
 * minimal length that fits: returns 0 with *tag, the contents *val /
 * *val_len and the whole TLV's size *tlv_len, or -1. */
int mdg_der_next(const unsigned char *buf, size_t len, unsigned char *tag, const unsigned char **val, size_t *val_len,
		 size_t *tlv_len);

/* For a CertificateList (RFC 5280 5.1) already accepted by mdg_der_check:
 * returns 0 with *tbs / *tbs_len the tbsCertList TLV and *revoked /
 * *revoked_len the contents of revokedCertificates (both pointing into buf;
 * NULL / 0 if the field is absent), and *rest / *rest_len a new DER of the
 * CertificateList without revokedCertificates (malloc'd, caller frees).
 * Returns 1 for any other shape, -1 if out of memory. */
int mdg_der_split_crl(const unsigned char *buf, size_t len, const unsigned char **tbs, size_t *tbs_len,
		      const unsigned char **revoked, size_t *revoked_len, unsigned char **rest, size_t *rest_len);

/* Decodes PEM "-----BEGIN CMS-----" (or PKCS7) armour; returns a malloc'd
 * DER buffer in *der (caller frees) or -1. */
int mdg_pem_cms_decode(const unsigned char *buf, size_t len, unsigned char **der, size_t *der_len);

/* 1 if buf starts (after whitespace) with "-----BEGIN ". */
int mdg_looks_like_pem(const unsigned char *buf, size_t len);

#endif
