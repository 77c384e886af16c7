/* The result table: every answer the window gives, its HTTP status per
 * procedure, and its titles and details in Japanese and English.
 * DESIGN.md "Results" is the contract; result.c holds the one table. */
#ifndef MDG_RESULT_H
#define MDG_RESULT_H

enum mdg_procedure {
	MDG_PROC_NONE = 0,   /* no endpoint (404, health) */
	MDG_PROC_REVOCATION, /* "revocation" */
	MDG_PROC_VALIDITY,   /* "validity-check" */
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

/* Whose fault an ending is; the log level follows it. */
enum mdg_blame {
	MDG_BLAME_NONE = 0, /* no fault: the answer to the request, or load (info) */
	MDG_BLAME_THEIRS,   /* the request's (info) */
	MDG_BLAME_OURS,     /* the window's: memory, randomness, CRLs not held (error) */
	MDG_BLAME_STORE,    /* the store failed (error, with the backend's message;
				 * the thread's store connection is opened afresh) */
};

/* The reason table: every way a request ends, one row each (result.c).
 * Call sites name a reason; its result, HTTP status per procedure,
 * Retry-After and blame are the table's. Never renumber: append. */
enum mdg_reason {
	/* the checks of DESIGN.md, in their order */
	MDG_REASON_BUSY = 0,           /* 1. admission: max_inflight */
	MDG_REASON_BAD_FRAMING,        /* 2. format: Content-Length / Transfer-Encoding */
	MDG_REASON_BODY_TOO_LARGE,     /*    over max_body: 413 */
	MDG_REASON_WRONG_MEDIA_TYPE,   /*    415 */
	MDG_REASON_NOT_DER,            /*    empty, not DER, PEM that is not a CMS */
	MDG_REASON_BAD_CMS,            /*    not the one SignedData shape, sid */
	MDG_REASON_BAD_CERT,           /*    the certificate does not parse */
	MDG_REASON_BAD_FORM,           /*    the application form, its procedure */
	MDG_REASON_ISSUER_MISMATCH,    /* 3. issuer */
	MDG_REASON_CERT_SIGNATURE,     /* 4. certificate: no anchor verifies it */
	MDG_REASON_CERT_PROFILE,       /*    not a JPKI signing certificate, serial */
	MDG_REASON_REQUEST_SIGNATURE,  /* 5. request signature */
	MDG_REASON_APPLICANT_MISMATCH, /*    the form's applicant is not the certificate's */
	MDG_REASON_BAD_NONCE,          /* 6. nonce */
	MDG_REASON_EXPIRED,            /* 7. dates */
	MDG_REASON_NOT_YET_VALID,
	MDG_REASON_REVOKED,             /* 8. CRL */
	MDG_REASON_REVOCATION_ACCEPTED, /* 9. acceptance log (or 10., concurrently) */
	MDG_REASON_ACCEPTED,            /* 10. revocation */
	MDG_REASON_VALID,               /* 11. validity check */
	MDG_REASON_CRL_STALE,           /*     the covering CRL is stale: 503 */
	MDG_REASON_NO_CRL,              /*     no CRL covers the certificate: 503 */
	/* faults, at any step */
	MDG_REASON_STORE_FAILED,  /* a store operation failed */
	MDG_REASON_NO_STORE,      /* no store connection */
	MDG_REASON_NO_RANDOMNESS, /* RAND_bytes failed */
	MDG_REASON_OUT_OF_MEMORY,
	MDG_REASON_DP_UNENCODABLE, /* the distribution point does not encode */
	/* the HTTP adapter's */
	MDG_REASON_UNKNOWN_PATH,    /* 404 */
	MDG_REASON_WRONG_METHOD,    /* 405 */
	MDG_REASON_SERVED,          /* a page, nonce, health or readiness answer */
	MDG_REASON_NOT_READY,       /* GET /readyz: not ready (503) */
	MDG_REASON_REQUEST_TIMEOUT, /* not whole within request_timeout: closed, no answer */
	MDG_REASON_CLOSED,          /* the connection closed before an answer */
	MDG_REASON_MHD_ANSWERED,    /* libmicrohttpd answered it itself */
	/* the log's endpoints (GET /v1/log/...) */
	MDG_REASON_LOG_UNKNOWN_RECEIPT, /* proof: no acceptance with that receipt id (404) */
	MDG_REASON_LOG_NOT_COVERED,     /* proof: not yet in a checkpoint (503, Retry-After: 1) */
	MDG_REASON_LOG_BAD_RANGE,       /* consistency: not 1 <= from <= to <= latest size (400) */
	MDG_REASON_COUNT
};

/* "busy", "bodyTooLarge", ...: the reason's name for logs and tests. */
const char *mdg_reason_name(enum mdg_reason why);

/* 1 if the reason answers with a result of the table (JSON answer); 0 for
 * SERVED, NOT_READY and the endings without an answer. */
int mdg_reason_has_result(enum mdg_reason why);

/* The reason's result (serviceError for an out-of-range reason; meaningless
 * when mdg_reason_has_result is 0). */
enum mdg_result mdg_reason_result(enum mdg_reason why);

/* The HTTP status the reason is answered with on the procedure's endpoint
 * (0: no answer is sent). */
unsigned mdg_reason_status(enum mdg_reason why, enum mdg_procedure proc);

/* Retry-After seconds, 0 for none. */
unsigned mdg_reason_retry_after(enum mdg_reason why);

enum mdg_blame mdg_reason_blame(enum mdg_reason why);

/* "info" or "error", as the blame says. */
const char *mdg_reason_log_level(enum mdg_reason why);

/* 1 if the reason can end a request on the procedure. */
int mdg_reason_occurs(enum mdg_reason why, enum mdg_procedure proc);

/* Whether the window ever gives the result on the procedure: some reason
 * of the result occurs there (the top page and result pages list these). */
int mdg_result_occurs(enum mdg_result r, enum mdg_procedure proc);

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
