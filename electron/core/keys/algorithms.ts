/**
 * Key and signature algorithm names used across the engine, profiles, the CA metadata and the UI.
 * The names follow QPKI's profile vocabulary (`ec-p384`, `rsa-4096`, `ml-dsa-65`, …).
 */
export const KEY_ALGORITHMS = [
  'ec-p256',
  'ec-p384',
  'ec-p521',
  'rsa-2048',
  'rsa-3072',
  'rsa-4096',
  'ed25519',
  'ml-dsa-44',
  'ml-dsa-65',
  'ml-dsa-87',
] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

export const SIGNATURE_ALGORITHMS = [
  'ecdsa-sha256',
  'ecdsa-sha384',
  'ecdsa-sha512',
  'rsa-pkcs1-sha256',
  'rsa-pkcs1-sha384',
  'rsa-pkcs1-sha512',
  'rsa-pss-sha256',
  'rsa-pss-sha384',
  'rsa-pss-sha512',
  'ed25519',
  'ml-dsa-44',
  'ml-dsa-65',
  'ml-dsa-87',
] as const;
export type SignatureAlgorithm = (typeof SIGNATURE_ALGORITHMS)[number];

export function isKeyAlgorithm(s: string): s is KeyAlgorithm {
  return (KEY_ALGORITHMS as readonly string[]).includes(s);
}

export function keyFamily(k: KeyAlgorithm): 'ec' | 'rsa' | 'ed25519' | 'ml-dsa' {
  if (k.startsWith('ec-')) return 'ec';
  if (k.startsWith('rsa-')) return 'rsa';
  if (k === 'ed25519') return 'ed25519';
  return 'ml-dsa';
}

/** The signature a key makes unless a profile asks otherwise (the hash grows with the curve). */
export function defaultSignatureAlgorithm(k: KeyAlgorithm): SignatureAlgorithm {
  switch (k) {
    case 'ec-p256':
      return 'ecdsa-sha256';
    case 'ec-p384':
      return 'ecdsa-sha384';
    case 'ec-p521':
      return 'ecdsa-sha512';
    case 'rsa-2048':
    case 'rsa-3072':
      return 'rsa-pkcs1-sha256';
    case 'rsa-4096':
      return 'rsa-pkcs1-sha512';
    case 'ed25519':
      return 'ed25519';
    case 'ml-dsa-44':
    case 'ml-dsa-65':
    case 'ml-dsa-87':
      return k;
  }
}

/** Whether a key of this algorithm can make that signature. */
export function signatureFitsKey(sig: SignatureAlgorithm, k: KeyAlgorithm): boolean {
  const fam = keyFamily(k);
  if (fam === 'ec') return sig.startsWith('ecdsa-');
  if (fam === 'rsa') return sig.startsWith('rsa-');
  return sig === k;
}
