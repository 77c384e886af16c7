#include "request.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "der.h"
#include "sigalg.h"

void mdg_request_free(struct mdg_request *req)
{
	X509_free(req->cert);
	free(req->der);
	memset(req, 0, sizeof(*req));
}

/* 1 if the SignerInfo's sid identifies cert: issuer (compared as
 * X509_NAME_cmp compares names) and serial, or the subjectKeyIdentifier. */
static int sid_matches(const struct mdg_cms *cms, X509 *cert)
{
	const unsigned char *p;
	X509_NAME *issuer = NULL;
	ASN1_INTEGER *serial = NULL;
	int ok = 0;

	if (cms->sid_keyid != NULL) {
		const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(cert);
		return skid != NULL && (size_t)ASN1_STRING_length(skid) == cms->sid_keyid_len &&
		       memcmp(ASN1_STRING_get0_data(skid), cms->sid_keyid, cms->sid_keyid_len) == 0;
	}
	p = cms->sid_serial;
	serial = d2i_ASN1_INTEGER(NULL, &p, (long)cms->sid_serial_len);
	if (serial == NULL || p != cms->sid_serial + cms->sid_serial_len)
		goto out;
	if (ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(cert)) != 0)
		goto out;
	/* The issuer as the certificate encodes it, byte for byte (what every
	 * signer copies): equal DER decodes to equal names, so X509_NAME_cmp
	 * would say 0. Anything else is decoded and compared as before. */
	const unsigned char *cert_issuer;
	size_t cert_issuer_len;
	if (X509_NAME_get0_der(X509_get_issuer_name(cert), &cert_issuer, &cert_issuer_len) == 1 &&
	    cert_issuer_len == cms->sid_issuer_len && memcmp(cert_issuer, cms->sid_issuer, cert_issuer_len) == 0) {
		ok = 1;
		goto out;
	}
	p = cms->sid_issuer;
	issuer = d2i_X509_NAME(NULL, &p, (long)cms->sid_issuer_len);
	if (issuer == NULL || p != cms->sid_issuer + cms->sid_issuer_len)
		goto out;
	ok = X509_NAME_cmp(issuer, X509_get_issuer_name(cert)) == 0;
out:
	X509_NAME_free(issuer);
	ASN1_INTEGER_free(serial);
	ERR_clear_error();
	return ok;
}

/* The certificate: from the cache, else decoded (the whole TLV) and offered
 * to it. NULL if it does not decode. */
static X509 *request_cert(const struct mdg_cms *cms, struct mdg_certcache *cache, unsigned char key[32])
{
	const unsigned char *p = cms->cert;
	X509 *x;

	SHA256(cms->cert, cms->cert_len, key);
	if ((x = mdg_certcache_get_x509(cache, key)) != NULL)
		return x;
	x = d2i_X509(NULL, &p, (long)cms->cert_len);
	if (x == NULL || p != cms->cert + cms->cert_len) {
		X509_free(x);
		ERR_clear_error();
		return NULL;
	}
	mdg_certcache_put_x509(cache, key, x);
	return x;
}

int mdg_request_parse(const unsigned char *body, size_t len, struct mdg_certcache *cache, struct mdg_request *req,
		      const char **why)
{
	memset(req, 0, sizeof(*req));
	req->failed = MDG_REQUEST_NOT_DER;
	if (len == 0) {
		*why = "empty body";
		return -1;
	}
	if (mdg_looks_like_pem(body, len)) {
		if (mdg_pem_cms_decode(body, len, &req->der, &req->der_len) != 0) {
			*why = "PEM armour is not a CMS";
			return -1;
		}
	} else {
		if ((req->der = malloc(len)) == NULL) {
			req->failed = MDG_REQUEST_NO_MEMORY;
			*why = "out of memory";
			return -1;
		}
		memcpy(req->der, body, len);
		req->der_len = len;
	}
	if (req->der_len > LONG_MAX || mdg_der_check(req->der, req->der_len) != 0) {
		*why = "not DER (truncated, indefinite length, or trailing data)";
		return -1;
	}
	SHA256(req->der, req->der_len, req->der_sha256);
	req->failed = MDG_REQUEST_CMS;
	if (mdg_cms_parse(req->der, req->der_len, &req->cms, why) != 0)
		return -1;
	if ((req->cert = request_cert(&req->cms, cache, req->cert_sha256)) == NULL) {
		req->failed = MDG_REQUEST_CERT;
		*why = "certificate does not parse";
		return -1;
	}
	if (!sid_matches(&req->cms, req->cert)) {
		*why = "SignerInfo sid does not identify the certificate";
		return -1;
	}
	req->content = req->cms.content;
	req->content_len = req->cms.content_len;
	req->failed = MDG_REQUEST_FORM;
	if (mdg_form_parse(req->content, req->content_len, &req->form, why) != 0)
		return -1;
	req->failed = MDG_REQUEST_OK;
	return 0;
}

