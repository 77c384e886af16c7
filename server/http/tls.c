#include "tls.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/x509.h>

#include "files.h"
#include "hex.h"
#include "log.h"

#define TLS_FILE_MAX (1024 * 1024)
#define CHAIN_MAX 16

/* TLS 1.2 and 1.3 only; ECDHE key exchange (no static RSA, no DHE); AEAD
 * ciphers only; X25519 and NIST P-256/P-384; the medium profile or above. */
static const char priorities[] = "SECURE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:"
				 "-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:"
				 "-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:"
				 "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:"
				 "%PROFILE_MEDIUM:%SERVER_PRECEDENCE";

/* One loaded certificate chain and key. A pair replaced by a reload is kept
 * (linked through older) until close: GnuTLS keeps pointers to what the
 * callback handed it for the life of a session, and a reload is rare. */
struct pair {
	struct pair *older;
	gnutls_pcert_st pcert[CHAIN_MAX];
	unsigned n;
	gnutls_privkey_t key;
	char fingerprint[65];
};

struct mdg_tls {
	char cert_path[512], key_path[512];
	pthread_mutex_t lock; /* serialises reloads */
	_Atomic(struct pair *) current;
};

/* The certificate callback gets no argument of its own. */
static struct mdg_tls *_Atomic process_tls;

const char *mdg_tls_priorities(void)
{
	return priorities;
}

static void pair_free(struct pair *p)
{
	if (p == NULL)
		return;
	for (unsigned i = 0; i < p->n; i++)
		gnutls_pcert_deinit(&p->pcert[i]);
	if (p->key)
		gnutls_privkey_deinit(p->key);
	free(p);
}

static int key_matches(struct pair *p, char *err, size_t errlen)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t a = { NULL, 0 }, b = { NULL, 0 };
	int rc = -1;

	if (gnutls_pubkey_init(&pub) < 0 || gnutls_pubkey_import_privkey(pub, p->key, 0, 0) < 0 ||
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &a) < 0 ||
	    gnutls_pubkey_export2(p->pcert[0].pubkey, GNUTLS_X509_FMT_DER, &b) < 0) {
		snprintf(err, errlen, "cannot read the public keys of the certificate and the key");
		goto out;
	}
	if (a.size != b.size || memcmp(a.data, b.data, a.size) != 0) {
		snprintf(err, errlen, "the key is not the certificate's key");
		goto out;
	}
	rc = 0;
out:
	gnutls_free(a.data);
	gnutls_free(b.data);
	if (pub)
		gnutls_pubkey_deinit(pub);
	return rc;
}

static int key_acceptable(struct pair *p, const char *key_path, char *err, size_t errlen)
{
	unsigned bits = 0;
	int alg = gnutls_privkey_get_pk_algorithm(p->key, &bits);

	if (alg == GNUTLS_PK_RSA || alg == GNUTLS_PK_RSA_PSS) {
		if (bits < 2048) {
			snprintf(err, errlen, "%s: RSA key of %u bits: at least 2048 are needed", key_path, bits);
			return -1;
		}
		return 0;
	}
	if (alg == GNUTLS_PK_ECDSA)
		return 0;
	snprintf(err, errlen, "%s: a %s key: use RSA (2048 bits or more) or ECDSA", key_path,
		 gnutls_pk_algorithm_get_name((gnutls_pk_algorithm_t)alg));
	return -1;
}

/* Warns about a leaf certificate outside its validity period: clients will
 * refuse it, but a window that answers some is better than none. */
static void check_dates(const struct pair *p, const char *cert_path)
{
	gnutls_x509_crt_t crt = NULL;
	time_t now = time(NULL);

	if (gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, &p->pcert[0].cert, GNUTLS_X509_FMT_DER) == 0) {
		if (gnutls_x509_crt_get_expiration_time(crt) < now)
			mdg_log("warning", "tls: the certificate %s has expired", cert_path);
		else if (gnutls_x509_crt_get_activation_time(crt) > now)
			mdg_log("warning", "tls: the certificate %s is not valid yet", cert_path);
	}
	gnutls_x509_crt_deinit(crt);
}

static void fingerprint(struct pair *p)
{
	unsigned char md[32];
	size_t n = sizeof(md);

	p->fingerprint[0] = '\0';
	if (gnutls_fingerprint(GNUTLS_DIG_SHA256, &p->pcert[0].cert, md, &n) < 0 || n != sizeof(md))
		return;
	mdg_hex_lower(md, n, p->fingerprint);
}

