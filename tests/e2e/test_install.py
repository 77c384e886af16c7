"""`meson install --destdir D` of this build: the binaries, schema, example
config, man pages, systemd units and nginx site land where they should, and
the installed daemon runs from D: /healthz and one signed request."""

import glob
import json
import os
import subprocess
import unittest

import harness

BUILD = os.environ.get('MDG_BUILD_ROOT')


def build_options():
    cp = harness.run(['meson', 'introspect', '--buildoptions', BUILD], check=True)
    return {o['name']: o['value'] for o in json.loads(cp.stdout)}


@unittest.skipUnless(BUILD, 'MDG_BUILD_ROOT is not set')
class InstallTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.destdir = harness.make_tmpdir('mdg-e2e-destdir-')
        cp = harness.run(['meson', 'install', '-C', BUILD, '--destdir', cls.destdir,
                          '--no-rebuild', '--quiet'], timeout=120)
        if cp.returncode != 0:
            raise AssertionError('meson install failed: %s %s' % (
                cp.stdout.decode('utf-8', 'replace')[-2000:], cp.stderr.decode('utf-8', 'replace')[-2000:]))
        o = build_options()
        cls.prefix = o['prefix']

        def at(*parts):
            p = parts[0] if os.path.isabs(parts[0]) else os.path.join(cls.prefix, parts[0])
            return cls.destdir + os.path.join(p, *parts[1:])
        cls.at = staticmethod(at)
        cls.sbindir = at(o['sbindir'])
        cls.bindir = at(o['bindir'])
        cls.datadir = at(o['datadir'])
        cls.mandir = at(o['mandir'])
        cls.libexecdir = at(o['libexecdir'])

    def assertExecutable(self, path):
        self.assertTrue(os.path.isfile(path), path)
        self.assertTrue(os.access(path, os.X_OK), path)

    def test_files_in_place(self):
        self.assertExecutable(os.path.join(self.sbindir, 'madoguchid'))
        self.assertExecutable(os.path.join(self.sbindir, 'madoguchi-admin'))
        if os.environ.get('MDG_CLIENT'):
            self.assertExecutable(os.path.join(self.bindir, 'madoguchi-client'))
        schema_src = sorted(os.path.basename(p) for p in
                            glob.glob(os.path.join(harness.SOURCE_ROOT, 'schema', '*.sql')))
        schema_dir = os.path.join(self.datadir, 'madoguchi', 'schema')
        # the PostgreSQL backend's migrations sit in schema/pg/
        self.assertEqual(sorted(n for n in os.listdir(schema_dir) if n != 'pg'), schema_src)
        for name in schema_src:
            with open(os.path.join(schema_dir, name), 'rb') as a, \
                    open(os.path.join(harness.SOURCE_ROOT, 'schema', name), 'rb') as b:
                self.assertEqual(a.read(), b.read(), name)
        self.assertTrue(os.path.isfile(os.path.join(self.datadir, 'doc', 'madoguchi',
                                                    'madoguchi.conf.example')))
        for page in ('man8/madoguchid.8', 'man8/madoguchi-admin.8', 'man5/madoguchi.conf.5'):
            self.assertTrue(os.path.isfile(os.path.join(self.mandir, page)), page)
        if os.path.exists(os.path.join(harness.SOURCE_ROOT, 'client', 'madoguchi-client.1.scd')):
            self.assertTrue(os.path.isfile(os.path.join(self.mandir, 'man1', 'madoguchi-client.1')))
        units = self.at('lib', 'systemd', 'system')
        for u in ('madoguchid.service', 'madoguchi-daily.service', 'madoguchi-daily.timer'):
            self.assertTrue(os.path.isfile(os.path.join(units, u)), u)
        with open(os.path.join(units, 'madoguchid.service'), encoding='utf-8') as f:
            unit = f.read()
        # the installed unit names the installed daemon
        self.assertIn('ExecStart=%s/madoguchid ' % self.sbindir[len(self.destdir):], unit)
        self.assertTrue(os.path.isfile(self.at('lib', 'sysusers.d', 'madoguchi.conf')))
        self.assertExecutable(os.path.join(self.libexecdir, 'madoguchi', 'madoguchi-daily'))
        nginx = os.path.join(self.datadir, 'madoguchi', 'nginx')
        self.assertTrue(os.path.isfile(os.path.join(nginx, 'madoguchi.conf')))
        for j in glob.glob(os.path.join(nginx, 'errors', '*.json')):
            with open(j, encoding='utf-8') as f:
                self.assertIn('"result"', f.read())
        self.assertTrue(os.path.isfile(os.path.join(nginx, 'errors', 'busy.json')))

    def test_installed_daemon_runs(self):
        daemon = os.path.join(self.sbindir, 'madoguchid')
        admin = os.path.join(self.sbindir, 'madoguchi-admin')
        cp = harness.run([daemon, '--version'], check=True)
        self.assertIn(b'madoguchid', cp.stdout)
        pki = harness.shared_pki()
        saved = harness.DAEMON, harness.ADMIN
        harness.DAEMON, harness.ADMIN = daemon, admin
        try:
            d = harness.Daemon(pki, name='installed')
            cp = harness.run([daemon, '--config', d.config, '--check-config'])
            self.assertEqual(cp.returncode, 0, cp.stderr)
            d.start()
            try:
                self.assertEqual(d.proc.args[0], daemon)
                a = d.get('/healthz')
                self.assertEqual(a.status, 200, a)
                a = d.submit('valid-50', 'validity-check')
                self.assertEqual((a.status, a.result), (200, 'valid'), a)
            finally:
                d.stop_and_check()
        finally:
            harness.DAEMON, harness.ADMIN = saved


if __name__ == '__main__':
    harness.main()
