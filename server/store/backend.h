/* What a store backend gives the door (store.c): one entry of its table.
 * Only server/store/ includes this file. A new backend is one more entry
 * there (and its files here); nothing outside the store changes. */
#ifndef MDG_STORE_BACKEND_H
#define MDG_STORE_BACKEND_H

#include <stddef.h>

#include "config.h"
#include "store.h"

struct mdg_store_backend {
	const char *name; /* the value of [store] backend */
	/* mdg_store_open and mdg_store_migrate for this backend (store.h) */
	int (*open)(struct mdg_store *st, const struct mdg_config *cfg, char *err, size_t errlen);
	int (*migrate)(const struct mdg_config *cfg, int *from, int *to, char *err, size_t errlen);
	int (*schema_version)(void);
	/* the backend's counters since start (NULL: none kept) */
	void (*counters)(struct mdg_store_counters *out);
};

extern const struct mdg_store_backend mdg_store_backend_sqlite;
#ifdef MDG_HAVE_POSTGRESQL
extern const struct mdg_store_backend mdg_store_backend_postgresql;
#endif

#endif
