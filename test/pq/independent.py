"""
Independent checks of qpki's post-quantum output, sharing no code with it: python
`cryptography` parses certificates and CRLs and verifies signatures (ML-DSA through its own
OpenSSL build, ECDSA through X.509 issuer checks), and a small DER reader written here derives
the Catalyst pre-TBS (ITU-T X.509 (10/2019) 9.8: the TBS without its `signature` field and without
the altSignatureValue extension) to verify the alternative signature.

stdin: {"pairs": [{"issuer": PATH, "doc": PATH}, ...]}   (PEM or DER certificates and CRLs)
stdout: one JSON object per pair (see `check`).
"""
import json
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, mldsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

ALT_SPKI = "2.5.29.72"
ALT_ALG = "2.5.29.73"
ALT_VALUE = "2.5.29.74"
ML_DSA = {"2.16.840.1.101.3.4.3.17": "ml-dsa-44", "2.16.840.1.101.3.4.3.18": "ml-dsa-65", "2.16.840.1.101.3.4.3.19": "ml-dsa-87"}
ML_DSA_KEYS = (mldsa.MLDSA44PublicKey, mldsa.MLDSA65PublicKey, mldsa.MLDSA87PublicKey)


def tlv(buf, off):
    """(tag, header_start, content_start, end) of the DER element at off."""
    tag = buf[off]
    n = buf[off + 1]
    p = off + 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[p:p + k], "big")
        p += k
    return tag, off, p, p + n


def kids(buf, start, end):
    out = []
    while start < end:
        t = tlv(buf, start)
        out.append(t)
        start = t[3]
    return out


def enc(tag, content):
    n = len(content)
    if n < 0x80:
        head = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + head + content


