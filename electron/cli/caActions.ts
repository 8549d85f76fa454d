import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { QpkiError } from '../core/errors';
import { describeCaDir, initCa, openCa, type NewCaKey } from '../core/ca/index';
import type { NewAltCaKey } from '../core/ca/authority';
import { checkCaDir, repairCaDir, type CaCheckResult } from '../core/ca/check';
import { loadProfile } from '../core/profiles/index';
import { buildCsr } from '../core/x509/csr';
import { toPem } from '../core/x509/pem';
import { loadHsmConfig } from './hsmConfig';
import { prepareSubject, type CertificateAuthority } from '../core/ca/authority';
import { defaultSignatureAlgorithm } from '../core/keys/algorithms';
import { generateSoftwareKey, signerFromPkcs8, writeKeyFile } from '../core/keys/software';
import { openLoggedIn, resolveToken } from './token';
import { caAccess, newKeyPassphrase, varsFrom } from './access';
import { secretSources, type PassphraseOptions, type PqcTokenOptions, type TokenOptions, type VarOptions } from './options';
import { openPqcSession, pqcTokenNamed } from './pqcToken';
import { emit } from './output';
import { ceremonyGiven, closeInto, initDone, initPreamble, participants, recordInto } from './ceremony';
import { warn } from './secrets';
import { writeFileAtomic } from '../core/ca/fsx';
import { createPendingCa, importCaCertificate, readPendingCa } from '../core/ca/pending';
import { Journal } from '../core/journal/journal';
import type { KeyStorageRef } from '../core/keys/signer';
import type { Profile } from '../core/profiles/index';
import { lintLines } from './lintLines';
import { groupHex } from '../core/journal/format';
import { caDirOf } from './caViewActions';

type InitOptions = TokenOptions & PqcTokenOptions & VarOptions & PassphraseOptions & {
  pqcPkcs11KeyLabel?: string;
  pqcPkcs11KeyId?: string;
  profile: string;
  dir?: string;
  caDir?: string;
  pkcs11KeyLabel?: string;
  keyLabel?: string;
  pkcs11KeyId?: string;
  keyId?: string;
  useExistingKey?: boolean;
  parent?: string;
  validity?: string;
  pathLen?: string;
  unencryptedKey?: boolean;
  pqcPassphrase?: string;
  pqcPassphraseEnv?: string;
  pqcPassphraseFile?: string;
  parentPassphrase?: string;
  parentPassphraseEnv?: string;
  parentPassphraseFile?: string;
  out?: string;
};

async function newKeySpec(o: InitOptions, what: string): Promise<{ key: NewCaKey; close: () => void }> {
  const t = resolveToken(o, false);
  if (t) {
    const label = o.pkcs11KeyLabel ?? o.keyLabel;
    if (!label) throw new QpkiError('INPUT_INVALID', 'Give the key label with --pkcs11-key-label.');
    const session = await openLoggedIn(t, o.force);
    // The hsm.yaml written for QPKI names the variable the operator used (never the PIN).
    const pinEnv = o.pkcs11PinEnv ?? (o.hsmConfig ? loadHsmConfig(o.hsmConfig).pin_env : undefined);
    return { key: { kind: 'pkcs11', session, label, id: o.pkcs11KeyId ?? o.keyId, useExisting: o.useExistingKey, pinEnv }, close: () => session.close() };
  }
  if (o.useExistingKey) throw new QpkiError('INPUT_INVALID', '--use-existing-key needs a token (--pkcs11-lib or --hsm-config).');
  const passphrase = await newKeyPassphrase(what, secretSources(o.passphrase, o.passphraseEnv, o.passphraseFile), { unencrypted: o.unencryptedKey });
  return { key: { kind: 'software', passphrase }, close: () => {} };
}

