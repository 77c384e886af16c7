"""The window's pages for a browser: GET / and the result pages. Static
HTML (no script), Japanese first with English beside it, every link
resolves, the results table keyed by the Japanese titles per procedure, the
window's own address in the commands ([server] public_url, else the
request's), the client's link ([server] client_url), and headless Chromium
renders the top page (the screenshot is checked: size, not one blank
colour, and the Japanese text drawn with real glyphs, not empty boxes)."""

import hashlib
import html.parser
import os
import re
import shutil
import struct
import subprocess
import urllib.parse
import zlib

import harness

VOID = {'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source',
        'track', 'wbr'}
WIDTH, HEIGHT = 1280, 2000


class Page(html.parser.HTMLParser):
    """Collects links, ids and structure problems (unbalanced tags)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.problems, self.links, self.ids = [], [], [], set()
        self.tags, self.html_lang, self.charset, self.title = [], None, False, ''
        self.pairs = []          # per div.pair: the lang of its child divs, in order
        self._pair_depth = []
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == 'html':
            self.html_lang = a.get('lang')
        if tag == 'meta' and a.get('charset', '').lower() == 'utf-8':
            self.charset = True
        if tag == 'a' and 'href' in a:
            self.links.append(a['href'])
        if 'id' in a:
            if a['id'] in self.ids:
                self.problems.append('duplicate id %r' % a['id'])
            self.ids.add(a['id'])
        if tag == 'title':
            self._in_title = True
        if tag == 'div' and self._pair_depth and len(self.stack) == self._pair_depth[-1] + 1:
            self.pairs[-1].append(a.get('lang'))
        if tag == 'div' and 'pair' in a.get('class', '').split():
            self.pairs.append([])
            self._pair_depth.append(len(self.stack))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append('</%s> closes %r' % (tag, self.stack[-1:] or None))
            return
        self.stack.pop()
        if tag == 'title':
            self._in_title = False
        if tag == 'div' and self._pair_depth and len(self.stack) == self._pair_depth[-1]:
            self._pair_depth.pop()

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def parse(body):
    p = Page()
    p.feed(body.decode('utf-8'))
    p.close()
    if p.stack:
        p.problems.append('unclosed: %r' % p.stack)
    return p


def png_rows(path, rows=None):
    """(width, height, the first `rows` rows as RGB bytes), decoding the PNG
    with zlib and undoing the scanline filters (8-bit RGB/RGBA)."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise AssertionError('not a PNG')
    off, idat, ihdr = 8, b'', None
    while off < len(data):
        n, kind = struct.unpack('>I4s', data[off:off + 8])
        chunk = data[off + 8:off + 8 + n]
        if kind == b'IHDR':
            ihdr = struct.unpack('>IIBBBBB', chunk)
        elif kind == b'IDAT':
            idat += chunk
        off += 12 + n
    w, h, depth, ctype = ihdr[:4]
    if depth != 8 or ctype not in (2, 6):
        raise AssertionError('unexpected PNG format: depth %d colour type %d' % (depth, ctype))
    bpp = 3 if ctype == 2 else 4
    stride = w * bpp
    raw = zlib.decompress(idat)
    prev = bytearray(stride)
    out = []
    for y in range(h if rows is None else min(rows, h)):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = prev[i]
            if ft == 1:
                line[i] = (line[i] + left) & 0xff
            elif ft == 2:
                line[i] = (line[i] + up) & 0xff
            elif ft == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xff
            elif ft == 4:
                ul = prev[i - bpp] if i >= bpp else 0
                p = left + up - ul
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else ul
                line[i] = (line[i] + pred) & 0xff
        out.append(bytes(line) if bpp == 3 else
                   b''.join(bytes(line[x:x + 3]) for x in range(0, stride, 4)))
        prev = line
    return w, h, out


def png_info(path, rows=320):
    """(width, height, set of colours in the first `rows` rows)."""
    w, h, lines = png_rows(path, rows)
    colours = set()
    for line in lines:
        for x in range(0, len(line), 12):
            colours.add(line[x:x + 3])
    return w, h, colours


