/**
 * ML-DSA keys in a PKCS#11 3.2 token through the app's handler table, on SoftHSM2's ML-DSA build
 * (../shared/tokens/softhsm2-mldsa): the token screen's mechanism names and key list, an
 * ML-DSA-87 root signed in the token (loadModule → openToken → login → generateKey → previewCa →
 * signCa), a subordinate CA whose ML-DSA-65 key is in the token too, an end entity and a CRL; then
 * a Catalyst root with both keys in one token, and that CA surviving a pulled token (Retry, login,
 * sign again). What the token signed is checked by python `cryptography`, liboqs and Bouncy Castle.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import { makeSoftHsmStore, mldsaTokenMissing, MLDSA_SOFTHSM, type SoftHsmStore } from '../../test/softhsm';
import { preflightConfirmation, handlerCalls } from '../../test/handler-calls';
import { hashTree } from '../../test/faults/helpers';
import { bcVerify, bouncyCastle, havePythonMlDsa, liboqsVerify, parseSigned, pythonCheck, readDer, type MlDsaName } from '../../test/pq/verifiers';
import { makeHarness, type Harness } from '../../test/harness/test-harness';
import { generateSoftwareKey, signerFromPkcs8 } from '../core/keys/software';
import type { Signer } from '../core/keys/signer';
import { buildCsr } from '../core/x509/csr';
import { subjectAltPublicKeyInfoExtension } from '../core/x509/catalyst';
import { toPem } from '../core/x509/pem';
import { checkCaDir } from '../core/ca/check';
import { readJournal, verifyJournal } from '../core/journal/journal';

const PIN = 'pq-token-pin-0123456';
const SO = 'pq-token-so-0123456';
const missing = mldsaTokenMissing() ?? (!havePythonMlDsa() ? 'python3 cryptography with ML-DSA (>= 45) is not installed' : undefined);
/** The one hash format on screen: lower-case hex in groups of 4 (core's groupHex). */
const grouped = (hex: string) => (hex.match(/.{1,4}/g) ?? []).join(' ');
const field = (doc: { fields: { label: string; value: string }[] }, label: string) => doc.fields.find((f) => f.label === label)?.value;

function subject(cn: string): Name {
  return new Name([new RelativeDistinguishedName([new AttributeTypeAndValue({ type: '2.5.4.3', value: new AttributeValue({ utf8String: cn }) })])]);
}

async function csrWith(signer: Signer, cn: string, altSpki?: Uint8Array): Promise<string> {
  const sigAlg = signer.keyAlgorithm.startsWith('ml-dsa') ? signer.keyAlgorithm : 'ecdsa-sha256';
  return toPem(await buildCsr({ subject: subject(cn), signer, signatureAlgorithm: sigAlg as 'ecdsa-sha256', extensions: altSpki ? [subjectAltPublicKeyInfoExtension(altSpki)] : [] }), 'CERTIFICATE REQUEST');
}

function softSigner(alg: 'ec-p256' | 'ml-dsa-65'): Signer {
  return signerFromPkcs8(generateSoftwareKey(alg).pkcs8, { type: 'software', path: '(test)', encrypted: false });
}

