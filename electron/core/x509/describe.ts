import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, CertificateList, CertificatePolicies, DisplayText, Extension, UserNotice, id_ce_certificatePolicies, id_qt_csp, id_qt_unotice } from '@peculiar/asn1-x509';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { QpkiError } from '../errors';
import type { SignatureAlgorithm } from '../keys/algorithms';
import { keyAlgorithmOfSpki, signatureAlgorithmFromIdentifier, verifySignature } from '../keys/verify';
import { catalystParts, preTbs, OID_ALT_SIGNATURE_ALGORITHM, OID_ALT_SIGNATURE_VALUE, OID_SUBJECT_ALT_PUBLIC_KEY_INFO } from './catalyst';
import { assertStrictDer, bytesEqual, children, slice, whole, type Tlv } from './der';
import { subjectKeyIdentifier } from '../keys/spki';
import { parsePemBlocks } from './pem';
// Serials as index.txt and QPKI write them (lower-case hex, no leading zero byte).
import { canonicalSerial } from '../ca/serials';
import { nameString } from './names';

type Peculiar = typeof import('./peculiar');
let peculiar: Peculiar | undefined;
/** @peculiar/x509 (and its dependency injection container) is loaded only when a document is described. */
function px509(): Peculiar {
  return (peculiar ??= require('./peculiar') as Peculiar);
}

export type DocumentKind = 'certificate' | 'csr' | 'crl';

export interface SignatureCheck {
  /** Which signature: the primary one, or the Catalyst alternative. */
  which: 'primary' | 'alternative';
  algorithm: SignatureAlgorithm | string;
  /** true / false when checked; null when no key to check against was given or the algorithm is unknown. */
  valid: boolean | null;
  against: string;
  /** Why a signature was found invalid or was not checked, when that is not plain. */
  reason?: string;
}

export interface ExtensionView {
  oid: string;
  name: string;
  critical: boolean;
  /** Human-readable value lines. */
  value: string[];
}

export interface Described {
  kind: DocumentKind;
  der: Uint8Array;
  pem: string;
  sha256: string;
  sha1: string;
  subject?: string;
  issuer?: string;
  serial?: string;
  notBefore?: string;
  notAfter?: string;
  thisUpdate?: string;
  nextUpdate?: string;
  publicKey?: { algorithm: string; sha256: string };
  altPublicKey?: { algorithm: string; sha256: string };
  signatureAlgorithm: string;
  extensions: ExtensionView[];
  revoked?: { serial: string; date: string; reason?: string }[];
  signatures: SignatureCheck[];
  /** The full text dump (openssl-like). */
  text: string;
}

const EXT_NAMES: Record<string, string> = {
  '2.5.29.14': 'Subject Key Identifier', '2.5.29.15': 'Key Usage', '2.5.29.17': 'Subject Alternative Name', '2.5.29.19': 'Basic Constraints',
  '2.5.29.20': 'CRL Number', '2.5.29.21': 'CRL Reason', '2.5.29.30': 'Name Constraints', '2.5.29.31': 'CRL Distribution Points',
  '2.5.29.32': 'Certificate Policies', '2.5.29.35': 'Authority Key Identifier', '2.5.29.37': 'Extended Key Usage',
  '1.3.6.1.5.5.7.1.1': 'Authority Information Access', '1.3.6.1.5.5.7.48.1.5': 'OCSP No Check',
  [OID_SUBJECT_ALT_PUBLIC_KEY_INFO]: 'Subject Alt Public Key Info (Catalyst)', [OID_ALT_SIGNATURE_ALGORITHM]: 'Alt Signature Algorithm (Catalyst)', [OID_ALT_SIGNATURE_VALUE]: 'Alt Signature Value (Catalyst)',
};

function hex(b: ArrayBuffer | Uint8Array): string {
  return Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex');
}

/** A hex string as colon-separated upper-case byte pairs (AB:CD:…), as certificate viewers show fingerprints. */
export function colonHex(h: string): string {
  return (h.match(/../g) ?? []).join(':').toUpperCase();
}

