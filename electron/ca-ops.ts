/**
 * The CA side of the handler table: preview, root signing, opening a CA, issuing from a CSR,
 * CRLs, and turning core's descriptions into the contract's plain shapes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { QpkiError } from './core/errors';
import type { AppState } from './app-state';
import type { Profile } from './core/profiles';
import { defaultSignatureAlgorithm, signatureFitsKey, type KeyAlgorithm, type SignatureAlgorithm } from './core/keys/algorithms';
import { generateSoftwareKey, signerFromPkcs8 } from './core/keys/software';
import type { Signer } from './core/keys/signer';
import { buildExtensions } from './core/profiles';
import { buildCertificate, newSerial } from './core/x509/certificate';
import { describeDocument, type Described } from './core/x509/describe';
import { parseAndVerifyCsr } from './core/x509/csr';
import { describeCaDir, initCa, openCa as openCaCore, prepareSubject, sha256Hex, type NewCaKey } from './core/ca';
import type { CertificateAuthority } from './core/ca/authority';
import type { Output } from '../shared/contract';

const DAY_MS = 86_400_000;

function colonHex(h: string): string {
  return (h.match(/../g) ?? []).join(':').toUpperCase();
}

/** Core's description as the contract's plain view (fields in the order a certificate viewer shows them). */
export function view(d: Described): Output<'describeDocument'> {
  const fields: Array<{ label: string; value: string }> = [];
  const add = (label: string, value: string | undefined) => { if (value !== undefined && value !== '') fields.push({ label, value }); };
  add('Subject', d.subject);
  add('Issuer', d.issuer);
  add('Serial number', d.serial);
  add('Valid from', d.notBefore);
  add('Valid until', d.notAfter);
  add('This update', d.thisUpdate);
  add('Next update', d.nextUpdate);
  if (d.publicKey) add('Public key', `${d.publicKey.algorithm}\nSHA-256 ${colonHex(d.publicKey.sha256)}`);
  if (d.altPublicKey) add('Alternative public key (Catalyst)', `${d.altPublicKey.algorithm}\nSHA-256 ${colonHex(d.altPublicKey.sha256)}`);
  add('Signature algorithm', d.signatureAlgorithm);
  for (const s of d.signatures) {
    add(s.which === 'primary' ? 'Signature' : 'Alternative signature', `${s.valid === null ? 'not checked' : s.valid ? 'valid' : 'INVALID'} (${s.algorithm}, against ${s.against})`);
  }
  if (d.revoked) add('Revoked certificates', d.revoked.length ? d.revoked.map((r) => `${r.serial} on ${r.date}${r.reason ? ` (${r.reason})` : ''}`).join('\n') : 'none');
  add('SHA-1 fingerprint', colonHex(d.sha1));
  const title = d.kind === 'certificate' ? `Certificate: ${d.subject ?? ''}` : d.kind === 'csr' ? `Certificate request: ${d.subject ?? ''}` : `Certificate revocation list of ${d.issuer ?? ''}`;
  return {
    kind: d.kind,
    title,
    fields,
    extensions: d.extensions.map((e) => ({ oid: e.oid, name: e.name, critical: e.critical, value: e.value.join('\n') })),
    sha256: colonHex(d.sha256),
    pem: d.pem,
  };
}

function verification(d: Described): { ok: boolean; message: string } {
  const checked = d.signatures.filter((s) => s.valid !== null);
  if (!checked.length) return { ok: false, message: 'No issuer key was available to check the signature.' };
  const bad = checked.filter((s) => !s.valid);
  if (bad.length) return { ok: false, message: `The ${bad.map((s) => s.which).join(' and ')} signature does not verify against ${bad[0].against}.` };
  return { ok: true, message: `The signature${checked.length > 1 ? 's verify' : ' verifies'} against ${checked[0].against}.` };
}

function signatureFor(profile: Profile, key: KeyAlgorithm): SignatureAlgorithm {
  const want = profile.signatureAlgorithm;
  return want && signatureFitsKey(want, key) ? want : defaultSignatureAlgorithm(key);
}

