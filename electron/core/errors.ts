/**
 * Stable error codes. They cross IPC as `{ code, message }` and end every failed CLI command,
 * so the UI and scripts can react to a code while people read the message.
 * A message never contains a PIN or a passphrase.
 */
export const ERROR_CODES = [
  'INPUT_INVALID',
  'MODULE_LOAD_FAILED',
  'TOKEN_NOT_FOUND',
  'TOKEN_AMBIGUOUS',
  'TOKEN_NOT_PRESENT',
  'TOKEN_NOT_INITIALIZED',
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
  'CSR_INVALID',
  'CSR_SIGNATURE_INVALID',
  'CRL_INVALID',
  'PEM_INVALID',
  'SERIAL_NOT_FOUND',
  'ALREADY_REVOKED',
  'OUTPUT_EXISTS',
  'JOURNAL_BROKEN',
  'IO_ERROR',
  'PKCS11_ERROR',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class QpkiError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'QpkiError';
    this.code = code;
    this.details = details;
  }
}

export function isQpkiError(e: unknown): e is QpkiError {
  return e instanceof QpkiError;
}

/** The `{ code, message }` form that crosses IPC and the CLI boundary. */
export function toErrorPayload(e: unknown): { code: ErrorCode; message: string } {
  if (e instanceof QpkiError) return { code: e.code, message: e.message };
  return { code: 'INTERNAL', message: 'Unexpected internal error: ' + (e instanceof Error ? e.message : String(e)) };
}
