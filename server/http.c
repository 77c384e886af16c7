#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/rand.h>

#include "answer.h"
#include "log.h"
#include "metrics.h"
#include "timefmt.h"
#include "toppage.h"
#include "tls.h"

#define CONNECTION_TIMEOUT 30	/* seconds of silence before a connection is closed */
/* libmicrohttpd's memory pool per connection (headers, read buffer), kept
 * while a keep-alive connection idles: 32 KiB holds 1,000 idle connections
 * in about 47 MiB (64 KiB took 78 MiB; docs/performance.md). Bodies do not
 * live in it (on_request copies them out). */
#define CONNECTION_MEMORY (32 * 1024)

enum route {
	R_NOT_FOUND,
	R_TOP,
	R_RESULTS,		/* /results, /results/<name>: result pages */
	R_NONCE,
	R_HEALTH,
	R_READY,
	R_REVOCATION,
	R_VALIDITY,
};

/* Per-request state, owned by libmicrohttpd's con_cls until completion. */
struct exchange {
	struct mdg_server *srv;
	enum route route;
	enum mdg_procedure proc;
	int counted;			/* holds a max_inflight slot */
	int answered;
	unsigned char *body;
	size_t len, cap;
	int too_large;
	struct timespec start;
	char request_id[17];
	char client[INET6_ADDRSTRLEN];
	const char *method;
	char path[128];
	const char *result;		/* for the log */
	const char *why;
	unsigned status;
};

/* One store connection per worker thread, opened on first use. */
static pthread_key_t store_key;
static pthread_once_t store_once = PTHREAD_ONCE_INIT;

static void store_destroy(void *p)
{
	struct mdg_store *st = p;

	mdg_store_close(st);
	free(st);
}

static void store_key_init(void)
{
	(void)pthread_key_create(&store_key, store_destroy);
}

static struct mdg_store *thread_store(const struct mdg_config *cfg)
{
	struct mdg_store *st;
	char err[512];

	pthread_once(&store_once, store_key_init);
	st = pthread_getspecific(store_key);
	if (st != NULL)
		return st;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return NULL;
	if (mdg_store_sqlite_open(st, cfg->database, err, sizeof(err)) != 0) {
		mdg_log("error", "store: %s", err);
		free(st);
		return NULL;
	}
	pthread_setspecific(store_key, st);
	return st;
}

/* After a store error the thread's connection is dropped and opened afresh
 * by its next request: a connection that met a fault can stay broken after
 * the fault is gone (SQLite reopened its WAL read-only while the database
 * was immutable: every later write "attempt to write a readonly database";
 * tests/e2e/test_faults.py). */
static void thread_store_reset(struct mdg_store *st)
{
	pthread_setspecific(store_key, NULL);
	store_destroy(st);
}

static void hex8(char out[17])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char b[8] = {0};

	(void)RAND_bytes(b, sizeof(b));
	for (int i = 0; i < 8; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[16] = '\0';
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return 0;
	if (b->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr, &((const struct sockaddr_in *)b)->sin_addr,
			      sizeof(struct in_addr)) == 0;
	if (b->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
	return 0;
}

static int parse_addr(const char *text, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		return 0;
	}
	return -1;
}

static int is_trusted(const struct mdg_server *s, const struct sockaddr *sa)
{
	for (size_t i = 0; i < s->n_trusted; i++)
		if (same_addr(&s->trusted[i], sa))
			return 1;
	return 0;
}

int mdg_http_parse_proxies(struct mdg_server *s, char *err, size_t errlen)
{
	char buf[sizeof(s->cfg->trusted_proxies)];
	char *save = NULL;

	s->n_trusted = 0;
	snprintf(buf, sizeof(buf), "%s", s->cfg->trusted_proxies);
	for (char *t = strtok_r(buf, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
		if (s->n_trusted == MDG_MAX_TRUSTED) {
			snprintf(err, errlen, "trusted_proxies: at most %d addresses", MDG_MAX_TRUSTED);
			return -1;
		}
		if (parse_addr(t, &s->trusted[s->n_trusted]) != 0) {
			snprintf(err, errlen, "trusted_proxies: '%s' is not an IP address", t);
			return -1;
		}
		s->n_trusted++;
	}
	return 0;
}

static void addr_text(const struct sockaddr *sa, char *out, size_t outlen)
{
	out[0] = '\0';
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)outlen);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)outlen);
}

