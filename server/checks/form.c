#include "form.h"

#include <string.h>
#include <jansson.h>

static const char *const reasons[] = {
	"unspecified", "keyCompromise", "affiliationChanged", "superseded", "cessationOfOperation",
};

const char *mdg_reason_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(name, reasons[i]) == 0)
			return reasons[i];
	return NULL;
}

/* Copies a JSON string member into dst; -1 if missing, not a string, empty,
 * holding NUL, or too long. */
static int take_string(json_t *obj, const char *key, char *dst, size_t dstlen)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return -1;
	size_t n = json_string_length(v);
	const char *s = json_string_value(v);
	if (n == 0 || n >= dstlen || memchr(s, '\0', n) != NULL)
		return -1;
	memcpy(dst, s, n + 1);
	return 0;
}

static int only_keys(json_t *obj, const char *const *keys, size_t nkeys)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v)
	{
		size_t i;
		for (i = 0; i < nkeys; i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (i == nkeys)
			return -1;
	}
	return 0;
}

static int is_birth_date(const char *s)
{
	static const char pattern[] = "dddd-dd-dd";

	if (strlen(s) != 10)
		return 0;
	for (int i = 0; i < 10; i++) {
		if (pattern[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pattern[i])
			return 0;
	}
	return 1;
}

int mdg_form_parse(const unsigned char *text, size_t len, struct mdg_form *form, const char **why)
{
	static const char *const top_keys[] = { "procedure", "applicant", "nonce", "reason" };
	static const char *const applicant_keys[] = { "name", "address", "birthDate", "gender" };
	json_error_t jerr;
	json_t *root = NULL;
	json_t *app;
	char procedure[32];
	char reason[64];
	int rc = -1;

	memset(form, 0, sizeof(*form));
	root = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		*why = "form is not valid JSON (or has duplicate keys)";
		goto out;
	}
	if (!json_is_object(root)) {
		*why = "form is not a JSON object";
		goto out;
	}
	if (only_keys(root, top_keys, 4) != 0) {
		*why = "form has an unknown key";
		goto out;
	}
	if (take_string(root, "procedure", procedure, sizeof(procedure)) != 0) {
		*why = "form.procedure missing or not a string";
		goto out;
	}
	if (strcmp(procedure, "revocation") == 0)
		form->procedure = MDG_PROC_REVOCATION;
	else if (strcmp(procedure, "validity-check") == 0)
		form->procedure = MDG_PROC_VALIDITY;
	else {
		*why = "form.procedure unknown";
		goto out;
	}
	app = json_object_get(root, "applicant");
	if (!json_is_object(app) || only_keys(app, applicant_keys, 4) != 0 || json_object_size(app) != 4) {
		*why = "form.applicant missing, not an object, or with wrong keys";
		goto out;
	}
	if (take_string(app, "name", form->name, sizeof(form->name)) != 0 ||
	    take_string(app, "address", form->address, sizeof(form->address)) != 0 ||
	    take_string(app, "birthDate", form->birth_date, sizeof(form->birth_date)) != 0 ||
	    take_string(app, "gender", form->gender, sizeof(form->gender)) != 0) {
		*why = "form.applicant member missing, not a string, or too long";
		goto out;
	}
	if (!is_birth_date(form->birth_date)) {
		*why = "form.applicant.birthDate is not YYYY-MM-DD";
		goto out;
	}
	if (strcmp(form->gender, "男") != 0 && strcmp(form->gender, "女") != 0 && strcmp(form->gender, "不明") != 0) {
		*why = "form.applicant.gender is not 男, 女 or 不明";
		goto out;
	}
	if (take_string(root, "nonce", form->nonce, sizeof(form->nonce)) != 0) {
		*why = "form.nonce missing, not a string, or too long";
		goto out;
	}
	if (json_object_get(root, "reason") != NULL) {
		if (form->procedure != MDG_PROC_REVOCATION) {
			*why = "form.reason on a validity check";
			goto out;
		}
		if (take_string(root, "reason", reason, sizeof(reason)) != 0 ||
		    (form->reason = mdg_reason_lookup(reason)) == NULL) {
			*why = "form.reason is not a reason a holder may give";
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}
