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
	/* universal types other than SEQUENCE and SET are primitive in DER */
	if ((buf[0] & 0xc0) == 0 && *constructed && buf[0] != 0x30 && buf[0] != 0x31)
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

int mdg_der_signeddata_version(const unsigned char *buf, size_t len, int *version)
{
	/* ContentInfo SEQUENCE, contentType OID, [0] EXPLICIT, SignedData SEQUENCE, version */
	static const unsigned char want_tag[] = { 0x30, 0x06, 0xa0, 0x30, 0x02 };
	size_t hdr, clen;
	int cons;

	for (size_t step = 0; step < sizeof(want_tag); step++) {
		if (tlv(buf, len, &hdr, &clen, &cons) != 0 || buf[0] != want_tag[step])
			return -1;
		if (step == 1) {	/* skip the OID to the next sibling */
			buf += hdr + clen;
			len -= hdr + clen;
		} else if (step < 4) {	/* descend */
			buf += hdr;
			len = clen;
		}
	}
	if (clen != 1 || buf[hdr] > 0x7f)
		return -1;
	*version = buf[hdr];
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
