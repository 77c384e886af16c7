"""The admin listener ([admin] listen/port/token_file): GET /metrics in the
Prometheus text format, checked with `promtool check metrics` and with a
strict parser of the format written here, its counters against the
requests this test made; and the bearer-token JSON API
(/admin/v1/acceptances, /admin/v1/crls)."""

import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Daemon, DaemonCase, http_request, run, shared_pki, sqlite  # noqa: E402

TOKEN = 'mdg-test-token_0123456789abcdefABCDEF'
METRIC_NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LABEL_NAME = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
TYPES = ('counter', 'gauge', 'histogram', 'summary', 'untyped')


# ------------------------------------------------------------ the text format

def parse_value(s):
    if s in ('+Inf', 'Inf'):
        return math.inf
    if s == '-Inf':
        return -math.inf
    if s == 'NaN':
        return math.nan
    if not re.fullmatch(r'[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?', s):
        raise AssertionError('not a sample value: %r' % s)
    return float(s)


def parse_labels(s, pos, line):
    """Parses '{k="v",...}' from s[pos] == '{'; returns (dict, next pos)."""
    labels = {}
    pos += 1
    while True:
        if s[pos] == '}':
            return labels, pos + 1
        m = LABEL_NAME.match(s, pos)
        if not m:
            raise AssertionError('bad label name in %r' % line)
        name = m.group(0)
        pos = m.end()
        if s[pos:pos + 2] != '="':
            raise AssertionError('label %s without ="value" in %r' % (name, line))
        pos += 2
        val = ''
        while s[pos] != '"':
            if s[pos] == '\\':
                nxt = s[pos + 1]
                if nxt not in ('\\', '"', 'n'):
                    raise AssertionError('bad escape \\%s in %r' % (nxt, line))
                val += '\n' if nxt == 'n' else nxt
                pos += 2
            elif s[pos] == '\n':
                raise AssertionError('raw newline in a label value: %r' % line)
            else:
                val += s[pos]
                pos += 1
        pos += 1
        if name in labels:
            raise AssertionError('label %s twice in %r' % (name, line))
        labels[name] = val
        if s[pos] == ',':
            pos += 1
        elif s[pos] != '}':
            raise AssertionError('expected , or } in %r' % line)


def family_of(name, types):
    for suffix in ('_bucket', '_sum', '_count'):
        if name.endswith(suffix) and types.get(name[:-len(suffix)]) in ('histogram', 'summary'):
            return name[:-len(suffix)]
    return name


def parse_exposition(text):
    """Prometheus text format 0.0.4, strictly. Returns {family: {'type',
    'help', 'samples': [(name, labels, value)]}}."""
    if not text.endswith('\n'):
        raise AssertionError('the exposition does not end with a newline')
    fams, types, seen_series, done = {}, {}, set(), set()
    current = None
    for line in text.split('\n')[:-1]:
        if line == '':
            raise AssertionError('empty line')
        if line.startswith('#'):
            parts = line.split(' ', 3)
            if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                name = parts[2]
                if not METRIC_NAME.fullmatch(name):
                    raise AssertionError('bad metric name in %r' % line)
                f = fams.setdefault(name, {'type': None, 'help': None, 'samples': []})
                if parts[1] == 'HELP':
                    if f['help'] is not None:
                        raise AssertionError('second HELP for %s' % name)
                    f['help'] = parts[3] if len(parts) > 3 else ''
                else:
                    if f['type'] is not None or f['samples']:
                        raise AssertionError('TYPE for %s twice or after its samples' % name)
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise AssertionError('bad TYPE line %r' % line)
                    f['type'] = types[name] = parts[3]
                if current is not None and current != name:
                    done.add(current)
                if name in done:
                    raise AssertionError('family %s split' % name)
                current = name
            continue
        m = METRIC_NAME.match(line)
        if not m:
            raise AssertionError('bad sample line %r' % line)
        name, pos = m.group(0), m.end()
        labels = {}
        if pos < len(line) and line[pos] == '{':
            try:
                labels, pos = parse_labels(line, pos, line)
            except IndexError:
                raise AssertionError('unterminated labels in %r' % line) from None
        rest = line[pos:]
        if not rest.startswith(' '):
            raise AssertionError('no space before the value in %r' % line)
        fields = rest[1:].split(' ')
        if len(fields) not in (1, 2):
            raise AssertionError('bad value/timestamp in %r' % line)
        value = parse_value(fields[0])
        if len(fields) == 2 and not re.fullmatch(r'-?\d+', fields[1]):
            raise AssertionError('bad timestamp in %r' % line)
        fam = family_of(name, types)
        if fam != current:
            if current is not None:
                done.add(current)
            if fam in done:
                raise AssertionError('family %s split' % fam)
            current = fam
        key = (name, tuple(sorted(labels.items())))
        if key in seen_series:
            raise AssertionError('series twice: %r' % line)
        seen_series.add(key)
        f = fams.setdefault(fam, {'type': None, 'help': None, 'samples': []})
        if f['type'] == 'counter' and not value >= 0:
            raise AssertionError('negative counter %r' % line)
        if f['type'] == 'histogram' and name == fam:
            raise AssertionError('a bare sample in histogram %s' % fam)
        f['samples'].append((name, labels, value))
    for fam, f in fams.items():
        if f['type'] == 'histogram':
            check_histogram(fam, f['samples'])
    return fams


