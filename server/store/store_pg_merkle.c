/* The PostgreSQL store, the log's Merkle tree (schema/pg/002_merkle.sql;
 * docs/store.md "PostgreSQL"): the nodes written with each batch of
 * acceptances, inside its transaction and under the chain head's lock
 * (so the frontier read at the head's size and the nodes appended agree
 * across every node of the deployment); the fill from the rows (migration
 * 2, db copy's copy_end, a catch-up over rows written without nodes); the
 * node and checkpoint operations. Statements of the hot path are prepared
 * once (store_pg.c's table); the fill's are the unnamed statement (the
 * migration's connection has none of the table prepared); every value
 * bound. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "merkle.h"
#include "receipt.h"
#include "store.h"
#include "store_pg_int.h"

static const char node_get_sql[] = "SELECT hash FROM merkle_nodes WHERE level = $1::int8 AND idx = $2::int8";
/* the frontier: the nodes (level, idx) of two arrays, in one read */
static const char nodes_get_sql[] = "SELECT m.level, m.idx, m.hash FROM merkle_nodes m"
				    " JOIN unnest($1::int8[], $2::int8[]) AS u(l, i) ON m.level = u.l AND m.idx = u.i";
/* the nodes of a batch: levels and indexes as arrays, the hashes one after
 * the other in one bytea, 32 bytes each */
static const char nodes_put_sql[] = "INSERT INTO merkle_nodes (level, idx, hash)"
				    " SELECT u.l, u.i, substring($3::bytea FROM (u.n::int4 - 1) * 32 + 1 FOR 32)"
				    " FROM unnest($1::int8[], $2::int8[]) WITH ORDINALITY AS u(l, i, n)";
static const char tree_leaves_sql[] = "SELECT coalesce(max(idx) + 1, 0) FROM merkle_nodes WHERE level = 0";
/* checkpoint inserts one at a time, deployment-wide: the comparison with
 * the latest is made under the lock, on a snapshot taken after it */
static const char cp_lock_sql[] = "SELECT pg_advisory_xact_lock(7242003)";
static const char cp_latest_sql[] = "SELECT id, tree_size, root, note, made_at_ms FROM checkpoints"
				    " ORDER BY tree_size DESC LIMIT 1";
static const char cp_insert_sql[] = "INSERT INTO checkpoints (tree_size, root, note, made_at_ms)"
				    " SELECT $1::int8, $2::bytea, $3::text, $4::int8"
				    " WHERE NOT EXISTS (SELECT 1 FROM checkpoints WHERE tree_size >= $1::int8)"
				    " ON CONFLICT DO NOTHING RETURNING id";

const char *mdg_pg_tree_sql(int id)
{
	switch (id) {
	case PS_NODE_GET:
		return node_get_sql;
	case PS_NODES_GET:
		return nodes_get_sql;
	case PS_NODES_PUT:
		return nodes_put_sql;
	case PS_TREE_LEAVES:
		return tree_leaves_sql;
	case PS_CP_LOCK:
		return cp_lock_sql;
	case PS_CP_LATEST:
		return cp_latest_sql;
	case PS_CP_INSERT:
		return cp_insert_sql;
	default:
		return NULL;
	}
}

#define FILL_CHUNK 128 /* rows read per statement by the fill (fits a pg_tree) */

static void note(struct pg *q, const char *msg)
{
	if (q->pending[0] == '\0') {
		snprintf(q->pending, sizeof(q->pending), "%s", msg);
		q->pending[strcspn(q->pending, "\n")] = '\0';
	}
}

/* "{a,b,c}" of n int8 values (each < 2^63: at most 19 digits) into out,
 * which holds n * 21 + 3 bytes. */
static void int_array(char *out, const int64_t *v, size_t stride, size_t n)
{
	size_t i, k = 0;

	out[k++] = '{';
	for (i = 0; i < n; i++) {
		const int64_t *x = (const int64_t *)(const void *)((const char *)v + i * stride);

		k += (size_t)sprintf(out + k, "%s%" PRId64, i > 0 ? "," : "", *x);
	}
	out[k++] = '}';
	out[k] = '\0';
}

/* ---------------------------------------------------------- the frontier */

struct prefetch {
	size_t n;
	struct pg_tree_node node[MDG_MERKLE_LEVELS];
};

