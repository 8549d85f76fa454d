import { hash } from 'node:crypto';
import type * as P11 from 'pkcs11js';
import { pkcs11js } from './native';
import { QpkiError } from '../errors';
import { signatureFitsKey, type KeyAlgorithm, type SignatureAlgorithm } from '../keys/algorithms';
import type { KeyStorageRef, Signer } from '../keys/signer';
import { CKM_EDDSA, CKM_ML_DSA } from './constants';
import { mapPkcs11Error } from './errors';
import type { TokenSession } from './session';
import type { KeyInfo } from './types';

/** Asked for the PIN again when a key wants a context-specific login for each signature. */
export type PinProvider = () => string | Promise<string>;

interface HashFacts { node: string; ckm: number; mgf: number; len: number; digestInfo: string }

let tables: { hash: Record<string, HashFacts>; rsaPkcs: Record<string, number>; rsaPss: Record<string, number> } | undefined;

/** The mechanisms by hash, built when first signing: they read pkcs11js's constants, which loads the addon. */
function mechanismTables(): NonNullable<typeof tables> {
  return (tables ??= {
    hash: {
      sha256: { node: 'sha256', ckm: pkcs11js.CKM_SHA256, mgf: pkcs11js.CKG_MGF1_SHA256, len: 32, digestInfo: '3031300d060960864801650304020105000420' },
      sha384: { node: 'sha384', ckm: pkcs11js.CKM_SHA384, mgf: pkcs11js.CKG_MGF1_SHA384, len: 48, digestInfo: '3041300d060960864801650304020205000430' },
      sha512: { node: 'sha512', ckm: pkcs11js.CKM_SHA512, mgf: pkcs11js.CKG_MGF1_SHA512, len: 64, digestInfo: '3051300d060960864801650304020305000440' },
    },
    rsaPkcs: { sha256: pkcs11js.CKM_SHA256_RSA_PKCS, sha384: pkcs11js.CKM_SHA384_RSA_PKCS, sha512: pkcs11js.CKM_SHA512_RSA_PKCS },
    rsaPss: { sha256: pkcs11js.CKM_SHA256_RSA_PKCS_PSS, sha384: pkcs11js.CKM_SHA384_RSA_PKCS_PSS, sha512: pkcs11js.CKM_SHA512_RSA_PKCS_PSS },
  });
}

function hashOf(alg: SignatureAlgorithm): HashFacts {
  return mechanismTables().hash[alg.slice(alg.lastIndexOf('-') + 1)];
}

/** Where an unsigned big-endian integer's DER content starts (leading zeros dropped) and whether it needs a 0x00 pad. */
function integerSpan(v: Uint8Array, from: number, to: number): { start: number; pad: number } {
  let start = from;
  while (start < to - 1 && v[start] === 0) start++;
  return { start, pad: v[start] & 0x80 ? 1 : 0 };
}

/** PKCS#11 returns ECDSA signatures as r‖s; X.509 carries Ecdsa-Sig-Value ::= SEQUENCE { r, s }. */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new QpkiError('PKCS11_ERROR', `The token returned an ECDSA signature of odd length ${raw.length}.`);
  const half = raw.length / 2;
  const r = integerSpan(raw, 0, half);
  const s = integerSpan(raw, half, raw.length);
  const rLen = half - r.start + r.pad;
  const sLen = raw.length - s.start + s.pad;
  // r and s are at most 66 bytes (P-521), so each INTEGER header is 2 bytes; the SEQUENCE's length may need 0x81.
  const body = 2 + rLen + 2 + sLen;
  const head = body < 0x80 ? 2 : 3;
  const out = new Uint8Array(head + body);
  let at = 0;
  out[at++] = 0x30;
  if (head === 3) out[at++] = 0x81;
  out[at++] = body;
  for (const [span, len, end] of [[r, rLen, half], [s, sLen, raw.length]] as const) {
    out[at++] = 0x02;
    out[at++] = len;
    at += span.pad; // the pad byte is already 0
    out.set(raw.subarray(span.start, end), at);
    at += end - span.start;
  }
  return out;
}

const EC_SIG_LEN: Partial<Record<KeyAlgorithm, number>> = { 'ec-p256': 64, 'ec-p384': 96, 'ec-p521': 132, ed25519: 64 };
/** FIPS 204 signature sizes: a token answering with another length did not make an ML-DSA signature of this key. */
const ML_DSA_SIG_LEN: Partial<Record<KeyAlgorithm, number>> = { 'ml-dsa-44': 2420, 'ml-dsa-65': 3309, 'ml-dsa-87': 4627 };

