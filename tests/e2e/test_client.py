"""madoguchi-client end to end: SoftHSM tokens holding test-PKI keys (token
"JPKI", key "Digital Signature Key"), PEM and PKCS#12 files, the real
daemon; every client-side state's screen and exit status (docs/client.md),
and --json printing the server's answer byte for byte."""

import glob
import http.client
import http.server
import json
import os
import pty
import select
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
import unittest

import harness

CLIENT = os.environ.get('MDG_CLIENT')
SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so'
PIN = '123456'  # the JPKI signing password is 6-16 letters and digits (issue 16)
SO_PIN = '12345678'
KEY_LABEL = 'Digital Signature Key'

# docs/client.md "Exit status"
EXIT = {'accepted': 0, 'valid': 0, 'revoked': 10, 'revocationAccepted': 11, 'expired': 12,
        'notYetValid': 13, 'issuerMismatch': 14, 'badCertificateSignature': 15,
        'badRequestSignature': 16, 'malformed': 17, 'badNonce': 18, 'busy': 19,
        'serviceError': 20,
        'usage': 2, 'cancelled': 3, 'cardNotReady': 30, 'unexpectedError': 31,
        'pinIncorrect': 32, 'pinLocked': 33, 'importError': 34, 'certificateExpired': 35,
        'networkError': 40, 'badAnswer': 41, 'serverCertificateNotVerified': 40, 'pinFormat': 36}

# PKCS#11 token flags (CK_TOKEN_INFO.flags) and SoftHSM's vendor attribute
# that stores them in its token.object file
CKF_USER_PIN_FINAL_TRY = 0x00020000
CKF_USER_PIN_LOCKED = 0x00040000
CKA_OS_TOKENFLAGS = 0x8000534B


def require_tools():
    """Nothing is skipped silently: a missing tool fails the test."""
    missing = [t for t in ('softhsm2-util', 'pkcs11-tool', 'openssl') if shutil.which(t) is None]
    if not os.path.exists(SOFTHSM_MODULE):
        missing.append(SOFTHSM_MODULE)
    if not CLIENT or not os.path.exists(CLIENT):
        missing.append('MDG_CLIENT (madoguchi-client)')
    return missing


class Token:
    """A SoftHSM token directory of its own (SOFTHSM2_CONF points at it)."""

    def __init__(self, holder=None, label='JPKI', key=True, cert=True, init=True):
        self.dir = harness.make_tmpdir('mdg-e2e-softhsm-')
        self.conf = os.path.join(self.dir, 'softhsm2.conf')
        os.makedirs(os.path.join(self.dir, 'tokens'))
        with open(self.conf, 'w') as f:
            f.write('directories.tokendir = %s\nobjectstore.backend = file\n'
                    'log.level = ERROR\nslots.removable = false\n' % os.path.join(self.dir, 'tokens'))
        self.env = dict(os.environ, SOFTHSM2_CONF=self.conf)
        self.env.pop('MADOGUCHI_PIN', None)
        if init:
            self.tool(['softhsm2-util', '--init-token', '--free', '--label', label,
                       '--so-pin', SO_PIN, '--pin', PIN])
        if holder is not None and key:
            k8 = os.path.join(self.dir, 'key.p8.pem')
            self.tool(['openssl', 'pkcs8', '-topk8', '-nocrypt', '-in', holder['key'], '-out', k8])
            self.tool(['softhsm2-util', '--import', k8, '--token', label, '--label', KEY_LABEL,
                       '--id', '02', '--pin', PIN])
        if holder is not None and cert:
            der = os.path.join(self.dir, 'cert.der')
            with open(der, 'wb') as f:
                f.write(harness.pem_to_der(holder['cert']))
            self.tool(['pkcs11-tool', '--module', SOFTHSM_MODULE, '--token-label', label, '--login',
                       '--pin', PIN, '--write-object', der, '--type', 'cert', '--id', '02',
                       '--label', 'Digital Signature Certificate'])

    def tool(self, cmd):
        cp = subprocess.run(cmd, env=self.env, capture_output=True, timeout=30)
        if cp.returncode != 0:
            raise RuntimeError('%s: %s %s' % (' '.join(cmd), cp.stdout, cp.stderr))
        return cp

    def set_flags(self, flags):
        """Sets token flags as the token reports them (C_GetTokenInfo):
        SoftHSM keeps them in token.object as (type, kind, value), each a
        64-bit big-endian word; it does not count tries itself."""
        path, = glob.glob(os.path.join(self.dir, 'tokens', '*', 'token.object'))
        with open(path, 'rb') as f:
            data = bytearray(f.read())
        i = data.find(struct.pack('>Q', CKA_OS_TOKENFLAGS))
        if i < 0:
            raise AssertionError('no CKA_OS_TOKENFLAGS in %s' % path)
        kind, value = struct.unpack('>QQ', data[i + 8:i + 24])
        if kind != 2:
            raise AssertionError('unexpected attribute kind %d' % kind)
        data[i + 16:i + 24] = struct.pack('>Q', value | flags)
        with open(path, 'wb') as f:
            f.write(data)


