"""Shared fixture for the end-to-end tests: a fresh test PKI, a config, an
initialised database with the fresh CRLs imported, and the real madoguchid on
a random loopback port.  Stdlib only.  Every wait is bounded.

Environment: MDG_DAEMON, MDG_ADMIN, MDG_MKPKI (paths to the binaries),
MDG_SOURCE_ROOT.  MDG_E2E_KEEP=1 keeps the temporary directories.
"""

import atexit
import base64
import datetime
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get('MDG_SOURCE_ROOT', os.path.dirname(os.path.dirname(HERE)))
_BUILD = os.environ.get('MDG_BUILD_DIR', '/tmp/build-e2e')
DAEMON = os.environ.get('MDG_DAEMON', os.path.join(_BUILD, 'server', 'madoguchid'))
ADMIN = os.environ.get('MDG_ADMIN', os.path.join(_BUILD, 'admin', 'madoguchi-admin'))
MKPKI = os.environ.get('MDG_MKPKI', os.path.join(_BUILD, 'tests', 'pki', 'mkpki'))
KEEP = os.environ.get('MDG_E2E_KEEP') == '1'
# MDG_E2E_BACKEND=postgresql: every Daemon gets a fresh database of a private
# cluster (tests/e2e/pgcluster.py) instead of an SQLite file.
BACKEND = os.environ.get('MDG_E2E_BACKEND', 'sqlite')
ON_PG = BACKEND == 'postgresql'

JST = datetime.timezone(datetime.timedelta(hours=9))
ENDPOINT = {'revocation': '/v1/revocations', 'validity-check': '/v1/validity-checks'}
PROCEDURES = ('validity-check', 'revocation')
REASONS = ('unspecified', 'keyCompromise', 'affiliationChanged', 'superseded',
           'cessationOfOperation')
# CRLs imported by the default fixture (fresh ones plus the stale partition).
DEFAULT_CRLS = ('jlis-full', 'jlis-dp-chiyoda', 'jlis-dp-stale', 'pref-tokyo-dp-shinjuku')
FRESH_CRLS = ('jlis-full', 'jlis-dp-chiyoda', 'pref-tokyo-dp-shinjuku')

PLACEHOLDER_APPLICANT = {'name': '山田　花子', 'address': '東京都千代田区永田町1丁目7番1号',
                         'birthDate': '1970-01-01', 'gender': '女'}

RFC3339_RE = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+09:00$')
WAREKI_RE = re.compile(r'^(明治|大正|昭和|平成|令和)(元|\d+)年\d\d月\d\d日$')
RECEIPT_RE = re.compile(r'^([0-9a-fA-F]{32}|[A-Za-z2-7]{26}=*)$')

# DESIGN.md "Results": the Japanese titles, normative, byte for byte.
# (revocation title, validity-check title)
TITLES_JA = {
    'accepted': ('オンライン失効申請の受理通知', None),
    'valid': (None, 'オンライン有効性確認結果通知:有効'),
    'revoked': ('失効済電子証明書に対する失効申請', 'オンライン有効性確認結果通知:失効済み'),
    'revocationAccepted': ('同一の電子証明書に対する二重の失効申請',
                           'オンライン有効性確認結果通知:オンライン失効受理済み'),
    'expired': ('有効期限切れの電子証明書に対する失効申請',
                '有効期限切れの電子証明書に対する有効性確認'),
    'notYetValid': (None, '有効期間開始前の電子証明書に対する有効性確認'),
    'issuerMismatch': ('電子証明書の有効性確認のエラー',
                       'オンライン有効性確認結果通知:有効性確認のエラー'),
    'badCertificateSignature': ('電子証明書の検証エラー', '電子証明書の検証エラー'),
    'badRequestSignature': ('失効申請書の検証エラー', '有効性確認申請書の検証エラー'),
    'malformed': ('受信データの形式エラー', '受信データの形式エラー'),
    'badNonce': ('申請の受付期限切れ', '申請の受付期限切れ'),
    'busy': ('オンライン窓口サービスの混雑', 'オンライン窓口サービスの混雑'),
    'serviceError': ('オンライン窓口サービスのエラー', 'オンライン窓口サービスのエラー'),
}


def title_ja(result, procedure):
    rev, val = TITLES_JA[result]
    if procedure == 'revocation':
        return rev
    if procedure == 'validity-check':
        return val
    # no endpoint: only results whose title does not depend on it
    return rev if rev == val else None


