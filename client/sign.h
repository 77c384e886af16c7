/* The signed request exactly as the window expects it (DESIGN.md "The
 * signed request"): CMS SignedData in DER, the form encapsulated as id-data,
 * one signer, one certificate, signed attributes, SHA-256. With an RSA key
 * on a token (libp11) OpenSSL builds the DigestInfo and the token signs it
 * with CKM_RSA_PKCS, as the card does. */
#ifndef MDG_CLIENT_SIGN_H
#define MDG_CLIENT_SIGN_H

#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* Returns 0 with the DER in *der (caller frees with OPENSSL_free), or -1
 * (OpenSSL's error queue says why: the caller classifies it). */
int mdg_sign_form(X509 *cert, EVP_PKEY *key, const char *form, size_t form_len, unsigned char **der, size_t *der_len);

#endif
