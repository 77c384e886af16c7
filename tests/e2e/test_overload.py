"""Overload and slow clients.

Busy: with a small max_inflight, requests held in progress (headers sent,
body stalled) fill the slots; every further request is answered `busy`
(503 + Retry-After) at once, never a timeout; a herd of far more concurrent
requests than slots is answered in full (valid or busy, nothing dropped);
afterwards service is complete again.

Slow clients: connections trickling a request a byte at a time and silent
connections from other loopback addresses do not starve normal clients; the
per-address connection limit (max_connections_per_address) caps each
address.  request_timeout closes requests that trickle their body, even
when their bytes never let the connection idle, and frees their admission
slots; an endless chunked body is answered 413 as soon as it passes
max_body. (That a silent connection is closed after the fixed connection
timeout, server/http/http.c CONNECTION_TIMEOUT = 30 s, is checked by
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


class Trickle(DaemonCase):
    """request_timeout (default 10 s): 16 connections that each announce
    Content-Length: 60000 and then send one byte every 5 s take every
    admission slot (max_inflight = 16) for a while -- a genuine holder is
    busy at first -- but each is closed once its request is not whole within
    request_timeout, its slot freed, and the holder is answered while the
    trickling goes on."""
    SLOTS = 16
    server = {'max_inflight': str(SLOTS), 'max_connections_per_address': '1000'}

    def test_trickled_bodies_do_not_hold_the_slots(self):
        d = self.daemon
        body = d.signed('valid-02', VC)
        stop = threading.Event()
        closed_at = [None] * self.SLOTS
        t0 = time.time()

        def trickle(i):
            s = connect_from('127.0.0.%d' % (10 + i), d.port, timeout=30)
            try:
                s.sendall(b'POST /v1/validity-checks HTTP/1.1\r\nHost: x\r\n'
                          b'Content-Type: application/cms\r\nContent-Length: 60000\r\n\r\n0')
                while not stop.is_set():
                    s.settimeout(5)
                    try:
                        if s.recv(1) == b'':
                            break
                    except socket.timeout:
                        s.sendall(b'0')
                    except OSError:
                        break
            except OSError:
                pass
            finally:
                closed_at[i] = time.time() - t0
                s.close()

        threads = [threading.Thread(target=trickle, args=(i,)) for i in range(self.SLOTS)]
        for th in threads:
            th.start()
        try:
            time.sleep(1.5)
            # every slot held: a genuine holder is busy now
            self.assertAnswer(d.post('/v1/validity-checks', body), 'busy', VC, 503)
            # and answered once request_timeout has closed the trickling requests
            answered = None
            while time.time() - t0 < 16:
                a = d.post('/v1/validity-checks', body)
                if a.result == 'valid':
                    answered = time.time() - t0
                    break
                self.assertAnswer(a, 'busy', VC, 503)
                time.sleep(0.25)
            self.assertIsNotNone(answered, 'still busy 16 s into the trickle')
            stop_at = time.time() - t0
        finally:
            stop.set()
            for th in threads:
                th.join(timeout=10)
        print('trickle: %d connections closed at %.1f-%.1f s; holder answered valid at %.1f s'
              % (self.SLOTS, min(closed_at), max(closed_at), answered))
        # closed by the daemon (not by us) close to request_timeout
        self.assertLess(max(closed_at), stop_at + 0.5)
        self.assertGreater(min(closed_at), 9)
        self.assertLess(max(closed_at), 13)
        self.assertLess(answered, 14)
        reasons = [l.get('reason') for l in d.log_lines() if isinstance(l, dict)
                   and l.get('path') == '/v1/validity-checks' and l.get('status') in (0, None)]
        self.assertEqual(len([r for r in reasons if r and 'request_timeout' in r]), self.SLOTS, reasons)


class FastTrickle(DaemonCase):
    """A byte every 0.3 s keeps the connection from ever idling: the
    request_timeout deadline (here 2 s) still closes it."""
    server = {'request_timeout': '2s'}

    def test_deadline_not_idle_timeout(self):
        d = self.daemon
        s = connect_from('127.0.0.30', d.port, timeout=10)
        t0 = time.time()
        s.sendall(b'POST /v1/revocations HTTP/1.1\r\nHost: x\r\n'
                  b'Content-Type: application/cms\r\nContent-Length: 60000\r\n\r\n')
        closed = None
        try:
            while time.time() - t0 < 8:
                s.sendall(b'0')
                s.settimeout(0.3)
                try:
                    if s.recv(1) == b'':
                        closed = time.time() - t0
                        break
                except socket.timeout:
                    pass
        except OSError:
            closed = time.time() - t0
        finally:
            s.close()
        self.assertIsNotNone(closed, 'a trickling request outlived request_timeout = 2s by 6 s')
        self.assertGreater(closed, 1.5)
        self.assertLess(closed, 4)
        self.assertAnswer(d.post('/v1/validity-checks', d.signed('valid-03', VC)), 'valid', VC, 200)


class EndlessBody(DaemonCase):
    """A chunked body passing max_body is answered 413 (malformed,
    problem+json, no-store) as soon as it passes, not after its end (32 MiB
    are offered), and the connection is closed."""

    def test_endless_chunked_body_413_promptly(self):
        d = self.daemon
        for path, proc in (('/v1/validity-checks', VC), ('/v1/revocations', 'revocation')):
            s = socket.create_connection(('127.0.0.1', d.port), timeout=10)
            chunk = b'%x\r\n' % 16384 + b'\x30' * 16384 + b'\r\n'
            sent = 0
            data = b''
            t0 = time.time()
            try:
                s.sendall(('POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/cms\r\n'
                           'Transfer-Encoding: chunked\r\n\r\n' % path).encode())
                while sent < 32 * 1024 * 1024 and time.time() - t0 < 20:
                    try:
                        s.sendall(chunk)
                        sent += 16384
                    except OSError:
                        break
                    s.setblocking(False)
                    try:
                        got = s.recv(65536)
                        data += got
                        if not got or b'\r\n\r\n' in data:
                            break
                    except BlockingIOError:
                        pass
                    finally:
                        s.setblocking(True)
                        s.settimeout(10)
                elapsed = time.time() - t0
                # the rest of the answer, then the close
                s.settimeout(5)
                try:
                    while True:
                        got = s.recv(65536)
                        if not got:
                            break
                        data += got
                except OSError:
                    pass
                closed = time.time() - t0
            finally:
                s.close()
            a = harness.parse_raw_response(data)
            print('endless chunked body to %s: 413 after %d KiB sent, %.2f s; closed at %.2f s'
                  % (path, sent // 1024, elapsed, closed))
            self.assertAnswer(a, 'malformed', proc, 413)
            self.assertIn('no-store', a.header('cache-control', ''))
            self.assertEqual(a.header('connection', '').lower(), 'close')
            self.assertLess(sent, 8 * 1024 * 1024)  # socket buffers, not the daemon, took the rest
            self.assertLess(elapsed, PROMPT)
            self.assertLess(closed, PROMPT + 3)
        self.assertAnswer(d.post('/v1/validity-checks', d.signed('valid-04', VC)), 'valid', VC, 200)
        self.assertEqual(d.acceptance_count(), 0)


if __name__ == '__main__':
    harness.main()