def expected_statuses(result, procedure):
    """DESIGN.md "Results": HTTP status per result and procedure."""
    rev = procedure == 'revocation'
    return {
        'accepted': {201},
        'valid': {200},
        'revoked': {409} if rev else {200},
        'revocationAccepted': {409} if rev else {200},
        'expired': {422} if rev else {200},
        'notYetValid': {200},
        'issuerMismatch': {422},
        'badCertificateSignature': {422},
        'badRequestSignature': {422},
        'malformed': {400, 413, 415, 404, 405},
        'badNonce': {400},
        'busy': {503},
        'serviceError': {500, 503},
    }[result]


# ---------------------------------------------------------------- processes

_tmpdirs = []
_procs = []


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(timeout=5)
            except Exception:
                pass
    if not KEEP:
        for d in _tmpdirs:
            shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)

# Every daemon of the process, for the privacy check at exit.
_daemons = []


def _privacy_at_exit():
    """At exit, every daemon's whole stderr (also of daemons killed or never
    stopped cleanly) must hold no holder's name, address or birth date; a
    leak fails the test file (exit status 3) even if its tests passed."""
    leaked = []
    for d in _daemons:
        try:
            text = d.stderr_text()
            found = sorted(v for v in d.pki.personal_strings() if v in text)
        except Exception:
            continue
        if found:
            leaked.append('%s: %r' % (d.name, found[:3]))
    if leaked:
        print('PRIVACY: personal data in daemon stderr: %s' % '; '.join(leaked), flush=True)
        _cleanup()
        os._exit(3)


atexit.register(_privacy_at_exit)


def make_tmpdir(prefix='mdg-e2e-'):
    d = tempfile.mkdtemp(prefix=prefix)
    _tmpdirs.append(d)
    return d


def run(cmd, timeout=60, check=False, input=None, cwd=None):
    """Runs a command, captures output; returns CompletedProcess."""
    cp = subprocess.run([str(c) for c in cmd], input=input, capture_output=True,
                        timeout=timeout, cwd=cwd)
    if check and cp.returncode != 0:
        raise RuntimeError('%s exited %d\nstdout: %s\nstderr: %s' % (
            ' '.join(str(c) for c in cmd), cp.returncode,
            cp.stdout.decode('utf-8', 'replace'), cp.stderr.decode('utf-8', 'replace')))
    return cp


_handed_out = set()


