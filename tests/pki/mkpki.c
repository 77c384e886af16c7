/*
 * mkpki: the test PKI generator (see LAYOUT.md next to this file).
 *
 *   mkpki gen OUTDIR      a fresh PKI: anchors, CAs, holders, CRLs, manifest
 *   mkpki crl OUTDIR ...  one more CRL signed by a CA of OUTDIR
 *
 * Keys are generated in parallel first (that is where the time goes), then
 * everything else is built serially.
 */
#include "mkpki.h"

time_t now;

/* CRL reasons by name, for crl --revoke */
static const struct {
	const char *name;
	int code;
} reasons[] = {
	{ "unspecified", CRL_REASON_UNSPECIFIED },
	{ "keyCompromise", CRL_REASON_KEY_COMPROMISE },
	{ "cACompromise", CRL_REASON_CA_COMPROMISE },
	{ "affiliationChanged", CRL_REASON_AFFILIATION_CHANGED },
	{ "superseded", CRL_REASON_SUPERSEDED },
	{ "cessationOfOperation", CRL_REASON_CESSATION_OF_OPERATION },
	{ "certificateHold", CRL_REASON_CERTIFICATE_HOLD },
	{ "removeFromCRL", CRL_REASON_REMOVE_FROM_CRL },
	{ "privilegeWithdrawn", CRL_REASON_PRIVILEGE_WITHDRAWN },
	{ "aACompromise", CRL_REASON_AA_COMPROMISE },
};

void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("mkpki: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ERR_print_errors_fp(stderr);
}

/* ------------------------------------------------------------------ */
/* gen */

int write_applicant(const char *path, const struct holder *h)
{
	json_t *o;
	int rc;

	if ((o = facts_json(&h->facts)) == NULL) {
		fail("cannot build %s", path);
		return -1;
	}
	rc = json_dump_file(o, path, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (rc == -1)
		fail("cannot write %s", path);
	return rc;
}

json_t *holder_json(const struct holder *h, const char *cert, const char *key, const char *twin)
{
	X509_NAME *dpn = NULL;
	char *issuer = NULL, *dp = NULL;
	char nb[32], na[32];
	json_t *o = NULL;

	if ((issuer = name_text(X509_get_issuer_name(h->cert))) == NULL)
		goto out;
	if (h->s.city != NULL && ((dpn = dp_name(PREF, h->s.city)) == NULL || (dp = name_text(dpn)) == NULL))
		goto out;
	rfc3339(h->not_before, nb);
	rfc3339(h->not_after, na);
	o = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s, s:s?, s:o, s:s, s:s, s:{s:s, s:s}}", "cert", cert, "key", key,
		      "signer", twin, "serial", h->serial, "ca", cas[h->s.ca].name, "issuer", issuer, "dp", dp,
		      "applicant", facts_json(&h->facts), "notBefore", nb, "notAfter", na, "expect", "validity-check",
		      h->s.vc, "revocation", h->s.rev);
out:
	if (o == NULL)
		fail("cannot describe holder %s", h->s.name);
	X509_NAME_free(dpn);
	free(issuer);
	free(dp);
	return o;
}

struct holder *find_holder(struct holder *hs, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(hs[i].s.name, name) == 0)
			return &hs[i];
	return NULL;
}

