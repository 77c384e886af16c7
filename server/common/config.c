#include "config.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mdg_config_defaults(struct mdg_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->listen, sizeof(cfg->listen), "127.0.0.1");
	cfg->port = 8080;
	cfg->threads = 0;
	cfg->max_connections = 1024;
	cfg->max_connections_per_address = 32;
	cfg->max_inflight = 256;
	cfg->max_body = 65536;
	cfg->request_timeout = 10;
	snprintf(cfg->anchors, sizeof(cfg->anchors), "/etc/madoguchi/anchors");
	snprintf(cfg->policies[0], sizeof(cfg->policies[0]), "1.2.392.200149.8.5.1.1.20");
	cfg->n_policies = 1;
	cfg->crl_issue_minutes = 0;
	cfg->crl_issue_offset = 9 * 3600;
	cfg->crl_cutoff = 3600;
	cfg->crl_max_age = 3600;
	snprintf(cfg->nonce_key_file, sizeof(cfg->nonce_key_file), "/etc/madoguchi/nonce.key");
	cfg->nonce_ttl = 300;
	snprintf(cfg->store_backend, sizeof(cfg->store_backend), "sqlite");
	snprintf(cfg->database, sizeof(cfg->database), "/var/lib/madoguchi/madoguchi.db");
	snprintf(cfg->admin_listen, sizeof(cfg->admin_listen), "127.0.0.1");
	cfg->admin_port = 9090;
	snprintf(cfg->log_name, sizeof(cfg->log_name), "madoguchi.invalid/log");
	cfg->checkpoint_interval_ms = 1000;
}

int mdg_parse_duration(const char *s, long *seconds)
{
	char *end;
	long mult = 1;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || v < 0)
		return -1;
	if (*end != '\0') {
		switch (*end) {
		case 's':
			mult = 1;
			break;
		case 'm':
			mult = 60;
			break;
		case 'h':
			mult = 3600;
			break;
		case 'd':
			mult = 86400;
			break;
		default:
			return -1;
		}
		if (end[1] != '\0')
			return -1;
	}
	if (v > LONG_MAX / mult || v * mult > 10L * 366 * 86400)
		return -1;
	*seconds = v * mult;
	return 0;
}

static int two_digits(const char *s, int *v)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	*v = (s[0] - '0') * 10 + (s[1] - '0');
	return 0;
}

