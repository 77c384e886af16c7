/* libFuzzer: the CRL parser and checks (DER or PEM) against the test PKI's
 * anchors and, for what passes, the import into a temporary store. The
 * fast path is compared with the reference (OpenSSL-only) path: whatever
 * the fast path takes, the reference must accept with the same result. */
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

static int same_entries(const struct mdg_crl_import *a, const struct mdg_crl_import *b)
{
	size_t i;

	if (a->n_entries != b->n_entries)
		return 0;
	for (i = 0; i < a->n_entries; i++) {
		const struct mdg_crl_entry *x = &a->entries[i], *y = &b->entries[i];

		if (x->serial_len != y->serial_len || memcmp(x->serial, y->serial, x->serial_len) != 0 ||
		    x->revoked_at != y->revoked_at || x->reason != y->reason)
			return 0;
	}
	return 1;
}

static void compare_paths(const uint8_t *data, size_t size)
{
	struct mdg_crl_parsed f, r;
	char err[512];
	int rf, rr;

	rf = mdg_crl_parse_mode(fuzz_anchors(), data, size, MDG_CRL_PATH_FAST_ONLY, &f, err, sizeof(err));
	if (rf != 0)
		return; /* declined: the reference decides */
	rr = mdg_crl_parse_mode(fuzz_anchors(), data, size, MDG_CRL_PATH_REFERENCE, &r, err, sizeof(err));
	if (rr != 0)
		abort(); /* the fast path accepted what the reference refuses */
	if (!same_entries(&f.imp, &r.imp) || f.imp.this_update != r.imp.this_update ||
	    f.imp.next_update != r.imp.next_update || f.imp.number_len != r.imp.number_len ||
	    memcmp(f.imp.number, r.imp.number, sizeof(f.imp.number)) != 0 ||
	    memcmp(f.imp.sha256, r.imp.sha256, sizeof(f.imp.sha256)) != 0 || f.imp.issuer_len != r.imp.issuer_len ||
	    memcmp(f.imp.issuer_der, r.imp.issuer_der, f.imp.issuer_len) != 0 || f.imp.dp_len != r.imp.dp_len ||
	    (f.imp.dp_der == NULL) != (r.imp.dp_der == NULL) ||
	    (f.imp.dp_len > 0 && memcmp(f.imp.dp_der, r.imp.dp_der, f.imp.dp_len) != 0))
		abort();
	mdg_crl_parsed_free(&r);
	mdg_crl_parsed_free(&f);
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
	compare_paths(data, size);
	memset(&p, 0, sizeof(p));
	if (mdg_crl_parse(fuzz_anchors(), data, size, &p, err, sizeof(err)) == 0) {
		enum mdg_crl_import_outcome oc;
		(void)store.ops->crl_import(store.cls, &p.imp, fuzz_now(), &oc, err, sizeof(err));
	}
	mdg_crl_parsed_free(&p);
	return 0;
}
