/**
 * The command line's ceremony record on SoftHSM2: `ca init` opens and closes a ceremony around
 * the token steps, other CA commands record their token steps (a wrong PIN included) and open a
 * ceremony only when one is named.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SOFTHSM_LIB } from '../../test/softhsm';
import { ensureCliBuilt, makeLab, ok, tokenArgs, PIN_ENV, USER_PIN, errorLine, type Lab } from '../../test/cli/helpers';
import { readJournal, verifyJournal } from '../core/journal/journal';

let lab: Lab;
before(async () => {
  await ensureCliBuilt();
  lab = makeLab();
});
after(() => lab?.cleanup());

const people = ['--operator', 'Alice Operator', '--witness', 'Bob Witness', '--witness', 'Carol Witness'];

test('ca init journals the ceremony from its opening to its close, in order, under the named people', () => {
  ok(lab.run([...people, '--purpose', 'Root CA rehearsal', 'ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'root-key', '--var', 'cn=CLI Root', '--dir', 'root'], PIN_ENV));
  const dir = lab.path('root');
  const entries = readJournal(dir);
  assert.deepEqual(entries.map((e) => e.kind), [
    'ceremony.opened', 'preflight', 'module.loaded', 'token.chosen', 'login.succeeded', 'key.generated', 'certificate.signed', 'ceremony.closed',
  ]);
  for (const e of entries) {
    assert.equal(e.operator, 'Alice Operator');
    assert.deepEqual(e.witnesses, ['Bob Witness', 'Carol Witness']);
  }
  const f = (k: string) => entries.find((e) => e.kind === k)!.facts as Record<string, any>;
  assert.equal(f('ceremony.opened').purpose, 'Root CA rehearsal');
  assert.match(f('ceremony.opened').appSha256, /^[0-9a-f]{64}$/);
  assert.equal(f('module.loaded').librarySha256, createHash('sha256').update(readFileSync(SOFTHSM_LIB)).digest('hex'));
  assert.equal(f('token.chosen').label, 'CA Token');
  assert.equal(f('token.chosen').serial, lab.serial);
  assert.ok(f('token.chosen').model && f('token.chosen').manufacturer);
  assert.equal(f('key.generated').attributes.extractable, false);
  assert.equal(f('ceremony.closed').journalHashBefore, entries[entries.length - 2].hash);
  const v = verifyJournal(dir);
  assert.equal(v.ok, true);
  assert.equal(v.lastHash, entries[entries.length - 1].hash);
  assert.equal(readFileSync(`${dir}/journal.jsonl`, 'utf8').includes(USER_PIN), false);
});

test('crl gen records the token steps; a wrong PIN is journaled as login.failed; a named ceremony opens and closes', () => {
  const dir = lab.path('root');
  const n0 = readJournal(dir).length;
  ok(lab.run(['crl', 'gen', '--ca-dir', 'root', ...tokenArgs()], PIN_ENV));
  let added = readJournal(dir).slice(n0);
  assert.deepEqual(added.map((e) => e.kind), ['module.loaded', 'token.chosen', 'login.succeeded', 'crl.generated']);

  const n1 = readJournal(dir).length;
  const bad = lab.run(['crl', 'gen', '--ca-dir', 'root', ...tokenArgs()], { QPKI_TEST_PIN: 'wrong-pin-00000000' });
  assert.equal(errorLine(bad).code, 'PIN_INCORRECT');
  added = readJournal(dir).slice(n1);
  assert.deepEqual(added.map((e) => e.kind), ['login.failed']);
  assert.equal((added[0].facts as Record<string, unknown>).code, 'PIN_INCORRECT');

  const n2 = readJournal(dir).length;
  ok(lab.run([...people, '--purpose', 'Quarterly CRL', 'crl', 'gen', '--ca-dir', 'root', ...tokenArgs()], PIN_ENV));
  added = readJournal(dir).slice(n2);
  assert.deepEqual(added.map((e) => e.kind), ['ceremony.opened', 'preflight', 'module.loaded', 'token.chosen', 'login.succeeded', 'crl.generated', 'ceremony.closed']);
  assert.ok(added.every((e) => e.operator === 'Alice Operator'));
  assert.equal(verifyJournal(dir).ok, true);
  const text = readFileSync(`${dir}/journal.jsonl`, 'utf8');
  assert.equal(text.includes('wrong-pin-00000000'), false);
});

test('a bad --operator or --witness is refused before anything is done', () => {
  const r = lab.run(['--operator', 'Eve\nforged', 'ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'k2', '--var', 'cn=X', '--dir', 'never'], PIN_ENV);
  assert.equal(errorLine(r).code, 'INPUT_INVALID');
  const r2 = lab.run(['--witness', '', 'ca', 'info', '--dir', 'root'], PIN_ENV);
  assert.equal(errorLine(r2).code, 'INPUT_INVALID');
});

test('token init --journal-dir records the initialization even though no CA exists yet', () => {
  const slot = JSON.parse(ok(lab.run(['--json', 'token', 'list', '--pkcs11-lib', SOFTHSM_LIB]))).slots.find((s: { token?: { flags: { initialized: boolean } } }) => s.token && !s.token.flags.initialized);
  assert.ok(slot, 'SoftHSM2 offers a free slot');
  const env = { ...PIN_ENV, SPARE_SO: 'spare-so-pin-12345', SPARE_USER: 'spare-user-pin-12345' };
  ok(lab.run([...people, '--purpose', 'Spare token', 'token', 'init', '--pkcs11-lib', SOFTHSM_LIB, '--slot', slot.slotId, '--label', 'Spare Token', '--so-pin-env', 'SPARE_SO', '--pin-env', 'SPARE_USER', '--journal-dir', 'spare-record'], env));
  const entries = readJournal(lab.path('spare-record'));
  assert.deepEqual(entries.map((e) => e.kind), ['ceremony.opened', 'preflight', 'module.loaded', 'token.initialized', 'ceremony.closed']);
  assert.equal((entries[3].facts as { label: string }).label, 'Spare Token');
  assert.equal(verifyJournal(lab.path('spare-record')).ok, true);
  const text = readFileSync(lab.path('spare-record', 'journal.jsonl'), 'utf8');
  assert.ok(!text.includes('spare-so-pin-12345') && !text.includes('spare-user-pin-12345'));
});
