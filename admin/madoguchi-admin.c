/* madoguchi-admin: the operators' tool (DESIGN.md "Programs").
 *
 *   madoguchi-admin [--config FILE] COMMAND [ARGS...]
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
	const char *more;		/* for COMMAND --help: the options explained, or NULL */
};

static int cmd_db_init(struct admin *, int, char **);
static int cmd_db_migrate(struct admin *, int, char **);
static int cmd_crl_import(struct admin *, int, char **);
static int cmd_crl_status(struct admin *, int, char **);
static int cmd_crl_retire(struct admin *, int, char **);
static int cmd_crl_schedule(struct admin *, int, char **);
static int cmd_log(struct admin *, int, char **);
static int cmd_log_verify(struct admin *, int, char **);
static int cmd_log_head(struct admin *, int, char **);
static int cmd_log_show(struct admin *, int, char **);
static int cmd_log_export(struct admin *, int, char **);

static const struct command commands[] = {
	{ "db", "init", cmd_db_init, 0, 0, "",
	  "create the database if needed and bring it to this build's schema", NULL },
	{ "db", "migrate", cmd_db_migrate, 0, 0, "",
	  "apply pending schema migrations to an existing database", NULL },
	{ "crl", "import", cmd_crl_import, 1, -1, "FILE...",
	  "verify and import CRLs (DER or PEM), one scope per file",
	  "Each FILE is one CRL: \"imported\" (new scope, or a higher cRLNumber: its entries\n"
	  "replace the scope's), \"unchanged\" (the same CRL again), or \"refused\" with the reason.\n"
	  "Importing a newer CRL of a retired scope brings the scope back.\n"
	  "Exit status 1 if any file was not imported." },
	{ "crl", "status", cmd_crl_status, 0, -1, "[--format text|json]",
	  "every anchor name with its CRL scopes: fresh, STALE, retired, or no CRL",
	  "Exit status 1 if a scope in force is STALE (past nextUpdate + crl_max_age) or an anchor\n"
	  "name has no CRL in force: then validity checks of its certificates answer serviceError\n"
	  "and /readyz is 503. Retired scopes are listed and not counted." },
	{ "crl", "retire", cmd_crl_retire, 0, -1, "--issuer DN [--dp DN]",
	  "take a CRL scope out of freshness checks, /readyz and crl status; its entries stay",
	  "--issuer DN  the CRL's issuer as crl status prints it (RFC 4514; case, spaces and the\n"
	  "             order of the RDNs do not matter)\n"
	  "--dp DN      the distribution point of a partition CRL; without it: the full CRL\n"
	  "For a scope imported by mistake or no longer published. Its entries keep answering\n"
	  "revoked (a certificate once listed stays revoked); importing a newer CRL of the scope\n"
	  "brings it back." },
	{ "crl", "schedule", cmd_crl_schedule, 0, -1, "[--oncalendar | --check [--at T]]",
	  "the daily export window and timer from crl_issue_time and crl_cutoff",
	  "(none)        the issue time, the cut-off, the export window and the systemd OnCalendar=\n"
	  "              for madoguchi-daily.timer\n"
	  "--oncalendar  only the OnCalendar= value\n"
	  "--check       exit 0 inside the export window (from the cut-off to the issue time), else\n"
	  "              1 with the reason; --at T (RFC 3339) checks that time instead of now" },
	{ "log", "verify", cmd_log_verify, 0, -1, "[--head HASH]",
	  "recompute the acceptance log's hash chain; with --head, require a row with that hash",
	  NULL },
	{ "log", "head", cmd_log_head, 0, -1, "[--format text|json]",
	  "the chain's head to publish: row count, head hash, last acceptance time", NULL },
	{ "log", "show", cmd_log_show, 1, -1,
	  "RECEIPT [--evidence FILE] [--format text|json] [--show-personal-data]",
	  "one acceptance in full; --evidence writes the signed request (CMS, DER)",
	  "RECEIPT is the receipt id of 32 hex digits, in any case, spaces or dashes between\n"
	  "them as read over the phone (\"c0f2 edec 56de ...\"). The holder's name is always shown;\n"
	  "--show-personal-data adds the address and birth date." },
	{ "log", "export", cmd_log_export, 0, -1,
	  "--new | --batch N [--issuer DN] [--format csv|jsonl|index] [--out FILE]",
	  "hand acceptances to CA issuance: --new records and writes the next batch, --batch N a "
	  "past one", NULL },
	{ "log", NULL, cmd_log, 0, -1,
	  "[--since T] [--until T] [--serial HEX] [--issuer DN] [--receipt ID] [--reason R] "
	  "[--limit N] [--after SEQ] [--format table|json|csv] [--show-personal-data]",
	  "query acceptances (T: YYYY-MM-DD in JST, or RFC 3339)",
	  "The holder's name is always shown; --show-personal-data adds the address and birth date.\n"
	  "--receipt ID takes spaces or dashes between the hex digits." },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))
