import { QpkiError } from '../core/errors';
import { loadModule, type Pkcs11Module, type TokenRef, type TokenSession } from '../core/pkcs11/index';
import { loadHsmConfig } from './hsmConfig';
import { lazySecret } from './secrets';
import { writeErr } from './output';
import { holdLogin, holdModule, holdToken } from './ceremony';
import type { TokenOptions } from './options';

export interface ResolvedToken {
  lib: string;
  /** Whether a PIN source was named (flag, variable, file, or the hsm.yaml's pin_env). */
  pinNamed: boolean;
  ref: TokenRef & { slot?: string };
  pin: () => Promise<string>;
}

export function resolveToken(o: TokenOptions, required = true): ResolvedToken | undefined {
  let lib = o.pkcs11Lib;
  let label = o.pkcs11Token;
  let serial = o.pkcs11TokenSerial;
  let slot = o.pkcs11Slot;
  let pinEnv = o.pkcs11PinEnv;
  if (o.hsmConfig) {
    const c = loadHsmConfig(o.hsmConfig);
    lib ??= c.lib;
    label ??= c.token;
    serial ??= c.token_serial;
    slot ??= c.slot !== undefined ? String(c.slot) : undefined;
    pinEnv ??= c.pin_env;
  }
  if (!lib) {
    if (required) throw new QpkiError('INPUT_INVALID', 'Give the PKCS#11 module with --pkcs11-lib (or --hsm-config).');
    return undefined;
  }
  if (!label && !serial && !slot) throw new QpkiError('INPUT_INVALID', 'Name the token with --pkcs11-token LABEL or --pkcs11-token-serial SERIAL.');
  return {
    lib,
    pinNamed: o.pkcs11Pin !== undefined || pinEnv !== undefined || o.pkcs11PinFile !== undefined,
    ref: { label, serial, slot },
    pin: lazySecret('token PIN', '--pkcs11-pin', { value: o.pkcs11Pin, env: pinEnv, file: o.pkcs11PinFile }, 'PIN_REQUIRED'),
  };
}

export function tokenRefFor(mod: Pkcs11Module, ref: ResolvedToken['ref']): TokenRef {
  if (ref.label || ref.serial) return { label: ref.label, serial: ref.serial };
  const slot = mod.listSlots().find((s) => s.slotId === ref.slot);
  if (!slot?.token) throw new QpkiError('SLOT_NOT_FOUND', `Slot ${ref.slot} has no token.`);
  return { serial: slot.token.serial };
}

/** Open the token and log in (the PIN is read now, used once, and not kept). */
export async function openLoggedIn(t: ResolvedToken, force?: boolean): Promise<TokenSession> {
  const mod = loadModule(t.lib);
  const info = mod.info();
  holdModule(info.path, { manufacturer: info.manufacturer, description: info.description, libraryVersion: info.libraryVersion });
  const session = mod.openSession(tokenRefFor(mod, t.ref));
  holdToken(session);
  let pin: string;
  try {
    pin = await t.pin();
  } catch (e) {
    session.close();
    throw e;
  }
  try {
    const r = await session.login(pin, { confirmFinalTry: force === true });
    holdLogin(session);
    for (const w of r.warnings) writeErr(`warning: ${w}\n`);
  } catch (e) {
    holdLogin(session, e);
    session.close();
    throw e;
  }
  return session;
}