static int prefetch_get(void *arg, uint64_t level, uint64_t index, unsigned char out[32])
{
	const struct prefetch *p = arg;

	for (size_t i = 0; i < p->n; i++)
		if ((uint64_t)p->node[i].level == level && (uint64_t)p->node[i].idx == index) {
			memcpy(out, p->node[i].hash, 32);
			return 0;
		}
	return -1;
}

/* The frontier of the first `size` leaves, one statement: 0; 1 if a node
 * of it is missing; -1 on an error. */
static int load_frontier(struct pg *q, uint64_t size, struct mdg_merkle_frontier *f)
{
	struct prefetch p;
	int64_t lv[MDG_MERKLE_LEVELS], ix[MDG_MERKLE_LEVELS];
	char a_lv[MDG_MERKLE_LEVELS * 21 + 3], a_ix[MDG_MERKLE_LEVELS * 21 + 3], err[128];
	const char *vals[2] = { a_lv, a_ix };
	int lens[2] = { 0, 0 }, fmts[2] = { 0, 0 }, i, rows;
	size_t n = 0;
	PGresult *r = NULL;
	enum pg_qs s;

	memset(f, 0, sizeof(*f));
	memset(&p, 0, sizeof(p));
	if (size == 0)
		return 0;
	for (unsigned k = 0; k < MDG_MERKLE_LEVELS; k++)
		if (size >> k & 1) {
			lv[n] = (int64_t)k;
			ix[n++] = (int64_t)((size >> k) - 1);
		}
	int_array(a_lv, lv, sizeof(lv[0]), n);
	int_array(a_ix, ix, sizeof(ix[0]), n);
	s = pg_exec(q, PS_NODES_GET, 2, vals, lens, fmts, &r);
	if (s != QS_ONE && s != QS_NONE)
		return -1;
	rows = s == QS_ONE ? PQntuples(r) : 0;
	for (i = 0; i < rows && p.n < MDG_MERKLE_LEVELS; i++) {
		if (PQgetlength(r, i, 2) != 32)
			continue;
		p.node[p.n].level = pg_get_i64(r, i, 0);
		p.node[p.n].idx = pg_get_i64(r, i, 1);
		memcpy(p.node[p.n++].hash, PQgetvalue(r, i, 2), 32);
	}
	PQclear(r);
	return mdg_merkle_frontier_load(f, size, prefetch_get, &p, err, sizeof(err)) == 0 ? 0 : 1;
}

/* ----------------------------------------------------- appending leaves */

/* The leaf of row (index row->seq - 1, which must be t->f.size) appended,
 * the nodes it completes kept in t for tree_flush: 0 or -1. */
static int add_row(struct pg *q, struct pg_tree *t, const struct mdg_acceptance_row *row)
{
	mdg_merkle_hash done[MDG_MERKLE_LEVELS];
	unsigned char leaf[32];
	char *content = NULL, err[128], msg[192];
	uint64_t idx = t->f.size;
	size_t len;
	unsigned n, level;

	if (row->seq < 1 || (uint64_t)(row->seq - 1) != idx) {
		snprintf(msg, sizeof(msg),
			 "the Merkle tree has %llu leaves, the next acceptance is seq %lld (a gap in seq: run "
			 "madoguchi-admin log verify)",
			 (unsigned long long)idx, (long long)row->seq);
		note(q, msg);
		return -1;
	}
	if (mdg_receipt_content_row(row, &content, &len, err, sizeof(err)) != 0) {
		snprintf(msg, sizeof(msg), "acceptance seq %lld has no receipt content: %s", (long long)row->seq, err);
		note(q, msg);
		return -1;
	}
	mdg_merkle_leaf_hash((const unsigned char *)content, len, leaf);
	free(content);
	if (mdg_merkle_append(&t->f, leaf, done, &n) != 0 || t->n + n > PG_TREE_NODES_MAX) {
		note(q, "the Merkle tree's nodes of a batch do not fit");
		return -1;
	}
	for (level = 0; level < n; level++) {
		t->node[t->n].level = (int64_t)level;
		t->node[t->n].idx = (int64_t)(idx >> level);
		memcpy(t->node[t->n++].hash, done[level], 32);
	}
	return 0;
}

