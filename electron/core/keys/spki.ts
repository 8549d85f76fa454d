import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { QpkiError } from '../errors';

/** Object identifiers of the key and signature algorithms the engine knows. */
export const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  secp256r1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  secp521r1: '1.3.132.0.35',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  sha384WithRSAEncryption: '1.2.840.113549.1.1.12',
  sha512WithRSAEncryption: '1.2.840.113549.1.1.13',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  ed25519: '1.3.101.112',
  mlDsa44: '2.16.840.1.101.3.4.3.17',
  mlDsa65: '2.16.840.1.101.3.4.3.18',
  mlDsa87: '2.16.840.1.101.3.4.3.19',
} as const;

export interface ParsedSpki {
  algorithm: string;
  /** DER of the parameters; `undefined` when absent, `null` when NULL. */
  parameters: ArrayBuffer | null | undefined;
  publicKey: Uint8Array;
}

/** Parse a DER SubjectPublicKeyInfo; anything that is not exactly one SPKI is KEY_INVALID. */
export function parseSpki(der: Uint8Array): ParsedSpki {
  let spki: SubjectPublicKeyInfo;
  try {
    spki = AsnConvert.parse(der, SubjectPublicKeyInfo);
    // The parser ignores trailing bytes; re-encoding must give back exactly the input.
    if (!bytesEqual(new Uint8Array(AsnConvert.serialize(spki)), der)) throw new Error('trailing data');
  } catch {
    throw new QpkiError('KEY_INVALID', 'The public key is not a valid DER SubjectPublicKeyInfo.');
  }
  return {
    algorithm: spki.algorithm.algorithm,
    parameters: spki.algorithm.parameters,
    publicKey: new Uint8Array(spki.subjectPublicKey),
  };
}

/** SPKI for a key whose algorithm takes no parameters (Ed25519, ML-DSA): the raw key in the BIT STRING. */
export function encodeSpkiNoParams(algorithmOid: string, publicKey: Uint8Array): Uint8Array {
  const spki = new SubjectPublicKeyInfo();
  spki.algorithm.algorithm = algorithmOid;
  spki.subjectPublicKey = toArrayBuffer(publicKey);
  return new Uint8Array(AsnConvert.serialize(spki));
}

export function toArrayBuffer(u: Uint8Array): ArrayBuffer {
  return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

const keyIds = new Map<string, Uint8Array>();

/**
 * The key identifier of a public key: SHA-1 of the subjectPublicKey BIT STRING contents
 * (RFC 5280 section 4.2.1.2, method 1). Used for the SKI, the AKI and a token key's CKA_ID.
 * An issuer's identifier is needed for every certificate it signs, so results are kept.
 */
export function subjectKeyIdentifier(spki: Uint8Array): Uint8Array {
  const id = Buffer.from(spki).toString('base64');
  const hit = keyIds.get(id);
  if (hit) return hit;
  const ski = new Uint8Array(createHash('sha1').update(parseSpki(spki).publicKey).digest());
  if (keyIds.size >= 64) keyIds.delete(keyIds.keys().next().value!);
  keyIds.set(id, ski);
  return ski;
}
