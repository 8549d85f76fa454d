/**
 * The lint engine: named checks of a certificate or CRL against RFC 5280, the CA/Browser Forum
 * Baseline Requirements, the key specifications (RFC 5480/8813, 3279, 8410, 9881) and the
 * Catalyst extensions. The signing flow (gate.ts) lints the exact TBS before the token signs it,
 * with a static signature value or a throwaway key's, and the real document after; an error blocks unless the profile accepts that
 * lint by name with a written reason (blockingFindings).
 */
import { QpkiError } from '../errors';
import { keyFamily, signatureFitsKey, type KeyAlgorithm } from '../keys/algorithms';
import type { Signer } from '../keys/signer';
import { signatureAlgorithmFromIdentifier, verifySignature } from '../keys/verify';
import { assembleSigned } from '../x509/certificate';
import { bytesEqual, children, slice, whole } from '../x509/der';
import { OIDS, parseCertificateModel, parseCrlModel, type CertificateModel } from '../x509/model';
import { BR_LINTS } from './br';
import { CRL_LINTS } from './crl';
import { keyFacts } from './helpers';
import { CATALYST_CRL_LINTS, KEY_LINTS } from './keys';
import { RFC5280_LINTS } from './rfc5280';
import type { CertificateKind, CertificateLint, CrlLint, DocumentKind, LintContext, LintFinding, LintResult, LintStatus, PkiKind } from './types';

/** keys/software for a throwaway key, made only when external linters are to read a signed copy. */
const softwareKeys = () => require('../keys/software') as typeof import('../keys/software');

export type * from './types';
export { BR_SUBSCRIBER_VALIDITY, brSubscriberValidityAt } from './br';
export { BR_CRL_REASONS } from './crl';

export const CERTIFICATE_LINTS: readonly CertificateLint[] = [...RFC5280_LINTS, ...KEY_LINTS, ...BR_LINTS];
export const CRL_LINT_LIST: readonly CrlLint[] = [...CRL_LINTS, ...CATALYST_CRL_LINTS];

/** Every lint name this engine has, certificate and CRL. */
export const LINT_NAMES: ReadonlySet<string> = new Set([...CERTIFICATE_LINTS, ...CRL_LINT_LIST].map((l) => l.name));

/**
 * The kind a certificate is, read from it: a CA (basicConstraints cA) that is self-issued is a
 * root, any other CA a subordinate CA; an end-entity certificate whose extKeyUsage allows
 * serverAuth (or anyExtendedKeyUsage) is a TLS subscriber, any other an end entity of another kind.
 */
export function certificateKindOf(c: CertificateModel): CertificateKind {
  // A self-issued CA whose signature is not its own key's is an intermediate (a key rollover).
  if (c.basicConstraints?.ca) return c.selfIssued && selfSignatureVerifies(c) !== false ? 'root' : 'subordinate-ca';
  const eku = c.extKeyUsage;
  return eku && (eku.includes(OIDS.serverAuth) || eku.includes(OIDS.anyEku)) ? 'tls-subscriber' : 'other-subscriber';
}

/** Whether the certificate's signature verifies with its own key; undefined when the algorithm or key is one we cannot check. */
export function selfSignatureVerifies(c: CertificateModel): boolean | undefined {
  try {
    return verifySignature(c.spki, signatureAlgorithmFromIdentifier(c.signatureAlgorithm), c.tbsDer, c.signature);
  } catch {
    return undefined;
  }
}

/**
 * The issuer's certificate as read for the last lint run: a CA lints every certificate it issues
 * against its own certificate, which was parsed again for each of them. Kept with a copy of its
 * bytes, so only the same certificate gets it back. Lints only read a model.
 */
let lastIssuer: { der: Uint8Array; model: CertificateModel } | undefined;

function issuerModel(ctx: LintContext | undefined): CertificateModel | undefined {
  if (!ctx?.issuer) return undefined;
  if (lastIssuer && bytesEqual(lastIssuer.der, ctx.issuer)) return lastIssuer.model;
  const model = parseCertificateModel(ctx.issuer);
  lastIssuer = { der: Uint8Array.from(ctx.issuer), model };
  return model;
}

