/**
 * PIN-count flags on a second real token implementation. SoftHSM2 never sets
 * CKF_USER_PIN_COUNT_LOW / FINAL_TRY / LOCKED; opencryptoki's software token does (three tries).
 * pkcsslotd reads only fixed system paths, so it runs in a private mount namespace
 * (opencryptoki-ns.sh) and the machine's opencryptoki state is never touched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCliBuilt } from './helpers';
import { OCK_LIB, inOpencryptokiNamespace, opencryptokiUnavailable } from '../opencryptoki-env';

const reason = opencryptokiUnavailable();
if (reason) console.log(`# opencryptoki PIN-flag test skipped: ${reason}`);

test('opencryptoki: wrong PINs report count low, then final try needs confirmation, then locked refuses without trying', { skip: reason, timeout: 120_000 }, async () => {
  await ensureCliBuilt();
  const [cmd, args] = inOpencryptokiNamespace([process.execPath, '--import', 'tsx', join(__dirname, 'opencryptoki.child.ts'), OCK_LIB!]);
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 110_000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `the opencryptoki run produced no result (exit ${r.status}):\n${r.stderr.slice(-3000)}`);
  const { steps } = JSON.parse(line.slice(7)) as { steps: { step: string; code?: string; message?: string; ok?: boolean; status?: number; stdout?: string; stderr?: string; flags: Record<string, boolean> }[] };
  const at = (name: string) => {
    const s = steps.find((x) => x.step === name);
    assert.ok(s, `step "${name}" ran`);
    return s;
  };
  const flags = (low: boolean, final: boolean, locked: boolean) => ({ userPinCountLow: low, userPinFinalTry: final, userPinLocked: locked });

  assert.equal(at('init').ok, true);
  assert.deepEqual(at('init').flags, flags(false, false, false));

  let s = at('engine: wrong PIN 1');
  assert.equal(s.code, 'PIN_INCORRECT');
  assert.match(s.message!, /few tries are left/i);
  assert.deepEqual(s.flags, flags(true, false, false));

  s = at('engine: wrong PIN 2');
  assert.equal(s.code, 'PIN_INCORRECT');
  assert.match(s.message!, /one try is left/i);
  assert.deepEqual(s.flags, flags(false, true, false));

  // Refused before C_Login: the token still shows the final try (a login attempt would have reset or locked it).
  s = at('engine: final try not confirmed');
  assert.equal(s.code, 'PIN_FINAL_TRY');
  assert.match(s.message!, /--force/);
  assert.deepEqual(s.flags, flags(false, true, false));

  s = at('cli: final try without --force');
  assert.equal(s.status, 1);
  assert.equal(s.code, 'PIN_FINAL_TRY');
  assert.deepEqual(s.flags, flags(false, true, false));

  s = at('cli: final try with --force, right PIN, key gen');
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stderr!, /warning: Final PIN try/);
  const gen = JSON.parse(s.stdout!) as { key: { keyAlgorithm: string; attributes: { sensitive: boolean; extractable: boolean } }; testSignature: { verified: boolean } };
  assert.equal(gen.key.keyAlgorithm, 'rsa-2048');
  assert.equal(gen.testSignature.verified, true, 'the opencryptoki key signed and the signature verified in software');
  assert.equal(gen.key.attributes.extractable, false);
  assert.deepEqual(s.flags, flags(false, false, false), 'a good login clears the counter');

  s = at('cli: wrong PIN 1');
  assert.equal(s.code, 'PIN_INCORRECT');
  assert.match(s.stderr!, /Few tries are left/);
  s = at('cli: wrong PIN 2');
  assert.match(s.stderr!, /One try is left/);
  s = at('cli: wrong PIN on the final try with --force');
  assert.equal(s.code, 'PIN_INCORRECT');
  assert.match(s.stderr!, /now locked/);
  assert.deepEqual(s.flags, flags(false, false, true));

  s = at('engine: locked, right PIN, confirmed');
  assert.equal(s.code, 'PIN_LOCKED');
  assert.match(s.message!, /No login was attempted/);
  s = at('cli: locked, right PIN, --force');
  assert.equal(s.status, 1);
  assert.equal(s.code, 'PIN_LOCKED');
  assert.match(s.stderr!, /security officer/);

  for (const x of steps) assert.doesNotMatch(JSON.stringify(x), /ock-1234|wrong-00/, `no PIN in the output of "${x.step}"`);

  // pkcsslotd was stopped by its process id (a zombie awaiting its reaper counts as stopped).
  const pid = /pkcsslotd (\d+) stopped/.exec(r.stderr)?.[1];
  assert.ok(pid, `pkcsslotd was stopped: ${r.stderr.slice(-500)}`);
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  assert.ok(stat === '' || / Z /.test(stat), `pkcsslotd ${pid} is still running`);
});
