"""The bad-input catalogue: well over a hundred crafted requests, each with
the result and HTTP status DESIGN.md's check order gives it, sent to the
real daemon.  The crafted CMS comes from `openssl cms` plus DER surgery done
here with a tiny DER codec.  After the catalogue the daemon must still be
alive and answer a good request `valid`.

test_garbage.py covers the basics one by one (empty body, wrong types...);
this file is the table: one row per case, all run, every mismatch listed.
"""

import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DaemonCase, ENDPOINT, make_form, sign, sign_as, raw_exchange  # noqa: E402

VC = 'validity-check'
REV = 'revocation'
CMS = 'application/pkcs7-mime'

# ---------------------------------------------------------------- tiny DER codec


class Node:
    """A DER TLV: tag byte, and children (constructed) or raw content."""

    def __init__(self, tag, content=b'', kids=None):
        self.tag, self.content, self.kids = tag, content, kids

    def enc(self):
        body = b''.join(k.enc() for k in self.kids) if self.kids is not None else self.content
        return bytes([self.tag]) + dlen(len(body)) + body

    def __getitem__(self, i):
        return self.kids[i]


def dlen(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, 'big')
    return bytes([0x80 | len(b)]) + b


def dparse(buf, off=0, depth=0):
    """Parses one TLV at off; returns (Node, next offset)."""
    tag = buf[off]
    n = buf[off + 1]
    p = off + 2
    if n >= 0x80:
        k = n & 0x7f
        n = int.from_bytes(buf[p:p + k], 'big')
        p += k
    content = buf[p:p + n]
    # constructed (but not OCTET STRINGs we want opaque): parse children
    if tag & 0x20 and depth < 12:
        kids, q = [], 0
        while q < len(content):
            kid, q2 = dparse(content, q, depth + 1)
            kids.append(kid)
            q = q2
        return Node(tag, kids=kids), p + n
    return Node(tag, content), p + n


def tlv(tag, content):
    return bytes([tag]) + dlen(len(content)) + content


def oid(dotted):
    parts = [int(x) for x in dotted.split('.')]
    out = bytes([40 * parts[0] + parts[1]])
    for v in parts[2:]:
        enc = [v & 0x7f]
        v >>= 7
        while v:
            enc.append(0x80 | (v & 0x7f))
            v >>= 7
        out += bytes(reversed(enc))
    return Node(0x06, out)


def cms_tree(der):
    return dparse(der)[0]


# paths in the ContentInfo tree
def sd(t):        # SignedData
    return t[1][0]


def sd_field(t, tag):
    return [k for k in sd(t).kids if k.tag == tag]


def signer_infos(t):
    return sd(t).kids[-1]


def signer(t):
    return signer_infos(t)[0]


def certs(t):
    return sd_field(t, 0xA0)[0]


def econtent(t):
    """The OCTET STRING holding the form."""
    eci = sd(t)[2]
    return eci[1][0]


def signed_attrs(t):
    return [k for k in signer(t).kids if k.tag == 0xA0][0]


def flip(b, i):
    b = bytearray(b)
    b[i] ^= 0x01
    return bytes(b)


def sort_set(node):
    """DER SET OF order (X.690 11.6)."""
    node.kids.sort(key=lambda k: k.enc())
    return node


def junk_attr(i, value=None):
    return Node(0x30, kids=[oid('1.2.3.4.%d' % i), Node(0x31, kids=[value or Node(0x0C, b'x')])])


def attr_of(sa, dotted):
    want = oid(dotted).content
    return [a for a in sa.kids if a[0].content == want]


OID_CT, OID_MD, OID_ST = '1.2.840.113549.1.9.3', '1.2.840.113549.1.9.4', '1.2.840.113549.1.9.5'
OID_ESS2 = '1.2.840.113549.1.9.16.2.47'
OID_SHA1, OID_SHA256, OID_SHA384, OID_SHA512 = ('1.3.14.3.2.26', '2.16.840.1.101.3.4.2.1',
                                                '2.16.840.1.101.3.4.2.2', '2.16.840.1.101.3.4.2.3')


def digest_alg(dotted, params=None):
    return Node(0x30, kids=[oid(dotted)] + ([params] if params is not None else []))


def resign(t, key, md='sha256'):
    """Signs the SignerInfo again (RSA PKCS#1 v1.5) over what it now holds: the
    signed attributes' bytes as a DER SET, else the content. The rule under
    test is then the only thing wrong with the request."""
    sa = [k for k in signer(t).kids if k.tag == 0xA0]
    tbs = b'\x31' + sa[0].enc()[1:] if sa else econtent(t).content
    cp = harness.run(['openssl', 'dgst', '-' + md, '-sign', key, '-binary'], input=tbs, check=True)
    s = signer(t)
    idx = [i for i, k in enumerate(s.kids) if k.tag == 0x04][-1]
    s.kids[idx] = Node(0x04, cp.stdout)
    return t


# ---------------------------------------------------------------- the catalogue


class Case:
    def __init__(self, name, body, result, status, proc=VC, ctype=CMS, path=None,
                 method='POST', headers=None, raw=None):
        self.name, self.body, self.result, self.status = name, body, result, status
        self.proc, self.ctype, self.method, self.headers, self.raw = proc, ctype, method, headers, raw
        self.path = path or ENDPOINT.get(proc, '/v1/validity-checks')


