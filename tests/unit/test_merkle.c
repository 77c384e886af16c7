/* Unit tests: server/receipt/merkle.c. The RFC 6962 / RFC 9162 reference
 * vectors (certificate-transparency's leaves and tree heads), then the
 * frontier and the proofs cross-checked against a naive recursive MTH over
 * all leaves, and a simulated store that keeps only the nodes each append
 * completes. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merkle.h"

#define MAXLEAVES 300

static void unhex(const char *s, unsigned char *out)
{
	size_t i, n = strlen(s) / 2;
	unsigned int v;

	for (i = 0; i < n; i++) {
		ck_assert_int_eq(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (unsigned char)v;
	}
}

static void ck_hash(const unsigned char *h, const char *hex)
{
	unsigned char want[32];

	unhex(hex, want);
	ck_assert_msg(memcmp(h, want, 32) == 0, "hash differs from %s", hex);
}

/* ---- the naive tree: MTH recursively over leaf hashes ---- */

static mdg_merkle_hash leaves[MAXLEAVES];

static void naive_mth(uint64_t lo, uint64_t hi, unsigned char out[32])
{
	unsigned char l[32], r[32];
	uint64_t k = 1;

	if (hi == lo) {
		mdg_merkle_empty_root(out);
		return;
	}
	if (hi - lo == 1) {
		memcpy(out, leaves[lo], 32);
		return;
	}
	while (k << 1 < hi - lo)
		k <<= 1;
	naive_mth(lo, lo + k, l);
	naive_mth(lo + k, hi, r);
	mdg_merkle_node_hash(l, r, out);
}

struct naive_src {
	uint64_t size; /* leaves that exist */
	unsigned reads;
};

static int naive_get(void *arg, uint64_t level, uint64_t index, unsigned char out[32])
{
	struct naive_src *s = arg;
	uint64_t lo = index << level, hi = (index + 1) << level;

	s->reads++;
	if (level >= 63 || hi > s->size)
		return -1; /* not a complete subtree of the tree */
	naive_mth(lo, hi, out);
	return 0;
}

static int failing_get(void *arg, uint64_t level, uint64_t index, unsigned char out[32])
{
	(void)arg;
	(void)level;
	(void)index;
	memset(out, 0, 32);
	return -1;
}

static void make_leaves(void)
{
	unsigned char content[16];
	size_t i;

	for (i = 0; i < MAXLEAVES; i++) {
		snprintf((char *)content, sizeof(content), "leaf %zu", i);
		mdg_merkle_leaf_hash(content, strlen((char *)content), leaves[i]);
	}
}

/* ---- the RFC 6962 vectors ---- */

static const char *const ct_leaves[] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
};
static const char *const ct_roots[] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void ct_setup(void)
{
	unsigned char content[16];
	size_t i;

	for (i = 0; i < 8; i++) {
		unhex(ct_leaves[i], content);
		mdg_merkle_leaf_hash(content, strlen(ct_leaves[i]) / 2, leaves[i]);
	}
}

START_TEST(rfc6962_roots)
{
	struct mdg_merkle_frontier f;
	struct naive_src src = { 8, 0 };
	unsigned char root[32];
	char err[256];
	uint64_t n;

	ct_setup();
	memset(&f, 0, sizeof(f));
	mdg_merkle_frontier_root(&f, root);
	ck_hash(root, ct_roots[0]);
	for (n = 1; n <= 8; n++) {
		ck_assert_int_eq(mdg_merkle_append(&f, leaves[n - 1], NULL, NULL), 0);
		mdg_merkle_frontier_root(&f, root);
		ck_hash(root, ct_roots[n]);
		ck_assert_int_eq(mdg_merkle_root(n, naive_get, &src, root, err, sizeof(err)), 0);
		ck_hash(root, ct_roots[n]);
	}
	ck_assert_int_eq(mdg_merkle_root(0, naive_get, &src, root, err, sizeof(err)), 0);
	ck_hash(root, ct_roots[0]);
}
END_TEST

static void check_proof(const mdg_merkle_hash *proof, size_t len, const char *const *want, size_t nwant)
{
	size_t i;

	ck_assert_uint_eq(len, nwant);
	for (i = 0; i < len; i++)
		ck_hash(proof[i], want[i]);
}

