#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "der.h"

/* the test PKI of MDG_MKPKI, made once in main */
static char pki[2048];

START_TEST(good_der)
{
	static const unsigned char seq[] = {0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0x41};
	static const unsigned char nested[] = {0x30, 0x05, 0xa0, 0x03, 0x02, 0x01, 0x01};

	ck_assert_int_eq(mdg_der_check(seq, sizeof(seq)), 0);
	ck_assert_int_eq(mdg_der_check(nested, sizeof(nested)), 0);
}
END_TEST

START_TEST(long_form_length)
{
	unsigned char buf[4 + 200];

	buf[0] = 0x30;
	buf[1] = 0x81;
	buf[2] = 200 - 1 + 1; /* 200 bytes of content */
	buf[3] = 0x04;
	memset(buf + 3, 0, 200);
	buf[3] = 0x04;
	buf[4] = 0x81;
	buf[5] = 197;
	ck_assert_int_eq(mdg_der_check(buf, 3 + 200), 0);
	/* the same length in a non-minimal two-byte form */
	unsigned char nm[] = {0x30, 0x82, 0x00, 0x03, 0x02, 0x01, 0x01};
	ck_assert_int_eq(mdg_der_check(nm, sizeof(nm)), -1);
	unsigned char short_as_long[] = {0x30, 0x81, 0x03, 0x02, 0x01, 0x01};
	ck_assert_int_eq(mdg_der_check(short_as_long, sizeof(short_as_long)), -1);
}
END_TEST

START_TEST(bad_der)
{
	static const unsigned char indefinite[] = {0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00};
	static const unsigned char truncated[] = {0x30, 0x06, 0x02, 0x01, 0x05};
	static const unsigned char trailing[] = {0x30, 0x03, 0x02, 0x01, 0x05, 0x00};
	static const unsigned char lying_child[] = {0x30, 0x03, 0x02, 0x05, 0x05};
	static const unsigned char constructed_octets[] = {0x30, 0x05, 0x24, 0x03, 0x04, 0x01, 0x41};
	static const unsigned char primitive_top[] = {0x02, 0x01, 0x05};
	static const unsigned char huge_len[] = {0x30, 0x84, 0xff, 0xff, 0xff, 0xff};

	ck_assert_int_eq(mdg_der_check(indefinite, sizeof(indefinite)), -1);
	ck_assert_int_eq(mdg_der_check(truncated, sizeof(truncated)), -1);
	ck_assert_int_eq(mdg_der_check(trailing, sizeof(trailing)), -1);
	ck_assert_int_eq(mdg_der_check(lying_child, sizeof(lying_child)), -1);
	ck_assert_int_eq(mdg_der_check(constructed_octets, sizeof(constructed_octets)), -1);
	ck_assert_int_eq(mdg_der_check(primitive_top, sizeof(primitive_top)), -1);
	ck_assert_int_eq(mdg_der_check(huge_len, sizeof(huge_len)), -1);
	ck_assert_int_eq(mdg_der_check(NULL, 0), -1);
	ck_assert_int_eq(mdg_der_check((const unsigned char *)"", 0), -1);
}
END_TEST

START_TEST(deep_nesting_refused)
{
	unsigned char buf[2 * 200];
	size_t n = 100;

	for (size_t i = 0; i < n; i++) {
		buf[2 * i] = 0x30;
		buf[2 * i + 1] = (unsigned char)(2 * (n - i - 1));
	}
	ck_assert_int_eq(mdg_der_check(buf, 2 * n), -1);
}
END_TEST

