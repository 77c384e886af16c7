"""The top page's build instructions for the holder's client, run as
written: the Debian packages it names are the only ones whose pkg-config
modules the build may see (a pkg-config wrapper refuses every other module,
as on a fresh PC without the server's libraries), `meson setup
-Dclient_only=true` configures only the client, ninja builds it within a
time bound, and the install puts madoguchi-client and its man page in place
and nothing of the daemon, its units or the nginx site."""

import html
import json
import os
import re
import subprocess

import harness

SERVER_ONLY = ('libmicrohttpd', 'sqlite3', 'gnutls', 'inih', 'check', 'libpq', 'p11-kit-1')
BUILD_SECONDS = 240


def page_commands(text):
    """The shell lines of <pre id="client-build">, continuations joined."""
    m = re.search(r'<pre id="client-build">(.*?)</pre>', text, re.S)
    if m is None:
        raise AssertionError('the top page has no <pre id="client-build">')
    lines, cur = [], ''
    for line in html.unescape(m.group(1)).splitlines():
        if line.rstrip().endswith('\\'):
            cur += line.rstrip()[:-1] + ' '
            continue
        cur += line
        if cur.strip() and not cur.lstrip().startswith('#'):
            lines.append(cur.split())
        cur = ''
    return lines


def pc_modules(package):
    """The pkg-config modules a Debian package ships."""
    cp = harness.run(['dpkg', '-L', package])
    if cp.returncode != 0:
        raise AssertionError('%s is not installed (the top page names it)' % package)
    return {os.path.basename(p)[:-3] for p in cp.stdout.decode().split()
            if p.endswith('.pc') and '/pkgconfig/' in p}


class ClientOnlyBuild(harness.DaemonCase):

    def test_the_pages_instructions_build_the_client_alone(self):
        a = self.daemon.get('/')
        self.assertEqual(a.status, 200)
        cmds = page_commands(a.body.decode('utf-8'))
        apt = [c for c in cmds if c[:3] == ['sudo', 'apt-get', 'install']]
        self.assertEqual(len(apt), 1, cmds)
        packages = [w for w in apt[0][3:] if not w.startswith('-')]
        for tool in ('build-essential', 'meson', 'ninja-build', 'pkg-config'):
            self.assertIn(tool, packages)
        allowed = set()
        for p in packages:
            allowed |= pc_modules(p)
        for m in SERVER_ONLY:
            self.assertNotIn(m, allowed, 'the client build names a server library')
        self.assertTrue({'openssl', 'jansson', 'libcurl', 'libp11'} <= allowed, allowed)

        d = harness.make_tmpdir('mdg-e2e-client-only-')
        build = os.path.join(d, 'build-client')
        log = os.path.join(d, 'pkg-config.log')
        wrapper = os.path.join(d, 'pkg-config')
        with open(wrapper, 'w', encoding='utf-8') as f:
            f.write('#!/bin/sh\n'
                    '# only the modules of the packages the top page names\n'
                    'for a in "$@"; do\n'
                    '  case "$a" in -*) ;; *)\n'
                    '    echo "$a" >> %s\n'
                    '    case " %s " in *" $a "*) ;; *) echo "not on this PC: $a" >&2; exit 1;; esac;;\n'
                    '  esac\n'
                    'done\n'
                    'exec /usr/bin/pkg-config "$@"\n' % (log, ' '.join(sorted(allowed))))
        os.chmod(wrapper, 0o755)
        env = dict(os.environ, PKG_CONFIG=wrapper)
        env.pop('CC', None)

        def run(argv, timeout):
            argv = [build if w == 'build-client' else w for w in argv]
            cp = subprocess.run(argv, cwd=harness.SOURCE_ROOT, env=env, capture_output=True, timeout=timeout)
            self.assertEqual(cp.returncode, 0, '%s: %s %s' % (' '.join(argv), cp.stdout.decode()[-3000:],
                                                              cp.stderr.decode()[-3000:]))
            return cp

        steps = [c for c in cmds if c is not apt[0]]
        self.assertEqual([c[:2] for c in steps], [['meson', 'setup'], ['ninja', '-C'], ['sudo', 'ninja']], steps)
        self.assertIn('-Dclient_only=true', steps[0])
        run(steps[0], 120)
        with open(log, encoding='utf-8') as f:
            asked = set(f.read().split())
        self.assertEqual(asked, {'openssl', 'jansson', 'libcurl', 'libp11'}, 'modules the build looked up')

        cp = run(['meson', 'introspect', '--targets', build], 60)
        targets = {t['name'] for t in json.loads(cp.stdout)}
        self.assertIn('madoguchi-client', targets)
        self.assertLessEqual(targets, {'madoguchi-client', 'madoguchi-client-core', 'madoguchi-client.1'}, targets)
        cp = run(['meson', 'introspect', '--dependencies', build], 60)
        deps = {x['name'] for x in json.loads(cp.stdout)}
        self.assertLessEqual(deps, {'openssl', 'jansson', 'libcurl', 'libp11'}, deps)

        run(steps[1] + ['-j2'], BUILD_SECONDS)
        client = os.path.join(build, 'client', 'madoguchi-client')
        # the libraries it links itself (ldd would add libcurl's own)
        needed = set(re.findall(r'\(NEEDED\)\s+Shared library: \[([^\]]+)\]',
                                harness.run(['readelf', '-d', client]).stdout.decode()))
        self.assertTrue(needed, 'readelf found no NEEDED entries')
        for lib in needed:
            self.assertRegex(lib, r'^lib(c|crypto|ssl|jansson|curl|p11|m|pthread)\.so', needed)
        self.assertEqual(harness.run([client, '--help']).returncode, 0)

        # "sudo ninja -C build-client install", into a staging directory
        self.assertEqual(steps[2][1:], ['ninja', '-C', 'build-client', 'install'])
        dest = os.path.join(d, 'dest')
        run(['meson', 'install', '-C', build, '--destdir', dest, '--quiet'], 120)
        installed = sorted(os.path.relpath(os.path.join(r, n), dest)
                           for r, _, names in os.walk(dest) for n in names)
        prefix = 'usr/local/'
        self.assertIn(prefix + 'bin/madoguchi-client', installed)
        for f in installed:
            self.assertIn(f, (prefix + 'bin/madoguchi-client', prefix + 'share/man/man1/madoguchi-client.1'),
                          'installed on the holder\'s PC: %s' % f)


if __name__ == '__main__':
    harness.main()
