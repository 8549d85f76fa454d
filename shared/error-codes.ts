/**
 * The stable error codes: core throws them (electron/core/errors.ts re-exports this list), they
 * cross IPC, and the renderer maps them to words. Kept in shared/ so the renderer never imports core.
 */
export const ERROR_CODES = [
  'INPUT_INVALID',
  'MODULE_LOAD_FAILED',
  'TOKEN_NOT_FOUND',
  'TOKEN_AMBIGUOUS',
  'TOKEN_NOT_PRESENT',
  'TOKEN_NOT_INITIALIZED',
  'TOKEN_ALREADY_INITIALIZED',
  'TOKEN_WRITE_PROTECTED',
  'SLOT_NOT_FOUND',
  'PIN_INCORRECT',
  'PIN_LOCKED',
  'PIN_FINAL_TRY',
  'PIN_LEN_RANGE',
  'PIN_REQUIRED',
  'NOT_LOGGED_IN',
  'SESSION_CLOSED',
  'MECHANISM_UNSUPPORTED',
  'KEY_NOT_FOUND',
  'KEY_AMBIGUOUS',
  'KEY_LABEL_EXISTS',
  'KEY_ID_EXISTS',
  'KEY_INVALID',
  'KEY_CHECK_FAILED',
  'PASSPHRASE_REQUIRED',
  'PASSPHRASE_INCORRECT',
  'PROFILE_NOT_FOUND',
  'PROFILE_INVALID',
  'VARIABLE_INVALID',
  'CA_EXISTS',
  'CA_NOT_FOUND',
  'CA_INVALID',
  'CA_LOCKED',
  'CERT_INVALID',
  'SIGNATURE_INVALID',
  'SIGNING_REQUEST_UNKNOWN',
  'NOT_CONFIRMED',
  'CSR_INVALID',
  'CSR_SIGNATURE_INVALID',
  'CRL_INVALID',
  'PEM_INVALID',
  'SERIAL_NOT_FOUND',
  'ALREADY_REVOKED',
  'REVOCATION_REASON_NOT_ALLOWED',
  'CRL_VALIDITY_TOO_LONG',
  'CHAIN_INVALID',
  'LINT_FAILED',
  'OUTPUT_EXISTS',
  'PLAN_INVALID',
  'PLAN_ENV_INVALID',
  'PLAN_STEP_FAILED',
  'PLAN_STEP_MISMATCH',
  /** A plan step on one token role (ca, backup) asked with another token open, or a token-init on a token the plan uses. */
  'PLAN_WRONG_TOKEN',
  'PREFLIGHT_UNCONFIRMED',
  'CEREMONY_NOT_OPEN',
  'RUNS_DIFFER',
  'JOURNAL_BROKEN',
  'IO_ERROR',
  'PKCS11_ERROR',
  'MODULE_NOT_APPROVED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Refusals made by the IPC layer itself (not by core): kept apart so core's list stays core's. */
export const IPC_ERROR_CODES = ['SENDER_REFUSED', 'RESPONSE_INVALID'] as const;
export type IpcErrorCode = (typeof IPC_ERROR_CODES)[number];

export type AnyErrorCode = ErrorCode | IpcErrorCode;

export interface ErrorPayload {
  code: AnyErrorCode;
  message: string;
}
