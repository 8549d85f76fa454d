/**
 * Keys kept in files: generation, PEM key files (optionally passphrase-encrypted), and a Signer.
 * Classical keys use node:crypto; ML-DSA keys use noble (node's OpenSSL has no ML-DSA).
 */
import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as nodeSign,
  type KeyObject,
} from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { fsyncDir } from '../dirs';
import { QpkiError } from '../errors';
import { keyFamily, signatureFitsKey, type KeyAlgorithm, type SignatureAlgorithm } from './algorithms';
import {
  decodeMlDsaPrivateKey,
  encodeMlDsaPkcs8,
  encodeMlDsaSpki,
  isMlDsa,
  mlDsaAlgorithmOfOid,
  mlDsaKeygen,
  mlDsaSign,
  type MlDsaAlgorithm,
} from './mldsa';
import {
  PEM_ENCRYPTED_PRIVATE_KEY,
  PEM_PRIVATE_KEY,
  decryptPkcs8,
  encryptPkcs8,
  isSingleDerValue,
  pemDecodeAll,
  pemEncode,
  type PemBlock,
} from './pkcs8';
import type { KeyStorageRef, Signer } from './signer';
import { decryptLegacyPem, isLegacyEncrypted, qpkiMlDsaAlgorithm, qpkiMlDsaToPkcs8 } from './qpkiKeys';
import { keyAlgorithmOfSpki, rsaPssSaltLength, signatureHash } from './verify';

const CURVE_NAME = { 'ec-p256': 'P-256', 'ec-p384': 'P-384', 'ec-p521': 'P-521' } as const;

/** A fresh key pair as DER PKCS#8 (private) and DER SPKI (public). */
export function generateSoftwareKey(alg: KeyAlgorithm): { pkcs8: Uint8Array; spki: Uint8Array } {
  if (isMlDsa(alg)) {
    const key = mlDsaKeygen(alg);
    return { pkcs8: encodeMlDsaPkcs8(key, 'seed'), spki: encodeMlDsaSpki(alg, key.publicKey) };
  }
  let pair: { privateKey: KeyObject; publicKey: KeyObject };
  switch (keyFamily(alg)) {
    case 'ec':
      pair = generateKeyPairSync('ec', { namedCurve: CURVE_NAME[alg as keyof typeof CURVE_NAME] });
      break;
    case 'rsa':
      pair = generateKeyPairSync('rsa', { modulusLength: Number(alg.slice(4)), publicExponent: 0x10001 });
      break;
    default:
      pair = generateKeyPairSync('ed25519');
  }
  return {
    pkcs8: new Uint8Array(pair.privateKey.export({ type: 'pkcs8', format: 'der' })),
    spki: new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' })),
  };
}

/**
 * Write a private key as PEM, encrypted when a passphrase is given. The file is created with
 * mode 0600 and appears whole or not at all (temporary file in the same directory, fsync,
 * link into place, fsync the directory). An existing file is never replaced: OUTPUT_EXISTS.
 */
