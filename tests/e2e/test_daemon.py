"""madoguchid as a program: --check-config, refusing bad databases, health
and readiness, graceful stop, request logs, the nonce key file."""

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (DAEMON, DaemonCase, Daemon, ENDPOINT, FRESH_CRLS, run,  # noqa: E402
                     shared_pki, sqlite, recv_response)


def text(cp):
    return (cp.stdout + cp.stderr).decode('utf-8', 'replace')


class CheckConfig(unittest.TestCase):
    """--check-config, and refusing to start on a bad config."""

    @classmethod
    def setUpClass(cls):
        cls.pki = shared_pki()

    def check(self, d):
        return run([DAEMON, '--config', d.config, '--check-config'], timeout=30)

    def assertClearFailure(self, cp, mention=None):
        out = text(cp)
        self.assertNotEqual(cp.returncode, 0, 'accepted a bad config: ' + out)
        self.assertGreater(cp.returncode, 0, 'crashed (signal): ' + out)
        self.assertLess(cp.returncode, 128, 'crashed: ' + out)
        self.assertTrue(out.strip(), 'no message')
        if mention:
            self.assertIn(mention, out)

    def test_good_config(self):
        d = Daemon(self.pki, name='goodcfg')
        cp = self.check(d)
        self.assertEqual(cp.returncode, 0, text(cp))

    def test_unknown_key(self):
        d = Daemon(self.pki, name='unknownkey', server={'no_such_key': '1'}, init_db=False)
        self.assertClearFailure(self.check(d), 'no_such_key')

    def test_unknown_section(self):
        d = Daemon(self.pki, name='unknownsec', init_db=False,
                   extra_text='[nosuchsection]\nfoo = 1\n')
        self.assertClearFailure(self.check(d), 'unknown section [nosuchsection]')

    def test_bad_durations(self):
        for key, value in (('nonce_ttl', '5 minutes'), ('crl_max_age', '1x'),
                           ('crl_cutoff', 'soon'), ('nonce_ttl', '-5s')):
            with self.subTest(key=key, value=value):
                d = Daemon(self.pki, name='baddur', pki_opts={key: value}, init_db=False)
                cp = self.check(d)
                self.assertClearFailure(cp, key)
                # the answer says which forms a duration takes
                for form in ('300s', '5m', '1h'):
                    self.assertIn(form, text(cp))


    def test_bad_numbers(self):
        for key, value in (('port', 'http'), ('port', '70000'), ('max_inflight', 'many'),
                           ('max_body', '-1')):
            with self.subTest(key=key, value=value):
                d = Daemon(self.pki, name='badnum', server={key: value}, init_db=False)
                self.assertClearFailure(self.check(d))

    def test_bad_crl_issue_time(self):
        d = Daemon(self.pki, name='badtime', pki_opts={'crl_issue_time': '25:00+09:00'},
                   init_db=False)
        self.assertClearFailure(self.check(d))

    def test_missing_anchors_dir(self):
        missing = os.path.join(self.pki.root, 'no-such-anchors')
        d = Daemon(self.pki, name='noanchors', pki_opts={'anchors': missing}, init_db=False)
        self.assertClearFailure(self.check(d))
        # and the daemon itself refuses to start
        d2 = Daemon(self.pki, name='noanchors2')
        d2.sections['pki']['anchors'] = missing
        d2.write_config()
        cp = run([DAEMON, '--config', d2.config], timeout=15)
        self.assertClearFailure(cp)

    def test_checks_what_the_start_checks(self):
        """--check-config refuses what the start refuses, with the start's
        message (issue 12 item 5): a listen value that is no numeric address,
        a half TLS pair, a store the door cannot open."""
        cases = (
            ({'server': {'listen': 'localhost'}},
             "listen: 'localhost' is not a numeric IPv4 or IPv6 address"),
            ({'server': {'tls_cert': os.path.join(self.pki.root, 'x.pem')}, 'init_db': False},
             'tls_cert and tls_key must be set together'),
            # "not built into this madoguchi", or (built in) its own reason
            ({'store': {'backend': 'postgresql', 'dsn': 'host=/nonexistent dbname=x'},
              'init_db': False}, None),
        )
        for opts, message in cases:
            with self.subTest(opts=opts):
                d = Daemon(self.pki, name='startcheck', **opts)
                cp = self.check(d)
                self.assertClearFailure(cp, message)
                self.assertNotIn('configuration OK', text(cp))
                start = run([DAEMON, '--config', d.config], timeout=30)
                self.assertClearFailure(start, message)
                self.assertEqual(self.errors(cp), self.errors(start)[:len(self.errors(cp))])

    @staticmethod
    def errors(cp):
        """The messages of the error lines."""
        out = []
        for line in text(cp).splitlines():
            try:
                j = json.loads(line)
            except ValueError:
                continue
            if isinstance(j, dict) and j.get('level') == 'error':
                out.append(j.get('msg'))
        return out

    def test_admin_listen_said_as_the_start_says_it(self):
        # the start serves without the admin listener: --check-config says so
        d = Daemon(self.pki, name='adminlisten', admin={'listen': 'localhost'})
        cp = self.check(d)
        self.assertEqual(cp.returncode, 0, text(cp))
        self.assertIn("[admin] listen: 'localhost' is not a numeric IPv4 or IPv6 address: "
                      'serving without metrics and admin API', text(cp))

    def test_creates_nothing(self):
        """--check-config reports a missing nonce key, creates none; the start
        creates it."""
        d = Daemon(self.pki, name='nokey')
        if os.path.exists(d.nonce_key):
            os.unlink(d.nonce_key)
        before = sorted(os.listdir(d.dir))
        cp = self.check(d)
        self.assertEqual(cp.returncode, 0, text(cp))
        self.assertIn('would be created', text(cp))
        self.assertFalse(os.path.exists(d.nonce_key), 'check-config created the nonce key')
        self.assertEqual(sorted(os.listdir(d.dir)), before)
        # a key directory it could not create the key in: refused as the start refuses
        d2 = Daemon(self.pki, name='nokeydir')
        d2.sections['pki']['nonce_key_file'] = os.path.join(d2.dir, 'no-such-dir', 'nonce.key')
        d2.write_config()
        self.assertClearFailure(self.check(d2), 'cannot create nonce key')

    def test_missing_config_file(self):
        cp = run([DAEMON, '--config', os.path.join(self.pki.root, 'no-such.conf')], timeout=15)
        self.assertClearFailure(cp)


