/**
 * Signing requests: main builds the exact to-be-signed structure once (the real subject key, the
 * real serial, fixed dates, every extension), keeps it under an id the renderer cannot forge, and
 * shows it decoded in full with the SHA-256 of its DER. Signing takes the id only, asks the
 * operator in main's own confirmation, signs exactly those bytes, and checks the signed document
 * against them and the key(s) before anything is written. A renderer that lies can at worst show
 * wrong words: what is signed is what main prepared, where main's own dialog said.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, type Name } from '@peculiar/asn1-x509';
import { pemOrDer } from '../core/x509/pem';
import { join } from 'node:path';
import { QpkiError, toErrorPayload } from '../core/errors';
import type { Profile } from '../core/profiles';
import { lintFacts, type LintReport } from '../core/lint/gate';
import { CaDirectory, completeNewCa, type CertificateAuthority, describeCaDir, draftDocument, prepareNewCa, sha256Hex, type NewAltCaKey, type NewCaDraft, type NewCaKey, type PreparedCertificate, type PreparedCrl } from '../core/ca/authority';
import { keyAlgorithmOfSpki } from '../core/keys/verify';
import { parseAndVerifyCsr, type ParsedCsr } from '../core/x509/csr';
import { describeDocument, type Described } from '../core/x509/describe';
import { groupHex } from '../core/journal/format';
import { assembleSignedDocument, type PreparedDocument } from '../core/x509/tbs';
import { OID_SUBJECT_ALT_PUBLIC_KEY_INFO } from '../core/x509/catalyst';
import type { KeyAlgorithm } from '../core/keys/algorithms';
import { isMlDsa } from '../core/keys/mldsa';
import { CKM_ML_DSA } from '../core/pkcs11/constants';
import type { KeyStorageRef } from '../core/keys/signer';
import type { AppState, KeyChoice } from './state';
import type { CaKeyViewT, Output, SigningRequestT } from '../../shared/contract';
import { keyView, open, unlock, verification, view } from './ca-views';
import type { Confirm, Confirmation } from './confirmation';
import { csrDifferences, csrFacts } from './csr';
import { currentCrl } from './revocation';
import { assertCsrStillBound, csrConfirmation, executeCsr, type PendingCsr } from './plan-csr';
import { assertCaCrlDays, MAX_CA_CRL_DAYS } from '../core/x509/crlValidity';

/** CA/Browser Forum BR 7.2: a CA's CRL is valid for at most twelve months (the one limit, core's). */
export const MAX_CRL_DAYS = MAX_CA_CRL_DAYS;
import { casBackedBy, rememberCa } from './known-cas';

/** New key files made in the app are always encrypted, with at least this many characters. */
export const MIN_PASSPHRASE = 12;

interface Common {
  id: string;
  view: SigningRequestT;
}

export type PendingSigning =
  /** A new CA: self-signed (a root), or a subordinate whose key is in this token, certified by `parent`, a CA of this ceremony. */
  | (Common & { kind: 'root'; draft: NewCaDraft; key: KeyChoice; tokenSerial: string | null; parent?: CertificateAuthority })
  | (Common & { kind: 'issue'; caDir: string; prepared: PreparedCertificate })
  | (Common & { kind: 'crl'; caDir: string; prepared: PreparedCrl })
  /** A plan's certificate request for an external parent, signed by a key of the plan in this token (plan-csr.ts). */
  | PendingCsr;

/**
 * Dates a ceremony plan fixes for a certificate (main reads them from the checked plan, never
 * from the renderer): notBefore, and the validity in whole days that gives the plan's notAfter.
 */
export interface FixedDates {
  notBefore: Date;
  validityDays?: number;
  /** Where they come from, for the review and the record ("fixed by step 2 of 3 (…)"). */
  why: string;
}

/** The profile with the plan's validity in place of its own, so notAfter is the plan's. */
function datedProfile(profile: Profile, dates: FixedDates | undefined): Profile {
  return dates?.validityDays ? { ...profile, validityDays: dates.validityDays } : profile;
}

/** The review says the dates are not today's clock but the plan's, and why. */
function datesNotice(dates: FixedDates | undefined, notBefore: Date, notAfter: Date): string[] {
  return dates ? [`The dates are the ceremony plan's, not this computer's clock: valid from ${notBefore.toISOString()} to ${notAfter.toISOString()}, ${dates.why}.`] : [];
}

/** The record of a request says where its dates came from. */
function datesRecord(dates: FixedDates | undefined, notBefore: Date, notAfter: Date): Record<string, unknown> {
  return dates ? { datesFromPlan: { notBefore: notBefore.toISOString(), notAfter: notAfter.toISOString() } } : {};
}

export interface SigningContext {
  state: AppState;
  confirm: Confirm;
}

function newRequestId(): string {
  return `request-${randomBytes(16).toString('hex')}`;
}

const DAY_MS = 86_400_000;

/** The prepared TBS decoded in full, as a document with no signature yet. */
function describePrepared(p: PreparedDocument): Described {
  return describeDocument(assembleSignedDocument(p.tbs, p.sigAlgDer, new Uint8Array(0)));
}

function basicConstraintsOf(d: Described): { isCa: boolean | null; pathLen: number | null } {
  const bc = d.extensions.find((e) => e.oid === '2.5.29.19');
  if (!bc) return { isCa: false, pathLen: null };
  const text = bc.value.join(' ');
  const isCa = /\bCA:\s*TRUE\b|\bCA\b(?!:\s*FALSE)/i.test(text) && !/CA:\s*FALSE/i.test(text);
  const m = /path\s*len(?:gth)?(?:\s*constraint)?\s*[:=]?\s*(\d+)/i.exec(text);
  return { isCa, pathLen: m ? Number(m[1]) : null };
}

