/**
 * Independent readers of what qpki writes: Python's `cryptography` (strict DER), openssl and
 * GnuTLS certtool. None of them shares code with qpki.
 */
import { python } from './helpers';

const CERT_FACTS = `
import sys, json
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
def load(p):
    data = open(p, 'rb').read()
    if data.startswith(b'-----'):
        import base64, re
        b64 = re.search(rb'-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----', data, re.S).group(1)
        data = base64.b64decode(b''.join(b64.split()))
    return x509.load_der_x509_certificate(data)   # the strict DER parser
out = []
paths = sys.argv[1:]
for i, p in enumerate(paths):
    c = load(p)
    f = {'path': p, 'serial': c.serial_number, 'serialBytes': (c.serial_number.bit_length() + 8) // 8,
         'days': (c.not_valid_after_utc - c.not_valid_before_utc).total_seconds() / 86400,
         'subject': c.subject.rfc4514_string(),
         'o': [a.value for a in c.subject.get_attributes_for_oid(x509.oid.NameOID.ORGANIZATION_NAME)],
         'ec': isinstance(c.public_key(), ec.EllipticCurvePublicKey), 'exts': [e.oid.dotted_string for e in c.extensions]}
    try:
        f['ski'] = c.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest.hex()
    except x509.ExtensionNotFound:
        f['ski'] = None
    try:
        f['aki'] = c.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier.hex()
    except x509.ExtensionNotFound:
        f['aki'] = None
    try:
        ku = c.extensions.get_extension_for_class(x509.KeyUsage).value
        f['keyEncipherment'] = ku.key_encipherment
    except x509.ExtensionNotFound:
        f['keyEncipherment'] = None
    # Each certificate is checked against the next one in the list (the last against itself).
    issuer = load(paths[i + 1]) if i + 1 < len(paths) else c
    c.verify_directly_issued_by(issuer)
    f['verifiedBy'] = issuer.subject.rfc4514_string()
    out.append(f)
print(json.dumps(out))
`;

export interface CertFacts {
  path: string;
  serial: number;
  serialBytes: number;
  days: number;
  subject: string;
  o: string[];
  ec: boolean;
  exts: string[];
  ski: string | null;
  aki: string | null;
  keyEncipherment: boolean | null;
  verifiedBy: string;
}

/** Parse a chain (leaf first, root last) with python cryptography and verify each link. */
export function pythonCertFacts(chainLeafFirst: string[]): CertFacts[] {
  return JSON.parse(python(CERT_FACTS, chainLeafFirst)) as CertFacts[];
}

const CRL_FACTS = `
import sys, json
from cryptography import x509
crl = x509.load_pem_x509_crl(open(sys.argv[1], 'rb').read())
issuer = x509.load_pem_x509_certificate(open(sys.argv[2], 'rb').read())
print(json.dumps({'valid': crl.is_signature_valid(issuer.public_key()),
  'revoked': ['%X' % r.serial_number for r in crl],
  'reasons': [r.extensions.get_extension_for_class(x509.CRLReason).value.reason.name for r in crl],
  'hours': (crl.next_update_utc - crl.last_update_utc).total_seconds() / 3600}))
`;

export function pythonCrlFacts(crlPem: string, issuerPem: string): { valid: boolean; revoked: string[]; reasons: string[]; hours: number } {
  return JSON.parse(python(CRL_FACTS, [crlPem, issuerPem]));
}
