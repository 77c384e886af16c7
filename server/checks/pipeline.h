/* The request pipeline: DESIGN.md's checks in order over one request, the
 * first failure deciding the result. No sockets here: the HTTP layer (and
 * the unit tests) hand in the body and read back an outcome. */
#ifndef MDG_PIPELINE_H
#define MDG_PIPELINE_H

#include <stddef.h>
#include <time.h>

#include "anchors.h"
#include "certcache.h"
#include "config.h"
#include "form.h"
#include "nonce.h"
#include "receipt.h"
#include "result.h"
#include "store.h"

struct mdg_pipeline {
	const struct mdg_config *cfg;
	const struct mdg_anchors *anchors;
	const struct mdg_nonce_key *nonce_key;
	struct mdg_certcache *cache;               /* may be NULL */
	const struct mdg_receipt_signer *receipts; /* [receipts]; NULL: no receipts */
};

struct mdg_input {
	enum mdg_procedure proc;
	const char *content_type; /* the request's header, may be NULL */
	const unsigned char *body;
	size_t len;
	int too_large; /* the body exceeded max_body */
	const char *client_addr;
	time_t now;
};

struct mdg_outcome {
	enum mdg_reason reason; /* how the request ended (the reason table) */
	enum mdg_result result; /* the reason's; status, retry_after too */
	unsigned status;        /* the HTTP status to answer with */
	enum mdg_procedure proc;
	unsigned retry_after; /* seconds; 0: no Retry-After */
	const char *why;      /* short internal reason for the log (no personal data) */

	int have_cert;
	char serial_hex[2 * 32 + 1];
	char issuer[512]; /* RFC 4514 */
	char not_before[26], not_after[26];

	/* valid */
	char applicant_name[MDG_FORM_NAME_MAX];
	char checked_at[26];
	char checked_on_iso[11];
	char checked_on_wareki[64];
	char crl_number[64]; /* decimal */
	char crl_this_update[26];

	/* accepted, revocationAccepted */
	struct mdg_acceptance_ref acceptance;
	int have_acceptance;
	char *receipt; /* base64 CMS receipt, malloc'd (mdg_outcome_release); NULL: none */
};

/* Runs the checks. The store may be NULL only for results that need none
 * (it is then a serviceError if one is needed). */
void mdg_process(const struct mdg_pipeline *p, struct mdg_store *store, const struct mdg_input *in,
		 struct mdg_outcome *out);

/* Frees what the outcome owns (the receipt). */
void mdg_outcome_release(struct mdg_outcome *out);

/* Sets the outcome's reason and, from the reason table, its result, status
 * and Retry-After; also for endings decided outside the pipeline (busy,
 * 404...). why (static text for the log, or NULL for the reason's name)
 * refines the reason. */
void mdg_outcome_set(struct mdg_outcome *out, enum mdg_procedure proc, enum mdg_reason reason, const char *why);

/* The first crl_issue_time at least crl_cutoff after t. */
time_t mdg_effective_from(const struct mdg_config *cfg, time_t t);

/* 1 if the media type (parameters ignored, case-insensitive) is
 * application/pkcs7-mime or application/cms. */
int mdg_media_type_ok(const char *content_type);

#endif
