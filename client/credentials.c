#include "credentials.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libp11.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "files.h"

#define CRED_FILE_MAX (1024 * 1024)

/* PKCS#11 return values the client tells apart (PKCS#11 v2.40 §11.1). */
#define P11_CKR_DEVICE_ERROR 0x30UL
#define P11_CKR_DEVICE_REMOVED 0x32UL
#define P11_CKR_PIN_INCORRECT 0xA0UL
#define P11_CKR_PIN_LEN_RANGE 0xA2UL
#define P11_CKR_PIN_LOCKED 0xA4UL
#define P11_CKR_SESSION_CLOSED 0xB0UL
#define P11_CKR_SESSION_HANDLE_INVALID 0xB3UL
#define P11_CKR_TOKEN_NOT_PRESENT 0xE0UL
#define P11_CKR_TOKEN_NOT_RECOGNIZED 0xE1UL
#define P11_CKR_USER_ALREADY_LOGGED_IN 0x100UL

struct mdg_creds {
	struct mdg_cred_opts o;
	X509 *cert;
	EVP_PKEY *key;
	/* files */
	unsigned char *file;
	size_t file_len;
	char *pin; /* file password, wiped on free */
	/* PKCS#11 */
	PKCS11_CTX *ctx;
	int loaded;
	PKCS11_SLOT *slots;
	unsigned n_slots;
	PKCS11_SLOT *slot;
	int logged_in;
};

static void err_set(struct mdg_cred_error *e, enum mdg_msg_id id, const char *arg)
{
	mdg_msg_set(&e->msg, id, 0, arg, NULL);
}

static const char *ckr_name(unsigned long ckr)
{
	switch (ckr) {
	case P11_CKR_DEVICE_ERROR:
		return "CKR_DEVICE_ERROR";
	case P11_CKR_DEVICE_REMOVED:
		return "CKR_DEVICE_REMOVED";
	case P11_CKR_PIN_INCORRECT:
		return "CKR_PIN_INCORRECT";
	case P11_CKR_PIN_LEN_RANGE:
		return "CKR_PIN_LEN_RANGE";
	case P11_CKR_PIN_LOCKED:
		return "CKR_PIN_LOCKED";
	case P11_CKR_SESSION_CLOSED:
		return "CKR_SESSION_CLOSED";
	case P11_CKR_SESSION_HANDLE_INVALID:
		return "CKR_SESSION_HANDLE_INVALID";
	case P11_CKR_TOKEN_NOT_PRESENT:
		return "CKR_TOKEN_NOT_PRESENT";
	case P11_CKR_TOKEN_NOT_RECOGNIZED:
		return "CKR_TOKEN_NOT_RECOGNIZED";
	default:
		return NULL;
	}
}

/* The last PKCS#11 return value libp11 put on OpenSSL's error queue (the
 * queue is drained), or 0. */
static unsigned long drain_ckr(void)
{
	unsigned long e, ckr = 0;
	int lib = ERR_get_CKR_code();

	while ((e = ERR_get_error()) != 0)
		if (lib != 0 && ERR_GET_LIB(e) == lib)
			ckr = (unsigned long)ERR_GET_REASON(e);
	return ckr;
}

static enum mdg_cstate state_of_ckr(unsigned long ckr, enum mdg_cstate otherwise)
{
	switch (ckr) {
	case P11_CKR_PIN_INCORRECT:
	case P11_CKR_PIN_LEN_RANGE:
		return MDG_CS_PIN_INCORRECT;
	case P11_CKR_PIN_LOCKED:
		return MDG_CS_PIN_LOCKED;
	case P11_CKR_DEVICE_ERROR:
	case P11_CKR_DEVICE_REMOVED:
	case P11_CKR_SESSION_CLOSED:
	case P11_CKR_SESSION_HANDLE_INVALID:
	case P11_CKR_TOKEN_NOT_PRESENT:
	case P11_CKR_TOKEN_NOT_RECOGNIZED:
		return MDG_CS_UNEXPECTED;
	default:
		return otherwise;
	}
}

