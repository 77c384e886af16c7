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

#include "backend.h"
#include "chain.h"
#include "group_commit.h"
#include "merkle.h"
#include "names.h"
#include "store.h"
#include "store_sqlite.h"
#include "store_sqlite_int.h"
#include "store_sqlite_log.h"

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_BEGIN_READ] = "BEGIN DEFERRED",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_PING] = "SELECT count(*) FROM crls",
	[ST_FIND_ACC] = "SELECT seq, receipt_id, accepted_at, effective_from FROM acceptances"
			" WHERE issuer = ?1 AND serial = ?2",
	[ST_LAST_ACC] = "SELECT seq, hash FROM acceptances ORDER BY seq DESC LIMIT 1",
	[ST_INSERT_ACC] = "INSERT INTO acceptances (seq, receipt_id, issuer, serial, cert_sha256,"
			  " accepted_at, reason, holder_name, request, request_sha256, client_addr,"
			  " effective_from, prev_hash, hash, cert_not_after, cert_subject)"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
	[ST_CRL_LOOKUP] = "SELECT 1 FROM crls c JOIN crl_entries e ON e.crl_id = c.id"
			  " WHERE c.issuer = ?1 AND e.serial = ?2 LIMIT 1",
	[ST_CRL_SCOPE] = "SELECT id, number, this_update, next_update, imported_at, entries, sha256,"
			 " retired_at FROM crls WHERE issuer = ?1 AND dp_key IS ?2",
	[ST_CRL_LIST] = "SELECT id, issuer, dp, number, this_update, next_update, imported_at, entries,"
			" retired_at FROM crls ORDER BY issuer, dp IS NOT NULL, dp",
	[ST_CRL_INSERT] = "INSERT INTO crls (issuer, dp, number, this_update, next_update, imported_at,"
			  " sha256, entries, dp_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8)",
	[ST_CRL_UPDATE] = "UPDATE crls SET number = ?2, this_update = ?3, next_update = ?4,"
			  " imported_at = ?5, sha256 = ?6, entries = ?7, dp = ?8, retired_at = NULL"
			  " WHERE id = ?1",
	[ST_CRL_DEL_ENTRIES] = "DELETE FROM crl_entries WHERE crl_id = ?1",
	[ST_CRL_INSERT_ENTRY] = "INSERT OR IGNORE INTO crl_entries (crl_id, serial, revoked_at, reason)"
				" VALUES (?1, ?2, ?3, ?4)",
	[ST_CRL_RETIRE] = "UPDATE crls SET retired_at = ?2 WHERE id = ?1 AND retired_at IS NULL",
	[ST_NODE_GET] = mdg_sqlite_node_get_sql,
	[ST_NODE_PUT] = mdg_sqlite_node_put_sql,
	[ST_CP_LATEST] = mdg_sqlite_cp_latest_sql,
	[ST_CP_INSERT] = mdg_sqlite_cp_insert_sql,
	[ST_BY_RECEIPT] = mdg_sqlite_log_receipt_sql,
};

int mdg_store_sqlite_schema_version(void)
{
	return mdg_schema_n_migrations;
}

static int copy_text(sqlite3_stmt *st, int col, char *out, size_t outlen)
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
static enum mdg_store_status read_acceptance(struct sq *q, struct mdg_acceptance_ref *out)
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

static enum mdg_store_status find_acceptance_locked(struct sq *q, const unsigned char *issuer, size_t issuer_len,
						    const unsigned char *serial, size_t serial_len,
						    struct mdg_acceptance_ref *out)
{
	sqlite3_stmt *st = q->st[ST_FIND_ACC];
	enum mdg_store_status s = MDG_STORE_ERROR;

	if (bind_blob(st, 1, issuer, issuer_len) == SQLITE_OK && bind_blob(st, 2, serial, serial_len) == SQLITE_OK)
		s = read_acceptance(q, out);
	done(st);
	return s;
}

static enum mdg_store_status sq_find_acceptance(void *cls, const unsigned char *issuer, size_t issuer_len,
						const unsigned char *serial, size_t serial_len,
						struct mdg_acceptance_ref *out)
{
	return find_acceptance_locked(cls, issuer, issuer_len, serial, serial_len, out);
}

