/* The store: one interface (a struct of operations, as Taler's DB plugin)
 * over the acceptance log and the CRL tables, opened through one door
 * (mdg_store_open) from the configuration. The backends (store_sqlite.c,
 * ...) live in this folder and nothing outside it names one. A handle is one
 * connection, used by one thread at a time (the daemon opens one per worker
 * thread), with statements prepared once. */
#ifndef MDG_STORE_H
#define MDG_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define MDG_RECEIPT_LEN 33 /* 32 lowercase hex digits + NUL */
#define MDG_TIME_LEN 26    /* RFC 3339 "2026-11-27T10:00:00+09:00" + NUL */
#define MDG_SERIAL_MAX 32  /* bytes of a serial number's magnitude */
#define MDG_CRLNUM_MAX 21  /* bytes of a cRLNumber's magnitude */

enum mdg_store_status {
	MDG_STORE_OK = 0,
	MDG_STORE_NOT_FOUND,
	MDG_STORE_CONFLICT, /* unique key taken (acceptance already there) */
	MDG_STORE_REFUSED,  /* CRL not newer than the one held: message says why */
	MDG_STORE_ERROR,    /* our fault or the database's: nothing written */
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
	const unsigned char *issuer_der; /* matched anchor's subject DER */
	size_t issuer_len;
	const unsigned char *serial; /* big-endian magnitude */
	size_t serial_len;
	unsigned char cert_sha256[32];
	char accepted_at[MDG_TIME_LEN];
	const char *reason; /* contract name; "unspecified" if none given */
	const char *holder_name;
	const unsigned char *request_der; /* evidence: the exact DER received */
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
	unsigned char number[MDG_CRLNUM_MAX]; /* big-endian magnitude */
	size_t number_len;
	time_t this_update, next_update, imported_at;
	int64_t entries;
	time_t retired_at; /* 0: in force; else when crl retire took it out */
	/* filled by list_crls only (owned by the store until the callback returns) */
	const unsigned char *issuer_der;
	size_t issuer_len;
	const unsigned char *dp_der; /* NULL: full CRL */
	size_t dp_len;
};

struct mdg_crl_entry {
	unsigned char serial[MDG_SERIAL_MAX];
	size_t serial_len;
	time_t revoked_at;
	int reason; /* RFC 5280 CRLReason code, -1 if absent */
};

/* A verified CRL ready to import (made by crl.c). */
struct mdg_crl_import {
	const unsigned char *issuer_der; /* the verifying anchor's subject DER */
	size_t issuer_len;
	const unsigned char *dp_der; /* issuingDistributionPoint directoryName DER, or NULL */
	size_t dp_len;
	const unsigned char *dp_key; /* its mdg_name_canon_der form: the scope's key
						 * (NULL: the store derives it from dp_der) */
	size_t dp_key_len;
	unsigned char number[MDG_CRLNUM_MAX];
	size_t number_len;
	time_t this_update, next_update;
	unsigned char sha256[32]; /* of the CRL's DER */
	const struct mdg_crl_entry *entries;
	size_t n_entries;
};

enum mdg_crl_import_outcome {
	MDG_CRL_IMPORTED,  /* new scope, or higher number: entries replaced */
	MDG_CRL_UNCHANGED, /* same number, same SHA-256: no-op success */
};

/* The acceptance log as read back (madoguchi-admin log ...): one row as
 * stored. Pointers are owned by the store and valid only during the
 * callback; a NULL text column reads as "". The hashes carry their stored
 * lengths (log verify must not trust them to be 32). */
struct mdg_acceptance_row {
	int64_t seq;
	const char *receipt_id;
	const unsigned char *issuer_der; /* matched anchor's subject DER */
	size_t issuer_len;
	const unsigned char *serial; /* big-endian magnitude */
	size_t serial_len;
	const unsigned char *cert_sha256;
	size_t cert_sha256_len;
	const char *accepted_at;
	const char *effective_from;
	const char *reason;
	const char *holder_name;
	const char *client_addr;
	int64_t export_batch;             /* 0: not exported */
	const unsigned char *request_der; /* NULL unless with_request */
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
	int64_t cert_not_after; /* Unix seconds */
	const unsigned char *cert_subject_der;
	size_t cert_subject_len;
};

