"""`madoguchi-admin crl import` against a running daemon's database
(DESIGN.md "CRLs")."""

import json
import os
import re
import sys
import unittest

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


class Scopes(unittest.TestCase):
    """`crl status` lists every anchor name, `crl retire` takes a scope out
    of freshness (entries stay revoked), /readyz names what makes it
    unready (DESIGN.md "CRLs", issue 16 item 6)."""

    @classmethod
    def setUpClass(cls):
        cls.pki = harness.shared_pki()
        cls.d = harness.Daemon(cls.pki, name='scopes')   # the fresh CRLs and the stale partition
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop_and_check()

    def status(self):
        cp = self.d.admin('crl', 'status', '--format', 'json')
        self.assertIn(cp.returncode, (0, 1), output(cp))
        doc = json.loads(cp.stdout)
        self.assertEqual(cp.returncode, 0 if doc['ok'] else 1, output(cp))
        return doc

    def scope_of(self, doc, crl):
        c = self.pki.crls[crl]
        for a in doc['anchors']:
            for x in a['scopes']:
                if harness.same_dn(x['issuer'], c['issuer']) and (
                        x['distributionPoint'] is None if c['dp'] is None
                        else harness.same_dn(x['distributionPoint'] or '', c['dp'])):
                    return a, x
        self.fail('no scope for %s in %r' % (crl, doc))

    def test_status_retire_readyz(self):
        d, pki = self.d, self.pki
        stale = pki.crls['jlis-dp-stale']
        jlis, tokyo = stale['issuer'], pki.crls['pref-tokyo-dp-shinjuku']['issuer']
        # every anchor name, in plain lines and in JSON
        cp = d.admin('crl', 'status')
        self.assertEqual(cp.returncode, 1, output(cp))
        out = cp.stdout.decode()
        for name in (jlis, tokyo):
            self.assertTrue(any(harness.same_dn(l.strip(), name) for l in out.splitlines()),
                            name + ' not listed:\n' + out)
        self.assertRegex(out, r'(?m)^  \S.*STALE +number 3, 0 entries, this update ')
        self.assertRegex(out, r'(?m)^  full CRL +fresh +number \d+, ')
        doc = self.status()
        self.assertEqual(len(doc['anchors']), 2, doc)
        self.assertEqual((doc['stale'], doc['missing'], doc['ok']), (1, 0, False))
        a, x = self.scope_of(doc, 'jlis-dp-stale')
        self.assertEqual((a['state'], x['stale'], x['retiredAt']), ('stale', True, None))
        # /readyz names the stale scope
        r = d.get('/readyz')
        self.assertEqual(r.status, 503, repr(r))
        self.assertEqual(r.json['reason'], 'a CRL is stale', r.json)
        self.assertTrue(harness.same_dn(r.json['issuer'], jlis), r.json)
        self.assertTrue(harness.same_dn(r.json['scope'], stale['dp']), r.json)
        a = d.submit('stale-dp', 'validity-check')
        self.assertEqual((a.result, a.status), ('serviceError', 503), repr(a))

        # retire it: out of freshness, /readyz, crl status; the full CRL covers
        cp = d.admin('crl', 'retire', '--issuer', jlis.lower().replace(',', ', '), '--dp', stale['dp'])
        self.assertEqual(cp.returncode, 0, output(cp))
        self.assertIn('retired', cp.stdout.decode())
        r = d.get('/readyz')
        self.assertEqual(r.status, 200, repr(r))
        doc = self.status()
        self.assertEqual((doc['stale'], doc['missing'], doc['ok']), (0, 0, True))
        a, x = self.scope_of(doc, 'jlis-dp-stale')
        self.assertIsNotNone(x['retiredAt'])
        self.assertFalse(x['stale'])
        cp = d.admin('crl', 'status')
        self.assertEqual(cp.returncode, 0, output(cp))
        self.assertRegex(cp.stdout.decode(), r'(?m)^  \S.* retired  since ')
        a = d.submit('stale-dp', 'validity-check')
        self.assertEqual(a.result, 'valid', repr(a))
        # again: nothing to do; the same CRL again does not bring it back
        cp = d.admin('crl', 'retire', '--issuer', jlis, '--dp', stale['dp'])
        self.assertEqual(cp.returncode, 0, output(cp))
        self.assertIn('already', cp.stdout.decode())
        cp = d.admin('crl', 'import', pki.crl_file('jlis-dp-stale'))
        self.assertEqual(cp.returncode, 0, output(cp))
        self.assertIn('stays retired', cp.stdout.decode())
        self.assertEqual(d.get('/readyz').status, 200)
        # a newer CRL of the scope brings it back
        newer = pki.make_crl('jlis-g2', stale['number'] + 1, dp=city_of(stale['dp']))
        cp = d.admin('crl', 'import', newer)
        self.assertEqual(cp.returncode, 0, output(cp))
        _, x = self.scope_of(self.status(), 'jlis-dp-stale')
        self.assertEqual((x['retiredAt'], x['stale'], x['number']),
                         (None, False, str(stale['number'] + 1)))

        # a scope imported by mistake: retired, its entries still answer revoked
        wrong = pki.make_crl('jlis-g2', 1, dp='E2E-Mistake-shi', revoke=['valid-12'])
        cp = d.admin('crl', 'import', wrong)
        self.assertEqual(cp.returncode, 0, output(cp))
        cp = d.admin('crl', 'retire', '--issuer', jlis, '--dp', 'CN=E2E-Mistake-shi')
        if cp.returncode != 0:   # the DP's full name, as crl status prints it
            dp = [x['distributionPoint'] for a in self.status()['anchors'] for x in a['scopes']
                  if 'Mistake' in (x['distributionPoint'] or '')][0]
            cp = d.admin('crl', 'retire', '--issuer', jlis, '--dp', dp)
        self.assertEqual(cp.returncode, 0, output(cp))
        self.assertIn('1 entry stay', cp.stdout.decode())
        a = d.submit('valid-12', 'validity-check')
        self.assertEqual(a.result, 'revoked', repr(a))
        a = d.submit('valid-12', 'revocation')
        self.assertEqual((a.result, a.status), ('revoked', 409), repr(a))

        # no such scope: exit 1; no --issuer: usage
        cp = d.admin('crl', 'retire', '--issuer', jlis, '--dp', 'CN=Nowhere')
        self.assertEqual(cp.returncode, 1, output(cp))
        self.assertIn('crl status', output(cp))
        self.assertEqual(d.admin('crl', 'retire').returncode, 2)

        # Tokyo's only scope retired: its name has no CRL; /readyz names it
        shinjuku = pki.crls['pref-tokyo-dp-shinjuku']
        cp = d.admin('crl', 'retire', '--issuer', tokyo, '--dp', shinjuku['dp'])
        self.assertEqual(cp.returncode, 0, output(cp))
        self.assertIn('no CRL in force', cp.stderr.decode())
        r = d.get('/readyz')
        self.assertEqual(r.status, 503, repr(r))
        self.assertEqual(r.json['reason'], 'no CRL held for an anchor', r.json)
        self.assertTrue(harness.same_dn(r.json['anchor'], tokyo), r.json)
        doc = self.status()
        self.assertEqual((doc['missing'], doc['ok']), (1, False))
        self.assertEqual([a['state'] for a in doc['anchors']
                          if harness.same_dn(a['anchor'], tokyo)], ['none'])
        cp = d.admin('crl', 'status')
        self.assertEqual(cp.returncode, 1)
        self.assertIn('no CRL in force', cp.stdout.decode())
        cp = d.admin('crl', 'import', pki.make_crl('pref-tokyo', shinjuku['number'] + 1,
                                                   dp=city_of(shinjuku['dp'])))
        self.assertEqual(cp.returncode, 0, output(cp))
        self.assertEqual(d.get('/readyz').status, 200)
        # the metrics count no retired scope
        m = harness.http_request(d.admin_port, 'GET', '/metrics').body.decode()
        self.assertNotIn('Mistake', m)


if __name__ == '__main__':
    harness.main()