/* ---- algorithms fetched once, verification contexts set up once per thread
 *
 * OpenSSL 3.0 looks a digest up in the provider store on every
 * EVP_Digest with a legacy EVP_MD, and EVP_DigestVerifyInit fetches the
 * signature and the digest and builds a new EVP_PKEY_CTX each call. The
 * digests are fetched once per process; a verification context, set up with
 * the key, digest, padding and salt, is kept per thread as a template and
 * each verification runs on a copy of it (EVP_MD_CTX_copy_ex duplicates
 * the provider contexts; nothing is fetched). */

static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_fetched[3]; /* SHA-256, SHA-384, SHA-512; NULL if a fetch failed */

static void fetch_mds(void)
{
	md_fetched[0] = EVP_MD_fetch(NULL, "SHA256", NULL);
	md_fetched[1] = EVP_MD_fetch(NULL, "SHA384", NULL);
	md_fetched[2] = EVP_MD_fetch(NULL, "SHA512", NULL);
	ERR_clear_error();
}

/* The digest for an allowed NID: fetched once (kept for the process's
 * life), or the legacy object if that fetch failed. */
static const EVP_MD *digest_of(int nid)
{
	int i = nid == NID_sha256 ? 0 : nid == NID_sha384 ? 1 : nid == NID_sha512 ? 2 : -1;

	if (i < 0)
		return NULL;
	pthread_once(&md_once, fetch_mds);
	return md_fetched[i] != NULL ? md_fetched[i] : EVP_get_digestbynid(nid);
}

/* A verification template: for this key object (the template's
 * EVP_PKEY_CTX holds a reference to it, so while the entry lives no other
 * key can have its address) and these exact digestAlgorithm and
 * signatureAlgorithm DER, which mdg_request_verify accepted. The verdict on
 * the algorithms depends on nothing else, so a hit needs no second look. */
#define VT_SETS 16
#define VT_WAYS 4
#define VT_ALG_MAX 96

struct vtmpl {
	const EVP_PKEY *pk; /* identity only; NULL: empty */
	unsigned char dig[VT_ALG_MAX], sig[VT_ALG_MAX];
	size_t dig_len, sig_len;
	const EVP_MD *md; /* digest_of(): process-lifetime */
	EVP_MD_CTX *tmpl; /* owned; initialised, never updated */
	uint64_t last;
};

struct vcache {
	struct vtmpl e[VT_SETS * VT_WAYS];
	uint64_t tick;
	size_t hits;
};

static pthread_once_t vc_once = PTHREAD_ONCE_INIT;
static pthread_key_t vc_key;
static int vc_key_ok;

static void vc_free(void *arg)
{
	struct vcache *vc = arg;

	if (vc == NULL)
		return;
	for (size_t i = 0; i < VT_SETS * VT_WAYS; i++)
		EVP_MD_CTX_free(vc->e[i].tmpl);
	free(vc);
}

static void vc_init(void)
{
	vc_key_ok = pthread_key_create(&vc_key, vc_free) == 0;
}

/* This thread's templates, made on first use (freed when the thread
 * exits, or by mdg_request_thread_cleanup); NULL if that failed. */
static struct vcache *thread_vcache(void)
{
	struct vcache *vc;

	pthread_once(&vc_once, vc_init);
	if (!vc_key_ok)
		return NULL;
	if ((vc = pthread_getspecific(vc_key)) == NULL && (vc = calloc(1, sizeof(*vc))) != NULL &&
	    pthread_setspecific(vc_key, vc) != 0) {
		free(vc);
		vc = NULL;
	}
	return vc;
}

void mdg_request_thread_cleanup(void)
{
	pthread_once(&vc_once, vc_init);
	if (!vc_key_ok)
		return;
	vc_free(pthread_getspecific(vc_key));
	pthread_setspecific(vc_key, NULL);
}

size_t mdg_request_thread_hits(void)
{
	struct vcache *vc = vc_key_ok ? pthread_getspecific(vc_key) : NULL;

	return vc != NULL ? vc->hits : 0;
}

/* The set of a key and its algorithms (FNV-1a over the algorithm DER,
 * mixed with the key's address). */
