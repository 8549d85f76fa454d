/**
 * The lint gate every signature passes (CA/Browser Forum BR 4.3.1.2): before the CA key signs,
 * the exact TBS is signed with throwaway keys of the same algorithms and linted; after it signs,
 * the real document is linted again. An error blocks unless the profile accepts that lint by
 * name with a written reason; warnings and notices are reported and journaled, never blocking.
 * zlint and pkilint, where installed, are run beside ours on request (shown, never blocking:
 * they are other projects' judgement, and zlint does not know ML-DSA yet).
 */
import { QpkiError } from '../errors';
import type { KeyAlgorithm } from '../keys/algorithms';
import { parseCertificateModel } from '../x509/model';
import { signPrepared, type PreparedDocument, type PreparedKind } from '../x509/tbs';
import { runExternalLinters } from './external';
import { blockingFindings, certificateKindOf, lintCertificate, lintCrl, throwawaySigner, type AcceptedLint } from './index';
import type { DocumentKind, LintFinding, PkiKind } from './types';

export interface LintPolicy {
  pki: PkiKind;
  /** Lints accepted by name, each with the reason the review and the journal show. */
  accepted: readonly AcceptedLint[];
  /** The issuer's certificate (DER), for the lints comparing a document with its issuer; absent for a root. */
  issuerDer?: Uint8Array;
  /** A self-signed root (its kind cannot be read from a throwaway-signed copy). */
  root?: boolean;
  /** Also run zlint and pkilint where installed. */
  external?: boolean;
}

export interface LintReport {
  kind: DocumentKind;
  pki: PkiKind;
  /** Every finding of ours: errors, warnings, notices. */
  findings: LintFinding[];
  /** The errors the profile accepts, with its reason. */
  accepted: (LintFinding & { reason: string })[];
  /** The errors that stop signing. */
  blocking: LintFinding[];
  /** zlint's and pkilint's findings on the same document; null where not run or not installed. */
  external: { zlint: LintFinding[] | null; pkilint: LintFinding[] | null };
}

/** Throwaway keys are the CA key's algorithm; an RSA one is 2048 bits whatever the CA's (no lint reads the signature's length, and a 4096-bit key takes seconds to make). */
function throwawayAlgorithm(alg: KeyAlgorithm): KeyAlgorithm {
  return alg.startsWith('rsa-') ? 'rsa-2048' : alg;
}

function kindOf(der: Uint8Array, kind: PreparedKind, policy: LintPolicy): DocumentKind {
  if (kind === 'crl') return 'crl';
  const c = parseCertificateModel(der);
  if (c.basicConstraints?.ca) return policy.root ? 'root' : 'subordinate-ca';
  return certificateKindOf(c);
}

/** Lint a signed document (throwaway-signed before, or the real one after) under a policy. */
export function lintDocument(der: Uint8Array, kind: PreparedKind, policy: LintPolicy): LintReport {
  const k = kindOf(der, kind, policy);
  const ctx = { pki: policy.pki, ...(policy.issuerDer ? { issuer: policy.issuerDer } : {}) };
  const findings = k === 'crl' ? lintCrl(der, ctx) : lintCertificate(der, { ...ctx, kind: k });
  const blocking = blockingFindings(findings, policy.accepted);
  const reasons = new Map(policy.accepted.filter((a) => a.reason.trim()).map((a) => [a.lint, a.reason]));
  const accepted = findings.filter((f) => f.severity === 'error' && reasons.has(f.lint)).map((f) => ({ ...f, reason: reasons.get(f.lint)! }));
  let external: LintReport['external'] = { zlint: null, pkilint: null };
  if (policy.external) {
    try {
      external = runExternalLinters(der, k, policy.pki);
    } catch {
      // An external linter that fails to run is reported as not run: it never blocks.
      external = { zlint: null, pkilint: null };
    }
  }
  return { kind: k, pki: policy.pki, findings, accepted, blocking, external };
}

/**
 * Lint what the CA key is about to sign: the prepared TBS, byte for byte, signed by throwaway
 * keys of the CA's algorithm(s) (both for Catalyst, so the alternative signature is in place).
 */
export async function lintBeforeSigning(doc: PreparedDocument, keyAlgorithm: KeyAlgorithm, altKeyAlgorithm: KeyAlgorithm | undefined, policy: LintPolicy): Promise<LintReport> {
  const der = await signPrepared(doc, throwawaySigner(throwawayAlgorithm(keyAlgorithm)), altKeyAlgorithm ? throwawaySigner(throwawayAlgorithm(altKeyAlgorithm)) : undefined);
  return lintDocument(der, doc.kind, policy);
}

/** The refusal of a document the gate stops: names every blocking lint and how to go on. */
export function refuseIfBlocked(r: LintReport, what: string, stage: 'before' | 'after' = 'before'): void {
  if (!r.blocking.length) return;
  const list = r.blocking.map((f) => `${f.lint} (${f.source}): ${f.message}`).join('; ');
  const when = stage === 'before' ? 'nothing was signed' : 'it was signed but is not written';
  throw new QpkiError('LINT_FAILED', `${what} fails ${r.blocking.length} lint${r.blocking.length > 1 ? 's' : ''} (${r.pki === 'public-tls' ? 'public TLS' : 'private PKI'} rules), so ${when}: ${list}. Fix the profile or its variables, or accept a lint by name with a reason in the profile (lint.accept).`);
}

/** What the journal keeps of a lint report: names by severity, and each accepted lint with its reason. */
export function lintFacts(r: LintReport): Record<string, unknown> {
  const names = (s: string) => r.findings.filter((f) => f.severity === s).map((f) => f.lint);
  return {
    pki: r.pki,
    kind: r.kind,
    errors: names('error'),
    warnings: names('warning'),
    notices: names('notice'),
    accepted: r.accepted.map((a) => ({ lint: a.lint, reason: a.reason })),
  };
}
