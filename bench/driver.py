#!/usr/bin/env python3
"""The madoguchi benchmark (docs/performance.md).  Python stdlib only.

Builds the daemon optimised (meson release, its own build directory), makes
a test PKI (tests/pki/mkpki), prepares distinct signed requests
(bench/mkholders: certificates re-signed from a test-PKI holder, nonces
issued with a long nonce_ttl), and for each scenario starts a fresh daemon
on a copy of one database, drives it with bench/madoguchi_loadgen and
reports requests/s, latency, the server's CPU per request (utime+stime from
/proc/PID/stat over the run), its peak RSS (VmHWM, reset before each run)
and, measured in the same run, one RSA-2048 verification (bench/rsaverify)
with the ratio between the two.  Prints a markdown table at the end.

    python3 bench/driver.py                 # everything (several minutes)
    python3 bench/driver.py --quick         # small sizes, a minute or two
    python3 bench/driver.py --smoke         # tiny sizes (the test suite's run)
    python3 bench/driver.py --scenario warm --scenario revoke
    python3 bench/driver.py --scenario revoke --scenario receipts --scenario proof   # issue 15

--no-build takes the binaries from MDG_DAEMON, MDG_ADMIN, MDG_MKPKI and
MDG_LOADGEN (the helpers beside the load generator) instead.
"""

import argparse
import collections
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(HERE)
CLK_TCK = os.sysconf('SC_CLK_TCK')
PAGE = os.sysconf('SC_PAGE_SIZE')

SCENARIOS = ('warm', 'cold', 'revoke', 'receipts', 'mixed', 'refused', 'ocsp', 'crl', 'import', 'idle', 'proof')

# requests prepared / loadgen settings per size
SIZES = {
    'full': dict(warm_certs=16, warm_bodies=1024, duration=10.0, cold=6000, revoke=6000,
                 mixed=4000, crl_sizes=(10_000, 1_000_000, 10_000_000), crl_duration=6.0,
                 import_entries=1_000_000, idle=1000, hold=5.0, concurrency=32, rsa_iters=4000,
                 refused=6000, proof_sizes=(10_000_000,), proofs=20000, proof_checks=200),
    'quick': dict(warm_certs=16, warm_bodies=256, duration=4.0, cold=1500, revoke=1500,
                  mixed=1000, crl_sizes=(10_000, 100_000, 1_000_000), crl_duration=3.0,
                  import_entries=100_000, idle=1000, hold=2.0, concurrency=32, rsa_iters=2000,
                  refused=1500, proof_sizes=(1_000_000,), proofs=5000, proof_checks=100),
    'smoke': dict(warm_certs=4, warm_bodies=40, requests=200, cold=200, revoke=200,
                  mixed=200, crl_sizes=(100, 5000), crl_requests=100, c1_requests=50, lookups=500,
                  import_entries=2000, idle=50,
                  hold=0.5, concurrency=8, rsa_iters=200, refused=100, proof_sizes=(3000,), proofs=200,
                  proof_checks=20),
}


T0 = time.time()


def log(msg):
    print('[bench %6.1fs] %s' % (time.time() - T0, msg), file=sys.stderr, flush=True)


def run(cmd, timeout=3600, check=True, **kw):
    cp = subprocess.run([str(c) for c in cmd], capture_output=True, timeout=timeout, **kw)
    if check and cp.returncode != 0:
        raise RuntimeError('%s exited %d:\n%s\n%s' % (
            ' '.join(str(c) for c in cmd), cp.returncode,
            cp.stdout.decode('utf-8', 'replace')[-2000:], cp.stderr.decode('utf-8', 'replace')[-3000:]))
    return cp


def free_port():
    import socket
    s = socket.socket()
    try:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
    finally:
        s.close()


def machine():
    model = '?'
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as f:
            for line in f:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return {'nproc': os.cpu_count(), 'cpu': model, 'loadavg': os.getloadavg(),
            'kernel': os.uname().release, 'date': time.strftime('%Y-%m-%d %H:%M:%SZ', time.gmtime())}


# ---------------------------------------------------------------- binaries

class Bins:
    def __init__(self, args):
        if args.no_build:
            env = os.environ
            missing = [k for k in ('MDG_DAEMON', 'MDG_ADMIN', 'MDG_MKPKI', 'MDG_LOADGEN') if not env.get(k)]
            if missing:
                raise SystemExit('--no-build needs ' + ', '.join(missing))
            self.daemon, self.admin, self.mkpki, self.loadgen = (
                env['MDG_DAEMON'], env['MDG_ADMIN'], env['MDG_MKPKI'], env['MDG_LOADGEN'])
            bench = os.path.dirname(self.loadgen)
        else:
            b = args.build_dir
            if not os.path.exists(os.path.join(b, 'build.ninja')):
                log('configuring a release build in %s' % b)
                run(['meson', 'setup', b, SOURCE_ROOT, '--buildtype=release', '-Db_ndebug=true'])
            targets = ['server/madoguchid', 'admin/madoguchi-admin', 'tests/pki/mkpki',
                       'bench/madoguchi_loadgen', 'bench/mkholders', 'bench/mkcrl', 'bench/rsaverify',
                       'bench/mklog']
            log('building %s' % ' '.join(targets))
            run(['ninja', '-C', b] + targets)
            self.daemon = os.path.join(b, 'server', 'madoguchid')
            self.admin = os.path.join(b, 'admin', 'madoguchi-admin')
            self.mkpki = os.path.join(b, 'tests', 'pki', 'mkpki')
            self.loadgen = os.path.join(b, 'bench', 'madoguchi_loadgen')
            bench = os.path.join(b, 'bench')
        self.mkholders = os.path.join(bench, 'mkholders')
        self.mkcrl = os.path.join(bench, 'mkcrl')
        self.rsaverify = os.path.join(bench, 'rsaverify')
        self.mklog = os.path.join(bench, 'mklog')
        for p in (self.daemon, self.admin, self.mkpki, self.loadgen, self.mkholders, self.mkcrl,
                  self.rsaverify, self.mklog):
            if not os.access(p, os.X_OK):
                raise SystemExit('not executable: %s' % p)


# ---------------------------------------------------------------- the daemon

