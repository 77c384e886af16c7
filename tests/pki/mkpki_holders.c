/* mkpki: the holders' facts and certificates. */
#include "mkpki.h"

/* ------------------------------------------------------------------ */
/* Holder facts */

const char *const surnames[] = {
	"吉田",   "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",   "山田",
	"佐々木", "山口", "松本", "井上", "木村", "林",   "斎藤", "清水", "𠮷田", "髙橋", "長谷川", "五十嵐",
};
const char *const given_m[] = {
	"太郎", "一郎", "健太", "翔", "大輔", "誠", "浩二", "隆", "拓也", "直樹",
};
const char *const given_f[] = {
	"花子", "陽子", "美咲", "さくら", "由美", "恵子", "愛", "明日香", "真由美",
};
const char *const given_x[] = {
	"光", "薫", "渚", "忍", "歩",
};
const char *const streets[] = {
	"霞が関2丁目1番地2号　霞が関マンション",
	"永田町1丁目7番1号",
	"丸の内3丁目4番5号　丸の内タワー１２０１号",
	"神田神保町2丁目3番地",
	"一番町4番地6",
	"大手町1丁目1番1号",
	"有楽町2-7-1",
	"外神田3丁目15番8号　アキバハイツ301",
	"九段南1丁目2番1号",
	"紀尾井町1番3号",
};

static const struct {
	int idx, y, m, d;
} birth_special[] = {
	{ 0, 1958, 8, 10 },                         /* DESIGN.md's example */
	{ 4, 1905, 3, 15 },                         /* 明治 */
	{ 9, 1989, 1, 7 },                          /* last day of 昭和 */
	{ 10, 1989, 1, 8 },                         /* first day of 平成 */
	{ 11, 2019, 4, 30 },                        /* last day of 平成 */
	{ 12, 2019, 5, 1 },                         /* first day of 令和 */
	{ 13, 1926, 12, 24 },                       /* last day of 大正 */
	{ 14, 1926, 12, 25 },                       /* first day of 昭和 */
	{ 15, 1912, 7, 29 },                        /* last day of 明治 */
	{ 16, 1912, 7, 30 },                        /* first day of 大正 */
	{ 17, 2000, 2, 29 },  { 18, 1980, 12, 31 }, /* JPKI-PROFILE.md's DER example */
};

int era_of(int y, int m, int d)
{
	long v = (long)y * 10000 + m * 100 + d;

	if (v >= 20190501)
		return 5;
	if (v >= 19890108)
		return 4;
	if (v >= 19261225)
		return 3;
	if (v >= 19120730)
		return 2;
	return 1;
}

size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

void zeros(char *buf, size_t len, size_t n)
{
	if (n >= len)
		n = len - 1;
	memset(buf, '0', n);
	buf[n] = '\0';
}

/*
 * Deterministic facts for holder number i (0-based); city selects the
 * address's municipality. Gender cycles 男 女 男 女 不明.
 */
void facts_for(int i, const char *city, struct facts *f)
{
	const char *sur, *given, *prefix;
	int y, m, d, g;
	size_t k;

	memset(f, 0, sizeof(*f));
	g = (i % 5 == 4) ? 3 : (i % 5) % 2 + 1;
	sur = surnames[(size_t)(i * 7) % NELEM(surnames)];
	if (g == 1)
		given = given_m[(size_t)(i * 3) % NELEM(given_m)];
	else if (g == 2)
		given = given_f[(size_t)(i * 3) % NELEM(given_f)];
	else
		given = given_x[(size_t)i % NELEM(given_x)];
	snprintf(f->name, sizeof(f->name), "%s　%s", sur, given);
	zeros(f->name_subst, sizeof(f->name_subst), utf8_chars(f->name));
	if (strcmp(sur, "髙橋") == 0)
		f->name_subst[0] = '1';
	snprintf(f->gender, sizeof(f->gender), "%d", g);

	y = 1935 + (i * 7) % 65;
	m = 1 + (i * 5) % 12;
	d = 1 + (i * 11) % 28;
	for (k = 0; k < NELEM(birth_special); k++)
		if (birth_special[k].idx == i) {
			y = birth_special[k].y;
			m = birth_special[k].m;
			d = birth_special[k].d;
		}
	snprintf(f->birth, sizeof(f->birth), "%d%04d%02d%02d", era_of(y, m, d), y, m, d);
	snprintf(f->birth_iso, sizeof(f->birth_iso), "%04d-%02d-%02d", y, m, d);

	if (city != NULL && strcmp(city, "Shinjuku-ku") == 0)
		prefix = "東京都新宿区";
	else if (city != NULL && strcmp(city, "Stale-shi") == 0)
		prefix = "東京都ステイル市";
	else if (city != NULL && strcmp(city, "Hachioji-shi") == 0)
		prefix = "東京都八王子市";
	else
		prefix = "東京都千代田区";
	snprintf(f->address, sizeof(f->address), "%s%s", prefix, streets[(size_t)i % NELEM(streets)]);
	if (i == 19) {
		/* the longest address the profile allows: 200 characters */
		static const char *const fill[] = { "長", "い", "建", "物", "名" };
		size_t len;

		snprintf(f->address, sizeof(f->address), "%s丸の内1丁目1番1号　", prefix);
		for (k = 0; utf8_chars(f->address) < 200; k++) {
			len = strlen(f->address);
			snprintf(f->address + len, sizeof(f->address) - len, "%s", fill[k % NELEM(fill)]);
		}
	}
	zeros(f->address_subst, sizeof(f->address_subst), utf8_chars(f->address));
	if (i == 7)
		f->address_subst[8] = '1';
}

