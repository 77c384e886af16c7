/* madoguchi-admin: the operators' tool (DESIGN.md "Programs").
 *
 *   madoguchi-admin --config FILE COMMAND [ARGS...]
 *
 * Commands are a table (name, subcommand, handler, argument counts, usage),
 * so new ones (crl status, log ...) are one row and one function each.
 * Exit status: 0 success, 1 failure, 2 usage error. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <jansson.h>

#include "acceptlog.h"
#include "anchors.h"
#include "config.h"
#include "crl.h"
#include "form.h"
#include "store.h"
#include "files.h"
#include "names.h"
#include "timefmt.h"

#define EXIT_USAGE 2
#define CRL_FILE_MAX ((size_t)512 * 1024 * 1024)

struct admin {
	const char *config_path;
	struct mdg_config cfg;
};

struct command {
	const char *name;
	const char *sub;		/* NULL: a command of one word */
	int (*fn)(struct admin *ad, int argc, char **argv);
	int min_args, max_args;		/* after the (sub)command; -1: no limit */
	const char *args;
	const char *help;
};

static int cmd_db_init(struct admin *, int, char **);
static int cmd_db_migrate(struct admin *, int, char **);
static int cmd_crl_import(struct admin *, int, char **);
static int cmd_crl_status(struct admin *, int, char **);
static int cmd_log(struct admin *, int, char **);
static int cmd_log_verify(struct admin *, int, char **);
static int cmd_log_head(struct admin *, int, char **);
static int cmd_log_show(struct admin *, int, char **);
static int cmd_log_export(struct admin *, int, char **);

static const struct command commands[] = {
	{ "db", "init", cmd_db_init, 0, 0, "",
	  "create the database if needed and bring it to this build's schema" },
	{ "db", "migrate", cmd_db_migrate, 0, 0, "",
	  "apply pending schema migrations to an existing database" },
	{ "crl", "import", cmd_crl_import, 1, -1, "FILE...",
	  "verify and import CRLs (DER or PEM), one scope per file" },
	{ "crl", "status", cmd_crl_status, 0, 0, "",
	  "list the CRL scopes held, with their numbers and freshness" },
	{ "log", "verify", cmd_log_verify, 0, -1, "[--head HASH]",
	  "recompute the acceptance log's hash chain; with --head, require a row with that hash" },
	{ "log", "head", cmd_log_head, 0, -1, "[--format text|json]",
	  "the chain's head to publish: row count, head hash, last acceptance time" },
	{ "log", "show", cmd_log_show, 1, -1,
	  "RECEIPT [--evidence FILE] [--format text|json] [--show-personal-data]",
	  "one acceptance in full; --evidence writes the signed request (CMS, DER)" },
	{ "log", "export", cmd_log_export, 0, -1,
	  "--new | --batch N [--issuer DN] [--format csv|jsonl|index] [--out FILE]",
	  "hand acceptances to CA issuance: --new records and writes the next batch, --batch N a "
	  "past one" },
	{ "log", NULL, cmd_log, 0, -1,
	  "[--since T] [--until T] [--serial HEX] [--issuer DN] [--receipt ID] [--reason R] "
	  "[--limit N] [--after SEQ] [--format table|json|csv] [--show-personal-data]",
	  "query acceptances (T: YYYY-MM-DD in JST, or RFC 3339)" },
};

static void
usage(FILE *f)
{
	char line[256];
	size_t i;

	fprintf(f, "usage: madoguchi-admin --config FILE COMMAND [ARGS...]\n\ncommands:\n");

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		snprintf(line, sizeof(line), "%s%s%s %s", commands[i].name,
			 commands[i].sub != NULL ? " " : "",
			 commands[i].sub != NULL ? commands[i].sub : "", commands[i].args);
		if (strlen(line) > 20)
			fprintf(f, "  %s\n  %-20s %s\n", line, "", commands[i].help);
		else
			fprintf(f, "  %-20s %s\n", line, commands[i].help);
	}
	fprintf(f, "\noptions:\n"
		"  --config FILE  the madoguchi.conf to use (required)\n"
		"  --help         this text\n");
}

static int
cmd_db_init(struct admin *ad, int argc, char **argv)
{
	const char *db = ad->cfg.database;
	char err[1024];
	int from, to;

	if (mdg_store_sqlite_migrate(db, &from, &to, err, sizeof(err)) == -1) {
		fprintf(stderr, "madoguchi-admin: %s\n", err);
		return EXIT_FAILURE;
	}
	if (from == to)
		printf("database %s already initialised at schema version %d: nothing to do\n", db, to);
	else if (from == 0)
		printf("initialised database %s at schema version %d\n", db, to);
	else
		printf("migrated database %s from schema version %d to %d\n", db, from, to);
	return EXIT_SUCCESS;
}

static int
cmd_db_migrate(struct admin *ad, int argc, char **argv)
{
	const char *db = ad->cfg.database;
	char err[1024];
	int from, to;

	if (access(db, F_OK) == -1) {
		fprintf(stderr, "madoguchi-admin: database %s: %s: run madoguchi-admin db init\n", db,
			strerror(errno));
		return EXIT_FAILURE;
	}
	if (mdg_store_sqlite_migrate(db, &from, &to, err, sizeof(err)) == -1) {
		fprintf(stderr, "madoguchi-admin: %s\n", err);
		return EXIT_FAILURE;
	}
	if (from == to)
		printf("database %s already at schema version %d: nothing to do\n", db, to);
	else
		printf("migrated database %s from schema version %d to %d\n", db, from, to);
	return EXIT_SUCCESS;
}

