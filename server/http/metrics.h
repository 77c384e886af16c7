/* The daemon's own counters for GET /metrics (Prometheus text exposition
 * format 0.0.4): requests by procedure and result, a latency histogram,
 * busy rejections. Lock-free: every counter is a relaxed atomic, updated by
 * the HTTP worker threads as a request completes and read by the admin
 * listener. Also the printers of the text format (names, labels, escaping),
 * so every metric the admin listener writes is well-formed. */
#ifndef MDG_METRICS_H
#define MDG_METRICS_H

#include <stdatomic.h>
#include <stdio.h>

#include "result.h"

#define MDG_METRICS_PROCS 3    /* none, revocation, validity-check */
#define MDG_METRICS_BUCKETS 11 /* finite histogram buckets; +Inf is one more */
/* results: the contract's, then "ok" / "error" (an answer that is no
 * result: nonce, health, ...) and "aborted" (no answer was sent) */
#define MDG_METRICS_OK MDG_RESULT_COUNT
#define MDG_METRICS_ERROR (MDG_RESULT_COUNT + 1)
#define MDG_METRICS_ABORTED (MDG_RESULT_COUNT + 2)
#define MDG_METRICS_RESULTS (MDG_RESULT_COUNT + 3)

/* Upper bounds of the finite buckets, seconds. */
extern const double mdg_metrics_bucket_le[MDG_METRICS_BUCKETS];

struct mdg_metrics {
	atomic_ullong requests[MDG_METRICS_PROCS][MDG_METRICS_RESULTS];
	atomic_ullong bucket[MDG_METRICS_PROCS][MDG_METRICS_BUCKETS + 1]; /* not cumulative */
	atomic_ullong sum_us[MDG_METRICS_PROCS];
	atomic_ullong busy;
};

/* The daemon's instance (zero at start). */
extern struct mdg_metrics mdg_metrics;

/* Zeroes every counter (tests, and nothing else). */
void mdg_metrics_init(struct mdg_metrics *m);

/* One request finished. result: the contract's result name, or NULL when
 * the answer was none (then status decides "ok" (< 400) or "error");
 * status 0: no answer was sent ("aborted"). */
void mdg_metrics_request_done(struct mdg_metrics *m, enum mdg_procedure proc, const char *result, unsigned status,
			      double seconds);

/* An admission refused at max_inflight. */
void mdg_metrics_busy(struct mdg_metrics *m);

/* Writes the counters above as Prometheus text (HELP, TYPE, samples).
 * Returns 0, or -1 if f failed. */
int mdg_metrics_write(const struct mdg_metrics *m, FILE *f);

/* The printers: "# HELP name help" and "# TYPE name type" lines. */
void mdg_metrics_family(FILE *f, const char *name, const char *type, const char *help);

/* One sample: name{k1="v1",k2="v2"} value, labels escaped as the format
 * wants (\\, \", \n). labels: NULL-terminated pairs; may be NULL. */
void mdg_metrics_sample(FILE *f, const char *name, const char *const *labels, double value);

#endif