#define DEFAULT_CONFIG "/etc/madoguchi/madoguchi.conf"

static void
command_line(FILE *f, const struct command *c)
{
	char line[256];

	snprintf(line, sizeof(line), "%s%s%s %s", c->name, c->sub != NULL ? " " : "",
		 c->sub != NULL ? c->sub : "", c->args);
	if (strlen(line) > 20)
		fprintf(f, "  %s\n  %-20s %s\n", line, "", c->help);
	else
		fprintf(f, "  %-20s %s\n", line, c->help);
}

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: madoguchi-admin [--config FILE] COMMAND [ARGS...]\n\ncommands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		command_line(f, &commands[i]);
	fprintf(f, "\noptions:\n"
		"  --config FILE  the madoguchi.conf to use; default: $MADOGUCHI_CONFIG, else\n"
		"                 " DEFAULT_CONFIG "\n"
		"  --help         this text (COMMAND --help: that command's)\n"
		"  --version      the version\n");
}

/* madoguchi-admin db|crl|log --help */
static void
usage_group(FILE *f, const char *name)
{
	size_t i;

	fprintf(f, "usage: madoguchi-admin [--config FILE] %s COMMAND [ARGS...]\n\ncommands:\n", name);
	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			command_line(f, &commands[i]);
	fprintf(f, "\nmadoguchi-admin %s COMMAND --help: that command's options\n", name);
}

static void
usage_command(FILE *f, const struct command *c)
{
	fprintf(f, "usage: madoguchi-admin [--config FILE] %s%s%s %s\n\n%s\n", c->name,
		c->sub != NULL ? " " : "", c->sub != NULL ? c->sub : "", c->args, c->help);
	if (c->more != NULL)
		fprintf(f, "\n%s\n", c->more);
}

static int
is_group(const char *name)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return 1;
	return 0;
}

static int
is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
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
			printf("unchanged %s: %s scope %s number %s already held%s%s\n", file, iss, dp,
			       num, strcmp(err, "unchanged") != 0 ? "; " : "",
			       strcmp(err, "unchanged") != 0 ? err : "");
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
	if (mdg_receipt_id_parse(pos[0], rid) == -1) {
		fprintf(stderr, "madoguchi-admin: log show: a receipt id is %d hex digits (spaces or "
			"dashes between them are fine)\n", MDG_RECEIPT_LEN - 1);
		return EXIT_USAGE;
	}
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

/* ------------------------------------------------------------ crl status */

/* One CRL scope held, copied out of list_crls. */
struct held_scope {
	int64_t id;
	unsigned char *issuer_der;	/* owned */
	size_t issuer_len;
	unsigned char *dp_der;		/* owned; NULL: full CRL */
	size_t dp_len;
	int full;			/* no distribution point */
	char iss[512], dp[512], num[64];
	time_t this_update, next_update, imported_at, retired_at;
	int64_t entries;
	int stale;			/* in force and past nextUpdate + crl_max_age */
	int anchor;			/* matched an anchor name */
};

struct held_list {
	struct held_scope *v;
	size_t n, cap;
	time_t now;
	long max_age;
	int failed;
};

static int
collect_scope(void *arg, const struct mdg_crl_scope *sc)
{
	struct held_list *l = arg;
	struct held_scope *h;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;

		if ((h = realloc(l->v, cap * sizeof(*h))) == NULL)
			goto fail;
		l->v = h;
		l->cap = cap;
	}
	h = &l->v[l->n];
	memset(h, 0, sizeof(*h));
	if ((h->issuer_der = malloc(sc->issuer_len > 0 ? sc->issuer_len : 1)) == NULL)
		goto fail;
	l->n++;
	memcpy(h->issuer_der, sc->issuer_der, sc->issuer_len);
	if (sc->dp_der != NULL) {
		if ((h->dp_der = malloc(sc->dp_len > 0 ? sc->dp_len : 1)) == NULL)
			goto fail;
		memcpy(h->dp_der, sc->dp_der, sc->dp_len);
		h->dp_len = sc->dp_len;
	}
	h->issuer_len = sc->issuer_len;
	h->id = sc->id;
	h->full = sc->dp_der == NULL;
	mdg_der_name_rfc4514(sc->issuer_der, sc->issuer_len, h->iss, sizeof(h->iss));
	if (sc->dp_der != NULL)
		mdg_der_name_rfc4514(sc->dp_der, sc->dp_len, h->dp, sizeof(h->dp));
	mdg_number_decimal(sc->number, sc->number_len, h->num, sizeof(h->num));
	h->this_update = sc->this_update;
	h->next_update = sc->next_update;
	h->imported_at = sc->imported_at;
	h->retired_at = sc->retired_at;
	h->entries = sc->entries;
	h->stale = sc->retired_at == 0 && l->now > sc->next_update + l->max_age;
	return 0;
