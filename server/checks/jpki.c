#include "jpki.h"

#include <string.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "sigalg.h"
#include "timefmt.h"

#define OID_FACT_PREFIX "1.2.392.200149.8.5.5."

enum fact { F_NAME, F_NAME_SUBST, F_GENDER, F_BIRTH, F_ADDRESS, F_ADDRESS_SUBST, F_COUNT };

int mdg_utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t len;
		unsigned cp;
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i < len)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

static int fact_index(const ASN1_OBJECT *oid)
{
	char txt[64];
	size_t plen = strlen(OID_FACT_PREFIX);

	if (OBJ_obj2txt(txt, sizeof(txt), oid, 1) <= 0 || strncmp(txt, OID_FACT_PREFIX, plen) != 0)
		return -1;
	const char *d = txt + plen;
	if (d[0] < '1' || d[0] > '6' || d[1] != '\0')
		return -1;
	return d[0] - '1';
}

static int copy_utf8(const ASN1_UTF8STRING *s, char *dst, size_t dstlen)
{
	int n = ASN1_STRING_length(s);
	const unsigned char *p = ASN1_STRING_get0_data(s);

	if (n <= 0 || (size_t)n >= dstlen || !mdg_utf8_valid(p, (size_t)n))
		return -1;
	memcpy(dst, p, (size_t)n);
	dst[n] = '\0';
	return 0;
}

static int all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int mdg_jpki_facts(X509 *cert, struct mdg_facts *facts, const char **why)
{
	GENERAL_NAMES *names = NULL;
	int count[F_COUNT] = { 0 };
	char gender[8] = "", birth[16] = "", subst[MDG_FORM_ADDRESS_MAX];
	int crit = 0, rc = -1;

	memset(facts, 0, sizeof(*facts));
	names = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
	if (names == NULL) {
		*why = "no subjectAltName facts";
		goto out;
	}
	for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		ASN1_OBJECT *oid;
		ASN1_TYPE *value;
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		if (!GENERAL_NAME_get0_otherName(gn, &oid, &value))
			continue;
		int f = fact_index(oid);
		if (f < 0)
			continue;
		if (++count[f] > 1) {
			*why = "a fact appears more than once";
			goto out;
		}
		if (value == NULL || value->type != V_ASN1_UTF8STRING) {
			*why = "a fact is not a UTF8String";
			goto out;
		}
		const ASN1_UTF8STRING *s = value->value.utf8string;
		int bad;
		switch (f) {
		case F_NAME:
			bad = copy_utf8(s, facts->name, sizeof(facts->name));
			break;
		case F_ADDRESS:
			bad = copy_utf8(s, facts->address, sizeof(facts->address));
			break;
		case F_GENDER:
			bad = copy_utf8(s, gender, sizeof(gender));
			break;
		case F_BIRTH:
			bad = copy_utf8(s, birth, sizeof(birth));
			break;
		default:
			bad = copy_utf8(s, subst, sizeof(subst)) || !all_digits(subst, strlen(subst));
			break;
		}
		if (bad) {
			*why = "a fact has a bad value";
			goto out;
		}
	}
	if (!count[F_NAME] || !count[F_GENDER] || !count[F_BIRTH] || !count[F_ADDRESS]) {
		*why = "one of the four facts is missing";
		goto out;
	}
	if (strcmp(gender, "1") == 0)
		facts->gender = "男";
	else if (strcmp(gender, "2") == 0)
		facts->gender = "女";
	else if (strcmp(gender, "3") == 0)
		facts->gender = "不明";
	else {
		*why = "gender code is not 1, 2 or 3";
		goto out;
	}
	/* EYYYYMMDD: era digit, then the Gregorian date */
	if (strlen(birth) != 9 || !all_digits(birth, 9) || birth[0] > '5') {
		*why = "birth date is not EYYYYMMDD";
		goto out;
	}
	int y = (birth[1] - '0') * 1000 + (birth[2] - '0') * 100 + (birth[3] - '0') * 10 + (birth[4] - '0');
	int m = (birth[5] - '0') * 10 + (birth[6] - '0');
	int d = (birth[7] - '0') * 10 + (birth[8] - '0');
	if (!mdg_date_is_valid(y, m, d)) {
		*why = "birth date is not a calendar date";
		goto out;
	}
	facts->birth_era = birth[0] - '0';
	memcpy(facts->birth_date, birth + 1, 4);
	facts->birth_date[4] = '-';
	memcpy(facts->birth_date + 5, birth + 5, 2);
	facts->birth_date[7] = '-';
	memcpy(facts->birth_date + 8, birth + 7, 2);
	facts->birth_date[10] = '\0';
	rc = 0;