/** Detect the kind of a DER document from its structure. */
export function detectKind(der: Uint8Array): DocumentKind {
  const top = whole(der);
  const parts = children(der, top);
  if (top.tag !== 0x30 || parts.length !== 3) throw new QpkiError('INPUT_INVALID', 'Not a certificate, CSR or CRL (expected a signed SEQUENCE of three parts).');
  const tbs = children(der, parts[0]);
  // TBSCertificate starts with [0] version or an INTEGER serial followed by an AlgorithmIdentifier.
  if (tbs[0]?.tag === 0xa0) return 'certificate';
  if (tbs[0]?.tag === 0x02 && tbs[1]?.tag === 0x02) return 'certificate';
  // A v1 certificate has no [0] version: serial, signature, issuer, validity (two times), subject, key.
  if (tbs.length >= 6 && tbs[0]?.tag === 0x02 && tbs.slice(1, 6).every((t) => t.tag === 0x30)) {
    const v = children(der, tbs[3]);
    if (v.length === 2 && v.every((t) => t.tag === 0x17 || t.tag === 0x18)) return 'certificate';
  }
  if (tbs[0]?.tag === 0x02 && tbs[1]?.tag === 0x30 && tbs[2]?.tag === 0x30 && tbs[3]?.tag === 0x30 && tbs[4]?.tag === 0xa0 - 0x10 + 0x10) return 'csr';
  if (tbs[0]?.tag === 0x02 && tbs[1]?.tag === 0x30 && tbs[3]?.tag === 0xa0) return 'csr';
  if (tbs[0]?.tag === 0x02 && tbs[1]?.tag === 0x30 && tbs[2]?.tag === 0x30 && (tbs[3]?.tag === 0x17 || tbs[3]?.tag === 0x18)) return 'crl';
  if (tbs[0]?.tag === 0x30 && tbs[1]?.tag === 0x30 && (tbs[2]?.tag === 0x17 || tbs[2]?.tag === 0x18)) return 'crl';
  throw new QpkiError('INPUT_INVALID', 'Not a certificate, CSR or CRL (unrecognized structure).');
}

/** Decode input that may be PEM (any of the three labels) or DER. */
export function decodeInput(data: Uint8Array | string): { der: Uint8Array; kind: DocumentKind } {
  const text = typeof data === 'string' ? data : Buffer.from(data.subarray(0, Math.min(data.length, 1 << 20))).toString('latin1');
  let der: Uint8Array;
  if (text.includes('-----BEGIN')) {
    const blocks = parsePemBlocks(typeof data === 'string' ? data : Buffer.from(data).toString('latin1'));
    if (!blocks.length) throw new QpkiError('PEM_INVALID', 'The PEM text has no complete BEGIN/END block.');
    const b = blocks[0];
    const kindOf: Record<string, DocumentKind> = { CERTIFICATE: 'certificate', 'CERTIFICATE REQUEST': 'csr', 'NEW CERTIFICATE REQUEST': 'csr', 'X509 CRL': 'crl' };
    if (!kindOf[b.label]) throw new QpkiError('PEM_INVALID', `A PEM block labelled "${b.label}" is not a certificate, CSR or CRL.`);
    der = b.der;
    assertStrictDer(der);
    const k = detectKind(der);
    if (k !== kindOf[b.label]) throw new QpkiError('PEM_INVALID', `The PEM label says ${b.label} but the content is a ${k}.`);
    return { der, kind: k };
  }
  if (typeof data === 'string') throw new QpkiError('PEM_INVALID', 'The text is not PEM (no BEGIN line).');
  der = data;
  assertStrictDer(der);
  return { der, kind: detectKind(der) };
}

