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
#include "log.h"
#include "metrics.h"
#include "names.h"
#include "timefmt.h"
#include "toppage.h"
#include "tls.h"

#define CONNECTION_TIMEOUT 30	/* seconds of silence before an idle connection is closed */
/* After the early 413 of an endless body, how long the rest is read and
 * dropped before the connection closes (so that the client reads the answer
 * instead of a reset), and how much of it at most. */
#define LINGER_MS 1000
#define LINGER_BYTES (1024 * 1024)
/* X-Forwarded-For header lines read at most; more: the header is ignored. */
#define MAX_XFF_LINES 32
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
	int begun;			/* on_request has seen the request */
	int counted;			/* holds a max_inflight slot */
	int answered;
	int timed_out;			/* request_timeout passed before the request was whole */
	int raw_answered;		/* the early 413 written by send_early_413 */
	struct timespec answered_at;
	size_t dropped;			/* body bytes dropped after the early 413 */
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

/* An address as 17 comparable bytes: 4 or 6, then the address (an
 * IPv4-mapped IPv6 address is the IPv4 address). -1 for other families. */
#define ADDR_KEY_LEN 17

static int addr_key(const struct sockaddr *sa, unsigned char key[ADDR_KEY_LEN])
{
	memset(key, 0, ADDR_KEY_LEN);
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			key[0] = 4;
			memcpy(key + 1, a->s6_addr + 12, 4);
		} else {
			key[0] = 6;
			memcpy(key + 1, a->s6_addr, 16);
		}
		return 0;
	}
	return -1;
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	unsigned char ka[ADDR_KEY_LEN], kb[ADDR_KEY_LEN];

	if (addr_key((const struct sockaddr *)a, ka) != 0 || addr_key(b, kb) != 0)
		return 0;
	return memcmp(ka, kb, ADDR_KEY_LEN) == 0;
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

/* max_connections_per_address, counted here because libmicrohttpd's
 * MHD_OPTION_PER_IP_CONNECTION_LIMIT cannot exempt an address, and a trusted
 * proxy carries many holders' connections (DESIGN.md "Proxies"). The accept
 * policy callback takes a count for the peer (or refuses the connection),
 * the connection notifier keeps it with the connection and gives it back
 * when the connection closes. Striped: a small mutex per stripe of
 * addresses, held for a short list walk; no global lock. */
#define CONN_STRIPES 256

struct conn_node {
	struct conn_node *next;
	unsigned char key[ADDR_KEY_LEN];
	unsigned count;			/* open connections from this address */
	unsigned stripe;
};

struct mdg_conn_table {
	unsigned limit;
	struct conn_stripe {
		pthread_mutex_t lock;
		struct conn_node *head;
	} stripe[CONN_STRIPES];
};

enum conn_take { CONN_TAKEN, CONN_UNTRACKED, CONN_OVER, CONN_NO_MEMORY };

static struct mdg_conn_table *conn_table_new(unsigned limit)
{
	struct mdg_conn_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->limit = limit;
	for (size_t i = 0; i < CONN_STRIPES; i++)
		pthread_mutex_init(&t->stripe[i].lock, NULL);
	return t;
}

/* Only once no connection can reach the table any more (daemon stopped). */
static void conn_table_free(struct mdg_conn_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < CONN_STRIPES; i++) {
		for (struct conn_node *n = t->stripe[i].head, *next; n != NULL; n = next) {
			next = n->next;
			free(n);
		}
		pthread_mutex_destroy(&t->stripe[i].lock);
	}
	free(t);
}

static unsigned key_stripe(const unsigned char key[ADDR_KEY_LEN])
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (size_t i = 0; i < ADDR_KEY_LEN; i++)
		h = (h ^ key[i]) * 16777619u;
	return h % CONN_STRIPES;
}

/* One more connection from sa, if under the limit: *out is its count. */
static enum conn_take conn_take(struct mdg_conn_table *t, const struct sockaddr *sa, struct conn_node **out)
{
	unsigned char key[ADDR_KEY_LEN];
	enum conn_take r = CONN_TAKEN;

	*out = NULL;
	if (addr_key(sa, key) != 0)
		return CONN_UNTRACKED;
	unsigned si = key_stripe(key);
	struct conn_stripe *st = &t->stripe[si];
	struct conn_node *n;

