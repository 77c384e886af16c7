"""The systemd units in deploy/systemd: `systemd-analyze verify` clean (no
warnings), `systemd-analyze security --offline=true` exposure <= 2.0 (the
score is printed), the hardening the issue asks for present, and the daily
job's script run for real against a test database."""

import datetime
import glob
import json
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
                           glob.glob(os.path.join(UNITS, '*.timer')) +
                           glob.glob(os.path.join(UNITS, '*.path'))):
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
        self.assertEqual(names, ['madoguchi-crl-import.path', 'madoguchi-crl-import.service',
                                 'madoguchi-daily.service', 'madoguchi-daily.timer',
                                 'madoguchid.service'])

    def test_verify(self):
        cp = harness.run(['systemd-analyze', 'verify', '--man=no'] + self.units, timeout=30)
        out = (cp.stdout + cp.stderr).decode('utf-8', 'replace').strip()
        self.assertEqual(cp.returncode, 0, out)
        self.assertEqual(out, '', 'systemd-analyze verify complained:\n' + out)

    def test_security_exposure(self):
        for name in ('madoguchid.service', 'madoguchi-daily.service',
                     'madoguchi-crl-import.service'):
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

    def test_timer_is_in_the_export_window(self):
        """The shipped timer runs at what `crl schedule --oncalendar` derives
        from the default crl_issue_time and crl_cutoff (23:05 JST: after the
        23:00 cut-off, before the 00:00 issue), with no random delay."""
        conf = os.path.join(self.dir, 'defaults.conf')
        with open(conf, 'w') as f:
            f.write('[pki]\n')
        cp = harness.run([harness.ADMIN, '--config', conf, 'crl', 'schedule', '--oncalendar'])
        self.assertEqual(cp.returncode, 0, cp.stderr)
        want = cp.stdout.decode().strip()
        self.assertEqual(want, '*-*-* 23:05:00 Asia/Tokyo')
        t = directives(unit_text('madoguchi-daily.timer'))
        self.assertEqual(t['OnCalendar'], [want])
        self.assertNotIn('RandomizedDelaySec', t)
        cp = harness.run(['systemd-analyze', 'calendar', want], timeout=30)
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        # another configuration, another time: 05:00+09:00 issue, 2h cut-off
        with open(conf, 'w') as f:
            f.write('[pki]\ncrl_issue_time = 05:00+09:00\ncrl_cutoff = 2h\n')
        cp = harness.run([harness.ADMIN, '--config', conf, 'crl', 'schedule', '--oncalendar'])
        self.assertEqual(cp.stdout.decode().strip(), '*-*-* 03:05:00 Asia/Tokyo')
        with open(conf, 'w') as f:
            f.write('[pki]\ncrl_issue_time = 06:00Z\ncrl_cutoff = 10m\n')
        cp = harness.run([harness.ADMIN, '--config', conf, 'crl', 'schedule', '--oncalendar'])
        self.assertEqual(cp.stdout.decode().strip(), '*-*-* 05:52:30 UTC')
        for at, rc in (('2026-12-01T23:00:00+09:00', 0), ('2026-12-01T23:59:59+09:00', 0),
                       ('2026-12-02T00:00:00+09:00', 1), ('2026-12-01T22:59:59+09:00', 1),
                       ('2026-12-01T14:05:00Z', 0), ('2026-12-01T10:00:00+09:00', 1)):
            with open(conf, 'w') as f:
                f.write('[pki]\n')
            cp = harness.run([harness.ADMIN, '--config', conf, 'crl', 'schedule', '--check',
                              '--at', at])
            self.assertEqual(cp.returncode, rc, (at, cp.stdout, cp.stderr))
            if rc:
                self.assertIn('outside the export window 23:00:00 to 00:00:00', cp.stderr.decode())


def window_around_now(inside):
    """[pki] crl_issue_time and crl_cutoff whose export window holds now
    (issue in 30 minutes, 1h cut-off) or does not (issue 2 hours ago)."""
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
        minutes=30 if inside else -120)
    return {'crl_issue_time': t.strftime('%H:%MZ'), 'crl_cutoff': '1h'}


