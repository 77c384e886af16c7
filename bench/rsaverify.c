/* rsaverify: the cost of one RSA-2048 PKCS#1 v1.5 / SHA-256 verification
 * on this machine, in process (EVP_DigestVerifyInit + Update + Final over a
 * 1 KiB message, as a certificate or a SignerInfo check does). Prints one
 * JSON line with the CPU time and the wall time per verification.
 *
 *   rsaverify [ITERATIONS] [REQUEST.der|-] [KEY.pem]
 * KEY.pem: an RSA-2048 private key to sign with (default: a new one; key
 * generation takes a while). With a request (a CMS SignedData) also times parsing it
 * (d2i_CMS_ContentInfo) and parsing its certificate alone (d2i_X509): in
 * OpenSSL 3.0 every certificate parse decodes the public key through a new
 * OSSL_DECODER context, which costs more than the verification itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned char *read_all(const char *path, long *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && n < (1L << 24) && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			*len = n;
		}
	}
	fclose(f);
	return buf;
}

/* CPU microseconds per d2i of the request and of its certificate; -1 on error. */
static int parse_costs(const char *path, long iters, double *cms_us, double *cert_us)
{
	long len = 0, i;
	int clen, rc = -1;
	unsigned char *der = read_all(path, &len), *cder = NULL;
	const unsigned char *p;
	CMS_ContentInfo *cms = NULL;
	STACK_OF(X509) *certs = NULL;
	double t;

	if (der == NULL)
		return -1;
	p = der;
	if ((cms = d2i_CMS_ContentInfo(NULL, &p, len)) == NULL || (certs = CMS_get1_certs(cms)) == NULL ||
	    sk_X509_num(certs) < 1 || (clen = i2d_X509(sk_X509_value(certs, 0), &cder)) <= 0)
		goto out;
	t = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 0; i < iters; i++) {
		CMS_ContentInfo *c;
		p = der;
		if ((c = d2i_CMS_ContentInfo(NULL, &p, len)) == NULL)
			goto out;
		CMS_ContentInfo_free(c);
	}
	*cms_us = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - t) * 1e6 / (double)iters;
	t = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 0; i < iters; i++) {
		X509 *x;
		p = cder;
		if ((x = d2i_X509(NULL, &p, clen)) == NULL)
			goto out;
		X509_free(x);
	}
	*cert_us = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - t) * 1e6 / (double)iters;
	rc = 0;
out:
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	OPENSSL_free(cder);
	free(der);
	return rc;
}

int main(int argc, char **argv)
{
	double cms_us = -1, cert_us = -1;
	long iters = argc > 1 ? atol(argv[1]) : 4000;
	unsigned char msg[1024], sig[512];
	size_t siglen = sizeof(sig);
	EVP_PKEY *key = NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = 1;

	if (argc > 3) {
		BIO *kb = BIO_new_file(argv[3], "r");
		if (kb != NULL)
			key = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
		BIO_free(kb);
	} else {
		key = EVP_RSA_gen(2048);
	}
	if (iters < 1 || key == NULL || ctx == NULL || EVP_PKEY_get_bits(key) != 2048 ||
	    EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
		goto out;
	memset(msg, 0x5a, sizeof(msg));
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, msg, sizeof(msg)) != 1)
		goto out;
	/* warm up, then measure */
	for (long i = 0; i < iters / 10 + 1; i++)
		if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
		    EVP_DigestVerify(ctx, sig, siglen, msg, sizeof(msg)) != 1)
			goto out;
	double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
	for (long i = 0; i < iters; i++)
		if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
		    EVP_DigestVerify(ctx, sig, siglen, msg, sizeof(msg)) != 1)
			goto out;
	double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0, wall = clock_s(CLOCK_MONOTONIC) - w0;
	if (argc > 2 && strcmp(argv[2], "-") != 0 && parse_costs(argv[2], iters, &cms_us, &cert_us) == -1) {
		fprintf(stderr, "rsaverify: cannot parse %s\n", argv[2]);
		goto out;
	}
	printf("{\"iterations\":%ld,\"cpu_us\":%.2f,\"wall_us\":%.2f,\"per_s_per_core\":%.0f,"
	       "\"d2i_cms_us\":%.2f,\"d2i_x509_us\":%.2f}\n",
	       iters, cpu * 1e6 / (double)iters, wall * 1e6 / (double)iters, (double)iters / cpu, cms_us, cert_us);
	rc = 0;
out:
	if (rc != 0)
		ERR_print_errors_fp(stderr);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return rc;
}
