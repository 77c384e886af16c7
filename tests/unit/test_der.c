#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "der.h"

START_TEST(good_der)
{
	static const unsigned char seq[] = { 0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0x41 };
	static const unsigned char nested[] = { 0x30, 0x05, 0xa0, 0x03, 0x02, 0x01, 0x01 };

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
	unsigned char nm[] = { 0x30, 0x82, 0x00, 0x03, 0x02, 0x01, 0x01 };
	ck_assert_int_eq(mdg_der_check(nm, sizeof(nm)), -1);
	unsigned char short_as_long[] = { 0x30, 0x81, 0x03, 0x02, 0x01, 0x01 };
	ck_assert_int_eq(mdg_der_check(short_as_long, sizeof(short_as_long)), -1);
}
END_TEST

START_TEST(bad_der)
{
	static const unsigned char indefinite[] = { 0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00 };
	static const unsigned char truncated[] = { 0x30, 0x06, 0x02, 0x01, 0x05 };
	static const unsigned char trailing[] = { 0x30, 0x03, 0x02, 0x01, 0x05, 0x00 };
	static const unsigned char lying_child[] = { 0x30, 0x03, 0x02, 0x05, 0x05 };
	static const unsigned char constructed_octets[] = { 0x30, 0x05, 0x24, 0x03, 0x04, 0x01, 0x41 };
	static const unsigned char primitive_top[] = { 0x02, 0x01, 0x05 };
	static const unsigned char huge_len[] = { 0x30, 0x84, 0xff, 0xff, 0xff, 0xff };
	/* SEQUENCE and SET are constructed in DER: 0x10 / 0x11 are not them */
	static const unsigned char primitive_set[] = { 0x30, 0x05, 0x11, 0x03, 0x02, 0x01, 0x05 };
	static const unsigned char primitive_seq[] = { 0x30, 0x02, 0x10, 0x00 };

	ck_assert_int_eq(mdg_der_check(indefinite, sizeof(indefinite)), -1);
	ck_assert_int_eq(mdg_der_check(truncated, sizeof(truncated)), -1);
	ck_assert_int_eq(mdg_der_check(trailing, sizeof(trailing)), -1);
	ck_assert_int_eq(mdg_der_check(lying_child, sizeof(lying_child)), -1);
	ck_assert_int_eq(mdg_der_check(constructed_octets, sizeof(constructed_octets)), -1);
	ck_assert_int_eq(mdg_der_check(primitive_top, sizeof(primitive_top)), -1);
	ck_assert_int_eq(mdg_der_check(huge_len, sizeof(huge_len)), -1);
	ck_assert_int_eq(mdg_der_check(primitive_set, sizeof(primitive_set)), -1);
	ck_assert_int_eq(mdg_der_check(primitive_seq, sizeof(primitive_seq)), -1);
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

int main(void)
{
	Suite *s = suite_create("der");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, good_der);
	tcase_add_test(tc, long_form_length);
	tcase_add_test(tc, bad_der);
	tcase_add_test(tc, deep_nesting_refused);
	tcase_add_test(tc, pem);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
