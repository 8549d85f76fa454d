/**
 * The CA side of the handler table: preview, root signing, opening a CA, issuing from a CSR,
 * CRLs, and turning core's descriptions into the contract's plain shapes.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { QpkiError } from './core/errors';
import type { AppState } from './app-state';
import type { Profile } from './core/profiles';
import { defaultSignatureAlgorithm, signatureFitsKey, type KeyAlgorithm, type SignatureAlgorithm } from './core/keys/algorithms';
import { generateSoftwareKey, signerFromPkcs8 } from './core/keys/software';
import type { KeyStorageRef, Signer } from './core/keys/signer';
import { isMlDsa } from './core/keys/mldsa';
import { keyAlgorithmOfSpki } from './core/keys/verify';
import { CKM_ML_DSA } from './core/pkcs11/constants';
import { OID_ALT_SIGNATURE_ALGORITHM, OID_ALT_SIGNATURE_VALUE, OID_SUBJECT_ALT_PUBLIC_KEY_INFO } from './core/x509/catalyst';
import { buildExtensions } from './core/profiles';
import { buildCertificate, newSerial } from './core/x509/certificate';
import { describeDocument, type Described } from './core/x509/describe';
import { parseAndVerifyCsr } from './core/x509/csr';
import { describeCaDir, initCa, openCa as openCaCore, prepareSubject, sha256Hex, type NewCaKey } from './core/ca';
import { qpkiAlgorithmId } from './core/ca/meta';
import type { CertificateAuthority } from './core/ca/authority';
import type { CaKeyViewT, Output } from '../shared/contract';

/** The secrets of one signing request: sent with it, used once, never kept. */
export interface KeySecrets {
  /** The classical CA key file (software keystore). */
  passphrase: string | null;
  /** The ML-DSA key file of a Catalyst CA. */
  altPassphrase: string | null;
}

const CATALYST_OIDS = [OID_SUBJECT_ALT_PUBLIC_KEY_INFO, OID_ALT_SIGNATURE_ALGORITHM, OID_ALT_SIGNATURE_VALUE];

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
    signatures: d.signatures.map((s) => ({ which: s.which, algorithm: String(s.algorithm), valid: s.valid, against: s.against, ...(s.reason ? { reason: s.reason } : {}) })),
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
  const unchecked = d.signatures.filter((s) => s.valid === null);
  const note = unchecked.map((s) => ` The ${s.which} signature (${s.algorithm}) was not checked: ${s.reason ?? s.against}.`).join('');
  return { ok: true, message: `The ${checked.length > 1 ? 'signatures verify' : `${checked[0].which === 'alternative' ? 'alternative ' : ''}signature verifies`} against ${checked[0].against}.${note}` };
}

function signatureFor(profile: Profile, key: KeyAlgorithm): SignatureAlgorithm {
  const want = profile.signatureAlgorithm;
  return want && signatureFitsKey(want, key) ? want : defaultSignatureAlgorithm(key);
}

