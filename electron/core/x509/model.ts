/**
 * A certificate or CRL read field by field from its DER, keeping what encoders can get wrong
 * (string and time tags, criticality, the exact bytes of names and algorithm identifiers) next to
 * the decoded values. The lint engine and the path validator both read this model: a lint needs
 * the encoding a decoder would normalise away, and path validation compares names byte for byte
 * before it compares them by the rules of RFC 5280 §7.1.
 *
 * Structure that cannot be walked at all throws CERT_INVALID / CRL_INVALID; an extension whose
 * value does not decode keeps its raw bytes and an `error`, so a lint can name it.
 */
import { QpkiError } from '../errors';
import { children, readTlv, slice, whole, type Tlv } from './der';

export const OIDS = {
  commonName: '2.5.4.3',
  serialNumber: '2.5.4.5',
  countryName: '2.5.4.6',
  localityName: '2.5.4.7',
  stateOrProvinceName: '2.5.4.8',
  streetAddress: '2.5.4.9',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
  postalCode: '2.5.4.17',
  emailAddress: '1.2.840.113549.1.9.1',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  basicConstraints: '2.5.29.19',
  cRLNumber: '2.5.29.20',
  reasonCode: '2.5.29.21',
  invalidityDate: '2.5.29.24',
  deltaCRLIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  certificateIssuer: '2.5.29.29',
  nameConstraints: '2.5.29.30',
  cRLDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  authorityKeyIdentifier: '2.5.29.35',
  policyConstraints: '2.5.29.36',
  extKeyUsage: '2.5.29.37',
  freshestCRL: '2.5.29.46',
  inhibitAnyPolicy: '2.5.29.54',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  subjectInfoAccess: '1.3.6.1.5.5.7.1.11',
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
  adOcsp: '1.3.6.1.5.5.7.48.1',
  adCaIssuers: '1.3.6.1.5.5.7.48.2',
  qtCps: '1.3.6.1.5.5.7.2.1',
  qtUnotice: '1.3.6.1.5.5.7.2.2',
  anyPolicy: '2.5.29.32.0',
  anyEku: '2.5.29.37.0',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  precertSigning: '1.3.6.1.4.1.11129.2.4.4',
  ctPoison: '1.3.6.1.4.1.11129.2.4.3',
  sctList: '1.3.6.1.4.1.11129.2.4.2',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPss: '1.2.840.113549.1.1.10',
  ecPublicKey: '1.2.840.10045.2.1',
  ed25519: '1.3.101.112',
  altSubjectPublicKeyInfo: '2.5.29.72',
  altSignatureAlgorithm: '2.5.29.73',
  altSignatureValue: '2.5.29.74',
} as const;

export const KEY_USAGE_BITS = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'] as const;
export type KeyUsageBit = (typeof KEY_USAGE_BITS)[number];

