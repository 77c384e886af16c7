/* The SQLite backend's CRLs: look-ups, scopes, import and retire. */
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

#include "crl_supersede.h"
#include "names.h"
#include "store.h"
#include "store_sqlite_int.h"

enum mdg_store_status mdg_sqlite_crl_lookup(void *cls, const unsigned char *issuer, size_t issuer_len,
					    const unsigned char *serial, size_t serial_len, int *revoked)
{
	struct sq *q = cls;
	sqlite3_stmt *st = q->st[ST_CRL_LOOKUP];
	enum mdg_store_status s = MDG_STORE_ERROR;
	int rc;

	if (bind_blob(st, 1, issuer, issuer_len) != SQLITE_OK || bind_blob(st, 2, serial, serial_len) != SQLITE_OK)
		goto out;
	rc = first_step(st);
	if (rc == SQLITE_ROW)
		*revoked = 1;
	else if (rc == SQLITE_DONE)
		*revoked = 0;
	else
		goto out;
	s = MDG_STORE_OK;
out:
	done(st);
	return s;
}

int bind_dp(sqlite3_stmt *st, int i, const unsigned char *dp, size_t dp_len)
{
	if (dp == NULL)
		return sqlite3_bind_null(st, i);
	return bind_blob(st, i, dp, dp_len);
}

/* Steps ST_CRL_SCOPE (bound by the caller) and reads its row. With sha256
 * non-NULL also returns the held CRL's SHA-256. */
static enum mdg_store_status read_scope(struct sq *q, struct mdg_crl_scope *out, unsigned char *sha256)
{
	sqlite3_stmt *st = q->st[ST_CRL_SCOPE];
	int rc = first_step(st), n;

	if (rc == SQLITE_DONE)
		return MDG_STORE_NOT_FOUND;
	if (rc != SQLITE_ROW)
		return MDG_STORE_ERROR;
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	n = sqlite3_column_bytes(st, 1);
	if (n < 0 || (size_t)n > sizeof(out->number))
		return MDG_STORE_ERROR;
	if (n > 0)
		memcpy(out->number, sqlite3_column_blob(st, 1), (size_t)n);
	out->number_len = (size_t)n;
	out->this_update = (time_t)sqlite3_column_int64(st, 2);
	out->next_update = (time_t)sqlite3_column_int64(st, 3);
	out->imported_at = (time_t)sqlite3_column_int64(st, 4);
	out->entries = sqlite3_column_int64(st, 5);
	if (sqlite3_column_type(st, 7) != SQLITE_NULL)
		out->retired_at = (time_t)sqlite3_column_int64(st, 7);
	if (sha256 != NULL) {
		if (sqlite3_column_bytes(st, 6) != 32)
			return MDG_STORE_ERROR;
		memcpy(sha256, sqlite3_column_blob(st, 6), 32);
	}
	return MDG_STORE_OK;
}

enum mdg_store_status mdg_sqlite_crl_scope(void *cls, const unsigned char *issuer, size_t issuer_len,
					   const unsigned char *dp, size_t dp_len, struct mdg_crl_scope *out)
{
	struct sq *q = cls;
	sqlite3_stmt *st = q->st[ST_CRL_SCOPE];
	enum mdg_store_status s = MDG_STORE_ERROR;

	if (bind_blob(st, 1, issuer, issuer_len) == SQLITE_OK && bind_dp(st, 2, dp, dp_len) == SQLITE_OK)
		s = read_scope(q, out, NULL);
	done(st);
	/* a retired scope covers nothing (its entries still count for
	 * crl_lookup) */
	if (s == MDG_STORE_OK && out->retired_at != 0)
		s = MDG_STORE_NOT_FOUND;
	return s;
}

enum mdg_store_status mdg_sqlite_list_crls(void *cls, int (*fn)(void *arg, const struct mdg_crl_scope *s), void *arg)
{
	struct sq *q = cls;
	sqlite3_stmt *st = q->st[ST_CRL_LIST];
	struct mdg_crl_scope sc;
	enum mdg_store_status s = MDG_STORE_ERROR;
	int rc, n;

