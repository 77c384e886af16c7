/* Internal to the PostgreSQL backend (docs/store.md "PostgreSQL"): the
 * handle, its prepared statements, the result classes (Taler's exchange
 * database plugin: hard error, soft error, no row, one row) and what its
 * files share (store_pg.c: the connection, acceptances with group commit,
 * the ops table; store_pg_crl.c: CRLs; store_pg_log.c: the operators'
 * reads and export batches; store_pg_merkle.c: the log's Merkle tree and
 * checkpoints; store_pg_schema.c: migrations). */
#ifndef MDG_STORE_PG_INT_H
#define MDG_STORE_PG_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "merkle.h"
#include "store.h"

/* Made by tools/embed_schema.py from schema/pg/NNN_*.sql. */
extern const char *const mdg_pg_schema_migrations[];
extern const int mdg_pg_schema_n_migrations;

/* Soft errors (serialization failure, deadlock) are retried this often. */
#define PG_SOFT_RETRIES 3

enum pg_stmt {
	PS_BEGIN,
	PS_BEGIN_READ,
	PS_COMMIT,
	PS_ROLLBACK,
	PS_PING,
	PS_FIND_ACC,
	PS_SETTLE, /* (a found row as durable as our own commit) */
	PS_HEAD_LOCK,
	PS_HEAD_SET, /* (the last row, read under the head's lock) */
	PS_INSERT_ACC,
	PS_CRL_LOOKUP,
	PS_CRL_SCOPE,
	PS_CRL_SCOPE_LOCK,
	PS_CRL_LIST,
	PS_CRL_INSERT,
	PS_CRL_UPDATE,
	PS_CRL_GEN_NEW,  /* (a new generation: a large one's partition, unindexed) */
	PS_CRL_GEN_SEAL, /* (its primary key, built after the COPY) */
	PS_CRL_SET_GEN,
	PS_CRL_GEN_RETIRE, /* (the held one, for the sweep) */
	PS_CRL_SWEEP,      /* (removes the retired generations) */
	PS_CRL_RETIRE,
	PS_NODE_GET,  /* the log's Merkle tree (store_pg_merkle.c) */
	PS_NODES_GET, /* (the frontier: several nodes in one read) */
	PS_NODES_PUT, /* (the nodes of a batch in one write) */
	PS_TREE_LEAVES,
	PS_CP_LOCK,
	PS_CP_LATEST,
	PS_CP_INSERT,
	PS_COUNT
};

/* What one statement came to. */
enum pg_qs {
	QS_HARD = -2,  /* an error: the transaction is lost */
	QS_SOFT = -1,  /* serialization failure or deadlock: retry */
	QS_NONE = 0,   /* no row (or a command without rows) */
	QS_ONE = 1,    /* one row or more */
	QS_UNIQUE = 2, /* a unique key is taken: an answer, not an error */
};

struct mdg_gc_group;

/* A batch's Merkle tree (store_pg_merkle.c): the frontier and the nodes
 * its appends completed, not yet written. */
#define PG_TREE_NODES_MAX (2 * 128 + 64) /* completed by 128 appends, at most */
struct pg_tree_node {
	int64_t level, idx;
	unsigned char hash[32];
};
struct pg_tree {
	struct mdg_merkle_frontier f;
	struct pg_tree_node node[PG_TREE_NODES_MAX];
	size_t n;
};

struct pg {
	PGconn *conn; /* NULL: not connected (reconnect on use) */
	char *dsn;
	int prepared; /* the statements are prepared on conn */
	int in_tx;
	int warned;                 /* a WARNING came with the last COMMIT */
	int copy_prepared;          /* db copy's statements are prepared on conn */
	struct mdg_gc_group *group; /* group commit of this node's acceptances */
	int borrowed;               /* conn is the caller's (a migration's): never closed here */
	struct pg_tree tree;        /* the appending batch's Merkle tree */
	char err[384];              /* the last error: operation and the server's message */
	char pending[320];          /* the message of the statement that failed */
};

