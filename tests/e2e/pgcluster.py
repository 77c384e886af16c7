"""A private PostgreSQL cluster for the tests (docs/store.md "PostgreSQL"):
initdb + pg_ctl in a temporary directory, as an unprivileged user (CI runs
as root: `runuser -u nobody --`), listen_addresses = '' (a Unix socket in
the directory only), fsync on, bounded waits, always stopped at exit. No
systemd.  Stdlib only.

    c = pgcluster.shared()          # one per test process, started on first use
    db = c.new_database()           # a fresh database name
    c.dsn(db)                       # "host=<sockdir> port=<p> dbname=<db> user=<u>"
    c.psql(db, 'SELECT 1')          # text output, raises on error
    s = c.make_standby('s')         # pg_basebackup -R, synchronous standby
"""

import atexit
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time

_BIN_DIRS = sorted(glob.glob('/usr/lib/postgresql/*/bin'), reverse=True)
BIN = os.environ.get('MDG_PG_BIN') or next(
    (d for d in _BIN_DIRS if os.path.exists(os.path.join(d, 'initdb'))), '')
RUN_AS = 'nobody'

_clusters = []
_shared = None


def available():
    """'' if a cluster can be started here, else why not."""
    if not BIN or not os.path.exists(os.path.join(BIN, 'pg_ctl')):
        return 'no PostgreSQL server binaries (initdb, pg_ctl) found: install postgresql-15'
    if os.geteuid() == 0 and shutil.which('runuser') is None:
        return 'running as root without runuser'
    return ''


def _as_user(cmd):
    if os.geteuid() == 0:
        return ['runuser', '-u', RUN_AS, '--'] + cmd
    return cmd


def _run(cmd, timeout=60, check=True, env=None):
    cp = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env)
    if check and cp.returncode != 0:
        raise RuntimeError('%s exited %d: %s %s' % (' '.join(cmd), cp.returncode,
                                                   cp.stdout.decode('utf-8', 'replace'),
                                                   cp.stderr.decode('utf-8', 'replace')))
    return cp


def _stop_all():
    for c in reversed(_clusters):
        try:
            c.stop('immediate')
        except Exception:
            pass
        if os.environ.get('MDG_E2E_KEEP') != '1':
            shutil.rmtree(c.base, ignore_errors=True)


atexit.register(_stop_all)


class Cluster:
    def __init__(self, name='p', base=None, port=5432):
        why = available()
        if why:
            raise RuntimeError(why)
        self.base = base or tempfile.mkdtemp(prefix='mdg-pg-%s-' % name)
        self.name = name
        self.data = os.path.join(self.base, 'data')
        self.sock = os.path.join(self.base, 'sock')
        self.log = os.path.join(self.base, 'postgres.log')
        self.port = port
        self.user = RUN_AS if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self._n = 0
        os.makedirs(self.sock, exist_ok=True)
        if os.geteuid() == 0:
            pw = pwd.getpwnam(RUN_AS)
            for p in (self.base, self.sock):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        os.chmod(self.base, 0o755)
        _clusters.append(self)

    def _settings(self):
        return ("listen_addresses = ''\n"
                "unix_socket_directories = '%s'\n"
                "port = %d\n"
                "fsync = on\n"
                "synchronous_commit = on\n"
                "max_connections = 200\n"
                "shared_buffers = 64MB\n"
                "wal_level = replica\n"
                "max_wal_senders = 4\n"
                "logging_collector = off\n" % (self.sock, self.port))

    def init(self):
        _run(_as_user([os.path.join(BIN, 'initdb'), '-D', self.data, '-U', self.user,
                       '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']), timeout=120)
        self.append_conf(self._settings())
        with open(os.path.join(self.data, 'pg_hba.conf'), 'a') as f:
            f.write('local replication all trust\n')
        return self

    def append_conf(self, text):
        with open(os.path.join(self.data, 'postgresql.conf'), 'a') as f:
            f.write(text)

    def pg_ctl(self, *args, timeout=60, check=True):
        return _run(_as_user([os.path.join(BIN, 'pg_ctl'), '-D', self.data, '-w', '-t', '30']
                             + list(args)), timeout=timeout, check=check)

    def start(self):
        self.pg_ctl('-l', self.log, 'start')
        return self

    def stop(self, mode='fast'):
        if os.path.exists(os.path.join(self.data, 'postmaster.pid')):
            self.pg_ctl('-m', mode, 'stop', check=False)

    def promote(self):
        self.pg_ctl('promote')

    def running(self):
        return self.pg_ctl('status', check=False).returncode == 0

    def dsn(self, db, **extra):
        s = 'host=%s port=%d dbname=%s user=%s' % (self.sock, self.port, db, self.user)
        for k, v in extra.items():
            s += ' %s=%s' % (k, v)
        return s

    def psql(self, db, sql, timeout=60):
        cp = _run([os.path.join(BIN, 'psql'), '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
                   '-d', self.dsn(db), '-c', sql], timeout=timeout)
        return cp.stdout.decode('utf-8').strip()

    def new_database(self, prefix='mdg'):
        self._n += 1
        name = '%s_%d_%d' % (prefix, os.getpid(), self._n)
        self.psql('postgres', 'CREATE DATABASE %s' % name)
        return name

    def make_standby(self, name='s'):
        """A synchronous standby of this cluster (pg_basebackup -R), started;
        this cluster is told to wait for it (synchronous_standby_names)."""
        sb = Cluster(name=name, port=self.port)
        _run(_as_user([os.path.join(BIN, 'pg_basebackup'), '-D', sb.data, '-R', '-X', 'stream',
                       '-h', self.sock, '-p', str(self.port), '-U', self.user,
                       '-c', 'fast', '-d', 'application_name=%s' % name]), timeout=120)
        sb.append_conf(sb._settings() + "cluster_name = '%s'\n" % name + "primary_conninfo = 'host=%s port=%d user=%s "
                       "application_name=%s'\n" % (self.sock, self.port, self.user, name))
        sb.start()
        self.append_conf("synchronous_standby_names = '%s'\n" % name)
        self.pg_ctl('reload')
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.psql('postgres', "SELECT sync_state FROM pg_stat_replication WHERE "
                         "application_name = '%s'" % name) == 'sync':
                return sb
            time.sleep(0.2)
        raise RuntimeError('standby %s not synchronous within 30 s' % name)


def shared():
    """The test process's cluster, initialised and started on first use."""
    global _shared
    if _shared is None:
        _shared = Cluster().init().start()
    return _shared
