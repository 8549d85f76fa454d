import { createHash, randomBytes } from 'node:crypto';
import type * as P11 from 'pkcs11js';
import { pkcs11js } from './native';
import { QpkiError } from '../errors';
import { defaultSignatureAlgorithm, keyFamily, type KeyAlgorithm, type SignatureAlgorithm } from '../keys/algorithms';
import type { Signer } from '../keys/signer';
import { verifySignature } from '../keys/verify';
import { CKA_PARAMETER_SET, CKK_EC_EDWARDS, CKK_ML_DSA, CKM_EC_EDWARDS_KEY_PAIR_GEN, CKM_ML_DSA_KEY_PAIR_GEN, CKP_ML_DSA, CKP_ML_DSA_NAMES, EC_PARAMS } from './constants';
import { isCkr, mapPkcs11Error, retryTransient } from './errors';
import { pauseSync } from '../pause';
import type { Pkcs11Module } from './module';
import { ecCurveFromParams, ecSpki, keyIdFromSpki, mlDsaSpki, rsaKeyAlgorithm, rsaSpki, sha256Hex } from './publicKey';
import { Pkcs11Signer, type PinProvider } from './signer';
import { clearWrongPin, noteWrongPin, pinPauseLeft, waitPinPause } from './pinPace';
import type { GeneratedKeyReport, KeyAttributes, KeyInfo, KeyProof, TokenObjectSummary, TokenSummary } from './types';

/**
 * The operator's answer for a PIN's final try: a fixed answer (the command line's --force), or a
 * question asked only when the token is on its final try (main's own dialog in the app).
 */
export type FinalTryConfirmation = boolean | ((token: TokenSummary) => Promise<boolean>);

function lockedError(label: string): QpkiError {
  return new QpkiError('PIN_LOCKED', `The user PIN of token "${label}" is locked; the security officer must unlock it. No login was attempted.`);
}

export interface LoginResult {
  /** What the token said about its PIN before login, for the operator to see. */
  warnings: string[];
  alreadyLoggedIn: boolean;
}

/** Key algorithms and the generation mechanism each needs (read when used: pkcs11js's constants load the addon). */
function keygenMechanism(family: string): number {
  const mechanisms: Record<string, number> = {
    ec: pkcs11js.CKM_EC_KEY_PAIR_GEN,
    rsa: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN,
    ed25519: CKM_EC_EDWARDS_KEY_PAIR_GEN,
    'ml-dsa': CKM_ML_DSA_KEY_PAIR_GEN,
  };
  return mechanisms[family];
}

/** A public key object verifies and does nothing else: no encryption, no wrapping, readable by anyone. */
function publicKeyUsage(): P11.Template {
  return [
    { type: pkcs11js.CKA_VERIFY, value: true },
    { type: pkcs11js.CKA_ENCRYPT, value: false },
    { type: pkcs11js.CKA_WRAP, value: false },
    { type: pkcs11js.CKA_PRIVATE, value: false },
  ];
}

function bool(b: Buffer | undefined): boolean {
  return !!b && b.length > 0 && b[0] !== 0;
}

function ulong(b: Buffer): number {
  return b.length >= 8 ? Number(b.readBigUInt64LE(0)) : b.readUInt32LE(0);
}

/**
 * One open session on one token. All key work for a ceremony goes through it: login, finding and
 * generating keys, and signers whose private key never leaves the token.
 */
export class TokenSession {
  readonly module: Pkcs11Module;
  readonly slot: Buffer;
  readonly handle: Buffer;
  readonly token: TokenSummary;
  private closed = false;
  private loggedIn = false;
  private readonly onClose: () => void;
  private mechanismCache?: Set<number>;
  /**
   * The private key object each KeyInfo of this session was read from: its signer's first
   * signature uses that handle instead of searching the token again (each search makes SoftHSM2
   * re-read every object file of the token). A Signer keeps its handle from its first signature
   * on anyway; this only starts that at the reading. A handle the token no longer knows fails
   * C_SignInit, and the signer then searches by label and id as before.
   */
  private readonly handles = new WeakMap<KeyInfo, Buffer>();

  constructor(module: Pkcs11Module, slot: Buffer, handle: Buffer, token: TokenSummary, onClose: () => void) {
    this.module = module;
    this.slot = slot;
    this.handle = handle;
    this.token = token;
    this.onClose = onClose;
  }

  get lib(): P11.PKCS11 {
    if (this.closed) throw new QpkiError('SESSION_CLOSED', 'The token session is closed. Open the token again.');
    return this.module.lib;
  }

  get isLoggedIn(): boolean {
    return this.loggedIn && !this.closed;
  }

  /** Whether a fresh read of the token, a moment later, says it has a user PIN (a read that fails says no). */
  private pinInitializedAfterAll(): boolean {
    pauseSync(25);
    try {
      return this.tokenState().flags.userPinInitialized;
    } catch {
      return false;
    }
  }

  /** Current token state (PIN flags change after failed logins). */
  tokenState(): TokenSummary {
    return this.module.tokenSummary(this.slot);
  }

