#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/rand.h>

#include "answer.h"
#include "crl.h"
#include "hex.h"
#include "log.h"
#include "metrics.h"
#include "names.h"
#include "timefmt.h"
#include "conn.h"
#include "tlog.h"
#include "toppage.h"
#include "tls.h"

#define CONNECTION_TIMEOUT 30 /* seconds of silence before an idle connection is closed */
/* After the early 413 of an endless body, how long the rest is read and
 * dropped before the connection closes (so that the client reads the answer
 * instead of a reset), and how much of it at most. */
#define LINGER_MS 1000
#define LINGER_BYTES (1024 * 1024)
/* libmicrohttpd's memory pool per connection (headers, read buffer), kept
 * while a keep-alive connection idles: 32 KiB holds 1,000 idle connections
 * in about 47 MiB (64 KiB took 78 MiB; docs/performance.md). Bodies do not
 * live in it (on_request copies them out). */
#define CONNECTION_MEMORY (32 * 1024)

#include "exchange.h"

static void hex8(char out[17])
{
	unsigned char b[8] = { 0 };

	(void)RAND_bytes(b, sizeof(b));
	mdg_hex_lower(b, sizeof(b), out);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* request_timeout: from its request line a request has request_timeout to
 * arrive whole. libmicrohttpd's per-connection idle timeout is set to what
 * is left at each step (so a silent client is closed at the deadline) and
 * each piece of body is checked against it (so a trickling one is too).
 * Returns 1 once the deadline has passed. */
static int past_deadline(struct MHD_Connection *c, struct exchange *x)
{
	double left = (double)x->srv->cfg->request_timeout - ms_since(&x->start) / 1e3;

	if (left <= 0) {
		x->timed_out = 1;
		return 1;
	}
	unsigned secs = (unsigned)left;
	if ((double)secs < left)
		secs++;
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, secs);
	return 0;
}

/* The request is whole or answered: the idle timeout again, for the answer
 * and the keep-alive wait that follows. */
static void request_done(struct MHD_Connection *c)
{
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT);
}

/* The one header builder of every answer on the public listener: status
 * and Retry-After from the reason table, Content-Type, no-store, the
 * request id, nosniff, and one extra header (Allow, Replay-Nonce) if
 * hname is not NULL. */
enum MHD_Result mdg_http_send_response(struct MHD_Connection *c, struct exchange *x, enum mdg_reason reason,
				       const char *ctype, char *body, size_t len, int must_free, const char *hname,
				       const char *hvalue)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, body, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	unsigned status = mdg_reason_status(reason, x->proc);
	unsigned retry_after = mdg_reason_retry_after(reason);
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
	if (hname != NULL)
		MHD_add_response_header(r, hname, hvalue);
	request_done(c);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	x->status = status;
	x->reason = reason;
	x->answered = 1;
	return ret;
}

enum MHD_Result mdg_http_send_outcome(struct MHD_Connection *c, struct exchange *x, const struct mdg_outcome *o,
				      const char *allow)
{
	const char *al = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_LANGUAGE);
	size_t len = 0;
	char *body = mdg_answer_json(o, x->srv->pipeline.anchors, mdg_lang_from_header(al), x->request_id, &len);

	x->result = mdg_result_name(o->result);
	x->why = o->why;
	if (body == NULL)
		return MHD_NO;
	return mdg_http_send_response(c, x, o->reason, mdg_answer_content_type(o), body, len, 1,
				      allow != NULL ? MHD_HTTP_HEADER_ALLOW : NULL, allow);
}

enum MHD_Result mdg_http_send_result(struct MHD_Connection *c, struct exchange *x, enum mdg_reason reason,
				     const char *why, const char *allow)
{
	struct mdg_outcome o;

	memset(&o, 0, sizeof(o));
	mdg_outcome_set(&o, x->proc, reason, why);
	return mdg_http_send_outcome(c, x, &o, allow);
}

/* The 413 of a body that passes max_body while it is being received
 * (chunked: no Content-Length announced it). libmicrohttpd 0.9.75 refuses
 * a response queued once a body is being read (MHD_queue_response returns
 * MHD_NO after the first call) and would read the body to its end first,
 * however long. So the answer is written to the connection here, the same
 * bytes send_response would make, with Connection: close; the write side is
 * shut (plain HTTP), what follows is dropped for LINGER_MS so that the
 * client reads the answer rather than a reset, then the connection closes.
 * Returns 0 if the whole answer was handed to the socket, else -1 (the
 * connection is then just closed). */
