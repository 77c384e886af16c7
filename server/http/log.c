#include "log.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jsonw.h"

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

/* s when jansson would have taken it as a string (not NULL, UTF-8), else
 * dflt: what a member of the former jansson line held */
static const char *usable(const char *s, const char *dflt)
{
	return s != NULL && mdg_jsonw_utf8_ok(s, strlen(s)) ? s : dflt;
}

/* "TIME LEVEL: MESSAGE" */
static void plain_msg(const char *t, const char *level, const char *msg)
{
	fprintf(stderr, "%s %s: %s\n", t, usable(level, "-"), usable(msg, "(message not UTF-8)"));
}

/* "TIME LEVEL: METHOD PATH -> STATUS result (procedure) N ms client ADDRESS
 * [reason] [(store: message)]" */
static void plain_request(const char *t, const struct mdg_log_request *r)
{
	const char *reason = usable(r->reason, NULL);
	const char *store = r->store_error != NULL ? usable(r->store_error, "(message not UTF-8)") : NULL;

	fprintf(stderr, "%s %s: %s %s -> %lld %s (%s) %.1f ms, client %s, request %s%s%s%s%s%s\n", t,
		usable(r->level != NULL ? r->level : "info", "-"), usable(r->method, "-"),
		usable(r->path, "(not UTF-8)"), (long long)r->status, usable(r->result, "-"),
		usable(mdg_procedure_name(r->proc), "-"), isfinite(r->duration_ms) ? r->duration_ms : 0.0,
		usable(r->client, "-"), usable(r->request_id, "-"), reason != NULL ? ": " : "",
		reason != NULL ? reason : "", store != NULL ? " (store: " : "", store != NULL ? store : "",
		store != NULL ? ")" : "");
}

/* one write per line so concurrent threads do not interleave */
static void emit(char *line, size_t len)
{
	if (line != NULL) {
		fwrite(line, 1, len, stderr);
		free(line);
	}
}

char *mdg_log_msg_line(const char *t, const char *level, const char *msg, size_t *len)
{
	struct mdg_jsonw w;

	mdg_jsonw_init(&w);
	mdg_jsonw_open_object(&w);
	mdg_jsonw_str(&w, "time", t);
	mdg_jsonw_str(&w, "level", level);
	/* a message that is not UTF-8: keep the line, lose the text */
	if (!mdg_jsonw_str(&w, "msg", msg))
		mdg_jsonw_str(&w, "msg", "(message not UTF-8)");
	mdg_jsonw_close_object(&w);
	mdg_jsonw_raw(&w, "\n", 1);
	return mdg_jsonw_finish(&w, len);
}

char *mdg_log_request_line(const char *t, const struct mdg_log_request *r, size_t *len)
{
	struct mdg_jsonw w;
	const char *proc = mdg_procedure_name(r->proc);

	mdg_jsonw_init(&w);
	mdg_jsonw_open_object(&w);
	mdg_jsonw_str(&w, "time", t);
	mdg_jsonw_str(&w, "level", r->level != NULL ? r->level : "info");
	mdg_jsonw_str(&w, "requestId", r->request_id);
	mdg_jsonw_str(&w, "method", r->method);
	if (!mdg_jsonw_str(&w, "path", r->path))
		mdg_jsonw_str(&w, "path", "(not UTF-8)");
	if (proc != NULL)
		mdg_jsonw_str(&w, "procedure", proc);
	else
		mdg_jsonw_null(&w, "procedure");
	if (r->result != NULL)
		mdg_jsonw_str(&w, "result", r->result);
	else
		mdg_jsonw_null(&w, "result");
	mdg_jsonw_int(&w, "status", r->status);
	mdg_jsonw_real(&w, "durationMs", r->duration_ms, 6);
	mdg_jsonw_str(&w, "client", r->client);
	mdg_jsonw_str(&w, "reason", r->reason);
	if (r->store_error != NULL && !mdg_jsonw_str(&w, "storeError", r->store_error))
		mdg_jsonw_str(&w, "storeError", "(message not UTF-8)");
	mdg_jsonw_close_object(&w);
	mdg_jsonw_raw(&w, "\n", 1);
	return mdg_jsonw_finish(&w, len);
}

void mdg_log(const char *level, const char *fmt, ...)
{
	char msg[1024];
	char t[MDG_RFC3339_LEN];
	va_list ap;
	size_t len = 0;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mdg_rfc3339_jst(time(NULL), t);
	if (plain_text())
		plain_msg(t, level, msg);
	else {
		char *line = mdg_log_msg_line(t, level, msg, &len);
		emit(line, len);
	}
}

void mdg_log_request(const struct mdg_log_request *r)
{
	char t[MDG_RFC3339_LEN];
	size_t len = 0;

	mdg_rfc3339_jst(time(NULL), t);
	if (plain_text())
		plain_request(t, r);
	else {
		char *line = mdg_log_request_line(t, r, &len);
		emit(line, len);
	}
}
