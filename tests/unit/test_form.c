#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

#define APPLICANT                                                                                                       \
	"\"applicant\":{\"name\":\"吉田　太郎\",\"address\":\"東京都千代田区霞が関2丁目1番地2号\"," \
	"\"birthDate\":\"1958-08-10\",\"gender\":\"男\"}"

static int parse(const char *text, struct mdg_form *f)
{
	const char *why = NULL;
	int rc = mdg_form_parse((const unsigned char *)text, strlen(text), f, &why);
	if (rc != 0)
		ck_assert_ptr_nonnull(why);
	return rc;
}

START_TEST(good_forms)
{
	struct mdg_form f;

	ck_assert_int_eq(parse("{\"procedure\":\"revocation\"," APPLICANT
			       ",\"nonce\":\"abc\",\"reason\":\"keyCompromise\"}",
			       &f),
			 0);
	ck_assert_int_eq(f.procedure, MDG_PROC_REVOCATION);
	ck_assert_str_eq(f.name, "吉田　太郎");
	ck_assert_str_eq(f.birth_date, "1958-08-10");
	ck_assert_str_eq(f.gender, "男");
	ck_assert_str_eq(f.nonce, "abc");
	ck_assert_str_eq(f.reason, "keyCompromise");
	ck_assert_int_eq(parse("{" APPLICANT ",\"nonce\":\"n\",\"procedure\":\"validity-check\"}", &f), 0);
	ck_assert_int_eq(f.procedure, MDG_PROC_VALIDITY);
	ck_assert_ptr_null(f.reason);
	ck_assert_int_eq(parse("{\"procedure\":\"revocation\"," APPLICANT ",\"nonce\":\"n\"}", &f), 0);
}
END_TEST

START_TEST(each_reason)
{
	static const char *const ok[] = { "unspecified", "keyCompromise", "affiliationChanged", "superseded",
					  "cessationOfOperation" };
	static const char *const bad[] = {
		"cACompromise",       "certificateHold", "removeFromCRL", "KeyCompromise", "",
		"privilegeWithdrawn", "aACompromise"
	};
	struct mdg_form f;
	char buf[1024];

	for (size_t i = 0; i < 5; i++) {
		snprintf(buf, sizeof(buf),
			 "{\"procedure\":\"revocation\"," APPLICANT ",\"nonce\":\"n\",\"reason\":\"%s\"}", ok[i]);
		ck_assert_int_eq(parse(buf, &f), 0);
		ck_assert_str_eq(f.reason, ok[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf),
			 "{\"procedure\":\"revocation\"," APPLICANT ",\"nonce\":\"n\",\"reason\":\"%s\"}", bad[i]);
		ck_assert_int_eq(parse(buf, &f), -1);
	}
}
END_TEST

START_TEST(bad_forms)
{
	static const char *const bad[] = {
		"",
		"[]",
		"\"revocation\"",
		"{}",
		"{\"procedure\":\"revocation\"," APPLICANT "}",
		"{\"procedure\":\"revoke\"," APPLICANT ",\"nonce\":\"n\"}",
		"{\"procedure\":\"revocation\"," APPLICANT ",\"nonce\":\"n\",\"extra\":1}",
		"{\"procedure\":\"revocation\"," APPLICANT ",\"nonce\":\"n\",\"nonce\":\"m\"}",
		"{\"procedure\":\"revocation\"," APPLICANT ",\"nonce\":null}",
		"{\"procedure\":\"revocation\"," APPLICANT ",\"nonce\":5}",
		"{\"procedure\":\"revocation\"," APPLICANT ",\"nonce\":\"n\",\"reason\":null}",
		"{\"procedure\":\"validity-check\"," APPLICANT ",\"nonce\":\"n\",\"reason\":\"unspecified\"}",
		"{\"procedure\":\"revocation\",\"applicant\":null,\"nonce\":\"n\"}",
		"{\"procedure\":\"revocation\",\"applicant\":{\"name\":\"a\",\"address\":\"b\",\"birthDate\":\"1958-8-"
		"10\",\"gender\":\"男\"},\"nonce\":\"n\"}",
		"{\"procedure\":\"revocation\",\"applicant\":{\"name\":\"a\",\"address\":\"b\",\"birthDate\":\"1958-08-"
		"10\",\"gender\":\"M\"},\"nonce\":\"n\"}",
		"{\"procedure\":\"revocation\",\"applicant\":{\"name\":\"a\",\"address\":\"b\",\"birthDate\":\"1958-08-"
		"10\"},\"nonce\":\"n\"}",
		"{\"procedure\":\"revocation\",\"applicant\":{\"name\":\"a\",\"address\":\"b\",\"birthDate\":\"1958-08-"
		"10\",\"gender\":\"男\",\"x\":\"y\"},\"nonce\":\"n\"}",
		"{\"procedure\":\"revocation\",\"applicant\":{\"name\":1,\"address\":\"b\",\"birthDate\":\"1958-08-"
		"10\",\"gender\":\"男\"},\"nonce\":\"n\"}",
		"{\"procedure\":\"revocation\",\"applicant\":{\"name\":\"a\\u0000b\",\"address\":\"b\",\"birthDate\":"
		"\"1958-08-10\",\"gender\":\"男\"},\"nonce\":\"n\"}",
		"{\"procedure\":\"revocation\",\"applicant\":{\"name\":\"\xff\xfe\",\"address\":\"b\",\"birthDate\":"
		"\"1958-08-10\",\"gender\":\"男\"},\"nonce\":\"n\"}",
		"{\"procedure\":\"revocation\"," APPLICANT ",\"nonce\":\"n\"} trailing",
		"{\"procedure\":\"revocation\"," APPLICANT ",\"nonce\":\"n\"",
	};
	struct mdg_form f;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse(bad[i], &f) == -1, "accepted #%zu: %s", i, bad[i]);
}
END_TEST

START_TEST(huge_strings_refused)
{
	size_t n = 100000;
	char *buf = malloc(n + 512);
	struct mdg_form f;

	strcpy(buf, "{\"procedure\":\"revocation\",\"nonce\":\"n\",\"applicant\":{\"address\":\"b\",\"birthDate\":"
		    "\"1958-08-10\",\"gender\":\"男\",\"name\":\"");
	size_t k = strlen(buf);
	memset(buf + k, 'a', n);
	strcpy(buf + k + n, "\"}}");
	ck_assert_int_eq(parse(buf, &f), -1);
	free(buf);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("form");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, good_forms);
	tcase_add_test(tc, each_reason);
	tcase_add_test(tc, bad_forms);
	tcase_add_test(tc, huge_strings_refused);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
