"""Replays every fuzz regression input (tests/fuzz/regressions/<target>/)
and every seed (tests/fuzz/corpus/<target>/) against the real programs, in
every build (the fuzz targets themselves run only in the ASan build):

- request, pipeline: POSTed to the daemon (pipeline inputs: the first byte
  selects procedure and media type as in fuzz_pipeline.c); every answer is
  one JSON object with a contract result and status, and the daemon lives;
- crl: `madoguchi-admin crl import` exits 0 or 1, never by a signal;
- config: `madoguchid --check-config` exits with a status, never by a signal.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DaemonCase, ENDPOINT  # noqa: E402

FUZZ = os.path.join(harness.SOURCE_ROOT, 'tests', 'fuzz')
RESULTS = set(harness.TITLES_JA)


def inputs(kind, target):
    d = os.path.join(FUZZ, kind, target)
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, f) for f in os.listdir(d)
                  if not f.startswith('.') and not f.startswith('README'))


def read(p):
    with open(p, 'rb') as f:
        return f.read()


class FuzzRegressions(DaemonCase):
    def check_answer(self, a, path, what):
        ctx = '%s (%s): %r' % (os.path.relpath(path, FUZZ), what, a)
        self.assertIsInstance(a.json, dict, ctx)
        self.assertIn(a.result, RESULTS, ctx)
        self.assertIn(a.status, harness.expected_statuses(a.result, a.json.get('procedure')), ctx)
        self.assertIsNone(self.daemon.proc.poll(), 'daemon died on ' + ctx)

    def test_request_inputs(self):
        files = inputs('regressions', 'request') + inputs('corpus', 'request')
        self.assertTrue(files)
        for p in files:
            body = read(p)
            for proc in ('validity-check', 'revocation'):
                self.check_answer(self.daemon.post(ENDPOINT[proc], body), p, proc)
        print('request: %d inputs replayed on both endpoints' % len(files))

    def test_pipeline_inputs(self):
        files = inputs('regressions', 'pipeline') + inputs('corpus', 'pipeline')
        self.assertTrue(files)
        for p in files:
            data = read(p)
            if not data:
                continue
            sel, body = data[0], data[1:]
            proc = 'revocation' if sel & 1 else 'validity-check'
            ctype = None if sel & 4 else 'application/cms' if sel & 2 else 'application/pkcs7-mime'
            self.check_answer(self.daemon.post(ENDPOINT[proc], body, content_type=ctype), p, proc)
        print('pipeline: %d inputs replayed' % len(files))

    def test_crl_inputs(self):
        files = inputs('regressions', 'crl') + inputs('corpus', 'crl')
        self.assertTrue(files)
        for p in files:
            cp = self.daemon.admin('crl', 'import', p)
            self.assertIn(cp.returncode, (0, 1), '%s: %r' % (p, cp))
        print('crl: %d inputs imported or refused' % len(files))

    def test_config_inputs(self):
        files = inputs('regressions', 'config') + inputs('corpus', 'config')
        self.assertTrue(files)
        for p in files:
            cp = harness.run([harness.DAEMON, '--config', p, '--check-config'], timeout=30)
            self.assertGreaterEqual(cp.returncode, 0, '%s: killed by signal %d' % (p, -cp.returncode))
            self.assertLess(cp.returncode, 64, '%s: %r' % (p, cp))
        print('config: %d inputs checked' % len(files))


if __name__ == '__main__':
    harness.main()
