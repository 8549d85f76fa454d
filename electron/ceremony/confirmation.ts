/**
 * The questions main asks the operator itself, never the renderer: before the token signs, before
 * a library is loaded, before a token is wiped, before the last PIN try. In the app a native
 * dialog asks (main.ts); the e2e bridge and the tests answer through the harness. A step that
 * needs a confirmation does not happen unless the answer is an explicit yes, and the answer is
 * journaled by the step that asked.
 */

export type ConfirmationKind =
  /** The token (or a key file) is about to sign one signing request. */
  | 'sign'
  /** A PKCS#11 library is about to be loaded into main (dlopen runs its code). */
  | 'load-module'
  /** An initialized token is about to be re-initialized: every object on it is destroyed. */
  | 'reinitialize-token'
  /** The user or SO PIN has one try left: a wrong PIN now locks it. */
  | 'final-pin-try'
  /** The chosen key already backs another CA directory this app knows. */
  | 'reuse-key'
  /** A root CA is about to sign an end-entity certificate (CA/Browser Forum BR 6.1.7). */
  | 'root-end-entity'
  /** A certificate is about to be marked revoked in the CA's index (the next CRL lists it; it cannot be undone). */
  | 'revoke';

export interface Confirmation {
  kind: ConfirmationKind;
  /** One line: what is about to happen. */
  title: string;
  /** The facts the operator confirms, in the order they are read out. */
  facts: Array<{ label: string; value: string }>;
  /** The words on the button that says yes ("Sign with the token"). */
  action: string;
}

/** Resolves true only when the operator said yes to this very question. */
export type Confirm = (c: Confirmation) => Promise<boolean>;

/** The confirmation as plain lines (the native dialog's detail text, the journal's record of it). */
export function confirmationText(c: Confirmation): string {
  return c.facts.map((f) => `${f.label}: ${f.value}`).join('\n');
}
