/**
 * UI figures: renderer JS size (gzip), time to the first interactive screen in headless
 * Chromium, and the round trip of one contract call through the bridge to the handler table.
 * Targets: gzip ≤ 350 KB, first interactive ≤ 800 ms median.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from '@playwright/test';
import { CHANNELS } from '../shared/channels';
import { serveDir } from '../e2e/static-server';
import type { makeHarness as MakeHarness } from '../test/harness/test-harness';

const root = resolve(__dirname, '..');
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

export async function benchUi(): Promise<{ rendererGzipBytes: number; firstInteractiveMsMedian: number; ipcRoundTripMsMedian: number }> {
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'error'], { cwd: root, env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' } });
  execFileSync(process.execPath, ['scripts/build-electron.mjs', '--harness'], { cwd: root });
  const assets = join(root, 'dist', 'renderer', 'assets');
  const rendererGzipBytes = readdirSync(assets).filter((f) => f.endsWith('.js')).reduce((n, f) => n + gzipSync(readFileSync(join(assets, f)), { level: 9 }).length, 0);

  const { makeHarness } = createRequire(__filename)(join(root, 'dist', 'e2e', 'harness.cjs')) as { makeHarness: typeof MakeHarness };
  const harness = makeHarness({ softhsmPath: null, devTokenDir: null });
  const server = await serveDir(join(root, 'dist', 'renderer'));
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const first: number[] = [];
  let rt: number[] = [];
  try {
    for (let i = 0; i < 7; i++) {
      const page = await browser.newPage();
      await page.exposeFunction('__qpkiInvoke', (c: string, input: unknown) => harness.invoke(c, input));
      await page.addInitScript((channels: readonly string[]) => {
        const invoke = (window as unknown as { __qpkiInvoke: (c: string, i: unknown) => Promise<unknown> }).__qpkiInvoke;
        const api: Record<string, (i?: unknown) => Promise<unknown>> = {};
        for (const n of channels) api[n] = (i?: unknown) => invoke(`qpki:${n}`, i ?? {});
        (window as unknown as { qpki: unknown }).qpki = Object.freeze(api);
      }, CHANNELS);
      const t0 = Date.now();
      await page.goto(server.url);
      await page.getByTestId('start-ceremony').waitFor({ state: 'visible' });
      // Interactive: the first task button is enabled and the boot call has answered.
      await page.waitForFunction(() => !document.querySelector('.busy .spinner'));
      first.push(Date.now() - t0);
      if (i === 0) {
        rt = await page.evaluate(async () => {
          const q = (window as unknown as { qpki: { appInfo: (i: unknown) => Promise<unknown> } }).qpki;
          const out: number[] = [];
          for (let k = 0; k < 50; k++) { const s = performance.now(); await q.appInfo({}); out.push(performance.now() - s); }
          return out;
        });
      }
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
  return { rendererGzipBytes, firstInteractiveMsMedian: median(first), ipcRoundTripMsMedian: Math.round(median(rt) * 100) / 100 };
}

if (require.main === module) {
  benchUi().then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); });
}