static struct vtmpl *vt_set(struct vcache *vc, const EVP_PKEY *pk, const struct mdg_cms *cms)
{
	uint64_t h = 0xcbf29ce484222325u ^ (uint64_t)(uintptr_t)pk;

	for (size_t i = 0; i < cms->digest_alg_len; i++)
		h = (h ^ cms->digest_alg[i]) * 0x100000001b3u;
	for (size_t i = 0; i < cms->sig_alg_len; i++)
		h = (h ^ cms->sig_alg[i]) * 0x100000001b3u;
	h ^= h >> 29;
	h *= 0x9e3779b97f4a7c15u;
	return &vc->e[(h >> 60) % VT_SETS * VT_WAYS];
}

static struct vtmpl *vt_find(struct vcache *vc, const EVP_PKEY *pk, const struct mdg_cms *cms)
{
	struct vtmpl *set = vt_set(vc, pk, cms);

	for (size_t w = 0; w < VT_WAYS; w++) {
		struct vtmpl *e = &set[w];
		if (e->pk == pk && e->dig_len == cms->digest_alg_len && e->sig_len == cms->sig_alg_len &&
		    memcmp(e->dig, cms->digest_alg, e->dig_len) == 0 && memcmp(e->sig, cms->sig_alg, e->sig_len) == 0) {
			e->last = ++vc->tick;
			vc->hits++;
			return e;
		}
	}
	return NULL;
}

/* Keeps tmpl (taking ownership) for pk and the request's algorithm DER. */
static void vt_put(struct vcache *vc, const EVP_PKEY *pk, const struct mdg_cms *cms, const EVP_MD *md, EVP_MD_CTX *tmpl)
{
	struct vtmpl *set = vt_set(vc, pk, cms), *victim = &set[0];

	if (cms->digest_alg_len > VT_ALG_MAX || cms->sig_alg_len > VT_ALG_MAX) {
		EVP_MD_CTX_free(tmpl);
		return;
	}
	for (size_t w = 0; w < VT_WAYS; w++) {
		if (set[w].pk == NULL) {
			victim = &set[w];
			break;
		}
		if (set[w].last < victim->last)
			victim = &set[w];
	}
	EVP_MD_CTX_free(victim->tmpl);
	victim->pk = pk;
	memcpy(victim->dig, cms->digest_alg, cms->digest_alg_len);
	victim->dig_len = cms->digest_alg_len;
	memcpy(victim->sig, cms->sig_alg, cms->sig_alg_len);
	victim->sig_len = cms->sig_alg_len;
	victim->md = md;
	victim->tmpl = tmpl;
	victim->last = ++vc->tick;
}

/* The attributes RFC 5652 11 and RFC 2634 restrict, as OpenSSL's
 * verification enforces them (and so must we: what is accepted reads back). */
enum {
	A_CONTENT_TYPE,
	A_MESSAGE_DIGEST,
	A_SIGNING_TIME,
	A_COUNTERSIGNATURE,
	A_RECEIPT_REQUEST,
	A_SIGNING_CERT,
	A_SIGNING_CERT_V2,
	A_N
};

static const struct {
	unsigned char oid[11];
	size_t len;
} known_attr[A_N] = {
	[A_CONTENT_TYPE] = { { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03 }, 9 },
	[A_MESSAGE_DIGEST] = { { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04 }, 9 },
	[A_SIGNING_TIME] = { { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05 }, 9 },
	[A_COUNTERSIGNATURE] = { { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x06 }, 9 },
	[A_RECEIPT_REQUEST] = { { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x01 }, 11 },
	[A_SIGNING_CERT] = { { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0c }, 11 },
	[A_SIGNING_CERT_V2] = { { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f }, 11 },
};

static int attr_kind(const struct mdg_cms_attr *a)
{
	for (int k = 0; k < A_N; k++)
		if (mdg_cms_oid_is(a->oid, a->oid_len, known_attr[k].oid, known_attr[k].len))
			return k;
	return -1;
}

/* The one value of a single-valued attribute: tag and contents. */
static int only_value(const struct mdg_cms_attr *a, unsigned char *tag, const unsigned char **v, size_t *v_len,
		      size_t *tlv_len)
{
	return a->n_values == 1 && mdg_der_next(a->values, a->values_len, tag, v, v_len, tlv_len) == 0 ? 0 : -1;
}

