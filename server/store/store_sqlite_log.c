/* The SQLite store, acceptance log read side (madoguchi-admin log ...).
 * These are operators' queries, not the hot path: each is prepared per
 * call, but for the one of a receipt id (every receipt, every proof),
 * which the connection prepares once (mdg_sqlite_log_receipt_sql). The WHERE clause is put together from the constant fragments
 * below (so SQLite can use the seq and accepted_unix indexes for the
 * filters given); every value is bound, nothing from input is formatted. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "names.h"
#include "store_sqlite_log.h"

enum { P_AFTER = 1, P_SINCE, P_UNTIL, P_SERIAL, P_ISSUER, P_RECEIPT, P_REASON, P_LIMIT, P_REQUEST, P_BATCH };

#define Q_SELECT                                                                                                       \
	"SELECT seq, receipt_id, issuer, serial, cert_sha256, accepted_at, effective_from,"                            \
	" reason, holder_name, client_addr, export_batch, request_sha256, prev_hash, hash,"                            \
	" CASE WHEN ?9 THEN request END, cert_not_after, cert_subject"                                                 \
	" FROM acceptances WHERE seq > ?1"
#define Q_RECEIPT " AND receipt_id = ?6"
#define Q_ORDER " ORDER BY seq"
#define Q_LIMIT " LIMIT ?8"
static const char q_select[] = Q_SELECT;
static const char q_since[] = " AND accepted_unix >= ?2";
static const char q_until[] = " AND accepted_unix < ?3";
static const char q_serial[] = " AND serial = ?4";
static const char q_issuer[] = " AND mdg_name_match(issuer, ?5)";
static const char q_receipt[] = Q_RECEIPT;
static const char q_reason[] = " AND reason = ?7";
static const char q_batch[] = " AND export_batch = ?10";
static const char q_order[] = Q_ORDER;
static const char q_limit[] = Q_LIMIT;
/* exactly what mdg_sqlite_log_query puts together for a receipt id alone */
const char mdg_sqlite_log_receipt_sql[] = Q_SELECT Q_RECEIPT Q_ORDER Q_LIMIT;

static const unsigned char empty_blob[1];

/* mdg_name_match(issuer DER, RFC 4514 text) */
static void name_match_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *der = sqlite3_value_blob(argv[0]);
	int len = sqlite3_value_bytes(argv[0]);
	const unsigned char *text = sqlite3_value_text(argv[1]);

	if (der == NULL || len <= 0 || text == NULL) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	sqlite3_result_int(ctx, mdg_name_text_match(der, (size_t)len, (const char *)text));
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? (const char *)t : "";
}

static const unsigned char *col_blob(sqlite3_stmt *st, int i, size_t *len)
{
	const unsigned char *b = sqlite3_column_blob(st, i);
	int n = sqlite3_column_bytes(st, i);

	*len = n > 0 ? (size_t)n : 0;
	if (b == NULL && sqlite3_column_type(st, i) != SQLITE_NULL)
		b = empty_blob;
	return b;
}

static enum mdg_store_status bind_and_run(sqlite3_stmt *st, const struct mdg_log_filter *f,
					  int (*fn)(void *arg, const struct mdg_acceptance_row *r), void *arg);

