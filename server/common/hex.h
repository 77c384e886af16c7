/* Bytes as lowercase hex: the one encoder (serials, receipt ids, request
 * ids, digests, fingerprints). */
#ifndef MDG_HEX_H
#define MDG_HEX_H

#include <stddef.h>

/* Writes the 2n lowercase hex digits of b[0..n) and a NUL: out holds 2n + 1. */
void mdg_hex_lower(const unsigned char *b, size_t n, char *out);

#endif
