/**
 * A token pulled out mid-ceremony, through the app's handler table on SoftHSM2: its store moved
 * away between the root ceremony and the next signature. The request fails in words, main drops
 * the dead session, the CA's files stay as they were (only the journal gains the record of the
 * loss), and Retry (reconnectToken, then login) continues once the store is back.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { makeSoftHsmStore, SOFTHSM_LIB } from '../../test/softhsm';
import { hashTree } from '../../test/faults/helpers';
import { checkCaDir } from '../core/ca/check';
import { readJournal, verifyJournal } from '../core/journal/journal';
import { makeHarness } from '../../test/harness/test-harness';
import { preflightConfirmation, handlerCalls } from '../../test/handler-calls';

const store = makeSoftHsmStore();
process.env.SOFTHSM2_CONF = store.conf;
const PIN = 'recover-pin-123456';
const serial = store.initToken('Recover Token', 'recover-so-123456', PIN);
const h = makeHarness({ softhsmPath: SOFTHSM_LIB, devTokenDir: store.dir });
after(() => {
  h.state.endCeremony();
  store.cleanup();
});

const { call, ok, loadLibrary, root } = handlerCalls(h);

function csr(name: string, cn: string): string {
  const dir = store.dir;
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.csr`), '-subj', `/CN=${cn}`], { stdio: 'pipe' });
  return readFileSync(join(dir, `${name}.csr`), 'utf8');
}

test('token store moved away after the root ceremony: clear error, dead session dropped, CA unchanged; Retry and a new login finish the issuance and the CRL', async () => {
  await ok('openCeremony', { operator: 'Alice Operator', witnesses: ['Bob Witness'], purpose: 'token loss rehearsal' });
  await ok('confirmPreflight', preflightConfirmation('Bob Witness'));
  await loadLibrary(SOFTHSM_LIB);
  await ok('openToken', { serial });
  await ok('login', { pin: PIN });
  await ok('generateKey', { algorithm: 'ec-p384', label: 'root-key' });
  const dir = join(store.dir, 'root');
  const vars = { cn: 'Recover Root' };
  await root('ec/root-ca', vars, dir);
  const leafCsr = csr('leaf', 'back.example.com');
  // A root signs this end entity by the operator's override (asked by main, answered yes here).
  const leaf = { purpose: 'end-entity', profile: 'ec/tls-server', vars: { cn: 'back.example.com' }, csrPem: leafCsr, rootEndEntity: true };
  const prepared = await ok('prepareIssue', leaf);

  const [name] = readdirSync(store.tokenDir);
  const away = join(store.dir, 'pulled-out');
  const files = hashTree(dir, (rel) => rel === 'journal.jsonl');
  const entriesBefore = readJournal(dir).length;
  renameSync(join(store.tokenDir, name), away);
  let moved = true;
  try {
    const issue = await call('sign', { requestId: prepared.id });
    assert.equal(issue.ok, false);
    assert.equal(issue.error!.code, 'TOKEN_NOT_PRESENT', issue.error!.message);
    assert.match(issue.error!.message, /Token “Recover Token” \(serial [0-9a-f]+\) stopped answering while signing/);
    assert.match(issue.error!.message, /Nothing was signed/);
    assert.match(issue.error!.message, /Reconnect the token, then press Retry/);
    assert.equal(h.state.session, null, 'the dead session is dropped');
    assert.equal(h.state.lostToken?.serial, serial);
    // No request runs on the lost session: the next one says no token is open, it does not touch the token.
    const keys = await call('listKeys');
    assert.equal(keys.error!.code, 'SESSION_CLOSED');
    // Preparing needs no token; signing does, and says so.
    const crlReq = await ok('prepareCrl', { days: 7 });
    const crl = await call('sign', { requestId: crlReq.id });
    assert.equal(crl.error!.code, 'NOT_LOGGED_IN');
    // Retry while the token is still away: refused in words, and Retry stays possible.
    const early = await call('reconnectToken');
    assert.ok(['TOKEN_NOT_FOUND', 'TOKEN_NOT_PRESENT'].includes(early.error!.code), JSON.stringify(early.error));
    assert.ok(early.error!.message.includes(serial), early.error!.message);
    assert.equal(h.state.lostToken?.serial, serial);

    assert.deepEqual(hashTree(dir, (rel) => rel === 'journal.jsonl'), files, 'no file of the CA but its journal changed');
    const added = readJournal(dir).slice(entriesBefore);
    const err = added.find((e) => e.kind === 'error');
    assert.ok(err, `an error entry records the loss: ${added.map((e) => e.kind)}`);
    assert.equal(err.facts.code, 'KEY_NOT_FOUND', 'SoftHSM2 without its store finds no key; main asked the token and called it a loss');
    assert.equal(err.facts.tokenSerial, serial);
    assert.equal(err.facts.during, 'sign');
    // The issuance that had started is accounted for, so ca check has nothing in flight.
    const started = added.find((e) => e.kind === 'issuance.started');
    if (started) {
      assert.equal(err.facts.event, 'issuance.interrupted');
      assert.equal(err.facts.serial, started.facts.serial);
    }
    assert.equal(checkCaDir(dir).inFlight.length, 0);

    renameSync(away, join(store.tokenDir, name));
    moved = false;
  } finally {
    if (moved) renameSync(away, join(store.tokenDir, name));
  }

  const back = await ok('reconnectToken');
  assert.equal(back.token.serial, serial);
  assert.equal(h.state.lostToken, null);
  // Reconnected, not logged in: the PIN is asked again.
  const crlAgain = await ok('prepareCrl', { days: 7 });
  assert.equal((await call('sign', { requestId: crlAgain.id })).error!.code, 'NOT_LOGGED_IN');
  assert.equal((await call('login', { pin: 'not-the-pin-0000' })).error!.code, 'PIN_INCORRECT');
  await ok('login', { pin: PIN });
  const again = await ok('prepareIssue', leaf);
  const issued = (await ok('sign', { requestId: again.id })).issued;
  assert.equal(issued.verification.ok, true);
  const v = execFileSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', join(dir, 'ca.crt'), issued.savedTo], { encoding: 'utf8' });
  assert.match(v, /: OK/);
  const crlReq = await ok('prepareCrl', { days: 7 });
  const crl = await ok('sign', { requestId: crlReq.id });
  assert.ok(crl.savedTo);

  const kinds = readJournal(dir).slice(entriesBefore).map((e) => e.kind);
  // The loss, the early Retry (module reloaded, token still away), then the Retry that found it and the new login.
  const noFailedSigning = kinds.filter((k) => k !== 'signing.failed' && k !== 'signing.prepared' && k !== 'confirmation');
  const at = noFailedSigning.indexOf('error');
  assert.deepEqual(noFailedSigning.slice(at, at + 7), ['error', 'module.loaded', 'error', 'module.loaded', 'token.chosen', 'login.failed', 'login.succeeded']);
  assert.equal(readJournal(dir).filter((e) => e.kind === 'error')[1].facts.event, 'token.reconnect.failed');
  // The signing attempts that failed are on the record with the token's own answer (the loss entry follows it).
  const failed = readJournal(dir).filter((e) => e.kind === 'signing.failed').map((e) => e.facts.code);
  assert.deepEqual(failed, ['KEY_NOT_FOUND', 'NOT_LOGGED_IN', 'NOT_LOGGED_IN']);
  assert.ok(kinds.includes('certificate.signed') && kinds.includes('crl.generated'), kinds.join(' '));
  const reconnected = readJournal(dir).find((e) => e.kind === 'token.chosen' && e.facts.reconnected === true);
  assert.equal(reconnected?.facts.keyLabel, 'root-key');
  assert.equal(verifyJournal(dir).ok, true);
  const check = checkCaDir(dir);
  assert.deepEqual(check.problems, []);
  assert.doesNotMatch(readFileSync(join(dir, 'journal.jsonl'), 'utf8'), new RegExp(PIN));
});

test('reconnectToken with no lost token is refused in words', async () => {
  const r = await call('reconnectToken');
  assert.equal(r.error!.code, 'INPUT_INVALID');
  assert.match(r.error!.message, /No token was lost/);
});
