/* mkcrl: large CRLs for the benchmark.
 *
 *   mkcrl crl --ca-cert CA.cert.pem --ca-key CA.key.pem --count N --number NUM --out FILE
 *     writes a v2 full CRL (DER) of the CA with N entries (serials 0x5A00..
 *     counting up, 9 bytes), cRLNumber NUM, AKI = the CA's SKI, thisUpdate
 *     now-1h, nextUpdate now+23h, signed with SHA-256: a CRL that
 *     `madoguchi-admin crl import` accepts.
 *   mkcrl fill --db DB --crl-id ID --count N [--first I]
 *     adds N entries (serials numbered from I) straight into crl_entries of the held CRL ID (one
 *     transaction), for table sizes whose CRL would not fit OpenSSL's
 *     in-memory parse (10 million entries).
 *   mkcrl lookup --db DB --crl-id ID --count N [--first F]
 *     times N look-ups through the store's own crl_lookup (server/store/store.h),
 *     alternating serials that are held (the F, default: the CRL's entry
 *     count, that fill numbered from 0) and serials that are not; prints
 *     one JSON line (microseconds per look-up).
 *   mkcrl import --config FILE --count N --number NUM
 *     times the store's own crl_import (through the door, any [store]
 *     backend) of a scope "CN=mkcrl bench" with N entries as crl.c hands
 *     them over, cRLNumber NUM (a higher one replaces the scope); prints
 *     one JSON line (entries per second). No CRL is parsed: this is the
 *     store's part of `crl import` alone. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sqlite3.h>

#include "config.h"
#include "store.h"

static int usage(void)
{
	fputs("usage: mkcrl crl --ca-cert CA.cert.pem --ca-key CA.key.pem --count N --number NUM --out FILE\n"
	      "       mkcrl fill --db DB --crl-id ID --count N [--first I]\n"
	      "       mkcrl lookup --db DB --crl-id ID --count N [--first FILLED]\n"
	      "       mkcrl import --config FILE --count N --number NUM\n",
	      stderr);
	return 2;
}

static void serial_of(uint64_t i, unsigned char out[9])
{
	out[0] = 0x5a;
	for (int k = 0; k < 8; k++)
		out[8 - k] = (unsigned char)(i >> (8 * k));
}

static int make_crl(const char *cacertp, const char *cakeyp, long count, long number, const char *outp)
{
	BIO *b = NULL;
	X509 *ca = NULL;
	EVP_PKEY *key = NULL;
	X509_CRL *crl = NULL;
	ASN1_TIME *tm = NULL, *rev_tm = NULL;
	ASN1_INTEGER *num = NULL;
	AUTHORITY_KEYID *akid = NULL;
	time_t now = time(NULL);
	int rc = 1;

	if ((b = BIO_new_file(cacertp, "r")) == NULL || (ca = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
		goto out;
	BIO_free(b);
	if ((b = BIO_new_file(cakeyp, "r")) == NULL || (key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL)
		goto out;
	BIO_free(b);
	b = NULL;
	if ((crl = X509_CRL_new()) == NULL || !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)))
		goto out;
	if ((tm = ASN1_TIME_adj(NULL, now, 0, -3600)) == NULL || !X509_CRL_set1_lastUpdate(crl, tm) ||
	    ASN1_TIME_adj(tm, now, 0, 23 * 3600) == NULL || !X509_CRL_set1_nextUpdate(crl, tm))
		goto out;
	if ((rev_tm = ASN1_TIME_adj(NULL, now, 0, -7200)) == NULL)
		goto out;
	if ((num = ASN1_INTEGER_new()) == NULL || !ASN1_INTEGER_set(num, number) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0))
		goto out;
	if (X509_get0_subject_key_id(ca) != NULL) {
		if ((akid = AUTHORITY_KEYID_new()) == NULL ||
		    (akid->keyid = ASN1_OCTET_STRING_dup(X509_get0_subject_key_id(ca))) == NULL ||
		    !X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, 0))
			goto out;
	}
	for (long i = 0; i < count; i++) {
		unsigned char s[9];
		X509_REVOKED *r = X509_REVOKED_new();
		BIGNUM *bn;
		ASN1_INTEGER *ai = NULL;

		serial_of((uint64_t)i, s);
		if (r == NULL || (bn = BN_bin2bn(s, sizeof(s), NULL)) == NULL) {
			X509_REVOKED_free(r);
			goto out;
		}
		ai = BN_to_ASN1_INTEGER(bn, NULL);
		BN_free(bn);
		if (ai == NULL || !X509_REVOKED_set_serialNumber(r, ai) ||
		    !X509_REVOKED_set_revocationDate(r, rev_tm) || !X509_CRL_add0_revoked(crl, r)) {
			ASN1_INTEGER_free(ai);
			X509_REVOKED_free(r);
			goto out;
		}
		ASN1_INTEGER_free(ai);
	}
	if (X509_CRL_sign(crl, key, EVP_sha256()) <= 0)
		goto out;
	if ((b = BIO_new_file(outp, "wb")) == NULL || i2d_X509_CRL_bio(b, crl) <= 0)
		goto out;
	rc = 0;
out:
	if (rc != 0) {
		fprintf(stderr, "mkcrl: cannot make the CRL\n");
		ERR_print_errors_fp(stderr);
	}
	BIO_free(b);
	X509_free(ca);
	EVP_PKEY_free(key);
	X509_CRL_free(crl);
	ASN1_TIME_free(tm);
	ASN1_TIME_free(rev_tm);
	ASN1_INTEGER_free(num);
	AUTHORITY_KEYID_free(akid);
	return rc;
}

static int fill(const char *dbp, long id, long count, long first)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *ins = NULL, *upd = NULL;
	time_t now = time(NULL);
	int rc = 1;

	if (sqlite3_open_v2(dbp, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(db, 10000);
	if (sqlite3_exec(db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144; "
			 "BEGIN IMMEDIATE",
			 NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_prepare_v2(db,
			       "INSERT OR IGNORE INTO crl_entries (crl_id, serial, revoked_at, reason)"
			       " VALUES (?1, ?2, ?3, NULL)",
			       -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "UPDATE crls SET entries = entries + ?2 WHERE id = ?1", -1, &upd, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(ins, 1, id);
	sqlite3_bind_int64(ins, 3, (sqlite3_int64)now - 7200);
	for (long i = 0; i < count; i++) {
		unsigned char s[9];
		serial_of((uint64_t)(first + i), s);
		sqlite3_bind_blob(ins, 2, s, sizeof(s), SQLITE_TRANSIENT);
		if (sqlite3_step(ins) != SQLITE_DONE)
			goto out;
		sqlite3_reset(ins);
	}
	sqlite3_bind_int64(upd, 1, id);
	sqlite3_bind_int64(upd, 2, count);
	if (sqlite3_step(upd) != SQLITE_DONE || sqlite3_changes(db) != 1)
		goto out;
	if (sqlite3_exec(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "mkcrl fill: %s\n", db ? sqlite3_errmsg(db) : "cannot open");
	sqlite3_finalize(ins);
	sqlite3_finalize(upd);
	sqlite3_close(db);
	return rc;
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int lookup(const char *dbp, long id, long count, long filled)
{
	struct mdg_store st = { 0 };
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	unsigned char issuer[1024];
	int issuer_len = 0, rc = 1, revoked;
	long held = 0, entries = 0;
	char err[512];
	struct mdg_config cfg;

	/* the issuer and size of the held CRL, read behind the interface */
	if (sqlite3_open_v2(dbp, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT issuer, entries FROM crls WHERE id = ?1", -1, &q, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(q, 1, id);
	if (sqlite3_step(q) != SQLITE_ROW || (issuer_len = sqlite3_column_bytes(q, 0)) <= 0 ||
	    issuer_len > (int)sizeof(issuer))
		goto out;
	memcpy(issuer, sqlite3_column_blob(q, 0), (size_t)issuer_len);
	entries = (long)sqlite3_column_int64(q, 1);
	if (filled < 0)
		filled = entries;
	mdg_config_defaults(&cfg);
	if (snprintf(cfg.database, sizeof(cfg.database), "%s", dbp) >= (int)sizeof(cfg.database) ||
	    mdg_store_open(&st, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "mkcrl lookup: %s\n", err);
		goto out;
	}
	uint64_t x = 88172645463325252u;
	double c0 = cpu_now(), w0 = wall_now();
	for (long i = 0; i < count; i++) {
		unsigned char s[9];
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* odd look-ups: a serial beyond the filled range (not held) */
		serial_of(filled > 0 ? x % (uint64_t)filled + (uint64_t)((i & 1) ? filled : 0) : x, s);
		if (st.ops->crl_lookup(st.cls, issuer, (size_t)issuer_len, s, sizeof(s), &revoked) != MDG_STORE_OK)
			goto out;
		held += revoked;
	}
	double cpu = cpu_now() - c0, wall = wall_now() - w0;
	printf("{\"lookups\":%ld,\"held\":%ld,\"entries\":%ld,\"cpu_us\":%.2f,\"wall_us\":%.2f}\n", count, held,
	       entries, cpu * 1e6 / (double)count, wall * 1e6 / (double)count);
	rc = 0;
out:
	if (rc != 0 && db != NULL)
		fprintf(stderr, "mkcrl lookup: %s\n", sqlite3_errmsg(db));
	mdg_store_close(&st);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return rc;
}

static int import_bench(const char *conf, long count, long number)
{
	struct mdg_config cfg;
	struct mdg_store st = { 0 };
	struct mdg_crl_import c;
	struct mdg_crl_entry *e = NULL;
	enum mdg_crl_import_outcome outcome;
	X509_NAME *name = NULL;
	unsigned char *der = NULL;
	char err[512], msg[512];
	time_t now = time(NULL);
	int der_len, rc = 1;

	mdg_config_defaults(&cfg);
	if (mdg_config_load(&cfg, conf, err, sizeof(err)) != 0 || mdg_store_open(&st, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "mkcrl import: %s\n", err);
		return 1;
	}
	if ((name = X509_NAME_new()) == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)"mkcrl bench", -1, -1, 0) ||
	    (der_len = i2d_X509_NAME(name, &der)) <= 0 || (e = calloc((size_t)count + 1, sizeof(*e))) == NULL)
		goto out;
	for (long i = 0; i < count; i++) {
		serial_of((uint64_t)i, e[i].serial);
		e[i].serial_len = 9;
		e[i].revoked_at = now - 7200;
		e[i].reason = i % 3 == 0 ? 1 : -1;
	}
	memset(&c, 0, sizeof(c));
	c.issuer_der = der;
	c.issuer_len = (size_t)der_len;
	c.number[0] = (unsigned char)(number >> 24);
	c.number[1] = (unsigned char)(number >> 16);
	c.number[2] = (unsigned char)(number >> 8);
	c.number[3] = (unsigned char)number;
	c.number_len = 4;
	c.this_update = now - 3600;
	c.next_update = now + 23 * 3600;
	c.sha256[0] = (unsigned char)number;
	c.entries = e;
	c.n_entries = (size_t)count;
	double w0 = wall_now();
	if (st.ops->crl_import(st.cls, &c, now, &outcome, msg, sizeof(msg)) != MDG_STORE_OK) {
		fprintf(stderr, "mkcrl import: %s (%s)\n", msg, mdg_store_error(&st));
		goto out;
	}
	double wall = wall_now() - w0;
	printf("{\"backend\":\"%s\",\"entries\":%ld,\"seconds\":%.3f,\"entries_per_s\":%.0f,\"outcome\":\"%s\"}\n",
	       cfg.store_backend[0] ? cfg.store_backend : "sqlite", count, wall, wall > 0 ? (double)count / wall : 0.0,
	       msg);
	rc = 0;
