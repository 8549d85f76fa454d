import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { makeSoftHsmStore, SOFTHSM_LIB } from '../../test/softhsm';
import { makeHarness } from '../../test/harness/test-harness';
import { handlerCalls } from '../../test/handler-calls';

// SoftHSM2 reads SOFTHSM2_CONF at C_Initialize (the first loadModule), so this precedes it.
const store = makeSoftHsmStore();
process.env.SOFTHSM2_CONF = store.conf;

const USER_PIN = 'user-pin-1234567';
const h = makeHarness({ softhsmPath: SOFTHSM_LIB, devTokenDir: store.dir });
after(() => {
  h.state.endCeremony();
  store.cleanup();
});

const { call } = handlerCalls(h);

describe('handler table on SoftHSM2', () => {
  test('invalid input is refused with INPUT_INVALID and the value is not echoed', async () => {
    const secret = 'x'.repeat(300);
    const r = await call('login', { pin: secret });
    assert.equal(r.ok, false);
    assert.equal(r.error!.code, 'INPUT_INVALID');
    assert.equal(r.error!.message.includes('xxxxxxxx'), false);
    const r2 = await call('loadModule', { path: '/x' });
    assert.equal(r2.error!.code, 'INPUT_INVALID', 'a library is named by the id main gave, never by a path');
  });

  test('nothing works before a module is loaded', async () => {
    const r = await call('listSlots', {});
    assert.equal(r.error!.code, 'MODULE_LOAD_FAILED');
  });

  test('a missing module is MODULE_LOAD_FAILED; an id main never gave is INPUT_INVALID', async () => {
    h.answers.moduleFile = '/nonexistent/libnothing.so';
    const picked = await call('chooseModuleFile', {});
    h.answers.moduleFile = null;
    assert.deepEqual([picked.value.module.present, picked.value.module.sha256], [false, null]);
    const r = await call('loadModule', { moduleId: picked.value.module.id });
    assert.equal(r.error!.code, 'MODULE_LOAD_FAILED');
    const forged = await call('loadModule', { moduleId: 'module-00112233445566778899aabb' });
    assert.equal(forged.error!.code, 'INPUT_INVALID');
    assert.equal(h.state.module, null);
  });

  test('development token: prepare, initialize, found again by label', async () => {
    const prep = await call('prepareDevToken', {});
    assert.equal(prep.ok, true, JSON.stringify(prep.error));
    assert.ok(prep.value.freeSlotId);
    // Outside a ceremony main initializes nothing: the token stays blank, and no event is held for no one.
    const alone = await call('initToken', { slotId: prep.value.freeSlotId, label: 'ceremony-1', soPin: 'so-pin-123456789', userPin: USER_PIN });
    assert.equal(alone.error?.code, 'CEREMONY_NOT_OPEN');
    assert.match(alone.error!.message, /Nothing was done: initializing a token happens only within an open ceremony/);
    const blank = (await call('listSlots', {})).value.slots.find((s: any) => s.slotId === prep.value.freeSlotId);
    assert.equal(blank.token.flags.initialized, false);
    assert.deepEqual(h.state.ceremony.pendingEvents().filter((e) => e.kind.startsWith('token.')), []);
    assert.equal((await call('openCeremony', { operator: 'Alice Operator', witnesses: ['Bob Witness'], purpose: 'Handler table' })).ok, true);
    const init = await call('initToken', { slotId: prep.value.freeSlotId, label: 'ceremony-1', soPin: 'so-pin-123456789', userPin: USER_PIN });
    assert.equal(init.ok, true, JSON.stringify(init.error));
    assert.equal(init.value.slot.token.label, 'ceremony-1');
    assert.equal(init.value.slot.token.flags.initialized, true);
    assert.deepEqual(init.value.warnings, []);
    const slots = await call('listSlots', {});
    assert.ok(slots.value.slots.some((s: any) => s.token?.label === 'ceremony-1' && s.token.serial === init.value.slot.token.serial));
  });

  test('wrong PIN is PIN_INCORRECT; right PIN logs in; keys generate with read-back; session ends', async () => {
    const slots = await call('listSlots', {});
    const t = slots.value.slots.find((s: any) => s.token?.label === 'ceremony-1').token;
    const open = await call('openToken', { serial: t.serial });
    assert.equal(open.ok, true, JSON.stringify(open.error));
    const bad = await call('login', { pin: 'wrong-pin-000000' });
    assert.equal(bad.error!.code, 'PIN_INCORRECT');
    const notYet = await call('listKeys', {});
    assert.equal(notYet.error!.code, 'NOT_LOGGED_IN');
    const ok = await call('login', { pin: USER_PIN });
    assert.equal(ok.ok, true, JSON.stringify(ok.error));
    const algs = await call('keyAlgorithms', {});
    assert.ok(algs.value.algorithms.includes('ec-p256'));
    const gen = await call('generateKey', { algorithm: 'ec-p256', label: 'ca-key' });
    assert.equal(gen.ok, true, JSON.stringify(gen.error));
    assert.equal(gen.value.key.attributes.sensitive, true);
    assert.equal(gen.value.key.attributes.extractable, false);
    assert.equal(gen.value.testSignature.verified, true);
    const keys = await call('listKeys', {});
    assert.equal(keys.value.keys.length, 1);
    assert.equal(keys.value.keys[0].generated?.where, 'this ceremony', 'the key list says when the key was made');
    assert.deepEqual(keys.value.keys[0].backs, []);
    assert.ok(h.state.session?.isLoggedIn);
    const end = await call('endSession', {});
    assert.equal(end.value.ended, true);
    assert.equal(h.state.session, null);
    const after = await call('listKeys', {});
    assert.equal(after.error!.code, 'SESSION_CLOSED');
  });

  test('a token card: versions, mechanisms with key sizes and flags, and the objects pkcs11-tool lists (public ones before login, the private key after)', async () => {
    const slots = await call('listSlots', {});
    const slot = slots.value.slots.find((s: any) => s.token?.label === 'ceremony-1');
    assert.match(slot.token.hardwareVersion, /^\d+\.\d+$/);
    assert.match(slot.token.firmwareVersion, /^\d+\.\d+$/);
    const m = await call('tokenMechanisms', { slotId: slot.slotId });
    assert.equal(m.ok, true, JSON.stringify(m.error));
    const ecdsa = m.value.details.find((d: any) => d.name === 'CKM_ECDSA');
    assert.ok(ecdsa && ecdsa.maxKeySize >= 384 && ecdsa.flags.includes('sign'), JSON.stringify(ecdsa));
    assert.deepEqual(m.value.details.map((d: any) => d.name), m.value.mechanisms);
    // Not logged in (the session ended): the public half is listed, the private key is not.
    assert.deepEqual(m.value.objects.map((o: any) => [o.kind, o.label, o.keyType, o.private]), [['public key', 'ca-key', 'EC', false]]);
    const tool = execFileSync('pkcs11-tool', ['--module', SOFTHSM_LIB, '--token-label', 'ceremony-1', '--list-objects'], { encoding: 'utf8', env: process.env });
    assert.equal((tool.match(/^(Public Key|Private Key|Certificate|Data|Secret Key) Object/gm) ?? []).length, m.value.objects.length, tool);
    assert.match(tool, new RegExp(`ID:\\s+${m.value.objects[0].id}`));
    await call('openToken', { serial: slot.token.serial });
    await call('login', { pin: USER_PIN });
    const logged = await call('tokenMechanisms', { slotId: slot.slotId });
    assert.deepEqual(logged.value.objects.map((o: any) => [o.kind, o.private]).sort(), [['private key', true], ['public key', false]]);
    assert.equal(h.state.session?.isLoggedIn, true, 'reading the card leaves the ceremony logged in');
    await call('endSession', {});
  });

  test('profiles: only built-ins, with their variables', async () => {
    const list = await call('listProfiles', {});
    assert.ok(list.value.profiles.some((p: any) => p.name === 'ec/root-ca' && p.kind === 'root-ca'));
    assert.ok(list.value.profiles.some((p: any) => p.name === 'ec/tls-server' && p.kind === 'end-entity'));
    const p = await call('getProfile', { name: 'ec/root-ca' });
    assert.ok(p.value.variables.some((v: any) => v.name === 'cn' && v.required));
    const file = await call('getProfile', { name: '/etc/passwd' });
    assert.equal(file.error!.code, 'PROFILE_NOT_FOUND');
    const v = await call('validateVariables', { profile: 'ec/root-ca', vars: { cn: 'Root', country: 'fr' } });
    assert.deepEqual(Object.keys(v.value.errors), ['country']);
  });
});