export function decodeOid(content: Uint8Array): string {
  // Numbers while an arc stays below 2^52 (every arc of the OIDs certificates use), BigInt past
  // that (2.25.<UUID>): a BigInt per byte made this a tenth of linting a certificate.
  const arcs: (number | bigint)[] = [];
  let v = 0;
  let big: bigint | null = null;
  for (const b of content) {
    if (big === null && v < 2 ** 45) v = v * 128 + (b & 0x7f);
    else big = (big ?? BigInt(v)) * 128n + BigInt(b & 0x7f);
    if (!(b & 0x80)) {
      arcs.push(big ?? v);
      v = 0;
      big = null;
    }
  }
  if (!arcs.length) return '';
  const a0 = arcs[0];
  const head = typeof a0 === 'number'
    ? (a0 < 40 ? [0, a0] : a0 < 80 ? [1, a0 - 40] : [2, a0 - 80])
    : [2n, a0 - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

/** The text of a directory string by its tag (UTF8, Printable, IA5, Teletex, BMP, Universal, Visible, Numeric). */
export function decodeString(tag: number, c: Uint8Array): string {
  if (tag === 0x0c) return utf8.decode(c);
  if (tag === 0x1e) {
    let s = '';
    for (let i = 0; i + 1 < c.length; i += 2) s += String.fromCharCode((c[i] << 8) | c[i + 1]);
    return s;
  }
  if (tag === 0x1c) {
    let s = '';
    for (let i = 0; i + 3 < c.length; i += 4) s += String.fromCodePoint(((c[i] << 24) | (c[i + 1] << 16) | (c[i + 2] << 8) | c[i + 3]) >>> 0);
    return s;
  }
  return latin1.decode(c);
}

export interface Attribute {
  oid: string;
  /** ASN.1 tag of the value: 0x0c UTF8String, 0x13 PrintableString, 0x16 IA5String, … */
  tag: number;
  value: string;
  raw: Uint8Array;
}

export interface NameModel {
  der: Uint8Array;
  /** Relative distinguished names in order; each a set of attributes. */
  rdns: Attribute[][];
}

export interface TimeModel {
  date: Date;
  /** 0x17 UTCTime or 0x18 GeneralizedTime. */
  tag: number;
  text: string;
}

export type GeneralName =
  | { type: 'otherName'; oid: string; raw: Uint8Array }
  | { type: 'rfc822Name'; value: string; raw: Uint8Array }
  | { type: 'dNSName'; value: string; raw: Uint8Array }
  | { type: 'x400Address'; raw: Uint8Array }
  | { type: 'directoryName'; name: NameModel; raw: Uint8Array }
  | { type: 'ediPartyName'; raw: Uint8Array }
  | { type: 'uniformResourceIdentifier'; value: string; raw: Uint8Array }
  | { type: 'iPAddress'; bytes: Uint8Array; raw: Uint8Array }
  | { type: 'registeredID'; oid: string; raw: Uint8Array };

export interface ExtensionModel {
  oid: string;
  critical: boolean;
  /** The BOOLEAN was written out as FALSE (DER forbids encoding a DEFAULT). */
  criticalEncodedFalse: boolean;
  value: Uint8Array;
  /** Why the value did not decode, when it did not (for the extensions this model decodes). */
  error?: string;
}

export interface PolicyInformation {
  oid: string;
  qualifiers: { oid: string; tag?: number; text?: string; explicitText?: { tag: number; value: string }; noticeRef?: boolean }[];
}

export interface DistributionPoint {
  fullName?: GeneralName[];
  nameRelativeToCRLIssuer?: boolean;
  reasons?: boolean;
  cRLIssuer?: GeneralName[];
}

export interface GeneralSubtree {
  base: GeneralName;
  minimum: number;
  maximum?: number;
}

export interface CertificateModel {
  der: Uint8Array;
  tbsDer: Uint8Array;
  /** 1, 2 or 3 (the encoded INTEGER + 1). */
  version: number;
  /** The version field was present and said v1 (DER requires it absent). */
  versionEncodedV1: boolean;
  serial: Uint8Array;
  innerSignatureAlgorithm: Uint8Array;
  signatureAlgorithm: Uint8Array;
  /** The signature BIT STRING's content after the unused-bits byte, and that byte. */
  signature: Uint8Array;
  signatureUnusedBits: number;
  issuer: NameModel;
  subject: NameModel;
  notBefore: TimeModel;
  notAfter: TimeModel;
  spki: Uint8Array;
  spkiAlgorithm: string;
  /** DER of the SPKI algorithm parameters, undefined when absent. */
  spkiParameters?: Uint8Array;
  publicKey: Uint8Array;
  publicKeyUnusedBits: number;
  issuerUniqueId: boolean;
  subjectUniqueId: boolean;
  /** Present as a field (even if empty). */
  hasExtensionsField: boolean;
  extensions: ExtensionModel[];
  basicConstraints?: { ca: boolean; pathLen?: number; caEncodedFalse: boolean };
  keyUsage?: { bits: Set<KeyUsageBit>; unusedBits: number; bytes: Uint8Array };
  extKeyUsage?: string[];
  subjectAltName?: GeneralName[];
  issuerAltName?: GeneralName[];
  subjectKeyId?: Uint8Array;
  authorityKeyId?: { keyId?: Uint8Array; issuer?: boolean; serial?: boolean };
  policies?: PolicyInformation[];
  crlDistributionPoints?: DistributionPoint[];
  authorityInfoAccess?: { method: string; location: GeneralName }[];
  nameConstraints?: { permitted?: GeneralSubtree[]; excluded?: GeneralSubtree[] };
  policyConstraints?: { requireExplicitPolicy?: number; inhibitPolicyMapping?: number };
  policyMappings?: { issuerDomain: string; subjectDomain: string }[];
  inhibitAnyPolicy?: number;
  /** Subject DER equals issuer DER (RFC 5280 §6.1: self-issued). */
  selfIssued: boolean;
}

export interface CrlEntryModel {
  serial: Uint8Array;
  date: TimeModel;
  extensions: ExtensionModel[];
  /** Decoded reasonCode, when present and well formed. */
  reason?: number;
}

export interface CrlModel {
  der: Uint8Array;
  tbsDer: Uint8Array;
  /** 1 or 2; undefined version field means v1. */
  version: number;
  innerSignatureAlgorithm: Uint8Array;
  signatureAlgorithm: Uint8Array;
  signature: Uint8Array;
  signatureUnusedBits: number;
  issuer: NameModel;
  thisUpdate: TimeModel;
  nextUpdate?: TimeModel;
  /** The revokedCertificates field is present (an empty SEQUENCE counts). */
  hasRevokedField: boolean;
  revoked: CrlEntryModel[];
  extensions: ExtensionModel[];
  crlNumber?: bigint;
  authorityKeyId?: { keyId?: Uint8Array; issuer?: boolean; serial?: boolean };
  issuingDistributionPoint?: { onlyUser: boolean; onlyCA: boolean; indirect: boolean; onlySomeReasons: boolean; fullName?: GeneralName[] };
  deltaCrl: boolean;
}

function content(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.contentStart, t.end);
}

function fail(code: 'CERT_INVALID' | 'CRL_INVALID', why: string): never {
  throw new QpkiError(code, `${code === 'CRL_INVALID' ? 'The CRL' : 'The certificate'} is malformed: ${why}.`);
}

export function parseName(buf: Uint8Array, t: Tlv): NameModel {
  if (t.tag !== 0x30) throw new Error('a Name is not a SEQUENCE');
  const rdns: Attribute[][] = [];
  for (const set of children(buf, t)) {
    if (set.tag !== 0x31) throw new Error('an RDN is not a SET');
    const rdn: Attribute[] = [];
    for (const atv of children(buf, set)) {
      const [oidT, valT] = children(buf, atv);
      if (!oidT || oidT.tag !== 0x06 || !valT) throw new Error('an attribute is not { OID, value }');
      rdn.push({ oid: decodeOid(content(buf, oidT)), tag: valT.tag, value: decodeString(valT.tag, content(buf, valT)), raw: slice(buf, valT) });
    }
    rdns.push(rdn);
  }
  return { der: slice(buf, t), rdns };
}

export function parseTime(buf: Uint8Array, t: Tlv): TimeModel {
  const text = latin1.decode(content(buf, t));
  let m: RegExpExecArray | null;
  let date: Date;
  if (t.tag === 0x17 && (m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?(Z|[+-]\d{4})$/.exec(text))) {
    const y = Number(m[1]);
    date = new Date(Date.UTC(y < 50 ? 2000 + y : 1900 + y, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
    if (m[7] !== 'Z') date = new Date(date.getTime() - offsetMs(m[7]));
  } else if (t.tag === 0x18 && (m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)?(\d\d)?(\.\d+)?(Z|[+-]\d{4})?$/.exec(text))) {
    date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5] ?? 0), Number(m[6] ?? 0), m[7] ? Math.floor(Number(m[7]) * 1000) : 0));
    if (m[8] && m[8] !== 'Z') date = new Date(date.getTime() - offsetMs(m[8]));
  } else {
    throw new Error(`time "${text}" is neither UTCTime nor GeneralizedTime`);
  }
  if (Number.isNaN(date.getTime())) throw new Error(`time "${text}" is not a date`);
  return { date, tag: t.tag, text };
}

