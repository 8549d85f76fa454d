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
  CSR_INVALID: { title: 'The certificate request could not be read.', next: 'Check that it is a PKCS#10 request in PEM or DER form.' },
  CSR_SIGNATURE_INVALID: { title: 'The request’s signature is wrong.', next: 'Ask for a new request: this one was altered or damaged.' },
  CRL_INVALID: { title: 'The revocation list could not be read.', next: 'Check that the file is a CRL in PEM or DER form.' },
  PEM_INVALID: { title: 'The text is not valid PEM.', next: 'Paste the whole block, from -----BEGIN to -----END.' },
  SERIAL_NOT_FOUND: { title: 'No certificate has that serial number.', next: 'Check the serial number.' },
  ALREADY_REVOKED: { title: 'That certificate is already revoked.', next: 'Nothing more to do for it.' },
  OUTPUT_EXISTS: { title: 'A file would be overwritten.', next: 'Choose another name or directory: files are never overwritten.' },
  JOURNAL_BROKEN: { title: 'The ceremony journal does not verify.', next: 'Stop and compare the journal with the witnesses’ paper record.' },
  IO_ERROR: { title: 'A file could not be read or written.', next: 'Check the path, the permissions and the free space.' },
  PKCS11_ERROR: { title: 'The token reported an error.', next: 'Read the details below; if it persists, reconnect the token and start again.' },
  INTERNAL: { title: 'Something unexpected went wrong.', next: 'Note the details below for the record, then try again.' },
  SENDER_REFUSED: { title: 'The request was refused.', next: 'Only the app’s own window may make requests. Restart the app.' },
  RESPONSE_INVALID: { title: 'The app produced an unexpected answer.', next: 'Note the details below for the record, then try again.' },
};
