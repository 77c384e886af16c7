/* The pipeline as a whole: mdg_process over real signed requests of the
 * test PKI (MDG_MKPKI, tests/pki/LAYOUT.md) and a fake store answering
 * from tables, asserting the reason of each check of DESIGN.md "Checks, in
 * this order": one case per row of the result table and per check that
 * can fail, and the order (a request failing two checks gets the earlier
 * one's reason). Also the reason table itself. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "anchors.h"
#include "certcache.h"
#include "config.h"
#include "nonce.h"
#include "pipeline.h"
#include "result.h"
#include "store.h"

#define REV MDG_PROC_REVOCATION
#define VAL MDG_PROC_VALIDITY

/* the test PKI, made once in main */
static char pki[2048];
static struct mdg_anchors anchors;
static struct mdg_config cfg;
static struct mdg_nonce_key nonce_key;
static time_t now;

/* ------------------------------------------------------------ fake store */

#define FAKE_ROWS 16

struct fake_scope {
	int held; /* 0: NOT_FOUND */
	time_t next_update;
};

struct fake {
	/* CRL entries: serials (magnitudes) listed for the anchor name */
	unsigned char revoked[FAKE_ROWS][MDG_SERIAL_MAX];
	size_t revoked_len[FAKE_ROWS];
	size_t n_revoked;
	/* the acceptance log */
	unsigned char accepted[FAKE_ROWS][MDG_SERIAL_MAX];
	size_t accepted_len[FAKE_ROWS];
	struct mdg_acceptance_ref refs[FAKE_ROWS];
	size_t n_accepted;
	/* CRL scopes: the partition CRL of any distribution point, the full one */
	struct fake_scope dp, full;
	/* faults: the operation answers MDG_STORE_ERROR */
	int fail_crl_lookup, fail_find, fail_insert, fail_scope;
	int conflict_on_insert; /* insert answers CONFLICT (a concurrent acceptance) */
	int inserts, scope_calls_dp, scope_calls_full, snapshots_open;
	const char *error;
};

static int find_serial(unsigned char (*v)[MDG_SERIAL_MAX], const size_t *lens, size_t n, const unsigned char *s,
		       size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (lens[i] == len && memcmp(v[i], s, len) == 0)
			return (int)i;
	return -1;
}

static enum mdg_store_status fake_find(void *cls, const unsigned char *issuer, size_t issuer_len,
				       const unsigned char *serial, size_t serial_len, struct mdg_acceptance_ref *out)
{
	struct fake *f = cls;
	int i;

	(void)issuer;
	(void)issuer_len;
	if (f->fail_find) {
		f->error = "fake: find_acceptance: disk I/O error";
		return MDG_STORE_ERROR;
	}
	if ((i = find_serial(f->accepted, f->accepted_len, f->n_accepted, serial, serial_len)) < 0)
		return MDG_STORE_NOT_FOUND;
	*out = f->refs[i];
	return MDG_STORE_OK;
}

static void fake_accept(struct fake *f, const unsigned char *serial, size_t len, const char *receipt_id)
{
	size_t i = f->n_accepted++;

	ck_assert_uint_lt(i, FAKE_ROWS);
	memcpy(f->accepted[i], serial, len);
	f->accepted_len[i] = len;
	memset(&f->refs[i], 0, sizeof(f->refs[i]));
	f->refs[i].seq = (int64_t)i + 1;
	snprintf(f->refs[i].receipt_id, sizeof(f->refs[i].receipt_id), "%s", receipt_id);
	snprintf(f->refs[i].accepted_at, sizeof(f->refs[i].accepted_at), "2026-11-27T10:00:00+09:00");
	snprintf(f->refs[i].effective_from, sizeof(f->refs[i].effective_from), "2026-11-28T00:00:00+09:00");
}

static enum mdg_store_status fake_insert(void *cls, const struct mdg_acceptance_new *a, struct mdg_acceptance_ref *out)
{
	struct fake *f = cls;

	f->inserts++;
	if (f->fail_insert) {
		f->error = "fake: insert_acceptance: database or disk is full";
		return MDG_STORE_ERROR;
	}
	if (f->conflict_on_insert) {
		fake_accept(f, a->serial, a->serial_len, "ffffffffffffffffffffffffffffffff");
		*out = f->refs[f->n_accepted - 1];
		return MDG_STORE_CONFLICT;
	}
	fake_accept(f, a->serial, a->serial_len, a->receipt_id);
	*out = f->refs[f->n_accepted - 1];
	snprintf(out->accepted_at, sizeof(out->accepted_at), "%s", a->accepted_at);
	snprintf(out->effective_from, sizeof(out->effective_from), "%s", a->effective_from);
	return MDG_STORE_OK;
}

static enum mdg_store_status fake_crl_lookup(void *cls, const unsigned char *issuer, size_t issuer_len,
					     const unsigned char *serial, size_t serial_len, int *revoked)
{
	struct fake *f = cls;

	(void)issuer;
	(void)issuer_len;
	if (f->fail_crl_lookup) {
		f->error = "fake: crl_lookup: database is locked";
		return MDG_STORE_ERROR;
	}
	*revoked = find_serial(f->revoked, f->revoked_len, f->n_revoked, serial, serial_len) >= 0;
	return MDG_STORE_OK;
}

