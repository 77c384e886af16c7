/* The SQLite store (docs/store.md). One handle is one connection used by
 * one thread at a time; every statement is prepared once, when the handle
 * is opened, and reset after each use. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <sqlite3.h>

#include "chain.h"
#include "store.h"
#include "names.h"
#include "store_sqlite_log.h"

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
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_BEGIN_READ] = "BEGIN DEFERRED",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_PING] = "SELECT count(*) FROM crls",
	[ST_FIND_ACC] =
	    "SELECT seq, receipt_id, accepted_at, effective_from FROM acceptances"
	    " WHERE issuer = ?1 AND serial = ?2",
	[ST_LAST_ACC] = "SELECT seq, hash FROM acceptances ORDER BY seq DESC LIMIT 1",
	[ST_INSERT_ACC] =
	    "INSERT INTO acceptances (seq, receipt_id, issuer, serial, cert_sha256,"
	    " accepted_at, reason, holder_name, request, request_sha256, client_addr,"
	    " effective_from, prev_hash, hash, cert_not_after, cert_subject)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
	[ST_CRL_LOOKUP] =
	    "SELECT 1 FROM crls c JOIN crl_entries e ON e.crl_id = c.id"
	    " WHERE c.issuer = ?1 AND e.serial = ?2 LIMIT 1",
	[ST_CRL_SCOPE] =
	    "SELECT id, number, this_update, next_update, imported_at, entries, sha256,"
	    " retired_at FROM crls WHERE issuer = ?1 AND dp_key IS ?2",
	[ST_CRL_LIST] =
	    "SELECT id, issuer, dp, number, this_update, next_update, imported_at, entries,"
	    " retired_at FROM crls ORDER BY issuer, dp IS NOT NULL, dp",
	[ST_CRL_INSERT] =
	    "INSERT INTO crls (issuer, dp, number, this_update, next_update, imported_at,"
	    " sha256, entries, dp_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8)",
	[ST_CRL_UPDATE] =
	    "UPDATE crls SET number = ?2, this_update = ?3, next_update = ?4,"
	    " imported_at = ?5, sha256 = ?6, entries = ?7, dp = ?8, retired_at = NULL"
	    " WHERE id = ?1",
	[ST_CRL_DEL_ENTRIES] = "DELETE FROM crl_entries WHERE crl_id = ?1",
	[ST_CRL_INSERT_ENTRY] =
	    "INSERT OR IGNORE INTO crl_entries (crl_id, serial, revoked_at, reason)"
	    " VALUES (?1, ?2, ?3, ?4)",
	[ST_CRL_RETIRE] = "UPDATE crls SET retired_at = ?2 WHERE id = ?1 AND retired_at IS NULL",
};

struct gc_group;

struct sq {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	struct gc_group *group;		/* group commit of acceptances (NULL: none) */
};

static const unsigned char empty_blob[1];

static int bind_dp(sqlite3_stmt *st, int i, const unsigned char *dp, size_t dp_len);

int
mdg_store_sqlite_schema_version(void)
{
	return mdg_schema_n_migrations;
}

/* sqlite3_bind_blob binds NULL for a NULL pointer; an empty value must
 * still be a (zero-length) BLOB. */
static int
bind_blob(sqlite3_stmt *st, int i, const void *p, size_t len)
{
	if (len > INT_MAX)
		return SQLITE_TOOBIG;
	return sqlite3_bind_blob(st, i, p != NULL ? p : empty_blob, (int)len, SQLITE_STATIC);
}

static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return sqlite3_bind_text(st, i, s != NULL ? s : "", -1, SQLITE_STATIC);
}

static void
done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* The first step of a statement, retried a bounded number of times if the
 * database stays busy beyond the busy timeout. */
static int
first_step(sqlite3_stmt *st)
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