function extensionViews(exts: Extension[] | undefined, parsed: { type: string; toString(f?: string): string }[] | undefined): ExtensionView[] {
  return (exts ?? []).map((e, i) => {
    let value: string[];
    try {
      const text = parsed?.[i]?.toString('text') ?? '';
      value = text.split('\n').slice(1).map((l) => l.trim()).filter(Boolean);
    } catch {
      value = [];
    }
    const raw = new Uint8Array(e.extnValue.buffer);
    const special = catalystView(e.extnID, raw) ?? (e.extnID === '2.5.29.20' ? crlNumberView(raw) : undefined) ?? keyIdView(e.extnID, value) ?? basicConstraintsView(e.extnID, raw) ?? policiesView(e.extnID, raw);
    if (special) value = special;
    if (!value.length) value = [colonHex(hex(e.extnValue.buffer)).slice(0, 200)];
    return { oid: e.extnID, name: EXT_NAMES[e.extnID] ?? e.extnID, critical: e.critical, value };
  });
}

/** Key identifiers as one colon-separated hex line, the way certificate viewers show them. */
function keyIdView(oid: string, lines: string[]): string[] | undefined {
  if (oid !== '2.5.29.14' && oid !== '2.5.29.35') return undefined;
  const hexLines = lines.filter((l) => /^([0-9a-f]{2}\s+)*[0-9a-f]{2}$/i.test(l));
  if (!hexLines.length || hexLines.length !== lines.length) return undefined;
  return [colonHex(hexLines.join('').replace(/\s+/g, ''))];
}

/** basicConstraints of an end-entity (an empty SEQUENCE) reads "CA: false" rather than bytes. */
function basicConstraintsView(oid: string, raw: Uint8Array): string[] | undefined {
  if (oid !== '2.5.29.19') return undefined;
  return raw.length === 2 && raw[0] === 0x30 && raw[1] === 0x00 ? ['CA: false'] : undefined;
}

/**
 * The signature algorithm an AlgorithmIdentifier names. A known algorithm with parameters its
 * specification forbids (NULL after an ML-DSA or ECDSA OID, say) is malformed, which makes the
 * signature invalid; only an algorithm we do not know leaves it unchecked.
 */
function sigAlgName(id: Uint8Array): { algorithm: SignatureAlgorithm | string; malformed?: string } {
  try {
    return { algorithm: signatureAlgorithmFromIdentifier(id) };
  } catch (e) {
    const message = e instanceof QpkiError ? e.message : 'unreadable algorithm identifier';
    if (/^Unsupported signature algorithm/.test(message)) return { algorithm: `unsupported (${message})` };
    return { algorithm: 'malformed', malformed: message };
  }
}

function keyName(spki: Uint8Array): string {
  try {
    return keyAlgorithmOfSpki(spki);
  } catch (e) {
    return `invalid key (${e instanceof QpkiError ? e.message : 'unreadable'})`;
  }
}

function check(which: SignatureCheck['which'], alg: ReturnType<typeof sigAlgName>, spki: Uint8Array | undefined, data: Uint8Array, sig: Uint8Array, against: string): SignatureCheck {
  const { algorithm } = alg;
  if (alg.malformed) return { which, algorithm, valid: false, against, reason: alg.malformed.startsWith('RSASSA-PSS parameters are not supported') ? `INVALID for this tool’s policy: ${alg.malformed}` : alg.malformed };
  if (!spki) return { which, algorithm, valid: null, against };
  // A signature this tool cannot verify is not accepted as valid: INVALID under its policy.
  if (algorithm.startsWith('unsupported')) return { which, algorithm, valid: false, against, reason: 'INVALID for this tool’s policy: the signature algorithm is not one it accepts (RSA PKCS#1 v1.5 or PSS with SHA-2, ECDSA P-256/384/521, Ed25519, ML-DSA)' };
  try {
    return { which, algorithm, valid: verifySignature(spki, algorithm as SignatureAlgorithm, data, sig), against };
  } catch (e) {
    // The signer's key is malformed (ML-DSA with NULL parameters) or one this tool does not accept
    // (RSA 1024, P-192): nothing verifies under it, so the signature is INVALID under this policy.
    return { which, algorithm, valid: false, against, reason: `INVALID for this tool’s policy: ${e instanceof QpkiError ? e.message : 'the key does not decode'}` };
  }
}

