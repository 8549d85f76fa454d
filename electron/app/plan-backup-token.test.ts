/**
 * A plan with steps on its backup token, walked in the app through the handler table against two
 * real SoftHSM2 tokens in one store (and a third, unrelated one): one token open at a time, main
 * learns which token is the plan's ca token and which its backup token from the first step on
 * each, refuses a step on the other token (PLAN_WRONG_TOKEN) unless a 'changed' deviation was
 * recorded, and journals which token played which role. pkcs11-tool (OpenSC), not our code, reads
 * which keys landed on which token.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeSoftHsmStore, SOFTHSM_LIB } from '../../test/softhsm';
import { appOnStore } from '../../test/app-on-store';
import { preflightConfirmation } from '../../test/handler-calls';
import { readJournal, type JournalEntry } from '../core/journal/journal';

const store = makeSoftHsmStore();
process.env.SOFTHSM2_CONF = store.conf;
const PIN = 'backup-plan-ca-pin-1234';
const OTHER_PIN = 'backup-plan-other-pin-1';
const BACKUP_PIN = 'backup-plan-bk-pin-12345';
const caSerial = store.initToken('CA Token', 'backup-plan-ca-so-1234', PIN);
const otherSerial = store.initToken('Other Token', 'backup-plan-other-so-1', OTHER_PIN);
const { work, h, call, ok, dirId, loadLibrary } = appOnStore(store, 'plan-backup');

const PLAN = `version: 1
ceremony:
  id: APP-BACKUP-2027
  purpose: A root key with its backup token prepared in the same ceremony
  location: Secure room B
participants:
  - { name: Alice Martin, role: operator }
  - { name: Bruno Keller, role: witness }
steps:
  - { id: root-key, type: key, token: ca, label: bk-root, algorithm: ec-p384 }
  - { id: init-backup, type: token-init, token: backup }
  - { id: backup-key, type: key, token: backup, label: bk-backup, algorithm: ec-p256 }
  - { id: root, type: root, key: root-key, profile: ec/root-ca, variables: { cn: Backup Plan Root }, out: root }
  - { id: spare-key, type: key, token: backup, label: bk-spare, algorithm: ec-p256 }
`;

/** The private keys' labels on a token, as OpenSC's pkcs11-tool lists them (independent of our PKCS#11 code). */
function privateKeyLabels(tokenLabel: string, pin: string): string[] {
  const out = execFileSync('pkcs11-tool', ['--module', SOFTHSM_LIB, '--token-label', tokenLabel, '--login', '--pin', pin, '--list-objects', '--type', 'privkey'], { env: store.env, encoding: 'utf8' });
  return [...out.matchAll(/^\s*label:\s*(.*)$/gm)].map((m) => m[1].trim()).sort();
}

const ack = () => ok('acknowledgeStep', { witness: 'Bruno Keller' });
const switchTo = async (serial: string, pin: string) => {
  await ok('closeToken');
  await ok('openToken', { serial });
  await ok('login', { pin });
};

