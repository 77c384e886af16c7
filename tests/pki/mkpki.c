/*
 * mkpki: the test PKI generator (see LAYOUT.md next to this file).
 *
 *   mkpki gen OUTDIR      a fresh PKI: anchors, CAs, holders, CRLs, manifest
 *   mkpki crl OUTDIR ...  one more CRL signed by a CA of OUTDIR
 *
 * Keys are generated in parallel first (that is where the time goes), then
 * everything else is built serially.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define DAY		(24LL * 3600)
#define YEAR		(365 * DAY)
#define HOUR		3600LL

#define POLICY		"1.2.392.200149.8.5.1.1.20"
#define POLICY_TEST	"1.2.392.200149.8.5.1.0.20"
#define OID_FACT	"1.2.392.200149.8.5.5."
#define OID_UNKNOWN	"1.3.6.1.4.1.99999.1"
#define PREF		"Tokyo"		/* the OU=<Pref> of every CRL DP */

#define NVALID		60

static time_t now;

static void fail(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
fail(const char *fmt, ...)
{
	va_list ap;

	fputs("mkpki: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ERR_print_errors_fp(stderr);
}

/* ------------------------------------------------------------------ */
/* Key generation (parallel) */

enum keytype { K_RSA2048, K_RSA1024, K_RSA4096, K_EC };

struct keyjob {
	enum keytype type;
	EVP_PKEY *key;
};

struct keypool {
	struct keyjob *jobs;
	size_t n, next, start;	/* jobs taken from start on, wrapping */
	int failed;
	pthread_mutex_t mu;
};

static EVP_PKEY *
keygen(enum keytype t)
{
	switch (t) {
	case K_RSA2048:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	case K_RSA1024:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	case K_RSA4096:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
	case K_EC:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	}
	return NULL;
}

static void *
keyworker(void *arg)
{
	struct keypool *p = arg;
	size_t i;
	EVP_PKEY *k;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		if (p->failed || p->next == p->n) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		i = (p->start + p->next++) % p->n;
		pthread_mutex_unlock(&p->mu);
		k = keygen(p->jobs[i].type);
		pthread_mutex_lock(&p->mu);
		if (k == NULL)
			p->failed = 1;
		p->jobs[i].key = k;
		pthread_mutex_unlock(&p->mu);
	}
	return NULL;
}

static int
keygen_all(struct keyjob *jobs, size_t n)
{
	struct keypool p = { .jobs = jobs, .n = n };
	pthread_t th[8];
	long ncpu;
	size_t nth, i, started = 0;

	/* the slowest key first, so the threads finish together */
	for (i = 0; i < n; i++)
		if (jobs[i].type == K_RSA4096) {
			p.start = i;
			break;
		}
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	nth = ncpu < 1 ? 1 : ncpu > 8 ? 8 : (size_t)ncpu;
	if (pthread_mutex_init(&p.mu, NULL) != 0) {
		fail("pthread_mutex_init failed");
		return -1;
	}
	for (i = 0; i < nth; i++) {
		if (pthread_create(&th[i], NULL, keyworker, &p) != 0)
			break;
		started++;
	}
	if (started == 0)
		keyworker(&p);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&p.mu);
	if (p.failed) {
		fail("key generation failed");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Small helpers */

static int
mkpath(char *buf, size_t len, const char *a, const char *b, const char *c)
{
	int n;

	n = snprintf(buf, len, "%s%s%s", a, b, c ? c : "");
	if (n < 0 || (size_t)n >= len) {
		fail("path too long: %s%s", a, b);
		return -1;
	}
	return 0;
}

static int
mkdir_ok(const char *path)
{
	if (mkdir(path, 0755) == -1 && errno != EEXIST) {
		fail("mkdir %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void
rfc3339(time_t t, char buf[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* RFC 4514 string (UTF-8 left unescaped); caller frees. */
static char *
name_text(const X509_NAME *name)
{
	BIO *b = NULL;
	char *s = NULL, *p;
	long n;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		goto out;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
		goto out;
	n = BIO_get_mem_data(b, &p);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		goto out;
	memcpy(s, p, (size_t)n);
	s[n] = '\0';
 out:
	BIO_free(b);
	if (s == NULL)
		fail("cannot print a name");
	return s;
}

/* Lowercase hex without leading zeros; caller frees. */
static char *
serial_hex(const ASN1_INTEGER *ai)
{
	BIGNUM *bn = NULL;
	char *h = NULL, *s = NULL, *p;

	if ((bn = ASN1_INTEGER_to_BN(ai, NULL)) == NULL || (h = BN_bn2hex(bn)) == NULL)
		goto out;
	for (p = h; *p == '0' && p[1] != '\0'; p++)
		;
	if ((s = strdup(p)) == NULL)
		goto out;
	for (p = s; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
 out:
	BN_free(bn);
	OPENSSL_free(h);
	if (s == NULL)
		fail("cannot format a serial");
	return s;
}

static ASN1_INTEGER *
random_serial(void)
{
	unsigned char b[8];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;

	if (RAND_bytes(b, sizeof(b)) != 1)
		goto out;
	b[0] &= 0x7f;
	if (b[0] == 0)
		b[0] = 0x01;
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL)
		goto out;
	ai = BN_to_ASN1_INTEGER(bn, NULL);
 out:
	BN_free(bn);
	if (ai == NULL)
		fail("cannot make a serial");
	return ai;
}

/* kv: field, value pairs ending with NULL; C is a PrintableString. */
static X509_NAME *
make_name(const char *const *kv)
{
	X509_NAME *n;
	int ok;

	if ((n = X509_NAME_new()) == NULL)
		goto err;
	for (; kv[0] != NULL; kv += 2) {
		if (strcmp(kv[0], "C") == 0)
			ok = X509_NAME_add_entry_by_txt(n, kv[0], V_ASN1_PRINTABLESTRING,
			    (const unsigned char *)kv[1], -1, -1, 0);
		else
			ok = X509_NAME_add_entry_by_txt(n, kv[0], MBSTRING_UTF8,
			    (const unsigned char *)kv[1], -1, -1, 0);
		if (!ok)
			goto err;
	}
	return n;
 err:
	X509_NAME_free(n);
	fail("cannot build a name");
	return NULL;
}

static X509_NAME *
dp_name(const char *pref, const char *city)
{
	char cn[128];
	const char *kv[] = {
		"C", "JP", "O", "JPKI", "OU", "JPKI for digital signature",
		"OU", "CRL Distribution Points", "OU", pref, "CN", cn, NULL
	};
	int n;

	n = snprintf(cn, sizeof(cn), "%s CRLDP", city);
	if (n < 0 || (size_t)n >= sizeof(cn)) {
		fail("city name too long");
		return NULL;
	}
	return make_name(kv);
}

/* The same distribution point name with every value a PrintableString
 * (dp_name: C PrintableString, the rest UTF8String): one name to RFC 5280
 * 7.1, other bytes (issue 11 section 4). */
static X509_NAME *
dp_name_printable(const char *pref, const char *city)
{
	X509_NAME *n = dp_name(pref, city), *p = NULL;
	int i;

	if (n == NULL || (p = X509_NAME_new()) == NULL)
		goto err;
	for (i = 0; i < X509_NAME_entry_count(n); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(n, i);
		const ASN1_STRING *v = X509_NAME_ENTRY_get_data(e);

		if (!X509_NAME_add_entry_by_OBJ(p, X509_NAME_ENTRY_get_object(e),
		    V_ASN1_PRINTABLESTRING, ASN1_STRING_get0_data(v), ASN1_STRING_length(v),
		    -1, 0))
			goto err;
	}
	X509_NAME_free(n);
	return p;
 err:
	X509_NAME_free(n);
	X509_NAME_free(p);
	fail("cannot build a name");
	return NULL;
}

/* A DIST_POINT_NAME whose fullName is one directoryName (a copy of n). */
static DIST_POINT_NAME *
dpn_dirname(const X509_NAME *n)
{
	DIST_POINT_NAME *dpn = NULL;
	GENERAL_NAME *gn = NULL;
	X509_NAME *dup = NULL;

	if ((dpn = DIST_POINT_NAME_new()) == NULL ||
	    (dpn->name.fullname = GENERAL_NAMES_new()) == NULL ||
	    (gn = GENERAL_NAME_new()) == NULL ||
	    (dup = X509_NAME_dup(n)) == NULL)
		goto err;
	dpn->type = 0;
	GENERAL_NAME_set0_value(gn, GEN_DIRNAME, dup);
	dup = NULL;
	if (!sk_GENERAL_NAME_push(dpn->name.fullname, gn))
		goto err;
	return dpn;
 err:
	X509_NAME_free(dup);
	GENERAL_NAME_free(gn);
	DIST_POINT_NAME_free(dpn);
	fail("cannot build a distribution point name");
	return NULL;
}

static int
write_file_bio(const char *path, int (*fn)(BIO *, const void *), const void *obj)
{
	BIO *b;
	int ok;

	if ((b = BIO_new_file(path, "wb")) == NULL) {
		fail("cannot create %s", path);
		return -1;
	}
	ok = fn(b, obj) > 0 && BIO_flush(b) > 0;
	BIO_free(b);
	if (!ok) {
		fail("cannot write %s", path);
		return -1;
	}
	return 0;
}

static int
w_cert(BIO *b, const void *o)
{
	return PEM_write_bio_X509(b, (X509 *)o);
}

static int
w_key(BIO *b, const void *o)
{
	return PEM_write_bio_PrivateKey(b, (EVP_PKEY *)o, NULL, NULL, 0, NULL, NULL);
}

static int
w_crl_der(BIO *b, const void *o)
{
	return i2d_X509_CRL_bio(b, (X509_CRL *)o);
}

static int
w_crl_pem(BIO *b, const void *o)
{
	return PEM_write_bio_X509_CRL(b, (X509_CRL *)o);
}

static int
add_ext_conf(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext;
	int ok;

	if ((ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value)) == NULL) {
		fail("cannot make extension %s = %s", OBJ_nid2sn(nid), value);
		return -1;
	}
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (!ok) {
		fail("cannot add extension %s", OBJ_nid2sn(nid));
		return -1;
	}
	return 0;
}

/* SKI = SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2 method 1). */
static int
add_ski(X509 *x)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len;
	ASN1_OCTET_STRING *os = NULL;
	int rc = -1;

	if (!X509_pubkey_digest(x, EVP_sha1(), md, &len) ||
	    (os = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(os, md, (int)len) ||
	    !X509_add1_ext_i2d(x, NID_subject_key_identifier, os, 0, X509V3_ADD_DEFAULT))
		goto out;
	rc = 0;
 out:
	ASN1_OCTET_STRING_free(os);
	if (rc == -1)
		fail("cannot add subjectKeyIdentifier");
	return rc;
}

static AUTHORITY_KEYID *
akid_of(X509 *issuer)
{
	AUTHORITY_KEYID *a;
	const ASN1_OCTET_STRING *ski;

	if ((ski = X509_get0_subject_key_id(issuer)) == NULL) {
		fail("issuer has no subjectKeyIdentifier");
		return NULL;
	}
	if ((a = AUTHORITY_KEYID_new()) == NULL ||
	    (a->keyid = ASN1_OCTET_STRING_dup(ski)) == NULL) {
		AUTHORITY_KEYID_free(a);
		fail("cannot build authorityKeyIdentifier");
		return NULL;
	}
	return a;
}

/* ------------------------------------------------------------------ */
/* Certification authorities */

enum { CA_G1, CA_G2, CA_TOKYO, CA_IMPOSTOR, CA_UNKNOWN, NCA };

struct ca {
	const char *name;
	const char *const *dn;
	long long nb, na;	/* relative to now */
	int anchor;
	X509 *cert;
	EVP_PKEY *key;		/* borrowed from the key jobs */
};

static const char *const dn_jlis[] = {
	"C", "JP", "O", "JPKI", "OU", "JPKI for digital signature",
	"OU", "Japan Agency for Local Authority Information Systems", NULL
};
static const char *const dn_tokyo[] = {
	"C", "JP", "O", "JPKI", "OU", "JPKI for digital signature",
	"OU", "Tokyo-to", NULL
};
static const char *const dn_unknown[] = {
	"C", "JP", "O", "JPKI-TEST", "OU", "Unknown CA", NULL
};

static struct ca cas[NCA] = {
	[CA_G1] = { "jlis-g1", dn_jlis, -8 * YEAR, 2 * YEAR, 1, NULL, NULL },
	[CA_G2] = { "jlis-g2", dn_jlis, -2 * YEAR, 8 * YEAR, 1, NULL, NULL },
	[CA_TOKYO] = { "pref-tokyo", dn_tokyo, -3 * YEAR, 7 * YEAR, 1, NULL, NULL },
	[CA_IMPOSTOR] = { "impostor", dn_jlis, -2 * YEAR, 8 * YEAR, 0, NULL, NULL },
	[CA_UNKNOWN] = { "unknown", dn_unknown, -2 * YEAR, 8 * YEAR, 0, NULL, NULL },
};

static int
make_ca(struct ca *ca)
{
	X509 *x = NULL;
	X509_NAME *n = NULL;
	ASN1_INTEGER *serial = NULL;
	X509V3_CTX ctx;
	int rc = -1;

	if ((x = X509_new()) == NULL || (n = make_name(ca->dn)) == NULL ||
	    (serial = random_serial()) == NULL)
		goto out;
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_serialNumber(x, serial) ||
	    !X509_set_subject_name(x, n) || !X509_set_issuer_name(x, n) ||
	    X509_time_adj_ex(X509_getm_notBefore(x), 0, (long)ca->nb, &now) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), 0, (long)ca->na, &now) == NULL ||
	    !X509_set_pubkey(x, ca->key)) {
		fail("cannot fill CA certificate %s", ca->name);
		goto out;
	}
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (add_ext_conf(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") == -1 ||
	    add_ext_conf(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") == -1 ||
	    add_ski(x) == -1)
		goto out;
	if (!X509_sign(x, ca->key, EVP_sha256())) {
		fail("cannot sign CA certificate %s", ca->name);
		goto out;
	}
	ca->cert = x;
	x = NULL;
	rc = 0;
 out:
	X509_free(x);
	X509_NAME_free(n);
	ASN1_INTEGER_free(serial);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Holder facts */

struct facts {
	char name[128];
	char name_subst[64];
	char gender[2];
	char birth[16];		/* EYYYYMMDD */
	char birth_iso[16];	/* YYYY-MM-DD */
	char address[1024];
	char address_subst[256];
};

static const char *const surnames[] = {
	"吉田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本",
	"中村", "小林", "加藤", "山田", "佐々木", "山口", "松本", "井上",
	"木村", "林", "斎藤", "清水", "𠮷田", "髙橋", "長谷川", "五十嵐",
};
static const char *const given_m[] = {
	"太郎", "一郎", "健太", "翔", "大輔", "誠", "浩二", "隆", "拓也", "直樹",
};
static const char *const given_f[] = {
	"花子", "陽子", "美咲", "さくら", "由美", "恵子", "愛", "明日香", "真由美",
};
static const char *const given_x[] = {
	"光", "薫", "渚", "忍", "歩",
};
static const char *const streets[] = {
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

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	int idx, y, m, d;
} birth_special[] = {
	{ 0, 1958, 8, 10 },	/* DESIGN.md's example */
	{ 4, 1905, 3, 15 },	/* 明治 */
	{ 9, 1989, 1, 7 },	/* last day of 昭和 */
	{ 10, 1989, 1, 8 },	/* first day of 平成 */
	{ 11, 2019, 4, 30 },	/* last day of 平成 */
	{ 12, 2019, 5, 1 },	/* first day of 令和 */
	{ 13, 1926, 12, 24 },	/* last day of 大正 */
	{ 14, 1926, 12, 25 },	/* first day of 昭和 */
	{ 15, 1912, 7, 29 },	/* last day of 明治 */
	{ 16, 1912, 7, 30 },	/* first day of 大正 */
	{ 17, 2000, 2, 29 },
	{ 18, 1980, 12, 31 },	/* JPKI-PROFILE.md's DER example */
};

static int
era_of(int y, int m, int d)
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

static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static void
zeros(char *buf, size_t len, size_t n)
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
static void
facts_for(int i, const char *city, struct facts *f)
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
	snprintf(f->address, sizeof(f->address), "%s%s", prefix,
	    streets[(size_t)i % NELEM(streets)]);
	if (i == 19) {
		/* the longest address the profile allows: 200 characters */
		static const char *const fill[] = { "長", "い", "建", "物", "名" };
		size_t len;

		snprintf(f->address, sizeof(f->address), "%s丸の内1丁目1番1号　", prefix);
		for (k = 0; utf8_chars(f->address) < 200; k++) {
			len = strlen(f->address);
			snprintf(f->address + len, sizeof(f->address) - len, "%s",
			    fill[k % NELEM(fill)]);
		}
	}
	zeros(f->address_subst, sizeof(f->address_subst), utf8_chars(f->address));
	if (i == 7)
		f->address_subst[8] = '1';
}

static const char *
gender_word(const char *code)
{
	if (strcmp(code, "1") == 0)
		return "男";
	if (strcmp(code, "2") == 0)
		return "女";
	return "不明";
}

static json_t *
facts_json(const struct facts *f)
{
	if (f == NULL)
		return json_object();
	return json_pack("{s:s, s:s, s:s, s:s}", "name", f->name, "address", f->address,
	    "birthDate", f->birth_iso, "gender", gender_word(f->gender));
}

static int
push_othername(GENERAL_NAMES *gens, int fact, const char *value)
{
	char oid[64];
	ASN1_OBJECT *obj = NULL;
	ASN1_TYPE *val = NULL;
	ASN1_UTF8STRING *s = NULL;
	GENERAL_NAME *gn = NULL;

	snprintf(oid, sizeof(oid), OID_FACT "%d", fact);
	if ((obj = OBJ_txt2obj(oid, 1)) == NULL ||
	    (s = ASN1_UTF8STRING_new()) == NULL ||
	    !ASN1_STRING_set(s, value, -1) ||
	    (val = ASN1_TYPE_new()) == NULL)
		goto err;
	ASN1_TYPE_set(val, V_ASN1_UTF8STRING, s);
	s = NULL;
	if ((gn = GENERAL_NAME_new()) == NULL ||
	    !GENERAL_NAME_set0_othername(gn, obj, val))
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

enum {
	F_NOAKI = 1 << 0,
	F_NOFACTS = 1 << 1,
	F_TWONAMES = 1 << 2,
	F_BADPOLICY = 1 << 3,
	F_NOKU = 1 << 4,
	F_UNKCRIT = 1 << 5,
	F_SHA1 = 1 << 6,
	F_WRONGKEY = 1 << 7,
	F_DP_PRINTABLE = 1 << 8,	/* DP directoryName all PrintableString */
};

struct hspec {
	char name[32];
	int ca;
	enum keytype ktype;
	long long nb, na;	/* relative to now */
	const char *city;	/* CRL DP, or NULL */
	unsigned flags;
	const char *vc, *rev;	/* expected results */
	int fidx;		/* facts_for index */
};

struct holder {
	struct hspec s;
	struct facts facts;
	EVP_PKEY *key;		/* the certificate's key, borrowed */
	EVP_PKEY *filekey;	/* written to key.pem, borrowed */
	X509 *cert;
	char *serial;
	time_t not_before, not_after;
};

#define NB	(-1 * YEAR)
#define NA	(4 * YEAR)

static const struct hspec special[] = {
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
	{ "nofacts", CA_G2, K_RSA2048, NB, NA, "Chiyoda-ku", F_NOFACTS,
	  "badCertificateSignature", "badCertificateSignature", 0 },
	{ "twonames", CA_G2, K_RSA2048, NB, NA, "Chiyoda-ku", F_TWONAMES,
	  "badCertificateSignature", "badCertificateSignature", 0 },
	{ "badpolicy", CA_G2, K_RSA2048, NB, NA, "Chiyoda-ku", F_BADPOLICY,
	  "badCertificateSignature", "badCertificateSignature", 0 },
	{ "nokeyusage", CA_G2, K_RSA2048, NB, NA, "Chiyoda-ku", F_NOKU,
	  "badCertificateSignature", "badCertificateSignature", 0 },
	{ "unknowncrit", CA_G2, K_RSA2048, NB, NA, "Chiyoda-ku", F_UNKCRIT,
	  "badCertificateSignature", "badCertificateSignature", 0 },
	{ "sha1cert", CA_G2, K_RSA2048, NB, NA, "Chiyoda-ku", F_SHA1,
	  "badCertificateSignature", "badCertificateSignature", 0 },
	{ "rsa1024", CA_G2, K_RSA1024, NB, NA, "Chiyoda-ku", 0,
	  "badCertificateSignature", "badCertificateSignature", 0 },
	{ "before-anchor", CA_G2, K_RSA2048, -2 * YEAR - 30 * DAY, 3 * YEAR, "Chiyoda-ku", 0,
	  "badCertificateSignature", "badCertificateSignature", 0 },
	{ "impostor", CA_IMPOSTOR, K_RSA2048, NB, NA, "Chiyoda-ku", 0,
	  "badCertificateSignature", "badCertificateSignature", 0 },
	{ "unknown", CA_UNKNOWN, K_RSA2048, NB, NA, "Chiyoda-ku", 0,
	  "issuerMismatch", "issuerMismatch", 0 },
	{ "wrongkey", CA_G2, K_RSA2048, NB, NA, "Chiyoda-ku", F_WRONGKEY,
	  "badRequestSignature", "badRequestSignature", 0 },
	{ "stale-dp", CA_G2, K_RSA2048, NB, NA, "Stale-shi", 0, "serviceError", "accepted", 0 },
	{ "pref-nocrl", CA_TOKYO, K_RSA2048, NB, NA, "Hachioji-shi", 0, "serviceError", "accepted", 0 },
	{ "stale-dp-printable", CA_G2, K_RSA2048, NB, NA, "Stale-shi", F_DP_PRINTABLE,
	  "serviceError", "accepted", 0 },
	{ "valid-dp-printable", CA_G2, K_RSA2048, NB, NA, "Chiyoda-ku", F_DP_PRINTABLE,
	  "valid", "accepted", 0 },
};

#define NHOLDER	(NVALID + NELEM(special))

static int
add_holder_exts(struct holder *h, X509 *x, const struct ca *ca)
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
	if (add_ext_conf(x, &ctx, NID_key_usage, (h->s.flags & F_NOKU) ?
	    "critical,keyEncipherment" : "critical,digitalSignature,nonRepudiation") == -1)
		goto out;
	if ((pols = CERTIFICATEPOLICIES_new()) == NULL ||
	    (pi = POLICYINFO_new()) == NULL ||
	    (pi->policyid = OBJ_txt2obj((h->s.flags & F_BADPOLICY) ? POLICY_TEST : POLICY,
	    1)) == NULL ||
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
		if (push_othername(san, 2, f->name_subst) == -1 ||
		    push_othername(san, 3, f->gender) == -1 ||
		    push_othername(san, 4, f->birth) == -1 ||
		    push_othername(san, 5, f->address) == -1 ||
		    push_othername(san, 6, f->address_subst) == -1)
			goto out;
		if (!X509_add1_ext_i2d(x, NID_subject_alt_name, san, 0, X509V3_ADD_DEFAULT))
			goto err;
	}

	if (h->s.city != NULL) {
		if ((dpn = (h->s.flags & F_DP_PRINTABLE) ? dp_name_printable(PREF, h->s.city) :
		    dp_name(PREF, h->s.city)) == NULL)
			goto out;
		if ((crldp = sk_DIST_POINT_new_null()) == NULL ||
		    (dp = DIST_POINT_new()) == NULL ||
		    (dp->distpoint = dpn_dirname(dpn)) == NULL ||
		    !sk_DIST_POINT_push(crldp, dp))
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
		if ((obj = OBJ_txt2obj(OID_UNKNOWN, 1)) == NULL ||
		    (os = ASN1_OCTET_STRING_new()) == NULL ||
		    !ASN1_OCTET_STRING_set(os, der_null, sizeof(der_null)) ||
		    (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, os)) == NULL ||
		    !X509_add_ext(x, ext, -1))
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

static int
make_holder(struct holder *h)
{
	const struct ca *ca = &cas[h->s.ca];
	X509 *x = NULL;
	X509_NAME *subj = NULL;
	ASN1_INTEGER *serial = NULL;
	unsigned char idb[8];
	char id[24];
	const char *kv[] = { "C", "JP", "L", PREF, "L", h->s.city ? h->s.city : "Chiyoda-ku",
	    "CN", id, NULL };
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
	if ((x = X509_new()) == NULL || (subj = make_name(kv)) == NULL ||
	    (serial = random_serial()) == NULL)
		goto out;
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_serialNumber(x, serial) ||
	    !X509_set_subject_name(x, subj) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) ||
	    ASN1_TIME_set(X509_getm_notBefore(x), h->not_before) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), h->not_after) == NULL ||
	    !X509_set_pubkey(x, h->key)) {
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
static X509 *
make_twin(const struct holder *h)
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

/* ------------------------------------------------------------------ */
/* CRLs */

enum {
	C_DELTA = 1 << 0,	/* deltaCRLIndicator (base number - 1) */
	C_V1 = 1 << 1,		/* v1: no extensions at all */
	C_NONEXT = 1 << 2,	/* no nextUpdate */
	C_NONUMBER = 1 << 3,	/* no cRLNumber */
	C_DP_PRINTABLE = 1 << 4,	/* IDP directoryName all PrintableString */
};

struct revoked {
	ASN1_INTEGER *serial;	/* borrowed */
	int reason;
	time_t date;
};

static const struct {
	const char *name;
	int code;
} reasons[] = {
	{ "unspecified", CRL_REASON_UNSPECIFIED },
	{ "keyCompromise", CRL_REASON_KEY_COMPROMISE },
	{ "cACompromise", CRL_REASON_CA_COMPROMISE },
	{ "affiliationChanged", CRL_REASON_AFFILIATION_CHANGED },
	{ "superseded", CRL_REASON_SUPERSEDED },
	{ "cessationOfOperation", CRL_REASON_CESSATION_OF_OPERATION },
	{ "certificateHold", CRL_REASON_CERTIFICATE_HOLD },
	{ "removeFromCRL", CRL_REASON_REMOVE_FROM_CRL },
	{ "privilegeWithdrawn", CRL_REASON_PRIVILEGE_WITHDRAWN },
	{ "aACompromise", CRL_REASON_AA_COMPROMISE },
};

static int
add_crl_int_ext(X509_CRL *crl, int nid, long v, int crit)
{
	ASN1_INTEGER *ai;
	int ok;

	if ((ai = ASN1_INTEGER_new()) == NULL)
		return 0;
	ok = ASN1_INTEGER_set(ai, v) &&
	    X509_CRL_add1_ext_i2d(crl, nid, ai, crit, X509V3_ADD_DEFAULT);
	ASN1_INTEGER_free(ai);
	return ok;
}

static int
add_revoked(X509_CRL *crl, const struct revoked *r, int v1)
{
	X509_REVOKED *rev = NULL;
	ASN1_TIME *t = NULL;
	ASN1_ENUMERATED *e = NULL;
	int rc = -1;

	if ((rev = X509_REVOKED_new()) == NULL ||
	    !X509_REVOKED_set_serialNumber(rev, r->serial) ||
	    (t = ASN1_TIME_set(NULL, r->date)) == NULL ||
	    !X509_REVOKED_set_revocationDate(rev, t))
		goto out;
	if (!v1) {
		if ((e = ASN1_ENUMERATED_new()) == NULL ||
		    !ASN1_ENUMERATED_set(e, r->reason) ||
		    !X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, e, 0, X509V3_ADD_DEFAULT))
			goto out;
	}
	if (!X509_CRL_add0_revoked(crl, rev))
		goto out;
	rev = NULL;
	rc = 0;
 out:
	X509_REVOKED_free(rev);
	ASN1_TIME_free(t);
	ASN1_ENUMERATED_free(e);
	if (rc == -1)
		fail("cannot add a CRL entry");
	return rc;
}

static X509_CRL *
make_crl(const struct ca *ca, const char *city, long number, time_t tu, time_t nu,
    unsigned flags, const struct revoked *revs, size_t nrev)
{
	X509_CRL *crl = NULL;
	X509_NAME *dpn = NULL;
	ISSUING_DIST_POINT *idp = NULL;
	AUTHORITY_KEYID *akid = NULL;
	ASN1_TIME *t = NULL;
	size_t i;
	int v1 = (flags & C_V1) != 0;

	if ((crl = X509_CRL_new()) == NULL)
		goto err;
	if (!v1 && !X509_CRL_set_version(crl, X509_CRL_VERSION_2))
		goto err;
	if (!X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) ||
	    (t = ASN1_TIME_set(NULL, tu)) == NULL ||
	    !X509_CRL_set1_lastUpdate(crl, t))
		goto err;
	if (!(flags & C_NONEXT)) {
		ASN1_TIME_free(t);
		if ((t = ASN1_TIME_set(NULL, nu)) == NULL ||
		    !X509_CRL_set1_nextUpdate(crl, t))
			goto err;
	}
	for (i = 0; i < nrev; i++)
		if (add_revoked(crl, &revs[i], v1) == -1)
			goto fail;
	if (!v1) {
		if ((akid = akid_of(ca->cert)) == NULL)
			goto fail;
		if (!X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0,
		    X509V3_ADD_DEFAULT))
			goto err;
		if (!(flags & C_NONUMBER) && !add_crl_int_ext(crl, NID_crl_number, number, 0))
			goto err;
		if ((flags & C_DELTA) && !add_crl_int_ext(crl, NID_delta_crl, number - 1, 1))
			goto err;
		if (city != NULL) {
			if ((dpn = (flags & C_DP_PRINTABLE) ? dp_name_printable(PREF, city) :
			    dp_name(PREF, city)) == NULL)
				goto fail;
			if ((idp = ISSUING_DIST_POINT_new()) == NULL ||
			    (idp->distpoint = dpn_dirname(dpn)) == NULL ||
			    !X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1,
			    X509V3_ADD_DEFAULT))
				goto err;
		}
	}
	if (!X509_CRL_sort(crl) || !X509_CRL_sign(crl, ca->key, EVP_sha256()))
		goto err;
	goto out;
 err:
	fail("cannot build a CRL signed by %s", ca->name);
 fail:
	X509_CRL_free(crl);
	crl = NULL;
 out:
	X509_NAME_free(dpn);
	ISSUING_DIST_POINT_free(idp);
	AUTHORITY_KEYID_free(akid);
	ASN1_TIME_free(t);
	return crl;
}

