"""`madoguchi-admin crl import` against a running daemon's database
(DESIGN.md "CRLs")."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DaemonCase, city_of  # noqa: E402


def output(cp):
    return (cp.stdout + cp.stderr).decode('utf-8', 'replace')


class CrlImport(DaemonCase):

    def imp(self, *files):
        return self.daemon.admin('crl', 'import', *files)

    def assertImported(self, cp):
        self.assertEqual(cp.returncode, 0, 'import failed: %s' % output(cp))

    def assertRefused(self, cp):
        self.assertNotEqual(cp.returncode, 0, 'import should be refused: %s' % output(cp))
        self.assertGreater(cp.returncode, 0, 'crashed: %s' % output(cp))
        self.assertLess(cp.returncode, 128, 'crashed: %s' % output(cp))
        self.assertTrue(output(cp).strip(), 'refused without a message')

    def test_der_and_pem_import(self):
        der = self.pki.make_crl('jlis-g2', 1, dp='E2E-Der-shi')
        pem = self.pki.make_crl('jlis-g2', 1, dp='E2E-Pem-shi', pem=True)
        with open(pem, 'rb') as f:
            self.assertIn(b'-----BEGIN X509 CRL-----', f.read())
        self.assertImported(self.imp(der))
        self.assertImported(self.imp(pem))
        # both scopes are now held: an equal number with other contents is refused
        for dp in ('E2E-Der-shi', 'E2E-Pem-shi'):
            other = self.pki.make_crl('jlis-g2', 1, dp=dp, revoke=['valid-60'])
            self.assertRefused(self.imp(other))

    def test_same_file_twice_is_unchanged(self):
        # CRLs the fixture imported (scopes no other test here touches)
        self.assertImported(self.imp(self.pki.crl_file('jlis-dp-stale')))
        self.assertImported(self.imp(self.pki.crl_file('pref-tokyo-dp-shinjuku')))
        new = self.pki.make_crl('pref-tokyo', 7, dp='E2E-Twice-shi')
        self.assertImported(self.imp(new))
        self.assertImported(self.imp(new))

    def test_full_scope_sequence(self):
        """older refused -> older generation's key accepted -> equal refused."""
        d = self.daemon
        full = self.pki.crls['jlis-full']['number']
        older = self.pki.crls['jlis-full-older']['number']
        by_g1 = self.pki.crls['jlis-full-by-g1']['number']
        self.assertLess(older, full)
        self.assertGreater(by_g1, full)
        # the held CRL again, in PEM (same DER, same SHA-256): a no-op success
        pem = self.pki.crl_file('jlis-full', pem=True)
        self.assertTrue(os.path.exists(pem), pem)
        self.assertImported(self.imp(pem))
        cp = self.imp(self.pki.crl_file('jlis-full-older'))
        self.assertRefused(cp)
        msg = output(cp)
        self.assertRegex(msg, r'\b%d\b' % older, 'message should name the refused number: ' + msg)
        self.assertRegex(msg, r'\b%d\b' % full, 'message should name the held number: ' + msg)
        # signed by the older generation of the J-LIS key: accepted
        self.assertImported(self.imp(self.pki.crl_file('jlis-full-by-g1')))
        self.assertImported(self.imp(self.pki.crl_file('jlis-full-by-g1')))
        cp = self.imp(self.pki.crl_file('jlis-full'))
        self.assertRefused(cp)
        self.assertRegex(output(cp), r'\b%d\b' % by_g1)
        # revoked-full is on the g1-signed CRL too
        a = d.submit('revoked-full', 'validity-check')
        self.assertAnswer(a, 'revoked', 'validity-check', 200)

    def test_refused_kinds(self):
        for name in ('jlis-full-impostor', 'jlis-full-delta', 'jlis-full-v1', 'unknown-full'):
            with self.subTest(crl=name):
                self.assertRefused(self.imp(self.pki.crl_file(name)))
        # the impostor's empty CRL did not replace the real one
        a = self.daemon.submit('revoked-full', 'validity-check')
        self.assertAnswer(a, 'revoked', 'validity-check', 200)

    def test_anchor_not_valid_at_this_update(self):
        # jlis-g2 begins now-2y: a CRL it "issued" three years ago is refused
        crl = self.pki.make_crl('jlis-g2', 1, dp='E2E-Early-shi', this_update_hours=-26280,
                                next_update_hours=-26256)
        self.assertRefused(self.imp(crl))

    def test_lookup_is_by_issuer_and_serial(self):
        d = self.daemon
        jlis_serial = self.pki.holder('valid-10')['serial']
        # the same serial on another issuer's CRL does not revoke a J-LIS holder
        crl = self.pki.make_crl('pref-tokyo', 1, dp='E2E-Other-ku', revoke=[jlis_serial])
        self.assertImported(self.imp(crl))
        a = d.submit('valid-10', 'validity-check')
        self.assertAnswer(a, 'valid', 'validity-check', 200)
        # on any CRL of the holder's issuer (another partition): revoked
        crl = self.pki.make_crl('jlis-g2', 1, dp='E2E-Elsewhere-shi', revoke=['valid-11'])
        self.assertImported(self.imp(crl))
        a = d.submit('valid-11', 'validity-check')
        self.assertAnswer(a, 'revoked', 'validity-check', 200)
        a = d.submit('valid-11', 'revocation')
        self.assertAnswer(a, 'revoked', 'revocation', 409)

    def test_not_a_crl(self):
        h = self.pki.holder('valid-60')
        for f in (h['cert'], os.path.join(self.daemon.dir, 'madoguchi.conf'),
                  os.path.join(self.daemon.dir, 'no-such-file.crl')):
            with self.subTest(file=os.path.basename(f)):
                self.assertRefused(self.imp(f))

    def test_multiple_files_in_one_command(self):
        a = self.pki.make_crl('jlis-g2', 3, dp='E2E-Multi-a')
        b = self.pki.make_crl('pref-tokyo', 3, dp='E2E-Multi-b')
        self.assertImported(self.imp(a, b))
        self.assertImported(self.imp(a, b))

    def test_crl_status(self):
        cp = self.daemon.admin('crl', 'status')
        if cp.returncode == 2 and 'unknown command' in output(cp):
            self.skipTest('madoguchi-admin has no `crl status` (DESIGN.md "Programs" lists it)')
        # the fixture holds the stale Stale-shi partition CRL: monitoring must see it
        self.assertEqual(cp.returncode, 1, output(cp))
        self.assertIn('STALE', output(cp))
        self.assertIn('fresh', output(cp))

    def test_daemon_sees_new_crl_without_restart(self):
        d = self.daemon
        h = self.pki.holder('valid-05')
        self.assertIsNotNone(h.get('dp'))
        a = d.submit('valid-05', 'validity-check')
        self.assertAnswer(a, 'valid', 'validity-check', 200)
        chiyoda = self.pki.crls['jlis-dp-chiyoda']
        self.assertTrue(harness.same_dn(chiyoda['dp'], h['dp']))
        number = chiyoda['number'] + 1
        crl = self.pki.make_crl('jlis-g2', number, dp=city_of(h['dp']),
                                revoke=['revoked', 'valid-05:superseded'])
        pid = d.proc.pid
        self.assertImported(self.imp(crl))
        a = d.submit('valid-05', 'validity-check')
        self.assertAnswer(a, 'revoked', 'validity-check', 200)
        a = d.submit('valid-05', 'revocation')
        self.assertAnswer(a, 'revoked', 'revocation', 409)
        a = d.submit('revoked', 'validity-check')
        self.assertAnswer(a, 'revoked', 'validity-check', 200)
        a = d.submit('valid-06', 'validity-check')
        self.assertAnswer(a, 'valid', 'validity-check', 200)
        self.assertIn(a.json.get('crlNumber'), (number, str(number)), repr(a))
        self.assertEqual(d.proc.pid, pid)
        self.assertIsNone(d.proc.poll())


if __name__ == '__main__':
    harness.main()
