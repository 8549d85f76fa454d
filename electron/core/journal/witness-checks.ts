/**
 * The witnesses' confirmation of the ceremony computer, one rule for both front ends (`qpki
 * ceremony run --clock-reference … --clock-witness …` and the app's preflight screen): a witness
 * of the ceremony compares the laptop clock with a reference clock, and when the preflight warned,
 * the witnesses give their reason for going on (BR 5.4.1, WebTrust's key ceremony criteria).
 */
import { QpkiError } from '../errors';

/** How far the laptop clock may be from the witness's reference time (a typed time has minute precision at worst). */
export const MAX_CLOCK_SKEW_SECONDS = 300;
/** The shortest reason the witnesses may give for going on despite a preflight warning. */
export const MIN_JUSTIFICATION = 10;
/** A UTC time as read from the reference clock: seconds optional, `Z` required. */
export const UTC_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$/;

/** The witness named must be one of the ceremony's witnesses (never the operator). */
export function checkClockWitness(witness: string, witnesses: readonly string[], of: 'plan' | 'ceremony'): void {
  if (!witnesses.includes(witness)) throw new QpkiError('INPUT_INVALID', `The clock is confirmed by a witness of this ${of}; “${witness}” is not one (${witnesses.join(', ')}).`);
}

/** The reference time, checked to be a UTC time; its milliseconds since the epoch. */
export function checkReferenceTime(referenceTime: string): number {
  const t = Date.parse(referenceTime);
  if (!UTC_TIME.test(referenceTime) || Number.isNaN(t)) {
    throw new QpkiError('INPUT_INVALID', `The reference time “${referenceTime}” is not a UTC time: type it as the reference clock shows it, like 2027-01-15T09:30:00Z.`);
  }
  return t;
}

/**
 * The witnesses' reason for going on despite preflight warnings, when one is needed: at least
 * MIN_JUSTIFICATION characters. `howToGive` says where it is typed in this front end.
 */
export function checkJustification(warnings: readonly string[], justification: string | undefined, howToGive: string, after = ''): string {
  const note = justification?.trim() ?? '';
  if (warnings.length && note.length < MIN_JUSTIFICATION) {
    throw new QpkiError('INPUT_INVALID', `The preflight warned (${warnings.join(' ')}): the witnesses' reason for going on is needed, at least ${MIN_JUSTIFICATION} characters (${howToGive}), or fix the cause.${after ? ` ${after}` : ''}`);
  }
  return note;
}

export interface ClockComparison {
  /** The facts of the `witness.acknowledged` entry (what: clock). */
  facts: { what: 'clock'; witness: string; referenceTime: string; laptopTime: string; differenceSeconds: number };
  /** The refusal when the laptop clock is more than MAX_CLOCK_SKEW_SECONDS off, else null. */
  tooFar: QpkiError | null;
}

/** The laptop clock against the reference time the witness read; a clock far off is refused (every certificate is dated by it). */
export function compareClock(witness: string, referenceTime: string, laptop: Date, whatToDo: string): ClockComparison {
  const reference = checkReferenceTime(referenceTime);
  const laptopTime = laptop.toISOString();
  const differenceSeconds = Math.round((laptop.getTime() - reference) / 1000);
  const tooFar = Math.abs(differenceSeconds) > MAX_CLOCK_SKEW_SECONDS
    ? new QpkiError('INPUT_INVALID', `The laptop clock (${laptopTime}) is ${Math.abs(differenceSeconds)} s ${differenceSeconds > 0 ? 'ahead of' : 'behind'} the reference time: more than ${MAX_CLOCK_SKEW_SECONDS / 60} minutes. Set the laptop clock, then ${whatToDo}`)
    : null;
  return { facts: { what: 'clock', witness, referenceTime, laptopTime, differenceSeconds }, tooFar };
}