static void note_ckr(struct mdg_cred_error *e, unsigned long ckr, enum mdg_p11_op op)
{
	const char *n = ckr_name(ckr);
	char hex[32] = "";

	e->ckr = ckr;
	if (n == NULL && ckr != 0)
		snprintf(hex, sizeof(hex), "CKR 0x%lx", ckr);
	mdg_msg_set(&e->msg, MDG_MSG_CKR, op, NULL, n != NULL ? n : hex);
}

/* ---------------------------------------------------------------- PKCS#11 */

static PKCS11_SLOT *find_token(struct mdg_creds *c)
{
	for (unsigned i = 0; i < c->n_slots; i++) {
		PKCS11_TOKEN *t = c->slots[i].token;
		if (t != NULL && t->initialized && t->label != NULL && strcmp(t->label, c->o.token_label) == 0)
			return &c->slots[i];
	}
	return NULL;
}

static void token_flags(const PKCS11_TOKEN *t, struct mdg_cred_error *e)
{
	e->tries_left = t->userPinFinalTry ? 1 : -1;
	e->count_low = t->userPinCountLow != 0;
}

static enum mdg_cstate p11_open(struct mdg_creds *c, struct mdg_cred_error *e)
{
	if ((c->ctx = PKCS11_CTX_new()) == NULL) {
		err_set(e, MDG_MSG_OOM, NULL);
		return MDG_CS_CARD_NOT_READY;
	}
	if (PKCS11_CTX_load(c->ctx, c->o.module) != 0) {
		drain_ckr();
		err_set(e, MDG_MSG_MODULE_LOAD, c->o.module);
		return MDG_CS_CARD_NOT_READY;
	}
	c->loaded = 1;
	if (PKCS11_enumerate_slots(c->ctx, &c->slots, &c->n_slots) != 0) {
		note_ckr(e, drain_ckr(), MDG_OP_SLOTS);
		c->slots = NULL;
		c->n_slots = 0;
		return MDG_CS_CARD_NOT_READY;
	}
	if ((c->slot = find_token(c)) == NULL) {
		err_set(e, MDG_MSG_NO_TOKEN, c->o.token_label);
		return MDG_CS_CARD_NOT_READY;
	}
	token_flags(c->slot->token, e);
	if (c->slot->token->userPinLocked) {
		err_set(e, MDG_MSG_TOKEN_LOCKED, NULL);
		return MDG_CS_PIN_LOCKED;
	}
	return MDG_CS_OK;
}

static enum mdg_cstate p11_login(struct mdg_creds *c, const char *pin, struct mdg_cred_error *e)
{
	if (PKCS11_login(c->slot, 0, pin) == 0) {
		c->logged_in = 1;
		return MDG_CS_OK;
	}
	unsigned long ckr = drain_ckr();
	if (ckr == P11_CKR_USER_ALREADY_LOGGED_IN) {
		c->logged_in = 1;
		return MDG_CS_OK;
	}
	note_ckr(e, ckr, MDG_OP_LOGIN);
	enum mdg_cstate st = state_of_ckr(ckr, MDG_CS_UNEXPECTED);
	/* ask the token again what it says about the tries left */
	PKCS11_release_all_slots(c->ctx, c->slots, c->n_slots);
	c->slots = NULL;
	c->n_slots = 0;
	c->slot = NULL;
	if (PKCS11_enumerate_slots(c->ctx, &c->slots, &c->n_slots) == 0) {
		PKCS11_SLOT *s = find_token(c);
		if (s == NULL) {
			err_set(e, MDG_MSG_TOKEN_GONE, NULL);
			e->ckr = 0;
			return MDG_CS_UNEXPECTED;
		}
		c->slot = s;
		token_flags(s->token, e);
		if (s->token->userPinLocked)
			st = MDG_CS_PIN_LOCKED;
	} else {
		c->slots = NULL;
		c->n_slots = 0;
		drain_ckr();
		return MDG_CS_UNEXPECTED;
	}
	return st;
}

