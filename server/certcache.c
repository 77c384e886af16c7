#include "certcache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS 64

/* Each shard is a direct-mapped table: a new entry replaces the old one in
 * its slot. The key is a cryptographic hash, so its bytes index well. */
struct slot {
	unsigned char key[32];
	size_t anchor;
	int used;
};

struct shard {
	pthread_mutex_t lock;
	struct slot *slots;
	size_t n;
};

struct mdg_certcache {
	struct shard shards[SHARDS];
};

struct mdg_certcache *mdg_certcache_new(size_t capacity)
{
	struct mdg_certcache *c = calloc(1, sizeof(*c));
	size_t per = capacity / SHARDS + 1;

	if (c == NULL)
		return NULL;
	for (size_t i = 0; i < SHARDS; i++) {
		pthread_mutex_init(&c->shards[i].lock, NULL);
		c->shards[i].n = per;
		if ((c->shards[i].slots = calloc(per, sizeof(struct slot))) == NULL) {
			mdg_certcache_free(c);
			return NULL;
		}
	}
	return c;
}

void mdg_certcache_free(struct mdg_certcache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < SHARDS; i++) {
		free(c->shards[i].slots);
		pthread_mutex_destroy(&c->shards[i].lock);
	}
	free(c);
}

static struct slot *locate(struct mdg_certcache *c, const unsigned char *key, struct shard **sh)
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	*sh = &c->shards[h % SHARDS];
	return &(*sh)->slots[(h / SHARDS) % (*sh)->n];
}

int mdg_certcache_get(struct mdg_certcache *c, const unsigned char sha256[32], size_t *anchor)
{
	struct shard *sh;
	int hit = 0;

	if (c == NULL)
		return 0;
	struct slot *s = locate(c, sha256, &sh);
	pthread_mutex_lock(&sh->lock);
	if (s->used && memcmp(s->key, sha256, 32) == 0) {
		*anchor = s->anchor;
		hit = 1;
	}
	pthread_mutex_unlock(&sh->lock);
	return hit;
}

void mdg_certcache_put(struct mdg_certcache *c, const unsigned char sha256[32], size_t anchor)
{
	struct shard *sh;

	if (c == NULL)
		return;
	struct slot *s = locate(c, sha256, &sh);
	pthread_mutex_lock(&sh->lock);
	memcpy(s->key, sha256, 32);
	s->anchor = anchor;
	s->used = 1;
	pthread_mutex_unlock(&sh->lock);
}
