/**
 * Token faults with clear errors: a token that disappears mid-ceremony (its SoftHSM2 store moved
 * away between steps, and between two signatures of one session), a module that does not load, a
 * store with no initialized token, and a mechanism the token lacks. Each failure names what to do
 * and leaves the CA directory as it was. (chmod 000 on the token store proves nothing here: the
 * tests run as root, who reads through it; moving the store away is what a pulled token looks like.)
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSoftHsmStore, useStoreInThisProcess, SOFTHSM_LIB, type SoftHsmStore } from '../softhsm';
import { QpkiError } from '../../electron/core/errors';
import { finalizeAllModules, loadModule } from '../../electron/core/pkcs11/index';
import { ensureCliBuilt, hashTree, qpki } from './helpers';

const PIN = 'vanish-pin-123456';
let work: string;
let store: SoftHsmStore;
let env: NodeJS.ProcessEnv;
let caDir: string;
const tok = ['--pkcs11-lib', SOFTHSM_LIB, '--pkcs11-token', 'Vanish Token', '--pkcs11-pin-env', 'VANISH_PIN'];

before(async () => {
  await ensureCliBuilt();
  work = mkdtempSync(join(tmpdir(), 'qpki-token-faults-'));
  store = makeSoftHsmStore();
  useStoreInThisProcess(store);
  store.initToken('Vanish Token', 'vanish-so-123456', PIN);
  env = { ...store.env, VANISH_PIN: PIN };
  caDir = join(work, 'ca');
  const r = qpki(['ca', 'init', '--profile', 'ec/root-ca', ...tok, '--pkcs11-key-label', 'vanish-ca', '--var', 'cn=Vanish Root', '--dir', caDir], { env });
  assert.equal(r.status, 0, r.stderr);
});
after(() => {
  finalizeAllModules();
  rmSync(work, { recursive: true, force: true });
  store.cleanup();
});

function tokenDirName(): string {
  const d = readdirSync(store.tokenDir);
  assert.equal(d.length, 1);
  return d[0];
}

function journalKinds(): string[] {
  return readFileSync(join(caDir, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { kind: string }).kind);
}

test('a token store moved away between steps: enroll and crl gen refuse in words, the CA stays as it was, and work once it is back', () => {
  const name = tokenDirName();
  const hidden = join(store.dir, 'pulled-out');
  const before = hashTree(caDir, (rel) => rel === 'journal.jsonl');
  const kinds = journalKinds();
  renameSync(join(store.tokenDir, name), hidden);
  try {
    const enroll = qpki(['credential', 'enroll', '--ca-dir', caDir, '--profile', 'ec/tls-server', '--var', 'cn=gone.example.com', '--cred-dir', join(work, 'creds'), '--unencrypted-key', ...tok], { env });
    assert.equal(enroll.status, 1);
    assert.ok(['TOKEN_NOT_FOUND', 'TOKEN_NOT_PRESENT', 'SESSION_CLOSED'].includes(enroll.code!), enroll.stderr);
    assert.match(enroll.stderr, /Vanish Token|serial "[0-9a-f]+"/, 'names the token');
    assert.match(enroll.stderr, /Connect the token|Reconnect it/, 'says what to do');
    const crl = qpki(['crl', 'gen', '--ca-dir', caDir, ...tok], { env });
    assert.equal(crl.status, 1);
    assert.ok(['TOKEN_NOT_FOUND', 'TOKEN_NOT_PRESENT', 'SESSION_CLOSED'].includes(crl.code!), crl.stderr);
    for (const r of [enroll, crl]) assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    assert.deepEqual(hashTree(caDir, (rel) => rel === 'journal.jsonl'), before, 'no file of the CA changed');
    const added = journalKinds().slice(kinds.length);
    assert.ok(added.every((k) => k === 'error' || k === 'login.failed'), `the journal gained only error entries: ${added}`);
  } finally {
    renameSync(hidden, join(store.tokenDir, name));
  }
  const enroll = qpki(['--json', 'credential', 'enroll', '--ca-dir', caDir, '--profile', 'ec/tls-server', '--var', 'cn=back.example.com', '--cred-dir', join(work, 'creds'), '--unencrypted-key', ...tok], { env });
  assert.equal(enroll.status, 0, enroll.stderr);
  const crl = qpki(['crl', 'gen', '--ca-dir', caDir, ...tok], { env });
  assert.equal(crl.status, 0, crl.stderr);
  const check = qpki(['ca', 'check', '--ca-dir', caDir], { env });
  assert.equal(check.status, 0, check.stdout + check.stderr);
});

test('in one session: the token vanishes between two signatures; the second fails with TOKEN_NOT_PRESENT and signs nothing', async () => {
  const mod = loadModule(SOFTHSM_LIB);
  const s = mod.openSession({ label: 'Vanish Token' });
  await s.login(PIN);
  const signer = s.signer(s.findKey({ label: 'vanish-ca' }));
  assert.ok((await signer.sign('ecdsa-sha384', new Uint8Array([1, 2, 3]))).length > 0);
  const name = tokenDirName();
  const hidden = join(store.dir, 'pulled-out-2');
  renameSync(join(store.tokenDir, name), hidden);
  try {
    await assert.rejects(signer.sign('ecdsa-sha384', new Uint8Array([4, 5, 6])), (e: unknown) => {
      assert.ok(e instanceof QpkiError);
      assert.equal(e.code, 'TOKEN_NOT_PRESENT', e.message);
      assert.match(e.message, /no longer answers.*Nothing was signed/);
      return true;
    });
    assert.throws(() => mod.openSession({ label: 'Vanish Token' }), (e: unknown) => e instanceof QpkiError && e.code === 'TOKEN_NOT_PRESENT' && /Reconnect it/.test(e.message));
  } finally {
    renameSync(hidden, join(store.tokenDir, name));
  }
  // The module keeps its view of the lost token; reloading it finds the token again.
  finalizeAllModules();
  const again = loadModule(SOFTHSM_LIB).openSession({ label: 'Vanish Token' });
  await again.login(PIN);
  assert.ok((await again.signer(again.findKey({ label: 'vanish-ca' })).sign('ecdsa-sha384', new Uint8Array([7]))).length > 0);
  again.close();
});

test('a module that does not load: MODULE_LOAD_FAILED saying which file and what to give instead', () => {
  const fake = join(work, 'not-a-module.so');
  writeFileSync(fake, 'not a shared object');
  for (const lib of ['/nonexistent/libvendor-pkcs11.so', fake, '/usr/lib/x86_64-linux-gnu/libz.so.1']) {
    const r = qpki(['token', 'list', '--pkcs11-lib', lib], { env });
    assert.equal(r.status, 1);
    assert.equal(r.code, 'MODULE_LOAD_FAILED', r.stderr);
    assert.ok(r.stderr.includes(lib), r.stderr);
    assert.match(r.stderr, /PKCS#11 (module|library)/);
  }
  const init = qpki(['ca', 'init', '--profile', 'ec/root-ca', '--pkcs11-lib', fake, '--pkcs11-token', 'X', '--pkcs11-pin-env', 'VANISH_PIN', '--pkcs11-key-label', 'k', '--var', 'cn=No Module', '--dir', join(work, 'no-module-ca')], { env });
  assert.equal(init.code, 'MODULE_LOAD_FAILED', init.stderr);
  assert.deepEqual(readdirSync(work).filter((n) => n.includes('no-module-ca')), [], 'nothing created');
});

test('a store with no initialized token: TOKEN_NOT_FOUND that says no initialized token is present', () => {
  const empty = makeSoftHsmStore();
  try {
    const r = qpki(['ca', 'init', '--profile', 'ec/root-ca', '--pkcs11-lib', SOFTHSM_LIB, '--pkcs11-token', 'Missing', '--pkcs11-pin-env', 'VANISH_PIN', '--pkcs11-key-label', 'k', '--var', 'cn=Nowhere', '--dir', join(work, 'nowhere-ca')], { env: { ...empty.env, VANISH_PIN: PIN } });
    assert.equal(r.code, 'TOKEN_NOT_FOUND', r.stderr);
    assert.match(r.stderr, /No initialized token is present/);
    const list = qpki(['token', 'list', '--pkcs11-lib', SOFTHSM_LIB], { env: empty.env });
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /token not initialized/, 'the free slot is shown so the operator can run token init');
  } finally {
    empty.cleanup();
  }
});

test('a mechanism the token lacks: ML-DSA-65 in SoftHSM2 is MECHANISM_UNSUPPORTED and points to a software ML-DSA key', () => {
  const gen = qpki(['key', 'gen', '--algorithm', 'ml-dsa-65', '--pkcs11-key-label', 'pq', ...tok], { env });
  assert.equal(gen.code, 'MECHANISM_UNSUPPORTED', gen.stderr);
  assert.match(gen.stderr, /software ML-DSA key/);
  const init = qpki(['ca', 'init', '--profile', 'ml/root-ca', ...tok, '--pkcs11-key-label', 'pq-ca', '--var', 'cn=PQ Root', '--dir', join(work, 'pq-ca')], { env });
  assert.equal(init.code, 'MECHANISM_UNSUPPORTED', init.stderr);
  assert.match(init.stderr, /software ML-DSA key/);
  assert.deepEqual(readdirSync(work).filter((n) => n.includes('pq-ca')), [], 'no CA directory and no staging directory left');
});
