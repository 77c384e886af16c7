/* The store: one interface (a struct of operations, as Taler's DB plugin)
 * over the acceptance log and the CRL tables. SQLite (store_sqlite.c) is the
 * embedded backend; a handle is one connection, used by one thread at a time
 * (the daemon opens one per worker thread), with statements prepared once. */
#ifndef MDG_STORE_H
#define MDG_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define MDG_RECEIPT_LEN 33	/* 32 lowercase hex digits + NUL */
#define MDG_TIME_LEN 26		/* RFC 3339 "2026-11-27T10:00:00+09:00" + NUL */
#define MDG_SERIAL_MAX 32	/* bytes of a serial number's magnitude */
#define MDG_CRLNUM_MAX 21	/* bytes of a cRLNumber's magnitude */

enum mdg_store_status {
	MDG_STORE_OK = 0,
	MDG_STORE_NOT_FOUND,
	MDG_STORE_CONFLICT,	/* unique key taken (acceptance already there) */
	MDG_STORE_REFUSED,	/* CRL not newer than the one held: message says why */
	MDG_STORE_ERROR,	/* our fault or the database's: nothing written */
};

/* An acceptance as answered to the holder. */
struct mdg_acceptance_ref {
	int64_t seq;
	char receipt_id[MDG_RECEIPT_LEN];
	char accepted_at[MDG_TIME_LEN];
	char effective_from[MDG_TIME_LEN];
};

/* A new acceptance; pointers are borrowed for the call. seq, prev_hash and
 * hash are computed by the store inside the appending transaction. */
struct mdg_acceptance_new {
	char receipt_id[MDG_RECEIPT_LEN];
	const unsigned char *issuer_der;	/* matched anchor's subject DER */
	size_t issuer_len;
	const unsigned char *serial;		/* big-endian magnitude */
	size_t serial_len;
	unsigned char cert_sha256[32];
	char accepted_at[MDG_TIME_LEN];
	const char *reason;			/* contract name; "unspecified" if none given */
	const char *holder_name;
	const unsigned char *request_der;	/* evidence: the exact DER received */
	size_t request_len;
	unsigned char request_sha256[32];
	const char *client_addr;
	char effective_from[MDG_TIME_LEN];
	/* the certificate's notAfter and subject DER, for log export --format
	 * index (not in the chain); subject NULL: both stored as NULL */
	int64_t cert_not_after;
	const unsigned char *cert_subject_der;
	size_t cert_subject_len;
};

/* One CRL scope held: (issuer, distribution point or none). */
struct mdg_crl_scope {
	int64_t id;
	unsigned char number[MDG_CRLNUM_MAX];	/* big-endian magnitude */
	size_t number_len;
	time_t this_update, next_update, imported_at;
	int64_t entries;
	time_t retired_at;			/* 0: in force; else when crl retire took it out */
	/* filled by list_crls only (owned by the store until the callback returns) */
	const unsigned char *issuer_der;
	size_t issuer_len;
	const unsigned char *dp_der;		/* NULL: full CRL */
	size_t dp_len;
};

struct mdg_crl_entry {
	unsigned char serial[MDG_SERIAL_MAX];
	size_t serial_len;
	time_t revoked_at;
	int reason;		/* RFC 5280 CRLReason code, -1 if absent */
};

/* The order of CRL entries (SQLite's BLOB order: memcmp, shorter first), for
 * qsort; crl.c hands entries to crl_import sorted this way. */
int mdg_crl_entry_cmp(const void *a, const void *b);

/* A verified CRL ready to import (made by crl.c). */
struct mdg_crl_import {
	const unsigned char *issuer_der;	/* the verifying anchor's subject DER */
	size_t issuer_len;
	const unsigned char *dp_der;		/* issuingDistributionPoint directoryName DER, or NULL */
	size_t dp_len;
	const unsigned char *dp_key;		/* its mdg_name_canon_der form: the scope's key
						 * (NULL: the store derives it from dp_der) */
	size_t dp_key_len;
	unsigned char number[MDG_CRLNUM_MAX];
	size_t number_len;
	time_t this_update, next_update;
	unsigned char sha256[32];		/* of the CRL's DER */
	const struct mdg_crl_entry *entries;
	size_t n_entries;
};