static int
tx_begin(struct sq *q)
{
	int rc = first_step(q->st[ST_BEGIN]);

	sqlite3_reset(q->st[ST_BEGIN]);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
tx_commit(struct sq *q)
{
	int rc = first_step(q->st[ST_COMMIT]);

	sqlite3_reset(q->st[ST_COMMIT]);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void
tx_rollback(struct sq *q)
{
	if (sqlite3_get_autocommit(q->db))
		return;
	sqlite3_step(q->st[ST_ROLLBACK]);
	sqlite3_reset(q->st[ST_ROLLBACK]);
}

static int
copy_text(sqlite3_stmt *st, int col, char *out, size_t outlen)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	int n = sqlite3_column_bytes(st, col);

	if (t == NULL || n < 0 || (size_t)n >= outlen)
		return -1;
	memcpy(out, t, (size_t)n);
	out[n] = '\0';
	return 0;
}

/* Reads the row of ST_FIND_ACC; the caller binds and resets. */
static enum mdg_store_status
read_acceptance(struct sq *q, struct mdg_acceptance_ref *out)
{
	sqlite3_stmt *st = q->st[ST_FIND_ACC];
	int rc = first_step(st);

	if (rc == SQLITE_DONE)
		return MDG_STORE_NOT_FOUND;
	if (rc != SQLITE_ROW)
		return MDG_STORE_ERROR;
	memset(out, 0, sizeof(*out));
	out->seq = sqlite3_column_int64(st, 0);
	if (copy_text(st, 1, out->receipt_id, sizeof(out->receipt_id)) == -1 ||
	    copy_text(st, 2, out->accepted_at, sizeof(out->accepted_at)) == -1 ||
	    copy_text(st, 3, out->effective_from, sizeof(out->effective_from)) == -1)
		return MDG_STORE_ERROR;
	return MDG_STORE_OK;
}

static enum mdg_store_status
find_acceptance_locked(struct sq *q, const unsigned char *issuer, size_t issuer_len,
		       const unsigned char *serial, size_t serial_len, struct mdg_acceptance_ref *out)
{
	sqlite3_stmt *st = q->st[ST_FIND_ACC];
	enum mdg_store_status s = MDG_STORE_ERROR;

	if (bind_blob(st, 1, issuer, issuer_len) == SQLITE_OK &&
	    bind_blob(st, 2, serial, serial_len) == SQLITE_OK)
		s = read_acceptance(q, out);
	done(st);
	return s;
}

static enum mdg_store_status
sq_find_acceptance(void *cls, const unsigned char *issuer, size_t issuer_len,
		   const unsigned char *serial, size_t serial_len, struct mdg_acceptance_ref *out)
{
	return find_acceptance_locked(cls, issuer, issuer_len, serial, serial_len, out);
}

/* The chain's head inside the write transaction: the last seq (0 for an
 * empty log) and its hash (zeros). */
static int
read_head(struct sq *q, int64_t *seq, unsigned char prev[MDG_HASH_LEN])
{
	sqlite3_stmt *last = q->st[ST_LAST_ACC];
	int rc = first_step(last), r = -1;

	if (rc == SQLITE_ROW) {
		if (sqlite3_column_bytes(last, 1) == MDG_HASH_LEN &&
		    sqlite3_column_int64(last, 0) < INT64_MAX) {
			*seq = sqlite3_column_int64(last, 0);
			memcpy(prev, sqlite3_column_blob(last, 1), MDG_HASH_LEN);
			r = 0;
		}
	} else if (rc == SQLITE_DONE) {
		*seq = 0;
		memset(prev, 0, MDG_HASH_LEN);
		r = 0;
	}
	sqlite3_reset(last);
	return r;
}

enum append_result {
	AP_OK,		/* appended; *seq and prev advanced */
	AP_CONFLICT,	/* (issuer, serial) held: *out is that row */
	AP_REFUSED,	/* this row cannot be written (receipt id taken); nothing written */
	AP_FAILED,	/* the transaction must be abandoned */
};

/* Appends one row after (*seq, prev) inside the write transaction. A failed
 * INSERT is undone by SQLite at statement level, so the transaction stays
 * usable for the rows after it. */
static enum append_result
append_row(struct sq *q, const struct mdg_acceptance_new *a, int64_t *seq,
	   unsigned char prev[MDG_HASH_LEN], struct mdg_acceptance_ref *out)
{
	sqlite3_stmt *ins = q->st[ST_INSERT_ACC];
	unsigned char hash[MDG_HASH_LEN];
	struct mdg_chain_row row;
	enum mdg_store_status f;
	int rc;

	memset(&row, 0, sizeof(row));
	row.seq = *seq + 1;
	row.receipt_id = a->receipt_id;
	row.issuer_der = a->issuer_der;
	row.issuer_len = a->issuer_len;
	row.serial = a->serial;
	row.serial_len = a->serial_len;
	row.accepted_at = a->accepted_at;
	row.reason = a->reason;
	row.request_sha256 = a->request_sha256;
	if (mdg_chain_hash(prev, &row, hash) == -1)
		return AP_FAILED;

	if (sqlite3_bind_int64(ins, 1, row.seq) != SQLITE_OK ||
	    bind_text(ins, 2, a->receipt_id) != SQLITE_OK ||
	    bind_blob(ins, 3, a->issuer_der, a->issuer_len) != SQLITE_OK ||
	    bind_blob(ins, 4, a->serial, a->serial_len) != SQLITE_OK ||
	    bind_blob(ins, 5, a->cert_sha256, 32) != SQLITE_OK ||
	    bind_text(ins, 6, a->accepted_at) != SQLITE_OK ||
	    bind_text(ins, 7, a->reason) != SQLITE_OK ||
	    bind_text(ins, 8, a->holder_name) != SQLITE_OK ||
	    bind_blob(ins, 9, a->request_der, a->request_len) != SQLITE_OK ||
	    bind_blob(ins, 10, a->request_sha256, 32) != SQLITE_OK ||
	    bind_text(ins, 11, a->client_addr) != SQLITE_OK ||
	    bind_text(ins, 12, a->effective_from) != SQLITE_OK ||
	    bind_blob(ins, 13, prev, MDG_HASH_LEN) != SQLITE_OK ||
	    bind_blob(ins, 14, hash, MDG_HASH_LEN) != SQLITE_OK ||
	    (a->cert_subject_der != NULL
		     ? sqlite3_bind_int64(ins, 15, a->cert_not_after)
		     : sqlite3_bind_null(ins, 15)) != SQLITE_OK ||
	    bind_dp(ins, 16, a->cert_subject_der, a->cert_subject_len) != SQLITE_OK) {
		done(ins);
		return AP_FAILED;
	}
	rc = sqlite3_step(ins);
	done(ins);
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		/* Someone accepted this certificate first (or, in theory, the
		 * receipt id collided: then there is no such row). */
		f = find_acceptance_locked(q, a->issuer_der, a->issuer_len, a->serial,
					   a->serial_len, out);
		if (f == MDG_STORE_NOT_FOUND)
			return AP_REFUSED;
		if (f != MDG_STORE_OK)
			return AP_FAILED;
		/* our own row, committed by a batch whose COMMIT reported failure */
		if (strcmp(out->receipt_id, a->receipt_id) == 0)
			return AP_OK;
		return AP_CONFLICT;
	}
	if (rc != SQLITE_DONE)
		return AP_FAILED;
	*seq = row.seq;
	memcpy(prev, hash, MDG_HASH_LEN);
	memset(out, 0, sizeof(*out));
	out->seq = row.seq;
	snprintf(out->receipt_id, sizeof(out->receipt_id), "%s", a->receipt_id);
	snprintf(out->accepted_at, sizeof(out->accepted_at), "%s", a->accepted_at);
	snprintf(out->effective_from, sizeof(out->effective_from), "%s", a->effective_from);
	return AP_OK;
}

