/* The PostgreSQL backend's acceptance log read side (madoguchi-admin log
 * ...) and export batches. Operators' queries, not the hot path: each is
 * prepared per call (the unnamed statement) from constant fragments, every
 * value bound; rows are streamed (single-row mode) from one statement: one
 * snapshot. The issuer filter compares the RFC 4514 rendering of the
 * stored DER (mdg_name_text_match) here, row by row. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "names.h"
#include "store.h"
#include "store_pg_int.h"

static const char q_select[] = "SELECT seq, receipt_id, issuer, serial, cert_sha256, accepted_at, effective_from,"
			       " reason, holder_name, client_addr, export_batch, request_sha256, prev_hash, hash,"
			       " CASE WHEN $9 THEN request END, cert_not_after, cert_subject"
			       " FROM acceptances WHERE seq > $1";
static const char q_since[] = " AND accepted_unix >= $2";
static const char q_until[] = " AND accepted_unix < $3";
static const char q_serial[] = " AND serial = $4";
static const char q_receipt[] = " AND receipt_id = $5";
static const char q_reason[] = " AND reason = $6";
static const char q_batch[] = " AND export_batch = $7";
static const char q_order[] = " ORDER BY seq";
static const char q_limit[] = " LIMIT $8";

/* Prepares sql as the unnamed statement: 0 or -1. */
static int prepare_unnamed(struct pg *q, const char *sql, int n, const Oid *types)
{
	PGresult *r;
	int rc;

	if (pg_ensure(q) == -1)
		return -1;
	r = PQprepare(q->conn, "", sql, n, types);
	rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
	if (rc == -1)
		(void)pg_classify(q, r);
	PQclear(r);
	return rc;
}

static const unsigned char *col_blob(const PGresult *r, int c, size_t *len)
{
	static const unsigned char empty[1];

	*len = 0;
	if (PQgetisnull(r, 0, c))
		return NULL;
	*len = (size_t)PQgetlength(r, 0, c);
	return *len > 0 ? (const unsigned char *)PQgetvalue(r, 0, c) : empty;
}

static const char *col_text(const PGresult *r, int c)
{
	return PQgetisnull(r, 0, c) ? "" : PQgetvalue(r, 0, c);
}