enum mdg_crl_import_outcome {
	MDG_CRL_IMPORTED,	/* new scope, or higher number: entries replaced */
	MDG_CRL_UNCHANGED,	/* same number, same SHA-256: no-op success */
};

/* The acceptance log as read back (madoguchi-admin log ...): one row as
 * stored. Pointers are owned by the store and valid only during the
 * callback; a NULL text column reads as "". The hashes carry their stored
 * lengths (log verify must not trust them to be 32). */
struct mdg_acceptance_row {
	int64_t seq;
	const char *receipt_id;
	const unsigned char *issuer_der;	/* matched anchor's subject DER */
	size_t issuer_len;
	const unsigned char *serial;		/* big-endian magnitude */
	size_t serial_len;
	const unsigned char *cert_sha256;
	size_t cert_sha256_len;
	const char *accepted_at;
	const char *effective_from;
	const char *reason;
	const char *holder_name;
	const char *client_addr;
	int64_t export_batch;			/* 0: not exported */
	const unsigned char *request_der;	/* NULL unless with_request */
	size_t request_len;
	const unsigned char *request_sha256;
	size_t request_sha256_len;
	const unsigned char *prev_hash;
	size_t prev_hash_len;
	const unsigned char *hash;
	size_t hash_len;
	/* stored since schema version 4; has_cert_not_after 0 and subject
	 * NULL for older rows (read them from the evidence) */
	int has_cert_not_after;
	int64_t cert_not_after;			/* Unix seconds */
	const unsigned char *cert_subject_der;
	size_t cert_subject_len;
};

/* Which acceptances log_query returns, always in seq order. Zeroed: all. */
struct mdg_log_filter {
	int64_t after_seq;		/* only rows with seq > after_seq */
	int64_t limit;			/* at most this many rows; 0: no limit */
	int has_since, has_until;
	int64_t since;			/* accepted at >= since (Unix seconds) */
	int64_t until;			/* accepted at < until (exclusive) */
	const unsigned char *serial;	/* magnitude; NULL: any */
	size_t serial_len;
	const char *issuer;		/* RFC 4514 text (mdg_name_text_match); NULL: any */
	const char *receipt_id;		/* NULL: any */
	const char *reason;		/* NULL: any */
	int with_request;		/* also read the stored request (evidence) */
	int64_t export_batch;		/* only rows of this export batch; 0: any */
};

/* A batch of acceptances handed to CA issuance (log export, schema
 * export_batches). A batch is recorded (rows marked) first and completed
 * once its output was written; one never completed is handed out again. */
struct mdg_export_batch {
	int64_t id;
	char created_at[MDG_TIME_LEN];
	int64_t first_seq, last_seq, count;
	unsigned char head_hash[32];		/* the chain hash of last_seq */
	char completed_at[MDG_TIME_LEN];	/* "": not completed */
	int resumed;				/* export_new: an earlier, uncompleted batch */
};

/* The log in numbers (metrics). */
struct mdg_log_stats {
	int64_t count;				/* rows */
	int64_t head_seq;			/* the last row's seq (chain length) */
	int64_t unexported;			/* rows in no export batch */
	int64_t batches;			/* export batches recorded */
};

/* The head of the chain: the number of rows and the last one. */
struct mdg_log_head {
	int64_t count;			/* 0: empty log (seq 0, hash all zero) */
	int64_t seq;
	unsigned char hash[32];
	char accepted_at[MDG_TIME_LEN];
};

