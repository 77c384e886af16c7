/* The request path (server/checks/cms.c, server/checks/request.c) against a strict
 * OpenSSL reference (cmsref.h): real requests made with OpenSSL's CMS API
 * in every form the contract admits must be accepted by both, and hostile
 * ones built by DER surgery (re-signed where the rule under test is not the
 * signature) must get the answer of DESIGN.md step 2 (malformed) or step 5
 * (badRequestSignature). Whatever our path accepts, the reference accepts
 * with the same certificate, content and signer. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "cmsref.h"
#include "der.h"
#include "request.h"

/* the test PKI of MDG_MKPKI, made once in main */
static char pki[2048];

static const char form[] = "{\"procedure\":\"validity-check\",\"applicant\":{\"name\":\"吉田　太郎\","
			   "\"address\":\"東京都千代田区\",\"birthDate\":\"1958-08-10\",\"gender\":\"男\"},"
			   "\"nonce\":\"AAAA\"}";

struct holder {
	X509 *cert;
	EVP_PKEY *key;
};

static void load_holder(const char *name, struct holder *h)
{
	char path[2300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/holders/%s.cert.pem", pki, name);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_ptr_nonnull(h->cert = PEM_read_X509(f, NULL, NULL, NULL));
	fclose(f);
	snprintf(path, sizeof(path), "%s/holders/%s.key.pem", pki, name);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_ptr_nonnull(h->key = PEM_read_PrivateKey(f, NULL, NULL, NULL));
	fclose(f);
}

static void free_holder(struct holder *h)
{
	X509_free(h->cert);
	EVP_PKEY_free(h->key);
}

/* ---- signing with OpenSSL's CMS API */

#define NO_PSS (-100)

struct sopt {
	const char *md; /* NULL: sha256 */
	unsigned flags; /* CMS_NOATTR, CMS_USE_KEYID, CMS_CADES, CMS_NOSMIMECAP */
	int pss_salt;   /* NO_PSS, or an rsa_pss_saltlen (-3: max) */
	const unsigned char *content;
	size_t content_len;
};

static unsigned char *sign(const struct holder *h, const struct sopt *o, size_t *len)
{
	const unsigned char *c = o->content ? o->content : (const unsigned char *)form;
	size_t clen = o->content ? o->content_len : strlen(form);
	BIO *in = BIO_new_mem_buf(c, (int)clen);
	unsigned char *der = NULL, *out;
	int n;

	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_PARTIAL | CMS_BINARY);
	ck_assert_ptr_nonnull(cms);
	CMS_SignerInfo *si = CMS_add1_signer(cms, h->cert, h->key, EVP_get_digestbyname(o->md ? o->md : "sha256"),
					     o->flags | CMS_BINARY | (o->pss_salt != NO_PSS ? CMS_KEY_PARAM : 0));
	ck_assert_ptr_nonnull(si);
	if (o->pss_salt != NO_PSS) {
		EVP_PKEY_CTX *pctx = CMS_SignerInfo_get0_pkey_ctx(si);
		ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 0);
		ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, o->pss_salt), 0);
	}
	ck_assert_int_eq(CMS_final(cms, in, NULL, CMS_BINARY), 1);
	ck_assert_int_gt(n = i2d_CMS_ContentInfo(cms, &der), 0);
	ck_assert_ptr_nonnull(out = malloc((size_t)n));
	memcpy(out, der, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return out;
}

/* ---- our path, and the differential assertion */

enum verdict { V_MALFORMED, V_BAD_SIGNATURE, V_OK };
static const char *const verdict_name[] = { "malformed", "badRequestSignature", "ok" };

static enum verdict ours(const unsigned char *der, size_t len, const char **why)
{
	struct mdg_request req;
	enum verdict v = V_MALFORMED;

	*why = "";
	if (mdg_request_parse(der, len, NULL, &req, why) == 0) {
		v = V_BAD_SIGNATURE;
		if (mdg_request_verify(&req, why) == 0) {
			v = V_OK;
			ck_assert_msg(cmsref_accepts(der, len, req.cert, req.content, req.content_len),
				      "accepted by us, refused by the OpenSSL reference");
		}
	}
	mdg_request_free(&req);
	ERR_clear_error();
	return v;
}

static void expect(const char *name, const unsigned char *der, size_t len, enum verdict want)
{
	const char *why;
	enum verdict got = ours(der, len, &why);

	ck_assert_msg(got == want, "%s: want %s, got %s (%s)", name, verdict_name[want], verdict_name[got], why);
}

/* ---- a DER tree for surgery */

#define MAXK 260
#define NODES 3000

struct node {
	unsigned char tag;
	int cons;
	const unsigned char *raw; /* primitive contents */
	size_t raw_len;
	struct node *kid[MAXK];
	size_t n;
};

static struct node *arena;
static size_t used;
static void *allocs[4096];
static size_t n_allocs;

static void *keep(void *p)
{
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_lt(n_allocs, sizeof(allocs) / sizeof(*allocs));
	allocs[n_allocs++] = p;
	return p;
}

static void tree_reset(void)
{
	for (size_t i = 0; i < n_allocs; i++)
		free(allocs[i]);
	n_allocs = 0;
	used = 0;
}

static struct node *node(unsigned char tag)
{
	ck_assert_uint_lt(used, NODES);
	struct node *nd = &arena[used++];
	memset(nd, 0, sizeof(*nd));
	nd->tag = tag;
	nd->cons = (tag & 0x20) != 0;
	return nd;
}