/* Which acceptances log_query returns, always in seq order. Zeroed: all. */
struct mdg_log_filter {
	int64_t after_seq; /* only rows with seq > after_seq */
	int64_t limit;     /* at most this many rows; 0: no limit */
	int has_since, has_until;
	int64_t since;               /* accepted at >= since (Unix seconds) */
	int64_t until;               /* accepted at < until (exclusive) */
	const unsigned char *serial; /* magnitude; NULL: any */
	size_t serial_len;
	const char *issuer;     /* RFC 4514 text (mdg_name_text_match); NULL: any */
	const char *receipt_id; /* NULL: any */
	const char *reason;     /* NULL: any */
	int with_request;       /* also read the stored request (evidence) */
	int64_t export_batch;   /* only rows of this export batch; 0: any */
};

/* A batch of acceptances handed to CA issuance (log export, schema
 * export_batches). A batch is recorded (rows marked) first and completed
 * once its output was written; one never completed is handed out again. */
struct mdg_export_batch {
	int64_t id;
	char created_at[MDG_TIME_LEN];
	int64_t first_seq, last_seq, count;
	unsigned char head_hash[32];     /* the chain hash of last_seq */
	char completed_at[MDG_TIME_LEN]; /* "": not completed */
	int resumed;                     /* export_new: an earlier, uncompleted batch */
};

/* The log in numbers (metrics). */
struct mdg_log_stats {
	int64_t count;      /* rows */
	int64_t head_seq;   /* the last row's seq (chain length) */
	int64_t unexported; /* rows in no export batch */
	int64_t batches;    /* export batches recorded */
};

/* The head of the chain: the number of rows and the last one. */
struct mdg_log_head {
	int64_t count; /* 0: empty log (seq 0, hash all zero) */
	int64_t seq;
	unsigned char hash[32];
	char accepted_at[MDG_TIME_LEN];
};

/* A checkpoint of the log's Merkle tree as stored (DESIGN.md "Receipts and
 * the log's Merkle tree"): one sequence for the deployment, tree sizes
 * strictly growing. */
#define MDG_CHECKPOINT_NOTE_MAX 1024 /* bytes of the signed note kept */
struct mdg_checkpoint_row {
	int64_t id;
	uint64_t size;
	unsigned char root[32];
	int64_t made_at_ms;                 /* Unix milliseconds */
	char note[MDG_CHECKPOINT_NOTE_MAX]; /* the signed note, NUL-terminated */
	size_t note_len;
};

/* A CRL scope as db copy moves it: every column of its crls row (id kept)
 * and its entries. Pointers are owned by the store during copy_out_crls'
 * callback, by the caller during copy_crl. */
struct mdg_crl_copy {
	int64_t id;
	const unsigned char *issuer_der;
	size_t issuer_len;
	const unsigned char *dp_der; /* NULL: full CRL */
	size_t dp_len;
	const unsigned char *dp_key; /* NULL: none stored */
	size_t dp_key_len;
	unsigned char number[MDG_CRLNUM_MAX];
	size_t number_len;
	int64_t this_update, next_update, imported_at;
	unsigned char sha256[32];
	int64_t entries;    /* crls.entries as stored */
	int64_t retired_at; /* 0: in force (NULL) */
	const struct mdg_crl_entry *entry;
	size_t n_entries;
};

/* The operations of a store handle, by concern. Every backend implements
 * every one (none is NULL). Each returns MDG_STORE_OK or the statuses its
 * line names; MDG_STORE_ERROR always means nothing was written, and the
 * backend's message is then mdg_store_error's. */
struct mdg_store_ops {
	/* Acceptances. */
	/* OK with *out, or NOT_FOUND. OK only for a row as durable as
	 * insert_acceptance's OK makes one (a row another node committed but
	 * a synchronous standby has not confirmed is waited for). */
	enum mdg_store_status (*find_acceptance)(void *cls, const unsigned char *issuer, size_t issuer_len,
						 const unsigned char *serial, size_t serial_len,
						 struct mdg_acceptance_ref *out);
	/* Appends to the chain, durable before OK with *out; (issuer, serial)
	 * held already: CONFLICT with *out the existing row. */
	enum mdg_store_status (*insert_acceptance)(void *cls, const struct mdg_acceptance_new *a,
						   struct mdg_acceptance_ref *out);

