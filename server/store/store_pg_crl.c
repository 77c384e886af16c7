/* The PostgreSQL backend's CRLs: look-ups, scopes, import and retire.
 * Each import writes a fresh generation of the scope's entries
 * (schema/pg/003_crl_generations.sql): one COPY ... FROM STDIN in binary
 * format (a large generation into its own unindexed partition, then its
 * primary key), then the crls row switched to it and the old one retired,
 * all in one transaction; the sweep after the COMMIT removes the retired. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <libpq-fe.h>

#include "crl_supersede.h"
#include "names.h"
#include "store.h"
#include "store_pg_int.h"

static const char copy_sql[] = "COPY crl_entries (crl_id, gen, serial, revoked_at, reason) FROM STDIN (FORMAT binary)";

enum mdg_store_status mdg_pg_crl_lookup(struct pg *q, const unsigned char *issuer, size_t issuer_len,
					const unsigned char *serial, size_t serial_len, int *revoked)
{
	const char *vals[2] = { (const char *)issuer, (const char *)serial };
	int lens[2] = { (int)issuer_len, (int)serial_len }, fmts[2] = { 1, 1 };

	if (issuer_len > 65536 || serial_len > MDG_SERIAL_MAX)
		return MDG_STORE_ERROR;
	if (serial_len == 0)
		vals[1] = "";
	switch (pg_exec(q, PS_CRL_LOOKUP, 2, vals, lens, fmts, NULL)) {
	case QS_ONE:
		*revoked = 1;
		return MDG_STORE_OK;
	case QS_NONE:
		*revoked = 0;
		return MDG_STORE_OK;
	default:
		return MDG_STORE_ERROR;
	}
}

/* Row 0 of PS_CRL_SCOPE into *out (sha256 too if non-NULL). */
static enum mdg_store_status read_scope(const PGresult *r, struct mdg_crl_scope *out, unsigned char *sha256)
{
	int n = PQgetlength(r, 0, 1);

	memset(out, 0, sizeof(*out));
	out->id = pg_get_i64(r, 0, 0);
	if (n < 0 || (size_t)n > sizeof(out->number))
		return MDG_STORE_ERROR;
	memcpy(out->number, PQgetvalue(r, 0, 1), (size_t)n);
	out->number_len = (size_t)n;
	out->this_update = (time_t)pg_get_i64(r, 0, 2);
	out->next_update = (time_t)pg_get_i64(r, 0, 3);
	out->imported_at = (time_t)pg_get_i64(r, 0, 4);
	out->entries = pg_get_i64(r, 0, 5);
	if (!pg_is_null(r, 0, 7))
		out->retired_at = (time_t)pg_get_i64(r, 0, 7);
	if (sha256 != NULL) {
		if (PQgetlength(r, 0, 6) != 32)
			return MDG_STORE_ERROR;
		memcpy(sha256, PQgetvalue(r, 0, 6), 32);
	}
	return MDG_STORE_OK;
}

static enum mdg_store_status scope_query(struct pg *q, const unsigned char *issuer, size_t issuer_len,
					 const unsigned char *key, size_t key_len, struct mdg_crl_scope *out,
					 unsigned char *sha256)
{
	const char *vals[2] = { (const char *)issuer, key != NULL ? (const char *)key : NULL };
	int lens[2] = { (int)issuer_len, (int)key_len }, fmts[2] = { 1, 1 };
	PGresult *r;
	enum mdg_store_status s = MDG_STORE_ERROR;

	if (issuer_len > 65536 || key_len > 65536)
		return MDG_STORE_ERROR;
	switch (pg_exec(q, PS_CRL_SCOPE, 2, vals, lens, fmts, &r)) {
	case QS_NONE:
		s = MDG_STORE_NOT_FOUND;
		break;
	case QS_ONE:
		s = read_scope(r, out, sha256);
		break;
	default:
		break;
	}
	PQclear(r);
	return s;
}