fail:
	l->failed = 1;
	return 1;
}

static void
held_list_free(struct held_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].issuer_der);
		free(l->v[i].dp_der);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static int
held_list_load(struct mdg_store *st, struct held_list *l)
{
	if (st->ops->list_crls(st->cls, collect_scope, l) != MDG_STORE_OK || l->failed) {
		fprintf(stderr, "madoguchi-admin: database error while listing CRLs\n");
		return -1;
	}
	return 0;
}

static int
same_issuer(const struct held_scope *h, const struct mdg_anchor *a)
{
	return (size_t)a->subject_len == h->issuer_len &&
	       memcmp(a->subject_der, h->issuer_der, h->issuer_len) == 0;
}

static json_t *
scope_json(const struct held_scope *h)
{
	char tu[MDG_RFC3339_LEN], nu[MDG_RFC3339_LEN], imp[MDG_RFC3339_LEN], ret[MDG_RFC3339_LEN];

	mdg_rfc3339_jst(h->this_update, tu);
	mdg_rfc3339_jst(h->next_update, nu);
	mdg_rfc3339_jst(h->imported_at, imp);
	if (h->retired_at != 0)
		mdg_rfc3339_jst(h->retired_at, ret);
	return json_pack("{s:o, s:s, s:o, s:s, s:s, s:s, s:s, s:I, s:b, s:o}", "issuer", json_text(h->iss),
			 "scope", h->full ? "full" : "distributionPoint", "distributionPoint",
			 h->full ? json_null() : json_text(h->dp), "number", h->num, "thisUpdate", tu,
			 "nextUpdate", nu, "importedAt", imp, "entries", (json_int_t)h->entries, "stale",
			 h->stale, "retiredAt", h->retired_at != 0 ? json_string(ret) : json_null());
}

/* "  SCOPE   STATE   number N, E entries, next update T, ..." */
static void
print_scope_line(const struct held_scope *h, size_t width)
{
	char nu[MDG_RFC3339_LEN], imp[MDG_RFC3339_LEN], ret[MDG_RFC3339_LEN], tu[MDG_RFC3339_LEN];
	const char *name = h->full ? "full CRL" : h->dp;
	size_t k;

	mdg_rfc3339_jst(h->next_update, nu);
	mdg_rfc3339_jst(h->this_update, tu);
	mdg_rfc3339_jst(h->imported_at, imp);
	printf("  ");
	put_table_cell(name);
	for (k = display_width(name); k < width + 2; k++)
		putchar(' ');
	if (h->retired_at != 0) {
		mdg_rfc3339_jst(h->retired_at, ret);
		printf("retired  since %s: not counted; its %lld entr%s still answer revoked (number %s)\n",
		       ret, (long long)h->entries, h->entries == 1 ? "y" : "ies", h->num);
		return;
	}
	printf("%-7s  number %s, %lld entr%s, this update %s, next update %s, imported %s\n",
	       h->stale ? "STALE" : "fresh", h->num, (long long)h->entries, h->entries == 1 ? "y" : "ies",
	       tu, nu, imp);
}

