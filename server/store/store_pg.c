/* The PostgreSQL store (docs/store.md "PostgreSQL"), on libpq. One handle
 * is one connection used by one thread at a time. As GNU Taler's exchange
 * database plugin: every statement is prepared once per connection (and
 * again after a reconnect); a result is a hard error, a soft error
 * (serialization failure, deadlock: retried a bounded number of times), no
 * row or a row; a unique violation is an answer ("already accepted"), not
 * an error. A lost connection fails the operation (MDG_STORE_ERROR, the
 * message in mdg_store_error) and the next operation connects again by
 * itself: one attempt, no sleep; a multi-host dsn with
 * target_session_attrs=read-write follows a promoted standby. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "backend.h"
#include "chain.h"
#include "config.h"
#include "group_commit.h"
#include "store.h"
#include "store_pg_int.h"
#include "timefmt.h"

atomic_uint_fast64_t mdg_pg_conflicts, mdg_pg_retries, mdg_pg_reconnects, mdg_pg_errors;

static const char *const stmt_sql[PS_COUNT] = {
	[PS_BEGIN] = "BEGIN",
	[PS_BEGIN_READ] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	[PS_COMMIT] = "COMMIT",
	[PS_ROLLBACK] = "ROLLBACK",
	/* a promoted standby's old primary may come back read-only: not up */
	[PS_PING] = "SELECT pg_is_in_recovery()",
	[PS_FIND_ACC] = "SELECT seq, receipt_id, accepted_at, effective_from FROM acceptances"
			" WHERE issuer = $1 AND serial = $2",
	/* WAL-logged, so its COMMIT waits for the synchronous standby like an
	 * insert's; WAL order puts it after every commit this handle has seen */
	[PS_SETTLE] = "SELECT pg_logical_emit_message(true, 'madoguchi', 'settle')",
	/* the one serialised step: the chain head's lock row, taken for the
	 * batch; then (a new snapshot, READ COMMITTED) the last row itself */
	[PS_HEAD_LOCK] = "SELECT id FROM mdg_chain_head WHERE id = 1 FOR UPDATE",
	[PS_HEAD_SET] = "SELECT seq, hash FROM acceptances ORDER BY seq DESC LIMIT 1",
	[PS_INSERT_ACC] = "INSERT INTO acceptances (seq, receipt_id, issuer, serial, cert_sha256,"
			  " accepted_at, reason, holder_name, request, request_sha256, client_addr,"
			  " effective_from, prev_hash, hash, cert_not_after, cert_subject, accepted_unix)"
			  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
			  " ON CONFLICT DO NOTHING RETURNING seq",
	[PS_CRL_LOOKUP] = "SELECT 1 FROM crls c JOIN crl_entries e ON e.gen = c.gen AND e.crl_id = c.id"
			  " WHERE c.issuer = $1 AND e.serial = $2 LIMIT 1",
	[PS_CRL_SCOPE] = "SELECT id, number, this_update, next_update, imported_at, entries, sha256,"
			 " retired_at FROM crls WHERE issuer = $1"
			 " AND (($2::bytea IS NULL AND dp_key IS NULL) OR dp_key = $2)",
	/* imports one at a time, deployment-wide (a new scope has no row to lock) */
	[PS_CRL_SCOPE_LOCK] = "SELECT pg_advisory_xact_lock(7242001)",
	[PS_CRL_LIST] = "SELECT id, issuer, dp, number, this_update, next_update, imported_at, entries,"
			" retired_at FROM crls ORDER BY issuer, dp IS NOT NULL, dp",
	[PS_CRL_INSERT] = "INSERT INTO crls (issuer, dp, number, this_update, next_update, imported_at,"
			  " sha256, entries, dp_key) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8) RETURNING id",
	[PS_CRL_UPDATE] = "UPDATE crls SET number = $2, this_update = $3, next_update = $4,"
			  " imported_at = $5, sha256 = $6, entries = $7, dp = $8, retired_at = NULL,"
			  " gen = $9 WHERE id = $1",
	[PS_CRL_GEN_NEW] = "SELECT mdg_crl_gen_new($1)",
	[PS_CRL_GEN_SEAL] = "SELECT mdg_crl_gen_seal($1)",
	[PS_CRL_SET_GEN] = "UPDATE crls SET gen = $2 WHERE id = $1",
	[PS_CRL_GEN_RETIRE] = "INSERT INTO crl_gens_retired (gen) SELECT gen FROM crls"
			      " WHERE id = $1 AND gen IS NOT NULL",
	[PS_CRL_SWEEP] = "SELECT mdg_crl_gen_sweep()",
	[PS_CRL_RETIRE] = "UPDATE crls SET retired_at = $2 WHERE id = $1 AND retired_at IS NULL",
};

