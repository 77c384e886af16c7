"""The benchmark's smoke run (issue 6): bench/driver.py --smoke with the
already built binaries (MDG_DAEMON, MDG_ADMIN, MDG_MKPKI, MDG_LOADGEN and the
bench helpers beside the load generator), a couple of hundred requests per
scenario and tiny CRLs, so that the benchmark cannot rot.  It asserts that
every figure is there and sane and that every request got the answer it
should; no timing assertions."""

import json
import os
import subprocess
import sys
import unittest

import harness

DRIVER = os.path.join(harness.SOURCE_ROOT, 'bench', 'driver.py')
LOADGEN = os.environ.get('MDG_LOADGEN')


@unittest.skipUnless(LOADGEN, 'MDG_LOADGEN not set (bench/ not built)')
@harness.sqlite_only('BenchSmokePg below is the postgresql run')
class BenchSmoke(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        pki = harness.shared_pki()
        work = harness.make_tmpdir('mdg-e2e-bench-')
        out = os.path.join(work, 'results.json')
        env = dict(os.environ, MDG_DAEMON=harness.DAEMON, MDG_ADMIN=harness.ADMIN,
                   MDG_MKPKI=harness.MKPKI)
        cp = subprocess.run([sys.executable, DRIVER, '--smoke', '--no-build', '--threads', '4',
                             '--pki', pki.dir, '--work', os.path.join(work, 'w'), '--json', out],
                            capture_output=True, timeout=120, env=env)
        cls.stdout = cp.stdout.decode('utf-8', 'replace')
        cls.stderr = cp.stderr.decode('utf-8', 'replace')
        if cp.returncode != 0:
            raise AssertionError('driver exited %d:\n%s\n%s' % (cp.returncode, cls.stdout[-2000:],
                                                                cls.stderr[-4000:]))
        with open(out, encoding='utf-8') as f:
            cls.data = json.load(f)
        cls.by = {r['scenario']: r for r in cls.data['results']}

    def load(self, name, n, statuses):
        """A load scenario: n requests, every one answered with a status in
        statuses, sane latency, CPU and memory figures."""
        r = self.by.get(name)
        self.assertIsNotNone(r, 'no result for %s: %s' % (name, sorted(self.by)))
        lg = r['loadgen']
        self.assertEqual(lg['errors'], 0, name)
        self.assertEqual(lg['requests'], n, name)
        self.assertEqual(sum(lg['status'].values()), n, '%s: %r' % (name, lg['status']))
        self.assertLessEqual(set(lg['status']), set(statuses), '%s: %r' % (name, lg['status']))
        self.assertEqual(r['unexpected'], 0, name)
        self.assertGreater(r['rps'], 0, name)
        lat = lg['latency_us']
        self.assertTrue(0 < lat['p50'] <= lat['p90'] <= lat['p99'] <= lat['max'], '%s: %r' % (name, lat))
        # /proc/PID/stat counts CPU in clock ticks (10 ms): a run of a hundred
        # cheap requests may fall within one tick, so only >= 0 is certain
        self.assertGreaterEqual(r['cpu_us_per_req'], 0, name)
        self.assertGreater(r['rsa_verify_us'], 0, name)
        self.assertAlmostEqual(r['ratio'], r['cpu_us_per_req'] / r['rsa_verify_us'], places=6)
        self.assertTrue(1 < r['peak_rss_mib'] < 4096, '%s: %r' % (name, r['peak_rss_mib']))
        return r

    def test_validity_checks(self):
        self.load('warm', 200, {'200'})
        r = self.load('cold', 200, {'200'})
        self.assertEqual(r['loadgen']['bodies'], 200)

    def test_revocations_durable(self):
        r = self.load('revoke', 200, {'201'})
        self.assertEqual(r['status'], {'201': 200})
        self.assertEqual(r['acceptances_in_db'], 200)

    def test_revocations_with_receipts(self):
        # issue 15: the same revocations with [receipts] (the test PKI's
        # receipt key, then an RSA-2048 one); the checkpoint made afterwards
        # covers every acceptance, and the ratio to revoke is printed
        for name in ('revoke-receipts', 'revoke-receipts-rsa2048'):
            r = self.load(name, 200, {'201'})
            self.assertEqual(r['acceptances_in_db'], 200, name)
            self.assertEqual(r['checkpoint_size'], 200, name)
            self.assertIn('Durable revocations %s / revoke, same run' % name, self.stdout)

    def test_proofs(self):
        # issue 15: a log of 3,000 acceptances filled by mklog; proofs timed in
        # process (every one verified) and over HTTP (some verified by tlog.py)
        r = self.load('proof-3k', 200, {'200'})
        sp = r['store_proof']
        self.assertEqual(sp['tree_size'], 3000)
        self.assertEqual((sp['inclusion_failed'], sp['consistency_failed']), (0, 0))
        for k in ('inclusion', 'consistency'):
            self.assertEqual(sp[k]['n'], 200)
            self.assertTrue(0 < sp[k]['p50_us'] <= sp[k]['p99_us'] <= sp[k]['max_us'], sp[k])
        self.assertEqual(r['fill']['acceptances'], 3000)
        self.load('proof-3k-c16', 200, {'200'})
        self.load('proof-3k-consistency', 200, {'200'})

    def test_mixed(self):
        r = self.load('mixed', 200, {'200', '201'})
        self.assertEqual(r['status'].get('201'), 20)
        self.assertEqual(r['status'].get('200'), 180)

    def test_crl_tables(self):
        for size, n in (('100', 100), ('5k', 5000)):
            r = self.load('crl-' + size, 100, {'200'})
            lk = r['store_lookup']
            self.assertEqual(lk['lookups'], 500)
            self.assertEqual(lk['held'], 250)       # every other serial looked up is on the CRL
            self.assertEqual(lk['entries'], n + 1)  # and the fresh jlis-full's own entry
            self.assertGreater(lk['cpu_us'], 0)
            r = self.load('crl-%s-c1' % size, 50, {'200'})
            self.assertEqual(r['concurrency'], 1)

    def test_import(self):
        r = self.by['import-2k']
        self.assertEqual(r['entries_held'], 2000)
        self.assertGreater(r['rps'], 0)

    def test_idle_connections(self):
        r = self.by['idle-50']
        self.assertEqual(r['loadgen']['answered'], 50)
        self.assertEqual(r['loadgen']['failed'], 0)
        self.assertEqual(r['loadgen']['open_after_hold'], 50)
        self.assertGreater(r['rss_held_mib'], 1)

    def test_daemons_stopped_cleanly(self):
        # every scenario's daemon exits 0 on SIGTERM (under ASan: no leaks)
        exits = self.data['daemon_exits']
        self.assertGreaterEqual(len(exits), 7)
        self.assertEqual([e for e in exits if e[1] != 0], [])

    def test_markdown_table(self):
        lines = [l for l in self.stdout.splitlines() if l.startswith('|')]
        self.assertTrue(lines and lines[0].startswith('| scenario |'), self.stdout[-1000:])
        self.assertEqual(len(lines), 2 + len(self.data['results']))
        self.assertIn('one RSA-2048 verification', self.stdout)
        self.assertIn('load average', self.stdout)


@unittest.skipUnless(LOADGEN and harness.ON_PG, 'pg-test_bench_smoke only (MDG_E2E_BACKEND=postgresql, '
                     'bench/ built)')
class BenchSmokePg(unittest.TestCase):
    """Issue 13: bench/driver.py --smoke --backend postgresql: the driver's own private cluster
    (tests/e2e/pgcluster.py), warm and revoke on one node and on two nodes on one database, each
    scenario on a fresh database made from the initialised one."""

    load = BenchSmoke.load

    @classmethod
    def setUpClass(cls):
        import pgcluster
        why = pgcluster.available()
        if why:
            raise unittest.SkipTest(why)
        pki = harness.shared_pki()
        work = harness.make_tmpdir('mdg-e2e-bench-pg-')
        out = os.path.join(work, 'results.json')
        env = dict(os.environ, MDG_DAEMON=harness.DAEMON, MDG_ADMIN=harness.ADMIN,
                   MDG_MKPKI=harness.MKPKI)
        cp = subprocess.run([sys.executable, DRIVER, '--smoke', '--no-build', '--threads', '4',
                             '--backend', 'postgresql', '--scenario', 'warm', '--scenario', 'revoke',
                             '--pki', pki.dir, '--work', os.path.join(work, 'w'), '--json', out],
                            capture_output=True, timeout=180, env=env)
        cls.stdout = cp.stdout.decode('utf-8', 'replace')
        cls.stderr = cp.stderr.decode('utf-8', 'replace')
        if cp.returncode != 0:
            raise AssertionError('driver exited %d:\n%s\n%s' % (cp.returncode, cls.stdout[-2000:],
                                                                cls.stderr[-4000:]))
        with open(out, encoding='utf-8') as f:
            cls.data = json.load(f)
        cls.by = {r['scenario']: r for r in cls.data['results']}

    def test_validity_checks(self):
        self.load('warm', 200, {'200'})
        r = self.load('warm-2nodes', 200, {'200'})
        self.assertEqual(len(r['loadgen']['nodes']), 2)
        self.assertEqual(sum(x['requests'] for x in r['loadgen']['nodes']), 200)

    def test_revocations_durable(self):
        # every 201 a row of that scenario's own database (count(*) through psql),
        # and the COMMITs that inserted them (xmin) account for every row
        for name in ('revoke', 'revoke-2nodes'):
            r = self.load(name, 200, {'201'})
            self.assertEqual(r['status'], {'201': 200}, name)
            self.assertEqual(r['acceptances_in_db'], 200, name)
            self.assertNotIn('MISMATCH', r['note'], name)
            self.assertTrue(1 <= r['pg_commits'] <= 200, name)
            self.assertAlmostEqual(r['pg_batch_mean'] * r['pg_commits'], 200, places=6, msg=name)
        self.assertEqual([x['bodies'] for x in self.by['revoke-2nodes']['loadgen']['nodes']], [100, 100])

    def test_no_standby_in_smoke(self):
        self.assertEqual([n for n in self.by if n.endswith('+standby')], [])

    def test_daemons_stopped_cleanly(self):
        exits = self.data['daemon_exits']
        self.assertGreaterEqual(len(exits), 7)     # nonce, warm, 2 × warm-2nodes, revoke, 2 × revoke-2nodes
        self.assertEqual([e for e in exits if e[1] != 0], [])

    def test_markdown_table(self):
        lines = [l for l in self.stdout.splitlines() if l.startswith('|')]
        self.assertEqual(len(lines), 2 + len(self.data['results']))
        self.assertIn('backend postgresql', self.stdout)
        self.assertIn('load average', self.stdout)


if __name__ == '__main__':
    unittest.main(verbosity=2)