static int
cmd_crl_status(struct admin *ad, int argc, char **argv)
{
	const char *format = NULL;
	const struct opt opts[] = { { "format", &format, NULL }, { NULL, NULL, NULL } };
	struct mdg_anchors anchors = { NULL, 0 };
	struct mdg_store st = { NULL, NULL };
	struct held_list l;
	enum out_format fmt;
	size_t names[64], n_names, i, j, width = 8;
	json_t *doc = NULL, *arr = NULL, *others = NULL, *scopes, *o;
	char err[1024], now[MDG_RFC3339_LEN];
	int npos, missing = 0, stale = 0, in_force, rc = EXIT_FAILURE, failed = 0;

	memset(&l, 0, sizeof(l));
	if (parse_opts("crl status", argc, argv, opts, NULL, 0, &npos) != 0 ||
	    parse_format("crl status", format, 0, &fmt) == -1)
		return EXIT_USAGE;
	if (mdg_anchors_load_dir(&anchors, ad->cfg.anchors, err, sizeof(err)) == -1) {
		fprintf(stderr, "madoguchi-admin: crl status: %s\n", err);
		goto out;
	}
	if (open_store(ad, &st) == -1)
		goto out;
	l.now = time(NULL);
	l.max_age = ad->cfg.crl_max_age;
	if (held_list_load(&st, &l) == -1)
		goto out;
	mdg_rfc3339_jst(l.now, now);
	n_names = mdg_anchors_names(&anchors, names, sizeof(names) / sizeof(names[0]));
	for (j = 0; j < l.n; j++) {
		size_t w = display_width(l.v[j].full ? "full CRL" : l.v[j].dp);

		if (w > width)
			width = w;
	}
	if (fmt == FMT_JSON && ((doc = json_object()) == NULL || (arr = json_array()) == NULL ||
				(others = json_array()) == NULL)) {
		failed = 1;
		goto out;
	}
	for (i = 0; i < n_names; i++) {
		const struct mdg_anchor *a = &anchors.v[names[i]];
		int a_stale = 0;

		in_force = 0;
		scopes = fmt == FMT_JSON ? json_array() : NULL;
		if (fmt == FMT_JSON && scopes == NULL) {
			failed = 1;
			goto out;
		}
		if (fmt == FMT_TABLE) {
			put_table_cell(a->subject_text);
			putchar('\n');
		}
		for (j = 0; j < l.n; j++) {
			if (!same_issuer(&l.v[j], a))
				continue;
			l.v[j].anchor = 1;
			in_force += l.v[j].retired_at == 0;
			a_stale += l.v[j].stale;
			if (fmt == FMT_TABLE)
				print_scope_line(&l.v[j], width);
			else if (json_array_append_new(scopes, scope_json(&l.v[j])) != 0)
				failed = 1;
		}
		if (fmt == FMT_TABLE && in_force == 0)
			printf("  no CRL in force: import one (madoguchi-admin crl import FILE); until then "
			       "validity checks on it answer serviceError and /readyz is 503\n");
		missing += in_force == 0;
		stale += a_stale;
		if (fmt == FMT_JSON &&
		    ((o = json_pack("{s:o, s:s, s:o}", "anchor", json_text(a->subject_text), "state",
				    in_force == 0 ? "none" : a_stale > 0 ? "stale" : "fresh", "scopes",
				    scopes)) == NULL ||
		     json_array_append_new(arr, o) != 0))
			failed = 1;
	}
	/* scopes of issuers that are no anchor (any more): shown, not counted */
	for (j = 0; j < l.n; j++) {
		if (l.v[j].anchor)
			continue;
		if (fmt == FMT_JSON) {
			if (json_array_append_new(others, scope_json(&l.v[j])) != 0)
				failed = 1;
			continue;
		}
		printf("(not an anchor name in %s, not counted) ", ad->cfg.anchors);
		put_table_cell(l.v[j].iss);
		putchar('\n');
		print_scope_line(&l.v[j], width);
	}
	if (failed)
		goto out;
	if (fmt == FMT_JSON) {
		if (json_object_set_new(doc, "checkedAt", json_string(now)) != 0 ||
		    json_object_set_new(doc, "crlMaxAge", json_integer(ad->cfg.crl_max_age)) != 0 ||
		    json_object_set_new(doc, "anchors", arr) != 0 ||
		    json_object_set_new(doc, "otherIssuers", others) != 0 ||
		    json_object_set_new(doc, "stale", json_integer(stale)) != 0 ||
		    json_object_set_new(doc, "missing", json_integer(missing)) != 0 ||
		    json_object_set_new(doc, "ok", json_boolean(stale == 0 && missing == 0)) != 0) {
			arr = others = NULL;
			failed = 1;
			goto out;
		}
		arr = others = NULL;
		if (print_json(doc) == -1) {
			failed = 1;
			goto out;
		}
	}
	fflush(stdout);
	/* non-zero for monitoring: a stale CRL, or an anchor name without one,
	 * means no "valid" answers for its certificates */
	if (stale > 0 || missing > 0)
		fprintf(stderr, "madoguchi-admin: crl status: %d scope%s STALE, %d of %zu anchor name%s "
			"without a CRL in force: import fresh CRLs\n", stale, stale == 1 ? "" : "s",
			missing, n_names, n_names == 1 ? "" : "s");
	else if (fmt == FMT_TABLE)
		printf("ok: %zu anchor name%s, every CRL in force is fresh (checked %s, crl_max_age %lds)\n",
		       n_names, n_names == 1 ? "" : "s", now, ad->cfg.crl_max_age);
	rc = stale == 0 && missing == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
out:
	if (failed)
		fprintf(stderr, "madoguchi-admin: crl status: out of memory\n");
	json_decref(doc);
	json_decref(arr);
	json_decref(others);
	held_list_free(&l);
	mdg_store_close(&st);
	mdg_anchors_free(&anchors);
	return rc;
}

