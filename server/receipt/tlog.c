/* The acceptance log over the store: checkpoints, proofs (tlog.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "b64.h"
#include "receipt.h"
#include "merkle.h"
#include "tlog.h"

static int store_get(void *arg, uint64_t level, uint64_t index, unsigned char out[32])
{
	struct mdg_store *st = arg;

	return st->ops->merkle_node(st->cls, level, index, out) == MDG_STORE_OK ? 0 : -1;
}

int mdg_tlog_root(struct mdg_store *st, uint64_t size, unsigned char root[32], char *err, size_t errlen)
{
	return mdg_merkle_root(size, store_get, st, root, err, errlen);
}

int mdg_tlog_checkpoint_maybe(struct mdg_store *st, const struct mdg_logkey *key, int64_t interval_ms, int64_t now_ms,
			      int *made, char *err, size_t errlen)
{
	struct mdg_checkpoint_row *cp = calloc(1, sizeof(*cp));
	struct mdg_log_head head;
	enum mdg_store_status s;
	char *note = NULL;
	size_t note_len;
	uint64_t latest = 0;
	int have = 0, rc = -1, in_read = 0;
	char why[256];

	*made = 0;
	if (cp == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* one snapshot: the size and the nodes of its root agree */
	if (st->ops->read_begin(st->cls) != MDG_STORE_OK)
		goto store_failed;
	in_read = 1;
	s = st->ops->checkpoint_latest(st->cls, cp);
	if (s == MDG_STORE_OK) {
		have = 1;
		latest = cp->size;
	} else if (s != MDG_STORE_NOT_FOUND)
		goto store_failed;
	if (have && now_ms - cp->made_at_ms < interval_ms) {
		rc = 0;
		goto out;
	}
	/* nothing appended since (the leaf after the latest checkpoint's is
	 * absent): one key look-up, where log_head counts the whole log */
	if (have) {
		unsigned char leaf[32];

		s = st->ops->merkle_node(st->cls, 0, latest, leaf);
		if (s == MDG_STORE_NOT_FOUND) {
			rc = 0;
			goto out;
		}
		if (s != MDG_STORE_OK)
			goto store_failed;
	}
	if (st->ops->log_head(st->cls, &head) != MDG_STORE_OK)
		goto store_failed;
	if (head.count < 0 || (have && (uint64_t)head.count <= latest)) {
		rc = 0;
		goto out;
	}
	memset(cp, 0, sizeof(*cp));
	cp->size = (uint64_t)head.count;
	if (mdg_tlog_root(st, cp->size, cp->root, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "the root of tree size %llu: %s", (unsigned long long)cp->size, why);
		goto out;
	}
	st->ops->read_end(st->cls);
	in_read = 0;
	if (mdg_checkpoint_sign(key, cp->size, cp->root, &note, &note_len, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "signing the checkpoint: %s", why);
		goto out;
	}
	if (note_len >= sizeof(cp->note)) {
		snprintf(err, errlen, "the checkpoint's note is too long");
		goto out;
	}
	memcpy(cp->note, note, note_len + 1);
	cp->note_len = note_len;
	cp->made_at_ms = now_ms;
	s = st->ops->checkpoint_insert(st->cls, cp);
	if (s == MDG_STORE_OK)
		*made = 1;
	else if (s != MDG_STORE_CONFLICT) /* CONFLICT: another node was first */
		goto store_failed;
	rc = 0;
	goto out;
store_failed:
	snprintf(err, errlen, "store: %s", mdg_store_error(st));
out:
	if (in_read)
		st->ops->read_end(st->cls);
	free(note);
	free(cp);
	return rc;
}

static json_t *hash_array(const mdg_merkle_hash *v, size_t n)
{
	json_t *a = json_array();
	char b64[MDG_B64_LEN(32) + 1];

	for (size_t i = 0; a != NULL && i < n; i++) {
		mdg_b64_encode(v[i], 32, b64);
		json_array_append_new(a, json_string(b64));
	}
	return a;
}