/* An ESS signingCertificate(V2) attribute: well formed and naming cert. */
static int check_ess(const struct mdg_cms_attr *ss_attr, const struct mdg_cms_attr *ssv2_attr, X509 *cert)
{
	STACK_OF(X509) *chain = NULL;
	ESS_SIGNING_CERT *ss = NULL;
	ESS_SIGNING_CERT_V2 *ssv2 = NULL;
	const unsigned char *v, *p;
	size_t v_len, n;
	unsigned char tag;
	int ok = 0;

	if (ss_attr != NULL) {
		if (only_value(ss_attr, &tag, &v, &v_len, &n) != 0 || tag != 0x30)
			goto out;
		p = ss_attr->values;
		if ((ss = d2i_ESS_SIGNING_CERT(NULL, &p, (long)n)) == NULL || p != ss_attr->values + n)
			goto out;
	}
	if (ssv2_attr != NULL) {
		if (only_value(ssv2_attr, &tag, &v, &v_len, &n) != 0 || tag != 0x30)
			goto out;
		p = ssv2_attr->values;
		if ((ssv2 = d2i_ESS_SIGNING_CERT_V2(NULL, &p, (long)n)) == NULL || p != ssv2_attr->values + n)
			goto out;
	}
	if ((chain = sk_X509_new_null()) == NULL || !sk_X509_push(chain, cert))
		goto out;
	ok = OSSL_ESS_check_signing_certs(ss, ssv2, chain, 0) > 0;
out:
	sk_X509_free(chain);
	ESS_SIGNING_CERT_free(ss);
	ESS_SIGNING_CERT_V2_free(ssv2);
	return ok;
}

/* The signed attributes (step 5): see request.h. */
static int check_attrs(const struct mdg_request *req, const EVP_MD *md, const char **why)
{
	const struct mdg_cms *cms = &req->cms;
	struct mdg_cms_attr a, found[A_N];
	size_t count[A_N] = { 0 }, pos = 0;
	unsigned char tag, mdv[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const unsigned char *v;
	size_t v_len, n;
	int k;

	if (cms->unsigned_attrs != NULL)
		while (mdg_cms_attr_next(cms->unsigned_attrs, cms->unsigned_attrs_len, &pos, &a))
			if ((k = attr_kind(&a)) >= 0 && k != A_COUNTERSIGNATURE) {
				*why = "a signed-only attribute among the unsigned attributes";
				return -1;
			}
	if (cms->signed_attrs == NULL)
		return 0;
	pos = 0;
	while (mdg_cms_attr_next(cms->signed_attrs, cms->signed_attrs_len, &pos, &a)) {
		if ((k = attr_kind(&a)) < 0)
			continue;
		if (k == A_COUNTERSIGNATURE) {
			*why = "countersignature among the signed attributes";
			return -1;
		}
		if (++count[k] > 1 || a.n_values != 1) {
			*why = "a single-valued signed attribute repeated or with several values";
			return -1;
		}
		found[k] = a;
	}
	if (count[A_CONTENT_TYPE] != 1 || only_value(&found[A_CONTENT_TYPE], &tag, &v, &v_len, &n) != 0 ||
	    tag != 0x06 || !mdg_cms_oid_is(v, v_len, mdg_oid_data, sizeof(mdg_oid_data))) {
		*why = "content-type attribute missing or not id-data";
		return -1;
	}
	if (count[A_MESSAGE_DIGEST] != 1 || only_value(&found[A_MESSAGE_DIGEST], &tag, &v, &v_len, &n) != 0 ||
	    tag != 0x04 || !EVP_Digest(req->content, req->content_len, mdv, &mdlen, md, NULL) || v_len != mdlen ||
	    CRYPTO_memcmp(v, mdv, mdlen) != 0) {
		*why = "message digest does not match the content";
		return -1;
	}
	if ((count[A_SIGNING_CERT] || count[A_SIGNING_CERT_V2]) &&
	    !check_ess(count[A_SIGNING_CERT] ? &found[A_SIGNING_CERT] : NULL,
		       count[A_SIGNING_CERT_V2] ? &found[A_SIGNING_CERT_V2] : NULL, req->cert)) {
		*why = "ESS signing certificate malformed or not the certificate";
		return -1;
	}
	return 0;
}

/* A verification context for pk, md and the signature algorithm: set up
 * from scratch. NULL on failure. */
static EVP_MD_CTX *verify_ctx_new(EVP_PKEY *pk, const EVP_MD *md, const X509_ALGOR *sig)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int salt = 0;

	int pss = mdg_sigalg_pss_salt(sig, &salt);
	if (mctx == NULL || pss < 0 || EVP_DigestVerifyInit(mctx, &pctx, md, NULL, pk) != 1)
		goto fail;
	if (pss > 0 &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0 || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) <= 0))
		goto fail;
	return mctx;
