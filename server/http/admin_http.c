#include "admin_http.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "acceptlog.h"
#include "files.h"
#include "form.h"
#include "log.h"
#include "metrics.h"
#include "names.h"
#include "render.h"
#include "timefmt.h"

#define TOKEN_FILE_MAX 4096
#define TOKEN_MIN 16
#define TOKEN_MAX 512
#define PAGE_DEFAULT 100
#define PAGE_MAX 1000
#define ADMIN_CONNECTIONS 16
#define ADMIN_TIMEOUT 10 /* seconds */

/* RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static int is_b64token(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (isalnum((unsigned char)s[i]) || strchr("-._~+/", s[i]) != NULL) && s[i] != '\0')
		i++;
	if (i == 0)
		return 0;
	while (i < n && s[i] == '=')
		i++;
	return i == n;
}

int mdg_admin_load_token(struct mdg_admin_server *a, char *err, size_t errlen)
{
	const char *path = a->cfg->admin_token_file;
	unsigned char *buf = NULL;
	size_t len = 0;
	int rc = -1;

	a->api_enabled = 0;
	if (path[0] == '\0')
		return 0;
	if (mdg_read_file(path, TOKEN_FILE_MAX, 1, &buf, &len, err, errlen) != 0)
		goto out;
	while (len > 0 && isspace(buf[len - 1]))
		len--;
	if (len < TOKEN_MIN || len > TOKEN_MAX || !is_b64token((const char *)buf, len)) {
		snprintf(err, errlen,
			 "%s: the token must be %d to %d characters of A-Z a-z 0-9 - . _ ~ + / "
			 "(then any =), on one line",
			 path, TOKEN_MIN, TOKEN_MAX);
		goto out;
	}
	if (EVP_Digest(buf, len, a->token_sha256, NULL, EVP_sha256(), NULL) != 1) {
		snprintf(err, errlen, "%s: cannot hash the token", path);
		goto out;
	}
	a->api_enabled = 1;
	rc = 0;
out:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	return rc;
}

/* ---------------------------------------------------------------- answers */

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *ctype, char *body, size_t len,
			       const char *hname, const char *hvalue)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (hname != NULL)
		MHD_add_response_header(r, hname, hvalue);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A JSON document (stolen reference) as the answer. */
static enum MHD_Result respond_json(struct MHD_Connection *c, unsigned status, json_t *doc, const char *hname,
				    const char *hvalue)
{
	char *s = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(doc);
	if (s == NULL)
		return MHD_NO;
	return respond(c, status, "application/json", s, strlen(s), hname, hvalue);
}

/* The admin listener's errors, in the public API's problem+json shape
 * (RFC 9457: type, title, status, detail), with "error" (the detail) kept
 * for the tools that read it. */
enum admin_problem {
	AP_BAD_PARAMETER, /* 400 */
	AP_UNAUTHORISED,  /* 401 */
	AP_API_OFF,       /* 403 */
	AP_UNKNOWN_PATH,  /* 404 */
	AP_WRONG_METHOD,  /* 405 */
	AP_STORE,         /* 503: the database cannot be read */
	AP_COUNT
};

static const struct {
	const char *name;
	unsigned status;
	const char *title;
} admin_problems[] = {
	[AP_BAD_PARAMETER] = { "badParameter", 400, "Bad query parameter" },
	[AP_UNAUTHORISED] = { "unauthorised", 401, "Bearer token missing or not valid" },
	[AP_API_OFF] = { "apiOff", 403, "The admin API is off" },
	[AP_UNKNOWN_PATH] = { "unknownPath", 404, "Unknown path" },
	[AP_WRONG_METHOD] = { "wrongMethod", 405, "Wrong method" },
	[AP_STORE] = { "storeUnavailable", 503, "The database cannot be read" },
};

_Static_assert(sizeof(admin_problems) / sizeof(admin_problems[0]) == AP_COUNT, "one row per enum admin_problem");

static enum MHD_Result respond_error(struct MHD_Connection *c, enum admin_problem p, const char *msg, const char *hname,
				     const char *hvalue)
{
	char type[64];
	json_t *doc;
	char *s;

	snprintf(type, sizeof(type), "urn:madoguchi:admin:%s", admin_problems[p].name);
	doc = json_pack("{s:s, s:s, s:I, s:s, s:s}", "type", type, "title", admin_problems[p].title, "status",
			(json_int_t)admin_problems[p].status, "detail", msg, "error", msg);
	s = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	if (s == NULL)
		return MHD_NO;
	return respond(c, admin_problems[p].status, "application/problem+json", s, strlen(s), hname, hvalue);
}

