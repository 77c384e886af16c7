"""Crash durability: a storm of concurrent revocations of distinct
certificates, the daemon killed with SIGKILL at a random moment, restarted,
again and again.  At the end every request that was answered `accepted` has
its row with the same receipt, re-sending every request answers
`revocationAccepted` with the stored receipt (nothing committed was lost,
nothing answered was not committed), no certificate has two rows, and
`madoguchi-admin log verify` passes.

The distinct certificates are made here with `openssl x509 -req`, signed by
the test PKI's jlis-g2 CA key, carrying the extensions of holder valid-01
(facts, policy, key usage, distribution point) copied byte for byte, with a
fresh serial each and one shared EC P-256 key (the unique key is issuer +
serial; a shared key changes nothing the server checks).
"""

import concurrent.futures
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Daemon, make_form, run, sign, sqlite  # noqa: E402

REV = 'revocation'
CYCLES = int(os.environ.get('MDG_CRASH_CYCLES', '6'))
PER_CYCLE = int(os.environ.get('MDG_CRASH_PER_CYCLE', '25'))
WORKERS = 12
COPIED_EXTS = {'2.5.29.17': 'subjectAltName', '2.5.29.32': 'certificatePolicies',
               '2.5.29.15': 'keyUsage', '2.5.29.31': 'cRLDistributionPoints'}


def der_walk(buf):
    """[(tag, tlv bytes, content bytes)] of the TLVs in buf."""
    out, off = [], 0
    while off < len(buf):
        tag, hl, ln = harness.der_header(buf, off)
        out.append((tag, buf[off:off + hl + ln], buf[off + hl:off + hl + ln]))
        off += hl + ln
    return out


