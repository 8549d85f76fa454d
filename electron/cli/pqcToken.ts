/**
 * The token of a Catalyst CA's ML-DSA key, on the command line. By default a Catalyst CA keeps
 * its ML-DSA key in a file (most tokens have no ML-DSA); `--pqc-pkcs11-key-label` puts it in a
 * token with PKCS#11 3.2 CKM_ML_DSA: the classical key's token, or one named by the --pqc-pkcs11-*
 * options (another token of the same module, or another module and HSM altogether).
 */
import { resolve } from 'node:path';
import { QpkiError } from '../core/errors';
import { loadModule, type TokenSession } from '../core/pkcs11/index';
import { loadHsmConfig } from './hsmConfig';
import { lazySecret } from './secrets';
import { openLoggedIn, tokenRefFor, type ResolvedToken } from './token';
import type { PqcTokenOptions, TokenOptions } from './options';

/** Whether the --pqc-pkcs11-* options name a token of their own. */
export function pqcTokenNamed(o: PqcTokenOptions): boolean {
  return !!(o.pqcPkcs11Lib || o.pqcHsmConfig || o.pqcPkcs11Token || o.pqcPkcs11TokenSerial);
}

/** The token named by the --pqc-pkcs11-* options, or undefined when none is named (then: the classical key's token). */
export function resolvePqcToken(o: PqcTokenOptions & TokenOptions): ResolvedToken | undefined {
  if (!pqcTokenNamed(o)) return undefined;
  const c = o.pqcHsmConfig ? loadHsmConfig(o.pqcHsmConfig) : undefined;
  // A second token of the same module needs only its label or serial.
  const lib = o.pqcPkcs11Lib ?? c?.lib ?? o.pkcs11Lib;
  if (!lib) throw new QpkiError('INPUT_INVALID', 'Give the PKCS#11 module of the ML-DSA key\'s token with --pqc-pkcs11-lib (or --pqc-hsm-config).');
  const label = o.pqcPkcs11Token ?? c?.token;
  const serial = o.pqcPkcs11TokenSerial ?? c?.token_serial;
  if (!label && !serial) throw new QpkiError('INPUT_INVALID', 'Name the ML-DSA key\'s token with --pqc-pkcs11-token LABEL or --pqc-pkcs11-token-serial SERIAL.');
  return {
    lib,
    ref: { label, serial },
    pin: pqcPin({ ...o, pqcPkcs11PinEnv: o.pqcPkcs11PinEnv ?? c?.pin_env }),
    pinNamed: o.pqcPkcs11Pin !== undefined || o.pqcPkcs11PinEnv !== undefined || o.pqcPkcs11PinFile !== undefined || c?.pin_env !== undefined,
  };
}

/** The PIN of the ML-DSA key's own token: its own options or prompt, never the classical token's PIN. */
export function pqcPin(o: PqcTokenOptions): () => Promise<string> {
  return lazySecret('PIN of the token holding the ML-DSA key', '--pqc-pkcs11-pin', { value: o.pqcPkcs11Pin, env: o.pqcPkcs11PinEnv, file: o.pqcPkcs11PinFile }, 'PIN_REQUIRED');
}

/**
 * A logged-in session on the ML-DSA key's token: `classical` itself when that is the same token
 * (one login; a second session's logout would end the first one's), else a session of its own.
 */
export async function openPqcSession(o: PqcTokenOptions & TokenOptions, classical: TokenSession | undefined): Promise<{ session: TokenSession; own: boolean }> {
  const t = resolvePqcToken(o);
  if (!t) {
    if (!classical) throw new QpkiError('INPUT_INVALID', 'The classical CA key is a file here: name the token for the ML-DSA key with --pqc-pkcs11-lib and --pqc-pkcs11-token (or --pqc-hsm-config).');
    return { session: classical, own: false };
  }
  if (classical && resolve(t.lib) === resolve(classical.module.path)) {
    const mod = loadModule(classical.module.path);
    if (mod.findToken(tokenRefFor(mod, t.ref)).token.serial === classical.token.serial) return { session: classical, own: false };
  }
  return { session: await openLoggedIn(t, o.force), own: true };
}