function offsetMs(s: string): number {
  const sign = s[0] === '-' ? -1 : 1;
  return sign * (Number(s.slice(1, 3)) * 60 + Number(s.slice(3, 5))) * 60_000;
}

export function parseGeneralName(buf: Uint8Array, t: Tlv): GeneralName {
  const raw = slice(buf, t);
  const c = content(buf, t);
  switch (t.tag) {
    case 0xa0: {
      const oidT = readTlv(buf, t.contentStart);
      return { type: 'otherName', oid: oidT.tag === 0x06 ? decodeOid(content(buf, oidT)) : '', raw };
    }
    case 0x81:
      return { type: 'rfc822Name', value: latin1.decode(c), raw };
    case 0x82:
      return { type: 'dNSName', value: latin1.decode(c), raw };
    case 0xa3:
      return { type: 'x400Address', raw };
    case 0xa4:
      return { type: 'directoryName', name: parseName(buf, readTlv(buf, t.contentStart)), raw };
    case 0xa5:
      return { type: 'ediPartyName', raw };
    case 0x86:
      return { type: 'uniformResourceIdentifier', value: latin1.decode(c), raw };
    case 0x87:
      return { type: 'iPAddress', bytes: c, raw };
    case 0x88:
      return { type: 'registeredID', oid: decodeOid(c), raw };
    default:
      throw new Error(`GeneralName with unknown tag 0x${t.tag.toString(16)}`);
  }
}

