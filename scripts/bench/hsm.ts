/**
 * The benchmark's private SoftHSM2 token and the CAs it issues from. Everything lives in one
 * temporary directory; the machine's own token store is never touched.
 */
import { randomBytes, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import * as pkcs11js from 'pkcs11js';
import { makeSoftHsmStore, SOFTHSM_LIB, type SoftHsmStore } from '../../test/softhsm';

export const TOKEN_LABEL = 'Bench Token';
/** P-256 for the CA key, so the raw rate and the issuance rate measure the same signature. */
export const CA_PROFILE = 'ec/issuing-ca';
export const SUBJECT_PROFILE = 'ec/tls-server';

export interface BenchHsm {
  store: SoftHsmStore;
  lib: string;
  serial: string;
  /** Throwaway PIN of the throwaway token; handed to children through the environment only. */
  pin: string;
  /** Environment for child processes: the private store plus BENCH_PIN. */
  childEnv: NodeJS.ProcessEnv;
  cleanup(): void;
}

/**
 * Create the store and point this process at it. Must run before any PKCS#11 module is
 * initialized here, since SoftHSM2 reads SOFTHSM2_CONF at C_Initialize.
 */
export function setupBenchHsm(): BenchHsm {
  const store = makeSoftHsmStore();
  process.env.SOFTHSM2_CONF = store.conf;
  const pin = randomBytes(6).toString('hex');
  const serial = store.initToken(TOKEN_LABEL, randomBytes(6).toString('hex'), pin);
  return {
    store,
    lib: SOFTHSM_LIB,
    serial,
    pin,
    childEnv: { ...store.env, BENCH_PIN: pin },
    cleanup: () => store.cleanup(),
  };
}

/** A fixed P-256 subject public key (SPKI DER): issuance cost should not include key generation. */
export function fixedSubjectSpki(): Uint8Array {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
}

/**
 * A CA directory with its key generated in the bench token, opened for issuance and sharing one
 * logged-in session (as the app does during a ceremony).
 */
export async function openBenchCa(hsm: BenchHsm, name: string, keyLabel: string) {
  const { loadModule } = await import('../../electron/core/pkcs11/index');
  const { initCa, openCa } = await import('../../electron/core/ca/index');
  const { loadProfile } = await import('../../electron/core/profiles/index');
  const mod = loadModule(hsm.lib);
  const session = mod.openSession({ serial: hsm.serial });
  await session.login(hsm.pin);
  const dir = join(hsm.store.dir, name);
  await initCa({ dir, profile: loadProfile(CA_PROFILE), vars: { cn: `Bench ${name}` }, key: { kind: 'pkcs11', session, label: keyLabel } });
  const ca = await openCa(dir, { session });
  return { mod, session, ca, dir, subjectProfile: loadProfile(SUBJECT_PROFILE) };
}

/**
 * A session of our own straight on pkcs11js, beside the engine's: used for the raw C_Sign rate
 * and for counting the objects on the token without going through the code under test.
 */
export class RawSession {
  readonly handle: Buffer;
  constructor(readonly lib: pkcs11js.PKCS11, slot: Buffer, pin: string) {
    this.handle = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
    try {
      lib.C_Login(this.handle, pkcs11js.CKU_USER, pin);
    } catch (e) {
      // Login state is per token and application: the engine's session may have logged in already.
      if (!/CKR_USER_ALREADY_LOGGED_IN/.test(String((e as Error).message))) throw e;
    }
  }

  find(template: pkcs11js.Template): Buffer[] {
    const out: Buffer[] = [];
    this.lib.C_FindObjectsInit(this.handle, template);
    try {
      for (;;) {
        const batch = this.lib.C_FindObjects(this.handle, 256);
        if (!batch.length) break;
        out.push(...batch);
      }
    } finally {
      this.lib.C_FindObjectsFinal(this.handle);
    }
    return out;
  }

  /** Every object this (logged-in) session can see: public, private, token and session objects. */
  countObjects(): number {
    return this.find([]).length;
  }

  privateKey(label: string): Buffer {
    const h = this.find([{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }, { type: pkcs11js.CKA_LABEL, value: label }]);
    if (h.length !== 1) throw new Error(`expected one private key labelled ${label}, found ${h.length}`);
    return h[0];
  }

  close(): void {
    try { this.lib.C_CloseSession(this.handle); } catch { /* best effort at the end of a run */ }
  }
}

