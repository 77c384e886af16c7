/* The JSON writer (server/common/jsonw.c) and the two texts written with it,
 * the answer (checks/answer.c) and the log line (http/log.c), against the
 * jansson trees they replace, kept here as the reference: byte for byte
 * the same output for every result of the table and every member, for
 * hostile strings (quotes, backslashes, every control character, non-ASCII,
 * every kind of invalid UTF-8, which jansson refuses and so leaves the
 * member out) and for reals. */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "anchors.h"
#include "answer.h"
#include "jsonw.h"
#include "log.h"
#include "pipeline.h"
#include "result.h"

/* ------------------------------------------------------------ references */

/* checks/answer.c's mdg_answer_json as it was, a jansson tree dumped */
static int set_str(json_t *obj, const char *key, const char *value)
{
	return json_object_set_new(obj, key, json_string(value));
}

static json_t *ref_texts(const struct mdg_outcome *o, enum mdg_lang lang)
{
	json_t *t = json_object();

	set_str(t, "title", mdg_result_title(o->result, o->proc, lang));
	set_str(t, "detail", mdg_result_detail(o->result, o->proc, lang));
	return t;
}

static json_t *ref_crl_number(const char *dec)
{
	char *end;
	unsigned long long v;

	if (strlen(dec) <= 15) {
		v = strtoull(dec, &end, 10);
		if (*end == '\0')
			return json_integer((json_int_t)v);
	}
	return json_string(dec);
}

static char *ref_answer_json(const struct mdg_outcome *o, const struct mdg_anchors *anchors, enum mdg_lang lang,
			     const char *request_id, size_t *len)
{
	json_t *root = json_object();
	json_t *i18n = json_object();
	const char *proc = mdg_procedure_name(o->proc);
	char *text = NULL;
	char type[96];

	set_str(root, "result", mdg_result_name(o->result));
	json_object_set_new(root, "procedure", proc ? json_string(proc) : json_null());
	set_str(root, "requestId", request_id);
	set_str(root, "title", mdg_result_title(o->result, o->proc, lang));
	set_str(root, "detail", mdg_result_detail(o->result, o->proc, lang));
	json_object_set_new(i18n, "ja", ref_texts(o, MDG_LANG_JA));
	json_object_set_new(i18n, "en", ref_texts(o, MDG_LANG_EN));
	json_object_set(root, "i18n", i18n);
	if (o->status >= 400) {
		snprintf(type, sizeof(type), "urn:madoguchi:result:%s", mdg_result_name(o->result));
		set_str(root, "type", type);
		json_object_set_new(root, "status", json_integer(o->status));
	}
	if (o->have_cert) {
		json_t *c = json_object();
		set_str(c, "serial", o->serial_hex);
		set_str(c, "issuer", o->issuer);
		set_str(c, "notBefore", o->not_before);
		set_str(c, "notAfter", o->not_after);
		json_object_set_new(root, "certificate", c);
	}
	if (o->result == MDG_VALID) {
		json_t *on = json_object();
		json_object_set_new(root, "applicantName", json_string(o->applicant_name));
		set_str(root, "checkedAt", o->checked_at);
		set_str(on, "iso", o->checked_on_iso);
		set_str(on, "wareki", o->checked_on_wareki);
		json_object_set_new(root, "checkedOn", on);
		json_object_set_new(root, "crlNumber", ref_crl_number(o->crl_number));
		set_str(root, "crlThisUpdate", o->crl_this_update);
	}
	if (o->have_acceptance && (o->result == MDG_ACCEPTED || o->result == MDG_REVOCATION_ACCEPTED)) {
		set_str(root, "receiptId", o->acceptance.receipt_id);
		set_str(root, "acceptedAt", o->acceptance.accepted_at);
		set_str(root, "effectiveFrom", o->acceptance.effective_from);
		if (o->receipt != NULL)
			set_str(root, "receipt", o->receipt);
	}
	if (o->result == MDG_ISSUER_MISMATCH && anchors != NULL) {
		json_t *list = json_array();
		size_t idx[64];
		size_t n = mdg_anchors_names(anchors, idx, 64);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(list, json_string(anchors->v[idx[i]].subject_text));
		json_object_set_new(root, "expectedIssuers", list);
	}
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text != NULL)
		*len = strlen(text);
	json_decref(i18n);
	json_decref(root);
	return text;
}

