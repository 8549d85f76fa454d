import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeSoftHsmStore, useStoreInThisProcess, SOFTHSM_LIB } from '../../../test/softhsm';
import { QpkiError } from '../errors';
import { verifySignature } from '../keys/verify';
import { SIGNATURE_ALGORITHMS, signatureFitsKey, type KeyAlgorithm } from '../keys/algorithms';
import * as pkcs11js from 'pkcs11js';
import { EC_PARAMS } from './constants';
import { initToken, loadModule, WRONG_PIN_PAUSE_MS, type Pkcs11Module, type TokenSession } from './index';

const store = makeSoftHsmStore();
useStoreInThisProcess(store);
const PIN = 'user-pin-1234567';
const SO_PIN = 'so-pin-12345678';
let mod: Pkcs11Module;
let serial: string;

before(() => {
  serial = store.initToken('CA Token', SO_PIN, PIN);
  mod = loadModule(SOFTHSM_LIB);
});
after(() => {
  mod.finalize();
  store.cleanup();
});

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof QpkiError, `expected QpkiError, got ${e}`);
    return e.code;
  }
  assert.fail('expected an error');
}

async function acode(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof QpkiError, `expected QpkiError, got ${e}`);
    return e.code;
  }
  assert.fail('expected an error');
}

test('a missing module and a file that is not a PKCS#11 library give MODULE_LOAD_FAILED', () => {
  assert.equal(code(() => loadModule('/nonexistent/libpkcs11.so')), 'MODULE_LOAD_FAILED');
  const fake = join(store.dir, 'not-a-module.so');
  writeFileSync(fake, 'this is not a shared object');
  assert.equal(code(() => loadModule(fake)), 'MODULE_LOAD_FAILED');
  assert.equal(code(() => loadModule('/usr/lib/x86_64-linux-gnu/libz.so.1')), 'MODULE_LOAD_FAILED');
});

test('module info, slots and the token found by label and by serial', () => {
  assert.match(mod.info().manufacturer, /SoftHSM/);
  const slots = mod.listSlots();
  const withToken = slots.find((s) => s.token?.label === 'CA Token');
  assert.ok(withToken, 'the initialized token is listed');
  assert.equal(withToken.token!.serial, serial);
  assert.equal(withToken.token!.flags.initialized, true);
  assert.equal(withToken.token!.flags.loginRequired, true);
  assert.ok(withToken.token!.minPinLen >= 4);
  assert.equal(mod.findToken({ label: 'CA Token' }).token.serial, serial);
  assert.equal(mod.findToken({ serial }).token.label, 'CA Token');
  assert.equal(code(() => mod.findToken({ label: 'No Such Token' })), 'TOKEN_NOT_FOUND');
  const mechs = mod.mechanisms(withToken.slotId);
  const ecdsa = mechs.find((m) => m.name === 'CKM_ECDSA');
  assert.ok(ecdsa && ecdsa.flags.includes('sign') && ecdsa.maxKeySize >= 521);
});

test('PIN paths: empty, wrong (state reported), right after a pause, already logged in', async () => {
  const s1 = mod.openSession({ label: 'CA Token' });
  try {
    assert.equal(await acode(() => s1.login('')), 'PIN_REQUIRED');
    assert.equal(await acode(() => s1.login('wrong-pin-000000')), 'PIN_INCORRECT');
    // After a wrong PIN the next attempt on this token waits, whichever session makes it.
    const started = Date.now();
    const r = await s1.login(PIN);
    assert.ok(Date.now() - started >= WRONG_PIN_PAUSE_MS - 50, `the login after a wrong PIN waited ${Date.now() - started} ms`);
    assert.equal(r.alreadyLoggedIn, false);
    assert.ok(s1.isLoggedIn);
    // The login state is per application: a second session sees CKR_USER_ALREADY_LOGGED_IN, which is success.
    const s2 = mod.openSession({ serial });
    try {
      assert.equal((await s2.login(PIN)).alreadyLoggedIn, true);
    } finally {
      s2.close();
    }
  } finally {
    s1.close();
  }
});

