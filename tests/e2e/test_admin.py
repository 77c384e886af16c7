"""madoguchi-admin: db init / db migrate, usage errors, the acceptance log
and its hash chain (DESIGN.md "Programs", "Store")."""

import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import ADMIN, DaemonCase, Daemon, run, shared_pki, sqlite  # noqa: E402


def text(cp):
    return (cp.stdout + cp.stderr).decode('utf-8', 'replace')


def schema_of(db):
    return sqlite(db, '.schema')


class Database(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.pki = shared_pki()

    def test_db_init_twice(self):
        d = Daemon(self.pki, name='init2', init_db=False)
        cp = d.admin('db', 'init')
        self.assertEqual(cp.returncode, 0, text(cp))
        version = sqlite(d.db, 'PRAGMA user_version;')
        schema = schema_of(d.db)
        self.assertIn('acceptances', schema)
        cp = d.admin('db', 'init')
        self.assertEqual(cp.returncode, 0, text(cp))
        self.assertEqual(sqlite(d.db, 'PRAGMA user_version;'), version)
        self.assertEqual(schema_of(d.db), schema)

    def test_db_migrate_is_a_noop_when_current(self):
        d = Daemon(self.pki, name='migrate')   # db init + CRL import
        version = sqlite(d.db, 'PRAGMA user_version;')
        schema = schema_of(d.db)
        crls = sqlite(d.db, 'SELECT count(*) FROM crls;')
        cp = d.admin('db', 'migrate')
        self.assertEqual(cp.returncode, 0, text(cp))
        self.assertEqual(sqlite(d.db, 'PRAGMA user_version;'), version)
        self.assertEqual(schema_of(d.db), schema)
        self.assertEqual(sqlite(d.db, 'SELECT count(*) FROM crls;'), crls)
        # and the daemon still starts on it
        d.start()
        d.stop_and_check()

    def test_unknown_command_exit_2_with_usage(self):
        d = Daemon(self.pki, name='usage', init_db=False)
        for args in (['frobnicate'], ['db', 'frobnicate'], ['crl', 'frobnicate']):
            with self.subTest(args=args):
                cp = d.admin(*args)
                self.assertEqual(cp.returncode, 2, text(cp))
                self.assertIn('usage', text(cp).lower())

    def test_no_command(self):
        d = Daemon(self.pki, name='nocmd', init_db=False)
        cp = d.admin()
        self.assertNotEqual(cp.returncode, 0, text(cp))
        self.assertGreater(cp.returncode, 0)
        self.assertIn('usage', text(cp).lower())

    def test_bad_config_is_refused(self):
        cp = run([ADMIN, '--config', os.path.join(self.pki.root, 'missing.conf'), 'crl', 'status'])
        self.assertNotEqual(cp.returncode, 0, text(cp))
        self.assertGreater(cp.returncode, 0)
        self.assertTrue(text(cp).strip())


class AcceptanceLog(DaemonCase):
    """`log`, `log head`, `log verify` over acceptances made by the daemon."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for h in ('valid-01', 'valid-02', 'valid-03'):
            a = cls.daemon.submit(h, 'revocation')
            if a.result != 'accepted':
                raise AssertionError('setup: %s not accepted: %r' % (h, a))

    def admin(self, *args):
        cp = self.daemon.admin(*args)
        if cp.returncode == 2 and ('unknown command' in text(cp) or 'no command' in text(cp)):
            self.skipTest('madoguchi-admin has no `%s` (DESIGN.md "Programs" lists it): %s'
                          % (' '.join(args[:2]), text(cp).splitlines()[0]))
        return cp

    def head(self):
        cp = self.admin('log', 'head')
        self.assertEqual(cp.returncode, 0, text(cp))
        m = re.search(r'\b[0-9a-fA-F]{64}\b', text(cp))
        self.assertIsNotNone(m, 'no hash in `log head`: ' + text(cp))
        return m.group(0)

    def test_1_log_query_and_verify(self):
        cp = self.admin('log')
        self.assertEqual(cp.returncode, 0, text(cp))
        cp = self.admin('crl', 'status')
        self.assertEqual(cp.returncode, 0, text(cp))
        cp = self.admin('log', 'verify')
        self.assertEqual(cp.returncode, 0, text(cp))
        head = self.head()
        cp = self.admin('log', 'verify', '--head', head)
        self.assertEqual(cp.returncode, 0, text(cp))
        cp = self.admin('log', 'verify', '--head', '0' * 64)
        self.assertNotEqual(cp.returncode, 0, text(cp))

    def test_2_head_moves_with_acceptances(self):
        before = self.head()
        a = self.daemon.submit('valid-04', 'revocation')
        self.assertAnswer(a, 'accepted', 'revocation', 201)
        after = self.head()
        self.assertNotEqual(before, after)
        cp = self.admin('log', 'verify', '--head', after)
        self.assertEqual(cp.returncode, 0, text(cp))

    def test_3_cut_from_the_end_is_detected_with_head(self):
        head = self.head()
        try:
            sqlite(self.daemon.db, 'DELETE FROM acceptances WHERE seq = (SELECT max(seq) FROM acceptances);')
        except RuntimeError as e:
            self.skipTest('cannot delete a row behind the store (%s)' % str(e)[:200])
        cp = self.admin('log', 'verify', '--head', head)
        self.assertNotEqual(cp.returncode, 0, 'a cut log verified against the old head: ' + text(cp))

    def test_4_tampering_is_detected(self):
        try:
            sqlite(self.daemon.db, "UPDATE acceptances SET reason = "
                   "CASE reason WHEN 'superseded' THEN 'keyCompromise' ELSE 'superseded' END "
                   "WHERE seq = (SELECT min(seq) FROM acceptances);")
        except RuntimeError as e:
            self.skipTest('cannot update a row behind the store (%s)' % str(e)[:200])
        cp = self.admin('log', 'verify')
        self.assertNotEqual(cp.returncode, 0, 'a tampered log verified: ' + text(cp))
        self.assertGreater(cp.returncode, 0)


if __name__ == '__main__':
    harness.main()
