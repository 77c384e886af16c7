#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nonce.h"

static void key_path(char *p, size_t n, const char *tag)
{
	snprintf(p, n, "%s/nonce_%s_%d.key", getenv("MDG_TEST_TMP") ? getenv("MDG_TEST_TMP") : "/tmp", tag,
		 (int)getpid());
	unlink(p);
}

START_TEST(key_created_0600_and_reloaded)
{
	struct mdg_nonce_key a, b;
	char p[256], err[256];
	int created;
	struct stat st;

	key_path(p, sizeof(p), "create");
	ck_assert_int_eq(mdg_nonce_key_load(&a, p, &created, err, sizeof(err)), 0);
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(mdg_nonce_key_load(&b, p, &created, err, sizeof(err)), 0);
	ck_assert_int_eq(created, 0);
	ck_assert_mem_eq(a.key, b.key, sizeof(a.key));
	chmod(p, 0644);
	ck_assert_int_eq(mdg_nonce_key_load(&b, p, &created, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "chmod"));
	unlink(p);
}
END_TEST

START_TEST(issue_and_check)
{
	struct mdg_nonce_key k, other;
	char n[MDG_NONCE_TEXT_LEN];
	time_t exp;

	memset(k.key, 7, sizeof(k.key));
	memset(other.key, 8, sizeof(other.key));
	ck_assert_int_eq(mdg_nonce_issue(&k, 1000, 300, n, &exp), 0);
	ck_assert_int_eq(exp, 1300);
	ck_assert_uint_eq(strlen(n), 75);
	ck_assert_int_eq(mdg_nonce_check(&k, n, 1000), 1);
	ck_assert_int_eq(mdg_nonce_check(&k, n, 1300), 1);
	ck_assert_int_eq(mdg_nonce_check(&k, n, 1301), 0);
	ck_assert_int_eq(mdg_nonce_check(&other, n, 1000), 0);
	/* every single-character change is refused */
	for (size_t i = 0; i < strlen(n); i++) {
		char m[MDG_NONCE_TEXT_LEN];
		memcpy(m, n, sizeof(m));
		m[i] = m[i] == 'A' ? 'B' : 'A';
		ck_assert_int_eq(mdg_nonce_check(&k, m, 1000), 0);
	}
	ck_assert_int_eq(mdg_nonce_check(&k, "", 1000), 0);
	ck_assert_int_eq(mdg_nonce_check(&k, "not a nonce", 1000), 0);
	ck_assert_int_eq(mdg_nonce_check(&k, NULL, 1000), 0);
	char longer[200];
	snprintf(longer, sizeof(longer), "%sAA", n);
	ck_assert_int_eq(mdg_nonce_check(&k, longer, 1000), 0);
}
END_TEST

START_TEST(nonces_differ)
{
	struct mdg_nonce_key k;
	char a[MDG_NONCE_TEXT_LEN], b[MDG_NONCE_TEXT_LEN];
	time_t exp;

	memset(k.key, 1, sizeof(k.key));
	mdg_nonce_issue(&k, 5, 5, a, &exp);
	mdg_nonce_issue(&k, 5, 5, b, &exp);
	ck_assert_str_ne(a, b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nonce");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, key_created_0600_and_reloaded);
	tcase_add_test(tc, issue_and_check);
	tcase_add_test(tc, nonces_differ);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
