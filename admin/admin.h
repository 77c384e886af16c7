/* madoguchi-admin's parts (DESIGN.md "Programs"): the command table and
 * main (main.c), the printers of acceptance rows and CRL scopes (print.c),
 * the log commands (log_cmd.c), the CRL commands (crl_cmd.c) and the export
 * to CA issuance (export.c). What they share is declared here. */
#ifndef MDG_ADMIN_H
#define MDG_ADMIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "anchors.h"
#include "config.h"
#include "store.h"

#define EXIT_USAGE 2
#define CRL_FILE_MAX ((size_t)512 * 1024 * 1024)

struct admin {
	const char *config_path;
	struct mdg_config cfg;
};

struct command {
	const char *name;
	const char *sub; /* NULL: a command of one word */
	int (*fn)(struct admin *ad, int argc, char **argv);
	int min_args, max_args; /* after the (sub)command; -1: no limit */
	const char *args;
	const char *help;
	const char *more; /* for COMMAND --help: the options explained, or NULL */
};

/* The commands (each in the file of its group). */
int cmd_db_init(struct admin *, int, char **);
int cmd_db_migrate(struct admin *, int, char **);
int cmd_db_copy(struct admin *, int, char **);
int cmd_crl_import(struct admin *, int, char **);
int cmd_crl_status(struct admin *, int, char **);
int cmd_crl_retire(struct admin *, int, char **);
int cmd_crl_schedule(struct admin *, int, char **);
int cmd_log(struct admin *, int, char **);
int cmd_log_verify(struct admin *, int, char **);
int cmd_log_checkpoint(struct admin *, int, char **);
int cmd_log_head(struct admin *, int, char **);
int cmd_log_show(struct admin *, int, char **);
int cmd_log_export(struct admin *, int, char **);

/* ------------------------------------------------------ options (main.c) */

enum out_format { FMT_TABLE, FMT_JSON, FMT_CSV };

/* One option of a command: "--name VALUE" / "--name=VALUE", or a flag. */
struct opt {
	const char *name;
	const char **value; /* NULL: a flag */
	int *flag;
};

/* Parses options and up to maxpos positional arguments. Returns 0, or
 * EXIT_USAGE after saying what is wrong. */
int parse_opts(const char *cmd, int argc, char **argv, const struct opt *opts, char **pos, int maxpos, int *npos);
/* --format: table (or text), json, and csv if allowed. 0, or -1 after saying so. */
int parse_format(const char *cmd, const char *s, int allow_csv, enum out_format *f);
/* The store through the door (mdg_store_open); 0, or -1 after saying why. */
int open_store(struct admin *ad, struct mdg_store *st);

/* -------------------------------------------- acceptance rows (print.c) */

enum {
	C_SEQ,
	C_RECEIPT,
	C_ACCEPTED,
	C_EFFECTIVE,
	C_SERIAL,
	C_ISSUER,
	C_REASON,
	C_CLIENT,
	C_BATCH,
	C_NAME,
	C_ADDRESS,
	C_BIRTH,
	C_NCOLS
};

extern const char *const show_title[C_NCOLS];

struct log_out {
	enum out_format fmt;
	int personal;  /* --show-personal-data */
	int64_t limit; /* 0: none */
	int64_t n;     /* rows printed */
	int64_t last_seq;
	int more; /* a row beyond the limit exists */
	int failed;
	char **cells; /* table: n * C_NCOLS strings */
	size_t cap;
};

/* The cells of one row as strings (malloc'd). 0 or -1. */
int row_cells(const struct mdg_acceptance_row *r, int personal, char *cell[C_NCOLS]);
void free_cells(char **cell, size_t n);
/* Columns shown: all but address and birth date unless asked for. */
int col_shown(int c, int personal);
/* Terminal columns of UTF-8 text: East Asian wide characters take two. */
size_t display_width(const char *s);
/* Text for a table, control characters as '?'. */
void put_table_cell(const char *s);
/* A JSON string, "(not valid UTF-8)" for text that is not. */
json_t *json_text(const char *s);
/* One compact JSON line (keys in order); 0 or -1. */
int print_json_to(FILE *f, json_t *o);
int print_json(json_t *o);
/* The acceptance row's JSON (mdg_acceptance_row_json) on one line. */
int print_json_row(const struct mdg_acceptance_row *r, int personal);
void print_csv_header(int personal);
/* log_query's callback for cmd_log: rows into o (table) or printed. */
int log_row(void *arg, const struct mdg_acceptance_row *r);
void print_table(const struct log_out *o);

/* ------------------------------------------------- CRL scopes (print.c) */

/* One CRL scope held, copied out of list_crls. */
struct held_scope {
	struct mdg_crl_scope sc;   /* issuer_der and dp_der point to the copies below */
	unsigned char *issuer_der; /* owned */
	size_t issuer_len;
	unsigned char *dp_der; /* owned; NULL: full CRL */
	size_t dp_len;
	int64_t id;
	int full; /* no distribution point */
	char iss[512], dp[512], num[64];
	time_t this_update, next_update, imported_at, retired_at;
	int64_t entries;
	int stale;  /* in force and past nextUpdate + crl_max_age */
	int anchor; /* matched an anchor name */
};

struct held_list {
	struct held_scope *v;
	size_t n, cap;
	time_t now;
	long max_age;
	int failed;
};

void held_list_free(struct held_list *l);
/* Every scope held, into l (now and max_age set by the caller). 0, or -1 after saying so. */
int held_list_load(struct mdg_store *st, struct held_list *l);
int same_issuer(const struct held_scope *h, const struct mdg_anchor *a);
/* The scope's JSON (mdg_crl_scope_json). */
json_t *scope_json(const struct held_list *l, const struct held_scope *h);
/* "  SCOPE   STATE   number N, E entries, next update T, ..." */
void print_scope_line(const struct held_scope *h, size_t width);

#endif