enum mdg_store_status mdg_pg_crl_scope(struct pg *q, const unsigned char *issuer, size_t issuer_len,
				       const unsigned char *dp, size_t dp_len, struct mdg_crl_scope *out)
{
	enum mdg_store_status s = scope_query(q, issuer, issuer_len, dp, dp_len, out, NULL);

	/* a retired scope covers nothing (its entries still count for crl_lookup) */
	if (s == MDG_STORE_OK && out->retired_at != 0)
		s = MDG_STORE_NOT_FOUND;
	return s;
}

enum mdg_store_status mdg_pg_list_crls(struct pg *q, int (*fn)(void *arg, const struct mdg_crl_scope *s), void *arg)
{
	static const unsigned char empty[1];
	struct mdg_crl_scope sc;
	PGresult *r;
	enum pg_qs qs = pg_exec(q, PS_CRL_LIST, 0, NULL, NULL, NULL, &r);
	enum mdg_store_status s = MDG_STORE_ERROR;
	int i, n;

	if (qs != QS_ONE && qs != QS_NONE)
		return MDG_STORE_ERROR;
	for (i = 0; i < PQntuples(r); i++) {
		memset(&sc, 0, sizeof(sc));
		sc.id = pg_get_i64(r, i, 0);
		sc.issuer_der = (const unsigned char *)PQgetvalue(r, i, 1);
		sc.issuer_len = (size_t)PQgetlength(r, i, 1);
		if (!pg_is_null(r, i, 2)) {
			sc.dp_der = (const unsigned char *)PQgetvalue(r, i, 2);
			sc.dp_len = (size_t)PQgetlength(r, i, 2);
			if (sc.dp_der == NULL)
				sc.dp_der = empty;
		}
		n = PQgetlength(r, i, 3);
		if (n < 0 || (size_t)n > sizeof(sc.number))
			goto out;
		memcpy(sc.number, PQgetvalue(r, i, 3), (size_t)n);
		sc.number_len = (size_t)n;
		sc.this_update = (time_t)pg_get_i64(r, i, 4);
		sc.next_update = (time_t)pg_get_i64(r, i, 5);
		sc.imported_at = (time_t)pg_get_i64(r, i, 6);
		sc.entries = pg_get_i64(r, i, 7);
		if (!pg_is_null(r, i, 8))
			sc.retired_at = (time_t)pg_get_i64(r, i, 8);
		if (fn(arg, &sc) != 0)
			break;
	}
	s = MDG_STORE_OK;
out:
	PQclear(r);
	return s;
}

static int entry_cmp(const void *x, const void *y)
{
	const struct mdg_crl_entry *a = *(const struct mdg_crl_entry *const *)x;
	const struct mdg_crl_entry *b = *(const struct mdg_crl_entry *const *)y;
	size_t n = a->serial_len < b->serial_len ? a->serial_len : b->serial_len;
	int c = n ? memcmp(a->serial, b->serial, n) : 0;

	if (c != 0)
		return c;
	return (a->serial_len > b->serial_len) - (a->serial_len < b->serial_len);
}

/* The entries in key order with a serial listed twice kept once (the first):
 * COPY has no ON CONFLICT. Returns the count, or -1 (no memory). */
