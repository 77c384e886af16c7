/* The result table against DESIGN.md "Results": names, HTTP statuses per
 * procedure, the normative Japanese titles byte for byte, and complete
 * Japanese and English texts.  With MDG_DESIGN_MD set to the path of
 * DESIGN.md, every Japanese title is also looked up in that file; with
 * MDG_PROTOCOL_MD set to docs/protocol.md, every text in that one. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "result.h"

static const enum mdg_procedure procs[] = { MDG_PROC_NONE, MDG_PROC_REVOCATION, MDG_PROC_VALIDITY };

/* DESIGN.md's table; 0 where it has no row (— : we answer the validity
 * status there). */
static const struct expect {
	enum mdg_result r;
	const char *name;
	unsigned rev, val;
	const char *title_rev, *title_val;
} table[] = {
	{ MDG_ACCEPTED, "accepted", 201, 201, "オンライン失効申請の受理通知", "オンライン失効申請の受理通知" },
	{ MDG_VALID, "valid", 200, 200, "オンライン有効性確認結果通知:有効", "オンライン有効性確認結果通知:有効" },
	{ MDG_REVOKED, "revoked", 409, 200, "失効済電子証明書に対する失効申請",
	  "オンライン有効性確認結果通知:失効済み" },
	{ MDG_REVOCATION_ACCEPTED, "revocationAccepted", 409, 200, "同一の電子証明書に対する二重の失効申請",
	  "オンライン有効性確認結果通知:オンライン失効受理済み" },
	{ MDG_EXPIRED, "expired", 422, 200, "有効期限切れの電子証明書に対する失効申請",
	  "有効期限切れの電子証明書に対する有効性確認" },
	{ MDG_NOT_YET_VALID, "notYetValid", 200, 200, "有効期間開始前の電子証明書に対する有効性確認",
	  "有効期間開始前の電子証明書に対する有効性確認" },
	{ MDG_ISSUER_MISMATCH, "issuerMismatch", 422, 422, "電子証明書の有効性確認のエラー",
	  "オンライン有効性確認結果通知:有効性確認のエラー" },
	{ MDG_BAD_CERTIFICATE_SIGNATURE, "badCertificateSignature", 422, 422, "電子証明書の検証エラー",
	  "電子証明書の検証エラー" },
	{ MDG_BAD_REQUEST_SIGNATURE, "badRequestSignature", 422, 422, "失効申請書の検証エラー",
	  "有効性確認申請書の検証エラー" },
	{ MDG_MALFORMED, "malformed", 400, 400, "受信データの形式エラー", "受信データの形式エラー" },
	{ MDG_BAD_NONCE, "badNonce", 400, 400, "申請の受付期限切れ", "申請の受付期限切れ" },
	{ MDG_BUSY, "busy", 503, 503, "オンライン窓口サービスの混雑", "オンライン窓口サービスの混雑" },
	{ MDG_SERVICE_ERROR, "serviceError", 500, 500, "オンライン窓口サービスのエラー",
	  "オンライン窓口サービスのエラー" },
};

_Static_assert(sizeof(table) / sizeof(table[0]) == MDG_RESULT_COUNT, "the test covers every result");

static int is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80 || (unsigned char)*s < 0x20)
			return 0;
	return 1;
}

/* Well-formed UTF-8 (shortest form, no surrogates) without controls. */
static int is_utf8_text(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s != '\0') {
		unsigned c = *s, n, cp;

		if (c < 0x20)
			return 0;
		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return 0;
		for (unsigned i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
		    cp > 0x10ffff)
			return 0;
		s += n + 1;
	}
	return 1;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

START_TEST(names)
{
	for (size_t i = 0; i < MDG_RESULT_COUNT; i++) {
		const char *n = mdg_result_name(table[i].r);

		ck_assert_int_eq(table[i].r, (enum mdg_result)i);
		ck_assert_ptr_nonnull(n);
		ck_assert_str_eq(n, table[i].name);
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(n, mdg_result_name(table[j].r));
	}
	ck_assert_ptr_null(mdg_procedure_name(MDG_PROC_NONE));
	ck_assert_str_eq(mdg_procedure_name(MDG_PROC_REVOCATION), "revocation");
	ck_assert_str_eq(mdg_procedure_name(MDG_PROC_VALIDITY), "validity-check");
}
END_TEST

