#include "der.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

/* Parses one TLV at buf[0..len); sets *hdr (header size) and *clen. */
static int tlv(const unsigned char *buf, size_t len, size_t *hdr, size_t *clen, int *constructed)
{
	size_t i = 0;

	if (len < 2)
		return -1;
	*constructed = (buf[0] & 0x20) != 0;
	/* universal types other than SEQUENCE and SET are primitive in DER,
	 * and those two constructed */
	if ((buf[0] & 0xc0) == 0 && *constructed && buf[0] != 0x30 && buf[0] != 0x31)
		return -1;
	if (buf[0] == 0x10 || buf[0] == 0x11)
		return -1;
	if ((buf[0] & 0x1f) == 0x1f) {
		/* high tag number: base-128, minimal, at most 4 bytes */
		i = 1;
		if (buf[i] == 0x80)
			return -1;
		do {
			if (++i > 5 || i >= len)
				return -1;
		} while (buf[i - 1] & 0x80);
	} else {
		i = 1;
	}
	if (i >= len)
		return -1;
	unsigned char l0 = buf[i++];
	if (l0 < 0x80) {
		*clen = l0;
	} else if (l0 == 0x80) {
		return -1; /* indefinite length: BER, not DER */
	} else {
		size_t n = l0 & 0x7f;
		size_t v = 0;
		if (n > 4 || i + n > len || buf[i] == 0)
			return -1;
		for (size_t k = 0; k < n; k++)
			v = v << 8 | buf[i + k];
		if (v < 0x80)
			return -1; /* not minimal */
		i += n;
		*clen = v;
	}
	if (*clen > len - i)
		return -1;
	*hdr = i;
	return 0;
}

static int walk(const unsigned char *buf, size_t len, int depth)
{
	size_t off = 0;

	if (depth > MDG_DER_MAX_DEPTH)
		return -1;
	while (off < len) {
		size_t hdr, clen;
		int cons;
		if (tlv(buf + off, len - off, &hdr, &clen, &cons) != 0)
			return -1;
		if (cons && walk(buf + off + hdr, clen, depth + 1) != 0)
			return -1;
		off += hdr + clen;
	}
	return 0;
}

int mdg_der_check(const unsigned char *buf, size_t len)
{
	size_t hdr, clen;
	int cons;

	if (buf == NULL || tlv(buf, len, &hdr, &clen, &cons) != 0 || hdr + clen != len || !cons)
		return -1;
	return walk(buf + hdr, clen, 1);
}

int mdg_looks_like_pem(const unsigned char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	return len - i >= 11 && memcmp(buf + i, "-----BEGIN ", 11) == 0;
}

int mdg_pem_cms_decode(const unsigned char *buf, size_t len, unsigned char **der, size_t *der_len)
{
	BIO *bio = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long dlen = 0;
	int rc = -1;

	*der = NULL;
	if (len > (size_t)INT32_MAX)
		return -1;
	bio = BIO_new_mem_buf(buf, (int)len);
	if (bio == NULL || !PEM_read_bio(bio, &name, &header, &data, &dlen))
		goto out;
	if (strcmp(name, "CMS") != 0 && strcmp(name, "PKCS7") != 0)
		goto out;
	if (header != NULL && header[0] != '\0')
		goto out;
	if (dlen <= 0 || (*der = malloc((size_t)dlen)) == NULL)
		goto out;
	memcpy(*der, data, (size_t)dlen);
	*der_len = (size_t)dlen;
	rc = 0;
out:
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(bio);
	return rc;
}

/* Bytes of a DER length field for a content of n bytes. */
static size_t len_size(size_t n)
{
	size_t k = 1;

	if (n < 0x80)
		return 1;
	for (; n != 0; n >>= 8)
		k++;
	return k;
}

