import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { SignatureAlgorithm } from './algorithms';
import { generateSoftwareKey, signerFromPkcs8 } from './software';
import { verifySignature, verifySignatureAsync } from './verify';
import { stopVerifyWorker } from './verifyWorker';

const storage = { type: 'software', path: 'mem', encrypted: false } as const;

const KEYS = [
  ['ec-p256', 'ecdsa-sha256'],
  ['ec-p384', 'ecdsa-sha384'],
  ['ec-p521', 'ecdsa-sha512'],
  ['rsa-2048', 'rsa-pss-sha256'],
  ['rsa-2048', 'rsa-pkcs1-sha384'],
  ['ed25519', 'ed25519'],
] as const;

async function cases() {
  const out: { what: string; spki: Uint8Array; alg: SignatureAlgorithm; data: Uint8Array; sig: Uint8Array }[] = [];
  for (const [keyAlg, alg] of KEYS) {
    const key = signerFromPkcs8(generateSoftwareKey(keyAlg).pkcs8, storage);
    const other = signerFromPkcs8(generateSoftwareKey(keyAlg).pkcs8, storage);
    const data = new Uint8Array(500).map((_, i) => (i * 7) & 0xff);
    const sig = await key.sign(alg, data);
    const flipped = Uint8Array.from(sig);
    flipped[flipped.length - 5] ^= 1;
    out.push(
      { what: `${alg} good`, spki: key.spki, alg, data, sig },
      { what: `${alg} other key`, spki: other.spki, alg, data, sig },
      { what: `${alg} other data`, spki: key.spki, alg, data: data.subarray(1), sig },
      { what: `${alg} flipped bit`, spki: key.spki, alg, data, sig: flipped },
      { what: `${alg} empty signature`, spki: key.spki, alg, data, sig: new Uint8Array(0) },
    );
  }
  return out;
}

test('a burst of signatures gets, from the verifying thread, each the verdict this thread gives', async () => {
  const all = await cases();
  // Every case three times over, in one burst: several groups in flight at once, answered in order.
  const burst = [...all, ...all, ...all];
  const verdicts = await Promise.all(burst.map((c) => verifySignatureAsync(c.spki, c.alg, c.data, c.sig)));
  burst.forEach((c, k) => {
    assert.equal(verdicts[k], verifySignature(c.spki, c.alg, c.data, c.sig), c.what);
    assert.equal(verdicts[k], c.what.endsWith(' good'), c.what);
  });
});

test('a verifying thread that stops fails every verdict it still owed, and the next signature starts a new one', async () => {
  const [good] = await cases();
  const pending = Array.from({ length: 400 }, () => verifySignatureAsync(good.spki, good.alg, good.data, good.sig).then((ok) => ({ ok }), (e: unknown) => ({ e })));
  await stopVerifyWorker();
  const settled = await Promise.all(pending);
  const failed = settled.filter((s) => 'e' in s);
  // Answered before the stop (true, the signature is good) or refused: never a verdict it did not compute.
  for (const s of settled) {
    if ('ok' in s) assert.equal(s.ok, true);
    else assert.equal((s.e as { code?: string }).code, 'INTERNAL');
  }
  assert.ok(failed.length > 0, 'the stop came before the last of 400 verdicts');
  assert.match((failed[0] as { e: Error }).e.message, /stopped before it gave its verdict/);
  assert.equal(await verifySignatureAsync(good.spki, good.alg, good.data, good.sig), true);
  assert.equal(await verifySignatureAsync(good.spki, good.alg, good.data.subarray(1), good.sig), false);
});

test('an idle verifying thread does not keep the process alive', () => {
  const child = `
    const { generateSoftwareKey, signerFromPkcs8 } = require(${JSON.stringify(join(__dirname, 'software'))});
    const { verifySignatureAsync } = require(${JSON.stringify(join(__dirname, 'verify'))});
    const { workerUsable } = require(${JSON.stringify(join(__dirname, 'verifyWorker'))});
    const key = signerFromPkcs8(generateSoftwareKey('ec-p256').pkcs8, { type: 'software', path: 'mem', encrypted: false });
    const data = new Uint8Array(100);
    key.sign('ecdsa-sha256', data).then((sig) => Promise.all([1, 2, 3, 4, 5].map(() => verifySignatureAsync(key.spki, 'ecdsa-sha256', data, sig))))
      .then((v) => console.log(JSON.stringify({ v, worker: workerUsable() })));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', child], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.error, undefined, 'the child ended by itself');
  assert.equal(r.status, 0, r.stderr);
  // workerUsable: no worker failed to start, so the verdicts came from one (not from the thread pool).
  assert.deepEqual(JSON.parse(r.stdout), { v: [true, true, true, true, true], worker: true });
});

test('where no worker can start, the signatures waiting for one are refused, and later ones are verified on the thread pool', () => {
  const child = `
    require('node:worker_threads').Worker = function () { throw new Error('no threads here'); };
    const { generateSoftwareKey, signerFromPkcs8 } = require(${JSON.stringify(join(__dirname, 'software'))});
    const { verifySignatureAsync } = require(${JSON.stringify(join(__dirname, 'verify'))});
    const { workerUsable } = require(${JSON.stringify(join(__dirname, 'verifyWorker'))});
    const key = signerFromPkcs8(generateSoftwareKey('ec-p256').pkcs8, { type: 'software', path: 'mem', encrypted: false });
    const data = new Uint8Array(100);
    (async () => {
      const sig = await key.sign('ecdsa-sha256', data);
      const first = await Promise.all([1, 2].map(() => verifySignatureAsync(key.spki, 'ecdsa-sha256', data, sig).then((ok) => 'verdict ' + ok, (e) => e.code + ': ' + e.message)));
      const later = [await verifySignatureAsync(key.spki, 'ecdsa-sha256', data, sig), await verifySignatureAsync(key.spki, 'ecdsa-sha256', data.subarray(1), sig)];
      console.log(JSON.stringify({ first, usable: workerUsable(), later }));
    })();
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', child], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { first: string[]; usable: boolean; later: boolean[] };
  for (const f of out.first) assert.match(f, /^INTERNAL: The signature check stopped before it gave its verdict \(no threads here\)/);
  assert.equal(out.usable, false);
  assert.deepEqual(out.later, [true, false]);
});