START_TEST(statuses)
{
	for (size_t i = 0; i < MDG_RESULT_COUNT; i++) {
		enum mdg_result r = table[i].r;
		unsigned none = mdg_result_status(r, MDG_PROC_NONE);

		ck_assert_msg(mdg_result_status(r, MDG_PROC_REVOCATION) == table[i].rev, "%s revocation",
			      table[i].name);
		ck_assert_msg(mdg_result_status(r, MDG_PROC_VALIDITY) == table[i].val, "%s validity-check",
			      table[i].name);
		ck_assert_msg(none == table[i].rev || none == table[i].val, "%s none: %u", table[i].name, none);
		ck_assert_uint_ge(none, 200);
		ck_assert_uint_lt(none, 600);
	}
	/* the procedure-less answers the HTTP layer gives */
	ck_assert_uint_eq(mdg_result_status(MDG_MALFORMED, MDG_PROC_NONE), 400);
	ck_assert_uint_eq(mdg_result_status(MDG_BUSY, MDG_PROC_NONE), 503);
	ck_assert_uint_eq(mdg_result_status(MDG_SERVICE_ERROR, MDG_PROC_NONE), 500);
}
END_TEST

START_TEST(japanese_titles)
{
	for (size_t i = 0; i < MDG_RESULT_COUNT; i++) {
		enum mdg_result r = table[i].r;

		ck_assert_str_eq(mdg_result_title(r, MDG_PROC_REVOCATION, MDG_LANG_JA), table[i].title_rev);
		ck_assert_str_eq(mdg_result_title(r, MDG_PROC_VALIDITY, MDG_LANG_JA), table[i].title_val);
		/* without a procedure: one of the two normative titles */
		const char *t = mdg_result_title(r, MDG_PROC_NONE, MDG_LANG_JA);
		ck_assert_msg(strcmp(t, table[i].title_rev) == 0 || strcmp(t, table[i].title_val) == 0, "%s none: %s",
			      table[i].name, t);
	}
}
END_TEST