function parseGeneralNames(buf: Uint8Array, t: Tlv): GeneralName[] {
  return children(buf, t).map((g) => parseGeneralName(buf, g));
}

function parseInteger(c: Uint8Array): bigint {
  if (!c.length) throw new Error('empty INTEGER');
  let v = 0n;
  for (const b of c) v = (v << 8n) | BigInt(b);
  if (c[0] & 0x80) v -= 1n << BigInt(c.length * 8);
  return v;
}

function smallInt(c: Uint8Array): number {
  const v = parseInteger(c);
  if (v < 0n || v > 1_000_000n) throw new Error('integer out of range');
  return Number(v);
}

/** Extensions ::= SEQUENCE OF Extension, read from the SEQUENCE TLV. */
function parseExtensions(buf: Uint8Array, seq: Tlv): ExtensionModel[] {
  if (seq.tag !== 0x30) throw new Error('extensions are not a SEQUENCE');
  return children(buf, seq).map((e) => {
    const parts = children(buf, e);
    if (parts[0]?.tag !== 0x06) throw new Error('an extension has no OID');
    let i = 1;
    let critical = false;
    let criticalEncodedFalse = false;
    if (parts[i]?.tag === 0x01) {
      critical = buf[parts[i].contentStart] !== 0;
      criticalEncodedFalse = !critical;
      i++;
    }
    if (parts[i]?.tag !== 0x04 || parts.length !== i + 1) throw new Error('an extension value is not an OCTET STRING');
    return { oid: decodeOid(content(buf, parts[0])), critical, criticalEncodedFalse, value: content(buf, parts[i]) };
  });
}

type Decoded = Partial<CertificateModel>;

/**
 * Decodes the extensions this model knows into `out`; a value that does not decode gets `error`.
 * Long as a table is: one short case per extension, each decoding one RFC 5280 structure.
 */
