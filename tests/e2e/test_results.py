"""Every result of DESIGN.md "Results", for every holder of the test PKI on
both endpoints, with the members "Every answer" requires."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (DaemonCase, Daemon, ENDPOINT, REASONS, RFC3339_RE, WAREKI_RE,  # noqa: E402
                     JST, make_form, sign, parse_time, same_dn, wareki, now,
                     b64url_decode, b64url_encode, sqlite)


class ManifestResults(DaemonCase):
    """The manifest's expected result for every holder and both endpoints."""

    def covering_crl(self, h):
        held = [self.pki.crls[n] for n in self.crls]
        if h.get('dp'):
            for c in held:
                if same_dn(c['issuer'], h['issuer']) and c.get('dp') and same_dn(c['dp'], h['dp']):
                    return c
        for c in held:
            if same_dn(c['issuer'], h['issuer']) and not c.get('dp'):
                return c
        return None

    def check_valid(self, a, h):
        j = a.json
        ctx = repr(a)
        self.assertEqual(j.get('applicantName'), h['applicant']['name'], ctx)
        checked = self.assertRecentTime(j.get('checkedAt'), ctx=ctx)
        on = j.get('checkedOn')
        self.assertIsInstance(on, dict, ctx)
        day = checked.astimezone(JST).date()
        self.assertEqual(on.get('iso'), day.isoformat(), ctx)
        self.assertRegex(on.get('wareki', ''), WAREKI_RE, ctx)
        self.assertEqual(on['wareki'], wareki(day), ctx)
        crl = self.covering_crl(h)
        self.assertIsNotNone(crl, 'test bug: no covering CRL for %r' % h)
        self.assertIn(j.get('crlNumber'), (crl['number'], str(crl['number'])), ctx)
        self.assertRegex(j.get('crlThisUpdate', ''), RFC3339_RE, ctx)
        self.assertEqual(parse_time(j['crlThisUpdate']), parse_time(crl['thisUpdate']), ctx)

    def check(self, a, name, proc, result, lang):
        h = self.pki.holder(name)
        self.assertAnswer(a, result, proc, lang=lang)
        self.assertCertificate(a, h)
        if result == 'valid':
            self.check_valid(a, h)
        if result == 'issuerMismatch':
            exp = a.json.get('expectedIssuers')
            self.assertIsInstance(exp, list, repr(a))
            jlis = self.pki.holder('valid-01')['issuer']
            self.assertTrue(any(isinstance(e, str) and same_dn(e, jlis) for e in exp),
                            'J-LIS DN not in expectedIssuers: %r' % exp)
        if result == 'serviceError' and proc == 'validity-check':
            # stale or missing revocation data: 503 + Retry-After
            self.assertEqual(a.status, 503, repr(a))

    def test_every_holder_both_endpoints(self):
        d = self.daemon
        names = sorted(self.pki.holders)
        self.assertGreater(len(names), 60)
        for i, name in enumerate(names):
            h = self.pki.holder(name)
            exp = h['expect']
            lang = 'en' if i % 2 else 'ja'
            hdrs = {'Accept-Language': 'en'} if lang == 'en' else {}
            nonce = d.get_nonce()
            with self.subTest(holder=name, step='validity-check'):
                a = d.submit(name, 'validity-check', nonce=nonce, headers=hdrs)
                self.check(a, name, 'validity-check', exp['validity-check'], lang)
            with self.subTest(holder=name, step='revocation'):
                a = d.submit(name, 'revocation', nonce=nonce, headers=hdrs)
                self.check(a, name, 'revocation', exp['revocation'], lang)
            if exp['revocation'] != 'accepted' or a.json is None or a.result != 'accepted':
                continue
            receipt = self.assertAccepted(a, repr(a))
            with self.subTest(holder=name, step='revocation again'):
                a = d.submit(name, 'revocation', nonce=nonce, headers=hdrs)
                self.check(a, name, 'revocation', 'revocationAccepted', lang)
                self.assertEqual(a.status, 409)
                self.assertEqual((a.json.get('receiptId'), a.json.get('acceptedAt'),
                                  a.json.get('effectiveFrom')), receipt, repr(a))
            with self.subTest(holder=name, step='validity-check after acceptance'):
                a = d.submit(name, 'validity-check', nonce=nonce, headers=hdrs)
                # dates (step 7) come before the acceptance log (step 9)
                want = 'notYetValid' if exp['validity-check'] == 'notYetValid' else 'revocationAccepted'
                self.check(a, name, 'validity-check', want, lang)
                self.assertEqual(a.status, 200)
                if want == 'revocationAccepted':
                    self.assertEqual((a.json.get('receiptId'), a.json.get('acceptedAt'),
                                      a.json.get('effectiveFrom')), receipt, repr(a))


