"""madoguchi-client through the shipped nginx site (deploy/nginx/madoguchi.conf,
started as tests/e2e/test_nginx.py starts it: Debian's nginx in the
foreground on loopback ports with a private prefix).  Issue 16 item 1: any
answer that is the contract's JSON, from the window or its proxy and at any
step (GET /v1/nonce too), gets its own screen: busy → 2.2.2/3.2.2 混雑
(exit 19), serviceError → 2.2.3/3.2.3 サービスのエラー (exit 20), never the
"cannot connect / server certificate" screen.

- the daemon holds its one max_inflight slot: its own busy (503) passes
  through nginx to the signed request;
- nginx's per-address request limit answers GET /v1/nonce with the site's
  busy JSON;
- the daemon stopped: nginx's 502 becomes the site's serviceError JSON (503).

The client talks to nginx over [::1] with --cacert, as a holder would with
the system store."""

import json
import os
import socket
import subprocess
import threading
import time
import unittest
import http.client

import harness
import tlsutil
from test_nginx import ERRORS, Nginx, site_for_test

CLIENT = os.environ.get('MDG_CLIENT')
EXIT_BUSY, EXIT_SERVICE_ERROR = 19, 20


class ClientThroughNginx(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        if not CLIENT or not os.path.exists(CLIENT):
            raise AssertionError('MDG_CLIENT (madoguchi-client) is not built')
        cls.pki = harness.shared_pki()
        cls.ca = tlsutil.TestCA()
        cls.cert, cls.key = cls.ca.issue('ecdsa')
        cls.daemon = harness.Daemon(cls.pki, name='client-nginx',
                                    server={'trusted_proxies': '127.0.0.1', 'max_inflight': '1',
                                            'request_timeout': '60s'})
        cls.daemon.start()
        cls.https_port = harness.free_port('::1')
        cls.nginx = Nginx(site_for_test(cls.daemon.port, cls.https_port, harness.free_port('::1'),
                                        cls.cert, cls.key, ERRORS))
        try:
            cls.nginx.start(cls.https_port, cls.ca.cert)
        except Exception:
            cls.daemon.kill()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()
        cls.daemon.stop_and_check()

    def client(self, command, holder, *args):
        h = self.pki.holder(holder)
        cmd = [CLIENT, command, '--url', 'https://[::1]:%d/' % self.https_port, '--cacert', self.ca.cert,
               '--cert', h['cert'], '--key', h['key'], '--yes'] + list(args)
        env = dict(os.environ)
        env.pop('MADOGUCHI_PIN', None)
        cp = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        cp.out = cp.stdout.decode('utf-8', 'replace')
        cp.err = cp.stderr.decode('utf-8', 'replace')
        cp.ctx = 'exit %d\nstdout:\n%s\nstderr:\n%s\nnginx:\n%s' % (
            cp.returncode, cp.out[-3000:], cp.err[-1500:], self.nginx.error_log()[-1500:])
        return cp

    def assertNotANetworkScreen(self, cp, text):
        for word in ('接続できません', 'サーバ証明書', 'Cannot reach', 'server certificate'):
            self.assertNotIn(word, text, cp.ctx)

    def test_a_daemon_busy_on_the_signed_request(self):
        """The daemon's one slot is held by a stalled upload sent to it
        directly: the holder's request through nginx is answered busy."""
        s = socket.create_connection(('127.0.0.1', self.daemon.port), timeout=10)
        try:
            s.sendall(b'POST /v1/validity-checks HTTP/1.1\r\nHost: x\r\n'
                      b'Content-Type: application/pkcs7-mime\r\nContent-Length: 1000\r\n\r\n')
            time.sleep(0.3)
            cp = self.client('check', 'valid-41')
            self.assertEqual(cp.returncode, EXIT_BUSY, cp.ctx)
            self.assertIn('オンライン窓口サービスの混雑', cp.out, cp.ctx)
            self.assertIn('手続名：自己の電子証明書の有効性確認', cp.out, cp.ctx)
            self.assertIn('秒ほど)経ってから', cp.out, cp.ctx)    # the answer's Retry-After
            self.assertNotANetworkScreen(cp, cp.out)
            cp = self.client('revoke', 'valid-42', '--lang', 'en', '--json')
            self.assertEqual(cp.returncode, EXIT_BUSY, cp.ctx)
            self.assertEqual(json.loads(cp.stdout)['result'], 'busy', cp.ctx)
            self.assertIn('The online window service is busy', cp.err, cp.ctx)
            self.assertNotANetworkScreen(cp, cp.err)
        finally:
            s.close()
        self.assertEqual(self.daemon.acceptance_count(), 0)

    def test_b_proxy_rate_limit_on_the_nonce(self):
        """nginx's per-address limit answers with the site's busy JSON; the
        client shows it as 混雑, also when it comes to GET /v1/nonce."""
        ctx = tlsutil.client_context(self.ca.cert)
        stop = threading.Event()

        def hammer():
            conn = http.client.HTTPSConnection('::1', self.https_port, timeout=10, context=ctx)
            try:
                while not stop.is_set():
                    conn.request('GET', '/healthz')
                    conn.getresponse().read()
            except OSError:
                pass
            finally:
                conn.close()
        threads = [threading.Thread(target=hammer, daemon=True) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.5)
            cp = self.client('check', 'valid-43')
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=10)
        self.assertEqual(cp.returncode, EXIT_BUSY, cp.ctx)
        self.assertIn('オンライン窓口サービスの混雑', cp.out, cp.ctx)
        self.assertNotANetworkScreen(cp, cp.out)
        if '送信しています' not in cp.out:
            # busy at GET /v1/nonce: nothing was signed or sent
            self.assertIn('オンライン窓口には何も送信していません', cp.out, cp.ctx)
            self.assertNotIn('取込み情報の確認', cp.out, cp.ctx)
        time.sleep(2.5)     # the limit's bucket drains for the next test

    def test_z_daemon_down(self):
        """Runs last: the daemon is stopped; nginx's 502 is the site's
        serviceError (503), shown as サービスのエラー, at the nonce step."""
        self.daemon.stop_and_check()
        cp = self.client('check', 'valid-44')
        self.assertEqual(cp.returncode, EXIT_SERVICE_ERROR, cp.ctx)
        self.assertIn('オンライン窓口サービスのエラー', cp.out, cp.ctx)
        self.assertIn('手続名：自己の電子証明書の有効性確認', cp.out, cp.ctx)
        self.assertIn('オンライン窓口には何も送信していません', cp.out, cp.ctx)
        self.assertNotIn('取込み情報の確認', cp.out, 'the certificate was read though the window is down')
        self.assertNotANetworkScreen(cp, cp.out)
        cp = self.client('revoke', 'valid-44', '--lang', 'en', '--json')
        self.assertEqual(cp.returncode, EXIT_SERVICE_ERROR, cp.ctx)
        j = json.loads(cp.stdout)
        self.assertEqual((j['result'], j['status']), ('serviceError', 503), cp.ctx)
        self.assertIn(j['i18n']['en']['title'], cp.err, cp.ctx)
        self.assertNotANetworkScreen(cp, cp.err)


