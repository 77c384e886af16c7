#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "timefmt.h"

/* At a terminal a person reads the lines: plain text. Anywhere else
 * (journald, a file, a pipe) one JSON object per line, for machines. */
static int plain_text(void)
{
	static int plain = -1;

	if (plain == -1)
		plain = isatty(STDERR_FILENO) == 1;
	return plain;
}

static const char *text_of(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : "-";
}

/* "TIME LEVEL: MESSAGE", or for a request "TIME LEVEL: METHOD PATH -> STATUS
 * result (procedure) N ms client ADDRESS [reason] [(store: message)]". */
static void emit_plain(json_t *obj)
{
	json_t *msg = json_object_get(obj, "msg");

	if (msg != NULL) {
		fprintf(stderr, "%s %s: %s\n", text_of(obj, "time"), text_of(obj, "level"), text_of(obj, "msg"));
		return;
	}
	fprintf(stderr, "%s %s: %s %s -> %lld %s (%s) %.1f ms, client %s, request %s%s%s%s%s%s\n", text_of(obj, "time"),
		text_of(obj, "level"), text_of(obj, "method"), text_of(obj, "path"),
		(long long)json_integer_value(json_object_get(obj, "status")), text_of(obj, "result"),
		text_of(obj, "procedure"), json_real_value(json_object_get(obj, "durationMs")), text_of(obj, "client"),
		text_of(obj, "requestId"), json_object_get(obj, "reason") != NULL ? ": " : "",
		json_object_get(obj, "reason") != NULL ? text_of(obj, "reason") : "",
		json_object_get(obj, "storeError") != NULL ? " (store: " : "",
		json_object_get(obj, "storeError") != NULL ? text_of(obj, "storeError") : "",
		json_object_get(obj, "storeError") != NULL ? ")" : "");
}

static void emit(json_t *obj)
{
	if (plain_text()) {
		emit_plain(obj);
		json_decref(obj);
		return;
	}
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

	json_object_set_new(o, "level", json_string(r->level != NULL ? r->level : "info"));
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
	if (r->store_error != NULL) {
		/* json_string refuses invalid UTF-8: keep the line, lose the text */
		json_t *m = json_string(r->store_error);
		json_object_set_new(o, "storeError", m ? m : json_string("(message not UTF-8)"));
	}
	emit(o);
}
