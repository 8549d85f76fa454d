import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal, journalPath } from './journal';

// The auditor's stand-alone checker (Python, no qpki code) must agree with the app's hashes.
const SCRIPT = join(__dirname, 'verify_journal.py');

function py(...args: string[]) {
  const r = spawnSync('python3', [SCRIPT, ...args], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout.trim() };
}

test('the stand-alone Python checker verifies what the app wrote and finds tampering', (t) => {
  if (spawnSync('python3', ['--version']).status !== 0) {
    console.log('SKIP: python3 is not installed, so the stand-alone checker cannot run here');
    t.skip('python3 missing');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'qpki-pyverify-'));
  try {
    const j = Journal.open(dir, { operator: 'Zoë Opérateur', witnesses: ['Bob', '王芳'] });
    j.append('ceremony.opened', { appSha256: 'ab'.repeat(32), note: 'quotes " and \\ and \n newline, \u0001, é, 𝄞' });
    j.append('certificate.signed', { serial: 123n, subject: 'CN=Root', nested: { b: [1, 2, { y: true, x: null }], a: -7 } });
    j.append('ceremony.closed', {});
    const file = journalPath(dir);
    assert.deepEqual(py(file), { status: 0, out: `OK 3 entries, last hash ${j.lastHash()}` });
    assert.equal(py(file, j.lastHash().toUpperCase().replace(/(.{4})/g, '$1 ')).status, 0);

    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('CN=Root', 'CN=Evil'));
    assert.deepEqual(py(file), { status: 1, out: 'BROKEN at entry 2 (line 2): content does not match its hash' });
    writeFileSync(file, text.slice(0, -30));
    assert.deepEqual(py(file), { status: 1, out: 'BROKEN at entry 3 (line 3): truncated last entry' });
    const lines = text.split('\n');
    writeFileSync(file, lines.slice(0, 2).join('\n') + '\n');
    assert.match(py(file, j.lastHash()).out, /BROKEN at entry 3 .*not in the journal/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
