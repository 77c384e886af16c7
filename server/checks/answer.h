/* The JSON answer of DESIGN.md "Every answer": one object built from an
 * outcome; problem+json (RFC 9457) at status >= 400. */
#ifndef MDG_ANSWER_H
#define MDG_ANSWER_H

#include <stddef.h>
#include "anchors.h"
#include "pipeline.h"
#include "result.h"

/* Returns the answer as malloc'd text (caller frees) with its length, or
 * NULL on no memory. anchors may be NULL (no expectedIssuers). */
char *mdg_answer_json(const struct mdg_outcome *o, const struct mdg_anchors *anchors, enum mdg_lang lang,
		      const char *request_id, size_t *len);

/* "application/problem+json" at status >= 400, else "application/json". */
const char *mdg_answer_content_type(const struct mdg_outcome *o);

/* English if Accept-Language prefers en over ja, else Japanese. */
enum mdg_lang mdg_lang_from_header(const char *accept_language);

#endif
