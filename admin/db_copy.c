/* madoguchi-admin db copy --to-config OTHER (DESIGN.md "Backends";
 * docs/operations.md "Moving from SQLite with db copy"): everything the
 * store of --config holds — CRL scopes with their entries, export
 * batches, the acceptances with their chain, the checkpoints (the target
 * derives the Merkle tree's nodes from the rows) — into the store OTHER names, which must hold
 * no rows, through the store interface only (either direction between
 * backends). The source is read in one snapshot; the target is written in
 * one transaction; then the chain is verified on both sides. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acceptlog.h"
#include "admin.h"
#include "config.h"
#include "store.h"
#include "tlog.h"

struct copy_ctx {
	struct mdg_store *dst;
	int64_t n, entries;
	int failed;
};

static int put_crl(void *arg, const struct mdg_crl_copy *c)
{
	struct copy_ctx *x = arg;

	if (x->dst->ops->copy_crl(x->dst->cls, c) != MDG_STORE_OK) {
		x->failed = 1;
		return 1;
	}
	x->n++;
	x->entries += (int64_t)c->n_entries;
	return 0;
}

static int put_batch(void *arg, const struct mdg_export_batch *b)
{
	struct copy_ctx *x = arg;

	if (x->dst->ops->copy_batch(x->dst->cls, b) != MDG_STORE_OK) {
		x->failed = 1;
		return 1;
	}
	x->n++;
	return 0;
}

static int put_row(void *arg, const struct mdg_acceptance_row *r)
{
	struct copy_ctx *x = arg;

	if (x->dst->ops->copy_acceptance(x->dst->cls, r) != MDG_STORE_OK) {
		x->failed = 1;
		return 1;
	}
	x->n++;
	return 0;
}

static int put_checkpoint(void *arg, const struct mdg_checkpoint_row *c)
{
	struct copy_ctx *x = arg;

	if (x->dst->ops->checkpoint_insert(x->dst->cls, c) != MDG_STORE_OK) {
		x->failed = 1;
		return 1;
	}
	x->n++;
	return 0;
}

/* The same store named twice (the same SQLite file or the same dsn)? */
static int same_store(const struct mdg_config *a, const struct mdg_config *b)
{
	const char *na = a->store_backend[0] != '\0' ? a->store_backend : "sqlite";
	const char *nb = b->store_backend[0] != '\0' ? b->store_backend : "sqlite";
	char ra[PATH_MAX], rb[PATH_MAX];

	if (strcmp(na, nb) != 0)
		return 0;
	if (strcmp(na, "sqlite") != 0)
		return strcmp(a->dsn, b->dsn) == 0;
	if (realpath(a->database, ra) == NULL || realpath(b->database, rb) == NULL)
		return strcmp(a->database, b->database) == 0;
	return strcmp(ra, rb) == 0;
}

/* The target, initialised first if it has no tables: 0, or -1 after saying why. */
static int open_target(const struct mdg_config *cfg, const char *desc, struct mdg_store *st, int *initialised)
{
	char err[1024], err2[1024];
	int from, to;

	*initialised = 0;
	if (mdg_store_open(st, cfg, err, sizeof(err)) == 0)
		return 0;
	if (strstr(err, "run madoguchi-admin db init") == NULL) {
		fprintf(stderr, "madoguchi-admin: db copy: target: %s\n", err);
		return -1;
	}
	if (mdg_store_migrate(cfg, &from, &to, err2, sizeof(err2)) == -1) {
		fprintf(stderr, "madoguchi-admin: db copy: target: initialising %s: %s\n", desc, err2);
		return -1;
	}
	*initialised = 1;
	if (mdg_store_open(st, cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "madoguchi-admin: db copy: target: %s\n", err);
		return -1;
	}
	return 0;
}

