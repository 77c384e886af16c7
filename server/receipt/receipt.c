/* Receipt content and the CMS receipt (see receipt.h). */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "b64.h"
#include "files.h"
#include "hex.h"
#include "jsonw.h"
#include "names.h"
#include "receipt.h"
#include "timefmt.h"

#define FILE_MAX (1024 * 1024)

int mdg_receipt_content(const struct mdg_receipt_fields *f, char **out, size_t *len, char *err, size_t errlen)
{
	struct mdg_jsonw w;
	char serial[2 * MDG_SERIAL_MAX + 1], digest[65];
	const unsigned char *sp = f->serial;
	size_t sn = f->serial_len;
	const char *bad = NULL;
	char *text;

	*out = NULL;
	*len = 0;
	/* serial: lowercase hex without leading zeros ("0" for zero) */
	while (sn > 0 && *sp == 0) {
		sp++;
		sn--;
	}
	if (sn > MDG_SERIAL_MAX || f->request_sha256 == NULL) {
		snprintf(err, errlen, "receipt content: %s",
			 f->request_sha256 == NULL ? "no request SHA-256" : "serial number longer than 32 bytes");
		return -1;
	}
	if (sn == 0) {
		strcpy(serial, "0");
	} else {
		mdg_hex_lower(sp, sn, serial);
		if (serial[0] == '0')
			memmove(serial, serial + 1, strlen(serial));
	}
	mdg_hex_lower(f->request_sha256, 32, digest);
	/* DESIGN.md's member order; a member left out (missing or not UTF-8)
	 * makes no content */
	mdg_jsonw_init(&w);
	mdg_jsonw_open_object(&w);
	if (!mdg_jsonw_str(&w, "receiptId", f->receipt_id))
		bad = "receiptId";
	mdg_jsonw_str(&w, "procedure", "revocation");
	if (!mdg_jsonw_str(&w, "issuer", f->issuer) && !bad)
		bad = "issuer";
	mdg_jsonw_str(&w, "serial", serial);
	if (!mdg_jsonw_str(&w, "acceptedAt", f->accepted_at) && !bad)
		bad = "acceptedAt";
	if (!mdg_jsonw_str(&w, "effectiveFrom", f->effective_from) && !bad)
		bad = "effectiveFrom";
	if (!mdg_jsonw_str(&w, "reason", f->reason) && !bad)
		bad = "reason";
	mdg_jsonw_str(&w, "requestSha256", digest);
	mdg_jsonw_int(&w, "logIndex", (long long)f->log_index);
	mdg_jsonw_close_object(&w);
	if (bad != NULL) {
		mdg_jsonw_discard(&w);
		snprintf(err, errlen, "receipt content: %s is missing or not UTF-8", bad);
		return -1;
	}
	if ((text = mdg_jsonw_finish(&w, len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (*len > MDG_RECEIPT_CONTENT_MAX) {
		free(text);
		*len = 0;
		snprintf(err, errlen, "receipt content: longer than %d bytes", MDG_RECEIPT_CONTENT_MAX);
		return -1;
	}
	*out = text;
	return 0;
}

/* The last issuer this thread printed: a window has a handful of anchors,
 * and every acceptance (its leaf) and every receipt and proof (the content
 * again) prints one; decoding and printing the name was most of the
 * content's cost (docs/performance.md, "Receipts (issue 15)"). Equal DER,
 * equal text: the cache is keyed by the bytes. */
struct issuer_text {
	size_t der_len; /* 0: empty */
	unsigned char der[512];
	char text[2048];
};
static _Thread_local struct issuer_text last_issuer;

int mdg_receipt_content_row(const struct mdg_acceptance_row *row, char **out, size_t *len, char *err, size_t errlen)
{
	struct mdg_receipt_fields f;
	struct issuer_text *c = &last_issuer;
	const unsigned char *p = row->issuer_der;
	X509_NAME *name = NULL;
	char issuer[2048];
	int rc;

	*out = NULL;
	*len = 0;
	if (row->seq < 1 || row->request_sha256 == NULL || row->request_sha256_len != 32) {
		snprintf(err, errlen,
			 "acceptance %" PRId64 ": no sequence number or request SHA-256 to "
			 "make its receipt content from",
			 row->seq);
		return -1;
	}
	if (p != NULL && c->der_len != 0 && row->issuer_len == c->der_len && memcmp(p, c->der, c->der_len) == 0) {
		memcpy(issuer, c->text, sizeof(issuer));
	} else {
		if (p == NULL || row->issuer_len > LONG_MAX ||
		    (name = d2i_X509_NAME(NULL, &p, (long)row->issuer_len)) == NULL ||
		    p != row->issuer_der + row->issuer_len) {
			X509_NAME_free(name);
			ERR_clear_error();
			snprintf(err, errlen, "acceptance %" PRId64 ": its issuer is not a DER name", row->seq);
			return -1;
		}
		mdg_name_rfc4514(name, issuer, sizeof(issuer));
		X509_NAME_free(name);
		c->der_len = 0;
		if (row->issuer_len > 0 && row->issuer_len <= sizeof(c->der)) {
			memcpy(c->der, row->issuer_der, row->issuer_len);
			memcpy(c->text, issuer, sizeof(c->text));
			c->der_len = row->issuer_len;
		}
	}
	memset(&f, 0, sizeof(f));
	f.receipt_id = row->receipt_id;
	f.issuer = issuer;
	f.serial = row->serial;
	f.serial_len = row->serial_len;
	f.accepted_at = row->accepted_at;
	f.effective_from = row->effective_from;
	f.reason = row->reason;
	f.request_sha256 = row->request_sha256;
	f.log_index = (uint64_t)(row->seq - 1);
	rc = mdg_receipt_content(&f, out, len, err, errlen);
	return rc;
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int mdg_receipt_signer_load(struct mdg_receipt_signer *s, const char *key_path, const char *cert_path, char *err,
			    size_t errlen)
{
	unsigned char *kbuf = NULL, *cbuf = NULL;
	size_t klen = 0, clen = 0;
	BIO *b = NULL;
	X509 *x = NULL;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (mdg_read_file(key_path, FILE_MAX, 1, &kbuf, &klen, err, errlen) != 0)
		goto out;
	if ((b = BIO_new_mem_buf(kbuf, (int)klen)) == NULL ||
	    (s->key = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL)) == NULL) {
		snprintf(err, errlen, "%s: not a PEM private key (an unencrypted key is needed)", key_path);
		goto out;
	}
	BIO_free(b);
	b = NULL;
	if (mdg_read_file(cert_path, FILE_MAX, 0, &cbuf, &clen, err, errlen) != 0)
		goto out;
	if ((b = BIO_new_mem_buf(cbuf, (int)clen)) == NULL || (s->chain = sk_X509_new_null()) == NULL) {
		snprintf(err, errlen, "%s: out of memory", cert_path);
		goto out;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (s->cert == NULL) {
			s->cert = x;
		} else if (!sk_X509_push(s->chain, x)) {
			X509_free(x);
			snprintf(err, errlen, "%s: out of memory", cert_path);
			goto out;
		}
	}
	if (s->cert == NULL) {
		snprintf(err, errlen, "%s: no PEM certificate", cert_path);
		goto out;
	}
	if (X509_check_private_key(s->cert, s->key) != 1) {
		snprintf(err, errlen, "%s: the receipt key %s is not the key of the certificate", cert_path, key_path);
		goto out;
	}
	if ((X509_get_extension_flags(s->cert) & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(s->cert) & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION))) {
		snprintf(err, errlen, "%s: the receipt certificate's keyUsage allows no signatures", cert_path);
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	BIO_free(b);
	OPENSSL_clear_free(kbuf, klen);
	free(cbuf);
	if (rc != 0)
		mdg_receipt_signer_free(s);
	return rc;
}

void mdg_receipt_signer_free(struct mdg_receipt_signer *s)
{
	EVP_PKEY_free(s->key);
	X509_free(s->cert);
	sk_X509_pop_free(s->chain, X509_free);
	memset(s, 0, sizeof(*s));
}

int mdg_receipt_sign(const struct mdg_receipt_signer *s, const char *content, size_t len, const char *accepted_at,
		     unsigned char **der, size_t *derlen, char *err, size_t errlen)
{
	const unsigned int flags = CMS_PARTIAL | CMS_BINARY | CMS_NOSMIMECAP;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	ASN1_TIME *tm = NULL;
	BIO *in = NULL;
	unsigned char *out = NULL;
	time_t t;
	int i, n, rc = -1;

	*der = NULL;
	*derlen = 0;
	if (accepted_at == NULL || mdg_rfc3339_parse(accepted_at, &t) != 0) {
		snprintf(err, errlen, "receipt: acceptedAt \"%s\" is not an RFC 3339 time",
			 accepted_at != NULL ? accepted_at : "");
		return -1;
	}
	if (len > INT_MAX || (tm = ASN1_TIME_set(NULL, t)) == NULL) {
		snprintf(err, errlen, "receipt: bad content or time");
		goto out;
	}
	/* CMS_PARTIAL: the signer is added, the signature made at CMS_final,
	 * after signingTime is set (CMS_final adds the current time only when
	 * the attribute is absent) */
	if ((cms = CMS_sign(NULL, NULL, NULL, NULL, flags)) == NULL ||
	    (si = CMS_add1_signer(cms, s->cert, s->key, EVP_sha256(), flags)) == NULL ||
	    CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, ASN1_STRING_type(tm), tm, -1) != 1) {
		snprintf(err, errlen, "receipt: cannot set up the SignedData");
		goto out;
	}
	for (i = 0; i < sk_X509_num(s->chain); i++)
		if (CMS_add1_cert(cms, sk_X509_value(s->chain, i)) != 1) {
			snprintf(err, errlen, "receipt: cannot add an intermediate certificate");
			goto out;
		}
	if ((in = BIO_new_mem_buf(content, (int)len)) == NULL || CMS_final(cms, in, NULL, CMS_BINARY) != 1) {
		snprintf(err, errlen, "receipt: signing failed");
		goto out;
	}
	if ((n = i2d_CMS_ContentInfo(cms, &out)) <= 0) {
		snprintf(err, errlen, "receipt: cannot encode the SignedData");
		goto out;
	}
	*der = out;
	*derlen = (size_t)n;
	rc = 0;
out:
	ERR_clear_error();
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	ASN1_TIME_free(tm);
	return rc;
}

int mdg_receipt_sign_b64(const struct mdg_receipt_signer *s, const char *content, size_t len, const char *accepted_at,
			 char **b64, char *err, size_t errlen)
{
	unsigned char *der = NULL;
	size_t derlen = 0;

	*b64 = NULL;
	if (mdg_receipt_sign(s, content, len, accepted_at, &der, &derlen, err, errlen) != 0)
		return -1;
	if ((*b64 = malloc(MDG_B64_LEN(derlen) + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		OPENSSL_free(der);
		return -1;
	}
	mdg_b64_encode(der, derlen, *b64);
	OPENSSL_free(der);
	return 0;
}
