/* libFuzzer: the request parser (CMS SignedData, DER or PEM, then the form)
 * and, when it parses, the request-signature check; plus the form parser
 * alone over the same bytes. Differential: whatever our path accepts, the
 * strict OpenSSL reference (tests/unit/cmsref.h) must accept with the same
 * certificate, content and signer, or the target aborts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmsref.h"
#include "form.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* small, so that inputs also evict */
static struct mdg_certcache *cache;

static void cleanup(void)
{
	mdg_certcache_free(cache);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mdg_request req;
	struct mdg_form form;
	const char *why = NULL;

	if (cache == NULL) {
		cache = mdg_certcache_new_limits(16, 4);
		atexit(cleanup);
	}
	memset(&req, 0, sizeof(req));
	if (mdg_request_parse(data, size, cache, &req, &why) == 0) {
		why = NULL;
		if (mdg_request_verify(&req, &why) == 0 &&
		    !cmsref_accepts(req.der, req.der_len, req.cert, req.content, req.content_len))
			abort();
	}
	mdg_request_free(&req);

	memset(&form, 0, sizeof(form));
	(void)mdg_form_parse(data, size, &form, &why);
	return 0;
}
