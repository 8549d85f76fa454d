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

/** Lints probe files written into the tree, all in one ESLint run (a typed lint starts slowly). */
function lintProbes(probes: Array<[string, string]>): { code: number | null; out: string } {
  for (const [path, code] of probes) writeFileSync(join(ROOT, path), code);
  try {
    const r = spawnSync(ESLINT, ['--no-warn-ignored', ...probes.map(([p]) => join(ROOT, p))], { cwd: ROOT, encoding: 'utf8' });
    return { code: r.status, out: r.stdout + r.stderr };
  } finally {
    for (const [path] of probes) rmSync(join(ROOT, path), { force: true });
  }
}

function lintProbe(path: string, code: string): { code: number | null; out: string } {
  return lintProbes([[path, code]]);
}

/** ESLint's stylish output for one file: its block, from its path to the next blank line. */
function blockOf(out: string, path: string): string {
  const at = out.indexOf(join(ROOT, path) + '\n');
  if (at < 0) return '';
  const end = out.indexOf('\n\n', at);
  return out.slice(at, end < 0 ? undefined : end);
}

test('each layer importing what DESIGN.md forbids (Electron outside the app glue, the app glue from core, the ceremony layer or the command line, test code from product code, core from the renderer or the contract) is refused by the layering rule', () => {
  const cases: [string, string, RegExp][] = [
    ['electron/core/layering-probe-a.ts', "import { app } from 'electron';\nexport const a = app;\n", /the engine is plain Node, without Electron/],
    ['electron/core/layering-probe-b.ts', "import { createHandlers } from '../app/handlers';\nexport const b = createHandlers;\n", /the engine imports only itself and shared/],
    ['electron/core/layering-probe-g.ts', "import { PlanSession } from '../ceremony/plan-session';\nexport const g = PlanSession;\n", /the engine imports only itself and shared/],
    ['electron/ceremony/layering-probe-h.ts', "import { createHandlers } from '../app/handlers';\nexport const h = createHandlers;\n", /the ceremony layer imports only core\/, shared\/ and itself/],
    ['electron/ceremony/layering-probe-i.ts', "import { dialog } from 'electron';\nexport const i = dialog;\n", /the ceremony layer is plain Node, without Electron/],
    ['electron/cli/layering-probe-j.ts', "import { createHandlers } from '../app/handlers';\nexport const j = createHandlers;\n", /the command line does not import the app glue/],
    ['electron/cli/layering-probe-k.ts', "import { app } from 'electron';\nexport const k = app;\n", /the command line runs without Electron/],
    ['shared/layering-probe-l.ts', "import { openCa } from '../electron/core/ca/authority';\nexport const l = openCa;\n", /shared\/ imports only itself and the pure profile rules/],
    ['scripts/layering-probe-m.ts', "import { app } from 'electron';\nexport const m = app;\n", /only the app glue \(electron\/app\/\) imports Electron/],
    ['electron/app/layering-probe-n.ts', "import { makeHarness } from '../../test/harness/test-harness';\nexport const n = makeHarness;\n", /test code is for the tests/],
    ['electron/core/layering-probe-c.ts', "import { makeSoftHsmStore } from '../../test/softhsm';\nexport const c = makeSoftHsmStore;\n", /test code is for the tests/],
    ['renderer/layering-probe-d.ts', "import { openCa } from '../electron/core/ca/authority';\nexport const d = openCa;\n", /the renderer imports only shared\/ and itself/],
  ];
  const r = lintProbes(cases.map(([path, code]) => [path, code]));
  assert.equal(r.code, 1, `ESLint must fail\n${r.out}`);
  for (const [path, , why] of cases) {
    const block = blockOf(r.out, path);
    assert.match(block, /qpki\/layering/, `${path} must be refused\n${r.out}`);
    assert.match(block, why, path);
  }
});

test('the app glue may import Electron and the ceremony layer: the same kind of import that is refused elsewhere passes there', () => {
  const r = lintProbe('electron/app/layering-probe-o.ts', "import { app } from 'electron';\nimport { PlanSession } from '../ceremony/plan-session';\nexport const o = [app, PlanSession];\n");
  assert.equal(r.code, 0, r.out);
});

test('a floating promise in main is refused; the same call awaited passes', () => {
  const bad = lintProbe('electron/app/layering-probe-e.ts', 'async function f(): Promise<void> {}\nexport function g(): void {\n  f();\n}\n');
  assert.equal(bad.code, 1, bad.out);
  assert.match(bad.out, /no-floating-promises/);
  const good = lintProbe('electron/app/layering-probe-f.ts', 'async function f(): Promise<void> {}\nexport async function g(): Promise<void> {\n  await f();\n}\n');
  assert.equal(good.code, 0, good.out);
});


test('a product function over 80 lines is refused unless it says why it is long; a test file may have one; an excuse for a short function is refused as stale', () => {
  const body = Array.from({ length: 95 }, (_, i) => `  n += ${i};`).join('\n');
  const fn = (name: string) => `export function ${name}(): number {\n  let n = 0;\n${body}\n  return n;\n}\n`;
  const r = lintProbes([
    ['electron/core/length-probe-a.ts', fn('a')],
    ['electron/core/length-probe-b.ts', `// eslint-disable-next-line max-lines-per-function -- a probe: one line per case\n${fn('b')}`],
    ['electron/core/length-probe-c.test.ts', fn('c')],
    ['electron/core/length-probe-d.ts', '// eslint-disable-next-line max-lines-per-function -- a probe: long once, short now\nexport function d(): number {\n  return 1;\n}\n'],
  ]);
  assert.match(blockOf(r.out, 'electron/core/length-probe-a.ts'), /Function 'a' has too many lines \(99\)\. Maximum allowed is 80\s+max-lines-per-function/, r.out);
  assert.equal(blockOf(r.out, 'electron/core/length-probe-b.ts'), '', r.out);
  assert.equal(blockOf(r.out, 'electron/core/length-probe-c.test.ts'), '', r.out);
  assert.match(blockOf(r.out, 'electron/core/length-probe-d.ts'), /Unused eslint-disable directive \(no problems were reported from 'max-lines-per-function'\)/, r.out);
});