/* -------------------------------------------------------- the connection */

static void note_pending(struct pg *q, const char *msg)
{
	if (q->pending[0] == '\0') {
		snprintf(q->pending, sizeof(q->pending), "%s", msg);
		q->pending[strcspn(q->pending, "\n")] = '\0';
	}
}

static void drop_conn(struct pg *q)
{
	if (q->conn != NULL && !q->borrowed)
		PQfinish(q->conn);
	q->conn = NULL;
	q->prepared = 0;
	q->copy_prepared = 0;
	q->in_tx = 0;
}

/* Notices are kept off stderr (the daemon's JSON log); a WARNING is noted
 * for pg_commit_confirmed. The severity field is never translated. */
static void pg_notice(void *arg, const PGresult *r)
{
	struct pg *q = arg;
	const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);

	if (sev != NULL && strcmp(sev, "WARNING") == 0)
		q->warned = 1;
}

int pg_ensure(struct pg *q)
{
	char msg[256];
	int i;

	if (q->conn != NULL && PQstatus(q->conn) != CONNECTION_OK)
		drop_conn(q);
	if (q->conn == NULL && q->borrowed)
		return -1; /* not ours to open again */
	if (q->conn == NULL) {
		atomic_fetch_add(&mdg_pg_reconnects, 1);
		if ((q->conn = mdg_pg_connect(q->dsn, msg, sizeof(msg))) == NULL) {
			note_pending(q, msg);
			return -1;
		}
		PQsetNoticeReceiver(q->conn, pg_notice, q);
	}
	if (q->prepared)
		return 0;
	for (i = 0; i < PS_COUNT; i++) {
		char name[16];
		PGresult *r;

		snprintf(name, sizeof(name), "mdg%d", i);
		r = PQprepare(q->conn, name, stmt_sql[i] != NULL ? stmt_sql[i] : mdg_pg_tree_sql(i), 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			snprintf(msg, sizeof(msg), "preparing statement %d: %s", i,
				 r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(q->conn));
			note_pending(q, msg);
			PQclear(r);
			drop_conn(q);
			return -1;
		}
		PQclear(r);
	}
	q->prepared = 1;
	return 0;
}

enum pg_qs pg_classify(struct pg *q, PGresult *r)
{
	const char *state;

	switch (PQresultStatus(r)) {
	case PGRES_TUPLES_OK:
	case PGRES_SINGLE_TUPLE:
		return PQntuples(r) > 0 ? QS_ONE : QS_NONE;
	case PGRES_COMMAND_OK:
	case PGRES_COPY_IN:
		return QS_NONE;
	default:
		break;
	}
	state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (state != NULL && strcmp(state, "23505") == 0)
		return QS_UNIQUE;
	note_pending(q, r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(q->conn));
	if (state != NULL && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
		return QS_SOFT;
	return QS_HARD;
}

enum pg_qs pg_exec(struct pg *q, enum pg_stmt id, int n, const char *const *vals, const int *lens, const int *fmts,
		   PGresult **res)
{
	char name[16];
	PGresult *r;
	enum pg_qs s;

	if (res != NULL)
		*res = NULL;
	/* never reconnect inside a transaction: its earlier statements are gone */
	if (q->in_tx && (q->conn == NULL || PQstatus(q->conn) != CONNECTION_OK)) {
		note_pending(q, "the connection to the database was lost in a transaction");
		return QS_HARD;
	}
	if (pg_ensure(q) == -1)
		return QS_HARD;
	snprintf(name, sizeof(name), "mdg%d", (int)id);
	r = PQexecPrepared(q->conn, name, n, vals, lens, fmts, 1);
	/* the connection was found lost (a restarted server): outside a
	 * transaction, a read or BEGIN is run once more on a new connection
	 * (no sleep); a write whose outcome is unknown never is */
	if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQstatus(q->conn) != CONNECTION_OK && !q->in_tx && id != PS_CRL_RETIRE && id != PS_COMMIT &&
	    id != PS_INSERT_ACC && id != PS_CRL_INSERT && id != PS_CRL_UPDATE && id != PS_CRL_SET_GEN) {
		PQclear(r);
		r = NULL;
		if (pg_ensure(q) == 0)
			r = PQexecPrepared(q->conn, name, n, vals, lens, fmts, 1);
		else
			return QS_HARD;
	}
	s = pg_classify(q, r);
	if (res != NULL && (s == QS_ONE || s == QS_NONE))
		*res = r;
	else
		PQclear(r);
	return s;
}

