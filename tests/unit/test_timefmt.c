/* RFC 3339 (+09:00) formatting and parsing, JST dates, and Japanese era
 * dates with the edges listed in JPKI-PROFILE.md. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

static void check_wareki(int y, int m, int d, const char *want)
{
	char buf[64];
	int n = mdg_wareki_format(y, m, d, buf, sizeof(buf));

	ck_assert_msg(n >= 0, "%04d-%02d-%02d refused", y, m, d);
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq((size_t)n, strlen(want));
}

static void check_wareki_refused(int y, int m, int d)
{
	char buf[64];

	ck_assert_msg(mdg_wareki_format(y, m, d, buf, sizeof(buf)) == -1, "%04d-%02d-%02d accepted as %s", y, m, d,
		      buf);
}

START_TEST(wareki_era_edges)
{
	check_wareki(1873, 1, 1, "明治6年01月01日");
	check_wareki(1912, 7, 29, "明治45年07月29日");
	check_wareki(1912, 7, 30, "大正元年07月30日");
	check_wareki(1926, 12, 24, "大正15年12月24日");
	check_wareki(1926, 12, 25, "昭和元年12月25日");
	check_wareki(1927, 1, 1, "昭和2年01月01日");
	check_wareki(1958, 8, 10, "昭和33年08月10日");
	check_wareki(1989, 1, 7, "昭和64年01月07日");
	check_wareki(1989, 1, 8, "平成元年01月08日");
	check_wareki(1990, 1, 1, "平成2年01月01日");
	check_wareki(2004, 2, 29, "平成16年02月29日");
	check_wareki(2019, 4, 30, "平成31年04月30日");
	check_wareki(2019, 5, 1, "令和元年05月01日");
	check_wareki(2019, 12, 31, "令和元年12月31日");
	check_wareki(2020, 1, 1, "令和2年01月01日");
	check_wareki(2026, 11, 27, "令和8年11月27日");
	check_wareki(2118, 12, 31, "令和100年12月31日");
}
END_TEST

START_TEST(wareki_refusals)
{
	char small[8];

	check_wareki_refused(1872, 12, 31);
	check_wareki_refused(1868, 1, 1);
	check_wareki_refused(1, 1, 1);
	check_wareki_refused(2023, 2, 29);
	check_wareki_refused(1900, 2, 29);
	check_wareki_refused(2026, 4, 31);
	check_wareki_refused(2026, 13, 1);
	check_wareki_refused(2026, 0, 1);
	check_wareki_refused(2026, 1, 0);
	check_wareki_refused(2026, 1, 32);
	/* too small a buffer: refused, NUL-terminated */
	ck_assert_int_eq(mdg_wareki_format(2026, 11, 27, small, sizeof(small)), -1);
	ck_assert_str_eq(small, "");
	ck_assert_int_eq(mdg_wareki_format(2026, 11, 27, NULL, 0), -1);
}
END_TEST

START_TEST(date_validity)
{
	ck_assert(mdg_date_is_valid(2024, 2, 29));
	ck_assert(mdg_date_is_valid(2000, 2, 29));
	ck_assert(mdg_date_is_valid(2004, 2, 29));
	ck_assert(!mdg_date_is_valid(1900, 2, 29));
	ck_assert(!mdg_date_is_valid(2023, 2, 29));
	ck_assert(!mdg_date_is_valid(2100, 2, 29));
	ck_assert(mdg_date_is_valid(2023, 12, 31));
	ck_assert(!mdg_date_is_valid(2023, 11, 31));
	ck_assert(!mdg_date_is_valid(2023, 6, 31));
	ck_assert(mdg_date_is_valid(2023, 7, 31));
	ck_assert(!mdg_date_is_valid(2023, 0, 10));
	ck_assert(!mdg_date_is_valid(2023, 13, 10));
	ck_assert(!mdg_date_is_valid(2023, 1, 0));
	ck_assert(!mdg_date_is_valid(2023, -1, -1));
}
END_TEST