/* A store failure: the backend's message to the log (never to the client). */
static enum MHD_Result respond_store_error(struct MHD_Connection *c, const struct mdg_store *st, const char *msg)
{
	if (st != NULL)
		mdg_log("error", "admin listener: %s: %s", msg, mdg_store_error(st));
	return respond_error(c, AP_STORE, msg, NULL, NULL);
}

/* --------------------------------------------------------------- the store */

static struct mdg_store *admin_store(struct mdg_admin_server *a)
{
	char err[512];

	if (a->store.ops != NULL)
		return &a->store;
	if (mdg_store_open(&a->store, a->cfg, err, sizeof(err)) != 0) {
		mdg_log("error", "admin listener: store: %s", err);
		return NULL;
	}
	return &a->store;
}

/* ----------------------------------------------------------------- metrics */

struct crl_gauge {
	char issuer[512], scope[512];
	time_t this_update, next_update;
	int64_t entries;
};

struct crl_list {
	struct crl_gauge *v;
	size_t n, cap;
	int failed;
};

static int collect_crl(void *arg, const struct mdg_crl_scope *s)
{
	struct crl_list *l = arg;
	struct crl_gauge *g;

	/* a retired scope (crl retire) is no CRL in force: no gauges, no alert */
	if (s->retired_at != 0)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;

		if ((g = realloc(l->v, cap * sizeof(*g))) == NULL) {
			l->failed = 1;
			return 1;
		}
		l->v = g;
		l->cap = cap;
	}
	g = &l->v[l->n++];
	mdg_der_name_rfc4514(s->issuer_der, s->issuer_len, g->issuer, sizeof(g->issuer));
	if (s->dp_der != NULL)
		mdg_der_name_rfc4514(s->dp_der, s->dp_len, g->scope, sizeof(g->scope));
	else
		snprintf(g->scope, sizeof(g->scope), "full");
	g->this_update = s->this_update;
	g->next_update = s->next_update;
	g->entries = s->entries;
	return 0;
}

static void crl_family(FILE *f, const struct crl_list *l, const char *name, const char *type, const char *help,
		       int what, time_t now, long max_age)
{
	mdg_metrics_family(f, name, type, help);
	for (size_t i = 0; i < l->n; i++) {
		const struct crl_gauge *g = &l->v[i];
		const char *labels[] = { "issuer", g->issuer, "scope", g->scope, NULL };
		double v = what == 0   ? (double)(now - g->this_update)
			   : what == 1 ? (double)g->next_update
			   : what == 2 ? (double)(now > g->next_update + max_age)
				       : (double)g->entries;

		mdg_metrics_sample(f, name, labels, v);
	}
}

/* The store backend's own counters (zeros for SQLite, which keeps none). */
static void store_counters(FILE *f, const struct mdg_config *cfg)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} m[] = {
		{ "madoguchi_store_conflicts_total",
		  "Acceptances the store answered with the existing row (unique issuer + serial).",
		  offsetof(struct mdg_store_counters, conflicts) },
		{ "madoguchi_store_retries_total",
		  "Store transactions retried after a serialization failure or deadlock.",
		  offsetof(struct mdg_store_counters, retries) },
		{ "madoguchi_store_reconnects_total", "Store connections opened again after one was lost.",
		  offsetof(struct mdg_store_counters, reconnects) },
		{ "madoguchi_store_errors_total", "Store operations that failed.",
		  offsetof(struct mdg_store_counters, errors) },
	};
	struct mdg_store_counters sc;

	mdg_store_counters(cfg, &sc);
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		mdg_metrics_family(f, m[i].name, "counter", m[i].help);
		mdg_metrics_sample(f, m[i].name, NULL, (double)*(const uint64_t *)((const char *)&sc + m[i].off));
	}
}

static enum MHD_Result handle_metrics(struct MHD_Connection *c, struct mdg_admin_server *a)
{
	struct mdg_store *st = admin_store(a);
	struct mdg_log_stats ls;
	struct crl_list crls = { NULL, 0, 0, 0 };
	time_t now = time(NULL);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int store_up = 0;

