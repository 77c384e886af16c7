/* libFuzzer: the CRL parser and checks (DER or PEM) against the test PKI's
 * anchors and, for what passes, the import into a temporary store. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crl.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mdg_store store;
static int ready;

static void cleanup(void)
{
	mdg_store_close(&store);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mdg_crl_parsed p;
	char err[512];

	if (!ready) {
		fuzz_store_open(&store, 0);
		atexit(cleanup);
		ready = 1;
	}
	memset(&p, 0, sizeof(p));
	if (mdg_crl_parse(fuzz_anchors(), data, size, &p, err, sizeof(err)) == 0) {
		enum mdg_crl_import_outcome oc;
		(void)store.ops->crl_import(store.cls, &p.imp, fuzz_now(), &oc, err, sizeof(err));
	}
	mdg_crl_parsed_free(&p);
	return 0;
}