  mechanisms(): Set<number> {
    if (!this.mechanismCache) this.mechanismCache = new Set(this.module.mechanismTypes(this.slot));
    return this.mechanismCache;
  }

  hasMechanism(m: number): boolean {
    return this.mechanisms().has(m);
  }

  /** The key algorithms this token can generate, judged from its mechanism list and key size limits. */
  keyAlgorithms(): KeyAlgorithm[] {
    const out: KeyAlgorithm[] = [];
    const info = (m: number) => this.lib.C_GetMechanismInfo(this.slot, m);
    if (this.hasMechanism(pkcs11js.CKM_EC_KEY_PAIR_GEN)) {
      const i = info(pkcs11js.CKM_EC_KEY_PAIR_GEN);
      for (const [alg, bits] of [['ec-p256', 256], ['ec-p384', 384], ['ec-p521', 521]] as const) {
        if (i.maxKeySize === 0 || (bits >= i.minKeySize && bits <= i.maxKeySize)) out.push(alg);
      }
    }
    if (this.hasMechanism(pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN)) {
      const i = info(pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN);
      for (const bits of [2048, 3072, 4096] as const) {
        if (i.maxKeySize === 0 || (bits >= i.minKeySize && bits <= i.maxKeySize)) out.push(`rsa-${bits}`);
      }
    }
    if (this.hasMechanism(CKM_EC_EDWARDS_KEY_PAIR_GEN)) out.push('ed25519');
    if (this.hasMechanism(CKM_ML_DSA_KEY_PAIR_GEN)) out.push('ml-dsa-44', 'ml-dsa-65', 'ml-dsa-87');
    return out;
  }

  /**
   * Log in as the user. Reads the PIN flags first: a locked PIN is refused without trying; on the
   * final try `confirmFinalTry` must say yes (the app asks the operator in main's own dialog, the
   * command line takes --force), since one more wrong PIN locks the token. After a wrong PIN the
   * next attempt on this token waits WRONG_PIN_PAUSE_MS.
   */
  async login(pin: string | undefined, opts: { confirmFinalTry?: FinalTryConfirmation } = {}): Promise<LoginResult> {
    // Awaited only when there is a pause to wait out or a question to ask: otherwise the login
    // runs to C_Login within this call, as it did when it was synchronous.
    if (pinPauseLeft(this.module.path, this.token.serial) > 0) await waitPinPause(this.module.path, this.token.serial);
    let state = this.tokenState();
    let f = state.flags;
    const warnings: string[] = [];
    if (f.userPinLocked) throw lockedError(state.label);
    if (!f.protectedAuthPath && (pin === undefined || pin === '')) {
      throw new QpkiError('PIN_REQUIRED', 'A PIN is required to log in to the token.');
    }
    if (pin !== undefined && pin !== '' && (pin.length < state.minPinLen || pin.length > state.maxPinLen)) {
      throw new QpkiError('PIN_LEN_RANGE', `The token accepts PINs of ${state.minPinLen} to ${state.maxPinLen} characters.`);
    }
    if (f.userPinFinalTry) {
      const c = opts.confirmFinalTry;
      const yes = typeof c === 'function' ? (await c(state)) === true : c === true;
      if (!yes) {
        throw new QpkiError('PIN_FINAL_TRY', `Token "${state.label}" allows one more PIN attempt: a wrong PIN will lock it. The final try was not confirmed, so no PIN was sent to the token (confirm it when asked; --force on the command line).`);
      }
      // The operator may take a while to answer: the PIN may have locked meanwhile elsewhere.
      state = this.tokenState();
      f = state.flags;
      if (f.userPinLocked) throw lockedError(state.label);
      warnings.push('Final PIN try: a wrong PIN locks the token.');
    } else if (f.userPinCountLow) warnings.push('A wrong PIN was entered recently: few tries are left before the token locks.');
    if (f.userPinToBeChanged) warnings.push('The token asks for the user PIN to be changed.');
    try {
      // Read again after a moment when the token contradicts what it said just before: on
      // SoftHSM2 a login or a key generation in another process rewrites the token's files, and
      // a login racing with it can read them half-written (CKR_GENERAL_ERROR, or "no user PIN"
      // on a token that has one). The token information read before can itself be such a read:
      // "no user PIN" from both is believed only once a fresh read, a moment later, agrees.
      // Neither answer is a verdict on the PIN; a wrong PIN is never retried. Up to 8 tries
      // (0.9 s of pauses in all): the race once outlasted what was done before (4 tries, and
      // only after a token read that said the PIN was set), with four enrolments on one token.
      retryTransient(
        () => this.lib.C_Login(this.handle, pkcs11js.CKU_USER, f.protectedAuthPath && !pin ? undefined : pin),
        (e) => isCkr(e, 'CKR_GENERAL_ERROR') || (isCkr(e, 'CKR_USER_PIN_NOT_INITIALIZED') && (f.userPinInitialized || this.pinInitializedAfterAll())),
        25,
        undefined,
        8,
      );
    } catch (e) {
      if (isCkr(e, 'CKR_USER_ALREADY_LOGGED_IN')) {
        this.loggedIn = true;
        return { warnings, alreadyLoggedIn: true };
      }
      const err = mapPkcs11Error(e, 'Login');
      if (err.code === 'PIN_INCORRECT' || err.code === 'PIN_LOCKED') noteWrongPin(this.module.path, this.token.serial);
      if (err.code === 'PIN_INCORRECT') {
        // Report the state the token is in now, so the operator knows how careful to be.
        let now = '';
        try {
          const nf = this.tokenState().flags;
          now = nf.userPinLocked ? ' The PIN is now locked.' : nf.userPinFinalTry ? ' One try is left before the token locks.' : nf.userPinCountLow ? ' Few tries are left.' : '';
        } catch {
          /* the state read is informative only */
        }
        throw new QpkiError('PIN_INCORRECT', `The PIN is incorrect.${now}`, { ckr: err.details?.ckr });
      }
      throw err;
    }
    clearWrongPin(this.module.path, this.token.serial);
    this.loggedIn = true;
    return { warnings, alreadyLoggedIn: false };
  }