START_TEST(pem)
{
	static const char text[] = "-----BEGIN CMS-----\nMAMCAQU=\n-----END CMS-----\n";
	static const char wrong[] = "-----BEGIN CERTIFICATE-----\nMAMCAQU=\n-----END CERTIFICATE-----\n";
	unsigned char *der = NULL;
	size_t len = 0;

	ck_assert_int_eq(mdg_looks_like_pem((const unsigned char *)text, strlen(text)), 1);
	ck_assert_int_eq(mdg_pem_cms_decode((const unsigned char *)text, strlen(text), &der, &len), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_int_eq(der[0], 0x30);
	free(der);
	ck_assert_int_eq(mdg_pem_cms_decode((const unsigned char *)wrong, strlen(wrong), &der, &len), -1);
	ck_assert_int_eq(mdg_looks_like_pem((const unsigned char *)"\x30\x03", 2), 0);
}
END_TEST

/* --- mdg_der_split_cert ------------------------------------------------ */

static void load_holder(const char *name, X509 **cert, EVP_PKEY **key)
{
	char path[2300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/holders/%s.cert.pem", pki, name);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_ptr_nonnull(*cert = PEM_read_X509(f, NULL, NULL, NULL));
	fclose(f);
	if (key == NULL)
		return;
	snprintf(path, sizeof(path), "%s/holders/%s.key.pem", pki, name);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_ptr_nonnull(*key = PEM_read_PrivateKey(f, NULL, NULL, NULL));
	fclose(f);
}

/* A request as `openssl cms -sign -nodetach -binary -outform DER` makes it,
 * signed by holder; extra certificates added after signing (NULL: none);
 * nocerts: without the signer's certificate. Returns the DER (free()). */
static unsigned char *sign_request(const char *holder, X509 *extra, int nocerts, size_t *len)
{
	static const char form[] = "{\"procedure\":\"validity-check\"}";
	X509 *cert;
	EVP_PKEY *key;
	BIO *in = BIO_new_mem_buf(form, (int)strlen(form));
	unsigned char *der = NULL, *out;
	int n;

	load_holder(holder, &cert, &key);
	CMS_ContentInfo *cms = CMS_sign(cert, key, NULL, in, CMS_BINARY | (nocerts ? CMS_NOCERTS : 0));
	ck_assert_ptr_nonnull(cms);
	if (extra != NULL)
		ck_assert_int_eq(CMS_add1_cert(cms, extra), 1);
	ck_assert_int_gt(n = i2d_CMS_ContentInfo(cms, &der), 0);
	ck_assert_ptr_nonnull(out = malloc((size_t)n));
	memcpy(out, der, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	X509_free(cert);
	EVP_PKEY_free(key);
	return out;
}

/* 1 if the CMS's one signer verifies with the certificate the CMS holds. */
static int signer_verifies(CMS_ContentInfo *cms)
{
	STACK_OF(X509) *certs = CMS_get1_certs(cms);
	CMS_SignerInfo *si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	int ok = sk_X509_num(certs) == 1 && CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs, 0)) == 0;

	if (ok) {
		CMS_SignerInfo_set1_signer_cert(si, sk_X509_value(certs, 0));
		ok = CMS_SignerInfo_verify(si) == 1;
	}
	sk_X509_pop_free(certs, X509_free);
	ERR_clear_error();
	return ok;
}

/* Splits der, checks the parts, reassembles them as request.c does and
 * returns whether the signer verifies; *same: the reassembled CMS encodes
 * to der again. */
static int split_and_verify(const unsigned char *der, size_t len, int *same)
{
	const unsigned char *cert = NULL, *p;
	unsigned char *rest = NULL, *re = NULL;
	size_t cert_len = 0, rest_len = 0;

	ck_assert_int_eq(mdg_der_check(der, len), 0);
	ck_assert_int_eq(mdg_der_split_cert(der, len, &cert, &cert_len, &rest, &rest_len), 0);
	ck_assert(cert > der && cert + cert_len <= der + len);
	ck_assert_uint_lt(rest_len, len - cert_len);
	ck_assert_int_eq(mdg_der_check(rest, rest_len), 0);
	/* the certificate is a whole X509 */
	p = cert;
	X509 *x = d2i_X509(NULL, &p, (long)cert_len);
	ck_assert_ptr_nonnull(x);
	ck_assert(p == cert + cert_len);
	/* the rest is the same SignedData, without certificates */
	p = rest;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)rest_len);
	ck_assert_ptr_nonnull(cms);
	ck_assert(p == rest + rest_len);
	STACK_OF(X509) *none = CMS_get1_certs(cms);
	ck_assert_int_le(sk_X509_num(none), 0);	/* NULL when there are none */
	sk_X509_pop_free(none, X509_free);
	ck_assert_int_eq(CMS_add1_cert(cms, x), 1);
	int n = i2d_CMS_ContentInfo(cms, &re);
	*same = n > 0 && (size_t)n == len && memcmp(re, der, len) == 0;
	int ok = signer_verifies(cms);
	OPENSSL_free(re);
	CMS_ContentInfo_free(cms);
	X509_free(x);
	free(rest);
	return ok;
}

