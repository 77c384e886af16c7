/* Internal to the SQLite backend: the handle, its prepared statements and
 * the small helpers its files share (store_sqlite.c: acceptances, the
 * handle and opening; store_sqlite_crl.c: CRLs; store_sqlite_schema.c:
 * pragmas and migrations; store_sqlite_log.c: the operators' reads). */
#ifndef MDG_STORE_SQLITE_INT_H
#define MDG_STORE_SQLITE_INT_H

#include <limits.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <sqlite3.h>

#include "store.h"

/* Made by tools/embed_schema.py from schema/NNN_*.sql. */
extern const char *const mdg_schema_migrations[];
extern const int mdg_schema_n_migrations;

#define BUSY_TIMEOUT_MS 10000
#define BUSY_RETRIES 3

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_PING,
	ST_FIND_ACC,
	ST_LAST_ACC,
	ST_INSERT_ACC,
	ST_CRL_LOOKUP,
	ST_CRL_SCOPE,
	ST_CRL_LIST,
	ST_CRL_INSERT,
	ST_CRL_UPDATE,
	ST_CRL_DEL_ENTRIES,
	ST_CRL_INSERT_ENTRY,
	ST_BEGIN_READ,
	ST_CRL_RETIRE,
	ST_NODE_GET,
	ST_NODE_PUT,
	ST_CP_LATEST,
	ST_CP_INSERT,
	ST_BY_RECEIPT,
	ST_COUNT
};

struct mdg_gc_group;

struct sq {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	struct mdg_gc_group *group;          /* group commit of acceptances (NULL: none) */
	sqlite3_stmt *copy_acc, *copy_entry; /* db copy's target inserts (NULL: none open) */
	char err[320];                       /* the last error: operation and SQLite's message */
	char pending[256];                   /* SQLite's message, kept before a ROLLBACK clears it */
};

static const unsigned char empty_blob[1];

/* sqlite3_bind_blob binds NULL for a NULL pointer; an empty value must
 * still be a (zero-length) BLOB. */
static inline int bind_blob(sqlite3_stmt *st, int i, const void *p, size_t len)
{
	if (len > INT_MAX)
		return SQLITE_TOOBIG;
	return sqlite3_bind_blob(st, i, p != NULL ? p : empty_blob, (int)len, SQLITE_STATIC);
}

static inline int bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return sqlite3_bind_text(st, i, s != NULL ? s : "", -1, SQLITE_STATIC);
}

static inline void done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* The first step of a statement, retried a bounded number of times if the
 * database stays busy beyond the busy timeout. */
static inline int first_step(sqlite3_stmt *st)
{
	int rc, i;

	for (i = 0; i < BUSY_RETRIES; i++) {
		rc = sqlite3_step(st);
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			return rc;
		sqlite3_reset(st);
	}
	return rc;
}

static inline int tx_begin(struct sq *q)
{
	int rc = first_step(q->st[ST_BEGIN]);

	sqlite3_reset(q->st[ST_BEGIN]);
	return rc == SQLITE_DONE ? 0 : -1;
}

static inline int tx_commit(struct sq *q)
{
	int rc = first_step(q->st[ST_COMMIT]);

	sqlite3_reset(q->st[ST_COMMIT]);
	return rc == SQLITE_DONE ? 0 : -1;
}

static inline void tx_rollback(struct sq *q)
{
	int rc = sqlite3_errcode(q->db);

	if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE && q->pending[0] == '\0')
		snprintf(q->pending, sizeof(q->pending), "%s", sqlite3_errmsg(q->db));
	if (sqlite3_get_autocommit(q->db))
		return;
	sqlite3_step(q->st[ST_ROLLBACK]);
	sqlite3_reset(q->st[ST_ROLLBACK]);
}

/* The CRL operations (store_sqlite_crl.c). */
int bind_dp(sqlite3_stmt *st, int i, const unsigned char *dp, size_t dp_len);
enum mdg_store_status mdg_sqlite_crl_lookup(void *cls, const unsigned char *issuer, size_t issuer_len,
					    const unsigned char *serial, size_t serial_len, int *revoked);