static enum mdg_store_status fake_crl_scope(void *cls, const unsigned char *issuer, size_t issuer_len,
					    const unsigned char *dp, size_t dp_len, struct mdg_crl_scope *out)
{
	struct fake *f = cls;
	const struct fake_scope *s = dp != NULL ? &f->dp : &f->full;

	(void)issuer;
	(void)issuer_len;
	(void)dp_len;
	if (dp != NULL)
		f->scope_calls_dp++;
	else
		f->scope_calls_full++;
	if (f->fail_scope) {
		f->error = "fake: crl_scope: no such table: crls";
		return MDG_STORE_ERROR;
	}
	if (!s->held)
		return MDG_STORE_NOT_FOUND;
	memset(out, 0, sizeof(*out));
	out->id = dp != NULL ? 2 : 1;
	out->number[0] = 10;
	out->number_len = 1;
	out->this_update = now - 3600;
	out->next_update = s->next_update;
	out->imported_at = now - 3000;
	return MDG_STORE_OK;
}

static enum mdg_store_status fake_read_begin(void *cls)
{
	((struct fake *)cls)->snapshots_open++;
	return MDG_STORE_OK;
}

static void fake_read_end(void *cls)
{
	((struct fake *)cls)->snapshots_open--;
}

static const char *fake_error(void *cls)
{
	const struct fake *f = cls;

	return f->error != NULL ? f->error : "";
}

static void fake_close(void *cls)
{
	(void)cls;
}

/* Only what the pipeline calls; the rest stays NULL (never reached). */
static const struct mdg_store_ops fake_ops = {
	.find_acceptance = fake_find,
	.insert_acceptance = fake_insert,
	.crl_lookup = fake_crl_lookup,
	.crl_scope = fake_crl_scope,
	.read_begin = fake_read_begin,
	.read_end = fake_read_end,
	.error = fake_error,
	.close = fake_close,
};

/* A store whose CRLs are fresh (partition and full) and that holds nothing. */
static void fake_init(struct fake *f, struct mdg_store *st)
{
	memset(f, 0, sizeof(*f));
	f->dp.held = f->full.held = 1;
	f->dp.next_update = f->full.next_update = now + 23 * 3600;
	st->ops = &fake_ops;
	st->cls = f;
}

/* -------------------------------------------------------------- requests */

struct holder {
	X509 *cert;
	EVP_PKEY *key;
	char applicant[2048]; /* applicant.json */
	unsigned char serial[MDG_SERIAL_MAX];
	size_t serial_len;
};

static void read_file(const char *path, char *out, size_t outlen)
{
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_msg(f != NULL, "%s", path);
	n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	fclose(f);
}

static void load_holder(const char *name, struct holder *h)
{
	char path[2300];
	FILE *f;
	BIGNUM *bn;

	memset(h, 0, sizeof(*h));
	snprintf(path, sizeof(path), "%s/holders/%s.cert.pem", pki, name);
	ck_assert_msg((f = fopen(path, "r")) != NULL, "%s", path);
	ck_assert_ptr_nonnull(h->cert = PEM_read_X509(f, NULL, NULL, NULL));
	fclose(f);
	snprintf(path, sizeof(path), "%s/holders/%s.key.pem", pki, name);
	ck_assert_msg((f = fopen(path, "r")) != NULL, "%s", path);
	ck_assert_ptr_nonnull(h->key = PEM_read_PrivateKey(f, NULL, NULL, NULL));
	fclose(f);
	snprintf(path, sizeof(path), "%s/holders/%s.applicant.json", pki, name);
	read_file(path, h->applicant, sizeof(h->applicant));
	ck_assert_ptr_nonnull(bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(h->cert), NULL));
	ck_assert_int_le(BN_num_bytes(bn), MDG_SERIAL_MAX);
	h->serial_len = (size_t)BN_bn2bin(bn, h->serial);
	BN_free(bn);
}

static void free_holder(struct holder *h)
{
	X509_free(h->cert);
	EVP_PKEY_free(h->key);
}

static void fake_revoke(struct fake *f, const struct holder *h)
{
	size_t i = f->n_revoked++;

	ck_assert_uint_lt(i, FAKE_ROWS);
	memcpy(f->revoked[i], h->serial, h->serial_len);
	f->revoked_len[i] = h->serial_len;
}

/* How a request is to be made wrong (0: not at all). */
enum {
	BAD_NONCE = 1 << 0,       /* a nonce that is not authentic */
	OLD_NONCE = 1 << 1,       /* an authentic nonce past nonce_ttl */
	BAD_SIGNATURE = 1 << 2,   /* the signature's last byte flipped */
	OTHER_APPLICANT = 1 << 3, /* the form's name is not the certificate's */
	WRONG_PROCEDURE = 1 << 4, /* the form names the other procedure */
	UNKNOWN_KEY = 1 << 5,     /* the form has a key the contract does not know */
	UNREADABLE_CERT = 1 << 6, /* the certificate's serial tag made an OCTET STRING */
};

static unsigned char *cms_sign(const struct holder *h, const char *content, size_t *len)
{
	BIO *in = BIO_new_mem_buf(content, (int)strlen(content));
	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_PARTIAL | CMS_BINARY);
	unsigned char *der = NULL, *out;
	int n;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(cms);
	ck_assert_ptr_nonnull(CMS_add1_signer(cms, h->cert, h->key, EVP_sha256(), CMS_BINARY));
	ck_assert_int_eq(CMS_final(cms, in, NULL, CMS_BINARY), 1);
	ck_assert_int_gt(n = i2d_CMS_ContentInfo(cms, &der), 0);
	ck_assert_ptr_nonnull(out = malloc((size_t)n));
	memcpy(out, der, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return out;
}