function baseView(
  id: string, purpose: SigningRequestT['purpose'], p: PreparedDocument, d: Described,
  rest: Pick<SigningRequestT, 'signedBy' | 'targetDir' | 'keys' | 'commonName' | 'csr' | 'crl' | 'warnings' | 'serial' | 'secrets'> & { validityDays: number; lint: LintReport },
): SigningRequestT {
  // The bytes to be signed carry no signature yet: the review lists none (an empty one would read INVALID).
  const v = view({ ...d, signatures: [] });
  const bc = p.kind === 'certificate' ? basicConstraintsOf(d) : { isCa: null, pathLen: null };
  return {
    id, kind: p.kind, purpose,
    document: { ...v, signatures: [], title: p.kind === 'crl' ? `CRL to sign for ${d.issuer ?? ''}` : `Certificate to sign: ${d.subject ?? ''}` },
    tbsSha256: groupHex(sha256Hex(p.tbs)),
    subject: d.subject ?? null,
    issuer: d.issuer ?? '',
    isCa: bc.isCa,
    pathLen: bc.pathLen,
    notBefore: d.notBefore ?? d.thisUpdate ?? '',
    notAfter: d.notAfter ?? d.nextUpdate ?? '',
    keyAlgorithm: d.publicKey?.algorithm ?? null,
    keyFingerprint: d.publicKey ? groupHex(d.publicKey.sha256) : null,
    signatureAlgorithm: p.signatureAlgorithm,
    altSignatureAlgorithm: p.altSignatureAlgorithm ?? null,
    addedAtSigning: p.altSignatureAlgorithm
      ? `The ${p.altSignatureAlgorithm} alternative signature (Catalyst altSignatureValue, 2.5.29.74): made by the CA's alternative key over this structure without its signature field, and added as the last extension; nothing else changes.`
      : null,
    ...rest,
    lint: lintView(rest.lint),
  };
}

function lintView(r: LintReport): SigningRequestT['lint'] {
  return { pki: r.pki, kind: r.kind, findings: r.findings, accepted: r.accepted, blocking: r.blocking, zlint: r.external.zlint, pkilint: r.external.pkilint };
}

/** The lint gate's facts for the ceremony record at preparation: what was found and what the profile accepts. */
function lintRecord(r: LintReport): Record<string, unknown> {
  return { lint: { ...lintFacts(r), blocking: r.blocking.map((f) => f.lint), zlint: r.external.zlint?.map((f) => `${f.severity}:${f.lint}`) ?? 'not installed', pkilint: r.external.pkilint?.map((f) => `${f.severity}:${f.lint}`) ?? 'not installed' } };
}

/** What main's own dialog asks before the token signs: the facts an auditor would read out. */
export function signConfirmation(r: SigningRequestT): Confirmation {
  if (r.kind === 'csr') return csrConfirmation(r);
  const what = r.purpose === 'root' ? 'the root CA certificate' : r.purpose === 'subordinate-ca' ? 'a subordinate CA certificate' : r.purpose === 'end-entity' ? 'an end-entity certificate' : `CRL number ${r.crl?.number ?? ''}`;
  const facts: Confirmation['facts'] = [];
  if (r.kind === 'certificate') {
    facts.push({ label: 'Subject', value: r.subject ?? '' });
    facts.push({ label: 'Issuer', value: r.issuer });
    facts.push({ label: 'Certificate authority', value: r.isCa ? `yes${r.pathLen !== null ? `, path length ${r.pathLen}` : ', no path length limit'}` : 'no (end entity)' });
    facts.push({ label: 'Serial', value: r.serial ?? '' });
    facts.push({ label: 'Valid', value: `${r.notBefore} to ${r.notAfter} (${r.validityDays} days)` });
    facts.push({ label: 'Subject key', value: `${r.keyAlgorithm ?? ''}, SHA-256 ${r.keyFingerprint ?? ''}` });
  } else {
    facts.push({ label: 'Issuer', value: r.issuer });
    facts.push({ label: 'CRL number', value: r.crl?.number ?? '' });
    const old = r.crl?.replaces;
    facts.push({ label: 'Replaces', value: old ? `CRL number ${old.number} of ${old.thisUpdate} (crl/ca.crl is overwritten)` : 'nothing: this is the CA’s first CRL' });
    facts.push({ label: 'Revoked certificates', value: r.crl?.revoked.length ? r.crl.revoked.map((x) => x.serial).join(', ') : 'none' });
    facts.push({ label: 'This update / next update', value: `${r.notBefore} / ${r.notAfter}` });
  }
  facts.push({ label: 'Signed by', value: r.signedBy });
  facts.push({ label: 'Signature', value: r.altSignatureAlgorithm ? `${r.signatureAlgorithm} and ${r.altSignatureAlgorithm} (Catalyst)` : r.signatureAlgorithm });
  facts.push({ label: 'To-be-signed SHA-256', value: r.tbsSha256 });
  facts.push({ label: 'Written to', value: r.targetDir });
  for (const w of r.warnings) facts.push({ label: 'Warning', value: w });
  return { kind: 'sign', title: `Sign ${what}${r.subject && r.kind === 'certificate' ? ` for “${r.subject}”` : ''}?`, facts, action: 'Sign' };
}

