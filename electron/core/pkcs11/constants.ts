import { pkcs11js } from './native';

/**
 * Constants pkcs11js does not define: EdDSA (PKCS#11 3.0) and ML-DSA (PKCS#11 3.2).
 * Values from the OASIS PKCS#11 3.0/3.2 headers.
 */
export const CKK_EC_EDWARDS = 0x40;
export const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
export const CKM_EDDSA = 0x1057;
export const CKK_ML_DSA = 0x4a;
export const CKM_ML_DSA_KEY_PAIR_GEN = 0x1c;
export const CKM_ML_DSA = 0x1d;
export const CKA_PARAMETER_SET = 0x61d;
export const CKP_ML_DSA = { 'ml-dsa-44': 1, 'ml-dsa-65': 2, 'ml-dsa-87': 3 } as const;
/** The parameter sets by the names PKCS#11 3.2 gives them (CKP_ML_DSA_44 = 1, …). */
export const CKP_ML_DSA_NAMES: Record<number, string> = { 1: 'CKP_ML_DSA_44', 2: 'CKP_ML_DSA_65', 3: 'CKP_ML_DSA_87' };

/**
 * PKCS#11 3.2 post-quantum mechanisms, so a token's list reads by name rather than in hex. Only
 * CKM_ML_DSA signs here: a certificate signature is pure ML-DSA (RFC 9881), and HashML-DSA
 * (CKM_HASH_ML_DSA*) makes a different signature that would not verify as one.
 */
const PQC_MECHANISM_NAMES: Record<number, string> = {
  0x0f: 'CKM_ML_KEM_KEY_PAIR_GEN',
  0x17: 'CKM_ML_KEM',
  [CKM_ML_DSA_KEY_PAIR_GEN]: 'CKM_ML_DSA_KEY_PAIR_GEN',
  [CKM_ML_DSA]: 'CKM_ML_DSA',
  0x1f: 'CKM_HASH_ML_DSA',
  0x23: 'CKM_HASH_ML_DSA_SHA224',
  0x24: 'CKM_HASH_ML_DSA_SHA256',
  0x25: 'CKM_HASH_ML_DSA_SHA384',
  0x26: 'CKM_HASH_ML_DSA_SHA512',
  0x27: 'CKM_HASH_ML_DSA_SHA3_224',
  0x28: 'CKM_HASH_ML_DSA_SHA3_256',
  0x29: 'CKM_HASH_ML_DSA_SHA3_384',
  0x2a: 'CKM_HASH_ML_DSA_SHA3_512',
  0x2b: 'CKM_HASH_ML_DSA_SHAKE128',
  0x2c: 'CKM_HASH_ML_DSA_SHAKE256',
  0x2d: 'CKM_SLH_DSA_KEY_PAIR_GEN',
  0x2e: 'CKM_SLH_DSA',
  0x34: 'CKM_HASH_SLH_DSA',
  0x36: 'CKM_HASH_SLH_DSA_SHA224',
  0x37: 'CKM_HASH_SLH_DSA_SHA256',
  0x38: 'CKM_HASH_SLH_DSA_SHA384',
  0x39: 'CKM_HASH_SLH_DSA_SHA512',
  0x3a: 'CKM_HASH_SLH_DSA_SHA3_224',
  0x3b: 'CKM_HASH_SLH_DSA_SHA3_256',
  0x3c: 'CKM_HASH_SLH_DSA_SHA3_384',
  0x3d: 'CKM_HASH_SLH_DSA_SHA3_512',
  0x3e: 'CKM_HASH_SLH_DSA_SHAKE128',
  0x3f: 'CKM_HASH_SLH_DSA_SHAKE256',
};

let known: Record<number, string> | undefined;

/** Mechanism names by number, gathered on first use: walking all of pkcs11js's exports takes milliseconds. */
function mechanismNames(): Record<number, string> {
  if (known) return known;
  const names: Record<number, string> = {};
  for (const [k, v] of Object.entries(pkcs11js)) {
    if (k.startsWith('CKM_') && typeof v === 'number' && names[v] === undefined) names[v] = k;
  }
  // pkcs11js's table stops at PKCS#11 2.40 (EdDSA and the post-quantum mechanisms came later).
  Object.assign(names, {
    [CKM_EC_EDWARDS_KEY_PAIR_GEN]: 'CKM_EC_EDWARDS_KEY_PAIR_GEN',
    [CKM_EDDSA]: 'CKM_EDDSA',
    ...PQC_MECHANISM_NAMES,
  });
  return (known = names);
}

export function mechanismName(type: number): string {
  return mechanismNames()[type] ?? `0x${type.toString(16).padStart(8, '0')}`;
}

/** DER OIDs carried in CKA_EC_PARAMS. */
export const EC_PARAMS = {
  'ec-p256': Buffer.from('06082a8648ce3d030107', 'hex'),
  'ec-p384': Buffer.from('06052b81040022', 'hex'),
  'ec-p521': Buffer.from('06052b81040023', 'hex'),
  ed25519: Buffer.from('06032b6570', 'hex'),
} as const;

/** Mechanism flag bits worth showing an operator (read from pkcs11js when first asked, like the addon itself). */
export function mechanismFlags(): [number, string][] {
  return [
    [pkcs11js.CKF_HW, 'hw'],
    [pkcs11js.CKF_ENCRYPT, 'encrypt'],
    [pkcs11js.CKF_DECRYPT, 'decrypt'],
    [pkcs11js.CKF_DIGEST, 'digest'],
    [pkcs11js.CKF_SIGN, 'sign'],
    [pkcs11js.CKF_VERIFY, 'verify'],
    [pkcs11js.CKF_GENERATE, 'generate'],
    [pkcs11js.CKF_GENERATE_KEY_PAIR, 'generate_key_pair'],
    [pkcs11js.CKF_WRAP, 'wrap'],
    [pkcs11js.CKF_UNWRAP, 'unwrap'],
    [pkcs11js.CKF_DERIVE, 'derive'],
  ];
}