/* The certificate's serialNumber tag (after "a0 03 02 01 02", the v3
 * version) turned into an OCTET STRING of the same length: still strict
 * DER, no longer a certificate. */
static void spoil_certificate(unsigned char *der, size_t len, X509 *cert)
{
	unsigned char *cd = NULL;
	int cn = i2d_X509(cert, &cd);
	static const unsigned char version[] = { 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02 };
	size_t i, j;

	ck_assert_int_gt(cn, 0);
	for (i = 0; i + (size_t)cn <= len; i++)
		if (memcmp(der + i, cd, (size_t)cn) == 0)
			break;
	ck_assert_msg(i + (size_t)cn <= len, "the certificate is in the request");
	for (j = i; j + sizeof(version) <= i + (size_t)cn; j++)
		if (memcmp(der + j, version, sizeof(version)) == 0)
			break;
	ck_assert_msg(j + sizeof(version) <= i + (size_t)cn, "the certificate's version and serial");
	der[j + sizeof(version) - 1] = 0x04;
	OPENSSL_free(cd);
}

static unsigned char *make_request(const struct holder *h, enum mdg_procedure proc, unsigned how, size_t *len)
{
	char nonce[MDG_NONCE_TEXT_LEN], form[4096], applicant[2048];
	const char *pname = mdg_procedure_name((how & WRONG_PROCEDURE) ? (proc == REV ? VAL : REV) : proc);
	time_t expires;
	unsigned char *der;

	ck_assert_int_eq(mdg_nonce_issue(&nonce_key, (how & OLD_NONCE) ? now - cfg.nonce_ttl - 60 : now, cfg.nonce_ttl,
					 nonce, &expires),
			 0);
	if (how & BAD_NONCE)
		snprintf(nonce, sizeof(nonce), "AAAA");
	snprintf(applicant, sizeof(applicant), "%s", h->applicant);
	if (how & OTHER_APPLICANT) {
		/* the name's first byte: a different (still valid UTF-8) name */
		char *p = strstr(applicant, "\"name\":\"");
		ck_assert_ptr_nonnull(p);
		memmove(p + 9, p + 8, strlen(p + 8) + 1);
		p[8] = 'X';
	}
	snprintf(form, sizeof(form), "{\"procedure\":\"%s\",\"applicant\":%s,\"nonce\":\"%s\"%s%s}", pname, applicant,
		 nonce, proc == REV ? ",\"reason\":\"keyCompromise\"" : "",
		 (how & UNKNOWN_KEY) ? ",\"comment\":\"x\"" : "");
	der = cms_sign(h, form, len);
	if (how & BAD_SIGNATURE)
		der[*len - 1] ^= 0x01; /* no unsigned attributes: the signature ends the DER */
	if (how & UNREADABLE_CERT)
		spoil_certificate(der, *len, h->cert);
	return der;
}

/* --------------------------------------------------------------- running */

static struct mdg_pipeline pipeline;

static void process(struct mdg_store *st, enum mdg_procedure proc, const char *ctype, const unsigned char *body,
		    size_t len, int too_large, struct mdg_outcome *out)
{
	struct mdg_input in = {
		.proc = proc,
		.content_type = ctype,
		.body = body,
		.len = len,
		.too_large = too_large,
		.client_addr = "192.0.2.1",
		.now = now,
	};

	mdg_process(&pipeline, st, &in, out);
}

/* The outcome is the reason's row of the table, whole. */
static void assert_reason(const struct mdg_outcome *o, enum mdg_reason want, const char *what)
{
	ck_assert_msg(o->reason == want, "%s: reason %s (%s), want %s", what, mdg_reason_name(o->reason),
		      o->why != NULL ? o->why : "-", mdg_reason_name(want));
	ck_assert_msg(o->result == mdg_reason_result(want), "%s: result %s", what, mdg_result_name(o->result));
	ck_assert_msg(o->status == mdg_reason_status(want, o->proc), "%s: status %u", what, o->status);
	ck_assert_uint_eq(o->retry_after, mdg_reason_retry_after(want));
	ck_assert_ptr_nonnull(o->why);
}

/* One holder's request, made wrong as how says, on a store set up by the
 * caller: the reason, with and without the certificate cache (whose second
 * sighting takes the cached path). */
static void expect_with(const char *holder, enum mdg_procedure proc, unsigned how, struct mdg_store *st,
			enum mdg_reason want)
{
	struct holder h;
	struct mdg_outcome o;
	struct mdg_certcache *cache = mdg_certcache_new(16);
	unsigned char *der;
	size_t len;
	char what[256];
	struct fake saved;
	int round;

	memset(&saved, 0, sizeof(saved));
	ck_assert_ptr_nonnull(cache);
	load_holder(holder, &h);
	der = make_request(&h, proc, how, &len);
	if (st != NULL)
		saved = *(struct fake *)st->cls;
	for (round = 0; round < 3; round++) {
		/* the same store for every round: what a round wrote is undone */
		if (st != NULL)
			*(struct fake *)st->cls = saved;
		pipeline.cache = round == 0 ? NULL : cache;
		snprintf(what, sizeof(what), "%s %s (how %#x, round %d)", holder, mdg_procedure_name(proc), how, round);
		process(st, proc, "application/pkcs7-mime", der, len, 0, &o);
		assert_reason(&o, want, what);
		if (st != NULL)
			ck_assert_int_eq(((struct fake *)st->cls)->snapshots_open, 0);
	}
	pipeline.cache = NULL;
	free(der);
	free_holder(&h);
	mdg_certcache_free(cache);
}