int mdg_pg_tree_add(struct pg *q, const struct mdg_acceptance_new *a, int64_t seq)
{
	struct mdg_acceptance_row leaf;

	memset(&leaf, 0, sizeof(leaf));
	leaf.seq = seq;
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
	return add_row(q, &q->tree, &leaf);
}

int mdg_pg_tree_flush(struct pg *q, struct pg_tree *t, int named)
{
	char *lv = NULL, *ix = NULL;
	unsigned char *hashes = NULL;
	const char *vals[3];
	int lens[3], fmts[3] = { 0, 0, 1 }, rc = -1;
	PGresult *r = NULL;
	enum pg_qs s;

	if (t->n == 0)
		return 0;
	lv = malloc(t->n * 21 + 3);
	ix = malloc(t->n * 21 + 3);
	hashes = malloc(t->n * 32);
	if (lv == NULL || ix == NULL || hashes == NULL) {
		note(q, "out of memory");
		goto out;
	}
	int_array(lv, &t->node[0].level, sizeof(t->node[0]), t->n);
	int_array(ix, &t->node[0].idx, sizeof(t->node[0]), t->n);
	for (size_t i = 0; i < t->n; i++)
		memcpy(hashes + 32 * i, t->node[i].hash, 32);
	vals[0] = lv;
	vals[1] = ix;
	vals[2] = (const char *)hashes;
	lens[0] = lens[1] = 0;
	lens[2] = (int)(t->n * 32);
	if (named)
		s = pg_exec(q, PS_NODES_PUT, 3, vals, lens, fmts, NULL);
	else {
		s = pg_one_row(q, nodes_put_sql, 3, vals, lens, fmts, &r);
		PQclear(r);
	}
	if (s == QS_UNIQUE)
		note(q, "a node of the Merkle tree is there already (nodes without their rows: run "
			"madoguchi-admin log verify)");
	if (s == QS_NONE) {
		t->n = 0;
		rc = 0;
	}
out:
	free(lv);
	free(ix);
	free(hashes);
	return rc;
}

/* ------------------------------------------------- filling from the rows */

struct fill {
	struct pg *q;
	struct pg_tree *t;
	int64_t rows;
	int failed;
};

static int fill_row(void *arg, const struct mdg_acceptance_row *r)
{
	struct fill *c = arg;

	c->rows++;
	if (add_row(c->q, c->t, r) != 0) {
		c->failed = 1;
		return 1;
	}
	return 0;
}

/* Appends the leaves of every row after the first t->f.size (seq order)
 * and writes their nodes, a chunk of rows at a time: 0 or -1. */
static int fill(struct pg *q, struct pg_tree *t, int named)
{
	struct mdg_log_filter filter;
	struct fill c;

	do {
		memset(&filter, 0, sizeof(filter));
		filter.after_seq = (int64_t)t->f.size;
		filter.limit = FILL_CHUNK;
		memset(&c, 0, sizeof(c));
		c.q = q;
		c.t = t;
		if (mdg_pg_log_query(q, &filter, fill_row, &c) != MDG_STORE_OK || c.failed)
			return -1;
		if (mdg_pg_tree_flush(q, t, named) != 0)
			return -1;
	} while (c.rows == FILL_CHUNK);
	return 0;
}

int mdg_pg_tree_begin(struct pg *q, int64_t size)
{
	struct pg_tree *t = &q->tree;
	PGresult *r = NULL;
	int64_t leaves = -1;
	char msg[160];
	int rc;

	t->n = 0;
	if (size < 0)
		return -1;
	if ((rc = load_frontier(q, (uint64_t)size, &t->f)) <= 0)
		return rc;
	/* rows without their nodes (written behind our back): from the rows,
	 * after the leaves there are */
	if (pg_exec(q, PS_TREE_LEAVES, 0, NULL, NULL, NULL, &r) == QS_ONE)
		leaves = pg_get_i64(r, 0, 0);
	PQclear(r);
	if (leaves < 0 || leaves > size || load_frontier(q, (uint64_t)leaves, &t->f) != 0) {
		snprintf(msg, sizeof(msg),
			 "the Merkle tree's nodes of its %lld leaves are incomplete: run madoguchi-admin log verify",
			 (long long)leaves);
		note(q, msg);
		return -1;
	}
	if (fill(q, t, 1) != 0)
		return -1;
	if (t->f.size != (uint64_t)size) {
		snprintf(msg, sizeof(msg), "the Merkle tree's catch-up reached %llu leaves, the log has %lld",
			 (unsigned long long)t->f.size, (long long)size);
		note(q, msg);
		return -1;
	}
	return 0;
}

