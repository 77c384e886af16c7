"""X-Forwarded-For (DESIGN.md "Proxies"): from a peer not in trusted_proxies
the header is ignored -- a spoofed one changes neither the request's log line
nor the acceptance row; from a trusted peer the client is the right-most entry
that is not itself a trusted proxy."""

import json
import unittest

import harness


class ProxyCase(harness.DaemonCase):

    def stored_client(self, receipt):
        """The acceptance row's client address, by `madoguchi-admin log`."""
        cp = self.daemon.admin('log', '--format', 'json')
        self.assertEqual(cp.returncode, 0, cp.stderr)
        text = cp.stdout.decode('utf-8')
        try:
            doc = json.loads(text)
            rows = doc if isinstance(doc, list) else [doc]
        except ValueError:
            rows = [json.loads(l) for l in text.splitlines() if l.strip()]  # one object a line
        for r in rows:
            if r.get('receiptId') == receipt:
                return r.get('clientAddress')
        self.fail('receipt %s not in `log --format json`: %s' % (receipt, text[:500]))

    def stored_client_sql(self, receipt):
        return harness.sqlite(self.daemon.db, "SELECT client_addr FROM acceptances WHERE receipt_id = '%s';"
                              % receipt.replace("'", ''))

    def check(self, holder, procedure, xff, want):
        headers = {'X-Forwarded-For': xff} if xff is not None else None
        a = self.daemon.submit(holder, procedure, headers=headers)
        want_result = 'accepted' if procedure == 'revocation' else 'valid'
        self.assertEqual(a.result, want_result, a)
        self.assertEqual(self.daemon.request_log(a.json['requestId'])['client'], want, xff)
        if procedure == 'revocation':
            receipt = a.json['receiptId']
            self.assertEqual(self.stored_client(receipt), want, xff)
            self.assertEqual(self.stored_client_sql(receipt), want, xff)
        return a


class UntrustedPeerTest(ProxyCase):
    """The test client (127.0.0.1) is not a trusted proxy here."""
    server = {'trusted_proxies': '192.0.2.10, 2001:db8::10'}

    def test_spoofed_header_ignored(self):
        self.check('valid-20', 'revocation', '203.0.113.7', '127.0.0.1')
        self.check('valid-21', 'validity-check', '203.0.113.7, 192.0.2.10', '127.0.0.1')
        self.check('valid-22', 'validity-check', '2001:db8::99', '127.0.0.1')

    def test_no_header(self):
        self.check('valid-23', 'revocation', None, '127.0.0.1')


class TrustedPeerTest(ProxyCase):
    """127.0.0.1 is a trusted proxy, and so is 10.9.8.7 (a second hop)."""
    server = {'trusted_proxies': '127.0.0.1, 10.9.8.7'}

    def test_rightmost_untrusted_entry(self):
        # the left entries are whatever the client claimed; the right-most
        # untrusted one is what the last trusted proxy saw
        self.check('valid-30', 'revocation', '198.51.100.1, 203.0.113.9, 10.9.8.7', '203.0.113.9')
        self.check('valid-31', 'validity-check', '203.0.113.10', '203.0.113.10')
        self.check('valid-32', 'validity-check', '198.51.100.2,203.0.113.11', '203.0.113.11')
        self.check('valid-33', 'validity-check', '2001:db8::5, 10.9.8.7', '2001:db8::5')

    def test_only_trusted_or_garbage_keeps_peer(self):
        self.check('valid-34', 'validity-check', '10.9.8.7', '127.0.0.1')
        self.check('valid-35', 'revocation', 'not-an-address', '127.0.0.1')
        self.check('valid-36', 'validity-check', None, '127.0.0.1')


if __name__ == '__main__':
    harness.main()