static void expect(const char *holder, enum mdg_procedure proc, unsigned how, enum mdg_reason want)
{
	struct fake f;
	struct mdg_store st;

	fake_init(&f, &st);
	expect_with(holder, proc, how, &st, want);
}

/* ----------------------------------------------------------------- tests */

/* The reason table: a row per reason, a reason per result, the procedures
 * DESIGN.md "Results" gives each result on, and the log level of blame. */
START_TEST(reason_table)
{
	static const struct {
		enum mdg_result r;
		int rev, val;
	} occurs[] = {
		{ MDG_ACCEPTED, 1, 0 },
		{ MDG_VALID, 0, 1 },
		{ MDG_REVOKED, 1, 1 },
		{ MDG_REVOCATION_ACCEPTED, 1, 1 },
		{ MDG_EXPIRED, 1, 1 },
		{ MDG_NOT_YET_VALID, 0, 1 },
		{ MDG_ISSUER_MISMATCH, 1, 1 },
		{ MDG_BAD_CERTIFICATE_SIGNATURE, 1, 1 },
		{ MDG_BAD_REQUEST_SIGNATURE, 1, 1 },
		{ MDG_MALFORMED, 1, 1 },
		{ MDG_BAD_NONCE, 1, 1 },
		{ MDG_BUSY, 1, 1 },
		{ MDG_SERVICE_ERROR, 1, 1 },
	};
	_Static_assert(sizeof(occurs) / sizeof(occurs[0]) == MDG_RESULT_COUNT, "every result");

	for (size_t i = 0; i < MDG_RESULT_COUNT; i++) {
		ck_assert_msg(mdg_result_occurs(occurs[i].r, REV) == occurs[i].rev, "%s on revocation",
			      mdg_result_name(occurs[i].r));
		ck_assert_msg(mdg_result_occurs(occurs[i].r, VAL) == occurs[i].val, "%s on validity-check",
			      mdg_result_name(occurs[i].r));
	}
	for (int i = 0; i < MDG_REASON_COUNT; i++) {
		enum mdg_reason r = (enum mdg_reason)i;
		enum mdg_blame b = mdg_reason_blame(r);

		ck_assert_msg(mdg_reason_name(r) != NULL && mdg_reason_name(r)[0] != '\0', "reason %d named", i);
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(mdg_reason_name(r), mdg_reason_name((enum mdg_reason)j));
		ck_assert_str_eq(mdg_reason_log_level(r),
				 b == MDG_BLAME_OURS || b == MDG_BLAME_STORE ? "error" : "info");
		for (int p = MDG_PROC_NONE; p <= MDG_PROC_VALIDITY; p++) {
			unsigned s = mdg_reason_status(r, (enum mdg_procedure)p);
			if (mdg_reason_has_result(r))
				ck_assert_msg(s >= 200 && s <= 599, "%s: status %u", mdg_reason_name(r), s);
			/* 503 comes with Retry-After, and only it */
			if (mdg_reason_has_result(r))
				ck_assert_msg((s == 503) == (mdg_reason_retry_after(r) > 0), "%s: Retry-After",
					      mdg_reason_name(r));
		}
		if (mdg_reason_has_result(r) && mdg_reason_result(r) == MDG_SERVICE_ERROR)
			ck_assert_msg(b == MDG_BLAME_OURS || b == MDG_BLAME_STORE, "%s: a fault", mdg_reason_name(r));
	}
	/* rows named in DESIGN.md */
	ck_assert_uint_eq(mdg_reason_status(MDG_REASON_BUSY, REV), 503);
	ck_assert_uint_gt(mdg_reason_retry_after(MDG_REASON_BUSY), 0);
	ck_assert_uint_eq(mdg_reason_status(MDG_REASON_BODY_TOO_LARGE, VAL), 413);
	ck_assert_uint_eq(mdg_reason_status(MDG_REASON_WRONG_MEDIA_TYPE, REV), 415);
	ck_assert_uint_eq(mdg_reason_status(MDG_REASON_UNKNOWN_PATH, MDG_PROC_NONE), 404);
	ck_assert_uint_eq(mdg_reason_status(MDG_REASON_WRONG_METHOD, REV), 405);
	ck_assert_uint_eq(mdg_reason_status(MDG_REASON_REVOKED, REV), 409);
	ck_assert_uint_eq(mdg_reason_status(MDG_REASON_REVOKED, VAL), 200);
	ck_assert_uint_eq(mdg_reason_status(MDG_REASON_EXPIRED, REV), 422);
	ck_assert_uint_eq(mdg_reason_status(MDG_REASON_ACCEPTED, REV), 201);
	ck_assert_uint_eq(mdg_reason_status(MDG_REASON_STORE_FAILED, REV), 500);
	ck_assert_uint_eq(mdg_reason_status(MDG_REASON_CRL_STALE, VAL), 503);
	ck_assert_uint_eq(mdg_reason_status(MDG_REASON_NO_CRL, VAL), 503);
	ck_assert_int_eq(mdg_reason_blame(MDG_REASON_STORE_FAILED), MDG_BLAME_STORE);
	ck_assert_int_eq(mdg_reason_blame(MDG_REASON_NO_RANDOMNESS), MDG_BLAME_OURS);
	ck_assert_int_eq(mdg_reason_blame(MDG_REASON_BAD_CMS), MDG_BLAME_THEIRS);
	ck_assert_str_eq(mdg_reason_log_level(MDG_REASON_STORE_FAILED), "error");
	ck_assert_str_eq(mdg_reason_log_level(MDG_REASON_NOT_DER), "info");
	ck_assert(!mdg_reason_has_result(MDG_REASON_REQUEST_TIMEOUT));
	ck_assert_uint_eq(mdg_reason_status(MDG_REASON_REQUEST_TIMEOUT, REV), 0);
	/* out of range: a fault of ours, never a read past the table */
	ck_assert_int_eq(mdg_reason_result((enum mdg_reason)MDG_REASON_COUNT), MDG_SERVICE_ERROR);
	ck_assert_int_eq(mdg_reason_blame((enum mdg_reason)MDG_REASON_COUNT), MDG_BLAME_OURS);
}
END_TEST

