/* CRL import: parse, check against DESIGN.md "CRLs", verify with an anchor.
 * Messages are for the operator running "madoguchi-admin crl import". */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crl.h"
#include "der.h"
#include "names.h"
#include "timefmt.h"

#define CRL_MAX_BYTES ((size_t)512 * 1024 * 1024)
#define CRL_MAX_ANCHORS 64

/* Big-endian magnitude of a non-negative INTEGER, without leading zeros.
 * Returns 0, or -1 if negative or longer than max. */
static int int_magnitude(const ASN1_INTEGER *ai, unsigned char *out, size_t max, size_t *outlen)
{
	const unsigned char *p;
	int len;

	if (ai == NULL || ASN1_STRING_type(ai) != V_ASN1_INTEGER)
		return -1; /* V_ASN1_NEG_INTEGER: negative */
	p = ASN1_STRING_get0_data(ai);
	len = ASN1_STRING_length(ai);
	while (len > 0 && *p == 0) {
		p++;
		len--;
	}
	if (len < 0 || (size_t)len > max)
		return -1;
	if (len > 0)
		memcpy(out, p, (size_t)len);
	*outlen = (size_t)len;
	return 0;
}

static int ext_is_duplicated(const X509_CRL *crl, int i)
{
	const ASN1_OBJECT *obj = X509_EXTENSION_get_object(X509_CRL_get_ext(crl, i));

	return X509_CRL_get_ext_by_OBJ(crl, obj, i) != -1;
}

/* The CRL-level extensions: delta refused, unknown critical refused. */
static int check_crl_extensions(const X509_CRL *crl, const char *iss, char *err, size_t errlen)
{
	int i, n = X509_CRL_get_ext_count(crl);
	char oid[80];

	for (i = 0; i < n; i++) {
		X509_EXTENSION *ext = X509_CRL_get_ext(crl, i);
		const ASN1_OBJECT *obj = X509_EXTENSION_get_object(ext);

		OBJ_obj2txt(oid, sizeof(oid), obj, 1);
		if (ext_is_duplicated(crl, i)) {
			snprintf(err, errlen, "CRL of %s carries extension %s twice: refused", iss, oid);
			return -1;
		}
		switch (OBJ_obj2nid(obj)) {
		case NID_delta_crl:
			snprintf(err, errlen,
				 "CRL of %s is a delta CRL (deltaCRLIndicator): only complete "
				 "CRLs are imported: refused",
				 iss);
			return -1;
		case NID_crl_number:
		case NID_issuing_distribution_point:
		case NID_authority_key_identifier:
		case NID_issuer_alt_name:
		case NID_freshest_crl:
		case NID_info_access:
			break;
		default:
			if (X509_EXTENSION_get_critical(ext)) {
				snprintf(err, errlen, "CRL of %s has an unknown critical extension %s: refused", iss,
					 oid);
				return -1;
			}
		}
	}
	return 0;
}

/* Returns 0 with *dp_der (NULL: no IDP) and its canonical form *dp_key
 * (mdg_name_canon_der: the scope's identity in the store), or -1. */
