/* The acceptance log for operators (madoguchi-admin log ...): chain
 * verification over the store's rows, and the small parsers and printers
 * the commands share. No SQL here: rows come from the store's log_query. */
#ifndef MDG_ACCEPTLOG_H
#define MDG_ACCEPTLOG_H

#include <stddef.h>
#include <stdint.h>

#include "chain.h"
#include "form.h"
#include "names.h"
#include "store.h"
#include "timefmt.h"

/* The log filter as operators write it (CLI options, admin API query
 * parameters): NULL for an absent one. */
struct mdg_log_args {
	const char *since, *until, *serial, *issuer, *receipt, *reason, *after;
};

/* Storage the filter points into; lives as long as the filter. */
struct mdg_log_filter_buf {
	unsigned char serial[MDG_SERIAL_MAX];
	char receipt[MDG_RECEIPT_LEN];
};

/* Sets the filter members named by a (limit, with_request and
 * export_batch are left to the caller). Returns NULL, or on a bad value the
 * argument's name ("since", "serial", ...) with *expected saying what it
 * takes ("a serial number in hex"). */
const char *mdg_log_filter_from_args(const struct mdg_log_args *a, struct mdg_log_filter *f,
				     struct mdg_log_filter_buf *buf, const char **expected);

/* A serial number in hex ("0A1b", "0x0a1b", "0a:1b") as its big-endian
 * magnitude without leading zero bytes. 0 or -1. */
int mdg_serial_parse_hex(const char *s, unsigned char out[MDG_SERIAL_MAX], size_t *len);

/* Lowercase hex without leading zeros, as in answers ("0" for zero);
 * out holds 2 * MDG_SERIAL_MAX + 1. */
void mdg_serial_hex(const unsigned char *serial, size_t len, char *out, size_t outlen);

/* Lowercase hex of n bytes; out holds 2n + 1. The same as hex.h's
 * mdg_hex_lower (the one encoder), kept for the admin tool's callers. */
void mdg_hex(const unsigned char *b, size_t n, char *out);

/* Exactly n bytes from 2n hex digits (either case). 0 or -1. */
int mdg_unhex(const char *s, unsigned char *out, size_t n);

/* A receipt id as read over the phone: 32 hex digits in any case, with any
 * spaces or dashes between them, into its stored form (lowercase, NUL
 * terminated). 0, or -1 if it is not one. */
int mdg_receipt_id_parse(const char *s, char out[MDG_RECEIPT_LEN]);

/* The application form inside a stored request (CMS SignedData DER); no
 * signature check (the request was verified when it was accepted and
 * log verify checks its SHA-256). 0 or -1. */
int mdg_evidence_form(const unsigned char *der, size_t len, struct mdg_form *form);

struct mdg_log_verdict {
	int64_t rows;
	unsigned char head[MDG_HASH_LEN]; /* the last row's hash; zeros if empty */
	int64_t bad_seq;                  /* first bad row (0: none, or the head is missing) */
	int bad;                          /* non-zero: the log does not verify */
	int64_t head_seq;                 /* with a wanted head: the row that has it */
	char what[512];                   /* why it does not verify */
};

/* Recomputes the hash chain over every row in seq order: seq dense from 1,
 * each prev_hash the previous row's hash (zeros for the first), each hash
 * the recomputation, each request_sha256 the SHA-256 of the stored
 * request. With want_head non-NULL the log must contain a row whose hash
 * is want_head (32 zero bytes, the head of the empty log, is a prefix of every log), so no row up to the one
 * published was cut. MDG_STORE_OK with the verdict in *v; MDG_STORE_ERROR
 * if the database could not be read. */
enum mdg_store_status mdg_log_verify(struct mdg_store *st, const unsigned char *want_head, struct mdg_log_verdict *v);

#endif
