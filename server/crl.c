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
#include "names.h"

#define CRL_MAX_BYTES ((size_t)512 * 1024 * 1024)
#define CRL_MAX_ANCHORS 64

static int
asn1_time_to_unix(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = timegm(&tm);
	return 0;
}

/* Big-endian magnitude of a non-negative INTEGER, without leading zeros.
 * Returns 0, or -1 if negative or longer than max. */
static int
int_magnitude(const ASN1_INTEGER *ai, unsigned char *out, size_t max, size_t *outlen)
{
	const unsigned char *p;
	int len;

	if (ai == NULL || ASN1_STRING_type(ai) != V_ASN1_INTEGER)
		return -1;	/* V_ASN1_NEG_INTEGER: negative */
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

static int
ext_is_duplicated(const X509_CRL *crl, int i)
{
	const ASN1_OBJECT *obj = X509_EXTENSION_get_object(X509_CRL_get_ext(crl, i));

	return X509_CRL_get_ext_by_OBJ(crl, obj, i) != -1;
}

/* The CRL-level extensions: delta refused, unknown critical refused. */
static int
check_crl_extensions(const X509_CRL *crl, const char *iss, char *err, size_t errlen)
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
			snprintf(err, errlen, "CRL of %s is a delta CRL (deltaCRLIndicator): only complete "
				 "CRLs are imported: refused", iss);
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
				snprintf(err, errlen, "CRL of %s has an unknown critical extension %s: refused",
					 iss, oid);
				return -1;
			}
		}
	}
	return 0;
}

/* Returns 0 with *dp_der (NULL: no IDP), or -1. */
static int
check_idp(const X509_CRL *crl, const char *iss, unsigned char **dp_der, size_t *dp_len,
	  char *err, size_t errlen)
{
	ISSUING_DIST_POINT *idp;
	GENERAL_NAME *gn;
	int crit = -1, len, rc = -1;

	*dp_der = NULL;
	*dp_len = 0;
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
		snprintf(err, errlen, "CRL of %s covers only CA certificates (onlyContainsCACerts): refused",
			 iss);
		goto out;
	}
	if (idp->onlyattr) {
		snprintf(err, errlen, "CRL of %s covers only attribute certificates "
			 "(onlyContainsAttributeCerts): refused", iss);
		goto out;
	}
	if (idp->distpoint == NULL || idp->distpoint->type != 0 ||
	    sk_GENERAL_NAME_num(idp->distpoint->name.fullname) != 1 ||
	    (gn = sk_GENERAL_NAME_value(idp->distpoint->name.fullname, 0))->type != GEN_DIRNAME) {
		snprintf(err, errlen, "CRL of %s: issuingDistributionPoint must name exactly one "
			 "directoryName: refused", iss);
		goto out;
	}
	len = i2d_X509_NAME(gn->d.directoryName, dp_der);
	if (len <= 0) {
		*dp_der = NULL;
		snprintf(err, errlen, "CRL of %s: cannot encode the distribution point name", iss);
		goto out;
	}
	*dp_len = (size_t)len;
	rc = 0;
out:
	ISSUING_DIST_POINT_free(idp);
	return rc;
}

