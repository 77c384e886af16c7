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

/* A big-endian magnitude (cRLNumber) in decimal; "?" if it cannot be shown. */
void mdg_number_decimal(const unsigned char *n, size_t len, char *out, size_t outlen);

#endif
