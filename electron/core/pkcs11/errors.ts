import { pkcs11js } from './native';
import { pauseSync } from '../pause';
import { QpkiError, type ErrorCode } from '../errors';

/** PKCS#11 return values that have a meaning for the operator, mapped to our stable codes. */
const CKR_MAP: Record<string, [ErrorCode, string]> = {
  CKR_PIN_INCORRECT: ['PIN_INCORRECT', 'The PIN is incorrect.'],
  CKR_PIN_INVALID: ['PIN_INCORRECT', 'The PIN contains characters the token does not accept.'],
  CKR_PIN_LEN_RANGE: ['PIN_LEN_RANGE', 'The PIN length is outside what the token accepts.'],
  CKR_PIN_LOCKED: ['PIN_LOCKED', 'The PIN is locked on this token; the security officer must unlock it.'],
  CKR_PIN_EXPIRED: ['PIN_INCORRECT', 'The PIN has expired; set a new one with the token vendor tool.'],
  CKR_TOKEN_NOT_PRESENT: ['TOKEN_NOT_PRESENT', 'The token is no longer present. Reinsert it and try again.'],
  CKR_DEVICE_REMOVED: ['TOKEN_NOT_PRESENT', 'The token was removed. Reinsert it and try again.'],
  CKR_TOKEN_NOT_RECOGNIZED: ['TOKEN_NOT_PRESENT', 'The token is not recognized by the module.'],
  CKR_DEVICE_ERROR: ['TOKEN_NOT_PRESENT', 'The token reported a device error; check that it is still connected.'],
  CKR_SESSION_HANDLE_INVALID: ['SESSION_CLOSED', 'The token session was closed (token removed or module reset). Open the token again.'],
  CKR_SESSION_CLOSED: ['SESSION_CLOSED', 'The token session was closed. Open the token again.'],
  CKR_USER_NOT_LOGGED_IN: ['NOT_LOGGED_IN', 'Log in to the token first.'],
  CKR_USER_PIN_NOT_INITIALIZED: ['TOKEN_NOT_INITIALIZED', 'The token has no user PIN yet; initialize the token.'],
  CKR_MECHANISM_INVALID: ['MECHANISM_UNSUPPORTED', 'The token does not support this mechanism.'],
  CKR_MECHANISM_PARAM_INVALID: ['MECHANISM_UNSUPPORTED', 'The token refused the mechanism parameters.'],
  CKR_KEY_TYPE_INCONSISTENT: ['MECHANISM_UNSUPPORTED', 'The key type does not fit the mechanism.'],
  CKR_KEY_FUNCTION_NOT_PERMITTED: ['KEY_INVALID', 'The key is not allowed to sign (CKA_SIGN is false).'],
  CKR_TOKEN_WRITE_PROTECTED: ['TOKEN_WRITE_PROTECTED', 'The token is write-protected.'],
  CKR_DEVICE_MEMORY: ['PKCS11_ERROR', 'The token is out of memory.'],
  CKR_SLOT_ID_INVALID: ['SLOT_NOT_FOUND', 'The slot no longer exists (slot ids change when tokens are added or initialized).'],
};

function ckrName(e: { message?: string; code?: number }): string {
  const m = /CKR_[A-Z_]+/.exec(e.message ?? '');
  if (m) return m[0];
  for (const [k, v] of Object.entries(pkcs11js)) if (k.startsWith('CKR_') && v === e.code) return k;
  return `0x${(e.code ?? 0).toString(16)}`;
}

export function pkcs11ErrorName(e: unknown): string | undefined {
  if (e && typeof e === 'object' && 'code' in e && 'method' in e) return ckrName(e as { message?: string; code?: number });
  return undefined;
}

/** Turn a pkcs11js error into a QpkiError with a stable code; `doing` says what we were doing. */
export function mapPkcs11Error(e: unknown, doing: string): QpkiError {
  if (e instanceof QpkiError) return e;
  const name = pkcs11ErrorName(e);
  if (name) {
    const hit = CKR_MAP[name];
    if (hit) return new QpkiError(hit[0], `${doing}: ${hit[1]} (${name})`, { ckr: name });
    return new QpkiError('PKCS11_ERROR', `${doing}: the token returned ${name}.`, { ckr: name });
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new QpkiError('PKCS11_ERROR', `${doing}: ${msg}`);
}

/**
 * Run `op`, and run it again (up to `attempts` times in all, 4 unless said, waiting a little
 * longer each time) while it fails in a way `transient` recognizes: SoftHSM2's file store answers
 * oddly for a moment while another process rewrites a token. `beforeRetry` can reset state first
 * (e.g. reread the slots).
 */
export function retryTransient<T>(op: () => T, transient: (e: unknown) => boolean, waitMs: number, beforeRetry?: (e: unknown) => void, attempts = 4): T {
  for (let attempt = 1; ; attempt++) {
    try {
      return op();
    } catch (e) {
      if (!transient(e) || attempt >= attempts) throw e;
      pauseSync(waitMs * attempt);
      beforeRetry?.(e);
    }
  }
}

export function isCkr(e: unknown, name: string): boolean {
  return pkcs11ErrorName(e) === name;
}
