/**
 * A plan's `csr` step in the app, through the handler table against a real SoftHSM2 token: the
 * request for an external parent is made with the key the plan's key step made, reviewed from
 * the exact CertificationRequestInfo, signed by the token after main's confirmation, verified and
 * written to the step's out under the ceremony's output folder; OpenSSL checks it. Refused outside
 * a ceremony, before its step, with another profile or variables (unless a 'changed' deviation),
 * and over a file that exists (at preparation, and at writing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeSoftHsmStore, SOFTHSM_LIB } from '../../test/softhsm';
import { appOnStore } from '../../test/app-on-store';
import { preflightConfirmation } from '../../test/handler-calls';
import { readJournal } from '../core/journal/journal';
import { parseAndVerifyCsr } from '../core/x509/csr';

const store = makeSoftHsmStore();
process.env.SOFTHSM2_CONF = store.conf;
const PIN = 'plan-csr-user-pin-1234';
const serial = store.initToken('Plan CSR', 'plan-csr-so-pin-1234', PIN);
const { work, h, call, ok, loadLibrary } = appOnStore(store, 'plan-csr');

function openssl(args: string[]): { code: number; out: string; stdout: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const hex = (s: string) => s.replace(/[^0-9a-f]/gi, '').toLowerCase();
const CN = 'Issuing CA for an external parent';
const PLAN = `version: 1
ceremony: { id: APP-CSR-2027, purpose: A key for an issuing CA and its request to the partner root, location: Secure room B }
participants:
  - { name: Alice Martin, role: operator }
  - { name: Bruno Keller, role: witness }
steps:
  - { id: ext-key, type: key, token: ca, label: external-issuing, algorithm: ec-p256 }
  - { id: ext-csr, type: csr, key: ext-key, profile: ec/issuing-ca, variables: { cn: ${CN}, organization: Example Corp. }, out: requests/issuing.csr }
`;
const VARS = { cn: CN, organization: 'Example Corp.' };

/** A folder as the operator picks it in main's dialog, for the given purpose. */
async function folder(purpose: 'plan-output' | 'new-ca', path: string): Promise<string> {
  h.answers.directory = path;
  const r = await ok('chooseDirectory', { purpose });
  h.answers.directory = null;
  return r.dirId as string;
}

/** The SHA-256 of a request's public key, as OpenSSL reads it out of the file. */
function opensslKeySha256(csrFile: string): string {
  const pem = openssl(['req', '-in', csrFile, '-noout', '-pubkey']).stdout;
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return sha256(der);
}