/* The backend's counters (madoguchi_store_* in /metrics). */
extern atomic_uint_fast64_t mdg_pg_conflicts, mdg_pg_retries, mdg_pg_reconnects, mdg_pg_errors;

/* A usable connection with the statements prepared: 0, or -1 (err noted). */
int pg_ensure(struct pg *q);
/* Runs prepared statement id with n text/binary parameters (vals, lens,
 * fmts as PQexecPrepared); *res receives the result (PQclear it) unless NULL. */
enum pg_qs pg_exec(struct pg *q, enum pg_stmt id, int n, const char *const *vals, const int *lens, const int *fmts,
		   PGresult **res);
/* Classifies a result (and notes a failure's message). */
enum pg_qs pg_classify(struct pg *q, PGresult *r);
int pg_begin(struct pg *q);
int pg_commit(struct pg *q);
/* pg_commit that also fails (-1, noted) when the COMMIT came with a
 * warning: a cancelled wait for the synchronous standby leaves the commit
 * local only, so nothing of it may be acknowledged. */
int pg_commit_confirmed(struct pg *q);
void pg_rollback(struct pg *q);

/* Big-endian int8 parameters and column reads (binary results). */
void pg_put_i64(unsigned char out[8], int64_t v);
int64_t pg_get_i64(const PGresult *r, int row, int col);
int pg_is_null(const PGresult *r, int row, int col);

/* The CRL operations (store_pg_crl.c). */
enum mdg_store_status mdg_pg_crl_lookup(struct pg *q, const unsigned char *issuer, size_t issuer_len,
					const unsigned char *serial, size_t serial_len, int *revoked);
enum mdg_store_status mdg_pg_crl_scope(struct pg *q, const unsigned char *issuer, size_t issuer_len,
				       const unsigned char *dp, size_t dp_len, struct mdg_crl_scope *out);
enum mdg_store_status mdg_pg_list_crls(struct pg *q, int (*fn)(void *arg, const struct mdg_crl_scope *s), void *arg);
enum mdg_store_status mdg_pg_crl_import(struct pg *q, const struct mdg_crl_import *c, time_t now,
					enum mdg_crl_import_outcome *outcome, char *msg, size_t msglen);
enum mdg_store_status mdg_pg_crl_retire(struct pg *q, int64_t id, time_t now);

/* The operators' reads and export batches (store_pg_log.c). */
enum mdg_store_status mdg_pg_log_query(struct pg *q, const struct mdg_log_filter *f,
				       int (*fn)(void *arg, const struct mdg_acceptance_row *r), void *arg);
enum mdg_store_status mdg_pg_log_head(struct pg *q, struct mdg_log_head *out);
enum mdg_store_status mdg_pg_log_stats(struct pg *q, struct mdg_log_stats *out);
enum mdg_store_status mdg_pg_export_new(struct pg *q, const char *created_at, struct mdg_export_batch *out);
enum mdg_store_status mdg_pg_export_get(struct pg *q, int64_t id, struct mdg_export_batch *out);
enum mdg_store_status mdg_pg_export_complete(struct pg *q, int64_t id, const char *completed_at);

/* sql prepared as the unnamed statement (types from casts) and run with n
 * parameters, binary results; *r the result (QS_ONE/QS_NONE) or NULL. */
enum pg_qs pg_one_row(struct pg *q, const char *sql, int n, const char *const *vals, const int *lens, const int *fmts,
		      PGresult **r);
/* The entries of crl id by one binary COPY (sorted, a serial once): 0 or -1. */
int mdg_pg_copy_entries(struct pg *q, int64_t id, const struct mdg_crl_entry *e, size_t n);

/* db copy (store_pg_copy.c). */
enum mdg_store_status mdg_pg_copy_out_crls(struct pg *q, int (*fn)(void *arg, const struct mdg_crl_copy *c), void *arg);
enum mdg_store_status mdg_pg_copy_out_batches(struct pg *q, int (*fn)(void *arg, const struct mdg_export_batch *b),
					      void *arg);