class RequestChecks(DaemonCase):
    """Nonces, form checks, the order of checks, languages, 404/405."""

    def forged_nonce(self):
        return b64url_encode(os.urandom(56))

    def test_bad_nonce_forged(self):
        for proc in ('validity-check', 'revocation'):
            a = self.daemon.submit('valid-10', proc, nonce=self.forged_nonce())
            self.assertAnswer(a, 'badNonce', proc, 400)
            self.assertCertificate(a, 'valid-10')

    def test_bad_nonce_flipped_bit(self):
        good = self.daemon.get_nonce()
        raw = bytearray(b64url_decode(good))
        for pos in (0, 10, len(raw) - 1):   # expiry, random part, MAC
            bad = bytearray(raw)
            bad[pos] ^= 0x01
            nonce = b64url_encode(bytes(bad))
            self.assertNotEqual(nonce, good)
            a = self.daemon.submit('valid-10', 'validity-check', nonce=nonce)
            self.assertAnswer(a, 'badNonce', 'validity-check', 400)
        a = self.daemon.submit('valid-10', 'validity-check', nonce=good)
        self.assertAnswer(a, 'valid', 'validity-check', 200)

    def test_bad_nonce_expired(self):
        # a second daemon sharing the key file, with a one-second TTL
        short = Daemon(self.pki, name='shortttl', pki_opts={'nonce_ttl': '1s'},
                       nonce_key=self.daemon.nonce_key, crls=())
        short.start()
        try:
            nonce = short.get_nonce()
        finally:
            short.stop_and_check()
        time.sleep(2.5)
        body = self.daemon.signed('valid-10', 'validity-check', nonce=nonce)
        a = self.daemon.post(ENDPOINT['validity-check'], body)
        self.assertAnswer(a, 'badNonce', 'validity-check', 400)

    def test_procedure_mismatch(self):
        d = self.daemon
        h = self.pki.holder('valid-11')
        form = make_form('revocation', h['applicant'], d.get_nonce())
        a = d.post('/v1/validity-checks', sign(form, h['cert'], h['key']))
        self.assertAnswer(a, 'malformed', 'validity-check', 400)
        form = make_form('validity-check', h['applicant'], d.get_nonce())
        a = d.post('/v1/revocations', sign(form, h['cert'], h['key']))
        self.assertAnswer(a, 'malformed', 'revocation', 400)

    def test_applicant_mismatch(self):
        h = self.pki.holder('valid-12')
        app = h['applicant']
        name = app['name']
        other_gender = {'男': '女', '女': '不明', '不明': '男'}[app['gender']]
        y, m, dd = app['birthDate'].split('-')
        variants = {
            'name one char': dict(app, name=name[:-1] + ('太' if name[-1] != '太' else '郎')),
            'ascii space': dict(app, name=name.replace('\u3000', ' ')),
            'address': dict(app, address=app['address'] + '１'),
            'birthDate': dict(app, birthDate='%04d-%s-%s' % (int(y) + 1, m, dd)),
            'gender': dict(app, gender=other_gender),
        }
        self.assertIn('\u3000', name, 'test PKI: name separator should be U+3000')
        for what, applicant in variants.items():
            for proc in ('validity-check', 'revocation'):
                with self.subTest(what=what, proc=proc):
                    a = self.daemon.submit(h, proc, applicant=applicant)
                    self.assertAnswer(a, 'badRequestSignature', proc, 422)
                    self.assertCertificate(a, h)

    def test_reason_on_validity_check(self):
        a = self.daemon.submit('valid-13', 'validity-check', reason='keyCompromise')
        self.assertAnswer(a, 'malformed', 'validity-check', 400)

    def test_bad_reason_values(self):
        d = self.daemon
        before = d.acceptance_count()
        for reason in ('KeyCompromise', 'removeFromCRL', 'certificateHold', '', 'keycompromise'):
            with self.subTest(reason=reason):
                a = d.submit('valid-14', 'revocation', reason=reason)
                self.assertAnswer(a, 'malformed', 'revocation', 400)
        self.assertEqual(d.acceptance_count(), before)

    def test_each_reason_accepted(self):
        d = self.daemon
        for i, reason in enumerate(REASONS + (None,)):
            holder = 'valid-%02d' % (i + 1)
            with self.subTest(reason=reason, holder=holder):
                a = d.submit(holder, 'revocation', reason=reason)
                self.assertAnswer(a, 'accepted', 'revocation', 201)
                self.assertAccepted(a, repr(a))
                self.assertCertificate(a, holder)

    def test_unknown_path_404(self):
        for method, path in (('GET', '/v1/nothing'), ('POST', '/v1/revocation'),
                             ('GET', '/v2/nonce'), ('POST', '/no/such/path')):
            with self.subTest(method=method, path=path):
                a = self.daemon.request(method, path, b'' if method == 'POST' else None)
                self.assertAnswer(a, 'malformed', None, 404)

    def test_wrong_method_405(self):
        for method, path, proc in (('GET', '/v1/revocations', 'revocation'),
                                   ('GET', '/v1/validity-checks', 'validity-check'),
                                   ('PUT', '/v1/revocations', 'revocation'),
                                   ('DELETE', '/v1/validity-checks', 'validity-check'),
                                   ('POST', '/v1/nonce', None),
                                   ('POST', '/healthz', None),
                                   ('POST', '/readyz', None),
                                   ('POST', '/', None)):
            with self.subTest(method=method, path=path):
                a = self.daemon.request(method, path, b'' if method in ('POST', 'PUT') else None)
                self.assertAnswer(a, 'malformed', None, 405)

    def test_first_failing_check_decides(self):
        forged = self.forged_nonce()
        cases = [
            ('unknown', 'validity-check', dict(nonce=forged), 'issuerMismatch'),
            ('impostor', 'revocation', dict(nonce=forged), 'badCertificateSignature'),
            ('nofacts', 'validity-check', dict(nonce=forged), 'badCertificateSignature'),
            ('wrongkey', 'revocation', dict(nonce=forged), 'badRequestSignature'),
            ('expired', 'validity-check', dict(nonce=forged), 'badNonce'),
            ('revoked', 'revocation', dict(nonce=forged), 'badNonce'),
        ]
        for holder, proc, kw, want in cases:
            with self.subTest(holder=holder, proc=proc):
                a = self.daemon.submit(holder, proc, **kw)
                self.assertAnswer(a, want, proc)
        h = self.pki.holder('revoked')
        changed = dict(h['applicant'], name=h['applicant']['name'] + 'X')
        a = self.daemon.submit('revoked', 'revocation', applicant=changed)
        self.assertAnswer(a, 'badRequestSignature', 'revocation', 422)

    def test_validity_checks_leave_no_row(self):
        d = self.daemon
        before = d.acceptance_count()
        for h in ('valid-17', 'revoked', 'expired', 'stale-dp'):
            d.submit(h, 'validity-check')
        self.assertEqual(d.acceptance_count(), before)

    def test_accept_language(self):
        d = self.daemon
        nonce = d.get_nonce()
        body = d.signed('valid-15', 'validity-check', nonce=nonce)
        ja = d.post(ENDPOINT['validity-check'], body)
        self.assertAnswer(ja, 'valid', 'validity-check', 200, lang='ja')
        en = d.post(ENDPOINT['validity-check'], body, headers={'Accept-Language': 'en'})
        self.assertAnswer(en, 'valid', 'validity-check', 200, lang='en')
        self.assertEqual(en.json['title'], en.json['i18n']['en']['title'])
        self.assertNotEqual(en.json['title'], ja.json['title'])
        ja2 = d.post(ENDPOINT['validity-check'], body, headers={'Accept-Language': 'ja'})
        self.assertAnswer(ja2, 'valid', 'validity-check', 200, lang='ja')
        # a bad request in English
        a = d.post(ENDPOINT['validity-check'], b'junk', headers={'Accept-Language': 'en'})
        self.assertAnswer(a, 'malformed', 'validity-check', 400, lang='en')

    def test_request_ids_unique(self):
        d = self.daemon
        body = d.signed('valid-15', 'validity-check')
        ids = set()
        for _ in range(5):
            a = d.post(ENDPOINT['validity-check'], body)
            self.assertAnswer(a, 'valid', 'validity-check', 200)
            ids.add(a.json['requestId'])
        self.assertEqual(len(ids), 5)

    def test_media_type_parameters_ignored(self):
        d = self.daemon
        body = d.signed('valid-16', 'validity-check')
        for ct in ('application/pkcs7-mime; smime-type=signed-data; name=smime.p7m',
                   'application/cms', 'application/cms; encap=json'):
            with self.subTest(content_type=ct):
                a = d.post(ENDPOINT['validity-check'], body, content_type=ct)
                self.assertAnswer(a, 'valid', 'validity-check', 200)