def check_histogram(fam, samples):
    groups = {}
    for name, labels, value in samples:
        rest = tuple(sorted((k, v) for k, v in labels.items() if k != 'le'))
        g = groups.setdefault(rest, {'buckets': [], 'sum': None, 'count': None})
        if name == fam + '_bucket':
            if 'le' not in labels:
                raise AssertionError('%s bucket without le' % fam)
            g['buckets'].append((parse_value(labels['le']), value))
        elif name == fam + '_sum':
            g['sum'] = value
        elif name == fam + '_count':
            g['count'] = value
    for rest, g in groups.items():
        les = [le for le, _ in g['buckets']]
        if not les or les[-1] != math.inf:
            raise AssertionError('%s%r: no +Inf bucket last' % (fam, rest))
        if les != sorted(les) or len(set(les)) != len(les):
            raise AssertionError('%s%r: le not increasing: %r' % (fam, rest, les))
        vals = [v for _, v in g['buckets']]
        if vals != sorted(vals):
            raise AssertionError('%s%r: buckets decrease: %r' % (fam, rest, vals))
        if g['count'] is None or g['sum'] is None:
            raise AssertionError('%s%r: _count or _sum missing' % (fam, rest))
        if g['count'] != vals[-1]:
            raise AssertionError('%s%r: _count %r != +Inf bucket %r' % (fam, rest, g['count'],
                                                                        vals[-1]))


def series(fams, fam, name=None, **labels):
    """The value of one series, or None."""
    for n, l, v in fams.get(fam, {}).get('samples', []):
        if n == (name or fam) and l == labels:
            return v
    return None


# ------------------------------------------------------------------ the tests

def write_token(d, token=TOKEN, mode=0o600):
    path = os.path.join(d, 'admin.token')
    with open(path, 'w') as f:
        f.write(token + '\n')
    os.chmod(path, mode)
    return path