enum mdg_store_status mdg_pg_log_query(struct pg *q, const struct mdg_log_filter *f,
				       int (*fn)(void *arg, const struct mdg_acceptance_row *r), void *arg)
{
	/* int8 for $1-$3, $7, $8; bytea $4; text $5, $6; bool $9 */
	static const Oid types[9] = { 20, 20, 20, 17, 25, 25, 20, 20, 16 };
	char sql[sizeof(q_select) + sizeof(q_since) + sizeof(q_until) + sizeof(q_serial) + sizeof(q_receipt) +
		 sizeof(q_reason) + sizeof(q_order) + sizeof(q_limit) + sizeof(q_batch)];
	unsigned char b_after[8], b_since[8], b_until[8], b_batch[8], b_limit[8], b_req = 0;
	const char *vals[9];
	int lens[9] = { 8, 8, 8, 0, 0, 0, 8, 8, 1 }, fmts[9] = { 1, 1, 1, 1, 0, 0, 1, 1, 1 };
	struct mdg_acceptance_row row;
	enum mdg_store_status s = MDG_STORE_ERROR;
	int64_t seen = 0;
	PGresult *r;
	int stop = 0, sql_limit = f->limit > 0 && f->issuer == NULL;

	if (f->serial_len > MDG_SERIAL_MAX)
		return MDG_STORE_ERROR;
	strcpy(sql, q_select);
	if (f->has_since)
		strcat(sql, q_since);
	if (f->has_until)
		strcat(sql, q_until);
	if (f->serial != NULL)
		strcat(sql, q_serial);
	if (f->receipt_id != NULL)
		strcat(sql, q_receipt);
	if (f->reason != NULL)
		strcat(sql, q_reason);
	if (f->export_batch > 0)
		strcat(sql, q_batch);
	strcat(sql, q_order);
	/* with the issuer filter (applied here) the limit is counted here too */
	if (sql_limit)
		strcat(sql, q_limit);
	pg_put_i64(b_after, f->after_seq);
	pg_put_i64(b_since, f->since);
	pg_put_i64(b_until, f->until);
	pg_put_i64(b_batch, f->export_batch);
	pg_put_i64(b_limit, f->limit);
	b_req = f->with_request != 0;
	vals[0] = (const char *)b_after;
	vals[1] = (const char *)b_since;
	vals[2] = (const char *)b_until;
	vals[3] = f->serial != NULL ? (f->serial_len > 0 ? (const char *)f->serial : "") : NULL;
	lens[3] = (int)f->serial_len;
	vals[4] = f->receipt_id;
	vals[5] = f->reason;
	vals[6] = (const char *)b_batch;
	vals[7] = (const char *)b_limit;
	vals[8] = (const char *)&b_req;
	if (prepare_unnamed(q, sql, 9, types) == -1)
		return MDG_STORE_ERROR;
	if (!PQsendQueryPrepared(q->conn, "", 9, vals, lens, fmts, 1)) {
		(void)pg_classify(q, NULL);
		return MDG_STORE_ERROR;
	}
	(void)PQsetSingleRowMode(q->conn);
	s = MDG_STORE_OK;
	while ((r = PQgetResult(q->conn)) != NULL) {
		ExecStatusType es = PQresultStatus(r);

		if (es == PGRES_SINGLE_TUPLE && !stop) {
			memset(&row, 0, sizeof(row));
			row.seq = pg_get_i64(r, 0, 0);
			row.receipt_id = col_text(r, 1);
			row.issuer_der = col_blob(r, 2, &row.issuer_len);
			row.serial = col_blob(r, 3, &row.serial_len);
			row.cert_sha256 = col_blob(r, 4, &row.cert_sha256_len);
			row.accepted_at = col_text(r, 5);
			row.effective_from = col_text(r, 6);
			row.reason = col_text(r, 7);
			row.holder_name = col_text(r, 8);
			row.client_addr = col_text(r, 9);
			row.export_batch = pg_get_i64(r, 0, 10);
			row.request_sha256 = col_blob(r, 11, &row.request_sha256_len);
			row.prev_hash = col_blob(r, 12, &row.prev_hash_len);
			row.hash = col_blob(r, 13, &row.hash_len);
			if (f->with_request)
				row.request_der = col_blob(r, 14, &row.request_len);
			row.has_cert_not_after = !PQgetisnull(r, 0, 15);
			row.cert_not_after = pg_get_i64(r, 0, 15);
			row.cert_subject_der = col_blob(r, 16, &row.cert_subject_len);
			if (f->issuer == NULL || mdg_name_text_match(row.issuer_der, row.issuer_len, f->issuer)) {
				/* the rest of the result is drained, not used */
				if (fn(arg, &row) != 0 || (f->limit > 0 && ++seen >= f->limit))
					stop = 1;
			}
		} else if (es != PGRES_SINGLE_TUPLE && es != PGRES_TUPLES_OK) {
			(void)pg_classify(q, r);
			s = MDG_STORE_ERROR;
		}
		PQclear(r);
	}
	return s;
}

/* A statement without parameters, prepared per call, its one row in *r. */
static enum pg_qs one_row(struct pg *q, const char *sql, int n, const char *const *vals, const int *lens,
			  const int *fmts, PGresult **r)
{
	enum pg_qs s;

	*r = NULL;
	if (prepare_unnamed(q, sql, 0, NULL) == -1)
		return QS_HARD;
	*r = PQexecPrepared(q->conn, "", n, vals, lens, fmts, 1);
	s = pg_classify(q, *r);
	if (s != QS_ONE && s != QS_NONE) {
		PQclear(*r);
		*r = NULL;
	}
	return s;
}

enum pg_qs pg_one_row(struct pg *q, const char *sql, int n, const char *const *vals, const int *lens, const int *fmts,
		      PGresult **r)
{
	return one_row(q, sql, n, vals, lens, fmts, r);
}

enum mdg_store_status mdg_pg_log_head(struct pg *q, struct mdg_log_head *out)
{
	PGresult *r;
	enum pg_qs s;
	int n;