static int check_idp(const X509_CRL *crl, const char *iss, unsigned char **dp_der, size_t *dp_len,
		     unsigned char **dp_key, size_t *key_len, char *err, size_t errlen)
{
	ISSUING_DIST_POINT *idp;
	GENERAL_NAME *gn;
	int crit = -1, len, rc = -1;

	*dp_der = NULL;
	*dp_len = 0;
	*dp_key = NULL;
	*key_len = 0;
	idp = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &crit, NULL);
	if (idp == NULL) {
		if (crit == -1)
			return 0;
		snprintf(err, errlen, "CRL of %s: issuingDistributionPoint does not parse: refused", iss);
		return -1;
	}
	if (idp->indirectCRL) {
		snprintf(err, errlen, "CRL of %s is an indirect CRL (indirectCRL): refused", iss);
		goto out;
	}
	if (idp->onlysomereasons != NULL) {
		snprintf(err, errlen, "CRL of %s covers only some reasons (onlySomeReasons): refused", iss);
		goto out;
	}
	if (idp->onlyCA) {
		snprintf(err, errlen, "CRL of %s covers only CA certificates (onlyContainsCACerts): refused", iss);
		goto out;
	}
	if (idp->onlyattr) {
		snprintf(err, errlen,
			 "CRL of %s covers only attribute certificates "
			 "(onlyContainsAttributeCerts): refused",
			 iss);
		goto out;
	}
	if (idp->distpoint == NULL || idp->distpoint->type != 0 ||
	    sk_GENERAL_NAME_num(idp->distpoint->name.fullname) != 1 ||
	    (gn = sk_GENERAL_NAME_value(idp->distpoint->name.fullname, 0))->type != GEN_DIRNAME) {
		snprintf(err, errlen,
			 "CRL of %s: issuingDistributionPoint must name exactly one "
			 "directoryName: refused",
			 iss);
		goto out;
	}
	len = i2d_X509_NAME(gn->d.directoryName, dp_der);
	if (len <= 0) {
		*dp_der = NULL;
		snprintf(err, errlen, "CRL of %s: cannot encode the distribution point name", iss);
		goto out;
	}
	*dp_len = (size_t)len;
	if (mdg_name_canon_der(gn->d.directoryName, dp_key, key_len) == -1) {
		snprintf(err, errlen, "CRL of %s: cannot encode the distribution point name", iss);
		goto out;
	}
	rc = 0;
out:
	ISSUING_DIST_POINT_free(idp);
	return rc;
}

static int check_entry(X509_REVOKED *rev, size_t i, const char *iss, struct mdg_crl_entry *e, char *err, size_t errlen)
{
	const STACK_OF(X509_EXTENSION) *exts = X509_REVOKED_get0_extensions(rev);
	ASN1_ENUMERATED *reason;
	int j, crit;
	long r;
	char oid[80];

	if (int_magnitude(X509_REVOKED_get0_serialNumber(rev), e->serial, sizeof(e->serial), &e->serial_len) == -1) {
		snprintf(err, errlen,
			 "CRL of %s: entry %zu has a negative serial number or one longer "
			 "than %d bytes: refused",
			 iss, i + 1, MDG_SERIAL_MAX);
		return -1;
	}
	if (mdg_asn1_time_to_unix(X509_REVOKED_get0_revocationDate(rev), &e->revoked_at) == -1) {
		snprintf(err, errlen, "CRL of %s: entry %zu has an unreadable revocation date: refused", iss, i + 1);
		return -1;
	}
	e->reason = -1;
	for (j = 0; j < sk_X509_EXTENSION_num(exts); j++) {
		X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, j);
		const ASN1_OBJECT *obj = X509_EXTENSION_get_object(ext);

		switch (OBJ_obj2nid(obj)) {
		case NID_certificate_issuer:
			snprintf(err, errlen,
				 "CRL of %s: entry %zu names another certificate issuer "
				 "(certificateIssuer; indirect CRL): refused",
				 iss, i + 1);
			return -1;
		case NID_crl_reason:
		case NID_invalidity_date:
		case NID_hold_instruction_code:
			break;
		default:
			if (X509_EXTENSION_get_critical(ext)) {
				OBJ_obj2txt(oid, sizeof(oid), obj, 1);
				snprintf(err, errlen,
					 "CRL of %s: entry %zu has an unknown critical "
					 "extension %s: refused",
					 iss, i + 1, oid);
				return -1;
			}
		}
	}
	if (j == 0)
		return 0;
	reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, &crit, NULL);
	if (reason == NULL) {
		if (crit == -1)
			return 0;
		snprintf(err, errlen,
			 "CRL of %s: entry %zu has a malformed or repeated reasonCode: "
			 "refused",
			 iss, i + 1);
		return -1;
	}
	r = ASN1_ENUMERATED_get(reason);
	ASN1_ENUMERATED_free(reason);
	if (r < 0 || r > 10 || r == 7) {
		snprintf(err, errlen,
			 "CRL of %s: entry %zu has reasonCode %ld, not an RFC 5280 "
			 "reason: refused",
			 iss, i + 1, r);
		return -1;
	}
	e->reason = (int)r;
	return 0;
}