def chromium_screenshot(url, shot, width, height, home):
    """Headless Chromium's screenshot of url; (exit status, stderr)."""
    chromium = shutil.which('chromium')
    if chromium is None:
        raise AssertionError('chromium is not installed (deploy/install-deps.sh)')
    cmd = [chromium, '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
           '--user-data-dir=' + os.path.join(home, 'profile'), '--screenshot=' + shot,
           '--window-size=%d,%d' % (width, height), url]
    cp = subprocess.run(cmd, capture_output=True, timeout=90, env=dict(os.environ, HOME=home))
    return cp.returncode, cp.stderr.decode('utf-8', 'replace')[-2000:]


class TopPage(harness.DaemonCase):

    def get_page(self, path):
        a = self.daemon.get(path)
        ctx = '%s: %r' % (path, a)
        self.assertEqual(a.status, 200, ctx)
        self.assertEqual(a.header('content-type', '').replace(' ', '').lower(), 'text/html;charset=utf-8', ctx)
        self.assertIn('no-store', a.header('cache-control', ''), ctx)
        self.assertEqual(a.header('x-content-type-options', ''), 'nosniff', ctx)
        p = parse(a.body)
        self.assertEqual(p.problems, [], ctx)
        self.assertEqual(p.html_lang, 'ja', ctx)
        self.assertTrue(p.charset, ctx)
        self.assertTrue(p.title.strip(), ctx)
        self.assertNotIn('script', p.tags, 'no JavaScript: ' + path)
        self.assertTrue(p.pairs, 'no Japanese/English pair on ' + path)
        for langs in p.pairs:
            self.assertEqual(langs, ['ja', 'en'], 'Japanese first, English beside it on ' + path)
        return a, p

    def test_top_page(self):
        a, p = self.get_page('/')
        text = a.body.decode('utf-8')
        for words in ('自己の電子証明書の失効申請', '自己の電子証明書の有効性確認', 'madoguchi-client',
                      'サーバ証明書', '--cacert', 'Check the server certificate', 'パスワードロック',
                      'ICカード準備エラー', 'パスワード確認失敗', 'Wrong password',
                      'オンライン窓口に接続できません', 'Cannot reach the online window',
                      '利用者クライアントソフトの確認', '-Dclient_only=true'):
            self.assertIn(words, text)
        self.assertNotIn('ninja -C build install', text.replace('build-client', ''))
        # HEAD answers too; other methods do not
        self.assertEqual(self.daemon.request('HEAD', '/').status, 200)
        self.assertEqual(self.daemon.request('POST', '/', b'x', {'Content-Type': 'text/plain'}).status, 405)

    def test_results_table_rows_are_titles_per_procedure(self):
        """One row per procedure and result, keyed by the Japanese title the
        holder sees, naming the procedure; every title of the contract once."""
        for path in ('/', '/results/'):
            text = self.get_page(path)[0].body.decode('utf-8')
            rows = re.findall(r'<tr><th scope="row"><a href="/results/([A-Za-z]+)#([a-z-]+)">([^<]*)</a></th>'
                              r'<td>([^<]*) / <span lang="en">([^<]*)</span></td><td lang="en">([^<]*)</td>'
                              r'<td><code>([A-Za-z]+)</code></td></tr>', text)
            want = {(name, proc): harness.title_ja(name, proc)
                    for name in harness.TITLES_JA for proc in harness.PROCEDURES
                    if harness.title_ja(name, proc)}
            got = {}
            for name, proc, title, proc_ja, proc_en, title_en, code in rows:
                self.assertNotIn((name, proc), got, 'two rows for %s on %s' % (name, proc))
                got[(name, proc)] = title
                self.assertEqual(code, name)
                self.assertEqual((proc_ja, proc_en), {'revocation': ('失効申請', 'Revocation'),
                                                      'validity-check': ('有効性確認', 'Validity check')}[proc])
                self.assertTrue(title_en.strip() and title_en.isascii(), (name, proc, title_en))
            self.assertEqual(got, want, path)
            # the row's key is the title, not the identifier
            self.assertNotRegex(text, r'<th scope="row"><a [^>]*><code>')

    def test_window_address_from_the_request(self):
        """No public_url: the commands name the address the browser used
        (Host); X-Forwarded-Host counts only from a trusted proxy (none here);
        a Host that is not a plain host[:port] leaves the placeholder."""
        text = self.get_page('/')[0].body.decode('utf-8')
        own = 'http://127.0.0.1:%d/' % self.daemon.port
        self.assertIn('madoguchi-client revoke --url %s</code>' % own, text)
        self.assertIn('madoguchi-client check --url %s</code>' % own, text)
        self.assertNotIn('この窓口のアドレス', text)
        a = self.daemon.get('/', headers={'Host': 'window.example.jp:8443',
                                          'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'https'})
        t = a.body.decode('utf-8')
        self.assertIn('--url http://window.example.jp:8443/</code>', t)
        self.assertNotIn('evil.example', t)
        for bad in ('evil.example/"><script>alert(1)</script>', 'a.example, b.example', 'user@host.example',
                    '[::1', 'host.example:99999x', '.example'):
            a = self.daemon.get('/', headers={'Host': bad})
            self.assertEqual(a.status, 200, bad)
            t = a.body.decode('utf-8')
            self.assertIn('https://(この窓口のアドレス)/', t, bad)
            self.assertIn("https://(this window's address)/", t, bad)
            self.assertNotIn('<script', t, bad)
        self.assertNotIn('class="client-url"', text, 'no client_url configured: no link')

    def test_result_pages(self):
        a, p = self.get_page('/results/')
        self.assertEqual(self.get_page('/results')[0].body, a.body)
        for name, (rev, val) in harness.TITLES_JA.items():
            r, rp = self.get_page('/results/' + name)
            text = r.body.decode('utf-8')
            self.assertIn(name, text)
            for t in (rev, val):
                if t:
                    self.assertIn(t, text, name)
            # the detail and English text of the answer the window gives
            for proc, t in (('revocation', rev), ('validity-check', val)):
                if t:
                    self.assertIn('id="%s"' % proc, text, name)
        for bad in ('/results/nope', '/results/valid/x', '/results/../'):
            b = self.daemon.get(bad)
            self.assertEqual(b.status, 404, bad)
            self.assertEqual(b.json.get('result'), 'malformed', bad)

    def test_every_link_resolves(self):
        seen, queue, checked = set(), ['/'], 0
        while queue:
            path = queue.pop()
            if path in seen:
                continue
            seen.add(path)
            _, p = self.get_page(path)
            for href in p.links:
                u = urllib.parse.urlsplit(href)
                self.assertFalse(u.scheme or u.netloc, 'external link %r on %s' % (href, path))
                target = urllib.parse.urljoin(path, u.path) if u.path else path
                if u.fragment:
                    _, tp = self.get_page(target)
                    self.assertIn(u.fragment, tp.ids, '%s on %s' % (href, path))
                checked += 1
                if target not in seen:
                    queue.append(target)
        self.assertGreaterEqual(len(seen), 2 + len(harness.TITLES_JA))
        self.assertGreater(checked, 20)

    def test_chromium_renders_the_top_page(self):
        d = harness.make_tmpdir('mdg-e2e-chromium-')
        shot = os.path.join(d, 'top.png')
        rc, err = chromium_screenshot('http://127.0.0.1:%d/' % self.daemon.port, shot, WIDTH, HEIGHT, d)
        self.assertTrue(os.path.exists(shot), 'no screenshot: exit %d %s' % (rc, err))
        w, h, colours = png_info(shot)
        self.assertEqual((w, h), (WIDTH, HEIGHT))
        self.assertGreater(len(colours), 3, 'the page rendered as a blank image')
        # the page was really fetched by the browser
        self.assertTrue([l for l in self.daemon.log_lines()
                         if isinstance(l, dict) and l.get('path') == '/' and l.get('status') == 200])

    def test_chromium_draws_the_japanese_text(self):
        """The page's own Japanese heading, in the page's own style, drawn by
        the same Chromium in three bands: the heading, the same characters
        reversed, and as many code points no font has (U+E000, drawn as the
        empty box a missing glyph gets). Without a Japanese font all three
        bands are the same row of boxes."""
        a = self.daemon.get('/')
        text = a.body.decode('utf-8')
        style = re.search(r'<style>(.*?)</style>', text, re.S).group(1)
        heading = re.search(r'<h1>([^<]*)<br>', text).group(1)
        heading = ''.join(c for c in heading if not c.isspace())
        self.assertGreaterEqual(len(heading), 8, heading)
        self.assertTrue(all(ord(c) > 0x3000 for c in heading), heading)
        bands = (heading, heading[::-1], '\ue000' * len(heading))
        band_h = 80
        d = harness.make_tmpdir('mdg-e2e-glyphs-')
        page = os.path.join(d, 'glyphs.html')
        with open(page, 'w', encoding='utf-8') as f:
            f.write('<!DOCTYPE html>\n<html lang="ja">\n<head>\n<meta charset="utf-8">\n'
                    '<style>%s body{margin:0;padding:0} .band{height:%dpx;overflow:hidden;'
                    'white-space:nowrap;font-size:32px;line-height:%dpx;padding:0 8px}</style>\n'
                    '</head>\n<body>\n%s</body>\n</html>\n' % (
                        style, band_h, band_h,
                        ''.join('<div class="band">%s</div>\n' % b for b in bands)))
        shot = os.path.join(d, 'glyphs.png')
        rc, err = chromium_screenshot('file://' + page, shot, 960, band_h * len(bands), d)
        self.assertTrue(os.path.exists(shot), 'no screenshot: exit %d %s' % (rc, err))
        w, h, rows = png_rows(shot)
        self.assertEqual(h, band_h * len(bands))
        drawn = []
        for i in range(len(bands)):
            band = b''.join(rows[i * band_h:(i + 1) * band_h])
            self.assertGreater(len({band[x:x + 3] for x in range(0, len(band), 3)}), 1,
                               'band %d (%r) drew nothing' % (i, bands[i]))
            drawn.append(hashlib.sha256(band).hexdigest())
        self.assertNotEqual(drawn[0], drawn[2],
                            'the Japanese heading %r is drawn as empty boxes: no Japanese font '
                            '(deploy/install-deps.sh installs fonts-ipafont-gothic)' % heading)
        self.assertNotEqual(drawn[0], drawn[1],
                            'two different Japanese strings drew the same pixels: the glyphs are boxes')



class TopPageConfigured(harness.DaemonCase):
    """[server] public_url and client_url set; the daemon behind a trusted proxy."""
    server = {'public_url': 'https://window.example.jp/',
              'client_url': 'https://example.jp/dl/madoguchi-0.1.0.tar.gz?from=top&lang=ja',
              'trusted_proxies': '127.0.0.1'}

    def test_configured_address_and_client_link(self):
        a = self.daemon.get('/', headers={'Host': 'other.example', 'X-Forwarded-Host': 'proxy.example'})
        self.assertEqual(a.status, 200)
        text = a.body.decode('utf-8')
        self.assertIn('madoguchi-client revoke --url https://window.example.jp/</code>', text)
        self.assertNotIn('other.example', text)
        self.assertNotIn('proxy.example', text)
        links = re.findall(r'<a class="client-url" href="([^"]*)">', text)
        self.assertEqual(links, ['https://example.jp/dl/madoguchi-0.1.0.tar.gz?from=top&amp;lang=ja'] * 2)
        p = parse(a.body)
        self.assertEqual(p.problems, [])
        self.assertIn('https://example.jp/dl/madoguchi-0.1.0.tar.gz?from=top&lang=ja', p.links)


class TopPageBehindProxy(harness.DaemonCase):
    """No public_url, trusted_proxies = 127.0.0.1: the proxy's
    X-Forwarded-Host and X-Forwarded-Proto name the address."""
    server = {'trusted_proxies': '127.0.0.1'}

    def test_forwarded_host_from_a_trusted_proxy(self):
        a = self.daemon.get('/', headers={'Host': '127.0.0.1', 'X-Forwarded-Host': 'window.example.jp',
                                          'X-Forwarded-Proto': 'https'})
        text = a.body.decode('utf-8')
        self.assertIn('madoguchi-client check --url https://window.example.jp/</code>', text)
        a = self.daemon.get('/', headers={'Host': 'window.example.jp', 'X-Forwarded-Proto': 'gopher'})
        self.assertIn('--url http://window.example.jp/</code>', a.body.decode('utf-8'))
        a = self.daemon.get('/', headers={'X-Forwarded-Host': 'w.example"><b>x', 'Host': 'h.example'})
        t = a.body.decode('utf-8')
        self.assertIn('https://(この窓口のアドレス)/', t)
        self.assertNotIn('<b>x', t)


if __name__ == '__main__':
    harness.main()
