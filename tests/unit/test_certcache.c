/* Unit tests: server/pki/certcache.c. Keys are made to land in chosen shards
 * and sets (the cache indexes by the key's first 8 bytes); X509 frees are
 * counted with an ex_data free callback, ASan checks the rest. */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "certcache.h"
#include "testpki_store.h"

#define SHARDS 64 /* as in certcache.c */

static int ex_idx = -1;
static int frees;
static pthread_mutex_t frees_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	if (ptr != NULL) {
		pthread_mutex_lock(&frees_lock);
		frees++;
		pthread_mutex_unlock(&frees_lock);
	}
}

static struct tp_ca ca;

static void setup(void)
{
	if (ex_idx < 0)
		ex_idx = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_X509, 0, NULL, NULL, NULL, on_free);
	tp_ca_make(&ca, "certcache", -TP_DAY, TP_DAY, 1, 7);
	frees = 0;
}

static void teardown(void)
{
	tp_ca_free(&ca);
}

/* A distinct X509 object (a copy of the test certificate) whose free is counted. */
static X509 *counted(void)
{
	X509 *x = X509_dup(ca.cert);

	ck_assert_ptr_nonnull(x);
	X509_set_ex_data(x, ex_idx, (void *)1);
	return x;
}

/* Key number i of shard `shard`, set `set` (of `sets`). */
static void key(unsigned char k[32], unsigned shard, uint64_t set, uint64_t sets, uint64_t i)
{
	uint64_t h = (set + sets * i) * SHARDS + shard;

	memset(k, 0, 32);
	memcpy(k, &h, sizeof(h));
	memcpy(k + 8, &i, sizeof(i));
}

/* Offers x twice: the first offer of a key only marks it seen. */
static void keep(struct mdg_certcache *c, const unsigned char *k, X509 *x)
{
	mdg_certcache_put_x509(c, k, x);
	mdg_certcache_put_x509(c, k, x);
}

START_TEST(hit_and_miss)
{
	struct mdg_certcache *c = mdg_certcache_new(1000);
	unsigned char k1[32], k2[32];
	size_t anchor = 99;

	key(k1, 3, 0, 2, 1);
	key(k2, 3, 0, 2, 2);
	ck_assert_int_eq(mdg_certcache_get(c, k1, &anchor), 0);
	ck_assert_ptr_null(mdg_certcache_get_x509(c, k1));
	mdg_certcache_put(c, k1, 5);
	ck_assert_int_eq(mdg_certcache_get(c, k1, &anchor), 1);
	ck_assert_uint_eq(anchor, 5);
	ck_assert_int_eq(mdg_certcache_get(c, k2, &anchor), 0);
	/* verified but not parsed yet: no X509 */
	ck_assert_ptr_null(mdg_certcache_get_x509(c, k1));

	X509 *x = counted();
	mdg_certcache_put_x509(c, k1, x);
	ck_assert_ptr_null(mdg_certcache_get_x509(c, k1)); /* seen once: not kept */
	mdg_certcache_put_x509(c, k1, x);
	X509 *got = mdg_certcache_get_x509(c, k1);
	ck_assert_ptr_eq(got, x);
	X509_free(got);
	/* one entry holds both */
	ck_assert_int_eq(mdg_certcache_get(c, k1, &anchor), 1);
	ck_assert_uint_eq(anchor, 5);
	/* parsed but not verified: no anchor */
	keep(c, k2, x);
	ck_assert_int_eq(mdg_certcache_get(c, k2, &anchor), 0);
	got = mdg_certcache_get_x509(c, k2);
	ck_assert_ptr_eq(got, x);
	X509_free(got);
	X509_free(x);
	ck_assert_int_eq(frees, 0); /* the cache still holds it */
	mdg_certcache_free(c);
	ck_assert_int_eq(frees, 1);
	/* a NULL cache is always a miss */
	ck_assert_ptr_null(mdg_certcache_get_x509(NULL, k1));
	keep(NULL, k1, ca.cert);
	ck_assert_int_eq(mdg_certcache_get(NULL, k1, &anchor), 0);
}
END_TEST