enum mdg_store_status mdg_pg_copy_begin(struct pg *q, char *msg, size_t msglen);
enum mdg_store_status mdg_pg_copy_crl(struct pg *q, const struct mdg_crl_copy *c);
enum mdg_store_status mdg_pg_copy_batch(struct pg *q, const struct mdg_export_batch *b);
enum mdg_store_status mdg_pg_copy_acceptance(struct pg *q, const struct mdg_acceptance_row *r);
enum mdg_store_status mdg_pg_copy_end(struct pg *q, int commit);
/* ... and the ops of db copy over them (each through pg_noted), for
 * store_pg.c's table. */
enum mdg_store_status mdg_pg_w_copy_out_crls(void *cls, int (*fn)(void *arg, const struct mdg_crl_copy *c), void *arg);
enum mdg_store_status mdg_pg_w_copy_out_batches(void *cls, int (*fn)(void *arg, const struct mdg_export_batch *b),
						void *arg);
enum mdg_store_status mdg_pg_w_copy_begin(void *cls, char *msg, size_t msglen);
enum mdg_store_status mdg_pg_w_copy_crl(void *cls, const struct mdg_crl_copy *c);
enum mdg_store_status mdg_pg_w_copy_batch(void *cls, const struct mdg_export_batch *b);
enum mdg_store_status mdg_pg_w_copy_acceptance(void *cls, const struct mdg_acceptance_row *r);
enum mdg_store_status mdg_pg_w_copy_end(void *cls, int commit);

/* The log's Merkle tree (store_pg_merkle.c, schema/pg/002_merkle.sql).
 * An appending transaction, holding the chain head's lock: tree_begin
 * reads the frontier at the head's size (catching up from the rows if
 * nodes are missing), tree_add appends each row written, tree_flush writes
 * the nodes they completed, all in one statement. */
int mdg_pg_tree_begin(struct pg *q, int64_t size);
int mdg_pg_tree_add(struct pg *q, const struct mdg_acceptance_new *a, int64_t seq);
int mdg_pg_tree_flush(struct pg *q, struct pg_tree *t, int named);
/* The nodes of every row, computed from the rows (migration 2 on the
 * migration's connection, inside its transaction; copy_end): 0, or -1
 * with q->pending. */
int mdg_pg_tree_fill_all(struct pg *q, int named);
int mdg_pg_tree_backfill(PGconn *c, char *err, size_t errlen);
/* The four ops, for store_pg.c's table (each through pg_noted). */
enum mdg_store_status mdg_pg_w_merkle_node(void *cls, uint64_t level, uint64_t index, unsigned char out[32]);
enum mdg_store_status mdg_pg_w_checkpoint_latest(void *cls, struct mdg_checkpoint_row *out);
enum mdg_store_status mdg_pg_w_checkpoint_insert(void *cls, const struct mdg_checkpoint_row *cp);
enum mdg_store_status mdg_pg_w_checkpoint_list(void *cls, int (*fn)(void *arg, const struct mdg_checkpoint_row *c),
					       void *arg);
/* store_pg.c's bookkeeping after an operation: the error noted as op's,
 * a transaction left open by a failure rolled back; returns s. */
enum mdg_store_status pg_noted(struct pg *q, const char *op, enum mdg_store_status s);
/* The text of the tree's statements PS_NODE_GET ... PS_CP_INSERT (NULL
 * for another id), prepared with store_pg.c's table. */
const char *mdg_pg_tree_sql(int id);

/* Migrations (store_pg_schema.c). */
int mdg_pg_read_version(PGconn *c, int *v, char *err, size_t errlen);
int mdg_store_pg_migrate(const char *dsn, int *from, int *to, char *err, size_t errlen);
/* A new connection to dsn (connect_timeout 5 s unless dsn says): NULL with err. */
PGconn *mdg_pg_connect(const char *dsn, char *err, size_t errlen);

#endif
