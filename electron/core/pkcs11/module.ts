import { existsSync, statSync } from 'node:fs';
import type * as P11 from 'pkcs11js';
import { pkcs11js } from './native';
import { QpkiError } from '../errors';
import { mechanismFlags, mechanismName } from './constants';
import { isCkr, mapPkcs11Error, retryTransient } from './errors';
import type { MechanismSummary, ModuleInfo, SlotSummary, TokenFlags, TokenRef, TokenSummary } from './types';
import { TokenSession } from './session';
import { loadedModules } from './registry';

export { finalizeAllModules } from './registry';

const UNAVAILABLE = 0xffffffffffffffffn;
// CK_SLOT_INFO flags (pkcs11js does not export them).
const CKF_TOKEN_PRESENT = 0x1;
const CKF_REMOVABLE_DEVICE = 0x2;
const CKF_HW_SLOT = 0x4;
// Shared with registry.ts, which finalizes them without loading this module.
const modules = loadedModules as Map<string, Pkcs11Module>;

function trim(s: string): string {
  return s.replace(/[\s\0]+$/, '');
}

function version(v: { major: number; minor: number }): string {
  return `${v.major}.${v.minor}`;
}

function memory(v: bigint | number): number | null {
  const b = BigInt(v);
  if (b === UNAVAILABLE || b === 0xffffffffn) return null;
  return Number(b);
}

export function slotIdString(slot: Buffer): string {
  return slot.length >= 8 ? slot.readBigUInt64LE(0).toString() : slot.readUInt32LE(0).toString();
}

export function tokenFlags(f: number): TokenFlags {
  const has = (bit: number) => (f & bit) !== 0;
  return {
    initialized: has(pkcs11js.CKF_TOKEN_INITIALIZED),
    loginRequired: has(pkcs11js.CKF_LOGIN_REQUIRED),
    userPinInitialized: has(pkcs11js.CKF_USER_PIN_INITIALIZED),
    protectedAuthPath: has(pkcs11js.CKF_PROTECTED_AUTHENTICATION_PATH),
    writeProtected: has(pkcs11js.CKF_WRITE_PROTECTED),
    rng: has(pkcs11js.CKF_RNG),
    userPinCountLow: has(pkcs11js.CKF_USER_PIN_COUNT_LOW),
    userPinFinalTry: has(pkcs11js.CKF_USER_PIN_FINAL_TRY),
    userPinLocked: has(pkcs11js.CKF_USER_PIN_LOCKED),
    userPinToBeChanged: has(pkcs11js.CKF_USER_PIN_TO_BE_CHANGED),
    soPinCountLow: has(pkcs11js.CKF_SO_PIN_COUNT_LOW),
    soPinFinalTry: has(pkcs11js.CKF_SO_PIN_FINAL_TRY),
    soPinLocked: has(pkcs11js.CKF_SO_PIN_LOCKED),
    soPinToBeChanged: has(pkcs11js.CKF_SO_PIN_TO_BE_CHANGED),
  };
}

/** A loaded PKCS#11 module. One per library path per process; C_Initialize happens once. */
export class Pkcs11Module {
  readonly path: string;
  readonly lib: P11.PKCS11;
  private finalized = false;
  private readonly sessions = new Set<TokenSession>();

  private constructor(path: string, lib: P11.PKCS11) {
    this.path = path;
    this.lib = lib;
  }

