/* The SQLite store, the log's Merkle tree (schema 007_merkle.sql): the
 * nodes written with each acceptance, the backfill of migration 7, the
 * node and checkpoint operations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "merkle.h"
#include "receipt.h"
#include "store.h"
#include "store_sqlite_int.h"
#include "store_sqlite_log.h"

const char mdg_sqlite_node_get_sql[] = "SELECT hash FROM merkle_nodes WHERE level = ?1 AND idx = ?2";
const char mdg_sqlite_node_put_sql[] = "INSERT INTO merkle_nodes (level, idx, hash) VALUES (?1, ?2, ?3)";
const char mdg_sqlite_cp_latest_sql[] =
	"SELECT id, tree_size, root, note, made_at_ms FROM checkpoints ORDER BY tree_size DESC LIMIT 1";
const char mdg_sqlite_cp_insert_sql[] =
	"INSERT INTO checkpoints (tree_size, root, note, made_at_ms) SELECT ?1, ?2, ?3, ?4"
	" WHERE ?1 > coalesce((SELECT max(tree_size) FROM checkpoints), -1)";

/* OK with the node, NOT_FOUND, or ERROR (get: mdg_sqlite_node_get_sql). */
static enum mdg_store_status node_get(sqlite3_stmt *get, uint64_t level, uint64_t index, unsigned char out[32])
{
	enum mdg_store_status s = MDG_STORE_ERROR;
	int rc;

	if (level >= MDG_MERKLE_LEVELS || index > INT64_MAX)
		return MDG_STORE_NOT_FOUND;
	if (sqlite3_bind_int64(get, 1, (sqlite3_int64)level) != SQLITE_OK ||
	    sqlite3_bind_int64(get, 2, (sqlite3_int64)index) != SQLITE_OK)
		goto out;
	rc = first_step(get);
	if (rc == SQLITE_DONE)
		s = MDG_STORE_NOT_FOUND;
	else if (rc == SQLITE_ROW && sqlite3_column_bytes(get, 0) == 32) {
		memcpy(out, sqlite3_column_blob(get, 0), 32);
		s = MDG_STORE_OK;
	}
out:
	done(get);
	return s;
}

static int get_fn(void *arg, uint64_t level, uint64_t index, unsigned char out[32])
{
	return node_get(arg, level, index, out) == MDG_STORE_OK ? 0 : -1;
}

int mdg_sqlite_tree_load(sqlite3_stmt *get, uint64_t size, struct mdg_merkle_frontier *f)
{
	char err[128];

	memset(f, 0, sizeof(*f));
	return mdg_merkle_frontier_load(f, size, get_fn, get, err, sizeof(err));
}

int mdg_sqlite_tree_append(sqlite3_stmt *put, struct mdg_merkle_frontier *f, const struct mdg_acceptance_row *row)
{
	mdg_merkle_hash done_nodes[MDG_MERKLE_LEVELS];
	unsigned char leaf[32];
	char *content = NULL, err[128];
	uint64_t idx = f->size;
	size_t len;
	unsigned n, level;
	int rc;

	/* the leaf follows from the row; its index must be the row's */
	if (row->seq < 1 || (uint64_t)(row->seq - 1) != idx ||
	    mdg_receipt_content_row(row, &content, &len, err, sizeof(err)) != 0)
		return -1;
	mdg_merkle_leaf_hash((const unsigned char *)content, len, leaf);
	free(content);
	if (mdg_merkle_append(f, leaf, done_nodes, &n) != 0)
		return -1;
	for (level = 0; level < n; level++) {
		if (sqlite3_bind_int64(put, 1, (sqlite3_int64)level) != SQLITE_OK ||
		    sqlite3_bind_int64(put, 2, (sqlite3_int64)(idx >> level)) != SQLITE_OK ||
		    bind_blob(put, 3, done_nodes[level], 32) != SQLITE_OK) {
			done(put);
			return -1;
		}
		rc = sqlite3_step(put);
		done(put);
		if (rc != SQLITE_DONE)
			return -1;
	}
	return 0;
}

/* Migration 7: the nodes of the rows already held, in seq order. */
struct backfill {
	sqlite3_stmt *put;
	struct mdg_merkle_frontier f;
	int64_t failed_seq;
};

static int backfill_row(void *arg, const struct mdg_acceptance_row *r)
{
	struct backfill *b = arg;

	if (mdg_sqlite_tree_append(b->put, &b->f, r) != 0) {
		b->failed_seq = r->seq;
		return 1;
	}
	return 0;
}

/* Appends the leaves of the rows after the first f->size (in seq order)
 * to f, storing their nodes: 0, or -1 with err (failed_seq set if a row
 * has no leaf). */
static int fill_from(sqlite3 *db, sqlite3_stmt *put, struct backfill *b, const char *what, char *err, size_t errlen)
{
	struct mdg_log_filter filter;

	memset(&filter, 0, sizeof(filter));
	filter.after_seq = (int64_t)b->f.size;
	b->put = put;
	if (mdg_sqlite_log_query(db, &filter, backfill_row, b) != MDG_STORE_OK) {
		snprintf(err, errlen, "%s failed: %s", what, sqlite3_errmsg(db));
		return -1;
	}
	if (b->failed_seq != 0) {
		snprintf(err, errlen,
			 "%s: acceptance seq %lld has no receipt content (a gap in seq, or a row "
			 "that does not read: run madoguchi-admin log verify)",
			 what, (long long)b->failed_seq);
		return -1;
	}
	return 0;
}

