/* Group commit of acceptances, shared by the store's backends
 * (docs/store.md). Concurrent insert_acceptance calls on one database (a
 * key: the file's real path, the dsn) queue in its group; the first caller
 * that finds no leader at work becomes the leader and hands the queued
 * rows, its own among them, to the backend's batch function in batches of
 * at most MDG_GC_MAX_BATCH, one transaction each. Every caller returns only
 * after the batch covering its row was settled by the backend. */
#ifndef MDG_GROUP_COMMIT_H
#define MDG_GROUP_COMMIT_H

#include <stddef.h>

#include "store.h"

#define MDG_GC_MAX_BATCH 128

/* One waiting row; the batch function sets status. */
struct mdg_gc_req {
	const struct mdg_acceptance_new *a;
	struct mdg_acceptance_ref *out;
	enum mdg_store_status status;
	int done;
	struct mdg_gc_req *next;
};

/* Appends the n rows of v (one transaction or its fallback) and sets each
 * one's status. Runs on the leader's thread and handle. */
typedef void mdg_gc_batch_fn(void *cls, struct mdg_gc_req **v, size_t n);

struct mdg_gc_group;

/* The group of key, shared by every handle that joins it; NULL if out of
 * memory (the caller then commits rows one by one). */
struct mdg_gc_group *mdg_gc_join(const char *key);
/* Leaves g (NULL: nothing); the last handle to leave frees it. */
void mdg_gc_leave(struct mdg_gc_group *g);

/* Queues row a in g and returns its status once a batch settled it,
 * leading batches through batch(cls, ...) when no other caller does. */
enum mdg_store_status mdg_gc_submit(struct mdg_gc_group *g, const struct mdg_acceptance_new *a,
				    struct mdg_acceptance_ref *out, mdg_gc_batch_fn *batch, void *cls);

#endif
