/**
 * The e2e bridge. The renderer gets `window.qpki` with the same named functions the preload
 * exposes; each call crosses to this Node worker through `page.exposeFunction` and runs the
 * SAME handler table electron/app/ipc.ts registers (real validation, real core, real SoftHSM2).
 */
import { test as base, expect, type Page } from '@playwright/test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeSoftHsmStore, SOFTHSM_LIB, type SoftHsmStore } from '../test/softhsm';
import { createRequire } from 'node:module';
import type { Harness, makeHarness as MakeHarness } from '../test/harness/test-harness';
import { CHANNELS } from '../shared/channels';
import { serveDir } from './static-server';

// SoftHSM2 reads SOFTHSM2_CONF at the first C_Initialize in this worker: set it before any module loads.
const hsm: SoftHsmStore = makeSoftHsmStore();
process.env.SOFTHSM2_CONF = hsm.conf;
process.on('exit', () => hsm.cleanup());

const ARTIFACTS = resolve(__dirname, 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });
const AXE = readFileSync(resolve(__dirname, '..', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

export interface App {
  page: Page;
  harness: Harness;
  hsm: SoftHsmStore;
  workDir: string;
  origin: string;
  /** Requests the page made anywhere but the app's own origin. */
  foreign: string[];
  /** Screenshot this screen into e2e/artifacts and assert axe-core finds no violation. */
  screen(name: string): Promise<void>;
  /**
   * Send the page's requests to another handler table (one running beside another token, in
   * another process) instead of this worker's; null goes back to this worker's.
   */
  route(invoke: ((channel: string, input: unknown) => Promise<unknown>) | null): void;
}

// The handler table as esbuild bundles it for the app (global-setup builds it): Playwright's own
// TypeScript transform does not do the legacy decorators the ASN.1 schemas use.
const { makeHarness } = createRequire(__filename)(resolve(__dirname, '..', 'dist', 'e2e', 'harness.cjs')) as { makeHarness: typeof MakeHarness };

let harness: Harness | null = null;

export const test = base.extend<{ app: App }>({
  app: async ({ page }, use, info) => {
    // One handler table per worker, as one app process has one.
    harness ??= makeHarness({ softhsmPath: SOFTHSM_LIB, devTokenDir: hsm.dir });
    const h = harness;
    const server = await serveDir(resolve(__dirname, '..', 'dist', 'renderer'));
    const origin = new URL(server.url).origin;
    const foreign: string[] = [];
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(origin + '/')) foreign.push(u);
    });
    let routed: ((channel: string, input: unknown) => Promise<unknown>) | null = null;
    const route = (invoke: typeof routed) => { routed = invoke; };
    await page.exposeFunction('__qpkiInvoke', (channel: string, input: unknown) => (routed ?? h.invoke)(channel, input));
    await page.addInitScript((channels: readonly string[]) => {
      const invoke = (window as unknown as { __qpkiInvoke: (c: string, i: unknown) => Promise<unknown> }).__qpkiInvoke;
      const api: Record<string, (input?: unknown) => Promise<unknown>> = Object.create(null);
      for (const name of channels) api[name] = (input?: unknown) => invoke(`qpki:${name}`, input === undefined ? {} : input);
      Object.defineProperty(window, 'qpki', { value: Object.freeze(api), writable: false, configurable: false });
    }, CHANNELS);
    const workDir = mkdtempSync(join(tmpdir(), 'qpki-e2e-'));
    let n = 0;
    const slug = info.title.replace(/[^a-z0-9]+/gi, '-').toLowerCase().slice(0, 40);
    const screen = async (name: string) => {
      n += 1;
      await page.screenshot({ path: join(ARTIFACTS, `${slug}-${String(n).padStart(2, '0')}-${name}.png`), fullPage: true });
      const has = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe !== 'undefined');
      if (!has) await page.evaluate(AXE);
      const result = await page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run: (c: unknown, o: unknown) => Promise<{ violations: Array<{ id: string; help: string; nodes: Array<{ target: unknown }> }> }> } }).axe;
        const r = await axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map((v) => `${v.id}: ${v.help} @ ${JSON.stringify(v.nodes.slice(0, 3).map((x) => x.target))}`);
      });
      expect(result, `axe-core violations on screen ${name}`).toEqual([]);
    };
    await page.goto(server.url);
    await use({ page, harness: h, hsm, workDir, origin, foreign, screen, route });
    await h.handlers.endSession({});
    await server.close();
    rmSync(workDir, { recursive: true, force: true });
  },
});

export { expect };