class Recorder:
    """A loopback HTTP relay in front of the daemon that keeps the exact
    bytes of every answer body, to compare with --json output."""

    def __init__(self, port):
        bodies = self.bodies = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def relay(self, method):
                n = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(n) if n else None
                hdrs = {k: v for k, v in self.headers.items()
                        if k.lower() in ('content-type', 'accept-language')}
                c = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
                try:
                    c.request(method, self.path, body=body, headers=hdrs)
                    r = c.getresponse()
                    data = r.read()
                    bodies.append((self.path, data))
                    self.send_response(r.status)
                    for k, v in r.getheaders():
                        if k.lower() not in ('transfer-encoding', 'connection', 'content-length'):
                            self.send_header(k, v)
                    self.send_header('Content-Length', str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    c.close()

            def do_GET(self):
                self.relay('GET')

            def do_POST(self):
                self.relay('POST')

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class ClientCase(harness.DaemonCase):

    @classmethod
    def setUpClass(cls):
        missing = require_tools()
        if missing:
            raise AssertionError('missing for the client tests: %s' % ', '.join(missing))
        super().setUpClass()

    def url(self):
        return 'http://127.0.0.1:%d/' % self.daemon.port

    def client(self, command, *args, env=None, pin=PIN, stdin=None, yes=True, url=None):
        cmd = [CLIENT, command, '--url', url or self.url()] + list(args)
        if yes:
            cmd.append('--yes')
        e = dict(env if env is not None else os.environ)
        if pin is None:
            e.pop('MADOGUCHI_PIN', None)
        else:
            e['MADOGUCHI_PIN'] = pin
        cp = subprocess.run(cmd, env=e, input=stdin if stdin is not None else b'',
                            capture_output=True, timeout=60)
        cp.out = cp.stdout.decode('utf-8', 'replace')
        cp.err = cp.stderr.decode('utf-8', 'replace')
        cp.ctx = 'exit %d\nstdout:\n%s\nstderr:\n%s' % (cp.returncode, cp.out[-3000:], cp.err[-1500:])
        return cp

    def token_client(self, token, command, *args, **kw):
        return self.client(command, '--pkcs11-module', SOFTHSM_MODULE, *args, env=token.env, **kw)

    def pem_client(self, holder, command, *args, **kw):
        h = self.pki.holder(holder)
        return self.client(command, '--cert', h['cert'], '--key', h['key'], *args, **kw)

    def posts(self):
        return [l for l in self.daemon.log_lines()
                if isinstance(l, dict) and l.get('method') == 'POST']

    def assertScreen(self, cp, state, *texts):
        self.assertEqual(cp.returncode, EXIT[state], cp.ctx)
        for t in texts:
            self.assertIn(t, cp.out, cp.ctx)
        assertDetailsInTheirLanguage(self, cp.out + cp.err, cp.ctx)


def assertDetailsInTheirLanguage(case, text, ctx=''):
    """Issue 16: a Japanese screen's 詳細 line is Japanese (paths, labels and
    CKR names may appear in it), an English screen's Detail line English."""
    for line in text.splitlines():
        if line.startswith('詳細: ') or line.startswith('ICカードの応答: '):
            case.assertTrue(any(ord(ch) >= 0x3000 for ch in line.split(': ', 1)[1]),
                            'an English detail on a Japanese screen: %r\n%s' % (line, ctx))
        if line.startswith('Detail: ') or line.startswith('The token says: '):
            case.assertFalse(any(ord(ch) >= 0x3000 for ch in line), 'Japanese on an English screen: %r' % line)


class TokenFlow(ClientCase):
    """A token holding a test-PKI key: valid, then accepted."""

    def test_valid_then_accepted_then_repeated(self):
        h = self.pki.holder('valid-03')
        tok = Token(h)
        before = self.daemon.acceptance_count()
        cp = self.token_client(tok, 'check')
        self.assertScreen(cp, 'valid', 'オンライン有効性確認結果通知:有効', 'ログイン', '取込み情報の確認',
                          '署名確認', '送信確認', h['applicant']['name'], h['applicant']['address'],
                          harness.wareki(harness.datetime.date.fromisoformat(h['applicant']['birthDate'])),
                          '地方公共団体情報システム機構 殿')
        # issue 16: the holder reads the form, not its JSON or the nonce
        self.assertNotIn(json.dumps(h['applicant'], ensure_ascii=False, separators=(',', ':')), cp.out, cp.ctx)
        self.assertNotIn('"nonce"', cp.out, cp.ctx)
        cp = self.token_client(tok, 'revoke', '--reason', 'keyCompromise')
        self.assertScreen(cp, 'accepted', 'オンライン失効申請の受理通知', '受理番号', '失効する日時')
        self.assertEqual(self.daemon.acceptance_count(), before + 1)
        # the evidence is the token's signature: verifies with the certificate
        ev = harness.sqlite(self.daemon.db, 'SELECT hex(request) FROM acceptances ORDER BY seq DESC LIMIT 1;')
        d = harness.make_tmpdir('mdg-e2e-evidence-')
        with open(os.path.join(d, 'ev.der'), 'wb') as f:
            f.write(bytes.fromhex(ev))
        v = harness.run(['openssl', 'cms', '-verify', '-binary', '-noverify', '-inform', 'DER',
                         '-in', os.path.join(d, 'ev.der'), '-certfile', h['cert']])
        self.assertEqual(v.returncode, 0, v.stderr)
        form = json.loads(v.stdout.decode('utf-8'))
        self.assertEqual(form['applicant'], h['applicant'])
        self.assertEqual(form['reason'], 'keyCompromise')
        cp = self.token_client(tok, 'revoke', '--lang', 'en')
        self.assertScreen(cp, 'revocationAccepted', 'Duplicate revocation request for the same certificate',
                          'Receipt:')
        cp = self.token_client(tok, 'check', '--lang', 'en')
        self.assertScreen(cp, 'revocationAccepted',
                          'Result of the online validity check: online revocation already accepted')

    def test_json_is_the_servers_answer_byte_for_byte(self):
        h = self.pki.holder('valid-06')
        tok = Token(h)
        rec = Recorder(self.daemon.port)
        try:
            url = 'http://127.0.0.1:%d' % rec.port
            for cmd in ('check', 'revoke'):
                cp = self.token_client(tok, cmd, '--json', url=url)
                posted = [b for p, b in rec.bodies if p.startswith('/v1/') and p != '/v1/nonce']
                self.assertTrue(posted, cp.ctx)
                self.assertEqual(cp.stdout, posted[-1], cp.ctx)
                want = 'valid' if cmd == 'check' else 'accepted'
                self.assertEqual(json.loads(cp.stdout)['result'], want)
                self.assertEqual(cp.returncode, EXIT[want], cp.ctx)
                # the screens went to stderr, stdout holds the JSON alone
                self.assertIn('送信確認', cp.err)
        finally:
            rec.close()

    def test_confirmations_without_yes(self):
        h = self.pki.holder('valid-07')
        tok = Token(h)
        n = len(self.posts())
        # declines at the signature step: nothing is signed or sent
        # (revoke asks the reason after reading the card: an empty line is the default)
        cp = self.token_client(tok, 'revoke', stdin=b'y\n\nn\n', yes=False)
        self.assertScreen(cp, 'cancelled', '申請中止', '何も送信していません')
        self.assertNotIn('署名確認', cp.out, cp.ctx)
        # declines at the send step
        cp = self.token_client(tok, 'revoke', stdin=b'y\n\ny\ny\nn\n', yes=False)
        self.assertScreen(cp, 'cancelled', '送信確認', '何も送信していません')
        self.assertEqual(len(self.posts()), n, 'a cancelled request reached the window')
        # end of input is "no"
        cp = self.token_client(tok, 'check', yes=False)
        self.assertScreen(cp, 'cancelled', '確認中止')
        # yes to every step
        cp = self.token_client(tok, 'check', stdin=b'y\ny\ny\ny\n', yes=False)
        self.assertScreen(cp, 'valid', 'オンライン有効性確認結果通知:有効')

    def test_pin_file(self):
        h = self.pki.holder('valid-08')
        tok = Token(h)
        pf = os.path.join(tok.dir, 'pin')
        with open(pf, 'w') as f:
            f.write(PIN + '\n')
        cp = self.token_client(tok, 'check', '--pin-file', pf, pin=None)
        self.assertScreen(cp, 'valid', 'オンライン有効性確認結果通知:有効')
        # no PIN source and no terminal: a usage error, the token untouched
        cp = subprocess.run(['setsid', CLIENT, 'check', '--url', self.url(), '--pkcs11-module',
                             SOFTHSM_MODULE, '--yes'], env=tok.env, capture_output=True,
                            stdin=subprocess.DEVNULL, timeout=30)
        self.assertEqual(cp.returncode, EXIT['usage'], cp.stdout.decode()[-2000:])
        self.assertIn('MADOGUCHI_PIN', cp.stdout.decode(), cp.stdout.decode()[-2000:])


    def test_pin_at_the_terminal_without_echo(self):
        """The PIN typed at a terminal is not echoed; a wrong one may be
        typed again."""
        tok = Token(self.pki.holder('valid-25'))
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.execve(CLIENT, [CLIENT, 'check', '--url', self.url(), '--yes',
                                   '--pkcs11-module', SOFTHSM_MODULE], tok.env)
            finally:
                os._exit(127)
        out = b''

        def wait_for(needle, start=0, timeout=20):
            nonlocal out
            deadline = time.time() + timeout
            while needle.encode() not in out[start:]:
                left = deadline - time.time()
                if left <= 0 or not select.select([fd], [], [], left)[0]:
                    raise AssertionError('no %r on the terminal: %s' % (needle, out.decode('utf-8', 'replace')))
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    chunk = b''
                if not chunk:
                    raise AssertionError('client ended before %r: %s' % (needle, out.decode('utf-8', 'replace')))
                out += chunk
            return len(out)
        status = None
        try:
            wait_for('(入力は表示されません): ')
            os.write(fd, b'987654\n')
            mark = wait_for('もう一度入力しますか? [y/N] ')
            os.write(fd, b'y\n')
            wait_for('(入力は表示されません): ', mark)
            self.assertIn('ログイン', out[mark:].decode('utf-8', 'replace'))
            os.write(fd, PIN.encode() + b'\n')
            wait_for('オンライン有効性確認結果通知:有効', mark)
            deadline = time.time() + 20
            while status is None and time.time() < deadline:
                try:
                    while select.select([fd], [], [], 0.1)[0]:
                        chunk = os.read(fd, 65536)
                        if not chunk:
                            break
                        out += chunk
                except OSError:
                    pass
                done, st = os.waitpid(pid, os.WNOHANG)
                if done:
                    status = st
        finally:
            if status is None:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            os.close(fd)
        self.assertIsNotNone(status, 'the client did not end')
        text = out.decode('utf-8', 'replace')
        self.assertIn('CKR_PIN_INCORRECT', text)
        self.assertNotIn('987654', text, 'the wrong PIN was echoed')
        self.assertNotIn(PIN + '\r', text, 'the PIN was echoed')
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, text[-2000:])