static struct node *prim(unsigned char tag, const void *raw, size_t len)
{
	struct node *nd = node(tag);
	unsigned char *copy = keep(malloc(len ? len : 1));

	memcpy(copy, raw, len);
	nd->cons = 0;
	nd->raw = copy;
	nd->raw_len = len;
	return nd;
}

static struct node *parse(const unsigned char *buf, size_t len)
{
	unsigned char tag;
	const unsigned char *v;
	size_t vlen, n;

	ck_assert_int_eq(mdg_der_next(buf, len, &tag, &v, &vlen, &n), 0);
	struct node *nd = node(tag);
	if (!nd->cons) {
		nd->raw = v;
		nd->raw_len = vlen;
		return nd;
	}
	for (size_t off = 0; off < vlen; off += n) {
		unsigned char t2;
		const unsigned char *v2;
		size_t l2;
		ck_assert_int_eq(mdg_der_next(v + off, vlen - off, &t2, &v2, &l2, &n), 0);
		ck_assert_uint_lt(nd->n, MAXK);
		nd->kid[nd->n++] = parse(v + off, n);
	}
	return nd;
}

static size_t enc(const struct node *nd, unsigned char *o)
{
	size_t clen = 0;

	if (nd->cons)
		for (size_t i = 0; i < nd->n; i++)
			clen += enc(nd->kid[i], NULL);
	else
		clen = nd->raw_len;
	size_t h = clen < 0x80 ? 2 : clen < 0x100 ? 3 : clen < 0x10000 ? 4 : 5;
	if (o == NULL)
		return h + clen;
	o[0] = nd->tag;
	if (h == 2) {
		o[1] = (unsigned char)clen;
	} else {
		o[1] = (unsigned char)(0x80 | (h - 2));
		for (size_t i = 0; i < h - 2; i++)
			o[2 + i] = (unsigned char)(clen >> (8 * (h - 3 - i)));
	}
	size_t off = h;
	if (nd->cons)
		for (size_t i = 0; i < nd->n; i++)
			off += enc(nd->kid[i], o + off);
	else
		memcpy(o + off, nd->raw, clen);
	return h + clen;
}

static unsigned char *encode(const struct node *nd, size_t *len)
{
	*len = enc(nd, NULL);
	unsigned char *o = keep(malloc(*len));
	enc(nd, o);
	return o;
}

static void insert(struct node *parent, size_t at, struct node *kid)
{
	ck_assert_uint_lt(parent->n, MAXK);
	ck_assert_uint_le(at, parent->n);
	memmove(&parent->kid[at + 1], &parent->kid[at], (parent->n - at) * sizeof(parent->kid[0]));
	parent->kid[at] = kid;
	parent->n++;
}

static void drop(struct node *parent, size_t at)
{
	memmove(&parent->kid[at], &parent->kid[at + 1], (parent->n - at - 1) * sizeof(parent->kid[0]));
	parent->n--;
}

static int kid_cmp(const void *a, const void *b)
{
	const struct node *x = *(struct node *const *)a, *y = *(struct node *const *)b;
	size_t xl = enc(x, NULL), yl = enc(y, NULL);
	unsigned char *xe = malloc(xl), *ye = malloc(yl);

	ck_assert(xe != NULL && ye != NULL);
	enc(x, xe);
	enc(y, ye);
	int c = memcmp(xe, ye, xl < yl ? xl : yl);
	free(xe);
	free(ye);
	return c != 0 ? c : (xl > yl) - (xl < yl);
}

static void sort_set(struct node *set)
{
	qsort(set->kid, set->n, sizeof(set->kid[0]), kid_cmp);
}

static struct node *tree_of(const unsigned char *der, size_t len)
{
	unsigned char *copy = keep(malloc(len));

	memcpy(copy, der, len);
	return parse(copy, len);
}

/* paths */
static struct node *sd_of(struct node *ci)
{
	return ci->kid[1]->kid[0];
}
static struct node *si_of(struct node *ci)
{
	return sd_of(ci)->kid[sd_of(ci)->n - 1]->kid[0];
}

static long find_kid(struct node *parent, unsigned char tag)
{
	for (size_t i = 0; i < parent->n; i++)
		if (parent->kid[i]->tag == tag)
			return (long)i;
	return -1;
}

static struct node *signed_attrs(struct node *ci)
{
	long i = find_kid(si_of(ci), 0xa0);
	return i < 0 ? NULL : si_of(ci)->kid[i];
}

static struct node *content_node(struct node *ci)
{
	return sd_of(ci)->kid[2]->kid[1]->kid[0];
}

/* The content replaced by another well-formed form (the nonce differs). */
static void change_content(struct node *ci)
{
	static const char other_form[] =
		"{\"procedure\":\"validity-check\",\"applicant\":{\"name\":\"吉田　太郎\","
		"\"address\":\"東京都千代田区\",\"birthDate\":\"1958-08-10\",\"gender\":\"男\"},"
		"\"nonce\":\"AAAB\"}";
	struct node *eci = sd_of(ci)->kid[2]->kid[1];

	eci->kid[0] = prim(0x04, other_form, strlen(other_form));
}

/* Signs the SignerInfo again over what it now holds: the signed attributes
 * as a DER SET (bytes as they are), else the content. */
