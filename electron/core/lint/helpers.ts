/** Small readers shared by the lints. */
import { createPublicKey } from 'node:crypto';
import { mlDsaAlgorithmOfOid } from '../keys/mldsa';
import { children, whole } from '../x509/der';
import { OIDS, attributeValues, decodeOid, type CertificateModel, type ExtensionModel, type GeneralName, type NameModel } from '../x509/model';
import type { KeyFacts } from './types';

export const ALL_CERTS = ['root', 'subordinate-ca', 'tls-subscriber', 'other-subscriber'] as const;
export const CAS = ['root', 'subordinate-ca'] as const;
export const SUBSCRIBERS = ['tls-subscriber', 'other-subscriber'] as const;

export const CURVES = { p256: '1.2.840.10045.3.1.7', p384: '1.3.132.0.34', p521: '1.3.132.0.35' } as const;

export function ext(c: { extensions: ExtensionModel[] }, oid: string): ExtensionModel | undefined {
  return c.extensions.find((e) => e.oid === oid);
}

export function isCa(c: CertificateModel): boolean {
  return c.basicConstraints?.ca === true;
}

export function attr(n: NameModel, oid: string): string[] {
  return attributeValues(n, oid).map((a) => a.value);
}

/** The key a certificate holds, read with node:crypto where it decodes (sizes the engine does not sign with included). */
export function keyFacts(c: CertificateModel): KeyFacts {
  const mlDsa = mlDsaAlgorithmOfOid(c.spkiAlgorithm);
  if (mlDsa) return { family: 'ml-dsa', mlDsa };
  if (c.spkiAlgorithm === OIDS.ed25519) return { family: 'ed25519' };
  if (c.spkiAlgorithm === OIDS.ecPublicKey) {
    let curve: string | undefined;
    try {
      const p = c.spkiParameters && whole(c.spkiParameters);
      if (p && p.tag === 0x06) curve = decodeOid(c.spkiParameters!.subarray(p.contentStart, p.end));
    } catch {
      curve = undefined;
    }
    return { family: 'ec', ...(curve && { curve }) };
  }
  if (c.spkiAlgorithm === OIDS.rsaEncryption || c.spkiAlgorithm === OIDS.rsassaPss) {
    const facts: KeyFacts = { family: 'rsa' };
    try {
      const d = createPublicKey({ key: Buffer.from(c.spki), format: 'der', type: 'spki' }).asymmetricKeyDetails;
      if (d?.modulusLength) facts.rsaBits = d.modulusLength;
      if (d?.publicExponent !== undefined) facts.rsaExponent = d.publicExponent;
    } catch {
      // A key node cannot read keeps only its family; the key lints say so.
    }
    return facts;
  }
  return { family: 'unknown' };
}

/** The algorithm OID of a DER AlgorithmIdentifier and whether it has parameters (and if they are NULL). */
export function algorithmOf(der: Uint8Array): { oid: string; params: 'absent' | 'null' | 'other' } | undefined {
  try {
    const t = whole(der);
    const [o, p] = children(der, t);
    if (o?.tag !== 0x06) return undefined;
    const oid = decodeOid(der.subarray(o.contentStart, o.end));
    return { oid, params: !p ? 'absent' : p.tag === 0x05 && p.end === p.contentStart ? 'null' : 'other' };
  } catch {
    return undefined;
  }
}

export const RSA_PKCS1_SIGNATURES = new Set(['1.2.840.113549.1.1.11', '1.2.840.113549.1.1.12', '1.2.840.113549.1.1.13']);
export const ECDSA_SIGNATURES = new Set(['1.2.840.10045.4.3.2', '1.2.840.10045.4.3.3', '1.2.840.10045.4.3.4']);

/** A DNS name in preferred name syntax (RFC 1034 §3.5 as RFC 5280 §4.2.1.6 asks), a leftmost "*" label allowed. */
export function dnsNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > 253) return 'is longer than 253 characters';
  if (name.endsWith('.')) return 'ends with a dot';
  const labels = name.split('.');
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === '') return 'has an empty label';
    if (l.length > 63) return `has a label longer than 63 characters`;
    if (i === 0 && l === '*') continue;
    if (!/^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?$/.test(l)) return `has a label "${l}" that is not letters, digits and hyphens`;
  }
  return undefined;
}

export function ipText(b: Uint8Array): string {
  if (b.length === 4) return [...b].join('.');
  if (b.length === 16) {
    const parts: string[] = [];
    for (let i = 0; i < 16; i += 2) parts.push(((b[i] << 8) | b[i + 1]).toString(16));
    return parts.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
  }
  return Buffer.from(b).toString('hex');
}

export function generalNameText(g: GeneralName): string {
  switch (g.type) {
    case 'dNSName':
    case 'rfc822Name':
    case 'uniformResourceIdentifier':
      return `${g.type}:${g.value}`;
    case 'iPAddress':
      return `iPAddress:${ipText(g.bytes)}`;
    case 'registeredID':
    case 'otherName':
      return `${g.type}:${g.oid}`;
    default:
      return g.type;
  }
}

/** CA/Browser Forum reserved certificate policy identifiers (BR 7.1.6.1). */
export const BR_RESERVED_POLICIES: Record<string, string> = {
  '2.23.140.1.2.1': 'domain validated',
  '2.23.140.1.2.2': 'organization validated',
  '2.23.140.1.2.3': 'individual validated',
  '2.23.140.1.1': 'extended validation',
};

/** Seconds between notBefore and notAfter, inclusive of both (RFC 5280 §4.1.2.5, BR 6.3.2). */
export function validitySeconds(c: CertificateModel): number {
  return (c.notAfter.date.getTime() - c.notBefore.date.getTime()) / 1000 + 1;
}

export const DAY = 86_400;

/** ISO 3166-1 alpha-2 country codes (officially assigned), for the BR's countryName rules. */
export const ISO_3166_ALPHA2: ReadonlySet<string> = new Set(
  ('AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ ' +
    'DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT ' +
    'JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG ' +
    'NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ ' +
    'TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW').split(' '),
);
