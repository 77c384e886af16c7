"""Native HTTPS (tls_cert / tls_key): TLS 1.2 and 1.3 only, RSA and ECDSA
certificates, signed requests over HTTPS with curl (and madoguchi-client when
built), the key file refused when group/world readable, certificate reload on
SIGHUP without dropping an open connection, plain HTTP to the TLS port closed
promptly."""

import hashlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import unittest

import harness
import tlsutil


class TLSCase(unittest.TestCase):
    kind = 'ecdsa'

    @classmethod
    def setUpClass(cls):
        cls.pki = harness.shared_pki()
        cls.ca = tlsutil.TestCA()
        cls.cert, cls.key = cls.ca.issue(cls.kind)
        cls.daemon = tlsutil.TLSDaemon(cls.pki, cls.ca.cert, cls.cert, cls.key,
                                       name='tls-' + cls.kind)
        cls.daemon.start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop_and_check()

    def curl(self, path, args=(), **kw):
        return tlsutil.curl(self.daemon.url(path), self.ca.cert, args, **kw)

    def nonce_over_curl(self):
        rc, a, err = self.curl('/v1/nonce')
        self.assertEqual(rc, 0, err)
        self.assertEqual(a.status, 200, a)
        return a.json['nonce']

    def signed_over_curl(self, holder, procedure, reason=None):
        body = self.daemon.signed(holder, procedure, reason=reason, nonce=self.nonce_over_curl())
        rc, a, err = self.curl(harness.ENDPOINT[procedure], body=body,
                               headers={'Content-Type': 'application/pkcs7-mime'})
        self.assertEqual(rc, 0, err)
        return a


