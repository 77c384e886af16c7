/* RFC 9162 2.1 Merkle tree: hashes, the frontier, proofs from a node
 * source, and the reference verifiers (see merkle.h). */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "merkle.h"

/* A range of leaves [lo, hi) whose hash a proof needs. */
struct range {
	uint64_t lo, hi;
};

static void sha256_parts(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen,
			 const unsigned char *c, size_t clen, unsigned char out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;

	/* SHA-256 of a few bytes fails only out of memory; OpenSSL's one-shot
	 * EVP_Digest would allocate the same context */
	if (ctx == NULL || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
	    (alen > 0 && !EVP_DigestUpdate(ctx, a, alen)) || (blen > 0 && !EVP_DigestUpdate(ctx, b, blen)) ||
	    (clen > 0 && !EVP_DigestUpdate(ctx, c, clen)) || !EVP_DigestFinal_ex(ctx, out, &n))
		memset(out, 0, 32);
	EVP_MD_CTX_free(ctx);
}

void mdg_merkle_leaf_hash(const unsigned char *content, size_t len, unsigned char out[32])
{
	static const unsigned char zero = 0x00;

	sha256_parts(&zero, 1, content, len, NULL, 0, out);
}

void mdg_merkle_node_hash(const unsigned char left[32], const unsigned char right[32], unsigned char out[32])
{
	static const unsigned char one = 0x01;
	unsigned char l[32], r[32];

	/* out may be left or right */
	memcpy(l, left, 32);
	memcpy(r, right, 32);
	sha256_parts(&one, 1, l, 32, r, 32, out);
}

void mdg_merkle_empty_root(unsigned char out[32])
{
	sha256_parts(NULL, 0, NULL, 0, NULL, 0, out);
}

/* The largest power of two <= x, x >= 1. */
static uint64_t pow2_floor(uint64_t x)
{
	uint64_t k = 1;

	while (k < (UINT64_C(1) << 63) && (k << 1) <= x)
		k <<= 1;
	return k;
}

/* The largest power of two below x, x >= 2 (RFC 9162's k). */
static uint64_t split_point(uint64_t x)
{
	return pow2_floor(x - 1);
}

static unsigned level_of(uint64_t pow2)
{
	unsigned l = 0;

	while (pow2 > 1) {
		pow2 >>= 1;
		l++;
	}
	return l;
}

unsigned mdg_merkle_completed(uint64_t idx)
{
	unsigned n = 1;

	while (idx & 1) {
		n++;
		idx >>= 1;
	}
	return n;
}

int mdg_merkle_append(struct mdg_merkle_frontier *f, const unsigned char leaf[32], mdg_merkle_hash *done,
		      unsigned *ndone)
{
	unsigned char carry[32];
	unsigned level = 0;

	if (f->size == UINT64_MAX)
		return -1;
	memcpy(carry, leaf, 32);
	if (done != NULL)
		memcpy(done[0], carry, 32);
	while (f->size & (UINT64_C(1) << level)) {
		mdg_merkle_node_hash(f->node[level], carry, carry);
		level++;
		if (done != NULL)
			memcpy(done[level], carry, 32);
	}
	memcpy(f->node[level], carry, 32);
	f->size++;
	if (ndone != NULL)
		*ndone = level + 1;
	return 0;
}

void mdg_merkle_frontier_root(const struct mdg_merkle_frontier *f, unsigned char out[32])
{
	unsigned char r[32];
	unsigned level;
	int have = 0;

	for (level = 0; level < MDG_MERKLE_LEVELS; level++) {
		if (!(f->size & (UINT64_C(1) << level)))
			continue;
		if (!have)
			memcpy(r, f->node[level], 32);
		else
			mdg_merkle_node_hash(f->node[level], r, r);
		have = 1;
	}
	if (!have)
		mdg_merkle_empty_root(r);
	memcpy(out, r, 32);
}

int mdg_merkle_frontier_load(struct mdg_merkle_frontier *f, uint64_t size, mdg_merkle_get_fn get, void *arg, char *err,
			     size_t errlen)
{
	uint64_t start = 0;
	int level;

	memset(f, 0, sizeof(*f));
	for (level = MDG_MERKLE_LEVELS - 1; level >= 0; level--) {
		if (!(size & (UINT64_C(1) << level)))
			continue;
		if (get(arg, (uint64_t)level, start >> level, f->node[level]) != 0) {
			snprintf(err, errlen,
				 "Merkle node (level %d, index %llu) of tree size %llu "
				 "not available",
				 level, (unsigned long long)(start >> level), (unsigned long long)size);
			return -1;
		}
		start += UINT64_C(1) << level;
	}
	f->size = size;
	return 0;
}

int mdg_merkle_root(uint64_t size, mdg_merkle_get_fn get, void *arg, unsigned char out[32], char *err, size_t errlen)
{
	struct mdg_merkle_frontier f;

	if (mdg_merkle_frontier_load(&f, size, get, arg, err, errlen) != 0)
		return -1;
	mdg_merkle_frontier_root(&f, out);
	OPENSSL_cleanse(&f, sizeof(f));
	return 0;
}

/* MTH(D[lo:hi]), lo < hi, from complete subtrees: the range splits into
 * aligned complete subtrees of decreasing size (its RFC 9162 left spine),
 * folded from the right. */