test('token initialization with C_InitToken + C_InitPIN, found again by label; weak PINs warned', async () => {
  const free = mod.listSlots().find((s) => s.tokenPresent && !s.token?.flags.initialized);
  assert.ok(free, 'SoftHSM2 offers a free slot');
  assert.equal(await acode(() => initToken(mod, { slotId: free.slotId, label: 'Too Short', soPin: '12', userPin: '123456789012' })), 'PIN_LEN_RANGE');
  const r = await initToken(mod, { slotId: free.slotId, label: 'Second Token', soPin: '123456', userPin: 'a-long-user-pin-1' });
  assert.equal(r.token.label, 'Second Token');
  assert.ok(r.token.flags.initialized && r.token.flags.userPinInitialized);
  assert.equal(r.warnings.length, 1, 'the 6-character SO PIN is warned about');
  assert.ok(!r.warnings.join(' ').includes('123456'), 'a warning never contains the PIN');
  const s = mod.openSession({ label: 'Second Token' });
  try {
    await s.login('a-long-user-pin-1');
  } finally {
    s.close();
  }
});

/** The public key objects with this CKA_ID, read with pkcs11js directly (not through the session's own reader). */
function publicKeyAttributes(s: TokenSession, idHex: string) {
  s.lib.C_FindObjectsInit(s.handle, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY }, { type: pkcs11js.CKA_ID, value: Buffer.from(idHex, 'hex') }]);
  const found = s.lib.C_FindObjects(s.handle, 10);
  s.lib.C_FindObjectsFinal(s.handle);
  const [modifiable, encrypt, wrap, verify, priv] = s.lib
    .C_GetAttributeValue(s.handle, found[0], [pkcs11js.CKA_MODIFIABLE, pkcs11js.CKA_ENCRYPT, pkcs11js.CKA_WRAP, pkcs11js.CKA_VERIFY, pkcs11js.CKA_PRIVATE].map((type) => ({ type })))
    .map((a) => (a.value as Buffer)[0] === 1);
  return { modifiable, encrypt, wrap, verify, private: priv, count: found.length };
}

const ALGS: KeyAlgorithm[] = ['ec-p256', 'ec-p384', 'ec-p521', 'rsa-2048', 'ed25519'];

