/* The acceptance log's hash chain (DESIGN.md "Store"):
 * hash = SHA-256("madoguchi-acceptance-v1" || prev_hash || seq (8 bytes BE)
 *        || for each of receipt id, issuer DER, serial bytes, accepted at,
 *           reason, request SHA-256: length (4 bytes BE) || bytes).
 * The serial bytes are the big-endian magnitude without leading zeros. */
#ifndef MDG_CHAIN_H
#define MDG_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#define MDG_HASH_LEN 32

struct mdg_chain_row {
	int64_t seq;
	const char *receipt_id;
	const unsigned char *issuer_der;
	size_t issuer_len;
	const unsigned char *serial;
	size_t serial_len;
	const char *accepted_at;
	const char *reason;
	const unsigned char *request_sha256; /* 32 bytes */
};

/* Returns 0, or -1 if the digest could not be computed. */
int mdg_chain_hash(const unsigned char prev[MDG_HASH_LEN], const struct mdg_chain_row *row,
		   unsigned char out[MDG_HASH_LEN]);

#endif
