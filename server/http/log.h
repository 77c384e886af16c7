/* One JSON object per line on stderr (plain text lines when stderr is a
 * terminal). Request lines carry no personal data:
 * no name, address, birth date, serial or issuer ever reaches them. */
#ifndef MDG_LOG_H
#define MDG_LOG_H

#include <stddef.h>

#include "result.h"

/* A service message: level is "info", "warning" or "error". */
void mdg_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct mdg_log_request {
	const char *request_id;
	const char *method;
	const char *path;
	enum mdg_procedure proc;
	const char *result; /* contract name, or NULL for non-procedure answers */
	unsigned status;
	double duration_ms;
	const char *client;
	const char *reason;      /* internal why, never personal data */
	const char *level;       /* "info" (NULL) or "error": the reason's blame */
	const char *store_error; /* the store backend's message, or NULL; never in an answer */
};

void mdg_log_request(const struct mdg_log_request *r);

/* The JSON lines themselves, '\n' included, malloc'd (caller frees), with
 * their length; NULL on no memory. t is the line's RFC 3339 time. The
 * members and their order are those of the jansson object the lines were
 * once dumped from (tests/unit/test_jsonw.c compares the two). */
char *mdg_log_msg_line(const char *t, const char *level, const char *msg, size_t *len);
char *mdg_log_request_line(const char *t, const struct mdg_log_request *r, size_t *len);

#endif
