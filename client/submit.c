#include "submit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>

#define ANSWER_MAX (1024 * 1024)

void mdg_submit_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void mdg_submit_global_cleanup(void)
{
	curl_global_cleanup();
}

static int is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char h[64];
	size_t n = strlen(host);

	if (strcmp(host, "localhost") == 0)
		return 1;
	/* CURLUPART_HOST gives IPv6 literals in brackets */
	if (n >= 2 && n < sizeof(h) + 2 && host[0] == '[' && host[n - 1] == ']') {
		snprintf(h, sizeof(h), "%.*s", (int)(n - 2), host + 1);
		return inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
	}
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return 0;
}

int mdg_submit_check_url(const char *url, struct mdg_msg *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int rc = -1;

	if (u == NULL) {
		mdg_msg_set(err, MDG_MSG_OOM, 0, NULL, NULL);
		return -1;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		mdg_msg_set(err, MDG_MSG_URL_INVALID, 0, url, NULL);
		goto out;
	}
	if (strcmp(scheme, "https") == 0)
		rc = 0;
	else if (strcmp(scheme, "http") == 0 && is_loopback(host))
		rc = 0;
	else
		mdg_msg_set(err, MDG_MSG_URL_NOT_HTTPS, 0, url, NULL);
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

struct sink {
	char *buf;
	size_t len;
	int too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	if (s->len + n > ANSWER_MAX) {
		s->too_big = 1;
		return 0;
	}
	char *nb = realloc(s->buf, s->len + n + 1);
	if (nb == NULL)
		return 0;
	s->buf = nb;
	memcpy(s->buf + s->len, ptr, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

/* Retry-After as delta-seconds (the window and the shipped nginx site send
 * that form); an HTTP date is ignored. */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	long *retry_after = arg;
	size_t n = size * nmemb;
	static const char name[] = "retry-after:";

	if (n > sizeof(name) - 1 && strncasecmp(ptr, name, sizeof(name) - 1) == 0) {
		char v[32];
		size_t i = sizeof(name) - 1, k = 0;
		while (i < n && (ptr[i] == ' ' || ptr[i] == '\t'))
			i++;
		while (i < n && k < sizeof(v) - 1 && ptr[i] >= '0' && ptr[i] <= '9')
			v[k++] = ptr[i++];
		v[k] = '\0';
		if (k > 0 && k < 10)
			*retry_after = strtol(v, NULL, 10);
	} else if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		*retry_after = -1; /* a new response (after 100 Continue) */
	}
	return n;
}

/* The server certificate did not verify: another screen than "cannot
 * connect" (a window that is down is no reason to doubt certificates). */
static int is_tls_verification(CURLcode cc)
{
	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
		return 1;
	default:
		return 0;
	}
}

static char *endpoint(const char *base, const char *path)
{
	size_t n = strlen(base);
	char *url = NULL;

	while (n > 0 && base[n - 1] == '/')
		n--;
	if (asprintf(&url, "%.*s%s", (int)n, base, path) < 0)
		return NULL;
	return url;
}

/* One exchange; body NULL means GET. */
static enum mdg_cstate exchange(const struct mdg_submit_opts *o, const char *path, const unsigned char *body,
				size_t len, struct mdg_http_answer *a, struct mdg_msg *err)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct sink s = { 0 };
	char curl_err[CURL_ERROR_SIZE] = "";
	char *url = endpoint(o->base_url, path);
	enum mdg_cstate rc = MDG_CS_NETWORK;

	memset(a, 0, sizeof(*a));
	a->retry_after = -1;
	if (c == NULL || url == NULL) {
		mdg_msg_set(err, MDG_MSG_OOM, 0, NULL, NULL);
		goto out;
	}
	h = curl_slist_append(h, o->lang == MDG_LANG_EN ? "Accept-Language: en" : "Accept-Language: ja");
	if (body != NULL)
		h = curl_slist_append(h, "Content-Type: application/pkcs7-mime");
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &a->retry_after);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, o->timeout > 0 ? o->timeout : 60L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "madoguchi-client/0.1");
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	CURLcode cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		if (s.too_big)
			mdg_msg_set(err, MDG_MSG_TOO_LARGE, 0, url, NULL);
		else
			mdg_msg_set(err, is_tls_verification(cc) ? MDG_MSG_TLS : MDG_MSG_CONNECT, (long)cc, url,
				    curl_err[0] ? curl_err : curl_easy_strerror(cc));
		rc = s.too_big ? MDG_CS_BAD_ANSWER : is_tls_verification(cc) ? MDG_CS_TLS : MDG_CS_NETWORK;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
	if (s.buf == NULL && (s.buf = calloc(1, 1)) == NULL) {
		mdg_msg_set(err, MDG_MSG_OOM, 0, NULL, NULL);
		goto out;
	}
	a->body = s.buf;
	a->len = s.len;
	s.buf = NULL;
	rc = MDG_CS_OK;
out:
	free(s.buf);
	free(url);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rc;
}

enum mdg_cstate mdg_fetch_nonce(const struct mdg_submit_opts *o, char *nonce, size_t noncelen,
				struct mdg_http_answer *a, struct mdg_msg *err)
{
	enum mdg_cstate st;
	json_t *j;
	const char *n;

	nonce[0] = '\0';
	if ((st = exchange(o, "/v1/nonce", NULL, 0, a, err)) != MDG_CS_OK)
		return st;
	if (a->status == 200 && (j = json_loadb(a->body, a->len, 0, NULL)) != NULL) {
		n = json_string_value(json_object_get(j, "nonce"));
		if (n != NULL && n[0] != '\0' && strlen(n) < noncelen)
			snprintf(nonce, noncelen, "%s", n);
		json_decref(j);
	}
	if (nonce[0] == '\0')
		mdg_msg_set(err, MDG_MSG_ANSWER, a->status, "GET /v1/nonce", NULL);
	return MDG_CS_OK;
}

enum mdg_cstate mdg_post_request(const struct mdg_submit_opts *o, enum mdg_procedure proc, const unsigned char *der,
				 size_t der_len, struct mdg_http_answer *a, struct mdg_msg *err)
{
	const char *path = proc == MDG_PROC_REVOCATION ? "/v1/revocations" : "/v1/validity-checks";
	enum mdg_cstate st = exchange(o, path, der, der_len, a, err);

	if (st == MDG_CS_OK)
		mdg_msg_set(err, MDG_MSG_ANSWER, a->status, path, NULL);
	return st;
}

enum mdg_cstate mdg_http_get(const struct mdg_submit_opts *o, const char *path, struct mdg_http_answer *a,
			     struct mdg_msg *err)
{
	enum mdg_cstate st = exchange(o, path, NULL, 0, a, err);

	if (st == MDG_CS_OK)
		mdg_msg_set(err, MDG_MSG_ANSWER, a->status, path, NULL);
	return st;
}

int mdg_answer_result(const struct mdg_http_answer *a, enum mdg_result *r)
{
	json_t *j = a->body != NULL ? json_loadb(a->body, a->len, 0, NULL) : NULL;
	const char *name = json_string_value(json_object_get(j, "result"));
	int found = 0;

	for (int i = 0; name != NULL && i < MDG_RESULT_COUNT && !found; i++)
		if (strcmp(mdg_result_name((enum mdg_result)i), name) == 0) {
			*r = (enum mdg_result)i;
			found = 1;
		}
	json_decref(j);
	return found;
}

void mdg_http_answer_free(struct mdg_http_answer *a)
{
	free(a->body);
	a->body = NULL;
	a->len = 0;
}
