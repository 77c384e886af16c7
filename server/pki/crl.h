/* CRL import: parse (DER or PEM), check against DESIGN.md "CRLs", verify the
 * signature with an anchor of the CRL's issuer name valid at thisUpdate, and
 * turn it into a struct mdg_crl_import for the store. */
#ifndef MDG_CRL_H
#define MDG_CRL_H

#include <stddef.h>
#include <time.h>
#include "anchors.h"
#include "store.h"

struct mdg_crl_parsed {
	struct mdg_crl_import imp; /* pointers below are owned here */
	unsigned char *issuer_der;
	unsigned char *dp_der;
	unsigned char *dp_key;
	struct mdg_crl_entry *entries;
};

/* Returns 0 with *out filled, or -1 with a clear message for the operator. */
int mdg_crl_parse(const struct mdg_anchors *anchors, const unsigned char *data, size_t len, struct mdg_crl_parsed *out,
		  char *err, size_t errlen);

/* The path mdg_crl_parse takes: AUTO reads large CRLs' entries straight
 * from strict DER (OpenSSL parses the rest) and falls back to REFERENCE
 * (OpenSSL parses the whole CRL) for anything it does not take, so results
 * and messages are those of REFERENCE. FAST_ONLY (no fallback) and
 * REFERENCE are for tests comparing the two. */
enum mdg_crl_path {
	MDG_CRL_PATH_AUTO = 0,
	MDG_CRL_PATH_FAST_ONLY,
	MDG_CRL_PATH_REFERENCE,
};

int mdg_crl_parse_mode(const struct mdg_anchors *anchors, const unsigned char *data, size_t len, enum mdg_crl_path path,
		       struct mdg_crl_parsed *out, char *err, size_t errlen);

void mdg_crl_parsed_free(struct mdg_crl_parsed *p);

/* The order of a parsed CRL's entries, for qsort: by serial magnitude
 * (memcmp, shorter first). mdg_crl_parse hands entries to the store in this
 * order; the store's backend sorts as it needs. */
int mdg_crl_entry_cmp(const void *a, const void *b);

/* DESIGN.md "CRLs": a CRL may answer validity checks until max_age seconds
 * past its nextUpdate. Returns 1 if a CRL with this nextUpdate is fresh at
 * now, 0 if it is stale. The one place the rule is written. */
int mdg_crl_is_fresh(time_t next_update, long max_age, time_t now);

#endif
