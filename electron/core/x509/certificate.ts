import { randomFillSync } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Extension, Name } from '@peculiar/asn1-x509';
import { QpkiError } from '../errors';
import type { SignatureAlgorithm } from '../keys/algorithms';
import type { Signer } from '../keys/signer';
import { signatureAlgorithmIdentifier, signatureAlgorithmIdentifierObject } from '../keys/verify';
import { encodeTlv } from './der';
import { encodeExtensions, encodeOid } from './extensionsDer';
import { altSignatureAlgorithmExtension, subjectAltPublicKeyInfoExtension } from './catalyst';
import { assembleSignedDocument, checkSigned, signPrepared, type PreparedDocument } from './tbs';

/** CSPRNG output drawn 4 KiB at a time (one call per 256 serials); each byte serves one serial only. */
const serialPool = Buffer.alloc(4096);
let serialPoolAt = serialPool.length;

/**
 * A fresh certificate serial: 16 bytes from the CSPRNG, positive, minimally encoded (the first
 * byte is kept in 0x01..0x7f), so at least 120 random bits — well above the 64 the CA/B Forum asks.
 */
export function newSerial(): Uint8Array {
  if (serialPoolAt === serialPool.length) {
    randomFillSync(serialPool);
    serialPoolAt = 0;
  }
  const s = new Uint8Array(serialPool.subarray(serialPoolAt, serialPoolAt + 16));
  serialPoolAt += 16;
  s[0] = (s[0] & 0x7f) || 0x01;
  return s;
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

/** Everything a certificate holds, fixed before anything signs it. */
export interface CertificateContent {
  serial: Uint8Array;
  issuer: Name;
  subject: Name;
  notBefore: Date;
  notAfter: Date;
  /** Subject public key (DER SubjectPublicKeyInfo). */
  spki: Uint8Array;
  extensions: Extension[];
  signatureAlgorithm: SignatureAlgorithm;
  /** Catalyst: the subject's alternative (ML-DSA) public key, carried in subjectAltPublicKeyInfo. */
  subjectAltSpki?: Uint8Array;
  /** Catalyst: the algorithm of the issuer's alternative signature over the pre-TBS. */
  altSignatureAlgorithm?: SignatureAlgorithm;
}

export interface CertificateSpec extends Omit<CertificateContent, 'altSignatureAlgorithm'> {
  signer: Signer;
  /** Catalyst: the issuer's alternative key signs the pre-TBS. */
  alt?: AltSigning;
}

const nameDer = new WeakMap<Name, Uint8Array>();

/** DER of a Name, kept for the Name objects a CA reuses (its own subject as issuer). */
export function encodeName(n: Name): Uint8Array {
  let der = nameDer.get(n);
  if (!der) {
    der = encodeSimpleName(n) ?? new Uint8Array(AsnConvert.serialize(n));
    nameDer.set(n, der);
  }
  return der;
}

/**
 * The names profiles build (one attribute per RDN, UTF8String or PrintableString) written
 * directly, as asn1-schema would write them; anything else (multi-valued RDNs, other string
 * types, names parsed from certificates) is left to asn1-schema.
 */
function encodeSimpleName(n: Name): Uint8Array | undefined {
  const rdns: Uint8Array[] = [];
  for (const rdn of n) {
    if (rdn.length !== 1) return undefined;
    const { type, value } = rdn[0];
    let v: Uint8Array;
    if (typeof value.utf8String === 'string' && value.printableString === undefined) v = encodeTlv(0x0c, [Buffer.from(value.utf8String, 'utf8')]);
    else if (typeof value.printableString === 'string' && value.utf8String === undefined && /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value.printableString)) v = encodeTlv(0x13, [Buffer.from(value.printableString, 'latin1')]);
    else return undefined;
    if (value.anyValue || value.bmpString !== undefined || value.ia5String !== undefined || value.teletexString !== undefined || value.universalString !== undefined) return undefined;
    rdns.push(encodeTlv(0x31, [encodeTlv(0x30, [encodeOid(type), v])]));
  }
  return encodeTlv(0x30, rdns);
}

/** UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 section 4.1.2.5), whole seconds, Z. */
export function encodeTime(d: Date): Uint8Array {
  const year = d.getUTCFullYear();
  if (!(year >= 1950 && year <= 9999)) throw new QpkiError('INPUT_INVALID', `A certificate date must be between 1950 and 9999 (got ${year}).`);
  // UTCTime YYMMDDHHMMSSZ (13 bytes) or GeneralizedTime YYYYMMDDHHMMSSZ (15), after the tag and length.
  const utc = year < 2050;
  const out = new Uint8Array(utc ? 15 : 17);
  out[0] = utc ? 0x17 : 0x18;
  out[1] = utc ? 13 : 15;
  let at = 2;
  const put = (v: number, width: number) => {
    for (let i = width - 1; i >= 0; i--, v = Math.floor(v / 10)) out[at + i] = 0x30 + (v % 10);
    at += width;
  };
  put(utc ? year % 100 : year, utc ? 2 : 4);
  put(d.getUTCMonth() + 1, 2);
  put(d.getUTCDate(), 2);
  put(d.getUTCHours(), 2);
  put(d.getUTCMinutes(), 2);
  put(d.getUTCSeconds(), 2); // whole seconds: milliseconds are dropped
  out[at] = 0x5a; // Z
  return out;
}

const VERSION_3 = Uint8Array.of(0xa0, 0x03, 0x02, 0x01, 0x02);

/**
 * DER TBSCertificate assembled from its parts. The subject public key is taken as the DER it
 * came in (already checked by the caller), and the issuer name is encoded once per CA.
 */
function encodeTbs(spec: CertificateContent, sigAlgDer: Uint8Array, extensions: Extension[]): Uint8Array {
  if (spec.serial.length === 0 || spec.serial[0] & 0x80 || (spec.serial[0] === 0 && spec.serial.length > 1 && !(spec.serial[1] & 0x80))) {
    throw new QpkiError('INPUT_INVALID', 'A certificate serial must be a positive, minimally encoded integer.');
  }
  return encodeTlv(0x30, [
    VERSION_3,
    encodeTlv(0x02, [spec.serial]),
    sigAlgDer,
    encodeName(spec.issuer),
    encodeTlv(0x30, [encodeTime(spec.notBefore), encodeTime(spec.notAfter)]),
    encodeName(spec.subject),
    spec.spki,
    encodeTlv(0xa3, [encodeExtensions(extensions)]),
  ]);
}

/**
 * The exact TBSCertificate of a certificate, encoded once: what a review shows and what signing
 * signs (for Catalyst, without altSignatureValue, which the alternative key's signature becomes).
 */
export function prepareCertificate(c: CertificateContent): PreparedDocument {
  if (c.notAfter.getTime() <= c.notBefore.getTime()) throw new QpkiError('INPUT_INVALID', 'The certificate would expire before it starts.');
  const extensions = [...c.extensions];
  if (c.subjectAltSpki) extensions.push(subjectAltPublicKeyInfoExtension(c.subjectAltSpki));
  if (c.altSignatureAlgorithm) extensions.push(altSignatureAlgorithmExtension(signatureAlgorithmIdentifierObject(c.altSignatureAlgorithm)));
  const sigAlgDer = signatureAlgorithmIdentifier(c.signatureAlgorithm);
  return {
    kind: 'certificate', tbs: encodeTbs(c, sigAlgDer, extensions), sigAlgDer, signatureAlgorithm: c.signatureAlgorithm,
    ...(c.altSignatureAlgorithm ? { altSignatureAlgorithm: c.altSignatureAlgorithm } : {}),
  };
}

/**
 * Build and sign a certificate in one go (no review between): prepared, signed, and checked
 * against the signer's own public key(s) like every signed document.
 */
export async function buildCertificate(spec: CertificateSpec): Promise<Uint8Array> {
  const { signer, alt, ...content } = spec;
  const prepared = prepareCertificate({ ...content, ...(alt ? { altSignatureAlgorithm: alt.signatureAlgorithm } : {}) });
  const der = await signPrepared(prepared, signer, alt?.signer);
  checkSigned(der, prepared, { spki: signer.spki, ...(alt ? { altSpki: alt.signer.spki } : {}) });
  return der;
}

/** SEQUENCE { tbs, signatureAlgorithm, BIT STRING signature } (see tbs.ts). */
export const assembleSigned = assembleSignedDocument;