static int simple(struct pg *q, enum pg_stmt id)
{
	return pg_exec(q, id, 0, NULL, NULL, NULL, NULL) == QS_NONE ? 0 : -1;
}

int pg_begin(struct pg *q)
{
	if (simple(q, PS_BEGIN) == -1)
		return -1;
	q->in_tx = 1;
	return 0;
}

int pg_commit(struct pg *q)
{
	int rc;

	q->warned = 0;
	rc = simple(q, PS_COMMIT);
	q->in_tx = 0;
	return rc;
}

int pg_commit_confirmed(struct pg *q)
{
	if (pg_commit(q) == -1)
		return -1;
	if (q->warned) {
		note_pending(q, "COMMIT returned with a warning (the wait for the synchronous standby cancelled?): "
				"the commit may be on this server only");
		return -1;
	}
	return 0;
}

void pg_rollback(struct pg *q)
{
	if (!q->in_tx)
		return;
	q->in_tx = 0;
	if (q->conn != NULL && PQstatus(q->conn) == CONNECTION_OK)
		(void)pg_exec(q, PS_ROLLBACK, 0, NULL, NULL, NULL, NULL);
}

/* --------------------------------------------------------- acceptances */

static int copy_col(const PGresult *r, int col, char *out, size_t outlen)
{
	int n = PQgetlength(r, 0, col);

	if (PQgetisnull(r, 0, col) || n < 0 || (size_t)n >= outlen)
		return -1;
	memcpy(out, PQgetvalue(r, 0, col), (size_t)n);
	out[n] = '\0';
	return 0;
}

/* A row that another node committed is visible here before the
 * synchronous standby confirmed it; answering from it then could promise
 * an acceptance that a failover loses. One WAL-logged commit of our own
 * returns only once everything before it in the WAL, that row's commit
 * included, is on the standby. Inside read_begin's snapshot, that
 * snapshot ends with it and a new one begins. */
static int settle(struct pg *q)
{
	int outer = q->in_tx;
	PGresult *r;

	if (!outer && pg_begin(q) == -1)
		return -1;
	if (pg_exec(q, PS_SETTLE, 0, NULL, NULL, NULL, &r) != QS_ONE) {
		PQclear(r);
		pg_rollback(q);
		return -1;
	}
	PQclear(r);
	if (pg_commit_confirmed(q) == -1)
		return -1;
	if (outer) {
		if (simple(q, PS_BEGIN_READ) == -1)
			return -1;
		q->in_tx = 1;
	}
	return 0;
}

static enum mdg_store_status find_acc(struct pg *q, const unsigned char *issuer, size_t issuer_len,
				      const unsigned char *serial, size_t serial_len, struct mdg_acceptance_ref *out)
{
	const char *vals[2] = { (const char *)issuer, (const char *)serial };
	int lens[2] = { (int)issuer_len, (int)serial_len }, fmts[2] = { 1, 1 };
	PGresult *r;
	enum mdg_store_status s = MDG_STORE_ERROR;

	if (issuer_len > 65536 || serial_len > MDG_SERIAL_MAX)
		return MDG_STORE_ERROR;
	switch (pg_exec(q, PS_FIND_ACC, 2, vals, lens, fmts, &r)) {
	case QS_NONE:
		s = MDG_STORE_NOT_FOUND;
		break;
	case QS_ONE:
		memset(out, 0, sizeof(*out));
		out->seq = pg_get_i64(r, 0, 0);
		if (copy_col(r, 1, out->receipt_id, sizeof(out->receipt_id)) == 0 &&
		    copy_col(r, 2, out->accepted_at, sizeof(out->accepted_at)) == 0 &&
		    copy_col(r, 3, out->effective_from, sizeof(out->effective_from)) == 0)
			s = MDG_STORE_OK;
		break;
	default:
		break;
	}
	PQclear(r);
	if (s == MDG_STORE_OK && settle(q) == -1)
		s = MDG_STORE_ERROR;
	return s;
}