/* Verifies one side's chain; with want (count, head) it must end there. */
static int verify_side(struct mdg_store *st, const char *side, const char *desc, const struct mdg_log_head *want,
		       int exact)
{
	struct mdg_log_verdict v;
	struct mdg_tlog_verdict tv;

	if (mdg_log_verify(st, want->count > 0 ? want->hash : NULL, &v) != MDG_STORE_OK) {
		fprintf(stderr, "madoguchi-admin: db copy: %s (%s): database error while verifying the log: %s\n", side,
			desc, mdg_store_error(st));
		return -1;
	}
	if (v.bad) {
		fprintf(stderr, "madoguchi-admin: db copy: %s (%s): the log does not verify%s%lld: %s\n", side, desc,
			v.bad_seq > 0 ? " at seq " : "", v.bad_seq > 0 ? (long long)v.bad_seq : 0LL, v.what);
		return -1;
	}
	if (exact && (v.rows != want->count || memcmp(v.head, want->hash, MDG_HASH_LEN) != 0)) {
		fprintf(stderr,
			"madoguchi-admin: db copy: %s (%s): %lld rows, the source's snapshot had %lld with "
			"another head\n",
			side, desc, (long long)v.rows, (long long)want->count);
		return -1;
	}
	if (mdg_tlog_verify(st, NULL, &tv) != MDG_STORE_OK) {
		fprintf(stderr, "madoguchi-admin: db copy: %s (%s): database error reading the Merkle tree: %s\n", side,
			desc, mdg_store_error(st));
		return -1;
	}
	if (tv.bad) {
		fprintf(stderr, "madoguchi-admin: db copy: %s (%s): the Merkle tree does not verify: %s\n", side, desc,
			tv.what);
		return -1;
	}
	return 0;
}

