/* The daemon's checkpointer (checkpointer.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "checkpointer.h"
#include "log.h"
#include "store.h"
#include "tlog.h"

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void *run(void *arg)
{
	struct mdg_checkpointer *c = arg;
	struct mdg_store st = { 0 };
	long tick = c->cfg->checkpoint_interval_ms / 4;
	char err[512];
	int made, failing = 0;

	if (tick < 50)
		tick = 50;
	if (tick > 1000)
		tick = 1000;
	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		pthread_mutex_unlock(&c->lock);
		if (st.ops == NULL && mdg_store_open(&st, c->cfg, err, sizeof(err)) != 0) {
			if (!failing)
				mdg_log("error", "checkpointer: %s", err);
			failing = 1;
		} else if (mdg_tlog_checkpoint_maybe(&st, c->key, c->cfg->checkpoint_interval_ms, now_ms(), &made, err,
						     sizeof(err)) != 0) {
			if (!failing)
				mdg_log("error", "checkpointer: %s", err);
			failing = 1;
			mdg_store_close(&st); /* opened afresh on the next tick */
		} else {
			if (failing)
				mdg_log("info", "checkpointer: making checkpoints again");
			failing = 0;
		}
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (tick % 1000) * 1000000L;
		until.tv_sec += tick / 1000 + until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&c->lock);
		while (!c->stop && pthread_cond_timedwait(&c->cond, &c->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&c->lock);
	mdg_store_close(&st);
	return NULL;
}

int mdg_checkpointer_start(struct mdg_checkpointer *c, const struct mdg_config *cfg, const struct mdg_logkey *key,
			   char *err, size_t errlen)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->key = key;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	if ((rc = pthread_create(&c->thread, NULL, run, c)) != 0) {
		snprintf(err, errlen, "checkpointer: %s", strerror(rc));
		pthread_mutex_destroy(&c->lock);
		pthread_cond_destroy(&c->cond);
		return -1;
	}
	c->running = 1;
	return 0;
}

void mdg_checkpointer_stop(struct mdg_checkpointer *c)
{
	if (!c->running)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = 1;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	c->running = 0;
}
