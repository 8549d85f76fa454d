/** Every error code in plain words, with what to do next. The technical message is shown below. */
import type { AnyErrorCode } from '../shared/error-codes';

export interface Words {
  title: string;
  next: string;
}

export const ERROR_WORDS: Record<AnyErrorCode, Words> = {
  INPUT_INVALID: { title: 'Some information is missing or not valid.', next: 'Check the fields on this screen and try again.' },
  MODULE_LOAD_FAILED: { title: 'The PKCS#11 library could not be loaded.', next: 'Check the path and that the library matches this computer (64-bit). Pick another library from the list.' },
  TOKEN_NOT_FOUND: { title: 'The token was not found.', next: 'Check that the token is connected, then refresh the list.' },
  TOKEN_AMBIGUOUS: { title: 'More than one token matches.', next: 'Choose the token by its serial number.' },
  TOKEN_NOT_PRESENT: { title: 'The token is not present or was removed.', next: 'Reconnect the token and refresh the list.' },
  TOKEN_NOT_INITIALIZED: { title: 'This token is not initialized yet.', next: 'Initialize it first (Start → Initialize a token), or choose another token.' },
  TOKEN_ALREADY_INITIALIZED: { title: 'This token is already initialized.', next: 'Initializing it again destroys every key on it. Choose an uninitialized token, or re-initialize this one deliberately: tick re-initialize, type its current label, and confirm in the app’s dialog.' },
  TOKEN_WRITE_PROTECTED: { title: 'The token is write-protected.', next: 'Use a token that allows writing, or remove the write protection with the vendor tool.' },
  SLOT_NOT_FOUND: { title: 'That slot no longer exists.', next: 'Slot numbers change when tokens are initialized. Refresh the list and choose again.' },
  PIN_INCORRECT: { title: 'The PIN is incorrect.', next: 'Type the PIN again carefully. Each wrong try brings the token closer to locking.' },
  PIN_LOCKED: { title: 'The PIN is locked.', next: 'The security officer must unlock or reset the PIN with the vendor tool. No further tries are possible.' },
  PIN_FINAL_TRY: { title: 'This is the last PIN try.', next: 'Nothing was sent to the token. Log in again and confirm in the dialog only if you are sure of the PIN: a wrong PIN now locks the token.' },
  PIN_LEN_RANGE: { title: 'The PIN length is not accepted by this token.', next: 'Use a PIN within the length range shown for the token.' },
  PIN_REQUIRED: { title: 'A PIN is required.', next: 'Type the PIN in the field.' },
  NOT_LOGGED_IN: { title: 'You are not logged in to the token.', next: 'Go back to the PIN step and log in.' },
  SESSION_CLOSED: { title: 'The token session was closed.', next: 'The token may have been removed. Choose the token again and log in.' },
  MECHANISM_UNSUPPORTED: { title: 'The token cannot do this operation.', next: 'Choose another algorithm the token offers.' },
  KEY_NOT_FOUND: { title: 'The key was not found on the token.', next: 'Refresh the key list, or generate a new key.' },
  KEY_AMBIGUOUS: { title: 'More than one key matches.', next: 'Choose the key by its ID.' },
  KEY_LABEL_EXISTS: { title: 'A key with this label already exists.', next: 'Choose another label, or pick the existing key from the list.' },
  KEY_ID_EXISTS: { title: 'Another object on the token has this key ID.', next: 'Choose another ID, or leave the ID empty so it is derived from the new key.' },
  KEY_INVALID: { title: 'This key cannot be used here.', next: 'Choose another key.' },
  KEY_CHECK_FAILED: { title: 'The key failed its check.', next: 'Do not use this key. Generate a new one and report the problem.' },
  PASSPHRASE_REQUIRED: { title: 'A passphrase is required.', next: 'Type the passphrase of the key file.' },
  PASSPHRASE_INCORRECT: { title: 'The passphrase is incorrect.', next: 'Type the passphrase again.' },
  PROFILE_NOT_FOUND: { title: 'The profile was not found.', next: 'Choose a profile from the list.' },
  PROFILE_INVALID: { title: 'The profile is not valid.', next: 'Choose another profile, or fix the profile file.' },
  VARIABLE_INVALID: { title: 'A value in the form is not valid.', next: 'Correct the highlighted field.' },
  CA_EXISTS: { title: 'A CA already exists in that directory.', next: 'Choose an empty directory: an existing CA is never overwritten.' },
  CA_NOT_FOUND: { title: 'No CA was found in that directory.', next: 'Choose the directory that holds ca.crt and ca.meta.json.' },
  CA_INVALID: { title: 'The CA directory is damaged or incomplete.', next: 'Check the directory against your backup.' },
  CA_LOCKED: { title: 'The CA directory is in use.', next: 'Close the other program using it, then try again.' },
  CERT_INVALID: { title: 'The certificate could not be read.', next: 'Check that the file is a certificate in PEM or DER form.' },
  SIGNATURE_INVALID: { title: 'The signature did not check out, so nothing was saved.', next: 'Do not retry blindly: note the details for the record and check the token or key with the security officer.' },
  SIGNING_REQUEST_UNKNOWN: { title: 'This review is no longer current.', next: 'Prepare the review again: the one on screen was replaced or withdrawn.' },
  NOT_CONFIRMED: { title: 'The step was not confirmed, so nothing was done.', next: 'Read the confirmation again and answer it when you are ready.' },
  CSR_INVALID: { title: 'The certificate request could not be read.', next: 'Check that it is a PKCS#10 request in PEM or DER form.' },
  CSR_SIGNATURE_INVALID: { title: 'The request’s signature is wrong.', next: 'Ask for a new request: this one was altered or damaged.' },
  CRL_INVALID: { title: 'The revocation list could not be read.', next: 'Check that the file is a CRL in PEM or DER form.' },
  PEM_INVALID: { title: 'The text is not valid PEM.', next: 'Paste the whole block, from -----BEGIN to -----END.' },
  SERIAL_NOT_FOUND: { title: 'No certificate has that serial number.', next: 'Check the serial number.' },
  ALREADY_REVOKED: { title: 'That certificate is already revoked.', next: 'Nothing more to do for it.' },
  CRL_VALIDITY_TOO_LONG: { title: 'A CA’s CRL may be valid for at most 365 days.', next: 'Choose a next update at most 365 days after this update (CA/Browser Forum BR 7.2).' },
  REVOCATION_REASON_NOT_ALLOWED: { title: 'That revocation reason is not allowed for this certificate.', next: 'Choose one of the reasons the message lists (CA/Browser Forum BR 7.2.2).' },
  CHAIN_INVALID: { title: 'The certificate chain does not validate.', next: 'Read the reason: it names the certificate and the rule that failed.' },
  LINT_FAILED: { title: 'The certificate or CRL fails a lint.', next: 'Fix the profile or the variables, or accept the lint by name with a written reason in the profile.' },
  OUTPUT_EXISTS: { title: 'A file would be overwritten.', next: 'Choose another name or directory: files are never overwritten.' },
  PLAN_INVALID: { title: 'The ceremony plan is not valid.', next: 'The message names the line: fix the plan, have it reviewed again, and open it anew. Nothing was done.' },
  PLAN_ENV_INVALID: { title: 'The environment file is not valid.', next: 'The message names the line: fix the environment file (library, token, PIN source). Nothing was done.' },
  PLAN_STEP_MISMATCH: { title: 'That is not what the ceremony plan says for this step.', next: 'Do the step as the plan says (the screen is filled in from it), or record a deviation with a note first: changed to do it differently, skipped to leave it out. Nothing was done.' },
  PLAN_WRONG_TOKEN: { title: 'This step of the ceremony plan is on another token than the one open.', next: 'Go back to the plan and switch tokens there: log out of this token and open the token the step is on (the plan screen says which). Or record a changed deviation with a note first. Nothing was done.' },
  PREFLIGHT_UNCONFIRMED: { title: 'The ceremony has not confirmed this computer yet: nothing was signed.', next: 'On the preflight screen, a witness reads the laptop clock against a reference clock and types the reference time; any preflight warning needs the witnesses’ reason. Then sign again.' },
  CEREMONY_NOT_OPEN: { title: 'No ceremony is open, so nothing was done.', next: 'Start again from the first screen: name the operator, the witnesses and the purpose on the ceremony step, so this step is on that ceremony’s record.' },
  PLAN_STEP_FAILED: { title: 'A step of the ceremony plan failed; the ceremony stopped there.', next: 'Read what the step says to do. Every earlier step is complete and recorded; record the deviation before going on.' },
  RUNS_DIFFER: { title: 'The two ceremony runs differ.', next: 'Read each difference: the plan or the environment changed between the rehearsal and this run.' },
  JOURNAL_BROKEN: { title: 'The ceremony journal does not verify.', next: 'Stop and compare the journal with the witnesses’ paper record.' },
  IO_ERROR: { title: 'A file could not be read or written.', next: 'Check the path, the permissions and the free space.' },
  MODULE_NOT_APPROVED: { title: 'The CA names a library that was not opened for this ceremony.', next: 'Open the CA’s own PKCS#11 library (Token step), then try again. A library is loaded only when you choose it.' },
  PKCS11_ERROR: { title: 'The token reported an error.', next: 'Read the details below; if it persists, reconnect the token and start again.' },
  INTERNAL: { title: 'Something unexpected went wrong.', next: 'Note the details below for the record, then try again.' },
  SENDER_REFUSED: { title: 'The request was refused.', next: 'Only the app’s own window may make requests. Restart the app.' },
  RESPONSE_INVALID: { title: 'The app produced an unexpected answer.', next: 'Note the details below for the record, then try again.' },
};