START_TEST(days_from_civil)
{
	ck_assert_int_eq(mdg_days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(mdg_days_from_civil(1970, 1, 2), 1);
	ck_assert_int_eq(mdg_days_from_civil(1969, 12, 31), -1);
	ck_assert_int_eq(mdg_days_from_civil(2000, 3, 1), 11017);
	ck_assert_int_eq(mdg_days_from_civil(2026, 11, 27), 20784);
	ck_assert_int_eq(mdg_days_from_civil(1873, 1, 1), -35428);
	ck_assert_int_eq(mdg_days_from_civil(2038, 1, 19), 24855);
}
END_TEST

START_TEST(days_from_civil_against_timegm)
{
	/* every day from 1873 to 2200 agrees with the C library in UTC */
	for (long long z = mdg_days_from_civil(1873, 1, 1); z <= mdg_days_from_civil(2200, 12, 31); z++) {
		time_t t = (time_t)(z * 86400);
		struct tm tm;

		ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
		ck_assert_int_eq(mdg_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday), z);
		ck_assert(mdg_date_is_valid(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday));
	}
}
END_TEST

static void check_fmt(time_t t, const char *want)
{
	char buf[MDG_RFC3339_LEN];

	memset(buf, 'x', sizeof(buf));
	mdg_rfc3339_jst(t, buf);
	ck_assert_str_eq(buf, want);
	ck_assert_uint_eq(strlen(buf), MDG_RFC3339_LEN - 1);
}

START_TEST(rfc3339_format)
{
	check_fmt(0, "1970-01-01T09:00:00+09:00");
	check_fmt(-1, "1970-01-01T08:59:59+09:00");
	check_fmt(-9 * 3600, "1970-01-01T00:00:00+09:00");
	check_fmt(-9 * 3600 - 1, "1969-12-31T23:59:59+09:00");
	check_fmt(951782400, "2000-02-29T09:00:00+09:00");
	check_fmt(1078012800, "2004-02-29T09:00:00+09:00");
	/* 2026-11-27T00:00:00Z */
	check_fmt(1795737600, "2026-11-27T09:00:00+09:00");
	/* the JST date changes at 15:00 UTC */
	check_fmt(1795737600 + 15 * 3600 - 1, "2026-11-27T23:59:59+09:00");
	check_fmt(1795737600 + 15 * 3600, "2026-11-28T00:00:00+09:00");
	check_fmt((time_t)2147483647, "2038-01-19T12:14:07+09:00");
	check_fmt((time_t)4102444800LL, "2100-01-01T09:00:00+09:00");
}
END_TEST

START_TEST(format_ignores_tz)
{
	char buf[MDG_RFC3339_LEN], date[11];
	const char *old = getenv("TZ");
	char *saved = old != NULL ? strdup(old) : NULL;

	setenv("TZ", "America/New_York", 1);
	tzset();
	mdg_rfc3339_jst(1795737600, buf);
	mdg_jst_date(1795737600 + 15 * 3600, date, NULL, NULL, NULL);
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
	ck_assert_str_eq(buf, "2026-11-27T09:00:00+09:00");
	ck_assert_str_eq(date, "2026-11-28");
}
END_TEST

START_TEST(jst_date)
{
	char buf[11];
	int y = 0, m = 0, d = 0;

	mdg_jst_date(1795737600 + 15 * 3600 - 1, buf, &y, &m, &d);
	ck_assert_str_eq(buf, "2026-11-27");
	ck_assert_int_eq(y, 2026);
	ck_assert_int_eq(m, 11);
	ck_assert_int_eq(d, 27);
	mdg_jst_date(1795737600 + 15 * 3600, buf, &y, &m, &d);
	ck_assert_str_eq(buf, "2026-11-28");
	ck_assert_int_eq(d, 28);
	mdg_jst_date(-9 * 3600 - 1, buf, &y, &m, &d);
	ck_assert_str_eq(buf, "1969-12-31");
	ck_assert_int_eq(y, 1969);
	/* the parts are optional */
	mdg_jst_date(1078012800, buf, NULL, NULL, NULL);
	ck_assert_str_eq(buf, "2004-02-29");
}
END_TEST

static time_t parse_ok(const char *s)
{
	time_t t = (time_t)-12345;

	ck_assert_msg(mdg_rfc3339_parse(s, &t) == 0, "refused: %s", s);
	return t;
}

