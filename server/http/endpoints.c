/* The /readyz and /v1/log/... endpoints of the daemon (split out of
 * http.c, which routes to them). */
#include "http.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/rand.h>
#include "answer.h"
#include "crl.h"
#include "hex.h"
#include "log.h"
#include "metrics.h"
#include "names.h"
#include "timefmt.h"
#include "conn.h"
#include "tlog.h"
#include "toppage.h"
#include "tls.h"
#include "exchange.h"

struct ready_ctx {
	const struct mdg_server *srv;
	time_t now;
	int *covered; /* per anchor name index */
	const size_t *names;
	size_t n_names;
	json_t *stale; /* the first stale scope in force: {issuer, scope, nextUpdate} */
	int failed;
};

/* Retired scopes (crl retire) do not count; the first stale one is named. */
static int ready_scope(void *arg, const struct mdg_crl_scope *s)
{
	struct ready_ctx *r = arg;
	const struct mdg_anchors *a = r->srv->pipeline.anchors;
	char iss[512], dp[512], nu[MDG_RFC3339_LEN];

	if (s->retired_at != 0)
		return 0;
	for (size_t i = 0; i < r->n_names; i++) {
		const struct mdg_anchor *an = &a->v[r->names[i]];
		if ((size_t)an->subject_len != s->issuer_len ||
		    memcmp(an->subject_der, s->issuer_der, s->issuer_len) != 0)
			continue;
		r->covered[i] = 1;
		if (mdg_crl_is_fresh(s->next_update, r->srv->cfg->crl_max_age, r->now) || r->stale != NULL)
			continue;
		mdg_der_name_rfc4514(s->issuer_der, s->issuer_len, iss, sizeof(iss));
		if (s->dp_der != NULL)
			mdg_der_name_rfc4514(s->dp_der, s->dp_len, dp, sizeof(dp));
		else
			snprintf(dp, sizeof(dp), "full");
		mdg_rfc3339_jst(s->next_update, nu);
		r->stale = json_pack("{s:s, s:s, s:s, s:s, s:s}", "status", "unavailable", "reason", "a CRL is stale",
				     "issuer", iss, "scope", dp, "nextUpdate", nu);
		if (r->stale == NULL)
			r->failed = 1;
	}
	return 0;
}

/* A JSON answer built with jansson (names need escaping). */
static enum MHD_Result send_ready_json(struct MHD_Connection *c, struct exchange *x, enum mdg_reason reason, json_t *o)
{
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	enum MHD_Result ret;

	json_decref(o);
	if (s == NULL)
		return mdg_http_send_json_text(c, x, MDG_REASON_NOT_READY,
					       "{\"status\":\"unavailable\",\"reason\":\"out of memory\"}");
	ret = mdg_http_send_json_text(c, x, reason, "%s", s);
	free(s);
	return ret;
}

enum MHD_Result mdg_http_handle_ready(struct MHD_Connection *c, struct exchange *x)
{
	struct mdg_store *st = mdg_http_thread_store(x->srv->cfg);
	size_t names[64];
	int covered[64] = { 0 };
	struct ready_ctx r = { .srv = x->srv, .now = time(NULL), .covered = covered, .names = names };

	if (st == NULL || st->ops->ping(st->cls) != MDG_STORE_OK)
		return mdg_http_send_json_text(c, x, MDG_REASON_NOT_READY,
					       "{\"status\":\"unavailable\",\"reason\":\"database unreachable\"}");
	r.n_names = mdg_anchors_names(x->srv->pipeline.anchors, names, 64);
	if (st->ops->list_crls(st->cls, ready_scope, &r) != MDG_STORE_OK || r.failed) {
		json_decref(r.stale);
		return mdg_http_send_json_text(c, x, MDG_REASON_NOT_READY,
					       "{\"status\":\"unavailable\",\"reason\":\"database unreachable\"}");
	}
	for (size_t i = 0; i < r.n_names; i++) {
		if (covered[i])
			continue;
		json_decref(r.stale);
		return send_ready_json(c, x, MDG_REASON_NOT_READY,
				       json_pack("{s:s, s:s, s:s}", "status", "unavailable", "reason",
						 "no CRL held for an anchor", "anchor",
						 x->srv->pipeline.anchors->v[names[i]].subject_text));
	}
	if (r.stale != NULL)
		return send_ready_json(c, x, MDG_REASON_NOT_READY, r.stale);
	return mdg_http_send_json_text(c, x, MDG_REASON_SERVED, "{\"status\":\"ready\"}");
}