/** `ca init` */
export async function caInit(o: InitOptions): Promise<void> {
  const dir = caDirOf(o);
  const profile = withQpkiOverrides(loadProfile(o.profile), o);
  const vars = varsFrom(o);
  prepareSubject(profile, vars); // variable errors before any PIN prompt or key generation
  if (existsSync(join(dir, 'ca.meta.json'))) throw new QpkiError('CA_EXISTS', `${resolve(dir)} already holds a CA; it is never overwritten.`);
  if (o.parent) describeCaDir(o.parent); // a wrong --parent is said before any PIN or passphrase is asked
  const pqcInToken = !!(o.pqcPkcs11KeyLabel || o.pqcPkcs11KeyId || pqcTokenNamed(o));
  if (pqcInToken && !profile.altAlgorithm) throw new QpkiError('INPUT_INVALID', `The --pqc-pkcs11-* options place the ML-DSA key of a Catalyst CA; profile ${profile.name} has one key only (use --pkcs11-* for it).`);
  if (pqcInToken && !o.pqcPkcs11KeyLabel) throw new QpkiError('INPUT_INVALID', 'Give the label of the ML-DSA key in the token with --pqc-pkcs11-key-label.');
  const { key, close } = await newKeySpec(o, 'the new CA key file');
  let parent: CertificateAuthority | undefined;
  let closePqc = () => {};
  try {
    let altKey: NewAltCaKey | undefined;
    if (profile.altAlgorithm && pqcInToken) {
      const { session, own } = await openPqcSession(o, key.kind === 'pkcs11' ? key.session : undefined);
      if (own) closePqc = () => session.close();
      altKey = { kind: 'pkcs11', session, label: o.pqcPkcs11KeyLabel!, id: o.pqcPkcs11KeyId, useExisting: o.useExistingKey };
    } else if (profile.altAlgorithm) {
      // The ML-DSA key file's passphrase: --pqc-passphrase-* when given; otherwise the one the
      // classical key file got, or, when the classical key is in a token, --passphrase-* (the
      // only key file this CA has).
      const pqcGiven = o.pqcPassphraseEnv !== undefined || o.pqcPassphraseFile !== undefined;
      const passphrase = pqcGiven || key.kind === 'pkcs11'
        ? await newKeyPassphrase('the post-quantum (ML-DSA) CA key file', pqcGiven ? secretSources(undefined, o.pqcPassphraseEnv, o.pqcPassphraseFile) : secretSources(o.passphrase, o.passphraseEnv, o.passphraseFile), { unencrypted: o.unencryptedKey, flags: ['--passphrase', '--pqc-passphrase'] })
        : key.passphrase;
      altKey = { passphrase };
    }
    // A parent whose key is in the same token signs through the session just logged in to:
    // one PIN entry, and no second session whose logout would log the first one out.
    if (o.parent) {
      parent = await openCa(o.parent, {
        ...caAccess({ ...o, caPassphrase: o.parentPassphrase, caPassphraseEnv: o.parentPassphraseEnv, caPassphraseFile: o.parentPassphraseFile }),
        session: key.kind === 'pkcs11' ? key.session : undefined,
        ...(altKey && 'kind' in altKey ? { sessions: [altKey.session] } : {}),
      });
    }
    // The ceremony's opening, the preflight and the token steps open the new CA's journal, in order.
    const r = await initCa({ dir, profile, vars, key, altKey, parent, journalPreamble: initPreamble(dir, 'ca init'), participants: participants() });
    initDone(r.dir, 'ca init');
    emit(r, () => [
      `CA created in ${r.dir}`,
      `  subject:      ${r.certificate.subject}`,
      `  issuer:       ${r.certificate.issuer}`,
      `  serial:       ${r.certificate.serial}`,
      `  valid:        ${r.certificate.notBefore.toISOString()} → ${r.certificate.notAfter.toISOString()}`,
      `  key:          ${r.key.algorithm} ${r.key.storage.type === 'pkcs11' ? `in token "${r.key.storage.token_label}" (serial ${r.key.storage.token_serial}), label "${r.key.storage.key_label}", id ${r.key.storage.key_id}` : `file ${r.key.storage.path}${r.key.storage.encrypted ? ' (encrypted)' : ' (UNENCRYPTED)'}`}`,
      ...(r.key.generated?.attributes ? [`  attributes:   ${Object.entries(r.key.generated.attributes).map(([k, v]) => `${k}=${v}`).join(' ')}`] : []),
      ...(r.key.generated ? [`  test signature verified: ${r.key.generated.testSignatureVerified ? 'yes' : 'NO'}`] : []),
      ...(r.altKey ? [`  alt key:      ${r.altKey.algorithm} ${keyWhere(r.altKey.storage)}`] : []),
      ...(r.altKey?.generated?.attributes ? [`  alt attributes: ${Object.entries(r.altKey.generated.attributes).map(([k, v]) => `${k}=${v}`).join(' ')}`] : []),
      ...(r.altKey?.generated ? [`  alt test signature verified: ${r.altKey.generated.testSignatureVerified ? 'yes' : 'NO'}`] : []),
      `  SHA-256:      ${groupHex(r.certificate.fingerprint)}`,
      `  certificate:  ${r.certificate.path}`,
      ...lintLines(r.certificate.lint),
    ]);
  } finally {
    await parent?.close();
    closePqc();
    close();
  }
}

/**
 * QPKI's `ca init --validity YEARS --path-len N`: the profile with those two changed (a year is
 * 365 days, as QPKI counts it). Only given flags change anything.
 */
