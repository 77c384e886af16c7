/* Native HTTPS credentials (GnuTLS under libmicrohttpd): the certificate
 * chain and key read from tls_cert / tls_key, checked (key file mode 0600 or
 * stricter, RSA >= 2048 bits or ECDSA, key matches the certificate), handed
 * to each new handshake through a certificate callback, and swapped on
 * reload without touching connections already open. One set per process. */
#ifndef MDG_TLS_H
#define MDG_TLS_H

#include <stddef.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

struct mdg_tls;

/* The GnuTLS priority string: TLS 1.2 and 1.3 only, ECDHE, AEAD ciphers. */
const char *mdg_tls_priorities(void);

/* Loads and checks the certificate chain and key. Returns a new set (the
 * process's current one, used by mdg_tls_retrieve) or NULL with a message. */
struct mdg_tls *mdg_tls_open(const char *cert_path, const char *key_path, char *err, size_t errlen);

/* Reads both files again; on success later handshakes use the new pair and
 * connections already open keep theirs. On failure the old pair stays and
 * err says why. Returns 0 or -1. */
int mdg_tls_reload(struct mdg_tls *t, char *err, size_t errlen);

/* A SHA-256 fingerprint of the current leaf certificate, hex (65 bytes). */
void mdg_tls_fingerprint(struct mdg_tls *t, char out[65]);

/* The certificate callback for MHD_OPTION_HTTPS_CERT_CALLBACK. */
int mdg_tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
		     const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length, gnutls_pcert_st **pcert,
		     unsigned int *pcert_length, gnutls_privkey_t *privkey);

/* Frees every pair ever loaded; only after the HTTP daemon has stopped. */
void mdg_tls_close(struct mdg_tls *t);

#endif
