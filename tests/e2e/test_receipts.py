"""Receipts and the acceptance log (issue 15, DESIGN.md "Receipts and the
log's Merkle tree"): CMS receipts verified with the stock `openssl cms
-verify`, checkpoints and proofs verified with tests/e2e/tlog.py (written
apart from the server's C code), the root recomputed from all leaves, a
consistency proof between two checkpoints, the log endpoints' statuses,
and `log verify` / `log checkpoint`."""

import base64
import glob
import hashlib
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import tlog  # noqa: E402
from harness import Daemon, run, shared_pki, sqlite  # noqa: E402

CONTENT_KEYS = ['receiptId', 'procedure', 'issuer', 'serial', 'acceptedAt', 'effectiveFrom',
                'reason', 'requestSha256', 'logIndex']


def receipts_text(pki, interval='1s'):
    r = os.path.join(pki.dir, 'receipts')
    return ('[receipts]\nkey = %s\ncert = %s\nlog_key = %s\ncheckpoint_interval = %s\n' % (
        os.path.join(r, 'receipt.key.pem'), os.path.join(r, 'receipt.cert.pem'),
        os.path.join(r, 'log.key.pem'), interval))


def anchors_file(pki):
    path = os.path.join(pki.root, 'anchors-all.pem')
    if not os.path.exists(path):
        with open(path, 'wb') as out:
            for p in sorted(glob.glob(os.path.join(pki.anchors, '*.pem'))):
                with open(p, 'rb') as f:
                    out.write(f.read())
    return path


def cms_verify(pki, receipt_b64):
    """The content `openssl cms -verify` prints for a receipt (bytes)."""
    der = base64.b64decode(receipt_b64, validate=True)
    cp = subprocess.run(['openssl', 'cms', '-verify', '-inform', 'DER', '-CAfile', anchors_file(pki),
                         '-purpose', 'any'], input=der, capture_output=True, timeout=30)
    if cp.returncode != 0:
        raise AssertionError('openssl cms -verify failed: %s' % cp.stderr.decode('utf-8', 'replace'))
    return cp.stdout


