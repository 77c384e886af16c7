/* The acceptance log for operators: see acceptlog.h. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "acceptlog.h"
#include "hex.h"
#include "names.h"
#include "timefmt.h"

static const unsigned char zero_hash[MDG_HASH_LEN];

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mdg_serial_parse_hex(const char *s, unsigned char out[MDG_SERIAL_MAX], size_t *len)
{
	char dig[2 * MDG_SERIAL_MAX + 1];
	size_t nd = 0, i, start, k;
	int seen = 0;

	if (s == NULL)
		return -1;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s != '\0'; s++) {
		if (*s == ':')
			continue;
		if (hexval((unsigned char)*s) < 0)
			return -1;
		seen = 1;
		if (nd == 0 && *s == '0')
			continue; /* leading zeros */
		if (nd >= sizeof(dig) - 1)
			return -1;
		dig[nd++] = *s;
	}
	if (!seen)
		return -1;
	*len = (nd + 1) / 2;
	start = nd % 2;
	k = 0;
	if (start)
		out[k++] = (unsigned char)hexval((unsigned char)dig[0]);
	for (i = start; i < nd; i += 2)
		out[k++] = (unsigned char)(hexval((unsigned char)dig[i]) << 4 | hexval((unsigned char)dig[i + 1]));
	return 0;
}

void mdg_hex(const unsigned char *b, size_t n, char *out)
{
	mdg_hex_lower(b, n, out);
}

void mdg_serial_hex(const unsigned char *serial, size_t len, char *out, size_t outlen)
{
	char h[2 * MDG_SERIAL_MAX + 1];
	const char *p = h;

	while (len > 0 && serial[0] == 0) {
		serial++;
		len--;
	}
	if (len > MDG_SERIAL_MAX) {
		snprintf(out, outlen, "(serial too long)");
		return;
	}
	mdg_hex(serial, len, h);
	if (p[0] == '0' && p[1] != '\0')
		p++;
	snprintf(out, outlen, "%s", len == 0 ? "0" : p);
}

