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


def routine_script(conf, srv, admin_port):
    """The daily routine of docs/operations.md, as written, with the
    config, the /srv/madoguchi directory and the admin port replaced."""
    with open(os.path.join(harness.SOURCE_ROOT, 'docs', 'operations.md'), encoding='utf-8') as f:
        doc = f.read()
    m = re.search(r'<!-- daily-routine:begin -->\n```sh\n(.*?)```\n<!-- daily-routine:end -->',
                  doc, re.S)
    assert m, 'no daily routine block in docs/operations.md'
    script = m.group(1)
    for old, new in (('/etc/madoguchi/madoguchi.conf', conf), ('/srv/madoguchi', srv),
                     ('http://127.0.0.1:9090/', 'http://127.0.0.1:%d/' % admin_port)):
        assert old in script, old
        script = script.replace(old, new)
    return script


class Routine(DaemonCase):
    """The daily routine's commands run as the document writes them."""
    crls = ()

    def run_routine(self):
        return run(['sh', '-c', self.script], timeout=120)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = os.path.join(harness.make_tmpdir('mdg-e2e-srv-'), 'madoguchi')
        os.makedirs(os.path.join(cls.srv, 'crl'))
        for name in harness.FRESH_CRLS:
            with open(cls.pki.crl_file(name), 'rb') as f, \
                    open(os.path.join(cls.srv, 'crl', name + '.crl'), 'wb') as g:
                g.write(f.read())
        bindir = harness.make_tmpdir('mdg-e2e-bin-')
        os.symlink(harness.ADMIN, os.path.join(bindir, 'madoguchi-admin'))
        os.environ['PATH'] = bindir + os.pathsep + os.environ.get('PATH', '')
        cls.script = routine_script(cls.daemon.config, cls.srv, cls.daemon.admin_port)

    def test_routine_twice_then_tampered(self):
        d = self.daemon
        cp = self.run_routine()
        self.assertEqual(cp.returncode, 0, text(cp))
        self.assertIn('imported', text(cp))
        self.assertIn('nothing new to export', text(cp))
        self.assertRegex(text(cp), r'madoguchi_store_up 1')
        for h in ('valid-36', 'valid-37'):
            a = d.submit(h, 'revocation', reason='keyCompromise')
            self.assertEqual(a.result, 'accepted', repr(a))
        time.sleep(1.1)    # the routine's files are named by the second
        cp = self.run_routine()
        self.assertEqual(cp.returncode, 0, text(cp))
        self.assertIn('unchanged', text(cp))
        exports = sorted(os.listdir(os.path.join(self.srv, 'export')))
        self.assertEqual(len(exports), 2, exports)
        with open(os.path.join(self.srv, 'export', exports[0]), 'rb') as f:
            self.assertEqual(f.read(), b'')
        with open(os.path.join(self.srv, 'export', exports[1]), 'rb') as f:
            lines = parse_index(f.read())
        self.assertEqual(sorted(l['serial'] for l in lines),
                         sorted(self.pki.holder(h)['serial'].upper().rjust(16, '0')
                                for h in ('valid-36', 'valid-37')))
        with open(os.path.join(self.srv, 'published', 'head.json'), 'rb') as f:
            published = json.loads(f.read())
        cp = d.admin('log', 'head', '--format', 'json')
        self.assertEqual(json.loads(cp.stdout), published)
        self.assertEqual(published['count'], 2)
        self.assertEqual(len(os.listdir(os.path.join(self.srv, 'published'))), 3)
        # a cut log stops the routine at step 2, before anything is exported
        sqlite(d.db, 'DELETE FROM acceptances WHERE seq = 2;')
        time.sleep(1.1)
        cp = self.run_routine()
        self.assertNotEqual(cp.returncode, 0, text(cp))
        self.assertIn('log verify', text(cp))
        self.assertEqual(len(os.listdir(os.path.join(self.srv, 'export'))), 2)


if __name__ == '__main__':
    harness.main()
