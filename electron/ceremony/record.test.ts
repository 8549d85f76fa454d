/**
 * A whole ceremony through the handler table on SoftHSM2: the journal must read in the order
 * things happened, carry the facts an auditor needs, verify, and print to a PDF.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSoftHsmStore, SOFTHSM_LIB } from '../../test/softhsm';
import { makeHarness } from '../../test/harness/test-harness';
import { readJournal, verifyJournal } from '../core/journal/journal';
import { chromiumAvailable } from '../core/journal/transcript';
import { preflightConfirmation, handlerCalls } from '../../test/handler-calls';

const store = makeSoftHsmStore();
process.env.SOFTHSM2_CONF = store.conf;

const USER_PIN = 'ceremony-user-pin-1234';
const work = mkdtempSync(join(tmpdir(), 'qpki-ceremony-'));
const h = makeHarness({ softhsmPath: SOFTHSM_LIB, devTokenDir: store.dir, dataDir: work });
after(() => {
  h.state.endCeremony();
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const { call, ok, loadLibrary, root, openCa, issue, crl } = handlerCalls(h);

function opensslCsr(name: string, subject: string): string {
  const csr = join(work, `${name}.csr`);
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(work, `${name}.key`), '-out', csr, '-subj', subject], { stdio: 'pipe' });
  return readFileSync(csr, 'utf8');
}

test('a root ceremony journals every step in order, under the named people, and prints', async () => {
  const opened = await ok('openCeremony', { operator: 'Alice Operator', witnesses: ['Bob Witness', 'Carol Witness'], purpose: 'Root CA key ceremony (test)' });
  await ok('confirmPreflight', preflightConfirmation('Bob Witness'));
  // The witness's clock reading, and the reason for the warnings when this machine gives any.
  const ACKS = ['witness.acknowledged', ...(opened.preflight.warnings.length ? ['witness.acknowledged'] : [])];
  assert.match(opened.appSha256, /^[0-9a-f]{64}$/);
  assert.ok(opened.appFiles > 0);
  assert.ok(opened.preflight.freeDiskBytes > 0);
  // Nothing is written before the CA directory exists: the events wait, in order.
  let j = await ok('readJournal', {});
  assert.deepEqual(j.pending.map((p: any) => p.kind), ['ceremony.opened', 'preflight', ...ACKS]);
  assert.equal(j.ceremony.operator, 'Alice Operator');

  const prep = await ok('prepareDevToken');
  await ok('initToken', { slotId: prep.freeSlotId, label: 'journal-root', soPin: 'so-pin-0987654321', userPin: USER_PIN });
  const mod = await loadLibrary(SOFTHSM_LIB);
  assert.ok(mod.path);
  const slots = await ok('listSlots');
  const tok = slots.slots.find((s: any) => s.token?.label === 'journal-root').token;
  await ok('openToken', { serial: tok.serial });
  const bad = await call('login', { pin: 'wrong-pin-000000' });
  assert.equal(bad.error!.code, 'PIN_INCORRECT');
  await ok('login', { pin: USER_PIN });
  const gen = await ok('generateKey', { algorithm: 'ec-p384', label: 'root-key' });
  j = await ok('readJournal', {});
  // Each library load was confirmed in main's own dialog first (the development token's, recorded as the token is initialized through it, then the chosen one).
  assert.deepEqual(j.pending.map((p: any) => p.kind), [
    'ceremony.opened', 'preflight', ...ACKS, 'confirmation', 'module.loaded', 'token.initialized', 'confirmation', 'module.loaded', 'token.chosen', 'login.failed', 'login.succeeded', 'key.generated',
  ]);
  assert.deepEqual(h.confirmations.map((c) => c.kind), ['load-module', 'load-module']);
  assert.ok(h.confirmations[1].facts.some((f) => f.label === 'SHA-256' && f.value.replace(/[: ]/g, '').toLowerCase() === createHash('sha256').update(readFileSync(SOFTHSM_LIB)).digest('hex')));

  const dir = join(work, 'root');
  const vars = { cn: 'Journal Root', organization: 'QPKI Test', country: 'FR' };
  await root('ec/root-ca', vars, dir);
  j = await ok('readJournal', {});
  assert.deepEqual(j.pending, [], 'the held events went into the new journal');

  const good = opensslCsr('sub', '/CN=Journal Issuing');
  await issue('subordinate-ca', good, 'ec/issuing-ca', { cn: 'Journal Issuing' });
  const tampered = good.replace(/(\n[A-Za-z0-9+/]{20})([A-Za-z0-9+/])/, (_m, a: string, c: string) => a + (c === 'A' ? 'B' : 'A'));
  const refused = await call('prepareIssue', { purpose: 'subordinate-ca', csrPem: tampered, profile: 'ec/issuing-ca', vars: { cn: 'Journal Issuing' } });
  assert.equal(refused.ok, false);
  await crl(7);
  const closed = await ok('closeCeremony');
  assert.equal(closed.dir, dir);
  assert.equal(closed.intact, true);
  assert.equal(h.state.session, null, 'closing the ceremony logs out');

  const v = verifyJournal(dir);
  assert.equal(v.ok, true);
  assert.equal(v.lastHash, closed.finalHash);
  const entries = readJournal(dir);
  const kinds = entries.map((e) => e.kind);
  assert.deepEqual(kinds, [
    'ceremony.opened', 'preflight', ...ACKS, 'confirmation', 'module.loaded', 'token.initialized', 'confirmation', 'module.loaded', 'token.chosen', 'login.failed', 'login.succeeded', 'key.generated',
    'signing.prepared', 'confirmation', 'certificate.signed',
    'csr.accepted', 'signing.prepared', 'confirmation', 'issuance.started', 'certificate.signed',
    'csr.refused',
    'signing.prepared', 'confirmation', 'crl.generated',
    'ceremony.closed',
  ]);
  // What was reviewed is what was signed: each signature's to-be-signed hash is the one prepared and confirmed.
  const prepared = entries.filter((e) => e.kind === 'signing.prepared').map((e) => (e.facts as any).tbsSha256);
  const signedTbs = entries.filter((e) => e.kind === 'certificate.signed' || e.kind === 'crl.generated').map((e) => (e.facts as any).tbsSha256);
  assert.deepEqual(signedTbs, prepared);
  const confirmedSign = entries.filter((e) => e.kind === 'confirmation' && (e.facts as any).question === 'sign');
  assert.deepEqual(confirmedSign.map((e) => [(e.facts as any).answer, String((e.facts as any).tbsSha256).replace(/[: ]/g, '').toLowerCase()]), prepared.map((t) => ['yes', t]));
  for (const e of entries) {
    assert.equal(e.operator, 'Alice Operator', `${e.kind} operator`);
    assert.deepEqual(e.witnesses, ['Bob Witness', 'Carol Witness'], `${e.kind} witnesses`);
  }
  const byKind = (k: string) => entries.find((e) => e.kind === k)!.facts as Record<string, any>;
  assert.equal(byKind('ceremony.opened').purpose, 'Root CA key ceremony (test)');
  assert.equal(byKind('ceremony.opened').appSha256, opened.appSha256);
  assert.ok(Array.isArray(byKind('preflight').networkInterfacesUp));
  assert.equal(byKind('module.loaded').librarySha256, createHash('sha256').update(readFileSync(SOFTHSM_LIB)).digest('hex'));
  assert.equal(byKind('token.chosen').serial, tok.serial);
  assert.ok(byKind('token.chosen').model && byKind('token.chosen').manufacturer);
  assert.equal(byKind('login.failed').code, 'PIN_INCORRECT');
  const kg = byKind('key.generated');
  assert.equal(kg.algorithm, 'ec-p384');
  assert.equal(kg.label, 'root-key');
  assert.equal(kg.id, gen.key.id);
  assert.equal(kg.attributes.sensitive, true);
  assert.equal(kg.attributes.extractable, false);
  assert.equal(kg.testSignature.verified, true);
  assert.match(kg.publicKeySha256Fingerprint, /^[0-9a-f]{64}$/);
  assert.equal(byKind('csr.accepted').subject, 'CN=Journal Issuing');
  assert.match(byKind('csr.refused').code, /^CSR_/);
  assert.equal(byKind('csr.refused').code, refused.error!.code);
  const close = byKind('ceremony.closed');
  assert.equal(close.journalHashBefore, entries[entries.length - 2].hash);
  assert.equal(close.entriesBefore, entries.length - 1);
  // No PIN in the record, in any form.
  const text = readFileSync(join(dir, 'journal.jsonl'), 'utf8');
  assert.equal(text.includes(USER_PIN), false);
  assert.equal(text.includes('so-pin-0987654321'), false);

  // The transcript of the closed ceremony, printed to the path the operator chose.
  if (!chromiumAvailable()) {
    console.log('# transcript PDF not printed: no Chromium at /usr/bin/chromium');
    return;
  }
  const pdf = join(work, 'transcript.pdf');
  h.answers.savePath = pdf;
  const t = await ok('exportTranscript', {});
  assert.equal(t.savedTo, pdf);
  assert.equal(t.finalHash, closed.finalHash);
  assert.equal(readFileSync(pdf).subarray(0, 5).toString('latin1'), '%PDF-');
  const again = await call('exportTranscript', {});
  assert.equal(again.error!.code, 'OUTPUT_EXISTS', 'a transcript is never overwritten');
  h.answers.savePath = null;
  assert.equal((await ok('exportTranscript', {})).savedTo, null, 'a cancelled dialog writes nothing');
});

test('an existing CA opened in a new ceremony gets the ceremony written first, then its steps', async () => {
  const dir = join(work, 'root');
  const before = readJournal(dir).length;
  const opened = await ok('openCeremony', { operator: 'Dave', witnesses: ['Erin'], purpose: 'Quarterly CRL' });
  await ok('confirmPreflight', preflightConfirmation('Erin'));
  const ACKS = ['witness.acknowledged', ...(opened.preflight.warnings.length ? ['witness.acknowledged'] : [])];
  await openCa(dir);
  const slots = await ok('listSlots');
  const tok = slots.slots.find((s: any) => s.token?.label === 'journal-root').token;
  await ok('openToken', { serial: tok.serial });
  await ok('login', { pin: USER_PIN });
  await crl(30);
  await ok('closeCeremony');
  const added = readJournal(dir).slice(before);
  assert.deepEqual(added.map((e) => e.kind), ['ceremony.opened', 'preflight', ...ACKS, 'module.loaded', 'token.chosen', 'login.succeeded', 'signing.prepared', 'confirmation', 'crl.generated', 'ceremony.closed']);
  assert.ok(added.every((e) => e.operator === 'Dave' && e.witnesses.join() === 'Erin'));
  assert.equal(verifyJournal(dir).ok, true);
  assert.equal(existsSync(join(dir, 'journal.jsonl')), true);
});

test('a ceremony that ends without a CA directory (a token initialized, then closed) still leaves a verified journal', async () => {
  await ok('openCeremony', { operator: 'Dana Operator', witnesses: ['Erin Witness'], purpose: 'Initialize a spare CA token (test)' });
  await ok('confirmPreflight', preflightConfirmation('Erin Witness'));
  const prep = await ok('prepareDevToken');
  await ok('initToken', { slotId: prep.freeSlotId, label: 'spare-token', soPin: 'so-pin-1122334455', userPin: 'spare-user-pin-12345' });
  const closed = await ok('closeCeremony');
  assert.ok(closed.dir, 'the record has a place');
  assert.ok(closed.dir.startsWith(join(work, 'ceremonies')), closed.dir);
  const v = verifyJournal(closed.dir);
  assert.equal(v.ok, true);
  const kinds = readJournal(closed.dir).map((e) => e.kind);
  assert.equal(kinds[0], 'ceremony.opened');
  assert.ok(kinds.includes('token.initialized'), kinds.join(','));
  assert.equal(kinds[kinds.length - 1], 'ceremony.closed');
  assert.equal(closed.finalHash, v.lastHash);
  assert.ok(readJournal(closed.dir).every((e) => e.operator === 'Dana Operator'));
  assert.ok(!readFileSync(join(closed.dir, 'journal.jsonl'), 'utf8').includes('spare-user-pin-12345'));
});
