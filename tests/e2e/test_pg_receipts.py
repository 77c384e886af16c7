"""Receipts and the log's Merkle tree on PostgreSQL with two nodes (issue
15; DESIGN.md "Receipts and the log's Merkle tree", "Backends"; docs/store.md
"PostgreSQL"): two daemons on one database with receipts on, revocations
spread over both (several at once), and then, checked with the test-side
verifier (tests/e2e/tlog.py, not the server's code):
- the checkpoints in the database, from either node, form one sequence:
  sizes strictly growing in the order they were made, each note signed by
  the log key, each root the root of the first `size` leaves;
- both nodes serve the same latest checkpoint;
- the inclusion proof from either node of every acceptance verifies
  against the checkpoint it comes with;
- a consistency proof between two checkpoints, from either node, verifies;
- the root recomputed from all leaves (the receipts' contents, verified
  with `openssl cms -verify`) is the latest checkpoint's;
- `log verify` passes.
And the tree of rows written without it: `db migrate` from pg schema
version 1 (migration 2 computes the nodes of the rows held, the same as
those written with the rows), and rows whose nodes are missing (the next
append catches up from the rows, in its transaction).

Runs on a private cluster (tests/e2e/pgcluster.py); skipped with its
reason when no PostgreSQL server binaries are installed."""

import base64
import concurrent.futures
import http.client
import json
import os
import random
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import pgcluster  # noqa: E402
import tlog  # noqa: E402
from harness import Daemon, make_form, sign  # noqa: E402
from test_crash import make_certs  # noqa: E402
from test_receipts import cms_verify, receipts_text  # noqa: E402

WHY_NOT = pgcluster.available()
N = 40


def post(port, body, timeout=30):
    """(status, answer JSON) of one revocation."""
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
    try:
        conn.request('POST', '/v1/revocations', body, {'Content-Type': 'application/pkcs7-mime'})
        r = conn.getresponse()
        return r.status, json.loads(r.read())
    finally:
        conn.close()


def b64list(v):
    return [base64.b64decode(x, validate=True) for x in v]