static char *dump(json_t *o, size_t *len)
{
	char *text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	if (text != NULL)
		*len = strlen(text);
	json_decref(o);
	return text;
}

enum mdg_tlog_status mdg_tlog_proof_json(struct mdg_store *st, const char *receipt_id, char **json, size_t *len)
{
	struct mdg_checkpoint_row *cp = calloc(1, sizeof(*cp));
	mdg_merkle_hash *proof = calloc(MDG_MERKLE_MAXPROOF, sizeof(mdg_merkle_hash));
	enum mdg_tlog_status ts = MDG_TLOG_ERROR;
	enum mdg_store_status s;
	char *content = NULL, *leaf64 = NULL, why[128];
	size_t clen = 0, n = 0;
	uint64_t index = 0;
	int in_read = 0;

	*json = NULL;
	*len = 0;
	if (cp == NULL || proof == NULL)
		goto out;
	if (st->ops->read_begin(st->cls) != MDG_STORE_OK)
		goto out;
	in_read = 1;
	s = mdg_store_leaf(st, receipt_id, &content, &clen, &index);
	if (s == MDG_STORE_NOT_FOUND) {
		ts = MDG_TLOG_UNKNOWN;
		goto out;
	}
	if (s != MDG_STORE_OK)
		goto out;
	s = st->ops->checkpoint_latest(st->cls, cp);
	if (s == MDG_STORE_NOT_FOUND || (s == MDG_STORE_OK && index >= cp->size)) {
		ts = MDG_TLOG_NOT_COVERED;
		goto out;
	}
	if (s != MDG_STORE_OK)
		goto out;
	if (mdg_merkle_inclusion(index, cp->size, store_get, st, proof, &n, why, sizeof(why)) != 0)
		goto out;
	if ((leaf64 = malloc(MDG_B64_LEN(clen) + 1)) == NULL)
		goto out;
	mdg_b64_encode((const unsigned char *)content, clen, leaf64);
	json_t *o = json_object();
	if (o != NULL) {
		json_object_set_new(o, "receiptId", json_string(receipt_id));
		json_object_set_new(o, "logIndex", json_integer((json_int_t)index));
		json_object_set_new(o, "treeSize", json_integer((json_int_t)cp->size));
		json_object_set_new(o, "leaf", json_string(leaf64));
		json_object_set_new(o, "inclusion", hash_array(proof, n));
		json_object_set_new(o, "checkpoint", json_stringn(cp->note, cp->note_len));
	}
	if ((*json = dump(o, len)) != NULL)
		ts = MDG_TLOG_OK;
out:
	if (in_read)
		st->ops->read_end(st->cls);
	free(leaf64);
	free(content);
	free(proof);
	free(cp);
	return ts;
}

/* A decimal size as the query gives it: digits only, no leading zero. */
static int parse_size(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long n;

	if (s == NULL || s[0] < '1' || s[0] > '9' || strlen(s) > 19)
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*v = n;
	return 0;
}

enum mdg_tlog_status mdg_tlog_consistency_json(struct mdg_store *st, const char *from, const char *to, char **json,
					       size_t *len)
{
	struct mdg_checkpoint_row *cp = calloc(1, sizeof(*cp));
	mdg_merkle_hash *proof = calloc(MDG_MERKLE_MAXPROOF, sizeof(mdg_merkle_hash));
	enum mdg_tlog_status ts = MDG_TLOG_ERROR;
	enum mdg_store_status s;
	uint64_t m = 0, n = 0;
	size_t plen = 0;
	char why[128];
	int in_read = 0;

	*json = NULL;
	*len = 0;
	if (cp == NULL || proof == NULL)
		goto out;
	if (parse_size(from, &m) != 0 || parse_size(to, &n) != 0 || m > n) {
		ts = MDG_TLOG_BAD_RANGE;
		goto out;
	}
	if (st->ops->read_begin(st->cls) != MDG_STORE_OK)
		goto out;
	in_read = 1;
	s = st->ops->checkpoint_latest(st->cls, cp);
	if (s == MDG_STORE_NOT_FOUND || (s == MDG_STORE_OK && n > cp->size)) {
		ts = MDG_TLOG_BAD_RANGE;
		goto out;
	}
	if (s != MDG_STORE_OK)
		goto out;
	if (mdg_merkle_consistency(m, n, store_get, st, proof, &plen, why, sizeof(why)) != 0)
		goto out;
	json_t *o = json_object();
	if (o != NULL) {
		json_object_set_new(o, "from", json_integer((json_int_t)m));
		json_object_set_new(o, "to", json_integer((json_int_t)n));
		json_object_set_new(o, "proof", hash_array(proof, plen));
	}
	if ((*json = dump(o, len)) != NULL)
		ts = MDG_TLOG_OK;
out:
	if (in_read)
		st->ops->read_end(st->cls);
	free(proof);
	free(cp);
	return ts;
}

