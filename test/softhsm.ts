/**
 * A private SoftHSM2 token store for one test: its own directory and config file, so no test
 * touches the machine's default token store or another test's tokens.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const SOFTHSM_LIB = process.env.QPKI_TEST_PKCS11_LIB ?? '/usr/lib/softhsm/libsofthsm2.so';

/** A SoftHSM2 build to run tokens on: its module and the softhsm2-util that goes with it. */
export interface SoftHsmModule {
  lib: string;
  util: string;
}

/** Debian's SoftHSM2 2.6 (no ML-DSA): the token most tests use. */
export const DEBIAN_SOFTHSM: SoftHsmModule = { lib: SOFTHSM_LIB, util: 'softhsm2-util' };

/**
 * SoftHSM2 with PKCS#11 3.2 ML-DSA, kept outside the project in ../shared beside the clone (CI has
 * it there, read-only): used where it lies, never copied in. QPKI_TEST_MLDSA_DIR points elsewhere.
 */
export const MLDSA_SOFTHSM_DIR = process.env.QPKI_TEST_MLDSA_DIR ?? resolve(__dirname, '..', '..', 'shared', 'tokens', 'softhsm2-mldsa');
const mldsaLib = join(MLDSA_SOFTHSM_DIR, 'libsofthsm2.so');
const mldsaUtil = join(MLDSA_SOFTHSM_DIR, 'softhsm2-util');

/** The ML-DSA SoftHSM2 module, or null where it is not beside the clone. */
export const MLDSA_SOFTHSM: SoftHsmModule | null = existsSync(mldsaLib) && existsSync(mldsaUtil) ? { lib: mldsaLib, util: mldsaUtil } : null;

let saidMissing = false;
/**
 * Why the ML-DSA token tests cannot run here, or undefined when they can. The reason is printed
 * once per test file, so a skipped run says so in one line and never passes silently.
 */
export function mldsaTokenMissing(): string | undefined {
  if (MLDSA_SOFTHSM) return undefined;
  const why = `the ML-DSA SoftHSM2 module is not at ${mldsaLib} (it lives in ../shared/tokens/softhsm2-mldsa beside the clone); ML-DSA token tests skipped`;
  if (!saidMissing) console.log(`# ${why}`);
  saidMissing = true;
  return why;
}

export interface SoftHsmStore {
  dir: string;
  conf: string;
  tokenDir: string;
  /** The PKCS#11 module this store's tokens were made with. */
  lib: string;
  /** Environment for child processes that must see this store. */
  env: NodeJS.ProcessEnv;
  /** Initialize a token with softhsm2-util (independent of our code); returns its serial. */
  initToken(label: string, soPin: string, userPin: string): string;
  cleanup(): void;
}

export function requireSoftHsm(): void {
  if (!existsSync(SOFTHSM_LIB)) {
    throw new Error(`SoftHSM2 is not installed (${SOFTHSM_LIB} missing): apt-get install softhsm2`);
  }
}

/**
 * A private token store. `module` picks the SoftHSM2 build whose softhsm2-util initializes its
 * tokens (Debian's by default); the store's files are the same format for both builds.
 */
export function makeSoftHsmStore(module: SoftHsmModule = DEBIAN_SOFTHSM): SoftHsmStore {
  if (module === DEBIAN_SOFTHSM) requireSoftHsm();
  else if (!existsSync(module.lib)) throw new Error(`SoftHSM2 module ${module.lib} is missing`);
  const dir = mkdtempSync(join(tmpdir(), 'qpki-hsm-'));
  const tokenDir = join(dir, 'tokens');
  mkdirSync(tokenDir);
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  return {
    dir,
    conf,
    tokenDir,
    lib: module.lib,
    env,
    initToken(label, soPin, userPin) {
      // --module: a util built elsewhere has its build prefix compiled in as the default module.
      const util = (args: string[]) => execFileSync(module.util, ['--module', module.lib, ...args], { env, encoding: 'utf8' });
      const out = util(['--init-token', '--free', '--label', label, '--so-pin', soPin, '--pin', userPin]);
      const show = util(['--show-slots']);
      // Find the serial of the token we just labelled.
      const blocks = show.split(/\n(?=Slot )/);
      for (const b of blocks) {
        if (new RegExp(`Label:\\s+${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'm').test(b)) {
          const m = /Serial number:\s+(\S+)/.exec(b);
          if (m) return m[1];
        }
      }
      throw new Error('token not found after init: ' + out);
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Point this process at a store. SoftHSM2 reads SOFTHSM2_CONF when C_Initialize runs, so this
 * must be called before the module is initialized in this process.
 */
export function useStoreInThisProcess(store: SoftHsmStore): void {
  process.env.SOFTHSM2_CONF = store.conf;
}
