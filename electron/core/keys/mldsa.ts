/**
 * ML-DSA (FIPS 204) keys in software, encoded as RFC 9881 defines them:
 *   SPKI: algorithm id-ml-dsa-{44,65,87}, parameters absent, BIT STRING = raw public key.
 *   PKCS#8: same algorithm identifier, privateKey OCTET STRING holding
 *     ML-DSA-PrivateKey ::= CHOICE {
 *       seed        [0] OCTET STRING (SIZE (32)),          -- IMPLICIT: tag 0x80
 *       expandedKey     OCTET STRING,
 *       both            SEQUENCE { seed OCTET STRING, expandedKey OCTET STRING } }
 * We write the seed form: it is the smallest and every reader can expand it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { QpkiError } from '../errors';
import { OID, bytesEqual, encodeSpkiNoParams, toArrayBuffer } from './spki';

export type MlDsaAlgorithm = 'ml-dsa-44' | 'ml-dsa-65' | 'ml-dsa-87';
export type MlDsaPrivateKeyForm = 'seed' | 'expanded' | 'both';

const SEED_LENGTH = 32;

const PARAMS = {
  'ml-dsa-44': { oid: OID.mlDsa44, name: 'ml_dsa44' },
  'ml-dsa-65': { oid: OID.mlDsa65, name: 'ml_dsa65' },
  'ml-dsa-87': { oid: OID.mlDsa87, name: 'ml_dsa87' },
} as const;

type Noble = typeof import('@noble/post-quantum/ml-dsa.js');
let noble: Noble | undefined;

/**
 * noble's ML-DSA, loaded on first use: a classical ceremony (and every command-line start)
 * need not pay for it.
 */
function impl(alg: MlDsaAlgorithm): Noble['ml_dsa44'] {
  noble ??= require('@noble/post-quantum/ml-dsa.js') as Noble;
  return noble[PARAMS[alg].name];
}

export function isMlDsa(alg: string): alg is MlDsaAlgorithm {
  return Object.prototype.hasOwnProperty.call(PARAMS, alg);
}

export function mlDsaOid(alg: MlDsaAlgorithm): string {
  return PARAMS[alg].oid;
}

export function mlDsaAlgorithmOfOid(oid: string): MlDsaAlgorithm | undefined {
  return (Object.keys(PARAMS) as MlDsaAlgorithm[]).find((a) => PARAMS[a].oid === oid);
}

export function mlDsaLengths(alg: MlDsaAlgorithm): { publicKey: number; secretKey: number; signature: number } {
  const l = impl(alg).lengths;
  return { publicKey: l.publicKey!, secretKey: l.secretKey!, signature: l.signature! };
}

export interface MlDsaKeyPair {
  algorithm: MlDsaAlgorithm;
  /** The 32-byte ξ of FIPS 204 KeyGen; absent when the key was loaded in expanded form only. */
  seed?: Uint8Array;
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

/** Key generation from a seed (FIPS 204 ML-DSA.KeyGen_internal); a fresh random seed when none is given. */
export function mlDsaKeygen(alg: MlDsaAlgorithm, seed: Uint8Array = randomBytes(SEED_LENGTH)): MlDsaKeyPair {
  if (seed.length !== SEED_LENGTH) throw new QpkiError('KEY_INVALID', `An ${alg.toUpperCase()} seed must be 32 bytes.`);
  const { secretKey, publicKey } = impl(alg).keygen(Uint8Array.from(seed));
  return { algorithm: alg, seed: Uint8Array.from(seed), secretKey, publicKey };
}

/** Pure ML-DSA with an empty context, hedged (fresh randomness per signature), as X.509 uses it. */
export function mlDsaSign(alg: MlDsaAlgorithm, secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return impl(alg).sign(message, secretKey);
}

/** False for any signature that does not verify, including one of the wrong length. */
export function mlDsaVerify(alg: MlDsaAlgorithm, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const l = mlDsaLengths(alg);
  if (publicKey.length !== l.publicKey || signature.length !== l.signature) return false;
  try {
    return impl(alg).verify(signature, message, publicKey);
  } catch {
    return false;
  }
}

export function encodeMlDsaSpki(alg: MlDsaAlgorithm, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== mlDsaLengths(alg).publicKey) {
    throw new QpkiError('KEY_INVALID', `An ${alg.toUpperCase()} public key must be ${mlDsaLengths(alg).publicKey} bytes.`);
  }
  return encodeSpkiNoParams(PARAMS[alg].oid, publicKey);
}

