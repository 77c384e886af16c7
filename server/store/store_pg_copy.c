/* The PostgreSQL backend's side of db copy (madoguchi-admin db copy,
 * docs/operations.md): every CRL scope with its entries and every export
 * batch read out; and the target's one write transaction, in which rows go
 * in as they were stored (ids, seq, hashes kept; checkpoints by
 * checkpoint_insert, store_pg_merkle.c) and copy_end derives the Merkle
 * tree's nodes from the rows. Operators' statements:
 * prepared per call as the unnamed statement, except the acceptance insert,
 * prepared once per copy (one per row); every value bound. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store.h"
#include "store_pg_int.h"

#define COPY_ACC "mdgcopy_acc"

static const char copy_acc_sql[] =
	"INSERT INTO acceptances (seq, receipt_id, issuer, serial, cert_sha256, accepted_at, reason,"
	" holder_name, request, request_sha256, client_addr, effective_from, export_batch, prev_hash, hash,"
	" cert_not_after, cert_subject) VALUES ($1::int8, $2::text, $3::bytea, $4::bytea, $5::bytea,"
	" $6::text, $7::text, $8::text, $9::bytea, $10::bytea, $11::text, $12::text, $13::int8, $14::bytea,"
	" $15::bytea, $16::int8, $17::bytea)";

static const unsigned char empty_value[1];

/* A bytea parameter (binary): never NULL for a non-NULL column. */
static const char *bin(const void *p)
{
	return p != NULL ? (const char *)p : (const char *)empty_value;
}

static const unsigned char *blob_at(const PGresult *r, int row, int col, size_t *len)
{
	*len = 0;
	if (PQgetisnull(r, row, col))
		return NULL;
	*len = (size_t)PQgetlength(r, row, col);
	return (const unsigned char *)PQgetvalue(r, row, col);
}