/** Ask, and put the question and the answer on the record; true only on an explicit yes. */
export async function askAndRecord(ctx: SigningContext, c: Confirmation, extra: Record<string, unknown> = {}): Promise<boolean> {
  let yes = false;
  try {
    yes = (await ctx.confirm(c)) === true;
  } finally {
    ctx.state.ceremony.record('confirmation', { question: c.kind, title: c.title, facts: c.facts.map((f) => `${f.label}: ${f.value}`), answer: yes ? 'yes' : 'no', ...extra });
  }
  return yes;
}

/** Drop the request on screen, if any (a new one replaces it; going back withdraws it). */
export function withdraw(state: AppState, id?: string): boolean {
  const r = state.request;
  if (!r || (id !== undefined && r.id !== id)) return false;
  state.request = null;
  if (r.kind === 'root' && r.parent) void r.parent.close();
  return true;
}

/** A key file made in the app is written encrypted (signing refuses without a passphrase): its storage says so from the start. */
function encrypted(s: KeyStorageRef): KeyStorageRef {
  return s.type === 'software' ? { ...s, encrypted: true } : s;
}

function keyStorageWords(state: AppState, k: KeyChoice): string {
  if (k.kind === 'software') return 'a new software key file (encrypted) in the CA directory';
  const s = state.session;
  return `key “${k.label}” (id ${k.id}) in token “${s?.token.label ?? ''}” (serial ${s?.token.serial ?? ''})`;
}

/**
 * A new self-signed CA in `dir`: its key(s) made now (a software or ML-DSA key is generated here,
 * so the review shows its real fingerprint and key identifier), its certificate's exact TBS built.
 */
export async function prepareRoot(ctx: SigningContext, planned: Profile, vars: Record<string, unknown>, dir: string, dates?: FixedDates, parentDir?: string): Promise<SigningRequestT> {
  const { state } = ctx;
  const profile = datedProfile(planned, dates);
  if (parentDir && state.key?.kind !== 'pkcs11') throw new QpkiError('KEY_NOT_FOUND', 'A subordinate CA made here has its key in the open token: choose or generate that key on the key step first.');
  if (!profile.isCa) throw new QpkiError('PROFILE_INVALID', `Profile ${profile.name} is not a CA profile.`);
  const k = state.key;
  if (!k) {
    // An ML-DSA profile chosen with a token that cannot hold the key: say that, not "choose a key".
    if (state.session?.isLoggedIn) assertTokenCanHold(state, profile);
    throw new QpkiError('KEY_NOT_FOUND', 'Choose or generate the CA key first.');
  }
  withdraw(state);
  if (k.kind === 'pkcs11') {
    assertTokenCanHold(state, profile);
    const info = state.requireLogin().findKey({ label: k.label, id: k.id });
    if (info.keyAlgorithm !== profile.algorithm) {
      throw new QpkiError('KEY_INVALID', `The profile ${profile.name} needs a ${profile.algorithm} key, but “${info.label}” is ${info.keyAlgorithm}. Choose a profile for ${info.keyAlgorithm}, or generate a ${profile.algorithm} key.`);
    }
  }
  let key: NewCaKey;
  let tokenSerial: string | null = null;
  if (k.kind === 'pkcs11') {
    const s = state.requireLogin();
    key = { kind: 'pkcs11', session: s, label: k.label, id: k.id, useExisting: true };
    tokenSerial = s.token.serial;
  } else {
    if (k.algorithm !== profile.algorithm) throw new QpkiError('KEY_INVALID', `The profile ${profile.name} needs a ${profile.algorithm} key, but ${k.algorithm} was chosen. Choose a matching profile or key algorithm.`);
    key = { kind: 'software', passphrase: null };
  }
  // The ML-DSA key of a Catalyst CA: a key chosen in the open token (PKCS#11 3.2), or else a file made now.
  const altInToken = chosenAltKey(state, profile);
  const altKey: NewAltCaKey | undefined = !profile.altAlgorithm ? undefined
    : altInToken ? { kind: 'pkcs11', session: state.altKeySession(), label: altInToken.label, id: altInToken.id, useExisting: true } : { passphrase: null };
  // The parent signs with its key in this same logged-in token; it is opened now so the review shows
  // the exact certificate it will sign (its serial, its name as issuer, its key identifier).
  const parent = parentDir ? await unlock(state, parentDir, { passphrase: null, altPassphrase: null }) : undefined;
  let draft: NewCaDraft;
  try {
    draft = await prepareNewCa({ dir, profile, vars, key, ...(altKey ? { altKey } : {}), ...(dates ? { now: dates.notBefore } : {}), ...(parent ? { parent } : {}), externalLint: true });
  } catch (e) {
    await parent?.close();
    throw e;
  }
  const keySha = sha256Hex(draft.key.signer.spki);
  await confirmKeyReuse(ctx, k, keySha, dir);
  // Keys made here are on the record as they are made; the journal does not record them twice.
  for (const e of draft.keyEvents) {
    const generatedHere = e.facts.storage && (e.facts.storage as { type?: string }).type === 'software';
    if (generatedHere) state.ceremony.record(e.kind, { ...e.facts, storage: encrypted(e.facts.storage as KeyStorageRef) });
  }
  const id = newRequestId();
  const p = draftDocument(draft);
  const d = describePrepared(p);
  const c = 'self' in draft.certificate ? draft.certificate : draft.certificate.prepared;
  const keys: CaKeyViewT[] = [keyView('primary', profile.algorithm, encrypted(draft.key.signer.storage), dir, keySha,
    k.kind === 'software' ? 'Generated for this review; written encrypted with the passphrase you give when you sign.' : undefined)];
  if (draft.altKey) {
    keys.push(keyView('alternative', draft.altKey.signer.keyAlgorithm, encrypted(draft.altKey.signer.storage), dir, sha256Hex(draft.altKey.signer.spki),
      draft.altKey.software ? 'Generated for this review; written encrypted with the ML-DSA passphrase you give when you sign.' : undefined));
  }
  const days = Math.round((c.notAfter.getTime() - c.notBefore.getTime()) / DAY_MS);
  const purpose = parent ? 'subordinate-ca' : 'root';
  const view = baseView(id, purpose, p, d, {
    signedBy: parent ? caSigner(parent) : `the new CA's own key: ${keyStorageWords(state, k)}${draft.altKey ? (altInToken ? `, and its ML-DSA key “${altInToken.label}” in ${altInToken.token}` : ', and its ML-DSA key file') : ''}`,
    targetDir: dir, keys, commonName: String(draft.rendered.cn ?? ''), csr: null, crl: null,
    warnings: [...datesNotice(dates, c.notBefore, c.notAfter), ...(parent ? [`The new CA's key is ${keyStorageWords(state, k)}; its certificate is signed by ${parent.subjectString} (${parent.dir}).`] : [])],
    serial: c.serial, validityDays: days,
    secrets: { passphrase: k.kind === 'software' ? 'new' : null, altPassphrase: draft.altKey?.software ? 'new' : null },
    lint: draft.lint,
  });
  state.ceremony.record('signing.prepared', { requestId: id, purpose, profile: profile.name, subject: view.subject, tbsSha256: sha256Hex(p.tbs), targetDir: dir, ...(parent ? { issuerDir: parent.dir, serial: c.serial } : {}), ...datesRecord(dates, c.notBefore, c.notAfter), ...lintRecord(draft.lint) });
  state.request = { id, view, kind: 'root', draft, key: k, tokenSerial, ...(parent ? { parent } : {}) };
  return view;
}

