/* The SQLite backend's own entry points (docs/store.md). Everyone else
 * opens the store through the door (store.h: mdg_store_open); only the
 * store's folder and the backend's unit tests call these. */
#ifndef MDG_STORE_SQLITE_H
#define MDG_STORE_SQLITE_H

#include <stddef.h>

#include "store.h"

/* The schema version this build expects (the highest migration). */
int mdg_store_sqlite_schema_version(void);

/* Opens a connection to an initialised database at the expected schema
 * version (else -1 with a clear message: "run madoguchi-admin db migrate").
 * Sets WAL, synchronous=FULL, a busy timeout, and prepares statements. */
int mdg_store_sqlite_open(struct mdg_store *st, const char *path, char *err, size_t errlen);

/* Creates the database if needed and applies pending migrations (db init /
 * db migrate). *from and *to receive the versions. Returns 0 or -1. */
int mdg_store_sqlite_migrate(const char *path, int *from, int *to, char *err, size_t errlen);

#endif
