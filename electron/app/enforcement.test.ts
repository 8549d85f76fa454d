/**
 * Main enforces the ceremony: each rule of the signing-request rework, tried as a hostile or
 * buggy renderer would (calling the handler table directly, with ids and fields it makes up),
 * against a real SoftHSM2 token. Each test asserts the refusal and that nothing was signed,
 * loaded or written; what is signed is checked with Python `cryptography` and OpenSSL.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeSoftHsmStore, SOFTHSM_LIB } from '../../test/softhsm';
import { appOnStore } from '../../test/app-on-store';
import { preflightConfirmation } from '../../test/handler-calls';
import { readJournal } from '../core/journal/journal';
import { hashTree } from '../../test/faults/helpers';
import { revokeInIndex } from '../core/ca/revoke';

const store = makeSoftHsmStore();
process.env.SOFTHSM2_CONF = store.conf;
const PIN = 'enforce-pin-123456';
const serial = store.initToken('Enforce Token', 'enforce-so-123456', PIN);
const { work, h, call, ok, dirId, loadLibrary, openCa } = appOnStore(store, 'enforce');

/** The one hash format on screen: lower-case hex in groups of 4 (core's groupHex). */
const grouped = (hex: string) => (hex.match(/.{1,4}/g) ?? []).join(' ');
const sha256Tbs = (pem: string) => execFileSync('python3', ['-c', 'import sys,hashlib;from cryptography import x509;print(hashlib.sha256(x509.load_pem_x509_certificate(sys.stdin.buffer.read()).tbs_certificate_bytes).hexdigest())'], { input: pem, encoding: 'utf8' }).trim();
const opensslText = (path: string) => execFileSync('openssl', ['x509', '-in', path, '-noout', '-text'], { encoding: 'utf8' });

function csr(name: string, subject: string, extra: string[] = []): string {
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(work, `${name}.key`), '-out', join(work, `${name}.csr`), '-subj', subject, ...extra], { stdio: 'pipe' });
  return readFileSync(join(work, `${name}.csr`), 'utf8');
}

/**
 * A PKCS#11 "library" whose ELF constructor leaves a marker file: loading it is running code in
 * main, which is exactly what must not happen unless the operator chose and confirmed it.
 */
const EVIL = join(work, 'libevil.so');
const MARKER = join(work, 'evil-ran');
before(() => {
  const src = join(work, 'evil.c');
  writeFileSync(src, `#include <stdio.h>\n__attribute__((constructor)) static void ran(void) { FILE *f = fopen("${MARKER}", "w"); if (f) { fputs("ran", f); fclose(f); } }\n`);
  execFileSync('gcc', ['-shared', '-fPIC', '-o', EVIL, src]);
});

let root = '';
let keyId = '';

test('a library the renderer names is never loaded: no path field, no forged id; a chosen one only after main’s own confirmation of its path and SHA-256', async () => {
  await ok('openCeremony', { operator: 'Alice Operator', witnesses: ['Bob Witness'], purpose: 'enforcement' });
  await ok('confirmPreflight', preflightConfirmation('Bob Witness'));
  assert.equal((await call('loadModule', { path: EVIL })).error?.code, 'INPUT_INVALID');
  assert.equal((await call('loadModule', { moduleId: 'module-00112233445566778899aabb' })).error?.code, 'INPUT_INVALID');
  // The operator picks the file in main's dialog, then says no to main's question.
  h.answers.moduleFile = EVIL;
  const picked = (await ok('chooseModuleFile')).module;
  h.answers.moduleFile = null;
  assert.equal(picked.sha256, execFileSync('sha256sum', [EVIL], { encoding: 'utf8' }).split(' ')[0]);
  h.answers.confirm = (c) => c.kind !== 'load-module';
  const declined = await call('loadModule', { moduleId: picked.id });
  h.answers.confirm = true;
  assert.equal(declined.error?.code, 'NOT_CONFIRMED');
  const asked = h.confirmations.at(-1)!;
  assert.deepEqual([asked.kind, asked.facts.find((f) => f.label === 'Library')?.value, asked.facts.find((f) => f.label === 'SHA-256')?.value], ['load-module', EVIL, grouped(picked.sha256)]);
  assert.equal(existsSync(MARKER), false, 'the library’s code never ran');
  assert.equal(h.state.module, null);
  const rec = h.state.ceremony.pendingEvents().filter((e) => e.kind === 'confirmation').at(-1)!;
  assert.deepEqual([rec.facts.question, rec.facts.answer, rec.facts.librarySha256], ['load-module', 'no', picked.sha256]);
});

