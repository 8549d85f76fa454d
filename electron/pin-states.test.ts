/**
 * Every PIN state through the app's handler table, on a token that sets the PIN flags:
 * opencryptoki's software token (SoftHSM2 never sets count low, final try or locked). The table
 * runs in a child inside a private mount namespace beside its own pkcsslotd
 * (pin-states.child.ts, test/faults/opencryptoki-ns.sh); this test judges what it answered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { OCK_LIB, inOpencryptokiNamespace, opencryptokiUnavailable } from '../test/opencryptoki-env';

const reason = opencryptokiUnavailable();
if (reason) console.log(`# app PIN-state test on opencryptoki skipped: ${reason}`);

type Step = { step: string; ok: boolean; code?: string; message?: string; flags?: Record<string, boolean>; value?: any };

test('app on opencryptoki: listSlots shows the PIN flags; wrong PIN → count low → final try needs confirmation → locked refuses without trying', { skip: reason, timeout: 120_000 }, () => {
  const [cmd, args] = inOpencryptokiNamespace([process.execPath, '--import', 'tsx', join(__dirname, 'pin-states.child.ts'), OCK_LIB!]);
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

  // Without the operator's confirmation the login is refused before C_Login: still the final try.
  s = at('right PIN, final try not confirmed');
  assert.equal(s.code, 'PIN_FINAL_TRY');
  assert.deepEqual(s.flags, flags(false, true, false));

  s = at('right PIN, final try confirmed');
  assert.equal(s.ok, true, s.message);
  assert.deepEqual(s.value.warnings, ['Final PIN try: a wrong PIN locks the token.']);
  assert.deepEqual(s.flags, flags(false, false, false), 'a good login clears the counter');
  s = at('key generated once logged in');
  assert.deepEqual(s.value, { algorithm: 'rsa-2048', verified: true, extractable: false });

  assert.equal(at('openToken again').ok, true);
  assert.deepEqual(at('again wrong PIN 1').flags, flags(true, false, false));
  assert.deepEqual(at('again wrong PIN 2').flags, flags(false, true, false));
  s = at('wrong PIN on the confirmed final try');
  assert.equal(s.code, 'PIN_INCORRECT');
  assert.match(s.message!, /now locked/);
  assert.deepEqual(s.flags, flags(false, false, true));

  s = at('locked: right PIN, confirmed');
  assert.equal(s.code, 'PIN_LOCKED');
  assert.match(s.message!, /No login was attempted/);
  assert.match(s.message!, /security officer/);
  assert.deepEqual(s.flags, flags(false, false, true));
  assert.equal(at('locked: listKeys').code, 'NOT_LOGGED_IN');

  // The record: every refusal with its code, in order, before the CA directory exists.
  const logins = (at('journal').value as Array<{ kind: string; code: string | null }>).filter((e) => e.kind.startsWith('login.'));
  assert.deepEqual(logins.map((e) => `${e.kind}${e.code ? ':' + e.code : ''}`), [
    'login.failed:PIN_INCORRECT', 'login.failed:PIN_INCORRECT', 'login.failed:PIN_FINAL_TRY', 'login.succeeded',
    'login.failed:PIN_INCORRECT', 'login.failed:PIN_INCORRECT', 'login.failed:PIN_INCORRECT', 'login.failed:PIN_LOCKED',
  ]);
  assert.equal(pinInOutput, false, 'no PIN in any answer or in the record');
  assert.match(r.stderr, /pkcsslotd \d+ stopped/);
});
