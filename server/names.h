/* Distinguished names as text: RFC 4514 order (most specific RDN first),
 * UTF-8 left unescaped, as every answer, log line and admin output shows
 * them. "(unprintable name)" when a name cannot be printed. */
#ifndef MDG_NAMES_H
#define MDG_NAMES_H

#include <stddef.h>
#include <openssl/x509.h>

void mdg_name_rfc4514(const X509_NAME *name, char *out, size_t outlen);

/* The same for a name given as DER. */
void mdg_der_name_rfc4514(const unsigned char *der, size_t len, char *out, size_t outlen);

#endif