test('root: the review is the exact TBS the token signs; the confirmation names it; a declined confirmation signs nothing', async () => {
  await loadLibrary(SOFTHSM_LIB);
  await ok('openToken', { serial });
  await ok('login', { pin: PIN });
  const gen = await ok('generateKey', { algorithm: 'ec-p384', label: 'enforce-root' });
  keyId = gen.key.id;
  root = join(work, 'root');
  mkdirSync(root); // an existing empty folder is a valid target
  // A directory string, or an id for another purpose, is refused.
  assert.equal((await call('previewCa', { profile: 'ec/root-ca', vars: { cn: 'Enforce Root' }, dir: root })).error?.code, 'INPUT_INVALID');
  const openId = await dirId('open-ca', root);
  assert.equal((await call('previewCa', { profile: 'ec/root-ca', vars: { cn: 'Enforce Root' }, dirId: openId })).error?.code, 'INPUT_INVALID');
  const vars = { cn: 'Enforce Root', organization: 'QPKI Test', country: 'FR' };
  const req = await ok('previewCa', { profile: 'ec/root-ca', vars, dirId: await dirId('new-ca', root) });
  assert.equal(req.keyFingerprint, grouped(gen.key.fingerprint));
  assert.deepEqual([req.isCa, req.targetDir, req.purpose], [true, root, 'root']);
  // Forged ids sign nothing.
  assert.equal((await call('sign', { requestId: 'request-00112233445566778899aabbccddeeff' })).error?.code, 'SIGNING_REQUEST_UNKNOWN');
  // Declined in main's dialog: nothing signed, nothing written, the answer on the record.
  h.answers.confirm = (c) => c.kind !== 'sign';
  const no = await call('sign', { requestId: req.id });
  h.answers.confirm = true;
  assert.equal(no.error?.code, 'NOT_CONFIRMED');
  assert.deepEqual(readdirSync(root), [], 'the folder is still empty');
  const q = h.confirmations.at(-1)!;
  const fact = (label: string) => q.facts.find((f) => f.label === label)?.value;
  assert.equal(q.kind, 'sign');
  assert.equal(fact('To-be-signed SHA-256'), req.tbsSha256);
  assert.equal(fact('Written to'), root);
  assert.match(fact('Certificate authority')!, /^yes/);
  assert.equal(fact('Subject'), req.subject);
  // Signing a moment later: the dates are the reviewed ones, and the TBS is byte for byte the reviewed one.
  await new Promise((r) => setTimeout(r, 1100));
  const signed = (await ok('sign', { requestId: req.id })).issued;
  const pem = readFileSync(signed.savedTo, 'utf8');
  assert.equal(grouped(sha256Tbs(pem)), req.tbsSha256);
  assert.equal(signed.certificate.fields.find((f: { label: string }) => f.label === 'Valid from').value, req.notBefore);
  assert.match(execFileSync('openssl', ['verify', '-x509_strict', '-CAfile', signed.savedTo, signed.savedTo], { encoding: 'utf8' }), /: OK/);
  // Signed once: the id is spent.
  assert.equal((await call('sign', { requestId: req.id })).error?.code, 'SIGNING_REQUEST_UNKNOWN');
  const kinds = readJournal(root).map((e) => e.kind);
  assert.deepEqual(kinds.slice(-4), ['signing.prepared', 'confirmation', 'confirmation', 'certificate.signed']);
});

