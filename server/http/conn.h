/* Internal to the HTTP adapter (http.c, conn.c): connections and the
 * workers' store connections. */
#ifndef MDG_HTTP_CONN_H
#define MDG_HTTP_CONN_H

#include <stddef.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "config.h"
#include "http.h"
#include "store.h"

/* The workers' store connections: n opened through the door before serving
 * (0, or -1 with a message, none left open); each worker takes one on its
 * first request; one dropped after a store fault (reset) or one for a
 * thread beyond the n is opened on use (NULL, logged, if it cannot be). */
int mdg_http_store_pool_open(const struct mdg_config *cfg, unsigned n, char *err, size_t errlen);
void mdg_http_store_pool_free(void); /* once the workers have stopped */
struct mdg_store *mdg_http_thread_store(const struct mdg_config *cfg);
void mdg_http_thread_store_reset(struct mdg_store *st);

/* Open connections per peer address (max_connections_per_address). */
struct mdg_conn_table *mdg_conn_table_new(unsigned limit);
void mdg_conn_table_free(struct mdg_conn_table *t); /* once no connection can reach it */
/* libmicrohttpd's accept policy and connection notifier (cls: the server). */
enum MHD_Result mdg_http_on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
void mdg_http_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			    enum MHD_ConnectionNotificationCode code);

/* Is sa one of trusted_proxies? */
int mdg_http_is_trusted(const struct mdg_server *s, const struct sockaddr *sa);
/* The client: the peer, or from a trusted proxy the right-most
 * X-Forwarded-For entry that is not itself a trusted proxy. */
void mdg_http_client_address(struct mdg_server *s, struct MHD_Connection *c, char *out, size_t outlen);

#endif
