/**
 * The vocabulary of the lint engine: what a lint is, what kinds of document it applies to, and
 * the finding it reports. Findings from external linters (zlint, pkilint) use the same shape, so
 * the review and the gate treat them alike.
 */
import type { CertificateModel, CrlModel } from '../x509/model';

export type Severity = 'error' | 'warning' | 'notice';

/**
 * What a certificate is for, in the Baseline Requirements' terms: a root (self-issued CA), a
 * subordinate CA, a TLS server certificate, any other end-entity certificate; or a CRL.
 */
export type CertificateKind = 'root' | 'subordinate-ca' | 'tls-subscriber' | 'other-subscriber';
export type DocumentKind = CertificateKind | 'crl';

/** Which rules a document answers to: the CA/B Forum's (publicly trusted TLS) or only RFC 5280's. */
export type PkiKind = 'public-tls' | 'private';

export interface LintFinding {
  /** The lint's name: ours (`br.subscriber.eku_missing`) or an external linter's (`e_sub_cert_eku_missing`). */
  lint: string;
  severity: Severity;
  /** The rule it enforces: `RFC 5280 §4.2.1.9`, `CABF BR 7.1.2.7.10`, or `zlint (CABF_BR: BRs: 7.1.2.3)`. */
  source: string;
  message: string;
}

export interface LintContext {
  /** The document's kind; when absent it is read from the certificate (basicConstraints, self-issued, EKU). */
  kind?: DocumentKind;
  /** Which rules apply; public-tls (every rule) unless the profile says private. */
  pki?: PkiKind;
  /** The issuer certificate (DER), for the lints that compare a document with its issuer. */
  issuer?: Uint8Array;
  /** For a CRL: whether it lists subscriber certificates (a 10-day nextUpdate) or CA certificates (12 months). */
  crlScope?: 'subscribers' | 'cas';
}

export interface KeyFacts {
  family: 'rsa' | 'ec' | 'ed25519' | 'ml-dsa' | 'unknown';
  /** EC curve OID. */
  curve?: string;
  rsaBits?: number;
  rsaExponent?: bigint;
  mlDsa?: 'ml-dsa-44' | 'ml-dsa-65' | 'ml-dsa-87';
}

export interface CertificateFacts {
  kind: CertificateKind;
  pki: PkiKind;
  key: KeyFacts;
  issuer?: CertificateModel;
  /** The certificate's signature verifies with its own key (false: it does not; undefined: cannot tell). */
  selfSigned?: boolean;
}

export interface CrlFacts {
  pki: PkiKind;
  scope: 'subscribers' | 'cas';
  issuer?: CertificateModel;
}

/** A failed check returns its message(s); a passed one returns nothing. */
type Outcome = string | string[] | undefined | null | false | 0;

interface LintBase {
  name: string;
  severity: Severity;
  /** Where the rule is written. */
  source: string;
  description: string;
  /** Only under the CA/B Forum's rules (the BR lints). */
  publicTlsOnly?: boolean;
  /** Only outside them: an RFC 5280 rule the BR relax or reverse (they have their own lint for it). */
  privateOnly?: boolean;
  /** The zlint lint(s) that check the same rule, for the comparison test. */
  zlint?: string | string[];
}

export interface CertificateLint extends LintBase {
  kinds: readonly CertificateKind[];
  check(c: CertificateModel, f: CertificateFacts): Outcome;
}

export interface CrlLint extends LintBase {
  check(c: CrlModel, f: CrlFacts): Outcome;
}

export type LintStatus = 'pass' | 'fail' | 'not-applicable';

export interface LintResult {
  lint: string;
  severity: Severity;
  source: string;
  status: LintStatus;
  messages: string[];
  zlint?: string[];
}
