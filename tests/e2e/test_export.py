"""madoguchi-admin log export: batches of new acceptances for CA issuance
(CSV, JSON lines, OpenSSL index.txt), re-export by batch number, the
recorded-but-not-completed case, and the round trip through `openssl ca
-gencrl` and `crl import` back to `revoked` answers."""

import csv
import datetime
import io
import json
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DaemonCase, run, sqlite  # noqa: E402

JLIS = ('OU=Japan Agency for Local Authority Information Systems,'
        'OU=JPKI for digital signature,O=JPKI,C=JP')
CSV_HEADER = ['batch', 'seq', 'receiptId', 'serial', 'issuer', 'reason', 'acceptedAt',
              'effectiveFrom', 'certSha256']
RFC3339 = r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00'
INDEX_LINE = re.compile(r'^R\t(\d{12}Z|\d{14}Z)\t(\d{12}Z)(?:,(keyCompromise|affiliationChanged|'
                        r'superseded|cessationOfOperation))?\t((?:[0-9A-F]{2})+)\tunknown\t'
                        r'((?:/[A-Za-z]+=[^/\t\n]*)+)$')


def text(cp):
    return (cp.stdout + cp.stderr).decode('utf-8', 'replace')


def parse_csv(data):
    """RFC 4180, strictly: CRLF line ends, the exact header, 9 fields a row."""
    s = data.decode('utf-8')
    assert s.endswith('\r\n'), repr(s[-20:])
    assert '\n' not in s.replace('\r\n', ''), 'a bare LF'
    rows = list(csv.reader(io.StringIO(s, newline=''), strict=True))
    assert rows[0] == CSV_HEADER, rows[0]
    for r in rows[1:]:
        assert len(r) == len(CSV_HEADER), r
    return [dict(zip(CSV_HEADER, r)) for r in rows[1:]]


def parse_jsonl(data):
    out = []
    s = data.decode('utf-8')
    assert s == '' or s.endswith('\n'), repr(s[-20:])
    for line in s.splitlines():
        o = json.loads(line)
        assert isinstance(o, dict) and list(o) == CSV_HEADER, o
        assert isinstance(o['batch'], int) and isinstance(o['seq'], int), o
        for k in CSV_HEADER[2:]:
            assert isinstance(o[k], str), (k, o)
        out.append(o)
    return out


def parse_index(data):
    s = data.decode('ascii')
    assert s == '' or s.endswith('\n'), repr(s[-20:])
    out = []
    for line in s.splitlines():
        m = INDEX_LINE.match(line)
        assert m, 'not an index.txt revocation line: %r' % line
        out.append({'expiry': m.group(1), 'revoked': m.group(2),
                    'reason': m.group(3) or 'unspecified', 'serial': m.group(4),
                    'subject': m.group(5)})
    return out


def utc_index_time(dt):
    return dt.astimezone(datetime.timezone.utc).strftime('%y%m%d%H%M%SZ')


