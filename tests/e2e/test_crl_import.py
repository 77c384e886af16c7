"""`madoguchi-admin crl import` against a running daemon's database
(DESIGN.md "CRLs")."""

import json
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import pgcluster  # noqa: E402
from harness import DaemonCase, city_of  # noqa: E402


def output(cp):
    return (cp.stdout + cp.stderr).decode('utf-8', 'replace')


class CrlImport(DaemonCase):

    def imp(self, *files):
        return self.daemon.admin('crl', 'import', *files)

    def assertImported(self, cp):
        self.assertEqual(cp.returncode, 0, 'import failed: %s' % output(cp))

    def assertRefused(self, cp):
        self.assertNotEqual(cp.returncode, 0, 'import should be refused: %s' % output(cp))
        self.assertGreater(cp.returncode, 0, 'crashed: %s' % output(cp))
        self.assertLess(cp.returncode, 128, 'crashed: %s' % output(cp))
        self.assertTrue(output(cp).strip(), 'refused without a message')

    def test_der_and_pem_import(self):
        der = self.pki.make_crl('jlis-g2', 1, dp='E2E-Der-shi')
        pem = self.pki.make_crl('jlis-g2', 1, dp='E2E-Pem-shi', pem=True)
        with open(pem, 'rb') as f:
            self.assertIn(b'-----BEGIN X509 CRL-----', f.read())
        self.assertImported(self.imp(der))
        self.assertImported(self.imp(pem))
        # both scopes are now held: an equal number with other contents is refused
        for dp in ('E2E-Der-shi', 'E2E-Pem-shi'):
            other = self.pki.make_crl('jlis-g2', 1, dp=dp, revoke=['valid-60'])
            self.assertRefused(self.imp(other))

    def test_same_file_twice_is_unchanged(self):
        # CRLs the fixture imported (scopes no other test here touches)
        self.assertImported(self.imp(self.pki.crl_file('jlis-dp-stale')))
        self.assertImported(self.imp(self.pki.crl_file('pref-tokyo-dp-shinjuku')))
        new = self.pki.make_crl('pref-tokyo', 7, dp='E2E-Twice-shi')
        self.assertImported(self.imp(new))
        self.assertImported(self.imp(new))

    def test_full_scope_sequence(self):
        """older refused -> older generation's key accepted -> equal refused."""
        d = self.daemon
        full = self.pki.crls['jlis-full']['number']
        older = self.pki.crls['jlis-full-older']['number']
        by_g1 = self.pki.crls['jlis-full-by-g1']['number']
        self.assertLess(older, full)
        self.assertGreater(by_g1, full)
        # the held CRL again, in PEM (same DER, same SHA-256): a no-op success
        pem = self.pki.crl_file('jlis-full', pem=True)
        self.assertTrue(os.path.exists(pem), pem)
        self.assertImported(self.imp(pem))
        cp = self.imp(self.pki.crl_file('jlis-full-older'))
        self.assertRefused(cp)
        msg = output(cp)
        self.assertRegex(msg, r'\b%d\b' % older, 'message should name the refused number: ' + msg)
        self.assertRegex(msg, r'\b%d\b' % full, 'message should name the held number: ' + msg)
        # signed by the older generation of the J-LIS key: accepted
        self.assertImported(self.imp(self.pki.crl_file('jlis-full-by-g1')))
        self.assertImported(self.imp(self.pki.crl_file('jlis-full-by-g1')))
        cp = self.imp(self.pki.crl_file('jlis-full'))
        self.assertRefused(cp)
        self.assertRegex(output(cp), r'\b%d\b' % by_g1)
        # revoked-full is on the g1-signed CRL too
        a = d.submit('revoked-full', 'validity-check')
        self.assertAnswer(a, 'revoked', 'validity-check', 200)

    def test_refused_kinds(self):
        for name in ('jlis-full-impostor', 'jlis-full-delta', 'jlis-full-v1', 'unknown-full'):
            with self.subTest(crl=name):
                self.assertRefused(self.imp(self.pki.crl_file(name)))
        # the impostor's empty CRL did not replace the real one
        a = self.daemon.submit('revoked-full', 'validity-check')
        self.assertAnswer(a, 'revoked', 'validity-check', 200)

    def test_anchor_not_valid_at_this_update(self):
        # jlis-g2 begins now-2y: a CRL it "issued" three years ago is refused
        crl = self.pki.make_crl('jlis-g2', 1, dp='E2E-Early-shi', this_update_hours=-26280,
                                next_update_hours=-26256)
        self.assertRefused(self.imp(crl))

    def test_lookup_is_by_issuer_and_serial(self):
        d = self.daemon
        jlis_serial = self.pki.holder('valid-10')['serial']
        # the same serial on another issuer's CRL does not revoke a J-LIS holder
        crl = self.pki.make_crl('pref-tokyo', 1, dp='E2E-Other-ku', revoke=[jlis_serial])
        self.assertImported(self.imp(crl))
        a = d.submit('valid-10', 'validity-check')
        self.assertAnswer(a, 'valid', 'validity-check', 200)
        # on any CRL of the holder's issuer (another partition): revoked
        crl = self.pki.make_crl('jlis-g2', 1, dp='E2E-Elsewhere-shi', revoke=['valid-11'])
        self.assertImported(self.imp(crl))
        a = d.submit('valid-11', 'validity-check')
        self.assertAnswer(a, 'revoked', 'validity-check', 200)
        a = d.submit('valid-11', 'revocation')
        self.assertAnswer(a, 'revoked', 'revocation', 409)

    def test_not_a_crl(self):
        h = self.pki.holder('valid-60')
        for f in (h['cert'], os.path.join(self.daemon.dir, 'madoguchi.conf'),
                  os.path.join(self.daemon.dir, 'no-such-file.crl')):
            with self.subTest(file=os.path.basename(f)):
                self.assertRefused(self.imp(f))

    def test_multiple_files_in_one_command(self):
        a = self.pki.make_crl('jlis-g2', 3, dp='E2E-Multi-a')
        b = self.pki.make_crl('pref-tokyo', 3, dp='E2E-Multi-b')
        self.assertImported(self.imp(a, b))
        self.assertImported(self.imp(a, b))

    def test_crl_status(self):
        cp = self.daemon.admin('crl', 'status')
        if cp.returncode == 2 and 'unknown command' in output(cp):
            self.skipTest('madoguchi-admin has no `crl status` (DESIGN.md "Programs" lists it)')
        # the fixture holds the stale Stale-shi partition CRL: monitoring must see it
        self.assertEqual(cp.returncode, 1, output(cp))
        self.assertIn('STALE', output(cp))
        self.assertIn('fresh', output(cp))

    def test_daemon_sees_new_crl_without_restart(self):
        d = self.daemon
        h = self.pki.holder('valid-05')
        self.assertIsNotNone(h.get('dp'))
        a = d.submit('valid-05', 'validity-check')
        self.assertAnswer(a, 'valid', 'validity-check', 200)
        chiyoda = self.pki.crls['jlis-dp-chiyoda']
        self.assertTrue(harness.same_dn(chiyoda['dp'], h['dp']))
        number = chiyoda['number'] + 1
        crl = self.pki.make_crl('jlis-g2', number, dp=city_of(h['dp']),
                                revoke=['revoked', 'valid-05:superseded'])
        pid = d.proc.pid
        self.assertImported(self.imp(crl))
        a = d.submit('valid-05', 'validity-check')
        self.assertAnswer(a, 'revoked', 'validity-check', 200)
        a = d.submit('valid-05', 'revocation')
        self.assertAnswer(a, 'revoked', 'revocation', 409)
        a = d.submit('revoked', 'validity-check')
        self.assertAnswer(a, 'revoked', 'validity-check', 200)
        a = d.submit('valid-06', 'validity-check')
        self.assertAnswer(a, 'valid', 'validity-check', 200)
        self.assertIn(a.json.get('crlNumber'), (number, str(number)), repr(a))
        self.assertEqual(d.proc.pid, pid)
        self.assertIsNone(d.proc.poll())


