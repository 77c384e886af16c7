/* madoguchi-admin crl import, crl status, crl retire, crl schedule. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "acceptlog.h"
#include "admin.h"
#include "anchors.h"
#include "crl.h"
#include "files.h"
#include "names.h"
#include "timefmt.h"

/* Returns 0 if the file was imported or unchanged, -1 otherwise. */
static int import_one(const struct mdg_anchors *anchors, struct mdg_store *st, const char *file)
{
	struct mdg_crl_parsed p;
	enum mdg_crl_import_outcome oc;
	enum mdg_store_status s;
	unsigned char *buf = NULL;
	size_t len;
	char err[1024], iss[512], dp[512], num[64];
	int rc = -1;

	memset(&p, 0, sizeof(p));
	if (mdg_read_file(file, CRL_FILE_MAX, 0, &buf, &len, err, sizeof(err)) == -1) {
		fprintf(stderr, "failed %s\n", err);
		goto out;
	}
	if (mdg_crl_parse(anchors, buf, len, &p, err, sizeof(err)) == -1) {
		fprintf(stderr, "refused %s: %s\n", file, err);
		goto out;
	}
	mdg_der_name_rfc4514(p.imp.issuer_der, p.imp.issuer_len, iss, sizeof(iss));
	if (p.imp.dp_der != NULL)
		mdg_der_name_rfc4514(p.imp.dp_der, p.imp.dp_len, dp, sizeof(dp));
	else
		snprintf(dp, sizeof(dp), "full");
	mdg_number_decimal(p.imp.number, p.imp.number_len, num, sizeof(num));
	s = st->ops->crl_import(st->cls, &p.imp, time(NULL), &oc, err, sizeof(err));
	switch (s) {
	case MDG_STORE_OK:
		if (oc == MDG_CRL_IMPORTED)
			printf("imported %s: %s scope %s number %s, %zu entries\n", file, iss, dp, num,
			       p.imp.n_entries);
		else
			printf("unchanged %s: %s scope %s number %s already held%s%s\n", file, iss, dp, num,
			       strcmp(err, "unchanged") != 0 ? "; " : "", strcmp(err, "unchanged") != 0 ? err : "");
		rc = 0;
		break;
	case MDG_STORE_REFUSED:
		fprintf(stderr, "refused %s: %s\n", file, err);
		break;
	case MDG_STORE_NOT_FOUND:
	case MDG_STORE_CONFLICT:
	case MDG_STORE_ERROR:
		fprintf(stderr, "failed %s: %s\n", file, err);
		break;
	}
out:
	fflush(stdout);
	mdg_crl_parsed_free(&p);
	free(buf);
	return rc;
}

int cmd_crl_import(struct admin *ad, int argc, char **argv)
{
	struct mdg_anchors anchors = { NULL, 0 };
	struct mdg_store st = { NULL, NULL };
	char err[1024];
	int i, failed = 0, rc = EXIT_FAILURE;

	if (mdg_anchors_load_dir(&anchors, ad->cfg.anchors, err, sizeof(err)) == -1) {
		fprintf(stderr, "madoguchi-admin: %s\n", err);
		goto out;
	}
	if (mdg_store_open(&st, &ad->cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "madoguchi-admin: %s\n", err);
		goto out;
	}
	for (i = 0; i < argc; i++)
		if (import_one(&anchors, &st, argv[i]) == -1)
			failed++;
	if (failed > 0 && argc > 1)
		fprintf(stderr, "madoguchi-admin: %d of %d CRL files not imported\n", failed, argc);
	rc = failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
out:
	mdg_store_close(&st);
	mdg_anchors_free(&anchors);
	return rc;
}

/* ------------------------------------------------------------ crl status */