class CommandLine(unittest.TestCase):
    """--version, --help, the default --config, port in use, plain text at
    a terminal (issue 16 item 7)."""

    @classmethod
    def setUpClass(cls):
        cls.pki = shared_pki()

    def test_version_and_help(self):
        cp = run([DAEMON, '--version'])
        self.assertEqual(cp.returncode, 0, text(cp))
        self.assertRegex(cp.stdout.decode(), r'^madoguchid \d+\.\d+\.\d+\n$')
        cp = run([DAEMON, '--help'])
        self.assertEqual(cp.returncode, 0, text(cp))
        self.assertIn('MADOGUCHI_CONFIG', cp.stdout.decode())
        self.assertIn('/etc/madoguchi/madoguchi.conf', cp.stdout.decode())

    def test_default_config_from_the_environment(self):
        d = Daemon(self.pki, name='envcfg')
        env = dict(os.environ, MADOGUCHI_CONFIG=d.config)
        cp = subprocess.run([DAEMON, '--check-config'], env=env, capture_output=True, timeout=30)
        self.assertEqual(cp.returncode, 0, text(cp))
        env['MADOGUCHI_CONFIG'] = os.path.join(d.dir, 'nowhere.conf')
        cp = subprocess.run([DAEMON, '--check-config'], env=env, capture_output=True, timeout=30)
        self.assertEqual(cp.returncode, 1, text(cp))
        self.assertIn('nowhere.conf', text(cp))
        self.assertIn('MADOGUCHI_CONFIG', text(cp))
        if not os.path.exists('/etc/madoguchi/madoguchi.conf'):
            env.pop('MADOGUCHI_CONFIG')
            cp = subprocess.run([DAEMON, '--check-config'], env=env, capture_output=True,
                                timeout=30)
            self.assertEqual(cp.returncode, 1, text(cp))
            self.assertIn('/etc/madoguchi/madoguchi.conf', text(cp))
            self.assertIn('--config', text(cp))

    def test_port_in_use_is_named(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('127.0.0.1', 0))
        s.listen(1)
        port = s.getsockname()[1]
        try:
            d = Daemon(self.pki, name='inuse', server={'port': port})
            cp = run([DAEMON, '--config', d.config], timeout=15)
            self.assertEqual(cp.returncode, 1, text(cp))
            self.assertIn('port %d in use on 127.0.0.1' % port, text(cp))
            self.assertNotIn('port 0', text(cp))
        finally:
            s.close()

    def test_plain_text_at_a_terminal(self):
        """stderr a terminal: plain lines; not a terminal: JSON lines."""
        import pty
        d = Daemon(self.pki, name='tty', init_db=False,
                   extra_text='[nosuchsection]\nfoo = 1\n')
        master, slave = pty.openpty()
        try:
            p = subprocess.Popen([DAEMON, '--config', d.config], stdin=subprocess.DEVNULL,
                                 stdout=slave, stderr=slave)
            os.close(slave)
            slave = None
            self.assertEqual(p.wait(timeout=15), 1)
            out = b''
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
        finally:
            os.close(master)
            if slave is not None:
                os.close(slave)
        line = out.decode('utf-8', 'replace').strip()
        self.assertRegex(line, r'^\d{4}-\d\d-\d\dT\S+ error: config: .*unknown section '
                               r'\[nosuchsection\]')
        self.assertNotIn('{', line)
        cp = run([DAEMON, '--config', d.config], timeout=15)
        self.assertTrue(cp.stderr.decode().startswith('{"time":'), cp.stderr)