/* 2. format: size, media type, DER, CMS, certificate, form; the first of
 * these decides, before anything the request claims is looked at. */
START_TEST(format)
{
	struct fake f;
	struct mdg_store st;
	struct mdg_outcome o;
	struct holder h;
	unsigned char *der;
	size_t len;
	static const unsigned char garbage[] = "not a CMS";

	fake_init(&f, &st);
	load_holder("valid-01", &h);
	der = make_request(&h, VAL, 0, &len);
	/* a valid request answers valid here... */
	process(&st, VAL, "application/cms; charset=binary", der, len, 0, &o);
	assert_reason(&o, MDG_REASON_VALID, "the well-formed request");
	/* ...over max_body it is 413 whatever else it is */
	process(&st, VAL, "application/pkcs7-mime", der, len, 1, &o);
	assert_reason(&o, MDG_REASON_BODY_TOO_LARGE, "too large");
	process(&st, REV, "text/plain", garbage, sizeof(garbage) - 1, 1, &o);
	assert_reason(&o, MDG_REASON_BODY_TOO_LARGE, "too large, wrong media type, not DER");
	process(&st, VAL, "text/plain", der, len, 0, &o);
	assert_reason(&o, MDG_REASON_WRONG_MEDIA_TYPE, "text/plain");
	process(&st, VAL, NULL, der, len, 0, &o);
	assert_reason(&o, MDG_REASON_WRONG_MEDIA_TYPE, "no Content-Type");
	process(&st, VAL, "application/json", garbage, sizeof(garbage) - 1, 0, &o);
	assert_reason(&o, MDG_REASON_WRONG_MEDIA_TYPE, "wrong media type, not DER");
	process(&st, VAL, "application/pkcs7-mime", garbage, 0, 0, &o);
	assert_reason(&o, MDG_REASON_NOT_DER, "empty body");
	process(&st, VAL, "application/pkcs7-mime", garbage, sizeof(garbage) - 1, 0, &o);
	assert_reason(&o, MDG_REASON_NOT_DER, "not DER");
	process(&st, VAL, "application/pkcs7-mime", der, len - 1, 0, &o);
	assert_reason(&o, MDG_REASON_NOT_DER, "truncated");
	free(der);
	/* strict DER, but a certificate, not a SignedData */
	{
		unsigned char *cd = NULL;
		int n = i2d_X509(h.cert, &cd);

		ck_assert_int_gt(n, 0);
		process(&st, VAL, "application/pkcs7-mime", cd, (size_t)n, 0, &o);
		assert_reason(&o, MDG_REASON_BAD_CMS, "a certificate as the body");
		OPENSSL_free(cd);
	}
	ck_assert_int_eq(f.scope_calls_dp + f.scope_calls_full, 1); /* only the valid one looked */
	free_holder(&h);

	expect("valid-01", VAL, UNREADABLE_CERT, MDG_REASON_BAD_CERT);
	expect("valid-01", REV, UNREADABLE_CERT | BAD_NONCE, MDG_REASON_BAD_CERT);
	expect("valid-01", VAL, UNKNOWN_KEY, MDG_REASON_BAD_FORM);
	expect("valid-01", VAL, WRONG_PROCEDURE, MDG_REASON_BAD_FORM);
	expect("valid-01", REV, WRONG_PROCEDURE, MDG_REASON_BAD_FORM);
	/* the form before the issuer, the signature and the nonce */
	expect("unknown", VAL, UNKNOWN_KEY | BAD_SIGNATURE | BAD_NONCE, MDG_REASON_BAD_FORM);
}
END_TEST

/* 3. issuer, 4. certificate, 5. request signature, 6. nonce: each, and
 * each before the later ones. */
