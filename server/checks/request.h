/* The signed request: a CMS SignedData in DER (or PEM) holding the form.
 * mdg_request_parse does the format checks of DESIGN.md (step 2);
 * mdg_request_verify the request-signature check (step 5). */
#ifndef MDG_REQUEST_H
#define MDG_REQUEST_H

#include <stddef.h>
#include <openssl/x509.h>

#include "certcache.h"
#include "cms.h"
#include "form.h"

/* Which part of the format check a request failed (mdg_request_parse). */
enum mdg_request_part {
	MDG_REQUEST_OK = 0,
	MDG_REQUEST_NOT_DER, /* empty, PEM that is not a CMS, not strict DER */
	MDG_REQUEST_CMS,     /* not the SignedData shape, or sid */
	MDG_REQUEST_CERT,    /* the certificate does not parse */
	MDG_REQUEST_FORM,    /* the application form */
	MDG_REQUEST_NO_MEMORY,
};

struct mdg_request {
	unsigned char *der; /* the exact DER received (PEM decoded), owned */
	size_t der_len;
	unsigned char der_sha256[32];
	struct mdg_cms cms;            /* its pieces (mdg_cms_parse), pointing into der */
	X509 *cert;                    /* owned reference */
	unsigned char cert_sha256[32]; /* SHA-256 of the certificate's DER */
	const unsigned char *content;  /* the form's bytes, pointing into der */
	size_t content_len;
	struct mdg_form form;
	enum mdg_request_part failed; /* after mdg_request_parse returned -1 */
};

/* Parses body (copied): strict DER, the one SignedData shape of cms.h, the
 * certificate (taken from cache when it holds it, and put there when
 * parsed; cache may be NULL), the sid naming it, the form. No other parser
 * sees the CMS. Returns 0, or -1 with a short reason in *why and the part
 * that failed in req->failed; req must be freed with mdg_request_free either way. */
int mdg_request_parse(const unsigned char *body, size_t len, struct mdg_certcache *cache, struct mdg_request *req,
		      const char **why);

/* Verifies the CMS signature with the certificate's key over the exact
 * bytes received: algorithms per the allow-list; without signed attributes
 * over the content, with them over their DER SET, content-type (id-data)
 * and message-digest then required once each with one value; the
 * attributes RFC 5652 11 / RFC 2634 5.10 restrict (signing time, ESS
 * signing certificates, receipt request) at most once, single-valued, never
 * unsigned, no countersignature signed; an ESS signingCertificate(V2)
 * well formed and naming the certificate. Returns 0 or -1 with *why. */
int mdg_request_verify(struct mdg_request *req, const char **why);

void mdg_request_free(struct mdg_request *req);

/* mdg_request_verify keeps, per thread, verification contexts set up for
 * the keys and algorithms it has accepted (bounded; each holds a reference
 * to its key): a later request with the same key object and the same
 * algorithm DER verifies on a copy, with nothing fetched. They are freed
 * when the thread exits; this frees the calling thread's now (a test's
 * main thread, before it checks for leaks). */
void mdg_request_thread_cleanup(void);
/* How many verifications ran on this thread's templates (for tests). */
size_t mdg_request_thread_hits(void);

#endif