/* Writes tag and the minimal DER length of n at o; returns bytes written. */
static size_t put_header(unsigned char *o, unsigned char tag, size_t n)
{
	size_t k = len_size(n);

	o[0] = tag;
	if (k == 1) {
		o[1] = (unsigned char)n;
		return 2;
	}
	o[1] = (unsigned char)(0x80 | (k - 1));
	for (size_t i = 1; i < k; i++)
		o[1 + i] = (unsigned char)(n >> (8 * (k - 1 - i)));
	return 1 + k;
}

int mdg_der_next(const unsigned char *buf, size_t len, unsigned char *tag, const unsigned char **val, size_t *val_len,
		 size_t *tlv_len)
{
	size_t hdr, clen;
	int cons;

	if (len < 2 || (buf[0] & 0x1f) == 0x1f || tlv(buf, len, &hdr, &clen, &cons) != 0)
		return -1;
	*tag = buf[0];
	*val = buf + hdr;
	*val_len = clen;
	*tlv_len = hdr + clen;
	return 0;
}

int mdg_der_split_crl(const unsigned char *buf, size_t len, const unsigned char **tbs, size_t *tbs_len,
		      const unsigned char **revoked, size_t *revoked_len, unsigned char **rest, size_t *rest_len)
{
	const unsigned char *cl, *tb, *val, *rv = NULL;
	size_t cl_len, tb_len, tb_tlv, vlen, n, off = 0, rv_tlv = 0;
	unsigned char tag;
	int field;

	*rest = NULL;
	if (mdg_der_next(buf, len, &tag, &cl, &cl_len, &n) != 0 || tag != 0x30 || n != len)
		return 1;
	if (mdg_der_next(cl, cl_len, &tag, &tb, &tb_len, &tb_tlv) != 0 || tag != 0x30)
		return 1;
	/* version (optional), signature, issuer, thisUpdate, nextUpdate (optional) */
	for (field = 0; field < 5 && off < tb_len; field++) {
		if (mdg_der_next(tb + off, tb_len - off, &tag, &val, &vlen, &n) != 0)
			return 1;
		if ((field == 0 && tag != 0x02) || (field == 4 && tag != 0x17 && tag != 0x18))
			continue; /* an optional field absent: same bytes, next field */
		if ((field == 1 || field == 2) && tag != 0x30)
			return 1;
		if (field == 3 && tag != 0x17 && tag != 0x18)
			return 1;
		off += n;
	}
	if (field != 5)
		return 1;
	if (off < tb_len) {
		if (mdg_der_next(tb + off, tb_len - off, &tag, &val, &vlen, &n) != 0)
			return 1;
		if (tag == 0x30) {
			rv = tb + off;
			rv_tlv = n;
			*revoked = val;
			*revoked_len = vlen;
		}
	}
	*tbs = cl;
	*tbs_len = tb_tlv;
	if (rv == NULL) { /* no entries: the CRL as it is */
		*revoked = NULL;
		*revoked_len = 0;
		if ((*rest = malloc(len)) == NULL)
			return -1;
		memcpy(*rest, buf, len);
		*rest_len = len;
		return 0;
	}

	size_t n_tb = tb_len - rv_tlv;
	size_t n_cl = 1 + len_size(n_tb) + n_tb + (cl_len - tb_tlv);
	size_t total = 1 + len_size(n_cl) + n_cl;
	unsigned char *o = malloc(total), *w;
	if ((w = o) == NULL)
		return -1;
	w += put_header(w, 0x30, n_cl);
	w += put_header(w, 0x30, n_tb);
	memcpy(w, tb, (size_t)(rv - tb));
	w += rv - tb;
	memcpy(w, rv + rv_tlv, tb_len - (size_t)(rv - tb) - rv_tlv);
	w += tb_len - (size_t)(rv - tb) - rv_tlv;
	memcpy(w, cl + tb_tlv, cl_len - tb_tlv);
	w += cl_len - tb_tlv;
	*rest = o;
	*rest_len = (size_t)(w - o);
	return 0;
}