/** Signs inside the token; the private key never leaves it. */
export class Pkcs11Signer implements Signer {
  readonly keyAlgorithm: KeyAlgorithm;
  readonly spki: Uint8Array;
  readonly storage: KeyStorageRef;
  private handle?: Buffer;
  private readonly outBuf: Buffer;

  constructor(
    private readonly session: TokenSession,
    private readonly key: KeyInfo,
    private readonly resolveHandle: () => Buffer,
    private readonly contextPin?: PinProvider,
  ) {
    this.keyAlgorithm = key.keyAlgorithm;
    this.spki = key.spki;
    this.storage = {
      type: 'pkcs11',
      lib: session.module.path,
      token_label: session.token.label,
      token_serial: session.token.serial,
      key_label: key.label,
      key_id: key.id,
    };
    this.outBuf = Buffer.alloc(key.keyAlgorithm.startsWith('rsa-') ? 1024 : key.keyAlgorithm.startsWith('ml-dsa') ? 8192 : 256);
  }

  /** The mechanism and the bytes to give C_Sign for this algorithm, from what the token advertises. */
  private plan(alg: SignatureAlgorithm, data: Uint8Array): { mechanism: P11.Mechanism; input: Buffer; ecdsa: boolean } {
    const s = this.session;
    const unsupported = (what: string) =>
      new QpkiError('MECHANISM_UNSUPPORTED', `Token "${s.token.label}" does not offer ${what}, needed for ${alg} signatures.`);
    if (alg.startsWith('ecdsa-')) {
      if (!s.hasMechanism(pkcs11js.CKM_ECDSA)) throw unsupported('CKM_ECDSA');
      const h = hashOf(alg);
      return { mechanism: { mechanism: pkcs11js.CKM_ECDSA }, input: hash(h.node, data, 'buffer'), ecdsa: true };
    }
    if (alg.startsWith('rsa-pkcs1-')) {
      const h = hashOf(alg);
      const combined = mechanismTables().rsaPkcs[h.node];
      if (s.hasMechanism(combined)) return { mechanism: { mechanism: combined }, input: Buffer.from(data), ecdsa: false };
      if (!s.hasMechanism(pkcs11js.CKM_RSA_PKCS)) throw unsupported('CKM_RSA_PKCS');
      const digest = hash(h.node, data, 'buffer');
      return { mechanism: { mechanism: pkcs11js.CKM_RSA_PKCS }, input: Buffer.concat([Buffer.from(h.digestInfo, 'hex'), digest]), ecdsa: false };
    }
    if (alg.startsWith('rsa-pss-')) {
      const h = hashOf(alg);
      const parameter = { hashAlg: h.ckm, mgf: h.mgf, saltLen: h.len, type: pkcs11js.CK_PARAMS_RSA_PSS };
      const combined = mechanismTables().rsaPss[h.node];
      if (s.hasMechanism(combined)) return { mechanism: { mechanism: combined, parameter }, input: Buffer.from(data), ecdsa: false };
      if (!s.hasMechanism(pkcs11js.CKM_RSA_PKCS_PSS)) throw unsupported('CKM_RSA_PKCS_PSS');
      return { mechanism: { mechanism: pkcs11js.CKM_RSA_PKCS_PSS, parameter }, input: hash(h.node, data, 'buffer'), ecdsa: false };
    }
    if (alg === 'ed25519') {
      if (!s.hasMechanism(CKM_EDDSA)) throw unsupported('CKM_EDDSA');
      return { mechanism: { mechanism: CKM_EDDSA }, input: Buffer.from(data), ecdsa: false };
    }
    if (!s.hasMechanism(CKM_ML_DSA)) throw unsupported('CKM_ML_DSA (PKCS#11 3.2)');
    // A certificate or CRL signature is pure ML-DSA over the whole message with an empty context
    // (FIPS 204 ML-DSA.Sign, RFC 9881), hedged. PKCS#11 3.2 defines CKM_ML_DSA without a
    // parameter as exactly that (as if CK_SIGN_ADDITIONAL_CONTEXT { CKH_HEDGE_PREFERRED, no
    // context }), and every token must take it. A context string, or HashML-DSA
    // (CKM_HASH_ML_DSA*), would give signatures that do not verify as the certificate's.
    return { mechanism: { mechanism: CKM_ML_DSA }, input: Buffer.from(data), ecdsa: false };
  }

