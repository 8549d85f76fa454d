/**
 * Electronegativity (Doyensec's Electron security scanner) over the app's sources: electron/,
 * renderer/ and shared/. Every finding must be fixed or listed, with its reason, in
 * accepted.json beside this file; a listed finding that no longer occurs must leave the list.
 * The scanner runs in a child process (run.cjs) on a copy of the sources in which
 * renderer/index.html carries the real CSP, as the Vite build writes it, instead of its placeholder.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CSP } from '../../electron/app/window-config';
import { ROOT } from '../cli-build';

interface Issue { id: string; file: string; line: number; column: number; severity: string; confidence: string; manualReview: boolean; description: string }
interface ScanResult { input: string; checks: number; errors: Array<{ file: string; message: string; tolerable: boolean }>; issues: Issue[] }
interface Accepted { id: string; file: string; line: string; why: string }

const ROOTS = ['electron', 'renderer', 'shared'];
const accepted = JSON.parse(readFileSync(join(__dirname, 'accepted.json'), 'utf8')) as { accepted: Accepted[]; excludedChecks: Array<{ id: string; why: string }> };

let work: string;
let sources: ScanResult;
let control: ScanResult;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'qpki-eneg-'));
  const src = join(work, 'src');
  for (const r of ROOTS) cpSync(join(ROOT, r), join(src, r), { recursive: true, filter: (p) => !/[\\/](node_modules|dist)$/.test(p) });
  const index = join(src, 'renderer', 'index.html');
  const html = readFileSync(index, 'utf8');
  assert.ok(html.includes('%QPKI_CSP%'), 'renderer/index.html no longer has the CSP placeholder vite.config.ts fills in');
  writeFileSync(index, html.replace('%QPKI_CSP%', CSP));

  // The positive control: a main process with the mistakes the scanner exists to find.
  const bad = join(work, 'bad');
  mkdirSync(bad);
  writeFileSync(join(bad, 'main.js'), "const { BrowserWindow } = require('electron');\nnew BrowserWindow({ webPreferences: { contextIsolation: false, sandbox: false, webSecurity: false } }).loadURL('app://x/index.html');\n");

  const electronVersion = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'electron', 'package.json'), 'utf8')).version as string;
  const r = spawnSync(process.execPath, [join(__dirname, 'run.cjs'), electronVersion, src, bad], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, LANG: 'en-US' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, `the scanner failed:\n${r.stderr}`);
  [sources, control] = JSON.parse(r.stdout.trim().split('\n').pop()!) as ScanResult[];
});
after(() => rmSync(work, { recursive: true, force: true }));

function sourceLine(issue: Issue): string {
  const lines = readFileSync(join(work, 'src', issue.file), 'utf8').split('\n');
  return (lines[issue.line - 1] ?? '').trim();
}

test('the scanner runs its checks and finds the mistakes it exists to find', () => {
  assert.ok(control.checks >= 30, `only ${control.checks} checks loaded`);
  const ids = new Set(control.issues.map((i) => i.id));
  // The global ones fire because the control lacks what main.ts has: a navigation limit, a
  // permission handler, a CSP. The sources' scan has none of them (not even accepted).
  const expected = ['CONTEXT_ISOLATION_JS_CHECK', 'SANDBOX_JS_CHECK', 'WEB_SECURITY_JS_CHECK', 'LIMIT_NAVIGATION_GLOBAL_CHECK', 'PERMISSION_REQUEST_HANDLER_GLOBAL_CHECK', 'CSP_GLOBAL_CHECK'];
  for (const id of expected) assert.ok(ids.has(id), `${id} not reported on the control: ${[...ids].join(', ')}`);
  const found = new Set(sources.issues.map((i) => i.id));
  for (const id of ['WEB_SECURITY_JS_CHECK', 'LIMIT_NAVIGATION_GLOBAL_CHECK', 'PERMISSION_REQUEST_HANDLER_GLOBAL_CHECK']) assert.ok(!found.has(id), `${id} reported on the sources`);
});

test('every source file parses (a file the scanner cannot parse is a file it did not check)', () => {
  assert.deepEqual(sources.errors, []);
});

test('every finding is fixed or accepted with a reason, and every accepted one still occurs', () => {
  for (const a of accepted.accepted) assert.ok(a.why.length > 40 && a.line.length > 0, `accepted ${a.id} in ${a.file} needs a line and a reason`);
  const used = new Set<Accepted>();
  const unexplained: string[] = [];
  for (const issue of sources.issues) {
    const line = sourceLine(issue);
    const hit = accepted.accepted.find((a) => a.id === issue.id && a.file === issue.file && line.includes(a.line));
    if (hit) used.add(hit);
    else unexplained.push(`${issue.id} ${issue.file}:${issue.line} [${issue.severity}/${issue.confidence}${issue.manualReview ? ', review' : ''}] ${issue.description}\n    ${line}`);
  }
  assert.deepEqual(unexplained, [], 'fix these, or list them with a reason in test/electronegativity/accepted.json');
  const stale = accepted.accepted.filter((a) => !used.has(a)).map((a) => `${a.id} ${a.file}: ${a.line}`);
  assert.deepEqual(stale, [], 'no longer reported: remove from test/electronegativity/accepted.json');
});
