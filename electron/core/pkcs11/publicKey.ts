import { createHash } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { QpkiError } from '../errors';
import { subjectKeyIdentifier } from '../keys/spki';
import type { KeyAlgorithm } from '../keys/algorithms';
import { EC_PARAMS } from './constants';

const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const OID_RSA = '1.2.840.113549.1.1.1';
const OID_ED25519 = '1.3.101.112';
const ML_DSA_OIDS: Record<string, string> = {
  'ml-dsa-44': '2.16.840.1.101.3.4.3.17',
  'ml-dsa-65': '2.16.840.1.101.3.4.3.18',
  'ml-dsa-87': '2.16.840.1.101.3.4.3.19',
};

export function ecCurveFromParams(params: Buffer): KeyAlgorithm {
  for (const [k, v] of Object.entries(EC_PARAMS)) if (v.equals(params)) return k as KeyAlgorithm;
  // Some tokens give Ed25519 parameters as the PrintableString "edwards25519".
  if (params.toString('latin1').includes('edwards25519')) return 'ed25519';
  throw new QpkiError('KEY_INVALID', `Unsupported EC parameters on the token key: ${params.toString('hex')}.`);
}

/** CKA_EC_POINT is a DER OCTET STRING around the point; a few tokens give the raw point. */
export function unwrapEcPoint(v: Buffer, expectedLengths: number[]): Buffer {
  if (expectedLengths.includes(v.length) && !(v[0] === 0x04 && expectedLengths.includes(v.length - 2))) return v;
  try {
    const inner = Buffer.from(AsnConvert.parse(v, OctetString).buffer);
    if (expectedLengths.includes(inner.length)) return inner;
  } catch {
    /* fall through to the error below */
  }
  if (expectedLengths.includes(v.length)) return v;
  throw new QpkiError('KEY_INVALID', `Unexpected CKA_EC_POINT encoding (${v.length} bytes).`);
}

const POINT_LENGTHS: Record<string, number[]> = { 'ec-p256': [65], 'ec-p384': [97], 'ec-p521': [133], ed25519: [32] };

export function ecSpki(alg: KeyAlgorithm, ecPoint: Buffer): Uint8Array {
  // The namedCurve ECParameters are the CKA_EC_PARAMS bytes themselves (DER, one encoding each).
  const params = alg === 'ed25519' ? undefined : (EC_PARAMS as Record<string, Buffer>)[alg];
  if (alg !== 'ed25519' && !params) throw new QpkiError('INTERNAL', `${alg} is not an EC key algorithm.`);
  const point = unwrapEcPoint(ecPoint, POINT_LENGTHS[alg] ?? []);
  const spki =
    alg === 'ed25519'
      ? new SubjectPublicKeyInfo({ algorithm: new AlgorithmIdentifier({ algorithm: OID_ED25519 }), subjectPublicKey: new Uint8Array(point).buffer })
      : new SubjectPublicKeyInfo({
          algorithm: new AlgorithmIdentifier({ algorithm: OID_EC_PUBLIC_KEY, parameters: new Uint8Array(params!).buffer }),
          subjectPublicKey: new Uint8Array(point).buffer,
        });
  return new Uint8Array(AsnConvert.serialize(spki));
}

export function rsaSpki(modulus: Buffer, exponent: Buffer): Uint8Array {
  // Required here: @peculiar/asn1-rsa serializes its default parameters when it loads, a cost
  // every token command would pay for RSA keys only.
  const { RSAPublicKey } = require('@peculiar/asn1-rsa') as typeof import('@peculiar/asn1-rsa');
  // INTEGERs are signed: keep a leading zero when the top bit is set.
  const m = modulus[0] & 0x80 ? Buffer.concat([Buffer.from([0]), modulus]) : modulus;
  const pub = new RSAPublicKey({ modulus: new Uint8Array(m).buffer, publicExponent: new Uint8Array(exponent).buffer });
  const spki = new SubjectPublicKeyInfo({
    algorithm: new AlgorithmIdentifier({ algorithm: OID_RSA, parameters: null }),
    subjectPublicKey: AsnConvert.serialize(pub),
  });
  return new Uint8Array(AsnConvert.serialize(spki));
}

export function mlDsaSpki(alg: KeyAlgorithm, raw: Buffer): Uint8Array {
  const spki = new SubjectPublicKeyInfo({ algorithm: new AlgorithmIdentifier({ algorithm: ML_DSA_OIDS[alg] }), subjectPublicKey: new Uint8Array(raw).buffer });
  return new Uint8Array(AsnConvert.serialize(spki));
}

export function rsaKeyAlgorithm(bits: number): KeyAlgorithm {
  if (bits === 2048 || bits === 3072 || bits === 4096) return `rsa-${bits}` as KeyAlgorithm;
  throw new QpkiError('KEY_INVALID', `RSA keys of ${bits} bits are not supported (use 2048, 3072 or 4096).`);
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** CKA_ID derived from the public key: the same value as the certificate's SKI. */
export function keyIdFromSpki(spki: Uint8Array): Buffer {
  return Buffer.from(subjectKeyIdentifier(spki));
}