class DailyJobTest(unittest.TestCase):
    """madoguchi-daily.sh as the daily service runs it, on a test database."""

    def run_script(self, *args, env=None):
        return subprocess.run(['sh', os.path.join(UNITS, 'madoguchi-daily.sh')] + list(args),
                              env=env or self.env, capture_output=True, timeout=60)

    def test_daily_script(self):
        pki = harness.shared_pki()
        d = harness.Daemon(pki, name='daily', crls=('jlis-full', 'pref-tokyo-dp-shinjuku'),
                           pki_opts=window_around_now(True))
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
        self.env = dict(os.environ, MADOGUCHI_CONFIG=d.config, MADOGUCHI_STATE=state,
                        MADOGUCHI_ADMIN=harness.ADMIN)
        self.env.pop('MADOGUCHI_DAILY_FORCE', None)
        cp = self.run_script()
        err = cp.stderr.decode('utf-8', 'replace')
        self.assertEqual(cp.returncode, 1, 'a refused CRL must fail the run: ' + err)
        self.assertIn('junk.crl refused', err)
        self.assertEqual(sorted(os.listdir(os.path.join(drop, 'imported'))), ['chiyoda.crl'])
        self.assertEqual(sorted(os.listdir(os.path.join(drop, 'rejected'))), ['junk.crl'])
        self.assertTrue(os.path.exists(os.path.join(drop, 'README.txt')))
        n = harness.sqlite(d.db, 'SELECT count(*) FROM crls;')
        self.assertEqual(n, '3')
        exports = glob.glob(os.path.join(state, 'exports', 'index-*.txt'))
        self.assertEqual(len(exports), 1, err)
        first = exports[0]
        with open(exports[0], encoding='utf-8') as f:
            text = f.read()
        self.assertEqual(text.count('\n'), 1, text)
        self.assertIn(pki.holder('valid-40')['serial'].upper(), text)
        with open(os.path.join(state, 'published', 'head.json'), encoding='utf-8') as f:
            self.assertEqual(json.load(f)['count'], 1)
        # nothing new the next day: the CRL scope is not imported twice, the
        # export has no acceptance again
        cp = self.run_script()
        self.assertEqual(cp.returncode, 0, cp.stderr.decode('utf-8', 'replace'))
        exports = glob.glob(os.path.join(state, 'exports', 'index-*.txt'))
        self.assertEqual(len(exports), 2, exports)
        with open(first, encoding='utf-8') as f:
            self.assertEqual(f.read(), text, 'the first export was overwritten')
        self.assertEqual(len(os.listdir(os.path.join(state, 'published'))), 3)

        # outside the export window: refused, nothing done, exit 1
        d.sections['pki'].update(window_around_now(False))
        d.write_config()
        shutil.copy(pki.crl_file('jlis-dp-stale'), os.path.join(drop, 'stale.crl'))
        cp = self.run_script()
        err = cp.stderr.decode('utf-8', 'replace')
        self.assertEqual(cp.returncode, 1, err)
        self.assertIn('outside the export window', err)
        self.assertIn('--force', err)
        self.assertEqual(len(glob.glob(os.path.join(state, 'exports', 'index-*.txt'))), 2)
        self.assertTrue(os.path.exists(os.path.join(drop, 'stale.crl')), 'nothing is done')
        # --crl-only (madoguchi-crl-import.service) imports at any time; the
        # stale scope makes crl status, and so the run, fail
        cp = self.run_script('--crl-only')
        err = cp.stderr.decode('utf-8', 'replace')
        self.assertEqual(cp.returncode, 1, err)
        self.assertIn('STALE', cp.stdout.decode() + err)
        self.assertFalse(os.path.exists(os.path.join(drop, 'stale.crl')))
        self.assertEqual(len(glob.glob(os.path.join(state, 'exports', 'index-*.txt'))), 2)
        # --force exports outside the window
        cp = self.run_script('--force')
        self.assertEqual(len(glob.glob(os.path.join(state, 'exports', 'index-*.txt'))), 3,
                         cp.stderr.decode('utf-8', 'replace'))
        cp = self.run_script('--bogus')
        self.assertEqual(cp.returncode, 2)


if __name__ == '__main__':
    harness.main()