static int send_early_413(struct MHD_Connection *c, struct exchange *x)
{
	const char *al = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_LANGUAGE);
	struct mdg_outcome o;
	size_t len = 0;
	char date[64];
	struct tm tm;
	time_t now = time(NULL);

	memset(&o, 0, sizeof(o));
	mdg_outcome_set(&o, x->proc, MDG_REASON_BODY_TOO_LARGE, "body over max_body");
	x->result = mdg_result_name(o.result);
	x->why = o.why;
	x->status = o.status;
	x->reason = o.reason;
	x->answered = 1;
	x->raw_answered = 1;
	clock_gettime(CLOCK_MONOTONIC, &x->answered_at);
	request_done(c);
	char *body = mdg_answer_json(&o, x->srv->pipeline.anchors, mdg_lang_from_header(al), x->request_id, &len);
	if (body == NULL)
		return -1;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	char *head = NULL;
	int hn = asprintf(&head,
			  "HTTP/1.1 %u Content Too Large\r\nDate: %s\r\nConnection: close\r\n"
			  "Content-Type: %s\r\nCache-Control: no-store\r\nX-Request-Id: %s\r\n"
			  "X-Content-Type-Options: nosniff\r\nContent-Length: %zu\r\n\r\n",
			  o.status, date, mdg_answer_content_type(&o), x->request_id, len);
	if (hn < 0) {
		free(body);
		return -1;
	}
	size_t total = (size_t)hn + len, off = 0;
	char *msg = malloc(total);
	if (msg != NULL) {
		memcpy(msg, head, (size_t)hn);
		memcpy(msg + hn, body, len);
	}
	free(head);
	free(body);
	if (msg == NULL)
		return -1;
	if (x->srv->tls != NULL) {
		const union MHD_ConnectionInfo *ti = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
		gnutls_session_t sess = ti ? (gnutls_session_t)ti->tls_session : NULL;
		while (sess != NULL && off < total) {
			ssize_t w = gnutls_record_send(sess, msg + off, total - off);
			if (w <= 0)
				break; /* GNUTLS_E_AGAIN included: never wait here */
			off += (size_t)w;
		}
	} else {
		const union MHD_ConnectionInfo *fi = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		while (fi != NULL && off < total) {
			ssize_t w = send(fi->connect_fd, msg + off, total - off, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		if (fi != NULL && off == total)
			(void)shutdown(fi->connect_fd, SHUT_WR);
	}
	free(msg);
	if (off == total)
		return 0;
	x->answered = 0; /* not sent: logged as closed */
	return -1;
}

/* Message framing, checked before anything reads a body: one Content-Length
 * at most, not with Transfer-Encoding, and no transfer coding but chunked
 * (RFC 9112 §6). libmicrohttpd takes the first of several Content-Length
 * lines and ignores an unknown coding. NULL if the framing is sound, else
 * why not. */
struct framing {
	unsigned content_length, transfer_encoding;
	int bad_coding;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct framing *f = cls;

	(void)kind;
	if (key == NULL)
		return MHD_YES;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		f->content_length++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->transfer_encoding++;
		if (value == NULL || strcasecmp(value, "chunked") != 0)
			f->bad_coding = 1;
	}
	return MHD_YES;
}

static const char *bad_framing(struct MHD_Connection *c)
{
	struct framing f = { 0, 0, 0 };

	MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
	if (f.content_length > 1)
		return "more than one Content-Length";
	if (f.content_length && f.transfer_encoding)
		return "Content-Length with Transfer-Encoding";
	if (f.transfer_encoding > 1 || f.bad_coding)
		return "a transfer coding other than chunked";
	return NULL;
}

/* The window's address for the top page when [server] public_url is empty
 * (docs/toppage.md): Host, or from a trusted proxy X-Forwarded-Host and
 * X-Forwarded-Proto; https when the daemon serves TLS itself. "" when the
 * request names no plain host. */
static void request_origin(struct MHD_Connection *c, struct mdg_server *s, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	const char *scheme = s->tls != NULL ? "https" : "http";

	out[0] = '\0';
	if (ci != NULL && ci->client_addr != NULL && mdg_http_is_trusted(s, ci->client_addr)) {
		const char *fh = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-Host");
		const char *fp = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-Proto");
		if (fh != NULL)
			host = fh;
		if (fp != NULL && (strcmp(fp, "https") == 0 || strcmp(fp, "http") == 0))
			scheme = fp;
	}
	(void)mdg_toppage_origin(scheme, host, out, outlen);
}

/* The browser pages (toppage.c): HTML, charset, no-store and nosniff via
 * send_response. */
