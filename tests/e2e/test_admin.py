"""madoguchi-admin: db init / db migrate, usage errors, the acceptance log
and its hash chain (DESIGN.md "Programs", "Store")."""

import csv
import datetime
import hashlib
import io
import json
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

    def test_version_and_help_at_every_level(self):
        cp = run([ADMIN, '--version'])
        self.assertEqual(cp.returncode, 0, text(cp))
        self.assertRegex(cp.stdout.decode(), r'^madoguchi-admin \d+\.\d+\.\d+\n$')
        # no config needed for help
        for args, must in ((['--help'], 'MADOGUCHI_CONFIG'), (['log', '--help'], 'log export'),
                           (['crl', '--help'], 'crl retire'), (['db', '--help'], 'db migrate'),
                           (['crl', 'import', '--help'], 'FILE...'),
                           (['crl', 'retire', '--help'], '--dp DN'),
                           (['log', 'show', '--help'], 'dashes'),
                           (['log', 'export', '-h'], '--batch N'),
                           (['--config', '/nowhere.conf', 'log', 'verify', '--help'], '--head')):
            with self.subTest(args=args):
                cp = run([ADMIN] + args)
                self.assertEqual(cp.returncode, 0, text(cp))
                self.assertIn('usage: madoguchi-admin', cp.stdout.decode())
                self.assertIn(must, cp.stdout.decode())
        cp = run([ADMIN, 'crl'])
        self.assertEqual(cp.returncode, 2, text(cp))
        self.assertIn('crl status', cp.stderr.decode())

    def test_default_config(self):
        d = Daemon(self.pki, name='defcfg', crls=('jlis-full',))
        env = dict(os.environ, MADOGUCHI_CONFIG=d.config)
        cp = subprocess.run([ADMIN, 'log', 'head'], env=env, capture_output=True, timeout=30)
        self.assertEqual(cp.returncode, 0, text(cp))
        self.assertIn('count: 0', cp.stdout.decode())
        env['MADOGUCHI_CONFIG'] = '/nowhere/m.conf'
        cp = subprocess.run([ADMIN, 'log', 'head'], env=env, capture_output=True, timeout=30)
        self.assertEqual(cp.returncode, 1, text(cp))
        self.assertIn('/nowhere/m.conf', text(cp))
        self.assertIn('MADOGUCHI_CONFIG', text(cp))
        if not os.path.exists('/etc/madoguchi/madoguchi.conf'):
            env.pop('MADOGUCHI_CONFIG')
            cp = subprocess.run([ADMIN, 'log', 'head'], env=env, capture_output=True, timeout=30)
            self.assertEqual(cp.returncode, 1, text(cp))
            self.assertIn('/etc/madoguchi/madoguchi.conf', text(cp))

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
        # exit 1 exactly when a held scope is stale (the fixture may hold one)
        self.assertEqual(cp.returncode, 1 if 'STALE' in text(cp) else 0, text(cp))
        cp = self.admin('log', 'verify')
        self.assertEqual(cp.returncode, 0, text(cp))
        head = self.head()
        cp = self.admin('log', 'verify', '--head', head)
        self.assertEqual(cp.returncode, 0, text(cp))
        # the empty log's head (zeros) is a prefix of every log
        cp = self.admin('log', 'verify', '--head', '0' * 64)
        self.assertEqual(cp.returncode, 0, text(cp))
        cp = self.admin('log', 'verify', '--head', '5a' * 32)
        self.assertNotEqual(cp.returncode, 0, text(cp))

    def test_1b_receipt_read_over_the_phone(self):
        cp = self.admin('log', '--format', 'json', '--limit', '1')
        rid = json.loads(cp.stdout.decode().splitlines()[0])['receiptId']
        spaced = ' '.join(rid[i:i + 4] for i in range(0, 32, 4)).upper()
        dashed = '-'.join(rid[i:i + 8] for i in range(0, 32, 8))
        for form in (spaced, dashed):
            with self.subTest(receipt=form):
                cp = self.admin('log', 'show', form)
                self.assertEqual(cp.returncode, 0, text(cp))
                self.assertIn(rid, cp.stdout.decode())
                cp = self.admin('log', '--receipt', form, '--format', 'json')
                self.assertEqual(cp.returncode, 0, text(cp))
                self.assertEqual(json.loads(cp.stdout)['receiptId'], rid)
        cp = self.admin('log', 'show', rid[:-1] + ' x')
        self.assertEqual(cp.returncode, 2, text(cp))
        self.assertIn('32 hex digits', text(cp))

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


