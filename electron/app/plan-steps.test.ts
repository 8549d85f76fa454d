/**
 * The plan steps the app now walks itself, through the handler table against a real SoftHSM2
 * token: a root and a subordinate (from a request file) with the plan's own notBefore/notAfter,
 * a CRL step that revokes what the plan names, the README's example plan (an issuing CA from a key
 * of the plan), and a cross-certificate. Main takes every date and every revocation
 * from the checked plan; OpenSSL reads the result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSoftHsmStore, SOFTHSM_LIB } from '../../test/softhsm';
import { makeHarness } from '../../test/harness/test-harness';
import { appOnStore } from '../../test/app-on-store';
import { handlerCalls, preflightConfirmation } from '../../test/handler-calls';
import { readJournal } from '../core/journal/journal';

const store = makeSoftHsmStore();
process.env.SOFTHSM2_CONF = store.conf;
const PIN = 'plan-steps-pin-123456';
const serial = store.initToken('Plan Steps', 'plan-steps-so-123456', PIN);
const { work, h, call, ok, dirId, loadLibrary } = appOnStore(store, 'plan-steps');

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

// The README's example plan, every step in the app: token initialization, two keys, the root,
// the issuing CA made from the plan's second key and certified by the root, the root's CRL.
test('the README\'s example plan walked in the app: the issuing CA is made from the plan\'s own key, certified by the root the plan made; OpenSSL verifies the chain and the CRL; the new CA\'s journal names the ceremony\'s record', async () => {
  const work2 = mkdtempSync(join(tmpdir(), 'qpki-plan-example-'));
  mkdirSync(join(work2, 'data'));
  const h2 = makeHarness({ softhsmPath: SOFTHSM_LIB, devTokenDir: store.dir, dataDir: join(work2, 'data') });
  const c = handlerCalls(h2);
  try {
    h2.answers.planFile = join(__dirname, '../../examples/ceremony/root-ceremony.yaml');
    const { plan } = await c.ok('openPlan');
    assert.deepEqual(plan.steps.map((s: { notInApp: string | null }) => s.notInApp), [null, null, null, null, null, null], 'the app does every step of the example plan');
    assert.equal(plan.steps[4].key, 'issuing-key');
    await c.ok('startPlan', { sha256: plan.sha256 });
    await c.ok('confirmPreflight', preflightConfirmation('Bruno Keller'));
    const ack = () => c.ok('acknowledgeStep', { witness: 'Bruno Keller' });
    await c.loadLibrary(SOFTHSM_LIB);
    const blank = (await c.ok('listSlots')).slots.find((s: { tokenPresent: boolean; token: { flags: Record<string, boolean> } | null }) => s.tokenPresent && s.token && !s.token.flags.initialized);
    const PIN2 = 'example-plan-pin-1234';
    const init = await c.ok('initToken', { slotId: blank.slotId, label: 'EXAMPLE-ROOT-2027', soPin: 'example-plan-so-1234', userPin: PIN2 });
    await ack();
    await c.ok('openToken', { serial: init.slot.token.serial });
    await c.ok('login', { pin: PIN2 });
    await c.ok('generateKey', { algorithm: 'ec-p384', label: 'example-root-2027' });
    await ack();
    const rootVars = { cn: 'Example Root CA 2027', organization: 'Example Corp.', country: 'FR' };
    const rootDir = join(work2, 'root-ca');
    const rootReq = await c.ok('previewCa', { profile: 'br/ec/root-ca', vars: rootVars, dirId: await c.dirId('new-ca', rootDir) });
    const root = (await c.ok('sign', { requestId: rootReq.id })).issued;
    await ack();
    const issuingKey = (await c.ok('generateKey', { algorithm: 'ec-p384', label: 'example-issuing-2027' })).key;
    await ack();

    const issuingVars = { cn: 'Example TLS Issuing CA 2027', organization: 'Example Corp.', country: 'FR', crl_url: 'http://crl.example.com/root-2027.crl', ca_issuers_url: 'http://pki.example.com/root-2027.cer' };
    // Main, not the renderer, says which CA certifies it and where it goes: another directory than the plan's out is refused, nothing written.
    const wrongDir = join(work2, 'elsewhere');
    const wrong = await c.call('previewCa', { profile: 'br/ec/tls-issuing-ca', vars: issuingVars, dirId: await c.dirId('new-ca', wrongDir) });
    assert.equal(wrong.error?.code, 'PLAN_STEP_MISMATCH');
    assert.match(wrong.error!.message, /not the plan's issuing-ca/);
    // A request file is not this step: the plan makes the issuing CA from its own key.
    const fromCsr = await c.call('prepareIssue', { purpose: 'subordinate-ca', csrPem: readFileSync(csrFile, 'utf8'), profile: 'br/ec/tls-issuing-ca', vars: issuingVars });
    assert.equal(fromCsr.error?.code, 'PLAN_STEP_MISMATCH');
    const issuingDir = join(work2, 'issuing-ca');
    const req = await c.ok('previewCa', { profile: 'br/ec/tls-issuing-ca', vars: issuingVars, dirId: await c.dirId('new-ca', issuingDir) });
    assert.equal(req.purpose, 'subordinate-ca');
    assert.equal(req.issuer, rootReq.subject, 'the review names the root as issuer');
    assert.equal(req.keyFingerprint.replace(/ /g, ''), issuingKey.fingerprint.replace(/ /g, ''), 'the reviewed key is the plan\'s issuing key');
    assert.match(req.signedBy, /CN=Example Root CA 2027.*: key “example-root-2027” in token “EXAMPLE-ROOT-2027”/);
    assert.equal(req.lint.kind, 'subordinate-ca', 'linted as a subordinate CA under the public-TLS rules');
    assert.deepEqual(req.lint.blocking, []);
    const sub = (await c.ok('sign', { requestId: req.id })).issued;
    assert.equal(sub.dir, issuingDir);
    assert.equal(sub.ca, undefined, 'the open CA stays the root, for the ceremony\'s next step');
    const v = spawnSync('openssl', ['verify', '-x509_strict', '-CAfile', root.savedTo, sub.savedTo], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.match(openssl(['x509', '-in', sub.savedTo, '-noout', '-ext', 'crlDistributionPoints']).out, /crl\.example\.com\/root-2027\.crl/);
    await ack();

    const crlReq = await c.ok('prepareCrl', { days: 365 });
    const crl = await c.ok('sign', { requestId: crlReq.id });
    assert.match(openssl(['crl', '-in', crl.savedTo, '-noout', '-CAfile', root.savedTo]).out, /verify OK/);
    await ack();
    assert.deepEqual((await c.ok('planState')).status, ['done', 'done', 'done', 'done', 'done', 'done']);
    await c.ok('closeCeremony');

    // One ceremony, one record: every step is in the root's journal; the issuing CA's own journal begins by naming it.
    const j = readJournal(rootDir);
    assert.deepEqual(j.filter((e) => e.kind === 'plan.step.completed').map((e) => e.facts.id), ['init-ca-token', 'root-key', 'root', 'issuing-key', 'issuing', 'root-crl']);
    assert.equal(j.filter((e) => e.kind === 'ceremony.deviation').length, 0);
    assert.equal(j.filter((e) => e.kind === 'ceremony.closed').length, 1);
    const sj = readJournal(issuingDir);
    assert.equal(sj[0].kind, 'ceremony.opened');
    assert.equal(sj[0].facts.record, join(rootDir, 'journal.jsonl'));
    assert.equal(sj[0].facts.issuerDir, rootDir);
    for (const d of [rootDir, issuingDir]) assert.equal(readFileSync(join(d, 'journal.jsonl'), 'utf8').includes(PIN2), false, 'no PIN on the record');
  } finally {
    h2.state.endCeremony();
    rmSync(work2, { recursive: true, force: true });
  }
});

test('a plan\'s cross-certificate step in the app: main prepares it from the plan alone; the same subject (DER) and key as the crossed certificate, certified by the plan\'s root; a changed file is refused', async () => {
  const work3 = mkdtempSync(join(tmpdir(), 'qpki-plan-cross-'));
  mkdirSync(join(work3, 'data'));
  const h3 = makeHarness({ softhsmPath: SOFTHSM_LIB, devTokenDir: store.dir, dataDir: join(work3, 'data') });
  const c = handlerCalls(h3);
  try {
    // The other PKI's root, made by OpenSSL: the plan cross-certifies it.
    const crossed = join(work3, 'partner-root.crt');
    assert.equal(openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work3, 'p.key'), '-subj', '/CN=Partner Root CA', '-days', '3650',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', crossed]).code, 0);
    writeFileSync(join(work3, 'plan.yaml'), `version: 1
ceremony: { id: APP-CROSS-2026, purpose: Cross-certify the partner root, location: Secure room B }
participants:
  - { name: Alice Martin, role: operator }
  - { name: Bruno Keller, role: witness }
steps:
  - { id: root-key, type: key, token: ca, label: cross-root, algorithm: ec-p384 }
  - { id: root, type: root, key: root-key, profile: ec/root-ca, variables: { cn: Cross Root CA }, out: root }
  - { id: partner-cross, type: cross, issuer: root, certificate: partner-root.crt, profile: ec/issuing-ca, variables: { cn: Partner Root CA }, out: partner-cross.crt }
`);
    h3.answers.planFile = join(work3, 'plan.yaml');
    const { plan } = await c.ok('openPlan');
    assert.equal(plan.steps[2].notInApp, null);
    await c.ok('startPlan', { sha256: plan.sha256 });
    await c.ok('confirmPreflight', preflightConfirmation('Bruno Keller'));
    const ack = () => c.ok('acknowledgeStep', { witness: 'Bruno Keller' });
    await c.loadLibrary(SOFTHSM_LIB);
    await c.ok('openToken', { serial });
    await c.ok('login', { pin: PIN });
    // Not yet its step: refused, nothing prepared.
    assert.equal((await c.call('preparePlanCross')).error?.code, 'PLAN_STEP_MISMATCH');
    await c.ok('generateKey', { algorithm: 'ec-p384', label: 'cross-root' });
    await ack();
    const root = await c.root('ec/root-ca', { cn: 'Cross Root CA' }, join(work3, 'root'));
    await ack();

    const original = readFileSync(crossed);
    writeFileSync(crossed, Buffer.concat([original, Buffer.from('\n')]));
    const changed = await c.call('preparePlanCross');
    assert.equal(changed.error?.code, 'PLAN_INVALID');
    assert.match(changed.error!.message, /changed since the plan was checked/);
    writeFileSync(crossed, original);

    const req = await c.ok('preparePlanCross');
    assert.equal(req.subject, 'CN=Partner Root CA');
    assert.equal(req.issuer, 'CN=Cross Root CA');
    assert.match(req.warnings.join(' '), /A cross-certificate: the subject and public key of partner-root\.crt/);
    const out = (await c.ok('sign', { requestId: req.id })).issued;
    await ack();
    assert.deepEqual((await c.ok('planState')).status, ['done', 'done', 'done']);
    const fields = (f: string) => openssl(['x509', '-in', f, '-noout', '-subject', '-pubkey']).out;
    assert.equal(fields(out.savedTo), fields(crossed), 'same subject and public key as the crossed certificate');
    const v = spawnSync('openssl', ['verify', '-x509_strict', '-CAfile', root.savedTo, out.savedTo], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stdout + v.stderr);
    await c.ok('closeCeremony');
    const j = readJournal(join(work3, 'root'));
    assert.deepEqual(j.filter((e) => e.kind === 'plan.step.completed').map((e) => e.facts.id), ['root-key', 'root', 'partner-cross']);
    assert.equal(j.find((e) => e.kind === 'signing.prepared' && e.facts.purpose === 'cross-certificate')!.facts.crossedCertificateSha256, createHash('sha256').update(original).digest('hex'));
  } finally {
    h3.state.endCeremony();
    rmSync(work3, { recursive: true, force: true });
  }
});
