#include "pipeline.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "crl.h"
#include "hex.h"
#include "jpki.h"
#include "names.h"
#include "request.h"
#include "sigalg.h"
#include "timefmt.h"

#define MAX_SAME_NAME 16

void mdg_outcome_set(struct mdg_outcome *out, enum mdg_procedure proc, enum mdg_reason reason, const char *why)
{
	out->proc = proc;
	out->reason = reason;
	out->result = mdg_reason_result(reason);
	out->status = mdg_reason_status(reason, proc);
	out->why = why != NULL ? why : mdg_reason_name(reason);
	out->retry_after = mdg_reason_retry_after(reason);
}

int mdg_media_type_ok(const char *ct)
{
	static const char *const types[] = { "application/pkcs7-mime", "application/cms" };

	if (ct == NULL)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	size_t n = strcspn(ct, "; \t");
	for (size_t i = 0; i < 2; i++)
		if (n == strlen(types[i]) && strncasecmp(ct, types[i], n) == 0)
			return 1;
	return 0;
}

time_t mdg_effective_from(const struct mdg_config *cfg, time_t t)
{
	long long local_day = ((long long)t + cfg->crl_issue_offset) / 86400 - 1;
	long long cand = local_day * 86400 + cfg->crl_issue_minutes * 60LL - cfg->crl_issue_offset;

	while (cand < (long long)t + cfg->crl_cutoff)
		cand += 86400;
	return (time_t)cand;
}

/* Serial as a big-endian magnitude; -1 if not positive or too long. */
static int serial_bytes(X509 *cert, unsigned char *out, size_t *len)
{
	const ASN1_INTEGER *ai = X509_get0_serialNumber(cert);
	BIGNUM *bn = ASN1_INTEGER_to_BN(ai, NULL);
	int rc = -1;

	if (bn != NULL && !BN_is_negative(bn) && !BN_is_zero(bn) && BN_num_bytes(bn) <= MDG_SERIAL_MAX) {
		*len = (size_t)BN_bn2bin(bn, out);
		rc = 0;
	}
	BN_free(bn);
	return rc;
}

/* What run() derives from the certificate alone, kept in the certificate
 * cache (beside the parsed X509) so that a certificate seen again is not
 * decoded again: its serial and description, the JPKI profile's verdict
 * and facts, and its distribution point. */
#define DP_MAX 256

struct certinfo {
	int serial_ok;
	unsigned char serial[MDG_SERIAL_MAX];
	size_t serial_len;
	int have_cert;
	char serial_hex[2 * MDG_SERIAL_MAX + 1];
	char issuer[512];
	char not_before[26], not_after[26];
	int have_jpki, jpki_rc;
	const char *jpki_why; /* a static string */
	struct mdg_facts facts;
	int have_dp, dp_rc, dp_long;
	size_t dp_len; /* 0: none (or dp_long) */
	unsigned char dp[DP_MAX];
};

_Static_assert(sizeof(((struct certinfo *)0)->serial_hex) == sizeof(((struct mdg_outcome *)0)->serial_hex) &&
		       sizeof(((struct certinfo *)0)->issuer) == sizeof(((struct mdg_outcome *)0)->issuer) &&
		       sizeof(((struct certinfo *)0)->not_before) == sizeof(((struct mdg_outcome *)0)->not_before),
	       "certinfo mirrors mdg_outcome");

static void describe_certificate(X509 *cert, struct certinfo *ci)
{
	time_t t;
	char h[2 * MDG_SERIAL_MAX + 1];

	ci->serial_ok = serial_bytes(cert, ci->serial, &ci->serial_len) == 0;
	if (!ci->serial_ok)
		return;
	mdg_hex_lower(ci->serial, ci->serial_len, h);
	const char *s = h;
	while (s[0] == '0' && s[1] != '\0')
		s++;
	snprintf(ci->serial_hex, sizeof(ci->serial_hex), "%s", s);
	mdg_name_rfc4514(X509_get_issuer_name(cert), ci->issuer, sizeof(ci->issuer));
	if (mdg_asn1_time_to_unix(X509_get0_notBefore(cert), &t) == 0)
		mdg_rfc3339_jst(t, ci->not_before);
	if (mdg_asn1_time_to_unix(X509_get0_notAfter(cert), &t) == 0)
		mdg_rfc3339_jst(t, ci->not_after);
	ci->have_cert = 1;
}

