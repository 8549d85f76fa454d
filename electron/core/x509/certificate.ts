import { randomBytes } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Extension, Extensions, Name, SubjectPublicKeyInfo, TBSCertificate, Validity, Version } from '@peculiar/asn1-x509';
import { QpkiError } from '../errors';
import type { SignatureAlgorithm } from '../keys/algorithms';
import type { Signer } from '../keys/signer';
import { signatureAlgorithmIdentifierObject } from '../keys/verify';
import { encodeTlv } from './der';
import { altSignatureAlgorithmExtension, altSignatureValueExtension, preTbs, subjectAltPublicKeyInfoExtension } from './catalyst';

/**
 * A fresh certificate serial: 16 bytes from the CSPRNG, positive, minimally encoded (the first
 * byte is kept in 0x01..0x7f), so at least 120 random bits — well above the 64 the CA/B Forum asks.
 */
export function newSerial(): Uint8Array {
  const s = randomBytes(16);
  s[0] = (s[0] & 0x7f) || 0x01;
  return new Uint8Array(s);
}

export function serialHex(serial: Uint8Array): string {
  return Buffer.from(serial).toString('hex');
}

/** Certificates carry whole seconds; UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
export function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

export interface AltSigning {
  signer: Signer;
  signatureAlgorithm: SignatureAlgorithm;
}

export interface CertificateSpec {
  serial: Uint8Array;
  issuer: Name;
  subject: Name;
  notBefore: Date;
  notAfter: Date;
  /** Subject public key (DER SubjectPublicKeyInfo). */
  spki: Uint8Array;
  extensions: Extension[];
  signer: Signer;
  signatureAlgorithm: SignatureAlgorithm;
  /** Catalyst: the subject's alternative (ML-DSA) public key, carried in subjectAltPublicKeyInfo. */
  subjectAltSpki?: Uint8Array;
  /** Catalyst: the issuer's alternative key signs the pre-TBS. */
  alt?: AltSigning;
}

/**
 * Build and sign a certificate. The TBS is encoded once and signed as DER through the Signer,
 * so the same path serves a token key, a software key and ML-DSA; Catalyst adds an alternative
 * signature over the pre-TBS before the primary signature is made.
 */
export async function buildCertificate(spec: CertificateSpec): Promise<Uint8Array> {
  if (spec.notAfter.getTime() <= spec.notBefore.getTime()) throw new QpkiError('INPUT_INVALID', 'The certificate would expire before it starts.');
  const extensions = [...spec.extensions];
  if (spec.subjectAltSpki) extensions.push(subjectAltPublicKeyInfoExtension(spec.subjectAltSpki));
  if (spec.alt) extensions.push(altSignatureAlgorithmExtension(signatureAlgorithmIdentifierObject(spec.alt.signatureAlgorithm)));
  const sigAlg = signatureAlgorithmIdentifierObject(spec.signatureAlgorithm);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: new Uint8Array(spec.serial).buffer as ArrayBuffer,
    signature: sigAlg,
    issuer: spec.issuer,
    validity: new Validity({ notBefore: wholeSeconds(spec.notBefore), notAfter: wholeSeconds(spec.notAfter) }),
    subject: spec.subject,
    subjectPublicKeyInfo: AsnConvert.parse(spec.spki, SubjectPublicKeyInfo),
    extensions: new Extensions(extensions),
  });
  if (spec.alt) {
    const pre = preTbs(new Uint8Array(AsnConvert.serialize(tbs)), 'certificate');
    const altSig = await spec.alt.signer.sign(spec.alt.signatureAlgorithm, pre);
    tbs.extensions = new Extensions([...extensions, altSignatureValueExtension(altSig)]);
  }
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
  const signature = await spec.signer.sign(spec.signatureAlgorithm, tbsDer);
  return assembleSigned(tbsDer, new Uint8Array(AsnConvert.serialize(sigAlg)), signature);
}

/**
 * SEQUENCE { tbs, signatureAlgorithm, BIT STRING signature } from the exact bytes that were
 * signed — the same shape for a certificate, a CSR and a CRL.
 */
export function assembleSigned(tbsDer: Uint8Array, sigAlgDer: Uint8Array, signature: Uint8Array): Uint8Array {
  return encodeTlv(0x30, [tbsDer, sigAlgDer, encodeTlv(0x03, [Uint8Array.of(0), signature])]);
}
