/**
 * Post-quantum and Catalyst hybrid CAs through the app's handler table, on SoftHSM2 (which has no
 * ML-DSA): the profile families, a hybrid root (ECDSA P-384 in the token + ML-DSA-87 file) with
 * both keys shown and both signatures verified, the ML-DSA passphrase asked again for every later
 * signature, a Catalyst end-entity from a request carrying the holder's ML-DSA key, and an
 * ml/root-ca refused by the token until the operator switches to the software keystore. (With a
 * token that has ML-DSA: handlers-pq-token.test.ts.)
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeSoftHsmStore, SOFTHSM_LIB } from '../../test/softhsm';
import { makeHarness } from '../../test/harness/test-harness';
import { generateSoftwareKey, signerFromPkcs8 } from '../core/keys/software';
import { buildCsr } from '../core/x509/csr';
import { subjectAltPublicKeyInfoExtension } from '../core/x509/catalyst';
import { toPem } from '../core/x509/pem';
import { describeDocument } from '../core/x509/describe';
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import { readJournal } from '../core/journal/journal';
import { preflightConfirmation, handlerCalls } from '../../test/handler-calls';

const store = makeSoftHsmStore();
process.env.SOFTHSM2_CONF = store.conf;

const USER_PIN = 'user-pin-1234567';
const ALT_PASS = 'ml-dsa-passphrase-0123';
const work = mkdtempSync(join(tmpdir(), 'qpki-pq-handlers-'));
const h = makeHarness({ softhsmPath: SOFTHSM_LIB, devTokenDir: store.dir });
after(() => {
  h.state.endCeremony();
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const { call, ok: must, dirId, openCa } = handlerCalls(h);
/** The one hash format on screen: lower-case hex in groups of 4 (core's groupHex). */
const grouped = (hex: string) => (hex.match(/.{1,4}/g) ?? []).join(' ');
const field = (doc: { fields: { label: string; value: string }[] }, label: string) => doc.fields.find((f) => f.label === label)?.value;

async function tokenLoggedIn(label: string): Promise<void> {
  await must('openCeremony', { operator: 'Op', witnesses: ['W'], purpose: 'pq handlers' });
  await must('confirmPreflight', preflightConfirmation('W'));
  const prep = await must('prepareDevToken', {});
  await must('initToken', { slotId: prep.freeSlotId, label, soPin: 'so-pin-123456789', userPin: USER_PIN });
  const slots = await must('listSlots', {});
  const t = slots.slots.find((s: any) => s.token?.label === label).token;
  await must('openToken', { serial: t.serial });
  await must('login', { pin: USER_PIN });
}

/** A request from an EC key that also carries an ML-DSA public key as requested subjectAltPublicKeyInfo. */
async function catalystCsr(cn: string, alt: 'ml-dsa-65' | 'ml-dsa-44' | null): Promise<string> {
  const k = generateSoftwareKey('ec-p256');
  const signer = signerFromPkcs8(k.pkcs8, { type: 'software', path: '(test)', encrypted: false });
  const subject = new Name([new RelativeDistinguishedName([new AttributeTypeAndValue({ type: '2.5.4.3', value: new AttributeValue({ utf8String: cn }) })])]);
  const extensions = alt ? [subjectAltPublicKeyInfoExtension(generateSoftwareKey(alt).spki)] : [];
  return toPem(await buildCsr({ subject, signer, signatureAlgorithm: 'ecdsa-sha256', extensions }), 'CERTIFICATE REQUEST');
}

describe('profiles carry their family', () => {
  test('ml/* are post-quantum, hybrid/catalyst/* hybrid with their ML-DSA algorithm, the rest classical', async () => {
    const { profiles } = await must('listProfiles', {});
    const by = (n: string) => profiles.find((p: any) => p.name === n);
    assert.deepEqual([by('ml/root-ca').family, by('ml/root-ca').altAlgorithm], ['post-quantum', null]);
    assert.deepEqual([by('hybrid/catalyst/root-ca').family, by('hybrid/catalyst/root-ca').algorithm, by('hybrid/catalyst/root-ca').altAlgorithm], ['hybrid', 'ec-p384', 'ml-dsa-87']);
    assert.equal(by('ec/root-ca').family, 'classical');
    assert.ok(profiles.every((p: any) => (p.family === 'hybrid') === (p.altAlgorithm !== null)));
    const p = await must('getProfile', { name: 'hybrid/catalyst/tls-server' });
    assert.deepEqual([p.family, p.algorithm, p.altAlgorithm], ['hybrid', 'ec-p256', 'ml-dsa-65']);
  });
});