int mdg_sqlite_tree_backfill(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	struct backfill *b = calloc(1, sizeof(*b));
	sqlite3_stmt *put = NULL;
	char what[600];
	int rc = -1;

	if (b == NULL) {
		snprintf(err, errlen, "database %s: migration 7: out of memory", path);
		return -1;
	}
	snprintf(what, sizeof(what), "database %s: migration 7", path);
	if (sqlite3_prepare_v2(db, mdg_sqlite_node_put_sql, -1, &put, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s failed: %s", what, sqlite3_errmsg(db));
		goto out;
	}
	rc = fill_from(db, put, b, what, err, errlen);
out:
	sqlite3_finalize(put);
	free(b);
	return rc;
}

int mdg_sqlite_tree_catch_up(sqlite3 *db, sqlite3_stmt *get, sqlite3_stmt *put, uint64_t size,
			     struct mdg_merkle_frontier *f, char *err, size_t errlen)
{
	struct backfill *b = calloc(1, sizeof(*b));
	sqlite3_stmt *st = NULL;
	int64_t leaves = -1;
	int rc = -1;

	if (b == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (sqlite3_prepare_v2(db, "SELECT coalesce(max(idx) + 1, 0) FROM merkle_nodes WHERE level = 0", -1, &st,
			       NULL) != SQLITE_OK ||
	    first_step(st) != SQLITE_ROW) {
		snprintf(err, errlen, "the Merkle tree's leaves do not read: %s", sqlite3_errmsg(db));
		goto out;
	}
	leaves = sqlite3_column_int64(st, 0);
	if (leaves < 0 || (uint64_t)leaves > size || mdg_sqlite_tree_load(get, (uint64_t)leaves, &b->f) != 0) {
		snprintf(err, errlen,
			 "the Merkle tree's nodes of its %lld leaves are incomplete: run "
			 "madoguchi-admin log verify",
			 (long long)leaves);
		goto out;
	}
	if (fill_from(db, put, b, "the Merkle tree's catch-up", err, errlen) != 0)
		goto out;
	if (b->f.size != size) {
		snprintf(err, errlen, "the Merkle tree's catch-up reached %llu leaves, the log has %llu",
			 (unsigned long long)b->f.size, (unsigned long long)size);
		goto out;
	}
	memcpy(f, &b->f, sizeof(*f));
	rc = 0;
out:
	sqlite3_finalize(st);
	free(b);
	return rc;
}

/* The operations (store_sqlite.c puts them in its table). */
enum mdg_store_status mdg_sqlite_merkle_node(sqlite3_stmt *get, uint64_t level, uint64_t index, unsigned char out[32])
{
	return node_get(get, level, index, out);
}

static enum mdg_store_status read_checkpoint(sqlite3_stmt *st, struct mdg_checkpoint_row *out)
{
	const unsigned char *note;
	int n;

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	if (sqlite3_column_int64(st, 1) < 0 || sqlite3_column_bytes(st, 2) != 32)
		return MDG_STORE_ERROR;
	out->size = (uint64_t)sqlite3_column_int64(st, 1);
	memcpy(out->root, sqlite3_column_blob(st, 2), 32);
	note = sqlite3_column_text(st, 3);
	n = sqlite3_column_bytes(st, 3);
	if (note == NULL || n <= 0 || (size_t)n >= sizeof(out->note))
		return MDG_STORE_ERROR;
	memcpy(out->note, note, (size_t)n);
	out->note[n] = '\0';
	out->note_len = (size_t)n;
	out->made_at_ms = sqlite3_column_int64(st, 4);
	return MDG_STORE_OK;
}

enum mdg_store_status mdg_sqlite_checkpoint_latest(sqlite3_stmt *st, struct mdg_checkpoint_row *out)
{
	enum mdg_store_status s = MDG_STORE_ERROR;
	int rc = first_step(st);

	if (rc == SQLITE_DONE)
		s = MDG_STORE_NOT_FOUND;
	else if (rc == SQLITE_ROW)
		s = read_checkpoint(st, out);
	done(st);
	return s;
}

enum mdg_store_status mdg_sqlite_checkpoint_insert(sqlite3 *db, sqlite3_stmt *st, const struct mdg_checkpoint_row *cp)
{
	enum mdg_store_status s = MDG_STORE_ERROR;
	int rc;

	if (cp->size > INT64_MAX || cp->note_len == 0 || cp->note_len >= sizeof(cp->note))
		return MDG_STORE_ERROR;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)cp->size) != SQLITE_OK ||
	    bind_blob(st, 2, cp->root, 32) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, cp->note, (int)cp->note_len, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, cp->made_at_ms) != SQLITE_OK)
		goto out;
	rc = first_step(st);
	if (rc == SQLITE_DONE)
		s = sqlite3_changes(db) == 1 ? MDG_STORE_OK : MDG_STORE_CONFLICT;
	else if (rc == SQLITE_CONSTRAINT_UNIQUE)
		s = MDG_STORE_CONFLICT;
out:
	done(st);
	return s;
}

enum mdg_store_status mdg_sqlite_checkpoint_list(sqlite3 *db, int (*fn)(void *arg, const struct mdg_checkpoint_row *c),
						 void *arg)
{
	struct mdg_checkpoint_row *row = malloc(sizeof(*row));
	sqlite3_stmt *st = NULL;
	enum mdg_store_status s = MDG_STORE_ERROR;
	int rc;

	if (row == NULL)
		return MDG_STORE_ERROR;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, tree_size, root, note, made_at_ms FROM checkpoints"
			       " ORDER BY tree_size",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (read_checkpoint(st, row) != MDG_STORE_OK)
			goto out;
		if (fn(arg, row) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto out;
	s = MDG_STORE_OK;
out:
	sqlite3_finalize(st);
	free(row);
	return s;
}