/* X509_CRL_verify of a CRL whose revokedCertificates were cut out (crl) over
 * the original tbsCertList bytes: the same ASN1_item_verify (PKCS#1 v1.5,
 * PSS parameters, ECDSA), fed the bytes verbatim as an ANY. The caller has
 * checked that the outer and inner algorithms are the same bytes
 * (same_sigalg). */
static int verify_tbs(const X509_CRL *crl, const unsigned char *tbs, size_t tbs_len, EVP_PKEY *key)
{
	const ASN1_BIT_STRING *sig;
	const X509_ALGOR *alg;
	ASN1_STRING seq;
	ASN1_TYPE any;

	if (tbs_len > INT_MAX)
		return 0;
	X509_CRL_get0_signature(crl, &sig, &alg);
	memset(&seq, 0, sizeof(seq));
	seq.type = V_ASN1_SEQUENCE;
	seq.length = (int)tbs_len;
	seq.data = (unsigned char *)tbs; /* only read */
	any.type = V_ASN1_SEQUENCE;
	any.value.sequence = &seq;
	return ASN1_item_verify(ASN1_ITEM_rptr(ASN1_ANY), alg, sig, &any, key);
}

/* Tries the anchors named like the CRL issuer, those whose key identifier
 * matches the CRL's AKI first. Returns the verifying anchor or NULL. */
static const struct mdg_anchor *find_signer(const struct mdg_anchors *anchors, X509_CRL *crl, const unsigned char *tbs,
					    size_t tbs_len, time_t this_update, const char *iss, char *err,
					    size_t errlen)
{
	size_t idx[CRL_MAX_ANCHORS], n, i, valid = 0;
	AUTHORITY_KEYID *akid;
	const ASN1_OCTET_STRING *keyid = NULL;
	const struct mdg_anchor *found = NULL;
	int crit = -1, pass;

	n = mdg_anchors_match(anchors, X509_CRL_get_issuer(crl), idx, CRL_MAX_ANCHORS);
	if (n == 0) {
		snprintf(err, errlen, "CRL issuer %s is not the name of any anchor: refused", iss);
		return NULL;
	}
	akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &crit, NULL);
	if (akid == NULL && crit != -1) {
		snprintf(err, errlen, "CRL of %s: authorityKeyIdentifier does not parse: refused", iss);
		return NULL;
	}
	if (akid != NULL)
		keyid = akid->keyid;
	/* pass 0: anchors whose SKI equals the AKI; pass 1: the others. */
	for (pass = 0; pass < 2 && found == NULL; pass++) {
		for (i = 0; i < n && found == NULL; i++) {
			const struct mdg_anchor *an = &anchors->v[idx[i]];
			int match = keyid != NULL && an->skid != NULL && ASN1_OCTET_STRING_cmp(keyid, an->skid) == 0;

			if (match != (pass == 0))
				continue;
			if (this_update < an->not_before || this_update > an->not_after)
				continue;
			valid++;
			if ((tbs == NULL ? X509_CRL_verify(crl, an->key) : verify_tbs(crl, tbs, tbs_len, an->key)) == 1)
				found = an;
		}
	}
	ERR_clear_error();
	AUTHORITY_KEYID_free(akid);
	if (found == NULL && valid == 0)
		snprintf(err, errlen,
			 "CRL of %s: no anchor of that name was valid at the CRL's "
			 "thisUpdate: refused",
			 iss);
	else if (found == NULL)
		snprintf(err, errlen,
			 "CRL of %s: the signature does not verify with any anchor of "
			 "that name: refused",
			 iss);
	return found;
}

