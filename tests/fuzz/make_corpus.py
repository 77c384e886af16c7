#!/usr/bin/env python3
"""Makes the fuzzers' fixture and seed corpora ONCE from a fresh test PKI;
the output is checked in (tests/fuzz/pki, tests/fuzz/corpus).  Run again
only to refresh them:

    MDG_MKPKI=/path/to/build/tests/pki/mkpki python3 tests/fuzz/make_corpus.py

pki/now is the frozen clock of the pipeline target (the moment the PKI was
made), so certificates, CRLs and nonces signed here stay valid for it.
Nonces use the fixed fuzz key (32 bytes 0x6d, fuzz_common.h).
"""

import base64
import hashlib
import hmac
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MKPKI = os.environ.get('MDG_MKPKI', '/tmp/build-rel/tests/pki/mkpki')
KEY = b'\x6d' * 32


def nonce(now, ttl=300, rnd=None):
    raw = struct.pack('>Q', now + ttl) + (rnd or os.urandom(16))
    return base64.urlsafe_b64encode(raw + hmac.new(KEY, raw, hashlib.sha256).digest()).decode().rstrip('=')


def form(proc, applicant, n, reason=None):
    f = {'procedure': proc, 'applicant': applicant, 'nonce': n}
    if reason:
        f['reason'] = reason
    return json.dumps(f, ensure_ascii=False).encode()


def sign(tmp, data, cert, key, extra=(), outform='DER'):
    p = os.path.join(tmp, 'form.json')
    with open(p, 'wb') as f:
        f.write(data)
    cmd = ['openssl', 'cms', '-sign', '-nodetach', '-binary', '-outform', outform,
           '-signer', cert, '-inkey', key] + list(extra) + ['-in', p]
    return subprocess.run(cmd, check=True, capture_output=True).stdout


