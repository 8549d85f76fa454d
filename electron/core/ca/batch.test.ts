import 'reflect-metadata';
import { execFileSync, spawn } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCa, openCa } from './authority';
import { checkCaDir, repairCaDir } from './check';
import { appendIndexEntries, readIndex } from './indexFile';
import { generateSoftwareKey } from '../keys/software';
import { loadProfile } from '../profiles/index';
import { formatJournal, Journal, readJournal, verifyJournal } from '../journal/journal';
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
    // The serial file holds the NEXT serial (QPKI's reading): above every serial issued, lower case.
    const next = readFileSync(join(dir, 'serial'), 'utf8').trim();
    assert.match(next, /^([0-9a-f]{2})+$/);
    assert.ok(index.every((e) => BigInt('0x' + next) > BigInt('0x' + e.serial)), 'the serial file is above every issued serial');
    assert.ok(index.every((e) => /^[0-9a-f]+$/.test(e.serial) && existsSync(join(dir, 'certs', `${e.serial}.crt`))), 'index and file names in lower case');

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

test('a signature that does not verify fails its own request only, in a batch (verified on the thread pool) as alone', async () => {
  const { dir, ca } = await softwareCa();
  try {
    const profile = loadProfile('ec/tls-server');
    const spki = generateSoftwareKey('ec-p256').spki;
    // A signer that signs other bytes for one call: what a faulty token could return.
    const real = ca.signer;
    let calls = 0;
    let spoil = 2;
    (ca as { signer: typeof real }).signer = { ...real, sign: (alg, data) => real.sign(alg, ++calls === spoil ? Uint8Array.from([...data, 1]) : data) };
    const batch = await Promise.allSettled(['a', 'b', 'c'].map((h) => ca.issue({ profile, vars: { cn: `${h}.example.com` }, spki })));
    assert.deepEqual(batch.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    const refusal = (batch[1] as PromiseRejectedResult).reason as { code: string; message: string };
    assert.equal(refusal.code, 'SIGNATURE_INVALID');
    assert.match(refusal.message, /signature does not verify against the issuer's public key/);
    spoil = calls + 1;
    await assert.rejects(ca.issue({ profile, vars: { cn: 'alone.example.com' }, spki }), (e: { code?: string }) => e.code === 'SIGNATURE_INVALID');
    const after = await ca.issue({ profile, vars: { cn: 'after.example.com' }, spki });
    await ca.close();
    const issued = [batch[0], batch[2]].map((r) => (r as PromiseFulfilledResult<{ serial: string }>).value.serial);
    assert.deepEqual(readIndex(dir).map((e) => e.serial), [...issued, after.serial]);
    const failed = readJournal(dir).filter((e) => e.kind === 'signing.failed');
    assert.equal(failed.length, 2, 'each refused signature is journaled');
    assert.ok(failed.every((e) => e.facts.code === 'SIGNATURE_INVALID'));
    assert.equal(readdirSync(join(dir, 'certs')).length, 3, 'no file for a refused signature');
    assert.equal(checkCaDir(dir).ok, true, checkCaDir(dir).problems.join('\n'));
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});

test('a certificate file a power cut left empty, or lost, is restored by --repair from the signed copy in the journal', async () => {
  const { dir, ca } = await softwareCa();
  try {
    const profile = loadProfile('ec/tls-server');
    const spki = generateSoftwareKey('ec-p256').spki;
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((h) => ca.issue({ profile, vars: { cn: `${h}.example.com` }, spki })));
    await ca.close();
    const original = readFileSync(a.path, 'utf8');
    writeFileSync(a.path, ''); // what delayed allocation leaves after a power cut
    rmSync(b.path); // lost outright
    writeFileSync(c.path, original); // the wrong certificate under c's name

    const before = checkCaDir(dir);
    assert.equal(before.ok, false);
    assert.deepEqual([...before.restorable].sort(), [a.serial, b.serial, c.serial].sort());
    assert.ok(before.problems.every((p) => /journal holds the signed certificate/.test(p)), before.problems.join('\n'));

    const rep = repairCaDir(dir);
    assert.deepEqual([...rep.restoredCertificates].sort(), [a.serial, b.serial, c.serial].sort());
    assert.equal(rep.after.ok, true, rep.after.problems.join('\n'));
    assert.equal(readFileSync(a.path, 'utf8'), original);
    assert.equal(readFileSync(b.path, 'utf8'), b.pem);
    assert.equal(readFileSync(c.path, 'utf8'), c.pem);
    const kept = readdirSync(join(dir, 'certs')).filter((f) => f.includes('.damaged-'));
    assert.equal(kept.length, 2, 'the empty and the wrong file are kept aside, not deleted');
    assert.equal(verifyJournal(dir).ok, true);
    const restored = readJournal(dir).filter((e) => e.kind === 'error' && e.facts.event === 'certificate.restored');
    assert.equal(restored.length, 3);
    // The copy is summarized, not dumped, when the journal is shown.
    assert.match(formatJournal(readJournal(dir)), /bytes of DER \(kept so that qpki ca check --repair can restore the file\)/);
    assert.doesNotMatch(formatJournal(readJournal(dir)), new RegExp(Buffer.from(a.der).toString('base64').slice(0, 40).replace(/[+/]/g, '\\$&')));
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});

test('an interrupted issuance whose certificate file a power cut left empty is recorded by --repair, not a crash of the repair', async () => {
  const { dir, ca } = await softwareCa();
  try {
    await ca.issue({ profile: loadProfile('ec/tls-server'), vars: { cn: 'a.example.com' }, spki: generateSoftwareKey('ec-p256').spki });
    await ca.close();
    // What a power cut between writing the certificate file and the index leaves.
    const serial = '7f00000000000000000000000000ab01';
    const j = Journal.open(dir, { operator: 'test', witnesses: [] });
    j.append('issuance.started', { serial, profile: 'ec/tls-server', subject: 'CN=b.example.com', source: 'test' });
    writeFileSync(join(dir, 'certs', `${serial}.crt`), '');
    const c = checkCaDir(dir);
    assert.deepEqual(c.inFlight, [serial]);
    assert.equal(c.interrupted[0].state, 'signed-not-indexed');
    const rep = repairCaDir(dir);
    assert.deepEqual(rep.recordedInterruptions, [serial]);
    assert.equal(rep.after.ok, true, rep.after.problems.join('\n'));
    const recorded = readJournal(dir).find((e) => e.kind === 'error' && e.facts.event === 'issuance.interrupted');
    assert.equal(recorded?.facts.certificateFile, 'unreadable (empty or cut short)');
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});

test('while another process holds the CA directory, issuance fails with CA_LOCKED instead of waiting forever', { timeout: 30_000 }, async () => {
  const { dir, ca } = await softwareCa();
  const fsx = join(__dirname, 'fsx.ts');
  const holder = spawn(process.execPath, ['--import', 'tsx', '-e', `require(${JSON.stringify(fsx)}).lockCaDir(${JSON.stringify(dir)}); console.log('held'); setTimeout(() => {}, 20000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise((resolve) => holder.stdout!.once('data', resolve));
    const profile = loadProfile('ec/tls-server');
    const spki = generateSoftwareKey('ec-p256').spki;
    const results = await Promise.allSettled([1, 2, 3].map((k) => ca.issue({ profile, vars: { cn: `h${k}.example.com` }, spki })));
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.equal((r as PromiseRejectedResult).reason.code, 'CA_LOCKED');
    }
  } finally {
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('close', resolve));
  }
  try {
    // Once the holder is gone, the same CA object issues again.
    const c = await ca.issue({ profile: loadProfile('ec/tls-server'), vars: { cn: 'after.example.com' }, spki: generateSoftwareKey('ec-p256').spki });
    assert.match(c.subject, /after\.example\.com/);
    await ca.close();
    assert.equal(checkCaDir(dir).ok, true);
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});

test('certificates the journal recorded as signed but whose index lines a power cut lost are listed again by --repair', async () => {
  const { dir, ca } = await softwareCa();
  try {
    const profile = loadProfile('ec/tls-server');
    const spki = generateSoftwareKey('ec-p256').spki;
    const first = await ca.issue({ profile, vars: { cn: 'first.example.com' }, spki });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((h) => ca.issue({ profile, vars: { cn: `${h}.example.com`, dns_names: `${h}.example.com` }, spki })));
    await ca.close();
    const indexText = readFileSync(join(dir, 'index.txt'), 'utf8');
    const serialText = readFileSync(join(dir, 'serial'), 'utf8');
    // What a power cut during the batch's flush can leave: the journal reached the disk, the
    // index lines of the batch did not; one certificate file is gone and one is empty.
    writeFileSync(join(dir, 'index.txt'), indexText.split('\n').filter((l) => l && ![a.serial, b.serial, c.serial].some((s) => l.includes(`\t${s}\t`))).map((l) => l + '\n').join(''));
    rmSync(b.path);
    writeFileSync(c.path, '');
    assert.deepEqual(readIndex(dir).map((e) => e.serial), [first.serial]);

    const before = checkCaDir(dir);
    assert.equal(before.ok, false);
    assert.deepEqual(before.unindexed, [a.serial, b.serial, c.serial]);
    assert.equal(before.repairable, true);
    assert.equal(before.problems.length, 3, before.problems.join('\n'));
    assert.ok(before.problems.every((p) => /index\.txt does not list it .*--repair` lists it in index\.txt/.test(p)), before.problems.join('\n'));

    const rep = repairCaDir(dir, { operator: 'test', witnesses: [] });
    assert.deepEqual(rep.indexedCertificates, [a.serial, b.serial, c.serial]);
    assert.equal(rep.after.ok, true, rep.after.problems.join('\n'));
    // The index is as it was before the power cut, line for line, and the files hold the signed bytes.
    assert.equal(readFileSync(join(dir, 'index.txt'), 'utf8'), indexText);
    // Raised before signing, the serial file was already above them: the repair leaves it.
    assert.equal(readFileSync(join(dir, 'serial'), 'utf8'), serialText);
    for (const x of [a, b, c]) assert.equal(readFileSync(x.path, 'utf8'), x.pem);
    assert.equal(readdirSync(join(dir, 'certs')).filter((f) => f.includes('.damaged-')).length, 1, 'the empty file is kept aside');
    const recorded = readJournal(dir).filter((e) => e.kind === 'error' && e.facts.event === 'certificate.indexed');
    assert.deepEqual(recorded.map((e) => [e.facts.serial, e.facts.certificateFile]), [[a.serial, 'kept'], [b.serial, 'written from the journal'], [c.serial, 'written from the journal']]);
    assert.equal(verifyJournal(dir).ok, true);
    // A second repair has nothing to do.
    assert.equal(checkCaDir(dir).repairable, false);
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});

test('a listed certificate lost everywhere (empty file, no signed copy in the journal) is revoked by --repair and named on the next CRL', async () => {
  const { dir, ca } = await softwareCa();
  try {
    const kept = await ca.issue({ profile: loadProfile('ec/tls-server'), vars: { cn: 'kept.example.com' }, spki: generateSoftwareKey('ec-p256').spki });
    await ca.close();
    // What a power cut can leave when the index reached the disk and the rest did not: the
    // journal's issuance.started, the index line and serial file, an empty certificate file.
    // Upper case, as an earlier version of ours wrote: read either way. Above any random serial
    // (at most 7fff…), so the serial file stays above every serial used, as the check wants.
    const serial = '7FFFFFFFFFFFFFFFFFFFFFFFFFFFCD02';
    const lower = serial.toLowerCase();
    Journal.open(dir, { operator: 'test', witnesses: [] }).append('issuance.started', { serial, profile: 'ec/tls-server', subject: 'CN=lost.example.com', source: 'test' });
    appendIndexEntries(dir, [{ status: 'V', expires: new Date(Date.now() + 86_400_000), serial, file: 'unknown', subject: '/CN=lost.example.com' }]);
    writeFileSync(join(dir, 'serial'), '7fffffffffffffffffffffffffffcd03\n');
    writeFileSync(join(dir, 'certs', `${serial}.crt`), '');

    const before = checkCaDir(dir);
    assert.deepEqual(before.lost, [lower]);
    assert.equal(before.repairable, true);
    assert.equal(before.problems.length, 1, before.problems.join('\n'));
    assert.match(before.problems[0], /no signed copy.*--repair` revokes serial 7f+cd02 \(cessationOfOperation\)/);

    const rep = repairCaDir(dir, { operator: 'test', witnesses: [] });
    assert.deepEqual(rep.recordedInterruptions, [lower]);
    assert.deepEqual(rep.revokedLost, [lower]);
    assert.equal(rep.after.ok, true, rep.after.problems.join('\n'));
    assert.equal(rep.after.repairable, false);
    assert.ok(rep.after.notes.some((n) => n.includes(`certificate ${lower} was lost`)), rep.after.notes.join('\n'));
    const line = readIndex(dir).find((e) => e.serial === lower)!;
    assert.equal(line.status, 'R');
    assert.equal(line.revoked?.reason, 'cessationOfOperation');
    assert.equal(readIndex(dir).find((e) => e.serial === kept.serial)?.status, 'V');
    assert.equal(readdirSync(join(dir, 'certs')).filter((f) => f.startsWith(`${lower}.crt.damaged-`)).length, 1, 'the empty file is kept aside');
    const events = readJournal(dir).slice(-3).map((e) => (e.kind === 'error' ? `error:${e.facts.event}` : e.kind));
    assert.deepEqual(events, ['error:issuance.interrupted', 'certificate.revoked', 'error:certificate.lost']);
    assert.equal(verifyJournal(dir).ok, true);

    // The next CRL names it (checked by OpenSSL, not by us).
    const again = await openCa(dir, {});
    const crl = await again.generateCrl({ days: 7 });
    await again.close();
    const text = execFileSync('openssl', ['crl', '-inform', 'DER', '-noout', '-text'], { input: Buffer.from(crl.der) }).toString();
    assert.match(text, new RegExp(`Serial Number: ${serial}`, 'i'));
    assert.match(text, /Cessation Of Operation/);
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});