test('issuing from a request: the review flags where the certificate differs from it; CA profiles only in the subordinate flow, end entities only by a root override', async () => {
  const ca = await openCa(root);
  assert.equal(ca.isRoot, true);
  const sub = csr('sub', '/CN=Asked Name/O=Asked Org');
  // The end-entity flow refuses a CA profile; the subordinate flow an end-entity profile.
  assert.equal((await call('prepareIssue', { purpose: 'end-entity', csrPem: sub, profile: 'ec/issuing-ca', vars: { cn: 'x' } })).error?.code, 'PROFILE_INVALID');
  assert.equal((await call('prepareIssue', { purpose: 'subordinate-ca', csrPem: sub, profile: 'ec/tls-server', vars: { cn: 'x.example.com' } })).error?.code, 'PROFILE_INVALID');
  // What the request suggests pre-fills the form; a different name is flagged.
  const read = await ok('readCsr', { csrPem: sub, profile: 'ec/issuing-ca' });
  assert.deepEqual([read.vars.cn, read.vars.organization], ['Asked Name', 'Asked Org']);
  const req = await ok('prepareIssue', { purpose: 'subordinate-ca', csrPem: sub, profile: 'ec/issuing-ca', vars: { cn: 'Issued Name' } });
  // RFC 4514 order, most specific (last in the DER) first: this request's DER lists CN, then O.
  assert.equal(req.csr.subject, 'O=Asked Org, CN=Asked Name');
  const diff = req.csr.differences.find((d: { field: string }) => d.field === 'Subject');
  assert.deepEqual([diff.requested, diff.issued], ['O=Asked Org, CN=Asked Name', 'CN=Issued Name']);
  assert.equal(req.isCa, true);
  // Withdrawn: the id is dead.
  assert.deepEqual(await ok('withdrawRequest', { requestId: req.id }), { withdrawn: true });
  assert.equal((await call('sign', { requestId: req.id })).error?.code, 'SIGNING_REQUEST_UNKNOWN');

  // An end entity from this root: refused, then the override declined, then accepted (journaled).
  const leaf = csr('leaf', '/CN=leaf.example.com', ['-addext', 'subjectAltName=DNS:leaf.example.com,DNS:other.example.com']);
  const ee = { purpose: 'end-entity', csrPem: leaf, profile: 'ec/tls-server', vars: { cn: 'leaf.example.com', policy_oid: '1.3.6.1.4.1.55555.1', cps_url: 'https://cps.example.com/policy' } };
  const refused = await call('prepareIssue', ee);
  assert.equal(refused.error?.code, 'PROFILE_INVALID');
  assert.match(refused.error!.message, /BR 6\.1\.7/);
  h.answers.confirm = (c) => c.kind !== 'root-end-entity';
  assert.equal((await call('prepareIssue', { ...ee, rootEndEntity: true })).error?.code, 'NOT_CONFIRMED');
  h.answers.confirm = true;
  const r = await ok('prepareIssue', { ...ee, rootEndEntity: true });
  assert.equal(r.isCa, false);
  assert.match(r.warnings.join(' '), /BR 6\.1\.7/);
  // other.example.com was asked for and is not in the profile's names: flagged.
  assert.ok(r.csr.differences.some((d: { field: string }) => d.field === 'Subject alternative names'), JSON.stringify(r.csr.differences));
  // Every qualifier is in the review: the CPS URI of the policy.
  const policies = r.document.extensions.find((e: { oid: string }) => e.oid === '2.5.29.32');
  assert.match(policies.value, /https:\/\/cps\.example\.com\/policy/);
  const out = (await ok('sign', { requestId: r.id })).issued;
  assert.equal(grouped(sha256Tbs(readFileSync(out.savedTo, 'utf8'))), r.tbsSha256);
  assert.match(opensslText(out.savedTo), /CPS: https:\/\/cps\.example\.com\/policy/);
  const j = readJournal(root);
  const override = j.filter((e) => e.kind === 'confirmation' && e.facts.question === 'root-end-entity').map((e) => e.facts.answer);
  assert.deepEqual(override, ['no', 'yes']);
});

