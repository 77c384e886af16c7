/* madoguchid: the window's HTTP daemon. Open everything first (config,
 * anchors, nonce key, database check, socket), then serve until SIGTERM or
 * SIGINT, then stop gracefully: requests in flight finish. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "anchors.h"
#include "certcache.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "nonce.h"
#include "store.h"

#define CERT_CACHE_ENTRIES 65536
#define STOP_GRACE_SECONDS 30

static void usage(FILE *f)
{
	fprintf(f, "usage: madoguchid --config FILE [--check-config]\n"
		   "  --config FILE     the INI configuration (see madoguchi.conf(5))\n"
		   "  --check-config    load and check everything, print a summary, exit\n"
		   "  --help            this text\n"
		   "  --version         the version\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	int check_only = 0, ch, created = 0, rc = 1;
	char err[1024];
	struct mdg_config cfg;
	struct mdg_anchors anchors = {0};
	struct mdg_nonce_key nonce_key;
	struct mdg_store probe = {0};
	struct mdg_server srv;
	sigset_t sigs;

	memset(&srv, 0, sizeof(srv));
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': config_path = optarg; break;
		case 'k': check_only = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("madoguchid 0.1.0\n"); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (config_path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	mdg_config_defaults(&cfg);
	if (mdg_config_load(&cfg, config_path, err, sizeof(err)) != 0) {
		mdg_log("error", "config: %s", err);
		return 1;
	}
	if (mdg_anchors_load_dir(&anchors, cfg.anchors, err, sizeof(err)) != 0) {
		mdg_log("error", "anchors: %s", err);
		goto out;
	}
	if (mdg_nonce_key_load(&nonce_key, cfg.nonce_key_file, &created, err, sizeof(err)) != 0) {
		mdg_log("error", "nonce key: %s", err);
		goto out;
	}
	if (created)
		mdg_log("warning", "created a new nonce key at %s: share it with every node of the window",
			cfg.nonce_key_file);
	if (mdg_store_sqlite_open(&probe, cfg.database, err, sizeof(err)) != 0) {
		mdg_log("error", "database: %s", err);
		goto out;
	}
	mdg_store_close(&probe);
	srv.cfg = &cfg;
	if (mdg_http_parse_proxies(&srv, err, sizeof(err)) != 0) {
		mdg_log("error", "config: %s", err);
		goto out;
	}
	if (check_only) {
		printf("configuration OK: %zu anchors, database %s at schema version %d\n", anchors.n, cfg.database,
		       mdg_store_sqlite_schema_version());
		rc = 0;
		goto out;
	}

	/* signals are taken by sigwait in this thread only */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	srv.pipeline.cfg = &cfg;
	srv.pipeline.anchors = &anchors;
	srv.pipeline.nonce_key = &nonce_key;
	srv.pipeline.cache = mdg_certcache_new(CERT_CACHE_ENTRIES);
	if (srv.pipeline.cache == NULL) {
		mdg_log("error", "out of memory");
		goto out;
	}
	if (mdg_http_start(&srv, err, sizeof(err)) != 0) {
		mdg_log("error", "%s", err);
		goto out;
	}
	mdg_log("info", "madoguchid listening on %s port %u (%s), %zu anchors", cfg.listen, srv.port,
		cfg.tls_cert[0] ? "https" : "http", anchors.n);
	for (;;) {
		int sig = 0;
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			mdg_log("info", "SIGHUP: nothing to reload yet");
			continue;
		}
		mdg_log("info", "signal %d: stopping, letting requests in flight finish", sig);
		break;
	}
	mdg_http_stop(&srv, STOP_GRACE_SECONDS);
	mdg_log("info", "stopped");
	rc = 0;
out:
	mdg_certcache_free(srv.pipeline.cache);
	mdg_anchors_free(&anchors);
	OPENSSL_cleanse(&nonce_key, sizeof(nonce_key));
	return rc;
}
