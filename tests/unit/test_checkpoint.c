/* Unit tests: server/receipt/checkpoint.c (and b64.c). The signed-note
 * example of golang.org/x/mod/sumdb/note (Ed25519 is deterministic, so our
 * signature must be that one byte for byte), checkpoint round trips and
 * tampering, the verifier key format, the key file's checks. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "b64.h"
#include "checkpoint.h"

/* sumdb/note's example: the signer key PRIVATE+KEY+PeterNeumann+c74f20a3+<this> */
#define GO_SKEY_B64 "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define GO_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define GO_TEXT                                                                                                        \
	"If you think cryptography is the answer to your problem,\n"                                                   \
	"then you don't know what your problem is.\n"
#define GO_NOTE                                                                                                        \
	GO_TEXT "\n\xe2\x80\x94 PeterNeumann "                                                                         \
		"x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"

static EVP_PKEY *go_key(void)
{
	unsigned char raw[33];
	size_t n;
	EVP_PKEY *k;

	ck_assert_int_eq(mdg_b64_decode(GO_SKEY_B64, strlen(GO_SKEY_B64), raw, sizeof(raw), &n), 0);
	ck_assert_uint_eq(n, 33);
	ck_assert_uint_eq(raw[0], 0x01);
	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw + 1, 32);
	ck_assert_ptr_nonnull(k);
	return k;
}

static void new_key(struct mdg_logkey *k, const char *name)
{
	EVP_PKEY *p = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	char err[256];

	ck_assert_ptr_nonnull(p);
	ck_assert_msg(mdg_logkey_init(k, p, name, err, sizeof(err)) == 0, "%s", err);
	EVP_PKEY_free(p); /* the struct holds its own reference */
}

START_TEST(b64_strict)
{
	static const struct {
		const char *in, *out;
	} v[] = { { "", "" },
		  { "f", "Zg==" },
		  { "fo", "Zm8=" },
		  { "foo", "Zm9v" },
		  { "foob", "Zm9vYg==" },
		  { "fooba", "Zm9vYmE=" },
		  { "foobar", "Zm9vYmFy" } };
	static const char *const bad[] = { "Zg=",    "Zg",   "Zh==",     "Zm9=", "Z===", "====",
					   "Zm9v\n", "Zm 9", "Zg==Zg==", "Zm-v", "Zm_v" };
	unsigned char out[16];
	char enc[32];
	size_t i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ck_assert_uint_eq(mdg_b64_encode((const unsigned char *)v[i].in, strlen(v[i].in), enc),
				  strlen(v[i].out));
		ck_assert_str_eq(enc, v[i].out);
		ck_assert_int_eq(mdg_b64_decode(v[i].out, strlen(v[i].out), out, sizeof(out), &n), 0);
		ck_assert_uint_eq(n, strlen(v[i].in));
		ck_assert(memcmp(out, v[i].in, n) == 0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(mdg_b64_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n) == -1, "%s", bad[i]);
	ck_assert_int_eq(mdg_b64_decode("Zm9vYmFy", 8, out, 5, &n), -1);
}
END_TEST

