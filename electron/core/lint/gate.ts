/**
 * The lint gate every signature passes (CA/Browser Forum BR 4.3.1.2): before the CA key signs,
 * the exact TBS is linted inside a document whose signature is a static value of the real
 * signature's shape (the BR's method 2; no key is made or used); after it signs, the real
 * document is linted again, unless it is byte for byte the document linted but for the signature
 * value, which none of our lints reads (see lintAfterSigning). An error blocks unless the profile accepts that lint by
 * name with a written reason; warnings and notices are reported and journaled, never blocking.
 * zlint and pkilint, where installed, are run beside ours on request (shown, never blocking:
 * they are other projects' judgement, and zlint does not know ML-DSA yet).
 */
import { QpkiError } from '../errors';
import type { KeyAlgorithm } from '../keys/algorithms';
import { parseCertificateModel, type CertificateModel } from '../x509/model';
import { bytesEqual, children, slice, whole } from '../x509/der';
import { assembleSignedDocument, signPrepared, withAltSignatureValue, type PreparedDocument, type PreparedKind } from '../x509/tbs';
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

/** The kind of document to lint, and a certificate as read to tell it (the lints then read it once). */
function kindOf(der: Uint8Array, kind: PreparedKind, policy: LintPolicy): { kind: DocumentKind; model?: CertificateModel } {
  if (kind === 'crl') return { kind: 'crl' };
  const c = parseCertificateModel(der);
  if (c.basicConstraints?.ca) return { kind: policy.root ? 'root' : 'subordinate-ca', model: c };
  return { kind: certificateKindOf(c), model: c };
}

