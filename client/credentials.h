/* Where the holder's certificate and signing key come from: PEM files, a
 * PKCS#12 file, or a PKCS#11 token through libp11 (token label "JPKI", key
 * label "Digital Signature Key" as on the card, JPKI-PROFILE.md). Every
 * failure is classified as one of the client-side states of the manual. */
#ifndef MDG_CLIENT_CREDENTIALS_H
#define MDG_CLIENT_CREDENTIALS_H

#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "message.h"
#include "pin.h"
#include "status.h"

#define MDG_TOKEN_LABEL_DEFAULT "JPKI"
#define MDG_KEY_LABEL_DEFAULT "Digital Signature Key"

enum mdg_cred_kind { MDG_CRED_PEM, MDG_CRED_PKCS12, MDG_CRED_PKCS11 };

struct mdg_cred_opts {
	enum mdg_cred_kind kind;
	const char *cert_file, *key_file; /* PEM */
	const char *pkcs12_file;
	const char *module, *token_label, *key_label; /* PKCS#11 */
};

/* What went wrong, for the screen: a message (no personal data), the
 * PKCS#11 return value if any (0 if none), what the token says about the
 * tries left: -1 unknown, 1 final try; count_low if the token says "low". */
struct mdg_cred_error {
	struct mdg_msg msg;
	unsigned long ckr;
	int tries_left;
	int count_low;
};

struct mdg_creds; /* opaque; owns the certificate, the key and the token session */

/* Opens the source: for PKCS#11 loads the module and finds the token
 * (MDG_CS_CARD_NOT_READY if either is missing, MDG_CS_PIN_LOCKED if the
 * token says its user PIN is locked). *out is set even on failure (free it
 * with mdg_creds_free). */
enum mdg_cstate mdg_creds_open(const struct mdg_cred_opts *o, struct mdg_creds **out, struct mdg_cred_error *e);

/* 1 if the PIN must be given before the certificate and key can be read
 * (a token that requires login; an encrypted PKCS#12 or PEM key). */
int mdg_creds_needs_pin(struct mdg_creds *c);

/* Logs in to the token / unlocks the file with the PIN. */
enum mdg_cstate mdg_creds_login(struct mdg_creds *c, const char *pin, struct mdg_cred_error *e);

/* Reads the certificate and finds the key (MDG_CS_IMPORT_ERROR if either is
 * missing or unreadable, MDG_CS_UNEXPECTED if the token went away). */
enum mdg_cstate mdg_creds_read(struct mdg_creds *c, struct mdg_cred_error *e);

/* The certificate and the private key, owned by c (valid after read). */
X509 *mdg_creds_cert(const struct mdg_creds *c);
EVP_PKEY *mdg_creds_key(const struct mdg_creds *c);

/* After a failed signature with mdg_creds_key: the state from OpenSSL's
 * error queue (drained), e.g. MDG_CS_UNEXPECTED for CKR_DEVICE_REMOVED. */
enum mdg_cstate mdg_creds_classify_failure(struct mdg_creds *c, struct mdg_cred_error *e);

void mdg_creds_free(struct mdg_creds *c);

/* Resets e to "nothing to say" (after a successful login, so an earlier
 * wrong PIN does not show up on a later screen). */
void mdg_cred_error_clear(struct mdg_cred_error *e);

#endif