	pthread_mutex_lock(&st->lock);
	for (n = st->head; n != NULL; n = n->next)
		if (memcmp(n->key, key, ADDR_KEY_LEN) == 0)
			break;
	if (n == NULL) {
		if ((n = calloc(1, sizeof(*n))) == NULL) {
			r = CONN_NO_MEMORY;
		} else {
			memcpy(n->key, key, ADDR_KEY_LEN);
			n->stripe = si;
			n->next = st->head;
			st->head = n;
		}
	}
	if (n != NULL) {
		if (n->count >= t->limit) {
			r = CONN_OVER;	/* a node at 0 is never left: its count was > 0 */
		} else {
			n->count++;
			*out = n;
		}
	}
	pthread_mutex_unlock(&st->lock);
	return r;
}

static void conn_release(struct mdg_conn_table *t, struct conn_node *n)
{
	struct conn_stripe *st = &t->stripe[n->stripe];

	pthread_mutex_lock(&st->lock);
	if (--n->count == 0) {
		for (struct conn_node **pp = &st->head; *pp != NULL; pp = &(*pp)->next)
			if (*pp == n) {
				*pp = n->next;
				break;
			}
		free(n);
	}
	pthread_mutex_unlock(&st->lock);
}

/* The count taken by the last accept on this thread, until the connection
 * notifier (called next on the same thread for an accepted connection)
 * moves it into the connection. A connection libmicrohttpd gives up on
 * between the two (its max_connections, no memory) never reaches the
 * notifier: the next accept on the thread gives its count back. */
static _Thread_local struct conn_node *accept_pending;

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct mdg_server *s = cls;
	struct conn_node *n;

	(void)addrlen;
	if (accept_pending != NULL) {
		conn_release(s->conns, accept_pending);
		accept_pending = NULL;
	}
	if (is_trusted(s, addr))
		return MHD_YES;	/* only max_connections applies to a trusted proxy */
	switch (conn_take(s->conns, addr, &n)) {
	case CONN_TAKEN:
		accept_pending = n;
		return MHD_YES;
	case CONN_UNTRACKED:
		return MHD_YES;
	case CONN_OVER:
		return MHD_NO;
	case CONN_NO_MEMORY:
		break;
	}
	return MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct mdg_server *s = cls;

	(void)c;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = accept_pending;
		accept_pending = NULL;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context != NULL) {
		conn_release(s->conns, *socket_context);
		*socket_context = NULL;
	}
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

/* X-Forwarded-For: one line, right to left. 1: an entry that is not a
 * trusted proxy, written to out; 0: every entry is a trusted proxy; -1: an
 * entry that is not an address (the header is then not used at all). */
static int xff_line(const struct mdg_server *s, const char *line, char *out, size_t outlen)
{
	const char *end = line + strlen(line);

	for (;;) {
		const char *start = end;
		while (start > line && start[-1] != ',')
			start--;
		const char *a = start, *b = end;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		char entry[INET6_ADDRSTRLEN];
		struct sockaddr_storage ss;
		if ((size_t)(b - a) >= sizeof(entry))
			return -1;
		memcpy(entry, a, (size_t)(b - a));
		entry[b - a] = '\0';
		if (parse_addr(entry, &ss) != 0)
			return -1;
		if (!is_trusted(s, (struct sockaddr *)&ss)) {
			addr_text((struct sockaddr *)&ss, out, outlen);
			return 1;
		}
		if (start == line)
			return 0;
		end = start - 1;	/* before the comma */
	}
}

struct xff_lines {
	const char *v[MAX_XFF_LINES];
	size_t n;
	int too_many;
};

static enum MHD_Result collect_xff(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct xff_lines *l = cls;

	(void)kind;
	if (key == NULL || strcasecmp(key, "X-Forwarded-For") != 0)
		return MHD_YES;
	if (l->n == MAX_XFF_LINES) {
		l->too_many = 1;
		return MHD_NO;
	}
	l->v[l->n++] = value ? value : "";
	return MHD_YES;
}

/* The client: the peer, or from a trusted proxy the right-most
 * X-Forwarded-For entry that is not itself a trusted proxy, every header
 * line counted in order as one list (libmicrohttpd keeps the lines in the
 * order received). */