	for (rc = first_step(st); rc == SQLITE_ROW; rc = sqlite3_step(st)) {
		memset(&sc, 0, sizeof(sc));
		sc.id = sqlite3_column_int64(st, 0);
		sc.issuer_der = sqlite3_column_blob(st, 1);
		sc.issuer_len = (size_t)sqlite3_column_bytes(st, 1);
		if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
			sc.dp_der = sqlite3_column_blob(st, 2);
			sc.dp_len = (size_t)sqlite3_column_bytes(st, 2);
			if (sc.dp_der == NULL)
				sc.dp_der = empty_blob;
		}
		n = sqlite3_column_bytes(st, 3);
		if (n < 0 || (size_t)n > sizeof(sc.number))
			goto out;
		if (n > 0)
			memcpy(sc.number, sqlite3_column_blob(st, 3), (size_t)n);
		sc.number_len = (size_t)n;
		sc.this_update = (time_t)sqlite3_column_int64(st, 4);
		sc.next_update = (time_t)sqlite3_column_int64(st, 5);
		sc.imported_at = (time_t)sqlite3_column_int64(st, 6);
		sc.entries = sqlite3_column_int64(st, 7);
		if (sqlite3_column_type(st, 8) != SQLITE_NULL)
			sc.retired_at = (time_t)sqlite3_column_int64(st, 8);
		if (fn(arg, &sc) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc == SQLITE_DONE)
		s = MDG_STORE_OK;
out:
	done(st);
	return s;
}

/* SQLite's BLOB order of serials (memcmp, shorter first): the order of the
 * primary key (crl_id, serial). This backend sorts as it needs; the order
 * crl.c hands entries in is its own. */
static int entry_cmp(const void *x, const void *y)
{
	const struct mdg_crl_entry *a = x, *b = y;
	size_t n = a->serial_len < b->serial_len ? a->serial_len : b->serial_len;
	int c = n ? memcmp(a->serial, b->serial, n) : 0;

	if (c != 0)
		return c;
	return (a->serial_len > b->serial_len) - (a->serial_len < b->serial_len);
}

/* The entries in serial order: inserted in key order they append to the
 * primary key's B-tree instead of splitting pages all over it (twice as
 * fast for large CRLs). If they come sorted (crl.c's order is the same
 * today) they are used as they are; otherwise a sorted copy
 * is returned (NULL with *sorted = 1 if they already are). */
static struct mdg_crl_entry *sort_entries(const struct mdg_crl_entry *e, size_t n, int *sorted)
{
	struct mdg_crl_entry *v;
	size_t i;

	*sorted = 1;
	for (i = 1; i < n; i++)
		if (entry_cmp(&e[i - 1], &e[i]) > 0)
			break;
	if (i >= n)
		return NULL;
	*sorted = 0;
	if ((v = malloc(n * sizeof(*v))) == NULL)
		return NULL;
	memcpy(v, e, n * sizeof(*v));
	qsort(v, n, sizeof(*v), entry_cmp);
	return v;
}

enum mdg_store_status mdg_sqlite_crl_import(void *cls, const struct mdg_crl_import *c, time_t now,
					    enum mdg_crl_import_outcome *outcome, char *msg, size_t msglen)
{
	struct sq *q = cls;
	sqlite3_stmt *st;
	struct mdg_crl_scope held;
	unsigned char held_sha[32];
	enum mdg_store_status s = MDG_STORE_ERROR, f;
	struct mdg_crl_entry *order = NULL;
	const unsigned char *key;
	unsigned char *own_key = NULL;
	int64_t id, count = 0;
	size_t i, key_len;
	int rc, sorted;

	snprintf(msg, msglen, "database error");
	if (c->issuer_der == NULL || c->issuer_len == 0 || c->number_len > MDG_CRLNUM_MAX ||
	    (c->n_entries > 0 && c->entries == NULL) || (c->dp_der == NULL && c->dp_key != NULL)) {
		snprintf(msg, msglen, "invalid CRL import (internal error)");
		return MDG_STORE_ERROR;
	}
	/* the scope's key: the distribution point name in canonical form */
	key = c->dp_key;
	key_len = c->dp_key_len;
	if (c->dp_der != NULL && key == NULL) {
		if (mdg_der_name_canon(c->dp_der, c->dp_len, &own_key, &key_len) == -1) {
			snprintf(msg, msglen, "invalid CRL import: the distribution point is no name");
			return MDG_STORE_ERROR;
		}
		key = own_key;
	}
	if (tx_begin(q) == -1)
		goto out;