static void copy_description(const struct certinfo *ci, struct mdg_outcome *out)
{
	if (!ci->have_cert)
		return;
	memcpy(out->serial_hex, ci->serial_hex, sizeof(out->serial_hex));
	memcpy(out->issuer, ci->issuer, sizeof(out->issuer));
	memcpy(out->not_before, ci->not_before, sizeof(out->not_before));
	memcpy(out->not_after, ci->not_after, sizeof(out->not_after));
	out->have_cert = 1;
}

/* The anchor of the certificate's issuer name that verifies its signature
 * and was valid when the certificate was issued; -1 if none. */
static long find_anchor(const struct mdg_pipeline *p, const struct mdg_request *req, const size_t *idx, size_t n)
{
	X509 *cert = req->cert;
	const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(cert);
	const X509_ALGOR *alg;
	time_t issued;
	size_t order[MAX_SAME_NAME];
	size_t k = 0;

	if (mdg_certcache_get(p->cache, req->cert_sha256, &order[0]))
		return (long)order[0];
	if (mdg_asn1_time_to_unix(X509_get0_notBefore(cert), &issued) != 0)
		return -1;
	/* anchors whose key identifier matches first, then the others in turn */
	for (size_t pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			const struct mdg_anchor *a = &p->anchors->v[idx[i]];
			int match = akid != NULL && a->skid != NULL && ASN1_OCTET_STRING_cmp(akid, a->skid) == 0;
			if (match == (pass == 0))
				order[k++] = idx[i];
		}
	X509_get0_signature(NULL, &alg, cert);
	if (!mdg_sigalg_same(alg, X509_get0_tbs_sigalg(cert)))
		return -1;
	for (size_t i = 0; i < k; i++) {
		const struct mdg_anchor *a = &p->anchors->v[order[i]];
		if (issued < a->not_before || issued > a->not_after)
			continue;
		if (!mdg_sigalg_allowed(alg, a->key, NID_undef))
			continue;
		if (X509_verify(cert, a->key) == 1) {
			mdg_certcache_put(p->cache, req->cert_sha256, order[i]);
			return (long)order[i];
		}
	}
	return -1;
}

/* The first directoryName in the certificate's cRLDistributionPoints, in
 * canonical form (mdg_name_canon_der: names compared as RFC 5280 7.1
 * compares them, as the store keys partition CRLs); 0 with *der NULL if
 * there is none. */
static int distribution_point_der(X509 *cert, unsigned char **der, size_t *len)
{
	STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
	int rc = 0;

	*der = NULL;
	*len = 0;
	for (int i = 0; dps != NULL && *der == NULL && i < sk_DIST_POINT_num(dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		if (dp->distpoint == NULL || dp->distpoint->type != 0)
			continue;
		GENERAL_NAMES *gens = dp->distpoint->name.fullname;
		for (int j = 0; j < sk_GENERAL_NAME_num(gens); j++) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, j);
			if (gn->type != GEN_DIRNAME)
				continue;
			if (mdg_name_canon_der(gn->d.dirn, der, len) != 0)
				rc = -1;
			break;
		}
	}
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	return rc;
}

/* The distribution point into ci; one longer than ci->dp is marked
 * dp_long and decoded again where it is used. */
static void distribution_point(X509 *cert, struct certinfo *ci)
{
	unsigned char *der = NULL;
	size_t len = 0;

	ci->dp_rc = distribution_point_der(cert, &der, &len);
	ci->have_dp = 1;
	if (der != NULL && len > sizeof(ci->dp)) {
		ci->dp_long = 1;
	} else if (der != NULL) {
		memcpy(ci->dp, der, len);
		ci->dp_len = len;
	}
	OPENSSL_free(der);
}

static void fill_valid(const struct mdg_input *in, const struct mdg_facts *facts, const struct mdg_crl_scope *scope,
		       struct mdg_outcome *out)
{
	int y, m, d;

	snprintf(out->applicant_name, sizeof(out->applicant_name), "%s", facts->name);
	mdg_rfc3339_jst(in->now, out->checked_at);
	mdg_jst_date(in->now, out->checked_on_iso, &y, &m, &d);
	if (mdg_wareki_format(y, m, d, out->checked_on_wareki, sizeof(out->checked_on_wareki)) < 0)
		out->checked_on_wareki[0] = '\0';
	mdg_number_decimal(scope->number, scope->number_len, out->crl_number, sizeof(out->crl_number));
	mdg_rfc3339_jst(scope->this_update, out->crl_this_update);
}

