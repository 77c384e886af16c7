/* The window's pages for a browser: the top page (GET /) and the result
 * pages (GET /results/, /results/<name>). Static HTML without JavaScript,
 * Japanese first with English beside it; every title and detail comes from
 * the one result table (result.c). */
#ifndef MDG_TOPPAGE_H
#define MDG_TOPPAGE_H

#include <stddef.h>

/* What the top page says about this window (docs/toppage.md). */
struct mdg_toppage_site {
	const char *window_url; /* the window's address ("https://w.example.jp/"); NULL or "": a placeholder */
	const char *client_url; /* where holders get madoguchi-client; NULL or "": no link */
};

/* The top page. Returns malloc'd HTML (caller frees) with its length, or
 * NULL on no memory. */
char *mdg_toppage_html(const struct mdg_toppage_site *site, size_t *len);

/* The window's address as a request names it: "scheme://host/" in out.
 * host is a Host / X-Forwarded-Host value: a DNS name, IPv4 address or
 * bracketed IPv6 address, with an optional port; anything else (a list,
 * a path, user info, other bytes) returns -1 and leaves out untouched, as
 * does an out too small. scheme is "http" or "https". */
int mdg_toppage_origin(const char *scheme, const char *host, char *out, size_t outlen);

/* A result page: name is the part after "/results/" ("" for the index of
 * all results). Returns malloc'd HTML, or NULL with *not_found set if no
 * result has that name (else NULL means no memory). */
char *mdg_result_page_html(const char *name, size_t *len, int *not_found);

#endif