static enum MHD_Result send_page(struct MHD_Connection *c, struct exchange *x, const char *url)
{
	size_t len = 0;
	int not_found = 0;
	char origin[320];
	struct mdg_toppage_site site = { .window_url = x->srv->cfg->public_url, .client_url = x->srv->cfg->client_url };

	if (x->route == R_TOP && site.window_url[0] == '\0') {
		request_origin(c, x->srv, origin, sizeof(origin));
		site.window_url = origin;
	}
	char *html = x->route == R_TOP ? mdg_toppage_html(&site, &len)
				       : mdg_result_page_html(url[8] == '/' ? url + 9 : "", &len, &not_found);

	if (html == NULL) {
		if (not_found)
			return mdg_http_send_result(c, x, MDG_REASON_UNKNOWN_PATH, "unknown path", NULL);
		return mdg_http_send_result(c, x, MDG_REASON_OUT_OF_MEMORY, "no memory for a page", NULL);
	}
	return mdg_http_send_response(c, x, MDG_REASON_SERVED, "text/html; charset=utf-8", html, len, 1, NULL, NULL);
}

enum MHD_Result mdg_http_send_json_text(struct MHD_Connection *c, struct exchange *x, enum mdg_reason reason,
					const char *fmt, ...)
{
	char *body = NULL;
	va_list ap;

	va_start(ap, fmt);
	int n = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (n < 0)
		return MHD_NO;
	return mdg_http_send_response(c, x, reason, "application/json", body, (size_t)n, 1, NULL, NULL);
}

static enum MHD_Result handle_nonce(struct MHD_Connection *c, struct exchange *x)
{
	char nonce[MDG_NONCE_TEXT_LEN], exp_text[MDG_RFC3339_LEN];
	time_t expires;
	char *body = NULL;
	int n;

	if (mdg_nonce_issue(x->srv->pipeline.nonce_key, time(NULL), x->srv->cfg->nonce_ttl, nonce, &expires) != 0)
		return mdg_http_send_result(c, x, MDG_REASON_NO_RANDOMNESS, "no randomness for a nonce", NULL);
	mdg_rfc3339_jst(expires, exp_text);
	n = asprintf(&body, "{\"nonce\":\"%s\",\"expiresAt\":\"%s\"}", nonce, exp_text);
	if (n < 0)
		return MHD_NO;
	return mdg_http_send_response(c, x, MDG_REASON_SERVED, "application/json", body, (size_t)n, 1, "Replay-Nonce",
				      nonce);
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
	struct mdg_store *st = mdg_http_thread_store(s->cfg);

	mdg_process(&s->pipeline, st, &in, &o);
	if (mdg_reason_blame(o.reason) == MDG_BLAME_STORE && st != NULL) {
		/* for the log line only: never in an answer */
		snprintf(x->store_error, sizeof(x->store_error), "%s", mdg_store_error(st));
		mdg_http_thread_store_reset(st);
	}
	enum MHD_Result ret = mdg_http_send_outcome(c, x, &o, NULL);
	mdg_outcome_release(&o);
	return ret;
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
	if (strncmp(url, "/v1/log/", 8) == 0)
		return R_LOG;
	return R_NOT_FOUND;
}

/* Answers the requests that carry no body worth reading (any body is discarded). */
static enum MHD_Result answer_simple(struct MHD_Connection *c, struct exchange *x, const char *method, const char *url)
{
	int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	switch (x->route) {
	case R_NOT_FOUND:
		return mdg_http_send_result(c, x, MDG_REASON_UNKNOWN_PATH, "unknown path", NULL);
	case R_TOP:
		if (!is_get)
			return mdg_http_send_result(c, x, MDG_REASON_WRONG_METHOD, "wrong method", "GET, HEAD");
		return send_page(c, x, url);
	case R_RESULTS:
		if (!is_get)
			return mdg_http_send_result(c, x, MDG_REASON_WRONG_METHOD, "wrong method", "GET, HEAD");
		return send_page(c, x, url);
	case R_HEALTH:
		if (!is_get)
			return mdg_http_send_result(c, x, MDG_REASON_WRONG_METHOD, "wrong method", "GET, HEAD");
		return mdg_http_send_json_text(c, x, MDG_REASON_SERVED, "{\"status\":\"ok\"}");
	case R_READY:
		if (!is_get)
			return mdg_http_send_result(c, x, MDG_REASON_WRONG_METHOD, "wrong method", "GET, HEAD");
		return mdg_http_handle_ready(c, x);
	case R_NONCE:
		if (!is_get)
			return mdg_http_send_result(c, x, MDG_REASON_WRONG_METHOD, "wrong method", "GET, HEAD");
		return handle_nonce(c, x);
	case R_LOG:
		if (x->srv->logkey == NULL)
			return mdg_http_send_result(c, x, MDG_REASON_UNKNOWN_PATH, "no receipts configured", NULL);
		if (!is_get)
			return mdg_http_send_result(c, x, MDG_REASON_WRONG_METHOD, "wrong method", "GET, HEAD");
		return mdg_http_handle_log(c, x, url);
	case R_REVOCATION:
	case R_VALIDITY:
		break;
	}
	return MHD_NO;
}