static int
check_entry(X509_REVOKED *rev, size_t i, const char *iss, struct mdg_crl_entry *e,
	    char *err, size_t errlen)
{
	const STACK_OF(X509_EXTENSION) *exts = X509_REVOKED_get0_extensions(rev);
	ASN1_ENUMERATED *reason;
	int j, crit;
	long r;
	char oid[80];

	if (int_magnitude(X509_REVOKED_get0_serialNumber(rev), e->serial, sizeof(e->serial),
			  &e->serial_len) == -1) {
		snprintf(err, errlen, "CRL of %s: entry %zu has a negative serial number or one longer "
			 "than %d bytes: refused", iss, i + 1, MDG_SERIAL_MAX);
		return -1;
	}
	if (asn1_time_to_unix(X509_REVOKED_get0_revocationDate(rev), &e->revoked_at) == -1) {
		snprintf(err, errlen, "CRL of %s: entry %zu has an unreadable revocation date: refused",
			 iss, i + 1);
		return -1;
	}
	e->reason = -1;
	for (j = 0; j < sk_X509_EXTENSION_num(exts); j++) {
		X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, j);
		const ASN1_OBJECT *obj = X509_EXTENSION_get_object(ext);

		switch (OBJ_obj2nid(obj)) {
		case NID_certificate_issuer:
			snprintf(err, errlen, "CRL of %s: entry %zu names another certificate issuer "
				 "(certificateIssuer; indirect CRL): refused", iss, i + 1);
			return -1;
		case NID_crl_reason:
		case NID_invalidity_date:
		case NID_hold_instruction_code:
			break;
		default:
			if (X509_EXTENSION_get_critical(ext)) {
				OBJ_obj2txt(oid, sizeof(oid), obj, 1);
				snprintf(err, errlen, "CRL of %s: entry %zu has an unknown critical "
					 "extension %s: refused", iss, i + 1, oid);
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
		snprintf(err, errlen, "CRL of %s: entry %zu has a malformed or repeated reasonCode: "
			 "refused", iss, i + 1);
		return -1;
	}
	r = ASN1_ENUMERATED_get(reason);
	ASN1_ENUMERATED_free(reason);
	if (r < 0 || r > 10 || r == 7) {
		snprintf(err, errlen, "CRL of %s: entry %zu has reasonCode %ld, not an RFC 5280 "
			 "reason: refused", iss, i + 1, r);
		return -1;
	}
	e->reason = (int)r;
	return 0;
}

/* Tries the anchors named like the CRL issuer, those whose key identifier
 * matches the CRL's AKI first. Returns the verifying anchor or NULL. */
static const struct mdg_anchor *
find_signer(const struct mdg_anchors *anchors, X509_CRL *crl, time_t this_update,
	    const char *iss, char *err, size_t errlen)
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
			int match = keyid != NULL && an->skid != NULL &&
			    ASN1_OCTET_STRING_cmp(keyid, an->skid) == 0;

			if (match != (pass == 0))
				continue;
			if (this_update < an->not_before || this_update > an->not_after)
				continue;
			valid++;
			if (X509_CRL_verify(crl, an->key) == 1)
				found = an;
		}
	}
	ERR_clear_error();
	AUTHORITY_KEYID_free(akid);
	if (found == NULL && valid == 0)
		snprintf(err, errlen, "CRL of %s: no anchor of that name was valid at the CRL's "
			 "thisUpdate: refused", iss);
	else if (found == NULL)
		snprintf(err, errlen, "CRL of %s: the signature does not verify with any anchor of "
			 "that name: refused", iss);
	return found;
}

/* DER of data, PEM-decoded if it is PEM. *der is data itself or *tofree. */
static int
get_der(const unsigned char *data, size_t len, const unsigned char **der, long *derlen,
	unsigned char **tofree, char *err, size_t errlen)
{
	BIO *b = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *pd = NULL;
	size_t i;
	int rc = -1;

	*tofree = NULL;
	for (i = 0; i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' ||
				data[i] == '\n'); i++)
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

void
mdg_crl_parsed_free(struct mdg_crl_parsed *p)
{
	OPENSSL_free(p->issuer_der);
	OPENSSL_free(p->dp_der);
	free(p->entries);
	memset(p, 0, sizeof(*p));
}

