/* One JSON object per line on stderr (plain text lines when stderr is a
 * terminal). Request lines carry no personal data:
 * no name, address, birth date, serial or issuer ever reaches them. */
#ifndef MDG_LOG_H
#define MDG_LOG_H

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

#endif
