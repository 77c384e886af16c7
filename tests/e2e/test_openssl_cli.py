"""The README flow with the stock `openssl cms` CLI as the client, the
signature algorithms of DESIGN.md "The signed request", and other CMS
implementations' ordinary signing commands (GnuTLS `certtool --p7-sign`):
each on both endpoints (validity check → valid, revocation → accepted)."""

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DaemonCase, ENDPOINT, make_form, sign  # noqa: E402


def certtool_sign(form_bytes, cert, key, time=False):
    """`certtool --p7-sign --p7-include-cert [--p7-time]`, DER out."""
    d = tempfile.mkdtemp(prefix='mdg-e2e-certtool-')
    try:
        src, out = os.path.join(d, 'form.json'), os.path.join(d, 'out.p7')
        with open(src, 'wb') as f:
            f.write(form_bytes)
        cmd = ['certtool', '--p7-sign', '--p7-include-cert', '--load-certificate', cert,
               '--load-privkey', key, '--infile', src, '--outder', '--outfile', out]
        if time:
            cmd.append('--p7-time')
        harness.run(cmd, check=True)
        with open(out, 'rb') as f:
            return f.read()
    finally:
        shutil.rmtree(d, ignore_errors=True)


class OpenSSLFlow(DaemonCase):

    def post_signed(self, holder, proc, extra=(), md='sha256', outform='DER',
                    content_type='application/pkcs7-mime', reason=None, signer=None):
        d = self.daemon
        h = self.pki.holder(holder)
        form = make_form(proc, h['applicant'], d.get_nonce(), reason)
        if signer is not None:
            body = signer(form, h['cert'], h['key'])
        else:
            try:
                body = sign(form, h['cert'], h['key'], extra_args=extra, md=md, outform=outform)
            except RuntimeError as e:
                self.skipTest('openssl cannot make this signature here: %s' % str(e)[:300])
        return d.post(ENDPOINT[proc], body, content_type=content_type)

    def both_endpoints(self, holder, **kw):
        """valid on the validity check, then accepted (201, one row) on revocation."""
        before = self.daemon.acceptance_count()
        a = self.post_signed(holder, 'validity-check', **kw)
        self.assertAnswer(a, 'valid', 'validity-check', 200)
        self.assertCertificate(a, holder)
        a = self.post_signed(holder, 'revocation', reason='keyCompromise', **kw)
        self.assertAnswer(a, 'accepted', 'revocation', 201)
        self.assertAccepted(a, repr(a))
        self.assertEqual(self.daemon.acceptance_count(), before + 1)

    def test_readme_flow_to_revoked(self):
        d = self.daemon
        holder = 'valid-40'
        a = self.post_signed(holder, 'validity-check')
        self.assertAnswer(a, 'valid', 'validity-check', 200)
        a = self.post_signed(holder, 'revocation', reason='keyCompromise')
        self.assertAnswer(a, 'accepted', 'revocation', 201)
        receipt = self.assertAccepted(a, repr(a))
        a = self.post_signed(holder, 'revocation')
        self.assertAnswer(a, 'revocationAccepted', 'revocation', 409)
        self.assertEqual(a.json.get('receiptId'), receipt[0])
        a = self.post_signed(holder, 'validity-check')
        self.assertAnswer(a, 'revocationAccepted', 'validity-check', 200)
        # the operators issue the next full CRL with the holder on it and import
        # it while the daemon runs
        number = self.pki.crls['jlis-full']['number'] + 1
        crl = self.pki.make_crl('jlis-g2', number, revoke=[holder])
        cp = d.admin('crl', 'import', crl)
        self.assertEqual(cp.returncode, 0, cp)
        self.assertIsNone(d.proc.poll(), 'daemon died during the import')
        a = self.post_signed(holder, 'validity-check')
        self.assertAnswer(a, 'revoked', 'validity-check', 200)
        self.assertCertificate(a, holder)
        a = self.post_signed(holder, 'revocation')
        self.assertAnswer(a, 'revoked', 'revocation', 409)

    def test_pem_body(self):
        for ct in ('application/cms', 'application/pkcs7-mime'):
            with self.subTest(content_type=ct):
                a = self.post_signed('valid-41', 'validity-check', outform='PEM', content_type=ct)
                self.assertAnswer(a, 'valid', 'validity-check', 200)

    def test_pem_body_revocation_accepted(self):
        d = self.daemon
        h = self.pki.holder('valid-49')
        body = sign(make_form('revocation', h['applicant'], d.get_nonce()), h['cert'], h['key'],
                    outform='PEM')
        self.assertTrue(body.startswith(b'-----BEGIN CMS-----'), body[:40])
        a = d.post(ENDPOINT['revocation'], body, content_type='application/cms')
        self.assertAnswer(a, 'accepted', 'revocation', 201)
        # the evidence kept is the exact DER received, PEM decoded
        der = harness.pem_bytes_to_der(body)
        dump = harness.sqlite(d.db, 'SELECT hex(request) FROM acceptances;')
        self.assertIn(der.hex().upper(), dump.upper().split())

    def test_rsa_pss_sha256_salt32_valid(self):
        pss = ['-keyopt', 'rsa_padding_mode:pss', '-keyopt', 'rsa_pss_saltlen:32']
        a = self.post_signed('valid-42', 'validity-check', extra=pss, md='sha256')
        self.assertAnswer(a, 'valid', 'validity-check', 200)
        a = self.post_signed('valid-42', 'revocation', extra=pss, md='sha256')
        self.assertAnswer(a, 'accepted', 'revocation', 201)

    def test_rsa_pss_sha384_salt48_valid(self):
        pss = ['-keyopt', 'rsa_padding_mode:pss', '-keyopt', 'rsa_pss_saltlen:48']
        a = self.post_signed('valid-43', 'validity-check', extra=pss, md='sha384')
        self.assertAnswer(a, 'valid', 'validity-check', 200)

    def test_rsa_pss_default_salt_both_endpoints(self):
        # `-keyopt rsa_padding_mode:pss` alone: OpenSSL's default salt, the maximum
        self.both_endpoints('valid-50', extra=['-keyopt', 'rsa_padding_mode:pss'])

    def test_rsa_pss_any_salt_the_key_admits(self):
        for holder, salt in (('valid-51', '0'), ('valid-52', '20'), ('valid-53', '32'), ('valid-54', 'max'),
                             ('valid-55', '222')):
            with self.subTest(salt=salt):
                pss = ['-keyopt', 'rsa_padding_mode:pss', '-keyopt', 'rsa_pss_saltlen:' + salt]
                self.both_endpoints(holder, extra=pss)

    def test_rsa_pss_noattr(self):
        self.both_endpoints('valid-56', extra=['-noattr', '-keyopt', 'rsa_padding_mode:pss'])

    def test_rsa_pss_mgf1_hash_differs(self):
        pss = ['-keyopt', 'rsa_padding_mode:pss', '-keyopt', 'rsa_pss_saltlen:32',
               '-keyopt', 'rsa_mgf1_md:sha512']
        a = self.post_signed('valid-43', 'validity-check', extra=pss, md='sha256')
        self.assertAnswer(a, 'badRequestSignature', 'validity-check', 422)

    def test_sha384_sha512_valid(self):
        for md in ('sha384', 'sha512'):
            with self.subTest(md=md):
                a = self.post_signed('valid-44', 'validity-check', md=md)
                self.assertAnswer(a, 'valid', 'validity-check', 200)

    def test_ec_holder_valid(self):
        for md in ('sha256', 'sha384'):
            with self.subTest(md=md):
                a = self.post_signed('valid-ec', 'validity-check', md=md)
                self.assertAnswer(a, 'valid', 'validity-check', 200)
                self.assertCertificate(a, 'valid-ec')

    def test_sha1_is_bad_request_signature(self):
        a = self.post_signed('valid-45', 'validity-check', md='sha1')
        self.assertAnswer(a, 'badRequestSignature', 'validity-check', 422)
        a = self.post_signed('valid-45', 'revocation', md='sha1')
        self.assertAnswer(a, 'badRequestSignature', 'revocation', 422)

    def test_sha224_is_bad_request_signature(self):
        a = self.post_signed('valid-45', 'validity-check', md='sha224')
        self.assertAnswer(a, 'badRequestSignature', 'validity-check', 422)

    def test_noattr_both_endpoints(self):
        # RFC 5652 5.3: without signed attributes the signature is over the content
        self.both_endpoints('valid-46', extra=['-noattr'])

    def test_noattr_keyid_ec(self):
        a = self.post_signed('valid-ec', 'validity-check', extra=['-noattr', '-keyid'])
        self.assertAnswer(a, 'valid', 'validity-check', 200)

    def test_certtool_p7_sign_both_endpoints(self):
        # GnuTLS: no signed attributes unless --p7-time
        self.both_endpoints('valid-57', signer=certtool_sign)

    def test_certtool_p7_sign_time_both_endpoints(self):
        self.both_endpoints('valid-58', signer=lambda f, c, k: certtool_sign(f, c, k, time=True))

    def test_certtool_ec_holder(self):
        for t in (False, True):
            with self.subTest(p7_time=t):
                a = self.post_signed('valid-ec', 'validity-check',
                                     signer=lambda f, c, k: certtool_sign(f, c, k, time=t))
                self.assertAnswer(a, 'valid', 'validity-check', 200)

    def test_evidence_reads_back(self):
        """What is accepted from another tool reads back: `openssl cms -verify`
        of the stored evidence prints the form."""
        d = self.daemon
        h = self.pki.holder('valid-59')
        form = make_form('revocation', h['applicant'], d.get_nonce())
        body = certtool_sign(form, h['cert'], h['key'])
        a = d.post(ENDPOINT['revocation'], body)
        self.assertAnswer(a, 'accepted', 'revocation', 201)
        dump = harness.sqlite(d.db, "SELECT hex(request) FROM acceptances WHERE receipt_id = '%s';"
                              % a.json['receiptId'])
        self.assertEqual(bytes.fromhex(dump), body)
        tmp = tempfile.mkdtemp(prefix='mdg-e2e-readback-')
        try:
            p = os.path.join(tmp, 'ev.der')
            with open(p, 'wb') as f:
                f.write(bytes.fromhex(dump))
            cp = harness.run(['openssl', 'cms', '-verify', '-inform', 'DER', '-in', p, '-binary',
                              '-noverify'], check=True)
            self.assertEqual(cp.stdout, form)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_cades_signing_certificate_v2_valid(self):
        a = self.post_signed('valid-47', 'validity-check', extra=['-cades'])
        self.assertAnswer(a, 'valid', 'validity-check', 200)
        a = self.post_signed('valid-47', 'revocation', extra=['-cades'])
        self.assertAnswer(a, 'accepted', 'revocation', 201)

    def test_ec_cades_valid(self):
        a = self.post_signed('valid-ec', 'validity-check', extra=['-cades'])
        self.assertAnswer(a, 'valid', 'validity-check', 200)


if __name__ == '__main__':
    harness.main()