/* The manifest's description of a CRL; serials as lowercase hex. */
static json_t *
crl_json(const X509_CRL *crl, const char *der, const char *pem, const char *signer,
    const char *city, long number, time_t tu, time_t nu, unsigned flags, const char *expect)
{
	json_t *o = NULL, *serials = NULL;
	X509_NAME *dpn = NULL;
	char *issuer = NULL, *dp = NULL, *hex;
	char tus[32], nus[32];
	STACK_OF(X509_REVOKED) *revs;
	int i;

	if ((issuer = name_text(X509_CRL_get_issuer(crl))) == NULL)
		goto out;
	if (city != NULL && !(flags & C_V1)) {
		if ((dpn = dp_name(PREF, city)) == NULL || (dp = name_text(dpn)) == NULL)
			goto out;
	}
	if ((serials = json_array()) == NULL)
		goto out;
	revs = X509_CRL_get_REVOKED((X509_CRL *)crl);
	for (i = 0; i < sk_X509_REVOKED_num(revs); i++) {
		hex = serial_hex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revs, i)));
		if (hex == NULL || json_array_append_new(serials, json_string(hex)) == -1) {
			free(hex);
			goto out;
		}
		free(hex);
	}
	rfc3339(tu, tus);
	rfc3339(nu, nus);
	o = json_pack("{s:s, s:s?, s:s, s:s, s:s?, s:o, s:s, s:o, s:O, s:s?}",
	    "der", der, "pem", pem, "signer", signer, "issuer", issuer, "dp", dp,
	    "number", ((flags & (C_V1 | C_NONUMBER)) ? json_null() : json_integer(number)),
	    "thisUpdate", tus,
	    "nextUpdate", ((flags & C_NONEXT) ? json_null() : json_string(nus)),
	    "serials", serials, "expect", expect);
 out:
	if (o == NULL)
		fail("cannot describe a CRL");
	json_decref(serials);
	X509_NAME_free(dpn);
	free(issuer);
	free(dp);
	return o;
}