def put(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def main():
    tmp = tempfile.mkdtemp(prefix='mdg-corpus-')
    try:
        now = int(time.time())
        subprocess.run([MKPKI, 'gen', os.path.join(tmp, 'pki')], check=True, capture_output=True)
        pkidir = os.path.join(tmp, 'pki')
        with open(os.path.join(pkidir, 'manifest.json'), encoding='utf-8') as f:
            man = json.load(f)
        H = man['holders']
        out_pki = os.path.join(HERE, 'pki')
        shutil.rmtree(out_pki, ignore_errors=True)
        shutil.copytree(os.path.join(pkidir, 'anchors'), os.path.join(out_pki, 'anchors'))
        os.makedirs(os.path.join(out_pki, 'crls'))
        for c in ('jlis-full', 'jlis-dp-chiyoda', 'jlis-dp-stale', 'pref-tokyo-dp-shinjuku'):
            shutil.copy(man['crls'][c]['der'], os.path.join(out_pki, 'crls', c + '.crl.der'))
        put(out_pki, 'now', b'%d\n' % now)

        req_dir = os.path.join(HERE, 'corpus', 'request')
        pipe_dir = os.path.join(HERE, 'corpus', 'pipeline')
        for d in (req_dir, pipe_dir):
            shutil.rmtree(d, ignore_errors=True)

        def holder_req(name, proc, reason=None, extra=(), outform='DER', md='sha256'):
            h = H[name]
            app = h['applicant'] or {}
            data = form(proc, app, nonce(now), reason)
            if h.get('signer'):
                return sign(tmp, data, h['signer'], h['key'],
                            ['-nocerts', '-certfile', h['cert'], '-md', md] + list(extra), outform)
            return sign(tmp, data, h['cert'], h['key'], ['-md', md] + list(extra), outform)

        cases = [  # (file name, holder, procedure, reason, extra args, outform, md)
            ('valid-check', 'valid-01', 'validity-check', None, (), 'DER', 'sha256'),
            ('valid-revoke', 'valid-02', 'revocation', 'keyCompromise', (), 'DER', 'sha256'),
            ('valid-ec-check', 'valid-ec', 'validity-check', None, (), 'DER', 'sha384'),
            ('valid-pss-check', 'valid-03', 'validity-check', None,
             ('-keyopt', 'rsa_padding_mode:pss', '-keyopt', 'rsa_pss_saltlen:32'), 'DER', 'sha256'),
            ('valid-pem-check', 'valid-04', 'validity-check', None, (), 'PEM', 'sha256'),
            ('valid-noattr-check', 'valid-05', 'validity-check', None, ('-noattr',), 'DER', 'sha256'),
            ('revoked-check', 'revoked', 'validity-check', None, (), 'DER', 'sha256'),
            ('expired-revoke', 'expired', 'revocation', None, (), 'DER', 'sha256'),
            ('notyet-check', 'notyet', 'validity-check', None, (), 'DER', 'sha256'),
            ('unknown-check', 'unknown', 'validity-check', None, (), 'DER', 'sha256'),
            ('impostor-check', 'impostor', 'validity-check', None, (), 'DER', 'sha256'),
            ('wrongkey-check', 'wrongkey', 'validity-check', None, (), 'DER', 'sha256'),
            ('stale-check', 'stale-dp', 'validity-check', None, (), 'DER', 'sha256'),
            ('nofacts-check', 'nofacts', 'validity-check', None, (), 'DER', 'sha256'),
            ('pref-check', 'valid-pref', 'validity-check', None, (), 'DER', 'sha512'),
            ('noaki-revoke', 'valid-noaki', 'revocation', 'superseded', (), 'DER', 'sha256'),
        ]
        for fname, hn, proc, reason, extra, outform, md in cases:
            body = holder_req(hn, proc, reason, extra, outform, md)
            put(req_dir, fname, body)
            put(pipe_dir, fname, bytes([1 if proc == 'revocation' else 0]) + body)
        # the form alone, and a selector variant with application/cms
        put(req_dir, 'form.json', form('revocation', H['valid-01']['applicant'], nonce(now), 'unspecified'))
        put(pipe_dir, 'valid-check-cms-type',
            bytes([2]) + open(os.path.join(req_dir, 'valid-check'), 'rb').read())

        crl_dir = os.path.join(HERE, 'corpus', 'crl')
        shutil.rmtree(crl_dir, ignore_errors=True)
        for name, c in sorted(man['crls'].items()):
            if c.get('der'):
                put(crl_dir, name + '.der', open(c['der'], 'rb').read())
        put(crl_dir, 'jlis-full.pem', open(man['crls']['jlis-full']['pem'], 'rb').read())

        cfg_dir = os.path.join(HERE, 'corpus', 'config')
        shutil.rmtree(cfg_dir, ignore_errors=True)
        put(cfg_dir, 'example.conf', open(os.path.join(HERE, '..', '..', 'config', 'madoguchi.conf'), 'rb').read())
        put(cfg_dir, 'full.conf', b'''[server]
listen = ::1
port = 8443
threads = 4
max_connections = 100
max_connections_per_address = 8
max_inflight = 16
max_body = 4096
tls_cert = /etc/madoguchi/tls.crt
tls_key = /etc/madoguchi/tls.key
trusted_proxies = 127.0.0.1, ::1
[pki]
anchors = /etc/madoguchi/anchors
policies = 1.2.392.200149.8.5.1.1.20, 1.2.392.200149.8.5.1.0.20
crl_issue_time = 06:30Z
crl_cutoff = 90m
crl_max_age = 2d
nonce_key_file = /tmp/nonce.key
nonce_ttl = 300s
[store]
database = /var/lib/madoguchi/madoguchi.db
[admin]
listen = 127.0.0.1
port = 9090
token_file = /etc/madoguchi/admin.token
''')
        put(cfg_dir, 'minimal.conf', b'[server]\nport = 1\n')
        put(cfg_dir, 'bad.conf', b'[server]\nmax_inflight = -1\n[nope]\nx=y\n')
        print('corpus made; frozen clock %d' % now)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