static long long dedup_entries(const struct mdg_crl_entry *e, size_t n, const struct mdg_crl_entry ***out)
{
	const struct mdg_crl_entry **v;
	size_t i, k = 0;
	int sorted = 1;

	*out = NULL;
	if (n == 0)
		return 0;
	if ((v = malloc(n * sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		v[i] = &e[i];
		if (i > 0 && sorted && entry_cmp(&v[i - 1], &v[i]) > 0)
			sorted = 0;
	}
	if (!sorted)
		qsort(v, n, sizeof(*v), entry_cmp);
	for (i = 0; i < n; i++)
		if (k == 0 || entry_cmp(&v[k - 1], &v[i]) != 0)
			v[k++] = v[i];
	*out = v;
	return (long long)k;
}

static void put16(unsigned char *p, int v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, int32_t v)
{
	uint32_t u = (uint32_t)v;

	p[0] = (unsigned char)(u >> 24);
	p[1] = (unsigned char)(u >> 16);
	p[2] = (unsigned char)(u >> 8);
	p[3] = (unsigned char)u;
}

/* The entries of crl id, generation gen, by one COPY in binary format,
 * sent in ~256 KiB pieces: 0, or -1 (the message noted). */
static int copy_entries(struct pg *q, int64_t id, int64_t gen, const struct mdg_crl_entry *const *v, size_t n)
{
	static const unsigned char header[19] = { 'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0 };
	enum { CAP = 1 << 18, ROW_MAX = 2 + 4 + 8 + 4 + 8 + 4 + MDG_SERIAL_MAX + 4 + 8 + 4 + 2 + 2 };
	unsigned char *buf, *p;
	PGresult *r;
	size_t i;
	int rc = -1, ok = 1;

	r = PQexec(q->conn, copy_sql);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		(void)pg_classify(q, r);
		PQclear(r);
		return -1;
	}
	PQclear(r);
	if ((buf = malloc(CAP)) == NULL) {
		PQputCopyEnd(q->conn, "out of memory");
		goto end;
	}
	memcpy(buf, header, sizeof(header)); /* signature, flags 0, extension 0 */
	p = buf + sizeof(header);
	for (i = 0; i < n && ok; i++) {
		const struct mdg_crl_entry *e = v[i];

		if ((size_t)(p - buf) + ROW_MAX > CAP) {
			ok = PQputCopyData(q->conn, (const char *)buf, (int)(p - buf)) == 1;
			p = buf;
		}
		put16(p, 5);
		put32(p + 2, 8);
		pg_put_i64(p + 6, id);
		put32(p + 14, 8);
		pg_put_i64(p + 18, gen);
		put32(p + 26, (int32_t)e->serial_len);
		memcpy(p + 30, e->serial, e->serial_len);
		p += 30 + e->serial_len;
		put32(p, 8);
		pg_put_i64(p + 4, (int64_t)e->revoked_at);
		p += 12;
		if (e->reason >= 0) {
			put32(p, 2);
			put16(p + 4, e->reason);
			p += 6;
		} else {
			put32(p, -1);
			p += 4;
		}
	}
	put16(p, -1); /* the trailer */
	p += 2;
	if (ok)
		ok = PQputCopyData(q->conn, (const char *)buf, (int)(p - buf)) == 1;
	free(buf);
	if (PQputCopyEnd(q->conn, ok ? NULL : "sending the entries failed") != 1)
		ok = 0;
end:
	rc = 0;
	while ((r = PQgetResult(q->conn)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			(void)pg_classify(q, r);
			rc = -1;
		}
		PQclear(r);
	}
	if (!ok)
		rc = -1;
	return rc;
}

/* Inside the caller's transaction: a new generation (a large one's own
 * partition), the n entries of crl id into it by COPY, then (a large one)
 * its primary key. *gen is the generation: 0, or -1 (the message noted). */
static int write_generation(struct pg *q, int64_t id, const struct mdg_crl_entry *const *v, size_t n, int64_t *gen)
{
	unsigned char b_gen[8];
	const char *vals[1] = { (const char *)b_gen };
	int lens[1] = { 8 }, fmts[1] = { 1 };
	PGresult *r;

	pg_put_i64(b_gen, (int64_t)n);
	if (pg_exec(q, PS_CRL_GEN_NEW, 1, vals, lens, fmts, &r) != QS_ONE || PQgetlength(r, 0, 0) != 8) {
		PQclear(r);
		return -1;
	}
	*gen = pg_get_i64(r, 0, 0);
	PQclear(r);
	if (copy_entries(q, id, *gen, v, n) == -1)
		return -1;
	pg_put_i64(b_gen, *gen);
	return pg_exec(q, PS_CRL_GEN_SEAL, 1, vals, lens, fmts, NULL) == QS_ONE ? 0 : -1;
}

/* After a COMMIT: the generations retired are removed. A failure leaves
 * them retired, for the next sweep: not an error (the import committed). */
static void sweep_generations(struct pg *q)
{
	(void)pg_exec(q, PS_CRL_SWEEP, 0, NULL, NULL, NULL, NULL);
	q->pending[0] = '\0';
}

enum mdg_store_status mdg_pg_crl_import(struct pg *q, const struct mdg_crl_import *c, time_t now,
					enum mdg_crl_import_outcome *outcome, char *msg, size_t msglen)
{
	struct mdg_crl_scope held;
	unsigned char held_sha[32], b_id[8], b_tu[8], b_nu[8], b_now[8], b_cnt[8], b_gen[8];
	enum mdg_store_status s = MDG_STORE_ERROR, f;
	const struct mdg_crl_entry **order = NULL;
	const unsigned char *key;
	unsigned char *own_key = NULL;
	PGresult *r = NULL;
	long long count;
	int64_t id, gen = 0;
	size_t key_len;

	snprintf(msg, msglen, "database error");
	if (c->issuer_der == NULL || c->issuer_len == 0 || c->number_len > MDG_CRLNUM_MAX ||
	    (c->n_entries > 0 && c->entries == NULL) || (c->dp_der == NULL && c->dp_key != NULL)) {
		snprintf(msg, msglen, "invalid CRL import (internal error)");
		return MDG_STORE_ERROR;
	}
	for (size_t i = 0; i < c->n_entries; i++)
		if (c->entries[i].serial_len > MDG_SERIAL_MAX) {
			snprintf(msg, msglen, "invalid CRL import: a serial is too long");
			return MDG_STORE_ERROR;
		}
	key = c->dp_key;
	key_len = c->dp_key_len;
	if (c->dp_der != NULL && key == NULL) {
		if (mdg_der_name_canon(c->dp_der, c->dp_len, &own_key, &key_len) == -1) {
			snprintf(msg, msglen, "invalid CRL import: the distribution point is no name");
			return MDG_STORE_ERROR;
		}
		key = own_key;
	}
	if ((count = dedup_entries(c->entries, c->n_entries, &order)) < 0) {
		snprintf(msg, msglen, "out of memory");
		goto out;
	}
	if (pg_begin(q) == -1 || pg_exec(q, PS_CRL_SCOPE_LOCK, 0, NULL, NULL, NULL, NULL) != QS_ONE)
		goto out;
	f = scope_query(q, c->issuer_der, c->issuer_len, key, key_len, &held, held_sha);
	if (f == MDG_STORE_ERROR)
		goto out;
	pg_put_i64(b_tu, (int64_t)c->this_update);
	pg_put_i64(b_nu, (int64_t)c->next_update);
	pg_put_i64(b_now, (int64_t)now);
	if (f == MDG_STORE_OK) {
		switch (mdg_crl_supersedes(c, &held, held_sha, msg, msglen)) {
		case MDG_CRL_SAME:
			*outcome = MDG_CRL_UNCHANGED;
			s = MDG_STORE_OK;
			goto out;
		case MDG_CRL_NOT_NEWER:
			s = MDG_STORE_REFUSED;
			goto out;
		case MDG_CRL_SUPERSEDES:
			break;
		}
		/* the held generation stays, and stays the one looked up, until
		 * the COMMIT; retired with the switch, the sweep removes it */
		id = held.id;
		pg_put_i64(b_id, id);
		{
			const char *vals[1] = { (const char *)b_id };
			int lens[1] = { 8 }, fmts[1] = { 1 };

			if (pg_exec(q, PS_CRL_GEN_RETIRE, 1, vals, lens, fmts, NULL) != QS_NONE)
				goto out;
		}
	} else {
		const char *vals[8] = { (const char *)c->issuer_der, (const char *)c->dp_der, (const char *)c->number,
					(const char *)b_tu,          (const char *)b_nu,      (const char *)b_now,
					(const char *)c->sha256,     (const char *)key };
		int lens[8] = { (int)c->issuer_len, (int)c->dp_len, (int)c->number_len, 8, 8, 8, 32, (int)key_len };
		int fmts[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };

		if (c->number_len == 0)
			vals[2] = "";
		if (pg_exec(q, PS_CRL_INSERT, 8, vals, lens, fmts, &r) != QS_ONE)
			goto out;
		id = pg_get_i64(r, 0, 0);
		PQclear(r);
		r = NULL;
	}
	if (count > 0 && write_generation(q, id, order, (size_t)count, &gen) == -1)
		goto out;
	pg_put_i64(b_id, id);
	pg_put_i64(b_cnt, count);
	pg_put_i64(b_gen, gen);
	{
		/* the switch to the new generation (none: no entries) */
		const char *vals[9] = {
			(const char *)b_id,  (const char *)c->number, (const char *)b_tu,
			(const char *)b_nu,  (const char *)b_now,     (const char *)c->sha256,
			(const char *)b_cnt, (const char *)c->dp_der, count > 0 ? (const char *)b_gen : NULL
		};
		int lens[9] = { 8, (int)c->number_len, 8, 8, 8, 32, 8, (int)c->dp_len, 8 };
		int fmts[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };

		if (c->number_len == 0)
			vals[1] = "";
		if (pg_exec(q, PS_CRL_UPDATE, 9, vals, lens, fmts, &r) != QS_NONE || strcmp(PQcmdTuples(r), "1") != 0)
			goto out;
	}
	if (pg_commit(q) == -1)
		goto out;
	sweep_generations(q);
	*outcome = MDG_CRL_IMPORTED;
	snprintf(msg, msglen, "imported");
	s = MDG_STORE_OK;
out:
	if (s == MDG_STORE_ERROR && strcmp(msg, "database error") == 0)
		snprintf(msg, msglen, "database error: %s",
			 q->pending[0] != '\0' ? q->pending : "the statement failed");
	PQclear(r);
	pg_rollback(q);
	free(order);
	OPENSSL_free(own_key);
	return s;
}

enum mdg_store_status mdg_pg_crl_retire(struct pg *q, int64_t id, time_t now)
{
	unsigned char b_id[8], b_now[8];
	const char *vals[2] = { (const char *)b_id, (const char *)b_now };
	int lens[2] = { 8, 8 }, fmts[2] = { 1, 1 };
	PGresult *r;
	enum mdg_store_status s = MDG_STORE_ERROR;

	pg_put_i64(b_id, id);
	pg_put_i64(b_now, (int64_t)now);
	if (pg_exec(q, PS_CRL_RETIRE, 2, vals, lens, fmts, &r) == QS_NONE)
		s = strcmp(PQcmdTuples(r), "1") == 0 ? MDG_STORE_OK : MDG_STORE_NOT_FOUND;
	PQclear(r);
	return s;
}

int mdg_pg_copy_entries(struct pg *q, int64_t id, const struct mdg_crl_entry *e, size_t n)
{
	const struct mdg_crl_entry **v = NULL;
	long long k = dedup_entries(e, n, &v);
	unsigned char b_id[8], b_gen[8];
	const char *vals[2] = { (const char *)b_id, (const char *)b_gen };
	int lens[2] = { 8, 8 }, fmts[2] = { 1, 1 }, rc = 0;
	int64_t gen = 0;
	PGresult *r = NULL;

	if (k < 0) {
		snprintf(q->pending, sizeof(q->pending), "out of memory");
		return -1;
	}
	/* the copied scope's one generation (none: no entries) */
	if (k > 0) {
		rc = write_generation(q, id, v, (size_t)k, &gen);
		pg_put_i64(b_id, id);
		pg_put_i64(b_gen, gen);
		if (rc == 0 && (pg_exec(q, PS_CRL_SET_GEN, 2, vals, lens, fmts, &r) != QS_NONE ||
				strcmp(PQcmdTuples(r), "1") != 0))
			rc = -1;
		PQclear(r);
	}
	free(v);
	return rc;
}
