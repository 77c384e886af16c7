/* The SQLite backend's side of db copy (madoguchi-admin db copy,
 * docs/operations.md): every CRL scope with its entries and every export
 * batch read out; and the target's one write transaction (BEGIN
 * IMMEDIATE), in which rows go in as they were stored (ids, seq, hashes
 * kept) and, before COMMIT, the Merkle tree's nodes are computed from the
 * rows (the catch-up of store_sqlite_merkle.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "merkle.h"
#include "store.h"
#include "store_sqlite_int.h"

static const char copy_acc_sql[] =
	"INSERT INTO acceptances (seq, receipt_id, issuer, serial, cert_sha256, accepted_at, reason,"
	" holder_name, request, request_sha256, client_addr, effective_from, export_batch, prev_hash, hash,"
	" cert_not_after, cert_subject) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
	" ?15, ?16, ?17)";
static const char copy_entry_sql[] = "INSERT INTO crl_entries (crl_id, serial, revoked_at, reason)"
				     " VALUES (?1, ?2, ?3, ?4)";

static const unsigned char *col_blob(sqlite3_stmt *st, int c, size_t *len)
{
	const unsigned char *p;

	*len = 0;
	if (sqlite3_column_type(st, c) == SQLITE_NULL)
		return NULL;
	p = sqlite3_column_blob(st, c);
	*len = (size_t)sqlite3_column_bytes(st, c);
	return p != NULL ? p : empty_blob;
}

/* --------------------------------------------------------- the source */

static enum mdg_store_status scope_entries(struct sq *q, int64_t id, struct mdg_crl_entry **out, size_t *n)
{
	struct mdg_crl_entry *e = NULL, *ne;
	sqlite3_stmt *st = NULL;
	enum mdg_store_status s = MDG_STORE_ERROR;
	size_t cap = 0, k = 0, len;
	const unsigned char *p;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(q->db,
			       "SELECT serial, revoked_at, reason FROM crl_entries WHERE crl_id = ?1 ORDER BY serial",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			cap = cap != 0 ? cap * 2 : 1024;
			if ((ne = realloc(e, cap * sizeof(*e))) == NULL) {
				snprintf(q->pending, sizeof(q->pending), "out of memory for the entries of CRL %lld",
					 (long long)id);
				goto out;
			}
			e = ne;
		}
		p = col_blob(st, 0, &len);
		if (p == NULL || len > MDG_SERIAL_MAX) {
			snprintf(q->pending, sizeof(q->pending), "CRL %lld: an entry's serial does not read",
				 (long long)id);
			goto out;
		}
		memset(&e[k], 0, sizeof(e[k]));
		memcpy(e[k].serial, p, len);
		e[k].serial_len = len;
		e[k].revoked_at = (time_t)sqlite3_column_int64(st, 1);
		e[k].reason = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 2);
		k++;
	}
	if (rc != SQLITE_DONE)
		goto out;
	*out = e;
	*n = k;
	e = NULL;
	s = MDG_STORE_OK;
out:
	free(e);
	sqlite3_finalize(st);
	return s;
}

enum mdg_store_status mdg_sqlite_copy_out_crls(void *cls, int (*fn)(void *arg, const struct mdg_crl_copy *c), void *arg)
{
	struct sq *q = cls;
	struct mdg_crl_copy c;
	struct mdg_crl_entry *e = NULL;
	sqlite3_stmt *st = NULL;
	enum mdg_store_status s = MDG_STORE_ERROR;
	const unsigned char *p;
	size_t len;
	int rc, stop;