static enum mdg_cstate p11_read(struct mdg_creds *c, struct mdg_cred_error *e)
{
	PKCS11_KEY *keys = NULL, *key = NULL;
	PKCS11_CERT *certs = NULL, *cert = NULL;
	unsigned nk = 0, nc = 0;

	if (PKCS11_enumerate_keys(c->slot->token, &keys, &nk) != 0) {
		unsigned long ckr = drain_ckr();
		note_ckr(e, ckr, MDG_OP_KEYS);
		return state_of_ckr(ckr, MDG_CS_IMPORT_ERROR);
	}
	for (unsigned i = 0; i < nk; i++)
		if (keys[i].label != NULL && strcmp(keys[i].label, c->o.key_label) == 0 && keys[i].isPrivate)
			key = &keys[i];
	if (key == NULL) {
		err_set(e, MDG_MSG_NO_KEY, c->o.key_label);
		return MDG_CS_IMPORT_ERROR;
	}
	if (PKCS11_enumerate_certs(c->slot->token, &certs, &nc) != 0) {
		unsigned long ckr = drain_ckr();
		note_ckr(e, ckr, MDG_OP_CERTS);
		return state_of_ckr(ckr, MDG_CS_IMPORT_ERROR);
	}
	/* the key's certificate: same CKA_ID, else the same label */
	for (unsigned i = 0; i < nc && cert == NULL; i++)
		if (key->id_len > 0 && certs[i].id_len == key->id_len && memcmp(certs[i].id, key->id, key->id_len) == 0)
			cert = &certs[i];
	for (unsigned i = 0; i < nc && cert == NULL; i++)
		if (certs[i].label != NULL && strcmp(certs[i].label, c->o.key_label) == 0)
			cert = &certs[i];
	if (cert == NULL || cert->x509 == NULL) {
		err_set(e, MDG_MSG_NO_CERT, c->o.key_label);
		return MDG_CS_IMPORT_ERROR;
	}
	if ((c->cert = X509_dup(cert->x509)) == NULL) {
		err_set(e, MDG_MSG_OOM, NULL);
		return MDG_CS_IMPORT_ERROR;
	}
	if ((c->key = PKCS11_get_private_key(key)) == NULL) {
		unsigned long ckr = drain_ckr();
		note_ckr(e, ckr, MDG_OP_KEY);
		return state_of_ckr(ckr, MDG_CS_IMPORT_ERROR);
	}
	return MDG_CS_OK;
}

/* ---------------------------------------------------------------- files */

/* A file that is not there is told as such ("No such file", with its
 * path): a file is not a card. */
static int file_missing(const char *path, struct mdg_cred_error *e)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return 0;
	mdg_msg_set(&e->msg, errno == ENOENT ? MDG_MSG_FILE_MISSING : MDG_MSG_FILE_UNREADABLE, errno, path, NULL);
	return 1;
}

static enum mdg_cstate read_whole(const char *path, unsigned char **buf, size_t *len, struct mdg_cred_error *e)
{
	char err[256];

	if (file_missing(path, e))
		return MDG_CS_IMPORT_ERROR;
	if (mdg_read_file(path, CRED_FILE_MAX, 0, buf, len, err, sizeof(err)) != 0) {
		mdg_msg_set(&e->msg, MDG_MSG_FILE_UNREADABLE, 0, path, err);
		return MDG_CS_IMPORT_ERROR;
	}
	return MDG_CS_OK;
}

static int pem_pass(char *buf, int size, int rwflag, void *u)
{
	const char *pin = u;
	size_t n = pin ? strlen(pin) : 0;

	if (pin == NULL || n >= (size_t)size)
		return -1;
	memcpy(buf, pin, n);
	return (int)n;
}

static int pkcs12_needs_password(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)len);
	int needs = 0;

	if (p12 == NULL)
		return 0;
	if (PKCS12_mac_present(p12))
		needs = !PKCS12_verify_mac(p12, "", 0) && !PKCS12_verify_mac(p12, NULL, 0);
	PKCS12_free(p12);
	return needs;
}