static const struct {
	const char *name;
	int ca;
	const char *city;
	long number;
	long long tu, nu;
	unsigned flags;
	const char *revoke; /* holder name or NULL */
	int reason;
	const char *expect; /* "accepted", "refused", or "older" (refused after a newer) */
	int pem;
} gen_crls[] = {
	{ "jlis-full", CA_G2, NULL, 10, -HOUR, 23 * HOUR, 0, "revoked-full", CRL_REASON_AFFILIATION_CHANGED, "accepted",
	  1 },
	{ "jlis-dp-chiyoda", CA_G2, "Chiyoda-ku", 10, -HOUR, 23 * HOUR, 0, "revoked", CRL_REASON_KEY_COMPROMISE,
	  "accepted", 0 },
	{ "jlis-dp-stale", CA_G2, "Stale-shi", 3, -3 * DAY, -2 * DAY, 0, NULL, 0, "accepted", 0 },
	{ "pref-tokyo-dp-shinjuku", CA_TOKYO, "Shinjuku-ku", 5, -HOUR, 23 * HOUR, 0, NULL, 0, "accepted", 0 },
	{ "jlis-full-older", CA_G2, NULL, 9, -25 * HOUR, -HOUR, 0, "revoked-full", CRL_REASON_AFFILIATION_CHANGED,
	  "older", 0 },
	{ "jlis-full-by-g1", CA_G1, NULL, 11, -HOUR, 23 * HOUR, 0, "revoked-full", CRL_REASON_AFFILIATION_CHANGED,
	  "accepted", 0 },
	{ "jlis-full-impostor", CA_IMPOSTOR, NULL, 12, -HOUR, 23 * HOUR, 0, NULL, 0, "refused", 0 },
	{ "jlis-full-delta", CA_G2, NULL, 13, -HOUR, 23 * HOUR, C_DELTA, NULL, 0, "refused", 0 },
	{ "jlis-full-v1", CA_G2, NULL, 0, -HOUR, 23 * HOUR, C_V1, NULL, 0, "refused", 0 },
	{ "unknown-full", CA_UNKNOWN, NULL, 1, -HOUR, 23 * HOUR, 0, NULL, 0, "refused", 0 },
};

/* ------------------------------------------------------------------ */
/* Receipts: the window's receipt certificate and the log key */

const char *const dn_receipt[] = { "C",  "JP",
				   "O",  "JPKI",
				   "OU", "JPKI for digital signature",
				   "OU", "Online Window",
				   "CN", "madoguchi receipts (test)",
				   NULL };

/* id-kp-documentSigning (RFC 9336): a receipt is a signed document, not
 * e-mail, code or a TLS key */

/* The receipt certificate under ca: keyUsage critical digitalSignature +
 * nonRepudiation, extendedKeyUsage documentSigning, basicConstraints
 * critical CA:FALSE, AKI, SKI; validity now-30d .. now+5y. */
X509 *make_receipt_cert(const struct ca *ca, EVP_PKEY *key)
{
	X509 *x = NULL;
	X509_NAME *n = NULL;
	ASN1_INTEGER *serial = NULL;
	AUTHORITY_KEYID *akid = NULL;
	X509V3_CTX ctx;
	int ok = 0;

	if ((x = X509_new()) == NULL || (n = make_name(dn_receipt)) == NULL || (serial = random_serial()) == NULL ||
	    (akid = akid_of(ca->cert)) == NULL)
		goto out;
	if (!X509_set_version(x, X509_VERSION_3) || !X509_set_serialNumber(x, serial) || !X509_set_subject_name(x, n) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) ||
	    X509_time_adj_ex(X509_getm_notBefore(x), -30, 0, &now) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), 0, (long)(5 * YEAR), &now) == NULL || !X509_set_pubkey(x, key)) {
		fail("cannot fill the receipt certificate");
		goto out;
	}
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, ca->cert, x, NULL, NULL, 0);
	if (add_ext_conf(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") == -1 ||
	    add_ext_conf(x, &ctx, NID_key_usage, "critical,digitalSignature,nonRepudiation") == -1 ||
	    add_ext_conf(x, &ctx, NID_ext_key_usage, OID_KP_DOCSIGN) == -1 || add_ski(x) == -1)
		goto out;
	if (!X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT) ||
	    !X509_sign(x, ca->key, EVP_sha256())) {
		fail("cannot sign the receipt certificate");
		goto out;
	}
	ok = 1;
out:
	X509_NAME_free(n);
	ASN1_INTEGER_free(serial);
	AUTHORITY_KEYID_free(akid);
	if (!ok) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/* A private key as PEM readable by its owner only (mode 0600 even if the
 * file was there before). */
