/**
 * What the release build (electron-builder.yml, the Electron version in package.json and the
 * lock file) promises, checked without building: a release cannot be made here (no Electron
 * binary), so a slip in these files would otherwise show only on the release machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './cli-build';

const builder = parse(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as Record<string, unknown>;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));

test('fuses: no Node mode, no NODE_OPTIONS or inspector, app only from the checked asar, file:// without extra privileges', () => {
  assert.deepEqual(builder.electronFuses, {
    runAsNode: false,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    onlyLoadAppFromAsar: true,
    enableCookieEncryption: true,
    enableEmbeddedAsarIntegrityValidation: true,
    grantFileProtocolExtraPrivileges: false,
    loadBrowserProcessSpecificV8Snapshot: false,
  });
  assert.equal(builder.asar, true);
});

test('pkcs11js is Node-API, so the build does not rebuild it, and its .node is unpacked from the asar', () => {
  assert.equal(builder.npmRebuild, false);
  const release = join(ROOT, 'node_modules', 'pkcs11js', 'build', 'Release');
  const addons = readdirSync(release).filter((f) => f.endsWith('.node'));
  assert.deepEqual(addons, ['pkcs11.node']);
  // A Node-API addon registers through napi_register_module_v1; a NAN/V8 one would need a rebuild for Electron's ABI.
  assert.ok(readFileSync(join(release, addons[0])).includes('napi_register_module_v1'), 'pkcs11.node is not a Node-API addon');
  assert.deepEqual(builder.asarUnpack, ['node_modules/pkcs11js/build/Release/*.node']);
});

test('the Electron of package.json is the one the lock file installs, a current major', () => {
  const range = pkg.devDependencies.electron as string;
  const locked = lock.packages['node_modules/electron'].version as string;
  const installed = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'electron', 'package.json'), 'utf8')).version as string;
  assert.match(range, /^\^\d+\.\d+\.\d+$/);
  assert.equal(locked, installed);
  assert.equal(range.slice(1).split('.')[0], locked.split('.')[0]);
  // Electron supports its three latest majors; 45 was the latest when this was written (2026-12).
  // Raising the floor here is the reminder to move on, not a claim about what is current today.
  assert.ok(Number(locked.split('.')[0]) >= 45, `electron ${locked} is older than the supported majors of 2026-12`);
  // Electron 45 downloads its binary when first run, not at install: npm ci works offline.
  assert.equal(lock.packages['node_modules/electron'].hasInstallScript, undefined);
  assert.equal(pkg.allowScripts.electron, false);
});