/* ------------------------------------------------------------ crl retire */

static int
cmd_crl_retire(struct admin *ad, int argc, char **argv)
{
	const char *issuer = NULL, *dp = NULL;
	const struct opt opts[] = { { "issuer", &issuer, NULL }, { "dp", &dp, NULL },
				    { NULL, NULL, NULL } };
	struct mdg_store st = { NULL, NULL };
	struct held_list l;
	struct held_scope *h = NULL;
	char when[MDG_RFC3339_LEN];
	enum mdg_store_status s;
	int npos, left = 0, rc = EXIT_FAILURE;
	size_t j;

	memset(&l, 0, sizeof(l));
	if (parse_opts("crl retire", argc, argv, opts, NULL, 0, &npos) != 0)
		return EXIT_USAGE;
	if (issuer == NULL || issuer[0] == '\0' || (dp != NULL && dp[0] == '\0')) {
		fprintf(stderr, "madoguchi-admin: crl retire: give --issuer DN (the CRL's issuer, as crl "
			"status prints it) and, for a partition CRL, --dp DN (its distribution point); "
			"without --dp the issuer's full CRL is meant\n");
		return EXIT_USAGE;
	}
	if (open_store(ad, &st) == -1)
		goto out;
	l.now = time(NULL);
	l.max_age = ad->cfg.crl_max_age;
	if (held_list_load(&st, &l) == -1)
		goto out;
	for (j = 0; j < l.n && h == NULL; j++)
		if (mdg_name_text_match(l.v[j].issuer_der, l.v[j].issuer_len, issuer) &&
		    (dp == NULL ? l.v[j].full : !l.v[j].full && mdg_name_text_match(l.v[j].dp_der, l.v[j].dp_len, dp)))
			h = &l.v[j];
	if (h == NULL) {
		fprintf(stderr, "madoguchi-admin: crl retire: no CRL held for %s, %s%s: crl status lists "
			"the scopes held\n", issuer, dp != NULL ? "distribution point " : "full CRL",
			dp != NULL ? dp : "");
		goto out;
	}
	if (h->retired_at != 0) {
		mdg_rfc3339_jst(h->retired_at, when);
		printf("unchanged: %s, %s%s was retired at %s already\n", h->iss,
		       h->full ? "full CRL" : "distribution point ", h->full ? "" : h->dp, when);
		rc = EXIT_SUCCESS;
		goto out;
	}
	if ((s = st.ops->crl_retire(st.cls, h->id, l.now)) != MDG_STORE_OK) {
		fprintf(stderr, "madoguchi-admin: crl retire: %s\n", s == MDG_STORE_NOT_FOUND
			? "the scope was retired or replaced meanwhile: run crl status"
			: "database error: nothing changed");
		goto out;
	}
	h->retired_at = l.now;
	mdg_rfc3339_jst(l.now, when);
	printf("retired %s, %s%s (number %s) at %s: freshness checks, /readyz and crl status no longer "
	       "count it; its %lld entr%s stay, so a certificate on it still answers revoked. Importing a "
	       "newer CRL of this scope brings it back.\n", h->iss, h->full ? "full CRL" : "distribution point ",
	       h->full ? "" : h->dp, h->num, when, (long long)h->entries, h->entries == 1 ? "y" : "ies");
	for (j = 0; j < l.n; j++)
		if (l.v[j].retired_at == 0 && l.v[j].issuer_len == h->issuer_len &&
		    memcmp(l.v[j].issuer_der, h->issuer_der, h->issuer_len) == 0)
			left++;
	if (left == 0)
		fprintf(stderr, "madoguchi-admin: crl retire: warning: %s now has no CRL in force: validity "
			"checks of its certificates answer serviceError and /readyz is 503 until one is "
			"imported\n", h->iss);
	rc = EXIT_SUCCESS;
out:
	held_list_free(&l);
	mdg_store_close(&st);
	return rc;
}

/* ---------------------------------------------------------- crl schedule */

#define DAY 86400L

static long
mod_day(long v)
{
	return ((v % DAY) + DAY) % DAY;
}

