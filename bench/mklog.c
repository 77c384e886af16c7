/* mklog: a big acceptance log for the receipts benchmark (issue 15).
 *
 *   mklog fill --db DB --count N --log-key PEM [--log-name NAME] [--issuer-cert PEM]
 *     writes N acceptances (seq 1..N) straight into the empty acceptances
 *     table of DB (made by `madoguchi-admin db init`), with the Merkle
 *     tree's nodes (merkle_nodes) and two signed checkpoints, of size
 *     N * 2 / 3 + 1 (made a minute earlier: an auditor's older one, for a
 *     consistency proof) and of size N, in one transaction, journal off
 *     (a benchmark file, not a deployment).
 *     Every row is complete and consistent: the hash chain is the store's
 *     (chain.c), the leaf is the receipt content of the row
 *     (receipt.c), the nodes are those merkle.c completes with each
 *     append and the checkpoint is checkpoint.c's, signed with the log
 *     key, so `madoguchi-admin log verify` and any RFC 9162 verifier
 *     accept the result. The request stored with each row is a 16-byte
 *     placeholder (request_sha256 is its digest), the holder name
 *     "(bench)": nothing on the proof path reads them. Receipt ids follow
 *     from seq (below), so a client can name any row. The secondary
 *     indexes of acceptances are dropped for the fill and made again from
 *     their own SQL after it. Prints one JSON line.
 *   mklog proof --db DB --count K
 *     times K inclusion proofs (mdg_tlog_proof_json, the code behind GET
 *     /v1/log/proof/{receiptId}) of random rows against the latest
 *     checkpoint and K consistency proofs (mdg_tlog_consistency_json) from
 *     a random size to the checkpoint's, through the store's interface
 *     (server/store/store.h), one thread; verifies every answer with
 *     merkle.c's reference verifiers; prints one JSON line (wall
 *     microseconds p50/p99/max per proof, and p50/p99 of the thread's CPU
 *     time per proof).
 *
 * The receipt id of seq s: the first 16 bytes of SHA-256("mklog" || s as 8
 * bytes big-endian), lowercase hex (bench/driver.py computes the same). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sqlite3.h>

#include "b64.h"
#include "chain.h"
#include "checkpoint.h"
#include "config.h"
#include "hex.h"
#include "merkle.h"
#include "names.h"
#include "receipt.h"
#include "store.h"
#include "timefmt.h"
#include "tlog.h"

static int usage(void)
{
	fputs("usage: mklog fill --db DB --count N --log-key PEM [--log-name NAME] [--issuer-cert PEM]\n"
	      "       mklog proof --db DB --count K\n",
	      stderr);
	return 2;
}

static void be64(uint64_t v, unsigned char out[8])
{
	for (int k = 0; k < 8; k++)
		out[7 - k] = (unsigned char)(v >> (8 * k));
}

static EVP_MD *sha256;

static void digest(const void *in, size_t n, unsigned char out[32])
{
	if (sha256 == NULL)
		sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	EVP_Digest(in, n, out, NULL, sha256, NULL);
}

static void receipt_id(int64_t seq, char out[33])
{
	unsigned char in[13] = { 'm', 'k', 'l', 'o', 'g' }, d[32];

	be64((uint64_t)seq, in + 5);
	digest(in, sizeof(in), d);
	mdg_hex_lower(d, 16, out);
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The issuer: the subject of --issuer-cert, or CN=mklog bench. *der
 * OPENSSL_malloc'd. */
static int issuer_der(const char *certp, unsigned char **der, int *len)
{
	X509_NAME *name = NULL;
	X509 *x = NULL;
	FILE *f;

	if (certp != NULL) {
		if ((f = fopen(certp, "r")) == NULL || (x = PEM_read_X509(f, NULL, NULL, NULL)) == NULL) {
			if (f != NULL)
				fclose(f);
			return -1;
		}
		fclose(f);
		*len = i2d_X509_NAME(X509_get_subject_name(x), der);
		X509_free(x);
		return *len > 0 ? 0 : -1;
	}
	if ((name = X509_NAME_new()) == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)"mklog bench", -1, -1, 0))
		return -1;
	*len = i2d_X509_NAME(name, der);
	X509_NAME_free(name);
	return *len > 0 ? 0 : -1;
}