static enum mdg_cstate pkcs12_read(struct mdg_creds *c, struct mdg_cred_error *e)
{
	const unsigned char *p = c->file;
	PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)c->file_len);
	STACK_OF(X509) *ca = NULL;
	const char *pass = c->pin ? c->pin : "";
	enum mdg_cstate st = MDG_CS_IMPORT_ERROR;

	if (p12 == NULL) {
		err_set(e, MDG_MSG_NOT_PKCS12, c->o.pkcs12_file);
		goto out;
	}
	if (PKCS12_mac_present(p12) && !PKCS12_verify_mac(p12, pass, -1) &&
	    !(c->pin == NULL && PKCS12_verify_mac(p12, NULL, 0))) {
		err_set(e, MDG_MSG_FILE_PASSWORD, c->o.pkcs12_file);
		st = MDG_CS_PIN_INCORRECT;
		goto out;
	}
	if (!PKCS12_parse(p12, pass, &c->key, &c->cert, &ca) &&
	    !(c->pin == NULL && PKCS12_parse(p12, NULL, &c->key, &c->cert, &ca))) {
		err_set(e, MDG_MSG_FILE_BAD, c->o.pkcs12_file);
		goto out;
	}
	if (c->cert == NULL || c->key == NULL) {
		err_set(e, c->cert == NULL ? MDG_MSG_P12_NO_CERT : MDG_MSG_P12_NO_KEY, c->o.pkcs12_file);
		goto out;
	}
	st = MDG_CS_OK;
out:
	ERR_clear_error();
	sk_X509_pop_free(ca, X509_free);
	PKCS12_free(p12);
	return st;
}

static enum mdg_cstate pem_read(struct mdg_creds *c, struct mdg_cred_error *e)
{
	BIO *b = NULL;
	enum mdg_cstate st = MDG_CS_IMPORT_ERROR;

	if (file_missing(c->o.cert_file, e))
		goto out;
	if ((b = BIO_new_file(c->o.cert_file, "r")) == NULL ||
	    (c->cert = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
		err_set(e, MDG_MSG_PEM_NO_CERT, c->o.cert_file);
		goto out;
	}
	BIO_free(b);
	b = NULL;
	if (file_missing(c->o.key_file, e))
		goto out;
	if ((b = BIO_new_file(c->o.key_file, "r")) == NULL) {
		err_set(e, MDG_MSG_PEM_NO_KEY, c->o.key_file);
		goto out;
	}
	if ((c->key = PEM_read_bio_PrivateKey(b, NULL, pem_pass, c->pin)) == NULL) {
		/* an encrypted key that does not open with the password given */
		if (c->pin != NULL) {
			err_set(e, MDG_MSG_FILE_PASSWORD, c->o.key_file);
			st = MDG_CS_PIN_INCORRECT;
		} else {
			err_set(e, MDG_MSG_PEM_NO_KEY, c->o.key_file);
		}
		goto out;
	}
	if (!X509_check_private_key(c->cert, c->key)) {
		err_set(e, MDG_MSG_KEY_MISMATCH, c->o.key_file);
		goto out;
	}
	st = MDG_CS_OK;
out:
	ERR_clear_error();
	BIO_free(b);
	return st;
}

/* ---------------------------------------------------------------- interface */

enum mdg_cstate mdg_creds_open(const struct mdg_cred_opts *o, struct mdg_creds **out, struct mdg_cred_error *e)
{
	struct mdg_creds *c = calloc(1, sizeof(*c));

