#include "answer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

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

static int set_str(json_t *obj, const char *key, const char *value)
{
	return json_object_set_new(obj, key, json_string(value));
}

static json_t *texts(const struct mdg_outcome *o, enum mdg_lang lang)
{
	json_t *t = json_object();

	set_str(t, "title", mdg_result_title(o->result, o->proc, lang));
	set_str(t, "detail", mdg_result_detail(o->result, o->proc, lang));
	return t;
}

static json_t *crl_number(const char *dec)
{
	char *end;
	unsigned long long v;

	/* a JSON integer while exact in IEEE doubles, else the decimal string */
	if (strlen(dec) <= 15) {
		v = strtoull(dec, &end, 10);
		if (*end == '\0')
			return json_integer((json_int_t)v);
	}
	return json_string(dec);
}

char *mdg_answer_json(const struct mdg_outcome *o, const struct mdg_anchors *anchors, enum mdg_lang lang,
		      const char *request_id, size_t *len)
{
	json_t *root = json_object();
	json_t *i18n = json_object();
	const char *proc = mdg_procedure_name(o->proc);
	char *text = NULL;
	char type[96];

	if (root == NULL || i18n == NULL)
		goto out;
	set_str(root, "result", mdg_result_name(o->result));
	json_object_set_new(root, "procedure", proc ? json_string(proc) : json_null());
	set_str(root, "requestId", request_id);
	set_str(root, "title", mdg_result_title(o->result, o->proc, lang));
	set_str(root, "detail", mdg_result_detail(o->result, o->proc, lang));
	json_object_set_new(i18n, "ja", texts(o, MDG_LANG_JA));
	json_object_set_new(i18n, "en", texts(o, MDG_LANG_EN));
	json_object_set(root, "i18n", i18n);
	if (o->status >= 400) {
		snprintf(type, sizeof(type), "urn:madoguchi:result:%s", mdg_result_name(o->result));
		set_str(root, "type", type);
		json_object_set_new(root, "status", json_integer(o->status));
	}
	if (o->have_cert) {
		json_t *c = json_object();
		set_str(c, "serial", o->serial_hex);
		set_str(c, "issuer", o->issuer);
		set_str(c, "notBefore", o->not_before);
		set_str(c, "notAfter", o->not_after);
		json_object_set_new(root, "certificate", c);
	}
	if (o->result == MDG_VALID) {
		json_t *on = json_object();
		json_object_set_new(root, "applicantName", json_string(o->applicant_name));
		set_str(root, "checkedAt", o->checked_at);
		set_str(on, "iso", o->checked_on_iso);
		set_str(on, "wareki", o->checked_on_wareki);
		json_object_set_new(root, "checkedOn", on);
		json_object_set_new(root, "crlNumber", crl_number(o->crl_number));
		set_str(root, "crlThisUpdate", o->crl_this_update);
	}
	if (o->have_acceptance && (o->result == MDG_ACCEPTED || o->result == MDG_REVOCATION_ACCEPTED)) {
		set_str(root, "receiptId", o->acceptance.receipt_id);
		set_str(root, "acceptedAt", o->acceptance.accepted_at);
		set_str(root, "effectiveFrom", o->acceptance.effective_from);
		if (o->receipt != NULL)
			set_str(root, "receipt", o->receipt);
	}
	if (o->result == MDG_ISSUER_MISMATCH && anchors != NULL) {
		json_t *list = json_array();
		size_t idx[64];
		size_t n = mdg_anchors_names(anchors, idx, 64);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(list, json_string(anchors->v[idx[i]].subject_text));
		json_object_set_new(root, "expectedIssuers", list);
	}
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text != NULL)
		*len = strlen(text);
out:
	json_decref(i18n);
	json_decref(root);
	return text;
}