/** RFC 5280 §4.1.1.2: the signature field inside the TBS must equal the outer signatureAlgorithm. */
function innerMatchesOuter(c: SignatureCheck, inner: Uint8Array, outer: Uint8Array): SignatureCheck {
  if (c.valid === false || bytesEqual(inner, outer)) return c;
  return { ...c, valid: false, reason: 'the signature algorithm inside the signed part differs from the outer one' };
}

/** One-line views of the Catalyst extensions: a 2.5 KB key or a 4.6 KB signature in hex helps no one. */
function catalystView(oid: string, value: Uint8Array): string[] | undefined {
  try {
    if (oid === OID_SUBJECT_ALT_PUBLIC_KEY_INFO) return [`${keyName(value)}, ${value.length} bytes, SHA-256 ${createHash('sha256').update(value).digest('hex')}`];
    if (oid === OID_ALT_SIGNATURE_ALGORITHM) {
      const a = sigAlgName(value);
      return [a.malformed ? `malformed: ${a.malformed}` : String(a.algorithm)];
    }
    if (oid === OID_ALT_SIGNATURE_VALUE) {
      const t = whole(value);
      return [`${t.end - t.contentStart - 1}-byte signature`];
    }
  } catch {
    return undefined;
  }
  return undefined;
}

const POLICY_NAMES: Record<string, string> = {
  '2.5.29.32.0': 'anyPolicy', '2.23.140.1.1': 'CA/Browser Forum EV', '2.23.140.1.2.1': 'CA/Browser Forum domain validated',
  '2.23.140.1.2.2': 'CA/Browser Forum organization validated', '2.23.140.1.2.3': 'CA/Browser Forum individual validated',
};

function displayText(t: DisplayText | undefined): string {
  return t?.utf8String ?? t?.ia5String ?? t?.visibleString ?? t?.bmpString ?? '';
}

/**
 * Certificate policies with every qualifier (CPS URI, user notice): a review that showed only the
 * policy OID would show less than is signed.
 */
function policiesView(oid: string, value: Uint8Array): string[] | undefined {
  if (oid !== id_ce_certificatePolicies) return undefined;
  try {
    const lines: string[] = [];
    for (const p of AsnConvert.parse(value, CertificatePolicies)) {
      const name = POLICY_NAMES[p.policyIdentifier];
      lines.push(`Policy: ${p.policyIdentifier}${name ? ` (${name})` : ''}`);
      for (const q of p.policyQualifiers ?? []) {
        if (q.policyQualifierId === id_qt_csp) {
          lines.push(`  CPS: ${ia5(new Uint8Array(q.qualifier))}`);
        } else if (q.policyQualifierId === id_qt_unotice) {
          const n = AsnConvert.parse(q.qualifier, UserNotice);
          const ref = n.noticeRef ? ` (notice ${displayText(n.noticeRef.organization)} ${n.noticeRef.noticeNumbers.join(', ')})` : '';
          lines.push(`  User notice: ${displayText(n.explicitText) || '(no text)'}${ref}`);
        } else {
          lines.push(`  Qualifier ${q.policyQualifierId}: ${colonHex(hex(q.qualifier))}`);
        }
      }
    }
    return lines;
  } catch {
    return undefined;
  }
}

/** The CPS pointer: an IA5String (RFC 5280 4.2.1.4). */
function ia5(der: Uint8Array): string {
  const t = whole(der);
  if (t.tag !== 0x16) throw new QpkiError('CERT_INVALID', 'The CPS qualifier is not an IA5String.');
  return Buffer.from(der.subarray(t.contentStart, t.end)).toString('latin1');
}

function crlNumberView(value: Uint8Array): string[] | undefined {
  try {
    const t = whole(value);
    if (t.tag !== 0x02) return undefined;
    return [BigInt('0x' + (hex(value.subarray(t.contentStart, t.end)) || '0')).toString()];
  } catch {
    return undefined;
  }
}

