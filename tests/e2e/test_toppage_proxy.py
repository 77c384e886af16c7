"""The top page behind the shipped nginx site (deploy/nginx/madoguchi.conf),
started as tests/e2e/test_nginx.py starts it: the commands on the page name
the address the browser used (X-Forwarded-Host from the trusted proxy); with
the daemon stopped, a browser (Accept: text/html) opening the top page or a
result page gets an HTML error page in Japanese and English, no-store, while
API clients keep the contract's problem+json serviceError; a browser over
the request limit gets the HTML busy page (docs/deploy.md, "When the daemon
is down")."""

import re
import unittest

import harness
import tlsutil
from test_nginx import Nginx, site_for_test, ERRORS, REQUEST_ID_RE
from test_toppage import parse

# what Chromium sends for a page
BROWSER_ACCEPT = ('text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,'
                  'image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7')
TITLES = {
    'serviceError': ('オンライン窓口サービスのエラー', 'Online window service error'),
    'busy': ('オンライン窓口サービスの混雑', 'The online window service is busy'),
}


class TopPageBehindNginx(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.pki = harness.shared_pki()
        cls.ca = tlsutil.TestCA()
        cls.cert, cls.key = cls.ca.issue('ecdsa')
        cls.daemon = harness.Daemon(cls.pki, name='toppage-proxy', server={'trusted_proxies': '127.0.0.1'})
        cls.daemon.start()
        cls.https_port = harness.free_port('::1')
        http_port = harness.free_port('::1')
        cls.nginx = Nginx(site_for_test(cls.daemon.port, cls.https_port, http_port, cls.cert, cls.key, ERRORS))
        try:
            cls.nginx.start(cls.https_port, cls.ca.cert)
        except Exception:
            cls.daemon.kill()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()
        cls.daemon.stop_and_check()

    def curl(self, host, path, args=(), **kw):
        return tlsutil.curl('https://%s:%d%s' % (host, self.https_port, path), self.ca.cert, args, **kw)

    def assertHtmlErrorPage(self, a, result, ctx):
        ctx = '%s: %r' % (ctx, a)
        self.assertEqual(a.status, 503, ctx)
        self.assertEqual(a.header('content-type', '').replace(' ', '').lower(), 'text/html;charset=utf-8', ctx)
        self.assertIn('no-store', a.header('cache-control', ''), ctx)
        self.assertEqual(a.header('x-content-type-options'), 'nosniff', ctx)
        self.assertRegex(a.header('retry-after', ''), r'^\d+$', ctx)
        rid = a.header('x-request-id', '')
        self.assertRegex(rid, REQUEST_ID_RE, ctx)
        text = a.body.decode('utf-8')
        self.assertIn(rid, text, 'the page shows the request id: ' + ctx)
        self.assertNotIn('<!--#', text, 'SSI left unprocessed: ' + ctx)
        ja, en = TITLES[result]
        self.assertIn('<h1>%s</h1>' % ja, text, ctx)
        self.assertIn('<h1>%s</h1>' % en, text, ctx)
        self.assertLess(text.index(ja), text.index(en), 'Japanese first: ' + ctx)
        self.assertIn('<code>%s</code>' % result, text, ctx)
        p = parse(a.body)
        self.assertEqual(p.problems, [], ctx)
        self.assertEqual(p.html_lang, 'ja', ctx)
        self.assertTrue(p.charset, ctx)
        self.assertNotIn('script', p.tags, ctx)
        self.assertIn('%s / %s' % (ja, en), p.title, ctx)

    def assertProblem(self, a, result, procedure, ctx):
        ctx = '%s: %r' % (ctx, a)
        self.assertEqual(a.status, 503, ctx)
        self.assertEqual(a.header('content-type', '').split(';')[0], 'application/problem+json', ctx)
        self.assertIn('no-store', a.header('cache-control', ''), ctx)
        j = a.json
        self.assertIsInstance(j, dict, ctx)
        self.assertEqual((j['result'], j['type'], j['status'], j['procedure']),
                         (result, 'urn:madoguchi:result:' + result, 503, procedure), ctx)
        self.assertEqual(j['requestId'], a.header('x-request-id'), ctx)
        self.assertEqual(j['title'], harness.title_ja(result, procedure), ctx)
        self.assertEqual(j['i18n']['en']['title'], TITLES[result][1], ctx)

    def test_1_top_page_names_the_address_the_browser_used(self):
        for proto in ('--http1.1', '--http2'):
            rc, a, err = self.curl('[::1]', '/', [proto], headers={'Accept': BROWSER_ACCEPT})
            self.assertEqual((rc, a and a.status), (0, 200), err)
            self.assertIn('text/html', a.header('content-type'))
            self.assertIn('no-store', a.header('cache-control', ''))
            text = a.body.decode('utf-8')
            self.assertIn('madoguchi-client check --url https://[::1]:%d/</code>' % self.https_port, text, proto)

    def test_2_daemon_down(self):
        """The daemon stopped; from 127.0.0.1 (a client address the flood
        below does not use)."""
        self.daemon.stop_and_check()
        # a browser: the HTML page, whatever the page it opened
        for path, args in (('/', ['--http1.1']), ('/', ['--http2']), ('/results/valid', []), ('/results/', [])):
            rc, a, err = self.curl('127.0.0.1', path, args, headers={'Accept': BROWSER_ACCEPT})
            self.assertEqual(rc, 0, err)
            self.assertHtmlErrorPage(a, 'serviceError', '%s %s' % (path, args))
        rc, a, err = self.curl('127.0.0.1', '/', headers={'Accept': 'text/html'})
        self.assertEqual(rc, 0, err)
        self.assertHtmlErrorPage(a, 'serviceError', 'Accept: text/html')
        # API clients: the contract's problem+json
        for path, accept in (('/', None), ('/', 'application/json'), ('/', 'application/problem+json'),
                             ('/v1/nonce', None), ('/v1/nonce', 'application/json, text/html;q=0.5'),
                             ('/healthz', '*/*')):
            rc, a, err = self.curl('127.0.0.1', path, headers={'Accept': accept} if accept else None)
            self.assertEqual(rc, 0, err)
            self.assertProblem(a, 'serviceError', None, '%s Accept: %s' % (path, accept))
        # a procedure's answer is JSON even to a client that asks for HTML
        rc, a, err = self.curl('127.0.0.1', '/v1/validity-checks', body=b'x',
                               headers={'Content-Type': 'application/pkcs7-mime', 'Accept': BROWSER_ACCEPT})
        self.assertEqual(rc, 0, err)
        self.assertProblem(a, 'serviceError', None, 'POST /v1/validity-checks')

    def test_3_browser_over_the_limit_gets_the_busy_page(self):
        """Runs last (the limit's state outlives it): from ::1, more than the
        burst at once; the limited answers are the HTML busy page for a
        browser and the JSON busy answer for an API client."""
        seen = {}
        for i in range(60):
            accept = BROWSER_ACCEPT if i % 2 == 0 else 'application/json'
            rc, a, err = self.curl('[::1]', '/', headers={'Accept': accept})
            self.assertEqual(rc, 0, err)
            busy = TITLES['busy'][0] in a.body.decode('utf-8', 'replace')
            if busy:
                seen.setdefault(accept, a)
            if len(seen) == 2:
                break
        self.assertEqual(len(seen), 2, 'the limit answered busy to %r only' % list(seen))
        self.assertHtmlErrorPage(seen[BROWSER_ACCEPT], 'busy', 'limited browser')
        self.assertProblem(seen['application/json'], 'busy', None, 'limited API client')


if __name__ == '__main__':
    harness.main()
