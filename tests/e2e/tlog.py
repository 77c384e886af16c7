"""A test-side verifier of the acceptance log, written apart from the
server's C code (server/receipt/): RFC 9162 section 2.1 Merkle trees, C2SP
signed notes and tlog-checkpoints, Ed25519 (RFC 8032) in pure Python.
Standard library only.

The proof verifiers here follow the recursive definitions of RFC 9162
(PATH, SUBPROOF) rather than the bit-walking algorithms of 2.1.3.2 and
2.1.4.2 the server's reference verifier uses, so the two implementations
do not share a mistake by construction.

Every check raises VerifyError with a reason; nothing returns False.
"""

import base64
import binascii
import hashlib

__all__ = ['VerifyError', 'leaf_hash', 'node_hash', 'root', 'root_of_hashes',
           'inclusion_proof', 'consistency_proof', 'verify_inclusion',
           'verify_consistency', 'ed25519_verify', 'key_id', 'parse_vkey',
           'open_note', 'parse_checkpoint', 'open_checkpoint']

EM_DASH = '\u2014'


class VerifyError(Exception):
    pass


# ---------------------------------------------------------------------------
# RFC 9162 2.1: the tree

def leaf_hash(content):
    return hashlib.sha256(b'\x00' + bytes(content)).digest()


def node_hash(left, right):
    return hashlib.sha256(b'\x01' + left + right).digest()


def _split(n):
    """The largest power of two smaller than n (n >= 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root_of_hashes(hashes):
    """MTH over leaf hashes, by the recursive definition."""
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b'').digest()
    if n == 1:
        return hashes[0]
    k = _split(n)
    return node_hash(root_of_hashes(hashes[:k]), root_of_hashes(hashes[k:]))


def root(contents):
    """The root of the tree over the leaf contents (receipt contents)."""
    return root_of_hashes([leaf_hash(c) for c in contents])


def inclusion_proof(hashes, index):
    """PATH(m, D[n]) of RFC 9162 2.1.3.1 over leaf hashes, deepest first."""
    n = len(hashes)
    if not 0 <= index < n:
        raise ValueError('index out of range')
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return inclusion_proof(hashes[:k], index) + [root_of_hashes(hashes[k:])]
    return inclusion_proof(hashes[k:], index - k) + [root_of_hashes(hashes[:k])]


def consistency_proof(hashes, m):
    """PROOF(m, D[n]) of RFC 9162 2.1.4.1, 0 < m <= n."""
    def sub(m, d, b):
        n = len(d)
        if m == n:
            return [] if b else [root_of_hashes(d)]
        k = _split(n)
        if m <= k:
            return sub(m, d[:k], b) + [root_of_hashes(d[k:])]
        return sub(m - k, d[k:], False) + [root_of_hashes(d[:k])]
    if not 0 < m <= len(hashes):
        raise ValueError('size out of range')
    return sub(m, hashes, True)


def _check_hash(h, what):
    if not isinstance(h, (bytes, bytearray)) or len(h) != 32:
        raise VerifyError('%s is not a 32-byte hash' % what)
    return bytes(h)


def verify_inclusion(index, size, leaf, proof, expected_root):
    """Leaf hash `leaf` is at `index` of the tree of `size` whose root is
    expected_root. The proof is rebuilt along PATH's recursion."""
    leaf = _check_hash(leaf, 'leaf hash')
    expected_root = _check_hash(expected_root, 'root')
    proof = [_check_hash(p, 'proof hash') for p in proof]
    if not (isinstance(index, int) and isinstance(size, int) and 0 <= index < size):
        raise VerifyError('index %r not in a tree of size %r' % (index, size))

    def walk(index, size, proof):
        if size == 1:
            if proof:
                raise VerifyError('inclusion proof too long')
            return leaf
        if not proof:
            raise VerifyError('inclusion proof too short')
        k = _split(size)
        sib, rest = proof[-1], proof[:-1]
        if index < k:
            return node_hash(walk(index, k, rest), sib)
        return node_hash(sib, walk(index - k, size - k, rest))

    if walk(index, size, proof) != expected_root:
        raise VerifyError('inclusion proof does not lead to the root')


