#include "answer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "jsonw.h"

const char *mdg_answer_content_type(const struct mdg_outcome *o)
{
	return o->status >= 400 ? "application/problem+json" : "application/json";
}

/* q-value of one Accept-Language element, 1000 = 1.0 */
static int qvalue(const char *params, size_t n)
{
	const char *q = NULL;

	for (size_t i = 0; i + 1 < n; i++)
		if ((params[i] == 'q' || params[i] == 'Q') && params[i + 1] == '=') {
			q = params + i + 2;
			break;
		}
	if (q == NULL)
		return 1000;
	if (q[0] == '1')
		return 1000;
	if (q[0] != '0')
		return 0;
	int v = 0, scale = 100;
	if (q[1] == '.')
		for (const char *d = q + 2; d < params + n && *d >= '0' && *d <= '9' && scale > 0; d++, scale /= 10)
			v += (*d - '0') * scale;
	return v;
}

enum mdg_lang mdg_lang_from_header(const char *h)
{
	int best_ja = -1, best_en = -1;

	if (h == NULL)
		return MDG_LANG_JA;
	while (*h) {
		size_t n = strcspn(h, ",");
		const char *e = h;
		while (e < h + n && (*e == ' ' || *e == '\t'))
			e++;
		size_t tag = strcspn(e, ";, \t");
		if (tag > (size_t)(h + n - e))
			tag = (size_t)(h + n - e);
		int q = qvalue(e + tag, (size_t)(h + n - e - tag));
		if ((tag == 2 || (tag > 2 && e[2] == '-')) && strncasecmp(e, "en", 2) == 0 && q > best_en)
			best_en = q;
		if ((tag == 2 || (tag > 2 && e[2] == '-')) && strncasecmp(e, "ja", 2) == 0 && q > best_ja)
			best_ja = q;
		if (tag == 1 && e[0] == '*' && q > best_ja)
			best_ja = q;
		h += n;
		if (*h == ',')
			h++;
	}
	return best_en > 0 && best_en > best_ja ? MDG_LANG_EN : MDG_LANG_JA;
}

/* title and detail of one language */
static void texts(struct mdg_jsonw *w, const char *key, const struct mdg_outcome *o, enum mdg_lang lang)
{
	mdg_jsonw_key_object(w, key);
	mdg_jsonw_str(w, "title", mdg_result_title(o->result, o->proc, lang));
	mdg_jsonw_str(w, "detail", mdg_result_detail(o->result, o->proc, lang));
	mdg_jsonw_close_object(w);
}

static void crl_number(struct mdg_jsonw *w, const char *dec)
{
	char *end;
	unsigned long long v;

	/* a JSON integer while exact in IEEE doubles, else the decimal string */
	if (strlen(dec) <= 15) {
		v = strtoull(dec, &end, 10);
		if (*end == '\0') {
			mdg_jsonw_int(w, "crlNumber", (long long)v);
			return;
		}
	}
	mdg_jsonw_str(w, "crlNumber", dec);
}

/* Written straight into one buffer, members in DESIGN.md's order; the
 * same bytes as the jansson tree dumped with JSON_COMPACT |
 * JSON_PRESERVE_ORDER that it replaces (tests/unit/test_jsonw.c keeps that
 * tree as the reference). */
char *mdg_answer_json(const struct mdg_outcome *o, const struct mdg_anchors *anchors, enum mdg_lang lang,
		      const char *request_id, size_t *len)
{
	struct mdg_jsonw w;
	const char *proc = mdg_procedure_name(o->proc);

	mdg_jsonw_init(&w);
	mdg_jsonw_open_object(&w);
	mdg_jsonw_str(&w, "result", mdg_result_name(o->result));
	if (proc != NULL)
		mdg_jsonw_str(&w, "procedure", proc);
	else
		mdg_jsonw_null(&w, "procedure");
	mdg_jsonw_str(&w, "requestId", request_id);
	mdg_jsonw_str(&w, "title", mdg_result_title(o->result, o->proc, lang));
	mdg_jsonw_str(&w, "detail", mdg_result_detail(o->result, o->proc, lang));
	mdg_jsonw_key_object(&w, "i18n");
	texts(&w, "ja", o, MDG_LANG_JA);
	texts(&w, "en", o, MDG_LANG_EN);
	mdg_jsonw_close_object(&w);
	if (o->status >= 400) {
		char type[96];
		snprintf(type, sizeof(type), "urn:madoguchi:result:%s", mdg_result_name(o->result));
		mdg_jsonw_str(&w, "type", type);
		mdg_jsonw_int(&w, "status", o->status);
	}
	if (o->have_cert) {
		mdg_jsonw_key_object(&w, "certificate");
		mdg_jsonw_str(&w, "serial", o->serial_hex);
		mdg_jsonw_str(&w, "issuer", o->issuer);
		mdg_jsonw_str(&w, "notBefore", o->not_before);
		mdg_jsonw_str(&w, "notAfter", o->not_after);
		mdg_jsonw_close_object(&w);
	}
	if (o->result == MDG_VALID) {
		mdg_jsonw_str(&w, "applicantName", o->applicant_name);
		mdg_jsonw_str(&w, "checkedAt", o->checked_at);
		mdg_jsonw_key_object(&w, "checkedOn");
		mdg_jsonw_str(&w, "iso", o->checked_on_iso);
		mdg_jsonw_str(&w, "wareki", o->checked_on_wareki);
		mdg_jsonw_close_object(&w);
		crl_number(&w, o->crl_number);
		mdg_jsonw_str(&w, "crlThisUpdate", o->crl_this_update);
	}
	if (o->have_acceptance && (o->result == MDG_ACCEPTED || o->result == MDG_REVOCATION_ACCEPTED)) {
		mdg_jsonw_str(&w, "receiptId", o->acceptance.receipt_id);
		mdg_jsonw_str(&w, "acceptedAt", o->acceptance.accepted_at);
		mdg_jsonw_str(&w, "effectiveFrom", o->acceptance.effective_from);
		if (o->receipt != NULL)
			mdg_jsonw_str(&w, "receipt", o->receipt);
	}
	if (o->result == MDG_ISSUER_MISMATCH && anchors != NULL) {
		size_t idx[64];
		size_t n = mdg_anchors_names(anchors, idx, 64);
		mdg_jsonw_key_array(&w, "expectedIssuers");
		for (size_t i = 0; i < n; i++)
			mdg_jsonw_elem_str(&w, anchors->v[idx[i]].subject_text);
		mdg_jsonw_close_array(&w);
	}
	mdg_jsonw_close_object(&w);
	return mdg_jsonw_finish(&w, len);
}