/* http/log.c's lines as they were: the object and its dump, with "\n" */
static char *ref_dump_line(json_t *o)
{
	char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	char *out = NULL;

	json_decref(o);
	ck_assert_ptr_nonnull(line);
	ck_assert_int_ge(asprintf(&out, "%s\n", line), 0);
	free(line);
	return out;
}

static char *ref_msg_line(const char *t, const char *level, const char *msg)
{
	json_t *o = json_object();

	json_object_set_new(o, "time", json_string(t));
	json_object_set_new(o, "level", json_string(level));
	json_t *m = json_string(msg);
	json_object_set_new(o, "msg", m ? m : json_string("(message not UTF-8)"));
	return ref_dump_line(o);
}

static char *ref_request_line(const char *t, const struct mdg_log_request *r)
{
	json_t *o = json_object();
	const char *proc = mdg_procedure_name(r->proc);

	json_object_set_new(o, "time", json_string(t));
	json_object_set_new(o, "level", json_string(r->level != NULL ? r->level : "info"));
	json_object_set_new(o, "requestId", json_string(r->request_id));
	json_object_set_new(o, "method", json_string(r->method));
	json_t *path = json_string(r->path);
	json_object_set_new(o, "path", path ? path : json_string("(not UTF-8)"));
	json_object_set_new(o, "procedure", proc ? json_string(proc) : json_null());
	json_object_set_new(o, "result", r->result ? json_string(r->result) : json_null());
	json_object_set_new(o, "status", json_integer(r->status));
	json_object_set_new(o, "durationMs", json_real(r->duration_ms));
	json_object_set_new(o, "client", json_string(r->client));
	if (r->reason)
		json_object_set_new(o, "reason", json_string(r->reason));
	if (r->store_error != NULL) {
		json_t *m = json_string(r->store_error);
		json_object_set_new(o, "storeError", m ? m : json_string("(message not UTF-8)"));
	}
	return ref_dump_line(o);
}

/* ----------------------------------------------------------- hostile text */

static const char *const hostile[] = {
	"",
	"plain ascii",
	"\"",
	"\\",
	"\"quoted\" and \\back\\slashed\\",
	"a/b</script>",
	"\b\f\n\r\t",
	"\x01\x02\x03\x04\x05\x06\x07\x0b\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f",
	"\x7f del",
	"u+2028 \xe2\x80\xa8 u+2029 \xe2\x80\xa9",
	"山田 太郎",
	"東京都千代田区霞が関２丁目１番２号",
	"\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xef\xbf\xbf \xf0\x90\x80\x80 \xf4\x8f\xbf\xbf", /* boundaries */
	"\xef\xbb\xbf BOM",
	"emoji \xf0\x9f\x98\x80",
	"\x80",                 /* lone continuation */
	"a\xbf",                /* lone continuation */
	"\xc0\x80",             /* overlong NUL */
	"\xc1\xbf",             /* overlong */
	"\xe0\x80\x80",         /* overlong */
	"\xe0\x9f\xbf",         /* overlong */
	"\xed\xa0\x80",         /* surrogate D800 */
	"\xed\xbf\xbf",         /* surrogate DFFF */
	"\xed\x9f\xbf",         /* U+D7FF: valid */
	"\xf0\x80\x80\x80",     /* overlong */
	"\xf0\x8f\xbf\xbf",     /* overlong */
	"\xf4\x90\x80\x80",     /* above U+10FFFF */
	"\xf5\x80\x80\x80",     /* no such lead */
	"\xf8\x88\x80\x80\x80", /* 5 bytes */
	"\xfe\xff",
	"\xc3",         /* truncated at the end */
	"\xe6\x97",     /* truncated at the end */
	"\xf0\x9f\x98", /* truncated at the end */
	"\xe6\x97x",    /* truncated in the middle */
	"ok \xc3\xa9 then bad \xc3",
	"\"\\\x01山\xff",
};
#define NHOSTILE (sizeof(hostile) / sizeof(hostile[0]))