	memset(&ls, 0, sizeof(ls));
	if (st != NULL && st->ops->log_stats(st->cls, &ls) == MDG_STORE_OK &&
	    st->ops->list_crls(st->cls, collect_crl, &crls) == MDG_STORE_OK && !crls.failed)
		store_up = 1;
	if ((f = open_memstream(&buf, &len)) == NULL) {
		free(crls.v);
		return MHD_NO;
	}
	mdg_metrics_write(&mdg_metrics, f);
	if (a->pub != NULL) {
		mdg_metrics_family(f, "madoguchi_inflight_requests", "gauge",
				   "Procedure requests in progress (admitted, not yet answered).");
		mdg_metrics_sample(f, "madoguchi_inflight_requests", NULL,
				   (double)atomic_load(&((struct mdg_server *)a->pub)->inflight));
		mdg_metrics_family(f, "madoguchi_open_requests", "gauge",
				   "Requests of any kind between their start and completion.");
		mdg_metrics_sample(f, "madoguchi_open_requests", NULL,
				   (double)atomic_load(&((struct mdg_server *)a->pub)->open_requests));
	}
	mdg_metrics_family(f, "madoguchi_inflight_limit", "gauge",
			   "max_inflight: more procedure requests in progress are answered busy.");
	mdg_metrics_sample(f, "madoguchi_inflight_limit", NULL, (double)a->cfg->max_inflight);
	mdg_metrics_family(f, "madoguchi_store_up", "gauge",
			   "1 if the database answered this scrape's queries, else 0 (and the log "
			   "and CRL metrics below are absent).");
	mdg_metrics_sample(f, "madoguchi_store_up", NULL, store_up);
	store_counters(f, a->cfg);
	if (store_up) {
		mdg_metrics_family(f, "madoguchi_acceptances_total", "counter",
				   "Revocations accepted: rows in the acceptance log.");
		mdg_metrics_sample(f, "madoguchi_acceptances_total", NULL, (double)ls.count);
		mdg_metrics_family(f, "madoguchi_log_chain_length", "gauge",
				   "The hash chain's last seq (equals the rows unless rows were cut: "
				   "run log verify).");
		mdg_metrics_sample(f, "madoguchi_log_chain_length", NULL, (double)ls.head_seq);
		mdg_metrics_family(f, "madoguchi_acceptances_unexported", "gauge",
				   "Acceptances not yet handed to CA issuance (log export --new).");
		mdg_metrics_sample(f, "madoguchi_acceptances_unexported", NULL, (double)ls.unexported);
		mdg_metrics_family(f, "madoguchi_export_batches_total", "counter",
				   "Export batches recorded by log export.");
		mdg_metrics_sample(f, "madoguchi_export_batches_total", NULL, (double)ls.batches);
		crl_family(f, &crls, "madoguchi_crl_age_seconds", "gauge",
			   "Seconds since the thisUpdate of the CRL held, per issuer and scope "
			   "(distribution point, or full).",
			   0, now, a->cfg->crl_max_age);
		crl_family(f, &crls, "madoguchi_crl_next_update_timestamp_seconds", "gauge",
			   "nextUpdate of the CRL held (Unix seconds).", 1, now, a->cfg->crl_max_age);
		crl_family(f, &crls, "madoguchi_crl_stale", "gauge",
			   "1 if the CRL is past nextUpdate + crl_max_age (no valid answers on it).", 2, now,
			   a->cfg->crl_max_age);
		crl_family(f, &crls, "madoguchi_crl_entries", "gauge", "Entries of the CRL held.", 3, now,
			   a->cfg->crl_max_age);
	}
	free(crls.v);
	if (fclose(f) != 0) {
		free(buf);
		return MHD_NO;
	}
	return respond(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", buf, len, NULL, NULL);
}

/* ------------------------------------------------------------ the JSON API */

/* Bearer token, compared as SHA-256 digests in constant time. */
static int authorised(struct MHD_Connection *c, const struct mdg_admin_server *a)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	unsigned char d[32];

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	while (*h == ' ')
		h++;
	if (EVP_Digest(h, strlen(h), d, NULL, EVP_sha256(), NULL) != 1)
		return 0;
	return CRYPTO_memcmp(d, a->token_sha256, sizeof(d)) == 0;
}

struct args_check {
	const char *bad;
};

