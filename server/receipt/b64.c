/* Strict RFC 4648 base64 (see b64.h). OpenSSL's EVP_DecodeBlock skips
 * white space and counts padding as data, so decoding is done here. */
#include "b64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t mdg_b64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t i, o = 0;
	unsigned long v;

	for (i = 0; i + 3 <= n; i += 3) {
		v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (n - i == 1) {
		v = (unsigned long)in[i] << 16;
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8;
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int mdg_b64_decode(const char *in, size_t n, unsigned char *out, size_t max, size_t *outlen)
{
	size_t i, o = 0, pad = 0;
	int d[4], j;
	unsigned long v;

	*outlen = 0;
	if (n % 4 != 0)
		return -1;
	if (n > 0 && in[n - 1] == '=')
		pad = (n > 1 && in[n - 2] == '=') ? 2 : 1;
	if (n / 4 * 3 - pad > max)
		return -1;
	for (i = 0; i < n; i += 4) {
		int last = i + 4 == n;

		for (j = 0; j < 4; j++) {
			if (last && j >= 4 - (int)pad)
				d[j] = 0;
			else if ((d[j] = value(in[i + (size_t)j])) < 0)
				return -1;
		}
		v = (unsigned long)d[0] << 18 | (unsigned long)d[1] << 12 | (unsigned long)d[2] << 6 |
		    (unsigned long)d[3];
		if (last && pad == 2 && (v & 0xffff) != 0)
			return -1;
		if (last && pad == 1 && (v & 0xff) != 0)
			return -1;
		out[o++] = (unsigned char)(v >> 16);
		if (!(last && pad == 2))
			out[o++] = (unsigned char)(v >> 8);
		if (!(last && pad >= 1))
			out[o++] = (unsigned char)v;
	}
	*outlen = o;
	return 0;
}