class DatabaseRefusal(unittest.TestCase):
    """The daemon refuses an uninitialised database or the wrong schema
    version: a clear message, non-zero exit, no crash."""

    @classmethod
    def setUpClass(cls):
        cls.pki = shared_pki()

    def assertRefusesToStart(self, d):
        cp = run([DAEMON, '--config', d.config], timeout=15)
        out = text(cp)
        self.assertNotEqual(cp.returncode, 0, out)
        self.assertGreater(cp.returncode, 0, 'crashed: ' + out)
        self.assertLess(cp.returncode, 128, 'crashed: ' + out)
        self.assertTrue(out.strip(), 'no message')
        return out

    def test_uninitialised_database(self):
        d = Daemon(self.pki, name='uninit', init_db=False)
        self.assertRefusesToStart(d)

    @harness.sqlite_only('pokes the SQLite file (its tables, PRAGMA user_version)')
    def test_empty_database_file(self):
        d = Daemon(self.pki, name='emptydb', init_db=False)
        sqlite(d.db, 'CREATE TABLE unrelated (x);')
        self.assertRefusesToStart(d)

    @harness.sqlite_only('pokes the SQLite file (its tables, PRAGMA user_version)')
    def test_wrong_user_version(self):
        d = Daemon(self.pki, name='badver', crls=())
        version = int(sqlite(d.db, 'PRAGMA user_version;'))
        self.assertGreater(version, 0, 'db init should set user_version')
        for v in (version + 1, 999):
            with self.subTest(user_version=v):
                sqlite(d.db, 'PRAGMA user_version = %d;' % v)
                self.assertRefusesToStart(d)
        sqlite(d.db, 'PRAGMA user_version = %d;' % version)
        d.start()
        d.stop_and_check()