/* DER of data, PEM-decoded if it is PEM. *der is data itself or *tofree. */
static int get_der(const unsigned char *data, size_t len, const unsigned char **der, long *derlen,
		   unsigned char **tofree, char *err, size_t errlen)
{
	BIO *b = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *pd = NULL;
	size_t i;
	int rc = -1;

	*tofree = NULL;
	for (i = 0; i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'); i++)
		;
	if (len - i < 11 || memcmp(data + i, "-----BEGIN ", 11) != 0) {
		if (len > LONG_MAX) {
			snprintf(err, errlen, "CRL is too large");
			return -1;
		}
		*der = data;
		*derlen = (long)len;
		return 0;
	}
	if (len > INT_MAX || (b = BIO_new_mem_buf(data, (int)len)) == NULL) {
		snprintf(err, errlen, "CRL is too large");
		goto out;
	}
	if (PEM_read_bio(b, &name, &header, &pd, derlen) != 1) {
		snprintf(err, errlen, "the PEM data does not decode");
		goto out;
	}
	if (strcmp(name, PEM_STRING_X509_CRL) != 0) {
		snprintf(err, errlen, "PEM holds a \"%.40s\", not an \"%s\"", name, PEM_STRING_X509_CRL);
		goto out;
	}
	*der = pd;
	*tofree = pd;
	pd = NULL;
	rc = 0;
out:
	ERR_clear_error();
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(pd);
	BIO_free(b);
	return rc;
}

int mdg_crl_entry_cmp(const void *x, const void *y)
{
	const struct mdg_crl_entry *a = x, *b = y;
	size_t n = a->serial_len < b->serial_len ? a->serial_len : b->serial_len;
	int c = n ? memcmp(a->serial, b->serial, n) : 0;

	if (c != 0)
		return c;
	return (a->serial_len > b->serial_len) - (a->serial_len < b->serial_len);
}

int mdg_crl_is_fresh(time_t next_update, long max_age, time_t now)
{
	return (long long)now <= (long long)next_update + (long long)max_age;
}

void mdg_crl_parsed_free(struct mdg_crl_parsed *p)
{
	OPENSSL_free(p->issuer_der);
	OPENSSL_free(p->dp_der);
	OPENSSL_free(p->dp_key);
	free(p->entries);
	memset(p, 0, sizeof(*p));
}

/* The header checks shared by both paths, on a parsed CRL (whole, or with
 * revokedCertificates cut out): version, CRL extensions, times, cRLNumber,
 * issuingDistributionPoint. */
static int check_header(X509_CRL *crl, const char *iss, struct mdg_crl_parsed *out, size_t *dp_len, char *err,
			size_t errlen)
{
	ASN1_INTEGER *num = NULL;
	int crit = -1, rc = -1;

	if (X509_CRL_get_version(crl) != 1) {
		snprintf(err, errlen, "CRL of %s is not a version 2 CRL: refused", iss);
		goto out;
	}
	if (check_crl_extensions(crl, iss, err, errlen) == -1)
		goto out;
	if (mdg_asn1_time_to_unix(X509_CRL_get0_lastUpdate(crl), &out->imp.this_update) == -1) {
		snprintf(err, errlen, "CRL of %s: unreadable thisUpdate: refused", iss);
		goto out;
	}
	if (X509_CRL_get0_nextUpdate(crl) == NULL) {
		snprintf(err, errlen, "CRL of %s has no nextUpdate: refused", iss);
		goto out;
	}
	if (mdg_asn1_time_to_unix(X509_CRL_get0_nextUpdate(crl), &out->imp.next_update) == -1) {
		snprintf(err, errlen, "CRL of %s: unreadable nextUpdate: refused", iss);
		goto out;
	}
	if (out->imp.next_update < out->imp.this_update) {
		snprintf(err, errlen, "CRL of %s: nextUpdate is before thisUpdate: refused", iss);
		goto out;
	}
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	if (num == NULL) {
		snprintf(err, errlen, "CRL of %s has %s cRLNumber: refused", iss, crit == -1 ? "no" : "a malformed");
		goto out;
	}
	if (int_magnitude(num, out->imp.number, MDG_CRLNUM_MAX - 1, &out->imp.number_len) == -1) {
		snprintf(err, errlen,
			 "CRL of %s: cRLNumber is negative or longer than 20 octets: "
			 "refused",
			 iss);
		goto out;
	}
	if (check_idp(crl, iss, &out->dp_der, dp_len, &out->dp_key, &out->imp.dp_key_len, err, errlen) == -1)
		goto out;
	rc = 0;
out:
	ASN1_INTEGER_free(num);
	return rc;
}

/* After the entries are in and the signature verified: the issuer key,
 * the order, the SHA-256, the import record. */
static int finish(const struct mdg_anchors *anchors, X509_CRL *crl, const unsigned char *der, size_t derlen, size_t n,
		  size_t dp_len, struct mdg_crl_parsed *out, char *err, size_t errlen)
{
	size_t idx[1], i;
	int ilen;

	/* The store keys CRLs and acceptances on the subject DER of the first
	 * anchor of the name, whichever generation signed (docs/store.md). */
	if (mdg_anchors_match(anchors, X509_CRL_get_issuer(crl), idx, 1) != 1)
		return -1;
	ilen = anchors->v[idx[0]].subject_len;
	if ((out->issuer_der = OPENSSL_memdup(anchors->v[idx[0]].subject_der, (size_t)ilen)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Sorted by serial (mdg_crl_entry_cmp): a fixed order for the import
	 * record; the store's backend sorts as it needs. */
	for (i = 1; i < n && mdg_crl_entry_cmp(&out->entries[i - 1], &out->entries[i]) <= 0; i++)
		;
	if (i < n)
		qsort(out->entries, n, sizeof(*out->entries), mdg_crl_entry_cmp);
	if (EVP_Digest(der, derlen, out->imp.sha256, NULL, EVP_sha256(), NULL) != 1) {
		snprintf(err, errlen, "cannot compute the CRL's SHA-256");
		return -1;
	}
	out->imp.issuer_der = out->issuer_der;
	out->imp.issuer_len = (size_t)ilen;
	out->imp.dp_der = out->dp_der;
	out->imp.dp_len = dp_len;
	out->imp.dp_key = out->dp_key;
	out->imp.entries = out->entries;
	out->imp.n_entries = n;
	return 0;
}

/* 1 if the CertificateList's signatureAlgorithm and the tbsCertList's
 * signature field are the same DER (RFC 5280 5.1.1.2). Both paths check it
 * themselves: whether X509_CRL_verify does has varied between OpenSSL 3.0.x
 * patch releases, and OpenSSL 3.0 has no accessor for the inner field. */
static int same_sigalg(const unsigned char *der, size_t derlen)
{
	const unsigned char *cl, *tb, *v, *outer, *inner;
	size_t cl_len, tb_len, tb_tlv, vlen, outer_len, inner_len, off = 0;
	unsigned char tag;

	if (mdg_der_next(der, derlen, &tag, &cl, &cl_len, &vlen) != 0 ||
	    mdg_der_next(cl, cl_len, &tag, &tb, &tb_len, &tb_tlv) != 0 ||
	    mdg_der_next(cl + tb_tlv, cl_len - tb_tlv, &tag, &v, &vlen, &outer_len) != 0)
		return 0;
	outer = cl + tb_tlv;
	if (mdg_der_next(tb, tb_len, &tag, &v, &vlen, &inner_len) != 0)
		return 0;
	if (tag == 0x02) { /* version */
		off = inner_len;
		if (mdg_der_next(tb + off, tb_len - off, &tag, &v, &vlen, &inner_len) != 0)
			return 0;
	}
	inner = tb + off;
	return inner_len == outer_len && memcmp(inner, outer, outer_len) == 0;
}

/* The reference path: OpenSSL parses the whole CRL (one X509_REVOKED per
 * entry: slow and memory-hungry for large CRLs), every check on its result.
 * Its messages are the ones the operator sees. */
static int parse_reference(const struct mdg_anchors *anchors, const unsigned char *der, size_t derlen,
			   struct mdg_crl_parsed *out, char *err, size_t errlen)
{
	X509_CRL *crl = NULL;
	const unsigned char *p = der;
	char iss[512];
	STACK_OF(X509_REVOKED) * revs;
	size_t i, n, dp_len = 0;
	int rc = -1;

	if ((crl = d2i_X509_CRL(NULL, &p, (long)derlen)) == NULL || p != der + derlen) {
		snprintf(err, errlen, "not a DER or PEM X.509 CRL (does not parse%s)",
			 crl != NULL ? ": trailing data" : "");
		goto out;
	}
	mdg_name_rfc4514(X509_CRL_get_issuer(crl), iss, sizeof(iss));
	if (check_header(crl, iss, out, &dp_len, err, errlen) == -1)
		goto out;
	revs = X509_CRL_get_REVOKED(crl);
	n = revs != NULL ? (size_t)sk_X509_REVOKED_num(revs) : 0;
	if (n > 0 && (out->entries = calloc(n, sizeof(*out->entries))) == NULL) {
		snprintf(err, errlen, "out of memory (%zu entries)", n);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (check_entry(sk_X509_REVOKED_value(revs, (int)i), i, iss, &out->entries[i], err, errlen) == -1)
			goto out;
	if (!same_sigalg(der, derlen)) {
		snprintf(err, errlen,
			 "CRL of %s: signatureAlgorithm differs from the signature field "
			 "inside tbsCertList (RFC 5280 5.1.1.2): refused",
			 iss);
		goto out;
	}
	if (find_signer(anchors, crl, NULL, 0, out->imp.this_update, iss, err, errlen) == NULL)
		goto out;
	if (finish(anchors, crl, der, derlen, n, dp_len, out, err, errlen) == -1)
		goto out;
	rc = 0;
out:
	ERR_clear_error();
	X509_CRL_free(crl);
	if (rc == -1)
		mdg_crl_parsed_free(out);
	return rc;
}

/* ---- the fast path: the entries read straight from the DER ---- */

/* Each subidentifier minimal, the last one ended (as c2i_ASN1_OBJECT). */
static int oid_ok(const unsigned char *v, size_t n)
{
	size_t i;

	if (n == 0 || (v[n - 1] & 0x80))
		return 0;
	for (i = 0; i < n; i++)
		if (v[i] == 0x80 && (i == 0 || !(v[i - 1] & 0x80)))
			return 0;
	return 1;
}

/* Only the canonical forms YYMMDDHHMMSSZ / YYYYMMDDHHMMSSZ; the value
 * mdg_asn1_time_to_unix reads from the very bytes, as the reference path
 * reads it. */
static int fast_time(unsigned char tag, const unsigned char *v, size_t n, time_t *out)
{
	ASN1_TIME t;
	size_t i;

	if (!((tag == V_ASN1_UTCTIME && n == 13) || (tag == V_ASN1_GENERALIZEDTIME && n == 15)))
		return -1;
	if (v[n - 1] != 'Z')
		return -1;
	for (i = 0; i + 1 < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return -1;
	memset(&t, 0, sizeof(t));
	t.type = tag;
	t.length = (int)n;
	t.data = (unsigned char *)v; /* only read */
	return mdg_asn1_time_to_unix(&t, out);
}

static const unsigned char oid_reason[] = { 0x55, 0x1d, 0x15 };
static const unsigned char oid_hold[] = { 0x55, 0x1d, 0x17 };
static const unsigned char oid_invalidity[] = { 0x55, 0x1d, 0x18 };

#define OID_IS(v, n, o) ((n) == sizeof(o) && memcmp((v), (o), sizeof(o)) == 0)

/* crlEntryExtensions: 0 with e->reason, or -1 (anything the fast path does
 * not take as surely fine: the reference path then decides). */
static int fast_entry_exts(const unsigned char *p, size_t len, struct mdg_crl_entry *e)
{
	const unsigned char *ext, *v;
	size_t elen, vlen, n, off = 0, o2;
	unsigned char tag;
	int seen_reason = 0, seen_hold = 0, seen_inv = 0, crit;

	while (off < len) {
		if (mdg_der_next(p + off, len - off, &tag, &ext, &elen, &n) != 0 || tag != 0x30)
			return -1;
		off += n;
		/* extnID */
		if (mdg_der_next(ext, elen, &tag, &v, &vlen, &o2) != 0 || tag != 0x06 || !oid_ok(v, vlen))
			return -1;
		{
			const unsigned char *oid = v;
			size_t oid_len = vlen, eoff = o2;

			/* critical: absent, or DER TRUE */
			if (mdg_der_next(ext + eoff, elen - eoff, &tag, &v, &vlen, &o2) != 0)
				return -1;
			crit = 0;
			if (tag == 0x01) {
				if (vlen != 1 || v[0] != 0xff)
					return -1;
				crit = 1;
				eoff += o2;
				if (mdg_der_next(ext + eoff, elen - eoff, &tag, &v, &vlen, &o2) != 0)
					return -1;
			}
			/* extnValue, the last field */
			if (tag != 0x04 || eoff + o2 != elen)
				return -1;
			if (OID_IS(oid, oid_len, oid_reason)) {
				/* ENUMERATED, one octet, an RFC 5280 reason */
				if (seen_reason++ || vlen != 3 || v[0] != 0x0a || v[1] != 1 || v[2] > 10 || v[2] == 7)
					return -1;
				e->reason = v[2];
			} else if (OID_IS(oid, oid_len, oid_invalidity)) {
				if (seen_inv++)
					return -1;
			} else if (OID_IS(oid, oid_len, oid_hold)) {
				if (seen_hold++)
					return -1;
			} else if (crit) {
				return -1; /* also certificateIssuer, critical or not */
			} else if (oid_len == 3 && oid[0] == 0x55 && oid[1] == 0x1d) {
				return -1; /* certificateIssuer and its id-ce siblings */
			}
		}
	}
	return 0;
}

/* One revokedCertificates entry (the contents of its SEQUENCE). */
static int fast_entry(const unsigned char *p, size_t len, struct mdg_crl_entry *e)
{
	const unsigned char *v;
	size_t vlen, n, off;
	unsigned char tag;

	/* serialNumber: a positive (or zero) INTEGER, minimal */
	if (mdg_der_next(p, len, &tag, &v, &vlen, &n) != 0 || tag != 0x02 || vlen == 0 || (v[0] & 0x80))
		return -1;
	if (vlen > 1 && v[0] == 0 && !(v[1] & 0x80))
		return -1;
	if (v[0] == 0) {
		v++;
		vlen--;
	}
	if (vlen > sizeof(e->serial))
		return -1;
	memcpy(e->serial, v, vlen);
	e->serial_len = vlen;
	off = n;
	/* revocationDate */
	if (mdg_der_next(p + off, len - off, &tag, &v, &vlen, &n) != 0 || fast_time(tag, v, vlen, &e->revoked_at) != 0)
		return -1;
	off += n;
	e->reason = -1;
	if (off == len)
		return 0;
	if (mdg_der_next(p + off, len - off, &tag, &v, &vlen, &n) != 0 || tag != 0x30 || off + n != len)
		return -1;
	return fast_entry_exts(v, vlen, e);
}

/* The fast path: strict DER; OpenSSL parses the CRL with revokedCertificates
 * cut out (header, extensions, signature fields), the signature is verified
 * over the original tbsCertList, the entries are read here. Returns 0, or -1
 * (err says why) for anything it does not take: the reference path decides
 * those. It accepts only what the reference path accepts, with the same
 * result. */
static int parse_fast(const struct mdg_anchors *anchors, const unsigned char *der, size_t derlen,
		      struct mdg_crl_parsed *out, char *err, size_t errlen)
{
	X509_CRL *crl = NULL;
	unsigned char *cut = NULL, tag;
	const unsigned char *tbs, *rv, *p, *v;
	size_t tbs_len, rv_len, cut_len, i, n, off, vlen, t, dp_len = 0;
	char iss[512];
	int rc = -1;

	if (mdg_der_check(der, derlen) != 0) {
		snprintf(err, errlen, "fast path: not strict DER");
		return -1;
	}
	switch (mdg_der_split_crl(der, derlen, &tbs, &tbs_len, &rv, &rv_len, &cut, &cut_len)) {
	case 0:
		break;
	case 1:
		snprintf(err, errlen, "fast path: not a CertificateList");
		return -1;
	default:
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p = cut;
	if ((crl = d2i_X509_CRL(NULL, &p, (long)cut_len)) == NULL || p != cut + cut_len) {
		snprintf(err, errlen, "fast path: the CRL without its entries does not parse");
		goto out;
	}
	mdg_name_rfc4514(X509_CRL_get_issuer(crl), iss, sizeof(iss));
	if (check_header(crl, iss, out, &dp_len, err, errlen) == -1)
		goto out;
	for (n = 0, off = 0; off < rv_len; n++, off += t)
		if (mdg_der_next(rv + off, rv_len - off, &tag, &v, &vlen, &t) != 0 || tag != 0x30) {
			snprintf(err, errlen, "fast path: entry %zu is not a SEQUENCE", n + 1);
			goto out;
		}
	if (n > 0 && (out->entries = calloc(n, sizeof(*out->entries))) == NULL) {
		snprintf(err, errlen, "out of memory (%zu entries)", n);
		goto out;
	}
	for (i = 0, off = 0; i < n; i++, off += t) {
		(void)mdg_der_next(rv + off, rv_len - off, &tag, &v, &vlen, &t);
		if (fast_entry(v, vlen, &out->entries[i]) != 0) {
			snprintf(err, errlen, "fast path: entry %zu not taken", i + 1);
			goto out;
		}
	}
	if (!same_sigalg(der, derlen)) {
		snprintf(err, errlen, "fast path: signatureAlgorithm differs from the TBS's signature");
		goto out;
	}
	if (find_signer(anchors, crl, tbs, tbs_len, out->imp.this_update, iss, err, errlen) == NULL)
		goto out;
	if (finish(anchors, crl, der, derlen, n, dp_len, out, err, errlen) == -1)
		goto out;
	rc = 0;
out:
	ERR_clear_error();
	X509_CRL_free(crl);
	free(cut);
	if (rc == -1)
		mdg_crl_parsed_free(out);
	return rc;
}

int mdg_crl_parse_mode(const struct mdg_anchors *anchors, const unsigned char *data, size_t len, enum mdg_crl_path path,
		       struct mdg_crl_parsed *out, char *err, size_t errlen)
{
	unsigned char *pemder = NULL;
	const unsigned char *der;
	long derlen;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > CRL_MAX_BYTES) {
		snprintf(err, errlen, "CRL is empty or larger than %zu bytes", CRL_MAX_BYTES);
		return -1;
	}
	if (get_der(data, len, &der, &derlen, &pemder, err, errlen) == -1)
		goto out;
	if (path != MDG_CRL_PATH_REFERENCE) {
		rc = parse_fast(anchors, der, (size_t)derlen, out, err, errlen);
		if (rc == 0 || path == MDG_CRL_PATH_FAST_ONLY)
			goto out;
	}
	rc = parse_reference(anchors, der, (size_t)derlen, out, err, errlen);
out:
	OPENSSL_free(pemder);
	return rc;
}

int mdg_crl_parse(const struct mdg_anchors *anchors, const unsigned char *data, size_t len, struct mdg_crl_parsed *out,
		  char *err, size_t errlen)
{
	return mdg_crl_parse_mode(anchors, data, len, MDG_CRL_PATH_AUTO, out, err, errlen);
}
