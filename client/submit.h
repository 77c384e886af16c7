/* Talking to the window over HTTPS with libcurl: GET /v1/nonce and POST the
 * signed request. The server certificate is verified by default (system CA
 * store, or --cacert); plain http:// is allowed only to a loopback address. */
#ifndef MDG_CLIENT_SUBMIT_H
#define MDG_CLIENT_SUBMIT_H

#include <stddef.h>

#include "message.h"
#include "result.h"
#include "status.h"

struct mdg_submit_opts {
	const char *base_url; /* https://host[:port][/prefix], no trailing slash needed */
	const char *cacert;   /* PEM bundle, or NULL for the system store */
	long timeout;         /* seconds for one exchange */
	enum mdg_lang lang;   /* Accept-Language */
};

struct mdg_http_answer {
	long status;
	char *body; /* NUL-terminated, exactly as received (len bytes) */
	size_t len;
	long retry_after; /* Retry-After in seconds, or -1 */
};

void mdg_submit_global_init(void);
void mdg_submit_global_cleanup(void);

/* Checks the URL (scheme https, or http to a loopback host). Returns 0 or
 * -1 with err set. */
int mdg_submit_check_url(const char *url, struct mdg_msg *err);

/* GET /v1/nonce. MDG_CS_OK with the nonce in nonce[] (nonce[0] != '\0'),
 * or MDG_CS_OK with nonce[0] == '\0' and the window's other answer in *a
 * (busy, serviceError, ...: the caller shows it); without an answer
 * MDG_CS_NETWORK (not reached) or MDG_CS_TLS (server certificate not
 * verified) with err set. *a is always to be freed with mdg_http_answer_free. */
enum mdg_cstate mdg_fetch_nonce(const struct mdg_submit_opts *o, char *nonce, size_t noncelen,
				struct mdg_http_answer *a, struct mdg_msg *err);

/* POST the DER to the procedure's endpoint: MDG_CS_OK with the answer (free
 * with mdg_http_answer_free), or MDG_CS_NETWORK / MDG_CS_TLS with err set. */
enum mdg_cstate mdg_post_request(const struct mdg_submit_opts *o, enum mdg_procedure proc, const unsigned char *der,
				 size_t der_len, struct mdg_http_answer *a, struct mdg_msg *err);

/* GET path (e.g. "/v1/log/proof/ID") under the base URL: MDG_CS_OK with
 * the answer whatever its status (err then names the path and status), or
 * MDG_CS_NETWORK / MDG_CS_TLS / MDG_CS_BAD_ANSWER (too large) with err set. */
enum mdg_cstate mdg_http_get(const struct mdg_submit_opts *o, const char *path, struct mdg_http_answer *a,
			     struct mdg_msg *err);

/* 1 if the answer is the contract's JSON: an object whose "result" is one
 * of the contract's names (*r set), from the window or its proxy, whatever
 * the HTTP status; else 0. */
int mdg_answer_result(const struct mdg_http_answer *a, enum mdg_result *r);

void mdg_http_answer_free(struct mdg_http_answer *a);

#endif