/** The chosen CA key's public half and where it lives, checked against the profile. */
function chosenKey(state: AppState, profile: Profile): { spki: Uint8Array; storage: string; fingerprint: string; existing: boolean } {
  const k = state.key;
  if (!k) throw new QpkiError('KEY_NOT_FOUND', 'Choose or generate the CA key first.');
  if (k.kind === 'software') {
    if (k.algorithm !== profile.algorithm) throw new QpkiError('KEY_INVALID', `The profile ${profile.name} needs a ${profile.algorithm} key, but ${k.algorithm} was chosen. Choose a matching profile or key algorithm.`);
    return { spki: new Uint8Array(0), storage: 'Software keystore (generated when signing, saved in the CA directory)', fingerprint: 'the key is generated when signing', existing: false };
  }
  const s = state.requireLogin();
  const info = s.findKey({ label: k.label, id: k.id });
  if (info.keyAlgorithm !== profile.algorithm) {
    throw new QpkiError('KEY_INVALID', `The profile ${profile.name} needs a ${profile.algorithm} key, but “${info.label}” is ${info.keyAlgorithm}. Choose a profile for ${info.keyAlgorithm}, or generate a ${profile.algorithm} key.`);
  }
  return { spki: info.spki, storage: `PKCS#11 token “${s.token.label}” (serial ${s.token.serial}), key “${info.label}”`, fingerprint: colonHex(info.publicKeyFingerprint), existing: true };
}

/** A throwaway software signer, so the review shows the exact TBS content before the token signs. */
let previewSigner: Signer | null = null;
function throwawaySigner(): Signer {
  if (!previewSigner) previewSigner = signerFromPkcs8(generateSoftwareKey('ec-p256').pkcs8, { type: 'software', path: '(preview)', encrypted: false });
  return previewSigner;
}

export async function preview(state: AppState, profile: Profile, vars: Record<string, unknown>, dir: string): Promise<Output<'previewCa'>> {
  if (!profile.isCa) throw new QpkiError('PROFILE_INVALID', `Profile ${profile.name} is not a CA profile.`);
  if (existsSync(join(dir, 'ca.meta.json'))) throw new QpkiError('CA_EXISTS', `${dir} already holds a CA; it is never overwritten.`);
  const key = chosenKey(state, profile);
  const { values, subject, days } = prepareSubject(profile, vars);
  const spki = key.existing ? key.spki : generateSoftwareKey(profile.algorithm).spki;
  const now = new Date();
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const der = await buildCertificate({
    serial: newSerial(), issuer: subject, subject, notBefore, notAfter: new Date(notBefore.getTime() + days * DAY_MS), spki,
    extensions: buildExtensions(profile, values, { subjectSpki: spki, issuerSpki: spki }),
    signer: throwawaySigner(), signatureAlgorithm: 'ecdsa-sha256',
  });
  const d = describeDocument(der);
  const cn = String(values.cn ?? '');
  return {
    subject: d.subject ?? '',
    issuer: `${d.issuer ?? ''} (self-signed)`,
    notBefore: d.notBefore ?? '',
    notAfter: `${d.notAfter ?? ''} (${days} days)`,
    extensions: view(d).extensions,
    keyAlgorithm: profile.algorithm,
    signatureAlgorithm: signatureFor(profile, profile.algorithm),
    keyFingerprint: key.fingerprint,
    keyStorage: key.storage,
    dir,
    commonName: cn,
  };
}

export async function signRoot(
  state: AppState, profile: Profile, vars: Record<string, unknown>, dir: string, confirmation: string, passphrase: string | null,
): Promise<Output<'signCa'>> {
  const { values } = prepareSubject(profile, vars);
  const cn = String(values.cn ?? '');
  // The deliberate confirmation is checked here too: a renderer cannot skip it.
  if (!cn || confirmation !== cn) throw new QpkiError('INPUT_INVALID', 'Type the CA’s common name exactly to confirm the signature.');
  const k = state.key;
  if (!k) throw new QpkiError('KEY_NOT_FOUND', 'Choose or generate the CA key first.');
  let key: NewCaKey;
  if (k.kind === 'pkcs11') {
    chosenKey(state, profile);
    key = { kind: 'pkcs11', session: state.requireLogin(), label: k.label, id: k.id, useExisting: true };
  } else {
    chosenKey(state, profile);
    key = { kind: 'software', passphrase };
  }
  // What the ceremony recorded before this directory existed opens its journal, in order.
  const journalPreamble = state.ceremony.takePreamble();
  let r;
  try {
    r = await initCa({ dir, profile, vars, key, journalPreamble, ...(state.ceremony.participants ? { participants: state.ceremony.participants } : {}) });
  } catch (e) {
    if (!existsSync(join(dir, 'journal.jsonl'))) state.ceremony.restorePreamble(journalPreamble);
    throw e;
  }
  state.caDir = r.dir;
  const d = describeDocument(r.certificate.pem, r.certificate.pem);
  state.knownFiles.add(r.certificate.path);
  return { certificate: view(d), verification: verification(d), savedTo: r.certificate.path, dir: r.dir, serial: r.certificate.serial };
}