/** RFC 9881 PKCS#8 (PrivateKeyInfo v1, parameters absent). */
export function encodeMlDsaPkcs8(key: MlDsaKeyPair, form: MlDsaPrivateKeyForm = 'seed'): Uint8Array {
  if (form !== 'expanded' && !key.seed) throw new QpkiError('INTERNAL', 'This ML-DSA key has no seed to encode.');
  let inner: Uint8Array;
  if (form === 'seed') inner = tlv(0x80, key.seed!);
  else if (form === 'expanded') inner = tlv(0x04, key.secretKey);
  else inner = tlv(0x30, concat(tlv(0x04, key.seed!), tlv(0x04, key.secretKey)));
  // asn1-pkcs8 when a key is written: verify.ts loads this module for every signature check.
  const { PrivateKeyInfo } = require('@peculiar/asn1-pkcs8') as typeof import('@peculiar/asn1-pkcs8');
  const pki = new PrivateKeyInfo({
    privateKeyAlgorithm: new AlgorithmIdentifier({ algorithm: PARAMS[key.algorithm].oid }),
  });
  pki.privateKey.buffer = toArrayBuffer(inner);
  return new Uint8Array(AsnConvert.serialize(pki));
}

/**
 * Read the privateKey OCTET STRING contents of an ML-DSA PKCS#8 in any of the three forms.
 * For `both`, the seed must regenerate the same expanded key, or the file is refused:
 * a mismatch means corruption or tampering, and signing with either half would be a guess.
 */
export function decodeMlDsaPrivateKey(alg: MlDsaAlgorithm, octets: Uint8Array): MlDsaKeyPair {
  const bad = (why: string) => new QpkiError('KEY_INVALID', `The ${alg.toUpperCase()} private key is malformed: ${why}.`);
  const expandedLength = mlDsaLengths(alg).secretKey;
  const outer = readTlv(octets, 0);
  if (!outer || outer.end !== octets.length) throw bad('not a single DER value');
  if (outer.tag === 0x80) {
    if (outer.value.length !== SEED_LENGTH) throw bad('the seed is not 32 bytes');
    return mlDsaKeygen(alg, outer.value);
  }
  if (outer.tag === 0x04) {
    if (outer.value.length !== expandedLength) throw bad(`the expanded key is not ${expandedLength} bytes`);
    return expandedKeyPair(alg, outer.value, bad);
  }
  if (outer.tag === 0x30) {
    const seed = readTlv(outer.value, 0);
    const expanded = seed && readTlv(outer.value, seed.end);
    if (!seed || !expanded || seed.tag !== 0x04 || expanded.tag !== 0x04 || expanded.end !== outer.value.length) {
      throw bad('the seed-and-expanded-key sequence is not two OCTET STRINGs');
    }
    if (seed.value.length !== SEED_LENGTH) throw bad('the seed is not 32 bytes');
    if (expanded.value.length !== expandedLength) throw bad(`the expanded key is not ${expandedLength} bytes`);
    const fromSeed = mlDsaKeygen(alg, seed.value);
    if (!bytesEqual(fromSeed.secretKey, expanded.value)) throw bad('the seed does not generate the expanded key stored with it');
    return fromSeed;
  }
  throw bad('unknown private key form');
}

function expandedKeyPair(alg: MlDsaAlgorithm, secretKey: Uint8Array, bad: (why: string) => QpkiError): MlDsaKeyPair {
  let publicKey: Uint8Array;
  try {
    publicKey = impl(alg).getPublicKey(secretKey);
  } catch {
    throw bad('the expanded key does not decode');
  }
  // sk = ρ ‖ K ‖ tr ‖ …, with tr = H(pk, 64): a cheap proof that the halves belong together.
  if (!bytesEqual(secretKey.subarray(64, 128), createHash('shake256', { outputLength: 64 }).update(publicKey).digest())) {
    throw bad('the expanded key is inconsistent (tr does not match its public key)');
  }
  return { algorithm: alg, secretKey: Uint8Array.from(secretKey), publicKey };
}

// A few lines of DER instead of a schema: the CHOICE has three fixed shapes and we want exact lengths.
function tlv(tag: number, value: Uint8Array): Uint8Array {
  const n = value.length;
  let len: number[];
  if (n < 0x80) len = [n];
  else if (n < 0x100) len = [0x81, n];
  else if (n < 0x10000) len = [0x82, n >> 8, n & 0xff];
  else throw new Error('DER value too long');
  return concat(Uint8Array.from([tag, ...len]), value);
}

function readTlv(buf: Uint8Array, at: number): { tag: number; value: Uint8Array; end: number } | undefined {
  if (at + 2 > buf.length) return undefined;
  const tag = buf[at];
  let len = buf[at + 1];
  let p = at + 2;
  if (len & 0x80) {
    const count = len & 0x7f;
    if (count === 0 || count > 2 || p + count > buf.length) return undefined;
    len = 0;
    for (let i = 0; i < count; i++) len = (len << 8) | buf[p + i];
    // DER: the shortest length form only.
    if (len < 0x80 || (count === 2 && len < 0x100)) return undefined;
    p += count;
  }
  if (p + len > buf.length) return undefined;
  return { tag, value: buf.subarray(p, p + len), end: p + len };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
