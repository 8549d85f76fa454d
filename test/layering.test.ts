/**
 * The layering check `npm test` runs (eslint.config.mjs) refuses what DESIGN.md forbids: a
 * deliberate violation written into the tree makes ESLint fail, naming the rule; the tree as it
 * is passes: npm test runs `npm run lint` (eslint .) before the suites.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = process.cwd();
const ESLINT = join(ROOT, 'node_modules', '.bin', 'eslint');

function lintProbe(path: string, code: string): { code: number | null; out: string } {
  const file = join(ROOT, path);
  writeFileSync(file, code);
  try {
    const r = spawnSync(ESLINT, ['--no-warn-ignored', file], { cwd: ROOT, encoding: 'utf8' });
    return { code: r.status, out: r.stdout + r.stderr };
  } finally {
    rmSync(file, { force: true });
  }
}

test('core importing electron, the app glue or a test helper; the renderer importing core: each refused by the layering rule', () => {
  const cases: [string, string, RegExp][] = [
    ['electron/core/layering-probe-a.ts', "import { app } from 'electron';\nexport const a = app;\n", /the engine is plain Node, without Electron/],
    ['electron/core/layering-probe-b.ts', "import { createHandlers } from '../handlers';\nexport const b = createHandlers;\n", /the engine imports only itself and shared/],
    ['electron/core/layering-probe-c.ts', "import { makeSoftHsmStore } from '../../test/softhsm';\nexport const c = makeSoftHsmStore;\n", /test code is for the tests/],
    ['renderer/layering-probe-d.ts', "import { openCa } from '../electron/core/ca/authority';\nexport const d = openCa;\n", /the renderer imports only shared\/ and itself/],
  ];
  for (const [path, code, why] of cases) {
    const r = lintProbe(path, code);
    assert.equal(r.code, 1, `${path}: ESLint must fail\n${r.out}`);
    assert.match(r.out, /qpki\/layering/);
    assert.match(r.out, why);
  }
});

test('a floating promise in main is refused; the same call awaited passes', () => {
  const bad = lintProbe('electron/layering-probe-e.ts', 'async function f(): Promise<void> {}\nexport function g(): void {\n  f();\n}\n');
  assert.equal(bad.code, 1, bad.out);
  assert.match(bad.out, /no-floating-promises/);
  const good = lintProbe('electron/layering-probe-f.ts', 'async function f(): Promise<void> {}\nexport async function g(): Promise<void> {\n  await f();\n}\n');
  assert.equal(good.code, 0, good.out);
});

