"""Bodies that are not a well-formed request: each is `malformed` with the
right status (DESIGN.md check 2), and the daemon keeps answering."""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (DaemonCase, ENDPOINT, make_form, sign, run, raw_exchange,  # noqa: E402
                     cms_insert_crls, der_header)

VC = 'validity-check'
REV = 'revocation'
MAX_BODY = 8192


class Garbage(DaemonCase):
    server = {'max_body': MAX_BODY}

    def setUp(self):
        self.h = self.pki.holder('valid-01')
        self.h2 = self.pki.holder('valid-02')

    def tearDown(self):
        a = self.daemon.get('/healthz')
        self.assertEqual(a.status, 200, 'daemon stopped answering: %r' % a)
        self.assertIsNone(self.daemon.proc.poll(), 'daemon died')

    def expect(self, body, status=400, proc=VC, content_type='application/pkcs7-mime'):
        a = self.daemon.post(ENDPOINT[proc], body, content_type=content_type)
        self.assertAnswer(a, 'malformed', proc, status)
        return a

    def signed_text(self, text, **kw):
        if isinstance(text, str):
            text = text.encode('utf-8')
        return sign(text, self.h['cert'], self.h['key'], **kw)

    def form_dict(self, proc=VC, **over):
        f = {'procedure': proc, 'applicant': dict(self.h['applicant']),
             'nonce': self.daemon.get_nonce()}
        f.update(over)
        return f

    def openssl_cms(self, args, data):
        with tempfile.NamedTemporaryFile(suffix='.json') as f:
            f.write(data)
            f.flush()
            cp = run(['openssl', 'cms'] + args + ['-in', f.name], check=True)
        return cp.stdout

    # -- the transport

    def test_empty_body(self):
        self.expect(b'')
        self.expect(b'', proc=REV)

    def test_truncated_der(self):
        body = self.daemon.signed('valid-01', VC)
        for cut in (1, 10, len(body) // 2, len(body) - 1):
            with self.subTest(cut=cut):
                self.expect(body[:cut])

    def test_random_bytes(self):
        self.expect(os.urandom(2000))
        self.expect(b'\x30\x82\x01\x00' + os.urandom(256))

    def test_wrong_media_type_415(self):
        body = self.daemon.signed('valid-01', VC)
        for ct in ('text/plain', 'application/json', 'application/octet-stream'):
            with self.subTest(content_type=ct):
                self.expect(body, 415, content_type=ct)
        self.expect(body, 415, proc=REV, content_type='text/plain')

    def test_over_max_body_413(self):
        d = self.daemon
        for proc in (VC, REV):
            body = b'\x30\x83' + os.urandom(MAX_BODY * 3)
            req = ('POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/pkcs7-mime\r\n'
                   'Content-Length: %d\r\nConnection: close\r\n\r\n' % (ENDPOINT[proc], len(body))).encode()
            a = raw_exchange(d.port, req + body)
            self.assertAnswer(a, 'malformed', proc, 413)

    def test_chunked_over_max_body_413(self):
        chunk = os.urandom(4096)
        body = b''.join(b'%x\r\n' % len(chunk) + chunk + b'\r\n' for _ in range(MAX_BODY // 4096 + 3))
        req = (b'POST /v1/validity-checks HTTP/1.1\r\nHost: 127.0.0.1\r\n'
               b'Content-Type: application/pkcs7-mime\r\nTransfer-Encoding: chunked\r\n'
               b'Connection: close\r\n\r\n' + body + b'0\r\n\r\n')
        a = raw_exchange(self.daemon.port, req)
        self.assertAnswer(a, 'malformed', VC, 413)

    # -- the form (signed correctly; only the JSON is wrong)

    def test_form_wrong_types(self):
        cases = {
            'procedure number': self.form_dict(procedure=1),
            'applicant string': self.form_dict(applicant='吉田　太郎'),
            'applicant list': self.form_dict(applicant=[self.h['applicant']]),
            'name number': self.form_dict(applicant=dict(self.h['applicant'], name=12)),
            'birthDate number': self.form_dict(applicant=dict(
                self.h['applicant'], birthDate=int(self.h['applicant']['birthDate'].replace('-', '')))),
            'nonce number': self.form_dict(nonce=5),
            'nonce list': self.form_dict(nonce=[self.daemon.get_nonce()]),
        }
        for what, form in cases.items():
            with self.subTest(what=what):
                self.expect(self.signed_text(json.dumps(form, ensure_ascii=False)))
        form = self.form_dict(REV, reason=1)
        self.expect(self.signed_text(json.dumps(form, ensure_ascii=False)), proc=REV)

    def test_form_extra_keys(self):
        for what, form in {
            'top level': self.form_dict(comment='hello'),
            'applicant': self.form_dict(applicant=dict(self.h['applicant'], phone='03-0000-0000')),
        }.items():
            with self.subTest(what=what):
                self.expect(self.signed_text(json.dumps(form, ensure_ascii=False)))

    def test_form_missing_keys(self):
        full = self.form_dict()
        for key in ('procedure', 'applicant', 'nonce'):
            form = {k: v for k, v in full.items() if k != key}
            with self.subTest(missing=key):
                self.expect(self.signed_text(json.dumps(form, ensure_ascii=False)))
        for key in ('name', 'address', 'birthDate', 'gender'):
            app = {k: v for k, v in self.h['applicant'].items() if k != key}
            with self.subTest(missing='applicant.' + key):
                self.expect(self.signed_text(json.dumps(self.form_dict(applicant=app),
                                                        ensure_ascii=False)))

    def test_form_duplicate_keys(self):
        app = json.dumps(self.h['applicant'], ensure_ascii=False)
        nonce = json.dumps(self.daemon.get_nonce())
        texts = {
            'procedure twice': '{"procedure":"validity-check","procedure":"validity-check",'
                               '"applicant":%s,"nonce":%s}' % (app, nonce),
            'nonce twice': '{"procedure":"validity-check","applicant":%s,"nonce":%s,"nonce":%s}'
                           % (app, nonce, nonce),
            'applicant name twice': '{"procedure":"validity-check","applicant":%s,"nonce":%s}'
                                    % (app[:-1] + ',"name":%s}' % json.dumps(
                                        self.h['applicant']['name'], ensure_ascii=False), nonce),
        }
        rev = ('{"procedure":"revocation","applicant":%s,"nonce":%s,'
               '"reason":"keyCompromise","reason":"superseded"}' % (app, nonce))
        for what, text in texts.items():
            with self.subTest(what=what):
                json.loads(text)  # valid JSON text, only duplicated
                self.expect(self.signed_text(text))
        before = self.daemon.acceptance_count()
        self.expect(self.signed_text(rev), proc=REV)
        self.assertEqual(self.daemon.acceptance_count(), before)

    def test_form_null_values(self):
        cases = {
            'nonce': self.form_dict(nonce=None),
            'applicant': self.form_dict(applicant=None),
            'gender': self.form_dict(applicant=dict(self.h['applicant'], gender=None)),
            'procedure': self.form_dict(procedure=None),
        }
        for what, form in cases.items():
            with self.subTest(what=what):
                self.expect(self.signed_text(json.dumps(form, ensure_ascii=False)))
        form = self.form_dict(REV, reason=None)
        self.expect(self.signed_text(json.dumps(form, ensure_ascii=False)), proc=REV)

    def test_form_invalid_utf8(self):
        good = json.dumps(self.form_dict(), ensure_ascii=False).encode('utf-8')
        name = self.h['applicant']['name'].encode('utf-8')
        for what, bad in (('0xff byte', b'\xff'), ('overlong', b'\xc0\xae'),
                          ('lone continuation', b'\x80'), ('surrogate', b'\xed\xa0\x80')):
            with self.subTest(what=what):
                text = good.replace(name, name[:3] + bad + name[3:], 1)
                self.assertNotEqual(text, good)
                self.expect(self.signed_text(text))

    def test_form_not_an_object(self):
        obj = json.dumps(self.form_dict(), ensure_ascii=False)
        for what, text in (('array', '[%s]' % obj), ('string', '"validity-check"'),
                           ('number', '42'), ('trailing garbage', obj + ' x'),
                           ('two objects', obj + obj), ('not json', 'hello'), ('empty', '')):
            with self.subTest(what=what):
                try:
                    body = self.signed_text(text)
                except RuntimeError:
                    if text == '':
                        continue   # openssl may refuse empty content
                    raise
                self.expect(body)

    # -- the CMS structure

    def test_detached_content(self):
        form = make_form(VC, self.h['applicant'], self.daemon.get_nonce())
        self.expect(sign(form, self.h['cert'], self.h['key'], nodetach=False))

    def test_two_signers(self):
        form = make_form(VC, self.h['applicant'], self.daemon.get_nonce())
        body = sign(form, None, None, signers=[(self.h['cert'], self.h['key']),
                                               (self.h2['cert'], self.h2['key'])])
        self.expect(body)

    def test_no_certificate(self):
        form = make_form(VC, self.h['applicant'], self.daemon.get_nonce())
        self.expect(sign(form, self.h['cert'], self.h['key'], extra_args=['-nocerts']))

    def test_two_certificates(self):
        form = make_form(VC, self.h['applicant'], self.daemon.get_nonce())
        self.expect(sign(form, self.h['cert'], self.h['key'],
                         extra_args=['-certfile', self.h2['cert']]))
        self.expect(sign(form, self.h['cert'], self.h['key'],
                         extra_args=['-certfile', self.pki.ca_cert('jlis-g2')]))

    def test_sid_does_not_match_certificate(self):
        form = make_form(VC, self.h['applicant'], self.daemon.get_nonce())
        self.expect(sign(form, self.h['cert'], self.h['key'],
                         extra_args=['-nocerts', '-certfile', self.h2['cert']]))

    def test_econtent_type_not_id_data(self):
        form = make_form(VC, self.h['applicant'], self.daemon.get_nonce())
        self.expect(sign(form, self.h['cert'], self.h['key'],
                         extra_args=['-econtent_type', '1.2.3.4']))

    def test_indefinite_length_ber(self):
        form = make_form(VC, self.h['applicant'], self.daemon.get_nonce())
        body = sign(form, self.h['cert'], self.h['key'], extra_args=['-stream'])
        cp = subprocess.run(['openssl', 'asn1parse', '-inform', 'DER'], input=body,
                            capture_output=True, timeout=30)
        if b'l=inf' not in cp.stdout:
            self.skipTest('openssl did not produce indefinite lengths')
        self.expect(body)

    def test_not_signed_data(self):
        form = make_form(VC, self.h['applicant'], self.daemon.get_nonce())
        self.expect(self.openssl_cms(['-data_create', '-outform', 'DER'], form))
        self.expect(self.openssl_cms(['-digest_create', '-outform', 'DER'], form))
        self.expect(self.openssl_cms(['-encrypt', '-binary', '-outform', 'DER', '-aes256',
                                      '-recip', self.h['cert']], form))

    def test_crl_included(self):
        form = make_form(VC, self.h['applicant'], self.daemon.get_nonce())
        body = sign(form, self.h['cert'], self.h['key'])
        with open(self.pki.crl_file('jlis-full'), 'rb') as f:
            crl = f.read()
        with_crl = cms_insert_crls(body, crl)
        # openssl still reads it (so only our rule rejects it)
        cp = subprocess.run(['openssl', 'cms', '-cmsout', '-inform', 'DER', '-print'],
                            input=with_crl, capture_output=True, timeout=30)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.expect(with_crl)

    def test_trailing_bytes_after_der(self):
        body = self.daemon.signed('valid-01', VC)
        self.expect(body + b'\x00\x00')
        self.expect(body + b'junk')

    def test_non_minimal_length(self):
        body = self.daemon.signed('valid-01', VC)
        tag, hl, ln = der_header(body, 0)
        longer = bytes([tag, 0x84]) + ln.to_bytes(4, 'big') + body[hl:]
        self.expect(longer)

    def test_pem_with_bad_base64(self):
        self.expect(b'-----BEGIN CMS-----\nnot base64 at all!!\n-----END CMS-----\n',
                    content_type='application/cms')
        body = self.daemon.signed('valid-01', VC, outform='PEM')
        lines = body.splitlines()
        mangled = b'\n'.join(lines[:2] + lines[3:]) + b'\n'   # a line dropped
        self.expect(mangled, content_type='application/cms')

    def test_still_answers_valid_afterwards(self):
        a = self.daemon.submit('valid-03', VC)
        self.assertAnswer(a, 'valid', VC, 200)


if __name__ == '__main__':
    harness.main()