  static load(path: string): Pkcs11Module {
    const cached = modules.get(path);
    if (cached && !cached.finalized) return cached;
    if (!path || !existsSync(path)) {
      throw new QpkiError('MODULE_LOAD_FAILED', `PKCS#11 module not found: ${path || '(empty path)'}. Give the path of the vendor's PKCS#11 library (.so/.dylib/.dll).`);
    }
    if (!statSync(path).isFile()) {
      throw new QpkiError('MODULE_LOAD_FAILED', `PKCS#11 module path is not a file: ${path}.`);
    }
    const lib = new pkcs11js.PKCS11();
    try {
      lib.load(path);
    } catch (e) {
      const detail = e instanceof Error ? e.message.split('\n')[0] : String(e);
      throw new QpkiError('MODULE_LOAD_FAILED', `Cannot load ${path} as a PKCS#11 module (${detail}). Check that it is the vendor's PKCS#11 library for this machine's architecture.`);
    }
    try {
      lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (e) {
      // Another component in this process already initialized the library: that is fine, share it.
      if (!isCkr(e, 'CKR_CRYPTOKI_ALREADY_INITIALIZED')) {
        try { lib.close(); } catch { /* unloading a half-initialized module is best effort */ }
        throw new QpkiError('MODULE_LOAD_FAILED', `The PKCS#11 module ${path} failed to initialize: ${mapPkcs11Error(e, 'C_Initialize').message}`);
      }
    }
    const m = new Pkcs11Module(path, lib);
    modules.set(path, m);
    return m;
  }

  info(): ModuleInfo {
    const i = this.lib.C_GetInfo();
    const manufacturer = trim(i.manufacturerID);
    const description = trim(i.libraryDescription);
    return {
      path: this.path,
      cryptokiVersion: version(i.cryptokiVersion),
      manufacturer,
      description,
      libraryVersion: version(i.libraryVersion),
      development: /softhsm/i.test(`${manufacturer} ${description}`),
    };
  }

  private slotHandles(tokenPresent: boolean): Buffer[] {
    try {
      return this.lib.C_GetSlotList(tokenPresent);
    } catch (e) {
      throw mapPkcs11Error(e, 'Listing slots');
    }
  }

  listSlots(): SlotSummary[] {
    return this.slotHandles(false).map((h) => this.slotSummary(h));
  }

  /** The slot handle for a decimal slot id, as listed now. */
  slotHandle(slotId: string): Buffer {
    const h = this.slotHandles(false).find((s) => slotIdString(s) === slotId);
    if (!h) throw new QpkiError('SLOT_NOT_FOUND', `Slot ${slotId} does not exist (slot ids change when tokens are initialized; list the slots again).`);
    return h;
  }

  private slotSummary(h: Buffer): SlotSummary {
    try {
      const s = this.lib.C_GetSlotInfo(h);
      const present = (s.flags & CKF_TOKEN_PRESENT) !== 0;
      return {
        slotId: slotIdString(h),
        description: trim(s.slotDescription),
        manufacturer: trim(s.manufacturerID),
        tokenPresent: present,
        removable: (s.flags & CKF_REMOVABLE_DEVICE) !== 0,
        hardware: (s.flags & CKF_HW_SLOT) !== 0,
        token: present ? this.tokenSummary(h) : undefined,
      };
    } catch (e) {
      throw mapPkcs11Error(e, 'Reading slot information');
    }
  }

  tokenSummary(h: Buffer): TokenSummary {
    let t: P11.TokenInfo;
    try {
      // SoftHSM2 answers CKR_GENERAL_ERROR while another process rewrites the token's files
      // (every login does): read again before reporting a failure.
      t = retryTransient(() => this.lib.C_GetTokenInfo(h), (e) => isCkr(e, 'CKR_GENERAL_ERROR'), 25);
    } catch (e) {
      throw mapPkcs11Error(e, 'Reading token information');
    }
    return {
      label: trim(t.label),
      manufacturer: trim(t.manufacturerID),
      model: trim(t.model),
      serial: trim(t.serialNumber),
      flags: tokenFlags(t.flags),
      minPinLen: t.minPinLen,
      maxPinLen: t.maxPinLen,
      freePublicMemory: memory(t.freePublicMemory),
      freePrivateMemory: memory(t.freePrivateMemory),
      totalPublicMemory: memory(t.totalPublicMemory),
      totalPrivateMemory: memory(t.totalPrivateMemory),
      hardwareVersion: version(t.hardwareVersion),
      firmwareVersion: version(t.firmwareVersion),
    };
  }

  mechanismTypes(h: Buffer): number[] {
    try {
      return this.lib.C_GetMechanismList(h);
    } catch (e) {
      throw mapPkcs11Error(e, 'Listing mechanisms');
    }
  }

  mechanisms(slotId: string): MechanismSummary[] {
    const h = this.slotHandle(slotId);
    return this.mechanismTypes(h).map((type) => {
      const i = this.lib.C_GetMechanismInfo(h, type);
      return {
        name: mechanismName(type),
        type,
        minKeySize: i.minKeySize,
        maxKeySize: i.maxKeySize,
        flags: mechanismFlags().filter(([bit]) => (i.flags & bit) !== 0).map(([, n]) => n),
      };
    });
  }

  /**
   * Find a token by label and/or serial — never by slot id, which changes after initialization.
   * Exactly one must match.
   */
  findToken(ref: TokenRef): { handle: Buffer; slot: SlotSummary; token: TokenSummary } {
    if (!ref.label && !ref.serial) throw new QpkiError('INPUT_INVALID', 'Name the token by label or serial.');
    // A slot can fail to answer for a moment while another process writes the same token
    // (SoftHSM2's file store answers CKR_GENERAL_ERROR then): look again before calling it gone.
    // A token whose files were being rewritten while this process initialized the module (every
    // SoftHSM2 login rewrites them) is missing from the slot list altogether: with no session
    // open here, the module is initialized again, which reads the store anew.
    const rescan = (e: unknown) => e instanceof QpkiError && e.code === 'TOKEN_NOT_FOUND' && this.sessions.size === 0;
    return retryTransient(
      () => this.findTokenOnce(ref),
      (e) => (e instanceof QpkiError && e.code === 'TOKEN_NOT_PRESENT') || rescan(e),
      50,
      (e) => {
        if (rescan(e)) this.reinitialize();
      },
    );
  }

  /** C_Finalize then C_Initialize: the module forgets its slots and reads its tokens again. */
  private reinitialize(): void {
    try {
      this.lib.C_Finalize();
      this.lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (e) {
      throw mapPkcs11Error(e, 'Initializing the module again');
    }
  }

  private findTokenOnce(ref: TokenRef): { handle: Buffer; slot: SlotSummary; token: TokenSummary } {
    const hits: { handle: Buffer; slot: SlotSummary; token: TokenSummary }[] = [];
    const silent: string[] = [];
    for (const h of this.slotHandles(true)) {
      let slot: SlotSummary;
      try {
        slot = this.slotSummary(h);
      } catch (e) {
        // A token that no longer answers (pulled out, its store gone) must not hide the others.
        silent.push(`slot ${slotIdString(h)} (${e instanceof QpkiError ? e.details?.ckr ?? e.code : 'error'})`);
        continue;
      }
      const t = slot.token;
      if (!t) continue;
      if (ref.label !== undefined && t.label !== ref.label) continue;
      if (ref.serial !== undefined && t.serial !== ref.serial) continue;
      hits.push({ handle: h, slot, token: t });
    }
    const what = [ref.label !== undefined ? `label "${ref.label}"` : '', ref.serial !== undefined ? `serial "${ref.serial}"` : ''].filter(Boolean).join(' and ');
    if (hits.length === 0 && silent.length) {
      throw new QpkiError('TOKEN_NOT_PRESENT', `No token with ${what} answers in ${this.path}; ${silent.join(', ')} did not answer — a token was removed or its store is unreachable. Reconnect it, then run the command again (the application must reopen the module).`);
    }
    if (hits.length === 0) {
      const present = this.listSlots().filter((s) => s.token?.flags.initialized).map((s) => `"${s.token!.label}" (serial ${s.token!.serial})`);
      throw new QpkiError('TOKEN_NOT_FOUND', `No token with ${what} in ${this.path}.${present.length ? ' Tokens present: ' + present.join(', ') + '.' : ' No initialized token is present.'} Connect the token, or check the module and its configuration, and try again.`);
    }
    if (hits.length > 1) {
      throw new QpkiError('TOKEN_AMBIGUOUS', `${hits.length} tokens have ${what}: ${hits.map((h) => `serial ${h.token.serial}`).join(', ')}. Name the token by serial.`);
    }
    if (!hits[0].token.flags.initialized) {
      throw new QpkiError('TOKEN_NOT_INITIALIZED', `The token with ${what} is not initialized.`);
    }
    return hits[0];
  }

  /** Open a read-write session on the token named by label or serial. */
  openSession(ref: TokenRef): TokenSession {
    const { handle, token } = this.findToken(ref);
    let session: Buffer;
    try {
      session = this.lib.C_OpenSession(handle, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    } catch (e) {
      throw mapPkcs11Error(e, `Opening a session on token "${token.label}"`);
    }
    const s = new TokenSession(this, handle, session, token, () => this.sessions.delete(s));
    this.sessions.add(s);
    return s;
  }

  openSessions(): number {
    return this.sessions.size;
  }

  /** Close every session and C_Finalize. The module must be loaded again to be used. */
  finalize(): void {
    if (this.finalized) return;
    for (const s of [...this.sessions]) s.close();
    try { this.lib.C_Finalize(); } catch { /* finalize during shutdown is best effort */ }
    try { this.lib.close(); } catch { /* idem */ }
    this.finalized = true;
    modules.delete(this.path);
  }
}

export function loadModule(path: string): Pkcs11Module {
  return Pkcs11Module.load(path);
}

