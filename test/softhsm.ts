/**
 * A private SoftHSM2 token store for one test: its own directory and config file, so no test
 * touches the machine's default token store or another test's tokens.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SOFTHSM_LIB = process.env.QPKI_TEST_PKCS11_LIB ?? '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsmStore {
  dir: string;
  conf: string;
  tokenDir: string;
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

export function makeSoftHsmStore(): SoftHsmStore {
  requireSoftHsm();
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
    env,
    initToken(label, soPin, userPin) {
      const out = execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', soPin, '--pin', userPin], { env, encoding: 'utf8' });
      const show = execFileSync('softhsm2-util', ['--show-slots'], { env, encoding: 'utf8' });
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