def verify_consistency(m, n, root_m, root_n, proof):
    """The tree of size m (root_m) is a prefix of the tree of size n
    (root_n). Both roots are rebuilt along SUBPROOF's recursion."""
    root_m = _check_hash(root_m, 'first root')
    root_n = _check_hash(root_n, 'second root')
    proof = [_check_hash(p, 'proof hash') for p in proof]
    if not (isinstance(m, int) and isinstance(n, int) and 0 <= m <= n):
        raise VerifyError('sizes %r, %r are not 0 <= m <= n' % (m, n))
    if m == 0 or m == n:
        if proof:
            raise VerifyError('consistency proof must be empty')
        if m == n and root_m != root_n:
            raise VerifyError('same size, different roots')
        return

    def walk(m, n, proof, b):
        """(old hash, new hash) of this subtree."""
        if m == n:
            if b:
                if proof:
                    raise VerifyError('consistency proof too long')
                return root_m, root_m
            if len(proof) != 1:
                raise VerifyError('consistency proof of the wrong length')
            return proof[0], proof[0]
        if not proof:
            raise VerifyError('consistency proof too short')
        k = _split(n)
        sib, rest = proof[-1], proof[:-1]
        if m <= k:
            old, new = walk(m, k, rest, b)
            return old, node_hash(new, sib)
        old, new = walk(m - k, n - k, rest, False)
        return node_hash(sib, old), node_hash(sib, new)

    old, new = walk(m, n, proof, True)
    if old != root_m:
        raise VerifyError('consistency proof does not lead to the first root')
    if new != root_n:
        raise VerifyError('consistency proof does not lead to the second root')


# ---------------------------------------------------------------------------
# Ed25519 verification, RFC 8032 5.1 (cofactorless, as OpenSSL and Go check)

_P = 2 ** 255 - 19
_L = 2 ** 252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _inv(x):
    return pow(x, _P - 2, _P)


def _add(p, q):
    # extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _mul(s, p):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _equal(p, q):
    return ((p[0] * q[2] - q[0] * p[2]) % _P == 0 and
            (p[1] * q[2] - q[1] * p[2]) % _P == 0)


def _recover_x(y, sign):
    if y >= _P:
        return None
    x2 = (y * y - 1) * _inv(_D * y * y + 1) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


def _decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, 'little')
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % _P)


_GY = 4 * _inv(5) % _P
_G = (_recover_x(_GY, 0), _GY, 1, _recover_x(_GY, 0) * _GY % _P)


def ed25519_verify(pub, msg, sig):
    """Raises VerifyError unless sig is pub's Ed25519 signature of msg."""
    if len(pub) != 32 or len(sig) != 64:
        raise VerifyError('Ed25519 key or signature of the wrong length')
    a = _decompress(pub)
    r = _decompress(sig[:32])
    if a is None or r is None:
        raise VerifyError('Ed25519 point does not decode')
    s = int.from_bytes(sig[32:], 'little')
    if s >= _L:
        raise VerifyError('Ed25519 signature scalar out of range')
    h = int.from_bytes(hashlib.sha512(sig[:32] + pub + msg).digest(), 'little') % _L
    if not _equal(_mul(s, _G), _add(r, _mul(h, a))):
        raise VerifyError('Ed25519 signature does not verify')


# ---------------------------------------------------------------------------
# C2SP signed-note and tlog-checkpoint

def _b64decode(s):
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        raise VerifyError('not base64: %r' % s)
    if base64.b64encode(raw).decode('ascii') != s:
        raise VerifyError('not canonical base64: %r' % s)
    return raw


def _name_ok(name):
    return (name != '' and '+' not in name and
            not any(c.isspace() or ord(c) < 0x20 for c in name))