int
mdg_crl_parse(const struct mdg_anchors *anchors, const unsigned char *data, size_t len,
	      struct mdg_crl_parsed *out, char *err, size_t errlen)
{
	X509_CRL *crl = NULL;
	unsigned char *pemder = NULL;
	const unsigned char *der, *p;
	long derlen;
	char iss[512];
	ASN1_INTEGER *num = NULL;
	STACK_OF(X509_REVOKED) *revs;
	const struct mdg_anchor *signer;
	size_t i, n, dp_len, idx[1];
	int crit = -1, rc = -1, ilen;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > CRL_MAX_BYTES) {
		snprintf(err, errlen, "CRL is empty or larger than %zu bytes", CRL_MAX_BYTES);
		return -1;
	}
	if (get_der(data, len, &der, &derlen, &pemder, err, errlen) == -1)
		goto out;
	p = der;
	if ((crl = d2i_X509_CRL(NULL, &p, derlen)) == NULL || p != der + derlen) {
		snprintf(err, errlen, "not a DER or PEM X.509 CRL (does not parse%s)",
			 crl != NULL ? ": trailing data" : "");
		goto out;
	}
	mdg_name_rfc4514(X509_CRL_get_issuer(crl), iss, sizeof(iss));
	if (X509_CRL_get_version(crl) != 1) {
		snprintf(err, errlen, "CRL of %s is not a version 2 CRL: refused", iss);
		goto out;
	}
	if (check_crl_extensions(crl, iss, err, errlen) == -1)
		goto out;
	if (asn1_time_to_unix(X509_CRL_get0_lastUpdate(crl), &out->imp.this_update) == -1) {
		snprintf(err, errlen, "CRL of %s: unreadable thisUpdate: refused", iss);
		goto out;
	}
	if (X509_CRL_get0_nextUpdate(crl) == NULL) {
		snprintf(err, errlen, "CRL of %s has no nextUpdate: refused", iss);
		goto out;
	}
	if (asn1_time_to_unix(X509_CRL_get0_nextUpdate(crl), &out->imp.next_update) == -1) {
		snprintf(err, errlen, "CRL of %s: unreadable nextUpdate: refused", iss);
		goto out;
	}
	if (out->imp.next_update < out->imp.this_update) {
		snprintf(err, errlen, "CRL of %s: nextUpdate is before thisUpdate: refused", iss);
		goto out;
	}
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	if (num == NULL) {
		snprintf(err, errlen, "CRL of %s has %s cRLNumber: refused", iss,
			 crit == -1 ? "no" : "a malformed");
		goto out;
	}
	if (int_magnitude(num, out->imp.number, MDG_CRLNUM_MAX - 1, &out->imp.number_len) == -1) {
		snprintf(err, errlen, "CRL of %s: cRLNumber is negative or longer than 20 octets: "
			 "refused", iss);
		goto out;
	}
	if (check_idp(crl, iss, &out->dp_der, &dp_len, err, errlen) == -1)
		goto out;
	revs = X509_CRL_get_REVOKED(crl);
	n = revs != NULL ? (size_t)sk_X509_REVOKED_num(revs) : 0;
	if (n > 0 && (out->entries = calloc(n, sizeof(*out->entries))) == NULL) {
		snprintf(err, errlen, "out of memory (%zu entries)", n);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (check_entry(sk_X509_REVOKED_value(revs, (int)i), i, iss, &out->entries[i],
				err, errlen) == -1)
			goto out;
	if ((signer = find_signer(anchors, crl, out->imp.this_update, iss, err, errlen)) == NULL)
		goto out;
	/* The store keys CRLs and acceptances on the subject DER of the first
	 * anchor of the name, whichever generation signed (docs/store.md). */
	if (mdg_anchors_match(anchors, X509_CRL_get_issuer(crl), idx, 1) != 1)
		goto out;
	ilen = anchors->v[idx[0]].subject_len;
	if ((out->issuer_der = OPENSSL_memdup(anchors->v[idx[0]].subject_der, (size_t)ilen)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	(void)signer;
	/* Sorted by serial (as SQLite orders BLOBs): the store's inserts then
	 * append to the primary key's B-tree instead of splitting pages. */
	if (n > 1)
		qsort(out->entries, n, sizeof(*out->entries), mdg_crl_entry_cmp);
	if (EVP_Digest(der, (size_t)derlen, out->imp.sha256, NULL, EVP_sha256(), NULL) != 1) {
		snprintf(err, errlen, "cannot compute the CRL's SHA-256");
		goto out;
	}
	out->imp.issuer_der = out->issuer_der;
	out->imp.issuer_len = (size_t)ilen;
	out->imp.dp_der = out->dp_der;
	out->imp.dp_len = dp_len;
	out->imp.entries = out->entries;
	out->imp.n_entries = n;
	rc = 0;
out:
	ERR_clear_error();
	ASN1_INTEGER_free(num);
	X509_CRL_free(crl);
	OPENSSL_free(pemder);
	if (rc == -1)
		mdg_crl_parsed_free(out);
	return rc;
}