// eslint-disable-next-line max-lines-per-function -- one case per extension OID
function decodeKnownExtensions(exts: ExtensionModel[], out: Decoded): void {
  for (const e of exts) {
    const v = e.value;
    try {
      const top = whole(v);
      switch (e.oid) {
        case OIDS.basicConstraints: {
          if (top.tag !== 0x30) throw new Error('not a SEQUENCE');
          const f = children(v, top);
          let i = 0;
          let ca = false;
          let caEncodedFalse = false;
          if (f[i]?.tag === 0x01) {
            ca = v[f[i].contentStart] !== 0;
            caEncodedFalse = !ca;
            i++;
          }
          let pathLen: number | undefined;
          if (f[i]?.tag === 0x02) pathLen = smallInt(content(v, f[i++]));
          if (i !== f.length) throw new Error('unexpected field');
          out.basicConstraints = { ca, caEncodedFalse, ...(pathLen !== undefined && { pathLen }) };
          break;
        }
        case OIDS.keyUsage: {
          if (top.tag !== 0x03) throw new Error('not a BIT STRING');
          const c = content(v, top);
          const unused = c[0] ?? 0;
          const bytes = c.subarray(1);
          const bits = new Set<KeyUsageBit>();
          KEY_USAGE_BITS.forEach((name, n) => {
            const byte = bytes[n >> 3];
            if (byte !== undefined && byte & (0x80 >> (n & 7))) bits.add(name);
          });
          out.keyUsage = { bits, unusedBits: unused, bytes };
          break;
        }
        case OIDS.extKeyUsage:
          out.extKeyUsage = children(v, top).map((o) => {
            if (o.tag !== 0x06) throw new Error('a key purpose is not an OID');
            return decodeOid(content(v, o));
          });
          break;
        case OIDS.subjectAltName:
          out.subjectAltName = parseGeneralNames(v, top);
          break;
        case OIDS.issuerAltName:
          out.issuerAltName = parseGeneralNames(v, top);
          break;
        case OIDS.subjectKeyIdentifier:
          if (top.tag !== 0x04) throw new Error('not an OCTET STRING');
          out.subjectKeyId = content(v, top);
          break;
        case OIDS.authorityKeyIdentifier: {
          const aki: NonNullable<CertificateModel['authorityKeyId']> = {};
          for (const f of children(v, top)) {
            if (f.tag === 0x80) aki.keyId = content(v, f);
            else if (f.tag === 0xa1) aki.issuer = true;
            else if (f.tag === 0x82) aki.serial = true;
            else throw new Error('unknown field');
          }
          out.authorityKeyId = aki;
          break;
        }
        case OIDS.certificatePolicies:
          out.policies = children(v, top).map((pi) => {
            const [oidT, qualT] = children(v, pi);
            if (oidT?.tag !== 0x06) throw new Error('a policy has no OID');
            const qualifiers = qualT
              ? children(v, qualT).map((q) => {
                  const [qo, qv] = children(v, q);
                  const oid = decodeOid(content(v, qo));
                  const item: PolicyInformation['qualifiers'][number] = { oid, tag: qv?.tag };
                  if (qv && oid === OIDS.qtCps) item.text = latin1.decode(content(v, qv));
                  if (qv && oid === OIDS.qtUnotice && qv.tag === 0x30) {
                    for (const f of children(v, qv)) {
                      if (f.tag === 0x30) item.noticeRef = true;
                      else item.explicitText = { tag: f.tag, value: decodeString(f.tag, content(v, f)) };
                    }
                  }
                  return item;
                })
              : [];
            return { oid: decodeOid(content(v, oidT)), qualifiers };
          });
          break;
        case OIDS.cRLDistributionPoints:
          out.crlDistributionPoints = children(v, top).map((dp) => {
            const d: DistributionPoint = {};
            for (const f of children(v, dp)) {
              if (f.tag === 0xa0) {
                const n = readTlv(v, f.contentStart);
                if (n.tag === 0xa0) d.fullName = parseGeneralNames(v, n);
                else d.nameRelativeToCRLIssuer = true;
              } else if (f.tag === 0x81) d.reasons = true;
              else if (f.tag === 0xa2) d.cRLIssuer = parseGeneralNames(v, f);
              else throw new Error('unknown DistributionPoint field');
            }
            return d;
          });
          break;
        case OIDS.authorityInfoAccess:
          out.authorityInfoAccess = children(v, top).map((ad) => {
            const [m, l] = children(v, ad);
            if (m?.tag !== 0x06 || !l) throw new Error('an AccessDescription is not { OID, GeneralName }');
            return { method: decodeOid(content(v, m)), location: parseGeneralName(v, l) };
          });
          break;
        case OIDS.nameConstraints: {
          const nc: NonNullable<CertificateModel['nameConstraints']> = {};
          for (const f of children(v, top)) {
            const subtrees = children(v, f).map((st) => {
              const parts = children(v, st);
              const s: GeneralSubtree = { base: parseGeneralName(v, parts[0]), minimum: 0 };
              for (const p of parts.slice(1)) {
                if (p.tag === 0x80) s.minimum = smallInt(content(v, p));
                else if (p.tag === 0x81) s.maximum = smallInt(content(v, p));
              }
              return s;
            });
            if (f.tag === 0xa0) nc.permitted = subtrees;
            else if (f.tag === 0xa1) nc.excluded = subtrees;
            else throw new Error('unknown NameConstraints field');
          }
          out.nameConstraints = nc;
          break;
        }
        case OIDS.policyConstraints: {
          const pc: NonNullable<CertificateModel['policyConstraints']> = {};
          for (const f of children(v, top)) {
            if (f.tag === 0x80) pc.requireExplicitPolicy = smallInt(content(v, f));
            else if (f.tag === 0x81) pc.inhibitPolicyMapping = smallInt(content(v, f));
            else throw new Error('unknown PolicyConstraints field');
          }
          out.policyConstraints = pc;
          break;
        }
        case OIDS.policyMappings:
          out.policyMappings = children(v, top).map((m) => {
            const [a, b] = children(v, m);
            return { issuerDomain: decodeOid(content(v, a)), subjectDomain: decodeOid(content(v, b)) };
          });
          break;
        case OIDS.inhibitAnyPolicy:
          if (top.tag !== 0x02) throw new Error('not an INTEGER');
          out.inhibitAnyPolicy = smallInt(content(v, top));
          break;
      }
    } catch (err) {
      e.error = err instanceof Error ? err.message : String(err);
    }
  }
}

