import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { appFingerprint, fileSha256 } from './fingerprint';
import { QpkiError } from '../errors';

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'qpki-fp-'));
  mkdirSync(join(root, 'electron/core'), { recursive: true });
  mkdirSync(join(root, 'shared'), { recursive: true });
  writeFileSync(join(root, 'electron/main.ts'), 'main');
  writeFileSync(join(root, 'electron/core/a.ts'), 'a');
  writeFileSync(join(root, 'electron/core/B.ts'), 'B');
  writeFileSync(join(root, 'shared/contract.ts'), 'contract');
  writeFileSync(join(root, 'package.json'), '{}');
  writeFileSync(join(root, 'unrelated.txt'), 'not part of the app');
  return root;
}

test('fileSha256 matches sha256sum', () => {
  const root = tree();
  try {
    const p = join(root, 'electron/main.ts');
    assert.equal(fileSha256(p), execFileSync('sha256sum', [p], { encoding: 'utf8' }).split(' ')[0]);
    assert.throws(() => fileSha256(join(root, 'missing.so')), (e: unknown) => e instanceof QpkiError && e.code === 'IO_ERROR');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('appFingerprint can be recomputed with find | sort | sha256sum', () => {
  const root = tree();
  try {
    const fp = appFingerprint(root);
    assert.equal(fp.files, 5);
    const shell = execFileSync('sh', ['-c', 'find electron shared package.json -type f | LC_ALL=C sort | xargs sha256sum | sha256sum'], { cwd: root, encoding: 'utf8' });
    assert.equal(fp.sha256, shell.split(' ')[0]);

    // Any change to an app file changes it; files outside the app do not.
    writeFileSync(join(root, 'unrelated.txt'), 'changed');
    assert.equal(appFingerprint(root).sha256, fp.sha256);
    writeFileSync(join(root, 'electron/core/a.ts'), 'a!');
    assert.notEqual(appFingerprint(root).sha256, fp.sha256);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('appFingerprint prefers the built app when dist/ exists, and takes an explicit list', () => {
  const root = tree();
  try {
    const sources = appFingerprint(root);
    mkdirSync(join(root, 'dist/electron'), { recursive: true });
    writeFileSync(join(root, 'dist/electron/main.cjs'), 'bundle');
    const dist = appFingerprint(root);
    assert.equal(dist.files, 2, 'dist/electron/main.cjs and package.json');
    assert.notEqual(dist.sha256, sources.sha256);
    assert.deepEqual(appFingerprint(root, ['electron', 'shared', 'package.json']), sources);
    assert.throws(() => appFingerprint(root, ['nope']), (e: unknown) => e instanceof QpkiError && e.code === 'IO_ERROR');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

/** An installed app: bundles, launcher, profiles, and node_modules with pkcs11js among others. */
function installed(): string {
  const root = mkdtempSync(join(tmpdir(), 'qpki-fp-app-'));
  const files: Record<string, string> = {
    'package.json': '{}',
    'dist/cli.cjs': 'cli bundle',
    'dist/electron/main.cjs': 'main bundle',
    'dist/renderer/index.html': '<html>',
    'bin/qpki.cjs': 'launcher',
    'resources/profiles/ec/root-ca.yaml': 'profile',
    'node_modules/pkcs11js/package.json': '{"name":"pkcs11js"}',
    'node_modules/pkcs11js/index.js': 'require("./build/Release/pkcs11.node")',
    'node_modules/pkcs11js/build/Release/pkcs11.node': '\x7fELF native',
    'node_modules/pkcs11js/src/pkcs11.cpp': 'source, not run',
    'node_modules/pkcs11js/build/Release/obj.target/pkcs11.o': 'object file, not run',
    'node_modules/yaml/index.js': 'bundled into dist, not loaded from here',
  };
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

test('the fingerprint of an installed app covers the bundles, bin/, the profiles and the native module, nothing else', () => {
  const root = installed();
  try {
    const fp = appFingerprint(root);
    assert.equal(fp.files, 9);
    const shell = execFileSync('sh', ['-c', 'find -L dist bin resources package.json node_modules/pkcs11js/package.json node_modules/pkcs11js/index.js node_modules/pkcs11js/build/Release/pkcs11.node -type f | LC_ALL=C sort | xargs sha256sum | sha256sum'], { cwd: root, encoding: 'utf8' });
    assert.equal(fp.sha256, shell.split(' ')[0], 'the recomputation documented in fingerprint.ts');
    for (const p of ['node_modules/pkcs11js/src/pkcs11.cpp', 'node_modules/pkcs11js/build/Release/obj.target/pkcs11.o', 'node_modules/yaml/index.js']) {
      writeFileSync(join(root, p), 'changed');
      assert.equal(appFingerprint(root).sha256, fp.sha256, `${p} does not run`);
    }
    let last = fp.sha256;
    for (const p of ['dist/cli.cjs', 'dist/electron/main.cjs', 'bin/qpki.cjs', 'node_modules/pkcs11js/build/Release/pkcs11.node', 'node_modules/pkcs11js/index.js', 'resources/profiles/ec/root-ca.yaml']) {
      appendFileSync(join(root, p), '!');
      const now = appFingerprint(root).sha256;
      assert.notEqual(now, last, `a change to ${p} must change the fingerprint`);
      last = now;
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('fingerprints this project (figure for the report)', () => {
  const root = join(__dirname, '../../..');
  if (!existsSync(join(root, 'package.json'))) return;
  const t0 = performance.now();
  const fp = appFingerprint(root);
  const ms = performance.now() - t0;
  assert.match(fp.sha256, /^[0-9a-f]{64}$/);
  assert.ok(fp.files > 0);
  console.log(`app fingerprint: ${fp.files} files in ${ms.toFixed(0)} ms`);
});
