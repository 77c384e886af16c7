"""tlog.py checks itself against vectors that do not come from our C code:
the RFC 6962 test vectors (certificate-transparency's leaves, roots and
proofs), hand-computed small trees, the RFC 8032 Ed25519 test vectors and
the signed note of golang.org/x/mod/sumdb/note's documentation."""

import hashlib
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tlog  # noqa: E402
from tlog import VerifyError  # noqa: E402

h = bytes.fromhex

CT_LEAVES = [h(x) for x in ('', '00', '10', '2021', '3031', '40414243', '5051525354555657',
                            '606162636465666768696a6b6c6d6e6f')]
CT_ROOTS = [h(x) for x in (
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
    '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
    'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
    '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328')]

CT_INCLUSION = {
    (0, 8): ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
             '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
             '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'],
    (5, 8): ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
             'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
             'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'],
}
CT_CONSISTENCY = {
    (2, 8): ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
             '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'],
    (6, 8): ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
             'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
             'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'],
    (2, 5): ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
             'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'],
}

# RFC 8032 7.1 TEST 1, TEST 2, TEST 3
ED25519 = [
    ('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', '',
     'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46b'
     'd25bf5f0595bbe24655141438e7a100b'),
    ('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c', '72',
     '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c'
     '387b2eaeb4302aeeb00d291612bb0c00'),
    ('fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025', 'af82',
     '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc659'
     '4a7c15e9716ed28dc027beceea1ec40a'),
]

# golang.org/x/mod/sumdb/note's example
GO_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'
GO_TEXT = ('If you think cryptography is the answer to your problem,\n'
           "then you don't know what your problem is.\n")
GO_NOTE = GO_TEXT + '\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n'


def sha(b):
    return hashlib.sha256(b).digest()


class Tree(unittest.TestCase):

    def test_rfc6962_roots(self):
        for n in range(9):
            self.assertEqual(tlog.root(CT_LEAVES[:n]), CT_ROOTS[n], n)

    def test_by_hand(self):
        a, b, c = (sha(b'\x00' + x) for x in (b'a', b'b', b'c'))
        self.assertEqual(tlog.leaf_hash(b'a'), a)
        self.assertEqual(tlog.root([b'a']), a)
        self.assertEqual(tlog.root([b'a', b'b']), sha(b'\x01' + a + b))
        # size 3: the left subtree is the largest power of two, 2
        self.assertEqual(tlog.root([b'a', b'b', b'c']), sha(b'\x01' + sha(b'\x01' + a + b) + c))
        self.assertEqual(tlog.root([]), sha(b''))
        # leaf 2 of 3: one sibling, the left pair
        tlog.verify_inclusion(2, 3, c, [sha(b'\x01' + a + b)], tlog.root([b'a', b'b', b'c']))
        # 2 -> 3: the old root is a complete subtree, so only c
        tlog.verify_consistency(2, 3, sha(b'\x01' + a + b), tlog.root([b'a', b'b', b'c']), [c])

    def test_rfc6962_proofs(self):
        hashes = [tlog.leaf_hash(x) for x in CT_LEAVES]
        for (i, n), proof in CT_INCLUSION.items():
            proof = [h(x) for x in proof]
            self.assertEqual(tlog.inclusion_proof(hashes[:n], i), proof)
            tlog.verify_inclusion(i, n, hashes[i], proof, CT_ROOTS[n])
        for (m, n), proof in CT_CONSISTENCY.items():
            proof = [h(x) for x in proof]
            self.assertEqual(tlog.consistency_proof(hashes[:n], m), proof)
            tlog.verify_consistency(m, n, CT_ROOTS[m], CT_ROOTS[n], proof)

    def test_every_proof_small_trees(self):
        hashes = [tlog.leaf_hash(b'leaf %d' % i) for i in range(33)]
        roots = [tlog.root_of_hashes(hashes[:n]) for n in range(34)]
        for n in range(1, 34):
            for i in range(n):
                p = tlog.inclusion_proof(hashes[:n], i)
                tlog.verify_inclusion(i, n, hashes[i], p, roots[n])
                with self.assertRaises(VerifyError):
                    tlog.verify_inclusion(i, n, hashes[(i + 1) % 33], p, roots[n])
                if p:
                    bad = list(p)
                    bad[0] = bytes([bad[0][0] ^ 1]) + bad[0][1:]
                    with self.assertRaises(VerifyError):
                        tlog.verify_inclusion(i, n, hashes[i], bad, roots[n])
                    with self.assertRaises(VerifyError):
                        tlog.verify_inclusion(i, n, hashes[i], p[:-1], roots[n])
                    with self.assertRaises(VerifyError):
                        tlog.verify_inclusion(i, n, hashes[i], p + [roots[0]], roots[n])
            for m in range(1, n + 1):
                p = tlog.consistency_proof(hashes[:n], m)
                tlog.verify_consistency(m, n, roots[m], roots[n], p)
                if m < n:
                    with self.assertRaises(VerifyError):
                        tlog.verify_consistency(m, n, roots[m - 1] if m > 1 else roots[n], roots[n], p)
                    with self.assertRaises(VerifyError):
                        tlog.verify_consistency(m, n, roots[m], roots[n], p[:-1])
                    for j in range(len(p)):
                        bad = list(p)
                        bad[j] = bytes([bad[j][0] ^ 0x80]) + bad[j][1:]
                        with self.assertRaises(VerifyError):
                            tlog.verify_consistency(m, n, roots[m], roots[n], bad)
        tlog.verify_consistency(0, 5, roots[0], roots[5], [])
        with self.assertRaises(VerifyError):
            tlog.verify_consistency(5, 5, roots[5], roots[6], [])


