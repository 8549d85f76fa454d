/**
 * A PIN never enters the wizard's store: drive the store through token initialization and
 * login (wrong PIN, then right PIN) on a real SoftHSM2 token, through the real handler table,
 * and look for the canary PINs anywhere in the serialized state.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSoftHsmStore, SOFTHSM_LIB } from '../test/softhsm';
import { makeHarness } from '../test/harness/test-harness';
import { preflightConfirmation } from '../test/handler-calls';
import { setApi } from './api';
import { createWizardStore } from './store';
import type { QpkiApi } from '../shared/contract';

const hsm = makeSoftHsmStore();
process.env.SOFTHSM2_CONF = hsm.conf;
const h = makeHarness({ softhsmPath: SOFTHSM_LIB, devTokenDir: hsm.dir });
setApi(h.api() as unknown as QpkiApi);
after(() => {
  h.state.endCeremony();
  hsm.cleanup();
});

const SO_CANARY = 'CANARY-SO-7f3a9c21';
const USER_CANARY = 'CANARY-USER-5be04d88';
const WRONG_CANARY = 'CANARY-WRONG-19ac77e0';

function assertNoCanary(state: unknown, where: string) {
  const text = JSON.stringify(state);
  for (const c of [SO_CANARY, USER_CANARY, WRONG_CANARY]) assert.equal(text.includes(c), false, `${c} found in the store ${where}`);
  // Also no fragment long enough to matter.
  assert.equal(/CANARY/.test(text), false, `a canary fragment is in the store ${where}`);
}

/** The development token card as the operator takes it: names, the preflight confirmed, then the token store. */
async function openWithDevToken(actions: ReturnType<typeof createWizardStore>['actions'], purpose: string): Promise<void> {
  actions.beginDevToken();
  await actions.openCeremony('Alice Operator', ['Bob Witness'], purpose);
  const c = preflightConfirmation('Bob Witness');
  assert.equal(await actions.confirmPreflight(c.witness, c.referenceTime, c.justification), true);
  await actions.continueCeremony();
}

test('no PIN in the store through init, failed login and login', async () => {
  const { store, actions } = createWizardStore();
  const seen: unknown[] = [];
  store.subscribe((s) => seen.push(JSON.parse(JSON.stringify(s))));

  await actions.boot();
  // The development token card: the ceremony step first, then the token store, then the token.
  await openWithDevToken(actions, 'Canary ceremony');
  const s0 = store.getState();
  assert.equal(s0.screen, 'init');
  const free = s0.slots.find((x) => x.tokenPresent && !x.token?.flags.initialized);
  assert.ok(free);
  assert.equal(await actions.initToken(free.slotId, 'canary-token', SO_CANARY, USER_CANARY), true, JSON.stringify(store.getState().error));
  const t = store.getState().initialized?.token;
  assert.equal(t?.label, 'canary-token');
  assertNoCanary(store.getState(), 'after init');

  // The same ceremony goes on with the token.
  store.setState({ purpose: 'ceremony' });
  await actions.openToken(t!.serial, t!.label);
  assert.equal(store.getState().screen, 'pin');
  assert.equal(await actions.login(WRONG_CANARY), false);
  assert.equal(store.getState().error?.code, 'PIN_INCORRECT');
  assertNoCanary(store.getState(), 'after a failed login');

  assert.equal(await actions.login(USER_CANARY), true, JSON.stringify(store.getState().error));
  assert.equal(store.getState().loggedIn, true);
  assert.equal(store.getState().screen, 'key');
  assertNoCanary(store.getState(), 'after login');

  // Every intermediate state, not only the last one.
  assert.ok(seen.length > 5);
  for (const [i, s] of seen.entries()) assertNoCanary(s, `at update ${i}`);

  await actions.endCeremony();
  assert.equal(store.getState().loggedIn, false);
  assert.equal(h.state.session, null);
});

test('no ML-DSA passphrase in the store through a Catalyst root and its CRL', async () => {
  const ALT_CANARY = 'CANARY-MLDSA-3e9d1f02';
  const { store, actions } = createWizardStore();
  const seen: string[] = [];
  store.subscribe((s) => seen.push(JSON.stringify(s)));
  await actions.boot();
  await openWithDevToken(actions, 'Canary hybrid ceremony');
  const free = store.getState().slots.find((x) => x.tokenPresent && !x.token?.flags.initialized)!;
  assert.equal(await actions.initToken(free.slotId, 'canary-hybrid', SO_CANARY, USER_CANARY), true);
  store.setState({ purpose: 'ceremony' });
  await actions.openToken(store.getState().initialized!.token!.serial, 'canary-hybrid');
  assert.equal(await actions.login(USER_CANARY), true);
  await actions.generateKey('ec-p384', 'hybrid-key');
  await actions.chooseProfile('hybrid/catalyst/root-ca');
  assert.equal(store.getState().profile?.family, 'hybrid');
  actions.setVar('cn', 'Canary Hybrid');
  const work = mkdtempSync(join(tmpdir(), 'qpki-store-'));
  after(() => rmSync(work, { recursive: true, force: true }));
  h.answers.directory = join(work, 'ca');
  await actions.chooseDirectory('new-ca');
  h.answers.directory = null;
  await actions.preview();
  assert.equal(store.getState().review?.altSignatureAlgorithm, 'ml-dsa-87', JSON.stringify(store.getState().error));
  await actions.sign(undefined, ALT_CANARY);
  assert.equal(store.getState().screen, 'result', JSON.stringify(store.getState().error));
  assert.deepEqual(store.getState().issued!.certificate.signatures.map((s) => s.valid), [true, true]);
  await actions.startIssue('crl');
  await actions.prepareCrl(7);
  assert.equal(store.getState().review?.purpose, 'crl', JSON.stringify(store.getState().error));
  await actions.sign(undefined, ALT_CANARY);
  assert.ok(store.getState().crl, JSON.stringify(store.getState().error));
  for (const [i, s] of seen.entries()) assert.equal(s.includes('CANARY-MLDSA'), false, `the ML-DSA passphrase is in the store at update ${i}`);
  await actions.endCeremony();
});