int mdg_unhex(const char *s, unsigned char *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (s == NULL || strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		if ((hi = hexval((unsigned char)s[2 * i])) < 0 || (lo = hexval((unsigned char)s[2 * i + 1])) < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int mdg_evidence_form(const unsigned char *der, size_t len, struct mdg_form *form)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = NULL;
	ASN1_OCTET_STRING **content;
	const char *why;
	int rc = -1;

	if (der == NULL || len > LONG_MAX || (cms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) == NULL)
		goto out;
	if ((content = CMS_get0_content(cms)) == NULL || *content == NULL)
		goto out;
	if (mdg_form_parse(ASN1_STRING_get0_data(*content), (size_t)ASN1_STRING_length(*content), form, &why) == -1)
		goto out;
	rc = 0;
out:
	CMS_ContentInfo_free(cms);
	return rc;
}

struct verify_ctx {
	struct mdg_log_verdict *v;
	const unsigned char *want;
	unsigned char prev[MDG_HASH_LEN];
	int64_t last_seq;
	int failed; /* could not compute (not a verdict) */
};

static int bad(struct verify_ctx *c, int64_t seq, const char *what)
{
	c->v->bad = 1;
	c->v->bad_seq = seq;
	snprintf(c->v->what, sizeof(c->v->what), "%s", what);
	return 1;
}

static int verify_row(void *arg, const struct mdg_acceptance_row *r)
{
	struct verify_ctx *c = arg;
	struct mdg_chain_row row;
	unsigned char h[MDG_HASH_LEN], rq[MDG_HASH_LEN];
	char msg[256];

	if (r->seq != c->last_seq + 1) {
		if (c->last_seq == 0)
			snprintf(msg, sizeof(msg),
				 "the log starts at seq %lld, not 1: rows missing "
				 "from the start",
				 (long long)r->seq);
		else
			snprintf(msg, sizeof(msg),
				 "seq %lld follows seq %lld: rows missing or "
				 "reordered",
				 (long long)r->seq, (long long)c->last_seq);
		return bad(c, r->seq, msg);
	}
	if (r->prev_hash_len != MDG_HASH_LEN || memcmp(r->prev_hash, c->prev, MDG_HASH_LEN) != 0)
		return bad(c, r->seq,
			   c->last_seq == 0 ? "prev_hash of the first row is not 32 zero bytes"
					    : "prev_hash is not the hash of the previous row: a row was removed, "
					      "inserted or reordered");
	if (r->request_sha256_len != MDG_HASH_LEN || r->request_der == NULL ||
	    EVP_Digest(r->request_der, r->request_len, rq, NULL, EVP_sha256(), NULL) != 1 ||
	    memcmp(rq, r->request_sha256, MDG_HASH_LEN) != 0)
		return bad(c, r->seq,
			   "request_sha256 is not the SHA-256 of the stored request: "
			   "the evidence was altered");
	memset(&row, 0, sizeof(row));
	row.seq = r->seq;
	row.receipt_id = r->receipt_id;
	row.issuer_der = r->issuer_der;
	row.issuer_len = r->issuer_len;
	row.serial = r->serial;
	row.serial_len = r->serial_len;
	row.accepted_at = r->accepted_at;
	row.reason = r->reason;
	row.request_sha256 = r->request_sha256;
	if (mdg_chain_hash(c->prev, &row, h) == -1) {
		c->failed = 1;
		return 1;
	}
	if (r->hash_len != MDG_HASH_LEN || memcmp(h, r->hash, MDG_HASH_LEN) != 0)
		return bad(c, r->seq, "hash does not match the row's contents: the row was altered");
	memcpy(c->prev, h, MDG_HASH_LEN);
	c->last_seq = r->seq;
	c->v->rows++;
	if (c->want != NULL && c->v->head_seq == 0 && memcmp(h, c->want, MDG_HASH_LEN) == 0)
		c->v->head_seq = r->seq;
	return 0;
}

enum mdg_store_status mdg_log_verify(struct mdg_store *st, const unsigned char *want_head, struct mdg_log_verdict *v)
{
	struct mdg_log_filter f;
	struct verify_ctx c;
	char hw[2 * MDG_HASH_LEN + 1], hh[2 * MDG_HASH_LEN + 1];
	enum mdg_store_status s;

	memset(v, 0, sizeof(*v));
	memset(&c, 0, sizeof(c));
	memset(&f, 0, sizeof(f));
	c.v = v;
	c.want = want_head;
	f.with_request = 1;
	s = st->ops->log_query(st->cls, &f, verify_row, &c);
	if (s != MDG_STORE_OK || c.failed)
		return MDG_STORE_ERROR;
	if (v->bad)
		return MDG_STORE_OK;
	memcpy(v->head, c.prev, MDG_HASH_LEN);
	if (want_head != NULL && v->head_seq == 0 && memcmp(want_head, zero_hash, MDG_HASH_LEN) != 0) {
		mdg_hex(want_head, MDG_HASH_LEN, hw);
		mdg_hex(v->head, MDG_HASH_LEN, hh);
		v->bad = 1;
		v->bad_seq = 0;
		snprintf(v->what, sizeof(v->what),
			 "no row has the hash %s: the log ends elsewhere "
			 "(at seq %lld, head %s): rows were cut from the end, or the head is from "
			 "another log",
			 hw, (long long)v->rows, hh);
	}
	return MDG_STORE_OK;
}

/* A receipt id as a person reads it out: any case, in groups separated by
 * spaces or dashes ("c0f2 edec 56de ...", "C0F2-EDEC-..."). */
int mdg_receipt_id_parse(const char *s, char out[MDG_RECEIPT_LEN])
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '-' || *s == '\t')
			continue;
		if (!isxdigit((unsigned char)*s) || n == MDG_RECEIPT_LEN - 1)
			return -1;
		out[n++] = (char)tolower((unsigned char)*s);
	}
	if (n != MDG_RECEIPT_LEN - 1)
		return -1;
	out[n] = '\0';
	return 0;
}

const char *mdg_log_filter_from_args(const struct mdg_log_args *a, struct mdg_log_filter *f,
				     struct mdg_log_filter_buf *buf, const char **expected)
{
	char *end;

	if (a->since != NULL) {
		*expected = "a date (YYYY-MM-DD, JST) or RFC 3339";
		if (mdg_log_time_arg(a->since, 0, &f->since) == -1)
			return "since";
		f->has_since = 1;
	}
	if (a->until != NULL) {
		*expected = "a date (YYYY-MM-DD, JST) or RFC 3339";
		if (mdg_log_time_arg(a->until, 1, &f->until) == -1)
			return "until";
		f->has_until = 1;
	}
	if (a->serial != NULL) {
		*expected = "a serial number in hex";
		if (mdg_serial_parse_hex(a->serial, buf->serial, &f->serial_len) == -1)
			return "serial";
		f->serial = buf->serial;
	}
	if (a->receipt != NULL) {
		*expected = "a receipt id of 32 hex digits (spaces and dashes between them are fine)";
		if (mdg_receipt_id_parse(a->receipt, buf->receipt) == -1)
			return "receipt";
		f->receipt_id = buf->receipt;
	}
	if (a->reason != NULL) {
		*expected = "one of unspecified, keyCompromise, affiliationChanged, superseded, "
			    "cessationOfOperation";
		if (mdg_reason_lookup(a->reason) == NULL)
			return "reason";
		f->reason = a->reason;
	}
	if (a->issuer != NULL && a->issuer[0] != '\0')
		f->issuer = a->issuer;
	if (a->after != NULL) {
		*expected = "a seq (0 or more)";
		errno = 0;
		f->after_seq = strtoll(a->after, &end, 10);
		if (errno != 0 || end == a->after || *end != '\0' || f->after_seq < 0)
			return "after";
	}
	*expected = NULL;
	return NULL;
}