static int load_pair(const char *cert_path, const char *key_path, struct pair **out, char *err, size_t errlen)
{
	unsigned char *cert_pem = NULL, *key_pem = NULL;
	size_t cert_len = 0, key_len = 0;
	struct pair *p = NULL;
	int rc = -1, r;

	*out = NULL;
	/* the key first: a readable key is refused before anything else */
	if (mdg_read_file(key_path, TLS_FILE_MAX, 1, &key_pem, &key_len, err, errlen) != 0 ||
	    mdg_read_file(cert_path, TLS_FILE_MAX, 0, &cert_pem, &cert_len, err, errlen) != 0)
		goto out;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	gnutls_datum_t cd = { cert_pem, (unsigned)cert_len };
	p->n = CHAIN_MAX;
	r = gnutls_pcert_list_import_x509_raw(p->pcert, &p->n, &cd, GNUTLS_X509_FMT_PEM,
					      GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
	if (r < 0 || p->n == 0) {
		p->n = 0;
		snprintf(err, errlen, "%s: not a PEM certificate chain, leaf first (%s)", cert_path,
			 r < 0 ? gnutls_strerror(r) : "no certificate");
		goto out;
	}
	gnutls_datum_t kd = { key_pem, (unsigned)key_len };
	if ((r = gnutls_privkey_init(&p->key)) < 0 ||
	    (r = gnutls_privkey_import_x509_raw(p->key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		snprintf(err, errlen, "%s: not an unencrypted PEM private key (%s)", key_path, gnutls_strerror(r));
		goto out;
	}
	if (key_acceptable(p, key_path, err, errlen) != 0)
		goto out;
	if (key_matches(p, err, errlen) != 0) {
		char why[128];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s, %s: %s", cert_path, key_path, why);
		goto out;
	}
	check_dates(p, cert_path);
	fingerprint(p);
	*out = p;
	p = NULL;
	rc = 0;
out:
	pair_free(p);
	if (key_pem) {
		gnutls_memset(key_pem, 0, key_len);
		free(key_pem);
	}
	free(cert_pem);
	return rc;
}

struct mdg_tls *mdg_tls_open(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
	struct mdg_tls *t = NULL;
	struct pair *p = NULL;

	if (strlen(cert_path) >= sizeof(t->cert_path) || strlen(key_path) >= sizeof(t->key_path)) {
		snprintf(err, errlen, "tls_cert or tls_key: path too long");
		return NULL;
	}
	if (load_pair(cert_path, key_path, &p, err, errlen) != 0)
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		pair_free(p);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(t->cert_path, sizeof(t->cert_path), "%s", cert_path);
	snprintf(t->key_path, sizeof(t->key_path), "%s", key_path);
	pthread_mutex_init(&t->lock, NULL);
	atomic_store(&t->current, p);
	atomic_store(&process_tls, t);
	return t;
}

int mdg_tls_reload(struct mdg_tls *t, char *err, size_t errlen)
{
	struct pair *p = NULL;
	int rc = -1;

	pthread_mutex_lock(&t->lock);
	if (load_pair(t->cert_path, t->key_path, &p, err, errlen) != 0)
		goto out;
	p->older = atomic_load(&t->current);
	atomic_store(&t->current, p);
	rc = 0;
out:
	pthread_mutex_unlock(&t->lock);
	return rc;
}

void mdg_tls_fingerprint(struct mdg_tls *t, char out[65])
{
	pthread_mutex_lock(&t->lock);
	memcpy(out, atomic_load(&t->current)->fingerprint, 65);
	pthread_mutex_unlock(&t->lock);
}

int mdg_tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
		     const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length, gnutls_pcert_st **pcert,
		     unsigned int *pcert_length, gnutls_privkey_t *privkey)
{
	struct mdg_tls *t = atomic_load(&process_tls);
	struct pair *p = t ? atomic_load(&t->current) : NULL;

	if (p == NULL)
		return -1;
	*pcert = p->pcert;
	*pcert_length = p->n;
	*privkey = p->key;
	return 0;
}

void mdg_tls_close(struct mdg_tls *t)
{
	struct mdg_tls *expected = t;

	if (t == NULL)
		return;
	atomic_compare_exchange_strong(&process_tls, &expected, NULL);
	for (struct pair *p = atomic_load(&t->current), *next; p; p = next) {
		next = p->older;
		pair_free(p);
	}
	pthread_mutex_destroy(&t->lock);
	free(t);
}