int mdg_parse_time_of_day(const char *s, int *minutes, int *offset)
{
	int h, m, oh, om;

	if (strlen(s) < 6 || two_digits(s, &h) || s[2] != ':' || two_digits(s + 3, &m) || h > 23 || m > 59)
		return -1;
	s += 5;
	if (strcmp(s, "Z") == 0) {
		*offset = 0;
	} else if ((s[0] == '+' || s[0] == '-') && strlen(s) == 6 && !two_digits(s + 1, &oh) && s[3] == ':' &&
		   !two_digits(s + 4, &om) && oh <= 14 && om <= 59) {
		*offset = (s[0] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
	} else {
		return -1;
	}
	*minutes = h * 60 + m;
	return 0;
}

struct load_ctx {
	struct mdg_config *cfg;
	char *err;
	size_t errlen;
	const char *path;
	int failed;
};

static int set_string(char *dst, size_t dstlen, const char *value)
{
	if (strlen(value) >= dstlen)
		return -1;
	memcpy(dst, value, strlen(value) + 1);
	return 0;
}

static int set_uint(unsigned *dst, const char *value, unsigned long min, unsigned long max)
{
	char *end;

	if (*value < '0' || *value > '9')
		return -1;
	errno = 0;
	unsigned long v = strtoul(value, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*dst = (unsigned)v;
	return 0;
}

/* public_url, client_url: empty, or an absolute http(s) URL of printable
 * ASCII without what a page would read specially (the top page prints them
 * in links); public_url, printed in commands to copy, also without what a
 * shell would. */
static int set_url(char *dst, size_t dstlen, const char *value, int for_shell)
{
	const char *rest;

	if (value[0] == '\0')
		return set_string(dst, dstlen, value);
	if (strncmp(value, "https://", 8) == 0)
		rest = value + 8;
	else if (strncmp(value, "http://", 7) == 0)
		rest = value + 7;
	else
		return -1;
	if (*rest == '\0' || *rest == '/')
		return -1;
	for (const char *p = value; *p; p++) {
		if (*p <= ' ' || *p >= 0x7f || strchr("\"'<>\\^`{|}", *p) != NULL)
			return -1;
		if (for_shell && strchr("!#$&()*;?", *p) != NULL)
			return -1;
	}
	return set_string(dst, dstlen, value);
}

static int set_policies(struct mdg_config *cfg, const char *value)
{
	char buf[1024];
	char *save = NULL;

	if (set_string(buf, sizeof(buf), value))
		return -1;
	cfg->n_policies = 0;
	for (char *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (cfg->n_policies == MDG_MAX_POLICIES)
			return -1;
		for (const char *p = tok; *p; p++)
			if ((*p < '0' || *p > '9') && *p != '.')
				return -1;
		if (set_string(cfg->policies[cfg->n_policies], sizeof(cfg->policies[0]), tok))
			return -1;
		cfg->n_policies++;
	}
	return cfg->n_policies > 0 ? 0 : -1;
}

/* Returns 0 if handled, -1 for a bad value, -2 for an unknown key. */
static int set_key(struct mdg_config *c, const char *section, const char *name, const char *value)
{
	unsigned u;

	if (strcmp(section, "server") == 0) {
		if (!strcmp(name, "listen"))
			return set_string(c->listen, sizeof(c->listen), value);
		if (!strcmp(name, "port"))
			return set_uint(&c->port, value, 0, 65535);
		if (!strcmp(name, "threads"))
			return set_uint(&c->threads, value, 0, 256);
		if (!strcmp(name, "max_connections"))
			return set_uint(&c->max_connections, value, 1, 1000000);
		if (!strcmp(name, "max_connections_per_address"))
			return set_uint(&c->max_connections_per_address, value, 1, 1000000);
		if (!strcmp(name, "max_inflight"))
			return set_uint(&c->max_inflight, value, 1, 1000000);
		if (!strcmp(name, "max_body")) {
			if (set_uint(&u, value, 1024, 16 * 1024 * 1024))
				return -1;
			c->max_body = u;
			return 0;
		}
		if (!strcmp(name, "request_timeout")) {
			/* libmicrohttpd counts timeouts in whole seconds */
			if (mdg_parse_duration(value, &c->request_timeout) || c->request_timeout < 1 ||
			    c->request_timeout > 3600)
				return -1;
			return 0;
		}
		if (!strcmp(name, "tls_cert"))
			return set_string(c->tls_cert, sizeof(c->tls_cert), value);
		if (!strcmp(name, "tls_key"))
			return set_string(c->tls_key, sizeof(c->tls_key), value);
		if (!strcmp(name, "trusted_proxies"))
			return set_string(c->trusted_proxies, sizeof(c->trusted_proxies), value);
		if (!strcmp(name, "public_url"))
			return set_url(c->public_url, sizeof(c->public_url), value, 1);
		if (!strcmp(name, "client_url"))
			return set_url(c->client_url, sizeof(c->client_url), value, 0);
	} else if (strcmp(section, "pki") == 0) {
		if (!strcmp(name, "anchors"))
			return set_string(c->anchors, sizeof(c->anchors), value);
		if (!strcmp(name, "policies"))
			return set_policies(c, value);
		if (!strcmp(name, "crl_issue_time"))
			return mdg_parse_time_of_day(value, &c->crl_issue_minutes, &c->crl_issue_offset);
		if (!strcmp(name, "crl_cutoff"))
			return mdg_parse_duration(value, &c->crl_cutoff);
		if (!strcmp(name, "crl_max_age"))
			return mdg_parse_duration(value, &c->crl_max_age);
		if (!strcmp(name, "nonce_key_file"))
			return set_string(c->nonce_key_file, sizeof(c->nonce_key_file), value);
		if (!strcmp(name, "nonce_ttl")) {
			if (mdg_parse_duration(value, &c->nonce_ttl) || c->nonce_ttl < 1)
				return -1;
			return 0;
		}
	} else if (strcmp(section, "store") == 0) {
		if (!strcmp(name, "backend")) {
			if (strcmp(value, "sqlite") != 0 && strcmp(value, "postgresql") != 0)
				return -1;
			return set_string(c->store_backend, sizeof(c->store_backend), value);
		}
		if (!strcmp(name, "database"))
			return set_string(c->database, sizeof(c->database), value);
		if (!strcmp(name, "dsn"))
			return set_string(c->dsn, sizeof(c->dsn), value);
	} else if (strcmp(section, "admin") == 0) {
		if (!strcmp(name, "listen"))
			return set_string(c->admin_listen, sizeof(c->admin_listen), value);
		if (!strcmp(name, "port"))
			return set_uint(&c->admin_port, value, 0, 65535);
		if (!strcmp(name, "token_file"))
			return set_string(c->admin_token_file, sizeof(c->admin_token_file), value);
	} else if (strcmp(section, "receipts") == 0) {
		if (!strcmp(name, "key"))
			return set_string(c->receipts_key, sizeof(c->receipts_key), value);
		if (!strcmp(name, "cert"))
			return set_string(c->receipts_cert, sizeof(c->receipts_cert), value);
		if (!strcmp(name, "log_name")) {
			if (value[0] == '\0' || strchr(value, '+') != NULL || strpbrk(value, " \t") != NULL)
				return -1;
			return set_string(c->log_name, sizeof(c->log_name), value);
		}
		if (!strcmp(name, "log_key"))
			return set_string(c->log_key, sizeof(c->log_key), value);
		if (!strcmp(name, "checkpoint_interval")) {
			long v;
			if (mdg_parse_duration(value, &v) || v < 1 || v > 3600)
				return -1;
			c->checkpoint_interval_ms = v * 1000;
			return 0;
		}
	}
	return -2;
}

/* What a key's value must look like, for the message on a bad one. */
static const char *value_hint(const char *section, const char *name)
{
	static const char durations[] = "a duration: a whole number followed by s, m, h or d "
					"(300s, 5m, 1h, 48h, 2d; no unit: seconds)";

	if (!strcmp(section, "server") && !strcmp(name, "request_timeout"))
		return "a duration from 1s to 1h (10s, 30s, 1m; s, m, h or d after a whole number)";
	if (!strcmp(section, "pki") && !strcmp(name, "nonce_ttl"))
		return "a duration of at least 1s (300s, 5m, 1h; s, m, h or d after a whole number)";
	if (!strcmp(section, "pki") && (!strcmp(name, "crl_cutoff") || !strcmp(name, "crl_max_age")))
		return durations;
	if (!strcmp(section, "pki") && !strcmp(name, "crl_issue_time"))
		return "a time of day with its UTC offset: HH:MM+09:00, HH:MM-05:00 or HH:MMZ (00:00+09:00)";
	if (!strcmp(section, "receipts") && !strcmp(name, "checkpoint_interval"))
		return "a duration from 1s to 1h (1s, 10s, 1m; s, m, h or d after a whole number)";
	if (!strcmp(section, "receipts") && !strcmp(name, "log_name"))
		return "a key name: no white space and no '+' (madoguchi.invalid/log)";
	if (!strcmp(name, "port"))
		return "a port number from 0 to 65535";
	if (!strcmp(section, "store") && !strcmp(name, "backend"))
		return "sqlite or postgresql";
	return NULL;
}

static int known_section(const char *section)
{
	static const char *const sections[] = { "server", "pki", "store", "admin", "receipts" };

	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (!strcmp(section, sections[i]))
			return 1;
	return 0;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *ctx = user;

	if (ctx->failed)
		return 0;
	int rc = set_key(ctx->cfg, section, name, value);
	if (rc == 0)
		return 1;
	ctx->failed = 1;
	/* the line number is added by mdg_config_load: ini_parse_file returns it */
	const char *hint = value_hint(section, name);
	if (rc == -2 && section[0] == '\0')
		snprintf(ctx->err, ctx->errlen,
			 "key '%s' outside any section: put it under [server], [pki], "
			 "[store], [admin] or [receipts]",
			 name);
	else if (rc == -2 && !known_section(section))
		snprintf(ctx->err, ctx->errlen,
			 "unknown section [%s]: the sections are [server], [pki], "
			 "[store], [admin] and [receipts]",
			 section);
	else if (rc == -2)
		snprintf(ctx->err, ctx->errlen, "unknown key '%s' in section [%s]", name, section);
	else if (hint != NULL)
		snprintf(ctx->err, ctx->errlen, "bad value for [%s] %s: '%s': %s", section, name, value, hint);
	else
		snprintf(ctx->err, ctx->errlen, "bad value for [%s] %s: '%s'", section, name, value);
	return 0;
}

int mdg_config_load(struct mdg_config *cfg, const char *path, char *err, size_t errlen)
{
	struct load_ctx ctx = { .cfg = cfg, .err = err, .errlen = errlen, .path = path };
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	int rc = ini_parse_file(f, on_entry, &ctx);
	fclose(f);
	if (ctx.failed) {
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s", err);
		snprintf(err, errlen, "%s:%d: %s", path, rc, msg);
		return -1;
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s:%d: syntax error", path, rc);
		return -1;
	}
	if (mdg_config_check_tls_pair(cfg, err, errlen) != 0 || mdg_config_check_receipts(cfg, err, errlen) != 0) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", err);
		snprintf(err, errlen, "%s: %s", path, msg);
		return -1;
	}
	return 0;
}

int mdg_config_check_tls_pair(const struct mdg_config *cfg, char *err, size_t errlen)
{
	if ((cfg->tls_cert[0] == '\0') != (cfg->tls_key[0] == '\0')) {
		snprintf(err, errlen, "tls_cert and tls_key must be set together");
		return -1;
	}
	return 0;
}

int mdg_config_check_receipts(const struct mdg_config *cfg, char *err, size_t errlen)
{
	int key = cfg->receipts_key[0] != '\0', cert = cfg->receipts_cert[0] != '\0';
	int log = cfg->log_key[0] != '\0';

	if (key != cert || key != log) {
		snprintf(err, errlen,
			 "[receipts] key, cert and log_key must be set together (all empty: "
			 "no receipts, no /v1/log)");
		return -1;
	}
	return 0;
}
