#include "fuzz_common.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "crl.h"

static struct mdg_anchors anchors;
static int anchors_loaded;
static char tmpdir[256];

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "fuzz set-up: %s: %s\n", what, msg);
	abort();
}

static void cleanup(void)
{
	char path[512];
	static const char *const files[] = { "fuzz.db", "fuzz.db-wal", "fuzz.db-shm", "fuzz.db-journal", "config.ini" };

	if (!tmpdir[0])
		return;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
		unlink(path);
	}
	rmdir(tmpdir);
	if (anchors_loaded)
		mdg_anchors_free(&anchors);
}

const char *fuzz_tmpdir(void)
{
	if (!tmpdir[0]) {
		/* tmpfs when there is one: the targets write a file per input */
		const char *base = getenv("TMPDIR");
		if (base == NULL || !*base)
			base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(tmpdir, sizeof(tmpdir), "%s/mdg-fuzz-XXXXXX", base);
		if (mkdtemp(tmpdir) == NULL)
			die("mkdtemp", tmpdir);
		atexit(cleanup);
	}
	return tmpdir;
}

const struct mdg_anchors *fuzz_anchors(void)
{
	char err[512];

	if (!anchors_loaded) {
		if (mdg_anchors_load_dir(&anchors, MDG_FUZZ_DATA "/pki/anchors", err, sizeof(err)) != 0)
			die("anchors", err);
		anchors_loaded = 1;
		fuzz_tmpdir();
	}
	return &anchors;
}

time_t fuzz_now(void)
{
	static time_t now;

	if (now == 0) {
		FILE *f = fopen(MDG_FUZZ_DATA "/pki/now", "r");
		long long v = 0;
		if (f == NULL || fscanf(f, "%lld", &v) != 1)
			die("clock", MDG_FUZZ_DATA "/pki/now");
		fclose(f);
		now = (time_t)v;
	}
	return now;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

static void import_crls(struct mdg_store *st)
{
	DIR *d = opendir(MDG_FUZZ_DATA "/pki/crls");
	struct dirent *e;
	char path[1024], err[512];

	if (d == NULL)
		die("crls", MDG_FUZZ_DATA "/pki/crls");
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", MDG_FUZZ_DATA "/pki/crls", e->d_name);
		size_t len = 0;
		unsigned char *data = slurp(path, &len);
		struct mdg_crl_parsed p;
		enum mdg_crl_import_outcome oc;
		if (data == NULL)
			die("read", path);
		memset(&p, 0, sizeof(p));
		if (mdg_crl_parse(fuzz_anchors(), data, len, &p, err, sizeof(err)) != 0)
			die(path, err);
		if (st->ops->crl_import(st->cls, &p.imp, fuzz_now(), &oc, err, sizeof(err)) != MDG_STORE_OK)
			die(path, err);
		mdg_crl_parsed_free(&p);
		free(data);
	}
	closedir(d);
}

void fuzz_store_open(struct mdg_store *st, int with_crls)
{
	struct mdg_config cfg;
	char err[512];
	int from, to;

	mdg_config_defaults(&cfg);
	snprintf(cfg.database, sizeof(cfg.database), "%s/fuzz.db", fuzz_tmpdir());
	if (mdg_store_migrate(&cfg, &from, &to, err, sizeof(err)) != 0)
		die("migrate", err);
	if (mdg_store_open(st, &cfg, err, sizeof(err)) != 0)
		die("open", err);
	if (with_crls)
		import_crls(st);
}
