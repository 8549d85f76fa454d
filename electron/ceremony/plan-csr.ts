/**
 * A ceremony plan's `csr` step in the app: a certificate request for an external parent, made with
 * a key an earlier key step of the plan made in the open token. Main builds the exact
 * CertificationRequestInfo (subject from the profile and variables, the token key's public key)
 * with the command line's own builder, shows it decoded with the SHA-256 of its DER, and signs
 * exactly those bytes after main's confirmation; the signed request is parsed and verified, and
 * its info compared with the reviewed bytes, before it is written, never over another file.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { QpkiError } from '../core/errors';
import { nameString, prepareSubject } from '../core/ca/authority';
import { sha256Hex } from '../core/ca';
import { writeFileAtomic } from '../core/ca/fsx';
import { defaultSignatureAlgorithm, type SignatureAlgorithm } from '../core/keys/algorithms';
import { signatureAlgorithmIdentifierObject } from '../core/keys/verify';
import type { Profile } from '../core/profiles';
import { csrRequestInfo, parseAndVerifyCsr, signCsrInfo } from '../core/x509/csr';
import { assembleSigned } from '../core/x509/certificate';
import { describeDocument } from '../core/x509/describe';
import { toPem } from '../core/x509/pem';
import { groupHex } from '../core/journal/format';
import type { Output, SigningRequestT } from '../../shared/contract';
import type { Confirmation } from './confirmation';
import type { AppState } from './state';
import { view } from './ca-views';

/** The key of the plan's key step, as PlanSession remembers it. */
export interface PlanKey {
  label: string;
  id: string;
  /** SHA-256 of its public key when it was made (hex), or null where the token did not say. */
  fingerprint: string | null;
  /** The plan's key step that made it. */
  step: string;
}

/** A request for an external parent, prepared and held under its id until it is signed. */
export interface PendingCsr {
  id: string;
  view: SigningRequestT;
  kind: 'csr';
  /** The CertificationRequestInfo DER the token signs, exactly as reviewed. */
  info: Uint8Array;
  signatureAlgorithm: SignatureAlgorithm;
  key: { label: string; id: string };
  spki: Uint8Array;
  tokenSerial: string;
  /** Where the request is written (the step's out under the ceremony's output folder) and the plan's words for it. */
  path: string;
  out: string;
  stepId: string;
  subject: string;
}

/** No lint gate reads a request: the parent CA lints the certificate it makes. */
const NO_LINT: SigningRequestT['lint'] = { pki: 'private', kind: 'csr', findings: [], accepted: [], blocking: [], zlint: null, pkilint: null };

/**
 * The request for plan step `stepId`: the plan's (or, after a 'changed' deviation, the asked)
 * profile and variables, the key of the plan's key step found again in the logged-in token.
 */
export function prepareCsr(state: AppState, opts: { stepId: string; profile: Profile; vars: Record<string, unknown>; key: PlanKey; path: string; out: string }): PendingCsr {
  const { profile, key } = opts;
  if (!profile.isCa) throw new QpkiError('PROFILE_INVALID', `Profile ${profile.name} is not a CA profile: a request for an external parent is for a CA. Nothing was prepared.`);
  if (profile.altAlgorithm) throw new QpkiError('PROFILE_INVALID', `Profile ${profile.name} is a Catalyst hybrid; a request for an external parent carries one key only. Nothing was prepared.`);
  if (existsSync(opts.path)) throw new QpkiError('OUTPUT_EXISTS', `${opts.path} already exists; it is never overwritten. Nothing was prepared.`);
  const session = state.requireLogin();
  const info = session.findKey({ label: key.label, id: key.id });
  if (key.fingerprint && info.publicKeyFingerprint && info.publicKeyFingerprint !== key.fingerprint) {
    throw new QpkiError('KEY_CHECK_FAILED', `The key “${key.label}” in the token is not the one step ${key.step} made (its public key differs). Nothing was prepared.`);
  }
  if (info.keyAlgorithm !== profile.algorithm) {
    throw new QpkiError('KEY_INVALID', `Profile ${profile.name} is for ${profile.algorithm} keys, but “${info.label}” is ${info.keyAlgorithm}. Nothing was prepared.`);
  }
  // The subject as `qpki ceremony run` resolves it, and the CertificationRequestInfo from the same builder.
  const { subject, values } = prepareSubject(profile, opts.vars);
  const spki = new Uint8Array(info.spki);
  const der = csrRequestInfo({ subject, spki });
  const signatureAlgorithm = defaultSignatureAlgorithm(info.keyAlgorithm);
  const words = nameString(subject);
  const id = `request-${randomBytes(16).toString('hex')}`;
  const v = csrView(id, der, signatureAlgorithm, {
    subject: words, commonName: String(values.cn ?? ''), target: opts.path,
    signedBy: `key “${info.label}” (id ${info.id}) in token “${session.token.label}” (serial ${session.token.serial}), made by step ${key.step} of the plan`,
  });
  state.ceremony.record('signing.prepared', { requestId: id, purpose: 'csr', planStep: opts.stepId, profile: profile.name, subject: words, tbsSha256: sha256Hex(der), publicKeySha256Fingerprint: sha256Hex(spki), out: opts.out, path: opts.path });
  return { id, view: v, kind: 'csr', info: der, signatureAlgorithm, key: { label: info.label, id: info.id }, spki, tokenSerial: session.token.serial, path: opts.path, out: opts.out, stepId: opts.stepId, subject: words };
}

