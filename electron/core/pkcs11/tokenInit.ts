import { pkcs11js } from './native';
import { QpkiError } from '../errors';
import { mapPkcs11Error } from './errors';
import type { Pkcs11Module } from './module';
import type { TokenSummary } from './types';

export const RECOMMENDED_PIN_LENGTH = 12;

export interface InitTokenResult {
  token: TokenSummary;
  /** Advice for the operator (weak PINs); never contains a PIN. */
  warnings: string[];
}

function checkPin(what: string, pin: string, min: number, max: number, warnings: string[]): void {
  if (!pin) throw new QpkiError('PIN_REQUIRED', `The ${what} must not be empty.`);
  if (pin.length < min || pin.length > max) throw new QpkiError('PIN_LEN_RANGE', `The ${what} must be ${min} to ${max} characters for this token.`);
  if (pin.length < RECOMMENDED_PIN_LENGTH) warnings.push(`The ${what} is shorter than ${RECOMMENDED_PIN_LENGTH} characters; a longer one is strongly recommended for a CA token.`);
}

/**
 * C_InitToken (SO PIN, label) then C_InitPIN (user PIN). The token is found again by its serial
 * afterwards, since initialization may move it to another slot id.
 */
export function initToken(module: Pkcs11Module, opts: { slotId: string; label: string; soPin: string; userPin: string }): InitTokenResult {
  const { label } = opts;
  if (!label || Buffer.byteLength(label, 'utf8') > 32 || /[\u0000-\u001f\u007f]/.test(label)) {
    throw new QpkiError('INPUT_INVALID', 'The token label must be 1 to 32 bytes of printable text.');
  }
  const slot = module.slotHandle(opts.slotId);
  const before = module.tokenSummary(slot);
  const warnings: string[] = [];
  checkPin('SO PIN', opts.soPin, before.minPinLen, before.maxPinLen, warnings);
  checkPin('user PIN', opts.userPin, before.minPinLen, before.maxPinLen, warnings);
  if (module.listSlots().some((s) => s.token?.flags.initialized && s.token.label === label)) {
    throw new QpkiError('INPUT_INVALID', `A token labelled "${label}" already exists in this module; choose a distinct label so the token can be found by it.`);
  }
  try {
    module.lib.C_InitToken(slot, opts.soPin, label.padEnd(32, ' '));
  } catch (e) {
    throw mapPkcs11Error(e, 'Initializing the token');
  }
  // Slot ids can change after initialization (SoftHSM2 reassigns them): find the token again.
  const found = module.listSlots().filter((s) => s.token?.flags.initialized && s.token.label === label);
  if (found.length !== 1) throw new QpkiError('TOKEN_NOT_FOUND', `The token was initialized but "${label}" cannot be found again.`);
  const handle = module.slotHandle(found[0].slotId);
  let session: Buffer | undefined;
  try {
    session = module.lib.C_OpenSession(handle, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    module.lib.C_Login(session, pkcs11js.CKU_SO, opts.soPin);
    module.lib.C_InitPIN(session, opts.userPin);
    module.lib.C_Logout(session);
  } catch (e) {
    throw mapPkcs11Error(e, 'Setting the user PIN');
  } finally {
    if (session) try { module.lib.C_CloseSession(session); } catch { /* closing is best effort */ }
  }
  return { token: module.tokenSummary(handle), warnings };
}
