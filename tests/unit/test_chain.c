/* Unit tests: server/store/chain.c
 *
 * Known-answer vectors, computed independently with Python:
 *   import hashlib, struct
 *   f = lambda b: struct.pack('>I', len(b)) + b
 *   def h(prev, seq, rid, iss, ser, at, reason, reqsha):
 *       return hashlib.sha256(b"madoguchi-acceptance-v1" + prev
 *           + struct.pack('>Q', seq) + f(rid) + f(iss) + f(ser) + f(at)
 *           + f(reason) + f(reqsha)).digest()
 *   req = hashlib.sha256(b"request").digest()
 *   h1 = h(bytes(32), 1, b"0123456789abcdef0123456789abcdef", b"\x30\x00",
 *          b"\x01\x02\x03", b"2026-11-27T10:00:00+09:00", b"keyCompromise", req)
 *   h2 = h(h1, 2, b"ffffffffffffffffffffffffffffffff", b"\x30\x00", b"",
 *          b"2026-11-27T10:00:01+09:00", b"unspecified", req)
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "chain.h"

static void hex(const unsigned char *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

START_TEST(known_answer)
{
	unsigned char zero[MDG_HASH_LEN] = { 0 }, h1[MDG_HASH_LEN], h2[MDG_HASH_LEN], req[32];
	static const unsigned char issuer[] = { 0x30, 0x00 }, serial[] = { 1, 2, 3 };
	struct mdg_chain_row r;
	char txt[2 * MDG_HASH_LEN + 1];

	ck_assert_int_eq(EVP_Digest("request", 7, req, NULL, EVP_sha256(), NULL), 1);
	hex(req, 32, txt);
	ck_assert_str_eq(txt, "1f58b9145b24d108d7ac38887338b3ea3229833b9c1e418250343f907bfd1047");

	memset(&r, 0, sizeof(r));
	r.seq = 1;
	r.receipt_id = "0123456789abcdef0123456789abcdef";
	r.issuer_der = issuer;
	r.issuer_len = sizeof(issuer);
	r.serial = serial;
	r.serial_len = sizeof(serial);
	r.accepted_at = "2026-11-27T10:00:00+09:00";
	r.reason = "keyCompromise";
	r.request_sha256 = req;
	ck_assert_int_eq(mdg_chain_hash(zero, &r, h1), 0);
	hex(h1, MDG_HASH_LEN, txt);
	ck_assert_str_eq(txt, "b3f1c318e49c774a9ff80645a87b6077f4546ce1c8275b475adc5d1a1e67ef83");

	r.seq = 2;
	r.receipt_id = "ffffffffffffffffffffffffffffffff";
	r.serial = NULL;
	r.serial_len = 0;
	r.accepted_at = "2026-11-27T10:00:01+09:00";
	r.reason = "unspecified";
	ck_assert_int_eq(mdg_chain_hash(h1, &r, h2), 0);
	hex(h2, MDG_HASH_LEN, txt);
	ck_assert_str_eq(txt, "8c402054ad82a98b88a956188099ca6433683ff2f2fc6ce46b906436d4dcfc50");
}
END_TEST

START_TEST(every_field_counts)
{
	unsigned char zero[MDG_HASH_LEN] = { 0 }, prev[MDG_HASH_LEN] = { 1 }, base[MDG_HASH_LEN], h[MDG_HASH_LEN],
		      req[32] = { 0 }, req2[32] = { 9 };
	static const unsigned char issuer[] = { 0x30, 0x00 }, serial[] = { 1, 2, 3 };
	struct mdg_chain_row r, m;

	memset(&r, 0, sizeof(r));
	r.seq = 7;
	r.receipt_id = "abc";
	r.issuer_der = issuer;
	r.issuer_len = 2;
	r.serial = serial;
	r.serial_len = 3;
	r.accepted_at = "t";
	r.reason = "unspecified";
	r.request_sha256 = req;
	ck_assert_int_eq(mdg_chain_hash(zero, &r, base), 0);
	ck_assert_int_eq(mdg_chain_hash(prev, &r, h), 0);
	ck_assert_mem_ne(h, base, MDG_HASH_LEN);
	m = r;
	m.seq = 8;
	ck_assert_int_eq(mdg_chain_hash(zero, &m, h), 0);
	ck_assert_mem_ne(h, base, MDG_HASH_LEN);
	/* length prefixes: moving a byte between fields changes the hash */
	m = r;
	m.receipt_id = "ab";
	m.accepted_at = "ct";
	ck_assert_int_eq(mdg_chain_hash(zero, &m, h), 0);
	ck_assert_mem_ne(h, base, MDG_HASH_LEN);
	m = r;
	m.serial_len = 2;
	ck_assert_int_eq(mdg_chain_hash(zero, &m, h), 0);
	ck_assert_mem_ne(h, base, MDG_HASH_LEN);
	m = r;
	m.reason = "keyCompromise";
	ck_assert_int_eq(mdg_chain_hash(zero, &m, h), 0);
	ck_assert_mem_ne(h, base, MDG_HASH_LEN);
	m = r;
	m.request_sha256 = req2;
	ck_assert_int_eq(mdg_chain_hash(zero, &m, h), 0);
	ck_assert_mem_ne(h, base, MDG_HASH_LEN);
	m = r;
	m.seq = 0;
	ck_assert_int_eq(mdg_chain_hash(zero, &m, h), -1);
	m = r;
	m.reason = NULL;
	ck_assert_int_eq(mdg_chain_hash(zero, &m, h), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("chain");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, known_answer);
	tcase_add_test(tc, every_field_counts);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
