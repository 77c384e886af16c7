/* The HTTP adapter's connections: admission under
 * max_connections_per_address (trusted proxies exempt), the client address
 * (X-Forwarded-For from trusted proxies), the listen addresses of both
 * listeners, and the workers' store connections, opened before serving. */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

/* X-Forwarded-For header lines read at most; more: the header is ignored. */
#define MAX_XFF_LINES 32

/* One store connection per worker thread: mdg_http_start opens one per
 * pool thread before libmicrohttpd serves (store_pool), and each worker
 * takes one on its first request. One dropped after a store error (below),
 * or one for a thread beyond the pool, is opened on use. */
static pthread_key_t store_key;
static pthread_once_t store_once = PTHREAD_ONCE_INIT;
static struct mdg_store **store_pool; /* taken slots are NULL */
static size_t store_pool_n;
static atomic_size_t store_pool_next;

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

static struct mdg_store *store_open_one(const struct mdg_config *cfg, char *err, size_t errlen)
{
	struct mdg_store *st = calloc(1, sizeof(*st));

	if (st == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (mdg_store_open(st, cfg, err, errlen) != 0) {
		free(st);
		return NULL;
	}
	return st;
}

/* Before serving: n connections for the n worker threads. 0, or -1 with a
 * message (none left open). */
int mdg_http_store_pool_open(const struct mdg_config *cfg, unsigned n, char *err, size_t errlen)
{
	char msg[512];

	pthread_once(&store_once, store_key_init);
	if ((store_pool = calloc(n, sizeof(*store_pool))) == NULL) {
		snprintf(err, errlen, "store: out of memory");
		return -1;
	}
	store_pool_n = n;
	atomic_store(&store_pool_next, 0);
	for (unsigned i = 0; i < n; i++) {
		if ((store_pool[i] = store_open_one(cfg, msg, sizeof(msg))) == NULL) {
			snprintf(err, errlen, "store: cannot open the connection of worker thread %u of %u: %s", i + 1,
				 n, msg);
			return -1;
		}
	}
	return 0;
}

/* The connections no worker took (after the workers have stopped). */
void mdg_http_store_pool_free(void)
{
	for (size_t i = 0; i < store_pool_n; i++)
		if (store_pool[i] != NULL)
			store_destroy(store_pool[i]);
	free(store_pool);
	store_pool = NULL;
	store_pool_n = 0;
}

struct mdg_store *mdg_http_thread_store(const struct mdg_config *cfg)
{
	struct mdg_store *st;
	char err[512];
	size_t i;

	pthread_once(&store_once, store_key_init);
	st = pthread_getspecific(store_key);
	if (st != NULL)
		return st;
	i = atomic_fetch_add(&store_pool_next, 1);
	if (i < store_pool_n) {
		st = store_pool[i];
		store_pool[i] = NULL;
	} else if ((st = store_open_one(cfg, err, sizeof(err))) == NULL) {
		mdg_log("error", "store: %s", err);
		return NULL;
	}
	pthread_setspecific(store_key, st);
	return st;
}

/* After a store error the thread's connection is dropped and opened afresh
 * by its next request: a connection that met a fault can stay broken after
 * the fault is gone (the embedded backend's, after its database was made
 * immutable for a while, kept answering "attempt to write a readonly
 * database"; tests/e2e/test_faults.py). */
void mdg_http_thread_store_reset(struct mdg_store *st)
{
	pthread_setspecific(store_key, NULL);
	store_destroy(st);
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

int mdg_http_is_trusted(const struct mdg_server *s, const struct sockaddr *sa)
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
	unsigned count; /* open connections from this address */
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

struct mdg_conn_table *mdg_conn_table_new(unsigned limit)
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
void mdg_conn_table_free(struct mdg_conn_table *t)
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
	uint32_t h = 2166136261u; /* FNV-1a */

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
			r = CONN_OVER; /* a node at 0 is never left: its count was > 0 */
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

enum MHD_Result mdg_http_on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct mdg_server *s = cls;
	struct conn_node *n;

	(void)addrlen;
	if (accept_pending != NULL) {
		conn_release(s->conns, accept_pending);
		accept_pending = NULL;
	}
	if (atomic_load(&s->stopping))
		return MHD_NO; /* stopping: in-flight requests finish, no new connection */
	if (mdg_http_is_trusted(s, addr))
		return MHD_YES; /* only max_connections applies to a trusted proxy */
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

void mdg_http_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
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
		if (!mdg_http_is_trusted(s, (struct sockaddr *)&ss)) {
			addr_text((struct sockaddr *)&ss, out, outlen);
			return 1;
		}
		if (start == line)
			return 0;
		end = start - 1; /* before the comma */
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
void mdg_http_client_address(struct mdg_server *s, struct MHD_Connection *c, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *peer = ci ? ci->client_addr : NULL;
	struct xff_lines lines = { .n = 0 };
	char found[INET6_ADDRSTRLEN];

	addr_text(peer, out, outlen);
	if (peer == NULL || !mdg_http_is_trusted(s, peer))
		return;
	MHD_get_connection_values(c, MHD_HEADER_KIND, collect_xff, &lines);
	if (lines.too_many)
		return;
	for (size_t i = lines.n; i > 0; i--) {
		int r = xff_line(s, lines.v[i - 1], found, sizeof(found));
		if (r < 0)
			return; /* garbage: keep the peer */
		if (r > 0) {
			snprintf(out, outlen, "%s", found);
			return;
		}
	}
}

int mdg_http_resolve_listen(const char *what, const char *host, unsigned port, struct sockaddr_storage *addr, char *err,
			    size_t errlen)
{
	if (mdg_http_listen_addr(host, port, addr) == -1) {
		snprintf(err, errlen, "%slisten: '%s' is not a numeric IPv4 or IPv6 address", what, host);
		return -1;
	}
	return 0;
}

int mdg_http_listen_addr(const char *host, unsigned port, struct sockaddr_storage *addr)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE, .ai_socktype = SOCK_STREAM };
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

void mdg_http_listen_problem(const struct sockaddr_storage *addr, const char *what, const char *host, unsigned port,
			     char *err, size_t errlen)
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
		snprintf(err, errlen,
			 "%sport %u in use on %s: another program (or another madoguchid) listens there; "
			 "stop it or choose another port (ss -ltnp 'sport = :%u' shows which)",
			 what, port, host, port);
		break;
	case EACCES:
		snprintf(err, errlen,
			 "%sport %u on %s: permission denied (ports below 1024 need "
			 "CAP_NET_BIND_SERVICE; use a higher port behind the proxy)",
			 what, port, host);
		break;
	case EADDRNOTAVAIL:
		snprintf(err, errlen, "%scannot listen on %s port %u: %s is not an address of this host", what, host,
			 port, host);
		break;
	case 0:
		snprintf(err, errlen, "%scannot listen on %s port %u (the address is free now: try again)", what, host,
			 port);
		break;
	default:
		snprintf(err, errlen, "%scannot listen on %s port %u: %s", what, host, port, strerror(e));
		break;
	}
}