test('a CRL request is bound to the facts it was built from: a revocation since makes it refuse; the CA certificate replaced since too', async () => {
  const before = await ok('prepareCrl', { days: 7 });
  const issued = readdirSync(join(root, 'certs'))[0].replace(/\.crt$/, '');
  // Revoked meanwhile (the command line beside the app would do the same to index.txt).
  revokeInIndex(root, issued, 'superseded');
  const stale = await call('sign', { requestId: before.id });
  assert.equal(stale.error?.code, 'CA_INVALID');
  assert.match(stale.error!.message, /revocations in index\.txt changed since this CRL was reviewed/);
  const now = await ok('prepareCrl', { days: 7 });
  assert.deepEqual(now.crl.revoked.map((x: { serial: string }) => x.serial.toLowerCase()), [issued.toLowerCase()]);
  // The CA certificate file changed under the review (another root copied over it): refused.
  const files = hashTree(root, (rel) => rel === 'journal.jsonl');
  const certPath = join(root, 'versions', 'v1', 'certs', readdirSync(join(root, 'versions', 'v1', 'certs'))[0]);
  const original = readFileSync(certPath);
  const other = join(work, 'other-root');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${other}.key`, '-out', `${other}.pem`, '-subj', '/CN=Enforce Root/O=QPKI Test/C=FR', '-days', '30'], { stdio: 'pipe' });
  writeFileSync(certPath, readFileSync(`${other}.pem`));
  try {
    const swapped = await call('sign', { requestId: now.id });
    assert.equal(swapped.error?.code, 'CA_INVALID');
  } finally {
    writeFileSync(certPath, original);
  }
  assert.deepEqual(hashTree(root, (rel) => rel === 'journal.jsonl'), files, 'no CRL was written');
  const failed = readJournal(root).filter((e) => e.kind === 'signing.failed').map((e) => e.facts.code);
  assert.deepEqual(failed, ['CA_INVALID', 'CA_INVALID'], 'each failed signing attempt is on the record');
});

test('a library ca.meta.json names is loaded only if it is the one the operator opened', async () => {
  const meta = JSON.parse(readFileSync(join(root, 'ca.meta.json'), 'utf8'));
  meta.versions.v1.keys[0].storage.lib = EVIL;
  writeFileSync(join(root, 'ca.meta.json'), JSON.stringify(meta, null, 2));
  const req = await ok('prepareCrl', { days: 7 });
  const r = await call('sign', { requestId: req.id });
  assert.equal(r.error?.code, 'MODULE_NOT_APPROVED');
  assert.match(r.error!.message, new RegExp(EVIL.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
  assert.equal(existsSync(MARKER), false, 'the library named by the metadata never ran');
});

test('software keystore: a new key file is never written unencrypted or under a short passphrase; its review shows its real fingerprint', async () => {
  await ok('useSoftwareKeystore', { algorithm: 'ec-p256' });
  const dir = join(work, 'soft-root');
  const req = await ok('previewCa', { profile: 'ec/issuing-ca', vars: { cn: 'Soft Root' }, dirId: await dirId('new-ca', dir) });
  assert.deepEqual(req.secrets, { passphrase: 'new', altPassphrase: null });
  assert.match(req.keyFingerprint, /^([0-9a-f]{4} ){15}[0-9a-f]{4}$/, 'the key exists before the review');
  for (const passphrase of [undefined, 'eleven-char']) {
    const r = await call('sign', { requestId: req.id, ...(passphrase ? { passphrase } : {}) });
    assert.equal(r.error?.code, 'PASSPHRASE_REQUIRED');
    assert.equal(existsSync(dir), false);
  }
  const out = (await ok('sign', { requestId: req.id, passphrase: 'twelve-chars' })).issued;
  assert.equal(out.keys[0].fingerprint, req.keyFingerprint, 'signed with the key reviewed');
  const ski = (d: { extensions: Array<{ oid: string; value: string }> }) => d.extensions.find((e) => e.oid === '2.5.29.14')!.value;
  assert.equal(ski(out.certificate), ski(req.document));
  assert.match(readFileSync(join(dir, 'versions', 'v1', 'keys', 'ca.ecdsa-p256.key'), 'utf8'), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
});

test('a key that already backs a CA this app knows is made the key of another only by the operator’s confirmation', async () => {
  await ok('endSession');
  await ok('openCeremony', { operator: 'Alice Operator', witnesses: ['Bob Witness'], purpose: 'second root' });
  await ok('confirmPreflight', preflightConfirmation('Bob Witness'));
  await loadLibrary(SOFTHSM_LIB);
  await ok('openToken', { serial });
  await ok('login', { pin: PIN });
  const keys = (await ok('listKeys')).keys;
  const k = keys.find((x: { label: string }) => x.label === 'enforce-root');
  assert.deepEqual(k.backs.map((b: { dir: string }) => b.dir), [root], 'the key list says which CA the key backs');
  // And when it was made, from the record of the ceremony that made it (the token keeps no such date).
  const made = readJournal(root).find((e) => e.kind === 'key.generated')!;
  assert.deepEqual(k.generated, { time: made.time, where: `the journal of ${root}` });
  await ok('selectKey', { label: 'enforce-root', id: keyId });
  const dir = join(work, 'second-root');
  h.answers.confirm = (c) => c.kind !== 'reuse-key';
  const r = await call('previewCa', { profile: 'ec/root-ca', vars: { cn: 'Second Root' }, dirId: await dirId('new-ca', dir) });
  h.answers.confirm = true;
  assert.equal(r.error?.code, 'NOT_CONFIRMED');
  const q = h.confirmations.at(-1)!;
  assert.equal(q.kind, 'reuse-key');
  assert.ok(q.facts.some((f) => f.label === 'Already the key of' && f.value.includes(root)));
  assert.equal(existsSync(dir), false);
  // A request made for one key is not signed after another key was chosen.
  const req = await ok('previewCa', { profile: 'ec/root-ca', vars: { cn: 'Second Root' }, dirId: await dirId('new-ca', dir) });
  await ok('generateKey', { algorithm: 'ec-p256', label: 'other-key' });
  assert.equal((await call('sign', { requestId: req.id })).error?.code, 'SIGNING_REQUEST_UNKNOWN');
  assert.equal(existsSync(dir), false);
});

test('the lint gate in the app: the review shows the verdict on the exact TBS; a blocking error makes main refuse to sign, and nothing is written', async () => {
  await ok('endSession');
  await ok('openCeremony', { operator: 'Alice Operator', witnesses: ['Bob Witness'], purpose: 'lint gate' });
  await ok('confirmPreflight', preflightConfirmation('Bob Witness'));
  await loadLibrary(SOFTHSM_LIB);
  await ok('openToken', { serial });
  await ok('login', { pin: PIN });
  await ok('generateKey', { algorithm: 'ec-p384', label: 'br-root-key' });
  const dir = join(work, 'br-root');
  const req = await ok('previewCa', { profile: 'br/ec/root-ca', vars: { cn: 'Gate BR Root', organization: 'QPKI Test', country: 'FR' }, dirId: await dirId('new-ca', dir) });
  assert.equal(req.lint.pki, 'public-tls');
  assert.deepEqual(req.lint.blocking, [], 'a BR root from the BR profile passes');
  assert.equal(req.lint.kind, 'root');
  await ok('sign', { requestId: req.id });
  await openCa(dir);
  // A root's CRL may be valid 12 months (BR 7.2): 400 days is refused by main at preparation,
  // for every CA (the lint gate's br.crl.next_update_too_far stays behind it for public-TLS ones).
  const files = hashTree(dir, (rel) => rel === 'journal.jsonl');
  const long = await call('prepareCrl', { days: 400 });
  assert.equal(long.error?.code, 'CRL_VALIDITY_TOO_LONG');
  assert.match(long.error!.message, /BR 7\.2/);
  assert.deepEqual(hashTree(dir, (rel) => rel === 'journal.jsonl'), files, 'no CRL written, crlnumber unchanged');
  const fine = await ok('prepareCrl', { days: 365 });
  assert.deepEqual(fine.lint.blocking, []);
  await ok('sign', { requestId: fine.id });
  assert.ok(existsSync(join(dir, 'crl', 'ca.crl')));
});

test('a ceremony signs nothing before a witness confirmed the clock against a reference time and gave the reason for the preflight warnings', async () => {
  await ok('endSession');
  await ok('openCeremony', { operator: 'Alice Operator', witnesses: ['Bob Witness'], purpose: 'preflight confirmation' });
  const warnings = h.state.ceremony.preflightWarnings;
  await loadLibrary(SOFTHSM_LIB);
  await ok('openToken', { serial });
  await ok('login', { pin: PIN });
  await ok('generateKey', { algorithm: 'ec-p384', label: 'preflight-root' });
  const dir = join(work, 'preflight-root');
  const req = await ok('previewCa', { profile: 'ec/root-ca', vars: { cn: 'Preflight Root' }, dirId: await dirId('new-ca', dir) });
  const early = await call('sign', { requestId: req.id });
  assert.equal(early.error?.code, 'PREFLIGHT_UNCONFIRMED');
  assert.equal(existsSync(join(dir, 'ca.crt')), false, 'nothing signed');
  const now = preflightConfirmation('Bob Witness');
  // Only a witness of this ceremony confirms; the operator is not one.
  assert.equal((await call('confirmPreflight', { ...now, witness: 'Alice Operator' })).error?.code, 'INPUT_INVALID');
  assert.equal((await call('confirmPreflight', { ...now, referenceTime: '15/01/2027 09:30' })).error?.code, 'INPUT_INVALID');
  if (warnings.length) {
    const bare = await call('confirmPreflight', { witness: 'Bob Witness', referenceTime: now.referenceTime });
    assert.equal(bare.error?.code, 'INPUT_INVALID');
    assert.match(bare.error!.message, /reason for going on is needed/);
  }
  // A clock an hour off is on the record and stops the ceremony.
  const hourOff = new Date(Date.now() - 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const off = await call('confirmPreflight', { ...now, referenceTime: hourOff });
  assert.equal(off.error?.code, 'INPUT_INVALID');
  assert.match(off.error!.message, /ahead of the reference time/);
  assert.equal((await call('sign', { requestId: req.id })).error?.code, 'PREFLIGHT_UNCONFIRMED');
  const confirmed = await ok('confirmPreflight', now);
  assert.ok(Math.abs(confirmed.differenceSeconds) <= 2, String(confirmed.differenceSeconds));
  await ok('sign', { requestId: req.id });
  const acks = readJournal(dir).filter((e) => e.kind === 'witness.acknowledged').map((e) => e.facts);
  assert.deepEqual(acks.filter((f) => f.what === 'clock').map((f) => [f.witness, Math.abs(Number(f.differenceSeconds)) > 3000]), [['Bob Witness', true], ['Bob Witness', false]]);
  if (warnings.length) assert.deepEqual(acks.filter((f) => f.what === 'preflight').map((f) => [f.note, f.warnings]), [[now.justification, warnings]]);
});

test('outside an open ceremony main changes nothing: no token initialized, no key made, nothing revoked or signed, nothing held for no one', async () => {
  // The last test left a ceremony open, logged in; a request is prepared in it, then the renderer
  // ends that ceremony and goes on alone.
  const earlierRequest: string = (await ok('previewCa', { profile: 'ec/root-ca', vars: { cn: 'Earlier Root' }, dirId: await dirId('new-ca', join(work, 'earlier-root')) })).id;
  await ok('endSession');
  assert.equal(h.state.ceremony.isOpen, false);
  await loadLibrary(SOFTHSM_LIB);
  await ok('openToken', { serial });
  await ok('login', { pin: PIN });
  const objects = () => h.state.session!.listObjects().length;
  const before = objects();
  const refused = (r: { error?: { code: string; message: string } }, what: RegExp) => {
    assert.equal(r.error?.code, 'CEREMONY_NOT_OPEN', JSON.stringify(r.error));
    assert.match(r.error!.message, what);
  };
  refused(await call('generateKey', { algorithm: 'ec-p384', label: 'no-ceremony-key' }), /^Nothing was done: generating a key happens only within an open ceremony/);
  assert.equal(objects(), before, 'no key pair was made');
  // An existing key: no request is prepared with it.
  const key = (await ok('listKeys')).keys.find((k: { label: string }) => k.label === 'preflight-root');
  await ok('selectKey', { label: key.label, id: key.id });
  const dir = join(work, 'no-ceremony-root');
  refused(await call('previewCa', { profile: 'ec/root-ca', vars: { cn: 'No Ceremony Root' }, dirId: await dirId('new-ca', dir) }), /preparing a signature happens only/);
  refused(await call('prepareCrl', { days: 30 }), /preparing a signature happens only/);
  refused(await call('preparePlanCross', {}), /preparing a cross-certificate happens only/);
  // A request prepared by an earlier ceremony is not signed once it has closed.
  refused(await call('sign', { requestId: earlierRequest }), /signing happens only within an open ceremony/);
  assert.equal(existsSync(join(dir, 'ca.crt')), false, 'nothing signed');
  refused(await call('revokeCertificate', { serial: '01', reason: 'keyCompromise' }), /revoking a certificate happens only/);
  const slots = (await ok('listSlots')).slots;
  const blank = slots.find((s: { tokenPresent: boolean; token: { flags: { initialized: boolean } } | null }) => s.tokenPresent && s.token && !s.token.flags.initialized);
  refused(await call('initToken', { slotId: blank.slotId, label: 'No Ceremony', soPin: 'no-ceremony-so-1234', userPin: 'no-ceremony-user-1234' }), /initializing a token happens only/);
  assert.equal((await ok('listSlots')).slots.find((s: { slotId: string }) => s.slotId === blank.slotId).token.flags.initialized, false, 'the blank token stays blank');
  refused(await call('openCa', { dirId: await dirId('open-ca', join(work, 'preflight-root')) }), /opening a CA directory happens only/);
  // What waits for the next ceremony (which names it, with its time, after its opening) changed
  // nothing: a library loaded and its confirmation, a token chosen, a login, a key chosen.
  assert.deepEqual([...new Set(h.state.ceremony.pendingEvents().map((e) => e.kind))].sort(), ['confirmation', 'key.selected', 'login.succeeded', 'module.loaded', 'token.chosen']);
  await ok('endSession');
});
