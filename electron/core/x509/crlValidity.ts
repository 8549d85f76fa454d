/**
 * How long a CA's CRL may be valid: CA/Browser Forum BR 7.2 puts a CA's CRL nextUpdate at most
 * twelve months after its thisUpdate. The lint gate says so only for public-TLS hierarchies;
 * qpki holds every CA to it, in the app, the command line and ceremony plans alike, so one
 * limit lives here. No dependencies: the CLI checks it before loading anything else.
 */
import { QpkiError } from '../errors';

/** Twelve months, counted as QPKI counts a year. */
export const MAX_CA_CRL_DAYS = 365;

/**
 * Throws CRL_VALIDITY_TOO_LONG when `days` is over the limit. `fix` says what to do where the
 * days were asked (an option of the command line, a field of the app); `nothing` what was
 * therefore not done.
 */
export function assertCaCrlDays(days: number, fix: string, nothing = 'Nothing was signed or written.'): void {
  if (days <= MAX_CA_CRL_DAYS) return;
  throw new QpkiError('CRL_VALIDITY_TOO_LONG', `A CA's CRL may be valid for at most ${MAX_CA_CRL_DAYS} days (CA/Browser Forum BR 7.2: nextUpdate at most 12 months after thisUpdate); ${days} days were asked. ${nothing} ${fix}`.trim(), { days, max: MAX_CA_CRL_DAYS, section: 'CABF BR 7.2' });
}
