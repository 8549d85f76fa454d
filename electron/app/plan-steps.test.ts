/**
 * The plan steps the app now walks itself, through the handler table against a real SoftHSM2
 * token: a root and a subordinate (from a request file) with the plan's own notBefore/notAfter,
 * and a CRL step that revokes what the plan names. Main takes every date and every revocation
 * from the checked plan; OpenSSL reads the result.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSoftHsmStore, SOFTHSM_LIB } from '../../test/softhsm';
import { makeHarness } from '../../test/harness/test-harness';
import { preflightConfirmation, handlerCalls } from '../../test/handler-calls';
import { readJournal } from '../core/journal/journal';

const store = makeSoftHsmStore();
process.env.SOFTHSM2_CONF = store.conf;
const PIN = 'plan-steps-pin-123456';
const serial = store.initToken('Plan Steps', 'plan-steps-so-123456', PIN);
const work = mkdtempSync(join(tmpdir(), 'qpki-plan-steps-'));
mkdirSync(join(work, 'data'));
const h = makeHarness({ softhsmPath: SOFTHSM_LIB, devTokenDir: store.dir, dataDir: join(work, 'data') });
after(() => {
  h.state.endCeremony();
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});
const { call, ok, dirId, loadLibrary } = handlerCalls(h);

function openssl(args: string[]): { code: number; out: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

// An outside CA's request, made by OpenSSL: the plan reads it beside itself.
const csrFile = join(work, 'partner.csr');
assert.equal(openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'partner.key'), '-subj', '/CN=Partner Issuing CA', '-out', csrFile]).code, 0);

const PLAN = `version: 1
ceremony:
  id: APP-DATES-2026
  purpose: A root and a partner CA with the dates the policy fixes
  location: Secure room B
participants:
  - { name: Alice Martin, role: operator }
  - { name: Bruno Keller, role: witness }
steps:
  - { id: root-key, type: key, token: ca, label: dated-root, algorithm: ec-p384 }
  - id: root
    type: root
    key: root-key
    profile: ec/root-ca
    variables: { cn: Dated Root CA }
    notBefore: "2026-01-01T00:00:00Z"
    notAfter: "2036-01-01T00:00:00Z"
    out: root
  - id: partner
    type: subordinate
    issuer: root
    csr: partner.csr
    profile: ec/issuing-ca
    variables: { cn: Partner Issuing CA }
    notBefore: "2026-06-01T00:00:00Z"
    notAfter: "2031-06-01T00:00:00Z"
    out: partner.crt
  - id: root-crl
    type: crl
    issuer: root
    nextUpdateDays: 30
    revoke:
      - { step: partner, reason: keyCompromise }
    out: root.crl
`;

test('a root and a subordinate with the plan\'s notBefore/notAfter, then a CRL step that revokes what the plan names: OpenSSL reads the plan\'s dates and revocation, and every step completes with no deviation', async () => {
  const planFile = join(work, 'plan.yaml');
  writeFileSync(planFile, PLAN);
  h.answers.planFile = planFile;
  const { plan } = await ok('openPlan');
  assert.deepEqual(plan.steps.map((s: { notInApp: string | null }) => s.notInApp), [null, null, null, null], 'the app does every step of this plan');
  assert.deepEqual(plan.steps[3].revoke, [{ what: 'the certificate of step partner', reason: 'keyCompromise' }]);
  assert.deepEqual(plan.steps[1].dates, { notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2036-01-01T00:00:00.000Z' });
  await ok('startPlan', { sha256: plan.sha256 });
  await ok('confirmPreflight', preflightConfirmation('Bruno Keller'));
  await loadLibrary(SOFTHSM_LIB);
  await ok('openToken', { serial });
  await ok('login', { pin: PIN });
  await ok('generateKey', { algorithm: 'ec-p384', label: 'dated-root' });
  await ok('acknowledgeStep', { witness: 'Bruno Keller' });

  // The renderer names no date: main takes them from the plan, and the review shows them.
  const dir = join(work, 'root');
  const req = await ok('previewCa', { profile: 'ec/root-ca', vars: { cn: 'Dated Root CA' }, dirId: await dirId('new-ca', dir) });
  assert.equal(req.notBefore, '2026-01-01T00:00:00.000Z');
  assert.equal(req.notAfter, '2036-01-01T00:00:00.000Z');
  assert.equal(req.validityDays, 3652);
  assert.match(req.warnings.join(' '), /the ceremony plan's, not this computer's clock.*step 2 of 4/);
  const signed = await ok('sign', { requestId: req.id });
  const rootDates = openssl(['x509', '-in', signed.issued.savedTo, '-noout', '-dates']).out;
  assert.match(rootDates, /notBefore=Jan  1 00:00:00 2026 GMT/);
  assert.match(rootDates, /notAfter=Jan  1 00:00:00 2036 GMT/);
  await ok('acknowledgeStep', { witness: 'Bruno Keller' });

  const sub = await ok('prepareIssue', { purpose: 'subordinate-ca', csrPem: readFileSync(csrFile, 'utf8'), profile: 'ec/issuing-ca', vars: { cn: 'Partner Issuing CA' } });
  assert.deepEqual([sub.notBefore, sub.notAfter], ['2026-06-01T00:00:00.000Z', '2031-06-01T00:00:00.000Z']);
  const issued = await ok('sign', { requestId: sub.id });
  const subDates = openssl(['x509', '-in', issued.issued.savedTo, '-noout', '-dates']).out;
  assert.match(subDates, /notBefore=Jun  1 00:00:00 2026 GMT/);
  assert.match(subDates, /notAfter=Jun  1 00:00:00 2031 GMT/);
  assert.equal(openssl(['verify', '-attime', String(Date.parse('2027-01-01T00:00:00Z') / 1000), '-CAfile', signed.issued.savedTo, issued.issued.savedTo]).code, 0);
  await ok('acknowledgeStep', { witness: 'Bruno Keller' });
  const partnerSerial = openssl(['x509', '-in', issued.issued.savedTo, '-noout', '-serial']).out.trim().split('=')[1];

  // The renderer cannot revoke on its own during a plan, nor anything the plan does not name.
  assert.equal((await call('revokeCertificate', { serial: issued.issued.serial, reason: 'superseded' })).error?.code, 'PLAN_STEP_MISMATCH');
  // Step 4: the CRL step revokes the partner's certificate first, asked in main's dialog; declined, nothing is revoked and no CRL prepared.
  h.answers.confirm = (c) => c.kind !== 'revoke';
  assert.equal((await call('prepareCrl', { days: 30 })).error?.code, 'NOT_CONFIRMED');
  assert.equal((await ok('listIssued')).certificates.find((c: { serial: string }) => c.serial === issued.issued.serial).status, 'valid');
  h.answers.confirm = true;
  const asked = h.confirmations.length;
  const crlReq = await ok('prepareCrl', { days: 30 });
  const question = h.confirmations.slice(asked).find((c) => c.kind === 'revoke')!;
  assert.ok(question.facts.some((f) => f.label === 'Serial' && f.value === issued.issued.serial));
  assert.ok(question.facts.some((f) => f.label === 'Ceremony plan' && /step 4 of 4 \(root-crl: .*\) revokes the certificate of step partner/.test(f.value)));
  assert.deepEqual(crlReq.crl.revoked.map((r: { serial: string; reason: string }) => [r.serial, r.reason]), [[issued.issued.serial, 'keyCompromise']], 'the review lists exactly the plan\'s revocation');
  // Withdrawn and prepared again (a retry): the revocation is done already and not asked again.
  await ok('withdrawRequest', { requestId: crlReq.id });
  const again = h.confirmations.length;
  const crlReq2 = await ok('prepareCrl', { days: 30 });
  assert.equal(h.confirmations.slice(again).filter((c) => c.kind === 'revoke').length, 0);
  const crl = await ok('sign', { requestId: crlReq2.id });
  const crlText = openssl(['crl', '-in', crl.savedTo, '-noout', '-text', '-CAfile', signed.issued.savedTo]).out;
  assert.match(crlText, /verify OK/);
  assert.match(crlText, new RegExp(`Serial Number: ${partnerSerial}`, 'i'));
  assert.match(crlText, /Key Compromise/);
  assert.equal((crlText.match(/Serial Number:/g) ?? []).length, 1, 'exactly the plan\'s revocation');
  await ok('acknowledgeStep', { witness: 'Bruno Keller' });
  assert.deepEqual((await ok('planState')).status, ['done', 'done', 'done', 'done']);
  await ok('closeCeremony');

  const j = readJournal(dir);
  assert.deepEqual(j.filter((e) => e.kind === 'plan.step.completed').map((e) => e.facts.id), ['root-key', 'root', 'partner', 'root-crl']);
  assert.deepEqual(j.filter((e) => e.kind === 'certificate.revoked').map((e) => [e.facts.serial, e.facts.reason]), [[issued.issued.serial, 'keyCompromise']]);
  assert.equal(j.filter((e) => e.kind === 'ceremony.deviation').length, 0, 'no deviation: the dates are the plan\'s');
  assert.deepEqual(j.find((e) => e.kind === 'signing.prepared' && e.facts.purpose === 'root')!.facts.datesFromPlan, { notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2036-01-01T00:00:00.000Z' });
  assert.equal(readFileSync(join(dir, 'journal.jsonl'), 'utf8').includes(PIN), false, 'no PIN on the record');
});