def oid_text(content):
    first = content[0]
    arcs = [str(min(first // 40, 2)), str(first - 40 * min(first // 40, 2))]
    v = 0
    for b in content[1:]:
        v = (v << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(str(v))
            v = 0
    return ".".join(arcs)


def load(path):
    data = open(path, "rb").read()
    if b"-----BEGIN" in data:
        if b"X509 CRL" in data:
            return x509.load_pem_x509_crl(data)
        return x509.load_pem_x509_certificate(data)
    try:
        return x509.load_der_x509_certificate(data)
    except ValueError:
        return x509.load_der_x509_crl(data)


def pre_tbs(tbs, is_cert):
    """The pre-TBS, derived here from the raw TBS bytes."""
    top = tlv(tbs, 0)
    fields = kids(tbs, top[2], top[3])
    if is_cert:
        sig_index = 2 if fields[0][0] == 0xA0 else 1
        ext_tag = 0xA3
    else:
        sig_index = 1 if fields[0][0] == 0x02 else 0
        ext_tag = 0xA0
    parts = []
    for i, f in enumerate(fields):
        if i == sig_index:
            continue
        if f[0] == ext_tag and i > sig_index:
            seq = tlv(tbs, f[2])
            kept = []
            for e in kids(tbs, seq[2], seq[3]):
                oid = tlv(tbs, e[2])
                if oid_text(tbs[oid[2]:oid[3]]) != ALT_VALUE:
                    kept.append(tbs[e[1]:e[3]])
            parts.append(enc(ext_tag, enc(0x30, b"".join(kept))))
        else:
            parts.append(tbs[f[1]:f[3]])
    return enc(0x30, b"".join(parts))


def ext_value(exts, oid):
    for e in exts:
        if e.oid.dotted_string == oid:
            return e.value.value  # UnrecognizedExtension: the raw extnValue contents
    return None


def verify_raw(pub, sig, data):
    try:
        if isinstance(pub, ML_DSA_KEYS):
            pub.verify(sig, data)
        elif isinstance(pub, ec.EllipticCurvePublicKey):
            raise TypeError("use the X.509 path for ECDSA")
        else:
            raise TypeError("unsupported key %r" % type(pub))
        return True
    except InvalidSignature:
        return False


def alg_tlvs(der, is_cert):
    """Hex of the outer signatureAlgorithm, the TBS signature field and (certificates) the SPKI algorithm, as encoded."""
    top = tlv(der, 0)
    tbs_t, alg_t, _ = kids(der, top[2], top[3])
    fields = kids(der, tbs_t[2], tbs_t[3])
    if is_cert:
        inner = fields[2 if fields[0][0] == 0xA0 else 1]
        spki = fields[6 if fields[0][0] == 0xA0 else 5]
        spki_alg = kids(der, spki[2], spki[3])[0]
        return der[alg_t[1]:alg_t[3]].hex(), der[inner[1]:inner[3]].hex(), der[spki_alg[1]:spki_alg[3]].hex()
    inner = fields[1 if fields[0][0] == 0x02 else 0]
    return der[alg_t[1]:alg_t[3]].hex(), der[inner[1]:inner[3]].hex(), None


def check(pair):
    from cryptography.hazmat.primitives.serialization import Encoding
    issuer = load(pair["issuer"])
    doc = load(pair["doc"])
    is_cert = isinstance(doc, x509.Certificate)
    der = doc.public_bytes(Encoding.DER)
    tbs = doc.tbs_certificate_bytes if is_cert else doc.tbs_certlist_bytes
    out = {"doc": pair["doc"], "kind": "certificate" if is_cert else "crl", "signature_oid": doc.signature_algorithm_oid.dotted_string}
    outer, inner, spki_alg = alg_tlvs(der, is_cert)
    out.update(outer_alg=outer, inner_alg=inner, spki_alg=spki_alg)
    ipub = issuer.public_key()
    if isinstance(ipub, ML_DSA_KEYS):
        out["primary"] = verify_raw(ipub, doc.signature, tbs)
        out["primary_how"] = "ml-dsa public key verify over the TBS bytes"
    elif is_cert:
        try:
            doc.verify_directly_issued_by(issuer)
            out["primary"] = True
        except (InvalidSignature, ValueError):
            out["primary"] = False
        out["primary_how"] = "verify_directly_issued_by"
    else:
        out["primary"] = doc.is_signature_valid(ipub)
        out["primary_how"] = "is_signature_valid"
    exts = doc.extensions
    critical = {e.oid.dotted_string: e.critical for e in exts}
    out["catalyst_critical"] = {k: v for k, v in critical.items() if k in (ALT_SPKI, ALT_ALG, ALT_VALUE)}
    if is_cert:
        ku = [e.value for e in exts if e.oid == x509.oid.ExtensionOID.KEY_USAGE]
        if ku:
            k = ku[0]
            names = ["digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign"]
            out["key_usage"] = [n for n in names if getattr(k, n)]
        alt_spki = ext_value(exts, ALT_SPKI)
        out["alt_spki_alg"] = None
        if alt_spki is not None:
            out["alt_spki_alg"] = type(load_der_public_key(alt_spki)).__name__
    alt_alg = ext_value(exts, ALT_ALG)
    alt_val = ext_value(exts, ALT_VALUE)
    if alt_alg is None and alt_val is None:
        out["alt"] = None
        return out
    a = tlv(alt_alg, 0)
    alg_kids = kids(alt_alg, a[2], a[3])
    alt_oid = oid_text(alt_alg[alg_kids[0][2]:alg_kids[0][3]])
    b = tlv(alt_val, 0)
    assert alt_val[b[0] - b[0]] == 0x03 and alt_val[b[2]] == 0, "altSignatureValue is a BIT STRING with no unused bits"
    sig = alt_val[b[2] + 1:b[3]]
    pre = pre_tbs(tbs, is_cert)
    issuer_alt = ext_value(issuer.extensions, ALT_SPKI)
    res = {"alg_oid": alt_oid, "alg_params_absent": len(alg_kids) == 1, "pre_tbs": pre.hex(), "signature": sig.hex(), "issuer_alt_spki": issuer_alt.hex() if issuer_alt else None}
    res["valid"] = verify_raw(load_der_public_key(issuer_alt), sig, pre) if issuer_alt else None
    out["alt"] = res
    return out


req = json.load(sys.stdin)
print(json.dumps([check(p) for p in req["pairs"]]))