test('a plan\'s csr step in the app: the key step\'s key signs the plan\'s subject; OpenSSL verifies the request; refused outside a ceremony, before its step, and with another profile or variables; journaled as the run journals it', async () => {
  const planFile = join(work, 'plan.yaml');
  writeFileSync(planFile, PLAN);
  const out = join(work, 'out');
  const csrFile = join(out, 'requests', 'issuing.csr');

  // Outside a ceremony main prepares nothing, whatever the renderer names.
  const outside = await call('preparePlanCsr', { dirId: await folder('plan-output', out), profile: 'ec/issuing-ca', vars: VARS });
  assert.equal(outside.error?.code, 'CEREMONY_NOT_OPEN', JSON.stringify(outside.error));
  assert.equal(existsSync(csrFile), false);

  h.answers.planFile = planFile;
  const { plan } = await ok('openPlan');
  assert.deepEqual(plan.steps.map((s: { notInApp: string | null }) => s.notInApp), [null, null], 'the app does the csr step itself');
  await ok('startPlan', { sha256: plan.sha256 });
  await ok('confirmPreflight', preflightConfirmation('Bruno Keller'));
  await loadLibrary(SOFTHSM_LIB);
  await ok('openToken', { serial });
  await ok('login', { pin: PIN });
  const outId = await folder('plan-output', out);
  // Not yet its step: the plan is at its key step.
  assert.equal((await call('preparePlanCsr', { dirId: outId, profile: 'ec/issuing-ca', vars: VARS })).error?.code, 'PLAN_STEP_MISMATCH');
  const key = (await ok('generateKey', { algorithm: 'ec-p256', label: 'external-issuing' })).key;
  await ok('acknowledgeStep', { witness: 'Bruno Keller' });

  // What the plan does not say is refused: another subject, another profile, a folder chosen for another purpose.
  const otherVars = await call('preparePlanCsr', { dirId: outId, profile: 'ec/issuing-ca', vars: { ...VARS, cn: 'Not The Plan' } });
  assert.equal(otherVars.error?.code, 'PLAN_STEP_MISMATCH');
  assert.match(otherVars.error!.message, /variable cn is not the plan's/);
  const otherProfile = await call('preparePlanCsr', { dirId: outId, profile: 'br/ec/tls-issuing-ca', vars: VARS });
  assert.equal(otherProfile.error?.code, 'PLAN_STEP_MISMATCH');
  assert.match(otherProfile.error!.message, /profile br\/ec\/tls-issuing-ca instead of the plan's ec\/issuing-ca/);
  assert.equal((await call('preparePlanCsr', { dirId: await folder('new-ca', out), profile: 'ec/issuing-ca', vars: VARS })).error?.code, 'INPUT_INVALID');
  assert.equal(existsSync(csrFile), false, 'nothing written by a refusal');

  const req = await ok('preparePlanCsr', { dirId: outId, profile: 'ec/issuing-ca', vars: VARS });
  assert.equal(req.kind, 'csr');
  assert.equal(req.document.title, `Certificate request to sign: CN=${CN}, O=Example Corp.`);
  assert.equal(req.subject, `CN=${CN}, O=Example Corp.`);
  assert.equal(req.targetDir, csrFile);
  assert.equal(hex(req.keyFingerprint), hex(key.fingerprint), 'the reviewed key is the key step\'s');
  assert.match(req.signedBy, /key “external-issuing” .* in token “Plan CSR”/);

  // Declined in main's dialog: nothing signed, nothing written; the same request signs once confirmed.
  h.answers.confirm = false;
  assert.equal((await call('sign', { requestId: req.id })).error?.code, 'NOT_CONFIRMED');
  assert.equal(existsSync(csrFile), false);
  h.answers.confirm = true;
  const asked = h.confirmations.length;
  const signed = await ok('sign', { requestId: req.id });
  const question = h.confirmations[asked];
  assert.equal(question.kind, 'sign');
  assert.ok(question.facts.some((f) => f.label === 'To-be-signed SHA-256' && f.value === req.tbsSha256));
  assert.equal(signed.kind, 'csr');
  assert.equal(signed.savedTo, csrFile);

  // OpenSSL: the signature verifies with the key in the request, which is the token key; the subject is the plan's.
  const verified = openssl(['req', '-in', csrFile, '-verify', '-noout']);
  assert.equal(verified.code, 0, verified.out);
  assert.match(verified.out, /verif(y|ication) OK/i);
  assert.match(openssl(['req', '-in', csrFile, '-noout', '-subject']).stdout, new RegExp(`CN ?= ?${CN}.*O ?= ?Example Corp\\.|O ?= ?Example Corp\\..*CN ?= ?${CN}`));
  assert.equal(opensslKeySha256(csrFile), hex(key.fingerprint), 'the request carries the key the plan\'s key step made');
  const parsed = parseAndVerifyCsr(readFileSync(csrFile));
  assert.equal(sha256(parsed.info), hex(req.tbsSha256), 'the token signed exactly the reviewed CertificationRequestInfo');
  assert.equal(hex(signed.sha256), sha256(parsed.der));
  assert.equal(hex(signed.fileSha256), sha256(readFileSync(csrFile)));

  await ok('acknowledgeStep', { witness: 'Bruno Keller' });
  assert.deepEqual((await ok('planState')).status, ['done', 'done']);
  const closed = await ok('closeCeremony');
  const j = readJournal(closed.dir);
  const created = j.filter((e) => e.kind === 'csr.created');
  assert.equal(created.length, 1);
  // Held until the ceremony had a journal (no CA directory in this plan): the time it happened is kept beside the facts.
  const { observedAt, ...facts } = created[0].facts as Record<string, unknown>;
  assert.ok(typeof observedAt === 'string');
  assert.deepEqual(facts, { step: 'ext-csr', subject: `CN=${CN}, O=Example Corp.`, key: { token: 'Plan CSR', label: 'external-issuing', id: key.id }, csrSha256: sha256(parsed.der), out: 'requests/issuing.csr' });
  assert.deepEqual(j.filter((e) => e.kind === 'plan.step.completed').map((e) => e.facts.id), ['ext-key', 'ext-csr']);
  assert.equal(j.filter((e) => e.kind === 'ceremony.deviation').length, 0);
  assert.equal(readFileSync(join(closed.dir, 'journal.jsonl'), 'utf8').includes(PIN), false, 'no PIN on the record');
});

test('the same plan again into the same folder: refused (OUTPUT_EXISTS) before anything is signed, the first request untouched; a \'changed\' deviation lets another subject through; a file appearing after the review is not overwritten either', async () => {
  const planFile = join(work, 'plan.yaml');
  const out = join(work, 'out');
  const csrFile = join(out, 'requests', 'issuing.csr');
  const first = readFileSync(csrFile);
  const firstMtime = statSync(csrFile).mtimeMs;
  h.answers.planFile = planFile;
  const { plan } = await ok('openPlan');
  await ok('startPlan', { sha256: plan.sha256 });
  await ok('confirmPreflight', preflightConfirmation('Bruno Keller'));
  await loadLibrary(SOFTHSM_LIB);
  await ok('openToken', { serial });
  await ok('login', { pin: PIN });
  // The key of the first ceremony, used again: a change of the plan, with its note.
  await ok('recordDeviation', { kind: 'changed', note: 'The witnesses agreed to reuse the key made in the first ceremony.' });
  const key = (await ok('listKeys')).keys.find((k: { label: string }) => k.label === 'external-issuing');
  await ok('selectKey', { label: key.label, id: key.id });
  await ok('acknowledgeStep', { witness: 'Bruno Keller' });

  const again = await call('preparePlanCsr', { dirId: await folder('plan-output', out), profile: 'ec/issuing-ca', vars: VARS });
  assert.equal(again.error?.code, 'OUTPUT_EXISTS', JSON.stringify(again.error));
  assert.deepEqual(readFileSync(csrFile), first, 'the first request is untouched');
  assert.equal(statSync(csrFile).mtimeMs, firstMtime);

  // Another subject, with a 'changed' deviation recorded for this step, into another folder.
  await ok('recordDeviation', { kind: 'changed', note: 'The partner asked for the name with the 2027 suffix.' });
  const out2 = join(work, 'out2');
  const changed = await ok('preparePlanCsr', { dirId: await folder('plan-output', out2), profile: 'ec/issuing-ca', vars: { ...VARS, cn: `${CN} 2027` } });
  assert.equal(changed.subject, `CN=${CN} 2027, O=Example Corp.`);
  // A file that appears at the target after the review is not overwritten when signing.
  const target = join(out2, 'requests', 'issuing.csr');
  mkdirSync(join(out2, 'requests'), { recursive: true });
  writeFileSync(target, 'not a request\n');
  const late = await call('sign', { requestId: changed.id });
  assert.equal(late.error?.code, 'OUTPUT_EXISTS', JSON.stringify(late.error));
  assert.equal(readFileSync(target, 'utf8'), 'not a request\n');
  assert.deepEqual((await ok('planState')).status, ['done', 'pending'], 'the step is not done');

  // Moved aside, prepared again and signed: the changed subject, verified by OpenSSL.
  rmSync(target);
  const retry = await ok('preparePlanCsr', { dirId: await folder('plan-output', out2), profile: 'ec/issuing-ca', vars: { ...VARS, cn: `${CN} 2027` } });
  await ok('sign', { requestId: retry.id });
  assert.equal(openssl(['req', '-in', target, '-verify', '-noout']).code, 0);
  assert.match(openssl(['req', '-in', target, '-noout', '-subject']).stdout, /2027/);
  await ok('acknowledgeStep', { witness: 'Bruno Keller' });
  const closed = await ok('closeCeremony');
  const j = readJournal(closed.dir);
  const started = j.filter((e) => e.kind === 'plan.step.started' && e.facts.id === 'ext-csr').at(-1)!;
  assert.deepEqual(started.facts.differsFromPlan, ['variable cn is not the plan\'s']);
  assert.equal(j.filter((e) => e.kind === 'signing.failed' && e.facts.code === 'OUTPUT_EXISTS').length, 1);
  assert.equal(j.filter((e) => e.kind === 'csr.created').length, 1);
});
