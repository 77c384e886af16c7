/* The acceptance log's Merkle tree: RFC 9162 section 2.1 with SHA-256.
 *
 * Leaf hash SHA-256(0x00 || content), node hash SHA-256(0x01 || left ||
 * right), the root of the empty tree SHA-256(""). A node is named by
 * (level, index): level 0 are the leaves, and node (level, index) is the
 * root of the complete subtree over leaves [index << level, (index + 1) <<
 * level). Only complete subtrees are ever named or stored; the hash of an
 * incomplete right edge is computed from them.
 *
 * Appending keeps the frontier (the roots of the complete subtrees along
 * the right edge: one per set bit of the size), so an append costs O(log n)
 * hashes and the tree O(log n) memory. Each append also yields the nodes
 * that became complete with it (mdg_merkle_append's done[]); a store that
 * keeps exactly those can answer every proof in O(log n) reads through the
 * node source below. Nothing here allocates. */
#ifndef MDG_MERKLE_H
#define MDG_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MDG_MERKLE_HASH 32
#define MDG_MERKLE_LEVELS 64 /* a size is below 2^64: at most 64 frontier nodes */
/* longest proof: inclusion <= 64 hashes, consistency <= 65 */
#define MDG_MERKLE_MAXPROOF 66

typedef unsigned char mdg_merkle_hash[MDG_MERKLE_HASH];

/* The hash of the complete subtree (level, index) into out; 0, or -1 if it
 * cannot be had (the proof generator then fails). A store answers it from
 * its stored nodes, tests from the leaves. */
typedef int (*mdg_merkle_get_fn)(void *arg, uint64_t level, uint64_t index, unsigned char out[32]);

void mdg_merkle_leaf_hash(const unsigned char *content, size_t len, unsigned char out[32]);
void mdg_merkle_node_hash(const unsigned char left[32], const unsigned char right[32], unsigned char out[32]);
void mdg_merkle_empty_root(unsigned char out[32]);

/* The right edge of a tree of `size` leaves: node[k] is the root of the
 * complete subtree of 2^k leaves at level k, held exactly where bit k of size
 * is set (other entries are unspecified). Zeroed: the empty tree. */
struct mdg_merkle_frontier {
	uint64_t size;
	mdg_merkle_hash node[MDG_MERKLE_LEVELS];
};

/* How many nodes become complete when the leaf of 0-based index idx is
 * appended: the leaf itself and one more per trailing 1 bit of idx. They are
 * (level, idx >> level) for level 0 .. count - 1. */
unsigned mdg_merkle_completed(uint64_t idx);

/* Appends the leaf with hash leaf (index f->size). With done non-NULL,
 * done[level] gets the hash of each node (level, index >> level) completed
 * by this append, *ndone their count (mdg_merkle_completed(index)); done
 * must hold MDG_MERKLE_LEVELS hashes. 0, or -1 if the tree is full. */
int mdg_merkle_append(struct mdg_merkle_frontier *f, const unsigned char leaf[32], mdg_merkle_hash *done,
		      unsigned *ndone);

/* The root of the tree the frontier holds (RFC 9162 MTH of all its leaves). */
void mdg_merkle_frontier_root(const struct mdg_merkle_frontier *f, unsigned char out[32]);

/* The frontier of a tree of `size` leaves read from a node source: one read
 * per set bit of size. 0, or -1 with err. */
int mdg_merkle_frontier_load(struct mdg_merkle_frontier *f, uint64_t size, mdg_merkle_get_fn get, void *arg, char *err,
			     size_t errlen);

/* The root of the tree's first `size` leaves from a node source (the root a
 * checkpoint of that size signed). 0, or -1 with err. */
int mdg_merkle_root(uint64_t size, mdg_merkle_get_fn get, void *arg, unsigned char out[32], char *err, size_t errlen);

/* RFC 9162 2.1.3.1: the inclusion proof of leaf `index` in the tree of the
 * first `size` leaves, deepest sibling first. proof holds
 * MDG_MERKLE_MAXPROOF hashes; *len gets the count (0 for size 1). Reads
 * O(log size) nodes. 0, or -1 with err (index >= size, or the source
 * failed). */
int mdg_merkle_inclusion(uint64_t index, uint64_t size, mdg_merkle_get_fn get, void *arg, mdg_merkle_hash *proof,
			 size_t *len, char *err, size_t errlen);

/* RFC 9162 2.1.4.1: the consistency proof from the tree of the first m
 * leaves to that of the first n, 0 <= m <= n (empty when m is 0 or m = n).
 * proof holds MDG_MERKLE_MAXPROOF hashes. 0, or -1 with err. */
int mdg_merkle_consistency(uint64_t m, uint64_t n, mdg_merkle_get_fn get, void *arg, mdg_merkle_hash *proof,
			   size_t *len, char *err, size_t errlen);

/* Reference verifiers, RFC 9162 2.1.3.2 and 2.1.4.2 step by step: 1 if the
 * proof holds, else 0. Consistency with m = n holds for an empty proof and
 * equal roots; with m = 0 for an empty proof (the empty tree is a prefix of
 * every tree). */
int mdg_merkle_verify_inclusion(uint64_t index, uint64_t size, const unsigned char leaf[32],
				const mdg_merkle_hash *proof, size_t len, const unsigned char root[32]);
int mdg_merkle_verify_consistency(uint64_t m, uint64_t n, const unsigned char root_m[32],
				  const unsigned char root_n[32], const mdg_merkle_hash *proof, size_t len);

#endif
