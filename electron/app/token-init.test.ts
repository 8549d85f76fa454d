/**
 * A hostile renderer on the handler table against an initialized SoftHSM2 token holding a CA
 * key: initToken must not wipe it unless the operator chose to re-initialize it, typed its
 * current label, and said yes in main's own dialog; the SO PIN is checked before anything is
 * destroyed and a wrong one makes the next attempt wait. Every refusal is on the record, no PIN
 * is anywhere, and after each refusal the token, its key and its user PIN are as they were.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { makeSoftHsmStore, SOFTHSM_LIB } from '../../test/softhsm';
import { makeHarness } from '../../test/harness/test-harness';
import { preflightConfirmation, handlerCalls } from '../../test/handler-calls';
import { WRONG_PIN_PAUSE_MS } from '../core/pkcs11/pinPace';

const store = makeSoftHsmStore();
process.env.SOFTHSM2_CONF = store.conf;
const SO_PIN = 'so-canary-8c1f2a9e';
const USER_PIN = 'user-canary-5d7b3e10';
const WRONG_SO = 'wrong-so-canary-44aa';
const NEW_USER = 'new-user-canary-2b3c';
const CANARIES = [SO_PIN, USER_PIN, WRONG_SO, NEW_USER];
const serial = store.initToken('Victim CA', SO_PIN, USER_PIN);
const h = makeHarness({ softhsmPath: SOFTHSM_LIB, devTokenDir: store.dir });
const { call, ok, loadLibrary } = handlerCalls(h);
after(() => {
  h.state.endCeremony();
  store.cleanup();
});

/** The token's objects as pkcs11-tool (not our code) lists them after a login with `pin`. */
function objectsOnToken(label: string, pin: string): string {
  return execFileSync('pkcs11-tool', ['--module', SOFTHSM_LIB, '--token-label', label, '--login', '--pin', pin, '--list-objects'], { env: store.env, encoding: 'utf8' });
}

async function slotOf(s: string): Promise<string> {
  const slots = await ok('listSlots');
  return slots.slots.find((x: { token: { serial: string } | null }) => x.token?.serial === s).slotId;
}

