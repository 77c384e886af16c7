"""The systemd units in deploy/systemd: `systemd-analyze verify` clean (no
warnings), `systemd-analyze security --offline=true` exposure <= 2.0 (the
score is printed), the hardening the issue asks for present, and the daily
job's script run for real against a test database."""

import glob
import os
import re
import shutil
import subprocess
import sys
import unittest

import harness

UNITS = os.path.join(harness.SOURCE_ROOT, 'deploy', 'systemd')
MAX_EXPOSURE = 2.0


def unit_text(name):
    with open(os.path.join(UNITS, name), encoding='utf-8') as f:
        return f.read()


def directives(text):
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in '#;[':
            continue
        k, _, v = line.partition('=')
        out.setdefault(k.strip(), []).append(v.strip())
    return out


class UnitsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # the units name /usr/sbin/madoguchid and /usr/libexec/madoguchi/...,
        # which need not exist on a build host: verify copies pointed at the
        # built binaries instead (nothing else changes)
        cls.dir = harness.make_tmpdir('mdg-e2e-systemd-')
        subst = {
            '/usr/sbin/madoguchid': harness.DAEMON,
            '/usr/sbin/madoguchi-admin': harness.ADMIN,
            '/usr/libexec/madoguchi/madoguchi-daily': os.path.join(UNITS, 'madoguchi-daily.sh'),
        }
        cls.units = []
        for path in sorted(glob.glob(os.path.join(UNITS, '*.service')) +
                           glob.glob(os.path.join(UNITS, '*.timer'))):
            with open(path, encoding='utf-8') as f:
                text = f.read()
            for k, v in subst.items():
                text = text.replace(k, v)
            out = os.path.join(cls.dir, os.path.basename(path))
            with open(out, 'w', encoding='utf-8') as f:
                f.write(text)
            cls.units.append(out)

    def test_units_present(self):
        names = sorted(os.path.basename(u) for u in self.units)
        self.assertEqual(names, ['madoguchi-daily.service', 'madoguchi-daily.timer',
                                 'madoguchid.service'])

    def test_verify(self):
        cp = harness.run(['systemd-analyze', 'verify', '--man=no'] + self.units, timeout=30)
        out = (cp.stdout + cp.stderr).decode('utf-8', 'replace').strip()
        self.assertEqual(cp.returncode, 0, out)
        self.assertEqual(out, '', 'systemd-analyze verify complained:\n' + out)

    def test_security_exposure(self):
        for name in ('madoguchid.service', 'madoguchi-daily.service'):
            cp = harness.run(['systemd-analyze', 'security', '--offline=true', '--no-pager',
                              os.path.join(self.dir, name)], timeout=30)
            out = cp.stdout.decode('utf-8', 'replace')
            m = re.search(r'Overall exposure level for \S+: (\d+(?:\.\d+)?)', out)
            self.assertIsNotNone(m, out + cp.stderr.decode('utf-8', 'replace'))
            score = float(m.group(1))
            print('systemd-analyze security %s: exposure %.1f' % (name, score), file=sys.stderr)
            self.assertLessEqual(score, MAX_EXPOSURE, out)

    def test_hardening_directives(self):
        d = directives(unit_text('madoguchid.service'))
        want = {
            'User': 'madoguchi', 'StateDirectory': 'madoguchi', 'ConfigurationDirectory': 'madoguchi',
            'NoNewPrivileges': 'yes', 'ProtectSystem': 'strict', 'PrivateTmp': 'yes',
            'PrivateDevices': 'yes', 'CapabilityBoundingSet': '',
            'RestrictAddressFamilies': 'AF_INET AF_INET6',
        }
        for k, v in want.items():
            self.assertIn(k, d, k)
            self.assertEqual(d[k][-1], v, k)
        self.assertIn('@system-service', d['SystemCallFilter'])
        self.assertIn('/bin/kill -HUP $MAINPID', d['ExecReload'])
        t = directives(unit_text('madoguchi-daily.timer'))
        self.assertTrue(t.get('OnCalendar'))
        self.assertEqual(t.get('Persistent'), ['true'])


class DailyJobTest(unittest.TestCase):
    """madoguchi-daily.sh as the daily service runs it, on a test database."""

    def test_daily_script(self):
        pki = harness.shared_pki()
        d = harness.Daemon(pki, name='daily', crls=('jlis-full',))
        state = harness.make_tmpdir('mdg-e2e-daily-')
        drop = os.path.join(state, 'crl-drop')
        os.makedirs(drop)
        shutil.copy(pki.crl_file('jlis-dp-chiyoda'), os.path.join(drop, 'chiyoda.crl'))
        with open(os.path.join(drop, 'junk.crl'), 'wb') as f:
            f.write(b'not a CRL')
        with open(os.path.join(drop, 'README.txt'), 'w') as f:
            f.write('left alone\n')
        # one acceptance to export
        d.start()
        try:
            a = d.submit('valid-40', 'revocation')
            self.assertEqual(a.result, 'accepted', a)
        finally:
            d.stop_and_check()
        env = dict(os.environ, MADOGUCHI_CONFIG=d.config, MADOGUCHI_STATE=state,
                   MADOGUCHI_ADMIN=harness.ADMIN)
        cp = subprocess.run(['sh', os.path.join(UNITS, 'madoguchi-daily.sh')], env=env,
                            capture_output=True, timeout=60)
        err = cp.stderr.decode('utf-8', 'replace')
        self.assertEqual(cp.returncode, 1, 'a refused CRL must fail the run: ' + err)
        self.assertIn('junk.crl refused', err)
        self.assertEqual(sorted(os.listdir(os.path.join(drop, 'imported'))), ['chiyoda.crl'])
        self.assertEqual(sorted(os.listdir(os.path.join(drop, 'rejected'))), ['junk.crl'])
        self.assertTrue(os.path.exists(os.path.join(drop, 'README.txt')))
        n = harness.sqlite(d.db, 'SELECT count(*) FROM crls;')
        self.assertEqual(n, '2')
        exports = glob.glob(os.path.join(state, 'exports', 'acceptances-*.csv'))
        self.assertEqual(len(exports), 1, err)
        first = exports[0]
        with open(exports[0], encoding='utf-8') as f:
            text = f.read()
        receipt = a.json['receiptId']
        self.assertIn(receipt, text)
        # nothing new the next day: the CRL scope is not imported twice, the
        # export has no acceptance again
        cp = subprocess.run(['sh', os.path.join(UNITS, 'madoguchi-daily.sh')], env=env,
                            capture_output=True, timeout=60)
        self.assertEqual(cp.returncode, 0, cp.stderr.decode('utf-8', 'replace'))
        exports = glob.glob(os.path.join(state, 'exports', 'acceptances-*.csv'))
        self.assertEqual(len(exports), 2, exports)
        with open(first, encoding='utf-8') as f:
            self.assertEqual(f.read(), text, 'the first export was overwritten')


if __name__ == '__main__':
    harness.main()