function keyStorageWords(storage: { type: string; [k: string]: unknown }): string {
  if (storage.type === 'pkcs11') return `PKCS#11 token “${String(storage.token_label)}” (serial ${String(storage.token_serial)}), key “${String(storage.key_label)}”`;
  return `Software key file${storage.encrypted ? ' (encrypted)' : ' (NOT encrypted)'}: ${String(storage.path)}`;
}

export function open(state: AppState, dir: string): Output<'openCa'> {
  const c = describeCaDir(dir);
  const v = c.meta.versions[c.meta.active];
  const storage = v.keys[0].storage;
  const d = describeDocument(c.certPem);
  state.knownFiles.add(join(c.dir, 'ca.crt'));
  return {
    dir: c.dir,
    subject: c.subject,
    keyStorage: keyStorageWords(storage as { type: string }),
    token: storage.type === 'pkcs11' ? { lib: storage.lib, label: storage.token_label, serial: storage.token_serial } : null,
    certificate: view(d),
  };
}

async function unlock(state: AppState, dir: string, passphrase: string | null) {
  const c = describeCaDir(dir);
  const storage = c.meta.versions[c.meta.active].keys[0].storage;
  if (storage.type === 'pkcs11') {
    const s = state.session;
    if (!s || !s.isLoggedIn || s.token.serial !== storage.token_serial) {
      throw new QpkiError('NOT_LOGGED_IN', `Log in to the CA's token “${storage.token_label}” (serial ${storage.token_serial}) first.`);
    }
    return withParticipants(state, await openCaCore(dir, { session: s }));
  }
  return withParticipants(state, await openCaCore(dir, { passphrase: () => passphrase ?? undefined }));
}

/** Issuances and CRLs are journaled by core under the people named at the ceremony's start. */
function withParticipants(state: AppState, ca: CertificateAuthority): CertificateAuthority {
  const p = state.ceremony.participants;
  if (p) ca.journal.setParticipants(p.operator, p.witnesses);
  return ca;
}

/** The CA directory `dir` names, checked to be one (so nothing is ever written into another folder). */
export function caDirOf(dir: string): string {
  return describeCaDir(dir).dir;
}

export async function issueFromCsr(state: AppState, dir: string, csrPem: string, profile: Profile, vars: Record<string, unknown>, passphrase: string | null): Promise<Output<'issueFromCsr'>> {
  const csrSha256 = sha256Hex(new TextEncoder().encode(csrPem));
  let csr;
  try {
    csr = parseAndVerifyCsr(csrPem);
    if (csr.keyAlgorithm !== profile.algorithm && profile.isCa) {
      throw new QpkiError('KEY_INVALID', `The request carries a ${csr.keyAlgorithm} key, but profile ${profile.name} is for ${profile.algorithm} keys.`);
    }
  } catch (e) {
    if (e instanceof QpkiError) state.ceremony.record('csr.refused', { profile: profile.name, code: e.code, reason: e.message, pemSha256: csrSha256 });
    throw e;
  }
  const ca = await unlock(state, dir, passphrase);
  try {
    const subject = describeDocument(csr.der).subject ?? '';
    ca.journal.append('csr.accepted', {
      profile: profile.name, subject, keyAlgorithm: csr.keyAlgorithm, signatureAlgorithm: csr.signatureAlgorithm,
      csrSha256: sha256Hex(csr.der), publicKeySha256Fingerprint: sha256Hex(csr.spki),
    });
    const issued = await ca.issue({ profile, vars, spki: csr.spki, source: 'certificate request' });
    const d = describeDocument(issued.pem, ca.certPem);
    state.knownFiles.add(issued.path);
    return { certificate: view(d), verification: verification(d), savedTo: issued.path, dir: ca.dir, serial: issued.serial };
  } finally {
    await ca.close();
  }
}

export async function generateCrl(state: AppState, dir: string, days: number, passphrase: string | null): Promise<Output<'generateCrl'>> {
  const ca = await unlock(state, dir, passphrase);
  try {
    const r = await ca.generateCrl({ days });
    return { crl: view(describeDocument(r.pem, ca.certPem)), savedTo: r.paths[0] };
  } finally {
    await ca.close();
  }
}

export function describe(data: string | Uint8Array): Output<'describeDocument'> {
  return view(describeDocument(data));
}

export function verify(data: string | Uint8Array, issuer: string | Uint8Array | null, caDir: string | null): Output<'verifyDocument'> {
  let issuerData: string | Uint8Array | undefined = issuer ?? undefined;
  if (!issuerData && caDir) issuerData = describeCaDir(caDir).certPem;
  if (!issuerData) throw new QpkiError('INPUT_INVALID', 'Give the issuer certificate or the CA directory to verify against.');
  return verification(describeDocument(data, issuerData));
}

export function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

export { sha256Hex };
