"""No answer rests on a row a failover could still lose (docs/store.md
"PostgreSQL", "At a failover"). PostgreSQL makes a commit visible on the
primary before the synchronous standby has confirmed it when the wait
for the standby is cancelled. Answering from that row, `accepted` on the
node that committed it or `revocationAccepted` on another, would promise
an acceptance that a failover now would lose.

PostgreSQL keeps a commit invisible while it waits for the standby, but
a cancelled wait (pg_cancel_backend, a pooler, client_connection_check)
leaves it committed locally, visible, and not on the standby. The standby
is stopped so that A's COMMIT waits; the wait is cancelled: A must not
answer `accepted`, and B, which now sees the row, must not answer
`revocationAccepted` until the standby has it.
Runs on a private cluster (tests/e2e/pgcluster.py), Unix sockets only.
"""

import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import pgcluster  # noqa: E402
from harness import Daemon  # noqa: E402
from test_pg_nodes import Bodies, post  # noqa: E402

WHY_NOT = pgcluster.available()


@unittest.skipIf(WHY_NOT, WHY_NOT)
class SettleBeforeAnswer(unittest.TestCase):

    def setUp(self):
        self.pki = harness.shared_pki()
        self.primary = pgcluster.Cluster(name='settle').init().start()
        self.dbname = self.primary.new_database('settle')
        self.standby = self.primary.make_standby('settle_sb')
        db = harness.PgDb(self.primary, self.dbname)
        opts = {'nonce_ttl': '3600s'}
        self.a = Daemon(self.pki, name='settle-a', database=db, server={'threads': '2'}, pki_opts=opts)
        self.b = Daemon(self.pki, name='settle-b', database=db, init_db=False, nonce_key=self.a.nonce_key,
                        server={'threads': '2'}, pki_opts=opts)
        self.a.start()
        self.b.start()

    def tearDown(self):
        if not self.standby.running():
            self.standby.start()
        for d in (self.a, self.b):
            if d.proc is not None:
                d.stop_and_check()
        self.standby.stop('immediate')
        self.primary.stop('immediate')

    def rows(self):
        return int(self.primary.psql(self.dbname, 'SELECT count(*) FROM acceptances'))

    def answer_in_thread(self, node, body):
        box = {}

        def go():
            box['answer'] = post(node.port, body, timeout=60)

        t = threading.Thread(target=go, daemon=True)
        t.start()
        return t, box

    def sync_waiters(self):
        return self.primary.psql(self.dbname, "SELECT pid FROM pg_stat_activity WHERE wait_event = 'SyncRep'").split()

    def wait_for_sync_waiter(self):
        deadline = time.time() + 20
        while not self.sync_waiters() and time.time() < deadline:
            time.sleep(0.05)
        self.assertTrue(self.sync_waiters(), 'no COMMIT waits for the standby')

    def test_unconfirmed_row_is_not_answered_from(self):
        body = Bodies(self.pki, self.a, 1, 'settle').v[0]
        self.standby.stop('fast')
        ta, a = self.answer_in_thread(self.a, body)
        self.wait_for_sync_waiter()
        self.assertEqual(self.rows(), 0, 'a row visible before its COMMIT returned')
        self.assertTrue(ta.is_alive(), 'A answered before the standby confirmed: %r' % (a,))
        # an operator (or a pooler) cancels the wait: PostgreSQL then makes
        # the commit visible on the primary though the standby lacks it
        for pid in self.sync_waiters():
            self.primary.psql(self.dbname, 'SELECT pg_cancel_backend(%s)' % pid)
        ta.join(20)
        self.assertFalse(ta.is_alive(), 'A did not answer after the cancel')
        self.assertEqual(self.rows(), 1, 'the cancelled commit is not visible on the primary')
        self.assertNotEqual(a["answer"][0], "accepted", 'A acknowledged a commit the standby lacks: %r' % (a,))
        self.assertEqual(a['answer'][0], 'serviceError', a)
        # B finds that row: it must not promise it while the standby lacks it
        tb, b = self.answer_in_thread(self.b, body)
        tb.join(3)
        self.assertTrue(tb.is_alive(), 'B answered from a row the standby does not hold: %r' % (b,))
        self.standby.start()
        tb.join(30)
        self.assertFalse(tb.is_alive(), 'no answer after the standby came back')
        rid = self.primary.psql(self.dbname, 'SELECT receipt_id FROM acceptances')
        self.assertEqual(b['answer'][:3], ('revocationAccepted', rid, 409), b)
        # asked again, A answers at once: the row is on the standby now
        t0 = time.time()
        g = post(self.a.port, body)
        self.assertEqual(g[:2], ('revocationAccepted', rid), g)
        self.assertLess(time.time() - t0, 10)
        self.assertEqual(self.standby.psql(self.dbname, 'SELECT receipt_id FROM acceptances'), rid)


if __name__ == '__main__':
    unittest.main(verbosity=2)