static int full_parse_verifies(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);

	ck_assert_ptr_nonnull(cms);
	int ok = signer_verifies(cms);
	CMS_ContentInfo_free(cms);
	return ok;
}

START_TEST(split_real_requests)
{
	static const char *holders[] = {"valid-01", "valid-ec", "valid-rsa4096", "valid-g1", "valid-noaki"};

	for (size_t i = 0; i < sizeof(holders) / sizeof(*holders); i++) {
		size_t len;
		int same = 0;
		unsigned char *der = sign_request(holders[i], NULL, 0, &len);
		ck_assert_msg(full_parse_verifies(der, len), "%s", holders[i]);
		ck_assert_msg(split_and_verify(der, len, &same), "%s: reassembled does not verify", holders[i]);
		ck_assert_msg(same, "%s: reassembled CMS encodes differently", holders[i]);
		free(der);
	}
}
END_TEST

START_TEST(split_same_failure)
{
	size_t len;
	int same = 0;
	X509 *other;
	load_holder("valid-02", &other, NULL);
	/* signed by valid-01 but carrying valid-02's certificate only */
	unsigned char *der = sign_request("valid-01", other, 1, &len);

	ck_assert_int_eq(full_parse_verifies(der, len), 0);
	ck_assert_int_eq(split_and_verify(der, len, &same), 0);
	ck_assert(same);
	free(der);
	X509_free(other);
}
END_TEST

START_TEST(split_not_applicable)
{
	const unsigned char *cert = NULL;
	unsigned char *rest = (unsigned char *)"x";
	size_t cert_len = 0, rest_len = 0, len;
	X509 *other;

	load_holder("valid-02", &other, NULL);
	/* no certificate */
	unsigned char *der = sign_request("valid-01", NULL, 1, &len);
	ck_assert_int_eq(mdg_der_check(der, len), 0);
	ck_assert_int_eq(mdg_der_split_cert(der, len, &cert, &cert_len, &rest, &rest_len), 1);
	ck_assert_ptr_null(rest);
	free(der);
	/* two certificates */
	der = sign_request("valid-01", other, 0, &len);
	ck_assert_int_eq(mdg_der_check(der, len), 0);
	ck_assert_int_eq(mdg_der_split_cert(der, len, &cert, &cert_len, &rest, &rest_len), 1);
	ck_assert_ptr_null(rest);
	free(der);
	X509_free(other);

	/* not SignedData: id-data */
	static const unsigned char data[] = {0x30, 0x13, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07,
					     0x01, 0xa0, 0x06, 0x04, 0x04, 't', 'e', 's', 't'};
	ck_assert_int_eq(mdg_der_check(data, sizeof(data)), 0);
	ck_assert_int_eq(mdg_der_split_cert(data, sizeof(data), &cert, &cert_len, &rest, &rest_len), 1);
	/* one certificate that is not a SEQUENCE (an other-certificate choice [3]) */
	static const unsigned char other_choice[] = {
		0x30, 0x27, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
		0xa0, 0x1a, 0x30, 0x18, 0x02, 0x01, 0x01, 0x31, 0x00,
		0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
		0xa0, 0x02, 0xa3, 0x00, 0x31, 0x00};
	ck_assert_int_eq(mdg_der_check(other_choice, sizeof(other_choice)), 0);
	ck_assert_int_eq(mdg_der_split_cert(other_choice, sizeof(other_choice), &cert, &cert_len, &rest, &rest_len), 1);
	/* the same with a SEQUENCE there is applicable */
	unsigned char seq[sizeof(other_choice)];
	memcpy(seq, other_choice, sizeof(seq));
	seq[37] = 0x30;
	ck_assert_int_eq(mdg_der_split_cert(seq, sizeof(seq), &cert, &cert_len, &rest, &rest_len), 0);
	ck_assert_uint_eq(cert_len, 2);
	ck_assert_uint_eq(rest_len, sizeof(seq) - 4);
	ck_assert_int_eq(mdg_der_check(rest, rest_len), 0);
	free(rest);
	/* truncated */
	ck_assert_int_eq(mdg_der_split_cert(seq, 5, &cert, &cert_len, &rest, &rest_len), 1);
}
END_TEST

