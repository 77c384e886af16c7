/* Names and numbers as every answer and admin output shows them.
 * Distinguished names: RFC 4514 order (most specific RDN first), UTF-8 left
 * unescaped; "(unprintable name)" when a name cannot be printed. */
#ifndef MDG_NAMES_H
#define MDG_NAMES_H

#include <stddef.h>
#include <openssl/x509.h>

void mdg_name_rfc4514(const X509_NAME *name, char *out, size_t outlen);

/* The same for a name given as DER. */
void mdg_der_name_rfc4514(const unsigned char *der, size_t len, char *out, size_t outlen);

/* The canonical form of a name, as RFC 5280 7.1 compares names: the name
 * rebuilt RDN by RDN with every string value (UTF8, BMP, Universal,
 * Printable, T61, IA5, Visible) as a UTF8String, ASCII letters lowercased,
 * leading and trailing white space removed and inner runs of it made one
 * space; other values as they are. Its DER less the outer SEQUENCE header
 * is OpenSSL's canonical encoding, so two names are X509_NAME_cmp-equal
 * exactly when their canonical DERs are equal bytes: a key for storing and
 * looking up names (CRL distribution points). *der is OPENSSL_malloc'ed,
 * owned by the caller. 0, or -1 (*der NULL) if the name does not encode. */
int mdg_name_canon_der(const X509_NAME *name, unsigned char **der, size_t *len);

/* The same for a name given as DER. */
int mdg_der_name_canon(const unsigned char *in, size_t inlen, unsigned char **der, size_t *len);

/* A big-endian magnitude (cRLNumber) in decimal; "?" if it cannot be shown. */
void mdg_number_decimal(const unsigned char *n, size_t len, char *out, size_t outlen);

/* Does the operator's text name the DER Name? Compared with the RFC 4514
 * text in either RDN order, ASCII case-insensitively, ignoring spaces
 * around ',', '+' and '='. */
int mdg_name_text_match(const unsigned char *der, size_t len, const char *text);

#endif