function asMessages(out: unknown): string[] {
  if (!out) return [];
  if (Array.isArray(out)) return out.filter((m): m is string => typeof m === 'string' && m.length > 0);
  return typeof out === 'string' ? [out] : [];
}

type AnyLint<C, F> = { name: string; severity: LintResult['severity']; source: string; zlint?: string | string[]; check: (c: C, facts: F) => unknown };

/** What one applicable lint says: its messages, none when it passes. */
function messagesOf<C, F>(l: AnyLint<C, F>, c: C, facts: F): string[] {
  try {
    return asMessages(l.check(c, facts));
  } catch (e) {
    // A lint that cannot read what it checks reports that, rather than passing silently.
    return [`the lint could not read the document: ${e instanceof Error ? e.message : String(e)}`];
  }
}

function result<C, F>(l: AnyLint<C, F>, applies: boolean, c: C, facts: F): LintResult {
  const messages = applies ? messagesOf(l, c, facts) : [];
  const status: LintStatus = !applies ? 'not-applicable' : messages.length ? 'fail' : 'pass';
  // Two fixed literals, not spreads: a full report builds one of these for each of 136 lints, and
  // spreading a conditional object into each was measured slow when the gate still went this way
  // (it now collects failures only: lintCertificate).
  return l.zlint
    ? { lint: l.name, severity: l.severity, source: l.source, zlint: typeof l.zlint === 'string' ? [l.zlint] : l.zlint, status, messages }
    : { lint: l.name, severity: l.severity, source: l.source, status, messages };
}

/**
 * Every certificate lint's verdict: pass, fail (with its messages) or not-applicable to this kind / PKI.
 * `parsed` is `der` as parseCertificateModel read it, for a caller that has read it already.
 */
export function runCertificateLints(der: Uint8Array, ctx: LintContext = {}, parsed?: CertificateModel): { kind: CertificateKind; results: LintResult[] } {
  const { c, kind, pki, facts } = certificateLintInput(der, ctx, parsed);
  const results = CERTIFICATE_LINTS.map((l) => result(l, l.kinds.includes(kind) && applies(l, pki), c, facts));
  return { kind, results };
}

function certificateLintInput(der: Uint8Array, ctx: LintContext, parsed?: CertificateModel) {
  const c = parsed ?? parseCertificateModel(der);
  if (ctx.kind === 'crl') throw new QpkiError('INPUT_INVALID', 'A certificate cannot be linted as a CRL.');
  const kind = ctx.kind ?? certificateKindOf(c);
  const pki: PkiKind = ctx.pki ?? 'public-tls';
  const facts = { kind, pki, key: keyFacts(c), issuer: issuerModel(ctx), selfSigned: c.selfIssued ? selfSignatureVerifies(c) : false };
  return { c, kind, pki, facts };
}

/** Every CRL lint's verdict. */
export function runCrlLints(der: Uint8Array, ctx: LintContext = {}): { kind: 'crl'; results: LintResult[] } {
  const c = parseCrlModel(der);
  const pki: PkiKind = ctx.pki ?? 'public-tls';
  const issuer = issuerModel(ctx);
  // A root's CRL lists the CAs under it; any other CA's CRL lists its subscribers.
  const scope = ctx.crlScope ?? (issuer && issuer.selfIssued && issuer.basicConstraints?.ca ? 'cas' : 'subscribers');
  const facts = { pki, scope, issuer } as const;
  return { kind: 'crl', results: CRL_LINT_LIST.map((l) => result(l, applies(l, pki), c, facts)) };
}

function applies(l: CertificateLint | CrlLint, pki: PkiKind): boolean {
  return pki === 'public-tls' ? !l.privateOnly : !l.publicTlsOnly;
}

function findingsOf(results: LintResult[]): LintFinding[] {
  return results
    .filter((r) => r.status === 'fail')
    .map((r) => ({ lint: r.lint, severity: r.severity, source: r.source, message: r.messages.join('; ') }));
}

