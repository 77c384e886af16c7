#include "names.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>

void mdg_name_rfc4514(const X509_NAME *name, char *out, size_t outlen)
{
	BIO *b = NULL;
	char *s;
	long n;

	snprintf(out, outlen, "(unprintable name)");
	if (name == NULL || (b = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (n = BIO_get_mem_data(b, &s)) >= 0)
		snprintf(out, outlen, "%.*s", n > INT_MAX ? INT_MAX : (int)n, s);
	BIO_free(b);
}

void mdg_der_name_rfc4514(const unsigned char *der, size_t len, char *out, size_t outlen)
{
	const unsigned char *p = der;
	X509_NAME *name = der != NULL && len <= LONG_MAX ? d2i_X509_NAME(NULL, &p, (long)len) : NULL;

	mdg_name_rfc4514(name, out, outlen);
	X509_NAME_free(name);
}

void mdg_number_decimal(const unsigned char *n, size_t len, char *out, size_t outlen)
{
	BIGNUM *bn = len <= INT_MAX ? BN_bin2bn(n, (int)len, NULL) : NULL;
	char *s = bn != NULL ? BN_bn2dec(bn) : NULL;

	snprintf(out, outlen, "%s", s != NULL ? s : "?");
	OPENSSL_free(s);
	BN_free(bn);
}

/* One value in canonical form (OpenSSL's asn1_string_canon): string types
 * as UTF8String, ASCII lowercased, white space trimmed and collapsed. */
#define CANON_MASK                                                                                                     \
	(B_ASN1_UTF8STRING | B_ASN1_BMPSTRING | B_ASN1_UNIVERSALSTRING | B_ASN1_PRINTABLESTRING | B_ASN1_T61STRING |   \
	 B_ASN1_IA5STRING | B_ASN1_VISIBLESTRING)

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static ASN1_STRING *value_canon(const ASN1_STRING *in)
{
	ASN1_STRING *out = NULL;
	unsigned char *u = NULL;
	int n, i, k;

	if (!(ASN1_tag2bit(ASN1_STRING_type(in)) & CANON_MASK))
		return ASN1_STRING_dup(in);
	if ((n = ASN1_STRING_to_UTF8(&u, in)) < 0)
		return NULL;
	i = 0;
	while (i < n && is_space(u[i]))
		i++;
	while (n > i && is_space(u[n - 1]))
		n--;
	for (k = 0; i < n;) {
		if (u[i] >= 0x80) {
			u[k++] = u[i++];
		} else if (is_space(u[i])) {
			u[k++] = ' ';
			while (is_space(u[i]))
				i++; /* the last byte is no space */
		} else {
			u[k++] = (unsigned char)(u[i] >= 'A' && u[i] <= 'Z' ? u[i] + ('a' - 'A') : u[i]);
			i++;
		}
	}
	if ((out = ASN1_STRING_type_new(V_ASN1_UTF8STRING)) != NULL && ASN1_STRING_set(out, u, k) != 1) {
		ASN1_STRING_free(out);
		out = NULL;
	}
	OPENSSL_free(u);
	return out;
}

int mdg_name_canon_der(const X509_NAME *name, unsigned char **der, size_t *len)
{
	X509_NAME *c = NULL;
	ASN1_STRING *v = NULL;
	int i, n, prev_set = -1, rc = -1;

	*der = NULL;
	*len = 0;
	if (name == NULL || (c = X509_NAME_new()) == NULL)
		goto out;
	for (i = 0; i < X509_NAME_entry_count(name); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		int set = X509_NAME_ENTRY_set(e);

		if ((v = value_canon(X509_NAME_ENTRY_get_data(e))) == NULL ||
		    X509_NAME_add_entry_by_OBJ(c, X509_NAME_ENTRY_get_object(e), ASN1_STRING_type(v),
					       ASN1_STRING_get0_data(v), ASN1_STRING_length(v), -1,
					       i > 0 && set == prev_set ? -1 : 0) != 1)
			goto out;
		ASN1_STRING_free(v);
		v = NULL;
		prev_set = set;
	}
	if ((n = i2d_X509_NAME(c, der)) <= 0) {
		*der = NULL;
		goto out;
	}
	*len = (size_t)n;
	rc = 0;
out:
	ASN1_STRING_free(v);
	X509_NAME_free(c);
	return rc;
}

int mdg_der_name_canon(const unsigned char *in, size_t inlen, unsigned char **der, size_t *len)
{
	const unsigned char *p = in;
	X509_NAME *name = in != NULL && inlen <= LONG_MAX ? d2i_X509_NAME(NULL, &p, (long)inlen) : NULL;
	int rc = -1;

	*der = NULL;
	*len = 0;
	if (name != NULL && p == in + inlen)
		rc = mdg_name_canon_der(name, der, len);
	X509_NAME_free(name);
	return rc;
}

static void name_print(const unsigned char *der, size_t len, unsigned long flags, char *out, size_t outlen)
{
	const unsigned char *p = der;
	X509_NAME *name = NULL;
	BIO *b = NULL;
	char *s;
	long n;

	snprintf(out, outlen, "(unprintable name)");
	if (der == NULL || len > LONG_MAX || (name = d2i_X509_NAME(NULL, &p, (long)len)) == NULL ||
	    (b = BIO_new(BIO_s_mem())) == NULL)
		goto out;
	if (X509_NAME_print_ex(b, name, 0, flags) >= 0 && (n = BIO_get_mem_data(b, &s)) >= 0)
		snprintf(out, outlen, "%.*s", n > INT_MAX ? INT_MAX : (int)n, s);
out:
	BIO_free(b);
	X509_NAME_free(name);
}

/* Lowercase ASCII, no spaces around the separators, none at the ends. */
static void name_norm(const char *in, char *out, size_t outlen)
{
	size_t k = 0;
	const char *p;

	while (*in == ' ')
		in++;
	for (p = in; *p != '\0' && k + 1 < outlen; p++) {
		if (*p == ' ') {
			const char *q = p;

			while (*q == ' ')
				q++;
			if (*q == '\0' || *q == ',' || *q == '+' || *q == '=' ||
			    (k > 0 && (out[k - 1] == ',' || out[k - 1] == '+' || out[k - 1] == '=')))
				continue;
		}
		out[k++] = (char)tolower((unsigned char)*p);
	}
	out[k] = '\0';
}

int mdg_name_text_match(const unsigned char *der, size_t len, const char *text)
{
	char a[1024], na[1024], nt[1024];

	name_norm(text, nt, sizeof(nt));
	mdg_der_name_rfc4514(der, len, a, sizeof(a));
	name_norm(a, na, sizeof(na));
	if (strcmp(na, nt) == 0)
		return 1;
	/* the same RDNs written in certificate order (C=JP,O=...) */
	name_print(der, len, (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) & ~XN_FLAG_DN_REV, a, sizeof(a));
	name_norm(a, na, sizeof(na));
	return strcmp(na, nt) == 0;
}
