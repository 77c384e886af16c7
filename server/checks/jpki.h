/* The JPKI signing certificate profile (JPKI-PROFILE.md): the holder's four
 * facts from subjectAltName otherNames 1.2.392.200149.8.5.5.x, and the
 * checks that make a certificate a JPKI signing certificate. */
#ifndef MDG_JPKI_H
#define MDG_JPKI_H

#include <stddef.h>
#include <openssl/x509.h>
#include "form.h"

struct mdg_facts {
	char name[MDG_FORM_NAME_MAX];
	char address[MDG_FORM_ADDRESS_MAX];
	char birth_date[11]; /* Gregorian YYYY-MM-DD from EYYYYMMDD */
	int birth_era;       /* 0 unknown, 1 明治 .. 5 令和 */
	const char *gender;  /* 男, 女 or 不明 */
};

/* Checks the profile (v3; keyUsage with digitalSignature and/or
 * nonRepudiation; a policy from the list; exactly one value of each fact;
 * no unknown critical extension; allowed key and signature algorithm) and
 * extracts the facts. Returns 0, or -1 with a short reason (no personal
 * data) in *why. */
int mdg_jpki_check(X509 *cert, const char (*policies)[64], size_t n_policies, struct mdg_facts *facts,
		   const char **why);

/* Extracts the facts only. Returns 0 or -1 with *why. */
int mdg_jpki_facts(X509 *cert, struct mdg_facts *facts, const char **why);

/* 1 if the form's applicant equals the facts, byte for byte. */
int mdg_jpki_applicant_matches(const struct mdg_facts *facts, const struct mdg_form *form);

/* 1 if s[0..n) is valid UTF-8 without NUL. */
int mdg_utf8_valid(const unsigned char *s, size_t n);

#endif