	if (sqlite3_prepare_v2(q->db,
			       "SELECT id, issuer, dp, dp_key, number, this_update, next_update, imported_at, sha256,"
			       " entries, retired_at FROM crls ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&c, 0, sizeof(c));
		c.id = sqlite3_column_int64(st, 0);
		c.issuer_der = col_blob(st, 1, &c.issuer_len);
		c.dp_der = col_blob(st, 2, &c.dp_len);
		c.dp_key = col_blob(st, 3, &c.dp_key_len);
		p = col_blob(st, 4, &len);
		if (c.issuer_der == NULL || p == NULL || len > MDG_CRLNUM_MAX) {
			snprintf(q->pending, sizeof(q->pending), "CRL %lld does not read", (long long)c.id);
			goto out;
		}
		memcpy(c.number, p, len);
		c.number_len = len;
		c.this_update = sqlite3_column_int64(st, 5);
		c.next_update = sqlite3_column_int64(st, 6);
		c.imported_at = sqlite3_column_int64(st, 7);
		p = col_blob(st, 8, &len);
		if (p == NULL || len != sizeof(c.sha256)) {
			snprintf(q->pending, sizeof(q->pending), "CRL %lld: its SHA-256 does not read",
				 (long long)c.id);
			goto out;
		}
		memcpy(c.sha256, p, len);
		c.entries = sqlite3_column_int64(st, 9);
		c.retired_at = sqlite3_column_type(st, 10) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 10);
		if (scope_entries(q, c.id, &e, &c.n_entries) != MDG_STORE_OK)
			goto out;
		c.entry = e;
		stop = fn(arg, &c);
		free(e);
		e = NULL;
		if (stop != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		goto out;
	s = MDG_STORE_OK;
out:
	free(e);
	sqlite3_finalize(st);
	return s;
}

enum mdg_store_status mdg_sqlite_copy_out_batches(void *cls, int (*fn)(void *arg, const struct mdg_export_batch *b),
						  void *arg)
{
	struct sq *q = cls;
	struct mdg_export_batch b;
	sqlite3_stmt *st = NULL;
	enum mdg_store_status s = MDG_STORE_ERROR;
	const unsigned char *p;
	size_t len;
	int rc;

	if (sqlite3_prepare_v2(q->db,
			       "SELECT id, created_at, first_seq, last_seq, count, head_hash, completed_at"
			       " FROM export_batches ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&b, 0, sizeof(b));
		b.id = sqlite3_column_int64(st, 0);
		if (sqlite3_column_text(st, 1) != NULL)
			snprintf(b.created_at, sizeof(b.created_at), "%s", (const char *)sqlite3_column_text(st, 1));
		b.first_seq = sqlite3_column_int64(st, 2);
		b.last_seq = sqlite3_column_int64(st, 3);
		b.count = sqlite3_column_int64(st, 4);
		p = col_blob(st, 5, &len);
		if (p == NULL || len != sizeof(b.head_hash)) {
			snprintf(q->pending, sizeof(q->pending), "export batch %lld does not read", (long long)b.id);
			goto out;
		}
		memcpy(b.head_hash, p, len);
		if (sqlite3_column_text(st, 6) != NULL)
			snprintf(b.completed_at, sizeof(b.completed_at), "%s",
				 (const char *)sqlite3_column_text(st, 6));
		if (fn(arg, &b) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		goto out;
	s = MDG_STORE_OK;
out:
	sqlite3_finalize(st);
	return s;
}

/* --------------------------------------------------------- the target */

static const char *const copy_tables[] = { "acceptances",    "crls",         "crl_entries",
					   "export_batches", "merkle_nodes", "checkpoints" };
static const char *const copy_probe[] = {
	"SELECT 1 FROM acceptances LIMIT 1",  "SELECT 1 FROM crls LIMIT 1",
	"SELECT 1 FROM crl_entries LIMIT 1",  "SELECT 1 FROM export_batches LIMIT 1",
	"SELECT 1 FROM merkle_nodes LIMIT 1", "SELECT 1 FROM checkpoints LIMIT 1",
};

static void copy_drop(struct sq *q)
{
	sqlite3_finalize(q->copy_acc);
	sqlite3_finalize(q->copy_entry);
	q->copy_acc = q->copy_entry = NULL;
}

enum mdg_store_status mdg_sqlite_copy_begin(void *cls, char *msg, size_t msglen)
{
	struct sq *q = cls;
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc;

	msg[0] = '\0';
	copy_drop(q);
	if (tx_begin(q) != 0)
		return MDG_STORE_ERROR;
	for (i = 0; i < sizeof(copy_probe) / sizeof(copy_probe[0]); i++) {
		if (sqlite3_prepare_v2(q->db, copy_probe[i], -1, &st, NULL) != SQLITE_OK)
			goto fail;
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		st = NULL;
		if (rc == SQLITE_ROW) {
			snprintf(msg, msglen, "table %s holds rows", copy_tables[i]);
			tx_rollback(q);
			q->pending[0] = '\0';
			return MDG_STORE_CONFLICT;
		}
		if (rc != SQLITE_DONE)
			goto fail;
	}
	if (sqlite3_prepare_v2(q->db, copy_acc_sql, -1, &q->copy_acc, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(q->db, copy_entry_sql, -1, &q->copy_entry, NULL) != SQLITE_OK)
		goto fail;
	return MDG_STORE_OK;
fail:
	tx_rollback(q);
	copy_drop(q);
	return MDG_STORE_ERROR;
}

static int in_copy(struct sq *q)
{
	if (q->copy_acc != NULL && !sqlite3_get_autocommit(q->db))
		return 0;
	snprintf(q->pending, sizeof(q->pending), "no copy transaction open (copy_begin)");
	return -1;
}

/* Binds a BLOB column that may be NULL (p NULL). */
static int bind_nullable(sqlite3_stmt *st, int i, const void *p, size_t len)
{
	return p != NULL ? bind_blob(st, i, p, len) : sqlite3_bind_null(st, i);
}

static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	done(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

enum mdg_store_status mdg_sqlite_copy_crl(void *cls, const struct mdg_crl_copy *c)
{
	struct sq *q = cls;
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc;

	if (in_copy(q) != 0)
		return MDG_STORE_ERROR;
	if (sqlite3_prepare_v2(q->db,
			       "INSERT INTO crls (id, issuer, dp, number, this_update, next_update, imported_at,"
			       " sha256, entries, dp_key, retired_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
			       " ?10, ?11)",
			       -1, &st, NULL) != SQLITE_OK)
		return MDG_STORE_ERROR;
	rc = sqlite3_bind_int64(st, 1, c->id) != SQLITE_OK ||
	     bind_blob(st, 2, c->issuer_der, c->issuer_len) != SQLITE_OK ||
	     bind_nullable(st, 3, c->dp_der, c->dp_len) != SQLITE_OK ||
	     bind_blob(st, 4, c->number, c->number_len) != SQLITE_OK ||
	     sqlite3_bind_int64(st, 5, c->this_update) != SQLITE_OK ||
	     sqlite3_bind_int64(st, 6, c->next_update) != SQLITE_OK ||
	     sqlite3_bind_int64(st, 7, c->imported_at) != SQLITE_OK || bind_blob(st, 8, c->sha256, 32) != SQLITE_OK ||
	     sqlite3_bind_int64(st, 9, c->entries) != SQLITE_OK ||
	     bind_nullable(st, 10, c->dp_key, c->dp_key_len) != SQLITE_OK ||
	     (c->retired_at != 0 ? sqlite3_bind_int64(st, 11, c->retired_at) : sqlite3_bind_null(st, 11)) !=
		     SQLITE_OK ||
	     sqlite3_step(st) != SQLITE_DONE;
	sqlite3_finalize(st);
	if (rc)
		return MDG_STORE_ERROR;
	for (i = 0; i < c->n_entries; i++) {
		const struct mdg_crl_entry *e = &c->entry[i];

		if (sqlite3_bind_int64(q->copy_entry, 1, c->id) != SQLITE_OK ||
		    bind_blob(q->copy_entry, 2, e->serial, e->serial_len) != SQLITE_OK ||
		    sqlite3_bind_int64(q->copy_entry, 3, (sqlite3_int64)e->revoked_at) != SQLITE_OK ||
		    (e->reason >= 0 ? sqlite3_bind_int(q->copy_entry, 4, e->reason)
				    : sqlite3_bind_null(q->copy_entry, 4)) != SQLITE_OK) {
			done(q->copy_entry);
			return MDG_STORE_ERROR;
		}
		if (step_done(q->copy_entry) != 0)
			return MDG_STORE_ERROR;
	}
	return MDG_STORE_OK;
}

enum mdg_store_status mdg_sqlite_copy_batch(void *cls, const struct mdg_export_batch *b)
{
	struct sq *q = cls;
	sqlite3_stmt *st = NULL;
	int rc;

	if (in_copy(q) != 0)
		return MDG_STORE_ERROR;
	if (sqlite3_prepare_v2(q->db,
			       "INSERT INTO export_batches (id, created_at, first_seq, last_seq, count, head_hash,"
			       " completed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
			       -1, &st, NULL) != SQLITE_OK)
		return MDG_STORE_ERROR;
	rc = sqlite3_bind_int64(st, 1, b->id) != SQLITE_OK || bind_text(st, 2, b->created_at) != SQLITE_OK ||
	     sqlite3_bind_int64(st, 3, b->first_seq) != SQLITE_OK ||
	     sqlite3_bind_int64(st, 4, b->last_seq) != SQLITE_OK || sqlite3_bind_int64(st, 5, b->count) != SQLITE_OK ||
	     bind_blob(st, 6, b->head_hash, 32) != SQLITE_OK ||
	     (b->completed_at[0] != '\0' ? bind_text(st, 7, b->completed_at) : sqlite3_bind_null(st, 7)) != SQLITE_OK ||
	     sqlite3_step(st) != SQLITE_DONE;
	sqlite3_finalize(st);
	return rc ? MDG_STORE_ERROR : MDG_STORE_OK;
}

enum mdg_store_status mdg_sqlite_copy_acceptance(void *cls, const struct mdg_acceptance_row *a)
{
	struct sq *q = cls;
	sqlite3_stmt *st = q->copy_acc;

	if (in_copy(q) != 0)
		return MDG_STORE_ERROR;
	if (a->request_der == NULL && a->request_len == 0) {
		snprintf(q->pending, sizeof(q->pending), "seq %lld: the row came without its request",
			 (long long)a->seq);
		return MDG_STORE_ERROR;
	}
	if (sqlite3_bind_int64(st, 1, a->seq) != SQLITE_OK || bind_text(st, 2, a->receipt_id) != SQLITE_OK ||
	    bind_blob(st, 3, a->issuer_der, a->issuer_len) != SQLITE_OK ||
	    bind_blob(st, 4, a->serial, a->serial_len) != SQLITE_OK ||
	    bind_blob(st, 5, a->cert_sha256, a->cert_sha256_len) != SQLITE_OK ||
	    bind_text(st, 6, a->accepted_at) != SQLITE_OK || bind_text(st, 7, a->reason) != SQLITE_OK ||
	    bind_text(st, 8, a->holder_name) != SQLITE_OK ||
	    bind_blob(st, 9, a->request_der, a->request_len) != SQLITE_OK ||
	    bind_blob(st, 10, a->request_sha256, a->request_sha256_len) != SQLITE_OK ||
	    bind_text(st, 11, a->client_addr) != SQLITE_OK || bind_text(st, 12, a->effective_from) != SQLITE_OK ||
	    (a->export_batch > 0 ? sqlite3_bind_int64(st, 13, a->export_batch) : sqlite3_bind_null(st, 13)) !=
		    SQLITE_OK ||
	    bind_blob(st, 14, a->prev_hash, a->prev_hash_len) != SQLITE_OK ||
	    bind_blob(st, 15, a->hash, a->hash_len) != SQLITE_OK ||
	    (a->has_cert_not_after ? sqlite3_bind_int64(st, 16, a->cert_not_after) : sqlite3_bind_null(st, 16)) !=
		    SQLITE_OK ||
	    bind_nullable(st, 17, a->cert_subject_der, a->cert_subject_len) != SQLITE_OK) {
		done(st);
		return MDG_STORE_ERROR;
	}
	return step_done(st) == 0 ? MDG_STORE_OK : MDG_STORE_ERROR;
}

enum mdg_store_status mdg_sqlite_copy_end(void *cls, int commit)
{
	struct sq *q = cls;
	struct mdg_merkle_frontier *f = NULL;
	sqlite3_stmt *st = NULL;
	enum mdg_store_status s = MDG_STORE_ERROR;
	int64_t size;

	if (!commit) {
		tx_rollback(q);
		q->pending[0] = '\0';
		copy_drop(q);
		return MDG_STORE_OK;
	}
	if (in_copy(q) != 0)
		return MDG_STORE_ERROR;
	copy_drop(q);
	/* the Merkle tree's nodes of every row copied, before the COMMIT */
	if (sqlite3_prepare_v2(q->db, "SELECT coalesce(max(seq), 0) FROM acceptances", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		goto out;
	size = sqlite3_column_int64(st, 0);
	if (size < 0 || (f = calloc(1, sizeof(*f))) == NULL)
		goto out;
	if (mdg_sqlite_tree_catch_up(q->db, q->st[ST_NODE_GET], q->st[ST_NODE_PUT], (uint64_t)size, f, q->pending,
				     sizeof(q->pending)) != 0)
		goto out;
	if (tx_commit(q) != 0)
		goto out;
	s = MDG_STORE_OK;
out:
	sqlite3_finalize(st);
	free(f);
	if (s != MDG_STORE_OK)
		tx_rollback(q);
	return s;
}