class TokenStates(ClientCase):
    """The manual's client-side errors, each with its screen and status; none
    of them sends anything to the window."""

    def tearDown(self):
        self.assertEqual(self.posts(), [], 'a client-side error reached the window')

    def test_wrong_pin(self):
        tok = Token(self.pki.holder('valid-09'))
        cp = self.token_client(tok, 'check', pin='999999')
        # SoftHSM does not count tries but sets CKF_USER_PIN_COUNT_LOW
        self.assertScreen(cp, 'pinIncorrect', 'パスワード確認失敗', 'CKR_PIN_INCORRECT',
                          '残り回数が少なくなっている')
        cp = self.token_client(tok, 'check', '--lang', 'en', pin='000000')
        self.assertScreen(cp, 'pinIncorrect', 'Wrong password', 'The token says: login: CKR_PIN_INCORRECT')

    def test_final_try_reported(self):
        tok = Token(self.pki.holder('valid-09'))
        tok.set_flags(CKF_USER_PIN_FINAL_TRY)
        cp = self.token_client(tok, 'check', pin='999999')
        self.assertScreen(cp, 'pinIncorrect', 'CKR_PIN_INCORRECT', 'あと1回です')

    def test_locked_token(self):
        tok = Token(self.pki.holder('valid-10'))
        tok.set_flags(CKF_USER_PIN_LOCKED)
        for cmd, words in (('check', '有効性確認を行うことはできません'), ('revoke', '失効申請を行うことはできません')):
            cp = self.token_client(tok, cmd)
            self.assertScreen(cp, 'pinLocked', 'パスワードロック', '市区町村の窓口', words,
                              'CKF_USER_PIN_LOCKED')
            self.assertNotIn('ログイン', cp.out, 'a locked token must not be offered the PIN')
        cp = self.token_client(tok, 'check', '--lang', 'en')
        self.assertScreen(cp, 'pinLocked', 'Password locked', 'municipal office')

    def test_missing_token(self):
        tok = Token(self.pki.holder('valid-11'))
        cp = self.token_client(tok, 'check', '--token-label', 'NOT-JPKI')
        self.assertScreen(cp, 'cardNotReady', 'ICカード準備エラー', 'NOT-JPKI')
        empty = Token(None, init=False)
        cp = self.token_client(empty, 'revoke')
        self.assertScreen(cp, 'cardNotReady', 'ICカード準備エラー')
        cp = self.token_client(empty, 'check', '--lang', 'en')
        self.assertScreen(cp, 'cardNotReady', 'IC card not ready')

    def test_missing_module(self):
        cp = self.client('check', '--pkcs11-module', '/nonexistent/pkcs11.so')
        self.assertScreen(cp, 'cardNotReady', 'ICカード準備エラー', '/nonexistent/pkcs11.so')

    def test_missing_key(self):
        h = self.pki.holder('valid-12')
        tok = Token(h, key=False)
        cp = self.token_client(tok, 'check')
        self.assertScreen(cp, 'importError', '確認に必要な情報の取込みエラー', KEY_LABEL)
        tok = Token(h)
        cp = self.token_client(tok, 'revoke', '--key-label', 'Authentication Key')
        self.assertScreen(cp, 'importError', '申請に必要な情報の取込みエラー')

    def test_missing_certificate(self):
        tok = Token(self.pki.holder('valid-12'), cert=False)
        cp = self.token_client(tok, 'check')
        self.assertScreen(cp, 'importError', '取込みエラー', '電子証明書をICカードから読み込めません')

    def test_certificate_without_facts(self):
        tok = Token(self.pki.holder('nofacts'))
        cp = self.token_client(tok, 'check', '--lang', 'en')
        self.assertScreen(cp, 'importError', 'Error reading the information needed for the check')

    def test_expired_certificate(self):
        tok = Token(self.pki.holder('expired'))
        cp = self.token_client(tok, 'revoke')
        self.assertScreen(cp, 'certificateExpired', '有効期限切れの電子証明書',
                          '失効申請を行う必要はありません', '何も送信していません')
        cp = self.pem_client('expired', 'check', '--lang', 'en')
        self.assertScreen(cp, 'certificateExpired', 'Validity check of an expired certificate',
                          'Nothing has been sent')

    def test_usage_errors(self):
        h = self.pki.holder('valid-13')
        for args in ([], ['--cert', h['cert']], ['--cert', h['cert'], '--key', h['key'], '--reason', 'x'],
                     ['--cert', h['cert'], '--key', h['key'], '--pkcs12', h['cert']]):
            cp = self.client('revoke', *args)
            self.assertEqual(cp.returncode, EXIT['usage'], cp.ctx)
        # plain http to anything but this machine is refused before any connection
        cp = self.client('check', '--cert', h['cert'], '--key', h['key'], url='http://192.0.2.1/')
        self.assertEqual(cp.returncode, EXIT['usage'], cp.ctx)
        self.assertIn('https://', cp.out + cp.err, cp.ctx)


