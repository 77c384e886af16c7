/* Trust anchors: self-signed CA certificates loaded once at start. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "anchors.h"
#include "sigalg.h"
#include "files.h"
#include "names.h"
#include "timefmt.h"

#define ANCHOR_FILE_MAX (1024 * 1024) /* an anchors file is a few KiB */
#define ANCHORS_MAX 1024

/* RFC 4514 text, owned by the caller; NULL on no memory. */
static char *name_text(const X509_NAME *name)
{
	char buf[1024];

	mdg_name_rfc4514(name, buf, sizeof(buf));
	return strdup(buf);
}

static void anchor_clear(struct mdg_anchor *an)
{
	X509_free(an->cert);
	OPENSSL_free(an->subject_der);
	free(an->subject_text);
	memset(an, 0, sizeof(*an));
}

void mdg_anchors_free(struct mdg_anchors *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		anchor_clear(&a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

/* Takes ownership of cert (freed on error). */
static int anchor_add(struct mdg_anchors *a, X509 *cert, const char *file, char *err, size_t errlen)
{
	struct mdg_anchor an, *nv;
	int rc = -1;

	memset(&an, 0, sizeof(an));
	an.cert = cert;
	snprintf(an.file, sizeof(an.file), "%s", file);
	if (a->n >= ANCHORS_MAX) {
		snprintf(err, errlen, "%s: more than %d anchors", file, ANCHORS_MAX);
		goto out;
	}
	if ((an.subject_text = name_text(X509_get_subject_name(cert))) == NULL) {
		snprintf(err, errlen, "%s: cannot print the subject name", file);
		goto out;
	}
	if (X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) != 0) {
		snprintf(err, errlen, "%s: %s is not self-signed (issuer differs from subject)", file, an.subject_text);
		goto out;
	}
	/* 1: basicConstraints cA=TRUE (and keyCertSign if keyUsage is present). */
	if (X509_check_ca(cert) != 1) {
		snprintf(err, errlen,
			 "%s: %s is not a CA certificate (basicConstraints cA and "
			 "keyUsage keyCertSign required)",
			 file, an.subject_text);
		goto out;
	}
	if ((an.key = X509_get0_pubkey(cert)) == NULL) {
		snprintf(err, errlen, "%s: %s: cannot read the public key", file, an.subject_text);
		goto out;
	}
	{
		const X509_ALGOR *outer;

		X509_get0_signature(NULL, &outer, cert);
		if (!mdg_sigalg_same(outer, X509_get0_tbs_sigalg(cert))) {
			snprintf(err, errlen,
				 "%s: %s: signatureAlgorithm differs from the signature field "
				 "inside tbsCertificate (RFC 5280 4.1.1.2)",
				 file, an.subject_text);
			goto out;
		}
	}
	if (X509_verify(cert, an.key) != 1) {
		snprintf(err, errlen, "%s: %s: the self-signature does not verify", file, an.subject_text);
		goto out;
	}
	if (mdg_asn1_time_to_unix(X509_get0_notBefore(cert), &an.not_before) == -1 ||
	    mdg_asn1_time_to_unix(X509_get0_notAfter(cert), &an.not_after) == -1) {
		snprintf(err, errlen, "%s: %s: unreadable validity dates", file, an.subject_text);
		goto out;
	}
	an.subject_len = i2d_X509_NAME(X509_get_subject_name(cert), &an.subject_der);
	if (an.subject_len <= 0) {
		an.subject_der = NULL;
		snprintf(err, errlen, "%s: cannot encode the subject name", file);
		goto out;
	}
	an.skid = X509_get0_subject_key_id(cert);
	if ((nv = realloc(a->v, (a->n + 1) * sizeof(*nv))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	a->v = nv;
	a->v[a->n++] = an;
	memset(&an, 0, sizeof(an));
	rc = 0;
out:
	anchor_clear(&an);
	return rc;
}

/* Loads every certificate of one PEM buffer; at least one is required. */
static int load_pem_named(struct mdg_anchors *a, const char *pem, size_t len, const char *file, char *err,
			  size_t errlen)
{
	BIO *b = NULL;
	X509 *cert;
	unsigned long e;
	int n = 0, rc = -1;

	if (len > ANCHOR_FILE_MAX || (b = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		snprintf(err, errlen, "%s: too large or out of memory", file);
		goto out;
	}
	ERR_clear_error();
	while ((cert = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		n++;
		if (anchor_add(a, cert, file, err, errlen) == -1)
			goto out;
	}
	e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
		ERR_clear_error();
	else if (e != 0) {
		snprintf(err, errlen, "%s: certificate %d does not parse", file, n + 1);
		goto out;
	}
	if (n == 0) {
		snprintf(err, errlen, "%s: no PEM certificate in the file", file);
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	BIO_free(b);
	return rc;
}

int mdg_anchors_load_pem(struct mdg_anchors *a, const char *pem, size_t len, char *err, size_t errlen)
{
	a->v = NULL;
	a->n = 0;
	if (load_pem_named(a, pem, len, "(anchors)", err, errlen) == -1) {
		mdg_anchors_free(a);
		return -1;
	}
	return 0;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n > m && strcmp(s + n - m, suf) == 0;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

int mdg_anchors_load_dir(struct mdg_anchors *a, const char *dir, char *err, size_t errlen)
{
	DIR *d = NULL;
	struct dirent *de;
	char **names = NULL, **nn;
	size_t n_names = 0, i, len;
	char path[4096];
	unsigned char *buf = NULL;
	struct stat sb;
	int rc = -1;

	a->v = NULL;
	a->n = 0;
	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "anchors directory %s: %s", dir, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !(has_suffix(de->d_name, ".pem") || has_suffix(de->d_name, ".crt")))
			continue;
		if ((nn = realloc(names, (n_names + 1) * sizeof(*nn))) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		names = nn;
		if ((names[n_names] = strdup(de->d_name)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		n_names++;
	}
	/* Load order is part of the contract (docs/store.md: the first anchor
	 * of a name keys the CRL tables), so make it independent of readdir. */
	if (n_names > 0)
		qsort(names, n_names, sizeof(*names), cmp_str);
	for (i = 0; i < n_names; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path)) {
			snprintf(err, errlen, "anchors directory %s: path too long", dir);
			goto out;
		}
		if (stat(path, &sb) == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (!S_ISREG(sb.st_mode))
			continue;
		if (mdg_read_file(path, ANCHOR_FILE_MAX, 0, &buf, &len, err, errlen) == -1)
			goto out;
		if (load_pem_named(a, (const char *)buf, len, path, err, errlen) == -1)
			goto out;
		free(buf);
		buf = NULL;
	}
	if (a->n == 0) {
		snprintf(err, errlen, "anchors directory %s holds no *.pem or *.crt certificate", dir);
		goto out;
	}
	rc = 0;
out:
	free(buf);
	for (i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	if (d != NULL)
		closedir(d);
	if (rc == -1)
		mdg_anchors_free(a);
	return rc;
}

size_t mdg_anchors_match(const struct mdg_anchors *a, const X509_NAME *name, size_t *idx, size_t max)
{
	size_t i, n = 0;

	if (name == NULL)
		return 0;
	for (i = 0; i < a->n; i++) {
		if (X509_NAME_cmp(X509_get_subject_name(a->v[i].cert), name) != 0)
			continue;
		if (n < max)
			idx[n] = i;
		n++;
	}
	return n < max ? n : max;
}

size_t mdg_anchors_names(const struct mdg_anchors *a, size_t *idx, size_t max)
{
	size_t i, j, n = 0;

	for (i = 0; i < a->n; i++) {
		const X509_NAME *ni = X509_get_subject_name(a->v[i].cert);

		for (j = 0; j < i; j++)
			if (X509_NAME_cmp(X509_get_subject_name(a->v[j].cert), ni) == 0)
				break;
		if (j < i)
			continue;
		if (n < max)
			idx[n] = i;
		n++;
	}
	return n < max ? n : max;
}