fail:
	EVP_MD_CTX_free(mctx);
	return NULL;
}

/* The signature over the exact bytes: the signed attributes' DER SET (their
 * [0] tag read as SET OF's 0x31), else the content; mctx is consumed. */
static int verify_signature(const struct mdg_request *req, EVP_MD_CTX *mctx)
{
	const struct mdg_cms *cms = &req->cms;
	static const unsigned char set_tag = 0x31;
	int ok = 0;

	if (mctx == NULL)
		goto out;
	/* finalise this context itself, not a duplicate of it: it is used once */
	EVP_MD_CTX_set_flags(mctx, EVP_MD_CTX_FLAG_FINALISE);
	if (cms->signed_attrs != NULL) {
		if (EVP_DigestVerifyUpdate(mctx, &set_tag, 1) != 1 ||
		    EVP_DigestVerifyUpdate(mctx, cms->signed_attrs + 1, cms->signed_attrs_len - 1) != 1)
			goto out;
	} else if (EVP_DigestVerifyUpdate(mctx, req->content, req->content_len) != 1) {
		goto out;
	}
	ok = EVP_DigestVerifyFinal(mctx, cms->sig, cms->sig_len) == 1;
out:
	EVP_MD_CTX_free(mctx);
	ERR_clear_error();
	return ok;
}

/* A copy of a template (NULL on failure). */
static EVP_MD_CTX *verify_ctx_copy(const EVP_MD_CTX *tmpl)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();

	if (mctx != NULL && EVP_MD_CTX_copy_ex(mctx, tmpl) != 1) {
		EVP_MD_CTX_free(mctx);
		mctx = NULL;
	}
	return mctx;
}

int mdg_request_verify(struct mdg_request *req, const char **why)
{
	const struct mdg_cms *cms = &req->cms;
	EVP_PKEY *pk = X509_get0_pubkey(req->cert);
	X509_ALGOR *dig = NULL, *sig = NULL;
	struct vcache *vc = pk != NULL ? thread_vcache() : NULL;
	struct vtmpl *hit = vc != NULL ? vt_find(vc, pk, cms) : NULL;
	EVP_MD_CTX *mctx;
	const unsigned char *p;
	const ASN1_OBJECT *obj;
	int rc = -1;

	if (hit != NULL) {
		/* these algorithms with this key were accepted before */
		if (check_attrs(req, hit->md, why) != 0)
			goto out;
		if (!verify_signature(req, verify_ctx_copy(hit->tmpl))) {
			*why = "signature does not verify";
			goto out;
		}
		rc = 0;
		goto out;
	}
	p = cms->digest_alg;
	dig = d2i_X509_ALGOR(NULL, &p, (long)cms->digest_alg_len);
	if (dig != NULL)
		X509_ALGOR_get0(&obj, NULL, NULL, dig);
	int md_nid = dig != NULL ? OBJ_obj2nid(obj) : NID_undef;
	const EVP_MD *md = mdg_digest_allowed(md_nid) ? digest_of(md_nid) : NULL;
	if (md == NULL) {
		*why = "digest algorithm not allowed";
		goto out;
	}
	p = cms->sig_alg;
	sig = d2i_X509_ALGOR(NULL, &p, (long)cms->sig_alg_len);
	if (sig == NULL || p != cms->sig_alg + cms->sig_alg_len || !mdg_sigalg_allowed(sig, pk, md_nid)) {
		*why = "signature algorithm not allowed";
		goto out;
	}
	X509_ALGOR_get0(&obj, NULL, NULL, sig);
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA_PSS && OBJ_obj2nid(obj) != NID_rsassaPss) {
		*why = "an RSA-PSS key signs only with RSASSA-PSS";
		goto out;
	}
	if (check_attrs(req, md, why) != 0)
		goto out;
	if ((mctx = verify_ctx_new(pk, md, sig)) != NULL && vc != NULL) {
		/* kept as this thread's template for the key and algorithms; the
		 * verification runs on a copy, as every later one will */
		EVP_MD_CTX *tmpl = mctx;
		if ((mctx = verify_ctx_copy(tmpl)) != NULL)
			vt_put(vc, pk, cms, md, tmpl);
		else
			EVP_MD_CTX_free(tmpl);
	}
	if (!verify_signature(req, mctx)) {
		*why = "signature does not verify";
		goto out;
	}
	rc = 0;
out:
	X509_ALGOR_free(dig);
	X509_ALGOR_free(sig);
	ERR_clear_error();
	return rc;
}