static void exchange_begin(struct mdg_server *s, struct exchange *x, const char *uri)
{
	size_t n = strcspn(uri, "?");

	x->srv = s;
	clock_gettime(CLOCK_MONOTONIC, &x->start);
	hex8(x->request_id);
	x->method = "other";
	if (n >= sizeof(x->path))
		n = sizeof(x->path) - 1;
	memcpy(x->path, uri, n);
	x->path[n] = '\0';
	atomic_fetch_add(&s->open_requests, 1);
}

/* libmicrohttpd's early URI log callback: the request line is in, its
 * headers are not. The exchange starts here (its return value becomes
 * con_cls), and with it the request's clock for request_timeout. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct mdg_server *s = cls;
	struct exchange *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return NULL; /* on_request tries again */
	exchange_begin(s, x, uri);
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)s->cfg->request_timeout);
	return x;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct mdg_server *s = cls;
	struct exchange *x = *con_cls;

	(void)version;
	if (x == NULL) {
		if ((x = calloc(1, sizeof(*x))) == NULL)
			return MHD_NO;
		*con_cls = x;
		exchange_begin(s, x, url);
	}
	if (!x->begun) {
		x->begun = 1;
		x->method = strcmp(method, "GET") == 0    ? "GET"
			    : strcmp(method, "POST") == 0 ? "POST"
			    : strcmp(method, "HEAD") == 0 ? "HEAD"
							  : "other";
		snprintf(x->path, sizeof(x->path), "%s", url);
		mdg_http_client_address(s, c, x->client, sizeof(x->client));
		x->route = route_of(url);
		if (past_deadline(c, x))
			return MHD_NO; /* the headers took all of request_timeout */
		int is_post = strcmp(method, "POST") == 0;
		const char *framing = bad_framing(c);

		switch (x->route) {
		case R_NOT_FOUND:
		case R_TOP:
		case R_RESULTS:
		case R_HEALTH:
		case R_READY:
		case R_NONCE:
		case R_LOG:
			if (framing != NULL)
				return mdg_http_send_result(c, x, MDG_REASON_BAD_FRAMING, framing, NULL);
			/* answered once the request is complete: a response queued in the
			 * first callback makes libmicrohttpd close the connection. A body
			 * here is never read: answer at once and let the connection go
			 * rather than drain an unbounded upload. */
			if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL)
				return answer_simple(c, x, method, url);
			const char *len =
				MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
			if (len != NULL && strcmp(len, "0") != 0)
				return answer_simple(c, x, method, url);
			return MHD_YES;
		case R_REVOCATION:
		case R_VALIDITY:
			x->proc = x->route == R_REVOCATION ? MDG_PROC_REVOCATION : MDG_PROC_VALIDITY;
			if (!is_post)
				return mdg_http_send_result(c, x, MDG_REASON_WRONG_METHOD, "wrong method", "POST");
			/* 1. admission */
			if (atomic_fetch_add(&s->inflight, 1) >= s->cfg->max_inflight) {
				atomic_fetch_sub(&s->inflight, 1);
				mdg_metrics_busy(&mdg_metrics);
				return mdg_http_send_result(c, x, MDG_REASON_BUSY, "max_inflight reached", NULL);
			}
			x->counted = 1;
			/* 2. format, as far as the message's framing goes */
			if (framing != NULL)
				return mdg_http_send_result(c, x, MDG_REASON_BAD_FRAMING, framing, NULL);
			const char *cl =
				MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
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
	if (x->raw_answered) {
		/* after the early 413: drop what follows for a moment, then close */
		if (*upload_data_size == 0)
			return MHD_NO; /* the body ended: nothing more to answer */
		x->dropped += *upload_data_size;
		*upload_data_size = 0;
		if (x->dropped > LINGER_BYTES || ms_since(&x->answered_at) > LINGER_MS)
			return MHD_NO;
		return MHD_YES;
	}
	if (x->answered) {
		/* answered early (busy, 413): drop whatever body follows */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;
		if (past_deadline(c, x))
			return MHD_NO;
		if (n > s->cfg->max_body - x->len) {
			/* passes max_body (only a chunked body can: a Content-Length
			 * over it was answered in the first call): 413 now */
			x->too_large = 1;
			free(x->body);
			x->body = NULL;
			x->len = x->cap = 0;
			if (send_early_413(c, x) != 0)
				return MHD_NO;
			MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)(LINGER_MS / 1000));
			*upload_data_size = 0;
			return MHD_YES;
		}
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
		*upload_data_size = 0;
		return MHD_YES;
	}
	return handle_procedure(c, x);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct mdg_server *s = cls;
	struct exchange *x = *con_cls;

	if (x == NULL)
		return;
	enum mdg_reason reason = x->answered ? x->reason : MDG_REASON_CLOSED;
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
	if (!x->answered) {
		const union MHD_ConnectionInfo *si = MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
		if (x->timed_out || (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED && !x->answered)) {
			reason = MDG_REASON_REQUEST_TIMEOUT;
			lr.reason = "request not whole within request_timeout: closed";
		} else if (si != NULL && si->http_status != 0) {
			/* libmicrohttpd answered it itself (docs/architecture.md) */
			reason = MDG_REASON_MHD_ANSWERED;
			lr.status = si->http_status;
			lr.reason = "answered by libmicrohttpd";
		}
	}
	lr.level = mdg_reason_log_level(reason);
	if (mdg_reason_blame(reason) == MDG_BLAME_STORE)
		lr.store_error = x->store_error[0] != '\0' ? x->store_error : "(no store connection)";
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

