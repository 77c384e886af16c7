#include <stdio.h>
#include <string.h>

#include "crl_supersede.h"
#include "names.h"

/* Numbers are magnitudes without leading zeros: longer is larger. */
static int number_cmp(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	while (alen > 0 && *a == 0) {
		a++;
		alen--;
	}
	while (blen > 0 && *b == 0) {
		b++;
		blen--;
	}
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return alen ? memcmp(a, b, alen) : 0;
}

static void scope_text(const struct mdg_crl_import *c, char *out, size_t outlen)
{
	char iss[512], dp[512];

	mdg_der_name_rfc4514(c->issuer_der, c->issuer_len, iss, sizeof(iss));
	if (c->dp_der == NULL) {
		snprintf(out, outlen, "%s (full CRL)", iss);
		return;
	}
	mdg_der_name_rfc4514(c->dp_der, c->dp_len, dp, sizeof(dp));
	snprintf(out, outlen, "%s (distribution point %s)", iss, dp);
}

enum mdg_crl_supersede mdg_crl_supersedes(const struct mdg_crl_import *c, const struct mdg_crl_scope *held,
					  const unsigned char held_sha[32], char *msg, size_t msglen)
{
	char scope[1100], nnew[64], nheld[64];
	int cmp = number_cmp(c->number, c->number_len, held->number, held->number_len);

	if (cmp > 0)
		return MDG_CRL_SUPERSEDES;
	if (cmp == 0 && memcmp(c->sha256, held_sha, 32) == 0) {
		snprintf(msg, msglen, "%s",
			 held->retired_at != 0
				 ? "unchanged, and the scope stays retired: only a newer CRL of it brings it back"
				 : "unchanged");
		return MDG_CRL_SAME;
	}
	scope_text(c, scope, sizeof(scope));
	mdg_number_decimal(c->number, c->number_len, nnew, sizeof(nnew));
	mdg_number_decimal(held->number, held->number_len, nheld, sizeof(nheld));
	if (cmp == 0)
		snprintf(msg, msglen, "CRL number %s is already held for %s with different contents: refused", nnew,
			 scope);
	else
		snprintf(msg, msglen, "CRL number %s is not newer than %s held for %s: refused", nnew, nheld, scope);
	return MDG_CRL_NOT_NEWER;
}
