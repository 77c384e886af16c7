#include "metrics.h"

#include <math.h>
#include <string.h>

struct mdg_metrics mdg_metrics;

const double mdg_metrics_bucket_le[MDG_METRICS_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

static const char *const proc_label[MDG_METRICS_PROCS] = { "none", "revocation", "validity-check" };

void mdg_metrics_init(struct mdg_metrics *m)
{
	for (int p = 0; p < MDG_METRICS_PROCS; p++) {
		for (int r = 0; r < MDG_METRICS_RESULTS; r++)
			atomic_init(&m->requests[p][r], 0);
		for (int b = 0; b <= MDG_METRICS_BUCKETS; b++)
			atomic_init(&m->bucket[p][b], 0);
		atomic_init(&m->sum_us[p], 0);
	}
	atomic_init(&m->busy, 0);
}

static const char *result_label(int r)
{
	if (r < MDG_RESULT_COUNT)
		return mdg_result_name((enum mdg_result)r);
	return r == MDG_METRICS_OK ? "ok" : r == MDG_METRICS_ERROR ? "error" : "aborted";
}

static int proc_index(enum mdg_procedure proc)
{
	return proc == MDG_PROC_REVOCATION ? 1 : proc == MDG_PROC_VALIDITY ? 2 : 0;
}

void mdg_metrics_request_done(struct mdg_metrics *m, enum mdg_procedure proc, const char *result, unsigned status,
			      double seconds)
{
	int p = proc_index(proc), r = MDG_METRICS_ERROR, b;

	if (status == 0) {
		r = MDG_METRICS_ABORTED;
	} else if (result != NULL) {
		for (int i = 0; i < MDG_RESULT_COUNT; i++)
			if (strcmp(result, mdg_result_name((enum mdg_result)i)) == 0) {
				r = i;
				break;
			}
	} else if (status < 400) {
		r = MDG_METRICS_OK;
	}
	if (!(seconds >= 0)) /* also NaN */
		seconds = 0;
	for (b = 0; b < MDG_METRICS_BUCKETS && seconds > mdg_metrics_bucket_le[b]; b++)
		;
	atomic_fetch_add_explicit(&m->requests[p][r], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->bucket[p][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->sum_us[p], seconds < 1e9 ? (unsigned long long)(seconds * 1e6 + 0.5) : 0,
				  memory_order_relaxed);
}

void mdg_metrics_busy(struct mdg_metrics *m)
{
	atomic_fetch_add_explicit(&m->busy, 1, memory_order_relaxed);
}

void mdg_metrics_family(FILE *f, const char *name, const char *type, const char *help)
{
	/* help texts are our constants: no backslash or newline to escape */
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_label_value(FILE *f, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '"')
			fputs("\\\"", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

void mdg_metrics_sample(FILE *f, const char *name, const char *const *labels, double value)
{
	fputs(name, f);
	if (labels != NULL && labels[0] != NULL) {
		fputc('{', f);
		for (size_t i = 0; labels[i] != NULL && labels[i + 1] != NULL; i += 2) {
			fprintf(f, "%s%s=\"", i > 0 ? "," : "", labels[i]);
			put_label_value(f, labels[i + 1]);
			fputc('"', f);
		}
		fputc('}', f);
	}
	if (isnan(value))
		fputs(" NaN\n", f);
	else if (isinf(value))
		fputs(value > 0 ? " +Inf\n" : " -Inf\n", f);
	else
		fprintf(f, " %.15g\n", value);
}

static double load(const atomic_ullong *a)
{
	return (double)atomic_load_explicit((atomic_ullong *)a, memory_order_relaxed);
}

int mdg_metrics_write(const struct mdg_metrics *m, FILE *f)
{
	char le[32];
	double cum;

	mdg_metrics_family(f, "madoguchi_requests_total", "counter",
			   "Requests answered, by procedure (none: nonce, health, top page, unknown "
			   "paths) and result (the contract's result name; ok or error for answers "
			   "that are no result; aborted: closed before an answer).");
	for (int p = 0; p < MDG_METRICS_PROCS; p++)
		for (int r = 0; r < MDG_METRICS_RESULTS; r++) {
			double v = load(&m->requests[p][r]);
			const char *labels[] = { "procedure", proc_label[p], "result", result_label(r), NULL };

			/* the procedures' results are always there (rate() needs a start);
			 * the rest appear once they happen */
			if (v > 0 || (p > 0 && r < MDG_RESULT_COUNT))
				mdg_metrics_sample(f, "madoguchi_requests_total", labels, v);
		}
	mdg_metrics_family(f, "madoguchi_request_duration_seconds", "histogram",
			   "Time from the request's first byte to the end of the answer, by procedure.");
	for (int p = 0; p < MDG_METRICS_PROCS; p++) {
		cum = 0;
		for (int b = 0; b <= MDG_METRICS_BUCKETS; b++) {
			const char *labels[] = { "procedure", proc_label[p], "le", le, NULL };

			cum += load(&m->bucket[p][b]);
			if (b < MDG_METRICS_BUCKETS)
				snprintf(le, sizeof(le), "%g", mdg_metrics_bucket_le[b]);
			else
				snprintf(le, sizeof(le), "+Inf");
			mdg_metrics_sample(f, "madoguchi_request_duration_seconds_bucket", labels, cum);
		}
		const char *labels[] = { "procedure", proc_label[p], NULL };

		mdg_metrics_sample(f, "madoguchi_request_duration_seconds_sum", labels, load(&m->sum_us[p]) / 1e6);
		/* the buckets as read, so that _count always equals le="+Inf" */
		mdg_metrics_sample(f, "madoguchi_request_duration_seconds_count", labels, cum);
	}
	mdg_metrics_family(f, "madoguchi_busy_rejections_total", "counter",
			   "Procedure requests refused at admission because max_inflight was reached "
			   "(answered busy, HTTP 503).");
	mdg_metrics_sample(f, "madoguchi_busy_rejections_total", NULL, load(&m->busy));
	return ferror(f) ? -1 : 0;
}