def oid_text(content):
    vals, v = [], 0
    for b in content:
        v = (v << 7) | (b & 0x7f)
        if not b & 0x80:
            vals.append(v)
            v = 0
    first = vals[0]
    return '.'.join(str(x) for x in [min(first // 40, 2), first - 40 * min(first // 40, 2)] + vals[1:])


def holder_extensions(cert_pem):
    """(oid, critical, value DER) of the extensions to copy from a holder."""
    der = harness.pem_to_der(cert_pem)
    tbs = der_walk(harness.der_content(der))[0][2]
    exts = [c for t, _, c in der_walk(tbs) if t == 0xA3][0]
    out = []
    for _, _, ext in der_walk(der_walk(exts)[0][2]):
        parts = der_walk(ext)
        o = oid_text(parts[0][2])
        critical = len(parts) == 3 and parts[1][2] == b'\xff'
        if o in COPIED_EXTS:
            out.append((o, critical, parts[-1][2]))
    return out


def make_certs(pki, workdir, n, base):
    """n distinct JPKI signing certificates, serials base..base+n-1;
    returns (key, [cert])."""
    key = os.path.join(workdir, 'k.pem')
    run(['openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256',
         '-out', key], check=True)
    csr = os.path.join(workdir, 'k.csr')
    run(['openssl', 'req', '-new', '-key', key, '-subj', '/C=JP/L=Tokyo/L=Chiyoda-ku/CN=CRASHTEST',
         '-out', csr], check=True)
    ext = os.path.join(workdir, 'ext.cnf')
    with open(ext, 'w') as f:
        f.write('[v3]\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n')
        for o, crit, val in holder_extensions(pki.holder('valid-01')['cert']):
            f.write('%s = %sDER:%s\n' % (o, 'critical,' if crit else '', val.hex()))
    out = []
    for i in range(n):
        cert = os.path.join(workdir, 'c%04d.pem' % i)
        run(['openssl', 'x509', '-req', '-in', csr, '-CA', pki.ca_cert('jlis-g2'),
             '-CAkey', pki.ca_key('jlis-g2'), '-set_serial', str(base + i), '-days', '365',
             '-sha256', '-extfile', ext, '-extensions', 'v3', '-out', cert], check=True)
        out.append(cert)
    return key, out


class Crash(unittest.TestCase):
    def test_kill9_storm(self):
        pki = harness.shared_pki()
        d = Daemon(pki, name='crash', server={'threads': '4', 'max_inflight': '1024'},
                   pki_opts={'nonce_ttl': '3600s'})
        work = harness.make_tmpdir('mdg-e2e-crashcerts-')
        n = CYCLES * PER_CYCLE
        t0 = time.time()
        base_serial = random.SystemRandom().getrandbits(56) | (1 << 60)
        key, certs = make_certs(pki, work, n, base_serial)
        t1 = time.time()
        d.start()
        nonce = d.get_nonce()
        app = pki.holder('valid-01')['applicant']
        bodies = []
        for i, cert in enumerate(certs):
            form = make_form(REV, app, nonce, harness.REASONS[i % len(harness.REASONS)])
            bodies.append(sign(form, cert, key))
        print('made %d certificates in %.1f s, their requests in %.1f s' % (
            n, t1 - t0, time.time() - t1))

        # a probe: the made certificates are accepted by the server at all
        a = d.post('/v1/revocations', bodies[0])
        self.assertEqual((a.status, a.result), (201, 'accepted'), a)
        answers = {0: [('accepted', a.json['receiptId'])]}
        lock = threading.Condition()
        done_in_cycle = [0]

        def send(i):
            try:
                conn = http.client.HTTPConnection('127.0.0.1', d.port, timeout=20)
                conn.request('POST', '/v1/revocations', bodies[i],
                             {'Content-Type': 'application/pkcs7-mime'})
                r = conn.getresponse()
                j = json.loads(r.read())
                conn.close()
                res = (j.get('result'), j.get('receiptId'))
                if res[0] in ('accepted', 'revocationAccepted') and not res[1]:
                    res = ('no receipt', None)
            except (OSError, http.client.HTTPException, ValueError) as e:
                res = ('lost: %s' % type(e).__name__, None)
            with lock:
                answers.setdefault(i, []).append(res)
                done_in_cycle[0] += 1
                lock.notify_all()

        rng = random.Random(int(os.environ.get('MDG_CRASH_SEED', str(int(time.time())))))
        pending = list(range(1, n))
        kills = 0
        for cycle in range(CYCLES):
            batch = pending[:PER_CYCLE]
            # also resend some earlier ones: after a restart they must repeat their receipt
            batch += rng.sample(range(1, pending[0]), min(8, pending[0] - 1)) if pending[0] > 1 else []
            pending = pending[PER_CYCLE:]
            # kill once a random number of answers are out: mid-storm, with
            # requests in flight (some mid-commit), whatever the build's speed
            kill_after = rng.randint(1, len(batch) // 2)
            done_in_cycle[0] = 0
            t_storm = time.time()
            with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
                futs = [ex.submit(send, i) for i in batch]
                with lock:
                    lock.wait_for(lambda: done_in_cycle[0] >= kill_after, timeout=30)
                time.sleep(rng.uniform(0, 0.004))
                delay = time.time() - t_storm
                d.proc.kill()
                d.proc.wait(timeout=10)
                kills += 1
                for f in futs:
                    f.result(timeout=60)
            d._err.close()
            d._out.close()
            got = [answers[i][-1][0] for i in batch]
            print('cycle %d: killed after %.0f ms; %d accepted, %d revocationAccepted, %d lost'
                  % (cycle + 1, delay * 1000, got.count('accepted'), got.count('revocationAccepted'),
                     sum(1 for g in got if g.startswith('lost'))))
            d.start(timeout=30)

        # every request once more, after the last restart
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
            list(ex.map(send, range(n)))
        rows = sqlite(d.db, "SELECT hex(serial) || ' ' || receipt_id FROM acceptances;").splitlines()
        db = {}
        for line in rows:
            serial, receipt = line.split()
            db.setdefault(serial, []).append(receipt)
        dup = sqlite(d.db, 'SELECT count(*) FROM (SELECT issuer, serial FROM acceptances '
                           'GROUP BY issuer, serial HAVING count(*) > 1) AS dup;')
        self.assertEqual(dup, '0', 'a certificate with two rows')
        self.assertEqual(sorted(len(v) for v in db.values())[-1:], [1])

        accepted_checked = 0
        lost = 0
        problems = []
        for i in range(n):
            seq = answers.get(i, [])
            final = seq[-1]
            stored = db.get('%X' % (base_serial + i), [None])[0]
            if final[0] not in ('accepted', 'revocationAccepted'):
                problems.append('request %d: final answer %r (history %r)' % (i, final, seq))
                continue
            if final[1] != stored:
                problems.append('request %d: final receipt %s, row %s' % (i, final[1], stored))
            for res, receipt in seq:
                if res.startswith('lost'):
                    lost += 1
                elif res not in ('accepted', 'revocationAccepted'):
                    problems.append('request %d: unexpected answer %r' % (i, res))
                elif receipt != stored:
                    problems.append('request %d: answered %s %s but the row has %s'
                                    % (i, res, receipt, stored))
                elif res == 'accepted':
                    accepted_checked += 1
        self.assertEqual(len(rows), n, 'one row per certificate')
        cp = d.admin('log', 'verify')
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        d.stop_and_check()
        print('crash durability: %d kill -9 cycles, %d certificates, %d answers lost to kills, '
              '%d accepted answers checked against their rows, %d rows, log verify ok'
              % (kills, n, lost, accepted_checked, len(rows)))
        self.assertEqual(problems, [], '\n'.join(problems[:20]))
        self.assertGreaterEqual(kills, 5)


if __name__ == '__main__':
    unittest.main(verbosity=2)
