/* The daemon's per-request state and answer senders, shared by http.c and
 * the endpoint handlers split out of it (endpoints.c). Private to
 * server/http/. */
#ifndef MDG_HTTP_EXCHANGE_H
#define MDG_HTTP_EXCHANGE_H

#include <arpa/inet.h>
#include <stddef.h>
#include <time.h>

#include <microhttpd.h>

#include "http.h"
#include "pipeline.h"
#include "result.h"

enum route {
	R_NOT_FOUND,
	R_TOP,
	R_RESULTS, /* /results, /results/<name>: result pages */
	R_NONCE,
	R_HEALTH,
	R_READY,
	R_REVOCATION,
	R_VALIDITY,
	R_LOG, /* /v1/log/...: the acceptance log (receipts configured) */
};

/* Per-request state, owned by libmicrohttpd's con_cls until completion. */
struct exchange {
	struct mdg_server *srv;
	enum route route;
	enum mdg_procedure proc;
	int begun;   /* on_request has seen the request */
	int counted; /* holds a max_inflight slot */
	int answered;
	int timed_out;    /* request_timeout passed before the request was whole */
	int raw_answered; /* the early 413 written by send_early_413 */
	struct timespec answered_at;
	size_t dropped; /* body bytes dropped after the early 413 */
	unsigned char *body;
	size_t len, cap;
	int too_large;
	struct timespec start;
	char request_id[17];
	char client[INET6_ADDRSTRLEN];
	const char *method;
	char path[128];
	const char *result; /* for the log */
	const char *why;
	unsigned status;
	enum mdg_reason reason; /* how it ended, once answered */
	char store_error[256];  /* the backend's message (blame store), for the log only */
};

enum MHD_Result mdg_http_send_response(struct MHD_Connection *c, struct exchange *x, enum mdg_reason reason,
				       const char *ctype, char *body, size_t len, int must_free, const char *hname,
				       const char *hvalue);
enum MHD_Result mdg_http_send_outcome(struct MHD_Connection *c, struct exchange *x, const struct mdg_outcome *o,
				      const char *allow);
enum MHD_Result mdg_http_send_result(struct MHD_Connection *c, struct exchange *x, enum mdg_reason reason,
				     const char *why, const char *allow);
enum MHD_Result mdg_http_send_json_text(struct MHD_Connection *c, struct exchange *x, enum mdg_reason reason,
					const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* GET /readyz (endpoints.c) */
enum MHD_Result mdg_http_handle_ready(struct MHD_Connection *c, struct exchange *x);
/* GET /v1/log/... (endpoints.c) */
enum MHD_Result mdg_http_handle_log(struct MHD_Connection *c, struct exchange *x, const char *url);

#endif
