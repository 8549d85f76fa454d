import { pkcs11js } from './native';
import { QpkiError } from '../errors';
import { mapPkcs11Error } from './errors';
import type { Pkcs11Module } from './module';
import { clearWrongPin, noteWrongPin, waitPinPause } from './pinPace';
import type { TokenSummary } from './types';

export const RECOMMENDED_PIN_LENGTH = 12;
// CK_STATE values of a session logged in as the user (pkcs11js does not export them).
const CKS_RO_USER_FUNCTIONS = 1;
const CKS_RW_USER_FUNCTIONS = 3;

/** A question initialization asks the caller (main's dialog in the app; the command line's flags). */
export type InitTokenQuestion =
  /** `objects`: what a session of this process sees on the token, or null when the token would not list them. */
  | { kind: 'reinitialize-token'; token: TokenSummary; slotId: string; objects: ObjectCount | null }
  | { kind: 'final-pin-try'; token: TokenSummary; pin: 'SO' };

/**
 * Objects a session sees: public ones only, unless this process is logged in to the token
 * (login state is per application), when its private objects (the keys) are counted too.
 */
export interface ObjectCount {
  count: number;
  includesPrivate: boolean;
}

export interface InitTokenOptions {
  slotId: string;
  label: string;
  soPin: string;
  userPin: string;
  /**
   * The operator chose to re-initialize an initialized token (destroying every object on it) and
   * typed its current label to confirm. Without it an initialized token is refused.
   */
  reinitialize?: { confirmLabel: string };
  /** Asked before a re-initialization and before the SO PIN's final try: only an explicit true goes on. */
  confirm?: (q: InitTokenQuestion) => Promise<boolean>;
  /**
   * Called once every question was answered yes, before the SO PIN is sent: the caller closes its
   * own sessions on this token (a logged-in user session blocks the SO login, and C_InitToken
   * refuses while any session is open).
   */
  releaseToken?: (token: TokenSummary) => void;
}

export interface InitTokenResult {
  token: TokenSummary;
  /** Advice for the operator (weak PINs, SO PIN tries running low); never contains a PIN. */
  warnings: string[];
  /** What the token was before a re-initialization; null for a token initialized the first time. */
  reinitialized: { previousLabel: string; previousSerial: string; objects: ObjectCount | null; soPinFinalTry: boolean } | null;
}

function checkPin(what: string, pin: string, min: number, max: number, warnings: string[]): void {
  if (!pin) throw new QpkiError('PIN_REQUIRED', `The ${what} must not be empty.`);
  if (pin.length < min || pin.length > max) throw new QpkiError('PIN_LEN_RANGE', `The ${what} must be ${min} to ${max} characters for this token.`);
  if (pin.length < RECOMMENDED_PIN_LENGTH) warnings.push(`The ${what} is shorter than ${RECOMMENDED_PIN_LENGTH} characters; a longer one is strongly recommended for a CA token.`);
}

/**
 * The token in this slot as it is now, and whether it may be initialized as asked: an initialized
 * token only with `reinitialize` naming its current label. Nothing is sent to the token. The
 * command line calls this before it asks for any PIN.
 */
export function tokenToInitialize(module: Pkcs11Module, slotId: string, reinitialize?: { confirmLabel: string }): TokenSummary {
  const before = module.tokenSummary(module.slotHandle(slotId));
  if (!before.flags.initialized) return before;
  if (!reinitialize) {
    throw new QpkiError(
      'TOKEN_ALREADY_INITIALIZED',
      `Token "${before.label}" (serial ${before.serial}) in slot ${slotId} is already initialized: initializing it again destroys every key and object on it. To do that deliberately, choose to re-initialize it and type its current label (qpki: --reinitialize "${before.label}"). Nothing was sent to the token.`,
    );
  }
  if (reinitialize.confirmLabel !== before.label) {
    throw new QpkiError('INPUT_INVALID', `To re-initialize the token in slot ${slotId}, type its current label exactly ("${before.label}"); the label typed does not match. Nothing was sent to the token.`);
  }
  return before;
}

/** The objects a new session of this process sees on the token, or null when the token will not say. */
function objectCount(module: Pkcs11Module, slot: Buffer): ObjectCount | null {
  let session: Buffer | undefined;
  try {
    session = module.lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
    const st = module.lib.C_GetSessionInfo(session).state;
    const includesPrivate = st === CKS_RO_USER_FUNCTIONS || st === CKS_RW_USER_FUNCTIONS;
    module.lib.C_FindObjectsInit(session, []);
    try {
      return { count: module.lib.C_FindObjects(session, 100_000).length, includesPrivate };
    } finally {
      module.lib.C_FindObjectsFinal(session);
    }
  } catch {
    return null;
  } finally {
    if (session) try { module.lib.C_CloseSession(session); } catch { /* closing is best effort */ }
  }
}

/**
 * The SO PIN, checked by an SO login before anything is destroyed. C_InitToken checks it too,
 * but some tokens do not count a wrong SO PIN there (opencryptoki does not), which would give
 * unlimited guesses; a C_Login as SO is counted like any login.
 */
