/* mkpki: keys (generated in parallel), small helpers, the CAs. */
#include "mkpki.h"

/* ------------------------------------------------------------------ */
/* Key generation (parallel) */

EVP_PKEY *keygen(enum keytype t)
{
	switch (t) {
	case K_RSA2048:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	case K_RSA1024:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	case K_RSA4096:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
	case K_EC:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	}
	return NULL;
}

void *keyworker(void *arg)
{
	struct keypool *p = arg;
	size_t i;
	EVP_PKEY *k;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		if (p->failed || p->next == p->n) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		i = (p->start + p->next++) % p->n;
		pthread_mutex_unlock(&p->mu);
		k = keygen(p->jobs[i].type);
		pthread_mutex_lock(&p->mu);
		if (k == NULL)
			p->failed = 1;
		p->jobs[i].key = k;
		pthread_mutex_unlock(&p->mu);
	}
	return NULL;
}

int keygen_all(struct keyjob *jobs, size_t n)
{
	struct keypool p = { .jobs = jobs, .n = n };
	pthread_t th[8];
	long ncpu;
	size_t nth, i, started = 0;

	/* the slowest key first, so the threads finish together */
	for (i = 0; i < n; i++)
		if (jobs[i].type == K_RSA4096) {
			p.start = i;
			break;
		}
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	nth = ncpu < 1 ? 1 : ncpu > 8 ? 8 : (size_t)ncpu;
	if (pthread_mutex_init(&p.mu, NULL) != 0) {
		fail("pthread_mutex_init failed");
		return -1;
	}
	for (i = 0; i < nth; i++) {
		if (pthread_create(&th[i], NULL, keyworker, &p) != 0)
			break;
		started++;
	}
	if (started == 0)
		keyworker(&p);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&p.mu);
	if (p.failed) {
		fail("key generation failed");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Small helpers */

int mkpath(char *buf, size_t len, const char *a, const char *b, const char *c)
{
	int n;

	n = snprintf(buf, len, "%s%s%s", a, b, c ? c : "");
	if (n < 0 || (size_t)n >= len) {
		fail("path too long: %s%s", a, b);
		return -1;
	}
	return 0;
}

int mkdir_ok(const char *path)
{
	if (mkdir(path, 0755) == -1 && errno != EEXIST) {
		fail("mkdir %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

void rfc3339(time_t t, char buf[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* RFC 4514 string (UTF-8 left unescaped); caller frees. */
char *name_text(const X509_NAME *name)
{
	BIO *b = NULL;
	char *s = NULL, *p;
	long n;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		goto out;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
		goto out;
	n = BIO_get_mem_data(b, &p);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		goto out;
	memcpy(s, p, (size_t)n);
	s[n] = '\0';
out:
	BIO_free(b);
	if (s == NULL)
		fail("cannot print a name");
	return s;
}

/* Lowercase hex without leading zeros; caller frees. */
char *serial_hex(const ASN1_INTEGER *ai)
{
	BIGNUM *bn = NULL;
	char *h = NULL, *s = NULL, *p;

	if ((bn = ASN1_INTEGER_to_BN(ai, NULL)) == NULL || (h = BN_bn2hex(bn)) == NULL)
		goto out;
	for (p = h; *p == '0' && p[1] != '\0'; p++)
		;
	if ((s = strdup(p)) == NULL)
		goto out;
	for (p = s; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
out:
	BN_free(bn);
	OPENSSL_free(h);
	if (s == NULL)
		fail("cannot format a serial");
	return s;
}

ASN1_INTEGER *random_serial(void)
{
	unsigned char b[8];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;

	if (RAND_bytes(b, sizeof(b)) != 1)
		goto out;
	b[0] &= 0x7f;
	if (b[0] == 0)
		b[0] = 0x01;
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL)
		goto out;
	ai = BN_to_ASN1_INTEGER(bn, NULL);
out:
	BN_free(bn);
	if (ai == NULL)
		fail("cannot make a serial");
	return ai;
}

/* kv: field, value pairs ending with NULL; C is a PrintableString. */
X509_NAME *make_name(const char *const *kv)
{
	X509_NAME *n;
	int ok;

	if ((n = X509_NAME_new()) == NULL)
		goto err;
	for (; kv[0] != NULL; kv += 2) {
		if (strcmp(kv[0], "C") == 0)
			ok = X509_NAME_add_entry_by_txt(n, kv[0], V_ASN1_PRINTABLESTRING, (const unsigned char *)kv[1],
							-1, -1, 0);
		else
			ok = X509_NAME_add_entry_by_txt(n, kv[0], MBSTRING_UTF8, (const unsigned char *)kv[1], -1, -1,
							0);
		if (!ok)
			goto err;
	}
	return n;
err:
	X509_NAME_free(n);
	fail("cannot build a name");
	return NULL;
}

X509_NAME *dp_name(const char *pref, const char *city)
{
	char cn[128];
	const char *kv[] = {
		"C",  "JP", "O",  "JPKI", "OU", "JPKI for digital signature", "OU", "CRL Distribution Points",
		"OU", pref, "CN", cn,     NULL
	};
	int n;

	n = snprintf(cn, sizeof(cn), "%s CRLDP", city);
	if (n < 0 || (size_t)n >= sizeof(cn)) {
		fail("city name too long");
		return NULL;
	}
	return make_name(kv);
}

/* The same distribution point name with every value a PrintableString
 * (dp_name: C PrintableString, the rest UTF8String): one name to RFC 5280
 * 7.1, other bytes (issue 11 section 4). */
X509_NAME *dp_name_printable(const char *pref, const char *city)
{
	X509_NAME *n = dp_name(pref, city), *p = NULL;
	int i;

	if (n == NULL || (p = X509_NAME_new()) == NULL)
		goto err;
	for (i = 0; i < X509_NAME_entry_count(n); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(n, i);
		const ASN1_STRING *v = X509_NAME_ENTRY_get_data(e);

		if (!X509_NAME_add_entry_by_OBJ(p, X509_NAME_ENTRY_get_object(e), V_ASN1_PRINTABLESTRING,
						ASN1_STRING_get0_data(v), ASN1_STRING_length(v), -1, 0))
			goto err;
	}
	X509_NAME_free(n);
	return p;
err:
	X509_NAME_free(n);
	X509_NAME_free(p);
	fail("cannot build a name");
	return NULL;
}

/* A DIST_POINT_NAME whose fullName is one directoryName (a copy of n). */
DIST_POINT_NAME *dpn_dirname(const X509_NAME *n)
{
	DIST_POINT_NAME *dpn = NULL;
	GENERAL_NAME *gn = NULL;
	X509_NAME *dup = NULL;

	if ((dpn = DIST_POINT_NAME_new()) == NULL || (dpn->name.fullname = GENERAL_NAMES_new()) == NULL ||
	    (gn = GENERAL_NAME_new()) == NULL || (dup = X509_NAME_dup(n)) == NULL)
		goto err;
	dpn->type = 0;
	GENERAL_NAME_set0_value(gn, GEN_DIRNAME, dup);
	dup = NULL;
	if (!sk_GENERAL_NAME_push(dpn->name.fullname, gn))
		goto err;
	return dpn;
err:
	X509_NAME_free(dup);
	GENERAL_NAME_free(gn);
	DIST_POINT_NAME_free(dpn);
	fail("cannot build a distribution point name");
	return NULL;
}

int write_file_bio(const char *path, int (*fn)(BIO *, const void *), const void *obj)
{
	BIO *b;
	int ok;

	if ((b = BIO_new_file(path, "wb")) == NULL) {
		fail("cannot create %s", path);
		return -1;
	}
	ok = fn(b, obj) > 0 && BIO_flush(b) > 0;
	BIO_free(b);
	if (!ok) {
		fail("cannot write %s", path);
		return -1;
	}
	return 0;
}

int w_cert(BIO *b, const void *o)
{
	return PEM_write_bio_X509(b, (X509 *)o);
}

int w_key(BIO *b, const void *o)
{
	return PEM_write_bio_PrivateKey(b, (EVP_PKEY *)o, NULL, NULL, 0, NULL, NULL);
}

int w_crl_der(BIO *b, const void *o)
{
	return i2d_X509_CRL_bio(b, (X509_CRL *)o);
}

int w_crl_pem(BIO *b, const void *o)
{
	return PEM_write_bio_X509_CRL(b, (X509_CRL *)o);
}

int add_ext_conf(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext;
	int ok;

	if ((ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value)) == NULL) {
		fail("cannot make extension %s = %s", OBJ_nid2sn(nid), value);
		return -1;
	}
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (!ok) {
		fail("cannot add extension %s", OBJ_nid2sn(nid));
		return -1;
	}
	return 0;
}

/* SKI = SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2 method 1). */
int add_ski(X509 *x)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len;
	ASN1_OCTET_STRING *os = NULL;
	int rc = -1;

	if (!X509_pubkey_digest(x, EVP_sha1(), md, &len) || (os = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(os, md, (int)len) ||
	    !X509_add1_ext_i2d(x, NID_subject_key_identifier, os, 0, X509V3_ADD_DEFAULT))
		goto out;
	rc = 0;
out:
	ASN1_OCTET_STRING_free(os);
	if (rc == -1)
		fail("cannot add subjectKeyIdentifier");
	return rc;
}

AUTHORITY_KEYID *akid_of(X509 *issuer)
{
	AUTHORITY_KEYID *a;
	const ASN1_OCTET_STRING *ski;

	if ((ski = X509_get0_subject_key_id(issuer)) == NULL) {
		fail("issuer has no subjectKeyIdentifier");
		return NULL;
	}
	if ((a = AUTHORITY_KEYID_new()) == NULL || (a->keyid = ASN1_OCTET_STRING_dup(ski)) == NULL) {
		AUTHORITY_KEYID_free(a);
		fail("cannot build authorityKeyIdentifier");
		return NULL;
	}
	return a;
}

/* ------------------------------------------------------------------ */
/* Certification authorities */

const char *const dn_jlis[] = { "C",  "JP",
				"O",  "JPKI",
				"OU", "JPKI for digital signature",
				"OU", "Japan Agency for Local Authority Information Systems",
				NULL };
const char *const dn_tokyo[] = { "C", "JP", "O", "JPKI", "OU", "JPKI for digital signature", "OU", "Tokyo-to", NULL };
const char *const dn_unknown[] = { "C", "JP", "O", "JPKI-TEST", "OU", "Unknown CA", NULL };

struct ca cas[NCA] = {
	[CA_G1] = { "jlis-g1", dn_jlis, -8 * YEAR, 2 * YEAR, 1, NULL, NULL },
	[CA_G2] = { "jlis-g2", dn_jlis, -2 * YEAR, 8 * YEAR, 1, NULL, NULL },
	[CA_TOKYO] = { "pref-tokyo", dn_tokyo, -3 * YEAR, 7 * YEAR, 1, NULL, NULL },
	[CA_IMPOSTOR] = { "impostor", dn_jlis, -2 * YEAR, 8 * YEAR, 0, NULL, NULL },
	[CA_UNKNOWN] = { "unknown", dn_unknown, -2 * YEAR, 8 * YEAR, 0, NULL, NULL },
};

int make_ca(struct ca *ca)
{
	X509 *x = NULL;
	X509_NAME *n = NULL;
	ASN1_INTEGER *serial = NULL;
	X509V3_CTX ctx;
	int rc = -1;

	if ((x = X509_new()) == NULL || (n = make_name(ca->dn)) == NULL || (serial = random_serial()) == NULL)
		goto out;
	if (!X509_set_version(x, X509_VERSION_3) || !X509_set_serialNumber(x, serial) || !X509_set_subject_name(x, n) ||
	    !X509_set_issuer_name(x, n) || X509_time_adj_ex(X509_getm_notBefore(x), 0, (long)ca->nb, &now) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), 0, (long)ca->na, &now) == NULL || !X509_set_pubkey(x, ca->key)) {
		fail("cannot fill CA certificate %s", ca->name);
		goto out;
	}
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (add_ext_conf(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") == -1 ||
	    add_ext_conf(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") == -1 || add_ski(x) == -1)
		goto out;
	if (!X509_sign(x, ca->key, EVP_sha256())) {
		fail("cannot sign CA certificate %s", ca->name);
		goto out;
	}
	ca->cert = x;
	x = NULL;
	rc = 0;
out:
	X509_free(x);
	X509_NAME_free(n);
	ASN1_INTEGER_free(serial);
	return rc;
}