/* The secondary indexes of the acceptances (not the UNIQUE constraints'):
 * dropped for the fill and made again after it from their own SQL, which
 * sorts once instead of inserting 10 million times. */
#define MAX_INDEXES 16
struct indexes {
	int n;
	char *name[MAX_INDEXES], *sql[MAX_INDEXES];
};

static int drop_indexes(sqlite3 *db, struct indexes *ix)
{
	sqlite3_stmt *q = NULL;
	char drop[300];
	int rc;

	if (sqlite3_prepare_v2(db,
			       "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'acceptances'"
			       " AND sql IS NOT NULL",
			       -1, &q, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW && ix->n < MAX_INDEXES) {
		ix->name[ix->n] = strdup((const char *)sqlite3_column_text(q, 0));
		ix->sql[ix->n] = strdup((const char *)sqlite3_column_text(q, 1));
		ix->n++;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return -1;
	for (int i = 0; i < ix->n; i++) {
		if (ix->name[i] == NULL || ix->sql[i] == NULL ||
		    snprintf(drop, sizeof(drop), "DROP INDEX \"%s\"", ix->name[i]) >= (int)sizeof(drop) ||
		    sqlite3_exec(db, drop, NULL, NULL, NULL) != SQLITE_OK)
			return -1;
	}
	return 0;
}

static int make_indexes(sqlite3 *db, const struct indexes *ix)
{
	for (int i = 0; i < ix->n; i++)
		if (sqlite3_exec(db, ix->sql[i], NULL, NULL, NULL) != SQLITE_OK)
			return -1;
	return 0;
}

static const char acc_sql[] =
	"INSERT INTO acceptances (seq, receipt_id, issuer, serial, cert_sha256, accepted_at, reason,"
	" holder_name, request, request_sha256, client_addr, effective_from, prev_hash, hash, cert_not_after)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, '(bench)', ?8, ?9, '127.0.0.1', ?6, ?10, ?11, ?12)";
static const char node_sql[] = "INSERT INTO merkle_nodes (level, idx, hash) VALUES (?1, ?2, ?3)";
static const char cp_sql[] = "INSERT INTO checkpoints (tree_size, root, note, made_at_ms) VALUES (?1, ?2, ?3, ?4)";

/* One row: its chain hash, its leaf and the nodes it completes. */
static int fill_row(sqlite3_stmt *acc, sqlite3_stmt *node, struct mdg_merkle_frontier *f, int64_t seq,
		    const unsigned char *iss, int iss_len, const char *iss_text, time_t t, unsigned char prev[32])
{
	static const unsigned char request[16] = "mklog request 01";
	unsigned char serial[9], cert_sha[32], req_sha[32], hash[32], leaf[32];
	mdg_merkle_hash done_nodes[MDG_MERKLE_LEVELS];
	char rid[33], at[MDG_RFC3339_LEN], *content = NULL, err[128];
	size_t clen;
	unsigned n;

	serial[0] = 0x5b;
	be64((uint64_t)seq, serial + 1);
	digest(serial, sizeof(serial), cert_sha);
	digest(request, sizeof(request), req_sha);
	receipt_id(seq, rid);
	mdg_rfc3339_jst(t, at);
	struct mdg_chain_row cr = { .seq = seq,
				    .receipt_id = rid,
				    .issuer_der = iss,
				    .issuer_len = (size_t)iss_len,
				    .serial = serial,
				    .serial_len = sizeof(serial),
				    .accepted_at = at,
				    .reason = "keyCompromise",
				    .request_sha256 = req_sha };
	if (mdg_chain_hash(prev, &cr, hash) != 0)
		return -1;
	struct mdg_acceptance_row row = { .seq = seq,
					  .receipt_id = rid,
					  .issuer_der = iss,
					  .issuer_len = (size_t)iss_len,
					  .serial = serial,
					  .serial_len = sizeof(serial),
					  .cert_sha256 = cert_sha,
					  .cert_sha256_len = 32,
					  .accepted_at = at,
					  .effective_from = at,
					  .reason = "keyCompromise",
					  .holder_name = "(bench)",
					  .client_addr = "127.0.0.1",
					  .request_sha256 = req_sha,
					  .request_sha256_len = 32,
					  .prev_hash = prev,
					  .prev_hash_len = 32,
					  .hash = hash,
					  .hash_len = 32 };
	/* the content with the issuer printed once (the same every row);
	 * every 65,536th row it is checked against the row's own */
	struct mdg_receipt_fields rf = { .receipt_id = rid,
					 .issuer = iss_text,
					 .serial = serial,
					 .serial_len = sizeof(serial),
					 .accepted_at = at,
					 .effective_from = at,
					 .reason = "keyCompromise",
					 .request_sha256 = req_sha,
					 .log_index = (uint64_t)(seq - 1) };
	if (mdg_receipt_content(&rf, &content, &clen, err, sizeof(err)) != 0) {
		fprintf(stderr, "mklog fill: seq %lld: %s\n", (long long)seq, err);
		return -1;
	}
	if ((seq & 0xffff) == 1) {
		char *ref = NULL;
		size_t rlen;
		if (mdg_receipt_content_row(&row, &ref, &rlen, err, sizeof(err)) != 0 || rlen != clen ||
		    memcmp(ref, content, clen) != 0) {
			fprintf(stderr, "mklog fill: seq %lld: the content is not the row's\n", (long long)seq);
			free(ref);
			free(content);
			return -1;
		}
		free(ref);
	}
	mdg_merkle_leaf_hash((const unsigned char *)content, clen, leaf);
	free(content);
	if (mdg_merkle_append(f, leaf, done_nodes, &n) != 0)
		return -1;
	sqlite3_bind_int64(acc, 1, seq);
	sqlite3_bind_text(acc, 2, rid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(acc, 3, iss, iss_len, SQLITE_STATIC);
	sqlite3_bind_blob(acc, 4, serial, sizeof(serial), SQLITE_TRANSIENT);
	sqlite3_bind_blob(acc, 5, cert_sha, 32, SQLITE_TRANSIENT);
	sqlite3_bind_text(acc, 6, at, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(acc, 7, "keyCompromise", -1, SQLITE_STATIC);
	sqlite3_bind_blob(acc, 8, request, sizeof(request), SQLITE_STATIC);
	sqlite3_bind_blob(acc, 9, req_sha, 32, SQLITE_TRANSIENT);
	sqlite3_bind_blob(acc, 10, prev, 32, SQLITE_TRANSIENT);
	sqlite3_bind_blob(acc, 11, hash, 32, SQLITE_TRANSIENT);
	sqlite3_bind_int64(acc, 12, (sqlite3_int64)t + 365 * 86400);
	if (sqlite3_step(acc) != SQLITE_DONE)
		return -1;
	sqlite3_reset(acc);
	for (unsigned level = 0; level < n; level++) {
		sqlite3_bind_int64(node, 1, (sqlite3_int64)level);
		sqlite3_bind_int64(node, 2, (sqlite3_int64)((uint64_t)(seq - 1) >> level));
		sqlite3_bind_blob(node, 3, done_nodes[level], 32, SQLITE_TRANSIENT);
		if (sqlite3_step(node) != SQLITE_DONE)
			return -1;
		sqlite3_reset(node);
	}
	memcpy(prev, hash, 32);
	return 0;
}

static int fill(const char *dbp, long count, const char *keyp, const char *name, const char *certp)
{
	struct mdg_merkle_frontier *f = calloc(1, sizeof(*f));
	struct mdg_logkey key;
	struct indexes ix = { 0 };
	X509_NAME *xn = NULL;
	const unsigned char *p;
	char iss_text[2048];
	sqlite3 *db = NULL;
	sqlite3_stmt *acc = NULL, *node = NULL, *cp = NULL, *probe = NULL;
	unsigned char *iss = NULL, prev[32] = { 0 }, root[32];
	char *note = NULL, err[512], hex[65];
	size_t note_len;
	int iss_len = 0, rc = 1;
	time_t start = time(NULL) - (time_t)(count / 100) - 60;
	double w0 = wall_now();

	memset(&key, 0, sizeof(key));
	if (f == NULL || issuer_der(certp, &iss, &iss_len) != 0) {
		fprintf(stderr, "mklog fill: no issuer name\n");
		goto out;
	}
	p = iss;
	if ((xn = d2i_X509_NAME(NULL, &p, iss_len)) == NULL)
		goto out;
	mdg_name_rfc4514(xn, iss_text, sizeof(iss_text));
	if (mdg_logkey_load(&key, keyp, name, err, sizeof(err)) != 0) {
		fprintf(stderr, "mklog fill: %s\n", err);
		goto out;
	}
	if (sqlite3_open_v2(dbp, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		goto sql_failed;
	if (sqlite3_exec(db,
			 "PRAGMA journal_mode=DELETE; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
			 " PRAGMA cache_size=-2000000; BEGIN IMMEDIATE",
			 NULL, NULL, NULL) != SQLITE_OK)
		goto sql_failed;
	if (sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM acceptances) + (SELECT count(*) FROM merkle_nodes)",
			       -1, &probe, NULL) != SQLITE_OK ||
	    sqlite3_step(probe) != SQLITE_ROW)
		goto sql_failed;
	if (sqlite3_column_int64(probe, 0) != 0) {
		fprintf(stderr, "mklog fill: %s already holds acceptances\n", dbp);
		goto out;
	}
	sqlite3_finalize(probe);
	probe = NULL;
	if (drop_indexes(db, &ix) != 0)
		goto sql_failed;
	if (sqlite3_prepare_v2(db, acc_sql, -1, &acc, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, node_sql, -1, &node, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, cp_sql, -1, &cp, NULL) != SQLITE_OK)
		goto sql_failed;
	for (long i = 1; i <= count; i++) {
		if (fill_row(acc, node, f, i, iss, iss_len, iss_text, start + (time_t)(i / 100), prev) != 0)
			goto sql_failed;
		if (i == count * 2 / 3 + 1 || i == count) {
			mdg_merkle_frontier_root(f, root);
			free(note);
			note = NULL;
			if (mdg_checkpoint_sign(&key, f->size, root, &note, &note_len, err, sizeof(err)) != 0) {
				fprintf(stderr, "mklog fill: %s\n", err);
				goto out;
			}
			sqlite3_bind_int64(cp, 1, (sqlite3_int64)f->size);
			sqlite3_bind_blob(cp, 2, root, 32, SQLITE_TRANSIENT);
			sqlite3_bind_text(cp, 3, note, (int)note_len, SQLITE_TRANSIENT);
			sqlite3_bind_int64(cp, 4, ((sqlite3_int64)time(NULL) - (i == count ? 0 : 60)) * 1000);
			if (sqlite3_step(cp) != SQLITE_DONE)
				goto sql_failed;
			sqlite3_reset(cp);
		}
	}
	sqlite3_finalize(probe);
	sqlite3_finalize(acc);
	sqlite3_finalize(node);
	sqlite3_finalize(cp);
	probe = acc = node = cp = NULL;
	double w1 = wall_now();
	if (make_indexes(db, &ix) != 0)
		goto sql_failed;
	double w2 = wall_now();
	if (sqlite3_exec(db, "COMMIT; PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK)
		goto sql_failed;
	mdg_hex_lower(root, 32, hex);
	printf("{\"acceptances\":%ld,\"seconds\":%.1f,\"index_seconds\":%.1f,\"root\":\"%s\"}\n", count,
	       wall_now() - w0, w2 - w1, hex);
	rc = 0;
	goto out;
sql_failed:
	fprintf(stderr, "mklog fill: %s\n", db ? sqlite3_errmsg(db) : "cannot open");
out:
	sqlite3_finalize(probe);
	sqlite3_finalize(acc);
	sqlite3_finalize(node);
	sqlite3_finalize(cp);
	sqlite3_close(db);
	mdg_logkey_free(&key);
	X509_NAME_free(xn);
	for (int i = 0; i < ix.n; i++) {
		free(ix.name[i]);
		free(ix.sql[i]);
	}
	OPENSSL_free(iss);
	free(note);
	free(f);
	return rc;
}

/* ------------------------------------------------------------ timing */

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* t: n wall times, then n CPU times (this thread's) */
static void print_times(const char *what, double *t, long n)
{
	qsort(t, (size_t)n, sizeof(*t), dbl_cmp);
	qsort(t + n, (size_t)n, sizeof(*t), dbl_cmp);
	printf("\"%s\":{\"n\":%ld,\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,\"cpu_p50_us\":%.1f,"
	       "\"cpu_p99_us\":%.1f}",
	       what, n, t[n / 2] * 1e6, t[(n * 99) / 100] * 1e6, t[n - 1] * 1e6, t[n + n / 2] * 1e6,
	       t[n + (n * 99) / 100] * 1e6);
}

/* The hashes of a JSON array of base64 strings; -1 if any is not one. */
static int hashes_of(json_t *a, mdg_merkle_hash *out, size_t *n)
{
	size_t i, len;
	json_t *v;

	if (!json_is_array(a) || json_array_size(a) > MDG_MERKLE_MAXPROOF)
		return -1;
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v) ||
		    mdg_b64_decode(json_string_value(v), json_string_length(v), out[i], 32, &len) != 0 || len != 32)
			return -1;
	}
	*n = json_array_size(a);
	return 0;
}

static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* One inclusion proof: timed into *t; 0 if it verifies against cp. */
static int one_proof(struct mdg_store *st, const struct mdg_checkpoint_row *cp, int64_t seq, mdg_merkle_hash *proof,
		     double *t, double *c)
{
	unsigned char leaf[32], content[MDG_RECEIPT_CONTENT_MAX];
	char rid[33], *text = NULL;
	size_t len, clen, n;
	json_t *o = NULL;
	int ok = -1;

	receipt_id(seq, rid);
	double w0 = wall_now(), c0 = cpu_now();
	enum mdg_tlog_status ts = mdg_tlog_proof_json(st, rid, &text, &len);
	*c = cpu_now() - c0;
	*t = wall_now() - w0;
	if (ts != MDG_TLOG_OK || (o = json_loadb(text, len, 0, NULL)) == NULL)
		goto out;
	json_t *lv = json_object_get(o, "leaf");
	if (json_integer_value(json_object_get(o, "logIndex")) != seq - 1 ||
	    (uint64_t)json_integer_value(json_object_get(o, "treeSize")) != cp->size || !json_is_string(lv) ||
	    mdg_b64_decode(json_string_value(lv), json_string_length(lv), content, sizeof(content), &clen) != 0 ||
	    hashes_of(json_object_get(o, "inclusion"), proof, &n) != 0)
		goto out;
	mdg_merkle_leaf_hash(content, clen, leaf);
	if (mdg_merkle_verify_inclusion((uint64_t)(seq - 1), cp->size, leaf, proof, n, cp->root))
		ok = 0;
out:
	json_decref(o);
	free(text);
	return ok;
}

/* One consistency proof from m to cp's size: timed into *t; 0 if it
 * verifies (root of m recomputed from the store's nodes). */
static int one_consistency(struct mdg_store *st, const struct mdg_checkpoint_row *cp, uint64_t m,
			   mdg_merkle_hash *proof, double *t, double *c)
{
	unsigned char root_m[32];
	char from[24], to[24], *text = NULL, why[128];
	size_t len, n;
	json_t *o = NULL;
	int ok = -1;

	snprintf(from, sizeof(from), "%llu", (unsigned long long)m);
	snprintf(to, sizeof(to), "%llu", (unsigned long long)cp->size);
	double w0 = wall_now(), c0 = cpu_now();
	enum mdg_tlog_status ts = mdg_tlog_consistency_json(st, from, to, &text, &len);
	*c = cpu_now() - c0;
	*t = wall_now() - w0;
	if (ts != MDG_TLOG_OK || (o = json_loadb(text, len, 0, NULL)) == NULL ||
	    hashes_of(json_object_get(o, "proof"), proof, &n) != 0 ||
	    mdg_tlog_root(st, m, root_m, why, sizeof(why)) != 0)
		goto out;
	if (mdg_merkle_verify_consistency(m, cp->size, root_m, cp->root, proof, n))
		ok = 0;
out:
	json_decref(o);
	free(text);
	return ok;
}

static int proof_bench(const char *dbp, long count)
{
	struct mdg_store st = { 0 };
	struct mdg_config cfg;
	struct mdg_checkpoint_row *cp = calloc(1, sizeof(*cp));
	mdg_merkle_hash *proof = calloc(MDG_MERKLE_MAXPROOF, sizeof(mdg_merkle_hash));
	double *ti = calloc(2 * (size_t)count, sizeof(double)), *tc = calloc(2 * (size_t)count, sizeof(double));
	char err[512];
	long bad_i = 0, bad_c = 0;
	uint64_t x = 88172645463325252u;
	int rc = 1;

	mdg_config_defaults(&cfg);
	if (cp == NULL || proof == NULL || ti == NULL || tc == NULL)
		goto out;
	if (snprintf(cfg.database, sizeof(cfg.database), "%s", dbp) >= (int)sizeof(cfg.database) ||
	    mdg_store_open(&st, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "mklog proof: %s\n", err);
		goto out;
	}
	if (st.ops->checkpoint_latest(st.cls, cp) != MDG_STORE_OK || cp->size < 2) {
		fprintf(stderr, "mklog proof: no checkpoint of two or more acceptances\n");
		goto out;
	}
	double w0 = wall_now();
	for (long i = 0; i < count; i++)
		bad_i +=
			one_proof(&st, cp, (int64_t)(next_rand(&x) % cp->size) + 1, proof, &ti[i], &ti[count + i]) != 0;
	double wi = wall_now() - w0;
	for (long i = 0; i < count; i++)
		bad_c += one_consistency(&st, cp, next_rand(&x) % (cp->size - 1) + 1, proof, &tc[i], &tc[count + i]) !=
			 0;
	printf("{\"tree_size\":%llu,\"proofs_per_s\":%.0f,", (unsigned long long)cp->size, (double)count / wi);
	print_times("inclusion", ti, count);
	putchar(',');
	print_times("consistency", tc, count);
	printf(",\"inclusion_failed\":%ld,\"consistency_failed\":%ld}\n", bad_i, bad_c);
	rc = bad_i == 0 && bad_c == 0 ? 0 : 1;
out:
	mdg_store_close(&st);
	free(cp);
	free(proof);
	free(ti);
	free(tc);
	return rc;
}

int main(int argc, char **argv)
{
	const char *db = NULL, *key = NULL, *name = "madoguchi.invalid/log", *cert = NULL;
	long count = -1;

	if (argc < 2 || argc % 2 != 0)
		return usage();
	for (int i = 2; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];
		if (!strcmp(a, "--db"))
			db = v;
		else if (!strcmp(a, "--count"))
			count = atol(v);
		else if (!strcmp(a, "--log-key"))
			key = v;
		else if (!strcmp(a, "--log-name"))
			name = v;
		else if (!strcmp(a, "--issuer-cert"))
			cert = v;
		else
			return usage();
	}
	if (!strcmp(argv[1], "fill") && db && key && count > 0)
		return fill(db, count, key, name, cert);
	if (!strcmp(argv[1], "proof") && db && count > 0)
		return proof_bench(db, count);
	return usage();
}