class ReceiptsCase(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.pki = shared_pki()
        cls.d = Daemon(cls.pki, name='receipts', extra_text=receipts_text(cls.pki))
        cls.d.start()
        cls.vkey = cls.d.get('/v1/log/key').body.decode('utf-8').strip()
        cls.holders = ['valid-%02d' % i for i in range(1, 9)]
        cls.answers = {}
        cls.bodies = {}

    @classmethod
    def tearDownClass(cls):
        cls.d.stop_and_check()

    def revoke(self, h, reason='keyCompromise'):
        body = self.d.signed(h, 'revocation', reason)
        a = self.d.post('/v1/revocations', body)
        return a, body

    def wait_proof(self, rid, timeout=6):
        deadline = time.time() + timeout
        while True:
            a = self.d.get('/v1/log/proof/' + rid)
            if a.status == 200 or time.time() > deadline:
                return a
            self.assertEqual(a.status, 503, a.body)
            self.assertEqual(a.header('Retry-After'), '1')
            time.sleep(0.2)

    def wait_checkpoint(self, size, timeout=6):
        deadline = time.time() + timeout
        while time.time() < deadline:
            a = self.d.get('/v1/log/checkpoint')
            if a.status == 200:
                _, n, root = tlog.open_checkpoint(a.body, self.vkey)
                if n >= size:
                    return a.body, n, root
            time.sleep(0.2)
        raise AssertionError('no checkpoint of size >= %d within %ds' % (size, timeout))

    def test_1_receipts_proofs_root(self):
        contents = []
        for i, h in enumerate(self.holders[:5]):
            a, body = self.revoke(h)
            self.assertEqual(a.status, 201, a.body)
            j = a.json
            self.assertIn('receipt', j)
            content = cms_verify(self.pki, j['receipt'])
            c = json.loads(content)
            self.assertEqual(list(c), CONTENT_KEYS)
            self.assertEqual(content, json.dumps(c, ensure_ascii=False, separators=(',', ':')).encode())
            self.assertEqual(c['receiptId'], j['receiptId'])
            self.assertEqual(c['acceptedAt'], j['acceptedAt'])
            self.assertEqual(c['effectiveFrom'], j['effectiveFrom'])
            self.assertEqual(c['serial'], j['certificate']['serial'])
            self.assertEqual(c['issuer'], j['certificate']['issuer'])
            self.assertEqual(c['reason'], 'keyCompromise')
            self.assertEqual(c['requestSha256'], hashlib.sha256(body).hexdigest())
            self.assertEqual(c['logIndex'], i)
            self.answers[h] = j
            contents.append(content)
        # every acceptance's inclusion proof, against a verified checkpoint
        for h in self.holders[:5]:
            rid = self.answers[h]['receiptId']
            a = self.wait_proof(rid)
            self.assertEqual(a.status, 200, a.body)
            self.assertEqual(a.header('Cache-Control'), 'no-store')
            p = a.json
            self.assertEqual(list(p), ['receiptId', 'logIndex', 'treeSize', 'leaf', 'inclusion',
                                       'checkpoint'])
            leaf = base64.b64decode(p['leaf'], validate=True)
            self.assertEqual(leaf, contents[p['logIndex']])
            _, size, root = tlog.open_checkpoint(p['checkpoint'], self.vkey)
            self.assertEqual(size, p['treeSize'])
            tlog.verify_inclusion(p['logIndex'], size, tlog.leaf_hash(leaf),
                                  [base64.b64decode(x, validate=True) for x in p['inclusion']], root)
        # the root recomputed from all leaves
        note, size, root = self.wait_checkpoint(5)
        self.assertEqual(size, 5)
        self.assertEqual(tlog.root(contents), root)
        # log checkpoint prints what the endpoint serves
        cp = self.d.admin_ok('log', 'checkpoint')
        self.assertEqual(cp.stdout, note)
        cp = self.d.admin_ok('log', 'verify')
        self.assertIn(b'root matches the latest checkpoint (size 5, signature verified', cp.stdout)
        type(self).contents = contents
        type(self).first = (size, root)

    def test_2_consistency_and_repeat(self):
        m, root_m = self.first
        contents = list(self.contents)
        for h in self.holders[5:8]:
            a, _ = self.revoke(h, 'superseded')
            self.assertEqual(a.status, 201, a.body)
            contents.append(cms_verify(self.pki, a.json['receipt']))
        _, n, root_n = self.wait_checkpoint(8)
        self.assertEqual(tlog.root(contents), root_n)
        a = self.d.get('/v1/log/consistency?from=%d&to=%d' % (m, n))
        self.assertEqual(a.status, 200, a.body)
        self.assertEqual(a.json['from'], m)
        self.assertEqual(a.json['to'], n)
        tlog.verify_consistency(m, n, root_m, root_n,
                                [base64.b64decode(x, validate=True) for x in a.json['proof']])
        # each intermediate size too (roots from the test's own tree)
        hashes = [tlog.leaf_hash(c) for c in contents]
        for k in range(1, n + 1):
            a = self.d.get('/v1/log/consistency?from=%d&to=%d' % (k, n))
            self.assertEqual(a.status, 200, a.body)
            tlog.verify_consistency(k, n, tlog.root_of_hashes(hashes[:k]), root_n,
                                    [base64.b64decode(x, validate=True) for x in a.json['proof']])
        # revocationAccepted repeats the original's receipt content
        h = self.holders[0]
        a, _ = self.revoke(h)
        self.assertEqual(a.json['result'], 'revocationAccepted', a.body)
        self.assertEqual(a.json['receiptId'], self.answers[h]['receiptId'])
        self.assertEqual(cms_verify(self.pki, a.json['receipt']), self.contents[0])

    def test_3_statuses_no_personal_data(self):
        bodies = []
        a = self.d.get('/v1/log/proof/' + 'f' * 32)
        self.assertEqual(a.status, 404, a.body)
        self.assertEqual(a.json['result'], 'malformed')
        bodies.append(a.body)
        for q in ('from=0&to=1', 'from=2&to=1', 'from=1&to=999999', 'from=x&to=1', 'to=1', '',
                  'from=01&to=1'):
            a = self.d.get('/v1/log/consistency?' + q)
            self.assertEqual(a.status, 400, (q, a.body))
            self.assertEqual(a.json['result'], 'malformed')
            self.assertEqual(a.header('Cache-Control'), 'no-store')
        self.assertEqual(self.d.get('/v1/log/nothing').status, 404)
        self.assertEqual(self.d.request('POST', '/v1/log/checkpoint', b'', {}).status, 405)
        for path in ('/v1/log/checkpoint', '/v1/log/key'):
            a = self.d.get(path)
            self.assertEqual(a.status, 200)
            self.assertTrue(a.header('Content-Type').startswith('text/plain'))
            self.assertEqual(a.header('Cache-Control'), 'no-store')
            bodies.append(a.body)
        for j in self.answers.values():
            a = self.d.get('/v1/log/proof/' + j['receiptId'])
            if a.status == 200:
                bodies.append(a.body)
                bodies.append(base64.b64decode(a.json['leaf']))
        text = b'\n'.join(bodies).decode('utf-8')
        leaked = [s for s in self.pki.personal_strings() if s in text]
        self.assertEqual(leaked, [])


class NotCoveredAndTamper(unittest.TestCase):
    """checkpoint_interval 1h: the start's empty checkpoint, then none."""

    @classmethod
    def setUpClass(cls):
        cls.pki = shared_pki()
        cls.d = Daemon(cls.pki, name='receipts-slow', extra_text=receipts_text(cls.pki, '1h'))
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop_and_check()

    def test_busy_then_tamper(self):
        a = self.d.submit('valid-20', 'revocation', reason='keyCompromise')
        self.assertEqual(a.status, 201, a.body)
        rid = a.json['receiptId']
        a = self.d.get('/v1/log/proof/' + rid)
        self.assertEqual(a.status, 503, a.body)
        self.assertEqual(a.json['result'], 'busy')
        self.assertEqual(a.header('Retry-After'), '1')
        self.d.admin_ok('log', 'verify')
        # a row changed outside madoguchi (on postgresql through psql):
        # log verify names it
        sqlite(self.d.db, "UPDATE acceptances SET effective_from = '2099-01-01T00:00:00+09:00' "
                          "WHERE receipt_id = '%s';" % rid)
        cp = self.d.admin('log', 'verify')
        self.assertNotEqual(cp.returncode, 0)
        err = cp.stderr.decode('utf-8')
        self.assertIn('FAILED at seq 1', err)
        self.assertIn(rid, err)


class NoReceipts(harness.DaemonCase):
    def test_no_log_endpoints(self):
        for path in ('/v1/log/checkpoint', '/v1/log/key', '/v1/log/proof/' + 'a' * 32,
                     '/v1/log/consistency?from=1&to=1'):
            a = self.daemon.get(path)
            self.assertEqual(a.status, 404, path)
        a = self.daemon.submit('valid-30', 'revocation')
        self.assertEqual(a.status, 201)
        self.assertNotIn('receipt', a.json)


class BadReceiptFiles(unittest.TestCase):
    def test_start_error(self):
        pki = shared_pki()
        d = Daemon(pki, name='receipts-bad', extra_text=receipts_text(pki).replace(
            'receipt.key.pem', 'missing.key.pem'))
        cp = run([harness.DAEMON, '--config', d.config, '--check-config'])
        self.assertNotEqual(cp.returncode, 0)
        self.assertIn(b'[receipts] key/cert', cp.stderr)
        d2 = Daemon(pki, name='receipts-ok', extra_text=receipts_text(pki), init_db=True)
        cp = run([harness.DAEMON, '--config', d2.config, '--check-config'])
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertIn(b'receipts on', cp.stdout)


if __name__ == '__main__':
    unittest.main(verbosity=2)