START_TEST(set_lru)
{
	/* capacity 0: one set of 8 entries per shard */
	struct mdg_certcache *c = mdg_certcache_new_limits(0, 64 * 8);
	unsigned char k[10][32];
	size_t anchor;

	for (int i = 0; i < 10; i++)
		key(k[i], 9, 0, 1, (uint64_t)i);
	for (int i = 0; i < 8; i++) {
		X509 *x = counted();
		keep(c, k[i], x);
		X509_free(x);
		mdg_certcache_put(c, k[i], (size_t)i);
	}
	/* k[0] used again: k[1] is now the least recently used */
	ck_assert_int_eq(mdg_certcache_get(c, k[0], &anchor), 1);
	mdg_certcache_put(c, k[8], 8);
	ck_assert_int_eq(frees, 1); /* k[1]'s X509 went with its entry */
	ck_assert_int_eq(mdg_certcache_get(c, k[1], &anchor), 0);
	ck_assert_ptr_null(mdg_certcache_get_x509(c, k[1]));
	ck_assert_int_eq(mdg_certcache_get(c, k[0], &anchor), 1);
	ck_assert_uint_eq(anchor, 0);
	X509 *x0 = mdg_certcache_get_x509(c, k[0]);
	ck_assert_ptr_nonnull(x0);
	X509_free(x0);
	ck_assert_int_eq(mdg_certcache_get(c, k[8], &anchor), 1);
	ck_assert_uint_eq(anchor, 8);
	mdg_certcache_put(c, k[9], 9);
	ck_assert_int_eq(frees, 2); /* k[2] now */
	mdg_certcache_free(c);
	ck_assert_int_eq(frees, 8);
}
END_TEST

START_TEST(parsed_budget)
{
	/* many entries, one parsed certificate per shard */
	struct mdg_certcache *c = mdg_certcache_new_limits(56 * 64, 1); /* 8 sets a shard */
	unsigned char k[40][32];
	size_t anchor;

	for (int i = 0; i < 40; i++) {
		key(k[i], 17, (uint64_t)i % 8, 8, (uint64_t)i);
		mdg_certcache_put(c, k[i], (size_t)i);
		X509 *x = counted();
		keep(c, k[i], x);
		X509_free(x);
		ck_assert_int_eq(frees, i); /* the previous one dropped */
	}
	X509 *x = mdg_certcache_get_x509(c, k[39]);
	ck_assert_ptr_nonnull(x);
	X509_free(x);
	ck_assert_ptr_null(mdg_certcache_get_x509(c, k[38]));
	/* the verified anchors stay */
	for (int i = 0; i < 40; i++) {
		ck_assert_int_eq(mdg_certcache_get(c, k[i], &anchor), 1);
		ck_assert_uint_eq(anchor, (size_t)i);
	}
	/* a shard with no budget keeps none */
	struct mdg_certcache *none = mdg_certcache_new_limits(100, 0);
	keep(none, k[0], ca.cert);
	ck_assert_ptr_null(mdg_certcache_get_x509(none, k[0]));
	mdg_certcache_free(none);
	mdg_certcache_free(c);
	ck_assert_int_eq(frees, 40);
}
END_TEST

START_TEST(info_with_x509)
{
	/* one parsed certificate per shard: the info goes with its X509 */
	struct mdg_certcache *c = mdg_certcache_new_limits(56 * 64, 1);
	unsigned char k[2][32];
	char info[16] = "facts of k0", other[16] = "something else", got[16];

	key(k[0], 21, 0, 8, 0);
	key(k[1], 21, 1, 8, 1);
	/* nothing kept without an X509 held for the key */
	mdg_certcache_put(c, k[0], 3);
	mdg_certcache_put_info(c, k[0], info, sizeof(info));
	ck_assert_int_eq(mdg_certcache_get_info(c, k[0], got, sizeof(got)), 0);
	X509 *x = counted();
	keep(c, k[0], x);
	X509_free(x);
	mdg_certcache_put_info(c, k[0], info, sizeof(info));
	memset(got, 0, sizeof(got));
	ck_assert_int_eq(mdg_certcache_get_info(c, k[0], got, sizeof(got)), 1);
	ck_assert_mem_eq(got, info, sizeof(info));
	/* a second copy does not replace the first; another size is a miss */
	mdg_certcache_put_info(c, k[0], other, sizeof(other));
	ck_assert_int_eq(mdg_certcache_get_info(c, k[0], got, sizeof(got)), 1);
	ck_assert_mem_eq(got, info, sizeof(info));
	ck_assert_int_eq(mdg_certcache_get_info(c, k[0], got, 8), 0);
	/* k1's X509 takes the shard's budget: k0's X509 and info are dropped */
	x = counted();
	keep(c, k[1], x);
	X509_free(x);
	ck_assert_int_eq(frees, 1);
	ck_assert_int_eq(mdg_certcache_get_info(c, k[0], got, sizeof(got)), 0);
	size_t anchor;
	ck_assert_int_eq(mdg_certcache_get(c, k[0], &anchor), 1); /* the anchor stays */
	mdg_certcache_put_info(c, k[1], other, sizeof(other));
	ck_assert_int_eq(mdg_certcache_get_info(NULL, k[1], got, sizeof(got)), 0);
	mdg_certcache_put_info(NULL, k[1], other, sizeof(other));
	mdg_certcache_free(c); /* frees k1's info too (ASan) */
	ck_assert_int_eq(frees, 2);
}
END_TEST

