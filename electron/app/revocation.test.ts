/**
 * Revocation in the app, through the handler table on a real SoftHSM2 token: the index as main
 * lists it, the reasons it offers per kind (BR 7.2.2), revocations a hostile renderer asks for
 * (wrong reason for the kind, twice, declined), the 365-day bound on a CA's CRL (BR 7.2), and the
 * CRL signed: its number, what it replaces, and its entries read back by `openssl crl -text`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeSoftHsmStore, SOFTHSM_LIB } from '../../test/softhsm';
import { appOnStore } from '../../test/app-on-store';
import { preflightConfirmation } from '../../test/handler-calls';
import { readJournal } from '../core/journal/journal';

const store = makeSoftHsmStore();
process.env.SOFTHSM2_CONF = store.conf;
const PIN = 'revoke-pin-123456';
const serial = store.initToken('Revoke Token', 'revoke-so-123456', PIN);
const { work, h, call, ok, loadLibrary, root, openCa, issue } = appOnStore(store, 'revoke');

const index = (dir: string) => readFileSync(join(dir, 'index.txt'), 'utf8');

function csr(name: string, subject: string): string {
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(work, `${name}.key`), '-out', join(work, `${name}.csr`), '-subj', subject], { stdio: 'pipe' });
  return readFileSync(join(work, `${name}.csr`), 'utf8');
}

const dir = join(work, 'root');
let caSerial = '';
let eeSerial = '';

test('the index as main lists it: each certificate with its kind, and only the reasons BR 7.2.2 allows for that kind', async () => {
  await ok('openCeremony', { operator: 'Alice Operator', witnesses: ['Bob Witness'], purpose: 'revocation' });
  await ok('confirmPreflight', preflightConfirmation('Bob Witness'));
  await loadLibrary(SOFTHSM_LIB);
  await ok('openToken', { serial });
  await ok('login', { pin: PIN });
  await ok('generateKey', { algorithm: 'ec-p384', label: 'revoke-root' });
  await root('ec/root-ca', { cn: 'Revoke Root', organization: 'QPKI Test', country: 'FR' }, dir);
  await openCa(dir);
  caSerial = (await issue('subordinate-ca', csr('sub', '/CN=Revoke Issuing'), 'ec/issuing-ca', { cn: 'Revoke Issuing' })).serial;
  const ee = await ok('prepareIssue', { purpose: 'end-entity', csrPem: csr('leaf', '/CN=leaf.example.com'), profile: 'ec/tls-server', vars: { cn: 'leaf.example.com', policy_oid: '1.3.6.1.4.1.55555.1', cps_url: 'https://cps.example.com/policy' }, rootEndEntity: true });
  eeSerial = (await ok('sign', { requestId: ee.id })).issued.serial;
  const list = (await ok('listIssued')).certificates as Array<{ serial: string; kind: string; status: string; subject: string; reasons: Array<{ reason: string; words: string }> }>;
  const norm = (s: string) => s.replace(/:/g, '').toLowerCase().replace(/^0+/, '');
  const ca = list.find((c) => norm(c.serial) === norm(caSerial))!;
  const leaf = list.find((c) => norm(c.serial) === norm(eeSerial))!;
  caSerial = ca.serial;
  eeSerial = leaf.serial;
  assert.deepEqual([ca.kind, ca.status, leaf.kind, leaf.status], ['ca', 'valid', 'subscriber', 'valid']);
  // In the app's one name format (RFC 4514), not the index's OpenSSL "/CN=…" line.
  assert.equal(ca.subject, 'CN=Revoke Issuing');
  assert.deepEqual(ca.reasons.map((r) => r.reason), ['keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'privilegeWithdrawn']);
  assert.deepEqual(leaf.reasons.map((r) => r.reason), ['unspecified', 'keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'privilegeWithdrawn']);
  assert.ok(leaf.reasons.every((r) => r.words.length > 10));
});

test('a reason the kind does not take is refused before anything is asked; a declined confirmation revokes nothing', async () => {
  const before = index(dir);
  const asked = h.confirmations.length;
  // A hostile renderer sends a reason main never offered for a CA certificate.
  const noReason = await call('revokeCertificate', { serial: caSerial, reason: 'unspecified' });
  assert.equal(noReason.error?.code, 'REVOCATION_REASON_NOT_ALLOWED');
  assert.match(noReason.error!.message, /BR 7\.2\.2/);
  assert.equal((await call('revokeCertificate', { serial: caSerial, reason: 'cACompromise' })).error?.code, 'REVOCATION_REASON_NOT_ALLOWED');
  assert.equal((await call('revokeCertificate', { serial: eeSerial, reason: 'certificateHold' })).error?.code, 'REVOCATION_REASON_NOT_ALLOWED');
  assert.equal((await call('revokeCertificate', { serial: eeSerial, reason: 'removeFromCRL' })).error?.code, 'INPUT_INVALID');
  assert.equal((await call('revokeCertificate', { serial: 'ffffffff01', reason: 'superseded' })).error?.code, 'SERIAL_NOT_FOUND');
  assert.equal(h.confirmations.length, asked, 'no refused revocation was put to the operator');
  h.answers.confirm = (c) => c.kind !== 'revoke';
  const declined = await call('revokeCertificate', { serial: caSerial, reason: 'keyCompromise' });
  h.answers.confirm = true;
  assert.equal(declined.error?.code, 'NOT_CONFIRMED');
  const q = h.confirmations.at(-1)!;
  assert.equal(q.kind, 'revoke');
  assert.ok(q.facts.some((f) => f.label === 'Reason (BR 7.2.2)' && /Key compromise/.test(f.value)));
  assert.equal(index(dir), before, 'index.txt unchanged');
});

test('a revocation is confirmed in main, journaled under the participants, and never made twice', async () => {
  const r = await ok('revokeCertificate', { serial: caSerial, reason: 'keyCompromise' });
  assert.equal(r.reason, 'keyCompromise');
  const again = await call('revokeCertificate', { serial: caSerial, reason: 'superseded' });
  assert.equal(again.error?.code, 'ALREADY_REVOKED');
  await ok('revokeCertificate', { serial: eeSerial, reason: 'unspecified' });
  const list = (await ok('listIssued')).certificates as Array<{ serial: string; status: string; revoked: { reason: string } | null; reasons: unknown[] }>;
  const ca = list.find((c) => c.serial === caSerial)!;
  assert.deepEqual([ca.status, ca.revoked?.reason, ca.reasons.length], ['revoked', 'keyCompromise', 0]);
  const j = readJournal(dir);
  const revoked = j.filter((e) => e.kind === 'certificate.revoked');
  assert.deepEqual(revoked.map((e) => [e.facts.serial, e.facts.reason]), [[caSerial, 'keyCompromise'], [eeSerial, 'unspecified']]);
  assert.ok(revoked.every((e) => e.operator === 'Alice Operator' && e.witnesses.join() === 'Bob Witness'));
  const answers = j.filter((e) => e.kind === 'confirmation' && e.facts.question === 'revoke').map((e) => e.facts.answer);
  assert.deepEqual(answers, ['no', 'yes', 'yes']);
});

test('a CA CRL valid for more than 365 days is refused (BR 7.2); the CRL signed lists the revocations; the next one says which CRL it replaces', async () => {
  const tooLong = await call('prepareCrl', { days: 400 });
  assert.equal(tooLong.error?.code, 'CRL_VALIDITY_TOO_LONG');
  assert.match(tooLong.error!.message, /365 days.*BR 7\.2/);
  assert.equal(h.state.request, null, 'nothing was prepared');
  const first = await ok('prepareCrl', { days: 365 });
  assert.equal(first.crl.replaces, null);
  const signed = await ok('sign', { requestId: first.id });
  const fact = (label: string) => h.confirmations.at(-1)!.facts.find((f) => f.label === label)?.value;
  assert.equal(fact('CRL number'), first.crl.number);
  assert.match(fact('Replaces') ?? '', /first CRL/);
  const text = execFileSync('openssl', ['crl', '-in', signed.savedTo, '-noout', '-text'], { encoding: 'utf8' });
  const hex = (s: string) => s.replace(/:/g, '').toUpperCase().replace(/^0+/, '');
  const entry = (s: string) => new RegExp(`Serial Number: 0*${hex(s)}\\s+Revocation Date: [^\\n]+\\n(\\s+CRL entry extensions:\\s+X509v3 CRL Reason Code:\\s+(\\S[^\\n]*))?`, 'i').exec(text);
  assert.equal(entry(caSerial)?.[2]?.trim(), 'Key Compromise', text);
  assert.ok(entry(eeSerial), text);
  assert.equal(entry(eeSerial)?.[2], undefined, 'unspecified: no reasonCode');
  assert.match(text, new RegExp(`X509v3 CRL Number:\\s+${first.crl.number}\\b`));
  const thisUpdate = execFileSync('openssl', ['crl', '-in', signed.savedTo, '-noout', '-lastupdate', '-dateopt', 'iso_8601'], { encoding: 'utf8' });
  const second = await ok('prepareCrl', { days: 30 });
  assert.equal(BigInt(second.crl.number), BigInt(first.crl.number) + 1n);
  assert.equal(second.crl.replaces.number, first.crl.number);
  assert.equal(second.crl.replaces.thisUpdate.slice(0, 19), thisUpdate.split('=')[1].trim().replace(' ', 'T').slice(0, 19));
  h.answers.confirm = (c) => c.kind !== 'sign';
  assert.equal((await call('sign', { requestId: second.id })).error?.code, 'NOT_CONFIRMED');
  h.answers.confirm = true;
  assert.match(fact('Replaces') ?? '', new RegExp(`CRL number ${first.crl.number} of `));
});
