/** `qpki ca rotate|versions|activate`: CA key versions, with QPKI's names and layout (core/ca/versions.ts). */
import { resolve } from 'node:path';
import { QpkiError } from '../core/errors';
import { describeCaDir } from '../core/ca/index';
import { activateVersion, listVersions, rotateCa } from '../core/ca/versions';
import { loadProfile } from '../core/profiles/index';
import { caAccess, newKeyPassphrase, varsFrom } from './access';
import { openCaRecorded, participants } from './ceremony';
import { emit } from './output';
import { openLoggedIn, resolveToken } from './token';
import { secretSources, type CaOpts, type PassphraseOptions, type VarOptions } from './options';
import type { NewCaKey } from '../core/ca/authority';
import { groupHex } from '../core/journal/format';

function caDir(o: { dir?: string; caDir?: string }): string {
  return o.dir ?? o.caDir ?? './ca';
}

/** `ca versions` */
export function caVersions(o: { dir?: string; caDir?: string }): void {
  const r = listVersions(caDir(o));
  emit(r, () => [
    `CA ${r.dir}: ${r.versions.length} version(s), ${r.active} active`,
    ...r.versions.map((v) => `  ${v.id.padEnd(4)} ${v.status.padEnd(8)} ${(v.profiles.filter(Boolean).join(', ') || '-').padEnd(26)} ${v.algos.join(' + ').padEnd(24)} created ${v.created.slice(0, 10)}${v.activatedAt ? `, activated ${v.activatedAt.slice(0, 10)}` : ''}${v.archivedAt ? `, archived ${v.archivedAt.slice(0, 10)}` : ''}${v.crossSignedBy.length ? `, cross-signed by ${v.crossSignedBy.join(', ')}` : ''}` +
      (v.certificate ? `\n       serial ${v.certificate.serial}, valid until ${v.certificate.notAfter}, SHA-256 ${groupHex(v.certificate.sha256)}` : `\n       ${v.problem}`)),
  ]);
}

/** `ca activate --version ID` */
export function caActivate(o: { dir?: string; caDir?: string; version: string }): void {
  const r = activateVersion(caDir(o), o.version, participants());
  emit(r, () => [`Version ${r.active} is now active (it signs from now on); ${r.previous} is archived.`, `  certificate: ${r.certificate}`]);
}

/** `ca rotate [-P PROFILE] [--cross-sign] [--dry-run]` */
export async function caRotate(o: CaOpts & VarOptions & PassphraseOptions & { profile?: string; crossSign?: boolean; dryRun?: boolean; pkcs11KeyLabel?: string; keyLabel?: string; unencryptedKey?: boolean }): Promise<void> {
  const dir = resolve(caDir(o));
  const d = describeCaDir(dir);
  const active = d.meta.versions[d.meta.active];
  const profileName = o.profile ?? active.profiles.find((p) => p);
  if (!profileName) throw new QpkiError('INPUT_INVALID', `The active version of ${dir} does not name its profile (QPKI leaves it empty): give the new version's with --profile.`);
  const profile = loadProfile(profileName);
  const keyRef = d.keys().find((k) => k.id !== 'pqc')!;
  const inToken = keyRef.storage.type === 'pkcs11' || !!o.hsmConfig || !!o.pkcs11Lib;
  const nextId = `v${Object.keys(d.meta.versions).length + 1}`;
  const label = o.pkcs11KeyLabel ?? o.keyLabel ?? (keyRef.storage.type === 'pkcs11' ? `${keyRef.storage.key_label}-${nextId}` : undefined);
  if (o.dryRun) {
    emit({ dir, currentVersion: d.meta.active, newVersion: nextId, profile: profile.name, algorithm: profile.algorithm, key: inToken ? { token: true, label } : { token: false }, crossSign: !!o.crossSign }, () => [
      `ca rotate (dry run) of ${dir}: nothing is made`,
      `  1. generate a new ${profile.algorithm}${profile.altAlgorithm ? ` + ${profile.altAlgorithm}` : ''} key ${inToken ? `in the token, label "${label}"` : `file versions/${nextId}/keys/`}`,
      `  2. sign a self-signed certificate for ${d.subject} with it (profile ${profile.name}): version ${nextId}, pending`,
      ...(o.crossSign ? [`  3. cross-sign: ${d.meta.active}'s key certifies ${nextId}'s, and ${nextId}'s certifies ${d.meta.active}'s`] : []),
      `  then: qpki ca activate --ca-dir ${dir} --version ${nextId}`,
    ]);
    return;
  }
  // One logged-in session serves the new key and the current one when they share a token
  // (PKCS#11 login is per token: closing a second session would log the first out).
  const st = keyRef.storage.type === 'pkcs11' ? keyRef.storage : undefined;
  if (inToken && !label) throw new QpkiError('INPUT_INVALID', "Give the new key's label with --key-label.");
  const session = inToken ? await openLoggedIn(resolveToken({ ...o, pkcs11Lib: o.pkcs11Lib ?? st?.lib, pkcs11TokenSerial: o.pkcs11TokenSerial ?? (st?.token_serial || undefined), pkcs11Token: o.pkcs11Token ?? (st && !st.token_serial ? st.token_label : undefined), pkcs11PinEnv: o.pkcs11PinEnv ?? (o.pkcs11Pin !== undefined || o.pkcs11PinFile !== undefined ? undefined : st?.pinEnv) })!, o.force) : undefined;
  let ca;
  try {
    // The rollover is a ceremony on the CA, recorded in its journal like the others.
    ca = await openCaRecorded(dir, { ...caAccess(o), session }, 'ca rotate');
    const key: NewCaKey = session
      ? { kind: 'pkcs11', session, label: label!, pinEnv: o.pkcs11PinEnv }
      : { kind: 'software', passphrase: await newKeyPassphrase('the new CA key file', secretSources(o.passphrase, o.passphraseEnv, o.passphraseFile), { unencrypted: o.unencryptedKey }) };
    const altKey = profile.altAlgorithm ? { passphrase: key.kind === 'software' ? key.passphrase : await newKeyPassphrase('the new post-quantum CA key file', secretSources(o.passphrase, o.passphraseEnv, o.passphraseFile), { unencrypted: o.unencryptedKey }) } : undefined;
    const r = await rotateCa({ current: ca, profile, vars: varsFrom(o), key, altKey, crossSign: o.crossSign });
    emit(r, () => [
      `New version ${r.version} of ${dir} made, PENDING (the current key keeps signing until it is activated)`,
      `  certificate: ${r.certificate.path}`,
      `  serial:      ${r.certificate.serial}`,
      `  SHA-256:     ${groupHex(r.certificate.sha256)}`,
      `  key:         ${r.key.algorithm} ${r.key.storage.type === 'pkcs11' ? `in token "${r.key.storage.token_label}", label "${r.key.storage.key_label}", id ${r.key.storage.key_id}` : `file ${r.key.storage.path}`}`,
      ...r.crossSigned.map((c) => `  cross certificate: ${c.issuedBy}'s key certifies ${c.subjectKey}'s, serial ${c.serial}, ${c.path}`),
      `  next:        qpki ca activate --ca-dir ${dir} --version ${r.version}`,
    ]);
  } finally {
    await ca?.close();
    session?.close();
  }
}