/* Returns 0 if the file was imported or unchanged, -1 otherwise. */
static int
import_one(const struct mdg_anchors *anchors, struct mdg_store *st, const char *file)
{
	struct mdg_crl_parsed p;
	enum mdg_crl_import_outcome oc;
	enum mdg_store_status s;
	unsigned char *buf = NULL;
	size_t len;
	char err[1024], iss[512], dp[512], num[64];
	int rc = -1;

	memset(&p, 0, sizeof(p));
	if (mdg_read_file(file, CRL_FILE_MAX, 0, &buf, &len, err, sizeof(err)) == -1) {
		fprintf(stderr, "failed %s\n", err);
		goto out;
	}
	if (mdg_crl_parse(anchors, buf, len, &p, err, sizeof(err)) == -1) {
		fprintf(stderr, "refused %s: %s\n", file, err);
		goto out;
	}
	mdg_der_name_rfc4514(p.imp.issuer_der, p.imp.issuer_len, iss, sizeof(iss));
	if (p.imp.dp_der != NULL)
		mdg_der_name_rfc4514(p.imp.dp_der, p.imp.dp_len, dp, sizeof(dp));
	else
		snprintf(dp, sizeof(dp), "full");
	mdg_number_decimal(p.imp.number, p.imp.number_len, num, sizeof(num));
	s = st->ops->crl_import(st->cls, &p.imp, time(NULL), &oc, err, sizeof(err));
	switch (s) {
	case MDG_STORE_OK:
		if (oc == MDG_CRL_IMPORTED)
			printf("imported %s: %s scope %s number %s, %zu entries\n", file, iss, dp, num,
			       p.imp.n_entries);
		else
			printf("unchanged %s: %s scope %s number %s already held\n", file, iss, dp,
			       num);
		rc = 0;
		break;
	case MDG_STORE_REFUSED:
		fprintf(stderr, "refused %s: %s\n", file, err);
		break;
	case MDG_STORE_NOT_FOUND:
	case MDG_STORE_CONFLICT:
	case MDG_STORE_ERROR:
		fprintf(stderr, "failed %s: %s\n", file, err);
		break;
	}
out:
	fflush(stdout);
	mdg_crl_parsed_free(&p);
	free(buf);
	return rc;
}

static int
cmd_crl_import(struct admin *ad, int argc, char **argv)
{
	struct mdg_anchors anchors = { NULL, 0 };
	struct mdg_store st = { NULL, NULL };
	char err[1024];
	int i, failed = 0, rc = EXIT_FAILURE;

	if (mdg_anchors_load_dir(&anchors, ad->cfg.anchors, err, sizeof(err)) == -1) {
		fprintf(stderr, "madoguchi-admin: %s\n", err);
		goto out;
	}
	if (mdg_store_sqlite_open(&st, ad->cfg.database, err, sizeof(err)) == -1) {
		fprintf(stderr, "madoguchi-admin: %s\n", err);
		goto out;
	}
	for (i = 0; i < argc; i++)
		if (import_one(&anchors, &st, argv[i]) == -1)
			failed++;
	if (failed > 0 && argc > 1)
		fprintf(stderr, "madoguchi-admin: %d of %d CRL files not imported\n", failed, argc);
	rc = failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
out:
	mdg_store_close(&st);
	mdg_anchors_free(&anchors);
	return rc;
}

struct status_ctx {
	time_t now;
	long max_age;
	int n;
	int stale;
};

static int
print_scope(void *arg, const struct mdg_crl_scope *sc)
{
	struct status_ctx *c = arg;
	char iss[512], dp[512], num[64], tu[MDG_RFC3339_LEN], nu[MDG_RFC3339_LEN],
	    imp[MDG_RFC3339_LEN];

	mdg_der_name_rfc4514(sc->issuer_der, sc->issuer_len, iss, sizeof(iss));
	if (sc->dp_der != NULL)
		mdg_der_name_rfc4514(sc->dp_der, sc->dp_len, dp, sizeof(dp));
	else
		snprintf(dp, sizeof(dp), "full");
	mdg_number_decimal(sc->number, sc->number_len, num, sizeof(num));
	mdg_rfc3339_jst(sc->this_update, tu);
	mdg_rfc3339_jst(sc->next_update, nu);
	mdg_rfc3339_jst(sc->imported_at, imp);
	int stale = c->now > sc->next_update + c->max_age;
	printf("%s scope %s number %s, %lld entries, thisUpdate %s, nextUpdate %s, imported %s: %s\n",
	       iss, dp, num, (long long)sc->entries, tu, nu, imp, stale ? "STALE" : "fresh");
	c->n++;
	c->stale += stale;
	return 0;
}

static int
cmd_crl_status(struct admin *ad, int argc, char **argv)
{
	struct mdg_store st = { NULL, NULL };
	struct status_ctx c;
	char err[1024];
	int rc = EXIT_FAILURE;

	if (mdg_store_sqlite_open(&st, ad->cfg.database, err, sizeof(err)) == -1) {
		fprintf(stderr, "madoguchi-admin: %s\n", err);
		goto out;
	}
	c.now = time(NULL);
	c.max_age = ad->cfg.crl_max_age;
	c.n = 0;
	c.stale = 0;
	if (st.ops->list_crls(st.cls, print_scope, &c) != MDG_STORE_OK) {
		fprintf(stderr, "madoguchi-admin: database error while listing CRLs\n");
		goto out;
	}
	/* non-zero for monitoring: a stale CRL, or none, means no "valid" answers */
	if (c.n == 0)
		printf("no CRL held: run madoguchi-admin crl import\n");
	else if (c.stale > 0)
		fprintf(stderr, "madoguchi-admin: %d of %d CRL scopes are STALE: import fresh CRLs\n", c.stale, c.n);
	rc = c.n > 0 && c.stale == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
out:
	mdg_store_close(&st);
	return rc;
}

/* ---------------------------------------------------------------- log */

enum out_format { FMT_TABLE, FMT_JSON, FMT_CSV };

/* One option of a command: "--name VALUE" / "--name=VALUE", or a flag. */
struct opt {
	const char *name;
	const char **value;	/* NULL: a flag */
	int *flag;
};

/* Parses options and up to maxpos positional arguments. Returns 0, or
 * EXIT_USAGE after saying what is wrong. */
static int
parse_opts(const char *cmd, int argc, char **argv, const struct opt *opts, char **pos, int maxpos,
	   int *npos)
{
	const struct opt *o;
	size_t n;
	int i;

	*npos = 0;
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) != 0 || argv[i][2] == '\0') {
			if (strcmp(argv[i], "--") == 0 && i + 1 < argc)
				i++;
			if (*npos >= maxpos) {
				if (maxpos == 0)
					fprintf(stderr, "madoguchi-admin: unknown command \"%s %s\"\n",
						cmd, argv[i]);
				else
					fprintf(stderr, "madoguchi-admin: %s: unexpected argument %s\n",
						cmd, argv[i]);
				return EXIT_USAGE;
			}
			pos[(*npos)++] = argv[i];
			continue;
		}
		for (o = opts; o->name != NULL; o++) {
			n = strlen(o->name);
			if (strncmp(argv[i] + 2, o->name, n) != 0 ||
			    (argv[i][2 + n] != '\0' && argv[i][2 + n] != '='))
				continue;
			if (o->value == NULL) {
				if (argv[i][2 + n] == '=')
					o = NULL;
				else
					*o->flag = 1;
			} else if (argv[i][2 + n] == '=') {
				*o->value = argv[i] + 3 + n;
			} else if (i + 1 < argc) {
				*o->value = argv[++i];
			} else {
				fprintf(stderr, "madoguchi-admin: %s: --%s needs a value\n", cmd, o->name);
				return EXIT_USAGE;
			}
			break;
		}
		if (o == NULL || o->name == NULL) {
			fprintf(stderr, "madoguchi-admin: %s: unknown option %s\n", cmd, argv[i]);
			return EXIT_USAGE;
		}
	}
	return 0;
}

