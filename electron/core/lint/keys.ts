/**
 * What each key may be used for and how it is encoded: EC (RFC 5480, RFC 8813), RSA (RFC 3279),
 * Ed25519 (RFC 8410), ML-DSA (RFC 9881), and the Catalyst alternative key and signature
 * (ITU-T X.509 (10/2019) §9.8, as electron/core/x509/catalyst.ts writes them).
 */
import { keyAlgorithmOfSpki, signatureAlgorithmFromIdentifier } from '../keys/verify';
import { isMlDsa, mlDsaAlgorithmOfOid, mlDsaLengths } from '../keys/mldsa';
import { whole } from '../x509/der';
import { OIDS, type CertificateModel, type ExtensionModel, type KeyUsageBit } from '../x509/model';
import { ALL_CERTS, algorithmOf, ext } from './helpers';
import type { CertificateLint, CrlLint } from './types';

const SIGN_ONLY: KeyUsageBit[] = ['digitalSignature', 'nonRepudiation', 'keyCertSign', 'cRLSign'];

function usageOutside(c: CertificateModel, allowed: KeyUsageBit[]): KeyUsageBit[] {
  return c.keyUsage ? [...c.keyUsage.bits].filter((b) => !allowed.includes(b)) : [];
}

function catalystExtensions(exts: ExtensionModel[]): ExtensionModel[] {
  return exts.filter((e) => e.oid === OIDS.altSubjectPublicKeyInfo || e.oid === OIDS.altSignatureAlgorithm || e.oid === OIDS.altSignatureValue);
}

function altValueProblem(exts: ExtensionModel[]): string | undefined {
  const v = exts.find((e) => e.oid === OIDS.altSignatureValue);
  if (!v) return undefined;
  try {
    const t = whole(v.value);
    if (t.tag !== 0x03) return 'altSignatureValue is not a BIT STRING';
    if (v.value[t.contentStart] !== 0) return `altSignatureValue declares ${v.value[t.contentStart]} unused bits`;
  } catch {
    return 'altSignatureValue is not DER';
  }
  return undefined;
}

function altIncomplete(exts: ExtensionModel[]): string | undefined {
  const alg = exts.some((e) => e.oid === OIDS.altSignatureAlgorithm);
  const val = exts.some((e) => e.oid === OIDS.altSignatureValue);
  return alg !== val ? 'altSignatureAlgorithm and altSignatureValue do not come together' : undefined;
}

function altAlgorithmProblem(exts: ExtensionModel[]): string | undefined {
  const a = exts.find((e) => e.oid === OIDS.altSignatureAlgorithm);
  if (!a) return undefined;
  try {
    signatureAlgorithmFromIdentifier(a.value);
    return undefined;
  } catch (e) {
    return `altSignatureAlgorithm: ${(e as Error).message}`;
  }
}