START_TEST(clock_eviction)
{
	/* two parsed per shard: the oldest not used since the hand passed goes */
	struct mdg_certcache *c = mdg_certcache_new_limits(56 * 64, 64 * 2);
	unsigned char k[4][32];

	for (int i = 0; i < 4; i++)
		key(k[i], 40, 0, 8, (uint64_t)i);
	for (int i = 0; i < 3; i++) {
		X509 *x = counted();
		keep(c, k[i], x);
		X509_free(x);
	}
	ck_assert_int_eq(frees, 1);
	ck_assert_ptr_null(mdg_certcache_get_x509(c, k[0]));
	X509 *x = counted();
	keep(c, k[3], x); /* k[1]: its reference bit was cleared */
	X509_free(x);
	ck_assert_int_eq(frees, 2);
	ck_assert_ptr_null(mdg_certcache_get_x509(c, k[1]));
	for (int i = 2; i < 4; i++) {
		X509 *h = mdg_certcache_get_x509(c, k[i]);
		ck_assert_ptr_nonnull(h);
		X509_free(h);
	}
	mdg_certcache_free(c);
	ck_assert_int_eq(frees, 4);
}
END_TEST

#define THREADS 8
#define KEYS 600
#define OPS 20000

static struct mdg_certcache *shared;
static X509 *pool[7];

static void *worker(void *arg)
{
	uint64_t seed = (uint64_t)(uintptr_t)arg * 2654435761u + 1;
	long bad = 0;

	for (int op = 0; op < OPS; op++) {
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		uint64_t i = (seed >> 33) % KEYS;
		unsigned char k[32];
		size_t anchor;
		X509 *x;

		key(k, (unsigned)(i % SHARDS), i / SHARDS, 4, i);
		switch ((seed >> 20) % 4) {
		case 0:
			mdg_certcache_put(shared, k, (size_t)i);
			break;
		case 1:
			if (mdg_certcache_get(shared, k, &anchor) && anchor != i)
				bad++;
			break;
		case 2:
			mdg_certcache_put_x509(shared, k, pool[i % 7]);
			break;
		default:
			if ((x = mdg_certcache_get_x509(shared, k)) != NULL) {
				if (x != pool[i % 7])
					bad++;
				X509_free(x);
			}
		}
	}
	return (void *)(intptr_t)bad;
}

START_TEST(concurrent)
{
	pthread_t t[THREADS];

	/* small enough that entries and X509s are evicted all the time */
	shared = mdg_certcache_new_limits(256, 128);
	for (int i = 0; i < 7; i++)
		pool[i] = counted();
	for (uintptr_t i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker, (void *)i), 0);
	for (int i = 0; i < THREADS; i++) {
		void *bad;
		pthread_join(t[i], &bad);
		ck_assert_ptr_null(bad);
	}
	mdg_certcache_free(shared);
	ck_assert_int_eq(frees, 0); /* the pool's own references remain */
	for (int i = 0; i < 7; i++)
		X509_free(pool[i]);
	ck_assert_int_eq(frees, 7);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("certcache");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, hit_and_miss);
	tcase_add_test(tc, set_lru);
	tcase_add_test(tc, parsed_budget);
	tcase_add_test(tc, info_with_x509);
	tcase_add_test(tc, clock_eviction);
	tcase_add_test(tc, concurrent);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