out:
	mdg_store_close(&st);
	X509_NAME_free(name);
	OPENSSL_free(der);
	free(e);
	return rc;
}

int main(int argc, char **argv)
{
	const char *cacert = NULL, *cakey = NULL, *out = NULL, *db = NULL, *conf = NULL;
	long count = -1, number = -1, id = -1, first = 0;

	if (argc < 2 || argc % 2 != 0)
		return usage();
	for (int i = 2; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];
		if (!strcmp(a, "--ca-cert"))
			cacert = v;
		else if (!strcmp(a, "--ca-key"))
			cakey = v;
		else if (!strcmp(a, "--out"))
			out = v;
		else if (!strcmp(a, "--db"))
			db = v;
		else if (!strcmp(a, "--config"))
			conf = v;
		else if (!strcmp(a, "--count"))
			count = atol(v);
		else if (!strcmp(a, "--number"))
			number = atol(v);
		else if (!strcmp(a, "--first"))
			first = atol(v);
		else if (!strcmp(a, "--crl-id"))
			id = atol(v);
		else
			return usage();
	}
	if (!strcmp(argv[1], "crl") && cacert && cakey && out && count >= 0 && number >= 0)
		return make_crl(cacert, cakey, count, number, out);
	if (!strcmp(argv[1], "lookup") && db && id >= 0 && count > 0)
		return lookup(db, id, count, first > 0 ? first : -1);
	if (!strcmp(argv[1], "import") && conf && count >= 0 && number > 0)
		return import_bench(conf, count, number);
	if (!strcmp(argv[1], "fill") && db && id >= 0 && count >= 0 && first >= 0)
		return fill(db, id, count, first);
	return usage();
}