/* log verify reads the rows a chunk at a time and compares their leaves
 * with the stored ones between chunks: a store may stream log_query's rows
 * on the connection that merkle_node needs (PostgreSQL), so no store call
 * is made from inside log_query's callback. */
#define VERIFY_CHUNK 1024

struct verify_leaf {
	int64_t seq;
	unsigned char leaf[32];
	char receipt_id[MDG_RECEIPT_LEN];
};

struct verify_ctx {
	struct mdg_store *st;
	struct mdg_merkle_frontier f;
	const struct mdg_checkpoint_row *cp; /* NULL: none */
	struct mdg_tlog_verdict *out;
	struct verify_leaf chunk[VERIFY_CHUNK];
	size_t n;   /* leaves in chunk */
	int failed; /* the store failed */
};

static int verify_row(void *arg, const struct mdg_acceptance_row *r)
{
	struct verify_ctx *c = arg;
	struct mdg_tlog_verdict *out = c->out;
	struct verify_leaf *l = &c->chunk[c->n];
	char *content = NULL, why[128];
	size_t len;

	out->rows++;
	if (r->seq != out->rows) {
		out->bad = 1;
		out->bad_seq = r->seq;
		snprintf(out->what, sizeof(out->what),
			 "seq %lld where %lld was due: the tree's leaves need seq "
			 "without gaps",
			 (long long)r->seq, (long long)out->rows);
		return 1;
	}
	if (mdg_receipt_content_row(r, &content, &len, why, sizeof(why)) != 0) {
		out->bad = 1;
		out->bad_seq = r->seq;
		snprintf(out->what, sizeof(out->what), "receipt %s: no receipt content: %s", r->receipt_id, why);
		return 1;
	}
	mdg_merkle_leaf_hash((const unsigned char *)content, len, l->leaf);
	free(content);
	l->seq = r->seq;
	snprintf(l->receipt_id, sizeof(l->receipt_id), "%s", r->receipt_id);
	return ++c->n == VERIFY_CHUNK;
}

/* The chunk's leaves against the stored ones, appended to the frontier: 0,
 * or 1 (a verdict made, or the store failed). */
static int verify_chunk(struct verify_ctx *c)
{
	struct mdg_tlog_verdict *out = c->out;
	unsigned char stored[32], root[32];
	enum mdg_store_status s;

	for (size_t i = 0; i < c->n; i++) {
		const struct verify_leaf *l = &c->chunk[i];

		s = c->st->ops->merkle_node(c->st->cls, 0, (uint64_t)(l->seq - 1), stored);
		if (s == MDG_STORE_ERROR) {
			c->failed = 1;
			return 1;
		}
		if (s == MDG_STORE_NOT_FOUND || memcmp(l->leaf, stored, 32) != 0) {
			out->bad = 1;
			out->bad_seq = l->seq;
			snprintf(out->what, sizeof(out->what),
				 "receipt %s: the row does not give the leaf the Merkle tree "
				 "holds for it (%s): the row was changed after it was accepted",
				 l->receipt_id, s == MDG_STORE_NOT_FOUND ? "no leaf stored" : "another leaf hash");
			return 1;
		}
		if (mdg_merkle_append(&c->f, l->leaf, NULL, NULL) != 0) {
			c->failed = 1;
			return 1;
		}
		if (c->cp != NULL && c->f.size == c->cp->size) {
			mdg_merkle_frontier_root(&c->f, root);
			if (memcmp(root, c->cp->root, 32) != 0) {
				out->bad = 1;
				snprintf(out->what, sizeof(out->what),
					 "the root recomputed from the first %llu leaves is not "
					 "the latest checkpoint's",
					 (unsigned long long)c->cp->size);
				return 1;
			}
		}
	}
	c->n = 0;
	return 0;
}

