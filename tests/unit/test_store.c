/* Unit tests: server/store/store_sqlite.c (and the schema). */
#include <check.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "chain.h"
#include "config.h"
#include "crl.h"
#include "names.h"
#include "store.h"
#include "store_sqlite.h"

static char dbpath[4096];

/* Made by tools/embed_schema.py (migration i + 1 at index i). */
extern const char *const mdg_schema_migrations[];

static void fresh_path(const char *tag)
{
	const char *base = getenv("MDG_TEST_TMP");
	static int n;
	char dir[3000];

	snprintf(dir, sizeof(dir), "%s/store-XXXXXX", base != NULL ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/%s-%d.db", dir, tag, n++);
}

static void open_fresh(struct mdg_store *st, const char *tag)
{
	char err[512];
	int from, to;

	fresh_path(tag);
	ck_assert_msg(mdg_store_sqlite_migrate(dbpath, &from, &to, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(mdg_store_sqlite_open(st, dbpath, err, sizeof(err)) == 0, "%s", err);
}

/* A throwaway connection to look behind the interface. */
static sqlite3 *raw(void)
{
	sqlite3 *db = NULL;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	return db;
}

static int raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int v = -1;

	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

START_TEST(migrate_and_open)
{
	struct mdg_store st;
	struct stat sb;
	char err[512];
	int from = -1, to = -1;
	sqlite3 *db;
	sqlite3_stmt *s;

	fresh_path("mig");
	ck_assert_int_eq(mdg_store_sqlite_open(&st, dbpath, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "db init") != NULL, "%s", err);

	ck_assert_msg(mdg_store_sqlite_migrate(dbpath, &from, &to, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(from, 0);
	ck_assert_int_eq(to, mdg_store_sqlite_schema_version());
	ck_assert_int_ge(to, 1);
	ck_assert_int_eq(stat(dbpath, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 077, 0);
	ck_assert_int_eq(mdg_store_sqlite_migrate(dbpath, &from, &to, err, sizeof(err)), 0);
	ck_assert_int_eq(from, mdg_store_sqlite_schema_version());
	ck_assert_int_eq(to, from);

	db = raw();
	ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), mdg_store_sqlite_schema_version());
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);

	ck_assert_msg(mdg_store_sqlite_open(&st, dbpath, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(st.ops->ping(st.cls), MDG_STORE_OK);
	mdg_store_close(&st);
	ck_assert_ptr_null(st.ops);
}
END_TEST

START_TEST(open_wrong_version)
{
	struct mdg_store st;
	char err[512], expect[128];
	int from, to;
	sqlite3 *db;
	FILE *f;

	/* an empty (uninitialised) database */
	fresh_path("empty");
	f = fopen(dbpath, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(mdg_store_sqlite_open(&st, dbpath, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "not initialised") != NULL && strstr(err, "db init") != NULL, "%s", err);

	/* a database from a newer build */
	ck_assert_int_eq(mdg_store_sqlite_migrate(dbpath, &from, &to, err, sizeof(err)), 0);
	db = raw();
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(mdg_store_sqlite_open(&st, dbpath, err, sizeof(err)), -1);
	snprintf(expect, sizeof(expect), "at schema version 99, this build expects %d",
		 mdg_store_sqlite_schema_version());
	ck_assert_msg(strstr(err, expect) != NULL, "%s", err);
	ck_assert_int_eq(mdg_store_sqlite_migrate(dbpath, &from, &to, err, sizeof(err)), -1);
	ck_assert_int_eq(from, 99);

	/* an older one: the migrate hint */
	db = raw();
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 0", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(mdg_store_sqlite_open(&st, dbpath, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "madoguchi-admin db") != NULL, "%s", err);

	/* not a database at all */
	fresh_path("junk");
	f = fopen(dbpath, "w");
	ck_assert_ptr_nonnull(f);
	fputs("this is not an SQLite database, not at all, no...............................\n"
	      "................................................................................\n",
	      f);
	fclose(f);
	ck_assert_int_eq(mdg_store_sqlite_open(&st, dbpath, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, dbpath));
}
END_TEST

static const unsigned char ISSUER[] = { 0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03,
					0x55, 0x04, 0x06, 0x13, 0x02, 0x4a, 0x50 }; /* C=JP */
static const unsigned char ISSUER2[] = { 0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03,
					 0x55, 0x04, 0x06, 0x13, 0x02, 0x46, 0x52 }; /* C=FR */

static void make_acceptance(struct mdg_acceptance_new *a, const char *receipt, const unsigned char *serial,
			    size_t serial_len, const char *at)
{
	static const unsigned char req[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };

	memset(a, 0, sizeof(*a));
	snprintf(a->receipt_id, sizeof(a->receipt_id), "%s", receipt);
	a->issuer_der = ISSUER;
	a->issuer_len = sizeof(ISSUER);
	a->serial = serial;
	a->serial_len = serial_len;
	memset(a->cert_sha256, 0xab, 32);
	snprintf(a->accepted_at, sizeof(a->accepted_at), "%s", at);
	a->reason = "keyCompromise";
	a->holder_name = "試験\u3000太郎";
	a->request_der = req;
	a->request_len = sizeof(req);
	EVP_Digest(req, sizeof(req), a->request_sha256, NULL, EVP_sha256(), NULL);
	a->client_addr = "192.0.2.1";
	snprintf(a->effective_from, sizeof(a->effective_from), "2026-11-28T00:00:00+09:00");
}

/* Recomputes every row's chain hash from its stored columns. */
static int64_t verify_chain(void)
{
	sqlite3 *db = raw();
	sqlite3_stmt *s;
	unsigned char prev[MDG_HASH_LEN] = { 0 }, h[MDG_HASH_LEN];
	struct mdg_chain_row r;
	int64_t n = 0;

	ck_assert_int_eq(
		sqlite3_prepare_v2(db,
				   "SELECT seq, receipt_id, issuer, serial, accepted_at, reason, request_sha256,"
				   " prev_hash, hash FROM acceptances ORDER BY seq",
				   -1, &s, NULL),
		SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		n++;
		memset(&r, 0, sizeof(r));
		r.seq = sqlite3_column_int64(s, 0);
		ck_assert_int_eq(r.seq, n);
		r.receipt_id = (const char *)sqlite3_column_text(s, 1);
		r.issuer_der = sqlite3_column_blob(s, 2);
		r.issuer_len = (size_t)sqlite3_column_bytes(s, 2);
		r.serial = sqlite3_column_blob(s, 3);
		r.serial_len = (size_t)sqlite3_column_bytes(s, 3);
		r.accepted_at = (const char *)sqlite3_column_text(s, 4);
		r.reason = (const char *)sqlite3_column_text(s, 5);
		r.request_sha256 = sqlite3_column_blob(s, 6);
		ck_assert_int_eq(sqlite3_column_bytes(s, 7), MDG_HASH_LEN);
		ck_assert_mem_eq(sqlite3_column_blob(s, 7), prev, MDG_HASH_LEN);
		ck_assert_int_eq(mdg_chain_hash(prev, &r, h), 0);
		ck_assert_mem_eq(sqlite3_column_blob(s, 8), h, MDG_HASH_LEN);
		memcpy(prev, h, MDG_HASH_LEN);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

struct cert_cols {
	int n, with;
	int64_t not_after;
};

static int read_cert_cols(void *arg, const struct mdg_acceptance_row *r)
{
	struct cert_cols *c = arg;

	c->n++;
	if (r->has_cert_not_after) {
		ck_assert_ptr_nonnull(r->cert_subject_der);
		ck_assert_uint_eq(r->cert_subject_len, 2);
		c->with++;
		c->not_after = r->cert_not_after;
	} else {
		ck_assert_ptr_null(r->cert_subject_der);
	}
	return 0;
}

START_TEST(acceptances)
{
	struct mdg_store st;
	struct mdg_acceptance_new a;
	struct mdg_acceptance_ref ref, got;
	static const unsigned char s1[] = { 0x12, 0x34 }, s2[] = { 0x12, 0x35 };
	sqlite3 *db;

	open_fresh(&st, "acc");
	ck_assert_int_eq(st.ops->find_acceptance(st.cls, ISSUER, sizeof(ISSUER), s1, 2, &got), MDG_STORE_NOT_FOUND);
	make_acceptance(&a, "0123456789abcdef0123456789abcdef", s1, 2, "2026-11-27T10:00:00+09:00");
	ck_assert_int_eq(st.ops->insert_acceptance(st.cls, &a, &ref), MDG_STORE_OK);
	ck_assert_int_eq(ref.seq, 1);
	ck_assert_str_eq(ref.receipt_id, "0123456789abcdef0123456789abcdef");
	ck_assert_str_eq(ref.accepted_at, "2026-11-27T10:00:00+09:00");
	ck_assert_str_eq(ref.effective_from, "2026-11-28T00:00:00+09:00");

	ck_assert_int_eq(st.ops->find_acceptance(st.cls, ISSUER, sizeof(ISSUER), s1, 2, &got), MDG_STORE_OK);
	ck_assert_int_eq(got.seq, 1);
	ck_assert_str_eq(got.receipt_id, ref.receipt_id);
	ck_assert_str_eq(got.effective_from, ref.effective_from);
	/* same serial, other issuer: a different certificate */
	ck_assert_int_eq(st.ops->find_acceptance(st.cls, ISSUER2, sizeof(ISSUER2), s1, 2, &got), MDG_STORE_NOT_FOUND);

	/* the second acceptance of the same certificate: the first one's receipt */
	make_acceptance(&a, "ffffffffffffffffffffffffffffffff", s1, 2, "2026-11-27T10:05:00+09:00");
	memset(&got, 0, sizeof(got));
	ck_assert_int_eq(st.ops->insert_acceptance(st.cls, &a, &got), MDG_STORE_CONFLICT);
	ck_assert_int_eq(got.seq, 1);
	ck_assert_str_eq(got.receipt_id, "0123456789abcdef0123456789abcdef");
	ck_assert_str_eq(got.accepted_at, "2026-11-27T10:00:00+09:00");

	/* a receipt id collision is an error, not a conflict; nothing written */
	make_acceptance(&a, "0123456789abcdef0123456789abcdef", s2, 2, "2026-11-27T10:06:00+09:00");
	ck_assert_int_eq(st.ops->insert_acceptance(st.cls, &a, &got), MDG_STORE_ERROR);

	make_acceptance(&a, "22222222222222222222222222222222", s2, 2, "2026-11-27T10:07:00+09:00");
	ck_assert_int_eq(st.ops->insert_acceptance(st.cls, &a, &ref), MDG_STORE_OK);
	ck_assert_int_eq(ref.seq, 2);

	/* the certificate's notAfter and subject, for log export --format index */
	{
		static const unsigned char subj[] = { 0x30, 0x00 };

		make_acceptance(&a, "33333333333333333333333333333333", (const unsigned char *)"\x77", 1,
				"2026-11-27T10:08:00+09:00");
		a.cert_not_after = 1924991999;
		a.cert_subject_der = subj;
		a.cert_subject_len = sizeof(subj);
		ck_assert_int_eq(st.ops->insert_acceptance(st.cls, &a, &ref), MDG_STORE_OK);
		ck_assert_int_eq(ref.seq, 3);
	}
	{
		struct cert_cols cc = { 0 };
		struct mdg_log_filter f;

		memset(&f, 0, sizeof(f));
		ck_assert_int_eq(st.ops->log_query(st.cls, &f, read_cert_cols, &cc), MDG_STORE_OK);
		ck_assert_int_eq(cc.n, 3);
		ck_assert_int_eq(cc.with, 1);
		ck_assert_int_eq(cc.not_after, 1924991999);
	}
	ck_assert_int_eq(verify_chain(), 3);
	db = raw();
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM acceptances WHERE cert_not_after IS NULL"
				     " AND cert_subject IS NULL"),
			 2);
	ck_assert_int_eq(raw_int(db, "DELETE FROM acceptances WHERE seq = 3"), -1);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM acceptances"), 2);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM acceptances WHERE holder_name = "
				     "'試験\u3000太郎' AND client_addr = '192.0.2.1' AND length(request) = 5"
				     " AND export_batch IS NULL"),
			 2);
	sqlite3_close(db);
	/* the store still works after the failed inserts (no open transaction) */
	ck_assert_int_eq(st.ops->ping(st.cls), MDG_STORE_OK);
	mdg_store_close(&st);
}
END_TEST

/* read_begin/read_end: the look-ups between them read one snapshot, and
 * after read_end the handle reads the latest state and can write. */
START_TEST(read_snapshot)
{
	struct mdg_store a, b;
	struct mdg_acceptance_new n;
	struct mdg_acceptance_ref ref, got;
	static const unsigned char s1[] = { 0x01 }, s2[] = { 0x02 }, s3[] = { 0x03 };
	char err[512];
	int revoked = -1;

	open_fresh(&a, "snap");
	ck_assert_msg(mdg_store_sqlite_open(&b, dbpath, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_nonnull(b.ops->read_begin);
	ck_assert_ptr_nonnull(b.ops->read_end);
	make_acceptance(&n, "11111111111111111111111111111111", s1, 1, "2026-11-27T10:00:00+09:00");
	ck_assert_int_eq(a.ops->insert_acceptance(a.cls, &n, &ref), MDG_STORE_OK);

	ck_assert_int_eq(b.ops->read_begin(b.cls), MDG_STORE_OK);
	ck_assert_int_eq(b.ops->crl_lookup(b.cls, ISSUER, sizeof(ISSUER), s1, 1, &revoked), MDG_STORE_OK);
	ck_assert_int_eq(revoked, 0);
	ck_assert_int_eq(b.ops->find_acceptance(b.cls, ISSUER, sizeof(ISSUER), s1, 1, &got), MDG_STORE_OK);
	ck_assert_str_eq(got.receipt_id, "11111111111111111111111111111111");
	/* written by another handle after the snapshot began: not seen yet */
	make_acceptance(&n, "22222222222222222222222222222222", s2, 1, "2026-11-27T10:01:00+09:00");
	ck_assert_int_eq(a.ops->insert_acceptance(a.cls, &n, &ref), MDG_STORE_OK);
	ck_assert_int_eq(b.ops->find_acceptance(b.cls, ISSUER, sizeof(ISSUER), s2, 1, &got), MDG_STORE_NOT_FOUND);
	b.ops->read_end(b.cls);
	ck_assert_int_eq(b.ops->find_acceptance(b.cls, ISSUER, sizeof(ISSUER), s2, 1, &got), MDG_STORE_OK);
	ck_assert_str_eq(got.receipt_id, "22222222222222222222222222222222");
	/* no transaction left open: the reader can write, twice ending is harmless */
	b.ops->read_end(b.cls);
	make_acceptance(&n, "33333333333333333333333333333333", s3, 1, "2026-11-27T10:02:00+09:00");
	ck_assert_int_eq(b.ops->insert_acceptance(b.cls, &n, &ref), MDG_STORE_OK);
	ck_assert_int_eq(ref.seq, 3);
	ck_assert_int_eq(verify_chain(), 3);
	mdg_store_close(&b);
	mdg_store_close(&a);
}
END_TEST

#define THREADS 4
#define PER_THREAD 40

static void *inserter(void *arg)
{
	struct mdg_store st;
	struct mdg_acceptance_new a;
	struct mdg_acceptance_ref ref;
	unsigned char serial[2];
	char err[512], receipt[MDG_RECEIPT_LEN];
	long t = (long)(intptr_t)arg, fails = 0;
	int i;

	if (mdg_store_sqlite_open(&st, dbpath, err, sizeof(err)) == -1)
		return (void *)(intptr_t)1000;
	for (i = 0; i < PER_THREAD; i++) {
		serial[0] = (unsigned char)(t + 1);
		serial[1] = (unsigned char)i;
		snprintf(receipt, sizeof(receipt), "%016lx%016x", t, i);
		make_acceptance(&a, receipt, serial, 2, "2026-11-27T10:00:00+09:00");
		if (st.ops->insert_acceptance(st.cls, &a, &ref) != MDG_STORE_OK)
			fails++;
		/* everyone also races for one shared certificate */
		serial[0] = 0xee;
		serial[1] = 0xee;
		snprintf(receipt, sizeof(receipt), "%08lx%08xffffffffffffffff", t, i);
		make_acceptance(&a, receipt, serial, 2, "2026-11-27T10:00:00+09:00");
		switch (st.ops->insert_acceptance(st.cls, &a, &ref)) {
		case MDG_STORE_OK:
		case MDG_STORE_CONFLICT:
			break;
		default:
			fails++;
		}
	}
	mdg_store_close(&st);
	return (void *)(intptr_t)fails;
}

START_TEST(concurrent_appends)
{
	struct mdg_store st;
	pthread_t th[THREADS];
	void *ret;
	long i;

	open_fresh(&st, "race");
	mdg_store_close(&st);
	for (i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, inserter, (void *)(intptr_t)i), 0);
	for (i = 0; i < THREADS; i++) {
		ck_assert_int_eq(pthread_join(th[i], &ret), 0);
		ck_assert_int_eq((intptr_t)ret, 0);
	}
	ck_assert_int_eq(verify_chain(), THREADS * PER_THREAD + 1);
}
END_TEST

/* Group commit: many threads append at once through their own handles.
 * Every distinct row is there exactly once, the chain verifies, every race
 * for one certificate has exactly one winner whose receipt all the others
 * got, and a row that cannot be written (poisoned: its evidence is too big
 * to bind, which fails the whole batch) is the only one refused. */
#define GC_THREADS 16
#define GC_PER_THREAD 24
#define GC_SHARED 6

struct gc_result {
	enum mdg_store_status own[GC_PER_THREAD];
	struct mdg_acceptance_ref own_ref[GC_PER_THREAD];
	enum mdg_store_status shared[GC_SHARED];
	struct mdg_acceptance_ref shared_ref[GC_SHARED];
	char shared_receipt[GC_SHARED][MDG_RECEIPT_LEN];
	int opened;
};

static struct gc_result gc_results[GC_THREADS];
static pthread_barrier_t gc_barrier;

static int gc_poisoned(long t, int i)
{
	return i == 5 && t % 4 == 1;
}

static void *gc_inserter(void *arg)
{
	long t = (long)(intptr_t)arg;
	struct gc_result *r = &gc_results[t];
	struct mdg_store st;
	struct mdg_acceptance_new a;
	unsigned char serial[3];
	char err[512], receipt[MDG_RECEIPT_LEN];
	int i;

	r->opened = mdg_store_sqlite_open(&st, dbpath, err, sizeof(err)) == 0;
	pthread_barrier_wait(&gc_barrier);
	if (!r->opened)
		return NULL;
	for (i = 0; i < GC_PER_THREAD; i++) {
		serial[0] = 0x01;
		serial[1] = (unsigned char)t;
		serial[2] = (unsigned char)i;
		snprintf(receipt, sizeof(receipt), "a%015lx%016x", t, i);
		make_acceptance(&a, receipt, serial, 3, "2026-11-27T10:00:00+09:00");
		if (gc_poisoned(t, i))
			a.request_len = (size_t)INT_MAX + 1; /* never read: binding refuses it */
		r->own[i] = st.ops->insert_acceptance(st.cls, &a, &r->own_ref[i]);
		if (i % 4 == 0) {
			/* every thread races for the same few certificates */
			int k = i / 4;
			serial[0] = 0x02;
			serial[1] = 0xee;
			serial[2] = (unsigned char)k;
			snprintf(r->shared_receipt[k], MDG_RECEIPT_LEN, "b%015lx%016x", t, k);
			make_acceptance(&a, r->shared_receipt[k], serial, 3, "2026-11-27T10:00:01+09:00");
			r->shared[k] = st.ops->insert_acceptance(st.cls, &a, &r->shared_ref[k]);
		}
	}
	mdg_store_close(&st);
	return NULL;
}

START_TEST(group_commit)
{
	struct mdg_store st;
	pthread_t th[GC_THREADS];
	sqlite3 *db;
	sqlite3_stmt *q;
	long t;
	int i, k, poisoned = 0;

	open_fresh(&st, "group");
	memset(gc_results, 0, sizeof(gc_results));
	ck_assert_int_eq(pthread_barrier_init(&gc_barrier, NULL, GC_THREADS), 0);
	for (t = 0; t < GC_THREADS; t++)
		ck_assert_int_eq(pthread_create(&th[t], NULL, gc_inserter, (void *)(intptr_t)t), 0);
	for (t = 0; t < GC_THREADS; t++)
		ck_assert_int_eq(pthread_join(th[t], NULL), 0);
	pthread_barrier_destroy(&gc_barrier);

	db = raw();
	ck_assert_int_eq(sqlite3_prepare_v2(db,
					    "SELECT seq, receipt_id FROM acceptances"
					    " WHERE issuer = ?1 AND serial = ?2",
					    -1, &q, NULL),
			 SQLITE_OK);
	for (t = 0; t < GC_THREADS; t++) {
		struct gc_result *r = &gc_results[t];
		ck_assert(r->opened);
		for (i = 0; i < GC_PER_THREAD; i++) {
			unsigned char serial[3] = { 0x01, (unsigned char)t, (unsigned char)i };
			char receipt[MDG_RECEIPT_LEN];

			snprintf(receipt, sizeof(receipt), "a%015lx%016x", t, i);
			sqlite3_bind_blob(q, 1, ISSUER, sizeof(ISSUER), SQLITE_STATIC);
			sqlite3_bind_blob(q, 2, serial, 3, SQLITE_STATIC);
			if (gc_poisoned(t, i)) {
				poisoned++;
				ck_assert_int_eq(r->own[i], MDG_STORE_ERROR);
				ck_assert_int_eq(sqlite3_step(q), SQLITE_DONE);
			} else {
				ck_assert_int_eq(r->own[i], MDG_STORE_OK);
				ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
				/* the answer describes the row as committed */
				ck_assert_int_eq(sqlite3_column_int64(q, 0), r->own_ref[i].seq);
				ck_assert_str_eq((const char *)sqlite3_column_text(q, 1), receipt);
				ck_assert_str_eq(r->own_ref[i].receipt_id, receipt);
			}
			sqlite3_reset(q);
		}
	}
	for (k = 0; k < GC_SHARED; k++) {
		unsigned char serial[3] = { 0x02, 0xee, (unsigned char)k };
		char winner[MDG_RECEIPT_LEN];
		int64_t seq;
		int wins = 0;

		sqlite3_bind_blob(q, 1, ISSUER, sizeof(ISSUER), SQLITE_STATIC);
		sqlite3_bind_blob(q, 2, serial, 3, SQLITE_STATIC);
		ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
		seq = sqlite3_column_int64(q, 0);
		snprintf(winner, sizeof(winner), "%s", (const char *)sqlite3_column_text(q, 1));
		sqlite3_reset(q);
		for (t = 0; t < GC_THREADS; t++) {
			struct gc_result *r = &gc_results[t];
			if (r->shared[k] == MDG_STORE_OK) {
				wins++;
				ck_assert_str_eq(r->shared_receipt[k], winner);
			} else {
				ck_assert_int_eq(r->shared[k], MDG_STORE_CONFLICT);
			}
			ck_assert_str_eq(r->shared_ref[k].receipt_id, winner);
			ck_assert_int_eq(r->shared_ref[k].seq, seq);
		}
		ck_assert_int_eq(wins, 1);
	}
	sqlite3_finalize(q);
	ck_assert_int_gt(poisoned, 0);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM acceptances"),
			 GC_THREADS * GC_PER_THREAD - poisoned + GC_SHARED);
	sqlite3_close(db);
	ck_assert_int_eq(verify_chain(), GC_THREADS * GC_PER_THREAD - poisoned + GC_SHARED);
	/* the opener's handle still appends after the others closed theirs */
	{
		struct mdg_acceptance_new a;
		struct mdg_acceptance_ref ref;
		static const unsigned char s9[] = { 0x09 };

		make_acceptance(&a, "99999999999999999999999999999999", s9, 1, "2026-11-27T11:00:00+09:00");
		ck_assert_int_eq(st.ops->insert_acceptance(st.cls, &a, &ref), MDG_STORE_OK);
		ck_assert_int_eq(ref.seq, GC_THREADS * GC_PER_THREAD - poisoned + GC_SHARED + 1);
	}
	mdg_store_close(&st);
	ck_assert_int_eq(verify_chain(), GC_THREADS * GC_PER_THREAD - poisoned + GC_SHARED + 1);
}
END_TEST

static unsigned char *name_der(const char *ou, size_t *len)
{
	X509_NAME *n = X509_NAME_new();
	unsigned char *der = NULL;
	int l;

	X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"JP", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8, (const unsigned char *)ou, -1, -1, 0);
	l = i2d_X509_NAME(n, &der);
	X509_NAME_free(n);
	ck_assert_int_gt(l, 0);
	*len = (size_t)l;
	return der;
}

static void set_crl(struct mdg_crl_import *c, const unsigned char *iss, size_t iss_len, const unsigned char *dp,
		    size_t dp_len, unsigned number, unsigned char shabyte, const struct mdg_crl_entry *e, size_t n)
{
	memset(c, 0, sizeof(*c));
	c->issuer_der = iss;
	c->issuer_len = iss_len;
	c->dp_der = dp;
	c->dp_len = dp_len;
	if (number > 255) {
		c->number[0] = (unsigned char)(number >> 8);
		c->number[1] = (unsigned char)number;
		c->number_len = 2;
	} else {
		c->number[0] = (unsigned char)number;
		c->number_len = 1;
	}
	c->this_update = 1000;
	c->next_update = 2000;
	memset(c->sha256, shabyte, 32);
	c->entries = e;
	c->n_entries = n;
}

static void entry(struct mdg_crl_entry *e, unsigned char a, unsigned char b)
{
	memset(e, 0, sizeof(*e));
	e->serial[0] = a;
	e->serial[1] = b;
	e->serial_len = 2;
	e->revoked_at = 900;
	e->reason = 1;
}

static int is_revoked(struct mdg_store *st, const unsigned char *iss, size_t iss_len, unsigned char a, unsigned char b)
{
	unsigned char s[2] = { a, b };
	int r = -1;

	ck_assert_int_eq(st->ops->crl_lookup(st->cls, iss, iss_len, s, 2, &r), MDG_STORE_OK);
	return r;
}

struct listed {
	int n, full, dp;
	int64_t entries;
};

static int count_scope(void *arg, const struct mdg_crl_scope *s)
{
	struct listed *l = arg;

	l->n++;
	if (s->dp_der == NULL)
		l->full++;
	else
		l->dp++;
	l->entries += s->entries;
	ck_assert_ptr_nonnull(s->issuer_der);
	return 0;
}

START_TEST(crl_import_rules)
{
	struct mdg_store st;
	struct mdg_crl_import c;
	struct mdg_crl_entry e[4];
	struct mdg_crl_scope sc;
	enum mdg_crl_import_outcome oc;
	struct listed l;
	unsigned char *iss, *iss2, *dp, *dpk;
	size_t iss_len, iss2_len, dp_len, dpk_len;
	char msg[1024];

	iss = name_der("J-LIS", &iss_len);
	iss2 = name_der("Tokyo-to", &iss2_len);
	dp = name_der("Chiyoda-ku CRLDP", &dp_len);
	/* crl_scope takes the canonical form, as the pipeline gives it */
	ck_assert_int_eq(mdg_der_name_canon(dp, dp_len, &dpk, &dpk_len), 0);
	open_fresh(&st, "crl");

	ck_assert_int_eq(st.ops->crl_scope(st.cls, iss, iss_len, NULL, 0, &sc), MDG_STORE_NOT_FOUND);
	entry(&e[0], 1, 1);
	entry(&e[1], 1, 2);
	set_crl(&c, iss, iss_len, NULL, 0, 10, 0xaa, e, 2);
	ck_assert_int_eq(st.ops->crl_import(st.cls, &c, 5000, &oc, msg, sizeof(msg)), MDG_STORE_OK);
	ck_assert_int_eq(oc, MDG_CRL_IMPORTED);
	ck_assert_int_eq(st.ops->crl_scope(st.cls, iss, iss_len, NULL, 0, &sc), MDG_STORE_OK);
	ck_assert_int_eq(sc.entries, 2);
	ck_assert_uint_eq(sc.number_len, 1);
	ck_assert_int_eq(sc.number[0], 10);
	ck_assert_int_eq(sc.this_update, 1000);
	ck_assert_int_eq(sc.next_update, 2000);
	ck_assert_int_eq(sc.imported_at, 5000);
	ck_assert_int_eq(is_revoked(&st, iss, iss_len, 1, 1), 1);
	ck_assert_int_eq(is_revoked(&st, iss, iss_len, 1, 3), 0);
	ck_assert_int_eq(is_revoked(&st, iss2, iss2_len, 1, 1), 0);

	/* same number, same SHA-256: no-op */
	ck_assert_int_eq(st.ops->crl_import(st.cls, &c, 6000, &oc, msg, sizeof(msg)), MDG_STORE_OK);
	ck_assert_int_eq(oc, MDG_CRL_UNCHANGED);
	ck_assert_int_eq(st.ops->crl_scope(st.cls, iss, iss_len, NULL, 0, &sc), MDG_STORE_OK);
	ck_assert_int_eq(sc.imported_at, 5000);

	/* same number, other contents */
	set_crl(&c, iss, iss_len, NULL, 0, 10, 0xbb, e, 1);
	ck_assert_int_eq(st.ops->crl_import(st.cls, &c, 6000, &oc, msg, sizeof(msg)), MDG_STORE_REFUSED);
	ck_assert_msg(strstr(msg, "CRL number 10 is already held for OU=J-LIS,C=JP (full CRL)") != NULL, "%s", msg);

	/* lower number */
	set_crl(&c, iss, iss_len, NULL, 0, 9, 0xcc, e, 1);
	ck_assert_int_eq(st.ops->crl_import(st.cls, &c, 6000, &oc, msg, sizeof(msg)), MDG_STORE_REFUSED);
	ck_assert_msg(strstr(msg, "CRL number 9 is not newer than 10 held for OU=J-LIS,C=JP "
				  "(full CRL): refused") != NULL,
		      "%s", msg);
	ck_assert_int_eq(is_revoked(&st, iss, iss_len, 1, 2), 1);

	/* higher number (two bytes: compared by length first) replaces */
	entry(&e[2], 2, 1);
	set_crl(&c, iss, iss_len, NULL, 0, 300, 0xdd, &e[1], 2);
	ck_assert_int_eq(st.ops->crl_import(st.cls, &c, 7000, &oc, msg, sizeof(msg)), MDG_STORE_OK);
	ck_assert_int_eq(oc, MDG_CRL_IMPORTED);
	ck_assert_int_eq(is_revoked(&st, iss, iss_len, 1, 1), 0);
	ck_assert_int_eq(is_revoked(&st, iss, iss_len, 1, 2), 1);
	ck_assert_int_eq(is_revoked(&st, iss, iss_len, 2, 1), 1);
	ck_assert_int_eq(st.ops->crl_scope(st.cls, iss, iss_len, NULL, 0, &sc), MDG_STORE_OK);
	ck_assert_uint_eq(sc.number_len, 2);
	ck_assert_int_eq(sc.imported_at, 7000);
	set_crl(&c, iss, iss_len, NULL, 0, 255, 0xee, e, 1);
	ck_assert_int_eq(st.ops->crl_import(st.cls, &c, 7000, &oc, msg, sizeof(msg)), MDG_STORE_REFUSED);
	ck_assert_msg(strstr(msg, "255 is not newer than 300") != NULL, "%s", msg);

	/* a partition of the same issuer: its own scope, its own numbers;
	 * a serial listed twice is kept once */
	entry(&e[3], 3, 3);
	e[0] = e[3];
	set_crl(&c, iss, iss_len, dp, dp_len, 1, 0x11, &e[3], 1);
	c.entries = e;
	e[1] = e[3];
	c.n_entries = 2;
	ck_assert_int_eq(st.ops->crl_import(st.cls, &c, 8000, &oc, msg, sizeof(msg)), MDG_STORE_OK);
	ck_assert_int_eq(oc, MDG_CRL_IMPORTED);
	ck_assert_int_eq(st.ops->crl_scope(st.cls, iss, iss_len, dp, dp_len, &sc), MDG_STORE_NOT_FOUND);
	ck_assert_int_eq(st.ops->crl_scope(st.cls, iss, iss_len, dpk, dpk_len, &sc), MDG_STORE_OK);
	ck_assert_int_eq(sc.entries, 1);
	/* lookup spans the issuer's scopes */
	ck_assert_int_eq(is_revoked(&st, iss, iss_len, 3, 3), 1);
	ck_assert_int_eq(is_revoked(&st, iss, iss_len, 2, 1), 1);
	ck_assert_int_eq(is_revoked(&st, iss2, iss2_len, 3, 3), 0);
	set_crl(&c, iss, iss_len, dp, dp_len, 1, 0x12, e, 1);
	ck_assert_int_eq(st.ops->crl_import(st.cls, &c, 8000, &oc, msg, sizeof(msg)), MDG_STORE_REFUSED);
	ck_assert_msg(strstr(msg, "(distribution point OU=Chiyoda-ku CRLDP,C=JP)") != NULL, "%s", msg);

	/* another issuer, empty CRL */
	set_crl(&c, iss2, iss2_len, NULL, 0, 1, 0x13, NULL, 0);
	ck_assert_int_eq(st.ops->crl_import(st.cls, &c, 8000, &oc, msg, sizeof(msg)), MDG_STORE_OK);

	/* entries out of serial order (the store sorts a copy) */
	entry(&e[0], 5, 5);
	entry(&e[1], 4, 4);
	entry(&e[2], 4, 1);
	set_crl(&c, iss2, iss2_len, dp, dp_len, 7, 0x14, e, 3);
	ck_assert_int_eq(st.ops->crl_import(st.cls, &c, 8000, &oc, msg, sizeof(msg)), MDG_STORE_OK);
	ck_assert_int_eq(e[0].serial[0], 5);
	ck_assert_int_eq(is_revoked(&st, iss2, iss2_len, 4, 1), 1);
	ck_assert_int_eq(is_revoked(&st, iss2, iss2_len, 5, 5), 1);
	ck_assert_int_eq(is_revoked(&st, iss, iss_len, 5, 5), 0);

	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(st.ops->list_crls(st.cls, count_scope, &l), MDG_STORE_OK);
	ck_assert_int_eq(l.n, 4);
	ck_assert_int_eq(l.full, 2);
	ck_assert_int_eq(l.dp, 2);
	ck_assert_int_eq(l.entries, 6);

	mdg_store_close(&st);
	OPENSSL_free(iss);
	OPENSSL_free(iss2);
	OPENSSL_free(dp);
	OPENSSL_free(dpk);
}
END_TEST

/* A name with every component's string type and spelling chosen. */
static unsigned char *dp_variant(int type, const char *pref, const char *cn, size_t *len)
{
	X509_NAME *n = X509_NAME_new();
	unsigned char *der = NULL;
	int l;

	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(
		X509_NAME_add_entry_by_txt(n, "C", V_ASN1_PRINTABLESTRING, (const unsigned char *)"JP", -1, -1, 0), 1);
	ck_assert_int_eq(X509_NAME_add_entry_by_txt(n, "O", type, (const unsigned char *)"JPKI", -1, -1, 0), 1);
	ck_assert_int_eq(X509_NAME_add_entry_by_txt(n, "OU", type, (const unsigned char *)pref, -1, -1, 0), 1);
	ck_assert_int_eq(X509_NAME_add_entry_by_txt(n, "CN", type, (const unsigned char *)cn, -1, -1, 0), 1);
	l = i2d_X509_NAME(n, &der);
	X509_NAME_free(n);
	ck_assert_int_gt(l, 0);
	*len = (size_t)l;
	return der;
}

/* issue 11 section 4: a partition CRL's scope is its distribution point
 * *name*: the same name in PrintableString or UTF8String, in other letter
 * case or spacing, is one scope, found by the canonical form of either. */
START_TEST(crl_scope_by_name)
{
	struct mdg_store st;
	struct mdg_crl_import c;
	struct mdg_crl_entry e[1];
	struct mdg_crl_scope sc;
	enum mdg_crl_import_outcome oc;
	struct listed l;
	unsigned char *iss, *utf8, *prn, *odd, *other, *k1, *k2, *k3;
	size_t iss_len, utf8_len, prn_len, odd_len, other_len, k1_len, k2_len, k3_len;
	char msg[1024];

	iss = name_der("J-LIS", &iss_len);
	utf8 = dp_variant(V_ASN1_UTF8STRING, "Tokyo", "Printable-shi CRLDP", &utf8_len);
	prn = dp_variant(V_ASN1_PRINTABLESTRING, "Tokyo", "Printable-shi CRLDP", &prn_len);
	odd = dp_variant(V_ASN1_UTF8STRING, "  TOKYO ", "printable-SHI   crldp", &odd_len);
	other = dp_variant(V_ASN1_UTF8STRING, "Tokyo", "Other-shi CRLDP", &other_len);
	ck_assert(utf8_len != prn_len || memcmp(utf8, prn, utf8_len) != 0);
	ck_assert_int_eq(mdg_der_name_canon(utf8, utf8_len, &k1, &k1_len), 0);
	ck_assert_int_eq(mdg_der_name_canon(prn, prn_len, &k2, &k2_len), 0);
	ck_assert_int_eq(mdg_der_name_canon(odd, odd_len, &k3, &k3_len), 0);
	ck_assert_uint_eq(k1_len, k2_len);
	ck_assert_mem_eq(k1, k2, k1_len);
	ck_assert_uint_eq(k1_len, k3_len);
	ck_assert_mem_eq(k1, k3, k1_len);
	open_fresh(&st, "crlname");

	/* the partition CRL says UTF8String (the store derives the key) */
	entry(&e[0], 1, 7);
	set_crl(&c, iss, iss_len, utf8, utf8_len, 5, 0x21, e, 1);
	ck_assert_int_eq(st.ops->crl_import(st.cls, &c, 5000, &oc, msg, sizeof(msg)), MDG_STORE_OK);
	/* a certificate saying PrintableString finds it */
	ck_assert_int_eq(st.ops->crl_scope(st.cls, iss, iss_len, k2, k2_len, &sc), MDG_STORE_OK);
	ck_assert_int_eq(sc.number[0], 5);
	ck_assert_int_eq(st.ops->crl_scope(st.cls, iss, iss_len, prn, prn_len, &sc), MDG_STORE_NOT_FOUND);
	/* the next CRL of that name in another encoding replaces it (one
	 * scope), an older one is refused as for the same bytes */
	set_crl(&c, iss, iss_len, prn, prn_len, 6, 0x22, e, 1);
	c.dp_key = k2;
	c.dp_key_len = k2_len;
	ck_assert_int_eq(st.ops->crl_import(st.cls, &c, 6000, &oc, msg, sizeof(msg)), MDG_STORE_OK);
	ck_assert_int_eq(oc, MDG_CRL_IMPORTED);
	set_crl(&c, iss, iss_len, odd, odd_len, 4, 0x23, e, 1);
	ck_assert_int_eq(st.ops->crl_import(st.cls, &c, 6000, &oc, msg, sizeof(msg)), MDG_STORE_REFUSED);
	ck_assert_msg(strstr(msg, "not newer than 6") != NULL, "%s", msg);
	ck_assert_int_eq(st.ops->crl_scope(st.cls, iss, iss_len, k3, k3_len, &sc), MDG_STORE_OK);
	ck_assert_int_eq(sc.number[0], 6);
	/* another name is another scope */
	set_crl(&c, iss, iss_len, other, other_len, 1, 0x24, e, 1);
	ck_assert_int_eq(st.ops->crl_import(st.cls, &c, 6000, &oc, msg, sizeof(msg)), MDG_STORE_OK);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(st.ops->list_crls(st.cls, count_scope, &l), MDG_STORE_OK);
	ck_assert_int_eq(l.n, 2);
	ck_assert_int_eq(l.dp, 2);
	mdg_store_close(&st);
	OPENSSL_free(iss);
	OPENSSL_free(utf8);
	OPENSSL_free(prn);
	OPENSSL_free(odd);
	OPENSSL_free(other);
	OPENSSL_free(k1);
	OPENSSL_free(k2);
	OPENSSL_free(k3);
}
END_TEST

/* Migration 5 fills dp_key for the partition CRLs held before it; two
 * scopes that turn out to be one name stop it with a clear message. */
START_TEST(migrate_dp_key)
{
	struct mdg_store st;
	struct mdg_crl_scope sc;
	unsigned char *iss, *utf8, *prn, *k;
	size_t iss_len, utf8_len, prn_len, k_len;
	sqlite3 *db;
	sqlite3_stmt *ins;
	char err[1024];
	int from, to, i;

	iss = name_der("J-LIS", &iss_len);
	utf8 = dp_variant(V_ASN1_UTF8STRING, "Tokyo", "Printable-shi CRLDP", &utf8_len);
	prn = dp_variant(V_ASN1_PRINTABLESTRING, "Tokyo", "Printable-shi CRLDP", &prn_len);
	ck_assert_int_eq(mdg_der_name_canon(prn, prn_len, &k, &k_len), 0);
	for (i = 0; i < 2; i++) {
		/* a version 4 database holding partition CRLs: dp only */
		fresh_path("migdp");
		db = raw();
		for (int m = 0; m < 4; m++)
			ck_assert_int_eq(sqlite3_exec(db, mdg_schema_migrations[m], NULL, NULL, NULL), SQLITE_OK);
		ck_assert_int_eq(sqlite3_prepare_v2(
					 db,
					 "INSERT INTO crls (issuer, dp, number, "
					 "this_update, next_update, imported_at, sha256) VALUES (?1, ?2, X'05', 1000, "
					 "2000, 3000, zeroblob(32))",
					 -1, &ins, NULL),
				 SQLITE_OK);
		sqlite3_bind_blob(ins, 1, iss, (int)iss_len, SQLITE_STATIC);
		sqlite3_bind_blob(ins, 2, utf8, (int)utf8_len, SQLITE_STATIC);
		ck_assert_int_eq(sqlite3_step(ins), SQLITE_DONE);
		if (i == 1) {
			sqlite3_reset(ins);
			sqlite3_bind_blob(ins, 2, prn, (int)prn_len, SQLITE_STATIC);
			ck_assert_int_eq(sqlite3_step(ins), SQLITE_DONE);
		}
		sqlite3_finalize(ins);
		ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 4", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
		if (i == 0) {
			ck_assert_msg(mdg_store_sqlite_migrate(dbpath, &from, &to, err, sizeof(err)) == 0, "%s", err);
			ck_assert_int_eq(from, 4);
			ck_assert_int_eq(to, mdg_store_sqlite_schema_version());
			ck_assert_msg(mdg_store_sqlite_open(&st, dbpath, err, sizeof(err)) == 0, "%s", err);
			ck_assert_int_eq(st.ops->crl_scope(st.cls, iss, iss_len, k, k_len, &sc), MDG_STORE_OK);
			ck_assert_int_eq(sc.this_update, 1000);
			mdg_store_close(&st);
		} else {
			ck_assert_int_eq(mdg_store_sqlite_migrate(dbpath, &from, &to, err, sizeof(err)), -1);
			ck_assert_msg(strstr(err, "names the same distribution point") != NULL, "%s", err);
			/* nothing of migration 5 was applied */
			db = raw();
			ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), 4);
			sqlite3_close(db);
		}
	}
	OPENSSL_free(iss);
	OPENSSL_free(utf8);
	OPENSSL_free(prn);
	OPENSSL_free(k);
}
END_TEST

START_TEST(crl_import_large)
{
	struct mdg_store st;
	struct mdg_crl_import c;
	struct mdg_crl_entry *e;
	enum mdg_crl_import_outcome oc;
	unsigned char *iss;
	size_t iss_len, i, n = getenv("MDG_BIG_N") != NULL ? strtoul(getenv("MDG_BIG_N"), NULL, 10) : 50000;
	char msg[512];

	iss = name_der("Big", &iss_len);
	e = calloc(n, sizeof(*e));
	ck_assert_ptr_nonnull(e);
	for (i = 0; i < n; i++) {
		/* pseudo-random 8-byte serials, as real ones are */
		uint64_t v = (i + 1) * 0x9e3779b97f4a7c15ULL;
		int k;

		for (k = 0; k < 8; k++)
			e[i].serial[k] = (unsigned char)(v >> (56 - 8 * k));
		e[i].serial[0] |= 0x01;
		e[i].serial_len = 8;
		e[i].revoked_at = 1000;
		e[i].reason = -1;
	}
	/* crl.c hands entries sorted; MDG_UNSORTED tests the store's own sort */
	if (getenv("MDG_UNSORTED") == NULL)
		qsort(e, n, sizeof(*e), mdg_crl_entry_cmp);
	open_fresh(&st, "big");
	set_crl(&c, iss, iss_len, NULL, 0, 1, 1, e, n);
	ck_assert_int_eq(st.ops->crl_import(st.cls, &c, 1, &oc, msg, sizeof(msg)), MDG_STORE_OK);
	set_crl(&c, iss, iss_len, NULL, 0, 2, 2, e, n);
	ck_assert_int_eq(st.ops->crl_import(st.cls, &c, 1, &oc, msg, sizeof(msg)), MDG_STORE_OK);
	ck_assert_int_eq(is_revoked(&st, iss, iss_len, e[0].serial[0], e[0].serial[1]), 0);
	mdg_store_close(&st);
	free(e);
	OPENSSL_free(iss);
}
END_TEST

/* The door: [store] backend picks the backend; one not built in is a clear
 * error; migrate and open through it reach the SQLite file. */
START_TEST(door)
{
	struct mdg_config cfg;
	struct mdg_store st = { NULL, NULL };
	char err[512], buf[600];
	int from, to;

	fresh_path("door");
	mdg_config_defaults(&cfg);
	ck_assert_str_eq(cfg.store_backend, "sqlite");
	ck_assert_uint_lt(strlen(dbpath), sizeof(cfg.database));
	memcpy(cfg.database, dbpath, strlen(dbpath) + 1);
	ck_assert_int_eq(mdg_store_exists(&cfg, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "run madoguchi-admin db init"));
	ck_assert_int_eq(mdg_store_open(&st, &cfg, err, sizeof(err)), -1);
	ck_assert_msg(mdg_store_migrate(&cfg, &from, &to, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(to, mdg_store_schema_version(&cfg));
	ck_assert_int_eq(to, mdg_store_sqlite_schema_version());
	ck_assert_int_eq(mdg_store_exists(&cfg, err, sizeof(err)), 1);
	ck_assert_msg(mdg_store_open(&st, &cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(st.ops->ping(st.cls), MDG_STORE_OK);
	ck_assert_str_eq(mdg_store_error(&st), "");
	mdg_store_close(&st);
	ck_assert_str_eq(mdg_store_error(&st), "");
	ck_assert_str_eq(mdg_store_describe(&cfg, buf, sizeof(buf)) + strlen("database "), dbpath);
	ck_assert_int_eq(strncmp(buf, "database ", 9), 0);

	/* a backend this build lacks (the config takes only sqlite and
	 * postgresql; whether postgresql is built in depends on the build) */
	snprintf(cfg.store_backend, sizeof(cfg.store_backend), "nosuch");
	ck_assert_int_eq(mdg_store_open(&st, &cfg, err, sizeof(err)), -1);
	ck_assert_ptr_null(st.ops);
	ck_assert_str_eq(err, "[store] backend nosuch is not built into this madoguchi");
	ck_assert_int_eq(mdg_store_migrate(&cfg, &from, &to, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "[store] backend nosuch is not built into this madoguchi");
	ck_assert_int_eq(mdg_store_schema_version(&cfg), -1);
}
END_TEST

/* The error channel: a failed operation leaves its name and SQLite's
 * message in mdg_store_error. */
START_TEST(error_channel)
{
	struct mdg_store st;
	sqlite3 *db;
	unsigned char serial[1] = { 1 };
	int revoked = 0;

	open_fresh(&st, "errors");
	ck_assert_str_eq(mdg_store_error(&st), "");
	db = raw();
	ck_assert_int_eq(sqlite3_exec(db, "DROP TABLE crl_entries", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(st.ops->crl_lookup(st.cls, serial, 1, serial, 1, &revoked), MDG_STORE_ERROR);
	ck_assert_msg(strncmp(mdg_store_error(&st), "crl_lookup: ", 12) == 0, "%s", mdg_store_error(&st));
	ck_assert_msg(strstr(mdg_store_error(&st), "crl_entries") != NULL, "%s", mdg_store_error(&st));
	mdg_store_close(&st);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, migrate_and_open);
	tcase_add_test(tc, door);
	tcase_add_test(tc, error_channel);
	tcase_add_test(tc, open_wrong_version);
	tcase_add_test(tc, acceptances);
	tcase_add_test(tc, read_snapshot);
	tcase_add_test(tc, concurrent_appends);
	tcase_add_test(tc, group_commit);
	tcase_add_test(tc, crl_import_rules);
	tcase_add_test(tc, crl_import_large);
	tcase_add_test(tc, crl_scope_by_name);
	tcase_add_test(tc, migrate_dp_key);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
