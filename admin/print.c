/* madoguchi-admin's printers: acceptance rows (log, log show) as a table,
 * CSV or JSON, and the CRL scopes held (crl status). The JSON shapes are
 * the admin API's (server/operator/render.c). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "acceptlog.h"
#include "admin.h"
#include "form.h"
#include "names.h"
#include "render.h"
#include "timefmt.h"

static const char *const col_title[C_NCOLS] = {
	"SEQ",    "RECEIPT ID",     "ACCEPTED AT",  "EFFECTIVE FROM", "SERIAL",  "ISSUER",
	"REASON", "CLIENT ADDRESS", "EXPORT BATCH", "NAME",           "ADDRESS", "BIRTH DATE",
};
const char *const show_title[C_NCOLS] = {
	"seq",    "receipt id",     "accepted at",  "effective from", "serial",  "issuer",
	"reason", "client address", "export batch", "name",           "address", "birth date",
};
static const char *const col_key[C_NCOLS] = {
	"seq",    "receiptId",     "acceptedAt",  "effectiveFrom", "serial",  "issuer",
	"reason", "clientAddress", "exportBatch", "name",          "address", "birthDate",
};

/* The cells of one row as strings (malloc'd). */
int row_cells(const struct mdg_acceptance_row *r, int personal, char *cell[C_NCOLS])
{
	char buf[1100];
	struct mdg_form form;
	int i, have_form = 0;

	if (personal && mdg_evidence_form(r->request_der, r->request_len, &form) == 0)
		have_form = 1;
	for (i = 0; i < C_NCOLS; i++) {
		buf[0] = '\0';
		switch (i) {
		case C_SEQ:
			snprintf(buf, sizeof(buf), "%lld", (long long)r->seq);
			break;
		case C_RECEIPT:
			snprintf(buf, sizeof(buf), "%s", r->receipt_id);
			break;
		case C_ACCEPTED:
			snprintf(buf, sizeof(buf), "%s", r->accepted_at);
			break;
		case C_EFFECTIVE:
			snprintf(buf, sizeof(buf), "%s", r->effective_from);
			break;
		case C_SERIAL:
			mdg_serial_hex(r->serial, r->serial_len, buf, sizeof(buf));
			break;
		case C_ISSUER:
			mdg_der_name_rfc4514(r->issuer_der, r->issuer_len, buf, sizeof(buf));
			break;
		case C_REASON:
			snprintf(buf, sizeof(buf), "%s", r->reason);
			break;
		case C_CLIENT:
			snprintf(buf, sizeof(buf), "%s", r->client_addr);
			break;
		case C_BATCH:
			if (r->export_batch > 0)
				snprintf(buf, sizeof(buf), "%lld", (long long)r->export_batch);
			break;
		case C_NAME:
			cell[i] = strdup(r->holder_name);
			continue;
		case C_ADDRESS:
			if (have_form)
				snprintf(buf, sizeof(buf), "%s", form.address);
			break;
		case C_BIRTH:
			if (have_form)
				snprintf(buf, sizeof(buf), "%s", form.birth_date);
			break;
		}
		cell[i] = strdup(buf);
	}
	for (i = 0; i < C_NCOLS; i++)
		if (cell[i] == NULL)
			return -1;
	return 0;
}

void free_cells(char **cell, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(cell[i]);
}

/* Columns shown: all but address and birth date unless asked for. */
int col_shown(int c, int personal)
{
	return personal || (c != C_ADDRESS && c != C_BIRTH);
}

/* Terminal columns of UTF-8 text: East Asian wide characters take two. */
size_t display_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;
	unsigned long c;
	int k;

	while (*p != '\0') {
		if (*p < 0x80) {
			c = *p++;
		} else {
			k = *p >= 0xf0 ? 3 : *p >= 0xe0 ? 2 : 1;
			c = *p++ & (0x3f >> k);
			for (; k > 0 && (*p & 0xc0) == 0x80; k--)
				c = c << 6 | (*p++ & 0x3f);
		}
		if ((c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) ||
		    (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
		    (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x20000 && c <= 0x3fffd))
			w += 2;
		else
			w += 1;
	}
	return w;
}