/* The client: the peer, or from a trusted proxy the right-most
 * X-Forwarded-For entry that is not itself a trusted proxy. */
static void client_address(struct mdg_server *s, struct MHD_Connection *c, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *peer = ci ? ci->client_addr : NULL;

	addr_text(peer, out, outlen);
	if (peer == NULL || !is_trusted(s, peer))
		return;
	const char *xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For");
	if (xff == NULL || strlen(xff) > 4096)
		return;
	char buf[4097];
	snprintf(buf, sizeof(buf), "%s", xff);
	for (;;) {
		char *comma = strrchr(buf, ',');
		char *entry = comma ? comma + 1 : buf;
		while (*entry == ' ' || *entry == '\t')
			entry++;
		size_t n = strlen(entry);
		while (n > 0 && (entry[n - 1] == ' ' || entry[n - 1] == '\t'))
			entry[--n] = '\0';
		struct sockaddr_storage ss;
		if (parse_addr(entry, &ss) != 0)
			return; /* garbage: keep the peer */
		if (!is_trusted(s, (struct sockaddr *)&ss)) {
			addr_text((struct sockaddr *)&ss, out, outlen);
			return;
		}
		if (comma == NULL)
			return;
		*comma = '\0';
	}
}

static enum MHD_Result send_response(struct MHD_Connection *c, struct exchange *x, unsigned status,
				     const char *ctype, char *body, size_t len, int must_free,
				     unsigned retry_after, const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, body, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	char ra[16];
	enum MHD_Result ret;

	if (r == NULL) {
		if (must_free)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Request-Id", x->request_id);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (retry_after) {
		snprintf(ra, sizeof(ra), "%u", retry_after);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	x->status = status;
	x->answered = 1;
	return ret;
}

static enum MHD_Result send_outcome(struct MHD_Connection *c, struct exchange *x, const struct mdg_outcome *o,
				    const char *allow)
{
	const char *al = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_LANGUAGE);
	size_t len = 0;
	char *body = mdg_answer_json(o, x->srv->pipeline.anchors, mdg_lang_from_header(al), x->request_id, &len);

	x->result = mdg_result_name(o->result);
	x->why = o->why;
	if (body == NULL)
		return MHD_NO;
	return send_response(c, x, o->status, mdg_answer_content_type(o), body, len, 1, o->retry_after, allow);
}

static enum MHD_Result send_result(struct MHD_Connection *c, struct exchange *x, enum mdg_result r,
				   unsigned status, const char *why, const char *allow)
{
	struct mdg_outcome o;

	memset(&o, 0, sizeof(o));
	mdg_outcome_set(&o, x->proc, r, status, why);
	return send_outcome(c, x, &o, allow);
}

/* The browser pages (toppage.c): HTML, charset, no-store and nosniff via
 * send_response. */
static enum MHD_Result send_page(struct MHD_Connection *c, struct exchange *x, const char *url)
{
	size_t len = 0;
	int not_found = 0;
	char *html = x->route == R_TOP ? mdg_toppage_html(&len)
				       : mdg_result_page_html(url[8] == '/' ? url + 9 : "", &len, &not_found);

	if (html == NULL) {
		if (not_found)
			return send_result(c, x, MDG_MALFORMED, 404, "unknown path", NULL);
		return send_result(c, x, MDG_SERVICE_ERROR, 500, "no memory for a page", NULL);
	}
	return send_response(c, x, 200, "text/html; charset=utf-8", html, len, 1, 0, NULL);
}

static enum MHD_Result send_json_text(struct MHD_Connection *c, struct exchange *x, unsigned status,
				      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result send_json_text(struct MHD_Connection *c, struct exchange *x, unsigned status,
				      const char *fmt, ...)
{
	char *body = NULL;
	va_list ap;

	va_start(ap, fmt);
	int n = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (n < 0)
		return MHD_NO;
	return send_response(c, x, status, "application/json", body, (size_t)n, 1, 0, NULL);
}

static enum MHD_Result handle_nonce(struct MHD_Connection *c, struct exchange *x)
{
	char nonce[MDG_NONCE_TEXT_LEN], exp_text[MDG_RFC3339_LEN];
	time_t expires;
	struct MHD_Response *r;
	char *body = NULL;
	enum MHD_Result ret;
	int n;

	if (mdg_nonce_issue(x->srv->pipeline.nonce_key, time(NULL), x->srv->cfg->nonce_ttl, nonce, &expires) != 0)
		return send_result(c, x, MDG_SERVICE_ERROR, 500, "no randomness for a nonce", NULL);
	mdg_rfc3339_jst(expires, exp_text);
	n = asprintf(&body, "{\"nonce\":\"%s\",\"expiresAt\":\"%s\"}", nonce, exp_text);
	if (n < 0)
		return MHD_NO;
	r = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "Replay-Nonce", nonce);
	MHD_add_response_header(r, "X-Request-Id", x->request_id);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	x->status = MHD_HTTP_OK;
	x->answered = 1;
	return ret;
}