	/* CRLs. */
	/* OK with *revoked: is (issuer, serial) on any CRL held for the issuer. */
	enum mdg_store_status (*crl_lookup)(void *cls, const unsigned char *issuer, size_t issuer_len,
					    const unsigned char *serial, size_t serial_len, int *revoked);
	/* The scope (issuer, dp; dp NULL: the full CRL, else the canonical
	 * name, mdg_name_canon_der, matched against dp_key): OK with *out, or
	 * NOT_FOUND (also for a retired scope: it covers no certificate). */
	enum mdg_store_status (*crl_scope)(void *cls, const unsigned char *issuer, size_t issuer_len,
					   const unsigned char *dp, size_t dp_len, struct mdg_crl_scope *out);
	/* fn for every scope held, retired ones too; stops (OK) when fn returns non-zero. */
	enum mdg_store_status (*list_crls)(void *cls, int (*fn)(void *arg, const struct mdg_crl_scope *s), void *arg);
	/* One transaction: OK with *outcome; REFUSED with msg when the number
	 * is not newer; ERROR with msg. Entries come in any order (the
	 * backend sorts them as it needs). */
	enum mdg_store_status (*crl_import)(void *cls, const struct mdg_crl_import *crl, time_t now,
					    enum mdg_crl_import_outcome *outcome, char *msg, size_t msglen);
	/* Takes scope id (from list_crls) out of freshness: OK, or NOT_FOUND if
	 * none or retired already; its entries stay (crl_lookup finds them), a
	 * newer crl_import of the scope brings it back. */
	enum mdg_store_status (*crl_retire)(void *cls, int64_t id, time_t now);

	/* The operators' log. */
	/* fn for each acceptance matching f, in seq order, in one read
	 * snapshot; stops (OK) when fn returns non-zero. */
	enum mdg_store_status (*log_query)(void *cls, const struct mdg_log_filter *f,
					   int (*fn)(void *arg, const struct mdg_acceptance_row *r), void *arg);
	/* OK with the chain's head (count, last seq, hash, accepted at), one snapshot. */
	enum mdg_store_status (*log_head)(void *cls, struct mdg_log_head *out);
	/* OK with the counts for metrics, one snapshot. */
	enum mdg_store_status (*log_stats)(void *cls, struct mdg_log_stats *out);

	/* Export to CA issuance. */
	/* One write transaction: a batch recorded but never completed: OK with
	 * it (resumed set, nothing changed); else rows in no batch: a new batch
	 * of them all, OK; else NOT_FOUND (nothing recorded). */
	enum mdg_store_status (*export_new)(void *cls, const char *created_at, struct mdg_export_batch *out);
	/* OK with batch id, or NOT_FOUND. */
	enum mdg_store_status (*export_get)(void *cls, int64_t id, struct mdg_export_batch *out);
	/* Marks batch id completed (OK also if it already is). */
	enum mdg_store_status (*export_complete)(void *cls, int64_t id, const char *completed_at);

	/* The log's Merkle tree (its nodes are written by insert_acceptance,
	 * in the same transaction; every backend keeps it). */
	/* OK with the hash of the complete subtree (level, index), or NOT_FOUND. */
	enum mdg_store_status (*merkle_node)(void *cls, uint64_t level, uint64_t index, unsigned char out[32]);
	/* OK with the checkpoint of the biggest tree size, or NOT_FOUND (none yet). */
	enum mdg_store_status (*checkpoint_latest)(void *cls, struct mdg_checkpoint_row *out);
	/* Inserts cp (id ignored) only if its size is bigger than the latest's
	 * (one writer wins across nodes): OK, or CONFLICT (not newer: nothing
	 * written). */
	enum mdg_store_status (*checkpoint_insert)(void *cls, const struct mdg_checkpoint_row *cp);
	/* fn for every checkpoint in size order (db copy); stops (OK) when fn
	 * returns non-zero. */
	enum mdg_store_status (*checkpoint_list)(void *cls, int (*fn)(void *arg, const struct mdg_checkpoint_row *c),
						 void *arg);