int cmd_crl_status(struct admin *ad, int argc, char **argv)
{
	const char *format = NULL;
	const struct opt opts[] = { { "format", &format, NULL }, { NULL, NULL, NULL } };
	struct mdg_anchors anchors = { NULL, 0 };
	struct mdg_store st = { NULL, NULL };
	struct held_list l;
	enum out_format fmt;
	size_t names[64], n_names, i, j, width = 8;
	json_t *doc = NULL, *arr = NULL, *others = NULL, *scopes, *o;
	char err[1024], now[MDG_RFC3339_LEN];
	int npos, missing = 0, stale = 0, in_force, rc = EXIT_FAILURE, failed = 0;

	memset(&l, 0, sizeof(l));
	if (parse_opts("crl status", argc, argv, opts, NULL, 0, &npos) != 0 ||
	    parse_format("crl status", format, 0, &fmt) == -1)
		return EXIT_USAGE;
	if (mdg_anchors_load_dir(&anchors, ad->cfg.anchors, err, sizeof(err)) == -1) {
		fprintf(stderr, "madoguchi-admin: crl status: %s\n", err);
		goto out;
	}
	if (open_store(ad, &st) == -1)
		goto out;
	l.now = time(NULL);
	l.max_age = ad->cfg.crl_max_age;
	if (held_list_load(&st, &l) == -1)
		goto out;
	mdg_rfc3339_jst(l.now, now);
	n_names = mdg_anchors_names(&anchors, names, sizeof(names) / sizeof(names[0]));
	for (j = 0; j < l.n; j++) {
		size_t w = display_width(l.v[j].full ? "full CRL" : l.v[j].dp);

		if (w > width)
			width = w;
	}
	if (fmt == FMT_JSON &&
	    ((doc = json_object()) == NULL || (arr = json_array()) == NULL || (others = json_array()) == NULL)) {
		failed = 1;
		goto out;
	}
	for (i = 0; i < n_names; i++) {
		const struct mdg_anchor *a = &anchors.v[names[i]];
		int a_stale = 0;

		in_force = 0;
		scopes = fmt == FMT_JSON ? json_array() : NULL;
		if (fmt == FMT_JSON && scopes == NULL) {
			failed = 1;
			goto out;
		}
		if (fmt == FMT_TABLE) {
			put_table_cell(a->subject_text);
			putchar('\n');
		}
		for (j = 0; j < l.n; j++) {
			if (!same_issuer(&l.v[j], a))
				continue;
			l.v[j].anchor = 1;
			in_force += l.v[j].retired_at == 0;
			a_stale += l.v[j].stale;
			if (fmt == FMT_TABLE)
				print_scope_line(&l.v[j], width);
			else if (json_array_append_new(scopes, scope_json(&l, &l.v[j])) != 0)
				failed = 1;
		}
		if (fmt == FMT_TABLE && in_force == 0)
			printf("  no CRL in force: import one (madoguchi-admin crl import FILE); until then "
			       "validity checks on it answer serviceError and /readyz is 503\n");
		missing += in_force == 0;
		stale += a_stale;
		if (fmt == FMT_JSON && ((o = json_pack("{s:o, s:s, s:o}", "anchor", json_text(a->subject_text), "state",
						       in_force == 0 ? "none"
						       : a_stale > 0 ? "stale"
								     : "fresh",
						       "scopes", scopes)) == NULL ||
					json_array_append_new(arr, o) != 0))
			failed = 1;
	}
	/* scopes of issuers that are no anchor (any more): shown, not counted */
	for (j = 0; j < l.n; j++) {
		if (l.v[j].anchor)
			continue;
		if (fmt == FMT_JSON) {
			if (json_array_append_new(others, scope_json(&l, &l.v[j])) != 0)
				failed = 1;
			continue;
		}
		printf("(not an anchor name in %s, not counted) ", ad->cfg.anchors);
		put_table_cell(l.v[j].iss);
		putchar('\n');
		print_scope_line(&l.v[j], width);
	}
	if (failed)
		goto out;
	if (fmt == FMT_JSON) {
		if (json_object_set_new(doc, "checkedAt", json_string(now)) != 0 ||
		    json_object_set_new(doc, "crlMaxAge", json_integer(ad->cfg.crl_max_age)) != 0 ||
		    json_object_set_new(doc, "anchors", arr) != 0 ||
		    json_object_set_new(doc, "otherIssuers", others) != 0 ||
		    json_object_set_new(doc, "stale", json_integer(stale)) != 0 ||
		    json_object_set_new(doc, "missing", json_integer(missing)) != 0 ||
		    json_object_set_new(doc, "ok", json_boolean(stale == 0 && missing == 0)) != 0) {
			arr = others = NULL;
			failed = 1;
			goto out;
		}
		arr = others = NULL;
		if (print_json(doc) == -1) {
			failed = 1;
			goto out;
		}
	}
	fflush(stdout);
	/* non-zero for monitoring: a stale CRL, or an anchor name without one,
	 * means no "valid" answers for its certificates */
	if (stale > 0 || missing > 0)
		fprintf(stderr,
			"madoguchi-admin: crl status: %d scope%s STALE, %d of %zu anchor name%s "
			"without a CRL in force: import fresh CRLs\n",
			stale, stale == 1 ? "" : "s", missing, n_names, n_names == 1 ? "" : "s");
	else if (fmt == FMT_TABLE)
		printf("ok: %zu anchor name%s, every CRL in force is fresh (checked %s, crl_max_age %lds)\n", n_names,
		       n_names == 1 ? "" : "s", now, ad->cfg.crl_max_age);
	rc = stale == 0 && missing == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
out:
	if (failed)
		fprintf(stderr, "madoguchi-admin: crl status: out of memory\n");
	json_decref(doc);
	json_decref(arr);
	json_decref(others);
	held_list_free(&l);
	mdg_store_close(&st);
	mdg_anchors_free(&anchors);
	return rc;
}