enum append_result {
	AP_OK,       /* appended (or our own row, committed before) */
	AP_CONFLICT, /* (issuer, serial) held: *out is that row */
	AP_REFUSED,  /* this row cannot be written (receipt id taken) */
	AP_SOFT,     /* serialization failure or deadlock: retry the batch */
	AP_FAILED,   /* the transaction is lost */
};

/* Appends one row after (*seq, prev) inside the batch's transaction. ON
 * CONFLICT DO NOTHING keeps the transaction usable after a taken key (a
 * failed statement would abort it in PostgreSQL). */
static enum append_result append_row(struct pg *q, const struct mdg_acceptance_new *a, int64_t *seq,
				     unsigned char prev[MDG_HASH_LEN], struct mdg_acceptance_ref *out)
{
	unsigned char hash[MDG_HASH_LEN], b_seq[8], b_na[8], b_unix[8];
	struct mdg_chain_row row;
	time_t unix_at;
	enum mdg_store_status f;
	const char *vals[17];
	int lens[17], fmts[17], i;
	enum pg_qs s;

	if (mdg_rfc3339_parse(a->accepted_at, &unix_at) == -1 || a->request_len > (size_t)1 << 30)
		return AP_REFUSED;
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
	pg_put_i64(b_seq, row.seq);
	pg_put_i64(b_na, a->cert_not_after);
	pg_put_i64(b_unix, (int64_t)unix_at);

#define BIN(k, p, n) (vals[k] = (const char *)(p), lens[k] = (int)(n), fmts[k] = 1)
#define TXT(k, s) (vals[k] = (s) != NULL ? (s) : "", lens[k] = 0, fmts[k] = 0)
	BIN(0, b_seq, 8);
	TXT(1, a->receipt_id);
	BIN(2, a->issuer_der, a->issuer_len);
	BIN(3, a->serial, a->serial_len);
	BIN(4, a->cert_sha256, 32);
	TXT(5, a->accepted_at);
	TXT(6, a->reason);
	TXT(7, a->holder_name);
	BIN(8, a->request_der, a->request_len);
	BIN(9, a->request_sha256, 32);
	TXT(10, a->client_addr);
	TXT(11, a->effective_from);
	BIN(12, prev, MDG_HASH_LEN);
	BIN(13, hash, MDG_HASH_LEN);
	BIN(14, b_na, 8);
	BIN(15, a->cert_subject_der, a->cert_subject_len);
	BIN(16, b_unix, 8);
#undef BIN
#undef TXT
	if (a->cert_subject_der == NULL)
		vals[14] = vals[15] = NULL;
	for (i = 0; i < 17; i++)
		if (fmts[i] == 1 && vals[i] == NULL && i != 14 && i != 15)
			vals[i] = ""; /* an empty BLOB, not NULL */

	s = pg_exec(q, PS_INSERT_ACC, 17, vals, lens, fmts, NULL);
	if (s == QS_SOFT)
		return AP_SOFT;
	if (s == QS_HARD)
		return AP_FAILED;
	if (s == QS_NONE || s == QS_UNIQUE) {
		/* a key taken: someone accepted this certificate first (here or
		 * on another node), or in theory the receipt id collided */
		f = find_acc(q, a->issuer_der, a->issuer_len, a->serial, a->serial_len, out);
		if (f == MDG_STORE_NOT_FOUND)
			return AP_REFUSED;
		if (f != MDG_STORE_OK)
			return AP_FAILED;
		/* our own row, committed by a batch whose COMMIT reported failure */
		if (strcmp(out->receipt_id, a->receipt_id) == 0)
			return AP_OK;
		atomic_fetch_add(&mdg_pg_conflicts, 1);
		return AP_CONFLICT;
	}
	if (mdg_pg_tree_add(q, a, row.seq) != 0) /* its leaf, written with the batch */
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

/* Takes the chain head's lock, then reads the last row (seq 0 and zeros
 * for an empty log): the head is the last row, as on SQLite, whoever wrote
 * it (a row copied in by db copy, or by hand, included). */
static int lock_head(struct pg *q, int64_t *seq, unsigned char prev[MDG_HASH_LEN], int *soft)
{
	PGresult *r;
	enum pg_qs s = pg_exec(q, PS_HEAD_LOCK, 0, NULL, NULL, NULL, NULL);
	int rc = -1;

	*soft = s == QS_SOFT;
	if (s != QS_ONE) {
		if (s == QS_NONE)
			note_pending(q, "the chain head row (mdg_chain_head) is missing");
		return -1;
	}
	s = pg_exec(q, PS_HEAD_SET, 0, NULL, NULL, NULL, &r);
	*soft = s == QS_SOFT;
	if (s == QS_ONE && PQgetlength(r, 0, 1) == MDG_HASH_LEN) {
		*seq = pg_get_i64(r, 0, 0);
		memcpy(prev, PQgetvalue(r, 0, 1), MDG_HASH_LEN);
		rc = 0;
	} else if (s == QS_NONE) {
		*seq = 0;
		memset(prev, 0, MDG_HASH_LEN);
		rc = 0;
	}
	PQclear(r);
	return rc;
}

/* Group commit per node (group_commit.h): the leader appends the queued
 * rows in one transaction holding the chain head's row lock, then COMMIT. */
enum batch_result { B_DONE, B_SOFT, B_FAILED };

/* One attempt at the batch in one transaction. */
static enum batch_result try_batch(struct pg *q, struct mdg_gc_req **v, size_t n)
{
	unsigned char prev[MDG_HASH_LEN];
	int64_t seq;
	size_t i;
	int soft;

	if (pg_begin(q) == -1)
		return B_FAILED;
	if (lock_head(q, &seq, prev, &soft) == -1)
		return soft ? B_SOFT : B_FAILED;
	if (mdg_pg_tree_begin(q, seq) != 0) /* the tree's frontier at the head */
		return B_FAILED;
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
		case AP_SOFT:
			return B_SOFT;
		case AP_FAILED:
			return B_FAILED;
		}
	}
	/* only a COMMIT that returned makes the rows acknowledged; one whose
	 * outcome is unknown (connection lost) is an error for every row: the
	 * holder's retry then finds its row, or inserts it */
	return mdg_pg_tree_flush(q, &q->tree, 1) == 0 && pg_commit_confirmed(q) == 0 ? B_DONE : B_FAILED;
}