TESTTOKEN = os.path.join(os.environ.get('MDG_BUILD_ROOT', ''), 'client', 'libmdg-testtoken.so')


class CardLike(ClientCase):
    """Through client/testtoken.c, a module that forwards to SoftHSM and,
    like the JPKI card, counts wrong PINs (five lock it) and can be pulled
    out while signing."""

    def card(self, holder):
        self.assertTrue(os.path.exists(TESTTOKEN), 'not built: ' + TESTTOKEN)
        tok = Token(self.pki.holder(holder))
        tok.env['MDG_TESTTOKEN_MODULE'] = SOFTHSM_MODULE
        tok.env['MDG_TESTTOKEN_STATE'] = os.path.join(tok.dir, 'tries')
        return tok

    def test_five_wrong_pins_lock_the_card(self):
        tok = self.card('valid-21')
        n = len(self.posts())
        for i in range(1, 5):
            cp = self.client('check', '--pkcs11-module', TESTTOKEN, env=tok.env, pin='WRONG%d' % i)
            self.assertScreen(cp, 'pinIncorrect', 'パスワード確認失敗', 'CKR_PIN_INCORRECT')
            if i == 4:
                self.assertIn('あと1回です', cp.out, cp.ctx)
            else:
                self.assertIn('残り回数が少なくなっている', cp.out, cp.ctx)
        cp = self.client('check', '--pkcs11-module', TESTTOKEN, env=tok.env, pin='WRONG5')
        self.assertScreen(cp, 'pinLocked', 'パスワードロック', 'CKR_PIN_LOCKED', '市区町村の窓口')
        # locked: the right PIN is no longer asked for
        cp = self.client('revoke', '--pkcs11-module', TESTTOKEN, env=tok.env, pin=PIN)
        self.assertScreen(cp, 'pinLocked', 'パスワードロック', 'CKF_USER_PIN_LOCKED')
        self.assertEqual(len(self.posts()), n, 'a locked card sent something')

    def test_right_pin_resets_the_count(self):
        tok = self.card('valid-22')
        cp = self.client('check', '--pkcs11-module', TESTTOKEN, env=tok.env, pin='WRONG0')
        self.assertScreen(cp, 'pinIncorrect', 'CKR_PIN_INCORRECT')
        cp = self.client('check', '--pkcs11-module', TESTTOKEN, env=tok.env, pin=PIN)
        self.assertScreen(cp, 'valid', 'オンライン有効性確認結果通知:有効')
        with open(tok.env['MDG_TESTTOKEN_STATE']) as f:
            self.assertEqual(f.read().strip(), '0')

    def test_card_pulled_out_while_signing(self):
        tok = self.card('valid-23')
        tok.env['MDG_TESTTOKEN_REMOVE'] = 'sign'
        n = len(self.posts())
        cp = self.client('revoke', '--pkcs11-module', TESTTOKEN, env=tok.env)
        self.assertScreen(cp, 'unexpectedError', '予期しないエラー', 'CKR_DEVICE_REMOVED', '署名確認')
        self.assertNotIn('送信確認', cp.out, cp.ctx)
        self.assertEqual(len(self.posts()), n)
        cp = self.client('check', '--lang', 'en', '--pkcs11-module', TESTTOKEN, env=tok.env)
        self.assertScreen(cp, 'unexpectedError', 'Unexpected error')