struct ready_ctx {
	const struct mdg_server *srv;
	time_t now;
	int stale;
	int *covered;	/* per anchor name index */
	const size_t *names;
	size_t n_names;
};

static int ready_scope(void *arg, const struct mdg_crl_scope *s)
{
	struct ready_ctx *r = arg;
	const struct mdg_anchors *a = r->srv->pipeline.anchors;

	for (size_t i = 0; i < r->n_names; i++) {
		const struct mdg_anchor *an = &a->v[r->names[i]];
		if ((size_t)an->subject_len == s->issuer_len && memcmp(an->subject_der, s->issuer_der, s->issuer_len) == 0) {
			r->covered[i] = 1;
			if ((long long)r->now > (long long)s->next_update + r->srv->cfg->crl_max_age)
				r->stale = 1;
		}
	}
	return 0;
}

static enum MHD_Result handle_ready(struct MHD_Connection *c, struct exchange *x)
{
	struct mdg_store *st = thread_store(x->srv->cfg);
	size_t names[64];
	int covered[64] = {0};
	struct ready_ctx r = {.srv = x->srv, .now = time(NULL), .covered = covered, .names = names};

	if (st == NULL || st->ops->ping(st->cls) != MDG_STORE_OK)
		return send_json_text(c, x, 503, "{\"status\":\"unavailable\",\"reason\":\"database unreachable\"}");
	r.n_names = mdg_anchors_names(x->srv->pipeline.anchors, names, 64);
	if (st->ops->list_crls(st->cls, ready_scope, &r) != MDG_STORE_OK)
		return send_json_text(c, x, 503, "{\"status\":\"unavailable\",\"reason\":\"database unreachable\"}");
	for (size_t i = 0; i < r.n_names; i++)
		if (!covered[i])
			return send_json_text(c, x, 503,
					      "{\"status\":\"unavailable\",\"reason\":\"no CRL held for an anchor\"}");
	if (r.stale)
		return send_json_text(c, x, 503, "{\"status\":\"unavailable\",\"reason\":\"a CRL is stale\"}");
	return send_json_text(c, x, 200, "{\"status\":\"ready\"}");
}

static enum MHD_Result handle_procedure(struct MHD_Connection *c, struct exchange *x)
{
	struct mdg_server *s = x->srv;
	struct mdg_outcome o;
	struct mdg_input in = {
		.proc = x->proc,
		.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
		.body = x->body,
		.len = x->len,
		.too_large = x->too_large,
		.client_addr = x->client,
		.now = time(NULL),
	};
	struct mdg_store *st = thread_store(s->cfg);

	mdg_process(&s->pipeline, st, &in, &o);
	if (o.result == MDG_SERVICE_ERROR && o.status == 500 && st != NULL)
		thread_store_reset(st);
	return send_outcome(c, x, &o, NULL);
}

static enum route route_of(const char *url)
{
	if (strcmp(url, "/") == 0)
		return R_TOP;
	if (strcmp(url, "/results") == 0 || strncmp(url, "/results/", 9) == 0)
		return R_RESULTS;
	if (strcmp(url, "/v1/nonce") == 0)
		return R_NONCE;
	if (strcmp(url, "/healthz") == 0)
		return R_HEALTH;
	if (strcmp(url, "/readyz") == 0)
		return R_READY;
	if (strcmp(url, "/v1/revocations") == 0)
		return R_REVOCATION;
	if (strcmp(url, "/v1/validity-checks") == 0)
		return R_VALIDITY;
	return R_NOT_FOUND;
}

