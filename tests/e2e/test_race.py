"""Simultaneous revocations of one certificate: the unique key on issuer +
serial settles the race (DESIGN.md check 10)."""

import http.client
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DaemonCase, Answer, ENDPOINT  # noqa: E402

N = 50


def fire(port, bodies, timeout=60):
    """Posts each body on its own connection, all released at once by a
    barrier; returns the answers (or exceptions) in order."""
    results = [None] * len(bodies)
    conns = [http.client.HTTPConnection('127.0.0.1', port, timeout=timeout) for _ in bodies]
    for c in conns:
        c.connect()
    barrier = threading.Barrier(len(bodies))

    def worker(i):
        try:
            barrier.wait(timeout=timeout)
            conns[i].request('POST', ENDPOINT['revocation'], body=bodies[i],
                             headers={'Content-Type': 'application/pkcs7-mime'})
            r = conns[i].getresponse()
            data = r.read()
            results[i] = Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        except Exception as e:  # reported by the test
            results[i] = e
        finally:
            conns[i].close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 10)
    return results


class Race(DaemonCase):
    server = {'max_inflight': 256, 'max_connections_per_address': 256,
              'max_connections': 1024, 'threads': 4}

    def check_race(self, answers, holder):
        errors = [a for a in answers if not isinstance(a, Answer)]
        self.assertEqual(errors, [], 'requests failed')
        by_result = {}
        for a in answers:
            by_result.setdefault((a.result, a.status), []).append(a)
        summary = {k: len(v) for k, v in by_result.items()}
        self.assertEqual(summary, {('accepted', 201): 1, ('revocationAccepted', 409): len(answers) - 1},
                         summary)
        first = by_result[('accepted', 201)][0]
        self.assertAnswer(first, 'accepted', 'revocation', 201)
        receipt = self.assertAccepted(first, repr(first))
        for a in by_result[('revocationAccepted', 409)]:
            self.assertAnswer(a, 'revocationAccepted', 'revocation', 409)
            self.assertEqual((a.json.get('receiptId'), a.json.get('acceptedAt'),
                              a.json.get('effectiveFrom')), receipt, repr(a))

    def test_same_body_fifty_times(self):
        d = self.daemon
        before = d.acceptance_count()
        body = d.signed('valid-50', 'revocation')
        answers = fire(d.port, [body] * N)
        self.check_race(answers, 'valid-50')
        self.assertEqual(d.acceptance_count(), before + 1)

    def test_separately_signed_bodies(self):
        d = self.daemon
        before = d.acceptance_count()
        bodies = [d.signed('valid-51', 'revocation', reason=harness.REASONS[i % 5])
                  for i in range(N)]
        self.assertEqual(len(set(bodies)), N)
        answers = fire(d.port, bodies)
        self.check_race(answers, 'valid-51')
        self.assertEqual(d.acceptance_count(), before + 1)

    def test_ten_certificates_five_times_each(self):
        d = self.daemon
        before = d.acceptance_count()
        holders = ['valid-%02d' % i for i in range(52, 60)] + ['valid-g1', 'valid-pref']
        bodies, owners = [], []
        for h in holders:
            b = d.signed(h, 'revocation')
            bodies += [b] * 5
            owners += [h] * 5
        answers = fire(d.port, bodies)
        self.assertEqual([a for a in answers if not isinstance(a, Answer)], [])
        for h in holders:
            mine = [a for a, o in zip(answers, owners) if o == h]
            with self.subTest(holder=h):
                self.assertEqual(sorted(a.result for a in mine),
                                 ['accepted'] + ['revocationAccepted'] * 4)
                self.assertEqual(len({a.json.get('receiptId') for a in mine}), 1)
        self.assertEqual(d.acceptance_count(), before + len(holders))


if __name__ == '__main__':
    harness.main()