static void resign(struct node *ci, const struct holder *h, const char *md, int pss_salt)
{
	struct node *si = si_of(ci), *sa = signed_attrs(ci);
	const unsigned char *tbs;
	unsigned char *buf = NULL;
	size_t tbs_len, sig_len = 0;
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;

	if (sa != NULL) {
		buf = encode(sa, &tbs_len);
		buf[0] = 0x31;
		tbs = buf;
	} else {
		tbs = content_node(ci)->raw;
		tbs_len = content_node(ci)->raw_len;
	}
	ck_assert_int_eq(EVP_DigestSignInit(mctx, &pctx, EVP_get_digestbyname(md), NULL, h->key), 1);
	if (pss_salt != NO_PSS) {
		ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 0);
		ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, pss_salt), 0);
	}
	ck_assert_int_eq(EVP_DigestSign(mctx, NULL, &sig_len, tbs, tbs_len), 1);
	unsigned char *sig = keep(malloc(sig_len));
	ck_assert_int_eq(EVP_DigestSign(mctx, sig, &sig_len, tbs, tbs_len), 1);
	EVP_MD_CTX_free(mctx);
	long i = find_kid(si, 0x04);
	ck_assert_int_ge(i, 0);
	si->kid[i] = prim(0x04, sig, sig_len);
}

/* OID contents 1.2.3.4.i, i < 16384 */
static struct node *junk_oid(unsigned i)
{
	unsigned char b[5] = { 0x2a, 0x03, 0x04 };
	size_t n = 3;

	if (i >= 128)
		b[n++] = (unsigned char)(0x80 | (i >> 7));
	b[n++] = (unsigned char)(i & 0x7f);
	return prim(0x06, b, n);
}

static struct node *attr(struct node *type, struct node *value)
{
	struct node *a = node(0x30), *set = node(0x31);

	insert(a, 0, type);
	insert(a, 1, set);
	if (value != NULL)
		insert(set, 0, value);
	return a;
}

static struct node *junk_attr(unsigned i)
{
	return attr(junk_oid(i), prim(0x0c, "x", 1));
}

static const unsigned char oid_ct[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03 };
static const unsigned char oid_md[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04 };
static const unsigned char oid_st[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05 };
static const unsigned char oid_cs[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x06 };
static const unsigned char oid_ess2[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f };
static const unsigned char oid_ess1[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0c };
static const unsigned char oid_sha1[] = { 0x2b, 0x0e, 0x03, 0x02, 0x1a };
static const unsigned char oid_sha256[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 };
static const unsigned char oid_sha512[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03 };

static struct node *alg(const unsigned char *oid, size_t oid_len, struct node *params)
{
	struct node *a = node(0x30);

	insert(a, 0, prim(0x06, oid, oid_len));
	if (params != NULL)
		insert(a, 1, params);
	return a;
}

static long attr_index(struct node *set, const unsigned char *oid, size_t oid_len)
{
	for (size_t i = 0; i < set->n; i++) {
		struct node *t = set->kid[i]->kid[0];
		if (t->raw_len == oid_len && memcmp(t->raw, oid, oid_len) == 0)
			return (long)i;
	}
	return -1;
}

/* ---- fixtures */

static struct holder rsa, ec, rsa4096, other;
static unsigned char *good;
static size_t good_len;

static void setup(void)
{
	struct sopt o = { .pss_salt = NO_PSS };

	load_holder("valid-01", &rsa);
	load_holder("valid-ec", &ec);
	load_holder("valid-rsa4096", &rsa4096);
	load_holder("valid-02", &other);
	good = sign(&rsa, &o, &good_len);
	arena = calloc(NODES, sizeof(*arena));
	ck_assert_ptr_nonnull(arena);
}

static void teardown(void)
{
	tree_reset();
	free(arena);
	free(good);
	free_holder(&rsa);
	free_holder(&ec);
	free_holder(&rsa4096);
	free_holder(&other);
}

/* ---- positives: every client form the contract admits */

START_TEST(clients_accepted)
{
	static const struct {
		const char *name;
		int holder; /* 0 rsa, 1 ec, 2 rsa4096 */
		struct sopt o;
	} cases[] = {
		{ "openssl cms default", 0, { .pss_salt = NO_PSS } },
		{ "-noattr (certtool --p7-sign)", 0, { .flags = CMS_NOATTR, .pss_salt = NO_PSS } },
		{ "-keyid", 0, { .flags = CMS_USE_KEYID, .pss_salt = NO_PSS } },
		{ "-keyid -noattr", 0, { .flags = CMS_USE_KEYID | CMS_NOATTR, .pss_salt = NO_PSS } },
		{ "-nosmimecap (certtool --p7-time)", 0, { .flags = CMS_NOSMIMECAP, .pss_salt = NO_PSS } },
		{ "-cades (ESS signingCertificateV2)", 0, { .flags = CMS_CADES, .pss_salt = NO_PSS } },
		{ "sha384", 0, { .md = "sha384", .pss_salt = NO_PSS } },
		{ "sha512", 0, { .md = "sha512", .pss_salt = NO_PSS } },
		{ "PSS salt 0", 0, { .pss_salt = 0 } },
		{ "PSS salt 20", 0, { .pss_salt = 20 } },
		{ "PSS salt 32", 0, { .pss_salt = 32 } },
		{ "PSS salt max (OpenSSL's default)", 0, { .pss_salt = RSA_PSS_SALTLEN_MAX } },
		{ "PSS salt 222 (the maximum for RSA-2048, SHA-256)", 0, { .pss_salt = 222 } },
		{ "PSS sha512 salt max", 0, { .md = "sha512", .pss_salt = RSA_PSS_SALTLEN_MAX } },
		{ "PSS -noattr", 0, { .flags = CMS_NOATTR, .pss_salt = RSA_PSS_SALTLEN_MAX } },
		{ "RSA-4096 PSS salt max", 2, { .pss_salt = RSA_PSS_SALTLEN_MAX } },
		{ "RSA-4096 -noattr", 2, { .flags = CMS_NOATTR, .pss_salt = NO_PSS } },
		{ "ECDSA P-256", 1, { .pss_salt = NO_PSS } },
		{ "ECDSA P-256 sha384", 1, { .md = "sha384", .pss_salt = NO_PSS } },
		{ "ECDSA -noattr", 1, { .flags = CMS_NOATTR, .pss_salt = NO_PSS } },
		{ "ECDSA -keyid -cades", 1, { .flags = CMS_USE_KEYID | CMS_CADES, .pss_salt = NO_PSS } },
	};
	const struct holder *hs[] = { &rsa, &ec, &rsa4096 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		size_t len;
		unsigned char *der = sign(hs[cases[i].holder], &cases[i].o, &len);
		struct mdg_request req;
		const char *why = "";
		expect(cases[i].name, der, len, V_OK);
		/* the pieces: the certificate and content the reference sees */
		ck_assert_int_eq(mdg_request_parse(der, len, NULL, &req, &why), 0);
		ck_assert_int_eq(X509_cmp(req.cert, hs[cases[i].holder]->cert), 0);
		ck_assert_uint_eq(req.content_len, strlen(form));
		ck_assert_mem_eq(req.content, form, strlen(form));
		ck_assert(
			cmsref_accepts(der, len, hs[cases[i].holder]->cert, (const unsigned char *)form, strlen(form)));
		ck_assert_int_eq(!!(cases[i].o.flags & CMS_NOATTR), req.cms.signed_attrs == NULL);
		mdg_request_free(&req);
		free(der);
	}
}
END_TEST