def free_port(host='127.0.0.1'):
    """A port free now and not handed out before by this process: the
    kernel may give the same ephemeral port to two binds in a row once the
    first socket is closed (a daemon's two listeners once got one port)."""
    for _ in range(64):
        s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((host, 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError('no fresh free port after 64 tries')


class PgDb(str):
    """A Daemon's database on PostgreSQL: the dsn, with the cluster and the
    database name; sqlite() below runs SQL on it through psql."""

    def __new__(cls, cluster, dbname):
        s = str.__new__(cls, cluster.dsn(dbname))
        s.cluster = cluster
        s.dbname = dbname
        return s


_HEX_RE = re.compile(r'\bhex\(([\w.]+)\)')
_BLOB_RE = re.compile(r"\bX'([0-9A-Fa-f]*)'")


def pg_sql(sql):
    """The few SQLite spellings the tests use, in PostgreSQL's."""
    if sql.strip() == '.schema':
        return ("SELECT table_name || '.' || column_name || ' ' || data_type FROM "
                "information_schema.columns WHERE table_schema = 'public' ORDER BY 1")
    if sql.strip().rstrip(';').strip().lower() == 'pragma user_version':
        return 'SELECT max(version) FROM mdg_schema_version'
    sql = sql.replace('zeroblob(32)', "decode(repeat('00', 32), 'hex')")
    sql = _HEX_RE.sub(r"upper(encode(\1, 'hex'))", sql)
    return _BLOB_RE.sub(r"'\\x\1'::bytea", sql)


def sqlite(db, sql):
    """Runs SQL with the sqlite3 CLI (or psql for a PgDb); returns stdout
    text (raises on error)."""
    if isinstance(db, PgDb):
        out = db.cluster.psql(db.dbname, pg_sql(sql))
        # psql prints booleans as t/f and columns with |, as sqlite3 does
        return '\n'.join('|'.join({'t': '1', 'f': '0'}.get(c, c) for c in line.split('|'))
                         for line in out.splitlines())
    cp = run(['sqlite3', '-cmd', '.timeout 5000', db, sql], check=True)
    return cp.stdout.decode().strip()


def sqlite_only(reason):
    """Skips a test (or class) on PostgreSQL, saying why."""
    return unittest.skipIf(ON_PG, 'on postgresql: ' + reason)


def new_pg_database():
    import pgcluster
    c = pgcluster.shared()
    return PgDb(c, c.new_database())


# ---------------------------------------------------------------- the PKI

def rdn_list(s):
    """An RFC 4514 string as a comparable list of (TYPE, value)."""
    if s is None:
        return None
    parts, cur, esc = [], '', False
    for ch in s:
        if esc:
            cur += '\\' + ch
            esc = False
        elif ch == '\\':
            esc = True
        elif ch in ',+':
            parts.append(cur)
            cur = ''
        else:
            cur += ch
    parts.append(cur)
    out = []
    for p in parts:
        k, _, v = p.strip().partition('=')
        out.append((k.strip().upper(), v.strip()))
    return out


def same_dn(a, b):
    return rdn_list(a) == rdn_list(b)


def city_of(dp):
    """The CITY of a distribution point 'C=JP,...,CN=<City> CRLDP'."""
    for k, v in rdn_list(dp):
        if k == 'CN' and v.endswith(' CRLDP'):
            return v[:-len(' CRLDP')]
    raise ValueError('no city in %r' % dp)


class PKI:
    def __init__(self, pkidir, scratch):
        """pkidir: an OUTDIR made by `mkpki gen`; scratch: this process's own
        directory for extra files."""
        self.dir = pkidir
        self.root = scratch
        with open(os.path.join(self.dir, 'manifest.json'), encoding='utf-8') as f:
            self.manifest = json.load(f)
        self.holders = self.manifest['holders']
        self.crls = self.manifest['crls']
        for h in self.holders.values():
            h['cert'] = self._path(h['cert'])
            h['key'] = self._path(h['key'])
            if h.get('signer'):
                h['signer'] = self._path(h['signer'])
        for c in self.crls.values():
            if c.get('der'):
                c['der'] = self._path(c['der'])
        self._dates = {}
        self._n = 0

    def _path(self, p):
        if os.path.isabs(p):
            return p
        for base in (self.dir, os.path.dirname(self.dir)):
            q = os.path.join(base, p)
            if os.path.exists(q):
                return q
        return os.path.join(self.dir, p)

    @property
    def anchors(self):
        return os.path.join(self.dir, 'anchors')

    def holder(self, name):
        return self.holders[name]

    def crl_file(self, name, pem=False):
        c = self.crls.get(name)
        if pem:
            if c and c.get('pem'):
                return self._path(c['pem'])
            return os.path.join(self.dir, 'crls', name + '.crl.pem')
        if c and c.get('der'):
            return c['der']
        return os.path.join(self.dir, 'crls', name + '.crl.der')

    def ca_cert(self, name):
        return os.path.join(self.dir, 'ca', name + '.cert.pem')

    def ca_key(self, name):
        return os.path.join(self.dir, 'ca', name + '.key.pem')

    def make_crl(self, ca, number, dp=None, revoke=(), this_update_hours=None,
                 next_update_hours=None, pem=False, dp_printable=False):
        """`mkpki crl`; returns the new file's path. dp_printable: the IDP
        name's values all PrintableString (the holders' is UTF8String)."""
        self._n += 1
        out = os.path.join(self.root, 'extra-%d-%s-%d.crl.%s' % (
            self._n, ca, number, 'pem' if pem else 'der'))
        cmd = [MKPKI, 'crl', self.dir, '--ca', ca, '--number', str(number)]
        if dp is not None:
            cmd += ['--dp', dp]
        if this_update_hours is not None:
            cmd += ['--this-update-hours', str(this_update_hours)]
        if next_update_hours is not None:
            cmd += ['--next-update-hours', str(next_update_hours)]
        for r in revoke:
            cmd += ['--revoke', r]
        if pem:
            cmd += ['--pem']
        if dp_printable:
            cmd += ['--dp-printable']
        cmd += ['--out', out]
        run(cmd, check=True)
        return out

    def cert_dates(self, cert):
        """(notBefore, notAfter) of a PEM certificate as aware datetimes."""
        if cert not in self._dates:
            cp = run(['openssl', 'x509', '-in', cert, '-noout', '-startdate', '-enddate'],
                     check=True)
            vals = {}
            for line in cp.stdout.decode().splitlines():
                k, _, v = line.partition('=')
                vals[k.strip()] = datetime.datetime.strptime(
                    v.strip(), '%b %d %H:%M:%S %Y GMT').replace(tzinfo=datetime.timezone.utc)
            self._dates[cert] = (vals['notBefore'], vals['notAfter'])
        return self._dates[cert]

    def personal_strings(self):
        """Every name, address and birth date of the manifest, raw and
        JSON-escaped, for the no-personal-data-in-logs check."""
        out = set()
        for h in self.holders.values():
            a = h.get('applicant') or {}
            for k in ('name', 'address', 'birthDate'):
                v = a.get(k)
                if v:
                    out.add(v)
                    out.add(json.dumps(v)[1:-1])
        return out


_shared_pki = None
PKI_CACHE_SECONDS = 20 * 60


def _mkpki_gen():
    root = make_tmpdir('mdg-e2e-pki-')
    run([MKPKI, 'gen', os.path.join(root, 'pki')], timeout=180, check=True, cwd=root)
    return os.path.join(root, 'pki')


def _cached_pki_dir():
    """`mkpki gen` takes many seconds, so the e2e files of one test run
    share one PKI: a pointer file in the temp dir, one per mkpki binary,
    names the last PKI it made; reused for PKI_CACHE_SECONDS (the PKI's
    times are relative to its making).  Cache dirs older than two hours are
    removed.  MDG_E2E_PKI_CACHE=0 turns this off."""
    st = os.stat(MKPKI)
    sig = '%s:%d:%d' % (os.path.realpath(MKPKI), st.st_size, st.st_mtime_ns)
    tmpdir = tempfile.gettempdir()
    pointer = os.path.join(tmpdir, 'mdg-e2e-pki-cache.%d.%s.json' % (
        os.getuid(), hashlib.sha256(sig.encode()).hexdigest()[:16]))
    for name in os.listdir(tmpdir):
        p = os.path.join(tmpdir, name)
        try:
            if name.startswith('mdg-e2e-pkicache-') and time.time() - os.stat(p).st_mtime > 7200:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass
    try:
        with open(pointer, encoding='utf-8') as f:
            c = json.load(f)
        if (c.get('sig') == sig and time.time() - c.get('made', 0) < PKI_CACHE_SECONDS
                and os.path.exists(os.path.join(c['dir'], 'manifest.json'))):
            return c['dir']
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    root = tempfile.mkdtemp(prefix='mdg-e2e-pkicache-')
    run([MKPKI, 'gen', os.path.join(root, 'pki')], timeout=180, check=True, cwd=root)
    tmp = pointer + '.%d' % os.getpid()
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump({'sig': sig, 'made': time.time(), 'dir': os.path.join(root, 'pki')}, f)
    os.replace(tmp, pointer)
    return os.path.join(root, 'pki')


def shared_pki():
    """One PKI per test process (see _cached_pki_dir)."""
    global _shared_pki
    if _shared_pki is None:
        if os.environ.get('MDG_E2E_PKI_CACHE', '1') == '0':
            pkidir = _mkpki_gen()
        else:
            pkidir = _cached_pki_dir()
        _shared_pki = PKI(pkidir, make_tmpdir('mdg-e2e-scratch-'))
    return _shared_pki


# ---------------------------------------------------------------- requests

class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers    # dict, lower-case names
        self.body = body
        try:
            self.json = json.loads(body.decode('utf-8'))
        except Exception:
            self.json = None

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    @property
    def result(self):
        return self.json.get('result') if isinstance(self.json, dict) else None

    def __repr__(self):
        return 'HTTP %d %s %s' % (self.status, self.headers.get('content-type'),
                                  self.body[:600].decode('utf-8', 'replace'))


def http_request(port, method, path, body=None, headers=None, timeout=30):
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        hdrs = {}
        for k, v in r.getheaders():
            k = k.lower()
            hdrs[k] = hdrs[k] + ', ' + v if k in hdrs else v
        return Answer(r.status, hdrs, data)
    finally:
        conn.close()


def parse_raw_response(data):
    head, sep, body = data.partition(b'\r\n\r\n')
    if not sep:
        raise AssertionError('no complete HTTP response: %r' % data[:300])
    lines = head.decode('latin-1').split('\r\n')
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(':')
        hdrs[k.strip().lower()] = v.strip()
    if 'content-length' in hdrs:
        body = body[:int(hdrs['content-length'])]
    elif hdrs.get('transfer-encoding', '').lower() == 'chunked':
        out, rest = b'', body
        while rest:
            size_line, _, rest = rest.partition(b'\r\n')
            n = int(size_line.split(b';')[0], 16)
            if n == 0:
                break
            out += rest[:n]
            rest = rest[n + 2:]
        body = out
    return Answer(status, hdrs, body)


def recv_response(sock, timeout=15):
    """Reads one HTTP response from a raw socket (bounded)."""
    sock.settimeout(timeout)
    data = b''
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
        head, sep, body = data.partition(b'\r\n\r\n')
        if sep:
            m = re.search(rb'(?im)^content-length:\s*(\d+)', head)
            if m and len(body) >= int(m.group(1)):
                break
    return parse_raw_response(data)


def raw_exchange(port, data, timeout=15):
    """Sends raw bytes (tolerating the server closing early) and reads the
    response."""
    s = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return recv_response(s, timeout)
    finally:
        s.close()


def make_form(procedure, applicant, nonce, reason=None):
    form = {'procedure': procedure, 'applicant': applicant, 'nonce': nonce}
    if reason is not None:
        form['reason'] = reason
    return json.dumps(form, ensure_ascii=False).encode('utf-8')


_sign_dir = None


def sign(form_bytes, cert, key, extra_args=(), md='sha256', outform='DER',
         nodetach=True, signers=None):
    """`openssl cms -sign`; returns the output bytes.  signers: optional list
    of (cert, key) to sign with instead of one."""
    global _sign_dir
    if _sign_dir is None:
        _sign_dir = make_tmpdir('mdg-e2e-sign-')
    fd, path = tempfile.mkstemp(dir=_sign_dir, suffix='.json')
    with os.fdopen(fd, 'wb') as f:
        f.write(form_bytes)
    cmd = ['openssl', 'cms', '-sign', '-binary', '-outform', outform]
    if nodetach:
        cmd.append('-nodetach')
    for c, k in (signers or [(cert, key)]):
        cmd += ['-signer', c, '-inkey', k]
    if md and '-md' not in extra_args:
        cmd += ['-md', md]
    cmd += list(extra_args)
    cmd += ['-in', path]
    try:
        cp = run(cmd, check=True)
    finally:
        os.unlink(path)
    return cp.stdout


def sign_as(h, form_bytes, extra_args=(), **kw):
    """Signs as a manifest holder.  A holder whose key is not its
    certificate's (wrongkey) has a "signer" twin: a certificate with the
    same issuer and serial carrying that key, which openssl needs to sign;
    the request then carries the real certificate."""
    if h.get('signer'):
        return sign(form_bytes, h['signer'], h['key'],
                    extra_args=['-nocerts', '-certfile', h['cert']] + list(extra_args), **kw)
    return sign(form_bytes, h['cert'], h['key'], extra_args=extra_args, **kw)


# ---------------------------------------------------------------- DER bits

def der_header(buf, off):
    """(tag, header length, content length) at off; raises on indefinite."""
    tag = buf[off]
    n = buf[off + 1]
    if n < 0x80:
        return tag, 2, n
    k = n & 0x7f
    if k == 0:
        raise ValueError('indefinite length')
    return tag, 2 + k, int.from_bytes(buf[off + 2:off + 2 + k], 'big')


def der_children(content):
    out, off = [], 0
    while off < len(content):
        tag, hl, ln = der_header(content, off)
        out.append((tag, content[off:off + hl + ln]))
        off += hl + ln
    return out


def der_content(tlv):
    _, hl, ln = der_header(tlv, 0)
    return tlv[hl:hl + ln]


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, 'big')
    return bytes([0x80 | len(b)]) + b


def der_tlv(tag, content):
    return bytes([tag]) + der_len(len(content)) + content


def cms_insert_crls(cms_der, crl_der):
    """Adds `crls [1] IMPLICIT` holding crl_der to a SignedData ContentInfo."""
    ci = der_children(der_content(cms_der))
    oid, explicit = ci[0][1], ci[1][1]
    sd = der_content(der_content(explicit))
    kids = [t for _, t in der_children(sd)]
    kids.insert(len(kids) - 1, der_tlv(0xA1, crl_der))
    sd_new = der_tlv(0x30, b''.join(kids))
    return der_tlv(0x30, oid + der_tlv(0xA0, sd_new))


def pem_to_der(path):
    with open(path, 'rb') as f:
        return pem_bytes_to_der(f.read())


def pem_bytes_to_der(data):
    if b'-----BEGIN' not in data:
        return data
    b64 = b''.join(l for l in data.splitlines() if l and not l.startswith(b'-----'))
    return base64.b64decode(b64)


# ---------------------------------------------------------------- time

def parse_time(s):
    return datetime.datetime.fromisoformat(s)


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def wareki(d):
    """The contract's wareki string of a Gregorian date (after 1873)."""
    eras = [(datetime.date(2019, 5, 1), '令和'), (datetime.date(1989, 1, 8), '平成'),
            (datetime.date(1926, 12, 25), '昭和'), (datetime.date(1912, 7, 30), '大正'),
            (datetime.date(1868, 10, 23), '明治')]
    for start, name in eras:
        if d >= start:
            y = d.year - start.year + 1
            return '%s%s年%02d月%02d日' % (name, '元' if y == 1 else str(y), d.month, d.day)
    raise ValueError(d)


def expected_effective_from(accepted_at, issue_hour=0, issue_minute=0, cutoff=3600):
    """The first crl_issue_time (JST) at least crl_cutoff after accepted_at."""
    t = (accepted_at + datetime.timedelta(seconds=cutoff)).astimezone(JST)
    cand = t.replace(hour=issue_hour, minute=issue_minute, second=0, microsecond=0)
    if cand < t:
        cand += datetime.timedelta(days=1)
    return cand


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))


