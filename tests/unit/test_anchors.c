/* Unit tests: server/pki/anchors.c */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anchors.h"
#include "testpki_store.h"

static char tmpdir[4096];

static void mk_tmpdir(void)
{
	const char *base = getenv("MDG_TEST_TMP");

	snprintf(tmpdir, sizeof(tmpdir), "%s/anchors-XXXXXX", base != NULL ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void write_pem(const char *dir, const char *name, X509 *a, X509 *b)
{
	char path[4200];
	char *pem = tp_pem_append(NULL, a);

	if (b != NULL)
		pem = tp_pem_append(pem, b);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_int_eq(tp_write_file(path, pem, strlen(pem)), 0);
	free(pem);
}

START_TEST(pem_two_generations)
{
	struct tp_ca g1, g2, other;
	struct mdg_anchors a;
	char err[512], *pem;
	size_t idx[4];

	tp_ca_make(&g1, "Gen CA", -8 * 365 * TP_DAY, 2 * 365 * TP_DAY, 1, 1);
	tp_ca_make(&g2, "Gen CA", -2 * 365 * TP_DAY, 8 * 365 * TP_DAY, 1, 2);
	tp_ca_make(&other, "Other CA", -TP_DAY, TP_DAY, 1, 3);
	pem = tp_pem_append(tp_pem_append(tp_pem_append(NULL, g1.cert), other.cert), g2.cert);
	ck_assert_int_eq(mdg_anchors_load_pem(&a, pem, strlen(pem), err, sizeof(err)), 0);
	ck_assert_uint_eq(a.n, 3);
	ck_assert_str_eq(a.v[0].subject_text, "OU=Gen CA,O=JPKI,C=JP");
	ck_assert_ptr_nonnull(a.v[0].skid);
	ck_assert_ptr_eq(a.v[0].key, X509_get0_pubkey(a.v[0].cert));
	ck_assert_int_gt(a.v[0].subject_len, 0);
	ck_assert(a.v[0].not_before < time(NULL) && a.v[0].not_after > time(NULL));
	ck_assert_uint_eq(mdg_anchors_match(&a, X509_get_subject_name(g2.cert), idx, 4), 2);
	ck_assert_uint_eq(idx[0], 0);
	ck_assert_uint_eq(idx[1], 2);
	ck_assert_uint_eq(mdg_anchors_match(&a, X509_get_subject_name(g2.cert), idx, 1), 1);
	ck_assert_uint_eq(mdg_anchors_names(&a, idx, 4), 2);
	ck_assert_uint_eq(idx[0], 0);
	ck_assert_uint_eq(idx[1], 1);
	mdg_anchors_free(&a);
	ck_assert_uint_eq(a.n, 0);
	free(pem);
	tp_ca_free(&g1);
	tp_ca_free(&g2);
	tp_ca_free(&other);
}
END_TEST

START_TEST(dir_good)
{
	struct tp_ca g1, g2, t;
	struct mdg_anchors a;
	char err[512], path[4200];

	mk_tmpdir();
	tp_ca_make(&g1, "Gen CA", -TP_DAY, TP_DAY, 1, 1);
	tp_ca_make(&g2, "Gen CA", -TP_DAY, TP_DAY, 1, 2);
	tp_ca_make(&t, "Tokyo-to", -TP_DAY, TP_DAY, 1, 3);
	write_pem(tmpdir, "b-gens.pem", g1.cert, g2.cert);
	write_pem(tmpdir, "a-tokyo.crt", t.cert, NULL);
	snprintf(path, sizeof(path), "%s/README.txt", tmpdir);
	ck_assert_int_eq(tp_write_file(path, "not a cert", 10), 0);
	ck_assert_msg(mdg_anchors_load_dir(&a, tmpdir, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(a.n, 3);
	/* sorted by file name: a-tokyo.crt first */
	ck_assert_str_eq(a.v[0].subject_text, "OU=Tokyo-to,O=JPKI,C=JP");
	ck_assert_ptr_nonnull(strstr(a.v[1].file, "b-gens.pem"));
	mdg_anchors_free(&a);
	tp_ca_free(&g1);
	tp_ca_free(&g2);
	tp_ca_free(&t);
}
END_TEST

START_TEST(dir_empty)
{
	struct mdg_anchors a;
	char err[512];

	mk_tmpdir();
	ck_assert_int_eq(mdg_anchors_load_dir(&a, tmpdir, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "holds no"));
	ck_assert_uint_eq(a.n, 0);
	ck_assert_int_eq(mdg_anchors_load_dir(&a, "/nonexistent/anchors", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/anchors"));
}
END_TEST

START_TEST(dir_not_ca)
{
	struct tp_ca good, leaf;
	struct mdg_anchors a;
	char err[512];

	mk_tmpdir();
	tp_ca_make(&good, "Gen CA", -TP_DAY, TP_DAY, 1, 1);
	tp_ca_make(&leaf, "Leaf", -TP_DAY, TP_DAY, 0, 2);
	write_pem(tmpdir, "a.pem", good.cert, NULL);
	write_pem(tmpdir, "leaf.pem", leaf.cert, NULL);
	ck_assert_int_eq(mdg_anchors_load_dir(&a, tmpdir, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "leaf.pem") != NULL && strstr(err, "not a CA") != NULL, "%s", err);
	ck_assert_uint_eq(a.n, 0);
	ck_assert_ptr_null(a.v);
	tp_ca_free(&good);
	tp_ca_free(&leaf);
}
END_TEST

START_TEST(not_self_signed_or_garbage)
{
	struct tp_ca ca, other;
	struct mdg_anchors a;
	char err[512], *pem;
	const char *garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

	tp_ca_make(&ca, "Gen CA", -TP_DAY, TP_DAY, 1, 1);
	tp_ca_make(&other, "Other", -TP_DAY, TP_DAY, 1, 2);
	/* re-sign with another key: subject == issuer, signature wrong */
	X509_sign(ca.cert, other.key, EVP_sha256());
	pem = tp_pem_append(NULL, ca.cert);
	ck_assert_int_eq(mdg_anchors_load_pem(&a, pem, strlen(pem), err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "self-sign") != NULL || strstr(err, "not self-signed") != NULL, "%s", err);
	ck_assert_int_eq(mdg_anchors_load_pem(&a, garbage, strlen(garbage), err, sizeof(err)), -1);
	ck_assert_int_eq(mdg_anchors_load_pem(&a, "hello", 5, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "no PEM certificate"));
	free(pem);
	tp_ca_free(&ca);
	tp_ca_free(&other);
}
END_TEST

/* A certificate whose tbsCertificate says signature alg inner and whose
 * outer signatureAlgorithm says outer, signed with outer's digest. */
static X509 *cert_with_outer_alg(const struct tp_ca *ca, int outer_nid, const EVP_MD *md)
{
	unsigned char *tbs = NULL, *alg = NULL, sig[256], *der, *w;
	const unsigned char *p;
	size_t siglen = sizeof(sig), body, total;
	int tbs_len, alg_len;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	X509_ALGOR *a = X509_ALGOR_new();
	X509 *x;

	tbs_len = i2d_re_X509_tbs(ca->cert, &tbs);
	ck_assert_int_gt(tbs_len, 0);
	X509_ALGOR_set0(a, OBJ_nid2obj(outer_nid), V_ASN1_UNDEF, NULL);
	alg_len = i2d_X509_ALGOR(a, &alg);
	ck_assert_int_gt(alg_len, 0);
	ck_assert_int_eq(EVP_DigestSignInit(ctx, NULL, md, NULL, ca->key), 1);
	ck_assert_int_eq(EVP_DigestSign(ctx, sig, &siglen, tbs, (size_t)tbs_len), 1);
	ck_assert_uint_lt(siglen, 120);
	/* SEQUENCE { tbs, alg, BIT STRING { 0 unused bits, sig } } */
	body = (size_t)tbs_len + (size_t)alg_len + 3 + siglen;
	ck_assert_uint_lt(body, 65536);
	total = 4 + body;
	w = der = malloc(total);
	*w++ = 0x30;
	*w++ = 0x82;
	*w++ = (unsigned char)(body >> 8);
	*w++ = (unsigned char)body;
	memcpy(w, tbs, (size_t)tbs_len);
	w += tbs_len;
	memcpy(w, alg, (size_t)alg_len);
	w += alg_len;
	*w++ = 0x03;
	*w++ = (unsigned char)(siglen + 1);
	*w++ = 0x00;
	memcpy(w, sig, siglen);
	p = der;
	x = d2i_X509(NULL, &p, (long)total);
	ck_assert_ptr_nonnull(x);
	free(der);
	OPENSSL_free(tbs);
	OPENSSL_free(alg);
	X509_ALGOR_free(a);
	EVP_MD_CTX_free(ctx);
	return x;
}

/* RFC 5280 4.1.1.2: the outer signatureAlgorithm must equal the signature
 * field inside tbsCertificate. Our rule, checked by us: whatever
 * X509_verify of the OpenSSL at hand does with such a certificate. */
START_TEST(outer_algorithm_differs)
{
	struct tp_ca ca;
	struct mdg_anchors a;
	char err[512], *pem;
	X509 *x;

	tp_ca_make(&ca, "Gen CA", -TP_DAY, TP_DAY, 1, 1);
	/* control: the same construction with the same algorithm loads */
	x = cert_with_outer_alg(&ca, NID_ecdsa_with_SHA256, EVP_sha256());
	pem = tp_pem_append(NULL, x);
	ck_assert_msg(mdg_anchors_load_pem(&a, pem, strlen(pem), err, sizeof(err)) == 0, "%s", err);
	mdg_anchors_free(&a);
	free(pem);
	X509_free(x);
	/* inner ecdsa-with-SHA256, outer ecdsa-with-SHA384, signed with SHA-384 */
	x = cert_with_outer_alg(&ca, NID_ecdsa_with_SHA384, EVP_sha384());
	pem = tp_pem_append(NULL, x);
	ck_assert_int_eq(mdg_anchors_load_pem(&a, pem, strlen(pem), err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "signatureAlgorithm differs") != NULL, "%s", err);
	free(pem);
	X509_free(x);
	tp_ca_free(&ca);
}
END_TEST

static Suite *anchors_suite(void)
{
	Suite *s = suite_create("anchors");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, pem_two_generations);
	tcase_add_test(tc, dir_good);
	tcase_add_test(tc, dir_empty);
	tcase_add_test(tc, dir_not_ca);
	tcase_add_test(tc, not_self_signed_or_garbage);
	tcase_add_test(tc, outer_algorithm_differs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(anchors_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
