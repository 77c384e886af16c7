"""The shipped nginx site (deploy/nginx/madoguchi.conf) in front of the real
daemon: Debian's nginx as a foreground process on random loopback ports, the
site file templated only where a host must change it (ports, certificate,
where the error answers live).  Signed requests over HTTPS with HTTP/1.1 and
HTTP/2, the client address from X-Forwarded-For (trusted_proxies =
127.0.0.1), 413 over max_body, the per-address request limit answering the
window's busy JSON, and 60 client addresses at once at the daemon's default
connection limits without a serviceError (nginx, the trusted proxy, is exempt
from max_connections_per_address).

The client talks to nginx from ::1 so that its address differs from nginx's
own (127.0.0.1, the trusted proxy)."""

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import unittest

import harness
import tlsutil

SITE = os.path.join(harness.SOURCE_ROOT, 'deploy', 'nginx', 'madoguchi.conf')
ERRORS = os.path.join(harness.SOURCE_ROOT, 'deploy', 'nginx', 'errors')
NGINX = shutil.which('nginx') or '/usr/sbin/nginx'
REQUEST_ID_RE = re.compile(r'^[0-9a-f]{32}$')


def sub_once(text, old, new):
    n = text.count(old)
    if n != 1:
        raise AssertionError('deploy/nginx/madoguchi.conf: expected %r once, found %d times' % (old, n))
    return text.replace(old, new)


def site_for_test(daemon_port, https_port, http_port, cert, key, errors_dir):
    """The shipped site with only the host-specific lines changed."""
    with open(SITE, encoding='utf-8') as f:
        t = f.read()
    t = sub_once(t, 'server 127.0.0.1:8080;', 'server 127.0.0.1:%d;' % daemon_port)
    t = sub_once(t, 'listen 80;', 'listen 127.0.0.1:%d;' % http_port)
    t = sub_once(t, 'listen [::]:80;', 'listen [::1]:%d;' % http_port)
    t = sub_once(t, 'listen 443 ssl http2;', 'listen 127.0.0.1:%d ssl http2;' % https_port)
    t = sub_once(t, 'listen [::]:443 ssl http2;', 'listen [::1]:%d ssl http2;' % https_port)
    t = sub_once(t, '/etc/ssl/madoguchi/fullchain.pem', cert)
    t = sub_once(t, '/etc/ssl/madoguchi/privkey.pem', key)
    t = sub_once(t, '/usr/share/madoguchi/nginx/errors/', errors_dir.rstrip('/') + '/')
    return t


class Nginx:
    def __init__(self, site_text):
        self.prefix = harness.make_tmpdir('mdg-e2e-nginx-')
        for d in ('tmp', 'logs'):
            os.mkdir(os.path.join(self.prefix, d))
        self.site = os.path.join(self.prefix, 'madoguchi.conf')
        with open(self.site, 'w', encoding='utf-8') as f:
            f.write(site_text)
        self.conf = os.path.join(self.prefix, 'nginx.conf')
        p = self.prefix
        with open(self.conf, 'w', encoding='utf-8') as f:
            f.write('error_log %s/logs/error.log info;\n'
                    'worker_processes 1;\n'
                    'events { worker_connections 256; }\n'
                    'http {\n'
                    '  access_log %s/logs/access.log;\n'
                    '  client_body_temp_path %s/tmp/body;\n'
                    '  proxy_temp_path %s/tmp/proxy;\n'
                    '  fastcgi_temp_path %s/tmp/fastcgi;\n'
                    '  uwsgi_temp_path %s/tmp/uwsgi;\n'
                    '  scgi_temp_path %s/tmp/scgi;\n'
                    '  include %s;\n'
                    '}\n' % (p, p, p, p, p, p, p, self.site))
        self.proc = None

    def start(self, https_port, cafile, timeout=10):
        cp = harness.run([NGINX, '-t', '-p', self.prefix, '-c', self.conf,
                          '-g', 'daemon off; master_process off; pid %s/nginx.pid;' % self.prefix])
        if cp.returncode != 0:
            raise AssertionError('nginx -t refused the shipped site: %s' % cp.stderr.decode())
        self.proc = subprocess.Popen(
            [NGINX, '-p', self.prefix, '-c', self.conf,
             '-g', 'daemon off; master_process off; pid %s/nginx.pid;' % self.prefix],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.prefix, 'logs', 'stderr.log'), 'wb'))
        harness._procs.append(self.proc)
        tlsutil.wait_https(self.proc, https_port, cafile, timeout, stderr=self.error_log)

    def error_log(self):
        try:
            with open(os.path.join(self.prefix, 'logs', 'error.log'), encoding='utf-8',
                      errors='replace') as f:
                return f.read()
        except FileNotFoundError:
            return ''

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


