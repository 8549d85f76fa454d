/**
 * The wizard's store when the token is pulled out while it signs a CRL for an opened CA, on a
 * real SoftHSM2 token through the real handler table: the reconnect panel opens with the step
 * that will continue, Retry finds the token again, a wrong PIN keeps the panel, the right PIN
 * signs the CRL where it stopped. No PIN enters the store at any moment.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { makeSoftHsmStore, SOFTHSM_LIB } from '../test/softhsm';
import { makeHarness } from '../test/harness/test-harness';
import { setApi } from './api';
import { createWizardStore } from './store';
import type { QpkiApi } from '../shared/contract';
import { handlerCalls, preflightConfirmation } from '../test/handler-calls';

const hsm = makeSoftHsmStore();
process.env.SOFTHSM2_CONF = hsm.conf;
const PIN = 'CANARY-LOSS-3c9d0e71';
const WRONG = 'CANARY-WRONG-88aa01f2';
const serial = hsm.initToken('Loss Token', 'loss-so-pin-123456', PIN);
const h = makeHarness({ softhsmPath: SOFTHSM_LIB, devTokenDir: hsm.dir });
setApi(h.api() as unknown as QpkiApi);
after(() => {
  h.state.endCeremony();
  hsm.cleanup();
});

const { ok, loadLibrary, root } = handlerCalls(h);

test('CRL interrupted by a pulled token: reconnect panel, Retry, PIN again, the CRL signed; no PIN in the store', async () => {
  // A root CA on the token, made beforehand.
  const dir = join(hsm.dir, 'root');
  await ok('openCeremony', { operator: 'Alice Operator', witnesses: ['Bob Witness'], purpose: 'root' });
  await ok('confirmPreflight', preflightConfirmation('Bob Witness'));
  await loadLibrary(SOFTHSM_LIB);
  await ok('openToken', { serial });
  await ok('login', { pin: PIN });
  await ok('generateKey', { algorithm: 'ec-p384', label: 'loss-root' });
  await root('ec/root-ca', { cn: 'Loss Root' }, dir);
  await ok('endSession');

  const { store, actions } = createWizardStore();
  const seen: string[] = [];
  store.subscribe((s) => seen.push(JSON.stringify(s)));
  await actions.boot();
  actions.begin('ca');
  await actions.openCeremony('Alice Operator', ['Bob Witness'], 'CRL after the root ceremony');
  const c = preflightConfirmation('Bob Witness');
  assert.equal(await actions.confirmPreflight(c.witness, c.referenceTime, c.justification), true);
  h.answers.directory = dir;
  const dirId = await actions.chooseDirectory('open-ca');
  h.answers.directory = null;
  await actions.openCa(dirId!);
  await actions.loginForCa();
  assert.equal(store.getState().screen, 'pin');
  assert.equal(await actions.login(PIN), true, JSON.stringify(store.getState().error));
  await actions.startIssue('crl');
  await actions.prepareCrl(7);
  assert.equal(store.getState().review?.purpose, 'crl', JSON.stringify(store.getState().error));

  const [name] = readdirSync(hsm.tokenDir);
  const away = join(hsm.dir, 'away');
  renameSync(join(hsm.tokenDir, name), away);
  try {
    await actions.sign();
    const s = store.getState();
    assert.equal(s.crl, null, 'no CRL');
    assert.equal(s.error, null, 'the loss shows in its own panel, not as a plain error');
    assert.equal(s.loggedIn, false);
    assert.equal(s.lost?.stage, 'reconnect');
    assert.equal(s.lost?.serial, serial);
    assert.equal(s.lost?.resumes, 'Signing the CRL');
    assert.match(s.lost!.message, /Reconnect the token, then press Retry/);
    assert.equal(await actions.reconnectToken(), false);
    assert.match(store.getState().lost!.retryProblem!.code, /^TOKEN_NOT_(FOUND|PRESENT)$/);
  } finally {
    renameSync(away, join(hsm.tokenDir, name));
  }
  assert.equal(await actions.reconnectToken(), true);
  assert.equal(store.getState().lost?.stage, 'pin');
  assert.equal(store.getState().lost?.retryProblem, null);
  assert.equal(await actions.reloginAfterReconnect(WRONG), false);
  assert.equal(store.getState().error?.code, 'PIN_INCORRECT');
  assert.equal(store.getState().lost?.stage, 'pin', 'a wrong PIN keeps the panel, and the step waiting');
  assert.equal(await actions.reloginAfterReconnect(PIN), true, JSON.stringify(store.getState().error));
  const s = store.getState();
  assert.equal(s.lost, null);
  assert.equal(s.loggedIn, true);
  assert.ok(s.crl && existsSync(s.crl.savedTo), 'the CRL was signed where it stopped');
  assert.equal(s.screen, 'issue');
  for (const text of seen) assert.equal(/CANARY/.test(text), false, 'no PIN in the store');
});