static int
parse_format(const char *cmd, const char *s, int allow_csv, enum out_format *f)
{
	if (s == NULL || strcmp(s, "table") == 0 || strcmp(s, "text") == 0)
		*f = FMT_TABLE;
	else if (strcmp(s, "json") == 0)
		*f = FMT_JSON;
	else if (allow_csv && strcmp(s, "csv") == 0)
		*f = FMT_CSV;
	else {
		fprintf(stderr, "madoguchi-admin: %s: --format is %s\n", cmd,
			allow_csv ? "table, json or csv" : "text or json");
		return -1;
	}
	return 0;
}

static int
open_store(struct admin *ad, struct mdg_store *st)
{
	char err[1024];

	if (mdg_store_sqlite_open(st, ad->cfg.database, err, sizeof(err)) == -1) {
		fprintf(stderr, "madoguchi-admin: %s\n", err);
		return -1;
	}
	return 0;
}

enum {
	C_SEQ, C_RECEIPT, C_ACCEPTED, C_EFFECTIVE, C_SERIAL, C_ISSUER, C_REASON, C_CLIENT, C_BATCH,
	C_NAME, C_ADDRESS, C_BIRTH, C_NCOLS
};

static const char *const col_title[C_NCOLS] = {
	"SEQ", "RECEIPT ID", "ACCEPTED AT", "EFFECTIVE FROM", "SERIAL", "ISSUER", "REASON",
	"CLIENT ADDRESS", "EXPORT BATCH", "NAME", "ADDRESS", "BIRTH DATE",
};
static const char *const show_title[C_NCOLS] = {
	"seq", "receipt id", "accepted at", "effective from", "serial", "issuer", "reason",
	"client address", "export batch", "name", "address", "birth date",
};
static const char *const col_key[C_NCOLS] = {
	"seq", "receiptId", "acceptedAt", "effectiveFrom", "serial", "issuer", "reason",
	"clientAddress", "exportBatch", "name", "address", "birthDate",
};

struct log_out {
	enum out_format fmt;
	int personal;		/* --show-personal-data */
	int64_t limit;		/* 0: none */
	int64_t n;		/* rows printed */
	int64_t last_seq;
	int more;		/* a row beyond the limit exists */
	int failed;
	char **cells;		/* table: n * C_NCOLS strings */
	size_t cap;
};

/* The cells of one row as strings (malloc'd). */
static int
row_cells(const struct mdg_acceptance_row *r, int personal, char *cell[C_NCOLS])
{
	char buf[1100];
	struct mdg_form form;
	int i, have_form = 0;

	if (personal && mdg_evidence_form(r->request_der, r->request_len, &form) == 0)
		have_form = 1;
	for (i = 0; i < C_NCOLS; i++) {
		buf[0] = '\0';
		switch (i) {
		case C_SEQ:
			snprintf(buf, sizeof(buf), "%lld", (long long)r->seq);
			break;
		case C_RECEIPT:
			snprintf(buf, sizeof(buf), "%s", r->receipt_id);
			break;
		case C_ACCEPTED:
			snprintf(buf, sizeof(buf), "%s", r->accepted_at);
			break;
		case C_EFFECTIVE:
			snprintf(buf, sizeof(buf), "%s", r->effective_from);
			break;
		case C_SERIAL:
			mdg_serial_hex(r->serial, r->serial_len, buf, sizeof(buf));
			break;
		case C_ISSUER:
			mdg_der_name_rfc4514(r->issuer_der, r->issuer_len, buf, sizeof(buf));
			break;
		case C_REASON:
			snprintf(buf, sizeof(buf), "%s", r->reason);
			break;
		case C_CLIENT:
			snprintf(buf, sizeof(buf), "%s", r->client_addr);
			break;
		case C_BATCH:
			if (r->export_batch > 0)
				snprintf(buf, sizeof(buf), "%lld", (long long)r->export_batch);
			break;
		case C_NAME:
			cell[i] = strdup(r->holder_name);
			continue;
		case C_ADDRESS:
			if (have_form)
				snprintf(buf, sizeof(buf), "%s", form.address);
			break;
		case C_BIRTH:
			if (have_form)
				snprintf(buf, sizeof(buf), "%s", form.birth_date);
			break;
		}
		cell[i] = strdup(buf);
	}
	for (i = 0; i < C_NCOLS; i++)
		if (cell[i] == NULL)
			return -1;
	return 0;
}

static void
free_cells(char **cell, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(cell[i]);
}

/* Columns shown: all but address and birth date unless asked for. */
static int
col_shown(int c, int personal)
{
	return personal || (c != C_ADDRESS && c != C_BIRTH);
}