describe('ML-DSA in the token through the handler table', { skip: missing }, () => {
  let store: SoftHsmStore;
  let h: Harness;
  let work: string;
  let call: ReturnType<typeof handlerCalls>['call'];
  let must: ReturnType<typeof handlerCalls>['ok'];
  let helpers: ReturnType<typeof handlerCalls>;
  let lib: string;

  before(() => {
    lib = MLDSA_SOFTHSM!.lib;
    store = makeSoftHsmStore(MLDSA_SOFTHSM!);
    // SoftHSM2 reads SOFTHSM2_CONF when the module initializes: before any handler loads it.
    process.env.SOFTHSM2_CONF = store.conf;
    work = mkdtempSync(join(tmpdir(), 'qpki-pq-token-handlers-'));
    h = makeHarness({ softhsmPath: lib, devTokenDir: store.dir });
    helpers = handlerCalls(h);
    ({ call, ok: must } = helpers);
  });
  after(() => {
    h?.state.endCeremony();
    store?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** A fresh token made by softhsm2-util (not by us), opened and logged in to through the handlers. */
  async function tokenLoggedIn(label: string): Promise<{ serial: string; slotId: string }> {
    const serial = store.initToken(label, SO, PIN);
    await helpers.loadLibrary(lib);
    const opened = await must('openToken', { serial });
    await must('login', { pin: PIN, });
    return { serial, slotId: opened.slotId };
  }

  describe('ML-DSA CA keys generated in the token, certificates and CRLs signed by it', () => {
    const root = () => join(work, 'ml-root');
    const issued: { issuer: string; doc: string; alg: MlDsaName }[] = [];

    test('the token screen names the PKCS#11 3.2 mechanisms and offers the ML-DSA parameter sets', async () => {
      await must('openCeremony', { operator: 'Op', witnesses: ['W'], purpose: 'ML-DSA in the token' });
      await must('confirmPreflight', preflightConfirmation('W'));
      const { slotId } = await tokenLoggedIn('PQ Handlers');
      const m = await must('tokenMechanisms', { slotId });
      assert.ok(m.mechanisms.includes('CKM_ML_DSA_KEY_PAIR_GEN') && m.mechanisms.includes('CKM_ML_DSA'), m.mechanisms.join(' '));
      assert.ok(!m.mechanisms.some((n: string) => /^0x0000001[cd]$/.test(n)));
      assert.deepEqual(m.keyAlgorithms.filter((a: string) => a.startsWith('ml-dsa')), ['ml-dsa-44', 'ml-dsa-65', 'ml-dsa-87']);
      assert.deepEqual((await must('keyAlgorithms')).algorithms.filter((a: string) => a.startsWith('ml-dsa')), ['ml-dsa-44', 'ml-dsa-65', 'ml-dsa-87']);
    });

    test('generateKey ml-dsa-65 and ml-dsa-87: read back in the token, listed with their parameter sets; a profile for another parameter set is refused', async () => {
      const g65 = await must('generateKey', { algorithm: 'ml-dsa-65', label: 'ml-sub-key' });
      assert.deepEqual([g65.key.type, g65.key.algorithm, g65.key.parameterSet], ['ml-dsa', 'ml-dsa-65', 'CKP_ML_DSA_65']);
      assert.deepEqual(g65.testSignature, { algorithm: 'ml-dsa-65', verified: true });
      const a = g65.key.attributes;
      assert.deepEqual([a.sensitive, a.extractable, a.neverExtractable, a.local, a.sign], [true, false, true, true, true]);
      // ml/root-ca is for ML-DSA-87: the ML-DSA-65 key just made does not fit it.
      const wrong = await call('previewCa', { profile: 'ml/root-ca', vars: { cn: 'PQ Token Root' }, dirId: await helpers.dirId('new-ca', root()) });
      assert.equal(wrong.error?.code, 'KEY_INVALID');
      assert.match(wrong.error!.message, /needs a ml-dsa-87 key, but “ml-sub-key” is ml-dsa-65/);
      await must('generateKey', { algorithm: 'ml-dsa-87', label: 'ml-root-key' });
      const listed = (await must('listKeys')).keys.map((k: any) => [k.label, k.algorithm, k.parameterSet]).sort();
      assert.deepEqual(listed, [['ml-root-key', 'ml-dsa-87', 'CKP_ML_DSA_87'], ['ml-sub-key', 'ml-dsa-65', 'CKP_ML_DSA_65']]);
    });

    test('previewCa → signCa: an ML-DSA-87 root signed in the token; the review and the result say the key is in the token', async () => {
      const rv = await must('previewCa', { profile: 'ml/root-ca', vars: { cn: 'PQ Token Root' }, dirId: await helpers.dirId('new-ca', root()) });
      assert.equal(rv.signatureAlgorithm, 'ml-dsa-87');
      assert.deepEqual(rv.keys.map((k: any) => [k.role, k.where, k.algorithm, k.token?.keyLabel]), [['primary', 'token', 'ml-dsa-87', 'ml-root-key']]);
      const r = (await must('sign', { requestId: rv.id })).issued;
      assert.equal(r.verification.ok, true, r.verification.message);
      assert.match(field(r.certificate, 'Signature')!, /^valid \(ml-dsa-87/);
      assert.deepEqual(r.keys.map((k: any) => [k.where, k.token?.serial]), [['token', h.state.session!.token.serial]]);
      assert.equal(existsSync(join(root(), 'versions', 'v1', 'keys')), false, 'no key file');
      issued.push({ issuer: r.savedTo, doc: r.savedTo, alg: 'ml-dsa-87' });
    });

    test('a subordinate CA from a request signed by its ML-DSA-65 key in the token; an end entity and a CRL', async () => {
      const s = h.state.session!;
      const subCsr = await csrWith(s.signer(s.findKey({ label: 'ml-sub-key' })), 'PQ Token Issuing');
      const sub = await helpers.issue('subordinate-ca', subCsr, 'ml/issuing-ca', { cn: 'PQ Token Issuing' });
      assert.equal(sub.verification.ok, true, sub.verification.message);
      assert.match(field(sub.certificate, 'Public key')!, /ML-DSA-65/i);
      // The open CA is a root: the end entity is signed by the operator's override (BR 6.1.7), asked by main.
      const eeReq = await must('prepareIssue', { purpose: 'end-entity', profile: 'ml/tls-server', vars: { cn: 'pq.example.com' }, csrPem: await csrWith(softSigner('ml-dsa-65'), 'pq.example.com'), rootEndEntity: true });
      const ee = (await must('sign', { requestId: eeReq.id })).issued;
      assert.equal(ee.verification.ok, true);
      const crl = await helpers.crl(7);
      assert.match(field(crl.crl, 'Signature')!, /^valid \(ml-dsa-87/);
      issued.push({ issuer: issued[0].issuer, doc: sub.savedTo, alg: 'ml-dsa-87' }, { issuer: issued[0].issuer, doc: ee.savedTo, alg: 'ml-dsa-87' }, { issuer: issued[0].issuer, doc: crl.savedTo, alg: 'ml-dsa-87' });
    });

    test('python cryptography, liboqs and Bouncy Castle verify the root, the subordinate, the end entity and the CRL', async (t) => {
      for (const r of pythonCheck(issued)) assert.equal(r.primary, true, `${r.doc} (${r.primary_how})`);
      const key = parseSigned(readDer(issued[0].issuer), 'certificate').spki!.publicKey;
      for (const { doc, alg } of issued) {
        const d = parseSigned(readDer(doc), doc.endsWith('.crl') ? 'crl' : 'certificate');
        assert.equal(await liboqsVerify(alg, key, d.tbs, d.signature), true, doc);
      }
      const bc = bouncyCastle();
      if ('missing' in bc) {
        console.log(`# Bouncy Castle check not run: ${bc.missing}`);
        t.skip(bc.missing);
        return;
      }
      for (const x of bcVerify(bc.classpath, issued[0].issuer, issued.map((i) => i.doc)).results) assert.equal(x.primary, 'true', x.file);
    });
  });

  describe('Catalyst with both keys in one token, and a pulled token', () => {
    const dir = () => join(work, 'hybrid-root');
    let serial = '';
    let ec: any;
    let ml: any;

    test('the alternative role takes ML-DSA keys only', async () => {
      await must('endSession');
      await must('openCeremony', { operator: 'Op', witnesses: ['W'], purpose: 'Catalyst in one token' });
      await must('confirmPreflight', preflightConfirmation('W'));
      ({ serial } = await tokenLoggedIn('Hybrid Token'));
      ec = await must('generateKey', { algorithm: 'ec-p384', label: 'hy-root' });
      const notMl = await call('generateKey', { algorithm: 'ec-p256', label: 'hy-wrong', role: 'alternative' });
      assert.equal(notMl.error?.code, 'INPUT_INVALID');
      assert.match(notMl.error!.message, /alternative key of a Catalyst CA is an ML-DSA key/);
      assert.equal((await call('selectKey', { label: 'hy-root', id: ec.key.id, role: 'alternative' })).error?.code, 'INPUT_INVALID');
      ml = await must('generateKey', { algorithm: 'ml-dsa-87', label: 'hy-root-pq', role: 'alternative' });
      assert.equal(ml.key.parameterSet, 'CKP_ML_DSA_87');
      assert.deepEqual(h.state.key, { kind: 'pkcs11', label: 'hy-root', id: ec.key.id }, 'the primary key stays the EC one');
      // A profile of one key with an alternative key chosen: refused, never silently dropped.
      const one = await call('previewCa', { profile: 'ec/root-ca', vars: { cn: 'One Key' }, dirId: await helpers.dirId('new-ca', join(work, 'one-key')) });
      assert.equal(one.error?.code, 'PROFILE_INVALID');
    });

    let requestId = '';
    test('the review shows both keys in the token, with their fingerprints', async () => {
      const r = await must('previewCa', { profile: 'hybrid/catalyst/root-ca', vars: { cn: 'Hybrid Token Root' }, dirId: await helpers.dirId('new-ca', dir()) });
      requestId = r.id;
      assert.equal(r.altSignatureAlgorithm, 'ml-dsa-87');
      assert.deepEqual(r.keys.map((k: any) => [k.role, k.where, k.algorithm, k.token?.keyLabel, k.token?.serial, k.file]), [
        ['primary', 'token', 'ec-p384', 'hy-root', serial, null],
        ['alternative', 'token', 'ml-dsa-87', 'hy-root-pq', serial, null],
      ]);
      assert.deepEqual(r.keys.map((k: any) => k.fingerprint), [grouped(ec.key.fingerprint), grouped(ml.key.fingerprint)]);
      assert.match(r.signedBy, /and its ML-DSA key “hy-root-pq” in the same token/);
      assert.deepEqual(r.secrets, { passphrase: null, altPassphrase: null }, 'no key file to encrypt');
    });

    test('signCa needs no ML-DSA passphrase: both signatures made in the token, both verified, no key file', async () => {
      const r = (await must('sign', { requestId })).issued;
      assert.equal(r.verification.ok, true, r.verification.message);
      assert.match(field(r.certificate, 'Alternative signature')!, /^valid \(ml-dsa-87/);
      assert.deepEqual(r.keys.map((k: any) => [k.role, k.where, k.token?.keyLabel, k.fingerprint]), [['primary', 'token', 'hy-root', grouped(ec.key.fingerprint)], ['alternative', 'token', 'hy-root-pq', grouped(ml.key.fingerprint)]]);
      assert.equal(existsSync(join(dir(), 'versions', 'v1', 'keys')), false);
      const ca = await helpers.openCa(dir());
      assert.deepEqual(ca.keys.map((k: any) => [k.role, k.where, k.token?.keyLabel]), [['primary', 'token', 'hy-root'], ['alternative', 'token', 'hy-root-pq']]);
      const [py] = pythonCheck([{ issuer: r.savedTo, doc: r.savedTo }]);
      assert.deepEqual([py.primary, py.alt?.valid], [true, true]);
    });

    test('a token pulled out before the next signature: refused in words, both key choices kept; Retry, login, and the CA signs with both token keys', async () => {
      const leaf = softSigner('ec-p256');
      const csr = await csrWith(leaf, 'hybrid-token.example.com', generateSoftwareKey('ml-dsa-65').spki);
      const files = hashTree(dir(), (rel) => rel === 'journal.jsonl');
      const entriesBefore = readJournal(dir()).length;
      const away = join(store.dir, 'pulled-out');
      const leafRequest = { purpose: 'end-entity', profile: 'hybrid/catalyst/tls-server', vars: { cn: 'hybrid-token.example.com' }, csrPem: csr, rootEndEntity: true };
      const prepared = await must('prepareIssue', leafRequest);
      renameSync(store.tokenDir, away);
      let moved = true;
      try {
        const issue = await call('sign', { requestId: prepared.id });
        assert.equal(issue.error?.code, 'TOKEN_NOT_PRESENT', issue.error?.message);
        assert.match(issue.error!.message, /Token “Hybrid Token” \(serial [0-9a-f]+\) stopped answering while signing.*Nothing was signed/);
        assert.equal(h.state.session, null, 'the dead session is dropped');
        assert.deepEqual([h.state.lostToken?.key?.label, h.state.lostToken?.altKey?.label], ['hy-root', 'hy-root-pq']);
        assert.deepEqual(hashTree(dir(), (rel) => rel === 'journal.jsonl'), files, 'no file of the CA but its journal changed');
        renameSync(away, store.tokenDir);
        moved = false;
      } finally {
        if (moved) renameSync(away, store.tokenDir);
      }
      const back = await must('reconnectToken');
      assert.equal(back.token.serial, serial);
      assert.deepEqual([h.state.key, h.state.altKey], [{ kind: 'pkcs11', label: 'hy-root', id: ec.key.id }, { kind: 'pkcs11', label: 'hy-root-pq', id: ml.key.id }]);
      const early = await must('prepareCrl', { days: 7 });
      assert.equal((await call('sign', { requestId: early.id })).error?.code, 'NOT_LOGGED_IN', 'the PIN is asked again');
      await must('login', { pin: PIN, });
      const leafAgain = await must('prepareIssue', leafRequest);
      const issued = (await must('sign', { requestId: leafAgain.id })).issued;
      assert.equal(issued.verification.ok, true, issued.verification.message);
      assert.match(field(issued.certificate, 'Alternative signature')!, /^valid \(ml-dsa-87/);
      const crl = await helpers.crl(7);
      assert.match(field(crl.crl, 'Alternative signature')!, /^valid \(ml-dsa-87/);
      for (const r of pythonCheck([{ issuer: join(dir(), 'ca.crt'), doc: issued.savedTo }, { issuer: join(dir(), 'ca.crt'), doc: crl.savedTo }])) {
        assert.deepEqual([r.primary, r.alt?.valid], [true, true], r.doc);
      }
      // The restored alternative key is the one the next review shows.
      const again = await must('previewCa', { profile: 'hybrid/catalyst/root-ca', vars: { cn: 'Second Root' }, dirId: await helpers.dirId('new-ca', join(work, 'second-root')) });
      assert.equal(again.keys[1].token.keyLabel, 'hy-root-pq');
      const added = readJournal(dir()).slice(entriesBefore);
      const reconnected = added.find((e) => e.kind === 'token.chosen' && e.facts.reconnected === true);
      assert.deepEqual([reconnected?.facts.keyLabel, reconnected?.facts.altKeyLabel], ['hy-root', 'hy-root-pq']);
      assert.ok(added.some((e) => e.kind === 'error' && e.facts.during === 'sign'));
      assert.equal(verifyJournal(dir()).ok, true);
      assert.deepEqual(checkCaDir(dir()).problems, []);
      assert.ok(!readFileSync(join(dir(), 'journal.jsonl'), 'utf8').includes(PIN));
      assert.ok(readdirSync(join(dir(), 'certs')).length === 1, 'one certificate issued, after the reconnect');
    });
  });

  describe('Catalyst with the ML-DSA key in a second token of the library', () => {
    const dir = () => join(work, 'two-token-root');
    const PIN2 = 'second-token-pin-98765';
    let mainSerial = '';
    let altSerial = '';
    let altTokenDir = '';
    let ec: any;
    let ml: any;
    let requestId = '';

    test('the second token opens beside the ceremony\'s own, logs in with its own PIN, and makes the ML-DSA key', async () => {
      await must('endSession');
      await must('openCeremony', { operator: 'Op', witnesses: ['W'], purpose: 'Catalyst in two tokens' });
      await must('confirmPreflight', preflightConfirmation('W'));
      const before = new Set(readdirSync(store.tokenDir));
      altSerial = store.initToken('PQ Second', SO, PIN2);
      altTokenDir = join(store.tokenDir, readdirSync(store.tokenDir).find((d) => !before.has(d))!);
      ({ serial: mainSerial } = await tokenLoggedIn('Classical Token'));
      ec = await must('generateKey', { algorithm: 'ec-p384', label: 'two-root' });
      // The ceremony's own token is not a second token.
      const same = await call('openToken', { serial: mainSerial, role: 'alternative' });
      assert.equal(same.error?.code, 'INPUT_INVALID');
      const opened = await must('openToken', { serial: altSerial, role: 'alternative' });
      assert.equal(opened.token.serial, altSerial);
      assert.equal((await call('listKeys', { role: 'alternative' })).error?.code, 'NOT_LOGGED_IN', 'nothing is read before its own login');
      const wrong = await call('login', { pin: PIN, role: 'alternative' });
      assert.equal(wrong.error?.code, 'PIN_INCORRECT', 'the first token\'s PIN is not the second\'s');
      await must('login', { pin: PIN2, role: 'alternative' });
      assert.equal(h.state.session?.token.serial, mainSerial);
      assert.equal(h.state.session?.isLoggedIn, true, 'the ceremony\'s token stays logged in');
      ml = await must('generateKey', { algorithm: 'ml-dsa-87', label: 'two-root-pq', role: 'alternative' });
      assert.equal(ml.key.parameterSet, 'CKP_ML_DSA_87');
      assert.deepEqual((await must('listKeys', { role: 'alternative' })).keys.map((k: any) => k.label), ['two-root-pq']);
      assert.deepEqual((await must('listKeys')).keys.map((k: any) => k.label), ['two-root'], 'the ML-DSA key is not in the first token');
    });

    test('the review and the result say the ML-DSA key is in the second token; both signatures verify', async () => {
      const r = await must('previewCa', { profile: 'hybrid/catalyst/root-ca', vars: { cn: 'Two Token Root' }, dirId: await helpers.dirId('new-ca', dir()) });
      requestId = r.id;
      assert.deepEqual(r.keys.map((k: any) => [k.role, k.where, k.token?.keyLabel, k.token?.serial]), [
        ['primary', 'token', 'two-root', mainSerial],
        ['alternative', 'token', 'two-root-pq', altSerial],
      ]);
      assert.match(r.signedBy, new RegExp(`ML-DSA key “two-root-pq” in a second token, “PQ Second” \\(serial ${altSerial}\\)`));
      assert.deepEqual(r.secrets, { passphrase: null, altPassphrase: null });
      const done = (await must('sign', { requestId })).issued;
      assert.equal(done.verification.ok, true, done.verification.message);
      assert.deepEqual(done.keys.map((k: any) => [k.role, k.token?.serial, k.fingerprint]), [['primary', mainSerial, grouped(ec.key.fingerprint)], ['alternative', altSerial, grouped(ml.key.fingerprint)]]);
      assert.equal(existsSync(join(dir(), 'versions', 'v1', 'keys')), false, 'no key file');
      const [py] = pythonCheck([{ issuer: done.savedTo, doc: done.savedTo }]);
      assert.deepEqual([py.primary, py.alt?.valid], [true, true]);
      const meta = JSON.parse(readFileSync(join(dir(), 'ca.meta.json'), 'utf8'));
      const serials = JSON.stringify(meta);
      assert.ok(serials.includes(altSerial) && serials.includes(mainSerial), 'the metadata names both tokens');
      const entries = readJournal(dir());
      const altEvents = entries.filter((e) => e.facts.role === 'CA alternative (post-quantum) key').map((e) => e.kind);
      assert.ok(altEvents.includes('token.chosen') && altEvents.includes('login.succeeded') && altEvents.includes('key.generated'), altEvents.join(' '));
      const text = readFileSync(join(dir(), 'journal.jsonl'), 'utf8');
      assert.ok(!text.includes(PIN2) && !text.includes(PIN), 'no PIN in the journal');
    });

    test('without the second token the CA does not sign; opened and logged in again, it does', async () => {
      await must('endAltSession');
      await helpers.openCa(dir());
      const leafRequest = { purpose: 'end-entity', profile: 'hybrid/catalyst/tls-server', vars: { cn: 'two-token.example.com' }, csrPem: await csrWith(softSigner('ec-p256'), 'two-token.example.com', generateSoftwareKey('ml-dsa-65').spki), rootEndEntity: true };
      const refused = await helpers.signRaw('prepareIssue', leafRequest);
      assert.equal(refused.error?.code, 'NOT_LOGGED_IN');
      assert.match(refused.error!.message, /ML-DSA key is in another token, “PQ Second”.*key step/);
      await must('openToken', { serial: altSerial, role: 'alternative' });
      await must('login', { pin: PIN2, role: 'alternative' });
      const signed = await helpers.signRaw('prepareIssue', leafRequest);
      assert.equal(signed.ok, true, JSON.stringify(signed.error));
      const issued = signed.value.issued;
      assert.match(field(issued.certificate, 'Alternative signature')!, /^valid \(ml-dsa-87/);
      const [py] = pythonCheck([{ issuer: join(dir(), 'ca.crt'), doc: issued.savedTo }]);
      assert.deepEqual([py.primary, py.alt?.valid], [true, true]);
    });

    test('the second token pulled out: only its session goes, the refusal names it, the first token stays logged in', async () => {
      const files = hashTree(dir(), (rel) => rel === 'journal.jsonl');
      const prepared = await must('prepareCrl', { days: 7 });
      const away = `${altTokenDir}-away`;
      renameSync(altTokenDir, away);
      try {
        const r = await call('sign', { requestId: prepared.id });
        assert.equal(r.error?.code, 'TOKEN_NOT_PRESENT', r.error?.message);
        assert.match(r.error!.message, /“PQ Second”.*the token of the ML-DSA key, stopped answering/);
      } finally {
        renameSync(away, altTokenDir);
      }
      assert.equal(h.state.altSession, null);
      assert.equal(h.state.session?.isLoggedIn, true, 'the ceremony\'s token is untouched');
      assert.deepEqual(hashTree(dir(), (rel) => rel === 'journal.jsonl'), files, 'nothing but the journal changed');
      assert.equal(verifyJournal(dir()).ok, true);
    });
  });
});
