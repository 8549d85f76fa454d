/**
 * The key file forms the real QPKI writes, read here so that ours opens QPKI's CA directories,
 * and written only by the explicit `qpki key convert --to qpki` (QPKI reads nothing stronger):
 *  - RFC 1421 "legacy" PEM encryption (Proc-Type: 4,ENCRYPTED / DEK-Info: AES-256-CBC,<iv>), which
 *    Go's x509.EncryptPEMBlock makes: the key is MD5(passphrase ‖ salt) chained (OpenSSL's
 *    EVP_BytesToKey, one round), with no work factor at all — why ours never writes it by default;
 *  - "ML-DSA-44/65/87 PRIVATE KEY": the bare FIPS 204 expanded secret key (no PKCS#8 wrapper, no
 *    seed), which is not a standard encoding (RFC 9881 defines PKCS#8 for ML-DSA).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { QpkiError } from '../errors';
import { encodeMlDsaPkcs8, isMlDsa, mlDsaLengths, type MlDsaAlgorithm } from './mldsa';
import { pemEncode, type PemBlock } from './pkcs8';

const LEGACY_CIPHERS: Record<string, { cipher: string; keyLength: number; ivLength: number }> = {
  'AES-128-CBC': { cipher: 'aes-128-cbc', keyLength: 16, ivLength: 16 },
  'AES-192-CBC': { cipher: 'aes-192-cbc', keyLength: 24, ivLength: 16 },
  'AES-256-CBC': { cipher: 'aes-256-cbc', keyLength: 32, ivLength: 16 },
  'DES-EDE3-CBC': { cipher: 'des-ede3-cbc', keyLength: 24, ivLength: 8 },
};

export const QPKI_MLDSA_LABEL: Record<MlDsaAlgorithm, string> = {
  'ml-dsa-44': 'ML-DSA-44 PRIVATE KEY',
  'ml-dsa-65': 'ML-DSA-65 PRIVATE KEY',
  'ml-dsa-87': 'ML-DSA-87 PRIVATE KEY',
};

export function isLegacyEncrypted(b: PemBlock): boolean {
  return /ENCRYPTED/.test(b.headers['Proc-Type'] ?? '');
}

/** QPKI's ML-DSA label, or undefined for any other block. */
export function qpkiMlDsaAlgorithm(label: string): MlDsaAlgorithm | undefined {
  return (Object.keys(QPKI_MLDSA_LABEL) as MlDsaAlgorithm[]).find((a) => QPKI_MLDSA_LABEL[a] === label);
}

/** EVP_BytesToKey with MD5, one iteration, salt = the first 8 bytes of the IV (what Go and OpenSSL use here). */
function legacyKey(passphrase: string, salt: Uint8Array, length: number): Buffer {
  const out: Buffer[] = [];
  let prev = Buffer.alloc(0);
  let have = 0;
  while (have < length) {
    prev = createHash('md5').update(prev).update(passphrase, 'utf8').update(salt).digest();
    out.push(prev);
    have += prev.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** The plaintext of a legacy-encrypted PEM block; a wrong passphrase is PASSPHRASE_INCORRECT. */
export function decryptLegacyPem(b: PemBlock, passphrase: string, what: string): Uint8Array {
  const m = /^([A-Z0-9-]+),([0-9A-Fa-f]+)$/.exec(b.headers['DEK-Info'] ?? '');
  const c = m && LEGACY_CIPHERS[m[1].toUpperCase()];
  if (!m || !c) throw new QpkiError('KEY_INVALID', `${what} uses legacy PEM encryption with an unsupported or missing DEK-Info (${b.headers['DEK-Info'] ?? 'none'}); supported: ${Object.keys(LEGACY_CIPHERS).join(', ')}.`);
  const iv = Buffer.from(m[2], 'hex');
  if (iv.length !== c.ivLength) throw new QpkiError('KEY_INVALID', `${what}: the DEK-Info IV is ${iv.length} bytes, not ${c.ivLength}.`);
  if (b.der.length === 0 || b.der.length % c.ivLength) throw new QpkiError('KEY_INVALID', `${what}: the encrypted key is not a whole number of cipher blocks.`);
  const key = legacyKey(passphrase, iv.subarray(0, 8), c.keyLength);
  try {
    const d = createDecipheriv(c.cipher, key, iv);
    return new Uint8Array(Buffer.concat([d.update(b.der), d.final()]));
  } catch {
    // Bad padding: the passphrase is wrong (or the file damaged; a right passphrase cannot tell).
    throw new QpkiError('PASSPHRASE_INCORRECT', `The passphrase does not decrypt ${what}. Check it and try again.`);
  } finally {
    key.fill(0);
  }
}

/** A legacy-encrypted PEM block (AES-256-CBC, as QPKI writes them). */
export function encryptLegacyPem(label: string, plain: Uint8Array, passphrase: string): string {
  if (!passphrase) throw new QpkiError('INPUT_INVALID', 'The key passphrase is empty.');
  const iv = randomBytes(16);
  const key = legacyKey(passphrase, iv.subarray(0, 8), 32);
  try {
    const c = createCipheriv('aes-256-cbc', key, iv);
    const enc = Buffer.concat([c.update(plain), c.final()]);
    const body = pemEncode(label, new Uint8Array(enc)).split('\n');
    // RFC 1421 headers sit between the BEGIN line and the base64, then a blank line.
    return [body[0], 'Proc-Type: 4,ENCRYPTED', `DEK-Info: AES-256-CBC,${iv.toString('hex').toUpperCase()}`, '', ...body.slice(1)].join('\n');
  } finally {
    key.fill(0);
  }
}

/** QPKI's bare expanded ML-DSA secret key, wrapped as the RFC 9881 PKCS#8 (expanded form) ours reads. */
export function qpkiMlDsaToPkcs8(alg: MlDsaAlgorithm, raw: Uint8Array, what: string): Uint8Array {
  const want = mlDsaLengths(alg).secretKey;
  if (raw.length !== want) throw new QpkiError('KEY_INVALID', `${what}: an ${alg.toUpperCase()} private key is ${want} bytes, this one ${raw.length} (wrong passphrase, or a damaged file).`);
  return encodeMlDsaPkcs8({ algorithm: alg, secretKey: raw, publicKey: new Uint8Array(0) }, 'expanded');
}

export function isQpkiMlDsaAlgorithm(a: string): a is MlDsaAlgorithm {
  return isMlDsa(a);
}