/* The chain's head inside the write transaction: the last seq (0 for an
 * empty log) and its hash (zeros); with the Merkle tree's frontier there. */
static int read_chain_head(struct sq *q, int64_t *seq, unsigned char prev[MDG_HASH_LEN]);

static int read_head(struct sq *q, int64_t *seq, unsigned char prev[MDG_HASH_LEN], struct mdg_merkle_frontier *f)
{
	if (read_chain_head(q, seq, prev) == -1)
		return -1;
	if (mdg_sqlite_tree_load(q->st[ST_NODE_GET], (uint64_t)*seq, f) == 0)
		return 0;
	/* rows without their leaves (written behind our back): from the rows */
	if (mdg_sqlite_tree_catch_up(q->db, q->st[ST_NODE_GET], q->st[ST_NODE_PUT], (uint64_t)*seq, f, q->pending,
				     sizeof(q->pending)) != 0)
		return -1;
	return 0;
}

static int read_chain_head(struct sq *q, int64_t *seq, unsigned char prev[MDG_HASH_LEN])
{
	sqlite3_stmt *last = q->st[ST_LAST_ACC];
	int rc = first_step(last), r = -1;

	if (rc == SQLITE_ROW) {
		if (sqlite3_column_bytes(last, 1) == MDG_HASH_LEN && sqlite3_column_int64(last, 0) < INT64_MAX) {
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
	AP_OK,       /* appended; *seq and prev advanced */
	AP_CONFLICT, /* (issuer, serial) held: *out is that row */
	AP_REFUSED,  /* this row cannot be written (receipt id taken); nothing written */
	AP_FAILED,   /* the transaction must be abandoned */
};

/* Appends one row after (*seq, prev) inside the write transaction. A failed
 * INSERT is undone by SQLite at statement level, so the transaction stays
 * usable for the rows after it. */
static enum append_result append_row(struct sq *q, const struct mdg_acceptance_new *a, int64_t *seq,
				     unsigned char prev[MDG_HASH_LEN], struct mdg_merkle_frontier *tree,
				     struct mdg_acceptance_ref *out)
{
	sqlite3_stmt *ins = q->st[ST_INSERT_ACC];
	struct mdg_acceptance_row leaf;
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

	if (sqlite3_bind_int64(ins, 1, row.seq) != SQLITE_OK || bind_text(ins, 2, a->receipt_id) != SQLITE_OK ||
	    bind_blob(ins, 3, a->issuer_der, a->issuer_len) != SQLITE_OK ||
	    bind_blob(ins, 4, a->serial, a->serial_len) != SQLITE_OK ||
	    bind_blob(ins, 5, a->cert_sha256, 32) != SQLITE_OK || bind_text(ins, 6, a->accepted_at) != SQLITE_OK ||
	    bind_text(ins, 7, a->reason) != SQLITE_OK || bind_text(ins, 8, a->holder_name) != SQLITE_OK ||
	    bind_blob(ins, 9, a->request_der, a->request_len) != SQLITE_OK ||
	    bind_blob(ins, 10, a->request_sha256, 32) != SQLITE_OK || bind_text(ins, 11, a->client_addr) != SQLITE_OK ||
	    bind_text(ins, 12, a->effective_from) != SQLITE_OK || bind_blob(ins, 13, prev, MDG_HASH_LEN) != SQLITE_OK ||
	    bind_blob(ins, 14, hash, MDG_HASH_LEN) != SQLITE_OK ||
	    (a->cert_subject_der != NULL ? sqlite3_bind_int64(ins, 15, a->cert_not_after)
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
		f = find_acceptance_locked(q, a->issuer_der, a->issuer_len, a->serial, a->serial_len, out);
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
	/* the Merkle tree's nodes, in the same transaction (a failure here
	 * abandons it: the row and its leaf go together) */
	memset(&leaf, 0, sizeof(leaf));
	leaf.seq = row.seq;
	leaf.receipt_id = a->receipt_id;
	leaf.issuer_der = a->issuer_der;
	leaf.issuer_len = a->issuer_len;
	leaf.serial = a->serial;
	leaf.serial_len = a->serial_len;
	leaf.accepted_at = a->accepted_at;
	leaf.effective_from = a->effective_from;
	leaf.reason = a->reason;
	leaf.request_sha256 = a->request_sha256;
	leaf.request_sha256_len = 32;
	if (mdg_sqlite_tree_append(q->st[ST_NODE_PUT], tree, &leaf) != 0) {
		snprintf(q->pending, sizeof(q->pending), "the Merkle tree's nodes of seq %lld not written: %s",
			 (long long)row.seq, sqlite3_errmsg(q->db));
		return AP_FAILED;
	}
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
static enum mdg_store_status insert_one(struct sq *q, const struct mdg_acceptance_new *a,
					struct mdg_acceptance_ref *out)
{
	unsigned char prev[MDG_HASH_LEN];
	struct mdg_merkle_frontier f;
	enum mdg_store_status s = MDG_STORE_ERROR;
	int64_t seq;

	if (tx_begin(q) == -1 || read_head(q, &seq, prev, &f) == -1)
		goto out;
	switch (append_row(q, a, &seq, prev, &f, out)) {
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

/* Group commit (group_commit.h): the leader appends the queued rows in one
 * transaction, one COMMIT, one fsync (synchronous=FULL in WAL), holding the
 * write lock throughout, so seq and the hash chain stay strictly
 * sequential. If the batch fails, every row is retried in a transaction of
 * its own, so no caller is lost or misreported. */
/* Appends the batch in one transaction; sets every request's status. */
static void gc_run_batch(void *cls, struct mdg_gc_req **v, size_t n)
{
	struct sq *q = cls;
	unsigned char prev[MDG_HASH_LEN];
	struct mdg_merkle_frontier f;
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
	if (read_head(q, &seq, prev, &f) == -1)
		goto fallback;
	for (i = 0; i < n; i++) {
		switch (append_row(q, v[i]->a, &seq, prev, &f, v[i]->out)) {
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

static enum mdg_store_status sq_insert_acceptance(void *cls, const struct mdg_acceptance_new *a,
						  struct mdg_acceptance_ref *out)
{
	struct sq *q = cls;

	if (strlen(a->receipt_id) == 0 || strlen(a->accepted_at) == 0 || strlen(a->effective_from) == 0 ||
	    a->reason == NULL)
		return MDG_STORE_ERROR;
	if (q->group == NULL)
		return insert_one(q, a, out);
	return mdg_gc_submit(q->group, a, out, gc_run_batch, q);
}

/* One read transaction instead of one per statement: each takes and drops
 * the database's shared lock (fcntl) and checks the WAL (docs/performance.md). */
static enum mdg_store_status sq_read_begin(void *cls)
{
	struct sq *q = cls;
	int rc = first_step(q->st[ST_BEGIN_READ]);

	sqlite3_reset(q->st[ST_BEGIN_READ]);
	return rc == SQLITE_DONE ? MDG_STORE_OK : MDG_STORE_ERROR;
}

static void sq_read_end(void *cls)
{
	struct sq *q = cls;

	if (sqlite3_get_autocommit(q->db))
		return;
	if (tx_commit(q) != 0)
		tx_rollback(q);
}

static enum mdg_store_status sq_ping(void *cls)
{
	struct sq *q = cls;
	int rc = first_step(q->st[ST_PING]);

	done(q->st[ST_PING]);
	return rc == SQLITE_ROW ? MDG_STORE_OK : MDG_STORE_ERROR;
}

static enum mdg_store_status sq_log_query(void *cls, const struct mdg_log_filter *f,
					  int (*fn)(void *arg, const struct mdg_acceptance_row *r), void *arg)
{
	struct sq *q = cls;

	/* one receipt (every receipt answer, every proof): the statement
	 * prepared once; any other filter is an operator's query */
	if (mdg_sqlite_log_receipt_only(f))
		return mdg_sqlite_log_run(q->st[ST_BY_RECEIPT], f, fn, arg);
	return mdg_sqlite_log_query(q->db, f, fn, arg);
}

static enum mdg_store_status sq_log_head(void *cls, struct mdg_log_head *out)
{
	return mdg_sqlite_log_head(((struct sq *)cls)->db, out);
}

/* issue 3 (operators): export batches and log stats, in store_sqlite_log.c */
static enum mdg_store_status sq_export_new(void *cls, const char *created_at, struct mdg_export_batch *out)
{
	return mdg_sqlite_export_new(((struct sq *)cls)->db, created_at, out);
}

static enum mdg_store_status sq_export_get(void *cls, int64_t id, struct mdg_export_batch *out)
{
	return mdg_sqlite_export_get(((struct sq *)cls)->db, id, out);
}

static enum mdg_store_status sq_export_complete(void *cls, int64_t id, const char *completed_at)
{
	return mdg_sqlite_export_complete(((struct sq *)cls)->db, id, completed_at);
}

static enum mdg_store_status sq_log_stats(void *cls, struct mdg_log_stats *out)
{
	return mdg_sqlite_log_stats(((struct sq *)cls)->db, out);
}

/* The error channel: after each operation, a failure is recorded as the
 * operation's name and SQLite's message (kept before a ROLLBACK, else the
 * connection's), until the next failure. */
static enum mdg_store_status noted(void *cls, const char *op, enum mdg_store_status s)
{
	struct sq *q = cls;
	int rc = sqlite3_errcode(q->db);

	if (s == MDG_STORE_ERROR)
		snprintf(q->err, sizeof(q->err), "%s: %s", op,
			 q->pending[0] != '\0' ? q->pending
			 : rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE
				 ? sqlite3_errmsg(q->db)
				 : "failed (a row that does not read, or out of memory)");
	q->pending[0] = '\0';
	return s;
}

static const char *sq_error(void *cls)
{
	struct sq *q = cls;

	return q != NULL ? q->err : "";
}

/* The operations as the ops table gives them: each through noted(). */
static enum mdg_store_status w_find_acceptance(void *cls, const unsigned char *issuer, size_t issuer_len,
					       const unsigned char *serial, size_t serial_len,
					       struct mdg_acceptance_ref *out)
{
	return noted(cls, "find_acceptance", sq_find_acceptance(cls, issuer, issuer_len, serial, serial_len, out));
}

static enum mdg_store_status w_insert_acceptance(void *cls, const struct mdg_acceptance_new *a,
						 struct mdg_acceptance_ref *out)
{
	return noted(cls, "insert_acceptance", sq_insert_acceptance(cls, a, out));
}

static enum mdg_store_status w_crl_lookup(void *cls, const unsigned char *issuer, size_t issuer_len,
					  const unsigned char *serial, size_t serial_len, int *revoked)
{
	return noted(cls, "crl_lookup", mdg_sqlite_crl_lookup(cls, issuer, issuer_len, serial, serial_len, revoked));
}

static enum mdg_store_status w_crl_scope(void *cls, const unsigned char *issuer, size_t issuer_len,
					 const unsigned char *dp, size_t dp_len, struct mdg_crl_scope *out)
{
	return noted(cls, "crl_scope", mdg_sqlite_crl_scope(cls, issuer, issuer_len, dp, dp_len, out));
}

static enum mdg_store_status w_list_crls(void *cls, int (*fn)(void *arg, const struct mdg_crl_scope *s), void *arg)
{
	return noted(cls, "list_crls", mdg_sqlite_list_crls(cls, fn, arg));
}

static enum mdg_store_status w_crl_import(void *cls, const struct mdg_crl_import *c, time_t now,
					  enum mdg_crl_import_outcome *outcome, char *msg, size_t msglen)
{
	return noted(cls, "crl_import", mdg_sqlite_crl_import(cls, c, now, outcome, msg, msglen));
}

static enum mdg_store_status w_crl_retire(void *cls, int64_t id, time_t now)
{
	return noted(cls, "crl_retire", mdg_sqlite_crl_retire(cls, id, now));
}

static enum mdg_store_status w_log_query(void *cls, const struct mdg_log_filter *f,
					 int (*fn)(void *arg, const struct mdg_acceptance_row *r), void *arg)
{
	return noted(cls, "log_query", sq_log_query(cls, f, fn, arg));
}

static enum mdg_store_status w_log_head(void *cls, struct mdg_log_head *out)
{
	return noted(cls, "log_head", sq_log_head(cls, out));
}

static enum mdg_store_status w_log_stats(void *cls, struct mdg_log_stats *out)
{
	return noted(cls, "log_stats", sq_log_stats(cls, out));
}

static enum mdg_store_status w_export_new(void *cls, const char *created_at, struct mdg_export_batch *out)
{
	return noted(cls, "export_new", sq_export_new(cls, created_at, out));
}

static enum mdg_store_status w_export_get(void *cls, int64_t id, struct mdg_export_batch *out)
{
	return noted(cls, "export_get", sq_export_get(cls, id, out));
}

static enum mdg_store_status w_export_complete(void *cls, int64_t id, const char *completed_at)
{
	return noted(cls, "export_complete", sq_export_complete(cls, id, completed_at));
}

static enum mdg_store_status w_ping(void *cls)
{
	return noted(cls, "ping", sq_ping(cls));
}

static enum mdg_store_status w_read_begin(void *cls)
{
	return noted(cls, "read_begin", sq_read_begin(cls));
}

static void sq_close(void *cls)
{
	struct sq *q = cls;
	int i;

	if (q == NULL)
		return;
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(q->st[i]);
	sqlite3_finalize(q->copy_acc);
	sqlite3_finalize(q->copy_entry);
	sqlite3_close(q->db);
	mdg_gc_leave(q->group);
	free(q);
}

/* The log's Merkle tree (store_sqlite_merkle.c). */
static enum mdg_store_status w_merkle_node(void *cls, uint64_t level, uint64_t index, unsigned char out[32])
{
	return noted(cls, "merkle_node",
		     mdg_sqlite_merkle_node(((struct sq *)cls)->st[ST_NODE_GET], level, index, out));
}

static enum mdg_store_status w_checkpoint_latest(void *cls, struct mdg_checkpoint_row *out)
{
	return noted(cls, "checkpoint_latest", mdg_sqlite_checkpoint_latest(((struct sq *)cls)->st[ST_CP_LATEST], out));
}

static enum mdg_store_status w_checkpoint_insert(void *cls, const struct mdg_checkpoint_row *cp)
{
	struct sq *q = cls;

	return noted(cls, "checkpoint_insert", mdg_sqlite_checkpoint_insert(q->db, q->st[ST_CP_INSERT], cp));
}

static enum mdg_store_status w_checkpoint_list(void *cls, int (*fn)(void *arg, const struct mdg_checkpoint_row *c),
					       void *arg)
{
	return noted(cls, "checkpoint_list", mdg_sqlite_checkpoint_list(((struct sq *)cls)->db, fn, arg));
}

/* db copy (store_sqlite_copy.c). */
static enum mdg_store_status w_copy_out_crls(void *cls, int (*fn)(void *arg, const struct mdg_crl_copy *c), void *arg)
{
	return noted(cls, "copy_out_crls", mdg_sqlite_copy_out_crls(cls, fn, arg));
}

static enum mdg_store_status w_copy_out_batches(void *cls, int (*fn)(void *arg, const struct mdg_export_batch *b),
						void *arg)
{
	return noted(cls, "copy_out_batches", mdg_sqlite_copy_out_batches(cls, fn, arg));
}

static enum mdg_store_status w_copy_begin(void *cls, char *msg, size_t msglen)
{
	return noted(cls, "copy_begin", mdg_sqlite_copy_begin(cls, msg, msglen));
}

static enum mdg_store_status w_copy_crl(void *cls, const struct mdg_crl_copy *c)
{
	return noted(cls, "copy_crl", mdg_sqlite_copy_crl(cls, c));
}

static enum mdg_store_status w_copy_batch(void *cls, const struct mdg_export_batch *b)
{
	return noted(cls, "copy_batch", mdg_sqlite_copy_batch(cls, b));
}

static enum mdg_store_status w_copy_acceptance(void *cls, const struct mdg_acceptance_row *r)
{
	return noted(cls, "copy_acceptance", mdg_sqlite_copy_acceptance(cls, r));
}

static enum mdg_store_status w_copy_end(void *cls, int commit)
{
	return noted(cls, "copy_end", mdg_sqlite_copy_end(cls, commit));
}

static const struct mdg_store_ops sqlite_ops = {
	.find_acceptance = w_find_acceptance,
	.insert_acceptance = w_insert_acceptance,
	.crl_lookup = w_crl_lookup,
	.crl_scope = w_crl_scope,
	.list_crls = w_list_crls,
	.crl_import = w_crl_import,
	.crl_retire = w_crl_retire,
	.log_query = w_log_query,
	.log_head = w_log_head,
	.log_stats = w_log_stats,
	.export_new = w_export_new,
	.export_get = w_export_get,
	.export_complete = w_export_complete,
	.merkle_node = w_merkle_node,
	.checkpoint_latest = w_checkpoint_latest,
	.checkpoint_insert = w_checkpoint_insert,
	.checkpoint_list = w_checkpoint_list,
	.copy_out_crls = w_copy_out_crls,
	.copy_out_batches = w_copy_out_batches,
	.copy_begin = w_copy_begin,
	.copy_crl = w_copy_crl,
	.copy_batch = w_copy_batch,
	.copy_acceptance = w_copy_acceptance,
	.copy_end = w_copy_end,
	.ping = w_ping,
	.read_begin = w_read_begin,
	.read_end = sq_read_end,
	.error = sq_error,
	.close = sq_close,
};

int mdg_store_sqlite_open(struct mdg_store *stp, const char *path, char *err, size_t errlen)
{
	struct sq *q = NULL;
	char real[PATH_MAX];
	int i, v = 0, want = mdg_schema_n_migrations, rc = -1;

	stp->ops = NULL;
	stp->cls = NULL;
	if (access(path, F_OK) == -1) {
		snprintf(err, errlen, "database %s: %s: run madoguchi-admin db init", path, strerror(errno));
		return -1;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "database %s: %s", path, q->db != NULL ? sqlite3_errmsg(q->db) : "out of memory");
		goto out;
	}
	sqlite3_extended_result_codes(q->db, 1);
	sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
	if (mdg_sqlite_read_version(q->db, path, &v, err, errlen) == -1)
		goto out;
	if (v == 0) {
		snprintf(err, errlen, "database %s is not initialised: run madoguchi-admin db init", path);
		goto out;
	}
	if (v < want) {
		snprintf(err, errlen,
			 "database %s at schema version %d, this build expects %d: run "
			 "madoguchi-admin db migrate",
			 path, v, want);
		goto out;
	}
	if (v > want) {
		snprintf(err, errlen,
			 "database %s at schema version %d, this build expects %d: the "
			 "database is newer than this program (upgrade madoguchi)",
			 path, v, want);
		goto out;
	}
	if (mdg_sqlite_set_pragmas(q->db, path, err, errlen) == -1)
		goto out;
	for (i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(q->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &q->st[i], NULL) !=
		    SQLITE_OK) {
			snprintf(err, errlen, "database %s: preparing statement %d: %s", path, i,
				 sqlite3_errmsg(q->db));
			goto out;
		}
	}
	/* without a group (no memory) acceptances are committed one by one */
	q->group = mdg_gc_join(realpath(path, real) != NULL ? real : path);
	stp->ops = &sqlite_ops;
	stp->cls = q;
	q = NULL;
	rc = 0;
out:
	sq_close(q);
	return rc;
}

static int sqlite_open_cfg(struct mdg_store *st, const struct mdg_config *cfg, char *err, size_t errlen)
{
	return mdg_store_sqlite_open(st, cfg->database, err, errlen);
}

static int sqlite_migrate_cfg(const struct mdg_config *cfg, int *from, int *to, char *err, size_t errlen)
{
	return mdg_store_sqlite_migrate(cfg->database, from, to, err, errlen);
}

const struct mdg_store_backend mdg_store_backend_sqlite = {
	.name = "sqlite",
	.open = sqlite_open_cfg,
	.migrate = sqlite_migrate_cfg,
	.schema_version = mdg_store_sqlite_schema_version,
};