/* One acceptance in its own transaction (the fallback of a failed batch). */
static enum mdg_store_status
insert_one(struct sq *q, const struct mdg_acceptance_new *a, struct mdg_acceptance_ref *out)
{
	unsigned char prev[MDG_HASH_LEN];
	enum mdg_store_status s = MDG_STORE_ERROR;
	int64_t seq;

	if (tx_begin(q) == -1 || read_head(q, &seq, prev) == -1)
		goto out;
	switch (append_row(q, a, &seq, prev, out)) {
	case AP_OK:
		if (tx_commit(q) == -1)
			goto out;
		s = MDG_STORE_OK;
		break;
	case AP_CONFLICT:
		s = MDG_STORE_CONFLICT;
		break;
	case AP_REFUSED:
	case AP_FAILED:
		break;
	}
out:
	tx_rollback(q);
	return s;
}

/* Group commit. Concurrent insert_acceptance calls on one database queue
 * here; the first caller that finds no leader at work becomes the leader
 * and appends the queued rows (its own among them) in one transaction:
 * one COMMIT, one fsync (synchronous=FULL in WAL). Every caller returns
 * only after the COMMIT covering its row succeeded. The leader holds the
 * write lock throughout, so seq and the hash chain stay strictly
 * sequential. If the batch fails, every row is retried in a transaction of
 * its own, so no caller is lost or misreported. */
#define GC_MAX_BATCH 128

struct gc_req {
	const struct mdg_acceptance_new *a;
	struct mdg_acceptance_ref *out;
	enum mdg_store_status status;
	int done;
	struct gc_req *next;
};

struct gc_group {
	char *key;			/* the database's path */
	int refs;			/* open handles */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct gc_req *head, *tail;	/* waiting rows, in arrival order */
	int leader;			/* a leader is appending a batch */
	struct gc_group *next;
};

static pthread_mutex_t gc_groups_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gc_group *gc_groups;

/* The group of the database at path (one per file, found at open time). */
static struct gc_group *
gc_join(const char *path)
{
	char real[PATH_MAX];
	const char *key = realpath(path, real) != NULL ? real : path;
	struct gc_group *g;

	pthread_mutex_lock(&gc_groups_lock);
	for (g = gc_groups; g != NULL; g = g->next)
		if (strcmp(g->key, key) == 0)
			break;
	if (g == NULL && (g = calloc(1, sizeof(*g))) != NULL) {
		if ((g->key = strdup(key)) == NULL) {
			free(g);
			g = NULL;
		} else {
			pthread_mutex_init(&g->lock, NULL);
			pthread_cond_init(&g->cond, NULL);
			g->next = gc_groups;
			gc_groups = g;
		}
	}
	if (g != NULL)
		g->refs++;
	pthread_mutex_unlock(&gc_groups_lock);
	return g;
}

static void
gc_leave(struct gc_group *g)
{
	struct gc_group **pp;

	if (g == NULL)
		return;
	pthread_mutex_lock(&gc_groups_lock);
	if (--g->refs == 0) {
		for (pp = &gc_groups; *pp != NULL; pp = &(*pp)->next)
			if (*pp == g) {
				*pp = g->next;
				break;
			}
		pthread_mutex_destroy(&g->lock);
		pthread_cond_destroy(&g->cond);
		free(g->key);
		free(g);
	}
	pthread_mutex_unlock(&gc_groups_lock);
}

/* Appends the batch in one transaction; sets every request's status. */
static void
gc_run_batch(struct sq *q, struct gc_req **v, size_t n)
{
	unsigned char prev[MDG_HASH_LEN];
	int64_t seq;
	size_t i;

	/* no write lock after the whole busy policy: retrying row by row
	 * would only wait that long again per row (test_faults.py) */
	if (tx_begin(q) == -1) {
		tx_rollback(q);
		for (i = 0; i < n; i++)
			v[i]->status = MDG_STORE_ERROR;
		return;
	}
	if (read_head(q, &seq, prev) == -1)
		goto fallback;
	for (i = 0; i < n; i++) {
		switch (append_row(q, v[i]->a, &seq, prev, v[i]->out)) {
		case AP_OK:
			v[i]->status = MDG_STORE_OK;
			break;
		case AP_CONFLICT:
			v[i]->status = MDG_STORE_CONFLICT;
			break;
		case AP_REFUSED:
			v[i]->status = MDG_STORE_ERROR;
			break;
		case AP_FAILED:
			goto fallback;
		}
	}
	if (tx_commit(q) == 0)
		return;
fallback:
	tx_rollback(q);
	for (i = 0; i < n; i++)
		v[i]->status = insert_one(q, v[i]->a, v[i]->out);
}

