/* Stateless nonces: base64url(expiry(8, BE seconds) || random(16) ||
 * HMAC-SHA-256(key, expiry || random)). Any node holding the key accepts a
 * nonce until it expires. */
#ifndef MDG_NONCE_H
#define MDG_NONCE_H

#include <stddef.h>
#include <time.h>

#define MDG_NONCE_KEY_LEN 32
#define MDG_NONCE_RAW_LEN (8 + 16 + 32)
#define MDG_NONCE_TEXT_LEN 76 /* base64url of 56 bytes (75 chars) + NUL */

struct mdg_nonce_key {
	unsigned char key[MDG_NONCE_KEY_LEN];
};

/* Loads the key file; creates it (mode 0600, 32 random bytes) if missing,
 * setting *created. Refuses a file readable by group or others or of the
 * wrong size. Returns 0, or -1 with a message in err. */
int mdg_nonce_key_load(struct mdg_nonce_key *k, const char *path, int *created, char *err, size_t errlen);

/* --check-config: checks the key file as mdg_nonce_key_load would, but
 * creates nothing: a missing file whose directory would take it sets
 * *missing (the start would create it). Returns 0, or -1 with the message
 * the start would give. */
int mdg_nonce_key_check(const char *path, int *missing, char *err, size_t errlen);

/* Issues a nonce valid until now + ttl. Returns 0 or -1 (no randomness). */
int mdg_nonce_issue(const struct mdg_nonce_key *k, time_t now, long ttl, char out[MDG_NONCE_TEXT_LEN], time_t *expires);

/* 1 if the text is a nonce made with this key and unexpired at now, else 0.
 * Constant time in the MAC comparison. */
int mdg_nonce_check(const struct mdg_nonce_key *k, const char *text, time_t now);

#endif
