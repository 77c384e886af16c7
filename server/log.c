#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <jansson.h>

#include "timefmt.h"

static void emit(json_t *obj)
{
	char *line = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));

	if (line != NULL) {
		/* one write per line so concurrent threads do not interleave */
		fprintf(stderr, "%s\n", line);
		free(line);
	}
	json_decref(obj);
}

static json_t *stamp(void)
{
	char t[MDG_RFC3339_LEN];
	json_t *o = json_object();

	mdg_rfc3339_jst(time(NULL), t);
	json_object_set_new(o, "time", json_string(t));
	return o;
}

void mdg_log(const char *level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_t *o = stamp();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_set_new(o, "level", json_string(level));
	/* json_string refuses invalid UTF-8: keep the line, lose the text */
	json_t *m = json_string(msg);
	json_object_set_new(o, "msg", m ? m : json_string("(message not UTF-8)"));
	emit(o);
}

void mdg_log_request(const struct mdg_log_request *r)
{
	json_t *o = stamp();
	const char *proc = mdg_procedure_name(r->proc);

	json_object_set_new(o, "level", json_string("info"));
	json_object_set_new(o, "requestId", json_string(r->request_id));
	json_object_set_new(o, "method", json_string(r->method));
	json_t *path = json_string(r->path);
	json_object_set_new(o, "path", path ? path : json_string("(not UTF-8)"));
	json_object_set_new(o, "procedure", proc ? json_string(proc) : json_null());
	json_object_set_new(o, "result", r->result ? json_string(r->result) : json_null());
	json_object_set_new(o, "status", json_integer(r->status));
	json_object_set_new(o, "durationMs", json_real(r->duration_ms));
	json_object_set_new(o, "client", json_string(r->client));
	if (r->reason)
		json_object_set_new(o, "reason", json_string(r->reason));
	emit(o);
}