test('keys generated in the token are sensitive, never extractable, and sign with every fitting mechanism', async () => {
  const s = mod.openSession({ label: 'CA Token' });
  try {
    assert.equal(await acode(() => s.generateKey({ algorithm: 'ec-p256', label: 'before-login' })), 'NOT_LOGGED_IN');
    await s.login(PIN);
    const offered = s.keyAlgorithms();
    for (const a of ALGS) assert.ok(offered.includes(a), `SoftHSM2 offers ${a}`);
    assert.ok(!offered.includes('ml-dsa-65'), 'SoftHSM2 2.6 has no ML-DSA');
    assert.equal(await acode(() => s.generateKey({ algorithm: 'ml-dsa-65', label: 'pq' })), 'MECHANISM_UNSUPPORTED');
    for (const algorithm of ALGS) {
      const rep = await s.generateKey({ algorithm, label: `key-${algorithm}` });
      const a = rep.key.attributes;
      assert.deepEqual(
        [a.token, a.private, a.sensitive, a.extractable, a.alwaysSensitive, a.neverExtractable, a.local, a.sign],
        [true, true, true, false, true, true, true, true],
        `${algorithm} attributes`,
      );
      assert.equal(rep.testSignature.verified, true);
      assert.ok(Number.isFinite(rep.durationMs) && rep.durationMs > 0 && rep.durationMs < 120_000, `${algorithm} duration ${rep.durationMs}`);
      assert.equal(rep.key.id.length, 40, 'id derived from the public key (SHA-1)');
      // The public half, read back: verify only, and unchangeable by anyone holding the token without the PIN.
      assert.deepEqual(publicKeyAttributes(s, rep.key.id), { modifiable: false, encrypt: false, wrap: false, verify: true, private: false, count: 1 }, `${algorithm} public key`);
      // What the token keeps, seen from another session (session objects of this one are not):
      // the generated private key and the public key under the derived id, no leftover half.
      const other = s.lib.C_OpenSession(s.slot, pkcs11js.CKF_SERIAL_SESSION);
      try {
        s.lib.C_FindObjectsInit(other, [{ type: pkcs11js.CKA_LABEL, value: `key-${algorithm}` }]);
        const kept = s.lib.C_FindObjects(other, 10);
        s.lib.C_FindObjectsFinal(other);
        const facts = kept.map((h) => s.lib.C_GetAttributeValue(other, h, [{ type: pkcs11js.CKA_CLASS }, { type: pkcs11js.CKA_ID }, { type: pkcs11js.CKA_TOKEN }]).map((a) => (a.value as Buffer).toString('hex')));
        facts.sort((x, y) => x[0].localeCompare(y[0]));
        const cls = (c: number) => Buffer.from(new BigUint64Array([BigInt(c)]).buffer).toString('hex');
        assert.deepEqual(facts, [[cls(pkcs11js.CKO_PUBLIC_KEY), rep.key.id, '01'], [cls(pkcs11js.CKO_PRIVATE_KEY), rep.key.id, '01']], `${algorithm}: one token public key and one token private key, both under the derived id`);
      } finally {
        s.lib.C_CloseSession(other);
      }
      const signer = s.signer(rep.key);
      const msg = new TextEncoder().encode(`message for ${algorithm}`);
      for (const sig of SIGNATURE_ALGORITHMS.filter((x) => signatureFitsKey(x, algorithm))) {
        const signature = await signer.sign(sig, msg);
        assert.ok(verifySignature(rep.key.spki, sig, msg, signature), `${algorithm}/${sig} verifies`);
        assert.ok(!verifySignature(rep.key.spki, sig, new TextEncoder().encode('other'), signature), `${algorithm}/${sig} does not verify other data`);
      }
    }
    assert.equal(await acode(() => s.generateKey({ algorithm: 'ec-p256', label: 'key-ec-p256' })), 'KEY_LABEL_EXISTS');
    // An explicit id is kept, and refused when another object has it: two keys with one id cannot be told apart.
    const twinA = await s.generateKey({ algorithm: 'ec-p256', label: 'twin-a', id: 'a1b2' });
    assert.equal(await acode(() => s.generateKey({ algorithm: 'ec-p256', label: 'twin-b', id: 'A1B2' })), 'KEY_ID_EXISTS');
    assert.equal(s.objectsWithLabel('twin-b'), 0, 'nothing was generated');
    // Another tool makes the twin anyway: choosing either by id is refused, and says why.
    const twin = [{ type: pkcs11js.CKA_TOKEN, value: true }, { type: pkcs11js.CKA_LABEL, value: 'twin-b' }, { type: pkcs11js.CKA_ID, value: Buffer.from('a1b2', 'hex') }];
    s.lib.C_GenerateKeyPair(s.handle, { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
      [...twin, { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY }, { type: pkcs11js.CKA_EC_PARAMS, value: EC_PARAMS['ec-p256'] }, { type: pkcs11js.CKA_VERIFY, value: true }],
      [...twin, { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }, { type: pkcs11js.CKA_SIGN, value: true }, { type: pkcs11js.CKA_SENSITIVE, value: true }, { type: pkcs11js.CKA_PRIVATE, value: true }]);
    assert.equal(code(() => s.findKey({ id: 'a1b2' })), 'KEY_AMBIGUOUS');
    let refused = '';
    try { s.findKey({ id: 'a1b2', label: 'twin-b' }); } catch (e) { refused = (e as QpkiError).message; }
    assert.match(refused, /2 public key objects on token "CA Token" carry its CKA_ID a1b2/);
    assert.ok(!s.listKeys().some((k) => k.id === 'a1b2'), 'a listing leaves out the keys it cannot tell apart');
    assert.ok(twinA.testSignature.verified);
    assert.equal(code(() => s.findKey({ label: 'nope' })), 'KEY_NOT_FOUND');
  } finally {
    s.close();
  }
});

test('an independent reader (pkcs11-tool) sees the CA key as sensitive and never extractable', () => {
  const out = execFileSync('pkcs11-tool', ['--module', SOFTHSM_LIB, '--token-label', 'CA Token', '--login', '--pin', PIN, '-O', '--type', 'privkey', '--label', 'key-ec-p384'], { env: store.env, encoding: 'utf8' });
  const block = out.split(/\n(?=\S)/).find((b) => /label:\s+key-ec-p384\s*$/m.test(b));
  assert.ok(block, 'pkcs11-tool lists the key');
  assert.match(block, /Private Key Object; EC/);
  const access = /Access:\s+(.*)/.exec(block)![1].split(',').map((x) => x.trim());
  assert.ok(access.includes('sensitive') && access.includes('never extractable') && access.includes('always sensitive') && access.includes('local'), access.join(','));
  assert.ok(!access.includes('extractable'), 'not extractable');
  assert.equal(/Usage:\s+(.*)/.exec(block)![1].trim(), 'sign', 'a CA key signs and nothing else');
  // Its public half verifies and does nothing else (no encrypt, no wrap), readable without a login.
  const pubs = execFileSync('pkcs11-tool', ['--module', SOFTHSM_LIB, '--token-label', 'CA Token', '-O', '--type', 'pubkey', '--label', 'key-ec-p384'], { env: store.env, encoding: 'utf8' });
  const pub = pubs.split(/\n(?=\S)/).filter((b) => /label:\s+key-ec-p384\s*$/m.test(b));
  assert.equal(pub.length, 1, 'one public key object');
  assert.match(pub[0], /Public Key Object; EC/);
  assert.equal(/Usage:\s+(.*)/.exec(pub[0])![1].trim(), 'verify');
});

test('signing after logout is refused; a closed session is reported', async () => {
  const s = mod.openSession({ label: 'CA Token' });
  await s.login(PIN);
  const key = s.findKey({ label: 'key-ec-p256' });
  const signer = s.signer(key);
  s.logout();
  assert.equal(await acode(() => signer.sign('ecdsa-sha256', new Uint8Array([1]))), 'NOT_LOGGED_IN');
  s.close();
  assert.equal(code(() => s.listKeys()), 'SESSION_CLOSED');
});

test('a key destroyed after it was found: its signer refuses with KEY_NOT_FOUND, and keeps refusing once the token is searched again', async () => {
  const s = mod.openSession({ label: 'CA Token' });
  try {
    await s.login(PIN);
    await s.generateKey({ algorithm: 'ec-p256', label: 'found-then-gone' });
    const key = s.findKey({ label: 'found-then-gone' });
    // Another program with the PIN destroys both halves between the choice and the signature.
    const rw = s.lib.C_OpenSession(s.slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    s.lib.C_FindObjectsInit(rw, [{ type: pkcs11js.CKA_LABEL, value: 'found-then-gone' }]);
    const objects = s.lib.C_FindObjects(rw, 10);
    s.lib.C_FindObjectsFinal(rw);
    assert.equal(objects.length, 2, 'the private and the public half');
    for (const h of objects) s.lib.C_DestroyObject(rw, h);
    s.lib.C_CloseSession(rw);
    const signer = s.signer(key);
    // The handle read when the key was found is gone: C_SignInit refuses it.
    assert.equal(await acode(() => signer.sign('ecdsa-sha256', new Uint8Array([1]))), 'KEY_NOT_FOUND');
    // The next try searches by label and id, and finds nothing either.
    assert.equal(await acode(() => signer.sign('ecdsa-sha256', new Uint8Array([2]))), 'KEY_NOT_FOUND');
    assert.equal(code(() => s.findKey({ label: 'found-then-gone' })), 'KEY_NOT_FOUND');
  } finally {
    s.close();
  }
});