class Files(ClientCase):
    """PEM and PKCS#12 paths; the server's results map to the exit table."""

    def pkcs12(self, holder, password):
        h = self.pki.holder(holder)
        d = harness.make_tmpdir('mdg-e2e-p12-')
        out = os.path.join(d, 'h.p12')
        harness.run(['openssl', 'pkcs12', '-export', '-in', h['cert'], '-inkey', h['key'],
                     '-passout', 'pass:' + password, '-out', out], check=True)
        return out

    def test_pem(self):
        cp = self.pem_client('valid-14', 'check')
        self.assertScreen(cp, 'valid', 'オンライン有効性確認結果通知:有効', '大正')
        cp = self.pem_client('valid-14', 'revoke', '--lang', 'en')
        self.assertScreen(cp, 'accepted', 'Notice of acceptance of the online revocation request')
        # a prefectural CA of the manual's era: the form is addressed to its governor
        cp = self.pem_client('valid-pref', 'check')
        self.assertScreen(cp, 'valid', '東京都知事 殿')
        cp = self.pem_client('valid-pref', 'check', '--lang', 'en')
        self.assertScreen(cp, 'valid', 'To the Governor of Tokyo-to')
        # an encrypted key: its passphrase is asked like the PIN
        h = self.pki.holder('valid-26')
        enc = os.path.join(harness.make_tmpdir('mdg-e2e-enc-'), 'key.pem')
        harness.run(['openssl', 'pkey', '-in', h['key'], '-aes256', '-passout', 'pass:PASSW0RD',
                     '-out', enc], check=True)
        cp = self.client('check', '--cert', h['cert'], '--key', enc, pin='nope')
        self.assertScreen(cp, 'pinIncorrect', 'パスワード確認失敗')
        cp = self.client('check', '--cert', h['cert'], '--key', enc, pin='PASSW0RD')
        self.assertScreen(cp, 'valid', 'ログイン', 'オンライン有効性確認結果通知:有効')

    def test_pkcs12(self):
        p12 = self.pkcs12('valid-15', 'S3CRET')
        cp = self.client('check', '--pkcs12', p12, pin='S3CRET')
        self.assertScreen(cp, 'valid', 'オンライン有効性確認結果通知:有効')
        cp = self.client('check', '--pkcs12', p12, pin='WRONG')
        self.assertScreen(cp, 'pinIncorrect', 'パスワード確認失敗')
        p12 = self.pkcs12('valid-16', '')
        cp = self.client('revoke', '--pkcs12', p12, pin=None)
        self.assertScreen(cp, 'accepted', 'オンライン失効申請の受理通知')
        self.assertNotIn('ログイン', cp.out, 'an unprotected file needs no password')

    def test_unreadable_certificate(self):
        h = self.pki.holder('valid-17')
        d = harness.make_tmpdir('mdg-e2e-bad-')
        bad = os.path.join(d, 'bad.pem')
        with open(bad, 'w') as f:
            f.write('-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n')
        cp = self.client('check', '--cert', bad, '--key', h['key'])
        self.assertScreen(cp, 'importError', '取込みエラー')
        cp = self.client('check', '--pkcs12', bad)
        self.assertScreen(cp, 'importError', '取込みエラー')
        # a key that is not the certificate's
        cp = self.client('check', '--cert', h['cert'], '--key', self.pki.holder('valid-18')['key'])
        self.assertScreen(cp, 'importError', '取込みエラー')

    def test_server_results_and_exit_statuses(self):
        for holder, cmd, result in (('revoked', 'check', 'revoked'), ('revoked', 'revoke', 'revoked'),
                                    ('unknown', 'check', 'issuerMismatch'),
                                    ('impostor', 'revoke', 'badCertificateSignature'),
                                    ('notyet', 'check', 'notYetValid'),
                                    ('stale-dp', 'check', 'serviceError')):
            cp = self.pem_client(holder, cmd, '--json')
            j = json.loads(cp.stdout)
            self.assertEqual(j['result'], result, cp.ctx)
            self.assertEqual(cp.returncode, EXIT[result], cp.ctx)
            self.assertIn(j['i18n']['ja']['title'], cp.err, cp.ctx)
        cp = self.pem_client('unknown', 'check')
        self.assertIn('発行者名が次のいずれかと一致することを確認してください', cp.out, cp.ctx)

    def test_window_unreachable(self):
        port = harness.free_port()
        cp = self.pem_client('valid-19', 'check', url='http://127.0.0.1:%d/' % port)
        self.assertScreen(cp, 'networkError', 'オンライン窓口に接続できません')


class HTTPS(unittest.TestCase):
    """The server certificate is verified by default; --cacert names the CA."""

    @classmethod
    def setUpClass(cls):
        missing = require_tools()
        if missing:
            raise AssertionError('missing for the client tests: %s' % ', '.join(missing))
        import tlsutil
        cls.pki = harness.shared_pki()
        cls.ca = tlsutil.TestCA()
        cert, key = cls.ca.issue('ecdsa')
        cls.daemon = tlsutil.TLSDaemon(cls.pki, cls.ca.cert, cert, key, name='client-tls')
        cls.daemon.start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop_and_check()

    def test_token_over_https(self):
        tok = Token(self.pki.holder('valid-20'))
        base = [CLIENT, 'check', '--url', self.daemon.url('/'), '--pkcs11-module', SOFTHSM_MODULE,
                '--yes']
        env = dict(tok.env, MADOGUCHI_PIN=PIN)
        cp = subprocess.run(base + ['--cacert', self.ca.cert], env=env, capture_output=True, timeout=60)
        self.assertEqual(cp.returncode, 0, cp.stdout.decode()[-2000:])
        self.assertIn('オンライン有効性確認結果通知:有効', cp.stdout.decode())
        cp = subprocess.run(base, env=env, capture_output=True, timeout=60)
        self.assertEqual(cp.returncode, EXIT['networkError'], cp.stdout.decode()[-2000:])
        self.assertIn('サーバ証明書', cp.stdout.decode())



