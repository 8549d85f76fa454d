/**
 * A CA as the contract shows it (its certificate, keys and where they are), opening one for the
 * ceremony's token sessions, and a document's description and verification in the contract's
 * plain shapes.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { QpkiError } from '../core/errors';
import type { AppState } from './state';
import type { KeyStorageRef } from '../core/keys/signer';
import { describeDocument, type Described } from '../core/x509/describe';
import { groupHex } from '../core/journal/format';
import { algorithmWithCode } from '../../shared/algorithm-words';
import { readBundle, validatePath } from '../core/x509/validate/index';
import { describeCaDir, openCa as openCaCore, sha256Hex } from '../core/ca';
import { CaDirectory } from '../core/ca/authority';
import type { CertificateAuthority } from '../core/ca/authority';
import type { CaKeyViewT, Output } from '../../shared/contract';

/** The secrets of one signing request: sent with it, used once, never kept. */
export interface KeySecrets {
  /** The classical CA key file (software keystore). */
  passphrase: string | null;
  /** The ML-DSA key file of a Catalyst CA. */
  altPassphrase: string | null;
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
  if (d.publicKey) add('Public key', `${algorithmWithCode(d.publicKey.algorithm)}\nSHA-256 ${groupHex(d.publicKey.sha256)}`);
  if (d.altPublicKey) add('Alternative public key (Catalyst)', `${algorithmWithCode(d.altPublicKey.algorithm)}\nSHA-256 ${groupHex(d.altPublicKey.sha256)}`);
  add('Signature algorithm', d.signatureAlgorithm ? algorithmWithCode(d.signatureAlgorithm) : undefined);
  for (const s of d.signatures) {
    add(s.which === 'primary' ? 'Signature' : 'Alternative signature', `${s.valid === null ? 'not checked' : s.valid ? 'valid' : 'INVALID'} (${s.algorithm}, against ${s.against})`);
  }
  if (d.revoked) add('Revoked certificates', d.revoked.length ? d.revoked.map((r) => `${r.serial} on ${r.date}${r.reason ? ` (${r.reason})` : ''}`).join('\n') : 'none');
  add('SHA-1 fingerprint', groupHex(d.sha1));
  const title = d.kind === 'certificate' ? `Certificate: ${d.subject ?? ''}` : d.kind === 'csr' ? `Certificate request: ${d.subject ?? ''}` : `Certificate revocation list of ${d.issuer ?? ''}`;
  return {
    kind: d.kind,
    title,
    fields,
    signatures: d.signatures.map((s) => ({ which: s.which, algorithm: String(s.algorithm), valid: s.valid, against: s.against, ...(s.reason ? { reason: s.reason } : {}) })),
    extensions: d.extensions.map((e) => ({ oid: e.oid, name: e.name, critical: e.critical, value: e.value.join('\n') })),
    sha256: groupHex(d.sha256),
    pem: d.pem,
  };
}

export function verification(d: Described): { ok: boolean; message: string } {
  const checked = d.signatures.filter((s) => s.valid !== null);
  if (!checked.length) return { ok: false, message: 'No issuer key was available to check the signature.' };
  const bad = checked.filter((s) => !s.valid);
  if (bad.length) return { ok: false, message: `The ${bad.map((s) => s.which).join(' and ')} signature does not verify against ${bad[0].against}.` };
  const unchecked = d.signatures.filter((s) => s.valid === null);
  const note = unchecked.map((s) => ` The ${s.which} signature (${s.algorithm}) was not checked: ${s.reason ?? s.against}.`).join('');
  return { ok: true, message: `The ${checked.length > 1 ? 'signatures verify' : `${checked[0].which === 'alternative' ? 'alternative ' : ''}signature verifies`} against ${checked[0].against}.${note}` };
}

function keyIdOf(storage: KeyStorageRef): string {
  return storage.type === 'pkcs11' ? storage.key_id : '';
}

/** One CA key as the contract shows it. `dir` makes a relative key file path absolute. */
export function keyView(role: 'primary' | 'alternative', algorithm: string, storage: KeyStorageRef, dir: string, fingerprint: string | null, note?: string): CaKeyViewT {
  if (storage.type === 'pkcs11') {
    return {
      role, algorithm, where: 'token', storage: keyStorageWords(storage), fingerprint: fingerprint ? groupHex(fingerprint) : null,
      token: { label: storage.token_label, serial: storage.token_serial, keyLabel: storage.key_label, keyId: keyIdOf(storage) }, file: null,
      ...(note ? { note } : {}),
    };
  }
  const path = storage.path.startsWith('/') ? storage.path : join(dir, storage.path);
  return {
    role, algorithm, where: 'file', storage: keyStorageWords({ ...storage, path }), fingerprint: fingerprint ? groupHex(fingerprint) : null,
    token: null, file: { path, encrypted: storage.encrypted }, ...(note ? { note } : {}),
  };
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
    isRoot: CaDirectory.read(c.dir).isRoot,
    keyStorage: keyStorageWords(storage),
    token: storage.type === 'pkcs11' ? { lib: storage.lib, moduleId: state.capabilities.addModule(storage.lib, 'The CA’s own library (named in its metadata)'), label: storage.token_label, serial: storage.token_serial } : null,
    keys: caKeys(c, d),
    certificate: view(d),
  };
}

