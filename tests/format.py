#!/usr/bin/env python3
"""One dialect (issue 12): every C file of the tree is as clang-format makes
it with the repository's .clang-format. Fails naming each file that is not
(`clang-format -i FILE` fixes it), and fails if clang-format is missing
(deploy/install-deps.sh installs it).

Usage: format.py [SOURCE_ROOT]   (default: the parent of this file's folder)
"""

import os
import shutil
import subprocess
import sys

DIRS = ['server', 'admin', 'client', 'bench', 'tests']


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
    exe = shutil.which('clang-format')
    if exe is None:
        print('format: clang-format is not installed (deploy/install-deps.sh installs it)')
        return 1
    files = []
    for top in DIRS:
        for d, dirs, names in os.walk(os.path.join(root, top)):
            dirs[:] = sorted(x for x in dirs if not x.startswith('.') and not x.startswith('build'))
            files += [os.path.join(d, n) for n in sorted(names) if n.endswith(('.c', '.h'))]
    bad = []
    for i in range(0, len(files), 50):
        chunk = files[i:i + 50]
        cp = subprocess.run([exe, '--style=file', '--dry-run', '--Werror'] + chunk,
                            cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
        if cp.returncode != 0:
            for f in chunk:
                one = subprocess.run([exe, '--style=file', '--dry-run', '--Werror', f], cwd=root,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
                if one.returncode != 0:
                    bad.append(os.path.relpath(f, root))
    for f in bad:
        print('%s: not formatted (clang-format -i %s)' % (f, f))
    print('format: %d files, %d not formatted' % (len(files), len(bad)))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
