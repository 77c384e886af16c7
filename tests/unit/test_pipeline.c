/* The pipeline's pure parts: effectiveFrom, media types, language choice,
 * and the answer's members for each kind of outcome. The checks over real
 * signed requests run end to end (tests/e2e) against the daemon. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "answer.h"
#include "pipeline.h"
#include "timefmt.h"

static time_t at(const char *rfc3339)
{
	time_t t;
	ck_assert_int_eq(mdg_rfc3339_parse(rfc3339, &t), 0);
	return t;
}

START_TEST(effective_from)
{
	struct mdg_config c;
	char out[MDG_RFC3339_LEN];

	mdg_config_defaults(&c); /* 00:00+09:00, cutoff 1h */
	mdg_rfc3339_jst(mdg_effective_from(&c, at("2026-11-27T10:00:00+09:00")), out);
	ck_assert_str_eq(out, "2026-11-28T00:00:00+09:00");
	mdg_rfc3339_jst(mdg_effective_from(&c, at("2026-11-27T22:59:59+09:00")), out);
	ck_assert_str_eq(out, "2026-11-28T00:00:00+09:00");
	mdg_rfc3339_jst(mdg_effective_from(&c, at("2026-11-27T23:00:00+09:00")), out);
	ck_assert_str_eq(out, "2026-11-28T00:00:00+09:00");
	mdg_rfc3339_jst(mdg_effective_from(&c, at("2026-11-27T23:00:01+09:00")), out);
	ck_assert_str_eq(out, "2026-11-29T00:00:00+09:00");
	mdg_rfc3339_jst(mdg_effective_from(&c, at("2026-11-27T00:00:00+09:00")), out);
	ck_assert_str_eq(out, "2026-11-28T00:00:00+09:00");
	mdg_rfc3339_jst(mdg_effective_from(&c, at("2026-12-31T23:30:00+09:00")), out);
	ck_assert_str_eq(out, "2027-01-02T00:00:00+09:00");
	c.crl_issue_minutes = 6 * 60;
	c.crl_cutoff = 0;
	mdg_rfc3339_jst(mdg_effective_from(&c, at("2026-11-27T05:59:59+09:00")), out);
	ck_assert_str_eq(out, "2026-11-27T06:00:00+09:00");
}
END_TEST

START_TEST(media_types)
{
	ck_assert(mdg_media_type_ok("application/pkcs7-mime"));
	ck_assert(mdg_media_type_ok("application/cms"));
	ck_assert(mdg_media_type_ok("Application/PKCS7-MIME; smime-type=signed-data"));
	ck_assert(mdg_media_type_ok("application/cms;charset=binary"));
	ck_assert(!mdg_media_type_ok(NULL));
	ck_assert(!mdg_media_type_ok(""));
	ck_assert(!mdg_media_type_ok("text/plain"));
	ck_assert(!mdg_media_type_ok("application/cmsx"));
	ck_assert(!mdg_media_type_ok("application/json"));
	ck_assert(!mdg_media_type_ok("application/octet-stream"));
}
END_TEST

START_TEST(languages)
{
	ck_assert_int_eq(mdg_lang_from_header(NULL), MDG_LANG_JA);
	ck_assert_int_eq(mdg_lang_from_header("en"), MDG_LANG_EN);
	ck_assert_int_eq(mdg_lang_from_header("en-US,en;q=0.9"), MDG_LANG_EN);
	ck_assert_int_eq(mdg_lang_from_header("ja"), MDG_LANG_JA);
	ck_assert_int_eq(mdg_lang_from_header("ja,en;q=0.8"), MDG_LANG_JA);
	ck_assert_int_eq(mdg_lang_from_header("en;q=0.9,ja;q=0.5"), MDG_LANG_EN);
	ck_assert_int_eq(mdg_lang_from_header("fr"), MDG_LANG_JA);
	ck_assert_int_eq(mdg_lang_from_header("fr, en;q=0.1"), MDG_LANG_EN);
	ck_assert_int_eq(mdg_lang_from_header("en;q=0"), MDG_LANG_JA);
	ck_assert_int_eq(mdg_lang_from_header("english"), MDG_LANG_JA);
	ck_assert_int_eq(mdg_lang_from_header(""), MDG_LANG_JA);
}
END_TEST

static json_t *answer(const struct mdg_outcome *o, enum mdg_lang lang)
{
	size_t len = 0;
	char *text = mdg_answer_json(o, NULL, lang, "0123456789abcdef", &len);
	ck_assert_ptr_nonnull(text);
	json_t *j = json_loadb(text, len, 0, NULL);
	free(text);
	ck_assert_ptr_nonnull(j);
	return j;
}

START_TEST(answer_members)
{
	struct mdg_outcome o;

	memset(&o, 0, sizeof(o));
	mdg_outcome_set(&o, MDG_PROC_REVOCATION, MDG_REASON_WRONG_MEDIA_TYPE, "x");
	json_t *j = answer(&o, MDG_LANG_EN);
	ck_assert_str_eq(json_string_value(json_object_get(j, "result")), "malformed");
	ck_assert_str_eq(json_string_value(json_object_get(j, "procedure")), "revocation");
	ck_assert_str_eq(json_string_value(json_object_get(j, "requestId")), "0123456789abcdef");
	ck_assert_str_eq(json_string_value(json_object_get(j, "type")), "urn:madoguchi:result:malformed");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), 415);
	ck_assert_str_eq(
		json_string_value(json_object_get(j, "title")),
		json_string_value(json_object_get(json_object_get(json_object_get(j, "i18n"), "en"), "title")));
	ck_assert_ptr_nonnull(json_object_get(json_object_get(json_object_get(j, "i18n"), "ja"), "detail"));
	ck_assert_str_eq(mdg_answer_content_type(&o), "application/problem+json");
	json_decref(j);

	memset(&o, 0, sizeof(o));
	mdg_outcome_set(&o, MDG_PROC_VALIDITY, MDG_REASON_VALID, "valid");
	snprintf(o.crl_number, sizeof(o.crl_number), "10");
	snprintf(o.checked_on_wareki, sizeof(o.checked_on_wareki), "令和8年11月27日");
	j = answer(&o, MDG_LANG_JA);
	ck_assert_uint_eq(o.status, 200);
	ck_assert_ptr_null(json_object_get(j, "type"));
	ck_assert_ptr_null(json_object_get(j, "status"));
	ck_assert_str_eq(json_string_value(json_object_get(j, "title")), "オンライン有効性確認結果通知:有効");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "crlNumber")), 10);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "checkedOn"), "wareki")),
			 "令和8年11月27日");
	ck_assert_str_eq(mdg_answer_content_type(&o), "application/json");
	json_decref(j);

	memset(&o, 0, sizeof(o));
	mdg_outcome_set(&o, MDG_PROC_NONE, MDG_REASON_UNKNOWN_PATH, "unknown path");
	j = answer(&o, MDG_LANG_JA);
	ck_assert(json_is_null(json_object_get(j, "procedure")));
	json_decref(j);

	memset(&o, 0, sizeof(o));
	mdg_outcome_set(&o, MDG_PROC_REVOCATION, MDG_REASON_BUSY, "busy");
	ck_assert_uint_eq(o.status, 503);
	ck_assert_uint_gt(o.retry_after, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pipeline");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, effective_from);
	tcase_add_test(tc, media_types);
	tcase_add_test(tc, languages);
	tcase_add_test(tc, answer_members);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