enum mdg_store_status mdg_sqlite_log_query(sqlite3 *db, const struct mdg_log_filter *f,
					   int (*fn)(void *arg, const struct mdg_acceptance_row *r), void *arg)
{
	char sql[sizeof(q_select) + sizeof(q_since) + sizeof(q_until) + sizeof(q_serial) + sizeof(q_issuer) +
		 sizeof(q_receipt) + sizeof(q_reason) + sizeof(q_order) + sizeof(q_limit) + sizeof(q_batch)];
	sqlite3_stmt *st = NULL;
	enum mdg_store_status s = MDG_STORE_ERROR;

	if (f->issuer != NULL && sqlite3_create_function_v2(db, "mdg_name_match", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
							    NULL, name_match_fn, NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	if (f->serial_len > INT_MAX)
		goto out;
	strcpy(sql, q_select);
	if (f->has_since)
		strcat(sql, q_since);
	if (f->has_until)
		strcat(sql, q_until);
	if (f->serial != NULL)
		strcat(sql, q_serial);
	if (f->issuer != NULL)
		strcat(sql, q_issuer);
	if (f->receipt_id != NULL)
		strcat(sql, q_receipt);
	if (f->reason != NULL)
		strcat(sql, q_reason);
	if (f->export_batch > 0)
		strcat(sql, q_batch);
	strcat(sql, q_order);
	if (f->limit > 0)
		strcat(sql, q_limit);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	s = bind_and_run(st, f, fn, arg);
out:
	sqlite3_finalize(st);
	return s;
}

int mdg_sqlite_log_receipt_only(const struct mdg_log_filter *f)
{
	return f->receipt_id != NULL && !f->has_since && !f->has_until && f->serial == NULL && f->issuer == NULL &&
	       f->reason == NULL && f->export_batch <= 0;
}

enum mdg_store_status mdg_sqlite_log_run(sqlite3_stmt *st, const struct mdg_log_filter *f,
					 int (*fn)(void *arg, const struct mdg_acceptance_row *r), void *arg)
{
	enum mdg_store_status s = MDG_STORE_ERROR;

	/* LIMIT -1: none (bind_and_run binds only a limit above 0) */
	if (mdg_sqlite_log_receipt_only(f) && (f->limit > 0 || sqlite3_bind_int64(st, P_LIMIT, -1) == SQLITE_OK))
		s = bind_and_run(st, f, fn, arg);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return s;
}

static enum mdg_store_status bind_and_run(sqlite3_stmt *st, const struct mdg_log_filter *f,
					  int (*fn)(void *arg, const struct mdg_acceptance_row *r), void *arg)
{
	struct mdg_acceptance_row r;
	enum mdg_store_status s = MDG_STORE_ERROR;
	int rc;

	if (sqlite3_bind_int64(st, P_AFTER, f->after_seq) != SQLITE_OK ||
	    sqlite3_bind_int(st, P_REQUEST, f->with_request != 0) != SQLITE_OK ||
	    (f->has_since && sqlite3_bind_int64(st, P_SINCE, f->since) != SQLITE_OK) ||
	    (f->has_until && sqlite3_bind_int64(st, P_UNTIL, f->until) != SQLITE_OK) ||
	    (f->serial != NULL && sqlite3_bind_blob(st, P_SERIAL, f->serial_len > 0 ? f->serial : empty_blob,
						    (int)f->serial_len, SQLITE_STATIC) != SQLITE_OK) ||
	    (f->issuer != NULL && sqlite3_bind_text(st, P_ISSUER, f->issuer, -1, SQLITE_STATIC) != SQLITE_OK) ||
	    (f->receipt_id != NULL &&
	     sqlite3_bind_text(st, P_RECEIPT, f->receipt_id, -1, SQLITE_STATIC) != SQLITE_OK) ||
	    (f->reason != NULL && sqlite3_bind_text(st, P_REASON, f->reason, -1, SQLITE_STATIC) != SQLITE_OK) ||
	    (f->limit > 0 && sqlite3_bind_int64(st, P_LIMIT, f->limit) != SQLITE_OK) ||
	    (f->export_batch > 0 && sqlite3_bind_int64(st, P_BATCH, f->export_batch) != SQLITE_OK))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r));
		r.seq = sqlite3_column_int64(st, 0);
		r.receipt_id = col_text(st, 1);
		r.issuer_der = col_blob(st, 2, &r.issuer_len);
		r.serial = col_blob(st, 3, &r.serial_len);
		r.cert_sha256 = col_blob(st, 4, &r.cert_sha256_len);
		r.accepted_at = col_text(st, 5);
		r.effective_from = col_text(st, 6);
		r.reason = col_text(st, 7);
		r.holder_name = col_text(st, 8);
		r.client_addr = col_text(st, 9);
		r.export_batch = sqlite3_column_int64(st, 10);
		r.request_sha256 = col_blob(st, 11, &r.request_sha256_len);
		r.prev_hash = col_blob(st, 12, &r.prev_hash_len);
		r.hash = col_blob(st, 13, &r.hash_len);
		if (f->with_request)
			r.request_der = col_blob(st, 14, &r.request_len);
		r.has_cert_not_after = sqlite3_column_type(st, 15) == SQLITE_INTEGER;
		r.cert_not_after = sqlite3_column_int64(st, 15);
		r.cert_subject_der = col_blob(st, 16, &r.cert_subject_len);
		if (fn(arg, &r) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc == SQLITE_DONE)
		s = MDG_STORE_OK;
out:
	return s;
}

