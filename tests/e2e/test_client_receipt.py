"""madoguchi-client and receipts (issue 15 item 4): `revoke --receipt-out`
keeps the receipt of an acceptance (and of revocationAccepted, the same
content), and `receipt verify` checks it offline against the anchors and
online against the log: inclusion in a checkpoint signed by the log key.
Each failure has its own screen and exit status (docs/client.md)."""

import base64
import datetime
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import tlog  # noqa: E402
from harness import Daemon, shared_pki  # noqa: E402
from test_receipts import anchors_file, receipts_text  # noqa: E402

CLIENT = os.environ.get('MDG_CLIENT')

# docs/client.md "Exit status" (receipt verify)
EXIT = {'receiptVerified': 0, 'usage': 2, 'receiptUnreadable': 50, 'receiptSignatureInvalid': 51,
        'receiptSignerNotTrusted': 52, 'receiptNotInLog': 53, 'logEntryMismatch': 54,
        'checkpointNotVerified': 55, 'inclusionNotVerified': 56, 'networkError': 40,
        'badAnswer': 41}


def grouped(receipt_id):
    return ' '.join(receipt_id[i:i + 4] for i in range(0, len(receipt_id), 4))


def jst_date(rfc3339):
    t = datetime.datetime.fromisoformat(rfc3339.replace('Z', '+00:00'))
    return t.astimezone(datetime.timezone(datetime.timedelta(hours=9))).date()


def vkey_of(name, pub):
    """A C2SP verifier key for an Ed25519 public key (docs/receipts.md)."""
    import hashlib
    kid = hashlib.sha256(name.encode() + b'\n\x01' + pub).digest()[:4]
    return '%s+%s+%s' % (name, kid.hex(), base64.b64encode(b'\x01' + pub).decode())