/* ------------------------------------------------------------------ */
/* gen */

static int
write_applicant(const char *path, const struct holder *h)
{
	json_t *o;
	int rc;

	if ((o = facts_json(&h->facts)) == NULL) {
		fail("cannot build %s", path);
		return -1;
	}
	rc = json_dump_file(o, path, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (rc == -1)
		fail("cannot write %s", path);
	return rc;
}

static json_t *
holder_json(const struct holder *h, const char *cert, const char *key, const char *twin)
{
	X509_NAME *dpn = NULL;
	char *issuer = NULL, *dp = NULL;
	char nb[32], na[32];
	json_t *o = NULL;

	if ((issuer = name_text(X509_get_issuer_name(h->cert))) == NULL)
		goto out;
	if (h->s.city != NULL &&
	    ((dpn = dp_name(PREF, h->s.city)) == NULL || (dp = name_text(dpn)) == NULL))
		goto out;
	rfc3339(h->not_before, nb);
	rfc3339(h->not_after, na);
	o = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s, s:s?, s:o, s:s, s:s, s:{s:s, s:s}}",
	    "cert", cert, "key", key, "signer", twin, "serial", h->serial,
	    "ca", cas[h->s.ca].name,
	    "issuer", issuer, "dp", dp,
	    "applicant", facts_json(&h->facts),
	    "notBefore", nb, "notAfter", na,
	    "expect", "validity-check", h->s.vc, "revocation", h->s.rev);
 out:
	if (o == NULL)
		fail("cannot describe holder %s", h->s.name);
	X509_NAME_free(dpn);
	free(issuer);
	free(dp);
	return o;
}