test('a plan\'s backup token in the app: one token open at a time, each step only on its token (unless a changed deviation says otherwise), the roles on the record', async () => {
  writeFileSync(join(work, 'plan.yaml'), PLAN);
  h.answers.planFile = join(work, 'plan.yaml');
  const { plan } = await ok('openPlan');
  assert.deepEqual(plan.steps.map((s: { notInApp: string | null }) => s.notInApp), [null, null, null, null, null], 'the app does the backup token\'s steps');
  assert.deepEqual(plan.steps.map((s: { token: string | null }) => s.token), ['ca', 'backup', 'backup', 'ca', 'backup']);
  assert.equal(plan.steps[3].keyLabel, 'bk-root');
  await ok('startPlan', { sha256: plan.sha256 });
  await ok('confirmPreflight', preflightConfirmation('Bruno Keller'));
  await loadLibrary(SOFTHSM_LIB);

  // Step 1 on the token the operator opens: it becomes the plan's ca token.
  await ok('openToken', { serial: caSerial });
  await ok('login', { pin: PIN });
  await ok('generateKey', { algorithm: 'ec-p384', label: 'bk-root' });
  await ack();
  assert.deepEqual((await ok('planState')).tokens, { ca: { serial: caSerial, label: 'CA Token' }, backup: null });

  // Step 2: the backup token's initialization never wipes the ca token, even when asked to and confirmed.
  const slots = (await ok('listSlots')).slots as Array<{ slotId: string; tokenPresent: boolean; token: { serial: string; flags: Record<string, boolean> } | null }>;
  const caSlot = slots.find((s) => s.token?.serial === caSerial)!;
  const wipe = await call('initToken', { slotId: caSlot.slotId, label: 'Backup Token', soPin: 'backup-plan-bk-so-1234', userPin: BACKUP_PIN, reinitialize: true, confirmLabel: 'CA Token' });
  assert.equal(wipe.error?.code, 'PLAN_WRONG_TOKEN');
  assert.match(wipe.error!.message, /holds the plan's CA token “CA Token”/);
  assert.deepEqual(privateKeyLabels('CA Token', PIN), ['bk-root'], 'the ca token keeps its key');
  const blank = slots.find((s) => s.tokenPresent && s.token && !s.token.flags.initialized)!;
  const init = await ok('initToken', { slotId: blank.slotId, label: 'Backup Token', soPin: 'backup-plan-bk-so-1234', userPin: BACKUP_PIN });
  const backupSerial = init.slot.token.serial as string;
  assert.notEqual(backupSerial, caSerial);
  await ack();
  assert.deepEqual((await ok('planState')).tokens.backup, { serial: backupSerial, label: 'Backup Token' });

  // Step 3 with the ca token still open: refused, nothing made on it; the plan screen is told to switch.
  const st3 = await ok('planState');
  assert.deepEqual(st3.tokenSwitch, { to: 'backup', open: { serial: caSerial, label: 'CA Token', role: 'ca' } });
  const onCa = await call('generateKey', { algorithm: 'ec-p256', label: 'bk-backup' });
  assert.equal(onCa.error?.code, 'PLAN_WRONG_TOKEN');
  assert.match(onCa.error!.message, /step 3 of 5 .* is on the plan's backup token, but the open token “CA Token” .* is the plan's CA token/);
  assert.deepEqual(privateKeyLabels('CA Token', PIN), ['bk-root'], 'the refused step left the ca token unchanged');
  // Nor on a third token: the backup token is the one step 2 initialized.
  await switchTo(otherSerial, OTHER_PIN);
  assert.equal((await ok('planState')).tokenSwitch.open.role, null);
  assert.equal((await call('generateKey', { algorithm: 'ec-p256', label: 'bk-backup' })).error?.code, 'PLAN_WRONG_TOKEN');
  assert.deepEqual(privateKeyLabels('Other Token', OTHER_PIN), []);
  // Log out and open the backup token: the ceremony goes on (closeToken ends the session only).
  await switchTo(backupSerial, BACKUP_PIN);
  const st3b = await ok('planState');
  assert.deepEqual([st3b.active, st3b.current, st3b.tokenSwitch], [true, 2, null]);
  await ok('generateKey', { algorithm: 'ec-p256', label: 'bk-backup' });
  await ack();

  // Step 4, the root, is on the ca token: refused with the backup token open; after switching back, its key is chosen again.
  assert.deepEqual((await ok('planState')).tokenSwitch, { to: 'ca', open: { serial: backupSerial, label: 'Backup Token', role: 'backup' } });
  const rootDir = join(work, 'root');
  const onBackup = await call('previewCa', { profile: 'ec/root-ca', vars: { cn: 'Backup Plan Root' }, dirId: await dirId('new-ca', rootDir) });
  assert.equal(onBackup.error?.code, 'PLAN_WRONG_TOKEN');
  assert.match(onBackup.error!.message, /step 4 of 5 .* is on the plan's CA token/);
  await switchTo(caSerial, PIN);
  assert.equal((await ok('planState')).tokenSwitch, null);
  // A key choice goes with the session: the root's own key is chosen again (not a key step: the plan stays at step 4).
  const rootKey = (await ok('listKeys')).keys.find((k: { label: string }) => k.label === 'bk-root');
  await ok('selectKey', { label: rootKey.label, id: rootKey.id });
  assert.equal((await ok('planState')).current, 3);
  // Another key of the token is still a key step the plan is not at.
  assert.equal((await call('selectKey', { label: 'bk-other', id: rootKey.id })).error?.code, 'PLAN_STEP_MISMATCH');
  const req = await ok('previewCa', { profile: 'ec/root-ca', vars: { cn: 'Backup Plan Root' }, dirId: await dirId('new-ca', rootDir) });
  const root = (await ok('sign', { requestId: req.id })).issued;
  assert.equal(root.dir, rootDir);
  await ack();

  // Step 5 is on the backup token; a 'changed' deviation lets it be done on the ca token, and says so.
  assert.equal((await call('generateKey', { algorithm: 'ec-p256', label: 'bk-spare' })).error?.code, 'PLAN_WRONG_TOKEN');
  const NOTE = 'The backup token is locked away already; the spare key goes on the CA token.';
  await ok('recordDeviation', { kind: 'changed', note: NOTE });
  await ok('generateKey', { algorithm: 'ec-p256', label: 'bk-spare' });
  await ack();
  const done = await ok('planState');
  assert.deepEqual(done.status, ['done', 'done', 'done', 'done', 'done']);
  assert.deepEqual(done.tokens, { ca: { serial: caSerial, label: 'CA Token' }, backup: { serial: backupSerial, label: 'Backup Token' } }, 'a deviated step teaches no role');
  await ok('closeCeremony');

  // Which key is on which token, read by OpenSC.
  assert.deepEqual(privateKeyLabels('CA Token', PIN), ['bk-root', 'bk-spare']);
  assert.deepEqual(privateKeyLabels('Backup Token', BACKUP_PIN), ['bk-backup']);
  assert.deepEqual(privateKeyLabels('Other Token', OTHER_PIN), []);

  // The record says which token was the backup, as `qpki ceremony run` does (role on the token's entries).
  const j = readJournal(rootDir);
  const completed = (id: string) => j.find((e) => e.kind === 'plan.step.completed' && e.facts.id === id)!.facts;
  const roleOf = (id: string) => [completed(id).tokenRole, completed(id).tokenSerial];
  assert.deepEqual(['root-key', 'init-backup', 'backup-key', 'root', 'spare-key'].map(roleOf),
    [['ca', caSerial], ['backup', backupSerial], ['backup', backupSerial], ['ca', caSerial], ['backup', caSerial]]);
  const facts = (kind: string, f: (e: JournalEntry) => boolean) => j.filter((e) => e.kind === kind && f(e)).map((e) => e.facts);
  assert.equal(facts('token.initialized', (e) => e.facts.serial === backupSerial)[0].role, 'backup');
  assert.deepEqual(facts('key.generated', () => true).map((f) => [f.label, f.role, f.tokenSerial]), [['bk-root', 'ca', caSerial], ['bk-backup', 'backup', backupSerial], ['bk-spare', 'ca', caSerial]], 'each key with the role of the token it is on');
  assert.deepEqual(facts('token.chosen', () => true).map((f) => [f.serial, f.role]), [[caSerial, undefined], [otherSerial, undefined], [backupSerial, 'backup'], [caSerial, 'ca']]);
  assert.deepEqual(facts('plan.step.started', (e) => e.facts.id === 'spare-key').at(-1)!.differsFromPlan, [`the open token “CA Token” (serial ${caSerial}) is the plan's CA token, not the plan's backup token “Backup Token” (serial ${backupSerial})`]);
  assert.deepEqual(facts('ceremony.deviation', () => true).map((f) => [f.id, f.kind, f.note]), [['spare-key', 'changed', NOTE]]);
  for (const pin of [PIN, BACKUP_PIN, OTHER_PIN]) assert.equal(readFileSync(join(rootDir, 'journal.jsonl'), 'utf8').includes(pin), false, 'no PIN on the record');
});
