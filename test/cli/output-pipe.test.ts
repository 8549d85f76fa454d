/**
 * Long output through a pipe arrives whole: writes to a pipe are asynchronous in Node, and the
 * command line used to exit as soon as the command returned, cutting `qpki journal show | less`
 * off after the first 64 KB.
 */
import 'reflect-metadata';
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCliBuilt, qpki } from './helpers';
import { initCa, openCa } from '../../electron/core/ca/authority';
import { generateSoftwareKey } from '../../electron/core/keys/software';
import { loadProfile } from '../../electron/core/profiles/index';
import { readJournal } from '../../electron/core/journal/journal';

before(async () => {
  await ensureCliBuilt();
});

test('qpki journal show of a long journal, read through a pipe, ends with its last entry and hash', async () => {
  const work = mkdtempSync(join(tmpdir(), 'qpki-pipe-'));
  try {
    const dir = join(work, 'ca');
    await initCa({ dir, profile: loadProfile('ec/issuing-ca'), vars: { cn: 'Pipe CA' }, key: { kind: 'software', passphrase: null } });
    const ca = await openCa(dir, {});
    const profile = loadProfile('ec/tls-server');
    const spki = generateSoftwareKey('ec-p256').spki;
    await Promise.all(Array.from({ length: 300 }, (_, i) => ca.issue({ profile, vars: { cn: `h${i}.example.com` }, spki })));
    await ca.close();
    const entries = readJournal(dir);

    const r = qpki(['journal', 'show', '--ca-dir', dir], { env: process.env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.length > 256 * 1024, `the output (${r.stdout.length} bytes) is larger than a pipe's buffer`);
    const shown = r.stdout.split('\n').filter((l) => /^#\d+ /.test(l)).length;
    assert.equal(shown, entries.length, 'every entry is shown');
    const last = entries[entries.length - 1].hash.replace(/(.{4})(?!$)/g, '$1 ');
    assert.ok(r.stdout.trimEnd().endsWith(`Last hash: ${last}`), r.stdout.slice(-300));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
