/* madoguchid: the window's HTTP daemon. Open everything first (config,
 * anchors, nonce key, database check, socket), then serve until SIGTERM or
 * SIGINT, then stop gracefully: requests in flight finish. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "admin_http.h"
#include "anchors.h"
#include "certcache.h"
#include "checkpoint.h"
#include "checkpointer.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "nonce.h"
#include "receipt.h"
#include "store.h"
#include "tls.h"

#define CERT_CACHE_ENTRIES 65536
#define STOP_GRACE_SECONDS 30

#ifndef MDG_VERSION
#define MDG_VERSION "0.1.0"
#endif
#define DEFAULT_CONFIG "/etc/madoguchi/madoguchi.conf"

static void usage(FILE *f)
{
	fprintf(f, "usage: madoguchid [--config FILE] [--check-config]\n"
		   "  --config FILE     the INI configuration (see madoguchi.conf(5)); default:\n"
		   "                    $MADOGUCHI_CONFIG, else " DEFAULT_CONFIG "\n"
		   "  --check-config    load and check everything, print a summary, exit\n"
		   "  --help            this text\n"
		   "  --version         the version\n");
}

/* --check-config: the TLS files load as the daemon would load them. */
static int check_tls(const struct mdg_config *cfg, char *err, size_t errlen)
{
	struct mdg_tls *t;

	if (mdg_config_check_tls_pair(cfg, err, errlen) != 0)
		return -1;
	if (cfg->tls_cert[0] == '\0')
		return 0;
	if ((t = mdg_tls_open(cfg->tls_cert, cfg->tls_key, err, errlen)) == NULL)
		return -1;
	mdg_tls_close(t);
	return 0;
}

/* --check-config: both listen values resolve as the starts resolve them
 * (binding is left to the start: the port may be held by the daemon being
 * checked). The public one is fatal as at the start; the admin listener's
 * is not: the start serves without it, so it is said as the start says it. */
static int check_listen(const struct mdg_config *cfg, char *err, size_t errlen)
{
	struct sockaddr_storage addr;
	char msg[512];

	if (mdg_http_resolve_listen("", cfg->listen, cfg->port, &addr, err, errlen) != 0)
		return -1;
	if (cfg->admin_listen[0] != '\0' &&
	    mdg_http_resolve_listen("[admin] ", cfg->admin_listen, cfg->admin_port, &addr, msg, sizeof(msg)) != 0)
		mdg_log("error", "%s: serving without metrics and admin API", msg);
	return 0;
}

/* [receipts]: the receipt signer and the log key, read once at start (and
 * by --check-config); none configured: 0 with nothing loaded. */
static int load_receipts(const struct mdg_config *cfg, struct mdg_receipt_signer *signer, struct mdg_logkey *key,
			 int *loaded, char *err, size_t errlen)
{
	char msg[768];

	*loaded = 0;
	if (cfg->receipts_key[0] == '\0')
		return 0;
	if (mdg_receipt_signer_load(signer, cfg->receipts_key, cfg->receipts_cert, msg, sizeof(msg)) != 0) {
		snprintf(err, errlen, "[receipts] key/cert: %s", msg);
		return -1;
	}
	if (mdg_logkey_load(key, cfg->log_key, cfg->log_name, msg, sizeof(msg)) != 0) {
		mdg_receipt_signer_free(signer);
		snprintf(err, errlen, "[receipts] log_key: %s", msg);
		return -1;
	}
	*loaded = 1;
	return 0;
}

/* SIGHUP: read tls_cert and tls_key again; connections already open keep
 * the pair they started with, a failed reload keeps the old pair. */
