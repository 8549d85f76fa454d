import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequestInfo } from '@peculiar/asn1-csr';
import { Attribute, Extension, Extensions, Name, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { QpkiError } from '../errors';
import type { KeyAlgorithm, SignatureAlgorithm } from '../keys/algorithms';
import type { Signer } from '../keys/signer';
import { keyAlgorithmOfSpki, signatureAlgorithmFromIdentifier, signatureAlgorithmIdentifierObject, verifySignature } from '../keys/verify';
import { assembleSigned } from './certificate';
import { assertStrictDer, children, slice, whole } from './der';
import { pemOrDer } from './pem';

const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';

/**
 * The CertificationRequestInfo of a PKCS#10 request (what its holder signs), as DER: the one
 * builder the command line and the app use, so a request reviewed in the app is, byte for byte,
 * what `qpki ceremony run` would sign for the same subject and key.
 */
export function csrRequestInfo(opts: { subject: Name; spki: Uint8Array; extensions?: Extension[] }): Uint8Array {
  const info = new CertificationRequestInfo({
    subject: opts.subject,
    subjectPKInfo: AsnConvert.parse(opts.spki, SubjectPublicKeyInfo),
  });
  if (opts.extensions?.length) {
    info.attributes.push(new Attribute({ type: OID_EXTENSION_REQUEST, values: [AsnConvert.serialize(new Extensions(opts.extensions))] }));
  }
  return new Uint8Array(AsnConvert.serialize(info));
}

/** A request from its CertificationRequestInfo DER, signed as it is by `signer`. */
export async function signCsrInfo(infoDer: Uint8Array, signer: Signer, signatureAlgorithm: SignatureAlgorithm): Promise<Uint8Array> {
  const signature = await signer.sign(signatureAlgorithm, infoDer);
  return assembleSigned(infoDer, new Uint8Array(AsnConvert.serialize(signatureAlgorithmIdentifierObject(signatureAlgorithm))), signature);
}

/** A PKCS#10 request signed by `signer` (a key in the token or in a file). */
export async function buildCsr(opts: { subject: Name; signer: Signer; signatureAlgorithm: SignatureAlgorithm; extensions?: Extension[] }): Promise<Uint8Array> {
  const infoDer = csrRequestInfo({ subject: opts.subject, spki: opts.signer.spki, ...(opts.extensions ? { extensions: opts.extensions } : {}) });
  return signCsrInfo(infoDer, opts.signer, opts.signatureAlgorithm);
}

export interface ParsedCsr {
  der: Uint8Array;
  /** The CertificationRequestInfo exactly as encoded in the request (what its signature covers). */
  info: Uint8Array;
  subject: Name;
  spki: Uint8Array;
  keyAlgorithm: KeyAlgorithm;
  signatureAlgorithm: SignatureAlgorithm;
  requestedExtensions: Extension[];
}

/**
 * Parse a CSR (PEM or DER) and check its signature with the key it carries: a request nobody
 * can prove they hold the key for is refused (CSR_SIGNATURE_INVALID).
 */
export function parseAndVerifyCsr(data: Uint8Array | string): ParsedCsr {
  const der = pemOrDer(data, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
  // Walked as DER (RFC 2986 4.1) rather than decoded whole through @peculiar/asn1-csr: the key,
  // the algorithm and the signed part are used as the bytes the request holds (no re-encoding),
  // and only the subject and any extension request are decoded as objects. Decoding the whole
  // request and encoding the key and algorithm back was most of a cold `cert issue`'s CSR check.
  let infoDer: Uint8Array;
  let subject: Name;
  let spki: Uint8Array;
  let sigAlgDer: Uint8Array;
  let signature: Uint8Array;
  let attributes: Attribute[];
  try {
    assertStrictDer(der);
    const top = whole(der);
    const parts = children(der, top);
    if (top.tag !== 0x30 || parts.length !== 3) throw new Error('not a SEQUENCE of three');
    const [info, sigAlg, sig] = parts;
    if (info.tag !== 0x30 || sigAlg.tag !== 0x30 || sig.tag !== 0x03) throw new Error('not certificationRequestInfo, signatureAlgorithm, signature');
    infoDer = slice(der, info);
    const f = children(der, info);
    // version, subject, subjectPKInfo, then attributes [0] (which asn1-csr, and so this reader, takes as optional)
    if (f.length < 3 || f.length > 4 || f[0].tag !== 0x02 || f[1].tag !== 0x30 || f[2].tag !== 0x30 || (f[3] && f[3].tag !== 0xa0)) throw new Error('the request info is not version, subject, public key, attributes');
    subject = AsnConvert.parse(slice(der, f[1]), Name);
    spki = slice(der, f[2]);
    // [0] IMPLICIT SET OF Attribute: each child is one Attribute SEQUENCE.
    attributes = f[3] ? children(der, f[3]).map((a) => AsnConvert.parse(slice(der, a), Attribute)) : [];
    sigAlgDer = slice(der, sigAlg);
    const bits = der.subarray(sig.contentStart, sig.end);
    if (bits.length < 1 || bits[0] !== 0) throw new Error('the signature BIT STRING has unused bits');
    signature = bits.subarray(1);
  } catch (e) {
    throw new QpkiError('CSR_INVALID', `The file is not a valid PKCS#10 certificate request (${e instanceof Error ? e.message : e}).`);
  }
  let keyAlgorithm: KeyAlgorithm;
  let signatureAlgorithm: SignatureAlgorithm;
  try {
    keyAlgorithm = keyAlgorithmOfSpki(spki);
    signatureAlgorithm = signatureAlgorithmFromIdentifier(sigAlgDer);
  } catch (e) {
    throw new QpkiError('CSR_INVALID', `The request's key or signature algorithm is not supported: ${e instanceof Error ? e.message : e}`);
  }
  if (!verifySignature(spki, signatureAlgorithm, infoDer, signature)) {
    throw new QpkiError('CSR_SIGNATURE_INVALID', 'The request is not signed by the key it contains (bad signature). It was refused.');
  }
  const requestedExtensions: Extension[] = [];
  for (const a of attributes) {
    if (a.type !== OID_EXTENSION_REQUEST) continue;
    for (const v of a.values) requestedExtensions.push(...AsnConvert.parse(v, Extensions));
  }
  return { der, info: infoDer, subject, spki, keyAlgorithm, signatureAlgorithm, requestedExtensions };
}
