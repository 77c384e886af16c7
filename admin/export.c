/* madoguchi-admin log export: acceptances handed to CA issuance in
 * batches (csv, jsonl, or OpenSSL's index.txt). */
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

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <jansson.h>

#include "acceptlog.h"
#include "admin.h"
#include "names.h"
#include "timefmt.h"

/* ------------------------------------------------------------ log export */

enum export_format { EXP_CSV, EXP_JSONL, EXP_INDEX };

struct export_out {
	enum export_format fmt;
	FILE *f;
	int64_t batch;
	int64_t n;
	int64_t skipped; /* index: rows that cannot be rendered (named on stderr) */
	int failed;
	char why[256];
};

/* The certificate in a stored request whose serial is the row's. */
static X509 *evidence_cert(const struct mdg_acceptance_row *r)
{
	const unsigned char *p = r->request_der;
	CMS_ContentInfo *cms = NULL;
	STACK_OF(X509) *certs = NULL;
	X509 *found = NULL;
	unsigned char sb[MDG_SERIAL_MAX + 1];
	BIGNUM *bn = NULL;
	int i, n;

	if (p == NULL || r->request_len > LONG_MAX ||
	    (cms = d2i_CMS_ContentInfo(NULL, &p, (long)r->request_len)) == NULL ||
	    (certs = CMS_get1_certs(cms)) == NULL)
		goto out;
	for (i = 0; i < sk_X509_num(certs) && found == NULL; i++) {
		X509 *c = sk_X509_value(certs, i);

		BN_free(bn);
		if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(c), NULL)) == NULL)
			goto out;
		n = BN_num_bytes(bn);
		if (n <= (int)sizeof(sb) && (size_t)n == r->serial_len && BN_bn2bin(bn, sb) == n &&
		    memcmp(sb, r->serial, (size_t)n) == 0 && X509_up_ref(c) == 1)
			found = c;
	}
out:
	BN_free(bn);
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	return found;
}

/* OpenSSL's index.txt time: UTCTime YYMMDDHHMMSSZ for 1950..2049, else
 * GeneralizedTime YYYYMMDDHHMMSSZ (as openssl ca copies the certificate's). */
static void index_time(const struct tm *tm, char out[32])
{
	int y = tm->tm_year + 1900;

	/* the full year, then cut to two digits where UTCTime applies */
	if (strftime(out, 32, "%Y%m%d%H%M%SZ", tm) == 0)
		out[0] = '\0';
	else if (y >= 1950 && y < 2050 && strlen(out) == 15)
		memmove(out, out + 2, 14);
}

/* One index.txt line: R, expiry, revocation time[,reason], serial, unknown,
 * subject. The certificate's notAfter and subject are stored with the
 * acceptance (schema 4); for rows from before, they are read from the
 * certificate in the stored request. -1 with o->why (nothing written) if
 * the row cannot be rendered. */
static int index_line(struct export_out *o, const struct mdg_acceptance_row *r)
{
	X509 *cert = NULL;
	X509_NAME *name = NULL;
	const unsigned char *p;
	char exp[32], rev[32], *subject = NULL;
	struct tm tm;
	time_t t;
	size_t i;
	int rc = -1;

	if (r->has_cert_not_after && r->cert_subject_der != NULL) {
		p = r->cert_subject_der;
		t = (time_t)r->cert_not_after;
		if (r->cert_subject_len > LONG_MAX ||
		    (name = d2i_X509_NAME(NULL, &p, (long)r->cert_subject_len)) == NULL ||
		    p != r->cert_subject_der + r->cert_subject_len) {
			snprintf(o->why, sizeof(o->why),
				 "the stored certificate subject does not "
				 "parse");
			goto out;
		}
		if (gmtime_r(&t, &tm) == NULL)
			goto bad_time;
	} else {
		if ((cert = evidence_cert(r)) == NULL) {
			snprintf(o->why, sizeof(o->why),
				 "accepted before schema version 4 (no stored "
				 "notAfter), and the stored request holds no readable certificate with "
				 "the row's serial");
			goto out;
		}
		if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1)
			goto bad_time;
		if ((name = X509_NAME_dup(X509_get_subject_name(cert))) == NULL)
			goto out;
	}
	index_time(&tm, exp);
	if (exp[0] == '\0')
		goto bad_time;
	if (mdg_rfc3339_parse(r->accepted_at, &t) == -1 || gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 1950 ||
	    tm.tm_year + 1900 >= 2050)
		goto bad_time;
	index_time(&tm, rev);
	if ((subject = X509_NAME_oneline(name, NULL, 0)) == NULL)
		goto out;
	fprintf(o->f, "R\t%s\t%s", exp, rev);
	/* RFC 5280 5.3.1: reasonCode unspecified SHOULD be absent */
	if (strcmp(r->reason, "unspecified") != 0)
		fprintf(o->f, ",%s", r->reason);
	fputc('\t', o->f);
	if (r->serial_len == 0)
		fputs("00", o->f);
	for (i = 0; i < r->serial_len; i++)
		fprintf(o->f, "%02X", r->serial[i]);
	fprintf(o->f, "\tunknown\t%s\n", subject);
	rc = 0;
	goto out;