def key_id(name, pub):
    """First 4 bytes of SHA-256(name || 0x0A || 0x01 || key)."""
    return hashlib.sha256(name.encode('utf-8') + b'\n\x01' + pub).digest()[:4]


def parse_vkey(vkey):
    """'<name>+<8 hex>+<base64(0x01 || key)>' -> (name, key id, key)."""
    parts = vkey.split('+', 2)
    if len(parts) != 3:
        raise VerifyError('verifier key is not <name>+<hash>+<key>')
    name, hid, b64 = parts
    if not _name_ok(name):
        raise VerifyError('bad key name %r' % name)
    if len(hid) != 8 or any(c not in '0123456789abcdef' for c in hid):
        raise VerifyError('key ID is not 8 lowercase hex digits')
    raw = _b64decode(b64)
    if len(raw) != 33 or raw[0] != 1:
        raise VerifyError('not an Ed25519 verifier key')
    pub = raw[1:]
    if key_id(name, pub).hex() != hid:
        raise VerifyError('key ID does not match the key')
    return name, bytes.fromhex(hid), pub


def open_note(note, vkey):
    """Verifies a signed note against one verifier key and returns its text
    (str, final newline included). Lines of other keys are ignored."""
    name, kid, pub = parse_vkey(vkey)
    if isinstance(note, str):
        note = note.encode('utf-8')
    try:
        s = note.decode('utf-8', errors='strict')
    except UnicodeDecodeError:
        raise VerifyError('note is not UTF-8')
    if any(ord(c) < 0x20 and c != '\n' for c in s):
        raise VerifyError('note holds a control character')
    if not s.endswith('\n'):
        raise VerifyError('note does not end in a newline')
    split = s.rfind('\n\n')
    if split < 0:
        raise VerifyError('note has no blank line')
    text, sigs = s[:split + 1], s[split + 2:]
    lines = sigs.split('\n')[:-1]
    if not lines:
        raise VerifyError('note has no signature')
    if len(lines) > 100:
        raise VerifyError('too many signatures')
    verified = False
    for line in lines:
        if not line.startswith(EM_DASH + ' '):
            raise VerifyError('signature line does not start with an em dash: %r' % line)
        fields = line[2:].split(' ')
        if len(fields) != 2 or not _name_ok(fields[0]):
            raise VerifyError('malformed signature line %r' % line)
        raw = _b64decode(fields[1])
        if len(raw) < 5:
            raise VerifyError('signature too short')
        if verified or fields[0] != name or raw[:4] != kid:
            continue
        if len(raw) != 68:
            raise VerifyError('Ed25519 signature of the wrong length')
        ed25519_verify(pub, text.encode('utf-8'), raw[4:])
        verified = True
    if not verified:
        raise VerifyError('note not signed by %s' % name)
    return text


def parse_checkpoint(text):
    """'<origin>\\n<size>\\n<base64 root>\\n[extensions]' -> (origin, size, root)."""
    if not text.endswith('\n'):
        raise VerifyError('checkpoint does not end in a newline')
    lines = text[:-1].split('\n')
    if len(lines) < 3:
        raise VerifyError('checkpoint has fewer than three lines')
    origin, size, b64 = lines[:3]
    if not _name_ok(origin):
        raise VerifyError('bad origin %r' % origin)
    if not size.isdigit() or not size.isascii() or (size != '0' and size.startswith('0')):
        raise VerifyError('bad tree size %r' % size)
    n = int(size)
    if n >= 2 ** 64:
        raise VerifyError('tree size too large')
    h = _b64decode(b64)
    if len(h) != 32:
        raise VerifyError('root hash is not 32 bytes')
    return origin, n, h


def open_checkpoint(note, vkey, origin=None):
    """Verifies a checkpoint note; returns (origin, size, root). The origin
    must be `origin` (default: the key's name)."""
    text = open_note(note, vkey)
    o, n, h = parse_checkpoint(text)
    want = origin if origin is not None else parse_vkey(vkey)[0]
    if o != want:
        raise VerifyError('checkpoint origin %r, not %r' % (o, want))
    return o, n, h
