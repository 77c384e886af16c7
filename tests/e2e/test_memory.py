"""Memory: the daemon's resident set stays flat across 100,000 requests
(a replayed signed validity check -- long nonce_ttl -- and nonce GETs, over
keep-alive connections from several client processes, pipelined: groups of
PIPELINE requests per connection, the last a nonce GET; the daemon closes a
connection after a GET, and each new connection exercises its set-up and
tear-down too).  VmRSS is sampled
from /proc; after a warm-up the growth must stay under a bound.

Skipped (loudly) in sanitizer builds, where ASan's quarantine makes RSS
meaningless and the run too slow; there the harness's exit-status check at
graceful stop makes LeakSanitizer's report fail every e2e test instead.
MDG_MEMORY_REQUESTS overrides the count (for a longer run by hand).

While it runs anyway for more than the daemon's fixed connection timeout,
this test also checks that timeout (test_overload.py checks the rest of the
slow-client defences): silent connections opened at the start are closed
by the server by the end.
"""

import json
import multiprocessing
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DaemonCase  # noqa: E402

VC = 'validity-check'
TOTAL = int(os.environ.get('MDG_MEMORY_REQUESTS', '100000'))
CLIENTS = 3
PIPELINE = 2
IDLE_TIMEOUT = 30         # server/http/http.c CONNECTION_TIMEOUT
ROUNDS = 20                 # RSS samples
WARMUP_ROUNDS = 4
GROWTH_BOUND_KB = 6 * 1024  # after warm-up
# wall-time bound: on a loaded machine the run stops early (said loudly),
# with at least MIN_ROUNDS samples for the verdict
BUDGET_S = float(os.environ.get('MDG_MEMORY_SECONDS', '80'))
MIN_ROUNDS = WARMUP_ROUNDS + 4


def sanitizer_build():
    root = os.environ.get('MDG_BUILD_ROOT')
    if not root:
        return None
    try:
        with open(os.path.join(root, 'meson-info', 'intro-buildoptions.json')) as f:
            opts = {o['name']: o['value'] for o in json.load(f)}
    except (OSError, ValueError, KeyError):
        return None
    v = opts.get('b_sanitize', 'none')
    return None if v in ('none', '', []) else v


def connect_from(src, port):
    sk = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sk.bind((src, 0))
    sk.connect(('127.0.0.1', port))
    return sk