/* ------------------------------------------------------------ crl retire */

int cmd_crl_retire(struct admin *ad, int argc, char **argv)
{
	const char *issuer = NULL, *dp = NULL;
	const struct opt opts[] = { { "issuer", &issuer, NULL }, { "dp", &dp, NULL }, { NULL, NULL, NULL } };
	struct mdg_store st = { NULL, NULL };
	struct held_list l;
	struct held_scope *h = NULL;
	char when[MDG_RFC3339_LEN];
	enum mdg_store_status s;
	int npos, left = 0, rc = EXIT_FAILURE;
	size_t j;

	memset(&l, 0, sizeof(l));
	if (parse_opts("crl retire", argc, argv, opts, NULL, 0, &npos) != 0)
		return EXIT_USAGE;
	if (issuer == NULL || issuer[0] == '\0' || (dp != NULL && dp[0] == '\0')) {
		fprintf(stderr, "madoguchi-admin: crl retire: give --issuer DN (the CRL's issuer, as crl "
				"status prints it) and, for a partition CRL, --dp DN (its distribution point); "
				"without --dp the issuer's full CRL is meant\n");
		return EXIT_USAGE;
	}
	if (open_store(ad, &st) == -1)
		goto out;
	l.now = time(NULL);
	l.max_age = ad->cfg.crl_max_age;
	if (held_list_load(&st, &l) == -1)
		goto out;
	for (j = 0; j < l.n && h == NULL; j++)
		if (mdg_name_text_match(l.v[j].issuer_der, l.v[j].issuer_len, issuer) &&
		    (dp == NULL ? l.v[j].full : !l.v[j].full && mdg_name_text_match(l.v[j].dp_der, l.v[j].dp_len, dp)))
			h = &l.v[j];
	if (h == NULL) {
		fprintf(stderr,
			"madoguchi-admin: crl retire: no CRL held for %s, %s%s: crl status lists "
			"the scopes held\n",
			issuer, dp != NULL ? "distribution point " : "full CRL", dp != NULL ? dp : "");
		goto out;
	}
	if (h->retired_at != 0) {
		mdg_rfc3339_jst(h->retired_at, when);
		printf("unchanged: %s, %s%s was retired at %s already\n", h->iss,
		       h->full ? "full CRL" : "distribution point ", h->full ? "" : h->dp, when);
		rc = EXIT_SUCCESS;
		goto out;
	}
	if ((s = st.ops->crl_retire(st.cls, h->id, l.now)) != MDG_STORE_OK) {
		fprintf(stderr, "madoguchi-admin: crl retire: %s\n",
			s == MDG_STORE_NOT_FOUND ? "the scope was retired or replaced meanwhile: run crl status"
						 : "database error: nothing changed");
		goto out;
	}
	h->retired_at = l.now;
	mdg_rfc3339_jst(l.now, when);
	printf("retired %s, %s%s (number %s) at %s: freshness checks, /readyz and crl status no longer "
	       "count it; its %lld entr%s stay, so a certificate on it still answers revoked. Importing a "
	       "newer CRL of this scope brings it back.\n",
	       h->iss, h->full ? "full CRL" : "distribution point ", h->full ? "" : h->dp, h->num, when,
	       (long long)h->entries, h->entries == 1 ? "y" : "ies");
	for (j = 0; j < l.n; j++)
		if (l.v[j].retired_at == 0 && l.v[j].issuer_len == h->issuer_len &&
		    memcmp(l.v[j].issuer_der, h->issuer_der, h->issuer_len) == 0)
			left++;
	if (left == 0)
		fprintf(stderr,
			"madoguchi-admin: crl retire: warning: %s now has no CRL in force: validity "
			"checks of its certificates answer serviceError and /readyz is 503 until one is "
			"imported\n",
			h->iss);
	rc = EXIT_SUCCESS;
out:
	held_list_free(&l);
	mdg_store_close(&st);
	return rc;
}

