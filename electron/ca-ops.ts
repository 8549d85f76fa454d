/** CA operations for the handler table (placeholder until core/ca lands). */
import { QpkiError } from './core/errors';
import type { AppState } from './app-state';
import type { Profile } from './core/profiles';
import type { JournalKind } from './core/journal/journal';
import type { Output } from '../shared/contract';

const notYet = () => new QpkiError('INTERNAL', 'CA operations are not available yet.');
export function preview(_s: AppState, _p: Profile, _v: Record<string, unknown>, _d: string): Output<'previewCa'> { throw notYet(); }
export async function signRoot(_s: AppState, _p: Profile, _v: Record<string, unknown>, _d: string, _c: string, _pending: Array<{ kind: JournalKind; facts: Record<string, unknown> }>): Promise<Output<'signCa'>> { throw notYet(); }
export function open(_s: AppState, _d: string): Output<'openCa'> { throw notYet(); }
export async function issueFromCsr(_s: AppState, _d: string, _csr: string, _p: Profile, _v: Record<string, unknown>): Promise<Output<'issueFromCsr'>> { throw notYet(); }
export async function generateCrl(_s: AppState, _d: string, _days: number): Promise<Output<'generateCrl'>> { throw notYet(); }
export function describe(_d: string | Uint8Array): Output<'describeDocument'> { throw notYet(); }
export function verify(_d: string | Uint8Array, _i: string | Uint8Array | null, _c: string | null): Output<'verifyDocument'> { throw notYet(); }
export function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}