static struct holder *
find_holder(struct holder *hs, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(hs[i].s.name, name) == 0)
			return &hs[i];
	return NULL;
}

static const struct {
	const char *name;
	int ca;
	const char *city;
	long number;
	long long tu, nu;
	unsigned flags;
	const char *revoke;	/* holder name or NULL */
	int reason;
	const char *expect;	/* "accepted", "refused", or "older" (refused after a newer) */
	int pem;
} gen_crls[] = {
	{ "jlis-full", CA_G2, NULL, 10, -HOUR, 23 * HOUR, 0, "revoked-full",
	  CRL_REASON_AFFILIATION_CHANGED, "accepted", 1 },
	{ "jlis-dp-chiyoda", CA_G2, "Chiyoda-ku", 10, -HOUR, 23 * HOUR, 0, "revoked",
	  CRL_REASON_KEY_COMPROMISE, "accepted", 0 },
	{ "jlis-dp-stale", CA_G2, "Stale-shi", 3, -3 * DAY, -2 * DAY, 0, NULL, 0, "accepted", 0 },
	{ "pref-tokyo-dp-shinjuku", CA_TOKYO, "Shinjuku-ku", 5, -HOUR, 23 * HOUR, 0, NULL, 0,
	  "accepted", 0 },
	{ "jlis-full-older", CA_G2, NULL, 9, -25 * HOUR, -HOUR, 0, "revoked-full",
	  CRL_REASON_AFFILIATION_CHANGED, "older", 0 },
	{ "jlis-full-by-g1", CA_G1, NULL, 11, -HOUR, 23 * HOUR, 0, "revoked-full",
	  CRL_REASON_AFFILIATION_CHANGED, "accepted", 0 },
	{ "jlis-full-impostor", CA_IMPOSTOR, NULL, 12, -HOUR, 23 * HOUR, 0, NULL, 0, "refused", 0 },
	{ "jlis-full-delta", CA_G2, NULL, 13, -HOUR, 23 * HOUR, C_DELTA, NULL, 0, "refused", 0 },
	{ "jlis-full-v1", CA_G2, NULL, 0, -HOUR, 23 * HOUR, C_V1, NULL, 0, "refused", 0 },
	{ "unknown-full", CA_UNKNOWN, NULL, 1, -HOUR, 23 * HOUR, 0, NULL, 0, "refused", 0 },
};

