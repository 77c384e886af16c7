"""GET /v1/nonce and stateless nonces (DESIGN.md "Nonces")."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (DaemonCase, Daemon, RFC3339_RE, parse_time, now,  # noqa: E402
                     b64url_decode, b64url_encode)

B64URL_RE = re.compile(r'^[A-Za-z0-9_-]+={0,2}$')


class Nonce(DaemonCase):

    def test_get_nonce(self):
        a = self.daemon.get('/v1/nonce')
        self.assertEqual(a.status, 200, repr(a))
        self.assertIn('no-store', a.header('cache-control', ''))
        self.assertEqual(a.header('content-type', '').split(';')[0].strip(), 'application/json')
        j = a.json
        self.assertIsInstance(j, dict, repr(a))
        self.assertIsInstance(j.get('nonce'), str)
        self.assertEqual(a.header('replay-nonce'), j['nonce'])
        self.assertRegex(j['nonce'], B64URL_RE)
        self.assertEqual(len(b64url_decode(j['nonce'].rstrip('='))), 56)
        self.assertRegex(j.get('expiresAt', ''), RFC3339_RE)
        ahead = (parse_time(j['expiresAt']) - now()).total_seconds()
        self.assertGreater(ahead, 300 - 15)
        self.assertLess(ahead, 300 + 15)

    def test_nonces_differ(self):
        seen = {self.daemon.get_nonce() for _ in range(5)}
        self.assertEqual(len(seen), 5)

    def test_nonce_may_be_presented_twice(self):
        nonce = self.daemon.get_nonce()
        for _ in range(2):
            a = self.daemon.submit('valid-01', 'validity-check', nonce=nonce)
            self.assertAnswer(a, 'valid', 'validity-check', 200)

    def test_second_daemon_sharing_the_key(self):
        other = Daemon(self.pki, name='samekey', nonce_key=self.daemon.nonce_key, crls=())
        other.start()
        try:
            nonce = other.get_nonce()
            mine = self.daemon.get_nonce()
            # and the other way round (the other holds no CRL, so a
            # validity check there ends at serviceError, past the nonce)
            b = other.submit('valid-02', 'validity-check', nonce=mine)
            self.assertAnswer(b, 'serviceError', 'validity-check')
        finally:
            other.stop_and_check()
        a = self.daemon.submit('valid-02', 'validity-check', nonce=nonce)
        self.assertAnswer(a, 'valid', 'validity-check', 200)

    def test_different_key_is_bad_nonce(self):
        other = Daemon(self.pki, name='otherkey', crls=())
        other.start()
        try:
            nonce = other.get_nonce()
            mine = self.daemon.get_nonce()
            b = other.submit('valid-03', 'validity-check', nonce=mine)
            self.assertAnswer(b, 'badNonce', 'validity-check', 400)
        finally:
            other.stop_and_check()
        with open(other.nonce_key, 'rb') as f1, open(self.daemon.nonce_key, 'rb') as f2:
            self.assertNotEqual(f1.read(), f2.read())
        for proc in ('validity-check', 'revocation'):
            a = self.daemon.submit('valid-03', proc, nonce=nonce)
            self.assertAnswer(a, 'badNonce', proc, 400)

    def test_flipped_bit_is_bad_nonce(self):
        good = self.daemon.get_nonce()
        raw = b64url_decode(good.rstrip('='))
        for pos in (0, 7, 8, 23, 24, 55):
            bad = bytearray(raw)
            bad[pos] ^= 0x80
            with self.subTest(byte=pos):
                a = self.daemon.submit('valid-04', 'validity-check', nonce=b64url_encode(bytes(bad)))
                self.assertAnswer(a, 'badNonce', 'validity-check', 400)
        a = self.daemon.submit('valid-04', 'validity-check', nonce=good)
        self.assertAnswer(a, 'valid', 'validity-check', 200)

    def test_truncated_or_extended_is_bad_nonce(self):
        good = self.daemon.get_nonce()
        for bad in (good[:-4], good + 'AAAA', b64url_encode(b64url_decode(good.rstrip('='))[:40])):
            with self.subTest(nonce=bad):
                a = self.daemon.submit('valid-04', 'validity-check', nonce=bad)
                self.assertAnswer(a, 'badNonce', 'validity-check', 400)


class NonceTTL(DaemonCase):
    pki_opts = {'nonce_ttl': '60s'}
    crls = ()

    def test_expires_at_follows_nonce_ttl(self):
        a = self.daemon.get('/v1/nonce')
        self.assertEqual(a.status, 200, repr(a))
        ahead = (parse_time(a.json['expiresAt']) - now()).total_seconds()
        self.assertGreater(ahead, 60 - 10)
        self.assertLess(ahead, 60 + 10)


if __name__ == '__main__':
    harness.main()