class Busy(DaemonCase):
    """max_inflight = 1: a second request in progress gets `busy`."""
    server = {'max_inflight': 1}

    def test_busy_then_resumes(self):
        d = self.daemon
        body = d.signed('valid-20', 'validity-check')
        hold = socket.create_connection(('127.0.0.1', d.port), timeout=10)
        try:
            hold.sendall(b'POST /v1/validity-checks HTTP/1.1\r\nHost: 127.0.0.1\r\n'
                         b'Content-Type: application/pkcs7-mime\r\nContent-Length: 1000\r\n\r\n'
                         + body[:100])
            time.sleep(0.5)
            a = d.post(ENDPOINT['validity-check'], body)
            self.assertAnswer(a, 'busy', 'validity-check', 503)
            self.assertRegex(a.header('retry-after', ''), r'^\d+$')
        finally:
            hold.close()
        deadline = time.time() + 10
        while True:
            a = d.post(ENDPOINT['validity-check'], body)
            if a.result != 'busy' or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertAnswer(a, 'valid', 'validity-check', 200)


class Faults(DaemonCase):
    """serviceError: a failing database, and stale revocation data."""

    def test_database_fault_is_500_and_nothing_written(self):
        d = self.daemon
        body = d.signed('valid-30', 'revocation')
        before = d.acceptance_count()
        if harness.ON_PG:
            sqlite(d.db, "CREATE FUNCTION e2e_fault() RETURNS trigger LANGUAGE plpgsql AS "
                         "$$BEGIN RAISE EXCEPTION 'e2e fault'; END$$; "
                         "CREATE TRIGGER e2e_fault BEFORE INSERT ON acceptances "
                         "FOR EACH ROW EXECUTE FUNCTION e2e_fault();")
        else:
            sqlite(d.db, "CREATE TRIGGER e2e_fault BEFORE INSERT ON acceptances "
                         "BEGIN SELECT RAISE(ABORT, 'e2e fault'); END;")
        try:
            a = d.post(ENDPOINT['revocation'], body)
            self.assertAnswer(a, 'serviceError', 'revocation', 500)
            self.assertEqual(d.acceptance_count(), before)
        finally:
            sqlite(d.db, 'DROP TRIGGER IF EXISTS e2e_fault ON acceptances;' if harness.ON_PG
                   else 'DROP TRIGGER IF EXISTS e2e_fault;')
        a = d.post(ENDPOINT['revocation'], body)
        self.assertAnswer(a, 'accepted', 'revocation', 201)
        self.assertAccepted(a, repr(a))
        self.assertEqual(d.acceptance_count(), before + 1)

    def test_stale_crl_validity_check_503(self):
        d = self.daemon
        a = d.submit('stale-dp', 'validity-check')
        self.assertAnswer(a, 'serviceError', 'validity-check', 503)
        self.assertRegex(a.header('retry-after', ''), r'^\d+$')
        # revocation still works during a CRL outage
        a = d.submit('stale-dp', 'revocation')
        self.assertAnswer(a, 'accepted', 'revocation', 201)

    def test_no_covering_crl_validity_check_503(self):
        a = self.daemon.submit('pref-nocrl', 'validity-check')
        self.assertAnswer(a, 'serviceError', 'validity-check', 503)