/* ---------------------------------------------------------- crl schedule */

#define DAY 86400L

static long mod_day(long v)
{
	return ((v % DAY) + DAY) % DAY;
}

static void clock_text(long sod, char out[16])
{
	int v = (int)mod_day(sod);

	snprintf(out, 16, "%02d:%02d:%02d", (v / 3600) % 24, (v / 60) % 60, v % 60);
}

static void offset_text(int off, char out[16])
{
	int a = off < 0 ? -off : off;

	if (off == 0)
		snprintf(out, 16, "Z");
	else
		snprintf(out, 16, "%c%02d:%02d", off < 0 ? '-' : '+', (a / 3600) % 24, (a / 60) % 60);
}

static void duration_text(long v, char out[32])
{
	if (v > 0 && v % 3600 == 0)
		snprintf(out, 32, "%ldh", v / 3600);
	else if (v > 0 && v % 60 == 0)
		snprintf(out, 32, "%ldm", v / 60);
	else
		snprintf(out, 32, "%lds", v);
}

/* The export window of the daily routine, from [pki] crl_issue_time and
 * crl_cutoff (seconds of the day in the issue time's offset): it opens at
 * the cut-off (issue - cutoff) and closes at the issue time. The routine
 * runs a little after it opens (5 minutes, or a quarter of a shorter
 * cut-off): an acceptance committed at the cut-off is in, and the CA has
 * the rest of the window to issue. */
struct schedule {
	long issue, open, run; /* seconds of the day, in the offset */
	long cutoff;
	int offset;
	char oncalendar[64];
};

static void schedule_of(const struct mdg_config *cfg, struct schedule *s)
{
	char hms[16];
	long margin;

	s->offset = cfg->crl_issue_offset;
	s->cutoff = cfg->crl_cutoff;
	s->issue = (long)cfg->crl_issue_minutes * 60;
	s->open = mod_day(s->issue - s->cutoff);
	margin = s->cutoff >= 20 * 60 ? 5 * 60 : s->cutoff / 4;
	s->run = mod_day(s->open + margin);
	/* systemd takes time zone names, not offsets: Japan's is Asia/Tokyo
	 * (no daylight saving time), any other offset is said in UTC */
	if (s->offset == 9 * 3600) {
		clock_text(s->run, hms);
		snprintf(s->oncalendar, sizeof(s->oncalendar), "*-*-* %s Asia/Tokyo", hms);
	} else {
		clock_text(mod_day(s->run - s->offset), hms);
		snprintf(s->oncalendar, sizeof(s->oncalendar), "*-*-* %s UTC", hms);
	}
}