int write_secret_key(const char *path, EVP_PKEY *key)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	BIO *b;
	int ok;

	if (fd == -1 || fchmod(fd, 0600) == -1) {
		fail("cannot create %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if ((b = BIO_new_fd(fd, BIO_CLOSE)) == NULL) {
		close(fd);
		fail("cannot write %s", path);
		return -1;
	}
	ok = PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) > 0 && BIO_flush(b) > 0;
	BIO_free(b);
	if (!ok) {
		fail("cannot write %s", path);
		return -1;
	}
	return 0;
}

/* OUTDIR/receipts/: receipt.cert.pem, receipt.key.pem (0600), log.key.pem
 * (Ed25519, 0600); their paths in the manifest's "receipts". */
int make_receipts(const char *dir, EVP_PKEY *rkey, json_t *man)
{
	char pc[PATH_MAX], pk[PATH_MAX], pl[PATH_MAX], *subj = NULL;
	EVP_PKEY *lkey = NULL;
	X509 *x = NULL;
	json_t *o;
	int rc = -1;

	if (mkpath(pc, sizeof(pc), dir, "/receipts", NULL) == -1 || mkdir_ok(pc) == -1 ||
	    mkpath(pc, sizeof(pc), dir, "/receipts/receipt.cert.pem", NULL) == -1 ||
	    mkpath(pk, sizeof(pk), dir, "/receipts/receipt.key.pem", NULL) == -1 ||
	    mkpath(pl, sizeof(pl), dir, "/receipts/log.key.pem", NULL) == -1)
		goto out;
	if ((x = make_receipt_cert(&cas[CA_G2], rkey)) == NULL)
		goto out;
	if ((lkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL) {
		fail("cannot make the Ed25519 log key");
		goto out;
	}
	if (write_file_bio(pc, w_cert, x) == -1 || write_secret_key(pk, rkey) == -1 ||
	    write_secret_key(pl, lkey) == -1 || (subj = name_text(X509_get_subject_name(x))) == NULL)
		goto out;
	o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "cert", pc, "key", pk, "logKey", pl, "subject", subj, "ca",
		      cas[CA_G2].name);
	if (o == NULL || json_object_set_new(man, "receipts", o) == -1) {
		fail("out of memory");
		goto out;
	}
	rc = 0;
out:
	free(subj);
	X509_free(x);
	EVP_PKEY_free(lkey);
	return rc;
}