static void client_address(struct mdg_server *s, struct MHD_Connection *c, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *peer = ci ? ci->client_addr : NULL;
	struct xff_lines lines = {.n = 0};
	char found[INET6_ADDRSTRLEN];

	addr_text(peer, out, outlen);
	if (peer == NULL || !is_trusted(s, peer))
		return;
	MHD_get_connection_values(c, MHD_HEADER_KIND, collect_xff, &lines);
	if (lines.too_many)
		return;
	for (size_t i = lines.n; i > 0; i--) {
		int r = xff_line(s, lines.v[i - 1], found, sizeof(found));
		if (r < 0)
			return;	/* garbage: keep the peer */
		if (r > 0) {
			snprintf(out, outlen, "%s", found);
			return;
		}
	}
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
	request_done(c);
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
	mdg_outcome_set(&o, x->proc, MDG_MALFORMED, 413, "body over max_body");
	x->result = mdg_result_name(o.result);
	x->why = o.why;
	x->status = 413;
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
			  "HTTP/1.1 413 Content Too Large\r\nDate: %s\r\nConnection: close\r\n"
			  "Content-Type: %s\r\nCache-Control: no-store\r\nX-Request-Id: %s\r\n"
			  "X-Content-Type-Options: nosniff\r\nContent-Length: %zu\r\n\r\n",
			  date, mdg_answer_content_type(&o), x->request_id, len);
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
				break;	/* GNUTLS_E_AGAIN included: never wait here */
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
	x->answered = 0;	/* not sent: logged as closed */
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
	struct framing f = {0, 0, 0};

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
	if (ci != NULL && ci->client_addr != NULL && is_trusted(s, ci->client_addr)) {
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
	struct mdg_toppage_site site = {.window_url = x->srv->cfg->public_url,
					.client_url = x->srv->cfg->client_url};

	if (x->route == R_TOP && site.window_url[0] == '\0') {
		request_origin(c, x->srv, origin, sizeof(origin));
		site.window_url = origin;
	}
	char *html = x->route == R_TOP ? mdg_toppage_html(&site, &len)
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
	request_done(c);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	x->status = MHD_HTTP_OK;
	x->answered = 1;
	return ret;
}

struct ready_ctx {
	const struct mdg_server *srv;
	time_t now;
	int *covered;	/* per anchor name index */
	const size_t *names;
	size_t n_names;
	json_t *stale;	/* the first stale scope in force: {issuer, scope, nextUpdate} */
	int failed;
};

/* Retired scopes (crl retire) do not count; the first stale one is named. */
static int ready_scope(void *arg, const struct mdg_crl_scope *s)
{
	struct ready_ctx *r = arg;
	const struct mdg_anchors *a = r->srv->pipeline.anchors;
	char iss[512], dp[512], nu[MDG_RFC3339_LEN];

	if (s->retired_at != 0)
		return 0;
	for (size_t i = 0; i < r->n_names; i++) {
		const struct mdg_anchor *an = &a->v[r->names[i]];
		if ((size_t)an->subject_len != s->issuer_len || memcmp(an->subject_der, s->issuer_der, s->issuer_len) != 0)
			continue;
		r->covered[i] = 1;
		if ((long long)r->now <= (long long)s->next_update + r->srv->cfg->crl_max_age || r->stale != NULL)
			continue;
		mdg_der_name_rfc4514(s->issuer_der, s->issuer_len, iss, sizeof(iss));
		if (s->dp_der != NULL)
			mdg_der_name_rfc4514(s->dp_der, s->dp_len, dp, sizeof(dp));
		else
			snprintf(dp, sizeof(dp), "full");
		mdg_rfc3339_jst(s->next_update, nu);
		r->stale = json_pack("{s:s, s:s, s:s, s:s, s:s}", "status", "unavailable", "reason",
				     "a CRL is stale", "issuer", iss, "scope", dp, "nextUpdate", nu);
		if (r->stale == NULL)
			r->failed = 1;
	}
	return 0;
}

/* A JSON answer built with jansson (names need escaping). */
static enum MHD_Result send_ready_json(struct MHD_Connection *c, struct exchange *x, unsigned status, json_t *o)
{
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	enum MHD_Result ret;

	json_decref(o);
	if (s == NULL)
		return send_json_text(c, x, 503, "{\"status\":\"unavailable\",\"reason\":\"out of memory\"}");
	ret = send_json_text(c, x, status, "%s", s);
	free(s);
	return ret;
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
	if (st->ops->list_crls(st->cls, ready_scope, &r) != MDG_STORE_OK || r.failed) {
		json_decref(r.stale);
		return send_json_text(c, x, 503, "{\"status\":\"unavailable\",\"reason\":\"database unreachable\"}");
	}
	for (size_t i = 0; i < r.n_names; i++) {
		if (covered[i])
			continue;
		json_decref(r.stale);
		return send_ready_json(c, x, 503,
				       json_pack("{s:s, s:s, s:s}", "status", "unavailable", "reason",
						 "no CRL held for an anchor", "anchor",
						 x->srv->pipeline.anchors->v[names[i]].subject_text));
	}
	if (r.stale != NULL)
		return send_ready_json(c, x, 503, r.stale);
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
		return NULL;	/* on_request tries again */
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
		x->method = strcmp(method, "GET") == 0 ? "GET" : strcmp(method, "POST") == 0 ? "POST"
			  : strcmp(method, "HEAD") == 0 ? "HEAD" : "other";
		snprintf(x->path, sizeof(x->path), "%s", url);
		client_address(s, c, x->client, sizeof(x->client));
		x->route = route_of(url);
		if (past_deadline(c, x))
			return MHD_NO;	/* the headers took all of request_timeout */
		int is_post = strcmp(method, "POST") == 0;
		const char *framing = bad_framing(c);

