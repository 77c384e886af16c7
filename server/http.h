/* The HTTP adapter: libmicrohttpd (internal thread pool, epoll) in front of
 * the pipeline. Routing, admission (max_inflight), body collection with a
 * ceiling, one JSON log line per request, graceful stop. */
#ifndef MDG_HTTP_H
#define MDG_HTTP_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/socket.h>

#include "pipeline.h"

#define MDG_MAX_TRUSTED 16

struct mdg_server {
	const struct mdg_config *cfg;
	struct mdg_pipeline pipeline;
	struct MHD_Daemon *daemon;
	atomic_uint inflight;		/* procedure requests in progress */
	atomic_uint open_requests;	/* every request between start and completion */
	struct sockaddr_storage trusted[MDG_MAX_TRUSTED];
	size_t n_trusted;
	unsigned port;			/* the port actually bound */
	struct mdg_tls *tls;		/* native HTTPS credentials, or NULL */
};

/* Parses cfg->trusted_proxies into s. Returns 0 or -1 with a message. */
int mdg_http_parse_proxies(struct mdg_server *s, char *err, size_t errlen);

/* Starts listening. Returns 0 or -1 with a message. */
int mdg_http_start(struct mdg_server *s, char *err, size_t errlen);

/* Stops accepting, lets requests in flight finish (up to grace seconds),
 * then stops the daemon and frees what start allocated. */
void mdg_http_stop(struct mdg_server *s, unsigned grace);

#endif