/* one string member through both: same bytes, or both leave it out */
static void same_member(const char *s)
{
	json_t *o = json_object();
	json_t *a = json_array();
	json_object_set_new(o, "k", json_string("before"));
	json_object_set_new(o, "v", json_string(s));
	json_array_append_new(a, json_string(s));
	json_array_append_new(a, json_string("x"));
	json_object_set_new(o, "a", a);
	json_object_set_new(o, "z", json_integer(1));
	char *ref = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);

	struct mdg_jsonw w;
	mdg_jsonw_init(&w);
	mdg_jsonw_open_object(&w);
	mdg_jsonw_str(&w, "k", "before");
	int kept = mdg_jsonw_str(&w, "v", s);
	mdg_jsonw_key_array(&w, "a");
	ck_assert_int_eq(mdg_jsonw_elem_str(&w, s), kept);
	mdg_jsonw_elem_str(&w, "x");
	mdg_jsonw_close_array(&w);
	mdg_jsonw_int(&w, "z", 1);
	mdg_jsonw_close_object(&w);
	size_t len = 0;
	char *got = mdg_jsonw_finish(&w, &len);

	ck_assert_ptr_nonnull(ref);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(len, strlen(got));
	if (strcmp(ref, got) != 0) {
		fprintf(stderr, "input:");
		for (const unsigned char *p = (const unsigned char *)s; *p; p++)
			fprintf(stderr, " %02x", *p);
		fprintf(stderr, "\njansson: %s\nwriter:  %s\n", ref, got);
	}
	ck_assert_str_eq(got, ref);
	json_t *js = json_string(s);
	ck_assert_int_eq(kept, js != NULL);
	ck_assert_int_eq(mdg_jsonw_utf8_ok(s, strlen(s)), js != NULL);
	json_decref(js);
	free(ref);
	free(got);
}

START_TEST(strings_as_jansson)
{
	char s[8];

	for (size_t i = 0; i < NHOSTILE; i++)
		same_member(hostile[i]);
	/* every byte, every pair of bytes */
	for (int a = 1; a < 256; a++) {
		s[0] = (char)a;
		s[1] = '\0';
		same_member(s);
		for (int b = 1; b < 256; b++) {
			s[1] = (char)b;
			s[2] = '\0';
			same_member(s);
		}
	}
	/* three and four byte leads with the continuation boundaries */
	static const unsigned char cont[] = { 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff };
	for (int a = 0xe0; a < 0x100; a++)
		for (size_t b = 0; b < sizeof(cont); b++)
			for (size_t c = 0; c < sizeof(cont); c++) {
				s[0] = (char)a;
				s[1] = (char)cont[b];
				s[2] = (char)cont[c];
				s[3] = '\0';
				same_member(s);
				for (size_t d = 0; d < sizeof(cont); d += 3) {
					s[3] = (char)cont[d];
					s[4] = 'x';
					s[5] = '\0';
					same_member(s);
				}
			}
	/* random mixtures (a fixed seed: the same strings every run) */
	uint32_t x = 2463534242u;
	static const char *const parts[] = { "a",
					     "\"",
					     "\\",
					     "\n",
					     "\x1f",
					     "\x7f",
					     "/",
					     "山",
					     "\xe2\x80\xa8",
					     "\xf0\x9f\x98\x80",
					     "\x80",
					     "\xc3",
					     "\xed\xa0\x80",
					     "\xf4\x90\x80\x80",
					     "\xe0\x80\x80",
					     " " };
	for (int n = 0; n < 20000; n++) {
		char buf[256] = "";
		size_t len = 0;
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		int k = (int)(x % 12);
		for (int i = 0; i < k; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			/* mostly valid pieces, so that some strings are kept */
			size_t pi = (x >> 8) % (sizeof(parts) / sizeof(parts[0]));
			if ((x & 3) != 0 && pi >= 10 && pi <= 14)
				pi = 7;
			size_t pl = strlen(parts[pi]);
			memcpy(buf + len, parts[pi], pl);
			len += pl;
		}
		buf[len] = '\0';
		same_member(buf);
	}
	/* long strings: the buffer grows */
	size_t big = 100000;
	char *l = malloc(big + 1);
	ck_assert_ptr_nonnull(l);
	for (size_t i = 0; i < big; i++)
		l[i] = "a\"\\\n\x01z"[i % 6];
	l[big] = '\0';
	same_member(l);
	free(l);
}
END_TEST