/* Is the instant t inside the window (for the CRL of some issue time)? */
static int in_window(const struct schedule *s, time_t t)
{
	long sod = mod_day((long)(((int64_t)t + s->offset) % DAY));

	if (s->cutoff >= DAY)
		return 1;
	return mod_day(sod - s->open) < s->cutoff;
}

int cmd_crl_schedule(struct admin *ad, int argc, char **argv)
{
	const char *at = NULL;
	int check = 0, oncal = 0, npos;
	const struct opt opts[] = {
		{ "check", NULL, &check }, { "at", &at, NULL }, { "oncalendar", NULL, &oncal }, { NULL, NULL, NULL }
	};
	struct schedule s;
	char iss[16], opn[16], run[16], off[16], dur[32], now_text[MDG_RFC3339_LEN];
	time_t now = time(NULL);

	if (parse_opts("crl schedule", argc, argv, opts, NULL, 0, &npos) != 0)
		return EXIT_USAGE;
	if (at != NULL && mdg_rfc3339_parse(at, &now) == -1) {
		fprintf(stderr, "madoguchi-admin: crl schedule: --at takes an RFC 3339 time "
				"(2026-12-01T23:05:00+09:00)\n");
		return EXIT_USAGE;
	}
	if (at != NULL && !check) {
		fprintf(stderr, "madoguchi-admin: crl schedule: --at goes with --check\n");
		return EXIT_USAGE;
	}
	schedule_of(&ad->cfg, &s);
	clock_text(s.issue, iss);
	clock_text(s.open, opn);
	clock_text(s.run, run);
	offset_text(s.offset, off);
	if (oncal) {
		printf("%s\n", s.oncalendar);
		return EXIT_SUCCESS;
	}
	if (check) {
		mdg_rfc3339_jst(now, now_text);
		if (s.cutoff > 0 && in_window(&s, now)) {
			printf("in the export window (%s to %s, %s): export now\n", opn, iss, off);
			return EXIT_SUCCESS;
		}
		fprintf(stderr,
			"madoguchi-admin: crl schedule: it is %s, outside the export window %s to "
			"%s (%s), the time between the cut-off (crl_issue_time - crl_cutoff) and the CRL's "
			"issue: an export now would leave the acceptances made until the cut-off for a later "
			"CRL than they were told. The routine runs at %s (%s); to export anyway, run "
			"madoguchi-daily --force (docs/operations.md)\n",
			now_text, opn, iss, off, run, s.oncalendar);
		return EXIT_FAILURE;
	}
	printf("CRL issue time:  %s%s every day (crl_issue_time)\n", iss, off);
	duration_text(s.cutoff, dur);
	printf("cut-off:         %s%s (crl_cutoff %s before): a revocation accepted before it is told "
	       "the next CRL, one accepted from it on the CRL after\n",
	       opn, off, dur);
	if (s.cutoff <= 0 || s.cutoff >= DAY) {
		printf("export window:   none that works daily: set crl_cutoff between a few minutes and a "
		       "few hours (1h is the default)\n");
		return EXIT_FAILURE;
	}
	printf("export window:   %s to %s%s: the daily routine (madoguchi-daily) exports the "
	       "acceptances then, and the CA issues the CRL at %s with them\n",
	       opn, iss, off, iss);
	printf("daily routine:   %s%s\n", run, off);
	printf("OnCalendar=%s\n", s.oncalendar);
	if (s.cutoff < 15 * 60)
		fprintf(stderr,
			"madoguchi-admin: crl schedule: warning: a cut-off of %lds leaves the CA "
			"little time to issue the CRL after the export\n",
			s.cutoff);
	return EXIT_SUCCESS;
}
