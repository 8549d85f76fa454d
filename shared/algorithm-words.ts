/**
 * Key and signature algorithms as people say them ("ECDSA P-384"), for the screens, the review
 * and the transcript; the code names (`ec-p384`, QPKI's profile vocabulary) stay beside them,
 * small, since profiles and the command line use those.
 */
const WORDS: Record<string, string> = {
  'ec-p256': 'ECDSA P-256', 'ec-p384': 'ECDSA P-384', 'ec-p521': 'ECDSA P-521',
  'rsa-2048': 'RSA 2048', 'rsa-3072': 'RSA 3072', 'rsa-4096': 'RSA 4096',
  ed25519: 'Ed25519',
  'ml-dsa-44': 'ML-DSA-44', 'ml-dsa-65': 'ML-DSA-65', 'ml-dsa-87': 'ML-DSA-87',
  'ecdsa-sha256': 'ECDSA with SHA-256', 'ecdsa-sha384': 'ECDSA with SHA-384', 'ecdsa-sha512': 'ECDSA with SHA-512',
  'rsa-pkcs1-sha256': 'RSA PKCS#1 v1.5 with SHA-256', 'rsa-pkcs1-sha384': 'RSA PKCS#1 v1.5 with SHA-384', 'rsa-pkcs1-sha512': 'RSA PKCS#1 v1.5 with SHA-512',
  'rsa-pss-sha256': 'RSA-PSS with SHA-256', 'rsa-pss-sha384': 'RSA-PSS with SHA-384', 'rsa-pss-sha512': 'RSA-PSS with SHA-512',
};

/** The algorithm in words, or the code name as given when it has none. */
export function algorithmWords(code: string | null | undefined): string {
  return code ? (WORDS[code] ?? code) : '';
}

/** "ECDSA P-384 (ec-p384)": the words with the code name, for plain-text fields. */
export function algorithmWithCode(code: string): string {
  const w = WORDS[code];
  return w && w.toLowerCase() !== code ? `${w} (${code})` : code;
}