	memset(out, 0, sizeof(*out));
	s = one_row(q,
		    "SELECT (SELECT count(*) FROM acceptances), seq, hash, accepted_at"
		    " FROM acceptances ORDER BY seq DESC LIMIT 1",
		    0, NULL, NULL, NULL, &r);
	if (s == QS_ONE) {
		out->count = pg_get_i64(r, 0, 0);
		out->seq = pg_get_i64(r, 0, 1);
		n = PQgetlength(r, 0, 2);
		memcpy(out->hash, PQgetvalue(r, 0, 2), n < (int)sizeof(out->hash) ? (size_t)n : sizeof(out->hash));
		snprintf(out->accepted_at, sizeof(out->accepted_at), "%s", PQgetvalue(r, 0, 3));
	}
	PQclear(r);
	return s == QS_ONE || s == QS_NONE ? MDG_STORE_OK : MDG_STORE_ERROR;
}

enum mdg_store_status mdg_pg_log_stats(struct pg *q, struct mdg_log_stats *out)
{
	PGresult *r;
	enum pg_qs s;

	memset(out, 0, sizeof(*out));
	s = one_row(q,
		    "SELECT (SELECT count(*) FROM acceptances),"
		    " (SELECT coalesce(max(seq), 0)::int8 FROM acceptances),"
		    " (SELECT count(*) FROM acceptances WHERE export_batch IS NULL),"
		    " (SELECT count(*) FROM export_batches)",
		    0, NULL, NULL, NULL, &r);
	if (s == QS_ONE) {
		out->count = pg_get_i64(r, 0, 0);
		out->head_seq = pg_get_i64(r, 0, 1);
		out->unexported = pg_get_i64(r, 0, 2);
		out->batches = pg_get_i64(r, 0, 3);
	}
	PQclear(r);
	return s == QS_ONE ? MDG_STORE_OK : MDG_STORE_ERROR;
}

/* ------------------------------------------------------- export batches */

#define BATCH_COLS                                                                                                     \
	"SELECT id, created_at, first_seq, last_seq, count, head_hash, completed_at"                                   \
	" FROM export_batches"

static enum mdg_store_status read_batch(enum pg_qs s, PGresult *r, struct mdg_export_batch *out)
{
	memset(out, 0, sizeof(*out));
	if (s == QS_NONE)
		return MDG_STORE_NOT_FOUND;
	if (s != QS_ONE)
		return MDG_STORE_ERROR;
	out->id = pg_get_i64(r, 0, 0);
	snprintf(out->created_at, sizeof(out->created_at), "%s", col_text(r, 1));
	out->first_seq = pg_get_i64(r, 0, 2);
	out->last_seq = pg_get_i64(r, 0, 3);
	out->count = pg_get_i64(r, 0, 4);
	if (PQgetlength(r, 0, 5) == (int)sizeof(out->head_hash))
		memcpy(out->head_hash, PQgetvalue(r, 0, 5), sizeof(out->head_hash));
	snprintf(out->completed_at, sizeof(out->completed_at), "%s", col_text(r, 6));
	return MDG_STORE_OK;
}

enum mdg_store_status mdg_pg_export_get(struct pg *q, int64_t id, struct mdg_export_batch *out)
{
	unsigned char b_id[8];
	const char *vals[1] = { (const char *)b_id };
	int lens[1] = { 8 }, fmts[1] = { 1 };
	PGresult *r;
	enum mdg_store_status s;
	enum pg_qs qs;

	pg_put_i64(b_id, id);
	qs = one_row(q, BATCH_COLS " WHERE id = $1::int8", 1, vals, lens, fmts, &r);
	s = read_batch(qs, r, out);
	PQclear(r);
	return s;
}

/* One write transaction: the batch row and the export_batch of its rows
 * commit together. Export batches are serialised with appends: the chain
 * head's lock is taken first, so the rows counted are all the rows. */
enum mdg_store_status mdg_pg_export_new(struct pg *q, const char *created_at, struct mdg_export_batch *out)
{
	unsigned char b[4][8];
	const char *vals[5];
	int lens[5] = { 0, 8, 8, 8, 32 }, fmts[5] = { 0, 1, 1, 1, 1 };
	PGresult *r = NULL;
	enum mdg_store_status s = MDG_STORE_ERROR;
	int64_t first, last, count;
	unsigned char head[32];
	enum pg_qs qs;