bad_time:
	snprintf(o->why, sizeof(o->why), "a time out of the index format's range");
out:
	if (rc != 0 && o->why[0] == '\0')
		snprintf(o->why, sizeof(o->why), "cannot format the row");
	OPENSSL_free(subject);
	X509_NAME_free(name);
	X509_free(cert);
	return rc;
}

static const char *const export_key[] = {
	"batch", "seq", "receiptId", "serial", "issuer", "reason", "acceptedAt", "effectiveFrom", "certSha256",
};
#define EXPORT_COLS (sizeof(export_key) / sizeof(export_key[0]))

static int export_row(void *arg, const struct mdg_acceptance_row *r)
{
	struct export_out *o = arg;
	char batch[24], seq[24], serial[2 * MDG_SERIAL_MAX + 1], issuer[512], cert[65];
	const char *v[EXPORT_COLS];
	json_t *j = NULL;
	size_t i;
	int rc = -1;

	if (o->fmt == EXP_INDEX) {
		/* a row that cannot be rendered is named and skipped: the rows
		 * after it still go out and the batch completes */
		o->why[0] = '\0';
		if (index_line(o, r) == -1) {
			fprintf(stderr,
				"madoguchi-admin: log export: batch %lld: seq %lld (receipt id "
				"%s) is not in the index: %s\n",
				(long long)o->batch, (long long)r->seq, r->receipt_id, o->why);
			o->why[0] = '\0';
			o->skipped++;
			return 0;
		}
		o->n++;
		return 0;
	}
	snprintf(batch, sizeof(batch), "%lld", (long long)o->batch);
	snprintf(seq, sizeof(seq), "%lld", (long long)r->seq);
	mdg_serial_hex(r->serial, r->serial_len, serial, sizeof(serial));
	mdg_der_name_rfc4514(r->issuer_der, r->issuer_len, issuer, sizeof(issuer));
	mdg_hex(r->cert_sha256, r->cert_sha256_len > 32 ? 32 : r->cert_sha256_len, cert);
	v[0] = batch;
	v[1] = seq;
	v[2] = r->receipt_id;
	v[3] = serial;
	v[4] = issuer;
	v[5] = r->reason;
	v[6] = r->accepted_at;
	v[7] = r->effective_from;
	v[8] = cert;
	if (o->fmt == EXP_CSV) {
		for (i = 0; i < EXPORT_COLS; i++) {
			if (i > 0)
				fputc(',', o->f);
			if (strpbrk(v[i], ",\"\r\n") == NULL) {
				fputs(v[i], o->f);
				continue;
			}
			fputc('"', o->f);
			for (const char *s = v[i]; *s != '\0'; s++) {
				if (*s == '"')
					fputc('"', o->f);
				fputc(*s, o->f);
			}
			fputc('"', o->f);
		}
		fputs("\r\n", o->f);
		rc = 0;
		goto out;
	}
	if ((j = json_object()) == NULL)
		goto out;
	for (i = 0; i < EXPORT_COLS; i++)
		if (json_object_set_new(j, export_key[i],
					i < 2 ? json_integer(i == 0 ? (json_int_t)o->batch : (json_int_t)r->seq)
					      : json_text(v[i])) != 0)
			goto out;
	rc = print_json_to(o->f, j);
out:
	json_decref(j);
	if (rc != 0) {
		if (o->why[0] == '\0')
			snprintf(o->why, sizeof(o->why), "seq %lld: cannot format the row", (long long)r->seq);
		o->failed = 1;
		return 1;
	}
	o->n++;
	return 0;
}