START_TEST(utf8_with_length)
{
	/* a length that cuts a sequence is not UTF-8; a NUL inside is */
	ck_assert(mdg_jsonw_utf8_ok("\xe5\xb1\xb1", 3));
	ck_assert(!mdg_jsonw_utf8_ok("\xe5\xb1\xb1", 2));
	ck_assert(!mdg_jsonw_utf8_ok("\xe5\xb1\xb1", 1));
	ck_assert(mdg_jsonw_utf8_ok("a\0b", 3));
	ck_assert(mdg_jsonw_utf8_ok("", 0));
	ck_assert(!mdg_jsonw_utf8_ok("\xf0\x9f\x98\x80", 3));
	ck_assert(mdg_jsonw_utf8_ok("\xf0\x9f\x98\x80", 4));
}
END_TEST

static void same_real(double v)
{
	json_t *o = json_object();
	json_object_set_new(o, "d", json_real(v));
	char *ref = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(o);

	struct mdg_jsonw w;
	mdg_jsonw_init(&w);
	mdg_jsonw_open_object(&w);
	mdg_jsonw_real(&w, "d", v, 6);
	mdg_jsonw_close_object(&w);
	char *got = mdg_jsonw_finish(&w, NULL);
	ck_assert_ptr_nonnull(got);
	ck_assert_ptr_nonnull(ref);
	if (strcmp(got, ref) != 0)
		fprintf(stderr, "%.17g: jansson %s, writer %s\n", v, ref, got);
	ck_assert_str_eq(got, ref);
	free(ref);
	free(got);
}

START_TEST(numbers_as_jansson)
{
	static const double v[] = { 0.0,    -0.0,    1.0,      -1.0,     0.5,
				    0.25,   0.1,     1.5,      12.345,   0.0042,
				    1e-7,   1.23e-5, 123456.,  1234567,  1e6,
				    1e15,   1e21,    1e100,    1e300,    -1e-300,
				    5e-324, 1.7e308, 999999.5, 99999.95, 3.14159265358979,
				    2.0e-4, 100.0,   1e5,      65535.0,  0.000999999,
				    1e-10 };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		same_real(v[i]);
	uint32_t x = 88172645u;
	for (int n = 0; n < 5000; n++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		double d = (double)x / (double)(1u << (x % 31)) * ((x & 1) ? 1e-3 : 1.0);
		same_real(d);
		same_real(-d * 1e-5);
	}
	/* not finite: jansson makes no real, so no member */
	struct mdg_jsonw w;
	mdg_jsonw_init(&w);
	mdg_jsonw_open_object(&w);
	ck_assert_int_eq(mdg_jsonw_real(&w, "d", NAN, 6), 0);
	ck_assert_int_eq(mdg_jsonw_real(&w, "d", INFINITY, 6), 0);
	ck_assert_int_eq(mdg_jsonw_real(&w, "d", -INFINITY, 6), 0);
	mdg_jsonw_close_object(&w);
	char *got = mdg_jsonw_finish(&w, NULL);
	ck_assert_str_eq(got, "{}");
	free(got);
	ck_assert_ptr_null(json_real(NAN));

	/* integers */
	static const long long iv[] = { 0, 1, -1, 200, 503, LLONG_MAX, LLONG_MIN, 999999999999999LL };
	for (size_t i = 0; i < sizeof(iv) / sizeof(iv[0]); i++) {
		json_t *o = json_object();
		json_object_set_new(o, "i", json_integer(iv[i]));
		char *ref = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		mdg_jsonw_init(&w);
		mdg_jsonw_open_object(&w);
		mdg_jsonw_int(&w, "i", iv[i]);
		mdg_jsonw_close_object(&w);
		got = mdg_jsonw_finish(&w, NULL);
		ck_assert_str_eq(got, ref);
		free(got);
		free(ref);
	}
}
END_TEST

START_TEST(writer_misuse)
{
	struct mdg_jsonw w;

	/* an object left open, a close too many, too deep: no text */
	mdg_jsonw_init(&w);
	mdg_jsonw_open_object(&w);
	ck_assert_ptr_null(mdg_jsonw_finish(&w, NULL));
	mdg_jsonw_init(&w);
	mdg_jsonw_open_object(&w);
	mdg_jsonw_close_object(&w);
	mdg_jsonw_close_object(&w);
	ck_assert_ptr_null(mdg_jsonw_finish(&w, NULL));
	mdg_jsonw_init(&w);
	mdg_jsonw_open_object(&w);
	for (int i = 0; i < MDG_JSONW_DEPTH + 1; i++)
		mdg_jsonw_key_object(&w, "o");
	for (int i = 0; i < MDG_JSONW_DEPTH + 2; i++)
		mdg_jsonw_close_object(&w);
	ck_assert_ptr_null(mdg_jsonw_finish(&w, NULL));
	/* an empty object, an empty array */
	mdg_jsonw_init(&w);
	mdg_jsonw_open_object(&w);
	mdg_jsonw_key_array(&w, "a");
	mdg_jsonw_close_array(&w);
	mdg_jsonw_key_object(&w, "o");
	mdg_jsonw_close_object(&w);
	mdg_jsonw_null(&w, "n");
	mdg_jsonw_close_object(&w);
	char *got = mdg_jsonw_finish(&w, NULL);
	ck_assert_str_eq(got, "{\"a\":[],\"o\":{},\"n\":null}");
	free(got);
}
END_TEST

