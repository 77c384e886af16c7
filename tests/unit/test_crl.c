/* Unit tests: server/crl.c. CRLs are built in process (testpki_store.h) to
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
#include "testpki_store.h"

static struct tp_ca g1, g2, tokyo, impostor, unknown, young;
static struct mdg_anchors anchors;

static void
setup(void)
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

static void
teardown(void)
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

static struct tp_crl_opts
good_opts(void)
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
static int
parse(const struct tp_ca *signer, const struct tp_crl_opts *o, struct mdg_crl_parsed *p,
      char *err, size_t errlen)
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

static void
refused(const struct tp_ca *signer, const struct tp_crl_opts *o, const char *want)
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
	ck_assert_int_eq(mdg_crl_parse(&anchors, (const unsigned char *)"junk", 4, &p, err,
				       sizeof(err)), -1);
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
	ck_assert_msg(mdg_crl_parse(&anchors, (const unsigned char *)pem, (size_t)n, &p, err,
				    sizeof(err)) == 0, "%s", err);
	ck_assert_mem_eq(p.imp.sha256, sha, 32);	/* of the DER inside */
	mdg_crl_parsed_free(&p);
	/* a PEM certificate is not a CRL */
	BIO_reset(b);
	PEM_write_bio_X509(b, g1.cert);
	n = BIO_get_mem_data(b, &pem);
	ck_assert_int_eq(mdg_crl_parse(&anchors, (const unsigned char *)pem, (size_t)n, &p, err,
				       sizeof(err)), -1);
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
	o.only_user = 1;	/* onlyContainsUserCerts is fine */
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
	mdg_crl_parsed_free(&p);
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
	o.only_user = 1;	/* an IDP without a distribution point name */
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

/* The project's test PKI, when its generator is built. */
static int
run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
load_file(const char *path, unsigned char **buf, size_t *len)
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

static void
mkpki_expect(const char *dir, const struct mdg_anchors *a, const char *name, const char *want)
{
	char path[4096], err[1024];
	unsigned char *buf;
	size_t len;
	struct mdg_crl_parsed p;
	int rc;

	snprintf(path, sizeof(path), "%s/crls/%s.crl.der", dir, name);
	ck_assert_msg(load_file(path, &buf, &len) == 0, "%s missing", path);
	rc = mdg_crl_parse(a, buf, len, &p, err, sizeof(err));
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

int
main(void)
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
	tcase_add_test(tc, generations);
	tcase_add_test(tc, refuse_signer);
	tcase_add_test(tc, refuse_structure);
	tcase_add_test(tc, unknown_noncritical_ok);
	tcase_add_test(tc, refuse_idp);
	tcase_add_test(tc, refuse_entries);
	tcase_add_test(tc, mkpki_crls);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