int mdg_http_start(struct mdg_server *s, char *err, size_t errlen)
{
	const struct mdg_config *cfg = s->cfg;
	struct sockaddr_storage addr;
	unsigned threads = cfg->threads;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;

	if (mdg_http_resolve_listen("", cfg->listen, cfg->port, &addr, err, errlen) == -1)
		return -1;
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (unsigned)n : 1;
	}
	if (mdg_config_check_tls_pair(cfg, err, errlen) != 0)
		return -1;
	if (cfg->tls_cert[0]) {
		if ((s->tls = mdg_tls_open(cfg->tls_cert, cfg->tls_key, err, errlen)) == NULL)
			return -1;
		flags |= MHD_USE_TLS;
	}
	/* the certificate comes from a callback so that SIGHUP can swap it */
	struct MHD_OptionItem tls_opts[] = {
		{ MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)&mdg_tls_retrieve },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)mdg_tls_priorities() },
		{ MHD_OPTION_END, 0, NULL },
	};
	if ((s->conns = mdg_conn_table_new(cfg->max_connections_per_address)) == NULL) {
		snprintf(err, errlen, "no memory for the connection table");
		mdg_tls_close(s->tls);
		s->tls = NULL;
		return -1;
	}
	/* open everything first: the workers' store connections too */
	if (mdg_http_store_pool_open(cfg, threads, err, errlen) != 0) {
		mdg_http_store_pool_free();
		mdg_conn_table_free(s->conns);
		s->conns = NULL;
		mdg_tls_close(s->tls);
		s->tls = NULL;
		return -1;
	}
	/* max_connections_per_address is on_accept's (trusted proxies exempt),
	 * not MHD_OPTION_PER_IP_CONNECTION_LIMIT's */
	s->daemon = MHD_start_daemon(
		flags, (uint16_t)cfg->port, mdg_http_on_accept, s, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
		mdg_http_log_mhd, (void *)"http", MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)CONNECTION_MEMORY, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_CONNECTION,
		mdg_http_on_connection, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_ARRAY,
		s->tls ? tls_opts : &tls_opts[2], MHD_OPTION_END);
	if (s->daemon == NULL) {
		mdg_http_listen_problem(&addr, "", cfg->listen, cfg->port, err, errlen);
		mdg_http_store_pool_free();
		mdg_tls_close(s->tls);
		s->tls = NULL;
		mdg_conn_table_free(s->conns);
		s->conns = NULL;
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
	/* Not MHD_quiesce_daemon: in 0.9.75 with a thread pool on epoll it
	 * races the workers removing the listen socket from their epoll sets
	 * and can abort ("Failed to remove listen FD from epoll set"). The
	 * accept policy refuses new connections instead while in-flight
	 * requests finish. */
	atomic_store(&s->stopping, 1);
	for (unsigned i = 0; i < grace * 20 && atomic_load(&s->open_requests) > 0; i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	MHD_stop_daemon(s->daemon);
	s->daemon = NULL;
	mdg_http_store_pool_free();
	mdg_conn_table_free(s->conns);
	s->conns = NULL;
	mdg_tls_close(s->tls);
	s->tls = NULL;
}