struct mdg_store_ops {
	/* MDG_STORE_OK and *out filled, MDG_STORE_NOT_FOUND, or MDG_STORE_ERROR. */
	enum mdg_store_status (*find_acceptance)(void *cls, const unsigned char *issuer, size_t issuer_len,
						 const unsigned char *serial, size_t serial_len,
						 struct mdg_acceptance_ref *out);
	/* Appends to the chain and commits durably (synchronous=FULL) before
	 * returning MDG_STORE_OK with *out. If (issuer, serial) is already
	 * there: MDG_STORE_CONFLICT with *out describing the existing row.
	 * MDG_STORE_ERROR: nothing was written. */
	enum mdg_store_status (*insert_acceptance)(void *cls, const struct mdg_acceptance_new *a,
						   struct mdg_acceptance_ref *out);
	/* Is (issuer, serial) on any CRL held for the issuer? OK with *revoked. */
	enum mdg_store_status (*crl_lookup)(void *cls, const unsigned char *issuer, size_t issuer_len,
					    const unsigned char *serial, size_t serial_len, int *revoked);
	/* The scope (issuer, dp); dp NULL means the full CRL, else dp is the
	 * canonical form of the distribution point name (mdg_name_canon_der),
	 * matched against the held CRLs' dp_key. OK or NOT_FOUND (also for a
	 * retired scope: it covers no certificate). */
	enum mdg_store_status (*crl_scope)(void *cls, const unsigned char *issuer, size_t issuer_len,
					   const unsigned char *dp, size_t dp_len, struct mdg_crl_scope *out);
	/* Calls fn for every scope held, retired ones too (retired_at set);
	 * stops early if fn returns non-zero. */
	enum mdg_store_status (*list_crls)(void *cls, int (*fn)(void *arg, const struct mdg_crl_scope *s),
					   void *arg);
	/* Imports in one transaction. OK with *outcome; REFUSED with a
	 * message when the number is not newer; ERROR otherwise. */
	enum mdg_store_status (*crl_import)(void *cls, const struct mdg_crl_import *crl, time_t now,
					    enum mdg_crl_import_outcome *outcome, char *msg, size_t msglen);
	/* Calls fn for each acceptance matching f, in seq order, within one
	 * read snapshot; stops early (still OK) if fn returns non-zero. */
	enum mdg_store_status (*log_query)(void *cls, const struct mdg_log_filter *f,
					   int (*fn)(void *arg, const struct mdg_acceptance_row *r),
					   void *arg);
	/* The chain's head (count, last seq, hash, accepted at), one snapshot. */
	enum mdg_store_status (*log_head)(void *cls, struct mdg_log_head *out);
	/* Cheap liveness query. */
	enum mdg_store_status (*ping)(void *cls);
	void (*close)(void *cls);
	/* Operators (store_sqlite_log.c); added at the end. */
	/* In one write transaction: if a batch was recorded but never
	 * completed, OK with it (resumed set, nothing changed); else if rows are
	 * in no batch, records a new batch of them all: OK with it; else
	 * NOT_FOUND (no batch recorded). */
	enum mdg_store_status (*export_new)(void *cls, const char *created_at,
					    struct mdg_export_batch *out);
	/* Batch id: OK or NOT_FOUND. */
	enum mdg_store_status (*export_get)(void *cls, int64_t id, struct mdg_export_batch *out);
	/* Marks batch id completed (no-op if it already is). */
	enum mdg_store_status (*export_complete)(void *cls, int64_t id, const char *completed_at);
	/* Counts for metrics, one snapshot. */
	enum mdg_store_status (*log_stats)(void *cls, struct mdg_log_stats *out);
	/* Validity checks; added at the end. read_begin opens one read
	 * snapshot for the look-ups that follow on this handle (crl_lookup,
	 * find_acceptance, crl_scope) until read_end; no write may come in
	 * between. Either may be NULL (each look-up then reads on its own). */
	enum mdg_store_status (*read_begin)(void *cls);
	void (*read_end)(void *cls);
	/* crl retire; added at the end. Takes the scope with this id (from
	 * list_crls) out of freshness: OK, or NOT_FOUND if there is none or
	 * it is retired already. Its entries stay (crl_lookup still finds
	 * them); a newer crl_import of the scope brings it back. */
	enum mdg_store_status (*crl_retire)(void *cls, int64_t id, time_t now);
};

struct mdg_store {
	const struct mdg_store_ops *ops;
	void *cls;
};

/* The schema version this build expects (the highest migration). */
int mdg_store_sqlite_schema_version(void);

/* Opens a connection to an initialised database at the expected schema
 * version (else -1 with a clear message: "run madoguchi-admin db migrate").
 * Sets WAL, synchronous=FULL, a busy timeout, and prepares statements. */
int mdg_store_sqlite_open(struct mdg_store *st, const char *path, char *err, size_t errlen);

/* Creates the database if needed and applies pending migrations (db init /
 * db migrate). *from and *to receive the versions. Returns 0 or -1. */
int mdg_store_sqlite_migrate(const char *path, int *from, int *to, char *err, size_t errlen);

static inline void mdg_store_close(struct mdg_store *st)
{
	if (st->ops)
		st->ops->close(st->cls);
	st->ops = NULL;
	st->cls = NULL;
}

#endif
