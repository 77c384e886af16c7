#include "certcache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS 64
#define WAYS 8

/* Each shard is a set-associative table: a key's set is WAYS entries, and a
 * new key replaces the least recently used entry of its set. The parsed
 * X509s, the costly part, have their own budget per shard: when it is full
 * a clock hand sweeps the shard and drops the X509 of the first entry not
 * used since its last pass (the entry keeps its verified anchor). An X509
 * is kept only for a key offered before: most certificates come once, and
 * keeping those would cost memory and time for nothing. The key is a
 * cryptographic hash, so its bytes index well. */
struct entry {
	unsigned char key[32];
	X509 *x;    /* owned reference or NULL */
	void *info; /* owned, only while x is held */
	size_t info_len;
	size_t anchor;
	uint64_t last; /* shard tick of the last use */
	unsigned char used, verified, ref, seen;
};

struct shard {
	pthread_mutex_t lock;
	struct entry *e;
	size_t sets; /* entries: sets * WAYS */
	uint64_t tick;
	size_t nx, max_x; /* X509s held, and at most */
	size_t hand;
};

struct mdg_certcache {
	struct shard shards[SHARDS];
};

struct mdg_certcache *mdg_certcache_new_limits(size_t capacity, size_t parsed)
{
	struct mdg_certcache *c = calloc(1, sizeof(*c));
	size_t sets = (capacity / SHARDS + WAYS) / WAYS;
	size_t max_x = parsed == 0 ? 0 : (parsed + SHARDS - 1) / SHARDS;

	if (c == NULL)
		return NULL;
	for (size_t i = 0; i < SHARDS; i++) {
		pthread_mutex_init(&c->shards[i].lock, NULL);
		c->shards[i].sets = sets;
		c->shards[i].max_x = max_x;
		if ((c->shards[i].e = calloc(sets * WAYS, sizeof(struct entry))) == NULL) {
			mdg_certcache_free(c);
			return NULL;
		}
	}
	return c;
}

struct mdg_certcache *mdg_certcache_new(size_t capacity)
{
	return mdg_certcache_new_limits(
		capacity, capacity < MDG_CERTCACHE_PARSED_DEFAULT ? capacity : MDG_CERTCACHE_PARSED_DEFAULT);
}

void mdg_certcache_free(struct mdg_certcache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < SHARDS; i++) {
		struct shard *sh = &c->shards[i];
		if (sh->e != NULL)
			for (size_t k = 0; k < sh->sets * WAYS; k++) {
				X509_free(sh->e[k].x);
				free(sh->e[k].info);
			}
		free(sh->e);
		pthread_mutex_destroy(&sh->lock);
	}
	free(c);
}

static struct shard *shard_of(struct mdg_certcache *c, const unsigned char *key, struct entry **set)
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	struct shard *sh = &c->shards[h % SHARDS];
	*set = &sh->e[(h / SHARDS) % sh->sets * WAYS];
	return sh;
}

static struct entry *find(struct entry *set, const unsigned char *key)
{
	for (size_t w = 0; w < WAYS; w++)
		if (set[w].used && memcmp(set[w].key, key, 32) == 0)
			return &set[w];
	return NULL;
}

static void drop_x509(struct shard *sh, struct entry *e)
{
	X509_free(e->x);
	e->x = NULL;
	free(e->info);
	e->info = NULL;
	e->info_len = 0;
	sh->nx--;
	if (!e->verified)
		e->used = 0;
}

/* The entry for key, made (evicting its set's least recently used) if absent. */
static struct entry *find_or_make(struct shard *sh, struct entry *set, const unsigned char *key)
{
	struct entry *e = find(set, key), *victim = &set[0];

	if (e != NULL)
		return e;
	for (size_t w = 0; w < WAYS; w++) {
		if (!set[w].used) {
			victim = &set[w];
			break;
		}
		if (set[w].last < victim->last)
			victim = &set[w];
	}
	if (victim->used && victim->x != NULL)
		drop_x509(sh, victim);
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->key, key, 32);
	victim->used = 1;
	return victim;
}