/* Verification with what is cached (the certificate from a certificate
 * cache, so the same key object every time; the per-thread verification
 * templates of request.c) answers exactly as a fresh decode and set-up
 * does, and as the OpenSSL reference: for every key type and algorithm,
 * good and bad signatures interleaved, several algorithms on one key. */
static enum verdict ours_with(const unsigned char *der, size_t len, struct mdg_certcache *cache, int want_ref)
{
	struct mdg_request req;
	enum verdict v = V_MALFORMED;
	const char *why = "";

	if (mdg_request_parse(der, len, cache, &req, &why) == 0) {
		v = mdg_request_verify(&req, &why) == 0 ? V_OK : V_BAD_SIGNATURE;
		ck_assert_msg(cmsref_accepts(der, len, req.cert, req.content, req.content_len) == want_ref,
			      "reference: want %d (%s)", want_ref, why);
	}
	mdg_request_free(&req);
	ERR_clear_error();
	return v;
}

START_TEST(cached_verification)
{
	static const struct {
		int holder; /* 0 rsa, 1 ec, 2 rsa4096 */
		struct sopt o;
	} cases[] = {
		{ 0, { .pss_salt = NO_PSS } },
		{ 0, { .flags = CMS_NOATTR, .pss_salt = NO_PSS } },
		{ 0, { .md = "sha384", .pss_salt = NO_PSS } },
		{ 0, { .md = "sha512", .flags = CMS_NOATTR, .pss_salt = NO_PSS } },
		{ 0, { .pss_salt = 20 } },
		{ 0, { .pss_salt = 32 } },
		{ 0, { .pss_salt = RSA_PSS_SALTLEN_MAX } },
		{ 0, { .md = "sha512", .pss_salt = RSA_PSS_SALTLEN_MAX } },
		{ 0, { .flags = CMS_CADES, .pss_salt = NO_PSS } },
		{ 2, { .pss_salt = NO_PSS } },
		{ 2, { .pss_salt = RSA_PSS_SALTLEN_MAX } },
		{ 2, { .md = "sha384", .flags = CMS_NOATTR, .pss_salt = NO_PSS } },
		{ 1, { .pss_salt = NO_PSS } },
		{ 1, { .md = "sha384", .pss_salt = NO_PSS } },
		{ 1, { .flags = CMS_NOATTR, .pss_salt = NO_PSS } },
	};
	enum { N = sizeof(cases) / sizeof(*cases) };
	const struct holder *hs[] = { &rsa, &ec, &rsa4096 };
	unsigned char *der[N], *bad[N];
	size_t len[N];
	struct mdg_certcache *cache = mdg_certcache_new(64);

	ck_assert_ptr_nonnull(cache);
	for (size_t i = 0; i < N; i++) {
		der[i] = sign(hs[cases[i].holder], &cases[i].o, &len[i]);
		ck_assert_ptr_nonnull(bad[i] = malloc(len[i]));
		memcpy(bad[i], der[i], len[i]);
		bad[i][len[i] - 1] ^= 0x01; /* the signature's last octet */
	}
	/* round 0 fills the caches (the certificate is held from its second
	 * sighting on), rounds 1-3 verify from them; bad before good in odd
	 * rounds, so a template made by either order is tried by the other */
	for (int round = 0; round < 4; round++)
		for (size_t k = 0; k < N; k++) {
			size_t i = round % 2 ? N - 1 - k : k;
			for (int b = 0; b < 2; b++) {
				int is_bad = (b == 0) == (round % 2 == 1);
				const unsigned char *d = is_bad ? bad[i] : der[i];
				enum verdict fresh = ours_with(d, len[i], NULL, !is_bad);
				enum verdict cached = ours_with(d, len[i], cache, !is_bad);
				ck_assert_msg(fresh == (is_bad ? V_BAD_SIGNATURE : V_OK) && cached == fresh,
					      "case %zu round %d %s: fresh %s, cached %s", i, round,
					      is_bad ? "bad" : "good", verdict_name[fresh], verdict_name[cached]);
			}
		}
	/* most cached verifications of rounds 1-3 ran on a template (the fresh
	 * ones' keys are new objects each time and only ever miss) */
	ck_assert_uint_ge(mdg_request_thread_hits(), 3 * 2 * N / 2);
	for (size_t i = 0; i < N; i++) {
		free(der[i]);
		free(bad[i]);
	}
	mdg_certcache_free(cache);
	mdg_request_thread_cleanup();
}
END_TEST