static int
gen(const char *arg)
{
	struct keyjob *jobs = NULL;
	struct holder *hs = NULL, *h;
	X509_CRL *crl = NULL;
	json_t *man = NULL, *jh, *jc, *ja, *jcas, *o;
	X509 *x = NULL;
	char dir[PATH_MAX], p1[PATH_MAX], p2[PATH_MAX], p3[PATH_MAX], *subj;
	const char *twin;
	size_t i, nj = 0;
	int rc = -1;

	if (mkdir_ok(arg) == -1)
		goto out;
	if (realpath(arg, dir) == NULL) {
		fail("%s: %s", arg, strerror(errno));
		goto out;
	}
	if (mkpath(p1, sizeof(p1), dir, "/anchors", NULL) == -1 || mkdir_ok(p1) == -1 ||
	    mkpath(p1, sizeof(p1), dir, "/ca", NULL) == -1 || mkdir_ok(p1) == -1 ||
	    mkpath(p1, sizeof(p1), dir, "/holders", NULL) == -1 || mkdir_ok(p1) == -1 ||
	    mkpath(p1, sizeof(p1), dir, "/crls", NULL) == -1 || mkdir_ok(p1) == -1)
		goto out;

	/* the holder table */
	if ((hs = calloc(NHOLDER, sizeof(*hs))) == NULL) {
		fail("out of memory");
		goto out;
	}
	for (i = 0; i < NVALID; i++) {
		h = &hs[i];
		snprintf(h->s.name, sizeof(h->s.name), "valid-%02zu", i + 1);
		h->s.ca = CA_G2;
		h->s.ktype = K_RSA2048;
		h->s.nb = NB;
		h->s.na = NA;
		h->s.city = "Chiyoda-ku";
		h->s.vc = "valid";
		h->s.rev = "accepted";
		h->s.fidx = (int)i;
	}
	for (i = 0; i < NELEM(special); i++) {
		hs[NVALID + i].s = special[i];
		hs[NVALID + i].s.fidx = (int)(NVALID + i);
	}
	for (i = 0; i < NHOLDER; i++)
		facts_for(hs[i].s.fidx, hs[i].s.city, &hs[i].facts);

	/* keys: holders, then the CAs, then the wrongkey's other key */
	nj = NHOLDER + NCA + 1;
	if ((jobs = calloc(nj, sizeof(*jobs))) == NULL) {
		fail("out of memory");
		goto out;
	}
	for (i = 0; i < NHOLDER; i++)
		jobs[i].type = hs[i].s.ktype;
	for (i = NHOLDER; i < nj; i++)
		jobs[i].type = K_RSA2048;
	if (keygen_all(jobs, nj) == -1)
		goto out;
	for (i = 0; i < NHOLDER; i++)
		hs[i].key = hs[i].filekey = jobs[i].key;
	for (i = 0; i < NCA; i++)
		cas[i].key = jobs[NHOLDER + i].key;
	if ((h = find_holder(hs, NHOLDER, "wrongkey")) != NULL)
		h->filekey = jobs[NHOLDER + NCA].key;

	if ((man = json_object()) == NULL || (jh = json_object()) == NULL ||
	    json_object_set_new(man, "holders", jh) == -1 ||
	    (jc = json_object()) == NULL || json_object_set_new(man, "crls", jc) == -1 ||
	    (ja = json_array()) == NULL || json_object_set_new(man, "anchors", ja) == -1 ||
	    (jcas = json_object()) == NULL || json_object_set_new(man, "cas", jcas) == -1 ||
	    json_object_set_new(man, "policy", json_string(POLICY)) == -1 ||
	    json_object_set_new(man, "outdir", json_string(dir)) == -1) {
		fail("out of memory");
		goto out;
	}

	/* CAs */
	for (i = 0; i < NCA; i++) {
		if (make_ca(&cas[i]) == -1 ||
		    mkpath(p1, sizeof(p1), dir, "/ca/", cas[i].name) == -1 ||
		    strlen(p1) + 16 > sizeof(p1))
			goto out;
		strcpy(p2, p1);
		strcat(p1, ".cert.pem");
		strcat(p2, ".key.pem");
		if (write_file_bio(p1, w_cert, cas[i].cert) == -1 ||
		    write_file_bio(p2, w_key, cas[i].key) == -1)
			goto out;
		if ((subj = name_text(X509_get_subject_name(cas[i].cert))) == NULL)
			goto out;
		o = json_pack("{s:s, s:s, s:s, s:b}", "cert", p1, "key", p2, "subject", subj,
		    "anchor", cas[i].anchor);
		free(subj);
		if (o == NULL || json_object_set_new(jcas, cas[i].name, o) == -1) {
			fail("out of memory");
			goto out;
		}
		if (!cas[i].anchor)
			continue;
		if (mkpath(p1, sizeof(p1), dir, "/anchors/", cas[i].name) == -1 ||
		    strlen(p1) + 8 > sizeof(p1))
			goto out;
		strcat(p1, ".pem");
		if (write_file_bio(p1, w_cert, cas[i].cert) == -1)
			goto out;
		if (json_array_append_new(ja, json_string(p1)) == -1) {
			fail("out of memory");
			goto out;
		}
	}

	/* holders */
	for (i = 0; i < NHOLDER; i++) {
		h = &hs[i];
		if (make_holder(h) == -1 ||
		    mkpath(p1, sizeof(p1), dir, "/holders/", h->s.name) == -1 ||
		    strlen(p1) + 24 > sizeof(p1))
			goto out;
		strcpy(p2, p1);
		strcat(p2, ".applicant.json");
		if (write_applicant(p2, h) == -1)
			goto out;
		strcpy(p2, p1);
		strcat(p1, ".cert.pem");
		strcat(p2, ".key.pem");
		if (write_file_bio(p1, w_cert, h->cert) == -1 ||
		    write_file_bio(p2, w_key, h->filekey) == -1)
			goto out;
		twin = NULL;
		if (h->s.flags & F_WRONGKEY) {
			if ((x = make_twin(h)) == NULL ||
			    mkpath(p3, sizeof(p3), dir, "/holders/", h->s.name) == -1 ||
			    strlen(p3) + 16 > sizeof(p3))
				goto out;
			strcat(p3, ".signer.pem");
			if (write_file_bio(p3, w_cert, x) == -1)
				goto out;
			X509_free(x);
			x = NULL;
			twin = p3;
		}
		if ((o = holder_json(h, p1, p2, twin)) == NULL ||
		    json_object_set_new(jh, h->s.name, o) == -1)
			goto out;
	}

	/* CRLs */
	for (i = 0; i < NELEM(gen_crls); i++) {
		struct revoked r, *rp = NULL;
		time_t tu = now + (time_t)gen_crls[i].tu, nu = now + (time_t)gen_crls[i].nu;

		if (gen_crls[i].revoke != NULL) {
			if ((h = find_holder(hs, NHOLDER, gen_crls[i].revoke)) == NULL) {
				fail("no holder %s", gen_crls[i].revoke);
				goto out;
			}
			r.serial = (ASN1_INTEGER *)X509_get0_serialNumber(h->cert);
			r.reason = gen_crls[i].reason;
			r.date = now - 2 * DAY;
			rp = &r;
		}
		if ((crl = make_crl(&cas[gen_crls[i].ca], gen_crls[i].city, gen_crls[i].number,
		    tu, nu, gen_crls[i].flags, rp, rp ? 1 : 0)) == NULL)
			goto out;
		if (mkpath(p1, sizeof(p1), dir, "/crls/", gen_crls[i].name) == -1 ||
		    strlen(p1) + 16 > sizeof(p1))
			goto out;
		strcpy(p2, p1);
		strcat(p1, ".crl.der");
		strcat(p2, ".crl.pem");
		if (write_file_bio(p1, w_crl_der, crl) == -1 ||
		    (gen_crls[i].pem && write_file_bio(p2, w_crl_pem, crl) == -1))
			goto out;
		if ((o = crl_json(crl, p1, gen_crls[i].pem ? p2 : NULL, cas[gen_crls[i].ca].name,
		    gen_crls[i].city, gen_crls[i].number, tu, nu, gen_crls[i].flags,
		    gen_crls[i].expect)) == NULL ||
		    json_object_set_new(jc, gen_crls[i].name, o) == -1)
			goto out;
		X509_CRL_free(crl);
		crl = NULL;
	}

	if (mkpath(p1, sizeof(p1), dir, "/manifest.json", NULL) == -1)
		goto out;
	if (json_dump_file(man, p1, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == -1) {
		fail("cannot write %s", p1);
		goto out;
	}
	rc = 0;
 out:
	if (hs != NULL)
		for (i = 0; i < NHOLDER; i++) {
			X509_free(hs[i].cert);
			free(hs[i].serial);
		}
	free(hs);
	if (jobs != NULL)
		for (i = 0; i < nj; i++)
			EVP_PKEY_free(jobs[i].key);
	free(jobs);
	for (i = 0; i < NCA; i++) {
		X509_free(cas[i].cert);
		cas[i].cert = NULL;
		cas[i].key = NULL;
	}
	X509_CRL_free(crl);
	X509_free(x);
	json_decref(man);
	return rc;
}

/* ------------------------------------------------------------------ */
/* crl */

static void
usage(void)
{
	fputs("usage: mkpki gen OUTDIR\n"
	    "       mkpki crl OUTDIR --ca NAME --number N [--dp CITY]\n"
	    "             [--this-update-hours H] [--next-update-hours H]\n"
	    "             [--revoke HOLDER[:REASON]]... [--pem] --out FILE\n"
	    "             [--delta] [--v1] [--no-next-update] [--dp-printable]\n", stderr);
}

static int
parse_hours(const char *s, time_t *out)
{
	char *end;
	double h;

	errno = 0;
	h = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || h < -1e6 || h > 1e6) {
		fail("bad number of hours: %s", s);
		return -1;
	}
	*out = now + (time_t)(h * 3600.0);
	return 0;
}