def b64url_encode(b):
    return base64.urlsafe_b64encode(b).decode().rstrip('=')


# ---------------------------------------------------------------- the daemon

class Daemon:
    """A config, a database and a madoguchid process."""

    def __init__(self, pki, name='d', server=None, pki_opts=None, store=None,
                 admin=None, crls=DEFAULT_CRLS, init_db=True, nonce_key=None,
                 database=None, workdir=None, extra_text=''):
        self.pki = pki
        _daemons.append(self)
        self.dir = workdir or make_tmpdir('mdg-e2e-%s-' % name)
        self.name = name
        self.port = free_port()
        self.admin_port = free_port()
        if database is None and ON_PG and 'backend' not in (store or {}):
            database = new_pg_database()
        self.db = database or os.path.join(self.dir, 'm.db')
        self.nonce_key = nonce_key or os.path.join(self.dir, 'nonce.key')
        self.config = os.path.join(self.dir, 'madoguchi.conf')
        self.stderr_path = os.path.join(self.dir, 'stderr.log')
        self.stdout_path = os.path.join(self.dir, 'stdout.log')
        self.sections = {
            'server': {'listen': '127.0.0.1', 'port': str(self.port), 'threads': '2',
                       'max_inflight': '256', 'max_body': '65536'},
            'pki': {'anchors': pki.anchors, 'nonce_key_file': self.nonce_key},
            'store': ({'backend': 'postgresql', 'dsn': str(self.db)} if isinstance(self.db, PgDb)
                      else {'database': self.db}),
            'admin': {'listen': '127.0.0.1', 'port': str(self.admin_port)},
        }
        for sec, over in (('server', server), ('pki', pki_opts), ('store', store),
                          ('admin', admin)):
            for k, v in (over or {}).items():
                if v is None:
                    self.sections[sec].pop(k, None)
                else:
                    self.sections[sec][k] = str(v)
        self.write_config(extra_text)
        self.proc = None
        if init_db:
            self.admin_ok('db', 'init')
            if crls:
                self.admin_ok('crl', 'import', *[pki.crl_file(c) for c in crls])

    def write_config(self, extra_text=''):
        with open(self.config, 'w', encoding='utf-8') as f:
            for sec, kv in self.sections.items():
                f.write('[%s]\n' % sec)
                for k, v in kv.items():
                    f.write('%s = %s\n' % (k, v))
                f.write('\n')
            f.write(extra_text)

    def admin(self, *args, timeout=60):
        return run([ADMIN, '--config', self.config] + list(args), timeout=timeout)

    def admin_ok(self, *args):
        cp = self.admin(*args)
        if cp.returncode != 0:
            raise RuntimeError('madoguchi-admin %s exited %d: %s %s' % (
                ' '.join(args), cp.returncode, cp.stdout.decode('utf-8', 'replace'),
                cp.stderr.decode('utf-8', 'replace')))
        return cp

    # -- process

    def spawn(self, *extra):
        self._err = open(self.stderr_path, 'ab')
        self._out = open(self.stdout_path, 'ab')
        self.proc = subprocess.Popen([DAEMON, '--config', self.config] + list(extra),
                                     stdout=self._out, stderr=self._err,
                                     stdin=subprocess.DEVNULL)
        _procs.append(self.proc)
        return self.proc

    def start(self, timeout=10):
        self.spawn()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('madoguchid exited %d at start: %s' % (
                    self.proc.returncode, self.stderr_text()[-3000:]))
            try:
                a = http_request(self.port, 'GET', '/healthz', timeout=2)
                if a.status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError('madoguchid not healthy within %ds: %s' % (
            timeout, self.stderr_text()[-3000:]))

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def terminate(self, timeout=10):
        """SIGTERM; returns the exit status (None if it did not stop)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        finally:
            for f in (self._err, self._out):
                f.close()
        return rc

    def stop_and_check(self):
        """SIGTERM, expect exit 0 within a few seconds, then check stderr:
        JSON lines and no personal data from the manifest."""
        if self.proc is None:
            return
        rc = self.terminate(timeout=10)
        self.proc = None
        problems = []
        if rc is None:
            problems.append('did not exit within 10 s of SIGTERM')
        elif rc != 0:
            problems.append('exited %s after SIGTERM' % rc)
        problems += self.log_problems()
        if problems:
            raise AssertionError('madoguchid (%s): %s\nstderr tail:\n%s' % (
                self.name, '; '.join(problems), self.stderr_text()[-2000:]))

    def stderr_text(self):
        try:
            with open(self.stderr_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except FileNotFoundError:
            return ''

    def log_lines(self):
        out = []
        for line in self.stderr_text().splitlines():
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    out.append(line)
        return out

    def request_log(self, request_id, timeout=5):
        """The log line of one request; it is written when the exchange
        completes, just after the answer is sent, so wait a little."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in self.log_lines():
                if isinstance(line, dict) and line.get('requestId') == request_id:
                    return line
            time.sleep(0.05)
        raise AssertionError('no daemon log line for request %s' % request_id)

    def revoke_all(self, holders):
        """Revokes each (holder, reason); every one must be accepted.
        Returns {holder: the answer's JSON}."""
        out = {}
        for h, reason in holders:
            a = self.submit(h, 'revocation', reason=reason)
            if a.result != 'accepted':
                raise AssertionError('setup: %s not accepted: %r' % (h, a))
            out[h] = a.json
        return out

    def log_problems(self):
        problems = []
        text = self.stderr_text()
        bad = [l for l in self.log_lines() if not isinstance(l, dict)]
        if bad:
            problems.append('%d stderr line(s) are not JSON objects, e.g. %r' % (len(bad), bad[0][:200]))
        leaked = sorted(s for s in self.pki.personal_strings() if s in text)
        if leaked:
            problems.append('personal data in stderr: %r' % leaked[:3])
        serials = sorted(h['serial'] for h in self.pki.holders.values()
                         if len(h['serial']) >= 8 and h['serial'] in text)
        if serials:
            problems.append('certificate serials in stderr: %r' % serials[:3])
        issuers = sorted({h['issuer'] for h in self.pki.holders.values()
                          if h.get('issuer') and h['issuer'] in text})
        if issuers:
            problems.append('issuer names in stderr: %r' % issuers[:2])
        return problems

    # -- HTTP

    def request(self, method, path, body=None, headers=None, timeout=30):
        return http_request(self.port, method, path, body, headers, timeout)

    def get(self, path, headers=None):
        return self.request('GET', path, None, headers)

    def post(self, path, body, content_type='application/pkcs7-mime', headers=None):
        h = {'Content-Type': content_type} if content_type is not None else {}
        h.update(headers or {})
        return self.request('POST', path, body, h)

    def get_nonce(self):
        a = self.get('/v1/nonce')
        if a.status != 200 or not isinstance(a.json, dict) or 'nonce' not in a.json:
            raise AssertionError('GET /v1/nonce: %r' % a)
        return a.json['nonce']

    def signed(self, holder, procedure, reason=None, nonce=None, applicant=None,
               form=None, **kw):
        """A signed request body for a manifest holder."""
        h = self.pki.holder(holder) if isinstance(holder, str) else holder
        if applicant is None:
            # a certificate without facts: send a well-formed form anyway
            applicant = h['applicant'] or PLACEHOLDER_APPLICANT
        if form is None:
            form = make_form(procedure, applicant, nonce or self.get_nonce(), reason)
        return sign_as(h, form, **kw)

    def submit(self, holder, procedure, reason=None, nonce=None, applicant=None,
               headers=None, endpoint=None, form=None, content_type='application/pkcs7-mime',
               **kw):
        body = self.signed(holder, procedure, reason, nonce, applicant, form, **kw)
        return self.post(endpoint or ENDPOINT[procedure], body, content_type, headers)

    def acceptance_count(self):
        return int(sqlite(self.db, 'SELECT count(*) FROM acceptances;'))


