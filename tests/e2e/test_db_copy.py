"""madoguchi-admin db copy --to-config OTHER (DESIGN.md "Backends";
docs/operations.md "Moving from SQLite with db copy"): a SQLite window with
acceptances, CRLs and an export batch copied into a fresh PostgreSQL
database (a private cluster, tests/e2e/pgcluster.py) and back into a fresh
SQLite file; `log verify` and the same `log head` on every side; receipts
on at the source, so its checkpoints go along and the Merkle tree's nodes
(derived by the target) and root are the same everywhere, `log verify`
checking the root against the latest checkpoint's signature; a daemon on
the copy answers revocationAccepted with the original receipt and revoked
for a CRL-listed certificate; a target that holds rows is refused with
nothing written.

The PostgreSQL parts are skipped with their reason when no PostgreSQL
server binaries are installed; the SQLite-to-SQLite parts always run."""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import pgcluster  # noqa: E402
from harness import Daemon, sqlite  # noqa: E402
from test_receipts import receipts_text  # noqa: E402

WHY_NOT = pgcluster.available()
HOLDERS = [('valid-01', 'keyCompromise'), ('valid-02', 'unspecified'), ('valid-03', 'affiliationChanged')]


def text(cp):
    return (cp.stdout + cp.stderr).decode('utf-8', 'replace')


CHECKPOINTS = 'SELECT tree_size, hex(root), made_at_ms FROM checkpoints ORDER BY tree_size;'
NODES = 'SELECT level, idx, hex(hash) FROM merkle_nodes ORDER BY level, idx;'


def sqlite_daemon(pki, name, init_db=False, interval='1h'):
    work = harness.make_tmpdir('mdg-e2e-%s-' % name)
    return Daemon(pki, name=name, workdir=work, database=os.path.join(work, 'm.db'), init_db=init_db,
                  extra_text=receipts_text(pki, interval))


def crl_status(d):
    """crl status --format json without the time it was asked (checkedAt)."""
    doc = json.loads(d.admin('crl', 'status', '--format', 'json').stdout)
    doc.pop('checkedAt')
    return doc


def wait_checkpoint(d, size, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        cp = d.admin('log', 'checkpoint')
        if cp.returncode == 0 and cp.stdout.decode().split('\n')[1] == str(size):
            return cp.stdout
        time.sleep(0.2)
    raise AssertionError('no checkpoint of size %d within %ds' % (size, timeout))


class DbCopy(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.pki = harness.shared_pki()
        cls.src = sqlite_daemon(cls.pki, 'copy-src', init_db=True, interval='1s')
        cls.src.start()
        try:
            cls.answers = cls.src.revoke_all(HOLDERS[:2])
            wait_checkpoint(cls.src, 2)
            out = os.path.join(cls.src.dir, 'batch1.csv')
            cls.src.admin_ok('log', 'export', '--new', '--out', out)
            cls.answers.update(cls.src.revoke_all(HOLDERS[2:]))
            cls.checkpoint = wait_checkpoint(cls.src, 3)
        finally:
            cls.src.stop_and_check()
        cls.head = cls.src.admin_ok('log', 'head', '--format', 'json').stdout
        cls.checkpoints = sqlite(cls.src.db, CHECKPOINTS)
        cls.nodes = sqlite(cls.src.db, NODES)
        # the empty tree's (at the start), size 2's and size 3's at least
        sizes = [int(line.split('|')[0]) for line in cls.checkpoints.splitlines()]
        assert sizes[0] == 0 and 2 in sizes and sizes[-1] == 3, sizes
        cls.batch1 = cls.src.admin_ok('log', 'export', '--batch', '1', '--format', 'jsonl').stdout

    def copy(self, frm, to):
        cp = frm.admin('db', 'copy', '--to-config', to.config)
        self.assertEqual(cp.returncode, 0, text(cp))
        out = cp.stdout.decode()
        self.assertTrue(out.startswith('ok: copied '), out)
        self.assertIn('3 acceptances', out)
        self.assertIn('%d checkpoints;' % len(self.checkpoints.splitlines()), out)
        self.assertIn('the chain and the Merkle tree verify on both sides', out)
        return out

    def same_everywhere(self, d):
        """log verify passes, the same head, the same export batch, the same CRLs."""
        cp = d.admin('log', 'verify')
        self.assertEqual(cp.returncode, 0, text(cp))
        self.assertIn('root matches the latest checkpoint (size 3, signature verified', text(cp))
        self.assertEqual(d.admin_ok('log', 'checkpoint').stdout, self.checkpoint)
        self.assertEqual(sqlite(d.db, CHECKPOINTS), self.checkpoints)
        self.assertEqual(sqlite(d.db, NODES), self.nodes)
        self.assertEqual(d.admin_ok('log', 'head', '--format', 'json').stdout, self.head)
        self.assertEqual(d.admin_ok('log', 'export', '--batch', '1', '--format', 'jsonl').stdout, self.batch1)
        self.assertEqual(crl_status(d), crl_status(self.src))
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
        self.answers_as_before(dst)

    @unittest.skipIf(WHY_NOT, WHY_NOT)
    def test_2_sqlite_to_pg_and_back(self):
        cluster = pgcluster.shared()
        pg = Daemon(self.pki, name='copy-pg', init_db=False,
                    database=harness.PgDb(cluster, cluster.new_database('copy')),
                    extra_text=receipts_text(self.pki, '1h'))
        out = self.copy(self.src, pg)
        self.assertIn('initialised first', out)
        self.same_everywhere(pg)
        # back from PostgreSQL into a fresh SQLite file (before the daemon
        # on the copy makes a checkpoint of its own)
        back = sqlite_daemon(self.pki, 'copy-back')
        self.copy(pg, back)
        self.same_everywhere(back)
        self.answers_as_before(pg)
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