class Listener(DaemonCase):

    @classmethod
    def setUpClass(cls):
        cls.pki = shared_pki()
        tdir = harness.make_tmpdir('mdg-e2e-token-')
        cls.daemon = Daemon(cls.pki, name='admin-listener',
                            admin={'token_file': write_token(tdir)})
        cls.daemon.start()

    def admin_get(self, path, token=TOKEN, headers=None):
        h = dict(headers or {})
        if token is not None:
            h['Authorization'] = 'Bearer ' + token
        return http_request(self.daemon.admin_port, 'GET', path, headers=h)

    def scrape(self, settle=False):
        # counters move as a request completes, just after its answer went
        # out: with settle, wait until no request is open
        deadline = time.time() + 10
        while True:
            a = self.admin_get('/metrics', token=None)
            if not settle or time.time() > deadline or re.search(
                    rb'^madoguchi_open_requests 0$', a.body, re.M):
                break
            time.sleep(0.05)
        self.assertEqual(a.status, 200, repr(a))
        self.assertEqual(a.header('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
        text = a.body.decode('utf-8')
        fams = parse_exposition(text)
        # Debian's prometheus package (deploy/install-deps.sh) brings promtool
        self.assertIsNotNone(shutil.which('promtool'), 'promtool is not installed')
        cp = subprocess.run(['promtool', 'check', 'metrics'], input=a.body,
                            capture_output=True, timeout=30)
        self.assertEqual(cp.returncode, 0, 'promtool: %s%s\n%s' % (
            cp.stdout.decode(), cp.stderr.decode(), text[:3000]))
        return text, fams

    def test_1_metrics_count_the_requests_made(self):
        _, before = self.scrape(settle=True)
        d = self.daemon
        made = {}

        def count(proc, result):
            made[(proc, result)] = made.get((proc, result), 0) + 1

        plan = [('valid-41', 'revocation', 'accepted'), ('valid-41', 'revocation', 'revocationAccepted'),
                ('valid-42', 'validity-check', 'valid'), ('revoked', 'validity-check', 'revoked'),
                ('unknown', 'validity-check', 'issuerMismatch'),
                ('expired', 'revocation', 'expired')]
        for h, proc, want in plan:
            a = d.submit(h, proc)
            self.assertEqual(a.result, want, '%s %s: %r' % (h, proc, a))
            count(proc, want)
            count('none', 'ok')          # its GET /v1/nonce
        a = d.post('/v1/validity-checks', b'not a CMS')
        self.assertEqual(a.result, 'malformed', repr(a))
        count('validity-check', 'malformed')
        a = d.get('/no/such/path')
        self.assertEqual(a.status, 404)
        count('none', 'malformed')
        text, after = self.scrape(settle=True)
        self.assertEqual(series(after, 'madoguchi_open_requests'), 0)
        # every series of requests_total moved by exactly what was made
        keys = {(l['procedure'], l['result'])
                for _, l, _ in after['madoguchi_requests_total']['samples']}
        self.assertTrue(set(made) <= keys, (made, keys))
        for proc, result in keys:
            v0 = series(before, 'madoguchi_requests_total', procedure=proc, result=result) or 0
            v1 = series(after, 'madoguchi_requests_total', procedure=proc, result=result)
            self.assertEqual(v1 - v0, made.get((proc, result), 0), (proc, result))
        for proc in ('revocation', 'validity-check', 'none'):
            n = sum(v for (p, _), v in made.items() if p == proc)
            c0 = series(before, 'madoguchi_request_duration_seconds',
                        'madoguchi_request_duration_seconds_count', procedure=proc)
            c1 = series(after, 'madoguchi_request_duration_seconds',
                        'madoguchi_request_duration_seconds_count', procedure=proc)
            self.assertEqual(c1 - c0, n, proc)
        self.assertEqual(after['madoguchi_request_duration_seconds']['type'], 'histogram')
        self.assertEqual(series(after, 'madoguchi_busy_rejections_total'), 0)
        self.assertEqual(series(after, 'madoguchi_inflight_requests'), 0)
        self.assertEqual(series(after, 'madoguchi_inflight_limit'), 256)
        self.assertEqual(series(after, 'madoguchi_store_up'), 1)
        rows = int(sqlite(d.db, 'SELECT count(*) FROM acceptances;'))
        self.assertEqual(rows, 1)
        self.assertEqual(series(after, 'madoguchi_acceptances_total'), rows)
        self.assertEqual(series(after, 'madoguchi_log_chain_length'), rows)
        self.assertEqual(series(after, 'madoguchi_acceptances_unexported'), rows)
        # CRL gauges: one series per scope held, labelled by names only
        ages = after['madoguchi_crl_age_seconds']['samples']
        self.assertEqual(len(ages), len(harness.DEFAULT_CRLS))
        now = time.time()
        for name in harness.DEFAULT_CRLS:
            c = self.pki.crls[name]
            labels = {'issuer': c['issuer'], 'scope': c['dp'] or 'full'}
            for _, l, _ in ages:
                if harness.same_dn(l['issuer'], c['issuer']) and (
                        l['scope'] == 'full' if c['dp'] is None else harness.same_dn(l['scope'], c['dp'])):
                    labels = l
            age = series(after, 'madoguchi_crl_age_seconds', **labels)
            self.assertIsNotNone(age, (name, labels, ages))
            want = now - harness.parse_time(c['thisUpdate']).timestamp()
            self.assertLess(abs(age - want), 120, name)
            self.assertEqual(series(after, 'madoguchi_crl_stale', **labels),
                             1 if name == 'jlis-dp-stale' else 0, name)
            self.assertEqual(series(after, 'madoguchi_crl_next_update_timestamp_seconds', **labels),
                             harness.parse_time(c['nextUpdate']).timestamp(), name)
        # no personal data, serials or receipt ids in the metrics
        for s in self.pki.personal_strings():
            self.assertNotIn(s, text)
        for h in ('valid-41', 'valid-42', 'revoked'):
            self.assertNotIn(self.pki.holder(h)['serial'], text)

    def assertProblem(self, a, status, kind):
        """The admin listener's errors have the public API's problem+json
        shape (RFC 9457), their message also in "error"."""
        self.assertEqual(a.header('content-type'), 'application/problem+json', repr(a))
        self.assertEqual(a.json.get('type'), 'urn:madoguchi:admin:' + kind, repr(a))
        self.assertEqual(a.json.get('status'), status, repr(a))
        self.assertIsInstance(a.json.get('title'), str, repr(a))
        self.assertEqual(a.json.get('detail'), a.json.get('error'), repr(a))
        self.assertIsInstance(a.json.get('error'), str, repr(a))

    def test_2_token_required(self):
        for token, hdrs in ((None, None), ('wrong-token-0123456789', None), (TOKEN[:-1], None),
                            (TOKEN + 'x', None), (None, {'Authorization': 'Basic ' + TOKEN}),
                            (None, {'Authorization': TOKEN}), ('', None)):
            for path in ('/admin/v1/acceptances', '/admin/v1/crls', '/admin/v1/nothing'):
                a = self.admin_get(path, token=token, headers=hdrs)
                self.assertEqual(a.status, 401, (token, hdrs, path, a))
                self.assertTrue(a.header('www-authenticate', '').startswith('Bearer'), repr(a))
                self.assertIn('no-store', a.header('cache-control', ''))
        a = self.admin_get('/admin/v1/crls', headers={'Authorization': 'bearer ' + TOKEN},
                           token=None)
        self.assertEqual(a.status, 200, repr(a))
        a = self.admin_get('/admin/v1/nothing')
        self.assertEqual(a.status, 404, repr(a))
        self.assertProblem(a, 404, 'unknownPath')
        a = http_request(self.daemon.admin_port, 'POST', '/admin/v1/crls', body=b'',
                         headers={'Authorization': 'Bearer ' + TOKEN})
        self.assertEqual(a.status, 405, repr(a))
        self.assertProblem(a, 405, 'wrongMethod')
        self.assertProblem(self.admin_get('/admin/v1/crls', token=None), 401, 'unauthorised')
        # the public listener has none of it
        for path in ('/metrics', '/admin/v1/crls'):
            self.assertEqual(self.daemon.get(path).status, 404, path)

    def test_3_crls(self):
        a = self.admin_get('/admin/v1/crls')
        self.assertEqual(a.status, 200, repr(a))
        self.assertEqual(a.header('content-type'), 'application/json')
        crls = a.json['crls']
        self.assertEqual(len(crls), len(harness.DEFAULT_CRLS))
        self.assertEqual(a.json['stale'], 1)
        for name in harness.DEFAULT_CRLS:
            c = self.pki.crls[name]
            match = [x for x in crls if harness.same_dn(x['issuer'], c['issuer']) and (
                x['distributionPoint'] is None if c['dp'] is None
                else harness.same_dn(x['distributionPoint'] or '', c['dp']))]
            self.assertEqual(len(match), 1, (name, crls))
            x = match[0]
            self.assertEqual(x['scope'], 'full' if c['dp'] is None else 'distributionPoint')
            self.assertEqual(x['number'], str(c['number']))
            self.assertEqual(harness.parse_time(x['thisUpdate']), harness.parse_time(c['thisUpdate']))
            self.assertEqual(harness.parse_time(x['nextUpdate']), harness.parse_time(c['nextUpdate']))
            self.assertEqual(x['entries'], len(c['serials']))
            self.assertEqual(x['stale'], name == 'jlis-dp-stale')
        # the same as `crl status`
        cp = self.daemon.admin('crl', 'status', '--format', 'json')
        doc = json.loads(cp.stdout)
        self.assertEqual(sum(len(a['scopes']) for a in doc['anchors']) + len(doc['otherIssuers']),
                         len(crls))
        self.assertTrue(all(x['retiredAt'] is None for x in crls))

    def test_4_acceptances_filters_and_paging(self):
        d = self.daemon
        receipts = {}
        for h, reason in (('valid-43', 'keyCompromise'), ('valid-44', 'superseded'),
                          ('valid-45', 'keyCompromise'), ('valid-pref', None)):
            a = d.submit(h, 'revocation', reason=reason)
            self.assertEqual(a.result, 'accepted', repr(a))
            receipts[h] = a.json['receiptId']

        def get(**q):
            a = self.admin_get('/admin/v1/acceptances?' + urllib.parse.urlencode(q))
            self.assertEqual(a.status, 200, (q, a))
            return a.json

        every = get()
        rows = every['acceptances']
        self.assertIsNone(every['next'])
        self.assertEqual([r['seq'] for r in rows], list(range(1, len(rows) + 1)))
        cli = [json.loads(l) for l in d.admin('log', '--format', 'json').stdout.splitlines()]
        self.assertEqual(rows, cli)
        for r in rows:
            self.assertNotIn('address', r)
            self.assertNotIn('birthDate', r)
        h = self.pki.holder('valid-44')
        got = get(serial=h['serial'].upper())['acceptances']
        self.assertEqual([r['receiptId'] for r in got], [receipts['valid-44']])
        self.assertEqual(got[0]['name'], h['applicant']['name'])
        got = get(receipt=receipts['valid-43'])['acceptances']
        self.assertEqual([r['serial'] for r in got], [self.pki.holder('valid-43')['serial']])
        got = get(reason='keyCompromise')['acceptances']
        self.assertEqual(sorted(r['receiptId'] for r in got),
                         sorted([receipts['valid-43'], receipts['valid-45']]))
        got = get(issuer=self.pki.holder('valid-pref')['issuer'])['acceptances']
        self.assertEqual([r['receiptId'] for r in got], [receipts['valid-pref']])
        today = harness.now().astimezone(harness.JST).date().isoformat()
        self.assertEqual(len(get(since=today, until=today)['acceptances']), len(rows))
        self.assertEqual(get(until='2000-01-01')['acceptances'], [])
        # paging with the cursor
        seen, cursor = [], None
        while True:
            q = {'limit': 2}
            if cursor:
                q['cursor'] = cursor
            page = get(**q)
            self.assertLessEqual(len(page['acceptances']), 2)
            seen += page['acceptances']
            cursor = page['next']
            if cursor is None:
                break
        self.assertEqual(seen, rows)
        self.assertEqual(get(after=2, limit=1)['acceptances'], rows[2:3])
        # personal data only when asked
        got = get(receipt=receipts['valid-44'], showPersonalData='true')['acceptances'][0]
        self.assertEqual(got['address'], h['applicant']['address'])
        self.assertEqual(got['birthDate'], h['applicant']['birthDate'])
        # bad parameters: 400 with a JSON error
        for q in ({'limit': '0'}, {'limit': '1001'}, {'limit': 'x'}, {'serial': 'zz'},
                  {'reason': 'bored'}, {'since': 'yesterday'}, {'receipt': 'abc'},
                  {'after': '-1'}, {'showPersonalData': 'maybe'}, {'frobnicate': '1'},
                  {'after': '1', 'cursor': '1'}):
            a = self.admin_get('/admin/v1/acceptances?' + urllib.parse.urlencode(q))
            self.assertEqual(a.status, 400, (q, a))
            self.assertIsInstance(a.json.get('error'), str, (q, a))
            self.assertProblem(a, 400, 'badParameter')


class NoToken(unittest.TestCase):
    """Without token_file the API is off for everyone; /metrics stays open.
    A token file others may read stops the daemon at start."""

    @classmethod
    def setUpClass(cls):
        cls.pki = shared_pki()

    def test_api_off_without_token_file(self):
        d = Daemon(self.pki, name='admin-notoken')
        d.start()
        try:
            for auth in (None, 'Bearer ' + TOKEN, 'Bearer '):
                a = http_request(d.admin_port, 'GET', '/admin/v1/crls',
                                 headers={'Authorization': auth} if auth else {})
                self.assertEqual(a.status, 403, repr(a))
            a = http_request(d.admin_port, 'GET', '/metrics')
            self.assertEqual(a.status, 200, repr(a))
            parse_exposition(a.body.decode())
        finally:
            d.stop_and_check()

    def test_admin_port_taken_public_window_still_serves(self):
        import socket
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        s.listen(1)
        try:
            d = Daemon(self.pki, name='admin-taken', admin={'port': s.getsockname()[1]})
            d.start()
            try:
                self.assertEqual(d.get('/healthz').status, 200)
                self.assertRegex(d.stderr_text(), r'"level":"error".*admin listener: port \d+ in use on 127.0.0.1')
            finally:
                d.stop_and_check()
        finally:
            s.close()

    def test_readable_token_file_is_refused(self):
        tdir = harness.make_tmpdir('mdg-e2e-token-')
        for token, mode in ((TOKEN, 0o644), ('short', 0o600), ('has space in it 0123456789', 0o600)):
            d = Daemon(self.pki, name='admin-badtoken', crls=(),
                       admin={'token_file': write_token(tdir, token, mode)})
            p = d.spawn()
            try:
                rc = p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                d.kill()
                self.fail('madoguchid started with token file %r mode %o' % (token, mode))
            finally:
                d.terminate()
            self.assertNotEqual(rc, 0)
            self.assertIn('token_file', d.stderr_text())
            self.assertNotIn(token, d.stderr_text())


if __name__ == '__main__':
    harness.main()