static int
parse_long(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *out < 0) {
		fail("bad number: %s", s);
		return -1;
	}
	return 0;
}

/* HOLDER[:REASON] → serial and reason; HOLDER a manifest name or hex. */
static int
parse_revoke(const char *arg, json_t *holders, struct revoked *r)
{
	char buf[256], *colon;
	const char *hex;
	json_t *jh;
	BIGNUM *bn = NULL;
	size_t k;
	int rc = -1;

	if (strlen(arg) >= sizeof(buf)) {
		fail("--revoke argument too long");
		return -1;
	}
	strcpy(buf, arg);
	r->reason = CRL_REASON_KEY_COMPROMISE;
	if ((colon = strchr(buf, ':')) != NULL) {
		*colon++ = '\0';
		for (k = 0; k < NELEM(reasons); k++)
			if (strcmp(reasons[k].name, colon) == 0)
				break;
		if (k == NELEM(reasons)) {
			fail("unknown reason %s", colon);
			return -1;
		}
		r->reason = reasons[k].code;
	}
	hex = buf;
	if ((jh = json_object_get(holders, buf)) != NULL) {
		if ((hex = json_string_value(json_object_get(jh, "serial"))) == NULL) {
			fail("manifest: holder %s has no serial", buf);
			return -1;
		}
	} else if (strspn(buf, "0123456789abcdefABCDEF") != strlen(buf) || buf[0] == '\0') {
		fail("%s is neither a holder of the manifest nor a hex serial", buf);
		return -1;
	}
	if (!BN_hex2bn(&bn, hex) || (r->serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL) {
		fail("bad serial %s", hex);
		goto out;
	}
	rc = 0;
 out:
	BN_free(bn);
	return rc;
}

static EVP_PKEY *
read_key(const char *path)
{
	BIO *b;
	EVP_PKEY *k = NULL;

	if ((b = BIO_new_file(path, "rb")) != NULL)
		k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (k == NULL)
		fail("cannot read key %s", path);
	return k;
}

static X509 *
read_cert(const char *path)
{
	BIO *b;
	X509 *x = NULL;

	if ((b = BIO_new_file(path, "rb")) != NULL)
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (x == NULL)
		fail("cannot read certificate %s", path);
	return x;
}

static int
crl_cmd(int argc, char **argv)
{
	const char *dir, *caname = NULL, *city = NULL, *out = NULL;
	struct revoked *revs = NULL;
	struct ca ca = { 0 };
	X509_CRL *crl = NULL;
	json_t *man = NULL, *holders;
	json_error_t jerr;
	char path[PATH_MAX];
	time_t tu = now - HOUR, nu = now + 23 * HOUR;
	long number = -1;
	unsigned flags = 0;
	size_t nrev = 0, i;
	int pem = 0, a, rc = -1;

	dir = argv[0];
	if ((revs = calloc((size_t)argc, sizeof(*revs))) == NULL) {
		fail("out of memory");
		goto out;
	}
	if (mkpath(path, sizeof(path), dir, "/manifest.json", NULL) == -1)
		goto out;
	if ((man = json_load_file(path, 0, &jerr)) == NULL) {
		fail("%s: %s", path, jerr.text);
		goto out;
	}
	holders = json_object_get(man, "holders");
	for (a = 1; a < argc; a++) {
		const char *opt = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;

		if (strcmp(opt, "--pem") == 0) {
			pem = 1;
			continue;
		}
		if (strcmp(opt, "--v1") == 0) {
			flags |= C_V1;
			continue;
		}
		if (strcmp(opt, "--delta") == 0) {
			flags |= C_DELTA;
			continue;
		}
		if (strcmp(opt, "--no-next-update") == 0) {
			flags |= C_NONEXT;
			continue;
		}
		if (strcmp(opt, "--dp-printable") == 0) {
			flags |= C_DP_PRINTABLE;
			continue;
		}
		if (strcmp(opt, "--ca") != 0 && strcmp(opt, "--number") != 0 &&
		    strcmp(opt, "--dp") != 0 && strcmp(opt, "--this-update-hours") != 0 &&
		    strcmp(opt, "--next-update-hours") != 0 && strcmp(opt, "--revoke") != 0 &&
		    strcmp(opt, "--out") != 0) {
			fail("unknown option %s", opt);
			usage();
			goto out;
		}
		if (val == NULL) {
			fail("%s needs a value", opt);
			goto out;
		}
		a++;
		if (strcmp(opt, "--ca") == 0)
			caname = val;
		else if (strcmp(opt, "--number") == 0) {
			if (parse_long(val, &number) == -1)
				goto out;
		} else if (strcmp(opt, "--dp") == 0)
			city = val;
		else if (strcmp(opt, "--this-update-hours") == 0) {
			if (parse_hours(val, &tu) == -1)
				goto out;
		} else if (strcmp(opt, "--next-update-hours") == 0) {
			if (parse_hours(val, &nu) == -1)
				goto out;
		} else if (strcmp(opt, "--revoke") == 0) {
			if (parse_revoke(val, holders, &revs[nrev]) == -1)
				goto out;
			revs[nrev++].date = 0;
		} else if (strcmp(opt, "--out") == 0)
			out = val;
		else {
			fail("unknown option %s", opt);
			goto out;
		}
	}
	if (caname == NULL || out == NULL || (number < 0 && !(flags & C_V1))) {
		fail("crl needs --ca, --number (unless --v1) and --out");
		usage();
		goto out;
	}
	if (strchr(caname, '/') != NULL) {
		fail("bad CA name %s", caname);
		goto out;
	}
	for (i = 0; i < nrev; i++)
		revs[i].date = tu - HOUR;
	ca.name = caname;
	if (mkpath(path, sizeof(path), dir, "/ca/", caname) == -1 ||
	    strlen(path) + 16 > sizeof(path))
		goto out;
	strcat(path, ".cert.pem");
	if ((ca.cert = read_cert(path)) == NULL)
		goto out;
	path[strlen(path) - strlen(".cert.pem")] = '\0';
	strcat(path, ".key.pem");
	if ((ca.key = read_key(path)) == NULL)
		goto out;
	if ((crl = make_crl(&ca, city, number, tu, nu, flags, revs, nrev)) == NULL)
		goto out;
	if (write_file_bio(out, pem ? w_crl_pem : w_crl_der, crl) == -1)
		goto out;
	rc = 0;
 out:
	if (revs != NULL)
		for (i = 0; i < nrev; i++)
			ASN1_INTEGER_free(revs[i].serial);
	free(revs);
	X509_free(ca.cert);
	EVP_PKEY_free(ca.key);
	X509_CRL_free(crl);
	json_decref(man);
	return rc;
}

int
main(int argc, char **argv)
{
	int rc;

	now = time(NULL);
	if (argc == 3 && strcmp(argv[1], "gen") == 0)
		rc = gen(argv[2]);
	else if (argc >= 3 && strcmp(argv[1], "crl") == 0 && argv[2][0] != '-')
		rc = crl_cmd(argc - 2, argv + 2);
	else {
		usage();
		return 2;
	}
	return rc == 0 ? 0 : 1;
}