static int decide(struct mdg_outcome *out, enum mdg_procedure proc, enum mdg_reason reason, const char *why)
{
	mdg_outcome_set(out, proc, reason, why);
	return 0;
}

/* The format check's reason for the part of the request that failed. */
static enum mdg_reason parse_reason(enum mdg_request_part part)
{
	switch (part) {
	case MDG_REQUEST_OK:
	case MDG_REQUEST_NOT_DER:
		break;
	case MDG_REQUEST_CMS:
		return MDG_REASON_BAD_CMS;
	case MDG_REQUEST_CERT:
		return MDG_REASON_BAD_CERT;
	case MDG_REQUEST_FORM:
		return MDG_REASON_BAD_FORM;
	case MDG_REQUEST_NO_MEMORY:
		return MDG_REASON_OUT_OF_MEMORY;
	}
	return MDG_REASON_NOT_DER;
}

/* Steps 8-11: the store's look-ups (and the revocation's insert). */
static int lookups(const struct mdg_pipeline *p, struct mdg_store *st, const struct mdg_input *in,
		   struct mdg_outcome *out, struct mdg_request *req, const struct certinfo *ci,
		   const struct mdg_anchor *anchor)
{
	const struct mdg_config *cfg = p->cfg;
	enum mdg_procedure proc = in->proc;
	const struct mdg_facts *facts = &ci->facts;
	const unsigned char *serial = ci->serial;
	size_t serial_len = ci->serial_len;
	enum mdg_store_status ss;

	/* 8. CRL */
	int revoked = 0;
	ss = st->ops->crl_lookup(st->cls, anchor->subject_der, (size_t)anchor->subject_len, serial, serial_len,
				 &revoked);
	if (ss != MDG_STORE_OK)
		return decide(out, proc, MDG_REASON_STORE_FAILED, "store: CRL lookup failed");
	if (revoked)
		return decide(out, proc, MDG_REASON_REVOKED, "on a CRL");

	/* 9. acceptance log */
	ss = st->ops->find_acceptance(st->cls, anchor->subject_der, (size_t)anchor->subject_len, serial, serial_len,
				      &out->acceptance);
	if (ss == MDG_STORE_OK) {
		out->have_acceptance = 1;
		return decide(out, proc, MDG_REASON_REVOCATION_ACCEPTED, "already accepted");
	}
	if (ss != MDG_STORE_NOT_FOUND)
		return decide(out, proc, MDG_REASON_STORE_FAILED, "store: acceptance lookup failed");

	/* 10. revocation */
	if (proc == MDG_PROC_REVOCATION) {
		struct mdg_acceptance_new a = {
			.issuer_der = anchor->subject_der,
			.issuer_len = (size_t)anchor->subject_len,
			.serial = serial,
			.serial_len = serial_len,
			.reason = req->form.reason ? req->form.reason : "unspecified",
			.holder_name = facts->name,
			.request_der = req->der,
			.request_len = req->der_len,
			.client_addr = in->client_addr ? in->client_addr : "",
		};
		unsigned char rid[16];
		const unsigned char *subject;
		size_t subject_len;
		time_t not_after;
		/* for log export --format index, which then needs no evidence */
		if (X509_NAME_get0_der(X509_get_subject_name(req->cert), &subject, &subject_len) == 1 &&
		    mdg_asn1_time_to_unix(X509_get0_notAfter(req->cert), &not_after) == 0) {
			a.cert_subject_der = subject;
			a.cert_subject_len = subject_len;
			a.cert_not_after = (int64_t)not_after;
		}
		if (RAND_bytes(rid, sizeof(rid)) != 1)
			return decide(out, proc, MDG_REASON_NO_RANDOMNESS, "no randomness for a receipt id");
		mdg_hex_lower(rid, sizeof(rid), a.receipt_id);
		memcpy(a.cert_sha256, req->cert_sha256, 32);
		memcpy(a.request_sha256, req->der_sha256, 32);
		mdg_rfc3339_jst(in->now, a.accepted_at);
		mdg_rfc3339_jst(mdg_effective_from(cfg, in->now), a.effective_from);
		ss = st->ops->insert_acceptance(st->cls, &a, &out->acceptance);
		if (ss == MDG_STORE_OK) {
			out->have_acceptance = 1;
			return decide(out, proc, MDG_REASON_ACCEPTED, "accepted");
		}
		if (ss == MDG_STORE_CONFLICT) {
			out->have_acceptance = 1;
			return decide(out, proc, MDG_REASON_REVOCATION_ACCEPTED, "accepted concurrently");
		}
		return decide(out, proc, MDG_REASON_STORE_FAILED, "store: acceptance not recorded");
	}

	/* 11. validity check: the covering CRL must be fresh */
	struct mdg_crl_scope scope;
	unsigned char *dp = NULL;
	size_t dp_len = 0;
	if (ci->dp_rc != 0)
		return decide(out, proc, MDG_REASON_DP_UNENCODABLE, "distribution point does not encode");
	if (ci->dp_long && distribution_point_der(req->cert, &dp, &dp_len) != 0)
		return decide(out, proc, MDG_REASON_DP_UNENCODABLE, "distribution point does not encode");
	ss = MDG_STORE_NOT_FOUND;
	if (dp != NULL)
		ss = st->ops->crl_scope(st->cls, anchor->subject_der, (size_t)anchor->subject_len, dp, dp_len, &scope);
	else if (ci->dp_len > 0)
		ss = st->ops->crl_scope(st->cls, anchor->subject_der, (size_t)anchor->subject_len, ci->dp, ci->dp_len,
					&scope);
	OPENSSL_free(dp);
	if (ss == MDG_STORE_NOT_FOUND)
		ss = st->ops->crl_scope(st->cls, anchor->subject_der, (size_t)anchor->subject_len, NULL, 0, &scope);
	if (ss == MDG_STORE_ERROR)
		return decide(out, proc, MDG_REASON_STORE_FAILED, "store: CRL scope lookup failed");
	if (ss == MDG_STORE_NOT_FOUND)
		return decide(out, proc, MDG_REASON_NO_CRL, "no CRL covers the certificate");
	if (!mdg_crl_is_fresh(scope.next_update, cfg->crl_max_age, in->now))
		return decide(out, proc, MDG_REASON_CRL_STALE, "covering CRL is stale");
	fill_valid(in, facts, &scope, out);
	return decide(out, proc, MDG_REASON_VALID, "valid");
}

