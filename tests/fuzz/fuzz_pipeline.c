/* libFuzzer: the whole check pipeline over one request body, on a temporary
 * SQLite store holding the checked-in CRLs, with the test PKI's anchors, a
 * frozen clock and the corpus's fixed nonce key, so valid seeds reach every
 * result. Input: one selector byte, then the body.
 *   bit 0: procedure (0 validity-check, 1 revocation)
 *   bit 1: Content-Type application/cms instead of application/pkcs7-mime
 *   bit 2: no Content-Type   bit 3: too_large set (over max_body) */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mdg_config cfg;
static struct mdg_nonce_key key;
static struct mdg_pipeline pipe_;
static struct mdg_store store;
static int ready;

static void cleanup(void)
{
	mdg_store_close(&store);
	mdg_certcache_free(pipe_.cache);
}

static void setup(void)
{
	mdg_config_defaults(&cfg);
	memset(key.key, FUZZ_NONCE_KEY_BYTE, sizeof(key.key));
	pipe_.cfg = &cfg;
	pipe_.anchors = fuzz_anchors();
	pipe_.nonce_key = &key;
	pipe_.cache = mdg_certcache_new(64);
	fuzz_store_open(&store, 1);
	atexit(cleanup);
	ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mdg_input in;
	struct mdg_outcome out;

	if (!ready)
		setup();
	if (size < 1)
		return 0;
	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	in.proc = (data[0] & 1) ? MDG_PROC_REVOCATION : MDG_PROC_VALIDITY;
	in.content_type = (data[0] & 4) ? NULL : (data[0] & 2) ? "application/cms" : "application/pkcs7-mime";
	in.too_large = (data[0] & 8) != 0;
	in.body = data + 1;
	in.len = size - 1;
	in.client_addr = "127.0.0.1";
	in.now = fuzz_now();
	mdg_process(&pipe_, &store, &in, &out);
	/* every outcome maps to a status of the contract */
	if (out.status < 200 || out.status > 599)
		__builtin_trap();
	return 0;
}