class Running(DaemonCase):
    """The default fixture: fresh CRLs plus the stale partition."""

    def test_healthz(self):
        a = self.daemon.get('/healthz')
        self.assertEqual(a.status, 200, repr(a))
        self.assertIn('no-store', a.header('cache-control', ''))

    def test_connections_kept_alive_across_answers(self):
        # GET, 404 and a POST on one connection: each answer leaves it open
        import http.client
        c = http.client.HTTPConnection('127.0.0.1', self.daemon.port, timeout=10)
        try:
            for method, path, body in (('GET', '/v1/nonce', None), ('GET', '/healthz', None),
                                       ('GET', '/nowhere', None), ('GET', '/', None),
                                       ('POST', '/v1/validity-checks', b'junk')):
                hdrs = {'Content-Type': 'application/cms'} if body else {}
                c.request(method, path, body=body, headers=hdrs)
                r = c.getresponse()
                r.read()
                self.assertNotEqual((r.getheader('Connection') or '').lower(), 'close',
                                    '%s %s' % (method, path))
                self.assertIsNotNone(c.sock, '%s %s closed the connection' % (method, path))
        finally:
            c.close()

    def test_body_to_a_bodiless_path_is_not_drained(self):
        # a huge or endless upload to a path that takes none is answered at once
        for head in (b'POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n',
                     b'POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'):
            s = socket.create_connection(('127.0.0.1', self.daemon.port), timeout=5)
            try:
                s.sendall(head + b'x' * 1000)
                t = time.monotonic()
                first = s.recv(100)
                self.assertLess(time.monotonic() - t, 3)
                self.assertTrue(first.startswith(b'HTTP/1.1 40'), first)
            finally:
                s.close()

    def test_readyz_503_while_a_scope_is_stale(self):
        a = self.daemon.get('/readyz')
        self.assertEqual(a.status, 503, repr(a))
        self.assertIn('no-store', a.header('cache-control', ''))

    def test_service_error_page_says_503_too(self):
        """A stale CRL answers serviceError with 503: the result page (made
        from the result table) names both statuses."""
        a = self.daemon.get('/results/serviceError')
        self.assertEqual(a.status, 200, repr(a))
        page = a.body.decode('utf-8')
        self.assertIn('HTTP 500, 503', page)
        self.assertNotIn('HTTP 500<', page)
        a = self.daemon.submit('stale-dp', 'validity-check')
        self.assertEqual((a.result, a.status), ('serviceError', 503), repr(a))

    def test_top_page(self):
        a = self.daemon.get('/')
        self.assertEqual(a.status, 200, repr(a))
        self.assertIn('text/html', a.header('content-type', ''))
        self.assertIn('no-store', a.header('cache-control', ''))
        page = a.body.decode('utf-8')
        for word in ('失効', '有効性確認'):
            self.assertIn(word, page)

    def find_log(self, rid, timeout=5):
        deadline = time.time() + timeout
        while True:
            lines = [l for l in self.daemon.log_lines()
                     if isinstance(l, dict) and l.get('requestId') == rid]
            if lines or time.time() > deadline:
                return lines
            time.sleep(0.1)

    def assertLogLine(self, a, procedure, result):
        rid = a.json['requestId']
        lines = self.find_log(rid)
        self.assertEqual(len(lines), 1, 'log lines for request %s: %r' % (rid, lines))
        l = lines[0]
        self.assertEqual(l.get('procedure'), procedure, l)
        self.assertEqual(l.get('result'), result, l)
        self.assertEqual(l.get('status'), a.status, l)
        self.assertTrue([k for k in l if 'duration' in k.lower()], 'no duration in %r' % l)
        addr_keys = [k for k, v in l.items() if v == '127.0.0.1'
                     and any(w in k.lower() for w in ('client', 'addr', 'peer', 'remote', 'ip'))]
        self.assertTrue(addr_keys, 'no client address in %r' % l)
        return l

    def test_one_json_log_line_per_request(self):
        d = self.daemon
        a = d.submit('valid-01', 'validity-check')
        self.assertAnswer(a, 'valid', 'validity-check', 200)
        self.assertLogLine(a, 'validity-check', 'valid')
        a = d.post(ENDPOINT['revocation'], b'junk')
        self.assertAnswer(a, 'malformed', 'revocation', 400)
        self.assertLogLine(a, 'revocation', 'malformed')
        a = d.submit('valid-02', 'revocation')
        self.assertAnswer(a, 'accepted', 'revocation', 201)
        l = self.assertLogLine(a, 'revocation', 'accepted')
        self.assertNotIn(a.json['certificate']['serial'], str(l))
        self.assertNotIn(self.pki.holder('valid-02')['applicant']['name'], str(l))
        self.assertEqual(d.log_problems(), [])

    def test_nonce_key_file_created_0600(self):
        st = os.stat(self.daemon.nonce_key)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertGreater(st.st_size, 0)


def client_of(line):
    for k, v in line.items():
        if any(w in k.lower() for w in ('client', 'addr', 'peer', 'remote')):
            return v
    return None


class Proxies(DaemonCase):
    """trusted_proxies: the client address is the right-most X-Forwarded-For
    entry that is not a trusted proxy."""
    server = {'trusted_proxies': '127.0.0.1'}
    crls = FRESH_CRLS

    def client_for(self, xff):
        h = {'X-Forwarded-For': xff} if xff is not None else {}
        a = self.daemon.submit('valid-08', 'validity-check', headers=h)
        self.assertAnswer(a, 'valid', 'validity-check', 200)
        lines = Running.find_log(self, a.json['requestId'])
        self.assertEqual(len(lines), 1, lines)
        return client_of(lines[0])

    def test_x_forwarded_for_from_trusted_proxy(self):
        self.assertEqual(self.client_for('203.0.113.5, 198.51.100.7'), '198.51.100.7')
        self.assertEqual(self.client_for('203.0.113.5, 127.0.0.1'), '203.0.113.5')
        self.assertEqual(self.client_for('198.51.100.8'), '198.51.100.8')
        self.assertEqual(self.client_for(None), '127.0.0.1')