static int run(const struct mdg_pipeline *p, struct mdg_store *st, const struct mdg_input *in, struct mdg_outcome *out,
	       struct mdg_request *req, struct certinfo *ci, int *ci_cached)
{
	const struct mdg_config *cfg = p->cfg;
	enum mdg_procedure proc = in->proc;
	const struct mdg_facts *facts = &ci->facts;
	size_t idx[MAX_SAME_NAME];
	const char *why = NULL;

	/* 2. format */
	if (in->too_large)
		return decide(out, proc, MDG_REASON_BODY_TOO_LARGE, "body over max_body");
	if (!mdg_media_type_ok(in->content_type))
		return decide(out, proc, MDG_REASON_WRONG_MEDIA_TYPE, "wrong media type");
	if (mdg_request_parse(in->body, in->len, p->cache, req, &why) != 0)
		return decide(out, proc, parse_reason(req->failed), why);
	if (req->form.procedure != proc)
		return decide(out, proc, MDG_REASON_BAD_FORM, "form.procedure is not the endpoint's");
	*ci_cached = mdg_certcache_get_info(p->cache, req->cert_sha256, ci, sizeof(*ci));
	if (!*ci_cached)
		describe_certificate(req->cert, ci);
	copy_description(ci, out);

	/* 3. issuer */
	size_t n = mdg_anchors_match(p->anchors, X509_get_issuer_name(req->cert), idx, MAX_SAME_NAME);
	if (n == 0)
		return decide(out, proc, MDG_REASON_ISSUER_MISMATCH, "issuer matches no anchor");