  /**
   * Why a signature failed, in words: a key handle that went stale or a token that stopped
   * answering mostly means the token was removed (or its store moved) since the session opened.
   */
  private signingFailure(e: unknown): QpkiError {
    const err = mapPkcs11Error(e, `Signing with key "${this.key.label}"`);
    if (err.code !== 'PKCS11_ERROR' && err.code !== 'TOKEN_NOT_PRESENT') return err;
    const ckr = String(err.details?.ckr ?? '');
    if (!['CKR_OBJECT_HANDLE_INVALID', 'CKR_KEY_HANDLE_INVALID', 'CKR_GENERAL_ERROR', 'CKR_DEVICE_ERROR', 'CKR_DEVICE_REMOVED', 'CKR_TOKEN_NOT_PRESENT'].includes(ckr)) return err;
    try {
      this.session.tokenState();
    } catch {
      return new QpkiError('TOKEN_NOT_PRESENT', `Signing with key "${this.key.label}" failed: token "${this.session.token.label}" no longer answers (${ckr}); it was removed or its store is unreachable. Nothing was signed. Reconnect it and open the token again.`, { ckr });
    }
    if (ckr.endsWith('HANDLE_INVALID')) {
      return new QpkiError('KEY_NOT_FOUND', `Signing failed: the key "${this.key.label}" is no longer on token "${this.session.token.label}" (${ckr}). Nothing was signed.`, { ckr });
    }
    return err;
  }

  /**
   * The key's first use found no key: on a token that stopped answering (a Catalyst CA's second
   * key, first used after the token went) that is the token's absence, not the key's.
   */
  private lookupFailure(e: unknown): unknown {
    if (!(e instanceof QpkiError) || e.code !== 'KEY_NOT_FOUND') return e;
    try {
      this.session.tokenState();
    } catch {
      return new QpkiError('TOKEN_NOT_PRESENT', `Signing with key "${this.key.label}" failed: token "${this.session.token.label}" no longer answers; it was removed or its store is unreachable. Nothing was signed. Reconnect it and open the token again.`);
    }
    return e;
  }

  async sign(alg: SignatureAlgorithm, data: Uint8Array): Promise<Uint8Array> {
    if (!signatureFitsKey(alg, this.keyAlgorithm)) {
      throw new QpkiError('MECHANISM_UNSUPPORTED', `A ${this.keyAlgorithm} key cannot make ${alg} signatures.`);
    }
    if (!this.session.isLoggedIn) throw new QpkiError('NOT_LOGGED_IN', 'Log in to the token before signing.');
    const { mechanism, input, ecdsa } = this.plan(alg, data);
    const lib = this.session.lib;
    const sessionHandle = this.session.handle;
    if (!this.handle) {
      try {
        this.handle = this.resolveHandle();
      } catch (e) {
        throw this.lookupFailure(e);
      }
    }
    const perSignaturePin = this.key.attributes.alwaysAuthenticate;
    if (perSignaturePin && !this.contextPin) throw new QpkiError('PIN_REQUIRED', `Key "${this.key.label}" asks for the PIN before every signature.`);
    // Asked before C_SignInit so that no signing operation waits on the operator.
    const pin = perSignaturePin ? await this.contextPin!() : undefined;
    let sig: Buffer;
    try {
      lib.C_SignInit(sessionHandle, mechanism, this.handle);
    } catch (e) {
      this.handle = undefined;
      throw this.signingFailure(e);
    }
    try {
      if (perSignaturePin) {
        try {
          lib.C_Login(sessionHandle, pkcs11js.CKU_CONTEXT_SPECIFIC, pin);
        } catch (e) {
          // A C_Sign that fails ends the active operation, so the session stays usable.
          try { lib.C_Sign(sessionHandle, input, this.outBuf); } catch { /* expected: not authenticated */ }
          throw e;
        }
      }
      sig = lib.C_Sign(sessionHandle, input, this.outBuf);
    } catch (e) {
      throw mapPkcs11Error(e, `Signing with key "${this.key.label}"`);
    }
    if (ecdsa) {
      const want = EC_SIG_LEN[this.keyAlgorithm];
      if (want && sig.length !== want) throw new QpkiError('PKCS11_ERROR', `The token returned a ${sig.length}-byte ECDSA signature; expected ${want}.`);
      return ecdsaRawToDer(sig); // a new array: outBuf is reused
    }
    const mlDsaLen = ML_DSA_SIG_LEN[this.keyAlgorithm];
    if (mlDsaLen && sig.length !== mlDsaLen) throw new QpkiError('PKCS11_ERROR', `The token returned a ${sig.length}-byte ${this.keyAlgorithm} signature; FIPS 204 gives ${mlDsaLen}.`);
    return new Uint8Array(sig); // copy: outBuf is reused
  }
}