enum mdg_store_status mdg_sqlite_log_head(sqlite3 *db, struct mdg_log_head *out)
{
	sqlite3_stmt *st = NULL;
	enum mdg_store_status s = MDG_STORE_ERROR;
	const unsigned char *h, *t;
	int rc, n;

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(db,
			       "SELECT (SELECT count(*) FROM acceptances), seq, hash,"
			       " accepted_at FROM acceptances ORDER BY seq DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		s = MDG_STORE_OK;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto out;
	out->count = sqlite3_column_int64(st, 0);
	out->seq = sqlite3_column_int64(st, 1);
	h = sqlite3_column_blob(st, 2);
	n = sqlite3_column_bytes(st, 2);
	if (h != NULL && n > 0)
		memcpy(out->hash, h, n < (int)sizeof(out->hash) ? (size_t)n : sizeof(out->hash));
	t = sqlite3_column_text(st, 3);
	if (t != NULL)
		snprintf(out->accepted_at, sizeof(out->accepted_at), "%s", (const char *)t);
	s = MDG_STORE_OK;
out:
	sqlite3_finalize(st);
	return s;
}

/* ------------------------------------------------------- export batches */

static const char q_batch_cols[] = "SELECT id, created_at, first_seq, last_seq, count, head_hash, completed_at"
				   " FROM export_batches";

/* One statement's single row into *out: OK, NOT_FOUND (no row) or ERROR. */
static enum mdg_store_status read_batch(sqlite3_stmt *st, struct mdg_export_batch *out)
{
	const unsigned char *h;
	int rc = sqlite3_step(st);

	memset(out, 0, sizeof(*out));
	if (rc == SQLITE_DONE)
		return MDG_STORE_NOT_FOUND;
	if (rc != SQLITE_ROW)
		return MDG_STORE_ERROR;
	out->id = sqlite3_column_int64(st, 0);
	snprintf(out->created_at, sizeof(out->created_at), "%s", col_text(st, 1));
	out->first_seq = sqlite3_column_int64(st, 2);
	out->last_seq = sqlite3_column_int64(st, 3);
	out->count = sqlite3_column_int64(st, 4);
	h = sqlite3_column_blob(st, 5);
	if (h != NULL && sqlite3_column_bytes(st, 5) == (int)sizeof(out->head_hash))
		memcpy(out->head_hash, h, sizeof(out->head_hash));
	snprintf(out->completed_at, sizeof(out->completed_at), "%s", col_text(st, 6));
	return MDG_STORE_OK;
}

static enum mdg_store_status batch_where(sqlite3 *db, const char *where, int64_t id, struct mdg_export_batch *out)
{
	char sql[sizeof(q_batch_cols) + 64];
	sqlite3_stmt *st = NULL;
	enum mdg_store_status s = MDG_STORE_ERROR;

	snprintf(sql, sizeof(sql), "%s%s", q_batch_cols, where);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (id > 0 && sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
		goto out;
	s = read_batch(st, out);
out:
	sqlite3_finalize(st);
	return s;
}

enum mdg_store_status mdg_sqlite_export_get(sqlite3 *db, int64_t id, struct mdg_export_batch *out)
{
	return batch_where(db, " WHERE id = ?1", id, out);
}

/* Recording a batch is one write transaction: the batch row and the
 * export_batch of every row in it commit together or not at all. */
enum mdg_store_status mdg_sqlite_export_new(sqlite3 *db, const char *created_at, struct mdg_export_batch *out)
{
	sqlite3_stmt *st = NULL;
	enum mdg_store_status s = MDG_STORE_ERROR;
	int64_t first, last, count;
	unsigned char head[32];
	const unsigned char *h;