class ClientReceipt(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        if not CLIENT or not os.path.exists(CLIENT):
            raise AssertionError('MDG_CLIENT (madoguchi-client) is missing')
        cls.pki = shared_pki()
        cls.d = Daemon(cls.pki, name='client-receipt', extra_text=receipts_text(cls.pki))
        cls.d.start()
        cls.vkey = cls.d.get('/v1/log/key').body.decode('utf-8').strip()
        cls.dir = harness.make_tmpdir('mdg-e2e-crcpt-')
        cls.anchors = anchors_file(cls.pki)
        cls.url = 'http://127.0.0.1:%d/' % cls.d.port
        # the first acceptance, kept with --receipt-out
        cls.path = os.path.join(cls.dir, 'receipt.der')
        cp = cls.run_client('revoke', '--url', cls.url, '--yes', '--json', '--reason', 'keyCompromise',
                            '--cert', cls.pki.holder('valid-03')['cert'],
                            '--key', cls.pki.holder('valid-03')['key'], '--receipt-out', cls.path)
        if cp.returncode != 0:
            raise AssertionError(cp.ctx)
        cls.revoke_cp = cp
        cls.answer = json.loads(cp.stdout)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop_and_check()

    @staticmethod
    def run_client(*args):
        e = dict(os.environ)
        e.pop('MADOGUCHI_PIN', None)
        cp = subprocess.run([CLIENT] + list(args), env=e, input=b'', capture_output=True, timeout=90)
        cp.out = cp.stdout.decode('utf-8', 'replace')
        cp.err = cp.stderr.decode('utf-8', 'replace')
        cp.ctx = 'exit %d\nstdout:\n%s\nstderr:\n%s' % (cp.returncode, cp.out[-3000:], cp.err[-2000:])
        return cp

    def verify(self, path, *args, cafile=None, online=False, log_key=None):
        a = ['receipt', 'verify', path, '--cafile', cafile or self.anchors]
        if online or log_key:
            a += ['--url', self.url, '--log-key', log_key or self.vkey]
        return self.run_client(*(a + list(args)))

    def assertOutcome(self, cp, name, *texts):
        self.assertEqual(cp.returncode, EXIT[name], cp.ctx)
        for t in texts:
            self.assertIn(t, cp.out + cp.err, cp.ctx)

    def write(self, name, data):
        p = os.path.join(self.dir, name)
        with open(p, 'wb') as f:
            f.write(data)
        return p

    def content(self):
        return json.loads(harness.run(['openssl', 'cms', '-verify', '-inform', 'DER', '-in', self.path,
                                       '-CAfile', self.anchors, '-purpose', 'any'],
                                      check=True).stdout)

    def sign(self, name, content):
        """A receipt of other content, signed with the test PKI's receipt key."""
        r = os.path.join(self.pki.dir, 'receipts')
        src = self.write(name + '.json', content)
        out = os.path.join(self.dir, name + '.der')
        harness.run(['openssl', 'cms', '-sign', '-binary', '-nodetach', '-outform', 'DER', '-md', 'sha256',
                     '-signer', os.path.join(r, 'receipt.cert.pem'),
                     '-inkey', os.path.join(r, 'receipt.key.pem'), '-in', src, '-out', out], check=True)
        return out

    def test_1_receipt_out(self):
        j = self.answer
        self.assertEqual(j['result'], 'accepted')
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o600)
        with open(self.path, 'rb') as f:
            der = f.read()
        self.assertEqual(der, base64.b64decode(j['receipt'], validate=True), 'the DER as received')
        self.assertIn('受理証明書　: %s に保存しました' % self.path, self.revoke_cp.err, self.revoke_cp.ctx)
        self.assertIn('受理番号　　: ' + grouped(j['receiptId']), self.revoke_cp.err)
        # stock tools read it as it is
        c = self.content()
        self.assertEqual(c['receiptId'], j['receiptId'])
        # revocationAccepted repeats the original receipt
        again = os.path.join(self.dir, 'again.der')
        h = self.pki.holder('valid-03')
        cp = self.run_client('revoke', '--url', self.url, '--yes', '--lang', 'en', '--cert', h['cert'],
                             '--key', h['key'], '--receipt-out', again)
        self.assertEqual(cp.returncode, 11, cp.ctx)
        self.assertIn('Receipt file:   saved to %s' % again, cp.out, cp.ctx)
        cp2 = harness.run(['openssl', 'cms', '-verify', '-inform', 'DER', '-in', again, '-CAfile',
                           self.anchors, '-purpose', 'any'], check=True)
        self.assertEqual(json.loads(cp2.stdout), c)
        # check takes no --receipt-out; an unwritable path is a warning, the result stands
        cp = self.run_client('check', '--url', self.url, '--cert', h['cert'], '--key', h['key'],
                             '--receipt-out', again)
        self.assertEqual(cp.returncode, 2, cp.ctx)
        cp = self.run_client('revoke', '--url', self.url, '--yes', '--cert', h['cert'], '--key', h['key'],
                             '--receipt-out', os.path.join(self.dir, 'no', 'x'))
        self.assertEqual(cp.returncode, 11, cp.ctx)
        self.assertIn('注意: 受理証明書をファイル', cp.out, cp.ctx)

    def test_2_offline(self):
        j = self.answer
        cp = self.verify(self.path)
        self.assertOutcome(cp, 'receiptVerified', '受理証明書の確認結果:正当',
                           '受理番号　　: ' + grouped(j['receiptId']),
                           '受理日時　　: ' + harness.wareki(jst_date(j['acceptedAt'])),
                           '失効する日時: ' + harness.wareki(jst_date(j['effectiveFrom'])),
                           'シリアル番号: ' + j['certificate']['serial'],
                           '発行者名　　: ' + j['certificate']['issuer'],
                           '失効の理由　: 秘密鍵が漏えいしたおそれがある', '(keyCompromise)', '確認していません')
        self.assertNotIn(j['acceptedAt'], cp.out)
        # English, and base64 as the answer carries it
        b64 = self.write('receipt.b64', j['receipt'].encode() + b'\n')
        cp = self.verify(b64, '--lang', 'en')
        self.assertOutcome(cp, 'receiptVerified', 'Receipt check: genuine', grouped(j['receiptId']),
                           'Accepted at:    ', '(JST)', 'not checked')
        cp = self.verify(self.path, '--json')
        self.assertOutcome(cp, 'receiptVerified')
        o = json.loads(cp.stdout)
        self.assertEqual(o['result'], 'receiptVerified')
        self.assertEqual(o['receipt'], self.content())
        self.assertIsNone(o['log'])
        self.assertIn('受理番号', cp.err)

    def test_3_online(self):
        j = self.answer
        cp = self.verify(self.path, online=True)
        self.assertOutcome(cp, 'receiptVerified', '受理記録(ログ)に記録されていることも確認しました',
                           '受理記録　　: 記録済み', grouped(j['receiptId']))
        # the key from a file, --json: the checkpoint verifies on the test side too
        kf = self.write('log.vkey', self.vkey.encode() + b'\n')
        cp = self.verify(self.path, '--json', log_key=kf)
        self.assertOutcome(cp, 'receiptVerified')
        o = json.loads(cp.stdout)
        _, size, root = tlog.open_checkpoint(o['log']['checkpoint'], self.vkey)
        self.assertEqual(o['log']['treeSize'], size)
        self.assertEqual(base64.b64decode(o['log']['rootHash']), root)
        self.assertEqual(o['log']['logIndex'], o['receipt']['logIndex'])

    def test_4_tampered(self):
        with open(self.path, 'rb') as f:
            der = f.read()
        i = der.find(b'keyCompromise')
        self.assertGreater(i, 0)
        bad = self.write('tampered.der', der[:i] + b'keyCompromisE' + der[i + 13:])
        for args in ((), ('--json',)):
            cp = self.verify(bad, *args)
            self.assertOutcome(cp, 'receiptSignatureInvalid', '受理証明書の署名が正しくありません')
        self.assertEqual(json.loads(cp.stdout)['reason'], 'receiptSignatureInvalid')
        cp = self.verify(bad, '--lang', 'en')
        self.assertOutcome(cp, 'receiptSignatureInvalid', "The receipt's signature is not valid", 'Detail: ')
        # not a receipt at all; no file
        cp = self.verify(self.write('garbage', b'hello, world\n'))
        self.assertOutcome(cp, 'receiptUnreadable', '受理証明書を読み込めません')
        cp = self.verify(os.path.join(self.dir, 'missing.der'))
        self.assertOutcome(cp, 'receiptUnreadable', 'ファイルがありません')

    def test_5_wrong_ca(self):
        key = os.path.join(self.dir, 'other.key')
        cert = os.path.join(self.dir, 'other.pem')
        harness.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                     '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=Not the CA', '-days', '30'],
                    check=True)
        cp = self.verify(self.path, cafile=cert)
        self.assertOutcome(cp, 'receiptSignerNotTrusted', '受理証明書の署名者を信頼できません', '--cafile')
        cp = self.verify(self.path, cafile=os.path.join(self.dir, 'none.pem'))
        self.assertOutcome(cp, 'usage', '--cafile')

    def test_6_wrong_log_key(self):
        key = os.path.join(self.dir, 'other-log.key')
        harness.run(['openssl', 'genpkey', '-algorithm', 'ed25519', '-out', key], check=True)
        der = harness.run(['openssl', 'pkey', '-in', key, '-pubout', '-outform', 'DER'], check=True).stdout
        name = self.vkey.split('+')[0]
        other = vkey_of(name, der[-32:])
        cp = self.verify(self.path, log_key=other)
        self.assertOutcome(cp, 'checkpointNotVerified', 'チェックポイントの署名を確認できません', name)
        cp = self.verify(self.path, '--json', '--lang', 'en', log_key=other)
        self.assertEqual(json.loads(cp.stdout)['reason'], 'checkpointNotVerified', cp.ctx)
        # a key of another name: the checkpoint's origin is not that log's
        cp = self.verify(self.path, log_key=vkey_of('other.invalid/log', der[-32:]))
        self.assertOutcome(cp, 'checkpointNotVerified')
        # not a verifier key; --url without --log-key
        cp = self.verify(self.path, log_key='nonsense')
        self.assertOutcome(cp, 'usage', '--log-key')
        cp = self.run_client('receipt', 'verify', self.path, '--cafile', self.anchors, '--url', self.url)
        self.assertOutcome(cp, 'usage')

    def test_7_log_disagrees(self):
        c = self.content()
        # a receipt id the log does not know
        unknown = dict(c, receiptId='ZZZZZZZZZZZZZZZZ')
        p = self.sign('unknown', json.dumps(unknown, ensure_ascii=False, separators=(',', ':')).encode())
        self.assertOutcome(self.verify(p), 'receiptVerified')
        self.assertOutcome(self.verify(p, online=True), 'receiptNotInLog', '受理記録(ログ)にありません')
        # the right id, other content: not the log's leaf
        other = dict(c, reason='superseded')
        p = self.sign('other', json.dumps(other, ensure_ascii=False, separators=(',', ':')).encode())
        self.assertOutcome(self.verify(p, online=True), 'logEntryMismatch',
                           '受理記録(ログ)の内容が受理証明書と異なります')
        # the window cannot be reached
        cp = self.run_client('receipt', 'verify', self.path, '--cafile', self.anchors,
                             '--url', 'http://127.0.0.1:%d/' % harness.free_port(), '--log-key', self.vkey)
        self.assertOutcome(cp, 'networkError', '通信エラー')


if __name__ == '__main__':
    unittest.main(verbosity=2)
