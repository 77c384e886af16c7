/* The acceptance log's Merkle tree over the store (DESIGN.md "Receipts and
 * the log's Merkle tree"): checkpoints made by whichever node comes first,
 * the answers of GET /v1/log/proof and /v1/log/consistency, and the root
 * recomputed for log verify. The tree's nodes are the store's
 * (merkle_node); the hashing is merkle.c's. */
#ifndef MDG_TLOG_H
#define MDG_TLOG_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "store.h"

enum mdg_tlog_status {
	MDG_TLOG_OK = 0,
	MDG_TLOG_UNKNOWN,     /* no acceptance with that receipt id */
	MDG_TLOG_NOT_COVERED, /* not yet in a checkpoint (or none yet) */
	MDG_TLOG_BAD_RANGE,   /* not 1 <= from <= to <= the latest size */
	MDG_TLOG_ERROR,       /* the store failed, or memory */
};

/* Makes the next checkpoint if the latest is older than interval_ms at
 * now_ms (or there is none) and the tree grew since (none yet: also for
 * the empty tree). *made: 1 if this call inserted one; losing the race to
 * another node is not an error (*made 0). 0, or -1 with err. */
int mdg_tlog_checkpoint_maybe(struct mdg_store *st, const struct mdg_logkey *key, int64_t interval_ms, int64_t now_ms,
			      int *made, char *err, size_t errlen);

/* The root of the first size leaves from the store's nodes. 0, or -1. */
int mdg_tlog_root(struct mdg_store *st, uint64_t size, unsigned char root[32], char *err, size_t errlen);

/* GET /v1/log/proof/{receiptId}: *json (malloc'd, owned by the caller)
 * {"receiptId","logIndex","treeSize","leaf","inclusion","checkpoint"}
 * against the latest checkpoint. */
enum mdg_tlog_status mdg_tlog_proof_json(struct mdg_store *st, const char *receipt_id, char **json, size_t *len);

/* GET /v1/log/consistency?from=M&to=N (from, to as given in the query,
 * NULL if absent): *json {"from","to","proof"}. */
enum mdg_tlog_status mdg_tlog_consistency_json(struct mdg_store *st, const char *from, const char *to, char **json,
					       size_t *len);

/* log verify: every row's leaf recomputed from the row and compared with
 * the stored leaf hash, and the root recomputed from all leaves compared
 * with the latest checkpoint's (and the stored nodes' root); with v, the
 * checkpoint's signature must verify and say the same size and root. */
struct mdg_tlog_verdict {
	int64_t rows;
	int have_checkpoint;
	uint64_t checkpoint_size;
	int signature_checked;
	int bad;         /* 1: what (and bad_seq, if a row) says why */
	int64_t bad_seq; /* 0: not one row's fault */
	char what[512];
};
enum mdg_store_status mdg_tlog_verify(struct mdg_store *st, const struct mdg_note_verifier *v,
				      struct mdg_tlog_verdict *out);

#endif
