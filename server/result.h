/* The result table: every answer the window gives, its HTTP status per
 * procedure, and its titles and details in Japanese and English.
 * DESIGN.md "Results" is the contract; result.c holds the one table. */
#ifndef MDG_RESULT_H
#define MDG_RESULT_H

enum mdg_procedure {
	MDG_PROC_NONE = 0,	/* no endpoint (404, health) */
	MDG_PROC_REVOCATION,	/* "revocation" */
	MDG_PROC_VALIDITY,	/* "validity-check" */
};

/* Never renumber: values are stable for logs and metrics. */
enum mdg_result {
	MDG_ACCEPTED = 0,
	MDG_VALID,
	MDG_REVOKED,
	MDG_REVOCATION_ACCEPTED,
	MDG_EXPIRED,
	MDG_NOT_YET_VALID,
	MDG_ISSUER_MISMATCH,
	MDG_BAD_CERTIFICATE_SIGNATURE,
	MDG_BAD_REQUEST_SIGNATURE,
	MDG_MALFORMED,
	MDG_BAD_NONCE,
	MDG_BUSY,
	MDG_SERVICE_ERROR,
	MDG_RESULT_COUNT
};

enum mdg_lang { MDG_LANG_JA = 0, MDG_LANG_EN = 1 };

/* "revocation", "validity-check", or NULL for MDG_PROC_NONE. */
const char *mdg_procedure_name(enum mdg_procedure proc);

/* The contract's result name, e.g. "revocationAccepted". */
const char *mdg_result_name(enum mdg_result r);

/* Default HTTP status of a result on a procedure's endpoint (malformed: 400,
 * serviceError: 500; the pipeline may refine those two). */
unsigned mdg_result_status(enum mdg_result r, enum mdg_procedure proc);

/* Every HTTP status the result is answered with, as text for the pages
 * ("500, 503 (...)"), when it is more than mdg_result_status's one; NULL
 * otherwise. */
const char *mdg_result_statuses(enum mdg_result r);

/* Title and detail in the chosen language; never NULL. */
const char *mdg_result_title(enum mdg_result r, enum mdg_procedure proc, enum mdg_lang lang);
const char *mdg_result_detail(enum mdg_result r, enum mdg_procedure proc, enum mdg_lang lang);

#endif
