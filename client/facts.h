/* The application form as the client builds it from the certificate: the
 * holder's four facts (server/checks/jpki.c reads them, JPKI-PROFILE.md), the birth
 * date in wareki for the screen, the addressee (the issuing CA), and the
 * exact JSON bytes that will be signed. */
#ifndef MDG_CLIENT_FACTS_H
#define MDG_CLIENT_FACTS_H

#include <stddef.h>
#include <time.h>
#include <openssl/x509.h>

#include "jpki.h"
#include "result.h"

struct mdg_client_form {
	struct mdg_facts facts;
	char birth_wareki[64];  /* 昭和33年08月10日, or the ISO date if out of range */
	char addressee_ja[256]; /* one style: 東京都知事 殿, 地方公共団体情報システム機構 殿 */
	char addressee_en[256];
	char not_after[32]; /* RFC 3339 in +09:00 */
	time_t not_after_t;
	char *json; /* the form exactly as signed (malloc'd) */
	size_t json_len;
};

/* Reads the facts and the addressee out of the certificate. Returns 0, or
 * -1 with a short reason (no personal data) in *why. */
int mdg_client_form_from_cert(X509 *cert, struct mdg_client_form *f, const char **why);

/* Builds the JSON form for the procedure with the nonce and (revocation
 * only, may be NULL) the reason. Returns 0 or -1 (no memory). */
int mdg_client_form_build(struct mdg_client_form *f, enum mdg_procedure proc, const char *nonce, const char *reason);

/* 1 if the certificate's notAfter has passed at now. */
int mdg_client_cert_expired(const struct mdg_client_form *f, time_t now);

void mdg_client_form_clear(struct mdg_client_form *f);

#endif
