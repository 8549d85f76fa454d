/**
 * Public-key side of every algorithm: which key an SPKI holds, how a signature algorithm is
 * named in X.509 (AlgorithmIdentifier DER, both ways), and signature verification.
 * Classical algorithms go through node:crypto, ML-DSA through noble.
 */
import { constants, createPublicKey, verify as nodeVerify, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import type { RsaSaPssParams } from '@peculiar/asn1-rsa';
import { QpkiError } from '../errors';
import { signatureFitsKey, type KeyAlgorithm, type SignatureAlgorithm } from './algorithms';
import { isMlDsa, mlDsaAlgorithmOfOid, mlDsaLengths, mlDsaOid, mlDsaVerify } from './mldsa';
import { OID, bytesEqual, parseSpki } from './spki';
import { encodeTlv, oidContent } from '../x509/der';
import { verifyOnWorker, workerUsable, type VerifyJob } from './verifyWorker';

type Hash = 'sha256' | 'sha384' | 'sha512';

/** @peculiar/asn1-rsa serializes its default parameters when it loads: loaded only when RSA-PSS is met. */
let asn1Rsa: typeof import('@peculiar/asn1-rsa') | undefined;
const rsaSchemas = () => (asn1Rsa ??= require('@peculiar/asn1-rsa') as typeof import('@peculiar/asn1-rsa'));

const HASH_OID: Record<Hash, string> = { sha256: OID.sha256, sha384: OID.sha384, sha512: OID.sha512 };
const HASH_LENGTH: Record<Hash, number> = { sha256: 32, sha384: 48, sha512: 64 };

const CURVES: Record<string, KeyAlgorithm> = {
  [OID.secp256r1]: 'ec-p256',
  [OID.secp384r1]: 'ec-p384',
  [OID.secp521r1]: 'ec-p521',
};

/** The hash a classical signature algorithm applies to the message (none for Ed25519 and ML-DSA). */
export function signatureHash(alg: SignatureAlgorithm): Hash | null {
  const m = /-(sha256|sha384|sha512)$/.exec(alg);
  return m ? (m[1] as Hash) : null;
}

/** RSA-PSS here always uses a salt as long as the hash, the choice RFC 4055 and CA/B rules expect. */
export function rsaPssSaltLength(alg: SignatureAlgorithm): number {
  return HASH_LENGTH[signatureHash(alg)!];
}

/**
 * Keys already checked, by their DER: issuing many certificates for one key, or checking a key
 * the CSR step already checked, need not decode and validate the point again.
 */
const checkedKeys = new Map<string, KeyAlgorithm>();

/** Key algorithm of a DER SubjectPublicKeyInfo; KEY_INVALID for anything the engine does not support. */
export function keyAlgorithmOfSpki(spki: Uint8Array): KeyAlgorithm {
  const id = Buffer.from(spki).toString('base64');
  const hit = checkedKeys.get(id);
  if (hit) return hit;
  const alg = checkSpki(spki);
  if (checkedKeys.size >= 64) checkedKeys.delete(checkedKeys.keys().next().value!);
  checkedKeys.set(id, alg);
  return alg;
}

function checkSpki(spki: Uint8Array): KeyAlgorithm {
  const p = parseSpki(spki);
  const mldsa = mlDsaAlgorithmOfOid(p.algorithm);
  if (mldsa) {
    if (p.parameters !== undefined) throw new QpkiError('KEY_INVALID', `An ${mldsa.toUpperCase()} public key must have no algorithm parameters.`);
    if (p.publicKey.length !== mlDsaLengths(mldsa).publicKey) {
      throw new QpkiError('KEY_INVALID', `An ${mldsa.toUpperCase()} public key must be ${mlDsaLengths(mldsa).publicKey} bytes.`);
    }
    return mldsa;
  }
  switch (p.algorithm) {
    case OID.ecPublicKey: {
      const curve = p.parameters ? curveOid(p.parameters) : undefined;
      const alg = curve ? CURVES[curve] : undefined;
      if (!alg) throw new QpkiError('KEY_INVALID', 'The EC public key is not on a supported curve (P-256, P-384 or P-521).');
      nodePublicKey(spki); // rejects a point that is not on the curve
      return alg;
    }
    case OID.rsaEncryption:
    case OID.rsassaPss: {
      const bits = nodePublicKey(spki).asymmetricKeyDetails?.modulusLength;
      if (bits === 2048 || bits === 3072 || bits === 4096) return `rsa-${bits}`;
      throw new QpkiError('KEY_INVALID', `RSA keys must be 2048, 3072 or 4096 bits; this one is ${bits ?? 'of unknown size'}.`);
    }
    case OID.ed25519:
      if (p.parameters !== undefined || p.publicKey.length !== 32) throw new QpkiError('KEY_INVALID', 'The Ed25519 public key is malformed.');
      nodePublicKey(spki);
      return 'ed25519';
    default:
      throw new QpkiError('KEY_INVALID', `Unsupported public key algorithm ${p.algorithm}.`);
  }
}

/**
 * The supported curves' ECParameters as DER: a namedCurve, which is an OBJECT IDENTIFIER and has
 * that one encoding. Compared byte for byte rather than parsed with @peculiar/asn1-ecc, whose
 * schemas for explicit curves (never accepted here) took about 2 ms of every command to load.
 */
const CURVE_PARAMS: [Uint8Array, string][] = Object.keys(CURVES).map((oid) => [encodeTlv(0x06, [oidContent(oid)]), oid]);

function curveOid(params: ArrayBuffer | null): string | undefined {
  if (!params) return undefined;
  // namedCurve only; explicit curve parameters (and anything else) are refused.
  const p = new Uint8Array(params);
  return CURVE_PARAMS.find(([der]) => bytesEqual(der, p))?.[1];
}

/**
 * Public keys decoded, by their SPKI bytes: a CA verifies every signature it makes with its own
 * key, and decoding that key again for each was a tenth of an issuance. A KeyObject never changes.
 */
const nodeKeys = new Map<string, KeyObject>();

function nodePublicKey(spki: Uint8Array): KeyObject {
  const id = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength).toString('base64');
  const hit = nodeKeys.get(id);
  if (hit) return hit;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch {
    throw new QpkiError('KEY_INVALID', 'The public key does not decode (corrupt SubjectPublicKeyInfo).');
  }
  if (nodeKeys.size >= 64) nodeKeys.delete(nodeKeys.keys().next().value!);
  nodeKeys.set(id, key);
  return key;
}