static void reload_tls(struct mdg_server *srv)
{
	char err[1024], fp[65];

	if (srv->tls == NULL) {
		mdg_log("info", "SIGHUP: plain HTTP, no certificate to reload");
		return;
	}
	if (mdg_tls_reload(srv->tls, err, sizeof(err)) != 0) {
		mdg_log("error", "SIGHUP: TLS reload failed, keeping the old certificate: %s", err);
		return;
	}
	mdg_tls_fingerprint(srv->tls, fp);
	mdg_log("info", "SIGHUP: TLS certificate reloaded, sha256 %s", fp);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL;
	int check_only = 0, ch, created = 0, rc = 1, from_default = 0;
	char err[1024];
	struct mdg_config cfg;
	struct mdg_anchors anchors = { 0 };
	struct mdg_nonce_key nonce_key;
	struct mdg_store probe = { 0 };
	struct mdg_server srv;
	struct mdg_admin_server adm;
	struct mdg_receipt_signer signer;
	struct mdg_logkey logkey;
	struct mdg_checkpointer cpr;
	int have_receipts = 0;
	sigset_t sigs;

	memset(&srv, 0, sizeof(srv));
	memset(&adm, 0, sizeof(adm));
	memset(&signer, 0, sizeof(signer));
	memset(&logkey, 0, sizeof(logkey));
	memset(&cpr, 0, sizeof(cpr));
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'k':
			check_only = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("madoguchid " MDG_VERSION "\n");
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "madoguchid: unexpected argument %s\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (config_path == NULL) {
		const char *env = getenv("MADOGUCHI_CONFIG");
		config_path = env != NULL && env[0] != '\0' ? env : DEFAULT_CONFIG;
		from_default = 1;
	}
	mdg_config_defaults(&cfg);
	if (mdg_config_load(&cfg, config_path, err, sizeof(err)) != 0) {
		if (from_default)
			mdg_log("error", "config: %s (no --config given: %s; give --config FILE)", err,
				getenv("MADOGUCHI_CONFIG") != NULL && getenv("MADOGUCHI_CONFIG")[0] != '\0'
					? "MADOGUCHI_CONFIG names it"
					: "the default");
		else
			mdg_log("error", "config: %s", err);
		return 1;
	}
	if (mdg_anchors_load_dir(&anchors, cfg.anchors, err, sizeof(err)) != 0) {
		mdg_log("error", "anchors: %s", err);
		goto out;
	}
	if (check_only) {
		/* creates nothing: a missing key is only reported */
		if (mdg_nonce_key_check(cfg.nonce_key_file, &created, err, sizeof(err)) != 0) {
			mdg_log("error", "nonce key: %s", err);
			goto out;
		}
		if (created)
			mdg_log("warning",
				"nonce key %s does not exist: the start would create it (share it "
				"with every node of the window)",
				cfg.nonce_key_file);
	} else {
		if (mdg_nonce_key_load(&nonce_key, cfg.nonce_key_file, &created, err, sizeof(err)) != 0) {
			mdg_log("error", "nonce key: %s", err);
			goto out;
		}
		if (created)
			mdg_log("warning", "created a new nonce key at %s: share it with every node of the window",
				cfg.nonce_key_file);
	}
	if (load_receipts(&cfg, &signer, &logkey, &have_receipts, err, sizeof(err)) != 0) {
		mdg_log("error", "config: %s", err);
		goto out;
	}
	if (mdg_store_open(&probe, &cfg, err, sizeof(err)) != 0) {
		mdg_log("error", "database: %s", err);
		goto out;
	}
	mdg_store_close(&probe);
	srv.cfg = &cfg;
	if (mdg_http_parse_proxies(&srv, err, sizeof(err)) != 0) {
		mdg_log("error", "config: %s", err);
		goto out;
	}
	adm.cfg = &cfg;
	adm.pub = &srv;
	if (mdg_admin_load_token(&adm, err, sizeof(err)) != 0) {
		mdg_log("error", "config: [admin] token_file: %s", err);
		goto out;
	}
	if (check_only && check_listen(&cfg, err, sizeof(err)) != 0) {
		mdg_log("error", "%s", err);
		goto out;
	}
	if (check_only && check_tls(&cfg, err, sizeof(err)) != 0) {
		mdg_log("error", "tls: %s", err);
		goto out;
	}
	if (check_only) {
		char where[600];

		printf("configuration OK: %zu anchors, %s at schema version %d%s%s\n", anchors.n,
		       mdg_store_describe(&cfg, where, sizeof(where)), mdg_store_schema_version(&cfg),
		       created ? ", nonce key would be created" : "", have_receipts ? ", receipts on" : "");
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
	if (have_receipts) {
		srv.pipeline.receipts = &signer;
		srv.logkey = &logkey;
	}
	srv.pipeline.cache = mdg_certcache_new(CERT_CACHE_ENTRIES);
	if (srv.pipeline.cache == NULL) {
		mdg_log("error", "out of memory");
		goto out;
	}
	/* first, so it answers once the public listener does; the public window
	 * serves even if the admin listener cannot */
	if (mdg_admin_start(&adm, err, sizeof(err)) != 0)
		mdg_log("error", "%s: serving without metrics and admin API", err);
	else if (adm.daemon != NULL)
		mdg_log("info", "admin listener on %s port %u (metrics; admin API %s)", cfg.admin_listen, adm.port,
			adm.api_enabled ? "on" : "off: no token_file");
	if (mdg_http_start(&srv, err, sizeof(err)) != 0) {
		mdg_log("error", "%s", err);
		goto out;
	}
	mdg_log("info", "madoguchid listening on %s port %u (%s), %zu anchors", cfg.listen, srv.port,
		cfg.tls_cert[0] ? "https" : "http", anchors.n);
	if (have_receipts) {
		if (mdg_checkpointer_start(&cpr, &cfg, &logkey, err, sizeof(err)) != 0) {
			mdg_log("error", "%s", err);
			mdg_http_stop(&srv, 0);
			goto out;
		}
		mdg_log("info", "receipts on: log %s, key %s, a checkpoint at most %ld ms after a commit", cfg.log_name,
			logkey.vkey, cfg.checkpoint_interval_ms);
	}
	if (srv.tls) {
		char fp[65];
		mdg_tls_fingerprint(srv.tls, fp);
		mdg_log("info", "TLS certificate sha256 %s", fp);
	}
	for (;;) {
		int sig = 0;
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload_tls(&srv);
			continue;
		}
		mdg_log("info", "signal %d: stopping, letting requests in flight finish", sig);
		break;
	}
	mdg_http_stop(&srv, STOP_GRACE_SECONDS);
	mdg_checkpointer_stop(&cpr);
	mdg_admin_stop(&adm);
	mdg_log("info", "stopped");
	rc = 0;
out:
	mdg_checkpointer_stop(&cpr);
	mdg_admin_stop(&adm);
	if (have_receipts) {
		mdg_receipt_signer_free(&signer);
		mdg_logkey_free(&logkey);
	}
	mdg_certcache_free(srv.pipeline.cache);
	mdg_anchors_free(&anchors);
	OPENSSL_cleanse(&nonce_key, sizeof(nonce_key));
	return rc;
}