int gen(const char *arg)
{
	struct keyjob *jobs = NULL;
	struct holder *hs = NULL, *h;
	X509_CRL *crl = NULL;
	json_t *man = NULL, *jh, *jc, *ja, *jcas, *o;
	X509 *x = NULL;
	char dir[PATH_MAX], p1[PATH_MAX], p2[PATH_MAX], p3[PATH_MAX], *subj;
	const char *twin;
	size_t i, nj = 0;
	int rc = -1;

	if (mkdir_ok(arg) == -1)
		goto out;
	if (realpath(arg, dir) == NULL) {
		fail("%s: %s", arg, strerror(errno));
		goto out;
	}
	if (mkpath(p1, sizeof(p1), dir, "/anchors", NULL) == -1 || mkdir_ok(p1) == -1 ||
	    mkpath(p1, sizeof(p1), dir, "/ca", NULL) == -1 || mkdir_ok(p1) == -1 ||
	    mkpath(p1, sizeof(p1), dir, "/holders", NULL) == -1 || mkdir_ok(p1) == -1 ||
	    mkpath(p1, sizeof(p1), dir, "/crls", NULL) == -1 || mkdir_ok(p1) == -1)
		goto out;

	/* the holder table */
	if ((hs = calloc(NHOLDER, sizeof(*hs))) == NULL) {
		fail("out of memory");
		goto out;
	}
	for (i = 0; i < NVALID; i++) {
		h = &hs[i];
		snprintf(h->s.name, sizeof(h->s.name), "valid-%02zu", i + 1);
		h->s.ca = CA_G2;
		h->s.ktype = K_RSA2048;
		h->s.nb = NB;
		h->s.na = NA;
		h->s.city = "Chiyoda-ku";
		h->s.vc = "valid";
		h->s.rev = "accepted";
		h->s.fidx = (int)i;
	}
	for (i = 0; i < n_special; i++) {
		hs[NVALID + i].s = special[i];
		hs[NVALID + i].s.fidx = (int)(NVALID + i);
	}
	for (i = 0; i < NHOLDER; i++)
		facts_for(hs[i].s.fidx, hs[i].s.city, &hs[i].facts);

	/* keys: holders, then the CAs, then the wrongkey's other key, then
	 * the receipt certificate's */
	nj = NHOLDER + NCA + 2;
	if ((jobs = calloc(nj, sizeof(*jobs))) == NULL) {
		fail("out of memory");
		goto out;
	}
	for (i = 0; i < NHOLDER; i++)
		jobs[i].type = hs[i].s.ktype;
	for (i = NHOLDER; i < nj; i++)
		jobs[i].type = K_RSA2048;
	/* the receipt key signs every acceptance's answer: ECDSA P-256 signs
	 * in about 30 us where RSA-2048 takes 800 (docs/performance.md,
	 * "Receipts (issue 15)") */
	jobs[NHOLDER + NCA + 1].type = K_EC;
	if (keygen_all(jobs, nj) == -1)
		goto out;
	for (i = 0; i < NHOLDER; i++)
		hs[i].key = hs[i].filekey = jobs[i].key;
	for (i = 0; i < NCA; i++)
		cas[i].key = jobs[NHOLDER + i].key;
	if ((h = find_holder(hs, NHOLDER, "wrongkey")) != NULL)
		h->filekey = jobs[NHOLDER + NCA].key;

	if ((man = json_object()) == NULL || (jh = json_object()) == NULL ||
	    json_object_set_new(man, "holders", jh) == -1 || (jc = json_object()) == NULL ||
	    json_object_set_new(man, "crls", jc) == -1 || (ja = json_array()) == NULL ||
	    json_object_set_new(man, "anchors", ja) == -1 || (jcas = json_object()) == NULL ||
	    json_object_set_new(man, "cas", jcas) == -1 ||
	    json_object_set_new(man, "policy", json_string(POLICY)) == -1 ||
	    json_object_set_new(man, "outdir", json_string(dir)) == -1) {
		fail("out of memory");
		goto out;
	}

	/* CAs */
	for (i = 0; i < NCA; i++) {
		if (make_ca(&cas[i]) == -1 || mkpath(p1, sizeof(p1), dir, "/ca/", cas[i].name) == -1 ||
		    strlen(p1) + 16 > sizeof(p1))
			goto out;
		strcpy(p2, p1);
		strcat(p1, ".cert.pem");
		strcat(p2, ".key.pem");
		if (write_file_bio(p1, w_cert, cas[i].cert) == -1 || write_file_bio(p2, w_key, cas[i].key) == -1)
			goto out;
		if ((subj = name_text(X509_get_subject_name(cas[i].cert))) == NULL)
			goto out;
		o = json_pack("{s:s, s:s, s:s, s:b}", "cert", p1, "key", p2, "subject", subj, "anchor", cas[i].anchor);
		free(subj);
		if (o == NULL || json_object_set_new(jcas, cas[i].name, o) == -1) {
			fail("out of memory");
			goto out;
		}
		if (!cas[i].anchor)
			continue;
		if (mkpath(p1, sizeof(p1), dir, "/anchors/", cas[i].name) == -1 || strlen(p1) + 8 > sizeof(p1))
			goto out;
		strcat(p1, ".pem");
		if (write_file_bio(p1, w_cert, cas[i].cert) == -1)
			goto out;
		if (json_array_append_new(ja, json_string(p1)) == -1) {
			fail("out of memory");
			goto out;
		}
	}

	/* holders */
	for (i = 0; i < NHOLDER; i++) {
		h = &hs[i];
		if (make_holder(h) == -1 || mkpath(p1, sizeof(p1), dir, "/holders/", h->s.name) == -1 ||
		    strlen(p1) + 24 > sizeof(p1))
			goto out;
		strcpy(p2, p1);
		strcat(p2, ".applicant.json");
		if (write_applicant(p2, h) == -1)
			goto out;
		strcpy(p2, p1);
		strcat(p1, ".cert.pem");
		strcat(p2, ".key.pem");
		if (write_file_bio(p1, w_cert, h->cert) == -1 || write_file_bio(p2, w_key, h->filekey) == -1)
			goto out;
		twin = NULL;
		if (h->s.flags & F_WRONGKEY) {
			if ((x = make_twin(h)) == NULL || mkpath(p3, sizeof(p3), dir, "/holders/", h->s.name) == -1 ||
			    strlen(p3) + 16 > sizeof(p3))
				goto out;
			strcat(p3, ".signer.pem");
			if (write_file_bio(p3, w_cert, x) == -1)
				goto out;
			X509_free(x);
			x = NULL;
			twin = p3;
		}
		if ((o = holder_json(h, p1, p2, twin)) == NULL || json_object_set_new(jh, h->s.name, o) == -1)
			goto out;
	}

	/* CRLs */
	for (i = 0; i < NELEM(gen_crls); i++) {
		struct revoked r, *rp = NULL;
		time_t tu = now + (time_t)gen_crls[i].tu, nu = now + (time_t)gen_crls[i].nu;

		if (gen_crls[i].revoke != NULL) {
			if ((h = find_holder(hs, NHOLDER, gen_crls[i].revoke)) == NULL) {
				fail("no holder %s", gen_crls[i].revoke);
				goto out;
			}
			r.serial = (ASN1_INTEGER *)X509_get0_serialNumber(h->cert);
			r.reason = gen_crls[i].reason;
			r.date = now - 2 * DAY;
			rp = &r;
		}
		if ((crl = make_crl(&cas[gen_crls[i].ca], gen_crls[i].city, gen_crls[i].number, tu, nu,
				    gen_crls[i].flags, rp, rp ? 1 : 0)) == NULL)
			goto out;
		if (mkpath(p1, sizeof(p1), dir, "/crls/", gen_crls[i].name) == -1 || strlen(p1) + 16 > sizeof(p1))
			goto out;
		strcpy(p2, p1);
		strcat(p1, ".crl.der");
		strcat(p2, ".crl.pem");
		if (write_file_bio(p1, w_crl_der, crl) == -1 ||
		    (gen_crls[i].pem && write_file_bio(p2, w_crl_pem, crl) == -1))
			goto out;
		if ((o = crl_json(crl, p1, gen_crls[i].pem ? p2 : NULL, cas[gen_crls[i].ca].name, gen_crls[i].city,
				  gen_crls[i].number, tu, nu, gen_crls[i].flags, gen_crls[i].expect)) == NULL ||
		    json_object_set_new(jc, gen_crls[i].name, o) == -1)
			goto out;
		X509_CRL_free(crl);
		crl = NULL;
	}

	/* receipts: after the CAs (jlis-g2 signs the receipt certificate) */
	if (make_receipts(dir, jobs[NHOLDER + NCA + 1].key, man) == -1)
		goto out;

	if (mkpath(p1, sizeof(p1), dir, "/manifest.json", NULL) == -1)
		goto out;
	if (json_dump_file(man, p1, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == -1) {
		fail("cannot write %s", p1);
		goto out;
	}
	rc = 0;
out:
	if (hs != NULL)
		for (i = 0; i < NHOLDER; i++) {
			X509_free(hs[i].cert);
			free(hs[i].serial);
		}
	free(hs);
	if (jobs != NULL)
		for (i = 0; i < nj; i++)
			EVP_PKEY_free(jobs[i].key);
	free(jobs);
	for (i = 0; i < NCA; i++) {
		X509_free(cas[i].cert);
		cas[i].cert = NULL;
		cas[i].key = NULL;
	}
	X509_CRL_free(crl);
	X509_free(x);
	json_decref(man);
	return rc;
}

/* ------------------------------------------------------------------ */
/* crl */

void usage(void)
{
	fputs("usage: mkpki gen OUTDIR\n"
	      "       mkpki crl OUTDIR --ca NAME --number N [--dp CITY]\n"
	      "             [--this-update-hours H] [--next-update-hours H]\n"
	      "             [--revoke HOLDER[:REASON]]... [--pem] --out FILE\n"
	      "             [--delta] [--v1] [--no-next-update] [--dp-printable]\n",
	      stderr);
}

int parse_hours(const char *s, time_t *out)
{
	char *end;
	double h;

	errno = 0;
	h = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || h < -1e6 || h > 1e6) {
		fail("bad number of hours: %s", s);
		return -1;
	}
	*out = now + (time_t)(h * 3600.0);
	return 0;
}