static int get_i16(const PGresult *r, int row, int col)
{
	const unsigned char *p = (const unsigned char *)PQgetvalue(r, row, col);

	if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 2)
		return -1;
	return (int16_t)(uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* --------------------------------------------------------- the source */

static enum mdg_store_status scope_entries(struct pg *q, int64_t id, struct mdg_crl_entry **out, size_t *n)
{
	unsigned char b_id[8];
	const char *vals[1] = { (const char *)b_id };
	int lens[1] = { 8 }, fmts[1] = { 1 }, i, rows;
	struct mdg_crl_entry *e = NULL;
	PGresult *r;
	const unsigned char *s;
	size_t len;

	*out = NULL;
	*n = 0;
	pg_put_i64(b_id, id);
	switch (pg_one_row(q,
			   "SELECT e.serial, e.revoked_at, e.reason FROM crls c JOIN crl_entries e"
			   " ON e.gen = c.gen AND e.crl_id = c.id WHERE c.id = $1::int8 ORDER BY e.serial",
			   1, vals, lens, fmts, &r)) {
	case QS_NONE:
		PQclear(r);
		return MDG_STORE_OK;
	case QS_ONE:
		break;
	default:
		return MDG_STORE_ERROR;
	}
	rows = PQntuples(r);
	if ((e = calloc((size_t)rows, sizeof(*e))) == NULL) {
		PQclear(r);
		snprintf(q->pending, sizeof(q->pending), "out of memory for %d CRL entries", rows);
		return MDG_STORE_ERROR;
	}
	for (i = 0; i < rows; i++) {
		s = blob_at(r, i, 0, &len);
		if (s == NULL || len > MDG_SERIAL_MAX) {
			free(e);
			PQclear(r);
			snprintf(q->pending, sizeof(q->pending), "CRL %lld: an entry's serial does not read",
				 (long long)id);
			return MDG_STORE_ERROR;
		}
		memcpy(e[i].serial, s, len);
		e[i].serial_len = len;
		e[i].revoked_at = (time_t)pg_get_i64(r, i, 1);
		e[i].reason = get_i16(r, i, 2);
	}
	PQclear(r);
	*out = e;
	*n = (size_t)rows;
	return MDG_STORE_OK;
}

enum mdg_store_status mdg_pg_copy_out_crls(struct pg *q, int (*fn)(void *arg, const struct mdg_crl_copy *c), void *arg)
{
	struct mdg_crl_copy c;
	struct mdg_crl_entry *e = NULL;
	enum mdg_store_status s = MDG_STORE_ERROR;
	const unsigned char *p;
	PGresult *r = NULL;
	size_t len;
	int i, rows;
	enum pg_qs qs;

	qs = pg_one_row(q,
			"SELECT id, issuer, dp, dp_key, number, this_update, next_update, imported_at, sha256,"
			" entries, retired_at FROM crls ORDER BY id",
			0, NULL, NULL, NULL, &r);
	if (qs == QS_NONE) {
		PQclear(r);
		return MDG_STORE_OK;
	}
	if (qs != QS_ONE)
		return MDG_STORE_ERROR;
	rows = PQntuples(r);
	for (i = 0; i < rows; i++) {
		memset(&c, 0, sizeof(c));
		c.id = pg_get_i64(r, i, 0);
		c.issuer_der = blob_at(r, i, 1, &c.issuer_len);
		c.dp_der = blob_at(r, i, 2, &c.dp_len);
		c.dp_key = blob_at(r, i, 3, &c.dp_key_len);
		p = blob_at(r, i, 4, &len);
		if (c.issuer_der == NULL || p == NULL || len > MDG_CRLNUM_MAX) {
			snprintf(q->pending, sizeof(q->pending), "CRL %lld does not read", (long long)c.id);
			goto out;
		}
		memcpy(c.number, p, len);
		c.number_len = len;
		c.this_update = pg_get_i64(r, i, 5);
		c.next_update = pg_get_i64(r, i, 6);
		c.imported_at = pg_get_i64(r, i, 7);
		p = blob_at(r, i, 8, &len);
		if (p == NULL || len != sizeof(c.sha256)) {
			snprintf(q->pending, sizeof(q->pending), "CRL %lld: its SHA-256 does not read",
				 (long long)c.id);
			goto out;
		}
		memcpy(c.sha256, p, len);
		c.entries = pg_get_i64(r, i, 9);
		c.retired_at = pg_get_i64(r, i, 10);
		/* a second statement on the connection: r is complete already */
		if (scope_entries(q, c.id, &e, &c.n_entries) != MDG_STORE_OK)
			goto out;
		c.entry = e;
		if (fn(arg, &c) != 0) {
			free(e);
			e = NULL;
			break;
		}
		free(e);
		e = NULL;
	}
	s = MDG_STORE_OK;
out:
	free(e);
	PQclear(r);
	return s;
}

enum mdg_store_status mdg_pg_copy_out_batches(struct pg *q, int (*fn)(void *arg, const struct mdg_export_batch *b),
					      void *arg)
{
	struct mdg_export_batch b;
	PGresult *r = NULL;
	int i, rows;
	enum pg_qs qs;

	qs = pg_one_row(q,
			"SELECT id, created_at, first_seq, last_seq, count, head_hash, completed_at"
			" FROM export_batches ORDER BY id",
			0, NULL, NULL, NULL, &r);
	if (qs == QS_NONE) {
		PQclear(r);
		return MDG_STORE_OK;
	}
	if (qs != QS_ONE)
		return MDG_STORE_ERROR;
	rows = PQntuples(r);
	for (i = 0; i < rows; i++) {
		memset(&b, 0, sizeof(b));
		b.id = pg_get_i64(r, i, 0);
		snprintf(b.created_at, sizeof(b.created_at), "%s", PQgetvalue(r, i, 1));
		b.first_seq = pg_get_i64(r, i, 2);
		b.last_seq = pg_get_i64(r, i, 3);
		b.count = pg_get_i64(r, i, 4);
		if (PQgetlength(r, i, 5) != (int)sizeof(b.head_hash)) {
			snprintf(q->pending, sizeof(q->pending), "export batch %lld does not read", (long long)b.id);
			PQclear(r);
			return MDG_STORE_ERROR;
		}
		memcpy(b.head_hash, PQgetvalue(r, i, 5), sizeof(b.head_hash));
		if (!PQgetisnull(r, i, 6))
			snprintf(b.completed_at, sizeof(b.completed_at), "%s", PQgetvalue(r, i, 6));
		if (fn(arg, &b) != 0)
			break;
	}
	PQclear(r);
	return MDG_STORE_OK;
}

/* --------------------------------------------------------- the target */

static const char *const copy_tables[] = { "acceptances",    "crls",         "crl_entries",
					   "export_batches", "merkle_nodes", "checkpoints" };
static const char *const copy_probe[] = {
	"SELECT 1 FROM acceptances LIMIT 1",  "SELECT 1 FROM crls LIMIT 1",
	"SELECT 1 FROM crl_entries LIMIT 1",  "SELECT 1 FROM export_batches LIMIT 1",
	"SELECT 1 FROM merkle_nodes LIMIT 1", "SELECT 1 FROM checkpoints LIMIT 1",
};

enum mdg_store_status mdg_pg_copy_begin(struct pg *q, char *msg, size_t msglen)
{
	PGresult *r = NULL;
	size_t i;
	enum pg_qs qs;

	msg[0] = '\0';
	if (pg_begin(q) == -1)
		return MDG_STORE_ERROR;
	/* appenders (and log export --new) wait behind the chain head's lock */
	if (pg_exec(q, PS_HEAD_LOCK, 0, NULL, NULL, NULL, NULL) != QS_ONE)
		goto fail;
	for (i = 0; i < sizeof(copy_probe) / sizeof(copy_probe[0]); i++) {
		qs = pg_one_row(q, copy_probe[i], 0, NULL, NULL, NULL, &r);
		PQclear(r);
		r = NULL;
		if (qs == QS_ONE) {
			snprintf(msg, msglen, "table %s holds rows", copy_tables[i]);
			pg_rollback(q);
			return MDG_STORE_CONFLICT;
		}
		if (qs != QS_NONE)
			goto fail;
	}
	if (!q->copy_prepared) {
		r = PQprepare(q->conn, COPY_ACC, copy_acc_sql, 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			(void)pg_classify(q, r);
			PQclear(r);
			goto fail;
		}
		PQclear(r);
		q->copy_prepared = 1;
	}
	return MDG_STORE_OK;
fail:
	pg_rollback(q);
	return MDG_STORE_ERROR;
}

static int live_tx(struct pg *q)
{
	if (q->in_tx && q->conn != NULL && PQstatus(q->conn) == CONNECTION_OK)
		return 0;
	snprintf(q->pending, sizeof(q->pending), "no copy transaction open (copy_begin)");
	return -1;
}

enum mdg_store_status mdg_pg_copy_crl(struct pg *q, const struct mdg_crl_copy *c)
{
	unsigned char b[6][8];
	const char *vals[11];
	int lens[11], fmts[11] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };
	PGresult *r = NULL;
	enum pg_qs qs;

	if (live_tx(q) != 0)
		return MDG_STORE_ERROR;
	pg_put_i64(b[0], c->id);
	pg_put_i64(b[1], c->this_update);
	pg_put_i64(b[2], c->next_update);
	pg_put_i64(b[3], c->imported_at);
	pg_put_i64(b[4], c->entries);
	pg_put_i64(b[5], c->retired_at);
	vals[0] = (const char *)b[0];
	lens[0] = 8;
	vals[1] = bin(c->issuer_der);
	lens[1] = (int)c->issuer_len;
	vals[2] = c->dp_der != NULL ? (const char *)c->dp_der : NULL;
	lens[2] = (int)c->dp_len;
	vals[3] = bin(c->number);
	lens[3] = (int)c->number_len;
	vals[4] = (const char *)b[1];
	vals[5] = (const char *)b[2];
	vals[6] = (const char *)b[3];
	lens[4] = lens[5] = lens[6] = 8;
	vals[7] = (const char *)c->sha256;
	lens[7] = 32;
	vals[8] = (const char *)b[4];
	lens[8] = 8;
	vals[9] = c->dp_key != NULL ? (const char *)c->dp_key : NULL;
	lens[9] = (int)c->dp_key_len;
	vals[10] = c->retired_at != 0 ? (const char *)b[5] : NULL;
	lens[10] = 8;
	qs = pg_one_row(q,
			"INSERT INTO crls (id, issuer, dp, number, this_update, next_update, imported_at, sha256,"
			" entries, dp_key, retired_at) VALUES ($1::int8, $2::bytea, $3::bytea, $4::bytea, $5::int8,"
			" $6::int8, $7::int8, $8::bytea, $9::int8, $10::bytea, $11::int8)",
			11, vals, lens, fmts, &r);
	PQclear(r);
	if (qs != QS_NONE)
		return MDG_STORE_ERROR;
	return mdg_pg_copy_entries(q, c->id, c->entry, c->n_entries) == 0 ? MDG_STORE_OK : MDG_STORE_ERROR;
}