out:
	GENERAL_NAMES_free(names);
	return rc;
}

static int known_extension(int nid)
{
	switch (nid) {
	case NID_key_usage:
	case NID_certificate_policies:
	case NID_subject_alt_name:
	case NID_issuer_alt_name:
	case NID_crl_distribution_points:
	case NID_authority_key_identifier:
	case NID_subject_key_identifier:
	case NID_basic_constraints:
	case NID_ext_key_usage:
	case NID_info_access:
		return 1;
	default:
		return 0;
	}
}

static int policy_allowed(X509 *cert, const char (*policies)[64], size_t n)
{
	CERTIFICATEPOLICIES *cp = X509_get_ext_d2i(cert, NID_certificate_policies, NULL, NULL);
	int ok = 0;

	for (int i = 0; cp != NULL && !ok && i < sk_POLICYINFO_num(cp); i++) {
		char txt[64];
		POLICYINFO *pi = sk_POLICYINFO_value(cp, i);
		if (OBJ_obj2txt(txt, sizeof(txt), pi->policyid, 1) <= 0)
			continue;
		for (size_t k = 0; k < n && !ok; k++)
			ok = strcmp(txt, policies[k]) == 0;
	}
	CERTIFICATEPOLICIES_free(cp);
	return ok;
}

int mdg_jpki_check(X509 *cert, const char (*policies)[64], size_t n_policies, struct mdg_facts *facts, const char **why)
{
	EVP_PKEY *key;

	if (X509_get_version(cert) != X509_VERSION_3) {
		*why = "certificate is not v3";
		return -1;
	}
	/* RFC 5280 4.2: at most one instance of an extension. Our rule, not
	 * left to whether EXFLAG_INVALID reports it. */
	for (int i = 0; i < X509_get_ext_count(cert); i++)
		if (X509_get_ext_by_OBJ(cert, X509_EXTENSION_get_object(X509_get_ext(cert, i)), i) != -1) {
			*why = "an extension appears twice";
			return -1;
		}
	uint32_t flags = X509_get_extension_flags(cert);
	if (flags & EXFLAG_INVALID) {
		*why = "certificate extensions are invalid";
		return -1;
	}
	for (int i = 0; i < X509_get_ext_count(cert); i++) {
		X509_EXTENSION *ext = X509_get_ext(cert, i);
		if (X509_EXTENSION_get_critical(ext) && !known_extension(OBJ_obj2nid(X509_EXTENSION_get_object(ext)))) {
			*why = "unknown critical extension";
			return -1;
		}
	}
	uint32_t ku = X509_get_key_usage(cert);
	if (!(flags & EXFLAG_KUSAGE) || !(ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION))) {
		*why = "keyUsage lacks digitalSignature and nonRepudiation";
		return -1;
	}
	if (!policy_allowed(cert, policies, n_policies)) {
		*why = "no accepted certificate policy";
		return -1;
	}
	key = X509_get0_pubkey(cert);
	if (!mdg_key_allowed(key)) {
		*why = "holder key algorithm or size not allowed";
		return -1;
	}
	return mdg_jpki_facts(cert, facts, why);
}

int mdg_jpki_applicant_matches(const struct mdg_facts *facts, const struct mdg_form *form)
{
	return strcmp(facts->name, form->name) == 0 && strcmp(facts->address, form->address) == 0 &&
	       strcmp(facts->birth_date, form->birth_date) == 0 && strcmp(facts->gender, form->gender) == 0;
}