/* Appends tag, DER length and content to o (test-side encoder). */
static size_t put(unsigned char *o, unsigned char tag, const unsigned char *c, size_t n)
{
	size_t i = 0;

	o[i++] = tag;
	if (n < 0x80) {
		o[i++] = (unsigned char)n;
	} else if (n < 0x100) {
		o[i++] = 0x81;
		o[i++] = (unsigned char)n;
	} else {
		o[i++] = 0x82;
		o[i++] = (unsigned char)(n >> 8);
		o[i++] = (unsigned char)n;
	}
	memmove(o + i, c, n);
	return i + n;
}

/* A SignedData ContentInfo with no signer; a certificate of cert_n content
 * bytes when cert_n >= 0. */
static size_t synthetic(unsigned char *o, long cert_n)
{
	static const unsigned char head[] = {0x02, 0x01, 0x01, 0x31, 0x00, 0x30, 0x0b, 0x06, 0x09, 0x2a,
					     0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01};
	static const unsigned char oid[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02};
	unsigned char sd[1024], tmp[1024], cert[600];
	size_t n = 0, m;

	memcpy(sd, head, sizeof(head));
	n = sizeof(head);
	if (cert_n >= 0) {
		memset(tmp, 0x00, (size_t)cert_n);
		for (long k = 0; k + 2 <= cert_n; k += 2)
			tmp[k] = 0x05;	/* NULLs */
		m = put(cert, 0x30, tmp, (size_t)cert_n);
		n += put(sd + n, 0xa0, cert, m);
	}
	sd[n++] = 0x31;
	sd[n++] = 0x00;
	m = put(tmp, 0x30, sd, n);
	n = put(sd, 0xa0, tmp, m);
	memcpy(tmp, oid, sizeof(oid));
	memcpy(tmp + sizeof(oid), sd, n);
	return put(o, 0x30, tmp, sizeof(oid) + n);
}

START_TEST(split_length_boundaries)
{
	unsigned char in[1024], want[1024];
	size_t want_len = synthetic(want, -1);

	/* every length field crossing the short / one-byte / two-byte forms */
	for (long cert_n = 0; cert_n <= 400; cert_n += 2) {
		const unsigned char *cert = NULL;
		unsigned char *rest = NULL;
		size_t cert_len = 0, rest_len = 0, len = synthetic(in, cert_n);

		ck_assert_int_eq(mdg_der_check(in, len), 0);
		ck_assert_int_eq(mdg_der_split_cert(in, len, &cert, &cert_len, &rest, &rest_len), 0);
		ck_assert_uint_eq(cert_len, (size_t)cert_n + (cert_n < 0x80 ? 2 : cert_n < 0x100 ? 3 : 4));
		ck_assert_int_eq(cert[0], 0x30);
		ck_assert_uint_eq(rest_len, want_len);
		ck_assert_mem_eq(rest, want, want_len);
		free(rest);
	}
}
END_TEST

static int run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void)
{
	Suite *s = suite_create("der");
	TCase *tc = tcase_create("core");
	const char *mkpki = getenv("MDG_MKPKI"), *tmp = getenv("MDG_TEST_TMP");
	char cmd[4500];

	if (mkpki == NULL || access(mkpki, X_OK) != 0) {
		fprintf(stderr, "test_der: MDG_MKPKI (the test PKI generator) is needed\n");
		return EXIT_FAILURE;
	}
	snprintf(pki, sizeof(pki) - 8, "%s/der-pki-XXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(pki) == NULL)
		return EXIT_FAILURE;
	snprintf(cmd, sizeof(cmd), "'%s' gen '%s/pki' >/dev/null", mkpki, pki);
	if (run(cmd) != 0) {
		fprintf(stderr, "test_der: %s failed\n", cmd);
		return EXIT_FAILURE;
	}
	strcat(pki, "/pki");

	tcase_add_test(tc, good_der);
	tcase_add_test(tc, long_form_length);
	tcase_add_test(tc, bad_der);
	tcase_add_test(tc, deep_nesting_refused);
	tcase_add_test(tc, pem);
	tcase_add_test(tc, split_real_requests);
	tcase_add_test(tc, split_same_failure);
	tcase_add_test(tc, split_not_applicable);
	tcase_add_test(tc, split_length_boundaries);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(pki) - 4), pki);
	run(cmd);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
