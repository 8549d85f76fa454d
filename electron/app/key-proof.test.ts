/**
 * Someone holds the token for a while without the PIN: public objects can be deleted and made
 * without a login, so they replace the CA key's public key object with their own key, or plant a
 * second public key under its id. A hostile renderer (the handler table) and a hostile command
 * line then choose that key for a CA. Every entry point must refuse it before anything is
 * signed: selectKey, `ca init --use-existing-key`, and an existing CA opened for a CRL. The
 * attacker is pkcs11-tool in another process, never logged in; the keys are real SoftHSM2 keys.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeSoftHsmStore, SOFTHSM_LIB } from '../../test/softhsm';
import { ensureCliBuilt, QPKI } from '../../test/cli-build';
import { makeHarness } from '../../test/harness/test-harness';
import { preflightConfirmation, handlerCalls } from '../../test/handler-calls';

const store = makeSoftHsmStore();
process.env.SOFTHSM2_CONF = store.conf;
const PIN = 'user-pin-key-proof-1';
const serial = store.initToken('Key Token', 'so-pin-key-proof-1', PIN);
const h = makeHarness({ softhsmPath: SOFTHSM_LIB, devTokenDir: store.dir });
const { call, ok, loadLibrary, dirId, signRaw } = handlerCalls(h);
const work = join(store.dir, 'work');
before(async () => {
  await ensureCliBuilt();
  execFileSync('mkdir', ['-p', work]);
  execFileSync('openssl', ['ecparam', '-name', 'secp384r1', '-genkey', '-noout', '-out', join(work, 'attacker.key')]);
  execFileSync('openssl', ['ec', '-in', join(work, 'attacker.key'), '-pubout', '-outform', 'DER', '-out', join(work, 'attacker.pub.der')], { stdio: 'ignore' });
});
after(() => {
  h.state.endCeremony();
  store.cleanup();
});

const tool = (args: string[]) => execFileSync('pkcs11-tool', ['--module', SOFTHSM_LIB, '--token-label', 'Key Token', ...args], { env: store.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
/** The attacker, without the PIN: the public key object of `id` replaced by theirs (same curve), same id and label. */
function replacePublicKey(id: string, label: string): void {
  tool(['--delete-object', '--type', 'pubkey', '--id', id]);
  tool(['--write-object', join(work, 'attacker.pub.der'), '--type', 'pubkey', '--id', id, '--label', label]);
}
function qpki(args: string[]) {
  return spawnSync(process.execPath, [QPKI, ...args], { env: { ...store.env, KP_PIN: PIN }, cwd: work, encoding: 'utf8', timeout: 60_000 });
}
const tokenArgs = ['--pkcs11-lib', SOFTHSM_LIB, '--pkcs11-token', 'Key Token', '--pkcs11-pin-env', 'KP_PIN'];
const codeOf = (stderr: string) => /error \[([A-Z_0-9]+)\]/.exec(stderr)?.[1];

async function inCeremony(): Promise<void> {
  await ok('openCeremony', { operator: 'Alice Operator', witnesses: ['Bob Witness'], purpose: 'key proof' });
  await ok('confirmPreflight', preflightConfirmation('Bob Witness'));
  await loadLibrary(SOFTHSM_LIB);
  await ok('openToken', { serial });
  await ok('login', { pin: PIN });
}