/* GET /v1/log/... (DESIGN.md "Receipts and the log's Merkle tree"): the
 * latest checkpoint, the verifier key, a receipt's inclusion proof, a
 * consistency proof. Nothing personal: receipt contents carry none. */
enum MHD_Result mdg_http_handle_log(struct MHD_Connection *c, struct exchange *x, const char *url)
{
	const char *what = url + 8;
	struct mdg_store *st;
	enum mdg_tlog_status ts;
	char *body = NULL;
	size_t len = 0;

	if (strcmp(what, "key") == 0) {
		int n = asprintf(&body, "%s\n", x->srv->logkey->vkey);
		if (n < 0)
			return MHD_NO;
		return mdg_http_send_response(c, x, MDG_REASON_SERVED, "text/plain; charset=utf-8", body, (size_t)n, 1,
					      NULL, NULL);
	}
	int is_cp = strcmp(what, "checkpoint") == 0, is_cons = strcmp(what, "consistency") == 0;
	int is_proof = strncmp(what, "proof/", 6) == 0;
	if (!is_cp && !is_cons && !is_proof)
		return mdg_http_send_result(c, x, MDG_REASON_UNKNOWN_PATH, "unknown path", NULL);
	if ((st = mdg_http_thread_store(x->srv->cfg)) == NULL)
		return mdg_http_send_result(c, x, MDG_REASON_NO_STORE, "no store connection", NULL);
	if (is_cp) {
		struct mdg_checkpoint_row *cp = malloc(sizeof(*cp));
		enum mdg_store_status s = cp != NULL ? st->ops->checkpoint_latest(st->cls, cp) : MDG_STORE_ERROR;
		if (s == MDG_STORE_OK && (body = strdup(cp->note)) != NULL)
			len = cp->note_len;
		free(cp);
		if (s == MDG_STORE_NOT_FOUND)
			return mdg_http_send_result(c, x, MDG_REASON_LOG_NOT_COVERED, "no checkpoint yet", NULL);
		if (s != MDG_STORE_OK) {
			snprintf(x->store_error, sizeof(x->store_error), "%s", mdg_store_error(st));
			mdg_http_thread_store_reset(st);
			return mdg_http_send_result(c, x, MDG_REASON_STORE_FAILED, "store: no checkpoint read", NULL);
		}
		if (body == NULL)
			return mdg_http_send_result(c, x, MDG_REASON_OUT_OF_MEMORY, "no memory for the checkpoint",
						    NULL);
		return mdg_http_send_response(c, x, MDG_REASON_SERVED, "text/plain; charset=utf-8", body, len, 1, NULL,
					      NULL);
	}
	if (is_proof) {
		const char *rid = what + 6;
		if (strlen(rid) >= MDG_RECEIPT_LEN || rid[0] == '\0' || strchr(rid, '/') != NULL)
			return mdg_http_send_result(c, x, MDG_REASON_LOG_UNKNOWN_RECEIPT, "unknown receipt id", NULL);
		ts = mdg_tlog_proof_json(st, rid, &body, &len);
	} else {
		ts = mdg_tlog_consistency_json(st, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "from"),
					       MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "to"), &body,
					       &len);
	}
	switch (ts) {
	case MDG_TLOG_OK:
		return mdg_http_send_response(c, x, MDG_REASON_SERVED, "application/json", body, len, 1, NULL, NULL);
	case MDG_TLOG_UNKNOWN:
		return mdg_http_send_result(c, x, MDG_REASON_LOG_UNKNOWN_RECEIPT, "unknown receipt id", NULL);
	case MDG_TLOG_NOT_COVERED:
		return mdg_http_send_result(c, x, MDG_REASON_LOG_NOT_COVERED, "not yet in a checkpoint", NULL);
	case MDG_TLOG_BAD_RANGE:
		return mdg_http_send_result(c, x, MDG_REASON_LOG_BAD_RANGE, "bad consistency range", NULL);
	case MDG_TLOG_ERROR:
		break;
	}
	snprintf(x->store_error, sizeof(x->store_error), "%s", mdg_store_error(st));
	mdg_http_thread_store_reset(st);
	return mdg_http_send_result(c, x, MDG_REASON_STORE_FAILED, "store: log proof failed", NULL);
}
