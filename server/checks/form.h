/* The application form (申請書): the JSON object signed inside the CMS.
 * Parsed strictly: exact keys, exact types, no duplicates, no nulls, valid
 * UTF-8, bounded sizes. Anything else is the format error (malformed). */
#ifndef MDG_FORM_H
#define MDG_FORM_H

#include <stddef.h>
#include "result.h"

#define MDG_FORM_NAME_MAX 512
#define MDG_FORM_ADDRESS_MAX 1024
#define MDG_FORM_NONCE_MAX 128

struct mdg_form {
	enum mdg_procedure procedure;
	char name[MDG_FORM_NAME_MAX];
	char address[MDG_FORM_ADDRESS_MAX];
	char birth_date[11]; /* YYYY-MM-DD */
	char gender[8];      /* 男, 女 or 不明 */
	char nonce[MDG_FORM_NONCE_MAX];
	const char *reason; /* static contract name, or NULL if not given */
};

/* Parses the form. Returns 0, or -1 with a short English reason (for the
 * log, never personal data) in *why. */
int mdg_form_parse(const unsigned char *json, size_t len, struct mdg_form *form, const char **why);

/* The revocation reasons a holder may give (RFC 5280 names); returns the
 * static name or NULL. */
const char *mdg_reason_lookup(const char *name);

#endif
