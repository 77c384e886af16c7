"""madoguchi-admin db copy --to-config OTHER (DESIGN.md "Backends";
docs/operations.md "Moving from SQLite with db copy"): a SQLite window with
acceptances, CRLs and an export batch copied into a fresh PostgreSQL
database (a private cluster, tests/e2e/pgcluster.py) and back into a fresh
SQLite file; `log verify` and the same `log head` on every side; a daemon on
the copy answers revocationAccepted with the original receipt and revoked
for a CRL-listed certificate; a target that holds rows is refused with
nothing written.

The PostgreSQL parts are skipped with their reason when no PostgreSQL
server binaries are installed; the SQLite-to-SQLite parts always run."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import pgcluster  # noqa: E402
from harness import Daemon, sqlite  # noqa: E402

WHY_NOT = pgcluster.available()
HOLDERS = [('valid-01', 'keyCompromise'), ('valid-02', 'unspecified'), ('valid-03', 'affiliationChanged')]


def text(cp):
    return (cp.stdout + cp.stderr).decode('utf-8', 'replace')


def sqlite_daemon(pki, name, init_db=False):
    work = harness.make_tmpdir('mdg-e2e-%s-' % name)
    return Daemon(pki, name=name, workdir=work, database=os.path.join(work, 'm.db'), init_db=init_db)


class DbCopy(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.pki = harness.shared_pki()
        cls.src = sqlite_daemon(cls.pki, 'copy-src', init_db=True)
        cls.src.start()
        try:
            cls.answers = cls.src.revoke_all(HOLDERS[:2])
            out = os.path.join(cls.src.dir, 'batch1.csv')
            cls.src.admin_ok('log', 'export', '--new', '--out', out)
            cls.answers.update(cls.src.revoke_all(HOLDERS[2:]))
        finally:
            cls.src.stop_and_check()
        cls.head = cls.src.admin_ok('log', 'head', '--format', 'json').stdout
        cls.batch1 = cls.src.admin_ok('log', 'export', '--batch', '1', '--format', 'jsonl').stdout

    def copy(self, frm, to):
        cp = frm.admin('db', 'copy', '--to-config', to.config)
        self.assertEqual(cp.returncode, 0, text(cp))
        out = cp.stdout.decode()
        self.assertTrue(out.startswith('ok: copied '), out)
        self.assertIn('3 acceptances', out)
        self.assertIn('the chain verifies on both sides', out)
        return out

    def same_everywhere(self, d):
        """log verify passes, the same head, the same export batch, the same CRLs."""
        cp = d.admin('log', 'verify')
        self.assertEqual(cp.returncode, 0, text(cp))
        self.assertEqual(d.admin_ok('log', 'head', '--format', 'json').stdout, self.head)
        self.assertEqual(d.admin_ok('log', 'export', '--batch', '1', '--format', 'jsonl').stdout, self.batch1)
        self.assertEqual(d.admin('crl', 'status', '--format', 'json').stdout,
                         self.src.admin('crl', 'status', '--format', 'json').stdout)
        full = 'SELECT seq, receipt_id, hex(issuer), hex(serial), hex(cert_sha256), accepted_at, reason,' \
               ' holder_name, hex(request), hex(request_sha256), client_addr, effective_from,' \
               ' export_batch, hex(prev_hash), hex(hash), cert_not_after, hex(cert_subject)' \
               ' FROM acceptances ORDER BY seq;'
        self.assertEqual(sqlite(d.db, full), sqlite(self.src.db, full))
        crls = 'SELECT id, hex(issuer), hex(dp), hex(dp_key), hex(number), this_update, next_update,' \
               ' imported_at, hex(sha256), entries, retired_at FROM crls ORDER BY id;'
        self.assertEqual(sqlite(d.db, crls), sqlite(self.src.db, crls))
        ent = 'SELECT crl_id, hex(serial), revoked_at, reason FROM crl_entries ORDER BY crl_id, hex(serial);'
        self.assertEqual(sqlite(d.db, ent), sqlite(self.src.db, ent))

    def answers_as_before(self, d):
        d.start()
        try:
            for h, _ in HOLDERS:
                a = d.submit(h, 'revocation', reason='keyCompromise')
                self.assertEqual((a.status, a.result), (409, 'revocationAccepted'), a)
                self.assertEqual(a.json['receiptId'], self.answers[h]['receiptId'])
            a = d.submit('revoked', 'validity-check')
            self.assertEqual((a.status, a.result), (200, 'revoked'), a)
        finally:
            d.stop_and_check()

    def test_1_sqlite_to_sqlite(self):
        dst = sqlite_daemon(self.pki, 'copy-sq')
        self.copy(self.src, dst)
        self.same_everywhere(dst)
        nodes = 'SELECT level, idx, hex(hash) FROM merkle_nodes ORDER BY level, idx;'
        self.assertEqual(sqlite(dst.db, nodes), sqlite(self.src.db, nodes))
        self.answers_as_before(dst)

    @unittest.skipIf(WHY_NOT, WHY_NOT)
    def test_2_sqlite_to_pg_and_back(self):
        cluster = pgcluster.shared()
        pg = Daemon(self.pki, name='copy-pg', init_db=False,
                    database=harness.PgDb(cluster, cluster.new_database('copy')))
        out = self.copy(self.src, pg)
        self.assertIn('initialised first', out)
        self.assertIn('the target keeps no Merkle tree', out)
        self.same_everywhere(pg)
        self.answers_as_before(pg)
        # back from PostgreSQL into a fresh SQLite file
        back = sqlite_daemon(self.pki, 'copy-back')
        out = self.copy(pg, back)
        self.assertIn('the source keeps no Merkle tree', out)
        self.same_everywhere(back)
        self.answers_as_before(back)
        # a PostgreSQL target that holds rows is refused too
        again = pg.admin('db', 'copy', '--to-config', pg.config)
        self.assertEqual(again.returncode, 1, text(again))
        cp = back.admin('db', 'copy', '--to-config', pg.config)
        self.assertEqual(cp.returncode, 1, text(cp))
        self.assertIn('is not empty (table acceptances holds rows): nothing copied', text(cp))
        self.assertEqual(pg.admin_ok('log', 'head', '--format', 'json').stdout, self.head)

    def test_3_refuses_a_target_with_rows(self):
        # CRLs only (db init + crl import): not empty either
        dst = sqlite_daemon(self.pki, 'copy-full', init_db=True)
        before = sqlite(dst.db, 'SELECT count(*) FROM crls; SELECT count(*) FROM crl_entries;')
        cp = self.src.admin('db', 'copy', '--to-config', dst.config)
        self.assertEqual(cp.returncode, 1, text(cp))
        self.assertIn('is not empty (table crls holds rows): nothing copied', text(cp))
        self.assertEqual(sqlite(dst.db, 'SELECT count(*) FROM crls; SELECT count(*) FROM crl_entries;'), before)
        self.assertEqual(sqlite(dst.db, 'SELECT count(*) FROM acceptances;'), '0')
        # the same store named twice
        cp = self.src.admin('db', 'copy', '--to-config', self.src.config)
        self.assertEqual(cp.returncode, 1, text(cp))
        self.assertIn('names the same store', text(cp))
        # no --to-config: a usage error
        self.assertEqual(self.src.admin('db', 'copy').returncode, 2)


if __name__ == '__main__':
    unittest.main(verbosity=2)