# ---------------------------------------------------------------- test base

class DaemonCase(unittest.TestCase):
    """One daemon per test class (the PKI is shared by the whole file)."""
    maxDiff = 4000
    server = None
    pki_opts = None
    crls = DEFAULT_CRLS

    @classmethod
    def setUpClass(cls):
        cls.pki = shared_pki()
        cls.daemon = Daemon(cls.pki, name=cls.__name__, server=cls.server,
                            pki_opts=cls.pki_opts, crls=cls.crls)
        cls.daemon.start()

    @classmethod
    def tearDownClass(cls):
        d = getattr(cls, 'daemon', None)
        if d is not None:
            d.stop_and_check()

    # -- assertions

    def assertAnswer(self, a, result, procedure, status=None, lang='ja'):
        """The members every answer has (DESIGN.md "Every answer")."""
        ctx = '%s %s: %r' % (procedure, result, a)
        self.assertIsInstance(a.json, dict, ctx)
        j = a.json
        self.assertEqual(j.get('result'), result, ctx)
        if status is not None:
            self.assertEqual(a.status, status, ctx)
        self.assertIn(a.status, expected_statuses(result, procedure), ctx)
        if procedure is not None:
            self.assertEqual(j.get('procedure'), procedure, ctx)
        self.assertIsInstance(j.get('requestId'), str, ctx)
        self.assertTrue(j['requestId'], ctx)
        self.assertIn('no-store', a.header('cache-control', ''), ctx)
        ct = a.header('content-type', '').split(';')[0].strip().lower()
        if a.status >= 400:
            self.assertEqual(ct, 'application/problem+json', ctx)
            self.assertEqual(j.get('type'), 'urn:madoguchi:result:' + result, ctx)
            self.assertEqual(j.get('status'), a.status, ctx)
        else:
            self.assertEqual(ct, 'application/json', ctx)
        i18n = j.get('i18n')
        self.assertIsInstance(i18n, dict, ctx)
        for l in ('ja', 'en'):
            self.assertIsInstance(i18n.get(l), dict, ctx)
            for k in ('title', 'detail'):
                self.assertIsInstance(i18n[l].get(k), str, ctx)
                self.assertTrue(i18n[l][k], ctx)
        want = title_ja(result, procedure)
        if want is not None:
            self.assertEqual(i18n['ja']['title'], want, ctx)
        self.assertEqual(j.get('title'), i18n[lang]['title'], ctx)
        self.assertEqual(j.get('detail'), i18n[lang]['detail'], ctx)
        if a.status == 503:
            self.assertRegex(a.header('retry-after', ''), r'^\d+$', ctx)
        return j

    def assertCertificate(self, a, holder):
        h = self.pki.holder(holder) if isinstance(holder, str) else holder
        c = a.json.get('certificate')
        ctx = repr(a)
        self.assertIsInstance(c, dict, ctx)
        self.assertEqual(c.get('serial'), h['serial'], ctx)
        self.assertTrue(same_dn(c.get('issuer'), h['issuer']),
                        '%r vs manifest %r' % (c.get('issuer'), h['issuer']))
        nb, na = self.pki.cert_dates(h['cert'])
        for k, want in (('notBefore', nb), ('notAfter', na)):
            self.assertRegex(c.get(k, ''), RFC3339_RE, ctx)
            self.assertEqual(parse_time(c[k]), want, ctx)

    def assertRecentTime(self, s, slack=120, ctx=''):
        self.assertRegex(s or '', RFC3339_RE, ctx)
        dt = parse_time(s)
        self.assertLess(abs((dt - now()).total_seconds()), slack, ctx)
        return dt

    def assertAccepted(self, a, ctx=''):
        j = a.json
        self.assertRegex(j.get('receiptId', ''), RECEIPT_RE, ctx)
        acc = self.assertRecentTime(j.get('acceptedAt'), ctx=ctx)
        self.assertRegex(j.get('effectiveFrom', ''), RFC3339_RE, ctx)
        self.assertEqual(parse_time(j['effectiveFrom']), expected_effective_from(acc), ctx)
        return j['receiptId'], j['acceptedAt'], j['effectiveFrom']


def main():
    unittest.main(verbosity=2)
