/**
 * Finding and unlocking a CA's keys from its metadata, as ours or QPKI wrote it (see meta.ts for
 * both storage forms). A CA directory is data, perhaps carried in on a USB stick: nothing in it
 * may choose code to run. So a PKCS#11 module it names must be an absolute path outside the
 * directory, and the operator's own --pkcs11-lib / --hsm-config always takes precedence over it.
 */
import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { QpkiError } from '../errors';
import type { KeyStorageRef, Signer } from '../keys/signer';
import { isEncryptedKeyFile, softwareSigner } from '../keys/software';
import { loadModule, type PinProvider, type TokenSession } from '../pkcs11/index';
import { loadHsmConfig } from './hsmYaml';
import type { KeyRef, MetaStorage } from './meta';

/** How an existing CA's keys are unlocked. Secrets are asked for when needed and not kept. */
export interface CaKeyAccess {
  /** A logged-in session to reuse (the app keeps one for the ceremony). */
  session?: TokenSession;
  /** Other logged-in sessions to reuse, on other tokens (the token of a Catalyst CA's ML-DSA key). */
  sessions?: TokenSession[];
  /** The token PIN, asked only when a token key must be logged in to. */
  pin?: PinProvider;
  /**
   * The PIN of a second token holding a Catalyst CA's alternative (ML-DSA) key, asked only if that
   * token is not the classical key's. Never defaults to `pin`: a PIN tried on the wrong token
   * spends one of its tries.
   */
  altPin?: PinProvider;
  /**
   * Whether the operator named a PIN source (flag, variable, file). When not, and the CA's own
   * hsm.yaml names a pin_env that is set, that variable is used (QPKI's usage).
   */
  pinGiven?: boolean;
  /** The module the operator named (--pkcs11-lib / --hsm-config): used instead of the CA's for its classical key. */
  pkcs11Lib?: string;
  /** The module the operator named for a Catalyst CA's ML-DSA key (--pqc-pkcs11-lib): used instead of the CA's for that key. */
  altPkcs11Lib?: string;
  confirmFinalTry?: boolean;
  /** Passphrase of a software key file; `what` names the file. */
  passphrase?: (what: string) => string | undefined | Promise<string | undefined>;
  /**
   * Whether a PKCS#11 library the CA's metadata names (none named by the operator) may be loaded
   * here. ca.meta.json is data anyone with the directory can edit, and loading a library runs its
   * code: the app allows only the library the operator opened. Absent: any library that passes
   * checkedModulePath.
   */
  allowModule?: (lib: string) => boolean;
}

export type ResolvedStorage = KeyStorageRef & { pinEnv?: string };

function inside(dir: string, p: string): boolean {
  const rel = relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** A module path taken from a CA directory's metadata, checked before anything loads it. */
export function checkedModulePath(dir: string, lib: string, where: string): string {
  const fix = 'Name the module yourself with --pkcs11-lib (or --hsm-config).';
  if (!isAbsolute(lib)) throw new QpkiError('CA_INVALID', `${where} names the PKCS#11 module "${lib}", which is not an absolute path; a CA directory cannot choose which code is loaded. ${fix}`);
  let real = lib;
  try {
    real = realpathSync(lib);
  } catch {
    /* missing: Pkcs11Module.load says so */
  }
  let realDir = dir;
  try {
    realDir = realpathSync(dir);
  } catch {
    /* the directory was just read */
  }
  if (inside(realDir, real) || inside(dir, lib)) throw new QpkiError('CA_INVALID', `${where} names the PKCS#11 module ${lib}, which lies inside the CA directory; a CA directory never brings the code that opens it. ${fix}`);
  return lib;
}

/**
 * The storage of a key as ours uses it: QPKI's `config` + `label` resolved through the hsm.yaml
 * it names (relative to the CA directory), a software key's `encrypted` read from the file.
 */
export function resolveKeyStorage(dir: string, s: MetaStorage): ResolvedStorage {
  if (s.type !== 'pkcs11') {
    const path = isAbsolute(s.path) ? s.path : join(dir, s.path);
    // The file says whether it is encrypted (`key convert` may have changed it; QPKI does not record it).
    const encrypted = existsSync(path) ? isEncryptedKeyFile(path) : (s.encrypted ?? false);
    return { type: 'software', path: s.path, encrypted };
  }
  if (s.lib !== undefined && s.key_label !== undefined) {
    // Ours names the token itself; the hsm.yaml written beside it for QPKI still says which
    // variable holds the PIN (read only for that, and only if it is a valid one). It is read when
    // asked for: a run given its PIN (prompt, file) never needs it, nor the YAML parser.
    const config = s.config;
    let pinEnv: { value: string | undefined } | undefined;
    return {
      type: 'pkcs11', lib: s.lib, token_label: s.token_label ?? '', token_serial: s.token_serial ?? '', key_label: s.key_label, key_id: (s.key_id ?? '').toLowerCase(),
      get pinEnv(): string | undefined {
        pinEnv ??= { value: config ? pinEnvOf(resolve(dir, config)) : undefined };
        return pinEnv.value;
      },
    };
  }
  const cfgPath = isAbsolute(s.config!) ? s.config! : resolve(dir, s.config!);
  if (!existsSync(cfgPath)) throw new QpkiError('CA_INVALID', `The CA key's HSM configuration ${s.config} (storage.config in ca.meta.json) is missing from ${dir}.`);
  const c = loadHsmConfig(cfgPath, 'CA_INVALID');
  if (c.token === undefined && c.token_serial === undefined) throw new QpkiError('CA_INVALID', `${cfgPath} names the token by slot only; qpki ceremony needs its label (token) or serial (token_serial), since slot numbers change.`);
  return { type: 'pkcs11', lib: c.lib, token_label: c.token ?? '', token_serial: c.token_serial ?? '', key_label: s.label ?? '', key_id: (s.key_id ?? '').toLowerCase(), pinEnv: c.pin_env };
}

/** The pin_env of the hsm.yaml at `path`; none when it is missing or not a valid one. */
function pinEnvOf(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return loadHsmConfig(path, 'CA_INVALID').pin_env;
  } catch {
    return undefined;
  }
}