static enum mdg_store_status
sq_insert_acceptance(void *cls, const struct mdg_acceptance_new *a, struct mdg_acceptance_ref *out)
{
	struct sq *q = cls;
	struct gc_group *g = q->group;
	struct gc_req me = { .a = a, .out = out, .status = MDG_STORE_ERROR };
	struct gc_req *batch[GC_MAX_BATCH];
	size_t n;

	if (strlen(a->receipt_id) == 0 || strlen(a->accepted_at) == 0 ||
	    strlen(a->effective_from) == 0 || a->reason == NULL)
		return MDG_STORE_ERROR;
	if (g == NULL)
		return insert_one(q, a, out);

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
			for (n = 0; n < GC_MAX_BATCH && g->head != NULL; n++) {
				batch[n] = g->head;
				g->head = g->head->next;
			}
			if (g->head == NULL)
				g->tail = NULL;
			pthread_mutex_unlock(&g->lock);
			gc_run_batch(q, batch, n);
			pthread_mutex_lock(&g->lock);
			for (size_t i = 0; i < n; i++)
				batch[i]->done = 1;
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

static enum mdg_store_status
sq_crl_lookup(void *cls, const unsigned char *issuer, size_t issuer_len,
	      const unsigned char *serial, size_t serial_len, int *revoked)
{
	struct sq *q = cls;
	sqlite3_stmt *st = q->st[ST_CRL_LOOKUP];
	enum mdg_store_status s = MDG_STORE_ERROR;
	int rc;

	if (bind_blob(st, 1, issuer, issuer_len) != SQLITE_OK ||
	    bind_blob(st, 2, serial, serial_len) != SQLITE_OK)
		goto out;
	rc = first_step(st);
	if (rc == SQLITE_ROW)
		*revoked = 1;
	else if (rc == SQLITE_DONE)
		*revoked = 0;
	else
		goto out;
	s = MDG_STORE_OK;
out:
	done(st);
	return s;
}

static int
bind_dp(sqlite3_stmt *st, int i, const unsigned char *dp, size_t dp_len)
{
	if (dp == NULL)
		return sqlite3_bind_null(st, i);
	return bind_blob(st, i, dp, dp_len);
}

/* Steps ST_CRL_SCOPE (bound by the caller) and reads its row. With sha256
 * non-NULL also returns the held CRL's SHA-256. */
static enum mdg_store_status
read_scope(struct sq *q, struct mdg_crl_scope *out, unsigned char *sha256)
{
	sqlite3_stmt *st = q->st[ST_CRL_SCOPE];
	int rc = first_step(st), n;

	if (rc == SQLITE_DONE)
		return MDG_STORE_NOT_FOUND;
	if (rc != SQLITE_ROW)
		return MDG_STORE_ERROR;
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	n = sqlite3_column_bytes(st, 1);
	if (n < 0 || (size_t)n > sizeof(out->number))
		return MDG_STORE_ERROR;
	if (n > 0)
		memcpy(out->number, sqlite3_column_blob(st, 1), (size_t)n);
	out->number_len = (size_t)n;
	out->this_update = (time_t)sqlite3_column_int64(st, 2);
	out->next_update = (time_t)sqlite3_column_int64(st, 3);
	out->imported_at = (time_t)sqlite3_column_int64(st, 4);
	out->entries = sqlite3_column_int64(st, 5);
	if (sqlite3_column_type(st, 7) != SQLITE_NULL)
		out->retired_at = (time_t)sqlite3_column_int64(st, 7);
	if (sha256 != NULL) {
		if (sqlite3_column_bytes(st, 6) != 32)
			return MDG_STORE_ERROR;
		memcpy(sha256, sqlite3_column_blob(st, 6), 32);
	}
	return MDG_STORE_OK;
}

static enum mdg_store_status
sq_crl_scope(void *cls, const unsigned char *issuer, size_t issuer_len,
	     const unsigned char *dp, size_t dp_len, struct mdg_crl_scope *out)
{
	struct sq *q = cls;
	sqlite3_stmt *st = q->st[ST_CRL_SCOPE];
	enum mdg_store_status s = MDG_STORE_ERROR;

	if (bind_blob(st, 1, issuer, issuer_len) == SQLITE_OK &&
	    bind_dp(st, 2, dp, dp_len) == SQLITE_OK)
		s = read_scope(q, out, NULL);
	done(st);
	/* a retired scope covers nothing (its entries still count for
	 * crl_lookup) */
	if (s == MDG_STORE_OK && out->retired_at != 0)
		s = MDG_STORE_NOT_FOUND;
	return s;
}

/* One read transaction instead of one per statement: each takes and drops
 * the database's shared lock (fcntl) and checks the WAL (docs/performance.md). */
static enum mdg_store_status
sq_read_begin(void *cls)
{
	struct sq *q = cls;
	int rc = first_step(q->st[ST_BEGIN_READ]);

	sqlite3_reset(q->st[ST_BEGIN_READ]);
	return rc == SQLITE_DONE ? MDG_STORE_OK : MDG_STORE_ERROR;
}

static void
sq_read_end(void *cls)
{
	struct sq *q = cls;

	if (sqlite3_get_autocommit(q->db))
		return;
	if (tx_commit(q) != 0)
		tx_rollback(q);
}

static enum mdg_store_status
sq_list_crls(void *cls, int (*fn)(void *arg, const struct mdg_crl_scope *s), void *arg)
{
	struct sq *q = cls;
	sqlite3_stmt *st = q->st[ST_CRL_LIST];
	struct mdg_crl_scope sc;
	enum mdg_store_status s = MDG_STORE_ERROR;
	int rc, n;

	for (rc = first_step(st); rc == SQLITE_ROW; rc = sqlite3_step(st)) {
		memset(&sc, 0, sizeof(sc));
		sc.id = sqlite3_column_int64(st, 0);
		sc.issuer_der = sqlite3_column_blob(st, 1);
		sc.issuer_len = (size_t)sqlite3_column_bytes(st, 1);
		if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
			sc.dp_der = sqlite3_column_blob(st, 2);
			sc.dp_len = (size_t)sqlite3_column_bytes(st, 2);
			if (sc.dp_der == NULL)
				sc.dp_der = empty_blob;
		}
		n = sqlite3_column_bytes(st, 3);
		if (n < 0 || (size_t)n > sizeof(sc.number))
			goto out;
		if (n > 0)
			memcpy(sc.number, sqlite3_column_blob(st, 3), (size_t)n);
		sc.number_len = (size_t)n;
		sc.this_update = (time_t)sqlite3_column_int64(st, 4);
		sc.next_update = (time_t)sqlite3_column_int64(st, 5);
		sc.imported_at = (time_t)sqlite3_column_int64(st, 6);
		sc.entries = sqlite3_column_int64(st, 7);
		if (sqlite3_column_type(st, 8) != SQLITE_NULL)
			sc.retired_at = (time_t)sqlite3_column_int64(st, 8);
		if (fn(arg, &sc) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc == SQLITE_DONE)
		s = MDG_STORE_OK;
out:
	done(st);
	return s;
}

/* Numbers are magnitudes without leading zeros: longer is larger. */
static int
number_cmp(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	while (alen > 0 && *a == 0) {
		a++;
		alen--;
	}
	while (blen > 0 && *b == 0) {
		b++;
		blen--;
	}
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return alen ? memcmp(a, b, alen) : 0;
}

static void
scope_text(const struct mdg_crl_import *c, char *out, size_t outlen)
{
	char iss[512], dp[512];

	mdg_der_name_rfc4514(c->issuer_der, c->issuer_len, iss, sizeof(iss));
	if (c->dp_der == NULL) {
		snprintf(out, outlen, "%s (full CRL)", iss);
		return;
	}
	mdg_der_name_rfc4514(c->dp_der, c->dp_len, dp, sizeof(dp));
	snprintf(out, outlen, "%s (distribution point %s)", iss, dp);
}

int
mdg_crl_entry_cmp(const void *x, const void *y)
{
	const struct mdg_crl_entry *a = x, *b = y;
	size_t n = a->serial_len < b->serial_len ? a->serial_len : b->serial_len;
	int c = n ? memcmp(a->serial, b->serial, n) : 0;

	if (c != 0)
		return c;
	return (a->serial_len > b->serial_len) - (a->serial_len < b->serial_len);
}

/* The entries in serial order: inserted in key order they append to the
 * primary key's B-tree instead of splitting pages all over it (twice as
 * fast for large CRLs). crl.c hands them sorted; otherwise a sorted copy
 * is returned (NULL with *sorted = 1 if they already are). */
static struct mdg_crl_entry *
sort_entries(const struct mdg_crl_entry *e, size_t n, int *sorted)
{
	struct mdg_crl_entry *v;
	size_t i;

	*sorted = 1;
	for (i = 1; i < n; i++)
		if (mdg_crl_entry_cmp(&e[i - 1], &e[i]) > 0)
			break;
	if (i >= n)
		return NULL;
	*sorted = 0;
	if ((v = malloc(n * sizeof(*v))) == NULL)
		return NULL;
	memcpy(v, e, n * sizeof(*v));
	qsort(v, n, sizeof(*v), mdg_crl_entry_cmp);
	return v;
}

static enum mdg_store_status
sq_crl_import(void *cls, const struct mdg_crl_import *c, time_t now,
	      enum mdg_crl_import_outcome *outcome, char *msg, size_t msglen)
{
	struct sq *q = cls;
	sqlite3_stmt *st;
	struct mdg_crl_scope held;
	unsigned char held_sha[32];
	char scope[1100], nnew[64], nheld[64];
	enum mdg_store_status s = MDG_STORE_ERROR, f;
	struct mdg_crl_entry *order = NULL;
	const unsigned char *key;
	unsigned char *own_key = NULL;
	int64_t id, count = 0;
	size_t i, key_len;
	int cmp, rc, sorted;

	snprintf(msg, msglen, "database error");
	if (c->issuer_der == NULL || c->issuer_len == 0 || c->number_len > MDG_CRLNUM_MAX ||
	    (c->n_entries > 0 && c->entries == NULL) || (c->dp_der == NULL && c->dp_key != NULL)) {
		snprintf(msg, msglen, "invalid CRL import (internal error)");
		return MDG_STORE_ERROR;
	}
	/* the scope's key: the distribution point name in canonical form */
	key = c->dp_key;
	key_len = c->dp_key_len;
	if (c->dp_der != NULL && key == NULL) {
		if (mdg_der_name_canon(c->dp_der, c->dp_len, &own_key, &key_len) == -1) {
			snprintf(msg, msglen, "invalid CRL import: the distribution point is no name");
			return MDG_STORE_ERROR;
		}
		key = own_key;
	}
	if (tx_begin(q) == -1)
		goto out;

	st = q->st[ST_CRL_SCOPE];
	if (bind_blob(st, 1, c->issuer_der, c->issuer_len) != SQLITE_OK ||
	    bind_dp(st, 2, key, key_len) != SQLITE_OK)
		f = MDG_STORE_ERROR;
	else
		f = read_scope(q, &held, held_sha);
	done(st);
	if (f == MDG_STORE_ERROR)
		goto out;

	if (f == MDG_STORE_OK) {
		cmp = number_cmp(c->number, c->number_len, held.number, held.number_len);
		if (cmp == 0 && memcmp(c->sha256, held_sha, 32) == 0) {
			*outcome = MDG_CRL_UNCHANGED;
			if (held.retired_at != 0)
				snprintf(msg, msglen, "unchanged, and the scope stays retired: only a "
					 "newer CRL of it brings it back");
			else
				snprintf(msg, msglen, "unchanged");
			s = MDG_STORE_OK;
			goto out;
		}
		if (cmp <= 0) {
			scope_text(c, scope, sizeof(scope));
			mdg_number_decimal(c->number, c->number_len, nnew, sizeof(nnew));
			mdg_number_decimal(held.number, held.number_len, nheld, sizeof(nheld));
			if (cmp == 0)
				snprintf(msg, msglen, "CRL number %s is already held for %s with "
					 "different contents: refused", nnew, scope);
			else
				snprintf(msg, msglen, "CRL number %s is not newer than %s held for %s: "
					 "refused", nnew, nheld, scope);
			s = MDG_STORE_REFUSED;
			goto out;
		}
		id = held.id;
		st = q->st[ST_CRL_DEL_ENTRIES];
		sqlite3_bind_int64(st, 1, id);
		rc = sqlite3_step(st);
		done(st);
		if (rc != SQLITE_DONE)
			goto out;
	} else {
		st = q->st[ST_CRL_INSERT];
		if (bind_blob(st, 1, c->issuer_der, c->issuer_len) != SQLITE_OK ||
		    bind_dp(st, 2, c->dp_der, c->dp_len) != SQLITE_OK ||
		    bind_blob(st, 3, c->number, c->number_len) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 4, (sqlite3_int64)c->this_update) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 5, (sqlite3_int64)c->next_update) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 6, (sqlite3_int64)now) != SQLITE_OK ||
		    bind_blob(st, 7, c->sha256, 32) != SQLITE_OK ||
		    bind_dp(st, 8, key, key_len) != SQLITE_OK)
			rc = SQLITE_ERROR;
		else
			rc = sqlite3_step(st);
		done(st);
		if (rc != SQLITE_DONE)
			goto out;
		id = sqlite3_last_insert_rowid(q->db);
	}

	order = sort_entries(c->entries, c->n_entries, &sorted);
	if (order == NULL && !sorted)
		goto out;
	st = q->st[ST_CRL_INSERT_ENTRY];
	sqlite3_bind_int64(st, 1, id);
	for (i = 0; i < c->n_entries; i++) {
		const struct mdg_crl_entry *e = sorted ? &c->entries[i] : &order[i];

		if (e->serial_len > MDG_SERIAL_MAX ||
		    bind_blob(st, 2, e->serial, e->serial_len) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 3, (sqlite3_int64)e->revoked_at) != SQLITE_OK ||
		    (e->reason >= 0 ? sqlite3_bind_int(st, 4, e->reason)
				    : sqlite3_bind_null(st, 4)) != SQLITE_OK) {
			done(st);
			goto out;
		}
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			done(st);
			goto out;
		}
		/* A serial listed twice is kept once. */
		count += sqlite3_changes(q->db);
	}
	done(st);

	st = q->st[ST_CRL_UPDATE];
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
	    bind_blob(st, 2, c->number, c->number_len) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, (sqlite3_int64)c->this_update) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, (sqlite3_int64)c->next_update) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, (sqlite3_int64)now) != SQLITE_OK ||
	    bind_blob(st, 6, c->sha256, 32) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 7, count) != SQLITE_OK ||
	    bind_dp(st, 8, c->dp_der, c->dp_len) != SQLITE_OK)
		rc = SQLITE_ERROR;
	else
		rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE || sqlite3_changes(q->db) != 1)
		goto out;
	if (tx_commit(q) == -1)
		goto out;
	*outcome = MDG_CRL_IMPORTED;
	snprintf(msg, msglen, "imported");
	s = MDG_STORE_OK;