	memset(out, 0, sizeof(*out));
	if (pg_begin(q) == -1 || pg_exec(q, PS_HEAD_LOCK, 0, NULL, NULL, NULL, NULL) != QS_ONE)
		goto out;
	qs = one_row(q, BATCH_COLS " WHERE completed_at IS NULL ORDER BY id LIMIT 1", 0, NULL, NULL, NULL, &r);
	s = read_batch(qs, r, out);
	PQclear(r);
	r = NULL;
	if (s == MDG_STORE_OK)
		out->resumed = 1;
	if (s != MDG_STORE_NOT_FOUND)
		goto out;
	s = MDG_STORE_ERROR;
	if (one_row(q,
		    "SELECT coalesce(min(seq), 0)::int8, coalesce(max(seq), 0)::int8, count(*)"
		    " FROM acceptances WHERE export_batch IS NULL",
		    0, NULL, NULL, NULL, &r) != QS_ONE)
		goto out;
	first = pg_get_i64(r, 0, 0);
	last = pg_get_i64(r, 0, 1);
	count = pg_get_i64(r, 0, 2);
	PQclear(r);
	r = NULL;
	if (count == 0) {
		s = MDG_STORE_NOT_FOUND;
		goto out;
	}
	pg_put_i64(b[0], last);
	vals[0] = (const char *)b[0];
	lens[0] = 8;
	fmts[0] = 1;
	if (one_row(q, "SELECT hash FROM acceptances WHERE seq = $1::int8", 1, vals, lens, fmts, &r) != QS_ONE ||
	    PQgetlength(r, 0, 0) != 32)
		goto out;
	memcpy(head, PQgetvalue(r, 0, 0), 32);
	PQclear(r);
	r = NULL;
	pg_put_i64(b[1], first);
	pg_put_i64(b[2], last);
	pg_put_i64(b[3], count);
	vals[0] = created_at;
	lens[0] = 0;
	fmts[0] = 0;
	vals[1] = (const char *)b[1];
	vals[2] = (const char *)b[2];
	vals[3] = (const char *)b[3];
	vals[4] = (const char *)head;
	if (one_row(q,
		    "INSERT INTO export_batches (created_at, first_seq, last_seq, count, head_hash)"
		    " VALUES ($1::text, $2::int8, $3::int8, $4::int8, $5::bytea) RETURNING id",
		    5, vals, lens, fmts, &r) != QS_ONE)
		goto out;
	out->id = pg_get_i64(r, 0, 0);
	PQclear(r);
	r = NULL;
	pg_put_i64(b[0], out->id);
	vals[0] = (const char *)b[0];
	vals[1] = (const char *)b[2];
	lens[0] = lens[1] = 8;
	fmts[0] = fmts[1] = 1;
	if (one_row(q,
		    "UPDATE acceptances SET export_batch = $1::int8"
		    " WHERE export_batch IS NULL AND seq <= $2::int8",
		    2, vals, lens, fmts, &r) != QS_NONE ||
	    strtoll(PQcmdTuples(r), NULL, 10) != count)
		goto out;
	if (pg_commit(q) == -1)
		goto out;
	snprintf(out->created_at, sizeof(out->created_at), "%s", created_at);
	out->first_seq = first;
	out->last_seq = last;
	out->count = count;
	memcpy(out->head_hash, head, sizeof(head));
	s = MDG_STORE_OK;
out:
	PQclear(r);
	if (s == MDG_STORE_ERROR)
		memset(out, 0, sizeof(*out));
	pg_rollback(q);
	return s;
}

enum mdg_store_status mdg_pg_export_complete(struct pg *q, int64_t id, const char *completed_at)
{
	unsigned char b_id[8];
	const char *vals[2] = { (const char *)b_id, completed_at };
	int lens[2] = { 8, 0 }, fmts[2] = { 1, 0 };
	PGresult *r;
	enum pg_qs s;

	pg_put_i64(b_id, id);
	s = one_row(q,
		    "UPDATE export_batches SET completed_at = $2::text"
		    " WHERE id = $1::int8 AND completed_at IS NULL",
		    2, vals, lens, fmts, &r);
	PQclear(r);
	return s == QS_NONE ? MDG_STORE_OK : MDG_STORE_ERROR;
}