@unittest.skipIf(WHY_NOT, WHY_NOT)
class TwoNodesOneLog(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.pki = harness.shared_pki()
        cls.cluster = pgcluster.shared()
        cls.db = harness.PgDb(cls.cluster, cls.cluster.new_database('rcpt'))
        opts = {'nonce_ttl': '3600s'}
        text = receipts_text(cls.pki, '1s')
        cls.a = Daemon(cls.pki, name='rcpt-a', database=cls.db, server={'threads': '4'}, pki_opts=opts,
                       extra_text=text)
        cls.b = Daemon(cls.pki, name='rcpt-b', database=cls.db, init_db=False, nonce_key=cls.a.nonce_key,
                       server={'threads': '4'}, pki_opts=opts, extra_text=text)
        cls.a.start()
        cls.b.start()
        cls.nodes = (cls.a, cls.b)
        cls.vkey = cls.a.get('/v1/log/key').body.decode('utf-8').strip()

    @classmethod
    def tearDownClass(cls):
        for d in (getattr(cls, 'a', None), getattr(cls, 'b', None)):
            if d is not None and d.proc is not None:
                d.stop_and_check()

    def stored_checkpoints(self):
        """(id, size, note) of every checkpoint in the database, by id."""
        out = self.cluster.psql(self.db.dbname,
                                "SELECT id, tree_size, encode(convert_to(note, 'UTF8'), 'hex')"
                                " FROM checkpoints ORDER BY id")
        rows = []
        for line in out.splitlines():
            i, n, h = line.split('|')
            rows.append((int(i), int(n), bytes.fromhex(h)))
        return rows

    def wait_checkpoint(self, node, size, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            a = node.get('/v1/log/checkpoint')
            if a.status == 200:
                _, n, root = tlog.open_checkpoint(a.body, self.vkey)
                if n >= size:
                    return a.body, n, root
            time.sleep(0.2)
        raise AssertionError('%s: no checkpoint of size >= %d within %ds' % (node.name, size, timeout))

    def test_two_nodes_one_log(self):
        # N distinct certificates (test_crash's maker), in three waves over
        # both nodes, several at once, so that checkpoints are made between
        work = harness.make_tmpdir('mdg-e2e-rcptcerts-')
        base = random.SystemRandom().getrandbits(56) | (1 << 60)
        key, certs = make_certs(self.pki, work, N, base)
        nonce = self.a.get_nonce()
        app = self.pki.holder('valid-01')['applicant']
        bodies = [sign(make_form('revocation', app, nonce, 'keyCompromise'), c, key) for c in certs]
        answers = [None] * N
        waves = [range(0, 10), range(10, 25), range(25, N)]
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            for w, wave in enumerate(waves):
                got = list(ex.map(lambda i: post(self.nodes[i % 2].port, bodies[i]), wave))
                for i, g in zip(wave, got):
                    answers[i] = g
                self.wait_checkpoint(self.nodes[w % 2], wave[-1] + 1)
        for i, (status, j) in enumerate(answers):
            self.assertEqual((status, j.get('result')), (201, 'accepted'), (i, j))
        # the leaves: each receipt's content (openssl cms -verify), by index
        contents = {}
        for status, j in answers:
            c = cms_verify(self.pki, j['receipt'])
            contents[json.loads(c)['logIndex']] = c
        self.assertEqual(sorted(contents), list(range(N)))
        leaves = [contents[i] for i in range(N)]
        hashes = [tlog.leaf_hash(c) for c in leaves]

        # one sequence of checkpoints from either node: sizes strictly
        # growing in the order made, each signed by the log key, each root
        # the root of the first `size` leaves
        _, n, root = self.wait_checkpoint(self.a, N)
        self.assertEqual(n, N)
        stored = self.stored_checkpoints()
        sizes = [s for _, s, _ in stored]
        self.assertEqual(sizes, sorted(set(sizes)), 'checkpoint sizes not strictly growing: %s' % sizes)
        self.assertGreaterEqual(len(stored), 4, sizes)  # the empty tree's, and one per wave at least
        roots = {}
        for _, size, note in stored:
            _, got_size, got_root = tlog.open_checkpoint(note, self.vkey)
            self.assertEqual(got_size, size)
            self.assertEqual(got_root, tlog.root_of_hashes(hashes[:size]), size)
            roots[size] = got_root
        # the root recomputed from all leaves is the latest's, on both nodes
        self.assertEqual(tlog.root(leaves), root)
        for d in self.nodes:
            note, size, r = self.wait_checkpoint(d, N)
            self.assertEqual((size, r), (N, root), d.name)
            self.assertEqual(note, stored[-1][2], d.name)

        # every acceptance's inclusion proof, from either node
        for i, (status, j) in enumerate(answers):
            for d in self.nodes:
                a = d.get('/v1/log/proof/' + j['receiptId'])
                self.assertEqual(a.status, 200, (d.name, a.body))
                p = a.json
                leaf = base64.b64decode(p['leaf'], validate=True)
                self.assertEqual(leaf, contents[p['logIndex']])
                _, size, r = tlog.open_checkpoint(p['checkpoint'], self.vkey)
                self.assertEqual(size, p['treeSize'])
                tlog.verify_inclusion(p['logIndex'], size, tlog.leaf_hash(leaf), b64list(p['inclusion']), r)

        # a consistency proof between two checkpoints, from either node
        pairs = [(m, k) for m in roots for k in roots if 0 < m < k]
        self.assertTrue(pairs, sizes)
        for m, k in pairs:
            for d in self.nodes:
                a = d.get('/v1/log/consistency?from=%d&to=%d' % (m, k))
                self.assertEqual(a.status, 200, (d.name, a.body))
                self.assertEqual((a.json['from'], a.json['to']), (m, k))
                tlog.verify_consistency(m, k, roots[m], roots[k], b64list(a.json['proof']))
        # and the log itself
        for d in self.nodes:
            cp = d.admin('log', 'verify')
            self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
            self.assertIn(b'root matches the latest checkpoint (size %d, signature verified' % N, cp.stdout)
        print('two nodes: %d acceptances, checkpoints of sizes %s' % (N, sizes))


NODES = 'SELECT level, idx, hex(hash) FROM merkle_nodes ORDER BY level, idx;'
HOLDERS = [('valid-%02d' % i, 'keyCompromise') for i in range(1, 8)]
ACC_COLS = ('seq, receipt_id, issuer, serial, cert_sha256, accepted_at, reason, holder_name, request,'
            ' request_sha256, client_addr, effective_from, prev_hash, hash, cert_not_after, cert_subject,'
            ' accepted_unix')
PG_SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'schema', 'pg')


def psql(cluster, db, args, input=None):
    cp = subprocess.run([os.path.join(pgcluster.BIN, 'psql'), '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
                         '-d', cluster.dsn(db)] + args, input=input, capture_output=True, timeout=60)
    if cp.returncode != 0:
        raise AssertionError('psql %s: %s' % (args, cp.stderr.decode('utf-8', 'replace')))
    return cp.stdout


@unittest.skipIf(WHY_NOT, WHY_NOT)
class TreeOfRowsHeld(unittest.TestCase):
    def test_migration_and_catch_up(self):
        pki = harness.shared_pki()
        cluster = pgcluster.shared()
        db = harness.PgDb(cluster, cluster.new_database('rcptsrc'))
        d = Daemon(pki, name='rcpt-src', database=db)
        d.start()
        try:
            d.revoke_all(HOLDERS[:5])
        finally:
            d.stop_and_check()
        nodes = harness.sqlite(db, NODES)
        self.assertEqual(len(nodes.splitlines()), 5 + 2 + 1)  # leaves, pairs, the first four
        # a store made before the tree (pg schema version 1) holding those rows
        old = harness.PgDb(cluster, cluster.new_database('rcptmig'))
        psql(cluster, old.dbname, ['-f', os.path.join(PG_SCHEMA, '001_initial.sql')])
        psql(cluster, old.dbname, ['-c', 'CREATE TABLE mdg_schema_version (version INTEGER NOT NULL);'
                                   ' INSERT INTO mdg_schema_version VALUES (1)'])
        rows = psql(cluster, db.dbname, ['-c', 'COPY (SELECT %s FROM acceptances ORDER BY seq) TO STDOUT'
                                         % ACC_COLS])
        psql(cluster, old.dbname, ['-c', 'COPY acceptances (%s) FROM STDIN' % ACC_COLS], input=rows)
        m = Daemon(pki, name='rcpt-mig', database=old, init_db=False, extra_text=receipts_text(pki, '1s'))
        cp = m.admin('log', 'verify')
        self.assertNotEqual(cp.returncode, 0)
        self.assertIn(b'run madoguchi-admin db migrate', cp.stderr)
        cp = m.admin_ok('db', 'migrate')
        self.assertEqual(harness.sqlite(old, NODES), nodes, cp.stdout)
        m.admin_ok('log', 'verify')
        m.admin_ok('crl', 'import', *[pki.crl_file(c) for c in harness.DEFAULT_CRLS])
        # nodes missing for rows held (here, the last three leaves and
        # what they complete): the next append computes them from the rows
        cluster.psql(old.dbname, 'DELETE FROM merkle_nodes WHERE (idx + 1) * (1::int8 << level::int) > 2')
        m.start()
        try:
            more = m.revoke_all(HOLDERS[5:])
            vkey = m.get('/v1/log/key').body.decode('utf-8').strip()
            deadline = time.time() + 15
            while True:
                a = m.get('/v1/log/checkpoint')
                if a.status == 200 and tlog.open_checkpoint(a.body, vkey)[1] == len(HOLDERS):
                    break
                self.assertLess(time.time(), deadline, a.body)
                time.sleep(0.2)
            _, size, root = tlog.open_checkpoint(a.body, vkey)
            leaves = []
            for h, _ in HOLDERS:
                a = m.submit(h, 'revocation', reason='keyCompromise')
                self.assertEqual(a.result, 'revocationAccepted', a)
                leaves.append(cms_verify(pki, a.json['receipt']))
            self.assertEqual(tlog.root(leaves), root)
            self.assertEqual([json.loads(c)['receiptId'] for c in leaves[5:]],
                             [more[h]['receiptId'] for h, _ in HOLDERS[5:]])
        finally:
            m.stop_and_check()
        after = harness.sqlite(old, NODES).splitlines()
        self.assertEqual(len(after), 7 + 3 + 1)
        # the caught-up nodes of the first five leaves are the ones written with them
        self.assertEqual(sorted(set(nodes.splitlines()) - set(after)), [])
        cp = m.admin_ok('log', 'verify')
        self.assertIn(b'root matches the latest checkpoint (size 7, signature verified', cp.stdout)


if __name__ == '__main__':
    unittest.main(verbosity=2)