START_TEST(issuer_certificate_signature_nonce)
{
	/* 3. issuer */
	expect("unknown", VAL, 0, MDG_REASON_ISSUER_MISMATCH);
	expect("unknown", REV, 0, MDG_REASON_ISSUER_MISMATCH);
	expect("unknown", VAL, BAD_NONCE, MDG_REASON_ISSUER_MISMATCH);
	expect("unknown", REV, BAD_SIGNATURE | OTHER_APPLICANT | OLD_NONCE, MDG_REASON_ISSUER_MISMATCH);

	/* 4. certificate: the CA's signature, then the JPKI profile */
	expect("impostor", VAL, 0, MDG_REASON_CERT_SIGNATURE);
	expect("impostor", REV, BAD_NONCE, MDG_REASON_CERT_SIGNATURE);
	expect("before-anchor", VAL, 0, MDG_REASON_CERT_SIGNATURE);
	expect("sha1cert", REV, 0, MDG_REASON_CERT_SIGNATURE);
	expect("badpolicy", VAL, 0, MDG_REASON_CERT_PROFILE);
	expect("nokeyusage", REV, 0, MDG_REASON_CERT_PROFILE);
	expect("unknowncrit", VAL, 0, MDG_REASON_CERT_PROFILE);
	expect("twonames", REV, 0, MDG_REASON_CERT_PROFILE);
	/* no facts in the certificate: the profile, not the applicant */
	expect("nofacts", VAL, OTHER_APPLICANT, MDG_REASON_CERT_PROFILE);
	expect("badpolicy", REV, BAD_SIGNATURE | BAD_NONCE, MDG_REASON_CERT_PROFILE);

	/* 5. request signature: the signature, then the applicant */
	expect("valid-01", VAL, BAD_SIGNATURE, MDG_REASON_REQUEST_SIGNATURE);
	expect("valid-ec", REV, BAD_SIGNATURE, MDG_REASON_REQUEST_SIGNATURE);
	expect("valid-01", REV, BAD_SIGNATURE | OTHER_APPLICANT | BAD_NONCE, MDG_REASON_REQUEST_SIGNATURE);
	expect("valid-01", VAL, OTHER_APPLICANT, MDG_REASON_APPLICANT_MISMATCH);
	expect("valid-02", REV, OTHER_APPLICANT | OLD_NONCE, MDG_REASON_APPLICANT_MISMATCH);

	/* 6. nonce: not authentic, or past nonce_ttl; before the dates */
	expect("valid-01", VAL, BAD_NONCE, MDG_REASON_BAD_NONCE);
	expect("valid-01", REV, OLD_NONCE, MDG_REASON_BAD_NONCE);
	expect("expired", REV, BAD_NONCE, MDG_REASON_BAD_NONCE);
	expect("notyet", VAL, OLD_NONCE, MDG_REASON_BAD_NONCE);
}
END_TEST

/* 7. dates, before the CRL, the acceptance log and the store as a whole. */
START_TEST(dates)
{
	struct fake f;
	struct mdg_store st;
	struct holder h;

	expect("expired", VAL, 0, MDG_REASON_EXPIRED);
	expect("expired", REV, 0, MDG_REASON_EXPIRED);
	expect("notyet", VAL, 0, MDG_REASON_NOT_YET_VALID);
	/* a revocation of a not-yet-valid certificate proceeds */
	expect("notyet", REV, 0, MDG_REASON_ACCEPTED);

	/* expired + revoked: expired; expired + already accepted: expired */
	load_holder("expired", &h);
	fake_init(&f, &st);
	fake_revoke(&f, &h);
	fake_accept(&f, h.serial, h.serial_len, "00000000000000000000000000000001");
	expect_with("expired", VAL, 0, &st, MDG_REASON_EXPIRED);
	expect_with("expired", REV, 0, &st, MDG_REASON_EXPIRED);
	free_holder(&h);
	/* not yet valid + revoked: notYetValid */
	load_holder("notyet", &h);
	fake_init(&f, &st);
	fake_revoke(&f, &h);
	expect_with("notyet", VAL, 0, &st, MDG_REASON_NOT_YET_VALID);
	free_holder(&h);
	/* a store that fails everything is never asked */
	fake_init(&f, &st);
	f.fail_crl_lookup = f.fail_find = f.fail_insert = f.fail_scope = 1;
	expect_with("expired", REV, 0, &st, MDG_REASON_EXPIRED);
	ck_assert_ptr_null(f.error);
	expect_with("expired", VAL, 0, NULL, MDG_REASON_EXPIRED);
	/* no store at all, once one is needed */
	expect_with("valid-01", VAL, 0, NULL, MDG_REASON_NO_STORE);
	expect_with("valid-01", REV, 0, NULL, MDG_REASON_NO_STORE);
	ck_assert_int_eq(mdg_reason_blame(MDG_REASON_NO_STORE), MDG_BLAME_STORE);
}
END_TEST

