"""The window's pages for a browser: GET / and the result pages. Static
HTML (no script), Japanese first with English beside it, every link
resolves, and headless Chromium renders the top page (the screenshot is
checked: size, and not one blank colour)."""

import html.parser
import os
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


def png_info(path, rows=320):
    """(width, height, set of colours in the first `rows` rows), decoding
    the PNG with zlib and undoing the scanline filters (8-bit RGB/RGBA)."""
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
    colours = set()
    for y in range(min(rows, h)):
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
        for x in range(0, stride, bpp * 4):
            colours.add(bytes(line[x:x + 3]))
        prev = line
    return w, h, colours


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
                      'ICカード準備エラー'):
            self.assertIn(words, text)
        for name, titles in harness.TITLES_JA.items():
            self.assertIn('/results/' + name, p.links, name)
            for t in titles:
                if t:
                    self.assertIn(t, text, name)
        # HEAD answers too; other methods do not
        self.assertEqual(self.daemon.request('HEAD', '/').status, 200)
        self.assertEqual(self.daemon.request('POST', '/', b'x', {'Content-Type': 'text/plain'}).status, 405)

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
        chromium = shutil.which('chromium')
        self.assertIsNotNone(chromium, 'chromium is not installed (deploy/install-deps.sh)')
        d = harness.make_tmpdir('mdg-e2e-chromium-')
        shot = os.path.join(d, 'top.png')
        cmd = [chromium, '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
               '--user-data-dir=' + os.path.join(d, 'profile'), '--screenshot=' + shot,
               '--window-size=%d,%d' % (WIDTH, HEIGHT), 'http://127.0.0.1:%d/' % self.daemon.port]
        cp = subprocess.run(cmd, capture_output=True, timeout=90, env=dict(os.environ, HOME=d))
        self.assertTrue(os.path.exists(shot), 'no screenshot: exit %d %s' % (
            cp.returncode, cp.stderr.decode('utf-8', 'replace')[-2000:]))
        w, h, colours = png_info(shot)
        self.assertEqual((w, h), (WIDTH, HEIGHT))
        self.assertGreater(len(colours), 3, 'the page rendered as a blank image')
        # the page was really fetched by the browser
        self.assertTrue([l for l in self.daemon.log_lines()
                         if isinstance(l, dict) and l.get('path') == '/' and l.get('status') == 200])


if __name__ == '__main__':
    harness.main()