	/* db copy (madoguchi-admin db copy; docs/operations.md). The source
	 * side: fn for every CRL scope with all its entries, in id order
	 * (entries in serial order); and fn for every export batch in id
	 * order; stop (OK) when fn returns non-zero. The acceptances come
	 * from log_query (with_request), the checkpoints from checkpoint_list. */
	enum mdg_store_status (*copy_out_crls)(void *cls, int (*fn)(void *arg, const struct mdg_crl_copy *c),
					       void *arg);
	enum mdg_store_status (*copy_out_batches)(void *cls, int (*fn)(void *arg, const struct mdg_export_batch *b),
						  void *arg);
	/* The target side, one write transaction from copy_begin to copy_end:
	 * copy_begin opens it and answers CONFLICT (msg names a table that
	 * holds rows; nothing written, no transaction left) unless every table
	 * is empty. copy_crl, copy_batch (ids kept) and copy_acceptance (the
	 * row as stored: seq, prev_hash, hash, export_batch and every other
	 * column; rows in seq order, batches before their rows) write inside
	 * it; checkpoint_insert may too. copy_end(commit 1) completes what the
	 * backend derives (the Merkle tree's nodes, identity sequences) and
	 * commits: OK or ERROR (nothing written); copy_end(0) rolls back. */
	enum mdg_store_status (*copy_begin)(void *cls, char *msg, size_t msglen);
	enum mdg_store_status (*copy_crl)(void *cls, const struct mdg_crl_copy *c);
	enum mdg_store_status (*copy_batch)(void *cls, const struct mdg_export_batch *b);
	enum mdg_store_status (*copy_acceptance)(void *cls, const struct mdg_acceptance_row *r);
	enum mdg_store_status (*copy_end)(void *cls, int commit);

	/* Health, snapshots, errors, the handle. */
	/* A cheap liveness query: OK or ERROR. */
	enum mdg_store_status (*ping)(void *cls);
	/* One read snapshot for the look-ups that follow (crl_lookup,
	 * find_acceptance, crl_scope) until read_end; no write in between. */
	enum mdg_store_status (*read_begin)(void *cls);
	/* Ends read_begin's snapshot (a no-op without one). */
	void (*read_end)(void *cls);
	/* The last error's message, "" if none (see mdg_store_error). */
	const char *(*error)(void *cls);
	/* Frees the handle; cls may be NULL. */
	void (*close)(void *cls);
};

struct mdg_store {
	const struct mdg_store_ops *ops;
	void *cls;
};

struct mdg_config;

/* The door: opens a handle on the store [store] backend names (sqlite:
 * database; postgresql: dsn), initialised and at this build's schema
 * version, else -1 with a clear message ("run madoguchi-admin db migrate",
 * "backend postgresql is not built into this madoguchi", ...). One handle
 * is one connection, for one thread at a time. */
int mdg_store_open(struct mdg_store *st, const struct mdg_config *cfg, char *err, size_t errlen);

/* db init / db migrate: creates the store if needed and applies pending
 * migrations; *from and *to receive the versions. Returns 0 or -1. */
int mdg_store_migrate(const struct mdg_config *cfg, int *from, int *to, char *err, size_t errlen);

/* db migrate: is there a store to migrate (sqlite: the file exists)? 1; 0
 * with "...: run madoguchi-admin db init" in err; -1 on another error. */
int mdg_store_exists(const struct mdg_config *cfg, char *err, size_t errlen);

/* The schema version this build expects of cfg's backend; -1 if not built. */
int mdg_store_schema_version(const struct mdg_config *cfg);

/* "database PATH" (sqlite) or a backend's name, for messages; returns buf. */
const char *mdg_store_describe(const struct mdg_config *cfg, char *buf, size_t buflen);

/* What a backend counts since the process started, for /metrics (zeros
 * for a backend that keeps none, as SQLite). */
struct mdg_store_counters {
	uint64_t conflicts;  /* acceptances answered with the existing row (unique key) */
	uint64_t retries;    /* transactions retried after a serialization failure or deadlock */
	uint64_t reconnects; /* connections opened again after one was lost */
	uint64_t errors;     /* operations that failed (MDG_STORE_ERROR) */
};
void mdg_store_counters(const struct mdg_config *cfg, struct mdg_store_counters *out);

/* The backend's last error on this handle, for the daemon's log and the
 * operators (e.g. SQLite's message and the operation that failed); never
 * sent to a client. "" if none is known. Valid until the next call on st. */
const char *mdg_store_error(const struct mdg_store *st);

/* The leaf of the acceptance with that receipt id: its receipt content
 * (*content malloc'd, owned by the caller, NUL-terminated) and its 0-based
 * index in the log. OK, NOT_FOUND, or ERROR. */
enum mdg_store_status mdg_store_leaf(struct mdg_store *st, const char *receipt_id, char **content, size_t *len,
				     uint64_t *index);

static inline void mdg_store_close(struct mdg_store *st)
{
	if (st->ops)
		st->ops->close(st->cls);
	st->ops = NULL;
	st->cls = NULL;
}

#endif