/** A key that already backs another CA becomes a new CA's key only when the operator confirms it (the question and answer are recorded). */
async function confirmKeyReuse(ctx: SigningContext, k: KeyChoice, keySha: string, dir: string): Promise<void> {
  const backs = casBackedBy(ctx.state.options.dataDir, keySha, dir);
  if (backs.length) {
    const yes = await askAndRecord(ctx, {
      kind: 'reuse-key',
      title: 'This key already backs another CA. Make it the key of a new CA too?',
      facts: [
        { label: 'Key', value: keyStorageWords(ctx.state, k) },
        { label: 'Key SHA-256', value: groupHex(keySha) },
        ...backs.map((b) => ({ label: 'Already the key of', value: `${b.subject} (${b.dir})` })),
        { label: 'New CA directory', value: dir },
      ],
      action: 'Use this key',
    }, { publicKeySha256Fingerprint: keySha });
    if (!yes) throw new QpkiError('NOT_CONFIRMED', 'The key already backs another CA and the operator did not confirm its reuse; nothing was signed.');
  }
}

/**
 * The Catalyst alternative (ML-DSA) key chosen in the open token, checked against the profile;
 * undefined when the ML-DSA key is to be a file made for the review (the default).
 */
function chosenAltKey(state: AppState, profile: Profile): { label: string; id: string; token: string } | undefined {
  const a = state.altKey;
  if (!a) return undefined;
  if (!profile.altAlgorithm) {
    throw new QpkiError('PROFILE_INVALID', `An ML-DSA key was chosen in the token as a Catalyst alternative key, but profile ${profile.name} has one key only. Choose a hybrid/catalyst profile, or go back to the key step.`);
  }
  const s = state.altKeySession();
  const info = s.findKey({ label: a.label, id: a.id });
  if (info.keyAlgorithm !== profile.altAlgorithm) {
    throw new QpkiError('KEY_INVALID', `The profile ${profile.name} needs an ${profile.altAlgorithm} alternative key, but “${info.label}” is ${info.keyAlgorithm}.`);
  }
  const token = state.altSession ? `a second token, “${s.token.label}” (serial ${s.token.serial})` : 'the same token';
  return { label: info.label, id: info.id, token };
}

/**
 * An ML-DSA profile needs the token to do ML-DSA (PKCS#11 3.2 CKM_ML_DSA). Where it cannot, the
 * operator is told so and offered the software keystore; nothing falls back on its own.
 */
function assertTokenCanHold(state: AppState, profile: Profile): void {
  const s = state.session;
  if (!s || !isMlDsa(profile.algorithm) || s.hasMechanism(CKM_ML_DSA)) return;
  throw new QpkiError(
    'MECHANISM_UNSUPPORTED',
    `Token “${s.token.label}” has no ML-DSA: its mechanism list has no CKM_ML_DSA, so it cannot hold the ${profile.algorithm} key profile ${profile.name} needs. Use the software keystore for the ML-DSA key (an encrypted file in the CA directory), or a hybrid/catalyst profile.`,
  );
}

/** The CA open in this ceremony, read again from its directory. */
function openCaDirectory(state: AppState): CaDirectory {
  if (!state.caDir) throw new QpkiError('CA_NOT_FOUND', 'Open the CA directory first.');
  return CaDirectory.read(state.caDir);
}

/** The existing key files signing with this CA unlocks: the classical key's, the ML-DSA key's. */
function caSecrets(ca: CaDirectory): SigningRequestT['secrets'] {
  const keys = describeCaDir(ca.dir).keys();
  const encryptedFile = (k: (typeof keys)[number] | undefined) => (k && k.storage.type === 'software' && k.storage.encrypted ? 'existing' as const : null);
  return { passphrase: encryptedFile(keys.find((k) => k.id !== 'pqc')), altPassphrase: encryptedFile(keys.find((k) => k.id === 'pqc')) };
}