/* ---------------------------------------------------------------- answers */

static struct mdg_anchors anchors;

static void same_answer(const struct mdg_outcome *o, const struct mdg_anchors *a, enum mdg_lang lang,
			const char *request_id)
{
	size_t rlen = 0, glen = 0;
	char *ref = ref_answer_json(o, a, lang, request_id, &rlen);
	char *got = mdg_answer_json(o, a, lang, request_id, &glen);

	ck_assert_ptr_nonnull(ref);
	ck_assert_ptr_nonnull(got);
	if (strcmp(ref, got) != 0)
		fprintf(stderr, "result %d status %u:\njansson: %s\nwriter:  %s\n", o->result, o->status, ref, got);
	ck_assert_str_eq(got, ref);
	ck_assert_uint_eq(glen, rlen);
	free(ref);
	free(got);
}

static void fill(struct mdg_outcome *o, const char *s, const char *crl_number, int have_receipt)
{
	o->have_cert = 1;
	snprintf(o->serial_hex, sizeof(o->serial_hex), "%s", s[0] ? s : "0a1b2c");
	snprintf(o->issuer, sizeof(o->issuer), "CN=%s,O=JPKI,C=JP", s);
	snprintf(o->not_before, sizeof(o->not_before), "%s", "2026-01-01T09:00:00+09:00");
	snprintf(o->not_after, sizeof(o->not_after), "%.25s", s);
	snprintf(o->applicant_name, sizeof(o->applicant_name), "%s", s);
	snprintf(o->checked_at, sizeof(o->checked_at), "%s", "2026-12-01T10:00:00+09:00");
	snprintf(o->checked_on_iso, sizeof(o->checked_on_iso), "%s", "2026-12-01");
	snprintf(o->checked_on_wareki, sizeof(o->checked_on_wareki), "令和8年12月1日%.30s", s);
	snprintf(o->crl_number, sizeof(o->crl_number), "%s", crl_number);
	snprintf(o->crl_this_update, sizeof(o->crl_this_update), "%s", "2026-12-01T00:00:00+09:00");
	o->have_acceptance = 1;
	snprintf(o->acceptance.receipt_id, sizeof(o->acceptance.receipt_id), "%.32s", s);
	snprintf(o->acceptance.accepted_at, sizeof(o->acceptance.accepted_at), "%s", "2026-12-01T10:00:00+09:00");
	snprintf(o->acceptance.effective_from, sizeof(o->acceptance.effective_from), "%s", "2026-12-02T00:00:00+09:00");
	o->receipt = have_receipt ? (char *)s : NULL;
}

