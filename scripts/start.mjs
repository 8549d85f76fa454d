#!/usr/bin/env node
// `npm start`: build main, preload and renderer, then launch Electron. Where the Electron
// binary is missing (it downloads on first install and this machine may be offline), say so
// in one line and exit non-zero; never try to download it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

function run(args, env = {}) {
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

export function electronBinary() {
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const exe = process.platform === 'win32' ? 'electron.exe' : process.platform === 'darwin' ? 'Electron.app/Contents/MacOS/Electron' : 'electron';
    const p = join(process.env.ELECTRON_OVERRIDE_DIST_PATH, exe);
    return existsSync(p) ? p : null;
  }
  const pathFile = join('node_modules', 'electron', 'path.txt');
  if (!existsSync(pathFile)) return null;
  const p = join('node_modules', 'electron', 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(p) ? p : null;
}

const bin = electronBinary();
if (!bin) {
  console.error('Electron binary missing (node_modules/electron/dist): on a machine with internet run `npx electron --version` (or `node node_modules/electron/install.js`) once, or set ELECTRON_OVERRIDE_DIST_PATH to an unpacked Electron.');
  process.exit(2);
}
run(['scripts/build-electron.mjs']);
run(['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'], { VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' });
const r = spawnSync(bin, ['.'], { stdio: 'inherit' });
process.exit(r.status ?? 0);