  logout(): void {
    if (this.closed || !this.loggedIn) return;
    try {
      this.module.lib.C_Logout(this.handle);
    } catch {
      /* a removed token cannot be logged out of; the session goes with it */
    }
    this.loggedIn = false;
  }

  close(): void {
    if (this.closed) return;
    this.logout();
    try {
      this.module.lib.C_CloseSession(this.handle);
    } catch {
      /* idem */
    }
    this.closed = true;
    this.onClose();
  }

  private find(template: P11.Template, max = 1000): Buffer[] {
    const lib = this.lib;
    try {
      lib.C_FindObjectsInit(this.handle, template);
      try {
        return lib.C_FindObjects(this.handle, max);
      } finally {
        lib.C_FindObjectsFinal(this.handle);
      }
    } catch (e) {
      throw mapPkcs11Error(e, 'Searching the token');
    }
  }

  private attrs(obj: Buffer, types: number[]): Map<number, Buffer | undefined> {
    const out = new Map<number, Buffer | undefined>();
    try {
      const got = this.lib.C_GetAttributeValue(this.handle, obj, types.map((type) => ({ type })));
      for (const a of got) out.set(a.type, a.value as Buffer | undefined);
    } catch (e) {
      // Some attributes may be absent on some tokens: read them one by one.
      if (!isCkr(e, 'CKR_ATTRIBUTE_TYPE_INVALID') && !isCkr(e, 'CKR_ATTRIBUTE_SENSITIVE')) throw mapPkcs11Error(e, 'Reading key attributes');
      for (const type of types) {
        try {
          out.set(type, this.lib.C_GetAttributeValue(this.handle, obj, [{ type }])[0].value as Buffer);
        } catch {
          out.set(type, undefined);
        }
      }
    }
    return out;
  }