	mdg_cred_error_clear(e);
	*out = c;
	if (c == NULL) {
		err_set(e, MDG_MSG_OOM, NULL);
		return MDG_CS_USAGE;
	}
	c->o = *o;
	switch (o->kind) {
	case MDG_CRED_PKCS11:
		return p11_open(c, e);
	case MDG_CRED_PKCS12:
		return read_whole(o->pkcs12_file, &c->file, &c->file_len, e);
	case MDG_CRED_PEM:
		if (file_missing(o->cert_file, e))
			return MDG_CS_IMPORT_ERROR;
		return read_whole(o->key_file, &c->file, &c->file_len, e);
	}
	return MDG_CS_USAGE;
}

int mdg_creds_needs_pin(struct mdg_creds *c)
{
	switch (c->o.kind) {
	case MDG_CRED_PKCS11:
		return c->slot != NULL && c->slot->token->loginRequired && !c->logged_in;
	case MDG_CRED_PKCS12:
		return c->pin == NULL && pkcs12_needs_password(c->file, c->file_len);
	case MDG_CRED_PEM:
		return c->pin == NULL && c->file != NULL && memmem(c->file, c->file_len, "ENCRYPTED", 9) != NULL;
	}
	return 0;
}

enum mdg_cstate mdg_creds_login(struct mdg_creds *c, const char *pin, struct mdg_cred_error *e)
{
	if (c->o.kind == MDG_CRED_PKCS11)
		return p11_login(c, pin, e);
	if (c->pin != NULL)
		OPENSSL_clear_free(c->pin, strlen(c->pin));
	if ((c->pin = strdup(pin)) == NULL) {
		err_set(e, MDG_MSG_OOM, NULL);
		return MDG_CS_USAGE;
	}
	if (c->o.kind == MDG_CRED_PKCS12 && pkcs12_needs_password(c->file, c->file_len)) {
		const unsigned char *p = c->file;
		PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)c->file_len);
		int ok = p12 != NULL && PKCS12_verify_mac(p12, pin, -1);
		PKCS12_free(p12);
		ERR_clear_error();
		if (!ok) {
			err_set(e, MDG_MSG_FILE_PASSWORD, c->o.pkcs12_file);
			OPENSSL_clear_free(c->pin, strlen(c->pin));
			c->pin = NULL;
			return MDG_CS_PIN_INCORRECT;
		}
	}
	return MDG_CS_OK;
}

enum mdg_cstate mdg_creds_read(struct mdg_creds *c, struct mdg_cred_error *e)
{
	switch (c->o.kind) {
	case MDG_CRED_PKCS11:
		return p11_read(c, e);
	case MDG_CRED_PKCS12:
		return pkcs12_read(c, e);
	case MDG_CRED_PEM:
		return pem_read(c, e);
	}
	return MDG_CS_USAGE;
}

X509 *mdg_creds_cert(const struct mdg_creds *c)
{
	return c->cert;
}

EVP_PKEY *mdg_creds_key(const struct mdg_creds *c)
{
	return c->key;
}

enum mdg_cstate mdg_creds_classify_failure(struct mdg_creds *c, struct mdg_cred_error *e)
{
	unsigned long ckr = drain_ckr();

	if (c->o.kind != MDG_CRED_PKCS11) {
		err_set(e, MDG_MSG_SIGN_FAILED, NULL);
		return MDG_CS_IMPORT_ERROR;
	}
	note_ckr(e, ckr, MDG_OP_SIGN);
	return state_of_ckr(ckr, MDG_CS_UNEXPECTED);
}

void mdg_cred_error_clear(struct mdg_cred_error *e)
{
	memset(e, 0, sizeof(*e));
	e->tries_left = -1;
}

void mdg_creds_free(struct mdg_creds *c)
{
	if (c == NULL)
		return;
	EVP_PKEY_free(c->key);
	X509_free(c->cert);
	if (c->pin != NULL)
		OPENSSL_clear_free(c->pin, strlen(c->pin));
	free(c->file);
	if (c->ctx != NULL) {
		if (c->slots != NULL)
			PKCS11_release_all_slots(c->ctx, c->slots, c->n_slots);
		if (c->loaded)
			PKCS11_CTX_unload(c->ctx);
		PKCS11_CTX_free(c->ctx);
	}
	free(c);
}