static const char *const acceptance_params[] = {
	"since", "until", "serial", "issuer", "receipt", "reason", "limit", "after", "cursor", "showPersonalData", NULL,
};

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct args_check *ac = cls;

	for (size_t i = 0; acceptance_params[i] != NULL; i++)
		if (strcmp(key, acceptance_params[i]) == 0)
			return MHD_YES;
	ac->bad = "unknown query parameter";
	return MHD_NO;
}

struct page {
	json_t *rows;
	int personal;
	int64_t limit;
	int64_t n, last_seq;
	int more, failed;
};

static int page_row(void *arg, const struct mdg_acceptance_row *r)
{
	struct page *p = arg;
	json_t *o;

	if (p->n >= p->limit) {
		p->more = 1;
		return 1;
	}
	if ((o = mdg_acceptance_row_json(r, p->personal)) == NULL)
		goto fail;
	if (json_array_append_new(p->rows, o) != 0)
		goto fail;
	p->n++;
	p->last_seq = r->seq;
	return 0;
fail:
	p->failed = 1;
	return 1;
}

static int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static enum MHD_Result handle_acceptances(struct MHD_Connection *c, struct mdg_admin_server *a)
{
	const char *since = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
	const char *until = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "until");
	const char *serial = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "serial");
	const char *issuer = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "issuer");
	const char *receipt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "receipt");
	const char *reason = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "reason");
	const char *limit = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
	const char *after = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after");
	const char *cursor = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "cursor");
	const char *personal = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "showPersonalData");
	struct args_check ac = { NULL };
	struct mdg_log_filter f;
	struct page p;
	struct mdg_store *st;
	struct mdg_log_filter_buf fb;
	char next[24], msg[160];
	json_t *doc;

	memset(&f, 0, sizeof(f));
	memset(&p, 0, sizeof(p));
	p.limit = PAGE_DEFAULT;
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, check_arg, &ac);
	if (ac.bad != NULL)
		return respond_error(c, AP_BAD_PARAMETER,
				     "unknown query parameter: the parameters are since, "
				     "until, serial, issuer, receipt, reason, limit, after (or cursor), "
				     "showPersonalData",
				     NULL, NULL);
	if (limit != NULL && parse_int64(limit, 1, PAGE_MAX, &p.limit) == -1)
		return respond_error(c, AP_BAD_PARAMETER, "limit: a number of rows from 1 to 1000", NULL, NULL);
	if (after != NULL && cursor != NULL)
		return respond_error(c, AP_BAD_PARAMETER, "after and cursor are the same: give one", NULL, NULL);
	if (cursor != NULL)
		after = cursor;
	const struct mdg_log_args la = { since, until, serial, issuer, receipt, reason, after };
	const char *bad, *expected;
	if ((bad = mdg_log_filter_from_args(&la, &f, &fb, &expected)) != NULL) {
		snprintf(msg, sizeof(msg), "%s: %s", bad, expected);
		return respond_error(c, AP_BAD_PARAMETER, msg, NULL, NULL);
	}
	if (personal != NULL) {
		if (strcmp(personal, "1") == 0 || strcmp(personal, "true") == 0)
			p.personal = 1;
		else if (strcmp(personal, "0") != 0 && strcmp(personal, "false") != 0)
			return respond_error(c, AP_BAD_PARAMETER, "showPersonalData: true or false", NULL, NULL);
	}
	f.limit = p.limit + 1; /* one more: is there a next page? */
	f.with_request = p.personal;
	if ((st = admin_store(a)) == NULL)
		return respond_store_error(c, NULL, "database unreachable");
	if ((p.rows = json_array()) == NULL)
		return MHD_NO;
	if (st->ops->log_query(st->cls, &f, page_row, &p) != MDG_STORE_OK || p.failed) {
		json_decref(p.rows);
		return respond_store_error(c, p.failed ? NULL : st, "database error while reading the log");
	}
	snprintf(next, sizeof(next), "%lld", (long long)p.last_seq);
	doc = json_pack("{s:o, s:o}", "acceptances", p.rows, "next", p.more ? json_string(next) : json_null());
	return respond_json(c, 200, doc, NULL, NULL);
}

struct crl_doc {
	json_t *arr;
	time_t now;
	long max_age;
	int stale, failed;
};

