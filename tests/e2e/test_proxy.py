"""X-Forwarded-For (DESIGN.md "Proxies"): from a peer not in trusted_proxies
the header is ignored -- a spoofed one changes neither the request's log line
nor the acceptance row; from a trusted peer the client is the right-most entry
that is not itself a trusted proxy, every header line counted in order as one
list.  A trusted proxy is exempt from max_connections_per_address; any other
peer is held to it."""

import json
import socket
import time
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


def raw_post(port, path, body, header_lines, src='127.0.0.1', timeout=15):
    """A POST with header lines exactly as given (repeated names kept)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((src, 0))
        s.connect(('127.0.0.1', port))
        head = ('POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/pkcs7-mime\r\n'
                'Content-Length: %d\r\n%sConnection: close\r\n\r\n'
                % (path, len(body), ''.join(l + '\r\n' for l in header_lines))).encode()
        s.sendall(head + body)
        return harness.recv_response(s, timeout)
    finally:
        s.close()


class MultipleHeaderLinesTest(ProxyCase):
    """Several X-Forwarded-For lines from a trusted peer are one list, in
    order: the right-most untrusted entry of the last line that has one."""
    server = {'trusted_proxies': '127.0.0.1, 10.9.8.7'}

    def check_lines(self, holder, procedure, lines, want):
        body = self.daemon.signed(holder, procedure)
        a = raw_post(self.daemon.port, harness.ENDPOINT[procedure], body, lines)
        self.assertAnswer(a, 'accepted' if procedure == 'revocation' else 'valid', procedure)
        self.assertEqual(self.daemon.request_log(a.json['requestId'])['client'], want, lines)
        if procedure == 'revocation':
            self.assertEqual(self.stored_client(a.json['receiptId']), want, lines)
            self.assertEqual(self.stored_client_sql(a.json['receiptId']), want, lines)

    def test_later_line_wins(self):
        # the client's own line first, the proxy's appended line after it:
        # the proxy's line decides (reading only the first line let the client pick)
        self.check_lines('valid-40', 'revocation',
                         ['X-Forwarded-For: 198.51.100.66', 'X-Forwarded-For: 203.0.113.40'], '203.0.113.40')
        self.check_lines('valid-41', 'validity-check',
                         ['X-Forwarded-For: 198.51.100.66, 198.51.100.67',
                          'x-forwarded-for: 203.0.113.41'], '203.0.113.41')

    def test_trusted_entries_span_lines(self):
        # the last line holds only trusted proxies: the scan goes on into the line before
        self.check_lines('valid-42', 'validity-check',
                         ['X-Forwarded-For: 198.51.100.1, 203.0.113.42', 'X-Forwarded-For: 10.9.8.7'],
                         '203.0.113.42')
        self.check_lines('valid-43', 'validity-check',
                         ['X-Forwarded-For: 203.0.113.43', 'X-Forwarded-For: 10.9.8.7, 127.0.0.1',
                          'X-Forwarded-For: 10.9.8.7'], '203.0.113.43')
        self.check_lines('valid-44', 'validity-check',
                         ['X-Forwarded-For: 2001:db8::44', 'X-Forwarded-For: 10.9.8.7'], '2001:db8::44')

    def test_garbage_in_any_line_keeps_peer(self):
        self.check_lines('valid-45', 'validity-check',
                         ['X-Forwarded-For: 203.0.113.45', 'X-Forwarded-For: not-an-address'], '127.0.0.1')
        self.check_lines('valid-46', 'validity-check',
                         ['X-Forwarded-For: not-an-address', 'X-Forwarded-For: 10.9.8.7'], '127.0.0.1')

    def test_untrusted_peer_ignores_every_line(self):
        body = self.daemon.signed('valid-47', 'validity-check')
        a = raw_post(self.daemon.port, '/v1/validity-checks', body,
                     ['X-Forwarded-For: 203.0.113.47', 'X-Forwarded-For: 203.0.113.48'], src='127.0.0.5')
        self.assertAnswer(a, 'valid', 'validity-check')
        self.assertEqual(self.daemon.request_log(a.json['requestId'])['client'], '127.0.0.5')


class TrustedProxyConnectionsTest(ProxyCase):
    """max_connections_per_address = 4: the trusted proxy (127.0.0.1) holds
    12 keep-alive connections and each is served; an untrusted address
    (127.0.0.6) gets 4 and its fifth is closed at once."""
    PER_ADDR = 4
    server = {'trusted_proxies': '127.0.0.1', 'max_connections_per_address': str(PER_ADDR),
              'max_connections': '100'}

    def open_from(self, src):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(10)
        s.bind((src, 0))
        s.connect(('127.0.0.1', self.daemon.port))
        return s

    def exchange(self, s, body, xff=None):
        extra = 'X-Forwarded-For: %s\r\n' % xff if xff else ''
        s.sendall(('POST /v1/validity-checks HTTP/1.1\r\nHost: 127.0.0.1\r\n'
                   'Content-Type: application/pkcs7-mime\r\nContent-Length: %d\r\n%s\r\n'
                   % (len(body), extra)).encode() + body)
        return harness.recv_response(s, 15)

    def test_trusted_proxy_exempt(self):
        body = self.daemon.signed('valid-48', 'validity-check')
        conns = [self.open_from('127.0.0.1') for _ in range(3 * self.PER_ADDR)]
        try:
            time.sleep(0.3)
            # every connection open at once, each answered -- twice (kept alive)
            for rnd in range(2):
                for i, s in enumerate(conns):
                    a = self.exchange(s, body, xff='203.0.113.%d' % (100 + i))
                    self.assertAnswer(a, 'valid', 'validity-check')
                    if rnd == 0:
                        self.assertEqual(self.daemon.request_log(a.json['requestId'])['client'],
                                         '203.0.113.%d' % (100 + i))
        finally:
            for s in conns:
                s.close()

    def test_untrusted_address_limited(self):
        body = self.daemon.signed('valid-49', 'validity-check')
        conns = [self.open_from('127.0.0.6') for _ in range(self.PER_ADDR)]
        try:
            time.sleep(0.3)
            extra = self.open_from('127.0.0.6')
            try:
                extra.settimeout(5)
                try:
                    got = extra.recv(100)
                except (ConnectionResetError, socket.timeout) as e:
                    got = e
            finally:
                extra.close()
            self.assertEqual(got, b'', 'connection %d from one address not closed: %r' % (self.PER_ADDR + 1, got))
            for s in conns:
                self.assertAnswer(self.exchange(s, body), 'valid', 'validity-check')
        finally:
            for s in conns:
                s.close()
        # their counts are given back when they close: the address is served again
        time.sleep(0.5)
        conns = [self.open_from('127.0.0.6') for _ in range(self.PER_ADDR)]
        try:
            for s in conns:
                self.assertAnswer(self.exchange(s, body), 'valid', 'validity-check')
        finally:
            for s in conns:
                s.close()


if __name__ == '__main__':
    harness.main()
