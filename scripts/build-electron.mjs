#!/usr/bin/env node
// Bundles the main process and the preload with esbuild into dist/electron/*.cjs.
// The preload runs sandboxed, so it is bundled whole (only `electron` stays external).
// Main is bundled with its dependencies too, as the command line is: then what main runs is in
// dist/ (the app fingerprint covers it, electron/core/journal/fingerprint.ts), and only pkcs11js,
// a native module, is loaded from node_modules.
// `--harness` also bundles the handler-table harness the Playwright bridge drives.
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: false, logLevel: 'warning', tsconfig: 'tsconfig.json' };

await build({ ...common, entryPoints: ['electron/app/main.ts'], outfile: 'dist/electron/main.cjs', external: ['electron', 'pkcs11js'] });
await build({ ...common, entryPoints: ['electron/app/preload.ts'], outfile: 'dist/electron/preload.cjs', external: ['electron'] });
if (process.argv.includes('--harness')) {
  await build({ ...common, entryPoints: ['test/harness/test-harness.ts'], outfile: 'dist/e2e/harness.cjs', packages: 'external' });
}