class Scopes(unittest.TestCase):
    """`crl status` lists every anchor name, `crl retire` takes a scope out
    of freshness (entries stay revoked), /readyz names what makes it
    unready (DESIGN.md "CRLs", issue 16 item 6)."""

    @classmethod
    def setUpClass(cls):
        cls.pki = harness.shared_pki()
        cls.d = harness.Daemon(cls.pki, name='scopes')   # the fresh CRLs and the stale partition
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop_and_check()

    def status(self):
        cp = self.d.admin('crl', 'status', '--format', 'json')
        self.assertIn(cp.returncode, (0, 1), output(cp))
        doc = json.loads(cp.stdout)
        self.assertEqual(cp.returncode, 0 if doc['ok'] else 1, output(cp))
        return doc

    def scope_of(self, doc, crl):
        c = self.pki.crls[crl]
        for a in doc['anchors']:
            for x in a['scopes']:
                if harness.same_dn(x['issuer'], c['issuer']) and (
                        x['distributionPoint'] is None if c['dp'] is None
                        else harness.same_dn(x['distributionPoint'] or '', c['dp'])):
                    return a, x
        self.fail('no scope for %s in %r' % (crl, doc))

    def test_status_retire_readyz(self):
        d, pki = self.d, self.pki
        stale = pki.crls['jlis-dp-stale']
        jlis, tokyo = stale['issuer'], pki.crls['pref-tokyo-dp-shinjuku']['issuer']
        # every anchor name, in plain lines and in JSON
        cp = d.admin('crl', 'status')
        self.assertEqual(cp.returncode, 1, output(cp))
        out = cp.stdout.decode()
        for name in (jlis, tokyo):
            self.assertTrue(any(harness.same_dn(l.strip(), name) for l in out.splitlines()),
                            name + ' not listed:\n' + out)
        self.assertRegex(out, r'(?m)^  \S.*STALE +number 3, 0 entries, this update ')
        self.assertRegex(out, r'(?m)^  full CRL +fresh +number \d+, ')
        doc = self.status()
        self.assertEqual(len(doc['anchors']), 2, doc)
        self.assertEqual((doc['stale'], doc['missing'], doc['ok']), (1, 0, False))
        a, x = self.scope_of(doc, 'jlis-dp-stale')
        self.assertEqual((a['state'], x['stale'], x['retiredAt']), ('stale', True, None))
        # /readyz names the stale scope
        r = d.get('/readyz')
        self.assertEqual(r.status, 503, repr(r))
        self.assertEqual(r.json['reason'], 'a CRL is stale', r.json)
        self.assertTrue(harness.same_dn(r.json['issuer'], jlis), r.json)
        self.assertTrue(harness.same_dn(r.json['scope'], stale['dp']), r.json)
        a = d.submit('stale-dp', 'validity-check')
        self.assertEqual((a.result, a.status), ('serviceError', 503), repr(a))

        # retire it: out of freshness, /readyz, crl status; the full CRL covers
        cp = d.admin('crl', 'retire', '--issuer', jlis.lower().replace(',', ', '), '--dp', stale['dp'])
        self.assertEqual(cp.returncode, 0, output(cp))
        self.assertIn('retired', cp.stdout.decode())
        r = d.get('/readyz')
        self.assertEqual(r.status, 200, repr(r))
        doc = self.status()
        self.assertEqual((doc['stale'], doc['missing'], doc['ok']), (0, 0, True))
        a, x = self.scope_of(doc, 'jlis-dp-stale')
        self.assertIsNotNone(x['retiredAt'])
        self.assertFalse(x['stale'])
        cp = d.admin('crl', 'status')
        self.assertEqual(cp.returncode, 0, output(cp))
        self.assertRegex(cp.stdout.decode(), r'(?m)^  \S.* retired  since ')
        a = d.submit('stale-dp', 'validity-check')
        self.assertEqual(a.result, 'valid', repr(a))
        # again: nothing to do; the same CRL again does not bring it back
        cp = d.admin('crl', 'retire', '--issuer', jlis, '--dp', stale['dp'])
        self.assertEqual(cp.returncode, 0, output(cp))
        self.assertIn('already', cp.stdout.decode())
        cp = d.admin('crl', 'import', pki.crl_file('jlis-dp-stale'))
        self.assertEqual(cp.returncode, 0, output(cp))
        self.assertIn('stays retired', cp.stdout.decode())
        self.assertEqual(d.get('/readyz').status, 200)
        # a newer CRL of the scope brings it back
        newer = pki.make_crl('jlis-g2', stale['number'] + 1, dp=city_of(stale['dp']))
        cp = d.admin('crl', 'import', newer)
        self.assertEqual(cp.returncode, 0, output(cp))
        _, x = self.scope_of(self.status(), 'jlis-dp-stale')
        self.assertEqual((x['retiredAt'], x['stale'], x['number']),
                         (None, False, str(stale['number'] + 1)))

        # a scope imported by mistake: retired, its entries still answer revoked
        wrong = pki.make_crl('jlis-g2', 1, dp='E2E-Mistake-shi', revoke=['valid-12'])
        cp = d.admin('crl', 'import', wrong)
        self.assertEqual(cp.returncode, 0, output(cp))
        cp = d.admin('crl', 'retire', '--issuer', jlis, '--dp', 'CN=E2E-Mistake-shi')
        if cp.returncode != 0:   # the DP's full name, as crl status prints it
            dp = [x['distributionPoint'] for a in self.status()['anchors'] for x in a['scopes']
                  if 'Mistake' in (x['distributionPoint'] or '')][0]
            cp = d.admin('crl', 'retire', '--issuer', jlis, '--dp', dp)
        self.assertEqual(cp.returncode, 0, output(cp))
        self.assertIn('1 entry stay', cp.stdout.decode())
        a = d.submit('valid-12', 'validity-check')
        self.assertEqual(a.result, 'revoked', repr(a))
        a = d.submit('valid-12', 'revocation')
        self.assertEqual((a.result, a.status), ('revoked', 409), repr(a))

        # no such scope: exit 1; no --issuer: usage
        cp = d.admin('crl', 'retire', '--issuer', jlis, '--dp', 'CN=Nowhere')
        self.assertEqual(cp.returncode, 1, output(cp))
        self.assertIn('crl status', output(cp))
        self.assertEqual(d.admin('crl', 'retire').returncode, 2)

        # Tokyo's only scope retired: its name has no CRL; /readyz names it
        shinjuku = pki.crls['pref-tokyo-dp-shinjuku']
        cp = d.admin('crl', 'retire', '--issuer', tokyo, '--dp', shinjuku['dp'])
        self.assertEqual(cp.returncode, 0, output(cp))
        self.assertIn('no CRL in force', cp.stderr.decode())
        r = d.get('/readyz')
        self.assertEqual(r.status, 503, repr(r))
        self.assertEqual(r.json['reason'], 'no CRL held for an anchor', r.json)
        self.assertTrue(harness.same_dn(r.json['anchor'], tokyo), r.json)
        doc = self.status()
        self.assertEqual((doc['missing'], doc['ok']), (1, False))
        self.assertEqual([a['state'] for a in doc['anchors']
                          if harness.same_dn(a['anchor'], tokyo)], ['none'])
        cp = d.admin('crl', 'status')
        self.assertEqual(cp.returncode, 1)
        self.assertIn('no CRL in force', cp.stdout.decode())
        cp = d.admin('crl', 'import', pki.make_crl('pref-tokyo', shinjuku['number'] + 1,
                                                   dp=city_of(shinjuku['dp'])))
        self.assertEqual(cp.returncode, 0, output(cp))
        self.assertEqual(d.get('/readyz').status, 200)
        # the metrics count no retired scope
        m = harness.http_request(d.admin_port, 'GET', '/metrics').body.decode()
        self.assertNotIn('Mistake', m)


