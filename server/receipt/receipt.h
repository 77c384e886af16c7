/* Receipts (DESIGN.md "Receipts and the log's Merkle tree"): the receipt
 * content of an acceptance, one line of JSON that follows from the stored
 * row alone, and the CMS SignedData over it by the window's receipt
 * certificate.
 *
 *   {"receiptId":…,"procedure":"revocation","issuer":…,"serial":…,
 *    "acceptedAt":…,"effectiveFrom":…,"reason":…,"requestSha256":…,
 *    "logIndex":N}
 *
 * UTF-8, no insignificant white space, members in that order; strings
 * escaped as jansson's JSON_COMPACT writes them (", \ and control
 * characters; nothing else). The content is also the log's leaf. */
#ifndef MDG_RECEIPT_H
#define MDG_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "store.h"

#define MDG_RECEIPT_CONTENT_MAX 8192 /* bytes of a receipt content */

/* What a receipt says; pointers borrowed for the call. */
struct mdg_receipt_fields {
	const char *receipt_id;
	const char *issuer;          /* RFC 4514 (names.c), UTF-8 */
	const unsigned char *serial; /* big-endian magnitude */
	size_t serial_len;
	const char *accepted_at; /* RFC 3339 as stored */
	const char *effective_from;
	const char *reason;
	const unsigned char *request_sha256; /* 32 bytes */
	uint64_t log_index;                  /* 0-based position in the log */
};

/* The content: *out malloc'd, NUL-terminated, owned by the caller; *len
 * excludes the NUL. 0, or -1 with err (a string not UTF-8, too long). */
int mdg_receipt_content(const struct mdg_receipt_fields *f, char **out, size_t *len, char *err, size_t errlen);

/* The content of a stored row: issuer printed from its DER, serial from
 * its magnitude, logIndex = seq - 1 (seq counts from 1 without gaps, the
 * hash chain's rule). 0, or -1 with err. */
int mdg_receipt_content_row(const struct mdg_acceptance_row *row, char **out, size_t *len, char *err, size_t errlen);

/* The receipt signer ([receipts] key and cert): owned by the struct. */
struct mdg_receipt_signer {
	EVP_PKEY *key;
	X509 *cert;             /* the receipt certificate */
	STACK_OF(X509) * chain; /* the intermediates after it in the file */
};

/* Loads the key (PEM, owner-only mode, unencrypted) and the certificate
 * file (PEM: the receipt certificate first, then any intermediates). The
 * key must be the certificate's; a keyUsage, if present, must allow
 * digitalSignature or nonRepudiation. 0, or -1 with err naming the file. */
int mdg_receipt_signer_load(struct mdg_receipt_signer *s, const char *key_path, const char *cert_path, char *err,
			    size_t errlen);

void mdg_receipt_signer_free(struct mdg_receipt_signer *s);

/* The CMS SignedData (DER) over content: id-data encapsulated, one
 * SignerInfo (issuer and serial) by s->cert with SHA-256, the certificate
 * and its intermediates included, signed attributes contentType,
 * messageDigest and signingTime = accepted_at (RFC 3339). *der is
 * OPENSSL_malloc'd, owned by the caller. 0, or -1 with err. */
int mdg_receipt_sign(const struct mdg_receipt_signer *s, const char *content, size_t len, const char *accepted_at,
		     unsigned char **der, size_t *derlen, char *err, size_t errlen);

/* The same as the answers carry it: base64 (RFC 4648 section 4, padded, one
 * line); *b64 malloc'd, NUL-terminated, owned by the caller. */
int mdg_receipt_sign_b64(const struct mdg_receipt_signer *s, const char *content, size_t len, const char *accepted_at,
			 char **b64, char *err, size_t errlen);

#endif
