/* C2SP signed notes and tlog-checkpoints with Ed25519 (see checkpoint.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "b64.h"
#include "checkpoint.h"
#include "files.h"

#define ALG_ED25519 0x01
#define KEYFILE_MAX (64 * 1024)

/* U+2014 EM DASH and a space: the start of every signature line */
static const char sig_prefix[] = "\xe2\x80\x94 ";
#define SIG_PREFIX_LEN 4

/* One code point of strict UTF-8 (no overlong forms, no surrogates, at most
 * U+10FFFF) at s[*i], *i advanced past it. 0, or -1 if malformed. */
static int utf8_next(const unsigned char *s, size_t n, size_t *i, uint32_t *cp)
{
	unsigned char c = s[*i];
	uint32_t v, min;
	size_t k, more;

	if (c < 0x80) {
		*cp = c;
		(*i)++;
		return 0;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		more = 1;
		v = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		more = 2;
		v = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		more = 3;
		v = c & 0x07;
		min = 0x10000;
	} else {
		return -1;
	}
	if (n - *i <= more)
		return -1;
	for (k = 1; k <= more; k++) {
		if ((s[*i + k] & 0xc0) != 0x80)
			return -1;
		v = v << 6 | (s[*i + k] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return -1;
	*cp = v;
	*i += more + 1;
	return 0;
}

/* Unicode White_Space (what Go's unicode.IsSpace says) */
static int is_unicode_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

static int name_ok(const char *name, size_t n)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t i = 0;
	uint32_t c;

	if (n == 0 || n > MDG_NOTE_NAME_MAX)
		return 0;
	while (i < n) {
		if (utf8_next(s, n, &i, &c) != 0 || c < 0x20 || c == 0x7f || c == '+' || is_unicode_space(c))
			return 0;
	}
	return 1;
}

int mdg_note_name_ok(const char *name)
{
	return name != NULL && name_ok(name, strlen(name));
}

/* Valid UTF-8 without control characters other than newline. */
static int text_ok(const char *text, size_t n)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0;
	uint32_t c;

	while (i < n) {
		if (utf8_next(s, n, &i, &c) != 0 || (c < 0x20 && c != '\n'))
			return 0;
	}
	return 1;
}

void mdg_note_keyid(const char *name, const unsigned char pub[32], unsigned char id[4])
{
	static const unsigned char sep[2] = { '\n', ALG_ED25519 };
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	memset(md, 0, sizeof(md));
	if (ctx == NULL || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) || !EVP_DigestUpdate(ctx, name, strlen(name)) ||
	    !EVP_DigestUpdate(ctx, sep, sizeof(sep)) || !EVP_DigestUpdate(ctx, pub, 32) ||
	    !EVP_DigestFinal_ex(ctx, md, &mdlen))
		memset(md, 0, sizeof(md));
	EVP_MD_CTX_free(ctx);
	memcpy(id, md, 4);
}

int mdg_note_vkey(const char *name, const unsigned char pub[32], char out[MDG_NOTE_VKEY_LEN])
{
	unsigned char id[4], key[33];
	char b64[MDG_B64_LEN(33) + 1];

	out[0] = '\0';
	if (!mdg_note_name_ok(name))
		return -1;
	mdg_note_keyid(name, pub, id);
	key[0] = ALG_ED25519;
	memcpy(key + 1, pub, 32);
	mdg_b64_encode(key, sizeof(key), b64);
	snprintf(out, MDG_NOTE_VKEY_LEN, "%s+%02x%02x%02x%02x+%s", name, id[0], id[1], id[2], id[3], b64);
	return 0;
}

int mdg_logkey_init(struct mdg_logkey *k, EVP_PKEY *pkey, const char *name, char *err, size_t errlen)
{
	size_t publen = sizeof(k->pub);

	memset(k, 0, sizeof(*k));
	if (!mdg_note_name_ok(name)) {
		snprintf(err, errlen,
			 "log name \"%s\" cannot name a key: it must be 1 to %d bytes of UTF-8 "
			 "without spaces, control characters or '+'",
			 name != NULL ? name : "", MDG_NOTE_NAME_MAX);
		return -1;
	}
	if (pkey == NULL || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		snprintf(err, errlen, "the log key is not an Ed25519 key");
		return -1;
	}
	if (EVP_PKEY_get_raw_public_key(pkey, k->pub, &publen) != 1 || publen != 32 || !EVP_PKEY_up_ref(pkey)) {
		snprintf(err, errlen, "the log key's public key cannot be read");
		memset(k, 0, sizeof(*k));
		return -1;
	}
	k->key = pkey;
	snprintf(k->name, sizeof(k->name), "%s", name);
	mdg_note_keyid(name, k->pub, k->keyid);
	mdg_note_vkey(name, k->pub, k->vkey);
	return 0;
}