/** Reads a DER certificate into the model. */
export function parseCertificateModel(der: Uint8Array): CertificateModel {
  try {
    const top = whole(der);
    const [tbsT, algT, sigT, ...rest] = children(der, top);
    if (top.tag !== 0x30 || !tbsT || tbsT.tag !== 0x30 || algT?.tag !== 0x30 || sigT?.tag !== 0x03 || rest.length) throw new Error('not SEQUENCE { tbsCertificate, signatureAlgorithm, signature }');
    const f = children(der, tbsT);
    let i = 0;
    let version = 1;
    let versionEncodedV1 = false;
    if (f[0]?.tag === 0xa0) {
      const v = readTlv(der, f[0].contentStart);
      version = Number(parseInteger(content(der, v))) + 1;
      versionEncodedV1 = version === 1;
      i++;
    }
    const serialT = f[i++];
    const innerAlgT = f[i++];
    const issuerT = f[i++];
    const validityT = f[i++];
    const subjectT = f[i++];
    const spkiT = f[i++];
    if (serialT?.tag !== 0x02 || innerAlgT?.tag !== 0x30 || !issuerT || validityT?.tag !== 0x30 || !subjectT || spkiT?.tag !== 0x30) throw new Error('the TBSCertificate fields are not in order');
    let issuerUniqueId = false;
    let subjectUniqueId = false;
    let extensions: ExtensionModel[] = [];
    let hasExtensionsField = false;
    for (const t of f.slice(i)) {
      if (t.tag === 0x81 || t.tag === 0xa1) issuerUniqueId = true;
      else if (t.tag === 0x82 || t.tag === 0xa2) subjectUniqueId = true;
      else if (t.tag === 0xa3) {
        hasExtensionsField = true;
        extensions = parseExtensions(der, readTlv(der, t.contentStart));
      } else throw new Error(`unexpected TBSCertificate field 0x${t.tag.toString(16)}`);
    }
    const [nb, na] = children(der, validityT);
    const [spkiAlgT, spkiKeyT] = children(der, spkiT);
    const spkiAlg = children(der, spkiAlgT);
    if (spkiKeyT?.tag !== 0x03 || spkiAlg[0]?.tag !== 0x06) throw new Error('the SubjectPublicKeyInfo is malformed');
    const sig = content(der, sigT);
    const key = content(der, spkiKeyT);
    const issuer = parseName(der, issuerT);
    const subject = parseName(der, subjectT);
    const model: CertificateModel = {
      der,
      tbsDer: slice(der, tbsT),
      version,
      versionEncodedV1,
      serial: content(der, serialT),
      innerSignatureAlgorithm: slice(der, innerAlgT),
      signatureAlgorithm: slice(der, algT),
      signature: sig.subarray(1),
      signatureUnusedBits: sig[0] ?? 0,
      issuer,
      subject,
      notBefore: parseTime(der, nb),
      notAfter: parseTime(der, na),
      spki: slice(der, spkiT),
      spkiAlgorithm: decodeOid(content(der, spkiAlg[0])),
      ...(spkiAlg[1] && { spkiParameters: slice(der, spkiAlg[1]) }),
      publicKey: key.subarray(1),
      publicKeyUnusedBits: key[0] ?? 0,
      issuerUniqueId,
      subjectUniqueId,
      hasExtensionsField,
      extensions,
      selfIssued: bytesSame(issuer.der, subject.der),
    };
    decodeKnownExtensions(extensions, model);
    return model;
  } catch (e) {
    if (e instanceof QpkiError && e.code === 'CERT_INVALID') throw e;
    fail('CERT_INVALID', e instanceof Error ? e.message.replace(/\.$/, '') : String(e));
  }
}

