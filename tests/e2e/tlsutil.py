"""Test server certificates and HTTPS helpers for the deployment e2e tests
(test_tls, test_nginx, test_proxy, test_install).  Stdlib and the openssl
and curl command-line tools only; everything on 127.0.0.1."""

import hashlib
import http.client
import os
import socket
import ssl
import time

import harness

CURL_TIMEOUT = 15


class TestCA:
    """A throw-away CA (ECDSA P-256) in a temp dir that issues server
    certificates for 127.0.0.1 / localhost."""

    def __init__(self, root=None):
        self.dir = root or harness.make_tmpdir('mdg-e2e-tlsca-')
        self.cert = os.path.join(self.dir, 'ca.pem')
        self.key = os.path.join(self.dir, 'ca.key')
        self._n = 0
        harness.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                     '-nodes', '-keyout', self.key, '-out', self.cert, '-days', '2',
                     '-subj', '/CN=madoguchi test TLS CA',
                     '-addext', 'basicConstraints=critical,CA:TRUE',
                     '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], check=True)

    def issue(self, kind='ecdsa', name=None, bits=2048):
        """A server certificate and key (mode 0600); returns (cert, key)."""
        self._n += 1
        name = name or '%s-%d' % (kind, self._n)
        key = os.path.join(self.dir, name + '.key')
        csr = os.path.join(self.dir, name + '.csr')
        cert = os.path.join(self.dir, name + '.pem')
        ext = os.path.join(self.dir, name + '.ext')
        if kind == 'rsa':
            newkey = ['-newkey', 'rsa:%d' % bits]
        else:
            newkey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']
        harness.run(['openssl', 'req', '-new'] + newkey + ['-nodes', '-keyout', key, '-out', csr,
                    '-subj', '/CN=127.0.0.1'], check=True)
        with open(ext, 'w') as f:
            f.write('subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n'
                    'extendedKeyUsage=serverAuth\n'
                    'basicConstraints=critical,CA:FALSE\n')
        harness.run(['openssl', 'x509', '-req', '-in', csr, '-CA', self.cert, '-CAkey', self.key,
                     '-set_serial', str(1000 + self._n), '-days', '2', '-sha256',
                     '-extfile', ext, '-out', cert], check=True)
        os.chmod(key, 0o600)
        return cert, key


def cert_sha256(pem_path):
    return hashlib.sha256(harness.pem_to_der(pem_path)).hexdigest()


def client_context(cafile, tls_min=None, tls_max=None):
    ctx = ssl.create_default_context(cafile=cafile)
    if tls_min:
        ctx.minimum_version = tls_min
    if tls_max:
        ctx.maximum_version = tls_max
    return ctx


class HTTPSConn:
    """One HTTPS connection with the peer certificate and TLS version it
    negotiated."""

    def __init__(self, port, cafile, timeout=10, **kw):
        self.conn = http.client.HTTPSConnection('127.0.0.1', port, timeout=timeout,
                                                context=client_context(cafile, **kw))
        self.conn.connect()
        # kept: the daemon may close the connection after an answer
        self.peer_der = self.conn.sock.getpeercert(binary_form=True)
        self.tls_version = self.conn.sock.version()

    def peer_sha256(self):
        return hashlib.sha256(self.peer_der).hexdigest()

    def version(self):
        return self.tls_version

    def request(self, method, path, body=None, headers=None):
        self.conn.request(method, path, body=body, headers=headers or {})
        r = self.conn.getresponse()
        data = r.read()
        hdrs = {}
        for k, v in r.getheaders():
            hdrs[k.lower()] = v
        return harness.Answer(r.status, hdrs, data)

    def close(self):
        self.conn.close()


def https_request(port, cafile, method, path, body=None, headers=None, timeout=10):
    c = HTTPSConn(port, cafile, timeout=timeout)
    try:
        return c.request(method, path, body, headers)
    finally:
        c.close()


def curl(url, cacert, args=(), body=None, headers=None, timeout=CURL_TIMEOUT):
    """curl with the test CA; returns (exit code, Answer or None, stderr text).
    A body is sent from a file with --data-binary."""
    d = harness.make_tmpdir('mdg-e2e-curl-')
    out = os.path.join(d, 'body')
    hdr = os.path.join(d, 'headers')
    cmd = ['curl', '-sS', '--max-time', str(timeout - 2), '--cacert', cacert, '-o', out,
           '-D', hdr] + list(args)
    for k, v in (headers or {}).items():
        cmd += ['-H', '%s: %s' % (k, v)]
    if body is not None:
        bf = os.path.join(d, 'req')
        with open(bf, 'wb') as f:
            f.write(body)
        cmd += ['--data-binary', '@' + bf]
    cmd.append(url)
    cp = harness.run(cmd, timeout=timeout)
    err = cp.stderr.decode('utf-8', 'replace')
    if cp.returncode != 0:
        return cp.returncode, None, err
    with open(hdr, 'rb') as f:
        raw = f.read().decode('latin-1')
    # the last response's headers (after any 100 Continue)
    blocks = [b for b in raw.split('\r\n\r\n') if b.strip()]
    lines = blocks[-1].split('\r\n')
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(':')
        hdrs[k.strip().lower()] = v.strip()
    with open(out, 'rb') as f:
        data = f.read()
    return 0, harness.Answer(status, hdrs, data), err


def wait_https(proc, port, cafile, timeout=10, path='/healthz', stderr=lambda: ''):
    """Waits until GET path over HTTPS answers 200; raises if the process
    exits or the time runs out."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError('exited %d at start: %s' % (proc.returncode, stderr()[-3000:]))
        try:
            a = https_request(port, cafile, 'GET', path, timeout=2)
            if a.status == 200:
                return
            last = a
        except (OSError, ssl.SSLError) as e:
            last = e
        time.sleep(0.05)
    raise RuntimeError('no HTTPS answer within %ds (%r): %s' % (timeout, last, stderr()[-3000:]))


class TLSDaemon(harness.Daemon):
    """The real madoguchid with tls_cert / tls_key set."""

    def __init__(self, pki, cafile, cert, key, server=None, **kw):
        s = {'tls_cert': cert, 'tls_key': key}
        s.update(server or {})
        self.cafile = cafile
        super().__init__(pki, server=s, **kw)

    def start(self, timeout=10):
        self.spawn()
        try:
            wait_https(self.proc, self.port, self.cafile, timeout, stderr=self.stderr_text)
        except Exception:
            self.kill()
            raise
        return self

    def url(self, path):
        return 'https://127.0.0.1:%d%s' % (self.port, path)

    def request(self, method, path, body=None, headers=None, timeout=30):
        return https_request(self.port, self.cafile, method, path, body, headers, timeout)

    def wait_log(self, needle, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in self.log_lines():
                if isinstance(line, dict) and needle in line.get('msg', line.get('message', '')):
                    return line
            time.sleep(0.05)
        raise AssertionError('no log line with %r: %s' % (needle, self.stderr_text()[-2000:]))


def tls_socket(port, cafile, timeout=10):
    """A raw TLS socket to 127.0.0.1:port, handshake done."""
    raw = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    return client_context(cafile).wrap_socket(raw, server_hostname='127.0.0.1')
