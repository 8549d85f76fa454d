/** `qpki credential enroll`: a new key (file or token) and its certificate from an existing CA. */
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { QpkiError } from '../core/errors';
import { caKeyStorages } from '../core/ca/index';
import { prepareSubject, type CertificateAuthority } from '../core/ca/authority';
import { writeFileAtomic } from '../core/ca/fsx';
import { makeDirsDurable } from '../core/dirs';
import { defaultSignatureAlgorithm } from '../core/keys/algorithms';
import { loadProfile } from '../core/profiles/index';
import { openLoggedIn, resolveToken, type ResolvedToken } from './token';
import { secretSources, type CaOpts, type VarOptions } from './options';
import { caAccess, newKeyPassphrase, varsFrom } from './access';
import { emit } from './output';
import { openCaRecorded } from './ceremony';
import { lintLines } from './lintLines';
import { groupHex } from '../core/journal/format';

/** keys/software when the subject key is a file: `--key-in-token` never needs it. */
const softwareKeys = () => require('../core/keys/software') as typeof import('../core/keys/software');

function caDir(o: CaOpts): string {
  return o.dir ?? o.caDir ?? './ca';
}

/**
 * The token for a subject key (--key-in-token): the one named by --pkcs11-lib/--hsm-config, or
 * else the CA's own token, so the reference usage (only --ca-dir and a PIN) works here too.
 */
function subjectKeyToken(o: CaOpts): ResolvedToken {
  const named = resolveToken(o, false);
  if (named) return named;
  // Only where the CA's key is: the CA itself (certificate, index) is read when it is opened.
  const k = caKeyStorages(caDir(o)).find((x) => x.storage.type === 'pkcs11');
  if (!k || k.storage.type !== 'pkcs11') throw new QpkiError('INPUT_INVALID', 'The CA key is not in a token: name one for the new key with --pkcs11-lib and --pkcs11-token.');
  // The PIN from the CA's hsm.yaml pin_env when none is named (QPKI's usage).
  return resolveToken({ ...o, pkcs11Lib: k.storage.lib, pkcs11TokenSerial: k.storage.token_serial || undefined, pkcs11Token: k.storage.token_serial ? undefined : k.storage.token_label, pkcs11PinEnv: o.pkcs11PinEnv ?? (o.pkcs11Pin !== undefined || o.pkcs11PinFile !== undefined ? undefined : k.storage.pinEnv) })!;
}

/** `credential enroll` */
export async function credentialEnroll(o: CaOpts & VarOptions & { profile: string; credDir: string; keyInToken?: boolean; keyLabel?: string; unencryptedKey?: boolean; passphrase?: string; passphraseEnv?: string; passphraseFile?: string }): Promise<void> {
  const profile = loadProfile(o.profile);
  const vars = varsFrom(o);
  prepareSubject(profile, vars); // variable errors before any PIN is asked or key made
  if (o.keyInToken && !o.keyLabel) throw new QpkiError('INPUT_INVALID', '--key-in-token needs --key-label (the label of the new key in the token).');
  // One logged-in session serves both the subject key and the CA key when they share a token:
  // PKCS#11 login is per token, so closing a second session would log the CA's out too.
  const keySession = o.keyInToken ? await openLoggedIn(subjectKeyToken(o), o.force) : undefined;
  let ca: CertificateAuthority | undefined;
  let credDirMade: string | undefined;
  try {
    ca = await openCaRecorded(caDir(o), { ...caAccess(o), session: keySession }, 'credential enroll');
    const name = String(vars.cn ?? 'credential').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64);
    let spki: Uint8Array;
    let altSpki: Uint8Array | undefined;
    const written: string[] = [];
    let keyDesc: string;
    const base = join(resolve(o.credDir), `${name}-${Date.now().toString(36)}`);
    if (existsSync(base)) throw new QpkiError('OUTPUT_EXISTS', `${base} exists.`);
    if (keySession) {
      const rep = await keySession.generateKey({ algorithm: profile.algorithm, label: o.keyLabel! });
      spki = rep.key.spki;
      keyDesc = `in token "${keySession.token.label}", label "${o.keyLabel}", id ${rep.key.id}`;
      makeDirsDurable(base);
      credDirMade = base;
    } else {
      const passphrase = await newKeyPassphrase('the credential key file', secretSources(o.passphrase, o.passphraseEnv, o.passphraseFile), { unencrypted: o.unencryptedKey, allowUnencryptedWithoutTty: true });
      const k = softwareKeys().generateSoftwareKey(profile.algorithm);
      spki = k.spki;
      makeDirsDurable(base);
      credDirMade = base;
      const keyPath = join(base, 'key.pem');
      softwareKeys().writeKeyFile(keyPath, k.pkcs8, passphrase);
      written.push(keyPath);
      keyDesc = `file ${keyPath}${passphrase === null ? ' (UNENCRYPTED, mode 0600)' : ' (encrypted)'}`;
      if (profile.altAlgorithm) {
        const alt = softwareKeys().generateSoftwareKey(profile.altAlgorithm);
        altSpki = alt.spki;
        const altPath = join(base, `key.${profile.altAlgorithm}.pem`);
        softwareKeys().writeKeyFile(altPath, alt.pkcs8, passphrase);
        written.push(altPath);
      }
    }
    const r = await ca.issue({ profile, vars, spki, subjectAltSpki: altSpki, source: 'credential enroll' });
    credDirMade = undefined; // issued: from here on the files belong to the credential
    const certPath = join(base, 'cert.pem');
    writeFileAtomic(certPath, r.pem, { createOnly: true });
    writeFileAtomic(join(base, 'chain.pem'), r.pem + ca.chainPem(), { createOnly: true });
    written.unshift(certPath, join(base, 'chain.pem'));
    emit({ serial: r.serial, subject: r.subject, fingerprint: r.fingerprint, files: written, caCopy: r.path, key: keyDesc, signatureAlgorithm: defaultSignatureAlgorithm(ca.signer.keyAlgorithm) }, () => [
      `Credential issued: ${r.subject}`,
      `  serial:  ${r.serial}`,
      `  valid:   ${r.notBefore.toISOString()} → ${r.notAfter.toISOString()}`,
      `  SHA-256: ${groupHex(r.fingerprint)}`,
      `  key:     ${keyDesc}`,
      ...written.map((p) => `  wrote:   ${p}`),
      `  CA copy: ${r.path}`,
      ...lintLines(r.lint),
      ...r.warnings.map((w) => `  warning: ${w}`),
    ]);
  } finally {
    // Refused before issuance: leave no half-made credential directory behind.
    if (credDirMade) rmSync(credDirMade, { recursive: true, force: true });
    await ca?.close();
    keySession?.close();
  }
}