class BadInput(DaemonCase):
    server = {'max_body': 65536}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cases = []

    def nonce_key(self):
        with open(self.daemon.nonce_key, 'rb') as f:
            return f.read()

    def make_nonce(self, expiry, key=None, rnd=None):
        raw = struct.pack('>Q', expiry) + (rnd or os.urandom(16))
        mac = hmac.new(key or self.nonce_key(), raw, hashlib.sha256).digest()
        return harness.b64url_encode(raw + mac)

    def build(self):
        P = self.pki
        h = P.holder('valid-01')
        h2 = P.holder('valid-02')
        app = dict(h['applicant'])
        nonce = self.daemon.get_nonce()
        C = []

        def add(*a, **kw):
            C.append(Case(*a, **kw))

        def signed(form_bytes, holder=h, extra=(), md='sha256', **kw):
            return sign_as(holder, form_bytes, extra_args=list(extra), md=md, **kw)

        def form(proc=VC, **over):
            f = {'procedure': proc, 'applicant': dict(app), 'nonce': nonce}
            for k, v in over.items():
                if v is DROP:
                    f.pop(k, None)
                else:
                    f[k] = v
            return json.dumps(f, ensure_ascii=False).encode()

        good = signed(form())
        good_rev_form = form(REV, reason='keyCompromise')
        t = cms_tree(good)
        assert t.enc() == good, 'DER codec does not round-trip'

        # ---- A. transport: media type, size, method, path
        add('no content type', good, 'malformed', 415, ctype=None)
        for ct in ('text/plain', 'application/json', 'application/octet-stream',
                   'application/pkcs7-signature', 'application/cmsx', 'application/pkcs7',
                   'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded',
                   'pkcs7-mime', ''):
            add('media type %r' % ct, good, 'malformed', 415, ctype=ct)
        add('media type with parameters', good, 'valid', 200,
            ctype='application/pkcs7-mime; smime-type=signed-data; name=smime.p7m')
        add('media type upper case', good, 'valid', 200, ctype='APPLICATION/CMS')
        add('empty body', b'', 'malformed', 400)
        add('empty body, revocation', b'', 'malformed', 400, proc=REV)
        add('body over max_body', good + b'\0' * 70000, 'malformed', 413)
        add('over max_body, wrong type too (size first)', b'\0' * 70000, 'malformed', 413,
            ctype='text/plain')
        add('GET on the revocation endpoint', None, 'malformed', 405, proc=REV, method='GET')
        add('PUT on the validity endpoint', good, 'malformed', 405, method='PUT')
        add('DELETE on the revocation endpoint', None, 'malformed', 405, proc=REV, method='DELETE')
        add('unknown path', good, 'malformed', 404, path='/v1/revocation', proc=None)
        add('trailing slash', good, 'malformed', 404, path='/v1/validity-checks/', proc=None)
        add('path with query string', good, 'valid', 200, path='/v1/validity-checks?x=1')
        add('version 2 path', good, 'malformed', 404, path='/v2/validity-checks', proc=None)
        add('huge Content-Length, few bytes', None, 'malformed', 413,
            raw=b'POST /v1/validity-checks HTTP/1.1\r\nHost: x\r\nContent-Type: application/cms\r\n'
                b'Content-Length: 99999999999999\r\n\r\n0123')
        add('Content-Length just over max_body', None, 'malformed', 413,
            raw=b'POST /v1/revocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/cms\r\n'
                b'Content-Length: 65537\r\nConnection: close\r\n\r\n', proc=REV)

        # ---- B. DER framing
        for n in (1, 2, 3, 10, 64, len(good) // 2, len(good) - 1):
            add('truncated to %d bytes' % n, good[:n], 'malformed', 400)
        add('one trailing zero byte', good + b'\0', 'malformed', 400)
        add('trailing garbage', good + b'garbage', 'malformed', 400)
        add('a second copy appended', good + good, 'malformed', 400)
        hdr = len(t.enc()) - len(b''.join(k.enc() for k in t.kids))
        inner = good[hdr:]
        add('outer length lies long', bytes([0x30, 0x83]) + (len(inner) + 50).to_bytes(3, 'big') + inner,
            'malformed', 400)
        add('outer length lies short', bytes([0x30, 0x82]) + (len(inner) - 50).to_bytes(2, 'big') + inner,
            'malformed', 400)
        add('outer length 4 GiB', bytes([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]) + inner, 'malformed', 400)
        add('outer length of 9 bytes', bytes([0x30, 0x89]) + b'\0' * 7 + len(inner).to_bytes(2, 'big') + inner,
            'malformed', 400)
        add('non-minimal outer length', bytes([0x30, 0x84]) + len(inner).to_bytes(4, 'big') + inner,
            'malformed', 400)
        add('indefinite outer length', bytes([0x30, 0x80]) + inner + b'\0\0', 'malformed', 400)
        # indefinite length inside: the SignedData's [0] wrapper
        ci_oid = t[0].enc()
        sd_der = sd(t).enc()
        add('indefinite [0] wrapper', tlv(0x30, ci_oid + bytes([0xA0, 0x80]) + sd_der + b'\0\0'),
            'malformed', 400)
        add('indefinite SignedData', tlv(0x30, ci_oid + tlv(0xA0, bytes([0x30, 0x80]) +
                                                             b''.join(k.enc() for k in sd(t).kids) + b'\0\0')),
            'malformed', 400)
        add('outer tag SET', bytes([0x31]) + good[1:], 'malformed', 400)
        add('outer tag OCTET STRING', bytes([0x04]) + good[1:], 'malformed', 400)
        add('single byte 0x30', b'\x30', 'malformed', 400)
        add('empty SEQUENCE', b'\x30\x00', 'malformed', 400)
        add('indefinite empty', b'\x30\x80\x00\x00', 'malformed', 400)
        add('nesting bomb', b'\x30\x80' * 20000, 'malformed', 400)
        add('definite nesting 2000 deep', _nest(2000), 'malformed', 400)
        add('all zeros', b'\0' * 4096, 'malformed', 400)
        add('all 0xff', b'\xff' * 4096, 'malformed', 400)
        add('random bytes', os.urandom(3000), 'malformed', 400)
        add('the form unsigned', form(), 'malformed', 400)
        with open(h['cert'], 'rb') as f:
            cert_der = harness.pem_bytes_to_der(f.read())
        add('a certificate instead of a CMS', cert_der, 'malformed', 400)
        with open(P.crl_file('jlis-full'), 'rb') as f:
            add('a CRL instead of a CMS', f.read(), 'malformed', 400)
        # content type OIDs
        t2 = cms_tree(good)
        t2.kids[0] = oid('1.2.840.113549.1.7.1')
        add('ContentInfo says id-data', t2.enc(), 'malformed', 400)
        t2.kids[0] = oid('1.2.840.113549.1.7.3')
        add('ContentInfo says envelopedData', t2.enc(), 'malformed', 400)
        t2.kids[0] = Node(0x06, b'')
        add('ContentInfo OID empty', t2.enc(), 'malformed', 400)
        # SignedData version: 1 (or 3, signer by key identifier) only
        for v in (0, 2, 4, 99):
            t2 = cms_tree(good)
            sd(t2).kids[0] = Node(0x02, bytes([v]))
            add('SignedData version %d' % v, t2.enc(), 'malformed', 400)
        t2 = cms_tree(good)
        sd(t2).kids[0] = Node(0x02, b'\x00\x01')
        add('SignedData version not minimal', t2.enc(), 'malformed', 400)
        t2 = cms_tree(good)
        sd(t2).kids[2].kids[0] = oid('1.2.840.113549.1.9.16.1.4')
        add('eContentType TSTInfo (surgery)', t2.enc(), 'malformed', 400)
        t2 = cms_tree(good)
        del sd(t2).kids[2].kids[1]
        add('eContent removed (detached by surgery)', t2.enc(), 'malformed', 400)

        # ---- C. CMS structure (openssl and surgery)
        add('detached content', signed(form(), nodetach=False), 'malformed', 400)
        add('two signers', sign(form(), None, None, signers=[(h['cert'], h['key']), (h2['cert'], h2['key'])]),
            'malformed', 400)
        add('no certificate', signed(form(), extra=['-nocerts']), 'malformed', 400)
        add('two certificates', signed(form(), extra=['-certfile', h2['cert']]), 'malformed', 400)
        add('CA certificate as well', signed(form(), extra=['-certfile', P.ca_cert('jlis-g2')]),
            'malformed', 400)
        add('wrong certificate (sid mismatch)', signed(form(), extra=['-nocerts', '-certfile', h2['cert']]),
            'malformed', 400)
        t2 = cms_tree(good)
        sd(t2).kids[-1].kids = []
        add('no SignerInfo', t2.enc(), 'malformed', 400)
        t2 = cms_tree(good)
        certs(t2).kids = []
        add('empty certificates set', t2.enc(), 'malformed', 400)
        t2 = cms_tree(good)
        sd(t2).kids[-1].kids.append(sd(t2).kids[-1].kids[0])
        add('the same SignerInfo twice', t2.enc(), 'malformed', 400)
        t2 = cms_tree(good)
        certs(t2).kids.append(certs(t2).kids[0])
        add('the same certificate twice', t2.enc(), 'malformed', 400)
        with open(P.crl_file('jlis-full'), 'rb') as f:
            add('a CRL in crls', harness.cms_insert_crls(good, f.read()), 'malformed', 400)
        add('eContentType not id-data', signed(form(), extra=['-econtent_type', '1.2.3.4']), 'malformed', 400)
        add('sid by subjectKeyIdentifier', signed(form(), extra=['-keyid']), 'valid', 200)
        t2 = cms_tree(good)
        certs(t2).kids[0] = Node(0x30, b'\x02\x01\x01')
        add('certificate that does not parse', t2.enc(), 'malformed', 400)
        t2 = cms_tree(good)
        certs(t2).kids[0] = Node(0x30, cert_der[4:200])
        add('certificate truncated inside', t2.enc(), 'malformed', 400)

        # ---- C2. the structure rules of issue 11 (DESIGN.md step 2, 2026-12-01)
        key = h['key']
        rev_h = P.holder('valid-05')
        rev_good = sign_as(rev_h, form_for(P, 'valid-05', nonce, REV, 'keyCompromise'))

        def both(name, build, result='malformed', status=400):
            """The case on the check endpoint and as valid-05's revocation."""
            add(name, build(good, key), result, status)
            add(name + ', revocation', build(rev_good, rev_h['key']), result,
                422 if result == 'badRequestSignature' else status, proc=REV)

        def extra_empty_certs(der, k):
            t2 = cms_tree(der)
            sd(t2).kids.insert(4, Node(0xA0, kids=[]))
            return t2.enc()
        both('[0]{cert}, [0]{}: a second, empty certificates field', extra_empty_certs)

        def empty_certs_first(der, k):
            t2 = cms_tree(der)
            sd(t2).kids.insert(3, Node(0xA0, kids=[]))
            return t2.enc()
        both('[0]{}, [0]{cert}: an empty certificates field first', empty_certs_first)

        def cert_in_two_fields(der, k):
            t2 = cms_tree(der)
            sd(t2).kids.insert(4, Node(0xA0, kids=[certs(t2)[0]]))
            return t2.enc()
        add('the certificate in two certificates fields', cert_in_two_fields(good, key), 'malformed', 400)
        t2 = cms_tree(good)
        sd(t2).kids.insert(4, Node(0xA1, kids=[]))
        add('crls [1] present and empty', t2.enc(), 'malformed', 400)

        def no_digest_algs(der, k):
            t2 = cms_tree(der)
            sd(t2)[1].kids = []
            return t2.enc()
        both('digestAlgorithms empty', no_digest_algs)

        def sha1_only(der, k):
            t2 = cms_tree(der)
            sd(t2)[1].kids = [digest_alg(OID_SHA1)]
            return t2.enc()
        both('digestAlgorithms SHA-1 only (signer SHA-256)', sha1_only)

        def primitive_set(der, k):
            t2 = cms_tree(der)
            sd(t2).kids[1] = Node(0x11, b''.join(x.enc() for x in sd(t2)[1].kids))
            return t2.enc()
        both('digestAlgorithms a primitive 0x11 SET', primitive_set)
        t2 = cms_tree(good)
        sd(t2).kids[1] = Node(0x31, kids=[digest_alg(OID_SHA256)] * 9)
        add('9 digestAlgorithms', t2.enc(), 'malformed', 400)
        t2 = cms_tree(good)
        sd(t2).kids[1] = Node(0x31, kids=[digest_alg(OID_SHA256)] * 8)
        add('8 digestAlgorithms (allowed)', t2.enc(), 'valid', 200)
        t2 = cms_tree(good)
        sd(t2).kids[1] = Node(0x31, kids=[digest_alg(OID_SHA512), digest_alg(OID_SHA256)])
        add('digestAlgorithms not in DER SET order', t2.enc(), 'malformed', 400)
        t2 = cms_tree(good)
        sd(t2).kids[1] = Node(0x31, kids=[digest_alg(OID_SHA256), digest_alg(OID_SHA512)])
        add('digestAlgorithms SHA-256, SHA-512 (allowed)', t2.enc(), 'valid', 200)
        t2 = cms_tree(good)
        sd(t2).kids[1] = Node(0x31, kids=[digest_alg(OID_SHA256, Node(0x05))])
        add('digestAlgorithms SHA-256 with NULL, signer without (allowed)', t2.enc(), 'valid', 200)
        t2 = cms_tree(good)
        sd(t2).kids[1] = Node(0x31, kids=[digest_alg(OID_SHA256, Node(0x02, b'\x01'))])
        add('digestAlgorithms parameters an INTEGER', t2.enc(), 'malformed', 400)
        t2 = cms_tree(signed(form(), md='sha384'))
        sd(t2).kids[1] = Node(0x31, kids=[digest_alg(OID_SHA256)])
        add('signer SHA-384, digestAlgorithms SHA-256 only', t2.enc(), 'malformed', 400)

        def sd_v3_si_v1(der, k):
            t2 = cms_tree(der)
            sd(t2).kids[0] = Node(0x02, b'\x03')
            return t2.enc()
        both('SignedData version 3, SignerInfo version 1', sd_v3_si_v1)

        def si_v3_issuer_serial(der, k):
            t2 = cms_tree(der)
            sd(t2).kids[0] = Node(0x02, b'\x03')
            signer(t2).kids[0] = Node(0x02, b'\x03')
            return t2.enc()
        both('SignerInfo version 3 with issuerAndSerialNumber', si_v3_issuer_serial)
        t2 = cms_tree(signed(form(), extra=['-keyid']))
        sd(t2).kids[0] = Node(0x02, b'\x01')
        signer(t2).kids[0] = Node(0x02, b'\x01')
        add('SignerInfo version 1 with a subjectKeyIdentifier', t2.enc(), 'malformed', 400)
        t2 = cms_tree(signed(form(), extra=['-keyid']))
        sd(t2).kids[0] = Node(0x02, b'\x01')
        add('SignedData version 1, SignerInfo version 3', t2.enc(), 'malformed', 400)
        t2 = cms_tree(good)
        signer(t2)[1].kids[1] = Node(0x02, flip(signer(t2)[1][1].content, len(signer(t2)[1][1].content) - 1))
        add('sid serial not the certificate\'s', t2.enc(), 'malformed', 400)
        t2 = cms_tree(good)
        sd(t2).kids.append(Node(0x05))
        add('a field after signerInfos', t2.enc(), 'malformed', 400)
        t2 = cms_tree(good)
        signer(t2).kids.append(Node(0x05))
        add('a field after the signature', t2.enc(), 'malformed', 400)
        t2 = cms_tree(good)
        sd(t2)[2][1].kids.append(Node(0x04, b'x'))
        add('eContent two OCTET STRINGs', t2.enc(), 'malformed', 400)

        # attributes: counts, order, forms (re-signed: the rule is all that is wrong)
        def n_signed_attrs(count):
            def build(der, k):
                t2 = cms_tree(der)
                sa = signed_attrs(t2)
                sa.kids += [junk_attr(i) for i in range(count - len(sa.kids))]
                sort_set(sa)
                return resign(t2, k).enc()
            return build
        assert len(signed_attrs(t).kids) == 4
        add('16 signed attributes (re-signed, allowed)', n_signed_attrs(16)(good, key), 'valid', 200)
        add('17 signed attributes (re-signed)', n_signed_attrs(17)(good, key), 'malformed', 400)
        both('200 junk signed attributes (re-signed)', n_signed_attrs(200))

        def unsorted_attrs(der, k):
            t2 = cms_tree(der)
            sa = signed_attrs(t2)
            sa.kids[0], sa.kids[1] = sa.kids[1], sa.kids[0]
            return resign(t2, k).enc()
        both('signed attributes not in DER SET order (re-signed)', unsorted_attrs)

        def n_unsigned_attrs(count):
            t2 = cms_tree(good)
            signer(t2).kids.append(sort_set(Node(0xA1, kids=[junk_attr(i) for i in range(count)])))
            return t2.enc()
        add('16 unsigned attributes (allowed)', n_unsigned_attrs(16), 'valid', 200)
        add('17 unsigned attributes', n_unsigned_attrs(17), 'malformed', 400)
        t2 = cms_tree(good)
        signer(t2).kids.append(Node(0xA1, kids=[junk_attr(1, Node(0x02, b'\x00\x01'))]))
        add('an unsigned attribute value a non-minimal INTEGER', t2.enc(), 'malformed', 400)
        t2 = cms_tree(good)
        sa = signed_attrs(t2)
        sa.kids.append(Node(0x30, kids=[oid('1.2.3.4.1'), Node(0x31, kids=[])]))
        sort_set(sa)
        add('a signed attribute with no value (re-signed)', resign(t2, key).enc(), 'malformed', 400)

        # step 5: attribute semantics
        def ess_malformed(der, k):
            t2 = cms_tree(der)
            sa = signed_attrs(t2)
            sa.kids.append(Node(0x30, kids=[oid(OID_ESS2), Node(0x31, kids=[Node(0x30, kids=[Node(0x02, b'\x05')])])]))
            sort_set(sa)
            return resign(t2, k).enc()
        both('ESS signingCertificateV2 not well formed (re-signed)', ess_malformed, 'badRequestSignature', 422)
        t2 = cms_tree(good)
        sa = signed_attrs(t2)
        sa.kids.append(Node(0x30, kids=[oid(OID_ESS2), Node(0x31, kids=[Node(0x04, b'x')])]))
        sort_set(sa)
        add('ESS signingCertificateV2 an OCTET STRING (re-signed)', resign(t2, key).enc(),
            'badRequestSignature', 422)
        other_ess = attr_of(signed_attrs(cms_tree(sign_as(h2, form(), extra_args=['-cades']))), OID_ESS2)[0]
        t2 = cms_tree(good)
        sa = signed_attrs(t2)
        sa.kids.append(other_ess)
        sort_set(sa)
        add('ESS signingCertificateV2 of another certificate (re-signed)', resign(t2, key).enc(),
            'badRequestSignature', 422)
        add('ESS signingCertificateV2 (-cades, allowed)', signed(form(), extra=['-cades']), 'valid', 200)
        t2 = cms_tree(good)
        sa = signed_attrs(t2)
        sa.kids += attr_of(sa, OID_CT)
        sort_set(sa)
        add('content-type twice (re-signed)', resign(t2, key).enc(), 'badRequestSignature', 422)
        t2 = cms_tree(good)
        sa = signed_attrs(t2)
        st = attr_of(sa, OID_ST)[0]
        st[1].kids.append(st[1][0])
        add('signing time with two values (re-signed)', resign(t2, key).enc(), 'badRequestSignature', 422)
        t2 = cms_tree(good)
        signer(t2).kids.append(Node(0xA1, kids=attr_of(signed_attrs(t2), OID_CT)))
        add('content-type among the unsigned attributes', t2.enc(), 'badRequestSignature', 422)

        # ---- D. the request signature
        add('SHA-1 digest', signed(form(), md='sha1'), 'badRequestSignature', 422)
        add('SHA-224 digest', signed(form(), md='sha224'), 'badRequestSignature', 422)
        add('SHA3-256 digest', signed(form(), md='sha3-256'), 'badRequestSignature', 422)
        add('SHA-384 digest (allowed)', signed(form(), md='sha384'), 'valid', 200)
        add('SHA-512 digest (allowed)', signed(form(), md='sha512'), 'valid', 200)
        pss = ['-keyopt', 'rsa_padding_mode:pss']
        add('PSS, salt = hash length (allowed)', signed(form(), extra=pss + ['-keyopt', 'rsa_pss_saltlen:32']),
            'valid', 200)
        # any salt length the key admits (2026-12-01)
        add('PSS, salt 20 (allowed)', signed(form(), extra=pss + ['-keyopt', 'rsa_pss_saltlen:20']),
            'valid', 200)
        add('PSS, salt 0 (allowed)', signed(form(), extra=pss + ['-keyopt', 'rsa_pss_saltlen:0']),
            'valid', 200)
        add('PSS, maximal salt (allowed)', signed(form(), extra=pss + ['-keyopt', 'rsa_pss_saltlen:max']),
            'valid', 200)
        add('PSS, OpenSSL default salt (allowed)', signed(form(), extra=pss), 'valid', 200)
        t2 = cms_tree(signed(form(), extra=pss + ['-keyopt', 'rsa_pss_saltlen:max']))
        s = signer(t2)
        raw = s.kids[-2].enc()
        assert b'\xa2\x04\x02\x02\x00\xde' in raw, 'salt 222 in the PSS parameters'
        s.kids[-2] = cms_tree(raw.replace(b'\xa2\x04\x02\x02\x00\xde', b'\xa2\x04\x02\x02\x00\xdf'))
        add('PSS, salt 223 claimed (more than RSA-2048 admits)', t2.enc(), 'badRequestSignature', 422)
        add('PSS, MGF1 with SHA-1', signed(form(), extra=pss + ['-keyopt', 'rsa_pss_saltlen:32',
                                                               '-keyopt', 'rsa_mgf1_md:sha1']),
            'badRequestSignature', 422)
        add('PSS, MGF1 SHA-512 under SHA-256', signed(form(), extra=pss + ['-keyopt', 'rsa_pss_saltlen:32',
                                                                          '-keyopt', 'rsa_mgf1_md:sha512']),
            'badRequestSignature', 422)
        add('PSS with SHA-1', signed(form(), md='sha1', extra=pss + ['-keyopt', 'rsa_pss_saltlen:20']),
            'badRequestSignature', 422)
        add('ECDSA P-256 with SHA-256', signed(form_for(P, 'valid-ec', nonce), holder=P.holder('valid-ec')),
            'valid', 200)
        add('ECDSA P-256 with SHA-1', signed(form_for(P, 'valid-ec', nonce), holder=P.holder('valid-ec'),
                                             md='sha1'), 'badRequestSignature', 422)
        # RFC 5652 5.3: signed attributes optional for id-data (2026-12-01)
        add('no signed attributes (allowed)', signed(form(), extra=['-noattr']), 'valid', 200)
        add('no signed attributes, key identifier (allowed)', signed(form(), extra=['-noattr', '-keyid']),
            'valid', 200)
        t2 = cms_tree(signed(form(), extra=['-noattr']))
        econtent(t2).content = econtent(t2).content.replace(b'"validity-check"', b'"validity-check" ')
        add('no signed attributes, content changed after signing', t2.enc(), 'badRequestSignature', 422)
        t2 = cms_tree(good)
        s = signer(t2)
        s.kids[-1] = Node(0x04, flip(s.kids[-1].content, 5))
        add('signature bit flipped', t2.enc(), 'badRequestSignature', 422)
        t2 = cms_tree(good)
        s = signer(t2)
        s.kids[-1] = Node(0x04, b'')
        add('empty signature', t2.enc(), 'badRequestSignature', 422)
        t2 = cms_tree(good)
        econtent(t2).content = econtent(t2).content.replace(b'"validity-check"', b'"validity-check" ')
        add('content changed after signing', t2.enc(), 'badRequestSignature', 422)
        t2 = cms_tree(good)
        sa = signed_attrs(t2)
        for attr in sa.kids:
            if attr[0].content == oid('1.2.840.113549.1.9.4').content:
                attr[1][0].content = flip(attr[1][0].content, 0)
        add('messageDigest attribute altered', t2.enc(), 'badRequestSignature', 422)
        t2 = cms_tree(good)
        sa = signed_attrs(t2)
        sa.kids = [a for a in sa.kids if a[0].content != oid('1.2.840.113549.1.9.4').content]
        add('messageDigest attribute removed', t2.enc(), 'badRequestSignature', 422)
        t2 = cms_tree(good)
        sa = signed_attrs(t2)
        sa.kids = [a for a in sa.kids if a[0].content != oid('1.2.840.113549.1.9.3').content]
        add('contentType attribute removed', t2.enc(), 'badRequestSignature', 422)
        t2 = cms_tree(good)
        signer(t2).kids[2] = Node(0x30, kids=[oid('1.2.840.113549.2.5'), Node(0x05)])
        add('digestAlgorithm MD5, not among digestAlgorithms (surgery)', t2.enc(), 'malformed', 400)
        sd(t2).kids[1] = Node(0x31, kids=[Node(0x30, kids=[oid('1.2.840.113549.2.5'), Node(0x05)])])
        add('digestAlgorithm MD5, also in digestAlgorithms (surgery)', t2.enc(), 'badRequestSignature', 422)
        t2 = cms_tree(good)
        s = signer(t2)
        s.kids[-2] = Node(0x30, kids=[oid('1.2.840.10040.4.3'), Node(0x05)])
        add('signatureAlgorithm DSA-SHA1 (surgery)', t2.enc(), 'badRequestSignature', 422)
        t2 = cms_tree(good)
        s = signer(t2)
        s.kids[-2] = Node(0x30, kids=[oid('1.2.840.113549.1.1.5'), Node(0x05)])
        add('signatureAlgorithm sha1WithRSA (surgery)', t2.enc(), 'badRequestSignature', 422)
        t2 = cms_tree(good)
        s = signer(t2)
        s.kids[-2] = Node(0x30, kids=[oid('1.2.840.113549.1.1.10'), Node(0x30, kids=[])])
        add('signatureAlgorithm PSS with default (SHA-1) parameters', t2.enc(), 'badRequestSignature', 422)
        add('key is not the certificate\'s', sign_as(P.holder('wrongkey'),
                                                     form_for(P, 'wrongkey', nonce)),
            'badRequestSignature', 422)

        # ---- E. the certificate and its issuer
        for name, want in (('rsa1024', 'badCertificateSignature'), ('sha1cert', 'badCertificateSignature'),
                           ('nofacts', 'badCertificateSignature'), ('twonames', 'badCertificateSignature'),
                           ('badpolicy', 'badCertificateSignature'), ('nokeyusage', 'badCertificateSignature'),
                           ('unknowncrit', 'badCertificateSignature'),
                           ('before-anchor', 'badCertificateSignature'),
                           ('impostor', 'badCertificateSignature'), ('unknown', 'issuerMismatch')):
            hh = P.holder(name)
            add('holder %s' % name, sign_as(hh, form_for(P, name, nonce)), want, 422)
        t2 = cms_tree(good)
        c = certs(t2)[0]
        c.kids[-1].content = flip(c.kids[-1].content, 40)   # the CA's signature BIT STRING
        add('CA signature on the certificate flipped', t2.enc(), 'badCertificateSignature', 422)
        add('holder expired, check', sign_as(P.holder('expired'), form_for(P, 'expired', nonce)),
            'expired', 200)
        add('holder expired, revocation', sign_as(P.holder('expired'), form_for(P, 'expired', nonce, REV)),
            'expired', 422, proc=REV)

        # ---- F. the form
        add('procedure a number', signed(form(procedure=1)), 'malformed', 400)
        add('procedure unknown', signed(form(procedure='suspension')), 'malformed', 400)
        add('procedure upper case', signed(form(procedure='Validity-Check')), 'malformed', 400)
        add('procedure empty', signed(form(procedure='')), 'malformed', 400)
        add('procedure mismatched (revocation form, check endpoint)', signed(form(REV)), 'malformed', 400)
        add('procedure mismatched (check form, revocation endpoint)', signed(form(VC)), 'malformed', 400,
            proc=REV)
        add('procedure missing', signed(form(procedure=DROP)), 'malformed', 400)
        add('applicant a string', signed(form(applicant='吉田')), 'malformed', 400)
        add('applicant an array', signed(form(applicant=[app])), 'malformed', 400)
        add('applicant missing', signed(form(applicant=DROP)), 'malformed', 400)
        add('nonce a number', signed(form(nonce=12345)), 'malformed', 400)
        add('nonce missing', signed(form(nonce=DROP)), 'malformed', 400)
        add('nonce null', signed(form(nonce=None)), 'malformed', 400)
        add('reason a number', signed(form(REV, reason=1)), 'malformed', 400, proc=REV)
        add('reason null', signed(form(REV, reason=None)), 'malformed', 400, proc=REV)
        for field, v in (('name', 1), ('address', ['x']), ('birthDate', 19580810), ('gender', True),
                         ('name', None), ('gender', {})):
            a2 = dict(app)
            a2[field] = v
            add('applicant.%s %s' % (field, type(v).__name__), signed(form(applicant=a2)), 'malformed', 400)
        for field in ('name', 'address', 'birthDate', 'gender'):
            a2 = dict(app)
            del a2[field]
            add('applicant.%s missing' % field, signed(form(applicant=a2)), 'malformed', 400)
        a2 = dict(app, phone='03-0000-0000')
        add('applicant unknown key', signed(form(applicant=a2)), 'malformed', 400)
        add('top-level unknown key', signed(form(comment='hi')), 'malformed', 400)
        base = form().decode()
        add('duplicate top-level key', signed(('{"procedure":"revocation",' + base[1:]).encode()),
            'malformed', 400)
        add('duplicate nonce', signed((base[:-1] + ',"nonce":"x"}').encode()), 'malformed', 400)
        dup_app = json.dumps(app, ensure_ascii=False)[:-1] + ',"gender":"男"}'
        add('duplicate applicant key', signed(base.replace(json.dumps(app, ensure_ascii=False), dup_app)
                                              .encode()), 'malformed', 400)
        add('form an array', signed(b'[1,2,3]'), 'malformed', 400)
        add('form a string', signed(b'"revocation"'), 'malformed', 400)
        add('form null', signed(b'null'), 'malformed', 400)
        add('form empty object', signed(b'{}'), 'malformed', 400)
        add('form not JSON', signed(b'procedure=validity-check'), 'malformed', 400)
        add('form truncated JSON', signed(form()[:-1]), 'malformed', 400)
        add('form with trailing garbage', signed(form() + b'x'), 'malformed', 400)
        add('form with a second object', signed(form() + form()), 'malformed', 400)
        add('form with UTF-8 BOM', signed(b'\xef\xbb\xbf' + form()), 'malformed', 400)
        add('form in UTF-16', signed(form().decode().encode('utf-16')), 'malformed', 400)
        add('form nested 10000 deep', signed(b'[' * 10000 + b']' * 10000), 'malformed', 400)
        nm = json.dumps(app['name'], ensure_ascii=False).encode()
        for label, bad in (('lone continuation byte', b'\x80'), ('overlong slash', b'\xc0\xaf'),
                           ('UTF-16 surrogate', b'\xed\xa0\x80'), ('5-byte sequence', b'\xf8\x88\x80\x80\x80'),
                           ('truncated 3-byte', b'\xe3\x80'), ('0xff byte', b'\xff'),
                           ('beyond U+10FFFF', b'\xf4\x90\x80\x80')):
            add('invalid UTF-8 in name: %s' % label, signed(form().replace(nm, nm[:-1] + bad + b'"')),
                'malformed', 400)
        add('escaped lone surrogate in name', signed(form().replace(nm, nm[:-1] + b'\\ud800"')),
            'malformed', 400)
        add('NUL escaped in name', signed(form().replace(nm, nm[:-1] + b'\\u0000"')), 'malformed', 400)
        add('raw NUL byte in name', signed(form().replace(nm, nm[:-1] + b'\x00"')), 'malformed', 400)
        add('raw NUL byte after the object', signed(form() + b'\x00'), 'malformed', 400)
        add('raw control character in name', signed(form().replace(nm, nm[:-1] + b'\x01"')), 'malformed', 400)
        add('name of 20000 characters', signed(form(applicant=dict(app, name='あ' * 20000))), 'malformed', 400)
        add('address of 60000 bytes', signed(form(applicant=dict(app, address='x' * 60000))),
            'malformed', 400)
        add('address of 70000 bytes (over max_body once signed)',
            signed(form(applicant=dict(app, address='x' * 70000))), 'malformed', 413)
        add('nonce of 5000 characters', signed(form(nonce='A' * 5000)), 'malformed', 400)
        add('birthDate with slashes', signed(form(applicant=dict(app, birthDate='1958/08/10'))),
            'malformed', 400)
        add('birthDate in wareki', signed(form(applicant=dict(app, birthDate='昭和33年08月10日'))),
            'malformed', 400)
        add('birthDate full-width digits', signed(form(applicant=dict(app, birthDate='１９５８-０８-１０'))),
            'malformed', 400)
        add('gender M', signed(form(applicant=dict(app, gender='M'))), 'malformed', 400)
        add('gender code 1', signed(form(applicant=dict(app, gender='1'))), 'malformed', 400)
        add('name with ASCII space (no normalisation)',
            signed(form(applicant=dict(app, name=app['name'].replace('\u3000', ' ')))),
            'badRequestSignature', 422)
        add('name of another holder', signed(form(applicant=dict(app, name=h2['applicant']['name']))),
            'badRequestSignature', 422)
        add('address differs', signed(form(applicant=dict(app, address=app['address'] + '1'))),
            'badRequestSignature', 422)
        add('birthDate differs', signed(form(applicant=dict(app, birthDate='1958-08-11'))),
            'badRequestSignature', 422)
        other_gender = '女' if app['gender'] != '女' else '男'
        add('gender differs', signed(form(applicant=dict(app, gender=other_gender))),
            'badRequestSignature', 422)
        add('another holder\'s applicant', signed(form(applicant=dict(h2['applicant']))),
            'badRequestSignature', 422)
        add('reason on a validity check', signed(form(reason='keyCompromise')), 'malformed', 400)
        for r in ('KeyCompromise', 'removeFromCRL', 'certificateHold', 'privilegeWithdrawn',
                  'aACompromise', '', 'keyCompromise '):
            add('revocation reason %r' % r, signed(form(REV, reason=r)), 'malformed', 400, proc=REV)

        # ---- G. the nonce
        now = int(time.time())
        add('nonce forged (random bytes)', signed(form(nonce=harness.b64url_encode(os.urandom(56)))),
            'badNonce', 400)
        add('nonce forged (other key)', signed(form(nonce=self.make_nonce(now + 300, key=b'k' * 32))),
            'badNonce', 400)
        add('nonce expired (authentic)', signed(form(nonce=self.make_nonce(now - 5))), 'badNonce', 400)
        add('nonce expired long ago', signed(form(nonce=self.make_nonce(1))), 'badNonce', 400)
        good_nonce = harness.b64url_decode(nonce)
        add('nonce with expiry pushed later (MAC now wrong)',
            signed(form(nonce=harness.b64url_encode(struct.pack('>Q', now + 10 ** 6) + good_nonce[8:])))
            , 'badNonce', 400)
        add('nonce truncated', signed(form(nonce=nonce[:-4])), 'badNonce', 400)
        # an empty nonce string is a format error (the form wants a non-empty string)
        add('nonce empty string', signed(form(nonce='')), 'malformed', 400)
        add('nonce not base64url', signed(form(nonce='!!!!' + nonce[4:])), 'badNonce', 400)
        add('nonce standard base64 with padding',
            signed(form(nonce=base64.b64encode(good_nonce).decode())), 'badNonce', 400)
        add('nonce of the fuzz key', signed(form(nonce=self.make_nonce(now + 300, key=b'\x6d' * 32))),
            'badNonce', 400)
        add('nonce forged, certificate bad (certificate first)',
            sign_as(P.holder('impostor'), form_for(P, 'impostor', 'AAAA')), 'badCertificateSignature', 422)
        add('nonce forged, signature bad (signature first)',
            signed(form(applicant=dict(h2['applicant']), nonce='AAAA')), 'badRequestSignature', 422)

        # ---- H. PEM variants
        pem = signed(form(), outform='PEM')
        add('PEM (pkcs7-mime)', pem, 'valid', 200)
        add('PEM (cms)', pem, 'valid', 200, ctype='application/cms')
        add('PEM with CRLF', pem.replace(b'\n', b'\r\n'), 'valid', 200)
        add('PEM without final newline', pem.rstrip(b'\n'), 'valid', 200)
        add('PEM header only', b'-----BEGIN CMS-----\n-----END CMS-----\n', 'malformed', 400)
        add('PEM without END line', b'\n'.join(pem.splitlines()[:-1]) + b'\n', 'malformed', 400)
        add('PEM bad base64', b'-----BEGIN CMS-----\n@@@@\n-----END CMS-----\n', 'malformed', 400)
        with open(h['cert'], 'rb') as f:
            add('PEM of a certificate', f.read(), 'malformed', 400)
        add('PEM truncated base64', b'\n'.join(pem.splitlines()[:3] + pem.splitlines()[-1:]) + b'\n',
            'malformed', 400)
        add('PEM of a truncated DER', b'-----BEGIN CMS-----\n' + base64.encodebytes(good[:200]) +
            b'-----END CMS-----\n', 'malformed', 400)
        add('PEM wrapping a signed wrong form', b'-----BEGIN CMS-----\n' +
            base64.encodebytes(signed(b'[]')) + b'-----END CMS-----\n', 'malformed', 400)

        # ---- positive controls that change state last
        for holder, extra in (('valid-06', ['-noattr']), ('valid-07', ['-keyopt', 'rsa_padding_mode:pss']),
                              ('valid-08', ['-noattr', '-keyid'])):
            add('revocation control (%s, %s, accepted)' % (holder, ' '.join(extra)),
                sign_as(P.holder(holder), form_for(P, holder, nonce, REV), extra_args=extra),
                'accepted', 201, proc=REV)
        add('revocation control (valid-60, accepted)', sign_as(P.holder('valid-60'),
                                                               form_for(P, 'valid-60', nonce, REV,
                                                                        'keyCompromise')),
            'accepted', 201, proc=REV)
        del good_rev_form
        return C

    def send(self, c):
        if c.raw is not None:
            return raw_exchange(self.daemon.port, c.raw, timeout=20)
        hdrs = dict(c.headers or {})
        if c.ctype is not None:
            hdrs['Content-Type'] = c.ctype
        return self.daemon.request(c.method, c.path, c.body, hdrs, timeout=30)

    def test_catalogue(self):
        cases = self.build()
        bad = [c for c in cases if c.result not in ('valid', 'accepted')]
        self.assertGreaterEqual(len(bad), 100, 'the catalogue holds at least 100 bad inputs')
        failures = []
        t0 = time.time()
        before = self.daemon.acceptance_count()
        for c in cases:
            rows = self.daemon.acceptance_count() if c.proc == REV else None
            try:
                a = self.send(c)
            except Exception as e:      # a timeout or a reset is a failure too
                failures.append('%s: no answer (%s)' % (c.name, e))
                continue
            if rows is not None:
                # a row is written exactly when the answer is accepted
                written = self.daemon.acceptance_count() - rows
                if written != (1 if c.result == 'accepted' else 0):
                    failures.append('%s: %d acceptance rows written' % (c.name, written))
            try:
                self.assertAnswer(a, c.result, c.proc, c.status)
            except AssertionError as e:
                failures.append('%s: want %s %d, got %s' % (c.name, c.result, c.status,
                                                             str(e).splitlines()[0][:300]))
            if self.daemon.proc.poll() is not None:
                failures.append('%s: the daemon died (exit %s)' % (c.name, self.daemon.proc.returncode))
                break
        print('bad-input catalogue: %d cases (%d bad inputs, %d controls) in %.1f s, %d mismatches'
              % (len(cases), len(bad), len(cases) - len(bad), time.time() - t0, len(failures)))
        # nothing but the accepted controls left a row
        self.assertEqual(self.daemon.acceptance_count() - before, sum(c.result == 'accepted' for c in cases),
                         'rows written by the catalogue')
        self.assertEqual(failures, [], '\n'.join(failures))
        a = self.daemon.submit('valid-03', VC)
        self.assertAnswer(a, 'valid', VC, 200)


class _Drop:
    pass


DROP = _Drop()


def form_for(pki, name, nonce, proc=VC, reason=None):
    h = pki.holder(name)
    return make_form(proc, h['applicant'] or harness.PLACEHOLDER_APPLICANT, nonce, reason)


def _nest(depth):
    b = b'\x05\x00'
    for _ in range(depth):
        b = tlv(0x30, b)
    return b


if __name__ == '__main__':
    harness.main()
