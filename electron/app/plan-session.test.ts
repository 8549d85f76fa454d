/**
 * A ceremony plan walked through the app's handler table, as a hostile or buggy renderer would
 * call it, against a real SoftHSM2 token: main refuses what the plan does not say (another label,
 * profile, variable, CRL lifetime; the next step before a witness acknowledged the last one), and
 * allows a difference only after a 'changed' deviation with a typed note, all on the record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeSoftHsmStore, SOFTHSM_LIB } from '../../test/softhsm';
import { appOnStore } from '../../test/app-on-store';
import { preflightConfirmation } from '../../test/handler-calls';
import { readJournal } from '../core/journal/journal';

const store = makeSoftHsmStore();
process.env.SOFTHSM2_CONF = store.conf;
const PIN = 'plan-app-pin-123456';
const serial = store.initToken('Plan Token', 'plan-app-so-123456', PIN);
const { work, h, call, ok, dirId, loadLibrary } = appOnStore(store, 'plan-app');

const PLAN = `version: 1
ceremony:
  id: APP-ROOT-2027
  purpose: Generate the App Root CA 2027 and publish its first CRL
  location: Secure room B
participants:
  - { name: Alice Martin, role: operator }
  - { name: Bruno Keller, role: witness }
  - { name: Chloe Dubois, role: internal-auditor }
steps:
  - id: root-key
    type: key
    token: ca
    label: app-root-2027
    algorithm: ec-p384
  - id: root
    type: root
    key: root-key
    profile: br/ec/root-ca
    variables:
      cn: App Root CA 2027
      organization: Example Corp.
      country: FR
    out: root-ca
  - id: root-crl
    type: crl
    issuer: root
    nextUpdateDays: 90
    out: root-crl
`;
const planFile = join(work, 'plan.yaml');
writeFileSync(planFile, PLAN);
const VARS = { cn: 'App Root CA 2027', organization: 'Example Corp.', country: 'FR' };

test('a plan is shown with its hash, started only as shown, walked step by step with witnesses; every difference needs a changed deviation', async () => {
  h.answers.planFile = planFile;
  const { plan } = await ok('openPlan');
  assert.equal(plan.sha256, createHash('sha256').update(PLAN).digest('hex'));
  assert.deepEqual(plan.steps.map((s: { n: number; of: number; type: string; notInApp: string | null }) => [s.n, s.of, s.type, s.notInApp]), [[1, 3, 'key', null], [2, 3, 'root', null], [3, 3, 'crl', null]]);

  // Nothing is enforced before the plan starts; a ceremony without the plan blocks its start.
  await ok('openCeremony', { operator: 'Someone', witnesses: ['Else'], purpose: 'unrelated' });
  await ok('confirmPreflight', preflightConfirmation('Else'));
  assert.equal((await call('startPlan', { sha256: plan.sha256 })).error?.code, 'PLAN_STEP_MISMATCH');
  await ok('closeCeremony');
  assert.equal((await call('startPlan', { sha256: '0'.repeat(64) })).error?.code, 'PLAN_INVALID', 'only the plan shown starts');
  const started = await ok('startPlan', { sha256: plan.sha256 });
  await ok('confirmPreflight', preflightConfirmation('Bruno Keller'));
  assert.deepEqual([started.active, started.current, started.status], [true, 0, ['pending', 'pending', 'pending']]);
  assert.deepEqual(h.state.ceremony.participants, { operator: 'Alice Martin', witnesses: ['Bruno Keller', 'Chloe Dubois'] });
  assert.equal((await call('openCeremony', { operator: 'X', witnesses: ['Y'], purpose: 'other' })).error?.code, 'PLAN_STEP_MISMATCH');

  await loadLibrary(SOFTHSM_LIB);
  await ok('openToken', { serial });
  await ok('login', { pin: PIN });
  // Step 1: the key, exactly as the plan says.
  const wrongLabel = await call('generateKey', { algorithm: 'ec-p384', label: 'my-own-label' });
  assert.equal(wrongLabel.error?.code, 'PLAN_STEP_MISMATCH');
  assert.match(wrongLabel.error!.message, /label "my-own-label" instead of the plan's "app-root-2027"/);
  assert.equal((await call('generateKey', { algorithm: 'ec-p256', label: 'app-root-2027' })).error?.code, 'PLAN_STEP_MISMATCH');
  assert.equal((await ok('listKeys')).keys.length, 0, 'a refused step made no key');
  await ok('generateKey', { algorithm: 'ec-p384', label: 'app-root-2027' });
  const dir = join(work, 'root-ca');
  // The next step waits for a witness; the operator is not one.
  assert.equal((await call('previewCa', { profile: 'br/ec/root-ca', vars: VARS, dirId: await dirId('new-ca', dir) })).error?.code, 'PLAN_STEP_MISMATCH');
  assert.equal((await call('acknowledgeStep', { witness: 'Alice Martin' })).error?.code, 'INPUT_INVALID');
  await ok('acknowledgeStep', { witness: 'Bruno Keller' });

  // A software key file instead of the plan's token key is refused too.
  assert.equal((await call('useSoftwareKeystore', { algorithm: 'ec-p384' })).error?.code, 'PLAN_STEP_MISMATCH');
  // Step 2: the root, with the plan's profile and variables only.
  const other = await call('previewCa', { profile: 'br/ec/root-ca', vars: { ...VARS, cn: 'Evil Root' }, dirId: await dirId('new-ca', dir) });
  assert.equal(other.error?.code, 'PLAN_STEP_MISMATCH');
  assert.match(other.error!.message, /variable cn/);
  assert.equal((await call('previewCa', { profile: 'ec/root-ca', vars: { cn: 'App Root CA 2027' }, dirId: await dirId('new-ca', dir) })).error?.code, 'PLAN_STEP_MISMATCH');
  assert.equal((await call('prepareCrl', { days: 90 })).error?.code, 'PLAN_STEP_MISMATCH', 'the CRL is not this step');
  // The CA directory is the plan's out path (root-ca), not any folder the operator picks.
  const elsewhere = await call('previewCa', { profile: 'br/ec/root-ca', vars: VARS, dirId: await dirId('new-ca', join(work, 'root-ca-elsewhere')) });
  assert.equal(elsewhere.error?.code, 'PLAN_STEP_MISMATCH');
  assert.match(elsewhere.error!.message, /is not the plan's root-ca/);
  assert.equal(existsSync(join(work, 'root-ca-elsewhere', 'ca.crt')), false);
  const req = await ok('previewCa', { profile: 'br/ec/root-ca', vars: VARS, dirId: await dirId('new-ca', dir) });
  const signed = await ok('sign', { requestId: req.id });
  assert.equal(signed.issued.dir, dir);
  let st = await ok('planState');
  assert.deepEqual([st.status, st.awaiting, st.current], [['done', 'done', 'pending'], 1, 2]);
  await ok('acknowledgeStep', { witness: 'Chloe Dubois' });

  // Step 3: a CRL with another lifetime than the plan's is refused until a changed deviation is recorded with a note.
  assert.equal((await call('prepareCrl', { days: 30 })).error?.code, 'PLAN_STEP_MISMATCH');
  assert.equal((await call('recordDeviation', { kind: 'changed', note: 'short' })).error?.code, 'INPUT_INVALID');
  const NOTE = 'Witnesses agreed: 30 days, the CRL distribution server is replaced next month.';
  await ok('recordDeviation', { kind: 'changed', note: NOTE });
  const crlReq = await ok('prepareCrl', { days: 30 });
  await ok('sign', { requestId: crlReq.id });
  await ok('acknowledgeStep', { witness: 'Bruno Keller' });
  st = await ok('planState');
  assert.deepEqual([st.status, st.current, st.awaiting, st.deviations], [['done', 'done', 'done'], 3, null, [{ step: 2, kind: 'changed', note: NOTE }]]);
  assert.equal((await call('prepareCrl', { days: 90 })).error?.code, 'PLAN_STEP_MISMATCH', 'nothing after the last step');
  const closed = await ok('closeCeremony');
  assert.equal(closed.intact, true);

  // The record: the plan's hash before the first step, each step started and completed, the deviation with its note, each acknowledgement.
  const j = readJournal(dir);
  const kinds = j.map((e) => e.kind);
  const loaded = j.find((e) => e.kind === 'plan.loaded')!;
  assert.equal(loaded.facts.planSha256, plan.sha256);
  assert.ok(kinds.indexOf('plan.loaded') < kinds.indexOf('key.generated'));
  assert.deepEqual(j.filter((e) => e.kind === 'plan.step.completed').map((e) => e.facts.id), ['root-key', 'root', 'root-crl']);
  const dev = j.filter((e) => e.kind === 'ceremony.deviation');
  assert.deepEqual(dev.map((e) => [e.facts.step, e.facts.id, e.facts.kind, e.facts.note]), [[3, 'root-crl', 'changed', NOTE]]);
  const crlStart = j.filter((e) => e.kind === 'plan.step.started' && e.facts.id === 'root-crl').at(-1)!;
  assert.deepEqual(crlStart.facts.differsFromPlan, ["next update in 30 days instead of the plan's 90"]);
  assert.deepEqual(j.filter((e) => e.kind === 'witness.acknowledged' && e.facts.id !== undefined).map((e) => [e.facts.witness, e.facts.id]), [['Bruno Keller', 'root-key'], ['Chloe Dubois', 'root'], ['Bruno Keller', 'root-crl']]);
  assert.ok(j.every((e) => e.operator === 'Alice Martin'));
  assert.equal(readFileSync(join(dir, 'journal.jsonl'), 'utf8').includes(PIN), false, 'no PIN on the record');
});

test('a skipped step needs a note and moves on after its acknowledgement; a backup token\'s step is one the app does', async () => {
  const p2 = join(work, 'plan2.yaml');
  // The key in the backup token: the app does it too (one token open at a time; the plan screen asks to switch).
  writeFileSync(p2, PLAN.replace('APP-ROOT-2027', 'APP-SKIP-2027').replace('token: ca', 'token: backup'));
  h.answers.planFile = p2;
  const r = await call('openPlan');
  assert.equal(r.ok, true, JSON.stringify(r.error));
  assert.equal(r.value.plan.steps[0].notInApp, null);
  assert.deepEqual(r.value.plan.steps.map((s: { token: string | null }) => s.token), ['backup', 'backup', 'backup'], 'the root and its CRL are on the token of their key');
  await ok('startPlan', { sha256: r.value.plan.sha256 });
  await ok('confirmPreflight', preflightConfirmation('Bruno Keller'));
  assert.equal((await call('recordDeviation', { kind: 'skipped', note: 'too short' })).error?.code, 'INPUT_INVALID');
  await ok('recordDeviation', { kind: 'skipped', note: 'The key is made on the backup HSM in a later ceremony.' });
  const st = await ok('planState');
  assert.deepEqual([st.status[0], st.awaiting, st.current], ['skipped', 0, 1]);
  await ok('acknowledgeStep', { witness: 'Bruno Keller' });
  assert.equal((await ok('planState')).current, 1);
  await ok('endSession');
});

test('a variable the plan leaves to its default is the plan\'s when the form sends that default, and only then', async () => {
  // ec/root-ca's policy_oid defaults to anyPolicy; the wizard's form sends the default the plan leaves out.
  const p3 = join(work, 'plan3.yaml');
  writeFileSync(p3, PLAN.replace('APP-ROOT-2027', 'APP-DEFAULT-2027').replace('label: app-root-2027', 'label: app-default-2027')
    .replace(/profile: br\/ec\/root-ca\n    variables:\n      cn: App Root CA 2027\n      organization: Example Corp.\n      country: FR/, 'profile: ec/root-ca\n    variables:\n      cn: App Default Root'));
  h.answers.planFile = p3;
  const { plan } = await ok('openPlan');
  await ok('startPlan', { sha256: plan.sha256 });
  await ok('confirmPreflight', preflightConfirmation('Bruno Keller'));
  await loadLibrary(SOFTHSM_LIB);
  await ok('openToken', { serial });
  await ok('login', { pin: PIN });
  await ok('generateKey', { algorithm: 'ec-p384', label: 'app-default-2027' });
  await ok('acknowledgeStep', { witness: 'Bruno Keller' });
  const dir = join(work, 'default', 'root-ca');
  const other = await call('previewCa', { profile: 'ec/root-ca', vars: { cn: 'App Default Root', policy_oid: '1.3.6.1.4.1.99999.1' }, dirId: await dirId('new-ca', dir) });
  assert.equal(other.error?.code, 'PLAN_STEP_MISMATCH', 'a policy OID the plan does not give is not the plan\'s');
  assert.match(other.error!.message, /variable policy_oid/);
  const req = await ok('previewCa', { profile: 'ec/root-ca', vars: { cn: 'App Default Root', policy_oid: '2.5.29.32.0' }, dirId: await dirId('new-ca', dir) });
  await ok('sign', { requestId: req.id });
  const j = readJournal(dir);
  assert.equal(j.filter((e) => e.kind === 'plan.step.started' && e.facts.id === 'root').at(-1)!.facts.differsFromPlan, undefined, 'no difference recorded');
  await ok('endSession');
});
