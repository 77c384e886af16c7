/* libFuzzer: the request parser (CMS SignedData, DER or PEM, then the form)
 * and, when it parses, the request-signature check; plus the form parser
 * alone over the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "form.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mdg_request req;
	struct mdg_form form;
	const char *why = NULL;

	memset(&req, 0, sizeof(req));
	if (mdg_request_parse(data, size, &req, &why) == 0) {
		why = NULL;
		(void)mdg_request_verify(&req, &why);
	}
	mdg_request_free(&req);

	memset(&form, 0, sizeof(form));
	(void)mdg_form_parse(data, size, &form, &why);
	return 0;
}