START_TEST(rfc6962_proofs)
{
	static const char *const inc0_8[] = {
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
	};
	static const char *const inc5_8[] = {
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	};
	static const char *const con2_8[] = {
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
	};
	static const char *const con6_8[] = {
		"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	};
	static const char *const con2_5[] = {
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	};
	struct naive_src src = { 8, 0 };
	mdg_merkle_hash proof[MDG_MERKLE_MAXPROOF];
	unsigned char r2[32], r5[32], r6[32], r8[32];
	size_t len;
	char err[256];

	ct_setup();
	unhex(ct_roots[2], r2);
	unhex(ct_roots[5], r5);
	unhex(ct_roots[6], r6);
	unhex(ct_roots[8], r8);
	ck_assert_int_eq(mdg_merkle_inclusion(0, 8, naive_get, &src, proof, &len, err, sizeof(err)), 0);
	check_proof(proof, len, inc0_8, 3);
	ck_assert(mdg_merkle_verify_inclusion(0, 8, leaves[0], proof, len, r8));
	ck_assert_int_eq(mdg_merkle_inclusion(5, 8, naive_get, &src, proof, &len, err, sizeof(err)), 0);
	check_proof(proof, len, inc5_8, 3);
	ck_assert(mdg_merkle_verify_inclusion(5, 8, leaves[5], proof, len, r8));
	ck_assert_int_eq(mdg_merkle_consistency(2, 8, naive_get, &src, proof, &len, err, sizeof(err)), 0);
	check_proof(proof, len, con2_8, 2);
	ck_assert(mdg_merkle_verify_consistency(2, 8, r2, r8, proof, len));
	ck_assert_int_eq(mdg_merkle_consistency(6, 8, naive_get, &src, proof, &len, err, sizeof(err)), 0);
	check_proof(proof, len, con6_8, 3);
	ck_assert(mdg_merkle_verify_consistency(6, 8, r6, r8, proof, len));
	src.size = 5;
	ck_assert_int_eq(mdg_merkle_consistency(2, 5, naive_get, &src, proof, &len, err, sizeof(err)), 0);
	check_proof(proof, len, con2_5, 2);
	ck_assert(mdg_merkle_verify_consistency(2, 5, r2, r5, proof, len));
	/* the size-1 tree: empty proof, root = the leaf */
	ck_assert_int_eq(mdg_merkle_inclusion(0, 1, naive_get, &src, proof, &len, err, sizeof(err)), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert(mdg_merkle_verify_inclusion(0, 1, leaves[0], proof, 0, leaves[0]));
}
END_TEST

START_TEST(frontier_vs_naive)
{
	struct mdg_merkle_frontier f;
	unsigned char a[32], b[32];
	uint64_t n;

	make_leaves();
	memset(&f, 0, sizeof(f));
	for (n = 0; n <= MAXLEAVES; n++) {
		mdg_merkle_frontier_root(&f, a);
		naive_mth(0, n, b);
		ck_assert_msg(memcmp(a, b, 32) == 0, "root of size %llu", (unsigned long long)n);
		if (n < MAXLEAVES)
			ck_assert_int_eq(mdg_merkle_append(&f, leaves[n], NULL, NULL), 0);
	}
	ck_assert_uint_eq(f.size, MAXLEAVES);
}
END_TEST

START_TEST(every_inclusion)
{
	struct naive_src src = { 0, 0 };
	mdg_merkle_hash proof[MDG_MERKLE_MAXPROOF];
	unsigned char root[32], bad[32];
	uint64_t n, i;
	size_t len;
	char err[256];

	make_leaves();
	for (n = 1; n <= 70; n++) {
		src.size = n;
		naive_mth(0, n, root);
		for (i = 0; i < n; i++) {
			ck_assert_int_eq(mdg_merkle_inclusion(i, n, naive_get, &src, proof, &len, err, sizeof(err)), 0);
			ck_assert_msg(mdg_merkle_verify_inclusion(i, n, leaves[i], proof, len, root),
				      "leaf %llu of %llu", (unsigned long long)i, (unsigned long long)n);
			/* wrong leaf, wrong index, an index past the size, a flipped bit,
			 * one hash short (another size may take the same path: leaf 0
			 * of 3 and of 4 have proofs of the same shape, and the root
			 * is what binds the size) */
			ck_assert(!mdg_merkle_verify_inclusion(i, n, leaves[(i + 1) % MAXLEAVES], proof, len, root));
			if (n > 1)
				ck_assert(!mdg_merkle_verify_inclusion((i + 1) % n, n, leaves[i], proof, len, root));
			ck_assert(!mdg_merkle_verify_inclusion(n, n, leaves[i], proof, len, root));
			if (len > 0) {
				proof[len - 1][7] ^= 1;
				ck_assert(!mdg_merkle_verify_inclusion(i, n, leaves[i], proof, len, root));
				proof[len - 1][7] ^= 1;
				ck_assert(!mdg_merkle_verify_inclusion(i, n, leaves[i], proof, len - 1, root));
			}
			memcpy(bad, root, 32);
			bad[0] ^= 0x80;
			ck_assert(!mdg_merkle_verify_inclusion(i, n, leaves[i], proof, len, bad));
		}
		ck_assert_int_eq(mdg_merkle_inclusion(n, n, naive_get, &src, proof, &len, err, sizeof(err)), -1);
		ck_assert_ptr_nonnull(strstr(err, "not in a tree"));
	}
}
END_TEST

START_TEST(every_consistency)
{
	struct naive_src src = { 0, 0 };
	mdg_merkle_hash proof[MDG_MERKLE_MAXPROOF];
	unsigned char rm[32], rn[32];
	uint64_t m, n;
	size_t len, i;
	char err[256];

	make_leaves();
	for (n = 0; n <= 70; n++) {
		src.size = n;
		naive_mth(0, n, rn);
		for (m = 0; m <= n; m++) {
			naive_mth(0, m, rm);
			ck_assert_int_eq(mdg_merkle_consistency(m, n, naive_get, &src, proof, &len, err, sizeof(err)),
					 0);
			ck_assert_msg(mdg_merkle_verify_consistency(m, n, rm, rn, proof, len),
				      "consistency %llu -> %llu", (unsigned long long)m, (unsigned long long)n);
			if (m == 0 || m == n) {
				ck_assert_uint_eq(len, 0);
				continue;
			}
			/* every hash matters; order matters; the sizes matter */
			for (i = 0; i < len; i++) {
				proof[i][3] ^= 0x80;
				ck_assert(!mdg_merkle_verify_consistency(m, n, rm, rn, proof, len));
				proof[i][3] ^= 0x80;
			}
			ck_assert(!mdg_merkle_verify_consistency(m, n, rm, rn, proof, len - 1));
			ck_assert(!mdg_merkle_verify_consistency(m, n, rn, rm, proof, len));
			ck_assert(!mdg_merkle_verify_consistency(n, m, rm, rn, proof, len));
			ck_assert(!mdg_merkle_verify_consistency(m, n, rm, rn, NULL, 0));
			if (m + 1 < n) {
				unsigned char r1[32];

				naive_mth(0, m + 1, r1);
				ck_assert(!mdg_merkle_verify_consistency(m + 1, n, r1, rn, proof, len));
			}
		}
		ck_assert_int_eq(mdg_merkle_consistency(n + 1, n, naive_get, &src, proof, &len, err, sizeof(err)), -1);
	}
	/* m = n: equal roots, empty proof */
	naive_mth(0, 5, rm);
	naive_mth(0, 6, rn);
	ck_assert(mdg_merkle_verify_consistency(5, 5, rm, rm, NULL, 0));
	ck_assert(!mdg_merkle_verify_consistency(5, 5, rm, rn, NULL, 0));
}
END_TEST

/* ---- a store that keeps what each append completes ---- */

struct stored {
	uint64_t count[MDG_MERKLE_LEVELS]; /* nodes kept per level, in index order */
	mdg_merkle_hash *level[MDG_MERKLE_LEVELS];
	unsigned reads;
};

static int stored_get(void *arg, uint64_t level, uint64_t index, unsigned char out[32])
{
	struct stored *s = arg;

	s->reads++;
	if (level >= MDG_MERKLE_LEVELS || index >= s->count[level])
		return -1;
	memcpy(out, s->level[level][index], 32);
	return 0;
}

START_TEST(stored_nodes)
{
	struct stored st;
	struct mdg_merkle_frontier f, g;
	struct naive_src src = { 0, 0 };
	mdg_merkle_hash done[MDG_MERKLE_LEVELS], p1[MDG_MERKLE_MAXPROOF], p2[MDG_MERKLE_MAXPROOF];
	unsigned char want[32], r1[32], r2[32];
	uint64_t n, i, total = 0, bits;
	unsigned nd, l, reads_max = 0;
	size_t len1, len2;
	char err[256];

	make_leaves();
	memset(&st, 0, sizeof(st));
	memset(&f, 0, sizeof(f));
	for (l = 0; l < 10; l++)
		ck_assert_ptr_nonnull(st.level[l] = calloc(MAXLEAVES, sizeof(mdg_merkle_hash)));
	ck_assert_uint_eq(mdg_merkle_completed(0), 1);
	ck_assert_uint_eq(mdg_merkle_completed(1), 2);
	ck_assert_uint_eq(mdg_merkle_completed(6), 1);
	ck_assert_uint_eq(mdg_merkle_completed(7), 4);
	ck_assert_uint_eq(mdg_merkle_completed((UINT64_C(1) << 63) - 1), 64);
	for (n = 0; n < MAXLEAVES; n++) {
		ck_assert_int_eq(mdg_merkle_append(&f, leaves[n], done, &nd), 0);
		ck_assert_uint_eq(nd, mdg_merkle_completed(n));
		src.size = n + 1;
		for (l = 0; l < nd; l++) {
			/* exactly the node (l, n >> l), and it is the next one of its level */
			naive_mth((n >> l) << l, ((n >> l) + 1) << l, want);
			ck_assert(memcmp(done[l], want, 32) == 0);
			ck_assert_uint_eq(st.count[l], n >> l);
			memcpy(st.level[l][st.count[l]++], done[l], 32);
		}
		total += nd;
		for (bits = 0, i = n + 1; i; i >>= 1)
			bits += i & 1;
		/* 2n - popcount(n) complete subtrees in a tree of n leaves */
		ck_assert_uint_eq(total, 2 * (n + 1) - bits);
		/* the frontier read back from the store */
		ck_assert_int_eq(mdg_merkle_frontier_load(&g, n + 1, stored_get, &st, err, sizeof(err)), 0);
		mdg_merkle_frontier_root(&g, r1);
		mdg_merkle_frontier_root(&f, r2);
		ck_assert(memcmp(r1, r2, 32) == 0);
	}
	/* proofs from the stored nodes equal those from the leaves, in O(log n)
	 * reads */
	src.size = MAXLEAVES;
	for (n = 1; n <= MAXLEAVES; n += 7) {
		for (i = 0; i < n; i += 3) {
			st.reads = 0;
			ck_assert_int_eq(mdg_merkle_inclusion(i, n, stored_get, &st, p1, &len1, err, sizeof(err)), 0);
			if (st.reads > reads_max)
				reads_max = st.reads;
			ck_assert_int_eq(mdg_merkle_inclusion(i, n, naive_get, &src, p2, &len2, err, sizeof(err)), 0);
			ck_assert_uint_eq(len1, len2);
			ck_assert(memcmp(p1, p2, len1 * 32) == 0);
			st.reads = 0;
			ck_assert_int_eq(mdg_merkle_consistency(i + 1, n, stored_get, &st, p1, &len1, err, sizeof(err)),
					 0);
			if (st.reads > reads_max)
				reads_max = st.reads;
			ck_assert_int_eq(mdg_merkle_consistency(i + 1, n, naive_get, &src, p2, &len2, err, sizeof(err)),
					 0);
			ck_assert_uint_eq(len1, len2);
			ck_assert(memcmp(p1, p2, len1 * 32) == 0);
		}
	}
	/* ceil(log2 300) = 9: a proof of 9 or 10 hashes, one of them perhaps an
	 * incomplete right edge of up to 8 nodes */
	ck_assert_uint_le(reads_max, 2 * 9 + 2);
	for (l = 0; l < 10; l++)
		free(st.level[l]);
}
END_TEST

START_TEST(source_failures)
{
	mdg_merkle_hash proof[MDG_MERKLE_MAXPROOF];
	struct mdg_merkle_frontier f;
	unsigned char root[32];
	size_t len = 99;
	char err[256];

	ck_assert_int_eq(mdg_merkle_inclusion(3, 10, failing_get, NULL, proof, &len, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not available"));
	ck_assert_int_eq(mdg_merkle_consistency(3, 10, failing_get, NULL, proof, &len, err, sizeof(err)), -1);
	ck_assert_int_eq(mdg_merkle_root(10, failing_get, NULL, root, err, sizeof(err)), -1);
	ck_assert_int_eq(mdg_merkle_frontier_load(&f, 10, failing_get, NULL, err, sizeof(err)), -1);
	/* the empty tree needs no read */
	ck_assert_int_eq(mdg_merkle_root(0, failing_get, NULL, root, err, sizeof(err)), 0);
	ck_hash(root, ct_roots[0]);
	ck_assert_int_eq(mdg_merkle_inclusion(0, 0, failing_get, NULL, proof, &len, err, sizeof(err)), -1);
	/* a full tree refuses a leaf */
	memset(&f, 0, sizeof(f));
	f.size = UINT64_MAX;
	ck_assert_int_eq(mdg_merkle_append(&f, root, NULL, NULL), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("merkle");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, rfc6962_roots);
	tcase_add_test(tc, rfc6962_proofs);
	tcase_add_test(tc, frontier_vs_naive);
	tcase_add_test(tc, every_inclusion);
	tcase_add_test(tc, every_consistency);
	tcase_add_test(tc, stored_nodes);
	tcase_add_test(tc, source_failures);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