class NginxTest(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.pki = harness.shared_pki()
        cls.ca = tlsutil.TestCA()
        cls.cert, cls.key = cls.ca.issue('ecdsa')
        cls.daemon = harness.Daemon(cls.pki, name='nginx',
                                    server={'trusted_proxies': '127.0.0.1', 'max_body': '65536'})
        cls.daemon.start()
        cls.https_port = harness.free_port('::1')
        http_port = harness.free_port('::1')
        cls.nginx = Nginx(site_for_test(cls.daemon.port, cls.https_port, http_port,
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

    def url(self, path):
        return 'https://[::1]:%d%s' % (self.https_port, path)

    def curl(self, path, args=(), **kw):
        return tlsutil.curl(self.url(path), self.ca.cert, args, **kw)

    def submit(self, holder, procedure, args=(), headers=None, reason=None):
        rc, a, err = self.curl('/v1/nonce', args)
        self.assertEqual(rc, 0, err)
        self.assertEqual(a.status, 200, a)
        body = self.daemon.signed(holder, procedure, reason=reason, nonce=a.json['nonce'])
        h = {'Content-Type': 'application/pkcs7-mime'}
        h.update(headers or {})
        rc, a, err = self.curl(harness.ENDPOINT[procedure], args, body=body, headers=h)
        self.assertEqual(rc, 0, err)
        return a, err

    def assertWindowProblem(self, a, result, status, procedure):
        ctx = repr(a)
        self.assertEqual(a.status, status, ctx)
        self.assertEqual(a.header('content-type', '').split(';')[0], 'application/problem+json', ctx)
        self.assertIn('no-store', a.header('cache-control', ''), ctx)
        j = a.json
        self.assertIsInstance(j, dict, ctx)
        self.assertEqual(j['result'], result, ctx)
        self.assertEqual(j['type'], 'urn:madoguchi:result:' + result, ctx)
        self.assertEqual(j['status'], status, ctx)
        self.assertEqual(j['procedure'], procedure, ctx)
        self.assertRegex(j['requestId'], REQUEST_ID_RE, ctx)
        self.assertEqual(j['requestId'], a.header('x-request-id'), ctx)
        want = harness.title_ja(result, procedure)
        self.assertEqual(j['title'], want, ctx)
        self.assertEqual(j['i18n']['ja']['title'], want, ctx)
        self.assertEqual(j['title'], j['i18n']['ja']['title'], ctx)
        self.assertEqual(j['detail'], j['i18n']['ja']['detail'], ctx)
        for lang in ('ja', 'en'):
            for k in ('title', 'detail'):
                self.assertTrue(j['i18n'][lang][k], ctx)
        return j

    def test_http11_signed_requests_client_address_from_xff(self):
        a, err = self.submit('valid-10', 'validity-check', ['--http1.1', '-v'])
        self.assertIn('using HTTP/1.1', err)
        self.assertEqual((a.status, a.result), (200, 'valid'), a)
        self.assertEqual(self.daemon.request_log(a.json['requestId'])['client'], '::1')
        # a spoofed X-Forwarded-For from the client does not decide the address:
        # nginx appends the real peer, the daemon takes the right-most untrusted entry
        a, err = self.submit('valid-11', 'revocation', ['--http1.1'],
                             headers={'X-Forwarded-For': '203.0.113.66'})
        self.assertEqual((a.status, a.result), (201, 'accepted'), a)
        self.assertEqual(self.daemon.request_log(a.json['requestId'])['client'], '::1')
        rows = harness.sqlite(self.daemon.db, "SELECT client_addr FROM acceptances WHERE receipt_id = '%s';"
                              % a.json['receiptId'].replace("'", ''))
        self.assertEqual(rows, '::1')

    def test_http2_signed_requests(self):
        a, err = self.submit('valid-12', 'validity-check', ['--http2', '-v'])
        self.assertIn('using HTTP/2', err)
        self.assertEqual((a.status, a.result), (200, 'valid'), a)
        a, err = self.submit('valid-13', 'revocation', ['--http2', '-v'])
        self.assertIn('using HTTP/2', err)
        self.assertEqual((a.status, a.result), (201, 'accepted'), a)
        self.assertEqual(self.daemon.request_log(a.json['requestId'])['client'], '::1')
        rc, a, err = self.curl('/', ['--http2'])
        self.assertEqual((rc, a.status), (0, 200), err)
        self.assertIn('text/html', a.header('content-type'))

    def test_tls_versions_at_the_proxy(self):
        rc, a, err = self.curl('/healthz', ['--tlsv1.3'])
        self.assertEqual((rc, a and a.status), (0, 200), err)
        rc, a, err = self.curl('/healthz', ['--tlsv1.1', '--tls-max', '1.1', '--ciphers', 'DEFAULT:@SECLEVEL=0'])
        self.assertNotEqual(rc, 0, 'TLS 1.1 accepted by the shipped site')

    def test_body_over_max_body_is_413(self):
        body = b'\x30\x82' + b'\x00' * (65536 + 10)
        for procedure in ('revocation', 'validity-check'):
            rc, a, err = self.curl(harness.ENDPOINT[procedure], body=body,
                                   headers={'Content-Type': 'application/pkcs7-mime'})
            self.assertEqual(rc, 0, err)
            self.assertWindowProblem(a, 'malformed', 413, procedure)
        # at max_body exactly nginx passes it on: the daemon answers (malformed 400, not 413)
        rc, a, err = self.curl('/v1/validity-checks', body=b'\x00' * 65536,
                               headers={'Content-Type': 'application/pkcs7-mime'})
        self.assertEqual(rc, 0, err)
        self.assertEqual((a.status, a.result), (400, 'malformed'), a)

    def test_admin_paths_not_proxied(self):
        for path in ('/admin/v1/status', '/metrics'):
            rc, a, err = self.curl(path)
            self.assertEqual(rc, 0, err)
            self.assertEqual(a.status, 404, a)
        with open(self.nginx.site, encoding='utf-8') as f:
            self.assertNotIn(':%d' % self.daemon.admin_port, f.read())

    def test_many_client_addresses_at_default_limits(self):
        """60 holders from 60 client addresses (127.0.0.2 ... 127.0.0.61), each
        two validity checks (nonce + request each, one kept-alive HTTPS
        connection per holder), all at once, through the shipped site at the
        daemon's default connection limits: nginx's pooled upstream
        connections all come from the trusted proxy, which
        max_connections_per_address does not limit. No serviceError."""
        import concurrent.futures
        ctx = tlsutil.client_context(self.ca.cert)
        holders = sorted(h for h in self.daemon.pki.holders if re.match(r'^valid-\d+$', h)
                         and h not in ('valid-11', 'valid-13'))  # revoked by the tests above
        self.assertGreaterEqual(len(holders), 30)

        def holder_run(i):
            src = '127.0.0.%d' % (2 + i)
            holder = holders[i % len(holders)]
            out = []
            conn = http.client.HTTPSConnection('127.0.0.1', self.https_port, timeout=30, context=ctx,
                                               source_address=(src, 0))
            try:
                for _ in range(2):
                    conn.request('GET', '/v1/nonce')
                    r = conn.getresponse()
                    nonce = json.loads(r.read())['nonce'] if r.status == 200 else None
                    if nonce is None:
                        out.append(('nonce', r.status))
                        continue
                    body = self.daemon.signed(holder, 'validity-check', nonce=nonce)
                    conn.request('POST', '/v1/validity-checks', body=body,
                                 headers={'Content-Type': 'application/pkcs7-mime'})
                    r = conn.getresponse()
                    data = r.read()
                    try:
                        j = json.loads(data)
                    except ValueError:
                        j = {}
                    out.append((j.get('result'), r.status, j.get('requestId'), src))
            finally:
                conn.close()
            return out

        with concurrent.futures.ThreadPoolExecutor(60) as ex:
            runs = list(ex.map(holder_run, range(60)))
        results = [x for run in runs for x in run]
        summary = {}
        for x in results:
            summary[x[0]] = summary.get(x[0], 0) + 1
        print('nginx, 60 addresses x 2 checks: %r' % summary)
        self.assertEqual(len(results), 120)
        self.assertNotIn('serviceError', summary, summary)
        self.assertEqual(summary, {'valid': 120}, summary)
        # the daemon saw each holder's own address
        for result, status, rid, src in results[::7]:
            self.assertEqual(self.daemon.request_log(rid)['client'], src)

    def test_z_rate_limit_answers_busy(self):
        """Runs last (the limit's state outlives it)."""
        ctx = tlsutil.client_context(self.ca.cert)
        conn = http.client.HTTPSConnection('::1', self.https_port, timeout=10, context=ctx)
        busy = None
        statuses = []
        try:
            for i in range(80):
                conn.request('GET', '/v1/nonce')
                r = conn.getresponse()
                data = r.read()
                statuses.append(r.status)
                if r.status == 503 and busy is None:
                    busy = harness.Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
                if busy is not None and len(statuses) > 40:
                    break
            # a procedure request while limited: the busy answer names the procedure
            conn.request('POST', '/v1/revocations', body=b'x',
                         headers={'Content-Type': 'application/pkcs7-mime'})
            r = conn.getresponse()
            rev = harness.Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()
        self.assertIn(200, statuses)
        self.assertIsNotNone(busy, 'no request was limited: %r' % statuses)
        j = self.assertWindowProblem(busy, 'busy', 503, None)
        self.assertEqual(j['i18n']['ja']['title'], 'オンライン窓口サービスの混雑')
        self.assertRegex(busy.header('retry-after', ''), r'^\d+$')
        self.assertWindowProblem(rev, 'busy', 503, 'revocation')
        self.assertRegex(rev.header('retry-after', ''), r'^\d+$')

    def test_zz_daemon_down_answers_service_error(self):
        """Runs after everything else: stops the daemon. From 127.0.0.1, a
        client address the limit has not seen."""
        self.daemon.stop_and_check()
        rc, a, err = tlsutil.curl('https://127.0.0.1:%d/v1/validity-checks' % self.https_port,
                                  self.ca.cert, body=b'x',
                                  headers={'Content-Type': 'application/pkcs7-mime'})
        self.assertEqual(rc, 0, err)
        self.assertWindowProblem(a, 'serviceError', 503, None)
        self.assertRegex(a.header('retry-after', ''), r'^\d+$')


if __name__ == '__main__':
    harness.main()
