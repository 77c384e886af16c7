#include "sign.h"

#include <openssl/cms.h>

int mdg_sign_form(X509 *cert, EVP_PKEY *key, const char *form, size_t form_len, unsigned char **der, size_t *der_len)
{
	const unsigned flags = CMS_BINARY | CMS_NOSMIMECAP;
	CMS_ContentInfo *cms = NULL;
	BIO *in = NULL;
	int n, rc = -1;

	*der = NULL;
	*der_len = 0;
	if ((in = BIO_new_mem_buf(form, (int)form_len)) == NULL)
		goto out;
	if ((cms = CMS_sign(NULL, NULL, NULL, NULL, flags | CMS_PARTIAL)) == NULL)
		goto out;
	/* adds the one certificate; content-type, message-digest and
	 * signingTime become the signed attributes */
	if (CMS_add1_signer(cms, cert, key, EVP_sha256(), flags) == NULL)
		goto out;
	if (!CMS_final(cms, in, NULL, flags))
		goto out;
	if ((n = i2d_CMS_ContentInfo(cms, der)) <= 0) {
		*der = NULL;
		goto out;
	}
	*der_len = (size_t)n;
	rc = 0;
out:
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return rc;
}
