"""Overload and slow clients.

Busy: with a small max_inflight, requests held in progress (headers sent,
body stalled) fill the slots; every further request is answered `busy`
(503 + Retry-After) at once, never a timeout; a herd of far more concurrent
requests than slots is answered in full (valid or busy, nothing dropped);
afterwards service is complete again.

Slow clients: connections trickling a request a byte at a time and silent
connections from other loopback addresses do not starve normal clients; the
per-address connection limit (max_connections_per_address) caps each
address. (That a silent connection is closed after the fixed connection
timeout, server/http.c CONNECTION_TIMEOUT = 30 s, is checked by
test_memory.py, which runs longer than that anyway.)
"""

import concurrent.futures
import http.client
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DaemonCase  # noqa: E402

VC = 'validity-check'
PROMPT = 2.0            # seconds: "promptly"
SLOW_PHASE = 8          # seconds of normal traffic beside the slow clients


def connect_from(src, port, timeout=10):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(('127.0.0.1', port))
    return s


def post_from(src, port, path, body, timeout=20):
    """A POST from a given loopback source address; returns (Answer, seconds)."""
    t0 = time.time()
    s = connect_from(src, port, timeout)
    try:
        head = ('POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/pkcs7-mime\r\n'
                'Content-Length: %d\r\nConnection: close\r\n\r\n' % (path, len(body))).encode()
        s.sendall(head + body)
        a = harness.recv_response(s, timeout)
    finally:
        s.close()
    return a, time.time() - t0