/* Answers the requests that carry no body worth reading (any body is discarded). */
static enum MHD_Result answer_simple(struct MHD_Connection *c, struct exchange *x, const char *method,
					 const char *url)
{
	int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	switch (x->route) {
	case R_NOT_FOUND:
		return send_result(c, x, MDG_MALFORMED, 404, "unknown path", NULL);
	case R_TOP:
		if (!is_get)
			return send_result(c, x, MDG_MALFORMED, 405, "wrong method", "GET, HEAD");
		return send_page(c, x, url);
	case R_RESULTS:
		if (!is_get)
			return send_result(c, x, MDG_MALFORMED, 405, "wrong method", "GET, HEAD");
		return send_page(c, x, url);
	case R_HEALTH:
		if (!is_get)
			return send_result(c, x, MDG_MALFORMED, 405, "wrong method", "GET, HEAD");
		return send_json_text(c, x, 200, "{\"status\":\"ok\"}");
	case R_READY:
		if (!is_get)
			return send_result(c, x, MDG_MALFORMED, 405, "wrong method", "GET, HEAD");
		return handle_ready(c, x);
	case R_NONCE:
		if (!is_get)
			return send_result(c, x, MDG_MALFORMED, 405, "wrong method", "GET, HEAD");
		return handle_nonce(c, x);
	case R_REVOCATION:
	case R_VALIDITY:
		break;
	}
	return MHD_NO;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct mdg_server *s = cls;
	struct exchange *x = *con_cls;

	if (x == NULL) {
		if ((x = calloc(1, sizeof(*x))) == NULL)
			return MHD_NO;
		*con_cls = x;
		x->srv = s;
		clock_gettime(CLOCK_MONOTONIC, &x->start);
		hex8(x->request_id);
		x->method = strcmp(method, "GET") == 0 ? "GET" : strcmp(method, "POST") == 0 ? "POST"
			  : strcmp(method, "HEAD") == 0 ? "HEAD" : "other";
		snprintf(x->path, sizeof(x->path), "%s", url);
		client_address(s, c, x->client, sizeof(x->client));
		x->route = route_of(url);
		atomic_fetch_add(&s->open_requests, 1);
		int is_post = strcmp(method, "POST") == 0;

		switch (x->route) {
		case R_NOT_FOUND:
		case R_TOP:
		case R_RESULTS:
		case R_HEALTH:
		case R_READY:
		case R_NONCE:
			/* answered once the request is complete: a response queued in the
			 * first callback makes libmicrohttpd close the connection. A body
			 * here is never read: answer at once and let the connection go
			 * rather than drain an unbounded upload. */
			if (MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL)
				return answer_simple(c, x, method, url);
			const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
								      MHD_HTTP_HEADER_CONTENT_LENGTH);
			if (len != NULL && strcmp(len, "0") != 0)
				return answer_simple(c, x, method, url);
			return MHD_YES;
		case R_REVOCATION:
		case R_VALIDITY:
			x->proc = x->route == R_REVOCATION ? MDG_PROC_REVOCATION : MDG_PROC_VALIDITY;
			if (!is_post)
				return send_result(c, x, MDG_MALFORMED, 405, "wrong method", "POST");
			/* 1. admission */
			if (atomic_fetch_add(&s->inflight, 1) >= s->cfg->max_inflight) {
				atomic_fetch_sub(&s->inflight, 1);
				mdg_metrics_busy(&mdg_metrics);
				return send_result(c, x, MDG_BUSY, 503, "max_inflight reached", NULL);
			}
			x->counted = 1;
			const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
								     MHD_HTTP_HEADER_CONTENT_LENGTH);
			if (cl != NULL && strtoull(cl, NULL, 10) > s->cfg->max_body) {
				x->too_large = 1;
				return handle_procedure(c, x);
			}
			return MHD_YES;
		}
		return MHD_NO;
	}
	if (x->route != R_REVOCATION && x->route != R_VALIDITY) {
		if (*upload_data_size > 0) {
			*upload_data_size = 0;
			return MHD_YES;
		}
		return answer_simple(c, x, method, url);
	}
	if (x->answered) {
		/* answered early (busy, 413): drop whatever body follows */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;
		if (!x->too_large && n > s->cfg->max_body - x->len) {
			x->too_large = 1;
			free(x->body);
			x->body = NULL;
			x->len = x->cap = 0;
		}
		if (!x->too_large) {
			if (x->len + n > x->cap) {
				size_t cap = x->cap ? x->cap : 4096;
				while (cap < x->len + n)
					cap *= 2;
				if (cap > s->cfg->max_body)
					cap = s->cfg->max_body;
				unsigned char *nb = realloc(x->body, cap);
				if (nb == NULL)
					return MHD_NO;
				x->body = nb;
				x->cap = cap;
			}
			memcpy(x->body + x->len, upload_data, n);
			x->len += n;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	return handle_procedure(c, x);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct mdg_server *s = cls;
	struct exchange *x = *con_cls;

	if (x == NULL)
		return;
	struct mdg_log_request lr = {
		.request_id = x->request_id,
		.method = x->method,
		.path = x->path,
		.proc = x->proc,
		.result = x->result,
		.status = x->answered ? x->status : 0,
		.duration_ms = ms_since(&x->start),
		.client = x->client,
		.reason = x->answered ? x->why : "connection closed before an answer",
	};
	mdg_log_request(&lr);
	mdg_metrics_request_done(&mdg_metrics, x->proc, x->answered ? x->result : NULL, lr.status,
				 lr.duration_ms / 1e3);
	if (x->counted)
		atomic_fetch_sub(&s->inflight, 1);
	atomic_fetch_sub(&s->open_requests, 1);
	free(x->body);
	free(x);
	*con_cls = NULL;
}

void mdg_http_log_mhd(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	mdg_log("warning", "%s: %s", (const char *)cls, msg);
}

int mdg_http_listen_addr(const char *host, unsigned port, struct sockaddr_storage *addr)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_PASSIVE, .ai_socktype = SOCK_STREAM};
	struct addrinfo *ai = NULL;
	char ps[8];

	snprintf(ps, sizeof(ps), "%u", port);
	if (getaddrinfo(host, ps, &hints, &ai) != 0 || ai == NULL)
		return -1;
	memset(addr, 0, sizeof(*addr));
	memcpy(addr, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return 0;
}

