/* The admin listener: a second libmicrohttpd daemon in madoguchid, on its
 * own address ([admin] listen, port; loopback by default, never behind the
 * public proxy). GET /metrics (Prometheus text, open), and the bearer-token
 * JSON API GET /admin/v1/acceptances and GET /admin/v1/crls. One thread
 * serves it, with its own store connection. */
#ifndef MDG_ADMIN_HTTP_H
#define MDG_ADMIN_HTTP_H

#include <stddef.h>

#include "config.h"
#include "http.h"
#include "store.h"

struct mdg_admin_server {
	const struct mdg_config *cfg;
	const struct mdg_server *pub; /* the public listener's gauges; may be NULL */
	struct MHD_Daemon *daemon;
	unsigned port;   /* the port actually bound */
	int api_enabled; /* a token is configured */
	unsigned char token_sha256[32];
	struct mdg_store store; /* the listener thread's connection */
};

/* Reads [admin] token_file (if set): mode 0600 or stricter, one token of
 * 16 to 512 characters of RFC 6750's b64token, trailing whitespace
 * ignored. Only its SHA-256 is kept. Returns 0 or -1 with a message. */
int mdg_admin_load_token(struct mdg_admin_server *a, char *err, size_t errlen);

/* Starts listening unless [admin] listen is empty (then a->daemon stays
 * NULL and 0 is returned). Returns 0 or -1 with a message. */
int mdg_admin_start(struct mdg_admin_server *a, char *err, size_t errlen);

/* Stops the listener and closes its store connection. */
void mdg_admin_stop(struct mdg_admin_server *a);

#endif