class LogQuery(DaemonCase):
    """`log` filters, formats and paging; `log show` and its evidence,
    verified offline with `openssl cms -verify` against the anchors."""

    HOLDERS = (('valid-05', 'keyCompromise'), ('valid-06', None), ('valid-07', 'superseded'),
               ('valid-08', 'keyCompromise'))

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receipts = {h: a['receiptId'] for h, a in cls.daemon.revoke_all(cls.HOLDERS).items()}

    def ok(self, *args):
        cp = self.daemon.admin(*args)
        self.assertEqual(cp.returncode, 0, text(cp))
        return cp.stdout.decode('utf-8')

    def jsonl(self, *args):
        return [json.loads(line) for line in self.ok('log', '--format', 'json', *args).splitlines()]

    def test_json_lines_columns(self):
        rows = self.jsonl()
        self.assertEqual([r['seq'] for r in rows], [1, 2, 3, 4])
        for r, (h, reason) in zip(rows, self.HOLDERS):
            hd = self.pki.holder(h)
            self.assertEqual(r['receiptId'], self.receipts[h])
            self.assertEqual(r['serial'], hd['serial'])
            self.assertTrue(harness.same_dn(r['issuer'], hd['issuer']), r['issuer'])
            self.assertEqual(r['reason'], reason or 'unspecified')
            self.assertEqual(r['name'], hd['applicant']['name'])
            self.assertEqual(r['clientAddress'], '127.0.0.1')
            self.assertIsNone(r['exportBatch'])
            for k in ('acceptedAt', 'effectiveFrom'):
                self.assertRegex(r[k], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00$')
            # addresses and birth dates only when asked for
            self.assertNotIn('address', r)
            self.assertNotIn('birthDate', r)
        rows = self.jsonl('--show-personal-data')
        for r, (h, _) in zip(rows, self.HOLDERS):
            self.assertEqual(r['address'], self.pki.holder(h)['applicant']['address'])
            self.assertEqual(r['birthDate'], self.pki.holder(h)['applicant']['birthDate'])

    def test_table_and_csv(self):
        out = self.ok('log')
        lines = out.splitlines()
        self.assertEqual(len(lines), 5, out)
        self.assertTrue(lines[0].startswith('SEQ'), out)
        for h, _ in self.HOLDERS:
            self.assertIn(self.receipts[h], out)
            self.assertIn(self.pki.holder(h)['applicant']['name'], out)
            self.assertNotIn(self.pki.holder(h)['applicant']['address'], out)
        # aligned: the receipt column starts at the same place on every line
        cols = {line.index(self.receipts[h]) for line, (h, _) in zip(lines[1:], self.HOLDERS)}
        self.assertEqual(len(cols), 1, out)
        self.assertEqual(lines[0].index('RECEIPT'), cols.pop(), out)
        out = self.ok('log', '--format', 'csv', '--show-personal-data')
        self.assertIn('\r\n', out)
        rows = list(csv.DictReader(io.StringIO(out, newline='')))
        self.assertEqual(len(rows), 4)
        self.assertEqual(rows[0]['receiptId'], self.receipts['valid-05'])
        self.assertEqual(rows[0]['issuer'], self.pki.holder('valid-05')['issuer'])  # has commas
        self.assertEqual(rows[2]['address'], self.pki.holder('valid-07')['applicant']['address'])

    def test_filters(self):
        h = self.pki.holder('valid-07')
        self.assertEqual([r['seq'] for r in self.jsonl('--serial', h['serial'].upper())], [3])
        self.assertEqual([r['seq'] for r in self.jsonl('--serial', '0x00' + h['serial'])], [3])
        self.assertEqual([r['seq'] for r in self.jsonl('--receipt', self.receipts['valid-06'])], [2])
        self.assertEqual([r['seq'] for r in self.jsonl('--reason', 'keyCompromise')], [1, 4])
        self.assertEqual(len(self.jsonl('--issuer', h['issuer'])), 4)
        self.assertEqual(self.jsonl('--issuer', 'CN=nobody,C=JP'), [])
        rows = self.jsonl()
        first, last = rows[0]['acceptedAt'], rows[-1]['acceptedAt']
        # dates are JST days, --until a date includes that whole day
        day1 = datetime.date.fromisoformat(first[:10])
        day2 = datetime.date.fromisoformat(last[:10])
        self.assertEqual(len(self.jsonl('--since', str(day1), '--until', str(day2))), 4)
        self.assertEqual(self.jsonl('--until', str(day1 - datetime.timedelta(days=1))), [])
        self.assertEqual(self.jsonl('--since', str(day2 + datetime.timedelta(days=1))), [])
        self.assertEqual(len(self.jsonl('--since', first)), 4)
        self.assertGreaterEqual(len(self.jsonl('--until', first)), 1)
        # the same instant in UTC
        t = datetime.datetime.fromisoformat(last).astimezone(datetime.timezone.utc)
        self.assertEqual(len(self.jsonl('--until', t.strftime('%Y-%m-%dT%H:%M:%SZ'))), 4)
        t1 = t + datetime.timedelta(seconds=1)
        self.assertEqual(self.jsonl('--since', t1.strftime('%Y-%m-%dT%H:%M:%SZ')), [])
        for bad in (('--since', 'yesterday'), ('--serial', 'xyz'), ('--reason', 'whim'),
                    ('--limit', '0'), ('--format', 'xml'), ('--frobnicate',)):
            with self.subTest(args=bad):
                cp = self.daemon.admin('log', *bad)
                self.assertEqual(cp.returncode, 2, text(cp))

    def test_paging(self):
        cp = self.daemon.admin('log', '--limit', '3')
        self.assertEqual(cp.returncode, 0, text(cp))
        self.assertEqual(len(cp.stdout.decode().splitlines()), 4)
        self.assertIn('--after 3', cp.stderr.decode())
        self.assertEqual([r['seq'] for r in self.jsonl('--limit', '3', '--after', '3')], [4])
        self.assertEqual([r['seq'] for r in self.jsonl('--limit', '2', '--after', '1')], [2, 3])
        cp = self.daemon.admin('log', '--limit', '4')
        self.assertNotIn('--after', cp.stderr.decode())

    def test_head_json(self):
        j = json.loads(self.ok('log', 'head', '--format', 'json'))
        self.assertEqual(j['count'], 4)
        self.assertRegex(j['head'], r'^[0-9a-f]{64}$')
        self.assertEqual(j['lastAcceptedAt'], self.jsonl()[-1]['acceptedAt'])
        self.assertIn('ok: 4 rows, head %s' % j['head'], self.ok('log', 'verify'))

    def test_show_and_offline_evidence(self):
        h = self.pki.holder('valid-06')
        rid = self.receipts['valid-06']
        out = self.ok('log', 'show', rid)
        self.assertIn(rid, out)
        self.assertIn(h['applicant']['name'], out)
        self.assertNotIn(h['applicant']['address'], out)
        self.assertIn(h['serial'], out)
        self.assertRegex(out, r'hash +[0-9a-f]{64}')
        j = json.loads(self.ok('log', 'show', rid.upper(), '--format', 'json',
                               '--show-personal-data'))
        self.assertEqual(j['seq'], 2)
        self.assertEqual(j['birthDate'], h['applicant']['birthDate'])
        for k in ('certSha256', 'requestSha256', 'prevHash', 'hash'):
            self.assertRegex(j[k], r'^[0-9a-f]{64}$')
        ev = os.path.join(self.daemon.dir, 'evidence.der')
        self.ok('log', 'show', rid, '--evidence', ev)
        self.assertEqual(os.stat(ev).st_mode & 0o777, 0o600)
        with open(ev, 'rb') as f:
            der = f.read()
        self.assertEqual(hashlib.sha256(der).hexdigest(), j['requestSha256'])
        # offline, as docs/operations.md says: all anchors in one file
        bundle = os.path.join(self.daemon.dir, 'anchors.pem')
        with open(bundle, 'wb') as out_f:
            for name in sorted(os.listdir(self.pki.anchors)):
                with open(os.path.join(self.pki.anchors, name), 'rb') as f:
                    out_f.write(f.read())
        form = os.path.join(self.daemon.dir, 'form.json')
        cp = run(['openssl', 'cms', '-verify', '-binary', '-inform', 'DER', '-in', ev,
                  '-CAfile', bundle, '-purpose', 'any', '-out', form])
        self.assertEqual(cp.returncode, 0, text(cp))
        with open(form, encoding='utf-8') as f:
            self.assertEqual(json.load(f)['applicant'], h['applicant'])
        cp = self.daemon.admin('log', 'show', 'f' * 32)
        self.assertEqual(cp.returncode, 1, text(cp))


@harness.sqlite_only('tampers with a copy of the SQLite file (.backup)')
class ChainTampering(unittest.TestCase):
    """Alter, delete and reorder rows with the sqlite3 CLI: `log verify`
    fails naming the row (DESIGN.md "Store", issue: operators' tools)."""

    @classmethod
    def setUpClass(cls):
        cls.pki = shared_pki()
        cls.daemon = Daemon(cls.pki, name='tamper')
        cls.daemon.start()
        try:
            for h in ('valid-11', 'valid-12', 'valid-13', 'valid-14'):
                a = cls.daemon.submit(h, 'revocation')
                if a.result != 'accepted':
                    raise AssertionError('setup: %s not accepted: %r' % (h, a))
        finally:
            cls.daemon.stop_and_check()

    def tampered(self, sql):
        copy = os.path.join(self.daemon.dir, 'copy-%d.db' % len(os.listdir(self.daemon.dir)))
        sqlite(self.daemon.db, ".backup '%s'" % copy)
        if sql:
            sqlite(copy, sql)
        d = Daemon(self.pki, name='tampered', database=copy, init_db=False, crls=())
        return d.admin('log', 'verify')

    def test_intact(self):
        cp = self.tampered(None)
        self.assertEqual(cp.returncode, 0, text(cp))
        self.assertRegex(text(cp), r'^ok: 4 rows, head [0-9a-f]{64}$')

    def check_failed(self, sql, seq):
        cp = self.tampered(sql)
        self.assertEqual(cp.returncode, 1, text(cp))
        self.assertIn('seq %d' % seq, text(cp))

    def test_altered_row(self):
        self.check_failed("UPDATE acceptances SET accepted_at = replace(accepted_at, '+09:00', 'Z') "
                          "WHERE seq = 2;", 2)

    def test_altered_evidence(self):
        self.check_failed("UPDATE acceptances SET request = request || X'00' WHERE seq = 3;", 3)

    def test_deleted_row(self):
        self.check_failed('DELETE FROM acceptances WHERE seq = 2;', 3)

    def test_deleted_and_renumbered(self):
        self.check_failed('DELETE FROM acceptances WHERE seq = 2;'
                          'UPDATE acceptances SET seq = 2 WHERE seq = 3;'
                          'UPDATE acceptances SET seq = 3 WHERE seq = 4;', 2)

    def test_reordered_rows(self):
        self.check_failed('UPDATE acceptances SET seq = 100 WHERE seq = 2;'
                          'UPDATE acceptances SET seq = 2 WHERE seq = 3;'
                          'UPDATE acceptances SET seq = 3 WHERE seq = 100;', 2)


if __name__ == '__main__':
    harness.main()