	/* 4. certificate */
	long ai = find_anchor(p, req, idx, n);
	if (ai < 0)
		return decide(out, proc, MDG_REASON_CERT_SIGNATURE,
			      "no anchor of the issuer name verifies the certificate");
	if (!ci->serial_ok)
		return decide(out, proc, MDG_REASON_CERT_PROFILE, "serial not positive or too long");
	if (!ci->have_jpki) {
		ci->jpki_rc = mdg_jpki_check(req->cert, (const char(*)[64])cfg->policies, cfg->n_policies, &ci->facts,
					     &ci->jpki_why);
		ci->have_jpki = 1;
	}
	if (ci->jpki_rc != 0)
		return decide(out, proc, MDG_REASON_CERT_PROFILE, ci->jpki_why);
	/* CRLs and acceptances are keyed by the name's first anchor (as crl.c
	 * stores them), so generations that encode one name differently agree */
	const struct mdg_anchor *anchor = &p->anchors->v[idx[0]];

	/* 5. request signature */
	if (mdg_request_verify(req, &why) != 0)
		return decide(out, proc, MDG_REASON_REQUEST_SIGNATURE, why);
	if (!mdg_jpki_applicant_matches(facts, &req->form))
		return decide(out, proc, MDG_REASON_APPLICANT_MISMATCH, "form applicant differs from the certificate");

	/* 6. nonce */
	if (!mdg_nonce_check(p->nonce_key, req->form.nonce, in->now))
		return decide(out, proc, MDG_REASON_BAD_NONCE, "nonce not authentic or expired");

	/* 7. dates */
	if (ASN1_TIME_cmp_time_t(X509_get0_notAfter(req->cert), in->now) < 0)
		return decide(out, proc, MDG_REASON_EXPIRED, "certificate expired");
	if (proc == MDG_PROC_VALIDITY && ASN1_TIME_cmp_time_t(X509_get0_notBefore(req->cert), in->now) > 0)
		return decide(out, proc, MDG_REASON_NOT_YET_VALID, "certificate not yet valid");

	if (st == NULL || st->ops == NULL)
		return decide(out, proc, MDG_REASON_NO_STORE, "no store");

	if (proc == MDG_PROC_VALIDITY && !ci->have_dp)
		distribution_point(req->cert, ci);
	/* one read snapshot for the look-ups of a validity check */
	int snapshot = proc == MDG_PROC_VALIDITY && st->ops->read_begin(st->cls) == MDG_STORE_OK;
	int rc = lookups(p, st, in, out, req, ci, anchor);
	if (snapshot)
		st->ops->read_end(st->cls);
	return rc;
}

void mdg_outcome_release(struct mdg_outcome *out)
{
	free(out->receipt);
	out->receipt = NULL;
}

/* The receipt of an answer with receiptId: the stored row's content (the
 * original's for revocationAccepted), signed. Without one the answer goes
 * out as it is (the acceptance is committed); the log line says why. */
static void attach_receipt(const struct mdg_pipeline *p, struct mdg_store *st, struct mdg_outcome *out)
{
	char *content = NULL, err[256];
	size_t len = 0;
	uint64_t index;

	if (p->receipts == NULL || st == NULL || !out->have_acceptance ||
	    (out->result != MDG_ACCEPTED && out->result != MDG_REVOCATION_ACCEPTED))
		return;
	if (mdg_store_leaf(st, out->acceptance.receipt_id, &content, &len, &index) != MDG_STORE_OK) {
		out->why = "receipt not made: the row does not read back";
		return;
	}
	if (mdg_receipt_sign_b64(p->receipts, content, len, out->acceptance.accepted_at, &out->receipt, err,
				 sizeof(err)) != 0) {
		out->receipt = NULL;
		out->why = "receipt not made: signing failed";
	}
	free(content);
}

void mdg_process(const struct mdg_pipeline *p, struct mdg_store *st, const struct mdg_input *in,
		 struct mdg_outcome *out)
{
	struct mdg_request req;
	struct certinfo ci;
	int ci_cached = 0;

	memset(out, 0, sizeof(*out));
	memset(&req, 0, sizeof(req));
	memset(&ci, 0, sizeof(ci));
	(void)run(p, st, in, out, &req, &ci, &ci_cached);
	attach_receipt(p, st, out);
	/* kept once all of it is known (a failed profile needs no distribution point) */
	if (!ci_cached && ci.have_jpki && (ci.jpki_rc != 0 || ci.have_dp))
		mdg_certcache_put_info(p->cache, req.cert_sha256, &ci, sizeof(ci));
	mdg_request_free(&req);
	ERR_clear_error();
}
