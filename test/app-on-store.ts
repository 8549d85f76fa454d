/**
 * The app's handler table over a private SoftHSM2 store, for the node tests that drive main as a
 * renderer would. A module of its own: test/handler-calls.ts is also loaded by the Playwright
 * specs, which must not load the engine.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { handlerCalls } from './handler-calls';
import { makeHarness } from './harness/test-harness';
import { SOFTHSM_LIB, type SoftHsmStore } from './softhsm';

/**
 * The app's handler table over `store` (tokens initialized in it first), with a work folder of its
 * own (`data/` is the app's data folder); the ceremony, the store and the folder go after the file's tests.
 */
export function appOnStore(store: SoftHsmStore, name: string) {
  const work = mkdtempSync(join(tmpdir(), `qpki-${name}-`));
  mkdirSync(join(work, 'data'));
  const h = makeHarness({ softhsmPath: SOFTHSM_LIB, devTokenDir: store.dir, dataDir: join(work, 'data') });
  after(() => {
    h.state.endCeremony();
    store.cleanup();
    rmSync(work, { recursive: true, force: true });
  });
  return { work, h, ...handlerCalls(h) };
}