/* 8. CRL, 9. acceptance log: revoked before already accepted. */
START_TEST(crl_and_acceptance_log)
{
	struct fake f;
	struct mdg_store st;
	struct holder h;

	load_holder("valid-03", &h);
	fake_init(&f, &st);
	fake_revoke(&f, &h);
	expect_with("valid-03", VAL, 0, &st, MDG_REASON_REVOKED);
	expect_with("valid-03", REV, 0, &st, MDG_REASON_REVOKED);
	ck_assert_int_eq(f.inserts, 0);
	/* revoked + accepted: revoked */
	fake_accept(&f, h.serial, h.serial_len, "00000000000000000000000000000002");
	expect_with("valid-03", REV, 0, &st, MDG_REASON_REVOKED);
	/* revoked + stale CRL: revoked (the CRL says so however old) */
	f.dp.next_update = f.full.next_update = now - 3 * 86400;
	expect_with("valid-03", VAL, 0, &st, MDG_REASON_REVOKED);

	/* accepted before: revocationAccepted, on both procedures */
	fake_init(&f, &st);
	fake_accept(&f, h.serial, h.serial_len, "00000000000000000000000000000003");
	expect_with("valid-03", REV, 0, &st, MDG_REASON_REVOCATION_ACCEPTED);
	expect_with("valid-03", VAL, 0, &st, MDG_REASON_REVOCATION_ACCEPTED);
	ck_assert_int_eq(f.inserts, 0);
	/* accepted + stale or no CRL: revocationAccepted still */
	f.dp.held = f.full.held = 0;
	expect_with("valid-03", VAL, 0, &st, MDG_REASON_REVOCATION_ACCEPTED);
	/* the original receipt is repeated */
	{
		struct mdg_outcome o;
		unsigned char *der;
		size_t len;

		der = make_request(&h, REV, 0, &len);
		process(&st, REV, "application/pkcs7-mime", der, len, 0, &o);
		assert_reason(&o, MDG_REASON_REVOCATION_ACCEPTED, "repeated revocation");
		ck_assert(o.have_acceptance);
		ck_assert_str_eq(o.acceptance.receipt_id, "00000000000000000000000000000003");
		free(der);
	}
	free_holder(&h);

	/* the store failing at step 8 or 9: serviceError, blame store, the
	 * backend's message on the handle (for the log, never the answer) */
	fake_init(&f, &st);
	f.fail_crl_lookup = 1;
	expect_with("valid-04", VAL, 0, &st, MDG_REASON_STORE_FAILED);
	expect_with("valid-04", REV, 0, &st, MDG_REASON_STORE_FAILED);
	fake_init(&f, &st);
	f.fail_find = 1;
	expect_with("valid-04", VAL, 0, &st, MDG_REASON_STORE_FAILED);
	expect_with("valid-04", REV, 0, &st, MDG_REASON_STORE_FAILED);
	{
		struct mdg_outcome o;
		unsigned char *der;
		size_t len;

		load_holder("valid-04", &h);
		der = make_request(&h, VAL, 0, &len);
		process(&st, VAL, "application/pkcs7-mime", der, len, 0, &o);
		assert_reason(&o, MDG_REASON_STORE_FAILED, "find_acceptance fails");
		ck_assert_int_eq(mdg_reason_blame(o.reason), MDG_BLAME_STORE);
		ck_assert_str_eq(mdg_store_error(&st), "fake: find_acceptance: disk I/O error");
		ck_assert_ptr_null(strstr(o.why, "disk I/O"));
		free(der);
		free_holder(&h);
	}
}
END_TEST

/* 10. revocation: recorded (also on a stale or missing CRL), a concurrent
 * acceptance, the store failing. */
START_TEST(revocation)
{
	struct fake f;
	struct mdg_store st;
	struct mdg_outcome o;
	struct holder h;
	unsigned char *der;
	size_t len;

	fake_init(&f, &st);
	load_holder("valid-05", &h);
	der = make_request(&h, REV, 0, &len);
	process(&st, REV, "application/pkcs7-mime", der, len, 0, &o);
	assert_reason(&o, MDG_REASON_ACCEPTED, "revocation");
	ck_assert(o.have_acceptance);
	ck_assert_int_eq(f.inserts, 1);
	ck_assert_uint_eq(strlen(o.acceptance.receipt_id), 32);
	ck_assert_str_eq(o.acceptance.receipt_id, f.refs[0].receipt_id);
	ck_assert_int_eq(f.scope_calls_dp + f.scope_calls_full, 0); /* no CRL freshness asked */
	/* and again: revocationAccepted with the first receipt */
	process(&st, REV, "application/pkcs7-mime", der, len, 0, &o);
	assert_reason(&o, MDG_REASON_REVOCATION_ACCEPTED, "revocation repeated");
	ck_assert_str_eq(o.acceptance.receipt_id, f.refs[0].receipt_id);
	ck_assert_int_eq(f.inserts, 1);
	free(der);
	free_holder(&h);

	/* a stale CRL or none: the holder can still revoke */
	fake_init(&f, &st);
	f.dp.next_update = f.full.next_update = now - 3 * 86400;
	expect_with("valid-06", REV, 0, &st, MDG_REASON_ACCEPTED);
	expect_with("stale-dp", REV, 0, &st, MDG_REASON_ACCEPTED);
	fake_init(&f, &st);
	f.dp.held = f.full.held = 0;
	expect_with("pref-nocrl", REV, 0, &st, MDG_REASON_ACCEPTED);
	/* the CRL's scope failing is not asked on a revocation */
	fake_init(&f, &st);
	f.fail_scope = 1;
	expect_with("valid-06", REV, 0, &st, MDG_REASON_ACCEPTED);

	/* accepted concurrently (the unique key taken): revocationAccepted */
	fake_init(&f, &st);
	f.conflict_on_insert = 1;
	expect_with("valid-07", REV, 0, &st, MDG_REASON_REVOCATION_ACCEPTED);
	/* not recorded: serviceError, blame store */
	fake_init(&f, &st);
	f.fail_insert = 1;
	expect_with("valid-07", REV, 0, &st, MDG_REASON_STORE_FAILED);
	ck_assert_str_eq(mdg_store_error(&st), "fake: insert_acceptance: database or disk is full");
}
END_TEST

/* 11. validity check: the covering CRL (partition, else full) must be
 * fresh: nextUpdate + crl_max_age not passed. */
