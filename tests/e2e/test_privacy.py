"""Privacy: no holder's name, address or birth date (nor a serial or an
issuer name) in any daemon log line, whatever the result; none on the admin
tool's stderr either (its stdout is the operator's report and may hold them).

Drives every result state on its own daemon, including requests whose form
carries another person's facts or malformed facts, then checks the whole
stderr against every holder of the test PKI: the facts as written, JSON
escaped, the birth date's bare digits and the JPKI era-coded form.
"""

import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DaemonCase, make_form, sign_as  # noqa: E402

VC = 'validity-check'
REV = 'revocation'


def sensitive_strings(pki):
    out = set(pki.personal_strings())
    for h in pki.holders.values():
        a = h.get('applicant') or {}
        bd = a.get('birthDate')
        if bd:
            digits = bd.replace('-', '')
            out.add(digits)
            era = '1' if digits < '19120730' else '2' if digits < '19261225' else \
                '3' if digits < '19890108' else '4' if digits < '20190501' else '5'
            out.add(era + digits)
        for k in ('name', 'address'):
            v = a.get(k)
            if v:
                # each half of a name (family / given), and long address parts
                out.update(p for p in v.split('\u3000') if len(p) >= 2)
                out.add(v.encode('utf-8').hex())
    return {s for s in out if len(s) >= 2}


def certificate_strings(pki):
    """Serials and issuer names: not for daemon log lines (DESIGN.md
    "Store"); the admin tool may name a CA in its messages."""
    out = set()
    for h in pki.holders.values():
        if len(h['serial']) >= 8:
            out.add(h['serial'])
            out.add(str(int(h['serial'], 16)))
        if h.get('issuer'):
            out.add(h['issuer'])
    return out


class Privacy(DaemonCase):
    server = {'max_inflight': '2'}

    def leaks(self, text, extra=()):
        return sorted(s for s in self.strings | set(extra) if s in text)

    def test_every_result_leaves_no_personal_data(self):
        self.strings = sensitive_strings(self.pki)
        d = self.daemon
        P = self.pki
        seen = {}

        def expect(a, result, what):
            self.assertEqual(a.result, result, '%s: %r' % (what, a))
            seen[result] = seen.get(result, 0) + 1

        expect(d.submit('valid-01', VC), 'valid', 'valid')
        expect(d.submit('valid-21', VC, headers={'Accept-Language': 'en'}), 'valid', 'valid en')
        expect(d.submit('valid-02', REV, reason='keyCompromise'), 'accepted', 'accepted')
        expect(d.submit('valid-02', REV), 'revocationAccepted', 'again')
        expect(d.submit('valid-02', VC), 'revocationAccepted', 'check after revocation')
        expect(d.submit('revoked', VC), 'revoked', 'revoked')
        expect(d.submit('revoked', REV), 'revoked', 'revoked rev')
        expect(d.submit('expired', VC), 'expired', 'expired')
        expect(d.submit('notyet', VC), 'notYetValid', 'notyet')
        expect(d.submit('unknown', VC), 'issuerMismatch', 'unknown issuer')
        for h in ('nofacts', 'twonames', 'impostor', 'rsa1024'):
            expect(d.submit(h, VC), 'badCertificateSignature', h)
        expect(d.submit('wrongkey', REV), 'badRequestSignature', 'wrong key')
        # the form holds another holder's facts: neither set may be logged
        expect(d.submit('valid-03', VC, applicant=P.holder('valid-04')['applicant']),
               'badRequestSignature', 'other facts')
        expect(d.submit('valid-05', VC, nonce='AAAA'), 'badNonce', 'bad nonce')
        expect(d.submit('stale-dp', VC), 'serviceError', 'stale')
        # malformed forms full of personal data
        app = dict(P.holder('valid-06')['applicant'])
        nonce = d.get_nonce()
        for extra in ({'comment': app['name']}, {'reason': app['address']},
                      {'applicant': dict(app, birthDate=app['birthDate'].replace('-', '/'))},
                      {'applicant': dict(app, extra=app['address'])}):
            f = json.loads(make_form(VC, app, nonce))
            f.update(extra)
            body = sign_as(P.holder('valid-06'), json.dumps(f, ensure_ascii=False).encode())
            expect(d.post('/v1/validity-checks', body), 'malformed', 'malformed %r' % list(extra))
        body = sign_as(P.holder('valid-06'), make_form(VC, app, nonce).replace(
            app['name'].encode()[:3], b'\xff\xfe'))
        expect(d.post('/v1/validity-checks', body), 'malformed', 'bad utf-8')
        expect(d.post('/v1/validity-checks', app['name'].encode() + b'\x00' + app['address'].encode()),
               'malformed', 'facts as the body')
        expect(d.post('/v1/revocations', d.signed('valid-07', VC)), 'malformed', 'wrong procedure')
        # busy: both slots held by stalled uploads
        stalled = []
        good = d.signed('valid-08', VC)
        for _ in range(2):
            s = socket.create_connection(('127.0.0.1', d.port), timeout=10)
            s.sendall(('POST /v1/validity-checks HTTP/1.1\r\nHost: x\r\nContent-Type: application/cms\r\n'
                       'Content-Length: %d\r\n\r\n' % len(good)).encode() + good[:100])
            stalled.append(s)
        time.sleep(0.2)
        expect(d.post('/v1/validity-checks', good), 'busy', 'busy')
        for s in stalled:
            s.close()
        time.sleep(0.2)
        expect(d.post('/v1/validity-checks', b'', content_type='text/plain'), 'malformed', '415')
        expect(d.get('/nowhere'), 'malformed', '404')

        want = set(harness.TITLES_JA)
        self.assertEqual(want - set(seen), set(), 'result states not driven')

        # admin commands: stdout may report, stderr must not leak
        admin_runs = [('log',), ('log', '--format', 'json'), ('log', 'head'), ('log', 'verify'),
                      ('log', 'export'), ('crl', 'status'), ('log', 'show', 'nonexistent'),
                      ('crl', 'import', P.crl_file('jlis-full-older')),
                      ('crl', 'import', P.crl_file('unknown-full'))]
        admin_leaks = []
        for args in admin_runs:
            cp = d.admin(*args)
            err = cp.stderr.decode('utf-8', 'replace')
            if self.leaks(err):
                admin_leaks.append('%s: %r' % (' '.join(args), self.leaks(err)[:3]))
        d.stop_and_check()      # the harness's own log check, exit status 0
        text = d.stderr_text()
        lines = [l for l in text.splitlines() if l.strip()]
        print('privacy: %d result states driven (%d requests), %d daemon log lines, %d admin commands, '
              'checked against %d sensitive strings' % (len(seen), sum(seen.values()), len(lines),
                                                        len(admin_runs), len(self.strings)))
        self.assertEqual(self.leaks(text, certificate_strings(self.pki)), [],
                         'personal data, serials or issuers in the daemon log')
        self.assertEqual(admin_leaks, [], 'personal data on admin stderr')
        # the log is not empty: it did record the requests (without the data)
        self.assertGreater(len(lines), sum(seen.values()))
        type(self).daemon = None


if __name__ == '__main__':
    harness.main()