/**
 * Whether `signature` is a valid `alg` signature of `data` under the key in `spki`.
 * A wrong, malformed or mismatched signature gives false; only an unsupported key throws.
 */
export function verifySignature(spki: Uint8Array, alg: SignatureAlgorithm, data: Uint8Array, signature: Uint8Array): boolean {
  const keyAlg = keyAlgorithmOfSpki(spki);
  if (!signatureFitsKey(alg, keyAlg)) return false;
  if (isMlDsa(alg)) return mlDsaVerify(alg, parseSpki(spki).publicKey, data, signature);
  const key = nodePublicKey(spki);
  try {
    const [hash, options] = nodeVerifyOptions(key, alg);
    return nodeVerify(hash, data, options, signature);
  } catch {
    return false;
  }
}

/**
 * The same verdict as `verifySignature`, computed on another thread for the algorithms
 * node:crypto verifies (ML-DSA, verified by noble in JavaScript, stays on this thread): a batch
 * of issuances verifies its signatures on the other core while this one signs the next. The
 * thread is verifyWorker.ts's, or libuv's pool where no worker thread can start. A verifying
 * thread that stops rejects (INTERNAL): a verdict is never assumed.
 */
export function verifySignatureAsync(spki: Uint8Array, alg: SignatureAlgorithm, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const keyAlg = keyAlgorithmOfSpki(spki);
  if (!signatureFitsKey(alg, keyAlg)) return Promise.resolve(false);
  if (isMlDsa(alg)) return Promise.resolve(mlDsaVerify(alg, parseSpki(spki).publicKey, data, signature));
  // Decoded here first: a key node:crypto refuses is refused here, as by the synchronous path.
  const key = nodePublicKey(spki);
  if (workerUsable()) {
    // The same digest and options as the synchronous path; the worker decodes the same SPKI into its own KeyObject.
    const [hash, params] = verifyParams(alg);
    return verifyOnWorker({ spki, hash, options: params ?? {}, data, signature });
  }
  return new Promise((resolve) => {
    try {
      const [hash, options] = nodeVerifyOptions(key, alg);
      nodeVerify(hash, data, options, signature, (err, ok) => resolve(!err && ok));
    } catch {
      resolve(false);
    }
  });
}