/* Writes len bytes to path atomically: a temporary file beside it, fsync,
 * rename, fsync of the directory. Mode 0600 (exports are the CA's input). */
static int write_atomically(const char *path, const char *data, size_t len)
{
	char *tmp = NULL, *dir = NULL, *slash;
	int fd = -1, dfd = -1, rc = -1;
	size_t off = 0;
	ssize_t n;

	if (asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0) {
		tmp = NULL;
		goto fail;
	}
	if ((fd = mkstemp(tmp)) == -1)
		goto fail;
	while (off < len) {
		n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	free(tmp);
	tmp = NULL;
	if ((dir = strdup(path)) == NULL)
		goto fail;
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, 2, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 || fsync(dfd) == -1)
		goto fail;
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "madoguchi-admin: log export: %s: %s\n", path, strerror(errno));
out:
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	free(dir);
	return rc;
}

int cmd_log_export(struct admin *ad, int argc, char **argv)
{
	const char *batch_arg = NULL, *format = NULL, *out_path = NULL, *issuer = NULL;
	int new_flag = 0, npos, rc = EXIT_FAILURE;
	const struct opt opts[] = {
		{ "new", NULL, &new_flag }, { "batch", &batch_arg, NULL }, { "format", &format, NULL },
		{ "out", &out_path, NULL }, { "issuer", &issuer, NULL },   { NULL, NULL, NULL },
	};
	struct mdg_store st = { NULL, NULL };
	struct mdg_export_batch b;
	struct mdg_log_filter f;
	struct export_out o;
	enum mdg_store_status s;
	char now[MDG_RFC3339_LEN], hx[65], *buf = NULL, *end;
	size_t len = 0;
	size_t i;
	int have_batch = 0;

	memset(&o, 0, sizeof(o));
	memset(&b, 0, sizeof(b));
	memset(&f, 0, sizeof(f));
	if (parse_opts("log export", argc, argv, opts, NULL, 0, &npos) != 0)
		return EXIT_USAGE;
	if (new_flag == (batch_arg != NULL)) {
		fprintf(stderr, "madoguchi-admin: log export: give --new (the acceptances not exported "
				"before, as a new batch) or --batch N (a past batch again)\n");
		return EXIT_USAGE;
	}
	if (batch_arg != NULL) {
		errno = 0;
		b.id = strtoll(batch_arg, &end, 10);
		if (errno != 0 || end == batch_arg || *end != '\0' || b.id < 1) {
			fprintf(stderr, "madoguchi-admin: log export: --batch is a batch number (1 or "
					"more)\n");
			return EXIT_USAGE;
		}
	}
	if (issuer != NULL && new_flag) {
		fprintf(stderr, "madoguchi-admin: log export: --issuer goes with --batch N: --new "
				"hands over the whole batch\n");
		return EXIT_USAGE;
	}
	if (format == NULL || strcmp(format, "csv") == 0)
		o.fmt = EXP_CSV;
	else if (strcmp(format, "jsonl") == 0 || strcmp(format, "json") == 0)
		o.fmt = EXP_JSONL;
	else if (strcmp(format, "index") == 0)
		o.fmt = EXP_INDEX;
	else {
		fprintf(stderr, "madoguchi-admin: log export: --format is csv, jsonl or index\n");
		return EXIT_USAGE;
	}
	if (open_store(ad, &st) == -1)
		goto out;
	mdg_rfc3339_jst(time(NULL), now);
	s = new_flag ? st.ops->export_new(st.cls, now, &b) : st.ops->export_get(st.cls, b.id, &b);
	if (s == MDG_STORE_NOT_FOUND && !new_flag) {
		fprintf(stderr, "madoguchi-admin: log export: no export batch %s\n", batch_arg);
		goto out;
	}
	if (s != MDG_STORE_OK && s != MDG_STORE_NOT_FOUND) {
		fprintf(stderr, "madoguchi-admin: log export: database error while %s\n",
			new_flag ? "recording the batch (nothing was recorded)" : "reading the batch");
		goto out;
	}
	have_batch = s == MDG_STORE_OK;
	if ((o.f = open_memstream(&buf, &len)) == NULL)
		goto out;
	o.batch = b.id;
	if (o.fmt == EXP_CSV) {
		for (i = 0; i < EXPORT_COLS; i++)
			fprintf(o.f, "%s%s", i > 0 ? "," : "", export_key[i]);
		fputs("\r\n", o.f);
	}
	if (have_batch) {
		f.export_batch = b.id;
		f.with_request = o.fmt == EXP_INDEX;
		f.issuer = issuer;
		if (st.ops->log_query(st.cls, &f, export_row, &o) != MDG_STORE_OK) {
			fprintf(stderr,
				"madoguchi-admin: log export: database error while reading "
				"batch %lld\n",
				(long long)b.id);
			goto out;
		}
		if (o.failed) {
			fprintf(stderr, "madoguchi-admin: log export: batch %lld: %s\n", (long long)b.id, o.why);
			goto out;
		}
		if (issuer == NULL && o.n + o.skipped != b.count) {
			fprintf(stderr,
				"madoguchi-admin: log export: batch %lld holds %lld rows, %lld "
				"recorded: run log verify\n",
				(long long)b.id, (long long)o.n, (long long)b.count);
			goto out;
		}
	}
	if (fclose(o.f) != 0) {
		o.f = NULL;
		goto out;
	}
	o.f = NULL;
	if (out_path != NULL) {
		if (write_atomically(out_path, buf, len) == -1)
			goto out;
	} else if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
		fprintf(stderr, "madoguchi-admin: log export: standard output: %s\n", strerror(errno));
		goto out;
	}
	if (!have_batch) {
		fprintf(stderr, "nothing new to export: every acceptance is in a batch already\n");
		rc = EXIT_SUCCESS;
		goto out;
	}
	/* the output is written: only now is the batch completed */
	if (issuer == NULL && b.completed_at[0] == '\0' && st.ops->export_complete(st.cls, b.id, now) != MDG_STORE_OK) {
		fprintf(stderr,
			"madoguchi-admin: log export: batch %lld written but not marked "
			"completed (database error): the next --new gives it again\n",
			(long long)b.id);
		goto out;
	}
	mdg_hex(b.head_hash, sizeof(b.head_hash), hx);
	if (b.resumed)
		fprintf(stderr,
			"batch %lld was recorded at %s but its export never completed: "
			"this is it again (same rows, same number)\n",
			(long long)b.id, b.created_at);
	fprintf(stderr, "batch %lld: %lld acceptance%s, seq %lld..%lld, head %s%s%s\n", (long long)b.id,
		(long long)(issuer != NULL ? o.n + o.skipped : b.count),
		(issuer != NULL ? o.n + o.skipped : b.count) == 1 ? "" : "s", (long long)b.first_seq,
		(long long)b.last_seq, hx, out_path != NULL ? ", written to " : "", out_path != NULL ? out_path : "");
	if (o.skipped > 0) {
		/* the batch is complete (the next --new starts a new one), but the
		 * CA must get the rows named above by other means */
		fprintf(stderr,
			"madoguchi-admin: log export: batch %lld: %lld acceptance%s not in the "
			"index (named above); the batch is completed all the same: hand %s to the CA "
			"from `log export --batch %lld --format csv` (docs/operations.md)\n",
			(long long)b.id, (long long)o.skipped, o.skipped == 1 ? "" : "s",
			o.skipped == 1 ? "it" : "them", (long long)b.id);
		goto out;
	}
	rc = EXIT_SUCCESS;
out:
	if (o.f != NULL)
		fclose(o.f);
	free(buf);
	mdg_store_close(&st);
	return rc;
}
