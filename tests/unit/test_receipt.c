/* Unit tests: server/receipt/receipt.c. The content's exact bytes for a
 * fixed row, the hand-written JSON against jansson's for tricky strings,
 * and the CMS receipt verified by OpenSSL's CMS_verify and by the stock
 * `openssl cms -verify` against the test PKI's J-LIS anchor (MDG_MKPKI). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "b64.h"
#include "receipt.h"

static char pki[1100]; /* the test PKI, made once in main */
static char tmpdir[1024];

static const unsigned char digest[32] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
};

#define DIGEST_HEX "00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210"
#define JLIS_TEXT "OU=Japan Agency for Local Authority Information Systems,OU=JPKI for digital signature,O=JPKI,C=JP"

static unsigned char *jlis_der(size_t *len)
{
	X509_NAME *n = X509_NAME_new();
	unsigned char *der = NULL;
	int l;

	ck_assert_ptr_nonnull(n);
	ck_assert(X509_NAME_add_entry_by_txt(n, "C", V_ASN1_PRINTABLESTRING, (const unsigned char *)"JP", -1, -1, 0));
	ck_assert(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)"JPKI", -1, -1, 0));
	ck_assert(X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8,
					     (const unsigned char *)"JPKI for digital signature", -1, -1, 0));
	ck_assert(X509_NAME_add_entry_by_txt(
		n, "OU", MBSTRING_UTF8, (const unsigned char *)"Japan Agency for Local Authority Information Systems",
		-1, -1, 0));
	l = i2d_X509_NAME(n, &der);
	ck_assert_int_gt(l, 0);
	X509_NAME_free(n);
	*len = (size_t)l;
	return der;
}