/** node:crypto's digest name and the key with the padding or encoding an `alg` signature has. */
function nodeVerifyOptions(key: KeyObject, alg: SignatureAlgorithm): [Hash | null, KeyObject | VerifyKeyObjectInput] {
  const [hash, params] = verifyParams(alg);
  return [hash, params ? { key, ...params } : key];
}

/** The digest and what node:crypto's verify takes beside the key (nothing for Ed25519). */
function verifyParams(alg: SignatureAlgorithm): [Hash | null, VerifyJob['options'] | undefined] {
  if (alg === 'ed25519') return [null, undefined];
  const hash = signatureHash(alg)!;
  if (alg.startsWith('rsa-pss-')) return [hash, { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_LENGTH[hash] }];
  if (alg.startsWith('rsa-pkcs1-')) return [hash, { padding: constants.RSA_PKCS1_PADDING }];
  return [hash, { dsaEncoding: 'der' }];
}

const ECDSA_OID: Record<Hash, string> = { sha256: OID.ecdsaWithSha256, sha384: OID.ecdsaWithSha384, sha512: OID.ecdsaWithSha512 };
const RSA_PKCS1_OID: Record<Hash, string> = {
  sha256: OID.sha256WithRSAEncryption,
  sha384: OID.sha384WithRSAEncryption,
  sha512: OID.sha512WithRSAEncryption,
};

function hashIdentifier(hash: Hash): AlgorithmIdentifier {
  // NULL parameters, as OpenSSL, Go and Windows write them inside RSASSA-PSS-params.
  return new AlgorithmIdentifier({ algorithm: HASH_OID[hash], parameters: null });
}

function pssParams(hash: Hash): RsaSaPssParams {
  return new (rsaSchemas().RsaSaPssParams)({
    hashAlgorithm: hashIdentifier(hash),
    maskGenAlgorithm: new AlgorithmIdentifier({ algorithm: OID.mgf1, parameters: AsnConvert.serialize(hashIdentifier(hash)) }),
    saltLength: HASH_LENGTH[hash],
  });
}

/** DER AlgorithmIdentifier naming `alg` in a certificate, CSR or CRL signature. */
const algorithmIdentifierDer = new Map<SignatureAlgorithm, Uint8Array>();

/** DER AlgorithmIdentifier of a signature algorithm, encoded once per algorithm (callers only read it). */
export function signatureAlgorithmIdentifier(alg: SignatureAlgorithm): Uint8Array {
  let der = algorithmIdentifierDer.get(alg);
  if (!der) {
    der = new Uint8Array(AsnConvert.serialize(signatureAlgorithmIdentifierObject(alg)));
    algorithmIdentifierDer.set(alg, der);
  }
  return der;
}

/** The same as an asn1-x509 object, for builders that assemble TBS structures. */
export function signatureAlgorithmIdentifierObject(alg: SignatureAlgorithm): AlgorithmIdentifier {
  if (isMlDsa(alg)) return new AlgorithmIdentifier({ algorithm: mlDsaOid(alg) });
  if (alg === 'ed25519') return new AlgorithmIdentifier({ algorithm: OID.ed25519 });
  const hash = signatureHash(alg)!;
  if (alg.startsWith('ecdsa-')) return new AlgorithmIdentifier({ algorithm: ECDSA_OID[hash] });
  if (alg.startsWith('rsa-pkcs1-')) return new AlgorithmIdentifier({ algorithm: RSA_PKCS1_OID[hash], parameters: null });
  return new AlgorithmIdentifier({ algorithm: OID.rsassaPss, parameters: AsnConvert.serialize(pssParams(hash)) });
}

