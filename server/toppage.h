/* The window's pages for a browser: the top page (GET /) and the result
 * pages (GET /results/, /results/<name>). Static HTML without JavaScript,
 * Japanese first with English beside it; every title and detail comes from
 * the one result table (result.c). */
#ifndef MDG_TOPPAGE_H
#define MDG_TOPPAGE_H

#include <stddef.h>

/* The top page. Returns malloc'd HTML (caller frees) with its length, or
 * NULL on no memory. */
char *mdg_toppage_html(size_t *len);

/* A result page: name is the part after "/results/" ("" for the index of
 * all results). Returns malloc'd HTML, or NULL with *not_found set if no
 * result has that name (else NULL means no memory). */
char *mdg_result_page_html(const char *name, size_t *len, int *not_found);

#endif