/* every length field crossing the short / one-byte / two-byte forms */
START_TEST(length_boundaries)
{
	unsigned char content[700];
	struct sopt o = { .flags = CMS_NOATTR, .pss_salt = NO_PSS, .content = content };

	memset(content, ' ', sizeof(content));
	memcpy(content, form, strlen(form));
	for (size_t n = strlen(form); n < sizeof(content); n += 7) {
		size_t len;
		o.content_len = n;
		o.flags = (n / 7) % 2 ? CMS_NOATTR : 0;
		unsigned char *der = sign(&ec, &o, &len);
		const char *why;
		ck_assert_msg(ours(der, len, &why) == V_OK, "content of %zu bytes: %s", n, why);
		free(der);
	}
}
END_TEST

/* ---- step 2: the structure rules, each → malformed */

START_TEST(structure_rules)
{
	struct node *t, *sd, *si, *x;
	unsigned char *d;
	size_t n;

#define CASE(name, want)                                                                                               \
	do {                                                                                                           \
		d = encode(t, &n);                                                                                     \
		expect(name, d, n, want);                                                                              \
		tree_reset();                                                                                          \
	} while (0)
#define FRESH() (t = tree_of(good, good_len), sd = sd_of(t), si = si_of(t))

	FRESH();
	CASE("unchanged", V_OK);

	/* issue 11: version, digestAlgorithms, encapContentInfo, [0]{cert}, [0]{}, signerInfos */
	FRESH();
	insert(sd, 4, node(0xa0));
	CASE("a second, empty certificates field", V_MALFORMED);
	FRESH();
	insert(sd, 3, node(0xa0));
	CASE("an empty certificates field first", V_MALFORMED);
	FRESH();
	insert(sd, 4, node(0xa0));
	insert(sd->kid[4], 0, sd->kid[3]->kid[0]);
	CASE("the certificate in two certificates fields", V_MALFORMED);
	FRESH();
	insert(sd->kid[3], 1, sd->kid[3]->kid[0]);
	CASE("the same certificate twice", V_MALFORMED);
	FRESH();
	sd->kid[3]->n = 0;
	CASE("certificates empty", V_MALFORMED);
	FRESH();
	drop(sd, 3);
	CASE("no certificates field", V_MALFORMED);
	FRESH();
	sd->kid[3]->kid[0] = node(0xa3);
	CASE("an other-format certificate [3]", V_MALFORMED);
	FRESH();
	insert(sd, 4, node(0xa1));
	CASE("crls [1] present (empty)", V_MALFORMED);

	/* digestAlgorithms */
	FRESH();
	sd->kid[1]->n = 0;
	CASE("digestAlgorithms empty", V_MALFORMED);
	FRESH();
	sd->kid[1]->kid[0] = alg(oid_sha1, sizeof(oid_sha1), NULL);
	CASE("digestAlgorithms sha1 only (signer sha256)", V_MALFORMED);
	FRESH();
	sd->kid[1]->tag = 0x11;
	sd->kid[1]->cons = 0;
	sd->kid[1]->raw = (const unsigned char *)"";
	CASE("digestAlgorithms a primitive 0x11", V_MALFORMED);
	FRESH();
	x = sd->kid[1];
	x->kid[0] = alg(oid_sha512, sizeof(oid_sha512), NULL);
	insert(x, 1, alg(oid_sha256, sizeof(oid_sha256), NULL));
	CASE("digestAlgorithms not in DER SET order", V_MALFORMED);
	FRESH();
	x = sd->kid[1];
	insert(x, 1, alg(oid_sha512, sizeof(oid_sha512), NULL));
	CASE("digestAlgorithms sha256, sha512 (sorted)", V_OK);
	FRESH();
	x = sd->kid[1];
	x->kid[0] = alg(oid_sha256, sizeof(oid_sha256), prim(0x05, "", 0));
	CASE("digestAlgorithms sha256 with NULL (signer's absent)", V_OK);
	FRESH();
	for (int i = 0; i < 7; i++)
		insert(sd->kid[1], 0, alg(oid_sha256, sizeof(oid_sha256), NULL));
	CASE("8 digestAlgorithms", V_OK);
	FRESH();
	for (int i = 0; i < 8; i++)
		insert(sd->kid[1], 0, alg(oid_sha256, sizeof(oid_sha256), NULL));
	CASE("9 digestAlgorithms", V_MALFORMED);
	FRESH();
	sd->kid[1]->kid[0] = alg(oid_sha256, sizeof(oid_sha256), prim(0x02, "\x01", 1));
	CASE("digestAlgorithms parameters an INTEGER", V_MALFORMED);
	FRESH();
	si->kid[2] = alg(oid_sha256, sizeof(oid_sha256), prim(0x04, "", 0));
	CASE("the signer's digestAlgorithm with OCTET STRING parameters", V_MALFORMED);

	/* versions and sid */
	FRESH();
	sd->kid[0] = prim(0x02, "\x03", 1);
	CASE("SignedData version 3, SignerInfo 1", V_MALFORMED);
	FRESH();
	si->kid[0] = prim(0x02, "\x03", 1);
	sd->kid[0] = prim(0x02, "\x03", 1);
	CASE("SignerInfo version 3 with issuerAndSerialNumber", V_MALFORMED);
	FRESH();
	si->kid[1] = prim(0x80, "\x01\x02\x03", 3);
	CASE("SignerInfo version 1 with a key identifier", V_MALFORMED);
	FRESH();
	si->kid[0] = prim(0x02, "\x02", 1);
	CASE("SignerInfo version 2", V_MALFORMED);
	FRESH();
	x = si->kid[1]->kid[1];
	{
		unsigned char *s = keep(malloc(x->raw_len));
		memcpy(s, x->raw, x->raw_len);
		s[x->raw_len - 1] ^= 1;
		x->raw = s;
	}
	CASE("sid serial not the certificate's", V_MALFORMED);
	FRESH();
	si->kid[1]->kid[0] = sd->kid[3]->kid[0]->kid[0]->kid[5];
	CASE("sid issuer not the certificate's (its subject)", V_MALFORMED);

	/* encapContentInfo */
	FRESH();
	drop(sd->kid[2], 1);
	CASE("eContent absent (detached)", V_MALFORMED);
	FRESH();
	insert(sd->kid[2]->kid[1], 1, prim(0x04, "x", 1));
	CASE("eContent two OCTET STRINGs", V_MALFORMED);
	FRESH();
	sd->kid[2]->kid[1]->kid[0]->tag = 0x0c;
	CASE("eContent a UTF8String", V_MALFORMED);
	FRESH();
	sd->kid[2]->kid[0] = prim(0x06, oid_sha256, sizeof(oid_sha256));
	CASE("eContentType not id-data", V_MALFORMED);

	/* signerInfos */
	FRESH();
	insert(sd->kid[4], 1, sd->kid[4]->kid[0]);
	CASE("two SignerInfos", V_MALFORMED);
	FRESH();
	sd->kid[4]->n = 0;
	CASE("no SignerInfo", V_MALFORMED);

	/* trailing fields */
	FRESH();
	insert(sd, sd->n, prim(0x05, "", 0));
	CASE("a field after signerInfos", V_MALFORMED);
	FRESH();
	insert(si, si->n, prim(0x05, "", 0));
	CASE("a field after the signature", V_MALFORMED);
	FRESH();
	insert(t, 2, prim(0x05, "", 0));
	CASE("a field after the ContentInfo's content", V_MALFORMED);
	FRESH();
	insert(t->kid[1], 1, prim(0x05, "", 0));
	CASE("two values in [0] EXPLICIT", V_MALFORMED);
#undef FRESH
#undef CASE
}
END_TEST