START_TEST(rfc3339_parse)
{
	ck_assert_int_eq(parse_ok("2026-11-27T09:00:00+09:00"), 1795737600);
	ck_assert_int_eq(parse_ok("2026-11-27T00:00:00Z"), 1795737600);
	ck_assert_int_eq(parse_ok("2026-11-27t00:00:00z"), 1795737600);
	ck_assert_int_eq(parse_ok("2026-11-27T00:00:00+00:00"), 1795737600);
	ck_assert_int_eq(parse_ok("2026-11-27T00:00:00-00:00"), 1795737600);
	ck_assert_int_eq(parse_ok("2026-11-26T19:00:00-05:00"), 1795737600);
	ck_assert_int_eq(parse_ok("2026-11-27T05:30:00+05:30"), 1795737600);
	ck_assert_int_eq(parse_ok("2026-11-27T00:00:00.999Z"), 1795737600);
	ck_assert_int_eq(parse_ok("2026-11-27T09:00:00.5+09:00"), 1795737600);
	ck_assert_int_eq(parse_ok("1970-01-01T00:00:00Z"), 0);
	ck_assert_int_eq(parse_ok("1969-12-31T23:59:59Z"), -1);
	ck_assert_int_eq(parse_ok("2004-02-29T12:00:00+09:00"), 1078023600);
	ck_assert_int_eq(parse_ok("2026-12-31T23:59:59+23:59"), 1798761599 - 23 * 3600 - 59 * 60);
}
END_TEST

START_TEST(rfc3339_round_trip)
{
	static const time_t ts[] = {
		0,
		1,
		-1,
		86399,
		86400,
		951782400,
		1078012800,
		1795737600,
		1795737600 + 15 * 3600 - 1,
		1795737600 + 15 * 3600,
		2147483647,
		(time_t)4102444800LL,
		(time_t)-2208988800LL,
	};
	char buf[MDG_RFC3339_LEN];

	for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		mdg_rfc3339_jst(ts[i], buf);
		ck_assert_int_eq(parse_ok(buf), ts[i]);
	}
	for (time_t t = 1795600000; t < 1795900000; t += 997) {
		mdg_rfc3339_jst(t, buf);
		ck_assert_int_eq(parse_ok(buf), t);
	}
}
END_TEST

START_TEST(rfc3339_parse_rejections)
{
	static const char *bad[] = {
		"",
		"2026-11-27",
		"2026-11-27T09:00:00",       /* no offset */
		"2026-11-27 09:00:00+09:00", /* space for T */
		"2026-11-27T09:00+09:00",    /* no seconds */
		"2026-11-27T09:00:00+0900",
		"2026-11-27T09:00:00+09",
		"2026-11-27T09:00:00+9:00",
		"2026-11-27T09:00:00 +09:00",
		"2026-11-27T09:00:00+09:00 ",
		" 2026-11-27T09:00:00+09:00",
		"2026-11-27T09:00:00+09:00x",
		"2026-11-27T09:00:00ZZ",
		"2026-11-27T09:00:00.Z", /* empty fraction */
		"2026-11-27T09:00:00,5Z",
		"2026-11-27T09:00:00UTC",
		"2026-11-27T09:00:00GMT",
		"26-11-27T09:00:00Z",
		"+2026-11-27T09:00:00Z",
		"2026-1-27T09:00:00Z",
		"2026-11-7T09:00:00Z",
		"2026/11/27T09:00:00Z",
		"20261127T090000Z",
		"2026-13-01T00:00:00Z",
		"2026-00-01T00:00:00Z",
		"2026-11-00T00:00:00Z",
		"2026-11-31T00:00:00Z",
		"2023-02-29T00:00:00Z",
		"2026-11-27T24:00:00Z",
		"2026-11-27T23:60:00Z",
		"2026-11-27T23:59:60Z", /* leap second */
		"2026-11-27T09:00:00+24:00",
		"2026-11-27T09:00:00+09:60",
		"2026-11-27T0a:00:00Z",
		"2026-11-27T09:00:00\xef\xbc\xba", /* full-width Z */
	};
	time_t t = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(mdg_rfc3339_parse(bad[i], &t) == -1, "accepted: \"%s\"", bad[i]);
		ck_assert_int_eq(t, 42);
	}
	ck_assert_int_eq(mdg_rfc3339_parse(NULL, &t), -1);
	ck_assert_int_eq(mdg_rfc3339_parse("2026-11-27T00:00:00Z", NULL), -1);
}
END_TEST

static Suite *timefmt_suite(void)
{
	Suite *s = suite_create("timefmt");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, wareki_era_edges);
	tcase_add_test(tc, wareki_refusals);
	tcase_add_test(tc, date_validity);
	tcase_add_test(tc, days_from_civil);
	tcase_add_test(tc, days_from_civil_against_timegm);
	tcase_add_test(tc, rfc3339_format);
	tcase_add_test(tc, format_ignores_tz);
	tcase_add_test(tc, jst_date);
	tcase_add_test(tc, rfc3339_parse);
	tcase_add_test(tc, rfc3339_round_trip);
	tcase_add_test(tc, rfc3339_parse_rejections);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(timefmt_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
