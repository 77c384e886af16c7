/* metrics.c: counting by procedure and result, the histogram's buckets,
 * and the Prometheus text it writes (checked line by line), including label
 * escaping and counting from several threads at once. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static struct mdg_metrics m;

static char *render(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(mdg_metrics_write(&m, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_uint_eq(strlen(buf), len);
	return buf;
}

/* The value of the sample line that starts with prefix + ' ', or -1. */
static double value_of(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *p = text; p != NULL && *p != '\0';) {
		if (strncmp(p, prefix, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

START_TEST(counts_by_procedure_and_result)
{
	char *t;

	mdg_metrics_init(&m);
	mdg_metrics_request_done(&m, MDG_PROC_REVOCATION, "accepted", 201, 0.003);
	mdg_metrics_request_done(&m, MDG_PROC_REVOCATION, "accepted", 201, 0.02);
	mdg_metrics_request_done(&m, MDG_PROC_VALIDITY, "valid", 200, 0.2);
	mdg_metrics_request_done(&m, MDG_PROC_VALIDITY, "busy", 503, 0.0001);
	mdg_metrics_request_done(&m, MDG_PROC_NONE, NULL, 200, 0.0001);
	mdg_metrics_request_done(&m, MDG_PROC_NONE, "malformed", 404, 0.0001);
	mdg_metrics_request_done(&m, MDG_PROC_NONE, NULL, 503, 0.0001);
	mdg_metrics_request_done(&m, MDG_PROC_REVOCATION, NULL, 0, 30);
	mdg_metrics_busy(&m);
	t = render();
	ck_assert_double_eq(value_of(t, "madoguchi_requests_total{procedure=\"revocation\",result=\"accepted\"}"), 2);
	ck_assert_double_eq(value_of(t, "madoguchi_requests_total{procedure=\"validity-check\",result=\"valid\"}"), 1);
	ck_assert_double_eq(value_of(t, "madoguchi_requests_total{procedure=\"validity-check\",result=\"busy\"}"), 1);
	ck_assert_double_eq(value_of(t, "madoguchi_requests_total{procedure=\"none\",result=\"ok\"}"), 1);
	ck_assert_double_eq(value_of(t, "madoguchi_requests_total{procedure=\"none\",result=\"malformed\"}"), 1);
	ck_assert_double_eq(value_of(t, "madoguchi_requests_total{procedure=\"none\",result=\"error\"}"), 1);
	ck_assert_double_eq(value_of(t, "madoguchi_requests_total{procedure=\"revocation\",result=\"aborted\"}"), 1);
	/* the procedures' results are there from the start, the rest once seen */
	ck_assert_double_eq(value_of(t, "madoguchi_requests_total{procedure=\"revocation\",result=\"valid\"}"), 0);
	ck_assert_double_eq(value_of(t, "madoguchi_requests_total{procedure=\"none\",result=\"valid\"}"), -1);
	ck_assert_double_eq(value_of(t, "madoguchi_busy_rejections_total"), 1);
	/* histogram: cumulative, +Inf = _count */
	ck_assert_double_eq(
		value_of(t, "madoguchi_request_duration_seconds_bucket{procedure=\"revocation\",le=\"0.005\"}"), 1);
	ck_assert_double_eq(
		value_of(t, "madoguchi_request_duration_seconds_bucket{procedure=\"revocation\",le=\"0.025\"}"), 2);
	ck_assert_double_eq(
		value_of(t, "madoguchi_request_duration_seconds_bucket{procedure=\"revocation\",le=\"10\"}"), 2);
	ck_assert_double_eq(
		value_of(t, "madoguchi_request_duration_seconds_bucket{procedure=\"revocation\",le=\"+Inf\"}"), 3);
	ck_assert_double_eq(value_of(t, "madoguchi_request_duration_seconds_count{procedure=\"revocation\"}"), 3);
	ck_assert_double_eq_tol(value_of(t, "madoguchi_request_duration_seconds_sum{procedure=\"revocation\"}"), 30.023,
				1e-6);
	ck_assert_double_eq(
		value_of(t, "madoguchi_request_duration_seconds_bucket{procedure=\"validity-check\",le=\"0.1\"}"), 1);
	ck_assert_double_eq(
		value_of(t, "madoguchi_request_duration_seconds_bucket{procedure=\"validity-check\",le=\"0.25\"}"), 2);
	ck_assert_double_eq(value_of(t, "madoguchi_request_duration_seconds_count{procedure=\"none\"}"), 3);
	free(t);
}
END_TEST

/* Each line: a comment (# HELP / # TYPE), or name{labels} value; each
 * family's TYPE precedes its samples; buckets never decrease. */
START_TEST(text_format_is_well_formed)
{
	char *t, *save = NULL, family[128] = "";
	double last = -1;
	int helps = 0, types = 0, samples = 0;

	mdg_metrics_init(&m);
	for (int i = 0; i < 50; i++)
		mdg_metrics_request_done(&m, (enum mdg_procedure)(i % 3), i % 2 ? "valid" : NULL, 200, i / 10.0);
	t = render();
	ck_assert(t[strlen(t) - 1] == '\n');
	for (char *l = strtok_r(t, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, "# HELP ", 7) == 0) {
			helps++;
			continue;
		}
		if (strncmp(l, "# TYPE ", 7) == 0) {
			ck_assert(sscanf(l + 7, "%127s", family) == 1);
			ck_assert(strstr(l, " counter") || strstr(l, " histogram"));
			types++;
			last = -1;
			continue;
		}
		samples++;
		ck_assert_msg(strncmp(l, family, strlen(family)) == 0, "%s outside %s", l, family);
		for (const char *p = l; *p != ' ' && *p != '{'; p++)
			ck_assert(*p == '_' || (*p >= 'a' && *p <= 'z'));
		if (strstr(l, "_bucket{") != NULL) {
			double v = strtod(strrchr(l, ' ') + 1, NULL);

			if (strstr(l, "le=\"0.005\"") != NULL)
				last = -1;
			ck_assert_msg(v >= last, "%s decreases", l);
			last = v;
		}
	}
	ck_assert_int_eq(helps, 3);
	ck_assert_int_eq(types, 3);
	ck_assert_int_gt(samples, 40);
	free(t);
}
END_TEST

START_TEST(labels_are_escaped)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const char *labels[] = { "issuer", "CN=a\\b,O=\"q\"\nx", "scope", "full", NULL };

	mdg_metrics_sample(f, "madoguchi_crl_age_seconds", labels, 12);
	mdg_metrics_sample(f, "madoguchi_x", NULL, 0.5);
	fclose(f);
	ck_assert_str_eq(buf, "madoguchi_crl_age_seconds{issuer=\"CN=a\\\\b,O=\\\"q\\\"\\nx\",scope=\"full\"} 12\n"
			      "madoguchi_x 0.5\n");
	free(buf);
}
END_TEST

static void *hammer(void *arg)
{
	for (int i = 0; i < 10000; i++)
		mdg_metrics_request_done(&m, MDG_PROC_VALIDITY, "valid", 200, 0.001);
	return arg;
}

START_TEST(threads_lose_no_count)
{
	pthread_t th[4];
	char *t;

	mdg_metrics_init(&m);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, hammer, NULL), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	t = render();
	ck_assert_double_eq(value_of(t, "madoguchi_requests_total{procedure=\"validity-check\",result=\"valid\"}"),
			    40000);
	ck_assert_double_eq(value_of(t, "madoguchi_request_duration_seconds_count{procedure=\"validity-check\"}"),
			    40000);
	ck_assert_double_eq_tol(value_of(t, "madoguchi_request_duration_seconds_sum{procedure=\"validity-check\"}"), 40,
				1e-6);
	free(t);
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	tcase_add_test(tc, counts_by_procedure_and_result);
	tcase_add_test(tc, text_format_is_well_formed);
	tcase_add_test(tc, labels_are_escaped);
	tcase_add_test(tc, threads_lose_no_count);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