function caSigner(ca: CaDirectory): string {
  const parts = describeCaDir(ca.dir).keys().map((k) => (k.storage.type === 'pkcs11'
    ? `key “${k.storage.key_label}” in token “${k.storage.token_label}” (serial ${k.storage.token_serial})`
    : `key file ${k.storage.path}`));
  return `${ca.subjectString}: ${parts.join(' and ')}`;
}

/**
 * The holder's alternative (ML-DSA) public key for a Catalyst profile: the request carries it as
 * a requested subjectAltPublicKeyInfo extension, so the request's own signature covers it.
 */
function requestedAltKey(csr: ParsedCsr, profile: Profile): Uint8Array | undefined {
  if (!profile.altAlgorithm) return undefined;
  const ext = csr.requestedExtensions.find((e) => e.extnID === OID_SUBJECT_ALT_PUBLIC_KEY_INFO);
  if (!ext) {
    throw new QpkiError('CSR_INVALID', `Profile ${profile.name} is a Catalyst hybrid: the request must carry the holder's ${profile.altAlgorithm} public key as the requested extension subjectAltPublicKeyInfo (${OID_SUBJECT_ALT_PUBLIC_KEY_INFO}).`);
  }
  const spki = new Uint8Array(ext.extnValue.buffer);
  let alg: KeyAlgorithm;
  try {
    alg = keyAlgorithmOfSpki(spki);
  } catch {
    throw new QpkiError('CSR_INVALID', 'The alternative public key in the request cannot be read.');
  }
  if (alg !== profile.altAlgorithm) throw new QpkiError('CSR_INVALID', `The request's alternative public key is ${alg}, but profile ${profile.name} needs ${profile.altAlgorithm}.`);
  return spki;
}

/** The request parsed and its own signature checked; a refusal is on the record with the request's hash. */
export function readRequest(state: AppState, csrPem: string, profile: Profile): { csr: ParsedCsr; described: Described; altSpki?: Uint8Array } {
  try {
    const csr = parseAndVerifyCsr(csrPem);
    if (csr.keyAlgorithm !== profile.algorithm && profile.isCa) {
      throw new QpkiError('KEY_INVALID', `The request carries a ${csr.keyAlgorithm} key, but profile ${profile.name} is for ${profile.algorithm} keys.`);
    }
    const altSpki = requestedAltKey(csr, profile);
    return { csr, described: describeDocument(csr.der), ...(altSpki ? { altSpki } : {}) };
  } catch (e) {
    if (e instanceof QpkiError) state.ceremony.record('csr.refused', { profile: profile.name, code: e.code, reason: e.message, pemSha256: sha256Hex(new TextEncoder().encode(csrPem)) });
    throw e;
  }
}

/**
 * A certificate the open CA would issue from a request. The end-entity flow issues end-entity
 * profiles only and the subordinate flow CA profiles only; a root signs an end entity only when
 * the operator overrides BR 6.1.7 in main's own confirmation.
 */
export async function prepareIssuance(
  ctx: SigningContext, opts: { purpose: 'subordinate-ca' | 'end-entity'; csrPem: string; profile: Profile; vars: Record<string, unknown>; rootEndEntity?: boolean; dates?: FixedDates },
): Promise<SigningRequestT> {
  const { state } = ctx;
  const { dates } = opts;
  const profile = datedProfile(opts.profile, dates);
  const ca = openCaDirectory(state);
  withdraw(state);
  state.ceremony.attach(ca.dir);
  if (opts.purpose === 'end-entity' && profile.isCa) {
    throw new QpkiError('PROFILE_INVALID', `Profile ${profile.name} makes a CA certificate; the end-entity flow issues end-entity certificates only. Issue a CA certificate as a subordinate CA.`);
  }
  if (opts.purpose === 'subordinate-ca' && !profile.isCa) {
    throw new QpkiError('PROFILE_INVALID', `Profile ${profile.name} makes an end-entity certificate, not a CA certificate; use the end-entity flow.`);
  }
  const { csr, described, altSpki } = readRequest(state, opts.csrPem, profile);
  const warnings: string[] = [];
  if (ca.isRoot && !profile.isCa) {
    if (!opts.rootEndEntity) {
      throw new QpkiError('PROFILE_INVALID', `${ca.subjectString} is a root CA: a root does not sign end-entity certificates (CA/Browser Forum BR 6.1.7); issue them from a subordinate CA. An override is possible, asked and recorded.`);
    }
    const yes = await askAndRecord(ctx, {
      kind: 'root-end-entity',
      title: 'Let the root CA sign an end-entity certificate?',
      facts: [
        { label: 'Root CA', value: ca.subjectString },
        { label: 'Requested subject', value: described.subject ?? '' },
        { label: 'Profile', value: profile.name },
        { label: 'Rule set aside', value: 'CA/Browser Forum BR 6.1.7: root CA private keys do not sign end-entity certificates' },
      ],
      action: 'Override and continue',
    });
    if (!yes) throw new QpkiError('NOT_CONFIRMED', 'The root CA does not sign an end-entity certificate without the operator’s override; nothing was prepared.');
    warnings.push('A root CA signs this end-entity certificate by the operator’s override of CA/Browser Forum BR 6.1.7 (recorded in the journal).');
  }
  const facts = csrFacts(csr, described);
  state.ceremony.record('csr.accepted', {
    profile: profile.name, subject: facts.subject, keyAlgorithm: csr.keyAlgorithm, signatureAlgorithm: csr.signatureAlgorithm,
    csrSha256: facts.sha256, publicKeySha256Fingerprint: facts.keyFingerprint,
    ...(altSpki ? { altKeyAlgorithm: keyAlgorithmOfSpki(altSpki), altPublicKeySha256Fingerprint: sha256Hex(altSpki) } : {}),
  });
  const prepared = ca.prepareCertificate({ profile, vars: opts.vars, spki: csr.spki, ...(altSpki ? { subjectAltSpki: altSpki } : {}), ...(dates ? { now: dates.notBefore } : {}), source: 'certificate request' });
  warnings.push(...datesNotice(dates, prepared.notBefore, prepared.notAfter), ...prepared.warnings);
  const lint = await ca.lintCertificate(prepared, true);
  const id = newRequestId();
  const d = describePrepared(prepared.document);
  const view = baseView(id, opts.purpose, prepared.document, d, {
    signedBy: caSigner(ca), targetDir: ca.dir, keys: [], commonName: '', crl: null, warnings, serial: prepared.serial, secrets: caSecrets(ca),
    csr: {
      subject: facts.subject, subjectAltNames: facts.subjectAltNames, keyAlgorithm: facts.keyAlgorithm, keyFingerprint: groupHex(facts.keyFingerprint),
      signatureValid: true, sha256: groupHex(facts.sha256), differences: csrDifferences(facts, described, d),
    },
    validityDays: Math.round((prepared.notAfter.getTime() - prepared.notBefore.getTime()) / DAY_MS),
    lint,
  });
  state.ceremony.record('signing.prepared', { requestId: id, purpose: opts.purpose, profile: profile.name, serial: prepared.serial, subject: view.subject, tbsSha256: sha256Hex(prepared.document.tbs), csrSha256: facts.sha256, ...datesRecord(dates, prepared.notBefore, prepared.notAfter), ...lintRecord(lint) });
  state.request = { id, view, kind: 'issue', caDir: ca.dir, prepared };
  return view;
}