out:
	if (s == MDG_STORE_ERROR)
		snprintf(msg, msglen, "database error: %s", sqlite3_errmsg(q->db));
	tx_rollback(q);
	free(order);
	OPENSSL_free(own_key);
	return s;
}

static enum mdg_store_status
sq_crl_retire(void *cls, int64_t id, time_t now)
{
	struct sq *q = cls;
	sqlite3_stmt *st = q->st[ST_CRL_RETIRE];
	int rc;

	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)now) != SQLITE_OK)
		rc = SQLITE_ERROR;
	else
		rc = first_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return MDG_STORE_ERROR;
	return sqlite3_changes(q->db) == 1 ? MDG_STORE_OK : MDG_STORE_NOT_FOUND;
}

static enum mdg_store_status
sq_ping(void *cls)
{
	struct sq *q = cls;
	int rc = first_step(q->st[ST_PING]);

	done(q->st[ST_PING]);
	return rc == SQLITE_ROW ? MDG_STORE_OK : MDG_STORE_ERROR;
}

static enum mdg_store_status
sq_log_query(void *cls, const struct mdg_log_filter *f,
	     int (*fn)(void *arg, const struct mdg_acceptance_row *r), void *arg)
{
	return mdg_sqlite_log_query(((struct sq *)cls)->db, f, fn, arg);
}