class CrlMaxAge(DaemonCase):
    """crl_max_age: past nextUpdate + crl_max_age a CRL is stale."""
    pki_opts = {'crl_max_age': '3h'}

    def test_freshness_follows_crl_max_age(self):
        d = self.daemon
        city = harness.city_of(self.pki.holder('stale-dp')['dp'])
        held = self.pki.crls['jlis-dp-stale']['number']
        a = d.submit('stale-dp', 'validity-check')
        self.assertAnswer(a, 'serviceError', 'validity-check', 503)
        # nextUpdate 2 h ago: still within 3 h
        crl = self.pki.make_crl('jlis-g2', held + 1, dp=city, this_update_hours=-26,
                                next_update_hours=-2)
        cp = d.admin('crl', 'import', crl)
        self.assertEqual(cp.returncode, 0, cp)
        a = d.submit('stale-dp', 'validity-check')
        self.assertAnswer(a, 'valid', 'validity-check', 200)
        self.assertIn(a.json.get('crlNumber'), (held + 1, str(held + 1)), repr(a))
        # nextUpdate 4 h ago: stale
        crl = self.pki.make_crl('jlis-g2', held + 2, dp=city, this_update_hours=-28,
                                next_update_hours=-4)
        cp = d.admin('crl', 'import', crl)
        self.assertEqual(cp.returncode, 0, cp)
        a = d.submit('stale-dp', 'validity-check')
        self.assertAnswer(a, 'serviceError', 'validity-check', 503)