int cmd_db_copy(struct admin *ad, int argc, char **argv)
{
	const char *other = NULL;
	const struct opt opts[] = { { "to-config", &other, NULL }, { NULL, NULL, NULL } };
	struct mdg_config *ocfg = NULL;
	struct mdg_store src = { NULL, NULL }, dst = { NULL, NULL };
	struct mdg_log_filter f;
	struct mdg_log_head head, dhead;
	struct copy_ctx crls = { 0 }, batches = { 0 }, rows = { 0 }, cps = { 0 };
	char err[1024], sdesc[600], ddesc[600], msg[256], hx[2 * MDG_HASH_LEN + 1];
	int npos, rc = EXIT_FAILURE, in_copy = 0, snap = 0, initialised = 0;

	if (parse_opts("db copy", argc, argv, opts, NULL, 0, &npos) != 0)
		return EXIT_USAGE;
	if (other == NULL) {
		fprintf(stderr, "madoguchi-admin: db copy: --to-config OTHER is needed (the madoguchi.conf naming "
				"the store to copy into)\n");
		return EXIT_USAGE;
	}
	if ((ocfg = malloc(sizeof(*ocfg))) == NULL) {
		fprintf(stderr, "madoguchi-admin: db copy: out of memory\n");
		return EXIT_FAILURE;
	}
	mdg_config_defaults(ocfg);
	if (mdg_config_load(ocfg, other, err, sizeof(err)) == -1) {
		fprintf(stderr, "madoguchi-admin: db copy: --to-config: %s\n", err);
		goto out;
	}
	mdg_store_describe(&ad->cfg, sdesc, sizeof(sdesc));
	mdg_store_describe(ocfg, ddesc, sizeof(ddesc));
	if (same_store(&ad->cfg, ocfg)) {
		fprintf(stderr, "madoguchi-admin: db copy: --to-config names the same store as --config (%s)\n", sdesc);
		goto out;
	}
	if (open_store(ad, &src) == -1 || open_target(ocfg, ddesc, &dst, &initialised) == -1)
		goto out;
	switch (dst.ops->copy_begin(dst.cls, msg, sizeof(msg))) {
	case MDG_STORE_OK:
		in_copy = 1;
		break;
	case MDG_STORE_CONFLICT:
		fprintf(stderr,
			"madoguchi-admin: db copy: the target %s is not empty (%s): nothing copied; db copy "
			"needs a store that holds no rows\n",
			ddesc, msg);
		goto out;
	default:
		fprintf(stderr, "madoguchi-admin: db copy: target (%s): %s\n", ddesc, mdg_store_error(&dst));
		goto out;
	}
	/* the source in one read snapshot: a window still running appends
	 * after it, and the copy ends at the snapshot's head */
	if (src.ops->read_begin(src.cls) != MDG_STORE_OK)
		goto src_fail;
	snap = 1;
	if (src.ops->log_head(src.cls, &head) != MDG_STORE_OK)
		goto src_fail;
	crls.dst = batches.dst = rows.dst = &dst;
	if (src.ops->copy_out_crls(src.cls, put_crl, &crls) != MDG_STORE_OK)
		goto src_fail;
	if (crls.failed)
		goto dst_fail;
	if (src.ops->copy_out_batches(src.cls, put_batch, &batches) != MDG_STORE_OK)
		goto src_fail;
	if (batches.failed)
		goto dst_fail;
	memset(&f, 0, sizeof(f));
	f.with_request = 1;
	if (src.ops->log_query(src.cls, &f, put_row, &rows) != MDG_STORE_OK)
		goto src_fail;
	if (rows.failed)
		goto dst_fail;
	if (rows.n != head.count) {
		fprintf(stderr, "madoguchi-admin: db copy: source (%s): %lld rows read, its head says %lld\n", sdesc,
			(long long)rows.n, (long long)head.count);
		goto out;
	}
	/* the checkpoints in size order; the target's nodes come from the
	 * rows (copy_end), and both trees are verified below */
	cps.dst = &dst;
	if (src.ops->checkpoint_list(src.cls, put_checkpoint, &cps) != MDG_STORE_OK)
		goto src_fail;
	if (cps.failed)
		goto dst_fail;
	src.ops->read_end(src.cls);
	snap = 0;
	in_copy = 0;
	if (dst.ops->copy_end(dst.cls, 1) != MDG_STORE_OK) {
		fprintf(stderr, "madoguchi-admin: db copy: target (%s): %s: nothing copied\n", ddesc,
			mdg_store_error(&dst));
		goto out;
	}
	/* both sides: the chain recomputed, the same count and head */
	if (verify_side(&src, "source", sdesc, &head, 0) != 0 || verify_side(&dst, "target", ddesc, &head, 1) != 0)
		goto copied_bad;
	if (dst.ops->log_head(dst.cls, &dhead) != MDG_STORE_OK || dhead.count != head.count ||
	    memcmp(dhead.hash, head.hash, MDG_HASH_LEN) != 0) {
		fprintf(stderr, "madoguchi-admin: db copy: target (%s): its head is not the source's\n", ddesc);
		goto copied_bad;
	}
	mdg_hex(head.hash, MDG_HASH_LEN, hx);
	printf("ok: copied %s to %s%s: %lld acceptances (head %s), %lld CRL scopes with %lld entries, %lld "
	       "export batches, %lld checkpoints; the chain and the Merkle tree verify on both sides\n",
	       sdesc, ddesc, initialised ? " (initialised first)" : "", (long long)rows.n, hx, (long long)crls.n,
	       (long long)crls.entries, (long long)batches.n, (long long)cps.n);
	rc = EXIT_SUCCESS;
	goto out;
copied_bad:
	fprintf(stderr,
		"madoguchi-admin: db copy: the rows were written to %s but the copy does not verify: do not "
		"use it\n",
		ddesc);
	goto out;
src_fail:
	fprintf(stderr, "madoguchi-admin: db copy: source (%s): %s: nothing copied\n", sdesc, mdg_store_error(&src));
	goto out;
dst_fail:
	fprintf(stderr, "madoguchi-admin: db copy: target (%s): %s: nothing copied\n", ddesc, mdg_store_error(&dst));
out:
	if (snap)
		src.ops->read_end(src.cls);
	if (in_copy)
		(void)dst.ops->copy_end(dst.cls, 0);
	mdg_store_close(&src);
	mdg_store_close(&dst);
	free(ocfg);
	return rc;
}