/**
 * A cross-certificate the open CA would issue, as a plan's step names it: the same subject (its
 * exact DER, since path building compares names as encoded) and the same key as the certificate
 * file, which must still be the one the plan was checked with; the plan's variables must name that
 * subject too, so the reviewers read the name that is certified.
 */
export async function prepareCross(ctx: SigningContext, opts: { path: string; sha256: string; name: string; profile: Profile; vars: Record<string, unknown>; dates?: FixedDates }): Promise<SigningRequestT> {
  const { state } = ctx;
  const profile = datedProfile(opts.profile, opts.dates);
  const ca = openCaDirectory(state);
  withdraw(state);
  let bytes: Buffer;
  try { bytes = readFileSync(opts.path); } catch (e) {
    throw new QpkiError('IO_ERROR', `Cannot read ${opts.path}, the certificate the plan cross-certifies: ${(e as Error).message}`);
  }
  if (sha256Hex(bytes) !== opts.sha256) throw new QpkiError('PLAN_INVALID', `The certificate ${opts.name} changed since the plan was checked (its SHA-256 is not the plan's); nothing was prepared.`);
  const cert = AsnConvert.parse(pemOrDer(bytes, ['CERTIFICATE']), Certificate);
  const spki = new Uint8Array(AsnConvert.serialize(cert.tbsCertificate.subjectPublicKeyInfo));
  const request = ca.prepareRequest({ profile, vars: opts.vars, spki, ...(opts.dates ? { now: opts.dates.notBefore } : {}), source: `cross-certificate for ${opts.name}` });
  const attrs = (n: Name) => n.flatMap((rdn) => rdn.map((a) => `${a.type}=${a.value.toString()}`)).sort().join('\n');
  if (attrs(cert.tbsCertificate.subject) !== attrs(request.subject)) {
    throw new QpkiError('PLAN_INVALID', `The cross-certificate's subject from the plan's variables (${request.subjectString}) is not the subject of ${opts.name}; a cross-certificate names the same subject. Nothing was prepared.`);
  }
  const prepared = ca.fixCertificate({ ...request, subject: cert.tbsCertificate.subject }, ca.usedSerials());
  const lint = await ca.lintCertificate(prepared, true);
  const id = newRequestId();
  const d = describePrepared(prepared.document);
  const warnings = [
    `A cross-certificate: the subject and public key of ${opts.name} (SHA-256 ${groupHex(opts.sha256)}), certified by ${ca.subjectString}.`,
    ...datesNotice(opts.dates, prepared.notBefore, prepared.notAfter), ...prepared.warnings,
  ];
  const view = baseView(id, 'subordinate-ca', prepared.document, d, {
    signedBy: caSigner(ca), targetDir: ca.dir, keys: [], commonName: '', csr: null, crl: null, warnings, serial: prepared.serial, secrets: caSecrets(ca),
    validityDays: Math.round((prepared.notAfter.getTime() - prepared.notBefore.getTime()) / DAY_MS), lint,
  });
  state.ceremony.record('signing.prepared', { requestId: id, purpose: 'cross-certificate', profile: profile.name, serial: prepared.serial, subject: view.subject, tbsSha256: sha256Hex(prepared.document.tbs), crossedCertificateSha256: opts.sha256, ...datesRecord(opts.dates, prepared.notBefore, prepared.notAfter), ...lintRecord(lint) });
  state.request = { id, view, kind: 'issue', caDir: ca.dir, prepared };
  return view;
}

