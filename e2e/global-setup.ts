import { execFileSync } from 'node:child_process';

/** The tests run against the built renderer, as shipped, and the bundled handler table. */
export default function globalSetup(): void {
  execFileSync(process.execPath, ['scripts/build-electron.mjs', '--harness'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'], {
    stdio: 'inherit',
    env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' },
  });
}