class Busy(DaemonCase):
    # fewer slots than worker threads: a herd overflows them for real
    SLOTS = 2
    server = {'max_inflight': str(SLOTS), 'threads': '4', 'max_connections_per_address': '1000',
              'max_connections': '1000'}

    def test_busy_then_full_service(self):
        d = self.daemon
        body = d.signed('valid-01', VC)
        # 1. fill every slot with a request whose body stalls half way
        stalled = []
        for _ in range(self.SLOTS):
            s = socket.create_connection(('127.0.0.1', d.port), timeout=20)
            s.sendall(('POST /v1/validity-checks HTTP/1.1\r\nHost: x\r\nContent-Type: application/cms\r\n'
                       'Content-Length: %d\r\n\r\n' % len(body)).encode() + body[:len(body) // 2])
            stalled.append(s)
        time.sleep(0.3)
        # 2. every further request: busy, promptly, with Retry-After
        slow = []
        for _ in range(20):
            t0 = time.time()
            a = d.post('/v1/validity-checks', body)
            slow.append(time.time() - t0)
            self.assertAnswer(a, 'busy', VC, 503)
            self.assertGreater(int(a.header('retry-after')), 0)
        self.assertLess(max(slow), PROMPT, 'busy answers took %r' % slow)
        # a herd at once: all busy, all prompt
        with concurrent.futures.ThreadPoolExecutor(40) as ex:
            res = list(ex.map(lambda _: post_from('127.0.0.1', d.port, '/v1/revocations', body), range(120)))
        self.assertEqual({a.result for a, _ in res}, {'busy'})
        self.assertLess(max(t for _, t in res), PROMPT + 3)
        # nonces and health are not admission-controlled
        self.assertEqual(d.get('/healthz').status, 200)
        d.get_nonce()
        # 3. the stalled requests complete normally
        for s in stalled:
            s.sendall(body[len(body) // 2:])
        for s in stalled:
            a = harness.recv_response(s, 20)
            s.close()
            self.assertAnswer(a, 'valid', VC, 200)
        # 4. a herd of far more concurrent requests than slots: every one
        # answered (valid or busy), nothing dropped or timed out
        with concurrent.futures.ThreadPoolExecutor(48) as ex:
            res = list(ex.map(lambda _: post_from('127.0.0.1', d.port, '/v1/validity-checks', body),
                              range(300)))
        results = [a.result for a, _ in res]
        self.assertEqual(set(results) - {'valid', 'busy'}, set(), results)
        for a, _ in res:
            if a.result == 'busy':
                self.assertAnswer(a, 'busy', VC, 503)
        worst = max(t for _, t in res)
        print('busy: %d slots; 20 busy answers in <= %.0f ms each; herd of 300: %d valid, %d busy, '
              'slowest %.2f s' % (self.SLOTS, 1000 * max(slow), results.count('valid'),
                                   results.count('busy'), worst))
        self.assertLess(worst, 15)
        # 5. full service afterwards (a slot is released when the daemon has
        # finished with the connection, a moment after the client has its answer)
        time.sleep(1)
        for _ in range(20):
            self.assertAnswer(d.post('/v1/validity-checks', body), 'valid', VC, 200)
        self.assertEqual(self.daemon.acceptance_count(), 0)


class SlowClients(DaemonCase):
    PER_ADDR = 8
    server = {'max_connections_per_address': str(PER_ADDR), 'threads': '2',
              'max_connections': '200'}

    def test_slowloris_does_not_starve(self):
        d = self.daemon
        body = d.signed('valid-01', VC)
        request = ('POST /v1/validity-checks HTTP/1.1\r\nHost: x\r\nContent-Type: application/cms\r\n'
                   'Content-Length: %d\r\n\r\n' % len(body)).encode() + body
        stop = threading.Event()
        open_slow = [0]
        closed_slow = [0]
        lock = threading.Lock()

        def trickle(src):
            try:
                s = connect_from(src, d.port)
            except OSError:
                with lock:
                    closed_slow[0] += 1
                return
            alive = True
            try:
                for i in range(len(request)):
                    if stop.is_set():
                        break
                    s.send(request[i:i + 1])
                    time.sleep(0.25)
            except OSError:
                alive = False
            finally:
                s.close()
            with lock:
                if alive:
                    open_slow[0] += 1
                else:
                    closed_slow[0] += 1

        slow = [threading.Thread(target=trickle, args=('127.0.0.2',)) for _ in range(2 * self.PER_ADDR)]
        slow += [threading.Thread(target=trickle, args=('127.0.0.4',)) for _ in range(self.PER_ADDR)]
        for t in slow:
            t.start()
        # silent connections: connected, nothing sent
        silent = []
        for _ in range(self.PER_ADDR):
            silent.append(connect_from('127.0.0.3', d.port))
        t_silent = time.time()
        # one more than the limit from the silent address: closed at once
        extra = connect_from('127.0.0.3', d.port)
        extra.settimeout(5)
        try:
            got = extra.recv(100)
        except (ConnectionResetError, socket.timeout) as e:
            got = e
        extra.close()
        self.assertEqual(got, b'', 'a connection over max_connections_per_address was not closed: %r' % got)

        # normal clients keep being served the whole time
        lat = []
        deadline = t_silent + SLOW_PHASE
        conn = http.client.HTTPConnection('127.0.0.1', d.port, timeout=10)
        n = 0
        while time.time() < deadline:
            t0 = time.time()
            if n % 2:
                conn.request('GET', '/v1/nonce')
                r = conn.getresponse()
                r.read()
                self.assertEqual(r.status, 200)
            else:
                a = d.post('/v1/validity-checks', body)
                self.assertAnswer(a, 'valid', VC, 200)
            lat.append(time.time() - t0)
            n += 1
            time.sleep(0.05)
        conn.close()
        # the silent connections hold their slots; the daemon still answers
        for sk in silent:
            sk.close()
        stop.set()
        for t in slow:
            t.join(timeout=10)
        lat.sort()
        print('slow clients: %d trickling + %d silent connections; %d normal requests over %.0f s, '
              'median %.1f ms, max %.1f ms; per-address limit closed %d trickling connections' % (
                  len(slow), len(silent), len(lat), time.time() - t_silent, 1000 * lat[len(lat) // 2],
                  1000 * lat[-1], closed_slow[0]))
        self.assertLess(lat[-1], PROMPT, 'a normal client waited %.2f s' % lat[-1])
        # 2 x PER_ADDR from 127.0.0.2: at least PER_ADDR of them refused
        self.assertGreaterEqual(closed_slow[0], self.PER_ADDR)


if __name__ == '__main__':
    harness.main()