static void run_batch(void *cls, struct mdg_gc_req **v, size_t n)
{
	struct pg *q = cls;
	enum batch_result b = B_FAILED;
	size_t i;
	int k;

	for (k = 0; k <= PG_SOFT_RETRIES; k++) {
		b = try_batch(q, v, n);
		if (b != B_SOFT)
			break;
		pg_rollback(q);
		atomic_fetch_add(&mdg_pg_retries, 1);
	}
	if (b == B_DONE)
		return;
	pg_rollback(q);
	for (i = 0; i < n; i++)
		v[i]->status = MDG_STORE_ERROR;
	/* the connection stands (a row's own failure): each row alone, so
	 * that one bad row does not fail the others */
	if (n > 1 && q->conn != NULL && PQstatus(q->conn) == CONNECTION_OK)
		for (i = 0; i < n; i++)
			if (try_batch(q, &v[i], 1) != B_DONE) {
				pg_rollback(q);
				v[i]->status = MDG_STORE_ERROR;
			}
}

static enum mdg_store_status pg_insert_acceptance(struct pg *q, const struct mdg_acceptance_new *a,
						  struct mdg_acceptance_ref *out)
{
	struct mdg_gc_req me = { .a = a, .out = out, .status = MDG_STORE_ERROR }, *one = &me;

	if (strlen(a->receipt_id) == 0 || strlen(a->accepted_at) == 0 || strlen(a->effective_from) == 0 ||
	    a->reason == NULL)
		return MDG_STORE_ERROR;
	if (q->group != NULL)
		return mdg_gc_submit(q->group, a, out, run_batch, q);
	run_batch(q, &one, 1);
	return me.status;
}

/* ----------------------------------------------------- the ops and errors */

/* After each operation: a failure is recorded as the operation's name and
 * the server's (or libpq's) message, until the next failure. */
enum mdg_store_status pg_noted(struct pg *q, const char *op, enum mdg_store_status s)
{
	if (s == MDG_STORE_ERROR) {
		atomic_fetch_add(&mdg_pg_errors, 1);
		snprintf(q->err, sizeof(q->err), "%s: %s", op,
			 q->pending[0] != '\0' ? q->pending
			 : q->conn == NULL     ? "no connection to the database"
					       : "failed (a row that does not read, or out of memory)");
	}
	q->pending[0] = '\0';
	/* a transaction left open by a failure is ended before the next op */
	if (q->in_tx && s != MDG_STORE_OK)
		pg_rollback(q);
	return s;
}