test('a CA key whose public key object was replaced without the PIN is refused by selectKey and by qpki ca init --use-existing-key; nothing is signed', async () => {
  await inCeremony();
  const gen = await ok('generateKey', { algorithm: 'ec-p384', label: 'root-key' });
  replacePublicKey(gen.key.id, 'root-key');
  // What the token now shows is the attacker's key under the CA key's name.
  const listed = (await ok('listKeys')).keys.find((k: { label: string }) => k.label === 'root-key');
  assert.notEqual(listed.fingerprint, gen.key.fingerprint, 'the swap took');

  const asked = h.confirmations.length;
  const r = await call('selectKey', { label: 'root-key', id: gen.key.id });
  assert.equal(r.error?.code, 'KEY_CHECK_FAILED');
  assert.match(r.error!.message, /public key object of "root-key" on token "Key Token" does not belong to its private key: a test signature .* did not verify/);
  assert.equal(h.confirmations.length, asked);
  // The key generated a moment ago is still the ceremony's choice: signing with it proves it
  // again, and refuses it the same way.
  const dir = join(work, 'root-from-app');
  const signed = await signRaw('previewCa', { profile: 'ec/root-ca', vars: { cn: 'Swapped Root' }, dirId: await dirId('new-ca', dir) });
  assert.equal(signed.error?.code, 'KEY_CHECK_FAILED', `the token signs nothing with it: ${signed.error?.message}`);
  assert.equal(existsSync(dir), false, 'no CA directory');
  const events = (await ok('readJournal')).pending as Array<{ kind: string; facts: Record<string, unknown> }>;
  assert.equal(events.some((e) => e.kind === 'key.selected'), false);
  const refusal = events.find((e) => e.kind === 'error' && e.facts.step === 'existing key proof');
  assert.equal(refusal?.facts.code, 'KEY_CHECK_FAILED');
  assert.equal(refusal?.facts.publicKeySha256Fingerprint, listed.fingerprint.replace(/[: ]/g, '').toLowerCase(), 'the record names the key it refused');

  // The command line, a separate process: the same refusal, no CA directory.
  const cli = qpki(['ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs, '--pkcs11-key-label', 'root-key', '--use-existing-key', '--var', 'cn=Swapped Root', '--dir', 'root-from-cli']);
  assert.equal(cli.status, 1, cli.stderr);
  assert.equal(codeOf(cli.stderr), 'KEY_CHECK_FAILED');
  assert.equal(existsSync(join(work, 'root-from-cli')), false);
  const csr = qpki(['ca', 'csr', '--profile', 'ec/issuing-ca', ...tokenArgs, '--pkcs11-key-label', 'root-key', '--use-existing-key', '--var', 'cn=Swapped Sub', '--out', 'swapped.csr']);
  assert.equal(codeOf(csr.stderr), 'KEY_CHECK_FAILED', csr.stderr);
  assert.equal(existsSync(join(work, 'swapped.csr')), false, 'no CSR carries the attacker key');
});

test('a key that is not the one this ceremony generated under that name is refused (KEY_CHECK_FAILED); a genuine one is proven and matched', async () => {
  const good = await ok('generateKey', { algorithm: 'ec-p256', label: 'good-key' });
  const sel = await ok('selectKey', { label: 'good-key', id: good.key.id });
  assert.deepEqual([sel.testSignature.verified, sel.journal], [true, 'matched']);
  const rec = ((await ok('readJournal')).pending as Array<{ kind: string; facts: Record<string, unknown> }>).filter((e) => e.kind === 'key.selected').at(-1)!;
  assert.equal(rec.facts.journalFingerprint, 'matched');

  // Someone with the PIN replaces the whole key pair under the same label and id: it signs and
  // verifies, but it is not the key the ceremony generated.
  const second = await ok('generateKey', { algorithm: 'ec-p256', label: 'second-key' });
  tool(['--login', '--pin', PIN, '--delete-object', '--type', 'privkey', '--id', second.key.id]);
  tool(['--delete-object', '--type', 'pubkey', '--id', second.key.id]);
  tool(['--login', '--pin', PIN, '--keypairgen', '--key-type', 'EC:prime256v1', '--id', second.key.id, '--label', 'second-key', '--usage-sign']);
  const r = await call('selectKey', { label: 'second-key', id: second.key.id });
  assert.equal(r.error?.code, 'KEY_CHECK_FAILED');
  assert.match(r.error!.message, /is not the key this ceremony recorded at its generation: its public key SHA-256 is [0-9a-f]{64}, the record says [0-9a-f]{64}/);

  // A key made by another tool that no record knows: proven by its test signature, said to be unrecorded.
  tool(['--login', '--pin', PIN, '--keypairgen', '--key-type', 'EC:prime256v1', '--id', '7e57', '--label', 'outside-key', '--usage-sign']);
  const outside = await ok('selectKey', { label: 'outside-key', id: '7e57' });
  assert.deepEqual([outside.testSignature.verified, outside.journal], [true, 'not-recorded']);
});

test('CKA_ID: generateKey refuses an id another object has; a chosen key that shares its id with a planted public key is refused and says so', async () => {
  const third = await ok('generateKey', { algorithm: 'ec-p384', label: 'third-key', id: '0a0a' });
  const dup = await call('generateKey', { algorithm: 'ec-p256', label: 'fourth-key', id: '0A0A' });
  assert.equal(dup.error?.code, 'KEY_ID_EXISTS');
  assert.match(dup.error!.message, /already has an object with CKA_ID 0a0a/);
  assert.equal((await ok('listKeys')).keys.some((k: { label: string }) => k.label === 'fourth-key'), false, 'nothing generated');
  // The attacker, without the PIN, plants a second public key under the same id.
  tool(['--write-object', join(work, 'attacker.pub.der'), '--type', 'pubkey', '--id', '0a0a', '--label', 'planted']);
  const r = await call('selectKey', { label: 'third-key', id: third.key.id });
  assert.equal(r.error?.code, 'KEY_AMBIGUOUS');
  assert.match(r.error!.message, /Key "third-key": 2 public key objects on token "Key Token" carry its CKA_ID 0a0a, so its public key cannot be told apart/);
  // third-key, chosen when it was generated, cannot sign a root now either.
  assert.equal(h.state.key?.kind === 'pkcs11' && h.state.key.label, 'third-key');
  const dir = join(work, 'root-ambiguous');
  const signed = await signRaw('previewCa', { profile: 'ec/root-ca', vars: { cn: 'Ambiguous Root' }, dirId: await dirId('new-ca', dir) });
  assert.equal(signed.error?.code, 'KEY_AMBIGUOUS');
  assert.equal(existsSync(dir), false);
});

test('an existing CA whose token key lost its public key object to the attacker signs no CRL', async () => {
  await ok('endSession');
  const made = qpki(['ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs, '--pkcs11-key-label', 'ca-key', '--var', 'cn=Held Root', '--dir', 'held']);
  assert.equal(made.status, 0, made.stderr);
  const id = /id ([0-9a-f]+)/.exec(made.stdout)![1];
  const crlBefore = readdirSync(join(work, 'held', 'crl'));
  replacePublicKey(id, 'ca-key');
  const crl = qpki(['crl', 'gen', '--ca-dir', 'held', '--days', '7', ...tokenArgs]);
  assert.equal(codeOf(crl.stderr), 'KEY_CHECK_FAILED', crl.stderr);
  assert.match(crl.stderr, /is not the key of the CA certificate/);
  assert.deepEqual(readdirSync(join(work, 'held', 'crl')), crlBefore, 'no CRL written');
});