/* ---- attributes: counts, order, forms */

START_TEST(attribute_rules)
{
	struct node *t, *sa, *si;
	unsigned char *d;
	size_t n;

#define CASE(name, want)                                                                                               \
	do {                                                                                                           \
		d = encode(t, &n);                                                                                     \
		expect(name, d, n, want);                                                                              \
		tree_reset();                                                                                          \
	} while (0)
#define FRESH() (t = tree_of(good, good_len), sa = signed_attrs(t), si = si_of(t))

	/* openssl cms signs 4: contentType, signingTime, smimeCapabilities, messageDigest */
	FRESH();
	ck_assert_uint_eq(sa->n, 4);
	for (unsigned i = 0; i < 12; i++)
		insert(sa, sa->n, junk_attr(i));
	sort_set(sa);
	resign(t, &rsa, "sha256", NO_PSS);
	CASE("16 signed attributes", V_OK);
	FRESH();
	for (unsigned i = 0; i < 13; i++)
		insert(sa, sa->n, junk_attr(i));
	sort_set(sa);
	resign(t, &rsa, "sha256", NO_PSS);
	CASE("17 signed attributes", V_MALFORMED);
	FRESH();
	for (unsigned i = 0; i < 200; i++)
		insert(sa, sa->n, junk_attr(i));
	sort_set(sa);
	resign(t, &rsa, "sha256", NO_PSS);
	CASE("200 junk signed attributes", V_MALFORMED);

	/* unsorted, signed over the received bytes: not DER (X.690 11.6), so
	 * refused, whatever a given OpenSSL does with it (3.0 verifies over the
	 * received order, CMS_Attributes_Verify being ASN1_TFLG_SET_ORDER; a
	 * reader that re-encodes would see other bytes) */
	FRESH();
	{
		struct node *tmp = sa->kid[0];
		sa->kid[0] = sa->kid[1];
		sa->kid[1] = tmp;
	}
	resign(t, &rsa, "sha256", NO_PSS);
	CASE("signed attributes not in DER SET order", V_MALFORMED);
	FRESH();
	insert(sa, sa->n, attr(junk_oid(1), NULL));
	sort_set(sa);
	resign(t, &rsa, "sha256", NO_PSS);
	CASE("an attribute with no value", V_MALFORMED);
	FRESH();
	{
		struct node *a = junk_attr(1);
		insert(a->kid[1], 0, prim(0x13, "y", 1));
		insert(sa, sa->n, a);
	}
	sort_set(sa);
	resign(t, &rsa, "sha256", NO_PSS);
	CASE("attribute values not in DER SET order", V_MALFORMED);
	FRESH();
	insert(sa, sa->n, attr(junk_oid(1), prim(0x01, "\x01", 1)));
	sort_set(sa);
	resign(t, &rsa, "sha256", NO_PSS);
	CASE("a BOOLEAN value not 0xff", V_MALFORMED);
	FRESH();
	sa->n = 0;
	resign(t, &rsa, "sha256", NO_PSS);
	CASE("signed attributes present and empty", V_MALFORMED);

	/* unsigned attributes: not signed, so no re-signing needed */
	FRESH();
	{
		struct node *ua = node(0xa1);
		for (unsigned i = 0; i < 16; i++)
			insert(ua, ua->n, junk_attr(i));
		sort_set(ua);
		insert(si, si->n, ua);
	}
	CASE("16 unsigned attributes", V_OK);
	FRESH();
	{
		struct node *ua = node(0xa1);
		for (unsigned i = 0; i < 17; i++)
			insert(ua, ua->n, junk_attr(i));
		sort_set(ua);
		insert(si, si->n, ua);
	}
	CASE("17 unsigned attributes", V_MALFORMED);
	FRESH();
	{
		struct node *ua = node(0xa1);
		insert(ua, 0, attr(junk_oid(2), prim(0x02, "\x00\x01", 2)));
		insert(si, si->n, ua);
	}
	CASE("an unsigned attribute value a non-minimal INTEGER", V_MALFORMED);
	FRESH();
	{
		struct node *ua = node(0xa1);
		insert(ua, 0, attr(junk_oid(2), prim(0x06, "\x2a\x80\x01", 3)));
		insert(si, si->n, ua);
	}
	CASE("an unsigned attribute value an OID with a 0x80 pad", V_MALFORMED);
	FRESH();
	{
		struct node *ua = node(0xa1);
		insert(ua, 0, prim(0x04, "x", 1));
		insert(si, si->n, ua);
	}
	CASE("an unsigned attribute not a SEQUENCE", V_MALFORMED);
	FRESH();
	insert(si, si->n, node(0xa1));
	CASE("unsigned attributes present and empty", V_MALFORMED);

	/* ---- step 5: attribute semantics → badRequestSignature */
	FRESH();
	{
		long i = attr_index(sa, oid_ct, sizeof(oid_ct));
		insert(sa, (size_t)i + 1, sa->kid[i]);
	}
	resign(t, &rsa, "sha256", NO_PSS);
	CASE("content-type twice", V_BAD_SIGNATURE);
	FRESH();
	drop(sa, (size_t)attr_index(sa, oid_ct, sizeof(oid_ct)));
	resign(t, &rsa, "sha256", NO_PSS);
	CASE("content-type missing", V_BAD_SIGNATURE);
	FRESH();
	drop(sa, (size_t)attr_index(sa, oid_md, sizeof(oid_md)));
	resign(t, &rsa, "sha256", NO_PSS);
	CASE("message-digest missing", V_BAD_SIGNATURE);
	FRESH();
	{
		struct node *vals = sa->kid[attr_index(sa, oid_md, sizeof(oid_md))]->kid[1];
		insert(vals, 0, prim(0x04, "\xff", 1));
	}
	resign(t, &rsa, "sha256", NO_PSS);
	CASE("message-digest with two values", V_BAD_SIGNATURE);
	FRESH();
	{
		struct node *vals = sa->kid[attr_index(sa, oid_st, sizeof(oid_st))]->kid[1];
		insert(vals, 1, vals->kid[0]);
	}
	resign(t, &rsa, "sha256", NO_PSS);
	CASE("signing time with two values", V_BAD_SIGNATURE);
	FRESH();
	sa->kid[attr_index(sa, oid_ct, sizeof(oid_ct))]->kid[1]->kid[0] = prim(0x06, oid_sha256, sizeof(oid_sha256));
	resign(t, &rsa, "sha256", NO_PSS);
	CASE("content-type not id-data", V_BAD_SIGNATURE);
	FRESH();
	insert(sa, sa->n, attr(prim(0x06, oid_cs, sizeof(oid_cs)), prim(0x30, "", 0)));
	sort_set(sa);
	resign(t, &rsa, "sha256", NO_PSS);
	CASE("a countersignature among the signed attributes", V_BAD_SIGNATURE);
	FRESH();
	{
		struct node *ua = node(0xa1);
		insert(ua, 0, sa->kid[attr_index(sa, oid_ct, sizeof(oid_ct))]);
		insert(si, si->n, ua);
	}
	CASE("content-type among the unsigned attributes", V_BAD_SIGNATURE);
	FRESH();
	insert(sa, sa->n, attr(prim(0x06, oid_ess2, sizeof(oid_ess2)), prim(0x30, "\x02\x01\x05", 3)));
	sort_set(sa);
	resign(t, &rsa, "sha256", NO_PSS);
	CASE("ESS signingCertificateV2 not well formed", V_BAD_SIGNATURE);
	FRESH();
	insert(sa, sa->n, attr(prim(0x06, oid_ess2, sizeof(oid_ess2)), prim(0x04, "x", 1)));
	sort_set(sa);
	resign(t, &rsa, "sha256", NO_PSS);
	CASE("ESS signingCertificateV2 an OCTET STRING", V_BAD_SIGNATURE);
	FRESH();
	insert(sa, sa->n, attr(prim(0x06, oid_ess1, sizeof(oid_ess1)), prim(0x30, "", 0)));
	sort_set(sa);
	resign(t, &rsa, "sha256", NO_PSS);
	CASE("ESS signingCertificate empty", V_BAD_SIGNATURE);
	{
		/* a well-formed ESS V2 naming another certificate */
		struct sopt o = { .flags = CMS_CADES, .pss_salt = NO_PSS };
		size_t olen;
		unsigned char *oder = sign(&other, &o, &olen);
		struct node *ot = tree_of(oder, olen), *osa = signed_attrs(ot);
		struct node *ess = osa->kid[attr_index(osa, oid_ess2, sizeof(oid_ess2))];
		free(oder);
		sa = signed_attrs(t = tree_of(good, good_len));
		insert(sa, sa->n, ess);
		sort_set(sa);
		resign(t, &rsa, "sha256", NO_PSS);
		CASE("ESS signingCertificateV2 of another certificate", V_BAD_SIGNATURE);
	}
#undef FRESH
#undef CASE
}
END_TEST

