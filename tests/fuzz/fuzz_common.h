/* Shared set-up of the libFuzzer targets: the fixture data checked in under
 * tests/fuzz/pki (the test PKI's anchors and CRLs, frozen when the corpus was
 * made) and a temporary SQLite store. Fuzz-only code: it aborts on set-up
 * failure, which libFuzzer reports clearly. */
#ifndef MDG_FUZZ_COMMON_H
#define MDG_FUZZ_COMMON_H

#include <time.h>

#include "anchors.h"
#include "store.h"

#ifndef MDG_FUZZ_DATA
#define MDG_FUZZ_DATA "tests/fuzz"
#endif

/* A private temporary directory (made once, removed at exit). */
const char *fuzz_tmpdir(void);

/* The anchors of tests/fuzz/pki/anchors (loaded once). */
const struct mdg_anchors *fuzz_anchors(void);

/* The frozen clock: tests/fuzz/pki/now (Unix seconds, when the corpus was made). */
time_t fuzz_now(void);

/* A fresh database in a temporary directory, migrated and opened; if
 * with_crls, the CRLs of tests/fuzz/pki/crls are imported. Removed at exit. */
void fuzz_store_open(struct mdg_store *st, int with_crls);

/* The fixed nonce key of the corpus: 32 bytes of 0x6d ('m'). */
#define FUZZ_NONCE_KEY_BYTE 0x6d

#endif