/* Terminal columns of UTF-8 text: East Asian wide characters take two. */
static size_t
display_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;
	unsigned long c;
	int k;

	while (*p != '\0') {
		if (*p < 0x80) {
			c = *p++;
		} else {
			k = *p >= 0xf0 ? 3 : *p >= 0xe0 ? 2 : 1;
			c = *p++ & (0x3f >> k);
			for (; k > 0 && (*p & 0xc0) == 0x80; k--)
				c = c << 6 | (*p++ & 0x3f);
		}
		if ((c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) ||
		    (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
		    (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
		    (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x20000 && c <= 0x3fffd))
			w += 2;
		else
			w += 1;
	}
	return w;
}

/* Control characters would break the table (and a terminal). */
static void
put_table_cell(const char *s)
{
	for (; *s != '\0'; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static void
put_csv_cell(const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static json_t *
json_text(const char *s)
{
	json_t *j = json_string(s);

	return j != NULL ? j : json_string("(not valid UTF-8)");
}

static json_t *
row_json(char *cell[C_NCOLS], int personal)
{
	json_t *o = json_object();
	int i;

	if (o == NULL)
		return NULL;
	for (i = 0; i < C_NCOLS; i++) {
		if (!col_shown(i, personal))
			continue;
		if (i == C_SEQ || (i == C_BATCH && cell[i][0] != '\0'))
			json_object_set_new(o, col_key[i], json_integer(strtoll(cell[i], NULL, 10)));
		else if (i == C_BATCH || ((i == C_ADDRESS || i == C_BIRTH) && cell[i][0] == '\0'))
			json_object_set_new(o, col_key[i], json_null());
		else
			json_object_set_new(o, col_key[i], json_text(cell[i]));
	}
	return o;
}

static int
print_json_to(FILE *f, json_t *o)
{
	char *s;

	if (o == NULL || (s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		return -1;
	fprintf(f, "%s\n", s);
	free(s);
	return 0;
}

static int
print_json(json_t *o)
{
	return print_json_to(stdout, o);
}

static int
print_json_row(char *cell[C_NCOLS], int personal)
{
	json_t *o = row_json(cell, personal);
	int rc = print_json(o);

	json_decref(o);
	return rc;
}

static void
print_csv_header(int personal)
{
	int i, first = 1;

	for (i = 0; i < C_NCOLS; i++) {
		if (!col_shown(i, personal))
			continue;
		printf("%s%s", first ? "" : ",", col_key[i]);
		first = 0;
	}
	printf("\r\n");
}

static void
print_csv_row(char *cell[C_NCOLS], int personal)
{
	int i, first = 1;

	for (i = 0; i < C_NCOLS; i++) {
		if (!col_shown(i, personal))
			continue;
		if (!first)
			putchar(',');
		put_csv_cell(cell[i]);
		first = 0;
	}
	printf("\r\n");
}

static int
log_row(void *arg, const struct mdg_acceptance_row *r)
{
	struct log_out *o = arg;
	char *cell[C_NCOLS] = { NULL };
	char **grown;

	if (o->limit > 0 && o->n >= o->limit) {
		o->more = 1;
		return 1;
	}
	if (row_cells(r, o->personal, cell) == -1)
		goto fail;
	if (o->fmt == FMT_TABLE) {
		if (((size_t)o->n + 1) * C_NCOLS > o->cap) {
			size_t cap = o->cap ? o->cap * 2 : 64 * C_NCOLS;

			if ((grown = realloc(o->cells, cap * sizeof(*grown))) == NULL)
				goto fail;
			o->cells = grown;
			o->cap = cap;
		}
		memcpy(o->cells + (size_t)o->n * C_NCOLS, cell, sizeof(cell));
	} else {
		if (o->fmt == FMT_JSON) {
			if (print_json_row(cell, o->personal) == -1) {
				free_cells(cell, C_NCOLS);
				goto fail;
			}
		} else {
			print_csv_row(cell, o->personal);
		}
		free_cells(cell, C_NCOLS);
	}
	o->n++;
	o->last_seq = r->seq;
	return 0;
fail:
	free_cells(cell, C_NCOLS);
	o->failed = 1;
	return 1;
}

static void
print_table(const struct log_out *o)
{
	size_t w[C_NCOLS], i, k, x;
	int c, last = C_NCOLS - 1;

	while (!col_shown(last, o->personal))
		last--;
	for (c = 0; c < C_NCOLS; c++)
		w[c] = display_width(col_title[c]);
	for (i = 0; i < (size_t)o->n; i++)
		for (c = 0; c < C_NCOLS; c++)
			if ((x = display_width(o->cells[i * C_NCOLS + c])) > w[c])	/* "-" fits */
				w[c] = x;
	for (i = 0; i <= (size_t)o->n; i++) {
		for (c = 0; c < C_NCOLS; c++) {
			const char *s = i == 0 ? col_title[c] : o->cells[(i - 1) * C_NCOLS + c];

			if (!col_shown(c, o->personal))
				continue;
			if (*s == '\0')
				s = "-";
			put_table_cell(s);
			if (c == last)
				break;
			for (k = display_width(s); k < w[c] + 2; k++)
				putchar(' ');
		}
		putchar('\n');
	}
}

static int
cmd_log(struct admin *ad, int argc, char **argv)
{
	const char *since = NULL, *until = NULL, *serial = NULL, *issuer = NULL, *receipt = NULL,
		   *reason = NULL, *limit = NULL, *after = NULL, *format = NULL;
	int personal = 0, npos, rc = EXIT_FAILURE;
	const struct opt opts[] = {
		{ "since", &since, NULL }, { "until", &until, NULL }, { "serial", &serial, NULL },
		{ "issuer", &issuer, NULL }, { "receipt", &receipt, NULL },
		{ "reason", &reason, NULL }, { "limit", &limit, NULL }, { "after", &after, NULL },
		{ "format", &format, NULL }, { "show-personal-data", NULL, &personal },
		{ NULL, NULL, NULL },
	};
	struct mdg_store st = { NULL, NULL };
	struct mdg_log_filter f;
	struct log_out o;
	struct mdg_log_filter_buf fb;
	char *end;

	memset(&f, 0, sizeof(f));
	memset(&o, 0, sizeof(o));
	if (parse_opts("log", argc, argv, opts, NULL, 0, &npos) != 0)
		return EXIT_USAGE;
	if (parse_format("log", format, 1, &o.fmt) == -1)
		return EXIT_USAGE;
	const struct mdg_log_args la = { since, until, serial, issuer, receipt, reason, after };
	const char *bad, *expected;
	if ((bad = mdg_log_filter_from_args(&la, &f, &fb, &expected)) != NULL) {
		fprintf(stderr, "madoguchi-admin: log: --%s takes %s\n", bad, expected);
		return EXIT_USAGE;
	}
	if (limit != NULL) {
		errno = 0;
		o.limit = strtoll(limit, &end, 10);
		if (errno != 0 || end == limit || *end != '\0' || o.limit < 1 ||
		    o.limit >= INT64_MAX) {
			fprintf(stderr, "madoguchi-admin: log: --limit is a number of rows (1 or more)\n");
			return EXIT_USAGE;
		}
		f.limit = o.limit + 1;	/* one more: is there a next page? */
	}
	f.with_request = personal;
	o.personal = personal;

	if (open_store(ad, &st) == -1)
		goto out;
	if (o.fmt == FMT_CSV)
		print_csv_header(personal);
	if (st.ops->log_query(st.cls, &f, log_row, &o) != MDG_STORE_OK || o.failed) {
		fprintf(stderr, "madoguchi-admin: log: database error while reading the log\n");
		goto out;
	}
	if (o.fmt == FMT_TABLE)
		print_table(&o);
	fflush(stdout);
	if (o.fmt == FMT_TABLE) {
		if (o.n == 0)
			fprintf(stderr, "no acceptances match\n");
	}
	if (o.more && o.fmt == FMT_TABLE)
		fprintf(stderr, "more rows follow: repeat with --after %lld for the next page\n",
			(long long)o.last_seq);
	rc = EXIT_SUCCESS;
out:
	fflush(stdout);
	if (o.cells != NULL)
		free_cells(o.cells, (size_t)o.n * C_NCOLS);
	free(o.cells);
	mdg_store_close(&st);
	return rc;
}

static int
cmd_log_verify(struct admin *ad, int argc, char **argv)
{
	const char *head = NULL;
	const struct opt opts[] = { { "head", &head, NULL }, { NULL, NULL, NULL } };
	struct mdg_store st = { NULL, NULL };
	struct mdg_log_verdict v;
	unsigned char want[MDG_HASH_LEN];
	char hx[2 * MDG_HASH_LEN + 1];
	int npos, rc = EXIT_FAILURE;

	if (parse_opts("log verify", argc, argv, opts, NULL, 0, &npos) != 0)
		return EXIT_USAGE;
	if (head != NULL && mdg_unhex(head, want, sizeof(want)) == -1) {
		fprintf(stderr, "madoguchi-admin: log verify: --head is a hash of 64 hex digits\n");
		return EXIT_USAGE;
	}
	if (open_store(ad, &st) == -1)
		goto out;
	if (mdg_log_verify(&st, head != NULL ? want : NULL, &v) != MDG_STORE_OK) {
		fprintf(stderr, "madoguchi-admin: log verify: database error while reading the log\n");
		goto out;
	}
	if (v.bad) {
		if (v.bad_seq > 0)
			fprintf(stderr, "madoguchi-admin: log verify: FAILED at seq %lld: %s\n",
				(long long)v.bad_seq, v.what);
		else
			fprintf(stderr, "madoguchi-admin: log verify: FAILED: %s\n", v.what);
		goto out;
	}
	mdg_hex(v.head, MDG_HASH_LEN, hx);
	printf("ok: %lld rows, head %s", (long long)v.rows, hx);
	if (head != NULL && v.head_seq > 0 && v.head_seq < v.rows)
		printf(" (the given head is the hash of seq %lld: %lld row%s appended since)",
		       (long long)v.head_seq, (long long)(v.rows - v.head_seq),
		       v.rows - v.head_seq == 1 ? "" : "s");
	printf("\n");
	rc = EXIT_SUCCESS;
out:
	mdg_store_close(&st);
	return rc;
}

static int
cmd_log_head(struct admin *ad, int argc, char **argv)
{
	const char *format = NULL;
	const struct opt opts[] = { { "format", &format, NULL }, { NULL, NULL, NULL } };
	struct mdg_store st = { NULL, NULL };
	struct mdg_log_head h;
	enum out_format fmt;
	char hx[2 * MDG_HASH_LEN + 1], *s = NULL;
	json_t *o = NULL;
	int npos, rc = EXIT_FAILURE;

	if (parse_opts("log head", argc, argv, opts, NULL, 0, &npos) != 0 ||
	    parse_format("log head", format, 0, &fmt) == -1)
		return EXIT_USAGE;
	if (open_store(ad, &st) == -1)
		goto out;
	if (st.ops->log_head(st.cls, &h) != MDG_STORE_OK) {
		fprintf(stderr, "madoguchi-admin: log head: database error while reading the log\n");
		goto out;
	}
	mdg_hex(h.hash, MDG_HASH_LEN, hx);
	if (fmt == FMT_JSON) {
		o = json_pack("{s:I, s:I, s:s, s:o}", "count", (json_int_t)h.count, "seq",
			      (json_int_t)h.seq, "head", hx, "lastAcceptedAt",
			      h.count > 0 ? json_string(h.accepted_at) : json_null());
		if (o == NULL || (s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
			goto out;
		printf("%s\n", s);
	} else {
		printf("count: %lld\n", (long long)h.count);
		printf("seq: %lld\n", (long long)h.seq);
		printf("head: %s\n", hx);
		printf("last accepted at: %s\n", h.count > 0 ? h.accepted_at : "-");
	}
	rc = EXIT_SUCCESS;
out:
	free(s);
	json_decref(o);
	mdg_store_close(&st);
	return rc;
}

struct show_ctx {
	enum out_format fmt;
	int personal;
	const char *evidence;
	int found, failed;
};

static int
write_evidence(const char *path, const struct mdg_acceptance_row *r)
{
	unsigned char h[32];
	int fd = -1, rc = -1;
	size_t off = 0;
	ssize_t n;

	if (r->request_der == NULL || r->request_len == 0) {
		fprintf(stderr, "madoguchi-admin: log show: no stored request\n");
		return -1;
	}
	if (EVP_Digest(r->request_der, r->request_len, h, NULL, EVP_sha256(), NULL) != 1 ||
	    r->request_sha256_len != 32 || memcmp(h, r->request_sha256, 32) != 0)
		fprintf(stderr, "madoguchi-admin: log show: warning: the stored request does not "
			"match its request_sha256: run log verify\n");
	/* the evidence holds personal data */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1) {
		fprintf(stderr, "madoguchi-admin: log show: %s: %s\n", path, strerror(errno));
		goto out;
	}
	while (off < r->request_len) {
		n = write(fd, r->request_der + off, r->request_len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "madoguchi-admin: log show: %s: %s\n", path, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		fprintf(stderr, "madoguchi-admin: log show: %s: %s\n", path, strerror(errno));
		goto out;
	}
	fd = -1;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

static int
show_row(void *arg, const struct mdg_acceptance_row *r)
{
	struct show_ctx *c = arg;
	char *cell[C_NCOLS] = { NULL };
	char cert[65], req[65], prev[65], hash[65], bytes[32];
	const char *extra_key[] = { "certSha256", "requestSha256", "requestBytes", "prevHash",
				    "hash" };
	const char *extra_title[] = { "certificate SHA-256", "request SHA-256", "request bytes",
				      "prev hash", "hash" };
	const char *extra[5];
	json_t *o = NULL;
	int i;

	c->found = 1;
	if (row_cells(r, c->personal, cell) == -1)
		goto fail;
	mdg_hex(r->cert_sha256, r->cert_sha256_len > 32 ? 32 : r->cert_sha256_len, cert);
	mdg_hex(r->request_sha256, r->request_sha256_len > 32 ? 32 : r->request_sha256_len, req);
	mdg_hex(r->prev_hash, r->prev_hash_len > 32 ? 32 : r->prev_hash_len, prev);
	mdg_hex(r->hash, r->hash_len > 32 ? 32 : r->hash_len, hash);
	snprintf(bytes, sizeof(bytes), "%zu", r->request_len);
	extra[0] = cert;
	extra[1] = req;
	extra[2] = bytes;
	extra[3] = prev;
	extra[4] = hash;
	if (c->fmt == FMT_JSON) {
		if ((o = row_json(cell, c->personal)) == NULL)
			goto fail;
		for (i = 0; i < 5; i++)
			json_object_set_new(o, extra_key[i], i == 2 ? json_integer((json_int_t)r->request_len)
								     : json_string(extra[i]));
		if (print_json(o) == -1)
			goto fail;
	} else {
		for (i = 0; i < C_NCOLS; i++) {
			if (!col_shown(i, c->personal))
				continue;
			printf("%-20s ", show_title[i]);
			put_table_cell(i == C_BATCH && cell[i][0] == '\0' ? "(not exported)" :
				       cell[i]);
			putchar('\n');
		}
		for (i = 0; i < 5; i++)
			printf("%-20s %s\n", extra_title[i], extra[i]);
	}
	if (c->evidence != NULL && write_evidence(c->evidence, r) == -1)
		goto fail;
	json_decref(o);
	free_cells(cell, C_NCOLS);
	return 1;
fail:
	json_decref(o);
	free_cells(cell, C_NCOLS);
	c->failed = 1;
	return 1;
}

static int
cmd_log_show(struct admin *ad, int argc, char **argv)
{
	const char *format = NULL, *evidence = NULL;
	int personal = 0, npos, rc = EXIT_FAILURE;
	const struct opt opts[] = {
		{ "evidence", &evidence, NULL }, { "format", &format, NULL },
		{ "show-personal-data", NULL, &personal }, { NULL, NULL, NULL },
	};
	struct mdg_store st = { NULL, NULL };
	struct mdg_log_filter f;
	struct show_ctx c;
	char *pos[1], rid[MDG_RECEIPT_LEN];
	size_t i;

	memset(&c, 0, sizeof(c));
	memset(&f, 0, sizeof(f));
	if (parse_opts("log show", argc, argv, opts, pos, 1, &npos) != 0)
		return EXIT_USAGE;
	if (npos != 1) {
		fprintf(stderr, "madoguchi-admin: usage: madoguchi-admin --config FILE log show "
			"RECEIPT [--evidence FILE] [--format text|json] [--show-personal-data]\n");
		return EXIT_USAGE;
	}
	if (parse_format("log show", format, 0, &c.fmt) == -1)
		return EXIT_USAGE;
	if (strlen(pos[0]) != MDG_RECEIPT_LEN - 1) {
		fprintf(stderr, "madoguchi-admin: log show: a receipt id is %d hex digits\n",
			MDG_RECEIPT_LEN - 1);
		return EXIT_USAGE;
	}
	for (i = 0; i < MDG_RECEIPT_LEN; i++)
		rid[i] = (char)tolower((unsigned char)pos[0][i]);
	c.personal = personal;
	c.evidence = evidence;
	f.receipt_id = rid;
	f.with_request = 1;
	if (open_store(ad, &st) == -1)
		goto out;
	if (st.ops->log_query(st.cls, &f, show_row, &c) != MDG_STORE_OK) {
		fprintf(stderr, "madoguchi-admin: log show: database error while reading the log\n");
		goto out;
	}
	if (c.failed)
		goto out;
	if (!c.found) {
		fprintf(stderr, "madoguchi-admin: log show: no acceptance with receipt id %s\n", rid);
		goto out;
	}
	if (evidence != NULL)
		fprintf(stderr, "wrote the signed request (%s) to %s\n", "CMS, DER", evidence);
	rc = EXIT_SUCCESS;
out:
	fflush(stdout);
	mdg_store_close(&st);
	return rc;
}

/* ------------------------------------------------------------ log export */

enum export_format { EXP_CSV, EXP_JSONL, EXP_INDEX };

struct export_out {
	enum export_format fmt;
	FILE *f;
	int64_t batch;
	int64_t n;
	int failed;
	char why[256];
};

/* The certificate in a stored request whose serial is the row's. */
static X509 *
evidence_cert(const struct mdg_acceptance_row *r)
{
	const unsigned char *p = r->request_der;
	CMS_ContentInfo *cms = NULL;
	STACK_OF(X509) *certs = NULL;
	X509 *found = NULL;
	unsigned char sb[MDG_SERIAL_MAX + 1];
	BIGNUM *bn = NULL;
	int i, n;

	if (p == NULL || r->request_len > LONG_MAX ||
	    (cms = d2i_CMS_ContentInfo(NULL, &p, (long)r->request_len)) == NULL ||
	    (certs = CMS_get1_certs(cms)) == NULL)
		goto out;
	for (i = 0; i < sk_X509_num(certs) && found == NULL; i++) {
		X509 *c = sk_X509_value(certs, i);

		BN_free(bn);
		if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(c), NULL)) == NULL)
			goto out;
		n = BN_num_bytes(bn);
		if (n <= (int)sizeof(sb) && (size_t)n == r->serial_len && BN_bn2bin(bn, sb) == n &&
		    memcmp(sb, r->serial, (size_t)n) == 0 && X509_up_ref(c) == 1)
			found = c;
	}
out:
	BN_free(bn);
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	return found;
}

/* OpenSSL's index.txt time: UTCTime YYMMDDHHMMSSZ for 1950..2049, else
 * GeneralizedTime YYYYMMDDHHMMSSZ (as openssl ca copies the certificate's). */
static void
index_time(const struct tm *tm, char out[32])
{
	int y = tm->tm_year + 1900;

	/* the full year, then cut to two digits where UTCTime applies */
	if (strftime(out, 32, "%Y%m%d%H%M%SZ", tm) == 0)
		out[0] = '\0';
	else if (y >= 1950 && y < 2050 && strlen(out) == 15)
		memmove(out, out + 2, 14);
}

/* One index.txt line: R, expiry, revocation time[,reason], serial, unknown, subject. */
static int
index_line(struct export_out *o, const struct mdg_acceptance_row *r)
{
	X509 *cert = evidence_cert(r);
	char exp[32], rev[32], *subject = NULL;
	struct tm tm;
	time_t t;
	size_t i;
	int rc = -1;

	if (cert == NULL) {
		snprintf(o->why, sizeof(o->why), "seq %lld: no certificate with the row's serial in "
			 "the stored request: run log verify", (long long)r->seq);
		goto out;
	}
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1)
		goto bad_time;
	index_time(&tm, exp);
	if (mdg_rfc3339_parse(r->accepted_at, &t) == -1 || gmtime_r(&t, &tm) == NULL ||
	    tm.tm_year + 1900 < 1950 || tm.tm_year + 1900 >= 2050)
		goto bad_time;
	index_time(&tm, rev);
	if ((subject = X509_NAME_oneline(X509_get_subject_name(cert), NULL, 0)) == NULL)
		goto out;
	fprintf(o->f, "R\t%s\t%s", exp, rev);
	/* RFC 5280 5.3.1: reasonCode unspecified SHOULD be absent */
	if (strcmp(r->reason, "unspecified") != 0)
		fprintf(o->f, ",%s", r->reason);
	fputc('\t', o->f);
	if (r->serial_len == 0)
		fputs("00", o->f);
	for (i = 0; i < r->serial_len; i++)
		fprintf(o->f, "%02X", r->serial[i]);
	fprintf(o->f, "\tunknown\t%s\n", subject);
	rc = 0;
	goto out;
bad_time:
	snprintf(o->why, sizeof(o->why), "seq %lld: a time out of the index format's range",
		 (long long)r->seq);
out:
	OPENSSL_free(subject);
	X509_free(cert);
	return rc;
}

static const char *const export_key[] = {
	"batch", "seq", "receiptId", "serial", "issuer", "reason", "acceptedAt", "effectiveFrom",
	"certSha256",
};
#define EXPORT_COLS (sizeof(export_key) / sizeof(export_key[0]))

static int
export_row(void *arg, const struct mdg_acceptance_row *r)
{
	struct export_out *o = arg;
	char batch[24], seq[24], serial[2 * MDG_SERIAL_MAX + 1], issuer[512], cert[65];
	const char *v[EXPORT_COLS];
	json_t *j = NULL;
	size_t i;
	int rc = -1;

	if (o->fmt == EXP_INDEX) {
		rc = index_line(o, r);
		goto out;
	}
	snprintf(batch, sizeof(batch), "%lld", (long long)o->batch);
	snprintf(seq, sizeof(seq), "%lld", (long long)r->seq);
	mdg_serial_hex(r->serial, r->serial_len, serial, sizeof(serial));
	mdg_der_name_rfc4514(r->issuer_der, r->issuer_len, issuer, sizeof(issuer));
	mdg_hex(r->cert_sha256, r->cert_sha256_len > 32 ? 32 : r->cert_sha256_len, cert);
	v[0] = batch;
	v[1] = seq;
	v[2] = r->receipt_id;
	v[3] = serial;
	v[4] = issuer;
	v[5] = r->reason;
	v[6] = r->accepted_at;
	v[7] = r->effective_from;
	v[8] = cert;
	if (o->fmt == EXP_CSV) {
		for (i = 0; i < EXPORT_COLS; i++) {
			if (i > 0)
				fputc(',', o->f);
			if (strpbrk(v[i], ",\"\r\n") == NULL) {
				fputs(v[i], o->f);
				continue;
			}
			fputc('"', o->f);
			for (const char *s = v[i]; *s != '\0'; s++) {
				if (*s == '"')
					fputc('"', o->f);
				fputc(*s, o->f);
			}
			fputc('"', o->f);
		}
		fputs("\r\n", o->f);
		rc = 0;
		goto out;
	}
	if ((j = json_object()) == NULL)
		goto out;
	for (i = 0; i < EXPORT_COLS; i++)
		if (json_object_set_new(j, export_key[i],
					i < 2 ? json_integer(i == 0 ? (json_int_t)o->batch
								    : (json_int_t)r->seq)
					      : json_text(v[i])) != 0)
			goto out;
	rc = print_json_to(o->f, j);
out:
	json_decref(j);
	if (rc != 0) {
		if (o->why[0] == '\0')
			snprintf(o->why, sizeof(o->why), "seq %lld: cannot format the row",
				 (long long)r->seq);
		o->failed = 1;
		return 1;
	}
	o->n++;
	return 0;
}

/* Writes len bytes to path atomically: a temporary file beside it, fsync,
 * rename, fsync of the directory. Mode 0600 (exports are the CA's input). */
static int
write_atomically(const char *path, const char *data, size_t len)
{
	char *tmp = NULL, *dir = NULL, *slash;
	int fd = -1, dfd = -1, rc = -1;
	size_t off = 0;
	ssize_t n;

	if (asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0) {
		tmp = NULL;
		goto fail;
	}
	if ((fd = mkstemp(tmp)) == -1)
		goto fail;
	while (off < len) {
		n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	free(tmp);
	tmp = NULL;
	if ((dir = strdup(path)) == NULL)
		goto fail;
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, 2, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 || fsync(dfd) == -1)
		goto fail;
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "madoguchi-admin: log export: %s: %s\n", path, strerror(errno));
out:
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	free(dir);
	return rc;
}

static int
cmd_log_export(struct admin *ad, int argc, char **argv)
{
	const char *batch_arg = NULL, *format = NULL, *out_path = NULL, *issuer = NULL;
	int new_flag = 0, npos, rc = EXIT_FAILURE;
	const struct opt opts[] = {
		{ "new", NULL, &new_flag }, { "batch", &batch_arg, NULL },
		{ "format", &format, NULL }, { "out", &out_path, NULL },
		{ "issuer", &issuer, NULL }, { NULL, NULL, NULL },
	};
	struct mdg_store st = { NULL, NULL };
	struct mdg_export_batch b;
	struct mdg_log_filter f;
	struct export_out o;
	enum mdg_store_status s;
	char now[MDG_RFC3339_LEN], hx[65], *buf = NULL, *end;
	size_t len = 0;
	size_t i;
	int have_batch = 0;

	memset(&o, 0, sizeof(o));
	memset(&b, 0, sizeof(b));
	memset(&f, 0, sizeof(f));
	if (parse_opts("log export", argc, argv, opts, NULL, 0, &npos) != 0)
		return EXIT_USAGE;
	if (new_flag == (batch_arg != NULL)) {
		fprintf(stderr, "madoguchi-admin: log export: give --new (the acceptances not exported "
			"before, as a new batch) or --batch N (a past batch again)\n");
		return EXIT_USAGE;
	}
	if (batch_arg != NULL) {
		errno = 0;
		b.id = strtoll(batch_arg, &end, 10);
		if (errno != 0 || end == batch_arg || *end != '\0' || b.id < 1) {
			fprintf(stderr, "madoguchi-admin: log export: --batch is a batch number (1 or "
				"more)\n");
			return EXIT_USAGE;
		}
	}
	if (issuer != NULL && new_flag) {
		fprintf(stderr, "madoguchi-admin: log export: --issuer goes with --batch N: --new "
			"hands over the whole batch\n");
		return EXIT_USAGE;
	}
	if (format == NULL || strcmp(format, "csv") == 0)
		o.fmt = EXP_CSV;
	else if (strcmp(format, "jsonl") == 0 || strcmp(format, "json") == 0)
		o.fmt = EXP_JSONL;
	else if (strcmp(format, "index") == 0)
		o.fmt = EXP_INDEX;
	else {
		fprintf(stderr, "madoguchi-admin: log export: --format is csv, jsonl or index\n");
		return EXIT_USAGE;
	}
	if (open_store(ad, &st) == -1)
		goto out;
	mdg_rfc3339_jst(time(NULL), now);
	s = new_flag ? st.ops->export_new(st.cls, now, &b) : st.ops->export_get(st.cls, b.id, &b);
	if (s == MDG_STORE_NOT_FOUND && !new_flag) {
		fprintf(stderr, "madoguchi-admin: log export: no export batch %s\n", batch_arg);
		goto out;
	}
	if (s != MDG_STORE_OK && s != MDG_STORE_NOT_FOUND) {
		fprintf(stderr, "madoguchi-admin: log export: database error while %s\n",
			new_flag ? "recording the batch (nothing was recorded)" : "reading the batch");
		goto out;
	}
	have_batch = s == MDG_STORE_OK;
	if ((o.f = open_memstream(&buf, &len)) == NULL)
		goto out;
	o.batch = b.id;
	if (o.fmt == EXP_CSV) {
		for (i = 0; i < EXPORT_COLS; i++)
			fprintf(o.f, "%s%s", i > 0 ? "," : "", export_key[i]);
		fputs("\r\n", o.f);
	}
	if (have_batch) {
		f.export_batch = b.id;
		f.with_request = o.fmt == EXP_INDEX;
		f.issuer = issuer;
		if (st.ops->log_query(st.cls, &f, export_row, &o) != MDG_STORE_OK) {
			fprintf(stderr, "madoguchi-admin: log export: database error while reading "
				"batch %lld\n", (long long)b.id);
			goto out;
		}
		if (o.failed) {
			fprintf(stderr, "madoguchi-admin: log export: batch %lld: %s\n", (long long)b.id,
				o.why);
			goto out;
		}
		if (issuer == NULL && o.n != b.count) {
			fprintf(stderr, "madoguchi-admin: log export: batch %lld holds %lld rows, %lld "
				"recorded: run log verify\n", (long long)b.id, (long long)o.n,
				(long long)b.count);
			goto out;
		}
	}
	if (fclose(o.f) != 0) {
		o.f = NULL;
		goto out;
	}
	o.f = NULL;
	if (out_path != NULL) {
		if (write_atomically(out_path, buf, len) == -1)
			goto out;
	} else if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
		fprintf(stderr, "madoguchi-admin: log export: standard output: %s\n", strerror(errno));
		goto out;
	}
	if (!have_batch) {
		fprintf(stderr, "nothing new to export: every acceptance is in a batch already\n");
		rc = EXIT_SUCCESS;
		goto out;
	}
	/* the output is written: only now is the batch completed */
	if (issuer == NULL && b.completed_at[0] == '\0' &&
	    st.ops->export_complete(st.cls, b.id, now) != MDG_STORE_OK) {
		fprintf(stderr, "madoguchi-admin: log export: batch %lld written but not marked "
			"completed (database error): the next --new gives it again\n",
			(long long)b.id);
		goto out;
	}
	mdg_hex(b.head_hash, sizeof(b.head_hash), hx);
	if (b.resumed)
		fprintf(stderr, "batch %lld was recorded at %s but its export never completed: "
			"this is it again (same rows, same number)\n", (long long)b.id, b.created_at);
	fprintf(stderr, "batch %lld: %lld acceptance%s, seq %lld..%lld, head %s%s%s\n",
		(long long)b.id, (long long)(issuer != NULL ? o.n : b.count),
		(issuer != NULL ? o.n : b.count) == 1 ? "" : "s", (long long)b.first_seq,
		(long long)b.last_seq, hx, out_path != NULL ? ", written to " : "",
		out_path != NULL ? out_path : "");
	rc = EXIT_SUCCESS;
out:
	if (o.f != NULL)
		fclose(o.f);
	free(buf);
	mdg_store_close(&st);
	return rc;
}

int
main(int argc, char **argv)
{
	struct admin ad;
	const struct command *cmd = NULL;
	char err[1024];
	size_t j;
	int i, n;

	memset(&ad, 0, sizeof(ad));
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return EXIT_SUCCESS;
		} else if (strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) {
			if (++i >= argc) {
				fprintf(stderr, "madoguchi-admin: --config needs a file\n");
				return EXIT_USAGE;
			}
			ad.config_path = argv[i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			ad.config_path = argv[i] + 9;
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else {
			fprintf(stderr, "madoguchi-admin: unknown option %s\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - i < 1) {
		fprintf(stderr, "madoguchi-admin: no command given\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	/* "name sub" first, then a bare "name" (an entry whose sub is NULL) */
	for (j = 0; j < sizeof(commands) / sizeof(commands[0]) && cmd == NULL; j++)
		if (commands[j].sub != NULL && argc - i >= 2 &&
		    strcmp(commands[j].name, argv[i]) == 0 && strcmp(commands[j].sub, argv[i + 1]) == 0)
			cmd = &commands[j];
	for (j = 0; j < sizeof(commands) / sizeof(commands[0]) && cmd == NULL; j++)
		if (commands[j].sub == NULL && strcmp(commands[j].name, argv[i]) == 0)
			cmd = &commands[j];
	if (cmd == NULL) {
		fprintf(stderr, "madoguchi-admin: unknown command \"%s%s%s\"\n", argv[i],
			argc - i >= 2 ? " " : "", argc - i >= 2 ? argv[i + 1] : "");
		usage(stderr);
		return EXIT_USAGE;
	}
	i += cmd->sub != NULL ? 2 : 1;
	n = argc - i;
	if (n < cmd->min_args || (cmd->max_args >= 0 && n > cmd->max_args)) {
		fprintf(stderr, "madoguchi-admin: usage: madoguchi-admin --config FILE %s %s %s\n",
			cmd->name, cmd->sub != NULL ? cmd->sub : "", cmd->args);
		return EXIT_USAGE;
	}
	if (ad.config_path == NULL) {
		fprintf(stderr, "madoguchi-admin: --config FILE is required\n");
		return EXIT_USAGE;
	}
	mdg_config_defaults(&ad.cfg);
	if (mdg_config_load(&ad.cfg, ad.config_path, err, sizeof(err)) == -1) {
		fprintf(stderr, "madoguchi-admin: %s\n", err);
		return EXIT_FAILURE;
	}
	return cmd->fn(&ad, n, argv + i);
}