/* ---- step 5: algorithms and the signature itself */

START_TEST(signature_rules)
{
	struct node *t, *si;
	unsigned char *d;
	size_t n, len, noattr_len;
	struct sopt o = { .flags = CMS_NOATTR, .pss_salt = NO_PSS };
	unsigned char *noattr = sign(&rsa, &o, &noattr_len);

#define CASE(name, want)                                                                                               \
	do {                                                                                                           \
		d = encode(t, &n);                                                                                     \
		expect(name, d, n, want);                                                                              \
		tree_reset();                                                                                          \
	} while (0)

	t = tree_of(noattr, noattr_len);
	change_content(t);
	CASE("no signed attributes, content changed", V_BAD_SIGNATURE);
	t = tree_of(noattr, noattr_len);
	si = si_of(t);
	si->kid[si->n - 1] = prim(0x04, "", 0);
	CASE("empty signature", V_BAD_SIGNATURE);
	t = tree_of(good, good_len);
	change_content(t);
	CASE("signed attributes, content changed (digest)", V_BAD_SIGNATURE);

	/* signed by other: the request's certificate is not the key's */
	t = tree_of(noattr, noattr_len);
	resign(t, &other, "sha256", NO_PSS);
	CASE("signature by another key", V_BAD_SIGNATURE);

	/* PSS: salt bounds of the key (RSA-2048, SHA-256: 0..222) */
	o.pss_salt = 222;
	unsigned char *pss = sign(&rsa, &o, &len);
	expect("PSS salt 222", pss, len, V_OK);
	{
		/* the parameters claim 223: not a length the key admits */
		unsigned char *p = pss;
		size_t k;
		for (k = 0; k + 5 < len; k++)
			if (p[k] == 0xa2 && p[k + 1] == 0x04 && p[k + 2] == 0x02 && p[k + 3] == 0x02 &&
			    p[k + 4] == 0x00 && p[k + 5] == 0xde)
				break;
		ck_assert_uint_lt(k + 5, len);
		p[k + 5] = 0xdf;
		expect("PSS salt 223 claimed", pss, len, V_BAD_SIGNATURE);
		p[k + 5] = 0xdd;
		expect("PSS salt 221 claimed, 222 used", pss, len, V_BAD_SIGNATURE);
	}
	free(pss);

	/* the digest and signature algorithms */
	t = tree_of(noattr, noattr_len);
	si = si_of(t);
	sd_of(t)->kid[1]->kid[0] = alg(oid_sha1, sizeof(oid_sha1), NULL);
	si->kid[2] = alg(oid_sha1, sizeof(oid_sha1), NULL);
	resign(t, &rsa, "sha1", NO_PSS);
	CASE("SHA-1 digest (in digestAlgorithms too)", V_BAD_SIGNATURE);
	{
		static const unsigned char sha1rsa[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05 };
		static const unsigned char sha256rsa[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b };
		static const unsigned char ecdsa256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
		t = tree_of(noattr, noattr_len);
		si = si_of(t);
		si->kid[si->n - 2] = alg(sha1rsa, sizeof(sha1rsa), prim(0x05, "", 0));
		CASE("signatureAlgorithm sha1WithRSAEncryption", V_BAD_SIGNATURE);
		t = tree_of(noattr, noattr_len);
		si = si_of(t);
		si->kid[si->n - 2] = alg(sha256rsa, sizeof(sha256rsa), prim(0x05, "", 0));
		CASE("signatureAlgorithm sha256WithRSAEncryption (allowed)", V_OK);
		t = tree_of(noattr, noattr_len);
		si = si_of(t);
		si->kid[si->n - 2] = alg(ecdsa256, sizeof(ecdsa256), NULL);
		CASE("signatureAlgorithm ECDSA on an RSA key", V_BAD_SIGNATURE);
	}
#undef CASE
	free(noattr);
}
END_TEST

static int run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void)
{
	const char *mkpki = getenv("MDG_MKPKI"), *tmp = getenv("MDG_TEST_TMP");
	char cmd[4500];

	if (mkpki == NULL || access(mkpki, X_OK) != 0) {
		fprintf(stderr, "test_request: MDG_MKPKI (the test PKI generator) is needed\n");
		return EXIT_FAILURE;
	}
	snprintf(pki, sizeof(pki) - 8, "%s/request-pki-XXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(pki) == NULL)
		return EXIT_FAILURE;
	snprintf(cmd, sizeof(cmd), "'%s' gen '%s/pki' >/dev/null", mkpki, pki);
	if (run(cmd) != 0) {
		fprintf(stderr, "test_request: %s failed\n", cmd);
		return EXIT_FAILURE;
	}
	strcat(pki, "/pki");

	Suite *s = suite_create("request");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, clients_accepted);
	tcase_add_test(tc, length_boundaries);
	tcase_add_test(tc, structure_rules);
	tcase_add_test(tc, attribute_rules);
	tcase_add_test(tc, signature_rules);
	tcase_add_test(tc, cached_verification);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(pki) - 4), pki);
	run(cmd);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