static void
clock_text(long sod, char out[16])
{
	int v = (int)mod_day(sod);

	snprintf(out, 16, "%02d:%02d:%02d", (v / 3600) % 24, (v / 60) % 60, v % 60);
}

static void
offset_text(int off, char out[16])
{
	int a = off < 0 ? -off : off;

	if (off == 0)
		snprintf(out, 16, "Z");
	else
		snprintf(out, 16, "%c%02d:%02d", off < 0 ? '-' : '+', (a / 3600) % 24, (a / 60) % 60);
}

static void
duration_text(long v, char out[32])
{
	if (v > 0 && v % 3600 == 0)
		snprintf(out, 32, "%ldh", v / 3600);
	else if (v > 0 && v % 60 == 0)
		snprintf(out, 32, "%ldm", v / 60);
	else
		snprintf(out, 32, "%lds", v);
}

/* The export window of the daily routine, from [pki] crl_issue_time and
 * crl_cutoff (seconds of the day in the issue time's offset): it opens at
 * the cut-off (issue - cutoff) and closes at the issue time. The routine
 * runs a little after it opens (5 minutes, or a quarter of a shorter
 * cut-off): an acceptance committed at the cut-off is in, and the CA has
 * the rest of the window to issue. */
struct schedule {
	long issue, open, run;		/* seconds of the day, in the offset */
	long cutoff;
	int offset;
	char oncalendar[64];
};

static void
schedule_of(const struct mdg_config *cfg, struct schedule *s)
{
	char hms[16];
	long margin;

	s->offset = cfg->crl_issue_offset;
	s->cutoff = cfg->crl_cutoff;
	s->issue = (long)cfg->crl_issue_minutes * 60;
	s->open = mod_day(s->issue - s->cutoff);
	margin = s->cutoff >= 20 * 60 ? 5 * 60 : s->cutoff / 4;
	s->run = mod_day(s->open + margin);
	/* systemd takes time zone names, not offsets: Japan's is Asia/Tokyo
	 * (no daylight saving time), any other offset is said in UTC */
	if (s->offset == 9 * 3600) {
		clock_text(s->run, hms);
		snprintf(s->oncalendar, sizeof(s->oncalendar), "*-*-* %s Asia/Tokyo", hms);
	} else {
		clock_text(mod_day(s->run - s->offset), hms);
		snprintf(s->oncalendar, sizeof(s->oncalendar), "*-*-* %s UTC", hms);
	}
}

/* Is the instant t inside the window (for the CRL of some issue time)? */
static int
in_window(const struct schedule *s, time_t t)
{
	long sod = mod_day((long)(((int64_t)t + s->offset) % DAY));

	if (s->cutoff >= DAY)
		return 1;
	return mod_day(sod - s->open) < s->cutoff;
}

static int
cmd_crl_schedule(struct admin *ad, int argc, char **argv)
{
	const char *at = NULL;
	int check = 0, oncal = 0, npos;
	const struct opt opts[] = { { "check", NULL, &check }, { "at", &at, NULL },
				    { "oncalendar", NULL, &oncal }, { NULL, NULL, NULL } };
	struct schedule s;
	char iss[16], opn[16], run[16], off[16], dur[32], now_text[MDG_RFC3339_LEN];
	time_t now = time(NULL);

	if (parse_opts("crl schedule", argc, argv, opts, NULL, 0, &npos) != 0)
		return EXIT_USAGE;
	if (at != NULL && mdg_rfc3339_parse(at, &now) == -1) {
		fprintf(stderr, "madoguchi-admin: crl schedule: --at takes an RFC 3339 time "
			"(2026-12-01T23:05:00+09:00)\n");
		return EXIT_USAGE;
	}
	if (at != NULL && !check) {
		fprintf(stderr, "madoguchi-admin: crl schedule: --at goes with --check\n");
		return EXIT_USAGE;
	}
	schedule_of(&ad->cfg, &s);
	clock_text(s.issue, iss);
	clock_text(s.open, opn);
	clock_text(s.run, run);
	offset_text(s.offset, off);
	if (oncal) {
		printf("%s\n", s.oncalendar);
		return EXIT_SUCCESS;
	}
	if (check) {
		mdg_rfc3339_jst(now, now_text);
		if (s.cutoff > 0 && in_window(&s, now)) {
			printf("in the export window (%s to %s, %s): export now\n", opn, iss, off);
			return EXIT_SUCCESS;
		}
		fprintf(stderr, "madoguchi-admin: crl schedule: it is %s, outside the export window %s to "
			"%s (%s), the time between the cut-off (crl_issue_time - crl_cutoff) and the CRL's "
			"issue: an export now would leave the acceptances made until the cut-off for a later "
			"CRL than they were told. The routine runs at %s (%s); to export anyway, run "
			"madoguchi-daily --force (docs/operations.md)\n", now_text, opn, iss, off, run,
			s.oncalendar);
		return EXIT_FAILURE;
	}
	printf("CRL issue time:  %s%s every day (crl_issue_time)\n", iss, off);
	duration_text(s.cutoff, dur);
	printf("cut-off:         %s%s (crl_cutoff %s before): a revocation accepted before it is told "
	       "the next CRL, one accepted from it on the CRL after\n", opn, off, dur);
	if (s.cutoff <= 0 || s.cutoff >= DAY) {
		printf("export window:   none that works daily: set crl_cutoff between a few minutes and a "
		       "few hours (1h is the default)\n");
		return EXIT_FAILURE;
	}
	printf("export window:   %s to %s%s: the daily routine (madoguchi-daily) exports the "
	       "acceptances then, and the CA issues the CRL at %s with them\n", opn, iss, off, iss);
	printf("daily routine:   %s%s\n", run, off);
	printf("OnCalendar=%s\n", s.oncalendar);
	if (s.cutoff < 15 * 60)
		fprintf(stderr, "madoguchi-admin: crl schedule: warning: a cut-off of %lds leaves the CA "
			"little time to issue the CRL after the export\n", s.cutoff);
	return EXIT_SUCCESS;
}

