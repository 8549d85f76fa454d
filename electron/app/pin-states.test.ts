/**
 * Every PIN state through the app's handler table, on a token that sets the PIN flags:
 * opencryptoki's software token (SoftHSM2 never sets count low, final try or locked). The table
 * runs in a child inside a private mount namespace beside its own pkcsslotd
 * (test/harness/pin-states.child.ts, test/faults/opencryptoki-ns.sh); this test judges what it answered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { OCK_LIB, inOpencryptokiNamespace, opencryptokiUnavailable } from '../../test/opencryptoki-env';
import { WRONG_PIN_PAUSE_MS } from '../core/pkcs11/pinPace';

const reason = opencryptokiUnavailable();
if (reason) console.log(`# app PIN-state test on opencryptoki skipped: ${reason}`);

type Step = { step: string; ok: boolean; code?: string; message?: string; ms?: number; endedAt?: number; questions?: unknown[]; flags?: Record<string, boolean>; value?: any };

test('app on opencryptoki: listSlots shows the PIN flags; wrong PIN → count low → final try asked by main → locked refuses without trying', { skip: reason, timeout: 120_000 }, () => {
  const [cmd, args] = inOpencryptokiNamespace([process.execPath, '--import', 'tsx', join(__dirname, '..', '..', 'test', 'harness', 'pin-states.child.ts'), OCK_LIB!]);
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 110_000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `the opencryptoki run produced no result (exit ${r.status}):\n${r.stderr.slice(-3000)}`);
  const { steps, pinInOutput } = JSON.parse(line.slice(7)) as { steps: Step[]; pinInOutput: boolean };
  const at = (name: string) => {
    const s = steps.find((x) => x.step === name);
    assert.ok(s, `step "${name}" ran`);
    return s;
  };
  const flags = (low: boolean, final: boolean, locked: boolean) => ({ userPinCountLow: low, userPinFinalTry: final, userPinLocked: locked });

  assert.equal(at('loadModule').value, 'IBM', 'the module is opencryptoki');
  assert.equal(at('initToken').ok, true, at('initToken').message);
  // listSlots carries the token flags the renderer's PIN screen reads.
  const listed = at('listSlots').value;
  assert.equal(listed.flags.initialized, true);
  assert.equal(listed.flags.userPinInitialized, true);
  assert.equal(listed.flags.loginRequired, true);
  assert.deepEqual(at('listSlots').flags, flags(false, false, false));
  assert.equal(listed.model, 'IBM SoftTok');

  let s = at('wrong PIN 1');
  assert.equal(s.code, 'PIN_INCORRECT');
  assert.match(s.message!, /Few tries are left/);
  assert.deepEqual(s.flags, flags(true, false, false));

  s = at('wrong PIN 2');
  assert.equal(s.code, 'PIN_INCORRECT');
  assert.match(s.message!, /One try is left/);
  assert.deepEqual(s.flags, flags(false, true, false));
  // Main made the attempt after a wrong PIN wait, whatever the renderer does. The pause runs
  // from the wrong answer, so it is measured from there (the flags read between count in it).
  const waited = s.endedAt! - at('wrong PIN 1').endedAt!;
  assert.ok(waited >= WRONG_PIN_PAUSE_MS - 50, `the second attempt answered ${waited} ms after the first`);

  // A renderer that confirms the final try itself is refused by the contract: nothing reaches the token, no question is asked.
  s = at('final try: the renderer confirms by itself');
  assert.equal(s.code, 'INPUT_INVALID');
  assert.match(s.message!, /confirmFinalTry/);
  assert.deepEqual(s.questions, []);
  assert.deepEqual(s.flags, flags(false, true, false));

  // Main asks the operator; "no" refuses before C_Login: still the final try.
  s = at('right PIN, final try declined in main');
  assert.equal(s.code, 'PIN_FINAL_TRY');
  assert.match(s.message!, /no PIN was sent/);
  assert.deepEqual(s.flags, flags(false, true, false));
  assert.equal(s.questions!.length, 1);
  const q = s.questions![0] as { kind: string; title: string; facts: Array<{ label: string; value: string }>; action: string };
  assert.equal(q.kind, 'final-pin-try');
  assert.match(q.title, /One user PIN try is left on token “OCK App Token”/);
  const fact = (label: string) => q.facts.find((f) => f.label === label)?.value;
  assert.equal(fact('Token'), 'OCK App Token');
  assert.equal(fact('Serial'), at('listSlots').value.serial, 'the question names the token main read, by serial');
  assert.match(fact('If this PIN is wrong')!, /locks/);

  s = at('right PIN, final try confirmed in main');
  assert.equal(s.ok, true, s.message);
  assert.equal(s.questions!.length, 1);
  assert.deepEqual(s.value.warnings, ['Final PIN try: a wrong PIN locks the token.']);
  assert.deepEqual(s.flags, flags(false, false, false), 'a good login clears the counter');
  s = at('key generated once logged in');
  assert.deepEqual(s.value, { algorithm: 'rsa-2048', verified: true, extractable: false });
  // Its public half, read back on opencryptoki: verify only, unmodifiable, one object under its id.
  assert.deepEqual(at('public key attributes').value, { modifiable: false, encrypt: false, wrap: false, verify: true, private: false, count: 1 });
  assert.deepEqual(at('the generated key chosen again').value, { verified: true, journal: 'matched' });

  assert.equal(at('openToken again').ok, true);
  assert.deepEqual(at('again wrong PIN 1').flags, flags(true, false, false));
  assert.deepEqual(at('again wrong PIN 2').flags, flags(false, true, false));
  s = at('wrong PIN on the confirmed final try');
  assert.equal(s.code, 'PIN_INCORRECT');
  assert.equal(s.questions!.length, 1, 'the final try was confirmed in main');
  assert.match(s.message!, /now locked/);
  assert.deepEqual(s.flags, flags(false, false, true));

  s = at('locked: right PIN');
  assert.equal(s.code, 'PIN_LOCKED');
  assert.match(s.message!, /No login was attempted/);
  assert.match(s.message!, /security officer/);
  assert.deepEqual(s.questions, [], 'a locked PIN is refused without asking anything');
  assert.deepEqual(s.flags, flags(false, false, true));
  assert.equal(at('locked: listKeys').code, 'NOT_LOGGED_IN');

  // The record: every refusal with its code, in order, before the CA directory exists; the operator's answers with them.
  const logins = (at('journal').value as Array<{ kind: string; code: string | null; finalTry: string | null }>).filter((e) => e.kind.startsWith('login.'));
  assert.deepEqual(logins.map((e) => `${e.kind}${e.code ? ':' + e.code : ''}${e.finalTry ? ' (' + e.finalTry + ')' : ''}`), [
    'login.failed:PIN_INCORRECT', 'login.failed:PIN_INCORRECT', 'login.failed:PIN_FINAL_TRY (declined)', 'login.succeeded (confirmed)',
    'login.failed:PIN_INCORRECT', 'login.failed:PIN_INCORRECT', 'login.failed:PIN_INCORRECT (confirmed)', 'login.failed:PIN_LOCKED',
  ]);
  assert.equal(pinInOutput, false, 'no PIN in any answer or in the record');
  assert.match(r.stderr, /pkcsslotd \d+ stopped/);
});
