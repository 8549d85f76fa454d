/**
 * Finding and unlocking a CA's keys from its metadata, as ours or QPKI wrote it (see meta.ts for
 * both storage forms). A CA directory is data, perhaps carried in on a USB stick: nothing in it
 * may choose code to run. So a PKCS#11 module it names must be an absolute path outside the
 * directory, and the operator's own --pkcs11-lib / --hsm-config always takes precedence over it.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { QpkiError } from '../errors';
import type { Signer } from '../keys/signer';
import { loadModule, type PinProvider, type TokenSession } from '../pkcs11/index';
import { checkedModulePath, resolveKeyStorage } from './keyStorage';
import type { KeyRef } from './meta';

/** keys/software (PKCS#8, key files, ML-DSA) when a software key is made or opened: a CA whose key is in a token never needs it. */
const softwareKeys = () => require('../keys/software') as typeof import('../keys/software');

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

// Where a key is (its storage resolved without loading any key or library) lives in keyStorage.ts.
export { checkedModulePath, describeKeyStorage, resolveKeyStorage, type ResolvedStorage } from './keyStorage';

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
    return { ...softwareKeys().softwareSigner(path, pass), storage: s };
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