test('initToken on an initialized token: refused unless re-initialization is chosen, its label typed and main asked; nothing wiped on a refusal', async () => {
  await ok('openCeremony', { operator: 'Alice Operator', witnesses: ['Bob Witness'], purpose: 'hostile re-initialization' });
  await ok('confirmPreflight', preflightConfirmation('Bob Witness'));
  await loadLibrary(SOFTHSM_LIB);
  // Loading the library was confirmed; from here only the token-initialization questions count.
  h.confirmations.length = 0;
  await ok('openToken', { serial });
  await ok('login', { pin: USER_PIN });
  const gen = await ok('generateKey', { algorithm: 'ec-p256', label: 'root-key' });
  const keyBefore = objectsOnToken('Victim CA', USER_PIN);
  assert.match(keyBefore, /label:\s+root-key/);
  const slotId = await slotOf(serial);
  const base = { slotId, label: 'Attacker Token', soPin: SO_PIN, userPin: NEW_USER };
  const intact = (what: string) => {
    assert.equal(objectsOnToken('Victim CA', USER_PIN), keyBefore, `${what}: the token, its key and its user PIN are as they were`);
  };

  // 1. No re-initialization chosen: refused from what main reads on the token, no question asked.
  let r = await call('initToken', base);
  assert.equal(r.error?.code, 'TOKEN_ALREADY_INITIALIZED');
  assert.match(r.error!.message, /"Victim CA" \(serial [0-9a-f]+\).*already initialized.*destroys every key/);
  assert.equal(h.confirmations.length, 0);
  intact('without reinitialize');
  assert.equal(h.state.session?.isLoggedIn, true, 'the ceremony session was left alone');

  // 2. The renderer claims the re-initialization but types another label: refused, no question.
  r = await call('initToken', { ...base, reinitialize: true, confirmLabel: 'Attacker Token' });
  assert.equal(r.error?.code, 'INPUT_INVALID');
  assert.match(r.error!.message, /type its current label exactly \("Victim CA"\)/);
  r = await call('initToken', { ...base, reinitialize: true });
  assert.equal(r.error?.code, 'INPUT_INVALID', 'reinitialize without the label typed');
  assert.equal(h.confirmations.length, 0);
  intact('with the wrong label');

  // 3. Label right, but the operator says no in main's dialog: nothing is sent to the token.
  h.answers.confirm = false;
  r = await call('initToken', { ...base, reinitialize: true, confirmLabel: 'Victim CA' });
  assert.equal(r.error?.code, 'TOKEN_ALREADY_INITIALIZED');
  assert.match(r.error!.message, /not confirmed: nothing was sent/);
  assert.equal(h.confirmations.length, 1);
  const q = h.confirmations[0];
  assert.equal(q.kind, 'reinitialize-token');
  assert.match(q.title, /Re-initialize token “Victim CA” and destroy every key/);
  const fact = (label: string) => q.facts.find((f) => f.label === label)?.value;
  assert.equal(fact('Token'), 'Victim CA');
  assert.equal(fact('Serial'), serial);
  // Counted while the ceremony is logged in to the token: the key's two halves.
  assert.equal(fact('Objects on it'), '2, its keys included (counted while logged in): all are destroyed');
  assert.equal(fact('New label'), 'Attacker Token');
  intact('declined in main');
  assert.equal(h.state.session?.isLoggedIn, true, 'a declined question leaves the ceremony session logged in');
  // The dialog failing counts as no.
  h.answers.confirm = () => { throw new Error('the dialog went away'); };
  assert.equal((await call('initToken', { ...base, reinitialize: true, confirmLabel: 'Victim CA' })).error?.code, 'TOKEN_ALREADY_INITIALIZED');
  intact('the dialog failed');

  // 4. Yes, but a wrong SO PIN: checked by an SO login before anything is destroyed.
  h.answers.confirm = true;
  r = await call('initToken', { ...base, soPin: WRONG_SO, reinitialize: true, confirmLabel: 'Victim CA' });
  // Main's pause runs from the wrong answer, so the checks below (which take time) count in it.
  const refusedAt = Date.now();
  assert.equal(r.error?.code, 'PIN_INCORRECT');
  assert.match(r.error!.message, /SO PIN is incorrect.*nothing on it was destroyed/);
  intact('wrong SO PIN');
  assert.equal(h.state.session, null, 'the ceremony session on the token was closed before the SO PIN was sent');

  // 5. The next attempt waits after a wrong SO PIN, then succeeds: everything on the token is gone.
  // (On an initialized token C_InitToken keeps the SO PIN it checks: the SO PIN given is the current one.)
  r = await call('initToken', { ...base, reinitialize: true, confirmLabel: 'Victim CA' });
  const waited = Date.now() - refusedAt;
  assert.ok(waited >= WRONG_PIN_PAUSE_MS - 50, `the attempt after a wrong SO PIN came ${waited} ms after the refusal`);
  assert.equal(r.ok, true, JSON.stringify(r.error));
  assert.equal(r.value.reinitialized, true);
  assert.equal(r.value.slot.token.label, 'Attacker Token');
  // SoftHSM2 marks the SO PIN's count low after the wrong one; the operator is told.
  if (r.value.warnings.length > 1) assert.match(r.value.warnings.join(' '), /wrong SO PIN was entered recently/);
  const listed = objectsOnToken('Attacker Token', NEW_USER);
  assert.doesNotMatch(listed, /root-key/, 'the old key is gone');
  assert.throws(() => objectsOnToken('Victim CA', USER_PIN), 'the old label is gone');

  // The record: every refusal with its code and the operator's answers; the wipe with what was there.
  const j = await ok('readJournal');
  const events = j.pending.filter((e: { kind: string }) => e.kind.startsWith('token.init'));
  assert.deepEqual(events.map((e: { kind: string; facts: Record<string, unknown> }) => `${e.kind}:${e.facts.code ?? ''}:${(e.facts.answers as { reinitialize?: string } | undefined)?.reinitialize ?? e.facts.reinitialize ?? ''}`), [
    'token.init.failed:TOKEN_ALREADY_INITIALIZED:false',
    'token.init.failed:INPUT_INVALID:true',
    'token.init.failed:INPUT_INVALID:true',
    'token.init.failed:TOKEN_ALREADY_INITIALIZED:declined',
    'token.init.failed:TOKEN_ALREADY_INITIALIZED:declined',
    'token.init.failed:PIN_INCORRECT:confirmed',
    'token.initialized::confirmed',
  ]);
  for (const e of events.slice(0, 6)) assert.equal(e.facts.serial, serial, 'each refusal names the token it protected');
  const done = events[6].facts;
  assert.equal(done.reinitialized, true);
  assert.equal(done.previousLabel, 'Victim CA');
  assert.equal(done.previousSerial, serial);
  // By then the ceremony session was closed (step 4): only the public half of the key was visible.
  assert.deepEqual(done.objectsBefore, { count: 1, includesPrivate: false });
  assert.match(h.confirmations.at(-1)!.facts.find((f) => f.label === 'Objects on it')!.value, /^1 visible without a login \(public objects\); its private keys are not visible before a login and are destroyed too$/);
  assert.ok(gen.key.fingerprint);
  const everything = JSON.stringify({ j, confirmations: h.confirmations });
  for (const c of CANARIES) assert.equal(everything.includes(c), false, 'no PIN in the record or the questions');
});

test('a fresh token is initialized without a question; its label must stay unique', async () => {
  const slots = await ok('listSlots');
  const free = slots.slots.find((s: { tokenPresent: boolean; token: { flags: Record<string, boolean> } | null }) => s.tokenPresent && s.token && !s.token.flags.initialized);
  const asked = h.confirmations.length;
  const dup = await call('initToken', { slotId: free.slotId, label: 'Attacker Token', soPin: SO_PIN, userPin: USER_PIN });
  assert.equal(dup.error?.code, 'INPUT_INVALID');
  const r = await ok('initToken', { slotId: free.slotId, label: 'Second Token', soPin: SO_PIN, userPin: USER_PIN });
  assert.equal(r.reinitialized, false);
  assert.equal(h.confirmations.length, asked, 'nothing to destroy, nothing to ask');
});
