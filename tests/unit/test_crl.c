/* Unit tests: server/pki/crl.c. CRLs are built in process (testpki_store.h) to
 * break each rule of DESIGN.md "CRLs" in turn; the last test imports the
 * CRLs of the project's test PKI generator (MDG_MKPKI) when it is there. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "anchors.h"
#include "crl.h"
#include "der.h"
#include "names.h"
#include "testpki_store.h"

static struct tp_ca g1, g2, tokyo, impostor, unknown, young;
static struct mdg_anchors anchors;

static void setup(void)
{
	char err[512], *pem = NULL;

	tp_ca_make(&g1, "J-LIS", -8 * 365 * TP_DAY, 2 * 365 * TP_DAY, 1, 1);
	tp_ca_make(&g2, "J-LIS", -2 * 365 * TP_DAY, 8 * 365 * TP_DAY, 1, 2);
	tp_ca_make(&tokyo, "Tokyo-to", -365 * TP_DAY, 365 * TP_DAY, 1, 3);
	tp_ca_make(&impostor, "J-LIS", -TP_DAY, TP_DAY, 1, 4);
	tp_ca_make(&unknown, "Unknown", -TP_DAY, TP_DAY, 1, 5);
	tp_ca_make(&young, "Young", -TP_DAY, TP_DAY, 1, 6);
	pem = tp_pem_append(pem, g1.cert);
	pem = tp_pem_append(pem, g2.cert);
	pem = tp_pem_append(pem, tokyo.cert);
	pem = tp_pem_append(pem, young.cert);
	ck_assert_msg(mdg_anchors_load_pem(&anchors, pem, strlen(pem), err, sizeof(err)) == 0, "%s", err);
	free(pem);
}

static void teardown(void)
{
	mdg_anchors_free(&anchors);
	tp_ca_free(&g1);
	tp_ca_free(&g2);
	tp_ca_free(&tokyo);
	tp_ca_free(&impostor);
	tp_ca_free(&unknown);
	tp_ca_free(&young);
}

static const struct tp_entry three[] = {
	{ 0x1234, 1, 0, 0 },
	{ 0x10, -1, 0, 0 },
	{ 0x7fffffff, 4, 0, 0 },
};

static struct tp_crl_opts good_opts(void)
{
	struct tp_crl_opts o;

	memset(&o, 0, sizeof(o));
	o.number = 10;
	o.this_update = -3600;
	o.next_update = 23 * 3600;
	o.aki = 1;
	o.entries = three;
	o.n_entries = 3;
	return o;
}

/* Parses crl (DER); returns mdg_crl_parse's result, message in err. */
static int parse(const struct tp_ca *signer, const struct tp_crl_opts *o, struct mdg_crl_parsed *p, char *err,
		 size_t errlen)
{
	X509_CRL *crl = tp_crl(signer, o);
	unsigned char *der;
	size_t len;
	int rc;

	ck_assert_ptr_nonnull(crl);
	der = tp_crl_der(crl, &len);
	ck_assert_uint_gt(len, 0);
	err[0] = '\0';
	rc = mdg_crl_parse(&anchors, der, len, p, err, errlen);
	OPENSSL_free(der);
	X509_CRL_free(crl);
	return rc;
}

static void refused(const struct tp_ca *signer, const struct tp_crl_opts *o, const char *want)
{
	struct mdg_crl_parsed p;
	char err[1024];

	ck_assert_int_eq(parse(signer, o, &p, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, want) != NULL, "message \"%s\" lacks \"%s\"", err, want);
	ck_assert_ptr_null(p.entries);
	ck_assert_ptr_null(p.issuer_der);
}

