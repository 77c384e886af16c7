/* The PostgreSQL backend's migrations (db init, db migrate): schema/pg/
 * NNN_*.sql, embedded; the version applied is the one row of
 * mdg_schema_version. Each migration runs in its own transaction with its
 * version update, under an advisory lock, re-reading the version there, so
 * two concurrent runs (two nodes' operators) do not apply one twice. What
 * a migration needs beyond its SQL runs in the same transaction (2: the
 * Merkle tree of the rows held, store_pg_merkle.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store.h"
#include "store_pg_int.h"

static void pg_msg(PGconn *c, PGresult *r, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "postgresql store: %s: %s", what,
		 r != NULL && PQresultErrorMessage(r)[0] != '\0' ? PQresultErrorMessage(r) : PQerrorMessage(c));
	err[strcspn(err, "\n")] = '\0';
}

/* A constant statement (no input in it): 0, or -1 with err. */
static int exec_ok(PGconn *c, const char *sql, const char *what, char *err, size_t errlen)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType s = PQresultStatus(r);
	int rc = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? 0 : -1;

	if (rc == -1)
		pg_msg(c, r, what, err, errlen);
	PQclear(r);
	return rc;
}

int mdg_pg_read_version(PGconn *c, int *v, char *err, size_t errlen)
{
	PGresult *r = PQexecParams(c,
				   "SELECT CASE WHEN to_regclass('mdg_schema_version') IS NULL"
				   " THEN 0 ELSE 1 END",
				   0, NULL, NULL, NULL, NULL, 0);
	int rc = -1;

	*v = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		pg_msg(c, r, "reading the schema version", err, errlen);
		goto out;
	}
	if (strcmp(PQgetvalue(r, 0, 0), "0") == 0) {
		rc = 0;
		goto out;
	}
	PQclear(r);
	r = PQexecParams(c, "SELECT coalesce(max(version), 0) FROM mdg_schema_version", 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		pg_msg(c, r, "reading the schema version", err, errlen);
		goto out;
	}
	*v = atoi(PQgetvalue(r, 0, 0));
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int mdg_store_pg_migrate(const char *dsn, int *from, int *to, char *err, size_t errlen)
{
	PGconn *c;
	PGresult *r;
	char what[64], ver[16];
	const char *vals[1] = { ver };
	int v = 0, cur, want = mdg_pg_schema_n_migrations, rc = -1, intx = 0;

	*from = *to = 0;
	if ((c = mdg_pg_connect(dsn, err, errlen)) == NULL)
		return -1;
	if (mdg_pg_read_version(c, &v, err, errlen) == -1)
		goto out;
	*from = *to = v;
	if (v > want) {
		snprintf(err, errlen,
			 "postgresql store at schema version %d, this build only knows up "
			 "to %d: upgrade madoguchi",
			 v, want);
		goto out;
	}
	for (cur = v + 1; cur <= want; cur++) {
		if (exec_ok(c, "BEGIN", "BEGIN", err, errlen) == -1)
			goto out;
		intx = 1;
		if (exec_ok(c, "SELECT pg_advisory_xact_lock(7242000)", "locking for migration", err, errlen) == -1 ||
		    exec_ok(c, "CREATE TABLE IF NOT EXISTS mdg_schema_version (version INTEGER NOT NULL)",
			    "creating mdg_schema_version", err, errlen) == -1 ||
		    mdg_pg_read_version(c, &v, err, errlen) == -1)
			goto out;
		if (v < cur) {
			snprintf(what, sizeof(what), "migration %d failed", cur);
			if (exec_ok(c, mdg_pg_schema_migrations[cur - 1], what, err, errlen) == -1)
				goto out;
			/* 2 (002_merkle.sql): the tree's nodes of every row held */
			if (cur == 2 && mdg_pg_tree_backfill(c, err, errlen) == -1)
				goto out;
			snprintf(ver, sizeof(ver), "%d", cur);
			r = PQexecParams(c, "DELETE FROM mdg_schema_version", 0, NULL, NULL, NULL, NULL, 0);
			PQclear(r);
			r = PQexecParams(c, "INSERT INTO mdg_schema_version (version) VALUES ($1::int4)", 1, NULL, vals,
					 NULL, NULL, 0);
			if (PQresultStatus(r) != PGRES_COMMAND_OK) {
				pg_msg(c, r, "recording the schema version", err, errlen);
				PQclear(r);
				goto out;
			}
			PQclear(r);
		}
		snprintf(what, sizeof(what), "commit of migration %d failed", cur);
		if (exec_ok(c, "COMMIT", what, err, errlen) == -1)
			goto out;
		intx = 0;
		*to = cur;
	}
	rc = 0;
out:
	if (intx)
		exec_ok(c, "ROLLBACK", "ROLLBACK", what, sizeof(what));
	PQfinish(c);
	return rc;
}