START_TEST(content_of_row)
{
	static const unsigned char serial[] = { 0x00, 0x01, 0x2a, 0xbc };
	struct mdg_acceptance_row row;
	size_t ilen, len;
	unsigned char *idr = jlis_der(&ilen);
	char *out = NULL, err[256];
	const char *want =
		"{\"receiptId\":\"0123456789abcdef0123456789abcdef\",\"procedure\":\"revocation\","
		"\"issuer\":\"" JLIS_TEXT "\",\"serial\":\"12abc\","
		"\"acceptedAt\":\"2026-11-27T10:00:00+09:00\",\"effectiveFrom\":\"2026-11-28T00:00:00+09:00\","
		"\"reason\":\"keyCompromise\",\"requestSha256\":\"" DIGEST_HEX "\",\"logIndex\":41}";

	memset(&row, 0, sizeof(row));
	row.seq = 42;
	row.receipt_id = "0123456789abcdef0123456789abcdef";
	row.issuer_der = idr;
	row.issuer_len = ilen;
	row.serial = serial;
	row.serial_len = sizeof(serial);
	row.accepted_at = "2026-11-27T10:00:00+09:00";
	row.effective_from = "2026-11-28T00:00:00+09:00";
	row.reason = "keyCompromise";
	row.request_sha256 = digest;
	row.request_sha256_len = 32;
	row.holder_name = "吉田　太郎"; /* never in a receipt */
	ck_assert_msg(mdg_receipt_content_row(&row, &out, &len, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(out, want);
	ck_assert_uint_eq(len, strlen(want));
	free(out);

	/* the first row is logIndex 0; a zero serial is "0" */
	row.seq = 1;
	row.serial_len = 1;
	ck_assert_int_eq(mdg_receipt_content_row(&row, &out, &len, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"serial\":\"0\","));
	ck_assert_ptr_nonnull(strstr(out, ",\"logIndex\":0}"));
	free(out);
	/* a serial whose first byte is below 0x10 loses its leading zero digit */
	row.serial = serial + 1;
	row.serial_len = 3;
	ck_assert_int_eq(mdg_receipt_content_row(&row, &out, &len, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"serial\":\"12abc\","));
	free(out);

	/* no seq, a short digest, an issuer that is not DER: refused */
	row.seq = 0;
	ck_assert_int_eq(mdg_receipt_content_row(&row, &out, &len, err, sizeof(err)), -1);
	ck_assert_ptr_null(out);
	row.seq = 3;
	row.request_sha256_len = 31;
	ck_assert_int_eq(mdg_receipt_content_row(&row, &out, &len, err, sizeof(err)), -1);
	row.request_sha256_len = 32;
	row.issuer_len = ilen - 1;
	ck_assert_int_eq(mdg_receipt_content_row(&row, &out, &len, err, sizeof(err)), -1);
	OPENSSL_free(idr);
}
END_TEST

/* jansson's bytes for the same fields */
static char *jansson_content(const struct mdg_receipt_fields *f, const char *serial, const char *dhex)
{
	json_t *o = json_object();
	char *s;

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(json_object_set_new(o, "receiptId", json_string(f->receipt_id)), 0);
	ck_assert_int_eq(json_object_set_new(o, "procedure", json_string("revocation")), 0);
	ck_assert_int_eq(json_object_set_new(o, "issuer", json_string(f->issuer)), 0);
	ck_assert_int_eq(json_object_set_new(o, "serial", json_string(serial)), 0);
	ck_assert_int_eq(json_object_set_new(o, "acceptedAt", json_string(f->accepted_at)), 0);
	ck_assert_int_eq(json_object_set_new(o, "effectiveFrom", json_string(f->effective_from)), 0);
	ck_assert_int_eq(json_object_set_new(o, "reason", json_string(f->reason)), 0);
	ck_assert_int_eq(json_object_set_new(o, "requestSha256", json_string(dhex)), 0);
	ck_assert_int_eq(json_object_set_new(o, "logIndex", json_integer((json_int_t)f->log_index)), 0);
	s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(o);
	ck_assert_ptr_nonnull(s);
	return s;
}

START_TEST(content_like_jansson)
{
	static const char *const issuers[] = {
		JLIS_TEXT,
		"CN=\\\"quoted\\\" \\\\ back\\\\slash,O=JPKI,C=JP",
		"CN=東京都知事,OU=Tokyo-to,O=JPKI,C=JP",
		"CN=𠮷野 髙橋,O=JPKI,C=JP",
		"CN=a/b\x7f\x63,O=x", /* DEL, then c */
		"CN=tab\there\nnew\rline\x01\x1f\b\f,O=x",
		"CN=\xe2\x80\xa8line sep\xe2\x80\xa9,O=x",
		"",
	};
	static const unsigned char serial[] = { 0x7f, 0xff, 0x00, 0x01 };
	struct mdg_receipt_fields f;
	char *mine, *theirs, err[256];
	size_t i, len;

	memset(&f, 0, sizeof(f));
	f.receipt_id = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	f.serial = serial;
	f.serial_len = sizeof(serial);
	f.accepted_at = "2026-11-27T10:00:00+09:00";
	f.effective_from = "2026-11-28T00:00:00+09:00";
	f.reason = "affiliationChanged \"x\"";
	f.request_sha256 = digest;
	f.log_index = 18446744073709551615ULL >> 1; /* the largest json_int_t */
	for (i = 0; i < sizeof(issuers) / sizeof(issuers[0]); i++) {
		f.issuer = issuers[i];
		ck_assert_msg(mdg_receipt_content(&f, &mine, &len, err, sizeof(err)) == 0, "%s", err);
		theirs = jansson_content(&f, "7fff0001", DIGEST_HEX);
		ck_assert_msg(strcmp(mine, theirs) == 0, "issuer %zu:\n%s\n%s", i, mine, theirs);
		ck_assert_uint_eq(len, strlen(theirs));
		free(mine);
		free(theirs);
	}
	/* not UTF-8: refused (jansson would refuse it too) */
	f.issuer = "CN=\xff";
	ck_assert_int_eq(mdg_receipt_content(&f, &mine, &len, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "issuer"));
	f.issuer = "CN=\xed\xa0\x80"; /* a surrogate */
	ck_assert_int_eq(mdg_receipt_content(&f, &mine, &len, err, sizeof(err)), -1);
	f.issuer = NULL;
	ck_assert_int_eq(mdg_receipt_content(&f, &mine, &len, err, sizeof(err)), -1);
}
END_TEST

static void pki_path(char *out, size_t len, const char *rel)
{
	snprintf(out, len, "%s/%s", pki, rel);
}

static const char content[] =
	"{\"receiptId\":\"0123456789abcdef0123456789abcdef\",\"procedure\":\"revocation\","
	"\"issuer\":\"" JLIS_TEXT "\",\"serial\":\"12abc\",\"acceptedAt\":\"2026-11-27T10:00:00+09:00\","
	"\"effectiveFrom\":\"2026-11-28T00:00:00+09:00\",\"reason\":\"keyCompromise\","
	"\"requestSha256\":\"" DIGEST_HEX "\",\"logIndex\":41}";

static X509_STORE *anchor_store(void)
{
	char path[4200];
	X509_STORE *st = X509_STORE_new();

	pki_path(path, sizeof(path), "anchors/jlis-g2.pem");
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(X509_STORE_load_file(st, path), 1);
	ck_assert_int_eq(X509_STORE_set_purpose(st, X509_PURPOSE_ANY), 1);
	return st;
}

START_TEST(cms_receipt)
{
	struct mdg_receipt_signer s;
	char kp[4200], cp[4200], ap[4200], der_path[4200], out_path[4200], cmd[16384], err[512];
	unsigned char *der = NULL, got[8192];
	const unsigned char *p;
	size_t derlen;
	CMS_ContentInfo *cms;
	STACK_OF(CMS_SignerInfo) * sis;
	CMS_SignerInfo *si;
	X509_ATTRIBUTE *at;
	ASN1_TYPE *ty;
	X509_STORE *st;
	BIO *out;
	FILE *f;
	char *b64 = NULL, *data;
	long n;
	int idx;

	pki_path(kp, sizeof(kp), "receipts/receipt.key.pem");
	pki_path(cp, sizeof(cp), "receipts/receipt.cert.pem");
	pki_path(ap, sizeof(ap), "anchors/jlis-g2.pem");
	ck_assert_msg(mdg_receipt_signer_load(&s, kp, cp, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(sk_X509_num(s.chain), 0);
	ck_assert_msg(mdg_receipt_sign(&s, content, strlen(content), "2026-11-27T10:00:00+09:00", &der, &derlen, err,
				       sizeof(err)) == 0,
		      "%s", err);

	/* CMS_verify against the J-LIS anchor prints the content */
	p = der;
	ck_assert_ptr_nonnull(cms = d2i_CMS_ContentInfo(NULL, &p, (long)derlen));
	ck_assert(p == der + derlen);
	ck_assert_int_eq(OBJ_obj2nid(CMS_get0_type(cms)), NID_pkcs7_signed);
	ck_assert_int_eq(OBJ_obj2nid(CMS_get0_eContentType(cms)), NID_pkcs7_data);
	ck_assert_ptr_nonnull(sis = CMS_get0_SignerInfos(cms));
	ck_assert_int_eq(sk_CMS_SignerInfo_num(sis), 1);
	si = sk_CMS_SignerInfo_value(sis, 0);
	/* the three signed attributes, no more */
	ck_assert_int_eq(CMS_signed_get_attr_count(si), 3);
	ck_assert_int_ge(CMS_signed_get_attr_by_NID(si, NID_pkcs9_contentType, -1), 0);
	ck_assert_int_ge(CMS_signed_get_attr_by_NID(si, NID_pkcs9_messageDigest, -1), 0);
	ck_assert_int_ge(idx = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1), 0);
	/* signingTime = acceptedAt: 2026-11-27T10:00:00+09:00 is 01:00:00Z */
	at = CMS_signed_get_attr(si, idx);
	ck_assert_int_eq(X509_ATTRIBUTE_count(at), 1);
	ty = X509_ATTRIBUTE_get0_type(at, 0);
	ck_assert_int_eq(ty->type, V_ASN1_UTCTIME);
	ck_assert_int_eq(ASN1_STRING_length(ty->value.utctime), 13);
	ck_assert(memcmp(ASN1_STRING_get0_data(ty->value.utctime), "261127010000Z", 13) == 0);
	{
		STACK_OF(X509) *certs = CMS_get1_certs(cms);

		/* the receipt certificate is included */
		ck_assert_int_eq(sk_X509_num(certs), 1);
		ck_assert_int_eq(X509_cmp(sk_X509_value(certs, 0), s.cert), 0);
		sk_X509_pop_free(certs, X509_free);
	}
	st = anchor_store();
	ck_assert_ptr_nonnull(out = BIO_new(BIO_s_mem()));
	ck_assert_msg(CMS_verify(cms, NULL, st, NULL, out, CMS_BINARY) == 1, "CMS_verify failed");
	n = BIO_get_mem_data(out, &data);
	ck_assert_int_eq(n, (long)strlen(content));
	ck_assert(memcmp(data, content, (size_t)n) == 0);
	BIO_free(out);
	/* another anchor does not verify it */
	X509_STORE_free(st);
	st = X509_STORE_new();
	pki_path(ap, sizeof(ap), "anchors/pref-tokyo.pem");
	ck_assert_int_eq(X509_STORE_load_file(st, ap), 1);
	ck_assert_int_ne(CMS_verify(cms, NULL, st, NULL, NULL, CMS_BINARY), 1);
	ERR_clear_error();
	X509_STORE_free(st);
	CMS_ContentInfo_free(cms);

	/* the stock tool */
	snprintf(der_path, sizeof(der_path), "%s/receipt.der", tmpdir);
	snprintf(out_path, sizeof(out_path), "%s/receipt.out", tmpdir);
	ck_assert_ptr_nonnull(f = fopen(der_path, "wb"));
	ck_assert_uint_eq(fwrite(der, 1, derlen, f), derlen);
	fclose(f);
	pki_path(ap, sizeof(ap), "anchors/jlis-g2.pem");
	snprintf(cmd, sizeof(cmd), "openssl cms -verify -inform DER -in '%s' -CAfile '%s' -purpose any -out '%s'",
		 der_path, ap, out_path);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_ptr_nonnull(f = fopen(out_path, "rb"));
	n = (long)fread(got, 1, sizeof(got), f);
	fclose(f);
	ck_assert_int_eq(n, (long)strlen(content));
	ck_assert(memcmp(got, content, (size_t)n) == 0);
	/* and refuses it with a byte of the content changed */
	{
		unsigned char *hit = memmem(der, derlen, "keyCompromise", 13);

		ck_assert_ptr_nonnull(hit);
		hit[0] = 'K';
		ck_assert_ptr_nonnull(f = fopen(der_path, "wb"));
		ck_assert_uint_eq(fwrite(der, 1, derlen, f), derlen);
		fclose(f);
		snprintf(cmd, sizeof(cmd),
			 "openssl cms -verify -inform DER -in '%s' -CAfile '%s' -purpose any "
			 "-out /dev/null 2>/dev/null",
			 der_path, ap);
		ck_assert_int_ne(system(cmd), 0);
	}

	/* base64 as answers carry it: one padded line of a SignedData that the
	 * stock tool verifies; about the DER's length (the test PKI's receipt
	 * key is ECDSA P-256, whose signature's DER varies by a few bytes) */
	ck_assert_int_eq(
		mdg_receipt_sign_b64(&s, content, strlen(content), "2026-11-27T10:00:00+09:00", &b64, err, sizeof(err)),
		0);
	ck_assert_ptr_null(strchr(b64, '\n'));
	{
		unsigned char *d2 = malloc(derlen + 16);
		size_t l2;

		ck_assert_ptr_nonnull(d2);
		ck_assert_int_eq(mdg_b64_decode(b64, strlen(b64), d2, derlen + 16, &l2), 0);
		ck_assert_uint_eq(strlen(b64), MDG_B64_LEN(l2));
		ck_assert(l2 + 8 >= derlen && l2 <= derlen + 8);
		ck_assert_ptr_nonnull(f = fopen(der_path, "wb"));
		ck_assert_uint_eq(fwrite(d2, 1, l2, f), l2);
		fclose(f);
		snprintf(
			cmd, sizeof(cmd),
			"openssl cms -verify -inform DER -in '%s' -CAfile '%s' -purpose any -out /dev/null 2>/dev/null",
			der_path, ap);
		ck_assert_int_eq(system(cmd), 0);
		free(d2);
	}
	free(b64);
	OPENSSL_free(der);

	/* a bad acceptedAt is refused */
	ck_assert_int_eq(mdg_receipt_sign(&s, content, strlen(content), "yesterday", &der, &derlen, err, sizeof(err)),
			 -1);
	ck_assert_ptr_null(der);
	mdg_receipt_signer_free(&s);
	ck_assert_ptr_null(s.key);
}
END_TEST

START_TEST(cms_receipt_intermediates)
{
	struct mdg_receipt_signer s;
	char kp[4200], cp[4200], chain[4200], err[512], buf[16384];
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t derlen;
	CMS_ContentInfo *cms;
	STACK_OF(X509) * certs;
	FILE *in, *out;
	size_t n;

	/* the receipt certificate followed by another one (here the anchor
	 * itself stands in for an intermediate) */
	pki_path(kp, sizeof(kp), "receipts/receipt.key.pem");
	snprintf(chain, sizeof(chain), "%s/chain.pem", tmpdir);
	ck_assert_ptr_nonnull(out = fopen(chain, "w"));
	pki_path(cp, sizeof(cp), "receipts/receipt.cert.pem");
	ck_assert_ptr_nonnull(in = fopen(cp, "r"));
	n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	fwrite(buf, 1, n, out);
	pki_path(cp, sizeof(cp), "anchors/jlis-g2.pem");
	ck_assert_ptr_nonnull(in = fopen(cp, "r"));
	n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	fwrite(buf, 1, n, out);
	fclose(out);
	ck_assert_msg(mdg_receipt_signer_load(&s, kp, chain, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(sk_X509_num(s.chain), 1);
	ck_assert_int_eq(mdg_receipt_sign(&s, content, strlen(content), "2026-11-27T10:00:00+09:00", &der, &derlen, err,
					  sizeof(err)),
			 0);
	p = der;
	ck_assert_ptr_nonnull(cms = d2i_CMS_ContentInfo(NULL, &p, (long)derlen));
	ck_assert_ptr_nonnull(certs = CMS_get1_certs(cms));
	ck_assert_int_eq(sk_X509_num(certs), 2);
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	OPENSSL_free(der);
	mdg_receipt_signer_free(&s);
}
END_TEST

START_TEST(signer_refused)
{
	struct mdg_receipt_signer s;
	char kp[4200], cp[4200], hk[4200], copy[4200], err[512], buf[8192];
	FILE *in, *out;
	size_t n;

	pki_path(kp, sizeof(kp), "receipts/receipt.key.pem");
	pki_path(cp, sizeof(cp), "receipts/receipt.cert.pem");
	pki_path(hk, sizeof(hk), "holders/valid-01.key.pem");
	/* a key file others may read */
	snprintf(copy, sizeof(copy), "%s/open.key.pem", tmpdir);
	ck_assert_ptr_nonnull(in = fopen(kp, "r"));
	n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	ck_assert_ptr_nonnull(out = fopen(copy, "w"));
	fwrite(buf, 1, n, out);
	fclose(out);
	ck_assert_int_eq(chmod(copy, 0644), 0);
	ck_assert_int_eq(mdg_receipt_signer_load(&s, copy, cp, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "chmod 600") != NULL, "%s", err);
	ck_assert_ptr_null(s.key);
	/* a key that is not the certificate's */
	ck_assert_int_eq(chmod(hk, 0600), 0);
	ck_assert_int_eq(mdg_receipt_signer_load(&s, hk, cp, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "not the key of the certificate") != NULL, "%s", err);
	/* no certificate in the file */
	ck_assert_int_eq(mdg_receipt_signer_load(&s, kp, kp, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "no PEM certificate") != NULL, "%s", err);
}
END_TEST

static void setup_pki(void)
{
	const char *mkpki = getenv("MDG_MKPKI"), *tmp = getenv("MDG_TEST_TMP");
	char cmd[8400];

	snprintf(tmpdir, sizeof(tmpdir), "%s/receipt-XXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	if (mkpki == NULL || access(mkpki, X_OK) != 0) {
		fprintf(stderr, "test_receipt: MDG_MKPKI (the test PKI generator) is needed\n");
		exit(1);
	}
	snprintf(pki, sizeof(pki), "%s/pki", tmpdir);
	snprintf(cmd, sizeof(cmd), "'%s' gen '%s' >/dev/null", mkpki, pki);
	if (system(cmd) != 0) {
		fprintf(stderr, "test_receipt: mkpki gen failed\n");
		exit(1);
	}
}

int main(void)
{
	Suite *s = suite_create("receipt");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	setup_pki();
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, content_of_row);
	tcase_add_test(tc, content_like_jansson);
	tcase_add_test(tc, cms_receipt);
	tcase_add_test(tc, cms_receipt_intermediates);
	tcase_add_test(tc, signer_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
