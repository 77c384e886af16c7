/* The SQLite backend's pragmas and migrations (db init, db migrate). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "names.h"
#include "store.h"
#include "store_sqlite.h"
#include "store_sqlite_int.h"

/* Runs a statement without parameters that may return one row, which is
 * ignored except for an integer in *val (if non-NULL). */
int mdg_sqlite_exec_int(sqlite3 *db, const char *sql, int *val)
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

int mdg_sqlite_set_pragmas(sqlite3 *db, const char *path, char *err, size_t errlen)
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
		snprintf(err, errlen,
			 "database %s: cannot set WAL mode (is it on a network file "
			 "system?)",
			 path);
		return -1;
	}
	if (mdg_sqlite_exec_int(db, "PRAGMA synchronous = FULL", NULL) == -1 ||
	    mdg_sqlite_exec_int(db, "PRAGMA foreign_keys = ON", NULL) == -1) {
		snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

int mdg_sqlite_read_version(sqlite3 *db, const char *path, int *v, char *err, size_t errlen)
{
	if (mdg_sqlite_exec_int(db, "PRAGMA user_version", v) == -1) {
		snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* What a migration needs beyond its SQL, inside its transaction.
 * 5 (005_crl_dp_key.sql): the canonical key of every partition CRL held.
 * 7 (007_merkle.sql): the Merkle tree's nodes of every acceptance held. */
static int post_migrate(sqlite3 *db, const char *path, int version, char *err, size_t errlen)
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	unsigned char *key = NULL;
	size_t key_len;
	int64_t id;
	int rc = -1, step;

	if (version == 7)
		return mdg_sqlite_tree_backfill(db, path, err, errlen);
	if (version != 5)
		return 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, dp FROM crls WHERE dp IS NOT NULL AND dp_key IS NULL"
			       " ORDER BY id LIMIT 1",
			       -1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "UPDATE crls SET dp_key = ?2 WHERE id = ?1", -1, &upd, NULL) != SQLITE_OK)
		goto dberr;
	/* one row at a time: no update under an open cursor of the same table */
	while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
		id = sqlite3_column_int64(sel, 0);
		if (mdg_der_name_canon(sqlite3_column_blob(sel, 1), (size_t)sqlite3_column_bytes(sel, 1), &key,
				       &key_len) == -1) {
			snprintf(err, errlen,
				 "database %s: migration 5: the distribution point of CRL "
				 "id %lld does not parse as a name",
				 path, (long long)id);
			goto out;
		}
		sqlite3_reset(sel);
		if (sqlite3_bind_int64(upd, 1, id) != SQLITE_OK || bind_blob(upd, 2, key, key_len) != SQLITE_OK)
			goto dberr;
		step = sqlite3_step(upd);
		done(upd);
		OPENSSL_free(key);
		key = NULL;
		if (step == SQLITE_CONSTRAINT_UNIQUE) {
			snprintf(err, errlen,
				 "database %s: migration 5: CRL id %lld names the same "
				 "distribution point as another CRL of its issuer, in another encoding: "
				 "two scopes are now one; delete one of them (crls and its crl_entries) "
				 "and migrate again",
				 path, (long long)id);
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

int mdg_store_sqlite_migrate(const char *path, int *from, int *to, char *err, size_t errlen)
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
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "database %s: %s", path, db != NULL ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	if (mdg_sqlite_read_version(db, path, &v, err, errlen) == -1)
		goto out;
	*from = *to = v;
	if (v > want) {
		snprintf(err, errlen,
			 "database %s at schema version %d, this build only knows up to "
			 "%d: upgrade madoguchi",
			 path, v, want);
		goto out;
	}
	if (mdg_sqlite_set_pragmas(db, path, err, errlen) == -1)
		goto out;
	for (cur = v + 1; cur <= want; cur++) {
		if (mdg_sqlite_exec_int(db, "BEGIN IMMEDIATE", NULL) == -1) {
			snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(db));
			goto out;
		}
		intx = 1;
		/* Another migrate may have run meanwhile: re-read under the lock. */
		if (mdg_sqlite_read_version(db, path, &v, err, errlen) == -1)
			goto out;
		if (v < cur) {
			if (sqlite3_exec(db, mdg_schema_migrations[cur - 1], NULL, NULL, NULL) != SQLITE_OK) {
				snprintf(err, errlen, "database %s: migration %d failed: %s", path, cur,
					 sqlite3_errmsg(db));
				goto out;
			}
			if (post_migrate(db, path, cur, err, errlen) == -1)
				goto out;
			snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", cur);
			if (mdg_sqlite_exec_int(db, sql, NULL) == -1) {
				snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(db));
				goto out;
			}
		}
		if (mdg_sqlite_exec_int(db, "COMMIT", NULL) == -1) {
			snprintf(err, errlen, "database %s: commit of migration %d failed: %s", path, cur,
				 sqlite3_errmsg(db));
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
