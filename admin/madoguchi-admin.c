/* madoguchi-admin: the operators' tool (DESIGN.md "Programs").
 *
 *   madoguchi-admin --config FILE COMMAND [ARGS...]
 *
 * Commands are a table (name, subcommand, handler, argument counts, usage),
 * so new ones (crl status, log ...) are one row and one function each.
 * Exit status: 0 success, 1 failure, 2 usage error. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/x509.h>

#include "anchors.h"
#include "config.h"
#include "crl.h"
#include "store.h"
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

static const struct command commands[] = {
	{ "db", "init", cmd_db_init, 0, 0, "",
	  "create the database if needed and bring it to this build's schema" },
	{ "db", "migrate", cmd_db_migrate, 0, 0, "",
	  "apply pending schema migrations to an existing database" },
	{ "crl", "import", cmd_crl_import, 1, -1, "FILE...",
	  "verify and import CRLs (DER or PEM), one scope per file" },
	{ "crl", "status", cmd_crl_status, 0, 0, "",
	  "list the CRL scopes held, with their numbers and freshness" },
};

static void
usage(FILE *f)
{
	char line[64];
	size_t i;

	fprintf(f, "usage: madoguchi-admin --config FILE COMMAND [ARGS...]\n\ncommands:\n");

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		snprintf(line, sizeof(line), "%s%s%s %s", commands[i].name,
			 commands[i].sub != NULL ? " " : "",
			 commands[i].sub != NULL ? commands[i].sub : "", commands[i].args);
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

static int
read_file(const char *path, unsigned char **buf, size_t *len, char *err, size_t errlen)
{
	FILE *f = NULL;
	struct stat sb;
	unsigned char *p = NULL;
	int rc = -1;

	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &sb) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size <= 0 || (size_t)sb.st_size > CRL_FILE_MAX) {
		snprintf(err, errlen, "not a regular file of 1 byte to %zu MiB", CRL_FILE_MAX >> 20);
		goto out;
	}
	if ((p = malloc((size_t)sb.st_size)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (fread(p, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
		snprintf(err, errlen, "read error");
		goto out;
	}
	*buf = p;
	*len = (size_t)sb.st_size;
	p = NULL;
	rc = 0;
out:
	free(p);
	if (f != NULL)
		fclose(f);
	return rc;
}

static void
der_name_text(const unsigned char *der, size_t len, char *out, size_t outlen)
{
	const unsigned char *p = der;
	X509_NAME *name = len <= LONG_MAX ? d2i_X509_NAME(NULL, &p, (long)len) : NULL;
	BIO *b = NULL;
	char *s;
	long n;

	snprintf(out, outlen, "(unprintable name)");
	if (name == NULL || (b = BIO_new(BIO_s_mem())) == NULL)
		goto out;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (n = BIO_get_mem_data(b, &s)) >= 0)
		snprintf(out, outlen, "%.*s", n > INT_MAX ? INT_MAX : (int)n, s);
out:
	BIO_free(b);
	X509_NAME_free(name);
}

static void
number_text(const unsigned char *n, size_t len, char *out, size_t outlen)
{
	BIGNUM *bn = BN_bin2bn(n, (int)len, NULL);
	char *s = bn != NULL ? BN_bn2dec(bn) : NULL;

	snprintf(out, outlen, "%s", s != NULL ? s : "?");
	OPENSSL_free(s);
	BN_free(bn);
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
	if (read_file(file, &buf, &len, err, sizeof(err)) == -1) {
		fprintf(stderr, "failed %s: %s\n", file, err);
		goto out;
	}
	if (mdg_crl_parse(anchors, buf, len, &p, err, sizeof(err)) == -1) {
		fprintf(stderr, "refused %s: %s\n", file, err);
		goto out;
	}
	der_name_text(p.imp.issuer_der, p.imp.issuer_len, iss, sizeof(iss));
	if (p.imp.dp_der != NULL)
		der_name_text(p.imp.dp_der, p.imp.dp_len, dp, sizeof(dp));
	else
		snprintf(dp, sizeof(dp), "full");
	number_text(p.imp.number, p.imp.number_len, num, sizeof(num));
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
};

static int
print_scope(void *arg, const struct mdg_crl_scope *sc)
{
	struct status_ctx *c = arg;
	char iss[512], dp[512], num[64], tu[MDG_RFC3339_LEN], nu[MDG_RFC3339_LEN],
	    imp[MDG_RFC3339_LEN];

	der_name_text(sc->issuer_der, sc->issuer_len, iss, sizeof(iss));
	if (sc->dp_der != NULL)
		der_name_text(sc->dp_der, sc->dp_len, dp, sizeof(dp));
	else
		snprintf(dp, sizeof(dp), "full");
	number_text(sc->number, sc->number_len, num, sizeof(num));
	mdg_rfc3339_jst(sc->this_update, tu);
	mdg_rfc3339_jst(sc->next_update, nu);
	mdg_rfc3339_jst(sc->imported_at, imp);
	printf("%s scope %s number %s, %lld entries, thisUpdate %s, nextUpdate %s, imported %s: %s\n",
	       iss, dp, num, (long long)sc->entries, tu, nu, imp,
	       c->now > sc->next_update + c->max_age ? "STALE" : "fresh");
	c->n++;
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
	if (st.ops->list_crls(st.cls, print_scope, &c) != MDG_STORE_OK) {
		fprintf(stderr, "madoguchi-admin: database error while listing CRLs\n");
		goto out;
	}
	if (c.n == 0)
		printf("no CRL held: run madoguchi-admin crl import\n");
	rc = EXIT_SUCCESS;
out:
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
