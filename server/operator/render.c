/* The acceptance row and the CRL scope as JSON, for madoguchi-admin
 * (log --format json, crl status --format json) and the admin API
 * (/admin/v1/acceptances, /admin/v1/crls). */
#include "render.h"

#include <openssl/crypto.h>

#include "acceptlog.h"
#include "crl.h"
#include "form.h"
#include "names.h"
#include "timefmt.h"

json_t *mdg_json_text(const char *s)
{
	json_t *j = json_string(s);

	return j != NULL ? j : json_string("(not valid UTF-8)");
}

static json_t *text_or_null(int have, const char *s)
{
	return have && s[0] != '\0' ? mdg_json_text(s) : json_null();
}

json_t *mdg_acceptance_row_json(const struct mdg_acceptance_row *r, int show_personal)
{
	char serial[2 * MDG_SERIAL_MAX + 1], issuer[1100];
	struct mdg_form form;
	int have_form;
	json_t *o;

	mdg_serial_hex(r->serial, r->serial_len, serial, sizeof(serial));
	mdg_der_name_rfc4514(r->issuer_der, r->issuer_len, issuer, sizeof(issuer));
	o = json_pack("{s:I, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o}", "seq", (json_int_t)r->seq, "receiptId",
		      mdg_json_text(r->receipt_id), "acceptedAt", mdg_json_text(r->accepted_at), "effectiveFrom",
		      mdg_json_text(r->effective_from), "serial", serial, "issuer", mdg_json_text(issuer), "reason",
		      mdg_json_text(r->reason), "clientAddress", mdg_json_text(r->client_addr), "exportBatch",
		      r->export_batch > 0 ? json_integer((json_int_t)r->export_batch) : json_null(), "name",
		      mdg_json_text(r->holder_name));
	if (o == NULL || !show_personal)
		return o;
	have_form = mdg_evidence_form(r->request_der, r->request_len, &form) == 0;
	if (json_object_set_new(o, "address", text_or_null(have_form, form.address)) != 0 ||
	    json_object_set_new(o, "birthDate", text_or_null(have_form, form.birth_date)) != 0) {
		json_decref(o);
		o = NULL;
	}
	OPENSSL_cleanse(&form, sizeof(form));
	return o;
}

int mdg_crl_scope_stale(const struct mdg_crl_scope *s, time_t now, long max_age)
{
	return s->retired_at == 0 && !mdg_crl_is_fresh(s->next_update, max_age, now);
}

json_t *mdg_crl_scope_json(const struct mdg_crl_scope *s, time_t now, long max_age, int *stale)
{
	char iss[512], dp[512], num[64], tu[MDG_RFC3339_LEN], nu[MDG_RFC3339_LEN], imp[MDG_RFC3339_LEN],
		ret[MDG_RFC3339_LEN];
	int st = mdg_crl_scope_stale(s, now, max_age);

	if (stale != NULL)
		*stale = st;
	mdg_der_name_rfc4514(s->issuer_der, s->issuer_len, iss, sizeof(iss));
	if (s->dp_der != NULL)
		mdg_der_name_rfc4514(s->dp_der, s->dp_len, dp, sizeof(dp));
	mdg_number_decimal(s->number, s->number_len, num, sizeof(num));
	mdg_rfc3339_jst(s->this_update, tu);
	mdg_rfc3339_jst(s->next_update, nu);
	mdg_rfc3339_jst(s->imported_at, imp);
	if (s->retired_at != 0)
		mdg_rfc3339_jst(s->retired_at, ret);
	return json_pack("{s:o, s:s, s:o, s:s, s:s, s:s, s:s, s:I, s:b, s:o}", "issuer", mdg_json_text(iss), "scope",
			 s->dp_der != NULL ? "distributionPoint" : "full", "distributionPoint",
			 s->dp_der != NULL ? mdg_json_text(dp) : json_null(), "number", num, "thisUpdate", tu,
			 "nextUpdate", nu, "importedAt", imp, "entries", (json_int_t)s->entries, "stale", st,
			 "retiredAt", s->retired_at != 0 ? json_string(ret) : json_null());
}
