/**
 * DER of certificate extensions written directly. asn1-schema's generic serializer walks class
 * metadata for every field and costs about a tenth of a millisecond per certificate — more than
 * the token's signature. These shapes are small and fixed (RFC 5280 §4.1, §4.2.1.2, §4.2.1.6),
 * and the tests compare every byte with asn1-schema's output.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Extension, GeneralName } from '@peculiar/asn1-x509';
import { encodeTlv, oidContent } from './der';

const BOOLEAN_TRUE = Uint8Array.of(0x01, 0x01, 0xff);

const oidDer = new Map<string, Uint8Array>();

/** DER OBJECT IDENTIFIER (tag, length, content), kept per OID: a CA uses a handful. */
export function encodeOid(oid: string): Uint8Array {
  let d = oidDer.get(oid);
  if (!d) {
    d = encodeTlv(0x06, [oidContent(oid)]);
    if (oidDer.size >= 512) oidDer.clear();
    oidDer.set(oid, d);
  }
  return d;
}

/** Encodings of Extension objects a CA reuses across certificates (its profile's constant extensions). */
const extensionDer = new WeakMap<Extension, Uint8Array>();

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }. */
export function encodeExtension(e: Extension): Uint8Array {
  let d = extensionDer.get(e);
  if (!d) {
    const value = encodeTlv(0x04, [new Uint8Array(e.extnValue.buffer)]);
    d = encodeTlv(0x30, e.critical ? [encodeOid(e.extnID), BOOLEAN_TRUE, value] : [encodeOid(e.extnID), value]);
    extensionDer.set(e, d);
  }
  return d;
}

/** Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension. */
export function encodeExtensions(exts: Extension[]): Uint8Array {
  return encodeTlv(0x30, exts.map(encodeExtension));
}

/** An extension whose value is already DER. */
export function extensionOfDer(extnID: string, critical: boolean, valueDer: Uint8Array): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(valueDer) });
}

export type SanName = { dns: string } | { email: string } | { uri: string } | { ip: Uint8Array };

const ASCII = /^[\x00-\x7f]*$/;

/**
 * GeneralName for the SAN kinds a profile can produce, with the CHOICE's implicit context tags:
 * rfc822Name [1], dNSName [2] and uniformResourceIdentifier [6] as IA5String, iPAddress [7]
 * as the address octets. Text outside ASCII (which the profile rules already refuse) goes
 * through asn1-schema, so nothing is ever encoded differently from it.
 */
export function encodeGeneralName(n: SanName): Uint8Array {
  if ('ip' in n) return encodeTlv(0x87, [n.ip]);
  const [tag, text] = 'dns' in n ? [0x82, n.dns] : 'email' in n ? [0x81, n.email] : [0x86, n.uri];
  if (!ASCII.test(text)) {
    const g = 'dns' in n ? { dNSName: text } : 'email' in n ? { rfc822Name: text } : { uniformResourceIdentifier: text };
    return new Uint8Array(AsnConvert.serialize(new GeneralName(g)));
  }
  return encodeTlv(tag, [Buffer.from(text, 'latin1')]);
}

/** SubjectAltName value: GeneralNames ::= SEQUENCE OF GeneralName. */
export function encodeGeneralNames(names: SanName[]): Uint8Array {
  return encodeTlv(0x30, names.map(encodeGeneralName));
}

/** SubjectKeyIdentifier value: KeyIdentifier ::= OCTET STRING. */
export function encodeKeyIdentifier(id: Uint8Array): Uint8Array {
  return encodeTlv(0x04, [id]);
}