static int crl_json(void *arg, const struct mdg_crl_scope *s)
{
	struct crl_doc *d = arg;
	int stale;
	json_t *o = mdg_crl_scope_json(s, d->now, d->max_age, &stale);

	if (o == NULL || json_array_append_new(d->arr, o) != 0) { /* takes o, also on failure */
		d->failed = 1;
		return 1;
	}
	d->stale += stale;
	return 0;
}

static enum MHD_Result handle_crls(struct MHD_Connection *c, struct mdg_admin_server *a)
{
	struct crl_doc d = { NULL, time(NULL), a->cfg->crl_max_age, 0, 0 };
	struct mdg_store *st = admin_store(a);

	if (st == NULL)
		return respond_store_error(c, NULL, "database unreachable");
	if ((d.arr = json_array()) == NULL)
		return MHD_NO;
	if (st->ops->list_crls(st->cls, crl_json, &d) != MDG_STORE_OK || d.failed) {
		json_decref(d.arr);
		return respond_store_error(c, d.failed ? NULL : st, "database error while listing CRLs");
	}
	return respond_json(c, 200, json_pack("{s:o, s:i}", "crls", d.arr, "stale", d.stale), NULL, NULL);
}

/* ----------------------------------------------------------------- routing */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct mdg_admin_server *a = cls;
	int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	if (*upload_data_size > 0) { /* no route takes a body */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/metrics") == 0) {
		if (!is_get)
			return respond_error(c, AP_WRONG_METHOD, "wrong method", MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
		return handle_metrics(c, a);
	}
	if (strncmp(url, "/admin/", 7) == 0) {
		if (!a->api_enabled)
			return respond_error(c, AP_API_OFF,
					     "the admin API is off: no [admin] token_file is "
					     "configured",
					     NULL, NULL);
		if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION) == NULL)
			return respond_error(c, AP_UNAUTHORISED, "a bearer token is required",
					     MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"madoguchi-admin\"");
		if (!authorised(c, a))
			return respond_error(c, AP_UNAUTHORISED, "the bearer token is not valid",
					     MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					     "Bearer realm=\"madoguchi-admin\", error=\"invalid_token\"");
		if (strcmp(url, "/admin/v1/acceptances") == 0 || strcmp(url, "/admin/v1/crls") == 0) {
			if (!is_get)
				return respond_error(c, AP_WRONG_METHOD, "wrong method", MHD_HTTP_HEADER_ALLOW,
						     "GET, HEAD");
			return strcmp(url, "/admin/v1/crls") == 0 ? handle_crls(c, a) : handle_acceptances(c, a);
		}
	}
	return respond_error(c, AP_UNKNOWN_PATH,
			     "unknown path: GET /metrics, /admin/v1/acceptances, "
			     "/admin/v1/crls",
			     NULL, NULL);
}

int mdg_admin_start(struct mdg_admin_server *a, char *err, size_t errlen)
{
	const struct mdg_config *cfg = a->cfg;
	struct sockaddr_storage addr;
	const union MHD_DaemonInfo *di;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;

	a->daemon = NULL;
	if (cfg->admin_listen[0] == '\0')
		return 0;
	if (mdg_http_resolve_listen("[admin] ", cfg->admin_listen, cfg->admin_port, &addr, err, errlen) == -1)
		return -1;
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	a->daemon = MHD_start_daemon(flags, (uint16_t)cfg->admin_port, NULL, NULL, on_request, a,
				     MHD_OPTION_EXTERNAL_LOGGER, mdg_http_log_mhd, (void *)"admin listener",
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT,
				     (unsigned)ADMIN_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
				     (unsigned)ADMIN_TIMEOUT, MHD_OPTION_END);
	if (a->daemon == NULL) {
		mdg_http_listen_problem(&addr, "admin listener: ", cfg->admin_listen, cfg->admin_port, err, errlen);
		return -1;
	}
	di = MHD_get_daemon_info(a->daemon, MHD_DAEMON_INFO_BIND_PORT);
	a->port = di != NULL ? di->port : cfg->admin_port;
	return 0;
}

void mdg_admin_stop(struct mdg_admin_server *a)
{
	if (a->daemon != NULL)
		MHD_stop_daemon(a->daemon);
	a->daemon = NULL;
	mdg_store_close(&a->store);
	OPENSSL_cleanse(a->token_sha256, sizeof(a->token_sha256));
}
