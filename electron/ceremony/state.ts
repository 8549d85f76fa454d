/**
 * Main-process ceremony state: the loaded module, the open token session, the chosen key.
 * The renderer only ever names these things; the handles stay here. No PIN is kept: a PIN goes
 * from the login request straight to C_Login.
 */
import type { Pkcs11Module } from '../core/pkcs11/module';
import type { TokenSession } from '../core/pkcs11/session';
import type { KeyAlgorithm } from '../core/keys/algorithms';
import { QpkiError } from '../core/errors';
import { CeremonyRecord } from './record';
import { Capabilities } from './capabilities';
import type { PendingSigning } from './signing';
import { join } from 'node:path';

export type KeyChoice =
  | { kind: 'pkcs11'; label: string; id: string }
  | { kind: 'software'; algorithm: KeyAlgorithm };

/** A key chosen in the open token. */
export type TokenKeyChoice = Extract<KeyChoice, { kind: 'pkcs11' }>;

/** A token that stopped answering mid-ceremony: what Retry finds again, and the keys chosen on it. */
export interface LostToken {
  modulePath: string;
  serial: string;
  label: string;
  key: TokenKeyChoice | null;
  /** The Catalyst alternative (ML-DSA) key chosen in the same token, if any. */
  altKey?: TokenKeyChoice | null;
}

export interface AppStateOptions {
  version: string;
  production: boolean;
  /** The SoftHSM2 library if this machine has one (offers the development token). */
  softhsmPath: string | null;
  /** Folder for the development token store (under userData; a temp dir in tests). */
  devTokenDir: string | null;
  /** Default parent folder for new CA directories. */
  dataDir: string;
  /** The app's own files, fingerprinted into the ceremony record (the app root; dist/ when built). */
  appRoot?: string;
}

export class AppState {
  readonly options: AppStateOptions;
  module: Pkcs11Module | null = null;
  session: TokenSession | null = null;
  key: KeyChoice | null = null;
  /**
   * A Catalyst CA's alternative (ML-DSA) key when it is in the open token too (PKCS#11 3.2
   * CKM_ML_DSA); null: the ML-DSA key is a file made when signing (the default).
   */
  altKey: TokenKeyChoice | null = null;
  /**
   * A second token of the loaded library, logged in for a Catalyst CA's ML-DSA key only (the wizard's
   * "another token" step); null: that key, if in a token, is in the ceremony's own token.
   */
  altSession: TokenSession | null = null;
  /** The CA directory the ceremony is working in (for the journal panel). */
  caDir: string | null = null;
  /** The token lost mid-ceremony, until Retry opens it again (token-recovery.ts). */
  lostToken: LostToken | null = null;
  /** Files this session wrote or opened, the only ones export may read. */
  readonly knownFiles = new Set<string>();
  /** Who runs the ceremony, and the events recorded before its CA directory existed. */
  readonly ceremony = new CeremonyRecord();
  /** The libraries and directories main chose or the operator picked in main's dialogs, by id. */
  readonly capabilities = new Capabilities();
  /** The signing request on screen, the only one main will sign (by its id). */
  request: PendingSigning | null = null;

  constructor(options: AppStateOptions) {
    this.options = options;
  }

  requireModule(): Pkcs11Module {
    if (!this.module) throw new QpkiError('MODULE_LOAD_FAILED', 'No PKCS#11 module is loaded. Choose the key storage first.');
    return this.module;
  }

  requireSession(): TokenSession {
    if (!this.session) throw new QpkiError('SESSION_CLOSED', 'No token is open. Choose the token again.');
    return this.session;
  }

  /** The open session, logged in: key work never runs on a session that has not logged in. */
  requireLogin(): TokenSession {
    const s = this.requireSession();
    if (!s.isLoggedIn) throw new QpkiError('NOT_LOGGED_IN', 'Log in to the token first.');
    return s;
  }

  /**
   * The session a Catalyst CA's ML-DSA key is made, chosen and signed in: the second token when one
   * is open for it, else the ceremony's token. Logged in either way.
   */
  altKeySession(): TokenSession {
    if (!this.altSession) return this.requireLogin();
    if (!this.altSession.isLoggedIn) throw new QpkiError('NOT_LOGGED_IN', `Log in to “${this.altSession.token.label}”, the token for the ML-DSA key, first.`);
    return this.altSession;
  }

  /** Log out and close the token session (and a second token's), if any. Safe to call at any time, any number of times. */
  endSession(): boolean {
    const s = this.session;
    this.session = null;
    this.key = this.key?.kind === 'software' ? this.key : null;
    this.endAltSession();
    if (!s) return false;
    closeQuietly(s);
    return true;
  }

  /** Close the second token's session; a Catalyst ML-DSA key chosen in a token is forgotten with it. */
  endAltSession(): void {
    const a = this.altSession;
    this.altSession = null;
    this.altKey = null; // a token key, gone with its session
    if (a) closeQuietly(a);
  }

  /**
   * The token stopped answering: forget its session without waiting on it (its handles are dead)
   * and keep what a reconnect needs.
   */
  dropLostSession(lost: LostToken): void {
    this.lostToken = lost;
    this.endSession();
  }

  /** The ceremony is over (window closed, app quitting): nothing of it remains in memory. */
  endCeremony(): void {
    if (this.ceremony.isOpen) {
      try { this.ceremony.close('the app window was closed', join(this.options.dataDir, 'ceremonies')); } catch { /* closing must not fail on the record */ }
    }
    this.endSession();
    this.key = null;
    this.lostToken = null;
    this.caDir = null;
    this.request = null;
    this.knownFiles.clear();
    this.capabilities.forgetDirectories();
  }
}

/** Log out and close a session whose token may already be gone: closing is what matters. */
export function closeQuietly(s: TokenSession): void {
  try { s.logout(); } catch { /* the token may already be gone; closing is what matters */ }
  try { s.close(); } catch { /* idem */ }
}
