#include "names.h"

#include <limits.h>
#include <stdio.h>

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