int mdg_http_start(struct mdg_server *s, char *err, size_t errlen)
{
	const struct mdg_config *cfg = s->cfg;
	struct sockaddr_storage addr;
	unsigned threads = cfg->threads;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;

	if (mdg_http_listen_addr(cfg->listen, cfg->port, &addr) == -1) {
		snprintf(err, errlen, "listen: '%s' is not a numeric IPv4 or IPv6 address", cfg->listen);
		return -1;
	}
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (unsigned)n : 1;
	}
	if (cfg->tls_cert[0] == '\0' && cfg->tls_key[0]) {
		snprintf(err, errlen, "tls_key is set but tls_cert is not");
		return -1;
	}
	if (cfg->tls_cert[0]) {
		if (cfg->tls_key[0] == '\0') {
			snprintf(err, errlen, "tls_cert is set but tls_key is not");
			return -1;
		}
		if ((s->tls = mdg_tls_open(cfg->tls_cert, cfg->tls_key, err, errlen)) == NULL)
			return -1;
		flags |= MHD_USE_TLS;
	}
	/* the certificate comes from a callback so that SIGHUP can swap it */
	struct MHD_OptionItem tls_opts[] = {
		{MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)&mdg_tls_retrieve},
		{MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)mdg_tls_priorities()},
		{MHD_OPTION_END, 0, NULL},
	};
	s->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, s,
		MHD_OPTION_EXTERNAL_LOGGER, mdg_http_log_mhd, (void *)"http",
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_THREAD_POOL_SIZE, threads,
		MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_connections_per_address,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_ARRAY, s->tls ? tls_opts : &tls_opts[2],
		MHD_OPTION_END);
	if (s->daemon == NULL) {
		snprintf(err, errlen, "cannot listen on %s port %u (address in use, or not permitted?)", cfg->listen,
			 cfg->port);
		mdg_tls_close(s->tls);
		s->tls = NULL;
		return -1;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : cfg->port;
	return 0;
}

void mdg_http_stop(struct mdg_server *s, unsigned grace)
{
	if (s->daemon == NULL)
		return;
	MHD_socket listener = MHD_quiesce_daemon(s->daemon);
	for (unsigned i = 0; i < grace * 20 && atomic_load(&s->open_requests) > 0; i++) {
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	MHD_stop_daemon(s->daemon);
	if (listener != MHD_INVALID_SOCKET)
		close(listener);
	s->daemon = NULL;
	mdg_tls_close(s->tls);
	s->tls = NULL;
}
