/* madoguchi-admin log, log verify, log head, log show: the acceptance log
 * read back for operators (docs/operations.md). */
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

#include <openssl/evp.h>
#include <jansson.h>

#include "acceptlog.h"
#include "admin.h"
#include "render.h"
#include "tlog.h"

int cmd_log(struct admin *ad, int argc, char **argv)
{
	const char *since = NULL, *until = NULL, *serial = NULL, *issuer = NULL, *receipt = NULL, *reason = NULL,
		   *limit = NULL, *after = NULL, *format = NULL;
	int personal = 0, npos, rc = EXIT_FAILURE;
	const struct opt opts[] = {
		{ "since", &since, NULL },     { "until", &until, NULL },
		{ "serial", &serial, NULL },   { "issuer", &issuer, NULL },
		{ "receipt", &receipt, NULL }, { "reason", &reason, NULL },
		{ "limit", &limit, NULL },     { "after", &after, NULL },
		{ "format", &format, NULL },   { "show-personal-data", NULL, &personal },
		{ NULL, NULL, NULL },
	};
	struct mdg_store st = { NULL, NULL };
	struct mdg_log_filter f;
	struct log_out o;
	struct mdg_log_filter_buf fb;
	char *end;

	memset(&f, 0, sizeof(f));
	memset(&o, 0, sizeof(o));
	if (parse_opts("log", argc, argv, opts, NULL, 0, &npos) != 0)
		return EXIT_USAGE;
	if (parse_format("log", format, 1, &o.fmt) == -1)
		return EXIT_USAGE;
	const struct mdg_log_args la = { since, until, serial, issuer, receipt, reason, after };
	const char *bad, *expected;
	if ((bad = mdg_log_filter_from_args(&la, &f, &fb, &expected)) != NULL) {
		fprintf(stderr, "madoguchi-admin: log: --%s takes %s\n", bad, expected);
		return EXIT_USAGE;
	}
	if (limit != NULL) {
		errno = 0;
		o.limit = strtoll(limit, &end, 10);
		if (errno != 0 || end == limit || *end != '\0' || o.limit < 1 || o.limit >= INT64_MAX) {
			fprintf(stderr, "madoguchi-admin: log: --limit is a number of rows (1 or more)\n");
			return EXIT_USAGE;
		}
		f.limit = o.limit + 1; /* one more: is there a next page? */
	}
	f.with_request = personal;
	o.personal = personal;

	if (open_store(ad, &st) == -1)
		goto out;
	if (o.fmt == FMT_CSV)
		print_csv_header(personal);
	if (st.ops->log_query(st.cls, &f, log_row, &o) != MDG_STORE_OK || o.failed) {
		fprintf(stderr, "madoguchi-admin: log: database error while reading the log\n");
		goto out;
	}
	if (o.fmt == FMT_TABLE)
		print_table(&o);
	fflush(stdout);
	if (o.fmt == FMT_TABLE) {
		if (o.n == 0)
			fprintf(stderr, "no acceptances match\n");
	}
	if (o.more && o.fmt == FMT_TABLE)
		fprintf(stderr, "more rows follow: repeat with --after %lld for the next page\n",
			(long long)o.last_seq);
	rc = EXIT_SUCCESS;
out:
	fflush(stdout);
	if (o.cells != NULL)
		free_cells(o.cells, (size_t)o.n * C_NCOLS);
	free(o.cells);
	mdg_store_close(&st);
	return rc;
}

/* The log's Merkle tree (tlog.c): 0, or -1 with the failure said. With
 * [receipts] log_key the latest checkpoint's signature must verify. */
