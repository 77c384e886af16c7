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


class DocsAgree(unittest.TestCase):
    """Issue 16 item 8: what the docs said wrong."""

    def read(self, *path):
        with open(os.path.join(harness.SOURCE_ROOT, *path), encoding='utf-8') as f:
            return f.read()

    def test_names_are_always_shown(self):
        for path in (('README.md',), ('docs', 'man', 'madoguchi-admin.8.scd')):
            text = self.read(*path)
            self.assertNotIn('names only with', text, path)
            self.assertNotRegex(text, r'\(name, address, birth date\) is shown only', path)
            self.assertIn('--show-personal-data', text, path)
        self.assertRegex(self.read('docs', 'man', 'madoguchi-admin.8.scd'), r'name is always\s+shown')

    def test_example_config_points_to_what_exists(self):
        text = self.read('config', 'madoguchi.conf')
        for ref in re.findall(r'docs/[\w./-]+', text):
            self.assertTrue(os.path.exists(os.path.join(harness.SOURCE_ROOT, ref)), ref)
        self.assertIn('madoguchi.conf(5)', text)

    def test_unit_path_is_where_meson_installs(self):
        meson = self.read('deploy', 'meson.build')
        self.assertIn("unitdir = prefix / 'lib' / 'systemd' / 'system'", meson)
        want = '/usr/lib/systemd/system/madoguchid.service'     # --prefix=/usr
        self.assertIn('_%s_' % want, self.read('docs', 'man', 'madoguchid.8.scd'))
        self.assertIn('`%s`' % want, self.read('docs', 'deploy.md'))
        for path in (('docs', 'man', 'madoguchid.8.scd'), ('docs', 'deploy.md')):
            self.assertNotRegex(self.read(*path), r'(?<!/usr)/lib/systemd/system/madoguchid', path)

    def test_deploy_md_opens_cleanly(self):
        text = self.read('docs', 'deploy.md')
        head = text.split('\n## ', 1)[0]
        self.assertNotRegex(head, r'```\n +\S', 'a paragraph glued to a code block')
        self.assertNotRegex(head, r'(?m)^ [A-Za-z]', 'a line starting with a stray space')

    def test_readme_quick_start(self):
        text = self.read('README.md')
        self.assertIn('MADOGUCHI_PORT', text)
        self.assertIn('MADOGUCHI_ADMIN_PORT', text)
        self.assertRegex(text, r'deletes `demo/`')
        quick = self.read('deploy', 'quickstart.sh')
        self.assertIn('MADOGUCHI_PORT', quick)
        self.assertIn('MADOGUCHI_ADMIN_PORT', quick)
        self.assertIn('rm -rf "$demo"', quick)


if __name__ == '__main__':
    harness.main()