const char *gender_word(const char *code)
{
	if (strcmp(code, "1") == 0)
		return "男";
	if (strcmp(code, "2") == 0)
		return "女";
	return "不明";
}

json_t *facts_json(const struct facts *f)
{
	if (f == NULL)
		return json_object();
	return json_pack("{s:s, s:s, s:s, s:s}", "name", f->name, "address", f->address, "birthDate", f->birth_iso,
			 "gender", gender_word(f->gender));
}

int push_othername(GENERAL_NAMES *gens, int fact, const char *value)
{
	char oid[64];
	ASN1_OBJECT *obj = NULL;
	ASN1_TYPE *val = NULL;
	ASN1_UTF8STRING *s = NULL;
	GENERAL_NAME *gn = NULL;

	snprintf(oid, sizeof(oid), OID_FACT "%d", fact);
	if ((obj = OBJ_txt2obj(oid, 1)) == NULL || (s = ASN1_UTF8STRING_new()) == NULL ||
	    !ASN1_STRING_set(s, value, -1) || (val = ASN1_TYPE_new()) == NULL)
		goto err;
	ASN1_TYPE_set(val, V_ASN1_UTF8STRING, s);
	s = NULL;
	if ((gn = GENERAL_NAME_new()) == NULL || !GENERAL_NAME_set0_othername(gn, obj, val))
		goto err;
	obj = NULL;
	val = NULL;
	if (!sk_GENERAL_NAME_push(gens, gn))
		goto err;
	return 0;
err:
	GENERAL_NAME_free(gn);
	ASN1_OBJECT_free(obj);
	ASN1_TYPE_free(val);
	ASN1_UTF8STRING_free(s);
	fail("cannot build an otherName");
	return -1;
}

/* ------------------------------------------------------------------ */
/* Holders */