/* Makes room for one more X509 in the shard (clock, second chance). */
static void make_room(struct shard *sh)
{
	size_t n = sh->sets * WAYS;

	for (size_t steps = 0; sh->nx >= sh->max_x && steps < 2 * n; steps++) {
		struct entry *e = &sh->e[sh->hand];
		sh->hand = (sh->hand + 1) % n;
		if (!e->used || e->x == NULL)
			continue;
		if (e->ref)
			e->ref = 0;
		else
			drop_x509(sh, e);
	}
}

int mdg_certcache_get(struct mdg_certcache *c, const unsigned char sha256[32], size_t *anchor)
{
	struct entry *set, *e;
	int hit = 0;

	if (c == NULL)
		return 0;
	struct shard *sh = shard_of(c, sha256, &set);
	pthread_mutex_lock(&sh->lock);
	if ((e = find(set, sha256)) != NULL && e->verified) {
		*anchor = e->anchor;
		e->last = ++sh->tick;
		hit = 1;
	}
	pthread_mutex_unlock(&sh->lock);
	return hit;
}

void mdg_certcache_put(struct mdg_certcache *c, const unsigned char sha256[32], size_t anchor)
{
	struct entry *set;

	if (c == NULL)
		return;
	struct shard *sh = shard_of(c, sha256, &set);
	pthread_mutex_lock(&sh->lock);
	struct entry *e = find_or_make(sh, set, sha256);
	e->anchor = anchor;
	e->verified = 1;
	e->last = ++sh->tick;
	pthread_mutex_unlock(&sh->lock);
}

X509 *mdg_certcache_get_x509(struct mdg_certcache *c, const unsigned char sha256[32])
{
	struct entry *set, *e;
	X509 *x = NULL;

	if (c == NULL)
		return NULL;
	struct shard *sh = shard_of(c, sha256, &set);
	pthread_mutex_lock(&sh->lock);
	if ((e = find(set, sha256)) != NULL && e->x != NULL && X509_up_ref(e->x)) {
		x = e->x;
		e->last = ++sh->tick;
		e->ref = 1;
	}
	pthread_mutex_unlock(&sh->lock);
	return x;
}

void mdg_certcache_put_x509(struct mdg_certcache *c, const unsigned char sha256[32], X509 *x)
{
	struct entry *set;

	if (c == NULL || x == NULL)
		return;
	struct shard *sh = shard_of(c, sha256, &set);
	if (sh->max_x == 0)
		return;
	pthread_mutex_lock(&sh->lock);
	struct entry *e = find_or_make(sh, set, sha256);
	e->last = ++sh->tick;
	if (!e->seen) {
		e->seen = 1;
	} else if (e->x == NULL) {
		make_room(sh);
		/* make_room may have dropped e itself only if it held an X509 */
		if (sh->nx < sh->max_x && X509_up_ref(x)) {
			e->x = x;
			e->ref = 1;
			sh->nx++;
		}
	}
	pthread_mutex_unlock(&sh->lock);
}

void mdg_certcache_put_info(struct mdg_certcache *c, const unsigned char sha256[32], const void *info, size_t len)
{
	struct entry *set, *e;
	void *copy;

	if (c == NULL || len == 0 || (copy = malloc(len)) == NULL)
		return;
	memcpy(copy, info, len);
	struct shard *sh = shard_of(c, sha256, &set);
	pthread_mutex_lock(&sh->lock);
	if ((e = find(set, sha256)) != NULL && e->x != NULL && e->info == NULL) {
		e->info = copy;
		e->info_len = len;
		copy = NULL;
	}
	pthread_mutex_unlock(&sh->lock);
	free(copy);
}

int mdg_certcache_get_info(struct mdg_certcache *c, const unsigned char sha256[32], void *info, size_t len)
{
	struct entry *set, *e;
	int hit = 0;

	if (c == NULL)
		return 0;
	struct shard *sh = shard_of(c, sha256, &set);
	pthread_mutex_lock(&sh->lock);
	if ((e = find(set, sha256)) != NULL && e->info != NULL && e->info_len == len) {
		memcpy(info, e->info, len);
		e->last = ++sh->tick;
		e->ref = 1;
		hit = 1;
	}
	pthread_mutex_unlock(&sh->lock);
	return hit;
}
