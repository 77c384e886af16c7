/* What the operators' two doors (madoguchi-admin and the admin API,
 * /admin/v1/...) show the same way: an acceptance row and a CRL scope as
 * JSON. One shape for both (docs/operations.md). */
#ifndef MDG_RENDER_H
#define MDG_RENDER_H

#include <time.h>

#include <jansson.h>

#include "store.h"

/* A JSON string, or "(not valid UTF-8)" for text that is not. */
json_t *mdg_json_text(const char *s);

/* One acceptance: seq, receiptId, acceptedAt, effectiveFrom, serial (hex),
 * issuer (RFC 4514), reason, clientAddress, exportBatch (null: none), name;
 * with show_personal also address and birthDate read from the evidence
 * (r->request_der; null if it does not read). NULL: out of memory. */
json_t *mdg_acceptance_row_json(const struct mdg_acceptance_row *r, int show_personal);

/* One CRL scope held (list_crls): issuer, scope ("full" or
 * "distributionPoint"), distributionPoint, number, thisUpdate, nextUpdate,
 * importedAt, entries, stale (in force and not fresh at now by
 * mdg_crl_is_fresh with max_age), retiredAt. *stale (if non-NULL) is set
 * the same. NULL: out of memory. */
json_t *mdg_crl_scope_json(const struct mdg_crl_scope *s, time_t now, long max_age, int *stale);

/* Is the scope counted as stale: in force (not retired) and past
 * nextUpdate + max_age at now. */
int mdg_crl_scope_stale(const struct mdg_crl_scope *s, time_t now, long max_age);

#endif