#define Q(cls) ((struct pg *)(cls))

static enum mdg_store_status w_find_acceptance(void *cls, const unsigned char *issuer, size_t issuer_len,
					       const unsigned char *serial, size_t serial_len,
					       struct mdg_acceptance_ref *out)
{
	return pg_noted(Q(cls), "find_acceptance", find_acc(Q(cls), issuer, issuer_len, serial, serial_len, out));
}

static enum mdg_store_status w_insert_acceptance(void *cls, const struct mdg_acceptance_new *a,
						 struct mdg_acceptance_ref *out)
{
	return pg_noted(Q(cls), "insert_acceptance", pg_insert_acceptance(Q(cls), a, out));
}

static enum mdg_store_status w_crl_lookup(void *cls, const unsigned char *issuer, size_t issuer_len,
					  const unsigned char *serial, size_t serial_len, int *revoked)
{
	return pg_noted(Q(cls), "crl_lookup",
			mdg_pg_crl_lookup(Q(cls), issuer, issuer_len, serial, serial_len, revoked));
}

static enum mdg_store_status w_crl_scope(void *cls, const unsigned char *issuer, size_t issuer_len,
					 const unsigned char *dp, size_t dp_len, struct mdg_crl_scope *out)
{
	return pg_noted(Q(cls), "crl_scope", mdg_pg_crl_scope(Q(cls), issuer, issuer_len, dp, dp_len, out));
}

static enum mdg_store_status w_list_crls(void *cls, int (*fn)(void *arg, const struct mdg_crl_scope *s), void *arg)
{
	return pg_noted(Q(cls), "list_crls", mdg_pg_list_crls(Q(cls), fn, arg));
}

static enum mdg_store_status w_crl_import(void *cls, const struct mdg_crl_import *c, time_t now,
					  enum mdg_crl_import_outcome *outcome, char *msg, size_t msglen)
{
	return pg_noted(Q(cls), "crl_import", mdg_pg_crl_import(Q(cls), c, now, outcome, msg, msglen));
}

static enum mdg_store_status w_crl_retire(void *cls, int64_t id, time_t now)
{
	return pg_noted(Q(cls), "crl_retire", mdg_pg_crl_retire(Q(cls), id, now));
}

static enum mdg_store_status w_log_query(void *cls, const struct mdg_log_filter *f,
					 int (*fn)(void *arg, const struct mdg_acceptance_row *r), void *arg)
{
	return pg_noted(Q(cls), "log_query", mdg_pg_log_query(Q(cls), f, fn, arg));
}

static enum mdg_store_status w_log_head(void *cls, struct mdg_log_head *out)
{
	return pg_noted(Q(cls), "log_head", mdg_pg_log_head(Q(cls), out));
}

static enum mdg_store_status w_log_stats(void *cls, struct mdg_log_stats *out)
{
	return pg_noted(Q(cls), "log_stats", mdg_pg_log_stats(Q(cls), out));
}

static enum mdg_store_status w_export_new(void *cls, const char *created_at, struct mdg_export_batch *out)
{
	return pg_noted(Q(cls), "export_new", mdg_pg_export_new(Q(cls), created_at, out));
}

static enum mdg_store_status w_export_get(void *cls, int64_t id, struct mdg_export_batch *out)
{
	return pg_noted(Q(cls), "export_get", mdg_pg_export_get(Q(cls), id, out));
}

static enum mdg_store_status w_export_complete(void *cls, int64_t id, const char *completed_at)
{
	return pg_noted(Q(cls), "export_complete", mdg_pg_export_complete(Q(cls), id, completed_at));
}

static enum mdg_store_status pg_ping(struct pg *q)
{
	PGresult *r;
	enum mdg_store_status s = MDG_STORE_ERROR;

	if (pg_exec(q, PS_PING, 0, NULL, NULL, NULL, &r) == QS_ONE) {
		if (PQgetlength(r, 0, 0) == 1 && PQgetvalue(r, 0, 0)[0] == 0)
			s = MDG_STORE_OK;
		else
			note_pending(q, "the database is in recovery (a standby): read-only");
	}
	PQclear(r);
	return s;
}

static enum mdg_store_status w_ping(void *cls)
{
	return pg_noted(Q(cls), "ping", pg_ping(Q(cls)));
}