static enum mdg_store_status
sq_log_head(void *cls, struct mdg_log_head *out)
{
	return mdg_sqlite_log_head(((struct sq *)cls)->db, out);
}

/* issue 3 (operators): export batches and log stats, in store_sqlite_log.c */
static enum mdg_store_status
sq_export_new(void *cls, const char *created_at, struct mdg_export_batch *out)
{
	return mdg_sqlite_export_new(((struct sq *)cls)->db, created_at, out);
}

static enum mdg_store_status
sq_export_get(void *cls, int64_t id, struct mdg_export_batch *out)
{
	return mdg_sqlite_export_get(((struct sq *)cls)->db, id, out);
}

static enum mdg_store_status
sq_export_complete(void *cls, int64_t id, const char *completed_at)
{
	return mdg_sqlite_export_complete(((struct sq *)cls)->db, id, completed_at);
}

static enum mdg_store_status
sq_log_stats(void *cls, struct mdg_log_stats *out)
{
	return mdg_sqlite_log_stats(((struct sq *)cls)->db, out);
}

static void
sq_close(void *cls)
{
	struct sq *q = cls;
	int i;

	if (q == NULL)
		return;
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(q->st[i]);
	sqlite3_close(q->db);
	gc_leave(q->group);
	free(q);
}

static const struct mdg_store_ops sqlite_ops = {
	.find_acceptance = sq_find_acceptance,
	.insert_acceptance = sq_insert_acceptance,
	.crl_lookup = sq_crl_lookup,
	.crl_scope = sq_crl_scope,
	.list_crls = sq_list_crls,
	.crl_import = sq_crl_import,
	.log_query = sq_log_query,
	.log_head = sq_log_head,
	.ping = sq_ping,
	.close = sq_close,
	.export_new = sq_export_new,
	.export_get = sq_export_get,
	.export_complete = sq_export_complete,
	.log_stats = sq_log_stats,
	.read_begin = sq_read_begin,
	.read_end = sq_read_end,
	.crl_retire = sq_crl_retire,
};