const struct hspec special[] = {
	{ "valid-g1", CA_G1, K_RSA2048, NB, NA, "Chiyoda-ku", 0, "valid", "accepted", 0 },
	{ "valid-noaki", CA_G1, K_RSA2048, NB, NA, "Chiyoda-ku", F_NOAKI, "valid", "accepted", 0 },
	{ "valid-pref", CA_TOKYO, K_RSA2048, NB, NA, "Shinjuku-ku", 0, "valid", "accepted", 0 },
	{ "valid-ec", CA_G2, K_EC, NB, NA, "Chiyoda-ku", 0, "valid", "accepted", 0 },
	{ "valid-nodp", CA_G2, K_RSA2048, NB, NA, NULL, 0, "valid", "accepted", 0 },
	{ "valid-rsa4096", CA_G2, K_RSA4096, NB, NA, "Chiyoda-ku", 0, "valid", "accepted", 0 },
	{ "expired", CA_G2, K_RSA2048, -1 * YEAR - 100 * DAY, -1 * DAY, "Chiyoda-ku", 0, "expired", "expired", 0 },
	{ "notyet", CA_G2, K_RSA2048, 10 * DAY, 5 * YEAR, "Chiyoda-ku", 0, "notYetValid", "accepted", 0 },
	{ "revoked", CA_G2, K_RSA2048, NB, NA, "Chiyoda-ku", 0, "revoked", "revoked", 0 },
	{ "revoked-full", CA_G2, K_RSA2048, NB, NA, NULL, 0, "revoked", "revoked", 0 },
	{ "nofacts", CA_G2, K_RSA2048, NB, NA, "Chiyoda-ku", F_NOFACTS, "badCertificateSignature",
	  "badCertificateSignature", 0 },
	{ "twonames", CA_G2, K_RSA2048, NB, NA, "Chiyoda-ku", F_TWONAMES, "badCertificateSignature",
	  "badCertificateSignature", 0 },
	{ "badpolicy", CA_G2, K_RSA2048, NB, NA, "Chiyoda-ku", F_BADPOLICY, "badCertificateSignature",
	  "badCertificateSignature", 0 },
	{ "nokeyusage", CA_G2, K_RSA2048, NB, NA, "Chiyoda-ku", F_NOKU, "badCertificateSignature",
	  "badCertificateSignature", 0 },
	{ "unknowncrit", CA_G2, K_RSA2048, NB, NA, "Chiyoda-ku", F_UNKCRIT, "badCertificateSignature",
	  "badCertificateSignature", 0 },
	{ "sha1cert", CA_G2, K_RSA2048, NB, NA, "Chiyoda-ku", F_SHA1, "badCertificateSignature",
	  "badCertificateSignature", 0 },
	{ "rsa1024", CA_G2, K_RSA1024, NB, NA, "Chiyoda-ku", 0, "badCertificateSignature", "badCertificateSignature",
	  0 },
	{ "before-anchor", CA_G2, K_RSA2048, -2 * YEAR - 30 * DAY, 3 * YEAR, "Chiyoda-ku", 0, "badCertificateSignature",
	  "badCertificateSignature", 0 },
	{ "impostor", CA_IMPOSTOR, K_RSA2048, NB, NA, "Chiyoda-ku", 0, "badCertificateSignature",
	  "badCertificateSignature", 0 },
	{ "unknown", CA_UNKNOWN, K_RSA2048, NB, NA, "Chiyoda-ku", 0, "issuerMismatch", "issuerMismatch", 0 },
	{ "wrongkey", CA_G2, K_RSA2048, NB, NA, "Chiyoda-ku", F_WRONGKEY, "badRequestSignature", "badRequestSignature",
	  0 },
	{ "stale-dp", CA_G2, K_RSA2048, NB, NA, "Stale-shi", 0, "serviceError", "accepted", 0 },
	{ "pref-nocrl", CA_TOKYO, K_RSA2048, NB, NA, "Hachioji-shi", 0, "serviceError", "accepted", 0 },
	{ "stale-dp-printable", CA_G2, K_RSA2048, NB, NA, "Stale-shi", F_DP_PRINTABLE, "serviceError", "accepted", 0 },
	{ "valid-dp-printable", CA_G2, K_RSA2048, NB, NA, "Chiyoda-ku", F_DP_PRINTABLE, "valid", "accepted", 0 },
};
const size_t n_special = NELEM(special);

int add_holder_exts(struct holder *h, X509 *x, const struct ca *ca)
{
	X509V3_CTX ctx;
	GENERAL_NAMES *san = NULL;
	CRL_DIST_POINTS *crldp = NULL;
	DIST_POINT *dp = NULL;
	X509_NAME *dpn = NULL;
	AUTHORITY_KEYID *akid = NULL;
	CERTIFICATEPOLICIES *pols = NULL;
	POLICYINFO *pi = NULL;
	X509_EXTENSION *ext = NULL;
	ASN1_OBJECT *obj = NULL;
	ASN1_OCTET_STRING *os = NULL;
	static const unsigned char der_null[] = { 0x05, 0x00 };
	const struct facts *f = &h->facts;
	int rc = -1;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, ca->cert, x, NULL, NULL, 0);
	if (add_ext_conf(x, &ctx, NID_key_usage,
			 (h->s.flags & F_NOKU) ? "critical,keyEncipherment"
					       : "critical,digitalSignature,nonRepudiation") == -1)
		goto out;
	if ((pols = CERTIFICATEPOLICIES_new()) == NULL || (pi = POLICYINFO_new()) == NULL ||
	    (pi->policyid = OBJ_txt2obj((h->s.flags & F_BADPOLICY) ? POLICY_TEST : POLICY, 1)) == NULL ||
	    !sk_POLICYINFO_push(pols, pi))
		goto err;
	pi = NULL;
	if (!X509_add1_ext_i2d(x, NID_certificate_policies, pols, 1, X509V3_ADD_DEFAULT))
		goto err;

	if (!(h->s.flags & F_NOFACTS)) {
		if ((san = GENERAL_NAMES_new()) == NULL)
			goto err;
		if (push_othername(san, 1, f->name) == -1)
			goto out;
		if ((h->s.flags & F_TWONAMES) && push_othername(san, 1, "別名　二郎") == -1)
			goto out;
		if (push_othername(san, 2, f->name_subst) == -1 || push_othername(san, 3, f->gender) == -1 ||
		    push_othername(san, 4, f->birth) == -1 || push_othername(san, 5, f->address) == -1 ||
		    push_othername(san, 6, f->address_subst) == -1)
			goto out;
		if (!X509_add1_ext_i2d(x, NID_subject_alt_name, san, 0, X509V3_ADD_DEFAULT))
			goto err;
	}

	if (h->s.city != NULL) {
		if ((dpn = (h->s.flags & F_DP_PRINTABLE) ? dp_name_printable(PREF, h->s.city)
							 : dp_name(PREF, h->s.city)) == NULL)
			goto out;
		if ((crldp = sk_DIST_POINT_new_null()) == NULL || (dp = DIST_POINT_new()) == NULL ||
		    (dp->distpoint = dpn_dirname(dpn)) == NULL || !sk_DIST_POINT_push(crldp, dp))
			goto err;
		dp = NULL;
		if (!X509_add1_ext_i2d(x, NID_crl_distribution_points, crldp, 0, X509V3_ADD_DEFAULT))
			goto err;
	}

	if (!(h->s.flags & F_NOAKI)) {
		if ((akid = akid_of(ca->cert)) == NULL)
			goto out;
		if (!X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT))
			goto err;
	}
	if (add_ski(x) == -1)
		goto out;

	if (h->s.flags & F_UNKCRIT) {
		if ((obj = OBJ_txt2obj(OID_UNKNOWN, 1)) == NULL || (os = ASN1_OCTET_STRING_new()) == NULL ||
		    !ASN1_OCTET_STRING_set(os, der_null, sizeof(der_null)) ||
		    (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, os)) == NULL || !X509_add_ext(x, ext, -1))
			goto err;
	}
	rc = 0;
	goto out;
