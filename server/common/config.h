/* madoguchi.conf: the INI file of DESIGN.md "Configuration". Every key has a
 * default; an unknown section or key, or a value that does not parse, is an
 * error naming the line (no silent fallback for security settings). */
#ifndef MDG_CONFIG_H
#define MDG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define MDG_MAX_POLICIES 8
#define MDG_MAX_PROXIES 16

struct mdg_config {
	/* [server] */
	char listen[64];
	unsigned port;
	unsigned threads; /* 0: one per CPU core */
	unsigned max_connections;
	unsigned max_connections_per_address;
	unsigned max_inflight;
	size_t max_body;
	long request_timeout; /* seconds: a request must arrive whole within it */
	char tls_cert[512];
	char tls_key[512];
	char trusted_proxies[1024]; /* as written; parsed by the daemon */
	char public_url[512];       /* the window's address for holders ("" = from the request) */
	char client_url[512];       /* where holders get madoguchi-client ("" = no link) */
	/* [pki] */
	char anchors[512];
	char policies[MDG_MAX_POLICIES][64];
	size_t n_policies;
	int crl_issue_minutes; /* minutes after midnight, in crl_issue_offset */
	int crl_issue_offset;  /* seconds east of UTC */
	long crl_cutoff;       /* seconds */
	long crl_max_age;      /* seconds */
	char nonce_key_file[512];
	long nonce_ttl; /* seconds */
	/* [store] */
	char store_backend[16]; /* "sqlite" (default) or "postgresql" */
	char database[512];     /* sqlite: the file */
	char dsn[1024];         /* postgresql: a libpq connection string */
	/* [admin] */
	char admin_listen[64];
	unsigned admin_port;
	char admin_token_file[512];
	/* [receipts] (key empty: no receipts, no /v1/log) */
	char receipts_key[512];      /* PEM private key of the receipt certificate */
	char receipts_cert[512];     /* PEM: the receipt certificate, then intermediates */
	char log_name[256];          /* origin and key name of checkpoints */
	char log_key[512];           /* PEM Ed25519 private key signing checkpoints */
	long checkpoint_interval_ms; /* a commit is covered at most this much later */
};

/* Fills cfg with the defaults of DESIGN.md. */
void mdg_config_defaults(struct mdg_config *cfg);

/* Reads an INI file over the defaults. Returns 0, or -1 with a message
 * ("FILE:LINE: ...") in err. */
int mdg_config_load(struct mdg_config *cfg, const char *path, char *err, size_t errlen);

/* The TLS pairing of [server]: tls_cert and tls_key both set or both
 * empty. Returns 0, or -1 with a message in err. (Whether the files read
 * is http/tls.c's: mdg_tls_open.) */
int mdg_config_check_tls_pair(const struct mdg_config *cfg, char *err, size_t errlen);

/* [receipts]: key, cert and log_key all set or all empty. Returns 0, or -1
 * with a message in err. (Whether the files load is receipt.c's and
 * checkpoint.c's.) */
int mdg_config_check_receipts(const struct mdg_config *cfg, char *err, size_t errlen);

/* Parses "300s", "5m", "1h", "48h", "2d" (a bare number is seconds).
 * Returns 0 or -1. */
int mdg_parse_duration(const char *s, long *seconds);

/* Parses "00:00+09:00" / "23:30Z" into minutes after midnight and the offset
 * in seconds east of UTC. Returns 0 or -1. */
int mdg_parse_time_of_day(const char *s, int *minutes, int *offset);

#endif