class Direct(unittest.TestCase):
    """Without a proxy: "cannot connect" and "server certificate not
    verified" are two screens (curl's error codes tell them apart)."""

    @classmethod
    def setUpClass(cls):
        if not CLIENT or not os.path.exists(CLIENT):
            raise AssertionError('MDG_CLIENT (madoguchi-client) is not built')
        cls.pki = harness.shared_pki()
        cls.ca = tlsutil.TestCA()
        cert, key = cls.ca.issue('ecdsa')
        cls.daemon = tlsutil.TLSDaemon(cls.pki, cls.ca.cert, cert, key, name='client-direct')
        cls.daemon.start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop_and_check()

    def client(self, url, *args):
        h = self.pki.holder('valid-45')
        cp = subprocess.run([CLIENT, 'check', '--url', url, '--cert', h['cert'], '--key', h['key'], '--yes']
                            + list(args), stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        cp.out = cp.stdout.decode('utf-8', 'replace')
        cp.err = cp.stderr.decode('utf-8', 'replace')
        cp.ctx = 'exit %d\nstdout:\n%s\nstderr:\n%s' % (cp.returncode, cp.out[-3000:], cp.err[-1500:])
        return cp

    def test_refused_is_not_a_certificate_problem(self):
        url = 'https://127.0.0.1:%d/' % harness.free_port()
        cp = self.client(url)
        self.assertEqual(cp.returncode, 40, cp.ctx)
        self.assertIn('オンライン窓口に接続できません', cp.out, cp.ctx)
        self.assertIn('詳細: %sv1/nonce に接続できませんでした' % url, cp.out, cp.ctx)
        self.assertNotIn('サーバ証明書', cp.out, 'a window that is down is no certificate problem')
        cp = self.client(url, '--json', '--lang', 'en')
        j = json.loads(cp.stdout)
        self.assertEqual((j['result'], j['reason'], j['exitStatus']), ('clientError', 'networkError', 40), j)
        self.assertNotIn('server certificate', cp.err)

    def test_unverified_server_certificate(self):
        url = self.daemon.url('/')
        cp = self.client(url)          # the test CA is not in the system store
        self.assertEqual(cp.returncode, 40, cp.ctx)
        self.assertIn('オンライン窓口のサーバ証明書を確認できません', cp.out, cp.ctx)
        self.assertIn('送信しないでください', cp.out, cp.ctx)
        self.assertIn('のサーバ証明書を検証できませんでした', cp.out, cp.ctx)
        self.assertNotIn('オンライン窓口に接続できません', cp.out, cp.ctx)
        cp = self.client(url, '--json', '--lang', 'en')
        j = json.loads(cp.stdout)
        self.assertEqual((j['result'], j['reason'], j['exitStatus']),
                         ('clientError', 'serverCertificateNotVerified', 40), j)
        self.assertIn("The online window's server certificate could not be verified", cp.err)
        # with the CA named, the same window answers
        cp = self.client(url, '--cacert', self.daemon.cafile)
        self.assertEqual(cp.returncode, 0, cp.ctx)


if __name__ == '__main__':
    harness.main()