static int tree_verify(struct admin *ad, struct mdg_store *st, struct mdg_tlog_verdict *tv)
{
	struct mdg_logkey key;
	struct mdg_note_verifier ver;
	char err[512];
	int have_key = 0;
	enum mdg_store_status s;

	if (ad->cfg.log_key[0] != '\0') {
		if (mdg_logkey_load(&key, ad->cfg.log_key, ad->cfg.log_name, err, sizeof(err)) != 0) {
			fprintf(stderr, "madoguchi-admin: log verify: [receipts] log_key: %s\n", err);
			return -1;
		}
		have_key = mdg_note_verifier_parse(key.vkey, &ver, err, sizeof(err)) == 0;
		mdg_logkey_free(&key);
		if (!have_key) {
			fprintf(stderr, "madoguchi-admin: log verify: [receipts] log_key: %s\n", err);
			return -1;
		}
	}
	s = mdg_tlog_verify(st, have_key ? &ver : NULL, tv);
	if (s != MDG_STORE_OK) {
		fprintf(stderr, "madoguchi-admin: log verify: database error while reading the Merkle tree: %s\n",
			mdg_store_error(st));
		return -1;
	}
	if (tv->bad) {
		if (tv->bad_seq > 0)
			fprintf(stderr, "madoguchi-admin: log verify: FAILED at seq %lld: %s\n", (long long)tv->bad_seq,
				tv->what);
		else
			fprintf(stderr, "madoguchi-admin: log verify: FAILED: %s\n", tv->what);
		return -1;
	}
	return 0;
}

int cmd_log_checkpoint(struct admin *ad, int argc, char **argv)
{
	const struct opt opts[] = { { NULL, NULL, NULL } };
	struct mdg_store st = { NULL, NULL };
	struct mdg_checkpoint_row *cp = NULL;
	int npos, rc = EXIT_FAILURE;
	enum mdg_store_status s;

	if (parse_opts("log checkpoint", argc, argv, opts, NULL, 0, &npos) != 0)
		return EXIT_USAGE;
	if (open_store(ad, &st) == -1)
		goto out;
	if ((cp = malloc(sizeof(*cp))) == NULL) {
		fprintf(stderr, "madoguchi-admin: log checkpoint: out of memory\n");
		goto out;
	}
	s = st.ops->checkpoint_latest(st.cls, cp);
	if (s == MDG_STORE_NOT_FOUND) {
		fprintf(stderr, "madoguchi-admin: log checkpoint: no checkpoint yet (madoguchid makes one "
				"within [receipts] checkpoint_interval once receipts are configured)\n");
		goto out;
	}
	if (s != MDG_STORE_OK) {
		fprintf(stderr, "madoguchi-admin: log checkpoint: database error: %s\n", mdg_store_error(&st));
		goto out;
	}
	fwrite(cp->note, 1, cp->note_len, stdout);
	rc = EXIT_SUCCESS;
out:
	free(cp);
	mdg_store_close(&st);
	return rc;
}

int cmd_log_verify(struct admin *ad, int argc, char **argv)
{
	const char *head = NULL;
	const struct opt opts[] = { { "head", &head, NULL }, { NULL, NULL, NULL } };
	struct mdg_store st = { NULL, NULL };
	struct mdg_log_verdict v;
	struct mdg_tlog_verdict tv;
	unsigned char want[MDG_HASH_LEN];
	char hx[2 * MDG_HASH_LEN + 1];
	int npos, rc = EXIT_FAILURE;

	if (parse_opts("log verify", argc, argv, opts, NULL, 0, &npos) != 0)
		return EXIT_USAGE;
	if (head != NULL && mdg_unhex(head, want, sizeof(want)) == -1) {
		fprintf(stderr, "madoguchi-admin: log verify: --head is a hash of 64 hex digits\n");
		return EXIT_USAGE;
	}
	if (open_store(ad, &st) == -1)
		goto out;
	if (mdg_log_verify(&st, head != NULL ? want : NULL, &v) != MDG_STORE_OK) {
		fprintf(stderr, "madoguchi-admin: log verify: database error while reading the log\n");
		goto out;
	}
	if (v.bad) {
		if (v.bad_seq > 0)
			fprintf(stderr, "madoguchi-admin: log verify: FAILED at seq %lld: %s\n", (long long)v.bad_seq,
				v.what);
		else
			fprintf(stderr, "madoguchi-admin: log verify: FAILED: %s\n", v.what);
		goto out;
	}
	if (tree_verify(ad, &st, &tv) != 0)
		goto out;
	mdg_hex(v.head, MDG_HASH_LEN, hx);
	printf("ok: %lld rows, head %s", (long long)v.rows, hx);
	if (head != NULL && v.head_seq > 0 && v.head_seq < v.rows)
		printf(" (the given head is the hash of seq %lld: %lld row%s appended since)", (long long)v.head_seq,
		       (long long)(v.rows - v.head_seq), v.rows - v.head_seq == 1 ? "" : "s");
	if (tv.have_checkpoint)
		printf("; Merkle tree: every leaf matches its row, the root matches the latest checkpoint "
		       "(size %llu%s)",
		       (unsigned long long)tv.checkpoint_size,
		       tv.signature_checked ? ", signature verified with log_key" : "");
	printf("\n");
	rc = EXIT_SUCCESS;
out:
	mdg_store_close(&st);
	return rc;
}

