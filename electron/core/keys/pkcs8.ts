/**
 * PKCS#8 private keys in PEM, plain or encrypted with PBES2 (RFC 8018).
 * We write scrypt (RFC 7914, memory-hard, so a stolen key file resists guessing on GPUs)
 * with AES-256-CBC. We read scrypt or PBKDF2 (HMAC-SHA-256/SHA-1) with AES-128/192/256-CBC,
 * which covers what OpenSSL writes (`genpkey -aes256`, `pkcs8 -topk8 [-scrypt]`).
 */
import { createCipheriv, createDecipheriv, pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import * as asn1js from 'asn1js';
import { AsnConvert, AsnProp, AsnPropTypes, OctetString } from '@peculiar/asn1-schema';
import { EncryptedPrivateKeyInfo, PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { QpkiError } from '../errors';
import { toArrayBuffer } from './spki';

const OID_PBES2 = '1.2.840.113549.1.5.13';
const OID_PBKDF2 = '1.2.840.113549.1.5.12';
const OID_SCRYPT = '1.3.6.1.4.1.11591.4.11';
const OID_HMAC_SHA1 = '1.2.840.113549.2.7';
const OID_HMAC_SHA256 = '1.2.840.113549.2.9';
const AES_CBC: Record<string, { cipher: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { cipher: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { cipher: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { cipher: 'aes-256-cbc', keyLength: 32 },
};
const OID_AES256_CBC = '2.16.840.1.101.3.4.1.42';

/**
 * What we write: scrypt N=2^14, r=8, p=1 (16 MiB). N=2^15 would be twice as costly, but OpenSSL
 * reads PBES2-scrypt keys with a fixed 32 MiB scrypt memory cap that 128·r·(N+2) + 128·r·p
 * exceeds at N=2^15, r=8 (by 2 KiB), so `openssl pkey` could no longer open our key files.
 * Being able to recover a key with stock OpenSSL matters more for a CA than the doubled cost.
 */
const SCRYPT_WRITE = { N: 1 << 14, r: 8, p: 1 };
/** Upper bounds on what we agree to compute when reading, so a crafted file cannot exhaust memory or time. */
const SCRYPT_MAX = { N: 1 << 20, r: 32, p: 16 };
const PBKDF2_MAX_ITERATIONS = 10_000_000;

/** PBES2-params ::= SEQUENCE { keyDerivationFunc AlgorithmIdentifier, encryptionScheme AlgorithmIdentifier } */
class Pbes2Params {
  @AsnProp({ type: AlgorithmIdentifier }) keyDerivationFunc = new AlgorithmIdentifier();
  @AsnProp({ type: AlgorithmIdentifier }) encryptionScheme = new AlgorithmIdentifier();
  constructor(params: Partial<Pbes2Params> = {}) {
    Object.assign(this, params);
  }
}

/** scrypt-params ::= SEQUENCE { salt OCTET STRING, costParameter, blockSize, parallelizationParameter INTEGER, keyLength INTEGER OPTIONAL } */
class ScryptParams {
  @AsnProp({ type: OctetString }) salt = new OctetString();
  @AsnProp({ type: AsnPropTypes.Integer }) costParameter: number | string = 0;
  @AsnProp({ type: AsnPropTypes.Integer }) blockSize: number | string = 0;
  @AsnProp({ type: AsnPropTypes.Integer }) parallelizationParameter: number | string = 0;
  @AsnProp({ type: AsnPropTypes.Integer, optional: true }) keyLength?: number | string;
  constructor(params: Partial<ScryptParams> = {}) {
    Object.assign(this, params);
  }
}

const hmacWithSha1 = new AlgorithmIdentifier({ algorithm: OID_HMAC_SHA1, parameters: null });

/** PBKDF2-params ::= SEQUENCE { salt OCTET STRING (specified only), iterationCount, keyLength OPTIONAL, prf DEFAULT hmacWithSHA1 } */
class Pbkdf2Params {
  @AsnProp({ type: OctetString }) salt = new OctetString();
  @AsnProp({ type: AsnPropTypes.Integer }) iterationCount: number | string = 0;
  @AsnProp({ type: AsnPropTypes.Integer, optional: true }) keyLength?: number | string;
  @AsnProp({ type: AlgorithmIdentifier, defaultValue: hmacWithSha1 }) prf: AlgorithmIdentifier = hmacWithSha1;
}

// ---------------------------------------------------------------- PEM

export const PEM_PRIVATE_KEY = 'PRIVATE KEY';
export const PEM_ENCRYPTED_PRIVATE_KEY = 'ENCRYPTED PRIVATE KEY';

export function pemEncode(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export interface PemBlock {
  label: string;
  /** RFC 1421 headers (e.g. `Proc-Type`), present only in legacy OpenSSL encrypted keys. */
  headers: Record<string, string>;
  der: Uint8Array;
}

/** Every PEM block in `text`, in order. Malformed base64 or unbalanced markers are PEM_INVALID. */
export function pemDecodeAll(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  const re = /-----BEGIN ([A-Z0-9 -]+?)-----\r?\n([\s\S]*?)-----END ([A-Z0-9 -]+?)-----/g; // QPKI labels ML-DSA keys "ML-DSA-65 PRIVATE KEY"
  for (let m; (m = re.exec(text)); ) {
    if (m[1] !== m[3]) throw new QpkiError('PEM_INVALID', `PEM block "${m[1]}" ends with "${m[3]}".`);
    const headers: Record<string, string> = {};
    let body = m[2];
    const split = body.match(/^((?:[A-Za-z-]+:.*\r?\n)+)\r?\n/);
    if (split) {
      for (const line of split[1].split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim()] = line.slice(i + 1).trim();
      }
      body = body.slice(split[0].length);
    }
    const b64 = body.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
      throw new QpkiError('PEM_INVALID', `PEM block "${m[1]}" has malformed base64.`);
    }
    blocks.push({ label: m[1], headers, der: new Uint8Array(Buffer.from(b64, 'base64')) });
  }
  return blocks;
}

// ---------------------------------------------------------------- encryption

/** PEM "ENCRYPTED PRIVATE KEY": PBES2, scrypt N=2^14 r=8 p=1 with a 16-byte salt, AES-256-CBC with a random IV. */
export function encryptPkcs8(der: Uint8Array, passphrase: string): string {
  if (passphrase.length === 0) throw new QpkiError('INPUT_INVALID', 'The key passphrase is empty; choose a passphrase or store the key unencrypted.');
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = scrypt(passphrase, salt, SCRYPT_WRITE.N, SCRYPT_WRITE.r, SCRYPT_WRITE.p, 32);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const encrypted = Buffer.concat([cipher.update(der), cipher.final()]);
  key.fill(0);

  const kdf = new ScryptParams({
    salt: new OctetString(salt),
    costParameter: SCRYPT_WRITE.N,
    blockSize: SCRYPT_WRITE.r,
    parallelizationParameter: SCRYPT_WRITE.p,
    keyLength: 32,
  });
  const pbes2 = new Pbes2Params({
    keyDerivationFunc: new AlgorithmIdentifier({ algorithm: OID_SCRYPT, parameters: AsnConvert.serialize(kdf) }),
    encryptionScheme: new AlgorithmIdentifier({ algorithm: OID_AES256_CBC, parameters: AsnConvert.serialize(new OctetString(iv)) }),
  });
  const info = new EncryptedPrivateKeyInfo({
    encryptionAlgorithm: new AlgorithmIdentifier({ algorithm: OID_PBES2, parameters: AsnConvert.serialize(pbes2) }),
  });
  info.encryptedData.buffer = toArrayBuffer(new Uint8Array(encrypted));
  return pemEncode(PEM_ENCRYPTED_PRIVATE_KEY, new Uint8Array(AsnConvert.serialize(info)));
}

/** Decrypt a PEM "ENCRYPTED PRIVATE KEY" (or its DER) into DER PrivateKeyInfo. */
export function decryptPkcs8(pemOrDer: string | Uint8Array, passphrase: string): Uint8Array {
  const der = typeof pemOrDer === 'string' ? encryptedDerFromPem(pemOrDer) : pemOrDer;
  const malformed = (why: string) => new QpkiError('KEY_INVALID', `The encrypted private key is malformed or unsupported: ${why}.`);

  let info: EncryptedPrivateKeyInfo;
  let pbes2: Pbes2Params;
  try {
    info = AsnConvert.parse(der, EncryptedPrivateKeyInfo);
  } catch {
    throw malformed('not a PKCS#8 EncryptedPrivateKeyInfo');
  }
  if (info.encryptionAlgorithm.algorithm !== OID_PBES2 || !info.encryptionAlgorithm.parameters) {
    throw malformed(`encryption scheme ${info.encryptionAlgorithm.algorithm} is not PBES2; re-encrypt it with "openssl pkcs8 -topk8 -v2 aes-256-cbc"`);
  }
  try {
    pbes2 = AsnConvert.parse(info.encryptionAlgorithm.parameters, Pbes2Params);
  } catch {
    throw malformed('bad PBES2 parameters');
  }

  const scheme = AES_CBC[pbes2.encryptionScheme.algorithm];
  if (!scheme) throw malformed(`cipher ${pbes2.encryptionScheme.algorithm} (AES-CBC only)`);
  let iv: Uint8Array;
  try {
    iv = new Uint8Array(AsnConvert.parse(pbes2.encryptionScheme.parameters!, OctetString).buffer);
  } catch {
    throw malformed('bad AES-CBC IV');
  }
  if (iv.length !== 16) throw malformed('the AES-CBC IV is not 16 bytes');

  const key = deriveKey(pbes2.keyDerivationFunc, passphrase, scheme.keyLength, malformed);
  let plain: Buffer;
  try {
    const decipher = createDecipheriv(scheme.cipher, key, iv);
    plain = Buffer.concat([decipher.update(new Uint8Array(info.encryptedData.buffer)), decipher.final()]);
  } catch {
    throw incorrectPassphrase();
  } finally {
    key.fill(0);
  }
  // CBC padding catches most wrong passphrases; a DER PrivateKeyInfo check catches the rest.
  const out = new Uint8Array(plain);
  try {
    if (!isSingleDerValue(out)) throw new Error('trailing data');
    AsnConvert.parse(out, PrivateKeyInfo);
  } catch {
    plain.fill(0);
    throw incorrectPassphrase();
  }
  return out;
}

function incorrectPassphrase(): QpkiError {
  return new QpkiError('PASSPHRASE_INCORRECT', 'The passphrase does not decrypt this key file. Check it and try again.');
}

function encryptedDerFromPem(pem: string): Uint8Array {
  const block = pemDecodeAll(pem).find((b) => b.label === PEM_ENCRYPTED_PRIVATE_KEY);
  if (!block) throw new QpkiError('KEY_INVALID', 'No "ENCRYPTED PRIVATE KEY" PEM block found.');
  return block.der;
}

function deriveKey(
  kdf: AlgorithmIdentifier,
  passphrase: string,
  keyLength: number,
  malformed: (why: string) => QpkiError,
): Buffer {
  if (!kdf.parameters) throw malformed('key derivation parameters are missing');
  if (kdf.algorithm === OID_SCRYPT) {
    let p: ScryptParams;
    try {
      p = AsnConvert.parse(kdf.parameters, ScryptParams);
    } catch {
      throw malformed('bad scrypt parameters');
    }
    const N = int(p.costParameter);
    const r = int(p.blockSize);
    const par = int(p.parallelizationParameter);
    if (!(N > 1 && (N & (N - 1)) === 0 && N <= SCRYPT_MAX.N && r >= 1 && r <= SCRYPT_MAX.r && par >= 1 && par <= SCRYPT_MAX.p)) {
      throw malformed('scrypt parameters out of the accepted range');
    }
    if (p.keyLength !== undefined && int(p.keyLength) !== keyLength) throw malformed('scrypt key length does not match the cipher');
    return scrypt(passphrase, new Uint8Array(p.salt.buffer), N, r, par, keyLength);
  }
  if (kdf.algorithm === OID_PBKDF2) {
    let p: Pbkdf2Params;
    try {
      p = AsnConvert.parse(kdf.parameters, Pbkdf2Params);
    } catch {
      throw malformed('bad PBKDF2 parameters (only a specified salt is supported)');
    }
    const iterations = int(p.iterationCount);
    if (!(iterations >= 1 && iterations <= PBKDF2_MAX_ITERATIONS)) throw malformed('PBKDF2 iteration count out of the accepted range');
    if (p.keyLength !== undefined && int(p.keyLength) !== keyLength) throw malformed('PBKDF2 key length does not match the cipher');
    const prf = p.prf.algorithm === OID_HMAC_SHA256 ? 'sha256' : p.prf.algorithm === OID_HMAC_SHA1 ? 'sha1' : undefined;
    if (!prf) throw malformed(`PBKDF2 PRF ${p.prf.algorithm} (HMAC-SHA-256 or HMAC-SHA-1 only)`);
    return pbkdf2Sync(Buffer.from(passphrase, 'utf8'), new Uint8Array(p.salt.buffer), iterations, keyLength, prf);
  }
  throw malformed(`key derivation ${kdf.algorithm} (scrypt or PBKDF2 only)`);
}

function scrypt(passphrase: string, salt: Uint8Array, N: number, r: number, p: number, keyLength: number): Buffer {
  // scrypt needs 128·N·r bytes for V plus 128·r·p for B; node refuses above maxmem.
  const maxmem = 128 * N * r + 128 * r * p + 16 * 1024 * 1024;
  return scryptSync(Buffer.from(passphrase, 'utf8'), salt, keyLength, { N, r, p, maxmem });
}

/** True when `der` is exactly one BER/DER value with nothing after it. */
export function isSingleDerValue(der: Uint8Array): boolean {
  const r = asn1js.fromBER(der);
  return r.offset === der.length && r.result.error === '';
}

/** asn1-schema gives INTEGERs of four bytes or more as decimal strings. */
function int(v: number | string): number {
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isSafeInteger(n) ? n : NaN;
}