/** The open CA's next CRL. */
export async function prepareCrlRequest(ctx: SigningContext, days: number): Promise<SigningRequestT> {
  const { state } = ctx;
  // BR 7.2: a CA's CRL has its nextUpdate at most twelve months after thisUpdate. The lint gate
  // says so only for public-TLS hierarchies; main holds every CA to it.
  assertCaCrlDays(days, `Choose a next update at most ${MAX_CRL_DAYS} days after this update.`, 'Nothing was prepared.');
  const ca = openCaDirectory(state);
  withdraw(state);
  state.ceremony.attach(ca.dir);
  const prepared = ca.prepareCrl({ days });
  const replaces = currentCrl(ca.dir);
  const lint = await ca.lintCrl(prepared, true);
  const id = newRequestId();
  const d = describePrepared(prepared.document);
  const view = baseView(id, 'crl', prepared.document, d, {
    signedBy: caSigner(ca), targetDir: join(ca.dir, 'crl'), keys: [], commonName: '', csr: null, warnings: [], serial: null, secrets: caSecrets(ca),
    crl: { number: prepared.number.toString(), revoked: prepared.revoked.map((r) => ({ serial: r.serial, date: r.date.toISOString(), reason: r.reason ?? null })), replaces },
    validityDays: days,
    lint,
  });
  state.ceremony.record('signing.prepared', { requestId: id, purpose: 'crl', crlNumber: prepared.number.toString(), replacesCrlNumber: replaces?.number ?? null, revoked: prepared.revoked.length, tbsSha256: sha256Hex(prepared.document.tbs), ...lintRecord(lint) });
  state.request = { id, view, kind: 'crl', caDir: ca.dir, prepared };
  return view;
}

function assertNewPassphrase(p: string | null, what: string): asserts p is string {
  if (!p) throw new QpkiError('PASSPHRASE_REQUIRED', `Type a passphrase for ${what}: key files made in the app are always encrypted.`);
  if (p.length < MIN_PASSPHRASE) throw new QpkiError('PASSPHRASE_REQUIRED', `The passphrase for ${what} must have at least ${MIN_PASSPHRASE} characters.`);
}

/** The request is still what it was prepared against: the same key in the same logged-in token, the same CA. */
function assertStillBound(state: AppState, r: PendingSigning): void {
  if (r.kind === 'csr') return assertCsrStillBound(state, r);
  if (r.kind === 'root') {
    const k = state.key;
    const same = k && k.kind === r.key.kind && (k.kind === 'software' || (r.key.kind === 'pkcs11' && k.label === r.key.label && k.id === r.key.id));
    if (!same) throw new QpkiError('SIGNING_REQUEST_UNKNOWN', 'The CA key chosen for this ceremony changed since the review; prepare the review again.');
    if (r.key.kind === 'pkcs11') {
      const s = state.requireLogin();
      if (s.token.serial !== r.tokenSerial) throw new QpkiError('SIGNING_REQUEST_UNKNOWN', 'The token changed since the review; prepare the review again.');
      // The key in the token is still the one reviewed (its public half was not replaced since),
      // and it signs through the session open now (a reconnected token has a new one).
      const now = s.findKey({ label: r.key.label, id: r.key.id });
      if (!Buffer.from(now.spki).equals(Buffer.from(r.draft.key.signer.spki))) {
        throw new QpkiError('KEY_CHECK_FAILED', `The public key of “${r.key.label}” in the token is not the one reviewed; nothing was signed.`);
      }
      r.draft.key = { ...r.draft.key, signer: s.signer(now) };
      if (r.parent && (!existsSync(join(r.parent.dir, 'ca.meta.json')) || CaDirectory.read(r.parent.dir).certSha256 !== r.parent.certSha256)) {
        throw new QpkiError('CA_INVALID', `The certificate in ${r.parent.dir} is not the one the review was prepared with; nothing was signed.`);
      }
      const alt = r.draft.altKey;
      if (alt && !alt.software && alt.signer.storage.type === 'pkcs11') {
        const ref = alt.signer.storage;
        const altSession = state.altKeySession();
        if (altSession.token.serial !== ref.token_serial) throw new QpkiError('SIGNING_REQUEST_UNKNOWN', 'The token of the ML-DSA key changed since the review; prepare the review again.');
        const altNow = altSession.findKey({ label: ref.key_label, id: ref.key_id });
        if (!Buffer.from(altNow.spki).equals(Buffer.from(alt.signer.spki))) {
          throw new QpkiError('KEY_CHECK_FAILED', `The public key of “${ref.key_label}” in the token is not the one reviewed; nothing was signed.`);
        }
        r.draft.altKey = { ...alt, signer: altSession.signer(altNow) };
      }
    }
    return;
  }
  if (state.caDir !== r.caDir) throw new QpkiError('SIGNING_REQUEST_UNKNOWN', 'Another CA directory was opened since the review; prepare the review again.');
  if (!existsSync(join(r.caDir, 'ca.meta.json')) || CaDirectory.read(r.caDir).certSha256 !== r.prepared.issuerCertSha256) {
    throw new QpkiError('CA_INVALID', 'The CA certificate in the directory is not the one the review was prepared with; nothing was signed.');
  }
}