	st = q->st[ST_CRL_SCOPE];
	if (bind_blob(st, 1, c->issuer_der, c->issuer_len) != SQLITE_OK || bind_dp(st, 2, key, key_len) != SQLITE_OK)
		f = MDG_STORE_ERROR;
	else
		f = read_scope(q, &held, held_sha);
	done(st);
	if (f == MDG_STORE_ERROR)
		goto out;

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
		id = held.id;
		st = q->st[ST_CRL_DEL_ENTRIES];
		sqlite3_bind_int64(st, 1, id);
		rc = sqlite3_step(st);
		done(st);
		if (rc != SQLITE_DONE)
			goto out;
	} else {
		st = q->st[ST_CRL_INSERT];
		if (bind_blob(st, 1, c->issuer_der, c->issuer_len) != SQLITE_OK ||
		    bind_dp(st, 2, c->dp_der, c->dp_len) != SQLITE_OK ||
		    bind_blob(st, 3, c->number, c->number_len) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 4, (sqlite3_int64)c->this_update) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 5, (sqlite3_int64)c->next_update) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 6, (sqlite3_int64)now) != SQLITE_OK ||
		    bind_blob(st, 7, c->sha256, 32) != SQLITE_OK || bind_dp(st, 8, key, key_len) != SQLITE_OK)
			rc = SQLITE_ERROR;
		else
			rc = sqlite3_step(st);
		done(st);
		if (rc != SQLITE_DONE)
			goto out;
		id = sqlite3_last_insert_rowid(q->db);
	}

	order = sort_entries(c->entries, c->n_entries, &sorted);
	if (order == NULL && !sorted)
		goto out;
	st = q->st[ST_CRL_INSERT_ENTRY];
	sqlite3_bind_int64(st, 1, id);
	for (i = 0; i < c->n_entries; i++) {
		const struct mdg_crl_entry *e = sorted ? &c->entries[i] : &order[i];

		if (e->serial_len > MDG_SERIAL_MAX || bind_blob(st, 2, e->serial, e->serial_len) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 3, (sqlite3_int64)e->revoked_at) != SQLITE_OK ||
		    (e->reason >= 0 ? sqlite3_bind_int(st, 4, e->reason) : sqlite3_bind_null(st, 4)) != SQLITE_OK) {
			done(st);
			goto out;
		}
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			done(st);
			goto out;
		}
		/* A serial listed twice is kept once. */
		count += sqlite3_changes(q->db);
	}
	done(st);

	st = q->st[ST_CRL_UPDATE];
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || bind_blob(st, 2, c->number, c->number_len) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, (sqlite3_int64)c->this_update) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, (sqlite3_int64)c->next_update) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, (sqlite3_int64)now) != SQLITE_OK ||
	    bind_blob(st, 6, c->sha256, 32) != SQLITE_OK || sqlite3_bind_int64(st, 7, count) != SQLITE_OK ||
	    bind_dp(st, 8, c->dp_der, c->dp_len) != SQLITE_OK)
		rc = SQLITE_ERROR;
	else
		rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE || sqlite3_changes(q->db) != 1)
		goto out;
	if (tx_commit(q) == -1)
		goto out;
	*outcome = MDG_CRL_IMPORTED;
	snprintf(msg, msglen, "imported");
	s = MDG_STORE_OK;
out:
	if (s == MDG_STORE_ERROR)
		snprintf(msg, msglen, "database error: %s", sqlite3_errmsg(q->db));
	tx_rollback(q);
	free(order);
	OPENSSL_free(own_key);
	return s;
}

enum mdg_store_status mdg_sqlite_crl_retire(void *cls, int64_t id, time_t now)
{
	struct sq *q = cls;
	sqlite3_stmt *st = q->st[ST_CRL_RETIRE];
	int rc;

	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqlite3_bind_int64(st, 2, (sqlite3_int64)now) != SQLITE_OK)
		rc = SQLITE_ERROR;
	else
		rc = first_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return MDG_STORE_ERROR;
	return sqlite3_changes(q->db) == 1 ? MDG_STORE_OK : MDG_STORE_NOT_FOUND;
}