  /** Private keys that can sign, with their public halves. */
  listKeys(): KeyInfo[] {
    return this.keysOf(
      this.find([
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_TOKEN, value: true },
      ]),
      true,
    );
  }

  /**
   * KeyInfo of these private keys, leaving out key types the engine does not sign with, and, for
   * a listing, keys whose public half is ambiguous (choosing one by name says why it is refused).
   */
  private keysOf(privs: Buffer[], listing = false): KeyInfo[] {
    const out: KeyInfo[] = [];
    for (const p of privs) {
      try {
        out.push(this.keyInfo(p));
      } catch (e) {
        if (e instanceof QpkiError && e.code === 'KEY_INVALID') continue; // a key type we do not sign with
        if (listing && e instanceof QpkiError && e.code === 'KEY_AMBIGUOUS') continue;
        throw e;
      }
    }
    return out;
  }

  /**
   * Every token object this session sees, of any class, by what it is and what it is called (no
   * value is read). A session that is not logged in sees only public objects (CKA_PRIVATE false).
   */
  listObjects(): TokenObjectSummary[] {
    const classes: Record<number, TokenObjectSummary['kind']> = {
      [pkcs11js.CKO_PRIVATE_KEY]: 'private key', [pkcs11js.CKO_PUBLIC_KEY]: 'public key', [pkcs11js.CKO_SECRET_KEY]: 'secret key',
      [pkcs11js.CKO_CERTIFICATE]: 'certificate', [pkcs11js.CKO_DATA]: 'data',
    };
    const keyTypes: Record<number, string> = {
      [pkcs11js.CKK_EC]: 'EC', [pkcs11js.CKK_RSA]: 'RSA', [CKK_ML_DSA]: 'ML-DSA', [CKK_EC_EDWARDS]: 'EdDSA', [pkcs11js.CKK_AES]: 'AES', [pkcs11js.CKK_GENERIC_SECRET]: 'generic secret',
    };
    const number = (b: Buffer | undefined) => (b && b.length >= 4 ? ulong(b) : undefined);
    return this.find([{ type: pkcs11js.CKA_TOKEN, value: true }]).map((o) => {
      const a = this.attrs(o, [pkcs11js.CKA_CLASS, pkcs11js.CKA_LABEL, pkcs11js.CKA_ID, pkcs11js.CKA_KEY_TYPE, pkcs11js.CKA_PRIVATE]);
      const cls = number(a.get(pkcs11js.CKA_CLASS));
      const kind = cls !== undefined ? (classes[cls] ?? 'other') : 'other';
      const kt = kind.endsWith('key') ? number(a.get(pkcs11js.CKA_KEY_TYPE)) : undefined;
      return {
        kind,
        label: a.get(pkcs11js.CKA_LABEL)?.toString('utf8') ?? '',
        id: a.get(pkcs11js.CKA_ID)?.toString('hex') ?? '',
        keyType: kt === undefined ? null : (keyTypes[kt] ?? `key type 0x${kt.toString(16)}`),
        private: a.get(pkcs11js.CKA_PRIVATE)?.[0] === 1,
      };
    });
  }

  /** Objects (of any class) carrying this label. */
  objectsWithLabel(label: string): number {
    return this.find([{ type: pkcs11js.CKA_LABEL, value: label }]).length;
  }

  /**
   * The public key object of a private key: the one with its CKA_ID, else the one with its label.
   * Two candidates is an error that says so, never a guess: public objects can be made and
   * removed without the PIN, so a second one may have been planted.
   */
  private publicKeyFor(priv: Buffer, id: Buffer, label: string): Buffer | undefined {
    const byId = id.length ? this.couldPair(priv, this.find([{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY }, { type: pkcs11js.CKA_ID, value: id }])) : [];
    if (byId.length === 1) return byId[0];
    if (byId.length > 1) {
      if (this.sameKeyValue(byId)) return byId[0];
      throw this.ambiguousPublic(label, byId.length, `its CKA_ID ${id.toString('hex')}`);
    }
    const byLabel = this.couldPair(priv, this.find([{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY }, { type: pkcs11js.CKA_LABEL, value: label }]));
    if (byLabel.length > 1 && !this.sameKeyValue(byLabel)) throw this.ambiguousPublic(label, byLabel.length, `its label and ${id.length ? `none its CKA_ID ${id.toString('hex')}` : 'it has no CKA_ID'}`);
    return byLabel.length >= 1 ? byLabel[0] : undefined;
  }

  /**
   * The public key objects that could be the public half of this private key: same key type and
   * the same public parameters the private object shows (curve, ML-DSA parameter set, RSA
   * modulus). A public key of another type or curve cannot be its half, whoever made it: QPKI's
   * credential enroll in an HSM CA, for one, stores the credential's key pair under the CA key's
   * CKA_ID. What is left is still proven by a test signature where a key becomes a CA key.
   */
  private couldPair(priv: Buffer, pubs: Buffer[]): Buffer[] {
    if (pubs.length < 2) return pubs;
    const types = [pkcs11js.CKA_KEY_TYPE, pkcs11js.CKA_EC_PARAMS, CKA_PARAMETER_SET, pkcs11js.CKA_MODULUS];
    const mine = this.attrs(priv, types);
    return pubs.filter((pub) => {
      const theirs = this.attrs(pub, types);
      return types.every((t) => {
        const a = mine.get(t);
        const b = theirs.get(t);
        return !a || !b || a.equals(b);
      });
    });
  }

  /**
   * Whether these public key objects hold one and the same key. Copies of one public key are
   * harmless (QPKI stores a public object again when it opens an HSM CA's key); a planted
   * object differs in its key value, and that stays an error.
   */
  private sameKeyValue(objs: Buffer[]): boolean {
    const value = (o: Buffer): string => {
      const a = this.attrs(o, [pkcs11js.CKA_KEY_TYPE, pkcs11js.CKA_EC_PARAMS, pkcs11js.CKA_EC_POINT, pkcs11js.CKA_MODULUS, pkcs11js.CKA_PUBLIC_EXPONENT, CKA_PARAMETER_SET, pkcs11js.CKA_VALUE]);
      return [...a.values()].map((v) => (v ? v.toString('hex') : '-')).join('/');
    };
    const first = value(objs[0]);
    return objs.every((o) => value(o) === first);
  }

  private ambiguousPublic(label: string, n: number, what: string): QpkiError {
    return new QpkiError('KEY_AMBIGUOUS', `Key "${label}": ${n} public key objects on token "${this.token.label}" carry ${what}, so its public key cannot be told apart (public objects can be made without the PIN: one may have been planted). Remove the extra one with the vendor tool, or choose another key.`);
  }

  /** Objects of any class (or of `cls`) carrying this CKA_ID. */
  private withId(id: Buffer, cls?: number): Buffer[] {
    const t: P11.Template = [{ type: pkcs11js.CKA_ID, value: id }];
    if (cls !== undefined) t.push({ type: pkcs11js.CKA_CLASS, value: cls });
    return this.find(t);
  }

  private keyInfo(priv: Buffer, knownPublic?: Buffer): KeyInfo {
    const a = this.attrs(priv, [
      pkcs11js.CKA_LABEL, pkcs11js.CKA_ID, pkcs11js.CKA_KEY_TYPE, pkcs11js.CKA_TOKEN, pkcs11js.CKA_PRIVATE,
      pkcs11js.CKA_SENSITIVE, pkcs11js.CKA_EXTRACTABLE, pkcs11js.CKA_ALWAYS_SENSITIVE, pkcs11js.CKA_NEVER_EXTRACTABLE,
      pkcs11js.CKA_LOCAL, pkcs11js.CKA_SIGN, pkcs11js.CKA_ALWAYS_AUTHENTICATE,
    ]);
    const label = a.get(pkcs11js.CKA_LABEL)?.toString('utf8') ?? '';
    const id = a.get(pkcs11js.CKA_ID) ?? Buffer.alloc(0);
    const keyType = ulong(a.get(pkcs11js.CKA_KEY_TYPE)!);
    const attributes: KeyAttributes = {
      token: bool(a.get(pkcs11js.CKA_TOKEN)),
      private: bool(a.get(pkcs11js.CKA_PRIVATE)),
      sensitive: bool(a.get(pkcs11js.CKA_SENSITIVE)),
      extractable: bool(a.get(pkcs11js.CKA_EXTRACTABLE)),
      alwaysSensitive: bool(a.get(pkcs11js.CKA_ALWAYS_SENSITIVE)),
      neverExtractable: bool(a.get(pkcs11js.CKA_NEVER_EXTRACTABLE)),
      local: bool(a.get(pkcs11js.CKA_LOCAL)),
      sign: bool(a.get(pkcs11js.CKA_SIGN)),
      alwaysAuthenticate: bool(a.get(pkcs11js.CKA_ALWAYS_AUTHENTICATE)),
    };
    const pub = knownPublic ?? this.publicKeyFor(priv, id, label);
    if (!pub) throw new QpkiError('KEY_INVALID', `Key "${label}" has no matching public key object on the token.`);
    let keyAlgorithm: KeyAlgorithm;
    let spki: Uint8Array;
    let sizeBits: number;
    let parameterSet: string | undefined;
    if (keyType === pkcs11js.CKK_EC || keyType === CKK_EC_EDWARDS) {
      const pa = this.attrs(pub, [pkcs11js.CKA_EC_PARAMS, pkcs11js.CKA_EC_POINT]);
      keyAlgorithm = ecCurveFromParams(pa.get(pkcs11js.CKA_EC_PARAMS)!);
      spki = ecSpki(keyAlgorithm, pa.get(pkcs11js.CKA_EC_POINT)!);
      sizeBits = keyAlgorithm === 'ed25519' ? 255 : Number(keyAlgorithm.slice(4));
    } else if (keyType === pkcs11js.CKK_RSA) {
      const pa = this.attrs(pub, [pkcs11js.CKA_MODULUS, pkcs11js.CKA_PUBLIC_EXPONENT]);
      const mod = pa.get(pkcs11js.CKA_MODULUS)!;
      sizeBits = mod.length * 8;
      keyAlgorithm = rsaKeyAlgorithm(sizeBits);
      spki = rsaSpki(mod, pa.get(pkcs11js.CKA_PUBLIC_EXPONENT)!);
    } else if (keyType === CKK_ML_DSA) {
      const pa = this.attrs(pub, [CKA_PARAMETER_SET, pkcs11js.CKA_VALUE]);
      const set = ulong(pa.get(CKA_PARAMETER_SET)!);
      const alg = (Object.entries(CKP_ML_DSA).find(([, v]) => v === set)?.[0] ?? '') as KeyAlgorithm;
      if (!alg) throw new QpkiError('KEY_INVALID', `Key "${label}" has an ML-DSA parameter set this tool does not know (CKA_PARAMETER_SET ${set}).`);
      // The private half names its parameter set too: a pair whose halves disagree was not made
      // together, and signing with it would give signatures its certificate's key cannot verify.
      const own = this.attrs(priv, [CKA_PARAMETER_SET]).get(CKA_PARAMETER_SET);
      if (own && ulong(own) !== set) {
        throw new QpkiError('KEY_INVALID', `Key "${label}": the private key is ${CKP_ML_DSA_NAMES[ulong(own)] ?? ulong(own)} but its public key is ${CKP_ML_DSA_NAMES[set]}; they are not one key pair.`);
      }
      keyAlgorithm = alg;
      parameterSet = CKP_ML_DSA_NAMES[set];
      spki = mlDsaSpki(alg, pa.get(pkcs11js.CKA_VALUE)!);
      sizeBits = 0;
    } else {
      throw new QpkiError('KEY_INVALID', `Key "${label}" has a key type (0x${keyType.toString(16)}) this tool does not sign with.`);
    }
    const info: KeyInfo = { label, id: id.toString('hex'), keyAlgorithm, sizeBits, ...(parameterSet ? { parameterSet } : {}), attributes, spki, publicKeyFingerprint: sha256Hex(spki) };
    this.handles.set(info, priv);
    return info;
  }

  /**
   * The private key named by label and/or id (hex). Several matches is an error that lists them,
   * so a ceremony never signs with a key nobody chose.
   */
  findKey(ref: { label?: string; id?: string }): KeyInfo {
    if (!ref.label && !ref.id) throw new QpkiError('INPUT_INVALID', 'Name the key by label or id.');
    if (ref.id !== undefined && !/^([0-9a-fA-F]{2})+$/.test(ref.id)) throw new QpkiError('INPUT_INVALID', `Key id must be hex (e.g. 01a2), got "${ref.id}".`);
    // The token searches by label and id: reading every key's public half to filter here costs
    // a round trip per key, which on a network HSM with many keys is most of a command's time.
    const tmpl: P11.Template = [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_TOKEN, value: true },
    ];
    if (ref.label !== undefined) tmpl.push({ type: pkcs11js.CKA_LABEL, value: ref.label });
    if (ref.id !== undefined) tmpl.push({ type: pkcs11js.CKA_ID, value: Buffer.from(ref.id, 'hex') });
    const hits = this.keysOf(this.find(tmpl));
    const what = [ref.label !== undefined ? `label "${ref.label}"` : '', ref.id !== undefined ? `id ${ref.id}` : ''].filter(Boolean).join(' and ');
    if (hits.length === 0) throw new QpkiError('KEY_NOT_FOUND', `No private key with ${what} on token "${this.token.label}".`);
    if (hits.length > 1) {
      throw new QpkiError('KEY_AMBIGUOUS', `${hits.length} private keys have ${what}: ${hits.map((k) => `id ${k.id} (${k.keyAlgorithm})`).join(', ')}. Name the key by id.`);
    }
    return hits[0];
  }

  private privateHandle(key: KeyInfo): Buffer {
    const tmpl: P11.Template = [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }, { type: pkcs11js.CKA_LABEL, value: key.label }];
    if (key.id) tmpl.push({ type: pkcs11js.CKA_ID, value: Buffer.from(key.id, 'hex') });
    const h = this.find(tmpl, 2);
    if (h.length !== 1) throw new QpkiError('KEY_NOT_FOUND', `The key "${key.label}" is no longer on the token.`);
    return h[0];
  }

  /**
   * Generate a signing key pair inside the token: private key token/private/sensitive, never
   * extractable, sign only. The attributes are read back and a test signature is verified in
   * software before the key is reported.
   */
  async generateKey(spec: { algorithm: KeyAlgorithm; label: string; id?: string }): Promise<GeneratedKeyReport> {
    // process.hrtime, not performance.now(): the first use of the global `performance` loads
    // node:perf_hooks, about 0.9 ms of every key generated from the command line.
    const started = process.hrtime.bigint();
    const { algorithm, label } = spec;
    if (!label || label.length > 128 || /[\u0000-\u001f\u007f]/.test(label)) throw new QpkiError('INPUT_INVALID', 'The key label must be 1 to 128 printable characters.');
    if (spec.id !== undefined && !/^([0-9a-fA-F]{2}){1,64}$/.test(spec.id)) throw new QpkiError('INPUT_INVALID', `Key id must be hex (e.g. 01a2), got "${spec.id}".`);
    if (!this.loggedIn) throw new QpkiError('NOT_LOGGED_IN', 'Log in to the token before generating a key.');
    const fam = keyFamily(algorithm);
    const mech = keygenMechanism(fam);
    if (!this.hasMechanism(mech) || !this.keyAlgorithms().includes(algorithm)) {
      const offered = this.keyAlgorithms();
      const hint = fam === 'ml-dsa' ? ' This token has no PKCS#11 3.2 ML-DSA mechanisms: use a software ML-DSA key instead (hybrid: classical key in the token, ML-DSA key in a file).' : '';
      throw new QpkiError('MECHANISM_UNSUPPORTED', `Token "${this.token.label}" cannot generate ${algorithm} keys. It offers: ${offered.join(', ') || 'none'}.${hint}`);
    }
    if (this.objectsWithLabel(label) > 0) {
      throw new QpkiError('KEY_LABEL_EXISTS', `Token "${this.token.label}" already has an object labelled "${label}". Choose another label, or use the existing key (--use-existing-key).`);
    }
    if (spec.id !== undefined && this.withId(Buffer.from(spec.id, 'hex')).length > 0) {
      throw new QpkiError('KEY_ID_EXISTS', `Token "${this.token.label}" already has an object with CKA_ID ${spec.id.toLowerCase()}: two keys with one id cannot be told apart by a tool that finds keys by id. Choose another id, or leave it out (the id is then derived from the new public key).`);
    }
    // A temporary random id until the public key is known; then both halves get the derived id.
    const tempId = randomBytes(16);
    const common = (cls: number, onToken: boolean): P11.Template => [
      { type: pkcs11js.CKA_CLASS, value: cls },
      { type: pkcs11js.CKA_TOKEN, value: onToken },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_ID, value: spec.id ? Buffer.from(spec.id, 'hex') : tempId },
    ];
    // With a derived id the public half is made again under it, so the generated one need only
    // live in this session: a token object would be written to the token's store only to be
    // destroyed (SoftHSM2: ~6 ms more for every key made). The private half is a token object
    // from the start, as generated; it is never copied.
    const pub = common(pkcs11js.CKO_PUBLIC_KEY, spec.id !== undefined);
    pub.push(...publicKeyUsage());
    // A token sets CKA_MODIFIABLE only when an object is created: with a derived id, the public
    // half is created again under that id (publicKeyUnder), unmodifiable from the start.
    if (spec.id) pub.push({ type: pkcs11js.CKA_MODIFIABLE, value: false });
    const priv = common(pkcs11js.CKO_PRIVATE_KEY, true);
    priv.push(
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_SIGN, value: true },
    );
    if (fam === 'ec') pub.push({ type: pkcs11js.CKA_EC_PARAMS, value: EC_PARAMS[algorithm as 'ec-p256'] });
    if (fam === 'ed25519') pub.push({ type: pkcs11js.CKA_EC_PARAMS, value: EC_PARAMS.ed25519 });
    // A CA key signs and nothing else.
    priv.push({ type: pkcs11js.CKA_DECRYPT, value: false }, { type: pkcs11js.CKA_UNWRAP, value: false });
    if (fam === 'ec') priv.push({ type: pkcs11js.CKA_DERIVE, value: false });
    if (fam === 'rsa') {
      pub.push({ type: pkcs11js.CKA_MODULUS_BITS, value: Number(algorithm.slice(4)) }, { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) });
    }
    if (fam === 'ml-dsa') pub.push({ type: CKA_PARAMETER_SET, value: CKP_ML_DSA[algorithm as 'ml-dsa-44'] });
    let pair: P11.KeyPair;
    try {
      pair = await this.lib.C_GenerateKeyPairAsync(this.handle, { mechanism: mech }, pub, priv);
    } catch (e) {
      throw mapPkcs11Error(e, `Generating a ${algorithm} key in token "${this.token.label}"`);
    }
    let remade: Buffer | undefined;
    try {
      if (!spec.id) {
        const info = this.keyInfoForPair(pair.privateKey, pair.publicKey, algorithm);
        const derived = keyIdFromSpki(info);
        if (this.withId(derived).length > 0) {
          throw new QpkiError('KEY_ID_EXISTS', `Token "${this.token.label}" already has an object with CKA_ID ${derived.toString('hex')}, the id derived from the new key's public key; the new key was removed. Give the key an id of its own.`);
        }
        remade = this.publicKeyUnder(pair.publicKey, fam, label, derived);
        this.lib.C_SetAttributeValue(this.handle, pair.privateKey, [{ type: pkcs11js.CKA_ID, value: derived }]);
        this.lib.C_DestroyObject(this.handle, pair.publicKey);
      }
      // The public half is the one just made under the derived id, which no other object had.
      const key = this.keyInfo(pair.privateKey, remade ?? pair.publicKey);
      if (!key.attributes.sensitive || key.attributes.extractable || !key.attributes.token || !key.attributes.private) {
        throw new QpkiError('KEY_CHECK_FAILED', `The token did not keep the requested protection on key "${label}" (sensitive=${key.attributes.sensitive}, extractable=${key.attributes.extractable}). The key must not be used.`);
      }
      const sigAlg = defaultSignatureAlgorithm(algorithm);
      const verified = await this.testSignature(key, sigAlg, `qpki key generation self-test ${label}`);
      if (!verified) throw new QpkiError('KEY_CHECK_FAILED', `The test signature made by the new key "${label}" did not verify. The key must not be used.`);
      return { key, testSignature: { algorithm: sigAlg, verified }, durationMs: Number(process.hrtime.bigint() - started) / 1e6 };
    } catch (e) {
      // A key that failed its checks is removed, so nobody picks it later by mistake.
      for (const o of [pair.privateKey, pair.publicKey, remade]) {
        if (o) try { this.lib.C_DestroyObject(this.handle, o); } catch { /* best effort; the public half may already be gone */ }
      }
      throw e instanceof QpkiError ? e : mapPkcs11Error(e, 'Checking the new key');
    }
  }

  /**
   * The public half `pub` created again under `id`: verify only, unmodifiable, its key values
   * read from `pub` (which the caller then destroys). Returns the new object.
   */
  private publicKeyUnder(pub: Buffer, fam: ReturnType<typeof keyFamily>, label: string, id: Buffer): Buffer {
    const values =
      fam === 'rsa' ? [pkcs11js.CKA_MODULUS, pkcs11js.CKA_PUBLIC_EXPONENT] : fam === 'ml-dsa' ? [CKA_PARAMETER_SET, pkcs11js.CKA_VALUE] : [pkcs11js.CKA_EC_PARAMS, pkcs11js.CKA_EC_POINT];
    const read = this.attrs(pub, [pkcs11js.CKA_KEY_TYPE, ...values]);
    const t: P11.Template = [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: ulong(read.get(pkcs11js.CKA_KEY_TYPE)!) },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_ID, value: id },
      ...publicKeyUsage(),
      { type: pkcs11js.CKA_MODIFIABLE, value: false },
    ];
    for (const type of values) {
      const v = read.get(type);
      if (!v) throw new QpkiError('KEY_CHECK_FAILED', `The token did not give back the public key of the new key "${label}".`);
      t.push({ type, value: type === CKA_PARAMETER_SET ? ulong(v) : v });
    }
    return this.lib.C_CreateObject(this.handle, t);
  }

  /** Signs a fresh probe with the private key and verifies it with the public key read from the token. */
  private async testSignature(key: KeyInfo, sigAlg: SignatureAlgorithm, what: string, contextPin?: PinProvider): Promise<boolean> {
    const probe = createHash('sha256').update(`${what} ${new Date().toISOString()} ${randomBytes(16).toString('hex')}`).digest();
    const sig = await this.signer(key, contextPin).sign(sigAlg, probe);
    return verifySignature(key.spki, sigAlg, probe, sig);
  }

  /**
   * The proof an existing key must give before it becomes a CA key, the same as a new key gives:
   * its CKA_ID belongs to it alone, a test signature by the private key verifies against the
   * public key read from the token now (someone holding the token without the PIN can replace
   * the public key object, and the next certificate would carry their key), and, when a journal
   * recorded the key at its generation, the public key is the one recorded there.
   */
  async proveKey(key: KeyInfo, opts: { expectedFingerprint?: { sha256: string; where: string }; contextPin?: PinProvider } = {}): Promise<KeyProof> {
    if (!this.loggedIn) throw new QpkiError('NOT_LOGGED_IN', 'Log in to the token before choosing a key.');
    // Read again: what was listed a moment ago may have been changed since.
    const handle = this.privateHandle(key);
    const now = this.keyInfo(handle);
    if (now.id) {
      const privs = this.withId(Buffer.from(now.id, 'hex'), pkcs11js.CKO_PRIVATE_KEY);
      if (privs.length > 1) {
        const others = privs.filter((h) => !h.equals(handle)).map((h) => this.attrs(h, [pkcs11js.CKA_LABEL]).get(pkcs11js.CKA_LABEL)?.toString('utf8') ?? '');
        throw new QpkiError('KEY_AMBIGUOUS', `Key "${now.label}" shares its CKA_ID ${now.id} with ${privs.length - 1} other private key${privs.length > 2 ? 's' : ''} on token "${this.token.label}" (${others.map((l) => `"${l}"`).join(', ')}): a tool that finds keys by id could sign with the wrong one. Give one of them another id with the vendor tool, or choose another key.`);
      }
    }
    const sigAlg = defaultSignatureAlgorithm(now.keyAlgorithm);
    let verified: boolean;
    try {
      verified = await this.testSignature(now, sigAlg, `qpki existing key self-test ${now.label}`, opts.contextPin);
    } catch (e) {
      // A public key of another type than its private key cannot even be tried: the same verdict.
      if (e instanceof QpkiError && (e.code === 'MECHANISM_UNSUPPORTED' || e.code === 'KEY_INVALID')) verified = false;
      else throw e;
    }
    if (!verified) {
      throw new QpkiError('KEY_CHECK_FAILED', `The public key object of "${now.label}" on token "${this.token.label}" does not belong to its private key: a test signature by the private key did not verify against it. The public key object may have been replaced (that needs no PIN). Do not use this key.`);
    }
    if (opts.expectedFingerprint && opts.expectedFingerprint.sha256.toLowerCase() !== now.publicKeyFingerprint) {
      throw new QpkiError('KEY_CHECK_FAILED', `Key "${now.label}" on token "${this.token.label}" is not the key ${opts.expectedFingerprint.where} recorded at its generation: its public key SHA-256 is ${now.publicKeyFingerprint}, the record says ${opts.expectedFingerprint.sha256.toLowerCase()}. Do not use this key.`);
    }
    return { key: now, testSignature: { algorithm: sigAlg, verified }, journal: opts.expectedFingerprint ? 'matched' : 'not-recorded' };
  }

  private keyInfoForPair(_priv: Buffer, pub: Buffer, algorithm: KeyAlgorithm): Uint8Array {
    const fam = keyFamily(algorithm);
    if (fam === 'rsa') {
      const pa = this.attrs(pub, [pkcs11js.CKA_MODULUS, pkcs11js.CKA_PUBLIC_EXPONENT]);
      return rsaSpki(pa.get(pkcs11js.CKA_MODULUS)!, pa.get(pkcs11js.CKA_PUBLIC_EXPONENT)!);
    }
    if (fam === 'ml-dsa') return mlDsaSpki(algorithm, this.attrs(pub, [pkcs11js.CKA_VALUE]).get(pkcs11js.CKA_VALUE)!);
    return ecSpki(algorithm, this.attrs(pub, [pkcs11js.CKA_EC_POINT]).get(pkcs11js.CKA_EC_POINT)!);
  }

  /**
   * A Signer for a key in this token. `contextPin` is asked for only when the key needs a
   * context-specific login for every signature (CKA_ALWAYS_AUTHENTICATE).
   */
  signer(key: KeyInfo, contextPin?: PinProvider): Signer {
    let known = this.handles.get(key);
    return new Pkcs11Signer(this, key, () => {
      const h = known ?? this.privateHandle(key);
      known = undefined;
      return h;
    }, contextPin);
  }
}
