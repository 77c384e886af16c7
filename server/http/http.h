/* The HTTP adapter: libmicrohttpd (internal thread pool, epoll) in front of
 * the pipeline. Routing, admission (max_inflight), the per-address
 * connection limit (trusted proxies exempt), body collection with a ceiling
 * and a deadline (request_timeout), one JSON log line per request, graceful
 * stop. */
#ifndef MDG_HTTP_H
#define MDG_HTTP_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/socket.h>

#include "checkpoint.h"
#include "pipeline.h"

#define MDG_MAX_TRUSTED 16

struct mdg_conn_table; /* open connections per peer address (http.c) */

struct mdg_server {
	const struct mdg_config *cfg;
	struct mdg_pipeline pipeline;
	struct MHD_Daemon *daemon;
	atomic_uint inflight;      /* procedure requests in progress */
	atomic_uint open_requests; /* every request between start and completion */
	struct sockaddr_storage trusted[MDG_MAX_TRUSTED];
	size_t n_trusted;
	unsigned port;                   /* the port actually bound */
	struct mdg_tls *tls;             /* native HTTPS credentials, or NULL */
	struct mdg_conn_table *conns;    /* max_connections_per_address, trusted proxies exempt */
	const struct mdg_logkey *logkey; /* [receipts] log_key; NULL: no /v1/log */
	atomic_int stopping;             /* set by mdg_http_stop: new connections are refused */
};

/* Parses cfg->trusted_proxies into s. Returns 0 or -1 with a message. */
int mdg_http_parse_proxies(struct mdg_server *s, char *err, size_t errlen);

/* A numeric IPv4 or IPv6 address and a port as a socket address to listen
 * on. 0, or -1 if host is not a numeric address. */
int mdg_http_listen_addr(const char *host, unsigned port, struct sockaddr_storage *addr);

/* The same, the way both listeners' starts (and --check-config) resolve
 * their listen value: 0, or -1 with "<what>listen: '<host>' is not a numeric
 * IPv4 or IPv6 address" (what: "" or "[admin] "). */
int mdg_http_resolve_listen(const char *what, const char *host, unsigned port, struct sockaddr_storage *addr, char *err,
			    size_t errlen);

/* Why listening on addr failed, for the message after MHD_start_daemon
 * returned NULL (it says only "Failed to bind"): binds a socket to addr
 * once more and names the error ("port 8080 on 127.0.0.1 is in use ...").
 * what: "" or the listener's name with a trailing ": ". */
void mdg_http_listen_problem(const struct sockaddr_storage *addr, const char *what, const char *host, unsigned port,
			     char *err, size_t errlen);

/* libmicrohttpd's error logger for either listener: one warning line,
 * prefixed with cls (a string naming the listener). */
void mdg_http_log_mhd(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Starts listening. Returns 0 or -1 with a message. */
int mdg_http_start(struct mdg_server *s, char *err, size_t errlen);

/* Stops accepting, lets requests in flight finish (up to grace seconds),
 * then stops the daemon and frees what start allocated. */
void mdg_http_stop(struct mdg_server *s, unsigned grace);

#endif
