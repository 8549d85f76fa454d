/**
 * Stable error codes. They cross IPC as `{ code, message }` and end every failed CLI command,
 * so the UI and scripts can react to a code while people read the message.
 * A message never contains a PIN or a passphrase.
 */
import { ERROR_CODES, type ErrorCode } from '../../shared/error-codes';

export { ERROR_CODES, type ErrorCode };

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