export const KEY_LINTS: CertificateLint[] = [
  {
    name: 'rfc8813.ec_key_usage_not_allowed', severity: 'error', source: 'RFC 8813 §3 (updating RFC 5480 §3)', kinds: ALL_CERTS, zlint: 'e_ecdsa_allowed_ku',
    description: 'An EC key does not carry keyEncipherment or dataEncipherment',
    check: (c, f) => f.key.family === 'ec' && usageOutside(c, [...SIGN_ONLY, 'keyAgreement', 'encipherOnly', 'decipherOnly']).map((b) => `an EC key with ${b}`),
  },
  {
    name: 'rfc5480.ec_curve_unnamed', severity: 'error', source: 'RFC 5480 §2.1.1 (namedCurve only)', kinds: ALL_CERTS,
    description: 'An EC key names its curve',
    check: (c, f) => f.key.family === 'ec' && !f.key.curve && 'the EC key does not name its curve (implicit or explicit parameters)',
  },
  {
    name: 'rfc3279.rsa_key_usage_not_allowed', severity: 'error', source: 'RFC 3279 §2.3.1', kinds: ALL_CERTS,
    description: 'An RSA key does not carry keyAgreement, encipherOnly or decipherOnly',
    check: (c, f) => f.key.family === 'rsa' && usageOutside(c, [...SIGN_ONLY, 'keyEncipherment', 'dataEncipherment']).map((b) => `an RSA key with ${b}`),
  },
  {
    name: 'rfc8410.ed25519_key_usage_not_allowed', severity: 'error', source: 'RFC 8410 §5', kinds: ALL_CERTS,
    description: 'An Ed25519 key only signs',
    check: (c, f) => f.key.family === 'ed25519' && usageOutside(c, SIGN_ONLY).map((b) => `an Ed25519 key with ${b}`),
  },
  {
    name: 'rfc9881.ml_dsa_key_usage_not_allowed', severity: 'error', source: 'RFC 9881 §5', kinds: ALL_CERTS,
    description: 'An ML-DSA key only signs: digitalSignature, nonRepudiation, keyCertSign, cRLSign',
    check: (c, f) => f.key.family === 'ml-dsa' && usageOutside(c, SIGN_ONLY).map((b) => `an ML-DSA key with ${b}`),
  },
  {
    name: 'rfc9881.ml_dsa_parameters_present', severity: 'error', source: 'RFC 9881 §4', kinds: ALL_CERTS,
    description: 'An ML-DSA public key has no algorithm parameters',
    check: (c, f) => f.key.family === 'ml-dsa' && c.spkiParameters !== undefined && 'the ML-DSA key’s AlgorithmIdentifier has parameters',
  },
  {
    name: 'rfc9881.ml_dsa_public_key_length', severity: 'error', source: 'RFC 9881 §4 (FIPS 204 key sizes)', kinds: ALL_CERTS,
    description: 'An ML-DSA public key has its parameter set’s length',
    check: (c, f) => f.key.mlDsa && c.publicKey.length !== mlDsaLengths(f.key.mlDsa).publicKey && `the ${f.key.mlDsa} key is ${c.publicKey.length} bytes, not ${mlDsaLengths(f.key.mlDsa).publicKey}`,
  },
  {
    name: 'rfc9881.ml_dsa_signature_parameters_present', severity: 'error', source: 'RFC 9881 §3', kinds: ALL_CERTS,
    description: 'An ML-DSA signature algorithm has no parameters',
    check: (c) => {
      const a = algorithmOf(c.innerSignatureAlgorithm);
      return a && mlDsaAlgorithmOfOid(a.oid) && a.params !== 'absent' && 'the ML-DSA signature AlgorithmIdentifier has parameters';
    },
  },
  {
    name: 'rfc5280.public_key_unused_bits', severity: 'error', source: 'RFC 5280 §4.1.2.7', kinds: ALL_CERTS,
    description: 'The subjectPublicKey BIT STRING holds whole octets',
    check: (c) => c.publicKeyUnusedBits !== 0 && `subjectPublicKey declares ${c.publicKeyUnusedBits} unused bits`,
  },
  {
    name: 'catalyst.alt_signature_incomplete', severity: 'error', source: 'ITU-T X.509 (10/2019) §9.8', kinds: ALL_CERTS,
    description: 'altSignatureAlgorithm and altSignatureValue come together',
    check: (c) => altIncomplete(c.extensions),
  },
  {
    name: 'catalyst.extension_critical', severity: 'error', source: 'ITU-T X.509 (10/2019) §9.8 (the Catalyst extensions are non-critical)', kinds: ALL_CERTS,
    description: 'subjectAltPublicKeyInfo, altSignatureAlgorithm and altSignatureValue are not critical',
    check: (c) => catalystExtensions(c.extensions).filter((e) => e.critical).map((e) => `Catalyst extension ${e.oid} is critical`),
  },
  {
    name: 'catalyst.alt_signature_value_encoding', severity: 'error', source: 'ITU-T X.509 (10/2019) §9.8 (altSignatureValue ::= BIT STRING)', kinds: ALL_CERTS,
    description: 'altSignatureValue is a BIT STRING of whole octets',
    check: (c) => altValueProblem(c.extensions),
  },
  {
    name: 'catalyst.alt_signature_algorithm_invalid', severity: 'error', source: 'ITU-T X.509 (10/2019) §9.8; RFC 9881 §3', kinds: ALL_CERTS,
    description: 'altSignatureAlgorithm names a signature algorithm with the parameters its specification sets',
    check: (c) => altAlgorithmProblem(c.extensions),
  },
  {
    name: 'catalyst.alt_public_key_invalid', severity: 'error', source: 'ITU-T X.509 (10/2019) §9.8; RFC 9881 §4', kinds: ALL_CERTS,
    description: 'subjectAltPublicKeyInfo is a SubjectPublicKeyInfo of a known algorithm',
    check: (c) => {
      const e = ext(c, OIDS.altSubjectPublicKeyInfo);
      if (!e) return undefined;
      try {
        keyAlgorithmOfSpki(e.value);
        return undefined;
      } catch (err) {
        return `subjectAltPublicKeyInfo: ${(err as Error).message}`;
      }
    },
  },
  {
    name: 'catalyst.alt_key_usage_not_allowed', severity: 'error', source: 'RFC 9881 §5 (applied to the alternative key)', kinds: ALL_CERTS,
    description: 'keyUsage fits the alternative ML-DSA key too',
    check: (c) => {
      const e = ext(c, OIDS.altSubjectPublicKeyInfo);
      if (!e || !c.keyUsage) return undefined;
      let alg: string;
      try {
        alg = keyAlgorithmOfSpki(e.value);
      } catch {
        return undefined;
      }
      return isMlDsa(alg) && usageOutside(c, SIGN_ONLY).map((b) => `the alternative ML-DSA key with ${b}`);
    },
  },
];

export const CATALYST_CRL_LINTS: CrlLint[] = [
  { name: 'catalyst.crl_alt_signature_incomplete', severity: 'error', source: 'ITU-T X.509 (10/2019) §9.8', description: 'altSignatureAlgorithm and altSignatureValue come together', check: (c) => altIncomplete(c.extensions) },
  { name: 'catalyst.crl_extension_critical', severity: 'error', source: 'ITU-T X.509 (10/2019) §9.8', description: 'The Catalyst extensions are not critical', check: (c) => catalystExtensions(c.extensions).filter((e) => e.critical).map((e) => `Catalyst extension ${e.oid} is critical`) },
  { name: 'catalyst.crl_alt_signature_value_encoding', severity: 'error', source: 'ITU-T X.509 (10/2019) §9.8', description: 'altSignatureValue is a BIT STRING of whole octets', check: (c) => altValueProblem(c.extensions) },
  { name: 'catalyst.crl_alt_signature_algorithm_invalid', severity: 'error', source: 'ITU-T X.509 (10/2019) §9.8; RFC 9881 §3', description: 'altSignatureAlgorithm is a known signature algorithm', check: (c) => altAlgorithmProblem(c.extensions) },
];
