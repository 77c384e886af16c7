#!/usr/bin/env python3
"""The layering of docs/architecture.md, checked on the source tree.

Fails when
- a file in a server/ folder includes a header of a folder above it
  (bottom up: common, receipt, store, pki, checks, operator, http; pki takes
  only store.h of the store, for its types, and receipt, below the store,
  takes store.h's row types only);
- a C file outside server/store/ includes sqlite3.h or names a backend's
  constructor (mdg_store_sqlite_...): the store is opened through its door,
  mdg_store_open (the SQLite backend's own unit tests excepted);
- a C file is over 900 lines (tests/unit excepted).

Usage: layers.py [SOURCE_ROOT]   (default: the parent of this file's folder)
"""

import os
import re
import sys

# bottom up; a folder may include its own headers and those of the folders
# below it
ORDER = ['common', 'receipt', 'store', 'pki', 'checks', 'operator', 'http']
# what a folder may take of a folder below it, where not everything
ONLY = {('pki', 'store'): {'store.h'}}
# what a folder may take of a folder above it: the types of store.h, for
# the receipt content the store derives from its rows
UP = {('receipt', 'store'): {'store.h'}}
MAX_LINES = 900
LINE_DIRS = ['server', 'admin', 'client', 'bench', 'tests']
LINE_EXEMPT = ['tests/unit/']
# the SQLite backend's unit tests look behind the interface on purpose;
# bench/mkcrl.c seeds a benchmark's SQLite file with millions of CRL entries
# directly (no signed CRL of that size exists to import); bench/mklog.c
# seeds one with millions of acceptances and their Merkle tree the same way
BACKEND_EXEMPT = {'tests/unit/test_store.c', 'tests/unit/test_acceptlog.c', 'bench/mkcrl.c', 'bench/mklog.c'}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def c_files(root, top):
    for d, dirs, files in os.walk(os.path.join(root, top)):
        dirs[:] = sorted(x for x in dirs if not x.startswith('.') and x != 'build')
        for f in sorted(files):
            if f.endswith('.c') or f.endswith('.h'):
                p = os.path.join(d, f)
                yield os.path.relpath(p, root).replace(os.sep, '/')


def read(root, rel):
    with open(os.path.join(root, rel), encoding='utf-8', errors='replace') as f:
        return f.read()


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
    problems = []

    # which folder owns each header of the core library (included by bare name)
    owner = {}
    for rel in c_files(root, 'server'):
        parts = rel.split('/')
        if len(parts) == 3 and rel.endswith('.h'):
            owner.setdefault(parts[2], parts[1])

    for rel in c_files(root, 'server'):
        parts = rel.split('/')
        if len(parts) != 3:
            continue            # server/madoguchid.c: above every layer
        folder = parts[1]
        if folder not in ORDER:
            problems.append('%s: folder server/%s/ is not in the layer order of '
                            'docs/architecture.md (tests/layers.py ORDER)' % (rel, folder))
            continue
        for m in INCLUDE.finditer(read(root, rel)):
            if m.group(1) != '"':
                continue
            hdr = os.path.basename(m.group(2))
            theirs = owner.get(hdr)
            if theirs is None or theirs == folder:
                continue
            if ORDER.index(theirs) > ORDER.index(folder) and hdr not in UP.get((folder, theirs), ()):
                problems.append('%s includes %s of server/%s/, a layer above server/%s/'
                                % (rel, hdr, theirs, folder))
            elif (folder, theirs) in ONLY and hdr not in ONLY[(folder, theirs)]:
                problems.append('%s includes %s: server/%s/ takes only %s of server/%s/'
                                % (rel, hdr, folder, ', '.join(sorted(ONLY[(folder, theirs)])),
                                   theirs))

    seen = set()
    for top in LINE_DIRS:
        if not os.path.isdir(os.path.join(root, top)):
            continue
        for rel in c_files(root, top):
            if rel in seen:
                continue
            seen.add(rel)
            text = read(root, rel)
            if not rel.startswith('server/store/') and rel not in BACKEND_EXEMPT:
                for m in INCLUDE.finditer(text):
                    if os.path.basename(m.group(2)) == 'sqlite3.h':
                        problems.append('%s includes sqlite3.h: only server/store/ names a '
                                        'database' % rel)
                if 'mdg_store_sqlite_' in text:
                    problems.append('%s names mdg_store_sqlite_...: open the store through '
                                    'mdg_store_open (store.h)' % rel)
            if rel.endswith('.c') and not any(rel.startswith(e) for e in LINE_EXEMPT):
                n = text.count('\n')
                if n > MAX_LINES:
                    problems.append('%s: %d lines, over %d: split it' % (rel, n, MAX_LINES))

    for p in problems:
        print(p)
    if problems:
        print('layers: %d problem%s' % (len(problems), '' if len(problems) == 1 else 's'))
        return 1
    print('layers: ok')
    return 0


if __name__ == '__main__':
    sys.exit(main())