int parse_long(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *out < 0) {
		fail("bad number: %s", s);
		return -1;
	}
	return 0;
}

/* HOLDER[:REASON] → serial and reason; HOLDER a manifest name or hex. */
int parse_revoke(const char *arg, json_t *holders, struct revoked *r)
{
	char buf[256], *colon;
	const char *hex;
	json_t *jh;
	BIGNUM *bn = NULL;
	size_t k;
	int rc = -1;

	if (strlen(arg) >= sizeof(buf)) {
		fail("--revoke argument too long");
		return -1;
	}
	strcpy(buf, arg);
	r->reason = CRL_REASON_KEY_COMPROMISE;
	if ((colon = strchr(buf, ':')) != NULL) {
		*colon++ = '\0';
		for (k = 0; k < NELEM(reasons); k++)
			if (strcmp(reasons[k].name, colon) == 0)
				break;
		if (k == NELEM(reasons)) {
			fail("unknown reason %s", colon);
			return -1;
		}
		r->reason = reasons[k].code;
	}
	hex = buf;
	if ((jh = json_object_get(holders, buf)) != NULL) {
		if ((hex = json_string_value(json_object_get(jh, "serial"))) == NULL) {
			fail("manifest: holder %s has no serial", buf);
			return -1;
		}
	} else if (strspn(buf, "0123456789abcdefABCDEF") != strlen(buf) || buf[0] == '\0') {
		fail("%s is neither a holder of the manifest nor a hex serial", buf);
		return -1;
	}
	if (!BN_hex2bn(&bn, hex) || (r->serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL) {
		fail("bad serial %s", hex);
		goto out;
	}
	rc = 0;
out:
	BN_free(bn);
	return rc;
}

EVP_PKEY *read_key(const char *path)
{
	BIO *b;
	EVP_PKEY *k = NULL;

	if ((b = BIO_new_file(path, "rb")) != NULL)
		k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (k == NULL)
		fail("cannot read key %s", path);
	return k;
}

X509 *read_cert(const char *path)
{
	BIO *b;
	X509 *x = NULL;

	if ((b = BIO_new_file(path, "rb")) != NULL)
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (x == NULL)
		fail("cannot read certificate %s", path);
	return x;
}

int crl_cmd(int argc, char **argv)
{
	const char *dir, *caname = NULL, *city = NULL, *out = NULL;
	struct revoked *revs = NULL;
	struct ca ca = { 0 };
	X509_CRL *crl = NULL;
	json_t *man = NULL, *holders;
	json_error_t jerr;
	char path[PATH_MAX];
	time_t tu = now - HOUR, nu = now + 23 * HOUR;
	long number = -1;
	unsigned flags = 0;
	size_t nrev = 0, i;
	int pem = 0, a, rc = -1;

	dir = argv[0];
	if ((revs = calloc((size_t)argc, sizeof(*revs))) == NULL) {
		fail("out of memory");
		goto out;
	}
	if (mkpath(path, sizeof(path), dir, "/manifest.json", NULL) == -1)
		goto out;
	if ((man = json_load_file(path, 0, &jerr)) == NULL) {
		fail("%s: %s", path, jerr.text);
		goto out;
	}
	holders = json_object_get(man, "holders");
	for (a = 1; a < argc; a++) {
		const char *opt = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;

		if (strcmp(opt, "--pem") == 0) {
			pem = 1;
			continue;
		}
		if (strcmp(opt, "--v1") == 0) {
			flags |= C_V1;
			continue;
		}
		if (strcmp(opt, "--delta") == 0) {
			flags |= C_DELTA;
			continue;
		}
		if (strcmp(opt, "--no-next-update") == 0) {
			flags |= C_NONEXT;
			continue;
		}
		if (strcmp(opt, "--dp-printable") == 0) {
			flags |= C_DP_PRINTABLE;
			continue;
		}
		if (strcmp(opt, "--ca") != 0 && strcmp(opt, "--number") != 0 && strcmp(opt, "--dp") != 0 &&
		    strcmp(opt, "--this-update-hours") != 0 && strcmp(opt, "--next-update-hours") != 0 &&
		    strcmp(opt, "--revoke") != 0 && strcmp(opt, "--out") != 0) {
			fail("unknown option %s", opt);
			usage();
			goto out;
		}
		if (val == NULL) {
			fail("%s needs a value", opt);
			goto out;
		}
		a++;
		if (strcmp(opt, "--ca") == 0)
			caname = val;
		else if (strcmp(opt, "--number") == 0) {
			if (parse_long(val, &number) == -1)
				goto out;
		} else if (strcmp(opt, "--dp") == 0)
			city = val;
		else if (strcmp(opt, "--this-update-hours") == 0) {
			if (parse_hours(val, &tu) == -1)
				goto out;
		} else if (strcmp(opt, "--next-update-hours") == 0) {
			if (parse_hours(val, &nu) == -1)
				goto out;
		} else if (strcmp(opt, "--revoke") == 0) {
			if (parse_revoke(val, holders, &revs[nrev]) == -1)
				goto out;
			revs[nrev++].date = 0;
		} else if (strcmp(opt, "--out") == 0)
			out = val;
		else {
			fail("unknown option %s", opt);
			goto out;
		}
	}
	if (caname == NULL || out == NULL || (number < 0 && !(flags & C_V1))) {
		fail("crl needs --ca, --number (unless --v1) and --out");
		usage();
		goto out;
	}
	if (strchr(caname, '/') != NULL) {
		fail("bad CA name %s", caname);
		goto out;
	}
	for (i = 0; i < nrev; i++)
		revs[i].date = tu - HOUR;
	ca.name = caname;
	if (mkpath(path, sizeof(path), dir, "/ca/", caname) == -1 || strlen(path) + 16 > sizeof(path))
		goto out;
	strcat(path, ".cert.pem");
	if ((ca.cert = read_cert(path)) == NULL)
		goto out;
	path[strlen(path) - strlen(".cert.pem")] = '\0';
	strcat(path, ".key.pem");
	if ((ca.key = read_key(path)) == NULL)
		goto out;
	if ((crl = make_crl(&ca, city, number, tu, nu, flags, revs, nrev)) == NULL)
		goto out;
	if (write_file_bio(out, pem ? w_crl_pem : w_crl_der, crl) == -1)
		goto out;
	rc = 0;
out:
	if (revs != NULL)
		for (i = 0; i < nrev; i++)
			ASN1_INTEGER_free(revs[i].serial);
	free(revs);
	X509_free(ca.cert);
	EVP_PKEY_free(ca.key);
	X509_CRL_free(crl);
	json_decref(man);
	return rc;
}

int main(int argc, char **argv)
{
	int rc;

	now = time(NULL);
	if (argc == 3 && strcmp(argv[1], "gen") == 0)
		rc = gen(argv[2]);
	else if (argc >= 3 && strcmp(argv[1], "crl") == 0 && argv[2][0] != '-')
		rc = crl_cmd(argc - 2, argv + 2);
	else {
		usage();
		return 2;
	}
	return rc == 0 ? 0 : 1;
}