		switch (x->route) {
		case R_NOT_FOUND:
		case R_TOP:
		case R_RESULTS:
		case R_HEALTH:
		case R_READY:
		case R_NONCE:
			if (framing != NULL)
				return send_result(c, x, MDG_MALFORMED, 400, framing, NULL);
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
			/* 2. format, as far as the message's framing goes */
			if (framing != NULL)
				return send_result(c, x, MDG_MALFORMED, 400, framing, NULL);
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
	if (x->raw_answered) {
		/* after the early 413: drop what follows for a moment, then close */
		if (*upload_data_size == 0)
			return MHD_NO;	/* the body ended: nothing more to answer */
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
		if (x->timed_out || (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED && !x->answered))
			lr.reason = "request not whole within request_timeout: closed";
		else if (si != NULL && si->http_status != 0) {
			/* libmicrohttpd answered it itself (docs/architecture.md) */
			lr.status = si->http_status;
			lr.reason = "answered by libmicrohttpd";
		}
	}
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

void mdg_http_listen_problem(const struct sockaddr_storage *addr, const char *what, const char *host,
			     unsigned port, char *err, size_t errlen)
{
	socklen_t len = addr->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, e = 0;

	if (fd == -1)
		e = errno;
	else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
		 bind(fd, (const struct sockaddr *)addr, len) == -1 || listen(fd, 1) == -1)
		e = errno;
	if (fd != -1)
		close(fd);
	switch (e) {
	case EADDRINUSE:
		snprintf(err, errlen, "%sport %u in use on %s: another program (or another madoguchid) listens there; "
			 "stop it or choose another port (ss -ltnp 'sport = :%u' shows which)", what, port, host, port);
		break;
	case EACCES:
		snprintf(err, errlen, "%sport %u on %s: permission denied (ports below 1024 need "
			 "CAP_NET_BIND_SERVICE; use a higher port behind the proxy)", what, port, host);
		break;
	case EADDRNOTAVAIL:
		snprintf(err, errlen, "%scannot listen on %s port %u: %s is not an address of this host", what,
			 host, port, host);
		break;
	case 0:
		snprintf(err, errlen, "%scannot listen on %s port %u (the address is free now: try again)", what,
			 host, port);
		break;
	default:
		snprintf(err, errlen, "%scannot listen on %s port %u: %s", what, host, port, strerror(e));
		break;
	}
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
	if ((s->conns = conn_table_new(cfg->max_connections_per_address)) == NULL) {
		snprintf(err, errlen, "no memory for the connection table");
		mdg_tls_close(s->tls);
		s->tls = NULL;
		return -1;
	}
	/* max_connections_per_address is on_accept's (trusted proxies exempt),
	 * not MHD_OPTION_PER_IP_CONNECTION_LIMIT's */
	s->daemon = MHD_start_daemon(
		flags, (uint16_t)cfg->port, on_accept, s, on_request, s,
		MHD_OPTION_EXTERNAL_LOGGER, mdg_http_log_mhd, (void *)"http",
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_THREAD_POOL_SIZE, threads,
		MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_ARRAY, s->tls ? tls_opts : &tls_opts[2],
		MHD_OPTION_END);
	if (s->daemon == NULL) {
		mdg_http_listen_problem(&addr, "", cfg->listen, cfg->port, err, errlen);
		mdg_tls_close(s->tls);
		s->tls = NULL;
		conn_table_free(s->conns);
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
	MHD_socket listener = MHD_quiesce_daemon(s->daemon);
	for (unsigned i = 0; i < grace * 20 && atomic_load(&s->open_requests) > 0; i++) {
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	MHD_stop_daemon(s->daemon);
	if (listener != MHD_INVALID_SOCKET)
		close(listener);
	s->daemon = NULL;
	conn_table_free(s->conns);
	s->conns = NULL;
	mdg_tls_close(s->tls);
	s->tls = NULL;
}