int mdg_pg_tree_fill_all(struct pg *q, int named)
{
	memset(&q->tree, 0, sizeof(q->tree));
	return fill(q, &q->tree, named);
}

int mdg_pg_tree_backfill(PGconn *c, char *err, size_t errlen)
{
	struct pg *q = calloc(1, sizeof(*q));
	int rc;

	if (q == NULL) {
		snprintf(err, errlen, "postgresql store: migration 2: out of memory");
		return -1;
	}
	/* the migration's connection, in its transaction: the unnamed
	 * statement only (none of store_pg.c's table is prepared on it) */
	q->conn = c;
	q->borrowed = 1;
	q->prepared = 1;
	q->in_tx = 1;
	rc = mdg_pg_tree_fill_all(q, 0);
	if (rc != 0)
		snprintf(err, errlen, "postgresql store: migration 2 (the Merkle tree of the rows held): %s",
			 q->pending[0] != '\0' ? q->pending : "failed");
	free(q);
	return rc;
}

/* ------------------------------------------------------ the operations */

static enum mdg_store_status merkle_node(struct pg *q, uint64_t level, uint64_t index, unsigned char out[32])
{
	unsigned char b_l[8], b_i[8];
	const char *vals[2] = { (const char *)b_l, (const char *)b_i };
	int lens[2] = { 8, 8 }, fmts[2] = { 1, 1 };
	PGresult *r = NULL;
	enum mdg_store_status s = MDG_STORE_ERROR;

	if (level >= MDG_MERKLE_LEVELS || index > INT64_MAX)
		return MDG_STORE_NOT_FOUND;
	pg_put_i64(b_l, (int64_t)level);
	pg_put_i64(b_i, (int64_t)index);
	switch (pg_exec(q, PS_NODE_GET, 2, vals, lens, fmts, &r)) {
	case QS_NONE:
		s = MDG_STORE_NOT_FOUND;
		break;
	case QS_ONE:
		if (PQgetlength(r, 0, 0) == 32) {
			memcpy(out, PQgetvalue(r, 0, 0), 32);
			s = MDG_STORE_OK;
		} else
			note(q, "a node of the Merkle tree does not read");
		break;
	default:
		break;
	}
	PQclear(r);
	return s;
}

/* Row i of (id, tree_size, root, note, made_at_ms), binary. */
static enum mdg_store_status read_checkpoint(struct pg *q, const PGresult *r, int i, struct mdg_checkpoint_row *out)
{
	int n = PQgetlength(r, i, 3);

	memset(out, 0, sizeof(*out));
	out->id = pg_get_i64(r, i, 0);
	if (pg_get_i64(r, i, 1) < 0 || PQgetlength(r, i, 2) != 32 || n <= 0 || (size_t)n >= sizeof(out->note)) {
		note(q, "a checkpoint does not read");
		return MDG_STORE_ERROR;
	}
	out->size = (uint64_t)pg_get_i64(r, i, 1);
	memcpy(out->root, PQgetvalue(r, i, 2), 32);
	memcpy(out->note, PQgetvalue(r, i, 3), (size_t)n);
	out->note[n] = '\0';
	out->note_len = (size_t)n;
	out->made_at_ms = pg_get_i64(r, i, 4);
	return MDG_STORE_OK;
}

static enum mdg_store_status checkpoint_latest(struct pg *q, struct mdg_checkpoint_row *out)
{
	PGresult *r = NULL;
	enum mdg_store_status s = MDG_STORE_ERROR;

	switch (pg_exec(q, PS_CP_LATEST, 0, NULL, NULL, NULL, &r)) {
	case QS_NONE:
		s = MDG_STORE_NOT_FOUND;
		break;
	case QS_ONE:
		s = read_checkpoint(q, r, 0, out);
		break;
	default:
		break;
	}
	PQclear(r);
	return s;
}