START_TEST(validity)
{
	struct fake f;
	struct mdg_store st;
	struct mdg_outcome o;
	struct holder h;
	unsigned char *der;
	size_t len;

	/* the partition CRL decides when it is held */
	fake_init(&f, &st);
	f.full.held = 0;
	load_holder("valid-08", &h);
	der = make_request(&h, VAL, 0, &len);
	process(&st, VAL, "application/pkcs7-mime", der, len, 0, &o);
	assert_reason(&o, MDG_REASON_VALID, "partition CRL fresh");
	ck_assert_str_eq(o.crl_number, "10");
	ck_assert(o.checked_at[0] != '\0' && o.checked_on_wareki[0] != '\0');
	ck_assert_int_eq(f.inserts, 0);
	ck_assert_int_eq(f.scope_calls_dp, 1);
	ck_assert_int_eq(f.scope_calls_full, 0);
	/* the limit: nextUpdate + crl_max_age is still fresh, a second later not */
	f.dp.next_update = now - cfg.crl_max_age;
	process(&st, VAL, "application/pkcs7-mime", der, len, 0, &o);
	assert_reason(&o, MDG_REASON_VALID, "at nextUpdate + crl_max_age");
	f.dp.next_update = now - cfg.crl_max_age - 1;
	process(&st, VAL, "application/pkcs7-mime", der, len, 0, &o);
	assert_reason(&o, MDG_REASON_CRL_STALE, "past nextUpdate + crl_max_age");
	ck_assert_uint_eq(o.status, 503);
	ck_assert_uint_gt(o.retry_after, 0);
	/* a stale partition CRL is not saved by a fresh full CRL */
	f.full.held = 1;
	f.full.next_update = now + 3600;
	process(&st, VAL, "application/pkcs7-mime", der, len, 0, &o);
	assert_reason(&o, MDG_REASON_CRL_STALE, "stale partition, fresh full");
	/* no partition CRL: the full CRL */
	f.dp.held = 0;
	process(&st, VAL, "application/pkcs7-mime", der, len, 0, &o);
	assert_reason(&o, MDG_REASON_VALID, "full CRL fresh");
	f.full.next_update = now - 2 * 86400;
	process(&st, VAL, "application/pkcs7-mime", der, len, 0, &o);
	assert_reason(&o, MDG_REASON_CRL_STALE, "full CRL stale");
	f.full.held = 0;
	process(&st, VAL, "application/pkcs7-mime", der, len, 0, &o);
	assert_reason(&o, MDG_REASON_NO_CRL, "no CRL");
	ck_assert_int_eq(mdg_reason_blame(o.reason), MDG_BLAME_OURS);
	free(der);
	free_holder(&h);

	/* no distribution point: only the full CRL is asked */
	fake_init(&f, &st);
	expect_with("valid-nodp", VAL, 0, &st, MDG_REASON_VALID);
	ck_assert_int_eq(f.scope_calls_dp, 0);
	f.full.held = 0;
	expect_with("valid-nodp", VAL, 0, &st, MDG_REASON_NO_CRL);
	/* other holders and anchors */
	fake_init(&f, &st);
	expect_with("valid-g1", VAL, 0, &st, MDG_REASON_VALID);
	expect_with("valid-noaki", VAL, 0, &st, MDG_REASON_VALID);
	expect_with("valid-pref", VAL, 0, &st, MDG_REASON_VALID);
	expect_with("valid-ec", VAL, 0, &st, MDG_REASON_VALID);

	/* the validity check with the store failing: serviceError, blame store */
	fake_init(&f, &st);
	f.fail_scope = 1;
	expect_with("valid-09", VAL, 0, &st, MDG_REASON_STORE_FAILED);
	ck_assert_int_eq(mdg_reason_result(MDG_REASON_STORE_FAILED), MDG_SERVICE_ERROR);
	ck_assert_int_eq(mdg_reason_blame(MDG_REASON_STORE_FAILED), MDG_BLAME_STORE);
	ck_assert_str_eq(mdg_store_error(&st), "fake: crl_scope: no such table: crls");
}
END_TEST

static int run(const char *cmd)
{
	int rc = system(cmd);

	return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

int main(void)
{
	const char *mkpki = getenv("MDG_MKPKI"), *tmp = getenv("MDG_TEST_TMP");
	char cmd[4500], dir[2100], err[512];

	if (mkpki == NULL || access(mkpki, X_OK) != 0) {
		fprintf(stderr, "test_checks: MDG_MKPKI (the test PKI generator) is needed\n");
		return EXIT_FAILURE;
	}
	snprintf(pki, sizeof(pki) - 8, "%s/checks-pki-XXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(pki) == NULL)
		return EXIT_FAILURE;
	snprintf(cmd, sizeof(cmd), "'%s' gen '%s/pki' >/dev/null", mkpki, pki);
	if (run(cmd) != 0) {
		fprintf(stderr, "test_checks: %s failed\n", cmd);
		return EXIT_FAILURE;
	}
	strcat(pki, "/pki");
	snprintf(dir, sizeof(dir), "%s/anchors", pki);
	if (mdg_anchors_load_dir(&anchors, dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "test_checks: anchors: %s\n", err);
		return EXIT_FAILURE;
	}
	mdg_config_defaults(&cfg);
	memset(nonce_key.key, 0x5a, sizeof(nonce_key.key));
	now = time(NULL);
	pipeline.cfg = &cfg;
	pipeline.anchors = &anchors;
	pipeline.nonce_key = &nonce_key;

	Suite *s = suite_create("checks");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, reason_table);
	tcase_add_test(tc, format);
	tcase_add_test(tc, issuer_certificate_signature_nonce);
	tcase_add_test(tc, dates);
	tcase_add_test(tc, crl_and_acceptance_log);
	tcase_add_test(tc, revocation);
	tcase_add_test(tc, validity);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	mdg_anchors_free(&anchors);
	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(pki) - 4), pki);
	run(cmd);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