class Terminal:
    """The client on a pseudo-terminal of its own: the PIN prompt (/dev/tty)
    and the confirmations (stdin) both read from it, as for a person."""

    def __init__(self, argv, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.out = b''
        self.status = None

    def text(self, start=0):
        return self.out[start:].decode('utf-8', 'replace')

    def wait_for(self, needle, start=0, timeout=20):
        """Returns the length of the output once needle appears after start."""
        deadline = time.time() + timeout
        while needle.encode() not in self.out[start:]:
            left = deadline - time.time()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise AssertionError('no %r on the terminal: %s' % (needle, self.text()[-3000:]))
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                chunk = b''
            if not chunk:
                raise AssertionError('client ended before %r: %s' % (needle, self.text()[-3000:]))
            self.out += chunk
        return len(self.out)

    def type(self, line):
        os.write(self.fd, line.encode() + b'\n')

    def finish(self, timeout=30):
        """Reads to the end; returns the exit status."""
        deadline = time.time() + timeout
        while self.status is None and time.time() < deadline:
            try:
                while select.select([self.fd], [], [], 0.1)[0]:
                    chunk = os.read(self.fd, 65536)
                    if not chunk:
                        break
                    self.out += chunk
            except OSError:
                pass
            done, st = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.status = os.waitstatus_to_exitcode(st)
        return self.status

    def close(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
        os.close(self.fd)


def holder_with_gender(pki, gender, names=None):
    for name in names or ['valid-%02d' % i for i in range(27, 61)]:
        try:
            h = pki.holder(name)
        except Exception:
            continue
        if h['applicant']['gender'] == gender:
            return name, h
    raise AssertionError('no test-PKI holder with gender %s' % gender)


def grouped(receipt_id):
    return ' '.join(receipt_id[i:i + 4] for i in range(0, len(receipt_id), 4))


def jst_date(rfc3339):
    t = harness.datetime.datetime.fromisoformat(rfc3339.replace('Z', '+00:00'))
    return t.astimezone(harness.datetime.timezone(harness.datetime.timedelta(hours=9)))


class PinForm(ClientCase):
    """Issue 16 item 2: a PIN the card cannot have (the JPKI signing password
    is 6-16 letters and digits) is refused by the client; it never reaches
    the card, so it costs no try."""

    card = CardLike.card

    def tries(self, tok):
        try:
            with open(tok.env['MDG_TESTTOKEN_STATE']) as f:
                return int(f.read().strip() or 0)
        except FileNotFoundError:
            return 0

    def test_refused_before_the_card(self):
        tok = self.card('valid-27')
        n = len(self.posts())
        for pin in ('', '12345', '1' * 17, 'abc-12', 'ぱすわーど123'):
            cp = self.client('check', '--pkcs11-module', TESTTOKEN, env=tok.env, pin=pin)
            self.assertScreen(cp, 'pinFormat', 'パスワードの形式エラー', '英数字6文字以上16文字以下',
                              'ICカードには渡していません', '手続名：自己の電子証明書の有効性確認')
            self.assertNotIn('CKR_', cp.out, cp.ctx)
            self.assertNotIn('パスワード確認失敗', cp.out, cp.ctx)
            self.assertEqual(self.tries(tok), 0, 'a PIN the card cannot have cost a try: %r' % pin)
        cp = self.client('revoke', '--lang', 'en', '--pkcs11-module', TESTTOKEN, env=tok.env, pin='')
        self.assertScreen(cp, 'pinFormat', "Password not in the card's form", '6 to 16 letters and digits',
                          'Detail: no password was entered')
        cp = self.client('check', '--json', '--pkcs11-module', TESTTOKEN, env=tok.env, pin='12345')
        j = json.loads(cp.stdout)
        self.assertEqual((j['result'], j['reason'], j['exitStatus']), ('clientError', 'pinFormat', 36), j)
        self.assertEqual(self.tries(tok), 0)
        self.assertEqual(len(self.posts()), n)
        # 6 and 16 characters are the card's own lengths: they reach it
        for pin in ('WRONG6', 'WRONG16CHARSXXXX'):
            cp = self.client('check', '--pkcs11-module', TESTTOKEN, env=tok.env, pin=pin)
            self.assertScreen(cp, 'pinIncorrect', 'CKR_PIN_INCORRECT')
        self.assertEqual(self.tries(tok), 2)
        cp = self.client('check', '--pkcs11-module', TESTTOKEN, env=tok.env, pin=PIN)
        self.assertScreen(cp, 'valid', 'オンライン有効性確認結果通知:有効')

    def test_at_the_terminal_then_cancel_shows_no_old_error(self):
        """An empty and a short PIN are asked again without a try; a wrong
        one costs one; after the right one a cancel screen says nothing
        about the earlier wrong PIN."""
        tok = self.card('valid-28')
        term = Terminal([CLIENT, 'check', '--url', self.url(), '--pkcs11-module', TESTTOKEN], tok.env)
        try:
            term.wait_for('取込みを開始しますか? [y/N] ')
            term.type('y')
            mark = term.wait_for('(入力は表示されません): ')
            term.type('')
            mark = term.wait_for('もう一度入力しますか? [y/N] ', mark)
            self.assertIn('パスワードの形式エラー', term.text())
            self.assertEqual(self.tries(tok), 0)
            term.type('y')
            mark = term.wait_for('(入力は表示されません): ', mark)
            term.type('12345')
            mark = term.wait_for('もう一度入力しますか? [y/N] ', mark)
            self.assertEqual(self.tries(tok), 0, 'a short PIN reached the card')
            term.type('y')
            mark = term.wait_for('(入力は表示されません): ', mark)
            term.type('WRONG1')
            mark = term.wait_for('もう一度入力しますか? [y/N] ', mark)
            self.assertIn('CKR_PIN_INCORRECT', term.text())
            self.assertEqual(self.tries(tok), 1)
            term.type('y')
            mark = term.wait_for('(入力は表示されません): ', mark)
            term.type(PIN)
            mark = term.wait_for('電子署名に進みますか?', mark)
            term.type('n')
            status = term.finish()
        finally:
            term.close()
        self.assertEqual(status, EXIT['cancelled'], term.text()[-3000:])
        cancel = term.text(mark)
        self.assertIn('確認中止', cancel)
        self.assertNotIn('CKR_PIN_INCORRECT', cancel, 'an earlier PIN error on the cancel screen')
        self.assertNotIn('パスワード', cancel)
        self.assertEqual(self.tries(tok), 0)
        self.assertNotIn('WRONG1', term.text())


class FilesAreNotCards(ClientCase):
    """Issue 16 item 3: with PEM or PKCS#12 files no screen speaks of the IC
    card; a missing file is "No such file" with its path."""

    def assertNoCard(self, cp):
        for word in ('ICカード', 'IC card', '5回', 'Five wrong'):
            self.assertNotIn(word, cp.out, cp.ctx)

    def test_missing_files(self):
        h = self.pki.holder('valid-29')
        d = harness.make_tmpdir('mdg-e2e-missing-')
        gone = os.path.join(d, 'gone.pem')
        cp = self.client('check', '--cert', gone, '--key', h['key'])
        self.assertScreen(cp, 'importError', '確認に必要な情報の取込みエラー', 'ファイルがありません: ' + gone,
                          'ファイルから取込むことができませんでした')
        self.assertNoCard(cp)
        cp = self.client('revoke', '--cert', h['cert'], '--key', gone, '--lang', 'en')
        self.assertScreen(cp, 'importError', 'Detail: No such file: ' + gone)
        self.assertNoCard(cp)
        cp = self.client('check', '--pkcs12', os.path.join(d, 'gone.p12'))
        self.assertScreen(cp, 'importError', 'ファイルがありません: ' + os.path.join(d, 'gone.p12'))
        self.assertNoCard(cp)
        cp = self.client('check', '--cert', h['cert'], '--key', h['key'], '--pin-file',
                         os.path.join(d, 'pin'), pin=None)
        # an unencrypted key needs no PIN: the PIN file is not even read
        self.assertScreen(cp, 'valid')
        self.assertNoCard(cp)

    def test_wrong_file_password_is_not_a_card_lock(self):
        h = self.pki.holder('valid-30')
        d = harness.make_tmpdir('mdg-e2e-p12w-')
        p12 = os.path.join(d, 'h.p12')
        harness.run(['openssl', 'pkcs12', '-export', '-in', h['cert'], '-inkey', h['key'],
                     '-passout', 'pass:S3CRET', '-out', p12], check=True)
        cp = self.client('check', '--pkcs12', p12, pin='WRONG')
        self.assertScreen(cp, 'pinIncorrect', 'パスワード確認失敗', 'ファイルのパスワードが正しくありません',
                          '詳細: ファイル %s のパスワードが正しくありません' % p12)
        self.assertNoCard(cp)
        self.assertNotIn('ロック', cp.out, cp.ctx)
        cp = self.client('check', '--pkcs12', p12, '--lang', 'en', pin='WRONG')
        self.assertScreen(cp, 'pinIncorrect', 'Wrong password', 'Detail: the password of %s is not correct' % p12)
        self.assertNoCard(cp)
        # the right password: the file's own words, no card to pull out
        cp = self.client('check', '--pkcs12', p12, pin='S3CRET')
        self.assertScreen(cp, 'valid', 'ログイン', 'ファイル %s はパスワードで保護されています' % p12)
        self.assertNoCard(cp)

    def test_expired_file(self):
        cp = self.pem_client('expired', 'revoke')
        self.assertScreen(cp, 'certificateExpired', '有効期限切れの電子証明書に対する失効申請',
                          'ファイルの電子証明書は有効期限が切れています')
        self.assertNoCard(cp)


class Notice(ClientCase):
    """Issue 16 item 4: the result notice as a citizen reads it."""

    def test_revocation_notice_saved(self):
        h = self.pki.holder('valid-31')
        d = harness.make_tmpdir('mdg-e2e-notice-')
        path = os.path.join(d, 'notice.txt')
        cp = self.pem_client('valid-31', 'revoke', '--json', '--notice-out', path)
        j = json.loads(cp.stdout)
        self.assertEqual(j['result'], 'accepted', cp.ctx)
        self.assertEqual(cp.returncode, 0, cp.ctx)
        rid = j['receiptId']
        for text in ('オンライン失効申請の受理通知', '手続名：自己の電子証明書の失効申請',
                     '受理番号　　: ' + grouped(rid), '控えておいてください',
                     '申請者名　　: ' + h['applicant']['name'],
                     '受理日時　　: ' + harness.wareki(jst_date(j['acceptedAt']).date()),
                     '失効する日時: ' + harness.wareki(jst_date(j['effectiveFrom']).date())):
            self.assertIn(text, cp.err, cp.ctx)
        for raw in (j['acceptedAt'], j['effectiveFrom'], '"nonce"', '{"procedure"'):
            self.assertNotIn(raw, cp.err, cp.ctx)
        self.assertIn('失効の理由　　　　: 理由を特定しない (unspecified)', cp.err, cp.ctx)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        with open(path, encoding='utf-8') as f:
            saved = f.read()
        self.assertIn('オンライン失効申請の受理通知', saved)
        self.assertIn(grouped(rid), saved)
        self.assertIn(h['applicant']['name'], saved)
        self.assertIn(saved, cp.err, 'the file holds the notice as shown')
        # a file that cannot be written: a warning, the result stands
        cp = self.pem_client('valid-31', 'revoke', '--lang', 'en', '--notice-out', os.path.join(d, 'no', 'x'))
        self.assertScreen(cp, 'revocationAccepted', grouped(rid), 'Warning: the notice could not be saved')

    def test_validity_notice_in_both_languages(self):
        name, h = holder_with_gender(self.pki, '女')
        cp = self.pem_client(name, 'check', '--json')
        j = json.loads(cp.stdout)
        self.assertEqual(j['result'], 'valid', cp.ctx)
        self.assertIn('確認年月日　: ' + j['checkedOn']['wareki'], cp.err, cp.ctx)
        self.assertIn('申請者の性別　　　: 女', cp.err, cp.ctx)
        cp = self.pem_client(name, 'check', '--lang', 'en')
        self.assertScreen(cp, 'valid', 'Gender:        female', 'Applicant:      ' + h['applicant']['name'])
        y, m, dd = (int(x) for x in j['checkedOn']['iso'].split('-'))
        self.assertIn('Checked on:     %d %s %d' % (dd, ['January', 'February', 'March', 'April', 'May', 'June',
                                                        'July', 'August', 'September', 'October', 'November',
                                                        'December'][m - 1], y), cp.out, cp.ctx)
        self.assertNotIn('女', cp.out.split('Gender:')[1].split('\n')[0])
        name, h = holder_with_gender(self.pki, '男')
        cp = self.pem_client(name, 'check', '--lang', 'en')
        self.assertScreen(cp, 'valid', 'Gender:        male')
        # one addressee style
        cp = self.pem_client('valid-pref', 'check')
        self.assertScreen(cp, 'valid', '東京都知事 殿')
        self.assertNotIn('知事殿', cp.out)

    def test_reason_prompt_and_back_to_the_import_step(self):
        n = len(self.posts())
        # the reason by its number
        cp = self.pem_client('valid-32', 'revoke', yes=False, stdin=b'y\n2\ny\ny\ny\n')
        self.assertScreen(cp, 'accepted', '失効の理由', 'keyCompromise', '[既定]')
        self.assertEqual(harness.sqlite(self.daemon.db, 'SELECT reason FROM acceptances ORDER BY seq DESC LIMIT 1;'),
                         'keyCompromise')
        # an empty line is the default; a wrong answer is asked again
        cp = self.pem_client('valid-33', 'revoke', '--lang', 'en', yes=False, stdin=b'y\n9\n\ny\ny\ny\n')
        self.assertScreen(cp, 'accepted', 'Reason for the revocation', 'Please answer with a number')
        self.assertEqual(harness.sqlite(self.daemon.db, 'SELECT reason FROM acceptances ORDER BY seq DESC LIMIT 1;'),
                         'unspecified')
        # --reason answers it beforehand
        cp = self.pem_client('valid-34', 'revoke', '--reason', 'superseded', yes=False, stdin=b'y\ny\ny\ny\n')
        self.assertScreen(cp, 'accepted')
        self.assertNotIn('失効の理由を番号で選んでください', cp.out, cp.ctx)
        # 取込み画面に戻る at the form, then at the send question
        cp = self.pem_client('valid-35', 'check', yes=False, stdin=b'y\nb\ny\ny\ny\nb\ny\ny\ny\ny\n')
        self.assertScreen(cp, 'valid', '確認に必要な情報の取込み画面に戻る')
        self.assertEqual(cp.out.count('\n確認に必要な情報の取込み\n'), 3, cp.ctx)
        self.assertEqual(len(self.posts()), n + 4, 'going back sent something')

    def test_json_for_client_side_states(self):
        cp = self.client('check', '--json', '--pkcs11-module', '/nonexistent/pkcs11.so')
        self.assertEqual(cp.returncode, EXIT['cardNotReady'], cp.ctx)
        j = json.loads(cp.stdout)
        self.assertEqual((j['result'], j['reason'], j['procedure'], j['exitStatus'], j['title']),
                         ('clientError', 'cardNotReady', 'validity-check', 30, 'ICカード準備エラー'), j)
        self.assertTrue(j['detail'])
        self.assertIn('/nonexistent/pkcs11.so', j['cause'])
        self.assertIn('ICカード準備エラー', cp.err)
        cp = self.pem_client('valid-36', 'revoke', '--json', '--lang', 'en', yes=False)
        self.assertEqual(cp.returncode, EXIT['cancelled'], cp.ctx)
        j = json.loads(cp.stdout)
        self.assertEqual((j['result'], j['reason'], j['title']), ('clientError', 'cancelled', 'Cancel the request'), j)
        self.assertNotIn('cause', j)

    def test_screens_carry_the_procedure(self):
        tok = Token(self.pki.holder('expired'))
        cp = self.token_client(tok, 'revoke')
        self.assertScreen(cp, 'certificateExpired', '有効期限切れの電子証明書に対する失効申請',
                          '手続名：自己の電子証明書の失効申請', 'ICカードの電子証明書は有効期限が切れています')
        cp = self.token_client(tok, 'check')
        self.assertScreen(cp, 'certificateExpired', '有効期限切れの電子証明書に対する有効性確認',
                          '手続名：自己の電子証明書の有効性確認')
        for args, state, title in ((['--token-label', 'NOT-JPKI'], 'cardNotReady', 'ICカード準備エラー'),
                                   ([], 'pinIncorrect', 'パスワード確認失敗')):
            cp = self.token_client(tok, 'revoke', *args, pin='999999')
            self.assertScreen(cp, state, title)
            after = cp.out.split(title, 1)[1]
            self.assertIn('手続名：自己の電子証明書の失効申請', after, cp.ctx)


class BadNonce(ClientCase):
    """Issue 16 item 4: a form that took too long (badNonce) is made, signed
    and sent again by the client itself, once; the card keeps its session,
    so the PIN is not asked again."""
    pki_opts = {'nonce_ttl': '2s'}

    def test_starts_again_by_itself(self):
        tok = Token(self.pki.holder('valid-37'))
        n = len(self.posts())
        env = dict(tok.env, MADOGUCHI_PIN=PIN)
        p = subprocess.Popen([CLIENT, 'check', '--url', self.url(), '--pkcs11-module', SOFTHSM_MODULE],
                             env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out = bytearray()

        def reader():
            for chunk in iter(lambda: p.stdout.read1(65536), b''):
                out.extend(chunk)
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        try:
            p.stdin.write(b'y\ny\ny\n')
            p.stdin.flush()
            deadline = time.time() + 30
            while '送信してよろしいですか?'.encode() not in out:
                self.assertLess(time.time(), deadline, out.decode('utf-8', 'replace'))
                time.sleep(0.05)
            time.sleep(3)          # past nonce_ttl
            p.stdin.write(b'y\n')
            p.stdin.close()
            rc = p.wait(timeout=60)
            t.join(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
            p.stderr.close()
        text = out.decode('utf-8', 'replace')
        self.assertEqual(rc, 0, text[-3000:])
        self.assertIn('申請の受付期限切れ', text)
        self.assertIn('時間がかかったため', text)
        self.assertIn('自動で一度だけやり直します', text)
        self.assertIn('オンライン有効性確認結果通知:有効', text.split('申請の受付期限切れ', 1)[1])
        self.assertEqual(text.count('\nログイン\n'), 1, 'the PIN was asked again')
        self.assertEqual(len(self.posts()), n + 2)

if __name__ == '__main__':
    harness.main()
