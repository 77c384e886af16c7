/* mkholders: signed requests for the benchmark. Takes one test-PKI holder
 * (certificate + key, from mkpki) as a template and makes K certificates
 * that differ from it only in their serial number (random, 16 bytes),
 * re-signed by the issuing CA's key, all carrying the template's public
 * key. Then writes N requests (CMS SignedData over the application form,
 * as `openssl cms -sign -nodetach -binary`) to OUTDIR/PREFIXnnnnnnn.SUFFIX,
 * request i from certificate i % K. Re-using one holder key keeps the
 * making fast (no key generation); the server's work per certificate is
 * the same as with distinct keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

static int usage(void)
{
	fputs("usage: mkholders --cert HOLDER.cert.pem --key HOLDER.key.pem --ca-cert CA.cert.pem\n"
	      "         --ca-key CA.key.pem --applicant APPLICANT.json --nonce NONCE\n"
	      "         --procedure validity-check|revocation [--reason R] --count N\n"
	      "         [--certs K] [--prefix P] [--suffix .val.der] [--start I] --out DIR\n"
	      "  --certs 0 (default) gives every request its own certificate\n",
	      stderr);
	return 2;
}

static void *load_pem(const char *path, int key)
{
	BIO *b = BIO_new_file(path, "r");
	void *p = NULL;

	if (b == NULL)
		return NULL;
	p = key ? (void *)PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : (void *)PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	return p;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < 65536 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
				buf[--n] = '\0';
		}
	}
	fclose(f);
	return buf;
}

/* The template with a fresh random positive serial, signed by the CA. */
static X509 *twin(X509 *tmpl, EVP_PKEY *ca_key)
{
	unsigned char r[16];
	X509 *x = X509_dup(tmpl);
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;
	int ok = 0;

	if (x == NULL || RAND_bytes(r, sizeof(r)) != 1)
		goto out;
	r[0] = (unsigned char)((r[0] & 0x3f) | 0x10); /* positive, 16 bytes */
	if ((bn = BN_bin2bn(r, sizeof(r), NULL)) == NULL || (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_set_serialNumber(x, ai) || X509_sign(x, ca_key, EVP_sha256()) <= 0)
		goto out;
	ok = 1;
out:
	BN_free(bn);
	ASN1_INTEGER_free(ai);
	if (!ok) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

static int write_request(const char *path, X509 *cert, EVP_PKEY *key, const char *form)
{
	BIO *in = BIO_new_mem_buf(form, (int)strlen(form)), *out = NULL;
	CMS_ContentInfo *cms = NULL;
	int rc = -1;

	if (in == NULL)
		goto out;
	cms = CMS_sign(cert, key, NULL, in, CMS_BINARY);
	if (cms == NULL || (out = BIO_new_file(path, "wb")) == NULL || i2d_CMS_bio(out, cms) <= 0)
		goto out;
	rc = 0;
out:
	BIO_free(out);
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	return rc;
}

int main(int argc, char **argv)
{
	const char *certp = NULL, *keyp = NULL, *cacertp = NULL, *cakeyp = NULL, *appp = NULL, *nonce = NULL;
	const char *proc = NULL, *reason = NULL, *prefix = "", *suffix = NULL, *outdir = NULL;
	long count = 0, ncerts = 0, start = 0;
	X509 *tmpl = NULL, *cacert = NULL, **certs = NULL;
	EVP_PKEY *key = NULL, *cakey = NULL;
	char *applicant = NULL, *form = NULL, path[4096];
	int rc = 1;

	for (int i = 1; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];
		if (!strcmp(a, "--cert"))
			certp = v;
		else if (!strcmp(a, "--key"))
			keyp = v;
		else if (!strcmp(a, "--ca-cert"))
			cacertp = v;
		else if (!strcmp(a, "--ca-key"))
			cakeyp = v;
		else if (!strcmp(a, "--applicant"))
			appp = v;
		else if (!strcmp(a, "--nonce"))
			nonce = v;
		else if (!strcmp(a, "--procedure"))
			proc = v;
		else if (!strcmp(a, "--reason"))
			reason = v;
		else if (!strcmp(a, "--count"))
			count = atol(v);
		else if (!strcmp(a, "--certs"))
			ncerts = atol(v);
		else if (!strcmp(a, "--start"))
			start = atol(v);
		else if (!strcmp(a, "--prefix"))
			prefix = v;
		else if (!strcmp(a, "--suffix"))
			suffix = v;
		else if (!strcmp(a, "--out"))
			outdir = v;
		else
			return usage();
	}
	if (argc % 2 != 1 || !certp || !keyp || !cacertp || !cakeyp || !appp || !nonce || !proc || !outdir ||
	    count <= 0 || ncerts < 0 || start < 0 ||
	    (strcmp(proc, "validity-check") != 0 && strcmp(proc, "revocation") != 0) || strchr(nonce, '"') != NULL ||
	    (reason != NULL && strchr(reason, '"') != NULL))
		return usage();
	if (ncerts == 0 || ncerts > count)
		ncerts = count;
	if (suffix == NULL)
		suffix = strcmp(proc, "revocation") == 0 ? ".rev.der" : ".val.der";

	tmpl = load_pem(certp, 0);
	key = load_pem(keyp, 1);
	cacert = load_pem(cacertp, 0);
	cakey = load_pem(cakeyp, 1);
	applicant = read_text(appp);
	if (!tmpl || !key || !cacert || !cakey || !applicant) {
		fprintf(stderr, "mkholders: cannot read the inputs\n");
		goto out;
	}
	if (X509_check_issued(cacert, tmpl) != X509_V_OK) {
		fprintf(stderr, "mkholders: %s is not the issuer of %s\n", cacertp, certp);
		goto out;
	}
	size_t flen = strlen(applicant) + strlen(nonce) + 200;
	if ((form = malloc(flen)) == NULL)
		goto out;
	/* the form as harness.make_form writes it (member order is free) */
	if (reason != NULL)
		snprintf(form, flen,
			 "{\"procedure\": \"%s\", \"applicant\": %s, \"nonce\": \"%s\", \"reason\": \"%s\"}", proc,
			 applicant, nonce, reason);
	else
		snprintf(form, flen, "{\"procedure\": \"%s\", \"applicant\": %s, \"nonce\": \"%s\"}", proc, applicant,
			 nonce);
	if ((certs = calloc((size_t)ncerts, sizeof(*certs))) == NULL)
		goto out;
	for (long i = 0; i < ncerts; i++)
		if ((certs[i] = twin(tmpl, cakey)) == NULL) {
			fprintf(stderr, "mkholders: cannot make certificate %ld\n", i);
			goto out;
		}
	for (long i = 0; i < count; i++) {
		snprintf(path, sizeof(path), "%s/%s%07ld%s", outdir, prefix, start + i, suffix);
		if (write_request(path, certs[i % ncerts], key, form) == -1) {
			fprintf(stderr, "mkholders: cannot write %s\n", path);
			goto out;
		}
	}
	rc = 0;
out:
	if (rc != 0)
		ERR_print_errors_fp(stderr);
	if (certs != NULL)
		for (long i = 0; i < ncerts; i++)
			X509_free(certs[i]);
	free(certs);
	X509_free(tmpl);
	X509_free(cacert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(cakey);
	free(applicant);
	free(form);
	return rc;
}
