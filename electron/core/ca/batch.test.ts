import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCa, openCa } from './authority';
import { checkCaDir } from './check';
import { readIndex } from './indexFile';
import { generateSoftwareKey } from '../keys/software';
import { loadProfile } from '../profiles/index';
import { readJournal, verifyJournal } from '../journal/journal';
import { describeDocument } from '../x509/describe';

async function softwareCa() {
  const dir = join(mkdtempSync(join(tmpdir(), 'qpki-batch-')), 'ca');
  await initCa({ dir, profile: loadProfile('ec/issuing-ca'), vars: { cn: 'Batch CA' }, key: { kind: 'software', passphrase: null } });
  return { dir, ca: await openCa(dir, {}) };
}

test('callers issuing at the same time share batches: every one gets its own certificate, and the CA stays consistent', async () => {
  const { dir, ca } = await softwareCa();
  try {
    const profile = loadProfile('ec/tls-server');
    const spki = generateSoftwareKey('ec-p256').spki;
    const n = 40;
    const issued = await Promise.all(Array.from({ length: n }, (_, i) => ca.issue({ profile, vars: { cn: `h${i}.example.com` }, spki })));
    await ca.close();

    assert.equal(new Set(issued.map((c) => c.serial)).size, n, 'serials are distinct');
    issued.forEach((c, i) => {
      const d = describeDocument(readFileSync(c.path, 'utf8'));
      assert.equal(d.serial, c.serial);
      assert.match(c.subject, new RegExp(`CN=h${i}\\.example\\.com`), 'each caller gets the certificate for its own request');
    });
    const index = readIndex(dir);
    assert.deepEqual(index.map((e) => e.serial).slice(-n).sort(), issued.map((c) => c.serial).sort());
    assert.equal(readFileSync(join(dir, 'serial'), 'utf8').trim(), index[index.length - 1].serial, 'the serial file names the last index entry');

    // The journal holds, per certificate, issuance.started before certificate.signed, and the chain verifies.
    assert.equal(verifyJournal(dir).ok, true);
    const entries = readJournal(dir);
    for (const c of issued) {
      const started = entries.findIndex((e) => e.kind === 'issuance.started' && e.facts.serial === c.serial);
      const signed = entries.findIndex((e) => e.kind === 'certificate.signed' && e.facts.serial === c.serial);
      assert.ok(started >= 0 && signed > started, `journal order for ${c.serial}`);
      assert.equal(entries[signed].facts.certificateSha256Fingerprint, c.fingerprint);
    }
    const check = checkCaDir(dir);
    assert.deepEqual(check.problems, []);
    assert.equal(check.ok, true);
    assert.deepEqual(check.inFlight, []);
    assert.equal(readdirSync(join(dir, 'certs')).filter((f) => f.endsWith('.tmp')).length, 0, 'no temporary files left');
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});

test('a bad request among concurrent ones fails alone; the others are issued', async () => {
  const { dir, ca } = await softwareCa();
  try {
    const profile = loadProfile('ec/tls-server');
    const spki = generateSoftwareKey('ec-p256').spki;
    const results = await Promise.allSettled([
      ca.issue({ profile, vars: { cn: 'a.example.com' }, spki }),
      ca.issue({ profile, vars: { cn: 'not a host name' }, spki }),
      ca.issue({ profile, vars: { cn: 'c.example.com' }, spki: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]) }),
      ca.issue({ profile, vars: { cn: 'd.example.com' }, spki }),
    ]);
    await ca.close();
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    assert.equal((results[1] as PromiseRejectedResult).reason.code, 'VARIABLE_INVALID');
    assert.equal(readIndex(dir).length, 2);
    assert.equal(checkCaDir(dir).ok, true);
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});
