#include "cms.h"

#include <string.h>

#include "der.h"

const unsigned char mdg_oid_data[9] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01 };
const unsigned char mdg_oid_signed_data[9] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02 };

int mdg_cms_oid_is(const unsigned char *v, size_t len, const unsigned char *oid, size_t oid_len)
{
	return len == oid_len && memcmp(v, oid, len) == 0;
}

/* A cursor over the contents of one constructed value. */
struct cur {
	const unsigned char *p;
	size_t left;
};

/* The next TLV, which must carry tag want; *tlv / *tlv_len: the whole TLV
 * (either may be NULL). */
static int take(struct cur *c, unsigned char want, const unsigned char **val, size_t *val_len,
		const unsigned char **tlv, size_t *tlv_len)
{
	const unsigned char *v;
	unsigned char tag;
	size_t n, vl;

	if (c->left == 0 || mdg_der_next(c->p, c->left, &tag, &v, &vl, &n) != 0 || tag != want)
		return -1;
	if (val != NULL)
		*val = v;
	if (val_len != NULL)
		*val_len = vl;
	if (tlv != NULL)
		*tlv = c->p;
	if (tlv_len != NULL)
		*tlv_len = n;
	c->p += n;
	c->left -= n;
	return 0;
}

static int peek(const struct cur *c, unsigned char tag)
{
	return c->left > 0 && c->p[0] == tag;
}

/* OBJECT IDENTIFIER contents: not empty, every subidentifier minimal (no
 * leading 0x80), the last one complete (what c2i_ASN1_OBJECT demands). */
