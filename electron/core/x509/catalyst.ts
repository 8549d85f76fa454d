/**
 * Catalyst hybrid certificates and CRLs (ITU-T X.509 (10/2019) §9.8): an alternative public key
 * and an alternative signature carried in three non-critical extensions. The alternative
 * signature covers the "pre-TBS": the TBSCertificate (or TBSCertList) without its `signature`
 * field and without the altSignatureValue extension.
 */
import { OctetString, AsnConvert, AsnProp, AsnPropTypes } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Extension } from '@peculiar/asn1-x509';
import { QpkiError } from '../errors';
import { children, encodeTlv, oidContent, bytesEqual, readTlv, slice, whole, type Tlv } from './der';

export const OID_SUBJECT_ALT_PUBLIC_KEY_INFO = '2.5.29.72';
export const OID_ALT_SIGNATURE_ALGORITHM = '2.5.29.73';
export const OID_ALT_SIGNATURE_VALUE = '2.5.29.74';

/** SubjectAltPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectAltPublicKey BIT STRING } */
export class SubjectAltPublicKeyInfo {
  @AsnProp({ type: AlgorithmIdentifier })
  public algorithm = new AlgorithmIdentifier();

  @AsnProp({ type: AsnPropTypes.BitString })
  public subjectAltPublicKey: ArrayBuffer = new ArrayBuffer(0);
}

/** The extension value is the same SEQUENCE as a SubjectPublicKeyInfo, so an SPKI's DER is reused as is. */
export function subjectAltPublicKeyInfoExtension(spki: Uint8Array): Extension {
  return new Extension({ extnID: OID_SUBJECT_ALT_PUBLIC_KEY_INFO, critical: false, extnValue: new OctetString(new Uint8Array(spki)) });
}

export function altSignatureAlgorithmExtension(alg: AlgorithmIdentifier): Extension {
  return new Extension({ extnID: OID_ALT_SIGNATURE_ALGORITHM, critical: false, extnValue: new OctetString(new Uint8Array(AsnConvert.serialize(alg))) });
}

export function altSignatureValueExtension(signature: Uint8Array): Extension {
  // BIT STRING with no unused bits.
  return new Extension({ extnID: OID_ALT_SIGNATURE_VALUE, critical: false, extnValue: new OctetString(encodeTlv(0x03, [Uint8Array.of(0), signature])) });
}

const EXT_OID_TLV = encodeTlv(0x06, [oidContent(OID_ALT_SIGNATURE_VALUE)]);

/**
 * Pre-TBS from a DER TBSCertificate or TBSCertList: drop the `signature` AlgorithmIdentifier
 * and the altSignatureValue extension, re-encode the lengths around them.
 * `kind` decides where the signature field and the extensions sit.
 */
export function preTbs(tbs: Uint8Array, kind: 'certificate' | 'crl'): Uint8Array {
  const top = whole(tbs);
  const fields = children(tbs, top);
  // TBSCertificate: [0] version, serial, signature, ...; TBSCertList: version (INTEGER, optional), signature, ...
  let sigIndex: number;
  if (kind === 'certificate') sigIndex = fields[0]?.tag === 0xa0 ? 2 : 1;
  else sigIndex = fields[0]?.tag === 0x02 ? 1 : 0;
  if (!fields[sigIndex] || fields[sigIndex].tag !== 0x30) throw new QpkiError('CERT_INVALID', 'The TBS structure has no signature algorithm field.');
  const extTag = kind === 'certificate' ? 0xa3 : 0xa0;
  const parts: Uint8Array[] = [];
  fields.forEach((f, i) => {
    if (i === sigIndex) return;
    if (f.tag === extTag && i > sigIndex) parts.push(withoutAltSignatureValue(tbs, f, extTag));
    else parts.push(slice(tbs, f));
  });
  return encodeTlv(0x30, parts);
}

/**
 * The TBS without its altSignatureValue extension (every other field kept, the `signature` field
 * too), and that extension's signature bytes: what a Catalyst document was before its
 * alternative key signed it.
 */
export function stripAltSignatureValue(tbs: Uint8Array, kind: 'certificate' | 'crl'): { tbs: Uint8Array; altSignature?: Uint8Array } {
  const top = whole(tbs);
  const fields = children(tbs, top);
  const extTag = kind === 'certificate' ? 0xa3 : 0xa0;
  let altSignature: Uint8Array | undefined;
  const parts = fields.map((f, i) => {
    if (f.tag !== extTag || i === 0) return slice(tbs, f);
    const seq = readTlv(tbs, f.contentStart);
    for (const ext of children(tbs, seq)) {
      const inner = children(tbs, ext);
      if (!bytesEqual(slice(tbs, inner[0]), EXT_OID_TLV)) continue;
      const octets = inner[inner.length - 1];
      const bits = readTlv(tbs, octets.contentStart);
      if (bits.tag === 0x03 && tbs[bits.contentStart] === 0) altSignature = tbs.slice(bits.contentStart + 1, bits.end);
    }
    return withoutAltSignatureValue(tbs, f, extTag);
  });
  return { tbs: encodeTlv(0x30, parts), altSignature };
}

function withoutAltSignatureValue(buf: Uint8Array, explicit: Tlv, tag: number): Uint8Array {
  const seq = readTlv(buf, explicit.contentStart);
  const kept = children(buf, seq).filter((ext) => {
    const oid = readTlv(buf, ext.contentStart);
    return !bytesEqual(slice(buf, oid), EXT_OID_TLV);
  });
  return encodeTlv(tag, [encodeTlv(0x30, kept.map((e) => slice(buf, e)))]);
}

/** The Catalyst parts found in a parsed extension list, if any. */
export function catalystParts(extensions: Extension[] | undefined): {
  altSpki?: Uint8Array;
  altAlgorithm?: Uint8Array;
  altSignature?: Uint8Array;
} {
  const get = (oid: string) => extensions?.find((e) => e.extnID === oid)?.extnValue.buffer;
  const spki = get(OID_SUBJECT_ALT_PUBLIC_KEY_INFO);
  const alg = get(OID_ALT_SIGNATURE_ALGORITHM);
  const val = get(OID_ALT_SIGNATURE_VALUE);
  let altSignature: Uint8Array | undefined;
  if (val) {
    const v = new Uint8Array(val);
    const t = whole(v);
    if (t.tag !== 0x03 || v[t.contentStart] !== 0) throw new QpkiError('CERT_INVALID', 'altSignatureValue is not a BIT STRING.');
    altSignature = v.subarray(t.contentStart + 1, t.end);
  }
  return { altSpki: spki ? new Uint8Array(spki) : undefined, altAlgorithm: alg ? new Uint8Array(alg) : undefined, altSignature };
}
