"""Every man page (docs/man/*.scd, client/madoguchi-client.1.scd) is built by
the build and renders with `man -l` without a single warning; the pages say
what the programs do today (every config key of the example config, every
madoguchi-admin command)."""

import glob
import os
import re
import subprocess
import unittest

import harness

BUILD = os.environ.get('MDG_BUILD_ROOT')
SOURCES = sorted(glob.glob(os.path.join(harness.SOURCE_ROOT, 'docs', 'man', '*.scd')) +
                 glob.glob(os.path.join(harness.SOURCE_ROOT, 'client', '*.scd')))


def built(scd):
    return os.path.join(BUILD, 'docs', 'man', os.path.basename(scd)[:-len('.scd')])


def render(page):
    env = dict(os.environ, MANWIDTH='80', LC_ALL='C.UTF-8', PAGER='cat')
    env.pop('MANPAGER', None)
    return subprocess.run(['man', '-l', '--warnings=all', page], env=env,
                          capture_output=True, timeout=30)


@unittest.skipUnless(BUILD, 'MDG_BUILD_ROOT is not set')
class ManTest(unittest.TestCase):

    def test_pages_exist(self):
        names = [os.path.basename(s) for s in SOURCES]
        for want in ('madoguchid.8.scd', 'madoguchi-admin.8.scd', 'madoguchi.conf.5.scd'):
            self.assertIn(want, names)

    def test_render_without_warnings(self):
        for scd in SOURCES:
            page = built(scd)
            self.assertTrue(os.path.isfile(page), 'not built: %s' % page)
            self.assertGreaterEqual(os.path.getmtime(page), os.path.getmtime(scd),
                                    '%s is older than its source' % page)
            cp = render(page)
            out = cp.stdout.decode('utf-8', 'replace')
            err = cp.stderr.decode('utf-8', 'replace')
            self.assertEqual(cp.returncode, 0, err)
            self.assertEqual(err.strip(), '', '%s: man -l warned:\n%s' % (page, err))
            self.assertIn('NAME', out, page)
            name = os.path.basename(page).rsplit('.', 1)[0]
            self.assertIn(name, out)
            print('%s: %d lines' % (os.path.basename(page), out.count('\n')))

    def test_conf_page_documents_every_key(self):
        with open(os.path.join(harness.SOURCE_ROOT, 'config', 'madoguchi.conf'), encoding='utf-8') as f:
            example = f.read()
        with open(os.path.join(harness.SOURCE_ROOT, 'docs', 'man', 'madoguchi.conf.5.scd'),
                  encoding='utf-8') as f:
            page = f.read()
        section = None
        for line in example.splitlines():
            line = line.split(';')[0].strip()
            m = re.match(r'^\[(\w+)\]$', line)
            if m:
                section = m.group(1)
                self.assertIn('# [%s]' % section, page)
                continue
            if '=' in line:
                key = line.split('=')[0].strip()
                part = page.split('# [%s]' % section, 1)[1]
                self.assertIn('*%s* =' % key, part, '[%s] %s is not in madoguchi.conf(5)' % (section, key))

    def test_admin_page_lists_every_command(self):
        cp = harness.run([harness.ADMIN, '--help'])
        text = (cp.stdout + cp.stderr).decode('utf-8', 'replace')
        with open(os.path.join(harness.SOURCE_ROOT, 'docs', 'man', 'madoguchi-admin.8.scd'),
                  encoding='utf-8') as f:
            page = f.read()
        cmds = re.findall(r'^  ((?:db|crl|log)(?: [a-z]+)?)\b', text, re.M)
        self.assertIn('crl import', cmds)
        for c in cmds:
            words = c.split()
            if len(words) == 2 and not words[1].isalpha():
                continue
            self.assertRegex(page, r'\*%s\*' % re.escape(c), 'madoguchi-admin %s is not in the page' % c)


if __name__ == '__main__':
    harness.main()
