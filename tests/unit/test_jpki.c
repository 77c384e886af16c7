/* Unit tests: server/checks/jpki.c, on the holders of the project's test PKI
 * (MDG_MKPKI) and variants of them re-signed by their issuer's key. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "jpki.h"

static const char policies[][64] = { "1.2.392.200149.8.5.1.1.20" };
static char pki[2048];

static X509 *read_cert(const char *rel)
{
	char path[4096];
	FILE *f;
	X509 *x;

	snprintf(path, sizeof(path), "%s/%s", pki, rel);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(x);
	return x;
}

static EVP_PKEY *read_key(const char *rel)
{
	char path[4096];
	FILE *f;
	EVP_PKEY *k;

	snprintf(path, sizeof(path), "%s/%s", pki, rel);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(k);
	return k;
}

static void setup(void)
{
	const char *mkpki = getenv("MDG_MKPKI"), *tmp = getenv("MDG_TEST_TMP");
	char cmd[4200];

	ck_assert_msg(mkpki != NULL && access(mkpki, X_OK) == 0, "MDG_MKPKI is not set to the test PKI generator");
	snprintf(pki, sizeof(pki), "%s/jpki-XXXXXX", tmp != NULL ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(pki));
	snprintf(cmd, sizeof(cmd), "'%s' gen '%s' >/dev/null", mkpki, pki);
	ck_assert_int_eq(system(cmd), 0);
}

static int check(X509 *x, const char **why)
{
	struct mdg_facts f;

	*why = "";
	return mdg_jpki_check(x, policies, 1, &f, why);
}

START_TEST(profile_of_the_test_holders)
{
	static const struct {
		const char *holder;
		int ok;
		const char *why;
	} cases[] = {
		{ "valid-01", 1, NULL },
		{ "valid-ec", 1, NULL },
		{ "nofacts", 0, "" },
		{ "twonames", 0, "" },
		{ "badpolicy", 0, "policy" },
		{ "nokeyusage", 0, "keyUsage" },
		{ "unknowncrit", 0, "unknown critical" },
		{ "rsa1024", 0, "key" },
	};
	char rel[256];
	const char *why;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(rel, sizeof(rel), "holders/%s.cert.pem", cases[i].holder);
		X509 *x = read_cert(rel);
		int rc = check(x, &why);
		ck_assert_msg((rc == 0) == cases[i].ok, "%s: rc %d (%s)", cases[i].holder, rc, why);
		if (!cases[i].ok)
			ck_assert_msg(strstr(why, cases[i].why) != NULL, "%s: %s", cases[i].holder, why);
		X509_free(x);
	}
}
END_TEST

/* An extension twice is refused by our own rule (RFC 5280 4.2), whatever
 * flags the OpenSSL at hand computes for it: a non-critical subject key
 * identifier and a critical certificatePolicies added once more. */
START_TEST(extension_twice)
{
	static const int nids[] = { NID_subject_key_identifier, NID_certificate_policies, NID_key_usage };
	EVP_PKEY *ca = read_key("ca/jlis-g2.key.pem");
	const char *why;

	for (size_t i = 0; i < sizeof(nids) / sizeof(nids[0]); i++) {
		X509 *x = read_cert("holders/valid-01.cert.pem");
		int at = X509_get_ext_by_NID(x, nids[i], -1);

		ck_assert_int_ge(at, 0);
		X509_EXTENSION *copy = X509_EXTENSION_dup(X509_get_ext(x, at));
		ck_assert_int_eq(X509_add_ext(x, copy, -1), 1);
		X509_EXTENSION_free(copy);
		ck_assert_int_gt(X509_sign(x, ca, EVP_sha256()), 0);
		ck_assert_int_eq(check(x, &why), -1);
		ck_assert_msg(strcmp(why, "an extension appears twice") == 0, "nid %d: %s", nids[i], why);
		X509_free(x);
	}
	/* control: re-signed as it was, it passes */
	X509 *x = read_cert("holders/valid-01.cert.pem");
	ck_assert_int_gt(X509_sign(x, ca, EVP_sha256()), 0);
	ck_assert_msg(check(x, &why) == 0, "%s", why);
	X509_free(x);
	EVP_PKEY_free(ca);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jpki");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, profile_of_the_test_holders);
	tcase_add_test(tc, extension_twice);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