/* Runs a statement without parameters that may return one row, which is
 * ignored except for an integer in *val (if non-NULL). */
static int
exec_int(sqlite3 *db, const char *sql, int *val)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = first_step(st);
	if (rc == SQLITE_ROW && val != NULL)
		*val = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int
set_pragmas(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	int ok;

	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK ||
	    first_step(st) != SQLITE_ROW) {
		snprintf(err, errlen, "database %s: cannot set WAL mode: %s", path, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -1;
	}
	mode = sqlite3_column_text(st, 0);
	ok = mode != NULL && sqlite3_stricmp((const char *)mode, "wal") == 0;
	sqlite3_finalize(st);
	if (!ok) {
		snprintf(err, errlen, "database %s: cannot set WAL mode (is it on a network file "
			 "system?)", path);
		return -1;
	}
	if (exec_int(db, "PRAGMA synchronous = FULL", NULL) == -1 ||
	    exec_int(db, "PRAGMA foreign_keys = ON", NULL) == -1) {
		snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static int
read_version(sqlite3 *db, const char *path, int *v, char *err, size_t errlen)
{
	if (exec_int(db, "PRAGMA user_version", v) == -1) {
		snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

int
mdg_store_sqlite_open(struct mdg_store *stp, const char *path, char *err, size_t errlen)
{
	struct sq *q = NULL;
	int i, v = 0, want = mdg_schema_n_migrations, rc = -1;

	stp->ops = NULL;
	stp->cls = NULL;
	if (access(path, F_OK) == -1) {
		snprintf(err, errlen, "database %s: %s: run madoguchi-admin db init", path,
			 strerror(errno));
		return -1;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "database %s: %s", path,
			 q->db != NULL ? sqlite3_errmsg(q->db) : "out of memory");
		goto out;
	}
	sqlite3_extended_result_codes(q->db, 1);
	sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
	if (read_version(q->db, path, &v, err, errlen) == -1)
		goto out;
	if (v == 0) {
		snprintf(err, errlen, "database %s is not initialised: run madoguchi-admin db init",
			 path);
		goto out;
	}
	if (v < want) {
		snprintf(err, errlen, "database %s at schema version %d, this build expects %d: run "
			 "madoguchi-admin db migrate", path, v, want);
		goto out;
	}
	if (v > want) {
		snprintf(err, errlen, "database %s at schema version %d, this build expects %d: the "
			 "database is newer than this program (upgrade madoguchi)", path, v, want);
		goto out;
	}
	if (set_pragmas(q->db, path, err, errlen) == -1)
		goto out;
	for (i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(q->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &q->st[i],
				       NULL) != SQLITE_OK) {
			snprintf(err, errlen, "database %s: preparing statement %d: %s", path, i,
				 sqlite3_errmsg(q->db));
			goto out;
		}
	}
	/* without a group (no memory) acceptances are committed one by one */
	q->group = gc_join(path);
	stp->ops = &sqlite_ops;
	stp->cls = q;
	q = NULL;
	rc = 0;
out:
	sq_close(q);
	return rc;
}

/* What a migration needs beyond its SQL, inside its transaction.
 * 5 (005_crl_dp_key.sql): the canonical key of every partition CRL held. */
static int
post_migrate(sqlite3 *db, const char *path, int version, char *err, size_t errlen)
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	unsigned char *key = NULL;
	size_t key_len;
	int64_t id;
	int rc = -1, step;

	if (version != 5)
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT id, dp FROM crls WHERE dp IS NOT NULL AND dp_key IS NULL"
			       " ORDER BY id LIMIT 1", -1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "UPDATE crls SET dp_key = ?2 WHERE id = ?1", -1, &upd, NULL) !=
		    SQLITE_OK)
		goto dberr;
	/* one row at a time: no update under an open cursor of the same table */
	while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
		id = sqlite3_column_int64(sel, 0);
		if (mdg_der_name_canon(sqlite3_column_blob(sel, 1),
				       (size_t)sqlite3_column_bytes(sel, 1), &key, &key_len) == -1) {
			snprintf(err, errlen, "database %s: migration 5: the distribution point of CRL "
				 "id %lld does not parse as a name", path, (long long)id);
			goto out;
		}
		sqlite3_reset(sel);
		if (sqlite3_bind_int64(upd, 1, id) != SQLITE_OK ||
		    bind_blob(upd, 2, key, key_len) != SQLITE_OK)
			goto dberr;
		step = sqlite3_step(upd);
		done(upd);
		OPENSSL_free(key);
		key = NULL;
		if (step == SQLITE_CONSTRAINT_UNIQUE) {
			snprintf(err, errlen, "database %s: migration 5: CRL id %lld names the same "
				 "distribution point as another CRL of its issuer, in another encoding: "
				 "two scopes are now one; delete one of them (crls and its crl_entries) "
				 "and migrate again", path, (long long)id);
			goto out;
		}
		if (step != SQLITE_DONE)
			goto dberr;
	}
	if (step != SQLITE_DONE)
		goto dberr;
	rc = 0;
	goto out;