export function writeKeyFile(filePath: string, pkcs8: Uint8Array, passphrase: string | null): void {
  if (fs.existsSync(filePath)) throw outputExists(filePath);
  const pem = passphrase === null ? pemEncode(PEM_PRIVATE_KEY, pkcs8) : encryptPkcs8(pkcs8, passphrase);
  const dir = path.dirname(path.resolve(filePath));
  const tmp = path.join(dir, `.${path.basename(filePath)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const fd = fs.openSync(tmp, 'wx', 0o600);
    try {
      fs.fchmodSync(fd, 0o600); // in case a umask or ACL default widened it
      fs.writeSync(fd, pem);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    placeWithoutOverwrite(tmp, filePath);
    fsyncDir(dir);
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      /* best effort: the temporary file holds nothing the final one would not */
    }
    if (e instanceof QpkiError) throw e;
    throw new QpkiError('IO_ERROR', `Cannot write the key file ${filePath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
}

/**
 * link(2) fails if the target exists, so a file that appeared since our check is never clobbered.
 * Filesystems without hard links (FAT on a USB stick) fall back to a checked rename.
 */
function placeWithoutOverwrite(tmp: string, target: string): void {
  try {
    fs.linkSync(tmp, target);
    fs.unlinkSync(tmp);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw outputExists(target);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
  }
  if (fs.existsSync(target)) throw outputExists(target);
  fs.renameSync(tmp, target);
}


function outputExists(p: string): QpkiError {
  return new QpkiError('OUTPUT_EXISTS', `${p} already exists; choose another path or move the old file away first.`);
}

type KeyFileContent =
  | { encrypted: true; der: Uint8Array }
  | { encrypted: false; pkcs8: Uint8Array }
  /** QPKI's forms: legacy PEM encryption around PKCS#8, SEC1, PKCS#1 or a bare ML-DSA key. */
  | { encrypted: true; legacy: PemBlock };

function readKeyFileContent(filePath: string): KeyFileContent {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(filePath);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new QpkiError('KEY_NOT_FOUND', `No key file at ${filePath}.`);
    throw new QpkiError('IO_ERROR', `Cannot read the key file ${filePath}: ${code ?? (e as Error).message}.`);
  }
  // DER: either a PrivateKeyInfo (starts with SEQUENCE, INTEGER version) or an EncryptedPrivateKeyInfo.
  if (raw[0] === 0x30 && isSingleDerValue(raw)) {
    const der = new Uint8Array(raw);
    return looksEncrypted(der) ? { encrypted: true, der } : { encrypted: false, pkcs8: der };
  }
  const blocks = pemDecodeAll(raw.toString('utf8'));
  for (const b of blocks) {
    const known = b.label === PEM_PRIVATE_KEY || b.label === 'EC PRIVATE KEY' || b.label === 'RSA PRIVATE KEY' || qpkiMlDsaAlgorithm(b.label);
    if (b.label === PEM_ENCRYPTED_PRIVATE_KEY) return { encrypted: true, der: b.der };
    if (known && isLegacyEncrypted(b)) return { encrypted: true, legacy: b };
    if (known) return { encrypted: false, pkcs8: plainBlockToPkcs8(b, filePath) };
  }
  throw new QpkiError('KEY_INVALID', `${filePath} holds no private key (expected PEM "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY" or QPKI's "ML-DSA-xx PRIVATE KEY").`);
}

/** A key block in clear (or just decrypted) as PKCS#8 DER, whatever its label. */
function plainBlockToPkcs8(b: { label: string; der: Uint8Array }, filePath: string): Uint8Array {
  if (b.label === PEM_PRIVATE_KEY) return b.der;
  const mldsa = qpkiMlDsaAlgorithm(b.label);
  if (mldsa) return qpkiMlDsaToPkcs8(mldsa, b.der, filePath);
  return legacyToPkcs8(b.label, b.der);
}

/** EncryptedPrivateKeyInfo begins SEQUENCE { SEQUENCE {…} …; PrivateKeyInfo begins SEQUENCE { INTEGER …. */
function looksEncrypted(der: Uint8Array): boolean {
  const lenBytes = der[1] & 0x80 ? 1 + (der[1] & 0x7f) : 1;
  return der[1 + lenBytes] === 0x30;
}

function legacyToPkcs8(label: string, der: Uint8Array): Uint8Array {
  try {
    const key = createPrivateKey({ key: Buffer.from(der), format: 'der', type: label === 'EC PRIVATE KEY' ? 'sec1' : 'pkcs1' });
    return new Uint8Array(key.export({ type: 'pkcs8', format: 'der' }));
  } catch {
    throw new QpkiError('KEY_INVALID', `The ${label} block does not decode.`);
  }
}

export function isEncryptedKeyFile(filePath: string): boolean {
  return readKeyFileContent(filePath).encrypted;
}

/** Read a key file. Encrypted without a passphrase → PASSPHRASE_REQUIRED. */
export function readKeyFile(
  filePath: string,
  passphrase: string | undefined,
): { pkcs8: Uint8Array; keyAlgorithm: KeyAlgorithm; spki: Uint8Array } {
  const { pkcs8, key } = openKeyFile(filePath, passphrase);
  return { pkcs8, keyAlgorithm: key.keyAlgorithm, spki: key.spki };
}

function openKeyFile(filePath: string, passphrase: string | undefined): { pkcs8: Uint8Array; encrypted: boolean; key: LoadedKey } {
  const content = readKeyFileContent(filePath);
  let pkcs8: Uint8Array;
  if (content.encrypted) {
    if (passphrase === undefined) throw new QpkiError('PASSPHRASE_REQUIRED', `${filePath} is encrypted; give its passphrase.`);
    pkcs8 = 'legacy' in content ? plainBlockToPkcs8({ label: content.legacy.label, der: decryptLegacyPem(content.legacy, passphrase, filePath) }, filePath) : decryptPkcs8(content.der, passphrase);
  } else {
    pkcs8 = content.pkcs8;
  }
  return { pkcs8, encrypted: content.encrypted, key: loadPkcs8(pkcs8) };
}

type LoadedKey =
  | { keyAlgorithm: MlDsaAlgorithm; spki: Uint8Array; mlDsaSecretKey: Uint8Array }
  | { keyAlgorithm: Exclude<KeyAlgorithm, MlDsaAlgorithm>; spki: Uint8Array; privateKey: KeyObject };

/** Decode a DER PrivateKeyInfo into a usable key; its algorithm comes from the public key it implies. */
function loadPkcs8(pkcs8: Uint8Array): LoadedKey {
  let pki: PrivateKeyInfo;
  try {
    pki = AsnConvert.parse(pkcs8, PrivateKeyInfo);
  } catch {
    throw new QpkiError('KEY_INVALID', 'The private key is not a valid PKCS#8 PrivateKeyInfo.');
  }
  const mldsa = mlDsaAlgorithmOfOid(pki.privateKeyAlgorithm.algorithm);
  if (mldsa) {
    if (pki.privateKeyAlgorithm.parameters !== undefined) {
      throw new QpkiError('KEY_INVALID', `An ${mldsa.toUpperCase()} private key must have no algorithm parameters.`);
    }
    const key = decodeMlDsaPrivateKey(mldsa, new Uint8Array(pki.privateKey.buffer));
    return { keyAlgorithm: mldsa, spki: encodeMlDsaSpki(mldsa, key.publicKey), mlDsaSecretKey: key.secretKey };
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  } catch {
    throw new QpkiError('KEY_INVALID', 'The private key does not decode (unsupported algorithm or corrupt PKCS#8).');
  }
  const spki = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
  const keyAlgorithm = keyAlgorithmOfSpki(spki);
  if (isMlDsa(keyAlgorithm)) throw new QpkiError('KEY_INVALID', 'The private key does not match its public key.');
  return { keyAlgorithm, spki, privateKey };
}

/** A Signer over a key file; the file is read (and decrypted) once, here. */
export function softwareSigner(filePath: string, passphrase: string | undefined): Signer {
  const { encrypted, key } = openKeyFile(filePath, passphrase);
  return signerFromKey(key, { type: 'software', path: filePath, encrypted });
}

export function signerFromPkcs8(pkcs8: Uint8Array, storage: KeyStorageRef): Signer {
  return signerFromKey(loadPkcs8(pkcs8), storage);
}

function signerFromKey(key: LoadedKey, storage: KeyStorageRef): Signer {
  return {
    keyAlgorithm: key.keyAlgorithm,
    spki: key.spki,
    storage,
    async sign(algorithm: SignatureAlgorithm, data: Uint8Array): Promise<Uint8Array> {
      if (!signatureFitsKey(algorithm, key.keyAlgorithm)) {
        throw new QpkiError('MECHANISM_UNSUPPORTED', `A ${key.keyAlgorithm} key cannot make ${algorithm} signatures.`);
      }
      if ('mlDsaSecretKey' in key) return mlDsaSign(key.keyAlgorithm, key.mlDsaSecretKey, data);
      return new Uint8Array(classicalSign(key.privateKey, algorithm, data));
    },
  };
}

function classicalSign(privateKey: KeyObject, algorithm: SignatureAlgorithm, data: Uint8Array): Buffer {
  if (algorithm === 'ed25519') return nodeSign(null, data, privateKey);
  const hash = signatureHash(algorithm)!;
  if (algorithm.startsWith('rsa-pss-')) {
    return nodeSign(hash, data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: rsaPssSaltLength(algorithm) });
  }
  if (algorithm.startsWith('rsa-pkcs1-')) return nodeSign(hash, data, { key: privateKey, padding: constants.RSA_PKCS1_PADDING });
  return nodeSign(hash, data, { key: privateKey, dsaEncoding: 'der' });
}