/** One revokedCertificates entry: serial, date, extensions, and the reason code when it is one. */
function parseCrlEntry(der: Uint8Array, r: Tlv): CrlEntryModel {
  const [s, d, e] = children(der, r);
  if (s?.tag !== 0x02 || !d) throw new Error('a revoked entry is not { serial, date }');
  const extensions = e ? parseExtensions(der, e) : [];
  const entry: CrlEntryModel = { serial: content(der, s), date: parseTime(der, d), extensions };
  const rc = extensions.find((x) => x.oid === OIDS.reasonCode);
  if (rc) {
    try {
      const t = whole(rc.value);
      if (t.tag === 0x0a && t.end - t.contentStart === 1) entry.reason = rc.value[t.contentStart];
      else rc.error = 'not a one-byte ENUMERATED';
    } catch (err) {
      rc.error = err instanceof Error ? err.message : String(err);
    }
  }
  return entry;
}

/** The CRL extensions the model reads (CRL number, authority key identifier, issuing distribution point); a malformed one keeps its error. */
function decodeCrlExtensions(model: CrlModel): void {
  for (const e of model.extensions) {
    try {
      const t = whole(e.value);
      if (e.oid === OIDS.cRLNumber) {
        if (t.tag !== 0x02) throw new Error('not an INTEGER');
        model.crlNumber = parseInteger(content(e.value, t));
      } else if (e.oid === OIDS.authorityKeyIdentifier) {
        const d: Decoded = {};
        decodeKnownExtensions([e], d);
        model.authorityKeyId = d.authorityKeyId;
      } else if (e.oid === OIDS.issuingDistributionPoint) {
        const idp = { onlyUser: false, onlyCA: false, indirect: false, onlySomeReasons: false } as NonNullable<CrlModel['issuingDistributionPoint']>;
        for (const p of children(e.value, t)) {
          if (p.tag === 0xa0) {
            const n = readTlv(e.value, p.contentStart);
            if (n.tag === 0xa0) idp.fullName = parseGeneralNames(e.value, n);
          } else if (p.tag === 0x81) idp.onlyUser = e.value[p.contentStart] !== 0;
          else if (p.tag === 0x82) idp.onlyCA = e.value[p.contentStart] !== 0;
          else if (p.tag === 0x83) idp.onlySomeReasons = true;
          else if (p.tag === 0x84) idp.indirect = e.value[p.contentStart] !== 0;
        }
        model.issuingDistributionPoint = idp;
      }
    } catch (err) {
      e.error = err instanceof Error ? err.message : String(err);
    }
  }
}