function verifySoPin(module: Pkcs11Module, slot: Buffer, soPin: string, token: TokenSummary): void {
  let session: Buffer | undefined;
  try {
    session = module.lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    module.lib.C_Login(session, pkcs11js.CKU_SO, soPin);
    try { module.lib.C_Logout(session); } catch { /* closing the session logs out too */ }
  } catch (e) {
    const err = mapPkcs11Error(e, 'Checking the SO PIN');
    if (err.code === 'PIN_INCORRECT' || err.code === 'PIN_LOCKED') {
      noteWrongPin(module.path, token.serial);
      let now = '';
      try {
        const f = module.tokenSummary(slot).flags;
        now = f.soPinLocked ? ' The SO PIN is now locked.' : f.soPinFinalTry ? ' One SO PIN try is left before it locks.' : f.soPinCountLow ? ' Few SO PIN tries are left.' : '';
      } catch {
        /* the state read is informative only */
      }
      throw new QpkiError(err.code, `${err.code === 'PIN_LOCKED' ? 'The SO PIN is locked.' : 'The SO PIN is incorrect.'}${now} Token "${token.label}" was not re-initialized; nothing on it was destroyed.`, err.details);
    }
    throw err;
  } finally {
    if (session) try { module.lib.C_CloseSession(session); } catch { /* closing is best effort */ }
  }
  clearWrongPin(module.path, token.serial);
}

/**
 * C_InitToken (SO PIN, label) then C_InitPIN (user PIN). An initialized token is refused unless
 * the operator chose to re-initialize it, typed its label and answered yes (see the options);
 * then its SO PIN is checked by a counted SO login first, with the same rules as a user login:
 * locked is refused without trying, the final try must be confirmed, a wrong one makes the next
 * attempt wait. The token is found again by its label afterwards, since initialization may move
 * it to another slot id.
 */
export async function initToken(module: Pkcs11Module, opts: InitTokenOptions): Promise<InitTokenResult> {
  const { label } = opts;
  if (!label || Buffer.byteLength(label, 'utf8') > 32 || /[\u0000-\u001f\u007f]/.test(label)) {
    throw new QpkiError('INPUT_INVALID', 'The token label must be 1 to 32 bytes of printable text.');
  }
  const before = tokenToInitialize(module, opts.slotId, opts.reinitialize);
  const slot = module.slotHandle(opts.slotId);
  const warnings: string[] = [];
  checkPin('SO PIN', opts.soPin, before.minPinLen, before.maxPinLen, warnings);
  checkPin('user PIN', opts.userPin, before.minPinLen, before.maxPinLen, warnings);
  if (module.listSlots().some((s) => s.slotId !== opts.slotId && s.token?.flags.initialized && s.token.label === label)) {
    throw new QpkiError('INPUT_INVALID', `A token labelled "${label}" already exists in this module; choose a distinct label so the token can be found by it.`);
  }
  let reinitialized: InitTokenResult['reinitialized'] = null;
  if (before.flags.initialized) {
    const f = before.flags;
    if (f.soPinLocked) {
      throw new QpkiError('PIN_LOCKED', `The SO PIN of token "${before.label}" is locked: the token cannot be re-initialized (only the vendor's recovery procedure can). No SO PIN was sent.`);
    }
    const ask = async (q: InitTokenQuestion) => (opts.confirm ? (await opts.confirm(q)) === true : false);
    const objects = objectCount(module, slot);
    if (!(await ask({ kind: 'reinitialize-token', token: before, slotId: opts.slotId, objects }))) {
      throw new QpkiError('TOKEN_ALREADY_INITIALIZED', `Re-initializing token "${before.label}" (serial ${before.serial}) was not confirmed: nothing was sent to the token and nothing on it was destroyed.`);
    }
    if (f.soPinFinalTry && !(await ask({ kind: 'final-pin-try', token: before, pin: 'SO' }))) {
      throw new QpkiError('PIN_FINAL_TRY', `The SO PIN of token "${before.label}" has one try left: a wrong SO PIN locks it. The final try was not confirmed, so no SO PIN was sent (confirm it when asked; --force on the command line).`);
    }
    if (f.soPinFinalTry) warnings.push('Final SO PIN try: a wrong SO PIN locks it.');
    else if (f.soPinCountLow) warnings.push('A wrong SO PIN was entered recently: few tries are left before the SO PIN locks.');
    opts.releaseToken?.(before);
    await waitPinPause(module.path, before.serial);
    verifySoPin(module, slot, opts.soPin, before);
    reinitialized = { previousLabel: before.label, previousSerial: before.serial, objects, soPinFinalTry: f.soPinFinalTry };
  }
  try {
    module.lib.C_InitToken(slot, opts.soPin, label.padEnd(32, ' '));
  } catch (e) {
    const err = mapPkcs11Error(e, 'Initializing the token');
    if (err.code === 'PIN_INCORRECT') noteWrongPin(module.path, before.serial);
    throw err;
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
  return { token: module.tokenSummary(handle), warnings, reinitialized };
}