/** One line saying where a key is, for `ca info`; a storage that does not resolve says why instead. */
export function describeKeyStorage(dir: string, s: MetaStorage): string {
  let r: ResolvedStorage;
  try {
    r = resolveKeyStorage(dir, s);
  } catch (e) {
    return `unusable: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (r.type === 'software') return `file ${r.path}${r.encrypted ? ' (encrypted)' : ' (not encrypted)'}`;
  return `token "${r.token_label}"${r.token_serial ? ` serial ${r.token_serial}` : ''}, label "${r.key_label}"${r.key_id ? `, id ${r.key_id}` : ''}, module ${r.lib}${s.type === 'pkcs11' && s.lib === undefined ? ` (from ${s.config})` : ''}`;
}

/**
 * A Signer for one of the CA's keys: the file decrypted, or the token found and logged in to. A
 * token key reuses a session on its token when one is open (the caller's, or one opened for the
 * CA's other key, kept in `opened`): PKCS#11 login is per token, so a second session needs no
 * PIN, and closing it would log the first one out. `pin` is this key's token PIN.
 */
export async function signerForRef(dir: string, ref: KeyRef, access: CaKeyAccess, opened: TokenSession[] = [], pin: PinProvider | undefined = access.pin, libOverride: string | undefined = access.pkcs11Lib): Promise<Signer> {
  const s = resolveKeyStorage(dir, ref.storage);
  if (s.type === 'software') {
    const path = isAbsolute(s.path) ? s.path : join(dir, s.path);
    if (!existsSync(path)) throw new QpkiError('KEY_NOT_FOUND', `The CA key file ${path} named in ca.meta.json is missing.`);
    const pass = s.encrypted ? await access.passphrase?.(path) : undefined;
    if (s.encrypted && pass === undefined) throw new QpkiError('PASSPHRASE_REQUIRED', `The CA key ${path} is encrypted; give its passphrase.`);
    // Keep the metadata's relative path in the storage reference the signer reports.
    return { ...softwareSigner(path, pass), storage: s };
  }
  const lib = libOverride ?? checkedModulePath(dir, s.lib, `${dir}/ca.meta.json`);
  const onToken = (x: TokenSession | undefined): x is TokenSession =>
    !!x && x.module.path === lib && (s.token_serial ? x.token.serial === s.token_serial : x.token.label === s.token_label);
  let session = [access.session, ...(access.sessions ?? []), ...opened].find(onToken);
  if (!session) {
    if (!libOverride && access.allowModule && !access.allowModule(lib)) {
      throw new QpkiError('MODULE_NOT_APPROVED', `The CA's metadata names the PKCS#11 library ${lib}, which was not chosen for this operation and is not installed where its vendor installs it; it is not loaded. If it is the CA's library, name it yourself: --pkcs11-lib ${lib} (or --hsm-config FILE naming it; for a Catalyst CA's ML-DSA key in a token of its own, --pqc-pkcs11-lib ${lib}).`);
    }
    session = loadModule(lib).openSession(s.token_serial ? { serial: s.token_serial } : { label: s.token_label });
    opened.push(session);
  }
  // QPKI's usage: the PIN from the variable its hsm.yaml names, unless the operator named a source.
  const fromEnv = !access.pinGiven && s.pinEnv ? process.env[s.pinEnv] : undefined;
  const p = fromEnv ? () => fromEnv : pin;
  if (!session.isLoggedIn) {
    await session.login(p ? await p() : undefined, { confirmFinalTry: access.confirmFinalTry === true });
  }
  const key = session.findKey({ label: s.key_label || undefined, id: s.key_id || undefined });
  return session.signer(key, p);
}