START_TEST(go_vector)
{
	struct mdg_logkey k;
	struct mdg_note_verifier v;
	EVP_PKEY *p = go_key();
	char err[256], *note = NULL;
	size_t len, textlen;

	ck_assert_msg(mdg_logkey_init(&k, p, "PeterNeumann", err, sizeof(err)) == 0, "%s", err);
	EVP_PKEY_free(p);
	ck_assert_str_eq(k.vkey, GO_VKEY);
	ck_assert_int_eq(mdg_note_sign(&k, GO_TEXT, strlen(GO_TEXT), &note, &len, err, sizeof(err)), 0);
	ck_assert_str_eq(note, GO_NOTE);
	ck_assert_uint_eq(len, strlen(GO_NOTE));
	free(note);
	ck_assert_msg(mdg_note_verifier_parse(GO_VKEY, &v, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(v.name, "PeterNeumann");
	ck_assert(memcmp(v.keyid, "\xc7\x4f\x20\xa3", 4) == 0);
	ck_assert(memcmp(v.pub, k.pub, 32) == 0);
	ck_assert_msg(mdg_note_open(GO_NOTE, strlen(GO_NOTE), &v, &textlen, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(textlen, strlen(GO_TEXT));
	mdg_logkey_free(&k);
	ck_assert_ptr_null(k.key);
}
END_TEST

START_TEST(vkey_mangled)
{
	struct mdg_note_verifier v;
	const char *vk = GO_VKEY;
	char buf[128], err[256];
	size_t n = strlen(vk), i, j;

	/* every proper substring is refused, as sumdb/note's TestNewVerifier */
	for (i = 0; i <= n; i++)
		for (j = i + 1; j <= n; j++) {
			if (i == 0 && j == n)
				continue;
			memcpy(buf, vk + i, j - i);
			buf[j - i] = '\0';
			ck_assert_msg(mdg_note_verifier_parse(buf, &v, err, sizeof(err)) == -1, "%s", buf);
		}
	/* and every one-byte change */
	for (i = 0; i < n; i++) {
		strcpy(buf, GO_VKEY);
		buf[i]++;
		ck_assert_msg(mdg_note_verifier_parse(buf, &v, err, sizeof(err)) == -1, "%s", buf);
	}
	/* uppercase key ID: refused (the format writes lowercase) */
	ck_assert_int_eq(mdg_note_verifier_parse("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
						 &v, err, sizeof(err)),
			 -1);
}
END_TEST

START_TEST(vkey_format)
{
	struct mdg_logkey k;
	struct mdg_note_verifier v;
	unsigned char raw[33], id[4];
	char err[256], *p, want[16];
	size_t n;

	new_key(&k, "madoguchi.invalid/log");
	/* <name>+<8 lowercase hex>+<base64(0x01 || key)> */
	ck_assert_int_eq(strncmp(k.vkey, "madoguchi.invalid/log+", 22), 0);
	snprintf(want, sizeof(want), "%02x%02x%02x%02x", k.keyid[0], k.keyid[1], k.keyid[2], k.keyid[3]);
	ck_assert_int_eq(strncmp(k.vkey + 22, want, 8), 0);
	ck_assert_int_eq(k.vkey[30], '+');
	p = k.vkey + 31;
	ck_assert_uint_eq(strlen(p), 44);
	ck_assert_int_eq(mdg_b64_decode(p, 44, raw, sizeof(raw), &n), 0);
	ck_assert_uint_eq(n, 33);
	ck_assert_uint_eq(raw[0], 0x01);
	ck_assert(memcmp(raw + 1, k.pub, 32) == 0);
	/* key ID = SHA-256(name || "\n" || 0x01 || key)[:4] computed here */
	{
		unsigned char md[32], msg[22 + 33];
		unsigned int mdlen;

		memcpy(msg, "madoguchi.invalid/log\n", 22);
		msg[22] = 0x01;
		memcpy(msg + 23, k.pub, 32);
		ck_assert(EVP_Digest(msg, 55, md, &mdlen, EVP_sha256(), NULL));
		ck_assert(memcmp(md, k.keyid, 4) == 0);
	}
	mdg_note_keyid(k.name, k.pub, id);
	ck_assert(memcmp(id, k.keyid, 4) == 0);
	ck_assert_int_eq(mdg_note_verifier_parse(k.vkey, &v, err, sizeof(err)), 0);
	mdg_logkey_free(&k);
}
END_TEST

START_TEST(names)
{
	ck_assert(mdg_note_name_ok("madoguchi.invalid/log"));
	ck_assert(mdg_note_name_ok("窓口.example/ログ"));
	ck_assert(!mdg_note_name_ok(""));
	ck_assert(!mdg_note_name_ok("a b"));
	ck_assert(!mdg_note_name_ok("a+b"));
	ck_assert(!mdg_note_name_ok("a\tb"));
	ck_assert(!mdg_note_name_ok("a\xe3\x80\x80"
				    "b")); /* U+3000 ideographic space */
	ck_assert(!mdg_note_name_ok("a\xc2\xa0"
				    "b")); /* U+00A0 */
	ck_assert(!mdg_note_name_ok("a\xc0\xaf"
				    "b")); /* overlong */
	ck_assert(!mdg_note_name_ok("a\xffz"));
}
END_TEST

START_TEST(checkpoint_round_trip)
{
	struct mdg_logkey k;
	struct mdg_note_verifier v;
	struct mdg_checkpoint cp;
	unsigned char root[32];
	char err[256], body[512], *note = NULL, b64[64];
	size_t len, i;
	int n;

	for (i = 0; i < 32; i++)
		root[i] = (unsigned char)(i * 7 + 1);
	new_key(&k, "madoguchi.invalid/log");
	n = mdg_checkpoint_body(k.name, 12345, root, body, sizeof(body));
	mdg_b64_encode(root, 32, b64);
	{
		char want[512];

		snprintf(want, sizeof(want), "madoguchi.invalid/log\n12345\n%s\n", b64);
		ck_assert_str_eq(body, want);
		ck_assert_int_eq(n, (int)strlen(want));
	}
	ck_assert_int_eq(mdg_checkpoint_sign(&k, 12345, root, &note, &len, err, sizeof(err)), 0);
	ck_assert_int_eq(strncmp(note, body, (size_t)n), 0);
	ck_assert_int_eq(strncmp(note + n, "\n\xe2\x80\x94 madoguchi.invalid/log ", 27), 0);
	ck_assert_int_eq(note[len - 1], '\n');
	ck_assert_uint_eq(len - (size_t)n - 27, 92 + 1); /* base64 of 4 + 64 bytes, newline */
	ck_assert_int_eq(mdg_note_verifier_parse(k.vkey, &v, err, sizeof(err)), 0);
	ck_assert_msg(mdg_checkpoint_open(note, len, &v, NULL, &cp, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(cp.origin, "madoguchi.invalid/log");
	ck_assert(cp.size == 12345);
	ck_assert(memcmp(cp.root, root, 32) == 0);
	/* the origin asked for */
	ck_assert_int_eq(mdg_checkpoint_open(note, len, &v, "madoguchi.invalid/log", &cp, err, sizeof(err)), 0);
	ck_assert_int_eq(mdg_checkpoint_open(note, len, &v, "other.invalid/log", &cp, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "origin"));
	free(note);
	/* size 0, the empty tree */
	ck_assert_int_eq(mdg_checkpoint_sign(&k, 0, root, &note, &len, err, sizeof(err)), 0);
	ck_assert_int_eq(mdg_checkpoint_open(note, len, &v, NULL, &cp, err, sizeof(err)), 0);
	ck_assert(cp.size == 0);
	free(note);
	mdg_logkey_free(&k);
}
END_TEST

START_TEST(checkpoint_tampered)
{
	struct mdg_logkey k, other, renamed;
	struct mdg_note_verifier v, vo, vr;
	struct mdg_checkpoint cp;
	unsigned char root[32];
	char err[256], *note = NULL, *n2 = NULL, buf[2048];
	size_t len, len2, i, body;

	memset(root, 0xab, sizeof(root));
	new_key(&k, "madoguchi.invalid/log");
	new_key(&other, "madoguchi.invalid/log");
	new_key(&renamed, "elsewhere.invalid/log");
	ck_assert_int_eq(mdg_note_verifier_parse(k.vkey, &v, err, sizeof(err)), 0);
	ck_assert_int_eq(mdg_note_verifier_parse(other.vkey, &vo, err, sizeof(err)), 0);
	ck_assert_int_eq(mdg_note_verifier_parse(renamed.vkey, &vr, err, sizeof(err)), 0);
	ck_assert_int_eq(mdg_checkpoint_sign(&k, 42, root, &note, &len, err, sizeof(err)), 0);
	body = (size_t)(strstr(note, "\n\n") - note) + 1;

	/* one byte of the body changed: the signature fails */
	for (i = 0; i < body - 1; i++) {
		memcpy(buf, note, len);
		buf[i] ^= 0x01;
		if ((unsigned char)buf[i] < 0x20 || buf[i] == '\n')
			continue;
		ck_assert_msg(mdg_checkpoint_open(buf, len, &v, NULL, &cp, err, sizeof(err)) == -1, "byte %zu", i);
	}
	/* another key of the same name: its key ID differs, the note is not signed by it */
	ck_assert_int_eq(mdg_checkpoint_open(note, len, &vo, NULL, &cp, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not signed by"));
	/* the right key under another name */
	ck_assert_int_eq(mdg_checkpoint_open(note, len, &vr, NULL, &cp, err, sizeof(err)), -1);
	{
		struct mdg_note_verifier vn = v;

		snprintf(vn.name, sizeof(vn.name), "elsewhere.invalid/log");
		ck_assert_int_eq(mdg_checkpoint_open(note, len, &vn, NULL, &cp, err, sizeof(err)), -1);
	}
	/* a signature by the same name and key ID that does not verify rejects the note */
	memcpy(buf, note, len);
	buf[len - 10] = buf[len - 10] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(mdg_checkpoint_open(buf, len, &v, NULL, &cp, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "does not verify"));

	/* a second signature (a witness's, unknown here) is ignored, before or after */
	ck_assert_int_eq(mdg_checkpoint_sign(&other, 42, root, &n2, &len2, err, sizeof(err)), 0);
	snprintf(buf, sizeof(buf), "%s%s", note, n2 + body + 1);
	ck_assert_msg(mdg_checkpoint_open(buf, strlen(buf), &v, NULL, &cp, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(mdg_checkpoint_open(buf, strlen(buf), &vo, NULL, &cp, err, sizeof(err)) == 0, "%s", err);
	snprintf(buf, sizeof(buf), "%s%s", n2, note + body + 1);
	ck_assert_int_eq(mdg_checkpoint_open(buf, strlen(buf), &v, NULL, &cp, err, sizeof(err)), 0);
	free(n2);

	/* malformed notes */
	ck_assert_int_eq(mdg_note_open(note, body + 1, &v, &len2, err, sizeof(err)), -1); /* no signature */
	ck_assert_int_eq(mdg_note_open(note, len - 1, &v, &len2, err, sizeof(err)), -1);  /* no final newline */
	memcpy(buf, note, len);
	memcpy(buf + body + 1, "--- ", 4);
	buf[len] = '\0';
	ck_assert_int_eq(mdg_note_open(buf, len, &v, &len2, err, sizeof(err)), -1); /* no em dash */
	memcpy(buf, note, len);
	buf[3] = '\r';
	ck_assert_int_eq(mdg_note_open(buf, len, &v, &len2, err, sizeof(err)), -1); /* control char */
	memcpy(buf, note, len);
	buf[body - 1] = ' '; /* the body's last newline: no blank line */
	ck_assert_int_eq(mdg_note_open(buf, len, &v, &len2, err, sizeof(err)), -1);

	free(note);
	mdg_logkey_free(&k);
	mdg_logkey_free(&other);
	mdg_logkey_free(&renamed);
}
END_TEST

START_TEST(checkpoint_parse)
{
	struct mdg_checkpoint cp;
	char err[256];
	static const char *const bad[] = {
		"log\n012\nq83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n",
		"log\n\nq83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n",
		"log\n12a\nq83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n",
		"log\n18446744073709551616\nq83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n",
		"log\n12\nq83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeA==\n",
		"log\n12\n",
		"lo g\n12\nq83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n",
		"log\n12\nq83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=",
	};
	const char *good = "log\n18446744073709551615\nq83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\next one\n";
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(mdg_checkpoint_parse(bad[i], strlen(bad[i]), &cp, err, sizeof(err)) == -1, "%s", bad[i]);
	/* extension lines are allowed */
	ck_assert_int_eq(mdg_checkpoint_parse(good, strlen(good), &cp, err, sizeof(err)), 0);
	ck_assert(cp.size == UINT64_MAX);
	ck_assert_str_eq(cp.origin, "log");
	ck_assert_uint_eq(cp.root[0], 0xab);
}
END_TEST

START_TEST(key_file)
{
	const char *tmp = getenv("MDG_TEST_TMP");
	char dir[4096], path[4200], err[512];
	struct mdg_logkey k;
	EVP_PKEY *p;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/checkpoint-XXXXXX", tmp != NULL ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log.key.pem", dir);
	ck_assert_ptr_nonnull(p = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert(PEM_write_PrivateKey(f, p, NULL, NULL, 0, NULL, NULL));
	fclose(f);
	EVP_PKEY_free(p);
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(mdg_logkey_load(&k, path, "madoguchi.invalid/log", err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "chmod 600") != NULL && strstr(err, path) != NULL, "%s", err);
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_msg(mdg_logkey_load(&k, path, "madoguchi.invalid/log", err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_nonnull(k.key);
	mdg_logkey_free(&k);
	ck_assert_int_eq(mdg_logkey_load(&k, path, "bad name", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot name a key"));
	/* an RSA key is not a log key */
	ck_assert_ptr_nonnull(p = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert(PEM_write_PrivateKey(f, p, NULL, NULL, 0, NULL, NULL));
	fclose(f);
	EVP_PKEY_free(p);
	ck_assert_int_eq(mdg_logkey_load(&k, path, "madoguchi.invalid/log", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not an Ed25519"));
	ck_assert_int_eq(mdg_logkey_load(&k, "/nonexistent/log.key.pem", "x", err, sizeof(err)), -1);
	unlink(path);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("checkpoint");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, b64_strict);
	tcase_add_test(tc, go_vector);
	tcase_add_test(tc, vkey_mangled);
	tcase_add_test(tc, vkey_format);
	tcase_add_test(tc, names);
	tcase_add_test(tc, checkpoint_round_trip);
	tcase_add_test(tc, checkpoint_tampered);
	tcase_add_test(tc, checkpoint_parse);
	tcase_add_test(tc, key_file);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