/** Lint a signed document (throwaway-signed before, or the real one after) under a policy. */
export function lintDocument(der: Uint8Array, kind: PreparedKind, policy: LintPolicy): LintReport {
  const { kind: k, model } = kindOf(der, kind, policy);
  const ctx = { pki: policy.pki, ...(policy.issuerDer ? { issuer: policy.issuerDer } : {}) };
  const findings = k === 'crl' ? lintCrl(der, ctx) : lintCertificate(der, { ...ctx, kind: k }, model);
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

/** Bytes of a signature's length (ECDSA: a DER Ecdsa-Sig-Value of full-size integers), for a document that is only linted. */
const PLACEHOLDER_LENGTH: Record<KeyAlgorithm, number> = {
  'ec-p256': 32, 'ec-p384': 48, 'ec-p521': 66,
  'rsa-2048': 256, 'rsa-3072': 384, 'rsa-4096': 512,
  ed25519: 64,
  // FIPS 204, Table 2: the signature sizes.
  'ml-dsa-44': 2420, 'ml-dsa-65': 3309, 'ml-dsa-87': 4627,
};

/** Placeholders made so far, by algorithm: the same bytes every time, built once (each caller gets its own copy). */
const placeholders = new Map<KeyAlgorithm, Uint8Array>();

/** The static signature value of a lint copy: the real one's length and encoding, never a signature. */
export function placeholderSignature(alg: KeyAlgorithm): Uint8Array {
  let p = placeholders.get(alg);
  if (!p) {
    p = buildPlaceholder(alg);
    placeholders.set(alg, p);
  }
  return p.slice();
}

function buildPlaceholder(alg: KeyAlgorithm): Uint8Array {
  const n = PLACEHOLDER_LENGTH[alg];
  if (!alg.startsWith('ec-')) return new Uint8Array(n).fill(0x5a);
  // SEQUENCE { INTEGER r, INTEGER s }: positive integers of the curve's size (0x5a needs no leading zero).
  const int = [0x02, n, ...new Array<number>(n).fill(0x5a)];
  const body = [...int, ...int];
  return Uint8Array.from([0x30, ...(body.length > 127 ? [0x81, body.length] : [body.length]), ...body]);
}

/** What the after-signing lint is compared with: the document linted before, under which policy. */
const linted = new WeakMap<LintReport, { der: Uint8Array; policy: LintPolicy }>();

/**
 * Lint what the CA key is about to sign: the prepared TBS, byte for byte, with static signature
 * values (both for Catalyst, so the alternative signature is in place). When external linters
 * are asked for, the copy is signed by throwaway keys of the CA's algorithms instead: they are
 * other projects' code and may read the signature.
 */
export async function lintBeforeSigning(doc: PreparedDocument, keyAlgorithm: KeyAlgorithm, altKeyAlgorithm: KeyAlgorithm | undefined, policy: LintPolicy): Promise<LintReport> {
  let der: Uint8Array;
  if (policy.external) {
    der = await signPrepared(doc, throwawaySigner(throwawayAlgorithm(keyAlgorithm)), altKeyAlgorithm ? throwawaySigner(throwawayAlgorithm(altKeyAlgorithm)) : undefined);
  } else {
    if (doc.altSignatureAlgorithm && !altKeyAlgorithm) throw new QpkiError('INTERNAL', 'A Catalyst document needs its alternative key algorithm to be linted.');
    const tbs = doc.altSignatureAlgorithm ? withAltSignatureValue(doc, placeholderSignature(altKeyAlgorithm!)) : doc.tbs;
    der = assembleSignedDocument(tbs, doc.sigAlgDer, placeholderSignature(keyAlgorithm));
  }
  const report = lintDocument(der, doc.kind, policy);
  if (!policy.external) linted.set(report, { der, policy });
  return report;
}

/**
 * Lint a document the CA key has signed. Our lints read a document's TBS, its outer algorithm and
 * the signature's unused-bits byte; the signature value only to tell whether a self-issued
 * certificate is self-signed. So when the signed document has the same TBS, algorithm and
 * unused-bits byte as the one linted before (`before`, under the same policy) and is not
 * self-issued, its findings are those already found, and `before` is returned. Otherwise (a
 * Catalyst document, whose TBS now holds the real altSignatureValue; a self-signed root; an
 * external lint) the signed document is linted again. test/lint/signature-independence.test.ts
 * checks the first sentence on every lint.
 */
export function lintAfterSigning(der: Uint8Array, kind: PreparedKind, policy: LintPolicy, before?: LintReport): LintReport {
  const was = before && linted.get(before);
  if (was && !policy.external && samePolicy(was.policy, policy) && sameButSignature(was.der, der, kind)) return before;
  return lintDocument(der, kind, policy);
}

function samePolicy(a: LintPolicy, b: LintPolicy): boolean {
  if (a.pki !== b.pki || !!a.root !== !!b.root || !!a.issuerDer !== !!b.issuerDer) return false;
  if (a.issuerDer && b.issuerDer && !bytesEqual(a.issuerDer, b.issuerDer)) return false;
  return a.accepted.length === b.accepted.length && a.accepted.every((x, i) => x.lint === b.accepted[i].lint && x.reason === b.accepted[i].reason);
}

/** Same TBS, outer algorithm and unused-bits byte, and (a certificate) not self-issued: issuer and subject differ as model.ts compares them, byte for byte. */
function sameButSignature(a: Uint8Array, b: Uint8Array, kind: PreparedKind): boolean {
  try {
    const pa = children(a, whole(a));
    const pb = children(b, whole(b));
    if (pa.length !== 3 || pb.length !== 3) return false;
    if (!bytesEqual(slice(a, pa[0]), slice(b, pb[0])) || !bytesEqual(slice(a, pa[1]), slice(b, pb[1]))) return false;
    if (pa[2].tag !== 0x03 || pb[2].tag !== 0x03 || a[pa[2].contentStart] !== b[pb[2].contentStart]) return false;
    if (kind === 'crl') return true;
    const f = children(b, pb[0]);
    const sig = f[0]?.tag === 0xa0 ? 2 : 1;
    const issuer = f[sig + 1];
    const subject = f[sig + 3];
    return !!issuer && !!subject && !bytesEqual(slice(b, issuer), slice(b, subject));
  } catch {
    return false;
  }
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
