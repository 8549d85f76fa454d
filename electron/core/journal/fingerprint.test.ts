import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

test('appFingerprint prefers dist/ when it exists, and takes an explicit list', () => {
  const root = tree();
  try {
    const sources = appFingerprint(root);
    mkdirSync(join(root, 'dist/electron'), { recursive: true });
    writeFileSync(join(root, 'dist/electron/main.cjs'), 'bundle');
    const dist = appFingerprint(root);
    assert.equal(dist.files, 1);
    assert.notEqual(dist.sha256, sources.sha256);
    assert.deepEqual(appFingerprint(root, ['electron', 'shared', 'package.json']), sources);
    assert.throws(() => appFingerprint(root, ['nope']), (e: unknown) => e instanceof QpkiError && e.code === 'IO_ERROR');
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