class RSATest(TLSCase):
    kind = 'rsa'

    def test_tls12_and_tls13(self):
        for flags, want in ((['--tlsv1.2', '--tls-max', '1.2'], 'TLSv1.2'),
                            (['--tlsv1.3', '--tls-max', '1.3'], 'TLSv1.3')):
            rc, a, err = self.curl('/healthz', ['-v'] + flags)
            self.assertEqual(rc, 0, err)
            self.assertEqual(a.status, 200, a)
            self.assertIn('SSL connection using %s' % want, err)
        for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            c = tlsutil.HTTPSConn(self.daemon.port, self.ca.cert, tls_min=v, tls_max=v)
            try:
                self.assertEqual(c.request('GET', '/healthz').status, 200)
                self.assertEqual(c.version(), {ssl.TLSVersion.TLSv1_2: 'TLSv1.2',
                                               ssl.TLSVersion.TLSv1_3: 'TLSv1.3'}[v])
                self.assertEqual(c.peer_sha256(), tlsutil.cert_sha256(self.cert))
            finally:
                c.close()

    def test_tls11_and_weak_ciphers_refused(self):
        # the client is allowed everything (SECLEVEL 0): the refusal is the server's
        rc, a, err = self.curl('/healthz', ['--tlsv1.1', '--tls-max', '1.1',
                                            '--ciphers', 'DEFAULT:@SECLEVEL=0'])
        self.assertEqual(rc, 35, 'TLS 1.1 must fail in the handshake: rc=%d %s' % (rc, err))
        rc, a, err = self.curl('/healthz', ['--tls-max', '1.2', '--ciphers', 'AES128-SHA:DES-CBC3-SHA'])
        self.assertEqual(rc, 35, 'static-RSA CBC suites must be refused: rc=%d %s' % (rc, err))
        rc, a, err = self.curl('/healthz', ['--tls-max', '1.2', '--ciphers', 'ECDHE-RSA-AES128-GCM-SHA256'])
        self.assertEqual((rc, a and a.status), (0, 200), err)

    def test_signed_requests_over_https(self):
        a = self.signed_over_curl('valid-01', 'validity-check')
        self.assertEqual((a.status, a.result), (200, 'valid'), a)
        a = self.signed_over_curl('valid-02', 'revocation', reason='keyCompromise')
        self.assertEqual((a.status, a.result), (201, 'accepted'), a)
        self.assertEqual(int(harness.sqlite(self.daemon.db, 'SELECT count(*) FROM acceptances;')), 1)
        a = self.signed_over_curl('valid-02', 'validity-check')
        self.assertEqual((a.status, a.result), (200, 'revocationAccepted'), a)
        a = self.signed_over_curl('revoked', 'validity-check')
        self.assertEqual((a.status, a.result), (200, 'revoked'), a)

    def test_client_over_https(self):
        client = os.environ.get('MDG_CLIENT')
        if not client:
            print('skipped: MDG_CLIENT is not set (madoguchi-client not built)', file=sys.stderr)
            self.skipTest('MDG_CLIENT is not set')
        h = self.pki.holder('valid-03')
        cp = harness.run([client, 'check', '--url', self.daemon.url(''), '--cacert', self.ca.cert,
                          '--cert', h['cert'], '--key', h['key'], '--yes', '--json'], timeout=30)
        out = cp.stdout.decode('utf-8', 'replace')
        import json
        try:
            j = json.loads(out)
        except ValueError:
            self.fail('client output is not JSON (exit %d): %s %s' % (
                cp.returncode, out[-1000:], cp.stderr.decode('utf-8', 'replace')[-1000:]))
        self.assertEqual(j.get('result'), 'valid', out)
        self.assertEqual(j.get('procedure'), 'validity-check', out)
        # and it verifies the server: without our CA the connection is refused
        cp = harness.run([client, 'check', '--url', self.daemon.url(''),
                          '--cert', h['cert'], '--key', h['key'], '--yes', '--json'], timeout=30)
        self.assertNotEqual(cp.returncode, 0, cp.stdout[-500:])

    def test_plain_http_to_tls_port_closed_promptly(self):
        t0 = time.monotonic()
        s = socket.create_connection(('127.0.0.1', self.daemon.port), timeout=5)
        data = b''
        try:
            s.sendall(b'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
            while True:
                try:
                    chunk = s.recv(4096)
                except ConnectionResetError:
                    break
                except socket.timeout:
                    self.fail('plain HTTP to the TLS port: no answer and no close within 5 s')
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        elapsed = time.monotonic() - t0
        self.assertLess(elapsed, 3.0, 'closed only after %.1f s' % elapsed)
        # whatever came back is not an HTTP success
        self.assertFalse(data.startswith(b'HTTP/1.1 200'), data[:200])
        # and the daemon still serves HTTPS
        self.assertEqual(self.daemon.get('/healthz').status, 200)


class ECDSATest(TLSCase):
    kind = 'ecdsa'

    def test_ecdsa_certificate_and_signed_request(self):
        c = tlsutil.HTTPSConn(self.daemon.port, self.ca.cert)
        try:
            self.assertEqual(c.peer_sha256(), tlsutil.cert_sha256(self.cert))
            self.assertEqual(c.request('GET', '/healthz').status, 200)
        finally:
            c.close()
        rc, a, err = self.curl('/healthz', ['-v', '--tls-max', '1.2'])
        self.assertEqual(rc, 0, err)
        self.assertRegex(err, r'SSL connection using TLSv1\.2 / ECDHE-ECDSA-')
        a = self.signed_over_curl('valid-04', 'validity-check')
        self.assertEqual((a.status, a.result), (200, 'valid'), a)

    def test_sighup_swaps_certificate_keeps_open_connection(self):
        old_fp = tlsutil.cert_sha256(self.cert)
        # a connection opened before the reload, with a request half sent
        body = self.daemon.signed('valid-05', 'validity-check')
        before = tlsutil.tls_socket(self.daemon.port, self.ca.cert)
        try:
            self.assertEqual(hashlib.sha256(before.getpeercert(binary_form=True)).hexdigest(), old_fp)
            head = ('POST /v1/validity-checks HTTP/1.1\r\nHost: 127.0.0.1\r\n'
                    'Content-Type: application/pkcs7-mime\r\nContent-Length: %d\r\n'
                    'Connection: close\r\n\r\n' % len(body)).encode()
            before.sendall(head + body[:100])
            # a new pair (RSA this time) written over the configured paths
            new_cert, new_key = self.ca.issue('rsa')
            shutil.copyfile(new_key, self.key + '.tmp')
            os.chmod(self.key + '.tmp', 0o600)
            os.replace(self.key + '.tmp', self.key)
            shutil.copyfile(new_cert, self.cert + '.tmp')
            os.replace(self.cert + '.tmp', self.cert)
            new_fp = tlsutil.cert_sha256(self.cert)
            self.assertNotEqual(new_fp, old_fp)
            self.daemon.proc.send_signal(signal.SIGHUP)
            line = self.daemon.wait_log('TLS certificate reloaded')
            self.assertIn(new_fp, line['msg'])
            after = tlsutil.HTTPSConn(self.daemon.port, self.ca.cert)
            try:
                self.assertEqual(after.peer_sha256(), new_fp)
                self.assertEqual(after.request('GET', '/healthz').status, 200)
            finally:
                after.close()
            # the request in flight on the old connection completes
            before.sendall(body[100:])
            a = harness.recv_response(before, timeout=10)
            self.assertEqual((a.status, a.result), (200, 'valid'), a)
        finally:
            before.close()
        # a failed reload (key now world-readable) keeps the current pair
        os.chmod(self.key, 0o644)
        try:
            self.daemon.proc.send_signal(signal.SIGHUP)
            line = self.daemon.wait_log('TLS reload failed')
            self.assertIn('readable by group or others', line['msg'])
            self.assertEqual(line['level'], 'error')
            c = tlsutil.HTTPSConn(self.daemon.port, self.ca.cert)
            try:
                self.assertEqual(c.peer_sha256(), new_fp)
                self.assertEqual(c.request('GET', '/healthz').status, 200)
            finally:
                c.close()
            self.assertIsNone(self.daemon.proc.poll())
        finally:
            os.chmod(self.key, 0o600)


class RefusedKeyTest(unittest.TestCase):
    def setUp(self):
        self.pki = harness.shared_pki()
        self.ca = tlsutil.TestCA()

    def start_expect_failure(self, cert, key):
        d = harness.Daemon(self.pki, name='tls-refused', crls=(),
                           server={'tls_cert': cert, 'tls_key': key})
        p = d.spawn()
        try:
            rc = p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            d.kill()
            self.fail('madoguchid kept running with a bad TLS key')
        finally:
            d._err.close()
            d._out.close()
        return rc, d.stderr_text()

    def test_world_readable_key_refused(self):
        cert, key = self.ca.issue('ecdsa')
        os.chmod(key, 0o644)
        rc, err = self.start_expect_failure(cert, key)
        self.assertNotEqual(rc, 0)
        self.assertIn(key, err)
        self.assertIn('readable by group or others', err)
        os.chmod(key, 0o640)
        rc, err = self.start_expect_failure(cert, key)
        self.assertNotEqual(rc, 0)
        self.assertIn('mode 640', err)
        # --check-config (the unit's ExecStartPre) loads the TLS files too
        d = harness.Daemon(self.pki, name='tls-check', crls=(),
                           server={'tls_cert': cert, 'tls_key': key})
        cp = harness.run([harness.DAEMON, '--config', d.config, '--check-config'])
        self.assertEqual(cp.returncode, 1, cp.stdout)
        self.assertIn(b'readable by group or others', cp.stderr)
        os.chmod(key, 0o600)
        cp = harness.run([harness.DAEMON, '--config', d.config, '--check-config'])
        self.assertEqual(cp.returncode, 0, cp.stderr)

    def test_key_of_another_certificate_refused(self):
        cert, _ = self.ca.issue('ecdsa')
        _, key2 = self.ca.issue('ecdsa')
        rc, err = self.start_expect_failure(cert, key2)
        self.assertNotEqual(rc, 0)
        self.assertIn("not the certificate's key", err)


if __name__ == '__main__':
    harness.main()