/**
 * The signature algorithm a DER AlgorithmIdentifier names. Parameters must be what the
 * algorithm's specification requires (absent for ECDSA, Ed25519 and ML-DSA; NULL for RSA
 * PKCS#1 v1.5, where absent is tolerated as many encoders write it; for RSA-PSS a salt
 * as long as the hash and MGF1 with the same hash), else CERT_INVALID.
 */
export function signatureAlgorithmFromIdentifier(der: Uint8Array): SignatureAlgorithm {
  let id: AlgorithmIdentifier;
  try {
    id = AsnConvert.parse(der, AlgorithmIdentifier);
    if (!bytesEqual(new Uint8Array(AsnConvert.serialize(id)), der)) throw new Error('not DER');
  } catch {
    throw new QpkiError('CERT_INVALID', 'The signature algorithm identifier is not valid DER.');
  }
  return signatureAlgorithmFromObject(id);
}

export function signatureAlgorithmFromObject(id: AlgorithmIdentifier): SignatureAlgorithm {
  const oid = id.algorithm;
  const params = id.parameters;
  const wrong = (what: string) => new QpkiError('CERT_INVALID', `The ${what} signature algorithm identifier has wrong parameters.`);
  const mldsa = mlDsaAlgorithmOfOid(oid);
  if (mldsa) {
    if (params !== undefined) throw wrong(mldsa.toUpperCase());
    return mldsa;
  }
  if (oid === OID.ed25519) {
    if (params !== undefined) throw wrong('Ed25519');
    return 'ed25519';
  }
  for (const h of Object.keys(HASH_OID) as Hash[]) {
    if (oid === ECDSA_OID[h]) {
      if (params !== undefined) throw wrong('ECDSA');
      return `ecdsa-${h}`;
    }
    if (oid === RSA_PKCS1_OID[h]) {
      if (params !== undefined && params !== null) throw wrong('RSA');
      return `rsa-pkcs1-${h}`;
    }
  }
  if (oid === OID.rsassaPss) {
    if (!params) throw wrong('RSASSA-PSS');
    let p: RsaSaPssParams;
    try {
      p = AsnConvert.parse(params, rsaSchemas().RsaSaPssParams);
    } catch {
      throw wrong('RSASSA-PSS');
    }
    const hash = hashOfIdentifier(p.hashAlgorithm);
    if (!hash) throw new QpkiError('CERT_INVALID', 'RSASSA-PSS with this hash is not supported (SHA-256, SHA-384 or SHA-512 only).');
    const mgf = p.maskGenAlgorithm;
    let mgfHash: Hash | undefined;
    try {
      mgfHash = mgf.algorithm === OID.mgf1 && mgf.parameters ? hashOfIdentifier(AsnConvert.parse(mgf.parameters, AlgorithmIdentifier)) : undefined;
    } catch {
      mgfHash = undefined;
    }
    if (mgfHash !== hash || p.saltLength !== HASH_LENGTH[hash] || p.trailerField !== 1) {
      throw new QpkiError('CERT_INVALID', 'RSASSA-PSS parameters are not supported: MGF1 must use the same hash and the salt must be as long as the hash.');
    }
    return `rsa-pss-${hash}`;
  }
  throw new QpkiError('CERT_INVALID', `Unsupported signature algorithm ${oid}.`);
}

function hashOfIdentifier(id: AlgorithmIdentifier): Hash | undefined {
  // RFC 4055 lets hash identifiers carry NULL or absent parameters; both are accepted.
  if (id.parameters !== undefined && id.parameters !== null) return undefined;
  return (Object.keys(HASH_OID) as Hash[]).find((h) => HASH_OID[h] === id.algorithm);
}