def vmrss_kb(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise AssertionError('no VmRSS for %d' % pid)


def read_responses(sock, n, buf):
    """Reads n HTTP responses; returns (statuses, leftover bytes)."""
    statuses = []
    while len(statuses) < n:
        head_end = buf.find(b'\r\n\r\n')
        if head_end >= 0:
            head = buf[:head_end]
            i = head.lower().find(b'content-length:')
            length = int(head[i + 15:head.find(b'\r\n', i) if head.find(b'\r\n', i) > 0 else None]) \
                if i >= 0 else 0
            total = head_end + 4 + length
            if len(buf) >= total:
                statuses.append((int(head[9:12]), buf[head_end + 4:total]))
                buf = buf[total:]
                continue
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError('server closed after %d of %d responses' % (len(statuses), n))
        buf += chunk
    return statuses, buf


def client(port, body, n, out):
    """n requests in groups of PIPELINE, each group one keep-alive
    connection with its requests pipelined: validity checks, then a nonce
    GET that closes the connection (the daemon closes after a GET anyway)."""
    get = b'GET /v1/nonce HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'
    post = (b'POST /v1/validity-checks HTTP/1.1\r\nHost: 127.0.0.1\r\n'
            b'Content-Type: application/pkcs7-mime\r\nContent-Length: %d\r\n\r\n' % len(body)) + body
    bad = 0
    done = 0
    try:
        while done < n:
            k = min(PIPELINE, n - done)
            sock = socket.create_connection(('127.0.0.1', port), timeout=60)
            try:
                sock.sendall(post * (k - 1) + get)
                got, _ = read_responses(sock, k, b'')
            finally:
                sock.close()
            for j, (status, data) in enumerate(got):
                if status != 200 or (j < k - 1 and b'"valid"' not in data) or \
                        (j == k - 1 and b'"nonce"' not in data):
                    bad += 1
            done += k
    except (OSError, ValueError) as e:
        bad += n - done
        print('client: %s' % e, flush=True)
    out.put(bad)


class Memory(DaemonCase):
    pki_opts = {'nonce_ttl': '3600s'}
    server = {'threads': '2'}

    @classmethod
    def setUpClass(cls):
        san = sanitizer_build()
        if san and os.environ.get('MDG_MEMORY_FORCE') != '1':
            print('\n!!! test_memory skipped: sanitizer build (b_sanitize=%s); RSS is not meaningful '
                  'under ASan. Leaks there are caught by LSan at every graceful stop.' % san, flush=True)
            raise unittest.SkipTest('sanitizer build')
        super().setUpClass()

    def test_rss_flat(self):
        d = self.daemon
        body = d.signed('valid-01', VC)
        self.assertEqual(d.post('/v1/validity-checks', body).result, 'valid')
        pid = d.proc.pid
        silent = [connect_from('127.0.0.3', d.port) for _ in range(4)]
        t_silent = time.time()
        per_round = TOTAL // ROUNDS
        samples = [vmrss_kb(pid)]
        t0 = time.time()
        bad = 0
        ctx = multiprocessing.get_context('fork')
        rounds = 0
        for _ in range(ROUNDS):
            if rounds >= MIN_ROUNDS and time.time() - t0 > BUDGET_S:
                print('\n!!! memory: stopped after %d of %d rounds: the %.0f s budget is spent '
                      '(a loaded machine); MDG_MEMORY_SECONDS raises it' % (rounds, ROUNDS, BUDGET_S),
                      flush=True)
                break
            rounds += 1
            q = ctx.Queue()
            ps = [ctx.Process(target=client, args=(d.port, body, per_round // CLIENTS, q))
                  for _ in range(CLIENTS)]
            for p in ps:
                p.start()
            for p in ps:
                p.join(timeout=300)
                bad += q.get(timeout=10)
            samples.append(vmrss_kb(pid))
        elapsed = time.time() - t0
        done = rounds * CLIENTS * (per_round // CLIENTS)
        base = samples[WARMUP_ROUNDS]
        growth = max(samples[WARMUP_ROUNDS:]) - base
        print('memory: %d requests in %.1f s (%.0f/s); VmRSS kB start %d, after warm-up %d, end %d, '
              'max growth after warm-up %d kB (bound %d)' % (
                  done, elapsed, done / elapsed, samples[0], base, samples[-1], growth, GROWTH_BOUND_KB))
        print('memory: samples kB %s' % samples)
        # the silent connections: closed by the idle timeout
        time.sleep(max(0.0, t_silent + IDLE_TIMEOUT + 2 - time.time()))
        closed = 0
        for sk in silent:
            sk.settimeout(3)
            try:
                closed += sk.recv(100) == b''
            except ConnectionResetError:
                closed += 1
            except socket.timeout:
                pass
            sk.close()
        print('idle timeout: %d/%d silent connections closed by the server after %.0f s'
              % (closed, len(silent), time.time() - t_silent))
        self.assertEqual(closed, len(silent), 'silent connections outlived the %d s connection timeout'
                         % IDLE_TIMEOUT)
        self.assertEqual(bad, 0, 'requests not answered as expected')
        self.assertGreaterEqual(rounds, MIN_ROUNDS)
        self.assertLess(growth, GROWTH_BOUND_KB, 'RSS grew %d kB after warm-up: %s' % (growth, samples))
        # the last half grows no more than noise: a leak grows steadily
        half = samples[rounds // 2]
        self.assertLess(samples[-1] - half, GROWTH_BOUND_KB // 2, samples)


if __name__ == '__main__':
    harness.main()