enum mdg_store_status mdg_pg_copy_batch(struct pg *q, const struct mdg_export_batch *bt)
{
	unsigned char b[4][8];
	const char *vals[7];
	int lens[7] = { 8, 0, 8, 8, 8, 32, 0 }, fmts[7] = { 1, 0, 1, 1, 1, 1, 0 };
	PGresult *r = NULL;
	enum pg_qs qs;

	if (live_tx(q) != 0)
		return MDG_STORE_ERROR;
	pg_put_i64(b[0], bt->id);
	pg_put_i64(b[1], bt->first_seq);
	pg_put_i64(b[2], bt->last_seq);
	pg_put_i64(b[3], bt->count);
	vals[0] = (const char *)b[0];
	vals[1] = bt->created_at;
	vals[2] = (const char *)b[1];
	vals[3] = (const char *)b[2];
	vals[4] = (const char *)b[3];
	vals[5] = (const char *)bt->head_hash;
	vals[6] = bt->completed_at[0] != '\0' ? bt->completed_at : NULL;
	qs = pg_one_row(q,
			"INSERT INTO export_batches (id, created_at, first_seq, last_seq, count, head_hash,"
			" completed_at) VALUES ($1::int8, $2::text, $3::int8, $4::int8, $5::int8, $6::bytea,"
			" $7::text)",
			7, vals, lens, fmts, &r);
	PQclear(r);
	return qs == QS_NONE ? MDG_STORE_OK : MDG_STORE_ERROR;
}