/* an encrypted key file is refused, never asked about on a terminal */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int mdg_logkey_load(struct mdg_logkey *k, const char *path, const char *name, char *err, size_t errlen)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	BIO *b = NULL;
	EVP_PKEY *pkey = NULL;
	char why[256];
	int rc = -1;

	memset(k, 0, sizeof(*k));
	if (mdg_read_file(path, KEYFILE_MAX, 1, &buf, &len, err, errlen) != 0)
		return -1;
	if ((b = BIO_new_mem_buf(buf, (int)len)) == NULL ||
	    (pkey = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL)) == NULL) {
		snprintf(err, errlen, "%s: not a PEM private key (an unencrypted Ed25519 key is needed)", path);
		goto out;
	}
	if (mdg_logkey_init(k, pkey, name, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	BIO_free(b);
	OPENSSL_clear_free(buf, len);
	return rc;
}

void mdg_logkey_free(struct mdg_logkey *k)
{
	EVP_PKEY_free(k->key);
	memset(k, 0, sizeof(*k));
}

int mdg_note_sign(const struct mdg_logkey *k, const char *text, size_t len, char **note, size_t *notelen, char *err,
		  size_t errlen)
{
	unsigned char sig[4 + 64];
	size_t siglen = 64, namelen = strlen(k->name), n, o;
	char b64[MDG_B64_LEN(sizeof(sig)) + 1];
	EVP_MD_CTX *ctx = NULL;
	char *out = NULL;
	int rc = -1;

	*note = NULL;
	*notelen = 0;
	if (len == 0 || len > MDG_NOTE_MAX / 2 || text[len - 1] != '\n' || !text_ok(text, len)) {
		snprintf(err, errlen,
			 "a note's text must be non-empty UTF-8 ending in a newline, without "
			 "control characters");
		return -1;
	}
	memcpy(sig, k->keyid, 4);
	if ((ctx = EVP_MD_CTX_new()) == NULL || EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->key) != 1 ||
	    EVP_DigestSign(ctx, sig + 4, &siglen, (const unsigned char *)text, len) != 1 || siglen != 64) {
		snprintf(err, errlen, "Ed25519 signing failed");
		goto out;
	}
	mdg_b64_encode(sig, sizeof(sig), b64);
	n = len + 1 + SIG_PREFIX_LEN + namelen + 1 + strlen(b64) + 1;
	if ((out = malloc(n + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	memcpy(out, text, len);
	o = len;
	out[o++] = '\n';
	memcpy(out + o, sig_prefix, SIG_PREFIX_LEN);
	o += SIG_PREFIX_LEN;
	memcpy(out + o, k->name, namelen);
	o += namelen;
	out[o++] = ' ';
	memcpy(out + o, b64, strlen(b64));
	o += strlen(b64);
	out[o++] = '\n';
	out[o] = '\0';
	*note = out;
	*notelen = o;
	rc = 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	return rc;
}

int mdg_checkpoint_body(const char *origin, uint64_t size, const unsigned char root[32], char *out, size_t outlen)
{
	char b64[MDG_B64_LEN(32) + 1];
	int n;

	if (!mdg_note_name_ok(origin))
		return -1;
	mdg_b64_encode(root, 32, b64);
	n = snprintf(out, outlen, "%s\n%" PRIu64 "\n%s\n", origin, size, b64);
	return n < 0 || (size_t)n >= outlen ? -1 : n;
}

int mdg_checkpoint_sign(const struct mdg_logkey *k, uint64_t size, const unsigned char root[32], char **note,
			size_t *notelen, char *err, size_t errlen)
{
	char body[MDG_NOTE_NAME_MAX + 128];
	int n = mdg_checkpoint_body(k->name, size, root, body, sizeof(body));

	if (n < 0) {
		*note = NULL;
		*notelen = 0;
		snprintf(err, errlen, "log name \"%s\" cannot be a checkpoint's origin", k->name);
		return -1;
	}
	return mdg_note_sign(k, body, (size_t)n, note, notelen, err, errlen);
}

int mdg_note_verifier_parse(const char *vkey, struct mdg_note_verifier *v, char *err, size_t errlen)
{
	const char *p1, *p2;
	unsigned char key[33], id[4];
	size_t keylen = 0, namelen;
	unsigned int hid[4];
	int i;

	memset(v, 0, sizeof(*v));
	/* the name has no '+'; the base64 may */
	if ((p1 = strchr(vkey, '+')) == NULL || (p2 = strchr(p1 + 1, '+')) == NULL || p2 - p1 != 9) {
		snprintf(err, errlen, "a verifier key is <name>+<8 hex digits>+<base64 key>");
		return -1;
	}
	namelen = (size_t)(p1 - vkey);
	if (!name_ok(vkey, namelen)) {
		snprintf(err, errlen, "the verifier key's name is not a key name");
		return -1;
	}
	for (i = 0; i < 8; i++)
		if (!((p1[1 + i] >= '0' && p1[1 + i] <= '9') || (p1[1 + i] >= 'a' && p1[1 + i] <= 'f'))) {
			snprintf(err, errlen, "the verifier key's key ID is not 8 lowercase hex digits");
			return -1;
		}
	if (sscanf(p1 + 1, "%2x%2x%2x%2x", &hid[0], &hid[1], &hid[2], &hid[3]) != 4) {
		snprintf(err, errlen, "the verifier key's key ID does not read");
		return -1;
	}
	if (mdg_b64_decode(p2 + 1, strlen(p2 + 1), key, sizeof(key), &keylen) != 0 || keylen != 33 ||
	    key[0] != ALG_ED25519) {
		snprintf(err, errlen, "the verifier key is not base64 of 0x01 and a 32-byte Ed25519 key");
		return -1;
	}
	memcpy(v->name, vkey, namelen);
	v->name[namelen] = '\0';
	memcpy(v->pub, key + 1, 32);
	mdg_note_keyid(v->name, v->pub, id);
	for (i = 0; i < 4; i++)
		if (id[i] != hid[i]) {
			snprintf(err, errlen, "the verifier key's key ID does not match its key");
			memset(v, 0, sizeof(*v));
			return -1;
		}
	memcpy(v->keyid, id, 4);
	return 0;
}

static int ed25519_verify(const unsigned char pub[32], const char *msg, size_t len, const unsigned char sig[64])
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = pk != NULL && ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
		 EVP_DigestVerify(ctx, sig, 64, (const unsigned char *)msg, len) == 1;

	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return ok;
}

int mdg_note_open(const char *note, size_t len, const struct mdg_note_verifier *v, size_t *textlen, char *err,
		  size_t errlen)
{
	unsigned char sig[4 + 64 + 16];
	size_t split, line, end, siglen, nsigs = 0;
	const char *name, *sp;
	int found = 0;

	*textlen = 0;
	if (len == 0 || len > MDG_NOTE_MAX || !text_ok(note, len) || note[len - 1] != '\n') {
		snprintf(err, errlen, "malformed note: not UTF-8 text of lines, or too long");
		return -1;
	}
	/* the text ends at the last blank line */
	for (split = len - 1; split > 0; split--)
		if (note[split - 1] == '\n' && note[split] == '\n')
			break;
	if (split == 0) {
		snprintf(err, errlen, "malformed note: no blank line before the signatures");
		return -1;
	}
	/* note[0..split) is the text, its final newline included */
	for (line = split + 1; line < len; line = end + 1) {
		end = (size_t)((const char *)memchr(note + line, '\n', len - line) - note);
		if (++nsigs > MDG_NOTE_MAX_SIGS) {
			snprintf(err, errlen, "malformed note: more than %d signatures", MDG_NOTE_MAX_SIGS);
			return -1;
		}
		if (end - line < SIG_PREFIX_LEN || memcmp(note + line, sig_prefix, SIG_PREFIX_LEN) != 0) {
			snprintf(err, errlen,
				 "malformed note: signature line %zu does not start with an em "
				 "dash and a space",
				 nsigs);
			return -1;
		}
		name = note + line + SIG_PREFIX_LEN;
		sp = memchr(name, ' ', (size_t)(note + end - name));
		if (sp == NULL || !name_ok(name, (size_t)(sp - name)) ||
		    memchr(sp + 1, ' ', (size_t)(note + end - sp - 1)) != NULL ||
		    mdg_b64_decode(sp + 1, (size_t)(note + end - sp - 1), sig, sizeof(sig), &siglen) != 0 ||
		    siglen < 5) {
			snprintf(err, errlen, "malformed note: signature line %zu is not \"— NAME BASE64\"", nsigs);
			return -1;
		}
		if (found || (size_t)(sp - name) != strlen(v->name) ||
		    memcmp(name, v->name, (size_t)(sp - name)) != 0 || memcmp(sig, v->keyid, 4) != 0)
			continue; /* another key's: ignored */
		if (siglen != 4 + 64 || !ed25519_verify(v->pub, note, split, sig + 4)) {
			snprintf(err, errlen, "the signature of key %s does not verify", v->name);
			return -1;
		}
		found = 1;
	}
	if (nsigs == 0) {
		snprintf(err, errlen, "malformed note: no signature line");
		return -1;
	}
	if (!found) {
		snprintf(err, errlen, "the note is not signed by key %s", v->name);
		return -1;
	}
	*textlen = split;
	return 0;
}

int mdg_checkpoint_parse(const char *text, size_t len, struct mdg_checkpoint *cp, char *err, size_t errlen)
{
	const char *l1, *l2, *l3, *p;
	uint64_t size = 0;
	size_t rootlen = 0;

	memset(cp, 0, sizeof(*cp));
	if (len == 0 || text[len - 1] != '\n' || (l1 = memchr(text, '\n', len)) == NULL ||
	    (l2 = memchr(l1 + 1, '\n', len - (size_t)(l1 + 1 - text))) == NULL ||
	    (l3 = memchr(l2 + 1, '\n', len - (size_t)(l2 + 1 - text))) == NULL) {
		snprintf(err, errlen, "malformed checkpoint: fewer than three lines");
		return -1;
	}
	if (!name_ok(text, (size_t)(l1 - text))) {
		snprintf(err, errlen, "malformed checkpoint: bad origin line");
		return -1;
	}
	p = l1 + 1;
	if (p == l2 || (*p == '0' && l2 - p > 1)) {
		snprintf(err, errlen,
			 "malformed checkpoint: tree size is not a decimal number without "
			 "leading zeros");
		return -1;
	}
	for (; p < l2; p++) {
		if (*p < '0' || *p > '9' || size > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) {
			snprintf(err, errlen,
				 "malformed checkpoint: tree size is not a decimal number "
				 "below 2^64");
			return -1;
		}
		size = size * 10 + (uint64_t)(*p - '0');
	}
	if (mdg_b64_decode(l2 + 1, (size_t)(l3 - l2 - 1), cp->root, sizeof(cp->root), &rootlen) != 0 || rootlen != 32) {
		memset(cp, 0, sizeof(*cp));
		snprintf(err, errlen, "malformed checkpoint: root hash is not base64 of 32 bytes");
		return -1;
	}
	memcpy(cp->origin, text, (size_t)(l1 - text));
	cp->origin[l1 - text] = '\0';
	cp->size = size;
	return 0;
}

int mdg_checkpoint_open(const char *note, size_t len, const struct mdg_note_verifier *v, const char *origin,
			struct mdg_checkpoint *cp, char *err, size_t errlen)
{
	size_t textlen;

	memset(cp, 0, sizeof(*cp));
	if (mdg_note_open(note, len, v, &textlen, err, errlen) != 0 ||
	    mdg_checkpoint_parse(note, textlen, cp, err, errlen) != 0)
		return -1;
	if (strcmp(cp->origin, origin != NULL ? origin : v->name) != 0) {
		snprintf(err, errlen, "the checkpoint's origin is \"%s\", not \"%s\"", cp->origin,
			 origin != NULL ? origin : v->name);
		memset(cp, 0, sizeof(*cp));
		return -1;
	}
	return 0;
}