export function withQpkiOverrides(profile: Profile, o: { validity?: string; pathLen?: string }): Profile {
  let p = profile;
  if (o.validity !== undefined) {
    if (!/^\d+$/.test(o.validity) || Number(o.validity) < 1 || Number(o.validity) > 100) throw new QpkiError('INPUT_INVALID', '--validity is a whole number of years between 1 and 100.');
    if (p.validityVariable) throw new QpkiError('INPUT_INVALID', `Profile ${p.name} takes its validity from the variable "${p.validityVariable}": give --var ${p.validityVariable}=… instead of --validity.`);
    p = { ...p, validityDays: Number(o.validity) * 365 };
  }
  if (o.pathLen !== undefined) {
    if (!/^\d+$/.test(o.pathLen) || Number(o.pathLen) > 255) throw new QpkiError('INPUT_INVALID', '--path-len is a whole number between 0 and 255.');
    const bc = p.extensions.basicConstraints;
    if (!bc?.ca) throw new QpkiError('PROFILE_INVALID', `Profile ${p.name} is not a CA profile; --path-len applies to CA certificates.`);
    p = { ...p, pathLen: Number(o.pathLen), extensions: { ...p.extensions, basicConstraints: { ...bc, pathLen: Number(o.pathLen) } } };
  }
  return p;
}

/** `ca csr` */
export async function caCsr(o: InitOptions & { keyOut?: string }): Promise<void> {
  const profile = loadProfile(o.profile);
  const vars = varsFrom(o);
  const { subject } = prepareSubject(profile, vars);
  if (!o.out && !o.dir && !o.caDir) throw new QpkiError('INPUT_INVALID', 'Give --dir DIR (a pending CA directory, completed later by `qpki ca import-cert`) and/or --out FILE for the CSR.');
  if (o.out && existsSync(o.out)) throw new QpkiError('OUTPUT_EXISTS', `${o.out} exists; it is never overwritten.`);
  if (o.dir || o.caDir) return pendingCsr(o, profile, vars);
  const { key, close } = await newKeySpec(o, 'the new CA key file');
  try {
    let signer;
    let keyPath: string | undefined;
    if (key.kind === 'pkcs11') {
      // An existing key gives the same proof as a new one before its public key goes into the CSR.
      const info = key.useExisting ? (await key.session.proveKey(key.session.findKey({ label: key.label, id: key.id }))).key : (await key.session.generateKey({ algorithm: profile.algorithm, label: key.label, id: key.id })).key;
      signer = key.session.signer(info);
    } else {
      keyPath = o.keyOut ?? o.out!.replace(/\.(csr|pem|req)$/i, '') + '.key';
      const { pkcs8 } = generateSoftwareKey(profile.algorithm);
      writeKeyFile(keyPath, pkcs8, key.passphrase);
      signer = signerFromPkcs8(pkcs8, { type: 'software', path: keyPath, encrypted: key.passphrase !== null });
    }
    const der = await buildCsr({ subject, signer, signatureAlgorithm: defaultSignatureAlgorithm(signer.keyAlgorithm) });
    writeFileAtomic(o.out!, toPem(der, 'CERTIFICATE REQUEST'), { createOnly: true });
    emit({ csr: o.out, key: signer.storage }, () => [`CSR written to ${o.out}`, keyPath ? `key written to ${keyPath}` : `key in token: "${(signer.storage as { key_label: string }).key_label}"`]);
  } finally {
    close();
  }
}