enum mdg_store_status mdg_pg_copy_acceptance(struct pg *q, const struct mdg_acceptance_row *a)
{
	unsigned char b_seq[8], b_batch[8], b_na[8];
	const char *vals[17];
	int lens[17] = { 0 }, fmts[17] = { 1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1 };
	PGresult *r;
	enum pg_qs qs;

	if (live_tx(q) != 0 || !q->copy_prepared)
		return MDG_STORE_ERROR;
	if (a->request_der == NULL && a->request_len == 0) {
		snprintf(q->pending, sizeof(q->pending), "seq %lld: the row came without its request",
			 (long long)a->seq);
		return MDG_STORE_ERROR;
	}
	pg_put_i64(b_seq, a->seq);
	pg_put_i64(b_batch, a->export_batch);
	pg_put_i64(b_na, a->cert_not_after);
	vals[0] = (const char *)b_seq;
	lens[0] = 8;
	vals[1] = a->receipt_id;
	vals[2] = bin(a->issuer_der);
	lens[2] = (int)a->issuer_len;
	vals[3] = bin(a->serial);
	lens[3] = (int)a->serial_len;
	vals[4] = bin(a->cert_sha256);
	lens[4] = (int)a->cert_sha256_len;
	vals[5] = a->accepted_at;
	vals[6] = a->reason;
	vals[7] = a->holder_name;
	vals[8] = bin(a->request_der);
	lens[8] = (int)a->request_len;
	vals[9] = bin(a->request_sha256);
	lens[9] = (int)a->request_sha256_len;
	vals[10] = a->client_addr;
	vals[11] = a->effective_from;
	vals[12] = a->export_batch > 0 ? (const char *)b_batch : NULL;
	lens[12] = 8;
	vals[13] = bin(a->prev_hash);
	lens[13] = (int)a->prev_hash_len;
	vals[14] = bin(a->hash);
	lens[14] = (int)a->hash_len;
	vals[15] = a->has_cert_not_after ? (const char *)b_na : NULL;
	lens[15] = 8;
	vals[16] = a->cert_subject_der != NULL ? (const char *)a->cert_subject_der : NULL;
	lens[16] = (int)a->cert_subject_len;
	r = PQexecPrepared(q->conn, COPY_ACC, 17, vals, lens, fmts, 1);
	qs = pg_classify(q, r);
	PQclear(r);
	if (qs == QS_UNIQUE)
		snprintf(q->pending, sizeof(q->pending), "seq %lld: a unique key is taken", (long long)a->seq);
	return qs == QS_NONE ? MDG_STORE_OK : MDG_STORE_ERROR;
}

