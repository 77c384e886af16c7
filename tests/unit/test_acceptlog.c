/* Unit tests: server/operator/acceptlog.c and the store's acceptance log read side
 * (log_query, log_head in server/store/store_sqlite_log.c, schema 002). */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "acceptlog.h"
#include "names.h"
#include "chain.h"
#include "store.h"
#include "store_sqlite.h"
#include "testpki_store.h"
#include "tlog.h"

static char dbpath[4096];

static void open_fresh(struct mdg_store *st, const char *tag)
{
	const char *base = getenv("MDG_TEST_TMP");
	static int n;
	char dir[3000], err[512];
	int from, to;

	snprintf(dir, sizeof(dir), "%s/acceptlog-XXXXXX", base != NULL ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/%s-%d.db", dir, tag, n++);
	ck_assert_msg(mdg_store_sqlite_migrate(dbpath, &from, &to, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(mdg_store_sqlite_open(st, dbpath, err, sizeof(err)) == 0, "%s", err);
}

/* Runs SQL behind the store's back (the operator with the sqlite3 CLI). */
static void raw_exec(const char *sql)
{
	sqlite3 *db = NULL;
	char *err = NULL;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK, "%s: %s", sql, err != NULL ? err : "?");
	sqlite3_close(db);
}

static long long raw_int(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s;
	long long v = -1;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static const unsigned char ISSUER[] = { 0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03,
					0x55, 0x04, 0x06, 0x13, 0x02, 0x4a, 0x50 }; /* C=JP */
static const unsigned char ISSUER2[] = { 0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03,
					 0x55, 0x04, 0x06, 0x13, 0x02, 0x46, 0x52 }; /* C=FR */

static void add(struct mdg_store *st, int i, const unsigned char *issuer, size_t issuer_len, const char *at,
		const char *reason, const unsigned char *req, size_t req_len)
{
	struct mdg_acceptance_new a;
	struct mdg_acceptance_ref ref;
	unsigned char serial[2];

	serial[0] = 0x0a;
	serial[1] = (unsigned char)i;
	memset(&a, 0, sizeof(a));
	snprintf(a.receipt_id, sizeof(a.receipt_id), "%032x", i);
	a.issuer_der = issuer;
	a.issuer_len = issuer_len;
	a.serial = serial;
	a.serial_len = 2;
	memset(a.cert_sha256, 0xab, 32);
	snprintf(a.accepted_at, sizeof(a.accepted_at), "%s", at);
	a.reason = reason;
	a.holder_name = "試験\u3000太郎";
	a.request_der = req;
	a.request_len = req_len;
	EVP_Digest(req, req_len, a.request_sha256, NULL, EVP_sha256(), NULL);
	a.client_addr = "192.0.2.1";
	snprintf(a.effective_from, sizeof(a.effective_from), "2026-11-28T00:00:00+09:00");
	ck_assert_int_eq(st->ops->insert_acceptance(st->cls, &a, &ref), MDG_STORE_OK);
}

static const unsigned char REQ[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };

/* Five rows: seq i has serial 0a0i, accepted on 11-2(5+i) 10:00 JST
 * (seq 5 at 23:59:59), issuer C=JP but seq 4 C=FR, reason superseded for
 * even seqs. */
static void fill(struct mdg_store *st)
{
	static const char *const at[] = {
		"2026-11-26T10:00:00+09:00", "2026-11-27T10:00:00+09:00", "2026-11-28T01:00:00Z",
		"2026-11-29T10:00:00+09:00", "2026-11-30T23:59:59+09:00",
	};
	int i;

	for (i = 1; i <= 5; i++)
		add(st, i, i == 4 ? ISSUER2 : ISSUER, i == 4 ? sizeof(ISSUER2) : sizeof(ISSUER), at[i - 1],
		    i % 2 == 0 ? "superseded" : "keyCompromise", REQ, sizeof(REQ));
}

struct collect {
	int64_t seqs[16];
	int n;
	int stop_after;
	int had_request;
};

static int collect_row(void *arg, const struct mdg_acceptance_row *r)
{
	struct collect *c = arg;

	ck_assert_int_lt(c->n, 16);
	c->seqs[c->n++] = r->seq;
	ck_assert_str_eq(r->holder_name, "試験\u3000太郎");
	ck_assert_str_eq(r->client_addr, "192.0.2.1");
	ck_assert_int_eq(r->hash_len, 32);
	ck_assert_int_eq(r->prev_hash_len, 32);
	ck_assert_int_eq(r->cert_sha256_len, 32);
	ck_assert_int_eq(r->export_batch, 0);
	if (r->request_der != NULL) {
		ck_assert_int_eq(r->request_len, sizeof(REQ));
		ck_assert_mem_eq(r->request_der, REQ, sizeof(REQ));
		c->had_request = 1;
	}
	return c->stop_after > 0 && c->n >= c->stop_after;
}

static int count_row(void *arg, const struct mdg_acceptance_row *r)
{
	struct collect *c = arg;

	c->seqs[c->n++ % 16] = r->seq;
	return 0;
}

static int query(struct mdg_store *st, const struct mdg_log_filter *f, struct collect *c)
{
	int stop = c->stop_after;

	memset(c, 0, sizeof(*c));
	c->stop_after = stop;
	ck_assert_int_eq(st->ops->log_query(st->cls, f, collect_row, c), MDG_STORE_OK);
	return c->n;
}

START_TEST(time_args)
{
	int64_t t;

	/* 2026-11-27 00:00 JST = 2026-11-26T15:00:00Z = 1795705200 */
	ck_assert_int_eq(mdg_log_time_arg("2026-11-27", 0, &t), 0);
	ck_assert_int_eq(t, 1795705200);
	ck_assert_int_eq(mdg_log_time_arg("2026-11-27", 1, &t), 0);
	ck_assert_int_eq(t, 1795705200 + 86400);
	ck_assert_int_eq(mdg_log_time_arg("2026-11-27T10:00:00+09:00", 0, &t), 0);
	ck_assert_int_eq(t, 1795741200);
	ck_assert_int_eq(mdg_log_time_arg("2026-11-27T01:00:00Z", 1, &t), 0);
	ck_assert_int_eq(t, 1795741201);
	ck_assert_int_eq(mdg_log_time_arg("2026-11-27T10:00:00.5+09:00", 0, &t), 0);
	ck_assert_int_eq(t, 1795741200);
	/* without an offset: JST */
	ck_assert_int_eq(mdg_log_time_arg("2026-11-27T10:00:00", 0, &t), 0);
	ck_assert_int_eq(t, 1795741200);
	ck_assert_int_eq(mdg_log_time_arg("2026-11-27 10:00", 0, &t), 0);
	ck_assert_int_eq(t, 1795741200);
	ck_assert_int_eq(mdg_log_time_arg("2026-02-30", 0, &t), -1);
	ck_assert_int_eq(mdg_log_time_arg("2026-1-27", 0, &t), -1);
	ck_assert_int_eq(mdg_log_time_arg("yesterday", 0, &t), -1);
	ck_assert_int_eq(mdg_log_time_arg("", 0, &t), -1);
	ck_assert_int_eq(mdg_log_time_arg("2026-11-27T25:00:00+09:00", 0, &t), -1);
}
END_TEST

START_TEST(hex_and_names)
{
	unsigned char b[MDG_SERIAL_MAX], h[32];
	char s[2 * MDG_SERIAL_MAX + 1], txt[256];
	size_t n;
	unsigned char der[256], *p = der;
	X509_NAME *name = tp_name("JPKI for digital signature");
	int len;

	ck_assert_int_eq(mdg_serial_parse_hex("0A1b", b, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(b[0], 0x0a);
	ck_assert_int_eq(b[1], 0x1b);
	ck_assert_int_eq(mdg_serial_parse_hex("0x00a1", b, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(b[0], 0xa1);
	ck_assert_int_eq(mdg_serial_parse_hex("0a:1b:2c", b, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(mdg_serial_parse_hex("0", b, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(mdg_serial_parse_hex("", b, &n), -1);
	ck_assert_int_eq(mdg_serial_parse_hex("0x", b, &n), -1);
	ck_assert_int_eq(mdg_serial_parse_hex("12g4", b, &n), -1);
	ck_assert_int_eq(
		mdg_serial_parse_hex("10000000000000000000000000000000000000000000000000000000000000000", b, &n), -1);
	ck_assert_int_eq(
		mdg_serial_parse_hex("00ff00000000000000000000000000000000000000000000000000000000000000", b, &n), 0);
	ck_assert_uint_eq(n, 32);

	b[0] = 0x0a;
	b[1] = 0x1b;
	mdg_serial_hex(b, 2, s, sizeof(s));
	ck_assert_str_eq(s, "a1b");
	b[0] = 0;
	mdg_serial_hex(b, 2, s, sizeof(s));
	ck_assert_str_eq(s, "1b");
	mdg_serial_hex(b, 0, s, sizeof(s));
	ck_assert_str_eq(s, "0");

	ck_assert_int_eq(mdg_unhex("00ff", h, 2), 0);
	ck_assert_int_eq(h[1], 0xff);
	ck_assert_int_eq(mdg_unhex("00f", h, 2), -1);
	ck_assert_int_eq(mdg_unhex("00fg", h, 2), -1);
	mdg_hex(h, 2, s);
	ck_assert_str_eq(s, "00ff");

	len = i2d_X509_NAME(name, NULL);
	ck_assert_int_gt(len, 0);
	ck_assert_int_lt(len, (int)sizeof(der));
	i2d_X509_NAME(name, &p);
	X509_NAME_free(name);
	mdg_der_name_rfc4514(der, (size_t)len, txt, sizeof(txt));
	ck_assert_str_eq(txt, "OU=JPKI for digital signature,O=JPKI,C=JP");
	ck_assert(mdg_name_text_match(der, (size_t)len, "OU=JPKI for digital signature,O=JPKI,C=JP"));
	ck_assert(mdg_name_text_match(der, (size_t)len, " ou=jpki FOR digital signature, o = JPKI ,c=jp"));
	ck_assert(mdg_name_text_match(der, (size_t)len, "C=JP, O=JPKI, OU=JPKI for digital signature"));
	ck_assert(!mdg_name_text_match(der, (size_t)len, "OU=JPKI for digitalsignature,O=JPKI,C=JP"));
	ck_assert(!mdg_name_text_match(der, (size_t)len, "O=JPKI,C=JP"));
	ck_assert(!mdg_name_text_match(der, 3, "O=JPKI,C=JP"));
}
END_TEST

START_TEST(filter_from_args)
{
	struct mdg_log_filter f;
	struct mdg_log_filter_buf fb;
	const char *expected;
	struct mdg_log_args a = { .since = "2026-11-27",
				  .until = "2026-11-27",
				  .serial = "0x0A:1b",
				  .issuer = "",
				  .receipt = "0123456789ABCDEF0123456789abcdef",
				  .reason = "keyCompromise",
				  .after = "7" };

	memset(&f, 0, sizeof(f));
	ck_assert_ptr_null(mdg_log_filter_from_args(&a, &f, &fb, &expected));
	ck_assert(f.has_since && f.has_until);
	ck_assert_int_eq(f.until - f.since, 86400);
	ck_assert_uint_eq(f.serial_len, 2);
	ck_assert_int_eq(f.serial[0], 0x0a);
	ck_assert_int_eq(f.serial[1], 0x1b);
	ck_assert_ptr_null(f.issuer);
	ck_assert_str_eq(f.receipt_id, "0123456789abcdef0123456789abcdef");
	ck_assert_str_eq(f.reason, "keyCompromise");
	ck_assert_int_eq(f.after_seq, 7);

	const struct {
		struct mdg_log_args a;
		const char *bad;
	} cases[] = {
		{ { .since = "yesterday" }, "since" },
		{ { .until = "2026-13-01" }, "until" },
		{ { .serial = "xyz" }, "serial" },
		{ { .receipt = "0123" }, "receipt" },
		{ { .reason = "KeyCompromise" }, "reason" },
		{ { .after = "-1" }, "after" },
		{ { .after = "12x" }, "after" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&f, 0, sizeof(f));
		const char *bad = mdg_log_filter_from_args(&cases[i].a, &f, &fb, &expected);
		ck_assert_ptr_nonnull(bad);
		ck_assert_str_eq(bad, cases[i].bad);
		ck_assert_ptr_nonnull(expected);
	}
}
END_TEST

START_TEST(query_filters_and_paging)
{
	struct mdg_store st;
	struct mdg_log_filter f;
	struct collect c;
	unsigned char serial[2] = { 0x0a, 0x03 };

	open_fresh(&st, "query");
	memset(&f, 0, sizeof(f));
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(query(&st, &f, &c), 0);
	fill(&st);

	ck_assert_int_eq(query(&st, &f, &c), 5);
	ck_assert_int_eq(c.seqs[0], 1);
	ck_assert_int_eq(c.seqs[4], 5);
	ck_assert(!c.had_request);
	f.with_request = 1;
	ck_assert_int_eq(query(&st, &f, &c), 5);
	ck_assert(c.had_request);
	f.with_request = 0;

	/* the generated accepted_unix column */
	ck_assert_int_eq(raw_int("SELECT accepted_unix FROM acceptances WHERE seq = 2"), 1795741200);
	ck_assert_int_eq(raw_int("SELECT accepted_unix FROM acceptances WHERE seq = 3"), 1795741200 + 86400);

	/* a JST day, whole: 2026-11-28 holds seq 3 (01:00Z = 10:00 JST) */
	ck_assert_int_eq(mdg_log_time_arg("2026-11-28", 0, &f.since), 0);
	ck_assert_int_eq(mdg_log_time_arg("2026-11-28", 1, &f.until), 0);
	f.has_since = f.has_until = 1;
	ck_assert_int_eq(query(&st, &f, &c), 1);
	ck_assert_int_eq(c.seqs[0], 3);
	/* --until a day includes its last second */
	f.has_since = 0;
	ck_assert_int_eq(mdg_log_time_arg("2026-11-30", 1, &f.until), 0);
	ck_assert_int_eq(query(&st, &f, &c), 5);
	ck_assert_int_eq(mdg_log_time_arg("2026-11-30T23:59:58+09:00", 1, &f.until), 0);
	ck_assert_int_eq(query(&st, &f, &c), 4);
	ck_assert_int_eq(mdg_log_time_arg("2026-11-30T14:59:59Z", 1, &f.until), 0);
	ck_assert_int_eq(query(&st, &f, &c), 5);
	f.has_until = 0;
	ck_assert_int_eq(mdg_log_time_arg("2026-11-27T10:00:00+09:00", 0, &f.since), 0);
	f.has_since = 1;
	ck_assert_int_eq(query(&st, &f, &c), 4);
	ck_assert_int_eq(c.seqs[0], 2);
	f.has_since = 0;

	f.serial = serial;
	f.serial_len = 2;
	ck_assert_int_eq(query(&st, &f, &c), 1);
	ck_assert_int_eq(c.seqs[0], 3);
	f.serial_len = 1;
	ck_assert_int_eq(query(&st, &f, &c), 0);
	f.serial = NULL;
	f.serial_len = 0;

	f.reason = "superseded";
	ck_assert_int_eq(query(&st, &f, &c), 2);
	ck_assert_int_eq(c.seqs[0], 2);
	ck_assert_int_eq(c.seqs[1], 4);
	f.reason = NULL;

	f.issuer = "c=fr";
	ck_assert_int_eq(query(&st, &f, &c), 1);
	ck_assert_int_eq(c.seqs[0], 4);
	f.issuer = "C=JP";
	ck_assert_int_eq(query(&st, &f, &c), 4);
	f.reason = "superseded";
	ck_assert_int_eq(query(&st, &f, &c), 1);
	ck_assert_int_eq(c.seqs[0], 2);
	f.reason = NULL;
	f.issuer = NULL;

	f.receipt_id = "00000000000000000000000000000005";
	ck_assert_int_eq(query(&st, &f, &c), 1);
	ck_assert_int_eq(c.seqs[0], 5);
	f.receipt_id = "00000000000000000000000000000009";
	ck_assert_int_eq(query(&st, &f, &c), 0);
	f.receipt_id = NULL;

	/* paging by seq: stable however the filters are combined */
	f.limit = 2;
	ck_assert_int_eq(query(&st, &f, &c), 2);
	ck_assert_int_eq(c.seqs[1], 2);
	f.after_seq = 2;
	ck_assert_int_eq(query(&st, &f, &c), 2);
	ck_assert_int_eq(c.seqs[0], 3);
	ck_assert_int_eq(c.seqs[1], 4);
	f.after_seq = 4;
	ck_assert_int_eq(query(&st, &f, &c), 1);
	ck_assert_int_eq(c.seqs[0], 5);
	f.after_seq = 5;
	ck_assert_int_eq(query(&st, &f, &c), 0);

	/* the callback stops the walk */
	memset(&f, 0, sizeof(f));
	c.stop_after = 3;
	ck_assert_int_eq(query(&st, &f, &c), 3);
	mdg_store_close(&st);
}
END_TEST

START_TEST(head)
{
	struct mdg_store st;
	struct mdg_log_head h;
	static const unsigned char zero[32];
	sqlite3 *db;
	sqlite3_stmt *s;

	open_fresh(&st, "head");
	ck_assert_int_eq(st.ops->log_head(st.cls, &h), MDG_STORE_OK);
	ck_assert_int_eq(h.count, 0);
	ck_assert_int_eq(h.seq, 0);
	ck_assert_mem_eq(h.hash, zero, 32);
	ck_assert_str_eq(h.accepted_at, "");
	fill(&st);
	ck_assert_int_eq(st.ops->log_head(st.cls, &h), MDG_STORE_OK);
	ck_assert_int_eq(h.count, 5);
	ck_assert_int_eq(h.seq, 5);
	ck_assert_str_eq(h.accepted_at, "2026-11-30T23:59:59+09:00");
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT hash FROM acceptances WHERE seq = 5", -1, &s, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	ck_assert_mem_eq(h.hash, sqlite3_column_blob(s, 0), 32);
	sqlite3_finalize(s);
	sqlite3_close(db);
	mdg_store_close(&st);
}
END_TEST

/* A fresh filled log, tampered with by sql (NULL: untouched), verified. */
static void verify_after(const char *sql, const unsigned char *want, int bad, int64_t bad_seq, const char *what)
{
	struct mdg_store st;
	struct mdg_log_verdict v;

	open_fresh(&st, "verify");
	fill(&st);
	if (sql != NULL)
		raw_exec(sql);
	ck_assert_int_eq(mdg_log_verify(&st, want, &v), MDG_STORE_OK);
	ck_assert_msg(v.bad == bad, "%s: bad=%d (%s)", sql != NULL ? sql : "intact", v.bad, v.what);
	if (bad) {
		ck_assert_int_eq(v.bad_seq, bad_seq);
		ck_assert_msg(strstr(v.what, what) != NULL, "%s: %s", sql, v.what);
	} else {
		ck_assert_int_eq(v.rows, 5);
	}
	mdg_store_close(&st);
}

START_TEST(verify_detects_tampering)
{
	struct mdg_store st;
	struct mdg_log_head h;
	struct mdg_log_verdict v;
	unsigned char want[32];
	static const unsigned char zero[32];

	/* an empty log verifies, with the zero head */
	open_fresh(&st, "empty");
	ck_assert_int_eq(mdg_log_verify(&st, NULL, &v), MDG_STORE_OK);
	ck_assert(!v.bad);
	ck_assert_int_eq(v.rows, 0);
	ck_assert_mem_eq(v.head, zero, 32);
	ck_assert_int_eq(mdg_log_verify(&st, zero, &v), MDG_STORE_OK);
	ck_assert(!v.bad);
	fill(&st);
	ck_assert_int_eq(mdg_log_verify(&st, NULL, &v), MDG_STORE_OK);
	ck_assert(!v.bad);
	ck_assert_int_eq(v.rows, 5);
	ck_assert_int_eq(st.ops->log_head(st.cls, &h), MDG_STORE_OK);
	ck_assert_mem_eq(v.head, h.hash, 32);
	/* the head, an earlier row's hash (the log grew since), no row's */
	ck_assert_int_eq(mdg_log_verify(&st, h.hash, &v), MDG_STORE_OK);
	ck_assert(!v.bad);
	ck_assert_int_eq(v.head_seq, 5);
	raw_exec("DELETE FROM acceptances WHERE seq = 5");
	ck_assert_int_eq(mdg_log_verify(&st, NULL, &v), MDG_STORE_OK);
	ck_assert(!v.bad);
	ck_assert_int_eq(v.rows, 4);
	ck_assert_int_eq(mdg_log_verify(&st, h.hash, &v), MDG_STORE_OK);
	ck_assert(v.bad);
	ck_assert_msg(strstr(v.what, "the log ends elsewhere") != NULL, "%s", v.what);
	memcpy(want, h.hash, 32);
	ck_assert_int_eq(st.ops->log_head(st.cls, &h), MDG_STORE_OK);
	ck_assert_int_eq(h.count, 4);
	raw_exec("DELETE FROM acceptances WHERE seq = 4");
	ck_assert_int_eq(mdg_log_verify(&st, h.hash, &v), MDG_STORE_OK);
	ck_assert(v.bad);
	/* the empty log's head (zeros) is a prefix of every log */
	ck_assert_int_eq(mdg_log_verify(&st, zero, &v), MDG_STORE_OK);
	ck_assert(!v.bad);
	mdg_store_close(&st);

	verify_after(NULL, NULL, 0, 0, NULL);
	verify_after("UPDATE acceptances SET reason = 'unspecified' WHERE seq = 3", NULL, 1, 3, "altered");
	verify_after("UPDATE acceptances SET accepted_at = '2026-11-26T10:00:01+09:00' WHERE seq = 1", NULL, 1, 1,
		     "altered");
	verify_after("UPDATE acceptances SET serial = X'0a09' WHERE seq = 2", NULL, 1, 2, "altered");
	verify_after("UPDATE acceptances SET request = X'300302010a' WHERE seq = 4", NULL, 1, 4, "evidence");
	/* the name is not in the chain, but the evidence is */
	verify_after("UPDATE acceptances SET holder_name = 'x' WHERE seq = 2", NULL, 0, 0, NULL);
	verify_after("DELETE FROM acceptances WHERE seq = 3", NULL, 1, 4, "missing or reordered");
	verify_after("DELETE FROM acceptances WHERE seq = 1", NULL, 1, 2, "starts at seq 2");
	/* renumbered after a delete: the chain still breaks */
	verify_after("DELETE FROM acceptances WHERE seq = 3;"
		     "UPDATE acceptances SET seq = 3 WHERE seq = 4;"
		     "UPDATE acceptances SET seq = 4 WHERE seq = 5",
		     NULL, 1, 3, "prev_hash");
	/* two rows swapped */
	verify_after("UPDATE acceptances SET seq = 100 WHERE seq = 2;"
		     "UPDATE acceptances SET seq = 2 WHERE seq = 3;"
		     "UPDATE acceptances SET seq = 3 WHERE seq = 100",
		     NULL, 1, 2, "prev_hash");
	/* a forged row appended with a made-up hash */
	verify_after("INSERT INTO acceptances (seq, receipt_id, issuer, serial, cert_sha256,"
		     " accepted_at, reason, holder_name, request, request_sha256, client_addr,"
		     " effective_from, prev_hash, hash) SELECT 6, 'forged', issuer, X'01',"
		     " cert_sha256, accepted_at, reason, holder_name, request, request_sha256,"
		     " client_addr, effective_from, hash, hash FROM acceptances WHERE seq = 5",
		     NULL, 1, 6, "altered");
	/* the same rows make the same chain: a head of another log is refused */
	verify_after(NULL, want, 0, 0, NULL);
	want[0] ^= 1;
	verify_after(NULL, want, 1, 0, "the log ends elsewhere");
}
END_TEST

/* A CMS SignedData over form, as the client makes it. */
static unsigned char *make_cms(const char *form, int *len)
{
	struct tp_ca h;
	BIO *in = BIO_new_mem_buf(form, -1);
	CMS_ContentInfo *cms;
	unsigned char *der = NULL;

	tp_ca_make(&h, "holder", -3600, 3600, 0, 7);
	cms = CMS_sign(h.cert, h.key, NULL, in, CMS_BINARY);
	ck_assert_ptr_nonnull(cms);
	*len = i2d_CMS_ContentInfo(cms, &der);
	ck_assert_int_gt(*len, 0);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	tp_ca_free(&h);
	return der;
}

START_TEST(evidence_form)
{
	static const char form[] = "{\"procedure\":\"revocation\",\"applicant\":{\"name\":\"試験\u3000太郎\","
				   "\"address\":\"東京都千代田区霞が関2丁目1番地2号\",\"birthDate\":\"1958-08-10\","
				   "\"gender\":\"男\"},\"nonce\":\"abc\",\"reason\":\"keyCompromise\"}";
	struct mdg_form f;
	unsigned char *der;
	int len;

	der = make_cms(form, &len);
	ck_assert_int_eq(mdg_evidence_form(der, (size_t)len, &f), 0);
	ck_assert_str_eq(f.name, "試験\u3000太郎");
	ck_assert_str_eq(f.address, "東京都千代田区霞が関2丁目1番地2号");
	ck_assert_str_eq(f.birth_date, "1958-08-10");
	ck_assert_int_eq(mdg_evidence_form(der, (size_t)len - 1, &f), -1);
	ck_assert_int_eq(mdg_evidence_form(REQ, sizeof(REQ), &f), -1);
	ck_assert_int_eq(mdg_evidence_form(NULL, 0, &f), -1);
	OPENSSL_free(der);
	der = make_cms("not json", &len);
	ck_assert_int_eq(mdg_evidence_form(der, (size_t)len, &f), -1);
	OPENSSL_free(der);
}
END_TEST

/* Made by tools/embed_schema.py. */
extern const char *const mdg_schema_migrations[];

/* A database of schema version 1 with an acceptance: db migrate makes
 * accepted_unix for it. */
START_TEST(migration_backfills)
{
	struct mdg_store st;
	struct mdg_log_filter f;
	struct collect c;
	sqlite3 *db = NULL;
	const char *base = getenv("MDG_TEST_TMP");
	char dir[3000], err[512];
	int from, to;

	snprintf(dir, sizeof(dir), "%s/acceptlog-XXXXXX", base != NULL ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/v1.db", dir);
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, mdg_schema_migrations[0], NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	raw_exec("INSERT INTO acceptances (seq, receipt_id, issuer, serial, cert_sha256,"
		 " accepted_at, reason, holder_name, request, request_sha256, client_addr,"
		 " effective_from, prev_hash, hash) VALUES (1, 'r', X'3000', X'01', zeroblob(32),"
		 " '2026-11-27T10:00:00+09:00', 'unspecified', 'n', X'00', zeroblob(32), '-',"
		 " '2026-11-28T00:00:00+09:00', zeroblob(32), zeroblob(32))");
	ck_assert_msg(mdg_store_sqlite_migrate(dbpath, &from, &to, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(from, 1);
	ck_assert_int_eq(to, mdg_store_sqlite_schema_version());
	ck_assert_int_ge(to, 2);
	ck_assert_int_eq(raw_int("SELECT accepted_unix FROM acceptances WHERE seq = 1"), 1795741200);
	/* migration 7: the Merkle tree's leaf of the row held */
	ck_assert_int_eq(raw_int("SELECT count(*) FROM merkle_nodes WHERE level = 0 AND idx = 0"), 1);
	ck_assert_msg(mdg_store_sqlite_open(&st, dbpath, err, sizeof(err)) == 0, "%s", err);
	memset(&f, 0, sizeof(f));
	memset(&c, 0, sizeof(c));
	f.has_since = f.has_until = 1;
	f.since = 1795741200;
	f.until = 1795741201;
	ck_assert_int_eq(st.ops->log_query(st.cls, &f, count_row, &c), MDG_STORE_OK);
	ck_assert_int_eq(c.n, 1);
	mdg_store_close(&st);
}
END_TEST

/* log verify's Merkle check reads the rows a chunk (1024) at a time and
 * compares the stored leaves between chunks (tlog.c): past a chunk's end
 * the frontier goes on (the root recomputed from the leaves meets the
 * checkpoint's in the second chunk), and a changed row there is named. */
START_TEST(tree_verify_across_chunks)
{
	enum { N = 1100, CP = 1030, BAD = 1050 };
	struct mdg_store st;
	struct mdg_acceptance_new a;
	struct mdg_acceptance_ref ref;
	struct mdg_checkpoint_row *cp = calloc(1, sizeof(*cp));
	struct mdg_tlog_verdict v;
	unsigned char serial[2];
	char err[256], sql[256];

	ck_assert_ptr_nonnull(cp);
	open_fresh(&st, "chunks");
	memset(&a, 0, sizeof(a));
	a.issuer_der = ISSUER;
	a.issuer_len = sizeof(ISSUER);
	a.serial = serial;
	a.serial_len = 2;
	memset(a.cert_sha256, 0xab, 32);
	snprintf(a.accepted_at, sizeof(a.accepted_at), "2026-11-27T10:00:00+09:00");
	snprintf(a.effective_from, sizeof(a.effective_from), "2026-11-28T00:00:00+09:00");
	a.reason = "keyCompromise";
	a.holder_name = "n";
	a.request_der = REQ;
	a.request_len = sizeof(REQ);
	EVP_Digest(REQ, sizeof(REQ), a.request_sha256, NULL, EVP_sha256(), NULL);
	a.client_addr = "192.0.2.1";
	for (int i = 1; i <= N; i++) {
		serial[0] = (unsigned char)(0x10 | (i >> 8));
		serial[1] = (unsigned char)i;
		snprintf(a.receipt_id, sizeof(a.receipt_id), "%032x", i);
		ck_assert_int_eq(st.ops->insert_acceptance(st.cls, &a, &ref), MDG_STORE_OK);
	}
	cp->size = CP;
	ck_assert_msg(mdg_tlog_root(&st, CP, cp->root, err, sizeof(err)) == 0, "%s", err);
	cp->note_len = (size_t)snprintf(cp->note, sizeof(cp->note), "test\n%d\n", CP);
	ck_assert_int_eq(st.ops->checkpoint_insert(st.cls, cp), MDG_STORE_OK);
	ck_assert_int_eq(mdg_tlog_verify(&st, NULL, &v), MDG_STORE_OK);
	ck_assert_msg(!v.bad, "%s", v.what);
	ck_assert_int_eq(v.rows, N);
	ck_assert_int_eq(v.have_checkpoint, 1);
	/* another root at that size: refused (the stored nodes' root) */
	mdg_store_close(&st);
	raw_exec("UPDATE checkpoints SET root = zeroblob(32)");
	ck_assert_msg(mdg_store_sqlite_open(&st, dbpath, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(mdg_tlog_verify(&st, NULL, &v), MDG_STORE_OK);
	ck_assert_int_eq(v.bad, 1);
	ck_assert_ptr_nonnull(strstr(v.what, "stored Merkle tree's root at size 1030"));
	mdg_store_close(&st);
	raw_exec("DELETE FROM checkpoints");
	snprintf(sql, sizeof(sql), "UPDATE acceptances SET effective_from = '2099-01-01T00:00:00+09:00' WHERE seq = %d",
		 BAD);
	raw_exec(sql);
	ck_assert_msg(mdg_store_sqlite_open(&st, dbpath, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(mdg_tlog_verify(&st, NULL, &v), MDG_STORE_OK);
	ck_assert_int_eq(v.bad, 1);
	ck_assert_int_eq(v.bad_seq, BAD);
	snprintf(sql, sizeof(sql), "receipt %032x: the row does not give the leaf", BAD);
	ck_assert_msg(strstr(v.what, sql) != NULL, "%s", v.what);
	mdg_store_close(&st);
	free(cp);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("acceptlog");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, time_args);
	tcase_add_test(tc, hex_and_names);
	tcase_add_test(tc, filter_from_args);
	tcase_add_test(tc, query_filters_and_paging);
	tcase_add_test(tc, head);
	tcase_add_test(tc, verify_detects_tampering);
	tcase_add_test(tc, evidence_form);
	tcase_add_test(tc, migration_backfills);
	tcase_add_test(tc, tree_verify_across_chunks);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
