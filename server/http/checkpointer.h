/* The daemon's checkpointer: a thread that, every fraction of
 * [receipts] checkpoint_interval, makes the log's next checkpoint if the
 * latest in the store is older than the interval and the tree grew
 * (tlog.c). Every node runs one; whichever comes first makes it, the others
 * find it made. */
#ifndef MDG_CHECKPOINTER_H
#define MDG_CHECKPOINTER_H

#include <pthread.h>
#include <stddef.h>

#include "checkpoint.h"
#include "config.h"

struct mdg_checkpointer {
	const struct mdg_config *cfg;
	const struct mdg_logkey *key;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int running, stop;
};

/* Starts the thread (its own store connection): 0, or -1 with err. */
int mdg_checkpointer_start(struct mdg_checkpointer *c, const struct mdg_config *cfg, const struct mdg_logkey *key,
			   char *err, size_t errlen);

/* Stops and joins it (a no-op if not running). */
void mdg_checkpointer_stop(struct mdg_checkpointer *c);

#endif