enum mdg_store_status mdg_pg_copy_end(struct pg *q, int commit)
{
	PGresult *r = NULL;

	if (!commit) {
		pg_rollback(q);
		return MDG_STORE_OK;
	}
	if (live_tx(q) != 0)
		return MDG_STORE_ERROR;
	/* the Merkle tree's nodes, from the rows copied */
	if (mdg_pg_tree_fill_all(q, 1) != 0)
		goto fail;
	/* the identity columns continue after the ids copied */
	if (pg_one_row(q,
		       "SELECT setval(pg_get_serial_sequence('crls', 'id'), coalesce(max(id), 0) + 1, false)"
		       " FROM crls",
		       0, NULL, NULL, NULL, &r) != QS_ONE)
		goto fail;
	PQclear(r);
	r = NULL;
	if (pg_one_row(q,
		       "SELECT setval(pg_get_serial_sequence('export_batches', 'id'), coalesce(max(id), 0) + 1,"
		       " false) FROM export_batches",
		       0, NULL, NULL, NULL, &r) != QS_ONE)
		goto fail;
	PQclear(r);
	r = NULL;
	if (pg_one_row(q,
		       "SELECT setval(pg_get_serial_sequence('checkpoints', 'id'), coalesce(max(id), 0) + 1,"
		       " false) FROM checkpoints",
		       0, NULL, NULL, NULL, &r) != QS_ONE)
		goto fail;
	PQclear(r);
	r = NULL;
	if (pg_commit(q) == -1)
		return MDG_STORE_ERROR;
	return MDG_STORE_OK;
fail:
	PQclear(r);
	pg_rollback(q);
	return MDG_STORE_ERROR;
}

/* The ops (store_pg.c's table). */
#define Q(cls) ((struct pg *)(cls))

enum mdg_store_status mdg_pg_w_copy_out_crls(void *cls, int (*fn)(void *arg, const struct mdg_crl_copy *c), void *arg)
{
	return pg_noted(Q(cls), "copy_out_crls", mdg_pg_copy_out_crls(Q(cls), fn, arg));
}

enum mdg_store_status mdg_pg_w_copy_out_batches(void *cls, int (*fn)(void *arg, const struct mdg_export_batch *b),
						void *arg)
{
	return pg_noted(Q(cls), "copy_out_batches", mdg_pg_copy_out_batches(Q(cls), fn, arg));
}

enum mdg_store_status mdg_pg_w_copy_begin(void *cls, char *msg, size_t msglen)
{
	enum mdg_store_status s = mdg_pg_copy_begin(Q(cls), msg, msglen);

	return s == MDG_STORE_CONFLICT ? s : pg_noted(Q(cls), "copy_begin", s);
}

enum mdg_store_status mdg_pg_w_copy_crl(void *cls, const struct mdg_crl_copy *c)
{
	return pg_noted(Q(cls), "copy_crl", mdg_pg_copy_crl(Q(cls), c));
}

enum mdg_store_status mdg_pg_w_copy_batch(void *cls, const struct mdg_export_batch *b)
{
	return pg_noted(Q(cls), "copy_batch", mdg_pg_copy_batch(Q(cls), b));
}

enum mdg_store_status mdg_pg_w_copy_acceptance(void *cls, const struct mdg_acceptance_row *r)
{
	return pg_noted(Q(cls), "copy_acceptance", mdg_pg_copy_acceptance(Q(cls), r));
}

enum mdg_store_status mdg_pg_w_copy_end(void *cls, int commit)
{
	return pg_noted(Q(cls), "copy_end", mdg_pg_copy_end(Q(cls), commit));
}
