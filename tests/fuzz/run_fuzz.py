#!/usr/bin/env python3
"""Runs one libFuzzer target the way CI does: first every checked-in
regression input once (tests/fuzz/regressions/<target>/), then a bounded,
seeded fuzzing run from the checked-in corpus (tests/fuzz/corpus/<target>/)
into a scratch corpus, so the source tree is never written.  Prints the
execution count.  A crash fails the test and prints the input (hex) and how
to keep it as a regression.

usage: run_fuzz.py FUZZ_EXE TARGET SECONDS
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get('MDG_FUZZ_DATA', HERE)


def inputs(d):
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, f) for f in os.listdir(d)
                  if not f.startswith('.') and not f.startswith('README'))


def main():
    exe, target, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    work = tempfile.mkdtemp(prefix='mdg-fuzz-%s-' % target)
    try:
        regs = inputs(os.path.join(DATA, 'regressions', target))
        if regs:
            cp = subprocess.run([exe, '-rss_limit_mb=2048', '-timeout=20'] + regs,
                                capture_output=True, timeout=300)
            if cp.returncode != 0:
                sys.stdout.write(cp.stderr.decode('utf-8', 'replace')[-6000:])
                print('fuzz-%s: a regression input fails again' % target)
                return 1
        print('fuzz-%s: %d regression input(s) replayed, all pass' % (target, len(regs)))

        seeds = os.path.join(DATA, 'corpus', target)
        scratch = os.path.join(work, 'corpus')
        os.mkdir(scratch)
        cmd = [exe, '-max_total_time=%d' % seconds, '-seed=1', '-rss_limit_mb=2048',
               '-timeout=10', '-max_len=16384', '-print_final_stats=1',
               '-artifact_prefix=' + work + '/', scratch, seeds]
        cp = subprocess.run(cmd, capture_output=True, timeout=seconds + 120)
        err = cp.stderr.decode('utf-8', 'replace')
        m = re.search(r'stat::number_of_executed_units:\s*(\d+)', err)
        execs = int(m.group(1)) if m else None
        cov = re.findall(r'cov: (\d+) ft: (\d+)', err)
        print('fuzz-%s: %s executions in %d s from %d seed(s); final cov %s; corpus grew to %d'
              % (target, execs, seconds, len(inputs(seeds)),
                 cov[-1][0] if cov else '?', len(os.listdir(scratch))))
        if cp.returncode != 0:
            sys.stdout.write(err[-8000:])
            for a in os.listdir(work):
                p = os.path.join(work, a)
                if os.path.isfile(p):
                    with open(p, 'rb') as f:
                        data = f.read()
                    print('artifact %s (%d bytes): %s' % (a, len(data), data[:4096].hex()))
                    print('keep it: save these bytes as tests/fuzz/regressions/%s/<name>' % target)
            print('fuzz-%s: FAILED (exit %d)' % (target, cp.returncode))
            return 1
        if not execs:
            sys.stdout.write(err[-3000:])
            print('fuzz-%s: no executions counted' % target)
            return 1
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
