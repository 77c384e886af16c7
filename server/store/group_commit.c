#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "group_commit.h"

struct mdg_gc_group {
	char *key;
	int refs; /* open handles */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct mdg_gc_req *head, *tail; /* waiting rows, in arrival order */
	int leader;                     /* a leader is appending a batch */
	struct mdg_gc_group *next;
};

static pthread_mutex_t groups_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mdg_gc_group *groups;

struct mdg_gc_group *mdg_gc_join(const char *key)
{
	struct mdg_gc_group *g;

	pthread_mutex_lock(&groups_lock);
	for (g = groups; g != NULL; g = g->next)
		if (strcmp(g->key, key) == 0)
			break;
	if (g == NULL && (g = calloc(1, sizeof(*g))) != NULL) {
		if ((g->key = strdup(key)) == NULL) {
			free(g);
			g = NULL;
		} else {
			pthread_mutex_init(&g->lock, NULL);
			pthread_cond_init(&g->cond, NULL);
			g->next = groups;
			groups = g;
		}
	}
	if (g != NULL)
		g->refs++;
	pthread_mutex_unlock(&groups_lock);
	return g;
}

void mdg_gc_leave(struct mdg_gc_group *g)
{
	struct mdg_gc_group **pp;

	if (g == NULL)
		return;
	pthread_mutex_lock(&groups_lock);
	if (--g->refs == 0) {
		for (pp = &groups; *pp != NULL; pp = &(*pp)->next)
			if (*pp == g) {
				*pp = g->next;
				break;
			}
		pthread_mutex_destroy(&g->lock);
		pthread_cond_destroy(&g->cond);
		free(g->key);
		free(g);
	}
	pthread_mutex_unlock(&groups_lock);
}

enum mdg_store_status mdg_gc_submit(struct mdg_gc_group *g, const struct mdg_acceptance_new *a,
				    struct mdg_acceptance_ref *out, mdg_gc_batch_fn *batch, void *cls)
{
	struct mdg_gc_req me = { .a = a, .out = out, .status = MDG_STORE_ERROR };
	struct mdg_gc_req *v[MDG_GC_MAX_BATCH];
	size_t n;

	pthread_mutex_lock(&g->lock);
	if (g->tail != NULL)
		g->tail->next = &me;
	else
		g->head = &me;
	g->tail = &me;
	while (!me.done && g->leader)
		pthread_cond_wait(&g->cond, &g->lock);
	if (!me.done) {
		/* lead until our own row is settled; rows are taken in
		 * arrival order, so it is in the first or a later batch */
		g->leader = 1;
		while (!me.done) {
			for (n = 0; n < MDG_GC_MAX_BATCH && g->head != NULL; n++) {
				v[n] = g->head;
				g->head = g->head->next;
			}
			if (g->head == NULL)
				g->tail = NULL;
			pthread_mutex_unlock(&g->lock);
			batch(cls, v, n);
			pthread_mutex_lock(&g->lock);
			for (size_t i = 0; i < n; i++)
				v[i]->done = 1;
			pthread_cond_broadcast(&g->cond);
		}
		g->leader = 0;
		/* rows that arrived meanwhile need a new leader */
		if (g->head != NULL)
			pthread_cond_broadcast(&g->cond);
	}
	pthread_mutex_unlock(&g->lock);
	return me.status;
}
