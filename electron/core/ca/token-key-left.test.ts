/**
 * A CA key generated in the token before a later step of the ceremony fails stays in the token
 * (deleting HSM keys is not a side effect this tool takes), and the error says so and how to go
 * on; choosing that key as the existing one then completes the ceremony.
 */
import 'reflect-metadata';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSoftHsmStore, useStoreInThisProcess, SOFTHSM_LIB } from '../../../test/softhsm';
import { loadModule } from '../pkcs11/index';
import { loadProfile } from '../profiles/index';
import { initCa, openCa } from './authority';
import { checkCaDir } from './check';

const store = makeSoftHsmStore();
useStoreInThisProcess(store);
const PIN = 'user-pin-1234567';
const work = mkdtempSync(join(tmpdir(), 'qpki-keyleft-'));
after(() => {
  rmSync(work, { recursive: true, force: true });
  store.cleanup();
});

test('a subordinate CA whose parent is busy: the new token key stays, the error says so, and it is used on the next try', { timeout: 60_000 }, async () => {
  const serial = store.initToken('CA Token', 'so-pin-12345678', PIN);
  const mod = loadModule(SOFTHSM_LIB);
  const session = mod.openSession({ serial });
  await session.login(PIN);
  const parentDir = join(work, 'root');
  await initCa({ dir: parentDir, profile: loadProfile('ec/root-ca'), vars: { cn: 'Root' }, key: { kind: 'software', passphrase: null } });
  const parent = await openCa(parentDir, {});

  // Another process holds the parent CA for longer than issuance waits (5 s).
  const fsx = join(__dirname, 'fsx.ts');
  const holder = spawn(process.execPath, ['--import', 'tsx', '-e', `require(${JSON.stringify(fsx)}).lockCaDir(${JSON.stringify(parentDir)}); console.log('held'); setTimeout(() => {}, 30000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise((resolve) => holder.stdout!.once('data', resolve));
    const subDir = join(work, 'issuing');
    const first = initCa({ dir: subDir, profile: loadProfile('ec/issuing-ca'), vars: { cn: 'Issuing' }, key: { kind: 'pkcs11', session, label: 'issuing-key' }, parent });
    await assert.rejects(first, (e: { code?: string; message?: string }) => {
      assert.equal(e.code, 'CA_LOCKED');
      assert.match(e.message!, /The key "issuing-key" \(id [0-9a-f]+\) generated for this CA stays in token "CA Token": choose it as the existing key when you try again \(qpki: --use-existing-key\)/);
      return true;
    });
    assert.equal(session.findKey({ label: 'issuing-key' }).label, 'issuing-key', 'the key is still in the token');
  } finally {
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('close', resolve));
  }

  const subDir = join(work, 'issuing');
  const again = await initCa({ dir: subDir, profile: loadProfile('ec/issuing-ca'), vars: { cn: 'Issuing' }, key: { kind: 'pkcs11', session, label: 'issuing-key', useExisting: true }, parent });
  assert.equal(again.key.generated, undefined, 'the existing key was used, not a new one');
  await parent.close();
  assert.equal(checkCaDir(subDir).ok, true);
  mod.finalize();
});