static enum mdg_store_status w_read_begin(void *cls)
{
	struct pg *q = cls;

	if (simple(q, PS_BEGIN_READ) == -1)
		return pg_noted(q, "read_begin", MDG_STORE_ERROR);
	q->in_tx = 1;
	return pg_noted(q, "read_begin", MDG_STORE_OK);
}

static void w_read_end(void *cls)
{
	struct pg *q = cls;

	if (!q->in_tx)
		return;
	if (pg_commit(q) != 0) {
		q->in_tx = 1;
		pg_rollback(q);
	}
	q->pending[0] = '\0';
}

static const char *w_error(void *cls)
{
	return cls != NULL ? Q(cls)->err : "";
}

static void w_close(void *cls)
{
	struct pg *q = cls;

	if (q == NULL)
		return;
	drop_conn(q);
	mdg_gc_leave(q->group);
	free(q->dsn);
	free(q);
}

static const struct mdg_store_ops pg_ops = {
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
	.merkle_node = mdg_pg_w_merkle_node,
	.checkpoint_latest = mdg_pg_w_checkpoint_latest,
	.checkpoint_insert = mdg_pg_w_checkpoint_insert,
	.checkpoint_list = mdg_pg_w_checkpoint_list,
	.copy_out_crls = mdg_pg_w_copy_out_crls,
	.copy_out_batches = mdg_pg_w_copy_out_batches,
	.copy_begin = mdg_pg_w_copy_begin,
	.copy_crl = mdg_pg_w_copy_crl,
	.copy_batch = mdg_pg_w_copy_batch,
	.copy_acceptance = mdg_pg_w_copy_acceptance,
	.copy_end = mdg_pg_w_copy_end,
	.ping = w_ping,
	.read_begin = w_read_begin,
	.read_end = w_read_end,
	.error = w_error,
	.close = w_close,
};

static int pg_schema_version(void)
{
	return mdg_pg_schema_n_migrations;
}

static int pg_open_cfg(struct mdg_store *stp, const struct mdg_config *cfg, char *err, size_t errlen)
{
	struct pg *q;
	int v = 0, want = mdg_pg_schema_n_migrations;

	stp->ops = NULL;
	stp->cls = NULL;
	if (cfg->dsn[0] == '\0') {
		snprintf(err, errlen, "[store] backend postgresql needs [store] dsn");
		return -1;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL || (q->dsn = strdup(cfg->dsn)) == NULL) {
		free(q);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((q->conn = mdg_pg_connect(q->dsn, err, errlen)) == NULL)
		goto fail;
	PQsetNoticeReceiver(q->conn, pg_notice, q);
	if (mdg_pg_read_version(q->conn, &v, err, errlen) == -1)
		goto fail;
	if (v == 0) {
		snprintf(err, errlen, "postgresql store is not initialised: run madoguchi-admin db init");
		goto fail;
	}
	if (v != want) {
		snprintf(err, errlen, "postgresql store at schema version %d, this build expects %d: %s", v, want,
			 v < want ? "run madoguchi-admin db migrate"
				  : "the database is newer than this program (upgrade madoguchi)");
		goto fail;
	}
	if (pg_ensure(q) == -1) {
		snprintf(err, errlen, "postgresql: %s", q->pending);
		goto fail;
	}
	q->pending[0] = '\0';
	q->group = mdg_gc_join(q->dsn);
	stp->ops = &pg_ops;
	stp->cls = q;
	return 0;
fail:
	w_close(q);
	return -1;
}

static int pg_migrate_cfg(const struct mdg_config *cfg, int *from, int *to, char *err, size_t errlen)
{
	if (cfg->dsn[0] == '\0') {
		snprintf(err, errlen, "[store] backend postgresql needs [store] dsn");
		return -1;
	}
	return mdg_store_pg_migrate(cfg->dsn, from, to, err, errlen);
}

static void pg_counters(struct mdg_store_counters *out)
{
	out->conflicts = atomic_load(&mdg_pg_conflicts);
	out->retries = atomic_load(&mdg_pg_retries);
	out->reconnects = atomic_load(&mdg_pg_reconnects);
	out->errors = atomic_load(&mdg_pg_errors);
}

const struct mdg_store_backend mdg_store_backend_postgresql = {
	.name = "postgresql",
	.open = pg_open_cfg,
	.migrate = pg_migrate_cfg,
	.schema_version = pg_schema_version,
	.counters = pg_counters,
};
