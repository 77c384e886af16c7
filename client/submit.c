#include "submit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int mdg_submit_check_url(const char *url, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int rc = -1;

	if (u == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err, errlen, "--url %s: not a URL", url);
		goto out;
	}
	if (strcmp(scheme, "https") == 0)
		rc = 0;
	else if (strcmp(scheme, "http") == 0 && is_loopback(host))
		rc = 0;
	else
		snprintf(err, errlen, "--url %s: the window is reached over https:// (http:// only to this machine)",
			 url);
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
static int exchange(const struct mdg_submit_opts *o, const char *path, const unsigned char *body, size_t len,
		    struct mdg_http_answer *a, char *err, size_t errlen)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct sink s = {0};
	char curl_err[CURL_ERROR_SIZE] = "";
	char *url = endpoint(o->base_url, path);
	int rc = -1;

	memset(a, 0, sizeof(*a));
	if (c == NULL || url == NULL) {
		snprintf(err, errlen, "out of memory");
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
		snprintf(err, errlen, "%s: %s", url, s.too_big ? "the answer is too large"
						     : curl_err[0] ? curl_err : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
	if (s.buf == NULL && (s.buf = calloc(1, 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	a->body = s.buf;
	a->len = s.len;
	s.buf = NULL;
	rc = 0;
out:
	free(s.buf);
	free(url);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rc;
}

int mdg_fetch_nonce(const struct mdg_submit_opts *o, char *nonce, size_t noncelen, char *err, size_t errlen)
{
	struct mdg_http_answer a;
	json_t *j = NULL;
	const char *n;
	int rc = -1;

	if (exchange(o, "/v1/nonce", NULL, 0, &a, err, errlen) != 0)
		return -1;
	if (a.status != 200 || (j = json_loadb(a.body, a.len, 0, NULL)) == NULL ||
	    (n = json_string_value(json_object_get(j, "nonce"))) == NULL || strlen(n) >= noncelen) {
		snprintf(err, errlen, "GET /v1/nonce: unexpected answer (HTTP %ld)", a.status);
		goto out;
	}
	snprintf(nonce, noncelen, "%s", n);
	rc = 0;
out:
	json_decref(j);
	mdg_http_answer_free(&a);
	return rc;
}

int mdg_post_request(const struct mdg_submit_opts *o, enum mdg_procedure proc, const unsigned char *der,
		     size_t der_len, struct mdg_http_answer *a, char *err, size_t errlen)
{
	const char *path = proc == MDG_PROC_REVOCATION ? "/v1/revocations" : "/v1/validity-checks";

	return exchange(o, path, der, der_len, a, err, errlen);
}

void mdg_http_answer_free(struct mdg_http_answer *a)
{
	free(a->body);
	a->body = NULL;
	a->len = 0;
}