class NoProxies(DaemonCase):
    crls = FRESH_CRLS

    def test_x_forwarded_for_ignored_from_untrusted_peer(self):
        a = self.daemon.submit('valid-09', 'validity-check',
                               headers={'X-Forwarded-For': '203.0.113.9'})
        self.assertAnswer(a, 'valid', 'validity-check', 200)
        lines = Running.find_log(self, a.json['requestId'])
        self.assertEqual(len(lines), 1, lines)
        self.assertEqual(client_of(lines[0]), '127.0.0.1')


class NonceKeyCreation(unittest.TestCase):

    def test_missing_key_file_is_created_with_a_warning(self):
        pki = shared_pki()
        d = Daemon(pki, name='newkey', crls=FRESH_CRLS)
        self.assertFalse(os.path.exists(d.nonce_key))
        d.start()
        try:
            st = os.stat(d.nonce_key)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
            self.assertIn('nonce', d.stderr_text().lower(), 'no warning about the created key')
        finally:
            d.stop_and_check()
        with open(d.nonce_key, 'rb') as f:
            key = f.read()
        # a restart keeps the key
        d.start()
        d.stop_and_check()
        with open(d.nonce_key, 'rb') as f:
            self.assertEqual(f.read(), key)


class ReadyFresh(DaemonCase):
    crls = FRESH_CRLS

    def test_readyz(self):
        a = self.daemon.get('/readyz')
        self.assertEqual(a.status, 200, repr(a))
        self.assertIn('no-store', a.header('cache-control', ''))
        # importing a stale scope while running makes it not ready
        cp = self.daemon.admin('crl', 'import', self.pki.crl_file('jlis-dp-stale'))
        self.assertEqual(cp.returncode, 0, text(cp))
        a = self.daemon.get('/readyz')
        self.assertEqual(a.status, 503, repr(a))
        a = self.daemon.get('/healthz')
        self.assertEqual(a.status, 200, repr(a))


class ReadyStaleOnly(DaemonCase):
    crls = ('jlis-dp-stale',)

    def test_readyz_503(self):
        a = self.daemon.get('/readyz')
        self.assertEqual(a.status, 503, repr(a))
        self.assertEqual(self.daemon.get('/healthz').status, 200)


class Graceful(unittest.TestCase):

    def test_sigterm_lets_the_request_in_flight_complete(self):
        pki = shared_pki()
        d = Daemon(pki, name='graceful', crls=FRESH_CRLS)
        d.start()
        try:
            body = d.signed('valid-07', 'validity-check')
            s = socket.create_connection(('127.0.0.1', d.port), timeout=10)
            try:
                s.sendall(('POST /v1/validity-checks HTTP/1.1\r\nHost: 127.0.0.1\r\n'
                           'Content-Type: application/pkcs7-mime\r\nContent-Length: %d\r\n\r\n'
                           % len(body)).encode() + body[:50])
                time.sleep(0.3)
                d.proc.send_signal(signal.SIGTERM)
                time.sleep(0.5)
                try:
                    s.sendall(body[50:])
                except OSError as e:
                    self.fail('connection dropped on SIGTERM: %r' % e)
                a = recv_response(s, timeout=10)
            finally:
                s.close()
            self.assertEqual(a.status, 200, repr(a))
            self.assertEqual(a.result, 'valid', repr(a))
        finally:
            d.stop_and_check()

    def test_sigint_stops(self):
        d = Daemon(shared_pki(), name='sigint', crls=())
        d.start()
        d.proc.send_signal(signal.SIGINT)
        try:
            rc = d.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            d.kill()
            self.fail('did not stop on SIGINT')
        self.assertEqual(rc, 0, d.stderr_text()[-1000:])
        d.stop_and_check()
        with self.assertRaises(OSError):
            socket.create_connection(('127.0.0.1', d.port), timeout=2).close()


if __name__ == '__main__':
    harness.main()