class Export(DaemonCase):
    # holder, reason: three J-LIS generations' certificates and one Tokyo one
    HOLDERS = (('valid-31', 'keyCompromise'), ('valid-32', None), ('valid-g1', 'superseded'),
               ('valid-pref', 'affiliationChanged'), ('valid-33', 'cessationOfOperation'))

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receipts = cls.daemon.revoke_all(cls.HOLDERS)
        cls.out = harness.make_tmpdir('mdg-e2e-export-')

    def export(self, *args, ok=True):
        cp = self.daemon.admin('log', 'export', *args)
        if ok:
            self.assertEqual(cp.returncode, 0, text(cp))
        return cp

    def path(self, name):
        return os.path.join(self.out, name)

    def read(self, name):
        with open(self.path(name), 'rb') as f:
            return f.read()

    def check_rows(self, rows, holders, batch):
        self.assertEqual(len(rows), len(holders))
        for r, (h, reason) in zip(rows, holders):
            hd = self.pki.holder(h)
            j = self.receipts[h]
            self.assertEqual(int(r['batch']), batch)
            self.assertEqual(r['receiptId'], j['receiptId'])
            self.assertEqual(r['serial'], hd['serial'])
            self.assertTrue(harness.same_dn(r['issuer'], hd['issuer']) or
                            harness.same_dn(r['issuer'], JLIS), r['issuer'])
            self.assertEqual(r['reason'], reason or 'unspecified')
            self.assertEqual(r['acceptedAt'], j['acceptedAt'])
            self.assertEqual(r['effectiveFrom'], j['effectiveFrom'])
            self.assertRegex(r['certSha256'], r'^[0-9a-f]{64}$')
        self.assertEqual([int(r['seq']) for r in rows],
                         sorted(int(r['seq']) for r in rows))

    def check_index(self, lines, holders):
        self.assertEqual(len(lines), len(holders))
        for l, (h, reason) in zip(lines, holders):
            hd = self.pki.holder(h)
            self.assertEqual(l['serial'], hd['serial'].upper().rjust(
                (len(hd['serial']) + 1) // 2 * 2, '0'))
            self.assertEqual(l['reason'], reason or 'unspecified')
            self.assertEqual(l['revoked'],
                             utc_index_time(harness.parse_time(self.receipts[h]['acceptedAt'])))
            _, not_after = self.pki.cert_dates(hd['cert'])
            self.assertEqual(l['expiry'], utc_index_time(not_after))
            cp = run(['openssl', 'x509', '-in', hd['cert'], '-noout', '-subject', '-nameopt',
                      'compat'], check=True)
            self.assertEqual('subject=' + l['subject'], cp.stdout.decode().strip())

    def test_1_new_then_empty_then_again_by_batch(self):
        cp = self.export('--new', '--out', self.path('b1.csv'))
        self.assertRegex(text(cp), r'batch 1: 5 acceptances, seq 1\.\.5, head [0-9a-f]{64}')
        self.assertEqual(cp.stdout, b'')
        rows = parse_csv(self.read('b1.csv'))
        self.check_rows(rows, self.HOLDERS, 1)
        self.assertEqual(os.stat(self.path('b1.csv')).st_mode & 0o077, 0)
        db = self.daemon.db
        self.assertEqual(sqlite(db, 'SELECT count(*) FROM acceptances WHERE export_batch = 1;'), '5')
        self.assertEqual(sqlite(db, 'SELECT id, first_seq, last_seq, count, completed_at IS NOT NULL'
                                    ' FROM export_batches;'), '1|1|5|5|1')
        head = sqlite(db, 'SELECT hex(head_hash) FROM export_batches WHERE id = 1;').lower()
        self.assertIn(head, text(cp))
        # the second export finds nothing new and records no batch
        for fmt, empty in (('csv', (','.join(CSV_HEADER) + '\r\n').encode()), ('jsonl', b''),
                           ('index', b'')):
            cp = self.export('--new', '--format', fmt)
            self.assertEqual(cp.stdout, empty, fmt)
            self.assertIn('nothing new', text(cp))
        self.assertEqual(sqlite(db, 'SELECT count(*) FROM export_batches;'), '1')
        # re-export by number: byte for byte the same, in every format
        cp = self.export('--batch', '1')
        self.assertEqual(cp.stdout, self.read('b1.csv'))
        cp = self.export('--batch', '1', '--format', 'jsonl')
        js = parse_jsonl(cp.stdout)
        self.assertEqual([{k: str(v) for k, v in o.items()} for o in js], rows)
        cp = self.export('--batch', '1', '--format', 'index')
        self.check_index(parse_index(cp.stdout), self.HOLDERS)
        # usage errors
        for args in ((), ('--new', '--batch', '1'), ('--batch', 'x'), ('--new', '--format', 'xml'),
                     ('--new', '--issuer', JLIS)):
            cp = self.export(*args, ok=False)
            self.assertEqual(cp.returncode, 2, (args, text(cp)))
        cp = self.export('--batch', '99', ok=False)
        self.assertEqual(cp.returncode, 1, text(cp))

    def test_2_a_batch_not_completed_is_given_again(self):
        a = self.daemon.submit('valid-34', 'revocation', reason='keyCompromise')
        self.assertEqual(a.result, 'accepted', repr(a))
        self.receipts['valid-34'] = a.json
        # the output cannot be written: the batch is recorded, not completed
        cp = self.export('--new', '--out', self.path('no/such/dir/b2.csv'), ok=False)
        self.assertEqual(cp.returncode, 1, text(cp))
        db = self.daemon.db
        self.assertEqual(sqlite(db, 'SELECT id, count, completed_at IS NULL FROM export_batches'
                                    ' WHERE id = 2;'), '2|1|1')
        # a newer acceptance stays out of the pending batch
        b = self.daemon.submit('valid-35', 'revocation')
        self.assertEqual(b.result, 'accepted', repr(b))
        self.receipts['valid-35'] = b.json
        cp = self.export('--new', '--format', 'jsonl')
        self.assertIn('never completed', text(cp))
        self.check_rows(parse_jsonl(cp.stdout), [('valid-34', 'keyCompromise')], 2)
        cp = self.export('--new', '--format', 'jsonl')
        self.check_rows(parse_jsonl(cp.stdout), [('valid-35', None)], 3)
        self.assertNotIn('never completed', text(cp))
        cp = self.export('--new')
        self.assertIn('nothing new', text(cp))
        self.assertEqual(sqlite(db, 'SELECT count(*) FROM export_batches WHERE completed_at IS NULL;'), '0')
        self.assertEqual(sqlite(db, 'SELECT count(*) FROM acceptances WHERE export_batch IS NULL;'), '0')
        cp = self.daemon.admin('log', 'verify')
        self.assertEqual(cp.returncode, 0, text(cp))

    def test_3_openssl_ca_round_trip(self):
        jlis = [(h, r) for h, r in self.HOLDERS if h != 'valid-pref']
        # before: accepted, not yet on a CRL
        for h, _ in jlis + [('valid-pref', None)]:
            a = self.daemon.submit(h, 'validity-check')
            self.assertEqual(a.result, 'revocationAccepted', '%s: %r' % (h, a))
        cp = self.export('--batch', '1', '--format', 'index', '--issuer', JLIS,
                         '--out', self.path('index.txt'))
        lines = parse_index(self.read('index.txt'))
        self.check_index(lines, jlis)
        ca = harness.make_tmpdir('mdg-e2e-ca-')
        with open(os.path.join(ca, 'index.txt'), 'wb') as f:
            f.write(self.read('index.txt'))
        number = max(c['number'] or 0 for c in self.pki.crls.values()) + 7
        with open(os.path.join(ca, 'crlnumber'), 'w') as f:
            f.write('%02X\n' % number)
        conf = os.path.join(ca, 'ca.cnf')
        with open(conf, 'w') as f:
            f.write('[ca]\ndefault_ca = jlis\n[jlis]\n'
                    'database = %s\ncrlnumber = %s\ncertificate = %s\nprivate_key = %s\n'
                    'default_md = sha256\ndefault_crl_hours = 24\nunique_subject = no\n'
                    'crl_extensions = crl_ext\n[crl_ext]\nauthorityKeyIdentifier = keyid:always\n'
                    % (os.path.join(ca, 'index.txt'), os.path.join(ca, 'crlnumber'),
                       self.pki.ca_cert('jlis-g2'), self.pki.ca_key('jlis-g2')))
        crl = os.path.join(ca, 'next.crl.pem')
        run(['openssl', 'ca', '-config', conf, '-gencrl', '-out', crl], check=True, cwd=ca)
        cp = run(['openssl', 'crl', '-in', crl, '-noout', '-text'], check=True)
        crltext = cp.stdout.decode()
        self.assertRegex(crltext, r'X509v3 CRL Number:\s*\n\s*%d\b' % number)
        for l in lines:
            self.assertIn('Serial Number: ' + l['serial'], crltext)
        cp = self.daemon.admin('crl', 'import', crl)
        self.assertEqual(cp.returncode, 0, text(cp))
        self.assertIn('imported', text(cp))
        for h, _ in jlis:
            a = self.daemon.submit(h, 'validity-check')
            self.assertEqual(a.result, 'revoked', '%s: %r' % (h, a))
        # the Tokyo certificate was not in the J-LIS index
        a = self.daemon.submit('valid-pref', 'validity-check')
        self.assertEqual(a.result, 'revocationAccepted', repr(a))


def chain_hash(prev, seq, receipt_id, issuer, serial, accepted_at, reason, request_sha256):
    """docs/store.md "The hash chain"."""
    import hashlib
    h = hashlib.sha256(b'madoguchi-acceptance-v1' + prev + seq.to_bytes(8, 'big'))
    for f in (receipt_id.encode(), issuer, serial, accepted_at.encode(), reason.encode(),
              request_sha256):
        h.update(len(f).to_bytes(4, 'big') + f)
    return h.digest()


class UnreadableEvidence(DaemonCase):
    """Issue 11 section 2: a row whose evidence the export cannot read is
    named and skipped; the rows after it are exported, the batch completes
    and the next --new starts a new batch (docs/operations.md "log export")."""
    HOLDERS = (('valid-40', 'keyCompromise'), ('valid-41', None), ('valid-42', 'superseded'))

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receipts = cls.daemon.revoke_all(cls.HOLDERS)
        cls.out = harness.make_tmpdir('mdg-e2e-export-bad-')

    def insert_bad_row(self, receipt):
        """A row as an accepted request with odd evidence would have left
        it, before schema version 4: no stored notAfter or subject, and a
        stored request that is no CMS. Its chain hash is right."""
        import hashlib
        db = self.daemon.db
        seq, prev, issuer = sqlite(db, 'SELECT seq, hex(hash), hex(issuer) FROM acceptances'
                                       ' ORDER BY seq DESC LIMIT 1;').split('|')
        seq = int(seq) + 1
        request = b'\x30\x03\x02\x01\x05'
        rs = hashlib.sha256(request).digest()
        serial = bytes.fromhex('7a11ce0b5e55ed01')
        at = '2026-11-27T10:00:00+09:00'
        h = chain_hash(bytes.fromhex(prev), seq, receipt, bytes.fromhex(issuer), serial, at,
                       'keyCompromise', rs)
        sqlite(db, "INSERT INTO acceptances (seq, receipt_id, issuer, serial, cert_sha256,"
                   " accepted_at, reason, holder_name, request, request_sha256, client_addr,"
                   " effective_from, prev_hash, hash) VALUES (%d, '%s', X'%s', X'%s',"
                   " zeroblob(32), '%s', 'keyCompromise', 'x', X'%s', X'%s', '127.0.0.1',"
                   " '2026-11-28T00:00:00+09:00', X'%s', X'%s');"
                   % (seq, receipt, issuer, serial.hex(), at, request.hex(), rs.hex(), prev,
                      h.hex()))
        return seq

    def test_bad_row_is_named_and_skipped(self):
        d = self.daemon
        db = d.db
        # the daemon stores notAfter and subject with each acceptance
        self.assertEqual(sqlite(db, 'SELECT count(*) FROM acceptances WHERE cert_not_after IS'
                                    ' NOT NULL AND cert_subject IS NOT NULL;'), '3')
        # seq 2 as a row from before schema version 4: read from its evidence
        sqlite(db, 'UPDATE acceptances SET cert_not_after = NULL, cert_subject = NULL'
                   ' WHERE seq = 2;')
        bad_receipt = 'badbadbadbadbadbadbadbadbadbad00'
        bad = self.insert_bad_row(bad_receipt)
        a = d.submit('valid-43', 'revocation')
        self.assertEqual(a.result, 'accepted', repr(a))
        self.receipts['valid-43'] = a.json
        good = list(self.HOLDERS) + [('valid-43', None)]
        # the chain is intact: log verify checks the chain and the evidence's
        # SHA-256, not whether the evidence parses (docs/operations.md)
        cp = d.admin('log', 'verify')
        self.assertEqual(cp.returncode, 0, text(cp))
        self.assertIn('ok: 5 rows', text(cp))

        out = os.path.join(self.out, 'index.txt')
        cp = d.admin('log', 'export', '--new', '--format', 'index', '--out', out)
        self.assertEqual(cp.returncode, 1, text(cp))
        err = cp.stderr.decode()
        self.assertIn('seq %d (receipt id %s) is not in the index' % (bad, bad_receipt), err)
        self.assertIn('batch 1: 5 acceptances, seq 1..5', err)
        self.assertIn('1 acceptance not in the index', err)
        with open(out, 'rb') as f:
            lines = parse_index(f.read())
        Export.check_index(self, lines, good)
        self.assertEqual(sqlite(db, 'SELECT count(*) FROM export_batches WHERE id = 1 AND'
                                    ' completed_at IS NOT NULL;'), '1')
        # no stall: the next --new finds nothing, then starts batch 2
        cp = d.admin('log', 'export', '--new', '--format', 'index')
        self.assertEqual(cp.returncode, 0, text(cp))
        self.assertIn('nothing new', text(cp))
        a = d.submit('valid-44', 'revocation')
        self.assertEqual(a.result, 'accepted', repr(a))
        self.receipts['valid-44'] = a.json
        cp = d.admin('log', 'export', '--new', '--format', 'index')
        self.assertEqual(cp.returncode, 0, text(cp))
        self.assertIn('batch 2: 1 acceptance, seq 6..6', text(cp))
        self.assertNotIn('never completed', text(cp))
        Export.check_index(self, parse_index(cp.stdout), [('valid-44', None)])
        # batch 1 again: the same output and the same message
        cp2 = d.admin('log', 'export', '--batch', '1', '--format', 'index')
        self.assertEqual(cp2.returncode, 1, text(cp2))
        with open(out, 'rb') as f:
            self.assertEqual(cp2.stdout, f.read())
        self.assertIn('seq %d (receipt id %s)' % (bad, bad_receipt), cp2.stderr.decode())
        # csv and jsonl list the skipped row (they need no evidence)
        cp = d.admin('log', 'export', '--batch', '1', '--format', 'csv')
        self.assertEqual(cp.returncode, 0, text(cp))
        rows = parse_csv(cp.stdout)
        self.assertEqual([int(r['seq']) for r in rows], [1, 2, 3, 4, 5])
        self.assertEqual(rows[3]['receiptId'], bad_receipt)
        # nothing personal on stderr
        self.assertNotIn(self.pki.holder('valid-40')['applicant']['name'], err)


SCRIPT = os.path.join(harness.SOURCE_ROOT, 'deploy', 'systemd', 'madoguchi-daily.sh')


def documented_routine():
    """The daily routine's block in docs/operations.md."""
    with open(os.path.join(harness.SOURCE_ROOT, 'docs', 'operations.md'), encoding='utf-8') as f:
        doc = f.read()
    m = re.search(r'<!-- daily-routine:begin -->\n```sh\n(.*?)```\n<!-- daily-routine:end -->',
                  doc, re.S)
    assert m, 'no daily routine block in docs/operations.md'
    return m.group(1)


class Routine(DaemonCase):
    """The one daily routine: docs/operations.md shows the shipped script
    (deploy/systemd/madoguchi-daily.sh) as it is, and running the block the
    document shows does what the document says, twice, then stops at a
    cut log before exporting anything."""
    crls = ()

    def test_0_the_document_shows_the_shipped_script(self):
        with open(SCRIPT, encoding='utf-8') as f:
            self.assertEqual(documented_routine(), f.read(),
                             'docs/operations.md and deploy/systemd/madoguchi-daily.sh differ')

    def drop_crls(self):
        for name in harness.FRESH_CRLS:
            with open(self.pki.crl_file(name), 'rb') as f, \
                    open(os.path.join(self.state, 'crl-drop', name + '.crl'), 'wb') as g:
                g.write(f.read())

    def run_routine(self):
        return subprocess.run(['sh', '-c', self.script], env=self.env, capture_output=True,
                              timeout=120)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.state = harness.make_tmpdir('mdg-e2e-state-')
        os.makedirs(os.path.join(cls.state, 'crl-drop'))
        # the timer runs it inside the export window; here at any time
        cls.env = dict(os.environ, MADOGUCHI_CONFIG=cls.daemon.config, MADOGUCHI_STATE=cls.state,
                       MADOGUCHI_ADMIN=harness.ADMIN, MADOGUCHI_DAILY_FORCE='1')
        cls.script = documented_routine()

    def test_routine_twice_then_tampered(self):
        d = self.daemon
        self.drop_crls()
        cp = self.run_routine()
        self.assertEqual(cp.returncode, 0, text(cp))
        self.assertIn('imported', text(cp))
        self.assertIn('nothing new to export', text(cp))
        self.assertEqual(sorted(os.listdir(os.path.join(self.state, 'crl-drop', 'imported'))),
                         sorted(n + '.crl' for n in harness.FRESH_CRLS))
        for h in ('valid-36', 'valid-37'):
            a = d.submit(h, 'revocation', reason='keyCompromise')
            self.assertEqual(a.result, 'accepted', repr(a))
        self.drop_crls()    # the same CRLs again: unchanged
        cp = self.run_routine()
        self.assertEqual(cp.returncode, 0, text(cp))
        self.assertIn('unchanged', text(cp))
        exports = sorted(os.listdir(os.path.join(self.state, 'exports')),
                         key=lambda n: os.stat(os.path.join(self.state, 'exports', n)).st_mtime_ns)
        self.assertEqual(len(exports), 2, exports)
        with open(os.path.join(self.state, 'exports', exports[0]), 'rb') as f:
            self.assertEqual(f.read(), b'')
        with open(os.path.join(self.state, 'exports', exports[1]), 'rb') as f:
            lines = parse_index(f.read())
        self.assertEqual(sorted(l['serial'] for l in lines),
                         sorted(self.pki.holder(h)['serial'].upper().rjust(16, '0')
                                for h in ('valid-36', 'valid-37')))
        with open(os.path.join(self.state, 'published', 'head.json'), 'rb') as f:
            published = json.loads(f.read())
        cp = d.admin('log', 'head', '--format', 'json')
        self.assertEqual(json.loads(cp.stdout), published)
        self.assertEqual(published['count'], 2)
        self.assertEqual(len(os.listdir(os.path.join(self.state, 'published'))), 3)
        # a cut log stops the routine at log verify, before anything is exported
        sqlite(d.db, 'DELETE FROM acceptances WHERE seq = 2;')
        cp = self.run_routine()
        self.assertNotEqual(cp.returncode, 0, text(cp))
        self.assertIn('log verify', text(cp))
        self.assertEqual(len(os.listdir(os.path.join(self.state, 'exports'))), 2)
        self.assertEqual(len(os.listdir(os.path.join(self.state, 'published'))), 3)


if __name__ == '__main__':
    harness.main()