START_TEST(answers_as_jansson)
{
	static const char *const crl_numbers[] = { "1",
						   "0",
						   "42",
						   "999999999999999",
						   "1000000000000000",
						   "",
						   "-1",
						   " 7",
						   "+7",
						   "12a",
						   "18446744073709551615",
						   "340282366920938463463374607431768211455" };
	static const char *const ids[] = { "0123456789abcdef", "", "\"\\\n", "\xff" };
	static const enum mdg_procedure procs[] = { MDG_PROC_NONE, MDG_PROC_REVOCATION, MDG_PROC_VALIDITY };
	size_t compared = 0;
	int seen[MDG_RESULT_COUNT] = { 0 };

	/* every reason of the table on every endpoint, bare and filled */
	for (int r = 0; r < MDG_REASON_COUNT; r++)
		for (size_t p = 0; p < 3; p++)
			for (int lang = 0; lang < 2; lang++) {
				struct mdg_outcome o;
				memset(&o, 0, sizeof(o));
				mdg_outcome_set(&o, procs[p], (enum mdg_reason)r, NULL);
				seen[o.result]++;
				same_answer(&o, NULL, (enum mdg_lang)lang, ids[0]);
				same_answer(&o, &anchors, (enum mdg_lang)lang, ids[0]);
				for (size_t h = 0; h < NHOSTILE; h++) {
					fill(&o, hostile[h], crl_numbers[h % 12], (int)(h & 1));
					same_answer(&o, &anchors, (enum mdg_lang)lang, ids[h % 4]);
					compared++;
				}
			}
	/* every result at every status class directly, every crlNumber */
	static const unsigned statuses[] = { 0, 200, 201, 399, 400, 404, 413, 422, 500, 503 };
	for (int res = 0; res < MDG_RESULT_COUNT; res++)
		for (size_t s = 0; s < sizeof(statuses) / sizeof(statuses[0]); s++)
			for (size_t p = 0; p < 3; p++)
				for (size_t c = 0; c < sizeof(crl_numbers) / sizeof(crl_numbers[0]); c++) {
					struct mdg_outcome o;
					memset(&o, 0, sizeof(o));
					o.result = (enum mdg_result)res;
					o.status = statuses[s];
					o.proc = procs[p];
					seen[res]++;
					fill(&o, hostile[(c + s) % NHOSTILE], crl_numbers[c], (int)(c & 1));
					o.have_cert = (int)(s & 1);
					o.have_acceptance = (int)((c >> 1) & 1);
					same_answer(&o, &anchors, (enum mdg_lang)(c & 1), ids[c % 4]);
					compared++;
				}
	for (int res = 0; res < MDG_RESULT_COUNT; res++)
		ck_assert_int_gt(seen[res], 0);
	ck_assert_uint_gt(compared, 5000);

	/* expectedIssuers with hostile names (and one jansson refuses) */
	size_t names[64];
	ck_assert_uint_eq(anchors.n, 3);
	ck_assert_uint_eq(mdg_anchors_names(&anchors, names, 64), 2);
	char *saved[64];
	for (size_t i = 0; i < anchors.n && i < 64; i++)
		saved[i] = anchors.v[i].subject_text;
	for (size_t h = 0; h < NHOSTILE; h++) {
		for (size_t i = 0; i < anchors.n && i < 64; i++)
			anchors.v[i].subject_text = (char *)hostile[(h + i) % NHOSTILE];
		struct mdg_outcome o;
		memset(&o, 0, sizeof(o));
		mdg_outcome_set(&o, MDG_PROC_VALIDITY, MDG_REASON_ISSUER_MISMATCH, NULL);
		same_answer(&o, &anchors, MDG_LANG_EN, ids[0]);
		fill(&o, hostile[h], "1", 0);
		same_answer(&o, &anchors, MDG_LANG_JA, ids[0]);
	}
	for (size_t i = 0; i < anchors.n && i < 64; i++)
		anchors.v[i].subject_text = saved[i];
}
END_TEST

/* -------------------------------------------------------------- log lines */

static void same_request_line(const char *t, const struct mdg_log_request *r)
{
	size_t len = 0;
	char *ref = ref_request_line(t, r);
	char *got = mdg_log_request_line(t, r, &len);

	ck_assert_ptr_nonnull(got);
	if (strcmp(ref, got) != 0)
		fprintf(stderr, "jansson: %swriter:  %s", ref, got);
	ck_assert_str_eq(got, ref);
	ck_assert_uint_eq(len, strlen(ref));
	free(ref);
	free(got);
}

