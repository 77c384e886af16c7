/* Base64 as RFC 4648 section 4 writes it (standard alphabet, padded, no
 * line breaks): checkpoints, signed notes, verifier keys, receipts. */
#ifndef MDG_B64_H
#define MDG_B64_H

#include <stddef.h>

/* Characters of the encoding of n bytes, without the NUL. */
#define MDG_B64_LEN(n) (((n) + 2) / 3 * 4)

/* Writes the encoding of in[0..n) and a NUL to out, which holds
 * MDG_B64_LEN(n) + 1 bytes. Returns the length written. */
size_t mdg_b64_encode(const unsigned char *in, size_t n, char *out);

/* Decodes exactly in[0..n) strictly: a multiple of 4 characters of the
 * standard alphabet, '=' only as the last one or two, unused bits zero (one
 * encoding per byte string). 0 with *outlen, or -1 if malformed or longer
 * than max. */
int mdg_b64_decode(const char *in, size_t n, unsigned char *out, size_t max, size_t *outlen);

#endif