def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Daemon:
    bench_exits = []    # (name, exit status) of every daemon stopped

    def __init__(self, bins, work, name, db, args, extra=''):
        self.bins = bins
        self.dir = os.path.join(work, 'd-' + name)
        os.makedirs(self.dir, exist_ok=True)
        self.db = db
        self.port = free_port()
        self.config = os.path.join(self.dir, 'madoguchi.conf')
        self.stderr_path = os.path.join(self.dir, 'stderr.log')
        with open(self.config, 'w', encoding='utf-8') as f:
            f.write(config_text(args, work, db, self.port) + extra)
        self.proc = None

    def start(self):
        self._err = open(self.stderr_path, 'ab')
        self.proc = subprocess.Popen([self.bins.daemon, '--config', self.config], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self._err, preexec_fn=raise_nofile)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('madoguchid exited %d: %s' % (self.proc.returncode, self.stderr_tail()))
            try:
                with urllib.request.urlopen('http://127.0.0.1:%d/healthz' % self.port, timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError('madoguchid not healthy: ' + self.stderr_tail())

    def stderr_tail(self):
        try:
            with open(self.stderr_path, 'rb') as f:
                return f.read()[-2000:].decode('utf-8', 'replace')
        except OSError:
            return ''

    def cpu_ticks(self):
        with open('/proc/%d/stat' % self.proc.pid, encoding='ascii') as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return int(fields[11]) + int(fields[12])    # utime, stime (fields 14, 15)

    def status(self, key):
        with open('/proc/%d/status' % self.proc.pid, encoding='ascii') as f:
            for line in f:
                if line.startswith(key + ':'):
                    return int(line.split()[1]) * 1024
        return 0

    def reset_peak(self):
        try:
            with open('/proc/%d/clear_refs' % self.proc.pid, 'w', encoding='ascii') as f:
                f.write('5')
        except OSError:
            pass

    def nonce(self):
        with urllib.request.urlopen('http://127.0.0.1:%d/v1/nonce' % self.port, timeout=10) as r:
            return json.loads(r.read())['nonce']

    def stop(self):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        if self.proc is None:
            return None
        rc = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                rc = self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        else:
            rc = self.proc.returncode
        self._err.close()
        self.proc = None
        self.bench_exits.append((os.path.basename(self.dir), rc))
        return rc


class Responder:
    """An `openssl ocsp` responder measured like a daemon: CPU of the process
    and its -multi children, peak RSS the largest of them."""

    def __init__(self, proc, port):
        self.proc = proc
        self.port = port

    def pids(self):
        out = [self.proc.pid]
        try:
            with open('/proc/%d/task/%d/children' % (self.proc.pid, self.proc.pid), encoding='ascii') as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
        return out

    def wait_ready(self, loadgen, req):
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('openssl ocsp exited %d' % self.proc.returncode)
            if len(self.pids()) > 2:
                cp = subprocess.run(['nsenter', '--net=/proc/%d/ns/net' % self.proc.pid, loadgen, '--port',
                                     str(self.port), '--bodies', req, '--path', '/', '--content-type',
                                     'application/ocsp-request', '--requests', '1', '--concurrency', '1',
                                     '--timeout', '2'], capture_output=True)
                if cp.returncode == 0 and '"200"' in cp.stdout.decode():
                    return
            time.sleep(0.1)
        raise RuntimeError('openssl ocsp not answering')

    def cpu_ticks(self):
        t = 0
        for pid in self.pids():
            try:
                with open('/proc/%d/stat' % pid, encoding='ascii') as f:
                    fields = f.read().rsplit(')', 1)[1].split()
                t += int(fields[11]) + int(fields[12])
            except OSError:
                pass
        return t

    def status(self, key):
        best = 0
        for pid in self.pids():
            try:
                with open('/proc/%d/status' % pid, encoding='ascii') as f:
                    for line in f:
                        if line.startswith(key + ':'):
                            best = max(best, int(line.split()[1]) * 1024)
            except OSError:
                pass
        return best

    def reset_peak(self):
        for pid in self.pids():
            try:
                with open('/proc/%d/clear_refs' % pid, 'w', encoding='ascii') as f:
                    f.write('5')
            except OSError:
                pass


def config_text(args, work, db, port):
    store = ('backend = postgresql\ndsn = %s' % db) if isinstance(db, PgDb) else ('database = %s' % db)
    return ('[server]\nlisten = 127.0.0.1\nport = %d\nthreads = %d\nmax_connections = 4000\n'
            'max_connections_per_address = 4000\nmax_inflight = 4000\nmax_body = 65536\n\n'
            '[pki]\nanchors = %s\nnonce_key_file = %s\nnonce_ttl = 12h\n\n'
            '[store]\n%s\n\n' % (
                port, args.threads, os.path.join(work, 'pki', 'anchors'),
                os.path.join(work, 'nonce.key'), store))


# ---------------------------------------------------------------- the bench

class Bench:
    def __init__(self, args, bins):
        self.args = args
        self.bins = bins
        self.size = SIZES[args.size]
        self.work = args.work or tempfile.mkdtemp(prefix='mdg-bench-')
        os.makedirs(self.work, exist_ok=True)
        self.results = []
        self.pki_dir = os.path.join(self.work, 'pki')
        self.base_db = os.path.join(self.work, 'base.db')
        self._nonce = None
        self._netns = None
        self._sets = {}
        self.pg = None          # --backend postgresql: the private cluster
        self.variant = ''       # appended to every result's name ('+standby')

    # -- set-up

    def setup(self):
        if self.args.pki:
            if not os.path.exists(self.pki_dir):
                os.symlink(os.path.abspath(self.args.pki), self.pki_dir)
        elif not os.path.exists(os.path.join(self.pki_dir, 'manifest.json')):
            log('mkpki gen')
            run([self.bins.mkpki, 'gen', self.pki_dir], timeout=300)
        with open(os.path.join(self.pki_dir, 'manifest.json'), encoding='utf-8') as f:
            self.manifest = json.load(f)
        h = self.manifest['holders']['valid-01']
        self.holder = {k: self._path(h[k]) for k in ('cert', 'key')}
        self.holder_ca = h['ca']
        self.applicant = os.path.join(self.work, 'applicant.json')
        with open(self.applicant, 'w', encoding='utf-8') as f:
            f.write(json.dumps(h['applicant'], ensure_ascii=False, separators=(',', ':')))
        if self.args.backend == 'postgresql':
            self.start_pg()
        cfg = os.path.join(self.work, 'admin.conf')
        with open(cfg, 'w', encoding='utf-8') as f:
            f.write(config_text(self.args, self.work, self.base_db, 1))
        self.admin_conf = cfg
        if self.pg is None and os.path.exists(self.base_db):
            os.unlink(self.base_db)
        run([self.bins.admin, '--config', cfg, 'db', 'init'])
        crls = [self._path(self.manifest['crls'][c]['der'])
                for c in ('jlis-full', 'jlis-dp-chiyoda', 'pref-tokyo-dp-shinjuku')]
        run([self.bins.admin, '--config', cfg, 'crl', 'import'] + crls)
        d = Daemon(self.bins, self.work, 'nonce', self.copy_db('nonce'), self.args).start()
        try:
            self._nonce = d.nonce()
        finally:
            d.stop()

    def _path(self, p):
        if os.path.isabs(p):
            return p
        for base in (self.pki_dir, os.path.dirname(self.pki_dir)):
            q = os.path.join(base, p)
            if os.path.exists(q):
                return q
        return os.path.join(self.pki_dir, p)

    def start_pg(self):
        """The private PostgreSQL cluster of tests/e2e/pgcluster.py (initdb and pg_ctl as an
        unprivileged user, a Unix socket in its own directory, fsync on, synchronous_commit = on),
        stopped and removed at exit; the initialised database is every scenario's template."""
        sys.path.insert(0, os.path.join(SOURCE_ROOT, 'tests', 'e2e'))
        import pgcluster
        why = pgcluster.available()
        if why:
            raise SystemExit('--backend postgresql: ' + why)
        c = pgcluster.Cluster(name='bench').init()
        if self.args.pg_profile:
            c.append_conf("shared_preload_libraries = 'pg_stat_statements'\ntrack_wal_io_timing = on\n")
        c.start()
        self.pg = c
        self.pg_version = run([os.path.join(pgcluster.BIN, 'postgres'), '--version']).stdout.decode().strip()
        c.psql('postgres', 'CREATE DATABASE mdg_base')
        if self.args.pg_profile:
            c.psql('postgres', 'CREATE EXTENSION pg_stat_statements')
        self.base_db = PgDb(c, 'mdg_base')
        log('%s cluster in %s (socket %s)' % (self.pg_version, c.base, c.sock))

    def start_standby(self):
        log('a synchronous standby: pg_basebackup -R, synchronous_standby_names')
        self.pg.psql('postgres', 'CHECKPOINT')     # else pg_basebackup waits for a spread checkpoint
        self.standby = self.pg.make_standby('bench_sb')
        self.variant = '+standby'

    def copy_db(self, name):
        if self.pg is not None:     # a fresh database per scenario, a copy of the initialised one
            db = PgDb(self.pg, 'mdg_' + re.sub(r'[^a-z0-9]', '_', name.lower()))
            self.pg.psql('postgres', 'DROP DATABASE IF EXISTS %s' % db.dbname)
            self.pg.psql('postgres', 'CREATE DATABASE %s TEMPLATE mdg_base' % db.dbname)
            return db
        db = os.path.join(self.work, name + '.db')
        for sfx in ('', '-wal', '-shm'):
            if os.path.exists(db + sfx):
                os.unlink(db + sfx)
        shutil.copyfile(self.base_db, db)
        os.chmod(db, 0o600)
        return db

    def requests(self, name, procedure, count, certs=0, reason=None, prefix='', holder='valid-01'):
        """A directory of `count` signed requests (made once per name)."""
        if name in self._sets:
            return self._sets[name]
        out = os.path.join(self.work, 'req-' + name)
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        h = self.manifest['holders'][holder]
        ca = self.manifest['cas'][h['ca']]
        applicant = self.applicant
        if holder != 'valid-01':
            applicant = os.path.join(self.work, 'applicant-%s.json' % holder)
            with open(applicant, 'w', encoding='utf-8') as f:
                f.write(json.dumps(h['applicant'], ensure_ascii=False, separators=(',', ':')))
        cmd = [self.bins.mkholders, '--cert', self._path(h['cert']), '--key', self._path(h['key']),
               '--ca-cert', self._path(ca['cert']), '--ca-key', self._path(ca['key']),
               '--applicant', applicant, '--nonce', self._nonce, '--procedure', procedure,
               '--count', count, '--certs', certs, '--out', out, '--prefix', prefix]
        if reason:
            cmd += ['--reason', reason]
        t = time.time()
        run(cmd)
        log('prepared %d %s requests (%s certificates) in %.1f s' % (
            count, procedure, certs or count, time.time() - t))
        self._sets[name] = out
        return out

    # -- measuring

    def rsa(self):
        cmd = [self.bins.rsaverify, self.size['rsa_iters']]
        warm = self._sets.get('warm')
        cmd.append(os.path.join(warm, sorted(os.listdir(warm))[0]) if warm else '-')
        cmd.append(self.holder['key'])      # valid-01's RSA-2048 key: no key generation
        cp = run(cmd)
        return json.loads(cp.stdout)

    def loadgen(self, d, bodies, requests=None, duration=None, concurrency=None, rate=None, path=None,
                content_type=None):
        if isinstance(d, list):
            return self.loadgen_nodes(d, bodies, requests, duration, concurrency, rate)
        cmd = [self.bins.loadgen, '--port', d.port, '--bodies', bodies,
               '--concurrency', concurrency or self.size['concurrency']]
        if path:
            cmd += ['--path', path]
        if content_type:
            cmd += ['--content-type', content_type]
        if requests:
            cmd += ['--requests', requests]
        else:
            cmd += ['--duration', duration]
        if rate:
            cmd += ['--rate', '%.1f' % rate]
        if self._netns:
            cmd = ['nsenter', '--net=/proc/%d/ns/net' % self._netns] + cmd
        cp = run(cmd, timeout=3600)
        return json.loads(cp.stdout.decode().strip().splitlines()[-1])

    def loadgen_nodes(self, ds, bodies, requests, duration, concurrency, rate):
        """One load generator per node, all at once, the connections (and a request count, a rate)
        split between them; bodies: one directory for all, or a list, one per node.  The sum: requests
        over the longest one's time; latency mean and p50 weighted by requests, p90, p99 and max the worst."""
        k = len(ds)
        c = concurrency or self.size['concurrency']
        procs = []
        for i, d in enumerate(ds):
            cmd = [self.bins.loadgen, '--port', d.port, '--bodies', bodies[i] if isinstance(bodies, list) else bodies,
                   '--concurrency', max(1, c // k + (1 if i < c % k else 0))]
            if requests:
                cmd += ['--requests', requests // k + (1 if i < requests % k else 0)]
            else:
                cmd += ['--duration', duration]
            if rate:
                cmd += ['--rate', '%.1f' % (rate / k)]
            procs.append(subprocess.Popen([str(x) for x in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        out = []
        for p in procs:
            o, e = p.communicate(timeout=3600)
            if p.returncode != 0:
                raise RuntimeError('loadgen exited %d: %s' % (p.returncode, e.decode('utf-8', 'replace')[-2000:]))
            out.append(json.loads(o.decode().strip().splitlines()[-1]))
        n = sum(x['requests'] for x in out)
        el = max(x['elapsed_s'] for x in out)
        st = collections.Counter()
        for x in out:
            st.update(x['status'])
        lat = {q: sum(x['latency_us'][q] * x['requests'] for x in out) / n if n else 0 for q in ('mean', 'p50')}
        for q in ('p90', 'p99', 'max'):
            lat[q] = max(x['latency_us'][q] for x in out)
        return {'mode': 'load', 'requests': n, 'errors': sum(x['errors'] for x in out),
                'reconnects': sum(x['reconnects'] for x in out), 'elapsed_s': el, 'rps': n / el if el else 0.0,
                'concurrency': sum(x['concurrency'] for x in out), 'rate': sum(x['rate'] for x in out),
                'latency_us': lat, 'status': dict(st), 'nodes': out}

    def measure(self, name, d, bodies, expect, note='', **kw):
        ds = d if isinstance(d, list) else [d]
        name += self.variant
        for x in ds:
            x.reset_peak()
        waits = PgWaits(ds[0].db) if self.pg is not None and self.args.pg_profile else None
        tasks = TaskStates([x.proc.pid for x in ds if getattr(x, 'proc', None)]) if self.args.pg_profile else None
        if waits:
            self.pg.psql('postgres', 'SELECT pg_stat_statements_reset()')
        c0 = sum(x.cpu_ticks() for x in ds)
        for w in (waits, tasks):
            if w:
                w.start()
        try:
            lg = self.loadgen(d, bodies, **kw)
        finally:
            for w in (waits, tasks):
                if w:
                    w.finish()
        c1 = sum(x.cpu_ticks() for x in ds)
        rsa = self.rsa()
        n = lg['requests']
        cpu_us = (c1 - c0) * 1e6 / CLK_TCK / n if n else 0.0
        ok = sum(v for k, v in lg['status'].items() if k in expect)
        r = {'scenario': name, 'requests': n, 'rps': lg['rps'], 'p50_ms': lg['latency_us']['p50'] / 1000,
             'p99_ms': lg['latency_us']['p99'] / 1000, 'max_ms': lg['latency_us']['max'] / 1000,
             'cpu_us_per_req': cpu_us, 'rsa_verify_us': rsa['cpu_us'],
             'ratio': cpu_us / rsa['cpu_us'] if rsa['cpu_us'] else 0.0,
             'peak_rss_mib': max(x.status('VmHWM') for x in ds) / 1048576, 'status': lg['status'],
             'errors': lg['errors'], 'unexpected': n - ok, 'concurrency': lg['concurrency'],
             'rate': lg['rate'], 'loadavg': os.getloadavg()[0], 'note': note, 'loadgen': lg}
        if len(ds) > 1:
            r['note'] += '; %d nodes on one database, one load generator each (p99: the worse)' % len(ds)
        if waits:
            r['pg_waits'] = waits.summary()
            log('%s: PostgreSQL backends (%d samples): %s' % (name, waits.samples, r['pg_waits']))
            self.pg_statements(r, ds[0].db)
        if tasks:
            r['daemon_threads'] = tasks.summary()
            log('%s: daemon threads (%d samples): %s' % (name, tasks.samples, r['daemon_threads']))
        self.results.append(r)
        log('%-14s %7d req %9.1f req/s  p50 %.2f ms  p99 %.2f ms  cpu %.0f us/req (%.2f x verify)  '
            'rss %.1f MiB  %s%s' % (name, n, r['rps'], r['p50_ms'], r['p99_ms'], cpu_us, r['ratio'],
                                    r['peak_rss_mib'], lg['status'],
                                    ('  errors %d' % lg['errors']) if lg['errors'] else ''))
        return r

    def daemon(self, name, db=None, extra=''):
        return Daemon(self.bins, self.work, name, db or self.copy_db(name), self.args, extra).start()

    def node_counts(self):
        return self.args.nodes if self.pg is not None else [1]

    def daemons(self, name, k):
        """k daemons on one fresh database and one nonce key (k > 1: PostgreSQL only)."""
        db = self.copy_db(name)
        out = []
        try:
            for i in range(k):
                out.append(self.daemon(name if k == 1 else '%s-%d' % (name, i + 1), db))
        except BaseException:
            for d in out:
                d.stop()
            raise
        return out

    def split_bodies(self, bodies, k):
        """k directories of symbolic links, together every file of bodies once."""
        names = sorted(os.listdir(bodies))
        out = []
        for i in range(k):
            d = '%s-part%d' % (bodies, i + 1)
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
            for f in names[i::k]:
                os.symlink(os.path.join(bodies, f), os.path.join(d, f))
            out.append(d)
        return out

    def pg_batches(self, r, db):
        """Group commit as PostgreSQL saw it: the transactions that inserted the rows (xmin), and
        with --pg-profile the WAL flushes and their time (pg_stat_wal, read once the daemons are
        gone, which flushes their statistics)."""
        sizes = db.cluster.psql(db.dbname, 'SELECT n, count(*) FROM (SELECT xmin::text, count(*) n FROM '
                                'acceptances GROUP BY 1) t GROUP BY n ORDER BY n')
        hist = {int(a): int(b) for a, b in (line.split('|') for line in sizes.splitlines())}
        tx = sum(hist.values())
        rows = sum(a * b for a, b in hist.items())
        r['pg_commits'] = tx
        r['pg_batch_mean'] = rows / tx if tx else 0.0
        r['pg_batch_max'] = max(hist) if hist else 0
        r['note'] += '; %d COMMITs, %.1f rows each (max %d)' % (tx, r['pg_batch_mean'], r['pg_batch_max'])
        if self.args.pg_profile:
            w = db.cluster.psql('postgres', 'SELECT wal_sync, wal_sync_time, wal_write, wal_records FROM pg_stat_wal')
            sync, sync_ms, write, recs = w.split('|')
            r['pg_wal'] = {'wal_sync': int(sync), 'wal_sync_ms': float(sync_ms), 'wal_write': int(write),
                           'wal_records': int(recs)}
            if int(sync):
                r['note'] += '; %s WAL fsyncs of %.2f ms mean' % (sync, float(sync_ms) / int(sync))
        log('%s: %s' % (r['scenario'], r['note']))

    def pg_reset_wal(self):
        if self.pg is not None and self.args.pg_profile:
            self.pg.psql('postgres', "SELECT pg_stat_reset_shared('wal')")

    def pg_statements(self, r, db):
        """--pg-profile: the statements of the run (pg_stat_statements, reset before it): calls per
        request, mean execution time, the query's start; most total time first."""
        top = db.cluster.psql('postgres', "SELECT s.calls, round(s.mean_exec_time::numeric, 3), "
                              "regexp_replace(left(s.query, 60), '\\s+', ' ', 'g') FROM pg_stat_statements s "
                              "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '%s' "
                              "ORDER BY s.total_exec_time DESC LIMIT 10" % db.dbname)
        n = r['requests'] or 1
        r['pg_statements'] = [dict(zip(('calls', 'mean_ms', 'query'), x.split('|', 2))) for x in top.splitlines()]
        log('%s: statements per request (calls/req, mean ms, query): %s' % (r['scenario'], '; '.join(
            '%.2f %s %s' % (int(x['calls']) / n, x['mean_ms'], x['query']) for x in r['pg_statements'])))

    def run_len(self):
        s = self.size
        return {'requests': s['requests']} if 'requests' in s else {'duration': s['duration']}

    # -- scenarios

    def sc_warm(self):
        s = self.size
        bodies = self.requests('warm', 'validity-check', s['warm_bodies'], certs=s['warm_certs'])
        for k in self.node_counts():
            tag = '' if k == 1 else '-%dnodes' % k
            ds = self.daemons('warm' + tag, k)
            d = ds[0] if k == 1 else ds
            try:
                for x in ds:
                    self.loadgen(x, bodies, requests=s['warm_bodies'], concurrency=4)    # fills the cache
                peak = self.measure('warm' + tag, d, bodies, {'200'}, note='peak, closed loop', **self.run_len())
                if 'requests' not in s:
                    self.measure('warm-80%' + tag, d, bodies, {'200'}, rate=0.8 * peak['rps'],
                                 note='paced at 80 %% of peak (%.0f/s)' % (0.8 * peak['rps']), **self.run_len())
            finally:
                for x in ds:
                    x.stop()

    def sc_cold(self):
        n = self.size['cold']
        bodies = self.requests('cold', 'validity-check', n)
        d = self.daemon('cold')
        try:
            self.measure('cold', d, bodies, {'200'}, requests=n, note='every request a new certificate')
        finally:
            d.stop()

    def sc_revoke(self):
        n = self.size['revoke']
        bodies = self.requests('revoke', 'revocation', n, reason='keyCompromise')
        for k in self.node_counts():
            tag = '' if k == 1 else '-%dnodes' % k
            ds = self.daemons('revoke' + tag, k)
            db = ds[0].db
            try:
                self.pg_reset_wal()
                r = self.measure('revoke' + tag, ds[0] if k == 1 else ds,
                                 bodies if k == 1 else self.split_bodies(bodies, k), {'201'}, requests=n,
                                 concurrency=min(16, self.size['concurrency']),
                                 note='distinct certificates, durable acceptances')
            finally:
                for x in ds:
                    x.stop()
            rows = int(db_value(db, 'SELECT count(*) FROM acceptances'))
            r['acceptances_in_db'] = rows
            if rows != r['status'].get('201', 0):
                r['note'] += '; MISMATCH: %d rows for %d answers 201' % (rows, r['status'].get('201', 0))
            if self.pg is not None:
                self.pg_batches(r, db)

    def receipts_text(self, interval='1s', rsa=False):
        r = self.manifest['receipts']
        key, cert = (self.rsa_receipt_cert() if rsa else (self._path(r['key']), self._path(r['cert'])))
        return '[receipts]\nkey = %s\ncert = %s\nlog_key = %s\ncheckpoint_interval = %s\n' % (
            key, cert, self._path(r['logKey']), interval)

    def receipt_key_kind(self, rsa):
        key = self.rsa_receipt_cert()[0] if rsa else self._path(self.manifest['receipts']['key'])
        return run(['openssl', 'pkey', '-in', key, '-noout', '-text']).stdout.decode().splitlines()[0].strip()

    def rsa_receipt_cert(self):
        """A receipt certificate like the test PKI's (same CA, subject and extensions) for an RSA-2048
        key instead of its ECDSA P-256 one (openssl req / x509): what an RSA receipt key costs."""
        d = os.path.join(self.work, 'receipt-rsa2048')
        key, cert = os.path.join(d, 'receipt.key.pem'), os.path.join(d, 'receipt.cert.pem')
        if os.path.exists(cert):
            return key, cert
        os.makedirs(d, exist_ok=True)
        r = self.manifest['receipts']
        ca = self.manifest['cas'][r['ca']]
        run(['openssl', 'genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key])
        os.chmod(key, 0o600)
        ext = os.path.join(d, 'ext.cnf')
        with open(ext, 'w', encoding='ascii') as f:
            f.write('keyUsage = critical, digitalSignature, nonRepudiation\nextendedKeyUsage = 1.3.6.1.5.5.7.3.36\n'
                    'subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n')
        subj = '/' + '/'.join(reversed(r['subject'].split(',')))
        csr = os.path.join(d, 'receipt.csr')
        run(['openssl', 'req', '-new', '-key', key, '-subj', subj, '-out', csr])
        run(['openssl', 'x509', '-req', '-in', csr, '-CA', self._path(ca['cert']), '-CAkey', self._path(ca['key']),
             '-set_serial', '0x5a15', '-days', '365', '-sha256', '-extfile', ext, '-out', cert])
        return key, cert

    def get_text(self, d, path):
        with urllib.request.urlopen('http://127.0.0.1:%d%s' % (d.port, path), timeout=30) as a:
            return a.read().decode('utf-8')

    def sc_receipts(self):
        """revoke with [receipts] (the test PKI's receipt certificate, ECDSA P-256, and log key;
        checkpoint_interval 1s), then the same with an RSA-2048 receipt key: the same bodies on a
        fresh database each; every 201 carries a CMS receipt.  The checkpoint the daemon makes
        afterwards must cover every acceptance."""
        for rsa in (False, True):
            self.receipts_run('revoke-receipts' + ('-rsa2048' if rsa else ''), rsa)

    def receipts_run(self, name, rsa):
        n = self.size['revoke']
        bodies = self.requests('revoke', 'revocation', n, reason='keyCompromise')
        d = self.daemon(name, extra=self.receipts_text(rsa=rsa))
        try:
            r = self.measure(name, d, bodies, {'201'}, requests=n, concurrency=min(16, self.size['concurrency']),
                             note='as revoke, with [receipts] (receipt key: %s): a CMS receipt in every '
                             'answer' % self.receipt_key_kind(rsa))
            time.sleep(1.5)     # the next checkpoint
            vkey = self.get_text(d, '/v1/log/key').strip()
            note = self.get_text(d, '/v1/log/checkpoint')
        finally:
            d.stop()
        sys.path.insert(0, os.path.join(SOURCE_ROOT, 'tests', 'e2e'))
        import tlog
        r['checkpoint_size'] = tlog.open_checkpoint(note, vkey)[1]
        rows = int(db_value(d.db, 'SELECT count(*) FROM acceptances'))
        r['acceptances_in_db'] = rows
        if rows != r['status'].get('201', 0) or r['checkpoint_size'] != rows:
            r['note'] += '; MISMATCH: %d rows, checkpoint %d, for %d answers 201' % (
                rows, r['checkpoint_size'], r['status'].get('201', 0))

    def sc_mixed(self):
        n = self.size['mixed']
        warm = self.requests('warm', 'validity-check', self.size['warm_bodies'], certs=self.size['warm_certs'])
        cold = self.requests('mixed-cold', 'validity-check', n // 10)
        rev = self.requests('mixed-rev', 'revocation', n // 10, reason='affiliationChanged')
        out = os.path.join(self.work, 'req-mixed')
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        wf, cf, rf = (sorted(os.listdir(x)) for x in (warm, cold, rev))
        k = 0
        for i in range(n // 10):
            picks = [(warm, wf[(8 * i + j) % len(wf)]) for j in range(8)] + [(cold, cf[i]), (rev, rf[i])]
            for src, f in picks:
                os.symlink(os.path.join(src, f), os.path.join(out, '%07d%s' % (k, f[f.index('.'):])))
                k += 1
        d = self.daemon('mixed')
        try:
            self.loadgen(d, warm, requests=self.size['warm_certs'], concurrency=1)
            self.measure('mixed', d, out, {'200', '201'}, requests=k,
                         note='80 % warm checks, 10 % new certificates, 10 % revocations')
        finally:
            d.stop()

    def sc_refused(self):
        """What a flood of refused requests costs: not DER (the valid bodies less
        their last byte: refused at format, step 2), and certificates of an issuer
        no anchor names (refused at issuer, step 3), each one new or 16 repeated."""
        n = self.size['refused']
        warm = self.requests('warm', 'validity-check', self.size['warm_bodies'], certs=self.size['warm_certs'])
        out = os.path.join(self.work, 'req-refused-format')
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        for f in sorted(os.listdir(warm)):
            with open(os.path.join(warm, f), 'rb') as src, open(os.path.join(out, f), 'wb') as dst:
                dst.write(src.read()[:-1])
        issuer_new = self.requests('refused-issuer', 'validity-check', n, holder='unknown')
        issuer_rep = self.requests('refused-issuer16', 'validity-check', self.size['warm_bodies'],
                                   certs=self.size['warm_certs'], holder='unknown')
        d = self.daemon('refused')
        try:
            self.measure('refused-format', d, out, {'400'}, note='not DER (last byte cut): step 2',
                         **self.run_len())
            self.measure('refused-issuer', d, issuer_new, {'200', '400', '403', '422'}, requests=n,
                         note='issuer no anchor names, every certificate new: step 3')
            self.measure('refused-issuer16', d, issuer_rep, {'200', '400', '403', '422'},
                         note='issuer no anchor names, 16 certificates repeated: step 3', **self.run_len())
        finally:
            d.stop()

    def sc_ocsp(self):
        """`openssl ocsp` as a responder on the same CA (jlis-g2, signing its
        answers with the CA key) and the same status data (the warm set's 16
        certificates good, the J-LIS full CRL's serials revoked), two
        processes (-multi 2: the two cores), driven by the same load generator
        with OCSP requests for the warm set's certificates."""
        s = self.size
        if shutil.which('openssl') is None or subprocess.run(
                ['unshare', '-n', 'true'], capture_output=True).returncode != 0:
            log('ocsp: skipped (needs the openssl command and a network namespace: unshare -n)')
            return
        warm = self.requests('warm', 'validity-check', s['warm_bodies'], certs=s['warm_certs'])
        ca = self.manifest['cas'][self.holder_ca]
        cacert, cakey = self._path(ca['cert']), self._path(ca['key'])
        od = os.path.join(self.work, 'ocsp')
        shutil.rmtree(od, ignore_errors=True)
        os.makedirs(os.path.join(od, 'req'))
        names = sorted(os.listdir(warm))[:s['warm_certs']]
        index = []
        for i, f in enumerate(names):
            pem = os.path.join(od, 'c%02d.pem' % i)
            run(['openssl', 'pkcs7', '-inform', 'DER', '-in', os.path.join(warm, f), '-print_certs', '-out', pem])
            ser = run(['openssl', 'x509', '-in', pem, '-noout', '-serial']).stdout.decode().split('=')[1].strip()
            subj = run(['openssl', 'x509', '-in', pem, '-noout', '-subject', '-nameopt', 'compat']
                       ).stdout.decode().split('=', 1)[1].strip()
            index.append('V\t991231235959Z\t\t%s\tunknown\t%s\n' % (ser, subj))
            run(['openssl', 'ocsp', '-issuer', cacert, '-cert', pem, '-reqout',
                 os.path.join(od, 'req', 'r%02d.ocsp' % i)])
        crl = self._path(self.manifest['crls']['jlis-full']['der'])
        txt = run(['openssl', 'crl', '-inform', 'DER', '-in', crl, '-noout', '-text']).stdout.decode()
        for line in txt.splitlines():
            line = line.strip()
            if line.startswith('Serial Number:'):
                index.append('R\t991231235959Z\t230101000000Z\t%s\tunknown\t/CN=revoked\n' % line.split(':', 1)[1].strip())
        with open(os.path.join(od, 'index.txt'), 'w', encoding='utf-8') as f:
            f.writelines(index)
        with open(os.path.join(od, 'index.txt.attr'), 'w', encoding='utf-8') as f:
            f.write('unique_subject = no\n')    # the warm set's certificates share valid-01's subject
        port = free_port()
        err = open(os.path.join(od, 'stderr.log'), 'ab')
        # `openssl ocsp -port` listens on every interface: it runs in a network
        # namespace of its own holding only the loopback, and the load
        # generator joins it (nsenter), so it is reachable on 127.0.0.1 only.
        ocsp = ['openssl', 'ocsp', '-index', os.path.join(od, 'index.txt'), '-CA', cacert,
                '-rsigner', cacert, '-rkey', cakey, '-port', str(port), '-multi', '2']
        proc = subprocess.Popen(['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh'] + ocsp,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        o = Responder(proc, port)
        self._netns = proc.pid
        try:
            o.wait_ready(self.bins.loadgen, os.path.join(od, 'req', 'r00.ocsp'))
            self.loadgen(o, os.path.join(od, 'req'), requests=200, concurrency=4)
            self.measure('ocsp', o, os.path.join(od, 'req'), {'200'}, path='/',
                         content_type='application/ocsp-request',
                         note='openssl ocsp -multi 2, same CA and status data', **self.run_len())
        finally:
            self._netns = None
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            err.close()

    def sc_crl(self):
        s = self.size
        if self.pg is not None:
            log('crl: skipped on postgresql (mkcrl fill writes an SQLite table; bench/mkcrl import --config '
                'measures the PostgreSQL import)')
            return
        bodies = self.requests('warm', 'validity-check', s['warm_bodies'], certs=s['warm_certs'])
        db = self.copy_db('crl')
        issuer_id = sqlite_count(db, "SELECT id FROM crls WHERE dp IS NULL ORDER BY id LIMIT 1")
        have = 0
        d = None    # one daemon throughout: the entries are added while it runs, as imports are
        try:
            for size in s['crl_sizes']:
                t = time.time()
                run([self.bins.mkcrl, 'fill', '--db', db, '--crl-id', issuer_id, '--count', size - have,
                     '--first', have])
                log('CRL table filled to %d entries in %.1f s' % (size, time.time() - t))
                have = size
                lk = json.loads(run([self.bins.mkcrl, 'lookup', '--db', db, '--crl-id', issuer_id, '--count',
                                     s.get('lookups', 20000), '--first', size]).stdout)
                log('store crl_lookup at %d entries: %.1f µs CPU, %.1f µs wall (half held, half not)' % (
                    size, lk['cpu_us'], lk['wall_us']))
                if d is None:
                    d = self.daemon('crl', db)
                if have == s['crl_sizes'][0]:
                    self.loadgen(d, bodies, requests=s['warm_bodies'], concurrency=4)    # fills the cache
                name = 'crl-%s' % human(size)
                kw = self.run_len()
                if 'requests' in kw:
                    kw['requests'] = s.get('crl_requests', kw['requests'])
                r = self.measure(name, d, bodies, {'200'}, note='%d CRL entries held, peak; one store '
                                 'crl_lookup %.1f µs CPU / %.1f µs wall' % (size, lk['cpu_us'], lk['wall_us']),
                                 **kw)
                r['store_lookup'] = lk
                kw = self.run_len()
                if 'duration' in kw:
                    kw['duration'] = s['crl_duration']
                else:
                    kw['requests'] = s.get('c1_requests', kw['requests'])
                self.measure(name + '-c1', d, bodies, {'200'}, concurrency=1,
                             note='%d CRL entries held, one connection (latency)' % size, **kw)
        finally:
            if d is not None:
                d.stop()

    def sc_import(self):
        n = self.size['import_entries']
        ca = self.manifest['cas'][self.manifest['crls']['jlis-full']['signer']]
        crl = os.path.join(self.work, 'big.crl.der')
        t = time.time()
        run([self.bins.mkcrl, 'crl', '--ca-cert', self._path(ca['cert']), '--ca-key', self._path(ca['key']),
             '--count', n, '--number', int(self.manifest['crls']['jlis-full']['number']) + 1, '--out', crl])
        log('wrote a %d-entry CRL (%.1f MB) in %.1f s' % (n, os.path.getsize(crl) / 1e6, time.time() - t))
        db = self.copy_db('import')
        cfg = os.path.join(self.work, 'import.conf')
        with open(cfg, 'w', encoding='utf-8') as f:
            f.write(config_text(self.args, self.work, db, 1))
        t = time.time()
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cp = run([self.bins.admin, '--config', cfg, 'crl', 'import', crl])
        wall = time.time() - t
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        held = int(db_value(db, "SELECT entries FROM crls WHERE dp IS NULL ORDER BY id LIMIT 1"))
        r = {'scenario': 'import-%s' % human(n), 'requests': n, 'rps': n / wall, 'wall_s': wall,
             'cpu_s': (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime),
             'peak_rss_mib': r1.ru_maxrss / 1024, 'entries_held': held, 'loadavg': os.getloadavg()[0],
             'note': 'madoguchi-admin crl import, end to end (entries/s); %s' % (
                 'all entries held' if held == n else 'HELD %d' % held),
             'output': cp.stdout.decode('utf-8', 'replace').strip()[:200]}
        self.results.append(r)
        log('import %d entries: %.1f s, %.0f entries/s, admin peak %.0f MiB' % (
            n, wall, n / wall, r['peak_rss_mib']))

    def sc_idle(self):
        n = self.size['idle']
        s = self.size
        bodies = self.requests('warm', 'validity-check', s['warm_bodies'], certs=s['warm_certs'])
        d = self.daemon('idle')
        try:
            base = d.status('VmRSS')
            d.reset_peak()
            p = subprocess.Popen([self.bins.loadgen, '--port', str(d.port), '--idle', str(n),
                                  '--hold', str(self.size['hold']),
                                  '--bodies', os.path.join(bodies, sorted(os.listdir(bodies))[0])],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            line = p.stderr.readline().decode()      # READY n: all connected and answered
            held_rss = d.status('VmRSS')
            out, err = p.communicate(timeout=120)
            lg = json.loads(out.decode().strip().splitlines()[-1])
            r = {'scenario': 'idle-%d' % n, 'requests': lg['answered'], 'rps': 0.0,
                 'rss_before_mib': base / 1048576, 'rss_held_mib': held_rss / 1048576,
                 'peak_rss_mib': d.status('VmHWM') / 1048576, 'loadavg': os.getloadavg()[0],
                 'note': '%d keep-alive connections held (%s; %d still open after %.1f s)' % (
                     n, line.strip(), lg['open_after_hold'], lg['hold_s']), 'loadgen': lg}
            self.results.append(r)
            log('idle %d: rss %.1f -> %.1f MiB (peak %.1f), %s' % (
                n, r['rss_before_mib'], r['rss_held_mib'], r['peak_rss_mib'], lg))
        finally:
            d.stop()

    def measure_get(self, name, d, paths, concurrency, note):
        """The load generator's GET mode (--get-paths: one path a line, round-robin) against d."""
        d.reset_peak()
        c0 = d.cpu_ticks()
        cp = run([self.bins.loadgen, '--port', d.port, '--get-paths', paths, '--concurrency', concurrency,
                  '--requests', self.size['proofs']])
        c1 = d.cpu_ticks()
        lg = json.loads(cp.stdout.decode().strip().splitlines()[-1])
        rsa = self.rsa()
        n = lg['requests']
        cpu_us = (c1 - c0) * 1e6 / CLK_TCK / n if n else 0.0
        r = {'scenario': name, 'requests': n, 'rps': lg['rps'], 'p50_ms': lg['latency_us']['p50'] / 1000,
             'p99_ms': lg['latency_us']['p99'] / 1000, 'max_ms': lg['latency_us']['max'] / 1000,
             'cpu_us_per_req': cpu_us, 'rsa_verify_us': rsa['cpu_us'],
             'ratio': cpu_us / rsa['cpu_us'] if rsa['cpu_us'] else 0.0,
             'peak_rss_mib': d.status('VmHWM') / 1048576, 'status': lg['status'], 'errors': lg['errors'],
             'unexpected': n - lg['status'].get('200', 0), 'concurrency': lg['concurrency'], 'rate': lg['rate'],
             'loadavg': os.getloadavg()[0], 'note': note, 'loadgen': lg}
        self.results.append(r)
        log('%-14s %7d req %9.1f req/s  p50 %.2f ms  p99 %.2f ms  cpu %.0f us/req  %s' % (
            name, n, r['rps'], r['p50_ms'], r['p99_ms'], cpu_us, lg['status']))
        return r

    def sc_proof(self):
        """Inclusion and consistency proofs at a big log: bench/mklog fill writes the acceptances, the
        Merkle tree's nodes and two signed checkpoints straight into a copy of the SQLite database
        (as mkcrl fill does the CRL table); bench/mklog proof times the store's own proof code in
        process; then a daemon with [receipts] answers GET /v1/log/proof/{receiptId} (random rows) and
        /v1/log/consistency (random sizes to the latest), timed by the load generator, and some
        answers are verified with tests/e2e/tlog.py against the checkpoints signed by the log key."""
        if self.pg is not None:
            log('proof: skipped on postgresql (mklog fill writes an SQLite file)')
            return
        import base64
        import hashlib
        import random
        sys.path.insert(0, os.path.join(SOURCE_ROOT, 'tests', 'e2e'))
        import tlog

        def rid(seq):
            return hashlib.sha256(b'mklog' + seq.to_bytes(8, 'big')).hexdigest()[:32]

        s = self.size
        issuer = self._path(self.manifest['cas'][self.holder_ca]['cert'])
        for size in s['proof_sizes']:
            name = 'proof-%s' % human(size)
            db = self.copy_db(name)
            fill = json.loads(run([self.bins.mklog, 'fill', '--db', db, '--count', size, '--log-key',
                                   self._path(self.manifest['receipts']['logKey']), '--issuer-cert', issuer],
                                  timeout=7200).stdout)
            log('log filled to %d acceptances in %.1f s (indexes %.1f s), %.0f MB' % (
                size, fill['seconds'], fill['index_seconds'], os.path.getsize(db) / 1e6))
            inproc = json.loads(run([self.bins.mklog, 'proof', '--db', db, '--count', s['proofs']]).stdout)
            log('in process at %d: %s' % (size, inproc))
            rng = random.Random(15)
            d = self.daemon(name, db, extra=self.receipts_text())
            try:
                quiet = 1.0 if 'requests' in s else 5.0     # no requests: the checkpointer's own cost
                c0 = d.cpu_ticks()
                time.sleep(quiet)
                idle_pct = (d.cpu_ticks() - c0) * 100.0 / CLK_TCK / quiet
                log('%s: the daemon idle for %.0f s used %.1f %% of a core' % (name, quiet, idle_pct))
                vkey = self.get_text(d, '/v1/log/key').strip()
                _, n, root = tlog.open_checkpoint(self.get_text(d, '/v1/log/checkpoint'), vkey)
                _, m, root_m = tlog.open_checkpoint(
                    sqlite_count(db, 'SELECT note FROM checkpoints ORDER BY tree_size LIMIT 1'), vkey)
                if n != size or m >= n:
                    raise RuntimeError('%s: checkpoints of sizes %d and %d for %d acceptances' % (name, m, n, size))
                for _ in range(s['proof_checks']):
                    seq = rng.randrange(1, size + 1)
                    p = json.loads(self.get_text(d, '/v1/log/proof/' + rid(seq)))
                    leaf = base64.b64decode(p['leaf'], validate=True)
                    if json.loads(leaf)['receiptId'] != rid(seq) or p['logIndex'] != seq - 1 or p['treeSize'] != n:
                        raise RuntimeError('%s: the proof of seq %d is not of that row' % (name, seq))
                    tlog.verify_inclusion(p['logIndex'], n, tlog.leaf_hash(leaf),
                                          [base64.b64decode(x, validate=True) for x in p['inclusion']], root)
                c = json.loads(self.get_text(d, '/v1/log/consistency?from=%d&to=%d' % (m, n)))
                tlog.verify_consistency(m, n, root_m, root, [base64.b64decode(x, validate=True) for x in c['proof']])
                log('%s: %d inclusion proofs and the consistency proof %d -> %d verified (tests/e2e/tlog.py)' % (
                    name, s['proof_checks'], m, n))
                paths = os.path.join(self.work, name + '.paths')
                with open(paths, 'w', encoding='ascii') as f:
                    for _ in range(s['proofs']):
                        f.write('/v1/log/proof/%s\n' % rid(rng.randrange(1, size + 1)))
                cpaths = os.path.join(self.work, name + '.cpaths')
                with open(cpaths, 'w', encoding='ascii') as f:
                    for _ in range(s['proofs']):
                        f.write('/v1/log/consistency?from=%d&to=%d\n' % (rng.randrange(1, n), n))
                ic, cc = inproc['inclusion'], inproc['consistency']
                note = ('%d acceptances; in process (mklog proof, one thread): inclusion p50 %.0f / p99 %.0f µs '
                        '(CPU %.0f / %.0f), consistency p50 %.0f / p99 %.0f µs (CPU %.0f / %.0f); %d proofs '
                        'verified by tlog.py' % (size, ic['p50_us'], ic['p99_us'], ic['cpu_p50_us'], ic['cpu_p99_us'],
                                                 cc['p50_us'], cc['p99_us'], cc['cpu_p50_us'], cc['cpu_p99_us'],
                                                 s['proof_checks']))
                r = self.measure_get(name, d, paths, 1, note)
                r['store_proof'] = inproc
                r['fill'] = fill
                r['idle_cpu_pct'] = idle_pct
                r['note'] += '; idle daemon %.1f %% of a core' % idle_pct
                self.measure_get(name + '-c16', d, paths, 16, 'the same, 16 connections')
                self.measure_get(name + '-consistency', d, cpaths, 1,
                                 'GET /v1/log/consistency from a random size to the latest, one connection')
            finally:
                d.stop()
            for sfx in ('', '-wal', '-shm'):
                if os.path.exists(db + sfx) and not self.args.keep:
                    os.unlink(db + sfx)


def human(n):
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return '%dM' % (n // 1_000_000)
    if n >= 1000 and n % 1000 == 0:
        return '%dk' % (n // 1000)
    return str(n)


class PgDb(str):
    """A database of the driver's PostgreSQL cluster: its dsn, with the cluster and the name."""

    def __new__(cls, cluster, dbname):
        s = str.__new__(cls, cluster.dsn(dbname))
        s.cluster = cluster
        s.dbname = dbname
        return s


class PgWaits(threading.Thread):
    """--pg-profile: samples pg_stat_activity every 0.1 s while a run lasts (the client backends of the
    scenario's database): what the connections of the daemons wait on.  Each sample is one psql."""

    def __init__(self, db, period=0.1):
        super().__init__(daemon=True)
        self.db = db
        self.period = period
        self.counts = collections.Counter()
        self.samples = 0
        self._halt = threading.Event()

    def run(self):
        q = ("SELECT state || ' ' || coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity "
             "WHERE datname = '%s' AND backend_type = 'client backend'" % self.db.dbname)
        while not self._halt.wait(self.period):
            try:
                out = self.db.cluster.psql('postgres', q)
            except Exception:
                continue
            self.samples += 1
            self.counts.update(out.splitlines())

    def finish(self):
        self._halt.set()
        self.join(timeout=10)

    def summary(self):
        """the mean number of backends in each state per sample, largest first"""
        n = self.samples or 1
        return {k: round(v / n, 2) for k, v in self.counts.most_common()}


class TaskStates(threading.Thread):
    """--pg-profile: samples the daemons' threads every 10 ms while a run lasts: R (on a core or
    waiting for one) or the system call a sleeping thread waits in (poll: libpq waiting for the
    database; futex: a lock or condition variable, e.g. group commit's; epoll_wait: idle)."""

    NAMES = {'7': 'poll', '202': 'futex', '232': 'epoll_wait', '281': 'epoll_pwait', '0': 'read',
             '45': 'recvfrom', '47': 'recvmsg', '1': 'write', '44': 'sendto', '46': 'sendmsg',
             '271': 'ppoll', '23': 'select', '270': 'pselect6', '74': 'fsync', '75': 'fdatasync'}

    def __init__(self, pids, period=0.01):
        super().__init__(daemon=True)
        self.pids = pids
        self.period = period
        self.counts = collections.Counter()
        self.samples = 0
        self._halt = threading.Event()

    def run(self):
        while not self._halt.wait(self.period):
            self.samples += 1
            for pid in self.pids:
                try:
                    tids = os.listdir('/proc/%d/task' % pid)
                except OSError:
                    continue
                for t in tids:
                    try:
                        with open('/proc/%d/task/%s/stat' % (pid, t), encoding='ascii') as f:
                            st = f.read().rsplit(')', 1)[1].split()[0]
                        if st == 'R':
                            self.counts['R'] += 1
                            continue
                        with open('/proc/%d/task/%s/syscall' % (pid, t), encoding='ascii') as f:
                            nr = f.read().split()[0]
                        self.counts[self.NAMES.get(nr, 'syscall ' + nr)] += 1
                    except (OSError, IndexError):
                        pass

    def finish(self):
        self._halt.set()
        self.join(timeout=10)

    def summary(self):
        n = self.samples or 1
        return {k: round(v / n, 2) for k, v in self.counts.most_common()}


def db_value(db, sql):
    """The first column of the first row of sql, on either backend."""
    if isinstance(db, PgDb):
        return db.cluster.psql(db.dbname, sql).splitlines()[0]
    return sqlite_count(db, sql)


def sqlite_count(db, sql):
    import sqlite3
    c = sqlite3.connect(db, timeout=10)
    try:
        return c.execute(sql).fetchone()[0]
    finally:
        c.close()


def table(results, m, args, rsa):
    out = ['| scenario | requests | req/s | p50 ms | p99 ms | max ms | server CPU µs/req | '
           '÷ one RSA-2048 verify | peak RSS MiB | statuses | notes |',
           '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|']
    for r in results:
        if r['scenario'].startswith('import'):
            out.append('| %s | %d entries | **%.0f entries/s** | | | | | | %.0f (admin) | | %s; %.1f s wall, %.1f s CPU |' % (
                r['scenario'], r['requests'], r['rps'], r['peak_rss_mib'], r['note'], r['wall_s'], r['cpu_s']))
        elif r['scenario'].startswith('idle'):
            out.append('| %s | | | | | | | | **%.1f** (%.1f before) | | %s |' % (
                r['scenario'], r['peak_rss_mib'], r['rss_before_mib'], r['note']))
        else:
            st = ' '.join('%s×%d' % (k, v) for k, v in sorted(r['status'].items()))
            if r['errors']:
                st += ' err×%d' % r['errors']
            out.append('| %s | %d | %.0f | %.2f | %.2f | %.2f | %.0f | %.2f | %.1f | %s | %s (c=%d, load %.1f) |' % (
                r['scenario'], r['requests'], r['rps'], r['p50_ms'], r['p99_ms'], r['max_ms'],
                r['cpu_us_per_req'], r['ratio'], r['peak_rss_mib'], st, r['note'], r['concurrency'],
                r['loadavg']))
    head = ('Machine: %d cores, %s, Linux %s; %s; load average at start %.2f %.2f %.2f; '
            'daemon threads = %d; one RSA-2048 verification = %.1f µs CPU (bench/rsaverify, same run); '
            'backend %s.' % (m['nproc'], m['cpu'], m['kernel'], m['date'], *m['loadavg'], args.threads, rsa,
                             m.get('backend', 'sqlite')))
    return head + '\n\n' + '\n'.join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--scenario', action='append', choices=SCENARIOS,
                    help='run only this scenario (repeatable); default: all')
    g = ap.add_mutually_exclusive_group()
    g.add_argument('--quick', dest='size', action='store_const', const='quick')
    g.add_argument('--smoke', dest='size', action='store_const', const='smoke')
    ap.set_defaults(size='full')
    ap.add_argument('--build-dir', default='/tmp/mdg-bench-release')
    ap.add_argument('--no-build', action='store_true', help='binaries from MDG_DAEMON etc.')
    ap.add_argument('--threads', type=int, default=8, help='daemon worker threads (default 8)')
    ap.add_argument('--pki', help='an existing `mkpki gen` directory to use')
    ap.add_argument('--work', help='working directory (default: a new temporary one)')
    ap.add_argument('--keep', action='store_true', help='keep the working directory')
    ap.add_argument('--json', help='also write the results as JSON here')
    ap.add_argument('--backend', choices=('sqlite', 'postgresql'), default='sqlite',
                    help='the store: sqlite (a file per scenario) or postgresql (a private cluster, '
                    'a database per scenario)')
    ap.add_argument('--nodes', type=lambda v: [int(x) for x in v.split(',')], default=[1, 2],
                    help='postgresql: warm and revoke on these numbers of nodes on one database (default 1,2)')
    ap.add_argument('--standby', action=argparse.BooleanOptionalAction, default=None,
                    help='postgresql: then warm, revoke and mixed again with a synchronous standby '
                    '(default: yes, not with --smoke)')
    ap.add_argument('--pg-profile', action='store_true',
                    help='pg_stat_statements, track_wal_io_timing, pg_stat_activity sampled (postgresql); '
                    'the daemons\' threads sampled (either backend)')
    args = ap.parse_args()
    if args.standby is None:
        args.standby = args.backend == 'postgresql' and args.size != 'smoke'

    m = machine()
    bins = Bins(args)
    b = Bench(args, bins)
    log('work directory %s, size %s' % (b.work, args.size))
    try:
        b.setup()
        for sc in args.scenario or SCENARIOS:
            log('scenario %s' % sc)
            getattr(b, 'sc_' + sc)()
        if b.pg is not None:
            m['backend'] = 'postgresql (%s, private cluster: fsync on, synchronous_commit = on, Unix socket)' % (
                b.pg_version)
            if args.standby:
                b.start_standby()
                for sc in [x for x in args.scenario or SCENARIOS if x in ('warm', 'revoke', 'mixed')]:
                    log('scenario %s, synchronous standby' % sc)
                    getattr(b, 'sc_' + sc)()
        costs = b.rsa()
        rsa = costs['cpu_us']
        m['loadavg_end'] = os.getloadavg()
        text = table(b.results, m, args, rsa)
        if costs.get('d2i_x509_us', -1) > 0:
            text += ('\n\nParsing one request (d2i_CMS_ContentInfo) costs %.1f µs CPU, of which parsing its '
                     'certificate (d2i_X509 alone: %.1f µs) is nearly all: OpenSSL 3.0 decodes the public key '
                     'through a new OSSL_DECODER context each time.' % (costs['d2i_cms_us'], costs['d2i_x509_us']))
        by = {r['scenario']: r for r in b.results}
        if 'warm' in by and 'ocsp' in by and by['ocsp']['rps'] > 0:
            text += ('\n\nWindow warm checks / openssl ocsp answers, same run: %.0f / %.0f = %.2f x '
                     '(server CPU per answer %.0f / %.0f µs).' % (
                         by['warm']['rps'], by['ocsp']['rps'], by['warm']['rps'] / by['ocsp']['rps'],
                         by['warm']['cpu_us_per_req'], by['ocsp']['cpu_us_per_req']))
        def mean(name, key):
            v = [r[key] for r in b.results if r['scenario'] == name]
            return sum(v) / len(v), len(v)
        for rr in ('revoke-receipts', 'revoke-receipts-rsa2048'):
            if 'revoke' in by and rr in by and by['revoke']['rps'] > 0:
                (a, na), (z, nz) = mean(rr, 'rps'), mean('revoke', 'rps')
                ca, cz = mean(rr, 'cpu_us_per_req')[0], mean('revoke', 'cpu_us_per_req')[0]
                text += ('\n\nDurable revocations %s / revoke, same run (mean of %d and %d runs): %.0f / %.0f/s '
                         '= %.3f; server CPU per revocation %.0f / %.0f µs = %.3f.' % (
                             rr, na, nz, a, z, a / z, ca, cz, ca / cz if cz else 0.0))
        print(text)
        print('\nLoad average at the end: %.2f %.2f %.2f' % m['loadavg_end'])
        if args.json:
            with open(args.json, 'w', encoding='utf-8') as f:
                json.dump({'machine': m, 'size': args.size, 'threads': args.threads, 'rsa_verify_us': rsa,
                           'parse_costs': costs, 'daemon_exits': Daemon.bench_exits,
                           'results': b.results}, f, indent=1)
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(b.work, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
