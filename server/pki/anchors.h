/* Trust anchors: the self-signed CA certificates in [pki] anchors, loaded
 * once at start. Several generations may share one subject name. */
#ifndef MDG_ANCHORS_H
#define MDG_ANCHORS_H

#include <stddef.h>
#include <time.h>
#include <openssl/x509.h>

struct mdg_anchor {
	X509 *cert;
	EVP_PKEY *key;              /* borrowed from cert */
	unsigned char *subject_der; /* i2d of the subject name, owned */
	int subject_len;
	char *subject_text;            /* RFC 4514 string, owned */
	const ASN1_OCTET_STRING *skid; /* may be NULL; borrowed from cert */
	time_t not_before, not_after;
	char file[256]; /* where it came from (for messages) */
};

struct mdg_anchors {
	struct mdg_anchor *v;
	size_t n;
};

/* Loads every *.pem / *.crt file of dir (each may hold several
 * certificates). Each must be a self-signed CA certificate whose
 * self-signature verifies; anything else is an error naming the file.
 * An empty directory is an error. Returns 0, or -1 with a message. */
int mdg_anchors_load_dir(struct mdg_anchors *a, const char *dir, char *err, size_t errlen);

/* Loads anchors from one PEM buffer (tests). Same rules. */
int mdg_anchors_load_pem(struct mdg_anchors *a, const char *pem, size_t len, char *err, size_t errlen);

void mdg_anchors_free(struct mdg_anchors *a);

/* Writes to idx (up to max) the indices of the anchors whose subject equals
 * name (RFC 5280 7.1 comparison, X509_NAME_cmp). Returns how many matched. */
size_t mdg_anchors_match(const struct mdg_anchors *a, const X509_NAME *name, size_t *idx, size_t max);

/* Number of distinct subject names; the first anchor of each name is
 * written to idx (up to max). */
size_t mdg_anchors_names(const struct mdg_anchors *a, size_t *idx, size_t max);

#endif