/** The findings of every lint that fails on a DER certificate. */
export function lintCertificate(der: Uint8Array, ctx: LintContext = {}, parsed?: CertificateModel): LintFinding[] {
  // The same lints, inputs and messages as runCertificateLints, keeping only the failures: the
  // gate runs this for every issuance, and a result object for each of 136 lints was about a
  // seventh of what an in-process issuance allocated (test/lint/findings-agree.test.ts checks
  // the two agree).
  const { c, kind, pki, facts } = certificateLintInput(der, ctx, parsed);
  const findings: LintFinding[] = [];
  for (const l of CERTIFICATE_LINTS) {
    if (!l.kinds.includes(kind) || !applies(l, pki)) continue;
    const messages = messagesOf(l, c, facts);
    if (messages.length) findings.push({ lint: l.name, severity: l.severity, source: l.source, message: messages.join('; ') });
  }
  return findings;
}

/** The findings of every lint that fails on a DER CRL. */
export function lintCrl(der: Uint8Array, ctx?: LintContext): LintFinding[] {
  return findingsOf(runCrlLints(der, ctx).results);
}

/** A lint the profile (or plan) accepts, with the reason the review and the journal show. */
export interface AcceptedLint {
  lint: string;
  reason: string;
}

/**
 * The findings that block signing: every error not accepted by name with a non-empty reason.
 * Warnings and notices never block; they are shown and journaled.
 */
export function blockingFindings(findings: readonly LintFinding[], accepted: readonly AcceptedLint[] = []): LintFinding[] {
  const ok = new Set(accepted.filter((a) => a.reason.trim().length > 0).map((a) => a.lint));
  return findings.filter((f) => f.severity === 'error' && !ok.has(f.lint));
}

/** Throwaway keys, one per algorithm for the process: they sign lint copies only, never anything kept. */
const throwaway = new Map<KeyAlgorithm, Signer>();

export function throwawaySigner(alg: KeyAlgorithm): Signer {
  let s = throwaway.get(alg);
  if (!s) {
    const { pkcs8 } = softwareKeys().generateSoftwareKey(alg);
    s = softwareKeys().signerFromPkcs8(pkcs8, { type: 'software', path: '(throwaway lint key)', encrypted: false });
    throwaway.set(alg, s);
  }
  return s;
}

/** The `signature` AlgorithmIdentifier inside a TBSCertificate or TBSCertList. */
function tbsSignatureField(tbs: Uint8Array, kind: DocumentKind): Uint8Array {
  const f = children(tbs, whole(tbs));
  const i = kind === 'crl' ? (f[0]?.tag === 0x02 ? 1 : 0) : f[0]?.tag === 0xa0 ? 2 : 1;
  if (f[i]?.tag !== 0x30) throw new QpkiError('INPUT_INVALID', 'The TBS has no signature algorithm field.');
  return slice(tbs, f[i]);
}

/**
 * Signs the exact TBSCertificate or TBSCertList with a throwaway software key of the issuer's
 * algorithm and lints the result, so what the token is about to sign is linted before it signs.
 * The signature algorithm is the one the TBS names. `der` is the throwaway-signed document, to
 * hand to an external linter (runExternalLinters).
 */
export async function lintTbsWithThrowawayKey(
  tbsDer: Uint8Array,
  kind: DocumentKind,
  keyAlgorithm: KeyAlgorithm,
  ctx: Omit<LintContext, 'kind'> = {},
): Promise<{ der: Uint8Array; findings: LintFinding[] }> {
  const sigAlgDer = tbsSignatureField(tbsDer, kind);
  const sigAlg = signatureAlgorithmFromIdentifier(sigAlgDer);
  if (!signatureFitsKey(sigAlg, keyAlgorithm))
    throw new QpkiError('INPUT_INVALID', `The TBS is to be signed with ${sigAlg}, which a ${keyAlgorithm} key (${keyFamily(keyAlgorithm)}) cannot make.`);
  const signature = await throwawaySigner(keyAlgorithm).sign(sigAlg, tbsDer);
  const der = assembleSigned(tbsDer, sigAlgDer, signature);
  const findings = kind === 'crl' ? lintCrl(der, ctx) : lintCertificate(der, { ...ctx, kind });
  return { der, findings };
}