	memset(out, 0, sizeof(*out));
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return MDG_STORE_ERROR;
	s = batch_where(db, " WHERE completed_at IS NULL ORDER BY id LIMIT 1", 0, out);
	if (s == MDG_STORE_OK)
		out->resumed = 1;
	if (s != MDG_STORE_NOT_FOUND)
		goto out;
	s = MDG_STORE_ERROR;
	if (sqlite3_prepare_v2(db,
			       "SELECT min(seq), max(seq), count(*) FROM acceptances"
			       " WHERE export_batch IS NULL",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		goto out;
	first = sqlite3_column_int64(st, 0);
	last = sqlite3_column_int64(st, 1);
	count = sqlite3_column_int64(st, 2);
	sqlite3_finalize(st);
	st = NULL;
	if (count == 0) {
		s = MDG_STORE_NOT_FOUND;
		goto out;
	}
	if (sqlite3_prepare_v2(db, "SELECT hash FROM acceptances WHERE seq = ?1", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, last) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW ||
	    (h = sqlite3_column_blob(st, 0)) == NULL || sqlite3_column_bytes(st, 0) != 32)
		goto out;
	memcpy(head, h, sizeof(head));
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO export_batches (created_at, first_seq, last_seq,"
			       " count, head_hash) VALUES (?1, ?2, ?3, ?4, ?5)",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, created_at, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, first) != SQLITE_OK || sqlite3_bind_int64(st, 3, last) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, count) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 5, head, sizeof(head), SQLITE_STATIC) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	out->id = sqlite3_last_insert_rowid(db);
	if (sqlite3_prepare_v2(db,
			       "UPDATE acceptances SET export_batch = ?1"
			       " WHERE export_batch IS NULL AND seq <= ?2",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, out->id) != SQLITE_OK || sqlite3_bind_int64(st, 2, last) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db) != count)
		goto out;
	snprintf(out->created_at, sizeof(out->created_at), "%s", created_at);
	out->first_seq = first;
	out->last_seq = last;
	out->count = count;
	memcpy(out->head_hash, head, sizeof(head));
	s = MDG_STORE_OK;
out:
	sqlite3_finalize(st);
	if (s == MDG_STORE_ERROR) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		memset(out, 0, sizeof(*out));
	} else if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		memset(out, 0, sizeof(*out));
		s = MDG_STORE_ERROR;
	}
	return s;
}

enum mdg_store_status mdg_sqlite_export_complete(sqlite3 *db, int64_t id, const char *completed_at)
{
	sqlite3_stmt *st = NULL;
	enum mdg_store_status s = MDG_STORE_ERROR;

	if (sqlite3_prepare_v2(db,
			       "UPDATE export_batches SET completed_at = ?2"
			       " WHERE id = ?1 AND completed_at IS NULL",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, completed_at, -1, SQLITE_STATIC) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
		goto out;
	s = MDG_STORE_OK;
out:
	sqlite3_finalize(st);
	return s;
}

enum mdg_store_status mdg_sqlite_log_stats(sqlite3 *db, struct mdg_log_stats *out)
{
	sqlite3_stmt *st = NULL;
	enum mdg_store_status s = MDG_STORE_ERROR;

	memset(out, 0, sizeof(*out));
	/* one statement: one read snapshot */
	if (sqlite3_prepare_v2(db,
			       "SELECT (SELECT count(*) FROM acceptances),"
			       " (SELECT coalesce(max(seq), 0) FROM acceptances),"
			       " (SELECT count(*) FROM acceptances WHERE export_batch IS NULL),"
			       " (SELECT count(*) FROM export_batches)",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		goto out;
	out->count = sqlite3_column_int64(st, 0);
	out->head_seq = sqlite3_column_int64(st, 1);
	out->unexported = sqlite3_column_int64(st, 2);
	out->batches = sqlite3_column_int64(st, 3);
	s = MDG_STORE_OK;
out:
	sqlite3_finalize(st);
	return s;
}