@unittest.skipUnless(harness.ON_PG, 'the PostgreSQL backend\'s generations of CRL entries')
class PgGenerations(unittest.TestCase):
    """On PostgreSQL every import writes a new generation of the scope's
    entries (a large one in a partition of its own, a small one in the
    shared partition) and switches the crls row to it in the same
    transaction (docs/store.md "CRL import"): the replaced one is removed
    after the COMMIT, or by a later import's sweep when a reader held it; a
    failed import leaves the old CRL in force and no partition behind."""

    @classmethod
    def setUpClass(cls):
        cls.pki = harness.shared_pki()
        cls.d = harness.Daemon(cls.pki, name='pg-gen')
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop_and_check()

    def sql(self, q):
        return harness.sqlite(self.d.db, q).strip()

    def partitions(self):
        """The large generations' partitions (crl_entries_shared not counted)."""
        return int(self.sql("SELECT count(*) FROM pg_inherits WHERE inhparent = 'crl_entries'::regclass"
                            " AND inhrelid <> 'crl_entries_shared'::regclass;"))

    def retired(self):
        return int(self.sql('SELECT count(*) FROM crl_gens_retired;'))

    def assertOneGenerationPerScope(self):
        self.assertEqual(self.partitions(), int(self.sql('SELECT count(*) FROM crls WHERE gen > 0;')))
        self.assertEqual(self.sql('SELECT count(*) FROM crl_entries e LEFT JOIN crls c ON c.id = e.crl_id'
                                  ' WHERE e.gen IS DISTINCT FROM c.gen;'), '0')
        self.assertEqual(self.sql('SELECT count(*) FROM crl_entries;'),
                         self.sql('SELECT coalesce(sum(entries), 0) FROM crls;'))
        self.assertEqual(self.retired(), 0)

    def partition_min(self, n):
        """madoguchi.crl_partition_min for the admin's next connections."""
        if n is None:
            self.sql('ALTER DATABASE %s RESET madoguchi.crl_partition_min;' % self.d.db.dbname)
        else:
            self.sql("ALTER DATABASE %s SET madoguchi.crl_partition_min = '%d';" % (self.d.db.dbname, n))

    def answer(self, holder):
        a = self.d.submit(holder, 'validity-check')
        self.assertEqual(a.status, 200, repr(a))
        return a.result

    def test_generations(self):
        d, pki = self.d, self.pki
        h = pki.holder('valid-05')
        chiyoda = pki.crls['jlis-dp-chiyoda']
        self.assertTrue(harness.same_dn(chiyoda['dp'], h['dp']))
        dp = city_of(h['dp'])
        self.assertOneGenerationPerScope()
        self.assertEqual(self.partitions(), 0)   # the fixture's CRLs are small
        self.assertEqual(self.answer('valid-05'), 'valid')
        self.partition_min(1)

        # a replacement (as a large generation): the new entries answer, the
        # old generation is gone
        n = chiyoda['number'] + 1
        cp = d.admin('crl', 'import', pki.make_crl('jlis-g2', n, dp=dp, revoke=['valid-05']))
        self.assertEqual(cp.returncode, 0, output(cp))
        self.assertOneGenerationPerScope()
        self.assertEqual(self.partitions(), 1)
        self.assertEqual(self.answer('valid-05'), 'revoked')
        parts, gen = self.partitions(), self.sql('SELECT max(gen) FROM crls;')

        # a failed import (its last statement refused): the old CRL stays in
        # force, no partition is left behind
        self.sql("CREATE FUNCTION e2e_refuse() RETURNS trigger LANGUAGE plpgsql AS $$"
                 " BEGIN RAISE EXCEPTION 'e2e: refused'; END$$;"
                 " CREATE TRIGGER e2e_refuse BEFORE UPDATE ON crls FOR EACH ROW EXECUTE FUNCTION e2e_refuse();")
        newer = pki.make_crl('jlis-g2', n + 1, dp=dp, revoke=['valid-05', 'valid-06'])
        cp = d.admin('crl', 'import', newer)
        self.assertNotEqual(cp.returncode, 0, output(cp))
        self.assertIn('e2e: refused', output(cp))
        self.sql('DROP TRIGGER e2e_refuse ON crls; DROP FUNCTION e2e_refuse();')
        self.assertEqual((self.partitions(), self.sql('SELECT max(gen) FROM crls;')), (parts, gen))
        self.assertOneGenerationPerScope()
        self.assertEqual((self.answer('valid-05'), self.answer('valid-06')), ('revoked', 'valid'))

        # a reader holding crl_entries: the import goes through, the replaced
        # generation stays until a later sweep (no look-up waits for it)
        reader = subprocess.Popen(
            [os.path.join(pgcluster.BIN, 'psql'), '-X', '-q', '-d', str(d.db), '-c',
             'BEGIN; SELECT count(*) FROM crl_entries; SELECT pg_sleep(30); COMMIT;'],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 20
            while self.sql("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                           " WHERE l.relation = 'crl_entries'::regclass AND a.pid <> pg_backend_pid()"
                           " AND a.query LIKE '%pg_sleep%';") == '0':
                self.assertLess(time.time(), deadline, 'the reader never held crl_entries')
                time.sleep(0.1)
            cp = d.admin('crl', 'import', newer)
            self.assertEqual(cp.returncode, 0, output(cp))
            self.assertEqual((self.answer('valid-05'), self.answer('valid-06')), ('revoked', 'revoked'))
            self.assertEqual((self.partitions(), self.retired()), (parts + 1, 1))
        finally:
            # (its server process would sleep on without the client)
            self.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                     " AND query LIKE '%pg_sleep(30)%';")
            reader.kill()
            reader.wait()
        deadline = time.time() + 20
        while self.sql("SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                       " AND query LIKE '%pg_sleep(30)%';") != '0':
            self.assertLess(time.time(), deadline, 'the reader did not end')
            time.sleep(0.1)
        cp = d.admin('crl', 'import', pki.make_crl('jlis-g2', n + 2, dp=dp, revoke=['valid-06']))
        self.assertEqual(cp.returncode, 0, output(cp))
        self.assertOneGenerationPerScope()
        self.assertEqual((self.answer('valid-05'), self.answer('valid-06')), ('valid', 'revoked'))

        # a small generation again (the shared partition), then none at all
        # (a scope's CRL without entries)
        self.partition_min(None)
        cp = d.admin('crl', 'import', pki.make_crl('jlis-g2', n + 3, dp=dp, revoke=['valid-05']))
        self.assertEqual(cp.returncode, 0, output(cp))
        self.assertOneGenerationPerScope()
        self.assertEqual(self.partitions(), 0)
        self.assertEqual((self.answer('valid-05'), self.answer('valid-06')), ('revoked', 'valid'))
        none = int(self.sql('SELECT count(*) FROM crls WHERE gen IS NULL;'))
        cp = d.admin('crl', 'import', pki.make_crl('jlis-g2', n + 4, dp=dp))
        self.assertEqual(cp.returncode, 0, output(cp))
        self.assertOneGenerationPerScope()
        self.assertEqual(int(self.sql('SELECT count(*) FROM crls WHERE gen IS NULL;')), none + 1)
        self.assertEqual((self.answer('valid-05'), self.answer('valid-06')), ('valid', 'valid'))

    def test_migration_to_generations(self):
        """pg schema version 2 (one crl_entries table) to 3: the entries held
        become one generation per scope and answer as before."""
        src = self.d
        m = harness.Daemon(self.pki, name='pg-mig', init_db=False, crls=())
        root = os.path.join(harness.SOURCE_ROOT, 'schema', 'pg')
        for f in ('001_initial.sql', '002_merkle.sql'):
            with open(os.path.join(root, f), encoding='utf-8') as fh:
                m.db.cluster.psql(m.db.dbname, fh.read())
        harness.sqlite(m.db, 'CREATE TABLE mdg_schema_version (version INTEGER NOT NULL);'
                             ' INSERT INTO mdg_schema_version VALUES (2);')
        cols = 'id, issuer, dp, number, this_update, next_update, imported_at, sha256, entries, dp_key, retired_at'
        rows = src.db.cluster.psql(src.db.dbname, "COPY (SELECT %s FROM crls ORDER BY id) TO STDOUT" % cols)
        ents = src.db.cluster.psql(src.db.dbname, 'COPY (SELECT e.crl_id, e.serial, e.revoked_at, e.reason'
                                   ' FROM crls c JOIN crl_entries e ON e.gen = c.gen AND e.crl_id = c.id)'
                                   ' TO STDOUT')
        self.assertTrue(ents.strip())
        for table, c, data in (('crls', cols, rows), ('crl_entries', 'crl_id, serial, revoked_at, reason', ents)):
            cp = subprocess.run([os.path.join(pgcluster.BIN, 'psql'), '-X', '-q', '-v', 'ON_ERROR_STOP=1',
                                 '-d', str(m.db), '-c', 'COPY %s (%s) FROM STDIN' % (table, c)],
                                input=(data + '\n').encode(), capture_output=True)
            self.assertEqual(cp.returncode, 0, cp.stderr)
        cp = m.admin('db', 'migrate')
        self.assertEqual(cp.returncode, 0, output(cp))
        self.assertGreaterEqual(int(harness.sqlite(m.db, 'SELECT max(version) FROM mdg_schema_version;')), 3)
        self.assertEqual(harness.sqlite(m.db, "SELECT to_regclass('crl_entries_v1') IS NULL;"), '1')
        # one small generation per scope, in the shared partition
        self.assertEqual(harness.sqlite(
            m.db, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'crl_entries'::regclass;"), '1')
        self.assertEqual(harness.sqlite(m.db, 'SELECT count(*) FROM crls WHERE gen < 0;'),
                         harness.sqlite(m.db, 'SELECT count(*) FROM crls WHERE entries > 0;'))
        q = 'SELECT c.id, count(e.serial) FROM crls c LEFT JOIN crl_entries e ON e.gen = c.gen AND e.crl_id = c.id' \
            ' GROUP BY c.id ORDER BY c.id;'
        self.assertEqual(harness.sqlite(m.db, q), harness.sqlite(src.db, q))
        # (all but the time of day it was checked at)
        docs = [json.loads(x.admin('crl', 'status', '--format', 'json').stdout) for x in (m, src)]
        for doc in docs:
            doc.pop('checkedAt')
        self.assertEqual(docs[0], docs[1])
        m.start()
        try:
            for h in ('revoked', 'valid-01'):
                self.assertEqual(m.submit(h, 'validity-check').result, self.answer(h), h)
        finally:
            m.stop_and_check()


if __name__ == '__main__':
    harness.main()
