#!/usr/bin/env node
// `npm start`: build main, preload and renderer, then launch Electron. Where the Electron
// binary is missing (it downloads on first run and this machine may be offline), say so
// in one line and exit non-zero; never try to download it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What the builds and the app inherit from the shell that ran `npm start`: what a desktop program
 * needs (display, session bus, locale, home, the development token store, Electron's own switches),
 * and never the rest — a shell used for rehearsals may hold QPKI_PIN or other secrets, which the
 * app does not read from its environment and a child would pass on.
 */
const LAUNCH_NAMES = new Set([
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'TERM',
  'DISPLAY', 'XAUTHORITY', 'DBUS_SESSION_BUS_ADDRESS',
  'SOFTHSM2_CONF', 'QPKI_SOFTHSM_LIB',
  // Windows and macOS equivalents of the above.
  'SystemRoot', 'SYSTEMROOT', 'windir', 'ComSpec', 'PATHEXT', 'TEMP', 'TMP', 'USERPROFILE', 'APPDATA', 'LOCALAPPDATA', 'HOMEDRIVE', 'HOMEPATH', '__CF_USER_TEXT_ENCODING',
]);
const LAUNCH_PREFIXES = ['LC_', 'XDG_', 'WAYLAND_', 'GTK_', 'GDK_', 'QT_', 'ELECTRON_'];

export function launchEnv(from = process.env, extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(from)) {
    if (v !== undefined && (LAUNCH_NAMES.has(k) || LAUNCH_PREFIXES.some((p) => k.startsWith(p)))) env[k] = v;
  }
  return { ...env, ...extra };
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

function run(args, env = {}) {
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: launchEnv(process.env, env) });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function main() {
  const bin = electronBinary();
  if (!bin) {
    console.error('Electron binary missing (node_modules/electron/dist): on a machine with internet run `npx electron --version` (or `node node_modules/electron/install.js`) once, or set ELECTRON_OVERRIDE_DIST_PATH to an unpacked Electron.');
    process.exit(2);
  }
  run(['scripts/build-electron.mjs']);
  run(['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'], { VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' });
  const r = spawnSync(bin, ['.'], { stdio: 'inherit', env: launchEnv() });
  process.exit(r.status ?? 0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
