import type { KeyAlgorithm, SignatureAlgorithm } from './algorithms';

/** Where a key lives, as recorded in ca.meta.json. Never holds a PIN or a passphrase. */
export type KeyStorageRef =
  | { type: 'software'; path: string; encrypted: boolean }
  | {
      type: 'pkcs11';
      /** Path of the PKCS#11 module. */
      lib: string;
      token_label: string;
      token_serial: string;
      key_label: string;
      /** CKA_ID in lower-case hex. */
      key_id: string;
    };

/**
 * The one signing interface. Every certificate, CSR, CRL and test signature goes through it,
 * whether the key is in a token or in a file.
 */
export interface Signer {
  readonly keyAlgorithm: KeyAlgorithm;
  /** DER SubjectPublicKeyInfo of the key. */
  readonly spki: Uint8Array;
  readonly storage: KeyStorageRef;
  /**
   * Sign `data` (the whole message: the signer hashes it where the algorithm needs a hash).
   * Returns the signature exactly as X.509 carries it: DER Ecdsa-Sig-Value for ECDSA,
   * the raw bytes for RSA, Ed25519 and ML-DSA.
   */
  sign(algorithm: SignatureAlgorithm, data: Uint8Array): Promise<Uint8Array>;
}