/** Reads a DER CRL into the model. */
export function parseCrlModel(der: Uint8Array): CrlModel {
  try {
    const top = whole(der);
    const [tbsT, algT, sigT, ...rest] = children(der, top);
    if (top.tag !== 0x30 || tbsT?.tag !== 0x30 || algT?.tag !== 0x30 || sigT?.tag !== 0x03 || rest.length) throw new Error('not SEQUENCE { tbsCertList, signatureAlgorithm, signature }');
    const f = children(der, tbsT);
    let i = 0;
    let version = 1;
    if (f[0]?.tag === 0x02) version = Number(parseInteger(content(der, f[i++]))) + 1;
    const innerAlgT = f[i++];
    const issuerT = f[i++];
    const thisT = f[i++];
    if (innerAlgT?.tag !== 0x30 || issuerT?.tag !== 0x30 || !thisT) throw new Error('the TBSCertList fields are not in order');
    let nextUpdate: TimeModel | undefined;
    if (f[i] && (f[i].tag === 0x17 || f[i].tag === 0x18)) nextUpdate = parseTime(der, f[i++]);
    let hasRevokedField = false;
    const revoked: CrlEntryModel[] = [];
    if (f[i]?.tag === 0x30) {
      hasRevokedField = true;
      for (const r of children(der, f[i++])) {
        revoked.push(parseCrlEntry(der, r));
      }
    }
    let extensions: ExtensionModel[] = [];
    if (f[i]?.tag === 0xa0) extensions = parseExtensions(der, readTlv(der, f[i++].contentStart));
    if (i !== f.length) throw new Error('unexpected TBSCertList field');
    const model: CrlModel = {
      der,
      tbsDer: slice(der, tbsT),
      version,
      innerSignatureAlgorithm: slice(der, innerAlgT),
      signatureAlgorithm: slice(der, algT),
      signature: content(der, sigT).subarray(1),
      signatureUnusedBits: der[sigT.contentStart] ?? 0,
      issuer: parseName(der, issuerT),
      thisUpdate: parseTime(der, thisT),
      ...(nextUpdate && { nextUpdate }),
      hasRevokedField,
      revoked,
      extensions,
      deltaCrl: extensions.some((e) => e.oid === OIDS.deltaCRLIndicator),
    };
    decodeCrlExtensions(model);
    return model;
  } catch (e) {
    if (e instanceof QpkiError && e.code === 'CRL_INVALID') throw e;
    fail('CRL_INVALID', e instanceof Error ? e.message.replace(/\.$/, '') : String(e));
  }
}

export function bytesSame(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Values of one attribute type in a name, in order. */
export function attributeValues(n: NameModel, oid: string): Attribute[] {
  return n.rdns.flat().filter((a) => a.oid === oid);
}

/** The serial as upper-case hex of its content octets. */
export function serialHexOf(serial: Uint8Array): string {
  return Buffer.from(serial).toString('hex').toUpperCase();
}
