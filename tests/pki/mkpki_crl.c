/* mkpki: CRLs. */
#include "mkpki.h"

/* ------------------------------------------------------------------ */
/* CRLs */

int add_crl_int_ext(X509_CRL *crl, int nid, long v, int crit)
{
	ASN1_INTEGER *ai;
	int ok;

	if ((ai = ASN1_INTEGER_new()) == NULL)
		return 0;
	ok = ASN1_INTEGER_set(ai, v) && X509_CRL_add1_ext_i2d(crl, nid, ai, crit, X509V3_ADD_DEFAULT);
	ASN1_INTEGER_free(ai);
	return ok;
}

int add_revoked(X509_CRL *crl, const struct revoked *r, int v1)
{
	X509_REVOKED *rev = NULL;
	ASN1_TIME *t = NULL;
	ASN1_ENUMERATED *e = NULL;
	int rc = -1;

	if ((rev = X509_REVOKED_new()) == NULL || !X509_REVOKED_set_serialNumber(rev, r->serial) ||
	    (t = ASN1_TIME_set(NULL, r->date)) == NULL || !X509_REVOKED_set_revocationDate(rev, t))
		goto out;
	if (!v1) {
		if ((e = ASN1_ENUMERATED_new()) == NULL || !ASN1_ENUMERATED_set(e, r->reason) ||
		    !X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, e, 0, X509V3_ADD_DEFAULT))
			goto out;
	}
	if (!X509_CRL_add0_revoked(crl, rev))
		goto out;
	rev = NULL;
	rc = 0;
out:
	X509_REVOKED_free(rev);
	ASN1_TIME_free(t);
	ASN1_ENUMERATED_free(e);
	if (rc == -1)
		fail("cannot add a CRL entry");
	return rc;
}

X509_CRL *make_crl(const struct ca *ca, const char *city, long number, time_t tu, time_t nu, unsigned flags,
		   const struct revoked *revs, size_t nrev)
{
	X509_CRL *crl = NULL;
	X509_NAME *dpn = NULL;
	ISSUING_DIST_POINT *idp = NULL;
	AUTHORITY_KEYID *akid = NULL;
	ASN1_TIME *t = NULL;
	size_t i;
	int v1 = (flags & C_V1) != 0;

	if ((crl = X509_CRL_new()) == NULL)
		goto err;
	if (!v1 && !X509_CRL_set_version(crl, X509_CRL_VERSION_2))
		goto err;
	if (!X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) || (t = ASN1_TIME_set(NULL, tu)) == NULL ||
	    !X509_CRL_set1_lastUpdate(crl, t))
		goto err;
	if (!(flags & C_NONEXT)) {
		ASN1_TIME_free(t);
		if ((t = ASN1_TIME_set(NULL, nu)) == NULL || !X509_CRL_set1_nextUpdate(crl, t))
			goto err;
	}
	for (i = 0; i < nrev; i++)
		if (add_revoked(crl, &revs[i], v1) == -1)
			goto fail;
	if (!v1) {
		if ((akid = akid_of(ca->cert)) == NULL)
			goto fail;
		if (!X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT))
			goto err;
		if (!(flags & C_NONUMBER) && !add_crl_int_ext(crl, NID_crl_number, number, 0))
			goto err;
		if ((flags & C_DELTA) && !add_crl_int_ext(crl, NID_delta_crl, number - 1, 1))
			goto err;
		if (city != NULL) {
			if ((dpn = (flags & C_DP_PRINTABLE) ? dp_name_printable(PREF, city) : dp_name(PREF, city)) ==
			    NULL)
				goto fail;
			if ((idp = ISSUING_DIST_POINT_new()) == NULL || (idp->distpoint = dpn_dirname(dpn)) == NULL ||
			    !X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, X509V3_ADD_DEFAULT))
				goto err;
		}
	}
	if (!X509_CRL_sort(crl) || !X509_CRL_sign(crl, ca->key, EVP_sha256()))
		goto err;
	goto out;
err:
	fail("cannot build a CRL signed by %s", ca->name);
fail:
	X509_CRL_free(crl);
	crl = NULL;
out:
	X509_NAME_free(dpn);
	ISSUING_DIST_POINT_free(idp);
	AUTHORITY_KEYID_free(akid);
	ASN1_TIME_free(t);
	return crl;
}

/* The manifest's description of a CRL; serials as lowercase hex. */
json_t *crl_json(const X509_CRL *crl, const char *der, const char *pem, const char *signer, const char *city,
		 long number, time_t tu, time_t nu, unsigned flags, const char *expect)
{
	json_t *o = NULL, *serials = NULL;
	X509_NAME *dpn = NULL;
	char *issuer = NULL, *dp = NULL, *hex;
	char tus[32], nus[32];
	STACK_OF(X509_REVOKED) * revs;
	int i;

	if ((issuer = name_text(X509_CRL_get_issuer(crl))) == NULL)
		goto out;
	if (city != NULL && !(flags & C_V1)) {
		if ((dpn = dp_name(PREF, city)) == NULL || (dp = name_text(dpn)) == NULL)
			goto out;
	}
	if ((serials = json_array()) == NULL)
		goto out;
	revs = X509_CRL_get_REVOKED((X509_CRL *)crl);
	for (i = 0; i < sk_X509_REVOKED_num(revs); i++) {
		hex = serial_hex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revs, i)));
		if (hex == NULL || json_array_append_new(serials, json_string(hex)) == -1) {
			free(hex);
			goto out;
		}
		free(hex);
	}
	rfc3339(tu, tus);
	rfc3339(nu, nus);
	o = json_pack("{s:s, s:s?, s:s, s:s, s:s?, s:o, s:s, s:o, s:O, s:s?}", "der", der, "pem", pem, "signer", signer,
		      "issuer", issuer, "dp", dp, "number",
		      ((flags & (C_V1 | C_NONUMBER)) ? json_null() : json_integer(number)), "thisUpdate", tus,
		      "nextUpdate", ((flags & C_NONEXT) ? json_null() : json_string(nus)), "serials", serials, "expect",
		      expect);
out:
	if (o == NULL)
		fail("cannot describe a CRL");
	json_decref(serials);
	X509_NAME_free(dpn);
	free(issuer);
	free(dp);
	return o;
}
