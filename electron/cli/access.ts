/**
 * What commands share to reach keys: profile variables, passphrases for new key files, and the
 * PIN and passphrases of an existing CA's keys, each asked only when needed.
 */
import { QpkiError } from '../core/errors';
import type { CaKeyAccess } from '../core/ca/index';
import { loadVarFile, parseVarArgs } from '../core/profiles/index';
import { realpathSync } from 'node:fs';
import { isInstalledVendorModule } from '../core/pkcs11/index';
import { resolveToken } from './token';
import type { PqcTokenOptions, TokenOptions, VarOptions } from './options';
import { pqcPin } from './pqcToken';
import { lazySecret, readSecret, warn, type SecretSources } from './secrets';
import { secretSources } from './options';

export function varsFrom(o: VarOptions): Record<string, unknown> {
  return { ...(o.varFile ? loadVarFile(o.varFile) : {}), ...parseVarArgs(o.var ?? []) };
}

/** Passphrase for a key file about to be written: flag, env, file or prompt; null = unencrypted. */
export async function newKeyPassphrase(what: string, sources: SecretSources, opts: { unencrypted?: boolean; allowUnencryptedWithoutTty?: boolean; flags?: string[] }): Promise<string | null> {
  if (opts.unencrypted) {
    warn(`${what} is written UNENCRYPTED (--unencrypted-key), protected only by file mode 0600.`);
    return null;
  }
  const v = await readSecret(`passphrase for ${what}`, '--passphrase', sources, { confirm: true });
  if (v === undefined) {
    if (opts.allowUnencryptedWithoutTty) {
      warn(`no passphrase given and no terminal: ${what} is written UNENCRYPTED, protected only by file mode 0600.`);
      return null;
    }
    // The flags that would have given it, so the message never names a flag that was given and did not apply.
    const flags = (opts.flags ?? ['--passphrase']).map((f) => `${f}-env VAR or ${f}-file FILE`).join(', or ');
    throw new QpkiError('PASSPHRASE_REQUIRED', `A passphrase is needed for ${what}: give ${flags}, run on a terminal, or pass --unencrypted-key.`);
  }
  if (v.length < 12) warn(`the passphrase for ${what} is shorter than 12 characters.`);
  return v;
}

/** Key access for an existing CA: token PIN and key-file passphrases, asked only when needed. */
export function caAccess(o: TokenOptions & PqcTokenOptions & { caPassphrase?: string; caPassphraseEnv?: string; caPassphraseFile?: string; pqcPassphraseEnv?: string; pqcPassphraseFile?: string }): CaKeyAccess {
  // Without token options the CA's own token is used (from ca.meta.json); only the PIN comes from here.
  const pin = lazySecret('token PIN', '--pkcs11-pin', { value: o.pkcs11Pin, env: o.pkcs11PinEnv, file: o.pkcs11PinFile }, 'PIN_REQUIRED');
  const t = o.hsmConfig || o.pkcs11Lib ? resolveToken({ ...o, pkcs11Token: o.pkcs11Token ?? '-', pkcs11Lib: o.pkcs11Lib }, false) : undefined;
  const caSources = secretSources(o.caPassphrase, o.caPassphraseEnv, o.caPassphraseFile);
  const ca = lazySecret('CA key passphrase', '--ca-passphrase', caSources, 'PASSPHRASE_REQUIRED');
  // One passphrase for both keys of a Catalyst CA unless the ML-DSA one is named (QPKI uses one).
  const pqcNamed = o.pqcPassphraseEnv !== undefined || o.pqcPassphraseFile !== undefined;
  const pqc = pqcNamed ? lazySecret('post-quantum CA key passphrase', '--pqc-passphrase', { env: o.pqcPassphraseEnv, file: o.pqcPassphraseFile }, 'PASSPHRASE_REQUIRED') : ca;
  return {
    pin: t ? t.pin : pin,
    // Asked only if the CA's ML-DSA key is in a token other than the classical key's.
    altPin: pqcPin(o),
    pinGiven: o.pkcs11Pin !== undefined || o.pkcs11PinEnv !== undefined || o.pkcs11PinFile !== undefined || !!t?.pinNamed,
    // The module the operator named is the one loaded, whatever the CA directory says.
    pkcs11Lib: t?.lib,
    altPkcs11Lib: o.pqcPkcs11Lib,
    // A library the CA's files name is loaded only if the command line names it too, or it is
    // installed where its vendor installs it: a CA directory must not choose the code that runs.
    allowModule: (lib) => isInstalledVendorModule(lib) || [t?.lib, o.pqcPkcs11Lib].some((named) => !!named && sameFile(named, lib)),
    confirmFinalTry: o.force,
    passphrase: (path) => (/ml-dsa/.test(path) ? pqc() : ca()),
  };
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return a === b;
  }
}