class Notes(unittest.TestCase):

    def test_rfc8032(self):
        for pub, msg, sig in ED25519:
            tlog.ed25519_verify(h(pub), h(msg), h(sig))
            with self.assertRaises(VerifyError):
                tlog.ed25519_verify(h(pub), h(msg) + b'x', h(sig))
            bad = bytearray(h(sig))
            bad[5] ^= 1
            with self.assertRaises(VerifyError):
                tlog.ed25519_verify(h(pub), h(msg), bytes(bad))
            bad = bytearray(h(sig))
            bad[40] ^= 1
            with self.assertRaises(VerifyError):
                tlog.ed25519_verify(h(pub), h(msg), bytes(bad))

    def test_go_note(self):
        name, kid, pub = tlog.parse_vkey(GO_VKEY)
        self.assertEqual((name, kid), ('PeterNeumann', h('c74f20a3')))
        self.assertEqual(tlog.key_id(name, pub), kid)
        self.assertEqual(tlog.open_note(GO_NOTE, GO_VKEY), GO_TEXT)
        with self.assertRaises(VerifyError):
            tlog.open_note(GO_NOTE.replace('cryptography', 'cryptographY'), GO_VKEY)
        with self.assertRaises(VerifyError):
            tlog.open_note(GO_NOTE.replace('\u2014', '--'), GO_VKEY)
        with self.assertRaises(VerifyError):
            tlog.open_note(GO_TEXT, GO_VKEY)
        # another key's line before ours is ignored
        other = '\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n'
        self.assertEqual(tlog.open_note(GO_TEXT + '\n' + other + GO_NOTE[len(GO_TEXT) + 1:], GO_VKEY), GO_TEXT)

    def test_vkey_mangled(self):
        for i in range(len(GO_VKEY)):
            for j in range(i + 1, len(GO_VKEY) + 1):
                if (i, j) != (0, len(GO_VKEY)):
                    with self.assertRaises(VerifyError, msg=GO_VKEY[i:j]):
                        tlog.parse_vkey(GO_VKEY[i:j])

    def test_checkpoint_text(self):
        # the example of c2sp.org/tlog-checkpoint
        text = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n'
        origin, n, r = tlog.parse_checkpoint(text)
        self.assertEqual((origin, n, len(r)), ('example.com/behind-the-sofa', 20852163, 32))
        tlog.parse_checkpoint(text + 'extension line\n')
        for bad in (text[:-1], 'o\n012\n' + text.split('\n')[2] + '\n', 'o\n1\n', 'a b\n1\n' + text.split('\n')[2] + '\n',
                    'o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2=\n'):
            with self.assertRaises(VerifyError, msg=bad):
                tlog.parse_checkpoint(bad)


if __name__ == '__main__':
    unittest.main()
