#!/usr/bin/env node
// Bundles the main process and the preload with esbuild into dist/electron/*.cjs.
// The preload runs sandboxed, so it is bundled whole (only `electron` stays external);
// main keeps node_modules external (pkcs11js is native, and they ship beside the app).
// `--harness` also bundles the handler-table harness the Playwright bridge drives.
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: false, logLevel: 'warning', tsconfig: 'tsconfig.json' };

await build({ ...common, entryPoints: ['electron/main.ts'], outfile: 'dist/electron/main.cjs', packages: 'external' });
await build({ ...common, entryPoints: ['electron/preload.ts'], outfile: 'dist/electron/preload.cjs', external: ['electron'] });
if (process.argv.includes('--harness')) {
  await build({ ...common, entryPoints: ['electron/test-harness.ts'], outfile: 'dist/e2e/harness.cjs', packages: 'external' });
}
