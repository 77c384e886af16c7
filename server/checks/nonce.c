#include "nonce.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64url_encode(const unsigned char *in, size_t len, char *out)
{
	size_t o = 0;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

static int b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Decodes exactly MDG_NONCE_RAW_LEN bytes (75 characters, no padding). */
static int b64url_decode_nonce(const char *s, unsigned char out[MDG_NONCE_RAW_LEN])
{
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (strlen(s) != 75)
		return -1;
	for (const char *p = s; *p; p++) {
		int v = b64url_value(*p);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == MDG_NONCE_RAW_LEN)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* 75 * 6 = 450 bits = 56 bytes + 2 bits that must be zero */
	return (o == MDG_NONCE_RAW_LEN && acc == 0) ? 0 : -1;
}

static int mac(const struct mdg_nonce_key *k, const unsigned char *msg, size_t len, unsigned char out[32])
{
	unsigned int outlen = 0;

	if (HMAC(EVP_sha256(), k->key, sizeof(k->key), msg, len, out, &outlen) == NULL || outlen != 32)
		return -1;
	return 0;
}

/* The key file; a missing one is created (may_create) or reported in
 * *created with nothing written. */
static int key_load(struct mdg_nonce_key *k, const char *path, int may_create, int *created, char *err, size_t errlen)
{
	struct stat st;
	int fd;
	int rc = -1;

	*created = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT && !may_create) {
		*created = 1;
		return 0;
	}
	if (fd < 0 && errno == ENOENT) {
		if (RAND_priv_bytes(k->key, sizeof(k->key)) != 1) {
			snprintf(err, errlen, "%s: no randomness to create the nonce key", path);
			return -1;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			snprintf(err, errlen, "%s: cannot create nonce key: %s", path, strerror(errno));
			goto out;
		}
		if (write(fd, k->key, sizeof(k->key)) != (ssize_t)sizeof(k->key) || fsync(fd) != 0) {
			snprintf(err, errlen, "%s: cannot write nonce key: %s", path, strerror(errno));
			close(fd);
			unlink(path);
			fd = -1;
			goto out;
		}
		*created = 1;
		rc = 0;
		goto out;
	}
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s: nonce key is readable by group or others (mode %03o): chmod 600 it", path,
			 (unsigned)(st.st_mode & 0777));
		goto out;
	}
	if (st.st_size != (off_t)sizeof(k->key) || read(fd, k->key, sizeof(k->key)) != (ssize_t)sizeof(k->key)) {
		snprintf(err, errlen, "%s: nonce key must be exactly %zu bytes", path, sizeof(k->key));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		OPENSSL_cleanse(k->key, sizeof(k->key));
	return rc;
}

int mdg_nonce_key_load(struct mdg_nonce_key *k, const char *path, int *created, char *err, size_t errlen)
{
	return key_load(k, path, 1, created, err, errlen);
}

int mdg_nonce_key_check(const char *path, int *missing, char *err, size_t errlen)
{
	struct mdg_nonce_key k;
	char dir[4096];
	const char *slash;
	int rc;

	rc = key_load(&k, path, 0, missing, err, errlen);
	OPENSSL_cleanse(&k, sizeof(k));
	if (rc == 0 && *missing) {
		slash = strrchr(path, '/');
		if (slash == NULL)
			snprintf(dir, sizeof(dir), ".");
		else if (slash == path)
			snprintf(dir, sizeof(dir), "/");
		else
			snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
		if (access(dir, W_OK | X_OK) != 0) {
			snprintf(err, errlen, "%s: cannot create nonce key: %s", path, strerror(errno));
			return -1;
		}
	}
	return rc;
}

int mdg_nonce_issue(const struct mdg_nonce_key *k, time_t now, long ttl, char out[MDG_NONCE_TEXT_LEN], time_t *expires)
{
	unsigned char raw[MDG_NONCE_RAW_LEN];
	uint64_t exp = (uint64_t)now + (uint64_t)ttl;

	for (int i = 0; i < 8; i++)
		raw[i] = (unsigned char)(exp >> (56 - 8 * i));
	if (RAND_bytes(raw + 8, 16) != 1 || mac(k, raw, 24, raw + 24) != 0)
		return -1;
	b64url_encode(raw, sizeof(raw), out);
	*expires = (time_t)exp;
	return 0;
}

int mdg_nonce_check(const struct mdg_nonce_key *k, const char *text, time_t now)
{
	unsigned char raw[MDG_NONCE_RAW_LEN];
	unsigned char expect[32];
	uint64_t exp = 0;

	if (text == NULL || b64url_decode_nonce(text, raw) != 0)
		return 0;
	if (mac(k, raw, 24, expect) != 0)
		return 0;
	if (CRYPTO_memcmp(expect, raw + 24, 32) != 0)
		return 0;
	for (int i = 0; i < 8; i++)
		exp = exp << 8 | raw[i];
	return (uint64_t)now <= exp;
}