/** The review: decoded from the exact CertificationRequestInfo bytes (with an empty signature, listed as none). */
function csrView(id: string, info: Uint8Array, alg: SignatureAlgorithm, w: { subject: string; commonName: string; target: string; signedBy: string }): SigningRequestT {
  const unsigned = assembleSigned(info, new Uint8Array(AsnConvert.serialize(signatureAlgorithmIdentifierObject(alg))), new Uint8Array(0));
  const d = describeDocument(unsigned);
  return {
    id, kind: 'csr', purpose: 'csr',
    document: { ...view({ ...d, signatures: [] }), signatures: [], title: `Certificate request to sign: ${w.subject}` },
    tbsSha256: groupHex(sha256Hex(info)),
    subject: w.subject, issuer: '', isCa: null, pathLen: null, serial: null, notBefore: '', notAfter: '', validityDays: 0,
    keyAlgorithm: d.publicKey?.algorithm ?? null,
    keyFingerprint: d.publicKey ? groupHex(d.publicKey.sha256) : null,
    signatureAlgorithm: alg, altSignatureAlgorithm: null, addedAtSigning: null,
    signedBy: w.signedBy, targetDir: w.target, keys: [], commonName: w.commonName, csr: null, crl: null,
    secrets: { passphrase: null, altPassphrase: null },
    warnings: ['A certificate request for an external parent: it carries the subject and the public key only. The parent CA decides the certificate’s extensions, validity and serial.'],
    lint: NO_LINT,
  };
}

/** What main's own dialog asks before the token signs the request. */
export function csrConfirmation(r: SigningRequestT): Confirmation {
  return {
    kind: 'sign',
    title: `Sign the certificate request for “${r.subject ?? ''}”?`,
    facts: [
      { label: 'Subject', value: r.subject ?? '' },
      { label: 'Subject key', value: `${r.keyAlgorithm ?? ''}, SHA-256 ${r.keyFingerprint ?? ''}` },
      { label: 'Signed by', value: r.signedBy },
      { label: 'Signature', value: r.signatureAlgorithm },
      { label: 'To-be-signed SHA-256', value: r.tbsSha256 },
      { label: 'Written to', value: r.targetDir },
    ],
    action: 'Sign',
  };
}

/** The request is still bound to what was reviewed: the same token, the same public key. */
export function assertCsrStillBound(state: AppState, r: PendingCsr): void {
  const s = state.requireLogin();
  if (s.token.serial !== r.tokenSerial) throw new QpkiError('SIGNING_REQUEST_UNKNOWN', 'The token changed since the review; prepare the review again.');
  const now = s.findKey({ label: r.key.label, id: r.key.id });
  if (!Buffer.from(now.spki).equals(Buffer.from(r.spki))) throw new QpkiError('KEY_CHECK_FAILED', `The public key of “${r.key.label}” in the token is not the one reviewed; nothing was signed.`);
}

/** Sign the reviewed bytes with the token key, verify, write (never over a file), journal. */
export async function executeCsr(state: AppState, r: PendingCsr): Promise<Extract<Output<'sign'>, { kind: 'csr' }>> {
  const s = state.requireLogin();
  const der = await signCsrInfo(r.info, s.signer(s.findKey({ label: r.key.label, id: r.key.id })), r.signatureAlgorithm);
  // Parsed and verified with the key it carries, and compared with what was reviewed, before anything is written.
  const parsed = parseAndVerifyCsr(der);
  if (!Buffer.from(parsed.info).equals(Buffer.from(r.info)) || !Buffer.from(parsed.spki).equals(Buffer.from(r.spki))) {
    throw new QpkiError('SIGNATURE_INVALID', 'The signed request is not the one reviewed; nothing was written.');
  }
  const pem = toPem(der, 'CERTIFICATE REQUEST');
  mkdirSync(dirname(r.path), { recursive: true });
  writeFileAtomic(r.path, pem, { createOnly: true });
  // The facts `qpki ceremony run` journals for the same step.
  state.ceremony.record('csr.created', { step: r.stepId, subject: r.subject, key: { token: s.token.label, label: r.key.label, id: r.key.id }, csrSha256: sha256Hex(der), out: r.out });
  return { kind: 'csr', csr: view(describeDocument(pem)), savedTo: r.path, sha256: groupHex(sha256Hex(der)), fileSha256: groupHex(sha256Hex(new TextEncoder().encode(pem))) };
}