START_TEST(good_full)
{
	struct tp_crl_opts o = good_opts();
	struct mdg_crl_parsed p;
	X509_CRL *crl;
	unsigned char *der, sha[32];
	char err[1024];
	size_t len;

	crl = tp_crl(&g2, &o);
	der = tp_crl_der(crl, &len);
	ck_assert_msg(mdg_crl_parse(&anchors, der, len, &p, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_null(p.imp.dp_der);
	ck_assert_uint_eq(p.imp.number_len, 1);
	ck_assert_int_eq(p.imp.number[0], 10);
	ck_assert_uint_eq(p.imp.n_entries, 3);
	/* sorted by serial: 0x10, 0x1234, 0x7fffffff */
	ck_assert_uint_eq(p.imp.entries[0].serial_len, 1);
	ck_assert_int_eq(p.imp.entries[0].serial[0], 0x10);
	ck_assert_int_eq(p.imp.entries[0].reason, -1);
	ck_assert_uint_eq(p.imp.entries[1].serial_len, 2);
	ck_assert_int_eq(p.imp.entries[1].reason, 1);
	ck_assert_uint_eq(p.imp.entries[2].serial_len, 4);
	ck_assert_int_eq(p.imp.entries[2].reason, 4);
	ck_assert(p.imp.next_update - p.imp.this_update == 24 * 3600);
	ck_assert(labs((long)(p.imp.entries[0].revoked_at - (time(NULL) - 3600))) < 60);
	/* keyed on the first anchor of the name (g1), even though g2 signed */
	ck_assert_uint_eq(p.imp.issuer_len, (size_t)anchors.v[0].subject_len);
	ck_assert_mem_eq(p.imp.issuer_der, anchors.v[0].subject_der, p.imp.issuer_len);
	EVP_Digest(der, len, sha, NULL, EVP_sha256(), NULL);
	ck_assert_mem_eq(p.imp.sha256, sha, 32);
	mdg_crl_parsed_free(&p);
	ck_assert_ptr_null(p.entries);

	/* trailing garbage after the DER */
	{
		unsigned char *more = malloc(len + 2);

		memcpy(more, der, len);
		more[len] = 0;
		more[len + 1] = 0;
		ck_assert_int_eq(mdg_crl_parse(&anchors, more, len + 2, &p, err, sizeof(err)), -1);
		ck_assert_ptr_nonnull(strstr(err, "trailing"));
		free(more);
	}
	ck_assert_int_eq(mdg_crl_parse(&anchors, (const unsigned char *)"junk", 4, &p, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a DER or PEM"));
	OPENSSL_free(der);
	X509_CRL_free(crl);
}
END_TEST

START_TEST(good_pem)
{
	struct tp_crl_opts o = good_opts();
	struct mdg_crl_parsed p;
	X509_CRL *crl = tp_crl(&g2, &o);
	unsigned char *der, sha[32];
	BIO *b = BIO_new(BIO_s_mem());
	char err[1024], *pem;
	size_t len;
	long n;

	der = tp_crl_der(crl, &len);
	EVP_Digest(der, len, sha, NULL, EVP_sha256(), NULL);
	PEM_write_bio_X509_CRL(b, crl);
	n = BIO_get_mem_data(b, &pem);
	ck_assert_msg(mdg_crl_parse(&anchors, (const unsigned char *)pem, (size_t)n, &p, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_mem_eq(p.imp.sha256, sha, 32); /* of the DER inside */
	mdg_crl_parsed_free(&p);
	/* a PEM certificate is not a CRL */
	BIO_reset(b);
	PEM_write_bio_X509(b, g1.cert);
	n = BIO_get_mem_data(b, &pem);
	ck_assert_int_eq(mdg_crl_parse(&anchors, (const unsigned char *)pem, (size_t)n, &p, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "CERTIFICATE"));
	BIO_free(b);
	OPENSSL_free(der);
	X509_CRL_free(crl);
}
END_TEST

START_TEST(good_partition)
{
	struct tp_crl_opts o = good_opts();
	struct mdg_crl_parsed p;
	X509_NAME *dn;
	const unsigned char *q;
	char err[1024];

	o.dp = "Chiyoda-ku CRLDP";
	o.only_user = 1; /* onlyContainsUserCerts is fine */
	ck_assert_msg(parse(&g2, &o, &p, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_nonnull(p.imp.dp_der);
	q = p.imp.dp_der;
	dn = d2i_X509_NAME(NULL, &q, (long)p.imp.dp_len);
	ck_assert_ptr_nonnull(dn);
	{
		X509_NAME *want = tp_name("Chiyoda-ku CRLDP");

		ck_assert_int_eq(X509_NAME_cmp(dn, want), 0);
		X509_NAME_free(want);
	}
	X509_NAME_free(dn);
	/* the scope's key: the canonical form, which a certificate naming the
	 * same distribution point in PrintableString (or in other letter case
	 * and spacing) also gives (issue 11 section 4) */
	ck_assert_ptr_nonnull(p.imp.dp_key);
	{
		X509_NAME *prn = X509_NAME_new();
		unsigned char *k = NULL;
		size_t klen;

		X509_NAME_add_entry_by_txt(prn, "C", V_ASN1_PRINTABLESTRING, (const unsigned char *)"JP", -1, -1, 0);
		X509_NAME_add_entry_by_txt(prn, "O", V_ASN1_PRINTABLESTRING, (const unsigned char *)"jpki", -1, -1, 0);
		X509_NAME_add_entry_by_txt(prn, "OU", V_ASN1_PRINTABLESTRING,
					   (const unsigned char *)" CHIYODA-KU  crldp", -1, -1, 0);
		ck_assert_int_eq(mdg_name_canon_der(prn, &k, &klen), 0);
		ck_assert_uint_eq(klen, p.imp.dp_key_len);
		ck_assert_mem_eq(k, p.imp.dp_key, klen);
		OPENSSL_free(k);
		X509_NAME_free(prn);
	}
	mdg_crl_parsed_free(&p);
}
END_TEST

/* mdg_name_canon_der agrees with X509_NAME_cmp (RFC 5280 7.1 as OpenSSL
 * implements it, as issuers are matched to anchors): equal canonical forms
 * exactly for equal names, and a canonical form is equal to its name. */
static X509_NAME *name_of(const char *const *kv)
{
	X509_NAME *n = X509_NAME_new();

	for (; kv[0] != NULL; kv += 3) {
		int type = kv[0][0] == 'P'   ? V_ASN1_PRINTABLESTRING
			   : kv[0][0] == 'I' ? V_ASN1_IA5STRING
			   : kv[0][0] == 'B' ? MBSTRING_BMP
			   : kv[0][0] == 'T' ? V_ASN1_T61STRING
			   : kv[0][0] == 'N' ? V_ASN1_NUMERICSTRING
					     : MBSTRING_UTF8;
		int set = kv[0][1] == '+' ? -1 : 0;

		if (type == MBSTRING_BMP) {
			/* an ASCII value as a BMPString (UCS-2, big-endian) */
			unsigned char ucs[128];
			size_t m, len = strlen(kv[2]);

			ck_assert_uint_lt(2 * len, sizeof(ucs));
			for (m = 0; m < len; m++) {
				ucs[2 * m] = 0;
				ucs[2 * m + 1] = (unsigned char)kv[2][m];
			}
			ck_assert_int_eq(
				X509_NAME_add_entry_by_txt(n, kv[1], V_ASN1_BMPSTRING, ucs, (int)(2 * len), -1, set),
				1);
			continue;
		}
		ck_assert_msg(X509_NAME_add_entry_by_txt(n, kv[1], type, (const unsigned char *)kv[2], -1, -1, set) ==
				      1,
			      "%s %s=%s", kv[0], kv[1], kv[2]);
	}
	return n;
}

START_TEST(name_canon_matches_openssl)
{
	static const char *const names[][16] = {
		{ "P", "C", "JP", "U", "O", "JPKI", "U", "CN", "Fresh-shi CRLDP", NULL },
		{ "P", "C", "JP", "P", "O", "JPKI", "P", "CN", "Fresh-shi CRLDP", NULL },
		{ "P", "C", "jp", "U", "O", "jpki", "I", "CN", "  fresh-SHI\t CRLDP ", NULL },
		{ "P", "C", "JP", "T", "O", "JPKI", "U", "CN", "Fresh-shi  CRLDP", NULL },
		{ "P", "C", "JP", "U", "O", "JPKI", "U", "CN", "Fresh-shi CRLDP2", NULL },
		{ "P", "C", "JP", "U", "O", "JPKI", NULL },
		{ "P", "C", "JP", "U+", "O", "JPKI", "U", "CN", "Fresh-shi CRLDP", NULL },
		{ "P", "C", "JP", "U", "CN", "Fresh-shi CRLDP", "U", "O", "JPKI", NULL },
		{ "P", "C", "JP", "U", "O", "東京都", NULL },
		{ "P", "C", "JP", "U", "O", "東京都 ", NULL },
		{ "P", "C", "JP", "N", "O", "123", NULL },
		{ "P", "C", "JP", "N", "O", "123 ", NULL },
		{ "P", "C", "JP", "P", "O", "123", NULL },
		{ "P", "C", "JP", "B", "O", "jPKi", "U", "CN", "Fresh-shi CRLDP", NULL },
		{ NULL },
	};
	size_t n = 0, i, j;
	X509_NAME *v[20];
	unsigned char *k[20];
	size_t kl[20];

	for (n = 0; names[n][0] != NULL; n++) {
		const unsigned char *q;
		X509_NAME *back;

		v[n] = name_of(names[n]);
		ck_assert_int_eq(mdg_name_canon_der(v[n], &k[n], &kl[n]), 0);
		q = k[n];
		back = d2i_X509_NAME(NULL, &q, (long)kl[n]);
		ck_assert_ptr_nonnull(back);
		ck_assert_int_eq(X509_NAME_cmp(back, v[n]), 0);
		X509_NAME_free(back);
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			int same = kl[i] == kl[j] && memcmp(k[i], k[j], kl[i]) == 0;

			ck_assert_msg(same == (X509_NAME_cmp(v[i], v[j]) == 0), "names %zu and %zu", i, j);
		}
	/* the PrintableString and UTF8String spellings are one name */
	ck_assert_uint_eq(kl[0], kl[1]);
	ck_assert_mem_eq(k[0], k[1], kl[0]);
	ck_assert_uint_eq(kl[0], kl[2]);
	ck_assert_mem_eq(k[0], k[2], kl[0]);
	for (i = 0; i < n; i++) {
		OPENSSL_free(k[i]);
		X509_NAME_free(v[i]);
	}
	/* DER in, DER out; trailing bytes or no name: -1 */
	{
		unsigned char *d = NULL, *c = NULL, buf[512];
		size_t cl;
		int dl;

		v[0] = name_of(names[1]);
		dl = i2d_X509_NAME(v[0], &d);
		ck_assert_int_gt(dl, 0);
		ck_assert_int_eq(mdg_der_name_canon(d, (size_t)dl, &c, &cl), 0);
		OPENSSL_free(c);
		ck_assert_uint_lt((size_t)dl + 1, sizeof(buf));
		memcpy(buf, d, (size_t)dl);
		buf[dl] = 0;
		ck_assert_int_eq(mdg_der_name_canon(buf, (size_t)dl + 1, &c, &cl), -1);
		ck_assert_ptr_null(c);
		ck_assert_int_eq(mdg_der_name_canon(buf + 1, (size_t)dl - 1, &c, &cl), -1);
		OPENSSL_free(d);
		X509_NAME_free(v[0]);
	}
}
END_TEST

START_TEST(generations)
{
	struct tp_crl_opts o = good_opts();
	struct mdg_crl_parsed p;
	char err[1024];

	/* signed by the older generation, no AKI: each anchor is tried */
	o.aki = 0;
	ck_assert_msg(parse(&g1, &o, &p, err, sizeof(err)) == 0, "%s", err);
	mdg_crl_parsed_free(&p);
	o.aki = 1;
	ck_assert_msg(parse(&g1, &o, &p, err, sizeof(err)) == 0, "%s", err);
	mdg_crl_parsed_free(&p);
	/* g1 was not yet valid 3 years ago... g2 was not: 3 years back only
	 * g1 exists, and it signed */
	o.this_update = -3 * 365 * TP_DAY;
	ck_assert_msg(parse(&g1, &o, &p, err, sizeof(err)) == 0, "%s", err);
	mdg_crl_parsed_free(&p);
	o.this_update = -3 * 365 * TP_DAY;
	refused(&g2, &o, "signature does not verify");
}
END_TEST

START_TEST(refuse_signer)
{
	struct tp_crl_opts o = good_opts();

	refused(&impostor, &o, "signature does not verify with any anchor");
	refused(&unknown, &o, "CRL issuer OU=Unknown,O=JPKI,C=JP is not the name of any anchor");
	/* an anchor that was not valid at thisUpdate */
	o.this_update = -2 * TP_DAY;
	refused(&young, &o, "no anchor of that name was valid at the CRL's thisUpdate");
}
END_TEST

START_TEST(refuse_structure)
{
	struct tp_crl_opts o;

	o = good_opts();
	o.v1 = 1;
	o.number = -1;
	o.aki = 0;
	refused(&g2, &o, "not a version 2 CRL");
	o = good_opts();
	o.number = -1;
	refused(&g2, &o, "has no cRLNumber");
	o = good_opts();
	o.next_update = 0;
	refused(&g2, &o, "has no nextUpdate");
	o = good_opts();
	o.delta = 1;
	refused(&g2, &o, "delta CRL");
	o = good_opts();
	o.unknown_crit = 1;
	refused(&g2, &o, "unknown critical extension 1.3.6.1.4.1.99999.1");
}
END_TEST

START_TEST(unknown_noncritical_ok)
{
	struct tp_crl_opts o = good_opts();
	struct mdg_crl_parsed p;
	char err[1024];

	o.unknown_noncrit = 1;
	ck_assert_msg(parse(&g2, &o, &p, err, sizeof(err)) == 0, "%s", err);
	mdg_crl_parsed_free(&p);
}
END_TEST

START_TEST(refuse_idp)
{
	struct tp_crl_opts o;

	o = good_opts();
	o.dp = "X";
	o.indirect = 1;
	refused(&g2, &o, "indirectCRL");
	o = good_opts();
	o.dp = "X";
	o.some_reasons = 1;
	refused(&g2, &o, "onlySomeReasons");
	o = good_opts();
	o.dp = "X";
	o.only_ca = 1;
	refused(&g2, &o, "onlyContainsCACerts");
	o = good_opts();
	o.dp = "X";
	o.only_attr = 1;
	refused(&g2, &o, "onlyContainsAttributeCerts");
	o = good_opts();
	o.dp = "X";
	o.dp_two_names = 1;
	refused(&g2, &o, "exactly one directoryName");
	o = good_opts();
	o.dp = "X";
	o.dp_uri = 1;
	refused(&g2, &o, "exactly one directoryName");
	o = good_opts();
	o.only_user = 1; /* an IDP without a distribution point name */
	refused(&g2, &o, "exactly one directoryName");
}
END_TEST

START_TEST(refuse_entries)
{
	struct tp_crl_opts o = good_opts();
	struct tp_entry e[2] = { { 5, 1, 0, 0 }, { 6, 1, 1, 0 } };

	o.entries = e;
	o.n_entries = 2;
	refused(&g2, &o, "entry 2 names another certificate issuer");
	e[1].cert_issuer = 0;
	e[1].unknown_crit = 1;
	refused(&g2, &o, "entry 2 has an unknown critical extension");
	e[1].unknown_crit = 0;
	e[1].serial = -6;
	refused(&g2, &o, "negative serial");
	e[1].serial = 6;
	e[1].reason = 7;
	refused(&g2, &o, "reasonCode 7");
}
END_TEST

/* ---- the fast path against the reference (OpenSSL-only) path ---- */

/* Parses der with both paths. If the fast path takes it, the reference
 * must accept it with the very same result; if the reference refuses it,
 * the fast path must too, and the default path must give the reference's
 * message. Returns 1 if the fast path took it, 0 if both refused, -1 if
 * only the reference accepted (fast path declined). */
static int compare_paths(const struct mdg_anchors *a, const unsigned char *der, size_t len, const char *what)
{
	struct mdg_crl_parsed f, r, d;
	char ef[1024], er[1024], ed[1024];
	int rf, rr, rd;
	size_t i;

	ef[0] = er[0] = ed[0] = '\0';
	rf = mdg_crl_parse_mode(a, der, len, MDG_CRL_PATH_FAST_ONLY, &f, ef, sizeof(ef));
	rr = mdg_crl_parse_mode(a, der, len, MDG_CRL_PATH_REFERENCE, &r, er, sizeof(er));
	rd = mdg_crl_parse_mode(a, der, len, MDG_CRL_PATH_AUTO, &d, ed, sizeof(ed));
	ck_assert_msg(rd == rr, "%s: default path %d, reference %d (%s / %s)", what, rd, rr, ed, er);
	if (rr == -1) {
		ck_assert_msg(rf == -1, "%s: the fast path accepted what the reference refuses (%s)", what, er);
		ck_assert_str_eq(ed, er);
		ck_assert_ptr_null(f.entries);
		return 0;
	}
	if (rf == -1) {
		fprintf(stderr, "test_crl: %s: %s\n", what, ef);
		mdg_crl_parsed_free(&r);
		mdg_crl_parsed_free(&d);
		return -1;
	}
	ck_assert_uint_eq(f.imp.n_entries, r.imp.n_entries);
	ck_assert_uint_eq(f.imp.issuer_len, r.imp.issuer_len);
	ck_assert_mem_eq(f.imp.issuer_der, r.imp.issuer_der, r.imp.issuer_len);
	ck_assert_uint_eq(f.imp.dp_len, r.imp.dp_len);
	ck_assert((f.imp.dp_der == NULL) == (r.imp.dp_der == NULL));
	if (r.imp.dp_len > 0)
		ck_assert_mem_eq(f.imp.dp_der, r.imp.dp_der, r.imp.dp_len);
	ck_assert_uint_eq(f.imp.number_len, r.imp.number_len);
	ck_assert_mem_eq(f.imp.number, r.imp.number, sizeof(r.imp.number));
	ck_assert(f.imp.this_update == r.imp.this_update);
	ck_assert(f.imp.next_update == r.imp.next_update);
	ck_assert_mem_eq(f.imp.sha256, r.imp.sha256, 32);
	for (i = 0; i < r.imp.n_entries; i++) {
		const struct mdg_crl_entry *x = &f.imp.entries[i], *y = &r.imp.entries[i];

		ck_assert_msg(x->serial_len == y->serial_len && memcmp(x->serial, y->serial, y->serial_len) == 0 &&
				      x->revoked_at == y->revoked_at && x->reason == y->reason,
			      "%s: entry %zu differs", what, i);
	}
	mdg_crl_parsed_free(&f);
	mdg_crl_parsed_free(&r);
	mdg_crl_parsed_free(&d);
	return 1;
}

struct dbuf {
	unsigned char *p;
	size_t n;
};

static void dput(struct dbuf *b, const void *p, size_t n)
{
	b->p = realloc(b->p, b->n + n + 1);
	ck_assert_ptr_nonnull(b->p);
	if (n > 0)
		memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void dput_tlv(struct dbuf *b, unsigned char tag, const void *p, size_t n)
{
	unsigned char h[6];
	size_t k = 0;

	h[k++] = tag;
	if (n < 0x80) {
		h[k++] = (unsigned char)n;
	} else if (n < 0x100) {
		h[k++] = 0x81;
		h[k++] = (unsigned char)n;
	} else if (n < 0x10000) {
		h[k++] = 0x82;
		h[k++] = (unsigned char)(n >> 8);
		h[k++] = (unsigned char)n;
	} else {
		h[k++] = 0x83;
		h[k++] = (unsigned char)(n >> 16);
		h[k++] = (unsigned char)(n >> 8);
		h[k++] = (unsigned char)n;
	}
	dput(b, h, k);
	dput(b, p, n);
}

static const unsigned char ecdsa_sha256[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
static const unsigned char ecdsa_sha384[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03 };

/* A CertificateList of tbs signed by ca: outer algorithm alg (ECDSA with
 * SHA-256 or SHA-384), the signature flipped if bad. */
static void sign_tbs(const struct tp_ca *ca, const unsigned char *tbs, size_t tbs_len, const unsigned char *alg,
		     int bad, struct dbuf *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char sig[160];
	size_t siglen = sizeof(sig) - 1;
	struct dbuf body = { NULL, 0 };

	ck_assert_int_eq(
		EVP_DigestSignInit(ctx, NULL, alg == ecdsa_sha384 ? EVP_sha384() : EVP_sha256(), NULL, ca->key), 1);
	ck_assert_int_eq(EVP_DigestSign(ctx, sig + 1, &siglen, tbs, tbs_len), 1);
	EVP_MD_CTX_free(ctx);
	sig[0] = 0;
	if (bad)
		sig[siglen / 2] ^= 0x01;
	dput(&body, tbs, tbs_len);
	dput(&body, alg, sizeof(ecdsa_sha256));
	dput_tlv(&body, 0x03, sig, siglen + 1);
	out->n = 0;
	dput_tlv(out, 0x30, body.p, body.n);
	free(body.p);
}

/* The TBS of a good CRL from tp_crl with its revokedCertificates field
 * replaced by rv_tlv (NULL: removed), re-signed. */
static void crl_with_entries(const struct tp_ca *ca, const struct tp_crl_opts *o, const unsigned char *rv_tlv,
			     size_t rv_tlv_len, const unsigned char *alg, int bad, struct dbuf *out)
{
	X509_CRL *crl = tp_crl(ca, o);
	unsigned char *der, *rest;
	const unsigned char *tbs, *rv, *tbv;
	size_t len, tbs_len, rv_len, rest_len, tbv_len, t, h;
	struct dbuf tb = { NULL, 0 };
	unsigned char tag;

	der = tp_crl_der(crl, &len);
	ck_assert_int_eq(mdg_der_split_crl(der, len, &tbs, &tbs_len, &rv, &rv_len, &rest, &rest_len), 0);
	ck_assert_int_eq(mdg_der_next(tbs, tbs_len, &tag, &tbv, &tbv_len, &t), 0);
	h = rv_len < 0x80 ? 2 : rv_len < 0x100 ? 3 : rv_len < 0x10000 ? 4 : 5;
	dput(&tb, tbv, (size_t)(rv - h - tbv));
	if (rv_tlv != NULL)
		dput(&tb, rv_tlv, rv_tlv_len);
	dput(&tb, rv + rv_len, tbv_len - (size_t)(rv + rv_len - tbv));
	{
		struct dbuf t2 = { NULL, 0 };

		dput_tlv(&t2, 0x30, tb.p, tb.n);
		sign_tbs(ca, t2.p, t2.n, alg, bad, out);
		free(t2.p);
	}
	free(tb.p);
	free(rest);
	OPENSSL_free(der);
	X509_CRL_free(crl);
}

/* entries: raw revokedCertificates contents */
static int compare_entries(const unsigned char *entries, size_t n, const char *what)
{
	struct tp_crl_opts o = good_opts();
	struct dbuf rv = { NULL, 0 }, crl = { NULL, 0 };
	int rc;

	dput_tlv(&rv, 0x30, entries, n);
	crl_with_entries(&g2, &o, rv.p, rv.n, ecdsa_sha256, 0, &crl);
	rc = compare_paths(&anchors, crl.p, crl.n, what);
	free(rv.p);
	free(crl.p);
	return rc;
}

#define UTC                                                                                                            \
	"\x17\x0d"                                                                                                     \
	"260101000000Z"
#define GEN                                                                                                            \
	"\x18\x0f"                                                                                                     \
	"20260101000000Z"

START_TEST(fast_vs_reference_hostile)
{
	struct tp_crl_opts o = good_opts();
	struct tp_entry e[3] = { { 5, 1, 0, 0 }, { 6, 2, 0, 0 }, { 4, -1, 0, 0 } };
	struct dbuf crl = { NULL, 0 };
	X509_CRL *x;
	unsigned char *der;
	size_t len;
	static const struct {
		const char *what;
		const char *der;
		size_t len;
		int want; /* 1: fast path takes it; 0: both refuse; -1: reference only */
	} cases[] = {
#define C(w, d, want) { w, d, sizeof(d) - 1, want }
		C("plain", "\x30\x12\x02\x01\x05" UTC, 1),
		C("generalized time", "\x30\x14\x02\x01\x05" GEN, 1),
		C("serial zero", "\x30\x12\x02\x01\x00" UTC, 1),
		C("serial 0x80", "\x30\x13\x02\x02\x00\x80" UTC, 1),
		C("reason, trailing byte",
		  "\x30\x21\x02\x01\x05" UTC "\x30\x0d\x30\x0b\x06\x03\x55\x1d\x15\x04\x04\x0a\x01\x01\x00", -1),
		C("reason ok", "\x30\x20\x02\x01\x05" UTC "\x30\x0c\x30\x0a\x06\x03\x55\x1d\x15\x04\x03\x0a\x01\x01",
		  1),
		C("reason critical",
		  "\x30\x23\x02\x01\x05" UTC "\x30\x0f\x30\x0d\x06\x03\x55\x1d\x15\x01\x01\xff\x04\x03\x0a\x01\x01", 1),
		C("reason 7", "\x30\x20\x02\x01\x05" UTC "\x30\x0c\x30\x0a\x06\x03\x55\x1d\x15\x04\x03\x0a\x01\x07", 0),
		C("reason 11", "\x30\x20\x02\x01\x05" UTC "\x30\x0c\x30\x0a\x06\x03\x55\x1d\x15\x04\x03\x0a\x01\x0b",
		  0),
		C("reason negative",
		  "\x30\x20\x02\x01\x05" UTC "\x30\x0c\x30\x0a\x06\x03\x55\x1d\x15\x04\x03\x0a\x01\xff", 0),
		C("reason as INTEGER",
		  "\x30\x20\x02\x01\x05" UTC "\x30\x0c\x30\x0a\x06\x03\x55\x1d\x15\x04\x03\x02\x01\x01", 0),
		C("reason twice",
		  "\x30\x2c\x02\x01\x05" UTC "\x30\x18\x30\x0a\x06\x03\x55\x1d\x15\x04\x03\x0a\x01\x01"
		  "\x30\x0a\x06\x03\x55\x1d\x15\x04\x03\x0a\x01\x01",
		  0),
		C("invalidityDate",
		  "\x30\x30\x02\x01\x05" UTC "\x30\x1c\x30\x1a\x06\x03\x55\x1d\x18\x04\x13" GEN "\x00\x00", 1),
		C("certificateIssuer",
		  "\x30\x1f\x02\x01\x05" UTC "\x30\x0b\x30\x09\x06\x03\x55\x1d\x1d\x04\x02\x30\x00", 0),
		C("unknown critical",
		  "\x30\x25\x02\x01\x05" UTC
		  "\x30\x11\x30\x0f\x06\x05\x2b\x06\x01\x04\x01\x01\x01\xff\x04\x03\x0a\x01\x01",
		  0),
		C("unknown non-critical",
		  "\x30\x22\x02\x01\x05" UTC "\x30\x0e\x30\x0c\x06\x05\x2b\x06\x01\x04\x01\x04\x03\x0a\x01\x01", 1),
		C("critical FALSE",
		  "\x30\x23\x02\x01\x05" UTC "\x30\x0f\x30\x0d\x06\x03\x55\x1d\x15\x01\x01\x00\x04\x03\x0a\x01\x01",
		  -1),
		C("bad OID",
		  "\x30\x22\x02\x01\x05" UTC "\x30\x0e\x30\x0c\x06\x05\x2b\x06\x01\x80\x01\x04\x03\x0a\x01\x01", 0),
		C("empty extensions", "\x30\x14\x02\x01\x05" UTC "\x30\x00", 1),
		C("negative serial", "\x30\x12\x02\x01\xfb" UTC, 0),
		C("padded serial", "\x30\x13\x02\x02\x00\x05" UTC, 0),
		C("empty serial", "\x30\x11\x02\x00" UTC, 0),
		C("truncated: serial only", "\x30\x03\x02\x01\x05", 0),
		C("truncated: no serial", "\x30\x0f" UTC, 0),
		C("trailing field", "\x30\x14\x02\x01\x05" UTC "\x05\x00", 0),
		C("bad time",
		  "\x30\x12\x02\x01\x05"
		  "\x17\x0d"
		  "261301000000Z",
		  0),
		C("short time",
		  "\x30\x10\x02\x01\x05"
		  "\x17\x0b"
		  "2601010000Z",
		  -1),
		C("time with offset",
		  "\x30\x16\x02\x01\x05"
		  "\x17\x11"
		  "260101000000+0900",
		  -1),
		C("year 0",
		  "\x30\x14\x02\x01\x05"
		  "\x18\x0f"
		  "00000101000000Z",
		  1),
		C("year 9999",
		  "\x30\x14\x02\x01\x05"
		  "\x18\x0f"
		  "99991231235959Z",
		  1),
		C("1600-02-29",
		  "\x30\x14\x02\x01\x05"
		  "\x18\x0f"
		  "16000229000000Z",
		  1),
		C("2024-02-29",
		  "\x30\x14\x02\x01\x05"
		  "\x18\x0f"
		  "20240229120000Z",
		  1),
		C("1900-02-29",
		  "\x30\x14\x02\x01\x05"
		  "\x18\x0f"
		  "19000229120000Z",
		  0),
		C("2023-02-29",
		  "\x30\x12\x02\x01\x05"
		  "\x17\x0d"
		  "230229120000Z",
		  0),
		C("2049 UTCTime",
		  "\x30\x12\x02\x01\x05"
		  "\x17\x0d"
		  "491231235959Z",
		  1),
		C("1950 UTCTime",
		  "\x30\x12\x02\x01\x05"
		  "\x17\x0d"
		  "500101000000Z",
		  1),
		C("second 60",
		  "\x30\x12\x02\x01\x05"
		  "\x17\x0d"
		  "261231235960Z",
		  0),
		C("hour 24",
		  "\x30\x12\x02\x01\x05"
		  "\x17\x0d"
		  "261231240000Z",
		  0),
		C("fraction",
		  "\x30\x16\x02\x01\x05"
		  "\x18\x11"
		  "20260101000000.5Z",
		  -1),
		C("time as OCTET STRING",
		  "\x30\x12\x02\x01\x05"
		  "\x04\x0d"
		  "260101000000Z",
		  0),
		C("entry not a SEQUENCE", "\x31\x12\x02\x01\x05" UTC, 0),
		C("unsorted", "\x30\x12\x02\x01\x09" UTC "\x30\x12\x02\x01\x05" UTC "\x30\x12\x02\x01\x07" UTC, 1),
		C("duplicate serial", "\x30\x12\x02\x01\x05" UTC "\x30\x14\x02\x01\x05" GEN, 1),
		C("long serial",
		  "\x30\x32\x02\x21\x01"
		  "0123456789abcdef0123456789abcdef" UTC,
		  0),
		C("32-byte serial",
		  "\x30\x31\x02\x20\x01"
		  "123456789abcdef0123456789abcdef" UTC,
		  1),
		C("empty list", "", 1),
#undef C
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = compare_entries((const unsigned char *)cases[i].der, cases[i].len, cases[i].what);

		ck_assert_msg(rc == cases[i].want, "%s: got %d, want %d", cases[i].what, rc, cases[i].want);
	}

	/* the whole shape around the entries */
	o.entries = e;
	o.n_entries = 3;
	crl_with_entries(&g2, &o, NULL, 0, ecdsa_sha256, 0, &crl);
	ck_assert_int_eq(compare_paths(&anchors, crl.p, crl.n, "no revokedCertificates"), 1);
	crl_with_entries(&g2, &o, (const unsigned char *)"\x31\x00", 2, ecdsa_sha256, 0, &crl);
	ck_assert_int_eq(compare_paths(&anchors, crl.p, crl.n, "list is a SET"), 0);
	crl_with_entries(&g2, &o, (const unsigned char *)"\x04\x00", 2, ecdsa_sha256, 0, &crl);
	ck_assert_int_eq(compare_paths(&anchors, crl.p, crl.n, "list is an OCTET STRING"), 0);
	crl_with_entries(&g2, &o, (const unsigned char *)"\x30\x00", 2, ecdsa_sha256, 1, &crl);
	ck_assert_int_eq(compare_paths(&anchors, crl.p, crl.n, "bad signature"), 0);
	crl_with_entries(&g2, &o, (const unsigned char *)"\x30\x00", 2, ecdsa_sha384, 0, &crl);
	ck_assert_int_eq(compare_paths(&anchors, crl.p, crl.n, "outer algorithm differs"), 0);
	crl_with_entries(&g2, &o, (const unsigned char *)"\x30\x00", 2, ecdsa_sha256, 0, &crl);
	ck_assert_int_eq(compare_paths(&anchors, crl.p, crl.n, "empty list present"), 1);
	/* signed by a key that is not the anchor's */
	crl_with_entries(&impostor, &o, (const unsigned char *)"\x30\x00", 2, ecdsa_sha256, 0, &crl);
	ck_assert_int_eq(compare_paths(&anchors, crl.p, crl.n, "impostor"), 0);
	free(crl.p);

	/* tp_crl's own, with and without the entry-level faults */
	x = tp_crl(&g2, &o);
	der = tp_crl_der(x, &len);
	ck_assert_int_eq(compare_paths(&anchors, der, len, "tp_crl"), 1);
	/* one byte of the signature changed */
	der[len - 5] ^= 0x40;
	ck_assert_int_eq(compare_paths(&anchors, der, len, "tp_crl bad signature"), 0);
	/* truncated */
	ck_assert_int_eq(compare_paths(&anchors, der, len / 2, "truncated"), 0);
	OPENSSL_free(der);
	X509_CRL_free(x);
	e[1].cert_issuer = 1;
	x = tp_crl(&g2, &o);
	der = tp_crl_der(x, &len);
	ck_assert_int_eq(compare_paths(&anchors, der, len, "certificateIssuer"), 0);
	OPENSSL_free(der);
	X509_CRL_free(x);
	e[1].cert_issuer = 0;
	e[2].unknown_crit = 1;
	x = tp_crl(&g2, &o);
	der = tp_crl_der(x, &len);
	ck_assert_int_eq(compare_paths(&anchors, der, len, "unknown critical"), 0);
	OPENSSL_free(der);
	X509_CRL_free(x);
}
END_TEST

/* Random byte changes inside the entries of a re-signed CRL: wherever the
 * fast path takes the result, the reference gives the same. */
START_TEST(fast_vs_reference_mutations)
{
	static const char base[] =
		"\x30\x12\x02\x01\x05" UTC "\x30\x20\x02\x01\x06" UTC
		"\x30\x0c\x30\x0a\x06\x03\x55\x1d\x15\x04\x03\x0a\x01\x01"
		"\x30\x30\x02\x01\x07" UTC "\x30\x1c\x30\x1a\x06\x03\x55\x1d\x18\x04\x13" GEN "\x00\x00"
		"\x30\x22\x02\x01\x08" UTC "\x30\x0e\x30\x0c\x06\x05\x2b\x06\x01\x04\x01\x04\x03\x0a\x01\x01"
		"\x30\x14\x02\x01\x09" GEN "\x30\x13\x02\x02\x00\x80" UTC;
	unsigned char m[sizeof(base)];
	unsigned int seed = 12345;
	int i, k, took = 0, both = 0, refused_ = 0;

	for (i = 0; i < 800; i++) {
		memcpy(m, base, sizeof(base) - 1);
		for (k = 0; k < 1 + (int)(rand_r(&seed) % 3); k++) {
			size_t at = (size_t)rand_r(&seed) % (sizeof(base) - 1);
			unsigned int r = (unsigned int)rand_r(&seed);

			m[at] = (r & 1) ? (unsigned char)(r >> 8) : (unsigned char)(m[at] ^ (1u << ((r >> 8) % 8)));
		}
		switch (compare_entries(m, sizeof(base) - 1, "mutation")) {
		case 1:
			took++;
			break;
		case 0:
			refused_++;
			break;
		default:
			both++;
		}
	}
	fprintf(stderr, "test_crl: mutations: fast path took %d, both refused %d, reference only %d\n", took, refused_,
		both);
	ck_assert_int_gt(took, 0);
	ck_assert_int_gt(refused_, 0);
}
END_TEST

/* The project's test PKI, when its generator is built. */
static int run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int load_file(const char *path, unsigned char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (f == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	*buf = malloc((size_t)n + 1);
	*len = fread(*buf, 1, (size_t)n, f);
	fclose(f);
	return 0;
}

static void mkpki_expect(const char *dir, const struct mdg_anchors *a, const char *name, const char *want)
{
	char path[4096], err[1024];
	unsigned char *buf;
	size_t len;
	struct mdg_crl_parsed p;
	int rc;

	snprintf(path, sizeof(path), "%s/crls/%s.crl.der", dir, name);
	ck_assert_msg(load_file(path, &buf, &len) == 0, "%s missing", path);
	rc = mdg_crl_parse(a, buf, len, &p, err, sizeof(err));
	/* the fast path takes every good one, and refuses every bad one */
	{
		int cmp = compare_paths(a, buf, len, name);

		ck_assert_msg(cmp == (want == NULL ? 1 : 0), "%s: fast path %d", name, cmp);
	}
	free(buf);
	if (want == NULL) {
		ck_assert_msg(rc == 0, "%s: %s", name, err);
		mdg_crl_parsed_free(&p);
	} else {
		ck_assert_msg(rc == -1, "%s was accepted", name);
		ck_assert_msg(strstr(err, want) != NULL, "%s: \"%s\" lacks \"%s\"", name, err, want);
	}
}

START_TEST(mkpki_crls)
{
	const char *mkpki = getenv("MDG_MKPKI"), *tmp = getenv("MDG_TEST_TMP");
	char dir[2048], cmd[4096], err[512];
	struct mdg_anchors a;

	if (mkpki == NULL || access(mkpki, X_OK) != 0) {
		fprintf(stderr, "test_crl: MDG_MKPKI not built, skipping the test PKI's CRLs\n");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/crl-pki-XXXXXX", tmp != NULL ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "'%s' gen '%s/pki' >/dev/null", mkpki, dir);
	ck_assert_int_eq(run(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/pki", dir);
	ck_assert_msg(mdg_anchors_load_dir(&a, strcat(cmd, "/anchors"), err, sizeof(err)) == 0, "%s", err);
	snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/pki");
	mkpki_expect(dir, &a, "jlis-full", NULL);
	mkpki_expect(dir, &a, "jlis-dp-chiyoda", NULL);
	mkpki_expect(dir, &a, "jlis-dp-stale", NULL);
	mkpki_expect(dir, &a, "pref-tokyo-dp-shinjuku", NULL);
	mkpki_expect(dir, &a, "jlis-full-older", NULL);
	mkpki_expect(dir, &a, "jlis-full-by-g1", NULL);
	mkpki_expect(dir, &a, "jlis-full-impostor", "signature does not verify");
	mkpki_expect(dir, &a, "jlis-full-delta", "delta CRL");
	mkpki_expect(dir, &a, "jlis-full-v1", "not a version 2 CRL");
	mkpki_expect(dir, &a, "unknown-full", "not the name of any anchor");
	mdg_anchors_free(&a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("crl");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, good_full);
	tcase_add_test(tc, good_pem);
	tcase_add_test(tc, good_partition);
	tcase_add_test(tc, name_canon_matches_openssl);
	tcase_add_test(tc, generations);
	tcase_add_test(tc, refuse_signer);
	tcase_add_test(tc, refuse_structure);
	tcase_add_test(tc, unknown_noncritical_ok);
	tcase_add_test(tc, refuse_idp);
	tcase_add_test(tc, refuse_entries);
	tcase_add_test(tc, fast_vs_reference_hostile);
	tcase_add_test(tc, fast_vs_reference_mutations);
	tcase_add_test(tc, mkpki_crls);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