describe('Catalyst root: ECDSA P-384 in the token, ML-DSA-87 in a file', () => {
  const dir = join(work, 'hybrid-root');
  let tokenSerial = '';
  let requestId = '';
  let reviewedAlt = '';

  test('the review lists both keys (the ML-DSA one made for it), both signature algorithms and the Catalyst extensions', async () => {
    await tokenLoggedIn('pq-hybrid');
    tokenSerial = h.state.session!.token.serial;
    const gen = await must('generateKey', { algorithm: 'ec-p384', label: 'hybrid-root-key' });
    // This token has no ML-DSA: the ML-DSA key cannot join the EC key in it, and stays the file.
    const inToken = await call('generateKey', { algorithm: 'ml-dsa-87', label: 'hybrid-root-pq', role: 'alternative' });
    assert.equal(inToken.error?.code, 'MECHANISM_UNSUPPORTED');
    assert.match(inToken.error!.message, /no PKCS#11 3\.2 ML-DSA mechanisms: use a software ML-DSA key/);
    assert.equal(h.state.altKey, null);
    const r = await must('previewCa', { profile: 'hybrid/catalyst/root-ca', vars: { cn: 'PQ Hybrid Root' }, dirId: await dirId('new-ca', dir) });
    requestId = r.id;
    assert.equal(r.signatureAlgorithm, 'ecdsa-sha384');
    assert.equal(r.altSignatureAlgorithm, 'ml-dsa-87');
    // The reviewed structure carries the alternative key and algorithm; the alternative signature is added at signing.
    const catalyst = r.document.extensions.filter((e: any) => e.oid.startsWith('2.5.29.7'));
    assert.deepEqual(catalyst.map((e: any) => e.oid), ['2.5.29.72', '2.5.29.73']);
    assert.ok(catalyst.every((e: any) => !e.critical));
    assert.match(r.addedAtSigning, /altSignatureValue/);
    assert.equal(r.keys.length, 2);
    const [primary, alt] = r.keys;
    assert.deepEqual([primary.role, primary.where, primary.algorithm], ['primary', 'token', 'ec-p384']);
    assert.deepEqual(primary.token, { label: 'pq-hybrid', serial: tokenSerial, keyLabel: 'hybrid-root-key', keyId: gen.key.id });
    assert.equal(primary.fingerprint, grouped(gen.key.fingerprint));
    assert.deepEqual([alt.role, alt.where, alt.algorithm], ['alternative', 'file', 'ml-dsa-87']);
    assert.match(alt.fingerprint, /^([0-9a-f]{4} ){15}[0-9a-f]{4}$/, 'the ML-DSA key exists before the review');
    reviewedAlt = alt.fingerprint;
    assert.deepEqual(alt.file, { path: join(dir, 'versions/v1/keys/ca.ml-dsa-87.key'), encrypted: true });
  });

  test('signing without the ML-DSA passphrase, or with one too short, is refused before anything is made', async () => {
    const r = await call('sign', { requestId });
    assert.equal(r.error?.code, 'PASSPHRASE_REQUIRED');
    assert.match(r.error!.message, /ml-dsa-87 key file/);
    const short = await call('sign', { requestId, altPassphrase: 'short-pass' });
    assert.equal(short.error?.code, 'PASSPHRASE_REQUIRED');
    assert.match(short.error!.message, /at least 12 characters/);
    assert.equal(short.error!.message.includes('short-pass'), false);
    assert.equal(existsSync(join(dir, 'ca.meta.json')), false);
    assert.equal(h.confirmations.filter((c) => c.kind === 'sign').length, 0, 'nothing was put to the operator either');
  });

  test('signed: both signatures verified separately, both keys with fingerprints from the certificate', async () => {
    const r = (await must('sign', { requestId, altPassphrase: ALT_PASS })).issued;
    assert.equal(r.verification.ok, true, r.verification.message);
    assert.match(r.verification.message, /signatures verify/);
    assert.match(field(r.certificate, 'Signature')!, /^valid \(ecdsa-sha384/);
    assert.match(field(r.certificate, 'Alternative signature')!, /^valid \(ml-dsa-87/);
    const d = describeDocument(readFileSync(join(dir, 'ca.crt'), 'utf8'));
    assert.deepEqual(d.signatures.map((s) => [s.which, s.valid]), [['primary', true], ['alternative', true]]);
    const [primary, alt] = r.keys;
    assert.equal(primary.fingerprint, grouped(d.publicKey!.sha256));
    assert.equal(alt.fingerprint, grouped(d.altPublicKey!.sha256));
    assert.equal(alt.fingerprint, reviewedAlt, 'the ML-DSA key signed with is the one reviewed');
    assert.equal(primary.where, 'token');
    assert.equal(alt.file.path, join(dir, 'versions/v1/keys/ca.ml-dsa-87.key'));
    assert.match(readFileSync(alt.file.path, 'utf8'), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.equal(readFileSync(alt.file.path, 'utf8').includes(ALT_PASS), false);
  });

  test('the opened CA shows both keys', async () => {
    const ca = await openCa(dir);
    assert.equal(ca.token.serial, tokenSerial);
    assert.deepEqual(ca.keys.map((k: any) => [k.role, k.where, k.algorithm]), [['primary', 'token', 'ec-p384'], ['alternative', 'file', 'ml-dsa-87']]);
    assert.ok(ca.keys.every((k: any) => /^([0-9a-f]{4} ){15}[0-9a-f]{4}$/.test(k.fingerprint)));
  });

  test('a CRL needs the ML-DSA passphrase: missing, wrong, then right with both signatures valid', async () => {
    const req = await must('prepareCrl', { days: 7 });
    const none = await call('sign', { requestId: req.id });
    assert.equal(none.error?.code, 'PASSPHRASE_REQUIRED');
    const wrong = await call('sign', { requestId: req.id, altPassphrase: 'not-the-passphrase' });
    assert.equal(wrong.error?.code, 'PASSPHRASE_INCORRECT');
    assert.equal(wrong.error!.message.includes('not-the-passphrase'), false);
    const r = await must('sign', { requestId: req.id, altPassphrase: ALT_PASS });
    assert.match(field(r.crl, 'Signature')!, /^valid/);
    assert.match(field(r.crl, 'Alternative signature')!, /^valid \(ml-dsa-87/);
  });

  test('a Catalyst end entity: the request carries the holder’s ML-DSA key; without it the request is refused', async () => {
    // This CA is a root: it signs an end entity only by the operator's override (BR 6.1.7), asked by main.
    const ee = (csrPem: string) => ({ purpose: 'end-entity', profile: 'hybrid/catalyst/tls-server', vars: { cn: 'host.example.com' }, csrPem, rootEndEntity: true });
    const plain = await catalystCsr('host', null);
    const refused = await call('prepareIssue', ee(plain));
    assert.equal(refused.error?.code, 'CSR_INVALID');
    assert.match(refused.error!.message, /subjectAltPublicKeyInfo/);
    const wrongAlg = await call('prepareIssue', ee(await catalystCsr('host', 'ml-dsa-44')));
    assert.equal(wrongAlg.error?.code, 'CSR_INVALID');
    assert.match(wrongAlg.error!.message, /ml-dsa-44.*ml-dsa-65/);
    const csr = await catalystCsr('host', 'ml-dsa-65');
    const req = await must('prepareIssue', ee(csr));
    assert.equal(h.confirmations.at(-1)!.kind, 'root-end-entity');
    const r = (await must('sign', { requestId: req.id, altPassphrase: ALT_PASS })).issued;
    assert.equal(r.verification.ok, true, r.verification.message);
    assert.match(field(r.certificate, 'Alternative signature')!, /^valid \(ml-dsa-87/);
    assert.match(field(r.certificate, 'Alternative public key (Catalyst)')!, /ML-DSA-65/i);
    const d = describeDocument(readFileSync(r.savedTo, 'utf8'), readFileSync(join(dir, 'ca.crt'), 'utf8'));
    assert.deepEqual(d.signatures.map((s) => s.valid), [true, true]);
    const accepted = readJournal(dir).filter((e) => e.kind === 'csr.accepted').pop()!;
    assert.equal(accepted.facts.altKeyAlgorithm, 'ml-dsa-65');
    const alt = createHash('sha256').update(new Uint8Array(generateSoftwareKey('ml-dsa-65').spki)).digest('hex');
    assert.notEqual(accepted.facts.altPublicKeySha256Fingerprint, alt, 'the fingerprint is the request’s own key');
  });
});

describe('ml/root-ca with a token that has no ML-DSA', () => {
  const dir = join(work, 'ml-root');

  test('the review is refused in plain words naming CKM_ML_DSA, with or without a token key chosen', async () => {
    await must('endSession', {});
    await tokenLoggedIn('pq-ml');
    const newDir = await dirId('new-ca', dir);
    const noKey = await call('previewCa', { profile: 'ml/root-ca', vars: { cn: 'PQ ML Root' }, dirId: newDir });
    assert.equal(noKey.error?.code, 'MECHANISM_UNSUPPORTED');
    assert.match(noKey.error!.message, /“pq-ml” has no ML-DSA: its mechanism list has no CKM_ML_DSA.*software keystore/);
    await must('generateKey', { algorithm: 'ec-p256', label: 'classic' });
    const withKey = await call('previewCa', { profile: 'ml/root-ca', vars: { cn: 'PQ ML Root' }, dirId: newDir });
    assert.equal(withKey.error?.code, 'MECHANISM_UNSUPPORTED');
    const mech = await must('tokenMechanisms', { slotId: h.state.module!.findToken({ serial: h.state.session!.token.serial }).slot.slotId });
    assert.equal(mech.mechanisms.includes('CKM_ML_DSA'), false);
  });

  test('the operator’s switch to the software keystore is checked against the token and recorded', async () => {
    const notMl = await call('useSoftwareKeystore', { algorithm: 'ec-p256', because: 'token-lacks-ml-dsa' });
    assert.equal(notMl.error?.code, 'INPUT_INVALID');
    assert.ok(h.state.session, 'a refused switch leaves the token session as it was');
    await must('useSoftwareKeystore', { algorithm: 'ml-dsa-87', because: 'token-lacks-ml-dsa' });
    assert.equal(h.state.session, null);
    // A decision on the record, not an error.
    const events = h.state.ceremony.pendingEvents();
    assert.equal(events.filter((e) => e.kind === 'error' && e.facts.missingMechanism === 'CKM_ML_DSA').length, 0);
    const rec = events.filter((e) => e.kind === 'key.storage.chosen').pop()!;
    assert.equal(rec.facts.missingMechanism, 'CKM_ML_DSA');
    assert.equal(rec.facts.token, 'pq-ml');
    assert.equal(rec.facts.algorithm, 'ml-dsa-87');
    assert.match(String(rec.facts.reason), /has no ML-DSA/);
    const again = await call('useSoftwareKeystore', { algorithm: 'ml-dsa-87', because: 'token-lacks-ml-dsa' });
    assert.equal(again.error?.code, 'SESSION_CLOSED', 'no token open: nothing to have refused');
  });

  test('then the ML-DSA root is signed by the key file and verifies', async () => {
    const rv = await must('previewCa', { profile: 'ml/root-ca', vars: { cn: 'PQ ML Root' }, dirId: await dirId('new-ca', dir) });
    assert.deepEqual(rv.keys.map((k: any) => [k.where, k.algorithm]), [['file', 'ml-dsa-87']]);
    assert.equal(rv.altSignatureAlgorithm, null);
    assert.equal(rv.document.extensions.some((e: any) => e.oid.startsWith('2.5.29.7')), false);
    const r = (await must('sign', { requestId: rv.id, passphrase: ALT_PASS })).issued;
    assert.equal(r.verification.ok, true);
    assert.match(field(r.certificate, 'Signature')!, /^valid \(ml-dsa-87/);
    assert.equal(field(r.certificate, 'Alternative signature'), undefined);
    const journal = readJournal(resolve(dir));
    const choice = journal.find((e) => e.kind === 'key.storage.chosen');
    assert.equal(choice?.facts.missingMechanism, 'CKM_ML_DSA', 'the switch, and the token’s lack that prompted it, are in the CA journal');
    assert.equal(journal.some((e) => e.kind === 'error'), false, 'a deliberate switch is not an error');
  });
});

describe('inspector', () => {
  test('the RFC 9881 ML-DSA-44 example: its ML-DSA signature is checked and reported', async () => {
    const pem = readFileSync(resolve(__dirname, '..', '..', 'test', 'fixtures', 'ml-dsa', 'ML-DSA-44.crt'), 'utf8');
    const d = await must('describeDocument', { data: pem, encoding: 'pem' });
    assert.match(field(d, 'Signature')!, /^valid \(ml-dsa-44/);
    assert.match(field(d, 'Public key')!, /ML-DSA-44/i);
  });
});
