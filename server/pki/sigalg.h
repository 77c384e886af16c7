/* The signature algorithm allow-list of DESIGN.md: digests SHA-256/384/512;
 * RSA PKCS#1 v1.5, RSA-PSS with hash = MGF1 hash = digest and trailer field
 * 1 (salt: in a SignerInfo any length the key admits, in a certificate's
 * signature the hash length), ECDSA on P-256/P-384; RSA keys of 2048-4096
 * bits. */
#ifndef MDG_SIGALG_H
#define MDG_SIGALG_H

#include <openssl/evp.h>
#include <openssl/x509.h>

/* 1 if the digest NID is SHA-256, SHA-384 or SHA-512. */
int mdg_digest_allowed(int md_nid);

/* 1 if the public key is RSA 2048..4096 bits or EC on P-256/P-384. */
int mdg_key_allowed(const EVP_PKEY *key);

/* 1 if the signature algorithm identifier, used with a key, is allowed and
 * consistent with md_nid (the digest the signature is over; for a
 * certificate pass NID_undef: the digest comes from the identifier). */
int mdg_sigalg_allowed(const X509_ALGOR *alg, const EVP_PKEY *key, int md_nid);

/* 1 if a signed object's outer signatureAlgorithm and the signature field
 * inside its signed part are the same identifier (RFC 5280 4.1.1.2 for
 * certificates, 5.1.1.2 for CRLs). Checked here, by us, before any
 * signature is verified: whether X509_verify / X509_CRL_verify compare them
 * has varied between OpenSSL 3.0.x patch releases. */
int mdg_sigalg_same(const X509_ALGOR *outer, const X509_ALGOR *inner);

/* For an RSASSA-PSS identifier: 1 with *salt_len from its parameters (to
 * verify with exactly that length), -1 if they do not decode; 0 if alg is
 * not RSASSA-PSS. Use after mdg_sigalg_allowed accepted alg. */
int mdg_sigalg_pss_salt(const X509_ALGOR *alg, int *salt_len);

#endif