err:
	fail("cannot add extensions to %s", h->s.name);
out:
	GENERAL_NAMES_free(san);
	DIST_POINT_free(dp);
	CRL_DIST_POINTS_free(crldp);
	X509_NAME_free(dpn);
	AUTHORITY_KEYID_free(akid);
	CERTIFICATEPOLICIES_free(pols);
	POLICYINFO_free(pi);
	X509_EXTENSION_free(ext);
	ASN1_OBJECT_free(obj);
	ASN1_OCTET_STRING_free(os);
	return rc;
}

int make_holder(struct holder *h)
{
	const struct ca *ca = &cas[h->s.ca];
	X509 *x = NULL;
	X509_NAME *subj = NULL;
	ASN1_INTEGER *serial = NULL;
	unsigned char idb[8];
	char id[24];
	const char *kv[] = { "C", "JP", "L", PREF, "L", h->s.city ? h->s.city : "Chiyoda-ku", "CN", id, NULL };
	size_t k;
	int rc = -1;

	if (RAND_bytes(idb, sizeof(idb)) != 1) {
		fail("RAND_bytes failed");
		goto out;
	}
	for (k = 0; k < sizeof(idb); k++)
		snprintf(id + 2 * k, 3, "%02X", idb[k]);
	h->not_before = now + (time_t)h->s.nb;
	h->not_after = now + (time_t)h->s.na;
	if ((x = X509_new()) == NULL || (subj = make_name(kv)) == NULL || (serial = random_serial()) == NULL)
		goto out;
	if (!X509_set_version(x, X509_VERSION_3) || !X509_set_serialNumber(x, serial) ||
	    !X509_set_subject_name(x, subj) || !X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) ||
	    ASN1_TIME_set(X509_getm_notBefore(x), h->not_before) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), h->not_after) == NULL || !X509_set_pubkey(x, h->key)) {
		fail("cannot fill certificate %s", h->s.name);
		goto out;
	}
	if (add_holder_exts(h, x, ca) == -1)
		goto out;
	if (!X509_sign(x, ca->key, (h->s.flags & F_SHA1) ? EVP_sha1() : EVP_sha256())) {
		fail("cannot sign certificate %s", h->s.name);
		goto out;
	}
	if ((h->serial = serial_hex(serial)) == NULL)
		goto out;
	h->cert = x;
	x = NULL;
	rc = 0;
out:
	X509_free(x);
	X509_NAME_free(subj);
	ASN1_INTEGER_free(serial);
	return rc;
}

/*
 * For wrongkey: a copy of the certificate (same issuer, serial and SKI)
 * carrying the other key, so that `openssl cms -sign -signer TWIN -inkey
 * KEY -nocerts -certfile CERT` makes a request whose sid and certificate
 * are the real ones but whose signature is by the wrong key.
 */
X509 *make_twin(const struct holder *h)
{
	X509 *x;

	if ((x = X509_dup(h->cert)) == NULL || !X509_set_pubkey(x, h->filekey) ||
	    !X509_sign(x, h->filekey, EVP_sha256())) {
		X509_free(x);
		fail("cannot make the signer twin of %s", h->s.name);
		return NULL;
	}
	return x;
}