enum mdg_store_status mdg_sqlite_crl_scope(void *cls, const unsigned char *issuer, size_t issuer_len,
					   const unsigned char *dp, size_t dp_len, struct mdg_crl_scope *out);
enum mdg_store_status mdg_sqlite_list_crls(void *cls, int (*fn)(void *arg, const struct mdg_crl_scope *s), void *arg);
enum mdg_store_status mdg_sqlite_crl_import(void *cls, const struct mdg_crl_import *c, time_t now,
					    enum mdg_crl_import_outcome *outcome, char *msg, size_t msglen);
enum mdg_store_status mdg_sqlite_crl_retire(void *cls, int64_t id, time_t now);

/* The log's Merkle tree (store_sqlite_merkle.c). */
struct mdg_merkle_frontier;
extern const char mdg_sqlite_node_get_sql[], mdg_sqlite_node_put_sql[];
extern const char mdg_sqlite_cp_latest_sql[], mdg_sqlite_cp_insert_sql[];
/* The frontier of the tree of size leaves from the stored nodes: 0 or -1. */
int mdg_sqlite_tree_load(sqlite3_stmt *get, uint64_t size, struct mdg_merkle_frontier *f);
/* Appends row's leaf (its seq must be f->size + 1) and stores the nodes
 * it completes, inside the caller's write transaction: 0 or -1. */
int mdg_sqlite_tree_append(sqlite3_stmt *put, struct mdg_merkle_frontier *f, const struct mdg_acceptance_row *row);
/* The leaves of rows written without them (by hand, or restored from
 * elsewhere) appended after the last stored leaf, inside the caller's
 * write transaction, so that f is the frontier of size: 0 or -1 with err. */
int mdg_sqlite_tree_catch_up(sqlite3 *db, sqlite3_stmt *get, sqlite3_stmt *put, uint64_t size,
			     struct mdg_merkle_frontier *f, char *err, size_t errlen);
/* Migration 7: the nodes of every row held, inside its transaction. */
int mdg_sqlite_tree_backfill(sqlite3 *db, const char *path, char *err, size_t errlen);
enum mdg_store_status mdg_sqlite_merkle_node(sqlite3_stmt *get, uint64_t level, uint64_t index, unsigned char out[32]);
enum mdg_store_status mdg_sqlite_checkpoint_latest(sqlite3_stmt *st, struct mdg_checkpoint_row *out);
enum mdg_store_status mdg_sqlite_checkpoint_insert(sqlite3 *db, sqlite3_stmt *st, const struct mdg_checkpoint_row *cp);
enum mdg_store_status mdg_sqlite_checkpoint_list(sqlite3 *db, int (*fn)(void *arg, const struct mdg_checkpoint_row *c),
						 void *arg);

/* db copy (store_sqlite_copy.c); cls is the handle. */
enum mdg_store_status mdg_sqlite_copy_out_crls(void *cls, int (*fn)(void *arg, const struct mdg_crl_copy *c),
					       void *arg);
enum mdg_store_status mdg_sqlite_copy_out_batches(void *cls, int (*fn)(void *arg, const struct mdg_export_batch *b),
						  void *arg);
enum mdg_store_status mdg_sqlite_copy_begin(void *cls, char *msg, size_t msglen);
enum mdg_store_status mdg_sqlite_copy_crl(void *cls, const struct mdg_crl_copy *c);
enum mdg_store_status mdg_sqlite_copy_batch(void *cls, const struct mdg_export_batch *b);
enum mdg_store_status mdg_sqlite_copy_acceptance(void *cls, const struct mdg_acceptance_row *r);
enum mdg_store_status mdg_sqlite_copy_end(void *cls, int commit);

/* Pragmas and schema (store_sqlite_schema.c). */
int mdg_sqlite_exec_int(sqlite3 *db, const char *sql, int *val);
int mdg_sqlite_set_pragmas(sqlite3 *db, const char *path, char *err, size_t errlen);
int mdg_sqlite_read_version(sqlite3 *db, const char *path, int *v, char *err, size_t errlen);

#endif
