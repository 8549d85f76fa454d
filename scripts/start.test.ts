import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const CANARY = 'CANARY-PIN-start-9d2e';

test('npm start passes the app what a desktop program needs, and no PIN from the shell', async () => {
  const { launchEnv } = (await import(pathToFileURL(join(__dirname, 'start.mjs')).href)) as { launchEnv: (from: NodeJS.ProcessEnv, extra?: Record<string, string>) => Record<string, string> };
  const shell = {
    PATH: '/usr/bin', HOME: '/home/op', DISPLAY: ':0', WAYLAND_DISPLAY: 'wayland-0', XDG_RUNTIME_DIR: '/run/user/1000', DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus',
    LC_ALL: 'C.UTF-8', SOFTHSM2_CONF: '/home/op/softhsm2.conf', ELECTRON_ENABLE_LOGGING: '1',
    QPKI_PIN: CANARY, QPKI_TEST_PIN: CANARY, CA_PASS: CANARY, AWS_SECRET_ACCESS_KEY: CANARY, NODE_OPTIONS: '--require /x.js', LD_PRELOAD: '/x.so',
  };
  const env = launchEnv(shell, { VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' });
  assert.equal(JSON.stringify(env).includes(CANARY), false);
  for (const k of ['PATH', 'HOME', 'DISPLAY', 'WAYLAND_DISPLAY', 'XDG_RUNTIME_DIR', 'DBUS_SESSION_BUS_ADDRESS', 'LC_ALL', 'SOFTHSM2_CONF', 'ELECTRON_ENABLE_LOGGING']) assert.equal(env[k], shell[k as keyof typeof shell], k);
  assert.equal(env.NODE_OPTIONS, undefined);
  assert.equal(env.LD_PRELOAD, undefined);
  assert.equal(env.VITE_CONFIG_NATIVE_IGNORE_WARNING, 'true');
});

test('importing start.mjs launches nothing; without an Electron binary npm start says so in one line', () => {
  const r = spawnSync(process.execPath, [join(__dirname, 'start.mjs')], { cwd: join(__dirname, '..'), env: { PATH: process.env.PATH ?? '', ELECTRON_OVERRIDE_DIST_PATH: join(__dirname, 'no-such-electron') }, encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^Electron binary missing/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