/* ------------------------------------------------------------ log export */

enum export_format { EXP_CSV, EXP_JSONL, EXP_INDEX };

struct export_out {
	enum export_format fmt;
	FILE *f;
	int64_t batch;
	int64_t n;
	int64_t skipped;	/* index: rows that cannot be rendered (named on stderr) */
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

/* One index.txt line: R, expiry, revocation time[,reason], serial, unknown,
 * subject. The certificate's notAfter and subject are stored with the
 * acceptance (schema 4); for rows from before, they are read from the
 * certificate in the stored request. -1 with o->why (nothing written) if
 * the row cannot be rendered. */
static int
index_line(struct export_out *o, const struct mdg_acceptance_row *r)
{
	X509 *cert = NULL;
	X509_NAME *name = NULL;
	const unsigned char *p;
	char exp[32], rev[32], *subject = NULL;
	struct tm tm;
	time_t t;
	size_t i;
	int rc = -1;

	if (r->has_cert_not_after && r->cert_subject_der != NULL) {
		p = r->cert_subject_der;
		t = (time_t)r->cert_not_after;
		if (r->cert_subject_len > LONG_MAX ||
		    (name = d2i_X509_NAME(NULL, &p, (long)r->cert_subject_len)) == NULL ||
		    p != r->cert_subject_der + r->cert_subject_len) {
			snprintf(o->why, sizeof(o->why), "the stored certificate subject does not "
				 "parse");
			goto out;
		}
		if (gmtime_r(&t, &tm) == NULL)
			goto bad_time;
	} else {
		if ((cert = evidence_cert(r)) == NULL) {
			snprintf(o->why, sizeof(o->why), "accepted before schema version 4 (no stored "
				 "notAfter), and the stored request holds no readable certificate with "
				 "the row's serial");
			goto out;
		}
		if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1)
			goto bad_time;
		if ((name = X509_NAME_dup(X509_get_subject_name(cert))) == NULL)
			goto out;
	}
	index_time(&tm, exp);
	if (exp[0] == '\0')
		goto bad_time;
	if (mdg_rfc3339_parse(r->accepted_at, &t) == -1 || gmtime_r(&t, &tm) == NULL ||
	    tm.tm_year + 1900 < 1950 || tm.tm_year + 1900 >= 2050)
		goto bad_time;
	index_time(&tm, rev);
	if ((subject = X509_NAME_oneline(name, NULL, 0)) == NULL)
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
	snprintf(o->why, sizeof(o->why), "a time out of the index format's range");
out:
	if (rc != 0 && o->why[0] == '\0')
		snprintf(o->why, sizeof(o->why), "cannot format the row");
	OPENSSL_free(subject);
	X509_NAME_free(name);
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
		/* a row that cannot be rendered is named and skipped: the rows
		 * after it still go out and the batch completes */
		o->why[0] = '\0';
		if (index_line(o, r) == -1) {
			fprintf(stderr, "madoguchi-admin: log export: batch %lld: seq %lld (receipt id "
				"%s) is not in the index: %s\n", (long long)o->batch, (long long)r->seq,
				r->receipt_id, o->why);
			o->why[0] = '\0';
			o->skipped++;
			return 0;
		}
		o->n++;
		return 0;
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
		if (issuer == NULL && o.n + o.skipped != b.count) {
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
		(long long)b.id, (long long)(issuer != NULL ? o.n + o.skipped : b.count),
		(issuer != NULL ? o.n + o.skipped : b.count) == 1 ? "" : "s", (long long)b.first_seq,
		(long long)b.last_seq, hx, out_path != NULL ? ", written to " : "",
		out_path != NULL ? out_path : "");
	if (o.skipped > 0) {
		/* the batch is complete (the next --new starts a new one), but the
		 * CA must get the rows named above by other means */
		fprintf(stderr, "madoguchi-admin: log export: batch %lld: %lld acceptance%s not in the "
			"index (named above); the batch is completed all the same: hand %s to the CA "
			"from `log export --batch %lld --format csv` (docs/operations.md)\n",
			(long long)b.id, (long long)o.skipped, o.skipped == 1 ? "" : "s",
			o.skipped == 1 ? "it" : "them", (long long)b.id);
		goto out;
	}
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
	const char *env;
	char err[1024];
	size_t j;
	int i, k, n, from_default = 0;