export async function unlock(state: AppState, dir: string, secrets: KeySecrets) {
  const c = describeCaDir(dir);
  const keys = c.keys();
  // Each key file gets its own passphrase: the ML-DSA file of a Catalyst CA, or the classical key file.
  const altFiles = new Set(keys.filter((k) => k.id === 'pqc' && k.storage.type === 'software').map((k) => resolvePath(c.dir, (k.storage as { path: string }).path)));
  const passphrase = (path: string) => (altFiles.has(resolvePath(c.dir, path)) ? secrets.altPassphrase : secrets.passphrase) ?? undefined;
  // Every key of the CA that is in a token (the classical one, and a Catalyst CA's ML-DSA key when
  // it is not a file) signs through a session the ceremony is logged in to: its own token's, or for
  // the ML-DSA key the second token opened for it on the key step.
  const inTokens = keys.filter((k) => k.storage.type === 'pkcs11').sort((a, b) => (a.id === 'pqc' ? 1 : 0) - (b.id === 'pqc' ? 1 : 0));
  if (!inTokens.length) return withParticipants(state, await openCaCore(dir, { passphrase, allowModule: () => false }));
  const s = state.session;
  const alt = state.altSession?.isLoggedIn ? state.altSession : null;
  for (const k of inTokens) {
    const storage = k.storage as Extract<KeyStorageRef, { type: 'pkcs11' }>;
    // A QPKI CA names its token by label only (its hsm.yaml): match on what the metadata gives.
    const isIt = (x: typeof s) => !!x?.isLoggedIn && (storage.token_serial ? x.token.serial === storage.token_serial : x.token.label === storage.token_label);
    if (isIt(s) || (k.id === 'pqc' && isIt(alt))) continue;
    if (k.id === 'pqc' && s?.isLoggedIn && inTokens.length > 1) {
      throw new QpkiError('NOT_LOGGED_IN', `The CA's ML-DSA key is in another token, “${storage.token_label}” (serial ${storage.token_serial}), than the one logged in to. Open that token for the ML-DSA key on the key step ("In another token") and log in to it, then open the CA again.`);
    }
    throw new QpkiError('NOT_LOGGED_IN', `Log in to the CA's token “${storage.token_label}”${storage.token_serial ? ` (serial ${storage.token_serial})` : ''} first.`);
  }
  // The library is the one the operator opened for this ceremony; the CA's metadata never picks one.
  for (const k of inTokens) {
    const lib = (k.storage as Extract<KeyStorageRef, { type: 'pkcs11' }>).lib;
    if (s!.module.path !== lib) {
      throw new QpkiError('MODULE_NOT_APPROVED', `This CA's metadata names the PKCS#11 library ${lib}, but the library opened for this ceremony is ${s!.module.path}; nothing else is loaded. Open the CA's own library first.`);
    }
  }
  return withParticipants(state, await openCaCore(dir, { session: s!, ...(alt ? { sessions: [alt] } : {}), passphrase, allowModule: (lib) => lib === s!.module.path }));
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

export function describe(data: string | Uint8Array): Output<'describeDocument'> {
  return view(describeDocument(data));
}

export function verify(data: string | Uint8Array, issuer: string | Uint8Array | null, caDir: string | null): Output<'verifyDocument'> {
  let issuerData: string | Uint8Array | undefined = issuer ?? undefined;
  if (!issuerData && caDir) issuerData = describeCaDir(caDir).certPem;
  if (!issuerData) throw new QpkiError('INPUT_INVALID', 'Give the issuer certificate, or open the CA directory, to verify against.');
  const d = describeDocument(data, issuerData);
  const v = verification(d);
  // A certificate is validated as a path (RFC 5280 §6.1), not only by its signature: the same
  // validator as `qpki cert verify`, up to the issuer given or to the CA directory's root.
  if (d.kind === 'certificate' && v.ok) {
    const anchors = caDir && !issuer ? readBundle(readFileSync(join(caDir, 'chain.crt'), 'utf8'), 'CERTIFICATE') : readBundle(issuerData, 'CERTIFICATE');
    const r = validatePath(d.der, { trusted: anchors.slice(-1), untrusted: anchors.slice(0, -1) });
    if (!r.valid) return { ok: false, message: `The signature verifies, but the chain does not validate: ${r.reason}`, signatures: view(d).signatures };
    return { ok: true, message: `${v.message} The chain validates to ${r.chain[r.chain.length - 1].subject} (RFC 5280 §6.1).`, signatures: view(d).signatures };
  }
  return { ...v, signatures: view(d).signatures };
}

export function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

export { sha256Hex };