static int range_hash(struct range rg, mdg_merkle_get_fn get, void *arg, unsigned char out[32], char *err,
		      size_t errlen)
{
	mdg_merkle_hash part[MDG_MERKLE_LEVELS];
	unsigned n = 0, i;
	uint64_t lo = rg.lo, k;

	while (lo < rg.hi) {
		k = pow2_floor(rg.hi - lo);
		if ((lo & (k - 1)) != 0 || n == MDG_MERKLE_LEVELS) {
			snprintf(err, errlen, "Merkle range [%llu, %llu) is not a subtree of the tree",
				 (unsigned long long)rg.lo, (unsigned long long)rg.hi);
			return -1;
		}
		if (get(arg, level_of(k), lo >> level_of(k), part[n]) != 0) {
			snprintf(err, errlen, "Merkle node (level %u, index %llu) not available", level_of(k),
				 (unsigned long long)(lo >> level_of(k)));
			return -1;
		}
		n++;
		lo += k;
	}
	for (i = n - 1; i > 0; i--)
		mdg_merkle_node_hash(part[i - 1], part[i], part[i - 1]);
	memcpy(out, part[0], 32);
	return 0;
}

/* The ranges were found top-down; a proof lists them deepest first. */
static int ranges_to_proof(const struct range *rg, size_t n, mdg_merkle_get_fn get, void *arg, mdg_merkle_hash *proof,
			   size_t *len, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (range_hash(rg[n - 1 - i], get, arg, proof[i], err, errlen) != 0)
			return -1;
	*len = n;
	return 0;
}

int mdg_merkle_inclusion(uint64_t index, uint64_t size, mdg_merkle_get_fn get, void *arg, mdg_merkle_hash *proof,
			 size_t *len, char *err, size_t errlen)
{
	struct range rg[MDG_MERKLE_MAXPROOF];
	uint64_t lo = 0, hi = size, k;
	size_t n = 0;

	*len = 0;
	if (index >= size) {
		snprintf(err, errlen, "leaf %llu is not in a tree of size %llu", (unsigned long long)index,
			 (unsigned long long)size);
		return -1;
	}
	while (hi - lo > 1) {
		k = split_point(hi - lo);
		if (index < lo + k) {
			rg[n++] = (struct range){ lo + k, hi };
			hi = lo + k;
		} else {
			rg[n++] = (struct range){ lo, lo + k };
			lo += k;
		}
	}
	return ranges_to_proof(rg, n, get, arg, proof, len, err, errlen);
}

int mdg_merkle_consistency(uint64_t m, uint64_t n, mdg_merkle_get_fn get, void *arg, mdg_merkle_hash *proof,
			   size_t *len, char *err, size_t errlen)
{
	struct range rg[MDG_MERKLE_MAXPROOF];
	uint64_t lo = 0, hi = n, k;
	size_t cnt = 0;
	int b = 1;

	*len = 0;
	if (m > n) {
		snprintf(err, errlen, "no consistency proof from size %llu to the smaller size %llu",
			 (unsigned long long)m, (unsigned long long)n);
		return -1;
	}
	if (m == 0 || m == n)
		return 0;
	/* SUBPROOF(m, D[lo:hi], b), m counted from lo */
	for (;;) {
		if (m == hi - lo) {
			if (!b)
				rg[cnt++] = (struct range){ lo, hi };
			break;
		}
		k = split_point(hi - lo);
		if (m <= k) {
			rg[cnt++] = (struct range){ lo + k, hi };
			hi = lo + k;
		} else {
			rg[cnt++] = (struct range){ lo, lo + k };
			m -= k;
			lo += k;
			b = 0;
		}
	}
	return ranges_to_proof(rg, cnt, get, arg, proof, len, err, errlen);
}

int mdg_merkle_verify_inclusion(uint64_t index, uint64_t size, const unsigned char leaf[32],
				const mdg_merkle_hash *proof, size_t len, const unsigned char root[32])
{
	unsigned char r[32];
	uint64_t fn, sn;
	size_t i;

	if (index >= size)
		return 0;
	fn = index;
	sn = size - 1;
	memcpy(r, leaf, 32);
	for (i = 0; i < len; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) || fn == sn) {
			mdg_merkle_node_hash(proof[i], r, r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			mdg_merkle_node_hash(r, proof[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && CRYPTO_memcmp(r, root, 32) == 0;
}

int mdg_merkle_verify_consistency(uint64_t m, uint64_t n, const unsigned char root_m[32],
				  const unsigned char root_n[32], const mdg_merkle_hash *proof, size_t len)
{
	const unsigned char *first;
	unsigned char fr[32], sr[32];
	uint64_t fn, sn;
	size_t i = 0;

	if (m > n)
		return 0;
	if (m == 0)
		return len == 0;
	if (m == n)
		return len == 0 && CRYPTO_memcmp(root_m, root_n, 32) == 0;
	/* 1. an empty path fails */
	if (len == 0)
		return 0;
	/* 2. first an exact power of 2: first_hash is prepended */
	if ((m & (m - 1)) == 0) {
		first = root_m;
	} else {
		first = proof[0];
		i = 1;
	}
	/* 3., 4. */
	fn = m - 1;
	sn = n - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	/* 5. */
	memcpy(fr, first, 32);
	memcpy(sr, first, 32);
	/* 6. */
	for (; i < len; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) || fn == sn) {
			mdg_merkle_node_hash(proof[i], fr, fr);
			mdg_merkle_node_hash(proof[i], sr, sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			mdg_merkle_node_hash(sr, proof[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	/* 7. */
	return sn == 0 && CRYPTO_memcmp(fr, root_m, 32) == 0 && CRYPTO_memcmp(sr, root_n, 32) == 0;
}