/* Control characters would break the table (and a terminal). */
void put_table_cell(const char *s)
{
	for (; *s != '\0'; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static void put_csv_cell(const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

json_t *json_text(const char *s)
{
	return mdg_json_text(s);
}

int print_json_to(FILE *f, json_t *o)
{
	char *s;

	if (o == NULL || (s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		return -1;
	fprintf(f, "%s\n", s);
	free(s);
	return 0;
}

int print_json(json_t *o)
{
	return print_json_to(stdout, o);
}

int print_json_row(const struct mdg_acceptance_row *r, int personal)
{
	json_t *o = mdg_acceptance_row_json(r, personal);
	int rc = print_json(o);

	json_decref(o);
	return rc;
}

void print_csv_header(int personal)
{
	int i, first = 1;

	for (i = 0; i < C_NCOLS; i++) {
		if (!col_shown(i, personal))
			continue;
		printf("%s%s", first ? "" : ",", col_key[i]);
		first = 0;
	}
	printf("\r\n");
}

static void print_csv_row(char *cell[C_NCOLS], int personal)
{
	int i, first = 1;

	for (i = 0; i < C_NCOLS; i++) {
		if (!col_shown(i, personal))
			continue;
		if (!first)
			putchar(',');
		put_csv_cell(cell[i]);
		first = 0;
	}
	printf("\r\n");
}

int log_row(void *arg, const struct mdg_acceptance_row *r)
{
	struct log_out *o = arg;
	char *cell[C_NCOLS] = { NULL };
	char **grown;

	if (o->limit > 0 && o->n >= o->limit) {
		o->more = 1;
		return 1;
	}
	if (row_cells(r, o->personal, cell) == -1)
		goto fail;
	if (o->fmt == FMT_TABLE) {
		if (((size_t)o->n + 1) * C_NCOLS > o->cap) {
			size_t cap = o->cap ? o->cap * 2 : 64 * C_NCOLS;

			if ((grown = realloc(o->cells, cap * sizeof(*grown))) == NULL)
				goto fail;
			o->cells = grown;
			o->cap = cap;
		}
		memcpy(o->cells + (size_t)o->n * C_NCOLS, cell, sizeof(cell));
	} else {
		if (o->fmt == FMT_JSON) {
			if (print_json_row(r, o->personal) == -1) {
				free_cells(cell, C_NCOLS);
				goto fail;
			}
		} else {
			print_csv_row(cell, o->personal);
		}
		free_cells(cell, C_NCOLS);
	}
	o->n++;
	o->last_seq = r->seq;
	return 0;
fail:
	free_cells(cell, C_NCOLS);
	o->failed = 1;
	return 1;
}

void print_table(const struct log_out *o)
{
	size_t w[C_NCOLS], i, k, x;
	int c, last = C_NCOLS - 1;

	while (!col_shown(last, o->personal))
		last--;
	for (c = 0; c < C_NCOLS; c++)
		w[c] = display_width(col_title[c]);
	for (i = 0; i < (size_t)o->n; i++)
		for (c = 0; c < C_NCOLS; c++)
			if ((x = display_width(o->cells[i * C_NCOLS + c])) > w[c]) /* "-" fits */
				w[c] = x;
	for (i = 0; i <= (size_t)o->n; i++) {
		for (c = 0; c < C_NCOLS; c++) {
			const char *s = i == 0 ? col_title[c] : o->cells[(i - 1) * C_NCOLS + c];

			if (!col_shown(c, o->personal))
				continue;
			if (*s == '\0')
				s = "-";
			put_table_cell(s);
			if (c == last)
				break;
			for (k = display_width(s); k < w[c] + 2; k++)
				putchar(' ');
		}
		putchar('\n');
	}
}

/* ------------------------------------------------------------ CRL scopes */

static int collect_scope(void *arg, const struct mdg_crl_scope *sc)
{
	struct held_list *l = arg;
	struct held_scope *h;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;

		if ((h = realloc(l->v, cap * sizeof(*h))) == NULL)
			goto fail;
		l->v = h;
		l->cap = cap;
	}
	h = &l->v[l->n];
	memset(h, 0, sizeof(*h));
	if ((h->issuer_der = malloc(sc->issuer_len > 0 ? sc->issuer_len : 1)) == NULL)
		goto fail;
	l->n++;
	memcpy(h->issuer_der, sc->issuer_der, sc->issuer_len);
	if (sc->dp_der != NULL) {
		if ((h->dp_der = malloc(sc->dp_len > 0 ? sc->dp_len : 1)) == NULL)
			goto fail;
		memcpy(h->dp_der, sc->dp_der, sc->dp_len);
		h->dp_len = sc->dp_len;
	}
	h->issuer_len = sc->issuer_len;
	h->id = sc->id;
	h->full = sc->dp_der == NULL;
	mdg_der_name_rfc4514(sc->issuer_der, sc->issuer_len, h->iss, sizeof(h->iss));
	if (sc->dp_der != NULL)
		mdg_der_name_rfc4514(sc->dp_der, sc->dp_len, h->dp, sizeof(h->dp));
	mdg_number_decimal(sc->number, sc->number_len, h->num, sizeof(h->num));
	h->this_update = sc->this_update;
	h->next_update = sc->next_update;
	h->imported_at = sc->imported_at;
	h->retired_at = sc->retired_at;
	h->entries = sc->entries;
	h->stale = mdg_crl_scope_stale(sc, l->now, l->max_age);
	h->sc = *sc;
	h->sc.issuer_der = h->issuer_der;
	h->sc.dp_der = h->dp_der;
	return 0;
fail:
	l->failed = 1;
	return 1;
}

void held_list_free(struct held_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].issuer_der);
		free(l->v[i].dp_der);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

int held_list_load(struct mdg_store *st, struct held_list *l)
{
	if (st->ops->list_crls(st->cls, collect_scope, l) != MDG_STORE_OK || l->failed) {
		fprintf(stderr, "madoguchi-admin: database error while listing CRLs\n");
		return -1;
	}
	return 0;
}

int same_issuer(const struct held_scope *h, const struct mdg_anchor *a)
{
	return (size_t)a->subject_len == h->issuer_len && memcmp(a->subject_der, h->issuer_der, h->issuer_len) == 0;
}

json_t *scope_json(const struct held_list *l, const struct held_scope *h)
{
	return mdg_crl_scope_json(&h->sc, l->now, l->max_age, NULL);
}

void print_scope_line(const struct held_scope *h, size_t width)
{
	char nu[MDG_RFC3339_LEN], imp[MDG_RFC3339_LEN], ret[MDG_RFC3339_LEN], tu[MDG_RFC3339_LEN];
	const char *name = h->full ? "full CRL" : h->dp;
	size_t k;

	mdg_rfc3339_jst(h->next_update, nu);
	mdg_rfc3339_jst(h->this_update, tu);
	mdg_rfc3339_jst(h->imported_at, imp);
	printf("  ");
	put_table_cell(name);
	for (k = display_width(name); k < width + 2; k++)
		putchar(' ');
	if (h->retired_at != 0) {
		mdg_rfc3339_jst(h->retired_at, ret);
		printf("retired  since %s: not counted; its %lld entr%s still answer revoked (number %s)\n", ret,
		       (long long)h->entries, h->entries == 1 ? "y" : "ies", h->num);
		return;
	}
	printf("%-7s  number %s, %lld entr%s, this update %s, next update %s, imported %s\n",
	       h->stale ? "STALE" : "fresh", h->num, (long long)h->entries, h->entries == 1 ? "y" : "ies", tu, nu, imp);
}
