#include "facts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/crypto.h>

#include "timefmt.h"

/* Prefectural CAs of the manual's era are named OU=<Prefecture romaji>
 * (JPKI-PROFILE.md): the addressee is that prefecture's governor. */
static const struct {
	const char *romaji;
	const char *kanji;
} prefectures[] = {
	{ "Hokkaido", "北海道" }, { "Aomori", "青森県" },      { "Iwate", "岩手県" },     { "Miyagi", "宮城県" },
	{ "Akita", "秋田県" },    { "Yamagata", "山形県" },    { "Fukushima", "福島県" }, { "Ibaraki", "茨城県" },
	{ "Tochigi", "栃木県" },  { "Gunma", "群馬県" },       { "Saitama", "埼玉県" },   { "Chiba", "千葉県" },
	{ "Tokyo", "東京都" },    { "Kanagawa", "神奈川県" },  { "Niigata", "新潟県" },   { "Toyama", "富山県" },
	{ "Ishikawa", "石川県" }, { "Fukui", "福井県" },       { "Yamanashi", "山梨県" }, { "Nagano", "長野県" },
	{ "Gifu", "岐阜県" },     { "Shizuoka", "静岡県" },    { "Aichi", "愛知県" },     { "Mie", "三重県" },
	{ "Shiga", "滋賀県" },    { "Kyoto", "京都府" },       { "Osaka", "大阪府" },     { "Hyogo", "兵庫県" },
	{ "Nara", "奈良県" },     { "Wakayama", "和歌山県" },  { "Tottori", "鳥取県" },   { "Shimane", "島根県" },
	{ "Okayama", "岡山県" },  { "Hiroshima", "広島県" },   { "Yamaguchi", "山口県" }, { "Tokushima", "徳島県" },
	{ "Kagawa", "香川県" },   { "Ehime", "愛媛県" },       { "Kochi", "高知県" },     { "Fukuoka", "福岡県" },
	{ "Saga", "佐賀県" },     { "Nagasaki", "長崎県" },    { "Kumamoto", "熊本県" },  { "Oita", "大分県" },
	{ "Miyazaki", "宮崎県" }, { "Kagoshima", "鹿児島県" }, { "Okinawa", "沖縄県" },
};

#define JLIS_OU "Japan Agency for Local Authority Information Systems"

/* The most specific OU of the issuer (the last one in DER order). */
static int issuer_last_ou(X509 *cert, char *out, size_t outlen)
{
	const X509_NAME *n = X509_get_issuer_name(cert);
	int idx = -1, last = -1;
	unsigned char *utf8 = NULL;

	while ((idx = X509_NAME_get_index_by_NID(n, NID_organizationalUnitName, idx)) >= 0)
		last = idx;
	if (last < 0)
		return -1;
	int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, last)));
	if (len < 0)
		return -1;
	snprintf(out, outlen, "%.*s", len, (const char *)utf8);
	OPENSSL_free(utf8);
	return 0;
}

static void addressee(X509 *cert, struct mdg_client_form *f)
{
	char ou[128];

	snprintf(f->addressee_ja, sizeof(f->addressee_ja), "公的個人認証サービス 認証局 殿");
	snprintf(f->addressee_en, sizeof(f->addressee_en), "To the JPKI certification authority");
	if (issuer_last_ou(cert, ou, sizeof(ou)) != 0)
		return;
	if (strcmp(ou, JLIS_OU) == 0) {
		snprintf(f->addressee_ja, sizeof(f->addressee_ja), "地方公共団体情報システム機構 殿");
		snprintf(f->addressee_en, sizeof(f->addressee_en), "To the %s (J-LIS)", JLIS_OU);
		return;
	}
	for (size_t i = 0; i < sizeof(prefectures) / sizeof(prefectures[0]); i++) {
		size_t n = strlen(prefectures[i].romaji);
		if (strncasecmp(ou, prefectures[i].romaji, n) == 0 && (ou[n] == '\0' || ou[n] == '-')) {
			snprintf(f->addressee_ja, sizeof(f->addressee_ja), "%s知事 殿", prefectures[i].kanji);
			snprintf(f->addressee_en, sizeof(f->addressee_en), "To the Governor of %s", ou);
			return;
		}
	}
	snprintf(f->addressee_ja, sizeof(f->addressee_ja), "%s 殿", ou);
	snprintf(f->addressee_en, sizeof(f->addressee_en), "To %s", ou);
}

int mdg_client_form_from_cert(X509 *cert, struct mdg_client_form *f, const char **why)
{
	int y, m, d;
	struct tm tm;

	memset(f, 0, sizeof(*f));
	if (mdg_jpki_facts(cert, &f->facts, why) != 0)
		return -1;
	if (sscanf(f->facts.birth_date, "%4d-%2d-%2d", &y, &m, &d) != 3 ||
	    mdg_wareki_format(y, m, d, f->birth_wareki, sizeof(f->birth_wareki)) < 0)
		snprintf(f->birth_wareki, sizeof(f->birth_wareki), "%s", f->facts.birth_date);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) {
		*why = "the certificate's notAfter cannot be read";
		return -1;
	}
	f->not_after_t = timegm(&tm);
	mdg_rfc3339_jst(f->not_after_t, f->not_after);
	addressee(cert, f);
	return 0;
}

int mdg_client_form_build(struct mdg_client_form *f, enum mdg_procedure proc, const char *nonce, const char *reason)
{
	json_t *o = json_object(), *a = json_object();
	int rc = -1;

	if (o == NULL || a == NULL)
		goto out;
	/* member order as in DESIGN.md; strings copied from the certificate
	 * byte for byte, UTF-8 unescaped */
	if (json_object_set_new(o, "procedure", json_string(mdg_procedure_name(proc))) != 0 ||
	    json_object_set_new(a, "name", json_string(f->facts.name)) != 0 ||
	    json_object_set_new(a, "address", json_string(f->facts.address)) != 0 ||
	    json_object_set_new(a, "birthDate", json_string(f->facts.birth_date)) != 0 ||
	    json_object_set_new(a, "gender", json_string(f->facts.gender)) != 0 ||
	    json_object_set(o, "applicant", a) != 0 || json_object_set_new(o, "nonce", json_string(nonce)) != 0)
		goto out;
	if (reason != NULL && json_object_set_new(o, "reason", json_string(reason)) != 0)
		goto out;
	free(f->json);
	f->json = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (f->json == NULL)
		goto out;
	f->json_len = strlen(f->json);
	rc = 0;
out:
	json_decref(a);
	json_decref(o);
	return rc;
}

int mdg_client_cert_expired(const struct mdg_client_form *f, time_t now)
{
	return now > f->not_after_t;
}

void mdg_client_form_clear(struct mdg_client_form *f)
{
	if (f->json != NULL)
		OPENSSL_cleanse(f->json, f->json_len);
	free(f->json);
	OPENSSL_cleanse(f, sizeof(*f));
}
