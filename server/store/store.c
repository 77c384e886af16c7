/* The door to the store: the backends built into this program, chosen by
 * [store] backend, and the calls every other layer uses instead of naming
 * one (store.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "receipt.h"
#include "store.h"

/* One entry per backend built in; a backend the configuration may name but
 * this build lacks is answered with a clear error. */
static const struct mdg_store_backend *const backends[] = {
	&mdg_store_backend_sqlite,
#ifdef MDG_HAVE_POSTGRESQL
	&mdg_store_backend_postgresql,
#endif
};

static const struct mdg_store_backend *find_backend(const struct mdg_config *cfg, char *err, size_t errlen)
{
	const char *name = cfg->store_backend[0] != '\0' ? cfg->store_backend : "sqlite";
	size_t i;

	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	snprintf(err, errlen, "[store] backend %s is not built into this madoguchi", name);
	return NULL;
}

int mdg_store_open(struct mdg_store *st, const struct mdg_config *cfg, char *err, size_t errlen)
{
	const struct mdg_store_backend *b;

	st->ops = NULL;
	st->cls = NULL;
	if ((b = find_backend(cfg, err, errlen)) == NULL)
		return -1;
	return b->open(st, cfg, err, errlen);
}

int mdg_store_migrate(const struct mdg_config *cfg, int *from, int *to, char *err, size_t errlen)
{
	const struct mdg_store_backend *b;

	*from = *to = 0;
	if ((b = find_backend(cfg, err, errlen)) == NULL)
		return -1;
	return b->migrate(cfg, from, to, err, errlen);
}

int mdg_store_exists(const struct mdg_config *cfg, char *err, size_t errlen)
{
	const struct mdg_store_backend *b;

	if ((b = find_backend(cfg, err, errlen)) == NULL)
		return -1;
	/* a server backend's database is made by its administrator: db
	 * migrate finds out (a file of sqlite's is made by db init) */
	if (strcmp(b->name, "sqlite") != 0)
		return 1;
	if (access(cfg->database, F_OK) == -1) {
		snprintf(err, errlen, "database %s: %s: run madoguchi-admin db init", cfg->database, strerror(errno));
		return errno == ENOENT ? 0 : -1;
	}
	return 1;
}

int mdg_store_schema_version(const struct mdg_config *cfg)
{
	char err[128];
	const struct mdg_store_backend *b = find_backend(cfg, err, sizeof(err));

	return b != NULL ? b->schema_version() : -1;
}

const char *mdg_store_describe(const struct mdg_config *cfg, char *buf, size_t buflen)
{
	const char *name = cfg->store_backend[0] != '\0' ? cfg->store_backend : "sqlite";

	if (strcmp(name, "sqlite") == 0)
		snprintf(buf, buflen, "database %s", cfg->database);
	else
		snprintf(buf, buflen, "%s store", name);
	return buf;
}

const char *mdg_store_error(const struct mdg_store *st)
{
	const char *m;

	if (st == NULL || st->ops == NULL || st->ops->error == NULL)
		return "";
	m = st->ops->error(st->cls);
	return m != NULL ? m : "";
}

void mdg_store_counters(const struct mdg_config *cfg, struct mdg_store_counters *out)
{
	char err[128];
	const struct mdg_store_backend *b = find_backend(cfg, err, sizeof(err));

	memset(out, 0, sizeof(*out));
	if (b != NULL && b->counters != NULL)
		b->counters(out);
}

struct leaf_ctx {
	char *content;
	size_t len;
	uint64_t index;
	int found, failed;
};

static int leaf_row(void *arg, const struct mdg_acceptance_row *r)
{
	struct leaf_ctx *c = arg;
	char err[128];

	if (mdg_receipt_content_row(r, &c->content, &c->len, err, sizeof(err)) != 0) {
		c->failed = 1;
		return 1;
	}
	c->index = (uint64_t)(r->seq - 1);
	c->found = 1;
	return 1;
}

enum mdg_store_status mdg_store_leaf(struct mdg_store *st, const char *receipt_id, char **content, size_t *len,
				     uint64_t *index)
{
	struct mdg_log_filter f;
	struct leaf_ctx c = { 0 };
	enum mdg_store_status s;

	*content = NULL;
	*len = 0;
	*index = 0;
	memset(&f, 0, sizeof(f));
	f.receipt_id = receipt_id;
	f.limit = 1;
	s = st->ops->log_query(st->cls, &f, leaf_row, &c);
	if (s != MDG_STORE_OK || c.failed) {
		free(c.content);
		return MDG_STORE_ERROR;
	}
	if (!c.found)
		return MDG_STORE_NOT_FOUND;
	*content = c.content;
	*len = c.len;
	*index = c.index;
	return MDG_STORE_OK;
}