	memset(&ad, 0, sizeof(ad));
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (is_help(argv[i])) {
			usage(stdout);
			return EXIT_SUCCESS;
		} else if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
			printf("madoguchi-admin " MDG_VERSION "\n");
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
	for (j = 0; j < N_COMMANDS && cmd == NULL; j++)
		if (commands[j].sub != NULL && argc - i >= 2 &&
		    strcmp(commands[j].name, argv[i]) == 0 && strcmp(commands[j].sub, argv[i + 1]) == 0)
			cmd = &commands[j];
	for (j = 0; j < N_COMMANDS && cmd == NULL; j++)
		if (commands[j].sub == NULL && strcmp(commands[j].name, argv[i]) == 0)
			cmd = &commands[j];
	if (cmd == NULL && is_group(argv[i]) && (argc - i == 1 || is_help(argv[i + 1]))) {
		/* "crl" alone says which crl commands there are; "crl --help" too */
		if (argc - i == 1)
			fprintf(stderr, "madoguchi-admin: %s: which command?\n", argv[i]);
		usage_group(argc - i == 1 ? stderr : stdout, argv[i]);
		return argc - i == 1 ? EXIT_USAGE : EXIT_SUCCESS;
	}
	if (cmd == NULL) {
		fprintf(stderr, "madoguchi-admin: unknown command \"%s%s%s\"\n", argv[i],
			argc - i >= 2 ? " " : "", argc - i >= 2 ? argv[i + 1] : "");
		if (is_group(argv[i]))
			usage_group(stderr, argv[i]);
		else
			usage(stderr);
		return EXIT_USAGE;
	}
	i += cmd->sub != NULL ? 2 : 1;
	n = argc - i;
	/* COMMAND --help, anywhere before "--": that command's usage */
	for (k = i; k < argc && strcmp(argv[k], "--") != 0; k++) {
		if (!is_help(argv[k]))
			continue;
		if (cmd->sub == NULL)
			usage_group(stdout, cmd->name);
		else
			usage_command(stdout, cmd);
		return EXIT_SUCCESS;
	}
	if (n < cmd->min_args || (cmd->max_args >= 0 && n > cmd->max_args)) {
		fprintf(stderr, "madoguchi-admin: usage: madoguchi-admin [--config FILE] %s%s%s %s\n",
			cmd->name, cmd->sub != NULL ? " " : "", cmd->sub != NULL ? cmd->sub : "",
			cmd->args);
		return EXIT_USAGE;
	}
	if (ad.config_path == NULL) {
		env = getenv("MADOGUCHI_CONFIG");
		ad.config_path = env != NULL && env[0] != '\0' ? env : DEFAULT_CONFIG;
		from_default = env != NULL && env[0] != '\0' ? 1 : 2;
	}
	mdg_config_defaults(&ad.cfg);
	if (mdg_config_load(&ad.cfg, ad.config_path, err, sizeof(err)) == -1) {
		fprintf(stderr, "madoguchi-admin: %s%s\n", err,
			from_default == 1 ? " (named by MADOGUCHI_CONFIG; --config FILE gives another)"
			: from_default == 2 ? " (the default: give --config FILE or set MADOGUCHI_CONFIG)"
					    : "");
		return EXIT_FAILURE;
	}
	return cmd->fn(&ad, n, argv + i);
}
