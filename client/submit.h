/* Talking to the window over HTTPS with libcurl: GET /v1/nonce and POST the
 * signed request. The server certificate is verified by default (system CA
 * store, or --cacert); plain http:// is allowed only to a loopback address. */
#ifndef MDG_CLIENT_SUBMIT_H
#define MDG_CLIENT_SUBMIT_H

#include <stddef.h>

#include "result.h"

struct mdg_submit_opts {
	const char *base_url;	/* https://host[:port][/prefix], no trailing slash needed */
	const char *cacert;	/* PEM bundle, or NULL for the system store */
	long timeout;		/* seconds for one exchange */
	enum mdg_lang lang;	/* Accept-Language */
};

struct mdg_http_answer {
	long status;
	char *body;		/* NUL-terminated, exactly as received (len bytes) */
	size_t len;
};

void mdg_submit_global_init(void);
void mdg_submit_global_cleanup(void);

/* Checks the URL (scheme https, or http to a loopback host). Returns 0 or
 * -1 with a message. */
int mdg_submit_check_url(const char *url, char *err, size_t errlen);

/* GET /v1/nonce: the nonce string. Returns 0 or -1 with a message. */
int mdg_fetch_nonce(const struct mdg_submit_opts *o, char *nonce, size_t noncelen, char *err, size_t errlen);

/* POST the DER to the procedure's endpoint. Returns 0 with the answer (free
 * with mdg_http_answer_free) or -1 with a message (no answer at all). */
int mdg_post_request(const struct mdg_submit_opts *o, enum mdg_procedure proc, const unsigned char *der,
		     size_t der_len, struct mdg_http_answer *a, char *err, size_t errlen);

void mdg_http_answer_free(struct mdg_http_answer *a);

#endif