dberr:
	snprintf(err, errlen, "database %s: migration 5 failed: %s", path, sqlite3_errmsg(db));
out:
	OPENSSL_free(key);
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	return rc;
}

int
mdg_store_sqlite_migrate(const char *path, int *from, int *to, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	char sql[64];
	int fd, v = 0, cur, want = mdg_schema_n_migrations, rc = -1, intx = 0;

	*from = *to = 0;
	/* The database holds personal data: create it 0600 (SQLite gives its
	 * -wal and -shm files the same mode). */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "database %s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "database %s: %s", path,
			 db != NULL ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	if (read_version(db, path, &v, err, errlen) == -1)
		goto out;
	*from = *to = v;
	if (v > want) {
		snprintf(err, errlen, "database %s at schema version %d, this build only knows up to "
			 "%d: upgrade madoguchi", path, v, want);
		goto out;
	}
	if (set_pragmas(db, path, err, errlen) == -1)
		goto out;
	for (cur = v + 1; cur <= want; cur++) {
		if (exec_int(db, "BEGIN IMMEDIATE", NULL) == -1) {
			snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(db));
			goto out;
		}
		intx = 1;
		/* Another migrate may have run meanwhile: re-read under the lock. */
		if (read_version(db, path, &v, err, errlen) == -1)
			goto out;
		if (v < cur) {
			if (sqlite3_exec(db, mdg_schema_migrations[cur - 1], NULL, NULL, NULL) !=
			    SQLITE_OK) {
				snprintf(err, errlen, "database %s: migration %d failed: %s", path, cur,
					 sqlite3_errmsg(db));
				goto out;
			}
			if (post_migrate(db, path, cur, err, errlen) == -1)
				goto out;
			snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", cur);
			if (exec_int(db, sql, NULL) == -1) {
				snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(db));
				goto out;
			}
		}
		if (exec_int(db, "COMMIT", NULL) == -1) {
			snprintf(err, errlen, "database %s: commit of migration %d failed: %s", path,
				 cur, sqlite3_errmsg(db));
			goto out;
		}
		intx = 0;
		*to = cur;
	}
	rc = 0;
out:
	if (intx && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}