enum mdg_store_status mdg_tlog_verify(struct mdg_store *st, const struct mdg_note_verifier *v,
				      struct mdg_tlog_verdict *out)
{
	struct mdg_checkpoint_row *cp = calloc(1, sizeof(*cp));
	struct verify_ctx *c = calloc(1, sizeof(*c));
	struct mdg_log_filter f;
	struct mdg_checkpoint parsed;
	enum mdg_store_status s = MDG_STORE_ERROR, got;
	unsigned char root[32];
	char why[200];

	memset(out, 0, sizeof(*out));
	if (cp == NULL || c == NULL)
		goto out;
	got = st->ops->checkpoint_latest(st->cls, cp);
	if (got == MDG_STORE_ERROR)
		goto out;
	if (got == MDG_STORE_OK) {
		out->have_checkpoint = 1;
		out->checkpoint_size = cp->size;
		if (v != NULL) {
			if (mdg_checkpoint_open(cp->note, cp->note_len, v, NULL, &parsed, why, sizeof(why)) != 0) {
				out->bad = 1;
				snprintf(out->what, sizeof(out->what),
					 "the latest checkpoint (size %llu) does not "
					 "verify with the log key: %s",
					 (unsigned long long)cp->size, why);
				s = MDG_STORE_OK;
				goto out;
			}
			if (parsed.size != cp->size || memcmp(parsed.root, cp->root, 32) != 0) {
				out->bad = 1;
				snprintf(out->what, sizeof(out->what),
					 "the latest checkpoint's note does not say "
					 "the size and root stored with it");
				s = MDG_STORE_OK;
				goto out;
			}
			out->signature_checked = 1;
		}
		/* the root from the stored interior nodes, as proofs use them */
		if (mdg_tlog_root(st, cp->size, root, why, sizeof(why)) != 0 || memcmp(root, cp->root, 32) != 0) {
			out->bad = 1;
			snprintf(out->what, sizeof(out->what),
				 "the stored Merkle tree's root at size %llu is not the "
				 "latest checkpoint's",
				 (unsigned long long)cp->size);
			s = MDG_STORE_OK;
			goto out;
		}
	}
	c->st = st;
	c->cp = got == MDG_STORE_OK ? cp : NULL;
	c->out = out;
	for (;;) {
		int64_t before = out->rows;

		memset(&f, 0, sizeof(f));
		f.after_seq = out->rows;
		f.limit = VERIFY_CHUNK;
		if (st->ops->log_query(st->cls, &f, verify_row, c) != MDG_STORE_OK)
			goto out;
		/* the rows read up to a bad one are compared first: a changed
		 * row is named before a gap after it */
		if (verify_chunk(c) != 0 || out->bad) {
			if (c->failed)
				goto out;
			break;
		}
		if (out->rows - before < VERIFY_CHUNK)
			break;
	}
	if (c->cp != NULL && !out->bad && (uint64_t)out->rows < cp->size) {
		out->bad = 1;
		snprintf(out->what, sizeof(out->what),
			 "the latest checkpoint covers %llu acceptances but the log "
			 "holds %lld: rows were removed",
			 (unsigned long long)cp->size, (long long)out->rows);
	}
	s = MDG_STORE_OK;
out:
	free(c);
	free(cp);
	return s;
}