/** The chosen CA key's public half and where it lives, checked against the profile. */
function chosenKey(state: AppState, profile: Profile): { spki: Uint8Array; storage: string; fingerprint: string; existing: boolean } {
  const k = state.key;
  if (!k) {
    // An ML-DSA profile chosen with a token that cannot hold the key: say that, not "choose a key".
    if (state.session?.isLoggedIn) assertTokenCanHold(state, profile);
    throw new QpkiError('KEY_NOT_FOUND', 'Choose or generate the CA key first.');
  }
  if (k.kind === 'software') {
    if (k.algorithm !== profile.algorithm) throw new QpkiError('KEY_INVALID', `The profile ${profile.name} needs a ${profile.algorithm} key, but ${k.algorithm} was chosen. Choose a matching profile or key algorithm.`);
    return { spki: new Uint8Array(0), storage: 'Software keystore (generated when signing, saved in the CA directory)', fingerprint: 'the key is generated when signing', existing: false };
  }
  const s = state.requireLogin();
  assertTokenCanHold(state, profile);
  const info = s.findKey({ label: k.label, id: k.id });
  if (info.keyAlgorithm !== profile.algorithm) {
    throw new QpkiError('KEY_INVALID', `The profile ${profile.name} needs a ${profile.algorithm} key, but “${info.label}” is ${info.keyAlgorithm}. Choose a profile for ${info.keyAlgorithm}, or generate a ${profile.algorithm} key.`);
  }
  return { spki: info.spki, storage: `PKCS#11 token “${s.token.label}” (serial ${s.token.serial}), key “${info.label}”`, fingerprint: colonHex(info.publicKeyFingerprint), existing: true };
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

function keyIdOf(storage: KeyStorageRef): string {
  return storage.type === 'pkcs11' ? storage.key_id : '';
}

/** One CA key as the contract shows it. `dir` makes a relative key file path absolute. */
export function keyView(role: 'primary' | 'alternative', algorithm: string, storage: KeyStorageRef, dir: string, fingerprint: string | null, note?: string): CaKeyViewT {
  if (storage.type === 'pkcs11') {
    return {
      role, algorithm, where: 'token', storage: keyStorageWords(storage), fingerprint: fingerprint ? colonHex(fingerprint) : null,
      token: { label: storage.token_label, serial: storage.token_serial, keyLabel: storage.key_label, keyId: keyIdOf(storage) }, file: null,
      ...(note ? { note } : {}),
    };
  }
  const path = storage.path.startsWith('/') ? storage.path : join(dir, storage.path);
  return {
    role, algorithm, where: 'file', storage: keyStorageWords({ ...storage, path }), fingerprint: fingerprint ? colonHex(fingerprint) : null,
    token: null, file: { path, encrypted: storage.encrypted }, ...(note ? { note } : {}),
  };
}

/** The keys a new CA will have, as far as they exist before signing. */
function plannedKeys(state: AppState, profile: Profile, dir: string): CaKeyViewT[] {
  const keys: CaKeyViewT[] = [];
  const k = state.key;
  if (k?.kind === 'pkcs11') {
    const s = state.requireLogin();
    const info = s.findKey({ label: k.label, id: k.id });
    keys.push(keyView('primary', info.keyAlgorithm, {
      type: 'pkcs11', lib: s.module.path, token_label: s.token.label, token_serial: s.token.serial, key_label: info.label, key_id: info.id,
    }, dir, info.publicKeyFingerprint));
  } else {
    keys.push(keyView('primary', profile.algorithm, { type: 'software', path: `versions/v1/keys/ca.${qpkiAlgorithmId(profile.algorithm)}.key`, encrypted: true }, dir, null,
      'Generated when you sign; encrypted with the passphrase you give then.'));
  }
  if (profile.altAlgorithm) {
    keys.push(keyView('alternative', profile.altAlgorithm, { type: 'software', path: `versions/v1/keys/ca.${qpkiAlgorithmId(profile.altAlgorithm)}.key`, encrypted: true }, dir, null,
      'Generated when you sign; encrypted with the ML-DSA passphrase you give then. Its fingerprint is shown with the signed certificate.'));
  }
  return keys;
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
  // A Catalyst review is built with a throwaway ML-DSA key too, so its three extensions show as they will be.
  const altPreview = profile.altAlgorithm ? throwawayAltSigner(profile.altAlgorithm) : undefined;
  const der = await buildCertificate({
    serial: newSerial(), issuer: subject, subject, notBefore, notAfter: new Date(notBefore.getTime() + days * DAY_MS), spki,
    extensions: buildExtensions(profile, values, { subjectSpki: spki, issuerSpki: spki }),
    signer: throwawaySigner(), signatureAlgorithm: 'ecdsa-sha256',
    ...(altPreview ? { subjectAltSpki: altPreview.spki, alt: { signer: altPreview, signatureAlgorithm: defaultSignatureAlgorithm(altPreview.keyAlgorithm) } } : {}),
  });
  const d = describeDocument(der);
  const cn = String(values.cn ?? '');
  const all = view(d).extensions;
  const altSig = profile.altAlgorithm ? defaultSignatureAlgorithm(profile.altAlgorithm) : null;
  const catalystExtensions = all.filter((e) => CATALYST_OIDS.includes(e.oid)).map((e) => ({ ...e, value: catalystWords(e.oid, profile, altSig) }));
  return {
    subject: d.subject ?? '',
    issuer: `${d.issuer ?? ''} (self-signed)`,
    notBefore: d.notBefore ?? '',
    notAfter: `${d.notAfter ?? ''} (${days} days)`,
    extensions: [...all.filter((e) => !CATALYST_OIDS.includes(e.oid)), ...catalystExtensions],
    keyAlgorithm: profile.algorithm,
    signatureAlgorithm: signatureFor(profile, profile.algorithm),
    keyFingerprint: key.fingerprint,
    keyStorage: key.storage,
    dir,
    commonName: cn,
    keys: plannedKeys(state, profile, dir),
    altSignatureAlgorithm: altSig,
    catalystExtensions,
  };
}

/** What each Catalyst extension will hold, in words (the preview's own values are throwaway). */
function catalystWords(oid: string, profile: Profile, altSig: string | null): string {
  const alt = String(profile.altAlgorithm).toUpperCase();
  if (oid === OID_SUBJECT_ALT_PUBLIC_KEY_INFO) return `The CA's ${alt} public key (the ML-DSA key file generated when signing).`;
  if (oid === OID_ALT_SIGNATURE_ALGORITHM) return `${altSig} (${String(altSig).toUpperCase()}): the algorithm of the alternative signature.`;
  return `The ${alt} signature over the certificate without this extension and without its signature field (the pre-TBS), made by the ML-DSA key file.`;
}

const altPreviewSigners = new Map<KeyAlgorithm, Signer>();
function throwawayAltSigner(alg: KeyAlgorithm): Signer {
  let s = altPreviewSigners.get(alg);
  if (!s) {
    s = signerFromPkcs8(generateSoftwareKey(alg).pkcs8, { type: 'software', path: '(preview)', encrypted: false });
    altPreviewSigners.set(alg, s);
  }
  return s;
}

export async function signRoot(
  state: AppState, profile: Profile, vars: Record<string, unknown>, dir: string, confirmation: string, secrets: KeySecrets,
): Promise<Output<'signCa'>> {
  const { passphrase, altPassphrase } = secrets;
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
  // The ML-DSA key file of a Catalyst CA is always encrypted, like a software keystore key.
  if (profile.altAlgorithm && !altPassphrase) {
    throw new QpkiError('PASSPHRASE_REQUIRED', `Profile ${profile.name} is a Catalyst hybrid: type a passphrase for its ${profile.altAlgorithm} key file, which is always encrypted.`);
  }
  // What the ceremony recorded before this directory existed opens its journal, in order.
  const journalPreamble = state.ceremony.takePreamble();
  let r;
  try {
    r = await initCa({
      dir, profile, vars, key, journalPreamble,
      ...(profile.altAlgorithm ? { altKey: { passphrase: altPassphrase } } : {}),
      ...(state.ceremony.participants ? { participants: state.ceremony.participants } : {}),
    });
  } catch (e) {
    if (!existsSync(join(dir, 'journal.jsonl'))) state.ceremony.restorePreamble(journalPreamble);
    throw e;
  }
  state.caDir = r.dir;
  const d = describeDocument(r.certificate.pem, r.certificate.pem);
  state.knownFiles.add(r.certificate.path);
  const keys = [keyView('primary', r.key.algorithm, r.key.storage, r.dir, r.key.publicKeyFingerprint)];
  if (r.altKey) keys.push(keyView('alternative', r.altKey.algorithm, r.altKey.storage, r.dir, r.altKey.publicKeyFingerprint));
  return { certificate: view(d), verification: verification(d), savedTo: r.certificate.path, dir: r.dir, serial: r.certificate.serial, keys };
}

function keyStorageWords(storage: KeyStorageRef): string {
  if (storage.type === 'pkcs11') return `PKCS#11 token “${storage.token_label}” (serial ${storage.token_serial}), key “${storage.key_label}”${storage.key_id ? ` (id ${storage.key_id})` : ''}`;
  return `Software key file${storage.encrypted ? ' (encrypted)' : ' (NOT encrypted)'}: ${storage.path}`;
}

/** The keys recorded in a CA's metadata, with the fingerprints of the public keys in its certificate. */
function caKeys(c: ReturnType<typeof describeCaDir>, cert: Described): CaKeyViewT[] {
  return c.keys().map((k) => {
    const alt = k.id === 'pqc';
    const fp = alt ? cert.altPublicKey?.sha256 : cert.publicKey?.sha256;
    return keyView(alt ? 'alternative' : 'primary', alt ? (cert.altPublicKey?.algorithm ?? k.algorithm) : (cert.publicKey?.algorithm ?? k.algorithm), k.storage, c.dir, fp ?? null);
  });
}

export function open(state: AppState, dir: string): Output<'openCa'> {
  const c = describeCaDir(dir);
  const keys = c.keys();
  const storage = (keys.find((k) => k.id !== 'pqc') ?? keys[0]).storage;
  const d = describeDocument(c.certPem);
  state.knownFiles.add(join(c.dir, 'ca.crt'));
  return {
    dir: c.dir,
    subject: c.subject,
    keyStorage: keyStorageWords(storage),
    token: storage.type === 'pkcs11' ? { lib: storage.lib, label: storage.token_label, serial: storage.token_serial } : null,
    keys: caKeys(c, d),
    certificate: view(d),
  };
}

async function unlock(state: AppState, dir: string, secrets: KeySecrets) {
  const c = describeCaDir(dir);
  const keys = c.keys();
  const storage = (keys.find((k) => k.id !== 'pqc') ?? keys[0]).storage;
  // Each key file gets its own passphrase: the ML-DSA file of a Catalyst CA, or the classical key file.
  const altFiles = new Set(keys.filter((k) => k.id === 'pqc' && k.storage.type === 'software').map((k) => resolvePath(c.dir, (k.storage as { path: string }).path)));
  const passphrase = (path: string) => (altFiles.has(resolvePath(c.dir, path)) ? secrets.altPassphrase : secrets.passphrase) ?? undefined;
  if (storage.type === 'pkcs11') {
    const s = state.session;
    // A QPKI CA names its token by label only (its hsm.yaml): match on what the metadata gives.
    if (!s || !s.isLoggedIn || (storage.token_serial ? s.token.serial !== storage.token_serial : s.token.label !== storage.token_label)) {
      throw new QpkiError('NOT_LOGGED_IN', `Log in to the CA's token “${storage.token_label}” (serial ${storage.token_serial}) first.`);
    }
    return withParticipants(state, await openCaCore(dir, { session: s, passphrase }));
  }
  return withParticipants(state, await openCaCore(dir, { passphrase }));
}

function resolvePath(dir: string, p: string): string {
  return resolve(dir, p);
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

export async function issueFromCsr(state: AppState, dir: string, csrPem: string, profile: Profile, vars: Record<string, unknown>, secrets: KeySecrets): Promise<Output<'issueFromCsr'>> {
  const csrSha256 = sha256Hex(new TextEncoder().encode(csrPem));
  let csr;
  let altSpki: Uint8Array | undefined;
  try {
    csr = parseAndVerifyCsr(csrPem);
    if (csr.keyAlgorithm !== profile.algorithm && profile.isCa) {
      throw new QpkiError('KEY_INVALID', `The request carries a ${csr.keyAlgorithm} key, but profile ${profile.name} is for ${profile.algorithm} keys.`);
    }
    altSpki = requestedAltKey(csr.requestedExtensions, profile);
  } catch (e) {
    if (e instanceof QpkiError) state.ceremony.record('csr.refused', { profile: profile.name, code: e.code, reason: e.message, pemSha256: csrSha256 });
    throw e;
  }
  const ca = await unlock(state, dir, secrets);
  try {
    const subject = describeDocument(csr.der).subject ?? '';
    ca.journal.append('csr.accepted', {
      profile: profile.name, subject, keyAlgorithm: csr.keyAlgorithm, signatureAlgorithm: csr.signatureAlgorithm,
      csrSha256: sha256Hex(csr.der), publicKeySha256Fingerprint: sha256Hex(csr.spki),
      ...(altSpki ? { altKeyAlgorithm: keyAlgorithmOfSpki(altSpki), altPublicKeySha256Fingerprint: sha256Hex(altSpki) } : {}),
    });
    const issued = await ca.issue({ profile, vars, spki: csr.spki, ...(altSpki ? { subjectAltSpki: altSpki } : {}), source: 'certificate request' });
    const d = describeDocument(issued.pem, ca.certPem);
    state.knownFiles.add(issued.path);
    return { certificate: view(d), verification: verification(d), savedTo: issued.path, dir: ca.dir, serial: issued.serial };
  } finally {
    await ca.close();
  }
}

/**
 * The holder's alternative (ML-DSA) public key for a Catalyst profile: the request carries it as
 * a requested subjectAltPublicKeyInfo extension, so the request's own signature covers it.
 */
function requestedAltKey(requested: Array<{ extnID: string; extnValue: { buffer: ArrayBuffer } }>, profile: Profile): Uint8Array | undefined {
  if (!profile.altAlgorithm) return undefined;
  const ext = requested.find((e) => e.extnID === OID_SUBJECT_ALT_PUBLIC_KEY_INFO);
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

export async function generateCrl(state: AppState, dir: string, days: number, secrets: KeySecrets): Promise<Output<'generateCrl'>> {
  const ca = await unlock(state, dir, secrets);
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
  const d = describeDocument(data, issuerData);
  return { ...verification(d), signatures: view(d).signatures };
}

export function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

export { sha256Hex };