/** `ca import-cert` */
export function caImportCert(o: { dir?: string; caDir?: string; cert: string; chain?: string }): void {
  const dir = resolve(caDirOf(o));
  const readInput = (f: string, what: string) => {
    try {
      return new Uint8Array(readFileSync(f));
    } catch (e) {
      throw new QpkiError('INPUT_INVALID', `Cannot read the ${what} ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
    }
  };
  const cert = readInput(o.cert, 'certificate');
  const chain = o.chain ? readInput(o.chain, 'chain') : undefined;
  if (!readPendingCa(dir)) throw new QpkiError('CA_EXISTS', `${dir} is already an active CA with its certificate; a certificate is imported only into a pending CA (made by \`qpki ca csr --dir\`).`);
  const journal = Journal.open(dir, participants());
  recordInto(journal, dir, 'ca import-cert');
  const r = importCaCertificate({ dir, cert, chain, journal });
  if (ceremonyGiven()) closeInto(journal, 'ca import-cert', dir);
  for (const w of r.warnings) warn(w);
  emit(r, () => [
    `CA ${r.dir} is active`,
    `  subject:      ${r.subject}`,
    `  issuer:       ${r.issuer}`,
    `  serial:       ${r.serial}`,
    `  valid:        ${r.notBefore} → ${r.notAfter}`,
    `  SHA-256:      ${groupHex(r.fingerprint)}`,
    `  chain:        ${r.chainLength ? `${r.chainLength} parent certificate(s), verified` : 'none given'}`,
  ]);
}

/** `ca check` */
export function caCheck(o: { dir?: string; caDir?: string; repair?: boolean }): void {
    const dir = caDirOf(o, './ca');
    const lines = (r: CaCheckResult) => [
      r.ok ? `CA directory consistent: ${r.certificates} certificate(s), journal ${r.journalEntries} entries intact.` : 'CA directory has problems:',
      ...r.problems.map((p) => `  - ${p}`),
      ...r.notes.map((n) => `  note: ${n}`),
    ];
    if (!o.repair) {
      const r = checkCaDir(dir);
      emit(r, () => [...lines(r), ...(r.repairable ? ['  run `qpki ca check --repair` to set right what the crash left (nothing is re-signed and no index.txt line is removed).'] : [])]);
      if (!r.ok) process.exitCode = 1;
      return;
    }
    const rep = repairCaDir(dir);
    emit(rep, () => [
      rep.journal ? `journal: a torn last line of ${rep.journal.removedBytes} bytes (SHA-256 ${groupHex(rep.journal.removedSha256)}) moved to ${rep.journal.savedTo}; the repair is journaled` : 'journal: ends cleanly, nothing set aside',
      ...rep.removedTempFiles.map((f) => `deleted temporary file ${f}`),
      ...rep.recordedInterruptions.map((s) => `recorded the interrupted issuance of serial ${s} in the journal`),
      ...rep.restoredCertificates.map((s) => `restored certs/${s}.crt from the signed copy in the journal`),
      ...rep.indexedCertificates.map((s) => `listed serial ${s} in index.txt again from the signed copy in the journal`),
      ...rep.revokedLost.map((s) => `revoked serial ${s} (cessationOfOperation): its certificate was lost before the journal recorded it; the next CRL lists it`),
      ...(rep.observedCertificates.length ? [`recorded in the journal ${rep.observedCertificates.length} certificate(s) another tool (QPKI) issued: ${rep.observedCertificates.join(', ')}`] : []),
      ...(rep.serialFileRaised ? [`serial file set to ${rep.serialFileRaised}, above every serial used (the next serial QPKI issues)`] : []),
      ...(rep.staleLockRemoved ? ['removed the lock of a process that no longer runs'] : []),
      ...lines(rep.after),
    ]);
    if (!rep.after.ok) process.exitCode = 1;
  }

function keyWhere(s: KeyStorageRef): string {
  return s.type === 'pkcs11' ? `token "${s.token_label}" serial ${s.token_serial}, label "${s.key_label}", id ${s.key_id}, module ${s.lib}` : `file ${s.path}${s.encrypted ? ' (encrypted)' : ''}`;
}

/** `ca csr --dir`: a pending CA directory (key, ca.csr, metadata), its CSR also copied to --out. */
async function pendingCsr(o: InitOptions & { keyOut?: string }, profile: Profile, vars: Record<string, unknown>): Promise<void> {
  const dir = caDirOf(o);
  if (o.keyOut) throw new QpkiError('INPUT_INVALID', '--key-out does not go with --dir: the key is kept inside the CA directory (versions/v1/keys/).');
  if (profile.altAlgorithm) throw new QpkiError('PROFILE_INVALID', `Profile ${profile.name} is a Catalyst hybrid; a CSR for an external parent carries one key only. Use a classical or ML-DSA CA profile.`);
  if (existsSync(join(dir, 'ca.meta.json'))) throw new QpkiError('CA_EXISTS', `${resolve(dir)} already holds a CA; it is never overwritten.`);
  const { key, close } = await newKeySpec(o, 'the new CA key file');
  try {
    const r = await createPendingCa({ dir, profile, vars, key, journalPreamble: initPreamble(dir, 'ca csr'), participants: participants() });
    initDone(r.dir, 'ca csr');
    if (o.out) writeFileAtomic(o.out, r.csrPem, { createOnly: true });
    emit({ ...r, status: 'pending', out: o.out ?? null }, () => [
      `pending CA created in ${r.dir}`,
      `  subject:      ${r.subject} (requested)`,
      `  key:          ${r.key.algorithm} ${keyWhere(r.key.storage)}`,
      ...(r.key.generated?.attributes ? [`  attributes:   ${Object.entries(r.key.generated.attributes).map(([k, v]) => `${k}=${v}`).join(' ')}`] : []),
      ...(r.key.generated ? [`  test signature verified: ${r.key.generated.testSignatureVerified ? 'yes' : 'NO'}`] : []),
      `  public key SHA-256: ${groupHex(r.key.publicKeyFingerprint)}`,
      `  CSR:          ${r.csrPath}${o.out ? ` (copy: ${o.out})` : ''}`,
      `  CSR SHA-256:  ${groupHex(r.csrSha256)}`,
      `  next:         have the parent CA sign it, then \`qpki ca import-cert --dir ${r.dir} --cert FILE --chain PARENT-CHAIN\``,
    ]);
  } finally {
    close();
  }
}