START_TEST(log_lines_as_jansson)
{
	static const double durations[] = { 0.0,         0.0123456789, 1.5,  12.3456789, 999.99999,
					    123456789.0, 1e-9,         -0.5, NAN,        INFINITY };
	static const enum mdg_procedure procs[] = { MDG_PROC_NONE, MDG_PROC_REVOCATION, MDG_PROC_VALIDITY };
	const char *t = "2026-12-01T10:00:00+09:00";
	size_t n = 0;

	for (size_t h = 0; h < NHOSTILE + 1; h++) {
		const char *s = h < NHOSTILE ? hostile[h] : NULL;
		for (int field = 0; field < 9; field++)
			for (size_t d = 0; d < sizeof(durations) / sizeof(durations[0]); d += (field == 0 ? 1 : 4)) {
				struct mdg_log_request r = {
					.request_id = "0123456789abcdef",
					.method = "POST",
					.path = "/v1/validity-checks",
					.proc = procs[(h + field) % 3],
					.result = mdg_result_name((enum mdg_result)((h + d) % MDG_RESULT_COUNT)),
					.status = (unsigned)(200 + h * 7 + d),
					.duration_ms = durations[d],
					.client = "127.0.0.1",
					.reason = (h & 1) ? "valid" : NULL,
					.level = (h & 2) ? "error" : NULL,
					.store_error = (h & 4) ? "database is locked" : NULL,
				};
				switch (field) {
				case 0:
					break;
				case 1:
					r.request_id = s;
					break;
				case 2:
					r.method = s;
					break;
				case 3:
					r.path = s;
					break;
				case 4:
					r.result = s;
					break;
				case 5:
					r.client = s;
					break;
				case 6:
					r.reason = s;
					break;
				case 7:
					r.level = s;
					break;
				case 8:
					r.store_error = s;
					break;
				}
				same_request_line(t, &r);
				n++;
			}
		/* service messages */
		char *ref = ref_msg_line(t, "info", s != NULL ? s : "");
		char *got = mdg_log_msg_line(t, "info", s != NULL ? s : "", NULL);
		ck_assert_str_eq(got, ref);
		free(ref);
		free(got);
		ref = ref_msg_line(t, s, "a message");
		got = mdg_log_msg_line(t, s, "a message", NULL);
		ck_assert_str_eq(got, ref);
		free(ref);
		free(got);
	}
	/* every reason as the HTTP layer logs it */
	for (int reason = 0; reason < MDG_REASON_COUNT; reason++) {
		struct mdg_outcome o;
		memset(&o, 0, sizeof(o));
		mdg_outcome_set(&o, MDG_PROC_REVOCATION, (enum mdg_reason)reason, NULL);
		struct mdg_log_request r = {
			.request_id = "fedcba9876543210",
			.method = "POST",
			.path = "/v1/revocations",
			.proc = MDG_PROC_REVOCATION,
			.result = mdg_reason_has_result((enum mdg_reason)reason) ? mdg_result_name(o.result) : NULL,
			.status = o.status,
			.duration_ms = 3.25 * reason,
			.client = "::1",
			.reason = o.why,
			.level = mdg_reason_log_level((enum mdg_reason)reason),
			.store_error =
				mdg_reason_blame((enum mdg_reason)reason) == MDG_BLAME_STORE ? "disk I/O error" : NULL,
		};
		same_request_line(t, &r);
		n++;
	}
	ck_assert_uint_gt(n, 500);
}
END_TEST

/* ------------------------------------------------------------------- main */

/* a self-signed CA certificate (P-256: no RSA key generation) as PEM */
static int add_ca(BIO *out, const char *cn, long serial)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX ctx;

	if (key == NULL)
		return -1;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, (const unsigned char *)"JP", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *bc = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
	X509_EXTENSION *ku = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
	X509_add_ext(x, bc, -1);
	X509_add_ext(x, ku, -1);
	int ok = X509_sign(x, key, EVP_sha256()) > 0 && PEM_write_bio_X509(out, x) == 1;
	X509_EXTENSION_free(bc);
	X509_EXTENSION_free(ku);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(key);
	return ok ? 0 : -1;
}

int main(void)
{
	char err[256];
	char *pem;
	BIO *b = BIO_new(BIO_s_mem());

	/* three anchors, two generations sharing a name: two expectedIssuers */
	if (add_ca(b, "Test JPKI CA G1", 1) != 0 || add_ca(b, "Test JPKI CA G1", 2) != 0 ||
	    add_ca(b, "テスト都道府県 CA", 3) != 0) {
		fprintf(stderr, "test_jsonw: making the test anchors failed\n");
		return EXIT_FAILURE;
	}
	long n = BIO_get_mem_data(b, &pem);
	if (mdg_anchors_load_pem(&anchors, pem, (size_t)n, err, sizeof(err)) != 0) {
		fprintf(stderr, "test_jsonw: anchors: %s\n", err);
		return EXIT_FAILURE;
	}
	BIO_free(b);

	Suite *s = suite_create("jsonw");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, strings_as_jansson);
	tcase_add_test(tc, utf8_with_length);
	tcase_add_test(tc, numbers_as_jansson);
	tcase_add_test(tc, writer_misuse);
	tcase_add_test(tc, answers_as_jansson);
	tcase_add_test(tc, log_lines_as_jansson);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	mdg_anchors_free(&anchors);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
