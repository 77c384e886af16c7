/* A bounded cache of certificates whose CA signature verified, keyed by the
 * SHA-256 of the certificate's DER and remembering which anchor verified it.
 * Sharded, one small lock per shard: no global lock on the hot path. */
#ifndef MDG_CERTCACHE_H
#define MDG_CERTCACHE_H

#include <stddef.h>

struct mdg_certcache;

/* capacity: entries in all (rounded up to the shards). NULL on no memory. */
struct mdg_certcache *mdg_certcache_new(size_t capacity);
void mdg_certcache_free(struct mdg_certcache *c);

/* 1 and *anchor set if the certificate is cached, else 0. */
int mdg_certcache_get(struct mdg_certcache *c, const unsigned char sha256[32], size_t *anchor);
void mdg_certcache_put(struct mdg_certcache *c, const unsigned char sha256[32], size_t anchor);

#endif
