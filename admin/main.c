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

#include "admin.h"
#include "config.h"
#include "store.h"

static const struct command commands[] = {
	{ "db", "init", cmd_db_init, 0, 0, "", "create the database if needed and bring it to this build's schema",
	  NULL },
	{ "db", "migrate", cmd_db_migrate, 0, 0, "", "apply pending schema migrations to an existing database", NULL },
	{ "db", "copy", cmd_db_copy, 1, -1, "--to-config OTHER",
	  "copy everything this store holds into the empty store OTHER names (either backend), then "
	  "verify the chain on both sides",
	  "--to-config OTHER  a madoguchi.conf whose [store] names the target: it must hold no rows\n"
	  "                   (one without tables is initialised first, as db init does)\n"
	  "Copies the CRL scopes with their entries (ids kept), the export batches, every acceptance\n"
	  "as stored (seq, prev_hash, hash, evidence, export batch, ...) and, where both backends keep\n"
	  "the log's Merkle tree, the checkpoints (the target computes its nodes from the rows). The\n"
	  "source is read in one snapshot, the target written in one transaction; then the chain is\n"
	  "recomputed on both sides, which must have the same row count and head hash. Stop the window\n"
	  "first (or copy again): acceptances made after the snapshot are not in the copy." },
	{ "crl", "import", cmd_crl_import, 1, -1, "FILE...", "verify and import CRLs (DER or PEM), one scope per file",
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
	  "recompute the acceptance log's hash chain and Merkle tree (against the latest checkpoint); "
	  "with --head, require a row with that hash",
	  "The Merkle tree: every row's receipt content must give the leaf stored for it, and the\n"
	  "root of all leaves the latest checkpoint's; with [receipts] log_key set, the checkpoint's\n"
	  "signature must verify too." },
	{ "log", "checkpoint", cmd_log_checkpoint, 0, 0, "",
	  "print the latest checkpoint of the log (the signed note to publish)", NULL },
	{ "log", "head", cmd_log_head, 0, -1, "[--format text|json]",
	  "the chain's head to publish: row count, head hash, last acceptance time", NULL },
	{ "log", "show", cmd_log_show, 1, -1, "RECEIPT [--evidence FILE] [--format text|json] [--show-personal-data]",
	  "one acceptance in full; --evidence writes the signed request (CMS, DER)",
	  "RECEIPT is the receipt id of 32 hex digits, in any case, spaces or dashes between\n"
	  "them as read over the phone (\"c0f2 edec 56de ...\"). The holder's name is always shown;\n"
	  "--show-personal-data adds the address and birth date." },
	{ "log", "export", cmd_log_export, 0, -1,
	  "--new | --batch N [--issuer DN] [--format csv|jsonl|index] [--out FILE]",
	  "hand acceptances to CA issuance: --new records and writes the next batch, --batch N a "
	  "past one",
	  NULL },
	{ "log", NULL, cmd_log, 0, -1,
	  "[--since T] [--until T] [--serial HEX] [--issuer DN] [--receipt ID] [--reason R] "
	  "[--limit N] [--after SEQ] [--format table|json|csv] [--show-personal-data]",
	  "query acceptances (T: YYYY-MM-DD in JST, or RFC 3339)",
	  "The holder's name is always shown; --show-personal-data adds the address and birth date.\n"
	  "--receipt ID takes spaces or dashes between the hex digits." },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))
#define DEFAULT_CONFIG "/etc/madoguchi/madoguchi.conf"

static void command_line(FILE *f, const struct command *c)
{
	char line[256];

	snprintf(line, sizeof(line), "%s%s%s %s", c->name, c->sub != NULL ? " " : "", c->sub != NULL ? c->sub : "",
		 c->args);
	if (strlen(line) > 20)
		fprintf(f, "  %s\n  %-20s %s\n", line, "", c->help);
	else
		fprintf(f, "  %-20s %s\n", line, c->help);
}

static void usage(FILE *f)
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
static void usage_group(FILE *f, const char *name)
{
	size_t i;

	fprintf(f, "usage: madoguchi-admin [--config FILE] %s COMMAND [ARGS...]\n\ncommands:\n", name);
	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			command_line(f, &commands[i]);
	fprintf(f, "\nmadoguchi-admin %s COMMAND --help: that command's options\n", name);
}

