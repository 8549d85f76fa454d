import type { KeyAlgorithm, SignatureAlgorithm } from '../keys/algorithms';

export interface TokenFlags {
  initialized: boolean;
  loginRequired: boolean;
  userPinInitialized: boolean;
  protectedAuthPath: boolean;
  writeProtected: boolean;
  rng: boolean;
  userPinCountLow: boolean;
  userPinFinalTry: boolean;
  userPinLocked: boolean;
  userPinToBeChanged: boolean;
  soPinCountLow: boolean;
  soPinFinalTry: boolean;
  soPinLocked: boolean;
  soPinToBeChanged: boolean;
}

export interface TokenSummary {
  label: string;
  manufacturer: string;
  model: string;
  serial: string;
  flags: TokenFlags;
  minPinLen: number;
  maxPinLen: number;
  /** Bytes, or null when the token does not say (CK_UNAVAILABLE_INFORMATION). */
  freePublicMemory: number | null;
  freePrivateMemory: number | null;
  totalPublicMemory: number | null;
  totalPrivateMemory: number | null;
  hardwareVersion: string;
  firmwareVersion: string;
}

export interface SlotSummary {
  /** Decimal slot id. Informational only: slot ids change, tokens are found by label or serial. */
  slotId: string;
  description: string;
  manufacturer: string;
  tokenPresent: boolean;
  removable: boolean;
  hardware: boolean;
  token?: TokenSummary;
}

export interface MechanismSummary {
  name: string;
  type: number;
  minKeySize: number;
  maxKeySize: number;
  flags: string[];
}

export interface ModuleInfo {
  path: string;
  cryptokiVersion: string;
  manufacturer: string;
  description: string;
  libraryVersion: string;
  /**
   * A development token (SoftHSM2: its keys are files anyone with the disk can copy): fine for a
   * rehearsal, never a production key. Said however the library was chosen.
   */
  development: boolean;
}

export interface KeyAttributes {
  token: boolean;
  private: boolean;
  sensitive: boolean;
  extractable: boolean;
  alwaysSensitive: boolean;
  neverExtractable: boolean;
  local: boolean;
  sign: boolean;
  alwaysAuthenticate: boolean;
}

export interface KeyInfo {
  label: string;
  /** CKA_ID, lower-case hex. */
  id: string;
  keyAlgorithm: KeyAlgorithm;
  sizeBits: number;
  /** ML-DSA: the token's CKA_PARAMETER_SET by its PKCS#11 name (CKP_ML_DSA_65), the same on both halves. */
  parameterSet?: string;
  attributes: KeyAttributes;
  /** DER SubjectPublicKeyInfo from the matching public key object. */
  spki: Uint8Array;
  /** SHA-256 of the SubjectPublicKeyInfo, hex. */
  publicKeyFingerprint: string;
}

export interface GeneratedKeyReport {
  key: KeyInfo;
  testSignature: { algorithm: SignatureAlgorithm; verified: boolean };
  durationMs: number;
}

/** An existing key's proof (TokenSession.proveKey): read again, test signature verified, journal compared. */
export interface KeyProof {
  key: KeyInfo;
  testSignature: { algorithm: SignatureAlgorithm; verified: true };
  /** matched: a journal recorded this key's public key at its generation, and it is the same. */
  journal: 'matched' | 'not-recorded';
}

export type TokenRef = { label?: string; serial?: string };

/** One object on a token as a listing shows it (no value, no secret: what it is and what it is called). */
export interface TokenObjectSummary {
  kind: 'private key' | 'public key' | 'secret key' | 'certificate' | 'data' | 'other';
  label: string;
  /** CKA_ID in hex ('' when it has none). */
  id: string;
  /** The key type in words (EC, RSA, ML-DSA, …) for a key, else null. */
  keyType: string | null;
  /** CKA_PRIVATE: true objects are seen only by a logged-in session. */
  private: boolean;
}