/** Sign the request `id` after main's own confirmation; returns what the renderer shows. */
export async function signRequest(ctx: SigningContext, id: string, secrets: { passphrase: string | null; altPassphrase: string | null }): Promise<Output<'sign'>> {
  const { state } = ctx;
  const r = state.request;
  if (!r || r.id !== id) throw new QpkiError('SIGNING_REQUEST_UNKNOWN', 'This review is not the one main holds (it was replaced, withdrawn or already signed); prepare it again.');
  // Every attempt that fails once the operator pressed Sign is on the record with its reason;
  // a declined confirmation is on it as the answer itself.
  try {
    assertStillBound(state, r);
    if (r.kind === 'root') {
      if (r.key.kind === 'software') assertNewPassphrase(secrets.passphrase, `the new ${r.draft.profile.algorithm} CA key file`);
      if (r.draft.altKey?.software) assertNewPassphrase(secrets.altPassphrase, `the new ${r.draft.altKey.signer.keyAlgorithm} key file`);
    }
  } catch (e) {
    recordFailure(state, r, e);
    throw e;
  }
  const yes = await askAndRecord(ctx, signConfirmation(r.view), { requestId: r.id, tbsSha256: r.view.tbsSha256 });
  if (!yes) throw new QpkiError('NOT_CONFIRMED', 'The signature was not confirmed in the app’s confirmation dialog; nothing was signed.');
  try {
    const out = await execute(state, r, secrets);
    state.request = null;
    return out;
  } catch (e) {
    recordFailure(state, r, e);
    throw e;
  }
}

function recordFailure(state: AppState, r: PendingSigning, e: unknown): void {
  const p = toErrorPayload(e);
  try { state.ceremony.record('signing.failed', { requestId: r.id, purpose: r.view.purpose, code: p.code, reason: p.message }); } catch { /* the failure itself is reported */ }
}

async function execute(state: AppState, r: PendingSigning, secrets: { passphrase: string | null; altPassphrase: string | null }): Promise<Output<'sign'>> {
  if (r.kind === 'csr') return executeCsr(state, r);
  if (r.kind === 'root' && r.parent) return executeSubordinate(state, r, r.parent);
  if (r.kind === 'root') {
    const preamble = state.ceremony.takePreamble();
    r.draft.options.journalPreamble = preamble;
    if (state.ceremony.participants) r.draft.options.participants = state.ceremony.participants;
    let res;
    try {
      res = await completeNewCa(r.draft, { passphrase: r.key.kind === 'software' ? secrets.passphrase : null, altPassphrase: r.draft.altKey?.software ? secrets.altPassphrase : null, keyEventsRecorded: true });
    } catch (e) {
      if (!existsSync(join(r.draft.dir, 'journal.jsonl'))) state.ceremony.restorePreamble(preamble);
      throw e;
    }
    state.caDir = res.dir;
    state.ceremony.attach(res.dir);
    state.knownFiles.add(res.certificate.path);
    rememberCa(state.options.dataDir, { dir: res.dir, subject: res.certificate.subject, keys: [res.key.publicKeyFingerprint, ...(res.altKey ? [res.altKey.publicKeyFingerprint] : [])] });
    const d = describeDocument(res.certificate.pem, res.certificate.pem);
    const keys = [keyView('primary', res.key.algorithm, res.key.storage, res.dir, res.key.publicKeyFingerprint)];
    if (res.altKey) keys.push(keyView('alternative', res.altKey.algorithm, res.altKey.storage, res.dir, res.altKey.publicKeyFingerprint));
    return { kind: 'certificate', issued: { certificate: view(d), verification: verification(d), savedTo: res.certificate.path, dir: res.dir, serial: res.certificate.serial, keys, ca: open(state, res.dir) } };
  }
  const ca = await unlock(state, r.caDir, { passphrase: secrets.passphrase, altPassphrase: secrets.altPassphrase });
  try {
    if (r.kind === 'issue') {
      const issued = await ca.issuePrepared(r.prepared);
      const d = describeDocument(issued.pem, ca.certPem);
      state.knownFiles.add(issued.path);
      return { kind: 'certificate', issued: { certificate: view(d), verification: verification(d), savedTo: issued.path, dir: ca.dir, serial: issued.serial } };
    }
    const crl = await ca.signCrl(r.prepared);
    return { kind: 'crl', crl: view(describeDocument(crl.pem, ca.certPem)), savedTo: crl.paths[0] };
  } finally {
    await ca.close();
  }
}

/**
 * A subordinate CA whose key is in this token, certified by a CA of this ceremony. The ceremony's
 * record stays where it is (the parent's journal, which records the issuance); the new CA's own
 * journal begins by naming the ceremony and the record it belongs to. The open CA stays the parent,
 * so the ceremony's next steps (its CRL) go on with it.
 */
async function executeSubordinate(state: AppState, r: Extract<PendingSigning, { kind: 'root' }>, parent: CertificateAuthority): Promise<Output<'sign'>> {
  const record = state.ceremony.dir;
  r.draft.options.journalPreamble = [{ kind: 'ceremony.opened', facts: { purpose: 'subordinate CA made in a ceremony', issuer: parent.subjectString, issuerDir: parent.dir, ...(record ? { record: join(record, 'journal.jsonl') } : {}) } }];
  if (state.ceremony.participants) r.draft.options.participants = state.ceremony.participants;
  let res;
  try {
    res = await completeNewCa(r.draft, { keyEventsRecorded: true });
  } finally {
    await parent.close();
  }
  state.knownFiles.add(res.certificate.path);
  rememberCa(state.options.dataDir, { dir: res.dir, subject: res.certificate.subject, keys: [res.key.publicKeyFingerprint] });
  const d = describeDocument(res.certificate.pem, parent.certPem);
  const keys = [keyView('primary', res.key.algorithm, res.key.storage, res.dir, res.key.publicKeyFingerprint)];
  return { kind: 'certificate', issued: { certificate: view(d), verification: verification(d), savedTo: res.certificate.path, dir: res.dir, serial: res.certificate.serial, keys } };
}
