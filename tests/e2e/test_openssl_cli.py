"""The README flow with the stock `openssl cms` CLI as the client, and the
signature algorithms of DESIGN.md "The signed request"."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DaemonCase, ENDPOINT, make_form, sign  # noqa: E402


class OpenSSLFlow(DaemonCase):

    def post_signed(self, holder, proc, extra=(), md='sha256', outform='DER',
                    content_type='application/pkcs7-mime', reason=None):
        d = self.daemon
        h = self.pki.holder(holder)
        form = make_form(proc, h['applicant'], d.get_nonce(), reason)
        try:
            body = sign(form, h['cert'], h['key'], extra_args=extra, md=md, outform=outform)
        except RuntimeError as e:
            self.skipTest('openssl cannot make this signature here: %s' % str(e)[:300])
        return d.post(ENDPOINT[proc], body, content_type=content_type)

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
        dump = harness.run(['sqlite3', '-cmd', '.mode quote', d.db, 'SELECT * FROM acceptances;'],
                           check=True).stdout.decode()
        self.assertIn("X'%s'" % der.hex().upper(), dump.upper())

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

    def test_rsa_pss_wrong_salt_length(self):
        for salt in ('20', 'max'):
            with self.subTest(salt=salt):
                pss = ['-keyopt', 'rsa_padding_mode:pss', '-keyopt', 'rsa_pss_saltlen:' + salt]
                a = self.post_signed('valid-43', 'validity-check', extra=pss, md='sha256')
                self.assertAnswer(a, 'badRequestSignature', 'validity-check', 422)

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

    def test_no_signed_attributes_is_bad_request_signature(self):
        before = self.daemon.acceptance_count()
        a = self.post_signed('valid-46', 'validity-check', extra=['-noattr'])
        self.assertAnswer(a, 'badRequestSignature', 'validity-check', 422)
        a = self.post_signed('valid-46', 'revocation', extra=['-noattr'])
        self.assertAnswer(a, 'badRequestSignature', 'revocation', 422)
        self.assertEqual(self.daemon.acceptance_count(), before)

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
