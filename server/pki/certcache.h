/* A bounded cache of certificates keyed by the SHA-256 of their DER. An
 * entry remembers the parsed X509 (so a request's certificate is decoded
 * once) with what the caller derived from it, and, once its CA signature
 * verified, which anchor verified it.
 * Sharded, one small lock per shard: no global lock on the hot path. */
#ifndef MDG_CERTCACHE_H
#define MDG_CERTCACHE_H

#include <stddef.h>

#include <openssl/x509.h>

/* Parsed certificates held at most by mdg_certcache_new (a parsed
 * RSA-2048 certificate is a few KiB of heap). */
#define MDG_CERTCACHE_PARSED_DEFAULT 4096

struct mdg_certcache;

/* capacity: entries in all; parsed: of them, how many may hold an X509
 * (both rounded up to the shards). NULL on no memory. */
struct mdg_certcache *mdg_certcache_new_limits(size_t capacity, size_t parsed);
/* mdg_certcache_new_limits(capacity, min(capacity, MDG_CERTCACHE_PARSED_DEFAULT)). */
struct mdg_certcache *mdg_certcache_new(size_t capacity);
/* Frees every cached X509 reference too. */
void mdg_certcache_free(struct mdg_certcache *c);

/* 1 and *anchor set if the certificate's CA signature is known verified, else 0. */
int mdg_certcache_get(struct mdg_certcache *c, const unsigned char sha256[32], size_t *anchor);
void mdg_certcache_put(struct mdg_certcache *c, const unsigned char sha256[32], size_t anchor);

/* A new reference to the cached X509 (caller frees), or NULL. */
X509 *mdg_certcache_get_x509(struct mdg_certcache *c, const unsigned char sha256[32]);
/* Keeps a reference to x, parsed from DER whose SHA-256 is sha256, if that
 * key was offered before (the first offer only marks it seen). */
void mdg_certcache_put_x509(struct mdg_certcache *c, const unsigned char sha256[32], X509 *x);

/* What the caller derived from the certificate alone (len bytes, opaque
 * here), kept as a copy beside the cached X509 and dropped with it; a no-op
 * if no X509 is held for sha256 or a copy already is. */
void mdg_certcache_put_info(struct mdg_certcache *c, const unsigned char sha256[32], const void *info, size_t len);
/* 1 with the copy in info if one of exactly len bytes is held, else 0. */
int mdg_certcache_get_info(struct mdg_certcache *c, const unsigned char sha256[32], void *info, size_t len);

#endif