static enum mdg_store_status checkpoint_insert(struct pg *q, const struct mdg_checkpoint_row *cp)
{
	unsigned char b_size[8], b_made[8];
	const char *vals[4] = { (const char *)b_size, (const char *)cp->root, cp->note, (const char *)b_made };
	int lens[4] = { 8, 32, (int)cp->note_len, 8 }, fmts[4] = { 1, 1, 1, 1 };
	int own = !q->in_tx; /* else db copy's transaction */
	enum mdg_store_status s = MDG_STORE_ERROR;
	PGresult *r = NULL;

	if (cp->size > INT64_MAX || cp->note_len == 0 || cp->note_len >= sizeof(cp->note) ||
	    memchr(cp->note, '\0', cp->note_len) != NULL)
		return MDG_STORE_ERROR;
	pg_put_i64(b_size, (int64_t)cp->size);
	pg_put_i64(b_made, cp->made_at_ms);
	if (own && pg_begin(q) == -1)
		return MDG_STORE_ERROR;
	if (pg_exec(q, PS_CP_LOCK, 0, NULL, NULL, NULL, NULL) != QS_ONE)
		return MDG_STORE_ERROR;
	switch (pg_exec(q, PS_CP_INSERT, 4, vals, lens, fmts, &r)) {
	case QS_ONE:
		s = MDG_STORE_OK;
		break;
	case QS_NONE: /* not bigger than the latest: another node was first */
		s = MDG_STORE_CONFLICT;
		break;
	default:
		break;
	}
	PQclear(r);
	if (own && s != MDG_STORE_ERROR && pg_commit(q) == -1)
		s = MDG_STORE_ERROR;
	return s;
}

static enum mdg_store_status checkpoint_list(struct pg *q, int (*fn)(void *arg, const struct mdg_checkpoint_row *c),
					     void *arg)
{
	struct mdg_checkpoint_row *row = malloc(sizeof(*row));
	enum mdg_store_status s = MDG_STORE_ERROR;
	PGresult *r;
	int stop = 0;

	if (row == NULL || pg_ensure(q) == -1) {
		free(row);
		return MDG_STORE_ERROR;
	}
	/* streamed (single-row mode): one snapshot, one row in memory */
	if (!PQsendQueryParams(q->conn,
			       "SELECT id, tree_size, root, note, made_at_ms FROM checkpoints ORDER BY tree_size", 0,
			       NULL, NULL, NULL, NULL, 1)) {
		(void)pg_classify(q, NULL);
		free(row);
		return MDG_STORE_ERROR;
	}
	(void)PQsetSingleRowMode(q->conn);
	s = MDG_STORE_OK;
	while ((r = PQgetResult(q->conn)) != NULL) {
		ExecStatusType es = PQresultStatus(r);

		if (es == PGRES_SINGLE_TUPLE && !stop && s == MDG_STORE_OK) {
			if (read_checkpoint(q, r, 0, row) != MDG_STORE_OK)
				s = MDG_STORE_ERROR;
			else if (fn(arg, row) != 0)
				stop = 1; /* the rest is drained, not used */
		} else if (es != PGRES_SINGLE_TUPLE && es != PGRES_TUPLES_OK) {
			(void)pg_classify(q, r);
			s = MDG_STORE_ERROR;
		}
		PQclear(r);
	}
	free(row);
	return s;
}

/* The ops (store_pg.c's table). */
#define Q(cls) ((struct pg *)(cls))

enum mdg_store_status mdg_pg_w_merkle_node(void *cls, uint64_t level, uint64_t index, unsigned char out[32])
{
	return pg_noted(Q(cls), "merkle_node", merkle_node(Q(cls), level, index, out));
}

enum mdg_store_status mdg_pg_w_checkpoint_latest(void *cls, struct mdg_checkpoint_row *out)
{
	return pg_noted(Q(cls), "checkpoint_latest", checkpoint_latest(Q(cls), out));
}

enum mdg_store_status mdg_pg_w_checkpoint_insert(void *cls, const struct mdg_checkpoint_row *cp)
{
	return pg_noted(Q(cls), "checkpoint_insert", checkpoint_insert(Q(cls), cp));
}

enum mdg_store_status mdg_pg_w_checkpoint_list(void *cls, int (*fn)(void *arg, const struct mdg_checkpoint_row *c),
					       void *arg)
{
	return pg_noted(Q(cls), "checkpoint_list", checkpoint_list(Q(cls), fn, arg));
}