int cmd_log_head(struct admin *ad, int argc, char **argv)
{
	const char *format = NULL;
	const struct opt opts[] = { { "format", &format, NULL }, { NULL, NULL, NULL } };
	struct mdg_store st = { NULL, NULL };
	struct mdg_log_head h;
	enum out_format fmt;
	char hx[2 * MDG_HASH_LEN + 1], *s = NULL;
	json_t *o = NULL;
	int npos, rc = EXIT_FAILURE;

	if (parse_opts("log head", argc, argv, opts, NULL, 0, &npos) != 0 ||
	    parse_format("log head", format, 0, &fmt) == -1)
		return EXIT_USAGE;
	if (open_store(ad, &st) == -1)
		goto out;
	if (st.ops->log_head(st.cls, &h) != MDG_STORE_OK) {
		fprintf(stderr, "madoguchi-admin: log head: database error while reading the log\n");
		goto out;
	}
	mdg_hex(h.hash, MDG_HASH_LEN, hx);
	if (fmt == FMT_JSON) {
		o = json_pack("{s:I, s:I, s:s, s:o}", "count", (json_int_t)h.count, "seq", (json_int_t)h.seq, "head",
			      hx, "lastAcceptedAt", h.count > 0 ? json_string(h.accepted_at) : json_null());
		if (o == NULL || (s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
			goto out;
		printf("%s\n", s);
	} else {
		printf("count: %lld\n", (long long)h.count);
		printf("seq: %lld\n", (long long)h.seq);
		printf("head: %s\n", hx);
		printf("last accepted at: %s\n", h.count > 0 ? h.accepted_at : "-");
	}
	rc = EXIT_SUCCESS;
out:
	free(s);
	json_decref(o);
	mdg_store_close(&st);
	return rc;
}

struct show_ctx {
	enum out_format fmt;
	int personal;
	const char *evidence;
	int found, failed;
};

static int write_evidence(const char *path, const struct mdg_acceptance_row *r)
{
	unsigned char h[32];
	int fd = -1, rc = -1;
	size_t off = 0;
	ssize_t n;

	if (r->request_der == NULL || r->request_len == 0) {
		fprintf(stderr, "madoguchi-admin: log show: no stored request\n");
		return -1;
	}
	if (EVP_Digest(r->request_der, r->request_len, h, NULL, EVP_sha256(), NULL) != 1 ||
	    r->request_sha256_len != 32 || memcmp(h, r->request_sha256, 32) != 0)
		fprintf(stderr, "madoguchi-admin: log show: warning: the stored request does not "
				"match its request_sha256: run log verify\n");
	/* the evidence holds personal data */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1) {
		fprintf(stderr, "madoguchi-admin: log show: %s: %s\n", path, strerror(errno));
		goto out;
	}
	while (off < r->request_len) {
		n = write(fd, r->request_der + off, r->request_len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "madoguchi-admin: log show: %s: %s\n", path, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		fprintf(stderr, "madoguchi-admin: log show: %s: %s\n", path, strerror(errno));
		goto out;
	}
	fd = -1;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

static int show_row(void *arg, const struct mdg_acceptance_row *r)
{
	struct show_ctx *c = arg;
	char *cell[C_NCOLS] = { NULL };
	char cert[65], req[65], prev[65], hash[65], bytes[32];
	const char *extra_key[] = { "certSha256", "requestSha256", "requestBytes", "prevHash", "hash" };
	const char *extra_title[] = { "certificate SHA-256", "request SHA-256", "request bytes", "prev hash", "hash" };
	const char *extra[5];
	json_t *o = NULL;
	int i;

	c->found = 1;
	if (row_cells(r, c->personal, cell) == -1)
		goto fail;
	mdg_hex(r->cert_sha256, r->cert_sha256_len > 32 ? 32 : r->cert_sha256_len, cert);
	mdg_hex(r->request_sha256, r->request_sha256_len > 32 ? 32 : r->request_sha256_len, req);
	mdg_hex(r->prev_hash, r->prev_hash_len > 32 ? 32 : r->prev_hash_len, prev);
	mdg_hex(r->hash, r->hash_len > 32 ? 32 : r->hash_len, hash);
	snprintf(bytes, sizeof(bytes), "%zu", r->request_len);
	extra[0] = cert;
	extra[1] = req;
	extra[2] = bytes;
	extra[3] = prev;
	extra[4] = hash;
	if (c->fmt == FMT_JSON) {
		if ((o = mdg_acceptance_row_json(r, c->personal)) == NULL)
			goto fail;
		for (i = 0; i < 5; i++)
			json_object_set_new(o, extra_key[i],
					    i == 2 ? json_integer((json_int_t)r->request_len) : json_string(extra[i]));
		if (print_json(o) == -1)
			goto fail;
	} else {
		for (i = 0; i < C_NCOLS; i++) {
			if (!col_shown(i, c->personal))
				continue;
			printf("%-20s ", show_title[i]);
			put_table_cell(i == C_BATCH && cell[i][0] == '\0' ? "(not exported)" : cell[i]);
			putchar('\n');
		}
		for (i = 0; i < 5; i++)
			printf("%-20s %s\n", extra_title[i], extra[i]);
	}
	if (c->evidence != NULL && write_evidence(c->evidence, r) == -1)
		goto fail;
	json_decref(o);
	free_cells(cell, C_NCOLS);
	return 1;
fail:
	json_decref(o);
	free_cells(cell, C_NCOLS);
	c->failed = 1;
	return 1;
}

int cmd_log_show(struct admin *ad, int argc, char **argv)
{
	const char *format = NULL, *evidence = NULL;
	int personal = 0, npos, rc = EXIT_FAILURE;
	const struct opt opts[] = {
		{ "evidence", &evidence, NULL },
		{ "format", &format, NULL },
		{ "show-personal-data", NULL, &personal },
		{ NULL, NULL, NULL },
	};
	struct mdg_store st = { NULL, NULL };
	struct mdg_log_filter f;
	struct show_ctx c;
	char *pos[1], rid[MDG_RECEIPT_LEN];

	memset(&c, 0, sizeof(c));
	memset(&f, 0, sizeof(f));
	if (parse_opts("log show", argc, argv, opts, pos, 1, &npos) != 0)
		return EXIT_USAGE;
	if (npos != 1) {
		fprintf(stderr, "madoguchi-admin: usage: madoguchi-admin --config FILE log show "
				"RECEIPT [--evidence FILE] [--format text|json] [--show-personal-data]\n");
		return EXIT_USAGE;
	}
	if (parse_format("log show", format, 0, &c.fmt) == -1)
		return EXIT_USAGE;
	if (mdg_receipt_id_parse(pos[0], rid) == -1) {
		fprintf(stderr,
			"madoguchi-admin: log show: a receipt id is %d hex digits (spaces or "
			"dashes between them are fine)\n",
			MDG_RECEIPT_LEN - 1);
		return EXIT_USAGE;
	}
	c.personal = personal;
	c.evidence = evidence;
	f.receipt_id = rid;
	f.with_request = 1;
	if (open_store(ad, &st) == -1)
		goto out;
	if (st.ops->log_query(st.cls, &f, show_row, &c) != MDG_STORE_OK) {
		fprintf(stderr, "madoguchi-admin: log show: database error while reading the log\n");
		goto out;
	}
	if (c.failed)
		goto out;
	if (!c.found) {
		fprintf(stderr, "madoguchi-admin: log show: no acceptance with receipt id %s\n", rid);
		goto out;
	}
	if (evidence != NULL)
		fprintf(stderr, "wrote the signed request (%s) to %s\n", "CMS, DER", evidence);
	rc = EXIT_SUCCESS;
out:
	fflush(stdout);
	mdg_store_close(&st);
	return rc;
}