/** Where the operator is: the same error needs other words on another path through the app. */
export interface Flow {
  purpose: 'ceremony' | 'init' | 'ca';
  screen: string;
}

/**
 * The words of an error for the flow it happened in: the CA-directory work has no PIN step (its
 * login is a button on the CA screen), token initialization has no key step, and so on. The
 * general words stand wherever a flow has nothing better to say.
 */
const FLOW_WORDS: { [P in Flow['purpose']]?: Partial<Record<AnyErrorCode, Words>> } = {
  ca: {
    NOT_LOGGED_IN: { title: 'You are not logged in to the CA’s token.', next: 'On the CA screen, press “Log in to …” with the token’s name, type the PIN, then do this again.' },
    SESSION_CLOSED: { title: 'The session with the CA’s token was closed.', next: 'The token may have been removed. Reconnect it, then log in again from the CA screen.' },
    MODULE_NOT_APPROVED: { title: 'The CA’s token library was not opened for this ceremony.', next: 'Open the CA directory again and choose its PKCS#11 library when the app asks: a library is loaded only when you choose it.' },
    KEY_NOT_FOUND: { title: 'The CA’s key is not on this token.', next: 'Check that the CA’s own token is connected (its serial is on the CA screen), then open the CA directory again.' },
  },
  init: {
    NOT_LOGGED_IN: { title: 'The token asked for a login it should not need here.', next: 'Initialization needs only the SO PIN: go back to the list, choose the token again and start the initialization anew.' },
    SESSION_CLOSED: { title: 'The session with the token was closed.', next: 'The token may have been removed. Reconnect it, refresh the list and start the initialization again.' },
  },
};

export function errorWords(code: AnyErrorCode, flow: Flow | null): Words {
  return (flow && FLOW_WORDS[flow.purpose]?.[code]) ?? ERROR_WORDS[code] ?? ERROR_WORDS.INTERNAL;
}
