/* The signed request: a CMS SignedData in DER (or PEM) holding the form.
 * mdg_request_parse does the format checks of DESIGN.md (step 2);
 * mdg_request_verify the request-signature check (step 5). */
#ifndef MDG_REQUEST_H
#define MDG_REQUEST_H

#include <stddef.h>
#include <openssl/cms.h>
#include <openssl/x509.h>

#include "certcache.h"
#include "form.h"

struct mdg_request {
	unsigned char *der;		/* the exact DER received (PEM decoded), owned */
	size_t der_len;
	unsigned char der_sha256[32];
	CMS_ContentInfo *cms;		/* owned */
	CMS_SignerInfo *si;		/* borrowed from cms */
	X509 *cert;			/* owned reference */
	unsigned char cert_sha256[32];	/* SHA-256 of the certificate's DER */
	const unsigned char *content;	/* the form's bytes, borrowed from cms */
	size_t content_len;
	struct mdg_form form;
};

/* Parses body (copied). The request's certificate is taken from cache when
 * it holds it, and put there when parsed (cache may be NULL). Returns 0, or
 * -1 with a short reason in *why; req must be freed with mdg_request_free
 * either way. */
int mdg_request_parse(const unsigned char *body, size_t len, struct mdg_certcache *cache, struct mdg_request *req,
		      const char **why);

/* Verifies the CMS signature with the certificate's key (algorithms per
 * the allow-list, signed attributes required, message digest and content
 * type matched, ESS signing certificate if present). Returns 0 or -1. */
int mdg_request_verify(struct mdg_request *req, const char **why);

void mdg_request_free(struct mdg_request *req);

#endif