/**
 * Decode a certificate, CSR or CRL and verify its signature(s): a CSR against its own key, a
 * certificate or CRL against `issuer` (a certificate; for a self-signed certificate, itself when
 * no issuer is given). Catalyst alternative signatures are checked separately.
 */
export function describeDocument(data: Uint8Array | string, issuer?: Uint8Array | string): Described {
  const { der, kind } = decodeInput(data);
  const issuerDer = issuer !== undefined ? decodeInput(issuer) : undefined;
  if (issuerDer && issuerDer.kind !== 'certificate') throw new QpkiError('INPUT_INVALID', 'The issuer must be a certificate.');
  const top = whole(der);
  const [tbsT, algT, sigT] = children(der, top);
  const tbsDer = slice(der, tbsT);
  const sigAlgDer = slice(der, algT);
  const sigBits = der.subarray(sigT.contentStart + 1, sigT.end);
  // A signature is whole octets: a BIT STRING that declares unused bits is not the value that was signed.
  const unusedBits = der[sigT.contentStart] ?? 0;
  const bits = (c: SignatureCheck): SignatureCheck => (unusedBits && c.valid !== false ? { ...c, valid: false, reason: `the signature BIT STRING declares ${unusedBits} unused bits` } : c);
  const sha256 = createHash('sha256').update(der).digest('hex');
  const sha1 = createHash('sha1').update(der).digest('hex');
  const pem = `-----BEGIN ${kind === 'certificate' ? 'CERTIFICATE' : kind === 'csr' ? 'CERTIFICATE REQUEST' : 'X509 CRL'}-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${kind === 'certificate' ? 'CERTIFICATE' : kind === 'csr' ? 'CERTIFICATE REQUEST' : 'X509 CRL'}-----\n`;
  const algorithm = sigAlgName(sigAlgDer);
  try {
    if (kind === 'csr') {
      const csr = AsnConvert.parse(der, CertificationRequest);
      const p = new (px509()).Pkcs10CertificateRequest(new Uint8Array(der));
      const spki = new Uint8Array(AsnConvert.serialize(csr.certificationRequestInfo.subjectPKInfo));
      return {
        kind, der, pem, sha256, sha1, subject: nameString(csr.certificationRequestInfo.subject), signatureAlgorithm: String(algorithm.algorithm),
        publicKey: { algorithm: keyName(spki), sha256: createHash('sha256').update(spki).digest('hex') },
        extensions: extensionViews(p.extensions.map((e) => AsnConvert.parse(e.rawData, Extension)), p.extensions),
        signatures: [bits(check('primary', algorithm, spki, tbsDer, sigBits, 'the key in the request'))],
        text: p.toString('text'),
      };
    }
    if (kind === 'certificate') {
      const cert = AsnConvert.parse(der, Certificate);
      const t = cert.tbsCertificate;
      const p = new (px509()).X509Certificate(new Uint8Array(der));
      const spki = new Uint8Array(AsnConvert.serialize(t.subjectPublicKeyInfo));
      // Self-signed is self-issued and signed by its own key: a self-issued certificate whose
      // authorityKeyIdentifier names another key (a key rollover) is checked only against an issuer.
      const selfIssued = bytesEqual(rawName(der, tbsT, 'issuer'), rawName(der, tbsT, 'subject'));
      const ownKeyId = keyIdOf(t.extensions, '2.5.29.14');
      const akid = keyIdOf(t.extensions, '2.5.29.35');
      const otherKey = selfIssued && akid !== undefined && !(ownKeyId !== undefined ? bytesEqual(akid, ownKeyId) : bytesEqual(akid, subjectKeyIdentifier(spki)));
      const selfSigned = selfIssued && !otherKey;
      const issuerSpki = issuerDer ? new Uint8Array(AsnConvert.serialize(AsnConvert.parse(issuerDer.der, Certificate).tbsCertificate.subjectPublicKeyInfo)) : selfSigned ? spki : undefined;
      const issuerCat = issuerDer ? catalystParts(AsnConvert.parse(issuerDer.der, Certificate).tbsCertificate.extensions) : undefined;
      const cat = catalystPartsLenient(t.extensions);
      const against = issuerDer ? 'the issuer certificate' : selfSigned ? 'its own key (self-signed)' : otherKey ? 'no issuer given (self-issued, but signed by another key: give its issuer)' : 'no issuer given';
      const signatures = [bits(innerMatchesOuter(check('primary', algorithm, issuerSpki, tbsDer, sigBits, against), innerSignatureField(der, tbsT, 'certificate'), sigAlgDer))];
      const altKey = issuerDer ? issuerCat?.altSpki : selfSigned ? cat.altSpki : undefined;
      const alt = alternativeCheck(cat, altKey, () => preTbs(tbsDer, 'certificate'), altKey ? against + ' (alternative key)' : issuerDer ? 'the issuer certificate, which has no alternative key' : 'no issuer given');
      if (alt) signatures.push(alt);
      return {
        kind, der, pem, sha256, sha1, subject: nameString(t.subject), issuer: nameString(t.issuer), serial: canonicalSerial(p.serialNumber),
        notBefore: p.notBefore.toISOString(), notAfter: p.notAfter.toISOString(), signatureAlgorithm: String(algorithm.algorithm),
        publicKey: { algorithm: keyName(spki), sha256: createHash('sha256').update(spki).digest('hex') },
        altPublicKey: cat.altSpki ? { algorithm: keyName(cat.altSpki), sha256: createHash('sha256').update(cat.altSpki).digest('hex') } : undefined,
        extensions: extensionViews(t.extensions, p.extensions),
        signatures,
        text: p.toString('text'),
      };
    }
    const crl = AsnConvert.parse(der, CertificateList);
    const t = crl.tbsCertList;
    const p = new (px509()).X509Crl(new Uint8Array(der));
    const issuerCert = issuerDer ? AsnConvert.parse(issuerDer.der, Certificate).tbsCertificate : undefined;
    const issuerSpki = issuerCert ? new Uint8Array(AsnConvert.serialize(issuerCert.subjectPublicKeyInfo)) : undefined;
    const cat = catalystPartsLenient(t.crlExtensions);
    const signatures = [bits(innerMatchesOuter(check('primary', algorithm, issuerSpki, tbsDer, sigBits, issuerCert ? 'the issuer certificate' : 'no issuer given'), innerSignatureField(der, tbsT, 'crl'), sigAlgDer))];
    const altKey = issuerCert ? catalystParts(issuerCert.extensions).altSpki : undefined;
    const alt = alternativeCheck(cat, altKey, () => preTbs(tbsDer, 'crl'), altKey ? 'the issuer certificate (alternative key)' : issuerCert ? 'the issuer certificate, which has no alternative key' : 'no issuer given');
    if (alt) signatures.push(alt);
    return {
      kind, der, pem, sha256, sha1, issuer: nameString(t.issuer), thisUpdate: p.thisUpdate.toISOString(), nextUpdate: p.nextUpdate?.toISOString(),
      signatureAlgorithm: String(algorithm.algorithm),
      extensions: extensionViews(t.crlExtensions, p.extensions),
      revoked: (t.revokedCertificates ?? []).map((r) => ({ serial: canonicalSerial(hex(r.userCertificate)), date: r.revocationDate.getTime().toISOString(), reason: revocationReason(r.crlEntryExtensions) })),
      signatures,
      text: p.toString('text'),
    };
  } catch (e) {
    if (e instanceof QpkiError) throw e;
    const code = kind === 'csr' ? 'CSR_INVALID' : kind === 'crl' ? 'CRL_INVALID' : 'CERT_INVALID';
    throw new QpkiError(code, `The ${kind === 'csr' ? 'request' : kind === 'crl' ? 'CRL' : 'certificate'} cannot be decoded: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The `signature` AlgorithmIdentifier inside a TBSCertificate or TBSCertList. */
function innerSignatureField(der: Uint8Array, tbsT: Tlv, kind: 'certificate' | 'crl'): Uint8Array {
  const f = children(der, tbsT);
  const i = kind === 'certificate' ? (f[0]?.tag === 0xa0 ? 2 : 1) : f[0]?.tag === 0x02 ? 1 : 0;
  return f[i] ? slice(der, f[i]) : new Uint8Array(0);
}

/**
 * The Catalyst alternative signature check, when the document carries one: both
 * altSignatureAlgorithm and altSignatureValue must be there, and the pre-TBS is verified with
 * the issuer's subjectAltPublicKeyInfo.
 */
function alternativeCheck(cat: ReturnType<typeof catalystPartsLenient>, altKey: Uint8Array | undefined, pre: () => Uint8Array, against: string): SignatureCheck | undefined {
  if (!cat.altSignature && !cat.altAlgorithm && !cat.badValue) return undefined;
  if (cat.badValue) return { which: 'alternative', algorithm: cat.altAlgorithm ? String(sigAlgName(cat.altAlgorithm).algorithm) : 'missing', valid: false, against, reason: cat.badValue };
  if (!cat.altSignature || !cat.altAlgorithm) {
    return { which: 'alternative', algorithm: cat.altAlgorithm ? String(sigAlgName(cat.altAlgorithm).algorithm) : 'missing', valid: false, against, reason: 'altSignatureAlgorithm and altSignatureValue must come together' };
  }
  return check('alternative', sigAlgName(cat.altAlgorithm), altKey, pre(), cat.altSignature, against);
}

/** catalystParts, with an altSignatureValue that is not a BIT STRING of whole octets reported rather than thrown. */
function catalystPartsLenient(extensions: Extension[] | undefined): ReturnType<typeof catalystParts> & { badValue?: string } {
  try {
    return catalystParts(extensions);
  } catch {
    const v = extensions?.find((e) => e.extnID === OID_ALT_SIGNATURE_VALUE)?.extnValue.buffer;
    let why = 'altSignatureValue is not a BIT STRING';
    try {
      const b = new Uint8Array(v!);
      const tl = whole(b);
      if (tl.tag === 0x03) why = `altSignatureValue declares ${b[tl.contentStart]} unused bits`;
    } catch {
      // not DER at all: the first wording stands
    }
    const rest = catalystParts(extensions?.filter((e) => e.extnID !== OID_ALT_SIGNATURE_VALUE));
    return { ...rest, badValue: why };
  }
}

/** The DER of the issuer or subject Name inside a TBSCertificate (v1 or v3). */
function rawName(der: Uint8Array, tbsT: Tlv, which: 'issuer' | 'subject'): Uint8Array {
  const f = children(der, tbsT);
  const base = f[0]?.tag === 0xa0 ? 1 : 0;
  const t = f[base + (which === 'issuer' ? 2 : 4)];
  return t ? slice(der, t) : new Uint8Array(0);
}

/** The key identifier in an SKI (OCTET STRING) or AKI ([0] keyIdentifier) extension, if present. */
function keyIdOf(exts: Extension[] | undefined, oid: string): Uint8Array | undefined {
  const e = exts?.find((x) => x.extnID === oid);
  if (!e) return undefined;
  try {
    const v = new Uint8Array(e.extnValue.buffer);
    const t = whole(v);
    if (oid === '2.5.29.14') return t.tag === 0x04 ? v.subarray(t.contentStart, t.end) : undefined;
    const first = children(v, t)[0];
    return first?.tag === 0x80 ? v.subarray(first.contentStart, first.end) : undefined;
  } catch {
    return undefined;
  }
}

const REASON_NAMES = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'unused', 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise'];

function revocationReason(exts: Extension[] | undefined): string | undefined {
  const e = exts?.find((x) => x.extnID === '2.5.29.21');
  if (!e) return undefined;
  const v = new Uint8Array(e.extnValue.buffer);
  // ENUMERATED, one content byte for every defined reason.
  return v[0] === 0x0a && v[1] === 1 ? REASON_NAMES[v[2]] ?? `reason ${v[2]}` : 'malformed';
}