class CrlMaxAgeDefault(DaemonCase):
    """The default crl_max_age is 1h."""

    def test_two_hours_past_next_update_is_stale(self):
        d = self.daemon
        city = harness.city_of(self.pki.holder('stale-dp')['dp'])
        held = self.pki.crls['jlis-dp-stale']['number']
        crl = self.pki.make_crl('jlis-g2', held + 1, dp=city, this_update_hours=-26,
                                next_update_hours=-2)
        cp = d.admin('crl', 'import', crl)
        self.assertEqual(cp.returncode, 0, cp)
        a = d.submit('stale-dp', 'validity-check')
        self.assertAnswer(a, 'serviceError', 'validity-check', 503)
        crl = self.pki.make_crl('jlis-g2', held + 2, dp=city)
        cp = d.admin('crl', 'import', crl)
        self.assertEqual(cp.returncode, 0, cp)
        a = d.submit('stale-dp', 'validity-check')
        self.assertAnswer(a, 'valid', 'validity-check', 200)


class PartitionByName(DaemonCase):
    """Check 11 (issue 11 section 4): the partition CRL named by the
    certificate's distribution point is found by the *name* (RFC 5280 7.1,
    as issuers are compared), whatever string types either side encodes it
    in: never `valid` from the full CRL while the named partition is stale."""

    def test_1_printable_dp_stale_utf8_partition(self):
        d = self.daemon
        # the certificate says PrintableString, jlis-dp-stale's IDP UTF8String;
        # the full CRL is fresh, the named partition is stale
        a = d.submit('stale-dp-printable', 'validity-check')
        self.assertAnswer(a, 'serviceError', 'validity-check', 503)
        self.assertRegex(a.header('retry-after', ''), r'^\d+$')
        city = harness.city_of(self.pki.holder('stale-dp-printable')['dp'])
        held = self.pki.crls['jlis-dp-stale']['number']
        crl = self.pki.make_crl('jlis-g2', held + 1, dp=city)
        cp = d.admin('crl', 'import', crl)
        self.assertEqual(cp.returncode, 0, cp)
        a = d.submit('stale-dp-printable', 'validity-check')
        self.assertAnswer(a, 'valid', 'validity-check', 200)
        self.assertIn(a.json.get('crlNumber'), (held + 1, str(held + 1)), repr(a))

    def test_2_utf8_dp_printable_partition(self):
        d = self.daemon
        city = harness.city_of(self.pki.holder('valid-01')['dp'])
        held = self.pki.crls['jlis-dp-chiyoda']['number']
        # the next Chiyoda partition CRL, its IDP in PrintableString: the
        # same scope (it replaces number 10), found by both spellings
        crl = self.pki.make_crl('jlis-g2', held + 20, dp=city, dp_printable=True,
                                revoke=['revoked'])
        cp = d.admin('crl', 'import', crl)
        self.assertEqual(cp.returncode, 0, cp)
        self.assertIn('imported', (cp.stdout + cp.stderr).decode())
        self.assertEqual(sqlite(d.db, "SELECT count(*) FROM crls WHERE dp IS NOT NULL AND "
                                      "hex(number) = '%02X';" % (held + 20)), '1')
        self.assertEqual(sqlite(d.db, 'SELECT count(*) FROM crls WHERE dp IS NOT NULL;'),
                         str(len([c for c in self.crls if self.pki.crls[c].get('dp')])))
        for h in ('valid-01', 'valid-dp-printable'):
            a = d.submit(h, 'validity-check')
            self.assertAnswer(a, 'valid', 'validity-check', 200)
            self.assertIn(a.json.get('crlNumber'), (held + 20, str(held + 20)), '%s: %r' % (h, a))
        # an older number of that name in the other encoding is refused
        crl = self.pki.make_crl('jlis-g2', held + 19, dp=city)
        cp = d.admin('crl', 'import', crl)
        self.assertEqual(cp.returncode, 1, cp)
        self.assertIn('not newer', (cp.stdout + cp.stderr).decode())
        # stale in PrintableString: both certificates get serviceError,
        # not `valid` from the fresh full CRL
        crl = self.pki.make_crl('jlis-g2', held + 21, dp=city, dp_printable=True,
                                this_update_hours=-30, next_update_hours=-6)
        cp = d.admin('crl', 'import', crl)
        self.assertEqual(cp.returncode, 0, cp)
        for h in ('valid-01', 'valid-dp-printable'):
            a = d.submit(h, 'validity-check')
            self.assertAnswer(a, 'serviceError', 'validity-check', 503)


class EffectiveFrom(DaemonCase):
    """effectiveFrom with a non-default crl_issue_time and crl_cutoff."""
    pki_opts = {'crl_issue_time': '12:30+09:00', 'crl_cutoff': '2h'}
    crls = harness.FRESH_CRLS

    def test_effective_from_follows_config(self):
        a = self.daemon.submit('valid-01', 'revocation')
        self.assertAnswer(a, 'accepted', 'revocation', 201)
        acc = parse_time(a.json['acceptedAt'])
        self.assertRegex(a.json.get('effectiveFrom', ''), RFC3339_RE)
        self.assertEqual(parse_time(a.json['effectiveFrom']),
                         harness.expected_effective_from(acc, 12, 30, 7200), repr(a))


if __name__ == '__main__':
    harness.main()