/* The whole file named by an environment variable, or NULL if unset. */
static char *slurp_env(const char *var)
{
	const char *path = getenv(var);
	char *buf;
	long len;
	FILE *f;

	if (path == NULL || *path == '\0')
		return NULL;
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	ck_assert_int_gt(len, 0);
	rewind(f);
	buf = malloc((size_t)len + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

START_TEST(titles_in_design_md)
{
	char *buf = slurp_env("MDG_DESIGN_MD");
	const char *missing = NULL;
	char row[64];

	if (buf == NULL)
		return;
	for (size_t i = 0; i < MDG_RESULT_COUNT && missing == NULL; i++) {
		for (size_t p = 0; p < 3 && missing == NULL; p++) {
			const char *t = mdg_result_title(table[i].r, procs[p], MDG_LANG_JA);

			if (strstr(buf, t) == NULL)
				missing = t;
		}
		snprintf(row, sizeof(row), "| `%s` |", table[i].name);
		if (missing == NULL && strstr(buf, row) == NULL)
			missing = table[i].name;
	}
	free(buf);
	ck_assert_msg(missing == NULL, "not in DESIGN.md: %s", missing);
}
END_TEST

/* docs/protocol.md (MDG_PROTOCOL_MD) carries every text of the table. */
START_TEST(texts_in_protocol_md)
{
	char *buf = slurp_env("MDG_PROTOCOL_MD");
	const char *missing = NULL;

	if (buf == NULL)
		return;
	for (size_t i = 0; i < MDG_RESULT_COUNT && missing == NULL; i++) {
		enum mdg_result r = table[i].r;

		for (size_t p = 0; p < 3 && missing == NULL; p++) {
			/* variants that are never sent */
			if ((r == MDG_ACCEPTED && procs[p] == MDG_PROC_VALIDITY) ||
			    ((r == MDG_VALID || r == MDG_NOT_YET_VALID) && procs[p] != MDG_PROC_VALIDITY))
				continue;
			for (int l = MDG_LANG_JA; l <= MDG_LANG_EN; l++) {
				enum mdg_lang lang = (enum mdg_lang)l;
				const char *t = mdg_result_title(r, procs[p], lang);
				const char *d = mdg_result_detail(r, procs[p], lang);

				if (strstr(buf, t) == NULL)
					missing = t;
				else if (strstr(buf, d) == NULL)
					missing = d;
			}
		}
	}
	free(buf);
	ck_assert_msg(missing == NULL, "not in protocol.md: %s", missing);
}
END_TEST

START_TEST(texts_complete)
{
	for (size_t i = 0; i < MDG_RESULT_COUNT; i++) {
		for (size_t p = 0; p < 3; p++) {
			enum mdg_result r = table[i].r;
			const char *tja = mdg_result_title(r, procs[p], MDG_LANG_JA);
			const char *ten = mdg_result_title(r, procs[p], MDG_LANG_EN);
			const char *dja = mdg_result_detail(r, procs[p], MDG_LANG_JA);
			const char *den = mdg_result_detail(r, procs[p], MDG_LANG_EN);

			ck_assert_ptr_nonnull(tja);
			ck_assert_ptr_nonnull(ten);
			ck_assert_ptr_nonnull(dja);
			ck_assert_ptr_nonnull(den);
			ck_assert_msg(strlen(ten) > 5 && strlen(den) > 40, "%s/%zu: short English text", table[i].name,
				      p);
			ck_assert_msg(strlen(dja) > 60, "%s/%zu: short detail", table[i].name, p);
			ck_assert_msg(is_ascii(ten) && is_ascii(den), "%s/%zu: English not ASCII", table[i].name, p);
			ck_assert_msg(is_utf8_text(tja) && is_utf8_text(dja) && !is_ascii(tja) && !is_ascii(dja),
				      "%s/%zu: Japanese not UTF-8 Japanese", table[i].name, p);
			ck_assert_msg(ends_with(dja, "。"),
				      "%s/%zu: ja detail "
				      "does not end a sentence",
				      table[i].name, p);
			ck_assert_msg(ends_with(dja, "ます。") || ends_with(dja, "です。") ||
					      ends_with(dja, "ません。") || ends_with(dja, "ください。"),
				      "%s/%zu: ja detail not polite", table[i].name, p);
			ck_assert_msg(ends_with(den, "."), "%s/%zu: en detail", table[i].name, p);
			ck_assert_msg(strstr(dja, "  ") == NULL && strstr(den, "  ") == NULL, "%s/%zu: double space",
				      table[i].name, p);
		}
	}
}
END_TEST

/* Each procedure's texts speak of its own form. */
START_TEST(texts_per_procedure)
{
	for (size_t i = 0; i < MDG_RESULT_COUNT; i++) {
		enum mdg_result r = table[i].r;
		const char *rev = mdg_result_detail(r, MDG_PROC_REVOCATION, MDG_LANG_JA);
		const char *val = mdg_result_detail(r, MDG_PROC_VALIDITY, MDG_LANG_JA);
		const char *rev_en = mdg_result_detail(r, MDG_PROC_REVOCATION, MDG_LANG_EN);
		const char *val_en = mdg_result_detail(r, MDG_PROC_VALIDITY, MDG_LANG_EN);

		if (r != MDG_ACCEPTED) {
			ck_assert_msg(strstr(val, "失効申請書") == NULL, "%s: validity text names the revocation form",
				      table[i].name);
			ck_assert_msg(strstr(val_en, "revocation request form") == NULL,
				      "%s: validity text names the revocation form", table[i].name);
		}
		if (r != MDG_VALID && r != MDG_NOT_YET_VALID) {
			ck_assert_msg(strstr(rev, "有効性確認申請書") == NULL,
				      "%s: revocation text names the validity form", table[i].name);
			ck_assert_msg(strstr(rev_en, "validity check request") == NULL,
				      "%s: revocation text names the validity form", table[i].name);
		}
	}
	/* the manual's guidance, in substance */
	ck_assert_ptr_nonnull(strstr(mdg_result_detail(MDG_ACCEPTED, MDG_PROC_REVOCATION, MDG_LANG_JA), "翌日のCRL"));
	ck_assert_ptr_nonnull(
		strstr(mdg_result_detail(MDG_ACCEPTED, MDG_PROC_REVOCATION, MDG_LANG_JA), "市区町村の窓口"));
	ck_assert_ptr_nonnull(strstr(mdg_result_detail(MDG_ACCEPTED, MDG_PROC_REVOCATION, MDG_LANG_JA), "消去"));
	ck_assert_ptr_nonnull(
		strstr(mdg_result_detail(MDG_REVOKED, MDG_PROC_REVOCATION, MDG_LANG_JA), "必要はありません"));
	ck_assert_ptr_nonnull(strstr(mdg_result_detail(MDG_REVOCATION_ACCEPTED, MDG_PROC_REVOCATION, MDG_LANG_JA),
				     "必要はありません"));
	ck_assert_ptr_nonnull(
		strstr(mdg_result_detail(MDG_EXPIRED, MDG_PROC_REVOCATION, MDG_LANG_JA), "必要はありません"));
	ck_assert_ptr_nonnull(
		strstr(mdg_result_detail(MDG_EXPIRED, MDG_PROC_VALIDITY, MDG_LANG_JA), "有効ではありません"));
	ck_assert_ptr_nonnull(
		strstr(mdg_result_detail(MDG_BUSY, MDG_PROC_VALIDITY, MDG_LANG_JA), "しばらく経ってから"));
	ck_assert_ptr_nonnull(strstr(mdg_result_detail(MDG_BAD_NONCE, MDG_PROC_REVOCATION, MDG_LANG_EN), "new nonce"));
}
END_TEST

START_TEST(details_distinct)
{
	for (size_t p = 0; p < 3; p++)
		for (size_t i = 0; i < MDG_RESULT_COUNT; i++)
			for (size_t j = 0; j < i; j++) {
				ck_assert_str_ne(mdg_result_detail(table[i].r, procs[p], MDG_LANG_JA),
						 mdg_result_detail(table[j].r, procs[p], MDG_LANG_JA));
				ck_assert_str_ne(mdg_result_detail(table[i].r, procs[p], MDG_LANG_EN),
						 mdg_result_detail(table[j].r, procs[p], MDG_LANG_EN));
			}
}
END_TEST

START_TEST(out_of_range)
{
	enum mdg_result bad = (enum mdg_result)MDG_RESULT_COUNT;
	enum mdg_procedure badp = (enum mdg_procedure)7;

	ck_assert_ptr_nonnull(mdg_result_name(bad));
	ck_assert_ptr_nonnull(mdg_result_title(bad, MDG_PROC_REVOCATION, MDG_LANG_JA));
	ck_assert_ptr_nonnull(mdg_result_detail(bad, MDG_PROC_VALIDITY, MDG_LANG_EN));
	ck_assert_uint_eq(mdg_result_status(bad, MDG_PROC_NONE), 500);
	ck_assert_ptr_nonnull(mdg_result_title(MDG_VALID, badp, MDG_LANG_EN));
	ck_assert_ptr_nonnull(mdg_result_detail(MDG_VALID, badp, MDG_LANG_JA));
	ck_assert_ptr_null(mdg_procedure_name(badp));
}
END_TEST

static Suite *result_suite(void)
{
	Suite *s = suite_create("result");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, names);
	tcase_add_test(tc, statuses);
	tcase_add_test(tc, japanese_titles);
	tcase_add_test(tc, titles_in_design_md);
	tcase_add_test(tc, texts_in_protocol_md);
	tcase_add_test(tc, texts_complete);
	tcase_add_test(tc, texts_per_procedure);
	tcase_add_test(tc, details_distinct);
	tcase_add_test(tc, out_of_range);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(result_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