static int oid_ok(const unsigned char *v, size_t len)
{
	if (len == 0 || (v[len - 1] & 0x80) != 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (v[i] == 0x80 && (i == 0 || (v[i - 1] & 0x80) == 0))
			return 0;
	return 1;
}

/* INTEGER (or ENUMERATED) contents: not empty, minimal (X.690 8.3.2). */
static int int_ok(const unsigned char *v, size_t len)
{
	if (len == 0)
		return 0;
	if (len > 1 && ((v[0] == 0x00 && (v[1] & 0x80) == 0) || (v[0] == 0xff && (v[1] & 0x80) != 0)))
		return 0;
	return 1;
}

/* One value of an ANY (attribute value, algorithm parameters) in a form DER
 * gives it and a decoder keeps byte for byte: the universal types below
 * with their DER content rules, SEQUENCE and SET (constructed, as DER
 * requires), or any non-universal tag (kept whole). Other universal types
 * are refused: no request needs them. */
static int any_ok(unsigned char tag, const unsigned char *v, size_t len)
{
	if ((tag & 0xc0) != 0)
		return 1;
	switch (tag) {
	case 0x01: /* BOOLEAN */
		return len == 1 && (v[0] == 0x00 || v[0] == 0xff);
	case 0x02: /* INTEGER */
	case 0x0a: /* ENUMERATED */
		return int_ok(v, len);
	case 0x03: /* BIT STRING: unused bits 0..7, zero and none if empty */
		if (len == 0 || v[0] > 7 || (len == 1 && v[0] != 0))
			return 0;
		return (v[len - 1] & ((1u << v[0]) - 1)) == 0;
	case 0x05: /* NULL */
		return len == 0;
	case 0x06:
		return oid_ok(v, len);
	case 0x04: /* OCTET STRING */
	case 0x0c: /* UTF8String */
	case 0x13: /* PrintableString */
	case 0x16: /* IA5String */
	case 0x17: /* UTCTime */
	case 0x18: /* GeneralizedTime */
	case 0x30: /* SEQUENCE */
	case 0x31: /* SET */
		return 1;
	default:
		return 0;
	}
}

/* X.690 11.6: the elements of a DER SET OF in ascending order of their
 * encodings. TLVs are self-delimiting, so one is never a proper prefix of
 * another and the trailing-zero padding rule never decides. */
static int in_order(const unsigned char *prev, size_t prev_len, const unsigned char *next, size_t next_len)
{
	size_t n = prev_len < next_len ? prev_len : next_len;
	int c = memcmp(prev, next, n);

	return c < 0 || (c == 0 && prev_len <= next_len);
}

/* AlgorithmIdentifier contents: OID, then at most one parameter value; a
 * digest's parameters absent or NULL. *oid / *oid_len: the OID's octets. */
static int alg_ok(const unsigned char *v, size_t len, int digest, const unsigned char **oid, size_t *oid_len)
{
	struct cur c = { v, len };
	const unsigned char *pv;
	size_t plen, n;
	unsigned char tag;

	if (take(&c, 0x06, oid, oid_len, NULL, NULL) != 0 || !oid_ok(*oid, *oid_len))
		return 0;
	if (c.left == 0)
		return 1;
	if (mdg_der_next(c.p, c.left, &tag, &pv, &plen, &n) != 0 || n != c.left)
		return 0;
	if (digest)
		return tag == 0x05 && plen == 0;
	return any_ok(tag, pv, plen);
}

/* The contents of an attribute set (RFC 5652 5.3, SIZE (1..MAX)): at most
 * max Attributes { attrType OID, attrValues SET of >= 1 values }, each
 * SET in DER order. *n: how many. */
static int attrs_ok(const unsigned char *v, size_t len, size_t max, size_t *n, const char **why)
{
	struct cur c = { v, len };
	const unsigned char *prev = NULL, *tlv, *av, *oid, *vals, *pv;
	size_t prev_len = 0, tlv_len, av_len, oid_len, vals_len;

	*n = 0;
	while (c.left > 0) {
		if (take(&c, 0x30, &av, &av_len, &tlv, &tlv_len) != 0) {
			*why = "attribute not a SEQUENCE";
			return -1;
		}
		if (++*n > max) {
			*why = "more than 16 signed or unsigned attributes";
			return -1;
		}
		if (prev != NULL && !in_order(prev, prev_len, tlv, tlv_len)) {
			*why = "attributes not in DER SET order";
			return -1;
		}
		prev = tlv;
		prev_len = tlv_len;
		struct cur a = { av, av_len };
		if (take(&a, 0x06, &oid, &oid_len, NULL, NULL) != 0 || !oid_ok(oid, oid_len) ||
		    take(&a, 0x31, &vals, &vals_len, NULL, NULL) != 0 || a.left != 0 || vals_len == 0) {
			*why = "attribute not { OID, SET of values }";
			return -1;
		}
		struct cur e = { vals, vals_len };
		const unsigned char *pvt = NULL;
		size_t pvt_len = 0;
		while (e.left > 0) {
			unsigned char tag;
			size_t plen, n2;
			if (mdg_der_next(e.p, e.left, &tag, &pv, &plen, &n2) != 0 || !any_ok(tag, pv, plen)) {
				*why = "attribute value not in a DER form";
				return -1;
			}
			if (pvt != NULL && !in_order(pvt, pvt_len, e.p, n2)) {
				*why = "attribute values not in DER SET order";
				return -1;
			}
			pvt = e.p;
			pvt_len = n2;
			e.p += n2;
			e.left -= n2;
		}
	}
	if (*n == 0) {
		*why = "empty attribute set";
		return -1;
	}
	return 0;
}

int mdg_cms_attr_next(const unsigned char *attrs, size_t attrs_len, size_t *pos, struct mdg_cms_attr *a)
{
	unsigned char tag;
	const unsigned char *set, *av;
	size_t set_len, n, av_len;

	if (mdg_der_next(attrs, attrs_len, &tag, &set, &set_len, &n) != 0 || *pos >= set_len)
		return 0;
	struct cur c = { set + *pos, set_len - *pos };
	const unsigned char *start = c.p;
	if (take(&c, 0x30, &av, &av_len, NULL, NULL) != 0)
		return 0;
	*pos += (size_t)(c.p - start);
	struct cur e = { av, av_len };
	if (take(&e, 0x06, &a->oid, &a->oid_len, NULL, NULL) != 0 ||
	    take(&e, 0x31, &a->values, &a->values_len, NULL, NULL) != 0)
		return 0;
	a->n_values = 0;
	struct cur v = { a->values, a->values_len };
	while (v.left > 0) {
		const unsigned char *pv;
		size_t plen;
		if (mdg_der_next(v.p, v.left, &tag, &pv, &plen, &n) != 0)
			return 0;
		v.p += n;
		v.left -= n;
		a->n_values++;
	}
	return 1;
}

static int fail(const char **why, const char *reason)
{
	*why = reason;
	return -1;
}

static int signer_info(const unsigned char *v, size_t len, struct mdg_cms *out, const char **why)
{
	struct cur c = { v, len };
	const unsigned char *ver, *x, *oid;
	size_t ver_len, x_len, oid_len;

	if (take(&c, 0x02, &ver, &ver_len, NULL, NULL) != 0 || ver_len != 1 || (ver[0] != 1 && ver[0] != 3))
		return fail(why, "SignerInfo version not 1 or 3");
	if (ver[0] != out->version)
		return fail(why, "SignedData version not the one RFC 5652 5.1 gives (SignerInfo version)");
	if (ver[0] == 1) {
		if (take(&c, 0x30, &x, &x_len, NULL, NULL) != 0)
			return fail(why, "SignerInfo version 1 without issuerAndSerialNumber");
		struct cur s = { x, x_len };
		if (take(&s, 0x30, NULL, NULL, &out->sid_issuer, &out->sid_issuer_len) != 0 ||
		    take(&s, 0x02, &oid, &oid_len, &out->sid_serial, &out->sid_serial_len) != 0 ||
		    !int_ok(oid, oid_len) || s.left != 0)
			return fail(why, "issuerAndSerialNumber not { Name, INTEGER }");
	} else {
		if (take(&c, 0x80, &out->sid_keyid, &out->sid_keyid_len, NULL, NULL) != 0 || out->sid_keyid_len == 0)
			return fail(why, "SignerInfo version 3 without subjectKeyIdentifier");
	}
	if (take(&c, 0x30, &x, &x_len, &out->digest_alg, &out->digest_alg_len) != 0 ||
	    !alg_ok(x, x_len, 1, &oid, &oid_len))
		return fail(why, "SignerInfo digestAlgorithm not an AlgorithmIdentifier (parameters absent or NULL)");
	if (peek(&c, 0xa0)) {
		size_t nattr;
		(void)take(&c, 0xa0, &x, &x_len, &out->signed_attrs, &out->signed_attrs_len);
		if (attrs_ok(x, x_len, MDG_CMS_MAX_ATTRS, &nattr, why) != 0)
			return -1;
	}
	if (take(&c, 0x30, &x, &x_len, &out->sig_alg, &out->sig_alg_len) != 0 || !alg_ok(x, x_len, 0, &oid, &oid_len))
		return fail(why, "SignerInfo signatureAlgorithm not an AlgorithmIdentifier");
	if (take(&c, 0x04, &out->sig, &out->sig_len, NULL, NULL) != 0)
		return fail(why, "SignerInfo signature not an OCTET STRING");
	if (peek(&c, 0xa1)) {
		size_t nattr;
		(void)take(&c, 0xa1, &x, &x_len, &out->unsigned_attrs, &out->unsigned_attrs_len);
		if (attrs_ok(x, x_len, MDG_CMS_MAX_ATTRS, &nattr, why) != 0)
			return -1;
	}
	if (c.left != 0)
		return fail(why, "trailing fields in the SignerInfo");
	return 0;
}

int mdg_cms_parse(const unsigned char *der, size_t len, struct mdg_cms *out, const char **why)
{
	struct cur top = { der, len }, c;
	const unsigned char *v, *x, *oid, *das, *y;
	size_t v_len, x_len, oid_len, das_len, y_len;

	memset(out, 0, sizeof(*out));
	/* ContentInfo { id-signedData, [0] EXPLICIT SignedData } */
	if (take(&top, 0x30, &v, &v_len, NULL, NULL) != 0 || top.left != 0)
		return fail(why, "not a ContentInfo");
	c = (struct cur){ v, v_len };
	if (take(&c, 0x06, &oid, &oid_len, NULL, NULL) != 0 ||
	    !mdg_cms_oid_is(oid, oid_len, mdg_oid_signed_data, sizeof(mdg_oid_signed_data)))
		return fail(why, "CMS content is not SignedData");
	if (take(&c, 0xa0, &x, &x_len, NULL, NULL) != 0 || c.left != 0)
		return fail(why, "ContentInfo not { id-signedData, [0] EXPLICIT SignedData }");
	c = (struct cur){ x, x_len };
	if (take(&c, 0x30, &v, &v_len, NULL, NULL) != 0 || c.left != 0)
		return fail(why, "ContentInfo content not one SignedData");

	/* SignedData */
	struct cur sd = { v, v_len };
	if (take(&sd, 0x02, &x, &x_len, NULL, NULL) != 0 || x_len != 1 || (x[0] != 1 && x[0] != 3))
		return fail(why, "SignedData version not 1 or 3");
	out->version = x[0];
	if (take(&sd, 0x31, &das, &das_len, NULL, NULL) != 0)
		return fail(why, "digestAlgorithms not a SET");
	size_t n_das = 0;
	c = (struct cur){ das, das_len };
	const unsigned char *prev = NULL;
	size_t prev_len = 0;
	while (c.left > 0) {
		const unsigned char *t;
		size_t t_len;
		if (take(&c, 0x30, &y, &y_len, &t, &t_len) != 0 || !alg_ok(y, y_len, 1, &oid, &oid_len))
			return fail(why,
				    "digestAlgorithms element not an AlgorithmIdentifier (parameters absent or NULL)");
		if (++n_das > MDG_CMS_MAX_DIGEST_ALGS)
			return fail(why, "more than 8 digestAlgorithms");
		if (prev != NULL && !in_order(prev, prev_len, t, t_len))
			return fail(why, "digestAlgorithms not in DER SET order");
		prev = t;
		prev_len = t_len;
	}
	if (n_das == 0)
		return fail(why, "digestAlgorithms empty");

	/* encapContentInfo { id-data, [0] EXPLICIT OCTET STRING } */
	if (take(&sd, 0x30, &x, &x_len, NULL, NULL) != 0)
		return fail(why, "encapContentInfo not a SEQUENCE");
	c = (struct cur){ x, x_len };
	if (take(&c, 0x06, &oid, &oid_len, NULL, NULL) != 0)
		return fail(why, "eContentType not an OID");
	if (!mdg_cms_oid_is(oid, oid_len, mdg_oid_data, sizeof(mdg_oid_data)))
		return fail(why, "eContentType is not id-data");
	if (c.left == 0)
		return fail(why, "content is detached");
	if (take(&c, 0xa0, &y, &y_len, NULL, NULL) != 0 || c.left != 0)
		return fail(why, "encapContentInfo not { id-data, [0] EXPLICIT eContent }");
	c = (struct cur){ y, y_len };
	if (take(&c, 0x04, &out->content, &out->content_len, NULL, NULL) != 0 || c.left != 0)
		return fail(why, "eContent not one primitive OCTET STRING");

	/* certificates [0] IMPLICIT: exactly one Certificate */
	if (!peek(&sd, 0xa0))
		return fail(why, "not exactly one certificate");
	(void)take(&sd, 0xa0, &x, &x_len, NULL, NULL);
	c = (struct cur){ x, x_len };
	if (take(&c, 0x30, NULL, NULL, &out->cert, &out->cert_len) != 0 || c.left != 0)
		return fail(why, "not exactly one certificate");
	if (peek(&sd, 0xa0))
		return fail(why, "a second certificates field");
	if (peek(&sd, 0xa1))
		return fail(why, "CRLs in the request");

	/* signerInfos: exactly one */
	if (take(&sd, 0x31, &x, &x_len, NULL, NULL) != 0)
		return fail(why, "signerInfos not a SET (or fields out of place)");
	if (sd.left != 0)
		return fail(why, "trailing fields in the SignedData");
	c = (struct cur){ x, x_len };
	if (take(&c, 0x30, &y, &y_len, NULL, NULL) != 0 || c.left != 0)
		return fail(why, "not exactly one SignerInfo");
	if (signer_info(y, y_len, out, why) != 0)
		return -1;

	/* the signer's digest among digestAlgorithms, compared by OID */
	const unsigned char *soid;
	size_t soid_len;
	struct cur s = { out->digest_alg, out->digest_alg_len };
	(void)take(&s, 0x30, &y, &y_len, NULL, NULL);
	s = (struct cur){ y, y_len };
	(void)take(&s, 0x06, &soid, &soid_len, NULL, NULL);
	c = (struct cur){ das, das_len };
	while (c.left > 0) {
		(void)take(&c, 0x30, &y, &y_len, NULL, NULL);
		struct cur a = { y, y_len };
		(void)take(&a, 0x06, &oid, &oid_len, NULL, NULL);
		if (mdg_cms_oid_is(oid, oid_len, soid, soid_len))
			return 0;
	}
	return fail(why, "the signer's digestAlgorithm is not among digestAlgorithms");
}