static void usage_command(FILE *f, const struct command *c)
{
	fprintf(f, "usage: madoguchi-admin [--config FILE] %s%s%s %s\n\n%s\n", c->name, c->sub != NULL ? " " : "",
		c->sub != NULL ? c->sub : "", c->args, c->help);
	if (c->more != NULL)
		fprintf(f, "\n%s\n", c->more);
}

static int is_group(const char *name)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return 1;
	return 0;
}

static int is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int cmd_db_init(struct admin *ad, int argc, char **argv)
{
	char err[1024], db[600];
	int from, to;

	mdg_store_describe(&ad->cfg, db, sizeof(db));
	if (mdg_store_migrate(&ad->cfg, &from, &to, err, sizeof(err)) == -1) {
		fprintf(stderr, "madoguchi-admin: %s\n", err);
		return EXIT_FAILURE;
	}
	if (from == to)
		printf("%s already initialised at schema version %d: nothing to do\n", db, to);
	else if (from == 0)
		printf("initialised %s at schema version %d\n", db, to);
	else
		printf("migrated %s from schema version %d to %d\n", db, from, to);
	return EXIT_SUCCESS;
}

int cmd_db_migrate(struct admin *ad, int argc, char **argv)
{
	char err[1024], db[600];
	int from, to;

	mdg_store_describe(&ad->cfg, db, sizeof(db));
	if (mdg_store_exists(&ad->cfg, err, sizeof(err)) != 1) {
		fprintf(stderr, "madoguchi-admin: %s\n", err);
		return EXIT_FAILURE;
	}
	if (mdg_store_migrate(&ad->cfg, &from, &to, err, sizeof(err)) == -1) {
		fprintf(stderr, "madoguchi-admin: %s\n", err);
		return EXIT_FAILURE;
	}
	if (from == to)
		printf("%s already at schema version %d: nothing to do\n", db, to);
	else
		printf("migrated %s from schema version %d to %d\n", db, from, to);
	return EXIT_SUCCESS;
}

/* ------------------------------------------------------------- options */

/* Parses options and up to maxpos positional arguments. Returns 0, or
 * EXIT_USAGE after saying what is wrong. */
int parse_opts(const char *cmd, int argc, char **argv, const struct opt *opts, char **pos, int maxpos, int *npos)
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
					fprintf(stderr, "madoguchi-admin: unknown command \"%s %s\"\n", cmd, argv[i]);
				else
					fprintf(stderr, "madoguchi-admin: %s: unexpected argument %s\n", cmd, argv[i]);
				return EXIT_USAGE;
			}
			pos[(*npos)++] = argv[i];
			continue;
		}
		for (o = opts; o->name != NULL; o++) {
			n = strlen(o->name);
			if (strncmp(argv[i] + 2, o->name, n) != 0 || (argv[i][2 + n] != '\0' && argv[i][2 + n] != '='))
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

int parse_format(const char *cmd, const char *s, int allow_csv, enum out_format *f)
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

int open_store(struct admin *ad, struct mdg_store *st)
{
	char err[1024];

	if (mdg_store_open(st, &ad->cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "madoguchi-admin: %s\n", err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
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
		if (commands[j].sub != NULL && argc - i >= 2 && strcmp(commands[j].name, argv[i]) == 0 &&
		    strcmp(commands[j].sub, argv[i + 1]) == 0)
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
		fprintf(stderr, "madoguchi-admin: unknown command \"%s%s%s\"\n", argv[i], argc - i >= 2 ? " " : "",
			argc - i >= 2 ? argv[i + 1] : "");
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
		fprintf(stderr, "madoguchi-admin: usage: madoguchi-admin [--config FILE] %s%s%s %s\n", cmd->name,
			cmd->sub != NULL ? " " : "", cmd->sub != NULL ? cmd->sub : "", cmd->args);
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
			from_default == 1   ? " (named by MADOGUCHI_CONFIG; --config FILE gives another)"
			: from_default == 2 ? " (the default: give --config FILE or set MADOGUCHI_CONFIG)"
					    : "");
		return EXIT_FAILURE;
	}
	return cmd->fn(&ad, n, argv + i);
}
